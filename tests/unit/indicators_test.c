/* Unit tests of apps/indicators (build.c): numbers and periods, and a hand-checked
 * conversion sample across the 2025 reform against the real unit tables of data/units.
 *
 * The sample: a five-indicator catalogue (dan_so, so_ho_ngheo, tong_so_ho additive per
 * commune; ty_le_ho_ngheo = 100 × so_ho_ngheo / tong_so_ho; grdp additive per province),
 * one long-form source "bao-cao" imported through kho_ingest with the indicators hook,
 * and round numbers for the predecessors of a few of today's communes of Hưng Yên (33).
 * The conversion rows used (data/units/conversion-2025-07.csv):
 *
 *   12031 Xã Nghĩa Trụ   = 12031 + 12034 + 12037                       (all whole)
 *   11992 Xã Lạc Đạo     = ½·11989 + 11992 + 12007                     (11989 split in two)
 *   11995 Xã Đại Đồng    = ½·11989 + 11995 + 11998 + ½·12004 + 12010   (12004 split in two)
 *   12004 Xã Như Quỳnh   = 11986 + 12001 + ½·12004 + 12013 + 12016
 *   11983 Phường Sơn Nam = 11950 + 11983 + 12331 + 12334 + ½·12322     (12334 not reported)
 *   12322 Xã Hiệp Cường  = 12301 + 12319 + ½·12322 + 12328             (only 12322 reported)
 *
 * Every expected number is worked out by hand in the comments. */
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

#include "apps/indicators/indicators.h"
#include "apps/indicators/indpriv.h"
#include "core/buf.h"
#include "core/log.h"
#include "kho_test.h"
#include "store/schema.h"
#include "store/store.h"
#include "warehouse/catalog.h"
#include "warehouse/ingest.h"
#include "warehouse/units.h"

