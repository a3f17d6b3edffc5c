/*
 * h_units — administrative units over HTTP.
 *
 *   GET /api/v1/units?q=&province=&type=&level=&era=&limit=&offset=
 *   GET /api/v1/units/{code}?era=current|old
 *   GET /api/v1/units/gaps
 */
#ifndef KHO_API_H_UNITS_H
#define KHO_API_H_UNITS_H

#include "api/http.h"

void kho_h_units_search(kho_reqctx_t *rc);
void kho_h_unit(kho_reqctx_t *rc);
void kho_h_units_gaps(kho_reqctx_t *rc);

#endif
