/* h_rows — row queries, exports and aggregates over HTTP (see h_rows.h). */
#include "api/h_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/guard.h"
#include "api/respcache.h"
#include "api/server.h"
#include "core/jsonw.h"
#include "core/mem.h"
#include "security/mask.h"
#include "warehouse/catalog.h"
#include "warehouse/query.h"
#include "warehouse/rows.h"

#define EXPORT_FLUSH (64 * 1024)

typedef struct rowsjob {
    kho_server_t *srv;
    kho_version_info_t v;
    char slug[128];
    kho_query_t q;
    kho_agg_t agg;
    bool is_agg;
    kho_rows_view_t view;
    bool audit, head;
    kho_audit_caller_t caller;
    json_t *audit_details; /* the query, for the audit entry (owned) */
    char *next_prefix;     /* ".../rows?<params>&version=N&_after=" (owned) */
    char *cache_key;       /* names the response when it may be cached (owned; NULL: it may not) */
    char etag[24];         /* its ETag, "" when none */
    char *fast_key;        /* the anonymous fast path's key (owned; NULL: none) */
    bool anon, pinned;     /* an anonymous caller; the query names its version */
    int64_t budget_ms, min_group;
    /* results */
    int rc;
    kho_err_t err;
    kho_buf_t out;
    int64_t rows_out;
} rowsjob_t;

static void job_free(rowsjob_t *j)
{
    kho_query_free(&j->q);
    kho_version_info_free(&j->v);
    json_decref(j->audit_details);
    free(j->next_prefix);
    free(j->cache_key);
    free(j->fast_key);
    kho_buf_free(&j->out);
    free(j);
}

/* The output format asked by Accept when _format is not given. */
static int accept_format(kho_reqctx_t *rc)
{
    const char *a = kho_http_header(rc->req, H2O_TOKEN_ACCEPT);
    if (!a)
        return -1;
    if (strcasestr(a, "text/csv"))
        return KHO_OUT_CSV;
    if (strcasestr(a, "ndjson") || strcasestr(a, "jsonl"))
        return KHO_OUT_NDJSON;
    return -1;
}

/* Common start of both handlers: access, version, view, the query from the
 * parameters. On failure the error is sent and NULL returned. */
static rowsjob_t *start(kho_reqctx_t *rc, bool agg)
{
    kho_err_t err;
    rowsjob_t *j = kho_xcalloc(1, sizeof *j);
    j->srv = rc->srv;
    j->is_agg = agg;
    j->head = h2o_memis(rc->req->method.base, rc->req->method.len, H2O_STRLIT("HEAD"));
    snprintf(j->slug, sizeof j->slug, "%s", rc->var[0]);
    j->budget_ms = kho_config_int(rc->cfg, "query_time_limit_ms");
    j->min_group = kho_config_int(rc->cfg, "min_group_size");
    long version = 0;
    kho_dsfacts_t facts;
    kho_decision_t d;
    int r = kho_http_param_long(rc, "version", 0, 1, 0x7FFFFFFFL, &version, &err);
    if (r == 0)
        r = kho_guard_dataset(rc, j->slug, KHO_ACT_READ, false, &facts, &d, &err);
    if (r == 0)
        r = kho_catalog_version(rc->db, j->slug, version, &j->v, &err);
    if (r != 0) {
        kho_http_send_error(rc->req, &err, NULL);
        free(j);
        return NULL;
    }
    facts.personal = kho_rows_has_personal(&j->v);
    d = kho_access_decide(&rc->who, &facts, KHO_ACT_READ);
    j->view.mask = d.mask;
    j->view.keys = kho_guard_keys(rc->guard);
    j->audit = d.audit && !j->head;
    int64_t def = kho_config_int(rc->cfg, "rows_default_limit"), max = kho_config_int(rc->cfg, "rows_max_limit");
    kho_query_limits_t lim = {def < max ? def : max, max};
    kho_query_init(&j->q, &j->v, j->slug, lim.default_limit);
    int af = accept_format(rc);
    if (af >= 0 && !agg)
        j->q.format = (kho_outfmt_t)af;
    kho_qparam_t *ps = kho_xcalloc(rc->nparams ? rc->nparams : 1, sizeof *ps);
    for (size_t i = 0; i < rc->nparams; i++) {
        ps[i].key = rc->params[i].key;
        ps[i].val = rc->params[i].val;
    }
    r = agg ? kho_agg_parse(&j->agg, &j->q, ps, rc->nparams, &lim, &err)
            : kho_query_parse(&j->q, ps, rc->nparams, NULL, &lim, &err);
    free(ps);
    if (r == 0)
        r = kho_query_check_view(&j->q, &j->view, &err);
    if (r != 0) {
        kho_http_send_error(rc->req, &err, NULL);
        job_free(j);
        return NULL;
    }
    if (j->audit) {
        kho_guard_audit_caller(rc, &j->caller);
        json_t *params = json_object();
        for (size_t i = 0; i < rc->nparams; i++)
            if (strcmp(rc->params[i].key, "_after") != 0)
                json_object_set_new(params, rc->params[i].key, json_string(rc->params[i].val));
        j->audit_details = json_pack("{s:I,s:o,s:b}", "version", (json_int_t)j->v.number, "query", params, "masked",
                                     j->view.mask);
    }
    if (!agg) {
        /* the next page: the same parameters, the version pinned, a new cursor */
        kho_buf_t b = KHO_BUF_INIT;
        kho_buf_puts(&b, "/api/v1/datasets/");
        kho_http_url_encode(&b, j->slug);
        kho_buf_puts(&b, "/rows?");
        for (size_t i = 0; i < rc->nparams; i++) {
            const char *k = rc->params[i].key;
            if (strcmp(k, "_after") == 0 || strcmp(k, "version") == 0 || strcmp(k, "_offset") == 0)
                continue;
            kho_http_url_encode(&b, k);
            kho_buf_putc(&b, '=');
            kho_http_url_encode(&b, rc->params[i].val);
            kho_buf_putc(&b, '&');
        }
        kho_buf_printf(&b, "version=%lld&_after=", (long long)j->v.number);
        j->next_prefix = kho_buf_steal(&b, NULL);
    }
    return j;
}

