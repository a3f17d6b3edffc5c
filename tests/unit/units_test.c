/* Unit tests of warehouse/units against the real lists in data/units: loading,
 * gaps, search with Vietnamese folding, lookup with history. Expected numbers
 * were derived from the CSV files independently (Python csv + unicodedata). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "core/log.h"
#include "core/strmap.h"
#include "core/text.h"
#include "kho_test.h"
#include "store/schema.h"
#include "store/store.h"
#include "warehouse/units.h"

static kho_store_t *W;
static char DIR_[128];
static char UNITS[PATH_MAX];
static kho_units_summary_t FIRST; /* the summary of the first load */

static int group_setup(void **state)
{
    (void)state;
    kho_log_set_level(KHO_LOG_WARN);
    if (!kt_find_units(UNITS, sizeof UNITS)) {
        fprintf(stderr, "cannot find data/units (set KHO_UNITS_DIR)\n");
        return -1;
    }
    snprintf(DIR_, sizeof DIR_, "/tmp/kho-units-test-XXXXXX");
    if (!mkdtemp(DIR_))
        return -1;
    char path[256];
    snprintf(path, sizeof path, "%s/kho.db", DIR_);
    kho_err_t err = {0};
    if (kho_store_open(path, KHO_STORE_CREATE, NULL, &W, &err) != 0 || kho_schema_migrate(W, &err) != 0 ||
        kho_units_load(W, UNITS, false, &FIRST, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    kho_store_close(W);
    nftw(DIR_, kt_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static void jdecref(void *p)
{
    json_decref(p);
}

static json_t *keep(json_t *j)
{
    return j ? kt_defer(jdecref, j) : NULL;
}

#define JGET(o, k) json_object_get((o), (k))
#define JSTR(o, k) json_string_value(json_object_get((o), (k)))
#define JINT(o, k) json_integer_value(json_object_get((o), (k)))

static json_t *search(const kho_units_query_t *q)
{
    json_t *out = NULL;
    kho_err_t err;
    int rc = kho_units_search(W, q, &out, &err);
    if (rc != 0)
        fail_msg("kho_units_search: %d %s", rc, err.msg);
    return keep(out);
}

static json_t *search_q(const char *text, long limit)
{
    kho_units_query_t q = {.q = text, .limit = limit};
    return search(&q);
}

static json_t *get(const char *code, const char *era)
{
    json_t *out = NULL;
    kho_err_t err;
    int rc = kho_units_get(W, code, era, &out, &err);
    if (rc != 0)
        fail_msg("kho_units_get(%s): %d %s", code, rc, err.msg);
    return keep(out);
}

static bool contains_ci(const char *hay, const char *needle_lower)
{
    kho_buf_t b = KHO_BUF_INIT;
    kho_text_lower(hay, strlen(hay), &b);
    bool hit = strstr(kho_buf_cstr(&b), needle_lower) != NULL;
    kho_buf_free(&b);
    return hit;
}

static void assert_json(json_t *got, const char *want_text)
{
    json_error_t je;
    json_t *want = keep(json_loads(want_text, 0, &je));
    if (!want)
        fail_msg("bad expected JSON: %s", je.text);
    if (!json_equal(got, want)) {
        char *g = kt_defer(free, json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY));
        fail_msg("JSON differs.\n--- got:  %s\n--- want: %s", g, want_text);
    }
}

/* ---- loading ------------------------------------------------------------------------ */

static void test_counts(void **state)
{
    (void)state;
    assert_false(FIRST.unchanged);
    assert_int_equal(FIRST.provinces, 34);
    assert_int_equal(FIRST.communes, 3321);
    assert_int_equal(FIRST.old_provinces, 63);
    assert_int_equal(FIRST.old_districts, 696);
    assert_int_equal(FIRST.old_communes, 10051);
    assert_int_equal(FIRST.conversions, 10565);
    assert_int_equal(FIRST.gaps, 50);
}

static void test_gaps(void **state)
{
    (void)state;
    json_t *gaps = NULL;
    kho_err_t err;
    assert_int_equal(kho_units_gaps(W, &gaps, &err), 0);
    keep(gaps);
    assert_int_equal(json_array_size(gaps), 50);
    size_t i;
    json_t *g;
    size_t by_kind[5] = {0};
    static const char *kinds[] = {"commune_without_conversion", "conversion_new_code_missing",
                                  "conversion_old_code_missing", "old_commune_without_conversion",
                                  "old_row_without_code"};
    kho_buf_t *without = kt_buf(), *old_missing = kt_buf();
    json_array_foreach(gaps, i, g)
    {
        const char *kind = JSTR(g, "kind");
        size_t k = 0;
        while (k < 5 && strcmp(kind, kinds[k]) != 0)
            k++;
        if (k == 5)
            fail_msg("unexpected gap kind %s", kind);
        by_kind[k]++;
        assert_true(strlen(JSTR(g, "detail")) > 10);
        if (k == 0)
            kho_buf_printf(without, "%s ", JSTR(g, "code"));
        if (k == 1) {
            assert_string_equal(JSTR(g, "code"), "23938");
            assert_non_null(strstr(JSTR(g, "detail"), "Ia Mơ"));
        }
        if (k == 2)
            kho_buf_printf(old_missing, "%s ", JSTR(g, "code"));
        if (k == 4)
            assert_int_equal(strlen(JSTR(g, "code")), 3); /* the district's code */
    }
    assert_int_equal(by_kind[0], 6);
    assert_int_equal(by_kind[1], 1);
    assert_int_equal(by_kind[2], 10);
    assert_int_equal(by_kind[3], 28);
    assert_int_equal(by_kind[4], 5);
    /* sorted by kind, then code */
    assert_string_equal(without->data, "11948 19742 20333 21548 23737 26732 ");
    assert_string_equal(old_missing->data, "03980 03983 03984 26929 26953 27076 27226 27232 27367 27373 ");
}

static void test_reload_unchanged_is_skipped(void **state)
{
    (void)state;
    kho_units_summary_t s;
    kho_err_t err;
    assert_int_equal(kho_units_load(W, UNITS, false, &s, &err), 0);
    assert_true(s.unchanged);
    assert_int_equal(s.provinces, 34);
    assert_int_equal(s.communes, 3321);
    assert_int_equal(s.conversions, 10565);
    assert_int_equal(s.gaps, 50);
    /* forced: done again, same result */
    assert_int_equal(kho_units_load(W, UNITS, true, &s, &err), 0);
    assert_false(s.unchanged);
    assert_int_equal(s.communes, 3321);
    assert_int_equal(s.old_communes, 10051);
    assert_int_equal(s.gaps, 50);
}

static void test_bad_files_change_nothing(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("units-test");
    kho_units_summary_t s;
    kho_err_t err;
    /* missing files */
    assert_int_equal(kho_units_load(W, dir, true, &s, &err), KHO_ENOTFOUND);
    assert_non_null(strstr(err.msg, "provinces.csv"));
    /* a damaged conversion table: refused whole, with file and line */
    const char *prov = "code,name,type\n01,Hà Nội,thành phố\n";
    kt_write_file(dir, "provinces.csv", prov, strlen(prov));
    const char *comm = "code,name,type,province_code\n00004,Phường Ba Đình,phường,01\n";
    kt_write_file(dir, "communes.csv", comm, strlen(comm));
    const char *old = "code,name,type,district_code,district_name,province_code,province_name\n"
                      "00004,Phường Trúc Bạch,phường,001,Quận Ba Đình,01,Thành phố Hà Nội\n";
    kt_write_file(dir, "communes-before-2025-07.csv", old, strlen(old));
    const char *conv = "new_code,new_name,new_province_code,old_code,old_name,old_district_code,old_district_name,"
                       "old_province_code,relation,note\n"
                       "00004,Phường Ba Đình,01,00004,Phường Trúc Bạch,001,Quận Ba Đình,01,whole,\n"
                       "00004,Phường Ba Đình,01,00004,Phường Trúc Bạch,001,Quận Ba Đình,01,maybe,\n";
    kt_write_file(dir, "conversion-2025-07.csv", conv, strlen(conv));
    assert_int_equal(kho_units_load(W, dir, true, &s, &err), KHO_EINVAL);
    assert_non_null(strstr(err.msg, "conversion-2025-07.csv line 3"));
    assert_non_null(strstr(err.msg, "maybe"));
    /* a header without a needed column */
    const char *hdr = "new_code,new_name\n1,2\n";
    kt_write_file(dir, "conversion-2025-07.csv", hdr, strlen(hdr));
    assert_int_equal(kho_units_load(W, dir, true, &s, &err), KHO_EINVAL);
    assert_non_null(strstr(err.msg, "new_province_code"));
    /* invalid UTF-8 in a list */
    const char *bad = "code,name,type,province_code\n00004,Ph\xff,phường,01\n";
    kt_write_file(dir, "communes.csv", bad, strlen(bad));
    assert_int_equal(kho_units_load(W, dir, true, &s, &err), KHO_EINVAL);
    assert_non_null(strstr(err.msg, "line 2"));
    /* the real lists are still there */
    assert_int_equal(kho_units_load(W, UNITS, false, &s, &err), 0);
    assert_true(s.unchanged);
    assert_int_equal(s.communes, 3321);
    json_t *u = get("12031", NULL);
    assert_string_equal(JSTR(u, "name"), "Xã Nghĩa Trụ");
}

static void test_codeset(void **state)
{
    (void)state;
    kho_strmap_t *m = NULL;
    kho_err_t err;
    assert_int_equal(kho_units_codeset(W, &m, &err), 0);
    size_t f = 0;
    assert_true(kho_strmap_get(m, "11953", 5, &f));
    assert_int_equal(f, KHO_UNIT_COMMUNE | KHO_UNIT_OLD_COMMUNE);
    assert_true(kho_strmap_get(m, "12034", 5, &f));
    assert_int_equal(f, KHO_UNIT_OLD_COMMUNE);
    assert_true(kho_strmap_get(m, "11948", 5, &f)); /* Bạch Long Vĩ: new, no old commune */
    assert_int_equal(f, KHO_UNIT_COMMUNE);
    assert_true(kho_strmap_get(m, "33", 2, &f));
    assert_int_equal(f, KHO_UNIT_PROVINCE | KHO_UNIT_OLD_PROVINCE);
    assert_true(kho_strmap_get(m, "34", 2, &f));
    assert_int_equal(f, KHO_UNIT_OLD_PROVINCE);
    assert_false(kho_strmap_get(m, "99999", 5, &f));
    assert_false(kho_strmap_get(m, "326", 3, &f)); /* districts are not in the set */
    kho_strmap_free(m);
}

/* ---- search ------------------------------------------------------------------------ */

static void test_search_folds_case_and_marks(void **state)
{
    (void)state;
    static const char *queries[] = {"nghia tru", "Nghĩa Trụ", "NGHIA TRU", "  nghĩa   TRỤ ",
                                    "Nghi\xcc\x83\x61 Tru\xcc\xa3"};
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        json_t *r = search_q(queries[i], 20);
        json_t *units = JGET(r, "units");
        if (json_array_size(units) == 0)
            fail_msg("no result for '%s'", queries[i]);
        json_t *first = json_array_get(units, 0);
        if (strcmp(JSTR(first, "code"), "12031") != 0)
            fail_msg("'%s': first result %s %s", queries[i], JSTR(first, "code"), JSTR(first, "name"));
        assert_string_equal(JSTR(first, "name"), "Xã Nghĩa Trụ");
        assert_string_equal(JSTR(first, "era"), "current");
        assert_string_equal(JSTR(first, "level"), "commune");
        assert_string_equal(JSTR(first, "province_code"), "33");
        assert_int_equal(JINT(r, "total"), 2); /* and Xã Nghĩa Trung (25417) */
        assert_string_equal(JSTR(json_array_get(units, 1), "code"), "25417");
    }
    /* the match kind */
    json_t *u = json_array_get(JGET(search_q("Nghĩa Trụ", 5), "units"), 0);
    assert_string_equal(JSTR(u, "match"), "exact");
    u = json_array_get(JGET(search_q("nghia tru", 5), "units"), 0);
    assert_string_equal(JSTR(u, "match"), "folded");
    /* nothing */
    json_t *r = search_q("zzzz không có", 5);
    assert_int_equal(JINT(r, "total"), 0);
    assert_int_equal(json_array_size(JGET(r, "units")), 0);
    /* LIKE wildcards are literal */
    assert_int_equal(JINT(search_q("%", 5), "total"), 0);
    assert_int_equal(JINT(search_q("_", 5), "total"), 0);
}

static void test_search_d_and_tone_ranking(void **state)
{
    (void)state;
    json_t *plain = search_q("dong", 1000), *hook = search_q("đông", 1000), *grave = search_q("Đồng", 1000);
    int64_t total = JINT(plain, "total");
    assert_true(total >= 147); /* 147 communes, plus provinces such as Đồng Nai */
    assert_int_equal(JINT(hook, "total"), total);
    assert_int_equal(JINT(grave, "total"), total);
    assert_int_equal(json_array_size(JGET(plain, "units")), (size_t)total);
    /* with tone marks, names carrying exactly those marks come first */
    static const struct {
        const char *q, *lower;
    } cases[] = {{"đông", "đông"}, {"Đồng", "đồng"}};
    for (size_t c = 0; c < 2; c++) {
        json_t *units = JGET(c == 0 ? hook : grave, "units"), *x;
        size_t i, accented = 0;
        bool seen_other = false;
        json_array_foreach(units, i, x)
        {
            bool acc = contains_ci(JSTR(x, "name"), cases[c].lower);
            if (acc && seen_other)
                fail_msg("'%s': %s (%s) ranks after a name without '%s'", cases[c].q, JSTR(x, "name"), JSTR(x, "code"),
                         cases[c].lower);
            seen_other = seen_other || !acc;
            accented += acc;
        }
        assert_true(accented >= 8);
        assert_true(contains_ci(JSTR(json_array_get(units, 0), "name"), cases[c].lower));
    }
    /* d and đ fold alike in the other direction too */
    json_t *r = search_q("dai dong", 50);
    bool found = false;
    size_t i;
    json_t *x;
    json_array_foreach(JGET(r, "units"), i, x) {
        found = found || strcmp(JSTR(x, "name"), "Xã Đại Đồng") == 0;
    }
    assert_true(found);
}

static void test_search_by_code_prefix(void **state)
{
    (void)state;
    json_t *r = search_q("120", 100);
    assert_int_equal(JINT(r, "total"), 9);
    json_t *x;
    size_t i;
    json_array_foreach(JGET(r, "units"), i, x)
    {
        assert_int_equal(strncmp(JSTR(x, "code"), "120", 3), 0);
        assert_string_equal(JSTR(x, "era"), "current");
    }
    r = search_q("12031", 10);
    assert_int_equal(JINT(r, "total"), 1);
    assert_string_equal(JSTR(json_array_get(JGET(r, "units"), 0), "name"), "Xã Nghĩa Trụ");
    /* every era: the old commune with the same code too */
    kho_units_query_t q = {.q = "12031", .era = "all", .limit = 10};
    r = search(&q);
    assert_int_equal(JINT(r, "total"), 2);
    assert_string_equal(JSTR(json_array_get(JGET(r, "units"), 0), "era"), "current");
    assert_string_equal(JSTR(json_array_get(JGET(r, "units"), 1), "era"), "old");
    /* an exact code ranks first */
    r = search_q("33", 5);
    assert_string_equal(JSTR(json_array_get(JGET(r, "units"), 0), "code"), "33");
}

static void test_search_filters(void **state)
{
    (void)state;
    kho_units_query_t q = {.province = "33", .limit = 1000};
    json_t *r = search(&q);
    assert_int_equal(JINT(r, "total"), 105); /* 104 communes and the province */
    json_t *first = json_array_get(JGET(r, "units"), 0);
    assert_string_equal(JSTR(first, "level"), "province");
    assert_string_equal(JSTR(first, "name"), "Tỉnh Hưng Yên");
    json_t *x;
    size_t i;
    json_array_foreach(JGET(r, "units"), i, x) {
        if (i > 0)
            assert_string_equal(JSTR(x, "province_code"), "33");
    }
    q.level = "commune";
    assert_int_equal(JINT(search(&q), "total"), 104);
    q.type = "phường";
    assert_int_equal(JINT(search(&q), "total"), 11);
    q.type = "XA";
    assert_int_equal(JINT(search(&q), "total"), 93);
    q.type = NULL;
    q.q = "nghia";
    r = search(&q);
    json_array_foreach(JGET(r, "units"), i, x) {
        assert_string_equal(JSTR(x, "province_code"), "33");
    }
    /* paging */
    kho_units_query_t p = {.province = "33", .level = "commune", .limit = 10, .offset = 100};
    r = search(&p);
    assert_int_equal(JINT(r, "total"), 104);
    assert_int_equal(json_array_size(JGET(r, "units")), 4);
    p.offset = 200;
    r = search(&p);
    assert_int_equal(JINT(r, "total"), 104); /* counted even past the end */
    assert_int_equal(json_array_size(JGET(r, "units")), 0);
    /* provinces */
    kho_units_query_t pr = {.level = "province", .limit = 100};
    assert_int_equal(JINT(search(&pr), "total"), 34);
    pr.era = "old";
    assert_int_equal(JINT(search(&pr), "total"), 63);
    pr.era = "all";
    assert_int_equal(JINT(search(&pr), "total"), 97);
}

static void test_search_bad_filters(void **state)
{
    (void)state;
    static const kho_units_query_t bad[] = {
        {.era = "future"},   {.level = "village"}, {.province = "3"},  {.province = "ab"},
        {.province = "333"}, {.type = "làng"},     {.era = "CURRENT"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *out = NULL;
        kho_err_t err;
        int rc = kho_units_search(W, &bad[i], &out, &err);
        if (rc != KHO_EINVAL)
            fail_msg("case %zu: rc %d, expected KHO_EINVAL", i, rc);
        assert_string_equal(kho_err_kind(&err), "bad_parameter");
        assert_null(out);
    }
}

/* ---- lookup ------------------------------------------------------------------------ */

static void test_get_current_commune(void **state)
{
    (void)state;
    json_t *u = get("11953", NULL);
    assert_string_equal(JSTR(u, "code"), "11953");
    assert_string_equal(JSTR(u, "name"), "Phường Phố Hiến");
    assert_string_equal(JSTR(u, "short_name"), "Phố Hiến");
    assert_string_equal(JSTR(u, "type"), "phường");
    assert_string_equal(JSTR(u, "era"), "current");
    assert_string_equal(JSTR(u, "level"), "commune");
    assert_string_equal(JSTR(u, "province_code"), "33");
    assert_string_equal(JSTR(u, "province_name"), "Hưng Yên");
    json_t *pred = JGET(u, "predecessors");
    assert_int_equal(json_array_size(pred), 6);
    assert_json(json_array_get(pred, 0),
                "{\"code\":\"11953\",\"name\":\"Phường Hiến Nam\",\"relation\":\"whole\",\"note\":\"Nhập toàn bộ\","
                "\"district\":{\"code\":\"323\",\"name\":\"Thành phố Hưng Yên\"},"
                "\"province\":{\"code\":\"33\",\"name\":\"Tỉnh Hưng Yên\"}}");
    static const char *codes[] = {"11953", "11956", "11959", "11962", "11971", "11974"};
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(JSTR(json_array_get(pred, i), "code"), codes[i]);
    assert_string_equal(JSTR(json_array_get(pred, 4), "name"), "Xã Trung Nghĩa");
    /* the same code also named a pre-2025 unit */
    json_t *old = JGET(u, "old_unit");
    assert_non_null(old);
    assert_string_equal(JSTR(old, "name"), "Phường Hiến Nam");
    assert_string_equal(JSTR(old, "era"), "old");
    assert_string_equal(JSTR(old, "district_code"), "323");
    assert_json(JGET(old, "successors"),
                "[{\"code\":\"11953\",\"name\":\"Phường Phố Hiến\",\"relation\":\"whole\","
                "\"note\":\"Nhập toàn bộ\",\"province\":{\"code\":\"33\",\"name\":\"Tỉnh Hưng Yên\"}}]");
    /* asking for the old era gives the old unit itself */
    u = get("11953", "old");
    assert_string_equal(JSTR(u, "name"), "Phường Hiến Nam");
    assert_int_equal(json_array_size(JGET(u, "successors")), 1);
    assert_null(JGET(u, "old_unit"));
    /* a 2025 commune without conversion rows */
    u = get("11948", NULL);
    assert_string_equal(JSTR(u, "name"), "Đặc khu Bạch Long Vĩ");
    assert_string_equal(JSTR(u, "type"), "đặc khu");
    assert_int_equal(json_array_size(JGET(u, "predecessors")), 0);
}

static void test_get_old_only_commune(void **state)
{
    (void)state;
    json_t *u = get("12034", NULL);
    assert_string_equal(JSTR(u, "era"), "old");
    assert_string_equal(JSTR(u, "level"), "commune");
    assert_string_equal(JSTR(u, "name"), "Xã Long Hưng");
    assert_string_equal(JSTR(u, "district_code"), "326");
    assert_string_equal(JSTR(u, "province_code"), "33");
    assert_null(JGET(u, "predecessors"));
    assert_json(JGET(u, "successors"),
                "[{\"code\":\"12031\",\"name\":\"Xã Nghĩa Trụ\",\"relation\":\"whole\","
                "\"note\":\"Nhập toàn bộ\",\"province\":{\"code\":\"33\",\"name\":\"Tỉnh Hưng Yên\"}}]");
    /* not a current unit */
    json_t *out = NULL;
    kho_err_t err;
    assert_int_equal(kho_units_get(W, "12034", "current", &out, &err), KHO_ENOTFOUND);
    assert_null(out);
}

static void test_get_province_and_district(void **state)
{
    (void)state;
    json_t *u = get("33", NULL);
    assert_string_equal(JSTR(u, "level"), "province");
    assert_string_equal(JSTR(u, "era"), "current");
    assert_string_equal(JSTR(u, "name"), "Tỉnh Hưng Yên");
    assert_string_equal(JSTR(u, "short_name"), "Hưng Yên");
    assert_json(JGET(u, "predecessors"), "[{\"code\":\"33\",\"name\":\"Tỉnh Hưng Yên\"},"
                                         "{\"code\":\"34\",\"name\":\"Tỉnh Thái Bình\"}]");
    json_t *old = JGET(u, "old_unit");
    assert_non_null(old);
    assert_json(JGET(old, "successors"), "[{\"code\":\"33\",\"name\":\"Tỉnh Hưng Yên\"}]");
    /* the old province that was absorbed */
    u = get("34", NULL);
    assert_string_equal(JSTR(u, "era"), "old");
    assert_string_equal(JSTR(u, "name"), "Tỉnh Thái Bình");
    assert_json(JGET(u, "successors"), "[{\"code\":\"33\",\"name\":\"Tỉnh Hưng Yên\"}]");
    /* an old district: the new communes its communes went to */
    u = get("326", NULL);
    assert_string_equal(JSTR(u, "level"), "district");
    assert_string_equal(JSTR(u, "name"), "Huyện Văn Giang");
    json_t *s = JGET(u, "successors");
    assert_int_equal(json_array_size(s), 4);
    static const char *codes[] = {"12019", "12025", "12031", "12049"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(JSTR(json_array_get(s, i), "code"), codes[i]);
}

static void test_get_errors(void **state)
{
    (void)state;
    static const struct {
        const char *code, *era;
        int rc;
        const char *kind;
    } cases[] = {
        {"99999", NULL, KHO_ENOTFOUND, "unknown_unit"},
        {"00", NULL, KHO_ENOTFOUND, "unknown_unit"},
        {"999", "old", KHO_ENOTFOUND, "unknown_unit"},
        {"1234", NULL, KHO_EINVAL, "bad_code"},
        {"123456", NULL, KHO_EINVAL, "bad_code"},
        {"1", NULL, KHO_EINVAL, "bad_code"},
        {"", NULL, KHO_EINVAL, "bad_code"},
        {"abcde", NULL, KHO_EINVAL, "bad_code"},
        {"1203a", NULL, KHO_EINVAL, "bad_code"},
        {" 12031", NULL, KHO_EINVAL, "bad_code"},
        {"１２０３１", NULL, KHO_EINVAL, "bad_code"},
        {"12031", "future", KHO_EINVAL, "bad_parameter"},
        {"12031", "all", KHO_EINVAL, "bad_parameter"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *out = NULL;
        kho_err_t err = {0};
        int rc = kho_units_get(W, cases[i].code, cases[i].era, &out, &err);
        if (rc != cases[i].rc || strcmp(kho_err_kind(&err), cases[i].kind) != 0)
            fail_msg("kho_units_get('%s', %s): %d %s, expected %d %s", cases[i].code,
                     cases[i].era ? cases[i].era : "NULL", rc, kho_err_kind(&err), cases[i].rc, cases[i].kind);
        assert_null(out);
        if (rc == KHO_EINVAL && strcmp(cases[i].kind, "bad_code") == 0 && cases[i].code[0])
            assert_non_null(strstr(err.msg, cases[i].code)); /* the message quotes the code */
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_teardown(f, kt_cleanup)
    const struct CMUnitTest tests[] = {
        T(test_counts),
        T(test_gaps),
        T(test_reload_unchanged_is_skipped),
        T(test_bad_files_change_nothing),
        T(test_codeset),
        T(test_search_folds_case_and_marks),
        T(test_search_d_and_tone_ranking),
        T(test_search_by_code_prefix),
        T(test_search_filters),
        T(test_search_bad_filters),
        T(test_get_current_commune),
        T(test_get_old_only_commune),
        T(test_get_province_and_district),
        T(test_get_errors),
    };
    if (getenv("KHO_TEST_FILTER"))
        cmocka_set_test_filter(getenv("KHO_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
