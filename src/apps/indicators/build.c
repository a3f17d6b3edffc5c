/* build — loading the catalogue, weights and targets, and recomputing every
 * indicator value from its sources across the 2025 reform (see indicators.h). */
#include "apps/indicators/indicators.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/indicators/indgen.h"
#include "apps/indicators/indpriv.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/strmap.h"
#include "core/text.h"
#include "warehouse/catalog.h"
#include "warehouse/ingest.h"
#include "warehouse/reader.h"

/* ---- problems: collected, the first few reported ------------------------------------- */

#define MAX_SHOWN 8

typedef struct problems {
    kho_buf_t text;
    size_t n;
} problems_t;

static void problem(problems_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(problems_t *p, const char *fmt, ...)
{
    p->n++;
    if (p->n > MAX_SHOWN)
        return;
    if (p->text.len)
        kho_buf_puts(&p->text, "; ");
    va_list ap;
    va_start(ap, fmt);
    kho_buf_vprintf(&p->text, fmt, ap);
    va_end(ap);
}

static int problems_fail(problems_t *p, const char *what, kho_err_t *err)
{
    if (p->n == 0)
        return 0;
    int rc;
    if (p->n > MAX_SHOWN)
        rc = kho_err_setk(err, KHO_EINVAL, "bad_indicator_data", "%s: %zu problems, nothing loaded: %s; and %zu more",
                          what, p->n, kho_buf_cstr(&p->text), p->n - MAX_SHOWN);
    else
        rc = kho_err_setk(err, KHO_EINVAL, "bad_indicator_data", "%s: %zu problem%s, nothing loaded: %s", what, p->n,
                          p->n == 1 ? "" : "s", kho_buf_cstr(&p->text));
    return rc;
}

/* ---- numbers and periods -------------------------------------------------------------- */

bool kho_ind_parse_number(const char *s, double *out)
{
    char tmp[64];
    size_t n = strlen(s), j = 0;
    while (n && (s[n - 1] == ' '))
        n--;
    while (n && *s == ' ')
        s++, n--;
    if (n == 0 || n >= sizeof tmp)
        return false;
    /* "1.234,5" (Vietnamese) or "1234.5"; a single ',' with no '.' is a decimal comma */
    const char *comma = memchr(s, ',', n), *dot = memchr(s, '.', n);
    bool vn = comma && (!dot || dot < comma);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (vn && c == '.')
            continue;
        if (vn && c == ',')
            c = '.';
        else if (!vn && c == ',')
            return false;
        tmp[j++] = c;
    }
    tmp[j] = 0;
    char *end;
    double v = strtod(tmp, &end);
    if (*end || end == tmp || !isfinite(v))
        return false;
    for (size_t i = 0; i < j; i++) /* no hex, no "inf", no exponent surprises beyond e */
        if (!strchr("0123456789.-+eE", tmp[i]))
            return false;
    *out = v;
    return true;
}

/* The number written by the n digits at p (-1 when one is not a digit). */
static int dig(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

int kho_ind_freq_parse(const char *s)
{
    if (!strcmp(s, "year"))
        return KHO_FREQ_YEAR;
    if (!strcmp(s, "quarter"))
        return KHO_FREQ_QUARTER;
    if (!strcmp(s, "month"))
        return KHO_FREQ_MONTH;
    return -1;
}

bool kho_ind_period_ok(int freq, const char *p)
{
    size_t n = strlen(p);
    for (int i = 0; i < 4; i++)
        if (i >= (int)n || p[i] < '0' || p[i] > '9')
            return false;
    int y = dig(p, 4);
    if (y < 1900 || y > 2200)
        return false;
    switch (freq) {
    case KHO_FREQ_YEAR:
        return n == 4;
    case KHO_FREQ_QUARTER:
        return n == 7 && p[4] == '-' && p[5] == 'Q' && p[6] >= '1' && p[6] <= '4';
    case KHO_FREQ_MONTH:
        return n == 7 && p[4] == '-' && p[5] >= '0' && p[5] <= '1' && p[6] >= '0' && p[6] <= '9' &&
               dig(p + 5, 2) >= 1 && dig(p + 5, 2) <= 12;
    }
    return false;
}

bool kho_ind_period_old(const char *p)
{
    int y = dig(p, 4);
    if (y < 2025)
        return true;
    if (y > 2025 || strlen(p) == 4)
        return false;
    if (p[5] == 'Q')
        return p[6] <= '2';
    return dig(p + 5, 2) <= 6;
}

void kho_ind_period_add(int freq, const char *p, int k, char out[16])
{
    int y = dig(p, 4);
    if (freq == KHO_FREQ_YEAR) {
        snprintf(out, 16, "%04d", y + k);
    } else if (freq == KHO_FREQ_QUARTER) {
        int q = (p[6] - '1') + k;
        snprintf(out, 16, "%04d-Q%d", y + q / 4, q % 4 + 1);
    } else {
        int m = dig(p + 5, 2) - 1 + k;
        snprintf(out, 16, "%04d-%02d", y + m / 12, m % 12 + 1);
    }
}

int kho_ind_period_diff(int freq, const char *a, const char *b)
{
    int ya = dig(a, 4), yb = dig(b, 4);
    if (freq == KHO_FREQ_YEAR)
        return yb - ya;
    if (freq == KHO_FREQ_QUARTER)
        return (yb - ya) * 4 + (b[6] - a[6]);
    return (yb - ya) * 12 + (dig(b + 5, 2) - dig(a + 5, 2));
}

/* ---- the catalogue in memory ---------------------------------------------------------- */

static int kind_parse(const char *s)
{
    static const char *const k[] = {"additive", "ratio", "rate", "index"};
    for (int i = 0; i < 4; i++)
        if (s && !strcmp(s, k[i]))
            return i;
    return -1;
}

const char *kho_ind_kind_name(int k)
{
    static const char *const names[] = {"additive", "ratio", "rate", "index"};
    return k >= 0 && k < 4 ? names[k] : "additive";
}

void kho_ind_cat_free(kho_ind_cat_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].name);
        free(c->v[i].name_en);
        free(c->v[i].uom);
        free(c->v[i].description);
        free(c->v[i].synonyms);
        free(c->v[i].sources);
    }
    free(c->v);
    kho_strmap_free(c->by_code);
    memset(c, 0, sizeof *c);
}

static char *dup_col(kho_stmt_t *st, int i)
{
    const char *s = kho_stmt_col_text(st, i);
    return kho_xstrdup(s ? s : "");
}

static _Thread_local struct {
    kho_store_stamp_t stamp; /* zero: empty */
    kho_ind_cat_t cat;
} memo;

void kho_ind_thread_done(void)
{
    if (memo.stamp.serial)
        kho_ind_cat_free(&memo.cat);
    memo.stamp = (kho_store_stamp_t){0};
}

int kho_ind_cat_shared(kho_store_t *s, const kho_ind_cat_t **out, kho_err_t *err)
{
    kho_store_stamp_t now;
    int rc = kho_store_stamp(s, &now, err);
    if (rc != 0)
        return rc;
    if (!kho_store_stamp_equal(&memo.stamp, &now)) {
        kho_ind_thread_done();
        rc = kho_ind_cat_load(s, &memo.cat, err);
        if (rc != 0)
            return rc;
        memo.stamp = now;
    }
    *out = &memo.cat;
    return 0;
}

int kho_ind_cat_load(kho_store_t *s, kho_ind_cat_t *c, kho_err_t *err)
{
    memset(c, 0, sizeof *c);
    c->by_code = kho_strmap_new();
    kho_stmt_t *st;
    int rc = kho_store_cached(s,
                              "SELECT code, name, name_en, unit_of_measure, kind, level, frequency, numerator,"
                              " denominator, scale, decimals, higher_is_better, synonyms, description, sources"
                              " FROM ind_catalogue ORDER BY position, code",
                              &st, err);
    if (rc != 0)
        return rc;
    char num[64][64], den[64][64];
    size_t cap = 0;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        if (c->n == 64) {
            rc = kho_err_set(err, KHO_ETOOLARGE, "more than 64 indicators in the catalogue");
            break;
        }
        if (c->n == cap) {
            cap = cap ? cap * 2 : 32;
            c->v = kho_xrealloc(c->v, cap * sizeof *c->v);
        }
        kho_ind_def_t *d = &c->v[c->n];
        memset(d, 0, sizeof *d);
        snprintf(d->code, sizeof d->code, "%s", kho_stmt_col_text(st, 0));
        d->name = dup_col(st, 1);
        d->name_en = dup_col(st, 2);
        d->uom = dup_col(st, 3);
        d->kind = kind_parse(kho_stmt_col_text(st, 4));
        d->level = strcmp(kho_stmt_col_text(st, 5), "province") == 0 ? KHO_LVL_PROVINCE : KHO_LVL_COMMUNE;
        d->freq = kho_ind_freq_parse(kho_stmt_col_text(st, 6));
        const char *nu = kho_stmt_col_text(st, 7), *de = kho_stmt_col_text(st, 8);
        snprintf(num[c->n], sizeof num[0], "%s", nu ? nu : "");
        snprintf(den[c->n], sizeof den[0], "%s", de ? de : "");
        d->scale = kho_stmt_col_double(st, 9);
        d->decimals = (int)kho_stmt_col_int(st, 10);
        d->higher_is_better = kho_stmt_col_int(st, 11) != 0;
        d->synonyms = dup_col(st, 12);
        d->description = dup_col(st, 13);
        d->sources = dup_col(st, 14);
        d->num = d->den = -1;
        kho_strmap_put(c->by_code, d->code, strlen(d->code), c->n);
        c->n++;
    }
    kho_stmt_reset(st);
    if (rc < 0) {
        kho_ind_cat_free(c);
        return rc;
    }
    for (size_t i = 0; i < c->n; i++) {
        size_t j;
        if (num[i][0] && kho_strmap_get(c->by_code, num[i], strlen(num[i]), &j))
            c->v[i].num = (int)j;
        if (den[i][0] && kho_strmap_get(c->by_code, den[i], strlen(den[i]), &j))
            c->v[i].den = (int)j;
    }
    return 0;
}

