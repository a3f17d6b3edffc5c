/* Unit tests of warehouse/ingest, end to end on a real SQLite database in a
 * temporary directory (with the administrative units loaded, so that commune
 * codes are recognised): naming, whole-file inference, declared types and
 * rejections, refusals that write nothing, versions, JSON/NDJSON, exports. */
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

#include "core/jsonw.h"
#include "core/log.h"
#include "kho_test.h"
#include "store/schema.h"
#include "store/store.h"
#include "warehouse/catalog.h"
#include "warehouse/ingest.h"
#include "warehouse/rows.h"
#include "warehouse/units.h"

static kho_store_t *W;       /* the writable connection, shared by every test */
static char DIR_[128];       /* the temporary data directory */
static char UNITS[PATH_MAX]; /* data/units of the repository */

/* ---- fixture ----------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    kho_log_set_level(KHO_LOG_WARN);
    if (!kt_find_units(UNITS, sizeof UNITS)) {
        fprintf(stderr, "cannot find data/units (set KHO_UNITS_DIR)\n");
        return -1;
    }
    snprintf(DIR_, sizeof DIR_, "/tmp/kho-ingest-test-XXXXXX");
    if (!mkdtemp(DIR_))
        return -1;
    char path[256];
    snprintf(path, sizeof path, "%s/kho.db", DIR_);
    kho_err_t err = {0};
    if (kho_store_open(path, KHO_STORE_CREATE, NULL, &W, &err) != 0 || kho_schema_migrate(W, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    kho_units_summary_t sum;
    if (kho_units_load(W, UNITS, false, &sum, &err) != 0) {
        fprintf(stderr, "setup: units: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    kho_store_close(W);
    W = NULL;
    nftw(DIR_, kt_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------ */

static void res_destroy(void *p)
{
    kho_ingest_result_free(p);
    free(p);
}

static kho_ingest_result_t *new_res(void)
{
    return kt_defer(res_destroy, calloc(1, sizeof(kho_ingest_result_t)));
}

static void jdecref(void *p)
{
    json_decref(p);
}

/* Keep a JSON value until teardown. */
static json_t *keep(json_t *j)
{
    return j ? kt_defer(jdecref, j) : NULL;
}

static json_t *parse(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j)
        fail_msg("not JSON (%s): %s", je.text, text);
    return keep(j);
}

static kho_ingest_opts_t opts(const char *slug)
{
    kho_ingest_opts_t o = {
        .dataset = slug, .meta = KHO_DATASET_META_INIT, .reject_threshold = -1, .source_name = "data.csv"};
    return o;
}

static int ingest(const char *text, size_t n, const kho_ingest_opts_t *o, kho_ingest_result_t *res, kho_err_t *err)
{
    kho_source_t src = {.mem = text, .len = n, .name = "data.csv"};
    memset(err, 0, sizeof *err);
    return kho_ingest(W, &src, o, res, err);
}

/* Import text as slug with default options; fails the test on error. */
static kho_ingest_result_t *import_ok(const char *slug, const char *text, const kho_ingest_opts_t *o)
{
    kho_ingest_opts_t d = opts(slug);
    kho_ingest_result_t *res = new_res();
    kho_err_t err;
    int rc = ingest(text, strlen(text), o ? o : &d, res, &err);
    if (rc != 0)
        fail_msg("import of %s failed: %d %s: %s", slug, rc, kho_err_kind(&err), err.msg);
    return res;
}

static void ingest_destroy(void *p)
{
    kho_ingest_free(p);
}

static void vinfo_destroy(void *p)
{
    kho_version_info_free(p);
    free(p);
}

static kho_version_info_t *version(const char *slug, int64_t number)
{
    kho_version_info_t *v = calloc(1, sizeof *v);
    kho_err_t err;
    int rc = kho_catalog_version(W, slug, number, v, &err);
    if (rc != 0) {
        free(v);
        fail_msg("kho_catalog_version(%s, %lld): %s", slug, (long long)number, err.msg);
    }
    return kt_defer(vinfo_destroy, v);
}

/* All rows of a version as a JSON array (via the row pages). */
static json_t *rows(const char *slug, int64_t number)
{
    kho_version_info_t *v = version(slug, number);
    kho_buf_t *b = kt_buf();
    kho_err_t err;
    if (kho_rows_page_json(W, v, NULL, 1000000, 0, b, &err) != 0)
        fail_msg("rows of %s: %s", slug, err.msg);
    return parse(kho_buf_cstr(b));
}

static json_t *dataset(const char *slug)
{
    json_t *d = NULL;
    kho_err_t err;
    if (kho_catalog_dataset(W, slug, &d, &err) != 0)
        fail_msg("kho_catalog_dataset(%s): %s", slug, err.msg);
    return keep(d);
}

static bool exists(const char *slug)
{
    int64_t id;
    kho_err_t err;
    int rc = kho_catalog_find(W, slug, &id, &err);
    if (rc != 0 && rc != KHO_ENOTFOUND)
        fail_msg("kho_catalog_find: %s", err.msg);
    return rc == 0;
}

static int64_t query_int(const char *sql)
{
    int64_t v = -1;
    kho_err_t err;
    if (kho_store_query_int(W, sql, &v, &err) != 0)
        fail_msg("%s: %s", sql, err.msg);
    return v;
}

/* Tables named ds<id>_v<number> for a dataset slug. */
static int64_t version_tables(const char *slug, int number)
{
    int64_t id;
    kho_err_t err;
    if (kho_catalog_find(W, slug, &id, &err) != 0)
        return query_int("SELECT 0");
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ds%lld_v%d'",
             (long long)id, number);
    return query_int(sql);
}

#define JGET(obj, key) json_object_get((obj), (key))
#define JSTR(obj, key) json_string_value(json_object_get((obj), (key)))
#define JINT(obj, key) json_integer_value(json_object_get((obj), (key)))

/* The quality report's entry for a column name. */
static json_t *qcol(json_t *quality, const char *name)
{
    json_t *cols = JGET(quality, "columns"), *c;
    size_t i;
    json_array_foreach(cols, i, c) {
        if (strcmp(JSTR(c, "name"), name) == 0)
            return c;
    }
    fail_msg("no column %s in the quality report", name);
    return NULL;
}

/* Assert that the JSON value equals the JSON text. */
static void assert_json(json_t *got, const char *want_text)
{
    json_t *want = parse(want_text);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
        kt_defer(free, g);
        fail_msg("JSON differs.\n--- got:  %s\n--- want: %s", g, want_text);
    }
}

static bool has_string(json_t *arr, const char *needle)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (strstr(json_string_value(v), needle))
            return true;
    }
    return false;
}

/* ---- a first import ------------------------------------------------------------------ */

static const char T1[] = "Mã xã,Dân số (người),Tỷ lệ (%),Ngày báo cáo,Có trường học,Ghi chú\r\n"
                         "12031,12.345,\"45,5\",31/03/2024,có,Xã Nghĩa Trụ\r\n"
                         "11953,8.001,\"50,25\",01/04/2024,không,\r\n";
