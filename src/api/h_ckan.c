/* h_ckan — CKAN's Action API over kho's catalog and rows (see h_ckan.h and docs/ckan.md). */
#include "api/h_ckan.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/guard.h"
#include "api/respcache.h"
#include "api/h_dcat.h"
#include "api/server.h"
#include "core/jsonw.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/version.h"
#include "security/mask.h"
#include "warehouse/catalog.h"
#include "warehouse/query.h"
#include "warehouse/rows.h"
#include "warehouse/sandbox.h"

#define BODY_MAX (1024 * 1024) /* bytes of a POST body */
#define ALL 100000000L         /* "every dataset" for catalog lists */
#define SEARCH_ROWS 10         /* package_search's default page (CKAN's) */
#define SEARCH_ROWS_MAX 1000   /* ... and its largest (CKAN's ckan.search.rows_max) */
#define ORG_DATASETS_MAX 1000  /* organization_show's include_datasets */
#define SQL_MAX_BYTES (32L * 1024 * 1024)

/* ---- errors and the envelope ---------------------------------------------------------- */

typedef struct ckerr {
    int status;       /* HTTP status; 0 while there is no error */
    const char *type; /* CKAN's __type */
    char field[48];   /* a Validation Error's parameter at fault ("" none) */
    char msg[1200];
    json_t *extra;    /* more members of the error object (owned), or NULL */
} ckerr_t;

static int ckfail(ckerr_t *e, int status, const char *type, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int ckfail(ckerr_t *e, int status, const char *type, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    e->status = status;
    e->type = type;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    kho_utf8_repair(e->msg, strlen(e->msg)); /* a client's text cut short must not break the JSON */
    return -1;
}

#define VALIDATION "Validation Error"
#define invalid(e, field, ...) ckfail((e), 409, VALIDATION, (field), __VA_ARGS__)
#define bad_query(e, ...) ckfail((e), 400, "Search Query Error", NULL, __VA_ARGS__)

/* A kho error as CKAN's: the one place kho codes become CKAN types. */
static int from_kho(ckerr_t *e, const kho_err_t *err, const char *field)
{
    switch (err->code) {
    case KHO_ENOTFOUND: return ckfail(e, 404, "Not Found Error", NULL, "Not found: %s", err->msg);
    case KHO_EFORBIDDEN:
    case KHO_EUNAUTH: return ckfail(e, 403, "Authorization Error", NULL, "Access denied: %s", err->msg);
    case KHO_ETIMEOUT: return invalid(e, "query", "%s", err->msg);
    case KHO_EINVAL:
    case KHO_ETOOLARGE:
    case KHO_EMEDIA: return invalid(e, field, "%s", err->msg);
    case KHO_EBUSY: return ckfail(e, 503, "Service Unavailable", NULL, "%s", err->msg);
    default: return ckfail(e, 500, "Internal Server Error", NULL, "Internal Server Error: %s", err->msg);
    }
}

static void url_encode(kho_buf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '_' || *p == '.' || *p == '~' || *p == ',')
            kho_buf_putc(b, (char)*p);
        else {
            kho_buf_putc(b, '%');
            kho_buf_putc(b, hex[*p >> 4]);
            kho_buf_putc(b, hex[*p & 15]);
        }
    }
}

static void send_envelope(h2o_req_t *req, const char *help, int status, const char *member, const char *json,
                          size_t len)
{
    kho_buf_t b = KHO_BUF_INIT;
    kho_buf_puts(&b, "{\"help\":");
    kho_json_cstr(&b, help);
    kho_buf_printf(&b, ",\"success\":%s,\"%s\":", status == 200 ? "true" : "false", member);
    kho_buf_append(&b, json, len);
    kho_buf_puts(&b, "}\n");
    kho_http_send_json(req, status, b.data, b.len);
    kho_buf_free(&b);
}

/* Send {"help","success":true,"result":result}; result is stolen. */
static void send_result(h2o_req_t *req, const char *help, json_t *result)
{
    kho_buf_t b = KHO_BUF_INIT;
    if (result)
        kho_json_dump(&b, result, 0);
    else
        kho_buf_puts(&b, "null");
    json_decref(result);
    send_envelope(req, help, 200, "result", b.data, b.len);
    kho_buf_free(&b);
}

static void send_ckerr(h2o_req_t *req, const char *help, ckerr_t *e)
{
    json_t *o = json_pack("{s:s,s:s}", "__type", e->type ? e->type : "Internal Server Error", "message", e->msg);
    if (!o)
        o = json_pack("{s:s,s:s}", "__type", "Internal Server Error", "message", "Internal Server Error");
    if (e->field[0])
        json_object_set_new(o, e->field, json_pack("[s]", e->msg));
    if (e->extra)
        json_object_update_missing(o, e->extra);
    json_decref(e->extra);
    e->extra = NULL;
    kho_buf_t b = KHO_BUF_INIT;
    kho_json_dump(&b, o, 0);
    json_decref(o);
    send_envelope(req, help, e->status ? e->status : 500, "error", b.data, b.len);
    kho_buf_free(&b);
}

/* ---- the request: parameters and their readers ---------------------------------------------- */

typedef struct action action_t;

typedef struct ck {
    kho_reqctx_t *rc;           /* the request: use its fields on its loop only */
    kho_server_t *srv;
    kho_store_t *db;            /* the connection to read with (the loop's, or a worker's) */
    const kho_principal_t *who; /* rc->who: the request outlives the work */
    kho_visibility_t vis;       /* the caller's grants (loaded on the loop) */
    json_t *args;               /* the parameters (owned) */
    json_t *scratch;            /* texts made from non-string parameters (owned) */
    json_t *orgs;               /* kho_catalog_orgs()'s list, loaded once (owned) */
    json_t *result;             /* a worker's result (owned) */
    const action_t *act;
    char base[300];             /* scheme://host */
    char help[400];
    ckerr_t e;
} ck_t;

static void ck_free(ck_t *c)
{
    if (!c)
        return;
    kho_visibility_free(&c->vis);
    json_decref(c->args);
    json_decref(c->scratch);
    json_decref(c->orgs);
    json_decref(c->result);
    json_decref(c->e.extra);
    free(c);
}

static void answer_error(ck_t *c)
{
    send_ckerr(c->rc->req, c->help, &c->e);
    ck_free(c);
}

static void add_param(json_t *args, const char *key, json_t *val)
{
    json_t *old = json_object_get(args, key);
    if (!val)
        return;
    if (!old)
        json_object_set_new(args, key, val);
    else if (json_is_array(old))
        json_array_append_new(old, val);
    else
        json_object_set_new(args, key, json_pack("[O,o]", old, val));
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decode s[0..n) ('+' is a space) into a new string; NULL when it is
 * malformed or not UTF-8. */
static char *form_decode(const char *s, size_t n)
{
    char *out = kho_xmalloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+')
            out[k++] = ' ';
        else if (s[i] == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return NULL;
            }
            out[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else
            out[k++] = s[i];
    }
    out[k] = '\0';
    if (!kho_utf8_valid(out, k, NULL)) {
        free(out);
        return NULL;
    }
    return out;
}

static int parse_form(json_t *args, const char *p, size_t n, ckerr_t *e)
{
    const char *end = p + n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (stop > p) {
            char *k = form_decode(p, (size_t)((eq ? eq : stop) - p));
            char *v = eq ? form_decode(eq + 1, (size_t)(stop - eq - 1)) : kho_xstrdup("");
            if (!k || !v) {
                free(k);
                free(v);
                return ckfail(e, 400, "Bad Request", NULL, "Bad request - the form body is not valid percent-encoded UTF-8");
            }
            add_param(args, k, json_string(v));
            free(k);
            free(v);
        }
        p = stop + 1;
    }
    return 0;
}

/* The parameters: the query string, then (POST) the body over it. */
static int read_args(kho_reqctx_t *rc, json_t **out, ckerr_t *e)
{
    json_t *args = json_object();
    *out = args;
    for (size_t i = 0; i < rc->nparams; i++)
        add_param(args, rc->params[i].key, json_string(rc->params[i].val));
    h2o_req_t *req = rc->req;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST")) || req->entity.len == 0)
        return 0;
    if (req->entity.len > BODY_MAX)
        return ckfail(e, 413, "Bad Request", NULL, "Bad request - the body is larger than %d bytes", BODY_MAX);
    const char *p = req->entity.base;
    size_t n = req->entity.len;
    while (n > 0 && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
        n--;
    }
    const char *ct = kho_http_header(req, H2O_TOKEN_CONTENT_TYPE);
    bool form = ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
    if (n > 0 && form && p[0] != '{' && p[0] != '[')
        return parse_form(args, p, n, e);
    if (n == 0)
        return 0;
    json_error_t je;
    json_t *body = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
    if (!body)
        return ckfail(e, 400, "Bad Request", NULL, "Bad request - JSON Error: %s (line %d, column %d)", je.text, je.line,
                      je.column);
    if (!json_is_object(body)) {
        json_decref(body);
        return ckfail(e, 400, "Bad Request", NULL,
                      "Bad request - Bad request data: Request data JSON decoded to a non-object but it needs to be a "
                      "dictionary.");
    }
    json_object_update(args, body);
    json_decref(body);
    return 0;
}

static json_t *arg(const ck_t *c, const char *key)
{
    json_t *v = json_object_get(c->args, key);
    return json_is_null(v) ? NULL : v;
}

static void scalar_text(const json_t *v, char *out, size_t size)
{
    if (json_is_integer(v))
        snprintf(out, size, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        kho_fmt_double(out, size, json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(out, size, "%s", json_is_true(v) ? "true" : "false");
    else
        snprintf(out, size, "%s", json_is_string(v) ? json_string_value(v) : "");
}

/* A scalar parameter as text (borrowed; numbers and booleans written out); NULL
 * when absent, null or "". A list or an object is a Validation Error. */
static int arg_str(ck_t *c, const char *key, const char **out)
{
    *out = NULL;
    json_t *v = arg(c, key);
    if (!v)
        return 0;
    if (json_is_string(v)) {
        *out = json_string_length(v) ? json_string_value(v) : NULL;
        return 0;
    }
    if (json_is_array(v) || json_is_object(v))
        return invalid(&c->e, key, "%s takes one value, not a list or an object", key);
    char tmp[64];
    scalar_text(v, tmp, sizeof tmp);
    json_array_append_new(c->scratch, json_string(tmp));
    *out = json_string_value(json_array_get(c->scratch, json_array_size(c->scratch) - 1));
    return 0;
}

static int arg_long(ck_t *c, const char *key, long def, long min, long max, long *out)
{
    *out = def;
    json_t *v = arg(c, key);
    long long x;
    if (!v)
        return 0;
    if (json_is_integer(v))
        x = json_integer_value(v);
    else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (!*s)
            return 0;
        char *end = NULL;
        errno = 0;
        x = strtoll(s, &end, 10);
        while (end && *end == ' ')
            end++;
        if (end == s || *end || errno)
            return invalid(&c->e, key, "Invalid integer: %s is a whole number, not '%.40s'", key, s);
    } else
        return invalid(&c->e, key, "Invalid integer: %s is a whole number", key);
    if (x < min || x > max)
        return min == 0 ? invalid(&c->e, key, "%s must be a natural number (0 to %ld)", key, max)
                        : invalid(&c->e, key, "%s must be between %ld and %ld", key, min, max);
    *out = (long)x;
    return 0;
}

static int arg_bool(ck_t *c, const char *key, bool def, bool *out)
{
    *out = def;
    json_t *v = arg(c, key);
    if (!v)
        return 0;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 0;
    }
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
        *out = json_integer_value(v) == 1;
        return 0;
    }
    static const char *const yes[] = {"true", "1", "yes", "on", "t", "y"}, *const no[] = {"false", "0", "no", "off", "f", "n"};
    const char *s = json_string_value(v);
    if (s && !*s)
        return 0;
    for (size_t i = 0; s && i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return invalid(&c->e, key, "%s must be true or false", key);
}

/* A list of strings: a JSON list, a string holding one, or a comma-separated
 * string (new reference in *out; NULL when absent). */
