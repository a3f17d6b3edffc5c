/*
 * store — kho's storage interface: one database connection and its statements.
 *
 * This is the narrow waist between the warehouse and the storage engine. The
 * default engine is embedded SQLite in WAL mode, so readers never wait for the
 * writer and the CLI may write while `kho serve` reads the same data directory.
 * The warehouse speaks only through these functions and portable SQL (with `?`
 * placeholders), so that a PostgreSQL engine can stand behind the same interface
 * later (docs/architecture.md).
 *
 * Threads: a kho_store_t is used by one thread at a time. The server gives each
 * event-loop and worker thread its own read-only connection and guards the one
 * writing connection with a mutex.
 */
#ifndef KHO_STORE_STORE_H
#define KHO_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct kho_store kho_store_t;
typedef struct kho_stmt kho_stmt_t;

enum {
    KHO_STORE_READONLY = 1, /* open read-only (queries only) */
    KHO_STORE_CREATE = 2,   /* create the database file if missing */
};

typedef struct kho_store_opts {
    int busy_timeout_ms; /* how long to wait for a lock (0: default 60 s) */
    int cache_mb;        /* page cache size (0: default 64 MiB) */
} kho_store_opts_t;

/* Open the database at path. On success *out is a connection the caller closes
 * with kho_store_close(). A writable connection switches the database to WAL. */
int kho_store_open(const char *path, int flags, const kho_store_opts_t *opts, kho_store_t **out,
                   kho_err_t *err) KHO_WUR;
/* Close the connection, finalising its cached statements. NULL is allowed. */
void kho_store_close(kho_store_t *s);
const char *kho_store_path(const kho_store_t *s);

/* Run one or more SQL statements that return no rows. */
int kho_store_exec(kho_store_t *s, const char *sql, kho_err_t *err) KHO_WUR;

/* Transactions. begin takes the write lock at once (BEGIN IMMEDIATE) when `write`. */
int kho_store_begin(kho_store_t *s, bool write, kho_err_t *err) KHO_WUR;
int kho_store_commit(kho_store_t *s, kho_err_t *err) KHO_WUR;
/* Roll back if a transaction is open; safe to call when none is. */
void kho_store_rollback(kho_store_t *s);
bool kho_store_in_transaction(const kho_store_t *s);

/* A read snapshot: every statement between snapshot_begin and snapshot_end sees
 * the same state of the database, and they share one read transaction instead
 * of one each (cheaper in WAL mode). Both use cached statements. end is safe to
 * call when begin failed or was not called; it rolls back (a snapshot writes
 * nothing). */
void kho_store_snapshot_begin(kho_store_t *s);
void kho_store_snapshot_end(kho_store_t *s);

/* Stop statements of this connection that run past `ms` milliseconds from now:
 * their step fails with KHO_ETIMEOUT (kind "timeout"). ms <= 0 removes the
 * limit. Checked every few thousand virtual-machine steps. */
void kho_store_deadline(kho_store_t *s, int64_t ms);
/* SQLite's data_version of this connection: it changes whenever another
 * connection (of this process or another) has committed a change since. */
int kho_store_data_version(kho_store_t *s, int64_t *out, kho_err_t *err) KHO_WUR;
/* The same for a cache that is read far more often than the database changes:
 * the PRAGMA runs only when `now_ms` (the caller's clock, in milliseconds) or
 * `gen` (a count of the caller's own process's commits) differ from the
 * previous call on this connection, so a commit of another process shows
 * within a millisecond and one of this process at once. *out is a number of
 * this connection that changes whenever data_version or gen does. */
int kho_store_data_version_at(kho_store_t *s, uint64_t gen, int64_t now_ms, int64_t *out, kho_err_t *err) KHO_WUR;
/* What a cache of derived data checks to stay valid: which connection, its
 * data_version (commits of other connections) and its own change count (its
 * own commits do not move data_version). Equal stamps, read from the same
 * connection, mean nothing was written in between. A zero stamp matches none. */
typedef struct kho_store_stamp {
    uint64_t serial; /* unique per connection opened by this process, from 1 up */
    int64_t data_version, changes;
} kho_store_stamp_t;
int kho_store_stamp(kho_store_t *s, kho_store_stamp_t *out, kho_err_t *err) KHO_WUR;
bool kho_store_stamp_equal(const kho_store_stamp_t *a, const kho_store_stamp_t *b);

/* True when the last limit set stopped a statement. */
bool kho_store_timed_out(const kho_store_t *s);

/* Every connection has two SQL functions for search: kho_fold(a, ...) joins its
 * non-NULL arguments with spaces and folds them (core/text.h: no case, no tone
 * marks, đ = d); kho_lower(a, ...) lower-cases them keeping tone marks. A third,
 * kho_hash63(text), is kho_store_hash63 of its UTF-8 bytes. */

