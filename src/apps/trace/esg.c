/* esg — traceability figures as indicators (see esg.h). */
#include "apps/trace/esg.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/indicators/indicators.h"
#include "apps/trace/epcis.h"
#include "apps/trace/master.h"
#include "core/buf.h"
#include "core/hash.h"
#include "warehouse/ingest.h"

/* meta key: the SHA-256 of the reports last imported, so that an unchanged
 * recomputation adds no version */
#define ESG_DIGEST "trace_esg_sha256"

static const char *const ADDITIVE[] = {"nhan_truy_xuat", "chuoi_truy_xuat", "ga_truy_xuat",
                                       "dien_tich_nhan_truy_xuat", "dien_tich_nhan_vietgap"};
#define NADD (sizeof ADDITIVE / sizeof ADDITIVE[0])

static void add(json_t *acc, const char *ind, const char *commune, const char *year, double v)
{
    char k[128];
    snprintf(k, sizeof k, "%s\t%s\t%s", ind, commune, year);
    json_t *x = json_object_get(acc, k);
    json_object_set_new(acc, k, json_real((x ? json_real_value(x) : 0) + v));
}

static char *category_of(kho_store_t *s, const char *cls)
{
    char key[KHO_EPCIS_KEY_MAX];
    if (!kho_epcis_key(cls, key, sizeof key) || strncmp(key, "01/", 3) || strlen(key) < 17)
        return NULL;
    char g[15];
    memcpy(g, key + 3, 14);
    g[14] = '\0';
    json_t *p = NULL;
    kho_err_t err;
    if (kho_md_get(s, KHO_MD_PRODUCTS, g, &p, &err) != 0 || !p)
        return NULL;
    const char *cat = json_string_value(json_object_get(p, "category"));
    char *c = strdup(cat ? cat : "");
    json_decref(p);
    return c;
}

static bool vietgap_on(const json_t *farm, const char *day)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(farm, "certifications"), i, c)
    {
        const char *s = json_string_value(json_object_get(c, "scheme"));
        const char *from = json_string_value(json_object_get(c, "valid_from"));
        const char *to = json_string_value(json_object_get(c, "valid_to"));
        if (s && !strcmp(s, "VietGAP") && from && to && strcmp(from, day) <= 0 && strcmp(day, to) <= 0)
            return true;
    }
    return false;
}

/* One harvest event into the sums. */
static void harvest(kho_store_t *s, const json_t *ev, const char *year, json_t *acc, json_t *seen, json_t *provinces)
{
    const json_t *ilmd = json_object_get(ev, "ilmd");
    const char *farm_id = json_string_value(json_object_get(ilmd, "kho:farmId"));
    json_t *farm = NULL;
    kho_err_t err;
    if (!farm_id || kho_md_get(s, KHO_MD_FARMS, farm_id, &farm, &err) != 0 || !farm)
        return;
    const char *commune = json_string_value(json_object_get(farm, "commune_code"));
    const char *hd = json_string_value(json_object_get(ilmd, "kho:harvestDate"));
    char day[11];
    snprintf(day, sizeof day, "%.10s", hd ? hd : json_string_value(json_object_get(ev, "eventTime")));
    kho_stmt_t *st;
    if (kho_store_cached(s, "SELECT province_code FROM units WHERE era = 'current' AND level = 'commune' AND code = ?",
                         &st, &err) == 0) {
        kho_stmt_bind_str(st, 1, commune);
        if (kho_stmt_step(st, &err) == KHO_STEP_ROW && kho_stmt_col_text(st, 0))
            json_object_set_new(provinces, kho_stmt_col_text(st, 0), json_true());
        kho_stmt_reset(st);
    }
    const char *lists[] = {"outputQuantityList", "quantityList"};
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *q;
        json_array_foreach(json_object_get(ev, lists[l]), i, q)
        {
            const char *cls = json_string_value(json_object_get(q, "epcClass"));
            char *cat = cls ? category_of(s, cls) : NULL;
            const char *uom = json_string_value(json_object_get(q, "uom"));
            double n = json_number_value(json_object_get(q, "quantity"));
            bool kg = uom && !strcmp(uom, "KGM"), tonnes = uom && !strcmp(uom, "TNE");
            if (cat && !strcmp(cat, "longan") && (kg || tonnes)) {
                add(acc, "nhan_truy_xuat", commune, year, kg ? n / 1000 : n);
                char k[160];
                snprintf(k, sizeof k, "%s\t%s", farm_id, year);
                double area = json_number_value(json_object_get(farm, "area_ha"));
                if (!json_object_get(seen, k)) {
                    json_object_set_new(seen, k, json_true());
                    add(acc, "dien_tich_nhan_truy_xuat", commune, year, area);
                }
                snprintf(k, sizeof k, "vietgap\t%s\t%s", farm_id, year);
                if (!json_object_get(seen, k) && vietgap_on(farm, day)) {
                    json_object_set_new(seen, k, json_true());
                    add(acc, "dien_tich_nhan_vietgap", commune, year, area);
                }
            } else if (cat && !strcmp(cat, "banana") && (kg || tonnes))
                add(acc, "chuoi_truy_xuat", commune, year, kg ? n / 1000 : n);
            else if (cat && !strcmp(cat, "chicken") && (!uom || !strcmp(uom, "H87")))
                add(acc, "ga_truy_xuat", commune, year, n);
            free(cat);
        }
    }
    json_decref(farm);
}

