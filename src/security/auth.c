/* auth — roles, scopes, accounts, sign-in, API keys, sessions (see auth.h). */
#include "security/auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/text.h"
#include "warehouse/catalog.h"

/* ---- roles and scopes ------------------------------------------------------------- */

static const struct {
    const char *name;
    unsigned scopes;
} ROLES[] = {
    [KHO_ROLE_PUBLIC] = {"public", KHO_SCOPE_DATASETS_READ},
    /* pii:read lets these roles use a grant that includes personal data; without such a grant (or
     * ownership) personal columns stay masked whatever the scopes (access.c) */
    [KHO_ROLE_ANALYST] = {"analyst", KHO_SCOPE_DATASETS_READ | KHO_SCOPE_PII_READ | KHO_SCOPE_TRACE_READ},
    [KHO_ROLE_LEADER] = {"leader", KHO_SCOPE_DATASETS_READ | KHO_SCOPE_PII_READ | KHO_SCOPE_TRACE_READ},
    [KHO_ROLE_PARTNER] = {"partner", KHO_SCOPE_DATASETS_READ | KHO_SCOPE_PII_READ | KHO_SCOPE_TRACE_READ |
                                              KHO_SCOPE_TRACE_WRITE},
    [KHO_ROLE_STEWARD] = {"steward", KHO_SCOPE_DATASETS_READ | KHO_SCOPE_DATASETS_WRITE | KHO_SCOPE_PII_READ |
                                              KHO_SCOPE_TRACE_READ | KHO_SCOPE_TRACE_WRITE},
    [KHO_ROLE_ADMIN] = {"admin", KHO_SCOPE_ALL},
};

static const char *const SCOPES[] = {"datasets:read", "datasets:write", "pii:read", "audit:read", "users:admin", "trace:read",
                                      "trace:write"};
#define NSCOPES (sizeof SCOPES / sizeof SCOPES[0])

int kho_role_parse(const char *s)
{
    for (int i = KHO_ROLE_ANALYST; i <= KHO_ROLE_ADMIN; i++)
        if (strcmp(s, ROLES[i].name) == 0)
            return i;
    return -1;
}

const char *kho_role_name(kho_role_t r)
{
    return ROLES[r].name;
}

unsigned kho_role_scopes(kho_role_t r)
{
    return ROLES[r].scopes;
}

int kho_scopes_parse(const char *list, unsigned *out, kho_err_t *err)
{
    *out = 0;
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ", ");
        if (n) {
            size_t i = 0;
            for (; i < NSCOPES; i++)
                if (strlen(SCOPES[i]) == n && strncmp(p, SCOPES[i], n) == 0)
                    break;
            if (i == NSCOPES)
                return kho_err_setk(err, KHO_EINVAL, "bad_scope",
                                    "unknown scope '%.*s' (scopes: datasets:read, datasets:write, pii:read, "
                                    "audit:read, users:admin, trace:read, trace:write)",
                                    (int)(n > 40 ? 40 : n), p);
            *out |= 1u << i;
        }
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return 0;
}

void kho_scopes_format(unsigned scopes, char *out, size_t size)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < NSCOPES; i++)
        if (scopes & (1u << i)) {
            int w = snprintf(out + k, size - k, "%s%s", k ? " " : "", SCOPES[i]);
            if (w < 0 || (size_t)w >= size - k)
                break;
            k += (size_t)w;
        }
}

void kho_principal_public(kho_principal_t *p)
{
    memset(p, 0, sizeof *p);
    p->role = KHO_ROLE_PUBLIC;
    p->scopes = kho_role_scopes(KHO_ROLE_PUBLIC);
    snprintf(p->user, sizeof p->user, "anonymous");
}

void kho_principal_via(const kho_principal_t *p, char *out, size_t size)
{
    if (p->key_id > 0)
        snprintf(out, size, "key:%lld", (long long)p->key_id);
    else
        snprintf(out, size, "%s", p->session ? "session" : p->user_id ? "account" : "anonymous");
}

bool kho_token_equal(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}

/* ---- accounts ---------------------------------------------------------------------- */

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '.' || c == '-' || c == '_'))))
            return false;
    }
    return true;
}

