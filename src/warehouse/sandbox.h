/*
 * sandbox — the read-only SQL sandbox: a caller's own SELECT over the datasets
 * and administrative units it may read (GET|POST /api/v1/sql, docs/api.md).
 *
 * Tables. Every dataset version is stored as ds<dataset id>_v<number>
 * (catalog.h); the sandbox never shows those names. It shows TEMP VIEWs with
 * stable names instead:
 *   <name>        the dataset's current version, <name> being the dataset id
 *                 with '-' replaced by '_' (ho-so-dich-vu-cong -> ho_so_dich_vu_cong)
 *   <name>_v<N>   version N of it (ho_so_dich_vu_cong_v1)
 *   units, units_province, units_commune, units_old_province,
 *   units_old_district, units_old_commune, units_conversion, units_gaps
 *                 the administrative units (units.h), public reference data
 * A name that would start with "sqlite_" (reserved by SQLite) gets the prefix
 * "ds_". When two names collide, the first in this order wins: the unit tables,
 * then every <name>_v<N> (datasets by creation), then every <name>; only
 * datasets the caller may read take part, so the outcome never depends on a
 * dataset the caller cannot see.
 *
 * Design: one read-only SQLite connection per thread (opened lazily, closed by
 * a pthread key destructor or kho_sandbox_thread_close), separate from kho's
 * own connections, with:
 *   - SQLITE_OPEN_READONLY, PRAGMA query_only, SQLITE_DBCONFIG_DEFENSIVE, no
 *     triggers, no views in the main schema, no double-quoted strings, no
 *     extension loading, trusted_schema off;
 *   - limits: a value at most 10 MB (randomblob(1e9) fails cleanly; a stored
 *     value above it cannot be read either), SQL text at most
 *     KHO_SANDBOX_MAX_SQL bytes, expression depth 250, 50 terms in a compound
 *     SELECT, 100 function arguments, no attached databases, LIKE/GLOB
 *     patterns of 100 bytes (LIKE costs up to value length x pattern length
 *     inside one call), 8 MiB of page cache;
 *   - a progress handler that stops a statement once SQLite has spent the
 *     time limit on it (time spent writing rows out is not counted);
 *   - kho's own linear instr(), replace() and two-argument trim/ltrim/rtrim()
 *     in place of SQLite 3.40's (same results; theirs are quadratic and run
 *     for minutes inside one call, where no progress handler can stop them);
 *   - an authorizer, described below.
 * Before each query kho brings the connection's TEMP VIEWs in line with the
 * caller: exactly the views of the tables this caller may read exist (a
 * dataset it may not read has no view at all, so naming it fails as for a
 * table that never existed), and views of datasets whose personal columns are
 * masked for the caller carry NULL in place of those columns. Views are
 * changed only where they differ from the previous caller's (a diff by name),
 * and the catalog is re-read only when PRAGMA data_version says another
 * connection committed. kho's own statements run with the authorizer in a
 * trusted mode; the caller's statement never does. (A better fit than fixed
 * views plus column checks: SQLite expands a view by reading every column of
 * its table, so the authorizer cannot tell the columns a caller uses from
 * those the view reads; only the caller's reads of the view itself tell.)
 *
 * Authorizer (the caller's statement): SELECT and recursive CTEs are allowed;
 * reading a view column is allowed (a personal or sensitive column of a view
 * masked for the caller is refused with a message naming the column: so
 * `SELECT *` over such a table fails, and the caller lists the columns it
 * wants); reading a stored table is allowed only from inside the view built on
 * it, never a personal column masked for the caller; a read without a column
 * (count(*)) only of a stored table under one of the caller's views, of
 * json_each/json_tree, or of a name the statement defines; json_each and
 * json_tree are allowed; PRAGMA table_info / table_xinfo only on a sandbox
 * table; every function must be on the allow-list (kho_sandbox_functions);
 * everything else is refused: writes, CREATE (TEMP included), DROP, ALTER,
 * ATTACH/DETACH, transactions and savepoints, ANALYZE, REINDEX, other PRAGMAs,
 * other virtual tables, sqlite_schema and every table that is not a sandbox
 * view. A refused table gets SQLite's own wording, "no such table: NAME", with
 * the name as the caller wrote it, so that kho's tables and the datasets a
 * caller may not read look exactly like tables that do not exist. Besides the
 * authorizer, a statement must be the only one in the text, start with SELECT,
 * WITH, VALUES, EXPLAIN QUERY PLAN or PRAGMA (so VACUUM INTO, which prepares
 * without asking the authorizer, never runs), have no parameters, and be
 * read-only (sqlite3_stmt_readonly); and a name it defines (WITH name AS (...),
 * WINDOW name AS (...)) may not be one of the caller's tables, a stored table
 * (kho's own, or any ds<N>_v<M>-shaped name, existing or not) or an eponymous
 * virtual table, since the authorizer trusts reads made under a view's name and
 * column-less reads of a defined name.
 *
 * Encrypted columns (keys.h) are decrypted inside the view by the function
 * kho_decrypt(value, 'table.column', type), for callers who may see them: a
 * caller's SQL then filters, groups and sorts on the real values. The function
 * refuses any column the current caller may not read unmasked, so calling it
 * directly decrypts nothing new.
 *
 * Output: JSON {"columns":[..],"rows":[[..],..],"row_count":n,"truncated":b,
 * "time_ms":t}, CSV (RFC 4180, CRLF, a header of column names) or NDJSON (one
 * object per row; a repeated column name gets "_2", "_3" ... as its key).
 * Integers and reals are numbers (reals in the shortest form that reads back
 * the same), a column read straight from a boolean column is true/false, NULL
 * is null (empty in CSV), a BLOB is {"$base64":true,"encoded":"..."} in JSON
 * and its base64 text in CSV; text that is not valid UTF-8 has its bad bytes
 * replaced by '?'. Output stops after max_rows rows or max_bytes bytes, with
 * `truncated` set.
 *
 * Threads: every function works on the calling thread's own connection; call
 * them from any number of threads. Errors: KHO_EINVAL (kind sql_error: SQLite's
 * message, position in res->offset), KHO_EFORBIDDEN (sql_denied), KHO_ETIMEOUT
 * (timeout), KHO_ETOOLARGE (sql_too_long), KHO_EBUSY, KHO_EIO.
 */
