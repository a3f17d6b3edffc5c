/* h_units — unit search, lookup and gaps (see h_units.h). */
#include "api/h_units.h"

#include "warehouse/units.h"

void kho_h_units_search(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"q", "province", "type", "level", "era", "limit", "offset", NULL};
    kho_err_t err;
    long limit, offset;
    json_t *out = NULL;
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_http_param_long(rc, "limit", 20, 1, 1000, &limit, &err);
    if (r == 0)
        r = kho_http_param_long(rc, "offset", 0, 0, 1000000, &offset, &err);
    if (r == 0) {
        kho_units_query_t q = {.q = kho_http_param(rc, "q"),
                               .province = kho_http_param(rc, "province"),
                               .type = kho_http_param(rc, "type"),
                               .level = kho_http_param(rc, "level"),
                               .era = kho_http_param(rc, "era"),
                               .limit = limit,
                               .offset = offset};
        r = kho_units_search(rc->db, &q, &out, &err);
    }
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        kho_http_send_value(rc->req, 200, out);
}

void kho_h_unit(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"era", NULL};
    kho_err_t err;
    json_t *out = NULL;
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_units_get(rc->db, rc->var[0], kho_http_param(rc, "era"), &out, &err);
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        kho_http_send_value(rc->req, 200, out);
}

void kho_h_units_gaps(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {NULL};
    kho_err_t err;
    json_t *out = NULL;
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_units_gaps(rc->db, &out, &err);
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        kho_http_send_value(rc->req, 200, json_pack("{s:I,s:o}", "count", (json_int_t)json_array_size(out), "gaps", out));
}