static int arg_list(ck_t *c, const char *key, json_t **out)
{
    *out = NULL;
    json_t *v = arg(c, key), *list = NULL;
    if (!v)
        return 0;
    if (json_is_array(v))
        list = json_incref(v);
    else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        while (*s == ' ')
            s++;
        if (*s == '[') {
            list = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
            if (!json_is_array(list)) {
                json_decref(list);
                return invalid(&c->e, key, "%s is not a valid JSON list", key);
            }
        } else {
            list = json_array();
            while (*s) {
                size_t n = strcspn(s, ",");
                const char *a = s, *b = s + n;
                while (a < b && *a == ' ')
                    a++;
                while (b > a && b[-1] == ' ')
                    b--;
                if (b > a)
                    json_array_append_new(list, json_stringn(a, (size_t)(b - a)));
                s += n + (s[n] == ',');
            }
        }
    } else
        return invalid(&c->e, key, "%s must be a list of strings", key);
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x) if (!json_is_string(x))
    {
        json_decref(list);
        return invalid(&c->e, key, "%s must be a list of strings", key);
    }
    *out = list;
    return 0;
}

/* An object: a JSON object, or a string holding one (new reference; NULL when absent). */
static int arg_object(ck_t *c, const char *key, json_t **out)
{
    *out = NULL;
    json_t *v = arg(c, key);
    if (!v)
        return 0;
    if (json_is_object(v)) {
        *out = json_incref(v);
        return 0;
    }
    json_t *o = json_is_string(v) ? json_loads(json_string_value(v), JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        return invalid(&c->e, key, "%s must be a JSON object (a dictionary)", key);
    }
    *out = o;
    return 0;
}

static const char *str_of(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* ---- CKAN's dictionaries -------------------------------------------------------------------- */

/* "2026-11-22T04:50:41Z" -> "2026-11-22T04:50:41.000000" (CKAN's naive UTC). */
static json_t *ckan_time(const char *iso)
{
    if (!iso || !*iso)
        return json_null();
    char out[40];
    if (strlen(iso) >= 19 && iso[10] == 'T') {
        char digits[7] = "000000";
        const char *f = iso + 19;
        if (*f == '.')
            for (size_t k = 0; k < 6 && isdigit((unsigned char)f[k + 1]); k++)
                digits[k] = f[k + 1];
        snprintf(out, sizeof out, "%.19s.%s", iso, digits);
    } else
        snprintf(out, sizeof out, "%.39s", iso);
    return json_string(out);
}

static int orgs_load(ck_t *c)
{
    if (c->orgs)
        return 0;
    kho_err_t err;
    json_t *out = NULL;
    if (kho_catalog_orgs(c->db, kho_guard_visible, &c->vis, &out, &err) != 0)
        return from_kho(&c->e, &err, NULL);
    c->orgs = json_incref(json_object_get(out, "organisations"));
    json_decref(out);
    return 0;
}

static const json_t *org_find(const ck_t *c, const char *id)
{
    size_t i;
    json_t *o;
    json_array_foreach(c->orgs, i, o) if (strcmp(str_of(o, "id"), id) == 0) return o;
    return NULL;
}

static json_t *org_dict(const json_t *o)
{
    const char *id = str_of(o, "id"), *name = str_of(o, "name");
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:I,s:i}", "id", id, "name", id, "title", name,
                     "display_name", name, "description", str_of(o, "description"), "image_url", "",
                     "image_display_url", "", "type", "organization", "is_organization", 1, "approval_status",
                     "approved", "state", "active", "package_count",
                     (json_int_t)json_integer_value(json_object_get(o, "datasets")), "num_followers", 0);
}

/* The one resource of a dataset (kho_catalog_dataset()'s JSON); NULL when it
 * has no version yet. */
static json_t *resource_dict(const ck_t *c, const json_t *d)
{
    const json_t *versions = json_object_get(d, "versions");
    size_t nv = json_array_size(versions);
    if (json_integer_value(json_object_get(d, "current_version")) <= 0 || nv == 0)
        return NULL;
    const char *id = str_of(d, "id");
    char url[700];
    snprintf(url, sizeof url, "%s/api/v1/datasets/%s/rows?_format=csv", c->base, id);
    const char *first = str_of(json_array_get(versions, nv - 1), "created_at");
    const char *last = str_of(json_array_get(versions, 0), "created_at");
    json_t *r = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:i,s:s,s:o,s:o,s:o,s:n,s:s,s:n,s:n,s:n,s:n,s:n}", "id", id,
                          "package_id", id, "name", str_of(d, "title"), "description", str_of(d, "description"),
                          "format", "CSV", "mimetype", "text/csv", "url", url, "datastore_active", 1, "position", 0,
                          "state", "active", "created", ckan_time(first), "last_modified", ckan_time(last),
                          "metadata_modified", ckan_time(last), "size", "hash", "", "url_type", "resource_type",
                          "mimetype_inner", "cache_url", "cache_last_updated");
    json_object_set_new(r, "kho_version", json_copy(json_object_get(d, "current_version")));
    json_object_set_new(r, "kho_row_count", json_copy(json_object_get(d, "row_count")));
    return r;
}

static void add_extra(json_t *extras, const char *key, const char *value)
{
    if (value && *value)
        json_array_append_new(extras, json_pack("{s:s,s:s}", "key", key, "value", value));
}

static json_t *extras_of(const json_t *d)
{
    json_t *x = json_array();
    char num[32];
    add_extra(x, "sharing", str_of(d, "sharing"));
    add_extra(x, "importance", str_of(d, "importance"));
    add_extra(x, "publisher_name", str_of(d, "publisher"));
    const json_t *t = json_object_get(d, "temporal");
    add_extra(x, "temporal_start", str_of(t, "start"));
    add_extra(x, "temporal_end", str_of(t, "end"));
    add_extra(x, "spatial_units", str_of(d, "spatial"));
    add_extra(x, "synthetic", json_is_true(json_object_get(d, "synthetic")) ? "true" : "false");
    if (json_integer_value(json_object_get(d, "current_version")) > 0) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(json_object_get(d, "current_version")));
        add_extra(x, "current_version", num);
    }
    snprintf(num, sizeof num, "%lld", (long long)json_integer_value(json_object_get(d, "row_count")));
    add_extra(x, "row_count", num);
    return x;
}

/* A CKAN package dictionary from kho_catalog_dataset()'s JSON (borrowed);
 * needs c->orgs (orgs_load). New reference. */
static json_t *package_dict(const ck_t *c, const json_t *d)
{
    const char *id = str_of(d, "id");
    kho_licence_info_t l = kho_licence_lookup(str_of(d, "licence"));
    const json_t *org = json_object_get(d, "organisation");
    const json_t *o = org ? org_find(c, str_of(org, "id")) : NULL;
    json_t *orgd = NULL;
    if (org) {
        json_t *tmp = o ? json_deep_copy(o) : json_pack("{s:s,s:s,s:s,s:i}", "id", str_of(org, "id"), "name",
                                                        str_of(org, "name"), "description", "", "datasets", 0);
        orgd = org_dict(tmp);
        json_object_del(orgd, "package_count");
        json_decref(tmp);
    }
    json_t *tags = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(d, "tags"), i, t)
    {
        const char *name = json_string_value(t);
        json_array_append_new(tags, json_pack("{s:s,s:s,s:s,s:s,s:n}", "id", name, "name", name, "display_name", name,
                                              "state", "active", "vocabulary_id"));
    }
    json_t *res = json_array(), *r = resource_dict(c, d);
    if (r)
        json_array_append_new(res, r);
    char page[600], version[32] = "";
    snprintf(page, sizeof page, "%s/datasets/%s", c->base, id);
    if (json_integer_value(json_object_get(d, "current_version")) > 0)
        snprintf(version, sizeof version, "%lld", (long long)json_integer_value(json_object_get(d, "current_version")));
    json_t *p = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s,s:s,s:n,s:n,s:n}", "id", id, "name", id, "title",
                          str_of(d, "title"), "notes", str_of(d, "description"), "type", "dataset", "state", "active",
                          "private", strcmp(str_of(d, "sharing"), "open") != 0, "url", page, "author",
                          str_of(d, "publisher"), "author_email", "maintainer", "maintainer_email");
    json_object_set_new(p, "version", version[0] ? json_string(version) : json_null());
    json_object_set_new(p, "license_id", json_string(l.id));
    json_object_set_new(p, "license_title", json_string(l.title));
    json_object_set_new(p, "license_url", l.url ? json_string(l.url) : json_null());
    json_object_set_new(p, "isopen", json_boolean(l.open));
    json_object_set_new(p, "owner_org", org ? json_string(str_of(org, "id")) : json_null());
    json_object_set_new(p, "organization", orgd ? orgd : json_null());
    json_object_set_new(p, "metadata_created", ckan_time(str_of(d, "created_at")));
    json_object_set_new(p, "metadata_modified", ckan_time(str_of(d, "updated_at")));
    json_object_set_new(p, "num_tags", json_integer((json_int_t)json_array_size(tags)));
    json_object_set_new(p, "tags", tags);
    json_object_set_new(p, "num_resources", json_integer((json_int_t)json_array_size(res)));
    json_object_set_new(p, "resources", res);
    json_object_set_new(p, "extras", extras_of(d));
    json_object_set_new(p, "groups", json_array());
    json_object_set_new(p, "relationships_as_object", json_array());
    json_object_set_new(p, "relationships_as_subject", json_array());
    json_object_set_new(p, "creator_user_id", json_null());
    return p;
}

/* Every dataset the caller may see whose metadata matches the words of q (NULL:
 * all): kho_catalog_list()'s summaries, by title (new reference). */
static int visible_list(ck_t *c, const char *q, const char *field, json_t **out)
{
    kho_err_t err;
    json_t *list = NULL;
    kho_catalog_query_t cq = {.q = q, .limit = ALL, .visible = kho_guard_visible, .visible_ctx = &c->vis};
    if (kho_catalog_list(c->db, &cq, &list, &err) != 0)
        return err.code == KHO_EINVAL ? bad_query(&c->e, "Search Query is invalid: %s: %s", field ? field : "q", err.msg)
                                      : from_kho(&c->e, &err, field);
    *out = json_incref(json_object_get(list, "datasets"));
    json_decref(list);
    return 0;
}

/* A dataset's package dictionary (the caller's access already checked). */
static int package_load(ck_t *c, const char *id, json_t **out)
{
    kho_err_t err;
    json_t *meta = NULL;
    if (orgs_load(c) != 0)
        return -1;
    if (kho_catalog_dataset(c->db, id, &meta, &err) != 0)
        return from_kho(&c->e, &err, "id");
    *out = package_dict(c, meta);
    json_decref(meta);
    return 0;
}

/* ---- catalog actions ------------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The dataset id of package_show / resource_show ("id", or CKAN's older "name_or_id"). */
static int need_id(ck_t *c, const char *alt, const char **id)
{
    if (arg_str(c, "id", id) != 0 || (!*id && alt && arg_str(c, alt, id) != 0))
        return -1;
    if (!*id)
        return invalid(&c->e, "id", "Missing value: give \"id\"");
    return 0;
}

static int a_package_list(ck_t *c, json_t **res)
{
    long limit, offset;
    json_t *list = NULL;
    if (arg_long(c, "limit", ALL, 0, ALL, &limit) != 0 || arg_long(c, "offset", 0, 0, ALL, &offset) != 0 ||
        visible_list(c, NULL, NULL, &list) != 0)
        return -1;
    size_t n = json_array_size(list);
    const char **names = kho_xcalloc(n ? n : 1, sizeof *names);
    for (size_t i = 0; i < n; i++)
        names[i] = str_of(json_array_get(list, i), "id");
    qsort(names, n, sizeof *names, cmp_str);
    json_t *out = json_array();
    for (size_t i = (size_t)offset; i < n && (long)(i - (size_t)offset) < limit; i++)
        json_array_append_new(out, json_string(names[i]));
    free(names);
    json_decref(list);
    *res = out;
    return 0;
}

/* The access check of one dataset, on the request's loop: hidden and unknown
 * datasets are both Not Found. */
