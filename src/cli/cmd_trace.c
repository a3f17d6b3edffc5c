/* cmd_trace — traceability from the command line (see cmd_trace.h). */
#include "cli/cmd_trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/trace/demo.h"
#include "apps/trace/esg.h"
#include "apps/trace/gs1.h"
#include "apps/trace/master.h"
#include "apps/trace/qr.h"
#include "apps/trace/trace.h"
#include "core/buf.h"
#include "warehouse/datadir.h"

static int read_json_file(const char *path, json_t **out, kho_err_t *err)
{
    json_error_t je;
    *out = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!*out)
        return kho_err_set(err, KHO_EINVAL, "%s: line %d, column %d: %s", path, je.line, je.column, je.text);
    return 0;
}

static int write_file(const char *path, const kho_buf_t *b, kho_err_t *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return kho_err_set(err, KHO_EIO, "cannot write %s: %s", path, strerror(errno));
    bool ok = fwrite(b->data, 1, b->len, f) == b->len;
    ok = fclose(f) == 0 && ok;
    return ok ? 0 : kho_err_set(err, KHO_EIO, "cannot write %s", path);
}

static int cmd_verify(kho_cmdctx_t *ctx, kho_err_t *err)
{
    kho_store_t *db = NULL;
    kho_ledger_t *l = NULL;
    int rc = kho_datadir_open(ctx->datadir, ctx->cfg, true, &db, err);
    if (rc == 0)
        rc = kho_ledger_open(ctx->datadir, ctx->cfg, false, &l, err);
    size_t problems = 0;
    if (rc == 0)
        rc = kho_trace_verify(db, l, stdout, &problems, err);
    if (rc == 0) {
        int64_t n = 0;
        kho_err_t ignore;
        if (kho_store_query_int(db, "SELECT count(*) FROM trace_events", &n, &ignore) != 0)
            n = 0;
        if (problems) {
            rc = kho_err_set(err, KHO_ECONFLICT, "the traceability ledger failed %zu checks (listed above)", problems);
        } else
            printf("kho: the traceability ledger is intact: %lld events, log of %llu entries, every checkpoint "
                   "signed by %s\n",
                   (long long)n, (unsigned long long)kho_tlog_size(kho_ledger_log(l)),
                   kho_tlog_vkey(kho_ledger_log(l)));
    }
    kho_ledger_close(l);
    kho_store_close(db);
    return rc;
}

/* harvests (may be NULL): adds the new harvest events captured. */
static int capture_doc(kho_store_t *w, kho_ledger_t *l, const json_t *doc, const char *what, bool quiet,
                       size_t *harvests, kho_err_t *err)
{
    kho_trace_captured_t res;
    int rc = kho_trace_capture(w, l, doc, "", &res, NULL, err);
    if (rc == 0 && harvests)
        *harvests += res.harvests;
    if (rc != 0)
        kho_err_prefix(err, "%s", what);
    else if (!quiet)
        printf("kho: %s: %zu events, %zu new, %zu already captured; log size %llu\n", what, res.events, res.captured,
               res.repeated, (unsigned long long)res.tree_size);
    return rc;
}

/* After a capture of harvests or a change of farms: the ESG indicators are
 * recomputed (a failure is reported, not fatal: `kho trace esg` retries). */
static void esg_after_change(kho_cmdctx_t *ctx, kho_store_t *w)
{
    kho_err_t err;
    int rc = kho_trace_esg_refresh(w, ctx->datadir, stdout, &err);
    if (rc != 0 && rc != KHO_ENOTFOUND)
        fprintf(stderr, "kho: the traceability ESG indicators were not recomputed: %s (run kho trace esg)\n",
                err.msg);
}

static int cmd_capture(kho_cmdctx_t *ctx, const char *path, kho_err_t *err)
{
    json_t *doc = NULL;
    int rc = read_json_file(path, &doc, err);
    if (rc != 0)
        return rc;
    kho_store_t *w = NULL;
    kho_ledger_t *l = NULL;
    rc = kho_datadir_open(ctx->datadir, ctx->cfg, false, &w, err);
    if (rc == 0)
        rc = kho_ledger_open(ctx->datadir, ctx->cfg, true, &l, err);
    size_t harvests = 0;
    if (rc == 0)
        rc = capture_doc(w, l, doc, path, false, &harvests, err);
    if (rc == 0 && harvests)
        esg_after_change(ctx, w);
    json_decref(doc);
    kho_ledger_close(l);
    kho_store_close(w);
    return rc;
}

static int cmd_import(kho_cmdctx_t *ctx, const char *kind, const char *path, kho_err_t *err)
{
    int k = kho_md_kind_parse(kind);
    if (k < 0)
        return kho_err_set(err, KHO_EUSAGE, "'%s' is not farms, products, locations or partners", kind);
    kho_store_t *w = NULL;
    int rc = kho_datadir_open(ctx->datadir, ctx->cfg, false, &w, err);
    size_t n = 0;
    kho_source_t src = {.path = path, .name = path};
    if (rc == 0)
        rc = kho_md_import(w, (kho_md_kind_t)k, &src, "", true, &n, err);
    if (rc == 0)
        printf("kho: %zu %s written from %s\n", n, kind, path);
    if (rc == 0 && k == KHO_MD_FARMS)
        esg_after_change(ctx, w);
    kho_store_close(w);
    return rc;
}

static int make_qr(const char *base, const char *gtin, const char *lot, const char *serial, bool png, int size,
                   kho_buf_t *img, kho_buf_t *url, kho_err_t *err)
{
    char g14[15];
    int rc = kho_gtin_normalise(gtin, g14, err);
    if (rc == 0)
        rc = kho_gs1_dl_build(base, g14, lot, serial, url, err);
    if (rc == 0)
        rc = png ? kho_qr_png(kho_buf_cstr(url), size, 4, img, err) : kho_qr_svg(kho_buf_cstr(url), size, 4, img, err);
    return rc;
}