/* printf '%s' "$T1" | sha256sum */
static const char T1_SHA[] = "d9a4791b239cdd0ed474790edb12faf808116ef6c16e5ca2e8d6fe784301ad8d";

static void test_csv_import_creates_version_1(void **state)
{
    (void)state;
    kho_ingest_result_t *res = import_ok("thong-ke-xa", T1, NULL);
    assert_int_equal(res->version, 1);
    assert_int_equal(res->rows_read, 2);
    assert_int_equal(res->rows_loaded, 2);
    assert_int_equal(res->rows_rejected, 0);
    assert_non_null(res->quality);

    kho_version_info_t *v = version("thong-ke-xa", 0);
    assert_int_equal(v->number, 1);
    assert_int_equal(v->rows, 2);
    assert_int_equal(v->ncols, 6);
    static const struct {
        const char *name, *label;
        kho_type_t type;
        const char *tags;
    } want[] = {{"ma_xa", "Mã xã", KHO_TYPE_TEXT, "commune_code"},
                {"dan_so_nguoi", "Dân số (người)", KHO_TYPE_INTEGER, ""},
                {"ty_le", "Tỷ lệ (%)", KHO_TYPE_REAL, ""},
                {"ngay_bao_cao", "Ngày báo cáo", KHO_TYPE_DATE, ""},
                {"co_truong_hoc", "Có trường học", KHO_TYPE_BOOLEAN, ""},
                {"ghi_chu", "Ghi chú", KHO_TYPE_TEXT, ""}};
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(v->cols[i].name, want[i].name);
        assert_string_equal(v->cols[i].label, want[i].label);
        if (v->cols[i].type != want[i].type)
            fail_msg("column %s: type %s, expected %s", want[i].name, kho_type_name(v->cols[i].type),
                     kho_type_name(want[i].type));
        assert_string_equal(v->cols[i].tags, want[i].tags);
    }

    /* the rows, typed: 12.345 is Vietnamese 12345 because 45,5 shows the file's convention */
    assert_json(rows("thong-ke-xa", 0),
                "[{\"_row\":1,\"ma_xa\":\"12031\",\"dan_so_nguoi\":12345,\"ty_le\":45.5,"
                "\"ngay_bao_cao\":\"2024-03-31\",\"co_truong_hoc\":true,\"ghi_chu\":\"Xã Nghĩa Trụ\"},"
                "{\"_row\":2,\"ma_xa\":\"11953\",\"dan_so_nguoi\":8001,\"ty_le\":50.25,"
                "\"ngay_bao_cao\":\"2024-04-01\",\"co_truong_hoc\":false,\"ghi_chu\":null}]");

    /* the catalog */
    json_t *d = dataset("thong-ke-xa");
    assert_int_equal(JINT(d, "current_version"), 1);
    assert_int_equal(JINT(d, "row_count"), 2);
    json_t *vers = JGET(d, "versions");
    assert_int_equal(json_array_size(vers), 1);
    json_t *v1 = json_array_get(vers, 0);
    assert_int_equal(JINT(v1, "number"), 1);
    assert_int_equal(JINT(v1, "row_count"), 2);
    assert_int_equal(JINT(v1, "bytes"), sizeof T1 - 1);
    assert_string_equal(JSTR(v1, "format"), "csv");
    assert_string_equal(JSTR(v1, "source"), "data.csv");
    char sha[65];
    kt_sha256_hex(T1, sizeof T1 - 1, sha);
    assert_string_equal(JSTR(v1, "sha256"), sha);
    assert_string_equal(JSTR(v1, "sha256"), T1_SHA);
    assert_json(JGET(d, "columns"),
                "[{\"name\":\"ma_xa\",\"label\":\"Mã xã\",\"type\":\"text\",\"tags\":[\"commune_code\"]},"
                "{\"name\":\"dan_so_nguoi\",\"label\":\"Dân số (người)\",\"type\":\"integer\",\"tags\":[]},"
                "{\"name\":\"ty_le\",\"label\":\"Tỷ lệ (%)\",\"type\":\"real\",\"tags\":[]},"
                "{\"name\":\"ngay_bao_cao\",\"label\":\"Ngày báo cáo\",\"type\":\"date\",\"tags\":[]},"
                "{\"name\":\"co_truong_hoc\",\"label\":\"Có trường học\",\"type\":\"boolean\",\"tags\":[]},"
                "{\"name\":\"ghi_chu\",\"label\":\"Ghi chú\",\"type\":\"text\",\"tags\":[]}]");

    /* the quality report, as returned and as stored */
    json_t *q = JGET(d, "quality");
    assert_true(json_is_object(q));
    assert_string_equal(JSTR(q, "format"), "csv");
    assert_string_equal(JSTR(q, "delimiter"), ",");
    assert_true(json_is_false(JGET(q, "bom")));
    assert_string_equal(JSTR(q, "sha256"), sha);
    assert_int_equal(JINT(q, "rows_read"), 2);
    assert_int_equal(JINT(q, "rows_loaded"), 2);
    assert_int_equal(JINT(q, "rows_rejected"), 0);
    assert_int_equal(json_array_size(JGET(q, "rejected")), 0);
    assert_true(has_string(JGET(q, "warnings"), "dan_so_nguoi")); /* 12.345 was ambiguous */
    json_t *dc = qcol(q, "dan_so_nguoi");
    assert_string_equal(JSTR(dc, "decimal"), "comma");
    assert_int_equal(JINT(dc, "min"), 8001);
    assert_int_equal(JINT(dc, "max"), 12345);
    assert_int_equal(JINT(dc, "distinct"), 2);
    assert_int_equal(JINT(qcol(q, "ghi_chu"), "nulls"), 1);
    assert_json(JGET(qcol(q, "ma_xa"), "codes"),
                "{\"current\":2,\"pre_2025_only\":0,\"unknown\":0,\"unknown_examples\":[]}");
    /* the stored report is the returned one (compared as written: integral reals
     * such as rejected_share 0 are written without ".0" and read back as integers) */
    kho_buf_t *stored = kt_buf(), *returned = kt_buf();
    kho_json_dump(stored, q, 0);
    kho_json_dump(returned, res->quality, 0);
    assert_string_equal(stored->data, returned->data);
}

/* ---- names --------------------------------------------------------------------------- */

