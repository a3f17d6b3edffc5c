/*
 * gs1 — GS1 check digits, GTINs, EPC URIs and Digital Link paths (see gs1.h).
 *
 * Design: every parser reads its input once, left to right, into fixed-size
 * fields (no allocation); values are decoded into a 21-byte array and checked
 * character by character, so a hostile input can neither overflow a field nor
 * smuggle a byte outside GS1 character set 82 into kho. Builders validate all
 * their arguments before appending anything, so a failed build leaves the
 * caller's buffer as it was.
 */
#include "apps/trace/gs1.h"

#include <string.h>

#define DL_PATH_MAX 2048

/* Characters that must be percent-encoded in an EPC URI (Tag Data Standard, Table A-1). */
static const char URN_ESCAPED[] = "\"%&/<>?";
/* Characters that may not appear raw in a Digital Link path segment (they end the
 * segment or the path, start an escape, or are not URI characters). */
static const char DL_ESCAPED[] = "\"%/<>?#";

/* ---- Check digits ----------------------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

char kho_gs1_check_digit(const char *digits, size_t n)
{
    if (n == 0 || !all_digits(digits, n))
        return '\0';
    unsigned sum = 0;
    for (size_t k = 0; k < n; k++) /* k counts from the rightmost digit */
        sum += (unsigned)(digits[n - 1 - k] - '0') * (k % 2 == 0 ? 3u : 1u);
    return (char)('0' + (10 - sum % 10) % 10);
}

bool kho_gs1_check_digit_ok(const char *digits, size_t n)
{
    return n >= 2 && is_digit(digits[n - 1]) && kho_gs1_check_digit(digits, n - 1) == digits[n - 1];
}

/* ---- GTIN ------------------------------------------------------------------------- */

/* Validate s[0..n) as a GTIN of 8/12/13/14 digits and write its 14-digit form. */
static int gtin_digits(const char *s, size_t n, char out[15], kho_err_t *err)
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return kho_err_setk(err, KHO_EINVAL, "invalid_gtin", "GTIN: character %zu is not a digit", i + 1);
    if (n != 8 && n != 12 && n != 13 && n != 14)
        return kho_err_setk(err, KHO_EINVAL, "invalid_gtin", "GTIN: %zu digits; a GTIN has 8, 12, 13 or 14", n);
    if (!kho_gs1_check_digit_ok(s, n))
        return kho_err_setk(err, KHO_EINVAL, "invalid_gtin", "GTIN %.*s: wrong check digit %c, expected %c", (int)n, s,
                            s[n - 1], kho_gs1_check_digit(s, n - 1));
    memset(out, '0', 14 - n);
    memcpy(out + 14 - n, s, n);
    out[14] = '\0';
    return 0;
}

int kho_gtin_normalise(const char *in, char out[15], kho_err_t *err)
{
    out[0] = '\0';
    if (!in)
        return kho_err_setk(err, KHO_EINVAL, "invalid_gtin", "GTIN: missing");
    size_t n = strlen(in);
    while (n > 0 && in[n - 1] == ' ')
        n--;
    size_t b = 0;
    while (b < n && in[b] == ' ')
        b++;
    if (b == n)
        return kho_err_setk(err, KHO_EINVAL, "invalid_gtin", "GTIN: empty");
    for (size_t i = b; i < n; i++) /* positions in the caller's string, spaces included */
        if (!is_digit(in[i]))
            return kho_err_setk(err, KHO_EINVAL, "invalid_gtin", "GTIN: character %zu is not a digit", i + 1);
    return gtin_digits(in + b, n - b, out, err);
}

/* ---- Values: serial, lot, GLN extension ------------------------------------------- */