#ifndef KHO_WAREHOUSE_SANDBOX_H
#define KHO_WAREHOUSE_SANDBOX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "security/auth.h"
#include "security/keys.h"
#include "store/store.h"
#include "warehouse/rows.h"

#define KHO_SANDBOX_MAX_SQL 100000               /* bytes of SQL text */
#define KHO_SANDBOX_MAX_VALUE (10 * 1000 * 1000) /* bytes of one string or blob */
#define KHO_SANDBOX_AUDIT_SQL 8000               /* bytes of SQL text kept in an audit entry */

/* One query. Strings are borrowed for the duration of the call. */
typedef struct kho_sandbox_query {
    const char *sql;
    size_t len;
    const kho_principal_t *who;
    kho_outfmt_t fmt;
    int64_t time_limit_ms; /* SQLite's time on the statement; <= 0: none */
    int64_t max_rows;      /* rows written before the output stops (truncated) */
    int64_t max_bytes;     /* bytes written before the output stops (truncated) */
    kho_keyring_t *keys;   /* decrypts encrypted columns; NULL: reading one is an error */
} kho_sandbox_query_t;

typedef struct kho_sandbox_result {
    int64_t rows;   /* rows written */
    bool truncated; /* stopped by max_rows or max_bytes */
    double time_ms; /* wall time of the whole run */
    int offset;     /* on a SQL error: byte offset in the SQL text it points at; -1: none */
    json_t *tables; /* new reference: names of the sandbox tables the query read (may be empty) */
    json_t *audit;  /* new reference: [{"dataset","version","table","personal"}] reads the
                     * audit log must record (private, core, important or personal data) */
} kho_sandbox_result_t;

/* Run q for q->who on the calling thread's sandbox connection over the
 * database of s, writing the output to sink in pieces (the sink returns
 * non-zero to stop: KHO_EIO). s is used for the caller's grants and to load
 * data keys the key ring does not know yet. On error nothing may have been
 * written yet, or part of the output: callers that must send a clean error
 * buffer the output (the HTTP handler spools it). res is always filled
 * (free it with kho_sandbox_result_free). */
int kho_sandbox_run(kho_store_t *s, const kho_sandbox_query_t *q, kho_sink_fn sink, void *ctx,
                    kho_sandbox_result_t *res, kho_err_t *err) KHO_WUR;
void kho_sandbox_result_free(kho_sandbox_result_t *res);

/* The tables `who` may query: {"tables":[{"name","kind":"dataset"|"units",
 * "dataset","version","current","rows","masked","columns":[{"name","type",
 * "personal","encrypted","hidden"}]}]} (new reference in *out). `hidden`: the
 * column is personal data masked for this caller (reading it is refused). */
int kho_sandbox_tables(kho_store_t *s, const kho_principal_t *who, json_t **out, kho_err_t *err) KHO_WUR;

/* The SQL functions a caller may use, sorted (static storage). */
const char *const *kho_sandbox_functions(size_t *n);

/* Close the calling thread's sandbox connection now (it is otherwise closed
 * when the thread exits). Safe when there is none. */
void kho_sandbox_thread_close(void);

#endif
