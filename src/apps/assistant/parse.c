/* parse — understanding a Vietnamese question (see parse.h). */
#include "apps/assistant/parse.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <utf8proc.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/text.h"

#define MAX_TOK 160

/* ---- words ----------------------------------------------------------------------------- */

typedef struct tok {
    size_t off, len;  /* in the NFC question */
    char fold[48];    /* folded: "nghia" */
    char lower[64];   /* lower case with tone marks: "nghĩa" */
    bool num;         /* digits, maybe with '.' or ',' between them */
    bool integer;     /* digits only */
    bool marks;
    double val;
    char sep;         /* punctuation just before it ('/', '-', …), 0 for none */
    bool used;
} tok_t;

typedef struct words {
    const char *text; /* NFC */
    size_t len;
    tok_t t[MAX_TOK];
    size_t n;
} words_t;

static bool is_word_cp(int32_t cp)
{
    if (cp == '_')
        return true;
    utf8proc_category_t c = utf8proc_category(cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_ME) || c == UTF8PROC_CATEGORY_ND;
}

static bool is_digit(int32_t cp)
{
    return cp >= '0' && cp <= '9';
}

/* Vietnamese "1.234,5" and "50.000", or "1234.5" and "2,5". */
static double number_of(const char *s, size_t n)
{
    size_t dots = 0, commas = 0, last = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.' || s[i] == ',') {
            dots += s[i] == '.';
            commas += s[i] == ',';
            last = i;
        }
    char dec = 0;
    if (dots && commas)
        dec = s[last];
    else if (commas == 1)
        dec = ',';
    else if (dots == 1 && n - last - 1 != 3)
        dec = '.';
    double v = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            if (scale > 0) {
                v += (s[i] - '0') * scale;
                scale /= 10;
            } else
                v = v * 10 + (s[i] - '0');
        } else if (s[i] == dec)
            scale = 0.1;
    }
    return v;
}

static void tok_set(tok_t *t, const char *text)
{
    kho_buf_t b = KHO_BUF_INIT;
    kho_text_fold(text + t->off, t->len, &b);
    snprintf(t->fold, sizeof t->fold, "%s", b.data ? b.data : "");
    b.len = 0;
    kho_text_lower(text + t->off, t->len, &b);
    snprintf(t->lower, sizeof t->lower, "%s", b.data ? b.data : "");
    kho_buf_free(&b);
    t->marks = strcmp(t->fold, t->lower) != 0;
    if (t->num)
        t->val = number_of(text + t->off, t->len);
}

static void tokenize(words_t *w)
{
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)w->text;
    utf8proc_ssize_t n = (utf8proc_ssize_t)w->len, i = 0;
    char sep = 0;
    while (i < n && w->n < MAX_TOK) {
        int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(s + i, n - i, &cp);
        if (k <= 0)
            break;
        if (cp == '%') {
            tok_t *t = &w->t[w->n++];
            memset(t, 0, sizeof *t);
            t->off = (size_t)i;
            t->len = 1;
            t->sep = sep;
            snprintf(t->fold, sizeof t->fold, "%%");
            snprintf(t->lower, sizeof t->lower, "%%");
            sep = 0;
            i += k;
            continue;
        }
        if (!is_word_cp(cp)) {
            if (cp == 0x2013 || cp == 0x2014)
                sep = '-';
            else if (cp != ' ' && cp < 0x80)
                sep = (char)cp;
            i += k;
            continue;
        }
        tok_t *t = &w->t[w->n++];
        memset(t, 0, sizeof *t);
        t->off = (size_t)i;
        t->sep = sep;
        sep = 0;
        bool digits = is_digit(cp), only = true;
        utf8proc_ssize_t j = i;
        while (j < n) {
            int32_t c2;
            utf8proc_ssize_t k2 = utf8proc_iterate(s + j, n - j, &c2);
            if (k2 <= 0)
                break;
            if (is_word_cp(c2)) {
                if (!is_digit(c2))
                    only = false;
                j += k2;
                continue;
            }
            /* 1.234,5: a separator between digits stays inside a number */
            if (digits && only && (c2 == '.' || c2 == ',') && j + 1 < n && is_digit(s[j + 1]) && is_digit(s[j - 1])) {
                j += k2;
                continue;
            }
            break;
        }
        t->len = (size_t)(j - i);
        t->num = digits && only;
        t->integer = t->num && !memchr(w->text + t->off, '.', t->len) && !memchr(w->text + t->off, ',', t->len);
        tok_set(t, w->text);
        i = j;
    }
}

/* Abbreviations: one word becomes the words it stands for, keeping its place. */
static const struct {
    const char *abbr, *fold, *lower;
} ABBR[] = {
    {"tp", "thanh pho", "thành phố"}, {"tx", "thi xa", "thị xã"}, {"tt", "thi tran", "thị trấn"},
    {"p", "phuong", "phường"},        {"x", "xa", "xã"},          {"h", "huyen", "huyện"},
    {"q", "quan", "quận"},            {"hy", "hung yen", "hưng yên"}, {"tb", "thai binh", "thái bình"},
};

static void expand(words_t *w)
{
    for (size_t i = 0; i < w->n; i++) {
        for (size_t a = 0; a < sizeof ABBR / sizeof ABBR[0]; a++) {
            if (strcmp(w->t[i].fold, ABBR[a].abbr) || w->t[i].marks)
                continue;
            const char *sp = strchr(ABBR[a].fold, ' '), *lsp = strchr(ABBR[a].lower, ' ');
            tok_t t = w->t[i];
            if (sp && w->n < MAX_TOK) {
                memmove(&w->t[i + 2], &w->t[i + 1], (w->n - i - 1) * sizeof w->t[0]);
                w->n++;
                snprintf(w->t[i].fold, sizeof t.fold, "%.*s", (int)(sp - ABBR[a].fold), ABBR[a].fold);
                snprintf(w->t[i].lower, sizeof t.lower, "%.*s", (int)(lsp - ABBR[a].lower), ABBR[a].lower);
                w->t[i + 1] = t;
                w->t[i + 1].sep = 0;
                snprintf(w->t[i + 1].fold, sizeof t.fold, "%s", sp + 1);
                snprintf(w->t[i + 1].lower, sizeof t.lower, "%s", lsp + 1);
                w->t[i + 1].len = 0; /* the span stays on the first word */
                i++;
            } else if (!sp) {
                snprintf(w->t[i].fold, sizeof t.fold, "%s", ABBR[a].fold);
                snprintf(w->t[i].lower, sizeof t.lower, "%s", ABBR[a].lower);
            }
            break;
        }
    }
}