int kho_password_policy(const char *name, const char *password, kho_err_t *err)
{
    size_t n = strlen(password);
    if (!kho_utf8_valid(password, n, NULL))
        return kho_err_setk(err, KHO_EINVAL, "weak_password", "the password must be valid UTF-8 text");
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        chars += ((unsigned char)password[i] & 0xC0) != 0x80;
    if (chars < 10)
        return kho_err_setk(err, KHO_EINVAL, "weak_password", "the password needs at least 10 characters");
    if (n > 1024)
        return kho_err_setk(err, KHO_EINVAL, "weak_password", "the password is longer than 1024 bytes");
    if (strcmp(password, name) == 0)
        return kho_err_setk(err, KHO_EINVAL, "weak_password", "the password must differ from the account name");
    return 0;
}

static int hash_password(const char *password, char out[crypto_pwhash_STRBYTES], kho_err_t *err)
{
    if (crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return kho_err_set(err, KHO_EINTERNAL, "out of memory while hashing a password");
    return 0;
}

static int step_done(kho_stmt_t *st, kho_err_t *err)
{
    int rc = kho_stmt_step(st, err);
    return rc < 0 ? rc : 0;
}

int kho_user_add(kho_store_t *w, const char *name, kho_role_t role, const char *org, const char *password,
                 kho_err_t *err)
{
    if (!valid_name(name))
        return kho_err_setk(err, KHO_EINVAL, "bad_name",
                            "an account name has 2-63 characters of a-z, 0-9, '.', '-' and '_', not '%.64s'", name);
    if (role == KHO_ROLE_PUBLIC)
        return kho_err_setk(err, KHO_EINVAL, "bad_role", "public is the anonymous role, not an account");
    if ((role == KHO_ROLE_STEWARD || role == KHO_ROLE_PARTNER) && (!org || !*org))
        return kho_err_setk(err, KHO_EINVAL, "bad_role", "a %s account belongs to an organisation: give --org",
                            kho_role_name(role));
    if (org && !kho_text_is_slug(org))
        return kho_err_setk(err, KHO_EINVAL, "bad_org", "organisation id '%.64s' is not valid", org);
    int rc = kho_password_policy(name, password, err);
    char hash[crypto_pwhash_STRBYTES];
    if (rc == 0)
        rc = hash_password(password, hash, err);
    if (rc != 0)
        return rc;
    int64_t org_id = 0;
    char now[32];
    kho_catalog_now(now);
    if ((rc = kho_store_begin(w, true, err)) != 0)
        return rc;
    if (org)
        rc = kho_catalog_ensure_org(w, org, NULL, &org_id, err);
    kho_stmt_t *st = NULL;
    if (rc == 0)
        rc = kho_store_prepare(w,
                               "INSERT INTO users(name, role, org_id, password_hash, created_at, updated_at)"
                               " VALUES (?, ?, ?, ?, ?, ?)",
                               &st, err);
    if (rc == 0) {
        kho_stmt_bind_str(st, 1, name);
        kho_stmt_bind_str(st, 2, kho_role_name(role));
        if (org_id)
            kho_stmt_bind_int(st, 3, org_id);
        else
            kho_stmt_bind_null(st, 3);
        kho_stmt_bind_str(st, 4, hash);
        kho_stmt_bind_str(st, 5, now);
        kho_stmt_bind_str(st, 6, now);
        rc = step_done(st, err);
        if (rc == KHO_ECONFLICT)
            rc = kho_err_setk(err, KHO_ECONFLICT, "user_exists", "an account named '%s' exists already", name);
    }
    kho_stmt_free(st);
    sodium_memzero(hash, sizeof hash);
    if (rc == 0)
        rc = kho_store_commit(w, err);
    else
        kho_store_rollback(w);
    return rc;
}

/* UPDATE users ... WHERE name = ?; KHO_ENOTFOUND when no row changed. */
static int update_user(kho_store_t *w, const char *sql, const char *name, const char *text, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_prepare(w, sql, &st, err);
    if (rc != 0)
        return rc;
    char now[32];
    kho_catalog_now(now);
    int i = 1;
    if (text)
        kho_stmt_bind_str(st, i++, text);
    kho_stmt_bind_str(st, i++, now);
    kho_stmt_bind_str(st, i, name);
    rc = step_done(st, err);
    kho_stmt_free(st);
    int64_t changed = 0;
    if (rc == 0 && (rc = kho_store_query_int(w, "SELECT changes()", &changed, err)) == 0 && changed == 0)
        rc = kho_err_setk(err, KHO_ENOTFOUND, "unknown_user", "no account is named '%.64s'", name);
    return rc;
}

int kho_user_passwd(kho_store_t *w, const char *name, const char *password, kho_err_t *err)
{
    int rc = kho_password_policy(name, password, err);
    char hash[crypto_pwhash_STRBYTES];
    if (rc == 0)
        rc = hash_password(password, hash, err);
    if (rc == 0)
        rc = update_user(w,
                         "UPDATE users SET password_hash = ?, generation = generation + 1, failed_logins = 0,"
                         " locked_until = 0, updated_at = ? WHERE name = ?",
                         name, hash, err);
    sodium_memzero(hash, sizeof hash);
    return rc;
}

int kho_user_set_disabled(kho_store_t *w, const char *name, bool disabled, kho_err_t *err)
{
    return update_user(w,
                       disabled ? "UPDATE users SET disabled = 1, generation = generation + 1, updated_at = ? WHERE name = ?"
                                : "UPDATE users SET disabled = 0, failed_logins = 0, locked_until = 0, updated_at = ?"
                                  " WHERE name = ?",
                       name, NULL, err);
}

int kho_user_list(kho_store_t *s, json_t **out, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_prepare(s,
                               "SELECT u.name, u.role, o.slug, u.disabled, u.locked_until, u.created_at"
                               " FROM users u LEFT JOIN organisations o ON o.id = u.org_id ORDER BY u.name",
                               &st, err);
    if (rc != 0)
        return rc;
    json_t *arr = json_array();
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        json_t *u = json_pack("{s:s,s:s,s:b,s:s}", "name", kho_stmt_col_text(st, 0), "role", kho_stmt_col_text(st, 1),
                              "disabled", (int)kho_stmt_col_int(st, 3), "created_at", kho_stmt_col_text(st, 5));
        json_object_set_new(u, "org", kho_stmt_col_text(st, 2) ? json_string(kho_stmt_col_text(st, 2)) : json_null());
        int64_t until = kho_stmt_col_int(st, 4);
        json_object_set_new(u, "locked", json_boolean(until > time(NULL)));
        json_array_append_new(arr, u);
    }
    kho_stmt_free(st);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = json_pack("{s:o}", "users", arr);
    return 0;
}