static int dataset_access(ck_t *c, const char *id, kho_dsfacts_t *facts, kho_decision_t *d, const char *what)
{
    kho_err_t err;
    if (strlen(id) > 100 || !kho_text_is_slug(id))
        return ckfail(&c->e, 404, "Not Found Error", NULL, "Not found: %s \"%.100s\" was not found", what, id);
    if (kho_guard_dataset(c->rc, id, KHO_ACT_READ, false, facts, d, &err) != 0) {
        if (err.code == KHO_ENOTFOUND)
            return ckfail(&c->e, 404, "Not Found Error", NULL, "Not found: %s \"%s\" was not found", what, id);
        return from_kho(&c->e, &err, "id");
    }
    return 0;
}

static int a_package_show(ck_t *c, json_t **res)
{
    const char *id;
    kho_decision_t d;
    if (need_id(c, "name_or_id", &id) != 0 || dataset_access(c, id, NULL, &d, "Dataset") != 0)
        return -1;
    return package_load(c, id, res);
}

static int a_resource_show(ck_t *c, json_t **res)
{
    const char *id;
    kho_decision_t d;
    kho_err_t err;
    json_t *meta = NULL;
    if (need_id(c, NULL, &id) != 0 || dataset_access(c, id, NULL, &d, "Resource") != 0)
        return -1;
    if (kho_catalog_dataset(c->db, id, &meta, &err) != 0)
        return from_kho(&c->e, &err, "id");
    *res = resource_dict(c, meta);
    json_decref(meta);
    if (!*res)
        return ckfail(&c->e, 404, "Not Found Error", NULL, "Not found: Resource \"%s\" has no data yet", id);
    return 0;
}

typedef struct orgkey {
    const json_t *o;
    char *title; /* folded display name (owned) */
} orgkey_t;

static int cmp_org(const void *a, const void *b, void *ctx)
{
    const orgkey_t *x = a, *y = b;
    int field = *(const int *)ctx; /* 0 name, 1 title, 2 package_count; negative: descending */
    int f = field < 0 ? -field - 1 : field, r;
    if (f == 2) {
        json_int_t nx = json_integer_value(json_object_get(x->o, "datasets")),
                   ny = json_integer_value(json_object_get(y->o, "datasets"));
        r = nx < ny ? -1 : nx > ny;
    } else
        r = f == 1 ? strcmp(x->title, y->title) : 0;
    if (r == 0)
        r = strcmp(str_of(x->o, "id"), str_of(y->o, "id"));
    return field < 0 ? -r : r;
}

/* CKAN's organization_list sort: "name", "title" or "package_count", then asc/desc. */
static int org_sort(ck_t *c, int *field)
{
    const char *s;
    *field = 1;
    if (arg_str(c, "sort", &s) != 0 || !s)
        return 0;
    static const char *const names[] = {"name", "title", "package_count"};
    size_t n = strcspn(s, " ");
    const char *dir = s + n + strspn(s + n, " ");
    for (int i = 0; i < 3; i++)
        if (strlen(names[i]) == n && strncmp(s, names[i], n) == 0) {
            if (*dir && strcasecmp(dir, "asc") != 0 && strcasecmp(dir, "desc") != 0)
                break;
            *field = strcasecmp(dir, "desc") == 0 ? -i - 1 : i;
            return 0;
        }
    return invalid(&c->e, "sort", "sort is one of name, title, package_count, then asc or desc; not '%.60s'", s);
}

static int a_organization_list(ck_t *c, json_t **res)
{
    bool all;
    long limit, offset;
    int field;
    json_t *only = NULL;
    if (arg_bool(c, "all_fields", false, &all) != 0 || arg_long(c, "limit", ALL, 0, ALL, &limit) != 0 ||
        arg_long(c, "offset", 0, 0, ALL, &offset) != 0 || org_sort(c, &field) != 0 ||
        arg_list(c, "organizations", &only) != 0 || orgs_load(c) != 0) {
        json_decref(only);
        return -1;
    }
    size_t n = json_array_size(c->orgs), k = 0;
    orgkey_t *keys = kho_xcalloc(n ? n : 1, sizeof *keys);
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(c->orgs, i);
        bool wanted = !only;
        size_t j;
        json_t *x;
        json_array_foreach(only, j, x) wanted = wanted || strcmp(json_string_value(x), str_of(o, "id")) == 0;
        if (!wanted)
            continue;
        kho_buf_t f = KHO_BUF_INIT;
        kho_text_fold(str_of(o, "name"), strlen(str_of(o, "name")), &f);
        keys[k].o = o;
        keys[k++].title = kho_buf_steal(&f, NULL);
    }
    qsort_r(keys, k, sizeof *keys, cmp_org, &field);
    json_t *out = json_array();
    for (size_t i = 0; i < k; i++) {
        if (i >= (size_t)offset && (long)(i - (size_t)offset) < limit)
            json_array_append_new(out, all ? org_dict(keys[i].o) : json_string(str_of(keys[i].o, "id")));
        free(keys[i].title);
    }
    free(keys);
    json_decref(only);
    *res = out;
    return 0;
}

static int a_organization_show(ck_t *c, json_t **res)
{
    const char *id;
    bool with_datasets;
    if (need_id(c, NULL, &id) != 0 || arg_bool(c, "include_datasets", false, &with_datasets) != 0 ||
        orgs_load(c) != 0)
        return -1;
    const json_t *o = org_find(c, id);
    if (!o)
        return ckfail(&c->e, 404, "Not Found Error", NULL, "Not found: Organization \"%.100s\" was not found", id);
    json_t *out = org_dict(o);
    json_object_set_new(out, "users", json_array());
    json_object_set_new(out, "extras", json_array());
    json_object_set_new(out, "groups", json_array());
    json_object_set_new(out, "tags", json_array());
    if (with_datasets) {
        json_t *list = NULL, *pkgs = json_array();
        json_object_set_new(out, "packages", pkgs);
        if (visible_list(c, NULL, NULL, &list) != 0) {
            json_decref(out);
            return -1;
        }
        size_t i;
        json_t *s;
        json_array_foreach(list, i, s)
        {
            const json_t *so = json_object_get(s, "organisation");
            if (!so || strcmp(str_of(so, "id"), id) != 0 || json_array_size(pkgs) >= ORG_DATASETS_MAX)
                continue;
            json_t *p = NULL;
            if (package_load(c, str_of(s, "id"), &p) != 0) {
                json_decref(list);
                json_decref(out);
                return -1;
            }
            json_array_append_new(pkgs, p);
        }
        json_decref(list);
    }
    *res = out;
    return 0;
}

static int a_tag_list(ck_t *c, json_t **res)
{
    const char *query;
    bool all;
    json_t *list = NULL;
    if (arg_str(c, "query", &query) != 0 || arg_bool(c, "all_fields", false, &all) != 0 ||
        visible_list(c, NULL, NULL, &list) != 0)
        return -1;
    kho_buf_t qf = KHO_BUF_INIT;
    if (query)
        kho_text_fold(query, strlen(query), &qf);
    json_t *seen = json_object();
    size_t i, j;
    json_t *s, *t;
    json_array_foreach(list, i, s) json_array_foreach(json_object_get(s, "tags"), j, t)
    {
        const char *name = json_string_value(t);
        kho_buf_t f = KHO_BUF_INIT;
        kho_text_fold(name, strlen(name), &f);
        if (!query || strstr(kho_buf_cstr(&f), kho_buf_cstr(&qf)))
            json_object_set_new(seen, name, json_true());
        kho_buf_free(&f);
    }
    size_t n = json_object_size(seen), k = 0;
    const char **names = kho_xcalloc(n ? n : 1, sizeof *names);
    const char *key;
    json_t *v;
    json_object_foreach(seen, key, v) names[k++] = key;
    qsort(names, n, sizeof *names, cmp_str);
    json_t *out = json_array();
    for (k = 0; k < n; k++)
        json_array_append_new(out, all ? json_pack("{s:s,s:s,s:s,s:n}", "id", names[k], "name", names[k],
                                                   "display_name", names[k], "vocabulary_id")
                                       : json_string(names[k]));
    free(names);
    json_decref(seen);
    json_decref(list);
    kho_buf_free(&qf);
    *res = out;
    return 0;
}

static int a_group_list(ck_t *c, json_t **res)
{
    (void)c;
    *res = json_array(); /* kho has organisations, no CKAN groups */
    return 0;
}

static int a_status_show(ck_t *c, json_t **res)
{
    *res = json_pack("{s:s,s:s,s:s,s:s,s:s,s:[s,s],s:s}", "site_title", "kho", "site_description",
                     "Cổng dữ liệu mở cấp tỉnh (kho)", "site_url", c->base, "ckan_version", "2.10.0",
                     "locale_default", "vi", "extensions", "datastore", "dcat", "kho_version", KHO_VERSION);
    return 0;
}

/* ---- package_search ------------------------------------------------------------------------
 *
 * q and fq are read as Solr-like terms, the subset CKAN clients and
 * harvesters send: field:value, field:"quoted value", field:[A TO B] and
 * {A TO B} ranges on the two dates (bounds as ISO dates, NOW, NOW-3DAYS or
 * *), -field:value, "a OR b" between field terms, *:*; other words of q are
 * the free text, matched like the REST catalogue (every word, case and tone
 * marks ignored). Terms are ANDed. Matching, counting, facets and sorting run
 * over the datasets the caller may see; only the page is turned into package
 * dictionaries. */

typedef enum { F_ALL, F_ORG, F_TAGS, F_NAME, F_GROUPS, F_MODIFIED, F_CREATED, F_TYPE, F_FORMAT, F_LICENSE, F_PRIVATE,
               F_STATE, F_TEXT } field_t;

static const struct {
    const char *name;
    field_t f;
} FIELDS[] = {{"organization", F_ORG},        {"owner_org", F_ORG},         {"tags", F_TAGS},
              {"tag", F_TAGS},                {"name", F_NAME},             {"id", F_NAME},
              {"groups", F_GROUPS},           {"metadata_modified", F_MODIFIED}, {"metadata_created", F_CREATED},
              {"dataset_type", F_TYPE},       {"type", F_TYPE},             {"res_format", F_FORMAT},
              {"license_id", F_LICENSE},      {"private", F_PRIVATE},       {"state", F_STATE},
              {"text", F_TEXT}};

#define MAX_CLAUSES 32
#define MAX_ALTS 16
#define DATE_KEY 20 /* "YYYY-MM-DDTHH:MM:SS" */

typedef struct term {
    field_t f;
    bool neg, range, any;
    char val[256];
    char lo[DATE_KEY], hi[DATE_KEY]; /* "" = open */
    bool lo_in, hi_in;
} term_t;

typedef struct search {
    term_t t[MAX_CLAUSES][MAX_ALTS];
    size_t nalt[MAX_CLAUSES];
    size_t ncl;
    kho_buf_t words; /* the free text */
} search_t;

/* A date bound or value as "YYYY-MM-DDTHH:MM:SS": ISO dates and date-times
 * (fraction and Z dropped), NOW[-+]n(DAY|HOUR|MINUTE|SECOND)[S], "*" (open: ""). */
static int date_key(const char *s, size_t n, char out[DATE_KEY])
{
    out[0] = '\0';
    if (n == 1 && s[0] == '*')
        return 0;
    if (n >= 3 && strncmp(s, "NOW", 3) == 0) {
        long long delta = 0;
        if (n > 3) {
            char unit[16];
            long long k = 0;
            int used = 0;
            char sign = s[3];
            char tmp[48];
            if ((sign != '-' && sign != '+') || n - 4 >= sizeof tmp)
                return -1;
            snprintf(tmp, sizeof tmp, "%.*s", (int)(n - 4), s + 4);
            if (sscanf(tmp, "%lld%15[A-Z]%n", &k, unit, &used) != 2 || (size_t)used != strlen(tmp) || k < 0 ||
                k > 100000)
                return -1;
            size_t ul = strlen(unit);
            if (ul > 1 && unit[ul - 1] == 'S')
                unit[--ul] = '\0';
            long long mult = strcmp(unit, "DAY") == 0      ? 86400
                             : strcmp(unit, "HOUR") == 0   ? 3600
                             : strcmp(unit, "MINUTE") == 0 ? 60
                             : strcmp(unit, "SECOND") == 0 ? 1
                                                           : 0;
            if (!mult)
                return -1;
            delta = (sign == '-' ? -k : k) * mult;
        }
        time_t t = time(NULL) + (time_t)delta;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, DATE_KEY, "%Y-%m-%dT%H:%M:%S", &tm);
        return 0;
    }
    static const char pat[] = "dddd-dd-ddTdd:dd:dd";
    size_t k = 0;
    for (; k < n && k < 19; k++)
        if (pat[k] == 'd' ? !isdigit((unsigned char)s[k]) : s[k] != pat[k])
            return -1;
    if (k != 10 && k != 19)
        return -1;
    size_t rest = k;
    if (rest < n && s[rest] == '.' && k == 19)
        for (rest++; rest < n && isdigit((unsigned char)s[rest]); rest++)
            ;
    if (rest < n && s[rest] == 'Z')
        rest++;
    if (rest != n)
        return -1;
    snprintf(out, DATE_KEY, "%.10s%s%.8s", s, k == 19 ? "T" : "T00:00:00", k == 19 ? s + 11 : "");
    return 0;
}

