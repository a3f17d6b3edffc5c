/* Unit tests of security/audit: the audit log of a temporary data directory
 * (signing key made at create), entries as the documented JSON, foreground and
 * background (queued, flushed) modes, checkpoints, verification with the public
 * key, and detection of tampering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "kho_test.h"
#include "security/audit.h"
#include "security/keys.h"
#include "security/tlog.h"

/* ---- helpers ------------------------------------------------------------------------ */

static void config_free_v(void *p)
{
    kho_config_free(p);
}

static void jdecref(void *p)
{
    json_decref(p);
}

static void audit_close_v(void *p)
{
    kho_audit_close(p);
}

static kho_config_t *config(void)
{
    return kt_defer(config_free_v, kho_config_defaults());
}

/* A data directory with its keys directory (as kho init makes it). */
static const char *datadir(void)
{
    const char *dir = kt_tmpdir("audit");
    char keys[256];
    snprintf(keys, sizeof keys, "%s/keys", dir);
    if (mkdir(keys, 0700) != 0)
        fail_msg("mkdir %s", keys);
    return dir;
}

static const char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = kt_malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static kho_audit_t *open_audit(const char *dir, const kho_config_t *cfg, bool create, bool background)
{
    kho_audit_t *a = NULL;
    kho_err_t err = {0};
    if (kho_audit_open(dir, cfg, create, background, &a, &err) != 0)
        fail_msg("audit_open: %s", err.msg);
    /* closed at teardown, or earlier by the test with kt_release (closing is part of what is tested) */
    return kt_defer(audit_close_v, a);
}

/* Entry i of the log as JSON (kept until teardown). */
static json_t *entry(kho_tlog_t *log, uint64_t i)
{
    kho_buf_t *b = kt_buf();
    kho_err_t err;
    if (kho_tlog_entry(log, i, b, &err) != 0)
        fail_msg("entry %llu: %s", (unsigned long long)i, err.msg);
    json_error_t je;
    json_t *j = json_loadb(b->data, b->len, 0, &je);
    if (!j)
        fail_msg("entry %llu is not JSON: %s", (unsigned long long)i, je.text);
    if (!json_is_object(j))
        fail_msg("entry %llu is not an object", (unsigned long long)i);
    /* one compact object: no newline, no indentation */
    if (memchr(b->data, '\n', b->len))
        fail_msg("entry %llu is not compact", (unsigned long long)i);
    return kt_defer(jdecref, j);
}

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* "2026-11-22T02:47:31.577Z" */
static bool is_utc_ms(const char *t)
{
    if (!t || strlen(t) != 24)
        return false;
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; i < 24; i++)
        if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i])
            return false;
    return true;
}

/* Verify the log of a data directory with the public key: the number of problems. */
static size_t verify(const char *dir, const unsigned char pk[32], char *report, size_t size)
{
    kho_tlog_t *log = NULL;
    kho_err_t err;
    if (kho_tlog_open(path_in(dir, "audit.db"), "kho/audit", NULL, &log, &err) != 0)
        fail_msg("tlog_open: %s", err.msg);
    memset(report, 0, size);
    FILE *f = fmemopen(report, size, "w");
    size_t problems = 0;
    int rc = kho_tlog_verify(log, pk, f, &problems, &err);
    fclose(f);
    kho_tlog_close(log);
    assert_int_equal(rc, 0);
    return problems;
}

