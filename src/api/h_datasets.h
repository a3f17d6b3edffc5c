/*
 * h_datasets — the catalog and the rows of datasets over HTTP.
 *
 *   GET  /api/v1/datasets?q=&org=&tag=&limit=&offset=
 *   GET  /api/v1/datasets/{id}
 *   GET  /api/v1/datasets/{id}/rows?_limit=&_offset=&version=
 *   GET  /api/v1/datasets/{id}/versions
 *   GET  /api/v1/datasets/{id}/versions/{n}
 *   POST /api/v1/datasets/{id}/versions      (body: CSV, JSON array or NDJSON)
 *
 * Uploads run on a worker thread. Until accounts and API keys exist they are
 * accepted only from the loopback interface.
 */
#ifndef KHO_API_H_DATASETS_H
#define KHO_API_H_DATASETS_H

#include "api/http.h"

void kho_h_datasets_list(kho_reqctx_t *rc);
void kho_h_dataset(kho_reqctx_t *rc);
void kho_h_rows(kho_reqctx_t *rc);
void kho_h_versions(kho_reqctx_t *rc);
void kho_h_version(kho_reqctx_t *rc);
void kho_h_upload(kho_reqctx_t *rc);

#endif
