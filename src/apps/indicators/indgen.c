/* indgen — synthetic indicator reports for Hưng Yên (see indgen.h). */
#include "apps/indicators/indgen.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define Y_FIRST 2015
#define Y_NEW 2025
#define N_OLD 10           /* years reported against the old units: 2015..2024 */
#define T_2024 (N_OLD - 1) /* index of 2024; index N_OLD is 2025 */

/* ---- indicators ------------------------------------------------------------------- */

enum { DAN_SO, DIEN_TICH, SO_DN, NHAN, CHUOI, GA, LUA, HO_NGHEO, TONG_HO, HS_TRUC_TUYEN, TONG_HS, N_CIND };
enum { GRDP, KTS, NSNN, N_PIND };

typedef struct ind {
    const char *code;
    int dp; /* decimals kept */
} ind_t;

static const ind_t CIND[N_CIND] = {
    [DAN_SO] = {"dan_so", 0},         [DIEN_TICH] = {"dien_tich", 2},
    [SO_DN] = {"so_doanh_nghiep", 0}, [NHAN] = {"san_luong_nhan", 1},
    [CHUOI] = {"san_luong_chuoi", 1}, [GA] = {"dan_ga", 1},
    [LUA] = {"san_luong_lua", 1},     [HO_NGHEO] = {"so_ho_ngheo", 0},
    [TONG_HO] = {"tong_so_ho", 0},    [HS_TRUC_TUYEN] = {"ho_so_truc_tuyen", 0},
    [TONG_HS] = {"tong_ho_so", 0},
};

static const ind_t PIND[N_PIND] = {
    [GRDP] = {"grdp", 1},
    [KTS] = {"gia_tri_kinh_te_so", 1},
    [NSNN] = {"thu_ngan_sach", 1},
};

static const double SCALE[] = {1, 10, 100}; /* by decimals kept */

/* Province totals aimed at in 2025. */
#define AREA_HUNDREDTHS 251481 /* 2,514.81 km² */
#define POP_2025 3570000.0
#define HOUSEHOLDS_2025 1100000.0
#define ENTERPRISES_2025 27700.0
#define LONGAN_2025 60000.0
#define BANANA_2025 120000.0
#define CHICKENS_2025 30000.0
#define RICE_2025 1215000.0
#define APPLICATIONS_2025 720000.0
#define GRDP_2025 328000.0
#define BUDGET_2025 45000.0

/* Planted features (indgen.h lists them). */
static const char *const DECLINING_ENTERPRISES[] = {"12010", "12451", "12988"};
#define POVERTY_RISE "12880"
#define RICE_OUTLIER "12664"
#define RICE_OUTLIER_YEAR 2020

/* ---- old districts: what they are known for ----------------------------------------- */

enum {
    R_PHO_HIEN = 1, /* around Phố Hiến: longan */
    R_BANANA = 2,   /* banana country */
    R_RIVER = 4,    /* on the Red River (district); a riverside commune (commune) */
    R_INDUSTRY = 8, /* industrial parks */
    R_CITY = 16,    /* a city or town */
    R_COAST = 32,   /* on the coast */
};

static const struct {
    const char *province, *name_fold;
    unsigned roles;
} DISTRICTS[] = {
    {"33", "thanh pho hung yen", R_PHO_HIEN | R_RIVER | R_CITY},
    {"33", "huyen kim dong", R_PHO_HIEN | R_BANANA | R_RIVER},
    {"33", "huyen tien lu", R_PHO_HIEN | R_RIVER},
    {"33", "huyen khoai chau", R_PHO_HIEN | R_BANANA | R_RIVER},
    {"33", "huyen van giang", R_BANANA | R_RIVER | R_INDUSTRY},
    {"33", "huyen van lam", R_INDUSTRY},
    {"33", "huyen yen my", R_INDUSTRY},
    {"33", "thi xa my hao", R_INDUSTRY | R_CITY},
    {"34", "thanh pho thai binh", R_CITY | R_INDUSTRY},
    {"34", "huyen hung ha", R_RIVER},
    {"34", "huyen vu thu", R_RIVER},
    {"34", "huyen kien xuong", R_RIVER},
    {"34", "huyen tien hai", R_RIVER | R_COAST},
    {"34", "huyen thai thuy", R_COAST},
};

/* ---- the units ------------------------------------------------------------------------ */

enum { K_XA, K_THI_TRAN, K_PHUONG };

