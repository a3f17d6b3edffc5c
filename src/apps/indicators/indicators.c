/* indicators — reading indicator definitions, values, forecasts, targets and
 * the dashboard view (see indicators.h). */
#include "apps/indicators/indicators.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "apps/indicators/forecast.h"
#include "apps/indicators/indpriv.h"
#include "core/buf.h"
#include "core/mem.h"
#include "security/access.h"

enum { LV_COMMUNE, LV_PROVINCE, LV_DISTRICT };
static const char *const LV_DB[] = {"commune", "province", "district_old"};
static const char *const LV_API[] = {"commune", "province", "district-before-2025"};

static double r4(double v)
{
    double r = round(v * 1e4) / 1e4;
    return r == 0 ? 0 : r; /* no "-0" */
}

/* ---- visibility ---------------------------------------------------------------------- */

#define VIS_MAX 16
typedef struct vis {
    const kho_ind_ctx_t *c;
    char slug[VIS_MAX][128];
    bool ok[VIS_MAX];
    size_t n;
} vis_t;

static bool slug_visible(vis_t *v, const char *slug, size_t len)
{
    for (size_t i = 0; i < v->n; i++)
        if (strlen(v->slug[i]) == len && !memcmp(v->slug[i], slug, len))
            return v->ok[i];
    char s[128];
    snprintf(s, sizeof s, "%.*s", (int)len, slug);
    kho_dsfacts_t f;
    kho_err_t e;
    bool ok = false;
    if (kho_access_facts(v->c->db, v->c->who, s, &f, &e) == 0)
        ok = kho_access_decide(v->c->who, &f, KHO_ACT_READ).code == 0;
    if (v->n < VIS_MAX) {
        snprintf(v->slug[v->n], sizeof v->slug[0], "%s", s);
        v->ok[v->n++] = ok;
    }
    return ok;
}

/* Every dataset the indicator's values come from is readable. */
static bool ind_visible(vis_t *v, const kho_ind_def_t *d)
{
    const char *p = d->sources;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n && !slug_visible(v, p, n))
            return false;
        p += n + (e ? 1 : 0);
    }
    return true;
}

static bool any_synthetic(kho_store_t *db, const kho_ind_def_t *d)
{
    kho_stmt_t *st;
    kho_err_t e;
    if (!*d->sources || kho_store_cached(db, "SELECT 1 FROM datasets WHERE synthetic AND instr(',' || ?1 || ',', ',' || slug || ',') > 0",
                                         &st, &e) != 0)
        return false;
    kho_stmt_bind_str(st, 1, d->sources);
    bool yes = kho_stmt_step(st, &e) == KHO_STEP_ROW;
    kho_stmt_reset(st);
    return yes;
}

/* Load the catalogue and find a visible indicator; KHO_ENOTFOUND otherwise. */
static int find_visible(const kho_ind_ctx_t *c, const char *code, const kho_ind_cat_t **catp, vis_t *vis, int *idx,
                        kho_err_t *err)
{
    int rc = kho_ind_cat_shared(c->db, catp, err);
    if (rc != 0)
        return rc;
    const kho_ind_cat_t *cat = *catp;
    vis->c = c;
    vis->n = 0;
    *idx = kho_ind_cat_find(cat, code);
    if (*idx < 0 || !ind_visible(vis, &cat->v[*idx])) {
        return kho_err_setk(err, KHO_ENOTFOUND, "unknown_indicator",
                            "no indicator has the code '%.64s' (GET /api/v1/indicators lists them)", code ? code : "");
    }
    return 0;
}

static json_t *def_json(const kho_ind_cat_t *cat, const kho_ind_def_t *d)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:b,s:s}", "code", d->code, "name", d->name, "name_en",
                          d->name_en, "unit_of_measure", d->uom, "kind", kho_ind_kind_name(d->kind), "level",
                          d->level == KHO_LVL_PROVINCE ? "province" : "commune", "frequency",
                          d->freq == KHO_FREQ_YEAR ? "year" : d->freq == KHO_FREQ_QUARTER ? "quarter" : "month",
                          "decimals", d->decimals, "higher_is_better", d->higher_is_better, "description",
                          d->description);
    if (d->num >= 0 && d->den >= 0) {
        json_object_set_new(o, "numerator", json_string(cat->v[d->num].code));
        json_object_set_new(o, "denominator", json_string(cat->v[d->den].code));
        json_object_set_new(o, "scale", json_real(d->scale));
        json_object_set_new(o, "aggregation", json_string("tính lại từ tử số và mẫu số (không lấy trung bình)"));
    } else
        json_object_set_new(o, "aggregation",
                            json_string(d->kind == KHO_KIND_ADDITIVE
                                            ? (d->level == KHO_LVL_COMMUNE ? "cộng các xã, phường" : "báo cáo cấp tỉnh")
                                            : "không cộng dồn"));
    json_t *syn = json_array();
    const char *p = d->synonyms;
    while (*p) {
        const char *e = strchr(p, '|');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n)
            json_array_append_new(syn, json_stringn(p, n));
        p += n + (e ? 1 : 0);
    }
    json_object_set_new(o, "synonyms", syn);
    return o;
}

int kho_ind_list(const kho_ind_ctx_t *c, json_t **out, kho_err_t *err)
{
    const kho_ind_cat_t *cat = NULL;
    int rc = kho_ind_cat_shared(c->db, &cat, err);
    if (rc != 0)
        return rc;
    vis_t vis = {.c = c};
    json_t *arr = json_array();
    for (size_t i = 0; i < cat->n; i++)
        if (ind_visible(&vis, &cat->v[i]))
            json_array_append_new(arr, def_json(cat, &cat->v[i]));
    *out = json_pack("{s:I,s:o}", "count", (json_int_t)json_array_size(arr), "indicators", arr);
    return 0;
}