/* Join words [i, i+n) folded (or lower-cased) with one space into out. */
static size_t join(const words_t *w, size_t i, size_t n, bool lower, char *out, size_t size)
{
    size_t len = 0;
    out[0] = 0;
    for (size_t k = i; k < i + n; k++) {
        int m = snprintf(out + len, size - len, "%s%s", k > i ? " " : "", lower ? w->t[k].lower : w->t[k].fold);
        if (m < 0 || (size_t)m >= size - len)
            return 0;
        len += (size_t)m;
    }
    return len;
}

/* ---- cue words ---------------------------------------------------------------------------- */

enum {
    C_DEFINE, C_SOURCE, C_SUGGEST, C_TARGET, C_FORECAST, C_SHARE, C_ABOVE, C_BELOW, C_DESC, C_ASC, C_WORST, C_BEST,
    C_TOP, C_CHANGE, C_CAGR, C_COMPARE, C_VERSUS, C_WHICH, C_THIS_YEAR, C_LAST_YEAR, C_YEAR_BEFORE, C_NEXT_YEAR,
    C_RECENT, C_PERIOD, C_FROM, C_TO, C_YEAR, C_QUARTER, C_MONTH, C_PROVINCE, C_THOUSAND, C_MILLION, C_UNITWORD,
    C_GREETING, C_OLD, C_MOST, C_MORE, C_LESS, C_NCUES
};

static const struct {
    const char *phrase;
    int cue;
} CUES[] = {
    {"la gi", C_DEFINE}, {"nghia la gi", C_DEFINE}, {"dinh nghia", C_DEFINE}, {"khai niem", C_DEFINE},
    {"duoc tinh the nao", C_DEFINE}, {"tinh nhu the nao", C_DEFINE}, {"tinh the nao", C_DEFINE},
    {"cach tinh", C_DEFINE}, {"y nghia", C_DEFINE}, {"giai thich", C_DEFINE}, {"la chi so gi", C_DEFINE},
    {"lay tu dau", C_SOURCE}, {"lay o dau", C_SOURCE}, {"tu dau", C_SOURCE}, {"nguon", C_SOURCE},
    {"nguon so lieu", C_SOURCE}, {"nguon du lieu", C_SOURCE}, {"bo du lieu nao", C_SOURCE},
    {"du lieu nao", C_SOURCE}, {"xuat xu", C_SOURCE}, {"do dau", C_SOURCE}, {"dau ma co", C_SOURCE}, {"tu nguon nao", C_SOURCE}, {"lay so lieu", C_SOURCE}, {"co quan nao cung cap", C_SOURCE},
    {"can chu y", C_SUGGEST}, {"can quan tam", C_SUGGEST}, {"can luu y", C_SUGGEST}, {"de xuat", C_SUGGEST},
    {"goi y", C_SUGGEST}, {"kien nghi", C_SUGGEST}, {"canh bao", C_SUGGEST}, {"bat thuong", C_SUGGEST},
    {"dang lo ngai", C_SUGGEST}, {"van de", C_SUGGEST}, {"can uu tien", C_SUGGEST}, {"tut hau", C_SUGGEST},
    {"dang chu y", C_SUGGEST}, {"chu y", C_SUGGEST}, {"diem nong", C_SUGGEST}, {"nhan xet", C_SUGGEST},
    {"muc tieu", C_TARGET}, {"chi tieu", C_TARGET}, {"ke hoach", C_TARGET}, {"dat muc tieu", C_TARGET},
    {"hoan thanh", C_TARGET}, {"co dat", C_TARGET}, {"kip dat", C_TARGET},
    {"du bao", C_FORECAST}, {"uoc tinh", C_FORECAST}, {"du kien", C_FORECAST}, {"du doan", C_FORECAST},
    {"se la", C_FORECAST}, {"se dat", C_FORECAST}, {"se co", C_FORECAST}, {"trien vong", C_FORECAST},
    {"se la bao nhieu", C_FORECAST}, {"se tang", C_FORECAST}, {"se giam", C_FORECAST},
    {"chiem", C_SHARE}, {"chiem bao nhieu", C_SHARE}, {"phan tram cua tinh", C_SHARE},
    {"so voi toan tinh", C_SHARE}, {"so voi ca tinh", C_SHARE}, {"trong tong", C_SHARE}, {"dong gop", C_SHARE},
    {"ty trong cua", C_SHARE}, {"ti trong cua", C_SHARE},
    {"tren", C_ABOVE}, {"hon", C_ABOVE}, {"vuot", C_ABOVE}, {"lon hon", C_ABOVE}, {"cao hon", C_ABOVE},
    {"nhieu hon", C_ABOVE}, {"vuot qua", C_ABOVE}, {"qua", C_ABOVE}, {"tu", C_FROM},
    {"duoi", C_BELOW}, {"it hon", C_BELOW}, {"nho hon", C_BELOW}, {"thap hon", C_BELOW}, {"chua den", C_BELOW},
    {"chua toi", C_BELOW}, {"khong qua", C_BELOW}, {"khong den", C_BELOW}, {"chua dat", C_BELOW},
    {"cao nhat", C_DESC}, {"nhieu nhat", C_DESC}, {"lon nhat", C_DESC}, {"dan dau", C_DESC}, {"dung dau", C_DESC},
    {"hang dau", C_DESC}, {"xep hang", C_DESC}, {"manh nhat", C_DESC}, {"dong nhat", C_DESC},
    {"thap nhat", C_ASC}, {"it nhat", C_ASC}, {"nho nhat", C_ASC}, {"cuoi bang", C_ASC}, {"dung cuoi", C_ASC},
    {"xep cuoi", C_ASC}, {"bet bang", C_ASC}, {"thua nhat", C_ASC},
    {"kem nhat", C_WORST}, {"te nhat", C_WORST}, {"yeu nhat", C_WORST}, {"xau nhat", C_WORST},
    {"tot nhat", C_BEST}, {"top", C_TOP},
    {"tang", C_CHANGE}, {"giam", C_CHANGE}, {"thay doi", C_CHANGE}, {"bien dong", C_CHANGE},
    {"tang truong", C_CHANGE}, {"tang bao nhieu", C_CHANGE}, {"giam bao nhieu", C_CHANGE}, {"toc do", C_CHANGE},
    {"xu huong", C_CHANGE}, {"tang hay giam", C_CHANGE}, {"tang giam", C_CHANGE}, {"bien dong the nao", C_CHANGE},
    {"binh quan", C_CAGR}, {"trung binh moi nam", C_CAGR}, {"moi nam", C_CAGR}, {"hang nam", C_CAGR},
    {"cagr", C_CAGR}, {"binh quan nam", C_CAGR}, {"trung binh hang nam", C_CAGR},
    {"so sanh", C_COMPARE}, {"chenh lech", C_COMPARE}, {"khac nhau", C_COMPARE}, {"khac biet", C_COMPARE},
    {"doi chieu", C_COMPARE}, {"so voi", C_VERSUS},
    {"xa nao", C_WHICH}, {"phuong nao", C_WHICH}, {"don vi nao", C_WHICH}, {"dia phuong nao", C_WHICH},
    {"nhung xa", C_WHICH}, {"cac xa", C_WHICH}, {"bao nhieu xa", C_WHICH}, {"nhung dia phuong", C_WHICH},
    {"cac dia phuong", C_WHICH}, {"nhung don vi", C_WHICH}, {"cac don vi", C_WHICH}, {"noi nao", C_WHICH},
    {"nhung phuong", C_WHICH}, {"cac phuong", C_WHICH}, {"xa phuong nao", C_WHICH}, {"o dau", C_WHICH},
    {"nam nay", C_THIS_YEAR}, {"nam ngoai", C_LAST_YEAR}, {"nam truoc", C_LAST_YEAR}, {"nam roi", C_LAST_YEAR},
    {"nam kia", C_YEAR_BEFORE}, {"nam toi", C_NEXT_YEAR}, {"nam sau", C_NEXT_YEAR}, {"sang nam", C_NEXT_YEAR},
    {"gan day", C_RECENT}, {"gan nhat", C_RECENT}, {"tro lai day", C_RECENT}, {"vua qua", C_RECENT},
    {"lien tiep", C_RECENT}, {"giai doan", C_PERIOD}, {"thoi ky", C_PERIOD}, {"thoi ki", C_PERIOD},
    {"den", C_TO}, {"toi", C_TO}, {"nam", C_YEAR}, {"quy", C_QUARTER}, {"thang", C_MONTH},
    {"toan tinh", C_PROVINCE}, {"ca tinh", C_PROVINCE}, {"tinh", C_PROVINCE}, {"tinh ta", C_PROVINCE},
    {"tinh nha", C_PROVINCE}, {"cap tinh", C_PROVINCE}, {"tren dia ban tinh", C_PROVINCE},
    {"nghin", C_THOUSAND}, {"ngan", C_THOUSAND}, {"trieu", C_MILLION},
    {"xa", C_UNITWORD}, {"phuong", C_UNITWORD}, {"don vi", C_UNITWORD}, {"dia phuong", C_UNITWORD},
    {"xa phuong", C_UNITWORD},
    {"xin chao", C_GREETING}, {"chao", C_GREETING}, {"cam on", C_GREETING}, {"hello", C_GREETING},
    {"hi", C_GREETING}, {"alo", C_GREETING}, {"cu", C_OLD}, {"truoc day", C_OLD}, {"truoc sap nhap", C_OLD},
    {"nhat", C_MOST}, {"nhieu", C_MORE}, {"cao", C_MORE}, {"lon", C_MORE}, {"it", C_LESS}, {"thap", C_LESS},
    {"nho", C_LESS}, {"the nao la", C_DEFINE}, {"la nhu the nao", C_DEFINE}, {"huong dan", C_GREETING},
    {"giup gi", C_GREETING}, {"lam duoc gi", C_GREETING}, {"ban la ai", C_GREETING}, {"tro giup", C_GREETING},
};

