/*
 * Unit tests of apps/trace/qr: QR codes as PNG and SVG.
 *
 * Three independent checks of what the module draws:
 *   - the PNG read back by libpng's own reader has, pixel for pixel, the module
 *     matrix libqrencode gives for the same text (margin and module size included);
 *   - the SVG path read back run by run covers exactly the same dark modules, once
 *     each, with one run per maximal horizontal stretch;
 *   - zbarimg (Debian zbar-tools, a decoder that shares no code with kho) reads the
 *     PNG back to exactly the text. Without /usr/bin/zbarimg that test fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <png.h>
#include <pthread.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apps/trace/qr.h"
#include "kho_test.h"

#define ZBARIMG "/usr/bin/zbarimg"

/* 62 bytes: exactly what version 4 at level M holds in 8-bit mode (ISO/IEC 18004 table 7). */
#define URL "https://kho.example.vn/01/08930000000017/10/LOT-2025-07-NHAN01"

static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

/* ---- helpers ------------------------------------------------------------------------ */

static void qrcode_destroy(void *p)
{
    QRcode_free(p);
}

/* The module matrix straight from libqrencode (same settings as qr.c: 8-bit, level M, smallest version). */
static const QRcode *matrix(const char *text)
{
    QRcode *q = QRcode_encodeData((int)strlen(text), (const unsigned char *)text, 0, QR_ECLEVEL_M);
    assert_non_null(q);
    return kt_defer(qrcode_destroy, q);
}

static bool dark(const QRcode *q, int x, int y)
{
    return x >= 0 && y >= 0 && x < q->width && y < q->width && (q->data[y * q->width + x] & 1);
}

static char *repeat(char c, size_t n)
{
    char *s = kt_malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Check the signature and the IHDR chunk (which libpng always writes first). */
static void png_header_ok(const kho_buf_t *b, uint32_t side)
{
    const unsigned char *p = (const unsigned char *)b->data;
    assert_true(b->len > 33);
    assert_memory_equal(p, png_sig, 8);
    assert_int_equal(be32(p + 8), 13);
    assert_memory_equal(p + 12, "IHDR", 4);
    assert_int_equal(be32(p + 16), side); /* width */
    assert_int_equal(be32(p + 20), side); /* height */
    assert_int_equal(p[24], 1);           /* bit depth */
    assert_int_equal(p[25], 0);           /* greyscale */
    assert_memory_equal(b->data + b->len - 8, "IEND", 4);
}

/* Read the PNG with libpng and compare every pixel with the matrix. */
static void png_pixels_ok(const kho_buf_t *b, const QRcode *q, int px, int margin)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_memory(&img, b->data, b->len));
    img.format = PNG_FORMAT_GRAY;
    int side = (q->width + 2 * margin) * px;
    assert_int_equal(img.width, side);
    assert_int_equal(img.height, side);
    unsigned char *pix = kt_malloc(PNG_IMAGE_SIZE(img));
    assert_true(png_image_finish_read(&img, NULL, pix, 0, NULL));
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            int want = dark(q, x / px - margin, y / px - margin) ? 0 : 255;
            if (pix[(size_t)y * (size_t)side + (size_t)x] != want)
                fail_msg("pixel (%d,%d) is %d, expected %d (module %d,%d)", x, y, pix[(size_t)y * side + x], want,
                         x / px - margin, y / px - margin);
        }
    kt_release(pix);
}

/* Parse the SVG: geometry attributes, then the path's runs painted into a grid of
 * (width + 2 margin)^2 modules. Every dark module is painted exactly once, nothing
 * else is, and no two runs touch end to end (each run is a maximal stretch). */