int kho_ind_catalogue_all(kho_store_t *db, json_t **out, kho_err_t *err)
{
    const kho_ind_cat_t *cat = NULL;
    int rc = kho_ind_cat_shared(db, &cat, err);
    if (rc != 0)
        return rc;
    json_t *arr = json_array();
    for (size_t i = 0; i < cat->n; i++)
        json_array_append_new(arr, def_json(cat, &cat->v[i]));
    *out = json_pack("{s:I,s:o}", "count", (json_int_t)json_array_size(arr), "indicators", arr);
    return 0;
}

int kho_ind_sources(const kho_ind_ctx_t *c, const char *code, json_t **out, kho_err_t *err)
{
    const kho_ind_cat_t *cat = NULL;
    vis_t vis;
    int idx;
    int rc = find_visible(c, code, &cat, &vis, &idx, err);
    if (rc != 0)
        return rc;
    kho_stmt_t *st;
    rc = kho_store_cached(c->db,
                          "SELECT slug, current_version FROM datasets WHERE current_version IS NOT NULL"
                          " AND instr(',' || ?1 || ',', ',' || slug || ',') > 0 ORDER BY slug",
                          &st, err);
    if (rc != 0)
        return rc;
    json_t *arr = json_array();
    kho_stmt_bind_str(st, 1, cat->v[idx].sources);
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW)
        json_array_append_new(arr, json_pack("{s:s,s:I}", "dataset", kho_stmt_col_text(st, 0), "version",
                                             (json_int_t)kho_stmt_col_int(st, 1)));
    kho_stmt_reset(st);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = json_pack("{s:o}", "sources", arr);
    return 0;
}

int kho_ind_get(const kho_ind_ctx_t *c, const char *code, json_t **out, kho_err_t *err)
{
    const kho_ind_cat_t *cat = NULL;
    vis_t vis;
    int idx;
    int rc = find_visible(c, code, &cat, &vis, &idx, err);
    if (rc != 0)
        return rc;
    json_t *o = def_json(cat, &cat->v[idx]);
    json_t *cov = json_object(), *srcs = json_array();
    kho_stmt_t *st;
    rc = kho_store_cached(c->db,
                          "SELECT level, count(DISTINCT unit_code), count(*), sum(converted), min(period), max(period)"
                          " FROM ind_values WHERE indicator = ?1 GROUP BY level",
                          &st, err);
    if (rc == 0) {
        kho_stmt_bind_str(st, 1, code);
        while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
            const char *lv = kho_stmt_col_text(st, 0);
            json_object_set_new(cov, !strcmp(lv, "district_old") ? "district-before-2025" : lv,
                                json_pack("{s:I,s:I,s:I,s:s,s:s}", "units", (json_int_t)kho_stmt_col_int(st, 1),
                                          "values", (json_int_t)kho_stmt_col_int(st, 2), "converted",
                                          (json_int_t)kho_stmt_col_int(st, 3), "from", kho_stmt_col_text(st, 4), "to",
                                          kho_stmt_col_text(st, 5)));
        }
        kho_stmt_reset(st);
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0)
        rc = kho_store_cached(c->db,
                              "SELECT source_dataset, max(source_version) FROM ind_values WHERE indicator = ?1"
                              " AND source_dataset != '' GROUP BY source_dataset",
                              &st, err);
    if (rc == 0) {
        kho_stmt_bind_str(st, 1, code);
        while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW)
            json_array_append_new(srcs, json_pack("{s:s,s:I}", "dataset", kho_stmt_col_text(st, 0), "version",
                                                  (json_int_t)kho_stmt_col_int(st, 1)));
        kho_stmt_reset(st);
        rc = rc < 0 ? rc : 0;
    }
    json_object_set_new(o, "coverage", cov);
    json_object_set_new(o, "sources", srcs);
    json_object_set_new(o, "synthetic", json_boolean(any_synthetic(c->db, &cat->v[idx])));
    if (rc != 0) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}

/* ---- units ------------------------------------------------------------------------------ */

typedef struct runit {
    char code[8];
    int level;
} runit_t;

#define MAX_UNITS 64

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

static bool unit_exists(kho_store_t *db, const char *era, const char *level, const char *code, char *name,
                        size_t namesz)
{
    kho_stmt_t *st;
    kho_err_t e;
    if (kho_store_cached(db, "SELECT name FROM units WHERE era = ?1 AND level = ?2 AND code = ?3", &st, &e) != 0)
        return false;
    kho_stmt_bind_str(st, 1, era);
    kho_stmt_bind_str(st, 2, level);
    kho_stmt_bind_str(st, 3, code);
    bool ok = kho_stmt_step(st, &e) == KHO_STEP_ROW;
    if (ok && name)
        snprintf(name, namesz, "%s", kho_stmt_col_text(st, 0));
    kho_stmt_reset(st);
    return ok;
}

