/* Unit tests of apps/trace/gs1: check digits, GTINs, EPC URIs, GS1 Digital Link. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "apps/trace/gs1.h"

/* Check digits worked by hand (weights 3, 1, 3 ... from the rightmost payload digit):
 *   893456789012  -> 8+27+3+12+5+18+7+24+9+0+1+6 = 120 -> 0  GTIN-13 8934567890120
 *   893500123456  -> 8+27+3+15+0+0+1+6+3+12+5+18 = 98  -> 2  GTIN-13 8935001234562
 *   1893456789012 -> 3+8+27+3+12+5+18+7+24+9+0+1+6 = 123 -> 7 GTIN-14 18934567890127
 *   9638507       -> 27+6+9+8+15+0+21 = 86 -> 4              GTIN-8  96385074 (GS1's example)
 *   03600029145   -> 0+3+18+0+0+0+6+9+3+4+15 = 58 -> 2       GTIN-12 036000291452 (UPC-A)
 *   893500000001  -> 8+27+3+15+0+...+0+3 = 56 -> 4           GLN     8935000000014 */
#define GTIN13 "8934567890120"
#define GTIN13B "8935001234562"
#define GTIN14 "18934567890127"
#define GTIN8 "96385074"
#define GTIN12 "036000291452"
#define GLN "8935000000014"

static void test_check_digits(void **state)
{
    (void)state;
    assert_int_equal(kho_gs1_check_digit("893456789012", 12), '0');
    assert_int_equal(kho_gs1_check_digit("893500123456", 12), '2');
    assert_int_equal(kho_gs1_check_digit("1893456789012", 13), '7');
    assert_int_equal(kho_gs1_check_digit("9638507", 7), '4');
    assert_int_equal(kho_gs1_check_digit("03600029145", 11), '2');
    assert_int_equal(kho_gs1_check_digit("893500000001", 12), '4');
    assert_int_equal(kho_gs1_check_digit("", 0), '\0');
    assert_int_equal(kho_gs1_check_digit("89a", 3), '\0');
    assert_true(kho_gs1_check_digit_ok(GTIN13, 13));
    assert_true(kho_gs1_check_digit_ok(GTIN14, 14));
    assert_true(kho_gs1_check_digit_ok(GTIN8, 8));
    assert_true(kho_gs1_check_digit_ok(GTIN12, 12));
    assert_true(kho_gs1_check_digit_ok(GLN, 13));
    assert_false(kho_gs1_check_digit_ok("8934567890121", 13));
    assert_false(kho_gs1_check_digit_ok("7", 1));
    assert_false(kho_gs1_check_digit_ok("893456789012x", 13));
    /* every wrong last digit is caught */
    char g[] = GTIN13;
    for (char c = '0'; c <= '9'; c++) {
        g[12] = c;
        assert_int_equal(kho_gs1_check_digit_ok(g, 13), c == '0');
    }
}

static void gtin_ok(const char *in, const char *want)
{
    char out[15] = "junk";
    kho_err_t err = {0};
    assert_int_equal(kho_gtin_normalise(in, out, &err), 0);
    assert_string_equal(out, want);
}

static void gtin_bad(const char *in, const char *msg_part)
{
    char out[15] = "junk";
    kho_err_t err = {0};
    assert_int_equal(kho_gtin_normalise(in, out, &err), KHO_EINVAL);
    assert_string_equal(out, "");
    if (!strstr(err.msg, msg_part))
        fail_msg("message '%s' lacks '%s'", err.msg, msg_part);
}

static void test_gtin_every_length(void **state)
{
    (void)state;
    gtin_ok(GTIN8, "000000" GTIN8);
    gtin_ok(GTIN12, "00" GTIN12);
    gtin_ok(GTIN13, "0" GTIN13);
    gtin_ok(GTIN13B, "0" GTIN13B);
    gtin_ok(GTIN14, GTIN14);
    gtin_ok("  " GTIN13 " ", "0" GTIN13);
    gtin_ok("00000000000000", "00000000000000"); /* all zeros is arithmetically valid */
}

