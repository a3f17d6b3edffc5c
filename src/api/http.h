/*
 * http — what every HTTP handler uses: the request context, query parameters,
 * JSON responses, and errors.
 *
 * Errors go out as {"error":{"code":"...","message":"..."}} with the status
 * from kho_http_status(), the one place where kho error codes become HTTP
 * statuses. Bad input from a client is never a 500.
 *
 * Strings in a kho_reqctx_t (path segments, parameters) are decoded copies in
 * the request's memory pool: valid until the response is sent.
 */
#ifndef KHO_API_HTTP_H
#define KHO_API_HTTP_H

#include <h2o.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "security/auth.h"
#include "store/store.h"

#define KHO_HTTP_MAX_SEGMENTS 12
#define KHO_HTTP_MAX_PARAMS 64

typedef struct kho_server kho_server_t;
typedef struct kho_loop kho_loop_t;
typedef struct kho_guard kho_guard_t;

typedef struct kho_param {
    const char *key, *val;
} kho_param_t;

typedef struct kho_reqctx {
    h2o_req_t *req;
    kho_server_t *srv;
    kho_loop_t *loop;
    kho_store_t *db;             /* this event loop's read-only connection */
    const kho_config_t *cfg;
    const char *seg[KHO_HTTP_MAX_SEGMENTS]; /* decoded path segments */
    size_t nseg;
    const char *var[4];          /* values of the route's {placeholders} */
    kho_param_t params[KHO_HTTP_MAX_PARAMS];
    size_t nparams;
    kho_guard_t *guard;          /* the security layer (api/guard.h) */
    kho_principal_t who;         /* the caller, set by kho_guard_enter() */
    const char *session_token;   /* the caller's session cookie, when signed in by one */
    char ip[48];                 /* the client's address */
} kho_reqctx_t;

/* Split the path into decoded segments and the query into decoded parameters.
 * KHO_EINVAL for malformed percent-encoding, invalid UTF-8, ".." segments or
 * too many segments/parameters. */
int kho_http_parse(kho_reqctx_t *rc, kho_err_t *err) KHO_WUR;

/* Last value of a query parameter, or NULL. */
const char *kho_http_param(const kho_reqctx_t *rc, const char *key);
/* Every value of a parameter, in order; returns the count. */
size_t kho_http_params(const kho_reqctx_t *rc, const char *key, const char **vals, size_t max);
/* KHO_EINVAL naming the first parameter not in `allowed` (NULL-terminated). */
int kho_http_check_params(const kho_reqctx_t *rc, const char *const *allowed, kho_err_t *err) KHO_WUR;
/* Read an integer parameter into *out (def when absent); KHO_EINVAL when not a
 * whole number within [min, max]. */
int kho_http_param_long(const kho_reqctx_t *rc, const char *key, long def, long min, long max, long *out,
                        kho_err_t *err) KHO_WUR;
/* "true"/"1"/"yes" -> true, "false"/"0"/"no" -> false; KHO_EINVAL otherwise. */
int kho_http_param_bool(const kho_reqctx_t *rc, const char *key, bool def, bool *out, kho_err_t *err) KHO_WUR;

/* Value of a request header (a copy in the request pool), or NULL. */
const char *kho_http_header(h2o_req_t *req, const h2o_token_t *token);
/* The same for a header h2o has no token for (lower-case name). */
const char *kho_http_header_str(h2o_req_t *req, const char *name);
/* True when the client connected from 127.0.0.0/8 or ::1. */
bool kho_http_peer_is_loopback(h2o_req_t *req);

/* Append s percent-encoded for a URL's query string (RFC 3986 unreserved
 * characters and ',' kept as they are). */
void kho_http_url_encode(kho_buf_t *b, const char *s);

/* The HTTP status of a kho error code. */
int kho_http_status(int code);
/* Send a JSON body (copied) with the given status. */
void kho_http_send_json(h2o_req_t *req, int status, const char *body, size_t len);
/* Send any body (copied) with its Content-Type (a static string). */
void kho_http_send_body(h2o_req_t *req, int status, const char *content_type, const void *body, size_t len);
/* Serialise and send a jansson value (the reference is released). */
void kho_http_send_value(h2o_req_t *req, int status, json_t *v);
/* Send an error; `details` (may be NULL, reference released) is added as "details". */
void kho_http_send_error(h2o_req_t *req, const kho_err_t *err, json_t *details);
/* Send an error built from a kho error code and message. */
void kho_http_send_status(h2o_req_t *req, int code, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Send an error with an explicit HTTP status (for statuses no kho code maps to, such as 405). */
void kho_http_send_http_error(h2o_req_t *req, int status, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
