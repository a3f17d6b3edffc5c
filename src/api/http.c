/* http — request parsing and responses (see http.h). */
#include "api/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/jsonw.h"
#include "core/text.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) into a NUL-terminated copy in the pool; '+' is a space
 * when `plus`. NULL when the encoding or the resulting UTF-8 is invalid. */
static const char *decode(h2o_mem_pool_t *pool, const char *s, size_t n, bool plus)
{
    char *out = h2o_mem_alloc_pool(pool, n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return NULL;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return NULL;
            out[k++] = (char)(hi * 16 + lo);
            i += 2;
            continue;
        }
        out[k++] = plus && c == '+' ? ' ' : c;
    }
    out[k] = '\0';
    if (!kho_utf8_valid(out, k, NULL))
        return NULL;
    return out;
}

int kho_http_parse(kho_reqctx_t *rc, kho_err_t *err)
{
    h2o_req_t *req = rc->req;
    const char *p = req->path.base;
    size_t n = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    rc->nseg = 0;
    size_t i = 0;
    while (i < n) {
        if (p[i] == '/') {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && p[j] != '/')
            j++;
        if (rc->nseg == KHO_HTTP_MAX_SEGMENTS)
            return kho_err_setk(err, KHO_ENOTFOUND, "not_found", "no such path");
        const char *seg = decode(&req->pool, p + i, j - i, false);
        if (!seg)
            return kho_err_setk(err, KHO_EINVAL, "bad_path", "the path has invalid percent-encoding or UTF-8");
        if (strcmp(seg, "..") == 0 || strcmp(seg, ".") == 0)
            return kho_err_setk(err, KHO_ENOTFOUND, "not_found", "no such path");
        rc->seg[rc->nseg++] = seg;
        i = j;
    }
    rc->nparams = 0;
    if (req->query_at == SIZE_MAX)
        return 0;
    const char *q = req->path.base + req->query_at + 1;
    size_t qn = req->path.len - req->query_at - 1;
    i = 0;
    while (i < qn) {
        size_t j = i;
        while (j < qn && q[j] != '&')
            j++;
        if (j > i) {
            const char *eq = memchr(q + i, '=', j - i);
            size_t kl = eq ? (size_t)(eq - (q + i)) : j - i;
            if (rc->nparams == KHO_HTTP_MAX_PARAMS)
                return kho_err_setk(err, KHO_EINVAL, "too_many_parameters",
                                    "the query has more than %d parameters", KHO_HTTP_MAX_PARAMS);
            const char *key = decode(&req->pool, q + i, kl, true);
            const char *val = eq ? decode(&req->pool, eq + 1, (size_t)(q + j - eq - 1), true) : "";
            if (!key || !val)
                return kho_err_setk(err, KHO_EINVAL, "bad_query",
                                    "the query string has invalid percent-encoding or UTF-8 near '%.*s'",
                                    (int)(j - i > 40 ? 40 : j - i), q + i);
            rc->params[rc->nparams++] = (kho_param_t){key, val};
        }
        i = j + 1;
    }
    return 0;
}

const char *kho_http_param(const kho_reqctx_t *rc, const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; i < rc->nparams; i++)
        if (strcmp(rc->params[i].key, key) == 0)
            v = rc->params[i].val;
    return v;
}

size_t kho_http_params(const kho_reqctx_t *rc, const char *key, const char **vals, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < rc->nparams && k < max; i++)
        if (strcmp(rc->params[i].key, key) == 0)
            vals[k++] = rc->params[i].val;
    return k;
}

int kho_http_check_params(const kho_reqctx_t *rc, const char *const *allowed, kho_err_t *err)
{
    for (size_t i = 0; i < rc->nparams; i++) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, rc->params[i].key) == 0;
        if (ok)
            continue;
        kho_buf_t list = KHO_BUF_INIT;
        for (const char *const *a = allowed; *a; a++)
            kho_buf_printf(&list, "%s%s", a == allowed ? "" : ", ", *a);
        char key[80];
        snprintf(key, sizeof key, "%s", rc->params[i].key);
        int rcode = kho_err_setk(err, KHO_EINVAL, "unknown_parameter",
                                 "unknown query parameter '%s' (this endpoint takes: %s)", key,
                                 list.len ? list.data : "no parameters");
        kho_buf_free(&list);
        return rcode;
    }
    return 0;
}

int kho_http_param_long(const kho_reqctx_t *rc, const char *key, long def, long min, long max, long *out,
                        kho_err_t *err)
{
    const char *v = kho_http_param(rc, key);
    *out = def;
    if (!v)
        return 0;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < min || x > max)
        return kho_err_setk(err, KHO_EINVAL, "bad_parameter", "%s must be a whole number from %ld to %ld, not '%.40s'",
                            key, min, max, v);
    *out = x;
    return 0;
}

