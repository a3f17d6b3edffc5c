/* cmd_indicators — the indicator catalogue and values from the command line (see cmd_indicators.h). */
#include "cli/cmd_indicators.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "apps/indicators/indicators.h"
#include "core/buf.h"
#include "core/jsonw.h"
#include "warehouse/datadir.h"

static const char *js(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int list(kho_cmdctx_t *ctx, bool as_json, kho_err_t *err)
{
    kho_store_t *s = NULL;
    int rc = kho_datadir_open(ctx->datadir, ctx->cfg, true, &s, err);
    if (rc != 0)
        return rc;
    kho_principal_t op = {.role = KHO_ROLE_ADMIN, .user_id = -1, .scopes = KHO_SCOPE_ALL};
    kho_ind_ctx_t c = {.db = s, .who = &op};
    json_t *res = NULL, *all = json_array();
    rc = kho_ind_list(&c, &res, err);
    for (size_t i = 0; rc == 0 && i < json_array_size(json_object_get(res, "indicators")); i++) {
        json_t *d = json_array_get(json_object_get(res, "indicators"), i), *one = NULL;
        rc = kho_ind_get(&c, js(d, "code"), &one, err);
        if (rc == 0)
            json_array_append_new(all, one);
    }
    if (rc == 0 && as_json) {
        kho_buf_t b = KHO_BUF_INIT;
        kho_json_dump(&b, all, 2);
        printf("%s\n", kho_buf_cstr(&b));
        kho_buf_free(&b);
    } else if (rc == 0) {
        for (size_t i = 0; i < json_array_size(all); i++) {
            json_t *d = json_array_get(all, i), *cov = json_object_get(d, "coverage");
            json_t *lv = json_object_get(cov, js(d, "level"));
            printf("%-22s %-9s %-8s %-18s %s", js(d, "code"), js(d, "kind"), js(d, "level"), js(d, "unit_of_measure"),
                   js(d, "name"));
            if (lv)
                printf("  [%s–%s, %lld units, %lld values, %lld converted]", js(lv, "from"), js(lv, "to"),
                       (long long)json_integer_value(json_object_get(lv, "units")),
                       (long long)json_integer_value(json_object_get(lv, "values")),
                       (long long)json_integer_value(json_object_get(lv, "converted")));
            printf("\n");
        }
        printf("%zu indicators\n", json_array_size(all));
    }
    json_decref(all);
    json_decref(res);
    kho_store_close(s);
    return rc;
}

int kho_cmd_indicators(kho_cmdctx_t *ctx, kho_err_t *err)
{
    const kho_args_t *a = ctx->args;
    const char *sub = a->npos ? a->pos[0] : "";
    if (!*sub)
        return list(ctx, kho_args_flag(a, "json"), err);
    size_t want = !strcmp(sub, "rebuild") ? 1 : !strcmp(sub, "source") ? 3 : 2;
    if (strcmp(sub, "rebuild") && strcmp(sub, "source") && strcmp(sub, "catalogue") && strcmp(sub, "weights") &&
        strcmp(sub, "targets"))
        return kho_err_set(err, KHO_EUSAGE, "unknown subcommand '%s' (catalogue, source, weights, targets, rebuild)",
                           sub);
    if (a->npos != want)
        return kho_err_set(err, KHO_EUSAGE, "indicators %s takes %zu argument%s", sub, want - 1, want == 2 ? "" : "s");
    kho_store_t *w = NULL;
    int rc = kho_datadir_open(ctx->datadir, ctx->cfg, false, &w, err);
    if (rc != 0)
        return rc;
    rc = kho_store_begin(w, true, err); /* the change and its rebuild commit together, or not at all */
    if (rc != 0) {
        kho_store_close(w);
        return rc;
    }
    if (!strcmp(sub, "catalogue"))
        rc = kho_ind_load_catalogue(w, a->pos[1], err);
    else if (!strcmp(sub, "source"))
        rc = kho_ind_set_source(w, a->pos[1], a->pos[2], err);
    else if (!strcmp(sub, "weights"))
        rc = kho_ind_load_weights(w, a->pos[1], err);
    else if (!strcmp(sub, "targets"))
        rc = kho_ind_load_targets(w, a->pos[1], err);
    kho_ind_build_t b;
    if (rc == 0 && strcmp(sub, "targets"))
        rc = kho_ind_rebuild(w, &b, err);
    if (rc == 0)
        rc = kho_store_commit(w, err);
    if (rc != 0)
        kho_store_rollback(w);
    if (rc == 0 && strcmp(sub, "targets"))
        printf("kho: indicators rebuilt from %zu reports: %zu values (%zu converted or recomputed, %zu units left "
               "without a value because a predecessor had none) in %.3f s\n",
               b.reports, b.values, b.converted, b.incomplete, b.seconds);
    else if (rc == 0)
        printf("kho: targets loaded from %s\n", a->pos[1]);
    kho_store_close(w);
    return rc;
}