/* ---- ETags and the response cache ------------------------------------------------- *
 *
 * A JSON answer depends only on the dataset's version (immutable), how the caller
 * sees it (masked or not), the endpoint and the query string: that is its cache
 * key, and a hash of the key its ETag. Audited reads (restricted or personal
 * data) get neither: each of them must reach the audit log and no copy is kept. */

static void set_cache_key(kho_reqctx_t *rc, rowsjob_t *j, const char *endpoint)
{
    if (j->audit || j->q.format != KHO_OUT_JSON)
        return;
    h2o_req_t *req = rc->req;
    kho_buf_t k = KHO_BUF_INIT;
    kho_buf_printf(&k, "%s|%lld|%lld|%d|", endpoint, (long long)j->v.dataset_id, (long long)j->v.number,
                   j->view.mask ? 1 : 0);
    if (req->query_at != SIZE_MAX && req->query_at < req->path.len)
        kho_buf_append(&k, req->path.base + req->query_at + 1, req->path.len - req->query_at - 1);
    j->cache_key = kho_buf_steal(&k, NULL);
    j->anon = rc->who.user_id == 0;
    j->pinned = kho_http_param(rc, "version") != NULL;
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = j->cache_key; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 1099511628211ULL;
    }
    snprintf(j->etag, sizeof j->etag, "\"%016llx\"", (unsigned long long)h);
}

/* Headers of a cacheable answer: its ETag, and for anonymous callers how long
 * to keep it (a query naming its version never changes; one that does not
 * changes when a version is published, so it is revalidated). */
static void cache_headers(const rowsjob_t *j, h2o_req_t *req)
{
    if (!j->etag[0])
        return;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, j->etag, strlen(j->etag));
    if (j->anon) {
        const char *cc = j->pinned ? "public, max-age=31536000, immutable" : "public, no-cache";
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, cc, strlen(cc));
    }
}

/* The fast path for anonymous callers: before any catalog lookup, the answer
 * kept under the request's own path and query, valid while the database has
 * not changed at all since (SQLite's data_version of this loop's connection:
 * any commit of any other connection changes it, so a new version, a
 * reclassification or a grant makes every such entry unreachable). The entry
 * holds the ETag, a flag for a pinned version, then the key of the body's
 * own entry (so a body is kept once). */
