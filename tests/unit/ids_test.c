/* Unit tests of security/ids: the personal ID number (CCCD), the enterprise tax
 * code (MST) and mobile phone numbers, including hostile input. Valid numbers are
 * built here from the structure documented in ids.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kho_test.h"
#include "security/ids.h"

/* The 63 provinces before the 2025 merger, by their 2-digit codes. */
static const char *const PROVINCES[] = {
    "01", /* Hà Nội */ "02", /* Hà Giang */ "04", /* Cao Bằng */ "06", /* Bắc Kạn */
    "08", /* Tuyên Quang */ "10", /* Lào Cai */ "11", /* Điện Biên */ "12", /* Lai Châu */
    "14", /* Sơn La */ "15", /* Yên Bái */ "17", /* Hoà Bình */ "19", /* Thái Nguyên */
    "20", /* Lạng Sơn */ "22", /* Quảng Ninh */ "24", /* Bắc Giang */ "25", /* Phú Thọ */
    "26", /* Vĩnh Phúc */ "27", /* Bắc Ninh */ "30", /* Hải Dương */ "31", /* Hải Phòng */
    "33", /* Hưng Yên */ "34", /* Thái Bình */ "35", /* Hà Nam */ "36", /* Nam Định */
    "37", /* Ninh Bình */ "38", /* Thanh Hoá */ "40", /* Nghệ An */ "42", /* Hà Tĩnh */
    "44", /* Quảng Bình */ "45", /* Quảng Trị */ "46", /* Thừa Thiên Huế */ "48", /* Đà Nẵng */
    "49", /* Quảng Nam */ "51", /* Quảng Ngãi */ "52", /* Bình Định */ "54", /* Phú Yên */
    "56", /* Khánh Hoà */ "58", /* Ninh Thuận */ "60", /* Bình Thuận */ "62", /* Kon Tum */
    "64", /* Gia Lai */ "66", /* Đắk Lắk */ "67", /* Đắk Nông */ "68", /* Lâm Đồng */
    "70", /* Bình Phước */ "72", /* Tây Ninh */ "74", /* Bình Dương */ "75", /* Đồng Nai */
    "77", /* Bà Rịa - Vũng Tàu */ "79", /* TP Hồ Chí Minh */ "80", /* Long An */ "82", /* Tiền Giang */
    "83", /* Bến Tre */ "84", /* Trà Vinh */ "86", /* Vĩnh Long */ "87", /* Đồng Tháp */
    "89", /* An Giang */ "91", /* Kiên Giang */ "92", /* Cần Thơ */ "93", /* Hậu Giang */
    "94", /* Sóc Trăng */ "95", /* Bạc Liêu */ "96", /* Cà Mau */
};
#define NPROV (sizeof PROVINCES / sizeof PROVINCES[0])

#define YEAR 2025 /* "this year" passed to the checks: fixed, so the tests never age */

static bool cccd(const char *s)
{
    return kho_ids_cccd(s, strlen(s), YEAR, NULL);
}

/* Build an ID number: province (3 digits), century/sex digit, 2-digit year, 6 random digits. */
static void make_cccd(char out[13], const char *prov3, int century_sex, int yy, const char *random6)
{
    snprintf(out, 13, "%s%d%02d%s", prov3, century_sex, yy, random6);
}

/* ---- personal ID number ------------------------------------------------------------- */

static void test_cccd_structure(void **state)
{
    (void)state;
    static const struct {
        const char *prov;
        int cs, yy;
        int year;
        bool female;
    } ok[] = {
        {"033", 0, 85, 1985, false}, /* Hưng Yên, male, 1900s */
        {"034", 1, 90, 1990, true},  /* Thái Bình, female, 1900s */
        {"001", 2, 5, 2005, false},  /* Hà Nội, male, 2000s */
        {"001", 3, 24, 2024, true},  /* female, 2000s */
        {"033", 3, 25, 2025, true},  /* born this year */
        {"034", 8, 99, 1899, false}, /* 1800s */
        {"001", 9, 0, 1800, true},
        {"096", 0, 0, 1900, false},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char s[13];
        make_cccd(s, ok[i].prov, ok[i].cs, ok[i].yy, "123456");
        kho_cccd_t info;
        memset(&info, 0x55, sizeof info);
        if (!kho_ids_cccd(s, 12, YEAR, &info))
            fail_msg("%s should be a valid ID number", s);
        assert_string_equal(info.province, ok[i].prov);
        assert_int_equal(info.birth_year, ok[i].year);
        assert_int_equal(info.female, ok[i].female);
        assert_true(kho_ids_cccd(s, 12, YEAR, NULL)); /* info is optional */
    }
}