#define USER_COLS                                                                                                     \
    "u.id, u.name, u.role, u.org_id, o.slug, u.disabled, u.generation, u.password_hash, u.failed_logins,"             \
    " u.locked_until"
#define USER_FROM " FROM users u LEFT JOIN organisations o ON o.id = u.org_id"

static void fill_principal(kho_stmt_t *st, kho_principal_t *p)
{
    memset(p, 0, sizeof *p);
    p->user_id = kho_stmt_col_int(st, 0);
    snprintf(p->user, sizeof p->user, "%s", kho_stmt_col_text(st, 1));
    int r = kho_role_parse(kho_stmt_col_text(st, 2));
    p->role = r < 0 ? KHO_ROLE_PUBLIC : (kho_role_t)r;
    p->org_id = kho_stmt_col_int(st, 3);
    snprintf(p->org, sizeof p->org, "%s", kho_stmt_col_text(st, 4) ? kho_stmt_col_text(st, 4) : "");
    p->generation = kho_stmt_col_int(st, 6);
    p->scopes = kho_role_scopes(p->role);
}

int kho_user_load(kho_store_t *s, const char *name, kho_principal_t *p, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(s, "SELECT " USER_COLS USER_FROM " WHERE u.name = ?", &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, name);
    rc = kho_stmt_step(st, err);
    if (rc == KHO_STEP_ROW) {
        fill_principal(st, p);
        rc = kho_stmt_col_int(st, 5) ? kho_err_setk(err, KHO_EFORBIDDEN, "disabled", "the account '%s' is disabled",
                                                    name)
                                     : 0;
    } else if (rc == KHO_STEP_DONE)
        rc = kho_err_setk(err, KHO_ENOTFOUND, "unknown_user", "no account is named '%.64s'", name);
    kho_stmt_reset(st);
    return rc;
}

