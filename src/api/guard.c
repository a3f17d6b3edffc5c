/* guard — authentication, CSRF, rate limits, headers, dataset access and audit
 * for HTTP requests (see guard.h). */
#include "api/guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"
#include "core/text.h"
#include "core/mem.h"
#include "security/ratelimit.h"

#define COOKIE "kho_session"

struct kho_guard {
    kho_audit_t *audit;
    kho_keyring_t *keys;
    kho_sessions_t *sessions;
    kho_ratelimit_t *rl;
    kho_rate_t rate[KHO_ROLE_ADMIN + 1];
    kho_rate_t login;
    bool trust_proxy;
    bool tls;
};

static int read_rate(const kho_config_t *cfg, const char *key, kho_rate_t *out, kho_err_t *err)
{
    int rc = kho_rate_parse(kho_config_str(cfg, key), out, err);
    if (rc != 0)
        kho_err_prefix(err, "setting %s", key);
    return rc;
}

int kho_guard_new(const char *datadir, const kho_config_t *cfg, kho_store_t *w, bool tls, kho_guard_t **out,
                  kho_err_t *err)
{
    kho_guard_t *g = kho_xcalloc(1, sizeof *g);
    g->tls = tls;
    g->trust_proxy = strcmp(kho_config_str(cfg, "trust_proxy"), "on") == 0;
    int rc = 0;
    static const char *const keys[] = {"rate_public", "rate_analyst", "rate_leader",
                                       "rate_partner", "rate_steward", "rate_admin"};
    for (int r = KHO_ROLE_PUBLIC; r <= KHO_ROLE_ADMIN && rc == 0; r++)
        rc = read_rate(cfg, keys[r], &g->rate[r], err);
    if (rc == 0)
        rc = read_rate(cfg, "rate_login", &g->login, err);
    if (rc == 0)
        rc = kho_keyring_open(datadir, w, false, &g->keys, err);
    if (rc == 0)
        rc = kho_audit_open(datadir, cfg, false, true, &g->audit, err);
    if (rc != 0) {
        kho_guard_free(g);
        return rc;
    }
    g->sessions = kho_sessions_new((int)kho_config_int(cfg, "session_idle_minutes"),
                                   (int)kho_config_int(cfg, "session_max_hours"));
    g->rl = kho_ratelimit_new();
    *out = g;
    return 0;
}

void kho_guard_free(kho_guard_t *g)
{
    if (!g)
        return;
    kho_audit_close(g->audit);
    kho_keyring_free(g->keys);
    kho_sessions_free(g->sessions);
    kho_ratelimit_free(g->rl);
    free(g);
}

kho_audit_t *kho_guard_audit(kho_guard_t *g)
{
    return g->audit;
}

kho_keyring_t *kho_guard_keys(kho_guard_t *g)
{
    return g->keys;
}

kho_sessions_t *kho_guard_sessions(kho_guard_t *g)
{
    return g->sessions;
}

bool kho_guard_tls(const kho_guard_t *g)
{
    return g->tls;
}

/* ---- request entry ------------------------------------------------------------------ */

static void add_header(h2o_req_t *req, const char *name, const char *value)
{
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 0, NULL, value, strlen(value));
}

bool kho_guard_is_public_api(const char *path, size_t n)
{
    static const char *const prefixes[] = {"/api/v1/", "/api/3/", "/api/action/", "/catalog.jsonld"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t pl = strlen(prefixes[i]);
        if (n >= pl && memcmp(path, prefixes[i], pl) == 0)
            return true;
    }
    return n == 7 && memcmp(path, "/api/v1", 7) == 0;
}

void kho_guard_cors_preflight(h2o_req_t *req)
{
    add_header(req, "access-control-allow-methods", "GET, HEAD, POST, OPTIONS");
    add_header(req, "access-control-allow-headers", "Authorization, Content-Type, Accept, X-Purpose");
    add_header(req, "access-control-max-age", "86400");
    req->res.status = 204;
    req->res.reason = "No Content";
    h2o_send_inline(req, NULL, 0);
}

