/* Unit tests of warehouse/sandbox: the read-only SQL sandbox on a real data
 * directory (units, an open dataset with two versions, a shared one with a
 * personal column, a private important one with encrypted personal columns).
 * The authorizer and the limits against a list of hostile statements (the
 * database files must not change), hidden datasets that look exactly like
 * missing ones, masking of personal columns, decryption for callers allowed
 * to see them, the output formats, and the table list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "core/log.h"
#include "kho_test.h"
#include "security/access.h"
#include "security/auth.h"
#include "security/keys.h"
#include "store/schema.h"
#include "store/store.h"
#include "warehouse/ingest.h"
#include "warehouse/sandbox.h"
#include "warehouse/units.h"

static kho_store_t *W; /* the writable connection (kho's own) */
static kho_store_t *R; /* a read-only connection, as a server worker has */
static kho_keyring_t *KEYS;
static char DIR_[128];
static char UNITS[PATH_MAX];

static kho_principal_t PUB, ANALYST, ADMIN, STEWARD, GRANTEE, GRANTEE_NOPII, NOREAD;

static const char *OPEN_V1 = "Mã xã,Số hồ sơ,Tỷ lệ,Đúng hạn,Ghi chú\n11953,5,0.5,true,\"a,b\"\n12031,7,0.25,false,\n";
static const char *OPEN_V2 =
    "Mã xã,Số hồ sơ,Tỷ lệ,Đúng hạn,Ghi chú\n11953,5,0.5,true,\"a,b\"\n12031,7,0.25,false,\n13279,9,1,true,x\n";
static const char *PRIVATE_CSV = "Mã xã,Họ và tên,Số định danh cá nhân,Số tiền\n"
                                 "11953,Nguyễn Văn An,034213348925,100\n"
                                 "12031,Trần Thị Bình,034213348926,250\n";
static const char *SHARED_CSV = "Mã xã,Họ và tên,Số lượng\n11953,Lê Hoàng Cường,3\n12031,Phạm Thu Dung,4\n";

/* ---- fixture ------------------------------------------------------------------------- */

static void import(const char *slug, const char *csv, const char *sharing, const char *importance, const char *org)
{
    kho_ingest_opts_t o = {.dataset = slug,
                           .meta = KHO_DATASET_META_INIT,
                           .reject_threshold = -1,
                           .source_name = "data.csv",
                           .keys = KEYS};
    o.meta.sharing = sharing;
    o.meta.importance = importance;
    o.meta.org = org;
    kho_source_t src = {.mem = csv, .len = strlen(csv), .name = "data.csv"};
    kho_ingest_result_t res = {0};
    kho_err_t err = {0};
    int rc = kho_ingest(W, &src, &o, &res, &err);
    kho_ingest_result_free(&res);
    if (rc != 0) {
        fprintf(stderr, "import %s: %s\n", slug, err.msg);
        abort();
    }
}

static int64_t qint(kho_store_t *s, const char *sql)
{
    int64_t v = -1;
    kho_err_t err;
    if (kho_store_query_int(s, sql, &v, &err) != 0) {
        fprintf(stderr, "%s: %s\n", sql, err.msg);
        abort();
    }
    return v;
}

static void user(kho_principal_t *p, const char *name, kho_role_t role, unsigned scopes, int64_t org)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO users(name, role, org_id, password_hash, created_at, updated_at)"
             " VALUES ('%s', '%s', nullif(%lld, 0), 'x', 'now', 'now')",
             name, kho_role_name(role), (long long)org);
    kho_err_t err;
    if (kho_store_exec(W, sql, &err) != 0)
        abort();
    memset(p, 0, sizeof *p);
    p->role = role;
    p->user_id = kho_store_last_id(W);
    snprintf(p->user, sizeof p->user, "%s", name);
    p->scopes = scopes;
    p->org_id = org;
}

