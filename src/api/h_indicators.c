/* h_indicators — indicators, values, forecasts, targets, dashboard (see h_indicators.h). */
#include "api/h_indicators.h"

#include "apps/indicators/indicators.h"

static void reply(kho_reqctx_t *rc, int r, json_t *out, const kho_err_t *err)
{
    if (r != 0)
        kho_http_send_error(rc->req, err, NULL);
    else
        kho_http_send_value(rc->req, 200, out);
}

void kho_h_indicators(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {NULL};
    kho_err_t err;
    json_t *out = NULL;
    kho_ind_ctx_t c = {.db = rc->db, .who = &rc->who};
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_ind_list(&c, &out, &err);
    reply(rc, r, out, &err);
}

void kho_h_indicator(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {NULL};
    kho_err_t err;
    json_t *out = NULL;
    kho_ind_ctx_t c = {.db = rc->db, .who = &rc->who};
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_ind_get(&c, rc->var[0], &out, &err);
    reply(rc, r, out, &err);
}

void kho_h_indicator_values(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"unit", "level", "from", "to", "period", "rank", "limit", NULL};
    kho_err_t err;
    json_t *out = NULL;
    long limit;
    kho_ind_ctx_t c = {.db = rc->db, .who = &rc->who};
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_http_param_long(rc, "limit", 0, 0, 100000, &limit, &err);
    if (r == 0) {
        kho_ind_values_q_t q = {.units = kho_http_param(rc, "unit"),
                                .level = kho_http_param(rc, "level"),
                                .from = kho_http_param(rc, "from"),
                                .to = kho_http_param(rc, "to"),
                                .period = kho_http_param(rc, "period"),
                                .rank = kho_http_param(rc, "rank"),
                                .limit = limit};
        r = kho_ind_values(&c, rc->var[0], &q, &out, &err);
    }
    reply(rc, r, out, &err);
}

void kho_h_indicator_forecast(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"unit", "horizon", NULL};
    kho_err_t err;
    json_t *out = NULL;
    long horizon;
    kho_ind_ctx_t c = {.db = rc->db, .who = &rc->who};
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_http_param_long(rc, "horizon", 5, 1, 20, &horizon, &err);
    if (r == 0)
        r = kho_ind_forecast(&c, rc->var[0], kho_http_param(rc, "unit"), horizon, &out, &err);
    reply(rc, r, out, &err);
}

void kho_h_indicator_targets(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"unit", NULL};
    kho_err_t err;
    json_t *out = NULL;
    kho_ind_ctx_t c = {.db = rc->db, .who = &rc->who};
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_ind_targets(&c, rc->var[0], kho_http_param(rc, "unit"), &out, &err);
    reply(rc, r, out, &err);
}

void kho_h_dashboard(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"unit", "period", "indicator", NULL};
    kho_err_t err;
    json_t *out = NULL;
    kho_ind_ctx_t c = {.db = rc->db, .who = &rc->who};
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_ind_dashboard(&c, kho_http_param(rc, "unit"), kho_http_param(rc, "period"),
                              kho_http_param(rc, "indicator"), &out, &err);
    reply(rc, r, out, &err);
}