/* Resolve one code to today's unit(s), appending to u; pre-2025 codes add a note to `resolved`. */
static int resolve_one(kho_store_t *db, const char *code, runit_t *u, size_t *n, json_t *resolved, kho_err_t *err)
{
    size_t len = strlen(code);
    char name[256];
    if (!all_digits(code, len) || (len != 2 && len != 3 && len != 5))
        return kho_err_setk(err, KHO_EINVAL, "bad_unit",
                            "'%.16s' is not a unit code: give a 2-digit province, a 5-digit commune or a 3-digit "
                            "pre-2025 district code",
                            code);
    if (*n >= MAX_UNITS)
        return kho_err_set(err, KHO_EINVAL, "at most %d units in one request", MAX_UNITS);
    if (len == 3) {
        if (!unit_exists(db, "old", "district", code, NULL, 0))
            return kho_err_setk(err, KHO_ENOTFOUND, "unknown_unit", "no pre-2025 district has the code '%s'", code);
        snprintf(u[*n].code, sizeof u[0].code, "%s", code);
        u[(*n)++].level = LV_DISTRICT;
        return 0;
    }
    const char *lv = len == 2 ? "province" : "commune";
    if (unit_exists(db, "current", lv, code, NULL, 0)) {
        snprintf(u[*n].code, sizeof u[0].code, "%s", code);
        u[(*n)++].level = len == 2 ? LV_PROVINCE : LV_COMMUNE;
        return 0;
    }
    if (!unit_exists(db, "old", lv, code, name, sizeof name))
        return kho_err_setk(err, KHO_ENOTFOUND, "unknown_unit", "no %s has the code '%s'",
                            len == 2 ? "province" : "commune", code);
    kho_stmt_t *st;
    int rc = kho_store_cached(db,
                              len == 2 ? "SELECT DISTINCT new_province_code, u.name FROM unit_conversion c JOIN units u"
                                         " ON u.era = 'current' AND u.level = 'province' AND u.code = c.new_province_code"
                                         " WHERE c.old_province_code = ?1 ORDER BY 1"
                                       : "SELECT new_code, new_name FROM unit_conversion WHERE old_code = ?1 ORDER BY 1",
                              &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, code);
    json_t *succ = json_array();
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW && *n < MAX_UNITS) {
        snprintf(u[*n].code, sizeof u[0].code, "%s", kho_stmt_col_text(st, 0));
        u[(*n)++].level = len == 2 ? LV_PROVINCE : LV_COMMUNE;
        json_array_append_new(succ, json_pack("{s:s,s:s}", "code", kho_stmt_col_text(st, 0), "name",
                                              kho_stmt_col_text(st, 1)));
    }
    kho_stmt_reset(st);
    if (rc < 0) {
        json_decref(succ);
        return rc;
    }
    json_array_append_new(resolved,
                          json_pack("{s:s,s:s,s:s,s:o,s:s}", "code", code, "name", name, "era", "before-2025",
                                    "successors", succ, "note",
                                    "mã đơn vị trước 1/7/2025, đã chuyển sang đơn vị kế thừa"));
    return 0;
}

static int resolve_list(kho_store_t *db, const char *spec, runit_t *u, size_t *n, json_t *resolved, kho_err_t *err)
{
    *n = 0;
    const char *p = spec;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char code[16];
        if (len == 0 || len >= sizeof code)
            return kho_err_setk(err, KHO_EINVAL, "bad_unit", "unit: '%.*s' is not a unit code", (int)(len > 16 ? 16 : len), p);
        memcpy(code, p, len);
        code[len] = 0;
        int rc = resolve_one(db, code, u, n, resolved, err);
        if (rc != 0)
            return rc;
        p += len + (e ? 1 : 0);
    }
    return 0;
}

static int level_parse(const char *s, int *out, kho_err_t *err)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, LV_API[i])) {
            *out = i;
            return 0;
        }
    return kho_err_setk(err, KHO_EINVAL, "bad_level", "level must be commune, province or district-before-2025, not '%.32s'", s);
}

static int check_period(const kho_ind_def_t *d, const char *name, const char *p, kho_err_t *err)
{
    if (p && !kho_ind_period_ok(d->freq, p))
        return kho_err_setk(err, KHO_EINVAL, "bad_period", "%s: '%.16s' is not a period of %s (%s)", name, p, d->code,
                            d->freq == KHO_FREQ_YEAR ? "YYYY" : d->freq == KHO_FREQ_QUARTER ? "YYYY-Qn" : "YYYY-MM");
    return 0;
}

/* The name of a unit at a level. */
static void unit_name(kho_store_t *db, int level, const char *code, char *out, size_t size)
{
    if (!unit_exists(db, level == LV_DISTRICT ? "old" : "current", level == LV_DISTRICT ? "district" : LV_DB[level], code,
                     out, size))
        snprintf(out, size, "%s", code);
}

/* ---- values -------------------------------------------------------------------------------- */

typedef struct vq {
    int level;
    json_t *codes;          /* JSON array of unit codes, or NULL */
    const char *within;     /* a province: its communes or its old districts */
    const char *from, *to, *period;
    int rank;               /* 0, 1 desc, -1 asc */
    long limit;
} vq_t;

static json_t *value_row(kho_stmt_t *st)
{
    return json_pack("{s:s,s:s,s:s,s:f,s:b,s:s}", "unit", kho_stmt_col_text(st, 0), "unit_name",
                     kho_stmt_col_text(st, 1), "period", kho_stmt_col_text(st, 2), "value",
                     r4(kho_stmt_col_double(st, 3)), "converted", (int)kho_stmt_col_int(st, 4), "method",
                     kho_stmt_col_text(st, 5));
}