typedef struct cue_at {
    int cue;
    size_t at, n; /* words */
} cue_at_t;

typedef struct span {
    size_t at, n;
    const kho_lx_hit_t *hits;
    size_t nhits;
    int code_unit; /* a unit named by its code, or -1 */
} span_t;

typedef struct ctx {
    const kho_lexicon_t *lx;
    words_t *w;
    kho_askq_t *q;
    int this_year;
    span_t spans[24];
    size_t nspans;
    cue_at_t cues[64];
    size_t ncues;
    bool has[C_NCUES];
} ctx_t;

static bool cue_after(const ctx_t *c, size_t word, int cue)
{
    for (size_t i = 0; i < c->ncues; i++)
        if (c->cues[i].cue == cue && c->cues[i].at == word)
            return true;
    return false;
}

/* The cue ending right before word (or -1). */
static int cue_before(const ctx_t *c, size_t word)
{
    for (size_t i = 0; i < c->ncues; i++)
        if (c->cues[i].at + c->cues[i].n == word)
            return c->cues[i].cue;
    return -1;
}

/* ---- phrases: units and indicators -------------------------------------------------------- */

/* Weak cues: words that also begin or sit inside names ("xã", "năm", "tỉnh"):
 * they count less when words are shared out between names and cues. */
static bool weak_cue(int cue)
{
    return cue == C_YEAR || cue == C_UNITWORD || cue == C_TO || cue == C_FROM || cue == C_QUARTER ||
           cue == C_MONTH || cue == C_PROVINCE || cue == C_ABOVE || cue == C_THOUSAND || cue == C_MILLION ||
           cue == C_OLD || cue == C_MOST || cue == C_MORE || cue == C_LESS;
}

static int cue_of(const char *phrase)
{
    for (size_t k = 0; k < sizeof CUES / sizeof CUES[0]; k++)
        if (!strcmp(CUES[k].phrase, phrase))
            return CUES[k].cue;
    return -1;
}

/* Every word of [i, i+n) typed with tone marks is written so in name (lower
 * case); words typed without marks match whatever marks the name has. */
static bool marks_agree(const words_t *w, size_t i, size_t n, const char *name)
{
    const char *p = name;
    for (size_t k = i; k < i + n; k++) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (w->t[k].marks && (strlen(w->t[k].lower) != len || memcmp(w->t[k].lower, p, len)))
            return false;
        p += len;
    }
    return true;
}

static bool type_word(const char *f)
{
    static const char *const T[] = {"xa", "phuong", "huyen", "thi", "thanh", "quan", "tinh", "dac"};
    for (size_t k = 0; k < sizeof T / sizeof T[0]; k++)
        if (!strcmp(f, T[k]))
            return true;
    return false;
}

/* How much a phrase of n words at i is worth as a name: today's units and
 * indicators a word each, pre-2025 units less (a current name read further on
 * wins over an old one made of a common word: "của Bắc Đông Quan" is not the
 * old "Cửa Bắc"), and much less when the question's tone marks say it is
 * another word ("dẫn" is not "dân"). */