/* The value after "field:" at *p; advances *p. */
static int term_value(search_t *s, term_t *t, const char **p, const char *param, ckerr_t *e)
{
    (void)s;
    const char *v = *p;
    if (*v == '"') {
        size_t k = 0;
        for (v++; *v && *v != '"'; v++) {
            if (*v == '\\' && v[1])
                v++;
            if (k + 1 < sizeof t->val)
                t->val[k++] = *v;
        }
        if (*v != '"')
            return bad_query(e, "Search Query is invalid: %s: a quotation mark is not closed", param);
        t->val[k] = '\0';
        *p = v + 1;
        return 0;
    }
    if (*v == '[' || *v == '{') {
        const char *end = v + strcspn(v, "]}");
        if (!*end)
            return bad_query(e, "Search Query is invalid: %s: a range is not closed", param);
        t->lo_in = *v == '[';
        t->hi_in = *end == ']';
        const char *to = strstr(v, " TO ");
        if (!to || to > end)
            return bad_query(e, "Search Query is invalid: %s: a range reads [FROM TO TO]", param);
        const char *a = v + 1, *b = to + 4;
        while (*a == ' ')
            a++;
        while (*b == ' ')
            b++;
        size_t an = (size_t)(to - a), bn = (size_t)(end - b);
        while (bn && b[bn - 1] == ' ')
            bn--;
        if (date_key(a, an, t->lo) != 0 || date_key(b, bn, t->hi) != 0)
            return bad_query(e, "Search Query is invalid: %s: range bounds are ISO dates (2025-01-31T00:00:00Z), NOW, "
                                "NOW-7DAYS or *", param);
        t->range = true;
        *p = end + 1;
        return 0;
    }
    if (*v == '(')
        return bad_query(e, "Search Query is invalid: %s: parentheses are not supported; write a OR b", param);
    size_t n = strcspn(v, " \t\r\n");
    if (n == 0)
        return bad_query(e, "Search Query is invalid: %s: a field without a value", param);
    snprintf(t->val, sizeof t->val, "%.*s", (int)n, v);
    *p = v + n;
    return 0;
}

static int add_term(search_t *s, const term_t *t, bool alternative, const char *param, ckerr_t *e)
{
    if (alternative && s->ncl > 0 && s->nalt[s->ncl - 1] < MAX_ALTS) {
        s->t[s->ncl - 1][s->nalt[s->ncl - 1]++] = *t;
        return 0;
    }
    if (s->ncl >= MAX_CLAUSES)
        return bad_query(e, "Search Query is invalid: %s: at most %d terms", param, MAX_CLAUSES);
    s->t[s->ncl][0] = *t;
    s->nalt[s->ncl++] = 1;
    return 0;
}

static void add_words(search_t *s, const char *w, size_t n)
{
    if (s->words.len)
        kho_buf_putc(&s->words, ' ');
    kho_buf_append(&s->words, w, n);
}

static int parse_terms(search_t *s, const char *text, const char *param, ckerr_t *e)
{
    const char *p = text;
    bool alternative = false, last_field = false;
    if (strlen(text) > 4000)
        return bad_query(e, "Search Query is invalid: %s is longer than 4000 bytes", param);
    while (*p) {
        p += strspn(p, " \t\r\n");
        if (!*p)
            break;
        size_t wl = strcspn(p, " \t\r\n");
        if ((wl == 2 && (strncmp(p, "OR", 2) == 0 || strncmp(p, "||", 2) == 0))) {
            alternative = last_field;
            p += wl;
            continue;
        }
        if ((wl == 3 && strncmp(p, "AND", 3) == 0) || (wl == 2 && strncmp(p, "&&", 2) == 0)) {
            p += wl;
            continue;
        }
        term_t t;
        memset(&t, 0, sizeof t);
        const char *q = p;
        if ((*q == '-' || *q == '+') && q[1] && !isspace((unsigned char)q[1])) {
            t.neg = *q == '-';
            q++;
        }
        size_t fl = strspn(q, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.*");
        if (fl == 0 || q[fl] != ':') { /* a free word */
            if (t.neg)
                return bad_query(e, "Search Query is invalid: %s: excluding a word is not supported (exclude with "
                                    "-field:value)", param);
            add_words(s, p, wl);
            p += wl;
            last_field = alternative = false;
            continue;
        }
        if (fl == 1 && q[0] == '*') {
            if (q[2] != '*')
                return bad_query(e, "Search Query is invalid: %s: '*:' must be followed by '*'", param);
            t.f = F_ALL;
            p = q + 3;
        } else {
            size_t i = 0;
            while (i < sizeof FIELDS / sizeof FIELDS[0] && !(strlen(FIELDS[i].name) == fl && strncmp(FIELDS[i].name, q, fl) == 0))
                i++;
            if (i == sizeof FIELDS / sizeof FIELDS[0] && strcmp(param, "q") == 0) {
                add_words(s, p, wl); /* in q, "12:30" or "http://..." are words, not fields */
                p += wl;
                last_field = alternative = false;
                continue;
            }
            if (i == sizeof FIELDS / sizeof FIELDS[0])
                return bad_query(e, "Search Query is invalid: %s: cannot search on the field '%.*s' (kho knows "
                                    "organization, tags, name, id, groups, metadata_modified, metadata_created, "
                                    "dataset_type, res_format, license_id, private, state, text)",
                                 param, (int)(fl > 40 ? 40 : fl), q);
            t.f = FIELDS[i].f;
            p = q + fl + 1;
            if (term_value(s, &t, &p, param, e) != 0)
                return -1;
            if (t.range && t.f != F_MODIFIED && t.f != F_CREATED)
                return bad_query(e, "Search Query is invalid: %s: ranges apply to metadata_modified and "
                                    "metadata_created only", param);
            t.any = !t.range && strcmp(t.val, "*") == 0;
            if (!t.range && !t.any && (t.f == F_MODIFIED || t.f == F_CREATED)) {
                char key[DATE_KEY];
                if (date_key(t.val, strlen(t.val), key) != 0)
                    return bad_query(e, "Search Query is invalid: %s: '%.40s' is not a date", param, t.val);
                snprintf(t.lo, sizeof t.lo, "%s", key);
                snprintf(t.hi, sizeof t.hi, "%s", key);
                t.lo_in = t.hi_in = t.range = true;
            }
            if (t.f == F_TEXT) {
                if (t.neg)
                    return bad_query(e, "Search Query is invalid: %s: excluding text is not supported", param);
                add_words(s, t.val, strlen(t.val));
                last_field = alternative = false;
                continue;
            }
        }
        if (add_term(s, &t, alternative, param, e) != 0)
            return -1;
        alternative = false;
        last_field = true;
    }
    return 0;
}

/* A dataset in a search. */
typedef struct cand {
    const json_t *sum; /* its catalog summary (borrowed) */
    json_t *meta;      /* kho_catalog_dataset(), loaded when a term or the sort needs it (owned) */
    char *title;       /* folded title, for sorting (owned) */
} cand_t;

static int cand_meta(ck_t *c, cand_t *x)
{
    kho_err_t err;
    if (!x->meta && kho_catalog_dataset(c->db, str_of(x->sum, "id"), &x->meta, &err) != 0)
        return from_kho(&c->e, &err, NULL);
    return 0;
}

static void date_of(const char *iso, char out[DATE_KEY])
{
    snprintf(out, DATE_KEY, "%.19s", iso);
}

static bool in_range(const term_t *t, const char *key)
{
    if (t->lo[0] && (strcmp(key, t->lo) < 0 || (!t->lo_in && strcmp(key, t->lo) == 0)))
        return false;
    if (t->hi[0] && (strcmp(key, t->hi) > 0 || (!t->hi_in && strcmp(key, t->hi) == 0)))
        return false;
    return true;
}

/* 1 when the term matches, 0 when not, -1 on an error. */
static int term_match(ck_t *c, cand_t *x, const term_t *t)
{
    const json_t *s = x->sum, *org = json_object_get(s, "organisation");
    char key[DATE_KEY];
    bool m = false;
    size_t i;
    json_t *tag;
    switch (t->f) {
    case F_ALL: m = true; break;
    case F_ORG: m = org && (t->any || strcmp(str_of(org, "id"), t->val) == 0); break;
    case F_TAGS:
        json_array_foreach(json_object_get(s, "tags"), i, tag) m = m || t->any || strcmp(json_string_value(tag), t->val) == 0;
        break;
    case F_NAME: m = t->any || strcmp(str_of(s, "id"), t->val) == 0; break;
    case F_GROUPS: m = false; break;
    case F_MODIFIED:
        date_of(str_of(s, "updated_at"), key);
        m = t->any || in_range(t, key);
        break;
    case F_CREATED:
        if (cand_meta(c, x) != 0)
            return -1;
        date_of(str_of(x->meta, "created_at"), key);
        m = t->any || in_range(t, key);
        break;
    case F_TYPE: m = t->any || strcmp(t->val, "dataset") == 0; break;
    case F_FORMAT:
        m = json_integer_value(json_object_get(s, "current_version")) > 0 && (t->any || strcasecmp(t->val, "csv") == 0);
        break;
    case F_LICENSE:
        if (cand_meta(c, x) != 0)
            return -1;
        m = t->any || strcasecmp(kho_licence_lookup(str_of(x->meta, "licence")).id, t->val) == 0;
        break;
    case F_PRIVATE:
        m = t->any || (strcmp(str_of(s, "sharing"), "open") != 0) == (strcasecmp(t->val, "true") == 0);
        break;
    case F_STATE: m = t->any || strcmp(t->val, "active") == 0; break;
    case F_TEXT: m = true; break;
    }
    return m != t->neg;
}

static int cand_match(ck_t *c, cand_t *x, const search_t *s)
{
    for (size_t i = 0; i < s->ncl; i++) {
        int any = 0;
        for (size_t k = 0; k < s->nalt[i] && !any; k++)
            if ((any = term_match(c, x, &s->t[i][k])) < 0)
                return -1;
        if (!any)
            return 0;
    }
    return 1;
}

typedef enum { K_NAME, K_TITLE, K_MODIFIED, K_CREATED } skey_t;

typedef struct sortspec {
    skey_t k[8];
    bool desc[8];
    size_t n;
} sortspec_t;

static int parse_sort(ck_t *c, const char *spec, sortspec_t *o)
{
    static const struct {
        const char *name;
        int k; /* -1: accepted, no effect */
    } keys[] = {{"score", -1},         {"metadata_modified", K_MODIFIED}, {"metadata_created", K_CREATED},
                {"name", K_NAME},      {"id", K_NAME},                    {"title_string", K_TITLE},
                {"title", K_TITLE},    {"views_recent", -1},             {"views_total", -1}};
    o->n = 0;
    const char *p = spec;
    while (*p) {
        p += strspn(p, " ,");
        if (!*p)
            break;
        size_t n = strcspn(p, " ,");
        const char *dir = p + n + strspn(p + n, " ");
        size_t dn = strcspn(dir, " ,");
        bool desc = false;
        if (dn == 4 && strncasecmp(dir, "desc", 4) == 0)
            desc = true;
        else if (!(dn == 3 && strncasecmp(dir, "asc", 3) == 0))
            dn = 0;
        size_t i = 0;
        while (i < sizeof keys / sizeof keys[0] && !(strlen(keys[i].name) == n && strncmp(keys[i].name, p, n) == 0))
            i++;
        if (i == sizeof keys / sizeof keys[0])
            return bad_query(&c->e, "Search Query is invalid: sort: cannot sort on '%.*s' (kho sorts on "
                                    "metadata_modified, metadata_created, name, id, title_string, score)",
                             (int)(n > 40 ? 40 : n), p);
        if (keys[i].k >= 0 && o->n < 7) {
            o->k[o->n] = (skey_t)keys[i].k;
            o->desc[o->n++] = desc;
        }
        p = dn ? dir + dn : p + n;
    }
    o->k[o->n] = K_NAME; /* a total order, so that pages never overlap */
    o->desc[o->n++] = false;
    return 0;
}

typedef struct sortctx {
    const sortspec_t *spec;
} sortctx_t;

static int cmp_cand(const void *a, const void *b, void *ctx)
{
    const cand_t *x = a, *y = b;
    const sortspec_t *s = ((const sortctx_t *)ctx)->spec;
    for (size_t i = 0; i < s->n; i++) {
        int r = 0;
        switch (s->k[i]) {
        case K_NAME: r = strcmp(str_of(x->sum, "id"), str_of(y->sum, "id")); break;
        case K_TITLE: r = strcmp(x->title, y->title); break;
        case K_MODIFIED: r = strcmp(str_of(x->sum, "updated_at"), str_of(y->sum, "updated_at")); break;
        case K_CREATED: r = strcmp(str_of(x->meta, "created_at"), str_of(y->meta, "created_at")); break;
        }
        if (r)
            return s->desc[i] ? -r : r;
    }
    return 0;
}

/* CKAN's facets over the matching datasets: facets {field: {value: n}} and
 * search_facets {field: {"title", "items": [{"name","display_name","count"}]}}. */
static int facets(ck_t *c, cand_t *x, size_t n, json_t **facets_out, json_t **search_out)
{
    json_t *fields = NULL;
    long limit, mincount;
    *facets_out = json_object();
    *search_out = json_object();
    if (arg_list(c, "facet.field", &fields) != 0 || arg_long(c, "facet.limit", 50, -1, ALL, &limit) != 0 ||
        arg_long(c, "facet.mincount", 1, 0, ALL, &mincount) != 0 || orgs_load(c) != 0) {
        json_decref(fields);
        return -1;
    }
    size_t fi;
    json_t *fv;
    json_array_foreach(fields, fi, fv)
    {
        const char *f = json_string_value(fv);
        json_t *counts = json_object(), *names = json_object();
        for (size_t i = 0; i < n; i++) {
            const json_t *s = x[i].sum;
            json_t *vals = json_array();
            if (strcmp(f, "organization") == 0 && json_object_get(s, "organisation")) {
                const json_t *o = json_object_get(s, "organisation");
                json_array_append_new(vals, json_string(str_of(o, "id")));
                json_object_set_new(names, str_of(o, "id"), json_string(str_of(o, "name")));
            } else if (strcmp(f, "tags") == 0)
                json_array_extend(vals, json_object_get(s, "tags"));
            else if (strcmp(f, "res_format") == 0 && json_integer_value(json_object_get(s, "current_version")) > 0)
                json_array_append_new(vals, json_string("CSV"));
            else if (strcmp(f, "license_id") == 0) {
                if (cand_meta(c, &x[i]) != 0) {
                    json_decref(vals);
                    json_decref(counts);
                    json_decref(names);
                    json_decref(fields);
                    return -1;
                }
                kho_licence_info_t l = kho_licence_lookup(str_of(x[i].meta, "licence"));
                json_array_append_new(vals, json_string(l.id));
                json_object_set_new(names, l.id, json_string(l.title));
            }
            size_t k;
            json_t *v;
            json_array_foreach(vals, k, v)
            {
                const char *name = json_string_value(v);
                json_object_set_new(counts, name, json_integer(json_integer_value(json_object_get(counts, name)) + 1));
            }
            json_decref(vals);
        }
        /* items, most frequent first, then by name */
        size_t m = json_object_size(counts), k = 0;
        const char **keys = kho_xcalloc(m ? m : 1, sizeof *keys);
        const char *key;
        json_t *v;
        json_object_foreach(counts, key, v) keys[k++] = key;
        for (size_t i = 1; i < m; i++) /* insertion sort: facets are short */
            for (size_t j = i; j > 0; j--) {
                json_int_t a = json_integer_value(json_object_get(counts, keys[j - 1])),
                           b = json_integer_value(json_object_get(counts, keys[j]));
                if (a > b || (a == b && strcmp(keys[j - 1], keys[j]) <= 0))
                    break;
                const char *t = keys[j];
                keys[j] = keys[j - 1];
                keys[j - 1] = t;
            }
        json_t *fac = json_object(), *items = json_array();
        for (k = 0; k < m && (limit < 0 || (long)k < limit); k++) {
            json_int_t cnt = json_integer_value(json_object_get(counts, keys[k]));
            if (cnt < mincount)
                continue;
            const char *disp = json_string_value(json_object_get(names, keys[k]));
            json_object_set_new(fac, keys[k], json_integer(cnt));
            json_array_append_new(items, json_pack("{s:s,s:s,s:I}", "name", keys[k], "display_name",
                                                   disp ? disp : keys[k], "count", cnt));
        }
        free(keys);
        json_object_set_new(*facets_out, f, fac);
        json_object_set_new(*search_out, f, json_pack("{s:s,s:o}", "title", f, "items", items));
        json_decref(counts);
        json_decref(names);
    }
    json_decref(fields);
    return 0;
}

/* Only the fields of fl (a list; "*" or absent: the whole dictionary). */
static json_t *select_fields(json_t *pkg, const json_t *fl)
{
    if (!fl || (json_array_size(fl) == 1 && strcmp(json_string_value(json_array_get(fl, 0)), "*") == 0))
        return pkg;
    json_t *out = json_object();
    size_t i;
    json_t *f;
    json_array_foreach(fl, i, f)
    {
        json_t *v = json_object_get(pkg, json_string_value(f));
        if (v)
            json_object_set(out, json_string_value(f), v);
    }
    json_decref(pkg);
    return out;
}

static int search_read(ck_t *c, search_t *s, sortspec_t *sort, char *sort_text, size_t sort_size)
{
    const char *q, *fq, *sorts;
    json_t *fql = NULL;
    int r = arg_str(c, "q", &q);
    if (r == 0)
        r = arg_str(c, "fq", &fq);
    if (r == 0)
        r = arg_list(c, "fq_list", &fql);
    if (r == 0)
        r = arg_str(c, "sort", &sorts);
    if (r == 0 && q)
        r = parse_terms(s, q, "q", &c->e);
    if (r == 0 && fq)
        r = parse_terms(s, fq, "fq", &c->e);
    size_t i;
    json_t *f;
    json_array_foreach(fql, i, f) if (r == 0) r = parse_terms(s, json_string_value(f), "fq_list", &c->e);
    json_decref(fql);
    if (!sorts)
        sorts = "score desc, metadata_modified desc";
    snprintf(sort_text, sort_size, "%s", sorts);
    kho_utf8_repair(sort_text, strlen(sort_text));
    return r == 0 ? parse_sort(c, sorts, sort) : r;
}

static void cands_free(cand_t *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_decref(x[i].meta);
        free(x[i].title);
    }
    free(x);
}

