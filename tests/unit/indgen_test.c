/* Unit tests of apps/indicators/indgen against the real unit lists in data/units:
 * the CSV's form, which units each period reports against, determinism, the 2025
 * anchors, the trends, continuity through kho's old-to-new conversion rule, and
 * the planted features listed in indgen.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/indicators/indgen.h"
#include "core/log.h"
#include "core/strmap.h"
#include "kho_test.h"
#include "store/schema.h"
#include "store/store.h"
#include "warehouse/units.h"

#define N_OLD_COMMUNES 381
#define N_NEW_COMMUNES 104
#define N_ROWS (11 * (N_OLD_COMMUNES * 10 + N_NEW_COMMUNES) + 3 * (2 * 10 + 1))

static const char *const COMMUNE_INDICATORS[] = {
    "dan_so",        "dien_tich",   "so_doanh_nghiep", "san_luong_nhan",   "san_luong_chuoi", "dan_ga",
    "san_luong_lua", "so_ho_ngheo", "tong_so_ho",      "ho_so_truc_tuyen", "tong_ho_so"};
static const char *const INTEGER_INDICATORS[] = {"dan_so",     "so_doanh_nghiep",  "so_ho_ngheo",
                                                 "tong_so_ho", "ho_so_truc_tuyen", "tong_ho_so"};
static const char *const PROVINCE_INDICATORS[] = {"grdp", "gia_tri_kinh_te_so", "thu_ngan_sach"};
#define COUNT(a) (sizeof(a) / sizeof(a)[0])

typedef struct row {
    const char *ind, *code, *text; /* into TEXT */
    int period;
    double v;
} row_t;

static kho_store_t *W;
static char DIR_[128];
static char UNITS[PATH_MAX];
static char *CSV; /* the generated reports */
static size_t CSV_LEN;
static char *TEXT; /* a copy of CSV cut into fields */
static row_t *ROWS;
static size_t NROWS;
static char OLD[N_OLD_COMMUNES + 16][8], OLD_PROV[N_OLD_COMMUNES + 16][3];
static bool PHO_HIEN[N_OLD_COMMUNES + 16]; /* in the old districts around Phố Hiến */
static size_t NOLD;
static char NEW[N_NEW_COMMUNES + 16][8];
static size_t NNEW;

static int generate(kho_store_t *s, char **out, size_t *len, kho_err_t *err)
{
    FILE *m = open_memstream(out, len);
    if (!m)
        return -1;
    int rc = kho_indgen_write(s, m, err);
    fclose(m);
    return rc;
}

static int parse(void)
{
    TEXT = malloc(CSV_LEN + 1);
    ROWS = calloc(N_ROWS + 16, sizeof *ROWS);
    if (!TEXT || !ROWS)
        return -1;
    memcpy(TEXT, CSV, CSV_LEN + 1);
    char *p = strchr(TEXT, '\n');
    if (!p)
        return -1;
    p++;
    while (*p) {
        char *end = strchr(p, '\n');
        if (!end || NROWS == N_ROWS + 16)
            return -1;
        *end = '\0';
        char *f[4];
        f[0] = p;
        for (int i = 1; i < 4; i++) {
            char *c = strchr(f[i - 1], ',');
            if (!c)
                return -1;
            *c = '\0';
            f[i] = c + 1;
        }
        ROWS[NROWS++] = (row_t){f[0], f[1], f[3], (int)strtol(f[2], NULL, 10), strtod(f[3], NULL)};
        p = end + 1;
    }
    return 0;
}

static int load_lists(void)
{
    kho_err_t err;
    kho_stmt_t *st = NULL;
    if (kho_store_prepare(W,
                          "SELECT u.code, u.province_code, u.district_code IN (SELECT d.code FROM units d"
                          " WHERE d.era = 'old' AND d.level = 'district' AND d.province_code = '33' AND d.name_fold IN"
                          " ('thanh pho hung yen', 'huyen kim dong', 'huyen tien lu', 'huyen khoai chau'))"
                          " FROM units u WHERE u.era = 'old' AND u.level = 'commune'"
                          " AND u.province_code IN ('33','34') ORDER BY u.code",
                          &st, &err) != 0)
        return -1;
    int rc;
    while ((rc = kho_stmt_step(st, &err)) == KHO_STEP_ROW && NOLD < COUNT(OLD)) {
        snprintf(OLD[NOLD], sizeof OLD[0], "%s", kho_stmt_col_text(st, 0));
        snprintf(OLD_PROV[NOLD], sizeof OLD_PROV[0], "%s", kho_stmt_col_text(st, 1));
        PHO_HIEN[NOLD++] = kho_stmt_col_int(st, 2) != 0;
    }
    kho_stmt_free(st);
    if (rc < 0 || kho_store_prepare(W,
                                    "SELECT code FROM units WHERE era = 'current' AND level = 'commune'"
                                    " AND province_code = '33' ORDER BY code",
                                    &st, &err) != 0)
        return -1;
    while ((rc = kho_stmt_step(st, &err)) == KHO_STEP_ROW && NNEW < COUNT(NEW))
        snprintf(NEW[NNEW++], sizeof NEW[0], "%s", kho_stmt_col_text(st, 0));
    kho_stmt_free(st);
    return rc < 0 ? -1 : 0;
}

