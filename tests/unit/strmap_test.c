/* Unit tests of core/strmap: insert, replace, lookup, growth, binary keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strmap.h"

static void put(kho_strmap_t *m, const char *k, size_t v)
{
    kho_strmap_put(m, k, strlen(k), v);
}

static bool get(const kho_strmap_t *m, const char *k, size_t *v)
{
    return kho_strmap_get(m, k, strlen(k), v);
}

static void test_empty_map(void **state)
{
    (void)state;
    kho_strmap_t *m = kho_strmap_new();
    assert_int_equal(kho_strmap_count(m), 0);
    size_t v = 77;
    assert_false(get(m, "a", &v));
    assert_int_equal(v, 77); /* untouched when absent */
    assert_false(get(m, "", &v));
    kho_strmap_free(m);
    kho_strmap_free(NULL); /* allowed */
}

static void test_put_get_replace(void **state)
{
    (void)state;
    kho_strmap_t *m = kho_strmap_new();
    put(m, "dan_so", 1);
    put(m, "ten", 2);
    put(m, "Dân số", 3);
    assert_int_equal(kho_strmap_count(m), 3);
    size_t v = 0;
    assert_true(get(m, "dan_so", &v));
    assert_int_equal(v, 1);
    assert_true(get(m, "ten", &v));
    assert_int_equal(v, 2);
    assert_true(get(m, "Dân số", &v));
    assert_int_equal(v, 3);
    assert_false(get(m, "Dan so", &v));
    assert_false(get(m, "dan_s", &v));
    assert_false(get(m, "dan_so_", &v));
    assert_true(get(m, "ten", NULL)); /* value pointer optional */
    /* replacing keeps the count */
    put(m, "ten", 20);
    assert_int_equal(kho_strmap_count(m), 3);
    assert_true(get(m, "ten", &v));
    assert_int_equal(v, 20);
    /* SIZE_MAX and 0 are ordinary values */
    put(m, "max", SIZE_MAX);
    put(m, "zero", 0);
    assert_true(get(m, "max", &v));
    assert_int_equal(v, SIZE_MAX);
    assert_true(get(m, "zero", &v));
    assert_int_equal(v, 0);
    kho_strmap_free(m);
}

static void test_keys_are_copied(void **state)
{
    (void)state;
    kho_strmap_t *m = kho_strmap_new();
    char key[16];
    snprintf(key, sizeof key, "abc");
    put(m, key, 5);
    snprintf(key, sizeof key, "xyz");
    size_t v = 0;
    assert_true(get(m, "abc", &v));
    assert_int_equal(v, 5);
    assert_false(get(m, "xyz", &v));
    kho_strmap_free(m);
}

static void test_lengths_and_binary_keys(void **state)
{
    (void)state;
    kho_strmap_t *m = kho_strmap_new();
    kho_strmap_put(m, "abcdef", 2, 1); /* "ab" */
    kho_strmap_put(m, "abcdef", 3, 2); /* "abc" */
    kho_strmap_put(m, "", 0, 3);       /* the empty key */
    kho_strmap_put(m, "a\0b", 3, 4);   /* embedded NUL */
    kho_strmap_put(m, "a\0c", 3, 5);
    kho_strmap_put(m, "a", 1, 6);
    assert_int_equal(kho_strmap_count(m), 6);
    size_t v = 0;
    assert_true(kho_strmap_get(m, "ab", 2, &v));
    assert_int_equal(v, 1);
    assert_true(kho_strmap_get(m, "abc", 3, &v));
    assert_int_equal(v, 2);
    assert_true(kho_strmap_get(m, "xyz", 0, &v));
    assert_int_equal(v, 3);
    assert_true(kho_strmap_get(m, "a\0b", 3, &v));
    assert_int_equal(v, 4);
    assert_true(kho_strmap_get(m, "a\0c", 3, &v));
    assert_int_equal(v, 5);
    assert_true(kho_strmap_get(m, "a\0d", 1, &v));
    assert_int_equal(v, 6);
    assert_false(kho_strmap_get(m, "a\0d", 3, &v));
    kho_strmap_free(m);
}

static void test_growth_keeps_every_key(void **state)
{
    (void)state;
    kho_strmap_t *m = kho_strmap_new();
    char k[32];
    const size_t n = 50000;
    for (size_t i = 0; i < n; i++) {
        snprintf(k, sizeof k, "key-%zu", i);
        put(m, k, i * 3);
        if (i % 4999 == 0)
            assert_int_equal(kho_strmap_count(m), i + 1);
    }
    assert_int_equal(kho_strmap_count(m), n);
    for (size_t i = 0; i < n; i++) {
        snprintf(k, sizeof k, "key-%zu", i);
        size_t v = 0;
        if (!get(m, k, &v) || v != i * 3)
            fail_msg("lost %s after growth", k);
    }
    for (size_t i = n; i < n + 1000; i++) {
        snprintf(k, sizeof k, "key-%zu", i);
        assert_false(get(m, k, NULL));
    }
    /* overwrite half, count unchanged */
    for (size_t i = 0; i < n; i += 2) {
        snprintf(k, sizeof k, "key-%zu", i);
        put(m, k, 1);
    }
    assert_int_equal(kho_strmap_count(m), n);
    size_t v = 0;
    assert_true(get(m, "key-2", &v));
    assert_int_equal(v, 1);
    assert_true(get(m, "key-3", &v));
    assert_int_equal(v, 9);
    kho_strmap_free(m);
}

static void test_long_keys(void **state)
{
    (void)state;
    kho_strmap_t *m = kho_strmap_new();
    size_t n = 100000;
    char *a = malloc(n), *b = malloc(n);
    memset(a, 'x', n);
    memcpy(b, a, n);
    b[n - 1] = 'y'; /* differs only in the last byte */
    kho_strmap_put(m, a, n, 1);
    kho_strmap_put(m, b, n, 2);
    size_t v = 0;
    assert_true(kho_strmap_get(m, a, n, &v));
    assert_int_equal(v, 1);
    assert_true(kho_strmap_get(m, b, n, &v));
    assert_int_equal(v, 2);
    assert_false(kho_strmap_get(m, a, n - 1, &v));
    kho_strmap_free(m);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_map),
        cmocka_unit_test(test_put_get_replace),
        cmocka_unit_test(test_keys_are_copied),
        cmocka_unit_test(test_lengths_and_binary_keys),
        cmocka_unit_test(test_growth_keeps_every_key),
        cmocka_unit_test(test_long_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
