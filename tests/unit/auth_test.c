/* Unit tests of security/auth on a real SQLite database in a temporary
 * directory: roles and scopes, the password policy, accounts, sign-in and the
 * lockout, principals refreshed after a password change or a disabled account,
 * API keys (scopes, expiry, revocation), expiry parsing, in-memory sessions.
 *
 * Argon2id is slow on purpose (tens of milliseconds a hash): the accounts are
 * made once for the whole file, and every test keeps its own hashes few. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "kho_test.h"
#include "security/auth.h"
#include "store/schema.h"
#include "store/store.h"

static kho_store_t *W; /* the writable connection, shared by every test */
static char DIR_[128];
static int MAX_FAILURES; /* login_max_failures, default setting */

#define PW_AN "mat-khau-cua-an"
#define PW_BINH "Bình-mật-khẩu-2025"
#define PW_ADMIN "quan tri vien 123"

/* ---- fixture ------------------------------------------------------------------------ */

static int add_user(const char *name, kho_role_t role, const char *org, const char *pw)
{
    kho_err_t err = {0};
    if (kho_user_add(W, name, role, org, pw, &err) != 0) {
        fprintf(stderr, "setup: user %s: %s\n", name, err.msg);
        return -1;
    }
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    kho_log_set_level(KHO_LOG_OFF);
    snprintf(DIR_, sizeof DIR_, "/tmp/kho-auth-test-XXXXXX");
    if (!mkdtemp(DIR_))
        return -1;
    char path[256];
    snprintf(path, sizeof path, "%s/kho.db", DIR_);
    kho_err_t err = {0};
    if (kho_store_open(path, KHO_STORE_CREATE, NULL, &W, &err) != 0 || kho_schema_migrate(W, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    kho_config_t *cfg = kho_config_defaults();
    MAX_FAILURES = (int)kho_config_int(cfg, "login_max_failures");
    kho_config_free(cfg);
    if (MAX_FAILURES < 1)
        return -1;
    return add_user("an.nguyen", KHO_ROLE_ANALYST, NULL, PW_AN) ||
           add_user("binh", KHO_ROLE_STEWARD, "so-y-te", PW_BINH) ||
           add_user("admin", KHO_ROLE_ADMIN, NULL, PW_ADMIN);
}

static int group_teardown(void **state)
{
    (void)state;
    kho_store_close(W);
    W = NULL;
    nftw(DIR_, kt_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------ */

static void jdecref(void *p)
{
    json_decref(p);
}

static json_t *keep(json_t *j)
{
    return j ? kt_defer(jdecref, j) : NULL;
}

static void exec_sql(const char *sql)
{
    kho_err_t err;
    if (kho_store_exec(W, sql, &err) != 0)
        fail_msg("%s: %s", sql, err.msg);
}

static int64_t query_int(const char *sql)
{
    int64_t v = -1;
    kho_err_t err;
    if (kho_store_query_int(W, sql, &v, &err) != 0)
        fail_msg("%s: %s", sql, err.msg);
    return v;
}

static int login(const char *name, const char *pw, kho_principal_t *p, int *retry)
{
    kho_err_t err = {0};
    int r = 0;
    return kho_auth_login(W, name, pw, p, retry ? retry : &r, &err);
}

static void note(const char *name, bool ok, int max)
{
    kho_err_t err = {0};
    if (kho_auth_note(W, name, ok, max, &err) != 0)
        fail_msg("auth_note: %s", err.msg);
}

static void new_user(const char *name, kho_role_t role, const char *org, const char *pw)
{
    kho_err_t err = {0};
    if (kho_user_add(W, name, role, org, pw, &err) != 0)
        fail_msg("user_add %s: %s", name, err.msg);
}

static int64_t user_id(const char *name)
{
    kho_principal_t p;
    kho_err_t err;
    if (kho_user_load(W, name, &p, &err) != 0)
        fail_msg("user_load %s: %s", name, err.msg);
    return p.user_id;
}

/* Create a key (fails the test on error); its text goes to key. */
static int64_t make_key(const char *user, unsigned scopes, int64_t expires, char key[64])
{
    int64_t id = 0;
    kho_err_t err = {0};
    if (kho_key_create(W, user, scopes, &expires, "test", 90, 365, key, &id, &err) != 0)
        fail_msg("key_create for %s: %s", user, err.msg);
    return id;
}

static int key_auth(const char *key, kho_principal_t *p)
{
    kho_err_t err = {0};
    return kho_key_authenticate(W, key, p, &err);
}

static int set_disabled(const char *name, bool disabled)
{
    kho_err_t err = {0};
    return kho_user_set_disabled(W, name, disabled, &err);
}

/* ---- roles and scopes --------------------------------------------------------------- */

static void test_roles(void **state)
{
    (void)state;
    static const kho_role_t accounts[] = {KHO_ROLE_ANALYST, KHO_ROLE_LEADER, KHO_ROLE_PARTNER, KHO_ROLE_STEWARD,
                                          KHO_ROLE_ADMIN};
    static const char *const names[] = {"analyst", "leader", "partner", "steward", "admin"};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(kho_role_name(accounts[i]), names[i]);
        assert_int_equal(kho_role_parse(names[i]), (int)accounts[i]);
    }
    assert_string_equal(kho_role_name(KHO_ROLE_PUBLIC), "public");
    /* public is not an account's role; unknown and almost-right names are refused */
    static const char *const bad[] = {"public", "", "Admin", "ADMIN", "admin ", " admin", "administrator",
                                      "adm",    "steward\n", "root", "guest", "anonymous"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (kho_role_parse(bad[i]) != -1)
            fail_msg("role '%s' was parsed", bad[i]);
    /* what each role may hold */
    assert_int_equal(kho_role_scopes(KHO_ROLE_ADMIN), KHO_SCOPE_ALL);
    unsigned steward = kho_role_scopes(KHO_ROLE_STEWARD);
    assert_int_equal(steward & (KHO_SCOPE_DATASETS_READ | KHO_SCOPE_DATASETS_WRITE | KHO_SCOPE_PII_READ),
                     KHO_SCOPE_DATASETS_READ | KHO_SCOPE_DATASETS_WRITE | KHO_SCOPE_PII_READ);
    for (int r = KHO_ROLE_PUBLIC; r <= KHO_ROLE_ADMIN; r++) {
        unsigned s = kho_role_scopes((kho_role_t)r);
        assert_int_equal(s & ~(unsigned)KHO_SCOPE_ALL, 0);
        assert_true(s & KHO_SCOPE_DATASETS_READ);
        if (r != KHO_ROLE_ADMIN)
            assert_false(s & KHO_SCOPE_USERS_ADMIN);
    }
    unsigned pub = kho_role_scopes(KHO_ROLE_PUBLIC);
    assert_int_equal(pub & (KHO_SCOPE_DATASETS_WRITE | KHO_SCOPE_PII_READ | KHO_SCOPE_AUDIT_READ), 0);
    unsigned partner = kho_role_scopes(KHO_ROLE_PARTNER);
    assert_int_equal(partner & (KHO_SCOPE_DATASETS_WRITE | KHO_SCOPE_AUDIT_READ | KHO_SCOPE_USERS_ADMIN), 0);
    /* pii:read lets analysts, leaders and partners use a grant with personal data (access.h) */
    assert_true(kho_role_scopes(KHO_ROLE_ANALYST) & KHO_SCOPE_PII_READ);
}

static void test_scopes_parse_and_format(void **state)
{
    (void)state;
    kho_err_t err;
    unsigned s = 99;
    assert_int_equal(kho_scopes_parse("datasets:read", &s, &err), 0);
    assert_int_equal(s, KHO_SCOPE_DATASETS_READ);
    assert_int_equal(kho_scopes_parse("datasets:read,pii:read", &s, &err), 0);
    assert_int_equal(s, KHO_SCOPE_DATASETS_READ | KHO_SCOPE_PII_READ);
    assert_int_equal(kho_scopes_parse("audit:read users:admin", &s, &err), 0);
    assert_int_equal(s, KHO_SCOPE_AUDIT_READ | KHO_SCOPE_USERS_ADMIN);
    assert_int_equal(kho_scopes_parse(" , datasets:write,, ,datasets:write ,", &s, &err), 0);
    assert_int_equal(s, KHO_SCOPE_DATASETS_WRITE);
    assert_int_equal(kho_scopes_parse("", &s, &err), 0);
    assert_int_equal(s, 0);
    assert_int_equal(
        kho_scopes_parse("datasets:read datasets:write pii:read audit:read users:admin trace:read trace:write", &s,
                         &err),
        0);
    assert_int_equal(s, KHO_SCOPE_ALL);
    /* every combination formats and parses back */
    for (unsigned x = 0; x <= KHO_SCOPE_ALL; x++) {
        char text[128];
        kho_scopes_format(x, text, sizeof text);
        unsigned back = 0;
        if (kho_scopes_parse(text, &back, &err) != 0 || back != x)
            fail_msg("scopes %u formatted as '%s' parse back as %u", x, text, back);
        if (x && (text[0] == ' ' || text[strlen(text) - 1] == ' ' || strstr(text, "  ")))
            fail_msg("'%s' is not separated by single spaces", text);
    }
    char text[128];
    kho_scopes_format(KHO_SCOPE_DATASETS_READ | KHO_SCOPE_PII_READ, text, sizeof text);
    assert_string_equal(text, "datasets:read pii:read");
    kho_scopes_format(0, text, sizeof text);
    assert_string_equal(text, "");
    /* a small buffer is never overrun and always terminated */
    for (size_t size = 1; size < 24; size++) {
        char small[32];
        memset(small, 'Z', sizeof small);
        kho_scopes_format(KHO_SCOPE_ALL, small, size);
        assert_true(memchr(small, '\0', size) != NULL);
        for (size_t i = size; i < sizeof small; i++)
            assert_int_equal(small[i], 'Z');
    }
    /* unknown scopes */
    static const char *const bad[] = {"datasets",        "datasets:read,bogus", "DATASETS:READ", "datasets:readx",
                                      "datasets:read\tpii:read", "pii:write", ":", "datasets:read;pii:read",
                                      "datasets:*",      "*",                   "users:admin\n", "đọc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        if (kho_scopes_parse(bad[i], &s, &err) != KHO_EINVAL)
            fail_msg("scopes '%s' were accepted", bad[i]);
        assert_string_equal(err.kind, "bad_scope");
    }
    /* a huge unknown scope: refused with a bounded message */
    size_t n = 100000;
    char *huge = kt_malloc(n + 1);
    memset(huge, 'x', n);
    huge[n] = '\0';
    assert_int_equal(kho_scopes_parse(huge, &s, &err), KHO_EINVAL);
    assert_true(strlen(err.msg) < sizeof err.msg);
}

static void test_password_policy(void **state)
{
    (void)state;
    kho_err_t err;
    assert_int_equal(kho_password_policy("an", "0123456789", &err), 0);
    assert_int_equal(kho_password_policy("an", "đđđđđđđđđđ", &err), 0); /* 10 characters, 20 bytes */
    assert_int_equal(kho_password_policy("an", "mật khẩu dài", &err), 0);
    assert_int_equal(kho_password_policy("an", "", &err), KHO_EINVAL);
    assert_int_equal(kho_password_policy("an", "short", &err), KHO_EINVAL);
    assert_int_equal(kho_password_policy("an", "123456789", &err), KHO_EINVAL);
    assert_int_equal(kho_password_policy("an", "đđđđđđđđđ", &err), KHO_EINVAL); /* 9 characters, 18 bytes */
    /* the account name itself */
    assert_int_equal(kho_password_policy("nguyen.van.an", "nguyen.van.an", &err), KHO_EINVAL);
    assert_int_equal(kho_password_policy("nguyen.van.an", "nguyen.van.an2", &err), 0);
    /* not UTF-8 text */
    assert_int_equal(kho_password_policy("an", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5", &err), KHO_EINVAL);
    assert_int_equal(kho_password_policy("an", "abcdefghij\xc3", &err), KHO_EINVAL);
    /* at most 1024 bytes */
    char pw[1100];
    memset(pw, 'a', sizeof pw);
    pw[1024] = '\0';
    assert_int_equal(kho_password_policy("an", pw, &err), 0);
    pw[1024] = 'a';
    pw[1025] = '\0';
    assert_int_equal(kho_password_policy("an", pw, &err), KHO_EINVAL);
}

static void test_principal_public_and_via(void **state)
{
    (void)state;
    kho_principal_t p;
    memset(&p, 0x5A, sizeof p);
    kho_principal_public(&p);
    assert_int_equal(p.role, KHO_ROLE_PUBLIC);
    assert_int_equal(p.user_id, 0);
    assert_int_equal(p.org_id, 0);
    assert_int_equal(p.key_id, 0);
    assert_false(p.session);
    assert_int_equal(p.scopes, kho_role_scopes(KHO_ROLE_PUBLIC));
    char via[32];
    kho_principal_via(&p, via, sizeof via);
    assert_string_equal(via, "anonymous");
    p.user_id = 3;
    p.key_id = 12;
    kho_principal_via(&p, via, sizeof via);
    assert_string_equal(via, "key:12");
    p.key_id = 0;
    p.session = true;
    kho_principal_via(&p, via, sizeof via);
    assert_string_equal(via, "session");
    char tiny[4];
    p.session = false;
    p.key_id = 123456789;
    kho_principal_via(&p, tiny, sizeof tiny);
    assert_int_equal(strlen(tiny), 3);
}

/* ---- accounts ------------------------------------------------------------------------ */

static void test_user_add_refusals(void **state)
{
    (void)state;
    kho_err_t err;
    static const char *const names[] = {"",     "a",           "Alice",          "al ice",   "-al",    ".al",
                                        "_al",  "an@x",        "an/x",           "an'x",     "ân",     "an\n",
                                        "an;DROP TABLE users", "0123456789012345678901234567890123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        memset(&err, 0, sizeof err);
        if (kho_user_add(W, names[i], KHO_ROLE_ANALYST, NULL, "long enough password", &err) != KHO_EINVAL)
            fail_msg("account name '%s' was accepted", names[i]);
    }
    assert_int_equal(kho_user_add(W, "pub", KHO_ROLE_PUBLIC, NULL, "long enough password", &err), KHO_EINVAL);
    assert_int_equal(kho_user_add(W, "stew", KHO_ROLE_STEWARD, NULL, "long enough password", &err), KHO_EINVAL);
    assert_int_equal(kho_user_add(W, "stew", KHO_ROLE_STEWARD, "", "long enough password", &err), KHO_EINVAL);
    assert_int_equal(kho_user_add(W, "part", KHO_ROLE_PARTNER, NULL, "long enough password", &err), KHO_EINVAL);
    assert_int_equal(kho_user_add(W, "stew", KHO_ROLE_STEWARD, "Sở Y tế", "long enough password", &err),
                     KHO_EINVAL);
    assert_int_equal(kho_user_add(W, "stew", KHO_ROLE_STEWARD, "x", "long enough password", &err), KHO_EINVAL);
    assert_int_equal(kho_user_add(W, "stew", KHO_ROLE_STEWARD, "so y te", "long enough password", &err),
                     KHO_EINVAL);
    assert_int_equal(kho_user_add(W, "weak", KHO_ROLE_ANALYST, NULL, "short", &err), KHO_EINVAL);
    assert_int_equal(kho_user_add(W, "samepassword", KHO_ROLE_ANALYST, NULL, "samepassword", &err), KHO_EINVAL);
    /* nothing was created */
    assert_int_equal(query_int("SELECT count(*) FROM users WHERE name IN ('pub','stew','part','weak','samepassword')"),
                     0);
}

static void test_user_add_load_list(void **state)
{
    (void)state;
    kho_principal_t p;
    kho_err_t err;
    assert_int_equal(kho_user_load(W, "binh", &p, &err), 0);
    assert_string_equal(p.user, "binh");
    assert_int_equal(p.role, KHO_ROLE_STEWARD);
    assert_string_equal(p.org, "so-y-te");
    assert_true(p.org_id > 0);
    assert_true(p.user_id > 0);
    assert_int_equal(p.scopes, kho_role_scopes(KHO_ROLE_STEWARD));
    assert_int_equal(p.key_id, 0);
    assert_false(p.session);
    assert_int_equal(kho_user_load(W, "an.nguyen", &p, &err), 0);
    assert_int_equal(p.role, KHO_ROLE_ANALYST);
    assert_int_equal(p.org_id, 0);
    assert_int_equal(kho_user_load(W, "nobody", &p, &err), KHO_ENOTFOUND);
    assert_int_equal(kho_user_load(W, "", &p, &err), KHO_ENOTFOUND);
    assert_int_equal(kho_user_load(W, "binh' OR '1'='1", &p, &err), KHO_ENOTFOUND);
    /* the same name twice (one hash) */
    assert_int_equal(kho_user_add(W, "binh", KHO_ROLE_ANALYST, NULL, "another password", &err), KHO_ECONFLICT);
    /* the list: sorted, with the documented fields, and no password hashes */
    json_t *list = NULL;
    assert_int_equal(kho_user_list(W, &list, &err), 0);
    keep(list);
    json_t *users = json_object_get(list, "users");
    assert_true(json_is_array(users));
    assert_true(json_array_size(users) >= 3);
    const char *prev = "";
    size_t i;
    json_t *u;
    bool saw_binh = false;
    json_array_foreach(users, i, u)
    {
        const char *name = json_string_value(json_object_get(u, "name"));
        assert_non_null(name);
        assert_true(strcmp(prev, name) < 0);
        prev = name;
        assert_true(json_is_string(json_object_get(u, "role")));
        assert_true(json_is_boolean(json_object_get(u, "disabled")));
        assert_true(json_is_string(json_object_get(u, "created_at")));
        assert_non_null(json_object_get(u, "org"));
        if (strcmp(name, "binh") == 0) {
            saw_binh = true;
            assert_string_equal(json_string_value(json_object_get(u, "org")), "so-y-te");
            assert_string_equal(json_string_value(json_object_get(u, "role")), "steward");
        }
    }
    assert_true(saw_binh);
    kho_buf_t *dump = kt_buf();
    kho_json_dump(dump, list, 0);
    assert_null(strstr(kho_buf_cstr(dump), "argon2"));
    assert_null(strstr(kho_buf_cstr(dump), PW_BINH));
    /* passwords are stored hashed */
    assert_int_equal(query_int("SELECT count(*) FROM users WHERE password_hash LIKE '%mat-khau%'"
                               " OR password_hash NOT LIKE '$argon2id$%'"),
                     0);
}

static void test_login(void **state)
{
    (void)state;
    kho_principal_t p;
    int retry = -1;
    assert_int_equal(login("an.nguyen", PW_AN, &p, &retry), 0);
    assert_int_equal(retry, 0);
    assert_string_equal(p.user, "an.nguyen");
    assert_int_equal(p.role, KHO_ROLE_ANALYST);
    assert_int_equal(p.scopes, kho_role_scopes(KHO_ROLE_ANALYST));
    assert_true(p.user_id > 0);
    assert_int_equal(p.key_id, 0);
    assert_int_equal(login("binh", PW_BINH, &p, NULL), 0);
    assert_string_equal(p.org, "so-y-te");
    assert_int_equal(p.scopes, kho_role_scopes(KHO_ROLE_STEWARD));
    /* a wrong password and an unknown account look the same */
    kho_err_t e1 = {0}, e2 = {0};
    assert_int_equal(kho_auth_login(W, "an.nguyen", "mat-khau-cua-binh", &p, &retry, &e1), KHO_EUNAUTH);
    assert_int_equal(kho_auth_login(W, "khong.co.ai", PW_AN, &p, &retry, &e2), KHO_EUNAUTH);
    assert_string_equal(e1.msg, e2.msg);
    assert_string_equal(kho_err_kind(&e1), kho_err_kind(&e2));
    assert_int_equal(retry, 0);
    /* hostile names and near misses */
    assert_int_equal(login("an.nguyen' OR '1'='1", PW_AN, &p, NULL), KHO_EUNAUTH);
    assert_int_equal(login("AN.NGUYEN", PW_AN, &p, NULL), KHO_EUNAUTH);
    assert_int_equal(login("an.nguyen", PW_AN " ", &p, NULL), KHO_EUNAUTH);
    assert_int_equal(login("an.nguyen", "", &p, NULL), KHO_EUNAUTH);
}

static void test_disabled_account(void **state)
{
    (void)state;
    new_user("em", KHO_ROLE_LEADER, NULL, "mat-khau-cua-em");
    kho_principal_t p;
    kho_err_t err;
    assert_int_equal(set_disabled("em", true), 0);
    assert_int_equal(kho_user_load(W, "em", &p, &err), KHO_EFORBIDDEN);
    assert_int_equal(login("em", "mat-khau-cua-em", &p, NULL), KHO_EUNAUTH);
    json_t *list = NULL;
    assert_int_equal(kho_user_list(W, &list, &err), 0);
    keep(list);
    size_t i;
    json_t *u;
    bool seen = false;
    json_array_foreach(json_object_get(list, "users"), i, u)
    {
        if (strcmp(json_string_value(json_object_get(u, "name")), "em") != 0)
            continue;
        seen = true;
        assert_true(json_is_true(json_object_get(u, "disabled")));
    }
    assert_true(seen);
    assert_int_equal(set_disabled("em", false), 0);
    assert_int_equal(kho_user_load(W, "em", &p, &err), 0);
    assert_int_equal(login("em", "mat-khau-cua-em", &p, NULL), 0);
    assert_int_equal(set_disabled("nobody", true), KHO_ENOTFOUND);
    assert_int_equal(set_disabled("", false), KHO_ENOTFOUND);
}

static void test_lockout(void **state)
{
    (void)state;
    const char *pw = "mat-khau-cua-khoa";
    new_user("khoa", KHO_ROLE_ANALYST, NULL, pw);
    kho_principal_t p;
    int retry = 0;
    /* fewer failures than the limit, then a success: the count starts again */
    for (int i = 0; i < MAX_FAILURES - 1; i++)
        note("khoa", false, MAX_FAILURES);
    assert_int_equal(login("khoa", pw, &p, &retry), 0);
    note("khoa", true, MAX_FAILURES);
    for (int i = 0; i < MAX_FAILURES - 1; i++)
        note("khoa", false, MAX_FAILURES);
    assert_int_equal(login("khoa", pw, &p, &retry), 0);
    note("khoa", true, MAX_FAILURES);
    /* max_failures in a row: locked for 30 s, even with the right password */
    for (int i = 0; i < MAX_FAILURES; i++)
        note("khoa", false, MAX_FAILURES);
    kho_err_t err = {0};
    memset(&p, 0x5A, sizeof p);
    assert_int_equal(kho_auth_login(W, "khoa", pw, &p, &retry, &err), KHO_ELIMIT);
    assert_true(retry > 0 && retry <= 30);
    assert_true(retry >= 28);
    assert_int_equal(login("khoa", "wrong password!", &p, &retry), KHO_ELIMIT);
    assert_true(retry > 0);
    /* the list says so */
    json_t *list = NULL;
    assert_int_equal(kho_user_list(W, &list, &err), 0);
    keep(list);
    size_t i;
    json_t *u;
    bool seen = false;
    json_array_foreach(json_object_get(list, "users"), i, u)
    {
        if (strcmp(json_string_value(json_object_get(u, "name")), "khoa") != 0)
            continue;
        seen = true;
        assert_true(json_is_true(json_object_get(u, "locked")));
    }
    assert_true(seen);
    /* one more failure doubles it */
    note("khoa", false, MAX_FAILURES);
    assert_int_equal(login("khoa", pw, &p, &retry), KHO_ELIMIT);
    assert_true(retry > 30 && retry <= 60);
    note("khoa", false, MAX_FAILURES);
    assert_int_equal(login("khoa", pw, &p, &retry), KHO_ELIMIT);
    assert_true(retry > 60 && retry <= 120);
    /* at most an hour, however many failures */
    for (int k = 0; k < 40; k++)
        note("khoa", false, MAX_FAILURES);
    assert_int_equal(login("khoa", pw, &p, &retry), KHO_ELIMIT);
    assert_true(retry > 1800 && retry <= 3600);
    /* the lock runs out (simulated): the right password works, and a success resets the count */
    exec_sql("UPDATE users SET locked_until = strftime('%s','now') - 1 WHERE name = 'khoa'");
    assert_int_equal(login("khoa", pw, &p, &retry), 0);
    note("khoa", true, MAX_FAILURES);
    note("khoa", false, MAX_FAILURES); /* the first of a new run: not locked */
    assert_int_equal(login("khoa", pw, &p, &retry), 0);
    assert_int_equal(retry, 0);
    note("khoa", true, MAX_FAILURES);
    /* a limit of one: the first failure locks */
    note("khoa", false, 1);
    assert_int_equal(login("khoa", pw, &p, &retry), KHO_ELIMIT);
    assert_true(retry > 0 && retry <= 30);
    /* other accounts are not affected */
    assert_int_equal(login("an.nguyen", PW_AN, &p, &retry), 0);
}

static void test_refresh(void **state)
{
    (void)state;
    const char *pw1 = "mat-khau-cua-dung", *pw2 = "mat-khau-moi-cua-dung";
    new_user("dung", KHO_ROLE_STEWARD, "so-tai-chinh", pw1);
    kho_principal_t p, q;
    kho_err_t err;
    assert_int_equal(login("dung", pw1, &p, NULL), 0);
    assert_int_equal(kho_auth_refresh(W, &p, &err), 0);
    assert_int_equal(p.role, KHO_ROLE_STEWARD);
    assert_string_equal(p.org, "so-tai-chinh");
    /* a role changed by an admin takes effect; scopes never exceed the new role */
    exec_sql("UPDATE users SET role = 'analyst', org_id = NULL WHERE name = 'dung'");
    assert_int_equal(kho_auth_refresh(W, &p, &err), 0);
    assert_int_equal(p.role, KHO_ROLE_ANALYST);
    assert_int_equal(p.org_id, 0);
    assert_int_equal(p.scopes & ~kho_role_scopes(KHO_ROLE_ANALYST), 0);
    assert_false(p.scopes & KHO_SCOPE_DATASETS_WRITE);
    exec_sql("UPDATE users SET role = 'steward', org_id = (SELECT id FROM organisations WHERE slug = 'so-tai-chinh')"
             " WHERE name = 'dung'");
    assert_int_equal(login("dung", pw1, &p, NULL), 0);
    /* a new password ends what was signed in with the old one */
    assert_int_equal(kho_user_passwd(W, "dung", pw2, &err), 0);
    assert_int_equal(kho_auth_refresh(W, &p, &err), KHO_EUNAUTH);
    assert_int_equal(login("dung", pw1, &q, NULL), KHO_EUNAUTH);
    assert_int_equal(login("dung", pw2, &q, NULL), 0);
    assert_int_equal(kho_auth_refresh(W, &q, &err), 0);
    /* disabled: ended, and not revived by enabling the account again */
    assert_int_equal(set_disabled("dung", true), 0);
    assert_int_equal(kho_auth_refresh(W, &q, &err), KHO_EUNAUTH);
    assert_int_equal(set_disabled("dung", false), 0);
    assert_int_equal(kho_auth_refresh(W, &q, &err), KHO_EUNAUTH);
    /* an account that does not exist */
    kho_principal_t ghost = q;
    ghost.user_id = 987654321;
    assert_int_equal(kho_auth_refresh(W, &ghost, &err), KHO_EUNAUTH);
    /* password changes follow the policy; unknown accounts are reported */
    assert_int_equal(kho_user_passwd(W, "dung", "short", &err), KHO_EINVAL);
    assert_int_equal(kho_user_passwd(W, "dung", "dung", &err), KHO_EINVAL);
    assert_int_equal(kho_user_passwd(W, "nobody", "a long new password", &err), KHO_ENOTFOUND);
}

/* ---- API keys ------------------------------------------------------------------------- */

static bool base64url(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_'))
            return false;
    return true;
}

static void test_key_create_and_authenticate(void **state)
{
    (void)state;
    char key[64], key2[64];
    int64_t before = (int64_t)time(NULL);
    int64_t expires = 0, id = 0;
    kho_err_t err = {0};
    assert_int_equal(kho_key_create(W, "binh", KHO_SCOPE_DATASETS_READ | KHO_SCOPE_DATASETS_WRITE, &expires, "etl",
                                    90, 365, key, &id, &err),
                     0);
    assert_true(id > 0);
    assert_int_equal(strlen(key), 47);
    assert_memory_equal(key, "kho_", 4);
    assert_true(base64url(key + 4));
    /* the default lifetime */
    assert_true(expires >= before + 90 * 86400 && expires <= (int64_t)time(NULL) + 90 * 86400);
    kho_principal_t p;
    assert_int_equal(key_auth(key, &p), 0);
    assert_string_equal(p.user, "binh");
    assert_int_equal(p.role, KHO_ROLE_STEWARD);
    assert_int_equal(p.key_id, id);
    assert_string_equal(p.org, "so-y-te");
    assert_int_equal(p.scopes, KHO_SCOPE_DATASETS_READ | KHO_SCOPE_DATASETS_WRITE); /* not pii:read */
    assert_false(p.session);
    char via[32];
    kho_principal_via(&p, via, sizeof via);
    char want[32];
    snprintf(want, sizeof want, "key:%lld", (long long)id);
    assert_string_equal(via, want);
    /* another key is another text */
    int64_t id2 = make_key("binh", KHO_SCOPE_DATASETS_READ, 0, key2);
    assert_int_not_equal(id2, id);
    assert_string_not_equal(key, key2);
    assert_int_equal(key_auth(key2, &p), 0);
    assert_int_equal(p.scopes, KHO_SCOPE_DATASETS_READ);
    /* an explicit expiry is kept */
    int64_t at = (int64_t)time(NULL) + 10 * 86400;
    int64_t exp = at;
    char key3[64];
    assert_int_equal(kho_key_create(W, "binh", KHO_SCOPE_DATASETS_READ, &exp, NULL, 90, 365, key3, NULL, &err), 0);
    assert_int_equal(exp, at);
    assert_int_equal(key_auth(key3, &p), 0);
    /* the key text is not stored: neither its secret part nor the whole */
    kho_stmt_t *st = NULL;
    assert_int_equal(kho_store_prepare(W,
                                       "SELECT count(*) FROM api_keys WHERE instr(hash, ?1) > 0 OR instr(prefix, ?1) > 0"
                                       " OR instr(name, ?1) > 0 OR instr(scopes, ?1) > 0",
                                       &st, &err),
                     0);
    kho_stmt_bind_str(st, 1, key + 16);
    assert_int_equal(kho_stmt_step(st, &err), KHO_STEP_ROW);
    int64_t found = kho_stmt_col_int(st, 0);
    kho_stmt_free(st);
    assert_int_equal(found, 0);
    /* the list shows a prefix, never the key */
    json_t *list = NULL;
    assert_int_equal(kho_key_list(W, "binh", &list, &err), 0);
    keep(list);
    json_t *keys = json_object_get(list, "keys");
    assert_true(json_array_size(keys) >= 3);
    size_t i;
    json_t *k;
    bool saw = false;
    json_array_foreach(keys, i, k)
    {
        assert_string_equal(json_string_value(json_object_get(k, "user")), "binh");
        if (json_integer_value(json_object_get(k, "id")) != id)
            continue;
        saw = true;
        const char *prefix = json_string_value(json_object_get(k, "prefix"));
        assert_non_null(prefix);
        assert_true(strlen(prefix) < 20);
        assert_memory_equal(prefix, key, strlen(prefix));
        assert_string_equal(json_string_value(json_object_get(k, "name")), "etl");
        assert_string_equal(json_string_value(json_object_get(k, "scopes")), "datasets:read datasets:write");
        assert_true(json_is_null(json_object_get(k, "revoked_at")));
        assert_true(json_is_string(json_object_get(k, "expires_at")));
        assert_true(json_is_string(json_object_get(k, "created_at")));
    }
    assert_true(saw);
    kho_buf_t *dump = kt_buf();
    kho_json_dump(dump, list, 0);
    assert_null(strstr(kho_buf_cstr(dump), key + 16));
    /* every key, or another user's (none) */
    json_t *all = NULL;
    assert_int_equal(kho_key_list(W, NULL, &all, &err), 0);
    keep(all);
    assert_true(json_array_size(json_object_get(all, "keys")) >= json_array_size(keys));
    json_t *none = NULL;
    assert_int_equal(kho_key_list(W, "admin", &none, &err), 0);
    keep(none);
    assert_int_equal(json_array_size(json_object_get(none, "keys")), 0);
}

static void test_key_scope_and_expiry_limits(void **state)
{
    (void)state;
    char key[64];
    int64_t id, exp;
    kho_err_t err;
    int64_t now = (int64_t)time(NULL);
    /* never beyond the owner's role */
    static const unsigned beyond[] = {KHO_SCOPE_DATASETS_WRITE, KHO_SCOPE_USERS_ADMIN, KHO_SCOPE_AUDIT_READ,
                                      KHO_SCOPE_DATASETS_READ | KHO_SCOPE_DATASETS_WRITE, KHO_SCOPE_ALL};
    for (size_t i = 0; i < sizeof beyond / sizeof beyond[0]; i++) {
        exp = 0;
        memset(&err, 0, sizeof err);
        if (kho_key_create(W, "an.nguyen", beyond[i], &exp, NULL, 90, 365, key, &id, &err) != KHO_EINVAL)
            fail_msg("an analyst's key got scopes %u", beyond[i]);
    }
    exp = 0;
    assert_int_equal(kho_key_create(W, "binh", KHO_SCOPE_USERS_ADMIN, &exp, NULL, 90, 365, key, &id, &err),
                     KHO_EINVAL);
    exp = 0;
    assert_int_equal(kho_key_create(W, "an.nguyen", 0, &exp, NULL, 90, 365, key, &id, &err), KHO_EINVAL);
    exp = 0;
    assert_int_equal(kho_key_create(W, "admin", KHO_SCOPE_ALL, &exp, NULL, 90, 365, key, &id, &err), 0);
    /* unknown owner */
    exp = 0;
    assert_int_not_equal(kho_key_create(W, "nobody", KHO_SCOPE_DATASETS_READ, &exp, NULL, 90, 365, key, &id, &err),
                         0);
    /* expiry: not in the past, not now, not beyond max_days */
    exp = now - 86400;
    assert_int_equal(kho_key_create(W, "an.nguyen", KHO_SCOPE_DATASETS_READ, &exp, NULL, 90, 365, key, &id, &err),
                     KHO_EINVAL);
    exp = now - 1;
    assert_int_equal(kho_key_create(W, "an.nguyen", KHO_SCOPE_DATASETS_READ, &exp, NULL, 90, 365, key, &id, &err),
                     KHO_EINVAL);
    exp = now + 400 * 86400;
    assert_int_equal(kho_key_create(W, "an.nguyen", KHO_SCOPE_DATASETS_READ, &exp, NULL, 90, 365, key, &id, &err),
                     KHO_EINVAL);
    exp = 0; /* a default lifetime beyond the maximum */
    assert_int_equal(kho_key_create(W, "an.nguyen", KHO_SCOPE_DATASETS_READ, &exp, NULL, 400, 365, key, &id, &err),
                     KHO_EINVAL);
    exp = now + 364 * 86400;
    assert_int_equal(kho_key_create(W, "an.nguyen", KHO_SCOPE_DATASETS_READ, &exp, NULL, 90, 365, key, &id, &err), 0);
    /* a steward's key loses what the role loses (the role changed later) */
    new_user("giang", KHO_ROLE_STEWARD, "so-y-te", "mat-khau-cua-giang");
    char skey[64];
    make_key("giang", KHO_SCOPE_DATASETS_READ | KHO_SCOPE_DATASETS_WRITE | KHO_SCOPE_PII_READ, 0, skey);
    kho_principal_t p;
    assert_int_equal(key_auth(skey, &p), 0);
    assert_int_equal(p.scopes, KHO_SCOPE_DATASETS_READ | KHO_SCOPE_DATASETS_WRITE | KHO_SCOPE_PII_READ);
    exec_sql("UPDATE users SET role = 'analyst' WHERE name = 'giang'");
    assert_int_equal(key_auth(skey, &p), 0);
    assert_int_equal(p.role, KHO_ROLE_ANALYST);
    /* an analyst holds datasets:read and pii:read, not datasets:write */
    assert_int_equal(p.scopes, KHO_SCOPE_DATASETS_READ | KHO_SCOPE_PII_READ);
    /* a stored scope list that cannot be read grants nothing */
    exec_sql("UPDATE users SET role = 'steward' WHERE name = 'giang'");
    exec_sql("UPDATE api_keys SET scopes = 'datasets:read everything' WHERE user_id ="
             " (SELECT id FROM users WHERE name = 'giang')");
    int rc = key_auth(skey, &p);
    assert_true(rc != 0 || p.scopes == 0);
}

static void test_key_revoke_expire_disable(void **state)
{
    (void)state;
    new_user("hoa", KHO_ROLE_ANALYST, NULL, "mat-khau-cua-hoa");
    int64_t hoa = user_id("hoa"), an = user_id("an.nguyen");
    char k1[64], k2[64], k3[64];
    int64_t id1 = make_key("hoa", KHO_SCOPE_DATASETS_READ, 0, k1);
    int64_t id2 = make_key("hoa", KHO_SCOPE_DATASETS_READ, 0, k2);
    make_key("hoa", KHO_SCOPE_DATASETS_READ, 0, k3);
    kho_principal_t p;
    kho_err_t err;
    assert_int_equal(key_auth(k1, &p), 0);
    /* only the owner's own key, when an owner is given */
    assert_int_equal(kho_key_revoke(W, id1, an, &err), KHO_ENOTFOUND);
    assert_int_equal(key_auth(k1, &p), 0);
    assert_int_equal(kho_key_revoke(W, id1, hoa, &err), 0);
    assert_int_equal(key_auth(k1, &p), KHO_EUNAUTH); /* at once */
    assert_int_equal(kho_key_revoke(W, id1, hoa, &err), KHO_ENOTFOUND);
    assert_int_equal(kho_key_revoke(W, id1, 0, &err), KHO_ENOTFOUND);
    assert_int_equal(kho_key_revoke(W, 987654321, 0, &err), KHO_ENOTFOUND);
    assert_int_equal(kho_key_revoke(W, -1, 0, &err), KHO_ENOTFOUND);
    assert_int_equal(key_auth(k2, &p), 0); /* the others live on */
    json_t *list = NULL;
    assert_int_equal(kho_key_list(W, "hoa", &list, &err), 0);
    keep(list);
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(list, "keys"), i, k)
    {
        json_int_t kid = json_integer_value(json_object_get(k, "id"));
        assert_true(json_is_string(json_object_get(k, "revoked_at")) == (kid == id1));
    }
    /* expired (simulated by moving the expiry into the past) */
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE api_keys SET expires_at = strftime('%%s','now') - 1 WHERE id = %lld",
             (long long)id2);
    exec_sql(sql);
    assert_int_equal(key_auth(k2, &p), KHO_EUNAUTH);
    snprintf(sql, sizeof sql, "UPDATE api_keys SET expires_at = strftime('%%s','now') + 3600 WHERE id = %lld",
             (long long)id2);
    exec_sql(sql);
    assert_int_equal(key_auth(k2, &p), 0);
    /* the owner disabled: every key refused; enabled again: they work */
    assert_int_equal(set_disabled("hoa", true), 0);
    assert_int_equal(key_auth(k2, &p), KHO_EUNAUTH);
    assert_int_equal(key_auth(k3, &p), KHO_EUNAUTH);
    char k4[64];
    int64_t e = 0;
    assert_int_not_equal(kho_key_create(W, "hoa", KHO_SCOPE_DATASETS_READ, &e, NULL, 90, 365, k4, NULL, &err), 0);
    assert_int_equal(set_disabled("hoa", false), 0);
    assert_int_equal(key_auth(k3, &p), 0);
    assert_string_equal(p.user, "hoa");
}

static void test_key_bad_text(void **state)
{
    (void)state;
    char key[64];
    make_key("an.nguyen", KHO_SCOPE_DATASETS_READ, 0, key);
    kho_principal_t p;
    assert_int_equal(key_auth(key, &p), 0);
    static const char *const bad[] = {
        "",
        "kho",
        "kho_",
        "kho_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  /* the right form, unknown */
        "KHO_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "xyz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "kho_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* 46 */
        "kho_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* 48 */
        "kho_' OR '1'='1' --                            ",
        "kho_%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%",
        "Bearer kho_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (key_auth(bad[i], &p) != KHO_EUNAUTH)
            fail_msg("key '%s' was accepted", bad[i]);
    /* one character changed anywhere, cut, extended, padded */
    for (size_t i = 0; i < 47; i++) {
        char k[64];
        memcpy(k, key, sizeof k);
        k[i] = k[i] == 'A' ? 'B' : 'A';
        if (key_auth(k, &p) != KHO_EUNAUTH)
            fail_msg("key with character %zu changed was accepted", i);
    }
    char k[80];
    snprintf(k, sizeof k, "%.46s", key);
    assert_int_equal(key_auth(k, &p), KHO_EUNAUTH);
    snprintf(k, sizeof k, "%sA", key);
    assert_int_equal(key_auth(k, &p), KHO_EUNAUTH);
    snprintf(k, sizeof k, " %s", key);
    assert_int_equal(key_auth(k, &p), KHO_EUNAUTH);
    /* a huge string */
    size_t n = 1 << 20;
    char *huge = kt_malloc(n + 1);
    memset(huge, 'A', n);
    memcpy(huge, "kho_", 4);
    huge[n] = '\0';
    assert_int_equal(key_auth(huge, &p), KHO_EUNAUTH);
    /* and the real key still works */
    assert_int_equal(key_auth(key, &p), 0);
}

/* ---- expiry parsing ---------------------------------------------------------------------- */

static void test_expiry_parse(void **state)
{
    (void)state;
    kho_err_t err;
    int64_t v = 0;
    assert_int_equal(kho_expiry_parse("2030-01-31", &v, &err), 0);
    assert_int_equal(v, 1896134399); /* 2030-01-31T23:59:59Z: through that day, UTC */
    assert_int_equal(kho_expiry_parse("2024-02-29", &v, &err), 0);
    assert_int_equal(v, 1709251199);
    int64_t before = (int64_t)time(NULL);
    assert_int_equal(kho_expiry_parse("30d", &v, &err), 0);
    assert_true(v >= before + 30 * 86400 && v <= (int64_t)time(NULL) + 30 * 86400);
    assert_int_equal(kho_expiry_parse("1d", &v, &err), 0);
    assert_true(v >= before + 86400 && v <= (int64_t)time(NULL) + 86400);
    assert_int_equal(kho_expiry_parse("365d", &v, &err), 0);
    static const char *const bad[] = {
        "",           "d",          "0d",          "-1d",         "-30d",        "30",
        "30D",        "30dd",       "d30",         "3 0d",        "30d ",        "1.5d",
        "0x10d",      "100000d",    "99999999999999999999d",      "abc",         "never",
        "2030-1-31",  "2030/01/31", "2030-13-01",  "2030-00-10",  "2030-01-00",  "2030-01-32",
        "abcd-ef-gh", "2030-01-31 ", " 2030-01-31", "2030-01-31T00:00:00Z",       "20300131",
        "2030-01-3x", "x030-01-31", "31-01-2030",  "2030-01-",    "----------",  "2030-01-31\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        if (kho_expiry_parse(bad[i], &v, &err) != KHO_EINVAL)
            fail_msg("expiry '%s' was accepted (%lld)", bad[i], (long long)v);
        assert_string_equal(err.kind, "bad_expiry");
    }
}

/* auth.h: an expiry is a date YYYY-MM-DD — a date that does not exist is not
 * one (it must not silently become another day). */
static void test_expiry_parse_refuses_impossible_dates(void **state)
{
    (void)state;
    static const char *const bad[] = {"2030-02-30", "2030-02-31", "2031-02-29", "2030-04-31", "2030-06-31"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 0;
        kho_err_t err;
        if (kho_expiry_parse(bad[i], &v, &err) != KHO_EINVAL)
            fail_msg("expiry '%s' was accepted (%lld)", bad[i], (long long)v);
    }
}

/* auth.h: "YYYY-MM-DD" or "Nd": no white space or sign inside either form. */
static void test_expiry_parse_refuses_padded_forms(void **state)
{
    (void)state;
    static const char *const bad[] = {" 30d", "+30d", "2030- 1-31", " 203-01-31", "2030-01- 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 0;
        kho_err_t err;
        if (kho_expiry_parse(bad[i], &v, &err) != KHO_EINVAL)
            fail_msg("expiry '%s' was accepted (%lld)", bad[i], (long long)v);
    }
}

/* ---- sessions ----------------------------------------------------------------------------- */

static void sessions_free_v(void *p)
{
    kho_sessions_free(p);
}

static void test_sessions(void **state)
{
    (void)state;
    kho_sessions_t *s = kt_defer(sessions_free_v, kho_sessions_new(30, 12));
    assert_int_equal(kho_sessions_max_age(s), 12 * 3600);
    kho_principal_t who;
    kho_principal_public(&who);
    who.role = KHO_ROLE_STEWARD;
    who.user_id = 7;
    snprintf(who.user, sizeof who.user, "binh");
    who.org_id = 3;
    snprintf(who.org, sizeof who.org, "so-y-te");
    who.scopes = kho_role_scopes(KHO_ROLE_STEWARD);
    who.key_id = 99; /* a session is never a key */
    who.generation = 4;
    char token[48], csrf[48];
    kho_session_create(s, &who, token, csrf);
    assert_int_equal(strlen(token), 43);
    assert_int_equal(strlen(csrf), 43);
    assert_true(base64url(token));
    assert_true(base64url(csrf));
    assert_string_not_equal(token, csrf);
    kho_principal_t out;
    memset(&out, 0, sizeof out);
    assert_true(kho_session_lookup(s, token, &out));
    assert_string_equal(out.user, "binh");
    assert_int_equal(out.user_id, 7);
    assert_int_equal(out.role, KHO_ROLE_STEWARD);
    assert_int_equal(out.org_id, 3);
    assert_int_equal(out.scopes, who.scopes);
    assert_int_equal(out.generation, 4);
    assert_true(out.session);
    assert_int_equal(out.key_id, 0);
    assert_string_equal(out.csrf, csrf);
    /* the CSRF token is not a session token */
    assert_false(kho_session_lookup(s, csrf, &out));
    /* bad tokens */
    char t[128];
    static const char *const bad[] = {"", "x", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                      "' OR 1=1 --                                "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(kho_session_lookup(s, bad[i], &out));
    snprintf(t, sizeof t, "%.42s", token);
    assert_false(kho_session_lookup(s, t, &out));
    snprintf(t, sizeof t, "%sA", token);
    assert_false(kho_session_lookup(s, t, &out));
    for (size_t i = 0; i < 43; i++) {
        snprintf(t, sizeof t, "%s", token);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        assert_false(kho_session_lookup(s, t, &out));
    }
    char huge[4096];
    memset(huge, 'A', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    assert_false(kho_session_lookup(s, huge, &out));
    /* many sessions at once, each its own */
    enum { N = 600 };
    static char tokens[N][48];
    for (int i = 0; i < N; i++) {
        kho_principal_t w = who;
        snprintf(w.user, sizeof w.user, "user%d", i);
        char c[48];
        kho_session_create(s, &w, tokens[i], c);
    }
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "user%d", i);
        assert_true(kho_session_lookup(s, tokens[i], &out));
        assert_string_equal(out.user, name);
    }
    assert_true(kho_session_lookup(s, token, &out));
    /* destroy: that session only */
    kho_session_destroy(s, tokens[5]);
    assert_false(kho_session_lookup(s, tokens[5], &out));
    assert_true(kho_session_lookup(s, tokens[6], &out));
    kho_session_destroy(s, token);
    assert_false(kho_session_lookup(s, token, &out));
    kho_session_destroy(s, token); /* twice, unknown, empty: harmless */
    kho_session_destroy(s, "");
    kho_session_destroy(s, huge);
    assert_true(kho_session_lookup(s, tokens[N - 1], &out));
}

static void test_token_equal(void **state)
{
    (void)state;
    assert_true(kho_token_equal("abc", "abc"));
    assert_true(kho_token_equal("", ""));
    assert_false(kho_token_equal("abc", "abd"));
    assert_false(kho_token_equal("abc", "ab"));
    assert_false(kho_token_equal("ab", "abc"));
    assert_false(kho_token_equal("", "a"));
    assert_false(kho_token_equal("a", ""));
    assert_false(kho_token_equal("abc", "ABC"));
    char a[48], b[48];
    memset(a, 'x', 43);
    a[43] = '\0';
    memcpy(b, a, sizeof a);
    assert_true(kho_token_equal(a, b));
    b[42] = 'y';
    assert_false(kho_token_equal(a, b));
    b[42] = 'x';
    b[0] = 'y';
    assert_false(kho_token_equal(a, b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_roles, kt_cleanup),
        cmocka_unit_test_teardown(test_scopes_parse_and_format, kt_cleanup),
        cmocka_unit_test_teardown(test_password_policy, kt_cleanup),
        cmocka_unit_test_teardown(test_principal_public_and_via, kt_cleanup),
        cmocka_unit_test_teardown(test_user_add_refusals, kt_cleanup),
        cmocka_unit_test_teardown(test_user_add_load_list, kt_cleanup),
        cmocka_unit_test_teardown(test_login, kt_cleanup),
        cmocka_unit_test_teardown(test_disabled_account, kt_cleanup),
        cmocka_unit_test_teardown(test_lockout, kt_cleanup),
        cmocka_unit_test_teardown(test_refresh, kt_cleanup),
        cmocka_unit_test_teardown(test_key_create_and_authenticate, kt_cleanup),
        cmocka_unit_test_teardown(test_key_scope_and_expiry_limits, kt_cleanup),
        cmocka_unit_test_teardown(test_key_revoke_expire_disable, kt_cleanup),
        cmocka_unit_test_teardown(test_key_bad_text, kt_cleanup),
        cmocka_unit_test_teardown(test_expiry_parse, kt_cleanup),
        cmocka_unit_test_teardown(test_expiry_parse_refuses_impossible_dates, kt_cleanup),
        cmocka_unit_test_teardown(test_expiry_parse_refuses_padded_forms, kt_cleanup),
        cmocka_unit_test_teardown(test_sessions, kt_cleanup),
        cmocka_unit_test_teardown(test_token_equal, kt_cleanup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