/* The first 63 bits of the SHA-256 of the n bytes at s, as a non-negative
 * number: a small, evenly spread key for indexing long random strings (the
 * traceability ledger's event IDs) where an index on the strings themselves
 * would be large and slow to insert into. */
int64_t kho_store_hash63(const char *s, size_t n);

/* The meta table (key -> text) of the database: kho_store_meta_get copies the
 * value of key into out (truncated to size; "" when there is none);
 * kho_store_meta_put sets it, in the caller's transaction if one is open. */
int kho_store_meta_get(kho_store_t *s, const char *key, char *out, size_t size, kho_err_t *err) KHO_WUR;
int kho_store_meta_put(kho_store_t *s, const char *key, const char *value, kho_err_t *err) KHO_WUR;

/* A new prepared statement the caller finalises with kho_stmt_free(). */
int kho_store_prepare(kho_store_t *s, const char *sql, kho_stmt_t **out, kho_err_t *err) KHO_WUR;
/* A cached prepared statement for a fixed SQL text (borrowed: do not free). It
 * comes reset with no bindings; call kho_stmt_reset() when done with its rows so
 * it releases its read snapshot. */
int kho_store_cached(kho_store_t *s, const char *sql, kho_stmt_t **out, kho_err_t *err) KHO_WUR;

void kho_stmt_free(kho_stmt_t *st);
void kho_stmt_reset(kho_stmt_t *st);

/* Bindings use 1-based indexes. Text is copied unless _static, in which case it
 * must stay valid until the statement is reset or stepped to completion. */
void kho_stmt_bind_int(kho_stmt_t *st, int i, int64_t v);
void kho_stmt_bind_double(kho_stmt_t *st, int i, double v);
void kho_stmt_bind_text(kho_stmt_t *st, int i, const char *v, size_t n);
void kho_stmt_bind_text_static(kho_stmt_t *st, int i, const char *v, size_t n);
void kho_stmt_bind_blob(kho_stmt_t *st, int i, const void *v, size_t n);
/* NUL-terminated text, or NULL for SQL NULL. */
void kho_stmt_bind_str(kho_stmt_t *st, int i, const char *v);
void kho_stmt_bind_null(kho_stmt_t *st, int i);

enum { KHO_STEP_DONE = 0, KHO_STEP_ROW = 1 };
/* Step: KHO_STEP_ROW, KHO_STEP_DONE or a negative error. */
int kho_stmt_step(kho_stmt_t *st, kho_err_t *err) KHO_WUR;

typedef enum { KHO_VAL_NULL, KHO_VAL_INT, KHO_VAL_REAL, KHO_VAL_TEXT, KHO_VAL_BLOB } kho_val_type_t;
int kho_stmt_ncols(kho_stmt_t *st);
const char *kho_stmt_col_name(kho_stmt_t *st, int i);
kho_val_type_t kho_stmt_col_type(kho_stmt_t *st, int i);
int64_t kho_stmt_col_int(kho_stmt_t *st, int i);
double kho_stmt_col_double(kho_stmt_t *st, int i);
/* Text of a column (borrowed until the next step/reset; NULL for SQL NULL). */
const char *kho_stmt_col_text(kho_stmt_t *st, int i);
size_t kho_stmt_col_bytes(kho_stmt_t *st, int i);
/* Bytes of a BLOB column (borrowed like text; NULL for SQL NULL or empty). */
const void *kho_stmt_col_blob(kho_stmt_t *st, int i);

int64_t kho_store_last_id(kho_store_t *s);
/* Rows this connection has inserted, updated or deleted since it opened
 * (rolled-back ones included). */
int64_t kho_store_total_changes(kho_store_t *s);

/* Run a query expected to give one integer (e.g. SELECT count(*)); *out = 0 when no row. */
int kho_store_query_int(kho_store_t *s, const char *sql, int64_t *out, kho_err_t *err) KHO_WUR;

/* PRAGMA integrity_check: 0 when "ok", else KHO_EIO with SQLite's first complaint. */
int kho_store_integrity_check(kho_store_t *s, kho_err_t *err) KHO_WUR;

/* Copy the WAL into the database file (called at clean shutdown). */
void kho_store_checkpoint(kho_store_t *s);
/* Copy the whole database into a new file `dest` (SQLite online backup: one
 * consistent snapshot while other connections keep reading and writing). */
int kho_store_backup(kho_store_t *s, const char *dest, kho_err_t *err) KHO_WUR;

/* Quote an identifier for SQL ("name" with inner quotes doubled) into out. */
void kho_store_quote_ident(const char *name, char *out, size_t outsz);

#endif