/* Values of indicator `code` matching q, appended to arr. */
static int query_values(kho_store_t *db, const char *code, const vq_t *q, json_t *arr, kho_err_t *err)
{
    kho_buf_t sql = KHO_BUF_INIT;
    /* within a province the join is an inner one; CROSS JOIN keeps ind_values outermost, so SQLite walks
     * its (indicator, level, period, value) index instead of looking up every commune (4x faster) */
    kho_buf_printf(&sql,
                   "SELECT v.unit_code, coalesce(u.name, v.unit_code), v.period, v.value, v.converted, v.method"
                   " FROM ind_values v %s units u ON u.era = ?9 AND u.level = ?10 AND u.code = v.unit_code"
                   " WHERE v.indicator = ?1 AND v.level = ?2",
                   q->within ? "CROSS JOIN" : "LEFT JOIN");
    if (q->codes)
        kho_buf_puts(&sql, " AND v.unit_code IN (SELECT value FROM json_each(?3))");
    if (q->within && q->level == LV_COMMUNE)
        kho_buf_puts(&sql, " AND u.province_code = ?4");
    if (q->within && q->level == LV_DISTRICT)
        kho_buf_puts(&sql, " AND u.province_code IN (SELECT DISTINCT old_province_code FROM unit_conversion"
                           " WHERE new_province_code = ?4)");
    if (q->from)
        kho_buf_puts(&sql, " AND v.period >= ?5");
    if (q->to)
        kho_buf_puts(&sql, " AND v.period <= ?6");
    if (q->period)
        kho_buf_puts(&sql, " AND v.period = ?7");
    if (q->rank)
        kho_buf_printf(&sql, " ORDER BY v.value %s, v.unit_code", q->rank > 0 ? "DESC" : "ASC");
    else
        kho_buf_puts(&sql, " ORDER BY v.unit_code, v.period");
    if (q->limit > 0)
        kho_buf_puts(&sql, " LIMIT ?8");
    kho_stmt_t *st;
    int rc = kho_store_cached(db, sql.data, &st, err);
    kho_buf_free(&sql);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, code);
    kho_stmt_bind_str(st, 2, LV_DB[q->level]);
    if (q->codes) {
        char *j = json_dumps(q->codes, JSON_COMPACT);
        kho_stmt_bind_str(st, 3, j);
        free(j);
    }
    if (q->within)
        kho_stmt_bind_str(st, 4, q->within);
    if (q->from)
        kho_stmt_bind_str(st, 5, q->from);
    if (q->to)
        kho_stmt_bind_str(st, 6, q->to);
    if (q->period)
        kho_stmt_bind_str(st, 7, q->period);
    if (q->limit > 0)
        kho_stmt_bind_int(st, 8, q->limit);
    kho_stmt_bind_str(st, 9, q->level == LV_DISTRICT ? "old" : "current");
    kho_stmt_bind_str(st, 10, q->level == LV_DISTRICT ? "district" : LV_DB[q->level]);
    long n = 0, rank = 0;
    double prev = NAN;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        json_t *r = value_row(st);
        n++;
        if (q->rank) {
            double v = kho_stmt_col_double(st, 3);
            if (!(v == prev))
                rank = n; /* competition ranking: 1, 2, 2, 4 */
            prev = v;
            json_object_set_new(r, "rank", json_integer(rank));
        }
        json_array_append_new(arr, r);
    }
    kho_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

/* The latest period with values of `code` at a level (within a province or not). */
static int latest_period(kho_store_t *db, const char *code, int level, char out[16], kho_err_t *err)
{
    kho_stmt_t *st;
    int rc = kho_store_cached(db, "SELECT max(period) FROM ind_values WHERE indicator = ?1 AND level = ?2", &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, code);
    kho_stmt_bind_str(st, 2, LV_DB[level]);
    out[0] = 0;
    if ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW && kho_stmt_col_text(st, 0))
        snprintf(out, 16, "%s", kho_stmt_col_text(st, 0));
    kho_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

int kho_ind_values(const kho_ind_ctx_t *c, const char *code, const kho_ind_values_q_t *q, json_t **out,
                   kho_err_t *err)
{
    const kho_ind_cat_t *cat = NULL;
    vis_t vis;
    int idx;
    int rc = find_visible(c, code, &cat, &vis, &idx, err);
    if (rc != 0)
        return rc;
    kho_ind_def_t *d = &cat->v[idx];
    json_t *resolved = json_array(), *values = json_array();
    runit_t u[MAX_UNITS];
    size_t nu = 0;
    int level = -1;
    vq_t v = {.from = q->from, .to = q->to, .period = q->period, .limit = q->limit};
    char latest[16];
    if (q->level)
        rc = level_parse(q->level, &level, err);
    if (rc == 0)
        rc = check_period(d, "from", q->from, err);
    if (rc == 0)
        rc = check_period(d, "to", q->to, err);
    if (rc == 0)
        rc = check_period(d, "period", q->period, err);
    if (rc == 0 && q->rank && strcmp(q->rank, "desc") && strcmp(q->rank, "asc"))
        rc = kho_err_setk(err, KHO_EINVAL, "bad_rank", "rank must be desc or asc");
    if (rc == 0 && q->units && *q->units)
        rc = resolve_list(c->db, q->units, u, &nu, resolved, err);
    if (rc == 0 && nu) {
        int ulevel = u[0].level;
        for (size_t i = 1; i < nu && rc == 0; i++)
            if (u[i].level != ulevel)
                rc = kho_err_setk(err, KHO_EINVAL, "mixed_levels",
                                  "unit: ask for units of one level at a time (communes, provinces or old districts)");
        if (rc == 0 && level < 0)
            level = ulevel;
        if (rc == 0 && level != ulevel) {
            if (ulevel == LV_PROVINCE && nu == 1 && level != LV_PROVINCE)
                v.within = u[0].code; /* the communes (or old districts) of a province */
            else
                rc = kho_err_setk(err, KHO_EINVAL, "bad_level",
                                  "level %s does not fit the units asked for (a province's communes: unit=PROVINCE&level=commune)",
                                  LV_API[level]);
        }
        if (rc == 0 && !v.within) {
            v.codes = json_array();
            for (size_t i = 0; i < nu; i++)
                json_array_append_new(v.codes, json_string(u[i].code));
        }
    }
    if (rc == 0 && level < 0)
        level = d->level == KHO_LVL_PROVINCE ? LV_PROVINCE : LV_COMMUNE;
    if (rc == 0 && q->rank) {
        v.rank = !strcmp(q->rank, "desc") ? 1 : -1;
        if (!v.period) {
            rc = latest_period(c->db, code, level, latest, err);
            v.period = latest[0] ? latest : NULL;
        }
    }
    v.level = level;
    if (rc == 0 && (!q->rank || v.period))
        rc = query_values(c->db, code, &v, values, err);
    if (rc == 0) {
        *out = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "indicator", d->code, "name", d->name, "unit_of_measure", d->uom,
                         "level", LV_API[level], "values", values, "resolved", resolved);
        if (v.rank)
            json_object_set_new(*out, "period", v.period ? json_string(v.period) : json_null());
        json_object_set_new(*out, "count", json_integer((json_int_t)json_array_size(values)));
    } else {
        json_decref(values);
        json_decref(resolved);
    }
    json_decref(v.codes);
    return rc;
}