typedef struct ocomm { /* a pre-2025 commune of old province 33 or 34 */
    char code[8];
    bool hy;                  /* old Hưng Yên (33), else old Thái Bình (34) */
    int kind;                 /* K_* */
    unsigned roles;           /* R_*: its district's, R_RIVER only when the commune itself is riverside */
    int64_t k;                /* conversion rows of its code (at least 1) */
    double area;              /* km² */
    double size;              /* population weight */
    int64_t v[N_CIND][N_OLD]; /* values in units of 10^-dp */
} ocomm_t;

typedef struct ncomm { /* a 2025 commune of province 33 */
    char code[8];
    size_t first, n; /* its conversion parts */
    int64_t v[N_CIND];
} ncomm_t;

typedef struct cpart { /* one row of unit_conversion */
    size_t old;        /* index in gen_t.o, or SIZE_MAX for an old commune outside provinces 33 and 34 */
    double w;          /* 1 (whole) or 1/k (partial) */
} cpart_t;

typedef struct gen {
    ocomm_t *o;
    size_t no, ocap;
    ncomm_t *n;
    size_t nn, ncap;
    cpart_t *c;
    size_t nc, ccap;
    int64_t pold[N_PIND][2][N_OLD]; /* [indicator][0: old 33, 1: old 34][year] */
    int64_t pnew[N_PIND];           /* new 33, 2025 */
} gen_t;

static int cmp_code(const void *key, const void *elem)
{
    return strcmp(key, ((const ocomm_t *)elem)->code);
}

static size_t find_old(const gen_t *g, const char *code)
{
    const ocomm_t *o = bsearch(code, g->o, g->no, sizeof *g->o, cmp_code);
    return o ? (size_t)(o - g->o) : SIZE_MAX;
}

static void copy_code(char dst[8], const char *src)
{
    snprintf(dst, 8, "%s", src ? src : "");
}

static int count_provinces(kho_store_t *s, int64_t *n, kho_err_t *err)
{
    return kho_store_query_int(s,
                               "SELECT count(*) FROM units WHERE level = 'province' AND"
                               " ((era = 'old' AND code IN ('33','34')) OR (era = 'current' AND code = '33'))",
                               n, err);
}

static int load_units(kho_store_t *s, gen_t *g, kho_err_t *err)
{
    int64_t provinces = 0;
    int rc = count_provinces(s, &provinces, err);
    if (rc != 0)
        return rc;

    /* district roles, by folded name */
    struct {
        char code[8];
        unsigned roles;
    } dist[64];
    size_t nd = 0;
    kho_stmt_t *st = NULL;
    rc = kho_store_prepare(s,
                           "SELECT code, province_code, name_fold FROM units"
                           " WHERE era = 'old' AND level = 'district' AND province_code IN ('33','34') ORDER BY code",
                           &st, err);
    if (rc != 0)
        return rc;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        const char *prov = kho_stmt_col_text(st, 1), *fold = kho_stmt_col_text(st, 2);
        for (size_t i = 0; i < sizeof DISTRICTS / sizeof DISTRICTS[0] && nd < sizeof dist / sizeof dist[0]; i++)
            if (prov && fold && strcmp(prov, DISTRICTS[i].province) == 0 && strcmp(fold, DISTRICTS[i].name_fold) == 0) {
                copy_code(dist[nd].code, kho_stmt_col_text(st, 0));
                dist[nd++].roles = DISTRICTS[i].roles;
                break;
            }
    }
    kho_stmt_free(st);
    if (rc < 0)
        return rc;

    /* old communes */
    rc = kho_store_prepare(s,
                           "SELECT u.code, u.province_code, u.district_code, u.type,"
                           " (SELECT count(*) FROM unit_conversion c WHERE c.old_code = u.code)"
                           " FROM units u WHERE u.era = 'old' AND u.level = 'commune'"
                           " AND u.province_code IN ('33','34') ORDER BY u.code",
                           &st, err);
    if (rc != 0)
        return rc;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        g->o = kho_xgrow(g->o, &g->ocap, g->no + 1, sizeof *g->o);
        ocomm_t *o = &g->o[g->no++];
        memset(o, 0, sizeof *o);
        copy_code(o->code, kho_stmt_col_text(st, 0));
        const char *prov = kho_stmt_col_text(st, 1), *district = kho_stmt_col_text(st, 2);
        const char *type = kho_stmt_col_text(st, 3);
        o->hy = prov && strcmp(prov, "33") == 0;
        o->kind = !type                           ? K_XA
                  : strcmp(type, "phường") == 0   ? K_PHUONG
                  : strcmp(type, "thị trấn") == 0 ? K_THI_TRAN
                                                  : K_XA;
        o->k = kho_stmt_col_int(st, 4);
        if (o->k < 1)
            o->k = 1;
        for (size_t i = 0; district && i < nd; i++)
            if (strcmp(dist[i].code, district) == 0)
                o->roles = dist[i].roles;
    }
    kho_stmt_free(st);
    if (rc < 0)
        return rc;

    /* new communes */
    rc = kho_store_prepare(s,
                           "SELECT code FROM units WHERE era = 'current' AND level = 'commune' AND province_code = '33'"
                           " ORDER BY code",
                           &st, err);
    if (rc != 0)
        return rc;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        g->n = kho_xgrow(g->n, &g->ncap, g->nn + 1, sizeof *g->n);
        ncomm_t *n = &g->n[g->nn++];
        memset(n, 0, sizeof *n);
        copy_code(n->code, kho_stmt_col_text(st, 0));
    }
    kho_stmt_free(st);
    if (rc < 0)
        return rc;

    if (provinces != 3 || g->no == 0 || g->nn == 0)
        return kho_err_setk(err, KHO_ENOTFOUND, "units_not_loaded",
                            "the administrative units of Hưng Yên (province 33, old provinces 33 and 34) are not "
                            "loaded: run kho init to load them");

    /* conversion rows into the new communes, grouped by new code (both lists are in code order) */
    rc = kho_store_prepare(s,
                           "SELECT c.new_code, c.old_code, c.relation,"
                           " (SELECT count(*) FROM unit_conversion k WHERE k.old_code = c.old_code)"
                           " FROM unit_conversion c WHERE c.new_code IN (SELECT code FROM units"
                           " WHERE era = 'current' AND level = 'commune' AND province_code = '33')"
                           " ORDER BY c.new_code, c.old_code",
                           &st, err);
    if (rc != 0)
        return rc;
    size_t j = 0;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        const char *nc = kho_stmt_col_text(st, 0);
        while (j < g->nn && strcmp(g->n[j].code, nc) < 0)
            j++;
        if (j == g->nn || strcmp(g->n[j].code, nc) != 0)
            continue; /* cannot happen: the query keeps only listed codes */
        if (g->n[j].n == 0)
            g->n[j].first = g->nc;
        g->n[j].n++;
        g->c = kho_xgrow(g->c, &g->ccap, g->nc + 1, sizeof *g->c);
        cpart_t *p = &g->c[g->nc++];
        p->old = find_old(g, kho_stmt_col_text(st, 1));
        const char *rel = kho_stmt_col_text(st, 2);
        int64_t k = kho_stmt_col_int(st, 3);
        p->w = rel && strcmp(rel, "partial") == 0 ? 1.0 / (double)(k > 0 ? k : 1) : 1.0;
    }
    kho_stmt_free(st);
    return rc < 0 ? rc : 0;
}

