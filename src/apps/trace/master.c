/* master — traceability master data (see master.h). */
#include "apps/trace/master.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/trace/epcis.h"
#include "apps/trace/gs1.h"
#include "core/buf.h"
#include "core/text.h"

static const char *const KINDS[] = {"farms", "products", "locations", "partners"};

int kho_md_kind_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && !strcmp(s, KINDS[i]))
            return i;
    return -1;
}

const char *kho_md_kind_name(kho_md_kind_t k)
{
    return (unsigned)k < 4 ? KINDS[k] : "?";
}

/* ---- field checks ---------------------------------------------------------------- */

typedef struct rec {
    const json_t *o;
    const char *where; /* "records[3]" or "farms.csv line 4" */
    kho_err_t *err;
} rec_t;

static int bad(rec_t *r, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(rec_t *r, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return kho_err_set(r->err, KHO_EINVAL, "%s, field %s: %s", r->where, field, msg);
}

/* A text field: required or not, 1..max characters of valid UTF-8 (NFC is checked by the caller's reader). */
static int text(rec_t *r, const char *field, bool required, size_t max, const char **out)
{
    json_t *v = json_object_get(r->o, field);
    *out = NULL;
    if (!v || json_is_null(v) || (json_is_string(v) && !json_string_length(v))) {
        if (required)
            return bad(r, field, "is missing");
        return 0;
    }
    if (!json_is_string(v))
        return bad(r, field, "must be text");
    size_t n = json_string_length(v);
    if (n > max)
        return bad(r, field, "is %zu bytes; at most %zu", n, max);
    if (memchr(json_string_value(v), '\0', n))
        return bad(r, field, "contains a NUL byte");
    *out = json_string_value(v);
    return 0;
}

static int one_of(rec_t *r, const char *field, const char *const *words, const char **out)
{
    int rc = text(r, field, true, 40, out);
    if (rc != 0)
        return rc;
    for (const char *const *w = words; *w; w++)
        if (!strcmp(*w, *out))
            return 0;
    kho_buf_t list = KHO_BUF_INIT;
    for (const char *const *w = words; *w; w++)
        kho_buf_printf(&list, "%s%s", w == words ? "" : ", ", *w);
    rc = bad(r, field, "'%.40s' is not one of %s", *out, kho_buf_cstr(&list));
    kho_buf_free(&list);
    return rc;
}

static int number(rec_t *r, const char *field, double lo, double hi, bool *has, double *out)
{
    json_t *v = json_object_get(r->o, field);
    *has = false;
    if (!v || json_is_null(v) || (json_is_string(v) && !json_string_length(v)))
        return 0;
    double d;
    if (json_is_number(v))
        d = json_number_value(v);
    else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        d = strtod(s, &end);
        if (end == s || *end)
            return bad(r, field, "'%.30s' is not a number", s);
    } else
        return bad(r, field, "must be a number");
    if (!(d >= lo && d <= hi))
        return bad(r, field, "%g is out of range (%g to %g)", d, lo, hi);
    *has = true;
    *out = d;
    return 0;
}

