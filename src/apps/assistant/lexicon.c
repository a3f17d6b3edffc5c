/* lexicon — the assistant's words: units, indicators (see lexicon.h). */
#include "apps/assistant/lexicon.h"

#include <jansson.h>
#include <string.h>

#include "apps/indicators/indicators.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/strmap.h"
#include "core/text.h"
#include "warehouse/reader.h"

typedef struct group {
    kho_lx_hit_t *v;
    size_t n, cap;
} group_t;

typedef struct conv {
    int old_unit, new_unit;
    bool whole;
} conv_t;

struct kho_lexicon {
    kho_strmap_t *phrases; /* folded phrase -> groups index */
    group_t *groups;
    size_t ngroups, capgroups;
    kho_lx_unit_t *units;
    size_t nunits, capunits;
    kho_strmap_t *unit_codes[2]; /* per era: code -> units index */
    kho_strmap_t *ind_lower;     /* "INDEX|phrase in lower case with marks" */
    kho_lx_ind_t *inds;
    size_t ninds, capinds;
    conv_t *conv; /* sorted by old_unit once built */
    size_t nconv, capconv;
    char prov_succ[64][2][8];
    size_t nprov;
    char home[8];
    size_t max_words;
};

kho_lexicon_t *kho_lexicon_new(void)
{
    kho_lexicon_t *lx = kho_xcalloc(1, sizeof *lx);
    lx->phrases = kho_strmap_new();
    lx->unit_codes[0] = kho_strmap_new();
    lx->unit_codes[1] = kho_strmap_new();
    lx->ind_lower = kho_strmap_new();
    return lx;
}

void kho_lexicon_free(kho_lexicon_t *lx)
{
    if (!lx)
        return;
    for (size_t i = 0; i < lx->ngroups; i++)
        free(lx->groups[i].v);
    free(lx->groups);
    kho_strmap_free(lx->phrases);
    kho_strmap_free(lx->unit_codes[0]);
    kho_strmap_free(lx->unit_codes[1]);
    kho_strmap_free(lx->ind_lower);
    free(lx->units);
    free(lx->inds);
    free(lx->conv);
    free(lx);
}

static size_t words_of(const char *s, size_t n)
{
    size_t w = n ? 1 : 0;
    for (size_t i = 0; i < n; i++)
        w += s[i] == ' ';
    return w;
}

/* Add a meaning to a folded phrase (no duplicates). */
static void add_folded(kho_lexicon_t *lx, const char *f, size_t n, int kind, int ref)
{
    while (n && f[0] == ' ')
        f++, n--;
    while (n && f[n - 1] == ' ')
        n--;
    if (!n)
        return;
    size_t gi;
    if (!kho_strmap_get(lx->phrases, f, n, &gi)) {
        if (lx->ngroups == lx->capgroups) {
            lx->capgroups = lx->capgroups ? lx->capgroups * 2 : 1024;
            lx->groups = kho_xrealloc(lx->groups, lx->capgroups * sizeof *lx->groups);
        }
        gi = lx->ngroups++;
        memset(&lx->groups[gi], 0, sizeof lx->groups[gi]);
        kho_strmap_put(lx->phrases, f, n, gi);
    }
    group_t *g = &lx->groups[gi];
    for (size_t i = 0; i < g->n; i++)
        if (g->v[i].kind == kind && g->v[i].ref == ref)
            return;
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 2;
        g->v = kho_xrealloc(g->v, g->cap * sizeof *g->v);
    }
    g->v[g->n++] = (kho_lx_hit_t){kind, ref};
    size_t w = words_of(f, n);
    if (w > lx->max_words)
        lx->max_words = w;
}

/* Words of s (NFC), folded or (lower) only lower-cased, every run of characters
 * that are not letters or digits made one space: "P. Phố Hiến" and "phố-hiến"
 * give words like the parser's. */