int kho_ind_cat_find(const kho_ind_cat_t *c, const char *code)
{
    size_t j;
    if (!code || !kho_strmap_get(c->by_code, code, strlen(code), &j))
        return -1;
    return (int)j;
}

/* ---- loading the catalogue file -------------------------------------------------------- */

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int check_mapping(json_t *m, kho_err_t *err)
{
    const char *form = jstr(m, "form");
    if (!form || (strcmp(form, "long") && strcmp(form, "wide")))
        return kho_err_set(err, KHO_EINVAL, "a source mapping needs \"form\": \"long\" or \"wide\"");
    const char *need_long[] = {"indicator", "unit", "period", "value"};
    const char *need_wide[] = {"unit", "period"};
    bool lng = !strcmp(form, "long");
    for (size_t i = 0; i < (lng ? 4u : 2u); i++) {
        const char *k = lng ? need_long[i] : need_wide[i];
        const char *v = jstr(m, k);
        if (!v || !*v || strlen(v) > 63)
            return kho_err_set(err, KHO_EINVAL, "a %s source mapping needs the column name \"%s\"", form, k);
    }
    if (!lng) {
        json_t *vals = json_object_get(m, "values");
        if (!json_is_object(vals) || json_object_size(vals) == 0)
            return kho_err_set(err, KHO_EINVAL,
                               "a wide source mapping needs \"values\": {\"INDICATOR\": \"COLUMN\", ...}");
        const char *k;
        json_t *v;
        json_object_foreach(vals, k, v) if (!json_is_string(v)) return kho_err_set(
            err, KHO_EINVAL, "wide mapping: the column of %s must be a string", k);
    }
    return 0;
}

int kho_ind_set_source(kho_store_t *w, const char *dataset, const char *mapping_json, kho_err_t *err)
{
    json_error_t je;
    json_t *m = json_loads(mapping_json, 0, &je);
    if (!m)
        return kho_err_set(err, KHO_EINVAL, "source mapping: %s", je.text);
    int rc = json_is_object(m) ? check_mapping(m, err)
                               : kho_err_set(err, KHO_EINVAL, "a source mapping is a JSON object");
    if (rc == 0 && !kho_text_is_slug(dataset))
        rc = kho_err_set(err, KHO_EINVAL, "'%.64s' is not a dataset id", dataset);
    if (rc == 0) {
        char *txt = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
        kho_stmt_t *st;
        rc = kho_store_cached(w, "INSERT OR REPLACE INTO ind_sources(dataset, mapping) VALUES (?1, ?2)", &st, err);
        if (rc == 0) {
            kho_stmt_bind_str(st, 1, dataset);
            kho_stmt_bind_str(st, 2, txt);
            rc = kho_stmt_step(st, err);
            kho_stmt_reset(st);
            if (rc > 0)
                rc = 0;
        }
        free(txt);
    }
    json_decref(m);
    return rc;
}

static int put_indicator(kho_store_t *w, json_t *d, int pos, problems_t *pb)
{
    const char *code = jstr(d, "code"), *name = jstr(d, "name"), *uom = jstr(d, "unit_of_measure");
    const char *kind = jstr(d, "kind"), *level = jstr(d, "level");
    const char *freq = jstr(d, "frequency") ? jstr(d, "frequency") : "year";
    char where[96];
    snprintf(where, sizeof where, "indicators[%d]", pos);
    if (!code || !kho_text_is_slug(code) || strchr(code, '-')) {
        problem(pb, "%s: \"code\" must be lower-case letters, digits and '_'", where);
        return 0;
    }
    snprintf(where, sizeof where, "indicators[%d] (%s)", pos, code);
    if (!name || !*name)
        problem(pb, "%s: \"name\" is missing", where);
    if (!uom)
        problem(pb, "%s: \"unit_of_measure\" is missing", where);
    if (kind_parse(kind) < 0)
        problem(pb, "%s: \"kind\" must be additive, ratio, rate or index", where);
    if (!level || (strcmp(level, "commune") && strcmp(level, "province")))
        problem(pb, "%s: \"level\" must be commune or province", where);
    if (kho_ind_freq_parse(freq) < 0)
        problem(pb, "%s: \"frequency\" must be year, quarter or month", where);
    const char *num = jstr(d, "numerator"), *den = jstr(d, "denominator");
    bool derived = kind && (!strcmp(kind, "ratio") || !strcmp(kind, "rate"));
    if (derived && (!num || !den))
        problem(pb, "%s: a %s needs \"numerator\" and \"denominator\"", where, kind);
    if (!derived && (num || den))
        problem(pb, "%s: only a ratio or a rate has a numerator and a denominator", where);
    json_t *sc = json_object_get(d, "scale");
    double scale = sc ? json_number_value(sc) : (kind && !strcmp(kind, "rate") ? 100.0 : 1.0);
    if (sc && (!json_is_number(sc) || !(scale > 0)))
        problem(pb, "%s: \"scale\" must be a positive number", where);
    json_t *dec = json_object_get(d, "decimals");
    if (dec && (!json_is_integer(dec) || json_integer_value(dec) < 0 || json_integer_value(dec) > 6))
        problem(pb, "%s: \"decimals\" must be 0 to 6", where);
    json_t *hib = json_object_get(d, "higher_is_better");
    if (hib && !json_is_boolean(hib))
        problem(pb, "%s: \"higher_is_better\" must be true or false", where);
    if (pb->n)
        return 0;
    kho_stmt_t *st;
    kho_err_t err;
    int rc = kho_store_cached(w,
                              "INSERT INTO ind_catalogue(code, position, name, name_en, unit_of_measure, kind, level,"
                              " frequency, numerator, denominator, scale, decimals, higher_is_better, synonyms,"
                              " description) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)"
                              " ON CONFLICT(code) DO UPDATE SET position=excluded.position, name=excluded.name,"
                              " name_en=excluded.name_en, unit_of_measure=excluded.unit_of_measure,"
                              " kind=excluded.kind, level=excluded.level, frequency=excluded.frequency,"
                              " numerator=excluded.numerator, denominator=excluded.denominator,"
                              " scale=excluded.scale, decimals=excluded.decimals,"
                              " higher_is_better=excluded.higher_is_better, synonyms=excluded.synonyms,"
                              " description=excluded.description",
                              &st, &err);
    if (rc != 0)
        return rc;
    kho_buf_t nfc = KHO_BUF_INIT;
    const char *texts[] = {name, jstr(d, "name_en"), uom, jstr(d, "synonyms"), jstr(d, "description")};
    int slots[] = {3, 4, 5, 14, 15};
    char *owned[5] = {0};
    for (int i = 0; i < 5; i++) {
        owned[i] = kho_text_nfc_dup(texts[i] ? texts[i] : "");
        kho_stmt_bind_str(st, slots[i], owned[i]);
    }
    kho_stmt_bind_str(st, 1, code);
    kho_stmt_bind_int(st, 2, pos);
    kho_stmt_bind_str(st, 6, kind);
    kho_stmt_bind_str(st, 7, level);
    kho_stmt_bind_str(st, 8, freq);
    kho_stmt_bind_str(st, 9, num);
    kho_stmt_bind_str(st, 10, den);
    kho_stmt_bind_double(st, 11, scale);
    kho_stmt_bind_int(st, 12, dec ? json_integer_value(dec) : 2);
    kho_stmt_bind_int(st, 13, hib ? json_is_true(hib) : 1);
    rc = kho_stmt_step(st, &err);
    kho_stmt_reset(st);
    for (int i = 0; i < 5; i++)
        free(owned[i]);
    kho_buf_free(&nfc);
    if (rc < 0)
        problem(pb, "%s: %s", where, err.msg);
    return 0;
}