static bool date_ok(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return false;
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static int commune(kho_store_t *w, rec_t *r, bool required, const char **out)
{
    int rc = text(r, "commune_code", required, 5, out);
    if (rc != 0 || !*out)
        return rc;
    kho_stmt_t *st;
    if ((rc = kho_store_cached(w, "SELECT 1 FROM units WHERE era = 'current' AND level = 'commune' AND code = ?", &st,
                               r->err)) != 0)
        return rc;
    kho_stmt_bind_str(st, 1, *out);
    int step = kho_stmt_step(st, r->err);
    kho_stmt_reset(st);
    if (step < 0)
        return step;
    if (step != KHO_STEP_ROW)
        return bad(r, "commune_code", "'%s' is not the code of a commune of today (after 1/7/2025)", *out);
    return 0;
}

/* The record's owner must be the writer's organisation (or nobody yet). */
static int owner_ok(kho_store_t *w, rec_t *r, const char *table, const char *idcol, const char *id, const char *org,
                    bool admin)
{
    if (admin)
        return 0;
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT org FROM %s WHERE %s = ?", table, idcol);
    kho_stmt_t *st;
    int rc = kho_store_cached(w, sql, &st, r->err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, id);
    int step = kho_stmt_step(st, r->err);
    if (step == KHO_STEP_ROW) {
        const char *o = kho_stmt_col_text(st, 0);
        if (o && o[0] && strcmp(o, org ? org : ""))
            rc = kho_err_set(r->err, KHO_EFORBIDDEN, "%s: %s belongs to another organisation (%s)", r->where, id, o);
    } else if (step < 0)
        rc = step;
    kho_stmt_reset(st);
    return rc;
}

static int exec_bound(kho_store_t *w, const char *sql, kho_err_t *err, int n, const char **vals,
                      const double *nums, const bool *isnum)
{
    kho_stmt_t *st;
    int rc = kho_store_cached(w, sql, &st, err);
    if (rc != 0)
        return rc;
    for (int i = 0; i < n; i++) {
        if (isnum && isnum[i])
            kho_stmt_bind_double(st, i + 1, nums[i]);
        else
            kho_stmt_bind_str(st, i + 1, vals[i]);
    }
    int step = kho_stmt_step(st, err);
    kho_stmt_reset(st);
    return step < 0 ? step : 0;
}

/* "VietGAP|VG-1|2024-01-01|2026-12-31; organic|..." -> array of objects; NULL and an error when malformed */
static json_t *certs_from_text(rec_t *r, const char *s)
{
    json_t *a = json_array();
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == ';')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, ";");
        char item[256];
        if (n >= sizeof item) {
            bad(r, "certifications", "an entry is too long");
            json_decref(a);
            return NULL;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        const char *f[4] = {0};
        char *q = item;
        int k = 0;
        for (; k < 4 && q; k++) {
            f[k] = q;
            char *bar = strchr(q, '|');
            if (bar)
                *bar = '\0';
            q = bar ? bar + 1 : NULL;
        }
        if (k != 4 || q) {
            bad(r, "certifications", "'%.60s' is not scheme|number|valid_from|valid_to", p);
            json_decref(a);
            return NULL;
        }
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}", "scheme", f[0], "number", f[1], "valid_from", f[2],
                                           "valid_to", f[3]));
        p += n;
    }
    return a;
}

static int put_farm(kho_store_t *w, rec_t *r, const char *org, bool admin)
{
    static const char *const kinds[] = {"farm", "coop", NULL};
    const char *id, *name, *kind, *code, *gln;
    double area = 0;
    bool has_area;
    int rc = text(r, "id", true, 64, &id);
    if (rc == 0)
        rc = text(r, "name", true, 200, &name);
    if (rc == 0)
        rc = one_of(r, "kind", kinds, &kind);
    if (rc == 0)
        rc = commune(w, r, true, &code);
    if (rc == 0)
        rc = number(r, "area_ha", 0, 1e6, &has_area, &area);
    if (rc == 0)
        rc = text(r, "gln", false, 13, &gln);
    if (rc == 0 && gln && (strlen(gln) != 13 || !kho_gs1_check_digit_ok(gln, 13)))
        rc = bad(r, "gln", "'%s' is not a GLN (13 digits with a valid check digit)", gln);
    if (rc == 0)
        rc = owner_ok(w, r, "trace_farms", "id", id, org, admin);
    json_t *certs = json_object_get(r->o, "certifications"), *own = NULL;
    if (rc == 0 && json_is_string(certs)) {
        own = certs_from_text(r, json_string_value(certs));
        if (!own)
            rc = KHO_EINVAL;
        certs = own;
    }
    if (rc == 0 && certs && !json_is_null(certs) && !json_is_array(certs))
        rc = bad(r, "certifications", "must be a list of {scheme, number, valid_from, valid_to}");
    if (rc == 0) {
        const char *v[7] = {id, name, kind, code, NULL, gln, org ? org : ""};
        double nums[7] = {0, 0, 0, 0, area, 0, 0};
        bool isnum[7] = {false, false, false, false, has_area, false, false};
        rc = exec_bound(w,
                        "INSERT OR REPLACE INTO trace_farms(id, name, kind, commune_code, area_ha, gln, org) "
                        "VALUES (?,?,?,?,?,?,?)",
                        r->err, 7, v, nums, isnum);
    }
    if (rc == 0) {
        const char *v[1] = {id};
        rc = exec_bound(w, "DELETE FROM trace_certs WHERE farm_id = ?", r->err, 1, v, NULL, NULL);
    }
    size_t i;
    json_t *c;
    json_array_foreach(certs, i, c)
    {
        if (rc != 0)
            break;
        static const char *const schemes[] = {"VietGAP", "GlobalGAP", "organic", NULL};
        char field[48];
        snprintf(field, sizeof field, "certifications[%zu]", i);
        if (!json_is_object(c)) {
            rc = bad(r, field, "must be an object {scheme, number, valid_from, valid_to}");
            break;
        }
        rec_t cr = {c, r->where, r->err};
        const char *scheme, *num, *from, *to;
        rc = one_of(&cr, "scheme", schemes, &scheme);
        if (rc == 0)
            rc = text(&cr, "number", true, 64, &num);
        if (rc == 0)
            rc = text(&cr, "valid_from", true, 10, &from);
        if (rc == 0)
            rc = text(&cr, "valid_to", true, 10, &to);
        if (rc == 0 && (!date_ok(from) || !date_ok(to) || strcmp(from, to) > 0))
            rc = bad(r, field, "valid_from and valid_to must be dates YYYY-MM-DD, from before to");
        if (rc != 0) {
            kho_err_prefix(r->err, "%s", field);
            break;
        }
        const char *v[5] = {id, scheme, num, from, to};
        rc = exec_bound(w,
                        "INSERT OR REPLACE INTO trace_certs(farm_id, scheme, number, valid_from, valid_to) "
                        "VALUES (?,?,?,?,?)",
                        r->err, 5, v, NULL, NULL);
    }
    json_decref(own);
    return rc;
}

