/* mask — masking of personal data (see mask.h). */
#include "security/mask.h"

#include <stdio.h>
#include <string.h>
#include <utf8proc.h>

#include "core/text.h"

static const char *const KINDS[] = {"generic", "id_number", "phone", "name", "dob", "email", "address"};

bool kho_tags_have(const char *tags, const char *tag)
{
    size_t n = strlen(tag);
    for (const char *p = tags; p && *p;) {
        size_t k = strcspn(p, " ");
        if (k == n && strncmp(p, tag, n) == 0)
            return true;
        p += k;
        while (*p == ' ')
            p++;
    }
    return false;
}

bool kho_tags_personal(const char *tags)
{
    return kho_tags_have(tags, "personal") || kho_tags_have(tags, "sensitive");
}

int kho_pii_parse(const char *kind)
{
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (strcmp(kind, KINDS[i]) == 0)
            return (int)i;
    return -1;
}

const char *kho_pii_name(kho_pii_t kind)
{
    return KINDS[kind];
}

kho_pii_t kho_pii_from_tags(const char *tags)
{
    for (size_t i = 1; i < sizeof KINDS / sizeof KINDS[0]; i++) {
        char tag[32];
        snprintf(tag, sizeof tag, "pii:%s", KINDS[i]);
        if (kho_tags_have(tags, tag))
            return (kho_pii_t)i;
    }
    return KHO_PII_GENERIC;
}

static void stars(kho_buf_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        kho_buf_putc(out, '*');
}

/* Number of characters (code points) in valid UTF-8. */
static size_t chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static void put_upper_first(kho_buf_t *out, const char *s, size_t n)
{
    uint32_t cp;
    kho_utf8_decode(s, n, &cp);
    utf8proc_uint8_t tmp[4];
    utf8proc_ssize_t k = utf8proc_encode_char(utf8proc_toupper((utf8proc_int32_t)cp), tmp);
    kho_buf_append(out, tmp, (size_t)k);
}

static void mask_name(const char *s, size_t n, kho_buf_t *out)
{
    bool first = true;
    size_t i = 0;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i >= n)
            break;
        if (!first)
            kho_buf_putc(out, ' ');
        first = false;
        put_upper_first(out, s + i, n - i);
        kho_buf_putc(out, '.');
        while (i < n && s[i] != ' ' && s[i] != '\t')
            i++;
    }
    if (first)
        kho_buf_puts(out, "***");
}

static void mask_keep_ends(const char *s, size_t n, size_t head, size_t tail, kho_buf_t *out)
{
    size_t c = chars(s, n);
    if (c <= head + tail + 1) { /* too short to keep anything safely */
        stars(out, c ? c : 3);
        return;
    }
    size_t i = 0, seen = 0;
    while (seen < head) { /* the first `head` characters */
        uint32_t cp;
        size_t k = kho_utf8_decode(s + i, n - i, &cp);
        kho_buf_append(out, s + i, k);
        i += k;
        seen++;
    }
    stars(out, c - head - tail);
    size_t j = n, kept = 0;
    while (kept < tail && j > 0) { /* back up over the last `tail` characters */
        j--;
        if (((unsigned char)s[j] & 0xC0) != 0x80)
            kept++;
    }
    kho_buf_append(out, s + j, n - j);
}

static void mask_dob(const char *s, size_t n, kho_buf_t *out)
{
    for (size_t i = 0; i + 4 <= n; i++) {
        bool four = true;
        for (size_t k = 0; k < 4 && four; k++)
            four = s[i + k] >= '0' && s[i + k] <= '9';
        bool bounded = (i == 0 || s[i - 1] < '0' || s[i - 1] > '9') && (i + 4 == n || s[i + 4] < '0' || s[i + 4] > '9');
        if (four && bounded) {
            kho_buf_append(out, s + i, 4);
            return;
        }
    }
    kho_buf_puts(out, "****");
}

static void mask_email(const char *s, size_t n, kho_buf_t *out)
{
    const char *at = memchr(s, '@', n);
    if (!at || at == s) {
        mask_keep_ends(s, n, 1, 0, out);
        return;
    }
    uint32_t cp;
    size_t k = kho_utf8_decode(s, n, &cp);
    kho_buf_append(out, s, k);
    kho_buf_puts(out, "***");
    kho_buf_append(out, at, (size_t)(s + n - at));
}

static void mask_address(const char *s, size_t n, kho_buf_t *out)
{
    const char *comma = NULL;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ',')
            comma = s + i;
    kho_buf_puts(out, "***");
    if (comma) {
        kho_buf_putc(out, ',');
        kho_buf_append(out, comma + 1, (size_t)(s + n - comma - 1));
    }
}

void kho_mask(kho_pii_t kind, const char *s, size_t n, kho_buf_t *out)
{
    switch (kind) {
    case KHO_PII_ID_NUMBER: mask_keep_ends(s, n, 3, 3, out); return;
    case KHO_PII_PHONE: mask_keep_ends(s, n, 0, 3, out); return;
    case KHO_PII_NAME: mask_name(s, n, out); return;
    case KHO_PII_DOB: mask_dob(s, n, out); return;
    case KHO_PII_EMAIL: mask_email(s, n, out); return;
    case KHO_PII_ADDRESS: mask_address(s, n, out); return;
    default: /* nothing of an unknown kind is safe to show: not its length, not a letter */
        kho_buf_puts(out, "***");
    }
}