/* ---- deterministic draws ------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* FNV-1a of "code/tag/year": the seed of one draw. */
static uint64_t seed_of(const char *code, const char *tag, int year)
{
    uint64_t h = 0xcbf29ce484222325u;
    char buf[96];
    int n = snprintf(buf, sizeof buf, "%s/%s/%d", code, tag, year);
    for (int i = 0; i < n && i < (int)sizeof buf - 1; i++) {
        h ^= (unsigned char)buf[i];
        h *= 0x100000001b3u;
    }
    return h;
}

static double next_unit(uint64_t *state) /* [0, 1) */
{
    return (double)(splitmix64(state) >> 11) * 0x1.0p-53;
}

/* Uniform in [-1, 1). */
static double sym(const char *code, const char *tag, int year)
{
    uint64_t st = seed_of(code, tag, year);
    return 2.0 * next_unit(&st) - 1.0;
}

static double unif(const char *code, const char *tag, int year)
{
    uint64_t st = seed_of(code, tag, year);
    return next_unit(&st);
}

/* Standard normal (Box–Muller), clipped to ±3. */
static double gauss(const char *code, const char *tag, int year)
{
    uint64_t st = seed_of(code, tag, year);
    double u1 = 1.0 - next_unit(&st), u2 = next_unit(&st);
    double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    return z > 3 ? 3 : z < -3 ? -3 : z;
}

/* ---- commune series ------------------------------------------------------------------- */

/* Value of new commune j from the 2024 values of old communes (kho's conversion rule), in the indicator's unit. */
static double converted(const gen_t *g, size_t j, int ind)
{
    double sum = 0;
    const ncomm_t *n = &g->n[j];
    for (size_t p = n->first; p < n->first + n->n; p++)
        if (g->c[p].old != SIZE_MAX)
            sum += g->c[p].w * (double)g->o[g->c[p].old].v[ind][T_2024];
    return sum / SCALE[CIND[ind].dp];
}

static int64_t quantise(double v, int ind)
{
    return llround(v * SCALE[CIND[ind].dp]);
}