/* ---- series and forecasts ----------------------------------------------------------------- */

typedef struct series {
    char (*period)[16];
    double *v;
    bool *conv;
    char **method;
    size_t n;
} series_t;

static void series_free(series_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->method[i]);
    free(s->period);
    free(s->v);
    free(s->conv);
    free(s->method);
    memset(s, 0, sizeof *s);
}

static int load_series(kho_store_t *db, const char *code, int level, const char *unit, series_t *s, kho_err_t *err)
{
    memset(s, 0, sizeof *s);
    kho_stmt_t *st;
    int rc = kho_store_cached(db,
                              "SELECT period, value, converted, method FROM ind_values WHERE indicator = ?1 AND"
                              " level = ?2 AND unit_code = ?3 ORDER BY period",
                              &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, code);
    kho_stmt_bind_str(st, 2, LV_DB[level]);
    kho_stmt_bind_str(st, 3, unit);
    size_t cap = 0;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        if (s->n == cap) {
            cap = cap ? cap * 2 : 16;
            s->period = kho_xrealloc(s->period, cap * sizeof *s->period);
            s->v = kho_xrealloc(s->v, cap * sizeof *s->v);
            s->conv = kho_xrealloc(s->conv, cap * sizeof *s->conv);
            s->method = kho_xrealloc(s->method, cap * sizeof *s->method);
        }
        snprintf(s->period[s->n], 16, "%s", kho_stmt_col_text(st, 0));
        s->v[s->n] = kho_stmt_col_double(st, 1);
        s->conv[s->n] = kho_stmt_col_int(st, 2) != 0;
        s->method[s->n] = kho_xstrdup(kho_stmt_col_text(st, 3));
        s->n++;
    }
    kho_stmt_reset(st);
    if (rc < 0)
        series_free(s);
    return rc < 0 ? rc : 0;
}

static json_t *history_json(const series_t *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++) {
        json_t *p = json_pack("{s:s,s:f,s:b}", "period", s->period[i], "value", r4(s->v[i]), "converted", s->conv[i]);
        if (s->method[i][0])
            json_object_set_new(p, "method", json_string(s->method[i]));
        json_array_append_new(a, p);
    }
    return a;
}

/* The forecast of a series as JSON, or NULL (with err) when it cannot be made. The
 * series must be contiguous; a gap makes it refuse. */
static json_t *forecast_json(const kho_ind_def_t *d, const series_t *s, long horizon, kho_forecast_t *fc,
                             kho_err_t *err)
{
    if (s->n < 2) {
        kho_err_setk(err, KHO_EINVAL, "too_few_values", "%s has %zu value%s for this unit; a forecast needs at least 2",
                     d->code, s->n, s->n == 1 ? "" : "s");
        return NULL;
    }
    for (size_t i = 1; i < s->n; i++)
        if (kho_ind_period_diff(d->freq, s->period[i - 1], s->period[i]) != 1) {
            kho_err_setk(err, KHO_EINVAL, "gap_in_series", "%s has no value for the period after %s; a forecast needs an unbroken series",
                         d->code, s->period[i - 1]);
            return NULL;
        }
    if (kho_forecast(s->v, s->n, (size_t)horizon, fc, err) != 0)
        return NULL;
    /* a quantity that was never negative (counts, amounts, shares) is not forecast below 0, nor a
     * percentage of a whole above 100 */
    double lo = -INFINITY, hi = INFINITY;
    bool nonneg = true;
    for (size_t i = 0; i < s->n; i++)
        nonneg &= s->v[i] >= 0;
    if (nonneg)
        lo = 0;
    if (d->kind == KHO_KIND_RATE && d->scale == 100 && nonneg)
        hi = 100;
    for (long h = 0; h < horizon; h++) {
        kho_fc_point_t *p = &fc->points[h];
        double *f[] = {&p->value, &p->lo80, &p->hi80, &p->lo95, &p->hi95};
        for (int k = 0; k < 5; k++)
            *f[k] = fmin(fmax(*f[k], lo), hi);
    }
    json_t *pts = json_array();
    for (long h = 0; h < horizon; h++) {
        char per[16];
        kho_ind_period_add(d->freq, s->period[s->n - 1], (int)h + 1, per);
        kho_fc_point_t *p = &fc->points[h];
        json_array_append_new(pts, json_pack("{s:s,s:f,s:f,s:f,s:f,s:f}", "period", per, "value", r4(p->value), "lo80",
                                             r4(p->lo80), "hi80", r4(p->hi80), "lo95", r4(p->lo95), "hi95",
                                             r4(p->hi95)));
    }
    json_t *o = json_pack("{s:s,s:o,s:o}", "method", fc->method, "mape",
                          isnan(fc->mape) ? json_null() : json_real(r4(fc->mape)), "points", pts);
    if (!strcmp(fc->method, "holt")) {
        json_object_set_new(o, "alpha", json_real(r4(fc->alpha)));
        json_object_set_new(o, "beta", json_real(r4(fc->beta)));
        json_object_set_new(o, "description",
                            json_string("Holt (xu hướng tuyến tính), tham số ước lượng bằng bình phương tối thiểu; "
                                        "khoảng dự báo 80% và 95%; MAPE kiểm định trên 3 kỳ cuối"));
    } else
        json_object_set_new(o, "description", json_string("Xu hướng trung bình (chuỗi quá ngắn cho Holt)"));
    json_object_set_new(o, "backtest_periods", json_integer((json_int_t)fc->backtest_n));
    return o;
}

