/*
 * catalog — organisations, datasets, versions and columns.
 *
 * A dataset is identified by a slug (CKAN's rule: 2-100 of [a-z0-9_-]). Each
 * upload makes a new numbered version whose rows live in their own table
 * (ds<dataset id>_v<number>); the dataset points at its newest committed
 * version. Versions are immutable once committed, so every older version stays
 * readable. Row counts are kept here at write time: a dataset's total never
 * needs a scan.
 *
 * Metadata follows DCAT-AP's needs (title, description, publisher, licence,
 * keywords, temporal and spatial coverage) plus the Data Law 2024's two
 * classifications: sharing scope (open / shared / private) and importance
 * (core / important / other). Enforcement belongs to the security layer.
 *
 * Write functions expect the caller to hold a write transaction on `w`.
 */
#ifndef KHO_WAREHOUSE_CATALOG_H
#define KHO_WAREHOUSE_CATALOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"
#include "warehouse/infer.h"

typedef struct kho_dataset_meta {
    const char *title, *description, *publisher, *licence;
    const char *org;      /* organisation slug; created when new */
    const char *org_name; /* its display name when created (default: the slug) */
    const char *sharing;  /* open, shared, private */
    const char *importance; /* core, important, other */
    const char *temporal_start, *temporal_end; /* ISO dates or years */
    const char *spatial;  /* unit codes separated by spaces or commas, e.g. "33" */
    const char *const *tags;
    size_t ntags;
    bool tags_set;        /* replace the tags even when ntags == 0 */
    int synthetic;        /* -1 unchanged, 0 real data, 1 synthetic */
} kho_dataset_meta_t;

#define KHO_DATASET_META_INIT {.synthetic = -1}

/* Check values that have a closed set of choices or a syntax. */
int kho_catalog_check_meta(const kho_dataset_meta_t *m, kho_err_t *err) KHO_WUR;

/* Create the dataset if it does not exist, then set every non-NULL field of m.
 * *id receives its row id; *created (optional) whether it is new. */
int kho_catalog_put_dataset(kho_store_t *w, const char *slug, const kho_dataset_meta_t *m, int64_t *id,
                            bool *created, kho_err_t *err) KHO_WUR;

/* Row id of the organisation `slug`, created (named `name`, or the slug) when new. */
int kho_catalog_ensure_org(kho_store_t *w, const char *slug, const char *name, int64_t *id, kho_err_t *err) KHO_WUR;

/* Row id of a dataset; KHO_ENOTFOUND when there is none. */
int kho_catalog_find(kho_store_t *s, const char *slug, int64_t *id, kho_err_t *err) KHO_WUR;

typedef struct kho_column {
    char name[64];   /* safe identifier, unique within the version */
    char *label;     /* the header as uploaded (owned) */
    kho_type_t type;
    char tags[96];   /* space-separated: commune_code, province_code, personal, sensitive */
} kho_column_t;

typedef struct kho_version_new {
    int64_t dataset_id, number;
    uint64_t rows, bytes;
    const char *sha256, *format, *source, *table, *quality_json;
    const kho_column_t *cols;
    size_t ncols;
} kho_version_new_t;

/* Number the next version of a dataset would get. */
int kho_catalog_next_version(kho_store_t *w, int64_t dataset_id, int64_t *number, kho_err_t *err) KHO_WUR;
/* Record a loaded version and make it the dataset's current one. */
int kho_catalog_add_version(kho_store_t *w, const kho_version_new_t *v, kho_err_t *err) KHO_WUR;

/* What a reader needs to read a version's rows. */
typedef struct kho_version_info {
    int64_t dataset_id, number, rows;
    char table[64];
    kho_column_t *cols;
    size_t ncols;
} kho_version_info_t;

/* Look up a version (number 0: the current one). KHO_ENOTFOUND for an unknown
 * dataset or version. Free with kho_version_info_free. */
int kho_catalog_version(kho_store_t *s, const char *slug, int64_t number, kho_version_info_t *out,
                        kho_err_t *err) KHO_WUR;
void kho_version_info_free(kho_version_info_t *v);

/* A dataset as an access check sees it (security/access.h decides). */
typedef struct kho_dsref {
    int64_t id, org_id;
    const char *sharing, *importance;
} kho_dsref_t;

/* Says whether the caller may see a dataset; NULL: every dataset is listed. */
typedef bool (*kho_visible_fn)(void *ctx, const kho_dsref_t *d);

typedef struct kho_catalog_query {
    const char *q;   /* words matched (folded) against title, description, tags, organisation */
    const char *org; /* organisation slug */
    const char *tag;
    long limit, offset;
    kho_visible_fn visible; /* datasets it refuses are left out (and not counted) */
    void *visible_ctx;
} kho_catalog_query_t;

/* {"total","limit","offset","datasets":[summary...]} (new reference). */
int kho_catalog_list(kho_store_t *s, const kho_catalog_query_t *q, json_t **out, kho_err_t *err) KHO_WUR;
/* A dataset's metadata with the current version's columns, every version and
 * the current quality report (new reference). */
int kho_catalog_dataset(kho_store_t *s, const char *slug, json_t **out, kho_err_t *err) KHO_WUR;
/* One version with its columns and quality report (new reference). */
int kho_catalog_version_json(kho_store_t *s, const char *slug, int64_t number, json_t **out,
                             kho_err_t *err) KHO_WUR;
/* {"organisations":[{"id","name","description","datasets"}]} (new reference);
 * datasets counts those `visible` accepts (NULL: all). */
int kho_catalog_orgs(kho_store_t *s, kho_visible_fn visible, void *ctx, json_t **out, kho_err_t *err) KHO_WUR;

/* Current UTC time as ISO 8601 "YYYY-MM-DDTHH:MM:SSZ". */
void kho_catalog_now(char out[32]);

#endif
