/* Unit tests of security/mask: each masking kind of the table in mask.h, short
 * and empty values (never revealed), multi-byte UTF-8, and the tag helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "kho_test.h"
#include "security/mask.h"

static const kho_pii_t KINDS[] = {KHO_PII_GENERIC, KHO_PII_ID_NUMBER, KHO_PII_PHONE, KHO_PII_NAME,
                                  KHO_PII_DOB,     KHO_PII_EMAIL,     KHO_PII_ADDRESS};
#define NKINDS (sizeof KINDS / sizeof KINDS[0])

/* The masked form of s (valid until teardown); checks that it is valid UTF-8. */
static const char *masked_n(kho_pii_t kind, const char *s, size_t n)
{
    kho_buf_t *b = kt_buf();
    kho_mask(kind, s, n, b);
    const char *out = kho_buf_cstr(b);
    if (!kho_utf8_valid(out, b->len, NULL))
        fail_msg("mask %s of '%.*s' is not valid UTF-8", kho_pii_name(kind), (int)n, s);
    if (strlen(out) != b->len)
        fail_msg("mask %s of '%.*s' holds a NUL", kho_pii_name(kind), (int)n, s);
    return out;
}

static const char *masked(kho_pii_t kind, const char *s)
{
    return masked_n(kind, s, strlen(s));
}

#define assert_mask(kind, in, want) assert_string_equal(masked(kind, in), want)

/* True when out is non-empty and made of '*' only. */
static bool only_stars(const char *out)
{
    return *out && strspn(out, "*") == strlen(out);
}

/* ---- the table of mask.h ---------------------------------------------------------- */

static void test_id_number(void **state)
{
    (void)state;
    assert_mask(KHO_PII_ID_NUMBER, "001234567789", "001******789");
    assert_mask(KHO_PII_ID_NUMBER, "033085123456", "033******456");
    assert_mask(KHO_PII_ID_NUMBER, "123456789", "123***789"); /* old 9-digit card */
    assert_mask(KHO_PII_ID_NUMBER, "B1234567", "B12**567"); /* passport */
    /* the stars stand for characters, not bytes */
    assert_mask(KHO_PII_ID_NUMBER, "ĐĂÂÊÔƠƯĐ", "ĐĂÂ**ƠƯĐ");
}

static void test_phone(void **state)
{
    (void)state;
    assert_mask(KHO_PII_PHONE, "0912345678", "*******678");
    assert_mask(KHO_PII_PHONE, "0987654321", "*******321");
    const char *m = masked(KHO_PII_PHONE, "+84 912 345 678");
    assert_int_equal(strlen(m), strlen("+84 912 345 678"));
    assert_string_equal(m + strlen(m) - 3, "678");
    assert_int_equal(strspn(m, "*"), strlen(m) - 3);
}

static void test_name(void **state)
{
    (void)state;
    assert_mask(KHO_PII_NAME, "Nguyễn Văn An", "N. V. A.");
    assert_mask(KHO_PII_NAME, "Đặng Thị Ánh", "Đ. T. Á.");
    assert_mask(KHO_PII_NAME, "đặng thị ánh", "Đ. T. Á."); /* initials in capitals */
    assert_mask(KHO_PII_NAME, "ưng ơn ấn ỹ", "Ư. Ơ. Ấ. Ỹ.");
    assert_mask(KHO_PII_NAME, "Hùng", "H.");
    assert_mask(KHO_PII_NAME, "  Lê   Minh  ", "L. M.");
    assert_mask(KHO_PII_NAME, "Lê\tMinh", "L. M.");
    assert_mask(KHO_PII_NAME, "Tôn Nữ Thị Hồng Nhung", "T. N. T. H. N.");
    /* nothing of the rest of a name leaks */
    const char *m = masked(KHO_PII_NAME, "Nguyễn Văn An");
    assert_null(strstr(m, "guy"));
    assert_null(strstr(m, "ăn"));
}

