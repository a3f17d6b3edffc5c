/* Unit tests of warehouse/quality: nulls, distinct (exact and HyperLogLog), min/max. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "warehouse/quality.h"

static void text(kho_colstats_t *s, const char *v)
{
    kho_colstats_text(s, v, strlen(v));
}

static json_t *to_json(const kho_colstats_t *s)
{
    json_t *o = json_object();
    kho_colstats_to_json(s, o);
    return o;
}

static void test_empty_column(void **state)
{
    (void)state;
    kho_colstats_t s;
    kho_colstats_init(&s, KHO_TYPE_INTEGER, 1000);
    bool est = true;
    assert_int_equal(kho_colstats_distinct(&s, &est), 0);
    assert_false(est);
    json_t *o = to_json(&s);
    assert_int_equal(json_integer_value(json_object_get(o, "nulls")), 0);
    assert_int_equal(json_integer_value(json_object_get(o, "distinct")), 0);
    assert_true(json_is_false(json_object_get(o, "distinct_is_estimate")));
    assert_true(json_is_null(json_object_get(o, "min")));
    assert_true(json_is_null(json_object_get(o, "max")));
    json_decref(o);
    kho_colstats_free(&s);
}

static void test_nulls_only(void **state)
{
    (void)state;
    kho_colstats_t s;
    kho_colstats_init(&s, KHO_TYPE_TEXT, 1000);
    for (int i = 0; i < 7; i++)
        kho_colstats_null(&s);
    assert_int_equal(s.nulls, 7);
    assert_int_equal(s.values, 0);
    json_t *o = to_json(&s);
    assert_int_equal(json_integer_value(json_object_get(o, "nulls")), 7);
    assert_int_equal(json_integer_value(json_object_get(o, "distinct")), 0);
    assert_true(json_is_null(json_object_get(o, "min")));
    json_decref(o);
    kho_colstats_free(&s);
}

static void test_integers_exact(void **state)
{
    (void)state;
    kho_colstats_t s;
    kho_colstats_init(&s, KHO_TYPE_INTEGER, 1000);
    static const int64_t v[] = {3, -5, 10, 3, 3, 0, -5, INT64_MAX, INT64_MIN, 0};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        kho_colstats_int(&s, v[i]);
    kho_colstats_null(&s);
    kho_colstats_null(&s);
    bool est = true;
    assert_int_equal(kho_colstats_distinct(&s, &est), 6);
    assert_false(est);
    assert_int_equal(s.values, 10);
    assert_int_equal(s.nulls, 2);
    json_t *o = to_json(&s);
    assert_int_equal(json_integer_value(json_object_get(o, "nulls")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "distinct")), 6);
    assert_true(json_is_false(json_object_get(o, "distinct_is_estimate")));
    assert_true(json_is_integer(json_object_get(o, "min")));
    assert_int_equal(json_integer_value(json_object_get(o, "min")), INT64_MIN);
    assert_int_equal(json_integer_value(json_object_get(o, "max")), INT64_MAX);
    json_decref(o);
    kho_colstats_free(&s);

    /* a single value is both min and max; 0 is a value like any other */
    kho_colstats_init(&s, KHO_TYPE_INTEGER, 1000);
    kho_colstats_int(&s, 0);
    o = to_json(&s);
    assert_int_equal(json_integer_value(json_object_get(o, "min")), 0);
    assert_int_equal(json_integer_value(json_object_get(o, "max")), 0);
    assert_int_equal(json_integer_value(json_object_get(o, "distinct")), 1);
    json_decref(o);
    kho_colstats_free(&s);

    /* all negative: min/max are not stuck at an initial 0 */
    kho_colstats_init(&s, KHO_TYPE_INTEGER, 1000);
    kho_colstats_int(&s, -7);
    kho_colstats_int(&s, -3);
    o = to_json(&s);
    assert_int_equal(json_integer_value(json_object_get(o, "min")), -7);
    assert_int_equal(json_integer_value(json_object_get(o, "max")), -3);
    json_decref(o);
    kho_colstats_free(&s);
}

static void test_reals(void **state)
{
    (void)state;
    kho_colstats_t s;
    kho_colstats_init(&s, KHO_TYPE_REAL, 1000);
    kho_colstats_real(&s, 2.5);
    kho_colstats_real(&s, -1.25);
    kho_colstats_real(&s, 0.0);
    kho_colstats_real(&s, -0.0); /* the same value as 0 */
    kho_colstats_real(&s, 2.5);
    kho_colstats_real(&s, 8854.13);
    bool est;
    assert_int_equal(kho_colstats_distinct(&s, &est), 4);
    json_t *o = to_json(&s);
    assert_true(json_is_real(json_object_get(o, "min")));
    assert_true(json_real_value(json_object_get(o, "min")) == -1.25);
    assert_true(json_real_value(json_object_get(o, "max")) == 8854.13);
    json_decref(o);
    kho_colstats_free(&s);

    kho_colstats_init(&s, KHO_TYPE_REAL, 1000);
    kho_colstats_real(&s, -3.5);
    kho_colstats_real(&s, -2.0);
    o = to_json(&s);
    assert_true(json_real_value(json_object_get(o, "min")) == -3.5);
    assert_true(json_real_value(json_object_get(o, "max")) == -2.0);
    json_decref(o);
    kho_colstats_free(&s);
}