static double phrase_weight(const ctx_t *c, size_t i, size_t n, const kho_lx_hit_t *h, size_t nh)
{
    const words_t *w = c->w;
    char lower[512];
    /* a question typed with tone marks is taken to have them everywhere */
    bool marks = c->q->marks;
    if (!join(w, i, n, true, lower, sizeof lower))
        return 0;
    double best = 0;
    for (size_t k = 0; k < nh; k++) {
        double x;
        if (h[k].kind == KHO_LX_UNIT) {
            const kho_lx_unit_t *u = kho_lexicon_unit(c->lx, h[k].ref);
            /* with its type word ("huyện Khoái Châu") the name says which unit, of any era */
            x = u->era == KHO_ERA_CURRENT ? 1.0 : n >= 2 && type_word(w->t[i].fold) ? 0.8 : 0.45;
            const char *home = kho_lexicon_home(c->lx);
            if (u->era == KHO_ERA_OLD && *home && strcmp(kho_lexicon_province_now(c->lx, u->province, u->era), home))
                x *= 0.7; /* an old name from another province: the least likely reading */
            if (!marks_agree(w, i, n, u->name_lower) && !marks_agree(w, i, n, u->short_lower))
                continue; /* "của Bắc" is not "Cửa Bắc", "vụ công" not "Vũ Công" */
        } else {
            x = h[k].kind == KHO_LX_IND ? 1.2 : 0.9;
            if (marks && !kho_lexicon_ind_lower(c->lx, h[k].ref, lower))
                x *= n == 1 ? 0.2 : 0.8;
        }
        if (x > best)
            best = x;
    }
    return best * (double)n + 0.2 * (double)(n - 1); /* the longer name wins a tie */
}

/* Share the words out between names (units, indicators) and cue words so as to
 * explain as much of the question as possible (dynamic programming over word
 * positions; a word may also stay unexplained). */
static void segment(ctx_t *c)
{
    words_t *w = c->w;
    size_t n = w->n, maxw = kho_lexicon_max_words(c->lx);
    if (maxw < 5)
        maxw = 5;
    double *best = kho_xcalloc(n + 1, sizeof *best);
    int *len = kho_xcalloc(n + 1, sizeof *len), *kind = kho_xcalloc(n + 1, sizeof *kind);
    const kho_lx_hit_t **hits = kho_xcalloc(n + 1, sizeof *hits);
    size_t *nhits = kho_xcalloc(n + 1, sizeof *nhits);
    int *cue = kho_xcalloc(n + 1, sizeof *cue);
    char buf[512];
    for (size_t i = n; i-- > 0;) {
        best[i] = best[i + 1];
        len[i] = 0;
        if (w->t[i].num) {
            if (w->t[i].integer && w->t[i].len == 5 &&
                (kho_lexicon_unit_by_code(c->lx, w->t[i].fold, KHO_ERA_CURRENT) >= 0 ||
                 kho_lexicon_unit_by_code(c->lx, w->t[i].fold, KHO_ERA_OLD) >= 0) &&
                best[i + 1] + 1 > best[i]) {
                best[i] = best[i + 1] + 1;
                len[i] = 1;
                kind[i] = 2; /* a unit code */
            }
            continue;
        }
        for (size_t m = 1; m <= maxw && i + m <= n; m++) {
            if (w->t[i + m - 1].num)
                break;
            size_t l = join(w, i, m, false, buf, sizeof buf);
            if (!l)
                break;
            size_t nh = 0;
            const kho_lx_hit_t *h = kho_lexicon_lookup(c->lx, buf, l, &nh);
            if (nh) {
                double v = phrase_weight(c, i, m, h, nh) + best[i + m];
                if (v > best[i]) {
                    best[i] = v;
                    len[i] = (int)m;
                    kind[i] = 0;
                    hits[i] = h;
                    nhits[i] = nh;
                }
            }
            int cu = cue_of(buf);
            if (cu >= 0) {
                double v = (weak_cue(cu) ? 0.5 : 1.1) * (double)m + (weak_cue(cu) ? 0 : 0.25 * (double)(m - 1)) +
                           best[i + m];
                if (v > best[i]) {
                    best[i] = v;
                    len[i] = (int)m;
                    kind[i] = 1;
                    cue[i] = cu;
                }
            }
        }
    }
    for (size_t i = 0; i < n;) {
        if (!len[i]) {
            i++;
            continue;
        }
        size_t m = (size_t)len[i];
        if (kind[i] == 1) {
            if (c->ncues < sizeof c->cues / sizeof c->cues[0]) {
                c->cues[c->ncues++] = (cue_at_t){cue[i], i, m};
                c->has[cue[i]] = true;
            }
            /* cue words stay available to periods and numbers ("năm", "trên") */
        } else if (c->nspans < sizeof c->spans / sizeof c->spans[0]) {
            int u = -1;
            if (kind[i] == 2) {
                u = kho_lexicon_unit_by_code(c->lx, w->t[i].fold, KHO_ERA_CURRENT);
                if (u < 0)
                    u = kho_lexicon_unit_by_code(c->lx, w->t[i].fold, KHO_ERA_OLD);
            }
            c->spans[c->nspans++] = (span_t){i, m, kind[i] == 2 ? NULL : hits[i], kind[i] == 2 ? 0 : nhits[i], u};
            for (size_t k = i; k < i + m; k++)
                w->t[k].used = true;
        }
        i += m;
    }
    free(best);
    free(len);
    free(kind);
    free(hits);
    free(nhits);
    free(cue);
}

/* ---- periods and numbers --------------------------------------------------------------------- */

static bool year_tok(const tok_t *t)
{
    return t->integer && t->len == 4 && t->val >= 1990 && t->val <= 2100;
}

static int roman(const char *f)
{
    static const char *const R[] = {"i", "ii", "iii", "iv"};
    for (int k = 0; k < 4; k++)
        if (!strcmp(f, R[k]))
            return k + 1;
    return 0;
}

/* Set one period or add a second (a span when span). */
static void add_period(kho_askq_t *q, const char *p, bool span)
{
    if (q->pkind == KHO_PER_NONE) {
        snprintf(q->p[0], sizeof q->p[0], "%s", p);
        q->pkind = KHO_PER_ONE;
    } else if (q->pkind == KHO_PER_ONE && strcmp(q->p[0], p)) {
        snprintf(q->p[1], sizeof q->p[1], "%s", p);
        q->pkind = span ? KHO_PER_SPAN : KHO_PER_TWO;
    }
}