static bool fast_key(kho_reqctx_t *rc, kho_buf_t *key)
{
    h2o_req_t *req = rc->req;
    if (rc->who.user_id != 0 || !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
        accept_format(rc) >= 0 || kho_http_header_str(req, "x-purpose"))
        return false;
    int64_t dv = 0;
    kho_err_t err;
    if (kho_server_data_version(rc, &dv, &err) != 0)
        return false;
    kho_buf_printf(key, "fast|%lld|", (long long)dv);
    kho_buf_append(key, req->path.base, req->path.len);
    return true;
}

static bool answer_fast(kho_reqctx_t *rc, const char *key)
{
    size_t len = 0;
    const char *e = kho_respcache_get(key, &len);
    const char *nl = e ? memchr(e, '\n', len) : NULL;
    if (!nl || nl + 2 > e + len)
        return false;
    h2o_req_t *req = rc->req;
    char etag[24];
    snprintf(etag, sizeof etag, "%.*s", (int)(nl - e), e);
    bool pinned = nl[1] == 'p';
    char *bkey = kho_xstrndup(nl + 2, len - (size_t)(nl + 2 - e));
    size_t blen = 0;
    const char *body = kho_respcache_get(bkey, &blen);
    free(bkey);
    if (!body)
        return false;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, h2o_strdup(&req->pool, etag, SIZE_MAX).base,
                   strlen(etag));
    const char *cc = pinned ? "public, max-age=31536000, immutable" : "public, no-cache";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, cc, strlen(cc));
    const char *inm = kho_http_header(req, H2O_TOKEN_IF_NONE_MATCH);
    if (inm && strstr(inm, etag)) {
        req->res.status = 304;
        req->res.reason = "Not Modified";
        h2o_send_inline(req, NULL, 0);
        return true;
    }
    kho_http_send_json(req, 200, body, blen);
    return true;
}

/* Answer from the client's copy (304) or the cache; true when answered. */
static bool answer_cached(kho_reqctx_t *rc, rowsjob_t *j)
{
    if (!j->cache_key)
        return false;
    h2o_req_t *req = rc->req;
    const char *inm = kho_http_header(req, H2O_TOKEN_IF_NONE_MATCH);
    if (inm && (strstr(inm, j->etag) || strcmp(inm, "*") == 0)) {
        cache_headers(j, req);
        req->res.status = 304;
        req->res.reason = "Not Modified";
        h2o_send_inline(req, NULL, 0);
        return true;
    }
    size_t len = 0;
    const char *body = kho_respcache_get(j->cache_key, &len);
    if (!body)
        return false;
    cache_headers(j, req);
    kho_http_send_json(req, 200, body, len);
    return true;
}

static void audit(rowsjob_t *j, const char *action)
{
    if (!j->audit || j->rc != 0)
        return;
    json_t *d = j->audit_details;
    j->audit_details = NULL;
    json_object_set_new(d, "rows", json_integer(j->rows_out));
    kho_guard_audit_caller_event(&j->caller, action, j->slug, d);
}

/* ---- JSON pages ---------------------------------------------------------------------- */

static bool simple(const kho_query_t *q)
{
    return q->nfilters == 0 && !q->text && q->nsort == 1 && q->sort[0].col == KHO_QUERY_ROW && !q->sort[0].desc &&
           q->nfacets == 0;
}