static int cmd_qr(kho_cmdctx_t *ctx, kho_err_t *err)
{
    const kho_args_t *a = ctx->args;
    const char *gtin = kho_args_get(a, "gtin"), *out = kho_args_get(a, "out"), *fmt = kho_args_get(a, "format");
    if (!gtin || !out)
        return kho_err_set(err, KHO_EUSAGE, "usage: kho trace qr --gtin G [--lot L] [--serial S] [--format png|svg] "
                                            "[--size N] --out FILE");
    bool png = !fmt || !strcmp(fmt, "png");
    if (fmt && !png && strcmp(fmt, "svg"))
        return kho_err_set(err, KHO_EUSAGE, "--format: png or svg");
    const char *sz = kho_args_get(a, "size");
    long size = sz ? strtol(sz, NULL, 10) : 8;
    kho_buf_t img = KHO_BUF_INIT, url = KHO_BUF_INIT;
    int rc = make_qr(kho_config_str(ctx->cfg, "public_url"), gtin, kho_args_get(a, "lot"), kho_args_get(a, "serial"),
                     png, (int)(size > 0 && size <= 40 ? size : 0), &img, &url, err);
    if (rc == 0)
        rc = write_file(out, &img, err);
    if (rc == 0)
        printf("kho: %s encodes %s\n", out, kho_buf_cstr(&url));
    kho_buf_free(&img);
    kho_buf_free(&url);
    return rc;
}

static int cmd_esg(kho_cmdctx_t *ctx, kho_err_t *err)
{
    kho_store_t *w = NULL;
    int rc = kho_datadir_open(ctx->datadir, ctx->cfg, false, &w, err);
    if (rc == 0)
        rc = kho_trace_esg_refresh(w, ctx->datadir, stdout, err);
    kho_store_close(w);
    return rc;
}

int kho_cmd_trace(kho_cmdctx_t *ctx, kho_err_t *err)
{
    const kho_args_t *a = ctx->args;
    const char *sub = a->npos ? a->pos[0] : "";
    if (!strcmp(sub, "verify") && a->npos == 1)
        return cmd_verify(ctx, err);
    if (!strcmp(sub, "capture") && a->npos == 2)
        return cmd_capture(ctx, a->pos[1], err);
    if (!strcmp(sub, "import") && a->npos == 3)
        return cmd_import(ctx, a->pos[1], a->pos[2], err);
    if (!strcmp(sub, "qr") && a->npos == 1)
        return cmd_qr(ctx, err);
    if (!strcmp(sub, "esg") && a->npos == 1)
        return cmd_esg(ctx, err);
    return kho_err_set(err, KHO_EUSAGE,
                       "usage: kho trace verify | capture FILE | import farms|products|locations|partners FILE | "
                       "qr --gtin G [--lot L] --out FILE | esg");
}

int kho_trace_setup(kho_cmdctx_t *ctx, kho_store_t *w, bool demo, kho_err_t *err)
{
    kho_ledger_t *l = NULL;
    int rc = kho_ledger_open(ctx->datadir, ctx->cfg, true, &l, err);
    if (rc != 0)
        return rc;
    printf("  traceability log: %s/trace.db, verifier key %s\n", ctx->datadir, kho_tlog_vkey(kho_ledger_log(l)));
    json_t *master = NULL, *docs = NULL;
    int64_t have = 0;
    kho_err_t probe;
    if (kho_store_query_int(w, "SELECT count(*) FROM trace_events", &have, &probe) != 0)
        have = 0;
    bool load = demo && have == 0; /* a second init --demo leaves the ledger as it is */
    if (demo && !load)
        printf("  traceability: %lld events already captured, left as they are\n", (long long)have);
    if (load)
        rc = kho_trace_demo(&master, &docs, err);
    static const char *const kinds[] = {"farms", "products", "locations", "partners"};
    for (int k = 0; load && rc == 0 && k < 4; k++) {
        size_t n = 0;
        rc = kho_md_upsert(w, (kho_md_kind_t)k, json_object_get(master, kinds[k]), "", true, &n, err);
    }
    size_t ndocs = json_array_size(docs), nevents = 0;
    for (size_t i = 0; load && rc == 0 && i < ndocs; i++) {
        char what[48];
        snprintf(what, sizeof what, "demo document %zu", i + 1);
        nevents += json_array_size(json_object_get(json_object_get(json_array_get(docs, i), "epcisBody"), "eventList"));
        rc = capture_doc(w, l, json_array_get(docs, i), what, true, NULL, err);
    }
    if (demo && rc == 0) {
        char gtin[15], lot[32], png[4200];
        kho_trace_demo_showcase(gtin, lot);
        kho_buf_t img = KHO_BUF_INIT, url = KHO_BUF_INIT;
        snprintf(png, sizeof png, "%s/demo-journey-qr.png", ctx->datadir);
        rc = make_qr(kho_config_str(ctx->cfg, "public_url"), gtin, lot, NULL, true, 8, &img, &url, err);
        if (rc == 0)
            rc = write_file(png, &img, err);
        if (rc == 0 && load)
            printf("  traceability demo (synthetic): %zu supply-chain events captured\n", nevents);
        if (rc == 0)
            printf("  a lot's journey: %s\n  its QR code: %s\n", kho_buf_cstr(&url), png);
        kho_buf_free(&img);
        kho_buf_free(&url);
    }
    json_decref(master);
    json_decref(docs);
    kho_ledger_close(l);
    return rc;
}
