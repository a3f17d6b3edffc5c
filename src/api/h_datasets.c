/* h_datasets — catalog, rows and uploads (see h_datasets.h). */
#include "api/h_datasets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/guard.h"
#include "api/h_dcat.h"
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
    kho_visibility_t vis = {0};
    if (r == 0)
        r = kho_guard_visibility(rc, &vis, &err);
    if (r == 0) {
        kho_catalog_query_t q = {.q = kho_http_param(rc, "q"),
                                 .org = kho_http_param(rc, "org"),
                                 .tag = kho_http_param(rc, "tag"),
                                 .limit = limit,
                                 .offset = offset,
                                 .visible = kho_guard_visible,
                                 .visible_ctx = &vis};
        r = kho_catalog_list(rc->db, &q, &out, &err);
    }
    kho_visibility_free(&vis);
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        kho_http_send_value(rc->req, 200, out);
}

void kho_h_dataset(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {NULL};
    size_t n = strlen(rc->var[0]);
    if (n > 7 && strcmp(rc->var[0] + n - 7, ".jsonld") == 0) { /* {id}.jsonld: the DCAT-AP view (h_dcat.h) */
        kho_h_dcat_dataset(rc);
        return;
    }
    kho_err_t err;
    json_t *out = NULL;
    kho_decision_t d;
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_guard_dataset(rc, rc->var[0], KHO_ACT_READ, false, NULL, &d, &err);
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
    kho_decision_t dec;
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_guard_dataset(rc, rc->var[0], KHO_ACT_READ, false, NULL, &dec, &err);
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
    kho_decision_t d;
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_guard_dataset(rc, rc->var[0], KHO_ACT_READ, false, NULL, &d, &err);
    if (r == 0)
        r = parse_version_number(rc->var[1], &n, &err);
    if (r == 0)
        r = kho_catalog_version_json(rc->db, rc->var[0], n, &out, &err);
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        kho_http_send_value(rc->req, 200, out);
}

/* ---- upload ------------------------------------------------------------------------ */

typedef struct upload {
    kho_server_t *srv;
    kho_reqctx_t *rc_req;
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
                                           "strict",    "decimal",     "null_marks", "reject_threshold",
                                           "column_tags", NULL};
    kho_optsrc_t src = {param_get, param_all, rc};
    int r = kho_http_check_params(rc, allowed, err);
    if (r == 0)
        r = kho_ingest_opts_read(&u->o, &src, rc->cfg, &u->buf, err);
    if (r == 0 && !kho_http_param(rc, "format"))
        r = body_format(rc, &u->o, err);
    u->o.dataset = rc->var[0];
    u->o.source_name = "upload";
    u->o.keys = kho_guard_keys(rc->guard);
    return r == 0 ? kho_ingest_check_opts(&u->o, err) : r;
}

/* May the caller publish this dataset, and under which organisation? A steward
 * publishes for its own organisation; changing the classification of an
 * existing dataset is a management action. */