static void find_periods(ctx_t *c)
{
    words_t *w = c->w;
    kho_askq_t *q = c->q;
    char p[16];
    for (size_t i = 0; i < w->n; i++) {
        tok_t *t = &w->t[i];
        if (t->used)
            continue;
        int before = cue_before(c, i);
        /* quarter / month: "quý 3/2024", "quý III năm 2024", "tháng 7/2024" */
        if ((before == C_QUARTER || before == C_MONTH) && i + 1 < w->n) {
            /* the number is checked before the cast: "quý 1e30" must not overflow an int */
            int k = t->integer ? (t->val >= 1 && t->val <= 12 ? (int)t->val : 0)
                               : before == C_QUARTER ? roman(t->fold) : 0;
            size_t y = i + 1;
            if (y < w->n && cue_after(c, y, C_YEAR))
                y++;
            int max = before == C_QUARTER ? 4 : 12;
            if (k >= 1 && k <= max && y < w->n && year_tok(&w->t[y])) {
                if (before == C_QUARTER)
                    snprintf(p, sizeof p, "%d-Q%d", (int)w->t[y].val, k);
                else
                    snprintf(p, sizeof p, "%d-%02d", (int)w->t[y].val, k);
                add_period(q, p, false);
                t->used = w->t[y].used = true;
                i = y;
                continue;
            }
        }
        if (!t->num && t->fold[0] == 'q' && t->fold[1] >= '1' && t->fold[1] <= '4' && !t->fold[2] && i + 1 < w->n &&
            year_tok(&w->t[i + 1])) {
            snprintf(p, sizeof p, "%d-Q%c", (int)w->t[i + 1].val, t->fold[1]);
            add_period(q, p, false);
            t->used = w->t[i + 1].used = true;
            i++;
            continue;
        }
        if (!year_tok(t) || before == C_ABOVE || before == C_BELOW)
            continue;
        /* a span: "2020-2024", "2020 đến 2024", "từ 2020 tới 2024", "giai đoạn 2020–2024" */
        size_t j = i + 1;
        bool to = false;
        if (j < w->n && cue_after(c, j, C_TO)) {
            to = true;
            j++;
            if (j < w->n && cue_after(c, j, C_YEAR))
                j++;
        }
        if (j < w->n && year_tok(&w->t[j]) && (to || w->t[j].sep == '-')) {
            int a = (int)t->val, b = (int)w->t[j].val;
            q->pkind = KHO_PER_NONE;
            snprintf(p, sizeof p, "%d", a < b ? a : b);
            add_period(q, p, true);
            snprintf(p, sizeof p, "%d", a < b ? b : a);
            add_period(q, p, true);
            t->used = w->t[j].used = true;
            i = j;
            continue;
        }
        snprintf(p, sizeof p, "%d", (int)t->val);
        add_period(q, p, c->has[C_FROM] && c->has[C_TO]);
        t->used = true;
    }
    /* relative years */
    for (size_t i = 0; i < c->ncues; i++) {
        int cue = c->cues[i].cue, y = 0;
        size_t at = c->cues[i].at;
        if (cue == C_THIS_YEAR)
            y = c->this_year;
        else if (cue == C_LAST_YEAR) {
            if (at > 0 && cue_before(c, at) == C_VERSUS) {
                q->step_prev = true;
                continue;
            }
            y = c->this_year - 1;
        } else if (cue == C_YEAR_BEFORE)
            y = c->this_year - 2;
        else if (cue == C_NEXT_YEAR)
            y = c->this_year + 1;
        else if (cue == C_YEAR && at > 0 && w->t[at - 1].integer && !w->t[at - 1].used && w->t[at - 1].val >= 2 &&
                 w->t[at - 1].val <= 30 && at + 1 < w->n &&
                 (cue_after(c, at + 1, C_RECENT) || cue_after(c, at + 1, C_ABOVE) || cue_after(c, at + 1, C_ASC))) {
            /* "5 năm qua", "3 năm gần đây", "10 năm trở lại đây", "3 năm cuối" */
            q->recent = (int)w->t[at - 1].val;
            w->t[at - 1].used = true;
            continue;
        }
        if (y) {
            snprintf(p, sizeof p, "%d", y);
            add_period(q, p, false);
        }
    }
    if (q->pkind == KHO_PER_TWO && (c->has[C_PERIOD] || (c->has[C_FROM] && c->has[C_TO])))
        q->pkind = KHO_PER_SPAN;
    if ((q->pkind == KHO_PER_TWO || q->pkind == KHO_PER_SPAN) && strcmp(q->p[0], q->p[1]) > 0) {
        char tmp[16];
        memcpy(tmp, q->p[0], sizeof tmp);
        memcpy(q->p[0], q->p[1], sizeof tmp);
        memcpy(q->p[1], tmp, sizeof tmp);
    }
}

/* Thresholds ("trên 50.000", "dưới 2,5%", "hơn 30 nghìn") and ranking sizes ("top 5", "10 xã"). */
static void find_numbers(ctx_t *c)
{
    words_t *w = c->w;
    kho_askq_t *q = c->q;
    for (size_t i = 0; i < w->n; i++) {
        tok_t *t = &w->t[i];
        if (t->used || !t->num)
            continue;
        int before = cue_before(c, i);
        if ((before == C_ABOVE || before == C_BELOW || before == C_FROM) && !q->threshold_set) {
            double v = t->val;
            if (i + 1 < w->n && cue_after(c, i + 1, C_THOUSAND))
                v *= 1e3;
            else if (i + 1 < w->n && cue_after(c, i + 1, C_MILLION))
                v *= 1e6;
            if (before == C_FROM && !(i + 2 < w->n && !strcmp(w->t[i + 1].fold, "tro") && !strcmp(w->t[i + 2].fold, "len")))
                continue; /* "từ 2020 đến 2024" is a span; "từ 50 trở lên" is a threshold */
            q->threshold_set = true;
            q->threshold = v;
            q->cmp = before == C_BELOW ? -1 : 1;
            t->used = true;
            continue;
        }
        bool small = t->integer && t->val >= 1 && t->val <= 50;
        if (small && (before == C_TOP || (i + 1 < w->n && (cue_after(c, i + 1, C_UNITWORD) || cue_after(c, i + 1, C_WHICH))))) {
            q->n = (int)t->val;
            t->used = true;
        }
    }
}

/* ---- units ----------------------------------------------------------------------------------- */

static const char *province_name(const kho_lexicon_t *lx, const char *code, int era)
{
    int p = kho_lexicon_unit_by_code(lx, code, era);
    return p >= 0 ? kho_lexicon_unit(lx, p)->name : "";
}

