/*
 * text — UTF-8 validation, NFC normalisation, Vietnamese folding, identifiers.
 *
 * All text kho stores is valid UTF-8 in Unicode Normalisation Form C. Search
 * compares "folded" text: case-folded, compatibility-decomposed, stripped of
 * combining marks, with đ/Đ mapped to d, runs of white space collapsed to one
 * space. So "Nghĩa Trụ", "NGHIA TRU" and "nghia tru" fold to the same string.
 * Normalisation and case mapping use utf8proc.
 */
#ifndef KHO_CORE_TEXT_H
#define KHO_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* ---- UTF-8 validation ------------------------------------------------------ */

/* Validate s[0..n). Returns true when valid. On failure *bad (if not NULL) is the
 * byte offset of the first byte that cannot start or continue a valid sequence.
 * NUL bytes, overlong forms, surrogates and code points above U+10FFFF are invalid. */
bool kho_utf8_valid(const char *s, size_t n, size_t *bad);

/* Streaming validator for input that arrives in chunks. Tracks line (1-based;
 * LF, CRLF and a lone CR each end a line) and column (1-based, in characters)
 * so errors can say where. */
typedef struct kho_utf8v {
    uint64_t line;       /* line of the next byte */
    uint64_t col;        /* characters already seen on this line */
    uint64_t offset;     /* bytes consumed so far */
    uint32_t cp;         /* partial code point */
    uint8_t need;        /* continuation bytes still expected */
    uint8_t lo, hi;      /* allowed range of the next continuation byte */
    bool prev_cr;        /* the last byte was CR (a following LF ends the same line) */
    uint64_t seq_line, seq_col, seq_offset; /* where the partial sequence began */
} kho_utf8v_t;

void kho_utf8v_init(kho_utf8v_t *v);
/* Feed a chunk. Returns true while the input so far is valid; on the first error
 * returns false and fills line/col/offset/byte with its position and the bad byte. */
typedef struct kho_utf8_error {
    uint64_t line, col, offset;
    unsigned byte;
    bool truncated; /* the input ended inside a multi-byte sequence */
} kho_utf8_error_t;
bool kho_utf8v_feed(kho_utf8v_t *v, const char *p, size_t n, kho_utf8_error_t *e);
/* Call at end of input: false when the input ended inside a sequence. */
bool kho_utf8v_finish(kho_utf8v_t *v, kho_utf8_error_t *e);

/* Make s[0..n) valid UTF-8 in place: every byte that does not belong to a valid
 * sequence (a character cut by truncation, a raw byte) becomes '?'. Returns the
 * number of bytes replaced. */
size_t kho_utf8_repair(char *s, size_t n);

/* Decode one code point from valid UTF-8 at s (n bytes left); returns its length. */
size_t kho_utf8_decode(const char *s, size_t n, uint32_t *cp);

/* ---- Normalisation ------------------------------------------------------------ */

/* If s[0..n) (valid UTF-8) is already in NFC, return false and leave out untouched.
 * Otherwise append its NFC form to out and return true. A fast path recognises
 * ASCII and precomposed Vietnamese without calling utf8proc. */
bool kho_text_nfc(const char *s, size_t n, kho_buf_t *out);

/* NFC copy of a NUL-terminated valid UTF-8 string; the caller frees it. */
char *kho_text_nfc_dup(const char *s);

/* ---- Folding for search ------------------------------------------------------- */

/* Append the folded form of s[0..n) (valid UTF-8) to out. */
void kho_text_fold(const char *s, size_t n, kho_buf_t *out);
/* Append a lower-cased NFC form that keeps tone marks ("Nghĩa Trụ" -> "nghĩa trụ"),
 * with white space collapsed like kho_text_fold. */
void kho_text_lower(const char *s, size_t n, kho_buf_t *out);
/* True when s carries letters with diacritics (its folded and lowered forms differ). */
bool kho_text_has_marks(const char *s, size_t n);

/* Display width of valid UTF-8 text in terminal columns (combining marks 0, wide CJK 2). */
size_t kho_text_width(const char *s, size_t n);

/* ---- Identifiers ----------------------------------------------------------------- */

/* Derive a safe SQL/JSON identifier from a header label: folded, every run of
 * characters outside [a-z0-9] becomes '_', leading/trailing '_' trimmed, at most
 * 63 bytes; a name starting with a digit gets a "c_" prefix. Writes into out
 * (size >= 64). Returns the length; 0 when the label has no usable character. */
size_t kho_text_ident(const char *label, size_t n, char *out, size_t outsz);

/* True when s is a valid dataset id: 2-100 characters of [a-z0-9_-], starting
 * with a letter or digit (CKAN's rule for package names). */
bool kho_text_is_slug(const char *s);

#endif