/* GS1 AI encodable character set 82. */
static bool is_cset82(unsigned char c)
{
    return (c >= 0x21 && c <= 0x22) || (c >= 0x25 && c <= 0x3F) || (c >= 'A' && c <= 'Z') || c == '_' ||
           (c >= 'a' && c <= 'z');
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decode a percent-encoded value s[0..n) into out (1-20 characters of set 82).
 * `escaped` lists the characters that may not appear raw. */
static int value_decode(const char *s, size_t n, const char *escaped, const char *what, char out[KHO_GS1_VALUE_MAX + 1],
                        kho_err_t *err)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t at = i + 1;
        if (c == '%') {
            int hi = i + 1 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return kho_err_setk(err, KHO_EINVAL, "invalid_gs1_value", "%s: broken percent escape at character %zu",
                                    what, at);
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
            if (!is_cset82(c))
                return kho_err_setk(err, KHO_EINVAL, "invalid_gs1_value",
                                    "%s: escape %%%02X at character %zu is outside the GS1 character set", what,
                                    (unsigned)c, at);
        } else if (!is_cset82(c) || strchr(escaped, c)) {
            return kho_err_setk(err, KHO_EINVAL, "invalid_gs1_value",
                                "%s: character %zu is not allowed here (GS1 character set 82%s)", what, at,
                                is_cset82(c) ? ", percent-encode it" : "");
        }
        if (len == KHO_GS1_VALUE_MAX)
            return kho_err_setk(err, KHO_EINVAL, "invalid_gs1_value", "%s: longer than %d characters", what,
                                KHO_GS1_VALUE_MAX);
        out[len++] = (char)c;
    }
    if (len == 0)
        return kho_err_setk(err, KHO_EINVAL, "invalid_gs1_value", "%s: empty", what);
    out[len] = '\0';
    return 0;
}

/* Check a plain (decoded) value given to a builder. */
static int value_check(const char *v, const char *what, kho_err_t *err)
{
    size_t n = v ? strlen(v) : 0;
    if (n == 0)
        return kho_err_setk(err, KHO_EINVAL, "invalid_gs1_value", "%s: empty", what);
    if (n > KHO_GS1_VALUE_MAX)
        return kho_err_setk(err, KHO_EINVAL, "invalid_gs1_value", "%s: %zu characters, at most %d", what, n,
                            KHO_GS1_VALUE_MAX);
    for (size_t i = 0; i < n; i++)
        if (!is_cset82((unsigned char)v[i]))
            return kho_err_setk(err, KHO_EINVAL, "invalid_gs1_value",
                                "%s: character %zu is outside the GS1 character set", what, i + 1);
    return 0;
}

/* Append v, percent-encoding the characters in `escaped` (NULL: all but A-Z a-z 0-9 - . _). */
static void value_encode(kho_buf_t *out, const char *v, const char *escaped)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        bool plain = escaped ? !strchr(escaped, *p)
                             : (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || is_digit((char)*p) ||
                                   *p == '-' || *p == '.' || *p == '_';
        if (plain) {
            kho_buf_putc(out, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            kho_buf_append(out, e, 3);
        }
    }
}

/* ---- EPC URIs --------------------------------------------------------------------- */

static int prefix_len_check(size_t cp, kho_err_t *err)
{
    if (cp < 6 || cp > 12)
        return kho_err_setk(err, KHO_EINVAL, "invalid_company_prefix",
                            "GS1 Company Prefix length %zu: must be 6 to 12 digits", cp);
    return 0;
}

/* Append "CompanyPrefix.IndicatorItemRef." for a valid 14-digit GTIN. */
static void put_gtin_fields(kho_buf_t *out, const char g[15], size_t cp)
{
    kho_buf_append(out, g + 1, cp);
    kho_buf_putc(out, '.');
    kho_buf_putc(out, g[0]);
    kho_buf_append(out, g + 1 + cp, 12 - cp);
    kho_buf_putc(out, '.');
}

static int gtin_uri(const char *scheme, const char *gtin, const char *value, const char *what, size_t cp,
                    kho_buf_t *out, kho_err_t *err)
{
    char g[15];
    int rc = prefix_len_check(cp, err);
    if (rc == 0)
        rc = kho_gtin_normalise(gtin, g, err);
    if (rc == 0)
        rc = value_check(value, what, err);
    if (rc < 0)
        return rc;
    kho_buf_puts(out, scheme);
    put_gtin_fields(out, g, cp);
    value_encode(out, value, URN_ESCAPED);
    return 0;
}