static int put_target(kho_store_t *w, const char *ind, const char *unit, const char *period, double value,
                      const char *direction, const char *note, kho_err_t *err)
{
    kho_stmt_t *st;
    int rc = kho_store_cached(w,
                              "INSERT OR REPLACE INTO ind_targets(indicator, unit_code, period, value, direction, note)"
                              " VALUES (?1, ?2, ?3, ?4, coalesce(?5, (SELECT CASE WHEN higher_is_better THEN"
                              " 'increase' ELSE 'decrease' END FROM ind_catalogue WHERE code = ?1), 'increase'), ?6)",
                              &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, ind);
    kho_stmt_bind_str(st, 2, unit);
    kho_stmt_bind_str(st, 3, period);
    kho_stmt_bind_double(st, 4, value);
    kho_stmt_bind_str(st, 5, direction && *direction ? direction : NULL);
    char *n = kho_text_nfc_dup(note ? note : "");
    kho_stmt_bind_str(st, 6, n);
    rc = kho_stmt_step(st, err);
    kho_stmt_reset(st);
    free(n);
    return rc < 0 ? rc : 0;
}

/* Is `code` a unit a target or report may name at `level`? */
static bool unit_known(kho_store_t *s, const char *code, int level)
{
    kho_stmt_t *st;
    kho_err_t e;
    if (kho_store_cached(s, "SELECT 1 FROM units WHERE code = ?1 AND level = ?2 LIMIT 1", &st, &e) != 0)
        return false;
    kho_stmt_bind_str(st, 1, code);
    kho_stmt_bind_str(st, 2, level == KHO_LVL_PROVINCE ? "province" : "commune");
    bool ok = kho_stmt_step(st, &e) == KHO_STEP_ROW;
    kho_stmt_reset(st);
    return ok;
}

static void check_target(kho_store_t *w, const kho_ind_cat_t *cat, const char *where, const char *ind,
                         const char *unit, const char *period, const char *direction, problems_t *pb)
{
    int i = kho_ind_cat_find(cat, ind);
    if (i < 0) {
        problem(pb, "%s: unknown indicator '%.64s'", where, ind ? ind : "");
        return;
    }
    if (!unit || (!unit_known(w, unit, KHO_LVL_PROVINCE) && !unit_known(w, unit, KHO_LVL_COMMUNE)))
        problem(pb, "%s: unknown unit code '%.16s'", where, unit ? unit : "");
    if (!period || !kho_ind_period_ok(cat->v[i].freq, period))
        problem(pb, "%s: period '%.16s' does not match the indicator's frequency", where, period ? period : "");
    if (direction && *direction && strcmp(direction, "increase") && strcmp(direction, "decrease"))
        problem(pb, "%s: direction must be increase or decrease", where);
}

int kho_ind_load_catalogue(kho_store_t *w, const char *path, kho_err_t *err)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return kho_err_set(err, KHO_EINVAL, "%s line %d column %d: %s", path, je.line, je.column, je.text);
    json_t *inds = json_object_get(root, "indicators"), *srcs = json_object_get(root, "sources"),
           *tgts = json_object_get(root, "targets");
    int rc = 0;
    bool own = !kho_store_in_transaction(w);
    if (!json_is_object(root) || !json_is_array(inds))
        rc = kho_err_set(err, KHO_EINVAL, "%s: expected {\"indicators\": [...], \"sources\": [...], \"targets\": [...]}",
                         path);
    if (rc == 0 && own)
        rc = kho_store_begin(w, true, err);
    if (rc != 0) {
        json_decref(root);
        return rc;
    }
    problems_t pb = {KHO_BUF_INIT, 0};
    for (size_t i = 0; rc == 0 && i < json_array_size(inds); i++)
        rc = put_indicator(w, json_array_get(inds, i), (int)i, &pb);
    kho_ind_cat_t cat = {0};
    if (rc == 0 && pb.n == 0)
        rc = kho_ind_cat_load(w, &cat, err);
    for (size_t i = 0; rc == 0 && pb.n == 0 && i < cat.n; i++) { /* numerators and denominators exist */
        kho_ind_def_t *d = &cat.v[i];
        if ((d->kind == KHO_KIND_RATIO || d->kind == KHO_KIND_RATE) && (d->num < 0 || d->den < 0))
            problem(&pb, "indicator %s: its numerator or denominator is not in the catalogue", d->code);
    }
    for (size_t i = 0; rc == 0 && i < json_array_size(srcs); i++) {
        json_t *s = json_array_get(srcs, i);
        const char *ds = jstr(s, "dataset");
        json_t *m = json_deep_copy(s);
        json_object_del(m, "dataset");
        char *txt = json_dumps(m, JSON_COMPACT);
        kho_err_t e;
        if (!ds || kho_ind_set_source(w, ds, txt, &e) != 0)
            problem(&pb, "sources[%zu]: %s", i, ds ? e.msg : "\"dataset\" is missing");
        free(txt);
        json_decref(m);
    }
    for (size_t i = 0; rc == 0 && pb.n == 0 && i < json_array_size(tgts); i++) {
        json_t *t = json_array_get(tgts, i);
        char where[32];
        snprintf(where, sizeof where, "targets[%zu]", i);
        json_t *v = json_object_get(t, "value");
        if (!json_is_number(v)) {
            problem(&pb, "%s: \"value\" must be a number", where);
            continue;
        }
        check_target(w, &cat, where, jstr(t, "indicator"), jstr(t, "unit"), jstr(t, "period"), jstr(t, "direction"),
                     &pb);
        if (pb.n == 0)
            rc = put_target(w, jstr(t, "indicator"), jstr(t, "unit"), jstr(t, "period"), json_number_value(v),
                            jstr(t, "direction"), jstr(t, "note"), err);
    }
    kho_ind_cat_free(&cat);
    if (rc == 0)
        rc = problems_fail(&pb, path, err);
    if (rc == 0 && own)
        rc = kho_store_commit(w, err);
    if (rc != 0 && own)
        kho_store_rollback(w);
    kho_buf_free(&pb.text);
    json_decref(root);
    return rc;
}

/* ---- weights and targets from CSV -------------------------------------------------------- */

typedef int (*csv_row_fn)(kho_store_t *w, void *ctx, kho_record_t *rec, const char *where, problems_t *pb,
                          kho_err_t *err);

/* Read a small CSV whose header must start with `cols` (comma-separated), calling
 * fn for each record inside one transaction; problems refuse the whole file. */
static int load_csv(kho_store_t *w, const char *path, const char *cols, size_t min_fields, const char *clear_sql,
                    csv_row_fn fn, int (*finish)(kho_store_t *w, const char *path, kho_err_t *err), void *ctx,
                    kho_err_t *err)
{
    bool own = !kho_store_in_transaction(w);
    kho_source_t src = {.path = path, .name = path};
    kho_reader_opts_t ro = {.format = KHO_FMT_CSV, .validate_utf8 = true, .nfc = true};
    kho_reader_t *r;
    int rc = kho_reader_open(&src, &ro, &r, err);
    if (rc != 0)
        return rc;
    char want[256];
    snprintf(want, sizeof want, "%s", cols);
    size_t k = 0;
    char *save = NULL;
    for (char *tok = strtok_r(want, ",", &save); tok; tok = strtok_r(NULL, ",", &save), k++) {
        const char *have = k < kho_reader_ncols(r) ? kho_reader_label(r, k) : "";
        if (strcmp(have, tok)) {
            kho_reader_free(r);
            return kho_err_set(err, KHO_EINVAL, "%s line 1: column %zu must be '%s' (the header is %s)", path, k + 1,
                               tok, cols);
        }
    }
    rc = own ? kho_store_begin(w, true, err) : 0;
    if (rc == 0 && clear_sql)
        rc = kho_store_exec(w, clear_sql, err);
    problems_t pb = {KHO_BUF_INIT, 0};
    kho_record_t *rec;
    while (rc == 0) {
        int n = kho_reader_next(r, &rec, err);
        if (n < 0)
            rc = n;
        if (n <= 0)
            break;
        char where[64];
        snprintf(where, sizeof where, "line %llu", (unsigned long long)rec->line);
        if (rec->n < min_fields) {
            problem(&pb, "%s: expected at least %zu fields, found %zu", where, min_fields, rec->n);
            continue;
        }
        rc = fn(w, ctx, rec, where, &pb, err);
    }
    if (rc == 0)
        rc = problems_fail(&pb, path, err);
    if (rc == 0 && finish)
        rc = finish(w, path, err);
    if (rc == 0 && own)
        rc = kho_store_commit(w, err);
    if (rc != 0 && own)
        kho_store_rollback(w);
    kho_buf_free(&pb.text);
    kho_reader_free(r);
    return rc;
}

