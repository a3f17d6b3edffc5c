/* qr — QR codes as SVG and PNG (see qr.h). */
#include "apps/trace/qr.h"

#include "core/mem.h"

#include <errno.h>
#include <png.h>
#include <qrencode.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int check(const char *text, int module_px, int margin, kho_err_t *err)
{
    size_t n = text ? strlen(text) : 0;
    if (n == 0)
        return kho_err_set(err, KHO_EINVAL, "nothing to encode: the text is empty");
    if (n > KHO_QR_MAX_TEXT)
        return kho_err_set(err, KHO_EINVAL, "the text is %zu bytes; a QR code here holds at most %d", n,
                           KHO_QR_MAX_TEXT);
    if (module_px < 1 || module_px > 40)
        return kho_err_set(err, KHO_EINVAL, "module size %d px is outside 1-40", module_px);
    if (margin < 0 || margin > 10)
        return kho_err_set(err, KHO_EINVAL, "margin %d modules is outside 0-10", margin);
    return 0;
}

/* Encode text into *q; on failure the code of the error (KHO_EINVAL when too long). */
static int encode(const char *text, QRcode **q, kho_err_t *err)
{
    errno = 0;
    *q = QRcode_encodeData((int)strlen(text), (const unsigned char *)text, 0, QR_ECLEVEL_M);
    if (*q)
        return 0;
    bool too_long = errno == ERANGE;
    return kho_err_set(err, too_long ? KHO_EINVAL : KHO_EINTERNAL, "the text cannot be encoded as a QR code (%s)",
                       too_long ? "too long" : "libqrencode failed");
}

int kho_qr_modules(const char *text, kho_err_t *err)
{
    if (check(text, 1, 0, err) != 0)
        return 0;
    QRcode *q;
    if (encode(text, &q, err) != 0)
        return 0;
    int w = q->width;
    QRcode_free(q);
    return w;
}

int kho_qr_svg(const char *text, int module_px, int margin, kho_buf_t *out, kho_err_t *err)
{
    int rc = check(text, module_px, margin, err);
    if (rc != 0)
        return rc;
    QRcode *q;
    rc = encode(text, &q, err);
    if (rc != 0)
        return rc;
    int w = q->width, full = w + 2 * margin;
    kho_buf_printf(out,
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                   "shape-rendering=\"crispEdges\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
                   full * module_px, full * module_px, full, full, full, full);
    for (int y = 0; y < w; y++) {
        for (int x = 0; x < w;) {
            if (!(q->data[y * w + x] & 1)) {
                x++;
                continue;
            }
            int run = 1;
            while (x + run < w && (q->data[y * w + x + run] & 1))
                run++;
            kho_buf_printf(out, "M%d %dh%dv1h-%dz", x + margin, y + margin, run, run);
            x += run;
        }
    }
    kho_buf_puts(out, "\"/></svg>");
    QRcode_free(q);
    return 0;
}

static void png_write(png_structp p, png_bytep data, png_size_t n)
{
    kho_buf_append(png_get_io_ptr(p), data, n);
}

static void png_flush(png_structp p)
{
    (void)p;
}

/* The libpng part, apart so that setjmp/longjmp meet only locals that do not change. */
static int write_png(const QRcode *q, int module_px, int margin, kho_buf_t *b, unsigned char *row)
{
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    if (!p)
        return -1;
    png_infop info = png_create_info_struct(p);
    if (!info || setjmp(png_jmpbuf(p))) {
        png_destroy_write_struct(&p, info ? &info : NULL);
        return -1;
    }
    int w = q->width, full = (w + 2 * margin) * module_px;
    png_set_write_fn(p, b, png_write, png_flush);
    /* 1 bit per pixel (0 black, 1 white), no row filters: eight times less for zlib to squeeze */
    png_set_IHDR(p, info, (png_uint_32)full, (png_uint_32)full, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_filter(p, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
    png_set_compression_level(p, 6);
    png_write_info(p, info);
    size_t rowbytes = ((size_t)full + 7) / 8;
    for (int my = -margin; my < w + margin; my++) {
        memset(row, 0xff, rowbytes);
        if (my >= 0 && my < w)
            for (int mx = 0; mx < w; mx++)
                if (q->data[my * w + mx] & 1)
                    for (int k = 0; k < module_px; k++) {
                        int x = (mx + margin) * module_px + k;
                        row[x >> 3] &= (unsigned char)~(0x80u >> (x & 7));
                    }
        for (int k = 0; k < module_px; k++)
            png_write_row(p, row);
    }
    png_write_end(p, info);
    png_destroy_write_struct(&p, &info);
    return 0;
}

int kho_qr_png(const char *text, int module_px, int margin, kho_buf_t *out, kho_err_t *err)
{
    int rc = check(text, module_px, margin, err);
    if (rc != 0)
        return rc;
    QRcode *q;
    rc = encode(text, &q, err);
    if (rc != 0)
        return rc;
    kho_buf_t b = KHO_BUF_INIT;
    unsigned char *row = kho_xmalloc(((size_t)(q->width + 2 * margin) * (size_t)module_px + 7) / 8);
    rc = write_png(q, module_px, margin, &b, row) == 0 ? 0 : kho_err_set(err, KHO_EINTERNAL, "libpng failed");
    free(row);
    QRcode_free(q);
    if (rc == 0)
        kho_buf_append(out, b.data, b.len);
    kho_buf_free(&b);
    return rc;
}
