/* evhash — the EPCIS 2.0 hash-based event ID (see evhash.h for the rules). */
#include "apps/trace/evhash.h"

#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/trace/gs1.h"
#include "core/mem.h"

#define DL_ROOT "https://id.gs1.org"
#define CBV "https://ref.gs1.org/cbv/"
#define GS1_VOC "https://gs1.org/voc/"
#define NS_MAX 64

/* ---- the state of one computation -------------------------------------------------- */

typedef struct ns {
    const char *prefix; /* borrowed from the context JSON or a literal */
    size_t len;
    const char *iri;
} ns_t;

typedef struct hctx {
    ns_t ns[NS_MAX];
    size_t nns;
    kho_err_t *err;
    char path[256]; /* where we are, for messages: sensorElementList[0].sensorReport[1] */
    size_t plen;
    kho_buf_t val; /* put_field's scratch value */
} hctx_t;

static int fail(hctx_t *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(hctx_t *c, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->plen)
        return kho_err_set(c->err, code, "%s: %s", c->path, msg);
    return kho_err_set(c->err, code, "%s", msg);
}

/* Append n bytes of s to the path, as much as fits. */
static void path_put(hctx_t *c, const char *s, size_t n)
{
    size_t room = sizeof c->path - 1 - c->plen;
    if (n > room)
        n = room;
    memcpy(c->path + c->plen, s, n);
    c->plen += n;
    c->path[c->plen] = '\0';
}

/* Extend the path with ".name" (or "name" at the top); returns the mark to go back to.
 * (Called for every field: plain copies, no formatting.) */
static size_t at_key(hctx_t *c, const char *name)
{
    size_t mark = c->plen;
    if (c->plen)
        path_put(c, ".", 1);
    path_put(c, name, strnlen(name, 60));
    return mark;
}

static size_t at_index(hctx_t *c, size_t i)
{
    size_t mark = c->plen;
    char d[24], *p = d + sizeof d;
    *--p = ']';
    do
        *--p = (char)('0' + i % 10);
    while ((i /= 10) && p > d + 1);
    *--p = '[';
    path_put(c, p, (size_t)(d + sizeof d - p));
    return mark;
}

static void back(hctx_t *c, size_t mark)
{
    c->plen = mark;
    c->path[mark] = '\0';
}

/* ---- sorted pieces ----------------------------------------------------------------- */

/* Rendered strings to be sorted and concatenated; owns them. */
typedef struct vec {
    char **s;
    size_t n, cap, bytes;
} vec_t;

/* Take b's content as a piece (nothing for an empty one). */
static int vec_add(hctx_t *c, vec_t *v, kho_buf_t *b)
{
    if (b->len == 0) {
        kho_buf_free(b);
        return 0;
    }
    v->bytes += b->len;
    if (v->bytes > KHO_EVHASH_PREHASH_MAX) {
        kho_buf_free(b);
        return fail(c, KHO_ETOOLARGE, "the pre-hash string would pass %u bytes", KHO_EVHASH_PREHASH_MAX);
    }
    v->s = kho_xgrow(v->s, &v->cap, v->n + 1, sizeof *v->s);
    v->s[v->n++] = kho_buf_steal(b, NULL);
    return 0;
}

static void vec_free(vec_t *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->s[i]);
    free(v->s);
    memset(v, 0, sizeof *v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort (byte order), append to out, free. */
static void vec_join(vec_t *v, kho_buf_t *out)
{
    if (v->n > 1)
        qsort(v->s, v->n, sizeof *v->s, cmp_str);
    for (size_t i = 0; i < v->n; i++)
        kho_buf_puts(out, v->s[i]);
    vec_free(v);
}

/* ---- small string helpers ---------------------------------------------------------- */

static bool is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

static bool is_upper(int ch)
{
    return ch >= 'A' && ch <= 'Z';
}

static bool is_alnum(int ch)
{
    return is_digit(ch) || is_upper(ch) || (ch >= 'a' && ch <= 'z');
}

static bool is_space(int ch)
{
    return ch == ' ' || (ch >= '\t' && ch <= '\r') || (ch >= 0x1c && ch <= 0x1f);
}

static size_t count_digits(const char *p)
{
    size_t n = 0;
    while (is_digit((unsigned char)p[n]))
        n++;
    return n;
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int hexval(int ch)
{
    if (is_digit(ch))
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* ---- numbers and times ------------------------------------------------------------- */

/* A double as the reference (Python) writes it after its clean-up: integral values as
 * integers ("10", "0"), others in the shortest form that reads back the same, plain for
 * decimal exponents -4 .. 15 and as "1.5e-07" below. */
static void put_double(kho_buf_t *b, double d)
{
    if (d == 0) {
        kho_buf_putc(b, '0');
        return;
    }
    if (d == trunc(d)) {
        kho_buf_printf(b, "%.0f", d);
        return;
    }
    char s[48];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*e", prec - 1, d);
        if (strtod(s, NULL) == d)
            break;
    }
    const char *q = s;
    if (*q == '-') {
        kho_buf_putc(b, '-');
        q++;
    }
    char dig[24];
    size_t nd = 0;
    for (; *q && *q != 'e' && nd < sizeof dig; q++)
        if (is_digit((unsigned char)*q))
            dig[nd++] = *q;
    long e = *q == 'e' ? strtol(q + 1, NULL, 10) : 0;
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    long decpt = e + 1; /* digits before the decimal point */
    if (decpt <= -4 || decpt > 16) {
        kho_buf_putc(b, dig[0]);
        if (nd > 1) {
            kho_buf_putc(b, '.');
            kho_buf_append(b, dig + 1, nd - 1);
        }
        kho_buf_printf(b, "e%c%02ld", e < 0 ? '-' : '+', e < 0 ? -e : e);
    } else if (decpt <= 0) {
        kho_buf_puts(b, "0.");
        for (long i = 0; i < -decpt; i++)
            kho_buf_putc(b, '0');
        kho_buf_append(b, dig, nd);
    } else {
        size_t ip = (size_t)decpt < nd ? (size_t)decpt : nd;
        kho_buf_append(b, dig, ip);
        if (ip < nd) {
            kho_buf_putc(b, '.');
            kho_buf_append(b, dig + ip, nd - ip);
        }
    }
}

/* [+-] digits [. digits] [e [+-] digits], with at least one digit before the exponent. */
static bool decimal_syntax(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    size_t a = count_digits(s), f = 0;
    s += a;
    if (*s == '.') {
        s++;
        f = count_digits(s);
        s += f;
    }
    if (a + f == 0)
        return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        size_t x = count_digits(s);
        if (x == 0)
            return false;
        s += x;
    }
    return *s == '\0';
}

/* A string that is a finite decimal number, written as put_double does. */
static bool put_numeric_string(kho_buf_t *b, const char *s)
{
    if (!decimal_syntax(s))
        return false;
    double d = strtod(s, NULL);
    if (!isfinite(d))
        return false;
    put_double(b, d);
    return true;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int two(const char *p)
{
    return is_digit((unsigned char)p[0]) && is_digit((unsigned char)p[1]) ? (p[0] - '0') * 10 + (p[1] - '0') : -1;
}

/* YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM) -> UTC "YYYY-MM-DDTHH:MM:SS.mmmZ", the
 * milliseconds rounded half up on the 4th fractional digit. */
static int put_time(hctx_t *c, const char *s, kho_buf_t *out)
{
    if (strlen(s) < 20 || count_digits(s) != 4 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
        s[13] != ':' || s[16] != ':')
        return fail(c, KHO_EINVAL, "'%.40s' is not a time such as 2025-07-20T06:30:00.000+07:00", s);
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int mo = two(s + 5), d = two(s + 8), h = two(s + 11), mi = two(s + 14), sec = two(s + 17);
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || sec < 0 || sec > 59)
        return fail(c, KHO_EINVAL, "'%.40s' is not a valid date and time", s);
    const char *p = s + 19;
    int64_t ms = 0;
    if (*p == '.') {
        size_t nf = count_digits(++p);
        if (nf == 0)
            return fail(c, KHO_EINVAL, "'%.40s': a '.' without digits", s);
        for (size_t i = 0; i < 3; i++)
            ms = ms * 10 + (i < nf ? p[i] - '0' : 0);
        if (nf > 3 && p[3] >= '5')
            ms++;
        p += nf;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh = two(p + 1), om = oh >= 0 && p[3] == ':' ? two(p + 4) : -1;
        if (om < 0 || oh > 23 || om > 59)
            return fail(c, KHO_EINVAL, "'%.40s': the zone must be Z or ±hh:mm", s);
        off = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else
        return fail(c, KHO_EINVAL, "'%.40s' has no time zone (Z or ±hh:mm)", s);
    if (*p)
        return fail(c, KHO_EINVAL, "'%.40s': unexpected text after the time", s);
    int64_t t = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) - off * 60) * 1000 + ms;
    int64_t day = t >= 0 ? t / 86400000 : -((-t + 86399999) / 86400000);
    int64_t rem = t - day * 86400000;
    int64_t uy;
    int um, ud;
    civil_from_days(day, &uy, &um, &ud);
    if (uy < 1 || uy > 9999)
        return fail(c, KHO_EINVAL, "'%.40s' is out of range in UTC", s);
    kho_buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)uy, um, ud, (int)(rem / 3600000),
                   (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000));
    return 0;
}

