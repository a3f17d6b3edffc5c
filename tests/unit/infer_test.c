/* Unit tests of warehouse/infer: value classification, number/bool/date reading,
 * null marks and whole-column type decisions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "warehouse/infer.h"

#define NUMC KHO_C_NUM_COMMA
#define INTC KHO_C_INT_COMMA
#define NUMD KHO_C_NUM_DOT
#define INTD KHO_C_INT_DOT
#define AMBIG KHO_C_AMBIG
#define BOOLB KHO_C_BOOL
#define DATE KHO_C_DATE
#define DTIME KHO_C_DATETIME
#define CODE5 KHO_C_CODE5
#define CODE2 KHO_C_CODE2
#define WHOLE (NUMC | INTC | NUMD | INTD) /* a plain whole number such as 123 */

static unsigned cls(const char *s)
{
    return kho_classify(s, strlen(s));
}

/* Bits of s, printed on failure so the culprit is named. */
#define assert_bits(s, expect)                                                                                         \
    do {                                                                                                               \
        unsigned got_ = cls(s);                                                                                        \
        if (got_ != (unsigned)(expect))                                                                                \
            fail_msg("kho_classify(\"%s\") = 0x%x, expected 0x%x", (s), got_, (unsigned)(expect));                     \
    } while (0)

static int pnum(const char *s, kho_decimal_t dec, bool *is_int, int64_t *iv, double *dv)
{
    return kho_parse_number(s, strlen(s), dec, is_int, iv, dv);
}

static void expect_int(const char *s, kho_decimal_t dec, int64_t want)
{
    bool is_int = false;
    int64_t iv = -12345;
    double dv = -1;
    if (pnum(s, dec, &is_int, &iv, &dv) != 0)
        fail_msg("kho_parse_number(\"%s\", %d) failed, expected %lld", s, (int)dec, (long long)want);
    if (!is_int || iv != want)
        fail_msg("kho_parse_number(\"%s\", %d): is_int=%d iv=%lld, expected integer %lld", s, (int)dec, is_int,
                 (long long)iv, (long long)want);
}

static void expect_real(const char *s, kho_decimal_t dec, double want)
{
    bool is_int = true;
    int64_t iv = 0;
    double dv = -1;
    if (pnum(s, dec, &is_int, &iv, &dv) != 0)
        fail_msg("kho_parse_number(\"%s\", %d) failed, expected %.17g", s, (int)dec, want);
    if (is_int || dv != want)
        fail_msg("kho_parse_number(\"%s\", %d): is_int=%d dv=%.17g, expected real %.17g", s, (int)dec, is_int, dv,
                 want);
}

static void expect_not_number(const char *s, kho_decimal_t dec)
{
    bool is_int;
    int64_t iv;
    double dv;
    if (pnum(s, dec, &is_int, &iv, &dv) != -1)
        fail_msg("kho_parse_number(\"%s\", %d) accepted a non-number", s, (int)dec);
}

static void expect_date(const char *s, const char *want)
{
    char out[11] = "unset";
    int rc = kho_parse_date(s, strlen(s), out);
    if (want == NULL) {
        if (rc != -1)
            fail_msg("kho_parse_date(\"%s\") accepted it as %s", s, out);
        return;
    }
    if (rc != 0)
        fail_msg("kho_parse_date(\"%s\") failed, expected %s", s, want);
    assert_string_equal(out, want);
}

static void expect_dt(const char *s, const char *want)
{
    char out[48] = "unset";
    int rc = kho_parse_datetime(s, strlen(s), out);
    if (want == NULL) {
        if (rc != -1)
            fail_msg("kho_parse_datetime(\"%s\") accepted it as %s", s, out);
        return;
    }
    if (rc != 0)
        fail_msg("kho_parse_datetime(\"%s\") failed, expected %s", s, want);
    assert_string_equal(out, want);
}

static int pbool(const char *s, bool *v)
{
    return kho_parse_bool(s, strlen(s), v);
}

/* A column built from values, each classified as kho_classify does. */
static kho_colinfer_t column(const char *const *vals, size_t n)
{
    kho_colinfer_t c;
    memset(&c, 0, sizeof c);
    for (size_t i = 0; i < n; i++)
        kho_colinfer_add(&c, cls(vals[i]), vals[i], strlen(vals[i]), i + 2);
    return c;
}