static uint64_t latest_size(const char *dir)
{
    kho_tlog_t *log = NULL;
    kho_err_t err;
    if (kho_tlog_open(path_in(dir, "audit.db"), "kho/audit", NULL, &log, &err) != 0)
        fail_msg("tlog_open: %s", err.msg);
    kho_buf_t note = KHO_BUF_INIT;
    uint64_t size = 0;
    int rc = kho_tlog_latest(log, &note, &size, &err);
    kho_buf_free(&note);
    kho_tlog_close(log);
    return rc == 0 ? size : 0;
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_open_creates_key(void **state)
{
    (void)state;
    const char *dir = datadir();
    const kho_config_t *cfg = config();
    kho_audit_t *a = NULL;
    kho_err_t err;
    /* without create, a missing key is an error and nothing is made */
    assert_int_not_equal(kho_audit_open(dir, cfg, false, false, &a, &err), 0);
    assert_int_not_equal(access(path_in(dir, "keys/audit.key"), F_OK), 0);
    a = open_audit(dir, cfg, true, false);
    const char *keypath = path_in(dir, "keys/audit.key");
    struct stat st;
    assert_int_equal(stat(keypath, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 32);
    /* the public key is the one of the seed on disk */
    unsigned char seed[32], pk[32];
    assert_int_equal(kho_keyfile_read(keypath, seed, sizeof seed, &err), 0);
    kho_tlog_public_key(seed, pk);
    assert_memory_equal(kho_audit_public_key(a), pk, 32);
    assert_string_equal(kho_tlog_origin(kho_audit_log(a)), "kho/audit");
    assert_int_equal(kho_tlog_size(kho_audit_log(a)), 0);
    kt_release(a);
    /* reopened (with or without create): the same key */
    a = open_audit(dir, cfg, true, false);
    assert_memory_equal(kho_audit_public_key(a), pk, 32);
    kt_release(a);
    a = open_audit(dir, cfg, false, false);
    assert_memory_equal(kho_audit_public_key(a), pk, 32);
    kt_release(a);
    /* a lost key is not silently replaced while the log exists */
    assert_int_equal(unlink(keypath), 0);
    assert_int_not_equal(kho_audit_open(dir, cfg, true, false, &a, &err), 0);
    assert_int_not_equal(access(keypath, F_OK), 0);
    /* a key readable by others is refused */
    assert_int_equal(kho_keyfile_write(keypath, seed, sizeof seed, &err), 0);
    assert_int_equal(chmod(keypath, 0644), 0);
    assert_int_not_equal(kho_audit_open(dir, cfg, false, false, &a, &err), 0);
    assert_int_equal(chmod(keypath, 0600), 0);
    a = open_audit(dir, cfg, false, false);
    kt_release(a);
    kho_audit_close(NULL); /* allowed */
}

static void test_foreground_entries(void **state)
{
    (void)state;
    const char *dir = datadir();
    const kho_config_t *cfg = config();
    kho_audit_t *a = open_audit(dir, cfg, true, false);
    kho_audit_who_t alice = {"alice", "steward", "session", "127.0.0.1"};
    assert_int_equal(kho_audit_record(a, &alice, "read", "dataset:tro-cap-xa-hoi",
                                      json_pack("{s:i,s:b}", "rows", 20, "masked", 1)),
                     0);
    kho_audit_who_t cli = {"cli:kho", "admin", "cli", NULL};
    assert_int_equal(kho_audit_record(a, &cli, "user_add", "user:binh", NULL), 0);
    assert_int_equal(kho_audit_record(a, NULL, "login_failed", NULL, json_pack("{s:s}", "name", "Nguyễn Văn An")), 0);
    kho_audit_who_t key = {"binh", "analyst", "key:12", "2001:db8::1"};
    assert_int_equal(kho_audit_record(a, &key, "export", "dataset:dan-so", NULL), 0);
    /* foreground: appended at once */
    kho_tlog_t *log = kho_audit_log(a);
    assert_int_equal(kho_tlog_size(log), 4);
    json_t *e = entry(log, 0);
    assert_true(is_utc_ms(str(e, "time")));
    assert_string_equal(str(e, "actor"), "alice");
    assert_string_equal(str(e, "role"), "steward");
    assert_string_equal(str(e, "via"), "session");
    assert_string_equal(str(e, "ip"), "127.0.0.1");
    assert_string_equal(str(e, "action"), "read");
    assert_string_equal(str(e, "target"), "dataset:tro-cap-xa-hoi");
    json_t *d = json_object_get(e, "details");
    assert_true(json_is_object(d));
    assert_int_equal(json_integer_value(json_object_get(d, "rows")), 20);
    assert_true(json_is_true(json_object_get(d, "masked")));
    /* the time is now (UTC) */
    char now[8];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y", &tm);
    assert_memory_equal(str(e, "time"), now, 4);
    /* the CLI: no ip, no details */
    e = entry(log, 1);
    assert_string_equal(str(e, "actor"), "cli:kho");
    assert_string_equal(str(e, "via"), "cli");
    assert_null(json_object_get(e, "ip"));
    assert_null(json_object_get(e, "details"));
    assert_string_equal(str(e, "target"), "user:binh");
    /* nobody: the anonymous public; no target */
    e = entry(log, 2);
    assert_string_equal(str(e, "actor"), "anonymous");
    assert_string_equal(str(e, "role"), "public");
    assert_string_equal(str(e, "via"), "anonymous");
    assert_string_equal(str(e, "action"), "login_failed");
    assert_null(json_object_get(e, "target"));
    assert_string_equal(str(json_object_get(e, "details"), "name"), "Nguyễn Văn An");
    e = entry(log, 3);
    assert_string_equal(str(e, "via"), "key:12");
    assert_string_equal(str(e, "ip"), "2001:db8::1");
    /* foreground: the checkpoint is written at close */
    kt_release(a);
    assert_int_equal(latest_size(dir), 4);
    char report[4096];
    unsigned char pk[32], seed[32];
    kho_err_t err;
    assert_int_equal(kho_keyfile_read(path_in(dir, "keys/audit.key"), seed, sizeof seed, &err), 0);
    kho_tlog_public_key(seed, pk);
    if (verify(dir, pk, report, sizeof report) != 0)
        fail_msg("verify: %s", report);
    /* reopened, more entries follow the old ones */
    a = open_audit(dir, cfg, false, false);
    assert_int_equal(kho_tlog_size(kho_audit_log(a)), 4);
    assert_int_equal(kho_audit_record(a, &alice, "logout", NULL, NULL), 0);
    assert_int_equal(kho_audit_flush(a, &err), 0);
    kt_release(a);
    assert_int_equal(latest_size(dir), 5);
    assert_int_equal(verify(dir, pk, report, sizeof report), 0);
}

/* Text that needs escaping, and other people's text, goes in intact. */
static void test_hostile_text(void **state)
{
    (void)state;
    const char *dir = datadir();
    const kho_config_t *cfg = config();
    kho_audit_t *a = open_audit(dir, cfg, true, false);
    static const char *const texts[] = {
        "\"},\"actor\":\"admin",     "line\nbreak",  "tab\there", "back\\slash", "<script>alert(1)</script>",
        "Đặng Thị Ánh — 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "'; DROP TABLE entries; --", "",
    };
    size_t n = sizeof texts / sizeof texts[0];
    for (size_t i = 0; i < n; i++) {
        kho_audit_who_t who = {texts[i], "analyst", "session", texts[i]};
        assert_int_equal(kho_audit_record(a, &who, texts[i], texts[i], json_pack("{s:s}", "q", texts[i])), 0);
    }
    kho_tlog_t *log = kho_audit_log(a);
    assert_int_equal(kho_tlog_size(log), n);
    for (size_t i = 0; i < n; i++) {
        json_t *e = entry(log, i);
        assert_string_equal(str(e, "actor"), texts[i]);
        assert_string_equal(str(e, "role"), "analyst");
        assert_string_equal(str(e, "action"), texts[i]);
        assert_string_equal(str(e, "target"), texts[i]);
        assert_string_equal(str(e, "ip"), texts[i]);
        assert_string_equal(str(json_object_get(e, "details"), "q"), texts[i]);
        assert_int_equal(json_object_size(e), 8); /* time actor role via ip action target details */
    }
    kt_release(a);
}

/* An event whose details are too large for one log entry is still recorded. */
static void test_oversized_details(void **state)
{
    (void)state;
    const char *dir = datadir();
    const kho_config_t *cfg = config();
    kho_audit_t *a = open_audit(dir, cfg, true, false);
    size_t n = 100000;
    char *big = kt_malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    kho_audit_who_t who = {"alice", "steward", "session", "10.0.0.1"};
    assert_int_equal(kho_audit_record(a, &who, "import", "dataset:lon", json_pack("{s:s}", "note", big)), 0);
    kho_tlog_t *log = kho_audit_log(a);
    assert_int_equal(kho_tlog_size(log), 1);
    json_t *e = entry(log, 0);
    assert_string_equal(str(e, "actor"), "alice");
    assert_string_equal(str(e, "action"), "import");
    assert_string_equal(str(e, "target"), "dataset:lon");
    json_t *d = json_object_get(e, "details");
    assert_true(json_is_object(d));
    assert_null(json_object_get(d, "note"));
    assert_true(json_is_true(json_object_get(d, "truncated")));
    /* it says how large the dropped entry was */
    json_int_t bytes = json_integer_value(json_object_get(d, "bytes"));
    if (bytes <= (json_int_t)n)
        fail_msg("the truncated entry reports %lld bytes, the entry had more than %zu", (long long)bytes, n);
    kt_release(a);
}

typedef struct {
    kho_audit_t *a;
    int id, count;
} rec_t;

static void *recorder(void *arg)
{
    rec_t *r = arg;
    char actor[32];
    snprintf(actor, sizeof actor, "worker%d", r->id);
    kho_audit_who_t who = {actor, "analyst", "session", "127.0.0.1"};
    for (int i = 0; i < r->count; i++)
        if (kho_audit_record(r->a, &who, "read", "dataset:x", json_pack("{s:i,s:i}", "worker", r->id, "i", i)) != 0)
            return (void *)1;
    return NULL;
}

static void test_background_flush_and_close(void **state)
{
    (void)state;
    const char *dir = datadir();
    const kho_config_t *cfg = config();
    kho_audit_t *a = open_audit(dir, cfg, true, true);
    enum { THREADS = 4, EACH = 100 };
    pthread_t t[THREADS];
    rec_t r[THREADS];
    for (int i = 0; i < THREADS; i++) {
        r[i] = (rec_t){a, i, EACH};
        assert_int_equal(pthread_create(&t[i], NULL, recorder, &r[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        assert_null(ret);
    }
    kho_err_t err;
    assert_int_equal(kho_audit_flush(a, &err), 0);
    kho_tlog_t *log = kho_audit_log(a);
    assert_int_equal(kho_tlog_size(log), THREADS * EACH);
    /* every event exactly once, each worker's in its own order */
    int next[THREADS] = {0};
    for (uint64_t i = 0; i < THREADS * EACH; i++) {
        json_t *e = entry(log, i);
        json_t *d = json_object_get(e, "details");
        int w = (int)json_integer_value(json_object_get(d, "worker"));
        int k = (int)json_integer_value(json_object_get(d, "i"));
        assert_true(w >= 0 && w < THREADS);
        assert_int_equal(k, next[w]);
        next[w]++;
        char actor[32];
        snprintf(actor, sizeof actor, "worker%d", w);
        assert_string_equal(str(e, "actor"), actor);
        assert_true(is_utc_ms(str(e, "time")));
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(next[i], EACH);
    /* a few more, not flushed: close commits them and checkpoints */
    kho_audit_who_t who = {"alice", "admin", "session", "127.0.0.1"};
    for (int i = 0; i < 7; i++)
        assert_int_equal(kho_audit_record(a, &who, "logout", NULL, NULL), 0);
    unsigned char pk[32];
    memcpy(pk, kho_audit_public_key(a), sizeof pk);
    kt_release(a);
    assert_int_equal(latest_size(dir), THREADS * EACH + 7);
    char report[4096];
    if (verify(dir, pk, report, sizeof report) != 0)
        fail_msg("verify: %s", report);
    /* flush with nothing queued returns at once */
    a = open_audit(dir, cfg, false, true);
    assert_int_equal(kho_audit_flush(a, &err), 0);
    assert_int_equal(kho_tlog_size(kho_audit_log(a)), THREADS * EACH + 7);
    kt_release(a);
}

/* Background mode checkpoints every audit_checkpoint_entries entries while it runs. */
static void test_background_checkpoints(void **state)
{
    (void)state;
    const char *dir = datadir();
    kho_config_t *cfg = config();
    kho_err_t err;
    assert_int_equal(kho_config_set(cfg, "audit_checkpoint_entries", "10", &err), 0);
    kho_audit_t *a = open_audit(dir, cfg, true, true);
    kho_audit_who_t who = {"alice", "admin", "session", "127.0.0.1"};
    for (int i = 0; i < 25; i++)
        assert_int_equal(kho_audit_record(a, &who, "read", "dataset:x", NULL), 0);
    assert_int_equal(kho_audit_flush(a, &err), 0);
    assert_int_equal(kho_tlog_size(kho_audit_log(a)), 25);
    /* the checkpoint follows the commit: wait for it (at most 5 s) */
    uint64_t size = 0;
    for (int i = 0; i < 500 && size < 10; i++) {
        kho_buf_t note = KHO_BUF_INIT;
        if (kho_tlog_latest(kho_audit_log(a), &note, &size, &err) != 0)
            size = 0;
        kho_buf_free(&note);
        if (size < 10) {
            struct timespec ms10 = {0, 10 * 1000000L};
            nanosleep(&ms10, NULL);
        }
    }
    assert_true(size >= 10);
    unsigned char pk[32];
    memcpy(pk, kho_audit_public_key(a), sizeof pk);
    kt_release(a);
    assert_int_equal(latest_size(dir), 25);
    char report[4096];
    assert_int_equal(verify(dir, pk, report, sizeof report), 0);
}

static int exec_sql(const char *dir, const char *sql)
{
    sqlite3 *db;
    if (sqlite3_open(path_in(dir, "audit.db"), &db) != SQLITE_OK)
        return -1;
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static void test_tampering_detected(void **state)
{
    (void)state;
    const char *dir = datadir();
    const kho_config_t *cfg = config();
    kho_audit_t *a = open_audit(dir, cfg, true, false);
    kho_audit_who_t who = {"alice", "steward", "session", "127.0.0.1"};
    for (int i = 0; i < 12; i++) {
        char target[32];
        snprintf(target, sizeof target, "dataset:d%d", i);
        assert_int_equal(kho_audit_record(a, &who, "read", target, NULL), 0);
    }
    unsigned char pk[32];
    memcpy(pk, kho_audit_public_key(a), sizeof pk);
    kt_release(a);
    char report[4096];
    assert_int_equal(verify(dir, pk, report, sizeof report), 0);
    /* someone rewrites who read dataset d5 */
    assert_int_equal(exec_sql(dir, "UPDATE entries SET data = CAST(replace(CAST(data AS TEXT), 'alice', 'bobby')"
                                   " AS BLOB) WHERE idx = 5"),
                     0);
    assert_true(verify(dir, pk, report, sizeof report) > 0);
    assert_non_null(strstr(report, "entry 5"));
    /* another key does not verify the checkpoints */
    assert_int_equal(exec_sql(dir, "UPDATE entries SET data = CAST(replace(CAST(data AS TEXT), 'bobby', 'alice')"
                                   " AS BLOB) WHERE idx = 5"),
                     0);
    assert_int_equal(verify(dir, pk, report, sizeof report), 0);
    unsigned char other[32];
    memcpy(other, pk, sizeof other);
    other[0] ^= 1;
    assert_true(verify(dir, other, report, sizeof report) > 0);
}

int main(void)
{
    kho_log_set_level(KHO_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_open_creates_key, kt_cleanup),
        cmocka_unit_test_teardown(test_foreground_entries, kt_cleanup),
        cmocka_unit_test_teardown(test_hostile_text, kt_cleanup),
        cmocka_unit_test_teardown(test_oversized_details, kt_cleanup),
        cmocka_unit_test_teardown(test_background_flush_and_close, kt_cleanup),
        cmocka_unit_test_teardown(test_background_checkpoints, kt_cleanup),
        cmocka_unit_test_teardown(test_tampering_detected, kt_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