static int weight_row(kho_store_t *w, void *ctx, kho_record_t *rec, const char *where, problems_t *pb, kho_err_t *err)
{
    (void)ctx;
    const char *old = rec->cells[0].s, *nw = rec->cells[1].s;
    double v;
    kho_stmt_t *st;
    int rc = kho_store_cached(w,
                              "SELECT count(*) FROM unit_conversion WHERE old_code = ?1 AND new_code = ?2", &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, old);
    kho_stmt_bind_str(st, 2, nw);
    rc = kho_stmt_step(st, err);
    int64_t found = rc == KHO_STEP_ROW ? kho_stmt_col_int(st, 0) : 0;
    kho_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (!found)
        problem(pb, "%s: the conversion table has no row from old commune '%.16s' to new commune '%.16s'", where,
                old, nw);
    if (!kho_ind_parse_number(rec->cells[2].s, &v) || v < 0 || v > 1)
        problem(pb, "%s, column weight: '%.32s' is not a number between 0 and 1", where, rec->cells[2].s);
    if (pb->n)
        return 0;
    rc = kho_store_cached(w, "INSERT OR REPLACE INTO ind_weights(old_code, new_code, weight, basis) VALUES (?1,?2,?3,?4)",
                          &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, old);
    kho_stmt_bind_str(st, 2, nw);
    kho_stmt_bind_double(st, 3, v);
    kho_stmt_bind_str(st, 4, rec->n > 3 ? rec->cells[3].s : "");
    rc = kho_stmt_step(st, err);
    kho_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* Every split commune's weights sum to 1 (checked before the load commits). */
static int weights_sum(kho_store_t *w, const char *path, kho_err_t *err)
{
    kho_stmt_t *st;
    int rc = kho_store_prepare(w, "SELECT old_code, sum(weight) FROM ind_weights GROUP BY old_code"
                                  " HAVING abs(sum(weight) - 1) > 0.001",
                               &st, err);
    if (rc != 0)
        return rc;
    rc = kho_stmt_step(st, err);
    if (rc == KHO_STEP_ROW)
        rc = kho_err_setk(err, KHO_EINVAL, "bad_weights",
                          "%s: the weights of old commune %s sum to %g, not 1; nothing loaded", path,
                          kho_stmt_col_text(st, 0), kho_stmt_col_double(st, 1));
    else if (rc == KHO_STEP_DONE)
        rc = 0;
    kho_stmt_free(st);
    return rc;
}

int kho_ind_load_weights(kho_store_t *w, const char *path, kho_err_t *err)
{
    return load_csv(w, path, "old_code,new_code,weight", 3, "DELETE FROM ind_weights", weight_row, weights_sum, NULL,
                    err);
}

typedef struct target_ctx {
    kho_ind_cat_t cat;
} target_ctx_t;

static int target_row(kho_store_t *w, void *ctx, kho_record_t *rec, const char *where, problems_t *pb,
                      kho_err_t *err)
{
    target_ctx_t *t = ctx;
    double v;
    const char *dir = rec->n > 4 ? rec->cells[4].s : NULL;
    size_t before = pb->n;
    check_target(w, &t->cat, where, rec->cells[0].s, rec->cells[1].s, rec->cells[2].s, dir, pb);
    if (!kho_ind_parse_number(rec->cells[3].s, &v))
        problem(pb, "%s, column value: '%.32s' is not a number", where, rec->cells[3].s);
    if (pb->n > before || pb->n)
        return 0;
    return put_target(w, rec->cells[0].s, rec->cells[1].s, rec->cells[2].s, v, dir, rec->n > 5 ? rec->cells[5].s : "",
                      err);
}

int kho_ind_load_targets(kho_store_t *w, const char *path, kho_err_t *err)
{
    target_ctx_t t;
    int rc = kho_ind_cat_load(w, &t.cat, err);
    if (rc != 0)
        return rc;
    rc = load_csv(w, path, "indicator,unit_code,period,value", 4, NULL, target_row, NULL, &t, err);
    kho_ind_cat_free(&t.cat);
    return rc;
}

/* ---- the units model ------------------------------------------------------------------- */

typedef struct pred {
    int old;       /* index into old communes (or old provinces) */
    double w;
    bool whole;
    bool weighted; /* from ind_weights */
} pred_t;

typedef struct uent {
    char code[8];
    char *name;
    char prov[4];   /* province code (its era) */
    char dist[8];   /* old communes: old district */
    pred_t *preds;  /* current units: predecessors */
    size_t npreds;
    bool touched;
} uent_t;

typedef struct uset {
    uent_t *v;
    size_t n, cap;
    kho_strmap_t *by;
} uset_t;

enum { U_CUR_C, U_OLD_C, U_CUR_P, U_OLD_P, U_OLD_D, U_NSETS };

typedef struct umodel {
    uset_t s[U_NSETS];
    size_t *splits; /* old commune index -> number of new communes it went into */
} umodel_t;

static size_t uset_add(uset_t *u, const char *code, const char *name, const char *prov, const char *dist)
{
    size_t i;
    if (kho_strmap_get(u->by, code, strlen(code), &i))
        return i;
    if (u->n == u->cap) {
        u->cap = u->cap ? u->cap * 2 : 256;
        u->v = kho_xrealloc(u->v, u->cap * sizeof *u->v);
    }
    uent_t *e = &u->v[u->n];
    memset(e, 0, sizeof *e);
    snprintf(e->code, sizeof e->code, "%s", code);
    e->name = kho_xstrdup(name ? name : "");
    snprintf(e->prov, sizeof e->prov, "%s", prov ? prov : "");
    snprintf(e->dist, sizeof e->dist, "%s", dist ? dist : "");
    kho_strmap_put(u->by, code, strlen(code), u->n);
    return u->n++;
}

static int uset_find(const uset_t *u, const char *code)
{
    size_t i;
    return code && kho_strmap_get(u->by, code, strlen(code), &i) ? (int)i : -1;
}

static void umodel_free(umodel_t *m)
{
    for (int k = 0; k < U_NSETS; k++) {
        for (size_t i = 0; i < m->s[k].n; i++) {
            free(m->s[k].v[i].name);
            free(m->s[k].v[i].preds);
        }
        free(m->s[k].v);
        kho_strmap_free(m->s[k].by);
    }
    free(m->splits);
}

static void add_pred(uent_t *e, int old, double w, bool whole)
{
    for (size_t i = 0; i < e->npreds; i++)
        if (e->preds[i].old == old)
            return;
    e->preds = kho_xrealloc(e->preds, (e->npreds + 1) * sizeof *e->preds);
    e->preds[e->npreds++] = (pred_t){old, w, whole, false};
}

static int umodel_load(kho_store_t *s, umodel_t *m, kho_err_t *err)
{
    memset(m, 0, sizeof *m);
    for (int k = 0; k < U_NSETS; k++)
        m->s[k].by = kho_strmap_new();
    kho_stmt_t *st;
    int rc = kho_store_prepare(s, "SELECT era, level, code, name, province_code, district_code FROM units", &st, err);
    if (rc != 0)
        return rc;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        bool old = !strcmp(kho_stmt_col_text(st, 0), "old");
        const char *lv = kho_stmt_col_text(st, 1);
        int k = !strcmp(lv, "commune") ? (old ? U_OLD_C : U_CUR_C)
                : !strcmp(lv, "province") ? (old ? U_OLD_P : U_CUR_P)
                                          : U_OLD_D;
        uset_add(&m->s[k], kho_stmt_col_text(st, 2), kho_stmt_col_text(st, 3), kho_stmt_col_text(st, 4),
                 kho_stmt_col_text(st, 5));
    }
    kho_stmt_free(st);
    if (rc < 0)
        return rc;
    m->splits = kho_xcalloc(m->s[U_OLD_C].n + 1, sizeof *m->splits);
    size_t *oldp_communes = kho_xcalloc(m->s[U_OLD_P].n + 1, sizeof *oldp_communes);
    /* old province -> new province: count the old communes that went each way */
    typedef struct { int oldp, newp; size_t n; } flow_t;
    flow_t *flows = NULL;
    size_t nflows = 0;
    rc = kho_store_prepare(s, "SELECT new_code, old_code, relation, new_province_code, old_province_code"
                              " FROM unit_conversion ORDER BY new_code, old_code", &st, err);
    if (rc != 0) {
        free(oldp_communes);
        return rc;
    }
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        int nw = uset_find(&m->s[U_CUR_C], kho_stmt_col_text(st, 0));
        int od = uset_find(&m->s[U_OLD_C], kho_stmt_col_text(st, 1));
        if (nw < 0 || od < 0)
            continue; /* a gap of the published table (units.h reports them) */
        add_pred(&m->s[U_CUR_C].v[nw], od, 1.0, !strcmp(kho_stmt_col_text(st, 2), "whole"));
        m->splits[od]++;
        int np = uset_find(&m->s[U_CUR_P], kho_stmt_col_text(st, 3));
        int op = uset_find(&m->s[U_OLD_P], kho_stmt_col_text(st, 4));
        if (np < 0 || op < 0)
            continue;
        size_t f = 0;
        while (f < nflows && !(flows[f].oldp == op && flows[f].newp == np))
            f++;
        if (f == nflows) {
            flows = kho_xrealloc(flows, (nflows + 1) * sizeof *flows);
            flows[nflows++] = (flow_t){op, np, 0};
        }
        flows[f].n++;
        oldp_communes[op]++;
    }
    kho_stmt_free(st);
    if (rc >= 0) {
        rc = 0;
        for (size_t f = 0; f < nflows; f++) {
            uent_t *e = &m->s[U_CUR_P].v[flows[f].newp];
            double share = (double)flows[f].n / (double)oldp_communes[flows[f].oldp];
            add_pred(e, flows[f].oldp, share, share >= 1.0);
        }
        /* commune split shares: equal unless weighted */
        uset_t *cc = &m->s[U_CUR_C];
        for (size_t i = 0; i < cc->n; i++)
            for (size_t j = 0; j < cc->v[i].npreds; j++) {
                pred_t *p = &cc->v[i].preds[j];
                size_t k = m->splits[p->old];
                p->w = k ? 1.0 / (double)k : 1.0;
                if (k > 1)
                    p->whole = false;
            }
        rc = kho_store_prepare(s, "SELECT old_code, new_code, weight FROM ind_weights", &st, err);
        while (rc == 0) {
            int r2 = kho_stmt_step(st, err);
            if (r2 != KHO_STEP_ROW) {
                rc = r2 < 0 ? r2 : 0;
                break;
            }
            int od = uset_find(&m->s[U_OLD_C], kho_stmt_col_text(st, 0));
            int nw = uset_find(cc, kho_stmt_col_text(st, 1));
            if (od < 0 || nw < 0)
                continue;
            for (size_t j = 0; j < cc->v[nw].npreds; j++)
                if (cc->v[nw].preds[j].old == od) {
                    cc->v[nw].preds[j].w = kho_stmt_col_double(st, 2);
                    cc->v[nw].preds[j].weighted = true;
                }
        }
        kho_stmt_free(st);
    }
    free(flows);
    free(oldp_communes);
    return rc;
}