static void test_header_names(void **state)
{
    (void)state;
    const char *csv = "a,a,,A,Dân số (người),dan_so_nguoi, ,2024,Tỷ lệ đúng hạn (%)\n"
                      "1,2,3,4,5,6,7,8,9\n";
    kho_ingest_result_t *res = import_ok("ten-cot", csv, NULL);
    kho_version_info_t *v = version("ten-cot", 0);
    static const char *names[] = {"a",        "a_2",    "column_3",      "a_3", "dan_so_nguoi", "dan_so_nguoi_2",
                                  "column_7", "c_2024", "ty_le_dung_han"};
    static const char *labels[] = {
        "a", "a", "", "A", "Dân số (người)", "dan_so_nguoi", "", "2024", "Tỷ lệ đúng hạn (%)"};
    assert_int_equal(v->ncols, 9);
    for (size_t i = 0; i < 9; i++) {
        assert_string_equal(v->cols[i].name, names[i]);
        assert_string_equal(v->cols[i].label, labels[i]);
        assert_int_equal(v->cols[i].type, KHO_TYPE_INTEGER);
    }
    json_t *w = JGET(res->quality, "warnings");
    assert_true(has_string(w, "column 2: header 'a' repeats an earlier name: named a_2"));
    assert_true(has_string(w, "column 3 has an empty header: named column_3"));
    assert_true(has_string(w, "column 4: header 'A' repeats an earlier name: named a_3"));
    assert_true(has_string(w, "named dan_so_nguoi_2"));
    assert_true(has_string(w, "column 7 has an empty header: named column_7"));
    assert_int_equal(json_array_size(w), 5);
    assert_json(rows("ten-cot", 0), "[{\"_row\":1,\"a\":1,\"a_2\":2,\"column_3\":3,\"a_3\":4,\"dan_so_nguoi\":5,"
                                    "\"dan_so_nguoi_2\":6,\"column_7\":7,\"c_2024\":8,\"ty_le_dung_han\":9}]");
}

/* ---- inference over the whole file ------------------------------------------------ */

static void test_whole_file_inference(void **state)
{
    (void)state;
    kho_buf_t *b = kt_buf();
    kho_buf_puts(b, "id,so,ten\n");
    for (int i = 1; i <= 50000; i++)
        kho_buf_printf(b, "%d,%s,x%d\n", i, i == 50000 ? "abc" : i % 7 == 0 ? "1.234.567" : "42", i % 10);
    kho_ingest_result_t *res = import_ok("ca-tep", b->data, NULL);
    assert_int_equal(res->rows_loaded, 50000);
    assert_int_equal(res->rows_rejected, 0);
    kho_version_info_t *v = version("ca-tep", 0);
    assert_int_equal(v->rows, 50000);
    assert_int_equal(v->cols[0].type, KHO_TYPE_INTEGER);
    assert_int_equal(v->cols[1].type, KHO_TYPE_TEXT); /* one bad value at the very end */
    assert_int_equal(v->cols[2].type, KHO_TYPE_TEXT);
    json_t *so = qcol(res->quality, "so");
    const char *hint = JSTR(so, "hint");
    assert_non_null(hint);
    assert_non_null(strstr(hint, "49999 of 50000 values are numbers"));
    assert_json(JGET(so, "hint_examples"), "[{\"line\":50001,\"value\":\"abc\"}]");
    assert_null(JGET(qcol(res->quality, "ten"), "hint"));
    assert_null(JGET(qcol(res->quality, "id"), "hint"));
    /* the values are kept as written */
    kho_buf_t *page = kt_buf();
    kho_err_t err;
    assert_int_equal(kho_rows_page_json(W, v, NULL, 2, 49998, page, &err), 0);
    assert_json(parse(page->data), "[{\"_row\":49999,\"id\":49999,\"so\":\"42\",\"ten\":\"x9\"},"
                                   "{\"_row\":50000,\"id\":50000,\"so\":\"abc\",\"ten\":\"x0\"}]");
    kho_buf_reset(page);
    assert_int_equal(kho_rows_page_json(W, v, NULL, 1, 6, page, &err), 0);
    assert_json(parse(page->data), "[{\"_row\":7,\"id\":7,\"so\":\"1.234.567\",\"ten\":\"x7\"}]");
}

static void test_file_evidence_and_forced_decimal(void **state)
{
    (void)state;
    const char *csv = "a,b\n1.234,1.5\n2.345,2.5\n";
    import_ok("so-quoc-te", csv, NULL); /* b shows '.' is the decimal mark */
    assert_json(rows("so-quoc-te", 0), "[{\"_row\":1,\"a\":1.234,\"b\":1.5},{\"_row\":2,\"a\":2.345,\"b\":2.5}]");
    csv = "a,b\n1.234,\"1,5\"\n2.345,\"2,5\"\n";
    import_ok("so-viet", csv, NULL); /* b shows ',' */
    assert_json(rows("so-viet", 0), "[{\"_row\":1,\"a\":1234,\"b\":1.5},{\"_row\":2,\"a\":2345,\"b\":2.5}]");
    /* no evidence: Vietnamese, with a warning */
    kho_ingest_result_t *res = import_ok("so-mo-ho", "a\n1.234\n2.345\n", NULL);
    assert_json(rows("so-mo-ho", 0), "[{\"_row\":1,\"a\":1234},{\"_row\":2,\"a\":2345}]");
    assert_true(has_string(JGET(res->quality, "warnings"), "read as Vietnamese"));
    /* forced by the option */
    kho_ingest_opts_t o = opts("so-ep-cham");
    o.decimal = KHO_DEC_DOT;
    import_ok("so-ep-cham", "a,b\n1.234,1.000\n2.345,x\n", &o);
    kho_version_info_t *v = version("so-ep-cham", 0);
    assert_int_equal(v->cols[0].type, KHO_TYPE_REAL);
    assert_json(rows("so-ep-cham", 0),
                "[{\"_row\":1,\"a\":1.234,\"b\":\"1.000\"},{\"_row\":2,\"a\":2.345,\"b\":\"x\"}]");
    o = opts("so-ep-phay");
    o.decimal = KHO_DEC_COMMA;
    import_ok("so-ep-phay", "a,b\n1.234,1.5\n", &o);
    v = version("so-ep-phay", 0);
    assert_int_equal(v->cols[0].type, KHO_TYPE_INTEGER);
    assert_int_equal(v->cols[1].type, KHO_TYPE_TEXT); /* 1.5 cannot be read with a decimal comma */
}

static void test_null_marks(void **state)
{
    (void)state;
    const char *csv = "n,t\n1,a\n-,N/A\n,\n n/a ,#N/A\n5,không rõ\n";
    kho_ingest_result_t *res = import_ok("gia-tri-trong", csv, NULL);
    kho_version_info_t *v = version("gia-tri-trong", 0);
    assert_int_equal(v->cols[0].type, KHO_TYPE_INTEGER);
    assert_json(
        rows("gia-tri-trong", 0),
        "[{\"_row\":1,\"n\":1,\"t\":\"a\"},{\"_row\":2,\"n\":null,\"t\":null},{\"_row\":3,\"n\":null,\"t\":null},"
        "{\"_row\":4,\"n\":null,\"t\":null},{\"_row\":5,\"n\":5,\"t\":\"không rõ\"}]");
    assert_int_equal(JINT(qcol(res->quality, "n"), "nulls"), 3);
    /* custom marks */
    kho_ingest_opts_t o = opts("gia-tri-trong-2");
    o.null_marks = "x|không rõ";
    import_ok("gia-tri-trong-2", csv, &o);
    assert_json(rows("gia-tri-trong-2", 0),
                "[{\"_row\":1,\"n\":\"1\",\"t\":\"a\"},{\"_row\":2,\"n\":\"-\",\"t\":\"N/"
                "A\"},{\"_row\":3,\"n\":null,\"t\":null},"
                "{\"_row\":4,\"n\":\"n/a\",\"t\":\"#N/A\"},{\"_row\":5,\"n\":\"5\",\"t\":null}]");
}

