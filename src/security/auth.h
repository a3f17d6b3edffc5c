/*
 * auth — identities: roles, scopes, accounts, sign-in, API keys, sessions.
 *
 * Roles: admin, steward (publishes for its organisation), analyst, leader,
 * partner (an outside organisation, reads what it is granted) and the anonymous
 * public. Scopes limit what a credential may do: datasets:read, datasets:write,
 * pii:read, audit:read, users:admin. A role holds at most the scopes of
 * kho_role_scopes(); an API key holds the scopes it was created with, never more
 * than its owner's role; a browser session holds its role's scopes.
 *
 * Passwords are hashed with Argon2id (libsodium crypto_pwhash_str, interactive
 * limits) — slow on purpose: verify them on a worker thread, never on an event
 * loop. Sign-in failures are counted per account; after `max_failures` in a row
 * the account is locked for 30 s, doubling with each further failure up to an
 * hour. An unknown user costs the same time as a wrong password.
 *
 * API keys are "kho_" + 43 base64url characters (32 random bytes), shown once
 * and stored only as their SHA-256; they expire (90 days by default) and are
 * checked against the database on every request, so revocation is immediate.
 *
 * Sessions live in the server's memory: a random token in an HttpOnly,
 * SameSite=Strict cookie, a CSRF token for state-changing requests, an idle and
 * an absolute expiry. They are checked against the account (disabled, password
 * changed) on every request. A restart signs everyone out.
 */
#ifndef KHO_SECURITY_AUTH_H
#define KHO_SECURITY_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

typedef enum {
    KHO_ROLE_PUBLIC,
    KHO_ROLE_ANALYST,
    KHO_ROLE_LEADER,
    KHO_ROLE_PARTNER,
    KHO_ROLE_STEWARD,
    KHO_ROLE_ADMIN,
} kho_role_t;

enum {
    KHO_SCOPE_DATASETS_READ = 1u << 0,
    KHO_SCOPE_DATASETS_WRITE = 1u << 1,
    KHO_SCOPE_PII_READ = 1u << 2,
    KHO_SCOPE_AUDIT_READ = 1u << 3,
    KHO_SCOPE_USERS_ADMIN = 1u << 4,
    KHO_SCOPE_TRACE_READ = 1u << 5,  /* traceability events (EPCIS query) */
    KHO_SCOPE_TRACE_WRITE = 1u << 6, /* capture events, write master data */
    KHO_SCOPE_ALL = (1u << 7) - 1,
};

/* "admin", ...; -1 when unknown (public cannot be given to an account). */
int kho_role_parse(const char *s);
const char *kho_role_name(kho_role_t r);
unsigned kho_role_scopes(kho_role_t r);
/* A list of scope names separated by commas or spaces. */
int kho_scopes_parse(const char *list, unsigned *out, kho_err_t *err) KHO_WUR;
/* Space-separated scope names. */
void kho_scopes_format(unsigned scopes, char *out, size_t size);

typedef struct kho_principal {
    kho_role_t role;
    int64_t user_id; /* 0: anonymous */
    char user[64];
    int64_t org_id;  /* 0: none */
    char org[104];
    unsigned scopes;
    int64_t key_id;  /* > 0 when authenticated by an API key */
    bool session;    /* authenticated by a browser session: CSRF applies */
    int64_t generation;
    char csrf[48];
} kho_principal_t;

/* The anonymous caller. */
void kho_principal_public(kho_principal_t *p);
/* "session", "key:12", "anonymous" into out. */
void kho_principal_via(const kho_principal_t *p, char *out, size_t size);

/* ---- accounts --------------------------------------------------------------------- */

/* Passwords have at least 10 characters and differ from the account name. */
int kho_password_policy(const char *name, const char *password, kho_err_t *err) KHO_WUR;
/* Create an account. org is an organisation id (created when new); stewards and
 * partners need one. */
int kho_user_add(kho_store_t *w, const char *name, kho_role_t role, const char *org, const char *password,
                 kho_err_t *err) KHO_WUR;
