/* infer — value reading and whole-file type inference (see infer.h). */
#include "warehouse/infer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/text.h"

const char *kho_type_name(kho_type_t t)
{
    static const char *names[] = {"integer", "real", "boolean", "date", "datetime", "text"};
    return names[t];
}

int kho_type_parse(const char *s)
{
    static const struct {
        const char *name;
        kho_type_t t;
    } names[] = {{"integer", KHO_TYPE_INTEGER}, {"int", KHO_TYPE_INTEGER},   {"real", KHO_TYPE_REAL},
                 {"number", KHO_TYPE_REAL},     {"float", KHO_TYPE_REAL},    {"boolean", KHO_TYPE_BOOLEAN},
                 {"bool", KHO_TYPE_BOOLEAN},    {"date", KHO_TYPE_DATE},     {"datetime", KHO_TYPE_DATETIME},
                 {"text", KHO_TYPE_TEXT},       {"string", KHO_TYPE_TEXT}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0)
            return (int)names[i].t;
    return -1;
}

int kho_decimal_parse(const char *s)
{
    if (strcmp(s, "auto") == 0)
        return KHO_DEC_AUTO;
    if (strcmp(s, "comma") == 0 || strcmp(s, ",") == 0)
        return KHO_DEC_COMMA;
    if (strcmp(s, "dot") == 0 || strcmp(s, ".") == 0)
        return KHO_DEC_DOT;
    return -1;
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

static bool isdig(char c)
{
    return c >= '0' && c <= '9';
}

/* ---- numbers -------------------------------------------------------------------- */

/* Parse s as a number with the given group and decimal separators into a plain
 * C-locale form in out ("-1234.5"). For whole numbers *is_int is set and, when
 * the value fits 64 bits, *fits and *iv. Returns false when s is not such a number. */
static bool scan_number(const char *s, size_t n, char group, char dec, bool allow_exp, char *out, size_t outsz,
                        bool *is_int, bool *fits, int64_t *iv)
{
    size_t i = 0, k = 0;
    bool neg = false, over = false;
    uint64_t u = 0;
    *fits = false;
    if (n == 0 || n >= outsz)
        return false;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        if (neg)
            out[k++] = '-';
        i++;
    }
#define DIGIT(c)                                                                                                       \
    do {                                                                                                               \
        unsigned d_ = (unsigned)((c) - '0');                                                                           \
        over |= u > (UINT64_MAX - d_) / 10;                                                                            \
        u = u * 10 + d_;                                                                                               \
        out[k++] = (c);                                                                                                \
    } while (0)
    size_t start = i;
    while (i < n && isdig(s[i])) {
        DIGIT(s[i]);
        i++;
    }
    size_t lead = i - start;
    if (lead == 0)
        return false;
    if (i < n && s[i] == group) {
        if (lead > 3 || s[start] == '0')
            return false;
        while (i < n && s[i] == group) {
            if (i + 4 > n || !isdig(s[i + 1]) || !isdig(s[i + 2]) || !isdig(s[i + 3]))
                return false;
            DIGIT(s[i + 1]);
            DIGIT(s[i + 2]);
            DIGIT(s[i + 3]);
            i += 4;
        }
        if (i < n && isdig(s[i]))
            return false;
    } else if (lead > 1 && s[start] == '0')
        return false; /* leading zero: a code such as 007 */
#undef DIGIT
    *is_int = true;
    if (i < n && s[i] == dec) {
        i++;
        out[k++] = '.';
        size_t f = i;
        while (i < n && isdig(s[i]))
            out[k++] = s[i++];
        if (i == f)
            return false;
        *is_int = false;
    }
    bool expo = allow_exp && i < n && (s[i] == 'e' || s[i] == 'E');
    if (expo) {
        out[k++] = s[i++];
        if (i < n && (s[i] == '+' || s[i] == '-'))
            out[k++] = s[i++];
        size_t e = i;
        while (i < n && isdig(s[i]))
            out[k++] = s[i++];
        if (i == e)
            return false;
        *is_int = false;
    }
    out[k] = '\0';
    if (i != n)
        return false;
    if (expo && !isfinite(strtod(out, NULL)))
        return false; /* beyond the range of a double (1e400); without an exponent 127 digits cannot be */
    if (*is_int && !over && u <= (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX)) {
        *fits = true;
        *iv = neg ? (int64_t)(0 - u) : (int64_t)u;
    }
    return true;
}