static int put_product(kho_store_t *w, rec_t *r, const char *org, bool admin)
{
    const char *gtin, *name, *name_en, *cat;
    double kg = 0;
    bool has_kg;
    char g14[15];
    int rc = text(r, "gtin", true, 20, &gtin);
    if (rc == 0) {
        kho_err_t why;
        if (kho_gtin_normalise(gtin, g14, &why) != 0)
            rc = bad(r, "gtin", "%s", why.msg);
    }
    if (rc == 0)
        rc = text(r, "name", true, 200, &name);
    if (rc == 0)
        rc = text(r, "name_en", false, 200, &name_en);
    if (rc == 0)
        rc = text(r, "category", true, 40, &cat);
    if (rc == 0)
        rc = number(r, "net_kg", 0, 1e5, &has_kg, &kg);
    if (rc == 0)
        rc = owner_ok(w, r, "trace_products", "gtin", g14, org, admin);
    if (rc == 0) {
        const char *v[6] = {g14, name, name_en ? name_en : "", cat, NULL, org ? org : ""};
        double nums[6] = {0, 0, 0, 0, kg, 0};
        bool isnum[6] = {false, false, false, false, has_kg, false};
        rc = exec_bound(w,
                        "INSERT OR REPLACE INTO trace_products(gtin, name, name_en, category, net_kg, org) "
                        "VALUES (?,?,?,?,?,?)",
                        r->err, 6, v, nums, isnum);
    }
    return rc;
}

static int put_location(kho_store_t *w, rec_t *r, const char *org, bool admin)
{
    const char *id, *name, *kind, *code, *addr, *farm, *partner;
    int rc = text(r, "id", true, 200, &id);
    char key[KHO_EPCIS_KEY_MAX];
    if (rc == 0) {
        kho_gs1_epc_t e;
        kho_err_t why;
        if (kho_gs1_parse_epc(id, &e, &why) != 0 || e.kind != KHO_GS1_SGLN)
            rc = bad(r, "id", "'%.80s' is not an SGLN (urn:epc:id:sgln:CompanyPrefix.LocationRef.Extension)", id);
        else if (!kho_epcis_key(id, key, sizeof key))
            rc = bad(r, "id", "is too long");
    }
    if (rc == 0)
        rc = text(r, "name", true, 200, &name);
    if (rc == 0)
        rc = text(r, "kind", true, 40, &kind);
    if (rc == 0)
        rc = commune(w, r, false, &code);
    if (rc == 0)
        rc = text(r, "address", false, 300, &addr);
    if (rc == 0)
        rc = text(r, "farm_id", false, 64, &farm);
    if (rc == 0)
        rc = text(r, "partner_id", false, 200, &partner);
    if (rc == 0)
        rc = owner_ok(w, r, "trace_locations", "key", key, org, admin);
    if (rc == 0) {
        const char *v[9] = {key, id, name, kind, code ? code : "", addr ? addr : "", farm, partner, org ? org : ""};
        rc = exec_bound(w,
                        "INSERT OR REPLACE INTO trace_locations(key, id, name, kind, commune_code, address, farm_id, "
                        "partner_id, org) VALUES (?,?,?,?,?,?,?,?,?)",
                        r->err, 9, v, NULL, NULL);
    }
    return rc;
}