int kho_gs1_sgtin_uri(const char *gtin14, const char *serial, size_t company_prefix_len, kho_buf_t *out, kho_err_t *err)
{
    return gtin_uri("urn:epc:id:sgtin:", gtin14, serial, "serial", company_prefix_len, out, err);
}

int kho_gs1_lgtin_uri(const char *gtin14, const char *lot, size_t company_prefix_len, kho_buf_t *out, kho_err_t *err)
{
    return gtin_uri("urn:epc:class:lgtin:", gtin14, lot, "lot", company_prefix_len, out, err);
}

int kho_gs1_sgln_uri(const char *gln13, const char *extension, size_t company_prefix_len, kho_buf_t *out,
                     kho_err_t *err)
{
    int rc = prefix_len_check(company_prefix_len, err);
    if (rc < 0)
        return rc;
    size_t n = gln13 ? strlen(gln13) : 0;
    if (n != 13 || !all_digits(gln13, n))
        return kho_err_setk(err, KHO_EINVAL, "invalid_gln", "GLN: must be 13 digits");
    if (!kho_gs1_check_digit_ok(gln13, 13))
        return kho_err_setk(err, KHO_EINVAL, "invalid_gln", "GLN %s: wrong check digit %c, expected %c", gln13,
                            gln13[12], kho_gs1_check_digit(gln13, 12));
    bool has_ext = extension && *extension;
    if (has_ext && (rc = value_check(extension, "GLN extension", err)) < 0)
        return rc;
    kho_buf_puts(out, "urn:epc:id:sgln:");
    kho_buf_append(out, gln13, company_prefix_len);
    kho_buf_putc(out, '.');
    kho_buf_append(out, gln13 + company_prefix_len, 12 - company_prefix_len);
    kho_buf_putc(out, '.');
    if (has_ext)
        value_encode(out, extension, URN_ESCAPED);
    else
        kho_buf_putc(out, '0');
    return 0;
}

/* Split "A.B.rest" after a URN scheme: A and B are digit fields whose lengths add
 * up to `total`, A being the company prefix (6-12 digits). */
static int urn_fields(const char *s, size_t total, const char *what, const char **b, const char **rest, size_t *cp,
                      kho_err_t *err)
{
    const char *d1 = strchr(s, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2)
        return kho_err_setk(err, KHO_EINVAL, "invalid_epc", "%s URI: expected three fields separated by '.'", what);
    *cp = (size_t)(d1 - s);
    size_t blen = (size_t)(d2 - d1 - 1);
    if (!all_digits(s, *cp) || !all_digits(d1 + 1, blen))
        return kho_err_setk(err, KHO_EINVAL, "invalid_epc", "%s URI: the first two fields must be digits", what);
    if (*cp < 6 || *cp > 12 || *cp + blen != total)
        return kho_err_setk(err, KHO_EINVAL, "invalid_epc",
                            "%s URI: company prefix of %zu and reference of %zu digits; expected 6-12 and %zu in all",
                            what, *cp, blen, total);
    *b = d1 + 1;
    *rest = d2 + 1;
    return 0;
}

static int parse_gtin_urn(const char *s, bool lot, kho_gs1_epc_t *out, kho_err_t *err)
{
    const char *what = lot ? "LGTIN" : "SGTIN", *ref, *rest;
    size_t cp;
    int rc = urn_fields(s, 13, what, &ref, &rest, &cp, err);
    if (rc < 0)
        return rc;
    out->gtin14[0] = ref[0];
    memcpy(out->gtin14 + 1, s, cp);
    memcpy(out->gtin14 + 1 + cp, ref + 1, 12 - cp);
    out->gtin14[13] = kho_gs1_check_digit(out->gtin14, 13);
    out->gtin14[14] = '\0';
    out->company_prefix_len = cp;
    out->kind = lot ? KHO_GS1_LGTIN : KHO_GS1_SGTIN;
    return value_decode(rest, strlen(rest), URN_ESCAPED, lot ? "lot" : "serial", lot ? out->lot : out->serial, err);
}

