/*
 * h_datasets — the catalog and the rows of datasets over HTTP.
 *
 *   GET  /api/v1/datasets?q=&org=&tag=&limit=&offset=
 *   GET  /api/v1/datasets/{id}
 *   GET  /api/v1/datasets/{id}/versions
 *   GET  /api/v1/datasets/{id}/versions/{n}
 *   POST /api/v1/datasets/{id}/versions      (body: CSV, JSON array or NDJSON)
 *   PATCH /api/v1/datasets/{id}              {"sharing","importance"}
 *   GET|POST /api/v1/datasets/{id}/grants, DELETE /api/v1/datasets/{id}/grants/{grantee}
 *
 * Every handler asks the access decision (security/access.h) through
 * kho_guard_dataset(): datasets the caller may not read are absent (404, not
 * listed); rows of personal columns are masked for callers without pii:read;
 * reads of private, core, important or personal data are audited, as are
 * uploads, reclassifications and grants. Uploads and changes run on worker
 * threads.
 */
#ifndef KHO_API_H_DATASETS_H
#define KHO_API_H_DATASETS_H

#include "api/http.h"

void kho_h_datasets_list(kho_reqctx_t *rc);
void kho_h_dataset(kho_reqctx_t *rc);
void kho_h_versions(kho_reqctx_t *rc);
void kho_h_version(kho_reqctx_t *rc);
void kho_h_upload(kho_reqctx_t *rc);
/* PATCH /api/v1/datasets/{id} {"sharing","importance"}: reclassify (manage). */
void kho_h_dataset_patch(kho_reqctx_t *rc);
/* GET/POST /api/v1/datasets/{id}/grants, DELETE .../grants/{grantee} (manage). */
void kho_h_grants_list(kho_reqctx_t *rc);
void kho_h_grant_add(kho_reqctx_t *rc);
void kho_h_grant_remove(kho_reqctx_t *rc);

#endif
