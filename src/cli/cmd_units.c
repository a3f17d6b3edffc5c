/* cmd_units — search and show administrative units (see cmd_units.h). */
#include "cli/cmd_units.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_data.h"
#include "core/text.h"
#include "warehouse/datadir.h"
#include "warehouse/units.h"

static const char *js(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Print s left-aligned in `width` terminal columns (printf pads by bytes, which
 * misaligns Vietnamese text). */
static void padded(const char *s, size_t width)
{
    size_t w = kho_text_width(s, strlen(s));
    fputs(s, stdout);
    for (; w < width; w++)
        putchar(' ');
}

static void print_list(json_t *res)
{
    json_t *units = json_object_get(res, "units");
    for (size_t i = 0; i < json_array_size(units); i++) {
        json_t *u = json_array_get(units, i);
        printf("%-6s %-9s %-8s ", js(u, "code"), js(u, "level"), js(u, "era"));
        padded(js(u, "name"), 40);
        printf(" %s%s\n", js(u, "province_name"), strcmp(js(u, "era"), "old") == 0 ? " (before 7/2025)" : "");
    }
    printf("%zu of %lld units\n", json_array_size(units), (long long)json_integer_value(json_object_get(res, "total")));
}

static void print_unit(json_t *u)
{
    printf("%s  %s (%s, %s)\n", js(u, "code"), js(u, "name"), js(u, "level"),
           strcmp(js(u, "era"), "old") == 0 ? "before July 2025" : "since July 2025");
    if (*js(u, "province_name"))
        printf("province: %s (%s)\n", js(u, "province_name"), js(u, "province_code"));
    json_t *pre = json_object_get(u, "predecessors"), *suc = json_object_get(u, "successors");
    if (pre) {
        printf("formed on 1 July 2025 from:\n");
        for (size_t i = 0; i < json_array_size(pre); i++) {
            json_t *p = json_array_get(pre, i);
            json_t *d = json_object_get(p, "district");
            printf("  %-6s ", js(p, "code"));
            padded(js(p, "name"), 36);
            printf(" %-8s %s%s%s\n", js(p, "relation"), d ? js(d, "name") : "", d ? ", " : "",
                   js(json_object_get(p, "province"), "name"));
        }
    }
    if (suc) {
        printf("since 1 July 2025 part of:\n");
        for (size_t i = 0; i < json_array_size(suc); i++) {
            json_t *p = json_array_get(suc, i);
            printf("  %-6s ", js(p, "code"));
            padded(js(p, "name"), 36);
            printf(" %s\n", js(p, "relation"));
        }
    }
    json_t *old = json_object_get(u, "old_unit");
    if (old)
        printf("the code %s also named %s before July 2025 (kho units show %s --era old)\n", js(old, "code"),
               js(old, "name"), js(old, "code"));
}

int kho_cmd_units(kho_cmdctx_t *ctx, kho_err_t *err)
{
    const kho_args_t *a = ctx->args;
    kho_store_t *s = NULL;
    int rc = kho_datadir_open(ctx->datadir, ctx->cfg, true, &s, err);
    if (rc != 0)
        return rc;
    bool json = kho_args_flag(a, "json");
    json_t *res = NULL;
    const char *sub = a->npos ? a->pos[0] : "";
    if (strcmp(sub, "show") == 0) {
        if (a->npos != 2)
            rc = kho_err_set(err, KHO_EUSAGE, "units show takes one CODE");
        else
            rc = kho_units_get(s, a->pos[1], kho_args_get(a, "era"), &res, err);
        if (rc == 0 && !json)
            print_unit(res);
    } else if (strcmp(sub, "gaps") == 0) {
        rc = kho_units_gaps(s, &res, err);
        if (rc == 0 && !json) {
            for (size_t i = 0; i < json_array_size(res); i++) {
                json_t *g = json_array_get(res, i);
                printf("%-32s %-6s %s\n", js(g, "kind"), js(g, "code"), js(g, "detail"));
            }
            printf("%zu gaps in the source lists\n", json_array_size(res));
        }
    } else {
        if (a->npos > 1)
            rc = kho_err_set(err, KHO_EUSAGE, "units takes one QUERY (quote names with spaces)");
        const char *lim = kho_args_get(a, "limit");
        char *end = NULL;
        kho_units_query_t q = {.q = a->npos ? a->pos[0] : NULL,
                               .province = kho_args_get(a, "province"),
                               .type = kho_args_get(a, "type"),
                               .level = kho_args_get(a, "level"),
                               .era = kho_args_get(a, "era"),
                               .limit = lim ? strtol(lim, &end, 10) : 20};
        if (rc == 0 && lim && (*end || q.limit < 1 || q.limit > 100000))
            rc = kho_err_set(err, KHO_EUSAGE, "--limit must be from 1 to 100000");
        if (rc == 0)
            rc = kho_units_search(s, &q, &res, err);
        if (rc == 0 && !json)
            print_list(res);
    }
    if (rc == KHO_EINVAL && strcmp(err->kind, "bad_parameter") == 0)
        rc = err->code = KHO_EUSAGE; /* a bad option value is a usage error, like the others */
    if (rc == 0 && json)
        kho_cmd_print_json(res);
    json_decref(res);
    kho_store_close(s);
    return rc;
}