static void test_cccd_birth_year_not_in_future(void **state)
{
    (void)state;
    char s[13];
    make_cccd(s, "033", 2, 26, "000001"); /* 2026 > 2025 */
    assert_false(cccd(s));
    assert_true(kho_ids_cccd(s, 12, 2026, NULL));
    make_cccd(s, "033", 3, 99, "000001"); /* 2099 */
    assert_false(cccd(s));
    /* 2100s and 2200s are all in the future today, valid once their time comes */
    for (int cs = 4; cs <= 7; cs++) {
        make_cccd(s, "001", cs, 0, "123456");
        assert_false(cccd(s));
    }
    make_cccd(s, "001", 4, 25, "123456"); /* 2125 */
    kho_cccd_t info;
    assert_true(kho_ids_cccd(s, 12, 2125, &info));
    assert_int_equal(info.birth_year, 2125);
    assert_false(info.female);
    assert_false(kho_ids_cccd(s, 12, 2124, NULL));
    make_cccd(s, "001", 7, 1, "123456"); /* 2201, female */
    assert_true(kho_ids_cccd(s, 12, 2300, &info));
    assert_int_equal(info.birth_year, 2201);
    assert_true(info.female);
}

static void test_cccd_every_province_code(void **state)
{
    (void)state;
    /* every 3-digit code: accepted exactly when it is "0" + one of the 63 codes */
    for (int code = 0; code < 1000; code++) {
        char prov[4], s[13];
        snprintf(prov, sizeof prov, "%03d", code);
        make_cccd(s, prov, 0, 80, "654321");
        bool known = false;
        for (size_t i = 0; i < NPROV; i++)
            known |= prov[0] == '0' && strcmp(prov + 1, PROVINCES[i]) == 0;
        if (cccd(s) != known)
            fail_msg("province code %s: expected %s", prov, known ? "valid" : "refused");
    }
    assert_int_equal(NPROV, 63);
}

static void test_cccd_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "0",
        "03308512345",    /* 11 digits */
        "0330851234567",  /* 13 digits */
        "03308512345a",   /* letter */
        "0330851234 5",   /* space inside */
        " 03308512345",   /* leading space */
        "03308512345 ",   /* trailing space */
        "+33085123456",
        "-33085123456",
        "033-085-123456",
        "033.085.12345",
        "O33085123456",   /* letter O */
        "033O85123456",
        "03308512345\xd9", /* a byte that is not a digit */
        ("\xef\xbc\x90\xef\xbc\x93\xef\xbc\x93" "3085123"), /* full-width digits */
        "03308512345/",   /* ':' and '/' sit next to the digits in ASCII */
        "03308512345:",
        "133085123456",   /* province codes start with 0 */
        "000085123456",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (kho_ids_cccd(bad[i], strlen(bad[i]), YEAR, NULL))
            fail_msg("'%s' should not be a valid ID number", bad[i]);
    /* an embedded NUL within the given length */
    const char nul[12] = {'0', '3', '3', '0', '8', '5', '1', '2', '\0', '4', '5', '6'};
    assert_false(kho_ids_cccd(nul, 12, YEAR, NULL));
    /* n is honoured: a valid prefix of a longer buffer, but not a cut-off one */
    const char *longer = "033085123456789";
    assert_true(kho_ids_cccd(longer, 12, YEAR, NULL));
    assert_false(kho_ids_cccd(longer, 11, YEAR, NULL));
    assert_false(kho_ids_cccd(longer, 13, YEAR, NULL));
    assert_false(kho_ids_cccd(longer, 0, YEAR, NULL));
}

/* ---- tax codes ---------------------------------------------------------------------- */

/* The check digit straight from ids.h: 10 - (weighted sum mod 11); -1 when 10. */
static int check_digit(const char *nine)
{
    static const int w[9] = {31, 29, 23, 19, 17, 13, 7, 5, 3};
    int sum = 0;
    for (int i = 0; i < 9; i++)
        sum += w[i] * (nine[i] - '0');
    int c = 10 - sum % 11;
    return c <= 9 ? c : -1;
}

static uint64_t rng = 0x9E3779B97F4A7C15u;
static unsigned next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 11);
}

/* A random 9-digit prefix whose check digit exists; returns the full 10-digit code. */
static void random_tax(char out[11])
{
    for (;;) {
        out[0] = '0';
        out[1] = (char)('1' + next_rand() % 9);
        for (int i = 2; i < 9; i++)
            out[i] = (char)('0' + next_rand() % 10);
        out[2] = (char)('1' + next_rand() % 9); /* keep the serial part non-zero */
        int c = check_digit(out);
        if (c >= 0) {
            out[9] = (char)('0' + c);
            out[10] = '\0';
            return;
        }
    }
}

