/*
 * libFuzzer harness for the indicators app: untrusted request parameters and
 * untrusted report uploads, over a store with the real administrative units,
 * a small catalogue and a source dataset loaded once.
 *
 * Input: the first byte picks the mode.
 *   even: "k=v&k=v..." parameters for values, forecast, targets and the
 *         dashboard: each is answered or refused with a message, never with
 *         KHO_EINTERNAL, and nothing is written;
 *   odd:  the rest is a CSV uploaded as a new version of the source dataset:
 *         it is refused whole (the current version and every value stay as
 *         they were) or accepted; never a crash.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/indicators/indicators.h"
#include "apps/indicators/indpriv.h"
#include "core/text.h"
#include "store/schema.h"
#include "store/store.h"
#include "warehouse/catalog.h"
#include "warehouse/ingest.h"
#include "warehouse/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static kho_store_t *db;
static kho_principal_t anon;

static const char CATALOGUE[] =
    "{\"indicators\":["
    "{\"code\":\"dan_so\",\"name\":\"Dân số\",\"unit_of_measure\":\"người\",\"kind\":\"additive\",\"level\":\"commune\"},"
    "{\"code\":\"ho_ngheo\",\"name\":\"Hộ nghèo\",\"unit_of_measure\":\"hộ\",\"kind\":\"additive\",\"level\":\"commune\"},"
    "{\"code\":\"ty_le\",\"name\":\"Tỷ lệ\",\"unit_of_measure\":\"%\",\"kind\":\"rate\",\"level\":\"commune\","
    "\"numerator\":\"ho_ngheo\",\"denominator\":\"dan_so\"},"
    "{\"code\":\"grdp\",\"name\":\"GRDP\",\"unit_of_measure\":\"tỷ đồng\",\"kind\":\"additive\",\"level\":\"province\"}],"
    "\"sources\":[{\"dataset\":\"src\",\"form\":\"long\",\"indicator\":\"indicator\",\"unit\":\"unit_code\","
    "\"period\":\"period\",\"value\":\"value\"}],"
    "\"targets\":[{\"indicator\":\"grdp\",\"unit\":\"33\",\"period\":\"2030\",\"value\":500}]}";

static const char REPORTS[] = "indicator,unit_code,period,value\n"
                              "dan_so,11989,2023,1000\ndan_so,11989,2024,1100\n"
                              "dan_so,11992,2025,900\nho_ngheo,11989,2024,30\n"
                              "dan_so,12004,2024,2000\ndan_so,12004,2025,2100\n"
                              "grdp,33,2022,100\ngrdp,34,2022,80\ngrdp,33,2023,110\ngrdp,34,2023,90\n"
                              "grdp,33,2024,120\ngrdp,34,2024,95\ngrdp,33,2025,230\n";

static int import(const char *csv, size_t len, kho_err_t *err)
{
    kho_ingest_opts_t o = {.dataset = "src", .meta = KHO_DATASET_META_INIT, .strict = true, .max_field = 4096,
                           .decls = (kho_coldecl_t[]){{"unit_code", "text"}, {"period", "text"}}, .ndecls = 2};
    kho_source_t src = {.mem = csv, .len = len, .name = "fuzz.csv"};
    kho_ingest_result_t res;
    int rc = kho_ingest(db, &src, &o, &res, err);
    kho_ingest_result_free(&res);
    return rc;
}

static void setup(void)
{
    kho_err_t err = {0};
    char dir[4096], cat[] = "/tmp/kho-fuzz-ind-XXXXXX";
    kho_units_summary_t sum;
    int fd = mkstemp(cat);
    if (fd < 0 || write(fd, CATALOGUE, sizeof CATALOGUE - 1) != (ssize_t)(sizeof CATALOGUE - 1))
        abort();
    close(fd);
    snprintf(dir, sizeof dir, "%s", getenv("KHO_UNITS") ? getenv("KHO_UNITS") : "data/units");
    kho_ingest_set_hook(kho_ind_ingest_hook);
    if (kho_store_open(":memory:", KHO_STORE_CREATE, NULL, &db, &err) != 0 || kho_schema_migrate(db, &err) != 0 ||
        kho_units_load(db, dir, false, &sum, &err) != 0 || kho_ind_load_catalogue(db, cat, &err) != 0 ||
        import(REPORTS, sizeof REPORTS - 1, &err) != 0) {
        fprintf(stderr, "fuzz_indicators: set-up failed (run from the repository root): %s\n", err.msg);
        abort();
    }
    unlink(cat);
    kho_principal_public(&anon);
}

static void check(int rc, const kho_err_t *err)
{
    if (rc == 0)
        return;
    assert(err->msg[0] != '\0');
    assert(rc != KHO_EINTERNAL && rc != KHO_EIO);
}

static int64_t state(void)
{
    int64_t n = 0, v = 0;
    kho_err_t err;
    if (kho_store_query_int(db, "SELECT count(*) + 1000 * coalesce(sum(value), 0) FROM ind_values", &n, &err) != 0 ||
        kho_store_query_int(db, "SELECT current_version FROM datasets WHERE slug = 'src'", &v, &err) != 0)
        abort();
    return n * 31 + v;
}

static void queries(char *s)
{
    const char *k[16], *val[16];
    size_t n = 0;
    char *save = NULL;
    for (char *p = strtok_r(s, "&", &save); p && n < 16; p = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(p, '=');
        if (eq)
            *eq++ = 0;
        k[n] = p;
        val[n++] = eq ? eq : "";
    }
    const char *ind = "dan_so", *unit = NULL, *level = NULL, *from = NULL, *to = NULL, *period = NULL, *rank = NULL;
    long limit = 0, horizon = 5;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(k[i], "i"))
            ind = val[i];
        else if (!strcmp(k[i], "unit"))
            unit = val[i];
        else if (!strcmp(k[i], "level"))
            level = val[i];
        else if (!strcmp(k[i], "from"))
            from = val[i];
        else if (!strcmp(k[i], "to"))
            to = val[i];
        else if (!strcmp(k[i], "period"))
            period = val[i];
        else if (!strcmp(k[i], "rank"))
            rank = val[i];
        else if (!strcmp(k[i], "limit"))
            limit = strtol(val[i], NULL, 10) % 1000;
        else if (!strcmp(k[i], "horizon"))
            horizon = 1 + labs(strtol(val[i], NULL, 10) % 20);
        double d;
        (void)kho_ind_parse_number(val[i], &d);
        for (int f = KHO_FREQ_YEAR; f <= KHO_FREQ_MONTH; f++)
            if (kho_ind_period_ok(f, val[i])) {
                char out[16];
                kho_ind_period_add(f, val[i], 3, out);
                /* periods are valid from 1900 to 2200: three steps after the last ones leave the range */
                if (strncmp(val[i], "2200", 4) < 0)
                    assert(kho_ind_period_ok(f, out));
                assert(kho_ind_period_diff(f, val[i], out) == 3);
                (void)kho_ind_period_old(val[i]);
            }
    }
    kho_ind_ctx_t c = {.db = db, .who = &anon};
    kho_err_t err = {0};
    json_t *out = NULL;
    kho_ind_values_q_t q = {unit, level, from, to, period, rank, limit < 0 ? 0 : limit};
    int rc = kho_ind_values(&c, ind, &q, &out, &err);
    check(rc, &err);
    json_decref(out);
    out = NULL;
    rc = kho_ind_forecast(&c, ind, unit, horizon, &out, &err);
    check(rc, &err);
    json_decref(out);
    out = NULL;
    rc = kho_ind_targets(&c, ind, unit, &out, &err);
    check(rc, &err);
    json_decref(out);
    out = NULL;
    rc = kho_ind_dashboard(&c, unit, period, ind, &out, &err);
    check(rc, &err);
    json_decref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db)
        setup();
    if (size < 1 || size > 4096)
        return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    if (data[0] & 1) {
        int64_t before = state();
        kho_err_t err = {0};
        int rc = import(s, size - 1, &err);
        if (rc != 0) {
            assert(err.msg[0] != '\0');
            assert(state() == before); /* refused whole */
            assert(!kho_store_in_transaction(db));
        }
    } else {
        for (size_t i = 0; i + 1 < size; i++)
            if (s[i] == '\0')
                s[i] = ' ';
        kho_utf8_repair(s, size - 1);
        int64_t before = state();
        queries(s);
        assert(state() == before);
    }
    free(s);
    return 0;
}
