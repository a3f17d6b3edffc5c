/*
 * server — kho's HTTP server on libh2o (evloop).
 *
 * Threads
 *   One event loop per core (setting `threads`), each with its own SO_REUSEPORT
 *   listening socket on the same address, its own h2o context and its own
 *   read-only database connection. Handlers run on the loop; they do only
 *   fast, bounded work there (an indexed page of rows, a catalog lookup).
 *   Anything that can take long (an upload, later sandbox queries, exports,
 *   password hashing) goes to a pool of worker threads (`workers`) through
 *   kho_server_defer(); the result comes back to the request's own loop
 *   through h2o's multithread queue, and the loop sends the response.
 *
 * Request lifetime
 *   The server speaks HTTP/1.1, in clear or over TLS (settings tls_cert and
 *   tls_key; no ALPN h2, no h2c upgrade). h2o's HTTP/1 code stops
 *   reading a connection while a request is being processed, so a request and
 *   its body stay valid until the response is sent, and a deferred job may read
 *   them from its worker. Enabling HTTP/2 (with TLS) must copy request bodies
 *   before deferring, because an HTTP/2 stream can be reset under the job.
 *
 * Shutdown
 *   SIGINT or SIGTERM: every loop closes its listener and asks its connections
 *   to finish (idle keep-alive connections close at once, busy ones after their
 *   response), the loops stop when no connection is left (or after
 *   `shutdown_timeout_s`), the workers drain, and the database is checkpointed
 *   and closed.
 */
#ifndef KHO_API_SERVER_H
#define KHO_API_SERVER_H

#include <h2o.h>

#include "api/http.h"
#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

/* Serve the data directory until SIGINT/SIGTERM. Returns 0 after a clean
 * shutdown, or an error (address in use, data directory not initialised). */
int kho_server_run(const char *datadir, kho_config_t *cfg, kho_err_t *err) KHO_WUR;

/* Run work(data) on a worker thread, then done(req, data) back on the request's
 * event loop, where it must send the response. Returns 0 when queued. When the
 * server is stopping it returns -1 after answering 503; neither function runs
 * and the caller still owns data. */
typedef void (*kho_work_fn)(void *data);
typedef void (*kho_done_fn)(h2o_req_t *req, void *data);
int kho_server_defer(kho_reqctx_t *rc, kho_work_fn work, kho_done_fn done, void *data);

/* Streaming responses: fn(st, data) runs on a worker thread and writes the
 * response through the stream; the request's event loop sends it as it comes,
 * one chunk in flight at a time, so memory stays flat however long the output
 * (the worker waits while the client is slower than it).
 *
 * fn calls kho_stream_start() once with the status and Content-Type (headers
 * added before it with kho_stream_header()), then kho_stream_write() any number
 * of times; or, before starting, kho_stream_error() to answer with an error
 * instead. Returning from fn ends the response (a 204-less empty 200 when fn
 * wrote nothing and did not start). kho_stream_write returns -1 once the client
 * has gone: fn should stop. kho_stream_abort() after start ends the response
 * abruptly (the client sees an incomplete body, not a complete wrong one).
 * Returns 0 when queued; -1 when the server is stopping (503 sent, data still
 * the caller's). */
typedef struct kho_stream kho_stream_t;
typedef void (*kho_stream_fn)(kho_stream_t *st, void *data);
int kho_server_stream(kho_reqctx_t *rc, kho_stream_fn fn, void *data);
/* Add a response header (copied); before kho_stream_start only. */
void kho_stream_header(kho_stream_t *st, const char *name, const char *value);
void kho_stream_start(kho_stream_t *st, int status, const char *content_type);
int kho_stream_write(kho_stream_t *st, const void *p, size_t n);
void kho_stream_error(kho_stream_t *st, const kho_err_t *err);
void kho_stream_abort(kho_stream_t *st);

/* Ask the background indexer (warehouse/indexer.h) to look for versions
 * without their indexes now rather than at its next period. Any thread. */
void kho_server_index_soon(kho_server_t *srv);
/* Ask the background thread to recompute the traceability ESG indicators
 * (apps/trace/esg.h): trace_esg_delay_s after the last such request, and at
 * most 60 s after the first one not yet served. */
void kho_server_esg_soon(kho_server_t *srv);

/* The calling worker thread's own read-only connection, or NULL when called
 * from elsewhere (or when it could not be opened). */
kho_store_t *kho_server_worker_db(kho_server_t *srv);

/* The one writing database connection, locked for the caller (a worker); unlock
 * when done. Writers across processes are serialised by SQLite itself. */
kho_store_t *kho_server_writer_lock(kho_server_t *srv);
void kho_server_writer_unlock(kho_server_t *srv);

/* Something this process wrote has been committed (kho_server_writer_unlock
 * says so itself; call this after other writes that cached answers depend on,
 * such as a checkpoint of the traceability log). */
void kho_server_changed(kho_server_t *srv);

/* What a response cache keys its entries by: a number of the request's
 * connection that changes whenever the database may have (a commit of this
 * process at once, one of another process within a millisecond), without
 * asking SQLite on every request (kho_store_data_version_at). */
int kho_server_data_version(kho_reqctx_t *rc, int64_t *out, kho_err_t *err);

/* The traceability ledger (apps/trace/trace.h), open while the server runs. */
typedef struct kho_ledger kho_ledger_t;
kho_ledger_t *kho_server_ledger(kho_server_t *srv);

#endif