/* ---- EPC URIs to GS1 Digital Link (Tag Data Standard -> Digital Link 1.2, 4.11) ------ */

/* GS1 AI encodable character set 82. */
static bool cs82(int ch)
{
    return is_alnum(ch) || (ch && strchr("!\"%&'()*+,-./:;<=>?_", ch));
}

/* Character set 39 (CPI component). */
static bool cs39(int ch)
{
    return is_digit(ch) || is_upper(ch) || ch == '#' || ch == '-' || ch == '/';
}

/* The number of characters of an EPC URN component p (to its end): raw characters
 * allowed in a URN, or %xx escapes of the set; -1 when something else is there. */
static long urn_chars(const char *p, bool cpi)
{
    long n = 0;
    for (; *p; n++) {
        int ch = (unsigned char)*p;
        if (ch == '%') {
            int hi = hexval((unsigned char)p[1]), lo = hi < 0 ? -1 : hexval((unsigned char)p[2]);
            if (lo < 0 || !(cpi ? cs39(hi * 16 + lo) : cs82(hi * 16 + lo)))
                return -1;
            p += 3;
            continue;
        }
        bool ok =
            cpi ? (is_digit(ch) || is_upper(ch) || ch == '-') : (is_alnum(ch) || (ch && strchr("!')(*+,.:;=_-", ch)));
        if (!ok)
            return -1;
        p++;
    }
    return n;
}

static bool urn_part(const char *p, long min, long max, bool cpi)
{
    long n = urn_chars(p, cpi);
    return n >= min && n <= max;
}

/* A URN component in a Digital Link: escapes kept, ! ( ) * + , : escaped. */
static void put_dl_part(kho_buf_t *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (ch && strchr("!()*+,:", ch))
            kho_buf_printf(b, "%%%02X", (unsigned char)ch);
        else
            kho_buf_putc(b, ch);
    }
}

/* "CompanyPrefix.Reference" with a 6-12 digit prefix and total (<= 17) digits in all
 * (the reference may be empty after a 12-digit prefix). The digits go to d (total + 1
 * bytes, NUL-ended), the prefix length to *cp; returns what follows, or NULL. */
static const char *cp_ref(const char *p, size_t total, char *d, size_t *cp)
{
    size_t n = count_digits(p);
    if (n < 6 || n > 12 || p[n] != '.')
        return NULL;
    const char *r = p + n + 1;
    size_t rl = count_digits(r);
    if (n + rl != total)
        return NULL;
    memcpy(d, p, n);
    memcpy(d + n, r, rl);
    d[total] = '\0';
    *cp = n;
    return r + rl;
}

/* GTIN-13 (or SSCC-17) digits from "prefix + indicator/extension-led reference". */
static void lead_digit_first(char d[24], size_t cp, size_t total)
{
    char t[24];
    t[0] = d[cp];
    memcpy(t + 1, d, cp);
    memcpy(t + 1 + cp, d + cp + 1, total - cp - 1);
    t[total] = '\0';
    memcpy(d, t, total + 1);
}

static void put_key(kho_buf_t *b, const char *ai, const char *d, size_t n)
{
    kho_buf_printf(b, DL_ROOT "/%s/", ai);
    kho_buf_append(b, d, n);
    kho_buf_putc(b, kho_gs1_check_digit(d, n));
}

/* Serialised identifiers whose layout is prefix.reference.serial with a check digit
 * on prefix+reference. */
static bool urn_serialised(const char *s, kho_buf_t *o)
{
    char d[24];
    size_t cp;
    const char *r;
    if (starts(s, "urn:epc:id:sgtin:") && (r = cp_ref(s + 17, 13, d, &cp)) && *r == '.' &&
        urn_part(r + 1, 1, 20, false)) {
        lead_digit_first(d, cp, 13);
        put_key(o, "01", d, 13);
        kho_buf_puts(o, "/21/");
        put_dl_part(o, r + 1, strlen(r + 1));
        return true;
    }
    if (starts(s, "urn:epc:id:sgln:") && (r = cp_ref(s + 16, 12, d, &cp)) && *r == '.' &&
        urn_part(r + 1, 1, 20, false)) {
        put_key(o, "414", d, 12);
        if (strcmp(r + 1, "0")) {
            kho_buf_puts(o, "/254/");
            put_dl_part(o, r + 1, strlen(r + 1));
        }
        return true;
    }
    if (starts(s, "urn:epc:id:grai:") && (r = cp_ref(s + 16, 12, d + 1, &cp)) && *r == '.' &&
        urn_part(r + 1, 1, 16, false)) {
        d[0] = '0';
        put_key(o, "8003", d, 13);
        put_dl_part(o, r + 1, strlen(r + 1));
        return true;
    }
    if (starts(s, "urn:epc:id:gdti:") && (r = cp_ref(s + 16, 12, d, &cp)) && *r == '.' &&
        urn_part(r + 1, 0, 20, false)) {
        put_key(o, "253", d, 12);
        put_dl_part(o, r + 1, strlen(r + 1));
        return true;
    }
    if (starts(s, "urn:epc:id:sgcn:") && (r = cp_ref(s + 16, 12, d, &cp)) && *r == '.' && count_digits(r + 1) >= 1 &&
        count_digits(r + 1) <= 12 && !r[1 + count_digits(r + 1)]) {
        put_key(o, "255", d, 12);
        kho_buf_puts(o, r + 1);
        return true;
    }
    if (starts(s, "urn:epc:id:itip:") && (r = cp_ref(s + 16, 13, d, &cp)) && r[0] == '.' && two(r + 1) >= 0 &&
        r[3] == '.' && two(r + 4) >= 0 && r[6] == '.' && urn_part(r + 7, 1, 20, false)) {
        lead_digit_first(d, cp, 13);
        put_key(o, "8006", d, 13);
        kho_buf_append(o, r + 1, 2);
        kho_buf_append(o, r + 4, 2);
        kho_buf_puts(o, "/21/");
        put_dl_part(o, r + 7, strlen(r + 7));
        return true;
    }
    if (starts(s, "urn:epc:id:upui:") && (r = cp_ref(s + 16, 13, d, &cp)) && *r == '.' &&
        urn_part(r + 1, 1, 28, false)) {
        lead_digit_first(d, cp, 13);
        put_key(o, "01", d, 13);
        kho_buf_puts(o, "/235/");
        put_dl_part(o, r + 1, strlen(r + 1));
        return true;
    }
    if (starts(s, "urn:epc:class:lgtin:") && (r = cp_ref(s + 20, 13, d, &cp)) && *r == '.' &&
        urn_part(r + 1, 1, 20, false)) {
        lead_digit_first(d, cp, 13);
        put_key(o, "01", d, 13);
        kho_buf_puts(o, "/10/");
        put_dl_part(o, r + 1, strlen(r + 1));
        return true;
    }
    return false;
}