/* Exactly one of today's units for a forecast or a target. */
static int resolve_single(kho_store_t *db, const char *code, runit_t *u, json_t *resolved, kho_err_t *err)
{
    runit_t many[MAX_UNITS];
    size_t n = 0;
    if (!code || !*code)
        return kho_err_setk(err, KHO_EINVAL, "missing_unit", "unit: give one unit code (33 is the province)");
    int rc = resolve_one(db, code, many, &n, resolved, err);
    if (rc != 0)
        return rc;
    if (n != 1) {
        kho_buf_t b = KHO_BUF_INIT;
        for (size_t i = 0; i < n; i++)
            kho_buf_printf(&b, "%s%s", i ? ", " : "", many[i].code);
        rc = kho_err_setk(err, KHO_EINVAL, "ambiguous_unit",
                          "unit %s (before 2025) went into %zu of today's units (%s): choose one", code, n, b.data);
        kho_buf_free(&b);
        return rc;
    }
    *u = many[0];
    return 0;
}

int kho_ind_forecast(const kho_ind_ctx_t *c, const char *code, const char *unit, long horizon, json_t **out,
                     kho_err_t *err)
{
    const kho_ind_cat_t *cat = NULL;
    vis_t vis;
    int idx;
    int rc = find_visible(c, code, &cat, &vis, &idx, err);
    if (rc != 0)
        return rc;
    json_t *resolved = json_array();
    runit_t u;
    series_t s = {0};
    rc = resolve_single(c->db, unit, &u, resolved, err);
    if (rc == 0)
        rc = load_series(c->db, code, u.level, u.code, &s, err);
    json_t *fo = NULL;
    kho_forecast_t fc;
    if (rc == 0 && !(fo = forecast_json(&cat->v[idx], &s, horizon, &fc, err)))
        rc = err->code;
    if (rc == 0) {
        char name[256];
        unit_name(c->db, u.level, u.code, name, sizeof name);
        json_t *head = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "indicator", code, "name", cat->v[idx].name,
                                 "unit_of_measure", cat->v[idx].uom, "unit", u.code, "unit_name", name, "history",
                                 history_json(&s), "resolved", resolved);
        json_object_update(head, fo); /* the head's keys first, then the forecast's */
        json_decref(fo);
        *out = head;
    } else
        json_decref(resolved);
    series_free(&s);
    return rc;
}

/* ---- targets ------------------------------------------------------------------------------- */

static const char *status_label(const char *s)
{
    if (!strcmp(s, "on_track"))
        return "Đúng hướng";
    if (!strcmp(s, "at_risk"))
        return "Có nguy cơ không đạt";
    if (!strcmp(s, "off_track"))
        return "Chệch hướng";
    if (!strcmp(s, "achieved"))
        return "Đã đạt";
    if (!strcmp(s, "missed"))
        return "Không đạt";
    return "Chưa đủ số liệu";
}

/* One target's progress and status. */
static json_t *target_json(kho_store_t *db, const kho_ind_def_t *d, const char *unit, const char *period, double target,
                           bool increase, const char *note)
{
    int level = strlen(unit) == 2 ? LV_PROVINCE : LV_COMMUNE;
    char name[256];
    unit_name(db, level, unit, name, sizeof name);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:f,s:s,s:s}", "indicator", d->code, "name", d->name,
                          "unit_of_measure", d->uom, "unit", unit, "unit_name", name, "period", period, "target",
                          r4(target), "direction", increase ? "increase" : "decrease", "note", note);
    series_t s;
    kho_err_t e;
    const char *status = "no_data";
    if (load_series(db, d->code, level, unit, &s, &e) == 0 && s.n) {
        size_t last = s.n; /* the latest value at or before the target period */
        for (size_t i = 0; i < s.n; i++)
            if (strcmp(s.period[i], period) <= 0)
                last = i;
        if (last < s.n) {
            double base = s.v[0], latest = s.v[last];
            json_object_set_new(o, "baseline", json_pack("{s:s,s:f}", "period", s.period[0], "value", r4(base)));
            json_object_set_new(o, "latest", json_pack("{s:s,s:f}", "period", s.period[last], "value", r4(latest)));
            if (target != base)
                json_object_set_new(o, "progress", json_real(r4((latest - base) / (target - base))));
            if (!strcmp(s.period[last], period)) {
                bool met = increase ? latest >= target : latest <= target;
                status = met ? "achieved" : "missed";
            } else {
                int h = kho_ind_period_diff(d->freq, s.period[last], period);
                series_t part = s;
                part.n = last + 1;
                kho_forecast_t fc;
                json_t *fo = h >= 1 && h <= KHO_FORECAST_MAX_HORIZON ? forecast_json(d, &part, h, &fc, &e) : NULL;
                if (fo) {
                    kho_fc_point_t *p = &fc.points[h - 1];
                    json_object_set_new(o, "forecast",
                                        json_pack("{s:s,s:s,s:f,s:f,s:f,s:o}", "method", fc.method, "period", period,
                                                  "value", r4(p->value), "lo80", r4(p->lo80), "hi80", r4(p->hi80),
                                                  "mape", isnan(fc.mape) ? json_null() : json_real(r4(fc.mape))));
                    json_decref(fo);
                    if (increase)
                        status = p->value >= target ? "on_track" : p->hi80 >= target ? "at_risk" : "off_track";
                    else
                        status = p->value <= target ? "on_track" : p->lo80 <= target ? "at_risk" : "off_track";
                }
            }
        }
    }
    series_free(&s);
    json_object_set_new(o, "status", json_string(status));
    json_object_set_new(o, "status_label", json_string(status_label(status)));
    return o;
}

