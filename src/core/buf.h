/*
 * buf — a growable byte buffer, always NUL-terminated.
 *
 * A kho_buf_t starts zeroed (KHO_BUF_INIT) and owns its storage; release it with
 * kho_buf_free(). `data` may be NULL while the buffer is empty and never written;
 * kho_buf_cstr() always returns a valid string.
 */
#ifndef KHO_CORE_BUF_H
#define KHO_CORE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct kho_buf {
    char *data;
    size_t len;
    size_t cap;
} kho_buf_t;

#define KHO_BUF_INIT {NULL, 0, 0}

/* Make room for at least `extra` more bytes (plus the terminating NUL). */
void kho_buf_reserve(kho_buf_t *b, size_t extra);
void kho_buf_append(kho_buf_t *b, const void *p, size_t n);
void kho_buf_puts(kho_buf_t *b, const char *s);
void kho_buf_putc(kho_buf_t *b, char c);
void kho_buf_printf(kho_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kho_buf_vprintf(kho_buf_t *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Forget the content, keep the storage. */
void kho_buf_reset(kho_buf_t *b);
/* The content as a C string (borrowed; "" when empty). */
const char *kho_buf_cstr(const kho_buf_t *b);
/* Hand the storage to the caller (who frees it with free()) and reset the buffer. */
char *kho_buf_steal(kho_buf_t *b, size_t *len);
void kho_buf_free(kho_buf_t *b);

/* snprintf into a fixed array (paths, names); false when the result was cut. */
bool kho_fmt(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
