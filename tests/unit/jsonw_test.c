/* Unit tests of core/jsonw: string escaping, shortest doubles, jansson dumps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/jsonw.h"

static char *jstr(const char *s, size_t n)
{
    kho_buf_t b = KHO_BUF_INIT;
    kho_json_str(&b, s, n);
    return kho_buf_steal(&b, NULL);
}

#define assert_jstr(in, n, want)                                                                                       \
    do {                                                                                                               \
        char *got_ = jstr((in), (n));                                                                                  \
        assert_string_equal(got_, (want));                                                                             \
        free(got_);                                                                                                    \
    } while (0)

static void fmt(double v, char out[64])
{
    size_t n = kho_fmt_double(out, 64, v);
    assert_int_equal(n, strlen(out));
}

#define assert_fmt(v, want)                                                                                            \
    do {                                                                                                               \
        char o_[64];                                                                                                   \
        fmt((v), o_);                                                                                                  \
        if (strcmp(o_, (want)) != 0)                                                                                   \
            fail_msg("kho_fmt_double(%.17g) = \"%s\", expected \"%s\"", (double)(v), o_, (want));                      \
    } while (0)

/* The text reads back to exactly v. */
static void assert_roundtrip(double v)
{
    char o[64];
    fmt(v, o);
    char *end;
    double back = strtod(o, &end);
    if (*end != '\0' || back != v) /* -0 reads back as 0, which is equal */
        fail_msg("kho_fmt_double(%.17g) = \"%s\" reads back as %.17g", v, o, back);
    /* and it is valid JSON */
    json_error_t je;
    json_t *j = json_loads(o, JSON_DECODE_ANY, &je);
    if (!j)
        fail_msg("kho_fmt_double(%.17g) = \"%s\" is not JSON: %s", v, o, je.text);
    json_decref(j);
}

/* ---- strings -------------------------------------------------------------------- */

static void test_escape_quotes_and_backslash(void **state)
{
    (void)state;
    assert_jstr("", 0, "\"\"");
    assert_jstr("abc", 3, "\"abc\"");
    assert_jstr("a\"b", 3, "\"a\\\"b\"");
    assert_jstr("a\\b", 3, "\"a\\\\b\"");
    assert_jstr("\"\\\"", 3, "\"\\\"\\\\\\\"\"");
    assert_jstr("/", 1, "\"/\""); /* the solidus needs no escape */
    assert_jstr("abc", 2, "\"ab\"");
}