/* A hash of a random password, verified when the account does not exist so that
 * unknown names take as long as wrong passwords. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
    char pw[33];
    unsigned char r[16];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(pw, sizeof pw, r, sizeof r);
    if (crypto_pwhash_str(dummy_hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        dummy_hash[0] = '\0';
}

int kho_auth_login(kho_store_t *s, const char *name, const char *password, kho_principal_t *p, int *retry_after,
                   kho_err_t *err)
{
    *retry_after = 0;
    pthread_once(&dummy_once, make_dummy);
    kho_stmt_t *st = NULL;
    int rc = kho_store_prepare(s, "SELECT " USER_COLS USER_FROM " WHERE u.name = ?", &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, name);
    rc = kho_stmt_step(st, err);
    if (rc < 0) {
        kho_stmt_free(st);
        return rc;
    }
    bool found = rc == KHO_STEP_ROW;
    char hash[crypto_pwhash_STRBYTES];
    snprintf(hash, sizeof hash, "%s", found ? kho_stmt_col_text(st, 7) : dummy_hash);
    bool disabled = found && kho_stmt_col_int(st, 5);
    int64_t locked = found ? kho_stmt_col_int(st, 9) : 0;
    if (found)
        fill_principal(st, p);
    kho_stmt_free(st);
    int64_t now = (int64_t)time(NULL);
    if (found && locked > now) {
        memset(p, 0, sizeof *p);
        *retry_after = (int)(locked - now);
        return kho_err_setk(err, KHO_ELIMIT, "account_locked",
                            "too many failed sign-ins: the account is locked for %d more seconds", *retry_after);
    }
    bool ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0 && found && !disabled;
    sodium_memzero(hash, sizeof hash);
    if (ok)
        return 0;
    memset(p, 0, sizeof *p);
    return kho_err_setk(err, KHO_EUNAUTH, "bad_credentials", "wrong account name or password");
}

int kho_auth_note(kho_store_t *w, const char *name, bool ok, int max_failures, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    /* after max_failures in a row: locked 30 s, doubling per further failure, at most an hour */
    int rc = kho_store_cached(w,
                              ok ? "UPDATE users SET failed_logins = 0, locked_until = 0"
                                   " WHERE name = ?1 AND failed_logins > 0"
                                 : "UPDATE users SET failed_logins = failed_logins + 1,"
                                   " locked_until = CASE WHEN failed_logins + 1 >= ?2"
                                   "  THEN ?3 + min(3600, 30 << min(7, failed_logins + 1 - ?2)) ELSE 0 END"
                                   " WHERE name = ?1 AND disabled = 0",
                              &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, name);
    if (!ok) {
        kho_stmt_bind_int(st, 2, max_failures > 0 ? max_failures : 1);
        kho_stmt_bind_int(st, 3, (int64_t)time(NULL));
    }
    rc = kho_stmt_step(st, err);
    kho_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

