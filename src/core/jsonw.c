/* jsonw — fast JSON text writing (see jsonw.h). */
#include "core/jsonw.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kho_json_str(kho_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    kho_buf_reserve(b, n + 2);
    b->data[b->len++] = '"';
    size_t run = 0; /* bytes copied verbatim since the last escape */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        kho_buf_append(b, s + run, i - run);
        run = i + 1;
        char esc[7] = {'\\', 0};
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            kho_buf_append(b, esc, 6);
            continue;
        }
        kho_buf_append(b, esc, 2);
    }
    kho_buf_append(b, s + run, n - run);
    kho_buf_putc(b, '"');
}

void kho_json_cstr(kho_buf_t *b, const char *s)
{
    kho_json_str(b, s, strlen(s));
}

/* Decimal digits of v into the end of out (no terminator); returns where they start. */
static char *digits(char *end, unsigned long long v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

size_t kho_fmt_double(char *out, size_t size, double v)
{
    if (v == 0) /* also -0 */
        return (size_t)snprintf(out, size, "0");
    if (fabs(v) < 9007199254740992.0 && v == (double)(long long)v && size >= 24) {
        char tmp[24], *end = tmp + sizeof tmp;
        long long iv = (long long)v;
        char *p = digits(end, (unsigned long long)(iv < 0 ? -iv : iv));
        if (iv < 0)
            *--p = '-';
        size_t n = (size_t)(end - p);
        memcpy(out, p, n);
        out[n] = '\0';
        return n;
    }
    /* Fast path for values with a few decimals (money, rates, measures): with
     * m = v·10^k rounded, m < 2^53 and 10^k exact, the division m / 10^k is
     * correctly rounded, so when it gives v back the decimal m·10^-k reads back
     * as v; the smallest such k is the shortest form. */
    static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
    double a = fabs(v);
    for (int k = 1; k <= 6 && a < 1e9; k++) {
        double scaled = a * pow10[k];
        long long m = llround(scaled);
        if ((double)m / pow10[k] != a)
            continue;
        long long ip = m / (long long)pow10[k], fp = m % (long long)pow10[k];
        if (size < 40)
            return (size_t)snprintf(out, size, "%s%lld.%0*lld", v < 0 ? "-" : "", ip, k, fp);
        char tmp[40], *end = tmp + sizeof tmp, *p = end;
        for (int d = 0; d < k; d++) { /* the k decimals, zeros kept */
            *--p = (char)('0' + fp % 10);
            fp /= 10;
        }
        *--p = '.';
        p = digits(p, (unsigned long long)ip);
        if (v < 0)
            *--p = '-';
        size_t n = (size_t)(end - p);
        memcpy(out, p, n);
        out[n] = '\0';
        return n;
    }
    /* %.15g reads back for most values and its trailing zeros are dropped, so it
     * is the shortest form for numbers that came from decimal text; otherwise
     * 16 or 17 digits. Only a 15-digit result can hide a shorter form (5e-324):
     * the round-trip property is monotonic in the precision, so bisect it. */
    int n = snprintf(out, size, "%.15g", v);
    if (strtod(out, NULL) != v) {
        n = snprintf(out, size, "%.16g", v);
        if (strtod(out, NULL) != v)
            n = snprintf(out, size, "%.17g", v);
        return (size_t)n;
    }
    size_t digits = 0;
    for (const char *p = out; *p && *p != 'e'; p++)
        digits += *p >= '0' && *p <= '9';
    if (digits < 15)
        return (size_t)n;
    int lo = 1, hi = 15; /* hi reads back */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        snprintf(out, size, "%.*g", mid, v);
        if (strtod(out, NULL) == v)
            hi = mid;
        else
            lo = mid + 1;
    }
    return (size_t)snprintf(out, size, "%.*g", hi, v);
}

void kho_json_double(kho_buf_t *b, double v)
{
    if (!isfinite(v)) {
        kho_buf_append(b, "null", 4);
        return;
    }
    char tmp[40];
    size_t n = kho_fmt_double(tmp, sizeof tmp, v);
    kho_buf_append(b, tmp, n);
}

void kho_json_int(kho_buf_t *b, long long v)
{
    char tmp[24];
    char *end = tmp + sizeof tmp;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    char *p = digits(end, u);
    if (v < 0)
        *--p = '-';
    kho_buf_append(b, p, (size_t)(end - p));
}

static void newline(kho_buf_t *b, int indent, int depth)
{
    if (!indent)
        return;
    kho_buf_putc(b, '\n');
    for (int i = 0; i < indent * depth; i++)
        kho_buf_putc(b, ' ');
}

static void dump(kho_buf_t *b, const json_t *v, int indent, int depth)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        bool first = true;
        kho_buf_putc(b, '{');
        json_object_foreach((json_t *)v, key, val) {
            if (!first)
                kho_buf_putc(b, ',');
            first = false;
            newline(b, indent, depth + 1);
            kho_json_cstr(b, key);
            kho_buf_puts(b, indent ? ": " : ":");
            dump(b, val, indent, depth + 1);
        }
        if (!first)
            newline(b, indent, depth);
        kho_buf_putc(b, '}');
        break;
    }
    case JSON_ARRAY: {
        kho_buf_putc(b, '[');
        size_t n = json_array_size(v);
        for (size_t i = 0; i < n; i++) {
            if (i)
                kho_buf_putc(b, ',');
            newline(b, indent, depth + 1);
            dump(b, json_array_get(v, i), indent, depth + 1);
        }
        if (n)
            newline(b, indent, depth);
        kho_buf_putc(b, ']');
        break;
    }
    case JSON_STRING: kho_json_str(b, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: kho_json_int(b, (long long)json_integer_value(v)); break;
    case JSON_REAL: kho_json_double(b, json_real_value(v)); break;
    case JSON_TRUE: kho_buf_append(b, "true", 4); break;
    case JSON_FALSE: kho_buf_append(b, "false", 5); break;
    default: kho_buf_append(b, "null", 4);
    }
}

void kho_json_dump(kho_buf_t *b, const json_t *v, int indent)
{
    dump(b, v, indent, 0);
}
