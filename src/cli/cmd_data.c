/* cmd_data — init, import, datasets, show, export (see cmd_data.h). */
#include "cli/cmd_data.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "cli/cmd_security.h"
#include "core/jsonw.h"
#include "security/access.h"
#include "security/audit.h"
#include "security/keys.h"
#include "store/schema.h"
#include "warehouse/catalog.h"
#include "warehouse/datadir.h"
#include "warehouse/demo.h"
#include "cli/cmd_trace.h"
#include "apps/indicators/indicators.h"
#include "warehouse/ingest.h"
#include "warehouse/rows.h"
#include "warehouse/units.h"

void kho_cmd_print_json(const void *json)
{
    kho_buf_t b = KHO_BUF_INIT;
    kho_json_dump(&b, json, 2);
    kho_buf_putc(&b, '\n');
    fwrite(b.data, 1, b.len, stdout);
    kho_buf_free(&b);
}

/* ---- init ------------------------------------------------------------------------ */

static int open_or_create(const char *dir, const kho_config_t *cfg, kho_store_t **s, kho_err_t *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/kho.db", dir);
    if (access(path, F_OK) != 0) {
        kho_store_t *fresh = NULL;
        int rc = kho_store_open(path, KHO_STORE_CREATE, NULL, &fresh, err);
        if (rc != 0)
            return rc;
        kho_store_close(fresh);
    }
    return kho_datadir_open(dir, cfg, false, s, err);
}

int kho_cmd_init(kho_cmdctx_t *ctx, kho_err_t *err)
{
    int rc = kho_datadir_create(ctx->datadir, err);
    if (rc != 0)
        return rc;
    kho_store_t *w = NULL;
    if ((rc = open_or_create(ctx->datadir, ctx->cfg, &w, err)) != 0)
        return rc;
    char dir[PATH_MAX];
    const char *units = kho_args_get(ctx->args, "units");
    if (units)
        snprintf(dir, sizeof dir, "%s", units);
    else
        rc = kho_datadir_shipped("units", dir, sizeof dir, err);
    kho_units_summary_t sum;
    if (rc == 0)
        rc = kho_units_load(w, dir, kho_args_flag(ctx->args, "reload-units"), &sum, err);
    if (rc == 0) {
        printf("kho: data directory %s ready (schema version %d)\n", ctx->datadir, kho_schema_latest());
        printf("  administrative units%s: %zu provinces and %zu communes (2025); before July 2025: %zu provinces, "
               "%zu districts, %zu communes; %zu conversion rows\n",
               sum.unchanged ? " (already loaded)" : "", sum.provinces, sum.communes, sum.old_provinces,
               sum.old_districts, sum.old_communes, sum.conversions);
        printf("  the source lists have %zu known gaps: see 'kho units gaps'\n", sum.gaps);
    }
    /* the key ring (master key, first data key) and the audit log's signing key */
    kho_keyring_t *keys = NULL;
    kho_audit_t *audit = NULL;
    if (rc == 0)
        rc = kho_keyring_open(ctx->datadir, w, true, &keys, err);
    if (rc == 0)
        rc = kho_audit_open(ctx->datadir, ctx->cfg, true, false, &audit, err);
    if (rc == 0) {
        printf("  keys: %s/keys/ (master.key, audit.key; mode 0600, back them up apart from the data)\n",
               ctx->datadir);
        printf("  audit log: %s/audit.db, verifier key %s\n", ctx->datadir, kho_tlog_vkey(kho_audit_log(audit)));
    }
    kho_audit_close(audit);
    if (rc == 0 && kho_args_flag(ctx->args, "demo")) {
        if ((rc = kho_datadir_shipped("demo", dir, sizeof dir, err)) == 0)
            rc = kho_demo_load(w, dir, ctx->cfg, keys, stdout, err);
        char cat[4200], csv[4200];
        if (rc == 0 && (rc = kho_datadir_shipped("indicators", dir, sizeof dir, err)) == 0) {
            snprintf(cat, sizeof cat, "%s/catalogue.json", dir);
            snprintf(csv, sizeof csv, "%s/.indicators-demo.csv", ctx->datadir);
            rc = kho_ind_demo(w, cat, csv, stdout, err);
        }
    }
    if (rc == 0)
        rc = kho_trace_setup(ctx, w, kho_args_flag(ctx->args, "demo"), err);
    kho_keyring_free(keys);
    kho_store_close(w);
    return rc;
}