static bool tax(const char *s)
{
    return kho_ids_tax_code(s, strlen(s));
}

static void test_tax_check_digit(void **state)
{
    (void)state;
    /* a known real code: 0100109106 */
    assert_int_equal(kho_ids_tax_check_digit("010010910"), 6);
    assert_true(tax("0100109106"));
    /* against the documented formula, over many prefixes (including the -1 case) */
    int impossible = 0;
    for (int i = 0; i < 20000; i++) {
        char nine[10];
        for (int k = 0; k < 9; k++)
            nine[k] = (char)('0' + next_rand() % 10);
        nine[9] = '\0';
        int want = check_digit(nine);
        impossible += want < 0;
        if (kho_ids_tax_check_digit(nine) != want)
            fail_msg("check digit of %s: expected %d, got %d", nine, want, kho_ids_tax_check_digit(nine));
    }
    assert_true(impossible > 0); /* the sum is a multiple of 11 about once in 11 */
    /* a prefix whose weighted sum is 0 mod 11: 000000000 (sum 0) has no check digit */
    assert_int_equal(kho_ids_tax_check_digit("000000000"), -1);
}

static void test_tax_ten_digits(void **state)
{
    (void)state;
    for (int i = 0; i < 500; i++) {
        char code[11];
        random_tax(code);
        if (!tax(code))
            fail_msg("%s should be a valid tax code", code);
        /* every other last digit is wrong */
        for (char d = '0'; d <= '9'; d++) {
            if (d == code[9])
                continue;
            char bad[11];
            memcpy(bad, code, sizeof bad);
            bad[9] = d;
            if (tax(bad))
                fail_msg("%s has a wrong check digit but was accepted", bad);
        }
        /* a changed digit in the body (weights are all prime to 11: always detected) */
        char bad[11];
        memcpy(bad, code, sizeof bad);
        int pos = (int)(next_rand() % 9);
        bad[pos] = (char)('0' + (bad[pos] - '0' + 1 + (int)(next_rand() % 9)) % 10);
        if (tax(bad))
            fail_msg("%s (from %s) was accepted", bad, code);
    }
}

static void test_tax_branches(void **state)
{
    (void)state;
    assert_true(tax("0100109106001"));
    assert_true(tax("0100109106-001"));
    assert_true(tax("0100109106999"));
    assert_true(tax("0100109106-999"));
    assert_true(tax("0100109106-042"));
    /* branch 000 does not exist */
    assert_false(tax("0100109106000"));
    assert_false(tax("0100109106-000"));
    /* the branch form needs a valid 10-digit head */
    assert_false(tax("0100109107001"));
    assert_false(tax("0100109107-001"));
    /* a dash anywhere else */
    assert_false(tax("-0100109106"));
    assert_false(tax("01001-09106"));
    assert_false(tax("010010910-6001"));
    assert_false(tax("0100109106-0-01"));
    assert_false(tax("0100109106-00-1"));
    assert_false(tax("0100109106001-"));
    /* wrong lengths */
    assert_false(tax("0100109106-01"));
    assert_false(tax("0100109106-0001"));
    assert_false(tax("010010910600"));
    assert_false(tax("01001091060011"));
    assert_false(tax("010010910"));
    for (int i = 0; i < 200; i++) {
        char code[11], s[16];
        random_tax(code);
        snprintf(s, sizeof s, "%s%03u", code, 1 + next_rand() % 999);
        assert_true(tax(s));
        snprintf(s, sizeof s, "%s-%03u", code, 1 + next_rand() % 999);
        assert_true(tax(s));
    }
}

/* ids.h: "a dash before the branch number is accepted" — not a dash without
 * one, nor two. */
static void test_tax_dash_only_before_a_branch(void **state)
{
    (void)state;
    assert_false(tax("0100109106-"));
    assert_false(tax("0100109106--001"));
    assert_false(tax("0100109106---"));
}

static void test_tax_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "-",
        "0",
        " 0100109106",
        "0100109106 ",
        "0100 109 106",
        "0100.109.106",
        "01001O9106",
        "+100109106",
        "0100109106/001",
        "0100109106_001",
        "0100109106 001",
        ("0100109106\xe2\x80\x93" "001"), /* en dash */
        "01001091060010100109106",
        "abcdefghij",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (tax(bad[i]))
            fail_msg("'%s' should not be a valid tax code", bad[i]);
    const char nul[10] = {'0', '1', '0', '0', '1', '0', '\0', '1', '0', '6'};
    assert_false(kho_ids_tax_code(nul, 10));
    /* n is honoured */
    assert_true(kho_ids_tax_code("0100109106XYZ", 10));
    assert_false(kho_ids_tax_code("0100109106", 9));
    assert_false(kho_ids_tax_code("0100109106", 0));
    /* a long run of digits never overflows anything */
    char big[4096];
    memset(big, '7', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_false(tax(big));
    memset(big, '-', sizeof big - 1);
    assert_false(tax(big));
}