static void test_text_min_max(void **state)
{
    (void)state;
    kho_colstats_t s;
    kho_colstats_init(&s, KHO_TYPE_TEXT, 1000);
    text(&s, "b");
    text(&s, "ab");
    text(&s, "a");
    text(&s, "c");
    text(&s, "b");
    text(&s, "abc");
    bool est;
    assert_int_equal(kho_colstats_distinct(&s, &est), 5);
    assert_string_equal(s.smin, "a"); /* a prefix sorts first */
    assert_string_equal(s.smax, "c");
    json_t *o = to_json(&s);
    assert_string_equal(json_string_value(json_object_get(o, "min")), "a");
    assert_string_equal(json_string_value(json_object_get(o, "max")), "c");
    json_decref(o);
    kho_colstats_free(&s);

    /* byte order: "Đ" (0xC4...) sorts after ASCII letters; the empty string first */
    kho_colstats_init(&s, KHO_TYPE_TEXT, 1000);
    text(&s, "Zebra");
    text(&s, "Đà Nẵng");
    text(&s, "");
    text(&s, "Hà Nội");
    assert_string_equal(s.smin, "");
    assert_string_equal(s.smax, "Đà Nẵng");
    kho_colstats_free(&s);

    /* the length matters, not a NUL terminator */
    kho_colstats_init(&s, KHO_TYPE_TEXT, 1000);
    kho_colstats_text(&s, "middle-and-more", 6);
    kho_colstats_text(&s, "zzz", 3);
    kho_colstats_text(&s, "aaa", 1);
    assert_string_equal(s.smin, "a");
    assert_string_equal(s.smax, "zzz");
    assert_int_equal(kho_colstats_distinct(&s, &est), 3);
    kho_colstats_free(&s);
}

static void test_dates_compare_as_text(void **state)
{
    (void)state;
    kho_colstats_t s;
    kho_colstats_init(&s, KHO_TYPE_DATE, 1000);
    text(&s, "2024-03-31");
    text(&s, "1999-12-09");
    text(&s, "2025-07-01");
    json_t *o = to_json(&s);
    assert_string_equal(json_string_value(json_object_get(o, "min")), "1999-12-09");
    assert_string_equal(json_string_value(json_object_get(o, "max")), "2025-07-01");
    json_decref(o);
    kho_colstats_free(&s);
}

static void test_long_text_excerpted_in_json(void **state)
{
    (void)state;
    char longv[400] = "";
    size_t k = 0;
    for (int i = 0; i < 100; i++)
        k += (size_t)snprintf(longv + k, sizeof longv - k, "ữ"); /* 300 bytes */
    kho_colstats_t s;
    kho_colstats_init(&s, KHO_TYPE_TEXT, 1000);
    text(&s, longv);
    assert_int_equal(strlen(s.smin), 300); /* kept whole in memory */
    json_t *o = to_json(&s);
    const char *mn = json_string_value(json_object_get(o, "min"));
    assert_non_null(mn);               /* valid UTF-8, else jansson would refuse it */
    assert_int_equal(strlen(mn), 117); /* 39 whole characters fit in 119 bytes */
    assert_memory_equal(mn, longv, 117);
    json_decref(o);
    kho_colstats_free(&s);
}

static void test_boolean_min_max(void **state)
{
    (void)state;
    kho_colstats_t s;
    kho_colstats_init(&s, KHO_TYPE_BOOLEAN, 1000);
    kho_colstats_int(&s, 1);
    kho_colstats_int(&s, 1);
    json_t *o = to_json(&s);
    assert_true(json_is_true(json_object_get(o, "min")));
    assert_true(json_is_true(json_object_get(o, "max")));
    json_decref(o);
    kho_colstats_int(&s, 0);
    o = to_json(&s);
    assert_true(json_is_false(json_object_get(o, "min")));
    assert_true(json_is_true(json_object_get(o, "max")));
    assert_int_equal(json_integer_value(json_object_get(o, "distinct")), 2);
    json_decref(o);
    kho_colstats_free(&s);
}