/* ---- declared types and rejections ---------------------------------------------- */

static char *numbered_csv(int nrows, const char *header, const char *(*cell)(int i, char *buf))
{
    kho_buf_t *b = kt_buf();
    kho_buf_printf(b, "%s\n", header);
    char tmp[64];
    for (int i = 1; i <= nrows; i++)
        kho_buf_printf(b, "r%d,%s\n", i, cell(i, tmp));
    return b->data;
}

static const char *cell_7_12_bad(int i, char *buf)
{
    if (i == 7)
        return "bảy,31/03/2024";
    if (i == 12)
        return "\"1,5\",01/04/2024";
    if (i == 15)
        return "15,31/02/2024";
    snprintf(buf, 64, "%d,0%d/01/2024", i * 10, i % 9 + 1);
    return buf;
}

static void test_declared_types_reject_rows(void **state)
{
    (void)state;
    const char *csv = numbered_csv(30, "ma,Số lượng,ngay", cell_7_12_bad);
    kho_coldecl_t decls[] = {{"Số lượng", "integer"}, {"ngay", "date"}};
    kho_ingest_opts_t o = opts("khai-bao");
    o.decls = decls;
    o.ndecls = 2;
    kho_ingest_result_t *res = import_ok("khai-bao", csv, &o); /* 3 of 30: exactly 10%, allowed */
    assert_int_equal(res->rows_read, 30);
    assert_int_equal(res->rows_rejected, 3);
    assert_int_equal(res->rows_loaded, 27);
    json_t *q = res->quality;
    assert_json(JGET(q, "rejected"),
                "[{\"line\":8,\"record\":7,\"reason\":\"column 2: 'bảy' is not an integer\",\"column\":\"so_luong\"},"
                "{\"line\":13,\"record\":12,\"reason\":\"column 2: '1,5' is not an integer\",\"column\":\"so_luong\"},"
                "{\"line\":16,\"record\":15,\"reason\":\"column 3: '31/02/2024' is not a date\",\"column\":\"ngay\"}]");
    assert_int_equal(JINT(JGET(q, "rejected_by_reason"), "declared_type"), 3);
    assert_int_equal(JINT(JGET(q, "rejected_by_reason"), "field_count"), 0);
    kho_version_info_t *v = version("khai-bao", 0);
    assert_int_equal(v->rows, 27);
    assert_string_equal(v->cols[1].name, "so_luong");
    assert_int_equal(v->cols[1].type, KHO_TYPE_INTEGER);
    assert_int_equal(v->cols[2].type, KHO_TYPE_DATE);
    json_t *r = rows("khai-bao", 0);
    assert_int_equal(json_array_size(r), 27);
    /* good rows keep file order and are numbered 1..27 */
    assert_json(json_array_get(r, 6), "{\"_row\":7,\"ma\":\"r8\",\"so_luong\":80,\"ngay\":\"2024-01-09\"}");
    assert_json(json_array_get(r, 26), "{\"_row\":27,\"ma\":\"r30\",\"so_luong\":300,\"ngay\":\"2024-01-04\"}");
    assert_int_equal(JINT(dataset("khai-bao"), "row_count"), 27);
}

/* A declared integer column accepts 1,234 (an integer when ',' groups
 * thousands): it must load as 1234, not as some other number. */
static void test_declared_integer_keeps_value(void **state)
{
    (void)state;
    kho_coldecl_t decls[] = {{"n", "integer"}};
    kho_ingest_opts_t o = opts("khai-bao-nguyen");
    o.decls = decls;
    o.ndecls = 1;
    kho_ingest_result_t *res = import_ok("khai-bao-nguyen", "n\n\"1,234\"\n\"12,000\"\n7\n", &o);
    assert_int_equal(res->rows_rejected, 0);
    assert_json(rows("khai-bao-nguyen", 0), "[{\"_row\":1,\"n\":1234},{\"_row\":2,\"n\":12000},{\"_row\":3,\"n\":7}]");
}

static void test_ragged_rows_rejected(void **state)
{
    (void)state;
    kho_buf_t *b = kt_buf();
    kho_buf_puts(b, "a,b,c\n");
    for (int i = 1; i <= 20; i++)
        kho_buf_printf(b, i == 4 ? "%d,2\n" : i == 9 ? "%d,2,3,4\n" : "%d,2,3\n", i);
    kho_ingest_result_t *res = import_ok("hang-le", b->data, NULL);
    assert_int_equal(res->rows_rejected, 2);
    assert_int_equal(res->rows_loaded, 18);
    assert_json(JGET(res->quality, "rejected"),
                "[{\"line\":5,\"record\":4,\"reason\":\"expected 3 fields as in the header, found 2\"},"
                "{\"line\":10,\"record\":9,\"reason\":\"expected 3 fields as in the header, found 4\"}]");
    assert_int_equal(JINT(JGET(res->quality, "rejected_by_reason"), "field_count"), 2);
    assert_int_equal(version("hang-le", 0)->rows, 18);
}

static void test_too_many_rejected_writes_nothing(void **state)
{
    (void)state;
    kho_buf_t *b = kt_buf();
    kho_buf_puts(b, "a,b\n");
    for (int i = 1; i <= 10; i++)
        kho_buf_printf(b, i == 3 || i == 6 ? "%d\n" : "%d,x\n", i); /* 2 of 10 = 20% */
    kho_ingest_result_t *res = new_res();
    kho_err_t err;
    kho_ingest_opts_t o = opts("tu-choi");
    assert_int_equal(ingest(b->data, b->len, &o, res, &err), KHO_EREJECTED);
    assert_string_equal(kho_err_kind(&err), "too_many_rejected");
    assert_non_null(strstr(err.msg, "2 of 10"));
    assert_non_null(strstr(err.msg, "line 4"));
    assert_int_equal(res->version, 0);
    assert_int_equal(res->rows_loaded, 0);
    assert_int_equal(res->rows_rejected, 2);
    assert_non_null(res->quality);
    assert_int_equal(JINT(res->quality, "rows_rejected"), 2);
    assert_int_equal(json_array_size(JGET(res->quality, "rejected")), 2);
    assert_false(exists("tu-choi"));
    /* a lower threshold refuses what the default accepts */
    kho_ingest_result_free(res);
    o.reject_threshold = 0.05;
    kho_buf_reset(b);
    kho_buf_puts(b, "a,b\n");
    for (int i = 1; i <= 10; i++)
        kho_buf_printf(b, i == 3 ? "%d\n" : "%d,x\n", i); /* 10% */
    assert_int_equal(ingest(b->data, b->len, &o, res, &err), KHO_EREJECTED);
    assert_false(exists("tu-choi"));
    /* a dataset with a version keeps it */
    kho_ingest_result_free(res);
    import_ok("tu-choi-2", "a,b\n1,x\n", NULL);
    o = opts("tu-choi-2");
    kho_buf_reset(b);
    kho_buf_puts(b, "a,b\n1\n2\n3,x\n");
    assert_int_equal(ingest(b->data, b->len, &o, res, &err), KHO_EREJECTED);
    assert_int_equal(version("tu-choi-2", 0)->number, 1);
    assert_int_equal(version_tables("tu-choi-2", 2), 0);
    assert_int_equal(JINT(dataset("tu-choi-2"), "current_version"), 1);
}