static int a_package_search(ck_t *c, json_t **res)
{
    search_t *s = kho_xcalloc(1, sizeof *s);
    sortspec_t sort;
    char sort_text[300];
    long rows, start;
    bool private_too;
    json_t *fl = NULL, *list = NULL, *fac = NULL, *sfac = NULL, *results = NULL;
    cand_t *x = NULL;
    size_t n = 0;
    int r = search_read(c, s, &sort, sort_text, sizeof sort_text);
    if (r == 0)
        r = arg_long(c, "rows", SEARCH_ROWS, 0, ALL, &rows);
    if (r == 0)
        r = arg_long(c, "start", 0, 0, ALL, &start);
    if (r == 0)
        r = arg_bool(c, "include_private", true, &private_too);
    if (r == 0)
        r = arg_list(c, "fl", &fl);
    if (r == 0)
        r = visible_list(c, s->words.len ? kho_buf_cstr(&s->words) : NULL, "q", &list);
    if (r == 0) {
        x = kho_xcalloc(json_array_size(list) + 1, sizeof *x);
        size_t i;
        json_t *sum;
        json_array_foreach(list, i, sum)
        {
            if (!private_too && strcmp(str_of(sum, "sharing"), "open") != 0)
                continue;
            x[n].sum = sum;
            int m = cand_match(c, &x[n], s);
            if (m < 0) {
                r = -1;
                n++;
                break;
            }
            if (m)
                n++;
            else {
                json_decref(x[n].meta);
                x[n].meta = NULL;
            }
        }
    }
    for (size_t i = 0; r == 0 && i < n; i++) { /* sort keys */
        kho_buf_t f = KHO_BUF_INIT;
        kho_text_fold(str_of(x[i].sum, "title"), strlen(str_of(x[i].sum, "title")), &f);
        x[i].title = kho_buf_steal(&f, NULL);
        for (size_t k = 0; k < sort.n && r == 0; k++)
            if (sort.k[k] == K_CREATED)
                r = cand_meta(c, &x[i]);
    }
    if (r == 0) {
        sortctx_t ctx = {&sort};
        qsort_r(x, n, sizeof *x, cmp_cand, &ctx);
        r = facets(c, x, n, &fac, &sfac);
    }
    if (r == 0 && rows > SEARCH_ROWS_MAX)
        rows = SEARCH_ROWS_MAX; /* as CKAN does: capped, not refused */
    if (r == 0) {
        results = json_array();
        for (size_t i = (size_t)start; i < n && (long)(i - (size_t)start) < rows && r == 0; i++) {
            json_t *p = NULL;
            r = x[i].meta ? (orgs_load(c) == 0 ? 0 : -1) : package_load(c, str_of(x[i].sum, "id"), &p);
            if (r == 0 && x[i].meta)
                p = package_dict(c, x[i].meta);
            if (r == 0)
                json_array_append_new(results, select_fields(p, fl));
        }
    }
    if (r == 0)
        *res = json_pack("{s:I,s:O,s:O,s:s,s:O}", "count", (json_int_t)n, "results", results, "facets", fac, "sort",
                         sort_text, "search_facets", sfac);
    cands_free(x, n);
    json_decref(results);
    json_decref(fac);
    json_decref(sfac);
    json_decref(list);
    json_decref(fl);
    kho_buf_free(&s->words);
    free(s);
    return r;
}

/* ---- datastore_search --------------------------------------------------------------------
 *
 * The query is built with the query engine (warehouse/query.h), never as SQL
 * text: filters {col: value | [values] | null} become col=value (a list: any
 * of them; null: col__isnull), q a full-text search (or, as an object
 * {col: text}, col__contains on each), fields and sort (with _id read as the
 * row number _row), limit, offset, distinct. */

typedef enum { REC_OBJECTS, REC_LISTS, REC_CSV } recfmt_t;

typedef struct dsjob {
    ck_t *c;
    kho_version_info_t v;
    char slug[128];
    kho_query_t q;
    bool q_init;
    kho_rows_view_t view;
    bool audit, include_total, want_id;
    recfmt_t fmt;
    int64_t limit, budget_ms;
    kho_audit_caller_t caller;
    json_t *audit_details; /* owned */
    json_t *echo;          /* parameters repeated in the result, as read (owned) */
    char *links;           /* "/api/3/action/datastore_search?..." without offset (owned) */
    kho_buf_t out;         /* the result object */
    kho_buf_t csv;         /* records_format=csv: the records */
    int64_t rows_out;
    int rc;
    char *cache_key;       /* the answer's key in the response cache (owned; NULL: not kept) */
} dsjob_t;

static void ds_free(dsjob_t *j)
{
    if (j->q_init)
        kho_query_free(&j->q);
    kho_version_info_free(&j->v);
    json_decref(j->audit_details);
    json_decref(j->echo);
    free(j->links);
    kho_buf_free(&j->out);
    kho_buf_free(&j->csv);
    free(j->cache_key);
    ck_free(j->c);
    free(j);
}