static void test_exact_up_to_limit(void **state)
{
    (void)state;
    kho_colstats_t s;
    kho_colstats_init(&s, KHO_TYPE_INTEGER, 1000);
    for (int64_t i = 0; i < 1000; i++) {
        kho_colstats_int(&s, i * 7919);
        kho_colstats_int(&s, i * 7919); /* duplicates do not count */
    }
    bool est = true;
    assert_int_equal(kho_colstats_distinct(&s, &est), 1000);
    assert_false(est);
    kho_colstats_free(&s);

    /* text values exactly too */
    kho_colstats_init(&s, KHO_TYPE_TEXT, 5000);
    char k[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof k, "xa-%05d", i);
        text(&s, k);
    }
    for (int i = 0; i < 5000; i += 3) {
        snprintf(k, sizeof k, "xa-%05d", i);
        text(&s, k);
    }
    assert_int_equal(kho_colstats_distinct(&s, &est), 5000);
    assert_false(est);
    assert_string_equal(s.smin, "xa-00000");
    assert_string_equal(s.smax, "xa-04999");
    kho_colstats_free(&s);

    /* a limit below 16 is raised to 16 */
    kho_colstats_init(&s, KHO_TYPE_INTEGER, 0);
    assert_int_equal(s.exact_limit, 16);
    for (int64_t i = 0; i < 16; i++)
        kho_colstats_int(&s, i);
    assert_int_equal(kho_colstats_distinct(&s, &est), 16);
    assert_false(est);
    kho_colstats_free(&s);
}

static void test_estimate_above_limit(void **state)
{
    (void)state;
    const int64_t n = 200000;
    kho_colstats_t s;
    kho_colstats_init(&s, KHO_TYPE_INTEGER, 65536);
    for (int64_t i = 0; i < n; i++)
        kho_colstats_int(&s, i);
    for (int64_t i = 0; i < n; i += 2) /* repeats must not inflate the estimate */
        kho_colstats_int(&s, i);
    bool est = false;
    uint64_t d = kho_colstats_distinct(&s, &est);
    assert_true(est);
    assert_non_null(s.hll);
    assert_null(s.set);
    double err = fabs((double)d - (double)n) / (double)n;
    if (err > 0.03)
        fail_msg("estimate %llu for %lld distinct values is off by %.2f%%", (unsigned long long)d, (long long)n,
                 err * 100);
    assert_int_equal(s.values, n + n / 2);
    assert_int_equal(s.imin, 0);
    assert_int_equal(s.imax, n - 1);
    json_t *o = to_json(&s);
    assert_true(json_is_true(json_object_get(o, "distinct_is_estimate")));
    assert_int_equal(json_integer_value(json_object_get(o, "distinct")), (json_int_t)d);
    json_decref(o);
    kho_colstats_free(&s);

    /* text values too, and at a small limit */
    kho_colstats_init(&s, KHO_TYPE_TEXT, 100);
    char k[32];
    for (int i = 0; i < 50000; i++) {
        snprintf(k, sizeof k, "%d", i);
        text(&s, k);
    }
    d = kho_colstats_distinct(&s, &est);
    assert_true(est);
    err = fabs((double)d - 50000.0) / 50000.0;
    if (err > 0.03)
        fail_msg("text estimate %llu for 50000 distinct values is off by %.2f%%", (unsigned long long)d, err * 100);
    kho_colstats_free(&s);

    /* the estimate stays right for a few values after the switch (small-range correction) */
    kho_colstats_init(&s, KHO_TYPE_INTEGER, 16);
    for (int64_t i = 0; i < 300; i++)
        kho_colstats_int(&s, i);
    d = kho_colstats_distinct(&s, &est);
    assert_true(est);
    assert_in_range(d, 291, 309);
    kho_colstats_free(&s);
}

static void test_estimate_switch_happens_near_limit(void **state)
{
    (void)state;
    /* memory is bounded: well above the limit the exact set is gone */
    kho_colstats_t s;
    kho_colstats_init(&s, KHO_TYPE_INTEGER, 1000);
    for (int64_t i = 0; i < 2100; i++)
        kho_colstats_int(&s, i);
    bool est = false;
    uint64_t d = kho_colstats_distinct(&s, &est);
    assert_true(est);
    assert_in_range(d, 2037, 2163);
    kho_colstats_free(&s);
    assert_null(s.hll); /* free resets */
    assert_null(s.smin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_column),
        cmocka_unit_test(test_nulls_only),
        cmocka_unit_test(test_integers_exact),
        cmocka_unit_test(test_reals),
        cmocka_unit_test(test_text_min_max),
        cmocka_unit_test(test_dates_compare_as_text),
        cmocka_unit_test(test_long_text_excerpted_in_json),
        cmocka_unit_test(test_boolean_min_max),
        cmocka_unit_test(test_exact_up_to_limit),
        cmocka_unit_test(test_estimate_above_limit),
        cmocka_unit_test(test_estimate_switch_happens_near_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