static void test_strict_mode(void **state)
{
    (void)state;
    kho_buf_t *b = kt_buf();
    kho_buf_puts(b, "a,b\n");
    for (int i = 1; i <= 100; i++)
        kho_buf_printf(b, i == 77 ? "%d,x\n" : "%d,%d\n", i, i);
    kho_coldecl_t decls[] = {{"b", "int"}};
    kho_ingest_opts_t o = opts("nghiem-ngat");
    o.decls = decls;
    o.ndecls = 1;
    o.strict = true;
    kho_ingest_result_t *res = new_res();
    kho_err_t err;
    assert_int_equal(ingest(b->data, b->len, &o, res, &err), KHO_EREJECTED);
    assert_string_equal(kho_err_kind(&err), "rejected_strict");
    assert_non_null(strstr(err.msg, "1 of 100"));
    assert_non_null(strstr(err.msg, "line 78"));
    assert_true(json_is_true(JGET(res->quality, "strict")));
    assert_false(exists("nghiem-ngat"));
    /* without strict the same file loads */
    o.strict = false;
    kho_ingest_result_free(res);
    assert_int_equal(ingest(b->data, b->len, &o, res, &err), 0);
    assert_int_equal(res->rows_loaded, 99);
}

/* ---- versions ------------------------------------------------------------------------- */

static void test_second_import_makes_version_2(void **state)
{
    (void)state;
    import_ok("hai-phien-ban", "ma,so\na,1\nb,2\n", NULL);
    kho_ingest_result_t *res = import_ok("hai-phien-ban", "ma,so,ghi_chu\na,1.5,x\nb,2,y\nc,3,z\n", NULL);
    assert_int_equal(res->version, 2);
    kho_version_info_t *cur = version("hai-phien-ban", 0), *v1 = version("hai-phien-ban", 1),
                       *v2 = version("hai-phien-ban", 2);
    assert_int_equal(cur->number, 2);
    assert_string_equal(cur->table, v2->table);
    assert_int_equal(v1->number, 1);
    assert_int_equal(v1->rows, 2);
    assert_int_equal(v1->ncols, 2);
    assert_int_equal(v1->cols[1].type, KHO_TYPE_INTEGER);
    assert_int_equal(v2->rows, 3);
    assert_int_equal(v2->ncols, 3);
    assert_int_equal(v2->cols[1].type, KHO_TYPE_REAL);
    assert_string_not_equal(v1->table, v2->table);
    assert_json(rows("hai-phien-ban", 1), "[{\"_row\":1,\"ma\":\"a\",\"so\":1},{\"_row\":2,\"ma\":\"b\",\"so\":2}]");
    assert_json(rows("hai-phien-ban", 0), "[{\"_row\":1,\"ma\":\"a\",\"so\":1.5,\"ghi_chu\":\"x\"},"
                                          "{\"_row\":2,\"ma\":\"b\",\"so\":2,\"ghi_chu\":\"y\"},"
                                          "{\"_row\":3,\"ma\":\"c\",\"so\":3,\"ghi_chu\":\"z\"}]");
    json_t *d = dataset("hai-phien-ban");
    assert_int_equal(JINT(d, "current_version"), 2);
    assert_int_equal(JINT(d, "row_count"), 3);
    json_t *vers = JGET(d, "versions");
    assert_int_equal(json_array_size(vers), 2);
    assert_int_equal(JINT(json_array_get(vers, 0), "number"), 2);
    assert_int_equal(JINT(json_array_get(vers, 1), "number"), 1);
    assert_int_equal(JINT(json_array_get(vers, 1), "row_count"), 2);
    /* an unknown version */
    kho_version_info_t x;
    kho_err_t err;
    assert_int_equal(kho_catalog_version(W, "hai-phien-ban", 3, &x, &err), KHO_ENOTFOUND);
    assert_int_equal(kho_catalog_version(W, "khong-co", 0, &x, &err), KHO_ENOTFOUND);
}

static void test_failed_second_import_keeps_version_1(void **state)
{
    (void)state;
    kho_ingest_opts_t o = opts("giu-ban-1");
    o.meta.title = "Bản đầu";
    import_ok("giu-ban-1", "a,b\n1,2\n", &o);
    kho_ingest_result_t *res = new_res();
    kho_err_t err;

    /* damaged input: refused in pass 1 */
    const char *bad = "a,b\n3,4\n5,\xff\n";
    o.meta.title = "Bản hỏng";
    assert_int_equal(ingest(bad, strlen(bad), &o, res, &err), KHO_EINVAL);

    /* a file that changes between the checking pass and the loading pass: the
     * loading transaction is rolled back */
    const char *dir = kt_tmpdir("ingest-test");
    const char *path = kt_write_file(dir, "data.csv", "a,b\n3,4\n5,6\n", 12);
    kho_source_t src = {.path = path, .name = "data.csv"};
    kho_ingest_t *g = NULL;
    kho_ingest_result_free(res);
    assert_int_equal(kho_ingest_prepare(W, &src, &o, &g, res, &err), 0);
    kt_defer(ingest_destroy, g);
    kt_write_file(dir, "data.csv", "a,b\n3,4\n5,6\n7,8\n", 16);
    int rc = kho_ingest_commit(g, W, res, &err);
    assert_int_equal(rc, KHO_ECONFLICT);
    assert_non_null(strstr(err.msg, "changed while it was being imported"));
    assert_int_equal(res->rows_loaded, 0);
    assert_false(kho_store_in_transaction(W));

    json_t *d = dataset("giu-ban-1");
    assert_int_equal(JINT(d, "current_version"), 1);
    assert_int_equal(JINT(d, "row_count"), 1);
    assert_string_equal(JSTR(d, "title"), "Bản đầu"); /* the metadata update was rolled back too */
    assert_int_equal(json_array_size(JGET(d, "versions")), 1);
    assert_int_equal(version_tables("giu-ban-1", 1), 1);
    assert_int_equal(version_tables("giu-ban-1", 2), 0);
    assert_json(rows("giu-ban-1", 0), "[{\"_row\":1,\"a\":1,\"b\":2}]");
    /* and the next import still gets number 2 */
    kho_ingest_result_t *ok = import_ok("giu-ban-1", "a,b\n9,9\n", NULL);
    assert_int_equal(ok->version, 2);
}

