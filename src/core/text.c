/*
 * text — UTF-8 validation, NFC, folding and identifiers (see text.h).
 *
 * Design: the hot paths (validating a 100 MB upload, normalising every cell) are
 * byte loops with an ASCII fast path; utf8proc is called only for text that may
 * actually change. The NFC fast path accepts code points that are NFC-inert on
 * their own and in any combination with each other: U+0000-U+024F (Latin-1 and
 * Latin Extended-A/B), U+1EA0-U+1EF9 (precomposed Vietnamese) and U+20AB (the
 * dong sign). A unit test proves the claim against utf8proc for every pair.
 */
#include "core/text.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/mem.h"

/* ---- UTF-8 validation ------------------------------------------------------ */

/* For a lead byte: number of continuation bytes and the range of the first one.
 * need == 0xFF marks an invalid lead byte. */
static void lead_info(unsigned char c, uint8_t *need, uint8_t *lo, uint8_t *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (c >= 0x01 && c <= 0x7F)
        *need = 0;
    else if (c >= 0xC2 && c <= 0xDF)
        *need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        *need = 2;
        if (c == 0xE0)
            *lo = 0xA0;
        else if (c == 0xED)
            *hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        *need = 3;
        if (c == 0xF0)
            *lo = 0x90;
        else if (c == 0xF4)
            *hi = 0x8F;
    } else
        *need = 0xFF;
}

bool kho_utf8_valid(const char *s, size_t n, size_t *bad)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c >= 0x01 && c < 0x80) {
            i++;
            continue;
        }
        uint8_t need, lo, hi;
        lead_info(c, &need, &lo, &hi);
        if (need == 0xFF || need == 0) {
            if (bad)
                *bad = i;
            return false;
        }
        for (uint8_t k = 1; k <= need; k++) {
            if (i + k >= n || p[i + k] < lo || p[i + k] > hi) {
                if (bad)
                    *bad = i + k < n ? i + k : n;
                return false;
            }
            lo = 0x80;
            hi = 0xBF;
        }
        i += (size_t)need + 1;
    }
    return true;
}

size_t kho_utf8_repair(char *s, size_t n)
{
    unsigned char *p = (unsigned char *)s;
    size_t fixed = 0, i = 0;
    while (i < n) {
        if (p[i] >= 0x01 && p[i] < 0x80) {
            i++;
            continue;
        }
        uint8_t need, lo, hi;
        lead_info(p[i], &need, &lo, &hi);
        bool ok = need != 0xFF && need != 0;
        for (uint8_t k = 1; ok && k <= need; k++) {
            ok = i + k < n && p[i + k] >= lo && p[i + k] <= hi;
            lo = 0x80;
            hi = 0xBF;
        }
        if (ok) {
            i += (size_t)need + 1;
            continue;
        }
        p[i++] = '?'; /* a lone, cut or invalid byte (or NUL) */
        fixed++;
    }
    return fixed;
}

void kho_utf8v_init(kho_utf8v_t *v)
{
    memset(v, 0, sizeof *v);
    v->line = 1;
}

static bool utf8v_fail(const kho_utf8v_t *v, unsigned byte, bool at_seq, kho_utf8_error_t *e)
{
    if (e) {
        e->line = at_seq ? v->seq_line : v->line;
        e->col = (at_seq ? v->seq_col : v->col) + 1;
        e->offset = v->offset;
        e->byte = byte;
        e->truncated = false;
    }
    return false;
}

/* True when some byte of w is zero. */
static bool has_zero_byte(uint64_t w)
{
    return ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL) != 0;
}