/* ---- the rebuild ------------------------------------------------------------------------ */

typedef struct src {
    char dataset[128];
    int64_t version;
    bool synthetic;
} src_t;

typedef struct val {
    int ind;
    char level;        /* 'c' commune, 'p' province, 'd' old district; old-era reports: 'C', 'P' */
    char unit[8];
    char period[12];
    double v;
    bool converted;
    int src;
    char *method;
} val_t;

typedef struct vals {
    val_t *v;
    size_t n, cap;
    kho_strmap_t *by;
    char **periods; /* distinct periods, sorted */
    size_t nperiods;
} vals_t;

static int vkey(char *out, size_t size, int ind, char level, const char *unit, const char *period)
{
    return snprintf(out, size, "%d|%c|%s|%s", ind, level, unit, period);
}

static val_t *vget(const vals_t *vs, int ind, char level, const char *unit, const char *period)
{
    char k[64];
    int n = vkey(k, sizeof k, ind, level, unit, period);
    size_t i;
    return kho_strmap_get(vs->by, k, (size_t)n, &i) ? &vs->v[i] : NULL;
}

/* Add a value; NULL when one is already there. `method` is taken over. */
static val_t *vput(vals_t *vs, int ind, char level, const char *unit, const char *period, double v, bool conv, int src,
                   char *method)
{
    char k[64];
    int n = vkey(k, sizeof k, ind, level, unit, period);
    size_t i;
    if (kho_strmap_get(vs->by, k, (size_t)n, &i)) {
        free(method);
        return NULL;
    }
    if (vs->n == vs->cap) {
        vs->cap = vs->cap ? vs->cap * 2 : 4096;
        vs->v = kho_xrealloc(vs->v, vs->cap * sizeof *vs->v);
    }
    val_t *e = &vs->v[vs->n];
    e->ind = ind;
    e->level = level;
    snprintf(e->unit, sizeof e->unit, "%s", unit);
    snprintf(e->period, sizeof e->period, "%s", period);
    e->v = v;
    e->converted = conv;
    e->src = src;
    e->method = method;
    kho_strmap_put(vs->by, k, (size_t)n, vs->n);
    return &vs->v[vs->n++];
}