static void test_dob(void **state)
{
    (void)state;
    assert_mask(KHO_PII_DOB, "12/03/1985", "1985");
    assert_mask(KHO_PII_DOB, "1985-03-12", "1985");
    assert_mask(KHO_PII_DOB, "01/01/2000", "2000");
    assert_mask(KHO_PII_DOB, "2000-12-31", "2000");
    assert_mask(KHO_PII_DOB, "1985", "1985");
    assert_mask(KHO_PII_DOB, "ngày 12 tháng 3 năm 1985", "1985");
    /* without a year: nothing of the value */
    static const char *const noyear[] = {"12/03/85", "19850312", "12031985", "tháng 3", "12/3"};
    for (size_t i = 0; i < sizeof noyear / sizeof noyear[0]; i++) {
        const char *out = masked(KHO_PII_DOB, noyear[i]);
        if (strpbrk(out, "0123456789") || !*out)
            fail_msg("dob '%s' masked as '%s'", noyear[i], out);
    }
}

static void test_email(void **state)
{
    (void)state;
    assert_mask(KHO_PII_EMAIL, "an@example.vn", "a***@example.vn");
    assert_mask(KHO_PII_EMAIL, "nguyen.van.an@hungyen.gov.vn", "n***@hungyen.gov.vn");
    assert_mask(KHO_PII_EMAIL, "đức@example.vn", "đ***@example.vn"); /* the whole first character */
    /* not an address: nothing beyond its first character */
    const char *m = masked(KHO_PII_EMAIL, "not-an-email");
    assert_null(strstr(m, "an-email"));
    assert_null(strstr(m, "ot-"));
    m = masked(KHO_PII_EMAIL, "@example.vn");
    assert_null(strstr(m, "example"));
}

static void test_address(void **state)
{
    (void)state;
    assert_mask(KHO_PII_ADDRESS, "Thôn 3, Xã Nghĩa Trụ", "***, Xã Nghĩa Trụ");
    assert_mask(KHO_PII_ADDRESS, "Số 12 ngõ 5, Thôn Đông, Xã Nghĩa Trụ", "***, Xã Nghĩa Trụ");
    assert_mask(KHO_PII_ADDRESS, "Thôn 3", "***");
    const char *m = masked(KHO_PII_ADDRESS, "Số 12 ngõ 5, Thôn Đông, Xã Nghĩa Trụ");
    assert_null(strstr(m, "12"));
    assert_null(strstr(m, "Thôn"));
}

static void test_generic(void **state)
{
    (void)state;
    assert_mask(KHO_PII_GENERIC, "anything at all", "***");
    assert_mask(KHO_PII_GENERIC, "x", "***");
    assert_mask(KHO_PII_GENERIC, "", "***");
    assert_mask(KHO_PII_GENERIC, "Bệnh tiểu đường", "***");
    char big[5000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_mask(KHO_PII_GENERIC, big, "***"); /* not even the length */
}

/* ---- short, empty, multi-byte ----------------------------------------------------- */

static void test_empty_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < NKINDS; i++) {
        const char *out = masked_n(KINDS[i], "", 0);
        if (!*out)
            fail_msg("mask %s of an empty value is empty", kho_pii_name(KINDS[i]));
        assert_null(strpbrk(out, "0123456789"));
    }
    assert_mask(KHO_PII_NAME, "   ", "***");
}

static void test_short_values_not_revealed(void **state)
{
    (void)state;
    /* too short to keep the ends: nothing but stars */
    static const char *const ids[] = {"1", "12", "123", "1234", "12345", "123456", "1234567", "ĐĐ", "ĐẶNG"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        const char *out = masked(KHO_PII_ID_NUMBER, ids[i]);
        if (!only_stars(out))
            fail_msg("id_number '%s' masked as '%s'", ids[i], out);
    }
    static const char *const phones[] = {"1", "12", "123", "1234", "Đ", "ĐĐĐĐ"};
    for (size_t i = 0; i < sizeof phones / sizeof phones[0]; i++) {
        const char *out = masked(KHO_PII_PHONE, phones[i]);
        if (!only_stars(out))
            fail_msg("phone '%s' masked as '%s'", phones[i], out);
    }
    static const char *const emails[] = {"a", "ab", "đ"};
    for (size_t i = 0; i < sizeof emails / sizeof emails[0]; i++) {
        const char *out = masked(KHO_PII_EMAIL, emails[i]);
        if (!only_stars(out))
            fail_msg("email '%s' masked as '%s'", emails[i], out);
    }
    assert_string_equal(masked(KHO_PII_ADDRESS, "Hà"), "***");
    assert_string_equal(masked(KHO_PII_DOB, "85"), "****");
    /* the two ends of an ID number are never joined without stars between them */
    assert_string_equal(masked(KHO_PII_ID_NUMBER, "12345678"), "123**678");
}

