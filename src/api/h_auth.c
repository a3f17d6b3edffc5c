/* h_auth — sign-in, sessions, keys, accounts (see h_auth.h). */
#include "api/h_auth.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/guard.h"
#include "api/server.h"
#include "core/log.h"
#include "core/mem.h"

#define BODY_MAX 16384

static const char *const NO_PARAMS[] = {NULL};

/* A string member of a JSON body (NULL when absent); KHO_EINVAL when not a string. */
static int member(json_t *body, const char *key, bool required, const char **out, kho_err_t *err)
{
    json_t *v = json_object_get(body, key);
    *out = NULL;
    if (!v && !required)
        return 0;
    if (!json_is_string(v))
        return kho_err_setk(err, KHO_EINVAL, "bad_parameter", "the body needs \"%s\" as a string", key);
    *out = json_string_value(v);
    return 0;
}

/* Wipe a secret member of a parsed body before the body is released. */
static void wipe_member(json_t *body, const char *key)
{
    json_t *v = body ? json_object_get(body, key) : NULL;
    if (json_is_string(v))
        sodium_memzero((char *)json_string_value(v), json_string_length(v));
}

static json_t *principal_json(const kho_principal_t *p)
{
    char scopes[128];
    kho_scopes_format(p->scopes, scopes, sizeof scopes);
    json_t *o = json_pack("{s:s,s:s,s:s}", "user", p->user, "role", kho_role_name(p->role), "scopes", scopes);
    json_object_set_new(o, "org", p->org[0] ? json_string(p->org) : json_null());
    char via[32];
    kho_principal_via(p, via, sizeof via);
    json_object_set_new(o, "via", json_string(via));
    return o;
}

/* ---- sign-in ------------------------------------------------------------------------ */

typedef struct login {
    kho_server_t *srv;
    kho_reqctx_t *rc;
    char name[64];
    char *password;
    size_t pwlen;
    int max_failures;
    kho_principal_t p;
    int retry;
    kho_err_t err;
    int result;
} login_t;

static void login_work(void *data)
{
    login_t *l = data;
    kho_store_t *r = kho_server_worker_db(l->srv);
    if (!r) {
        l->result = kho_err_set(&l->err, KHO_EBUSY, "no database connection for sign-in; retry");
        return;
    }
    l->result = kho_auth_login(r, l->name, l->password, &l->p, &l->retry, &l->err);
    if (l->result == 0 || l->result == KHO_EUNAUTH) {
        kho_err_t e2;
        kho_store_t *w = kho_server_writer_lock(l->srv);
        if (kho_auth_note(w, l->name, l->result == 0, l->max_failures, &e2) != 0)
            kho_warn("sign-in of %s: cannot record the attempt: %s", l->name, e2.msg);
        kho_server_writer_unlock(l->srv);
    }
}

static void login_free(login_t *l)
{
    sodium_memzero(l->password, l->pwlen);
    free(l->password);
    sodium_memzero(l, sizeof *l);
    free(l);
}

static void login_done(h2o_req_t *req, void *data)
{
    login_t *l = data;
    kho_reqctx_t *rc = l->rc;
    if (l->result != 0) {
        kho_guard_audit_event(rc, "login_failed", NULL,
                              json_pack("{s:s,s:s}", "name", l->name, "reason", kho_err_kind(&l->err)));
        if (l->retry > 0) {
            char v[16];
            int n = snprintf(v, sizeof v, "%d", l->retry);
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL,
                           h2o_strdup(&req->pool, v, (size_t)n).base, (size_t)n);
        }
        kho_http_send_error(req, &l->err, NULL);
        login_free(l);
        return;
    }
    char token[48], csrf[48];
    kho_session_create(kho_guard_sessions(rc->guard), &l->p, token, csrf);
    kho_guard_set_session_cookie(rc, token, kho_sessions_max_age(kho_guard_sessions(rc->guard)));
    rc->who = l->p;
    rc->who.session = true;
    kho_guard_audit_event(rc, "login", NULL, NULL);
    json_t *out = principal_json(&rc->who);
    json_object_set_new(out, "csrf_token", json_string(csrf));
    sodium_memzero(token, sizeof token);
    sodium_memzero(csrf, sizeof csrf);
    kho_http_send_value(req, 200, out);
    login_free(l);
}