/* The question with words [at, at+n) replaced by with. */
static void rewrite(const ctx_t *c, size_t at, size_t n, const char *with, char *out, size_t size)
{
    const words_t *w = c->w;
    size_t a = w->t[at].off, b = w->t[at + n - 1].off + w->t[at + n - 1].len;
    for (size_t k = at; k < at + n; k++) /* an expanded abbreviation keeps its span on its first word */
        if (w->t[k].off + w->t[k].len > b)
            b = w->t[k].off + w->t[k].len;
    snprintf(out, size, "%.*s%s%.*s", (int)a, w->text, with, (int)(w->len - b), w->text + b);
}

static void clarify_units(ctx_t *c, const span_t *s, const int *cand, size_t n)
{
    kho_askq_t *q = c->q;
    q->intent = KHO_ASK_CLARIFY;
    q->ncands = 0;
    char with[256];
    snprintf(q->clarify_prompt, sizeof q->clarify_prompt, "Có %zu đơn vị trùng tên. Bạn hỏi về đơn vị nào?", n);
    for (size_t k = 0; k < n && q->ncands < KHO_ASK_MAX_CANDS; k++) {
        const kho_lx_unit_t *u = kho_lexicon_unit(c->lx, cand[k]);
        const char *pn = u->level == KHO_ULV_PROVINCE ? "" : province_name(c->lx, u->province, u->era);
        kho_ask_cand_t *cd = &q->cands[q->ncands++];
        cd->ind = -1;
        bool old = u->era == KHO_ERA_OLD;
        snprintf(cd->label, sizeof cd->label, "%s%s%s%s%s", u->name, *pn ? " (" : "", pn, old ? ", trước 7/2025" : "",
                 *pn ? ")" : "");
        if (old || !*pn)
            snprintf(with, sizeof with, "%s", u->code);
        else
            snprintf(with, sizeof with, "%s, %s", u->name, pn);
        rewrite(c, s->at, s->n, with, cd->question, sizeof cd->question);
    }
}

/* Keep the candidates that pass keep(); when none would, keep all. */
static size_t narrow(const kho_lexicon_t *lx, int *cand, size_t n, bool (*keep)(const kho_lx_unit_t *, const void *),
                     const void *arg)
{
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        if (keep(kho_lexicon_unit(lx, cand[k]), arg))
            m++;
    if (!m)
        return n;
    m = 0;
    for (size_t k = 0; k < n; k++)
        if (keep(kho_lexicon_unit(lx, cand[k]), arg))
            cand[m++] = cand[k];
    return m;
}

static bool keep_exact(const kho_lx_unit_t *u, const void *lower)
{
    return !strcmp(u->name_lower, lower) || !strcmp(u->short_lower, lower);
}

static bool keep_current(const kho_lx_unit_t *u, const void *arg)
{
    (void)arg;
    return u->era == KHO_ERA_CURRENT;
}

static bool keep_old(const kho_lx_unit_t *u, const void *arg)
{
    (void)arg;
    return u->era == KHO_ERA_OLD;
}

typedef struct prov_arg {
    const kho_lexicon_t *lx;
    const char *code;
} prov_arg_t;

static bool keep_province(const kho_lx_unit_t *u, const void *arg)
{
    const prov_arg_t *pa = arg;
    return !strcmp(kho_lexicon_province_now(pa->lx, u->province, u->era), pa->code);
}

static bool keep_not_district(const kho_lx_unit_t *u, const void *arg)
{
    (void)arg;
    return u->level != KHO_ULV_DISTRICT;
}

/* Today's units first; but when every one of them is outside the home province,
 * a pre-2025 unit of the home province by that name stays a candidate (the
 * question may be about the old commune: "xã Đông La" before it merged). */
static size_t today_first(const ctx_t *c, int *cand, size_t n)
{
    const char *home = kho_lexicon_home(c->lx);
    bool current = false, home_current = false;
    for (size_t k = 0; k < n; k++) {
        const kho_lx_unit_t *u = kho_lexicon_unit(c->lx, cand[k]);
        if (u->era == KHO_ERA_CURRENT) {
            current = true;
            home_current |= !*home || !strcmp(u->province, home);
        }
    }
    if (!current)
        return n;
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        const kho_lx_unit_t *u = kho_lexicon_unit(c->lx, cand[k]);
        bool home_old = u->era == KHO_ERA_OLD && *home && !strcmp(kho_lexicon_province_now(c->lx, u->province, u->era), home);
        if (u->era == KHO_ERA_CURRENT || (!home_current && home_old && u->level == KHO_ULV_COMMUNE))
            cand[m++] = cand[k];
    }
    return m;
}

static size_t candidates(const ctx_t *c, const span_t *s, int *cand, size_t max)
{
    (void)c;
    if (s->code_unit >= 0) {
        cand[0] = s->code_unit;
        return 1;
    }
    size_t n = 0;
    for (size_t k = 0; k < s->nhits && n < max; k++)
        if (s->hits[k].kind == KHO_LX_UNIT) {
            bool dup = false;
            for (size_t j = 0; j < n; j++)
                dup |= cand[j] == s->hits[k].ref;
            if (!dup)
                cand[n++] = s->hits[k].ref;
        }
    return n;
}

static bool keep_current(const kho_lx_unit_t *u, const void *arg);
static size_t narrow(const kho_lexicon_t *lx, int *cand, size_t n, bool (*keep)(const kho_lx_unit_t *, const void *),
                     const void *arg);

/* Every candidate (today's ones when there are any) is a province. */
static bool all_provinces(const ctx_t *c, int *cand, size_t n)
{
    n = narrow(c->lx, cand, n, keep_current, NULL);
    for (size_t k = 0; k < n; k++)
        if (kho_lexicon_unit(c->lx, cand[k])->level != KHO_ULV_PROVINCE)
            return false;
    return n > 0;
}

static void add_unit(kho_askq_t *q, int unit, int old)
{
    for (int k = 0; k < q->nunits; k++)
        if (q->units[k] == unit)
            return;
    if (q->nunits < KHO_ASK_MAX_UNITS) {
        q->named_old[q->nunits] = old;
        q->units[q->nunits++] = unit;
    }
}