/* Targets of indicator idx (or of every visible indicator when idx < 0) for unit (NULL: all). */
static int targets_into(const kho_ind_ctx_t *c, const kho_ind_cat_t *cat, vis_t *vis, int idx, const char *unit,
                        json_t *arr, kho_err_t *err)
{
    kho_stmt_t *st;
    int rc = kho_store_cached(c->db,
                              "SELECT indicator, unit_code, period, value, direction, note FROM ind_targets"
                              " WHERE (?1 IS NULL OR indicator = ?1) AND (?2 IS NULL OR unit_code = ?2)"
                              " ORDER BY indicator, unit_code, period",
                              &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, idx >= 0 ? cat->v[idx].code : NULL);
    kho_stmt_bind_str(st, 2, unit);
    typedef struct {
        int ind;
        char unit[8], period[16], note[512];
        double v;
        bool inc;
    } trow_t;
    trow_t rows[64];
    size_t n = 0;
    while (n < 64 && (rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        int i = kho_ind_cat_find(cat, kho_stmt_col_text(st, 0));
        if (i < 0 || !ind_visible(vis, &cat->v[i]))
            continue;
        rows[n].ind = i;
        snprintf(rows[n].unit, sizeof rows[n].unit, "%s", kho_stmt_col_text(st, 1));
        snprintf(rows[n].period, sizeof rows[n].period, "%s", kho_stmt_col_text(st, 2));
        rows[n].v = kho_stmt_col_double(st, 3);
        rows[n].inc = !strcmp(kho_stmt_col_text(st, 4), "increase");
        snprintf(rows[n].note, sizeof rows[n].note, "%s", kho_stmt_col_text(st, 5));
        n++;
    }
    kho_stmt_reset(st); /* target_json reuses cached statements */
    if (rc < 0)
        return rc;
    for (size_t k = 0; k < n; k++)
        json_array_append_new(arr, target_json(c->db, &cat->v[rows[k].ind], rows[k].unit, rows[k].period, rows[k].v,
                                               rows[k].inc, rows[k].note));
    return 0;
}

int kho_ind_targets(const kho_ind_ctx_t *c, const char *code, const char *unit, json_t **out, kho_err_t *err)
{
    const kho_ind_cat_t *cat = NULL;
    vis_t vis;
    int idx;
    int rc = find_visible(c, code, &cat, &vis, &idx, err);
    if (rc != 0)
        return rc;
    json_t *resolved = json_array(), *arr = json_array();
    runit_t u;
    if (unit && *unit)
        rc = resolve_single(c->db, unit, &u, resolved, err);
    if (rc == 0)
        rc = targets_into(c, cat, &vis, idx, unit && *unit ? u.code : NULL, arr, err);
    if (rc == 0)
        *out = json_pack("{s:s,s:s,s:o,s:o}", "indicator", cat->v[idx].code, "name", cat->v[idx].name, "targets", arr,
                         "resolved", resolved);
    else {
        json_decref(arr);
        json_decref(resolved);
    }
    return rc;
}

/* ---- the dashboard ------------------------------------------------------------------------ */

int kho_ind_dashboard(const kho_ind_ctx_t *c, const char *unit, const char *period, const char *indicator,
                      json_t **out, kho_err_t *err)
{
    const kho_ind_cat_t *cat = NULL;
    int rc = kho_ind_cat_shared(c->db, &cat, err);
    if (rc != 0)
        return rc;
    vis_t vis = {.c = c};
    json_t *resolved = json_array();
    runit_t u;
    rc = resolve_single(c->db, unit && *unit ? unit : "33", &u, resolved, err);
    if (rc == 0 && u.level == LV_DISTRICT)
        rc = kho_err_setk(err, KHO_EINVAL, "bad_unit", "the dashboard shows a province or a commune; old districts are in "
                                                       "the values API (level=district-before-2025)");
    if (rc != 0) {
        json_decref(resolved);
        return rc;
    }
    char name[256], prov[8] = "";
    unit_name(c->db, u.level, u.code, name, sizeof name);
    json_t *parent = json_null(), *children = json_array();
    kho_stmt_t *st;
    if (u.level == LV_COMMUNE) {
        rc = kho_store_cached(c->db, "SELECT province_code FROM units WHERE era = 'current' AND level = 'commune' AND code = ?1",
                              &st, err);
        if (rc == 0) {
            kho_stmt_bind_str(st, 1, u.code);
            if (kho_stmt_step(st, err) == KHO_STEP_ROW)
                snprintf(prov, sizeof prov, "%s", kho_stmt_col_text(st, 0));
            kho_stmt_reset(st);
            char pname[256];
            unit_name(c->db, LV_PROVINCE, prov, pname, sizeof pname);
            json_decref(parent);
            parent = json_pack("{s:s,s:s}", "code", prov, "name", pname);
        }
    } else {
        snprintf(prov, sizeof prov, "%s", u.code);
        rc = kho_store_cached(c->db,
                              "SELECT code, name FROM units WHERE era = 'current' AND level = 'commune' AND province_code = ?1"
                              " ORDER BY name_fold",
                              &st, err);
        if (rc == 0) {
            kho_stmt_bind_str(st, 1, u.code);
            while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW)
                json_array_append_new(children, json_pack("{s:s,s:s}", "code", kho_stmt_col_text(st, 0), "name",
                                                          kho_stmt_col_text(st, 1)));
            kho_stmt_reset(st);
            rc = rc < 0 ? rc : 0;
        }
    }
    /* every value of this unit, per indicator */
    series_t *ser = kho_xcalloc(cat->n + 1, sizeof *ser);
    bool *shown = kho_xcalloc(cat->n + 1, sizeof *shown);
    json_t *periods = json_array(), *inds = json_array(), *kpis = json_array();
    char maxp[16] = "";
    bool synthetic = false;
    for (size_t i = 0; rc == 0 && i < cat->n; i++) {
        if (!ind_visible(&vis, &cat->v[i]))
            continue;
        rc = load_series(c->db, cat->v[i].code, u.level, u.code, &ser[i], err);
        if (rc != 0 || ser[i].n == 0)
            continue;
        shown[i] = true;
        synthetic |= any_synthetic(c->db, &cat->v[i]);
        json_array_append_new(inds, json_pack("{s:s,s:s,s:s,s:s,s:s}", "code", cat->v[i].code, "name", cat->v[i].name,
                                              "unit_of_measure", cat->v[i].uom, "kind", kho_ind_kind_name(cat->v[i].kind),
                                              "level", cat->v[i].level == KHO_LVL_PROVINCE ? "province" : "commune"));
        for (size_t k = 0; k < ser[i].n; k++) {
            bool have = false;
            for (size_t j = 0; j < json_array_size(periods); j++)
                have |= !strcmp(json_string_value(json_array_get(periods, j)), ser[i].period[k]);
            if (!have)
                json_array_append_new(periods, json_string(ser[i].period[k]));
            if (strcmp(ser[i].period[k], maxp) > 0)
                snprintf(maxp, sizeof maxp, "%s", ser[i].period[k]);
        }
    }
    /* periods sorted */
    size_t np = json_array_size(periods);
    for (size_t a = 1; a < np; a++)
        for (size_t b2 = a; b2 > 0; b2--) {
            json_t *x = json_array_get(periods, b2 - 1), *y = json_array_get(periods, b2);
            if (strcmp(json_string_value(x), json_string_value(y)) <= 0)
                break;
            json_incref(x);
            json_array_set(periods, b2 - 1, y);
            json_array_set_new(periods, b2, x);
        }
    const char *per = period && *period ? period : maxp;
    bool per_known = false;
    for (size_t j = 0; j < np; j++)
        per_known |= !strcmp(json_string_value(json_array_get(periods, j)), per);
    if (rc == 0 && period && *period && !per_known)
        rc = kho_err_setk(err, KHO_EINVAL, "bad_period", "period: no indicator of unit %s has a value for '%.16s'", u.code,
                          period);
    int sel = -1;
    if (rc == 0 && indicator && *indicator) {
        sel = kho_ind_cat_find(cat, indicator);
        if (sel < 0 || !ind_visible(&vis, &cat->v[sel]))
            rc = kho_err_setk(err, KHO_ENOTFOUND, "unknown_indicator", "no indicator has the code '%.64s'", indicator);
        else if (!shown[sel])
            rc = kho_err_setk(err, KHO_EINVAL, "no_values", "indicator %s has no values for unit %s", indicator, u.code);
    }
    for (size_t i = 0; rc == 0 && i < cat->n; i++) {
        if (!shown[i])
            continue;
        if (sel < 0)
            sel = (int)i;
        series_t *s = &ser[i];
        size_t at = s->n;
        for (size_t k = 0; k < s->n; k++)
            if (!strcmp(s->period[k], per))
                at = k;
        json_t *k = json_pack("{s:s,s:s,s:s,s:i}", "indicator", cat->v[i].code, "name", cat->v[i].name,
                              "unit_of_measure", cat->v[i].uom, "decimals", cat->v[i].decimals);
        json_object_set_new(k, "higher_is_better", json_boolean(cat->v[i].higher_is_better));
        if (at < s->n) {
            json_object_set_new(k, "period", json_string(s->period[at]));
            json_object_set_new(k, "value", json_real(r4(s->v[at])));
            json_object_set_new(k, "converted", json_boolean(s->conv[at]));
            if (at > 0) {
                json_object_set_new(k, "previous", json_real(r4(s->v[at - 1])));
                json_object_set_new(k, "previous_period", json_string(s->period[at - 1]));
                if (s->v[at - 1] != 0)
                    json_object_set_new(k, "change_pct", json_real(r4(100.0 * (s->v[at] - s->v[at - 1]) / fabs(s->v[at - 1]))));
            }
        } else
            json_object_set_new(k, "value", json_null());
        json_t *spark = json_array();
        for (size_t j = 0; j < s->n; j++)
            json_array_append_new(spark, json_pack("{s:s,s:f}", "period", s->period[j], "value", r4(s->v[j])));
        json_object_set_new(k, "series", spark);
        json_array_append_new(kpis, k);
    }
    json_t *series = json_null(), *ranking = json_null(), *targets = json_array();
    if (rc == 0 && sel >= 0) {
        kho_ind_def_t *d = &cat->v[sel];
        series = json_pack("{s:s,s:s,s:s,s:o}", "indicator", d->code, "name", d->name, "unit_of_measure", d->uom,
                           "history", history_json(&ser[sel]));
        kho_forecast_t fc;
        kho_err_t fe;
        json_t *fo = forecast_json(d, &ser[sel], 5, &fc, &fe);
        json_object_set_new(series, "forecast", fo ? fo : json_null());
        if (!fo)
            json_object_set_new(series, "forecast_error", json_string(fe.msg));
        /* ranking of the province's communes, when the indicator exists per commune */
        json_t *vals = json_array();
        vq_t q = {.level = LV_COMMUNE, .within = prov, .period = per, .rank = d->higher_is_better ? 1 : -1};
        rc = query_values(c->db, d->code, &q, vals, err);
        ranking = json_pack("{s:s,s:s,s:s,s:s,s:o}", "indicator", d->code, "name", d->name, "period", per, "level",
                            "commune", "values", vals);
        json_object_set_new(ranking, "order", json_string(d->higher_is_better ? "desc" : "asc"));
    }
    if (rc == 0)
        rc = targets_into(c, cat, &vis, -1, u.code, targets, err);
    for (size_t i = 0; i < cat->n; i++)
        series_free(&ser[i]);
    free(ser);
    free(shown);
    if (rc == 0) {
        json_t *uo = json_pack("{s:s,s:s,s:s}", "code", u.code, "name", name, "level", LV_API[u.level]);
        json_object_set_new(uo, "resolved_from", json_array_size(resolved) ? json_incref(json_array_get(resolved, 0)) : json_null());
        *out = json_pack("{s:o,s:s,s:o,s:b,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "unit", uo, "period", per, "periods", periods,
                         "synthetic", synthetic, "kpis", kpis, "series", series, "ranking", ranking, "targets", targets,
                         "children", children, "parent", parent, "indicators", inds);
    } else {
        json_decref(periods);
        json_decref(kpis);
        json_decref(series);
        json_decref(ranking);
        json_decref(targets);
        json_decref(children);
        json_decref(parent);
        json_decref(inds);
    }
    json_decref(resolved);
    return rc;
}