/* More columns than the storage engine's table limit: refused with a clear
 * error, and nothing of the new version remains. */
static void test_too_many_columns(void **state)
{
    (void)state;
    import_ok("nhieu-cot", "a\n1\n", NULL);
    kho_buf_t *b = kt_buf();
    for (int i = 0; i < 2100; i++)
        kho_buf_printf(b, "%sc%d", i ? "," : "", i);
    kho_buf_putc(b, '\n');
    for (int i = 0; i < 2100; i++)
        kho_buf_printf(b, "%s%d", i ? "," : "", i);
    kho_buf_putc(b, '\n');
    kho_ingest_opts_t o = opts("nhieu-cot");
    kho_ingest_result_t *res = new_res();
    kho_err_t err;
    int rc = ingest(b->data, b->len, &o, res, &err);
    assert_int_not_equal(rc, 0);
    assert_false(kho_store_in_transaction(W));
    assert_int_equal(version("nhieu-cot", 0)->number, 1);
    assert_int_equal(version_tables("nhieu-cot", 2), 0);
    if (rc != KHO_EINVAL)
        fail_msg("2100 columns: error %d (%s) \"%s\", expected KHO_EINVAL naming the column limit", rc,
                 kho_err_code_name(rc), err.msg);
}

/* ---- damaged or empty input ------------------------------------------------------ */

static void test_empty_and_header_only(void **state)
{
    (void)state;
    kho_ingest_result_t *res = new_res();
    kho_err_t err;
    kho_ingest_opts_t o = opts("rong");
    assert_int_equal(ingest("a,b,c\n", 6, &o, res, &err), KHO_EINVAL);
    assert_string_equal(kho_err_kind(&err), "no_rows");
    assert_non_null(strstr(err.msg, "data.csv"));
    assert_int_equal(ingest("", 0, &o, res, &err), KHO_EINVAL);
    assert_string_equal(kho_err_kind(&err), "empty_file");
    assert_int_equal(ingest("\n\n", 2, &o, res, &err), KHO_EINVAL);
    assert_int_equal(ingest("[]", 2, &o, res, &err), KHO_EINVAL);
    assert_string_equal(kho_err_kind(&err), "no_rows");
    assert_int_equal(ingest("[{},{}]", 7, &o, res, &err), KHO_EINVAL);
    assert_string_equal(kho_err_kind(&err), "no_columns");
    assert_false(exists("rong"));
    assert_int_equal(res->version, 0);
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    kho_ingest_result_t *res = new_res();
    kho_err_t err;
    kho_ingest_opts_t o = opts("sai-ma");
    const char *csv = "a,b\nxin,chào\nHà,N\xf4i\n"; /* Latin-1 ô */
    assert_int_equal(ingest(csv, strlen(csv), &o, res, &err), KHO_EINVAL);
    assert_string_equal(kho_err_kind(&err), "invalid_utf8");
    assert_non_null(strstr(err.msg, "line 3, column 5"));
    assert_false(exists("sai-ma"));
    const char *nul = "a,b\n1,2\n3,\0\n";
    assert_int_equal(ingest(nul, 12, &o, res, &err), KHO_EINVAL);
    assert_non_null(strstr(err.msg, "line 3, column 3"));
    const char *quote = "a,b\n1,2\n3,\"4\n";
    assert_int_equal(ingest(quote, strlen(quote), &o, res, &err), KHO_EINVAL);
    assert_string_equal(kho_err_kind(&err), "unterminated_quote");
    assert_non_null(strstr(err.msg, "line 3"));
    assert_false(exists("sai-ma"));
}

static void test_bad_options(void **state)
{
    (void)state;
    kho_ingest_result_t *res = new_res();
    kho_err_t err;
    kho_ingest_opts_t o = opts("Sai Ten");
    assert_int_equal(ingest("a\n1\n", 4, &o, res, &err), KHO_EINVAL);
    assert_string_equal(kho_err_kind(&err), "bad_dataset_id");
    o = opts("tuy-chon");
    kho_coldecl_t d1[] = {{"a", "number-ish"}};
    o.decls = d1;
    o.ndecls = 1;
    assert_int_equal(ingest("a\n1\n", 4, &o, res, &err), KHO_EINVAL);
    assert_string_equal(kho_err_kind(&err), "bad_type");
    assert_non_null(strstr(err.msg, "number-ish"));
    kho_coldecl_t d2[] = {{"khong_co", "integer"}};
    o.decls = d2;
    assert_int_equal(ingest("a,b\n1,2\n", 8, &o, res, &err), KHO_EINVAL);
    assert_string_equal(kho_err_kind(&err), "unknown_column");
    assert_non_null(strstr(err.msg, "khong_co"));
    assert_non_null(strstr(err.msg, "a, b"));
    o = opts("tuy-chon");
    o.reject_threshold = 1.5;
    assert_int_equal(ingest("a\n1\n", 4, &o, res, &err), KHO_EINVAL);
    o = opts("tuy-chon");
    o.meta.sharing = "public";
    assert_int_equal(ingest("a\n1\n", 4, &o, res, &err), KHO_EINVAL);
    assert_false(exists("tuy-chon"));
}

/* ---- codes and text ------------------------------------------------------------------ */

