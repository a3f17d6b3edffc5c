/* Unit tests of core/text: UTF-8 validation, NFC, folding, identifiers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/text.h"

static char *fold(const char *s)
{
    kho_buf_t b = KHO_BUF_INIT;
    kho_text_fold(s, strlen(s), &b);
    return kho_buf_steal(&b, NULL);
}

static void test_utf8_valid_and_invalid(void **state)
{
    (void)state;
    size_t bad = 99;
    assert_true(kho_utf8_valid("Nghĩa Trụ", strlen("Nghĩa Trụ"), &bad));
    assert_false(kho_utf8_valid("ab\xff", 3, &bad));
    assert_int_equal(bad, 2);
    assert_false(kho_utf8_valid("\xc0\xaf", 2, &bad)); /* overlong '/' */
    assert_false(kho_utf8_valid("\xed\xa0\x80", 3, &bad)); /* surrogate */
    assert_false(kho_utf8_valid("\xf4\x90\x80\x80", 4, &bad)); /* above U+10FFFF */
    assert_false(kho_utf8_valid("a\0b", 3, &bad)); /* NUL */
    assert_int_equal(bad, 1);
    assert_false(kho_utf8_valid("\xe1\xba", 2, &bad)); /* truncated */
}

static void test_utf8_stream_positions(void **state)
{
    (void)state;
    kho_utf8v_t v;
    kho_utf8_error_t e;
    kho_utf8v_init(&v);
    /* the bad byte is the 4th character of line 2; feed it split across chunks */
    const char *a = "ok\nđã", *b = "\xff rest";
    assert_true(kho_utf8v_feed(&v, a, strlen(a), &e));
    assert_false(kho_utf8v_feed(&v, b, strlen(b), &e));
    assert_int_equal(e.line, 2);
    assert_int_equal(e.col, 3);
    assert_int_equal(e.byte, 0xff);
    /* a sequence cut by the end of input */
    kho_utf8v_init(&v);
    assert_true(kho_utf8v_feed(&v, "x\xe1\xba", 3, &e));
    assert_false(kho_utf8v_finish(&v, &e));
    assert_true(e.truncated);
    assert_int_equal(e.col, 2);
}

static void test_utf8_repair(void **state)
{
    (void)state;
    char a[] = "ok é \xc3"; /* a character cut at the end */
    assert_int_equal(kho_utf8_repair(a, strlen(a)), 1);
    assert_string_equal(a, "ok é ?");
    char b[] = "\xff\xfe x \xe1\xba y"; /* raw bytes and a cut 3-byte sequence */
    assert_int_equal(kho_utf8_repair(b, strlen(b)), 4);
    assert_string_equal(b, "?? x ?? y");
    assert_true(kho_utf8_valid(b, strlen(b), NULL));
    char c[] = "Nghĩa Trụ";
    assert_int_equal(kho_utf8_repair(c, strlen(c)), 0);
    assert_string_equal(c, "Nghĩa Trụ");
}

static void test_nfc_composes_decomposed_vietnamese(void **state)
{
    (void)state;
    /* "Hưng Yên" with combining marks: u + U+031B horn, e + U+0302 circumflex */
    const char *nfd = "Hu\xcc\x9bng Ye\xcc\x82n";
    kho_buf_t b = KHO_BUF_INIT;
    assert_true(kho_text_nfc(nfd, strlen(nfd), &b));
    assert_string_equal(b.data, "Hưng Yên");
    kho_buf_reset(&b);
    assert_false(kho_text_nfc("Hưng Yên", strlen("Hưng Yên"), &b)); /* already NFC: untouched */
    assert_int_equal(b.len, 0);
    kho_buf_free(&b);
}

/* The fast path claims: any string of code points from these ranges is NFC.
 * Prove it with utf8proc for every single code point and every ordered pair. */
static void test_nfc_fast_path_is_sound(void **state)
{
    (void)state;
    uint32_t cps[1024];
    size_t n = 0;
    for (uint32_t c = 1; c <= 0x24F; c++)
        cps[n++] = c;
    for (uint32_t c = 0x1EA0; c <= 0x1EF9; c++)
        cps[n++] = c;
    cps[n++] = 0x20AB;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(utf8proc_get_property((utf8proc_int32_t)cps[i])->combining_class, 0);
        for (size_t j = 0; j < n; j++) {
            utf8proc_uint8_t s[8], *out = NULL;
            utf8proc_ssize_t k = utf8proc_encode_char((utf8proc_int32_t)cps[i], s);
            k += utf8proc_encode_char((utf8proc_int32_t)cps[j], s + k);
            utf8proc_ssize_t m = utf8proc_map(s, k, &out, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
            assert_int_equal(m, k);
            assert_memory_equal(out, s, (size_t)k);
            free(out);
        }
    }
}

static void test_fold_and_lower(void **state)
{
    (void)state;
    char *f = fold("  Xã  NGHĨA Trụ ");
    assert_string_equal(f, "xa nghia tru");
    free(f);
    f = fold("Đặc khu Bạch Long Vĩ");
    assert_string_equal(f, "dac khu bach long vi");
    free(f);
    f = fold("Hu\xcc\x9bng Ye\xcc\x82n"); /* decomposed input folds the same */
    assert_string_equal(f, "hung yen");
    free(f);
    kho_buf_t b = KHO_BUF_INIT;
    kho_text_lower("Phường PHỐ HIẾN", strlen("Phường PHỐ HIẾN"), &b);
    assert_string_equal(b.data, "phường phố hiến");
    kho_buf_free(&b);
    assert_true(kho_text_has_marks("Nghĩa", strlen("Nghĩa")));
    assert_true(kho_text_has_marks("dđ", 3));
    assert_false(kho_text_has_marks("nghia tru", 9));
}

static void test_identifiers(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(kho_text_ident("Dân số (người)", strlen("Dân số (người)"), out, sizeof out), 12);
    assert_string_equal(out, "dan_so_nguoi");
    kho_text_ident("Tỷ lệ đúng hạn (%)", strlen("Tỷ lệ đúng hạn (%)"), out, sizeof out);
    assert_string_equal(out, "ty_le_dung_han");
    kho_text_ident("2024", 4, out, sizeof out);
    assert_string_equal(out, "c_2024");
    assert_int_equal(kho_text_ident("(%)", 3, out, sizeof out), 0);
    char longl[300];
    memset(longl, 'a', sizeof longl - 1);
    longl[sizeof longl - 1] = '\0';
    assert_int_equal(kho_text_ident(longl, strlen(longl), out, sizeof out), 63);
}

static void test_slugs(void **state)
{
    (void)state;
    assert_true(kho_text_is_slug("doanh-nghiep_2024"));
    assert_false(kho_text_is_slug("a"));
    assert_false(kho_text_is_slug("-abc"));
    assert_false(kho_text_is_slug("Abc"));
    assert_false(kho_text_is_slug("a b"));
    assert_false(kho_text_is_slug("../etc"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_valid_and_invalid),
        cmocka_unit_test(test_utf8_stream_positions),
        cmocka_unit_test(test_utf8_repair),
        cmocka_unit_test(test_nfc_composes_decomposed_vietnamese),
        cmocka_unit_test(test_nfc_fast_path_is_sound),
        cmocka_unit_test(test_fold_and_lower),
        cmocka_unit_test(test_identifiers),
        cmocka_unit_test(test_slugs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