static int group_setup(void **state)
{
    (void)state;
    kho_log_set_level(KHO_LOG_WARN);
    if (!kt_find_units(UNITS, sizeof UNITS)) {
        fprintf(stderr, "cannot find data/units (set KHO_UNITS_DIR)\n");
        return -1;
    }
    snprintf(DIR_, sizeof DIR_, "/tmp/kho-sandbox-test-XXXXXX");
    if (!mkdtemp(DIR_))
        return -1;
    char path[256];
    snprintf(path, sizeof path, "%s/kho.db", DIR_);
    kho_err_t err = {0};
    kho_units_summary_t sum;
    if (kho_store_open(path, KHO_STORE_CREATE, NULL, &W, &err) != 0 || kho_schema_migrate(W, &err) != 0 ||
        kho_units_load(W, UNITS, false, &sum, &err) != 0 || kho_keyring_open(DIR_, W, true, &KEYS, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    import("mo-cong-khai", OPEN_V1, "open", "other", "thong-ke");
    import("mo-cong-khai", OPEN_V2, NULL, NULL, NULL);
    import("rieng-tu", PRIVATE_CSV, "private", "important", "so-y-te");
    import("chia-se", SHARED_CSV, "shared", "other", "so-tai-chinh");
    import("sqlite-x", OPEN_V1, "open", "other", "thong-ke");
    if (kho_store_open(path, KHO_STORE_READONLY, NULL, &R, &err) != 0)
        return -1;
    int64_t soyte = qint(W, "SELECT id FROM organisations WHERE slug = 'so-y-te'");
    kho_principal_public(&PUB);
    user(&ANALYST, "an", KHO_ROLE_ANALYST, KHO_SCOPE_DATASETS_READ, 0);
    user(&ADMIN, "quan-tri", KHO_ROLE_ADMIN, KHO_SCOPE_ALL, 0);
    user(&STEWARD, "bao-tro", KHO_ROLE_STEWARD, KHO_SCOPE_DATASETS_READ | KHO_SCOPE_DATASETS_WRITE | KHO_SCOPE_PII_READ,
         soyte);
    user(&GRANTEE, "duoc-cap", KHO_ROLE_ANALYST, KHO_SCOPE_DATASETS_READ | KHO_SCOPE_PII_READ, 0);
    user(&GRANTEE_NOPII, "duoc-cap-2", KHO_ROLE_ANALYST, KHO_SCOPE_DATASETS_READ | KHO_SCOPE_PII_READ, 0);
    NOREAD = ADMIN;
    NOREAD.scopes = KHO_SCOPE_AUDIT_READ; /* a key made for other work reads only open data */
    if (kho_grant_add(W, "rieng-tu", "user:duoc-cap", true, &err) != 0 ||
        kho_grant_add(W, "rieng-tu", "user:duoc-cap-2", false, &err) != 0) {
        fprintf(stderr, "grant: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    kho_sandbox_thread_close();
    kho_keyring_free(KEYS);
    kho_store_close(R);
    kho_store_close(W);
    nftw(DIR_, kt_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------ */

typedef struct run {
    int rc;
    kho_err_t err;
    kho_sandbox_result_t res;
    kho_buf_t out;
} run_t;

static void run_destroy(void *p)
{
    run_t *r = p;
    kho_sandbox_result_free(&r->res);
    kho_buf_free(&r->out);
    free(r);
}

static int sink(void *ctx, const char *p, size_t n)
{
    kho_buf_append(ctx, p, n);
    return 0;
}

static run_t *run_full(const kho_principal_t *who, const char *sql, kho_outfmt_t fmt, int64_t max_rows,
                       int64_t max_bytes, int64_t ms)
{
    run_t *r = kt_defer(run_destroy, calloc(1, sizeof *r));
    kho_sandbox_query_t q = {.sql = sql,
                             .len = strlen(sql),
                             .who = who,
                             .fmt = fmt,
                             .time_limit_ms = ms,
                             .max_rows = max_rows,
                             .max_bytes = max_bytes,
                             .keys = KEYS};
    r->rc = kho_sandbox_run(R, &q, sink, &r->out, &r->res, &r->err);
    return r;
}

static run_t *run(const kho_principal_t *who, const char *sql)
{
    return run_full(who, sql, KHO_OUT_JSON, 10000, 64 << 20, 2000);
}

static void jdecref(void *p)
{
    json_decref(p);
}

/* Run and parse the JSON result; fails the test on error. */
static json_t *ok(const kho_principal_t *who, const char *sql)
{
    run_t *r = run(who, sql);
    if (r->rc != 0)
        fail_msg("%s: %d %s: %s", sql, r->rc, kho_err_kind(&r->err), r->err.msg);
    json_error_t je;
    json_t *j = json_loads(kho_buf_cstr(&r->out), 0, &je);
    if (!j)
        fail_msg("%s: not JSON (%s): %s", sql, je.text, kho_buf_cstr(&r->out));
    return kt_defer(jdecref, j);
}

static json_t *rows_of(const kho_principal_t *who, const char *sql)
{
    return json_object_get(ok(who, sql), "rows");
}

static long long int_of(const kho_principal_t *who, const char *sql)
{
    json_t *v = json_array_get(json_array_get(rows_of(who, sql), 0), 0);
    if (!json_is_integer(v))
        fail_msg("%s: not an integer", sql);
    return (long long)json_integer_value(v);
}

static const char *str_of(const kho_principal_t *who, const char *sql)
{
    json_t *v = json_array_get(json_array_get(rows_of(who, sql), 0), 0);
    if (!json_is_string(v))
        fail_msg("%s: not a string", sql);
    return json_string_value(v);
}

/* Run and expect an error with this code and kind (and message part, if given). */
static run_t *refused(const kho_principal_t *who, const char *sql, int code, const char *kind, const char *part)
{
    run_t *r = run(who, sql);
    if (r->rc == 0)
        fail_msg("%s: allowed, expected %s: %s", sql, kind, kho_buf_cstr(&r->out));
    if (r->rc != code || strcmp(kho_err_kind(&r->err), kind) != 0)
        fail_msg("%s: %d %s (%s), expected %d %s", sql, r->rc, kho_err_kind(&r->err), r->err.msg, code, kind);
    if (part && !strstr(r->err.msg, part))
        fail_msg("%s: message '%s' lacks '%s'", sql, r->err.msg, part);
    return r;
}

/* SHA-256 of the database files (kho.db and its WAL). */
static void db_digest(char hex[65])
{
    kho_buf_t all = KHO_BUF_INIT;
    const char *names[] = {"kho.db", "kho.db-wal"};
    for (size_t i = 0; i < 2; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", DIR_, names[i]);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            kho_buf_append(&all, buf, n);
        fclose(f);
    }
    kt_sha256_hex(all.data ? all.data : "", all.len, hex);
    kho_buf_free(&all);
}

/* ---- the hostile list --------------------------------------------------------------- */

typedef struct hostile {
    const char *sql;
    int code;
    const char *kind;
    const char *part; /* in the message */
} hostile_t;

static void test_hostile_statements_refused_and_nothing_changes(void **state)
{
    (void)state;
    static char big[KHO_SANDBOX_MAX_SQL + 2400];
    memset(big, ' ', sizeof big - 1);
    memcpy(big, "SELECT 1 --", 11);
    char escape[300];
    snprintf(escape, sizeof escape, "VACUUM INTO '%s/copy.db'", DIR_);
    const hostile_t list[] = {
        {"ATTACH DATABASE '/tmp/kho-sandbox-attach.db' AS x", KHO_EFORBIDDEN, "sql_denied", "ATTACH"},
        {"DETACH DATABASE main", KHO_EFORBIDDEN, "sql_denied", "ATTACH"},
        {escape, KHO_EFORBIDDEN, "sql_denied", "read-only"}, /* prepares; refused before it runs */
        {"VACUUM", KHO_EFORBIDDEN, "sql_denied", "read-only"},
        {"PRAGMA writable_schema=1", KHO_EFORBIDDEN, "sql_denied", "PRAGMA writable_schema"},
        {"PRAGMA journal_mode", KHO_EFORBIDDEN, "sql_denied", "PRAGMA journal_mode"},
        {"PRAGMA journal_mode=DELETE", KHO_EFORBIDDEN, "sql_denied", "PRAGMA journal_mode"},
        {"PRAGMA query_only=0", KHO_EFORBIDDEN, "sql_denied", "PRAGMA query_only"},
        {"PRAGMA table_info(users)", KHO_EFORBIDDEN, "sql_denied", "PRAGMA table_info"},
        {"PRAGMA main.table_info(mo_cong_khai)", KHO_EFORBIDDEN, "sql_denied", "PRAGMA table_info"},
        {"INSERT INTO meta VALUES ('x', 'y')", KHO_EFORBIDDEN, "sql_denied", "read-only"},
        {"WITH a AS (SELECT 1) INSERT INTO meta SELECT 'x', 'y' FROM a", KHO_EFORBIDDEN, "sql_denied", "read-only"},
        {"UPDATE users SET role = 'admin'", KHO_EFORBIDDEN, "sql_denied", "read-only"},
        {"DELETE FROM grants", KHO_EFORBIDDEN, "sql_denied", "read-only"},
        {"REPLACE INTO meta VALUES ('x', 'y')", KHO_EFORBIDDEN, "sql_denied", "read-only"},
        {"CREATE TABLE t(a)", KHO_EFORBIDDEN, "sql_denied", "cannot create"},
        {"CREATE INDEX i ON users(name)", KHO_EFORBIDDEN, "sql_denied", "cannot create"},
        {"DROP TABLE users", KHO_EFORBIDDEN, "sql_denied", "read-only"},
        {"DROP VIEW mo_cong_khai", KHO_EFORBIDDEN, "sql_denied", "read-only"},
        {"ALTER TABLE users ADD COLUMN x", KHO_EFORBIDDEN, "sql_denied", "read-only"},
        {"CREATE TEMP TABLE t(a)", KHO_EFORBIDDEN, "sql_denied", "cannot create"},
        {"CREATE TEMP VIEW v AS SELECT 1", KHO_EFORBIDDEN, "sql_denied", "cannot create"},
        {"CREATE TEMP TRIGGER tr AFTER INSERT ON meta BEGIN SELECT 1; END", KHO_EFORBIDDEN, "sql_denied",
         "cannot create"},
        {"CREATE VIRTUAL TABLE temp.f USING fts5(x)", KHO_EFORBIDDEN, "sql_denied", "cannot create"},
        {"ANALYZE", KHO_EFORBIDDEN, "sql_denied", "read-only"},
        {"REINDEX", KHO_EFORBIDDEN, "sql_denied", "read-only"},
        {"BEGIN", KHO_EFORBIDDEN, "sql_denied", "transactions"},
        {"SAVEPOINT a", KHO_EFORBIDDEN, "sql_denied", "transactions"},
        {"SELECT load_extension('x')", KHO_EFORBIDDEN, "sql_denied", "load_extension"},
        {"SELECT fts3_tokenizer('simple')", KHO_EFORBIDDEN, "sql_denied", "fts3_tokenizer"},
        {"SELECT sqlite_compileoption_get(0)", KHO_EFORBIDDEN, "sql_denied", "sqlite_compileoption_get"},
        {"SELECT randomblob(1e9)", KHO_EINVAL, "sql_limit", "10000000"},
        {"SELECT zeroblob(1e9)", KHO_EINVAL, "sql_limit", "10000000"},
        {"SELECT length(printf('%.*c', 2000000000, 'x'))", KHO_EFORBIDDEN, "sql_denied", "printf"},
        {"SELECT format('%d', 1)", KHO_EFORBIDDEN, "sql_denied", "format"},
        {"SELECT json_patch('{}', '{}')", KHO_EFORBIDDEN, "sql_denied", "json_patch"},
        {"SELECT 'x' LIKE '%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a"
         "%a%a%a%a%a%a%a%a%a%a'",
         KHO_EINVAL, "sql_error", "LIKE or GLOB pattern too complex"},
        {"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r", KHO_ETIMEOUT,
         "timeout", "2000 ms"},
        {big, KHO_ETOOLARGE, "sql_too_long", "100000"},
        {"SELECT * FROM sqlite_master", KHO_EINVAL, "sql_error", "no such table: sqlite_master"},
        {"SELECT * FROM sqlite_schema", KHO_EINVAL, "sql_error", "no such table: sqlite_schema"},
        {"SELECT * FROM sqlite_temp_master", KHO_EINVAL, "sql_error", "no such table: sqlite_temp_master"},
        {"SELECT * FROM main.sqlite_master", KHO_EINVAL, "sql_error", "no such table: main.sqlite_master"},
        {"SELECT name, password_hash FROM users", KHO_EINVAL, "sql_error", "no such table: users"},
        {"SELECT * FROM api_keys", KHO_EINVAL, "sql_error", "no such table: api_keys"},
        {"SELECT * FROM data_keys", KHO_EINVAL, "sql_error", "no such table: data_keys"},
        {"SELECT * FROM grants", KHO_EINVAL, "sql_error", "no such table: grants"},
        {"SELECT * FROM datasets", KHO_EINVAL, "sql_error", "no such table: datasets"},
        {"SELECT * FROM audit", KHO_EINVAL, "sql_error", "no such table: audit"},
        {"SELECT * FROM audit_entries", KHO_EINVAL, "sql_error", "no such table: audit_entries"},
        {"SELECT * FROM ds1_v1", KHO_EINVAL, "sql_error", "no such table: ds1_v1"},
        {"SELECT * FROM dbstat", KHO_EINVAL, "sql_error", "no such table: dbstat"},
        {"SELECT * FROM sqlite_stmt", KHO_EINVAL, "sql_error", "no such table: sqlite_stmt"},
        {"SELECT * FROM pragma_table_info('users')", KHO_EFORBIDDEN, "sql_denied", "not available"},
        {"SELECT * FROM pragma_database_list", KHO_EFORBIDDEN, "sql_denied", "not available"},
        {"SELECT (WITH dbstat AS (SELECT 1) SELECT 1), (SELECT count(*) FROM dbstat)", KHO_EINVAL, "sql_error",
         "is the name of a table"},
        {"SELECT (WITH ds1_v1 AS (SELECT 1) SELECT 1), (SELECT count(*) FROM ds1_v1)", KHO_EINVAL, "sql_error",
         "is the name of a table"},
        {"WITH users AS (SELECT 1) SELECT count(*) FROM users", KHO_EINVAL, "sql_error", "is the name of a table"},
        {"SELECT count(*) FROM dbstat", KHO_EINVAL, "sql_error", "no such table: dbstat"},
        {"SELECT count(*) FROM users", KHO_EINVAL, "sql_error", "no such table: users"},
        {"SELECT 1; DELETE FROM users", KHO_EINVAL, "sql_error", "one statement"},
        {"EXPLAIN SELECT 1", KHO_EFORBIDDEN, "sql_denied", "EXPLAIN"},
        {"SELECT ?", KHO_EINVAL, "sql_error", "parameters"},
        {"", KHO_EINVAL, "sql_error", "empty"},
        {"-- nothing", KHO_EINVAL, "sql_error", "empty"},
    };
    char before[65], after[65];
    db_digest(before);
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
        refused(&ADMIN, list[i].sql, list[i].code, list[i].kind, list[i].part);
        refused(&PUB, list[i].sql, list[i].code, list[i].kind, list[i].part);
    }
    db_digest(after);
    assert_string_equal(before, after);
    char copy[300];
    snprintf(copy, sizeof copy, "%s/copy.db", DIR_);
    assert_int_not_equal(access(copy, F_OK), 0);
    assert_int_not_equal(access("/tmp/kho-sandbox-attach.db", F_OK), 0);
    /* the sandbox keeps working afterwards */
    assert_int_equal(int_of(&PUB, "SELECT count(*) FROM mo_cong_khai"), 3);
}

static void test_time_limit_stops_runaway_queries(void **state)
{
    (void)state;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    run_t *r = run_full(&PUB,
                        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r)"
                        " SELECT max(x.n + y.n) FROM r x, r y",
                        KHO_OUT_JSON, 10, 1 << 20, 200);
    clock_gettime(CLOCK_MONOTONIC, &b);
    assert_int_equal(r->rc, KHO_ETIMEOUT);
    assert_string_equal(kho_err_kind(&r->err), "timeout");
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    assert_true(ms < 20000); /* stopped at 200 ms; the bound only shows it was stopped (not a benchmark) */
    /* an expression nested too deep, a compound SELECT too long: errors, not crashes */
    kho_buf_t deep = KHO_BUF_INIT;
    kho_buf_puts(&deep, "SELECT ");
    for (int i = 0; i < 400; i++)
        kho_buf_putc(&deep, '(');
    kho_buf_putc(&deep, '1');
    for (int i = 0; i < 400; i++)
        kho_buf_putc(&deep, ')');
    run_t *d = run(&PUB, deep.data);
    kho_buf_free(&deep);
    assert_int_equal(d->rc, KHO_EINVAL);
    kho_buf_t comp = KHO_BUF_INIT;
    kho_buf_puts(&comp, "SELECT 1");
    for (int i = 0; i < 60; i++)
        kho_buf_puts(&comp, " UNION SELECT 1");
    run_t *c = run(&PUB, comp.data);
    kho_buf_free(&comp);
    assert_int_equal(c->rc, KHO_EINVAL);
    assert_non_null(strstr(c->err.msg, "too many terms"));
}

/* kho's instr, replace and two-argument trims give what SQLite's own give,
 * and stay linear where SQLite's took minutes. */
static void test_linear_functions_match_sqlite(void **state)
{
    (void)state;
    static const char *const exprs[] = {
        "instr('abcabc', 'ca')",
        "instr('abc', '')",
        "instr('', 'a')",
        "instr(NULL, 'a')",
        "instr('a', NULL)",
        "instr('Nghĩa Trụ', 'Trụ')",
        "instr('ĩĩĩa', 'a')",
        "instr(x'616263', x'63')",
        "instr(x'00ff00', x'00')",
        "instr(12345, 34)",
        "instr('x1.5y', 1.5)",
        "instr(x'e1bb', 'b')",
        "instr(cast(x'c3a9c3' AS text), x'a9')",
        "instr('aaa', 'aaaa')",
        "instr(x'616263', 'c')",
        "instr('abc', x'63')",
        "instr(cast(x'41808080808080808080808042' AS text), cast(x'808080808080808080' AS text))",
        "instr(cast(x'418080808080808080808080' AS text), cast(x'808080808080808080' AS text))",
        "instr('xxxxxxxxxxxxxxxxxxxxxyxxxxxxxxxxxxxxxxxxxxxxy', 'xxxxxxxxxxxxxxxxxxxxxxy')",
        "instr('ááááááááááááááb', 'ááááb')",
        "replace('xxxxxxxxxxxxxxxxxxxxxyxxxxxxxxxxy', 'xxxxxxxxxxy', '-')",
        "replace('abcabc', 'b', 'XY')",
        "replace('aaaa', 'aa', 'b')",
        "replace('abc', '', 'z')",
        "replace(NULL, 'a', 'b')",
        "replace('abc', NULL, 'b')",
        "replace('abc', 'a', NULL)",
        "replace(123, 2, 9)",
        "replace('Hưng Yên', 'ư', 'u')",
        "replace(x'610062', x'00', 'z')",
        "replace('abc', x'00', 'z')",
        "replace(1.5, '.', ',')",
        "typeof(replace(x'6162', 'a', 'c'))",
        "replace('abc', 'abc', '')",
        "trim('xxaxx', 'x')",
        "ltrim('xxaxx', 'x')",
        "rtrim('xxaxx', 'x')",
        "trim('abcba', 'ab')",
        "trim('aaa', 'a')",
        "trim('', 'a')",
        "trim(NULL, 'a')",
        "trim('abc', NULL)",
        "trim('abc', '')",
        "trim(12321, 1)",
        "trim('ấấbấ', 'ấ')",
        "trim('éaé', 'é')",
        "rtrim('aé', 'e')",
        "trim(cast(x'c3a9c3' AS text), cast(x'c3' AS text))",
        "ltrim(cast(x'c3a9a9' AS text), cast(x'c3a9' AS text))",
        "rtrim(cast(x'41c3a9a9' AS text), cast(x'a9' AS text))",
        "trim(' x ', ' ')",
        "trim('ab', cast(x'610062' AS text))",
        "trim(x'616261', 'a')",
        "typeof(trim(5, 'x'))",
    };
    sqlite3 *ref = NULL;
    assert_int_equal(sqlite3_open(":memory:", &ref), SQLITE_OK);
    for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        char sql[700];
        snprintf(sql, sizeof sql, "SELECT typeof(%s) || ':' || hex(%s)", exprs[i], exprs[i]);
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(ref, sql, -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        char want[200];
        snprintf(want, sizeof want, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        const char *got = str_of(&PUB, sql);
        if (strcmp(got, want) != 0)
            fail_msg("%s: kho %s, SQLite %s", exprs[i], got, want);
    }
    sqlite3_close(ref);
    /* sizes that kept SQLite 3.40's versions busy for minutes */
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(int_of(&PUB, "WITH h(x) AS (SELECT replace(hex(zeroblob(2500000)), '0', 'a'))"
                                  " SELECT instr(x, substr(x, 1, 1000000) || 'b') + length(replace(x, substr(x, 1,"
                                  " 1000000) || 'b', 'c')) FROM h"),
                     5000000);
    assert_int_equal(int_of(&PUB, "WITH h(x) AS (SELECT replace(hex(zeroblob(500000)), '0', 'a')),"
                                  " s(c) AS (SELECT group_concat(char(n), '') || 'a' FROM (WITH RECURSIVE r(n) AS"
                                  " (SELECT 256 UNION ALL SELECT n + 1 FROM r WHERE n < 20256) SELECT n FROM r))"
                                  " SELECT length(trim(x, c)) FROM h, s"),
                     0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    assert_true((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9 < 30); /* not minutes */
}

/* ---- hidden datasets ------------------------------------------------------------------- */

static void test_hidden_datasets_look_like_missing_tables(void **state)
{
    (void)state;
    const kho_principal_t *who[] = {&PUB, &ANALYST, &NOREAD};
    const char *forms[][2] = {{"SELECT * FROM ", ""},
                              {"SELECT count(*) FROM ", ""},
                              {"SELECT 1 FROM mo_cong_khai JOIN ", ""},
                              {"WITH x AS (SELECT * FROM ", ") SELECT 1 FROM x"},
                              {"SELECT (SELECT max(_row) FROM ", ")"}};
    for (size_t w = 0; w < 3; w++)
        for (size_t f = 0; f < 5; f++) {
            char hidden[200], missing[200];
            snprintf(hidden, sizeof hidden, "%s%s%s", forms[f][0], "rieng_tu", forms[f][1]);
            snprintf(missing, sizeof missing, "%s%s%s", forms[f][0], "rieng_tv", forms[f][1]);
            run_t *h = run(who[w], hidden), *m = run(who[w], missing);
            assert_int_equal(h->rc, KHO_EINVAL);
            assert_int_equal(m->rc, KHO_EINVAL);
            assert_string_equal(kho_err_kind(&h->err), kho_err_kind(&m->err));
            char *p = strstr(h->err.msg, "rieng_tu");
            assert_non_null(p);
            p[7] = 'v';
            assert_string_equal(h->err.msg, m->err.msg);
            assert_int_equal(h->res.offset, m->res.offset);
        }
    /* internal names too, whatever their spelling */
    run_t *a = run(&PUB, "SELECT * FROM \"DS3_V1\""), *b = run(&PUB, "SELECT * FROM \"DS99_V1\"");
    assert_string_equal(a->err.msg, "no such table: DS3_V1 (GET /api/v1/sql/tables lists the tables you can query)");
    assert_string_equal(b->err.msg, "no such table: DS99_V1 (GET /api/v1/sql/tables lists the tables you can query)");
    /* the stored tables of hidden datasets, even for a count (one readable by the caller may be counted) */
    refused(&PUB, "SELECT count(*) FROM ds2_v1", KHO_EINVAL, "sql_error", "no such table: ds2_v1");
    refused(&PUB, "SELECT 1 FROM main.ds2_v1 LIMIT 0", KHO_EINVAL, "sql_error", "no such table: main.ds2_v1");
    assert_int_equal(int_of(&ADMIN, "SELECT count(*) FROM ds2_v1"), 2);
    refused(&ADMIN, "SELECT ho_va_ten FROM ds2_v1", KHO_EINVAL, "sql_error", "no such table: ds2_v1");
    /* shared data is for staff: not for the public, not for a key without datasets:read */
    refused(&PUB, "SELECT count(*) FROM chia_se", KHO_EINVAL, "sql_error", "no such table: chia_se");
    refused(&NOREAD, "SELECT count(*) FROM chia_se", KHO_EINVAL, "sql_error", "no such table: chia_se");
    assert_int_equal(int_of(&ANALYST, "SELECT count(*) FROM chia_se"), 2);
    /* a table-info pragma cannot tell a hidden table from a missing one either */
    run_t *p1 = run(&PUB, "PRAGMA table_info(rieng_tu)"), *p2 = run(&PUB, "PRAGMA table_info(rieng_tv)");
    assert_int_equal(p1->rc, KHO_EFORBIDDEN);
    char *x = strstr(p1->err.msg, "rieng_tu");
    if (x)
        x[7] = 'v';
    assert_string_equal(p1->err.msg, p2->err.msg);
}

static void test_private_dataset_matrix(void **state)
{
    (void)state;
    const char *sql = "SELECT count(*) FROM rieng_tu";
    refused(&PUB, sql, KHO_EINVAL, "sql_error", "no such table");
    refused(&ANALYST, sql, KHO_EINVAL, "sql_error", "no such table");
    refused(&NOREAD, sql, KHO_EINVAL, "sql_error", "no such table");
    assert_int_equal(int_of(&ADMIN, sql), 2);
    assert_int_equal(int_of(&STEWARD, sql), 2);
    assert_int_equal(int_of(&GRANTEE, sql), 2);
    assert_int_equal(int_of(&GRANTEE_NOPII, sql), 2);
    /* decrypted for those who may see personal data: values, filters and sorting on the real text */
    const char *name = "SELECT ho_va_ten FROM rieng_tu WHERE so_dinh_danh_ca_nhan = '034213348926'";
    assert_string_equal(str_of(&ADMIN, name), "Trần Thị Bình");
    assert_string_equal(str_of(&STEWARD, name), "Trần Thị Bình");
    assert_string_equal(str_of(&GRANTEE, name), "Trần Thị Bình");
    assert_int_equal(int_of(&ADMIN, "SELECT sum(so_tien) FROM rieng_tu WHERE ho_va_ten LIKE 'Nguy%'"), 100);
    assert_string_equal(str_of(&ADMIN, "SELECT typeof(so_dinh_danh_ca_nhan) FROM rieng_tu"), "text");
    /* a grant without personal data: the rest of the table, never the personal columns */
    assert_int_equal(int_of(&GRANTEE_NOPII, "SELECT sum(so_tien) FROM rieng_tu"), 350);
    refused(&GRANTEE_NOPII, name, KHO_EFORBIDDEN, "sql_denied", "ho_va_ten");
    refused(&GRANTEE_NOPII, "SELECT * FROM rieng_tu", KHO_EFORBIDDEN, "sql_denied", "personal data");
    /* no ciphertext ever comes out */
    json_t *all = ok(&ADMIN, "SELECT * FROM rieng_tu");
    char *text = json_dumps(all, 0);
    assert_non_null(strstr(text, "Nguyễn Văn An"));
    assert_null(strstr(text, "$base64"));
    free(text);
}

static void test_personal_columns_refused_for_masked_callers(void **state)
{
    (void)state;
    run_t *r = refused(&ANALYST, "SELECT ma_xa, ho_va_ten FROM chia_se", KHO_EFORBIDDEN, "sql_denied",
                       "column 'ho_va_ten' of table 'chia_se' holds personal data");
    assert_int_equal(r->res.offset, 14);
    const char *attempts[] = {
        "SELECT * FROM chia_se",
        "SELECT count(*) FROM chia_se WHERE ho_va_ten LIKE 'L%'",
        "SELECT so_luong FROM (SELECT * FROM chia_se)",
        "WITH t AS (SELECT * FROM chia_se) SELECT so_luong FROM t",
        "SELECT group_concat(ho_va_ten) FROM chia_se",
        "SELECT max(length(ho_va_ten)) FROM chia_se",
        "SELECT 1 FROM chia_se ORDER BY ho_va_ten",
        "SELECT count(*) FROM chia_se a JOIN chia_se b ON a.ho_va_ten = b.ho_va_ten",
        "PRAGMA table_info(chia_se)", /* allowed: names only (checked below) */
    };
    for (size_t i = 0; i + 1 < sizeof attempts / sizeof attempts[0]; i++) {
        run_t *x = run(&ANALYST, attempts[i]);
        if (x->rc == 0)
            fail_msg("%s: allowed for a masked caller: %s", attempts[i], kho_buf_cstr(&x->out));
        if (!strstr(x->err.msg, "ho_va_ten"))
            fail_msg("%s: %s", attempts[i], x->err.msg);
    }
    /* joins on personal columns SQLite does not report to the authorizer (NATURAL, USING) see only the
     * NULLs a masked view carries in their place: never a value */
    const char *joins[] = {"SELECT a.so_luong, b.so_luong FROM chia_se AS a NATURAL JOIN chia_se AS b",
                           "SELECT count(*) FROM chia_se a JOIN chia_se b USING (ho_va_ten)",
                           "SELECT * FROM chia_se a JOIN chia_se b USING (ho_va_ten)"};
    for (size_t i = 0; i < sizeof joins / sizeof joins[0]; i++) {
        run_t *x = run(&ANALYST, joins[i]);
        if (x->rc == 0) {
            assert_null(strstr(kho_buf_cstr(&x->out), "Cường"));
            assert_null(strstr(kho_buf_cstr(&x->out), "Dung"));
            assert_non_null(strstr(kho_buf_cstr(&x->out), "\"rows\":[]") ? "" : strstr(kho_buf_cstr(&x->out), "[0]"));
        } else {
            assert_non_null(strstr(x->err.msg, "ho_va_ten"));
        }
    }
    /* the CTE named like the view, reading the stored table: refused as the table does not exist */
    refused(&ANALYST, "WITH chia_se AS (SELECT ho_va_ten FROM ds3_v1) SELECT * FROM chia_se", KHO_EINVAL, "sql_error",
            "is the name of a table");
    refused(&ANALYST, "WITH x AS (SELECT 1), \"Chia_Se\"(h) AS (SELECT ho_va_ten FROM ds3_v1) SELECT * FROM chia_se",
            KHO_EINVAL, "sql_error", "is the name of a table");
    refused(&ADMIN, "WITH rieng_tu AS (SELECT ho_va_ten FROM ds2_v1) SELECT * FROM rieng_tu", KHO_EINVAL, "sql_error",
            "is the name of a table");
    refused(&ADMIN, "WITH rieng_tu AS MATERIALIZED (SELECT ho_va_ten FROM ds2_v1) SELECT * FROM rieng_tu", KHO_EINVAL,
            "sql_error", "is the name of a table");
    assert_int_equal(int_of(&ANALYST, "SELECT count(*) FROM chia_se AS t WHERE t.so_luong > 3"), 1);
    /* kho_decrypt cannot be pointed at a column the caller may not read */
    run_t *d = run(&GRANTEE_NOPII, "SELECT kho_decrypt(x'01', 'ds2_v1.ho_va_ten', 'text')");
    assert_int_equal(d->rc, KHO_EINVAL);
    assert_non_null(strstr(d->err.msg, "kho_decrypt"));
    /* what the caller may read still works */
    assert_int_equal(int_of(&ANALYST, "SELECT sum(so_luong) FROM chia_se"), 7);
    assert_int_equal(int_of(&ANALYST, "SELECT count(*) FROM chia_se"), 2);
    json_t *info = rows_of(&ANALYST, "PRAGMA table_info(chia_se)");
    assert_int_equal(json_array_size(info), 4); /* _row, ma_xa, ho_va_ten, so_luong */
    /* those who may see the column get it (shared data is not encrypted, only masked) */
    assert_string_equal(str_of(&ADMIN, "SELECT ho_va_ten FROM chia_se ORDER BY _row"), "Lê Hoàng Cường");
}

/* ---- what is allowed -------------------------------------------------------------------- */

static void test_reads_that_are_allowed(void **state)
{
    (void)state;
    assert_int_equal(int_of(&PUB, "SELECT count(*) FROM mo_cong_khai_v1"), 2);
    assert_int_equal(int_of(&PUB, "SELECT count(*) FROM mo_cong_khai_v2"), 3);
    assert_int_equal(int_of(&PUB, "SELECT count(*) FROM mo_cong_khai"), 3); /* the current version */
    assert_int_equal(int_of(&PUB, "SELECT count(*) FROM ds_sqlite_x"), 2);
    assert_int_equal(int_of(&PUB, "SELECT count(*) FROM units_province"), 34);
    assert_int_equal(int_of(&PUB, "SELECT count(*) FROM units_commune"), 3321);
    assert_int_equal(int_of(&PUB, "SELECT count(*) FROM units_old_province"), 63);
    assert_true(int_of(&PUB, "SELECT count(*) FROM units_conversion") > 3000);
    assert_true(int_of(&PUB, "SELECT count(*) FROM units WHERE era = 'old'") > 10000);
    assert_true(int_of(&PUB, "SELECT count(*) FROM units_old_district") > 600);
    assert_true(int_of(&PUB, "SELECT count(*) FROM units_old_commune") > 10000);
    assert_true(int_of(&PUB, "SELECT count(*) FROM units_gaps") >= 0);
    /* WITH and joins over two tables, a window function, JSON functions */
    json_t *rows =
        rows_of(&PUB, "WITH h AS (SELECT ma_xa, so_ho_so FROM mo_cong_khai)"
                      " SELECT u.name, h.so_ho_so, p.short_name FROM h JOIN units_commune u ON u.code = h.ma_xa"
                      " JOIN units_province p ON p.code = u.province_code ORDER BY h.so_ho_so");
    assert_int_equal(json_array_size(rows), 3);
    assert_string_equal(json_string_value(json_array_get(json_array_get(rows, 0), 0)), "Phường Phố Hiến");
    assert_string_equal(json_string_value(json_array_get(json_array_get(rows, 0), 2)), "Hưng Yên");
    assert_int_equal(int_of(&PUB, "SELECT sum(r) FROM (SELECT row_number() OVER (ORDER BY so_ho_so) AS r"
                                  " FROM mo_cong_khai)"),
                     6);
    assert_int_equal(int_of(&PUB, "SELECT sum(value) FROM json_each('[1,2,3]')"), 6);
    assert_int_equal(int_of(&PUB, "SELECT json_array_length('[1,2]') + ('{\"a\":3}' ->> '$.a')"), 5);
    assert_int_equal(int_of(&PUB, "VALUES (41 + 1)"), 42);
    json_t *plan = rows_of(&PUB, "EXPLAIN QUERY PLAN SELECT * FROM mo_cong_khai WHERE _row = 2");
    assert_true(json_array_size(plan) >= 1);
    json_t *info = rows_of(&PUB, "pragma TABLE_INFO(\"MO_CONG_KHAI\")");
    assert_int_equal(json_array_size(info), 6);
    /* the older version stays readable under its own name */
    assert_int_equal(int_of(&PUB, "SELECT count(*) FROM mo_cong_khai_v1 a JOIN mo_cong_khai_v2 b USING (_row)"), 2);
    /* an error points at the place it concerns */
    run_t *e = run(&PUB, "SELECT khong_co FROM mo_cong_khai");
    assert_int_equal(e->rc, KHO_EINVAL);
    assert_string_equal(kho_err_kind(&e->err), "sql_error");
    assert_string_equal(e->err.msg, "no such column: khong_co");
    assert_int_equal(e->res.offset, 7);
    run_t *s = run(&PUB, "SELECT * FROM mo_cong_khai WHERE AND");
    assert_int_equal(s->rc, KHO_EINVAL);
    assert_string_equal(s->err.msg, "near \"AND\": syntax error");
    assert_int_equal(s->res.offset, 33);
}

/* ---- output ------------------------------------------------------------------------------- */

static void test_json_output(void **state)
{
    (void)state;
    json_t *j = ok(&PUB, "SELECT _row, ma_xa, ty_le, dung_han, ghi_chu, NULL AS n, 0.1 + 0.2 AS f, x'00ff' AS b,"
                         " cast(x'ff41' AS text) AS bad FROM mo_cong_khai ORDER BY _row LIMIT 2");
    json_t *cols = json_object_get(j, "columns");
    assert_int_equal(json_array_size(cols), 9);
    assert_string_equal(json_string_value(json_array_get(cols, 3)), "dung_han");
    assert_int_equal(json_integer_value(json_object_get(j, "row_count")), 2);
    assert_true(json_is_false(json_object_get(j, "truncated")));
    assert_true(json_is_number(json_object_get(j, "time_ms")));
    json_t *r0 = json_array_get(json_object_get(j, "rows"), 0);
    assert_int_equal(json_integer_value(json_array_get(r0, 0)), 1);
    assert_string_equal(json_string_value(json_array_get(r0, 1)), "11953");
    assert_true(json_real_value(json_array_get(r0, 2)) == 0.5);
    assert_true(json_is_true(json_array_get(r0, 3))); /* a boolean column: true/false */
    assert_string_equal(json_string_value(json_array_get(r0, 4)), "a,b");
    assert_true(json_is_null(json_array_get(r0, 5)));
    assert_string_equal(json_string_value(json_object_get(json_array_get(r0, 7), "encoded")), "AP8=");
    assert_string_equal(json_string_value(json_array_get(r0, 8)), "?A");
    run_t *raw = run(&PUB, "SELECT 0.1 + 0.2, 8854.13, 1e308 * 10");
    assert_non_null(strstr(kho_buf_cstr(&raw->out), "[[0.30000000000000004,8854.13,null]]"));
    json_t *r1 = json_array_get(json_object_get(j, "rows"), 1);
    assert_true(json_is_false(json_array_get(r1, 3)));
    /* a computed integer stays a number */
    assert_int_equal(int_of(&PUB, "SELECT dung_han + 0 FROM mo_cong_khai ORDER BY _row"), 1);
}

static void test_csv_and_ndjson_output(void **state)
{
    (void)state;
    const char *sql = "SELECT ma_xa, ghi_chu, dung_han, ty_le, NULL AS n, ma_xa FROM mo_cong_khai ORDER BY _row";
    run_t *c = run_full(&PUB, sql, KHO_OUT_CSV, 100, 1 << 20, 1000);
    assert_int_equal(c->rc, 0);
    assert_string_equal(kho_buf_cstr(&c->out), "ma_xa,ghi_chu,dung_han,ty_le,n,ma_xa\r\n"
                                               "11953,\"a,b\",true,0.5,,11953\r\n"
                                               "12031,,false,0.25,,12031\r\n"
                                               "13279,x,true,1,,13279\r\n");
    run_t *n = run_full(&PUB, sql, KHO_OUT_NDJSON, 100, 1 << 20, 1000);
    assert_int_equal(n->rc, 0);
    const char *first = kho_buf_cstr(&n->out);
    const char *want = "{\"ma_xa\":\"11953\",\"ghi_chu\":\"a,b\",\"dung_han\":true,\"ty_le\":0.5,\"n\":null,"
                       "\"ma_xa_2\":\"11953\"}\n";
    assert_memory_equal(first, want, strlen(want));
    size_t lines = 0;
    for (const char *p = first; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 3);
    run_t *q = run_full(&PUB, "SELECT 'say \"hi\"', ' pad', 'two\nlines'", KHO_OUT_CSV, 100, 1 << 20, 1000);
    assert_non_null(strstr(kho_buf_cstr(&q->out), "\"say \"\"hi\"\"\",\" pad\",\"two\nlines\"\r\n"));
}

static void test_row_and_byte_caps_truncate(void **state)
{
    (void)state;
    run_t *r = run_full(&PUB, "SELECT code FROM units_commune ORDER BY code", KHO_OUT_JSON, 10, 1 << 20, 1000);
    assert_int_equal(r->rc, 0);
    assert_int_equal(r->res.rows, 10);
    assert_true(r->res.truncated);
    json_error_t je;
    json_t *j = json_loads(kho_buf_cstr(&r->out), 0, &je);
    assert_non_null(j);
    assert_true(json_is_true(json_object_get(j, "truncated")));
    assert_int_equal(json_array_size(json_object_get(j, "rows")), 10);
    json_decref(j);
    /* exactly the cap: not truncated */
    run_t *e = run_full(&PUB, "SELECT code FROM units_province", KHO_OUT_CSV, 34, 1 << 20, 1000);
    assert_int_equal(e->res.rows, 34);
    assert_false(e->res.truncated);
    /* the byte cap cuts at a row boundary */
    run_t *b = run_full(&PUB, "SELECT code, name FROM units_commune", KHO_OUT_CSV, 100000, 1000, 1000);
    assert_int_equal(b->rc, 0);
    assert_true(b->res.truncated);
    assert_true(b->out.len <= 1000);
    assert_memory_equal(b->out.data + b->out.len - 2, "\r\n", 2);
    /* big values stop at the byte cap without building the rest */
    run_t *big =
        run_full(&PUB, "SELECT randomblob(9000000) FROM units_commune", KHO_OUT_NDJSON, 1000000, 20 << 20, 5000);
    assert_int_equal(big->rc, 0);
    assert_true(big->res.truncated);
    assert_int_equal(big->res.rows, 1);
}

/* ---- the table list, audit facts, new versions -------------------------------------------- */

static json_t *table_named(json_t *tables, const char *name)
{
    json_t *list = json_object_get(tables, "tables");
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *t = json_array_get(list, i);
        if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0)
            return t;
    }
    return NULL;
}

static json_t *tables_for(const kho_principal_t *who)
{
    json_t *out = NULL;
    kho_err_t err;
    if (kho_sandbox_tables(R, who, &out, &err) != 0)
        fail_msg("tables: %s", err.msg);
    return kt_defer(jdecref, out);
}

static void test_table_list(void **state)
{
    (void)state;
    json_t *pub = tables_for(&PUB);
    assert_non_null(table_named(pub, "mo_cong_khai"));
    assert_non_null(table_named(pub, "mo_cong_khai_v1"));
    assert_non_null(table_named(pub, "units_commune"));
    assert_null(table_named(pub, "rieng_tu"));
    assert_null(table_named(pub, "rieng_tu_v1"));
    assert_null(table_named(pub, "chia_se"));
    char *text = json_dumps(pub, 0);
    assert_null(strstr(text, "rieng-tu"));
    free(text);
    json_t *cur = table_named(pub, "mo_cong_khai");
    assert_string_equal(json_string_value(json_object_get(cur, "dataset")), "mo-cong-khai");
    assert_int_equal(json_integer_value(json_object_get(cur, "version")), 2);
    assert_true(json_is_true(json_object_get(cur, "current")));
    assert_int_equal(json_integer_value(json_object_get(cur, "rows")), 3);
    /* listing order: the current name first */
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(pub, "tables"), 0), "name")),
                        "mo_cong_khai");
    json_t *shared = table_named(tables_for(&ANALYST), "chia_se");
    assert_non_null(shared);
    assert_true(json_is_true(json_object_get(shared, "masked")));
    json_t *c = json_array_get(json_object_get(shared, "columns"), 2);
    assert_string_equal(json_string_value(json_object_get(c, "name")), "ho_va_ten");
    assert_true(json_is_true(json_object_get(c, "personal")));
    assert_true(json_is_true(json_object_get(c, "hidden")));
    json_t *priv = table_named(tables_for(&ADMIN), "rieng_tu");
    assert_non_null(priv);
    assert_true(json_is_false(json_object_get(priv, "masked")));
    json_t *pc = json_array_get(json_object_get(priv, "columns"), 2);
    assert_true(json_is_true(json_object_get(pc, "encrypted")));
    assert_true(json_is_false(json_object_get(pc, "hidden")));
    size_t n;
    const char *const *f = kho_sandbox_functions(&n);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(f[i - 1], f[i]) < 0); /* sorted: looked up by bsearch */
}