int kho_parse_number(const char *s, size_t n, kho_decimal_t dec, bool *is_int, int64_t *iv, double *dv)
{
    char plain[128];
    bool fits;
    trim(&s, &n);
    bool ok = dec == KHO_DEC_DOT ? scan_number(s, n, ',', '.', true, plain, sizeof plain, is_int, &fits, iv)
                                 : scan_number(s, n, '.', ',', false, plain, sizeof plain, is_int, &fits, iv);
    if (!ok)
        return -1;
    if (*is_int && fits)
        return 0;
    *is_int = false;
    *dv = strtod(plain, NULL);
    return 0;
}

/* ---- booleans ------------------------------------------------------------------- */

static int match_bool(const char *w, bool *v)
{
    static const char *yes[] = {"true", "yes", "có", "co", "đúng", "dung"};
    static const char *no[] = {"false", "no", "không", "khong", "sai"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (strcmp(w, yes[i]) == 0) {
            *v = true;
            return 0;
        }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (strcmp(w, no[i]) == 0) {
            *v = false;
            return 0;
        }
    return -1;
}

int kho_parse_bool(const char *s, size_t n, bool *v)
{
    trim(&s, &n);
    if (n < 2 || n > 12)
        return -1;
    char c = s[0];
    if (!strchr("tTfFyYnNcCkKdDsS", c) && (unsigned char)c != 0xC4) /* 0xC4: first byte of đ/Đ */
        return -1;
    char low[16];
    bool ascii = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        ascii = ascii && ch < 0x80;
        low[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    low[n] = '\0';
    if (ascii)
        return match_bool(low, v);
    kho_buf_t b = KHO_BUF_INIT; /* có, không, đúng: case and normal form via utf8proc */
    kho_text_lower(s, n, &b);
    int rc = match_bool(kho_buf_cstr(&b), v);
    kho_buf_free(&b);
    return rc;
}

/* ---- dates ---------------------------------------------------------------------- */

static bool digits(const char *s, size_t n, int *v)
{
    int x = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdig(s[i]))
            return false;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return true;
}

static bool valid_ymd(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

/* Date at the start of s; returns bytes used (0 when none). */
static size_t scan_date(const char *s, size_t n, int *y, int *m, int *d)
{
    if (n >= 10 && s[4] == '-' && s[7] == '-' && digits(s, 4, y) && digits(s + 5, 2, m) && digits(s + 8, 2, d))
        return valid_ymd(*y, *m, *d) ? 10 : 0;
    /* D/M/YYYY with / - or . */
    size_t i = 0, a = 0, b = 0;
    while (i < n && isdig(s[i]) && a < 3)
        i++, a++;
    if (a < 1 || a > 2 || i >= n)
        return 0;
    char sep = s[i];
    if (sep != '/' && sep != '-' && sep != '.')
        return 0;
    digits(s, a, d);
    size_t mstart = ++i;
    while (i < n && isdig(s[i]) && b < 3)
        i++, b++;
    if (b < 1 || b > 2 || i >= n || s[i] != sep)
        return 0;
    digits(s + mstart, b, m);
    i++;
    if (i + 4 > n || !digits(s + i, 4, y) || (i + 4 < n && isdig(s[i + 4])))
        return 0;
    return valid_ymd(*y, *m, *d) ? i + 4 : 0;
}

/* "YYYY-MM-DD" into out[0..10) (no NUL); y, m, d already validated. */
static void put_ymd(char *out, int y, int m, int d)
{
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
}

int kho_parse_date(const char *s, size_t n, char out[11])
{
    int y, m, d;
    trim(&s, &n);
    if (scan_date(s, n, &y, &m, &d) != n || n == 0)
        return -1;
    put_ymd(out, y, m, d);
    out[10] = '\0';
    return 0;
}

int kho_parse_datetime(const char *s, size_t n, char out[48])
{
    int y, m, d, hh = 0, mi = 0, ss = 0;
    trim(&s, &n);
    size_t i = scan_date(s, n, &y, &m, &d);
    if (i == 0)
        return -1;
    char frac[12] = "", tz[8] = "";
    if (i < n) {
        if ((s[i] != 'T' && s[i] != ' ') || i + 6 > n)
            return -1;
        i++;
        if (!digits(s + i, 2, &hh) || s[i + 2] != ':' || !digits(s + i + 3, 2, &mi) || hh > 23 || mi > 59)
            return -1;
        i += 5;
        if (i < n && s[i] == ':') {
            if (i + 3 > n || !digits(s + i + 1, 2, &ss) || ss > 60)
                return -1;
            i += 3;
            if (i < n && (s[i] == '.' || s[i] == ',')) {
                size_t f = ++i, k = 0;
                frac[k++] = '.';
                while (i < n && isdig(s[i])) {
                    if (k < sizeof frac - 1)
                        frac[k++] = s[i];
                    i++;
                }
                frac[k] = '\0';
                if (i == f)
                    return -1;
            }
        }
        if (i < n && s[i] == 'Z') {
            snprintf(tz, sizeof tz, "Z");
            i++;
        } else if (i < n && (s[i] == '+' || s[i] == '-')) {
            int th, tm = 0;
            char sign = s[i++];
            if (i + 2 > n || !digits(s + i, 2, &th) || th > 14)
                return -1;
            i += 2;
            if (i < n && s[i] == ':' && ++i == n)
                return -1; /* "+07:" */
            if (i < n) {
                if (i + 2 > n || !digits(s + i, 2, &tm) || tm > 59)
                    return -1;
                i += 2;
            }
            snprintf(tz, sizeof tz, "%c%02u:%02u", sign, (unsigned)th % 100u, (unsigned)tm % 100u);
        }
        if (i != n)
            return -1;
    }
    snprintf(out, 48, "%04u-%02u-%02uT%02u:%02u:%02u%s%s", (unsigned)y % 10000u, (unsigned)m % 100u,
             (unsigned)d % 100u, (unsigned)hh % 100u, (unsigned)mi % 100u, (unsigned)ss % 100u, frac, tz);
    return 0;
}

/* ---- classification ---------------------------------------------------------------- */

unsigned kho_classify(const char *s, size_t n)
{
    trim(&s, &n);
    if (n == 0)
        return 0;
    unsigned bits = 0;
    char c0 = s[0];
    if (isdig(c0) || c0 == '-' || c0 == '+') {
        char pc[128], pd[128];
        bool ic = false, id = false, fc = false, fd = false;
        int64_t v;
        bool nc = scan_number(s, n, '.', ',', false, pc, sizeof pc, &ic, &fc, &v);
        bool nd = scan_number(s, n, ',', '.', true, pd, sizeof pd, &id, &fd, &v);
        if (nc) {
            bits |= KHO_C_NUM_COMMA;
            if (ic && fc)
                bits |= KHO_C_INT_COMMA;
            if (ic && !fc)
                bits |= KHO_C_BIGINT;
        }
        if (nd) {
            bits |= KHO_C_NUM_DOT;
            if (id && fd)
                bits |= KHO_C_INT_DOT;
            if (id && !fd)
                bits |= KHO_C_BIGINT;
        }
        /* read both ways, a separator is a group mark in one and the decimal mark in the other */
        if (nc && nd && (memchr(s, '.', n) || memchr(s, ',', n)))
            bits |= KHO_C_AMBIG;
        if (n == 5 && isdig(s[1]) && isdig(s[2]) && isdig(s[3]) && isdig(s[4]) && isdig(c0))
            bits |= KHO_C_CODE5;
        if (n == 2 && isdig(c0) && isdig(s[1]))
            bits |= KHO_C_CODE2;
        if (isdig(c0) && n >= 8) {
            char tmp[48];
            if (kho_parse_date(s, n, tmp) == 0)
                bits |= KHO_C_DATE | KHO_C_DATETIME;
            else if (kho_parse_datetime(s, n, tmp) == 0)
                bits |= KHO_C_DATETIME;
        }
        return bits;
    }
    bool b;
    if (kho_parse_bool(s, n, &b) == 0)
        bits |= KHO_C_BOOL;
    return bits;
}

unsigned kho_classify_json_number(const char *s, size_t n)
{
    char pd[128];
    bool id = false, fd = false;
    int64_t v;
    unsigned bits = 0;
    /* a JSON number has one meaning whatever the decimal convention of the
     * file's text: it fits both (and is read as written) */
    if (scan_number(s, n, '\x01', '.', true, pd, sizeof pd, &id, &fd, &v)) { /* no group separator */
        bits |= KHO_C_NUM_DOT | KHO_C_NUM_COMMA;
        if (id && fd)
            bits |= KHO_C_INT_DOT | KHO_C_INT_COMMA;
    }
    return bits;
}

/* ---- null marks ----------------------------------------------------------------- */

void kho_nullmarks_init(kho_nullmarks_t *m, const char *spec)
{
    memset(m, 0, sizeof *m);
    size_t cap = 0, lcap = 0;
    const char *p = spec;
    while (p && *p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len) {
            m->marks = kho_xgrow(m->marks, &cap, m->n + 1, sizeof *m->marks);
            m->lens = kho_xgrow(m->lens, &lcap, m->n + 1, sizeof *m->lens);
            m->marks[m->n] = kho_xstrndup(p, len);
            m->lens[m->n++] = len;
            m->maxlen = len > m->maxlen ? len : m->maxlen;
            unsigned char c = (unsigned char)p[0];
            m->first[c] = true;
            if (c >= 'a' && c <= 'z')
                m->first[c - 32] = true;
            if (c >= 'A' && c <= 'Z')
                m->first[c + 32] = true;
        }
        p = bar ? bar + 1 : NULL;
    }
}

void kho_nullmarks_free(kho_nullmarks_t *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->marks[i]);
    free(m->marks);
    free(m->lens);
    memset(m, 0, sizeof *m);
}