/* ---- phones ------------------------------------------------------------------------- */

static bool phone(const char *s)
{
    return kho_ids_phone(s, strlen(s));
}

static void test_phone_valid(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "0912345678",      "0312345678",       "0512345678",       "0712345678",        "0812345678",
        "0987654321",      "+84912345678",     "84912345678",      "+84 912 345 678",   "84-912-345-678",
        "091.234.5678",    "091-234-5678",     "0912 345 678",     "+84.912.345.678",   "0 9 1 2 3 4 5 6 7 8",
        "+84 3 1234 5678", "0849123456", /* 08x is a mobile range */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!phone(ok[i]))
            fail_msg("'%s' should be a mobile number", ok[i]);
    /* every mobile prefix digit, with each form of the country prefix */
    for (const char *d = "35789"; *d; d++) {
        char s[32];
        snprintf(s, sizeof s, "0%c12345678", *d);
        assert_true(phone(s));
        snprintf(s, sizeof s, "+84%c12345678", *d);
        assert_true(phone(s));
        snprintf(s, sizeof s, "84%c12345678", *d);
        assert_true(phone(s));
    }
}

static void test_phone_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "+",
        "0",
        "84",
        "+84",
        "   ",
        "-.-",
        "0212345678",     /* 02x: landlines */
        "0112345678",
        "0412345678",
        "0612345678",
        "0012345678",
        "+84212345678",
        "84212345678",
        "+84012345678",
        "091234567",      /* 9 digits */
        "09123456789",    /* 11 digits */
        "+8491234567",
        "+849123456789",
        "849123456789",
        "8491234567",
        "+084912345678",
        "++84912345678",
        "84+912345678",
        "0912+345678",
        "(091) 234 5678",
        "0912345678x",
        "x0912345678",
        "0912\t345678",
        "0912/345678",
        "0912_345_678",
        "o912345678",
        ("\xef\xbc\x90\xef\xbc\x99" "12345678"), /* full-width 0 and 9 */
        "+1 415 555 0100",
        "+85 912 345 678",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (phone(bad[i]))
            fail_msg("'%s' should not be a mobile number", bad[i]);
    const char nul[11] = {'0', '9', '1', '2', '\0', '3', '4', '5', '6', '7', '8'};
    assert_false(kho_ids_phone(nul, 11));
    assert_true(kho_ids_phone("0912345678999", 10)); /* n is honoured */
    assert_false(kho_ids_phone("0912345678", 9));
    char big[4096];
    memset(big, '9', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_false(phone(big));
    big[0] = '+';
    assert_false(phone(big));
    /* many separators around a valid number are ignored; many digits are not */
    char sep[600];
    memset(sep, ' ', sizeof sep);
    memcpy(sep + 300, "0912345678", 10);
    sep[sizeof sep - 1] = '\0';
    assert_true(phone(sep));
}

/* ids.h: "+84 / 84 instead of the 0" — a plus sign belongs to the country code
 * only, "+0..." is not a phone number. */
static void test_phone_plus_needs_country_code(void **state)
{
    (void)state;
    assert_false(phone("+0912345678"));
    assert_false(phone("+ 0912345678"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_cccd_structure, kt_cleanup),
        cmocka_unit_test_teardown(test_cccd_birth_year_not_in_future, kt_cleanup),
        cmocka_unit_test_teardown(test_cccd_every_province_code, kt_cleanup),
        cmocka_unit_test_teardown(test_cccd_malformed, kt_cleanup),
        cmocka_unit_test_teardown(test_tax_check_digit, kt_cleanup),
        cmocka_unit_test_teardown(test_tax_ten_digits, kt_cleanup),
        cmocka_unit_test_teardown(test_tax_branches, kt_cleanup),
        cmocka_unit_test_teardown(test_tax_dash_only_before_a_branch, kt_cleanup),
        cmocka_unit_test_teardown(test_tax_malformed, kt_cleanup),
        cmocka_unit_test_teardown(test_phone_valid, kt_cleanup),
        cmocka_unit_test_teardown(test_phone_invalid, kt_cleanup),
        cmocka_unit_test_teardown(test_phone_plus_needs_country_code, kt_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
