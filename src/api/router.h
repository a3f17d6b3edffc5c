/*
 * router — the route table: method, path pattern, handler.
 *
 * Patterns are literal segments and {placeholders} ("/api/v1/datasets/{id}");
 * placeholder values land in rc->var[] in order. HEAD is served as GET. An
 * unknown path gets 404 and a known path with the wrong method 405 with an
 * Allow header, both as JSON errors. Every request passes the guard
 * (authentication, CSRF, rate limit, the route's rule) before its handler.
 */
#ifndef KHO_API_ROUTER_H
#define KHO_API_ROUTER_H

#include "api/guard.h"
#include "api/http.h"

typedef void (*kho_handler_fn)(kho_reqctx_t *rc);

typedef struct kho_route {
    const char *method;
    const char *pattern; /* a final "*" matches one or more remaining segments */
    kho_handler_fn fn;
    kho_rule_t rule;     /* who may call it (api/guard.h); dataset rules are the handler's */
} kho_route_t;

/* Parse the request, find its route and run the handler (which responds, now
 * or after deferred work). */
void kho_router_dispatch(kho_reqctx_t *rc);

/* The route table (for the API index). */
const kho_route_t *kho_router_routes(size_t *n);

#endif