void kho_h_login(kho_reqctx_t *rc)
{
    kho_err_t err;
    json_t *body = NULL;
    const char *name = NULL, *password = NULL;
    int r = kho_http_check_params(rc, NO_PARAMS, &err);
    if (r == 0)
        r = kho_guard_body_json(rc, BODY_MAX, &body, &err);
    if (r == 0 && (r = member(body, "name", true, &name, &err)) == 0)
        r = member(body, "password", true, &password, &err);
    if (r == 0 && (strlen(name) >= 64 || strlen(password) > 1024))
        r = kho_err_setk(&err, KHO_EUNAUTH, "bad_credentials", "wrong account name or password");
    if (r != 0) {
        wipe_member(body, "password");
        json_decref(body);
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    login_t *l = kho_xcalloc(1, sizeof *l);
    l->srv = rc->srv;
    l->rc = rc;
    snprintf(l->name, sizeof l->name, "%s", name);
    l->pwlen = strlen(password) + 1;
    l->password = kho_xstrdup(password);
    l->max_failures = (int)kho_config_int(rc->cfg, "login_max_failures");
    wipe_member(body, "password");
    json_decref(body);
    if (kho_server_defer(rc, login_work, login_done, l) != 0)
        login_free(l);
}

void kho_h_logout(kho_reqctx_t *rc)
{
    if (rc->session_token)
        kho_session_destroy(kho_guard_sessions(rc->guard), rc->session_token);
    kho_guard_set_session_cookie(rc, NULL, 0);
    kho_guard_audit_event(rc, "logout", NULL, NULL);
    kho_http_send_value(rc->req, 200, json_pack("{s:b}", "signed_out", 1));
}

void kho_h_me(kho_reqctx_t *rc)
{
    kho_err_t err;
    if (kho_http_check_params(rc, NO_PARAMS, &err) != 0) {
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    json_t *out = principal_json(&rc->who);
    if (rc->who.session)
        json_object_set_new(out, "csrf_token", json_string(rc->who.csrf));
    kho_http_send_value(rc->req, 200, out);
}

/* ---- API keys ---------------------------------------------------------------------- */

static bool is_user_admin(const kho_reqctx_t *rc)
{
    return (rc->who.scopes & KHO_SCOPE_USERS_ADMIN) != 0;
}

void kho_h_keys_list(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"user", "all", NULL};
    kho_err_t err;
    bool all = false;
    json_t *out = NULL;
    const char *user = kho_http_param(rc, "user");
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_http_param_bool(rc, "all", false, &all, &err);
    if (r == 0 && (all || (user && strcmp(user, rc->who.user) != 0)) && !is_user_admin(rc))
        r = kho_err_setk(&err, KHO_EFORBIDDEN, "missing_scope", "listing other accounts' keys needs users:admin");
    if (r == 0)
        r = kho_key_list(rc->db, all ? NULL : user ? user : rc->who.user, &out, &err);
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        kho_http_send_value(rc->req, 200, out);
}

typedef struct keyjob {
    kho_server_t *srv;
    kho_reqctx_t *rc;
    char user[64], name[128];
    unsigned scopes;
    int64_t expires, id;
    int default_days, max_days;
    char key[64];
    kho_err_t err;
    int result;
} keyjob_t;

static void key_work(void *data)
{
    keyjob_t *k = data;
    kho_store_t *w = kho_server_writer_lock(k->srv);
    k->result = kho_key_create(w, k->user, k->scopes, &k->expires, k->name, k->default_days, k->max_days, k->key,
                               &k->id, &k->err);
    kho_server_writer_unlock(k->srv);
}

static void key_done(h2o_req_t *req, void *data)
{
    keyjob_t *k = data;
    char scopes[128];
    kho_scopes_format(k->scopes, scopes, sizeof scopes);
    if (k->result != 0)
        kho_http_send_error(req, &k->err, NULL);
    else {
        kho_guard_audit_event(k->rc, "key_create", k->user, json_pack("{s:I,s:s}", "key", (json_int_t)k->id, "scopes", scopes));
        char exp[32];
        time_t e = (time_t)k->expires;
        struct tm tm;
        gmtime_r(&e, &tm);
        strftime(exp, sizeof exp, "%Y-%m-%dT%H:%M:%SZ", &tm);
        kho_http_send_value(req, 201,
                            json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)k->id, "key", k->key, "user",
                                      k->user, "scopes", scopes, "expires_at", exp, "note",
                                      "the key is shown only now: store it safely"));
    }
    sodium_memzero(k, sizeof *k);
    free(k);
}

