/*
 * h_rows — row queries, exports and aggregates of a dataset over HTTP.
 *
 *   GET /api/v1/datasets/{id}/rows?col=v&col__op=v&q=&_sort=&_fields=&_limit=&_after=
 *                                 &_count=&_facet=&_format=json|csv|ndjson&version=
 *   GET /api/v1/datasets/{id}/aggregate?group=a,b&count=1&sum=c&avg=c&min=c&max=c&<filters>&q=&version=
 *
 * The query language is warehouse/query.h's. JSON pages carry at most _limit
 * rows and a "next" link (a keyset cursor tied to the version); CSV and NDJSON
 * (by _format or the Accept header) stream every matching row from a worker
 * thread with constant memory, as an attachment.
 *
 * Where it runs: an unfiltered JSON page in row order is an index seek and is
 * answered on the event loop; a page with filters, text search, another order,
 * a count or facets runs on a worker under `query_time_limit_ms`; exports
 * stream from a worker without a time limit.
 *
 * Access: every request asks kho_guard_dataset(): a dataset the caller may not
 * read is a 404. Personal columns come out masked for callers without pii:read
 * (and cannot be filtered, sorted or faceted by them); aggregates touching
 * personal columns leave out groups smaller than `min_group_size`. Reads of
 * private, core, important or personal data are audited with the query's
 * filters and the number of rows returned.
 */
#ifndef KHO_API_H_ROWS_H
#define KHO_API_H_ROWS_H

#include "api/http.h"

void kho_h_rows(kho_reqctx_t *rc);
void kho_h_aggregate(kho_reqctx_t *rc);

#endif