static int ds_filter_one(dsjob_t *j, const char *col, const json_t *val)
{
    kho_err_t err;
    char tmp[64];
    int r;
    if (json_is_null(val))
        r = kho_query_add_filter(&j->q, col, "isnull", "true", &err);
    else if (json_is_object(val) || json_is_array(val))
        return invalid(&j->c->e, "filters", "the filter on '%.64s' must be a value or a list of values", col);
    else {
        scalar_text(val, tmp, sizeof tmp);
        r = kho_query_add_filter(&j->q, col, "eq", json_is_string(val) ? json_string_value(val) : tmp, &err);
    }
    return r == 0 ? 0 : from_kho(&j->c->e, &err, "filters");
}

static int ds_filters(dsjob_t *j)
{
    json_t *f = NULL;
    if (arg_object(j->c, "filters", &f) != 0)
        return -1;
    const char *col;
    json_t *val;
    int r = 0;
    json_object_foreach(f, col, val)
    {
        if (strcmp(col, "_id") == 0)
            r = invalid(&j->c->e, "filters", "filtering on _id is not supported (page with offset)");
        else if (json_is_array(val) && json_array_size(val) == 0)
            r = invalid(&j->c->e, "filters", "the filter on '%.64s' has an empty list of values", col);
        else if (json_is_array(val)) {
            size_t i;
            json_t *x;
            json_array_foreach(val, i, x) if (r == 0) r = ds_filter_one(j, col, x);
        } else
            r = ds_filter_one(j, col, val);
        if (r != 0)
            break;
    }
    json_decref(f);
    return r;
}

/* q: a text for the full-text search, or {col: text} matched with col__contains. */
static int ds_text(dsjob_t *j)
{
    ck_t *c = j->c;
    json_t *v = arg(c, "q"), *o = NULL;
    kho_err_t err;
    if (!v)
        return 0;
    if (json_is_object(v))
        o = json_incref(v);
    else if (json_is_string(v) && json_string_value(v)[0] == '{') {
        o = json_loads(json_string_value(v), JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(o)) { /* not an object after all: plain text, as CKAN reads it */
            json_decref(o);
            o = NULL;
        }
    } else if (!json_is_string(v))
        return invalid(&c->e, "q", "q is a text, or an object {\"column\": \"text\"}");
    int r = 0;
    if (o) {
        const char *col;
        json_t *t;
        json_object_foreach(o, col, t)
        {
            if (!json_is_string(t)) {
                r = invalid(&c->e, "q", "q: the text for '%.64s' must be a string", col);
                break;
            }
            if (kho_query_add_filter(&j->q, col, "contains", json_string_value(t), &err) != 0) {
                r = from_kho(&c->e, &err, "q");
                break;
            }
        }
        json_decref(o);
        return r;
    }
    if (json_string_length(v) && kho_query_set_text(&j->q, json_string_value(v), &err) != 0)
        return from_kho(&c->e, &err, "q");
    return 0;
}

/* fields (without _id) and sort (with _id as _row), as the query engine takes them. */
static int ds_fields_sort(dsjob_t *j, bool distinct)
{
    ck_t *c = j->c;
    json_t *fl = NULL, *sl = NULL;
    kho_err_t err;
    int r = arg_list(c, "fields", &fl);
    if (r == 0)
        r = arg_list(c, "sort", &sl);
    j->want_id = !fl && !distinct;
    kho_buf_t spec = KHO_BUF_INIT;
    size_t i;
    json_t *x;
    json_array_foreach(fl, i, x)
    {
        const char *f = json_string_value(x);
        if (strcmp(f, "_id") == 0) {
            j->want_id = true;
            continue;
        }
        if (spec.len)
            kho_buf_putc(&spec, ',');
        kho_buf_puts(&spec, f);
    }
    if (r == 0 && fl && !spec.len)
        r = invalid(&c->e, "fields", "fields must name at least one column besides _id");
    if (r == 0 && fl && kho_query_set_fields(&j->q, spec.data, &err) != 0)
        r = from_kho(&c->e, &err, "fields");
    kho_buf_reset(&spec);
    json_array_foreach(sl, i, x)
    {
        const char *s = json_string_value(x);
        size_t n = strcspn(s, " ");
        if (spec.len)
            kho_buf_putc(&spec, ',');
        if ((n == 3 && strncmp(s, "_id", 3) == 0) || (n == 5 && strncmp(s, "\"_id\"", 5) == 0)) {
            kho_buf_puts(&spec, "_row");
            kho_buf_puts(&spec, s + n);
        } else
            kho_buf_puts(&spec, s);
    }
    if (r == 0 && sl && spec.len && kho_query_set_sort(&j->q, spec.data, true, &err) != 0)
        r = from_kho(&c->e, &err, "sort");
    kho_buf_free(&spec);
    json_decref(fl);
    json_decref(sl);
    return r;
}

static char *ds_links(const ck_t *c)
{
    kho_buf_t b = KHO_BUF_INIT;
    kho_buf_puts(&b, "/api/3/action/datastore_search?");
    bool first = true;
    const char *key;
    json_t *v;
    json_object_foreach(c->args, key, v)
    {
        if (strcmp(key, "offset") == 0 || json_is_null(v))
            continue;
        if (!first)
            kho_buf_putc(&b, '&');
        first = false;
        url_encode(&b, key);
        kho_buf_putc(&b, '=');
        bool strings = json_is_array(v);
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) strings = strings && json_is_string(x);
        if (json_is_string(v))
            url_encode(&b, json_string_value(v));
        else if (strings) {
            kho_buf_t j = KHO_BUF_INIT;
            json_array_foreach(v, i, x)
            {
                if (i)
                    kho_buf_putc(&j, ',');
                kho_buf_puts(&j, json_string_value(x));
            }
            url_encode(&b, kho_buf_cstr(&j));
            kho_buf_free(&j);
        } else if (json_is_array(v) || json_is_object(v)) {
            kho_buf_t j = KHO_BUF_INIT;
            kho_json_dump(&j, v, 0);
            url_encode(&b, kho_buf_cstr(&j));
            kho_buf_free(&j);
        } else {
            char tmp[64];
            scalar_text(v, tmp, sizeof tmp);
            url_encode(&b, tmp);
        }
    }
    return kho_buf_steal(&b, NULL);
}

static bool ds_simple(const kho_query_t *q)
{
    return q->nfilters == 0 && !q->text && !q->distinct && q->nsort == 1 && q->sort[0].col == KHO_QUERY_ROW &&
           !q->sort[0].desc;
}

/* CKAN repeats q, filters, sort, distinct and offset in the result, as it read them. */
static void ds_echo(dsjob_t *j, bool distinct, long offset)
{
    ck_t *c = j->c;
    json_t *v, *f = NULL;
    j->echo = json_object();
    if ((v = arg(c, "q")) != NULL) {
        json_t *o = json_is_string(v) && json_string_value(v)[0] == '{' ? json_loads(json_string_value(v), 0, NULL) : NULL;
        json_object_set_new(j->echo, "q", json_is_object(o) ? json_incref(o) : json_incref(v));
        json_decref(o);
    }
    if (arg_object(c, "filters", &f) == 0 && f)
        json_object_set_new(j->echo, "filters", f);
    if ((v = arg(c, "sort")) != NULL)
        json_object_set(j->echo, "sort", v);
    if (arg(c, "distinct"))
        json_object_set_new(j->echo, "distinct", json_boolean(distinct));
    if (arg(c, "offset"))
        json_object_set_new(j->echo, "offset", json_integer(offset));
}

/* Read every parameter into j; on failure c->e is set. */
static int ds_parse(dsjob_t *j)
{
    ck_t *c = j->c;
    const char *rid, *rf;
    long limit, offset;
    bool distinct;
    kho_err_t err;
    kho_dsfacts_t facts;
    kho_decision_t d;
    if (arg_str(c, "resource_id", &rid) != 0 || (!rid && arg_str(c, "id", &rid) != 0))
        return -1;
    if (!rid)
        return invalid(&c->e, "resource_id", "Missing value: give \"resource_id\" (a dataset id)");
    snprintf(j->slug, sizeof j->slug, "%.127s", rid);
    if (dataset_access(c, rid, &facts, &d, "Resource") != 0)
        return -1;
    if (kho_catalog_version(c->db, j->slug, 0, &j->v, &err) != 0) {
        if (err.code == KHO_ENOTFOUND)
            return ckfail(&c->e, 404, "Not Found Error", NULL, "Not found: Resource \"%s\" has no data yet", j->slug);
        return from_kho(&c->e, &err, NULL);
    }
    facts.personal = kho_rows_has_personal(&j->v);
    d = kho_access_decide(c->who, &facts, KHO_ACT_READ);
    j->view.mask = d.mask;
    j->view.keys = kho_guard_keys(c->rc->guard);
    j->audit = d.audit && !h2o_memis(c->rc->req->method.base, c->rc->req->method.len, H2O_STRLIT("HEAD"));
    int64_t max = kho_config_int(c->rc->cfg, "rows_max_limit");
    kho_query_init(&j->q, &j->v, j->slug, 100);
    j->q_init = true;
    if (arg_bool(c, "distinct", false, &distinct) != 0 || arg_long(c, "limit", 100, 0, ALL, &limit) != 0 ||
        arg_long(c, "offset", 0, 0, LONG_MAX / 2, &offset) != 0 || arg_bool(c, "include_total", true, &j->include_total) != 0 ||
        arg_str(c, "records_format", &rf) != 0)
        return -1;
    if (!rf || strcmp(rf, "objects") == 0)
        j->fmt = REC_OBJECTS;
    else if (strcmp(rf, "lists") == 0)
        j->fmt = REC_LISTS;
    else if (strcmp(rf, "csv") == 0)
        j->fmt = REC_CSV;
    else
        return invalid(&c->e, "records_format", "records_format is objects, lists or csv, not '%.20s'", rf);
    j->limit = limit < max ? limit : max; /* as CKAN does with rows_max: capped, not refused */
    j->q.limit = j->limit > 0 ? j->limit : 1;
    j->q.limit_set = true;
    j->q.offset = offset;
    j->q.distinct = distinct;
    if (ds_filters(j) != 0 || ds_text(j) != 0 || ds_fields_sort(j, distinct) != 0)
        return -1;
    if (j->q.text && !j->q.sort_set && kho_text_has_marks(j->q.text, strlen(j->q.text))) {
        /* as the rows endpoint: rows with the words exactly as written first */
        j->q.sort[0] = (kho_qsort_t){KHO_QUERY_EXACT, true};
        j->q.sort[1] = (kho_qsort_t){KHO_QUERY_ROW, false};
        j->q.nsort = 2;
    }
    if (kho_query_check_view(&j->q, &j->view, &err) != 0)
        return from_kho(&c->e, &err, NULL);
    j->budget_ms = kho_config_int(c->rc->cfg, "query_time_limit_ms");
    j->links = ds_links(c);
    ds_echo(j, distinct, offset);
    if (j->audit) {
        kho_guard_audit_caller(c->rc, &j->caller);
        j->audit_details = json_pack("{s:I,s:O,s:b,s:s}", "version", (json_int_t)j->v.number, "query", c->args,
                                     "masked", j->view.mask, "via", "ckan datastore_search");
    }
    return 0;
}

static const char *ckan_type(const kho_column_t *col, bool masked)
{
    if (masked && kho_tags_personal(col->tags))
        return "text";
    switch (col->type) {
    case KHO_TYPE_INTEGER: return "int";
    case KHO_TYPE_REAL: return "numeric";
    case KHO_TYPE_BOOLEAN: return "bool";
    case KHO_TYPE_DATE: return "date";
    case KHO_TYPE_DATETIME: return "timestamp";
    default: return "text";
    }
}

