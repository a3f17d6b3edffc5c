/*
 * h_static — the portal's web pages and their assets, served from bytes
 * embedded in the binary.
 *
 *   GET /                  the catalogue page
 *   GET /datasets/{id}     the dataset page; 404 (the same page, saying so)
 *                          when the caller may not read the dataset, so a
 *                          private dataset's existence does not leak
 *   GET /sql               the SQL sandbox page
 *   GET /dashboard         the leaders' dashboard of indicators
 *   GET /static/<name>     an asset, by its plain name ("app.js") or its
 *                          hashed name ("app.<16 hex>.js")
 *
 * The three pages are one HTML shell (web/shell.html); its script reads the
 * URL and builds the page from the JSON API. Page URLs take any query
 * parameters (the page's own state: search words, filters, page number).
 *
 * Assets: scripts/embed.mjs turns web/ and the chart library from
 * node_modules into $(B)/gen/web_assets.c at build time: the bytes, the MIME
 * type, a content hash and a gzip copy (when smaller) of each file, with every
 * reference between assets rewritten to the hashed names. Only the kho binary
 * links that file; this module refers to its table weakly, so unit and fuzz
 * binaries link without it and see no assets (every page and asset is 404).
 *
 * Caching:
 *   - a hashed name names fixed bytes: "Cache-Control: public,
 *     max-age=31536000, immutable";
 *   - a plain name may change with the next build: "public, max-age=300";
 *   - pages: "no-cache" (revalidate every time; the guard's "private,
 *     no-store" for signed-in callers stays);
 *   - ETag: the content hash, with "-gz" appended for the gzip copy (a
 *     different representation); If-None-Match naming either gets 304.
 *   - "Content-Encoding: gzip" when the client's Accept-Encoding allows it
 *     (gzip, x-gzip or *, without q=0); "Vary: Accept-Encoding" whenever a
 *     gzip copy exists.
 * Responses point at the embedded bytes (no copy per request).
 */
#ifndef KHO_API_H_STATIC_H
#define KHO_API_H_STATIC_H

#include <stddef.h>

#include "api/http.h"

/* One embedded file (made by scripts/embed.mjs). */
typedef struct kho_asset {
    const char *name;   /* "app.js" */
    const char *hashed; /* "app.0123456789abcdef.js" */
    const char *mime;   /* Content-Type */
    const char *etag;   /* "\"0123456789abcdef\"" (quoted) */
    const unsigned char *data;
    size_t len;
    const unsigned char *gz; /* gzip copy, or NULL when it would not be smaller */
    size_t gzlen;
} kho_asset_t;

/* The table in the generated file (absent from binaries that do not link it). */
extern const kho_asset_t kho_web_assets[];
extern const size_t kho_web_nassets;

/* The asset with this plain or hashed name, or NULL. *immutable is set when
 * the hashed name was used. */
const kho_asset_t *kho_static_find(const char *name, bool *immutable);

void kho_h_page_catalogue(kho_reqctx_t *rc);
void kho_h_page_dataset(kho_reqctx_t *rc);
void kho_h_page_sql(kho_reqctx_t *rc);
void kho_h_page_dashboard(kho_reqctx_t *rc);
void kho_h_static(kho_reqctx_t *rc);

#endif