bool kho_utf8v_feed(kho_utf8v_t *v, const char *s, size_t n, kho_utf8_error_t *e)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++, v->offset++) {
        /* fast path: 8 plain ASCII bytes with no line break and no NUL */
        while (v->need == 0 && i + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if ((w & 0x8080808080808080ULL) || has_zero_byte(w) || has_zero_byte(w ^ 0x0A0A0A0A0A0A0A0AULL) ||
                has_zero_byte(w ^ 0x0D0D0D0D0D0D0D0DULL))
                break;
            v->col += 8;
            v->offset += 8;
            v->prev_cr = false;
            i += 8;
        }
        if (i >= n)
            break;
        unsigned char c = p[i];
        if (v->need) {
            if (c < v->lo || c > v->hi)
                return utf8v_fail(v, c, true, e);
            v->lo = 0x80;
            v->hi = 0xBF;
            if (--v->need == 0)
                v->col++;
            continue;
        }
        if (c >= 0x01 && c < 0x80) {
            if (c == '\n') {
                if (!v->prev_cr)
                    v->line++;
                v->col = 0;
            } else if (c == '\r') {
                v->line++;
                v->col = 0;
            } else
                v->col++;
            v->prev_cr = c == '\r';
            continue;
        }
        v->prev_cr = false;
        uint8_t need, lo, hi;
        lead_info(c, &need, &lo, &hi);
        if (need == 0xFF || need == 0)
            return utf8v_fail(v, c, false, e);
        v->need = need;
        v->lo = lo;
        v->hi = hi;
        v->seq_line = v->line;
        v->seq_col = v->col;
        v->seq_offset = v->offset;
    }
    return true;
}

bool kho_utf8v_finish(kho_utf8v_t *v, kho_utf8_error_t *e)
{
    if (v->need == 0)
        return true;
    if (e) {
        e->line = v->seq_line;
        e->col = v->seq_col + 1;
        e->offset = v->seq_offset;
        e->byte = 0;
        e->truncated = true;
    }
    return false;
}

size_t kho_utf8_decode(const char *s, size_t n, uint32_t *cp)
{
    utf8proc_int32_t c = 0;
    utf8proc_ssize_t len = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &c);
    if (len <= 0) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = (uint32_t)c;
    return (size_t)len;
}

/* ---- Normalisation ------------------------------------------------------------ */

static bool nfc_inert(uint32_t cp)
{
    return cp <= 0x24F || (cp >= 0x1EA0 && cp <= 0x1EF9) || cp == 0x20AB;
}

bool kho_text_nfc(const char *s, size_t n, kho_buf_t *out)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        i += kho_utf8_decode(s + i, n - i, &cp);
        if (!nfc_inert(cp))
            goto slow;
    }
    return false;
slow:;
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t len = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &dst,
                                        UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (len < 0) { /* not valid UTF-8: callers validate first; leave the text as it is */
        free(dst);
        return false;
    }
    bool changed = (size_t)len != n || memcmp(dst, s, n) != 0;
    if (changed)
        kho_buf_append(out, dst, (size_t)len);
    free(dst);
    return changed;
}

char *kho_text_nfc_dup(const char *s)
{
    kho_buf_t b = KHO_BUF_INIT;
    size_t n = strlen(s);
    if (!kho_text_nfc(s, n, &b))
        kho_buf_append(&b, s, n);
    return kho_buf_steal(&b, NULL);
}

/* ---- Folding ------------------------------------------------------------------- */

static bool is_space_cp(uint32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v' || cp == 0xA0 ||
           (cp >= 0x2000 && cp <= 0x200B) || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

static void put_cp(kho_buf_t *out, uint32_t cp)
{
    utf8proc_uint8_t tmp[4];
    utf8proc_ssize_t k = utf8proc_encode_char((utf8proc_int32_t)cp, tmp);
    kho_buf_append(out, tmp, (size_t)k);
}

/* Shared walk of fold and lower: white space collapsed and trimmed, every other
 * code point passed to `map`, which appends its replacement. */
static void walk(const char *s, size_t n, kho_buf_t *out, void (*map)(kho_buf_t *, uint32_t))
{
    size_t start = out->len;
    bool pending_space = false;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            cp = c;
            i++;
        } else
            i += kho_utf8_decode(s + i, n - i, &cp);
        if (is_space_cp(cp)) {
            pending_space = out->len > start;
            continue;
        }
        if (pending_space) {
            kho_buf_putc(out, ' ');
            pending_space = false;
        }
        map(out, cp);
    }
}