int kho_http_param_bool(const kho_reqctx_t *rc, const char *key, bool def, bool *out, kho_err_t *err)
{
    const char *v = kho_http_param(rc, key);
    *out = def;
    if (!v)
        return 0;
    if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes") || !*v)
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no"))
        *out = false;
    else
        return kho_err_setk(err, KHO_EINVAL, "bad_parameter", "%s must be true or false, not '%.40s'", key, v);
    return 0;
}

const char *kho_http_header(h2o_req_t *req, const h2o_token_t *token)
{
    ssize_t i = h2o_find_header(&req->headers, token, -1);
    if (i < 0)
        return NULL;
    h2o_iovec_t v = req->headers.entries[i].value;
    return h2o_strdup(&req->pool, v.base, v.len).base;
}

const char *kho_http_header_str(h2o_req_t *req, const char *name)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
    if (i < 0)
        return NULL;
    h2o_iovec_t v = req->headers.entries[i].value;
    return h2o_strdup(&req->pool, v.base, v.len).base;
}

bool kho_http_peer_is_loopback(h2o_req_t *req)
{
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    if (len == 0)
        return false;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return true;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
            return in6->sin6_addr.s6_addr[12] == 127;
    }
    return false;
}

void kho_http_url_encode(kho_buf_t *b, const char *s)
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

int kho_http_status(int code)
{
    switch (code) {
    case KHO_OK: return 200;
    case KHO_EINVAL:
    case KHO_EUSAGE: return 400;
    case KHO_EUNAUTH: return 401;
    case KHO_EFORBIDDEN: return 403;
    case KHO_ENOTFOUND: return 404;
    case KHO_ECONFLICT: return 409;
    case KHO_ETOOLARGE: return 413;
    case KHO_EMEDIA: return 415;
    case KHO_EREJECTED: return 422;
    case KHO_ELIMIT: return 429;
    case KHO_ETIMEOUT: return 400; /* the client asked for more work than the limit allows */
    case KHO_EBUSY: return 503;
    default: return 500;
    }
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return status < 500 ? "Error" : "Internal Server Error";
    }
}

void kho_http_send_json(h2o_req_t *req, int status, const char *body, size_t len)
{
    req->res.status = status;
    req->res.reason = reason(status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json; charset=utf-8"));
    h2o_send_inline(req, body, len);
}

void kho_http_send_body(h2o_req_t *req, int status, const char *content_type, const void *body, size_t len)
{
    req->res.status = status;
    req->res.reason = reason(status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type, strlen(content_type));
    h2o_send_inline(req, body, len);
}

void kho_http_send_value(h2o_req_t *req, int status, json_t *v)
{
    if (!v) { /* a value that could not be built (never expected): a plain 500, not a crash */
        static const char body[] = "{\"error\":{\"code\":\"internal\",\"message\":\"the response could not be built\"}}\n";
        kho_http_send_json(req, 500, body, sizeof body - 1);
        return;
    }
    kho_buf_t b = KHO_BUF_INIT;
    kho_json_dump(&b, v, 0);
    kho_buf_putc(&b, '\n');
    json_decref(v);
    kho_http_send_json(req, status, b.data, b.len);
    kho_buf_free(&b);
}

static void send_error(h2o_req_t *req, int status, const char *kind, const char *msg, json_t *details)
{
    if (status == 401) /* RFC 9110: a 401 names the scheme to use */
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                       H2O_STRLIT("Bearer realm=\"kho\""));
    char safe[1024];
    snprintf(safe, sizeof safe, "%s", msg);
    kho_utf8_repair(safe, strlen(safe));
    json_t *e = json_pack("{s:s,s:s}", "code", kind, "message", safe);
    if (!e) {
        json_decref(details);
        kho_http_send_value(req, status, NULL);
        return;
    }
    if (details)
        json_object_set_new(e, "details", details);
    if (status == 503)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("5"));
    kho_http_send_value(req, status, json_pack("{s:o}", "error", e));
}

void kho_http_send_error(h2o_req_t *req, const kho_err_t *err, json_t *details)
{
    send_error(req, kho_http_status(err->code), kho_err_kind(err), err->msg, details);
}

void kho_http_send_status(h2o_req_t *req, int code, const char *kind, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    send_error(req, kho_http_status(code), kind, msg, NULL);
}

void kho_http_send_http_error(h2o_req_t *req, int status, const char *kind, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    send_error(req, status, kind, msg, NULL);
}
