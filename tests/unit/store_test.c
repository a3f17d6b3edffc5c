/* Unit tests of store/store: what a response cache keys its entries by
 * (kho_store_data_version_at) and the change count behind
 * kho_server_writer_unlock, on real SQLite files in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "core/log.h"
#include "kho_test.h"
#include "store/store.h"

static void store_close(void *p)
{
    kho_store_close(p);
}

/* A writer and a reader of one database, both closed at teardown. */
static void open_pair(kho_store_t **w, kho_store_t **r)
{
    char path[PATH_MAX];
    kho_err_t err;
    snprintf(path, sizeof path, "%s/kho.db", kt_tmpdir("store"));
    assert_int_equal(kho_store_open(path, KHO_STORE_CREATE, NULL, w, &err), 0);
    kt_defer(store_close, *w);
    assert_int_equal(kho_store_exec(*w, "CREATE TABLE t(x)", &err), 0);
    assert_int_equal(kho_store_open(path, KHO_STORE_READONLY, NULL, r, &err), 0);
    kt_defer(store_close, *r);
}

static int64_t at(kho_store_t *s, uint64_t gen, int64_t now)
{
    int64_t v = -1;
    kho_err_t err;
    assert_int_equal(kho_store_data_version_at(s, gen, now, &v, &err), 0);
    return v;
}

/* Within one millisecond and one generation the answer is remembered (a commit
 * of another connection shows at the next millisecond or generation); a change
 * of either with nothing committed keeps the number unless the generation
 * moved. */
static void test_data_version_at(void **state)
{
    (void)state;
    kho_store_t *w, *r;
    kho_err_t err;
    open_pair(&w, &r);
    int64_t v1 = at(r, 0, 1000);
    assert_int_equal(at(r, 0, 1000), v1);
    assert_int_equal(at(r, 0, 1001), v1); /* a new millisecond, nothing written: the same */
    assert_int_equal(kho_store_exec(w, "INSERT INTO t VALUES (1)", &err), 0);
    assert_int_equal(at(r, 0, 1001), v1); /* the same millisecond: not asked again */
    int64_t v2 = at(r, 0, 1002);
    assert_true(v2 != v1); /* the next one sees the other connection's commit */
    assert_int_equal(at(r, 0, 1003), v2);
    assert_int_equal(kho_store_exec(w, "INSERT INTO t VALUES (2)", &err), 0);
    int64_t v3 = at(r, 1, 1003); /* this process committed: seen in the same millisecond */
    assert_true(v3 != v2);
    assert_int_equal(at(r, 1, 1003), v3);
    assert_int_equal(at(r, 1, 1500), v3);
    assert_true(at(r, 2, 1500) != v3); /* a new generation alone moves it (the cache looks again) */
}

/* The plain PRAGMA is unchanged: it moves with the other connection's commits only. */
static void test_data_version(void **state)
{
    (void)state;
    kho_store_t *w, *r;
    kho_err_t err;
    open_pair(&w, &r);
    int64_t a = 0, b = 0, c = 0;
    assert_int_equal(kho_store_data_version(r, &a, &err), 0);
    assert_int_equal(kho_store_data_version(r, &b, &err), 0);
    assert_int_equal(a, b);
    assert_int_equal(kho_store_exec(w, "INSERT INTO t VALUES (1)", &err), 0);
    assert_int_equal(kho_store_data_version(r, &c, &err), 0);
    assert_true(c != b);
}

/* Rows changed by this connection, rolled-back ones included; a read changes nothing. */
static void test_total_changes(void **state)
{
    (void)state;
    kho_store_t *w, *r;
    kho_err_t err;
    open_pair(&w, &r);
    int64_t n0 = kho_store_total_changes(w);
    assert_int_equal(kho_store_exec(w, "INSERT INTO t VALUES (1), (2)", &err), 0);
    assert_int_equal(kho_store_total_changes(w), n0 + 2);
    int64_t count = 0;
    assert_int_equal(kho_store_query_int(w, "SELECT count(*) FROM t", &count, &err), 0);
    assert_int_equal(count, 2);
    assert_int_equal(kho_store_total_changes(w), n0 + 2);
    assert_int_equal(kho_store_begin(w, true, &err), 0);
    assert_int_equal(kho_store_exec(w, "DELETE FROM t", &err), 0);
    kho_store_rollback(w);
    assert_int_equal(kho_store_total_changes(w), n0 + 4);
    assert_int_equal(kho_store_total_changes(r), 0);
}

int main(void)
{
    kho_log_set_level(KHO_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_data_version_at, kt_cleanup),
        cmocka_unit_test_teardown(test_data_version, kt_cleanup),
        cmocka_unit_test_teardown(test_total_changes, kt_cleanup),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
