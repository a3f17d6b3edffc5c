/* assistant — answering questions about indicators (see assistant.h). */
#include "apps/assistant/assistant.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "apps/assistant/lexicon.h"
#include "apps/assistant/parse.h"
#include "apps/indicators/indicators.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/text.h"

#define MAX_PTS 160

typedef struct pt {
    char period[16];
    double v;
    bool conv;
} pt_t;

typedef struct ser {
    pt_t p[MAX_PTS];
    size_t n;
} ser_t;

typedef struct run {
    const kho_ask_ctx_t *c;
    const kho_lexicon_t *lx;
    kho_askq_t *q;
    const kho_lx_ind_t *d; /* the indicator, or NULL */
    kho_ind_ctx_t ic;
    kho_buf_t text;       /* the answer */
    json_t *data, *follow, *extra;
    json_t *chart;        /* NULL: none */
    double value;
    bool has_value;
    json_t *periods;
    int this_year;
} run_t;

/* ---- numbers ---------------------------------------------------------------------------------- */

void kho_ask_format_number(double v, int decimals, char *out, size_t size)
{
    if (!isfinite(v)) {
        snprintf(out, size, "—");
        return;
    }
    if (decimals < 0)
        decimals = 0;
    if (decimals > 6)
        decimals = 6;
    char raw[64];
    snprintf(raw, sizeof raw, "%.*f", decimals, fabs(v));
    char *dot = strchr(raw, '.');
    size_t ilen = dot ? (size_t)(dot - raw) : strlen(raw);
    char res[96];
    size_t k = 0;
    bool neg = v < 0 && strspn(raw, "0.") != strlen(raw);
    if (neg)
        res[k++] = '-';
    for (size_t i = 0; i < ilen; i++) {
        if (i && (ilen - i) % 3 == 0)
            res[k++] = '.';
        res[k++] = raw[i];
    }
    if (dot) {
        size_t e = strlen(raw);
        while (e > (size_t)(dot - raw) + 1 && raw[e - 1] == '0')
            e--;
        if (e > (size_t)(dot - raw) + 1) {
            res[k++] = ',';
            for (size_t i = (size_t)(dot - raw) + 1; i < e; i++)
                res[k++] = raw[i];
        }
    }
    res[k] = 0;
    snprintf(out, size, "%s", res);
}

/* "30.985 người", "1,25%" */
static const char *fmt(const kho_lx_ind_t *d, double v, char *buf, size_t size)
{
    char n[64];
    kho_ask_format_number(v, d ? d->decimals : 2, n, sizeof n);
    if (!d || !*d->uom)
        snprintf(buf, size, "%s", n);
    else if (!strcmp(d->uom, "%"))
        snprintf(buf, size, "%s%%", n);
    else
        snprintf(buf, size, "%s %s", n, d->uom);
    return buf;
}

static const char *pct(double v, char *buf, size_t size)
{
    char n[64];
    kho_ask_format_number(v, fabs(v) < 10 ? 2 : 1, n, sizeof n);
    snprintf(buf, size, "%s%%", n);
    return buf;
}

static void say(run_t *r, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void say(run_t *r, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    kho_buf_vprintf(&r->text, f, ap);
    va_end(ap);
}

static void set_value(run_t *r, double v)
{
    r->value = v;
    r->has_value = isfinite(v);
}

/* ---- reading values as the caller ---------------------------------------------------------------- */

static const kho_lx_unit_t *U(const run_t *r, int i)
{
    return kho_lexicon_unit(r->lx, r->q->units[i]);
}

static const char *level_of(const kho_lx_unit_t *u)
{
    return u->level == KHO_ULV_DISTRICT ? "district-before-2025" : NULL;
}

/* The series of one unit (all periods), or of every commune of the province at one period. */
static int read_values(run_t *r, const char *units, const char *level, const char *period, const char *rank, long limit,
                       ser_t *s, json_t **rows, kho_err_t *err)
{
    kho_ind_values_q_t vq = {.units = units, .level = level, .period = period, .rank = rank, .limit = limit};
    json_t *out = NULL;
    int rc = kho_ind_values(&r->ic, r->d->code, &vq, &out, err);
    if (rc != 0)
        return rc;
    json_t *vals = json_object_get(out, "values"), *v;
    size_t i;
    if (s) {
        s->n = 0;
        json_array_foreach(vals, i, v)
        {
            if (s->n == MAX_PTS)
                break;
            pt_t *p = &s->p[s->n++];
            snprintf(p->period, sizeof p->period, "%s", json_string_value(json_object_get(v, "period")));
            p->v = json_number_value(json_object_get(v, "value"));
            p->conv = json_is_true(json_object_get(v, "converted"));
        }
    }
    if (rows) {
        *rows = json_incref(vals);
    }
    json_decref(out);
    return 0;
}

static int unit_series(run_t *r, const kho_lx_unit_t *u, ser_t *s, kho_err_t *err)
{
    return read_values(r, u->code, level_of(u), NULL, NULL, 0, s, NULL, err);
}

static const pt_t *at(const ser_t *s, const char *period)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->p[i].period, period))
            return &s->p[i];
    return NULL;
}

/* The latest period with a value, not after this year (NULL: none). */
static const pt_t *latest(const run_t *r, const ser_t *s)
{
    const pt_t *best = NULL;
    for (size_t i = 0; i < s->n; i++)
        if ((int)strtol(s->p[i].period, NULL, 10) <= r->this_year && (!best || strcmp(s->p[i].period, best->period) > 0))
            best = &s->p[i];
    return best;
}

static void add_row(run_t *r, const kho_lx_unit_t *u, const pt_t *p)
{
    json_array_append_new(r->data, json_pack("{s:s,s:s,s:s,s:s,s:f,s:b}", "indicator", r->d->code, "unit", u->code,
                                             "unit_name", u->name, "period", p->period, "value", p->v, "converted",
                                             p->conv));
}

static void add_period(run_t *r, const char *p)
{
    size_t i;
    json_t *v;
    json_array_foreach(r->periods, i, v) if (!strcmp(json_string_value(v), p)) return;
    json_array_append_new(r->periods, json_string(p));
}

/* A line chart of some units' series over the periods of the first. */
static void line_chart(run_t *r, const kho_lx_unit_t *const *us, const ser_t *const *ss, size_t n)
{
    json_t *x = json_array(), *series = json_array();
    for (size_t i = 0; i < ss[0]->n; i++)
        json_array_append_new(x, json_string(ss[0]->p[i].period));
    for (size_t k = 0; k < n; k++) {
        json_t *vals = json_array();
        for (size_t i = 0; i < ss[0]->n; i++) {
            const pt_t *p = at(ss[k], ss[0]->p[i].period);
            json_array_append_new(vals, p ? json_real(p->v) : json_null());
        }
        json_array_append_new(series, json_pack("{s:s,s:o}", "name", us[k]->name, "values", vals));
    }
    r->chart = json_pack("{s:s,s:s,s:o,s:o}", "type", "line", "unit_of_measure", r->d->uom, "x", x, "series", series);
}

static void bar_chart(run_t *r, json_t *rows, const char *name)
{
    json_t *x = json_array(), *vals = json_array(), *v;
    size_t i;
    json_array_foreach(rows, i, v)
    {
        json_array_append_new(x, json_incref(json_object_get(v, "unit_name")));
        json_array_append_new(vals, json_incref(json_object_get(v, "value")));
    }
    r->chart = json_pack("{s:s,s:s,s:o,s:[{s:s,s:o}]}", "type", "bar", "unit_of_measure", r->d->uom, "x", x, "series",
                         "name", name, "values", vals);
}