static void svg_ok(const char *svg, const QRcode *q, int px, int margin)
{
    int full = q->width + 2 * margin;
    char want[256];
    assert_true(kho_fmt(want, sizeof want,
                        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                        "shape-rendering=\"crispEdges\">",
                        full * px, full * px, full, full));
    assert_true(strncmp(svg, want, strlen(want)) == 0);
    assert_true(kho_fmt(want, sizeof want, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>", full, full));
    assert_non_null(strstr(svg, want));
    const char *d = strstr(svg, "<path fill=\"#000\" d=\"");
    assert_non_null(d);
    assert_null(strstr(d + 1, "<path")); /* one path */
    size_t n = strlen(svg);
    assert_true(n > 15 && strcmp(svg + n - 9, "\"/></svg>") == 0);

    unsigned char *grid = kt_malloc((size_t)full * (size_t)full);
    memset(grid, 0, (size_t)full * (size_t)full);
    int runs = 0, x, y, w, w2, used;
    const char *p = d + strlen("<path fill=\"#000\" d=\"");
    while (*p != '"') {
        used = -1;
        if (sscanf(p, "M%d %dh%dv1h-%dz%n", &x, &y, &w, &w2, &used) != 4 || used <= 0)
            fail_msg("cannot read a run at \"%.30s\"", p);
        assert_int_equal(w, w2);
        assert_true(x >= margin && y >= margin && w >= 1 && x + w <= margin + q->width && y < margin + q->width);
        for (int i = 0; i < w; i++) {
            assert_int_equal(grid[y * full + x + i], 0);
            grid[y * full + x + i] = 1;
        }
        runs++;
        p += used;
    }
    int want_runs = 0;
    for (y = 0; y < full; y++)
        for (x = 0; x < full; x++) {
            bool on = dark(q, x - margin, y - margin);
            if (grid[y * full + x] != on)
                fail_msg("module (%d,%d) is %s in the SVG", x - margin, y - margin, on ? "missing" : "extra");
            if (on && !dark(q, x - margin - 1, y - margin))
                want_runs++;
        }
    assert_int_equal(runs, want_runs);
    kt_release(grid);
}

/* Run zbarimg on the PNG and return what it printed (a string released at teardown). */
static const char *zbar_decode(const kho_buf_t *png)
{
    if (access(ZBARIMG, X_OK) != 0)
        fail_msg(ZBARIMG " is missing: install Debian's zbar-tools (scripts/deps.sh test) to run this test");
    const char *dir = kt_tmpdir("qr");
    const char *file = kt_write_file(dir, "qr.png", png->data, png->len);
    /* stderr apart: zbarimg may complain there about D-Bus, which is no concern here */
    char cmd[512];
    assert_true(kho_fmt(cmd, sizeof cmd, ZBARIMG " --raw -q '%s' 2>'%s/stderr'", file, dir));
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    kho_buf_t *out = kt_buf();
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        kho_buf_append(out, chunk, n);
    int status = pclose(f);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char path[256], msg[1024] = "";
        assert_true(kho_fmt(path, sizeof path, "%s/stderr", dir));
        FILE *e = fopen(path, "r");
        if (e) {
            msg[fread(msg, 1, sizeof msg - 1, e)] = '\0';
            fclose(e);
        }
        fail_msg("zbarimg failed (status %d): %s%s", status, kho_buf_cstr(out), msg);
    }
    return kho_buf_cstr(out);
}

static void zbar_roundtrip(const char *text, int px, int margin)
{
    kho_buf_t *png = kt_buf();
    kho_err_t err = {0};
    assert_int_equal(kho_qr_png(text, px, margin, png, &err), 0);
    const char *got = zbar_decode(png);
    size_t n = strlen(text);
    if (strlen(got) != n + 1 || memcmp(got, text, n) != 0 || got[n] != '\n')
        fail_msg("zbarimg read \"%.200s\" from the code of \"%.200s\" (%d px, margin %d)", got, text, px, margin);
}

/* ---- tests -------------------------------------------------------------------------- */

/* Sizes by version (17 + 4 v modules) at the 8-bit capacities of level M:
 * v1 14 bytes, v2 26, v3 42, v4 62, v5 84; v40 holds 2,331 (above qr.h's limit of 2,000). */
static void test_modules(void **state)
{
    (void)state;
    kho_err_t err = {0};
    assert_int_equal(kho_qr_modules("A", &err), 21);
    assert_int_equal(kho_qr_modules(repeat('a', 14), &err), 21);
    assert_int_equal(kho_qr_modules(repeat('a', 15), &err), 25);
    assert_int_equal(kho_qr_modules(repeat('a', 26), &err), 25);
    assert_int_equal(kho_qr_modules(repeat('a', 27), &err), 29);
    assert_int_equal(strlen(URL), 62);
    assert_int_equal(kho_qr_modules(URL, &err), 33);
    assert_int_equal(kho_qr_modules(URL "X", &err), 37);
    /* digits go in 8-bit mode too (a numeric-mode encoder would fit 34 in version 1) */
    assert_int_equal(kho_qr_modules("123456789012345", &err), 25);
    int big = kho_qr_modules(repeat('Z', KHO_QR_MAX_TEXT), &err);
    assert_true(big > 157 && big <= 177 && (big - 17) % 4 == 0);
    /* agrees with the SVG's viewBox */
    kho_buf_t *svg = kt_buf();
    assert_int_equal(kho_qr_svg(URL, 1, 0, svg, &err), 0);
    assert_non_null(strstr(kho_buf_cstr(svg), "viewBox=\"0 0 33 33\""));
    /* errors: 0 and a message */
    err.code = 0;
    assert_int_equal(kho_qr_modules("", &err), 0);
    assert_int_equal(err.code, KHO_EINVAL);
    assert_int_equal(kho_qr_modules(NULL, &err), 0);
    assert_int_equal(kho_qr_modules(repeat('a', KHO_QR_MAX_TEXT + 1), &err), 0);
    assert_non_null(strstr(err.msg, "2000"));
    assert_int_equal(kho_qr_modules(repeat('a', 5000), NULL), 0); /* err may be NULL */
}

static void test_png_geometry(void **state)
{
    (void)state;
    kho_err_t err = {0};
    static const struct {
        int px, margin;
    } cases[] = {{4, 4}, {1, 0}, {3, 1}, {8, 2}, {40, 10}, {7, 10}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kho_buf_t *png = kt_buf();
        assert_int_equal(kho_qr_png(URL, cases[i].px, cases[i].margin, png, &err), 0);
        png_header_ok(png, (uint32_t)((33 + 2 * cases[i].margin) * cases[i].px));
        png_pixels_ok(png, matrix(URL), cases[i].px, cases[i].margin);
        kt_release(png);
    }
    /* the largest text at the smallest and at the largest geometry */
    const char *big = repeat('~', KHO_QR_MAX_TEXT);
    const QRcode *q = matrix(big);
    kho_buf_t *png = kt_buf();
    assert_int_equal(kho_qr_png(big, 1, 0, png, &err), 0);
    png_pixels_ok(png, q, 1, 0);
    kho_buf_reset(png);
    assert_int_equal(kho_qr_png(big, 40, 10, png, &err), 0);
    png_header_ok(png, (uint32_t)((q->width + 20) * 40));
    /* output is appended to what the buffer holds */
    kho_buf_reset(png);
    kho_buf_puts(png, "head");
    assert_int_equal(kho_qr_png("A", 2, 4, png, &err), 0);
    assert_memory_equal(png->data, "head", 4);
    assert_memory_equal(png->data + 4, png_sig, 8);
}

static void test_png_decodes(void **state)
{
    (void)state;
    zbar_roundtrip(URL, 4, 4);
    zbar_roundtrip(URL, 2, 4);
    zbar_roundtrip(URL "?linkType=gs1:traceability", 6, 2);
    zbar_roundtrip("https://kho.example.vn/01/08930000000017/21/S%C3%A1u-01", 3, 4);
    zbar_roundtrip("a", 4, 4);
    /* a long text: a high version with alignment patterns and version information */
    char long_text[600];
    size_t n = 0;
    for (int i = 0; n + 16 < sizeof long_text; i++)
        n += (size_t)snprintf(long_text + n, sizeof long_text - n, "/10/LOT-%06d", i);
    zbar_roundtrip(long_text, 3, 4);
}

static void test_svg(void **state)
{
    (void)state;
    kho_err_t err = {0};
    static const struct {
        int px, margin;
    } cases[] = {{4, 4}, {1, 0}, {40, 10}, {4, 2}};
    const char *texts[] = {URL, "A", "https://kho.example.vn/01/08930000000017/21/S%C3%A1u-01", repeat('x', 700)};
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            kho_buf_t *svg = kt_buf();
            assert_int_equal(kho_qr_svg(texts[t], cases[i].px, cases[i].margin, svg, &err), 0);
            svg_ok(kho_buf_cstr(svg), matrix(texts[t]), cases[i].px, cases[i].margin);
            kt_release(svg);
        }
    /* compact: well under 50 bytes per dark module for the URL (a <rect> each would be ~40) */
    kho_buf_t *svg = kt_buf();
    assert_int_equal(kho_qr_svg(URL, 4, 4, svg, &err), 0);
    const QRcode *q = matrix(URL);
    size_t on = 0;
    for (int i = 0; i < q->width * q->width; i++)
        on += q->data[i] & 1;
    assert_true(svg->len < on * 20);
    /* appended, and characters of the text never reach the markup */
    kho_buf_reset(svg);
    kho_buf_puts(svg, "<p>");
    assert_int_equal(kho_qr_svg("\"/><script>alert(1)</script>&amp;", 2, 1, svg, &err), 0);
    assert_true(strncmp(svg->data, "<p><svg ", 8) == 0);
    assert_null(strstr(svg->data, "script"));
}