static json_t *audit_of(const kho_principal_t *who, const char *sql)
{
    run_t *r = run(who, sql);
    assert_int_equal(r->rc, 0);
    return r->res.audit;
}

static void test_reads_to_audit(void **state)
{
    (void)state;
    assert_null(audit_of(&PUB, "SELECT * FROM mo_cong_khai"));
    assert_null(audit_of(&ANALYST, "SELECT so_luong FROM chia_se")); /* shared, other, no personal column read */
    json_t *a = audit_of(&ADMIN, "SELECT count(*) FROM rieng_tu JOIN mo_cong_khai USING (ma_xa)");
    assert_int_equal(json_array_size(a), 1);
    json_t *e = json_array_get(a, 0);
    assert_string_equal(json_string_value(json_object_get(e, "dataset")), "rieng-tu");
    assert_true(json_is_false(json_object_get(e, "personal")));
    json_t *p = audit_of(&ADMIN, "SELECT ho_va_ten FROM chia_se");
    assert_int_equal(json_array_size(p), 1);
    assert_true(json_is_true(json_object_get(json_array_get(p, 0), "personal")));
    run_t *r = run(&ADMIN, "SELECT ho_va_ten FROM rieng_tu_v1, units_province LIMIT 1");
    assert_int_equal(json_array_size(r->res.tables), 2);
}