/* A single pre-2025 unit: answered for its successor (saying so), or a question. */
static void resolve_old(ctx_t *c, const span_t *s, int u)
{
    kho_askq_t *q = c->q;
    const kho_lx_unit_t *o = kho_lexicon_unit(c->lx, u);
    if (o->level == KHO_ULV_DISTRICT) {
        add_unit(q, u, u);
        kho_askq_note(q, "%s là đơn vị trước 1/7/2025; số liệu của huyện cũ có đến năm 2024.", o->name);
        return;
    }
    if (o->level == KHO_ULV_PROVINCE) {
        const char *now = kho_lexicon_province_now(c->lx, o->code, KHO_ERA_OLD);
        int p = kho_lexicon_unit_by_code(c->lx, now, KHO_ERA_CURRENT);
        if (p >= 0) {
            add_unit(q, p, u);
            if (strcmp(now, o->code))
                kho_askq_note(q, "%s (trước 1/7/2025) nay thuộc %s.", o->name, kho_lexicon_unit(c->lx, p)->name);
        }
        return;
    }
    int succ[KHO_ASK_MAX_CANDS];
    bool whole;
    size_t n = kho_lexicon_successors(c->lx, u, succ, KHO_ASK_MAX_CANDS, &whole);
    if (n == 1) {
        add_unit(q, succ[0], u);
        kho_askq_note(q, "%s (trước 1/7/2025) nay thuộc %s.", o->name, kho_lexicon_unit(c->lx, succ[0])->name);
        return;
    }
    if (n == 0) {
        kho_askq_note(q, "%s (trước 1/7/2025) không có trong bảng chuyển đổi đơn vị hành chính.", o->name);
        return;
    }
    q->intent = KHO_ASK_CLARIFY;
    q->ncands = 0;
    snprintf(q->clarify_prompt, sizeof q->clarify_prompt,
             "%s (trước 1/7/2025) đã được chia cho %zu xã, phường. Bạn hỏi về đơn vị nào?", o->name, n);
    for (size_t k = 0; k < n && k < KHO_ASK_MAX_CANDS; k++) {
        const kho_lx_unit_t *x = kho_lexicon_unit(c->lx, succ[k]);
        kho_ask_cand_t *cd = &q->cands[q->ncands++];
        cd->ind = -1;
        snprintf(cd->label, sizeof cd->label, "%s", x->name);
        rewrite(c, s->at, s->n, x->name, cd->question, sizeof cd->question);
    }
}

static void find_units(ctx_t *c)
{
    kho_askq_t *q = c->q;
    int cand[64];
    const char *filter = NULL;
    bool others = false;
    /* a province named beside a commune narrows the commune's name ("Tân Tiến, Hưng Yên") */
    for (size_t i = 0; i < c->nspans; i++) {
        size_t n = candidates(c, &c->spans[i], cand, 64);
        if (n && !all_provinces(c, cand, n))
            others = true;
    }
    for (size_t i = 0; i < c->nspans && others && !filter; i++) {
        size_t n = candidates(c, &c->spans[i], cand, 64);
        if (n && all_provinces(c, cand, n)) {
            n = narrow(c->lx, cand, n, keep_current, NULL);
            const kho_lx_unit_t *u = kho_lexicon_unit(c->lx, cand[0]);
            filter = kho_lexicon_province_now(c->lx, u->code, u->era);
        }
    }
    for (size_t i = 0; i < c->nspans && q->intent != KHO_ASK_CLARIFY; i++) {
        const span_t *s = &c->spans[i];
        size_t n = candidates(c, s, cand, 64);
        if (!n || (others && all_provinces(c, cand, n)))
            continue;
        bool ind = false;
        for (size_t k = 0; k < s->nhits; k++)
            ind |= s->hits[k].kind != KHO_LX_UNIT;
        if (ind)
            continue; /* an indicator's words win over a unit's */
        char lower[512];
        if (s->code_unit < 0 && join(c->w, s->at, s->n, true, lower, sizeof lower)) {
            bool marks = false;
            for (size_t k = s->at; k < s->at + s->n; k++)
                marks |= c->w->t[k].marks;
            if (marks)
                n = narrow(c->lx, cand, n, keep_exact, lower);
        }
        if (s->at + s->n < c->w->n && cue_after(c, s->at + s->n, C_OLD))
            n = narrow(c->lx, cand, n, keep_old, NULL); /* "phường Hiến Nam cũ" */
        else
            n = today_first(c, cand, n);
        if (filter) {
            prov_arg_t pa = {c->lx, filter};
            n = narrow(c->lx, cand, n, keep_province, &pa);
        }
        if (n > 1)
            n = narrow(c->lx, cand, n, keep_not_district, NULL);
        if (n > 1) {
            clarify_units(c, s, cand, n);
            return;
        }
        const kho_lx_unit_t *u = kho_lexicon_unit(c->lx, cand[0]);
        if (u->era == KHO_ERA_OLD)
            resolve_old(c, s, cand[0]);
        else
            add_unit(q, cand[0], -1);
    }
    if (!q->nunits && filter) { /* only a province was named after all */
        int p = kho_lexicon_unit_by_code(c->lx, filter, KHO_ERA_CURRENT);
        if (p >= 0)
            add_unit(q, p, -1);
    }
}

/* ---- indicators ------------------------------------------------------------------------------ */

static void clarify_inds(ctx_t *c, const span_t *s, const int *inds, size_t n)
{
    kho_askq_t *q = c->q;
    q->intent = KHO_ASK_CLARIFY;
    q->ncands = 0;
    snprintf(q->clarify_prompt, sizeof q->clarify_prompt, "Có %zu chỉ số phù hợp. Bạn hỏi về chỉ số nào?", n);
    for (size_t k = 0; k < n && q->ncands < KHO_ASK_MAX_CANDS; k++) {
        const kho_lx_ind_t *d = kho_lexicon_ind(c->lx, inds[k]);
        kho_ask_cand_t *cd = &q->cands[q->ncands++];
        cd->ind = inds[k];
        snprintf(cd->label, sizeof cd->label, "%s", d->name);
        char with[160];
        snprintf(with, sizeof with, "%s", d->name);
        char *br = strchr(with, '(');
        if (br && br > with)
            br[-1] = 0;
        for (char *p = with; *p; p++) /* "Sản lượng nhãn" reads well mid-sentence as "sản lượng nhãn" */
            if (p == with && (unsigned char)*p < 0x80 && *p >= 'A' && *p <= 'Z' && with[1] && with[1] >= 'a')
                *p = (char)(*p - 'A' + 'a');
        rewrite(c, s->at, s->n, with, cd->question, sizeof cd->question);
    }
}

static void find_indicator(ctx_t *c)
{
    kho_askq_t *q = c->q;
    for (int kind = KHO_LX_IND; kind <= KHO_LX_INDPFX; kind++) {
        for (size_t i = 0; i < c->nspans; i++) {
            const span_t *s = &c->spans[i];
            int inds[16];
            size_t n = 0;
            bool exact = false;
            for (size_t k = 0; k < s->nhits; k++)
                exact |= s->hits[k].kind == KHO_LX_IND;
            for (size_t k = 0; k < s->nhits && n < 16; k++)
                if (s->hits[k].kind == kind && (kind == KHO_LX_IND || !exact))
                    inds[n++] = s->hits[k].ref;
            if (!n)
                continue;
            if (n > 1) {
                if (q->intent != KHO_ASK_CLARIFY)
                    clarify_inds(c, s, inds, n);
                return;
            }
            q->ind = inds[0];
            return;
        }
    }
}