static int put_partner(kho_store_t *w, rec_t *r, const char *org, bool admin)
{
    const char *id, *name, *kind;
    int rc = text(r, "id", true, 200, &id);
    if (rc == 0 && (!strchr(id, ':') || strchr(id, ' ')))
        rc = bad(r, "id", "'%.80s' is not a URI (such as urn:epc:id:pgln:8930001.00001)", id);
    if (rc == 0)
        rc = text(r, "name", true, 200, &name);
    if (rc == 0)
        rc = text(r, "kind", true, 40, &kind);
    if (rc == 0)
        rc = owner_ok(w, r, "trace_partners", "id", id, org, admin);
    if (rc == 0) {
        const char *v[4] = {id, name, kind, org ? org : ""};
        rc = exec_bound(w, "INSERT OR REPLACE INTO trace_partners(id, name, kind, org) VALUES (?,?,?,?)", r->err, 4,
                        v, NULL, NULL);
    }
    return rc;
}

static int put(kho_store_t *w, kho_md_kind_t kind, rec_t *r, const char *org, bool admin)
{
    if (!json_is_object(r->o))
        return kho_err_set(r->err, KHO_EINVAL, "%s: must be an object", r->where);
    switch (kind) {
    case KHO_MD_FARMS:
        return put_farm(w, r, org, admin);
    case KHO_MD_PRODUCTS:
        return put_product(w, r, org, admin);
    case KHO_MD_LOCATIONS:
        return put_location(w, r, org, admin);
    case KHO_MD_PARTNERS:
        return put_partner(w, r, org, admin);
    }
    return kho_err_set(r->err, KHO_EINTERNAL, "unknown kind");
}

int kho_md_upsert(kho_store_t *w, kho_md_kind_t kind, const json_t *records, const char *org, bool admin, size_t *n,
                  kho_err_t *err)
{
    *n = 0;
    if (!json_is_array(records))
        return kho_err_set(err, KHO_EINVAL, "%s: expected a list of records", kho_md_kind_name(kind));
    if (json_array_size(records) > 100000)
        return kho_err_set(err, KHO_ETOOLARGE, "at most 100,000 records at once");
    int rc = kho_store_begin(w, true, err);
    size_t i;
    json_t *o;
    json_array_foreach(records, i, o)
    {
        if (rc != 0)
            break;
        char where[48];
        snprintf(where, sizeof where, "%s[%zu]", kho_md_kind_name(kind), i);
        rec_t r = {o, where, err};
        rc = put(w, kind, &r, org, admin);
    }
    if (rc == 0)
        rc = kho_store_commit(w, err);
    if (rc != 0) {
        kho_store_rollback(w);
        return rc;
    }
    *n = json_array_size(records);
    return 0;
}

int kho_md_import(kho_store_t *w, kho_md_kind_t kind, const kho_source_t *src, const char *org, bool admin,
                  size_t *n, kho_err_t *err)
{
    *n = 0;
    kho_reader_opts_t ro = {.validate_utf8 = true, .nfc = true};
    kho_reader_t *rd;
    int rc = kho_reader_open(src, &ro, &rd, err);
    if (rc != 0)
        return rc;
    rc = kho_store_begin(w, true, err);
    kho_record_t *rec;
    int got;
    size_t count = 0;
    while (rc == 0 && (got = kho_reader_next(rd, &rec, err)) == 1) {
        json_t *o = json_object();
        for (size_t c = 0; c < rec->n && c < kho_reader_ncols(rd); c++) {
            const kho_cell_t *cell = &rec->cells[c];
            const char *label = kho_reader_label(rd, c);
            if (cell->kind == KHO_CELL_ABSENT || cell->kind == KHO_CELL_NULL)
                continue;
            if (cell->kind == KHO_CELL_JSON)
                json_object_set_new(o, label, json_loads(cell->s, 0, NULL));
            else
                json_object_set_new(o, label, json_stringn(cell->s, cell->n));
        }
        char where[300];
        snprintf(where, sizeof where, "%s line %llu", src->name ? src->name : "input", (unsigned long long)rec->line);
        rec_t r = {o, where, err};
        rc = put(w, kind, &r, org, admin);
        json_decref(o);
        count++;
    }
    if (rc == 0 && got < 0)
        rc = got;
    kho_reader_free(rd);
    if (rc == 0 && count == 0)
        rc = kho_err_set(err, KHO_EINVAL, "%s: no records", src->name ? src->name : "input");
    if (rc == 0)
        rc = kho_store_commit(w, err);
    if (rc != 0) {
        kho_store_rollback(w);
        return rc;
    }
    *n = count;
    return 0;
}