/* Identifiers that are all digits: prefix.reference with a check digit, nothing after. */
static bool urn_numeric(const char *s, kho_buf_t *o)
{
    static const struct {
        const char *scheme, *ai;
        size_t digits;
        bool lead; /* the reference's first digit goes in front (SSCC extension digit) */
    } k[] = {
        {"urn:epc:id:sscc:", "00", 17, true},     {"urn:epc:id:gsrn:", "8018", 17, false},
        {"urn:epc:id:gsrnp:", "8017", 17, false}, {"urn:epc:id:gsin:", "402", 16, false},
        {"urn:epc:id:pgln:", "417", 12, false},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        if (!starts(s, k[i].scheme))
            continue;
        char d[24];
        size_t cp;
        const char *r = cp_ref(s + strlen(k[i].scheme), k[i].digits, d, &cp);
        if (!r || *r)
            return false;
        if (k[i].lead)
            lead_digit_first(d, cp, k[i].digits);
        put_key(o, k[i].ai, d, k[i].digits);
        return true;
    }
    return false;
}

/* Identifiers "prefix.reference" with an alphanumeric reference and no check digit
 * (GIAI, GINC), and CPI "prefix.partref.serial". */
static bool urn_alnum(const char *s, kho_buf_t *o)
{
    const char *ai = starts(s, "urn:epc:id:giai:") ? "8004" : starts(s, "urn:epc:id:ginc:") ? "401" : NULL;
    if (ai) {
        const char *p = s + 16;
        size_t cp = count_digits(p);
        if (cp < 6 || cp > 12 || p[cp] != '.' || !urn_part(p + cp + 1, 1, 30 - (long)cp, false))
            return false;
        kho_buf_printf(o, DL_ROOT "/%s/", ai);
        kho_buf_append(o, p, cp);
        put_dl_part(o, p + cp + 1, strlen(p + cp + 1));
        return true;
    }
    if (starts(s, "urn:epc:id:cpi:")) {
        const char *p = s + 15, *last = strrchr(s, '.');
        size_t cp = count_digits(p);
        if (cp < 6 || cp > 12 || p[cp] != '.' || last <= p + cp)
            return false;
        size_t nserial = count_digits(last + 1);
        if (nserial < 1 || nserial > 12 || last[1 + nserial])
            return false;
        char *part = kho_xstrndup(p + cp + 1, (size_t)(last - (p + cp + 1)));
        bool ok = urn_part(part, 1, 30 - (long)cp, true);
        if (ok) {
            kho_buf_puts(o, DL_ROOT "/8010/");
            kho_buf_append(o, p, cp);
            kho_buf_puts(o, part);
            kho_buf_printf(o, "/8011/%s", last + 1);
        }
        free(part);
        return ok;
    }
    return false;
}

/* EPC pattern URIs for a whole class: urn:epc:idpat:<scheme>:prefix.reference[.x.y].* */
static bool urn_pattern(const char *s, kho_buf_t *o)
{
    if (!starts(s, "urn:epc:idpat:"))
        return false;
    const char *p = s + 14;
    char d[24];
    size_t cp;
    const char *r;
    if ((starts(p, "sgtin:") || starts(p, "upui:")) && (r = cp_ref(p + (p[0] == 's' ? 6 : 5), 13, d, &cp)) &&
        !strcmp(r, ".*")) {
        lead_digit_first(d, cp, 13);
        put_key(o, "01", d, 13);
        return true;
    }
    if (starts(p, "itip:") && (r = cp_ref(p + 5, 13, d, &cp)) && r[0] == '.' && two(r + 1) >= 0 && r[3] == '.' &&
        two(r + 4) >= 0 && !strcmp(r + 6, ".*")) {
        lead_digit_first(d, cp, 13);
        put_key(o, "8006", d, 13);
        kho_buf_append(o, r + 1, 2);
        kho_buf_append(o, r + 4, 2);
        return true;
    }
    if (starts(p, "grai:") && (r = cp_ref(p + 5, 12, d + 1, &cp)) && !strcmp(r, ".*")) {
        d[0] = '0';
        put_key(o, "8003", d, 13);
        return true;
    }
    if ((starts(p, "gdti:") || starts(p, "sgcn:")) && (r = cp_ref(p + 5, 12, d, &cp)) && !strcmp(r, ".*")) {
        put_key(o, p[0] == 'g' ? "253" : "255", d, 12);
        return true;
    }
    if (starts(p, "cpi:")) {
        const char *q = p + 4;
        size_t n = strlen(q), ncp = count_digits(q);
        if (ncp < 6 || ncp > 12 || q[ncp] != '.' || n < ncp + 3 || strcmp(q + n - 2, ".*"))
            return false; /* n >= ncp + 3: the part between the dots may be empty, not negative */
        char *part = kho_xstrndup(q + ncp + 1, n - 2 - ncp - 1);
        bool ok = urn_part(part, 1, 30 - (long)ncp, true);
        if (ok) {
            kho_buf_puts(o, DL_ROOT "/8010/");
            kho_buf_append(o, q, ncp);
            kho_buf_puts(o, part);
        }
        free(part);
        return ok;
    }
    return false;
}

/* ---- GS1 Digital Link URIs, constrained to the canonical form ------------------------ */

/* The characters a constrained Digital Link value may hold. */
static bool dl_char(int ch)
{
    return is_alnum(ch) || (ch && strchr("\"'-.;<=>?_", ch));
}

static bool dl_chars(const char *p, size_t min, size_t max)
{
    size_t n = strlen(p);
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!dl_char((unsigned char)p[i]))
            return false;
    return true;
}

/* p is exactly n digits followed by the end or '/'. */
static bool digits_then(const char *p, size_t n)
{
    return count_digits(p) == n && (p[n] == '\0' || p[n] == '/');
}

/* A qualifier "/ai/value" at p with 0..max value characters, up to the end. */
static bool dl_qualifier(const char *p, const char *ai, size_t max)
{
    size_t n = strlen(ai);
    return p[0] == '/' && !strncmp(p + 1, ai, n) && p[1 + n] == '/' && dl_chars(p + n + 2, 0, max);
}