/* x[i * N_OLD + t] (unscaled) -> the old communes' values, scaled so that 2024 sums to target. */
static void scale_old(gen_t *g, int ind, const double *x, double target)
{
    double sum = 0;
    for (size_t i = 0; i < g->no; i++)
        sum += x[i * N_OLD + T_2024];
    double k = sum > 0 ? target / sum : 0;
    for (size_t i = 0; i < g->no; i++)
        for (int t = 0; t < N_OLD; t++)
            g->o[i].v[ind][t] = quantise(x[i * N_OLD + t] * k, ind);
}

/* 2025: each new commune's converted 2024 value, grown by `growth`, with relative noise of half-range `noise`. */
static void grow_new(gen_t *g, int ind, double growth, double noise)
{
    for (size_t j = 0; j < g->nn; j++)
        g->n[j].v[ind] =
            quantise(converted(g, j, ind) * growth * (1 + noise * sym(g->n[j].code, CIND[ind].code, Y_NEW)), ind);
}

typedef struct spec {
    int ind;
    double rate;   /* province growth a year */
    double spread; /* half-range of its variation from year to year (weather, markets) */
    double dev;    /* half-range of a commune's own deviation from that growth */
    double noise;  /* half-range of the relative noise of one value */
    double covid;  /* growth lost in 2020 and 2021 */
    double anchor; /* province total in 2025 */
} spec_t;

/* Province-wide level of each year relative to 2024 (index N_OLD: 2025). */
static void trend(const spec_t *sp, double T[N_OLD + 1])
{
    double r[N_OLD + 1];
    for (int t = 1; t <= N_OLD; t++) {
        int y = Y_FIRST + t;
        r[t] = sp->rate + sp->spread * sym("33", CIND[sp->ind].code, y);
        if (y == 2020 || y == 2021)
            r[t] -= sp->covid;
    }
    T[T_2024] = 1;
    for (int t = T_2024; t > 0; t--)
        T[t - 1] = T[t] / (1 + r[t]);
    T[N_OLD] = 1 + r[N_OLD];
}

static double planted(const ocomm_t *o, int ind, int year)
{
    if (ind == SO_DN && year >= 2022)
        for (size_t i = 0; i < sizeof DECLINING_ENTERPRISES / sizeof DECLINING_ENTERPRISES[0]; i++)
            if (strcmp(o->code, DECLINING_ENTERPRISES[i]) == 0)
                return pow(0.85, year - 2021);
    if (ind == LUA && year == RICE_OUTLIER_YEAR && strcmp(o->code, RICE_OUTLIER) == 0)
        return 10;
    return 1;
}

/* An additive series from per-commune weights w[i]: trend × own growth × noise,
 * scaled to the anchor, continued into 2025. Returns the 2025 growth. */
static double additive(gen_t *g, const spec_t *sp, const double *w, double *x)
{
    double T[N_OLD + 1];
    trend(sp, T);
    const char *tag = CIND[sp->ind].code;
    char gtag[48];
    snprintf(gtag, sizeof gtag, "%s/tang", tag);
    for (size_t i = 0; i < g->no; i++) {
        const ocomm_t *o = &g->o[i];
        double dev = sp->dev * sym(o->code, gtag, 0);
        for (int t = 0; t < N_OLD; t++)
            x[i * N_OLD + t] = w[i] * T[t] * pow(1 + dev, t - T_2024) *
                               (1 + sp->noise * sym(o->code, tag, Y_FIRST + t)) * planted(o, sp->ind, Y_FIRST + t);
    }
    scale_old(g, sp->ind, x, sp->anchor / T[N_OLD]);
    grow_new(g, sp->ind, T[N_OLD], sp->noise);
    return T[N_OLD];
}

static double kind_factor(const ocomm_t *o, double xa, double thi_tran, double phuong)
{
    return o->kind == K_PHUONG ? phuong : o->kind == K_THI_TRAN ? thi_tran : xa;
}

/* Areas in hundredths of km² summing to exactly 2,514.81 km², each a multiple of
 * k hundredths (k: conversion rows of the code) so that converted areas are exact. */
