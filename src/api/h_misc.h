/*
 * h_misc — small endpoints: the API index, health, organisations. (The
 * portal's pages, "/" included, are api/h_static.h's.)
 *
 *   GET /api/v1                the list of endpoints
 *   GET /healthz               {"status":"ok",...} when the database answers
 *   GET /api/v1/organisations  publishing organisations with dataset counts
 */
#ifndef KHO_API_H_MISC_H
#define KHO_API_H_MISC_H

#include "api/http.h"

void kho_h_api_index(kho_reqctx_t *rc);
void kho_h_health(kho_reqctx_t *rc);
void kho_h_organisations(kho_reqctx_t *rc);

#endif