static void words_into(const char *s, bool lower, kho_buf_t *out)
{
    kho_buf_t f = KHO_BUF_INIT;
    if (lower)
        kho_text_lower(s, strlen(s), &f);
    else
        kho_text_fold(s, strlen(s), &f);
    bool space = true;
    for (size_t i = 0; i < f.len; i++) {
        unsigned char c = (unsigned char)f.data[i];
        bool word = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
        if (word) {
            kho_buf_putc(out, (char)c);
            space = false;
        } else if (!space) {
            kho_buf_putc(out, ' ');
            space = true;
        }
    }
    while (out->len && out->data[out->len - 1] == ' ')
        out->len--;
    kho_buf_free(&f);
}

static void fold_words(const char *s, kho_buf_t *out)
{
    words_into(s, false, out);
}

void kho_lexicon_add_phrase(kho_lexicon_t *lx, const char *phrase, int kind, int ref)
{
    kho_buf_t f = KHO_BUF_INIT;
    fold_words(phrase, &f);
    add_folded(lx, f.data ? f.data : "", f.len, kind, ref);
    if (kind == KHO_LX_IND) {
        f.len = 0;
        kho_buf_printf(&f, "%d|", ref);
        words_into(phrase, true, &f);
        kho_strmap_put(lx->ind_lower, f.data, f.len, 1);
    }
    kho_buf_free(&f);
}

bool kho_lexicon_ind_lower(const kho_lexicon_t *lx, int ind, const char *lower)
{
    kho_buf_t k = KHO_BUF_INIT;
    kho_buf_printf(&k, "%d|%s", ind, lower);
    size_t v;
    bool yes = kho_strmap_get(lx->ind_lower, k.data, k.len, &v);
    kho_buf_free(&k);
    return yes;
}

int kho_lexicon_add_unit(kho_lexicon_t *lx, const kho_lx_unit_t *u)
{
    if (lx->nunits == lx->capunits) {
        lx->capunits = lx->capunits ? lx->capunits * 2 : 1024;
        lx->units = kho_xrealloc(lx->units, lx->capunits * sizeof *lx->units);
    }
    int i = (int)lx->nunits++;
    lx->units[i] = *u;
    kho_strmap_t *m = lx->unit_codes[u->era == KHO_ERA_OLD];
    size_t prev;
    if (!kho_strmap_get(m, u->code, strlen(u->code), &prev))
        kho_strmap_put(m, u->code, strlen(u->code), (size_t)i);
    kho_lexicon_add_phrase(lx, u->name_lower, KHO_LX_UNIT, i);
    /* a short name of one word ("Mường", "Hòa") is too easily an ordinary word: only with its type word */
    kho_buf_t f = KHO_BUF_INIT;
    fold_words(u->short_lower, &f);
    if (words_of(f.data ? f.data : "", f.len) >= 2)
        add_folded(lx, f.data, f.len, KHO_LX_UNIT, i);
    kho_buf_free(&f);
    return i;
}

int kho_lexicon_add_ind(kho_lexicon_t *lx, const kho_lx_ind_t *d, const char *synonyms)
{
    if (lx->ninds == lx->capinds) {
        lx->capinds = lx->capinds ? lx->capinds * 2 : 32;
        lx->inds = kho_xrealloc(lx->inds, lx->capinds * sizeof *lx->inds);
    }
    int i = (int)lx->ninds++;
    lx->inds[i] = *d;
    kho_lexicon_add_phrase(lx, d->name, KHO_LX_IND, i);
    add_folded(lx, d->code, strlen(d->code), KHO_LX_IND, i);
    const char *p = synonyms ? synonyms : "";
    while (*p) {
        const char *e = strchr(p, '|');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char *one = kho_xstrndup(p, n);
        kho_lexicon_add_phrase(lx, one, KHO_LX_IND, i);
        free(one);
        p += n + (e ? 1 : 0);
    }
    /* beginnings of the name of two words or more, without what is in brackets */
    kho_buf_t f = KHO_BUF_INIT;
    char *name = kho_xstrdup(d->name);
    char *br = strchr(name, '(');
    if (br)
        *br = 0;
    fold_words(name, &f);
    free(name);
    size_t words = 0;
    for (size_t k = 0; k <= f.len; k++)
        if (k == f.len || f.data[k] == ' ') {
            if (++words >= 2 && k < f.len)
                add_folded(lx, f.data, k, KHO_LX_INDPFX, i);
        }
    kho_buf_free(&f);
    return i;
}

