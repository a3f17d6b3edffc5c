/*
 * demo — the demo datasets `kho init --demo` loads.
 *
 * The shipped folder data/demo holds CSV files and datasets.json, a manifest
 * with each dataset's id, file and metadata. Every demo dataset is synthetic
 * and says so in its metadata. Loading goes through the normal ingest path; a
 * dataset that already exists is left as it is, so init can run again.
 */
#ifndef KHO_WAREHOUSE_DEMO_H
#define KHO_WAREHOUSE_DEMO_H

#include <stdio.h>

#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

typedef struct kho_keyring kho_keyring_t;

/* Load the demo datasets from dir (datasets.json: metadata, "types" and
 * "column_tags" as "COL=..." lists); keys encrypts the columns that must be.
 * Progress lines go to `out` (may be NULL). */
int kho_demo_load(kho_store_t *w, const char *dir, const kho_config_t *cfg, kho_keyring_t *keys, FILE *out,
                  kho_err_t *err) KHO_WUR;

#endif