/* One record in the chosen format. */
static int ds_row(dsjob_t *j, kho_qrun_t *run, kho_buf_t *scratch, kho_err_t *err)
{
    kho_buf_t *b = j->fmt == REC_CSV ? &j->csv : &j->out;
    bool first = kho_query_rows_out(run) == 1;
    long long id = 0;
    if (j->fmt == REC_OBJECTS || j->want_id) {
        kho_buf_reset(scratch);
        if (kho_query_row_object(run, scratch, err) != 0)
            return -1;
        if (scratch->len < 9 || memcmp(scratch->data, "{\"_row\":", 8) != 0)
            return kho_err_set(err, KHO_EINTERNAL, "a row did not start with its number");
        char *end = NULL;
        id = strtoll(scratch->data + 8, &end, 10);
        if (j->fmt == REC_OBJECTS) {
            if (!first)
                kho_buf_putc(b, ',');
            if (j->want_id) {
                kho_buf_puts(b, "{\"_id\":");
                kho_buf_append(b, scratch->data + 8, scratch->len - 8);
            } else {
                kho_buf_putc(b, '{');
                if (*end == ',')
                    end++;
                kho_buf_append(b, end, scratch->len - (size_t)(end - scratch->data));
            }
            return 0;
        }
    }
    if (j->fmt == REC_LISTS) {
        if (!first)
            kho_buf_putc(b, ',');
        kho_buf_reset(scratch);
        if (kho_query_row_array(run, scratch, err) != 0)
            return -1;
        if (j->want_id) {
            kho_buf_printf(b, "[%lld", id);
            if (scratch->len > 2)
                kho_buf_putc(b, ',');
            kho_buf_append(b, scratch->data + 1, scratch->len - 1);
        } else
            kho_buf_append(b, scratch->data, scratch->len);
        return 0;
    }
    if (j->want_id)
        kho_buf_printf(b, "%lld,", id);
    return kho_query_row_csv(run, b, err);
}

static int ds_records(kho_store_t *db, dsjob_t *j, kho_err_t *err)
{
    if (j->limit == 0)
        return 0;
    bool timed = !ds_simple(&j->q) && j->budget_ms > 0;
    if (timed)
        kho_store_deadline(db, j->budget_ms);
    kho_qrun_t *run = NULL;
    kho_buf_t scratch = KHO_BUF_INIT;
    int rc = kho_query_open(db, &j->q, &j->view, false, &run, err);
    while (rc == 0 && (rc = kho_query_next(run, err)) == KHO_STEP_ROW)
        rc = ds_row(j, run, &scratch, err);
    if (timed)
        kho_store_deadline(db, 0);
    if (run)
        j->rows_out = kho_query_rows_out(run);
    kho_query_close(run);
    kho_buf_free(&scratch);
    if (rc == KHO_ETIMEOUT)
        kho_err_setk(err, KHO_ETIMEOUT, "timeout",
                     "the query took longer than the limit of %lld ms: narrow it with filters, or export the rows "
                     "with /api/v1/datasets/%s/rows?_format=csv (exports have no time limit)",
                     (long long)j->budget_ms, j->slug);
    return rc < 0 ? rc : 0;
}


/* The result object into j->out; on failure j->c->e is set and -1 returned. */
static int ds_run(kho_store_t *db, dsjob_t *j)
{
    static const char *const fmts[] = {"objects", "lists", "csv"};
    const kho_query_t *q = &j->q;
    kho_buf_t *b = &j->out;
    kho_err_t err;
    kho_buf_printf(b, "{\"include_total\":%s,\"limit\":%lld,\"records_format\":\"%s\",\"resource_id\":",
                   j->include_total ? "true" : "false", (long long)j->limit, fmts[j->fmt]);
    kho_json_cstr(b, j->slug);
    kho_buf_puts(b, ",\"total_estimation_threshold\":null");
    const char *key;
    json_t *v;
    json_object_foreach(j->echo, key, v)
    {
        kho_buf_printf(b, ",\"%s\":", key);
        kho_json_dump(b, v, 0);
    }
    kho_buf_puts(b, ",\"fields\":[");
    if (j->want_id)
        kho_buf_puts(b, "{\"id\":\"_id\",\"type\":\"int\"}");
    size_t nf = q->fields ? q->nfields : j->v.ncols;
    for (size_t k = 0; k < nf; k++) {
        const kho_column_t *col = &j->v.cols[q->fields ? q->fields[k] : (int)k];
        kho_buf_puts(b, k || j->want_id ? ",{\"id\":" : "{\"id\":");
        kho_json_cstr(b, col->name);
        kho_buf_printf(b, ",\"type\":\"%s\",\"info\":{\"label\":", ckan_type(col, j->view.mask));
        kho_json_cstr(b, col->label ? col->label : col->name);
        kho_buf_puts(b, "}}");
    }
    kho_buf_puts(b, j->fmt == REC_CSV ? "],\"records\":" : "],\"records\":[");
    if (ds_records(db, j, &err) != 0)
        return from_kho(&j->c->e, &err, NULL);
    if (j->fmt == REC_CSV)
        kho_json_str(b, j->csv.data ? j->csv.data : "", j->csv.len);
    else
        kho_buf_putc(b, ']');
    kho_buf_puts(b, ",\"_links\":{\"start\":");
    kho_json_cstr(b, j->links);
    kho_buf_puts(b, ",\"next\":");
    kho_buf_t next = KHO_BUF_INIT;
    kho_buf_printf(&next, "%s&offset=%lld", j->links, (long long)(q->offset + j->limit));
    kho_json_cstr(b, next.data);
    kho_buf_free(&next);
    kho_buf_putc(b, '}');
    if (j->include_total) {
        int64_t total = 0;
        bool lower = false;
        if (kho_query_count(db, q, j->budget_ms, &total, &lower, &err) != 0)
            return from_kho(&j->c->e, &err, NULL);
        kho_buf_printf(b, ",\"total\":%lld,\"total_was_estimated\":%s", (long long)total, lower ? "true" : "false");
    }
    kho_buf_printf(b, ",\"kho\":{\"version\":%lld,\"masked\":%s}}", (long long)j->v.number,
                   j->view.mask ? "true" : "false");
    return 0;
}

static void ds_done(h2o_req_t *req, void *data)
{
    dsjob_t *j = data;
    if (j->rc == 0 && j->audit) {
        json_t *d = j->audit_details;
        j->audit_details = NULL;
        json_object_set_new(d, "rows", json_integer(j->rows_out));
        kho_guard_audit_caller_event(&j->caller, "read", j->slug, d);
    }
    if (j->rc == 0) {
        if (j->cache_key) /* on the request's loop */
            kho_respcache_put(j->cache_key, j->out.data, j->out.len);
        send_envelope(req, j->c->help, 200, "result", j->out.data, j->out.len);
    } else
        send_ckerr(req, j->c->help, &j->c->e);
    ds_free(j);
}

/* The result of a datastore_search over an immutable version depends only on
 * the version, how the caller sees it and the request's parameters (query
 * string or body): answers that are not audited are kept in the response cache
 * under that (api/respcache.h). True when answered from it. */
static bool ds_cached(kho_reqctx_t *rc, dsjob_t *j)
{
    if (j->audit)
        return false;
    h2o_req_t *req = rc->req;
    kho_buf_t k = KHO_BUF_INIT;
    kho_buf_printf(&k, "ckan_ds|%lld|%lld|%d|", (long long)j->v.dataset_id, (long long)j->v.number,
                   j->view.mask ? 1 : 0);
    if (req->query_at != SIZE_MAX && req->query_at < req->path.len)
        kho_buf_append(&k, req->path.base + req->query_at + 1, req->path.len - req->query_at - 1);
    kho_buf_putc(&k, '|');
    if (req->entity.base && req->entity.len)
        kho_buf_append(&k, req->entity.base, req->entity.len);
    j->cache_key = kho_buf_steal(&k, NULL);
    size_t len = 0;
    const char *body = kho_respcache_get(j->cache_key, &len);
    if (!body)
        return false;
    send_envelope(req, j->c->help, 200, "result", body, len);
    return true;
}

static void ds_work(void *data)
{
    dsjob_t *j = data;
    kho_store_t *db = kho_server_worker_db(j->c->srv);
    if (!db) {
        j->rc = ckfail(&j->c->e, 503, "Service Unavailable", NULL, "no database connection on this worker");
        return;
    }
    kho_store_snapshot_begin(db);
    j->rc = ds_run(db, j);
    kho_store_snapshot_end(db);
}

static void c_datastore_search(ck_t *c)
{
    dsjob_t *j = kho_xcalloc(1, sizeof *j);
    j->c = c;
    kho_reqctx_t *rc = c->rc;
    if (ds_parse(j) != 0) {
        send_ckerr(rc->req, c->help, &c->e);
        ds_free(j);
        return;
    }
    if (ds_cached(rc, j)) {
        ds_free(j);
        return;
    }
    if (ds_simple(&j->q) || kho_query_is_index_lookup(rc->db, &j->q)) { /* index seeks or lookups: on the loop */
        j->rc = ds_run(rc->db, j);
        ds_done(rc->req, j);
        return;
    }
    if (kho_server_defer(rc, ds_work, ds_done, j) != 0)
        ds_free(j);
}

/* ---- datastore_search_sql ------------------------------------------------------------------ */

/* CKAN names a table by its resource id in double quotes ("ho-so-dich-vu-cong");
 * the sandbox by the dataset id with '-' made '_' (warehouse/sandbox.h). Rename
 * double-quoted identifiers that look like dataset ids with a '-', outside
 * string literals and comments; nothing else changes (the sandbox's own checks
 * decide what may be read). New string. */
static char *sandbox_sql(const char *sql, size_t n)
{
    kho_buf_t b = KHO_BUF_INIT;
    size_t i = 0;
    while (i < n) {
        char ch = sql[i];
        size_t j = i + 1;
        if (ch == '\'') { /* a string literal, '' inside */
            while (j < n && !(sql[j] == '\'' && (j + 1 >= n || sql[j + 1] != '\'')))
                j += sql[j] == '\'' ? 2 : 1;
            j = j < n ? j + 1 : n;
        } else if (ch == '-' && j < n && sql[j] == '-') {
            while (j < n && sql[j] != '\n')
                j++;
        } else if (ch == '/' && j < n && sql[j] == '*') {
            const char *end = strstr(sql + j + 1, "*/");
            j = end && (size_t)(end - sql) < n ? (size_t)(end - sql) + 2 : n;
        } else if (ch == '"') {
            while (j < n && sql[j] != '"')
                j++;
            size_t len = j - i - 1;
            bool slug = len >= 2 && len <= 100 && memchr(sql + i + 1, '-', len) != NULL;
            for (size_t k = i + 1; slug && k < j; k++)
                slug = (sql[k] >= 'a' && sql[k] <= 'z') || (sql[k] >= '0' && sql[k] <= '9') || sql[k] == '-' ||
                       sql[k] == '_';
            if (slug && j < n) {
                kho_buf_putc(&b, '"');
                if (len >= 7 && strncmp(sql + i + 1, "sqlite-", 7) == 0)
                    kho_buf_puts(&b, "ds_");
                for (size_t k = i + 1; k < j; k++)
                    kho_buf_putc(&b, sql[k] == '-' ? '_' : sql[k]);
                kho_buf_putc(&b, '"');
                i = j + 1;
                continue;
            }
            j = j < n ? j + 1 : n;
        }
        kho_buf_append(&b, sql + i, j - i);
        i = j;
    }
    return kho_buf_steal(&b, NULL);
}

typedef struct sqljob {
    ck_t *c;
    kho_principal_t who;
    char *sql;     /* the caller's text (owned) */
    char *run_sql; /* with resource ids renamed (owned) */
    kho_keyring_t *keys;
    int64_t time_ms, max_rows;
    kho_audit_caller_t caller;
    kho_buf_t out;
    kho_sandbox_result_t res;
    json_t *result;
    int rc;
} sqljob_t;

static void sql_free(sqljob_t *j)
{
    free(j->sql);
    free(j->run_sql);
    kho_buf_free(&j->out);
    kho_sandbox_result_free(&j->res);
    json_decref(j->result);
    ck_free(j->c);
    free(j);
}

static int buf_sink(void *ctx, const char *p, size_t n)
{
    kho_buf_append(ctx, p, n);
    return 0;
}

static const char *value_type(const json_t *v)
{
    return json_is_integer(v) ? "int" : json_is_real(v) ? "numeric" : json_is_boolean(v) ? "bool" : "text";
}

