/*
 * h_openapi — the API's OpenAPI 3.1 description and its human page.
 *
 *   GET /api/v1/openapi.json   the document (web/openapi.json, embedded in the
 *                              binary like the portal's other assets), as
 *                              application/json
 *   GET /api                   the portal page that renders it (the portal's
 *                              shell; web/apidocs.js draws the page) for a
 *                              browser (Accept: text/html); for any other
 *                              client a JSON document naming the API's
 *                              entry points (Vary: Accept)
 *
 * The document is written by hand, next to the code it describes; the
 * end-to-end test tests/e2e/test_openapi.py fails when a route of the router's
 * table (GET /api/v1 lists them) is missing from it, or when it describes a
 * path the router does not have. Binaries built without the embedded assets
 * (unit tests, fuzzers) answer 404.
 */
#ifndef KHO_API_H_OPENAPI_H
#define KHO_API_H_OPENAPI_H

#include "api/http.h"

void kho_h_openapi(kho_reqctx_t *rc);
void kho_h_page_api(kho_reqctx_t *rc);

#endif