/* The path after DL_ROOT is one of GS1's constrained canonical forms. */
static bool dl_valid(const char *p)
{
    size_t n;
    if (starts(p, "/00/"))
        return digits_then(p + 4, 18) && !p[22];
    if (starts(p, "/01/")) {
        if (!digits_then(p + 4, 14))
            return false;
        p += 18;
        return !*p || dl_qualifier(p, "21", 20) || dl_qualifier(p, "10", 20) || dl_qualifier(p, "235", 28);
    }
    if (starts(p, "/253/"))
        return count_digits(p + 5) >= 13 && dl_chars(p + 18, 0, 17);
    if (starts(p, "/255/"))
        return (n = count_digits(p + 5)) >= 13 && n <= 25 && !p[5 + n];
    if (starts(p, "/401/"))
        return dl_chars(p + 5, 0, 30);
    if (starts(p, "/402/"))
        return digits_then(p + 5, 17) && !p[22];
    if (starts(p, "/414/"))
        return digits_then(p + 5, 13) && (!p[18] || dl_qualifier(p + 18, "254", 20));
    if (starts(p, "/417/"))
        return digits_then(p + 5, 13) && !p[18];
    if (starts(p, "/8003/"))
        return count_digits(p + 6) >= 14 && dl_chars(p + 20, 0, 16);
    if (starts(p, "/8004/"))
        return dl_chars(p + 6, 0, 30);
    if (starts(p, "/8006/")) {
        if (!digits_then(p + 6, 18))
            return false;
        p += 24;
        return !*p || dl_qualifier(p, "21", 20) || dl_qualifier(p, "10", 20);
    }
    if (starts(p, "/8010/")) {
        const char *q = p + 6, *k = strstr(q, "/8011/");
        size_t len = k ? (size_t)(k - q) : strlen(q);
        for (size_t i = 0; i < len; i++)
            if (!cs39((unsigned char)q[i]))
                return false;
        if (len <= 30 && !k)
            return true;
        return k && len <= 30 && (n = count_digits(k + 6)) <= 12 && !k[6 + n];
    }
    if (starts(p, "/8017/") || starts(p, "/8018/"))
        return digits_then(p + 6, 18) && !p[24];
    return false;
}

static const char *const DL_KEYS[] = {"01",   "gtin",  "8006", "itip", "8010", "cpid", "414",  "gln",  "417", "party",
                                      "8017", "gsrnp", "8018", "gsrn", "255",  "gcn",  "00",   "sscc", "253", "gdti",
                                      "401",  "ginc",  "402",  "gsin", "8003", "grai", "8004", "giai", NULL};

/* The path holds "/key/" followed by 4 digits and something more, before any ? or #. */
static bool dl_has_key(const char *path)
{
    size_t end = strcspn(path, "?#");
    for (size_t i = 0; i < end; i++) {
        if (path[i] != '/')
            continue;
        for (const char *const *k = DL_KEYS; *k; k++) {
            size_t n = strlen(*k);
            const char *v = path + i + 1 + n + 1;
            if (i + 1 + n + 1 <= end && !strncmp(path + i + 1, *k, n) && path[i + 1 + n] == '/' &&
                count_digits(v) >= 4 && v[4] && v[4] != '/')
                return true;
        }
    }
    return false;
}

/* Replace every occurrence of from by to in b. */
static void replace_all(kho_buf_t *b, const char *from, const char *to)
{
    const char *hit = strstr(kho_buf_cstr(b), from);
    if (!hit)
        return;
    kho_buf_t t = KHO_BUF_INIT;
    const char *p = kho_buf_cstr(b);
    size_t fl = strlen(from);
    while ((hit = strstr(p, from))) {
        kho_buf_append(&t, p, (size_t)(hit - p));
        kho_buf_puts(&t, to);
        p = hit + fl;
    }
    kho_buf_puts(&t, p);
    kho_buf_free(b);
    *b = t;
}

/* Drop "/ai/value" (the segment starting at p inside b, value up to the next '/'). */
static void drop_segment(kho_buf_t *b, size_t at, size_t ai_len)
{
    const char *v = b->data + at + ai_len + 2;
    size_t vlen = strcspn(v, "/");
    size_t cut = ai_len + 2 + vlen;
    memmove(b->data + at, b->data + at + cut, b->len - at - cut + 1);
    b->len -= cut;
}

/* Where the primary key starts in a Digital Link path (short names already replaced):
 * at the start on id.gs1.org, else the first of GS1's keys (in this order) found. */
static bool dl_primary(const char *path, bool on_root, size_t *from)
{
    static const char *const primary[] = {"/00/",  "/01/",   "/253/",  "/255/",  "/401/",  "/402/",  "/414/",
                                          "/417/", "/8003/", "/8004/", "/8006/", "/8010/", "/8017/", "/8018/"};
    size_t n = sizeof primary / sizeof primary[0];
    for (size_t i = 0; i < n && on_root; i++)
        if (starts(path, primary[i])) {
            *from = 0;
            return true;
        }
    for (size_t i = 0; i < n; i++) {
        const char *hit = strstr(path, primary[i]);
        if (hit) {
            *from = (size_t)(hit - path);
            return true;
        }
    }
    return false;
}

/* /01/ with a GTIN-8, -12 or -13: padded to 14 digits. */
static void dl_pad_gtin(kho_buf_t *u)
{
    if (!starts(u->data, "/01/"))
        return;
    size_t nd = count_digits(u->data + 4);
    const char *pad = nd == 13 ? "0" : nd == 12 ? "00" : nd >= 8 && nd < 12 ? "000000" : "";
    if (!*pad)
        return;
    kho_buf_t t = KHO_BUF_INIT;
    kho_buf_puts(&t, "/01/");
    kho_buf_puts(&t, pad);
    kho_buf_puts(&t, u->data + 4);
    kho_buf_free(u);
    *u = t;
}

/* After a GTIN or ITIP: drop a CPV (/22/), then a lot (/10/) followed by a serial. */
static void dl_drop_qualifiers(kho_buf_t *u)
{
    size_t key_end = starts(u->data, "/01/") && digits_then(u->data + 4, 14)     ? 18
                     : starts(u->data, "/8006/") && digits_then(u->data + 6, 18) ? 24
                                                                                 : 0;
    if (!key_end)
        return;
    if (starts(u->data + key_end, "/22/")) {
        const char *q = u->data + key_end + 4;
        bool ok = strlen(q) <= 20;
        for (const char *x = q; ok && *x; x++)
            ok = *x == '/' || dl_char((unsigned char)*x);
        if (ok)
            drop_segment(u, key_end, 2);
    }
    if (starts(u->data + key_end, "/10/")) {
        const char *lot = u->data + key_end + 4, *ser = lot + strcspn(lot, "/");
        bool ok = starts(ser, "/21/") && (size_t)(ser - lot) <= 20 && dl_chars(ser + 4, 0, 20);
        for (const char *x = lot; ok && x < ser; x++)
            ok = dl_char((unsigned char)*x);
        if (ok)
            drop_segment(u, key_end, 2);
    }
}

/* A Digital Link on any host -> the constrained canonical form on id.gs1.org (short
 * names replaced, query dropped, GTIN padded, CPV and a lot beside a serial dropped).
 * False, with nothing written, when s is not one or the result is not valid. */
