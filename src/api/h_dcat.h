/*
 * h_dcat — the catalogue as DCAT-AP in JSON-LD, for harvesters of national and
 * European portals.
 *
 *   GET /catalog.jsonld                  a dcat:Catalog with every dataset the
 *                                        caller may read (anonymous callers:
 *                                        what the public may read)
 *   GET /api/v1/datasets/{id}.jsonld     one dcat:Dataset (the router sees
 *                                        "{id}.jsonld" as one segment:
 *                                        kho_h_dataset hands it over here)
 *
 * Vocabulary (docs/api.md, "DCAT"): dct:title, dct:description, dct:identifier,
 * dct:publisher (foaf:Agent), dcat:contactPoint (vcard:Organization),
 * dct:license, dct:accessRights (the EU access-right authority: open ->
 * PUBLIC, shared -> RESTRICTED, private -> NON_PUBLIC), dcat:keyword,
 * dct:temporal (dct:PeriodOfTime with dcat:startDate/endDate), dct:spatial
 * (each administrative unit as <base>/api/v1/units/<code> with its name),
 * dct:issued / dct:modified, dcat:landingPage (the portal page) and three
 * dcat:Distributions (CSV and NDJSON downloads, the paged JSON rows API).
 * The Data Law classification is kept as kho:sharing, kho:importance and
 * kho:synthetic in the namespace urn:kho:vocab# (host-independent on purpose).
 *
 * Absolute URLs start with the request's own scheme and Host
 * (kho_h_base_url); nothing names a fixed host.
 *
 * The catalogue reads every visible dataset's metadata, so it is built on a
 * worker thread; one dataset is answered on the loop.
 */
#ifndef KHO_API_H_DCAT_H
#define KHO_API_H_DCAT_H

#include <stdbool.h>
#include <stddef.h>

#include "api/http.h"

void kho_h_dcat_catalog(kho_reqctx_t *rc);
/* rc->var[0] is "<id>.jsonld". */
void kho_h_dcat_dataset(kho_reqctx_t *rc);

/* The request's "scheme://host[:port]" (no trailing slash) into out. The
 * scheme is https under TLS, else http; with the setting trust_proxy = on an
 * X-Forwarded-Proto of http or https wins. The host is the Host header when
 * it is a plausible host name or address (letters, digits, '.', '-', ':',
 * '[', ']'), else the address and port the connection reached. On the
 * request's loop. */
void kho_h_base_url(kho_reqctx_t *rc, char *out, size_t size);

/* What kho knows about a licence identifier (SPDX ids such as CC-BY-4.0, and
 * CKAN's own such as cc-by), for CKAN's license_* fields and dct:license. */
typedef struct kho_licence_info {
    const char *id;    /* as stored on the dataset */
    const char *title; /* human-readable title */
    const char *url;   /* the licence text; NULL when unknown */
    bool open;         /* an Open Definition conformant licence */
} kho_licence_info_t;

/* The licence `id` (case-insensitive); unknown ids come back with their own
 * text as title, no url, not open; "" as "notspecified". Static storage, or
 * pointers into `id`: valid while `id` is. */
kho_licence_info_t kho_licence_lookup(const char *id);

/* Send a body (copied) with a Content-Type and status. */
void kho_h_send_typed(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len);

#endif