static void test_gtin_errors(void **state)
{
    (void)state;
    gtin_bad("8934567890121", "wrong check digit 1, expected 0");
    gtin_bad("18934567890120", "expected 7");
    gtin_bad("96385075", "expected 4");
    gtin_bad("", "empty");
    gtin_bad("   ", "empty");
    gtin_bad(NULL, "missing");
    /* a GTIN-13 without its check digit has a valid GTIN-12 length: 24+9+9+4+15+6+21+8+27+0+3 = 126 -> 4 */
    gtin_bad("893456789012", "wrong check digit 2, expected 4");
    gtin_bad("8934567", "7 digits");
    gtin_bad("893456789", "9 digits");
    gtin_bad("893456789012345", "15 digits");
    gtin_bad("89345A7890120", "character 6 is not a digit");
    gtin_bad(" 89345A7890120", "character 7 is not a digit"); /* positions count the caller's spaces */
    gtin_bad("8934567 890120", "character 8 is not a digit");
    gtin_bad("-8934567890120", "character 1");
    gtin_bad("８９３", "character 1"); /* full-width digits are not digits */
    char hundred[101];
    memset(hundred, '9', 100);
    hundred[100] = '\0';
    gtin_bad(hundred, "100 digits");
    const char bin[] = {(char)0xff, (char)0x01, '8', '9', (char)0x80, 0};
    gtin_bad(bin, "character 1");
}

static char *build_sgtin(const char *gtin, const char *serial, size_t cp, int *rc)
{
    kho_buf_t b = KHO_BUF_INIT;
    kho_err_t err = {0};
    *rc = kho_gs1_sgtin_uri(gtin, serial, cp, &b, &err);
    return kho_buf_steal(&b, NULL);
}

static void test_sgtin_lgtin_uris(void **state)
{
    (void)state;
    kho_buf_t b = KHO_BUF_INIT;
    kho_err_t err = {0};
    assert_int_equal(kho_gs1_sgtin_uri(GTIN14, "LONGAN-0001", 7, &b, &err), 0);
    assert_string_equal(b.data, "urn:epc:id:sgtin:8934567.189012.LONGAN-0001");
    kho_buf_reset(&b);
    /* a GTIN-13 gets indicator 0; escapes per the Tag Data Standard; others stay raw */
    assert_int_equal(kho_gs1_lgtin_uri(GTIN13, "L/2025&\"<>?%!'()*+,-.:;=_", 9, &b, &err), KHO_EINVAL);
    assert_non_null(strstr(err.msg, "lot"));
    assert_int_equal(kho_gs1_lgtin_uri(GTIN13, "A/1&\"<>?%!'(", 9, &b, &err), 0);
    assert_string_equal(b.data, "urn:epc:class:lgtin:893456789.0012.A%2F1%26%22%3C%3E%3F%25!'(");
    kho_buf_reset(&b);
    assert_int_equal(kho_gs1_lgtin_uri(GTIN13, "x", 12, &b, &err), 0);
    assert_string_equal(b.data, "urn:epc:class:lgtin:893456789012.0.x");
    kho_buf_reset(&b);
    assert_int_equal(kho_gs1_lgtin_uri(GTIN8, "x", 6, &b, &err), 0);
    assert_string_equal(b.data, "urn:epc:class:lgtin:000009.0638507.x");
    kho_buf_free(&b);

    int rc;
    char *s;
    s = build_sgtin(GTIN14, "S1", 5, &rc); /* prefix too short */
    assert_int_equal(rc, KHO_EINVAL);
    assert_string_equal(s ? s : "", "");
    free(s);
    s = build_sgtin(GTIN14, "S1", 13, &rc);
    assert_int_equal(rc, KHO_EINVAL);
    free(s);
    s = build_sgtin(GTIN14, "", 7, &rc);
    assert_int_equal(rc, KHO_EINVAL);
    free(s);
    s = build_sgtin(GTIN14, NULL, 7, &rc);
    assert_int_equal(rc, KHO_EINVAL);
    free(s);
    s = build_sgtin(GTIN14, "123456789012345678901", 7, &rc); /* 21 characters */
    assert_int_equal(rc, KHO_EINVAL);
    free(s);
    s = build_sgtin(GTIN14, "12345678901234567890", 7, &rc); /* 20 is the limit */
    assert_int_equal(rc, 0);
    free(s);
    s = build_sgtin(GTIN14, "a b", 7, &rc); /* space is outside set 82 */
    assert_int_equal(rc, KHO_EINVAL);
    free(s);
    s = build_sgtin(GTIN14, "nhãn", 7, &rc);
    assert_int_equal(rc, KHO_EINVAL);
    free(s);
    s = build_sgtin("18934567890120", "S1", 7, &rc); /* wrong check digit */
    assert_int_equal(rc, KHO_EINVAL);
    free(s);
}

