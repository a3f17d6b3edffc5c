/* Unit tests of cli/args: option parsing for kho's commands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"

static const kho_optspec_t SPECS[] = {
    {"dataset", true, false}, {"type", true, true}, {"strict", false, false}, {"tag", true, true},
    {"verbose", false, true}, {"out", true, false}, {NULL, false, false},
};

#define ARGV(...) ((char *[]){__VA_ARGS__})
#define ARGC(...) ((int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)))
#define PARSE(out, err, ...) kho_args_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), SPECS, (out), (err))

static void test_options_in_any_order(void **state)
{
    (void)state;
    kho_args_t a;
    kho_err_t err = {0};
    assert_int_equal(PARSE(&a, &err, "file.csv", "--dataset", "dan-so", "--strict", "more.csv", "--out=x.json"), 0);
    assert_int_equal(a.npos, 2);
    assert_string_equal(a.pos[0], "file.csv");
    assert_string_equal(a.pos[1], "more.csv");
    assert_string_equal(kho_args_get(&a, "dataset"), "dan-so");
    assert_string_equal(kho_args_get(&a, "out"), "x.json");
    assert_true(kho_args_flag(&a, "strict"));
    assert_string_equal(kho_args_get(&a, "strict"), ""); /* flags have "" as value */
    assert_false(kho_args_flag(&a, "verbose"));
    assert_null(kho_args_get(&a, "type"));
    assert_null(kho_args_get(&a, "nonexistent"));
    assert_int_equal(a.nopts, 3);

    assert_int_equal(PARSE(&a, &err, "--strict", "--dataset=dan-so", "file.csv"), 0);
    assert_int_equal(a.npos, 1);
    assert_string_equal(kho_args_get(&a, "dataset"), "dan-so");
    assert_true(kho_args_flag(&a, "strict"));
}

static void test_equals_forms(void **state)
{
    (void)state;
    kho_args_t a;
    kho_err_t err = {0};
    /* only the first '=' splits; the value may be empty or contain '=' */
    assert_int_equal(PARSE(&a, &err, "--type=dan_so=integer", "--out=", "--dataset", "a=b"), 0);
    assert_string_equal(kho_args_get(&a, "type"), "dan_so=integer");
    assert_string_equal(kho_args_get(&a, "out"), "");
    assert_string_equal(kho_args_get(&a, "dataset"), "a=b");
    /* the separate value may itself look like anything, even start with '-' */
    assert_int_equal(PARSE(&a, &err, "--out", "-"), 0);
    assert_string_equal(kho_args_get(&a, "out"), "-");
    assert_int_equal(a.npos, 0);
}

static void test_repeated_options(void **state)
{
    (void)state;
    kho_args_t a;
    kho_err_t err = {0};
    assert_int_equal(PARSE(&a, &err, "--type", "a=integer", "x.csv", "--type=b=date", "--tag", "t1", "--type", "c=text",
                           "--verbose", "--verbose"),
                     0);
    const char *vals[8];
    assert_int_equal(kho_args_all(&a, "type", vals, 8), 3);
    assert_string_equal(vals[0], "a=integer");
    assert_string_equal(vals[1], "b=date");
    assert_string_equal(vals[2], "c=text");
    assert_string_equal(kho_args_get(&a, "type"), "c=text"); /* the last one */
    assert_int_equal(kho_args_all(&a, "type", vals, 2), 2);  /* bounded by max */
    assert_int_equal(kho_args_all(&a, "tag", vals, 8), 1);
    assert_string_equal(vals[0], "t1");
    assert_int_equal(kho_args_all(&a, "verbose", vals, 8), 2);
    assert_int_equal(kho_args_all(&a, "dataset", vals, 8), 0);
    assert_int_equal(a.npos, 1);
}

static void test_double_dash_and_stdin(void **state)
{
    (void)state;
    kho_args_t a;
    kho_err_t err = {0};
    assert_int_equal(PARSE(&a, &err, "-", "--strict", "--", "--dataset", "-x", "--", "--bogus"), 0);
    assert_int_equal(a.npos, 5);
    assert_string_equal(a.pos[0], "-");
    assert_string_equal(a.pos[1], "--dataset");
    assert_string_equal(a.pos[2], "-x");
    assert_string_equal(a.pos[3], "--");
    assert_string_equal(a.pos[4], "--bogus");
    assert_true(kho_args_flag(&a, "strict"));
    assert_null(kho_args_get(&a, "dataset"));
    /* no arguments at all */
    assert_int_equal(kho_args_parse(0, NULL, SPECS, &a, &err), 0);
    assert_int_equal(a.npos, 0);
    assert_int_equal(a.nopts, 0);
}