int kho_auth_refresh(kho_store_t *s, kho_principal_t *p, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(s, "SELECT " USER_COLS USER_FROM " WHERE u.id = ?", &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_int(st, 1, p->user_id);
    rc = kho_stmt_step(st, err);
    if (rc == KHO_STEP_ROW && !kho_stmt_col_int(st, 5) && kho_stmt_col_int(st, 6) == p->generation) {
        kho_principal_t fresh;
        fill_principal(st, &fresh);
        p->role = fresh.role;
        p->org_id = fresh.org_id;
        memcpy(p->org, fresh.org, sizeof p->org);
        p->scopes &= kho_role_scopes(fresh.role);
        rc = 0;
    } else if (rc >= 0)
        rc = kho_err_setk(err, KHO_EUNAUTH, "session_ended",
                          "your session has ended (the account was disabled or its password changed): sign in again");
    kho_stmt_reset(st);
    return rc;
}

/* ---- API keys ----------------------------------------------------------------------- */

static void sha256_hex(const char *s, char out[65])
{
    unsigned char md[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(md, (const unsigned char *)s, strlen(s));
    sodium_bin2hex(out, 65, md, sizeof md);
}

static void random_token(char out[48])
{
    unsigned char r[32];
    randombytes_buf(r, sizeof r);
    sodium_bin2base64(out, 48, r, sizeof r, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(r, sizeof r);
}

int kho_key_create(kho_store_t *w, const char *user, unsigned scopes, int64_t *expires, const char *name,
                   int default_days, int max_days, char key_out[64], int64_t *id, kho_err_t *err)
{
    int64_t expires_at = *expires;
    kho_principal_t owner;
    int rc = kho_user_load(w, user, &owner, err);
    if (rc != 0)
        return rc;
    if (scopes == 0)
        return kho_err_setk(err, KHO_EINVAL, "bad_scope", "a key needs at least one scope");
    unsigned beyond = scopes & ~kho_role_scopes(owner.role);
    if (beyond) {
        char list[128];
        kho_scopes_format(beyond, list, sizeof list);
        return kho_err_setk(err, KHO_EINVAL, "bad_scope", "the %s role cannot hold %s", kho_role_name(owner.role),
                            list);
    }
    int64_t now = (int64_t)time(NULL);
    if (expires_at == 0)
        expires_at = now + (int64_t)default_days * 86400;
    if (expires_at <= now)
        return kho_err_setk(err, KHO_EINVAL, "bad_expiry", "the expiry date is in the past");
    if (expires_at > now + (int64_t)max_days * 86400)
        return kho_err_setk(err, KHO_EINVAL, "bad_expiry", "a key may live at most %d days (key_max_days)", max_days);
    *expires = expires_at;
    char token[48], hash[65], scopes_text[128], created[32];
    random_token(token);
    snprintf(key_out, 64, "kho_%s", token);
    sodium_memzero(token, sizeof token);
    sha256_hex(key_out, hash);
    kho_scopes_format(scopes, scopes_text, sizeof scopes_text);
    kho_catalog_now(created);
    kho_stmt_t *st = NULL;
    rc = kho_store_prepare(w,
                           "INSERT INTO api_keys(user_id, name, prefix, hash, scopes, created_at, expires_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?)",
                           &st, err);
    if (rc == 0) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "%.12s", key_out);
        kho_stmt_bind_int(st, 1, owner.user_id);
        kho_stmt_bind_str(st, 2, name ? name : "");
        kho_stmt_bind_str(st, 3, prefix);
        kho_stmt_bind_str(st, 4, hash);
        kho_stmt_bind_str(st, 5, scopes_text);
        kho_stmt_bind_str(st, 6, created);
        kho_stmt_bind_int(st, 7, expires_at);
        rc = step_done(st, err);
        if (rc == 0 && id)
            *id = kho_store_last_id(w);
    }
    kho_stmt_free(st);
    if (rc != 0)
        sodium_memzero(key_out, 64);
    return rc;
}

int kho_expiry_parse(const char *s, int64_t *out, kho_err_t *err)
{
    size_t n = strlen(s);
    char *end;
    if (n >= 2 && n <= 6 && s[n - 1] == 'd' && strspn(s, "0123456789") == n - 1) {
        long days = strtol(s, &end, 10);
        if (days > 0 && days < 100000) {
            *out = (int64_t)time(NULL) + (int64_t)days * 86400;
            return 0;
        }
    } else if (n == 10 && s[4] == '-' && s[7] == '-' && strspn(s, "0123456789") == 4 &&
               strspn(s + 5, "0123456789") == 2 && strspn(s + 8, "0123456789") == 2) {
        struct tm tm = {0};
        end = strptime(s, "%Y-%m-%d", &tm);
        if (end && !*end) {
            int y = tm.tm_year, m = tm.tm_mon, d = tm.tm_mday;
            tm.tm_hour = 23;
            tm.tm_min = 59;
            tm.tm_sec = 59;
            time_t t = timegm(&tm);
            struct tm back;
            gmtime_r(&t, &back);
            if (back.tm_year == y && back.tm_mon == m && back.tm_mday == d) { /* not 2030-02-30 */
                *out = (int64_t)t;
                return 0;
            }
        }
    }
    return kho_err_setk(err, KHO_EINVAL, "bad_expiry", "an expiry is a date YYYY-MM-DD or a number of days (30d), not '%.40s'",
                        s);
}

int kho_key_revoke(kho_store_t *w, int64_t id, int64_t owner, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_prepare(w,
                               "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"
                               " AND (? = 0 OR user_id = ?)",
                               &st, err);
    if (rc != 0)
        return rc;
    char now[32];
    kho_catalog_now(now);
    kho_stmt_bind_str(st, 1, now);
    kho_stmt_bind_int(st, 2, id);
    kho_stmt_bind_int(st, 3, owner);
    kho_stmt_bind_int(st, 4, owner);
    rc = step_done(st, err);
    kho_stmt_free(st);
    int64_t changed = 0;
    if (rc == 0 && (rc = kho_store_query_int(w, "SELECT changes()", &changed, err)) == 0 && changed == 0)
        rc = kho_err_setk(err, KHO_ENOTFOUND, "unknown_key", "no active key %lld%s", (long long)id,
                          owner ? " of yours" : "");
    return rc;
}

int kho_key_list(kho_store_t *s, const char *user, json_t **out, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_prepare(s,
                               "SELECT k.id, u.name, k.name, k.prefix, k.scopes, k.created_at, k.expires_at,"
                               " k.revoked_at FROM api_keys k JOIN users u ON u.id = k.user_id"
                               " WHERE ?1 IS NULL OR u.name = ?1 ORDER BY k.id",
                               &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, user);
    json_t *arr = json_array();
    int64_t now = (int64_t)time(NULL);
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        char exp[32];
        time_t e = (time_t)kho_stmt_col_int(st, 6);
        struct tm tm;
        gmtime_r(&e, &tm);
        strftime(exp, sizeof exp, "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_t *k = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)kho_stmt_col_int(st, 0), "user",
                              kho_stmt_col_text(st, 1), "name", kho_stmt_col_text(st, 2), "prefix",
                              kho_stmt_col_text(st, 3), "scopes", kho_stmt_col_text(st, 4), "created_at",
                              kho_stmt_col_text(st, 5), "expires_at", exp);
        const char *rev = kho_stmt_col_text(st, 7);
        json_object_set_new(k, "revoked_at", rev ? json_string(rev) : json_null());
        json_object_set_new(k, "active", json_boolean(!rev && e > now));
        json_array_append_new(arr, k);
    }
    kho_stmt_free(st);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = json_pack("{s:o}", "keys", arr);
    return 0;
}