/* ---- intent ---------------------------------------------------------------------------------- */

static bool has_commune(const ctx_t *c)
{
    for (int k = 0; k < c->q->nunits; k++)
        if (kho_lexicon_unit(c->lx, c->q->units[k])->level != KHO_ULV_PROVINCE)
            return true;
    return false;
}

static int decide(ctx_t *c)
{
    kho_askq_t *q = c->q;
    bool *h = c->has;
    bool future = false;
    for (int k = 0; k < (q->pkind == KHO_PER_NONE ? 0 : q->pkind == KHO_PER_ONE ? 1 : 2); k++)
        future |= (int)strtol(q->p[k], NULL, 10) > c->this_year;
    bool ranked = h[C_DESC] || h[C_ASC] || h[C_WORST] || h[C_BEST] || h[C_TOP] || h[C_MOST]; /* "… nhất" */
    if (h[C_DEFINE])
        return KHO_ASK_DEFINITION;
    if (h[C_SOURCE])
        return KHO_ASK_SOURCE;
    if (h[C_SUGGEST])
        return KHO_ASK_SUGGEST;
    if (h[C_TARGET])
        return KHO_ASK_TARGET;
    if (h[C_FORECAST] || h[C_NEXT_YEAR] || future)
        return KHO_ASK_FORECAST;
    if (h[C_SHARE] && has_commune(c))
        return KHO_ASK_SHARE;
    if (q->threshold_set && !has_commune(c))
        return KHO_ASK_FILTER;
    if ((ranked || q->n) && !has_commune(c))
        return KHO_ASK_RANK;
    if (h[C_CHANGE] || h[C_CAGR] || q->step_prev)
        return KHO_ASK_CHANGE;
    if (h[C_COMPARE] || h[C_VERSUS] || q->nunits >= 2 || q->pkind == KHO_PER_TWO)
        return KHO_ASK_COMPARE;
    if (q->ind >= 0)
        return KHO_ASK_VALUE;
    return KHO_ASK_HELP;
}

static void order_of(ctx_t *c)
{
    kho_askq_t *q = c->q;
    q->order = c->has[C_WORST] ? 2 : c->has[C_BEST] ? -2 : 0;
    for (size_t i = 0; i < c->ncues && !q->order; i++) /* the first of "cao nhất" / "thấp nhất" / "ít … nhất" */
        if (c->cues[i].cue == C_DESC || (c->cues[i].cue == C_MORE && c->has[C_MOST]))
            q->order = 1;
        else if (c->cues[i].cue == C_ASC || (c->cues[i].cue == C_LESS && c->has[C_MOST]))
            q->order = -1;
    if (!q->order)
        q->order = 1;
}

/* ---- the whole ------------------------------------------------------------------------------- */

static const char *const INTENTS[] = {"value",  "compare",    "rank",   "filter",  "change",  "share", "forecast",
                                      "target", "definition", "source", "suggest", "clarify", "help"};

const char *kho_ask_intent_name(int intent)
{
    return intent >= 0 && intent < KHO_ASK_NINTENTS ? INTENTS[intent] : "help";
}

int kho_ask_intent_parse(const char *name)
{
    for (int k = 0; name && k < KHO_ASK_NINTENTS; k++)
        if (!strcmp(name, INTENTS[k]))
            return k;
    return -1;
}

void kho_askq_note(kho_askq_t *q, const char *fmt, ...)
{
    if (q->nnotes >= KHO_ASK_MAX_NOTES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q->notes[q->nnotes++], sizeof q->notes[0], fmt, ap);
    va_end(ap);
}

void kho_ask_parse(const kho_lexicon_t *lx, const char *question, size_t len, int this_year, kho_askq_t *q)
{
    memset(q, 0, sizeof *q);
    q->ind = -1;
    q->intent = KHO_ASK_HELP;
    if (!kho_utf8_valid(question, len, NULL))
        return;
    kho_buf_t nfc = KHO_BUF_INIT;
    words_t *w = kho_xcalloc(1, sizeof *w);
    ctx_t *c = kho_xcalloc(1, sizeof *c);
    if (!kho_text_nfc(question, len, &nfc))
        kho_buf_append(&nfc, question, len); /* already NFC: a NUL-terminated copy */
    w->text = nfc.data ? nfc.data : "";
    w->len = nfc.len;
    tokenize(w);
    expand(w);
    for (size_t i = 0; i < w->n; i++)
        q->marks |= w->t[i].marks;
    c->lx = lx;
    c->w = w;
    c->q = q;
    c->this_year = this_year;
    segment(c);
    find_periods(c);
    find_numbers(c);
    q->province_word = c->has[C_PROVINCE];
    q->greeting = c->has[C_GREETING];
    q->cagr = c->has[C_CAGR];
    find_units(c);
    if (q->intent != KHO_ASK_CLARIFY)
        find_indicator(c);
    if (q->intent != KHO_ASK_CLARIFY) {
        q->intent = decide(c);
        order_of(c);
        /* a unit and no indicator: which one? (unless the question is about something else) */
        size_t free_words = 0;
        for (size_t i = 0; i < w->n; i++)
            free_words += !w->t[i].used && !w->t[i].num;
        if (q->ind < 0 && q->nunits && q->intent != KHO_ASK_SUGGEST && !q->greeting)
            q->intent = free_words - (size_t)c->ncues <= 2 || q->intent != KHO_ASK_HELP ? KHO_ASK_CLARIFY : KHO_ASK_HELP;
        if ((q->intent == KHO_ASK_DEFINITION || q->intent == KHO_ASK_SOURCE || q->intent == KHO_ASK_TARGET ||
             q->intent == KHO_ASK_FORECAST || q->intent == KHO_ASK_RANK || q->intent == KHO_ASK_FILTER ||
             q->intent == KHO_ASK_CHANGE || q->intent == KHO_ASK_SHARE || q->intent == KHO_ASK_COMPARE) &&
            q->ind < 0 && !q->nunits)
            q->intent = KHO_ASK_HELP;
    }
    q->confidence = q->intent == KHO_ASK_HELP ? 0 : q->intent == KHO_ASK_CLARIFY ? 0.5 : q->marks ? 1.0 : 0.9;
    kho_buf_free(&nfc);
    free(w);
    free(c);
}
