/*
 * qr — QR codes (ISO/IEC 18004) for GS1 Digital Link URLs, as SVG or PNG.
 *
 * Encoding is libqrencode's (8-bit mode, error-correction level M, the
 * smallest version that holds the text); PNG is written by libpng (1-bit
 * greyscale, black modules on white). Pure functions, no globals: safe from any
 * thread. Output is appended to a caller's kho_buf_t (nothing on failure).
 *
 * Limits: text 1-2,000 bytes (version 40-M holds 2,331 bytes; URLs stay far
 * below); module_px 1-40; margin 0-10 modules (the standard asks for 4).
 * Errors are KHO_EINVAL with a message naming the limit.
 */
#ifndef KHO_APPS_TRACE_QR_H
#define KHO_APPS_TRACE_QR_H

#include "core/buf.h"
#include "core/err.h"

#define KHO_QR_MAX_TEXT 2000

/* An <svg> element: one <path> of horizontal runs, viewBox in modules,
 * width/height (modules + 2 x margin) x module_px pixels. */
int kho_qr_svg(const char *text, int module_px, int margin, kho_buf_t *out, kho_err_t *err) KHO_WUR;
/* A PNG image of the same geometry. */
int kho_qr_png(const char *text, int module_px, int margin, kho_buf_t *out, kho_err_t *err) KHO_WUR;
/* The number of modules across the symbol for text (0 and an error when it cannot be encoded). */
int kho_qr_modules(const char *text, kho_err_t *err);

#endif