/* Build the JSON page into j->out (or j->err). */
static void build_page(kho_store_t *db, rowsjob_t *j)
{
    const kho_query_t *q = &j->q;
    kho_buf_t *b = &j->out;
    kho_err_t *err = &j->err;
    kho_buf_puts(b, "{\"dataset\":");
    kho_json_cstr(b, j->slug);
    kho_buf_printf(b, ",\"version\":%lld,\"masked\":%s,\"columns\":[", (long long)j->v.number,
                   j->view.mask ? "true" : "false");
    size_t nf = q->fields ? q->nfields : j->v.ncols;
    for (size_t k = 0; k < nf; k++) {
        const kho_column_t *c = &j->v.cols[q->fields ? q->fields[k] : (int)k];
        kho_buf_puts(b, k ? ",{\"name\":" : "{\"name\":");
        kho_json_cstr(b, c->name);
        kho_buf_printf(b, ",\"type\":\"%s\"}", kho_type_name(c->type));
    }
    kho_buf_puts(b, "],\"rows\":[");
    kho_qrun_t *run = NULL;
    bool timed = !simple(q) && j->budget_ms > 0;
    if (timed)
        kho_store_deadline(db, j->budget_ms);
    int rc = kho_query_open(db, q, &j->view, true, &run, err);
    while (rc == 0 && (rc = kho_query_next(run, err)) == KHO_STEP_ROW) {
        if (kho_query_rows_out(run) > 1)
            kho_buf_putc(b, ',');
        rc = kho_query_row_object(run, b, err);
    }
    if (timed)
        kho_store_deadline(db, 0);
    if (rc == KHO_ETIMEOUT)
        kho_err_setk(err, KHO_ETIMEOUT, "timeout",
                     "the query took longer than the limit of %lld ms: narrow it with filters, or export it with "
                     "_format=csv (exports have no time limit)",
                     (long long)j->budget_ms);
    if (rc >= 0) {
        rc = 0;
        j->rows_out = kho_query_rows_out(run);
        kho_buf_puts(b, "],\"next\":");
        const char *cur = kho_query_has_more(run) ? kho_query_cursor(run) : "";
        if (cur[0]) {
            kho_buf_t url = KHO_BUF_INIT;
            kho_buf_puts(&url, j->next_prefix);
            kho_buf_puts(&url, cur);
            kho_json_cstr(b, url.data);
            kho_buf_free(&url);
        } else
            kho_buf_puts(b, "null");
        kho_buf_printf(b, ",\"limit\":%lld", (long long)q->limit);
    }
    kho_query_close(run);
    if (rc == 0 && (q->count || (q->nfilters == 0 && !q->text))) {
        int64_t total = 0;
        bool lower = false;
        rc = kho_query_count(db, q, j->budget_ms, &total, &lower, err);
        if (rc == 0)
            kho_buf_printf(b, ",\"total\":%lld,\"total_is_lower_bound\":%s", (long long)total,
                           lower ? "true" : "false");
    }
    if (rc == 0 && q->nfacets) {
        json_t *f = NULL;
        rc = kho_query_facets(db, q, j->budget_ms, &f, err);
        if (rc == 0) {
            kho_buf_puts(b, ",\"facets\":");
            kho_json_dump(b, f, 0);
            json_decref(f);
        }
    }
    kho_buf_puts(b, "}\n");
    j->rc = rc;
}

static void send_result(h2o_req_t *req, rowsjob_t *j)
{
    if (j->rc != 0) {
        kho_http_send_error(req, &j->err, NULL);
        return;
    }
    if (j->cache_key) {
        kho_respcache_put(j->cache_key, j->out.data, j->out.len); /* on the request's loop */
        cache_headers(j, req);
        if (j->fast_key && j->anon) { /* a small entry naming the body's */
            kho_buf_t e = KHO_BUF_INIT;
            kho_buf_printf(&e, "%s\n%c%s", j->etag, j->pinned ? 'p' : '-', j->cache_key);
            kho_respcache_put(j->fast_key, e.data, e.len);
            kho_buf_free(&e);
        }
    }
    kho_http_send_json(req, 200, j->out.data, j->out.len);
}

static void page_work(void *data)
{
    rowsjob_t *j = data;
    kho_store_t *db = kho_server_worker_db(j->srv);
    if (!db) {
        j->rc = kho_err_set(&j->err, KHO_EBUSY, "no database connection on this worker");
        return;
    }
    kho_store_snapshot_begin(db);
    build_page(db, j);
    kho_store_snapshot_end(db);
}

static void page_done(h2o_req_t *req, void *data)
{
    rowsjob_t *j = data;
    audit(j, "read");
    send_result(req, j);
    job_free(j);
}

/* ---- exports ------------------------------------------------------------------------- */

