/* h_datasets — catalog, rows and uploads (see h_datasets.h). */
#include "api/h_datasets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/server.h"
#include "core/jsonw.h"
#include "core/mem.h"
#include "warehouse/catalog.h"
#include "warehouse/ingest.h"
#include "warehouse/rows.h"

void kho_h_datasets_list(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"q", "org", "tag", "limit", "offset", NULL};
    kho_err_t err;
    long limit, offset;
    json_t *out = NULL;
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_http_param_long(rc, "limit", 100, 1, 1000, &limit, &err);
    if (r == 0)
        r = kho_http_param_long(rc, "offset", 0, 0, 100000000, &offset, &err);
    if (r == 0) {
        kho_catalog_query_t q = {.q = kho_http_param(rc, "q"),
                                 .org = kho_http_param(rc, "org"),
                                 .tag = kho_http_param(rc, "tag"),
                                 .limit = limit,
                                 .offset = offset};
        r = kho_catalog_list(rc->db, &q, &out, &err);
    }
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        kho_http_send_value(rc->req, 200, out);
}

void kho_h_dataset(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {NULL};
    kho_err_t err;
    json_t *out = NULL;
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_catalog_dataset(rc->db, rc->var[0], &out, &err);
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        kho_http_send_value(rc->req, 200, out);
}