static int group_setup(void **state)
{
    (void)state;
    kho_log_set_level(KHO_LOG_WARN);
    if (!kt_find_units(UNITS, sizeof UNITS)) {
        fprintf(stderr, "cannot find data/units (set KHO_UNITS_DIR)\n");
        return -1;
    }
    snprintf(DIR_, sizeof DIR_, "/tmp/kho-indgen-test-XXXXXX");
    if (!mkdtemp(DIR_))
        return -1;
    char path[256];
    snprintf(path, sizeof path, "%s/kho.db", DIR_);
    kho_err_t err = {0};
    kho_units_summary_t sum;
    if (kho_store_open(path, KHO_STORE_CREATE, NULL, &W, &err) != 0 || kho_schema_migrate(W, &err) != 0 ||
        kho_units_load(W, UNITS, false, &sum, &err) != 0 || generate(W, &CSV, &CSV_LEN, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    if (parse() != 0 || load_lists() != 0) {
        fprintf(stderr, "setup: cannot parse the reports or list the units\n");
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    kho_store_close(W);
    nftw(DIR_, kt_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(CSV);
    free(TEXT);
    free(ROWS);
    return 0;
}

/* ---- lookups ---------------------------------------------------------------------------- */

static int cmp_row(const void *pa, const void *pb)
{
    const row_t *a = pa, *b = pb;
    int c = strcmp(a->ind, b->ind);
    if (c == 0)
        c = strcmp(a->code, b->code);
    if (c == 0)
        c = (a->period > b->period) - (a->period < b->period);
    return c;
}

static const row_t *find(const char *ind, const char *code, int period)
{
    row_t key = {.ind = ind, .code = code, .period = period};
    return bsearch(&key, ROWS, NROWS, sizeof *ROWS, cmp_row);
}

static double val(const char *ind, const char *code, int period)
{
    const row_t *r = find(ind, code, period);
    if (!r)
        fail_msg("no row %s,%s,%d", ind, code, period);
    return r->v;
}

/* Province total of a commune indicator: old communes before 2025, new ones in 2025. */
static double total(const char *ind, int period)
{
    double sum = 0;
    if (period < 2025)
        for (size_t i = 0; i < NOLD; i++)
            sum += val(ind, OLD[i], period);
    else
        for (size_t j = 0; j < NNEW; j++)
            sum += val(ind, NEW[j], period);
    return sum;
}

/* A province indicator for the merged province: old 33 + old 34, or new 33 in 2025. */
static double province(const char *ind, int period)
{
    return period < 2025 ? val(ind, "33", period) + val(ind, "34", period) : val(ind, "33", 2025);
}

/* New commune's 2024 value by kho's rule: Σ w·old, w = 1 (whole) or 1/k (partial, k rows of that old code). */
static double converted(const char *ind, const char *new_code)
{
    kho_stmt_t *st = NULL;
    kho_err_t err;
    assert_int_equal(kho_store_prepare(W,
                                       "SELECT c.old_code, c.relation,"
                                       " (SELECT count(*) FROM unit_conversion k WHERE k.old_code = c.old_code)"
                                       " FROM unit_conversion c WHERE c.new_code = ?",
                                       &st, &err),
                     0);
    kho_stmt_bind_str(st, 1, new_code);
    double sum = 0;
    int rc, parts = 0;
    while ((rc = kho_stmt_step(st, &err)) == KHO_STEP_ROW) {
        double w = strcmp(kho_stmt_col_text(st, 1), "partial") == 0 ? 1.0 / (double)kho_stmt_col_int(st, 2) : 1.0;
        const row_t *r = find(ind, kho_stmt_col_text(st, 0), 2024);
        sum += w * (r ? r->v : 0);
        parts++;
    }
    kho_stmt_free(st);
    assert_int_equal(rc, KHO_STEP_DONE);
    assert_true(parts > 0);
    return sum;
}

static int cmp_code(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void free_strmap(void *p)
{
    kho_strmap_free(p);
}

static void close_file(void *p)
{
    fclose(p);
}

static bool in_list(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static void assert_near(double got, double want, double rel, const char *what)
{
    if (fabs(got - want) > rel * fabs(want))
        fail_msg("%s: %.2f, expected %.2f within %.1f%%", what, got, want, rel * 100);
}

static void assert_between(double got, double lo, double hi, const char *what)
{
    if (!(got >= lo && got <= hi))
        fail_msg("%s: %.4f, expected between %.4f and %.4f", what, got, lo, hi);
}

/* ---- form ------------------------------------------------------------------------------ */

static bool value_ok(const char *s, bool integer)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (!(*p >= '0' && *p <= '9'))
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '\0')
        return true;
    if (integer || *p != '.')
        return false;
    p++;
    size_t n = 0;
    while (p[n] >= '0' && p[n] <= '9')
        n++;
    return p[n] == '\0' && (n == 1 || n == 2) && p[n - 1] != '0';
}

static void test_form(void **state)
{
    (void)state;
    const char *header = "indicator,unit_code,period,value\n";
    assert_true(CSV_LEN > strlen(header));
    assert_memory_equal(CSV, header, strlen(header));
    assert_null(memchr(CSV, '\r', CSV_LEN));
    assert_int_equal(CSV[CSV_LEN - 1], '\n');
    assert_int_equal(strlen(CSV), CSV_LEN);
    assert_int_equal(NROWS, N_ROWS);
    for (size_t i = 0; i < NROWS; i++) {
        const row_t *r = &ROWS[i];
        bool commune = in_list(COMMUNE_INDICATORS, COUNT(COMMUNE_INDICATORS), r->ind);
        if (!commune && !in_list(PROVINCE_INDICATORS, COUNT(PROVINCE_INDICATORS), r->ind))
            fail_msg("unknown indicator %s", r->ind);
        if (!value_ok(r->text, in_list(INTEGER_INDICATORS, COUNT(INTEGER_INDICATORS), r->ind)))
            fail_msg("badly written value %s,%s,%d,%s", r->ind, r->code, r->period, r->text);
        assert_true(r->v >= 0);
        assert_true(r->period >= 2015 && r->period <= 2025);
        if (i > 0 && cmp_row(&ROWS[i - 1], r) >= 0)
            fail_msg("rows out of order at %s,%s,%d", r->ind, r->code, r->period);
    }
}

/* Before 2025 every row is about an old commune of old province 33 or 34 (or one
 * of those provinces); in 2025 about a commune of new province 33 (or the province).
 * With the row count and the order, this also says every unit has every year. */
static void test_units_by_period(void **state)
{
    (void)state;
    kho_strmap_t *codes = NULL;
    kho_err_t err;
    assert_int_equal(kho_units_codeset(W, &codes, &err), 0);
    kt_defer(free_strmap, codes);
    assert_int_equal(NOLD, N_OLD_COMMUNES);
    assert_int_equal(NNEW, N_NEW_COMMUNES);
    for (size_t i = 0; i < NROWS; i++) {
        const row_t *r = &ROWS[i];
        size_t flags = 0;
        if (!kho_strmap_get(codes, r->code, strlen(r->code), &flags))
            fail_msg("%s is not a unit code", r->code);
        bool commune = in_list(COMMUNE_INDICATORS, COUNT(COMMUNE_INDICATORS), r->ind);
        bool ok;
        if (commune && r->period < 2025)
            ok = (flags & KHO_UNIT_OLD_COMMUNE) && bsearch(r->code, OLD, NOLD, sizeof OLD[0], cmp_code);
        else if (commune)
            ok = (flags & KHO_UNIT_COMMUNE) && bsearch(r->code, NEW, NNEW, sizeof NEW[0], cmp_code);
        else if (r->period < 2025)
            ok = (flags & KHO_UNIT_OLD_PROVINCE) && (strcmp(r->code, "33") == 0 || strcmp(r->code, "34") == 0);
        else
            ok = (flags & KHO_UNIT_PROVINCE) && strcmp(r->code, "33") == 0;
        if (!ok)
            fail_msg("%s,%s,%d: not a unit of that period", r->ind, r->code, r->period);
    }
    /* every commune indicator covers every old commune 2015..2024 and every new commune in 2025 */
    for (size_t k = 0; k < COUNT(COMMUNE_INDICATORS); k++) {
        for (size_t i = 0; i < NOLD; i++)
            for (int y = 2015; y <= 2024; y++)
                assert_non_null(find(COMMUNE_INDICATORS[k], OLD[i], y));
        for (size_t j = 0; j < NNEW; j++)
            assert_non_null(find(COMMUNE_INDICATORS[k], NEW[j], 2025));
    }
}

static void test_deterministic(void **state)
{
    (void)state;
    char *again = NULL;
    size_t len = 0;
    kho_err_t err;
    assert_int_equal(generate(W, &again, &len, &err), 0);
    kt_defer(free, again);
    assert_int_equal(len, CSV_LEN);
    assert_memory_equal(again, CSV, CSV_LEN);
    /* also inside a transaction of the caller's, which it leaves open */
    assert_int_equal(kho_store_begin(W, false, &err), 0);
    char *third = NULL;
    assert_int_equal(generate(W, &third, &len, &err), 0);
    kt_defer(free, third);
    assert_true(kho_store_in_transaction(W));
    kho_store_rollback(W);
    assert_int_equal(len, CSV_LEN);
    assert_memory_equal(third, CSV, CSV_LEN);
}

/* ---- levels and trends --------------------------------------------------------------------- */

static void test_anchors_2025(void **state)
{
    (void)state;
    assert_between(total("dien_tich", 2025), 2514.76, 2514.86, "area 2025 (km²)");
    assert_near(total("dan_so", 2025), 3570000, 0.01, "population 2025");
    assert_near(total("so_doanh_nghiep", 2025), 27700, 0.02, "enterprises 2025");
    assert_near(province("grdp", 2025), 328000, 0.01, "GRDP 2025");
    assert_near(total("tong_so_ho", 2025), 1100000, 0.02, "households 2025");
    assert_near(province("thu_ngan_sach", 2025), 45000, 0.02, "budget revenue 2025");
    assert_near(total("san_luong_nhan", 2025), 60000, 0.1, "longan 2025");
    assert_near(total("san_luong_chuoi", 2025), 120000, 0.1, "banana 2025");
    assert_near(total("dan_ga", 2025), 30000, 0.1, "chickens 2025");
}

static void test_trends(void **state)
{
    (void)state;
    /* compound growth 2015 -> 2025 */
    struct {
        const char *ind;
        bool prov;
        double lo, hi;
    } growth[] = {
        {"dan_so", false, 0.005, 0.011},   {"so_doanh_nghiep", false, 0.055, 0.085},
        {"grdp", true, 0.065, 0.095},      {"thu_ngan_sach", true, 0.07, 0.11},
        {"tong_so_ho", false, 0.01, 0.02}, {"san_luong_lua", false, -0.02, 0.0},
    };
    for (size_t i = 0; i < COUNT(growth); i++) {
        double a = growth[i].prov ? province(growth[i].ind, 2015) : total(growth[i].ind, 2015);
        double b = growth[i].prov ? province(growth[i].ind, 2025) : total(growth[i].ind, 2025);
        assert_between(pow(b / a, 0.1) - 1, growth[i].lo, growth[i].hi, growth[i].ind);
    }
    double prev_poverty = 1, prev_online = 0;
    for (int y = 2015; y <= 2025; y++) {
        double poverty = total("so_ho_ngheo", y) / total("tong_so_ho", y);
        double online = total("ho_so_truc_tuyen", y) / total("tong_ho_so", y);
        assert_true(poverty < prev_poverty);
        assert_true(online > prev_online);
        prev_poverty = poverty;
        prev_online = online;
        double rice = total("san_luong_lua", y);
        assert_between(rice, 1.1e6, 1.4e6, "rice (t)");
        if (y < 2025) {
            double tb = 0;
            for (size_t i = 0; i < NOLD; i++)
                if (strcmp(OLD_PROV[i], "34") == 0)
                    tb += val("san_luong_lua", OLD[i], y);
            assert_between(tb / rice, 0.7, 0.95, "old Thái Bình's share of rice");
            double hy = val("grdp", "33", y) / province("grdp", y);
            assert_between(hy, 0.5, 0.6, "old Hưng Yên's share of GRDP");
        }
    }
    assert_between(total("so_ho_ngheo", 2015) / total("tong_so_ho", 2015), 0.04, 0.06, "poverty rate 2015");
    assert_between(total("so_ho_ngheo", 2025) / total("tong_so_ho", 2025), 0.008, 0.012, "poverty rate 2025");
    assert_between(total("ho_so_truc_tuyen", 2015) / total("tong_ho_so", 2015), 0.035, 0.07, "online share 2015");
    assert_between(total("ho_so_truc_tuyen", 2025) / total("tong_ho_so", 2025), 0.75, 0.85, "online share 2025");
    double d2015 = province("gia_tri_kinh_te_so", 2015) / province("grdp", 2015);
    double d2020 = province("gia_tri_kinh_te_so", 2020) / province("grdp", 2020);
    double d2025 = province("gia_tri_kinh_te_so", 2025) / province("grdp", 2025);
    assert_between(d2015, 0.06, 0.10, "digital share 2015");
    assert_between(d2025, 0.17, 0.21, "digital share 2025");
    /* at risk: the 2020-2025 pace does not reach 30 % by 2030 */
    assert_true(d2025 + (d2025 - d2020) < 0.30);
    /* counts never exceed their whole */
    for (size_t i = 0; i < NOLD + NNEW; i++) {
        const char *c = i < NOLD ? OLD[i] : NEW[i - NOLD];
        for (int y = i < NOLD ? 2015 : 2025; y <= (i < NOLD ? 2024 : 2025); y++) {
            assert_true(val("so_ho_ngheo", c, y) <= val("tong_so_ho", c, y));
            assert_true(val("ho_so_truc_tuyen", c, y) <= val("tong_ho_so", c, y));
            assert_true(val("tong_so_ho", c, y) < val("dan_so", c, y));
        }
    }
}

static void test_longan_near_pho_hien(void **state)
{
    (void)state;
    for (int y = 2015; y <= 2024; y++) {
        double near = 0, hy = 0;
        size_t little = 0, elsewhere = 0;
        for (size_t i = 0; i < NOLD; i++) {
            double v = val("san_luong_nhan", OLD[i], y);
            if (strcmp(OLD_PROV[i], "33") == 0)
                hy += v;
            if (PHO_HIEN[i])
                near += v;
            else {
                elsewhere++;
                little += v < 5;
            }
        }
        assert_true(hy > 0);
        assert_between(near / hy, 0.5, 1.0, "Phố Hiến's share of old Hưng Yên's longan");
        /* most communes away from Phố Hiến grow none or a few tonnes */
        assert_true(little * 2 > elsewhere);
    }
}

/* ---- continuity through the conversion --------------------------------------------------- */

static void test_area_and_conversion(void **state)
{
    (void)state;
    for (size_t i = 0; i < NOLD; i++)
        for (int y = 2016; y <= 2024; y++)
            if (strcmp(find("dien_tich", OLD[i], y)->text, find("dien_tich", OLD[i], 2015)->text) != 0)
                fail_msg("area of %s changes in %d", OLD[i], y);
    for (int y = 2015; y <= 2024; y++)
        assert_between(total("dien_tich", y), 2514.76, 2514.86, "area of the old communes");
    for (size_t j = 0; j < NNEW; j++) {
        double area = val("dien_tich", NEW[j], 2025), conv = converted("dien_tich", NEW[j]);
        if (fabs(area - conv) > 0.02)
            fail_msg("area of %s: %.2f in 2025, %.4f converted from 2024", NEW[j], area, conv);
        /* the other additive series go on smoothly from their converted 2024 values */
        static const char *const smooth[] = {"dan_so", "tong_so_ho", "so_doanh_nghiep", "tong_ho_so"};
        for (size_t k = 0; k < COUNT(smooth); k++) {
            double v = val(smooth[k], NEW[j], 2025), c = converted(smooth[k], NEW[j]);
            if (!(c > 0 && v / c > 0.97 && v / c < 1.12))
                fail_msg("%s of %s: %.0f in 2025 after %.1f converted from 2024", smooth[k], NEW[j], v, c);
        }
    }
}

/* ---- planted features (indgen.h) ----------------------------------------------------------- */

static double median_without(const char *ind, const char *code, int skip)
{
    double v[10];
    int n = 0;
    for (int y = 2015; y <= 2024; y++)
        if (y != skip)
            v[n++] = val(ind, code, y);
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0 && v[b - 1] > v[b]; b--) {
            double t = v[b];
            v[b] = v[b - 1];
            v[b - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void test_planted_features(void **state)
{
    (void)state;
    static const char *const declining[] = {"12010", "12451", "12988"};
    /* enterprises: only these fall, and they fall every year 2022-2024 after growing */
    for (size_t i = 0; i < NOLD; i++) {
        bool planted = in_list(declining, COUNT(declining), OLD[i]);
        double v2021 = val("so_doanh_nghiep", OLD[i], 2021);
        if (!planted) {
            if (val("so_doanh_nghiep", OLD[i], 2024) < v2021)
                fail_msg("enterprises of %s fall between 2021 and 2024", OLD[i]);
            continue;
        }
        assert_true(val("so_doanh_nghiep", OLD[i], 2015) < v2021);
        assert_true(v2021 >= 30);
        for (int y = 2022; y <= 2024; y++)
            assert_true(val("so_doanh_nghiep", OLD[i], y) < val("so_doanh_nghiep", OLD[i], y - 1));
    }
    for (size_t k = 0; k < COUNT(declining); k++)
        assert_non_null(find("so_doanh_nghiep", declining[k], 2024));

    /* poverty: only 12880's rate rises in 2024, and it about doubles */
    for (size_t i = 0; i < NOLD; i++) {
        double r23 = val("so_ho_ngheo", OLD[i], 2023) / val("tong_so_ho", OLD[i], 2023);
        double r24 = val("so_ho_ngheo", OLD[i], 2024) / val("tong_so_ho", OLD[i], 2024);
        if (strcmp(OLD[i], "12880") == 0)
            assert_true(r24 > 1.5 * r23);
        else if (r24 > r23)
            fail_msg("the poverty rate of %s rises in 2024", OLD[i]);
    }
    assert_non_null(find("so_ho_ngheo", "12880", 2024));

    /* rice: 12664 in 2020 is the only value far from its commune's usual level */
    for (size_t i = 0; i < NOLD; i++) {
        bool planted = strcmp(OLD[i], "12664") == 0;
        for (int y = 2015; y <= 2024; y++) {
            double med = median_without("san_luong_lua", OLD[i], y), v = val("san_luong_lua", OLD[i], y);
            if (planted && y == 2020)
                assert_true(v > 5 * med && med > 100);
            else if (med >= 10 && (v > 2 * med || v < med / 2))
                fail_msg("rice of %s in %d: %.1f t against a usual %.1f t", OLD[i], y, v, med);
        }
    }
    assert_non_null(find("san_luong_lua", "12664", 2020));
}

/* ---- errors ------------------------------------------------------------------------------------ */

static void close_store(void *p)
{
    kho_store_close(p);
}

static void test_units_not_loaded(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("indgen");
    char path[256];
    snprintf(path, sizeof path, "%s/kho.db", dir);
    kho_store_t *s = NULL;
    kho_err_t err = {0};
    assert_int_equal(kho_store_open(path, KHO_STORE_CREATE, NULL, &s, &err), 0);
    kt_defer(close_store, s);
    assert_int_equal(kho_schema_migrate(s, &err), 0);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(generate(s, &out, &len, &err), KHO_ENOTFOUND);
    kt_defer(free, out);
    assert_string_equal(kho_err_kind(&err), "units_not_loaded");
    assert_int_equal(len, 0); /* nothing written */
}

static void test_write_error(void **state)
{
    (void)state;
    FILE *f = fopen("/dev/null", "r"); /* not writable */
    assert_non_null(f);
    kt_defer(close_file, f);
    kho_err_t err = {0};
    assert_int_equal(kho_indgen_write(W, f, &err), KHO_EIO);
    assert_non_null(strstr(err.msg, "cannot write"));
}

int main(void)
{
#define T(f) cmocka_unit_test_teardown(f, kt_cleanup)
    const struct CMUnitTest tests[] = {
        T(test_form),
        T(test_units_by_period),
        T(test_deterministic),
        T(test_anchors_2025),
        T(test_trends),
        T(test_longan_near_pho_hien),
        T(test_area_and_conversion),
        T(test_planted_features),
        T(test_units_not_loaded),
        T(test_write_error),
    };
    if (getenv("KHO_TEST_FILTER"))
        cmocka_set_test_filter(getenv("KHO_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