#define COLUMN(...)                                                                                                    \
    column((const char *const[]){__VA_ARGS__}, sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* ---- names ---------------------------------------------------------------------- */

static void test_type_and_decimal_names(void **state)
{
    (void)state;
    assert_string_equal(kho_type_name(KHO_TYPE_INTEGER), "integer");
    assert_string_equal(kho_type_name(KHO_TYPE_REAL), "real");
    assert_string_equal(kho_type_name(KHO_TYPE_BOOLEAN), "boolean");
    assert_string_equal(kho_type_name(KHO_TYPE_DATE), "date");
    assert_string_equal(kho_type_name(KHO_TYPE_DATETIME), "datetime");
    assert_string_equal(kho_type_name(KHO_TYPE_TEXT), "text");
    assert_int_equal(kho_type_parse("integer"), KHO_TYPE_INTEGER);
    assert_int_equal(kho_type_parse("int"), KHO_TYPE_INTEGER);
    assert_int_equal(kho_type_parse("number"), KHO_TYPE_REAL);
    assert_int_equal(kho_type_parse("real"), KHO_TYPE_REAL);
    assert_int_equal(kho_type_parse("bool"), KHO_TYPE_BOOLEAN);
    assert_int_equal(kho_type_parse("boolean"), KHO_TYPE_BOOLEAN);
    assert_int_equal(kho_type_parse("date"), KHO_TYPE_DATE);
    assert_int_equal(kho_type_parse("datetime"), KHO_TYPE_DATETIME);
    assert_int_equal(kho_type_parse("string"), KHO_TYPE_TEXT);
    assert_int_equal(kho_type_parse("text"), KHO_TYPE_TEXT);
    assert_int_equal(kho_type_parse("Integer"), -1);
    assert_int_equal(kho_type_parse(""), -1);
    assert_int_equal(kho_type_parse("varchar"), -1);
    assert_int_equal(kho_decimal_parse("auto"), KHO_DEC_AUTO);
    assert_int_equal(kho_decimal_parse("comma"), KHO_DEC_COMMA);
    assert_int_equal(kho_decimal_parse("dot"), KHO_DEC_DOT);
    assert_int_equal(kho_decimal_parse(","), KHO_DEC_COMMA);
    assert_int_equal(kho_decimal_parse("."), KHO_DEC_DOT);
    assert_int_equal(kho_decimal_parse("point"), -1);
    assert_int_equal(kho_decimal_parse(""), -1);
}

/* ---- classification ------------------------------------------------------------- */

static void test_classify_vietnamese_numbers(void **state)
{
    (void)state;
    assert_bits("1.234,5", NUMC);
    assert_bits("1.234.567", NUMC | INTC);
    assert_bits("-1.234.567", NUMC | INTC);
    assert_bits("-1.234,5", NUMC);
    assert_bits("+1.234,5", NUMC);
    assert_bits("0,5", NUMC);
    assert_bits("12,5", NUMC);
    assert_bits("1.234.567,89", NUMC);
    assert_bits("  1.234,5\t", NUMC); /* spaces and tabs around are ignored */
    /* a group must have exactly three digits; the lead at most three and no leading zero */
    assert_bits("1.23,5", 0);
    assert_bits("1234.567,5", 0);
    assert_bits("01.234,5", 0);
    assert_bits("1.2345", NUMD); /* only the international reading works */
}

static void test_classify_international_numbers(void **state)
{
    (void)state;
    assert_bits("1,234.5", NUMD);
    assert_bits("1,234,567", NUMD | INTD);
    assert_bits("1,234,567.25", NUMD);
    assert_bits("1.5e3", NUMD);
    assert_bits("1.5E-3", NUMD);
    assert_bits("-2e+10", NUMD);
    assert_bits("1e5", NUMD); /* exponent form: a real, never an integer */
    assert_bits("0.5", NUMD);
    assert_bits("-0.25", NUMD);
    assert_bits("1e", 0);
    assert_bits("1.5e", 0);
    assert_bits("1,5e3", 0); /* exponents only in the international convention */
}

static void test_classify_ambiguous(void **state)
{
    (void)state;
    /* 1.234 is 1234 (Vietnamese) or 1.234 (international) */
    assert_bits("1.234", NUMC | INTC | NUMD | AMBIG);
    /* 1,234 is 1.234 (Vietnamese) or 1234 (international) */
    assert_bits("1,234", NUMC | NUMD | INTD | AMBIG);
    assert_bits("-999.999", NUMC | INTC | NUMD | AMBIG);
    /* plain numbers read the same under both conventions */
    assert_bits("123", WHOLE);
    assert_bits("0", WHOLE);
    assert_bits("-0", WHOLE);
    assert_bits("+7", WHOLE);
    assert_bits("1234567", WHOLE);
    assert_bits("9223372036854775807", WHOLE);
    assert_bits("-9223372036854775808", WHOLE);
    /* beyond 64 bits: a number (a declared real column takes it) flagged BIGINT,
     * which keeps an inferred column text so that no digit is rounded away */
    assert_bits("9223372036854775808", NUMC | NUMD | KHO_C_BIGINT);
    assert_bits("-9223372036854775809", NUMC | NUMD | KHO_C_BIGINT);
    assert_bits("9.223.372.036.854.775.808", NUMC | KHO_C_BIGINT);
    assert_bits("9,223,372,036,854,775,808", NUMD | KHO_C_BIGINT);
}

static void test_classify_codes_and_leading_zeros(void **state)
{
    (void)state;
    assert_bits("007", 0); /* a code, not a number */
    assert_bits("01234", CODE5);
    assert_bits("00001", CODE5);
    assert_bits("01", CODE2);
    assert_bits("00", CODE2);
    assert_bits("12031", WHOLE | CODE5);
    assert_bits(" 12031 ", WHOLE | CODE5);
    assert_bits("33", WHOLE | CODE2);
    assert_bits("1234", WHOLE);
    assert_bits("123456", WHOLE);
    assert_bits("-1234", WHOLE); /* five characters but not five digits */
    assert_bits("+12", WHOLE);
    assert_bits("1.234", NUMC | INTC | NUMD | AMBIG); /* five characters, not five digits */
    assert_bits("0123456", 0);
    assert_bits("007.5", 0);
}

static void test_classify_dates(void **state)
{
    (void)state;
    assert_bits("2024-03-31", DATE | DTIME);
    assert_bits("31/03/2024", DATE | DTIME);
    assert_bits("31-03-2024", DATE | DTIME);
    assert_bits("31.03.2024", DATE | DTIME);
    assert_bits("1/3/2024", DATE | DTIME);
    assert_bits("01/3/2024", DATE | DTIME);
    assert_bits(" 31/03/2024 ", DATE | DTIME);
    assert_bits("29/02/2024", DATE | DTIME); /* 2024 is a leap year */
    assert_bits("2024-02-29", DATE | DTIME);
    assert_bits("29/02/2000", DATE | DTIME); /* divisible by 400 */
    /* not calendar dates */
    assert_bits("31/02/2024", 0);
    assert_bits("29/02/2023", 0);
    assert_bits("2023-02-29", 0);
    assert_bits("29/02/1900", 0); /* divisible by 100, not 400 */
    assert_bits("31/04/2024", 0);
    assert_bits("00/01/2024", 0);
    assert_bits("01/13/2024", 0);
    assert_bits("12/31/2024", 0); /* month first is not accepted */
    assert_bits("2024-00-10", 0);
    assert_bits("2024-13-01", 0);
    assert_bits("0999-01-01", 0);
    assert_bits("31/03-2024", 0); /* mixed separators */
    assert_bits("31/03/24", 0);   /* two-digit year */
    assert_bits("2024/03/31", 0);
    assert_bits("31/03/20245", 0);
    assert_bits("123/03/2024", 0);
}

static void test_classify_datetimes(void **state)
{
    (void)state;
    assert_bits("2024-03-31T08:30", DTIME);
    assert_bits("2024-03-31 08:30", DTIME);
    assert_bits("2024-03-31T08:30:15", DTIME);
    assert_bits("2024-03-31T08:30:15.123", DTIME);
    assert_bits("2024-03-31T08:30:15.123Z", DTIME);
    assert_bits("2024-03-31T08:30:15Z", DTIME);
    assert_bits("2024-03-31T08:30:15+07:00", DTIME);
    assert_bits("2024-03-31T08:30:15-05:30", DTIME);
    assert_bits("31/03/2024 08:30", DTIME);
    assert_bits("31/03/2024 08:30:00", DTIME);
    assert_bits("31.03.2024 23:59:59", DTIME);
    assert_bits("31/02/2024 08:30", 0);
    assert_bits("2024-03-31T24:00", 0);
    assert_bits("2024-03-31T08:60", 0);
    assert_bits("2024-03-31T08:30:61", 0);
    assert_bits("2024-03-31T8:30", 0);
    assert_bits("2024-03-31X08:30", 0);
    assert_bits("2024-03-31T08:30:15.", 0);
    assert_bits("2024-03-31T08:30+15:00", 0);
    assert_bits("2024-03-31T08:30 Z", 0);
}

static void test_classify_booleans_and_text(void **state)
{
    (void)state;
    assert_bits("true", BOOLB);
    assert_bits("Không", BOOLB);
    assert_bits("Đúng", BOOLB);
    assert_bits("hello", 0);
    assert_bits("Hà Nội", 0);
    assert_bits("N/A", 0);
    assert_bits("1", WHOLE); /* 1 and 0 are numbers, not booleans */
    assert_bits("t", 0);
}

/* A JSON number means the same under either decimal convention: both bits. */
static void test_classify_json_number(void **state)
{
    (void)state;
    assert_int_equal(kho_classify_json_number("12", 2), NUMD | INTD | NUMC | INTC);
    assert_int_equal(kho_classify_json_number("-5", 2), NUMD | INTD | NUMC | INTC);
    assert_int_equal(kho_classify_json_number("1.5", 3), NUMD | NUMC);
    assert_int_equal(kho_classify_json_number("1e3", 3), NUMD | NUMC);
    assert_int_equal(kho_classify_json_number("1234.5", 6), NUMD | NUMC);
    assert_int_equal(kho_classify_json_number("9223372036854775808", 19), NUMD | NUMC);
    /* no group separators in JSON, and no CODE bits */
    assert_int_equal(kho_classify_json_number("1,234", 5), 0);
    assert_int_equal(kho_classify_json_number("12031", 5), NUMD | INTD | NUMC | INTC);
}

/* ---- hostile values -------------------------------------------------------------- */

static void test_hostile_values(void **state)
{
    (void)state;
    assert_bits("", 0);
    assert_bits("   ", 0);
    assert_bits("-", 0);
    assert_bits("+", 0);
    assert_bits(".", 0);
    assert_bits(",", 0);
    assert_bits("-.", 0);
    assert_bits("--1", 0);
    assert_bits("+-1", 0);
    assert_bits("1..2", 0);
    assert_bits("1,,2", 0);
    assert_bits("1.,2", 0);
    assert_bits(".5", 0);
    assert_bits("5.", 0);
    assert_bits("5,", 0);
    assert_bits("1 234", 0);
    assert_bits("1_000", 0);
    assert_bits("0x1F", 0);
    assert_bits("１２３", 0); /* full-width digits are text */
    assert_bits("١٢٣", 0);    /* Arabic-Indic digits too */
    assert_bits("nan", 0);
    assert_bits("inf", 0);
    assert_bits("-inf", 0);
    assert_bits("Infinity", 0);
    expect_not_number("", KHO_DEC_COMMA);
    expect_not_number("-", KHO_DEC_COMMA);
    expect_not_number("+", KHO_DEC_DOT);
    expect_not_number(".", KHO_DEC_DOT);
    expect_not_number(",", KHO_DEC_COMMA);
    expect_not_number("1..2", KHO_DEC_DOT);
    expect_not_number("1,,2", KHO_DEC_COMMA);
    expect_not_number("１２３", KHO_DEC_COMMA);
    expect_not_number("nan", KHO_DEC_DOT);
    expect_not_number("inf", KHO_DEC_DOT);

    /* very long digit strings: never integers, never codes, no crash */
    char big[301];
    memset(big, '7', 300);
    big[300] = '\0';
    unsigned b = cls(big);
    assert_int_equal(b & (INTC | INTD | CODE5 | CODE2 | DATE | DTIME | BOOLB), 0);
    bool is_int = true;
    int64_t iv = 0;
    double dv = 0;
    int rc = kho_parse_number(big, 300, KHO_DEC_COMMA, &is_int, &iv, &dv);
    if (rc == 0)
        assert_false(is_int);
    big[200] = '\0';
    b = cls(big);
    assert_int_equal(b & (INTC | INTD | CODE5 | CODE2 | DATE | DTIME | BOOLB), 0);
    /* a 100-digit whole number: a number, but beyond 64 bits */
    big[100] = '\0';
    assert_bits(big, NUMC | NUMD | KHO_C_BIGINT);
    expect_real(big, KHO_DEC_DOT, strtod(big, NULL));
    /* long strings of separators and signs */
    char seps[260];
    memset(seps, '.', sizeof seps - 1);
    seps[sizeof seps - 1] = '\0';
    assert_bits(seps, 0);
    memset(seps, '-', sizeof seps - 1);
    assert_bits(seps, 0);
    seps[0] = '1';
    assert_bits(seps, 0);
    /* a long value that starts like a date */
    char longdate[300] = "31/03/2024 08:30:00.";
    memset(longdate + strlen(longdate), '9', 250);
    longdate[270] = '\0';
    char out[48];
    assert_int_equal(kho_parse_datetime(longdate, strlen(longdate), out), 0); /* fraction kept, truncated */
    assert_int_equal(strlen(out), strlen("2024-03-31T08:30:00.") + 10);
    assert_bits(longdate, DTIME);
    /* not null-terminated input: the length is honoured */
    assert_int_equal(kho_classify("12345678", 2), WHOLE | CODE2);
    assert_int_equal(kho_classify("2024-03-31garbage", 10), DATE | DTIME);
}

/* ---- numbers ------------------------------------------------------------------------ */

static void test_parse_number_vietnamese(void **state)
{
    (void)state;
    expect_real("1.234,5", KHO_DEC_COMMA, 1234.5);
    expect_int("1.234.567", KHO_DEC_COMMA, 1234567);
    expect_int("1.234", KHO_DEC_COMMA, 1234);
    expect_real("1,234", KHO_DEC_COMMA, 1.234);
    expect_real("-0,5", KHO_DEC_COMMA, -0.5);
    expect_int(" 42 ", KHO_DEC_COMMA, 42);
    expect_int("-42", KHO_DEC_COMMA, -42);
    expect_int("+42", KHO_DEC_COMMA, 42);
    expect_real("8.854,13", KHO_DEC_COMMA, 8854.13);
    expect_not_number("1,234.5", KHO_DEC_COMMA);
    expect_not_number("1.5e3", KHO_DEC_COMMA);
    expect_not_number("007", KHO_DEC_COMMA);
    expect_not_number("abc", KHO_DEC_COMMA);
    /* AUTO reads like the Vietnamese convention */
    expect_int("1.234", KHO_DEC_AUTO, 1234);
}

static void test_parse_number_international(void **state)
{
    (void)state;
    expect_real("1,234.5", KHO_DEC_DOT, 1234.5);
    expect_int("1,234,567", KHO_DEC_DOT, 1234567);
    expect_real("1.234", KHO_DEC_DOT, 1.234);
    expect_int("1,234", KHO_DEC_DOT, 1234);
    expect_real("1.5e3", KHO_DEC_DOT, 1500.0);
    expect_real("1E3", KHO_DEC_DOT, 1000.0);
    expect_real("-2.5e-3", KHO_DEC_DOT, -0.0025);
    expect_real("8854.13", KHO_DEC_DOT, 8854.13);
    expect_real("0.1", KHO_DEC_DOT, 0.1);
    expect_not_number("1.234,5", KHO_DEC_DOT);
    expect_not_number("1.234.567", KHO_DEC_DOT);
    expect_not_number("01", KHO_DEC_DOT);
}

static void test_parse_number_int64_limits(void **state)
{
    (void)state;
    expect_int("9223372036854775807", KHO_DEC_COMMA, INT64_MAX);
    expect_int("-9223372036854775808", KHO_DEC_DOT, INT64_MIN);
    expect_int("9.223.372.036.854.775.807", KHO_DEC_COMMA, INT64_MAX);
    expect_int("9,223,372,036,854,775,807", KHO_DEC_DOT, INT64_MAX);
    /* one past: a real, not a wrapped or clamped integer */
    expect_real("9223372036854775808", KHO_DEC_COMMA, 9223372036854775808.0);
    expect_real("9223372036854775808", KHO_DEC_DOT, 9223372036854775808.0);
    expect_real("-9223372036854775809", KHO_DEC_DOT, -9223372036854775809.0);
    expect_real("9.223.372.036.854.775.808", KHO_DEC_COMMA, 9223372036854775808.0);
    expect_real("99999999999999999999999", KHO_DEC_COMMA, 1e23);
    expect_real("1.000.000.000.000.000.000.000", KHO_DEC_COMMA, 1e21);
}

/* A value beyond the range of a double is not read as infinity: it would load
 * as Inf and come out of the JSON API as null, or as "inf" in CSV exports. */
static void test_parse_number_beyond_double_range(void **state)
{
    (void)state;
    bool is_int = false;
    int64_t iv = 0;
    double dv = 0;
    int rc = kho_parse_number("1e400", 5, KHO_DEC_DOT, &is_int, &iv, &dv);
    if (rc == 0)
        fail_msg("kho_parse_number(\"1e400\") = %g, expected -1", dv);
    rc = kho_parse_number("-1e400", 6, KHO_DEC_DOT, &is_int, &iv, &dv);
    if (rc == 0)
        fail_msg("kho_parse_number(\"-1e400\") = %g, expected -1", dv);
    assert_int_equal(cls("1e400") & (NUMC | NUMD), 0);
    expect_real("1e308", KHO_DEC_DOT, 1e308); /* the largest powers still read */
}

/* ---- booleans ----------------------------------------------------------------------- */

static void test_parse_bool(void **state)
{
    (void)state;
    static const char *yes[] = {"true",
                                "TRUE",
                                "True",
                                "tRuE",
                                "yes",
                                "YES",
                                "Yes",
                                "có",
                                "Có",
                                "CÓ",
                                "co",
                                "CO",
                                "đúng",
                                "Đúng",
                                "ĐÚNG",
                                "dung",
                                "DUNG",
                                " true ",
                                "\tcó\t",
                                "Co\xcc\x81",           /* C o + combining acute */
                                "\xc4\x91u\xcc\x81ng"}; /* đ u + combining acute n g */
    static const char *no[] = {"false",        "FALSE",         "False", "no",    "NO",  "No",  "không",
                               "Không",        "KHÔNG",         "khong", "KHONG", "sai", "Sai", "SAI",
                               " sai ",        "kho\xcc\x82ng", /* không with a combining circumflex */
                               "KHO\xcc\x82NG"};                /* KHÔNG decomposed */
    static const char *neither[] = {"",       " ",  "t",     "f",       "y",          "n",     "1",
                                    "0",      "on", "off",   "truee",   "yess",       "nope",  "cóc",
                                    "khôngg", "đ",  "dungs", "sai sai", "true false", "đúng!", "null"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        bool v = false;
        if (pbool(yes[i], &v) != 0 || !v)
            fail_msg("kho_parse_bool(\"%s\") should be true", yes[i]);
        if (!(cls(yes[i]) & BOOLB))
            fail_msg("kho_classify(\"%s\") lacks the boolean bit", yes[i]);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        bool v = true;
        if (pbool(no[i], &v) != 0 || v)
            fail_msg("kho_parse_bool(\"%s\") should be false", no[i]);
        if (!(cls(no[i]) & BOOLB))
            fail_msg("kho_classify(\"%s\") lacks the boolean bit", no[i]);
    }
    for (size_t i = 0; i < sizeof neither / sizeof neither[0]; i++) {
        bool v;
        if (pbool(neither[i], &v) != -1)
            fail_msg("kho_parse_bool(\"%s\") should not be a boolean", neither[i]);
    }
}

/* ---- dates -------------------------------------------------------------------------- */

static void test_parse_date_normal_form(void **state)
{
    (void)state;
    expect_date("2024-03-31", "2024-03-31");
    expect_date("31/03/2024", "2024-03-31");
    expect_date("31-03-2024", "2024-03-31");
    expect_date("31.03.2024", "2024-03-31");
    expect_date("1/3/2024", "2024-03-01");
    expect_date("9.12.1999", "1999-12-09");
    expect_date("  29/02/2024 ", "2024-02-29");
    expect_date("29/02/2023", NULL);
    expect_date("31/02/2024", NULL);
    expect_date("2024-03-31T08:00", NULL); /* a date-time is not a date */
    expect_date("2024-03-31 ", "2024-03-31");
    expect_date("2024-03-31x", NULL);
    expect_date("2024-3-31", NULL);
    expect_date("", NULL);
    expect_date("31/03/24", NULL);
}

static void test_parse_datetime_normal_form(void **state)
{
    (void)state;
    expect_dt("2024-03-31", "2024-03-31T00:00:00");
    expect_dt("31/03/2024", "2024-03-31T00:00:00");
    expect_dt("2024-03-31T08:30", "2024-03-31T08:30:00");
    expect_dt("2024-03-31 08:30", "2024-03-31T08:30:00");
    expect_dt("31/03/2024 08:30:15", "2024-03-31T08:30:15");
    expect_dt("31.03.2024 23:59:60", "2024-03-31T23:59:60"); /* leap second */
    expect_dt("2024-03-31T08:30:15.123", "2024-03-31T08:30:15.123");
    expect_dt("2024-03-31T08:30:15,5", "2024-03-31T08:30:15.5");
    expect_dt("2024-03-31T08:30:15.123Z", "2024-03-31T08:30:15.123Z");
    expect_dt("2024-03-31T08:30Z", "2024-03-31T08:30:00Z");
    expect_dt("2024-03-31T08:30:15+07:00", "2024-03-31T08:30:15+07:00");
    expect_dt("2024-03-31T08:30:15+0700", "2024-03-31T08:30:15+07:00");
    expect_dt("2024-03-31T08:30:15+07", "2024-03-31T08:30:15+07:00");
    expect_dt("2024-03-31T08:30:15-05:30", "2024-03-31T08:30:15-05:30");
    expect_dt(" 2024-03-31T00:00:00 ", "2024-03-31T00:00:00");
    expect_dt("2024-03-31T24:00", NULL);
    expect_dt("2024-03-31T23:60", NULL);
    expect_dt("2024-03-31T08:30:61", NULL);
    expect_dt("2024-03-31T08", NULL);
    expect_dt("2024-03-31T08:3", NULL);
    expect_dt("2024-03-31T08:30:1", NULL);
    expect_dt("2024-03-31T08:30:15.", NULL);
    expect_dt("2024-03-31T08:30:15+7", NULL);
    expect_dt("2024-03-31T08:30:15+07:0", NULL);
    expect_dt("2024-03-31T08:30:15+07:60", NULL);
    expect_dt("2024-03-31T08:30:15Z+07:00", NULL);
    expect_dt("2024-03-31T", NULL);
    expect_dt("30/02/2024 08:30", NULL);
    expect_dt("", NULL);
}

/* A time-zone offset that stops after its colon ("+07:") is not ISO 8601. */
static void test_parse_datetime_rejects_dangling_offset_colon(void **state)
{
    (void)state;
    expect_dt("2024-03-31T08:30:15+07:", NULL);
    assert_bits("2024-03-31T08:30:15+07:", 0);
}

/* ---- null marks --------------------------------------------------------------------- */

static bool isnull(const kho_nullmarks_t *m, const char *s)
{
    return kho_is_null(m, s, strlen(s));
}

static void test_nullmarks(void **state)
{
    (void)state;
    kho_nullmarks_t m;
    kho_nullmarks_init(&m, "-|..|N/A|null||#N/A|");
    assert_int_equal(m.n, 5); /* empty entries are skipped */
    assert_string_equal(m.marks[0], "-");
    assert_string_equal(m.marks[4], "#N/A");
    assert_true(isnull(&m, ""));
    assert_true(isnull(&m, "   "));
    assert_true(isnull(&m, "\t"));
    assert_true(isnull(&m, "-"));
    assert_true(isnull(&m, " - "));
    assert_true(isnull(&m, ".."));
    assert_true(isnull(&m, "N/A"));
    assert_true(isnull(&m, "n/a"));
    assert_true(isnull(&m, "  n/A  "));
    assert_true(isnull(&m, "NULL"));
    assert_true(isnull(&m, "Null"));
    assert_true(isnull(&m, "#n/a"));
    assert_false(isnull(&m, "--"));
    assert_false(isnull(&m, "."));
    assert_false(isnull(&m, "NA"));
    assert_false(isnull(&m, "N/A."));
    assert_false(isnull(&m, "nul"));
    assert_false(isnull(&m, "0"));
    assert_false(isnull(&m, "x"));
    assert_true(kho_is_null(&m, "N/A and more", 3)); /* the length is honoured */
    kho_nullmarks_free(&m);
    assert_int_equal(m.n, 0);
    assert_null(m.marks);

    kho_nullmarks_init(&m, NULL);
    assert_int_equal(m.n, 0);
    assert_true(isnull(&m, ""));
    assert_true(isnull(&m, "  "));
    assert_false(isnull(&m, "-"));
    kho_nullmarks_free(&m);

    kho_nullmarks_init(&m, "");
    assert_int_equal(m.n, 0);
    kho_nullmarks_free(&m);

    /* case folding is ASCII only: a Vietnamese mark matches as written */
    kho_nullmarks_init(&m, "KXĐ");
    assert_true(isnull(&m, "KXĐ"));
    assert_true(isnull(&m, "kxĐ"));
    assert_false(isnull(&m, "kxđ"));
    kho_nullmarks_free(&m);
}

/* Marks longer than eight bytes are as valid as short ones ("không có" is 9 bytes). */
static void test_nullmarks_longer_than_eight_bytes(void **state)
{
    (void)state;
    kho_nullmarks_t m;
    kho_nullmarks_init(&m, "không có|not available|-");
    assert_int_equal(m.n, 3);
    assert_true(isnull(&m, "-"));
    assert_true(isnull(&m, "not available"));
    assert_true(isnull(&m, "NOT AVAILABLE"));
    assert_true(isnull(&m, "không có"));
    kho_nullmarks_free(&m);
}

/* ---- column decisions ----------------------------------------------------------- */

static void test_colinfer_counts(void **state)
{
    (void)state;
    kho_colinfer_t c = COLUMN("1.234", "x", "2024-01-01", "12031");
    assert_int_equal(c.nonnull, 4);
    assert_int_equal(c.count[0], 2); /* NUM_COMMA: 1.234, 12031 */
    assert_int_equal(c.count[1], 2); /* INT_COMMA */
    assert_int_equal(c.count[2], 2); /* NUM_DOT */
    assert_int_equal(c.count[3], 1); /* INT_DOT: only 12031 */
    assert_int_equal(c.count[4], 1); /* AMBIG */
    assert_int_equal(c.count[6], 1); /* DATE */
    assert_int_equal(c.count[7], 1); /* DATETIME */
    assert_int_equal(c.count[8], 1); /* CODE5 */
    /* examples of values that kept the column from being numbers / dates */
    assert_int_equal(c.n_not_number, 2);
    assert_string_equal(c.not_number[0].value, "x");
    assert_int_equal(c.not_number[0].line, 3);
    assert_string_equal(c.not_number[1].value, "2024-01-01");
    assert_int_equal(c.not_number[1].line, 4);
    assert_int_equal(c.n_not_date, 3);
    assert_string_equal(c.not_date[0].value, "1.234");
    assert_string_equal(c.not_date[2].value, "12031");
    assert_int_equal(c.not_date[2].line, 5);
}

static void test_colinfer_examples_bounded_and_truncated(void **state)
{
    (void)state;
    kho_colinfer_t c;
    memset(&c, 0, sizeof c);
    char longv[300];
    size_t k = (size_t)snprintf(longv, sizeof longv, "a");
    for (int i = 0; i < 99; i++)
        k += (size_t)snprintf(longv + k, sizeof longv - k, "ữ"); /* 3 bytes each */
    for (uint64_t i = 0; i < 10; i++)
        kho_colinfer_add(&c, 0, longv, strlen(longv), 100 + i);
    assert_int_equal(c.nonnull, 10);
    assert_int_equal(c.n_not_number, KHO_INFER_EXAMPLES);
    assert_int_equal(c.not_number[2].line, 102);
    /* truncated to fit 80 bytes without cutting a character: "a" + 26 x 3 bytes */
    assert_int_equal(strlen(c.not_number[0].value), 79);
    assert_memory_equal(c.not_number[0].value, longv, 79);
}

static void test_colinfer_integer_and_real(void **state)
{
    (void)state;
    kho_colinfer_t c = COLUMN("1", "2", "-3", "1.234.567");
    kho_coltype_t t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO);
    assert_int_equal(t.type, KHO_TYPE_INTEGER);
    assert_int_equal(t.dec, KHO_DEC_COMMA);
    assert_false(t.ambiguous);
    assert_int_equal(kho_colinfer_evidence(&c), KHO_DEC_COMMA);

    c = COLUMN("1", "2,5", "1.234,5");
    t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO);
    assert_int_equal(t.type, KHO_TYPE_REAL);
    assert_int_equal(t.dec, KHO_DEC_COMMA);
    assert_false(t.ambiguous);

    c = COLUMN("1", "2.5", "1,234.5", "1e3");
    t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO);
    assert_int_equal(t.type, KHO_TYPE_REAL);
    assert_int_equal(t.dec, KHO_DEC_DOT);
    assert_int_equal(kho_colinfer_evidence(&c), KHO_DEC_DOT);

    /* a column of plain whole numbers gives no evidence either way */
    c = COLUMN("10", "20", "30");
    t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO);
    assert_int_equal(t.type, KHO_TYPE_INTEGER);
    assert_int_equal(kho_colinfer_evidence(&c), KHO_DEC_AUTO);

    /* one whole number beyond 64 bits keeps the column text (a double would round it) */
    c = COLUMN("1", "9223372036854775808");
    t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO);
    assert_int_equal(t.type, KHO_TYPE_TEXT);

    /* the two conventions cannot be mixed in one column */
    c = COLUMN("1.234,5", "1,234.5");
    t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO);
    assert_int_equal(t.type, KHO_TYPE_TEXT);
    assert_int_equal(kho_colinfer_evidence(&c), KHO_DEC_AUTO);
}

