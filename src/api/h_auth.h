/*
 * h_auth — sign-in, sessions, API keys and accounts over HTTP.
 *
 *   POST   /api/v1/auth/login     {"name","password"} -> session cookie + CSRF token
 *   POST   /api/v1/auth/logout
 *   GET    /api/v1/auth/me        who the caller is (anonymous included)
 *   GET    /api/v1/keys           the caller's keys (?user=NAME or ?all=1 with users:admin)
 *   POST   /api/v1/keys           {"scopes","expires","name"}: a key for the signed-in
 *                                 account, shown once (browser sessions only)
 *   DELETE /api/v1/keys/{id}      revoke (own keys; any with users:admin)
 *   GET    /api/v1/users          accounts (users:admin)
 *   POST   /api/v1/users          {"name","role","org","password"} (users:admin)
 *   PATCH  /api/v1/users/{name}   {"disabled":bool} and/or {"password"} (users:admin)
 *
 * Password hashing (Argon2id) runs on worker threads. Every sign-in, failed
 * sign-in, key and account change is audited.
 */
#ifndef KHO_API_H_AUTH_H
#define KHO_API_H_AUTH_H

#include "api/http.h"

void kho_h_login(kho_reqctx_t *rc);
void kho_h_logout(kho_reqctx_t *rc);
void kho_h_me(kho_reqctx_t *rc);
void kho_h_keys_list(kho_reqctx_t *rc);
void kho_h_key_create(kho_reqctx_t *rc);
void kho_h_key_revoke(kho_reqctx_t *rc);
void kho_h_users_list(kho_reqctx_t *rc);
void kho_h_user_create(kho_reqctx_t *rc);
void kho_h_user_update(kho_reqctx_t *rc);

#endif