static void gen_area(gen_t *g)
{
    size_t no = g->no;
    double *raw = kho_xmalloc(no * sizeof *raw), sum = 0;
    int64_t *q = kho_xmalloc(no * sizeof *q), total = 0;
    for (size_t i = 0; i < no; i++) {
        const ocomm_t *o = &g->o[i];
        raw[i] =
            exp(0.4 * gauss(o->code, "dien_tich/w", 0)) * kind_factor(o, 1, 0.8, 0.45) * (o->roles & R_COAST ? 1.3 : 1);
        sum += raw[i];
    }
    for (size_t i = 0; i < no; i++) {
        raw[i] = raw[i] / sum * AREA_HUNDREDTHS;
        int64_t k = g->o[i].k;
        q[i] = k * llround(raw[i] / (double)k);
        if (q[i] < k)
            q[i] = k;
        total += q[i];
    }
    /* hand out the difference one step (k hundredths) at a time, to the largest rounding errors first;
     * the difference is at most one step per commune, so this ends after a few hundred steps */
    int64_t diff = AREA_HUNDREDTHS - total;
    while (diff != 0) {
        size_t best = SIZE_MAX;
        double best_err = 0;
        for (size_t i = 0; i < no; i++) {
            int64_t k = g->o[i].k;
            if (k > (diff > 0 ? diff : -diff) || (diff < 0 && q[i] - k < k))
                continue;
            double e = diff > 0 ? raw[i] - (double)q[i] : (double)q[i] - raw[i];
            if (best == SIZE_MAX || e > best_err) {
                best = i;
                best_err = e;
            }
        }
        if (best == SIZE_MAX)
            break; /* no step fits: keep the (tiny) difference */
        int64_t step = diff > 0 ? g->o[best].k : -g->o[best].k;
        q[best] += step;
        diff -= step;
    }
    for (size_t i = 0; i < no; i++) {
        g->o[i].area = (double)q[i] / 100;
        for (int t = 0; t < N_OLD; t++)
            g->o[i].v[DIEN_TICH][t] = q[i];
    }
    for (size_t j = 0; j < g->nn; j++)
        g->n[j].v[DIEN_TICH] = quantise(converted(g, j, DIEN_TICH), DIEN_TICH);
    free(raw);
    free(q);
}

static double logit(double p)
{
    return log(p / (1 - p));
}

static double logistic(double z)
{
    return 1 / (1 + exp(-z));
}

/* Online share of applications in year index t (0: 2015 .. 10: 2025), before commune differences. */
static double online_logit(int t)
{
    return logit(0.05) + (logit(0.80) - logit(0.05)) * t / N_OLD;
}

/* Poverty rate in year index t: 5 % in 2015 to 1 % in 2025. */
static double poverty_rate(int t)
{
    return 0.05 * pow(0.2, (double)t / N_OLD);
}

