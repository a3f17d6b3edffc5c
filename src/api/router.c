/* router — the route table and dispatch (see router.h). */
#include "api/router.h"

#include <string.h>

#include "api/guard.h"
#include "api/h_audit.h"
#include "api/h_auth.h"
#include "api/h_ckan.h"
#include "api/h_datasets.h"
#include "api/h_dcat.h"
#include "api/h_misc.h"
#include "api/h_openapi.h"
#include "api/h_ask.h"
#include "api/h_sql.h"
#include "api/h_rows.h"
#include "api/h_static.h"
#include "api/h_indicators.h"
#include "api/h_trace.h"
#include "api/h_units.h"

#define READ_AUDIT {.scopes = KHO_SCOPE_AUDIT_READ}
#define USERS_ADMIN {.scopes = KHO_SCOPE_USERS_ADMIN}
#define ACCOUNT {.account = true}

static const kho_route_t ROUTES[] = {
    {"GET", "/", kho_h_page_catalogue, {0}},
    {"GET", "/datasets/{id}", kho_h_page_dataset, {0}},
    {"GET", "/sql", kho_h_page_sql, {0}},
    {"GET", "/dashboard", kho_h_page_dashboard, {0}},
    {"GET", "/api", kho_h_page_api, {0}},
    {"GET", "/static/*", kho_h_static, {0}},
    {"GET", "/healthz", kho_h_health, {0}},
    {"GET", "/api/v1", kho_h_api_index, {0}},
    {"POST", "/api/v1/auth/login", kho_h_login, {.login = true}},
    {"POST", "/api/v1/auth/logout", kho_h_logout, ACCOUNT},
    {"GET", "/api/v1/auth/me", kho_h_me, {0}},
    {"GET", "/api/v1/keys", kho_h_keys_list, ACCOUNT},
    {"POST", "/api/v1/keys", kho_h_key_create, {.session = true}},
    {"DELETE", "/api/v1/keys/{id}", kho_h_key_revoke, ACCOUNT},
    {"GET", "/api/v1/users", kho_h_users_list, USERS_ADMIN},
    {"POST", "/api/v1/users", kho_h_user_create, USERS_ADMIN},
    {"PATCH", "/api/v1/users/{name}", kho_h_user_update, USERS_ADMIN},
    {"GET", "/api/v1/datasets", kho_h_datasets_list, {0}},
    {"GET", "/api/v1/datasets/{id}", kho_h_dataset, {0}},
    {"PATCH", "/api/v1/datasets/{id}", kho_h_dataset_patch, ACCOUNT},
    {"GET", "/api/v1/datasets/{id}/rows", kho_h_rows, {0}},
    {"GET", "/api/v1/datasets/{id}/aggregate", kho_h_aggregate, {0}},
    {"GET", "/api/v1/datasets/{id}/versions", kho_h_versions, {0}},
    {"POST", "/api/v1/datasets/{id}/versions", kho_h_upload, {.scopes = KHO_SCOPE_DATASETS_WRITE}},
    {"GET", "/api/v1/datasets/{id}/versions/{n}", kho_h_version, {0}},
    {"GET", "/api/v1/datasets/{id}/grants", kho_h_grants_list, ACCOUNT},
    {"POST", "/api/v1/datasets/{id}/grants", kho_h_grant_add, ACCOUNT},
    {"DELETE", "/api/v1/datasets/{id}/grants/{grantee}", kho_h_grant_remove, ACCOUNT},
    {"GET", "/api/v1/organisations", kho_h_organisations, {0}},
    {"GET", "/api/v1/ask", kho_h_ask, {0}},
    {"POST", "/api/v1/ask", kho_h_ask, {0}},
    {"GET", "/api/v1/sql", kho_h_sql, {0}},
    {"POST", "/api/v1/sql", kho_h_sql, {0}},
    {"GET", "/api/v1/sql/tables", kho_h_sql_tables, {0}},
    {"GET", "/api/v1/indicators", kho_h_indicators, {0}},
    {"GET", "/api/v1/indicators/{code}", kho_h_indicator, {0}},
    {"GET", "/api/v1/indicators/{code}/values", kho_h_indicator_values, {0}},
    {"GET", "/api/v1/indicators/{code}/forecast", kho_h_indicator_forecast, {0}},
    {"GET", "/api/v1/indicators/{code}/targets", kho_h_indicator_targets, {0}},
    {"GET", "/api/v1/dashboard", kho_h_dashboard, {0}},
    {"GET", "/api/v1/units", kho_h_units_search, {0}},
    {"GET", "/api/v1/units/gaps", kho_h_units_gaps, {0}},
    {"GET", "/api/v1/units/{code}", kho_h_unit, {0}},
    /* traceability (docs/trace.md): EPCIS capture and query, proofs, master data, QR codes, the resolver */
    {"POST", "/api/v1/trace/capture", kho_h_trace_capture, {.scopes = KHO_SCOPE_TRACE_WRITE}},
    {"GET", "/api/v1/trace/events", kho_h_trace_events, {.scopes = KHO_SCOPE_TRACE_READ}},
    {"GET", "/api/v1/trace/events/{id}/proof", kho_h_trace_event_proof, {0}},
    {"GET", "/api/v1/trace/lots/{gtin}/{lot}/proof", kho_h_trace_lot_proof, {0}},
    {"GET", "/api/v1/trace/qr", kho_h_trace_qr, {0}},
    {"GET", "/api/v1/trace/{kind}", kho_h_trace_master_list, {0}},
    {"POST", "/api/v1/trace/{kind}", kho_h_trace_master_put, {.scopes = KHO_SCOPE_TRACE_WRITE}},
    {"GET", "/trace/labels", kho_h_trace_labels, {0}},
    {"GET", "/01/*", kho_h_trace_resolve, {0}},
    {"GET", "/api/v1/audit/key", kho_h_audit_key, {0}},
    {"GET", "/api/v1/audit/checkpoint", kho_h_audit_checkpoint, {0}},
    {"GET", "/api/v1/audit/proof/inclusion", kho_h_audit_inclusion, {0}},
    {"GET", "/api/v1/audit/proof/consistency", kho_h_audit_consistency, {0}},
    {"GET", "/api/v1/audit/entries", kho_h_audit_entries, READ_AUDIT},
    {"GET", "/audit/checkpoint", kho_h_audit_checkpoint, {0}},
    {"GET", "/audit/tile/*", kho_h_audit_tile, {0}},
    /* the open-data interfaces: CKAN's Action API (docs/ckan.md), DCAT-AP, OpenAPI */
    {"GET", "/api/v1/openapi.json", kho_h_openapi, {0}},
    {"GET", "/catalog.jsonld", kho_h_dcat_catalog, {0}},
    {"GET", "/api/3/action/{name}", kho_h_ckan_action, {0}},
    {"POST", "/api/3/action/{name}", kho_h_ckan_action, {0}},
    {"GET", "/api/action/{name}", kho_h_ckan_action, {0}},
    {"POST", "/api/action/{name}", kho_h_ckan_action, {0}},
};