static void test_unknown_option(void **state)
{
    (void)state;
    kho_args_t a;
    kho_err_t err = {0};
    assert_int_equal(PARSE(&a, &err, "x.csv", "--bogus"), KHO_EUSAGE);
    assert_int_equal(err.code, KHO_EUSAGE);
    assert_non_null(strstr(err.msg, "'--bogus'"));
    assert_int_equal(PARSE(&a, &err, "--bogus=1"), KHO_EUSAGE);
    assert_non_null(strstr(err.msg, "'--bogus'"));
    assert_null(strstr(err.msg, "=1"));
    assert_int_equal(PARSE(&a, &err, "--data", "x"), KHO_EUSAGE); /* no prefix matching */
    assert_non_null(strstr(err.msg, "'--data'"));
    assert_int_equal(PARSE(&a, &err, "--datasetx", "x"), KHO_EUSAGE);
    assert_non_null(strstr(err.msg, "'--datasetx'"));
    assert_int_equal(PARSE(&a, &err, "-q"), KHO_EUSAGE);
    assert_non_null(strstr(err.msg, "'-q'"));
    assert_int_equal(PARSE(&a, &err, "---strict"), KHO_EUSAGE);
    assert_int_equal(PARSE(&a, &err, "--=x"), KHO_EUSAGE);
}

static void test_missing_value(void **state)
{
    (void)state;
    kho_args_t a;
    kho_err_t err = {0};
    assert_int_equal(PARSE(&a, &err, "x.csv", "--dataset"), KHO_EUSAGE);
    assert_non_null(strstr(err.msg, "'--dataset'"));
    assert_non_null(strstr(err.msg, "needs a value"));
    assert_int_equal(PARSE(&a, &err, "--type"), KHO_EUSAGE);
    assert_non_null(strstr(err.msg, "'--type'"));
}

static void test_flag_with_value(void **state)
{
    (void)state;
    kho_args_t a;
    kho_err_t err = {0};
    assert_int_equal(PARSE(&a, &err, "--strict=yes"), KHO_EUSAGE);
    assert_non_null(strstr(err.msg, "'--strict'"));
    assert_non_null(strstr(err.msg, "takes no value"));
    /* a flag does not swallow the next argument */
    assert_int_equal(PARSE(&a, &err, "--strict", "file.csv"), 0);
    assert_int_equal(a.npos, 1);
    assert_string_equal(a.pos[0], "file.csv");
}

static void test_duplicate_non_repeatable(void **state)
{
    (void)state;
    kho_args_t a;
    kho_err_t err = {0};
    assert_int_equal(PARSE(&a, &err, "--dataset", "a", "--dataset=b"), KHO_EUSAGE);
    assert_non_null(strstr(err.msg, "'--dataset'"));
    assert_non_null(strstr(err.msg, "twice"));
    assert_int_equal(PARSE(&a, &err, "--strict", "x", "--strict"), KHO_EUSAGE);
    assert_non_null(strstr(err.msg, "'--strict'"));
    /* even with the same value */
    assert_int_equal(PARSE(&a, &err, "--out", "a", "--out", "a"), KHO_EUSAGE);
}

static void test_limits(void **state)
{
    (void)state;
    char *argv[KHO_ARGS_MAX * 2 + 2];
    char store[KHO_ARGS_MAX * 2 + 2][16];
    kho_args_t a;
    kho_err_t err = {0};
    for (int i = 0; i < KHO_ARGS_MAX; i++) {
        snprintf(store[i], sizeof store[i], "f%d", i);
        argv[i] = store[i];
    }
    assert_int_equal(kho_args_parse(KHO_ARGS_MAX, argv, SPECS, &a, &err), 0);
    assert_int_equal(a.npos, KHO_ARGS_MAX);
    assert_string_equal(a.pos[KHO_ARGS_MAX - 1], "f63");
    argv[KHO_ARGS_MAX] = "one-too-many";
    assert_int_equal(kho_args_parse(KHO_ARGS_MAX + 1, argv, SPECS, &a, &err), KHO_EUSAGE);
    assert_non_null(strstr(err.msg, "too many"));
    /* options beyond the table size */
    for (int i = 0; i < KHO_ARGS_MAX + 1; i++)
        argv[i] = "--verbose";
    assert_int_equal(kho_args_parse(KHO_ARGS_MAX, argv, SPECS, &a, &err), 0);
    assert_int_equal(a.nopts, KHO_ARGS_MAX);
    assert_int_equal(kho_args_parse(KHO_ARGS_MAX + 1, argv, SPECS, &a, &err), KHO_EUSAGE);
    assert_non_null(strstr(err.msg, "too many"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_in_any_order),
        cmocka_unit_test(test_equals_forms),
        cmocka_unit_test(test_repeated_options),
        cmocka_unit_test(test_double_dash_and_stdin),
        cmocka_unit_test(test_unknown_option),
        cmocka_unit_test(test_missing_value),
        cmocka_unit_test(test_flag_with_value),
        cmocka_unit_test(test_duplicate_non_repeatable),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