void kho_guard_security_headers(h2o_req_t *req, bool tls)
{
    add_header(req, "x-content-type-options", "nosniff");
    add_header(req, "x-frame-options", "DENY");
    add_header(req, "content-security-policy",
               "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; "
               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    add_header(req, "referrer-policy", "no-referrer");
    /* the public API and the catalogue may be read from any web page (CORS):
     * without credentials, so that no cookie of a signed-in user goes along;
     * an API key in Authorization is the caller's own to send */
    if (kho_guard_is_public_api(req->path.base, req->path.len))
        add_header(req, "access-control-allow-origin", "*");
    if (tls)
        add_header(req, "strict-transport-security", "max-age=31536000");
}

/* The client's address as text: the peer, or behind a trusted proxy the last
 * X-Forwarded-For entry. */
static void client_ip(kho_reqctx_t *rc)
{
    h2o_req_t *req = rc->req;
    if (rc->guard->trust_proxy) {
        const char *xff = kho_http_header(req, H2O_TOKEN_X_FORWARDED_FOR);
        if (xff) {
            const char *last = strrchr(xff, ',');
            last = last ? last + 1 : xff;
            while (*last == ' ')
                last++;
            snprintf(rc->ip, sizeof rc->ip, "%.*s", (int)strcspn(last, " "), last);
            if (rc->ip[0])
                return;
        }
    }
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    rc->ip[0] = '\0';
    if (len > 0 && ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, rc->ip, sizeof rc->ip);
    else if (len > 0 && ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, rc->ip, sizeof rc->ip);
    if (!rc->ip[0])
        snprintf(rc->ip, sizeof rc->ip, "unknown");
}

/* The value of cookie `name` from the Cookie headers (a copy in the request pool). */
static const char *cookie(h2o_req_t *req, const char *name)
{
    size_t nl = strlen(name);
    for (ssize_t i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, i)) >= 0;) {
        h2o_iovec_t v = req->headers.entries[i].value;
        const char *p = v.base, *end = v.base + v.len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == ';'))
                p++;
            const char *semi = memchr(p, ';', (size_t)(end - p));
            const char *stop = semi ? semi : end;
            if ((size_t)(stop - p) > nl && memcmp(p, name, nl) == 0 && p[nl] == '=')
                return h2o_strdup(&req->pool, p + nl + 1, (size_t)(stop - p - nl - 1)).base;
            p = stop;
        }
    }
    return NULL;
}

void kho_guard_set_session_cookie(kho_reqctx_t *rc, const char *token, int max_age)
{
    char v[256];
    snprintf(v, sizeof v, COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s", token ? token : "",
             token ? max_age : 0, rc->guard->tls ? "; Secure" : "");
    h2o_add_header(&rc->req->pool, &rc->req->res.headers, H2O_TOKEN_SET_COOKIE, NULL,
                   h2o_strdup(&rc->req->pool, v, SIZE_MAX).base, strlen(v));
}