void kho_lexicon_add_province_successor(kho_lexicon_t *lx, const char *old_code, const char *new_code)
{
    if (lx->nprov == sizeof lx->prov_succ / sizeof lx->prov_succ[0])
        return;
    snprintf(lx->prov_succ[lx->nprov][0], 8, "%s", old_code);
    snprintf(lx->prov_succ[lx->nprov][1], 8, "%s", new_code);
    lx->nprov++;
}

void kho_lexicon_set_home(kho_lexicon_t *lx, const char *province_code)
{
    snprintf(lx->home, sizeof lx->home, "%s", province_code ? province_code : "");
}

void kho_lexicon_add_successor(kho_lexicon_t *lx, int old_unit, int new_unit, bool whole)
{
    if (lx->nconv == lx->capconv) {
        lx->capconv = lx->capconv ? lx->capconv * 2 : 4096;
        lx->conv = kho_xrealloc(lx->conv, lx->capconv * sizeof *lx->conv);
    }
    lx->conv[lx->nconv++] = (conv_t){old_unit, new_unit, whole};
}

/* ---- lookups ------------------------------------------------------------------------- */

const kho_lx_hit_t *kho_lexicon_lookup(const kho_lexicon_t *lx, const char *phrase, size_t len, size_t *n)
{
    size_t gi;
    if (!kho_strmap_get(lx->phrases, phrase, len, &gi)) {
        *n = 0;
        return NULL;
    }
    *n = lx->groups[gi].n;
    return lx->groups[gi].v;
}

size_t kho_lexicon_max_words(const kho_lexicon_t *lx)
{
    return lx->max_words;
}

const kho_lx_unit_t *kho_lexicon_unit(const kho_lexicon_t *lx, int i)
{
    return i >= 0 && (size_t)i < lx->nunits ? &lx->units[i] : NULL;
}

const kho_lx_ind_t *kho_lexicon_ind(const kho_lexicon_t *lx, int i)
{
    return i >= 0 && (size_t)i < lx->ninds ? &lx->inds[i] : NULL;
}

size_t kho_lexicon_ninds(const kho_lexicon_t *lx)
{
    return lx->ninds;
}

int kho_lexicon_unit_by_code(const kho_lexicon_t *lx, const char *code, int era)
{
    size_t v;
    if (kho_strmap_get(lx->unit_codes[era == KHO_ERA_OLD], code, strlen(code), &v))
        return (int)v;
    return -1;
}

int kho_lexicon_ind_by_code(const kho_lexicon_t *lx, const char *code)
{
    for (size_t i = 0; i < lx->ninds; i++)
        if (!strcmp(lx->inds[i].code, code))
            return (int)i;
    return -1;
}

const char *kho_lexicon_home(const kho_lexicon_t *lx)
{
    return lx->home;
}

const char *kho_lexicon_province_now(const kho_lexicon_t *lx, const char *province_code, int era)
{
    if (era == KHO_ERA_CURRENT)
        return province_code;
    for (size_t i = 0; i < lx->nprov; i++)
        if (!strcmp(lx->prov_succ[i][0], province_code))
            return lx->prov_succ[i][1];
    return "";
}

size_t kho_lexicon_successors(const kho_lexicon_t *lx, int unit, int *out, size_t max, bool *whole)
{
    size_t n = 0;
    *whole = false;
    for (size_t i = 0; i < lx->nconv; i++)
        if (lx->conv[i].old_unit == unit) {
            if (n < max)
                out[n] = lx->conv[i].new_unit;
            *whole = lx->conv[i].whole;
            n++;
        }
    if (n != 1)
        *whole = false;
    return n;
}