static void export_fn(kho_stream_t *st, void *data)
{
    rowsjob_t *j = data;
    const kho_query_t *q = &j->q;
    kho_err_t *err = &j->err;
    kho_store_t *db = kho_server_worker_db(j->srv);
    if (!db) {
        j->rc = kho_err_set(err, KHO_EBUSY, "no database connection on this worker");
        kho_stream_error(st, err);
        return;
    }
    kho_store_snapshot_begin(db);
    kho_qrun_t *run = NULL;
    int rc = kho_query_open(db, q, &j->view, false, &run, err);
    if (rc != 0) {
        j->rc = rc;
        kho_stream_error(st, err);
        kho_store_snapshot_end(db);
        return;
    }
    char disp[200];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s-v%lld.%s\"", j->slug, (long long)j->v.number,
             q->format == KHO_OUT_CSV ? "csv" : "ndjson");
    kho_stream_header(st, "content-disposition", disp);
    kho_stream_header(st, "cache-control", j->view.mask || j->audit ? "private, no-store" : "public, max-age=60");
    kho_stream_start(st, 200, kho_outfmt_mime(q->format));
    kho_buf_t b = KHO_BUF_INIT;
    if (q->format == KHO_OUT_CSV)
        kho_query_csv_header(q, &b);
    while ((rc = kho_query_next(run, err)) == KHO_STEP_ROW) {
        if (q->format == KHO_OUT_CSV)
            rc = kho_query_row_csv(run, &b, err);
        else {
            rc = kho_query_row_object(run, &b, err);
            kho_buf_putc(&b, '\n');
        }
        if (rc != 0)
            break;
        if (b.len >= EXPORT_FLUSH) {
            if (j->head || kho_stream_write(st, b.data, b.len) != 0) {
                rc = KHO_STEP_DONE; /* HEAD, or the client went away: stop */
                break;
            }
            kho_buf_reset(&b);
        }
    }
    j->rows_out = kho_query_rows_out(run);
    kho_query_close(run);
    kho_store_snapshot_end(db);
    if (rc < 0) {
        /* cut the response off: an incomplete body, never a complete wrong one */
        kho_stream_abort(st);
        j->rc = rc;
    } else if (b.len && !j->head)
        (void)kho_stream_write(st, b.data, b.len);
    kho_buf_free(&b);
    audit(j, "export");
    job_free(j);
}

/* ---- handlers -------------------------------------------------------------------------- */

/* What both handlers do first: the anonymous fast path, then access, version
 * and query (start), then for JSON the cache. NULL when answered (or refused). */
static rowsjob_t *open_job(kho_reqctx_t *rc, bool agg)
{
    kho_buf_t fk = KHO_BUF_INIT;
    bool fast = fast_key(rc, &fk);
    rowsjob_t *j = fast && answer_fast(rc, fk.data) ? NULL : start(rc, agg);
    if (j && fast)
        j->fast_key = kho_buf_steal(&fk, NULL);
    kho_buf_free(&fk);
    if (!j || j->q.format != KHO_OUT_JSON)
        return j;
    set_cache_key(rc, j, agg ? "aggregate" : "rows");
    if (answer_cached(rc, j)) {
        job_free(j);
        return NULL;
    }
    return j;
}

void kho_h_rows(kho_reqctx_t *rc)
{
    rowsjob_t *j = open_job(rc, false);
    if (!j)
        return;
    if (j->q.format != KHO_OUT_JSON) {
        if (kho_server_stream(rc, export_fn, j) != 0)
            job_free(j);
        return;
    }
    if ((simple(&j->q) && !j->q.count) || kho_query_is_index_lookup(rc->db, &j->q)) {
        /* an index seek, or a few index lookups: answer on the loop */
        build_page(rc->db, j);
        page_done(rc->req, j);
        return;
    }
    if (kho_server_defer(rc, page_work, page_done, j) != 0)
        job_free(j);
}

static void agg_work(void *data)
{
    rowsjob_t *j = data;
    kho_store_t *db = kho_server_worker_db(j->srv);
    if (!db) {
        j->rc = kho_err_set(&j->err, KHO_EBUSY, "no database connection on this worker");
        return;
    }
    kho_store_snapshot_begin(db);
    json_t *out = NULL;
    j->rc = kho_agg_run(db, &j->q, &j->agg, &j->view, j->min_group, j->budget_ms, &out, &j->err);
    kho_store_snapshot_end(db);
    if (j->rc == 0) {
        json_object_set_new(out, "dataset", json_string(j->slug));
        json_object_set_new(out, "version", json_integer(j->v.number));
        json_object_set_new(out, "masked", json_boolean(j->view.mask));
        j->rows_out = (int64_t)json_array_size(json_object_get(out, "groups"));
        kho_json_dump(&j->out, out, 0);
        kho_buf_putc(&j->out, '\n');
        json_decref(out);
    }
}

static void agg_done(h2o_req_t *req, void *data)
{
    rowsjob_t *j = data;
    audit(j, "aggregate");
    send_result(req, j);
    job_free(j);
}

void kho_h_aggregate(kho_reqctx_t *rc)
{
    rowsjob_t *j = open_job(rc, true);
    if (!j)
        return;
    if (kho_server_defer(rc, agg_work, agg_done, j) != 0)
        job_free(j);
}