static int write_csv(kho_store_t *s, const json_t *acc, const json_t *years, const json_t *provinces, kho_buf_t *f,
                     size_t *rows, kho_err_t *err)
{
    kho_buf_puts(f, "indicator,unit_code,period,value\n");
    const char *prov;
    json_t *x;
    json_object_foreach((json_t *)provinces, prov, x)
    {
        kho_stmt_t *st;
        int rc = kho_store_prepare(s,
                                   "SELECT code FROM units WHERE era = 'current' AND level = 'commune' AND "
                                   "province_code = ? ORDER BY code",
                                   &st, err);
        if (rc != 0)
            return rc;
        kho_stmt_bind_str(st, 1, prov);
        int step;
        while ((step = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
            const char *code = kho_stmt_col_text(st, 0);
            const char *year;
            json_t *y;
            json_object_foreach((json_t *)years, year, y)
            {
                for (size_t i = 0; i < NADD; i++) {
                    char k[128];
                    snprintf(k, sizeof k, "%s\t%s\t%s", ADDITIVE[i], code, year);
                    json_t *v = json_object_get(acc, k);
                    kho_buf_printf(f, "%s,%s,%s,%.6g\n", ADDITIVE[i], code, year, v ? json_real_value(v) : 0.0);
                    (*rows)++;
                }
            }
        }
        kho_stmt_free(st);
        if (step < 0)
            return step;
    }
    return 0;
}

int kho_trace_esg(kho_store_t *w, const char *csv_path, bool synthetic, FILE *out, kho_err_t *err)
{
    kho_buf_t csv = KHO_BUF_INIT;
    char digest[65] = "", have[65] = "";
    json_t *acc = json_object(), *years = json_object(), *seen = json_object(), *provinces = json_object();
    kho_stmt_t *st;
    int rc = kho_store_prepare(w,
                               "SELECT substr(event_time, 1, 4), body FROM trace_events "
                               "WHERE farm_id IS NOT NULL ORDER BY seq", /* trace_events_farm */
                               &st, err);
    int step = 0;
    size_t harvests = 0;
    while (rc == 0 && (step = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        json_t *ev = json_loads(kho_stmt_col_text(st, 1), 0, NULL);
        const char *year = kho_stmt_col_text(st, 0);
        if (ev && year) {
            json_object_set_new(years, year, json_true());
            harvest(w, ev, year, acc, seen, provinces);
            harvests++;
        }
        json_decref(ev);
    }
    if (rc == 0) {
        kho_stmt_free(st);
        if (step < 0)
            rc = step;
    }
    if (rc == 0 && !harvests)
        rc = kho_err_set(err, KHO_ENOTFOUND, "no harvest events (events whose ilmd has kho:farmId) yet");
    size_t rows = 0;
    if (rc == 0)
        rc = write_csv(w, acc, years, provinces, &csv, &rows, err);
    if (rc == 0) {
        kho_sha256_t h;
        kho_sha256_init(&h);
        kho_sha256_update(&h, csv.data, csv.len);
        kho_sha256_final(&h, digest);
        rc = kho_store_meta_get(w, ESG_DIGEST, have, sizeof have, err);
    }
    int64_t imported = 0;
    if (rc == 0 && !strcmp(digest, have) &&
        kho_store_query_int(w, "SELECT count(*) FROM datasets WHERE slug = '" KHO_TRACE_ESG_DATASET "'", &imported,
                            err) != 0)
        imported = 0;
    if (rc == 0 && !strcmp(digest, have) && imported > 0) {
        if (out)
            fprintf(out, "  traceability ESG indicators: unchanged (%zu reports from %zu harvests)\n", rows,
                    harvests);
        goto done;
    }
    if (rc == 0) {
        FILE *f = fopen(csv_path, "w");
        if (!f)
            rc = kho_err_set(err, KHO_EIO, "cannot write %s", csv_path);
        else {
            if (fwrite(csv.data, 1, csv.len, f) != csv.len)
                rc = kho_err_set(err, KHO_EIO, "cannot write %s", csv_path);
            if (fclose(f) != 0 && rc == 0)
                rc = kho_err_set(err, KHO_EIO, "cannot write %s", csv_path);
        }
    }
    if (rc == 0)
        rc = kho_ind_set_source(w, KHO_TRACE_ESG_DATASET,
                                "{\"form\":\"long\",\"indicator\":\"indicator\",\"unit\":\"unit_code\","
                                "\"period\":\"period\",\"value\":\"value\"}",
                                err);
    if (rc == 0) {
        const char *tags[] = {"truy xuất nguồn gốc", "ESG", "nông sản", "EPCIS"};
        kho_ingest_opts_t o = {
            .dataset = KHO_TRACE_ESG_DATASET,
            .meta = {.title = "Truy xuất nguồn gốc nông sản: sản lượng và diện tích theo xã",
                     .description = "Tổng hợp từ các sự kiện EPCIS của sổ truy xuất nguồn gốc (kho trace esg): sản "
                                    "lượng nhãn, chuối được truy xuất (tấn), số gà đồi (con), diện tích nhãn tham gia "
                                    "và diện tích có VietGAP còn hiệu lực (ha), theo xã và năm thu hoạch.",
                     .publisher = "Sở Nông nghiệp và Môi trường tỉnh Hưng Yên",
                     .licence = "CC-BY-4.0",
                     .org = "so-nong-nghiep",
                     .org_name = "Sở Nông nghiệp và Môi trường",
                     .sharing = "open",
                     .importance = "other",
                     .tags = tags,
                     .ntags = 4,
                     .tags_set = true,
                     .synthetic = synthetic ? 1 : -1},
            .strict = true,
            .reject_threshold = 0,
            .source_name = "truy-xuat-nong-san.csv",
            .decls = (kho_coldecl_t[]){{"unit_code", "text"}, {"period", "text"}, {"value", "real"}},
            .ndecls = 3};
        kho_source_t src = {.path = csv_path, .name = "truy-xuat-nong-san.csv"};
        kho_ingest_result_t res;
        rc = kho_ingest(w, &src, &o, &res, err); /* the ingest hook rebuilds the indicators */
        if (rc == 0 && kho_store_meta_put(w, ESG_DIGEST, digest, err) != 0)
            rc = 0; /* only costs an identical version next time */
        if (rc == 0 && out)
            fprintf(out, "  traceability ESG indicators: %zu reports from %zu harvests (dataset %s, version %lld)\n",
                    rows, harvests, KHO_TRACE_ESG_DATASET, (long long)res.version);
        kho_ingest_result_free(&res);
    }
    remove(csv_path);
done:
    kho_buf_free(&csv);
    json_decref(acc);
    json_decref(years);
    json_decref(seen);
    json_decref(provinces);
    return rc;
}

int kho_trace_esg_refresh(kho_store_t *w, const char *datadir, FILE *out, kho_err_t *err)
{
    /* a scratch file of its own: the server and `kho trace esg` may recompute at the same time */
    kho_buf_t csv = KHO_BUF_INIT;
    kho_buf_printf(&csv, "%s/.trace-esg-XXXXXX.csv", datadir);
    int fd = mkstemps(csv.data, 4);
    if (fd < 0) {
        int rc = kho_err_set(err, KHO_EIO, "cannot create a scratch file in %s: %s", datadir, strerror(errno));
        kho_buf_free(&csv);
        return rc;
    }
    close(fd);
    int64_t synthetic = 0; /* the ledger holds the demo's synthetic chains */
    kho_err_t probe;
    if (kho_store_query_int(w, "SELECT count(*) FROM trace_farms WHERE id = 'COOP-NH'", &synthetic, &probe) != 0)
        synthetic = 0;
    int rc = kho_trace_esg(w, kho_buf_cstr(&csv), synthetic > 0, out, err);
    remove(kho_buf_cstr(&csv)); /* also when nothing was written to it */
    kho_buf_free(&csv);
    return rc;
}