/* The sandbox's {"columns","rows",...} as CKAN's {"sql","records","fields"}. */
static json_t *sql_result(sqljob_t *j, json_t *out)
{
    json_t *cols = json_object_get(out, "columns"), *rows = json_object_get(out, "rows");
    size_t nc = json_array_size(cols), i, k;
    json_t *names = json_array(), *fields = json_array(), *records = json_array(), *row, *v;
    for (k = 0; k < nc; k++) { /* a repeated name gets _2, _3 ... as the NDJSON output does */
        const char *name = json_string_value(json_array_get(cols, k));
        char key[300];
        snprintf(key, sizeof key, "%s", name ? name : "");
        int dup = 1;
        for (size_t m = 0; m < k; m++)
            if (strcmp(json_string_value(json_array_get(names, m)), key) == 0) {
                snprintf(key, sizeof key, "%s_%d", name ? name : "", ++dup);
                m = (size_t)-1;
            }
        json_array_append_new(names, json_string(key));
    }
    for (k = 0; k < nc; k++) {
        const char *type = "text";
        json_array_foreach(rows, i, row) if (!json_is_null(v = json_array_get(row, k)))
        {
            type = value_type(v);
            break;
        }
        json_array_append_new(fields, json_pack("{s:O,s:s}", "id", json_array_get(names, k), "type", type));
    }
    json_array_foreach(rows, i, row)
    {
        json_t *rec = json_object();
        for (k = 0; k < nc; k++)
            json_object_set(rec, json_string_value(json_array_get(names, k)), json_array_get(row, k));
        json_array_append_new(records, rec);
    }
    json_decref(names);
    json_t *r = json_pack("{s:s,s:o,s:o,s:b}", "sql", j->sql, "records", records, "fields", fields,
                          "records_truncated", json_is_true(json_object_get(out, "truncated")));
    json_object_set_new(r, "kho", json_pack("{s:O,s:O,s:O}", "row_count", json_object_get(out, "row_count"),
                                            "time_ms", json_object_get(out, "time_ms"), "tables", j->res.tables));
    return r;
}

static void sql_work(void *data)
{
    sqljob_t *j = data;
    ck_t *c = j->c;
    kho_err_t err;
    kho_store_t *db = kho_server_worker_db(c->srv);
    if (!db) {
        j->rc = ckfail(&c->e, 503, "Service Unavailable", NULL, "no database connection on this worker");
        return;
    }
    kho_sandbox_query_t sq = {.sql = j->run_sql,
                              .len = strlen(j->run_sql),
                              .who = &j->who,
                              .fmt = KHO_OUT_JSON,
                              .time_limit_ms = j->time_ms,
                              .max_rows = j->max_rows,
                              .max_bytes = SQL_MAX_BYTES,
                              .keys = j->keys};
    int r = kho_sandbox_run(db, &sq, buf_sink, &j->out, &j->res, &err);
    if (r != 0) {
        j->rc = from_kho(&c->e, &err, "sql");
        if (err.code == KHO_EINVAL || err.code == KHO_ETOOLARGE) {
            c->e.extra = json_pack("{s:{s:[s],s:i}}", "info", "statement", j->sql, "position", j->res.offset);
            if (c->e.status == 409 && strcmp(c->e.field, "sql") == 0)
                snprintf(c->e.field, sizeof c->e.field, "query");
        }
        return;
    }
    json_error_t je;
    json_t *out = json_loadb(j->out.data ? j->out.data : "", j->out.len, 0, &je);
    if (!json_is_object(out)) {
        json_decref(out);
        j->rc = ckfail(&c->e, 500, "Internal Server Error", NULL, "Internal Server Error: the sandbox's output did not "
                                                                   "parse (%s)", je.text);
        return;
    }
    j->result = sql_result(j, out);
    json_decref(out);
    j->rc = 0;
}

static void sql_done(h2o_req_t *req, void *data)
{
    sqljob_t *j = data;
    size_t i;
    json_t *a;
    if (j->rc == 0)
        json_array_foreach(j->res.audit, i, a)
        {
            json_t *d = json_pack("{s:O,s:O,s:O,s:s%,s:I,s:s}", "version", json_object_get(a, "version"), "table",
                                  json_object_get(a, "table"), "personal", json_object_get(a, "personal"), "sql",
                                  j->sql, strlen(j->sql) > KHO_SANDBOX_AUDIT_SQL ? (size_t)KHO_SANDBOX_AUDIT_SQL
                                                                               : strlen(j->sql),
                                  "rows", (json_int_t)j->res.rows, "via", "ckan datastore_search_sql");
            kho_guard_audit_caller_event(&j->caller, "sql", str_of(a, "dataset"), d);
        }
    if (j->rc == 0) {
        send_result(req, j->c->help, j->result);
        j->result = NULL;
    } else
        send_ckerr(req, j->c->help, &j->c->e);
    sql_free(j);
}

static void c_datastore_search_sql(ck_t *c)
{
    const char *sql;
    kho_reqctx_t *rc = c->rc;
    if (arg_str(c, "sql", &sql) != 0 || (!sql && invalid(&c->e, "sql", "Missing value: give \"sql\"") != 0)) {
        answer_error(c);
        return;
    }
    if (strlen(sql) > KHO_SANDBOX_MAX_SQL) {
        invalid(&c->e, "sql", "the query is %zu bytes long; at most %d", strlen(sql), KHO_SANDBOX_MAX_SQL);
        answer_error(c);
        return;
    }
    sqljob_t *j = kho_xcalloc(1, sizeof *j);
    j->c = c;
    j->who = rc->who;
    j->sql = kho_xstrdup(sql);
    j->run_sql = sandbox_sql(sql, strlen(sql));
    j->keys = kho_guard_keys(rc->guard);
    j->time_ms = kho_config_int(rc->cfg, "sql_time_limit_ms");
    j->max_rows = kho_config_int(rc->cfg, "sql_max_rows");
    j->res.offset = -1;
    kho_guard_audit_caller(rc, &j->caller);
    if (kho_server_defer(rc, sql_work, sql_done, j) != 0)
        sql_free(j);
}

/* ---- the actions ------------------------------------------------------------------------------ */

static int a_help_show(ck_t *c, json_t **res);

struct action {
    const char *name;
    int (*fn)(ck_t *c, json_t **result); /* builds the result (new reference) or sets c->e */
    void (*custom)(ck_t *c);              /* answers by itself and frees c */
    bool worker;                          /* run fn on a worker thread */
    const char *doc;
};

static const action_t ACTIONS[] = {
    {"package_list", a_package_list, NULL, false,
     "Return the ids (names) of the datasets you may read, sorted. Parameters: limit, offset."},
    {"package_show", a_package_show, NULL, false,
     "Return a dataset as a CKAN package. Parameters: id (the dataset id)."},
    {"package_search", a_package_search, NULL, true,
     "Search datasets. Parameters: q (words, with or without tone marks, and field:value terms), fq, fq_list, rows "
     "(default 10, at most 1000), start, sort (metadata_modified, metadata_created, name, id, title_string, score; "
     "asc or desc), fl, facet.field, facet.limit, facet.mincount, include_private."},
    {"resource_show", a_resource_show, NULL, false,
     "Return a dataset's resource (its rows as CSV). Parameters: id (the resource id, which is the dataset id)."},
    {"organization_list", a_organization_list, NULL, false,
     "Return the organisations' names, or their dictionaries with all_fields=true. Parameters: all_fields, sort "
     "(name, title, package_count; asc or desc), limit, offset, organizations."},
    {"organization_show", a_organization_show, NULL, true,
     "Return an organisation. Parameters: id, include_datasets (default false)."},
    {"tag_list", a_tag_list, NULL, false, "Return the tags of the datasets you may read. Parameters: query, all_fields."},
    {"group_list", a_group_list, NULL, false, "Return the groups: kho has organisations, not groups, so []."},
    {"status_show", a_status_show, NULL, false, "Return the site's name, address and the CKAN API level it offers."},
    {"help_show", a_help_show, NULL, false, "Return the help text of an action. Parameters: name."},
    {"datastore_search", NULL, c_datastore_search, false,
     "Search a resource's rows. Parameters: resource_id (a dataset id), filters ({column: value or [values]}), q "
     "(text, or {column: text}), fields, sort (\"col asc, col2 desc\"), limit (default 100), offset, distinct, "
     "include_total (default true), records_format (objects, lists or csv)."},
    {"datastore_search_sql", NULL, c_datastore_search_sql, false,
     "Run a read-only SQL SELECT through kho's SQL sandbox. Parameters: sql. Tables are named by resource id in "
     "double quotes (\"ho-so-dich-vu-cong\") or by the sandbox's names (ho_so_dich_vu_cong)."},
};

#define NACTIONS (sizeof ACTIONS / sizeof ACTIONS[0])

static const action_t *find_action(const char *name)
{
    for (size_t i = 0; i < NACTIONS; i++)
        if (strcmp(ACTIONS[i].name, name) == 0)
            return &ACTIONS[i];
    return NULL;
}

static int a_help_show(ck_t *c, json_t **res)
{
    const char *name;
    if (arg_str(c, "name", &name) != 0)
        return -1;
    if (!name)
        return invalid(&c->e, "name", "Missing value: give \"name\" (an action)");
    const action_t *a = find_action(name);
    if (!a)
        return ckfail(&c->e, 404, "Not Found Error", NULL, "Not found: Action function not found: %.64s", name);
    *res = json_string(a->doc);
    return 0;
}

/* CKAN's actions that change something: kho's CKAN API is read-only. */
static bool write_action(const char *name)
{
    static const char *const suffixes[] = {"_create", "_update", "_patch", "_delete", "_purge", "_upsert", "_revise"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && strcmp(name + n - k, suffixes[i]) == 0)
            return true;
    }
    return false;
}

static void act_work(void *data)
{
    ck_t *c = data;
    c->db = kho_server_worker_db(c->srv);
    if (!c->db) {
        ckfail(&c->e, 503, "Service Unavailable", NULL, "no database connection on this worker");
        return;
    }
    kho_store_snapshot_begin(c->db);
    json_t *res = NULL;
    if (c->act->fn(c, &res) == 0)
        c->result = res ? res : json_null();
    kho_store_snapshot_end(c->db);
}

static void act_done(h2o_req_t *req, void *data)
{
    ck_t *c = data;
    if (c->result) {
        send_result(req, c->help, c->result);
        c->result = NULL;
    } else
        send_ckerr(req, c->help, &c->e);
    ck_free(c);
}

void kho_h_ckan_action(kho_reqctx_t *rc)
{
    ck_t *c = kho_xcalloc(1, sizeof *c);
    c->rc = rc;
    c->srv = rc->srv;
    c->db = rc->db;
    c->who = &rc->who;
    c->scratch = json_array();
    kho_h_base_url(rc, c->base, sizeof c->base);
    const char *name = rc->var[0];
    kho_buf_t h = KHO_BUF_INIT;
    char shortname[65];
    snprintf(shortname, sizeof shortname, "%s", name);
    kho_buf_printf(&h, "%s/api/3/action/help_show?name=", c->base);
    url_encode(&h, shortname);
    snprintf(c->help, sizeof c->help, "%s", h.data);
    kho_buf_free(&h);
    kho_err_t err;
    c->act = find_action(name);
    if (!c->act) {
        if (write_action(name))
            ckfail(&c->e, 403, "Authorization Error", NULL,
                   "Access denied: kho's CKAN API is read-only; publish with POST /api/v1/datasets/{id}/versions");
        else
            ckfail(&c->e, 400, "Bad Request", NULL, "Bad request - Action name not known: %.64s", name);
        answer_error(c);
        return;
    }
    if (read_args(rc, &c->args, &c->e) != 0 ||
        (kho_guard_visibility(rc, &c->vis, &err) != 0 && from_kho(&c->e, &err, NULL) != 0)) {
        answer_error(c);
        return;
    }
    if (c->act->custom) {
        c->act->custom(c);
        return;
    }
    if (c->act->worker) {
        if (kho_server_defer(rc, act_work, act_done, c) != 0)
            ck_free(c);
        return;
    }
    json_t *res = NULL;
    if (c->act->fn(c, &res) == 0)
        send_result(rc->req, c->help, res);
    else
        send_ckerr(rc->req, c->help, &c->e);
    ck_free(c);
}