bool kho_is_null(const kho_nullmarks_t *m, const char *s, size_t n)
{
    trim(&s, &n);
    if (n == 0)
        return true;
    if (n > m->maxlen || !m->first[(unsigned char)s[0]])
        return false;
    for (size_t i = 0; i < m->n; i++)
        if (m->lens[i] == n && strncasecmp(m->marks[i], s, n) == 0)
            return true;
    return false;
}

/* ---- per-column inference ------------------------------------------------------ */

void kho_excerpt(const char *s, size_t n, char *out, size_t size)
{
    size_t k = n < size - 1 ? n : size - 1;
    while (k > 0 && k < n && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--; /* do not cut a multi-byte character */
    memcpy(out, s, k);
    out[k] = '\0';
}

static void keep_example(kho_example_t *ex, size_t *count, const char *s, size_t n, uint64_t line)
{
    if (*count >= KHO_INFER_EXAMPLES)
        return;
    ex[*count].line = line;
    kho_excerpt(s, n, ex[*count].value, sizeof ex[*count].value);
    (*count)++;
}

void kho_colinfer_add(kho_colinfer_t *c, unsigned bits, const char *s, size_t n, uint64_t line)
{
    c->nonnull++;
    for (unsigned rest = bits; rest; rest &= rest - 1)
        c->count[__builtin_ctz(rest)]++;
    if (!(bits & (KHO_C_NUM_COMMA | KHO_C_NUM_DOT)))
        keep_example(c->not_number, &c->n_not_number, s, n, line);
    if (!(bits & KHO_C_DATETIME))
        keep_example(c->not_date, &c->n_not_date, s, n, line);
}

static uint64_t cnt(const kho_colinfer_t *c, unsigned bit)
{
    return c->count[__builtin_ctz(bit)];
}

kho_decimal_t kho_colinfer_evidence(const kho_colinfer_t *c)
{
    bool all_comma = cnt(c, KHO_C_NUM_COMMA) == c->nonnull, all_dot = cnt(c, KHO_C_NUM_DOT) == c->nonnull;
    if (c->nonnull == 0 || all_comma == all_dot)
        return KHO_DEC_AUTO;
    return all_comma ? KHO_DEC_COMMA : KHO_DEC_DOT;
}

kho_coltype_t kho_colinfer_decide(const kho_colinfer_t *c, kho_decimal_t file_dec, kho_decimal_t forced)
{
    kho_coltype_t t = {KHO_TYPE_TEXT, KHO_DEC_AUTO, false, false, false};
    uint64_t n = c->nonnull;
    if (n == 0)
        return t;
    t.code5 = cnt(c, KHO_C_CODE5) == n;
    t.code2 = cnt(c, KHO_C_CODE2) == n;
    if (cnt(c, KHO_C_BOOL) == n) {
        t.type = KHO_TYPE_BOOLEAN;
        return t;
    }
    bool comma = cnt(c, KHO_C_NUM_COMMA) == n, dot = cnt(c, KHO_C_NUM_DOT) == n;
    /* whole numbers beyond 64 bits are identifiers more often than quantities, and a
     * double would round them: such a column stays text unless declared real */
    if ((comma || dot) && cnt(c, KHO_C_BIGINT) == 0) {
        kho_decimal_t dec;
        if (forced != KHO_DEC_AUTO)
            dec = forced;
        else if (comma && dot)
            dec = file_dec != KHO_DEC_AUTO ? file_dec : KHO_DEC_COMMA;
        else
            dec = comma ? KHO_DEC_COMMA : KHO_DEC_DOT;
        if ((dec == KHO_DEC_COMMA && comma) || (dec == KHO_DEC_DOT && dot)) {
            t.dec = dec;
            t.ambiguous = comma && dot && cnt(c, KHO_C_AMBIG) > 0;
            bool ints = cnt(c, dec == KHO_DEC_COMMA ? KHO_C_INT_COMMA : KHO_C_INT_DOT) == n;
            t.type = ints ? KHO_TYPE_INTEGER : KHO_TYPE_REAL;
            return t;
        }
    }
    if (cnt(c, KHO_C_DATE) == n)
        t.type = KHO_TYPE_DATE;
    else if (cnt(c, KHO_C_DATETIME) == n)
        t.type = KHO_TYPE_DATETIME;
    return t;
}

bool kho_fits(unsigned bits, kho_type_t t, kho_decimal_t dec)
{
    switch (t) {
    case KHO_TYPE_INTEGER: return bits & (dec == KHO_DEC_DOT ? KHO_C_INT_DOT : KHO_C_INT_COMMA);
    case KHO_TYPE_REAL: return bits & (dec == KHO_DEC_DOT ? KHO_C_NUM_DOT : KHO_C_NUM_COMMA);
    case KHO_TYPE_BOOLEAN: return bits & KHO_C_BOOL;
    case KHO_TYPE_DATE: return bits & KHO_C_DATE;
    case KHO_TYPE_DATETIME: return bits & KHO_C_DATETIME;
    default: return true;
    }
}