static void gen_communes(gen_t *g)
{
    size_t no = g->no;
    double *w = kho_xmalloc(no * sizeof *w);
    double *x = kho_xmalloc(no * N_OLD * sizeof *x);
    double mean_area = (double)AREA_HUNDREDTHS / 100 / (double)no;

    /* riverside communes of the districts on the Red River */
    for (size_t i = 0; i < no; i++)
        if ((g->o[i].roles & R_RIVER) && unif(g->o[i].code, "ven_song", 0) >= 0.4)
            g->o[i].roles &= ~(unsigned)R_RIVER;

    gen_area(g);

    /* population */
    for (size_t i = 0; i < no; i++) {
        ocomm_t *o = &g->o[i];
        o->size = exp(0.3 * gauss(o->code, "quy_mo", 0)) * (o->hy ? 1.25 : 1) * kind_factor(o, 1, 1.2, 1.3) *
                  sqrt(o->area / mean_area);
        w[i] = o->size;
    }
    spec_t pop = {.ind = DAN_SO, .rate = 0.008, .spread = 0.001, .dev = 0.004, .noise = 0.002, .anchor = POP_2025};
    double pop_growth = additive(g, &pop, w, x);

    /* households: population over a household size that shrinks 0.6 % a year */
    for (size_t i = 0; i < no; i++) {
        const ocomm_t *o = &g->o[i];
        double hs = 3.25 * (1 + 0.05 * gauss(o->code, "quy_mo_ho", 0)) * kind_factor(o, 1, 0.97, 0.94);
        for (int t = 0; t < N_OLD; t++)
            x[i * N_OLD + t] = (double)o->v[DAN_SO][t] / (hs * pow(0.994, t - T_2024)) *
                               (1 + 0.002 * sym(o->code, CIND[TONG_HO].code, Y_FIRST + t));
    }
    double hh_growth = pop_growth / 0.994;
    scale_old(g, TONG_HO, x, HOUSEHOLDS_2025 / hh_growth);
    grow_new(g, TONG_HO, hh_growth, 0.002);

    /* poor households: a falling national rate times a commune factor (weighted mean 1 in 2024) */
    double msum = 0, hsum = 0;
    for (size_t i = 0; i < no; i++) {
        const ocomm_t *o = &g->o[i];
        w[i] = exp(0.35 * gauss(o->code, "ngheo/w", 0)) * kind_factor(o, 1, 0.7, 0.45) * (o->roles & R_COAST ? 1.4 : 1);
        msum += w[i] * (double)o->v[TONG_HO][T_2024];
        hsum += (double)o->v[TONG_HO][T_2024];
    }
    for (size_t i = 0; i < no; i++) {
        ocomm_t *o = &g->o[i];
        double m = w[i] * hsum / msum, dev = 0.02 * sym(o->code, "so_ho_ngheo/tang", 0);
        for (int t = 0; t < N_OLD; t++) {
            int y = Y_FIRST + t;
            double rate = poverty_rate(t) * m * pow(1 + dev, t - T_2024) * (1 + 0.03 * sym(o->code, "so_ho_ngheo", y));
            if (y == 2024 && strcmp(o->code, POVERTY_RISE) == 0)
                rate *= 2.3;
            if (rate > 0.6)
                rate = 0.6;
            o->v[HO_NGHEO][t] = llround(rate * (double)o->v[TONG_HO][t]);
        }
    }
    for (size_t j = 0; j < g->nn; j++) {
        ncomm_t *n = &g->n[j];
        double hh = converted(g, j, TONG_HO), poor = converted(g, j, HO_NGHEO);
        double rate = hh > 0 ? poor / hh * poverty_rate(N_OLD) / poverty_rate(T_2024) : 0;
        rate *= 1 + 0.03 * sym(n->code, "so_ho_ngheo", Y_NEW);
        n->v[HO_NGHEO] = llround(rate * (double)n->v[TONG_HO]);
    }

    /* enterprises: towns, wards and industrial districts */
    for (size_t i = 0; i < no; i++) {
        const ocomm_t *o = &g->o[i];
        w[i] = o->size * kind_factor(o, 1, 2, 3) * (o->roles & R_INDUSTRY ? 2.5 : 1) * (o->roles & R_CITY ? 1.5 : 1) *
               exp(0.45 * gauss(o->code, "so_doanh_nghiep/w", 0));
    }
    spec_t dn = {.ind = SO_DN,
                 .rate = 0.07,
                 .spread = 0.012,
                 .dev = 0.015,
                 .noise = 0.008,
                 .covid = 0.02,
                 .anchor = ENTERPRISES_2025};
    (void)additive(g, &dn, w, x);

    /* longan: around Phố Hiến; little or none elsewhere */
    for (size_t i = 0; i < no; i++) {
        const ocomm_t *o = &g->o[i];
        double u = unif(o->code, "san_luong_nhan/co", 0), z = exp(gauss(o->code, "san_luong_nhan/w", 0));
        double f = o->roles & R_PHO_HIEN ? 25 * sqrt(z) : o->hy ? (u < 0.45 ? 0 : z) : (u < 0.65 ? 0 : 0.05 * z);
        w[i] = o->area * f * kind_factor(o, 1, 0.8, 0.5);
    }
    spec_t nhan = {.ind = NHAN, .rate = 0.015, .spread = 0.08, .dev = 0.01, .noise = 0.06, .anchor = LONGAN_2025};
    (void)additive(g, &nhan, w, x);

    /* banana: Khoái Châu, Văn Giang, Kim Động and the riverside communes */
    for (size_t i = 0; i < no; i++) {
        const ocomm_t *o = &g->o[i];
        double f = o->roles & R_BANANA ? 8 : o->roles & R_RIVER ? 3 : 0.4;
        w[i] = o->area * f * exp(0.4 * gauss(o->code, "san_luong_chuoi/w", 0)) * kind_factor(o, 1, 0.7, 0.3);
    }
    spec_t chuoi = {.ind = CHUOI, .rate = 0.025, .spread = 0.04, .dev = 0.01, .noise = 0.04, .anchor = BANANA_2025};
    (void)additive(g, &chuoi, w, x);

    /* chickens: everywhere but in the wards */
    for (size_t i = 0; i < no; i++) {
        const ocomm_t *o = &g->o[i];
        w[i] = sqrt(o->area * o->size) * exp(0.3 * gauss(o->code, "dan_ga/w", 0)) * kind_factor(o, 1, 0.5, 0.15);
    }
    spec_t ga = {.ind = GA, .rate = 0.03, .spread = 0.03, .dev = 0.01, .noise = 0.03, .anchor = CHICKENS_2025};
    (void)additive(g, &ga, w, x);

    /* rice: mostly old Thái Bình; less where orchards and factories took the fields */
    for (size_t i = 0; i < no; i++) {
        const ocomm_t *o = &g->o[i];
        w[i] = o->area * (o->hy ? 1 : 1.8) * kind_factor(o, 1, 0.5, 0.1) *
               (o->roles & (R_PHO_HIEN | R_BANANA | R_INDUSTRY) ? 0.6 : 1) *
               exp(0.2 * gauss(o->code, "san_luong_lua/w", 0));
    }
    spec_t lua = {.ind = LUA, .rate = -0.0075, .spread = 0.025, .dev = 0.004, .noise = 0.03, .anchor = RICE_2025};
    (void)additive(g, &lua, w, x);

    /* applications: per person, more in towns and industrial districts */
    for (size_t i = 0; i < no; i++) {
        const ocomm_t *o = &g->o[i];
        double app = exp(0.2 * gauss(o->code, "tong_ho_so/w", 0)) * kind_factor(o, 1, 1.3, 1.4) *
                     (o->roles & R_INDUSTRY ? 1.2 : 1);
        w[i] = (double)o->v[DAN_SO][T_2024] * app;
    }
    spec_t hs = {.ind = TONG_HS, .rate = 0.05, .spread = 0.02, .dev = 0.01, .noise = 0.02, .anchor = APPLICATIONS_2025};
    (void)additive(g, &hs, w, x);

    /* applications filed online: a logistic rise, shifted per commune */
    for (size_t i = 0; i < no; i++) {
        ocomm_t *o = &g->o[i];
        double shift = 0.3 * gauss(o->code, "ho_so_truc_tuyen/w", 0) + (o->kind != K_XA ? 0.2 : 0);
        for (int t = 0; t < N_OLD; t++) {
            double share = logistic(online_logit(t) + shift + 0.05 * sym(o->code, "ho_so_truc_tuyen", Y_FIRST + t));
            o->v[HS_TRUC_TUYEN][t] = llround(share * (double)o->v[TONG_HS][t]);
        }
    }
    for (size_t j = 0; j < g->nn; j++) {
        ncomm_t *n = &g->n[j];
        double all = converted(g, j, TONG_HS), online = converted(g, j, HS_TRUC_TUYEN);
        double share = all > 0 ? online / all : 0.5;
        share = share < 0.001 ? 0.001 : share > 0.999 ? 0.999 : share;
        share = logistic(logit(share) + online_logit(N_OLD) - online_logit(T_2024) +
                         0.05 * sym(n->code, "ho_so_truc_tuyen", Y_NEW));
        n->v[HS_TRUC_TUYEN] = llround(share * (double)n->v[TONG_HS]);
    }
    free(w);
    free(x);
}

