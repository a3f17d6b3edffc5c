/* h_indicators — indicators, values, forecasts, targets, dashboard (see h_indicators.h). */
#include "api/h_indicators.h"

#include "api/respcache.h"
#include "api/server.h"
#include "apps/indicators/indicators.h"
#include "core/buf.h"
#include "core/jsonw.h"

/* Answers depend only on the database and on who asks (which source datasets
 * the caller may read), never on the clock, and reading them is not audited.
 * So a 200 is kept in the loop's response cache under the request's path and
 * query, the caller's role, account, organisation and scopes, and SQLite's
 * data_version of this loop's connection: any commit elsewhere (a new
 * version, a rebuild, a grant, a reclassification) changes it, so an entry is
 * never served stale. */
static bool cache_key(kho_reqctx_t *rc, kho_buf_t *key)
{
    h2o_req_t *req = rc->req;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")))
        return false;
    int64_t dv = 0;
    kho_err_t err;
    if (kho_server_data_version(rc, &dv, &err) != 0)
        return false;
    const kho_principal_t *p = &rc->who;
    kho_buf_printf(key, "ind|%lld|%d|%lld|%lld|%u|", (long long)dv, (int)p->role, (long long)p->user_id,
                   (long long)p->org_id, p->scopes);
    kho_buf_append(key, req->path.base, req->path.len);
    return true;
}

/* Answer from the cache; true when answered. key is set up for reply(). */
static bool answer_cached(kho_reqctx_t *rc, kho_buf_t *key)
{
    if (!cache_key(rc, key))
        return false;
    size_t len = 0;
    const char *body = kho_respcache_get(key->data, &len);
    if (!body)
        return false;
    kho_http_send_json(rc->req, 200, body, len);
    return true;
}

/* Check the parameters, then answer from the cache when it can: true when
 * the request has been answered (*r is the check's result otherwise). */
static bool start(kho_reqctx_t *rc, const char *const *allowed, int *r, kho_err_t *err, kho_buf_t *key)
{
    *r = kho_http_check_params(rc, allowed, err);
    if (*r != 0 || !answer_cached(rc, key))
        return false;
    kho_buf_free(key);
    return true;
}

/* Send the answer (keeping a 200 under key when there is one); frees out and key. */
static void reply(kho_reqctx_t *rc, int r, json_t *out, const kho_err_t *err, kho_buf_t *key)
{
    if (r != 0)
        kho_http_send_error(rc->req, err, NULL);
    else if (!key->len)
        kho_http_send_value(rc->req, 200, out);
    else {
        kho_buf_t b = KHO_BUF_INIT;
        kho_json_dump(&b, out, 0);
        kho_buf_putc(&b, '\n');
        json_decref(out);
        kho_respcache_put(key->data, b.data, b.len);
        kho_http_send_json(rc->req, 200, b.data, b.len);
        kho_buf_free(&b);
    }
    kho_buf_free(key);
}

void kho_h_indicators(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {NULL};
    kho_err_t err;
    json_t *out = NULL;
    kho_ind_ctx_t c = {.db = rc->db, .who = &rc->who};
    kho_buf_t key = KHO_BUF_INIT;
    int r;
    if (start(rc, allowed, &r, &err, &key))
        return;
    if (r == 0)
        r = kho_ind_list(&c, &out, &err);
    reply(rc, r, out, &err, &key);
}

void kho_h_indicator(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {NULL};
    kho_err_t err;
    json_t *out = NULL;
    kho_ind_ctx_t c = {.db = rc->db, .who = &rc->who};
    kho_buf_t key = KHO_BUF_INIT;
    int r;
    if (start(rc, allowed, &r, &err, &key))
        return;
    if (r == 0)
        r = kho_ind_get(&c, rc->var[0], &out, &err);
    reply(rc, r, out, &err, &key);
}

void kho_h_indicator_values(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"unit", "level", "from", "to", "period", "rank", "limit", NULL};
    kho_err_t err;
    json_t *out = NULL;
    long limit;
    kho_ind_ctx_t c = {.db = rc->db, .who = &rc->who};
    kho_buf_t key = KHO_BUF_INIT;
    int r;
    if (start(rc, allowed, &r, &err, &key))
        return;
    if (r == 0)
        r = kho_http_param_long(rc, "limit", 0, 0, 100000, &limit, &err);
    if (r == 0) {
        kho_ind_values_q_t q = {.units = kho_http_param(rc, "unit"),
                                .level = kho_http_param(rc, "level"),
                                .from = kho_http_param(rc, "from"),
                                .to = kho_http_param(rc, "to"),
                                .period = kho_http_param(rc, "period"),
                                .rank = kho_http_param(rc, "rank"),
                                .limit = limit};
        r = kho_ind_values(&c, rc->var[0], &q, &out, &err);
    }
    reply(rc, r, out, &err, &key);
}

void kho_h_indicator_forecast(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"unit", "horizon", NULL};
    kho_err_t err;
    json_t *out = NULL;
    long horizon;
    kho_ind_ctx_t c = {.db = rc->db, .who = &rc->who};
    kho_buf_t key = KHO_BUF_INIT;
    int r;
    if (start(rc, allowed, &r, &err, &key))
        return;
    if (r == 0)
        r = kho_http_param_long(rc, "horizon", 5, 1, 20, &horizon, &err);
    if (r == 0)
        r = kho_ind_forecast(&c, rc->var[0], kho_http_param(rc, "unit"), horizon, &out, &err);
    reply(rc, r, out, &err, &key);
}

void kho_h_indicator_targets(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"unit", NULL};
    kho_err_t err;
    json_t *out = NULL;
    kho_ind_ctx_t c = {.db = rc->db, .who = &rc->who};
    kho_buf_t key = KHO_BUF_INIT;
    int r;
    if (start(rc, allowed, &r, &err, &key))
        return;
    if (r == 0)
        r = kho_ind_targets(&c, rc->var[0], kho_http_param(rc, "unit"), &out, &err);
    reply(rc, r, out, &err, &key);
}

void kho_h_dashboard(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"unit", "period", "indicator", NULL};
    kho_err_t err;
    json_t *out = NULL;
    kho_ind_ctx_t c = {.db = rc->db, .who = &rc->who};
    kho_buf_t key = KHO_BUF_INIT;
    int r;
    if (start(rc, allowed, &r, &err, &key))
        return;
    if (r == 0)
        r = kho_ind_dashboard(&c, kho_http_param(rc, "unit"), kho_http_param(rc, "period"),
                              kho_http_param(rc, "indicator"), &out, &err);
    reply(rc, r, out, &err, &key);
}