int kho_key_authenticate(kho_store_t *s, const char *key, kho_principal_t *p, kho_err_t *err)
{
    if (strncmp(key, "kho_", 4) != 0 || strlen(key) != 47)
        return kho_err_setk(err, KHO_EUNAUTH, "bad_key", "the API key is not valid");
    char hash[65];
    sha256_hex(key, hash);
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(s,
                              "SELECT " USER_COLS ", k.id, k.scopes, k.expires_at, k.revoked_at" USER_FROM
                              " JOIN api_keys k ON k.user_id = u.id WHERE k.hash = ?",
                              &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, hash);
    rc = kho_stmt_step(st, err);
    if (rc == KHO_STEP_ROW) {
        fill_principal(st, p);
        unsigned scopes = 0;
        kho_err_t ignore;
        if (kho_scopes_parse(kho_stmt_col_text(st, 11), &scopes, &ignore) != 0)
            scopes = 0; /* a stored scope list we cannot read grants nothing */
        p->key_id = kho_stmt_col_int(st, 10);
        p->scopes &= scopes;
        if (kho_stmt_col_int(st, 5) || kho_stmt_col_type(st, 13) != KHO_VAL_NULL)
            rc = kho_err_setk(err, KHO_EUNAUTH, "key_revoked", "the API key was revoked (or its account disabled)");
        else if (kho_stmt_col_int(st, 12) <= (int64_t)time(NULL))
            rc = kho_err_setk(err, KHO_EUNAUTH, "key_expired", "the API key has expired");
        else
            rc = 0;
    } else if (rc == KHO_STEP_DONE)
        rc = kho_err_setk(err, KHO_EUNAUTH, "bad_key", "the API key is not valid");
    kho_stmt_reset(st);
    if (rc != 0)
        kho_principal_public(p);
    return rc;
}