static int upload_access(kho_reqctx_t *rc, upload_t *u, kho_err_t *err)
{
    kho_dsfacts_t f;
    kho_decision_t d;
    kho_dataset_meta_t *m = &u->o.meta;
    bool classify = m->sharing || m->importance;
    int r = kho_guard_dataset(rc, rc->var[0], classify ? KHO_ACT_MANAGE : KHO_ACT_WRITE, false, &f, &d, err);
    if (r != 0) {
        if (r != KHO_ENOTFOUND)
            kho_guard_audit_event(rc, "denied", rc->var[0], json_pack("{s:s}", "action", "upload"));
        return r;
    }
    if (rc->who.role == KHO_ROLE_STEWARD) {
        if (m->org && strcmp(m->org, rc->who.org) != 0)
            return kho_err_setk(err, KHO_EFORBIDDEN, "forbidden",
                                "a steward publishes for its own organisation (%s), not for %.64s", rc->who.org,
                                m->org);
        if (f.id == 0 && !m->org)
            m->org = rc->who.org;
    }
    return 0;
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
    if (u->rc == 0)
        kho_server_index_soon(u->srv);
    if (u->rc == 0)
        kho_guard_audit_event(u->rc_req, "upload", u->o.dataset,
                              json_pack("{s:I,s:I,s:I}", "version", (json_int_t)u->res.version, "rows_loaded",
                                        (json_int_t)u->res.rows_loaded, "rows_rejected",
                                        (json_int_t)u->res.rows_rejected));
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
    upload_t *u = kho_xcalloc(1, sizeof *u);
    u->srv = rc->srv;
    u->rc_req = rc;
    kho_err_t err;
    int r = upload_opts(rc, u, &err);
    if (r == 0)
        r = upload_access(rc, u, &err);
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

/* ---- classification and grants ------------------------------------------------------ */

typedef struct manage {
    kho_server_t *srv;
    kho_reqctx_t *rc;
    char dataset[104];
    char sharing[16], importance[16];
    char grantee[200];
    int op; /* 0 classify, 1 grant, 2 revoke */
    bool pii;
    kho_err_t err;
    int result;
} manage_t;

static void manage_work(void *data)
{
    manage_t *m = data;
    kho_store_t *w = kho_server_writer_lock(m->srv);
    if (m->op == 0) {
        kho_dataset_meta_t meta = KHO_DATASET_META_INIT;
        meta.sharing = m->sharing[0] ? m->sharing : NULL;
        meta.importance = m->importance[0] ? m->importance : NULL;
        int64_t id;
        m->result = kho_store_begin(w, true, &m->err);
        if (m->result == 0)
            m->result = kho_catalog_put_dataset(w, m->dataset, &meta, &id, NULL, &m->err);
        if (m->result == 0)
            m->result = kho_store_commit(w, &m->err);
        else
            kho_store_rollback(w);
    } else if (m->op == 1)
        m->result = kho_grant_add(w, m->dataset, m->grantee, m->pii, &m->err);
    else
        m->result = kho_grant_remove(w, m->dataset, m->grantee, &m->err);
    kho_server_writer_unlock(m->srv);
}

static void manage_done(h2o_req_t *req, void *data)
{
    manage_t *m = data;
    static const char *const action[] = {"classify", "grant", "revoke_grant"};
    if (m->result != 0) {
        kho_http_send_error(req, &m->err, NULL);
        free(m);
        return;
    }
    json_t *d = m->op == 0 ? json_pack("{s:s,s:s}", "sharing", m->sharing, "importance", m->importance)
                           : json_pack("{s:s,s:b}", "grantee", m->grantee, "pii", m->pii);
    if (m->op == 0) {
        if (!m->sharing[0])
            json_object_del(d, "sharing");
        if (!m->importance[0])
            json_object_del(d, "importance");
    }
    kho_guard_audit_event(m->rc, action[m->op], m->dataset, json_incref(d));
    json_object_set_new(d, "dataset", json_string(m->dataset));
    if (m->op == 0 && m->importance[0] && strcmp(m->importance, "other") != 0)
        json_object_set_new(d, "note", json_string("versions already stored keep their storage: personal columns are "
                                                   "encrypted from the next upload on"));
    kho_http_send_value(req, 200, d);
    free(m);
}

/* Check that the caller may manage the dataset; allocate the job. */
static manage_t *manage_start(kho_reqctx_t *rc, int op, kho_err_t *err, int *r)
{
    kho_decision_t d;
    kho_dsfacts_t f;
    *r = kho_guard_dataset(rc, rc->var[0], KHO_ACT_MANAGE, false, &f, &d, err);
    if (*r == 0 && f.id == 0)
        *r = kho_err_setk(err, KHO_ENOTFOUND, "unknown_dataset", "no dataset has the id '%.64s'", rc->var[0]);
    if (*r != 0) {
        if (*r != KHO_ENOTFOUND)
            kho_guard_audit_event(rc, "denied", rc->var[0], json_pack("{s:s}", "action", op ? "grant" : "classify"));
        return NULL;
    }
    manage_t *m = kho_xcalloc(1, sizeof *m);
    m->srv = rc->srv;
    m->rc = rc;
    m->op = op;
    snprintf(m->dataset, sizeof m->dataset, "%s", rc->var[0]);
    return m;
}

static void manage_go(kho_reqctx_t *rc, manage_t *m)
{
    if (kho_server_defer(rc, manage_work, manage_done, m) != 0)
        free(m);
}

static int json_text(json_t *body, const char *key, char *out, size_t size, kho_err_t *err)
{
    json_t *v = json_object_get(body, key);
    out[0] = '\0';
    if (!v)
        return 0;
    if (!json_is_string(v) || json_string_length(v) >= size)
        return kho_err_setk(err, KHO_EINVAL, "bad_parameter", "\"%s\" must be a short string", key);
    snprintf(out, size, "%s", json_string_value(v));
    return 0;
}

void kho_h_dataset_patch(kho_reqctx_t *rc)
{
    static const char *const no_params[] = {NULL};
    kho_err_t err;
    json_t *body = NULL;
    manage_t *m = NULL;
    int r = kho_http_check_params(rc, no_params, &err);
    if (r == 0)
        r = kho_guard_body_json(rc, 4096, &body, &err);
    if (r == 0)
        m = manage_start(rc, 0, &err, &r);
    const char *key;
    json_t *val;
    if (r == 0)
        json_object_foreach(body, key, val)
        {
            if (strcmp(key, "sharing") != 0 && strcmp(key, "importance") != 0) {
                r = kho_err_setk(&err, KHO_EINVAL, "bad_parameter",
                                 "only \"sharing\" and \"importance\" can be changed here, not \"%.40s\"", key);
                break;
            }
        }
    if (r == 0 && (r = json_text(body, "sharing", m->sharing, sizeof m->sharing, &err)) == 0)
        r = json_text(body, "importance", m->importance, sizeof m->importance, &err);
    if (r == 0 && !m->sharing[0] && !m->importance[0])
        r = kho_err_setk(&err, KHO_EINVAL, "bad_parameter", "send \"sharing\" and/or \"importance\"");
    if (r == 0) {
        kho_dataset_meta_t meta = KHO_DATASET_META_INIT;
        meta.sharing = m->sharing[0] ? m->sharing : NULL;
        meta.importance = m->importance[0] ? m->importance : NULL;
        r = kho_catalog_check_meta(&meta, &err);
    }
    json_decref(body);
    if (r != 0) {
        free(m);
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    manage_go(rc, m);
}

void kho_h_grants_list(kho_reqctx_t *rc)
{
    static const char *const no_params[] = {NULL};
    kho_err_t err;
    json_t *out = NULL;
    int r = kho_http_check_params(rc, no_params, &err);
    manage_t *m = r == 0 ? manage_start(rc, 1, &err, &r) : NULL;
    free(m);
    if (r == 0)
        r = kho_grant_list(rc->db, rc->var[0], &out, &err);
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        kho_http_send_value(rc->req, 200, out);
}

void kho_h_grant_add(kho_reqctx_t *rc)
{
    static const char *const no_params[] = {NULL};
    kho_err_t err;
    json_t *body = NULL;
    manage_t *m = NULL;
    int r = kho_http_check_params(rc, no_params, &err);
    if (r == 0)
        r = kho_guard_body_json(rc, 4096, &body, &err);
    if (r == 0)
        m = manage_start(rc, 1, &err, &r);
    if (r == 0)
        r = json_text(body, "grantee", m->grantee, sizeof m->grantee, &err);
    if (r == 0 && !m->grantee[0])
        r = kho_err_setk(&err, KHO_EINVAL, "bad_parameter", "send \"grantee\": \"user:NAME\" or \"org:ORGANISATION\"");
    json_t *pii = body ? json_object_get(body, "pii") : NULL;
    if (r == 0 && pii && !json_is_boolean(pii))
        r = kho_err_setk(&err, KHO_EINVAL, "bad_parameter", "\"pii\" is true or false");
    if (r == 0)
        m->pii = json_is_true(pii);
    json_decref(body);
    if (r != 0) {
        free(m);
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    manage_go(rc, m);
}

void kho_h_grant_remove(kho_reqctx_t *rc)
{
    static const char *const no_params[] = {NULL};
    kho_err_t err;
    int r = kho_http_check_params(rc, no_params, &err);
    manage_t *m = r == 0 ? manage_start(rc, 2, &err, &r) : NULL;
    if (r != 0) {
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    snprintf(m->grantee, sizeof m->grantee, "%s", rc->var[1]);
    manage_go(rc, m);
}
