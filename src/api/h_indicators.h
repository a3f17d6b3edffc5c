/*
 * h_indicators — socio-economic indicators over HTTP (apps/indicators/indicators.h).
 *
 *   GET /api/v1/indicators                      the catalogue (visible indicators)
 *   GET /api/v1/indicators/{code}               definition, coverage, sources
 *   GET /api/v1/indicators/{code}/values        ?unit=&level=&from=&to=&period=&rank=desc|asc&limit=
 *   GET /api/v1/indicators/{code}/forecast      ?unit=&horizon=
 *   GET /api/v1/indicators/{code}/targets       ?unit=
 *   GET /api/v1/dashboard                       ?unit=&period=&indicator=  (one view in one response)
 *
 * Unknown indicators (or ones built from datasets the caller may not read)
 * are 404; bad codes, periods and parameters 400, naming what was wrong.
 */
#ifndef KHO_API_H_INDICATORS_H
#define KHO_API_H_INDICATORS_H

#include "api/http.h"

void kho_h_indicators(kho_reqctx_t *rc);
void kho_h_indicator(kho_reqctx_t *rc);
void kho_h_indicator_values(kho_reqctx_t *rc);
void kho_h_indicator_forecast(kho_reqctx_t *rc);
void kho_h_indicator_targets(kho_reqctx_t *rc);
void kho_h_dashboard(kho_reqctx_t *rc);

#endif
