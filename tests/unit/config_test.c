/* Unit tests of core/config: defaults, kho.conf, environment, overrides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"

static const char *KEYS[] = {"listen",
                             "threads",
                             "workers",
                             "max_body_mb",
                             "max_field_kb",
                             "reject_threshold",
                             "null_marks",
                             "decimal",
                             "busy_timeout_ms",
                             "sqlite_cache_mb",
                             "rows_default_limit",
                             "rows_max_limit",
                             "shutdown_timeout_s",
                             "log_level",
                             "access_log"};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

typedef struct fixture {
    char dir[64];
    char conf[128];
} fixture_t;

/* Every test starts without KHO_* variables and with an empty temp directory. */
static void clear_env(void)
{
    for (size_t i = 0; i < NKEYS; i++) {
        char name[64] = "KHO_";
        for (const char *p = KEYS[i]; *p; p++) {
            char c = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
            strncat(name, &c, 1);
        }
        unsetenv(name);
    }
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/kho-config-test-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->conf, sizeof f->conf, "%s/kho.conf", f->dir);
    clear_env();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    unlink(f->conf);
    rmdir(f->dir);
    clear_env();
    free(f);
    return 0;
}

static void write_conf(const fixture_t *f, const char *text)
{
    FILE *fp = fopen(f->conf, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_defaults(void **state)
{
    (void)state;
    kho_config_t *c = kho_config_defaults();
    assert_string_equal(kho_config_str(c, "listen"), "127.0.0.1:8080");
    assert_int_equal(kho_config_int(c, "threads"), 0);
    assert_int_equal(kho_config_int(c, "workers"), 0);
    assert_int_equal(kho_config_int(c, "max_body_mb"), 256);
    assert_int_equal(kho_config_int(c, "max_field_kb"), 16384);
    assert_true(kho_config_num(c, "reject_threshold") == 0.10);
    assert_string_equal(kho_config_str(c, "null_marks"), "-|..|...|N/A|n/a|NA|#N/A|null|NULL");
    assert_string_equal(kho_config_str(c, "decimal"), "auto");
    assert_int_equal(kho_config_int(c, "busy_timeout_ms"), 60000);
    assert_int_equal(kho_config_int(c, "sqlite_cache_mb"), 64);
    assert_int_equal(kho_config_int(c, "rows_default_limit"), 100);
    assert_int_equal(kho_config_int(c, "rows_max_limit"), 10000);
    assert_int_equal(kho_config_int(c, "shutdown_timeout_s"), 30);
    assert_string_equal(kho_config_str(c, "log_level"), "info");
    assert_string_equal(kho_config_str(c, "access_log"), "on");
    for (size_t i = 0; i < NKEYS; i++)
        assert_string_equal(kho_config_origin(c, KEYS[i]), "default");
    kho_config_free(c);
}

static void test_missing_file_gives_defaults(void **state)
{
    fixture_t *f = *state;
    kho_config_t *c = NULL;
    kho_err_t err = {0};
    assert_int_equal(kho_config_load(f->dir, &c, &err), 0);
    assert_non_null(c);
    assert_int_equal(kho_config_int(c, "max_body_mb"), 256);
    assert_string_equal(kho_config_origin(c, "max_body_mb"), "default");
    kho_config_free(c);
}

static void test_file_overrides_with_comments(void **state)
{
    fixture_t *f = *state;
    write_conf(f, "# kho settings\n"
                  "\n"
                  "listen = 0.0.0.0:9000\n"
                  "   \t\n"
                  "  max_body_mb=512   # bigger uploads\n"
                  "decimal = comma\n"
                  "# threads = 8\n"
                  "reject_threshold = 0.25\n"
                  "log_level=warn");
    kho_config_t *c = NULL;
    kho_err_t err = {0};
    assert_int_equal(kho_config_load(f->dir, &c, &err), 0);
    assert_string_equal(kho_config_str(c, "listen"), "0.0.0.0:9000");
    assert_string_equal(kho_config_origin(c, "listen"), "kho.conf:3");
    assert_int_equal(kho_config_int(c, "max_body_mb"), 512);
    assert_string_equal(kho_config_str(c, "max_body_mb"), "512");
    assert_string_equal(kho_config_origin(c, "max_body_mb"), "kho.conf:5");
    assert_string_equal(kho_config_str(c, "decimal"), "comma");
    assert_string_equal(kho_config_origin(c, "decimal"), "kho.conf:6");
    assert_int_equal(kho_config_int(c, "threads"), 0); /* commented out */
    assert_string_equal(kho_config_origin(c, "threads"), "default");
    assert_true(kho_config_num(c, "reject_threshold") == 0.25);
    assert_string_equal(kho_config_str(c, "log_level"), "warn"); /* last line without newline */
    assert_string_equal(kho_config_origin(c, "log_level"), "kho.conf:9");
    assert_string_equal(kho_config_origin(c, "workers"), "default");
    kho_config_free(c);
}

static void test_repeated_key_last_wins(void **state)
{
    fixture_t *f = *state;
    write_conf(f, "threads = 2\nthreads = 4\n");
    kho_config_t *c = NULL;
    kho_err_t err = {0};
    assert_int_equal(kho_config_load(f->dir, &c, &err), 0);
    assert_int_equal(kho_config_int(c, "threads"), 4);
    assert_string_equal(kho_config_origin(c, "threads"), "kho.conf:2");
    kho_config_free(c);
}

static void test_unknown_key_names_line(void **state)
{
    fixture_t *f = *state;
    write_conf(f, "# header\nthreads = 2\nmax_body = 10\n");
    kho_config_t *c = (kho_config_t *)0x1;
    kho_err_t err = {0};
    assert_int_equal(kho_config_load(f->dir, &c, &err), KHO_EINVAL);
    assert_int_equal(err.code, KHO_EINVAL);
    assert_non_null(strstr(err.msg, "line 3"));
    assert_non_null(strstr(err.msg, "'max_body'"));
    assert_non_null(strstr(err.msg, "kho.conf"));
    assert_ptr_equal(c, (kho_config_t *)0x1); /* untouched on failure */
}

static void test_bad_values_name_line_and_key(void **state)
{
    fixture_t *f = *state;
    static const struct {
        const char *text, *line, *key;
    } cases[] = {
        {"threads = abc\n", "line 1", "threads"},
        {"\n\nmax_body_mb = -5\n", "line 3", "max_body_mb"},
        {"max_body_mb = 12MB\n", "line 1", "max_body_mb"},
        {"max_body_mb =\n", "line 1", "max_body_mb"},
        {"rows_max_limit = 1 000\n", "line 1", "rows_max_limit"},
        {"rows_max_limit = 99999999999999999999999\n", "line 1", "rows_max_limit"},
        {"reject_threshold = 0.1x\n", "line 1", "reject_threshold"},
        {"reject_threshold = -0.5\n", "line 1", "reject_threshold"},
        {"listen = x\nthreads\n", "line 2", "key = value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_conf(f, cases[i].text);
        kho_config_t *c = NULL;
        kho_err_t err = {0};
        int rc = kho_config_load(f->dir, &c, &err);
        if (rc != KHO_EINVAL)
            fail_msg("case %zu (%s): rc %d, expected KHO_EINVAL", i, cases[i].text, rc);
        if (!strstr(err.msg, cases[i].line) || !strstr(err.msg, cases[i].key))
            fail_msg("case %zu: message '%s' should name %s and %s", i, err.msg, cases[i].line, cases[i].key);
        assert_null(c);
    }
}

static void test_environment_beats_file(void **state)
{
    fixture_t *f = *state;
    write_conf(f, "max_body_mb = 512\nthreads = 3\n");
    setenv("KHO_MAX_BODY_MB", "1024", 1);
    setenv("KHO_LISTEN", "[::1]:8443", 1);
    kho_config_t *c = NULL;
    kho_err_t err = {0};
    assert_int_equal(kho_config_load(f->dir, &c, &err), 0);
    assert_int_equal(kho_config_int(c, "max_body_mb"), 1024);
    assert_string_equal(kho_config_origin(c, "max_body_mb"), "environment");
    assert_string_equal(kho_config_str(c, "listen"), "[::1]:8443");
    assert_string_equal(kho_config_origin(c, "listen"), "environment");
    assert_int_equal(kho_config_int(c, "threads"), 3);
    assert_string_equal(kho_config_origin(c, "threads"), "kho.conf:2");
    kho_config_free(c);
}

/* config.h: kho_config_defaults() is "defaults and environment only". */
/* kho_config_defaults() gives the built-in defaults only; the environment
 * applies through kho_config_load(). */
static void test_defaults_ignore_environment(void **state)
{
    (void)state;
    setenv("KHO_THREADS", "5", 1);
    kho_config_t *c = kho_config_defaults();
    long long threads = kho_config_int(c, "threads"), workers = kho_config_int(c, "workers");
    char origin[64];
    snprintf(origin, sizeof origin, "%s", kho_config_origin(c, "threads"));
    kho_config_free(c);
    assert_int_equal(threads, 0);
    assert_string_equal(origin, "default");
    assert_int_equal(workers, 0);
}

static void test_bad_environment_value(void **state)
{
    fixture_t *f = *state;
    setenv("KHO_MAX_BODY_MB", "lots", 1);
    kho_config_t *c = NULL;
    kho_err_t err = {0};
    assert_int_equal(kho_config_load(f->dir, &c, &err), KHO_EINVAL);
    assert_non_null(strstr(err.msg, "KHO_MAX_BODY_MB"));
    assert_non_null(strstr(err.msg, "'lots'"));
    assert_null(c);
}

static void test_config_set(void **state)
{
    (void)state;
    kho_config_t *c = kho_config_defaults();
    kho_err_t err = {0};
    assert_int_equal(kho_config_set(c, "listen", "127.0.0.1:9999", &err), 0);
    assert_string_equal(kho_config_str(c, "listen"), "127.0.0.1:9999");
    assert_string_equal(kho_config_origin(c, "listen"), "command line");
    assert_int_equal(kho_config_set(c, "threads", "8", &err), 0);
    assert_int_equal(kho_config_int(c, "threads"), 8);
    assert_int_equal(kho_config_set(c, "reject_threshold", "0.5", &err), 0);
    assert_true(kho_config_num(c, "reject_threshold") == 0.5);
    /* invalid values leave the old value and origin */
    assert_int_equal(kho_config_set(c, "threads", "eight", &err), KHO_EINVAL);
    assert_non_null(strstr(err.msg, "threads"));
    assert_non_null(strstr(err.msg, "'eight'"));
    assert_int_equal(kho_config_int(c, "threads"), 8);
    assert_string_equal(kho_config_origin(c, "threads"), "command line");
    assert_int_equal(kho_config_set(c, "threads", "-1", &err), KHO_EINVAL);
    assert_int_equal(kho_config_set(c, "threads", "", &err), KHO_EINVAL);
    assert_int_equal(kho_config_set(c, "reject_threshold", "half", &err), KHO_EINVAL);
    assert_true(kho_config_num(c, "reject_threshold") == 0.5);
    assert_int_equal(kho_config_set(c, "max_body_mb", "0", &err), 0); /* >= 0 is allowed */
    assert_int_equal(kho_config_int(c, "max_body_mb"), 0);
    kho_config_free(c);
}

/* Uncommenting a line of the template kho init writes must keep its value. */
static void test_template_loads_as_defaults(void **state)
{
    fixture_t *f = *state;
    FILE *fp = fopen(f->conf, "w");
    assert_non_null(fp);
    kho_config_write_template(fp);
    fclose(fp);
    kho_config_t *c = NULL;
    kho_err_t err = {0};
    assert_int_equal(kho_config_load(f->dir, &c, &err), 0);
    for (size_t i = 0; i < NKEYS; i++)
        assert_string_equal(kho_config_origin(c, KEYS[i]), "default");
    kho_config_free(c);
    /* help names every key's environment variable */
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    kho_config_print_help(m);
    fclose(m);
    assert_non_null(strstr(text, "KHO_MAX_BODY_MB"));
    assert_non_null(strstr(text, "KHO_NULL_MARKS"));
    free(text);
}

/* A kho.conf that cannot be read (here: a directory) is an error, not silently
 * no settings at all. */
static void test_unreadable_file(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(mkdir(f->conf, 0755), 0);
    kho_config_t *c = NULL;
    kho_err_t err = {0};
    int rc = kho_config_load(f->dir, &c, &err);
    rmdir(f->conf);
    if (rc == 0)
        kho_config_free(c);
    assert_int_equal(rc, KHO_EIO);
    assert_non_null(strstr(err.msg, "kho.conf"));
}

static void test_value_with_hash_sign(void **state)
{
    fixture_t *f = *state;
    /* the default null_marks contains '#N/A'; written out in full it must survive */
    write_conf(f, "null_marks = -|..|...|N/A|n/a|NA|#N/A|null|NULL\n");
    kho_config_t *c = NULL;
    kho_err_t err = {0};
    assert_int_equal(kho_config_load(f->dir, &c, &err), 0);
    char marks[128];
    snprintf(marks, sizeof marks, "%s", kho_config_str(c, "null_marks"));
    kho_config_free(c);
    assert_string_equal(marks, "-|..|...|N/A|n/a|NA|#N/A|null|NULL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file_gives_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_overrides_with_comments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeated_key_last_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_names_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_values_name_line_and_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_environment_beats_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults_ignore_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_environment_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_template_loads_as_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_value_with_hash_sign, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