void kho_h_versions(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {NULL};
    kho_err_t err;
    json_t *d = NULL;
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_catalog_dataset(rc->db, rc->var[0], &d, &err);
    if (r != 0) {
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    json_t *out = json_pack("{s:s,s:O,s:O}", "dataset", rc->var[0], "current_version",
                            json_object_get(d, "current_version"), "versions", json_object_get(d, "versions"));
    json_decref(d);
    kho_http_send_value(rc->req, 200, out);
}

static int parse_version_number(const char *s, int64_t *n, kho_err_t *err)
{
    char *end;
    long long x = strtoll(s, &end, 10);
    if (*end || end == s || x < 1)
        return kho_err_setk(err, KHO_EINVAL, "bad_version", "a version is a number 1, 2, ..., not '%.40s'", s);
    *n = x;
    return 0;
}

void kho_h_version(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {NULL};
    kho_err_t err;
    json_t *out = NULL;
    int64_t n = 0;
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = parse_version_number(rc->var[1], &n, &err);
    if (r == 0)
        r = kho_catalog_version_json(rc->db, rc->var[0], n, &out, &err);
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        kho_http_send_value(rc->req, 200, out);
}

/* ---- rows -------------------------------------------------------------------------- */

void kho_h_rows(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"_limit", "_offset", "version", NULL};
    kho_err_t err;
    long limit, offset, version;
    long def = (long)kho_config_int(rc->cfg, "rows_default_limit"), max = (long)kho_config_int(rc->cfg, "rows_max_limit");
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_http_param_long(rc, "_limit", def < max ? def : max, 1, max, &limit, &err);
    if (r == 0)
        r = kho_http_param_long(rc, "_offset", 0, 0, 0x7FFFFFFFFFFFFFFL, &offset, &err);
    if (r == 0)
        r = kho_http_param_long(rc, "version", 0, 1, 0x7FFFFFFFL, &version, &err);
    kho_version_info_t v;
    if (r == 0)
        r = kho_catalog_version(rc->db, rc->var[0], version, &v, &err);
    if (r != 0) {
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    kho_buf_t b = KHO_BUF_INIT;
    kho_buf_puts(&b, "{\"dataset\":");
    kho_json_cstr(&b, rc->var[0]);
    kho_buf_printf(&b, ",\"version\":%lld,\"total\":%lld,\"limit\":%ld,\"offset\":%ld,\"columns\":[",
                   (long long)v.number, (long long)v.rows, limit, offset);
    for (size_t i = 0; i < v.ncols; i++) {
        kho_buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
        kho_json_cstr(&b, v.cols[i].name);
        kho_buf_printf(&b, ",\"type\":\"%s\"}", kho_type_name(v.cols[i].type));
    }
    kho_buf_puts(&b, "],\"rows\":");
    r = kho_rows_page_json(rc->db, &v, limit, offset, &b, &err);
    if (r == 0) {
        if (offset + limit < v.rows)
            kho_buf_printf(&b, ",\"next\":\"/api/v1/datasets/%s/rows?_limit=%ld&_offset=%ld&version=%lld\"}\n",
                           rc->var[0], limit, offset + limit, (long long)v.number);
        else
            kho_buf_puts(&b, ",\"next\":null}\n");
        kho_http_send_json(rc->req, 200, b.data, b.len);
    } else
        kho_http_send_error(rc->req, &err, NULL);
    kho_buf_free(&b);
    kho_version_info_free(&v);
}

/* ---- upload ------------------------------------------------------------------------ */

typedef struct upload {
    kho_server_t *srv;
    kho_ingest_opts_t o;
    kho_ingest_optbuf_t buf;
    kho_source_t src;
    kho_ingest_result_t res;
    kho_err_t err;
    int rc;
} upload_t;

/* Format from the Content-Type (when ?format= is not given). */
static int body_format(kho_reqctx_t *rc, kho_ingest_opts_t *o, kho_err_t *err)
{
    const char *ct = kho_http_header(rc->req, H2O_TOKEN_CONTENT_TYPE);
    if (!ct)
        return kho_err_setk(err, KHO_EMEDIA, "unsupported_media_type",
                            "say what the body is: Content-Type text/csv, application/json or application/x-ndjson "
                            "(or ?format=csv|json|ndjson)");
    char type[80];
    size_t n = strcspn(ct, ";");
    if (n >= sizeof type)
        n = sizeof type - 1;
    snprintf(type, sizeof type, "%.*s", (int)(n < sizeof type ? n : sizeof type - 1), ct);
    while (n > 0 && type[n - 1] == ' ')
        type[--n] = '\0';
    const char *cs = strcasestr(ct, "charset=");
    if (cs && strncasecmp(cs + 8, "utf-8", 5) != 0 && strncasecmp(cs + 8, "\"utf-8\"", 7) != 0)
        return kho_err_setk(err, KHO_EMEDIA, "unsupported_charset", "only UTF-8 text is accepted, not %.40s", cs + 8);
    static const struct {
        const char *type;
        kho_format_t f;
        char delim;
    } types[] = {{"text/csv", KHO_FMT_CSV, 0},
                 {"application/csv", KHO_FMT_CSV, 0},
                 {"text/comma-separated-values", KHO_FMT_CSV, 0},
                 {"text/tab-separated-values", KHO_FMT_CSV, '\t'},
                 {"text/plain", KHO_FMT_AUTO, 0},
                 {"application/json", KHO_FMT_JSON, 0},
                 {"application/x-ndjson", KHO_FMT_NDJSON, 0},
                 {"application/ndjson", KHO_FMT_NDJSON, 0},
                 {"application/jsonl", KHO_FMT_NDJSON, 0},
                 {"application/x-jsonlines", KHO_FMT_NDJSON, 0}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(type, types[i].type) == 0) {
            o->format = types[i].f;
            if (types[i].delim && !o->delimiter)
                o->delimiter = types[i].delim;
            return 0;
        }
    return kho_err_setk(err, KHO_EMEDIA, "unsupported_media_type",
                        "cannot load a body of type '%s': send text/csv, text/tab-separated-values, application/json "
                        "(an array of objects) or application/x-ndjson",
                        type);
}

static const char *param_get(void *ctx, const char *key)
{
    return kho_http_param(ctx, key);
}

static size_t param_all(void *ctx, const char *key, const char **vals, size_t max)
{
    return kho_http_params(ctx, key, vals, max);
}

static int upload_opts(kho_reqctx_t *rc, upload_t *u, kho_err_t *err)
{
    static const char *const allowed[] = {"title",     "description", "publisher", "licence",    "org",
                                           "org_name",  "tag",         "sharing",   "importance", "synthetic",
                                           "temporal",  "spatial",     "format",    "delimiter",  "type",
                                           "strict",    "decimal",     "null_marks", "reject_threshold", NULL};
    kho_optsrc_t src = {param_get, param_all, rc};
    int r = kho_http_check_params(rc, allowed, err);
    if (r == 0)
        r = kho_ingest_opts_read(&u->o, &src, rc->cfg, &u->buf, err);
    if (r == 0 && !kho_http_param(rc, "format"))
        r = body_format(rc, &u->o, err);
    u->o.dataset = rc->var[0];
    u->o.source_name = "upload";
    return r == 0 ? kho_ingest_check_opts(&u->o, err) : r;
}

/* Check the file without the write lock (uploads check in parallel), then take
 * the lock to load it. */
static void upload_work(void *data)
{
    upload_t *u = data;
    kho_store_t *r = kho_server_worker_db(u->srv);
    kho_ingest_t *g = NULL;
    if (r)
        u->rc = kho_ingest_prepare(r, &u->src, &u->o, &g, &u->res, &u->err);
    else {
        kho_store_t *w = kho_server_writer_lock(u->srv);
        u->rc = kho_ingest_prepare(w, &u->src, &u->o, &g, &u->res, &u->err);
        kho_server_writer_unlock(u->srv);
    }
    if (u->rc == 0) {
        kho_store_t *w = kho_server_writer_lock(u->srv);
        u->rc = kho_ingest_commit(g, w, &u->res, &u->err);
        kho_server_writer_unlock(u->srv);
    }
    kho_ingest_free(g);
}

static void upload_done(h2o_req_t *req, void *data)
{
    upload_t *u = data;
    if (u->rc != 0) {
        json_t *details = u->res.quality ? json_pack("{s:O}", "quality", u->res.quality) : NULL;
        kho_http_send_error(req, &u->err, details);
    } else {
        char loc[256];
        int n = snprintf(loc, sizeof loc, "/api/v1/datasets/%s/versions/%lld", u->o.dataset, (long long)u->res.version);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL, h2o_strdup(&req->pool, loc, (size_t)n).base,
                       (size_t)n);
        kho_http_send_value(req, 201,
                            json_pack("{s:s,s:I,s:I,s:I,s:I,s:O}", "dataset", u->o.dataset, "version",
                                      (json_int_t)u->res.version, "rows_read", (json_int_t)u->res.rows_read,
                                      "rows_loaded", (json_int_t)u->res.rows_loaded, "rows_rejected",
                                      (json_int_t)u->res.rows_rejected, "quality", u->res.quality));
    }
    kho_ingest_result_free(&u->res);
    free(u);
}

void kho_h_upload(kho_reqctx_t *rc)
{
    h2o_req_t *req = rc->req;
    if (!kho_http_peer_is_loopback(req)) {
        kho_http_send_status(req, KHO_EFORBIDDEN, "forbidden",
                             "uploads are accepted only from this machine (127.0.0.1) until accounts and API keys "
                             "are set up");
        return;
    }
    upload_t *u = kho_xcalloc(1, sizeof *u);
    u->srv = rc->srv;
    kho_err_t err;
    int r = upload_opts(rc, u, &err);
    if (r == 0 && (req->entity.base == NULL || req->entity.len == 0))
        r = kho_err_setk(&err, KHO_EINVAL, "empty_body", "the request body is empty: send the file's content");
    if (r != 0) {
        kho_http_send_error(req, &err, NULL);
        free(u);
        return;
    }
    /* The body stays valid until the response is sent (HTTP/1, see server.h). */
    u->src = (kho_source_t){.mem = req->entity.base, .len = req->entity.len, .name = "upload"};
    if (kho_server_defer(rc, upload_work, upload_done, u) != 0)
        free(u);
}