static bool dl_uri(const char *s, kho_buf_t *o)
{
    static const char *const short_names[][2] = {
        {"/gtin/", "/01/"},    {"/itip/", "/8006/"}, {"/cpid/", "/8010/"}, {"/gln/", "/414/"},   {"/party/", "/417/"},
        {"/gsrnp/", "/8017/"}, {"/gsrn/", "/8018/"}, {"/gcn/", "/255/"},   {"/sscc/", "/00/"},   {"/gdti/", "/253/"},
        {"/ginc/", "/401/"},   {"/gsin/", "/402/"},  {"/grai/", "/8003/"}, {"/giai/", "/8004/"}, {"/cpv/", "/22/"},
        {"/lot/", "/10/"},     {"/ser/", "/21/"},
    };
    const char *rest = starts(s, "https://") ? s + 8 : starts(s, "http://") ? s + 7 : NULL;
    if (!rest)
        return false;
    const char *path = rest + strcspn(rest, "/?#");
    if (*path != '/' || !dl_has_key(path))
        return false;
    kho_buf_t b = KHO_BUF_INIT;
    kho_buf_append(&b, path, strcspn(path, "?"));
    for (size_t i = 0; i < sizeof short_names / sizeof short_names[0]; i++)
        replace_all(&b, short_names[i][0], short_names[i][1]);
    size_t from;
    bool ok = dl_primary(b.data, starts(s, DL_ROOT "/"), &from);
    kho_buf_t u = KHO_BUF_INIT;
    if (ok) {
        kho_buf_puts(&u, b.data + from);
        dl_pad_gtin(&u);
        dl_drop_qualifiers(&u);
        ok = dl_valid(u.data);
    }
    if (ok) {
        kho_buf_puts(o, DL_ROOT);
        kho_buf_append(o, u.data, u.len);
    }
    kho_buf_free(&b);
    kho_buf_free(&u);
    return ok;
}

/* Any EPC URI / class / pattern or Digital Link -> canonical Digital Link; false if
 * s is none of those (nothing written then). */
static bool put_digital_link(const char *s, kho_buf_t *o)
{
    if (!strchr(s, '.'))
        return false;
    if (starts(s, "urn:epc:"))
        return urn_serialised(s, o) || urn_numeric(s, o) || urn_alnum(s, o) || urn_pattern(s, o);
    return dl_uri(s, o);
}

/* ---- values ------------------------------------------------------------------------ */

static const ns_t *ns_find(const hctx_t *c, const char *p, size_t n)
{
    for (size_t i = c->nns; i-- > 0;)
        if (c->ns[i].len == n && !memcmp(c->ns[i].prefix, p, n))
            return &c->ns[i];
    return NULL;
}

static void ns_set(hctx_t *c, const char *prefix, const char *iri)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < c->nns; i++)
        if (c->ns[i].len == n && !memcmp(c->ns[i].prefix, prefix, n)) {
            c->ns[i].iri = iri;
            return;
        }
    if (c->nns < NS_MAX)
        c->ns[c->nns++] = (ns_t){prefix, n, iri};
}

/* Prefix definitions of a JSON-LD @context: a URL (ignored), an object, or an array. */
static void ns_add_context(hctx_t *c, const json_t *ctx, int depth)
{
    if (json_is_array(ctx) && depth == 0) {
        size_t i;
        const json_t *x;
        json_array_foreach(ctx, i, x) ns_add_context(c, x, 1);
        return;
    }
    if (!json_is_object(ctx))
        return;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)ctx, k, v)
    {
        if (!*k || k[0] == '@' || strpbrk(k, ":/"))
            continue;
        const char *iri = json_is_string(v) ? json_string_value(v) : json_string_value(json_object_get(v, "@id"));
        if (iri && *iri && strlen(iri) <= KHO_EVHASH_VALUE_MAX)
            ns_set(c, k, iri);
    }
}

/* "prefix:local" with a known prefix -> "{iri}local"; any other key as it is. */
static void put_name(const hctx_t *c, const char *key, kho_buf_t *out)
{
    const char *colon = strchr(key, ':');
    const ns_t *ns = colon ? ns_find(c, key, (size_t)(colon - key)) : NULL;
    if (ns)
        kho_buf_printf(out, "{%s}%s", ns->iri, colon + 1);
    else
        kho_buf_puts(out, key);
}

/* Replace urn:epcglobal:cbv:{bizstep,disp,btt,sdt,er}: wherever they occur. */
static void put_cbv_web(const char *s, kho_buf_t *out)
{
    static const char *const urn[][2] = {
        {"bizstep:", "BizStep-"}, {"disp:", "Disp-"}, {"btt:", "BTT-"}, {"sdt:", "SDT-"}, {"er:", "ER-"}};
    const char *hit;
    while ((hit = strstr(s, "urn:epcglobal:cbv:"))) {
        const char *after = hit + 18, *web = NULL;
        size_t used = 0;
        for (size_t i = 0; i < sizeof urn / sizeof urn[0] && !web; i++)
            if (starts(after, urn[i][0])) {
                web = urn[i][1];
                used = strlen(urn[i][0]);
            }
        kho_buf_append(out, s, (size_t)(hit - s));
        if (web) {
            kho_buf_puts(out, CBV);
            kho_buf_puts(out, web);
            s = after + used;
        } else {
            kho_buf_append(out, hit, 18);
            s = after;
        }
    }
    kho_buf_puts(out, s);
}

/* The canonical form of a string value into val (empty when blank): trimmed, a bare
 * word given the field's vocabulary prefix (vocab, may be NULL), a CURIE expanded,
 * CBV URNs as web URIs, numbers cleaned up, identifiers as canonical Digital Links. */
static void canon_string(const hctx_t *c, const char *s, size_t n, const char *vocab, kho_buf_t *val)
{
    while (n && is_space((unsigned char)s[0])) {
        s++;
        n--;
    }
    while (n && is_space((unsigned char)s[n - 1]))
        n--;
    if (!n)
        return;
    kho_buf_t a = KHO_BUF_INIT, b = KHO_BUF_INIT;
    const char *colon = memchr(s, ':', n);
    const ns_t *ns = colon ? ns_find(c, s, (size_t)(colon - s)) : NULL;
    if (vocab && !colon)
        kho_buf_puts(&a, vocab);
    if (ns) {
        kho_buf_puts(&a, ns->iri);
        kho_buf_append(&a, colon + 1, n - (size_t)(colon + 1 - s));
    } else
        kho_buf_append(&a, s, n);
    put_cbv_web(a.data, &b);
    if (!put_numeric_string(val, b.data) && !put_digital_link(b.data, val))
        kho_buf_append(val, b.data, b.len);
    kho_buf_free(&a);
    kho_buf_free(&b);
}

/* A string member: NUL-free and not too long. */
static int get_string(hctx_t *c, const json_t *v, const char **s, size_t *n)
{
    *s = json_string_value(v);
    *n = json_string_length(v);
    if (*n > KHO_EVHASH_VALUE_MAX)
        return fail(c, KHO_ETOOLARGE, "a string of %zu bytes (at most %d)", *n, KHO_EVHASH_VALUE_MAX);
    if (strlen(*s) != *n)
        return fail(c, KHO_EINVAL, "a string holds a NUL character");
    return 0;
}

enum kind {
    K_TEXT, /* a string */
    K_TIME, /* a string holding a time */
    K_NUM,  /* a number (or a string) */
    K_BOOL, /* a boolean (or a string) */
    K_ANY,  /* an extension's scalar: string, number or boolean */
};

/* The canonical form of a scalar into val. */
static int canon_scalar(hctx_t *c, const json_t *v, enum kind kind, const char *vocab, kho_buf_t *val)
{
    if (json_is_string(v)) {
        const char *s;
        size_t n;
        int rc = get_string(c, v, &s, &n);
        if (rc != 0)
            return rc;
        if (kind == K_TIME)
            return put_time(c, s, val);
        canon_string(c, s, n, vocab, val);
        return 0;
    }
    if (json_is_number(v) && (kind == K_NUM || kind == K_ANY)) {
        put_double(val, json_number_value(v));
        return 0;
    }
    if (json_is_boolean(v) && (kind == K_BOOL || kind == K_ANY)) {
        kho_buf_puts(val, json_is_true(v) ? "true" : "false");
        return 0;
    }
    static const char *const want[] = {"a string", "a time string", "a number", "a boolean",
                                       "a string, a number or a boolean"};
    return fail(c, KHO_EINVAL, "must be %s", want[kind]);
}