static bool state_changing(h2o_req_t *req)
{
    h2o_iovec_t m = req->method;
    return !(h2o_memis(m.base, m.len, H2O_STRLIT("GET")) || h2o_memis(m.base, m.len, H2O_STRLIT("HEAD")) ||
             h2o_memis(m.base, m.len, H2O_STRLIT("OPTIONS")));
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int limited(kho_reqctx_t *rc, int retry)
{
    char v[16];
    snprintf(v, sizeof v, "%d", retry);
    h2o_add_header(&rc->req->pool, &rc->req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL,
                   h2o_strdup(&rc->req->pool, v, SIZE_MAX).base, strlen(v));
    kho_http_send_status(rc->req, KHO_ELIMIT, "rate_limited", "too many requests: retry in %d s", retry);
    return -1;
}

/* Take a token from the caller's bucket (and the sign-in bucket for logins). */
static int rate_limit(kho_reqctx_t *rc, const kho_rule_t *rule)
{
    kho_guard_t *g = rc->guard;
    char key[80];
    const kho_principal_t *p = &rc->who;
    if (p->key_id > 0)
        snprintf(key, sizeof key, "k%lld", (long long)p->key_id);
    else if (p->user_id > 0)
        snprintf(key, sizeof key, "u%lld", (long long)p->user_id);
    else
        snprintf(key, sizeof key, "a%s", rc->ip);
    int retry = 0;
    uint64_t now = now_ms();
    if (!kho_ratelimit_take(g->rl, key, strlen(key), &g->rate[p->role], now, &retry))
        return limited(rc, retry);
    if (rule && rule->login) {
        snprintf(key, sizeof key, "l%s", rc->ip);
        if (!kho_ratelimit_take(g->rl, key, strlen(key), &g->login, now, &retry))
            return limited(rc, retry);
    }
    return 0;
}

static int refuse(kho_reqctx_t *rc, int code, const char *kind, const char *msg)
{
    kho_http_send_status(rc->req, code, kind, "%s", msg);
    return -1;
}

/* Who is calling: an API key, a session, or nobody. -1 when answered (a bad key). */
static int identify(kho_reqctx_t *rc)
{
    h2o_req_t *req = rc->req;
    kho_principal_public(&rc->who);
    const char *authz = kho_http_header(req, H2O_TOKEN_AUTHORIZATION);
    if (!authz)
        authz = kho_http_header_str(req, "x-ckan-api-key"); /* CKAN's clients' other header */
    kho_err_t err;
    if (authz) {
        /* "Bearer kho_...", or the bare key as CKAN's clients send it */
        bool bare = strncmp(authz, "kho_", 4) == 0;
        if (!bare && strncasecmp(authz, "Bearer ", 7) != 0) {
            (void)rate_limit(rc, NULL);
            return refuse(rc, KHO_EUNAUTH, "bad_credentials", "send an API key as 'Authorization: Bearer kho_...'");
        }
        const char *key = bare ? authz : authz + 7;
        while (*key == ' ')
            key++;
        if (kho_key_authenticate(rc->db, key, &rc->who, &err) != 0) {
            kho_principal_public(&rc->who);
            if (rate_limit(rc, NULL) != 0) /* bad keys count against the address */
                return -1;
            if (err.code != KHO_EUNAUTH) {
                kho_http_send_error(req, &err, NULL);
                return -1;
            }
            return refuse(rc, KHO_EUNAUTH, kho_err_kind(&err), err.msg);
        }
        return 0;
    }
    const char *token = cookie(req, COOKIE);
    if (!token)
        return 0;
    kho_principal_t p;
    if (kho_session_lookup(rc->guard->sessions, token, &p)) {
        if (kho_auth_refresh(rc->db, &p, &err) == 0) {
            rc->who = p;
            rc->session_token = token;
            return 0;
        }
        kho_session_destroy(rc->guard->sessions, token);
    }
    kho_guard_set_session_cookie(rc, NULL, 0); /* ended or unknown (a restart): forget it */
    return 0;
}

int kho_guard_enter(kho_reqctx_t *rc, const kho_rule_t *rule)
{
    client_ip(rc);
    if (identify(rc) != 0)
        return -1;
    if (rc->who.user_id)
        h2o_add_header(&rc->req->pool, &rc->req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                       H2O_STRLIT("private, no-store"));
    if (rc->who.session && state_changing(rc->req)) {
        const char *csrf = kho_http_header_str(rc->req, "x-csrf-token");
        if (!csrf || !kho_token_equal(csrf, rc->who.csrf))
            return refuse(rc, KHO_EFORBIDDEN, "csrf",
                          "a request made with a session cookie must send the session's X-CSRF-Token header");
    }
    if (rate_limit(rc, rule) != 0)
        return -1;
    return kho_guard_require(rc, rule);
}

int kho_guard_require(kho_reqctx_t *rc, const kho_rule_t *rule)
{
    if (!rule)
        return 0;
    bool anonymous = rc->who.user_id == 0;
    if ((rule->account || rule->session || rule->scopes) && anonymous)
        return refuse(rc, KHO_EUNAUTH, "unauthenticated", "sign in or send an API key first");
    if (rule->session && !rc->who.session)
        return refuse(rc, KHO_EFORBIDDEN, "session_required",
                      "this needs a signed-in browser session (or the kho command line), not an API key");
    unsigned missing = rule->scopes & ~rc->who.scopes;
    if (missing) {
        char list[128], msg[256];
        kho_scopes_format(missing, list, sizeof list);
        snprintf(msg, sizeof msg, "this needs the scope %s, which this credential does not hold", list);
        return refuse(rc, KHO_EFORBIDDEN, "missing_scope", msg);
    }
    return 0;
}

/* ---- datasets and audit ------------------------------------------------------------ */

int kho_guard_dataset(kho_reqctx_t *rc, const char *slug, kho_action_t a, bool personal, kho_dsfacts_t *facts,
                      kho_decision_t *d, kho_err_t *err)
{
    kho_dsfacts_t f;
    int r = kho_access_facts(rc->db, &rc->who, slug, &f, err);
    if (r == KHO_ENOTFOUND && a != KHO_ACT_READ) {
        memset(&f, 0, sizeof f); /* a dataset an upload would create */
        r = 0;
    }
    if (r != 0)
        return r;
    f.personal = personal;
    *d = kho_access_decide(&rc->who, &f, a);
    if (facts)
        *facts = f;
    return d->code ? kho_access_refuse(d, slug, err) : 0;
}

int kho_guard_visibility(kho_reqctx_t *rc, kho_visibility_t *v, kho_err_t *err)
{
    v->who = &rc->who;
    return kho_grants_load(rc->db, &rc->who, &v->grants, err);
}

void kho_visibility_free(kho_visibility_t *v)
{
    kho_grants_free(&v->grants);
}

bool kho_guard_visible(void *ctx, const kho_dsref_t *d)
{
    const kho_visibility_t *v = ctx;
    kho_dsfacts_t f = {.id = d->id,
                       .sharing = kho_sharing_parse(d->sharing),
                       .importance = kho_importance_parse(d->importance),
                       .org_id = d->org_id,
                       .grant = kho_grants_level(&v->grants, d->id)};
    return kho_access_decide(v->who, &f, KHO_ACT_READ).code == 0;
}

void kho_guard_audit_event(kho_reqctx_t *rc, const char *action, const char *target, json_t *details)
{
    char via[32];
    kho_principal_via(&rc->who, via, sizeof via);
    const char *purpose = kho_http_header_str(rc->req, "x-purpose");
    if (purpose) {
        if (!details)
            details = json_object();
        char clean[256];
        snprintf(clean, sizeof clean, "%s", purpose);
        kho_utf8_repair(clean, strlen(clean));
        json_object_set_new(details, "purpose", json_string(clean));
    }
    kho_audit_who_t who = {rc->who.user, kho_role_name(rc->who.role), via, rc->ip};
    (void)kho_audit_record(rc->guard->audit, &who, action, target, details); /* queued: never fails */
}

void kho_guard_audit_caller(kho_reqctx_t *rc, kho_audit_caller_t *out)
{
    memset(out, 0, sizeof *out);
    out->audit = rc->guard->audit;
    snprintf(out->actor, sizeof out->actor, "%s", rc->who.user);
    snprintf(out->role, sizeof out->role, "%s", kho_role_name(rc->who.role));
    kho_principal_via(&rc->who, out->via, sizeof out->via);
    snprintf(out->ip, sizeof out->ip, "%s", rc->ip);
    const char *purpose = kho_http_header_str(rc->req, "x-purpose");
    if (purpose) {
        snprintf(out->purpose, sizeof out->purpose, "%s", purpose);
        kho_utf8_repair(out->purpose, strlen(out->purpose));
    }
}

void kho_guard_audit_caller_event(const kho_audit_caller_t *c, const char *action, const char *target,
                                  json_t *details)
{
    if (c->purpose[0]) {
        if (!details)
            details = json_object();
        json_object_set_new(details, "purpose", json_string(c->purpose));
    }
    kho_audit_who_t who = {c->actor, c->role, c->via, c->ip};
    (void)kho_audit_record(c->audit, &who, action, target, details);
}

int kho_guard_body_json(kho_reqctx_t *rc, size_t max, json_t **out, kho_err_t *err)
{
    h2o_req_t *req = rc->req;
    const char *ct = kho_http_header(req, H2O_TOKEN_CONTENT_TYPE);
    if (!ct || (strncasecmp(ct, "application/json", 16) != 0 && strncasecmp(ct, "application/ld+json", 19) != 0))
        return kho_err_setk(err, KHO_EMEDIA, "unsupported_media_type", "send a JSON object (application/json)");
    if (req->entity.len > max)
        return kho_err_setk(err, KHO_ETOOLARGE, "too_large", "the body is larger than %zu bytes", max);
    json_error_t je;
    json_t *v = json_loadb(req->entity.base ? req->entity.base : "", req->entity.len, JSON_REJECT_DUPLICATES, &je);
    if (!v)
        return kho_err_setk(err, KHO_EINVAL, "bad_json", "the body is not valid JSON (line %d, column %d: %s)",
                            je.line, je.column, je.text);
    if (!json_is_object(v)) {
        json_decref(v);
        return kho_err_setk(err, KHO_EINVAL, "bad_json", "the body must be a JSON object");
    }
    *out = v;
    return 0;
}