/* ---- from the database ------------------------------------------------------------------- */

static void col_copy(char *dst, size_t size, kho_stmt_t *st, int i)
{
    const char *s = kho_stmt_col_text(st, i);
    snprintf(dst, size, "%s", s ? s : "");
}

static int load_units(kho_store_t *s, kho_lexicon_t *lx, kho_err_t *err)
{
    kho_stmt_t *st;
    int rc = kho_store_cached(s,
                              "SELECT era, level, code, name, name_lower, short_lower, coalesce(province_code, code)"
                              " FROM units ORDER BY era = 'old', level, code",
                              &st, err);
    if (rc != 0)
        return rc;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        kho_lx_unit_t u;
        memset(&u, 0, sizeof u);
        const char *era = kho_stmt_col_text(st, 0), *lv = kho_stmt_col_text(st, 1);
        u.era = era && !strcmp(era, "old") ? KHO_ERA_OLD : KHO_ERA_CURRENT;
        u.level = lv && !strcmp(lv, "province")   ? KHO_ULV_PROVINCE
                  : lv && !strcmp(lv, "district") ? KHO_ULV_DISTRICT
                                                  : KHO_ULV_COMMUNE;
        col_copy(u.code, sizeof u.code, st, 2);
        col_copy(u.name, sizeof u.name, st, 3);
        col_copy(u.name_lower, sizeof u.name_lower, st, 4);
        col_copy(u.short_lower, sizeof u.short_lower, st, 5);
        col_copy(u.province, sizeof u.province, st, 6);
        kho_lexicon_add_unit(lx, &u);
    }
    kho_stmt_reset(st);
    if (rc < 0)
        return rc;
    rc = kho_store_cached(s,
                          "SELECT old_code, new_code, relation = 'whole', old_province_code, new_province_code"
                          " FROM unit_conversion ORDER BY old_code, new_code",
                          &st, err);
    if (rc != 0)
        return rc;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        int o = kho_lexicon_unit_by_code(lx, kho_stmt_col_text(st, 0), KHO_ERA_OLD);
        int n = kho_lexicon_unit_by_code(lx, kho_stmt_col_text(st, 1), KHO_ERA_CURRENT);
        if (o >= 0 && n >= 0)
            kho_lexicon_add_successor(lx, o, n, kho_stmt_col_int(st, 2) != 0);
        const char *op = kho_stmt_col_text(st, 3), *np = kho_stmt_col_text(st, 4);
        if (op && np && !*kho_lexicon_province_now(lx, op, KHO_ERA_OLD))
            kho_lexicon_add_province_successor(lx, op, np);
    }
    kho_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

static int load_inds(kho_store_t *s, kho_lexicon_t *lx, kho_err_t *err)
{
    json_t *cat = NULL;
    int rc = kho_ind_catalogue_all(s, &cat, err);
    if (rc != 0)
        return rc;
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(cat, "indicators"), i, d)
    {
        kho_lx_ind_t x;
        memset(&x, 0, sizeof x);
        snprintf(x.code, sizeof x.code, "%s", json_string_value(json_object_get(d, "code")));
        snprintf(x.name, sizeof x.name, "%s", json_string_value(json_object_get(d, "name")));
        snprintf(x.uom, sizeof x.uom, "%s", json_string_value(json_object_get(d, "unit_of_measure")));
        const char *lv = json_string_value(json_object_get(d, "level"));
        const char *kind = json_string_value(json_object_get(d, "kind"));
        x.level = lv && !strcmp(lv, "province") ? KHO_ULV_PROVINCE : KHO_ULV_COMMUNE;
        x.rate = kind && !strcmp(kind, "rate");
        x.additive = kind && !strcmp(kind, "additive");
        x.higher_is_better = json_is_true(json_object_get(d, "higher_is_better"));
        x.decimals = (int)json_integer_value(json_object_get(d, "decimals"));
        kho_buf_t syn = KHO_BUF_INIT;
        size_t k;
        json_t *w;
        json_array_foreach(json_object_get(d, "synonyms"), k, w)
        {
            if (k)
                kho_buf_putc(&syn, '|');
            kho_buf_puts(&syn, json_string_value(w));
        }
        kho_lexicon_add_ind(lx, &x, syn.data ? syn.data : "");
        kho_buf_free(&syn);
    }
    json_decref(cat);
    return 0;
}

