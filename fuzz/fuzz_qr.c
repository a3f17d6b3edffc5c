/*
 * libFuzzer harness for apps/trace/qr. The first byte is the module size
 * (-1 to 42 px), the second the margin (-1 to 11 modules), the rest up to the
 * first NUL the text. Nothing crashes; inputs inside qr.h's limits succeed and
 * the others fail with KHO_EINVAL and leave the output alone; the SVG has the
 * announced geometry, its runs stay inside the symbol and draw the finder
 * patterns; and where the PNG is
 * drawn (up to 320 px a side, to keep runs fast), libpng reads back exactly the
 * modules the SVG paints.
 */
#include <assert.h>
#include <png.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/trace/qr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PNG_MAX_SIDE 320

/* Paint the SVG's runs into a full x full grid (1 = dark); returns it (caller frees). */
static unsigned char *svg_grid(const char *svg, int modules, int px, int margin)
{
    int full = modules + 2 * margin;
    char head[256];
    snprintf(head, sizeof head,
             "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" ", full * px,
             full * px, full, full);
    assert(strncmp(svg, head, strlen(head)) == 0);
    size_t n = strlen(svg);
    assert(n > 9 && strcmp(svg + n - 9, "\"/></svg>") == 0);
    const char *p = strstr(svg, " d=\"");
    assert(p);
    p += 4;
    unsigned char *grid = calloc((size_t)full * (size_t)full, 1);
    assert(grid);
    while (*p != '"') {
        int x, y, w, w2, used = -1;
        assert(sscanf(p, "M%d %dh%dv1h-%dz%n", &x, &y, &w, &w2, &used) == 4 && used > 0 && w == w2);
        assert(x >= margin && y >= margin && w >= 1 && x + w <= margin + modules && y < margin + modules);
        for (int i = 0; i < w; i++) {
            assert(!grid[y * full + x + i]);
            grid[y * full + x + i] = 1;
        }
        p += used;
    }
    return grid;
}

/* The three finder patterns: 7 x 7, dark ring, light ring, dark 3 x 3 centre. */
static void finders_ok(const unsigned char *grid, int modules, int margin)
{
    int full = modules + 2 * margin;
    const int corner[3][2] = {{0, 0}, {modules - 7, 0}, {0, modules - 7}};
    for (int c = 0; c < 3; c++)
        for (int dy = 0; dy < 7; dy++)
            for (int dx = 0; dx < 7; dx++) {
                int ring = abs(dx - 3) > abs(dy - 3) ? abs(dx - 3) : abs(dy - 3);
                int x = margin + corner[c][0] + dx, y = margin + corner[c][1] + dy;
                assert(grid[y * full + x] == (ring != 2));
            }
}

static void png_matches(const kho_buf_t *png, const unsigned char *grid, int full, int px)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    assert(png_image_begin_read_from_memory(&img, png->data, png->len));
    img.format = PNG_FORMAT_GRAY;
    int side = full * px;
    assert((int)img.width == side && (int)img.height == side);
    unsigned char *pix = malloc(PNG_IMAGE_SIZE(img));
    assert(pix);
    assert(png_image_finish_read(&img, NULL, pix, 0, NULL));
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++)
            assert(pix[(size_t)y * (size_t)side + (size_t)x] == (grid[(y / px) * full + x / px] ? 0 : 255));
    free(pix);
}

static void refused(int rc, const kho_buf_t *out, const kho_err_t *err)
{
    assert(rc == KHO_EINVAL && err->code == KHO_EINVAL && err->msg[0] && out->len == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int px = data[0] % 44 - 1, margin = data[1] % 13 - 1;
    char *text = malloc(size - 1);
    assert(text);
    memcpy(text, data + 2, size - 2);
    text[size - 2] = '\0';
    size_t n = strlen(text);
    bool ok = n >= 1 && n <= KHO_QR_MAX_TEXT && px >= 1 && px <= 40 && margin >= 0 && margin <= 10;

    kho_buf_t svg = KHO_BUF_INIT, png = KHO_BUF_INIT;
    kho_err_t err = {0};
    int rc = kho_qr_svg(text, px, margin, &svg, &err);
    if (!ok) {
        refused(rc, &svg, &err);
        err.code = 0;
        refused(kho_qr_png(text, px, margin, &png, &err), &png, &err);
        goto done;
    }
    assert(rc == 0);
    int modules = kho_qr_modules(text, &err);
    assert(modules >= 21 && modules <= 177 && (modules - 17) % 4 == 0);
    unsigned char *grid = svg_grid(kho_buf_cstr(&svg), modules, px, margin);
    finders_ok(grid, modules, margin);
    int full = modules + 2 * margin;
    if (full * px <= PNG_MAX_SIDE) {
        assert(kho_qr_png(text, px, margin, &png, &err) == 0);
        png_matches(&png, grid, full, px);
    }
    free(grid);
done:
    kho_buf_free(&svg);
    kho_buf_free(&png);
    free(text);
    return 0;
}
