/* demo — load the shipped demo datasets (see demo.h). */
#include "warehouse/demo.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "warehouse/catalog.h"
#include "warehouse/ingest.h"

static const char *str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int load_one(kho_store_t *w, const char *dir, json_t *d, const kho_config_t *cfg, kho_keyring_t *keys,
                    FILE *out, kho_err_t *err)
{
    const char *id = str(d, "id"), *file = str(d, "file");
    if (!id || !file)
        return kho_err_set(err, KHO_EINVAL, "datasets.json: every entry needs \"id\" and \"file\"");
    int64_t existing;
    kho_err_t probe;
    if (kho_catalog_find(w, id, &existing, &probe) == 0) {
        if (out)
            fprintf(out, "  demo dataset %s: already present, left as it is\n", id);
        return 0;
    }
    const char *tags[32];
    json_t *jt = json_object_get(d, "tags");
    size_t ntags = 0;
    for (size_t i = 0; i < json_array_size(jt) && ntags < 32; i++)
        if (json_is_string(json_array_get(jt, i)))
            tags[ntags++] = json_string_value(json_array_get(jt, i));
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    kho_coldecl_t coltags[32], types[32];
    char names[64][128];
    size_t ncoltags = 0, ntypes = 0;
    json_t *jc = json_object_get(d, "column_tags"), *jty = json_object_get(d, "types");
    for (size_t i = 0; i < json_array_size(jc) && ncoltags < 32; i++) { /* "COL=TAGS" */
        const char *s = json_string_value(json_array_get(jc, i)), *eq = s ? strchr(s, '=') : NULL;
        if (!eq)
            return kho_err_set(err, KHO_EINVAL, "datasets.json: %s: column_tags entries are \"COL=TAGS\"", id);
        snprintf(names[ncoltags], sizeof names[0], "%.*s", (int)(eq - s), s);
        coltags[ncoltags] = (kho_coldecl_t){names[ncoltags], eq + 1};
        ncoltags++;
    }
    for (size_t i = 0; i < json_array_size(jty) && ntypes < 32; i++) { /* "COL=TYPE" */
        const char *s = json_string_value(json_array_get(jty, i)), *eq = s ? strchr(s, '=') : NULL;
        if (!eq)
            return kho_err_set(err, KHO_EINVAL, "datasets.json: %s: types entries are \"COL=TYPE\"", id);
        snprintf(names[32 + ntypes], sizeof names[0], "%.*s", (int)(eq - s), s);
        types[ntypes] = (kho_coldecl_t){names[32 + ntypes], eq + 1};
        ntypes++;
    }
    kho_ingest_opts_t o = {.dataset = id,
                           .meta = {.title = str(d, "title"),
                                    .description = str(d, "description"),
                                    .publisher = str(d, "publisher"),
                                    .licence = str(d, "licence"),
                                    .org = str(d, "org"),
                                    .org_name = str(d, "org_name"),
                                    .sharing = str(d, "sharing"),
                                    .importance = str(d, "importance"),
                                    .temporal_start = str(d, "temporal_start"),
                                    .temporal_end = str(d, "temporal_end"),
                                    .spatial = str(d, "spatial"),
                                    .tags = tags,
                                    .ntags = ntags,
                                    .tags_set = true,
                                    .synthetic = json_is_true(json_object_get(d, "synthetic"))},
                           .reject_threshold = kho_config_num(cfg, "reject_threshold"),
                           .null_marks = kho_config_str(cfg, "null_marks"),
                           .source_name = file,
                           .decls = types,
                           .ndecls = ntypes,
                           .coltags = coltags,
                           .ncoltags = ncoltags,
                           .keys = keys};
    kho_source_t src = {.path = path, .name = file};
    kho_ingest_result_t res;
    int rc = kho_ingest(w, &src, &o, &res, err);
    if (rc == 0 && out)
        fprintf(out, "  demo dataset %s: %llu rows (version %lld)\n", id, (unsigned long long)res.rows_loaded,
                (long long)res.version);
    if (rc != 0)
        kho_err_prefix(err, "demo dataset %s", id);
    kho_ingest_result_free(&res);
    return rc;
}

int kho_demo_load(kho_store_t *w, const char *dir, const kho_config_t *cfg, kho_keyring_t *keys, FILE *out,
                  kho_err_t *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/datasets.json", dir);
    json_error_t je;
    json_t *list = json_load_file(path, 0, &je);
    if (!list)
        return kho_err_set(err, KHO_EINVAL, "%s line %d: %s", path, je.line, je.text);
    int rc = 0;
    if (!json_is_array(list))
        rc = kho_err_set(err, KHO_EINVAL, "%s must hold a JSON array", path);
    for (size_t i = 0; rc == 0 && i < json_array_size(list); i++)
        rc = load_one(w, dir, json_array_get(list, i), cfg, keys, out, err);
    json_decref(list);
    return rc;
}
