/* buf — growable NUL-terminated byte buffer (see buf.h). */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

void kho_buf_reserve(kho_buf_t *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = kho_xrealloc(b->data, cap);
    b->cap = cap;
}

void kho_buf_append(kho_buf_t *b, const void *p, size_t n)
{
    kho_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void kho_buf_puts(kho_buf_t *b, const char *s)
{
    kho_buf_append(b, s, strlen(s));
}

void kho_buf_putc(kho_buf_t *b, char c)
{
    kho_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void kho_buf_vprintf(kho_buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    kho_buf_reserve(b, 64);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    if (n >= 0 && (size_t)n >= b->cap - b->len) {
        kho_buf_reserve(b, (size_t)n);
        n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
    }
    va_end(ap2);
    if (n > 0)
        b->len += (size_t)n;
}

void kho_buf_printf(kho_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kho_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void kho_buf_reset(kho_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

const char *kho_buf_cstr(const kho_buf_t *b)
{
    return b->data ? b->data : "";
}

char *kho_buf_steal(kho_buf_t *b, size_t *len)
{
    if (!b->data) {
        kho_buf_reserve(b, 0);
        b->data[0] = '\0';
    }
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void kho_buf_free(kho_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

bool kho_fmt(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < size;
}