/* name=value for a present, non-blank field; nothing otherwise. */
static int put_field(hctx_t *c, const char *name, const json_t *v, enum kind kind, const char *vocab, kho_buf_t *out)
{
    if (!v || json_is_null(v))
        return 0;
    size_t mark = at_key(c, name);
    kho_buf_reset(&c->val); /* canon_scalar does not come back here: the scratch is free */
    int rc = canon_scalar(c, v, kind, vocab, &c->val);
    if (rc == 0 && c->val.len) {
        kho_buf_puts(out, name);
        kho_buf_putc(out, '=');
        kho_buf_append(out, c->val.data, c->val.len);
    }
    back(c, mark);
    return rc;
}

/* ---- extensions -------------------------------------------------------------------- */

/* Members never hashed: JSON-LD keywords and comments. */
static bool ignored_key(const char *k)
{
    return k[0] == '@' || !strcmp(k, "comment") || !strcmp(k, "rdfs:comment");
}

static int ext_members(hctx_t *c, const json_t *o, int depth, kho_buf_t *out);

/* One extension member name (already expanded) with its value, as pieces: a list
 * gives one piece per element, all named alike. */
static int ext_entry(hctx_t *c, const char *name, const json_t *v, int depth, vec_t *pieces)
{
    if (depth > KHO_EVHASH_DEPTH_MAX)
        return fail(c, KHO_EINVAL, "extensions nested more than %d levels deep", KHO_EVHASH_DEPTH_MAX);
    if (json_is_null(v))
        return 0;
    if (json_is_array(v)) {
        size_t i;
        const json_t *x;
        json_array_foreach(v, i, x)
        {
            size_t mark = at_index(c, i);
            int rc = ext_entry(c, name, x, depth + 1, pieces);
            back(c, mark);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    kho_buf_t b = KHO_BUF_INIT;
    kho_buf_puts(&b, name);
    int rc;
    if (json_is_object(v))
        rc = ext_members(c, v, depth + 1, &b);
    else {
        kho_buf_t val = KHO_BUF_INIT;
        rc = canon_scalar(c, v, K_ANY, NULL, &val);
        if (rc == 0 && val.len) {
            kho_buf_putc(&b, '=');
            kho_buf_append(&b, val.data, val.len);
        }
        kho_buf_free(&val);
    }
    if (rc != 0) {
        kho_buf_free(&b);
        return rc;
    }
    return vec_add(c, pieces, &b);
}

/* Tells the members of a structure that are not extensions (arg: what the structure is). */
typedef bool (*standard_fn)(const char *key, const void *arg);

static bool in_list(const char *key, const void *list)
{
    for (const char *const *s = list; *s; s++)
        if (!strcmp(*s, key))
            return true;
    return false;
}

/* Add the members of o that are not standard (standard may be NULL: none is) as
 * extension pieces. */
static int ext_collect(hctx_t *c, const json_t *o, standard_fn standard, const void *arg, int depth, vec_t *pieces)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        if (ignored_key(k) || (standard && standard(k, arg)))
            continue;
        if (strlen(k) > KHO_EVHASH_VALUE_MAX)
            return fail(c, KHO_ETOOLARGE, "a key of %zu bytes", strlen(k));
        kho_buf_t name = KHO_BUF_INIT;
        put_name(c, k, &name);
        size_t mark = at_key(c, k);
        int rc = ext_entry(c, kho_buf_cstr(&name), v, depth, pieces);
        back(c, mark);
        kho_buf_free(&name);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* An extension object's (or ilmd's) members, sorted, appended to out. */
static int ext_members(hctx_t *c, const json_t *o, int depth, kho_buf_t *out)
{
    vec_t pieces = {0};
    int rc = ext_collect(c, o, NULL, NULL, depth, &pieces);
    if (rc != 0) {
        vec_free(&pieces);
        return rc;
    }
    vec_join(&pieces, out);
    return 0;
}

/* ---- standard structures ----------------------------------------------------------- */

typedef struct field {
    const char *name;
    enum kind kind;
    const char *vocab; /* prefix for a bare word, or NULL */
} field_t;

static const field_t PLACE[] = {{"id", K_TEXT, NULL}, {NULL, K_TEXT, NULL}};
static const field_t QUANTITY[] = {
    {"epcClass", K_TEXT, NULL}, {"quantity", K_NUM, NULL}, {"uom", K_TEXT, NULL}, {NULL, K_TEXT, NULL}};
static const field_t BIZ_TRANSACTION[] = {
    {"type", K_TEXT, CBV "BTT-"}, {"bizTransaction", K_TEXT, NULL}, {NULL, K_TEXT, NULL}};
static const field_t SOURCE[] = {{"type", K_TEXT, CBV "SDT-"}, {"source", K_TEXT, NULL}, {NULL, K_TEXT, NULL}};
static const field_t DESTINATION[] = {
    {"type", K_TEXT, CBV "SDT-"}, {"destination", K_TEXT, NULL}, {NULL, K_TEXT, NULL}};
static const field_t SENSOR_METADATA[] = {{"time", K_TIME, NULL},
                                          {"startTime", K_TIME, NULL},
                                          {"endTime", K_TIME, NULL},
                                          {"deviceID", K_TEXT, NULL},
                                          {"deviceMetadata", K_TEXT, NULL},
                                          {"rawData", K_TEXT, NULL},
                                          {"dataProcessingMethod", K_TEXT, NULL},
                                          {"bizRules", K_TEXT, NULL},
                                          {NULL, K_TEXT, NULL}};
static const field_t SENSOR_REPORT[] = {{"type", K_TEXT, GS1_VOC},
                                        {"exception", K_TEXT, GS1_VOC},
                                        {"deviceID", K_TEXT, NULL},
                                        {"deviceMetadata", K_TEXT, NULL},
                                        {"rawData", K_TEXT, NULL},
                                        {"dataProcessingMethod", K_TEXT, NULL},
                                        {"time", K_TIME, NULL},
                                        {"microorganism", K_TEXT, NULL},
                                        {"chemicalSubstance", K_TEXT, NULL},
                                        {"value", K_NUM, NULL},
                                        {"component", K_TEXT, CBV "Comp-"},
                                        {"stringValue", K_TEXT, NULL},
                                        {"booleanValue", K_BOOL, NULL},
                                        {"hexBinaryValue", K_TEXT, NULL},
                                        {"uriValue", K_TEXT, NULL},
                                        {"minValue", K_NUM, NULL},
                                        {"maxValue", K_NUM, NULL},
                                        {"meanValue", K_NUM, NULL},
                                        {"sDev", K_NUM, NULL},
                                        {"percRank", K_NUM, NULL},
                                        {"percValue", K_NUM, NULL},
                                        {"uom", K_TEXT, NULL},
                                        {"coordinateReferenceSystem", K_TEXT, NULL},
                                        {NULL, K_TEXT, NULL}};

static bool in_fields(const char *key, const void *fields)
{
    for (const field_t *f = fields; f->name; f++)
        if (!strcmp(f->name, key))
            return true;
    return false;
}

/* A structure: prefix, its fields in the table's order, then its extensions sorted;
 * nothing at all when none of that has a value. */
static int structure(hctx_t *c, const char *prefix, const json_t *o, const field_t *f, kho_buf_t *out)
{
    if (!json_is_object(o))
        return fail(c, KHO_EINVAL, "must be an object");
    kho_buf_t b = KHO_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; f[i].name && rc == 0; i++)
        rc = put_field(c, f[i].name, json_object_get(o, f[i].name), f[i].kind, f[i].vocab, &b);
    vec_t ext = {0};
    if (rc == 0)
        rc = ext_collect(c, o, in_fields, f, 2, &ext);
    vec_join(&ext, &b);
    if (rc == 0 && b.len) {
        kho_buf_puts(out, prefix);
        kho_buf_append(out, b.data, b.len);
    }
    kho_buf_free(&b);
    return rc;
}