static int parse_sgln_urn(const char *s, kho_gs1_epc_t *out, kho_err_t *err)
{
    const char *ref, *rest;
    size_t cp;
    int rc = urn_fields(s, 12, "SGLN", &ref, &rest, &cp, err);
    if (rc < 0)
        return rc;
    memcpy(out->gln13, s, cp);
    memcpy(out->gln13 + cp, ref, 12 - cp);
    out->gln13[12] = kho_gs1_check_digit(out->gln13, 12);
    out->gln13[13] = '\0';
    out->company_prefix_len = cp;
    out->kind = KHO_GS1_SGLN;
    if (strcmp(rest, "0") == 0)
        return 0; /* the standard's "no extension" */
    return value_decode(rest, strlen(rest), URN_ESCAPED, "GLN extension", out->extension, err);
}

/* An http(s) Digital Link URI: skip scheme and host, parse the path. */
static int parse_dl_uri(const char *uri, kho_gs1_epc_t *out, kho_err_t *err)
{
    const char *host = strstr(uri, "://") + 3;
    size_t hlen = strcspn(host, "/?#");
    if (hlen == 0 || host[hlen] != '/')
        return kho_err_setk(err, KHO_EINVAL, "invalid_epc", "Digital Link URI: expected https://host/01/...");
    kho_gs1_dl_t dl;
    int rc = kho_gs1_dl_parse(host + hlen, &dl, err);
    if (rc < 0)
        return rc;
    memcpy(out->gtin14, dl.gtin14, sizeof out->gtin14);
    memcpy(out->lot, dl.lot, sizeof out->lot);
    memcpy(out->serial, dl.serial, sizeof out->serial);
    out->digital_link = true;
    out->kind = dl.serial[0] ? KHO_GS1_SGTIN : dl.lot[0] ? KHO_GS1_LGTIN : KHO_GS1_GTIN;
    return 0;
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int kho_gs1_parse_epc(const char *uri, kho_gs1_epc_t *out, kho_err_t *err)
{
    memset(out, 0, sizeof *out);
    int rc;
    if (!uri)
        rc = kho_err_setk(err, KHO_EINVAL, "invalid_epc", "EPC URI: missing");
    else if (starts(uri, "urn:epc:id:sgtin:"))
        rc = parse_gtin_urn(uri + strlen("urn:epc:id:sgtin:"), false, out, err);
    else if (starts(uri, "urn:epc:class:lgtin:"))
        rc = parse_gtin_urn(uri + strlen("urn:epc:class:lgtin:"), true, out, err);
    else if (starts(uri, "urn:epc:id:sgln:"))
        rc = parse_sgln_urn(uri + strlen("urn:epc:id:sgln:"), out, err);
    else if (starts(uri, "https://") || starts(uri, "http://"))
        rc = parse_dl_uri(uri, out, err);
    else
        rc = kho_err_setk(err, KHO_EINVAL, "invalid_epc",
                          "not a supported EPC URI (urn:epc:id:sgtin:, urn:epc:class:lgtin:, urn:epc:id:sgln: "
                          "or an https:// GS1 Digital Link)");
    if (rc < 0)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ---- GS1 Digital Link ------------------------------------------------------------- */

/* One path segment [p, p+n). */
typedef struct seg {
    const char *p;
    size_t n;
} seg_t;

static bool seg_is(seg_t s, const char *a, const char *b)
{
    return (s.n == strlen(a) && memcmp(s.p, a, s.n) == 0) || (s.n == strlen(b) && memcmp(s.p, b, s.n) == 0);
}

/* Parse segments sg[0..n) as primary key, GTIN and qualifiers 10 then 21. */
static int dl_from(const seg_t *sg, size_t n, kho_gs1_dl_t *out, kho_err_t *err)
{
    if (n < 2)
        return kho_err_setk(err, KHO_EINVAL, "invalid_digital_link", "Digital Link: /01/ without a GTIN");
    int rc = gtin_digits(sg[1].p, sg[1].n, out->gtin14, err);
    int stage = 0; /* 0: after the GTIN, 1: after the lot, 2: after the serial */
    for (size_t i = 2; rc == 0 && i < n; i += 2) {
        bool lot = seg_is(sg[i], "10", "lot"), ser = seg_is(sg[i], "21", "ser");
        if ((!lot && !ser) || (lot && stage >= 1) || (ser && stage >= 2))
            return kho_err_setk(err, KHO_EINVAL, "invalid_digital_link",
                                "Digital Link: unexpected segment %zu after the GTIN (expected /10/{lot} then "
                                "/21/{serial})",
                                i - 1);
        if (i + 1 >= n)
            return kho_err_setk(err, KHO_EINVAL, "invalid_digital_link", "Digital Link: /%s/ without a value",
                                lot ? "10" : "21");
        rc = value_decode(sg[i + 1].p, sg[i + 1].n, DL_ESCAPED, lot ? "lot" : "serial", lot ? out->lot : out->serial,
                          err);
        stage = lot ? 1 : 2;
    }
    return rc;
}

int kho_gs1_dl_parse(const char *path, kho_gs1_dl_t *out, kho_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (!path || path[0] != '/')
        return kho_err_setk(err, KHO_EINVAL, "invalid_digital_link", "Digital Link: the path must start with '/'");
    size_t len = strcspn(path, "?#");
    if (len > DL_PATH_MAX)
        return kho_err_setk(err, KHO_EINVAL, "invalid_digital_link", "Digital Link: path longer than %d bytes",
                            DL_PATH_MAX);
    seg_t sg[DL_PATH_MAX / 2 + 1];
    size_t n = 0;
    for (size_t i = 0; i < len;) { /* path[i] == '/' */
        size_t k = i + 1;
        while (k < len && path[k] != '/')
            k++;
        sg[n++] = (seg_t){path + i + 1, k - i - 1};
        i = k;
    }
    /* The primary key is the first "01" or "gtin" segment after which the rest parses;
     * when none does, the error is the first candidate's. */
    kho_err_t first;
    bool tried = false;
    for (size_t i = 0; i < n; i++) {
        if (!seg_is(sg[i], "01", "gtin"))
            continue;
        memset(out, 0, sizeof *out);
        if (dl_from(sg + i, n - i, out, tried ? NULL : &first) == 0)
            return 0;
        tried = true;
    }
    memset(out, 0, sizeof *out);
    if (!tried)
        return kho_err_setk(err, KHO_EINVAL, "invalid_digital_link", "Digital Link: no /01/ or /gtin/ in the path");
    if (err)
        *err = first;
    return first.code;
}

int kho_gs1_dl_build(const char *base_url, const char *gtin14, const char *lot, const char *serial, kho_buf_t *out,
                     kho_err_t *err)
{
    char g[15];
    int rc = kho_gtin_normalise(gtin14, g, err);
    if (rc == 0 && lot && *lot)
        rc = value_check(lot, "lot", err);
    if (rc == 0 && serial && *serial)
        rc = value_check(serial, "serial", err);
    if (rc < 0)
        return rc;
    size_t blen = base_url ? strlen(base_url) : 0;
    if (blen > 0 && base_url[blen - 1] == '/')
        blen--;
    kho_buf_append(out, base_url ? base_url : "", blen);
    kho_buf_puts(out, "/01/");
    kho_buf_puts(out, g);
    if (lot && *lot) {
        kho_buf_puts(out, "/10/");
        value_encode(out, lot, NULL);
    }
    if (serial && *serial) {
        kho_buf_puts(out, "/21/");
        value_encode(out, serial, NULL);
    }
    return 0;
}
