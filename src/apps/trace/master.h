/*
 * master — the traceability master data: farms and co-operatives (with their
 * VietGAP / GlobalGAP / organic certificates), products (GTINs), locations
 * (SGLNs) and trading partners.
 *
 * Records are JSON objects (docs/trace.md gives every field):
 *   farm      {id, name, kind: farm|coop, commune_code, area_ha, gln,
 *              certifications: [{scheme, number, valid_from, valid_to}]}
 *   product   {gtin, name, name_en, category, net_kg}
 *   location  {id: SGLN URN or Digital Link, name, kind, commune_code, address,
 *              farm_id, partner_id}
 *   partner   {id: a URI (PGLN URN), name, kind}
 * A CSV file has the same fields as columns; a farm's certificates go in one
 * cell as "scheme|number|valid_from|valid_to" entries separated by ';'.
 *
 * Writes are all or none: the first bad record stops the batch with a message
 * naming the record (its index, or for a file its line) and the field. Each
 * record belongs to the organisation that wrote it first; another
 * organisation's account may not change it (an admin may).
 */
#ifndef KHO_APPS_TRACE_MASTER_H
#define KHO_APPS_TRACE_MASTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "store/store.h"
#include "warehouse/reader.h"

typedef enum { KHO_MD_FARMS, KHO_MD_PRODUCTS, KHO_MD_LOCATIONS, KHO_MD_PARTNERS } kho_md_kind_t;

/* "farms", "products", "locations", "partners" -> kind; -1 when unknown. */
int kho_md_kind_parse(const char *s);
const char *kho_md_kind_name(kho_md_kind_t k);

/* Insert or replace records (a JSON array of objects) in one transaction of
 * w. org: the writer's organisation ("" none); admin: may change any record.
 * *n: records written. */
int kho_md_upsert(kho_store_t *w, kho_md_kind_t kind, const json_t *records, const char *org, bool admin, size_t *n,
                  kho_err_t *err) KHO_WUR;

/* The same from a CSV, JSON-array or NDJSON source (warehouse/reader.h);
 * errors name the source and line. */
int kho_md_import(kho_store_t *w, kho_md_kind_t kind, const kho_source_t *src, const char *org, bool admin,
                  size_t *n, kho_err_t *err) KHO_WUR;

/* Every record of a kind: {"<kind>": [...]} (new reference). */
int kho_md_list(kho_store_t *s, kho_md_kind_t kind, json_t **out, kho_err_t *err) KHO_WUR;

/* One record by its id (farm id, 14-digit GTIN, location key or URI, partner
 * id); *out NULL when there is none. */
int kho_md_get(kho_store_t *s, kho_md_kind_t kind, const char *id, json_t **out, kho_err_t *err) KHO_WUR;

#endif