static void fold_cp(kho_buf_t *out, uint32_t cp)
{
    if (cp < 0x80) {
        kho_buf_putc(out, (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
        return;
    }
    if (cp == 0x0110 || cp == 0x0111) { /* Đ đ */
        kho_buf_putc(out, 'd');
        return;
    }
    utf8proc_int32_t dst[18];
    int last = 0;
    utf8proc_ssize_t k = utf8proc_decompose_char((utf8proc_int32_t)cp, dst, 18,
                                                 UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
                                                     UTF8PROC_STRIPMARK,
                                                 &last);
    if (k < 0 || k > 18) {
        put_cp(out, cp);
        return;
    }
    for (utf8proc_ssize_t j = 0; j < k; j++) {
        uint32_t d = (uint32_t)dst[j];
        if (d == 0x0111)
            kho_buf_putc(out, 'd');
        else if (d < 0x80)
            kho_buf_putc(out, (char)(d >= 'A' && d <= 'Z' ? d + 32 : d));
        else
            put_cp(out, d);
    }
}

void kho_text_fold(const char *s, size_t n, kho_buf_t *out)
{
    walk(s, n, out, fold_cp);
}

static void lower_cp(kho_buf_t *out, uint32_t cp)
{
    if (cp < 0x80)
        kho_buf_putc(out, (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
    else
        put_cp(out, (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp));
}

void kho_text_lower(const char *s, size_t n, kho_buf_t *out)
{
    kho_buf_t nfc = KHO_BUF_INIT;
    if (kho_text_nfc(s, n, &nfc)) {
        s = nfc.data;
        n = nfc.len;
    }
    walk(s, n, out, lower_cp);
    kho_buf_free(&nfc);
}

bool kho_text_has_marks(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += kho_utf8_decode(s + i, n - i, &cp);
        if (cp < 0x80)
            continue;
        const utf8proc_property_t *p = utf8proc_get_property((utf8proc_int32_t)cp);
        if (cp == 0x0110 || cp == 0x0111 || p->decomp_seqindex != UINT16_MAX ||
            (p->category >= UTF8PROC_CATEGORY_MN && p->category <= UTF8PROC_CATEGORY_ME))
            return true;
    }
    return false;
}

size_t kho_text_width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            w += c >= 0x20;
            i++;
            continue;
        }
        i += kho_utf8_decode(s + i, n - i, &cp);
        int cw = utf8proc_charwidth((utf8proc_int32_t)cp);
        w += cw > 0 ? (size_t)cw : 0;
    }
    return w;
}

/* ---- Identifiers --------------------------------------------------------------- */

size_t kho_text_ident(const char *label, size_t n, char *out, size_t outsz)
{
    kho_buf_t f = KHO_BUF_INIT;
    kho_text_fold(label, n, &f);
    size_t cap = outsz - 1 < 63 ? outsz - 1 : 63;
    size_t len = 0;
    bool gap = false;
    for (size_t i = 0; i < f.len && len < cap; i++) {
        char c = f.data[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!ok) {
            gap = len > 0;
            continue;
        }
        if (len == 0 && c >= '0' && c <= '9' && cap >= 3) {
            out[len++] = 'c';
            out[len++] = '_';
        }
        if (gap && len < cap - 1) {
            out[len++] = '_';
            gap = false;
        }
        out[len++] = c;
    }
    while (len > 0 && out[len - 1] == '_')
        len--;
    out[len] = '\0';
    kho_buf_free(&f);
    return len;
}

bool kho_text_is_slug(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 100)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '-' || c == '_'));
        if (!ok)
            return false;
    }
    return true;
}