/* ---- sessions ------------------------------------------------------------------------ */

typedef struct session {
    char id[65]; /* SHA-256 hex of the token */
    kho_principal_t who;
    int64_t created, seen;
    struct session *next;
} session_t;

#define NBUCKETS 1024

struct kho_sessions {
    pthread_mutex_t mu;
    session_t *bucket[NBUCKETS];
    int64_t idle, max;
    unsigned created;
};

kho_sessions_t *kho_sessions_new(int idle_minutes, int max_hours)
{
    kho_sessions_t *s = kho_xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->idle = (int64_t)idle_minutes * 60;
    s->max = (int64_t)max_hours * 3600;
    return s;
}

void kho_sessions_free(kho_sessions_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < NBUCKETS; i++)
        for (session_t *e = s->bucket[i], *next; e; e = next) {
            next = e->next;
            sodium_memzero(e, sizeof *e);
            free(e);
        }
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static size_t bucket_of(const char *id)
{
    return (size_t)strtoul((char[9]){id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7], 0}, NULL, 16) %
           NBUCKETS;
}

static bool expired(const kho_sessions_t *s, const session_t *e, int64_t now)
{
    return now - e->seen > s->idle || now - e->created > s->max;
}

/* Drop expired sessions (called now and then, under the lock). */
static void sweep(kho_sessions_t *s, int64_t now)
{
    for (size_t i = 0; i < NBUCKETS; i++) {
        session_t **pp = &s->bucket[i];
        while (*pp) {
            if (expired(s, *pp, now)) {
                session_t *dead = *pp;
                *pp = dead->next;
                sodium_memzero(dead, sizeof *dead);
                free(dead);
            } else
                pp = &(*pp)->next;
        }
    }
}

void kho_session_create(kho_sessions_t *s, const kho_principal_t *p, char token[48], char csrf[48])
{
    random_token(token);
    random_token(csrf);
    session_t *e = kho_xcalloc(1, sizeof *e);
    sha256_hex(token, e->id);
    e->who = *p;
    e->who.session = true;
    e->who.key_id = 0;
    snprintf(e->who.csrf, sizeof e->who.csrf, "%s", csrf);
    e->created = e->seen = (int64_t)time(NULL);
    pthread_mutex_lock(&s->mu);
    if (++s->created % 256 == 0)
        sweep(s, e->created);
    size_t b = bucket_of(e->id);
    e->next = s->bucket[b];
    s->bucket[b] = e;
    pthread_mutex_unlock(&s->mu);
}

bool kho_session_lookup(kho_sessions_t *s, const char *token, kho_principal_t *out)
{
    if (strlen(token) != 43)
        return false;
    char id[65];
    sha256_hex(token, id);
    int64_t now = (int64_t)time(NULL);
    bool found = false;
    pthread_mutex_lock(&s->mu);
    for (session_t **pp = &s->bucket[bucket_of(id)]; *pp; pp = &(*pp)->next) {
        session_t *e = *pp;
        if (strcmp(e->id, id) != 0)
            continue;
        if (expired(s, e, now)) {
            *pp = e->next;
            sodium_memzero(e, sizeof *e);
            free(e);
        } else {
            e->seen = now;
            *out = e->who;
            found = true;
        }
        break;
    }
    pthread_mutex_unlock(&s->mu);
    return found;
}

void kho_session_destroy(kho_sessions_t *s, const char *token)
{
    char id[65];
    sha256_hex(token, id);
    pthread_mutex_lock(&s->mu);
    for (session_t **pp = &s->bucket[bucket_of(id)]; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->id, id) == 0) {
            session_t *dead = *pp;
            *pp = dead->next;
            sodium_memzero(dead, sizeof *dead);
            free(dead);
            break;
        }
    pthread_mutex_unlock(&s->mu);
}

int kho_sessions_max_age(const kho_sessions_t *s)
{
    return (int)s->max;
}