/* A member that may be one value or a list of them: calls back for each element. */
typedef int (*each_fn)(hctx_t *c, const json_t *x, void *arg, kho_buf_t *piece);

static int each(hctx_t *c, const json_t *v, each_fn fn, void *arg, vec_t *pieces)
{
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *x = json_is_array(v) ? json_array_get(v, i) : v;
        size_t mark = json_is_array(v) ? at_index(c, i) : c->plen;
        kho_buf_t piece = KHO_BUF_INIT;
        int rc = json_is_null(x) ? 0 : fn(c, x, arg, &piece);
        back(c, mark);
        if (rc == 0)
            rc = vec_add(c, pieces, &piece);
        else
            kho_buf_free(&piece);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* name + the sorted pieces fn makes of v's elements, or nothing when there are none. */
static int list(hctx_t *c, const char *name, const json_t *v, each_fn fn, void *arg, kho_buf_t *out)
{
    if (!v || json_is_null(v))
        return 0;
    size_t mark = at_key(c, name);
    if (!json_is_array(v)) {
        int rc = fail(c, KHO_EINVAL, "must be a list");
        back(c, mark);
        return rc;
    }
    vec_t pieces = {0};
    int rc = each(c, v, fn, arg, &pieces);
    back(c, mark);
    if (rc != 0) {
        vec_free(&pieces);
        return rc;
    }
    if (pieces.n)
        kho_buf_puts(out, name);
    vec_join(&pieces, out);
    return 0;
}

/* "<name>=value" for one string element (arg: the name, e.g. "epc"). */
static int each_value(hctx_t *c, const json_t *x, void *arg, kho_buf_t *piece)
{
    const char *const *spec = arg; /* {name, vocab} */
    if (!json_is_string(x))
        return fail(c, KHO_EINVAL, "must be a string");
    return put_field(c, spec[0], x, K_TEXT, spec[1], piece);
}

typedef struct struct_spec {
    const char *prefix;
    const field_t *fields;
} struct_spec_t;

static int each_structure(hctx_t *c, const json_t *x, void *arg, kho_buf_t *piece)
{
    const struct_spec_t *s = arg;
    return structure(c, s->prefix, x, s->fields, piece);
}

static int sensor_report(hctx_t *c, const json_t *x, void *arg, kho_buf_t *piece)
{
    (void)arg;
    return structure(c, "sensorReport", x, SENSOR_REPORT, piece);
}

/* sensorElement: its metadata, its reports sorted, its extensions sorted. */
static int sensor_element(hctx_t *c, const json_t *e, void *arg, kho_buf_t *piece)
{
    (void)arg;
    if (!json_is_object(e))
        return fail(c, KHO_EINVAL, "must be an object");
    kho_buf_t b = KHO_BUF_INIT;
    int rc = 0;
    const json_t *m = json_object_get(e, "sensorMetadata");
    if (m && !json_is_null(m)) {
        size_t mark = at_key(c, "sensorMetadata");
        rc = structure(c, "sensorMetadata", m, SENSOR_METADATA, &b);
        back(c, mark);
    }
    const json_t *r = json_object_get(e, "sensorReport");
    if (rc == 0 && r && !json_is_null(r)) {
        size_t mark = at_key(c, "sensorReport");
        vec_t reports = {0};
        rc = each(c, r, sensor_report, NULL, &reports);
        vec_join(&reports, &b);
        back(c, mark);
    }
    static const char *const own[] = {"sensorMetadata", "sensorReport", NULL};
    vec_t ext = {0};
    if (rc == 0)
        rc = ext_collect(c, e, in_list, own, 2, &ext);
    vec_join(&ext, &b);
    if (rc == 0 && b.len) {
        kho_buf_puts(piece, "sensorElement");
        kho_buf_append(piece, b.data, b.len);
    }
    kho_buf_free(&b);
    return rc;
}

/* persistentDisposition: its set values sorted, then its unset values sorted. */
static int persistent_disposition(hctx_t *c, const json_t *pd, kho_buf_t *out)
{
    if (!pd || json_is_null(pd))
        return 0;
    size_t mark = at_key(c, "persistentDisposition");
    int rc = json_is_object(pd) ? 0 : fail(c, KHO_EINVAL, "must be an object");
    kho_buf_t b = KHO_BUF_INIT;
    static const char *const set[] = {"set", CBV "Disp-"}, *const unset[] = {"unset", CBV "Disp-"};
    const char *const *which[] = {set, unset};
    for (int w = 0; w < 2 && rc == 0; w++) {
        const json_t *v = json_object_get(pd, which[w][0]);
        if (!v || json_is_null(v))
            continue;
        size_t m2 = at_key(c, which[w][0]);
        vec_t pieces = {0};
        rc = each(c, v, each_value, (void *)which[w], &pieces);
        vec_join(&pieces, &b);
        back(c, m2);
    }
    static const char *const own[] = {"set", "unset", NULL};
    vec_t ext = {0};
    if (rc == 0)
        rc = ext_collect(c, pd, in_list, own, 2, &ext);
    vec_join(&ext, &b);
    if (rc == 0 && b.len) {
        kho_buf_puts(out, "persistentDisposition");
        kho_buf_append(out, b.data, b.len);
    }
    kho_buf_free(&b);
    back(c, mark);
    return rc;
}

/* ---- the event --------------------------------------------------------------------- */

enum step_kind { ST_TIME, ST_VALUE, ST_VALUES, ST_EPCS, ST_QUANTITIES, ST_PERSISTENT, ST_PLACE, ST_SENSORS };

/* The members written first, in this order (after eventType). */
static const struct step {
    const char *name;
    enum step_kind kind;
    const char *vocab;
} ORDER[] = {
    {"eventTime", ST_TIME, NULL},
    {"eventTimeZoneOffset", ST_VALUE, NULL},
    {"certificationInfo", ST_VALUES, NULL},
    {"parentID", ST_VALUE, NULL},
    {"epcList", ST_EPCS, NULL},
    {"inputEPCList", ST_EPCS, NULL},
    {"childEPCs", ST_EPCS, NULL},
    {"quantityList", ST_QUANTITIES, NULL},
    {"childQuantityList", ST_QUANTITIES, NULL},
    {"inputQuantityList", ST_QUANTITIES, NULL},
    {"outputEPCList", ST_EPCS, NULL},
    {"outputQuantityList", ST_QUANTITIES, NULL},
    {"action", ST_VALUE, NULL},
    {"transformationID", ST_VALUE, NULL},
    {"bizStep", ST_VALUE, CBV "BizStep-"},
    {"disposition", ST_VALUE, CBV "Disp-"},
    {"persistentDisposition", ST_PERSISTENT, NULL},
    {"readPoint", ST_PLACE, NULL},
    {"bizLocation", ST_PLACE, NULL},
    {"sensorElementList", ST_SENSORS, NULL},
};

/* Event members that are neither in ORDER nor user extensions: the type, the typed lists
 * and ilmd (written in the sorted block), and what is left out. */
static const char *const OTHER_MEMBERS[] = {
    "type",       "bizTransactionList", "sourceList", "destinationList", "ilmd", "eventID",
    "recordTime", "errorDeclaration",   NULL};

static bool event_member(const char *key, const void *arg)
{
    (void)arg;
    for (size_t i = 0; i < sizeof ORDER / sizeof ORDER[0]; i++)
        if (!strcmp(ORDER[i].name, key))
            return true;
    return in_list(key, OTHER_MEMBERS);
}

static int ordered_member(hctx_t *c, const json_t *ev, const struct step *st, kho_buf_t *out)
{
    static const char *const epc[] = {"epc", NULL}, *const cert[] = {"certificationInfo", NULL};
    static const struct_spec_t quantity = {"quantityElement", QUANTITY};
    const json_t *v = json_object_get(ev, st->name);
    if (!v || json_is_null(v))
        return 0;
    int rc = 0;
    size_t mark = c->plen;
    switch (st->kind) {
    case ST_TIME: return put_field(c, st->name, v, K_TIME, NULL, out);
    case ST_VALUE: return put_field(c, st->name, v, K_TEXT, st->vocab, out);
    case ST_EPCS: return list(c, st->name, v, each_value, (void *)epc, out);
    case ST_QUANTITIES: return list(c, st->name, v, each_structure, (void *)&quantity, out);
    case ST_SENSORS: return list(c, st->name, v, sensor_element, NULL, out);
    case ST_PERSISTENT: return persistent_disposition(c, v, out);
    case ST_VALUES: {
        /* one value or several, each "name=value", sorted (certificationInfo) */
        vec_t pieces = {0};
        mark = at_key(c, st->name);
        rc = each(c, v, each_value, (void *)cert, &pieces);
        vec_join(&pieces, out);
        break;
    }
    case ST_PLACE:
        mark = at_key(c, st->name);
        rc = structure(c, st->name, v, PLACE, out);
        break;
    }
    back(c, mark);
    return rc;
}

/* The last part: bizTransactionList, sourceList, destinationList, ilmd and the user
 * extensions, sorted together. */
static int sorted_block(hctx_t *c, const json_t *ev, kho_buf_t *out)
{
    static const struct_spec_t biz = {"", BIZ_TRANSACTION}, src = {"", SOURCE}, dst = {"", DESTINATION};
    static const struct {
        const char *name;
        const struct_spec_t *spec;
    } typed[] = {{"bizTransactionList", &biz}, {"sourceList", &src}, {"destinationList", &dst}};
    vec_t block = {0};
    int rc = 0;
    for (size_t i = 0; i < 3 && rc == 0; i++) {
        kho_buf_t b = KHO_BUF_INIT;
        rc = list(c, typed[i].name, json_object_get(ev, typed[i].name), each_structure, (void *)typed[i].spec, &b);
        rc = rc == 0 ? vec_add(c, &block, &b) : rc;
        kho_buf_free(&b);
    }
    const json_t *ilmd = json_object_get(ev, "ilmd");
    if (rc == 0 && ilmd && !json_is_null(ilmd)) {
        size_t mark = at_key(c, "ilmd");
        kho_buf_t b = KHO_BUF_INIT;
        kho_buf_puts(&b, "ilmd");
        rc = json_is_object(ilmd) ? ext_members(c, ilmd, 2, &b) : fail(c, KHO_EINVAL, "must be an object");
        back(c, mark);
        rc = rc == 0 ? vec_add(c, &block, &b) : rc;
        kho_buf_free(&b);
    }
    if (rc == 0)
        rc = ext_collect(c, ev, event_member, NULL, 1, &block);
    if (rc != 0) {
        vec_free(&block);
        return rc;
    }
    vec_join(&block, out);
    return 0;
}

static int event_prehash(hctx_t *c, const json_t *ev, kho_buf_t *out)
{
    if (!json_is_object(ev))
        return fail(c, KHO_EINVAL, "an event must be a JSON object");
    const json_t *type = json_object_get(ev, "type");
    if (!json_is_string(type) || json_string_length(type) == 0)
        return fail(c, KHO_EINVAL, "type (the event type) must be a non-empty string");
    if (!json_is_string(json_object_get(ev, "eventTime")))
        return fail(c, KHO_EINVAL, "eventTime must be a time string");
    if (!json_is_string(json_object_get(ev, "eventTimeZoneOffset")))
        return fail(c, KHO_EINVAL, "eventTimeZoneOffset must be a string such as +07:00");
    const char *ts;
    size_t tn;
    int rc = get_string(c, type, &ts, &tn);
    if (rc == 0)
        kho_buf_printf(out, "eventType=%s", ts);
    for (size_t i = 0; i < sizeof ORDER / sizeof ORDER[0] && rc == 0; i++)
        rc = ordered_member(c, ev, &ORDER[i], out);
    if (rc == 0)
        rc = sorted_block(c, ev, out);
    if (rc == 0 && out->len > KHO_EVHASH_PREHASH_MAX)
        rc = fail(c, KHO_ETOOLARGE, "the pre-hash string has %zu bytes (at most %u)", out->len, KHO_EVHASH_PREHASH_MAX);
    return rc;
}

int kho_evhash_prehash_ctx(const json_t *event, const json_t *context, kho_buf_t *out, kho_err_t *err)
{
    static const char *const standard[][2] = {
        /* the prefixes the EPCIS 2.0 JSON-LD context defines */
        {"epcis", "https://ref.gs1.org/epcis/"},
        {"cbv", CBV},
        {"cbvmda", "urn:epcglobal:cbv:mda:"},
        {"gs1", GS1_VOC},
        {"rdfs", "http://www.w3.org/2000/01/rdf-schema#"},
        {"owl", "http://www.w3.org/2002/07/owl#"},
        {"xsd", "http://www.w3.org/2001/XMLSchema#"},
        {"dcterms", "http://purl.org/dc/terms/"},
    };
    kho_err_t local;
    hctx_t c = {.err = err ? err : &local};
    for (size_t i = 0; i < sizeof standard / sizeof standard[0]; i++)
        ns_set(&c, standard[i][0], standard[i][1]);
    ns_add_context(&c, context, 0);
    ns_add_context(&c, json_object_get(event, "@context"), 0); /* NULL when event is not an object */
    kho_buf_t b = KHO_BUF_INIT;
    int rc = event_prehash(&c, event, &b);
    if (rc == 0)
        kho_buf_append(out, b.data, b.len);
    kho_buf_free(&b);
    kho_buf_free(&c.val);
    return rc;
}

int kho_evhash_prehash(const json_t *event, kho_buf_t *out, kho_err_t *err)
{
    return kho_evhash_prehash_ctx(event, NULL, out, err);
}

int kho_evhash_id_ctx(const json_t *event, const json_t *context, char *id, size_t size, kho_err_t *err)
{
    if (!id || size < KHO_EVHASH_ID_LEN + 1) {
        if (id && size)
            id[0] = '\0';
        return kho_err_set(err, KHO_EINVAL, "event hash: the ID needs %d bytes", KHO_EVHASH_ID_LEN + 1);
    }
    id[0] = '\0';
    kho_buf_t b = KHO_BUF_INIT;
    int rc = kho_evhash_prehash_ctx(event, context, &b, err);
    if (rc == 0) {
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const unsigned char *)kho_buf_cstr(&b), b.len);
        char hex[2 * crypto_hash_sha256_BYTES + 1];
        sodium_bin2hex(hex, sizeof hex, h, sizeof h);
        snprintf(id, size, "ni:///sha-256;%s?ver=CBV2.0", hex);
    }
    kho_buf_free(&b);
    return rc;
}

int kho_evhash_id(const json_t *event, char *id, size_t size, kho_err_t *err)
{
    return kho_evhash_id_ctx(event, NULL, id, size, err);
}