/* The steward's synonyms (table ask_synonyms: term, kind 'indicator'|'unit', code). */
static int load_synonyms(kho_store_t *s, kho_lexicon_t *lx, kho_err_t *err)
{
    kho_stmt_t *st;
    int rc = kho_store_cached(s, "SELECT term, kind, code FROM ask_synonyms ORDER BY term", &st, err);
    if (rc != 0)
        return rc;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        const char *term = kho_stmt_col_text(st, 0), *kind = kho_stmt_col_text(st, 1), *code = kho_stmt_col_text(st, 2);
        if (!term || !kind || !code)
            continue;
        if (!strcmp(kind, "indicator")) {
            int i = kho_lexicon_ind_by_code(lx, code);
            if (i >= 0)
                kho_lexicon_add_phrase(lx, term, KHO_LX_IND, i);
        } else {
            int u = kho_lexicon_unit_by_code(lx, code, KHO_ERA_CURRENT);
            if (u >= 0)
                kho_lexicon_add_phrase(lx, term, KHO_LX_UNIT, u);
        }
    }
    kho_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

static int load_home(kho_store_t *s, kho_lexicon_t *lx, kho_err_t *err)
{
    kho_stmt_t *st;
    int rc = kho_store_cached(s, "SELECT DISTINCT unit_code FROM ind_values WHERE level = 'province' LIMIT 2", &st, err);
    if (rc != 0)
        return rc;
    char first[8] = "";
    int n = 0;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW)
        if (n++ == 0)
            col_copy(first, sizeof first, st, 0);
    kho_stmt_reset(st);
    kho_lexicon_set_home(lx, n == 1 ? first : "");
    return rc < 0 ? rc : 0;
}

static kho_lexicon_t *lexicon_load(kho_store_t *s, kho_err_t *err)
{
    kho_lexicon_t *lx = kho_lexicon_new();
    int rc = load_units(s, lx, err);
    if (rc == 0)
        rc = load_inds(s, lx, err);
    if (rc == 0)
        rc = load_synonyms(s, lx, err);
    if (rc == 0)
        rc = load_home(s, lx, err);
    if (rc != 0) {
        kho_lexicon_free(lx);
        return NULL;
    }
    return lx;
}

static _Thread_local struct {
    kho_store_stamp_t stamp;
    kho_lexicon_t *lx;
} memo;

void kho_lexicon_thread_done(void)
{
    kho_lexicon_free(memo.lx);
    memo.lx = NULL;
    memo.stamp = (kho_store_stamp_t){0};
}

int kho_lexicon_shared(kho_store_t *s, const kho_lexicon_t **out, kho_err_t *err)
{
    kho_store_stamp_t now;
    int rc = kho_store_stamp(s, &now, err);
    if (rc != 0)
        return rc;
    if (!memo.lx || !kho_store_stamp_equal(&memo.stamp, &now)) {
        kho_lexicon_thread_done();
        memo.lx = lexicon_load(s, err);
        if (!memo.lx)
            return err->code ? err->code : KHO_EINTERNAL;
        memo.stamp = now;
    }
    *out = memo.lx;
    return 0;
}

/* ---- the steward's words ------------------------------------------------------------------- */