static void test_new_versions_are_seen(void **state)
{
    (void)state;
    assert_int_equal(int_of(&PUB, "SELECT count(*) FROM mo_cong_khai"), 3);
    import("mo-cong-khai", OPEN_V1, NULL, NULL, NULL);
    assert_int_equal(int_of(&PUB, "SELECT count(*) FROM mo_cong_khai"), 2);
    assert_int_equal(int_of(&PUB, "SELECT count(*) FROM mo_cong_khai_v3"), 2);
    /* a reclassification takes effect at the next query */
    kho_err_t err;
    assert_int_equal(kho_store_exec(W, "UPDATE datasets SET sharing = 'private' WHERE slug = 'sqlite-x'", &err), 0);
    refused(&PUB, "SELECT count(*) FROM ds_sqlite_x", KHO_EINVAL, "sql_error", "no such table");
    assert_int_equal(kho_store_exec(W, "UPDATE datasets SET sharing = 'open' WHERE slug = 'sqlite-x'", &err), 0);
    assert_int_equal(int_of(&PUB, "SELECT count(*) FROM ds_sqlite_x"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_hostile_statements_refused_and_nothing_changes, kt_cleanup),
        cmocka_unit_test_teardown(test_time_limit_stops_runaway_queries, kt_cleanup),
        cmocka_unit_test_teardown(test_linear_functions_match_sqlite, kt_cleanup),
        cmocka_unit_test_teardown(test_hidden_datasets_look_like_missing_tables, kt_cleanup),
        cmocka_unit_test_teardown(test_private_dataset_matrix, kt_cleanup),
        cmocka_unit_test_teardown(test_personal_columns_refused_for_masked_callers, kt_cleanup),
        cmocka_unit_test_teardown(test_reads_that_are_allowed, kt_cleanup),
        cmocka_unit_test_teardown(test_json_output, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_and_ndjson_output, kt_cleanup),
        cmocka_unit_test_teardown(test_row_and_byte_caps_truncate, kt_cleanup),
        cmocka_unit_test_teardown(test_table_list, kt_cleanup),
        cmocka_unit_test_teardown(test_reads_to_audit, kt_cleanup),
        cmocka_unit_test_teardown(test_new_versions_are_seen, kt_cleanup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