/* ---- province series ------------------------------------------------------------------ */

/* Totals of the merged province (old 33 + old 34) from 2015 to 2025, back from the 2025 level. */
static void province_total(const char *tag, double level2025, double rate, double spread, int dip_year, double dip,
                           double total[N_OLD + 1])
{
    total[N_OLD] = level2025 * (1 + 0.002 * sym("33", tag, Y_NEW * 10));
    for (int t = N_OLD; t > 0; t--) {
        int y = Y_FIRST + t;
        double r = rate + spread * sym("33", tag, y);
        if (y == dip_year)
            r = dip;
        total[t - 1] = total[t] / (1 + r);
    }
}

static void gen_province(gen_t *g)
{
    double grdp[N_OLD + 1], hy_grdp[N_OLD + 1];
    province_total("grdp", GRDP_2025, 0.08, 0.012, 2020, 0.035, grdp);
    for (int t = 0; t <= N_OLD; t++) {
        double share = 0.52 + 0.0035 * t + 0.004 * sym("33", "grdp/hy", Y_FIRST + t);
        hy_grdp[t] = grdp[t] * share;
        if (t < N_OLD) {
            g->pold[GRDP][0][t] = llround(hy_grdp[t] * 10);
            g->pold[GRDP][1][t] = llround(grdp[t] * 10) - g->pold[GRDP][0][t];
        }
    }
    g->pnew[GRDP] = llround(grdp[N_OLD] * 10);

    /* digital economy: 8 % of GRDP in 2015, 19 % in 2025; higher in old Hưng Yên */
    for (int t = 0; t <= N_OLD; t++) {
        double d = 0.08 + 0.011 * t + 0.003 * sym("33", "gia_tri_kinh_te_so", Y_FIRST + t);
        double d_hy = d + 0.02 + 0.003 * sym("33", "gia_tri_kinh_te_so/hy", Y_FIRST + t);
        if (t < N_OLD) {
            g->pold[KTS][0][t] = llround(hy_grdp[t] * d_hy * 10);
            g->pold[KTS][1][t] = llround(grdp[t] * d * 10) - g->pold[KTS][0][t];
        } else {
            g->pnew[KTS] = llround(grdp[t] * d * 10);
        }
    }

    /* budget revenue: +9 %/yr, flat in 2020 */
    double budget[N_OLD + 1];
    province_total("thu_ngan_sach", BUDGET_2025, 0.09, 0.015, 2020, 0.02, budget);
    for (int t = 0; t < N_OLD; t++) {
        double share = 0.62 + 0.01 * sym("33", "thu_ngan_sach/hy", Y_FIRST + t);
        g->pold[NSNN][0][t] = llround(budget[t] * share * 10);
        g->pold[NSNN][1][t] = llround(budget[t] * 10) - g->pold[NSNN][0][t];
    }
    g->pnew[NSNN] = llround(budget[N_OLD] * 10);
}

