/* h_static — portal pages and embedded assets (see h_static.h). */
#include "api/h_static.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/guard.h"

/* Weak: binaries without the generated file (unit tests, fuzzers) link, and
 * see the addresses as NULL. */
#pragma weak kho_web_assets
#pragma weak kho_web_nassets

#define SHELL "shell.html"
#define CACHE_IMMUTABLE "public, max-age=31536000, immutable"
#define CACHE_SHORT "public, max-age=300"
#define CACHE_PAGE "no-cache"

const kho_asset_t *kho_static_find(const char *name, bool *immutable)
{
    *immutable = false;
    if (!&kho_web_nassets || !kho_web_assets)
        return NULL;
    for (size_t i = 0; i < kho_web_nassets; i++) {
        const kho_asset_t *a = &kho_web_assets[i];
        if (strcmp(a->name, name) == 0)
            return a;
        if (strcmp(a->hashed, name) == 0) {
            *immutable = true;
            return a;
        }
    }
    return NULL;
}

/* The q value of one Accept-Encoding entry [p, end): 1 when it has none. */
static double entry_q(const char *p, const char *end)
{
    for (const char *s = memchr(p, ';', (size_t)(end - p)); s; s = memchr(s + 1, ';', (size_t)(end - s - 1))) {
        const char *v = s + 1 + strspn(s + 1, " \t");
        if ((v[0] == 'q' || v[0] == 'Q') && v[1] == '=' && v + 2 < end)
            return strtod(v + 2, NULL);
    }
    return 1;
}

/* True when an Accept-Encoding value allows gzip: a "gzip", "x-gzip" or "*"
 * entry with a q above zero. */
static bool accepts_gzip(const char *ae)
{
    for (const char *p = ae; *p;) {
        p += strspn(p, " \t,");
        const char *end = p + strcspn(p, ",");
        size_t n = strcspn(p, ",; \t");
        bool gz = (n == 4 && strncasecmp(p, "gzip", 4) == 0) || (n == 6 && strncasecmp(p, "x-gzip", 6) == 0) ||
                  (n == 1 && *p == '*');
        if (gz && entry_q(p, end) > 0)
            return true;
        p = end;
    }
    return false;
}

/* True when If-None-Match names this asset's ETag (either representation) or "*". */
static bool not_modified(const char *inm, const kho_asset_t *a)
{
    const char *tag = a->etag + 1; /* unquoted hash and its length */
    size_t tn = strlen(tag) - 1;
    for (const char *p = inm; p && *p;) {
        p += strspn(p, " \t,");
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (*p == '*')
            return true;
        if (*p == '"' && strncmp(p + 1, tag, tn) == 0 && (p[1 + tn] == '"' || strncmp(p + 1 + tn, "-gz\"", 4) == 0))
            return true;
        const char *end = strchr(p, ',');
        p = end ? end + 1 : NULL;
    }
    return false;
}

static void set_header(h2o_req_t *req, const h2o_token_t *t, const char *v)
{
    h2o_set_header(&req->pool, &req->res.headers, t, v, strlen(v), 1);
}

/* Send asset a with the given status (200, or 404 for a page that is not
 * there). A page keeps a Cache-Control the guard set (signed-in callers);
 * other assets are public. The body points at the embedded bytes. */
static void send_asset(kho_reqctx_t *rc, const kho_asset_t *a, int status, bool page, bool immutable)
{
    static h2o_generator_t generator = {NULL, NULL};
    h2o_req_t *req = rc->req;
    const char *ae = kho_http_header(req, H2O_TOKEN_ACCEPT_ENCODING);
    bool gz = a->gz && ae && accepts_gzip(ae);
    const char *etag = a->etag;
    if (gz) {
        size_t n = strlen(a->etag);
        char *t = h2o_mem_alloc_pool(&req->pool, n + 4);
        memcpy(t, a->etag, n - 1);
        memcpy(t + n - 1, "-gz\"", 5);
        etag = t;
    }
    if (!page)
        set_header(req, H2O_TOKEN_CACHE_CONTROL, immutable ? CACHE_IMMUTABLE : CACHE_SHORT);
    else if (h2o_find_header(&req->res.headers, H2O_TOKEN_CACHE_CONTROL, -1) < 0)
        set_header(req, H2O_TOKEN_CACHE_CONTROL, CACHE_PAGE);
    if (a->gz)
        set_header(req, H2O_TOKEN_VARY, "Accept-Encoding");
    set_header(req, H2O_TOKEN_CONTENT_TYPE, a->mime);
    if (status == 200) {
        set_header(req, H2O_TOKEN_ETAG, etag);
        const char *inm = kho_http_header(req, H2O_TOKEN_IF_NONE_MATCH);
        if (inm && not_modified(inm, a)) {
            req->res.status = 304;
            req->res.reason = "Not Modified";
            h2o_start_response(req, &generator);
            h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
            return;
        }
    }
    if (gz)
        set_header(req, H2O_TOKEN_CONTENT_ENCODING, "gzip");
    h2o_iovec_t body = gz ? h2o_iovec_init(a->gz, a->gzlen) : h2o_iovec_init(a->data, a->len);
    req->res.status = status;
    req->res.reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Error";
    req->res.content_length = body.len;
    h2o_start_response(req, &generator);
    bool head = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    h2o_send(req, head ? NULL : &body, head ? 0 : 1, H2O_SEND_STATE_FINAL);
}

/* Send the page shell, or a JSON 404 when this binary has no assets. */
static void send_page(kho_reqctx_t *rc, int status)
{
    bool immutable;
    const kho_asset_t *shell = kho_static_find(SHELL, &immutable);
    if (!shell) {
        kho_http_send_status(rc->req, KHO_ENOTFOUND, "not_found", "this kho binary was built without its web pages");
        return;
    }
    send_asset(rc, shell, status, true, false);
}

void kho_h_page_catalogue(kho_reqctx_t *rc)
{
    send_page(rc, 200);
}

void kho_h_page_sql(kho_reqctx_t *rc)
{
    send_page(rc, 200);
}

void kho_h_page_dashboard(kho_reqctx_t *rc)
{
    send_page(rc, 200);
}

void kho_h_page_dataset(kho_reqctx_t *rc)
{
    kho_err_t err;
    kho_decision_t d;
    int r = kho_guard_dataset(rc, rc->var[0], KHO_ACT_READ, false, NULL, &d, &err);
    if (r == 0) {
        send_page(rc, 200);
        return;
    }
    int status = kho_http_status(r);
    if (status >= 500) { /* busy or broken: say so, and let the client retry */
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    send_page(rc, 404); /* unknown, hidden or malformed id: all look the same */
}

void kho_h_static(kho_reqctx_t *rc)
{
    bool immutable = false;
    const kho_asset_t *a = rc->nseg == 2 ? kho_static_find(rc->seg[1], &immutable) : NULL;
    if (!a) {
        kho_http_send_status(rc->req, KHO_ENOTFOUND, "not_found", "no such file under /static/");
        return;
    }
    send_asset(rc, a, 200, false, immutable);
}