/* Rejected inputs: KHO_EINVAL, a message naming the limit, nothing appended. */
static void bad(const char *text, int px, int margin, const char *msg_part)
{
    for (int png = 0; png < 2; png++) {
        kho_buf_t *out = kt_buf();
        kho_buf_puts(out, "keep");
        kho_err_t err = {0};
        int rc = png ? kho_qr_png(text, px, margin, out, &err) : kho_qr_svg(text, px, margin, out, &err);
        assert_int_equal(rc, KHO_EINVAL);
        assert_int_equal(err.code, KHO_EINVAL);
        if (!strstr(err.msg, msg_part))
            fail_msg("%s: message '%s' lacks '%s'", png ? "png" : "svg", err.msg, msg_part);
        assert_int_equal(out->len, 4);
        assert_string_equal(kho_buf_cstr(out), "keep");
        /* err may be NULL */
        rc = png ? kho_qr_png(text, px, margin, out, NULL) : kho_qr_svg(text, px, margin, out, NULL);
        assert_int_equal(rc, KHO_EINVAL);
        kt_release(out);
    }
}

static void test_bad_input(void **state)
{
    (void)state;
    bad("", 4, 4, "empty");
    bad(NULL, 4, 4, "empty");
    bad(repeat('a', 5000), 4, 4, "5000 bytes");
    bad(repeat('a', KHO_QR_MAX_TEXT + 1), 4, 4, "at most 2000");
    bad(repeat('a', 1 << 20), 4, 4, "at most 2000");
    bad(URL, 0, 4, "1-40");
    bad(URL, -1, 4, "1-40");
    bad(URL, 41, 4, "1-40");
    bad(URL, INT_MAX, 4, "1-40");
    bad(URL, INT_MIN, 4, "1-40");
    bad(URL, 4, -1, "0-10");
    bad(URL, 4, 11, "0-10");
    bad(URL, 4, INT_MAX, "0-10");
    bad(URL, 4, INT_MIN, "0-10");
    bad("", 0, -1, "empty"); /* the text is named first */
    /* the limits themselves are accepted; bytes that are not UTF-8 are just bytes */
    kho_buf_t *out = kt_buf();
    kho_err_t err = {0};
    assert_int_equal(kho_qr_svg(repeat('a', KHO_QR_MAX_TEXT), 1, 0, out, &err), 0);
    assert_int_equal(kho_qr_svg("\xff\xfe\x80\x01\x7f", 40, 10, out, &err), 0);
    assert_int_equal(kho_qr_png("\xff\xfe\x80\x01\x7f", 1, 0, out, &err), 0);
}