static void test_escape_control_characters(void **state)
{
    (void)state;
    assert_jstr("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
    assert_jstr("\x01", 1, "\"\\u0001\"");
    assert_jstr("\x1f", 1, "\"\\u001f\"");
    assert_jstr("a\x0b"
                "b",
                3, "\"a\\u000bb\"");
    assert_jstr("a\0b", 3, "\"a\\u0000b\""); /* an embedded NUL with an explicit length */
    assert_jstr("\x7f", 1, "\"\x7f\"");      /* DEL is allowed raw in JSON */
    /* every control character escapes, and jansson reads each back */
    for (int c = 0; c < 0x20; c++) {
        char in[3] = {'x', (char)c, 'y'};
        char *out = jstr(in, 3);
        for (const char *p = out; *p; p++)
            assert_true((unsigned char)*p >= 0x20);
        json_error_t je;
        json_t *j = json_loads(out, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        assert_non_null(j);
        assert_int_equal(json_string_length(j), 3);
        assert_memory_equal(json_string_value(j), in, 3);
        json_decref(j);
        free(out);
    }
}

static void test_utf8_passes_through(void **state)
{
    (void)state;
    const char *vi = "Xã Nghĩa Trụ, tỉnh Hưng Yên — 100 ₫ 😀";
    char *out = jstr(vi, strlen(vi));
    assert_int_equal(strlen(out), strlen(vi) + 2);
    assert_int_equal(out[0], '"');
    assert_memory_equal(out + 1, vi, strlen(vi));
    free(out);
    kho_buf_t b = KHO_BUF_INIT;
    kho_json_cstr(&b, "Đà \"Lạt\"\n");
    assert_string_equal(kho_buf_cstr(&b), "\"Đà \\\"Lạt\\\"\\n\"");
    kho_buf_free(&b);
}

static void test_long_string_with_many_escapes(void **state)
{
    (void)state;
    /* a long run forces the buffer to grow while escaping */
    size_t n = 100000;
    char *in = malloc(n);
    for (size_t i = 0; i < n; i++)
        in[i] = "a\"\\\n\x01ữ"[i % 8]; /* 8 bytes: ữ stays whole */
    kho_buf_t b = KHO_BUF_INIT;
    kho_buf_puts(&b, "prefix:");
    kho_json_str(&b, in, n);
    assert_memory_equal(b.data, "prefix:\"", 8);
    json_error_t je;
    json_t *j = json_loadb(b.data + 7, b.len - 7, JSON_DECODE_ANY, &je);
    assert_non_null(j);
    assert_int_equal(json_string_length(j), n);
    assert_memory_equal(json_string_value(j), in, n);
    json_decref(j);
    kho_buf_free(&b);
    free(in);
}

/* ---- numbers -------------------------------------------------------------------- */

static void test_fmt_double_shortest(void **state)
{
    (void)state;
    assert_fmt(8854.13, "8854.13");
    assert_fmt(0.1, "0.1");
    assert_fmt(0.3, "0.3");
    assert_fmt(0.1 + 0.2, "0.30000000000000004");
    assert_fmt(1.0 / 3.0, "0.3333333333333333");
    assert_fmt(2.0 / 3.0, "0.6666666666666666");
    assert_fmt(123456.789, "123456.789");
    assert_fmt(-1.5, "-1.5");
    assert_fmt(1e300, "1e+300");
    assert_fmt(1e-7, "1e-07");
    assert_fmt(1.7976931348623157e308, "1.7976931348623157e+308");
    assert_fmt(100.25, "100.25");
    assert_fmt(3.14159, "3.14159");
}

static void test_fmt_double_integers(void **state)
{
    (void)state;
    assert_fmt(0.0, "0");
    assert_fmt(-0.0, "0");
    assert_fmt(1.0, "1");
    assert_fmt(-42.0, "-42");
    assert_fmt(1234567.0, "1234567");
    assert_fmt(1e15, "1000000000000000");
    assert_fmt(9007199254740991.0, "9007199254740991"); /* 2^53 - 1 */
    assert_fmt(-9007199254740991.0, "-9007199254740991");
    assert_fmt(9007199254740992.0, "9007199254740992"); /* 2^53 itself still reads back */
    assert_fmt(1e16, "1e+16");
    /* never a trailing ".0" or a lone exponent for small integers */
    for (int i = -1000; i <= 1000; i++) {
        char o[64], want[32];
        fmt((double)i, o);
        snprintf(want, sizeof want, "%d", i);
        assert_string_equal(o, want);
    }
}

/* Values with a few decimals (the fast path): they read back, and no shorter
 * %g form (fewer significant digits) reads back. */
static void test_fmt_double_decimals_are_shortest(void **state)
{
    (void)state;
    unsigned long long x = 88172645463325252ULL;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int k = 1 + (int)(x % 6);
        double scale = 1;
        for (int j = 0; j < k; j++)
            scale *= 10;
        double v = (double)(long long)(x % 1000000000000ULL) / scale * ((x >> 40) & 1 ? -1 : 1);
        if (v == (double)(long long)v)
            continue; /* whole numbers print in full, without exponent (tested above) */
        char out[64], g[64];
        size_t n = kho_fmt_double(out, sizeof out, v);
        if (strtod(out, NULL) != v)
            fail_msg("kho_fmt_double(%.17g) = \"%s\" does not read back", v, out);
        /* the fewest significant digits any %g form needs */
        int p = 1;
        while (p < 17) {
            snprintf(g, sizeof g, "%.*g", p, v);
            if (strtod(g, NULL) == v)
                break;
            p++;
        }
        size_t digits = 0;
        for (size_t j = 0; j < n; j++)
            digits += out[j] >= '0' && out[j] <= '9';
        /* leading zeros of 0.00x count as digits in ours; allow them */
        size_t lead = 0;
        for (size_t j = out[0] == '-' ? 1 : 0; j < n && (out[j] == '0' || out[j] == '.'); j++)
            lead += out[j] == '0';
        if (digits - lead > (size_t)p)
            fail_msg("kho_fmt_double(%.17g) = \"%s\": %zu digits, %%.%dg reads back", v, out, digits - lead, p);
    }
}

static void test_fmt_double_round_trips(void **state)
{
    (void)state;
    static const double vals[] = {5e-324,
                                  -5e-324,
                                  2.2250738585072014e-308,
                                  2.2250738585072009e-308,
                                  DBL_MAX,
                                  -DBL_MAX,
                                  DBL_EPSILON,
                                  1e300,
                                  1e-300,
                                  0.1,
                                  0.7,
                                  1e23,
                                  9007199254740993.0,
                                  18446744073709551616.0,
                                  9.2233720368547758e18,
                                  -9.2233720368547758e18,
                                  123456789012345678.0,
                                  8854.13,
                                  1234.5,
                                  0.000123,
                                  4.35,
                                  2.675};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        assert_roundtrip(vals[i]);
    /* a deterministic sweep of awkward values */
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d;
        memcpy(&d, &x, sizeof d);
        if (!isfinite(d))
            continue;
        assert_roundtrip(d);
        assert_roundtrip((double)(x % 1000000) / 100.0); /* money-like values */
    }
}

