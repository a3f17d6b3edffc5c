/* h_misc — API index, health, organisations (see h_misc.h). */
#include "api/h_misc.h"

#include "api/guard.h"
#include "api/router.h"
#include "core/version.h"
#include "store/schema.h"
#include "warehouse/catalog.h"

static const char *const NO_PARAMS[] = {NULL};

void kho_h_api_index(kho_reqctx_t *rc)
{
    kho_err_t err;
    if (kho_http_check_params(rc, NO_PARAMS, &err) != 0) {
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    size_t n;
    const kho_route_t *routes = kho_router_routes(&n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s,s:s}", "method", routes[i].method, "path", routes[i].pattern));
    kho_http_send_value(rc->req, 200, json_pack("{s:s,s:s,s:o}", "name", "kho", "version", KHO_VERSION, "endpoints", arr));
}

void kho_h_health(kho_reqctx_t *rc)
{
    kho_err_t err;
    int schema = 0;
    if (kho_http_check_params(rc, NO_PARAMS, &err) != 0 || kho_schema_current(rc->db, &schema, &err) != 0) {
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    kho_http_send_value(rc->req, 200,
                        json_pack("{s:s,s:s,s:i}", "status", "ok", "version", KHO_VERSION, "schema", schema));
}

void kho_h_organisations(kho_reqctx_t *rc)
{
    kho_err_t err;
    json_t *out = NULL;
    kho_visibility_t vis = {0};
    int r = kho_http_check_params(rc, NO_PARAMS, &err);
    if (r == 0)
        r = kho_guard_visibility(rc, &vis, &err);
    if (r == 0)
        r = kho_catalog_orgs(rc->db, kho_guard_visible, &vis, &out, &err);
    kho_visibility_free(&vis);
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        kho_http_send_value(rc->req, 200, out);
}