static void test_colinfer_ambiguous_follows_file_evidence(void **state)
{
    (void)state;
    kho_colinfer_t c = COLUMN("1.234", "5.678", "12");
    assert_int_equal(kho_colinfer_evidence(&c), KHO_DEC_AUTO);
    /* no evidence: the Vietnamese reading */
    kho_coltype_t t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO);
    assert_int_equal(t.type, KHO_TYPE_INTEGER);
    assert_int_equal(t.dec, KHO_DEC_COMMA);
    assert_true(t.ambiguous);
    /* the rest of the file wrote 1,5: Vietnamese */
    t = kho_colinfer_decide(&c, KHO_DEC_COMMA, KHO_DEC_AUTO);
    assert_int_equal(t.type, KHO_TYPE_INTEGER);
    assert_int_equal(t.dec, KHO_DEC_COMMA);
    assert_true(t.ambiguous);
    /* the rest of the file wrote 1.5: international */
    t = kho_colinfer_decide(&c, KHO_DEC_DOT, KHO_DEC_AUTO);
    assert_int_equal(t.type, KHO_TYPE_REAL);
    assert_int_equal(t.dec, KHO_DEC_DOT);
    assert_true(t.ambiguous);
    /* a forced setting beats the file's evidence */
    t = kho_colinfer_decide(&c, KHO_DEC_DOT, KHO_DEC_COMMA);
    assert_int_equal(t.type, KHO_TYPE_INTEGER);
    assert_int_equal(t.dec, KHO_DEC_COMMA);

    /* 1,234 columns: integer under dot, real under comma */
    c = COLUMN("1,234", "2,500");
    t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO);
    assert_int_equal(t.type, KHO_TYPE_REAL);
    assert_int_equal(t.dec, KHO_DEC_COMMA);
    assert_true(t.ambiguous);
    t = kho_colinfer_decide(&c, KHO_DEC_DOT, KHO_DEC_AUTO);
    assert_int_equal(t.type, KHO_TYPE_INTEGER);
    assert_int_equal(t.dec, KHO_DEC_DOT);

    /* a column's own unambiguous value settles it, whatever the file says */
    c = COLUMN("1.234", "0,5");
    t = kho_colinfer_decide(&c, KHO_DEC_DOT, KHO_DEC_AUTO);
    assert_int_equal(t.type, KHO_TYPE_REAL);
    assert_int_equal(t.dec, KHO_DEC_COMMA);
    assert_false(t.ambiguous);
    assert_int_equal(kho_colinfer_evidence(&c), KHO_DEC_COMMA);
}

