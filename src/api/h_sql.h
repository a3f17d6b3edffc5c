/*
 * h_sql — the read-only SQL sandbox over HTTP (the engine is warehouse/sandbox.h).
 *
 *   GET  /api/v1/sql?q=SELECT...&_format=json|csv|ndjson
 *   POST /api/v1/sql          body {"q": "SELECT ...", "_format": "csv"} (application/json)
 *   GET  /api/v1/sql/tables   the tables this caller may query, with their columns
 *
 * Anyone may call them: what a caller sees is decided table by table by the
 * access decision (security/access.h), as in the rest of the API. Without
 * _format the Accept header chooses (text/csv, application/x-ndjson), else JSON.
 * JSON stops after sql_max_rows rows ("truncated": true); CSV and NDJSON after
 * sql_max_rows_export; every format after sql_max_output_mb MiB. The headers
 * X-Kho-Row-Count, X-Kho-Truncated and X-Kho-Time-Ms say what happened, for
 * every format (CSV has no other place to say it).
 *
 * Threads and memory: the query runs on a worker thread (kho_server_defer),
 * never on the event loop, at most `workers` sandbox queries at a time (more
 * get 503 with Retry-After). Its output is spooled: kept in memory up to
 * 256 KiB, beyond that in an unlinked file in DATA/tmp, and the event loop
 * sends the file in 64 KiB pieces as the client reads them. So the worker is
 * free as soon as the query ends (a slow client holds no worker and no read
 * transaction), an error found after the first rows still gets a clean error
 * response, and memory stays bounded per request (disk: sql_max_output_mb).
 *
 * Reads of private, core or important datasets, or of personal columns, are
 * audited (action "sql", target the dataset id; details: version, table, rows,
 * whether personal columns were read, the tables, and the SQL text up to 8000
 * bytes).
 */
#ifndef KHO_API_H_SQL_H
#define KHO_API_H_SQL_H

#include "api/http.h"

void kho_h_sql(kho_reqctx_t *rc);
void kho_h_sql_tables(kho_reqctx_t *rc);

#endif