static void add_period(vals_t *vs, const char *p)
{
    for (size_t i = 0; i < vs->nperiods; i++)
        if (!strcmp(vs->periods[i], p))
            return;
    vs->periods = kho_xrealloc(vs->periods, (vs->nperiods + 1) * sizeof *vs->periods);
    vs->periods[vs->nperiods++] = kho_xstrdup(p);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void vals_free(vals_t *vs)
{
    for (size_t i = 0; i < vs->n; i++)
        free(vs->v[i].method);
    free(vs->v);
    kho_strmap_free(vs->by);
    for (size_t i = 0; i < vs->nperiods; i++)
        free(vs->periods[i]);
    free(vs->periods);
}

/* Normalise a unit cell: integers lose leading zeros when typed as numbers. */
static void unit_text(kho_stmt_t *st, int col, int level, char out[16])
{
    if (kho_stmt_col_type(st, col) == KHO_VAL_INT)
        snprintf(out, 16, level == KHO_LVL_PROVINCE ? "%02lld" : "%05lld", (long long)kho_stmt_col_int(st, col));
    else {
        const char *s = kho_stmt_col_text(st, col);
        snprintf(out, 16, "%s", s ? s : "");
    }
}

static void period_text(kho_stmt_t *st, int col, char out[16])
{
    if (kho_stmt_col_type(st, col) == KHO_VAL_INT)
        snprintf(out, 16, "%lld", (long long)kho_stmt_col_int(st, col));
    else {
        const char *s = kho_stmt_col_text(st, col);
        snprintf(out, 16, "%s", s ? s : "");
    }
}

typedef struct build {
    kho_store_t *w;
    kho_ind_cat_t cat;
    umodel_t um;
    vals_t vs;
    src_t *srcs;
    size_t nsrcs;
    problems_t pb;
    size_t reports, incomplete;
    kho_strmap_t **ind_srcs; /* per indicator: the sources seen */
} build_t;

static int col_index(const kho_version_info_t *vi, const char *name)
{
    for (size_t i = 0; i < vi->ncols; i++)
        if (!strcmp(vi->cols[i].name, name))
            return (int)i;
    return -1;
}

/* One report: checked, then kept as an old-era ('C'/'P') or current-era ('c'/'p') value. */
static void take_report(build_t *b, int src, const char *where, const char *ind_code, const char *unit,
                        const char *period, kho_stmt_t *st, int vcol)
{
    int i = kho_ind_cat_find(&b->cat, ind_code);
    if (i < 0) {
        problem(&b->pb, "%s, field indicator: unknown indicator '%.64s'", where, ind_code);
        return;
    }
    kho_ind_def_t *d = &b->cat.v[i];
    if (d->kind == KHO_KIND_RATIO || d->kind == KHO_KIND_RATE) {
        problem(&b->pb, "%s, field indicator: %s is computed from %s / %s; report those instead", where, d->code,
                b->cat.v[d->num].code, b->cat.v[d->den].code);
        return;
    }
    if (!kho_ind_period_ok(d->freq, period)) {
        problem(&b->pb, "%s, field period: '%.16s' is not a %s period (%s)", where, period,
                d->freq == KHO_FREQ_YEAR ? "year" : d->freq == KHO_FREQ_QUARTER ? "quarter" : "month",
                d->freq == KHO_FREQ_YEAR ? "YYYY" : d->freq == KHO_FREQ_QUARTER ? "YYYY-Qn" : "YYYY-MM");
        return;
    }
    double v;
    kho_val_type_t t = kho_stmt_col_type(st, vcol);
    if (t == KHO_VAL_INT || t == KHO_VAL_REAL)
        v = kho_stmt_col_double(st, vcol);
    else if (t == KHO_VAL_TEXT && kho_ind_parse_number(kho_stmt_col_text(st, vcol), &v))
        ;
    else {
        problem(&b->pb, "%s, field value: '%.32s' is not a number", where,
                t == KHO_VAL_TEXT ? kho_stmt_col_text(st, vcol) : "(empty)");
        return;
    }
    bool prov = d->level == KHO_LVL_PROVINCE;
    int cur = uset_find(&b->um.s[prov ? U_CUR_P : U_CUR_C], unit);
    int old = uset_find(&b->um.s[prov ? U_OLD_P : U_OLD_C], unit);
    bool use_old;
    if (cur < 0 && old < 0) {
        bool other = uset_find(&b->um.s[prov ? U_CUR_C : U_CUR_P], unit) >= 0 ||
                     uset_find(&b->um.s[prov ? U_OLD_C : U_OLD_P], unit) >= 0;
        problem(&b->pb, "%s, field unit: '%.16s' is %s", where, unit,
                other ? (prov ? "a commune, but this indicator is reported per province"
                              : "a province, but this indicator is reported per commune (province totals are computed)")
                      : (prov ? "not a province code" : "not a commune code"));
        return;
    }
    use_old = old >= 0 && (cur < 0 || kho_ind_period_old(period));
    char level = prov ? (use_old ? 'P' : 'p') : (use_old ? 'C' : 'c');
    if (!vput(&b->vs, i, level, unit, period, v, false, src, NULL)) {
        problem(&b->pb, "%s: a second report of %s for unit %s, period %s", where, d->code, unit, period);
        return;
    }
    b->reports++;
    add_period(&b->vs, period);
    kho_strmap_put(b->ind_srcs[i], b->srcs[src].dataset, strlen(b->srcs[src].dataset), (size_t)src);
    int idx = use_old ? old : cur;
    if (!use_old)
        b->um.s[prov ? U_CUR_P : U_CUR_C].v[idx].touched = true;
    else if (!prov)
        b->um.s[U_OLD_C].v[idx].touched = true; /* its successors are marked after reading */
}

/* Today's communes whose predecessors reported are the ones to convert. */
static void mark_successors(build_t *b)
{
    uset_t *cc = &b->um.s[U_CUR_C], *oc = &b->um.s[U_OLD_C];
    for (size_t k = 0; k < cc->n; k++)
        for (size_t j = 0; j < cc->v[k].npreds; j++)
            if (oc->v[cc->v[k].preds[j].old].touched)
                cc->v[k].touched = true;
}

static int read_source(build_t *b, const char *dataset, const char *mapping)
{
    kho_err_t e;
    json_t *m = json_loads(mapping, 0, NULL);
    kho_version_info_t vi;
    int rc = kho_catalog_version(b->w, dataset, 0, &vi, &e);
    if (rc == KHO_ENOTFOUND) { /* declared before its first upload */
        json_decref(m);
        return 0;
    }
    if (rc != 0) {
        json_decref(m);
        problem(&b->pb, "source %s: %s", dataset, e.msg);
        return 0;
    }
    int64_t sid = 0;
    bool synthetic = false;
    bool csv = true;
    kho_stmt_t *st;
    if (kho_store_prepare(b->w, "SELECT d.synthetic, v.format FROM datasets d JOIN versions v ON v.dataset_id = d.id"
                                " AND v.number = d.current_version WHERE d.slug = ?1",
                          &st, &e) == 0) {
        kho_stmt_bind_str(st, 1, dataset);
        if (kho_stmt_step(st, &e) == KHO_STEP_ROW) {
            synthetic = kho_stmt_col_int(st, 0) != 0;
            csv = !strcmp(kho_stmt_col_text(st, 1), "csv");
        }
        kho_stmt_free(st);
    }
    b->srcs = kho_xrealloc(b->srcs, (b->nsrcs + 1) * sizeof *b->srcs);
    sid = (int64_t)b->nsrcs;
    src_t *s = &b->srcs[b->nsrcs++];
    snprintf(s->dataset, sizeof s->dataset, "%s", dataset);
    s->version = vi.number;
    s->synthetic = synthetic;

    bool lng = !strcmp(jstr(m, "form"), "long");
    const char *ucol = jstr(m, "unit"), *pcol = jstr(m, "period");
    int cu = col_index(&vi, ucol), cp = col_index(&vi, pcol), ci = -1, cv = -1;
    if (cu < 0)
        problem(&b->pb, "source %s: it has no column '%s' (the mapping's unit)", dataset, ucol);
    if (cp < 0)
        problem(&b->pb, "source %s: it has no column '%s' (the mapping's period)", dataset, pcol);
    /* wide: (indicator index, column index) pairs */
    int wind[64], wcol[64];
    size_t nw = 0;
    if (lng) {
        ci = col_index(&vi, jstr(m, "indicator"));
        cv = col_index(&vi, jstr(m, "value"));
        if (ci < 0)
            problem(&b->pb, "source %s: it has no column '%s' (the mapping's indicator)", dataset,
                    jstr(m, "indicator"));
        if (cv < 0)
            problem(&b->pb, "source %s: it has no column '%s' (the mapping's value)", dataset, jstr(m, "value"));
    } else {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(m, "values"), k, v)
        {
            int i = kho_ind_cat_find(&b->cat, k), c = col_index(&vi, json_string_value(v));
            if (i < 0)
                problem(&b->pb, "source %s: the mapping names unknown indicator '%s'", dataset, k);
            else if (c < 0)
                problem(&b->pb, "source %s: it has no column '%s' (the mapping's %s)", dataset, json_string_value(v), k);
            else if (nw < 64) {
                wind[nw] = i;
                wcol[nw++] = c;
            }
        }
    }
    if (b->pb.n) {
        kho_version_info_free(&vi);
        json_decref(m);
        return 0;
    }
    for (size_t i = 0; i < vi.ncols; i++)
        if (strstr(vi.cols[i].tags, "encrypted") && ((int)i == cu || (int)i == cp || (int)i == ci || (int)i == cv))
            problem(&b->pb, "source %s: column %s is encrypted and cannot feed indicators", dataset, vi.cols[i].name);
    kho_buf_t sql = KHO_BUF_INIT;
    char q[80];
    kho_buf_puts(&sql, "SELECT _row");
    int sel[66], nsel = 0;
    int want[66];
    size_t nwant = 0;
    want[nwant++] = cu;
    want[nwant++] = cp;
    if (lng) {
        want[nwant++] = ci;
        want[nwant++] = cv;
    } else
        for (size_t k = 0; k < nw; k++)
            want[nwant++] = wcol[k];
    for (size_t k = 0; k < nwant; k++) {
        kho_store_quote_ident(vi.cols[want[k]].name, q, sizeof q);
        kho_buf_printf(&sql, ", %s", q);
        sel[nsel++] = (int)k + 1;
    }
    kho_store_quote_ident(vi.table, q, sizeof q);
    kho_buf_printf(&sql, " FROM %s ORDER BY _row", q);
    rc = b->pb.n ? 0 : kho_store_prepare(b->w, sql.data, &st, &e);
    kho_buf_free(&sql);
    if (rc != 0)
        problem(&b->pb, "source %s: %s", dataset, e.msg);
    while (rc == 0) {
        int r2 = kho_stmt_step(st, &e);
        if (r2 != KHO_STEP_ROW) {
            if (r2 < 0)
                problem(&b->pb, "source %s: %s", dataset, e.msg);
            break;
        }
        int64_t row = kho_stmt_col_int(st, 0);
        char where[192], unit[16], period[16];
        snprintf(where, sizeof where, "%s version %lld, %s %lld", dataset, (long long)vi.number, csv ? "line" : "record",
                 (long long)(csv ? row + 1 : row));
        if (lng) {
            const char *ic = kho_stmt_col_text(st, sel[2]);
            int ii = kho_ind_cat_find(&b->cat, ic);
            unit_text(st, sel[0], ii >= 0 ? b->cat.v[ii].level : KHO_LVL_COMMUNE, unit);
            period_text(st, sel[1], period);
            take_report(b, (int)sid, where, ic ? ic : "", unit, period, st, sel[3]);
        } else {
            period_text(st, sel[1], period);
            for (size_t k = 0; k < nw; k++) {
                if (kho_stmt_col_type(st, sel[2 + k]) == KHO_VAL_NULL)
                    continue; /* a wide row need not carry every indicator */
                unit_text(st, sel[0], b->cat.v[wind[k]].level, unit);
                take_report(b, (int)sid, where, b->cat.v[wind[k]].code, unit, period, st, sel[2 + k]);
            }
        }
        if (b->pb.n > 200)
            break; /* enough to say the file is wrong */
    }
    if (rc == 0)
        kho_stmt_free(st);
    kho_version_info_free(&vi);
    json_decref(m);
    return 0;
}

static char *fraction_text(double w)
{
    /* 1/k when it is one, else a percentage */
    for (int k = 2; k <= 12; k++)
        if (fabs(w - 1.0 / k) < 1e-9) {
            char *s = kho_xmalloc(16);
            snprintf(s, 16, "1/%d", k);
            return s;
        }
    char *s = kho_xmalloc(24);
    snprintf(s, 24, "%.4g%%", w * 100);
    return s;
}