static void test_sgln_uri(void **state)
{
    (void)state;
    kho_buf_t b = KHO_BUF_INIT;
    kho_err_t err = {0};
    assert_int_equal(kho_gs1_sgln_uri(GLN, NULL, 7, &b, &err), 0);
    assert_string_equal(b.data, "urn:epc:id:sgln:8935000.00001.0");
    kho_buf_reset(&b);
    assert_int_equal(kho_gs1_sgln_uri(GLN, "kho/1", 12, &b, &err), 0);
    assert_string_equal(b.data, "urn:epc:id:sgln:893500000001..kho%2F1");
    kho_buf_reset(&b);
    assert_int_equal(kho_gs1_sgln_uri("8935000000015", NULL, 7, &b, &err), KHO_EINVAL);
    assert_non_null(strstr(err.msg, "expected 4"));
    assert_int_equal(kho_gs1_sgln_uri("893500000001", NULL, 7, &b, &err), KHO_EINVAL);
    assert_int_equal(b.len, 0);
    kho_buf_free(&b);
}

static void epc_ok(const char *uri, kho_gs1_epc_t *e)
{
    kho_err_t err = {0};
    if (kho_gs1_parse_epc(uri, e, &err) != 0)
        fail_msg("%s: %s", uri, err.msg);
}

static void epc_bad(const char *uri, const char *msg_part)
{
    kho_gs1_epc_t e;
    kho_err_t err = {0};
    assert_int_equal(kho_gs1_parse_epc(uri, &e, &err), KHO_EINVAL);
    assert_int_equal(e.kind, KHO_GS1_NONE);
    if (!strstr(err.msg, msg_part))
        fail_msg("%s: message '%s' lacks '%s'", uri ? uri : "(null)", err.msg, msg_part);
}