/* Encoding from several threads at once gives the same bytes as from one. */
#define NTHREADS 4
#define NTEXTS 8

static kho_buf_t ref_png[NTEXTS], ref_svg[NTEXTS];
static char texts_mt[NTEXTS][80];

static void *encode_many(void *arg)
{
    intptr_t id = (intptr_t)arg;
    intptr_t bad_count = 0;
    for (int round = 0; round < 10; round++)
        for (int i = 0; i < NTEXTS; i++) {
            int t = (int)((i + id) % NTEXTS);
            kho_buf_t png = KHO_BUF_INIT, svg = KHO_BUF_INIT;
            kho_err_t err;
            if (kho_qr_png(texts_mt[t], 3, 4, &png, &err) != 0 || kho_qr_svg(texts_mt[t], 3, 4, &svg, &err) != 0 ||
                png.len != ref_png[t].len || memcmp(png.data, ref_png[t].data, png.len) != 0 ||
                svg.len != ref_svg[t].len || memcmp(svg.data, ref_svg[t].data, svg.len) != 0)
                bad_count++;
            kho_buf_free(&png);
            kho_buf_free(&svg);
        }
    return (void *)bad_count;
}

static void free_refs(void *p)
{
    (void)p;
    for (int i = 0; i < NTEXTS; i++) {
        kho_buf_free(&ref_png[i]);
        kho_buf_free(&ref_svg[i]);
    }
}

static void test_threads(void **state)
{
    (void)state;
    kho_err_t err = {0};
    kt_defer(free_refs, ref_png);
    for (int i = 0; i < NTEXTS; i++) {
        assert_true(kho_fmt(texts_mt[i], sizeof texts_mt[i], "%s/21/SER-%d", URL, i * 7919));
        assert_int_equal(kho_qr_png(texts_mt[i], 3, 4, &ref_png[i], &err), 0);
        assert_int_equal(kho_qr_svg(texts_mt[i], 3, 4, &ref_svg[i], &err), 0);
    }
    pthread_t th[NTHREADS];
    for (intptr_t i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, encode_many, (void *)i), 0);
    intptr_t bad_total = 0;
    for (int i = 0; i < NTHREADS; i++) {
        void *r;
        assert_int_equal(pthread_join(th[i], &r), 0);
        bad_total += (intptr_t)r;
    }
    assert_int_equal(bad_total, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_modules, kt_cleanup),
        cmocka_unit_test_teardown(test_png_geometry, kt_cleanup),
        cmocka_unit_test_teardown(test_png_decodes, kt_cleanup),
        cmocka_unit_test_teardown(test_svg, kt_cleanup),
        cmocka_unit_test_teardown(test_bad_input, kt_cleanup),
        cmocka_unit_test_teardown(test_threads, kt_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