static void test_colinfer_forced_decimal(void **state)
{
    (void)state;
    kho_colinfer_t c = COLUMN("1.234", "2.5");
    kho_coltype_t t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_DOT);
    assert_int_equal(t.type, KHO_TYPE_REAL);
    assert_int_equal(t.dec, KHO_DEC_DOT);
    /* forced comma cannot read 2.5: the column keeps its text */
    t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_COMMA);
    assert_int_equal(t.type, KHO_TYPE_TEXT);
    c = COLUMN("1.234", "5.000");
    t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_DOT);
    assert_int_equal(t.type, KHO_TYPE_REAL);
    t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_COMMA);
    assert_int_equal(t.type, KHO_TYPE_INTEGER);
}

static void test_colinfer_booleans_dates_text(void **state)
{
    (void)state;
    kho_colinfer_t c = COLUMN("có", "Không", "TRUE", "sai");
    kho_coltype_t t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO);
    assert_int_equal(t.type, KHO_TYPE_BOOLEAN);

    c = COLUMN("31/03/2024", "2024-04-01", "1.2.2024");
    t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO);
    assert_int_equal(t.type, KHO_TYPE_DATE);

    c = COLUMN("31/03/2024", "2024-04-01T08:00:00Z");
    t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO);
    assert_int_equal(t.type, KHO_TYPE_DATETIME);

    /* mixed: text, never a guess */
    c = COLUMN("1", "true");
    assert_int_equal(kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO).type, KHO_TYPE_TEXT);
    c = COLUMN("31/03/2024", "hôm qua");
    assert_int_equal(kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO).type, KHO_TYPE_TEXT);
    c = COLUMN("12", "13", "007");
    assert_int_equal(kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO).type, KHO_TYPE_TEXT);
    c = COLUMN("31/02/2024", "01/03/2024");
    assert_int_equal(kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO).type, KHO_TYPE_TEXT);

    /* an empty column is text */
    kho_colinfer_t e;
    memset(&e, 0, sizeof e);
    t = kho_colinfer_decide(&e, KHO_DEC_COMMA, KHO_DEC_AUTO);
    assert_int_equal(t.type, KHO_TYPE_TEXT);
    assert_false(t.code5);
    assert_false(t.code2);
    assert_int_equal(kho_colinfer_evidence(&e), KHO_DEC_AUTO);
}