static void test_commune_codes(void **state)
{
    (void)state;
    kho_ingest_result_t *res =
        import_ok("ma-xa", "ma_xa,dan_so\n12031,100\n11953,200\n12034,50\n99999,5\n00004,7\n", NULL);
    kho_version_info_t *v = version("ma-xa", 0);
    assert_int_equal(v->cols[0].type, KHO_TYPE_TEXT);
    assert_string_equal(v->cols[0].tags, "commune_code");
    json_t *c = qcol(res->quality, "ma_xa");
    assert_json(JGET(c, "codes"), "{\"current\":3,\"pre_2025_only\":1,\"unknown\":1,"
                                  "\"unknown_examples\":[{\"line\":5,\"value\":\"99999\"}]}");
    assert_json(rows("ma-xa", 0),
                "[{\"_row\":1,\"ma_xa\":\"12031\",\"dan_so\":100},{\"_row\":2,\"ma_xa\":\"11953\",\"dan_so\":200},"
                "{\"_row\":3,\"ma_xa\":\"12034\",\"dan_so\":50},{\"_row\":4,\"ma_xa\":\"99999\",\"dan_so\":5},"
                "{\"_row\":5,\"ma_xa\":\"00004\",\"dan_so\":7}]");

    /* no hint in the header: known codes decide (9 of 10 known) */
    kho_buf_t *b = kt_buf();
    /* 2025 communes, and 12034 which only existed before 2025 */
    static const char *known[] = {"12031", "11953", "11842", "11914", "12034", "12004", "12019", "12025", "11977"};
    kho_buf_puts(b, "x,y\n");
    for (int i = 0; i < 9; i++)
        kho_buf_printf(b, "%s,%d\n", known[i], i);
    kho_buf_puts(b, "99998,9\n");
    res = import_ok("ma-xa-2", b->data, NULL);
    v = version("ma-xa-2", 0);
    assert_string_equal(v->cols[0].tags, "commune_code");
    assert_int_equal(v->cols[0].type, KHO_TYPE_TEXT);
    assert_int_equal(JINT(JGET(qcol(res->quality, "x"), "codes"), "unknown"), 1);
    /* 8 of 10: just numbers */
    kho_buf_reset(b);
    kho_buf_puts(b, "x,y\n");
    for (int i = 0; i < 8; i++)
        kho_buf_printf(b, "%s,%d\n", known[i + 1], i);
    kho_buf_puts(b, "99998,9\n99997,9\n");
    import_ok("ma-xa-3", b->data, NULL);
    v = version("ma-xa-3", 0);
    assert_string_equal(v->cols[0].tags, "");
    assert_int_equal(v->cols[0].type, KHO_TYPE_INTEGER);

    /* province codes with a hint in the header */
    res = import_ok("ma-tinh", "Mã tỉnh,n\n33,1\n01,2\n99,3\n", NULL);
    v = version("ma-tinh", 0);
    assert_string_equal(v->cols[0].name, "ma_tinh");
    assert_string_equal(v->cols[0].tags, "province_code");
    assert_int_equal(v->cols[0].type, KHO_TYPE_TEXT);
    assert_json(
        JGET(qcol(res->quality, "ma_tinh"), "codes"),
        "{\"current\":2,\"pre_2025_only\":0,\"unknown\":1,\"unknown_examples\":[{\"line\":4,\"value\":\"99\"}]}");

    /* declared */
    kho_coldecl_t decls[] = {{"m", "commune_code"}};
    kho_ingest_opts_t o = opts("ma-xa-4");
    o.decls = decls;
    o.ndecls = 1;
    res = import_ok("ma-xa-4", "m\n12031\n77777\n", &o);
    v = version("ma-xa-4", 0);
    assert_string_equal(v->cols[0].tags, "commune_code");
    assert_int_equal(JINT(JGET(qcol(res->quality, "m"), "codes"), "unknown"), 1);
}

static void test_text_is_nfc(void **state)
{
    (void)state;
    /* "Hưng Yên" with combining marks, in the header and in cells */
    const char *csv = "Te\xcc\x82n,ma\nHu\xcc\x9bng Ye\xcc\x82n,1\n\"Nghi\xcc\x83\x61 Tru\xcc\xa3\",2\n";
    import_ok("chuan-hoa", csv, NULL);
    kho_version_info_t *v = version("chuan-hoa", 0);
    assert_string_equal(v->cols[0].label, "Tên");
    assert_string_equal(v->cols[0].name, "ten");
    assert_json(rows("chuan-hoa", 0),
                "[{\"_row\":1,\"ten\":\"Hưng Yên\",\"ma\":1},{\"_row\":2,\"ten\":\"Nghĩa Trụ\",\"ma\":2}]");
    /* straight from SQLite too */
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\" WHERE ten = 'Hưng Yên' OR ten = 'Nghĩa Trụ'", v->table);
    assert_int_equal(query_int(sql), 2);
}

/* ---- JSON and NDJSON ---------------------------------------------------------------- */

static void test_json_import(void **state)
{
    (void)state;
    const char *js = "[{\"ma\":\"a\",\"so\":1},\n"
                     " {\"ma\":\"b\",\"so\":2.5,\"ghi_chu\":\"x\"},\n"
                     " {\"so\":3,\"co\":true,\"chi_tiet\":{\"k\":[1,2]}},\n"
                     " {\"ma\":\"d\",\"so\":null,\"co\":false}]";
    kho_ingest_result_t *res = import_ok("json-nhap", js, NULL);
    assert_int_equal(res->rows_loaded, 4);
    assert_string_equal(JSTR(res->quality, "format"), "json");
    kho_version_info_t *v = version("json-nhap", 0);
    assert_int_equal(v->ncols, 5);
    static const char *names[] = {"ma", "so", "ghi_chu", "co", "chi_tiet"};
    static const kho_type_t types[] = {KHO_TYPE_TEXT, KHO_TYPE_REAL, KHO_TYPE_TEXT, KHO_TYPE_BOOLEAN, KHO_TYPE_TEXT};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(v->cols[i].name, names[i]);
        assert_int_equal(v->cols[i].type, types[i]);
    }
    assert_json(rows("json-nhap", 0),
                "[{\"_row\":1,\"ma\":\"a\",\"so\":1,\"ghi_chu\":null,\"co\":null,\"chi_tiet\":null},"
                "{\"_row\":2,\"ma\":\"b\",\"so\":2.5,\"ghi_chu\":\"x\",\"co\":null,\"chi_tiet\":null},"
                "{\"_row\":3,\"ma\":null,\"so\":3,\"ghi_chu\":null,\"co\":true,\"chi_tiet\":\"{\\\"k\\\":[1,2]}\"},"
                "{\"_row\":4,\"ma\":\"d\",\"so\":null,\"co\":false,\"ghi_chu\":null,\"chi_tiet\":null}]");
    json_t *d = dataset("json-nhap");
    assert_string_equal(JSTR(json_array_get(JGET(d, "versions"), 0), "format"), "json");
    char sha[65];
    kt_sha256_hex(js, strlen(js), sha);
    assert_string_equal(JSTR(json_array_get(JGET(d, "versions"), 0), "sha256"), sha);
}

static void test_ndjson_import(void **state)
{
    (void)state;
    const char *nd = "{\"id\":1,\"ten\":\"Xã Nghĩa Trụ\"}\n"
                     "\n"
                     "{\"id\":2,\"ten\":\"Phường Phố Hiến\"}\r\n"
                     "{\"id\":3,\"ten\":\"x\",\"moi\":\"31/03/2024\"}";
    kho_ingest_result_t *res = import_ok("ndjson-nhap", nd, NULL);
    assert_int_equal(res->rows_loaded, 3);
    assert_string_equal(JSTR(res->quality, "format"), "ndjson");
    kho_version_info_t *v = version("ndjson-nhap", 0);
    assert_int_equal(v->ncols, 3);
    assert_int_equal(v->cols[0].type, KHO_TYPE_INTEGER);
    assert_int_equal(v->cols[2].type, KHO_TYPE_DATE);
    assert_json(rows("ndjson-nhap", 0), "[{\"_row\":1,\"id\":1,\"ten\":\"Xã Nghĩa Trụ\",\"moi\":null},"
                                        "{\"_row\":2,\"id\":2,\"ten\":\"Phường Phố Hiến\",\"moi\":null},"
                                        "{\"_row\":3,\"id\":3,\"ten\":\"x\",\"moi\":\"2024-03-31\"}]");
    /* a bad line names its record and line */
    kho_ingest_result_t *bad = new_res();
    kho_err_t err;
    kho_ingest_opts_t o = opts("ndjson-hong");
    const char *text = "{\"id\":1}\n{\"id\":2,}\n";
    assert_int_equal(ingest(text, strlen(text), &o, bad, &err), KHO_EINVAL);
    assert_non_null(strstr(err.msg, "record 2 (line 2"));
    assert_false(exists("ndjson-hong"));
}