void kho_h_key_create(kho_reqctx_t *rc)
{
    kho_err_t err;
    json_t *body = NULL;
    const char *scopes = NULL, *expires = NULL, *name = NULL;
    keyjob_t *k = kho_xcalloc(1, sizeof *k);
    int r = kho_http_check_params(rc, NO_PARAMS, &err);
    if (r == 0)
        r = kho_guard_body_json(rc, BODY_MAX, &body, &err);
    if (r == 0)
        r = member(body, "scopes", true, &scopes, &err);
    if (r == 0)
        r = member(body, "expires", false, &expires, &err);
    if (r == 0)
        r = member(body, "name", false, &name, &err);
    if (r == 0)
        r = kho_scopes_parse(scopes, &k->scopes, &err);
    if (r == 0 && expires)
        r = kho_expiry_parse(expires, &k->expires, &err);
    if (r == 0 && (k->scopes & ~rc->who.scopes))
        r = kho_err_setk(&err, KHO_EFORBIDDEN, "bad_scope", "a key cannot hold scopes your session does not hold");
    if (r != 0) {
        json_decref(body);
        free(k);
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    k->srv = rc->srv;
    k->rc = rc;
    snprintf(k->user, sizeof k->user, "%s", rc->who.user);
    snprintf(k->name, sizeof k->name, "%s", name ? name : "");
    k->default_days = (int)kho_config_int(rc->cfg, "key_default_days");
    k->max_days = (int)kho_config_int(rc->cfg, "key_max_days");
    json_decref(body);
    if (kho_server_defer(rc, key_work, key_done, k) != 0)
        free(k);
}

typedef struct revoke {
    kho_server_t *srv;
    kho_reqctx_t *rc;
    int64_t id, owner;
    kho_err_t err;
    int result;
} revoke_t;

static void revoke_work(void *data)
{
    revoke_t *v = data;
    kho_store_t *w = kho_server_writer_lock(v->srv);
    v->result = kho_key_revoke(w, v->id, v->owner, &v->err);
    kho_server_writer_unlock(v->srv);
}

static void revoke_done(h2o_req_t *req, void *data)
{
    revoke_t *v = data;
    if (v->result != 0)
        kho_http_send_error(req, &v->err, NULL);
    else {
        kho_guard_audit_event(v->rc, "key_revoke", NULL, json_pack("{s:I}", "key", (json_int_t)v->id));
        kho_http_send_value(req, 200, json_pack("{s:I,s:b}", "id", (json_int_t)v->id, "revoked", 1));
    }
    free(v);
}

void kho_h_key_revoke(kho_reqctx_t *rc)
{
    kho_err_t err;
    char *end;
    long long id = strtoll(rc->var[0], &end, 10);
    if (*end || end == rc->var[0] || id < 1) {
        kho_http_send_status(rc->req, KHO_EINVAL, "bad_parameter", "a key id is a number");
        return;
    }
    if (kho_http_check_params(rc, NO_PARAMS, &err) != 0) {
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    revoke_t *v = kho_xcalloc(1, sizeof *v);
    v->srv = rc->srv;
    v->rc = rc;
    v->id = id;
    v->owner = is_user_admin(rc) ? 0 : rc->who.user_id;
    if (kho_server_defer(rc, revoke_work, revoke_done, v) != 0)
        free(v);
}

/* ---- accounts ----------------------------------------------------------------------- */

void kho_h_users_list(kho_reqctx_t *rc)
{
    kho_err_t err;
    json_t *out = NULL;
    if (kho_http_check_params(rc, NO_PARAMS, &err) != 0 || kho_user_list(rc->db, &out, &err) != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        kho_http_send_value(rc->req, 200, out);
}

typedef struct userjob {
    kho_server_t *srv;
    kho_reqctx_t *rc;
    bool create;
    char name[64], org[104];
    int role;       /* create */
    int disabled;   /* update: -1 unchanged */
    char *password; /* NULL: unchanged (update) */
    kho_err_t err;
    int result;
} userjob_t;

static void userjob_free(userjob_t *u)
{
    if (u->password) {
        sodium_memzero(u->password, strlen(u->password));
        free(u->password);
    }
    free(u);
}

static void user_work(void *data)
{
    userjob_t *u = data;
    kho_store_t *w = kho_server_writer_lock(u->srv);
    if (u->create)
        u->result = kho_user_add(w, u->name, (kho_role_t)u->role, u->org[0] ? u->org : NULL, u->password, &u->err);
    else {
        u->result = 0;
        if (u->password)
            u->result = kho_user_passwd(w, u->name, u->password, &u->err);
        if (u->result == 0 && u->disabled >= 0)
            u->result = kho_user_set_disabled(w, u->name, u->disabled, &u->err);
    }
    kho_server_writer_unlock(u->srv);
}

static void user_done(h2o_req_t *req, void *data)
{
    userjob_t *u = data;
    if (u->result != 0)
        kho_http_send_error(req, &u->err, NULL);
    else {
        json_t *d = json_object();
        if (u->create) {
            json_object_set_new(d, "role", json_string(kho_role_name((kho_role_t)u->role)));
            if (u->org[0])
                json_object_set_new(d, "org", json_string(u->org));
        } else {
            if (u->password)
                json_object_set_new(d, "password_changed", json_true());
            if (u->disabled >= 0)
                json_object_set_new(d, "disabled", json_boolean(u->disabled));
        }
        kho_guard_audit_event(u->rc, u->create ? "user_add" : "user_change", u->name, json_incref(d));
        json_object_set_new(d, "name", json_string(u->name));
        kho_http_send_value(req, u->create ? 201 : 200, d);
    }
    userjob_free(u);
}

static void user_job(kho_reqctx_t *rc, bool create)
{
    kho_err_t err;
    json_t *body = NULL;
    const char *name = create ? NULL : rc->var[0], *role = NULL, *org = NULL, *password = NULL;
    userjob_t *u = kho_xcalloc(1, sizeof *u);
    u->create = create;
    u->disabled = -1;
    int r = kho_http_check_params(rc, NO_PARAMS, &err);
    if (r == 0)
        r = kho_guard_body_json(rc, BODY_MAX, &body, &err);
    if (r == 0 && create && (r = member(body, "name", true, &name, &err)) == 0 &&
        (r = member(body, "role", true, &role, &err)) == 0)
        r = member(body, "org", false, &org, &err);
    if (r == 0)
        r = member(body, "password", create, &password, &err);
    if (r == 0 && create && (u->role = kho_role_parse(role)) < 0)
        r = kho_err_setk(&err, KHO_EINVAL, "bad_role", "role must be admin, steward, analyst, leader or partner");
    json_t *dis = body ? json_object_get(body, "disabled") : NULL;
    if (r == 0 && !create && dis) {
        if (!json_is_boolean(dis))
            r = kho_err_setk(&err, KHO_EINVAL, "bad_parameter", "\"disabled\" is true or false");
        else
            u->disabled = json_is_true(dis);
    }
    if (r == 0 && !create && !dis && !password)
        r = kho_err_setk(&err, KHO_EINVAL, "bad_parameter", "send \"disabled\" and/or \"password\"");
    if (r == 0 && strlen(name) >= sizeof u->name)
        r = kho_err_setk(&err, KHO_EINVAL, "bad_name", "the account name is too long");
    if (r == 0 && org && strlen(org) >= sizeof u->org)
        r = kho_err_setk(&err, KHO_EINVAL, "bad_org", "the organisation id is too long");
    if (r == 0 && password)
        r = kho_password_policy(name, password, &err);
    if (r != 0) {
        wipe_member(body, "password");
        json_decref(body);
        userjob_free(u);
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    u->srv = rc->srv;
    u->rc = rc;
    snprintf(u->name, sizeof u->name, "%s", name);
    snprintf(u->org, sizeof u->org, "%s", org ? org : "");
    u->password = password ? kho_xstrdup(password) : NULL;
    wipe_member(body, "password");
    json_decref(body);
    if (kho_server_defer(rc, user_work, user_done, u) != 0)
        userjob_free(u);
}

void kho_h_user_create(kho_reqctx_t *rc)
{
    user_job(rc, true);
}

void kho_h_user_update(kho_reqctx_t *rc)
{
    user_job(rc, false);
}