static void test_parse_urns(void **state)
{
    (void)state;
    kho_gs1_epc_t e;
    epc_ok("urn:epc:id:sgtin:8934567.189012.LONGAN-0001", &e);
    assert_int_equal(e.kind, KHO_GS1_SGTIN);
    assert_string_equal(e.gtin14, GTIN14); /* check digit recomputed */
    assert_string_equal(e.serial, "LONGAN-0001");
    assert_int_equal(e.company_prefix_len, 7);
    assert_false(e.digital_link);
    epc_ok("urn:epc:class:lgtin:893456789.0012.A%2F1%26%22%3C%3E%3F%25!'(", &e);
    assert_int_equal(e.kind, KHO_GS1_LGTIN);
    assert_string_equal(e.gtin14, "0" GTIN13);
    assert_string_equal(e.lot, "A/1&\"<>?%!'(");
    epc_ok("urn:epc:id:sgtin:8934567.189012.a.b.c%2f", &e); /* dots in the serial, lower-case escape */
    assert_string_equal(e.serial, "a.b.c/");
    epc_ok("urn:epc:id:sgln:8935000.00001.0", &e);
    assert_int_equal(e.kind, KHO_GS1_SGLN);
    assert_string_equal(e.gln13, GLN);
    assert_string_equal(e.extension, "");
    epc_ok("urn:epc:id:sgln:893500000001..kho%2F1", &e);
    assert_string_equal(e.gln13, GLN);
    assert_string_equal(e.extension, "kho/1");

    epc_bad(NULL, "missing");
    epc_bad("", "not a supported EPC URI");
    epc_bad("URN:EPC:ID:SGTIN:8934567.189012.1", "not a supported");
    epc_bad("urn:epc:id:sgtin:8934567.189012", "three fields");
    epc_bad("urn:epc:id:sgtin:8934567.18901.1", "expected 6-12 and 13");
    epc_bad("urn:epc:id:sgtin:89345.1890123.1", "company prefix of 5");
    epc_bad("urn:epc:id:sgtin:8934567.1890x2.1", "must be digits");
    epc_bad("urn:epc:id:sgtin:8934567.189012.", "serial: empty");
    epc_bad("urn:epc:id:sgtin:8934567.189012.%G1", "broken percent escape at character 1");
    epc_bad("urn:epc:id:sgtin:8934567.189012.ab%2", "broken percent escape at character 3");
    epc_bad("urn:epc:id:sgtin:8934567.189012.%00", "%00 at character 1 is outside");
    epc_bad("urn:epc:id:sgtin:8934567.189012.%20", "outside");
    epc_bad("urn:epc:id:sgtin:8934567.189012.%C3%A3", "outside");
    epc_bad("urn:epc:id:sgtin:8934567.189012.a/b", "character 2 is not allowed here");
    epc_bad("urn:epc:id:sgtin:8934567.189012.a b", "character 2");
    epc_bad("urn:epc:id:sgtin:8934567.189012.123456789012345678901", "longer than 20");
    epc_bad("urn:epc:id:sgtin:8934567.189012.%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41",
            "longer than 20");
    epc_bad("urn:epc:class:lgtin:8934567.189012.\xff\xfe", "lot: character 1");
    epc_bad("urn:epc:id:sgln:8935000.0001.0", "expected 6-12 and 12");
    epc_bad("urn:epc:id:sgln:8935000.00001.", "GLN extension: empty");
    epc_bad("urn:epc:id:sgtin8934567.189012.1", "not a supported");
}

static void dl_ok(const char *path, const char *gtin, const char *lot, const char *serial)
{
    kho_gs1_dl_t d;
    kho_err_t err = {0};
    if (kho_gs1_dl_parse(path, &d, &err) != 0)
        fail_msg("%s: %s", path, err.msg);
    assert_string_equal(d.gtin14, gtin);
    assert_string_equal(d.lot, lot);
    assert_string_equal(d.serial, serial);
}

static void dl_bad(const char *path, const char *msg_part)
{
    kho_gs1_dl_t d;
    kho_err_t err = {0};
    assert_int_equal(kho_gs1_dl_parse(path, &d, &err), KHO_EINVAL);
    assert_string_equal(d.gtin14, "");
    if (!strstr(err.msg, msg_part))
        fail_msg("%s: message '%s' lacks '%s'", path ? path : "(null)", err.msg, msg_part);
}

