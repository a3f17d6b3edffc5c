/* h_openapi — the OpenAPI document and the API page (see h_openapi.h). */
#include "api/h_openapi.h"

#include <string.h>

#include "api/h_static.h"

void kho_h_openapi(kho_reqctx_t *rc)
{
    static const char *const no_params[] = {NULL};
    kho_err_t err;
    bool immutable;
    if (kho_http_check_params(rc, no_params, &err) != 0) {
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    const kho_asset_t *a = kho_static_find("openapi.json", &immutable);
    if (!a) {
        kho_http_send_status(rc->req, KHO_ENOTFOUND, "not_found", "this kho binary was built without its web assets");
        return;
    }
    h2o_req_t *req = rc->req;
    h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, a->etag, strlen(a->etag), 1);
    h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, H2O_STRLIT("public, max-age=300"), 1);
    const char *inm = kho_http_header(req, H2O_TOKEN_IF_NONE_MATCH);
    if (inm && strstr(inm, a->etag)) {
        static h2o_generator_t generator = {NULL, NULL};
        req->res.status = 304;
        req->res.reason = "Not Modified";
        h2o_start_response(req, &generator);
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    kho_http_send_json(req, 200, (const char *)a->data, a->len);
}

/* A browser (Accept naming text/html) gets the portal's shell, whose script
 * draws the page from the document; any other client the JSON discovery
 * document. */
void kho_h_page_api(kho_reqctx_t *rc)
{
    h2o_req_t *req = rc->req;
    const char *accept = kho_http_header(req, H2O_TOKEN_ACCEPT);
    if (accept && strstr(accept, "text/html")) {
        /* the page sets (overwrites) the first Vary to Accept-Encoding: the second one stays */
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Accept-Encoding"));
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Accept"));
        kho_h_page_catalogue(rc);
        return;
    }
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Accept"));
    static const char body[] =
        "{\"name\":\"kho\",\"documentation\":\"/api\",\"openapi\":\"/api/v1/openapi.json\","
        "\"endpoints\":\"/api/v1\",\"ckan\":\"/api/3/action/package_list\",\"dcat\":\"/catalog.jsonld\"}\n";
    kho_http_send_json(req, 200, body, sizeof body - 1);
}