/* ---- import ---------------------------------------------------------------------- */

/* Copy standard input into a temporary file in the data directory (the import
 * reads its input twice). *path receives the file name; the caller unlinks it. */
static int spool_stdin(const char *dir, char *path, size_t size, kho_err_t *err)
{
    snprintf(path, size, "%s/.import-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0)
        return kho_err_set(err, KHO_EIO, "cannot create a temporary file in %s: %s", dir, strerror(errno));
    char buf[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
        if (write(fd, buf, n) != (ssize_t)n) {
            rc = kho_err_set(err, KHO_EIO, "cannot write %s: %s", path, strerror(errno));
            break;
        }
    close(fd);
    if (rc != 0)
        unlink(path);
    return rc;
}

static void print_rejects(const json_t *q, FILE *f, size_t max)
{
    json_t *rej = json_object_get(q, "rejected");
    for (size_t i = 0; i < json_array_size(rej) && i < max; i++) {
        json_t *r = json_array_get(rej, i);
        fprintf(f, "  rejected line %lld: %s\n", (long long)json_integer_value(json_object_get(r, "line")),
                json_string_value(json_object_get(r, "reason")));
    }
    if (json_array_size(rej) > max)
        fprintf(f, "  ... %zu more listed in the quality report\n", json_array_size(rej) - max);
    json_t *warn = json_object_get(q, "warnings");
    for (size_t i = 0; i < json_array_size(warn); i++)
        fprintf(f, "  note: %s\n", json_string_value(json_array_get(warn, i)));
    json_t *cols = json_object_get(q, "columns");
    for (size_t i = 0; i < json_array_size(cols); i++) {
        json_t *c = json_array_get(cols, i);
        const char *hint = json_string_value(json_object_get(c, "hint"));
        if (hint)
            fprintf(f, "  hint for %s: %s\n", json_string_value(json_object_get(c, "name")), hint);
        json_t *codes = json_object_get(c, "codes");
        if (codes && json_integer_value(json_object_get(codes, "unknown")) > 0)
            fprintf(f, "  %s: %lld values are not known unit codes\n", json_string_value(json_object_get(c, "name")),
                    (long long)json_integer_value(json_object_get(codes, "unknown")));
    }
}

/* Import options come from the command line; option names use '-' where the
 * shared reader asks with '_' (--reject-threshold for reject_threshold). */
static void dashed(const char *key, char *out, size_t size)
{
    size_t n = 0;
    for (; key[n] && n + 1 < size; n++)
        out[n] = key[n] == '_' ? '-' : key[n];
    out[n] = '\0';
}

static const char *arg_get(void *ctx, const char *key)
{
    char name[64];
    dashed(key, name, sizeof name);
    return kho_args_get(ctx, name);
}

static size_t arg_all(void *ctx, const char *key, const char **vals, size_t max)
{
    char name[64];
    dashed(key, name, sizeof name);
    return kho_args_all(ctx, name, vals, max);
}

int kho_cmd_import(kho_cmdctx_t *ctx, kho_err_t *err)
{
    if (ctx->args->npos != 1)
        return kho_err_set(err, KHO_EUSAGE, "import takes one FILE (or - for standard input)");
    const char *file = ctx->args->pos[0];
    kho_ingest_opts_t o = {.dataset = kho_args_get(ctx->args, "dataset")};
    static kho_ingest_optbuf_t buf;
    kho_optsrc_t src_opts = {arg_get, arg_all, (void *)ctx->args};
    if (!o.dataset)
        return kho_err_set(err, KHO_EUSAGE, "--dataset ID is required");
    int rc = kho_ingest_opts_read(&o, &src_opts, ctx->cfg, &buf, err);
    if (rc == KHO_EINVAL && strcmp(err->kind, "bad_parameter") == 0) { /* a usage error, named as typed */
        char name[64], msg[sizeof err->msg];
        size_t n = strcspn(err->msg, " ");
        dashed(err->msg, name, n + 1 < sizeof name ? n + 1 : sizeof name);
        snprintf(msg, sizeof msg, "--%s%s", name, err->msg + n);
        snprintf(err->msg, sizeof err->msg, "%s", msg);
        return err->code = KHO_EUSAGE;
    }
    if (rc == 0)
        rc = kho_ingest_check_opts(&o, err);
    if (rc != 0)
        return rc;
    kho_store_t *w = NULL;
    if ((rc = kho_datadir_open(ctx->datadir, ctx->cfg, false, &w, err)) != 0)
        return rc;
    kho_keyring_t *keys = NULL;
    if ((rc = kho_keyring_open(ctx->datadir, w, false, &keys, err)) != 0) {
        kho_store_close(w);
        return rc;
    }
    o.keys = keys;
    char spool[PATH_MAX] = "";
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    if (strcmp(file, "-") == 0) {
        if ((rc = spool_stdin(ctx->datadir, spool, sizeof spool, err)) != 0) {
            kho_store_close(w);
            return rc;
        }
        file = spool;
        base = "stdin";
    }
    o.source_name = base;
    kho_source_t src = {.path = file, .name = base};
    kho_ingest_result_t res;
    rc = kho_ingest(w, &src, &o, &res, err);
    if (rc == 0) {
        printf("kho: imported %s into %s version %lld: %llu rows loaded, %llu rejected (%.2f s: check %.2f s, load "
               "%.2f s)\n",
               base, o.dataset, (long long)res.version, (unsigned long long)res.rows_loaded,
               (unsigned long long)res.rows_rejected, res.check_seconds + res.load_seconds, res.check_seconds,
               res.load_seconds);
        print_rejects(res.quality, stdout, 10);
    } else if (res.quality)
        print_rejects(res.quality, stderr, 10);
    kho_ingest_result_free(&res);
    if (rc == 0)
        rc = kho_cli_audit(ctx, "upload", o.dataset,
                           json_pack("{s:I,s:I,s:s}", "version", (json_int_t)res.version, "rows_loaded",
                                     (json_int_t)res.rows_loaded, "file", base),
                           err);
    if (spool[0])
        unlink(spool);
    kho_keyring_free(keys);
    kho_store_close(w);
    return rc;
}

/* ---- datasets / show ------------------------------------------------------------- */

int kho_cmd_datasets(kho_cmdctx_t *ctx, kho_err_t *err)
{
    kho_store_t *s = NULL;
    int rc = kho_datadir_open(ctx->datadir, ctx->cfg, true, &s, err);
    if (rc != 0)
        return rc;
    kho_catalog_query_t q = {.q = kho_args_get(ctx->args, "q"), .org = kho_args_get(ctx->args, "org"), .limit = 10000};
    json_t *list = NULL;
    rc = kho_catalog_list(s, &q, &list, err);
    if (rc == 0 && kho_args_flag(ctx->args, "json"))
        kho_cmd_print_json(list);
    else if (rc == 0) {
        json_t *arr = json_object_get(list, "datasets");
        printf("%-32s %7s %10s  %-8s %s\n", "ID", "VERSION", "ROWS", "SHARING", "TITLE");
        for (size_t i = 0; i < json_array_size(arr); i++) {
            json_t *d = json_array_get(arr, i);
            printf("%-32s %7lld %10lld  %-8s %s\n", json_string_value(json_object_get(d, "id")),
                   (long long)json_integer_value(json_object_get(d, "current_version")),
                   (long long)json_integer_value(json_object_get(d, "row_count")),
                   json_string_value(json_object_get(d, "sharing")), json_string_value(json_object_get(d, "title")));
        }
        printf("%zu datasets\n", json_array_size(arr));
    }
    json_decref(list);
    kho_store_close(s);
    return rc;
}

static void print_dataset(json_t *d)
{
    json_t *org = json_object_get(d, "organisation");
    printf("%s — %s\n", json_string_value(json_object_get(d, "id")), json_string_value(json_object_get(d, "title")));
    const char *desc = json_string_value(json_object_get(d, "description"));
    if (desc && *desc)
        printf("%s\n", desc);
    printf("organisation: %s   sharing: %s   importance: %s%s\n",
           org && json_is_object(org) ? json_string_value(json_object_get(org, "name")) : "-",
           json_string_value(json_object_get(d, "sharing")), json_string_value(json_object_get(d, "importance")),
           json_is_true(json_object_get(d, "synthetic")) ? "   (synthetic data)" : "");
    printf("current version: %lld   rows: %lld   updated: %s\n",
           (long long)json_integer_value(json_object_get(d, "current_version")),
           (long long)json_integer_value(json_object_get(d, "row_count")),
           json_string_value(json_object_get(d, "updated_at")));
    json_t *q = json_object_get(d, "quality");
    json_t *qcols = json_object_get(q, "columns");
    printf("\n%-28s %-9s %-34s %9s %9s  %s\n", "COLUMN", "TYPE", "TAGS", "NULLS", "DISTINCT", "LABEL");
    json_t *cols = json_object_get(d, "columns");
    for (size_t i = 0; i < json_array_size(cols); i++) {
        json_t *c = json_array_get(cols, i), *qc = json_array_get(qcols, i);
        json_t *tags = json_object_get(c, "tags");
        char tagtext[128] = "";
        for (size_t t = 0; t < json_array_size(tags); t++)
            snprintf(tagtext + strlen(tagtext), sizeof tagtext - strlen(tagtext), "%s%s", t ? "," : "",
                     json_string_value(json_array_get(tags, t)));
        printf("%-28s %-9s %-34s %9lld %8lld%s  %s\n", json_string_value(json_object_get(c, "name")),
               json_string_value(json_object_get(c, "type")), tagtext,
               (long long)json_integer_value(json_object_get(qc, "nulls")),
               (long long)json_integer_value(json_object_get(qc, "distinct")),
               json_is_true(json_object_get(qc, "distinct_is_estimate")) ? "~" : " ",
               json_string_value(json_object_get(c, "label")));
    }
    if (q && json_is_object(q)) {
        printf("\nquality of version %lld: %lld rows read, %lld loaded, %lld rejected\n",
               (long long)json_integer_value(json_object_get(d, "current_version")),
               (long long)json_integer_value(json_object_get(q, "rows_read")),
               (long long)json_integer_value(json_object_get(q, "rows_loaded")),
               (long long)json_integer_value(json_object_get(q, "rows_rejected")));
        print_rejects(q, stdout, 10);
    }
    json_t *vers = json_object_get(d, "versions");
    printf("\nversions:\n");
    for (size_t i = 0; i < json_array_size(vers); i++) {
        json_t *v = json_array_get(vers, i);
        printf("  %3lld  %s  %10lld rows  sha256 %.16s…  %s\n", (long long)json_integer_value(json_object_get(v, "number")),
               json_string_value(json_object_get(v, "created_at")),
               (long long)json_integer_value(json_object_get(v, "row_count")),
               json_string_value(json_object_get(v, "sha256")), json_string_value(json_object_get(v, "source")));
    }
}

static int parse_version(const kho_args_t *a, int64_t *n, kho_err_t *err)
{
    const char *v = kho_args_get(a, "version");
    *n = 0;
    if (!v)
        return 0;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (*end || end == v || x < 1)
        return kho_err_set(err, KHO_EUSAGE, "--version must be a version number (1, 2, ...), not '%s'", v);
    *n = x;
    return 0;
}

int kho_cmd_show(kho_cmdctx_t *ctx, kho_err_t *err)
{
    if (ctx->args->npos != 1)
        return kho_err_set(err, KHO_EUSAGE, "show takes one dataset ID");
    int64_t number;
    int rc = parse_version(ctx->args, &number, err);
    if (rc != 0)
        return rc;
    kho_store_t *s = NULL;
    if ((rc = kho_datadir_open(ctx->datadir, ctx->cfg, true, &s, err)) != 0)
        return rc;
    json_t *d = NULL;
    if (number > 0)
        rc = kho_catalog_version_json(s, ctx->args->pos[0], number, &d, err);
    else
        rc = kho_catalog_dataset(s, ctx->args->pos[0], &d, err);
    if (rc == 0) {
        if (kho_args_flag(ctx->args, "json") || number > 0)
            kho_cmd_print_json(d);
        else
            print_dataset(d);
    }
    json_decref(d);
    kho_store_close(s);
    return rc;
}

/* ---- export ---------------------------------------------------------------------- */

static int file_sink(void *ctx, const char *p, size_t n)
{
    return fwrite(p, 1, n, ctx) == n ? 0 : -1;
}

int kho_cmd_export(kho_cmdctx_t *ctx, kho_err_t *err)
{
    if (ctx->args->npos != 1)
        return kho_err_set(err, KHO_EUSAGE, "export takes one dataset ID");
    const char *fmt = kho_args_get(ctx->args, "format");
    if (!fmt)
        return kho_err_set(err, KHO_EUSAGE, "--format csv|json|ndjson is required");
    int fi = kho_outfmt_parse(fmt);
    if (fi < 0)
        return kho_err_set(err, KHO_EUSAGE, "--format must be csv, json or ndjson, not '%s'", fmt);
    int64_t number;
    int rc = parse_version(ctx->args, &number, err);
    if (rc != 0)
        return rc;
    kho_store_t *s = NULL;
    if ((rc = kho_datadir_open(ctx->datadir, ctx->cfg, true, &s, err)) != 0)
        return rc;
    kho_version_info_t v;
    kho_keyring_t *keys = NULL;
    kho_dsfacts_t f;
    kho_principal_t operator = {.role = KHO_ROLE_ADMIN, .user_id = -1, .scopes = KHO_SCOPE_ALL};
    bool pii = kho_args_flag(ctx->args, "pii");
    if (!pii)
        operator.scopes &= ~(unsigned)KHO_SCOPE_PII_READ;
    rc = kho_catalog_version(s, ctx->args->pos[0], number, &v, err);
    if (rc == 0 && (rc = kho_access_facts(s, &operator, ctx->args->pos[0], &f, err)) != 0)
        kho_version_info_free(&v);
    kho_decision_t d = {0};
    if (rc == 0) {
        f.personal = kho_rows_has_personal(&v);
        d = kho_access_decide(&operator, &f, KHO_ACT_READ);
        if ((rc = kho_keyring_open(ctx->datadir, s, false, &keys, err)) == 0 && d.audit)
            rc = kho_cli_audit(ctx, "export", ctx->args->pos[0],
                               json_pack("{s:I,s:s,s:b}", "version", (json_int_t)v.number, "format", fmt, "masked",
                                         d.mask),
                               err);
        if (rc != 0)
            kho_version_info_free(&v);
    }
    kho_rows_view_t view = {.mask = d.mask, .keys = keys};
    if (rc == 0) {
        const char *outpath = kho_args_get(ctx->args, "output");
        FILE *out = outpath ? fopen(outpath, "wb") : stdout;
        if (!out)
            rc = kho_err_set(err, KHO_EIO, "cannot write %s: %s", outpath, strerror(errno));
        else {
            rc = kho_rows_export(s, &v, &view, (kho_outfmt_t)fi, file_sink, out, err);
            if (fflush(out) != 0 && rc == 0)
                rc = kho_err_set(err, KHO_EIO, "cannot write the output: %s", strerror(errno));
            if (outpath)
                fclose(out);
        }
        kho_version_info_free(&v);
    }
    kho_keyring_free(keys);
    kho_store_close(s);
    return rc;
}