/* Convert additive (or 1:1 index) old-era values to the current units of one set. */
static void convert_set(build_t *b, int i, bool prov)
{
    kho_ind_def_t *d = &b->cat.v[i];
    uset_t *cur = &b->um.s[prov ? U_CUR_P : U_CUR_C], *olds = &b->um.s[prov ? U_OLD_P : U_OLD_C];
    char oldlv = prov ? 'P' : 'C', lv = prov ? 'p' : 'c';
    for (size_t pi = 0; pi < b->vs.nperiods; pi++) {
        const char *p = b->vs.periods[pi];
        for (size_t u = 0; u < cur->n; u++) {
            uent_t *e = &cur->v[u];
            if (!e->npreds || (!prov && !e->touched))
                continue;
            if (vget(&b->vs, i, lv, e->code, p))
                continue; /* reported against today's unit */
            if (d->kind == KHO_KIND_INDEX && !(e->npreds == 1 && e->preds[0].whole))
                continue;
            double sum = 0;
            size_t have = 0;
            int src = -1;
            for (size_t j = 0; j < e->npreds; j++) {
                val_t *ov = vget(&b->vs, i, oldlv, olds->v[e->preds[j].old].code, p);
                if (ov) {
                    sum += e->preds[j].w * ov->v;
                    have++;
                    if (src < 0)
                        src = ov->src;
                }
            }
            if (have == 0)
                continue;
            if (have < e->npreds) {
                b->incomplete++;
                continue;
            }
            kho_buf_t m = KHO_BUF_INIT;
            size_t whole = 0;
            for (size_t j = 0; j < e->npreds; j++)
                whole += e->preds[j].whole;
            kho_buf_printf(&m, "Quy đổi theo bảng chuyển đổi đơn vị hành chính 2025: ");
            if (e->npreds == 1 && e->preds[0].whole)
                kho_buf_printf(&m, "bằng %s cũ (%s)", prov ? "tỉnh" : "số liệu của", olds->v[e->preds[0].old].name);
            else {
                kho_buf_printf(&m, "cộng ");
                for (size_t j = 0; j < e->npreds; j++) {
                    pred_t *pr = &e->preds[j];
                    if (j)
                        kho_buf_puts(&m, " + ");
                    if (pr->whole)
                        kho_buf_printf(&m, "%s", olds->v[pr->old].name);
                    else {
                        char *f = fraction_text(pr->w);
                        kho_buf_printf(&m, "%s × %s (%s)", f, olds->v[pr->old].name,
                                       pr->weighted ? "theo trọng số" : "chia đều");
                        free(f);
                    }
                }
                if (whole < e->npreds)
                    kho_buf_printf(&m, "; phần của đơn vị bị chia tách tính theo %s",
                                   prov ? "tỷ lệ số xã" : "trọng số (mặc định chia đều)");
            }
            vput(&b->vs, i, lv, e->code, p, sum, true, src, kho_buf_steal(&m, NULL));
        }
    }
}

/* Province sums of a commune indicator, and old-district sums of the old reports. */
static void sum_up(build_t *b, int i)
{
    uset_t *cc = &b->um.s[U_CUR_C], *pp = &b->um.s[U_CUR_P], *oc = &b->um.s[U_OLD_C], *od = &b->um.s[U_OLD_D];
    size_t *cnt = kho_xcalloc(pp->n + od->n + 1, sizeof *cnt);
    size_t *tot = kho_xcalloc(pp->n + od->n + 1, sizeof *tot);
    double *sum = kho_xcalloc(pp->n + od->n + 1, sizeof *sum);
    bool *conv = kho_xcalloc(pp->n + od->n + 1, sizeof *conv);
    int *src = kho_xcalloc(pp->n + od->n + 1, sizeof *src);
    for (size_t u = 0; u < cc->n; u++) {
        int p = uset_find(pp, cc->v[u].prov);
        if (p >= 0)
            tot[p]++;
    }
    for (size_t u = 0; u < oc->n; u++) {
        int dd = uset_find(od, oc->v[u].dist);
        if (dd >= 0)
            tot[pp->n + (size_t)dd]++;
    }
    for (size_t pi = 0; pi < b->vs.nperiods; pi++) {
        const char *per = b->vs.periods[pi];
        memset(cnt, 0, (pp->n + od->n) * sizeof *cnt);
        memset(sum, 0, (pp->n + od->n) * sizeof *sum);
        memset(conv, 0, (pp->n + od->n) * sizeof *conv);
        for (size_t u = 0; u < cc->n; u++) {
            if (!cc->v[u].touched)
                continue;
            val_t *v = vget(&b->vs, i, 'c', cc->v[u].code, per);
            int p = v ? uset_find(pp, cc->v[u].prov) : -1;
            if (p < 0)
                continue;
            cnt[p]++;
            sum[p] += v->v;
            conv[p] |= v->converted;
            src[p] = v->src;
        }
        for (size_t u = 0; u < oc->n; u++) {
            if (!oc->v[u].touched)
                continue;
            val_t *v = vget(&b->vs, i, 'C', oc->v[u].code, per);
            int dd = v ? uset_find(od, oc->v[u].dist) : -1;
            if (dd < 0)
                continue;
            size_t k = pp->n + (size_t)dd;
            cnt[k]++;
            sum[k] += v->v;
            src[k] = v->src;
        }
        for (size_t k = 0; k < pp->n + od->n; k++) {
            if (!cnt[k] || cnt[k] < tot[k]) {
                if (cnt[k])
                    b->incomplete++;
                continue;
            }
            bool isp = k < pp->n;
            char *m = kho_xmalloc(160);
            snprintf(m, 160, isp ? "Tổng của %zu xã, phường%s" : "Tổng của %zu xã cũ thuộc huyện cũ", cnt[k],
                     conv[k] ? " (gồm số liệu quy đổi)" : "");
            vput(&b->vs, i, isp ? 'p' : 'd', isp ? pp->v[k].code : od->v[k - pp->n].code, per, sum[k], conv[k], src[k],
                 m);
        }
    }
    free(cnt);
    free(tot);
    free(sum);
    free(conv);
    free(src);
}

/* Ratios and rates at every level where both parts exist. */
static bool derive(build_t *b, int i, bool *done)
{
    kho_ind_def_t *d = &b->cat.v[i];
    if (!done[d->num] || !done[d->den])
        return false;
    size_t n = b->vs.n; /* values added here are not read again in this loop */
    for (size_t k = 0; k < n; k++) {
        val_t nv = b->vs.v[k];
        if (nv.ind != d->num || nv.level == 'C' || nv.level == 'P')
            continue;
        val_t *dv = vget(&b->vs, d->den, nv.level, nv.unit, nv.period);
        if (!dv || dv->v == 0)
            continue;
        char *m = kho_xmalloc(256);
        snprintf(m, 256, "Tính lại từ tử số và mẫu số: %g × %s / %s%s", d->scale, b->cat.v[d->num].code,
                 b->cat.v[d->den].code, nv.converted || dv->converted ? " (đã quy đổi sang đơn vị mới)" : "");
        vput(&b->vs, i, nv.level, nv.unit, nv.period, d->scale * nv.v / dv->v, nv.converted || dv->converted, nv.src,
             m);
    }
    kho_strmap_t *ns = b->ind_srcs[d->num], *ds = b->ind_srcs[d->den];
    for (size_t s = 0; s < b->nsrcs; s++) {
        size_t x;
        const char *name = b->srcs[s].dataset;
        if (kho_strmap_get(ns, name, strlen(name), &x) || kho_strmap_get(ds, name, strlen(name), &x))
            kho_strmap_put(b->ind_srcs[i], name, strlen(name), s);
    }
    return true;
}

static int write_values(build_t *b, kho_err_t *err)
{
    int rc = kho_store_exec(b->w, "DELETE FROM ind_values", err);
    kho_stmt_t *st = NULL;
    if (rc == 0)
        rc = kho_store_prepare(b->w,
                               "INSERT INTO ind_values(indicator, level, unit_code, period, value, converted, method,"
                               " source_dataset, source_version) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
                               &st, err);
    for (size_t k = 0; rc == 0 && k < b->vs.n; k++) {
        val_t *v = &b->vs.v[k];
        if (v->level == 'C' || v->level == 'P')
            continue; /* old-era reports live in their dataset; the API serves today's units */
        kho_stmt_bind_str(st, 1, b->cat.v[v->ind].code);
        kho_stmt_bind_str(st, 2, v->level == 'c' ? "commune" : v->level == 'p' ? "province" : "district_old");
        kho_stmt_bind_str(st, 3, v->unit);
        kho_stmt_bind_str(st, 4, v->period);
        kho_stmt_bind_double(st, 5, v->v);
        kho_stmt_bind_int(st, 6, v->converted);
        kho_stmt_bind_str(st, 7, v->method ? v->method : "");
        kho_stmt_bind_str(st, 8, v->src >= 0 ? b->srcs[v->src].dataset : "");
        kho_stmt_bind_int(st, 9, v->src >= 0 ? b->srcs[v->src].version : 0);
        rc = kho_stmt_step(st, err);
        kho_stmt_reset(st);
        if (rc > 0)
            rc = 0;
    }
    kho_stmt_free(st);
    if (rc == 0)
        rc = kho_store_prepare(b->w, "UPDATE ind_catalogue SET sources = ?2 WHERE code = ?1", &st, err);
    for (size_t i = 0; rc == 0 && i < b->cat.n; i++) {
        kho_buf_t s = KHO_BUF_INIT;
        for (size_t k = 0; k < b->nsrcs; k++) {
            size_t x;
            const char *name = b->srcs[k].dataset;
            if (kho_strmap_get(b->ind_srcs[i], name, strlen(name), &x) && !strstr(kho_buf_cstr(&s), name))
                kho_buf_printf(&s, "%s%s", s.len ? "," : "", name);
        }
        kho_stmt_bind_str(st, 1, b->cat.v[i].code);
        kho_stmt_bind_str(st, 2, kho_buf_cstr(&s));
        rc = kho_stmt_step(st, err);
        kho_stmt_reset(st);
        if (rc > 0)
            rc = 0;
        kho_buf_free(&s);
    }
    if (st)
        kho_stmt_free(st);
    return rc;
}