static void test_dl_parse(void **state)
{
    (void)state;
    dl_ok("/01/" GTIN14, GTIN14, "", "");
    dl_ok("/01/" GTIN13, "0" GTIN13, "", "");
    dl_ok("/01/" GTIN8 "/10/L1", "000000" GTIN8, "L1", "");
    dl_ok("/01/" GTIN12 "/21/S%2F1", "00" GTIN12, "", "S/1");
    dl_ok("/01/" GTIN14 "/10/NHAN-2025/21/0001", GTIN14, "NHAN-2025", "0001");
    dl_ok("/gtin/" GTIN14 "/lot/L%2a1/ser/x", GTIN14, "L*1", "x");
    dl_ok("/trace/vn/01/" GTIN14 "/10/L1?linkType=all#top", GTIN14, "L1", ""); /* prefix, query, fragment */
    dl_ok("/01/01/01/" GTIN14, GTIN14, "", "");                            /* a prefix segment that looks like a key */
    dl_ok("/01/" GTIN14 "/10/a&b!'()*+,:;=", GTIN14, "a&b!'()*+,:;=", ""); /* sub-delims may stay raw */

    dl_bad(NULL, "must start with '/'");
    dl_bad("", "must start with '/'");
    dl_bad("01/" GTIN14, "must start with '/'");
    dl_bad("/", "no /01/ or /gtin/");
    dl_bad("/00/" GTIN14, "no /01/ or /gtin/");
    dl_bad("/01", "without a GTIN");
    dl_bad("/01/", "0 digits");
    dl_bad("/01/8934567890121", "expected 0");
    dl_bad("/01/8934567890x20", "character 11 is not a digit");
    dl_bad("/01/" GTIN14 "/", "unexpected segment");
    dl_bad("/01/" GTIN14 "/10", "/10/ without a value");
    dl_bad("/01/" GTIN14 "/10/", "lot: empty");
    dl_bad("/01/" GTIN14 "/22/x", "unexpected segment");
    dl_bad("/01/" GTIN14 "/21/S/10/L", "unexpected segment"); /* lot after serial */
    dl_bad("/01/" GTIN14 "/10/A/10/B", "unexpected segment");
    dl_bad("/01/" GTIN14 "/10/%G1", "broken percent escape at character 1");
    dl_bad("/01/" GTIN14 "/10/%00", "outside the GS1 character set");
    dl_bad("/01/" GTIN14 "/10/%2", "broken");
    dl_bad("/01/" GTIN14 "/10/%", "broken");
    dl_bad("/01/" GTIN14 "/10/a b", "character 2");
    dl_bad("/01/" GTIN14 "/10/a<b", "character 2");
    dl_bad("/01/" GTIN14 "/10/123456789012345678901", "longer than 20");
    dl_bad("/01/" GTIN14 "/21/\x80\x81", "character 1");
    char big[4000];
    memset(big, 'a', sizeof big - 1);
    big[0] = '/';
    big[sizeof big - 1] = '\0';
    dl_bad(big, "longer than 2048");
    /* many segments: every one a candidate key, none parses */
    for (size_t i = 0; i + 3 < 2040; i += 3)
        memcpy(big + i, "/01", 3);
    big[2040] = '\0';
    dl_bad(big, "2 digits");
}

static void test_dl_build(void **state)
{
    (void)state;
    kho_buf_t b = KHO_BUF_INIT;
    kho_err_t err = {0};
    assert_int_equal(kho_gs1_dl_build("https://kho.hungyen.gov.vn/", GTIN13, "NHAN/25", NULL, &b, &err), 0);
    assert_string_equal(b.data, "https://kho.hungyen.gov.vn/01/0" GTIN13 "/10/NHAN%2F25");
    kho_buf_reset(&b);
    assert_int_equal(kho_gs1_dl_build("https://id.gs1.org", GTIN14, "L1", "S&1 ", &b, &err), KHO_EINVAL);
    assert_int_equal(b.len, 0);
    assert_int_equal(kho_gs1_dl_build("https://id.gs1.org", GTIN14, "L1", "S&1?", &b, &err), 0);
    assert_string_equal(b.data, "https://id.gs1.org/01/" GTIN14 "/10/L1/21/S%261%3F");
    kho_buf_reset(&b);
    assert_int_equal(kho_gs1_dl_build(NULL, GTIN8, "", "", &b, &err), 0);
    assert_string_equal(b.data, "/01/000000" GTIN8);
    kho_buf_reset(&b);
    assert_int_equal(kho_gs1_dl_build("", "96385075", NULL, NULL, &b, &err), KHO_EINVAL);
    assert_non_null(strstr(err.msg, "expected 4"));
    assert_int_equal(kho_gs1_dl_build("", GTIN14, "123456789012345678901", NULL, &b, &err), KHO_EINVAL);
    assert_non_null(strstr(err.msg, "lot"));
    assert_int_equal(b.len, 0);
    kho_buf_free(&b);
}