static void test_json_double_and_int(void **state)
{
    (void)state;
    kho_buf_t b = KHO_BUF_INIT;
    kho_json_double(&b, NAN);
    kho_buf_putc(&b, ',');
    kho_json_double(&b, INFINITY);
    kho_buf_putc(&b, ',');
    kho_json_double(&b, -INFINITY);
    kho_buf_putc(&b, ',');
    kho_json_double(&b, 8854.13);
    kho_buf_putc(&b, ',');
    kho_json_double(&b, -0.0);
    kho_buf_putc(&b, ',');
    kho_json_int(&b, LLONG_MIN);
    kho_buf_putc(&b, ',');
    kho_json_int(&b, LLONG_MAX);
    kho_buf_putc(&b, ',');
    kho_json_int(&b, 0);
    assert_string_equal(kho_buf_cstr(&b), "null,null,null,8854.13,0,-9223372036854775808,9223372036854775807,0");
    kho_buf_free(&b);
}

/* ---- dumps ------------------------------------------------------------------------ */

static json_t *sample(void)
{
    json_error_t je;
    json_t *v = json_loads("{\"name\":\"Xã Nghĩa Trụ\",\"code\":\"12031\",\"population\":12345,"
                           "\"area\":8854.13,\"ratio\":0.1,\"tiny\":5e-324,\"big\":1e300,"
                           "\"ok\":true,\"bad\":false,\"none\":null,"
                           "\"tags\":[\"a\",\"b\\\"q\",[],{}],\"nested\":{\"x\":[1,2.5,{\"y\":null}],\"e\":{}},"
                           "\"ctl\":\"line\\nnext\\u0001\",\"neg\":-7}",
                           0, &je);
    assert_non_null(v);
    return v;
}

static void test_dump_compact_round_trips(void **state)
{
    (void)state;
    json_t *v = sample();
    kho_buf_t b = KHO_BUF_INIT;
    kho_json_dump(&b, v, 0);
    assert_null(strchr(kho_buf_cstr(&b), '\n'));
    assert_null(strstr(kho_buf_cstr(&b), ": "));
    assert_non_null(strstr(kho_buf_cstr(&b), "\"area\":8854.13,"));
    assert_non_null(strstr(kho_buf_cstr(&b), "\"ratio\":0.1,"));
    json_error_t je;
    json_t *back = json_loads(kho_buf_cstr(&b), 0, &je);
    if (!back)
        fail_msg("dump does not parse: %s (%s)", je.text, kho_buf_cstr(&b));
    assert_true(json_equal(v, back));
    json_decref(back);
    kho_buf_free(&b);
    json_decref(v);
}

