/*
 * guard — the security layer every HTTP request passes before its handler, and
 * the helpers handlers use for dataset access and auditing.
 *
 * Security headers (nosniff, frame-ancestors 'none', Content-Security-Policy,
 * Referrer-Policy, X-Frame-Options; HSTS under TLS) go on every response,
 * those the HTTP layer makes itself (413, 400) included: the server adds them
 * in an output filter with kho_guard_security_headers().
 *
 * For each request, in order (kho_guard_enter):
 *   1. who is calling: `Authorization: Bearer kho_...` (an API key: 401 when
 *      it is unknown, revoked or expired), else the `kho_session` cookie (a
 *      session that ended is treated as anonymous and the cookie cleared),
 *      else the anonymous public;
 *   2. CSRF: a state-changing request (not GET/HEAD) made with a session
 *      cookie must carry the session's token in `X-CSRF-Token` (403 otherwise);
 *   3. rate limits: a token bucket per API key or account (rate_<role>) or,
 *      for anonymous callers, per client address (rate_public); sign-in
 *      attempts have their own bucket per address (rate_login). 429 with
 *      Retry-After;
 *   4. the route's rule: the scopes it needs (401 for anonymous callers, 403
 *      for credentials without them).
 * Dataset-level decisions (security/access.h) are taken by the handlers
 * through kho_guard_dataset(), which knows the dataset in question.
 *
 * The client address is the connection's peer, or with `trust_proxy = on` the
 * last address of X-Forwarded-For (set it only behind a reverse proxy that
 * writes that header).
 */
#ifndef KHO_API_GUARD_H
#define KHO_API_GUARD_H

#include <jansson.h>
#include <stdbool.h>

#include "api/http.h"
#include "core/config.h"
#include "core/err.h"
#include "security/access.h"
#include "security/audit.h"
#include "security/auth.h"
#include "security/keys.h"
#include "store/store.h"
#include "warehouse/catalog.h"

typedef struct kho_guard kho_guard_t;

/* Load the key ring (through w), open the audit log (background writer), set
 * up sessions and rate limits from cfg. tls: the server speaks HTTPS (Secure
 * cookies, HSTS). */
int kho_guard_new(const char *datadir, const kho_config_t *cfg, kho_store_t *w, bool tls, kho_guard_t **out,
                  kho_err_t *err) KHO_WUR;
/* Flush and close the audit log (final checkpoint), drop sessions and keys. */
void kho_guard_free(kho_guard_t *g);

kho_audit_t *kho_guard_audit(kho_guard_t *g);
kho_keyring_t *kho_guard_keys(kho_guard_t *g);
kho_sessions_t *kho_guard_sessions(kho_guard_t *g);
bool kho_guard_tls(const kho_guard_t *g);

/* What a route demands of its caller. */
typedef struct kho_rule {
    unsigned scopes;  /* every one of these scopes (0: anyone, anonymous included) */
    bool account;     /* a signed-in account (not the anonymous public) */
    bool session;     /* a browser session, not an API key (key management) */
    bool login;       /* the sign-in endpoint: the login rate limit applies */
} kho_rule_t;

/* True for the paths of the public API (/api/v1/..., CKAN's /api/3/... and
 * /api/action/..., /catalog.jsonld): their responses carry Access-Control-Allow-Origin: *. */
bool kho_guard_is_public_api(const char *path, size_t n);
/* Answer a CORS preflight (OPTIONS) on the public API: 204 with the methods and
 * headers a cross-origin page may use (never credentials). */
void kho_guard_cors_preflight(h2o_req_t *req);

/* Add the security headers to a response (called by the server's output filter). */
void kho_guard_security_headers(h2o_req_t *req, bool tls);

/* Steps 1-4 above. Returns 0 when the handler may run (rc->who is set);
 * otherwise the error response has been sent. */
int kho_guard_enter(kho_reqctx_t *rc, const kho_rule_t *rule);
/* Step 4 alone, for a handler whose demands depend on the configuration (the
 * route's rule let everyone in): 0 when the caller meets rule, otherwise -1
 * and the 401 or 403 has been sent. */
int kho_guard_require(kho_reqctx_t *rc, const kho_rule_t *rule);

/* The decision for the caller on dataset `slug` (facts, optional, receives
 * what was looked up; personal: the version concerned has personal columns).
 * On refusal err is set (404 for datasets the caller may not see) and the
 * code returned. */
int kho_guard_dataset(kho_reqctx_t *rc, const char *slug, kho_action_t a, bool personal, kho_dsfacts_t *facts,
                      kho_decision_t *d, kho_err_t *err) KHO_WUR;

/* Visibility of catalog entries for one caller (its grants loaded once). */
typedef struct kho_visibility {
    const kho_principal_t *who;
    kho_grants_t grants;
} kho_visibility_t;

int kho_guard_visibility(kho_reqctx_t *rc, kho_visibility_t *v, kho_err_t *err) KHO_WUR;
void kho_visibility_free(kho_visibility_t *v);
/* A kho_visible_fn (catalog.h) over a kho_visibility_t. */
bool kho_guard_visible(void *ctx, const kho_dsref_t *d);

/* Record an audit entry for this request's caller (address, credential, and
 * the X-Purpose header when sent). details: stolen reference, may be NULL. */
void kho_guard_audit_event(kho_reqctx_t *rc, const char *action, const char *target, json_t *details);

/* The caller as an audit entry needs it, copied out of the request so that a
 * worker can record an event after the request is gone (a long export). */
typedef struct kho_audit_caller {
    kho_audit_t *audit;
    char actor[96], role[16], via[32], ip[48];
    char purpose[256]; /* the X-Purpose header, "" when not sent */
} kho_audit_caller_t;

/* On the request's loop. */
void kho_guard_audit_caller(kho_reqctx_t *rc, kho_audit_caller_t *out);
/* Any thread. details: stolen reference, may be NULL. */
void kho_guard_audit_caller_event(const kho_audit_caller_t *c, const char *action, const char *target,
                                  json_t *details);

/* Parse a JSON object request body (Content-Type application/json, at most
 * max bytes). KHO_EMEDIA / KHO_ETOOLARGE / KHO_EINVAL (with line and column). */
int kho_guard_body_json(kho_reqctx_t *rc, size_t max, json_t **out, kho_err_t *err) KHO_WUR;

/* Set-Cookie headers for a new session / to end one. */
void kho_guard_set_session_cookie(kho_reqctx_t *rc, const char *token, int max_age);

#endif