/* Every character of set 82 survives build -> parse in each form. */
static void test_round_trips(void **state)
{
    (void)state;
    static const char set82[] = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
    const char *gtins[] = {GTIN8, GTIN12, GTIN13, GTIN13B, GTIN14};
    kho_buf_t b = KHO_BUF_INIT;
    kho_err_t err = {0};
    kho_gs1_epc_t e;
    kho_gs1_dl_t d;
    for (size_t off = 0; off < sizeof set82 - 1; off += 7) {
        char v[KHO_GS1_VALUE_MAX + 1] = {0};
        size_t n = sizeof set82 - 1 - off < KHO_GS1_VALUE_MAX ? sizeof set82 - 1 - off : KHO_GS1_VALUE_MAX;
        memcpy(v, set82 + off, n);
        for (size_t g = 0; g < sizeof gtins / sizeof gtins[0]; g++) {
            char g14[15];
            assert_int_equal(kho_gtin_normalise(gtins[g], g14, &err), 0);
            for (size_t cp = 6; cp <= 12; cp++) {
                kho_buf_reset(&b);
                assert_int_equal(kho_gs1_sgtin_uri(gtins[g], v, cp, &b, &err), 0);
                epc_ok(b.data, &e);
                assert_int_equal(e.kind, KHO_GS1_SGTIN);
                assert_string_equal(e.gtin14, g14);
                assert_string_equal(e.serial, v);
                assert_int_equal(e.company_prefix_len, cp);
                kho_buf_reset(&b);
                assert_int_equal(kho_gs1_lgtin_uri(gtins[g], v, cp, &b, &err), 0);
                epc_ok(b.data, &e);
                assert_int_equal(e.kind, KHO_GS1_LGTIN);
                assert_string_equal(e.gtin14, g14);
                assert_string_equal(e.lot, v);
            }
            kho_buf_reset(&b);
            assert_int_equal(kho_gs1_dl_build("https://kho.example/trace", gtins[g], v, v, &b, &err), 0);
            epc_ok(b.data, &e);
            assert_true(e.digital_link);
            assert_int_equal(e.kind, KHO_GS1_SGTIN);
            assert_string_equal(e.gtin14, g14);
            assert_string_equal(e.lot, v);
            assert_string_equal(e.serial, v);
            assert_int_equal(kho_gs1_dl_parse(strstr(b.data, "/trace"), &d, &err), 0);
            assert_string_equal(d.lot, v);
        }
        for (size_t cp = 6; cp <= 12; cp++) {
            kho_buf_reset(&b);
            assert_int_equal(kho_gs1_sgln_uri(GLN, v, cp, &b, &err), 0);
            epc_ok(b.data, &e);
            assert_int_equal(e.kind, KHO_GS1_SGLN);
            assert_string_equal(e.gln13, GLN);
            assert_string_equal(e.extension, v);
        }
    }
    kho_buf_reset(&b);
    assert_int_equal(kho_gs1_dl_build("http://x", GTIN14, "L", NULL, &b, &err), 0);
    epc_ok(b.data, &e);
    assert_int_equal(e.kind, KHO_GS1_LGTIN);
    kho_buf_reset(&b);
    assert_int_equal(kho_gs1_dl_build("http://x", GTIN14, NULL, NULL, &b, &err), 0);
    epc_ok(b.data, &e);
    assert_int_equal(e.kind, KHO_GS1_GTIN);
    assert_int_equal(e.company_prefix_len, 0);
    epc_bad("https://", "expected https://host/01/");
    epc_bad("https:///01/" GTIN14, "expected https://host/01/");
    epc_bad("https://x?/01/" GTIN14, "expected https://host/01/");
    epc_bad("https://x/01/" GTIN14 "/10/%zz", "broken");
    kho_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_digits), cmocka_unit_test(test_gtin_every_length),
        cmocka_unit_test(test_gtin_errors),  cmocka_unit_test(test_sgtin_lgtin_uris),
        cmocka_unit_test(test_sgln_uri),     cmocka_unit_test(test_parse_urns),
        cmocka_unit_test(test_dl_parse),     cmocka_unit_test(test_dl_build),
        cmocka_unit_test(test_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