/* ---- exports ---------------------------------------------------------------------------- */

static int sink_buf(void *ctx, const char *p, size_t n)
{
    kho_buf_t *b = ctx;
    kho_buf_append(b, p, n);
    return 0;
}

static int sink_counting(void *ctx, const char *p, size_t n)
{
    (void)p;
    (void)n;
    (*(int *)ctx)++;
    return 0;
}

static int sink_fail(void *ctx, const char *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
    return -1;
}

static void test_exports(void **state)
{
    (void)state;
    import_ok("xuat",
              "ten,so,ty_le,ngay,co,ghi_chu\n"
              "\"Hà Nội, VN\",1,\"1,5\",31/03/2024,có,\"say \"\"hi\"\"\"\n"
              "Huế,-2,\"0,1\",01/01/2025,không,\n"
              "\" x \",3,\"8.854,13\",02/01/2025,có,\"a\nb\"\n",
              NULL);
    kho_version_info_t *v = version("xuat", 0);
    kho_buf_t *b = kt_buf();
    kho_err_t err;
    assert_int_equal(kho_rows_export(W, v, NULL, KHO_OUT_CSV, sink_buf, b, &err), 0);
    assert_string_equal(b->data, "ten,so,ty_le,ngay,co,ghi_chu\r\n"
                                 "\"Hà Nội, VN\",1,1.5,2024-03-31,true,\"say \"\"hi\"\"\"\r\n"
                                 "Huế,-2,0.1,2025-01-01,false,\r\n"
                                 "\" x \",3,8854.13,2025-01-02,true,\"a\nb\"\r\n");
    /* the CSV reads back to the same rows */
    kho_ingest_opts_t o = opts("xuat-lai");
    o.source_name = "export.csv";
    import_ok("xuat-lai", b->data, &o);
    assert_true(json_equal(rows("xuat-lai", 0), rows("xuat", 0)));

    const char *row1 = "{\"_row\":1,\"ten\":\"Hà Nội, VN\",\"so\":1,\"ty_le\":1.5,\"ngay\":\"2024-03-31\",\"co\":true,"
                       "\"ghi_chu\":\"say \\\"hi\\\"\"}";
    const char *row2 = "{\"_row\":2,\"ten\":\"Huế\",\"so\":-2,\"ty_le\":0.1,\"ngay\":\"2025-01-01\",\"co\":false,"
                       "\"ghi_chu\":null}";
    const char *row3 = "{\"_row\":3,\"ten\":\" x \",\"so\":3,\"ty_le\":8854.13,\"ngay\":\"2025-01-02\",\"co\":true,"
                       "\"ghi_chu\":\"a\\nb\"}";
    char want[1024];
    kho_buf_reset(b);
    assert_int_equal(kho_rows_export(W, v, NULL, KHO_OUT_JSON, sink_buf, b, &err), 0);
    snprintf(want, sizeof want, "[%s,%s,%s]\n", row1, row2, row3);
    assert_string_equal(b->data, want);
    assert_true(json_equal(parse(b->data), rows("xuat", 0)));
    kho_buf_reset(b);
    assert_int_equal(kho_rows_export(W, v, NULL, KHO_OUT_NDJSON, sink_buf, b, &err), 0);
    snprintf(want, sizeof want, "%s\n%s\n%s\n", row1, row2, row3);
    assert_string_equal(b->data, want);
    /* a failing sink stops the export with an error */
    assert_int_equal(kho_rows_export(W, v, NULL, KHO_OUT_CSV, sink_fail, NULL, &err), KHO_EIO);
}

static void test_large_export_streams(void **state)
{
    (void)state;
    kho_buf_t *in = kt_buf();
    kho_buf_puts(in, "id,ten\n");
    for (int i = 1; i <= 5000; i++)
        kho_buf_printf(in, "%d,Xã số %d với tên dài để vượt ngưỡng\n", i, i);
    import_ok("xuat-lon", in->data, NULL);
    kho_version_info_t *v = version("xuat-lon", 0);
    int calls = 0;
    kho_err_t err;
    assert_int_equal(kho_rows_export(W, v, NULL, KHO_OUT_NDJSON, sink_counting, &calls, &err), 0);
    assert_true(calls >= 4); /* flushed in pieces, not held whole */
    kho_buf_t *out = kt_buf();
    assert_int_equal(kho_rows_export(W, v, NULL, KHO_OUT_NDJSON, sink_buf, out, &err), 0);
    size_t lines = 0;
    for (const char *p = out->data; (p = strchr(p, '\n')); p++)
        lines++;
    assert_int_equal(lines, 5000);
    assert_int_equal(kho_rows_export(W, v, NULL, KHO_OUT_NDJSON, sink_fail, NULL, &err), KHO_EIO);
    kho_buf_reset(out);
    assert_int_equal(kho_rows_export(W, v, NULL, KHO_OUT_JSON, sink_buf, out, &err), 0);
    json_t *all = parse(out->data);
    assert_int_equal(json_array_size(all), 5000);
    assert_int_equal(JINT(json_array_get(all, 4999), "id"), 5000);
}

int main(void)
{
#define T(f) cmocka_unit_test_teardown(f, kt_cleanup)
    const struct CMUnitTest tests[] = {
        T(test_csv_import_creates_version_1),
        T(test_header_names),
        T(test_whole_file_inference),
        T(test_file_evidence_and_forced_decimal),
        T(test_null_marks),
        T(test_declared_types_reject_rows),
        T(test_declared_integer_keeps_value),
        T(test_ragged_rows_rejected),
        T(test_too_many_rejected_writes_nothing),
        T(test_strict_mode),
        T(test_second_import_makes_version_2),
        T(test_failed_second_import_keeps_version_1),
        T(test_too_many_columns),
        T(test_empty_and_header_only),
        T(test_invalid_utf8),
        T(test_bad_options),
        T(test_commune_codes),
        T(test_text_is_nfc),
        T(test_json_import),
        T(test_ndjson_import),
        T(test_exports),
        T(test_large_export_streams),
    };
    if (getenv("KHO_TEST_FILTER"))
        cmocka_set_test_filter(getenv("KHO_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