static void follow(run_t *r, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void follow(run_t *r, const char *f, ...)
{
    char s[320];
    va_list ap;
    va_start(ap, f);
    vsnprintf(s, sizeof s, f, ap);
    va_end(ap);
    if (json_array_size(r->follow) < 4)
        json_array_append_new(r->follow, json_string(s));
}

/* "Dân số" -> "dân số" in the middle of a sentence (not "GRDP ..."). */
static const char *lname(const kho_lx_ind_t *d, char *buf, size_t size)
{
    snprintf(buf, size, "%s", d->name);
    if (buf[0] >= 'A' && buf[0] <= 'Z' && buf[1] && !(buf[1] >= 'A' && buf[1] <= 'Z'))
        buf[0] = (char)(buf[0] - 'A' + 'a');
    else if (!strncmp(buf, "Đ", strlen("Đ")) && !(buf[2] >= 'A' && buf[2] <= 'Z'))
        memcpy(buf, "đ", strlen("đ"));
    return buf;
}

/* ---- intents ------------------------------------------------------------------------------------ */

/* The unit of a question about one unit: the named one, or the home province. */
static const kho_lx_unit_t *the_unit(run_t *r)
{
    if (r->q->nunits)
        return U(r, 0);
    int p = kho_lexicon_unit_by_code(r->lx, kho_lexicon_home(r->lx), KHO_ERA_CURRENT);
    if (p < 0)
        return NULL;
    r->q->units[0] = p;
    r->q->named_old[0] = -1;
    r->q->nunits = 1;
    r->q->confidence -= 0.05;
    return U(r, 0);
}

static const char *province_or(const run_t *r, const kho_lx_unit_t *u)
{
    if (u->level == KHO_ULV_PROVINCE)
        return u->era == KHO_ERA_OLD ? "trước 7/2025" : "cấp tỉnh";
    int p = kho_lexicon_unit_by_code(r->lx, u->province, u->era);
    return p >= 0 ? kho_lexicon_unit(r->lx, p)->name : "";
}

static bool outside(run_t *r, const kho_lx_unit_t *u)
{
    const char *home = kho_lexicon_home(r->lx);
    const char *prov = kho_lexicon_province_now(r->lx, u->province, u->era);
    if (!*home || !strcmp(prov, home))
        return false;
    int p = kho_lexicon_unit_by_code(r->lx, home, KHO_ERA_CURRENT);
    say(r, "Kho chưa có số liệu chỉ số của %s (%s). Trợ lý trả lời về %s và các xã, phường của tỉnh.", u->name,
        province_or(r, u), p >= 0 ? kho_lexicon_unit(r->lx, p)->name : "tỉnh");
    return true;
}

/* "năm 2024", "quý 3/2024", "tháng 7/2024" */
static const char *per_label(const char *p, char *buf, size_t size)
{
    const char *dash = strchr(p, '-');
    if (!dash)
        snprintf(buf, size, "năm %s", p);
    else if (dash[1] == 'Q')
        snprintf(buf, size, "quý %s/%.*s", dash + 2, (int)(dash - p), p);
    else
        snprintf(buf, size, "tháng %ld/%.*s", strtol(dash + 1, NULL, 10), (int)(dash - p), p);
    return buf;
}

static void no_series(run_t *r, const kho_lx_unit_t *u)
{
    char n[160];
    say(r, "Chưa có số liệu %s của %s.", lname(r->d, n, sizeof n), u->name);
}

static void chart_one(run_t *r, const kho_lx_unit_t *u, const ser_t *s)
{
    const kho_lx_unit_t *us[1] = {u};
    const ser_t *ss[1] = {s};
    line_chart(r, us, ss, 1);
}

/* The unit a question is about (named, or the province), its series and its
 * latest period. 1 when there is something to answer (*s is the caller's to
 * free); 0 when the answer has been said already (a unit outside the province,
 * no values); a negative error. */
static int open_series(run_t *r, const kho_lx_unit_t **u, ser_t **s, const pt_t **L, kho_err_t *err)
{
    *s = NULL;
    *u = the_unit(r);
    if (!*u || outside(r, *u))
        return 0;
    *s = kho_xcalloc(1, sizeof **s);
    int rc = unit_series(r, *u, *s, err);
    *L = rc == 0 ? latest(r, *s) : NULL;
    if (*L)
        return 1;
    if (rc == 0)
        no_series(r, *u);
    free(*s);
    *s = NULL;
    return rc;
}

static int do_value(run_t *r, kho_err_t *err)
{
    const kho_lx_unit_t *u;
    ser_t *s;
    const pt_t *L;
    int rc = open_series(r, &u, &s, &L, err);
    if (rc <= 0)
        return rc;
    char n[160], a[192], b[192], pl[48], pl2[48];
    kho_askq_t *q = r->q;
    lname(r->d, n, sizeof n);
    if (q->pkind == KHO_PER_SPAN || q->recent > 0) {
        char from[24], to[24];
        if (q->recent > 0) {
            snprintf(to, sizeof to, "%s", L->period);
            snprintf(from, sizeof from, "%ld", strtol(L->period, NULL, 10) - q->recent + 1);
        } else {
            snprintf(from, sizeof from, "%s", q->p[0]);
            snprintf(to, sizeof to, "%s", q->p[1]);
        }
        const pt_t *first = NULL, *last = NULL;
        for (size_t i = 0; i < s->n; i++)
            if (strcmp(s->p[i].period, from) >= 0 && strcmp(s->p[i].period, to) <= 0) {
                add_row(r, u, &s->p[i]);
                add_period(r, s->p[i].period);
                first = first ? first : &s->p[i];
                last = &s->p[i];
            }
        if (!first)
            say(r, "Chưa có số liệu %s của %s giai đoạn %s–%s.", n, u->name, from, to);
        else {
            say(r, "%s của %s giai đoạn %s–%s: từ %s (%s) đến %s (%s).", r->d->name, u->name, first->period,
                last->period, fmt(r->d, first->v, a, sizeof a), first->period, fmt(r->d, last->v, b, sizeof b),
                last->period);
            set_value(r, last->v);
        }
    } else {
        const char *want = q->pkind == KHO_PER_ONE ? q->p[0] : L->period;
        const pt_t *p = at(s, want);
        add_period(r, want);
        if (p) {
            add_row(r, u, p);
            say(r, "%s của %s %s là %s.", r->d->name, u->name, per_label(want, pl, sizeof pl),
                fmt(r->d, p->v, a, sizeof a));
            set_value(r, p->v);
            if (p->conv)
                kho_askq_note(q, "Số liệu trước 1/7/2025 được quy đổi sang đơn vị hành chính mới theo bảng chuyển đổi.");
        } else {
            add_row(r, u, L);
            say(r, "Chưa có số liệu %s của %s %s; số liệu mới nhất là %s: %s.", n, u->name,
                per_label(want, pl, sizeof pl), per_label(L->period, pl2, sizeof pl2), fmt(r->d, L->v, a, sizeof a));
            if (strchr(want, '-'))
                kho_askq_note(q, "Chỉ số này được báo cáo theo năm.");
        }
    }
    chart_one(r, u, s);
    follow(r, "Dự báo %s của %s năm %ld", n, u->name, strtol(L->period, NULL, 10) + 2);
    if (r->d->level == KHO_ULV_COMMUNE)
        follow(r, "Top 5 xã có %s cao nhất năm %s", n, L->period);
    follow(r, "%s của %s thay đổi thế nào trong 5 năm qua?", r->d->name, u->name);
    free(s);
    return 0;
}

static int do_compare(run_t *r, kho_err_t *err)
{
    kho_askq_t *q = r->q;
    if (q->nunits == 1 && q->province_word && q->pkind != KHO_PER_TWO && q->pkind != KHO_PER_SPAN) {
        int p = kho_lexicon_unit_by_code(r->lx, kho_lexicon_home(r->lx), KHO_ERA_CURRENT);
        if (p >= 0 && p != q->units[0]) {
            q->units[1] = p;
            q->named_old[1] = -1;
            q->nunits = 2;
        }
    }
    if (q->nunits < 2 && q->pkind != KHO_PER_TWO && q->pkind != KHO_PER_SPAN) {
        q->intent = KHO_ASK_VALUE;
        return do_value(r, err);
    }
    char n[160], a[192], b[192], d[192], pc[96], pl[48];
    lname(r->d, n, sizeof n);
    ser_t *s = kho_xcalloc(2, sizeof *s);
    int rc = 0;
    if (q->nunits >= 2) {
        const kho_lx_unit_t *u0 = U(r, 0), *u1 = U(r, 1);
        if (outside(r, u0) || outside(r, u1))
            goto done;
        rc = unit_series(r, u0, &s[0], err);
        if (rc == 0)
            rc = unit_series(r, u1, &s[1], err);
        if (rc != 0)
            goto done;
        const pt_t *L0 = latest(r, &s[0]), *L1 = latest(r, &s[1]);
        if (!L0 || !L1) {
            no_series(r, L0 ? u1 : u0);
            goto done;
        }
        const char *want = q->pkind == KHO_PER_ONE ? q->p[0] : strcmp(L0->period, L1->period) < 0 ? L0->period : L1->period;
        const pt_t *p0 = at(&s[0], want), *p1 = at(&s[1], want);
        add_period(r, want);
        if (!p0 || !p1) {
            say(r, "Chưa có đủ số liệu %s %s của %s và %s để so sánh.", n, per_label(want, pl, sizeof pl), u0->name,
                u1->name);
            goto done;
        }
        add_row(r, u0, p0);
        add_row(r, u1, p1);
        double diff = p0->v - p1->v;
        say(r, "%s, %s của %s là %s, của %s là %s", per_label(want, pl, sizeof pl), n, u0->name,
            fmt(r->d, p0->v, a, sizeof a), u1->name, fmt(r->d, p1->v, b, sizeof b));
        if (diff == 0)
            say(r, ": bằng nhau.");
        else {
            say(r, "; %s %s %s %s", u0->name, diff > 0 ? "cao hơn" : "thấp hơn", u1->name,
                fmt(r->d, fabs(diff), d, sizeof d));
            if (p1->v != 0 && !r->d->rate)
                say(r, " (%s)", pct(100 * fabs(diff) / fabs(p1->v), pc, sizeof pc));
            say(r, ".");
        }
        set_value(r, diff);
        const kho_lx_unit_t *us[2] = {u0, u1};
        const ser_t *ss[2] = {&s[0], &s[1]};
        line_chart(r, us, ss, 2);
        follow(r, "Xếp hạng %s năm %s", n, want);
    } else {
        const kho_lx_unit_t *u = the_unit(r);
        if (!u || outside(r, u))
            goto done;
        rc = unit_series(r, u, &s[0], err);
        if (rc != 0)
            goto done;
        const pt_t *p0 = at(&s[0], q->p[0]), *p1 = at(&s[0], q->p[1]);
        add_period(r, q->p[0]);
        add_period(r, q->p[1]);
        if (!p0 || !p1) {
            say(r, "Chưa có đủ số liệu %s của %s năm %s và %s để so sánh.", n, u->name, q->p[0], q->p[1]);
            goto done;
        }
        add_row(r, u, p0);
        add_row(r, u, p1);
        double diff = p1->v - p0->v;
        say(r, "%s của %s năm %s là %s, năm %s là %s", r->d->name, u->name, p1->period, fmt(r->d, p1->v, a, sizeof a),
            p0->period, fmt(r->d, p0->v, b, sizeof b));
        if (diff == 0)
            say(r, ": không đổi.");
        else {
            say(r, ": %s %s", diff > 0 ? "tăng" : "giảm", fmt(r->d, fabs(diff), d, sizeof d));
            if (r->d->rate)
                say(r, " (điểm phần trăm)");
            else if (p0->v != 0)
                say(r, " (%s)", pct(100 * fabs(diff) / fabs(p0->v), pc, sizeof pc));
            say(r, ".");
        }
        set_value(r, diff);
        chart_one(r, u, &s[0]);
    }
done:
    free(s);
    return rc;
}

static const char *home_code(const run_t *r)
{
    return kho_lexicon_home(r->lx);
}

/* The latest period of the province's series (for rankings without a period). */
static int province_latest(run_t *r, char out[16], kho_err_t *err)
{
    ser_t *s = kho_xcalloc(1, sizeof *s);
    int rc = read_values(r, home_code(r), NULL, NULL, NULL, 0, s, NULL, err);
    const pt_t *L = rc == 0 ? latest(r, s) : NULL;
    snprintf(out, 16, "%s", L ? L->period : "");
    free(s);
    return rc;
}

static bool commune_level(run_t *r)
{
    char n[160];
    if (r->d->level == KHO_ULV_COMMUNE)
        return true;
    say(r, "%s là chỉ số cấp tỉnh, không có số liệu theo từng xã, phường để xếp hạng.", lname(r->d, n, sizeof n));
    return false;
}

static void units_from_rows(run_t *r, json_t *rows, json_t *units)
{
    size_t i;
    json_t *v;
    json_array_foreach(rows, i, v)
    {
        json_array_append_new(units, json_pack("{s:O,s:O}", "code", json_object_get(v, "unit"), "name",
                                               json_object_get(v, "unit_name")));
        json_array_append_new(r->data, json_pack("{s:s,s:O,s:O,s:O,s:O,s:O}", "indicator", r->d->code, "unit",
                                                 json_object_get(v, "unit"), "unit_name",
                                                 json_object_get(v, "unit_name"), "period", json_object_get(v, "period"),
                                                 "value", json_object_get(v, "value"), "converted",
                                                 json_object_get(v, "converted")));
    }
}

static int do_rank(run_t *r, json_t *units, kho_err_t *err)
{
    kho_askq_t *q = r->q;
    if (!commune_level(r))
        return 0;
    char per[16], n[160], a[192], pl[48];
    int rc = 0;
    if (q->pkind == KHO_PER_ONE)
        snprintf(per, sizeof per, "%s", q->p[0]);
    else if ((rc = province_latest(r, per, err)) != 0)
        return rc;
    int order = q->order;
    if (order == 2 || order == -2) /* worst / best follow the indicator's direction */
        order = (order == 2) == r->d->higher_is_better ? -1 : 1;
    long lim = q->n > 0 ? (q->n > 20 ? 20 : q->n) : 5;
    json_t *rows = NULL;
    rc = read_values(r, home_code(r), "commune", per, order < 0 ? "asc" : "desc", lim, NULL, &rows, err);
    if (rc != 0)
        return rc;
    add_period(r, per);
    lname(r->d, n, sizeof n);
    if (!json_array_size(rows))
        say(r, "Chưa có số liệu %s của các xã, phường %s.", n, per_label(per, pl, sizeof pl));
    else {
        say(r, "%zu xã, phường có %s %s %s: ", json_array_size(rows), n, order < 0 ? "thấp nhất" : "cao nhất",
            per_label(per, pl, sizeof pl));
        size_t i;
        json_t *v;
        json_array_foreach(rows, i, v)
        {
            say(r, "%s%zu. %s (%s)", i ? "; " : "", i + 1, json_string_value(json_object_get(v, "unit_name")),
                fmt(r->d, json_number_value(json_object_get(v, "value")), a, sizeof a));
        }
        say(r, ".");
        set_value(r, json_number_value(json_object_get(json_array_get(rows, 0), "value")));
        units_from_rows(r, rows, units);
        bar_chart(r, rows, per);
        follow(r, "Top %ld xã có %s %s năm %s", lim, n, order < 0 ? "cao nhất" : "thấp nhất", per);
        follow(r, "%s của %s thay đổi thế nào trong 5 năm qua?", r->d->name,
               json_string_value(json_object_get(json_array_get(rows, 0), "unit_name")));
    }
    json_decref(rows);
    return 0;
}

static int do_filter(run_t *r, json_t *units, kho_err_t *err)
{
    kho_askq_t *q = r->q;
    if (!commune_level(r))
        return 0;
    char per[16], n[160], a[192], t[192], pl[48];
    int rc = 0;
    if (q->pkind == KHO_PER_ONE)
        snprintf(per, sizeof per, "%s", q->p[0]);
    else if ((rc = province_latest(r, per, err)) != 0)
        return rc;
    json_t *rows = NULL;
    rc = read_values(r, home_code(r), "commune", per, "desc", 0, NULL, &rows, err);
    if (rc != 0)
        return rc;
    json_t *keep = json_array(), *v;
    size_t i;
    json_array_foreach(rows, i, v)
    {
        double x = json_number_value(json_object_get(v, "value"));
        if (q->cmp > 0 ? x > q->threshold : x < q->threshold)
            json_array_append(keep, v);
    }
    json_decref(rows);
    add_period(r, per);
    lname(r->d, n, sizeof n);
    size_t k = json_array_size(keep);
    fmt(r->d, q->threshold, t, sizeof t);
    per_label(per, pl, sizeof pl);
    if (!k)
        say(r, "Không có xã, phường nào có %s %s %s %s.", n, q->cmp > 0 ? "trên" : "dưới", t, pl);
    else {
        say(r, "%s có %zu xã, phường có %s %s %s: ", pl, k, n, q->cmp > 0 ? "trên" : "dưới", t);
        json_array_foreach(keep, i, v)
        {
            if (i == 10) {
                say(r, " và %zu đơn vị khác", k - 10);
                break;
            }
            say(r, "%s%s (%s)", i ? ", " : "", json_string_value(json_object_get(v, "unit_name")),
                fmt(r->d, json_number_value(json_object_get(v, "value")), a, sizeof a));
        }
        say(r, ".");
        bar_chart(r, keep, per);
    }
    units_from_rows(r, keep, units);
    set_value(r, (double)k);
    json_decref(keep);
    return 0;
}

static int do_change(run_t *r, kho_err_t *err)
{
    kho_askq_t *q = r->q;
    const kho_lx_unit_t *u;
    ser_t *s;
    const pt_t *L;
    int rc = open_series(r, &u, &s, &L, err);
    if (rc <= 0)
        return rc;
    long b = strtol(L->period, NULL, 10), a = b - 1;
    if (q->pkind == KHO_PER_SPAN || q->pkind == KHO_PER_TWO) {
        a = strtol(q->p[0], NULL, 10);
        b = strtol(q->p[1], NULL, 10);
    } else if (q->pkind == KHO_PER_ONE) {
        b = strtol(q->p[0], NULL, 10);
        a = b - 1;
    } else if (q->recent > 0)
        a = b - q->recent + 1;
    char pa[24], pb[24], n[160], x[192], y[192], d[192], pc[96], pc2[96];
    snprintf(pa, sizeof pa, "%ld", a);
    snprintf(pb, sizeof pb, "%ld", b);
    add_period(r, pa);
    add_period(r, pb);
    lname(r->d, n, sizeof n);
    const pt_t *A = at(s, pa), *B = at(s, pb);
    if (!A || !B || b <= a) {
        say(r, "Chưa có đủ số liệu %s của %s năm %s và %s để tính mức thay đổi.", n, u->name, pa, pb);
    } else if (r->d->rate) {
        double diff = B->v - A->v;
        add_row(r, u, A);
        add_row(r, u, B);
        say(r, "%s của %s năm %s là %s, %s %s điểm phần trăm so với năm %s (%s).", r->d->name, u->name, pb,
            fmt(r->d, B->v, y, sizeof y), diff >= 0 ? "tăng" : "giảm", (kho_ask_format_number(fabs(diff), 2, d, sizeof d), d),
            pa, fmt(r->d, A->v, x, sizeof x));
        set_value(r, diff);
    } else if (A->v <= 0 || B->v < 0) {
        add_row(r, u, A);
        add_row(r, u, B);
        say(r, "%s của %s: %s (%s) và %s (%s); không tính được tốc độ tăng.", r->d->name, u->name,
            fmt(r->d, A->v, x, sizeof x), pa, fmt(r->d, B->v, y, sizeof y), pb);
    } else {
        add_row(r, u, A);
        add_row(r, u, B);
        double g = 100 * (pow(B->v / A->v, 1.0 / (double)(b - a)) - 1);
        if (b - a == 1)
            say(r, "%s của %s năm %s là %s, %s %s so với năm %s (%s).", r->d->name, u->name, pb,
                fmt(r->d, B->v, y, sizeof y), g >= 0 ? "tăng" : "giảm", pct(fabs(g), pc, sizeof pc), pa,
                fmt(r->d, A->v, x, sizeof x));
        else
            say(r, "Giai đoạn %s–%s, %s của %s %s bình quân %s mỗi năm (từ %s lên %s, tổng cộng %s%s).", pa, pb, n,
                u->name, g >= 0 ? "tăng" : "giảm", pct(fabs(g), pc, sizeof pc), fmt(r->d, A->v, x, sizeof x),
                fmt(r->d, B->v, y, sizeof y), B->v >= A->v ? "+" : "−",
                pct(fabs(100 * (B->v / A->v - 1)), pc2, sizeof pc2));
        set_value(r, g);
    }
    chart_one(r, u, s);
    follow(r, "Dự báo %s của %s năm %ld", n, u->name, b + 2);
    free(s);
    return 0;
}

static int do_share(run_t *r, kho_err_t *err)
{
    kho_askq_t *q = r->q;
    const kho_lx_unit_t *u = the_unit(r);
    char n[160], a[192], b[192], pc[96], pl[48];
    lname(r->d, n, sizeof n);
    if (!u || outside(r, u))
        return 0;
    if (!r->d->additive || r->d->level != KHO_ULV_COMMUNE) {
        say(r, "%s không cộng dồn theo xã, phường nên không tính được tỷ trọng của từng đơn vị.", r->d->name);
        return 0;
    }
    ser_t *s = kho_xcalloc(2, sizeof *s);
    int rc = unit_series(r, u, &s[0], err);
    if (rc == 0)
        rc = read_values(r, home_code(r), NULL, NULL, NULL, 0, &s[1], NULL, err);
    const pt_t *L = rc == 0 ? latest(r, &s[0]) : NULL;
    if (L) {
        const char *want = q->pkind == KHO_PER_ONE ? q->p[0] : L->period;
        const pt_t *x = at(&s[0], want), *t = at(&s[1], want);
        add_period(r, want);
        if (!x || !t || t->v == 0)
            say(r, "Chưa có số liệu %s của %s %s.", n, u->name, per_label(want, pl, sizeof pl));
        else {
            const kho_lx_unit_t *pu = kho_lexicon_unit(r->lx, kho_lexicon_unit_by_code(r->lx, home_code(r), KHO_ERA_CURRENT));
            add_row(r, u, x);
            if (pu)
                add_row(r, pu, t);
            double sh = 100 * x->v / t->v;
            say(r, "%s, %s chiếm %s %s của tỉnh (%s trên tổng %s).", per_label(want, pl, sizeof pl), u->name,
                pct(sh, pc, sizeof pc), n, fmt(r->d, x->v, a, sizeof a), fmt(r->d, t->v, b, sizeof b));
            set_value(r, sh);
            chart_one(r, u, &s[0]);
        }
    } else if (rc == 0)
        no_series(r, u);
    free(s);
    return rc;
}

static int do_forecast(run_t *r, kho_err_t *err)
{
    kho_askq_t *q = r->q;
    const kho_lx_unit_t *u;
    ser_t *s;
    const pt_t *L;
    int rc = open_series(r, &u, &s, &L, err);
    if (rc <= 0)
        return rc;
    long last = strtol(L->period, NULL, 10), year = last + 1;
    if (q->pkind != KHO_PER_NONE)
        year = strtol(q->pkind == KHO_PER_ONE ? q->p[0] : q->p[1], NULL, 10);
    if (year <= last && at(s, q->pkind == KHO_PER_ONE ? q->p[0] : q->p[1])) {
        free(s);
        q->intent = KHO_ASK_VALUE;
        if (q->pkind != KHO_PER_ONE) {
            snprintf(q->p[0], sizeof q->p[0], "%s", q->p[1]);
            q->pkind = KHO_PER_ONE;
        }
        return do_value(r, err);
    }
    long horizon = year - last;
    if (horizon < 1 || horizon > 20) {
        char n[160];
        say(r, "Trợ lý dự báo tối đa 20 năm sau năm có số liệu mới nhất (%s); không dự báo %s cho năm %ld.", L->period,
            lname(r->d, n, sizeof n), year);
        free(s);
        return 0;
    }
    json_t *fc = NULL;
    rc = kho_ind_forecast(&r->ic, r->d->code, u->code, horizon < 5 ? 5 : horizon, &fc, err);
    if (rc != 0) {
        free(s);
        if (rc == KHO_EINVAL) { /* too short a series */
            char n[160];
            say(r, "Chưa đủ số liệu %s của %s để dự báo (%s).", lname(r->d, n, sizeof n), u->name, err->msg);
            return 0;
        }
        return rc;
    }
    json_t *f = json_object_get(fc, "forecast"), *pts = json_object_get(f ? f : fc, "points"), *pt, *hit = NULL;
    size_t i;
    char yb[24], n[160], a[192], lo[192], hi[192], m[96];
    snprintf(yb, sizeof yb, "%ld", year);
    json_array_foreach(pts, i, pt) if (!strcmp(json_string_value(json_object_get(pt, "period")), yb)) hit = pt;
    add_period(r, yb);
    lname(r->d, n, sizeof n);
    const char *method = json_string_value(json_object_get(f ? f : fc, "method"));
    json_t *mape = json_object_get(f ? f : fc, "mape");
    if (!hit)
        say(r, "Không dự báo được %s của %s năm %s.", n, u->name, yb);
    else {
        double v = json_number_value(json_object_get(hit, "value"));
        say(r, "Dự báo %s của %s năm %s: khoảng %s (khoảng tin cậy 80%%: %s – %s; phương pháp %s", n, u->name, yb,
            fmt(r->d, v, a, sizeof a), fmt(r->d, json_number_value(json_object_get(hit, "lo80")), lo, sizeof lo),
            fmt(r->d, json_number_value(json_object_get(hit, "hi80")), hi, sizeof hi), method ? method : "");
        if (json_is_number(mape))
            say(r, ", sai số kiểm định MAPE %s", pct(json_number_value(mape), m, sizeof m));
        say(r, ").");
        set_value(r, v);
        json_array_append_new(r->data, json_pack("{s:s,s:s,s:s,s:s,s:f,s:O,s:O,s:b}", "indicator", r->d->code, "unit",
                                                 u->code, "unit_name", u->name, "period", yb, "value", v, "lo80",
                                                 json_object_get(hit, "lo80"), "hi80", json_object_get(hit, "hi80"),
                                                 "forecast", 1));
        /* history and forecast on one line chart */
        json_t *x = json_array(), *h = json_array(), *fv = json_array();
        for (size_t k = 0; k < s->n; k++) {
            json_array_append_new(x, json_string(s->p[k].period));
            json_array_append_new(h, json_real(s->p[k].v));
            json_array_append_new(fv, k + 1 == s->n ? json_real(s->p[k].v) : json_null());
        }
        json_array_foreach(pts, i, pt)
        {
            if (strcmp(json_string_value(json_object_get(pt, "period")), yb) > 0)
                break;
            json_array_append(x, json_object_get(pt, "period"));
            json_array_append_new(h, json_null());
            json_array_append(fv, json_object_get(pt, "value"));
        }
        r->chart = json_pack("{s:s,s:s,s:o,s:[{s:s,s:o},{s:s,s:o}]}", "type", "line", "unit_of_measure", r->d->uom,
                             "x", x, "series", "name", "Thực tế", "values", h, "name", "Dự báo", "values", fv);
        json_object_set_new(r->extra, "method", json_string(method ? method : ""));
        json_object_set(r->extra, "mape", mape ? mape : json_null());
    }
    follow(r, "%s có đạt mục tiêu không?", r->d->name);
    json_decref(fc);
    free(s);
    return 0;
}

static int do_target(run_t *r, kho_err_t *err)
{
    kho_askq_t *q = r->q;
    const kho_lx_unit_t *u = the_unit(r);
    if (!u || outside(r, u))
        return 0;
    json_t *out = NULL;
    int rc = kho_ind_targets(&r->ic, r->d->code, u->code, &out, err);
    if (rc != 0)
        return rc;
    json_t *ts = json_object_get(out, "targets"), *t, *pick = NULL;
    size_t i;
    json_array_foreach(ts, i, t)
    {
        const char *p = json_string_value(json_object_get(t, "period"));
        if (!pick || (q->pkind == KHO_PER_ONE && p && !strcmp(p, q->p[0])))
            pick = t;
    }
    char n[160], a[192], b[192], f[192], pc[96];
    lname(r->d, n, sizeof n);
    if (!pick)
        say(r, "Chưa có mục tiêu nào cho %s của %s.", n, u->name);
    else {
        const char *per = json_string_value(json_object_get(pick, "period"));
        json_t *lt = json_object_get(pick, "latest"), *fc = json_object_get(pick, "forecast");
        add_period(r, per);
        say(r, "Mục tiêu: %s của %s đạt %s vào năm %s.", n, u->name,
            fmt(r->d, json_number_value(json_object_get(pick, "target")), a, sizeof a), per);
        if (json_is_object(lt))
            say(r, " Năm %s đạt %s", json_string_value(json_object_get(lt, "period")),
                fmt(r->d, json_number_value(json_object_get(lt, "value")), b, sizeof b));
        if (json_is_number(json_object_get(pick, "progress")))
            say(r, " (tiến độ %s)", pct(100 * json_number_value(json_object_get(pick, "progress")), pc, sizeof pc));
        if (json_is_object(fc)) {
            double fv = json_number_value(json_object_get(fc, "value"));
            say(r, "; dự báo năm %s khoảng %s", per, fmt(r->d, fv, f, sizeof f));
            set_value(r, fv);
        }
        say(r, ": %s.", json_string_value(json_object_get(pick, "status_label")));
        json_object_set(r->extra, "status", json_object_get(pick, "status"));
        json_object_set(r->extra, "target", pick);
        json_array_append(r->data, pick);
        follow(r, "Dự báo %s của %s năm %s", n, u->name, per);
    }
    json_decref(out);
    return 0;
}

/* The definition of the indicator (the caller may read it: answer() checked). */
static int definition_of(run_t *r, json_t **out, kho_err_t *err)
{
    json_t *all = NULL;
    int rc = kho_ind_catalogue_all(r->c->db, &all, err);
    if (rc != 0)
        return rc;
    json_t *d;
    size_t i;
    *out = NULL;
    json_array_foreach(json_object_get(all, "indicators"), i, d)
    if (!strcmp(json_string_value(json_object_get(d, "code")), r->d->code))
        *out = json_incref(d);
    json_decref(all);
    return *out ? 0 : kho_err_setk(err, KHO_ENOTFOUND, "unknown_indicator", "no such indicator");
}

static int do_definition(run_t *r, bool source, kho_err_t *err)
{
    json_t *d = NULL;
    int rc = source ? kho_ind_get(&r->ic, r->d->code, &d, err) : definition_of(r, &d, err);
    if (rc != 0)
        return rc;
    char n[160];
    lname(r->d, n, sizeof n);
    if (!source) {
        const char *desc = json_string_value(json_object_get(d, "description"));
        say(r, "%s (đơn vị: %s): %s", r->d->name, r->d->uom, desc && *desc ? desc : "");
        size_t l = r->text.len;
        if (l && r->text.data[l - 1] != '.' && r->text.data[l - 1] != ' ')
            say(r, ".");
        const char *agg = json_string_value(json_object_get(d, "aggregation"));
        if (agg)
            say(r, " Cách tổng hợp: %s.", agg);
        follow(r, "Số liệu %s lấy từ đâu?", n);
    } else {
        json_t *srcs = json_object_get(d, "sources"), *s;
        size_t i;
        if (!json_array_size(srcs))
            say(r, "Chưa có bộ dữ liệu nào cung cấp %s.", n);
        else {
            say(r, "Số liệu %s lấy từ ", n);
            json_array_foreach(srcs, i, s)
            say(r, "%sbộ dữ liệu \"%s\" (phiên bản %lld)", i ? ", " : "", json_string_value(json_object_get(s, "dataset")),
                (long long)json_integer_value(json_object_get(s, "version")));
            say(r, "; giá trị trước 1/7/2025 được quy đổi sang xã, phường mới theo bảng chuyển đổi chính thức.");
        }
        if (json_is_true(json_object_get(d, "synthetic")))
            say(r, " Lưu ý: đây là dữ liệu tổng hợp để minh hoạ, không phải số liệu thống kê chính thức.");
        follow(r, "%s là gì?", r->d->name);
    }
    follow(r, "%s của tỉnh năm nay", r->d->name);
    json_decref(d);
    return 0;
}

/* ---- suggestions ------------------------------------------------------------------------------- */

typedef struct grid {
    char units[160][8];
    char names[160][96];
    size_t nu;
    char periods[40][16];
    size_t np;
    double v[160][40];
    bool has[160][40];
} grid_t;

static int grid_load(run_t *r, grid_t *g, kho_err_t *err)
{
    json_t *rows = NULL;
    int rc = read_values(r, home_code(r), "commune", NULL, NULL, 0, NULL, &rows, err);
    if (rc != 0)
        return rc;
    memset(g, 0, sizeof *g);
    size_t i;
    json_t *v;
    json_array_foreach(rows, i, v)
    {
        const char *u = json_string_value(json_object_get(v, "unit")), *p = json_string_value(json_object_get(v, "period"));
        if (!u || !p || strchr(p, '-') || (int)strtol(p, NULL, 10) > r->this_year)
            continue;
        size_t a = 0, b = 0;
        while (a < g->nu && strcmp(g->units[a], u))
            a++;
        if (a == g->nu) {
            if (g->nu == 160)
                continue;
            snprintf(g->units[a], 8, "%s", u);
            snprintf(g->names[a], 96, "%s", json_string_value(json_object_get(v, "unit_name")));
            g->nu++;
        }
        while (b < g->np && strcmp(g->periods[b], p))
            b++;
        if (b == g->np) {
            if (g->np == 40)
                continue;
            snprintf(g->periods[b], 16, "%s", p);
            g->np++;
        }
        g->v[a][b] = json_number_value(json_object_get(v, "value"));
        g->has[a][b] = true;
    }
    json_decref(rows);
    /* periods in order (the values come sorted by unit then period, but be sure) */
    for (size_t x = 1; x < g->np; x++)
        for (size_t y = x; y > 0 && strcmp(g->periods[y - 1], g->periods[y]) > 0; y--) {
            char t[16];
            memcpy(t, g->periods[y], 16);
            memcpy(g->periods[y], g->periods[y - 1], 16);
            memcpy(g->periods[y - 1], t, 16);
            for (size_t u = 0; u < g->nu; u++) {
                double tv = g->v[u][y];
                bool th = g->has[u][y];
                g->v[u][y] = g->v[u][y - 1];
                g->has[u][y] = g->has[u][y - 1];
                g->v[u][y - 1] = tv;
                g->has[u][y - 1] = th;
            }
        }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct hint {
    int kind; /* 0 decline, 1 jump, 2 target, 3 lagging */
    double severity;
    char unit[8], unit_name[96], text[512];
    json_t *data;
} hint_t;

#define MAX_HINTS 64

static void hint_add(hint_t *h, size_t *n, int kind, double sev, const char *unit, const char *name, json_t *data,
                     const char *f, ...) __attribute__((format(printf, 8, 9)));
static void hint_add(hint_t *h, size_t *n, int kind, double sev, const char *unit, const char *name, json_t *data,
                     const char *f, ...)
{
    if (*n == MAX_HINTS) {
        json_decref(data);
        return;
    }
    hint_t *x = &h[(*n)++];
    x->kind = kind;
    x->severity = sev;
    snprintf(x->unit, sizeof x->unit, "%s", unit);
    snprintf(x->unit_name, sizeof x->unit_name, "%s", name);
    x->data = data;
    va_list ap;
    va_start(ap, f);
    vsnprintf(x->text, sizeof x->text, f, ap);
    va_end(ap);
}

static void hints_of(run_t *r, const grid_t *g, const ser_t *prov, hint_t *h, size_t *nh)
{
    const kho_lx_ind_t *d = r->d;
    char n[160], a[192], b[192], pc[96], pc2[96];
    lname(d, n, sizeof n);
    int sign = d->higher_is_better ? 1 : -1;
    size_t L = g->np ? g->np - 1 : 0;
    /* decline: the wrong way in each of the last 3 years while the province went the right way */
    if (g->np >= 4) {
        const pt_t *p0 = at(prov, g->periods[L - 3]), *p1 = at(prov, g->periods[L]);
        bool prov_right = p0 && p1 && sign * (p1->v - p0->v) > 0;
        for (size_t u = 0; u < g->nu && prov_right; u++) {
            bool all = true;
            for (size_t k = L - 2; k <= L && all; k++)
                all = g->has[u][k] && g->has[u][k - 1] && sign * (g->v[u][k] - g->v[u][k - 1]) < 0;
            if (!all)
                continue;
            double rel = g->v[u][L - 3] != 0 ? fabs(g->v[u][L] / g->v[u][L - 3] - 1) : 1;
            hint_add(h, nh, 0, rel, g->units[u], g->names[u],
                     json_pack("{s:s,s:s,s:f,s:s,s:f}", "indicator", d->code, "from", g->periods[L - 3], "from_value",
                               g->v[u][L - 3], "to", g->periods[L], "to_value", g->v[u][L]),
                     "%s: %s %s 3 năm liền (%s–%s: %s → %s) trong khi toàn tỉnh %s.", g->names[u], n,
                     sign > 0 ? "giảm" : "tăng", g->periods[L - 2], g->periods[L], fmt(d, g->v[u][L - 3], a, sizeof a),
                     fmt(d, g->v[u][L], b, sizeof b), sign > 0 ? "tăng" : "giảm");
        }
    }
    /* jump: a year-on-year change far beyond the usual ones */
    double *ch = kho_xcalloc(g->nu + 1, sizeof *ch);
    for (size_t k = 1; k < g->np; k++) {
        size_t m = 0;
        for (size_t u = 0; u < g->nu; u++)
            if (g->has[u][k] && g->has[u][k - 1] && g->v[u][k - 1] != 0)
                ch[m++] = fabs(g->v[u][k] / g->v[u][k - 1] - 1);
        if (m < 5)
            continue;
        qsort(ch, m, sizeof *ch, cmp_double);
        double med = m % 2 ? ch[m / 2] : (ch[m / 2 - 1] + ch[m / 2]) / 2;
        for (size_t u = 0; u < g->nu; u++) {
            if (!(g->has[u][k] && g->has[u][k - 1] && g->v[u][k - 1] != 0))
                continue;
            double rel = g->v[u][k] / g->v[u][k - 1] - 1;
            if (fabs(rel) < 0.5 || fabs(rel) <= 5 * med)
                continue;
            bool seen = false; /* one jump per commune: the largest */
            for (size_t j = 0; j < *nh; j++)
                if (h[j].kind == 1 && !strcmp(h[j].unit, g->units[u]) && !strcmp(json_string_value(json_object_get(h[j].data, "indicator")), d->code)) {
                    seen = true;
                    if (fabs(rel) > h[j].severity) {
                        json_decref(h[j].data);
                        h[j] = h[--*nh];
                        seen = false;
                    }
                    break;
                }
            if (seen)
                continue;
            hint_add(h, nh, 1, fabs(rel), g->units[u], g->names[u],
                     json_pack("{s:s,s:s,s:f,s:s,s:f}", "indicator", d->code, "from", g->periods[k - 1], "from_value",
                               g->v[u][k - 1], "to", g->periods[k], "to_value", g->v[u][k]),
                     "%s: %s năm %s %s %s so với năm %s (%s → %s), khác thường so với các xã khác — nên kiểm tra lại số liệu.",
                     g->names[u], n, g->periods[k], rel > 0 ? "tăng" : "giảm", pct(100 * fabs(rel), pc, sizeof pc),
                     g->periods[k - 1], fmt(d, g->v[u][k - 1], a, sizeof a), fmt(d, g->v[u][k], b, sizeof b));
        }
    }
    free(ch);
    /* lagging, additive: the slowest growth over the last 3 years, below the province's */
    if (d->additive && g->np >= 4) {
        const pt_t *p0 = at(prov, g->periods[L - 3]), *p1 = at(prov, g->periods[L]);
        double pg = p0 && p1 && p0->v > 0 ? p1->v / p0->v - 1 : NAN;
        int idx[160];
        double gr[160];
        size_t m = 0;
        for (size_t u = 0; u < g->nu && isfinite(pg); u++)
            if (g->has[u][L] && g->has[u][L - 3] && g->v[u][L - 3] > 0) {
                double x = g->v[u][L] / g->v[u][L - 3] - 1;
                if (sign * x < sign * pg) {
                    gr[m] = x;
                    idx[m++] = (int)u;
                }
            }
        for (size_t x = 1; x < m; x++)
            for (size_t y = x; y > 0 && sign * (gr[y] - gr[y - 1]) < 0; y--) {
                int t = idx[y];
                double tg = gr[y];
                idx[y] = idx[y - 1];
                gr[y] = gr[y - 1];
                idx[y - 1] = t;
                gr[y - 1] = tg;
            }
        for (size_t k = 0; k < m && k < 3; k++)
            hint_add(h, nh, 3, fabs(gr[k] - pg), g->units[idx[k]], g->names[idx[k]],
                     json_pack("{s:s,s:s,s:f,s:s,s:f,s:f}", "indicator", d->code, "from", g->periods[L - 3],
                               "from_value", g->v[idx[k]][L - 3], "to", g->periods[L], "to_value", g->v[idx[k]][L],
                               "province_growth", 100 * pg),
                     "%s: %s %s chỉ %s trong %s–%s (%s → %s), trong khi toàn tỉnh %s %s.", g->names[idx[k]], n,
                     gr[k] >= 0 ? "tăng" : "giảm", pct(100 * fabs(gr[k]), pc, sizeof pc), g->periods[L - 3],
                     g->periods[L], fmt(d, g->v[idx[k]][L - 3], a, sizeof a), fmt(d, g->v[idx[k]][L], b, sizeof b),
                     pg >= 0 ? "tăng" : "giảm", pct(100 * fabs(pg), pc2, sizeof pc2));
    }
    /* lagging: the 3 worst on rates and ratios */
    if (!d->additive && g->np) {
        int idx[160];
        size_t m = 0;
        for (size_t u = 0; u < g->nu; u++)
            if (g->has[u][L])
                idx[m++] = (int)u;
        for (size_t x = 1; x < m; x++) /* worst first */
            for (size_t y = x; y > 0 && sign * (g->v[idx[y]][L] - g->v[idx[y - 1]][L]) < 0; y--) {
                int t = idx[y];
                idx[y] = idx[y - 1];
                idx[y - 1] = t;
            }
        /* only among enough units, and only those worse than the median: the "worst" of three
         * communes, or one at the best value, is no finding */
        for (size_t k = 0; m >= 5 && k < m && k < 3 && sign * (g->v[idx[k]][L] - g->v[idx[m / 2]][L]) < 0; k++)
            hint_add(h, nh, 3, (double)(3 - k), g->units[idx[k]], g->names[idx[k]],
                     json_pack("{s:s,s:s,s:f}", "indicator", d->code, "period", g->periods[L], "value",
                               g->v[idx[k]][L]),
                     "%s có %s %s tỉnh năm %s (%s).", g->names[idx[k]], n, sign > 0 ? "thấp nhất" : "cao nhất",
                     g->periods[L], fmt(d, g->v[idx[k]][L], a, sizeof a));
    }
}

static void target_hints(run_t *r, hint_t *h, size_t *nh)
{
    json_t *out = NULL;
    kho_err_t e;
    if (kho_ind_targets(&r->ic, r->d->code, NULL, &out, &e) != 0)
        return;
    json_t *t;
    size_t i;
    char n[160], a[192], f[192];
    lname(r->d, n, sizeof n);
    json_array_foreach(json_object_get(out, "targets"), i, t)
    {
        const char *st = json_string_value(json_object_get(t, "status"));
        if (!st || (strcmp(st, "at_risk") && strcmp(st, "off_track")))
            continue;
        json_t *fc = json_object_get(t, "forecast");
        hint_add(h, nh, 2, !strcmp(st, "off_track") ? 2 : 1, json_string_value(json_object_get(t, "unit")),
                 json_string_value(json_object_get(t, "unit_name")), json_incref(t),
                 "Mục tiêu %s của %s năm %s là %s nhưng dự báo chỉ khoảng %s: %s.", n,
                 json_string_value(json_object_get(t, "unit_name")), json_string_value(json_object_get(t, "period")),
                 fmt(r->d, json_number_value(json_object_get(t, "target")), a, sizeof a),
                 fmt(r->d, json_number_value(json_object_get(fc, "value")), f, sizeof f),
                 json_string_value(json_object_get(t, "status_label")));
    }
    json_decref(out);
}

static int hint_order(const void *a, const void *b)
{
    const hint_t *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind - y->kind;
    return x->severity > y->severity ? -1 : x->severity < y->severity;
}

static void do_help(run_t *r);

/* Suggestions depend only on the data, the caller, the indicator asked about and
 * this year, not on the question's words: each thread keeps the last few, so
 * "đề xuất", "gợi ý" and "có gì cần chú ý không" are worked out once per
 * change of the database (SQLite's data_version and this connection's changes). */
#define SUGGEST_MEMO 16
static _Thread_local struct {
    char key[192];
    json_t *v; /* {"text","units","hints","value","follow","intent"} */
} memo[SUGGEST_MEMO];
static _Thread_local unsigned memo_next;

static bool suggest_key(run_t *r, char *key, size_t size)
{
    kho_store_stamp_t st;
    kho_err_t e;
    if (kho_store_stamp(r->c->db, &st, &e) != 0)
        return false;
    const kho_principal_t *p = r->c->who;
    snprintf(key, size, "%llu|%lld|%lld|%d|%d|%lld|%lld|%u|%s", (unsigned long long)st.serial,
             (long long)st.data_version, (long long)st.changes, r->this_year, (int)p->role, (long long)p->user_id,
             (long long)p->org_id, p->scopes, r->d ? r->d->code : "");
    return true;
}

static void suggest_memo_free(void)
{
    for (size_t i = 0; i < SUGGEST_MEMO; i++) {
        json_decref(memo[i].v);
        memo[i].v = NULL;
        memo[i].key[0] = 0;
    }
}

static int suggest_compute(run_t *r, json_t *units, kho_err_t *err);

static int do_suggest(run_t *r, json_t *units, kho_err_t *err)
{
    char key[192];
    bool keyed = suggest_key(r, key, sizeof key);
    for (size_t i = 0; keyed && i < SUGGEST_MEMO; i++)
        if (memo[i].v && !strcmp(memo[i].key, key)) {
            json_t *m = memo[i].v;
            say(r, "%s", json_string_value(json_object_get(m, "text")));
            json_array_extend(units, json_object_get(m, "units"));
            json_array_extend(r->follow, json_object_get(m, "follow"));
            if (json_object_get(m, "hints"))
                json_object_set(r->extra, "hints", json_object_get(m, "hints"));
            if (json_object_get(m, "examples"))
                json_object_set(r->extra, "examples", json_object_get(m, "examples"));
            if (json_is_number(json_object_get(m, "value")))
                set_value(r, json_number_value(json_object_get(m, "value")));
            r->q->intent = (int)json_integer_value(json_object_get(m, "intent"));
            return 0;
        }
    size_t before = r->text.len;
    int rc = suggest_compute(r, units, err);
    if (rc == 0 && keyed) {
        unsigned k = memo_next++ % SUGGEST_MEMO;
        json_decref(memo[k].v);
        snprintf(memo[k].key, sizeof memo[k].key, "%s", key);
        memo[k].v = json_pack("{s:s#,s:O,s:O,s:o,s:I}", "text", r->text.data ? r->text.data + before : "",
                              r->text.len - before, "units", units, "follow", r->follow, "value",
                              r->has_value ? json_real(r->value) : json_null(), "intent", (json_int_t)r->q->intent);
        if (json_object_get(r->extra, "hints"))
            json_object_set(memo[k].v, "hints", json_object_get(r->extra, "hints"));
        if (json_object_get(r->extra, "examples"))
            json_object_set(memo[k].v, "examples", json_object_get(r->extra, "examples"));
    }
    return rc;
}

static int suggest_compute(run_t *r, json_t *units, kho_err_t *err)
{
    hint_t *h = kho_xcalloc(MAX_HINTS, sizeof *h);
    size_t nh = 0;
    grid_t *g = kho_xcalloc(1, sizeof *g);
    ser_t *prov = kho_xcalloc(1, sizeof *prov);
    const kho_lx_ind_t *only = r->d;
    int rc = 0;
    size_t seen = 0;
    for (size_t i = 0; i < kho_lexicon_ninds(r->lx) && rc == 0; i++) {
        const kho_lx_ind_t *d = kho_lexicon_ind(r->lx, (int)i);
        if (only && d != only)
            continue;
        r->d = d;
        kho_err_t e;
        json_t *src = NULL;
        if (kho_ind_sources(&r->ic, d->code, &src, &e) != 0)
            continue; /* not visible to this caller */
        bool has_values = json_array_size(json_object_get(src, "sources")) > 0;
        json_decref(src);
        if (!has_values)
            continue; /* in the catalogue, but nothing reported yet */
        seen++;
        if (d->level == KHO_ULV_COMMUNE) {
            rc = grid_load(r, g, &e);
            if (rc == 0)
                rc = read_values(r, home_code(r), NULL, NULL, NULL, 0, prov, NULL, &e);
            if (rc == KHO_ENOTFOUND) { /* not visible to this caller */
                rc = 0;
                continue;
            }
            if (rc != 0) {
                *err = e;
                break;
            }
            hints_of(r, g, prov, h, &nh);
        }
        target_hints(r, h, &nh);
    }
    r->d = only;
    free(g);
    free(prov);
    if (rc == 0 && !seen) { /* the caller may read none of the indicators */
        r->q->intent = KHO_ASK_HELP;
        say(r, "Trợ lý không có chỉ số nào trong số các chỉ số bạn được xem, nên chưa có gợi ý nào. ");
        do_help(r);
    } else if (rc == 0) {
        qsort(h, nh, sizeof *h, hint_order);
        size_t keep = nh < 8 ? nh : 8;
        json_t *hints = json_array();
        char n[160];
        if (!keep)
            say(r, "Không thấy điểm nào cần chú ý%s%s: không xã, phường nào giảm liên tục, không có biến động bất thường "
                   "hay mục tiêu có nguy cơ không đạt.",
                only ? " về " : "", only ? lname(only, n, sizeof n) : "");
        else {
            say(r, "Có %zu điểm cần chú ý%s%s. ", keep, only ? " về " : "", only ? lname(only, n, sizeof n) : "");
            for (size_t k = 0; k < keep && k < 3; k++)
                say(r, "%s%s", k ? " " : "", h[k].text);
        }
        static const char *const KIND[] = {"decline", "jump", "target", "lagging"};
        for (size_t k = 0; k < keep; k++) {
            const char *ind = json_string_value(json_object_get(h[k].data, "indicator"));
            json_array_append_new(hints, json_pack("{s:s,s:s,s:s,s:s,s:s,s:O}", "kind", KIND[h[k].kind], "indicator",
                                                   ind ? ind : "", "unit", h[k].unit, "unit_name", h[k].unit_name,
                                                   "text", h[k].text, "data", h[k].data));
            bool dup = false;
            size_t i;
            json_t *v;
            json_array_foreach(units, i, v) dup |= !strcmp(json_string_value(json_object_get(v, "code")), h[k].unit);
            if (!dup)
                json_array_append_new(units, json_pack("{s:s,s:s}", "code", h[k].unit, "name", h[k].unit_name));
        }
        json_object_set_new(r->extra, "hints", hints);
        set_value(r, (double)keep);
        if (keep)
            follow(r, "%s của %s thay đổi thế nào trong 5 năm qua?",
                   only ? only->name : kho_lexicon_ind(r->lx, 0)->name, h[0].unit_name);
    }
    for (size_t k = 0; k < nh; k++)
        json_decref(h[k].data);
    free(h);
    return rc;
}

/* ---- help and clarification ---------------------------------------------------------------------- */

static const char *const EXAMPLES[] = {
    "Dân số xã Nghĩa Trụ năm 2024",
    "Top 5 xã có sản lượng nhãn cao nhất",
    "Số doanh nghiệp phường Phố Hiến tăng bao nhiêu so với năm trước?",
    "Dự báo GRDP năm 2027",
    "Tỷ trọng kinh tế số có đạt mục tiêu 2030 không?",
    "Xã nào cần chú ý về hộ nghèo?",
};

static void do_help(run_t *r)
{
    json_t *ex = json_array();
    for (size_t i = 0; i < sizeof EXAMPLES / sizeof EXAMPLES[0]; i++)
        json_array_append_new(ex, json_string(EXAMPLES[i]));
    json_object_set_new(r->extra, "examples", ex);
    if (r->q->greeting)
        say(r, "Xin chào! ");
    say(r, "Trợ lý trả lời câu hỏi về các chỉ số kinh tế – xã hội của tỉnh và từng xã, phường: giá trị, so sánh, "
           "xếp hạng, mức tăng giảm, tỷ trọng, dự báo, mục tiêu, định nghĩa, nguồn số liệu và các điểm cần chú ý. "
           "Ví dụ: \"%s\" hoặc \"%s\".",
        EXAMPLES[0], EXAMPLES[1]);
}

static void do_clarify(run_t *r)
{
    kho_askq_t *q = r->q;
    json_t *cands = json_array();
    if (!q->ncands && q->nunits) { /* a unit and no indicator */
        const kho_lx_unit_t *u = U(r, 0);
        snprintf(q->clarify_prompt, sizeof q->clarify_prompt, "Bạn muốn biết chỉ số nào của %s?", u->name);
        for (size_t i = 0; i < kho_lexicon_ninds(r->lx) && q->ncands < 5; i++) {
            const kho_lx_ind_t *d = kho_lexicon_ind(r->lx, (int)i);
            json_t *src = NULL;
            kho_err_t e;
            if ((d->level == KHO_ULV_PROVINCE) != (u->level == KHO_ULV_PROVINCE) ||
                kho_ind_sources(&r->ic, d->code, &src, &e) != 0)
                continue;
            json_decref(src);
            kho_ask_cand_t *c = &q->cands[q->ncands++];
            c->ind = (int)i;
            snprintf(c->label, sizeof c->label, "%s", d->name);
            snprintf(c->question, sizeof c->question, "%s của %s", d->name, u->name);
        }
    }
    int kept = 0; /* indicators the caller may not read are not offered */
    for (int k = 0; k < q->ncands; k++) {
        json_t *src = NULL;
        kho_err_t e;
        const kho_lx_ind_t *d = q->cands[k].ind >= 0 ? kho_lexicon_ind(r->lx, q->cands[k].ind) : NULL;
        if (d && kho_ind_sources(&r->ic, d->code, &src, &e) != 0)
            continue;
        json_decref(src);
        q->cands[kept++] = q->cands[k];
    }
    if (q->ncands && !kept) { /* nothing the caller may see */
        q->ncands = 0;
        q->intent = KHO_ASK_HELP;
        json_decref(cands);
        do_help(r);
        return;
    }
    q->ncands = kept;
    for (int k = 0; k < q->ncands; k++)
        json_array_append_new(cands, json_pack("{s:s,s:s}", "label", q->cands[k].label, "question", q->cands[k].question));
    say(r, "%s", q->clarify_prompt);
    if (q->ncands) {
        say(r, " ");
        for (int k = 0; k < q->ncands; k++)
            say(r, "%s%s", k ? (k + 1 == q->ncands ? " hay " : ", ") : "", q->cands[k].label);
        say(r, "?");
    }
    json_object_set_new(r->extra, "candidates", cands);
    if (!q->ncands)
        do_help(r);
}

/* ---- the answer --------------------------------------------------------------------------------- */

int kho_ask_year_now(void)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    return tm.tm_year + 1900;
}

static int this_year(const kho_ask_ctx_t *c)
{
    return c->this_year ? c->this_year : kho_ask_year_now();
}

static int run(run_t *r, json_t *units, kho_err_t *err)
{
    switch (r->q->intent) {
    case KHO_ASK_VALUE: return do_value(r, err);
    case KHO_ASK_COMPARE: return do_compare(r, err);
    case KHO_ASK_RANK: return do_rank(r, units, err);
    case KHO_ASK_FILTER: return do_filter(r, units, err);
    case KHO_ASK_CHANGE: return do_change(r, err);
    case KHO_ASK_SHARE: return do_share(r, err);
    case KHO_ASK_FORECAST: return do_forecast(r, err);
    case KHO_ASK_TARGET: return do_target(r, err);
    case KHO_ASK_DEFINITION: return do_definition(r, false, err);
    case KHO_ASK_SOURCE: return do_definition(r, true, err);
    case KHO_ASK_SUGGEST: return do_suggest(r, units, err);
    case KHO_ASK_CLARIFY: do_clarify(r); return 0;
    default: do_help(r); return 0;
    }
}

static bool needs_indicator(int intent)
{
    return intent != KHO_ASK_SUGGEST && intent != KHO_ASK_CLARIFY && intent != KHO_ASK_HELP;
}

static int answer(const kho_ask_ctx_t *c, const kho_lexicon_t *lx, const char *question, kho_askq_t *q,
                  const char *engine, json_t **out, kho_err_t *err)
{
    run_t r;
    memset(&r, 0, sizeof r);
    r.c = c;
    r.lx = lx;
    r.q = q;
    r.ic = (kho_ind_ctx_t){.db = c->db, .who = c->who};
    r.this_year = this_year(c);
    r.d = q->ind >= 0 ? kho_lexicon_ind(lx, q->ind) : NULL;
    r.data = json_array();
    r.follow = json_array();
    r.extra = json_object();
    r.periods = json_array();
    json_t *units = json_array(), *sources = json_array();
    int rc = 0;
    if (needs_indicator(q->intent) && !r.d)
        q->intent = KHO_ASK_HELP;
    if (r.d) { /* an indicator the caller may not read is one it has never heard of */
        json_t *s = NULL;
        kho_err_t e;
        if (kho_ind_sources(&r.ic, r.d->code, &s, &e) != 0) {
            r.d = NULL;
            if (needs_indicator(q->intent)) {
                q->intent = KHO_ASK_HELP;
                say(&r, "Trợ lý không có chỉ số này trong số các chỉ số bạn được xem. ");
            }
        } else {
            json_decref(sources);
            sources = json_incref(json_object_get(s, "sources"));
            json_decref(s);
        }
    }
    bool ranked = q->intent == KHO_ASK_RANK || q->intent == KHO_ASK_FILTER || q->intent == KHO_ASK_SUGGEST;
    rc = run(&r, units, err);
    if (rc == KHO_ENOTFOUND || rc == KHO_EINVAL) { /* a unit or period the indicators API refused: say it */
        kho_buf_free(&r.text);
        r.text = (kho_buf_t)KHO_BUF_INIT;
        say(&r, "Không trả lời được câu hỏi này: %s", err->msg);
        r.has_value = false;
        rc = 0;
    }
    if (rc != 0)
        goto done;
    if (!ranked || q->intent == KHO_ASK_SUGGEST)
        for (int k = 0; k < q->nunits; k++) {
            const kho_lx_unit_t *u = kho_lexicon_unit(lx, q->units[k]);
            if (q->intent == KHO_ASK_SUGGEST)
                break;
            json_array_append_new(units, json_pack("{s:s,s:s}", "code", u->code, "name", u->name));
        }
    json_t *o = json_object();
    json_object_set_new(o, "question", json_string(question));
    json_object_set_new(o, "intent", json_string(kho_ask_intent_name(q->intent)));
    json_object_set_new(o, "indicator", r.d ? json_pack("{s:s,s:s,s:s}", "code", r.d->code, "name", r.d->name,
                                                        "unit_of_measure", r.d->uom)
                                            : json_null());
    json_object_set_new(o, "units", units);
    units = NULL;
    json_object_set_new(o, "periods", r.periods);
    r.periods = NULL;
    if (r.text.len && r.text.data[0] >= 'a' && r.text.data[0] <= 'z')
        r.text.data[0] = (char)(r.text.data[0] - 'a' + 'A');
    else if (r.text.len >= 2 && !memcmp(r.text.data, "đ", 2))
        memcpy(r.text.data, "Đ", 2);
    json_object_set_new(o, "answer", json_stringn(r.text.data ? r.text.data : "", r.text.len));
    json_object_set_new(o, "value", r.has_value ? json_real(r.value) : json_null());
    json_object_set_new(o, "data", r.data);
    r.data = NULL;
    json_object_set_new(o, "chart", r.chart ? r.chart : json_null());
    r.chart = NULL;
    json_object_set_new(o, "sources", sources);
    sources = NULL;
    double conf = q->confidence;
    if (q->pkind == KHO_PER_NONE && !q->recent && q->intent != KHO_ASK_DEFINITION && q->intent != KHO_ASK_SOURCE &&
        q->intent != KHO_ASK_HELP && q->intent != KHO_ASK_CLARIFY)
        conf -= 0.05;
    json_object_set_new(o, "confidence", json_real(conf < 0 ? 0 : round(conf * 100) / 100));
    json_t *notes = json_array();
    for (int k = 0; k < q->nnotes; k++)
        json_array_append_new(notes, json_string(q->notes[k]));
    json_object_set_new(o, "notes", notes);
    json_object_set_new(o, "follow_ups", r.follow);
    r.follow = NULL;
    json_object_set_new(o, "engine", json_string(engine));
    json_object_update(o, r.extra);
    *out = o;
done:
    json_decref(units);
    json_decref(sources);
    json_decref(r.data);
    json_decref(r.follow);
    json_decref(r.extra);
    json_decref(r.periods);
    json_decref(r.chart);
    kho_buf_free(&r.text);
    return rc;
}

static int check(const char *question, size_t len, kho_err_t *err)
{
    if (!kho_utf8_valid(question, len, NULL))
        return kho_err_setk(err, KHO_EINVAL, "bad_text", "the question is not valid UTF-8 text");
    size_t i = 0, chars = 0;
    while (i < len && (question[i] == ' ' || question[i] == '\t' || question[i] == '\n' || question[i] == '\r'))
        i++;
    if (i == len)
        return kho_err_setk(err, KHO_EINVAL, "empty_question", "câu hỏi trống: hãy nhập một câu hỏi (q=...)");
    for (size_t k = 0; k < len; k++)
        chars += ((unsigned char)question[k] & 0xC0) != 0x80;
    if (chars > KHO_ASK_MAX_CHARS)
        return kho_err_setk(err, KHO_EINVAL, "question_too_long", "câu hỏi dài %zu ký tự, tối đa %d", chars,
                            KHO_ASK_MAX_CHARS);
    return 0;
}

int kho_ask(const kho_ask_ctx_t *c, const char *question, size_t len, json_t **out, kho_err_t *err)
{
    int rc = check(question, len, err);
    if (rc != 0)
        return rc;
    const kho_lexicon_t *lx = NULL;
    rc = kho_lexicon_shared(c->db, &lx, err);
    if (rc != 0)
        return rc;
    kho_askq_t *q = kho_xcalloc(1, sizeof *q);
    kho_ask_parse(lx, question, len, this_year(c), q);
    char *nfc = kho_xstrndup(question, len);
    char *norm = kho_text_nfc_dup(nfc);
    rc = answer(c, lx, norm ? norm : nfc, q, "parser", out, err);
    free(norm);
    free(nfc);
    free(q);
    return rc;
}

/* ---- a structured query from outside (a language model) ----------------------------------------------- */

static bool period_ok(const char *p)
{
    size_t n = strlen(p);
    if (n < 4 || n > 7)
        return false;
    for (size_t i = 0; i < 4; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    if (n == 4)
        return true;
    if (n == 7 && p[4] == '-' && p[5] == 'Q')
        return p[6] >= '1' && p[6] <= '4';
    return n == 7 && p[4] == '-' && p[5] >= '0' && p[5] <= '1' && p[6] >= '0' && p[6] <= '9';
}

static bool from_json(const kho_lexicon_t *lx, const json_t *j, kho_askq_t *q)
{
    memset(q, 0, sizeof *q);
    q->ind = -1;
    if (!json_is_object(j))
        return false;
    int intent = kho_ask_intent_parse(json_string_value(json_object_get(j, "intent")));
    if (intent < 0 || intent == KHO_ASK_CLARIFY || intent == KHO_ASK_HELP)
        return false;
    q->intent = intent;
    json_t *ind = json_object_get(j, "indicator");
    if (json_is_string(ind) && (q->ind = kho_lexicon_ind_by_code(lx, json_string_value(ind))) < 0)
        return false;
    if (!json_is_string(ind) && !json_is_null(ind) && ind)
        return false;
    json_t *us = json_object_get(j, "units"), *v;
    size_t i;
    if (us && !json_is_array(us))
        return false;
    json_array_foreach(us, i, v)
    {
        const char *code = json_string_value(v);
        int u = code ? kho_lexicon_unit_by_code(lx, code, KHO_ERA_CURRENT) : -1;
        if (u < 0 || q->nunits == KHO_ASK_MAX_UNITS)
            return false;
        q->named_old[q->nunits] = -1;
        q->units[q->nunits++] = u;
    }
    json_t *ps = json_object_get(j, "periods");
    if (ps && !json_is_array(ps))
        return false;
    json_array_foreach(ps, i, v)
    {
        const char *p = json_string_value(v);
        if (!p || !period_ok(p) || i >= 2)
            return false;
        snprintf(q->p[i], sizeof q->p[i], "%s", p);
    }
    size_t np = json_array_size(ps);
    q->pkind = np == 0 ? KHO_PER_NONE : np == 1 ? KHO_PER_ONE : intent == KHO_ASK_COMPARE ? KHO_PER_TWO : KHO_PER_SPAN;
    json_t *n = json_object_get(j, "n");
    if (json_is_integer(n) && json_integer_value(n) >= 1 && json_integer_value(n) <= 20)
        q->n = (int)json_integer_value(n);
    const char *order = json_string_value(json_object_get(j, "order"));
    q->order = order && !strcmp(order, "asc") ? -1 : 1;
    json_t *t = json_object_get(j, "threshold");
    if (json_is_number(t)) {
        q->threshold_set = true;
        q->threshold = json_number_value(t);
        q->cmp = order && !strcmp(order, "asc") ? -1 : 1;
    }
    if (intent == KHO_ASK_FILTER && !q->threshold_set)
        return false;
    if (needs_indicator(intent) && q->ind < 0)
        return false;
    q->confidence = 0.7;
    q->marks = true;
    return true;
}

int kho_ask_structured(const kho_ask_ctx_t *c, const char *question, const json_t *query, json_t **out,
                       kho_err_t *err)
{
    const kho_lexicon_t *lx = NULL;
    int rc = kho_lexicon_shared(c->db, &lx, err);
    if (rc != 0)
        return rc;
    kho_askq_t *q = kho_xcalloc(1, sizeof *q);
    if (!from_json(lx, query, q)) {
        free(q);
        return kho_err_setk(err, KHO_EINVAL, "bad_query", "the structured query is not valid for this catalogue");
    }
    rc = answer(c, lx, question, q, "llm", out, err);
    free(q);
    return rc;
}

int kho_ask_catalogue(const kho_ask_ctx_t *c, json_t **out, kho_err_t *err)
{
    json_t *all = NULL;
    int rc = kho_ind_catalogue_all(c->db, &all, err);
    if (rc != 0)
        return rc;
    kho_ind_ctx_t ic = {.db = c->db, .who = c->who};
    json_t *arr = json_array(), *d;
    size_t i;
    json_array_foreach(json_object_get(all, "indicators"), i, d)
    {
        json_t *s = NULL;
        kho_err_t e;
        if (kho_ind_sources(&ic, json_string_value(json_object_get(d, "code")), &s, &e) != 0)
            continue;
        json_decref(s);
        json_array_append_new(arr, json_pack("{s:O,s:O,s:O,s:O,s:O,s:O}", "code", json_object_get(d, "code"), "name",
                                             json_object_get(d, "name"), "synonyms", json_object_get(d, "synonyms"),
                                             "level", json_object_get(d, "level"), "kind", json_object_get(d, "kind"),
                                             "unit_of_measure", json_object_get(d, "unit_of_measure")));
    }
    json_decref(all);
    *out = json_pack("{s:o}", "indicators", arr);
    return 0;
}

void kho_ask_thread_done(void)
{
    suggest_memo_free();
    kho_lexicon_thread_done();
}