/* Every kind over every prefix (at character boundaries) of multi-byte text:
 * the result is valid UTF-8, never empty, and for the kinds that hide the middle
 * never the whole value. */
static void test_multibyte_prefixes(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "Đặng Thị Ánh, Thôn Đông, Xã Nghĩa Trụ",
        "ễễễễễễễễễễễễễễ",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ngoài BMP, @ví dụ",
        "mỹ@hưng-yên.vn",
        "01/02/1990 – sinh tại Văn Giang",
    };
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        const char *s = texts[t];
        size_t n = strlen(s);
        for (size_t cut = 0; cut <= n; cut++) {
            if (cut < n && ((unsigned char)s[cut] & 0xC0) == 0x80)
                continue; /* not a character boundary */
            for (size_t k = 0; k < NKINDS; k++) {
                const char *out = masked_n(KINDS[k], s, cut);
                if (!*out)
                    fail_msg("mask %s of '%.*s' is empty", kho_pii_name(KINDS[k]), (int)cut, s);
                if ((KINDS[k] == KHO_PII_GENERIC || KINDS[k] == KHO_PII_ID_NUMBER || KINDS[k] == KHO_PII_PHONE) &&
                    cut > 0 && strlen(out) == cut && memcmp(out, s, cut) == 0)
                    fail_msg("mask %s revealed '%.*s'", kho_pii_name(KINDS[k]), (int)cut, s);
            }
        }
    }
}

static void test_appends(void **state)
{
    (void)state;
    kho_buf_t *b = kt_buf();
    kho_buf_puts(b, "id=");
    kho_mask(KHO_PII_ID_NUMBER, "001234567789", 12, b);
    kho_buf_puts(b, ";tel=");
    kho_mask(KHO_PII_PHONE, "0912345678", 10, b);
    assert_string_equal(kho_buf_cstr(b), "id=001******789;tel=*******678");
    /* n is honoured: only the first n bytes are masked */
    kho_buf_reset(b);
    kho_mask(KHO_PII_ID_NUMBER, "001234567789SECRET", 12, b);
    assert_string_equal(kho_buf_cstr(b), "001******789");
}

/* ---- tags ----------------------------------------------------------------------------- */

static void test_tags_have(void **state)
{
    (void)state;
    assert_true(kho_tags_have("personal", "personal"));
    assert_true(kho_tags_have("personal pii:name", "personal"));
    assert_true(kho_tags_have("pii:name personal", "personal"));
    assert_true(kho_tags_have("a  personal   b", "personal"));
    assert_true(kho_tags_have("  personal  ", "personal"));
    assert_true(kho_tags_have("pii:name", "pii:name"));
    assert_false(kho_tags_have("", "personal"));
    assert_false(kho_tags_have("personally", "personal"));
    assert_false(kho_tags_have("impersonal", "personal"));
    assert_false(kho_tags_have("person", "personal"));
    assert_false(kho_tags_have("pii:names", "pii:name"));
    assert_false(kho_tags_have("pii:nam", "pii:name"));
    assert_false(kho_tags_have("xpii:name", "pii:name"));
    assert_false(kho_tags_have("personal-data", "personal"));
}