static bool code_exists(kho_store_t *w, const char *kind, const char *code, kho_err_t *err, int *rc)
{
    kho_stmt_t *st;
    *rc = kho_store_cached(w,
                           !strcmp(kind, "indicator") ? "SELECT 1 FROM ind_catalogue WHERE code = ?1"
                                                      : "SELECT 1 FROM units WHERE era = 'current' AND code = ?1",
                           &st, err);
    if (*rc != 0)
        return false;
    kho_stmt_bind_str(st, 1, code);
    int s = kho_stmt_step(st, err);
    kho_stmt_reset(st);
    if (s < 0)
        *rc = s;
    return s == KHO_STEP_ROW;
}

int kho_lexicon_load_synonyms(kho_store_t *w, const char *path, size_t *loaded, kho_err_t *err)
{
    kho_source_t src = {.path = path, .name = path};
    kho_reader_opts_t ro = {.format = KHO_FMT_CSV, .validate_utf8 = true, .nfc = true};
    kho_reader_t *r = NULL;
    *loaded = 0;
    int rc = kho_reader_open(&src, &ro, &r, err);
    if (rc != 0)
        return rc;
    static const char *const COLS[] = {"term", "kind", "code"};
    for (size_t k = 0; k < 3; k++)
        if (k >= kho_reader_ncols(r) || strcmp(kho_reader_label(r, k), COLS[k])) {
            kho_reader_free(r);
            return kho_err_setk(err, KHO_EINVAL, "bad_synonyms", "%s line 1: the header must be term,kind,code", path);
        }
    bool own = !kho_store_in_transaction(w);
    rc = own ? kho_store_begin(w, true, err) : 0;
    if (rc == 0)
        rc = kho_store_exec(w, "DELETE FROM ask_synonyms", err);
    kho_buf_t problems = KHO_BUF_INIT;
    size_t nprob = 0;
    kho_record_t *rec;
    while (rc == 0) {
        int n = kho_reader_next(r, &rec, err);
        if (n <= 0) {
            rc = n;
            break;
        }
        const char *term = rec->n > 0 ? rec->cells[0].s : "", *kind = rec->n > 1 ? rec->cells[1].s : "",
                   *code = rec->n > 2 ? rec->cells[2].s : "";
        const char *why = NULL;
        if (!term || !*term || strlen(term) > 100)
            why = "the term must have 1 to 100 bytes";
        else if (!kind || (strcmp(kind, "indicator") && strcmp(kind, "unit")))
            why = "kind must be indicator or unit";
        else if (!code || !code_exists(w, kind, code, err, &rc))
            why = !strcmp(kind, "indicator") ? "no indicator has this code" : "no current unit has this code";
        if (rc != 0)
            break;
        if (why) {
            if (nprob++ < 10)
                kho_buf_printf(&problems, "%sline %llu: %s ('%.40s')", nprob > 1 ? "; " : "",
                               (unsigned long long)rec->line, why, code ? code : "");
            continue;
        }
        kho_stmt_t *st;
        rc = kho_store_cached(w, "INSERT OR REPLACE INTO ask_synonyms(term, kind, code) VALUES (?1, ?2, ?3)", &st, err);
        if (rc != 0)
            break;
        kho_stmt_bind_str(st, 1, term);
        kho_stmt_bind_str(st, 2, kind);
        kho_stmt_bind_str(st, 3, code);
        rc = kho_stmt_step(st, err);
        kho_stmt_reset(st);
        rc = rc < 0 ? rc : 0;
        (*loaded)++;
    }
    if (rc == 0 && nprob)
        rc = kho_err_setk(err, KHO_EINVAL, "bad_synonyms", "%s: %zu problem%s, nothing loaded: %s", path, nprob,
                          nprob == 1 ? "" : "s", kho_buf_cstr(&problems));
    if (rc == 0 && own)
        rc = kho_store_commit(w, err);
    if (rc != 0 && own)
        kho_store_rollback(w);
    if (rc != 0)
        *loaded = 0;
    kho_buf_free(&problems);
    kho_reader_free(r);
    return rc;
}