static void test_colinfer_code_flags(void **state)
{
    (void)state;
    kho_colinfer_t c = COLUMN("12031", "11953", "00004");
    kho_coltype_t t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO);
    assert_true(t.code5);
    assert_false(t.code2);
    assert_int_equal(t.type, KHO_TYPE_TEXT); /* 00004 is no number */

    c = COLUMN("12031", "11953");
    t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO);
    assert_true(t.code5);
    assert_int_equal(t.type, KHO_TYPE_INTEGER);

    c = COLUMN("33", "01", "79");
    t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO);
    assert_true(t.code2);
    assert_false(t.code5);
    assert_int_equal(t.type, KHO_TYPE_TEXT);

    c = COLUMN("33", "1");
    t = kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO);
    assert_false(t.code2);
    assert_int_equal(t.type, KHO_TYPE_INTEGER);

    c = COLUMN("12031", "1203");
    assert_false(kho_colinfer_decide(&c, KHO_DEC_AUTO, KHO_DEC_AUTO).code5);
}

static void test_fits(void **state)
{
    (void)state;
    unsigned amb_dot = cls("1.234"), amb_comma = cls("1,234");
    assert_true(kho_fits(amb_dot, KHO_TYPE_INTEGER, KHO_DEC_COMMA));
    assert_false(kho_fits(amb_dot, KHO_TYPE_INTEGER, KHO_DEC_DOT));
    assert_true(kho_fits(amb_dot, KHO_TYPE_REAL, KHO_DEC_DOT));
    assert_true(kho_fits(amb_dot, KHO_TYPE_REAL, KHO_DEC_COMMA));
    assert_false(kho_fits(amb_comma, KHO_TYPE_INTEGER, KHO_DEC_COMMA));
    assert_true(kho_fits(amb_comma, KHO_TYPE_INTEGER, KHO_DEC_DOT));
    assert_true(kho_fits(cls("1.234,5"), KHO_TYPE_REAL, KHO_DEC_COMMA));
    assert_false(kho_fits(cls("1.234,5"), KHO_TYPE_REAL, KHO_DEC_DOT));
    assert_false(kho_fits(cls("1.234,5"), KHO_TYPE_INTEGER, KHO_DEC_COMMA));
    assert_true(kho_fits(cls("1.5e3"), KHO_TYPE_REAL, KHO_DEC_DOT));
    assert_false(kho_fits(cls("1.5e3"), KHO_TYPE_INTEGER, KHO_DEC_DOT));
    assert_true(kho_fits(cls("có"), KHO_TYPE_BOOLEAN, KHO_DEC_AUTO));
    assert_false(kho_fits(cls("1"), KHO_TYPE_BOOLEAN, KHO_DEC_AUTO));
    assert_true(kho_fits(cls("31/03/2024"), KHO_TYPE_DATE, KHO_DEC_AUTO));
    assert_true(kho_fits(cls("31/03/2024"), KHO_TYPE_DATETIME, KHO_DEC_AUTO));
    assert_false(kho_fits(cls("31/03/2024 08:00"), KHO_TYPE_DATE, KHO_DEC_AUTO));
    assert_true(kho_fits(cls("31/03/2024 08:00"), KHO_TYPE_DATETIME, KHO_DEC_AUTO));
    assert_false(kho_fits(cls("abc"), KHO_TYPE_INTEGER, KHO_DEC_COMMA));
    assert_false(kho_fits(cls("abc"), KHO_TYPE_DATE, KHO_DEC_COMMA));
    assert_true(kho_fits(cls("abc"), KHO_TYPE_TEXT, KHO_DEC_COMMA));
    assert_true(kho_fits(0, KHO_TYPE_TEXT, KHO_DEC_DOT));
    assert_false(kho_fits(0, KHO_TYPE_REAL, KHO_DEC_DOT));
}