static void test_tags_personal(void **state)
{
    (void)state;
    assert_true(kho_tags_personal("personal"));
    assert_true(kho_tags_personal("sensitive"));
    assert_true(kho_tags_personal("commune personal pii:name"));
    assert_true(kho_tags_personal("pii:dob sensitive"));
    assert_false(kho_tags_personal(""));
    assert_false(kho_tags_personal("pii:name"));
    assert_false(kho_tags_personal("commune year"));
    assert_false(kho_tags_personal("personal_data insensitive"));
}

static void test_pii_from_tags(void **state)
{
    (void)state;
    assert_int_equal(kho_pii_from_tags("personal pii:id_number"), KHO_PII_ID_NUMBER);
    assert_int_equal(kho_pii_from_tags("pii:phone personal"), KHO_PII_PHONE);
    assert_int_equal(kho_pii_from_tags("personal pii:name"), KHO_PII_NAME);
    assert_int_equal(kho_pii_from_tags("sensitive pii:dob"), KHO_PII_DOB);
    assert_int_equal(kho_pii_from_tags("pii:email"), KHO_PII_EMAIL);
    assert_int_equal(kho_pii_from_tags("personal pii:address"), KHO_PII_ADDRESS);
    assert_int_equal(kho_pii_from_tags("personal"), KHO_PII_GENERIC);
    assert_int_equal(kho_pii_from_tags(""), KHO_PII_GENERIC);
    assert_int_equal(kho_pii_from_tags("pii:"), KHO_PII_GENERIC);
    assert_int_equal(kho_pii_from_tags("pii:nam"), KHO_PII_GENERIC);
    assert_int_equal(kho_pii_from_tags("pii:names"), KHO_PII_GENERIC);
    assert_int_equal(kho_pii_from_tags("pii:NAME"), KHO_PII_GENERIC);
    assert_int_equal(kho_pii_from_tags("xpii:phone"), KHO_PII_GENERIC);
    assert_int_equal(kho_pii_from_tags("pii:unknown"), KHO_PII_GENERIC);
    assert_int_equal(kho_pii_from_tags("pii:generic"), KHO_PII_GENERIC);
}

static void test_pii_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < NKINDS; i++) {
        const char *name = kho_pii_name(KINDS[i]);
        assert_non_null(name);
        assert_int_equal(kho_pii_parse(name), (int)KINDS[i]);
        char tag[40];
        snprintf(tag, sizeof tag, "personal pii:%s", name);
        assert_int_equal(kho_pii_from_tags(tag), KINDS[i]);
    }
    assert_string_equal(kho_pii_name(KHO_PII_NAME), "name");
    assert_string_equal(kho_pii_name(KHO_PII_ID_NUMBER), "id_number");
    assert_int_equal(kho_pii_parse("phone"), KHO_PII_PHONE);
    assert_int_equal(kho_pii_parse(""), -1);
    assert_int_equal(kho_pii_parse("Name"), -1);
    assert_int_equal(kho_pii_parse("name "), -1);
    assert_int_equal(kho_pii_parse("pii:name"), -1);
    assert_int_equal(kho_pii_parse("id-number"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_id_number, kt_cleanup),
        cmocka_unit_test_teardown(test_phone, kt_cleanup),
        cmocka_unit_test_teardown(test_name, kt_cleanup),
        cmocka_unit_test_teardown(test_dob, kt_cleanup),
        cmocka_unit_test_teardown(test_email, kt_cleanup),
        cmocka_unit_test_teardown(test_address, kt_cleanup),
        cmocka_unit_test_teardown(test_generic, kt_cleanup),
        cmocka_unit_test_teardown(test_empty_values, kt_cleanup),
        cmocka_unit_test_teardown(test_short_values_not_revealed, kt_cleanup),
        cmocka_unit_test_teardown(test_multibyte_prefixes, kt_cleanup),
        cmocka_unit_test_teardown(test_appends, kt_cleanup),
        cmocka_unit_test_teardown(test_tags_have, kt_cleanup),
        cmocka_unit_test_teardown(test_tags_personal, kt_cleanup),
        cmocka_unit_test_teardown(test_pii_from_tags, kt_cleanup),
        cmocka_unit_test_teardown(test_pii_names, kt_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
