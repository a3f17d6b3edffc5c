/*
 * libFuzzer harness for warehouse/query: request parameters -> query -> SQL ->
 * rows, counts, facets and aggregates, over a small version loaded once into an
 * in-memory database (integers, reals, dates, booleans, text with and without
 * tone marks, NULLs, a personal column, a full-text index).
 *
 * The input is a query string "k=v&k=v..." (raw, as the HTTP layer hands it
 * over after decoding: made valid UTF-8, no NUL). Whatever it says, the query
 * is refused with a message or runs; the SQL it builds is never invalid
 * (KHO_EINTERNAL would mean a client's text reached the SQL or the builder
 * wrote something SQLite cannot parse), and nothing is ever written.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "store/schema.h"
#include "store/store.h"
#include "warehouse/catalog.h"
#include "warehouse/ingest.h"
#include "warehouse/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static kho_store_t *db;
static kho_version_info_t v;

static const char CSV[] = "Mã,Tên,Số,Tỷ lệ,Ngày,Có,Họ và tên,Ghi chú\n"
                          "11953,Phường Phố Hiến,10,\"1,5\",01/02/2024,có,Nguyễn Văn An,nhãn lồng\n"
                          "12031,Xã Nghĩa Trụ,20,\"2,25\",2024-03-04,không,Trần Thị Bình,\n"
                          "12034,Đường phèn,,\"3,0\",,có,Lê Văn Cường,\"bán \"\"nhãn\"\"\"\n"
                          "13279,100% (x_y),40,,2025-12-31,,Phạm Thị Dung,50%_off\\\n"
                          "11953,Phường Phố Hiến,10,\"1,5\",01/02/2024,không,Nguyễn Văn An,NEAR(a b) OR c*\n";

static void setup(void)
{
    kho_err_t err = {0};
    if (kho_store_open(":memory:", KHO_STORE_CREATE, NULL, &db, &err) != 0 || kho_schema_migrate(db, &err) != 0)
        abort();
    kho_ingest_opts_t o = {.dataset = "fuzz", .meta = KHO_DATASET_META_INIT, .reject_threshold = 0.5, .max_field = 4096};
    kho_source_t src = {.mem = CSV, .len = sizeof CSV - 1, .name = "fuzz.csv"};
    kho_ingest_result_t res;
    if (kho_ingest(db, &src, &o, &res, &err) != 0) {
        fprintf(stderr, "fuzz_rowquery: set-up import failed: %s\n", err.msg);
        abort();
    }
    kho_ingest_result_free(&res);
    if (kho_catalog_version(db, "fuzz", 0, &v, &err) != 0)
        abort();
}

static void check(int rc, const kho_err_t *err)
{
    if (rc == 0 || rc == KHO_STEP_ROW || rc == KHO_STEP_DONE)
        return;
    assert(err->msg[0] != '\0');
    assert(rc != KHO_EINTERNAL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db)
        setup();
    if (size > 8192)
        return 0;
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    for (size_t i = 0; i < size; i++)
        if (s[i] == '\0')
            s[i] = ' ';
    kho_utf8_repair(s, size);
    /* split into parameters */
    kho_qparam_t ps[64];
    size_t n = 0;
    char *save = NULL;
    for (char *p = strtok_r(s, "&", &save); p && n < 64; p = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(p, '=');
        if (eq)
            *eq = '\0';
        ps[n].key = p;
        ps[n].val = eq ? eq + 1 : "";
        n++;
    }
    kho_err_t err = {0};
    kho_query_limits_t lim = {100, 1000};
    kho_rows_view_t views[2] = {{.mask = false}, {.mask = true}};
    const kho_rows_view_t *view = &views[size & 1];
    bool agg = size > 0 && data[0] == '!';
    kho_query_t q;
    kho_query_init(&q, &v, "fuzz", 100);
    kho_agg_t a;
    int rc = agg ? kho_agg_parse(&a, &q, ps, n, &lim, &err) : kho_query_parse(&q, ps, n, NULL, &lim, &err);
    check(rc, &err);
    if (rc == 0)
        rc = kho_query_check_view(&q, view, &err);
    check(rc, &err);
    if (rc == 0 && agg) {
        json_t *out = NULL;
        rc = kho_agg_run(db, &q, &a, view, 2, 200, &out, &err);
        check(rc, &err);
        json_decref(out);
    } else if (rc == 0) {
        kho_qrun_t *run = NULL;
        kho_store_deadline(db, 200);
        rc = kho_query_open(db, &q, view, true, &run, &err);
        check(rc, &err);
        kho_buf_t b = KHO_BUF_INIT;
        int64_t rows = 0;
        while (rc == 0 && (rc = kho_query_next(run, &err)) == KHO_STEP_ROW) {
            rows++;
            rc = kho_query_row_object(run, &b, &err);
            if (rc == 0)
                rc = kho_query_row_csv(run, &b, &err);
            check(rc, &err);
        }
        check(rc, &err);
        kho_store_deadline(db, 0);
        assert(rows <= q.limit);
        /* the cursor of the last row is accepted by the same query */
        if (rc >= 0 && run && rows > 0) {
            const char *cur = kho_query_cursor(run);
            kho_query_t q2;
            kho_query_init(&q2, &v, "fuzz", 100);
            kho_err_t e2 = {0};
            if (cur[0] && kho_query_parse(&q2, ps, n, NULL, &lim, &e2) == 0)
                assert(kho_query_set_after(&q2, cur, &e2) == 0);
            kho_query_free(&q2);
        }
        kho_query_close(run);
        kho_buf_free(&b);
        int64_t total = 0;
        bool lower = false;
        check(kho_query_count(db, &q, 200, &total, &lower, &err), &err);
        json_t *f = NULL;
        check(kho_query_facets(db, &q, 200, &f, &err), &err);
        json_decref(f);
    }
    kho_query_free(&q);
    free(s);
    return 0;
}