int kho_ind_rebuild(kho_store_t *w, kho_ind_build_t *out, kho_err_t *err)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool own = !kho_store_in_transaction(w);
    int rc = own ? kho_store_begin(w, true, err) : 0;
    if (rc != 0)
        return rc;
    build_t b = {.w = w, .pb = {KHO_BUF_INIT, 0}};
    b.vs.by = kho_strmap_new();
    rc = kho_ind_cat_load(w, &b.cat, err);
    if (rc == 0)
        rc = umodel_load(w, &b.um, err);
    if (rc == 0) {
        b.ind_srcs = kho_xcalloc(b.cat.n + 1, sizeof *b.ind_srcs);
        for (size_t i = 0; i < b.cat.n; i++)
            b.ind_srcs[i] = kho_strmap_new();
    }
    kho_stmt_t *st = NULL;
    if (rc == 0)
        rc = kho_store_prepare(w, "SELECT dataset, mapping FROM ind_sources ORDER BY dataset", &st, err);
    if (rc == 0) {
        char names[32][128], maps[32][1024];
        size_t n = 0;
        while (n < 32 && (rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
            snprintf(names[n], sizeof names[0], "%s", kho_stmt_col_text(st, 0));
            snprintf(maps[n], sizeof maps[0], "%s", kho_stmt_col_text(st, 1));
            n++;
        }
        kho_stmt_free(st);
        rc = rc < 0 ? rc : 0;
        for (size_t k = 0; rc == 0 && k < n; k++)
            rc = read_source(&b, names[k], maps[k]);
    }
    if (rc == 0)
        rc = problems_fail(&b.pb, "indicator reports", err);
    if (rc == 0) {
        qsort(b.vs.periods, b.vs.nperiods, sizeof *b.vs.periods, cmp_str);
        mark_successors(&b);
        bool *done = kho_xcalloc(b.cat.n + 1, sizeof *done);
        for (size_t i = 0; i < b.cat.n; i++) {
            kho_ind_def_t *d = &b.cat.v[i];
            if (d->kind == KHO_KIND_RATIO || d->kind == KHO_KIND_RATE)
                continue;
            convert_set(&b, (int)i, d->level == KHO_LVL_PROVINCE);
            if (d->level == KHO_LVL_COMMUNE && d->kind == KHO_KIND_ADDITIVE)
                sum_up(&b, (int)i);
            done[i] = true;
        }
        for (bool progress = true; progress;) { /* derived of derived, in dependency order */
            progress = false;
            for (size_t i = 0; i < b.cat.n; i++)
                if (!done[i] && (b.cat.v[i].kind == KHO_KIND_RATIO || b.cat.v[i].kind == KHO_KIND_RATE) &&
                    derive(&b, (int)i, done))
                    done[i] = progress = true;
        }
        free(done);
        rc = write_values(&b, err);
    }
    if (rc == 0 && own)
        rc = kho_store_commit(w, err);
    if (rc != 0 && own)
        kho_store_rollback(w);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (out) {
        memset(out, 0, sizeof *out);
        out->reports = b.reports;
        for (size_t k = 0; k < b.vs.n; k++)
            if (b.vs.v[k].level != 'C' && b.vs.v[k].level != 'P') {
                out->values++;
                out->converted += b.vs.v[k].converted;
            }
        out->incomplete = b.incomplete;
        out->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    }
    if (b.ind_srcs)
        for (size_t i = 0; i < b.cat.n; i++)
            kho_strmap_free(b.ind_srcs[i]);
    free(b.ind_srcs);
    free(b.srcs);
    vals_free(&b.vs);
    umodel_free(&b.um);
    kho_ind_cat_free(&b.cat);
    kho_buf_free(&b.pb.text);
    return rc;
}

int kho_ind_ingest_hook(kho_store_t *w, const char *dataset, int64_t version, uint64_t rows_rejected, kho_err_t *err)
{
    kho_stmt_t *st;
    int rc = kho_store_cached(w, "SELECT 1 FROM ind_sources WHERE dataset = ?1", &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, dataset);
    rc = kho_stmt_step(st, err);
    kho_stmt_reset(st);
    if (rc < 0)
        return rc;
    if (rc == KHO_STEP_DONE)
        return 0; /* not an indicator source */
    if (rows_rejected)
        return kho_err_setk(err, KHO_EINVAL, "bad_indicator_data",
                            "%s is a source of indicators: its version %lld would drop %llu rejected rows (see the "
                            "quality report); a source must load whole, nothing loaded",
                            dataset, (long long)version, (unsigned long long)rows_rejected);
    kho_ind_build_t bs;
    return kho_ind_rebuild(w, &bs, err);
}

int kho_ind_demo(kho_store_t *w, const char *catalogue, const char *csv_path, FILE *out, kho_err_t *err)
{
    int rc = kho_ind_load_catalogue(w, catalogue, err);
    if (rc != 0)
        return rc;
    int64_t id;
    kho_err_t probe;
    if (kho_catalog_find(w, KHO_IND_DEMO_DATASET, &id, &probe) == 0) {
        if (out)
            fprintf(out, "  demo dataset %s: already present, left as it is\n", KHO_IND_DEMO_DATASET);
        kho_ind_build_t bs;
        return kho_ind_rebuild(w, &bs, err);
    }
    FILE *f = fopen(csv_path, "w");
    if (!f)
        return kho_err_set(err, KHO_EIO, "cannot write %s: %s", csv_path, strerror(errno));
    rc = kho_indgen_write(w, f, err);
    if (fclose(f) != 0 && rc == 0)
        rc = kho_err_set(err, KHO_EIO, "cannot write %s", csv_path);
    if (rc != 0)
        return rc;
    const char *tags[] = {"chỉ số", "kinh tế – xã hội", "thống kê", "Hưng Yên"};
    kho_ingest_opts_t o = {
        .dataset = KHO_IND_DEMO_DATASET,
        .meta = {.title = "Chỉ số kinh tế – xã hội cấp xã, tỉnh Hưng Yên (2015–2025, mô phỏng)",
                 .description = "Số liệu mô phỏng (không phải số liệu thật) theo dạng dài indicator, unit_code, period, "
                                "value. Trước năm 2025 số liệu báo cáo theo xã và tỉnh cũ (Hưng Yên và Thái Bình cũ); "
                                "từ năm 2025 theo 104 xã, phường mới. kho quy đổi sang đơn vị hiện hành.",
                 .publisher = "Sở Tài chính tỉnh Hưng Yên (dữ liệu mô phỏng)",
                 .licence = "CC-BY-4.0",
                 .org = "so-tai-chinh",
                 .org_name = "Sở Tài chính",
                 .sharing = "open",
                 .importance = "other",
                 .temporal_start = "2015",
                 .temporal_end = "2025",
                 .spatial = "33",
                 .tags = tags,
                 .ntags = 4,
                 .tags_set = true,
                 .synthetic = true},
        .strict = true,
        .reject_threshold = 0,
        .source_name = "chi-so-kinh-te-xa-hoi.csv",
        .decls = (kho_coldecl_t[]){{"unit_code", "text"}, {"period", "text"}, {"value", "real"}},
        .ndecls = 3};
    kho_source_t src = {.path = csv_path, .name = "chi-so-kinh-te-xa-hoi.csv"};
    kho_ingest_result_t res;
    rc = kho_ingest(w, &src, &o, &res, err); /* the ingest hook rebuilds the values */
    if (rc == 0 && out)
        fprintf(out, "  demo dataset %s: %llu indicator reports (version %lld)\n", KHO_IND_DEMO_DATASET,
                (unsigned long long)res.rows_loaded, (long long)res.version);
    kho_ingest_result_free(&res);
    remove(csv_path);
    return rc;
}