static void test_dump_exact_text(void **state)
{
    (void)state;
    json_error_t je;
    json_t *v = json_loads("{\"a\":1,\"b\":[1,2.5],\"c\":{},\"d\":[],\"e\":{\"f\":\"g\"}}", 0, &je);
    assert_non_null(v);
    kho_buf_t b = KHO_BUF_INIT;
    kho_json_dump(&b, v, 0);
    assert_string_equal(kho_buf_cstr(&b), "{\"a\":1,\"b\":[1,2.5],\"c\":{},\"d\":[],\"e\":{\"f\":\"g\"}}");
    kho_buf_reset(&b);
    kho_json_dump(&b, v, 2);
    assert_string_equal(kho_buf_cstr(&b), "{\n"
                                          "  \"a\": 1,\n"
                                          "  \"b\": [\n"
                                          "    1,\n"
                                          "    2.5\n"
                                          "  ],\n"
                                          "  \"c\": {},\n"
                                          "  \"d\": [],\n"
                                          "  \"e\": {\n"
                                          "    \"f\": \"g\"\n"
                                          "  }\n"
                                          "}");
    /* the same layout as jansson's own indented output */
    char *j = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    assert_string_equal(kho_buf_cstr(&b), j);
    free(j);
    kho_buf_free(&b);
    json_decref(v);
}

static void test_dump_indented_round_trips(void **state)
{
    (void)state;
    json_t *v = sample();
    for (int indent = 1; indent <= 8; indent += 3) {
        kho_buf_t b = KHO_BUF_INIT;
        kho_json_dump(&b, v, indent);
        json_error_t je;
        json_t *back = json_loads(kho_buf_cstr(&b), 0, &je);
        if (!back)
            fail_msg("indented dump does not parse: %s", je.text);
        assert_true(json_equal(v, back));
        json_decref(back);
        kho_buf_free(&b);
    }
    json_decref(v);
}

static void test_dump_reals_shortest_and_scalars(void **state)
{
    (void)state;
    json_t *a = json_pack("[f,f,f,I,s,b,n]", 0.1, 8854.13, 3.0, (json_int_t)-5, "x", 1);
    assert_non_null(a);
    kho_buf_t b = KHO_BUF_INIT;
    kho_json_dump(&b, a, 0);
    /* jansson alone would write 0.10000000000000001 and 3.0 */
    assert_string_equal(kho_buf_cstr(&b), "[0.1,8854.13,3,-5,\"x\",true,null]");
    kho_buf_reset(&b);
    json_t *s = json_string("q\"");
    kho_json_dump(&b, s, 4);
    assert_string_equal(kho_buf_cstr(&b), "\"q\\\"\"");
    json_decref(s);
    kho_buf_free(&b);
    json_decref(a);
}

static void test_dump_escapes_keys(void **state)
{
    (void)state;
    json_t *o = json_object();
    json_object_set_new(o, "k\"e\\y\n", json_integer(1));
    json_object_set_new(o, "Dân số", json_integer(2));
    kho_buf_t b = KHO_BUF_INIT;
    kho_json_dump(&b, o, 0);
    assert_string_equal(kho_buf_cstr(&b), "{\"k\\\"e\\\\y\\n\":1,\"Dân số\":2}");
    json_t *back = json_loads(kho_buf_cstr(&b), 0, NULL);
    assert_non_null(back);
    assert_true(json_equal(o, back));
    json_decref(back);
    kho_buf_free(&b);
    json_decref(o);
}

static void test_dump_deep_nesting(void **state)
{
    (void)state;
    json_t *root = json_array(), *cur = root;
    for (int i = 0; i < 200; i++) {
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    json_array_append_new(cur, json_integer(7));
    kho_buf_t b = KHO_BUF_INIT;
    kho_json_dump(&b, root, 0);
    assert_int_equal(b.len, 201 * 2 + 1);
    json_t *back = json_loads(kho_buf_cstr(&b), 0, NULL);
    assert_non_null(back);
    assert_true(json_equal(root, back));
    json_decref(back);
    kho_buf_free(&b);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_quotes_and_backslash), cmocka_unit_test(test_escape_control_characters),
        cmocka_unit_test(test_utf8_passes_through),         cmocka_unit_test(test_long_string_with_many_escapes),
        cmocka_unit_test(test_fmt_double_shortest),         cmocka_unit_test(test_fmt_double_integers),
        cmocka_unit_test(test_fmt_double_decimals_are_shortest),
        cmocka_unit_test(test_fmt_double_round_trips),      cmocka_unit_test(test_json_double_and_int),
        cmocka_unit_test(test_dump_compact_round_trips),    cmocka_unit_test(test_dump_exact_text),
        cmocka_unit_test(test_dump_indented_round_trips),   cmocka_unit_test(test_dump_reals_shortest_and_scalars),
        cmocka_unit_test(test_dump_escapes_keys),           cmocka_unit_test(test_dump_deep_nesting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