static void test_excerpt(void **state)
{
    (void)state;
    char out[8];
    kho_excerpt("Nghĩa Trụ", strlen("Nghĩa Trụ"), out, 5);
    assert_string_equal(out, "Ngh"); /* ĩ would be cut: dropped whole */
    kho_excerpt("Nghĩa Trụ", strlen("Nghĩa Trụ"), out, 6);
    assert_string_equal(out, "Nghĩ");
    kho_excerpt("abc", 3, out, sizeof out);
    assert_string_equal(out, "abc");
    kho_excerpt("abcdefghij", 10, out, sizeof out);
    assert_string_equal(out, "abcdefg");
    kho_excerpt("", 0, out, sizeof out);
    assert_string_equal(out, "");
    kho_excerpt("ữữữ", 9, out, sizeof out); /* 7 bytes of room: two characters */
    assert_string_equal(out, "ữữ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_and_decimal_names),
        cmocka_unit_test(test_classify_vietnamese_numbers),
        cmocka_unit_test(test_classify_international_numbers),
        cmocka_unit_test(test_classify_ambiguous),
        cmocka_unit_test(test_classify_codes_and_leading_zeros),
        cmocka_unit_test(test_classify_dates),
        cmocka_unit_test(test_classify_datetimes),
        cmocka_unit_test(test_classify_booleans_and_text),
        cmocka_unit_test(test_classify_json_number),
        cmocka_unit_test(test_hostile_values),
        cmocka_unit_test(test_parse_number_vietnamese),
        cmocka_unit_test(test_parse_number_international),
        cmocka_unit_test(test_parse_number_int64_limits),
        cmocka_unit_test(test_parse_number_beyond_double_range),
        cmocka_unit_test(test_parse_bool),
        cmocka_unit_test(test_parse_date_normal_form),
        cmocka_unit_test(test_parse_datetime_normal_form),
        cmocka_unit_test(test_parse_datetime_rejects_dangling_offset_colon),
        cmocka_unit_test(test_nullmarks),
        cmocka_unit_test(test_nullmarks_longer_than_eight_bytes),
        cmocka_unit_test(test_colinfer_counts),
        cmocka_unit_test(test_colinfer_examples_bounded_and_truncated),
        cmocka_unit_test(test_colinfer_integer_and_real),
        cmocka_unit_test(test_colinfer_ambiguous_follows_file_evidence),
        cmocka_unit_test(test_colinfer_forced_decimal),
        cmocka_unit_test(test_colinfer_booleans_dates_text),
        cmocka_unit_test(test_colinfer_code_flags),
        cmocka_unit_test(test_fits),
        cmocka_unit_test(test_excerpt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
