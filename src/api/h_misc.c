/* h_misc — home page, API index, health, organisations (see h_misc.h). */
#include "api/h_misc.h"

#include "api/guard.h"
#include "api/router.h"
#include "core/version.h"
#include "store/schema.h"
#include "warehouse/catalog.h"

static const char *const NO_PARAMS[] = {NULL};

static const char HOME[] =
    "<!doctype html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>kho — Nền tảng dữ liệu dùng chung</title>"
    "<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    "code{background:#f3f3f3;padding:.1rem .3rem}</style></head><body>"
    "<h1>kho — Nền tảng dữ liệu dùng chung</h1>"
    "<p>Kho dữ liệu dùng chung của tỉnh: danh mục bộ dữ liệu, phiên bản, báo cáo chất lượng và danh mục đơn vị "
    "hành chính 2025. <em>Provincial shared data warehouse.</em></p>"
    "<h2>API</h2><ul>"
    "<li><a href=\"/api/v1/datasets\"><code>/api/v1/datasets</code></a> — danh sách bộ dữ liệu (datasets)</li>"
    "<li><code>/api/v1/datasets/{id}/rows</code> — dữ liệu theo trang (rows)</li>"
    "<li><a href=\"/api/v1/units?province=33\"><code>/api/v1/units?province=33</code></a> — xã, phường của tỉnh "
    "Hưng Yên (administrative units)</li>"
    "<li><a href=\"/api/v1/units/gaps\"><code>/api/v1/units/gaps</code></a> — chỗ thiếu trong danh mục gốc</li>"
    "<li><a href=\"/api/v1\"><code>/api/v1</code></a> — mọi điểm cuối (all endpoints)</li>"
    "<li><a href=\"/healthz\"><code>/healthz</code></a> — tình trạng máy chủ (health)</li></ul>"
    "</body></html>\n";

void kho_h_index(kho_reqctx_t *rc)
{
    h2o_req_t *req = rc->req;
    kho_err_t err;
    if (kho_http_check_params(rc, NO_PARAMS, &err) != 0) {
        kho_http_send_error(req, &err, NULL);
        return;
    }
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/html; charset=utf-8"));
    h2o_send_inline(req, HOME, sizeof HOME - 1);
}

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