#define assert_near(got, want, tol)                                                                                    \
    do {                                                                                                               \
        double got_ = (got), want_ = (want);                                                                           \
        if (!(fabs(got_ - want_) <= (tol)))                                                                            \
            fail_msg("%s = %.17g, expected %.17g (tolerance %g)", #got, got_, want_, (double)(tol));                   \
    } while (0)

static kho_store_t *W;
static char DIR_[128];
static char UNITS[PATH_MAX];
static char *BASE_CSV; /* the good reports (version 1 of bao-cao) */

#define DS "bao-cao"

static const char CATALOGUE[] =
    "{\"indicators\": ["
    "{\"code\": \"dan_so\", \"name\": \"Dân số\", \"unit_of_measure\": \"người\", \"kind\": \"additive\","
    " \"level\": \"commune\", \"decimals\": 0},"
    "{\"code\": \"so_ho_ngheo\", \"name\": \"Số hộ nghèo\", \"unit_of_measure\": \"hộ\", \"kind\": \"additive\","
    " \"level\": \"commune\", \"higher_is_better\": false},"
    "{\"code\": \"tong_so_ho\", \"name\": \"Tổng số hộ\", \"unit_of_measure\": \"hộ\", \"kind\": \"additive\","
    " \"level\": \"commune\"},"
    "{\"code\": \"ty_le_ho_ngheo\", \"name\": \"Tỷ lệ hộ nghèo\", \"unit_of_measure\": \"%\", \"kind\": \"rate\","
    " \"level\": \"commune\", \"numerator\": \"so_ho_ngheo\", \"denominator\": \"tong_so_ho\", \"scale\": 100},"
    "{\"code\": \"grdp\", \"name\": \"GRDP\", \"unit_of_measure\": \"tỷ đồng\", \"kind\": \"additive\","
    " \"level\": \"province\"}"
    "]}";

/* 2024: reports against pre-reform units (see the file comment for the rows). */
static const char REPORTS_2024[] = "indicator,unit_code,period,value\n"
                                   /* whole merge into 12031 */
                                   "dan_so,12031,2024,1000\n"
                                   "dan_so,12034,2024,2000\n"
                                   "dan_so,12037,2024,3000\n"
                                   /* old district 325 (Văn Lâm): all eleven of its communes */
                                   "dan_so,11989,2024,1000\n"
                                   "dan_so,11992,2024,200\n"
                                   "dan_so,12007,2024,300\n"
                                   "dan_so,11995,2024,400\n"
                                   "dan_so,11998,2024,500\n"
                                   "dan_so,12004,2024,800\n"
                                   "dan_so,12010,2024,600\n"
                                   "dan_so,11986,2024,100\n"
                                   "dan_so,12001,2024,100\n"
                                   "dan_so,12013,2024,100\n"
                                   "dan_so,12016,2024,100\n"
                                   /* 11983's predecessors without 12334; of 12322's only 12322 */
                                   "dan_so,11950,2024,100\n"
                                   "dan_so,11983,2024,100\n"
                                   "dan_so,12331,2024,100\n"
                                   "dan_so,12322,2024,500\n"
                                   /* poverty: 12031's and 11992's predecessors */
                                   "so_ho_ngheo,12031,2024,5\n"
                                   "so_ho_ngheo,12034,2024,10\n"
                                   "so_ho_ngheo,12037,2024,15\n"
                                   "tong_so_ho,12031,2024,50\n"
                                   "tong_so_ho,12034,2024,200\n"
                                   "tong_so_ho,12037,2024,750\n"
                                   "so_ho_ngheo,11989,2024,40\n"
                                   "so_ho_ngheo,11992,2024,10\n"
                                   "so_ho_ngheo,12007,2024,30\n"
                                   "tong_so_ho,11989,2024,400\n"
                                   "tong_so_ho,11992,2024,100\n"
                                   "tong_so_ho,12007,2024,1000\n"
                                   /* GRDP: old Hưng Yên (33) and old Thái Bình (34); 2023 only old 33 */
                                   "grdp,33,2024,100\n"
                                   "grdp,34,2024,50\n"
                                   "grdp,33,2023,90\n"
                                   "grdp,33,2025,160\n";

/* ---- fixture ----------------------------------------------------------------------- */

static int ingest_text(const char *text, kho_ingest_result_t *res, kho_err_t *err)
{
    static const kho_coldecl_t decls[] = {{"unit_code", "text"}, {"period", "text"}};
    kho_ingest_opts_t o = {.dataset = DS,
                           .meta = KHO_DATASET_META_INIT,
                           .strict = true,
                           .reject_threshold = 0,
                           .source_name = "bao-cao.csv",
                           .decls = decls,
                           .ndecls = 2};
    kho_source_t src = {.mem = text, .len = strlen(text), .name = "bao-cao.csv"};
    memset(err, 0, sizeof *err);
    memset(res, 0, sizeof *res);
    return kho_ingest(W, &src, &o, res, err);
}

static int group_setup(void **state)
{
    (void)state;
    kho_log_set_level(KHO_LOG_WARN);
    if (!kt_find_units(UNITS, sizeof UNITS)) {
        fprintf(stderr, "cannot find data/units (set KHO_UNITS_DIR)\n");
        return -1;
    }
    snprintf(DIR_, sizeof DIR_, "/tmp/kho-indicators-test-XXXXXX");
    if (!mkdtemp(DIR_))
        return -1;
    char path[256];
    snprintf(path, sizeof path, "%s/kho.db", DIR_);
    kho_err_t err = {0};
    kho_units_summary_t sum;
    if (kho_store_open(path, KHO_STORE_CREATE, NULL, &W, &err) != 0 || kho_schema_migrate(W, &err) != 0 ||
        kho_units_load(W, UNITS, false, &sum, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    kho_ingest_set_hook(kho_ind_ingest_hook);
    snprintf(path, sizeof path, "%s/catalogue.json", DIR_);
    FILE *f = fopen(path, "w");
    if (!f || fputs(CATALOGUE, f) < 0 || fclose(f) != 0)
        return -1;
    if (kho_ind_load_catalogue(W, path, &err) != 0 ||
        kho_ind_set_source(
            W, DS,
            "{\"form\":\"long\",\"indicator\":\"indicator\",\"unit\":\"unit_code\",\"period\":\"period\","
            "\"value\":\"value\"}",
            &err) != 0) {
        fprintf(stderr, "setup: catalogue: %s\n", err.msg);
        return -1;
    }
    /* 2025: today's 104 communes of province 33 report dan_so 1000 and tong_so_ho 200 each;
     * so_ho_ngheo 10 each except the last commune (by code), which does not report it */
    kho_buf_t b = KHO_BUF_INIT;
    kho_buf_puts(&b, REPORTS_2024);
    kho_stmt_t *st;
    if (kho_store_prepare(W,
                          "SELECT code FROM units WHERE era = 'current' AND level = 'commune' AND province_code = '33'"
                          " ORDER BY code",
                          &st, &err) != 0)
        return -1;
    int n = 0;
    char last[8] = "";
    while (kho_stmt_step(st, &err) == KHO_STEP_ROW) {
        const char *c = kho_stmt_col_text(st, 0);
        if (last[0])
            kho_buf_printf(&b, "so_ho_ngheo,%s,2025,10\n", last);
        kho_buf_printf(&b, "dan_so,%s,2025,1000\ntong_so_ho,%s,2025,200\n", c, c);
        snprintf(last, sizeof last, "%s", c);
        n++;
    }
    kho_stmt_free(st);
    if (n != 104) {
        fprintf(stderr, "setup: province 33 has %d communes, expected 104\n", n);
        return -1;
    }
    BASE_CSV = kho_buf_steal(&b, NULL);
    kho_ingest_result_t res;
    int rc = ingest_text(BASE_CSV, &res, &err);
    kho_ingest_result_free(&res);
    if (rc != 0) {
        fprintf(stderr, "setup: import: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    kho_ingest_set_hook(NULL);
    kho_store_close(W);
    W = NULL;
    free(BASE_CSV);
    nftw(DIR_, kt_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------ */

typedef struct got {
    bool found;
    double v;
    bool converted;
    char method[512];
} got_t;

static got_t val(const char *ind, const char *level, const char *unit, const char *period)
{
    got_t g = {0};
    kho_stmt_t *st;
    kho_err_t err;
    if (kho_store_prepare(W,
                          "SELECT value, converted, method FROM ind_values WHERE indicator = ?1 AND level = ?2"
                          " AND unit_code = ?3 AND period = ?4",
                          &st, &err) != 0)
        fail_msg("prepare: %s", err.msg);
    kho_stmt_bind_str(st, 1, ind);
    kho_stmt_bind_str(st, 2, level);
    kho_stmt_bind_str(st, 3, unit);
    kho_stmt_bind_str(st, 4, period);
    if (kho_stmt_step(st, &err) == KHO_STEP_ROW) {
        g.found = true;
        g.v = kho_stmt_col_double(st, 0);
        g.converted = kho_stmt_col_int(st, 1) != 0;
        const char *m = kho_stmt_col_text(st, 2);
        snprintf(g.method, sizeof g.method, "%s", m ? m : "");
    }
    kho_stmt_free(st);
    return g;
}

/* The value, failing the test when there is none. */
static got_t need(const char *ind, const char *level, const char *unit, const char *period)
{
    got_t g = val(ind, level, unit, period);
    if (!g.found)
        fail_msg("no value of %s for %s %s, %s", ind, level, unit, period);
    return g;
}

static void none(const char *ind, const char *level, const char *unit, const char *period)
{
    got_t g = val(ind, level, unit, period);
    if (g.found)
        fail_msg("%s for %s %s, %s = %g, expected no value (%s)", ind, level, unit, period, g.v, g.method);
}

#define assert_contains(hay, needle)                                                                                   \
    do {                                                                                                               \
        if (!strstr((hay), (needle)))                                                                                  \
            fail_msg("'%s' not in '%s'", (needle), (hay));                                                             \
    } while (0)

static void free_str(void *p)
{
    free(p);
}

/* Every computed value as one string, to compare before and after. */
static char *snapshot(void)
{
    kho_buf_t b = KHO_BUF_INIT;
    kho_stmt_t *st;
    kho_err_t err;
    if (kho_store_prepare(W,
                          "SELECT indicator, level, unit_code, period, printf('%.9f', value), converted, method,"
                          " source_dataset, source_version FROM ind_values ORDER BY 1, 2, 3, 4",
                          &st, &err) != 0)
        fail_msg("prepare: %s", err.msg);
    while (kho_stmt_step(st, &err) == KHO_STEP_ROW) {
        for (int i = 0; i < 9; i++)
            kho_buf_printf(&b, "%s|", kho_stmt_col_text(st, i) ? kho_stmt_col_text(st, i) : "");
        kho_buf_puts(&b, "\n");
    }
    kho_stmt_free(st);
    return kt_defer(free_str, kho_buf_steal(&b, NULL));
}

static int64_t current_version(void)
{
    kho_version_info_t vi;
    kho_err_t err;
    if (kho_catalog_version(W, DS, 0, &vi, &err) != 0)
        fail_msg("version: %s", err.msg);
    int64_t n = vi.number;
    kho_version_info_free(&vi);
    return n;
}

static const char *write_tmp(const char *name, const char *text)
{
    return kt_write_file(DIR_, name, text, strlen(text));
}

static void rebuild(kho_ind_build_t *bs)
{
    kho_err_t err;
    if (kho_ind_rebuild(W, bs, &err) != 0)
        fail_msg("rebuild: %s", err.msg);
}

static void load_weights_ok(const char *text)
{
    kho_err_t err;
    if (kho_ind_load_weights(W, write_tmp("weights.csv", text), &err) != 0)
        fail_msg("weights: %s", err.msg);
    kho_ind_build_t bs;
    rebuild(&bs);
}

static int64_t count_weights(void)
{
    int64_t n;
    kho_err_t err;
    if (kho_store_query_int(W, "SELECT count(*) FROM ind_weights", &n, &err) != 0)
        fail_msg("count: %s", err.msg);
    return n;
}

/* ---- numbers and periods -------------------------------------------------------------- */

static void test_parse_number(void **state)
{
    (void)state;
    double v = -1;
    assert_true(kho_ind_parse_number("1.234,5", &v)); /* Vietnamese: '.' thousands, ',' decimals */
    assert_near(v, 1234.5, 0);
    assert_true(kho_ind_parse_number("1234.5", &v));
    assert_near(v, 1234.5, 0);
    assert_true(kho_ind_parse_number("-3", &v));
    assert_near(v, -3, 0);
    assert_true(kho_ind_parse_number("1,5", &v)); /* a lone comma is a decimal comma */
    assert_near(v, 1.5, 0);
    assert_true(kho_ind_parse_number("1.234.567,89", &v));
    assert_near(v, 1234567.89, 1e-9);
    assert_true(kho_ind_parse_number("  42 ", &v));
    assert_near(v, 42, 0);
    assert_true(kho_ind_parse_number("+7", &v));
    assert_near(v, 7, 0);
    assert_true(kho_ind_parse_number("0", &v));
    assert_near(v, 0, 0);
    v = 99;
    const char *bad[] = {
        "",      "   ",     "1,2,3", "0x10",
        "inf",   "-inf",    "nan",   "abc",
        "12abc", "1,234.5", "-",     ".",
        "1 000", "--1",     "1e999", "1234567890123456789012345678901234567890123456789012345678901234567890"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (kho_ind_parse_number(bad[i], &v))
            fail_msg("'%s' parsed as %g, expected a refusal", bad[i], v);
    assert_near(v, 99, 0); /* untouched by refusals */
}

static void test_periods(void **state)
{
    (void)state;
    assert_true(kho_ind_period_ok(KHO_FREQ_YEAR, "2024"));
    assert_true(kho_ind_period_ok(KHO_FREQ_QUARTER, "2024-Q3"));
    assert_true(kho_ind_period_ok(KHO_FREQ_MONTH, "2024-07"));
    assert_true(kho_ind_period_ok(KHO_FREQ_MONTH, "2024-12"));
    const struct {
        int freq;
        const char *p;
    } bad[] = {{KHO_FREQ_YEAR, "2024-Q3"},    {KHO_FREQ_YEAR, "24"},         {KHO_FREQ_YEAR, "1899"},
               {KHO_FREQ_YEAR, "2201"},       {KHO_FREQ_YEAR, "20x4"},       {KHO_FREQ_YEAR, ""},
               {KHO_FREQ_QUARTER, "2024"},    {KHO_FREQ_QUARTER, "2024-Q5"}, {KHO_FREQ_QUARTER, "2024-Q0"},
               {KHO_FREQ_QUARTER, "2024-q3"}, {KHO_FREQ_MONTH, "2024-13"},   {KHO_FREQ_MONTH, "2024-00"},
               {KHO_FREQ_MONTH, "2024-7"},    {KHO_FREQ_MONTH, "2024-Q1"},   {KHO_FREQ_MONTH, "2024-071"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (kho_ind_period_ok(bad[i].freq, bad[i].p))
            fail_msg("'%s' accepted for frequency %d", bad[i].p, bad[i].freq);
    /* before 1 July 2025: years up to 2024, 2025-Q1/Q2, 2025-01..06 */
    assert_true(kho_ind_period_old("2024"));
    assert_true(kho_ind_period_old("2015"));
    assert_false(kho_ind_period_old("2025"));
    assert_false(kho_ind_period_old("2026"));
    assert_true(kho_ind_period_old("2025-Q2"));
    assert_false(kho_ind_period_old("2025-Q3"));
    assert_true(kho_ind_period_old("2024-Q4"));
    assert_true(kho_ind_period_old("2025-06"));
    assert_false(kho_ind_period_old("2025-07"));
    assert_false(kho_ind_period_old("2026-01"));
    char out[16];
    kho_ind_period_add(KHO_FREQ_YEAR, "2024", 3, out);
    assert_string_equal(out, "2027");
    kho_ind_period_add(KHO_FREQ_YEAR, "2024", 0, out);
    assert_string_equal(out, "2024");
    kho_ind_period_add(KHO_FREQ_QUARTER, "2024-Q3", 2, out); /* Q4 2024, Q1 2025 */
    assert_string_equal(out, "2025-Q1");
    kho_ind_period_add(KHO_FREQ_QUARTER, "2024-Q4", 1, out);
    assert_string_equal(out, "2025-Q1");
    kho_ind_period_add(KHO_FREQ_QUARTER, "2024-Q1", 8, out);
    assert_string_equal(out, "2026-Q1");
    kho_ind_period_add(KHO_FREQ_MONTH, "2024-11", 3, out); /* Dec, Jan, Feb */
    assert_string_equal(out, "2025-02");
    kho_ind_period_add(KHO_FREQ_MONTH, "2024-12", 0, out);
    assert_string_equal(out, "2024-12");
    kho_ind_period_add(KHO_FREQ_MONTH, "2024-12", 12, out);
    assert_string_equal(out, "2025-12");
    kho_ind_period_add(KHO_FREQ_MONTH, "2024-01", 25, out); /* 2 years and 1 month */
    assert_string_equal(out, "2026-02");
    assert_int_equal(kho_ind_period_diff(KHO_FREQ_YEAR, "2020", "2024"), 4);
    assert_int_equal(kho_ind_period_diff(KHO_FREQ_YEAR, "2024", "2020"), -4);
    assert_int_equal(kho_ind_period_diff(KHO_FREQ_QUARTER, "2024-Q3", "2025-Q1"), 2);
    assert_int_equal(kho_ind_period_diff(KHO_FREQ_QUARTER, "2025-Q1", "2024-Q3"), -2);
    assert_int_equal(kho_ind_period_diff(KHO_FREQ_MONTH, "2024-11", "2025-02"), 3);
    assert_int_equal(kho_ind_period_diff(KHO_FREQ_MONTH, "2025-02", "2024-11"), -3);
    assert_int_equal(kho_ind_period_diff(KHO_FREQ_MONTH, "2024-05", "2024-05"), 0);
    /* add and diff agree */
    for (int k = 0; k < 30; k++) {
        kho_ind_period_add(KHO_FREQ_MONTH, "2023-10", k, out);
        assert_int_equal(kho_ind_period_diff(KHO_FREQ_MONTH, "2023-10", out), k);
        assert_true(kho_ind_period_ok(KHO_FREQ_MONTH, out));
        kho_ind_period_add(KHO_FREQ_QUARTER, "2023-Q2", k, out);
        assert_int_equal(kho_ind_period_diff(KHO_FREQ_QUARTER, "2023-Q2", out), k);
        assert_true(kho_ind_period_ok(KHO_FREQ_QUARTER, out));
    }
}

/* ---- conversion ------------------------------------------------------------------------ */

static void test_whole_merge(void **state)
{
    (void)state;
    /* 12031 = 1000 + 2000 + 3000 = 6000 */
    got_t g = need("dan_so", "commune", "12031", "2024");
    assert_near(g.v, 6000, 1e-9);
    assert_true(g.converted);
    assert_contains(g.method, "Xã Nghĩa Trụ + Xã Long Hưng + Xã Vĩnh Khúc");
    if (strstr(g.method, "×"))
        fail_msg("a whole merge described with shares: %s", g.method);
    /* 2025 is reported against today's unit: 1000, not converted */
    g = need("dan_so", "commune", "12031", "2025");
    assert_near(g.v, 1000, 0);
    assert_false(g.converted);
    assert_string_equal(g.method, "");
    /* old-era reports are not served as values of today's units under their old codes:
     * 12034 (Long Hưng) is not one of today's communes */
    none("dan_so", "commune", "12034", "2024");
}

static void test_equal_split(void **state)
{
    (void)state;
    /* 11992 = ½·1000 + 200 + 300 = 1000 */
    got_t g = need("dan_so", "commune", "11992", "2024");
    assert_near(g.v, 1000, 1e-9);
    assert_true(g.converted);
    assert_contains(g.method, "1/2 × Xã Lạc Đạo (chia đều)");
    /* 11995 = ½·1000 + 400 + 500 + ½·800 + 600 = 500 + 400 + 500 + 400 + 600 = 2400 */
    g = need("dan_so", "commune", "11995", "2024");
    assert_near(g.v, 2400, 1e-9);
    assert_contains(g.method, "1/2 × Xã Đình Dù (chia đều)");
    /* 12004 = 100 + 100 + ½·800 + 100 + 100 = 800 */
    assert_near(need("dan_so", "commune", "12004", "2024").v, 800, 1e-9);
    /* old district 325 (Văn Lâm), all eleven communes reported:
     * 100 + 1000 + 200 + 400 + 500 + 100 + 800 + 300 + 600 + 100 + 100 = 4200 */
    g = need("dan_so", "district_old", "325", "2024");
    assert_near(g.v, 4200, 1e-9);
    assert_false(g.converted);
    /* old district 331 (Kim Động): only 12322 of it reported -> none */
    none("dan_so", "district_old", "331", "2024");
}

static void test_missing_predecessor(void **state)
{
    (void)state;
    /* 11983 lacks 12334; 12322 lacks 12301, 12319 and 12328: no values, counted incomplete */
    none("dan_so", "commune", "11983", "2024");
    none("dan_so", "commune", "12322", "2024");
    kho_ind_build_t bs;
    rebuild(&bs);
    assert_true(bs.incomplete >= 2);
    /* the rebuild gives the same values */
    none("dan_so", "commune", "11983", "2024");
    assert_near(need("dan_so", "commune", "11992", "2024").v, 1000, 1e-9);
}

static void test_rate_recomputed(void **state)
{
    (void)state;
    /* 12031: so_ho_ngheo 5 + 10 + 15 = 30, tong_so_ho 50 + 200 + 750 = 1000 -> 100·30/1000 = 3 %;
     * the mean of the old rates (10 %, 5 %, 2 %) would be 5.667 */
    got_t g = need("ty_le_ho_ngheo", "commune", "12031", "2024");
    assert_near(g.v, 3.0, 1e-12);
    assert_true(fabs(g.v - (10.0 + 5.0 + 2.0) / 3) > 1);
    assert_true(g.converted);
    assert_contains(g.method, "100 × so_ho_ngheo / tong_so_ho");
    /* 11992: ngheo ½·40 + 10 + 30 = 60, tong ½·400 + 100 + 1000 = 1300 -> 6000/1300 = 4.615384...;
     * the mean of 10 %, 10 %, 3 % would be 7.667 */
    g = need("ty_le_ho_ngheo", "commune", "11992", "2024");
    assert_near(g.v, 6000.0 / 1300.0, 1e-12);
    assert_true(fabs(g.v - 23.0 / 3) > 1);
    /* 2025: 100·10/200 = 5 % in each commune that reported both parts */
    g = need("ty_le_ho_ngheo", "commune", "11992", "2025");
    assert_near(g.v, 5, 1e-12);
    assert_false(g.converted);
    /* 11995: no poverty reports of its predecessors -> no rate */
    none("ty_le_ho_ngheo", "commune", "11995", "2024");
}

static void test_province_sums(void **state)
{
    (void)state;
    /* 2025: 104 communes × 1000 = 104 000 people; × 200 = 20 800 households */
    got_t g = need("dan_so", "province", "33", "2025");
    assert_near(g.v, 104000, 1e-9);
    assert_false(g.converted);
    assert_contains(g.method, "104");
    assert_near(need("tong_so_ho", "province", "33", "2025").v, 20800, 1e-9);
    /* so_ho_ngheo: 103 of 104 communes -> no province total, hence no province rate */
    none("so_ho_ngheo", "province", "33", "2025");
    none("ty_le_ho_ngheo", "province", "33", "2025");
    /* 2024: a handful of communes converted -> no province total */
    none("dan_so", "province", "33", "2024");
    /* a province indicator: old 33 (100) + old 34 (50) = 150; 2025 as reported; 2023 lacks old 34 */
    g = need("grdp", "province", "33", "2024");
    assert_near(g.v, 150, 1e-9);
    assert_true(g.converted);
    assert_contains(g.method, "Tỉnh Thái Bình");
    g = need("grdp", "province", "33", "2025");
    assert_near(g.v, 160, 0);
    assert_false(g.converted);
    none("grdp", "province", "33", "2023");
    none("grdp", "province", "34", "2024"); /* old provinces are not served */
}

static void test_weighted_split(void **state)
{
    (void)state;
    load_weights_ok("old_code,new_code,weight,basis\n"
                    "11989,11992,0.3,diện tích\n"
                    "11989,11995,0.7,diện tích\n"
                    "12004,11995,0.4,dân số\n"
                    "12004,12004,0.6,dân số\n");
    assert_int_equal(count_weights(), 4);
    /* 11992 = 0.3·1000 + 200 + 300 = 800 */
    got_t g = need("dan_so", "commune", "11992", "2024");
    assert_near(g.v, 800, 1e-9);
    assert_contains(g.method, "30% × Xã Lạc Đạo (theo trọng số)");
    /* 11995 = 0.7·1000 + 400 + 500 + 0.4·800 + 600 = 700 + 400 + 500 + 320 + 600 = 2520 */
    g = need("dan_so", "commune", "11995", "2024");
    assert_near(g.v, 2520, 1e-9);
    assert_contains(g.method, "70% × Xã Lạc Đạo (theo trọng số)");
    assert_contains(g.method, "40% × Xã Đình Dù (theo trọng số)");
    /* 12004 = 100 + 100 + 0.6·800 + 100 + 100 = 880 */
    assert_near(need("dan_so", "commune", "12004", "2024").v, 880, 1e-9);
    /* unweighted ones stay: 12031 = 6000 */
    assert_near(need("dan_so", "commune", "12031", "2024").v, 6000, 1e-9);
    /* the rate of 11992: ngheo 0.3·40 + 10 + 30 = 52, tong 0.3·400 + 100 + 1000 = 1220 -> 5200/1220 */
    assert_near(need("ty_le_ho_ngheo", "commune", "11992", "2024").v, 5200.0 / 1220.0, 1e-12);

    /* weights that do not add up to 1 are refused, naming the old commune */
    kho_err_t err;
    int rc = kho_ind_load_weights(
        W, write_tmp("w-bad.csv", "old_code,new_code,weight\n11989,11992,0.3\n11989,11995,0.6\n"), &err);
    assert_int_equal(rc, KHO_EINVAL);
    assert_contains(err.msg, "11989");
    assert_contains(err.msg, "0.9");
    /* a row the conversion table does not have, a weight that is not a share: line numbers */
    rc = kho_ind_load_weights(W,
                              write_tmp("w-bad2.csv",
                                        "old_code,new_code,weight\n11989,11992,0.5\n11989,12031,0.5\n12004,11995,abc\n"
                                        "12004,12004,1.5\n"),
                              &err);
    assert_int_equal(rc, KHO_EINVAL);
    assert_contains(err.msg, "line 3");
    assert_contains(err.msg, "12031");
    assert_contains(err.msg, "line 4");
    assert_contains(err.msg, "line 5");
    /* the values were not rebuilt by refused files */
    assert_near(need("dan_so", "commune", "11992", "2024").v, 800, 1e-9);

    /* no weights: equal shares again */
    load_weights_ok("old_code,new_code,weight\n");
    assert_int_equal(count_weights(), 0);
    assert_near(need("dan_so", "commune", "11992", "2024").v, 1000, 1e-9);
    assert_near(need("dan_so", "commune", "11995", "2024").v, 2400, 1e-9);
}

/* kho_ind_load_weights: "nothing is loaded then" — a refused file leaves the weights that
 * were loaded before. */
static void test_refused_weights_keep_previous(void **state)
{
    (void)state;
    load_weights_ok("old_code,new_code,weight\n11989,11992,0.3\n11989,11995,0.7\n");
    assert_int_equal(count_weights(), 2);
    kho_err_t err;
    int rc = kho_ind_load_weights(
        W, write_tmp("w-bad.csv", "old_code,new_code,weight\n11989,11992,0.3\n11989,11995,0.6\n"), &err);
    assert_int_equal(rc, KHO_EINVAL);
    int64_t left = count_weights();
    kho_ind_build_t bs;
    rebuild(&bs);
    double v = need("dan_so", "commune", "11992", "2024").v;
    load_weights_ok("old_code,new_code,weight\n"); /* clean up before asserting */
    if (left != 2 || fabs(v - 800) > 1e-9)
        fail_msg("after a refused weights file: %lld weights left (expected the 2 loaded before); 11992 = %g after a "
                 "rebuild (expected 800 with weight 0.3)",
                 (long long)left, v);
}

/* ---- bad reports ------------------------------------------------------------------------ */

static void bad_import(const char *text, const char *needle1, const char *needle2)
{
    char *before = snapshot();
    int64_t v0 = current_version();
    kho_ingest_result_t res;
    kho_err_t err;
    int rc = ingest_text(text, &res, &err);
    kho_ingest_result_free(&res);
    if (rc == 0)
        fail_msg("an import with a bad report was accepted: %s", text);
    assert_contains(err.msg, DS);
    assert_contains(err.msg, needle1);
    assert_contains(err.msg, needle2);
    assert_int_equal(current_version(), v0);
    char *after = snapshot();
    if (strcmp(before, after) != 0)
        fail_msg("a refused import changed the values");
    assert_near(need("dan_so", "commune", "12031", "2024").v, 6000, 1e-9);
}

#define HEAD "indicator,unit_code,period,value\ndan_so,12031,2024,1\n"

static void test_bad_reports_refused(void **state)
{
    (void)state;
    bad_import(HEAD "khong_co,12031,2024,1\n", "line 3, field indicator", "khong_co");
    bad_import(HEAD "dan_so,99999,2024,1\n", "line 3, field unit", "99999");
    bad_import(HEAD "dan_so,12034,2024,abc\n", "line 3, field value", "abc");
    bad_import(HEAD "dan_so,12031,2024,2\n", "line 3", "second report of dan_so for unit 12031, period 2024");
    bad_import(HEAD "ty_le_ho_ngheo,12031,2024,3\n", "line 3, field indicator", "so_ho_ngheo");
    bad_import(HEAD "dan_so,12031,2024-Q1,3\n", "line 3, field period", "2024-Q1");
    bad_import(HEAD "grdp,12031,2024,3\n", "line 3, field unit", "a commune");
    bad_import(HEAD "dan_so,33,2024,3\n", "line 3, field unit", "a province");
    bad_import(HEAD "dan_so,12031,2024,\n", "line 3, field value", "empty");
    /* a good new version is taken: version 2, values rebuilt from it alone */
    kho_ingest_result_t res;
    kho_err_t err;
    char *text = kt_defer(free_str, strdup(BASE_CSV));
    char *p = strstr(text, "dan_so,12034,2024,2000\n");
    assert_non_null(p);
    memcpy(p, "dan_so,12034,2024,2100\n", strlen("dan_so,12034,2024,2100\n")); /* same length */
    int rc = ingest_text(text, &res, &err);
    kho_ingest_result_free(&res);
    if (rc != 0)
        fail_msg("good import: %s", err.msg);
    assert_int_equal(current_version(), 2);
    assert_near(need("dan_so", "commune", "12031", "2024").v, 6100, 1e-9); /* 1000 + 2100 + 3000 */
    got_t g = need("dan_so", "commune", "11992", "2024");
    assert_near(g.v, 1000, 1e-9);
}

/* One version with several bad reports: each problem is named ("naming the dataset, line and
 * field of each problem", indicators.h). */
static void test_bad_reports_all_named(void **state)
{
    (void)state;
    kho_ingest_result_t res;
    kho_err_t err;
    int rc = ingest_text(HEAD "khong_co,12031,2024,1\n"
                              "dan_so,99999,2024,1\n"
                              "dan_so,12034,2024,abc\n"
                              "dan_so,12031,2024,2\n",
                         &res, &err);
    kho_ingest_result_free(&res);
    assert_int_not_equal(rc, 0);
    assert_contains(err.msg, "line 3, field indicator");
    assert_contains(err.msg, "line 4, field unit");
    assert_contains(err.msg, "line 5, field value");
    assert_contains(err.msg, "line 6");
    assert_contains(err.msg, "4 problems");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_parse_number, kt_cleanup),
        cmocka_unit_test_teardown(test_periods, kt_cleanup),
        cmocka_unit_test_teardown(test_whole_merge, kt_cleanup),
        cmocka_unit_test_teardown(test_equal_split, kt_cleanup),
        cmocka_unit_test_teardown(test_missing_predecessor, kt_cleanup),
        cmocka_unit_test_teardown(test_rate_recomputed, kt_cleanup),
        cmocka_unit_test_teardown(test_province_sums, kt_cleanup),
        cmocka_unit_test_teardown(test_weighted_split, kt_cleanup),
        cmocka_unit_test_teardown(test_refused_weights_keep_previous, kt_cleanup),
        cmocka_unit_test_teardown(test_bad_reports_refused, kt_cleanup),
        cmocka_unit_test_teardown(test_bad_reports_all_named, kt_cleanup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
