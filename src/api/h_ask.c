/* h_ask — the virtual assistant over HTTP (see h_ask.h). */
#include "api/h_ask.h"

#include <string.h>

#include "api/guard.h"
#include "api/respcache.h"
#include "api/server.h"
#include "apps/assistant/assistant.h"
#include "apps/assistant/llm.h"
#include "apps/indicators/indicators.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/jsonw.h"
#include "core/mem.h"

#define BODY_MAX 16384

/* The cache key: the question, the caller (what it may read), the year ("năm
 * nay") and the database's data_version (any commit elsewhere changes it). */
static bool cache_key(kho_reqctx_t *rc, const char *q, int year, kho_buf_t *key)
{
    int64_t dv = 0;
    kho_err_t err;
    if (kho_server_data_version(rc, &dv, &err) != 0)
        return false;
    const kho_principal_t *p = &rc->who;
    kho_buf_printf(key, "ask|%lld|%d|%d|%lld|%lld|%u|%s", (long long)dv, year, (int)p->role, (long long)p->user_id,
                   (long long)p->org_id, p->scopes, q);
    return true;
}

/* ---- the optional language model, on a worker ------------------------------------------- */

typedef struct llmjob {
    kho_server_t *srv;
    kho_principal_t who;
    int year;
    char *question, *url, *model, *key;
    long timeout_ms;
    kho_buf_t body;  /* the answer to send: the model's, or the parser's "help" */
    char *cache_key; /* NULL: do not keep */
} llmjob_t;

static void llm_work(void *data)
{
    llmjob_t *j = data;
    kho_store_t *db = kho_server_worker_db(j->srv);
    if (!db)
        return;
    kho_ask_ctx_t c = {.db = db, .who = &j->who, .this_year = j->year};
    kho_err_t err;
    json_t *cat = NULL, *query = NULL, *out = NULL;
    kho_llm_cfg_t cfg = {.url = j->url, .model = j->model, .key = j->key, .timeout_ms = j->timeout_ms};
    if (kho_ask_catalogue(&c, &cat, &err) == 0 && (query = kho_llm_ask(&cfg, cat, j->question, &err)) &&
        kho_ask_structured(&c, j->question, query, &out, &err) == 0) {
        j->body.len = 0;
        kho_json_dump(&j->body, out, 0);
        kho_buf_putc(&j->body, '\n');
    } else
        kho_warn("assistant: the language model did not help with a question: %s", err.msg);
    json_decref(cat);
    json_decref(query);
    json_decref(out);
    kho_ask_thread_done(); /* a worker keeps nothing between such rare jobs */
    kho_ind_thread_done();
}

static void llm_done(h2o_req_t *req, void *data)
{
    llmjob_t *j = data;
    if (j->cache_key)
        kho_respcache_put(j->cache_key, j->body.data, j->body.len);
    kho_http_send_json(req, 200, j->body.data, j->body.len);
    kho_buf_free(&j->body);
    free(j->question);
    free(j->url);
    free(j->model);
    free(j->key);
    free(j->cache_key);
    free(j);
}

/* When a model is configured and the parser could only answer "help", ask it
 * on a worker; true when the job took the request over (body is then its). */
static bool try_llm(kho_reqctx_t *rc, const char *q, int year, const json_t *out, kho_buf_t *body, const kho_buf_t *key)
{
    const char *url = kho_config_str(rc->cfg, "assistant_llm_url");
    if (!url || !*url || strcmp(json_string_value(json_object_get(out, "intent")), "help"))
        return false;
    llmjob_t *j = kho_xcalloc(1, sizeof *j);
    j->srv = rc->srv;
    j->who = rc->who;
    j->year = year;
    j->question = kho_xstrdup(q);
    j->url = kho_xstrdup(url);
    j->model = kho_xstrdup(kho_config_str(rc->cfg, "assistant_llm_model"));
    const char *k = getenv(KHO_LLM_KEY_ENV);
    j->key = k && *k ? kho_xstrdup(k) : NULL;
    j->timeout_ms = (long)kho_config_int(rc->cfg, "assistant_llm_timeout_ms");
    j->body = *body;
    j->cache_key = key->len ? kho_xstrdup(key->data) : NULL;
    if (kho_server_defer(rc, llm_work, llm_done, j) != 0) {
        *body = j->body; /* 503 sent; the body is ours again */
        free(j->question);
        free(j->url);
        free(j->model);
        free(j->key);
        free(j->cache_key);
        free(j);
        kho_buf_free(body);
        return true;
    }
    *body = (kho_buf_t)KHO_BUF_INIT;
    return true;
}

void kho_h_ask(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"q", NULL};
    kho_err_t err;
    json_t *body = NULL, *out = NULL;
    const char *q = NULL;
    int r = kho_http_check_params(rc, allowed, &err);
    bool post = h2o_memis(rc->req->method.base, rc->req->method.len, H2O_STRLIT("POST"));
    if (r == 0 && post) {
        r = kho_guard_body_json(rc, BODY_MAX, &body, &err);
        json_t *v = r == 0 ? json_object_get(body, "q") : NULL;
        if (r == 0 && v && !json_is_string(v))
            r = kho_err_setk(&err, KHO_EINVAL, "bad_parameter", "the body needs \"q\" as a string");
        q = json_string_value(v);
    } else if (r == 0)
        q = kho_http_param(rc, "q");
    if (r == 0 && !q)
        r = kho_err_setk(&err, KHO_EINVAL, "empty_question", "câu hỏi trống: hãy nhập một câu hỏi (q=...)");
    if (r != 0) {
        json_decref(body);
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    int year = kho_ask_year_now();
    kho_buf_t key = KHO_BUF_INIT;
    size_t len = 0;
    if (strlen(q) <= 4 * 500 && cache_key(rc, q, year, &key)) {
        const char *hit = kho_respcache_get(key.data, &len);
        if (hit) {
            kho_http_send_json(rc->req, 200, hit, len);
            kho_buf_free(&key);
            json_decref(body);
            return;
        }
    }
    kho_ask_ctx_t c = {.db = rc->db, .who = &rc->who, .this_year = year};
    r = kho_ask(&c, q, strlen(q), &out, &err);
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else {
        kho_buf_t b = KHO_BUF_INIT;
        kho_json_dump(&b, out, 0);
        kho_buf_putc(&b, '\n');
        if (!try_llm(rc, q, year, out, &b, &key)) {
            if (key.len)
                kho_respcache_put(key.data, b.data, b.len);
            kho_http_send_json(rc->req, 200, b.data, b.len);
            kho_buf_free(&b);
        }
        json_decref(out);
    }
    json_decref(body);
    kho_buf_free(&key);
}
