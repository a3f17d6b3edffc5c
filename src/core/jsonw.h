/*
 * jsonw — fast JSON text writing into a kho_buf_t.
 *
 * Used where many values are serialised (row pages, exports) and building
 * jansson objects would cost too much. Strings must be valid UTF-8 (kho stores
 * only valid UTF-8); control characters, quotes and backslashes are escaped.
 */
#ifndef KHO_CORE_JSONW_H
#define KHO_CORE_JSONW_H

#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"

/* Append s[0..n) as a quoted JSON string. */
void kho_json_str(kho_buf_t *b, const char *s, size_t n);
/* Append a NUL-terminated string as a quoted JSON string. */
void kho_json_cstr(kho_buf_t *b, const char *s);
/* Append a double in the shortest form that reads back to the same value
 * (8854.13, never 8854.1299999999992); NaN and infinities become null. */
void kho_json_double(kho_buf_t *b, double v);
void kho_json_int(kho_buf_t *b, long long v);

/* Serialise a jansson value, writing reals in the shortest round-trip form
 * (jansson itself writes %.17g: 0.1 would become 0.10000000000000001).
 * indent 0 is compact; otherwise each level is indented by that many spaces. */
void kho_json_dump(kho_buf_t *b, const json_t *v, int indent);

/* Write the shortest round-trip form of a finite double into out (>= 32 bytes);
 * returns its length. Integral values within 2^53 print without exponent or ".0". */
size_t kho_fmt_double(char *out, size_t size, double v);

#endif