/* New password; open sessions of the account end. */
int kho_user_passwd(kho_store_t *w, const char *name, const char *password, kho_err_t *err) KHO_WUR;
int kho_user_set_disabled(kho_store_t *w, const char *name, bool disabled, kho_err_t *err) KHO_WUR;
/* {"users":[{"name","role","org","disabled","locked_until","created_at"}]} */
int kho_user_list(kho_store_t *s, json_t **out, kho_err_t *err) KHO_WUR;
/* Load an enabled account into p (with its role's scopes). KHO_ENOTFOUND /
 * KHO_EFORBIDDEN (disabled). */
int kho_user_load(kho_store_t *s, const char *name, kho_principal_t *p, kho_err_t *err) KHO_WUR;

/* Check a name and password (slow: Argon2id; only reads, so it runs on any
 * connection without the write lock). On success p is the account with its
 * role's scopes. KHO_EUNAUTH for a wrong name or password (or a disabled
 * account); KHO_ELIMIT with *retry_after seconds while the account is locked.
 * Record the outcome with kho_auth_note(). */
int kho_auth_login(kho_store_t *s, const char *name, const char *password, kho_principal_t *p, int *retry_after,
                   kho_err_t *err) KHO_WUR;
/* Count a failed sign-in of `name` (locking the account after max_failures in a
 * row: 30 s, doubling with each further failure, at most an hour), or reset the
 * count after a success. w is the writable connection. */
int kho_auth_note(kho_store_t *w, const char *name, bool ok, int max_failures, kho_err_t *err) KHO_WUR;
/* Re-read the account behind a principal: KHO_EUNAUTH when it was disabled or
 * its password changed since p was made. Updates role and organisation. */
int kho_auth_refresh(kho_store_t *s, kho_principal_t *p, kho_err_t *err) KHO_WUR;

/* ---- API keys ---------------------------------------------------------------------- */

/* Create a key for `user` with `scopes` (which must be within the user's role)
 * expiring at *expires_at (Unix seconds; 0: the default lifetime, and
 * *expires_at receives it), at most max_days ahead. The key text (shown once)
 * goes to key_out. */
int kho_key_create(kho_store_t *w, const char *user, unsigned scopes, int64_t *expires_at, const char *name,
                   int default_days, int max_days, char key_out[64], int64_t *id, kho_err_t *err) KHO_WUR;
/* An expiry: "YYYY-MM-DD" (the key works through that day, UTC) or "Nd" (N days
 * from now). */
int kho_expiry_parse(const char *s, int64_t *out, kho_err_t *err) KHO_WUR;
/* Revoke key `id`; when owner > 0 only that user's key. */
int kho_key_revoke(kho_store_t *w, int64_t id, int64_t owner, kho_err_t *err) KHO_WUR;
/* {"keys":[{"id","user","name","prefix","scopes","created_at","expires_at","revoked_at","last_used_at"}]};
 * user NULL: every key. */
int kho_key_list(kho_store_t *s, const char *user, json_t **out, kho_err_t *err) KHO_WUR;
/* Authenticate a presented key: KHO_EUNAUTH when unknown, revoked, expired, or
 * its owner is disabled. */
int kho_key_authenticate(kho_store_t *s, const char *key, kho_principal_t *p, kho_err_t *err) KHO_WUR;

/* ---- sessions (server memory) ----------------------------------------------------- */

typedef struct kho_sessions kho_sessions_t;

kho_sessions_t *kho_sessions_new(int idle_minutes, int max_hours);
void kho_sessions_free(kho_sessions_t *s);
/* Start a session for p; its cookie token (43 chars) and CSRF token go out. */
void kho_session_create(kho_sessions_t *s, const kho_principal_t *p, char token[48], char csrf[48]);
/* Find a live session (refreshing its idle time); false when unknown or expired. */
bool kho_session_lookup(kho_sessions_t *s, const char *token, kho_principal_t *out);
void kho_session_destroy(kho_sessions_t *s, const char *token);
/* Seconds until the session would expire at the latest (for Max-Age). */
int kho_sessions_max_age(const kho_sessions_t *s);

/* Constant-time equality of two NUL-terminated tokens. */
bool kho_token_equal(const char *a, const char *b);

#endif