#define NROUTES (sizeof ROUTES / sizeof ROUTES[0])

const kho_route_t *kho_router_routes(size_t *n)
{
    *n = NROUTES;
    return ROUTES;
}

/* Match the request's segments against a pattern; fills rc->var. */
static bool match(kho_reqctx_t *rc, const char *pattern)
{
    size_t k = 0, nvar = 0;
    const char *p = pattern;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (k >= rc->nseg)
            return false;
        if (p[0] == '*' && n == 1)
            return true; /* the rest, one segment or more */
        if (p[0] == '{') {
            if (nvar < 4)
                rc->var[nvar++] = rc->seg[k];
        } else if (strlen(rc->seg[k]) != n || strncmp(rc->seg[k], p, n) != 0)
            return false;
        k++;
        p += n;
    }
    return k == rc->nseg;
}

void kho_router_dispatch(kho_reqctx_t *rc)
{
    kho_err_t err;
    if (kho_http_parse(rc, &err) != 0) {
        if (kho_guard_enter(rc, NULL) == 0)
            kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    h2o_iovec_t m = rc->req->method;
    bool head = h2o_memis(m.base, m.len, H2O_STRLIT("HEAD"));
    if (h2o_memis(m.base, m.len, H2O_STRLIT("OPTIONS")) &&
        kho_guard_is_public_api(rc->req->path_normalized.base, rc->req->path_normalized.len)) {
        kho_guard_cors_preflight(rc->req);
        return;
    }
    char allow[64] = "";
    for (size_t i = 0; i < NROUTES; i++) {
        if (!match(rc, ROUTES[i].pattern))
            continue;
        const char *want = ROUTES[i].method;
        if (h2o_memis(m.base, m.len, want, strlen(want)) || (head && strcmp(want, "GET") == 0)) {
            if (kho_guard_enter(rc, &ROUTES[i].rule) == 0)
                ROUTES[i].fn(rc);
            return;
        }
        if (!strstr(allow, want))
            snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s", allow[0] ? ", " : "", want);
    }
    if (kho_guard_enter(rc, NULL) != 0)
        return;
    if (allow[0]) {
        h2o_add_header(&rc->req->pool, &rc->req->res.headers, H2O_TOKEN_ALLOW, NULL, allow, strlen(allow));
        kho_http_send_http_error(rc->req, 405, "method_not_allowed", "%.*s is not allowed here (allowed: %s)",
                                 (int)(m.len > 16 ? 16 : m.len), m.base, allow);
        return;
    }
    kho_http_send_status(rc->req, KHO_ENOTFOUND, "not_found", "no such path (see /api/v1 for the endpoints)");
}