/* ---- reading ---------------------------------------------------------------------- */

static json_t *row_object(kho_stmt_t *st)
{
    json_t *o = json_object();
    for (int i = 0; i < kho_stmt_ncols(st); i++) {
        const char *name = kho_stmt_col_name(st, i);
        switch (kho_stmt_col_type(st, i)) {
        case KHO_VAL_NULL:
            json_object_set_new(o, name, json_null());
            break;
        case KHO_VAL_INT:
            json_object_set_new(o, name, json_integer(kho_stmt_col_int(st, i)));
            break;
        case KHO_VAL_REAL:
            json_object_set_new(o, name, json_real(kho_stmt_col_double(st, i)));
            break;
        default:
            json_object_set_new(o, name, json_stringn(kho_stmt_col_text(st, i), kho_stmt_col_bytes(st, i)));
        }
    }
    return o;
}

static int certs_of(kho_store_t *s, const char *farm, json_t **out, kho_err_t *err)
{
    kho_stmt_t *st;
    int rc = kho_store_cached(s,
                              "SELECT scheme, number, valid_from, valid_to FROM trace_certs WHERE farm_id = ? "
                              "ORDER BY scheme, number",
                              &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, farm);
    json_t *a = json_array();
    int step;
    while ((step = kho_stmt_step(st, err)) == KHO_STEP_ROW)
        json_array_append_new(a, row_object(st));
    kho_stmt_reset(st);
    if (step < 0) {
        json_decref(a);
        return step;
    }
    *out = a;
    return 0;
}

static const char *const SELECTS[] = {
    "SELECT id, name, kind, commune_code, area_ha, gln FROM trace_farms",
    "SELECT gtin, name, name_en, category, net_kg FROM trace_products",
    "SELECT id, name, kind, commune_code, address, farm_id, partner_id FROM trace_locations",
    "SELECT id, name, kind FROM trace_partners",
};
static const char *const KEYCOLS[] = {"id", "gtin", "key", "id"};

static int select_rows(kho_store_t *s, kho_md_kind_t kind, const char *id, json_t **out, kho_err_t *err)
{
    char sql[256];
    if (id)
        snprintf(sql, sizeof sql, "%s WHERE %s = ?", SELECTS[kind], KEYCOLS[kind]);
    else
        snprintf(sql, sizeof sql, "%s ORDER BY %s", SELECTS[kind], KEYCOLS[kind]);
    kho_stmt_t *st;
    int rc = kho_store_cached(s, sql, &st, err);
    if (rc != 0)
        return rc;
    if (id)
        kho_stmt_bind_str(st, 1, id);
    json_t *a = json_array();
    int step;
    while ((step = kho_stmt_step(st, err)) == KHO_STEP_ROW)
        json_array_append_new(a, row_object(st));
    kho_stmt_reset(st);
    if (step < 0) {
        json_decref(a);
        return step;
    }
    if (kind == KHO_MD_FARMS) {
        size_t i;
        json_t *f;
        json_array_foreach(a, i, f)
        {
            json_t *c = NULL;
            if ((rc = certs_of(s, json_string_value(json_object_get(f, "id")), &c, err)) != 0) {
                json_decref(a);
                return rc;
            }
            json_object_set_new(f, "certifications", c);
        }
    }
    *out = a;
    return 0;
}

int kho_md_list(kho_store_t *s, kho_md_kind_t kind, json_t **out, kho_err_t *err)
{
    json_t *a = NULL;
    int rc = select_rows(s, kind, NULL, &a, err);
    if (rc == 0)
        *out = json_pack("{s:o}", kho_md_kind_name(kind), a);
    return rc;
}

int kho_md_get(kho_store_t *s, kho_md_kind_t kind, const char *id, json_t **out, kho_err_t *err)
{
    *out = NULL;
    char key[KHO_EPCIS_KEY_MAX];
    if (kind == KHO_MD_LOCATIONS && strchr(id, ':')) {
        if (!kho_epcis_key(id, key, sizeof key))
            return 0;
        id = key;
    }
    json_t *a = NULL;
    int rc = select_rows(s, kind, id, &a, err);
    if (rc == 0 && json_array_size(a))
        *out = json_incref(json_array_get(a, 0));
    json_decref(a);
    return rc;
}