/* ---- output --------------------------------------------------------------------------- */

typedef struct row {
    const char *ind, *code;
    int year, dp;
    int64_t v;
} row_t;

static int cmp_row(const void *pa, const void *pb)
{
    const row_t *a = pa, *b = pb;
    int c = strcmp(a->ind, b->ind);
    if (c == 0)
        c = strcmp(a->code, b->code);
    if (c == 0)
        c = (a->year > b->year) - (a->year < b->year);
    return c;
}

/* v in units of 10^-dp, at most 2 decimals, trailing zeros dropped: 1234.50 -> "1234.5", 7.00 -> "7". */
static void format_value(int64_t v, int dp, char *buf, size_t size)
{
    const char *sign = v < 0 ? "-" : "";
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t p = dp == 2 ? 100 : dp == 1 ? 10 : 1;
    uint64_t whole = a / p, frac = a % p;
    if (frac == 0) {
        snprintf(buf, size, "%s%llu", sign, (unsigned long long)whole);
        return;
    }
    int digits = dp;
    if (dp == 2 && frac % 10 == 0) {
        frac /= 10;
        digits = 1;
    }
    snprintf(buf, size, "%s%llu.%0*llu", sign, (unsigned long long)whole, digits, (unsigned long long)frac);
}

static const char *const OLD_PROVINCES[2] = {"33", "34"};

static int write_rows(const gen_t *g, FILE *out, kho_err_t *err)
{
    size_t nrows = N_CIND * (g->no * N_OLD + g->nn) + N_PIND * (2 * N_OLD + 1), k = 0;
    row_t *rows = kho_xmalloc(nrows * sizeof *rows);
    for (int ind = 0; ind < N_CIND; ind++) {
        for (size_t i = 0; i < g->no; i++)
            for (int t = 0; t < N_OLD; t++)
                rows[k++] = (row_t){CIND[ind].code, g->o[i].code, Y_FIRST + t, CIND[ind].dp, g->o[i].v[ind][t]};
        for (size_t j = 0; j < g->nn; j++)
            rows[k++] = (row_t){CIND[ind].code, g->n[j].code, Y_NEW, CIND[ind].dp, g->n[j].v[ind]};
    }
    for (int ind = 0; ind < N_PIND; ind++) {
        for (int p = 0; p < 2; p++)
            for (int t = 0; t < N_OLD; t++)
                rows[k++] = (row_t){PIND[ind].code, OLD_PROVINCES[p], Y_FIRST + t, PIND[ind].dp, g->pold[ind][p][t]};
        rows[k++] = (row_t){PIND[ind].code, "33", Y_NEW, PIND[ind].dp, g->pnew[ind]};
    }
    qsort(rows, k, sizeof *rows, cmp_row);

    errno = 0;
    bool ok = fputs("indicator,unit_code,period,value\n", out) >= 0;
    for (size_t r = 0; ok && r < k; r++) {
        char val[32];
        format_value(rows[r].v, rows[r].dp, val, sizeof val);
        ok = fprintf(out, "%s,%s,%d,%s\n", rows[r].ind, rows[r].code, rows[r].year, val) > 0;
    }
    free(rows);
    if (fflush(out) != 0 || ferror(out))
        ok = false;
    if (!ok)
        return kho_err_set(err, KHO_EIO, "cannot write the indicator reports: %s",
                           errno ? strerror(errno) : "write error");
    return 0;
}

int kho_indgen_write(kho_store_t *s, FILE *out, kho_err_t *err)
{
    gen_t g;
    memset(&g, 0, sizeof g);
    /* one read snapshot for the unit queries, unless the caller has a transaction open (kept as it is) */
    bool snapshot = !kho_store_in_transaction(s);
    if (snapshot)
        kho_store_snapshot_begin(s);
    int rc = load_units(s, &g, err);
    if (snapshot)
        kho_store_snapshot_end(s);
    if (rc == 0) {
        gen_communes(&g);
        gen_province(&g);
        rc = write_rows(&g, out, err);
    }
    free(g.o);
    free(g.n);
    free(g.c);
    return rc;
}
