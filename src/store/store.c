/*
 * store — SQLite implementation of the storage interface (see store.h).
 *
 * Connections open in SQLite's multi-thread mode (no per-connection mutex): the
 * caller guarantees one thread at a time. Writable connections put the database
 * in WAL mode with synchronous=NORMAL: a commit is atomic and durable against a
 * process crash (kill -9); against power loss the last commits before the crash
 * may be lost but the database stays consistent.
 */
#include "store/store.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/text.h"

#define CACHE_SLOTS 64

typedef struct cached {
    char *sql;
    sqlite3_stmt *st;
    uint64_t used; /* LRU clock */
} cached_t;

struct kho_store {
    sqlite3 *db;
    char *path;
    cached_t cache[CACHE_SLOTS];
    uint64_t clock;
    struct timespec deadline; /* kho_store_deadline; tv_sec 0: none */
    bool timed_out;           /* the progress handler stopped a statement */
    uint64_t serial;          /* kho_store_stamp: unique per connection of this process */
    struct {                  /* kho_store_data_version_at: what the last call saw */
        bool seen;
        uint64_t gen;
        int64_t now_ms, dv, out;
    } dva;
};

#define ST(x) ((sqlite3_stmt *)(void *)(x))

static int map_rc(int rc)
{
    switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return KHO_EBUSY;
    case SQLITE_CONSTRAINT: return KHO_ECONFLICT;
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return KHO_EIO;
    case SQLITE_TOOBIG: return KHO_ETOOLARGE;
    case SQLITE_INTERRUPT: return KHO_EBUSY;
    default: return KHO_EINTERNAL;
    }
}

/* kho_fold(a, b, ...) and kho_lower(a, b, ...): the non-NULL arguments as text,
 * joined by a space, folded for search (or lower-cased keeping tone marks); NULL
 * when every argument is NULL. Used by full-text indexing and __contains. */
static void sql_textfn(sqlite3_context *ctx, int argc, sqlite3_value **argv, bool fold)
{
    kho_buf_t in = KHO_BUF_INIT, out = KHO_BUF_INIT;
    bool any = false;
    for (int i = 0; i < argc; i++) {
        if (sqlite3_value_type(argv[i]) == SQLITE_NULL || sqlite3_value_type(argv[i]) == SQLITE_BLOB)
            continue;
        const char *t = (const char *)sqlite3_value_text(argv[i]);
        if (!t)
            continue;
        if (any)
            kho_buf_putc(&in, ' ');
        kho_buf_append(&in, t, (size_t)sqlite3_value_bytes(argv[i]));
        any = true;
    }
    if (!any) {
        sqlite3_result_null(ctx);
    } else if (!kho_utf8_valid(in.data, in.len, NULL)) {
        sqlite3_result_text(ctx, in.data, (int)in.len, SQLITE_TRANSIENT); /* not ours to fold */
    } else {
        if (fold)
            kho_text_fold(in.data, in.len, &out);
        else
            kho_text_lower(in.data, in.len, &out);
        sqlite3_result_text(ctx, out.data ? out.data : "", (int)out.len, SQLITE_TRANSIENT);
    }
    kho_buf_free(&in);
    kho_buf_free(&out);
}

static void sql_fold(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    sql_textfn(ctx, argc, argv, true);
}

static void sql_lower(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    sql_textfn(ctx, argc, argv, false);
}

int64_t kho_store_hash63(const char *s, size_t n)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)s, n);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | h[i];
    return (int64_t)(v >> 1);
}

int kho_store_meta_get(kho_store_t *s, const char *key, char *out, size_t size, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(s, "SELECT value FROM meta WHERE key = ?", &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, key);
    if (size)
        out[0] = '\0';
    rc = kho_stmt_step(st, err);
    if (rc == KHO_STEP_ROW && size)
        snprintf(out, size, "%s", kho_stmt_col_text(st, 0) ? kho_stmt_col_text(st, 0) : "");
    kho_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

int kho_store_meta_put(kho_store_t *s, const char *key, const char *value, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(s, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, key);
    kho_stmt_bind_str(st, 2, value);
    rc = kho_stmt_step(st, err);
    kho_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

static void sql_hash63(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    const char *t = (const char *)sqlite3_value_text(argv[0]);
    if (!t) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sqlite3_result_int64(ctx, kho_store_hash63(t, (size_t)sqlite3_value_bytes(argv[0])));
}

static int progress(void *arg)
{
    kho_store_t *s = arg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > s->deadline.tv_sec || (now.tv_sec == s->deadline.tv_sec && now.tv_nsec >= s->deadline.tv_nsec)) {
        s->timed_out = true;
        return 1;
    }
    return 0;
}

void kho_store_deadline(kho_store_t *s, int64_t ms)
{
    s->timed_out = false;
    if (ms <= 0) {
        s->deadline.tv_sec = 0;
        sqlite3_progress_handler(s->db, 0, NULL, NULL);
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &s->deadline);
    s->deadline.tv_sec += (time_t)(ms / 1000);
    s->deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (s->deadline.tv_nsec >= 1000000000L) {
        s->deadline.tv_sec++;
        s->deadline.tv_nsec -= 1000000000L;
    }
    sqlite3_progress_handler(s->db, 4000, progress, s);
}

int kho_store_data_version(kho_store_t *s, int64_t *out, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(s, "PRAGMA data_version", &st, err);
    if (rc != 0)
        return rc;
    rc = kho_stmt_step(st, err);
    if (rc == KHO_STEP_ROW)
        *out = kho_stmt_col_int(st, 0);
    kho_stmt_reset(st);
    return rc == KHO_STEP_ROW ? 0 : rc < 0 ? rc : kho_err_set(err, KHO_EINTERNAL, "no data_version");
}

int kho_store_data_version_at(kho_store_t *s, uint64_t gen, int64_t now_ms, int64_t *out, kho_err_t *err)
{
    if (s->dva.seen && s->dva.gen == gen && s->dva.now_ms == now_ms) {
        *out = s->dva.out;
        return 0;
    }
    int64_t dv;
    int rc = kho_store_data_version(s, &dv, err);
    if (rc != 0)
        return rc;
    if (!s->dva.seen || s->dva.dv != dv || s->dva.gen != gen)
        s->dva.out++;
    s->dva.seen = true;
    s->dva.gen = gen;
    s->dva.now_ms = now_ms;
    s->dva.dv = dv;
    *out = s->dva.out;
    return 0;
}

int kho_store_stamp(kho_store_t *s, kho_store_stamp_t *out, kho_err_t *err)
{
    int rc = kho_store_data_version(s, &out->data_version, err);
    out->serial = s->serial;
    out->changes = sqlite3_total_changes64(s->db);
    return rc;
}

bool kho_store_stamp_equal(const kho_store_stamp_t *a, const kho_store_stamp_t *b)
{
    return a->serial && a->serial == b->serial && a->data_version == b->data_version && a->changes == b->changes;
}

bool kho_store_timed_out(const kho_store_t *s)
{
    return s->timed_out;
}

static int db_err(sqlite3 *db, int rc, kho_err_t *err, const char *what)
{
    if ((rc & 0xFF) == SQLITE_INTERRUPT && db) {
        /* the progress handler of kho_store_deadline, the only interrupter */
        return kho_err_setk(err, KHO_ETIMEOUT, "timeout", "%s: stopped at the time limit", what);
    }
    int code = map_rc(rc);
    if (code == KHO_EBUSY)
        return kho_err_setk(err, code, "database_busy", "%s: the database is busy (another writer holds the lock): %s",
                            what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    return kho_err_set(err, code, "%s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

int kho_store_open(const char *path, int flags, const kho_store_opts_t *opts, kho_store_t **out, kho_err_t *err)
{
    int oflags = SQLITE_OPEN_NOMUTEX;
    oflags |= (flags & KHO_STORE_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (flags & KHO_STORE_CREATE)
        oflags |= SQLITE_OPEN_CREATE;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, oflags, NULL);
    if (rc != SQLITE_OK) {
        kho_err_set(err, KHO_EIO, "cannot open database %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return KHO_EIO;
    }
    sqlite3_extended_result_codes(db, 1);
    int busy = opts && opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : 60000;
    int cache = opts && opts->cache_mb > 0 ? opts->cache_mb : 64;
    sqlite3_busy_timeout(db, busy);
    kho_store_t *s = kho_xcalloc(1, sizeof *s);
    static _Atomic uint64_t serials;
    s->serial = ++serials;
    s->db = db;
    s->path = kho_xstrdup(path);
    int fl = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    sqlite3_create_function(db, "kho_fold", -1, fl, NULL, sql_fold, NULL, NULL);
    sqlite3_create_function(db, "kho_lower", -1, fl, NULL, sql_lower, NULL, NULL);
    sqlite3_create_function(db, "kho_hash63", 1, fl, NULL, sql_hash63, NULL, NULL);
    char sql[256];
    /* reads through a memory map of up to 2 GiB (SQLite's limit on Linux): a scan of a
     * large table then uses file-backed pages the kernel can drop instead of filling
     * the connection's page cache (bench/export_rss.sh: flat memory for 5,000,000 rows) */
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d; PRAGMA foreign_keys=ON; PRAGMA mmap_size=2147418112;",
             cache * 1024);
    int r = kho_store_exec(s, sql, err);
    /* 16 KiB pages (set before the first write; a no-op on an existing database):
     * bulk loads through the WAL run ~20% faster than with 4 KiB pages. The WAL is
     * checkpointed into the database every 8,000 pages (128 MiB) instead of SQLite's
     * 1,000: a checkpoint runs in the committing writer and syncs, and rarer ones
     * write each often-changed page (the upper levels of indexes) fewer times
     * (bench/RESULTS.md, "WAL checkpoints": traceability capture ~+18%). The file
     * is cut back to that size after a checkpoint. */
    if (r == 0 && !(flags & KHO_STORE_READONLY))
        r = kho_store_exec(s,
                           "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                           "PRAGMA wal_autocheckpoint=8000; PRAGMA journal_size_limit=134217728;",
                           err);
    if (r != 0) {
        kho_err_prefix(err, "cannot set up database %s", path);
        kho_store_close(s);
        return r;
    }
    *out = s;
    return 0;
}

void kho_store_close(kho_store_t *s)
{
    if (!s)
        return;
    for (int i = 0; i < CACHE_SLOTS; i++) {
        sqlite3_finalize(s->cache[i].st);
        free(s->cache[i].sql);
    }
    sqlite3_close_v2(s->db);
    free(s->path);
    free(s);
}

const char *kho_store_path(const kho_store_t *s)
{
    return s->path;
}

int kho_store_exec(kho_store_t *s, const char *sql, kho_err_t *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return 0;
    int code = map_rc(rc);
    if (code == KHO_EBUSY)
        kho_err_setk(err, code, "database_busy", "the database is busy (another writer holds the lock): %s",
                     msg ? msg : sqlite3_errstr(rc));
    else
        kho_err_set(err, code, "%s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return code;
}

int kho_store_begin(kho_store_t *s, bool write, kho_err_t *err)
{
    return kho_store_exec(s, write ? "BEGIN IMMEDIATE" : "BEGIN", err);
}

int kho_store_commit(kho_store_t *s, kho_err_t *err)
{
    int rc = kho_store_exec(s, "COMMIT", err);
    if (rc != 0)
        kho_store_rollback(s);
    return rc;
}

void kho_store_rollback(kho_store_t *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

void kho_store_snapshot_begin(kho_store_t *s)
{
    kho_stmt_t *st = NULL;
    kho_err_t ignore;
    if (!sqlite3_get_autocommit(s->db) || kho_store_cached(s, "BEGIN", &st, &ignore) != 0)
        return;
    sqlite3_step((sqlite3_stmt *)(void *)st); /* on failure, statements run in autocommit as before */
    kho_stmt_reset(st);
}

void kho_store_snapshot_end(kho_store_t *s)
{
    kho_stmt_t *st = NULL;
    kho_err_t ignore;
    if (sqlite3_get_autocommit(s->db))
        return;
    if (kho_store_cached(s, "ROLLBACK", &st, &ignore) == 0) {
        sqlite3_step((sqlite3_stmt *)(void *)st);
        kho_stmt_reset(st);
    }
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

bool kho_store_in_transaction(const kho_store_t *s)
{
    return !sqlite3_get_autocommit(s->db);
}

int kho_store_prepare(kho_store_t *s, const char *sql, kho_stmt_t **out, kho_err_t *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_err(s->db, rc, err, "prepare");
    *out = (kho_stmt_t *)(void *)st;
    return 0;
}

int kho_store_cached(kho_store_t *s, const char *sql, kho_stmt_t **out, kho_err_t *err)
{
    cached_t *victim = &s->cache[0];
    for (int i = 0; i < CACHE_SLOTS; i++) {
        cached_t *c = &s->cache[i];
        if (c->sql && strcmp(c->sql, sql) == 0) {
            c->used = ++s->clock;
            sqlite3_reset(c->st);
            sqlite3_clear_bindings(c->st);
            *out = (kho_stmt_t *)(void *)c->st;
            return 0;
        }
        if (c->used < victim->used)
            victim = c;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK)
        return db_err(s->db, rc, err, "prepare");
    sqlite3_finalize(victim->st);
    free(victim->sql);
    victim->sql = kho_xstrdup(sql);
    victim->st = st;
    victim->used = ++s->clock;
    *out = (kho_stmt_t *)(void *)st;
    return 0;
}

void kho_stmt_free(kho_stmt_t *st)
{
    sqlite3_finalize(ST(st));
}

void kho_stmt_reset(kho_stmt_t *st)
{
    sqlite3_reset(ST(st));
}

void kho_stmt_bind_int(kho_stmt_t *st, int i, int64_t v)
{
    sqlite3_bind_int64(ST(st), i, v);
}

void kho_stmt_bind_double(kho_stmt_t *st, int i, double v)
{
    sqlite3_bind_double(ST(st), i, v);
}

void kho_stmt_bind_text(kho_stmt_t *st, int i, const char *v, size_t n)
{
    sqlite3_bind_text64(ST(st), i, v, n, SQLITE_TRANSIENT, SQLITE_UTF8);
}

void kho_stmt_bind_text_static(kho_stmt_t *st, int i, const char *v, size_t n)
{
    sqlite3_bind_text64(ST(st), i, v, n, SQLITE_STATIC, SQLITE_UTF8);
}

void kho_stmt_bind_blob(kho_stmt_t *st, int i, const void *v, size_t n)
{
    sqlite3_bind_blob64(ST(st), i, v, n, SQLITE_TRANSIENT);
}

void kho_stmt_bind_str(kho_stmt_t *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(ST(st), i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(ST(st), i);
}

void kho_stmt_bind_null(kho_stmt_t *st, int i)
{
    sqlite3_bind_null(ST(st), i);
}

int kho_stmt_step(kho_stmt_t *st, kho_err_t *err)
{
    int rc = sqlite3_step(ST(st));
    if (rc == SQLITE_ROW)
        return KHO_STEP_ROW;
    if (rc == SQLITE_DONE)
        return KHO_STEP_DONE;
    int code = db_err(sqlite3_db_handle(ST(st)), rc, err, "query");
    sqlite3_reset(ST(st));
    return code;
}

int kho_stmt_ncols(kho_stmt_t *st)
{
    return sqlite3_column_count(ST(st));
}

const char *kho_stmt_col_name(kho_stmt_t *st, int i)
{
    return sqlite3_column_name(ST(st), i);
}

kho_val_type_t kho_stmt_col_type(kho_stmt_t *st, int i)
{
    switch (sqlite3_column_type(ST(st), i)) {
    case SQLITE_INTEGER: return KHO_VAL_INT;
    case SQLITE_FLOAT: return KHO_VAL_REAL;
    case SQLITE_TEXT: return KHO_VAL_TEXT;
    case SQLITE_BLOB: return KHO_VAL_BLOB;
    default: return KHO_VAL_NULL;
    }
}

int64_t kho_stmt_col_int(kho_stmt_t *st, int i)
{
    return sqlite3_column_int64(ST(st), i);
}

double kho_stmt_col_double(kho_stmt_t *st, int i)
{
    return sqlite3_column_double(ST(st), i);
}

const char *kho_stmt_col_text(kho_stmt_t *st, int i)
{
    return (const char *)sqlite3_column_text(ST(st), i);
}

const void *kho_stmt_col_blob(kho_stmt_t *st, int i)
{
    return sqlite3_column_blob(ST(st), i);
}

size_t kho_stmt_col_bytes(kho_stmt_t *st, int i)
{
    return (size_t)sqlite3_column_bytes(ST(st), i);
}

int64_t kho_store_total_changes(kho_store_t *s)
{
    return sqlite3_total_changes64(s->db);
}

int64_t kho_store_last_id(kho_store_t *s)
{
    return sqlite3_last_insert_rowid(s->db);
}

int kho_store_query_int(kho_store_t *s, const char *sql, int64_t *out, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_prepare(s, sql, &st, err);
    if (rc != 0)
        return rc;
    *out = 0;
    rc = kho_stmt_step(st, err);
    if (rc == KHO_STEP_ROW)
        *out = kho_stmt_col_int(st, 0);
    kho_stmt_free(st);
    return rc < 0 ? rc : 0;
}

int kho_store_integrity_check(kho_store_t *s, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_prepare(s, "PRAGMA integrity_check", &st, err);
    if (rc != 0)
        return rc;
    rc = kho_stmt_step(st, err);
    if (rc == KHO_STEP_ROW) {
        const char *r = kho_stmt_col_text(st, 0);
        rc = r && strcmp(r, "ok") == 0 ? 0 : kho_err_set(err, KHO_EIO, "integrity check failed: %s", r ? r : "?");
    } else if (rc == KHO_STEP_DONE)
        rc = kho_err_set(err, KHO_EIO, "integrity check gave no answer");
    kho_stmt_free(st);
    return rc;
}

int kho_store_backup(kho_store_t *s, const char *dest, kho_err_t *err)
{
    sqlite3 *to = NULL;
    int rc = sqlite3_open_v2(dest, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        int r = kho_err_set(err, KHO_EIO, "cannot create %s: %s", dest, to ? sqlite3_errmsg(to) : sqlite3_errstr(rc));
        sqlite3_close(to);
        return r;
    }
    sqlite3_backup *b = sqlite3_backup_init(to, "main", s->db, "main");
    if (!b) {
        int r = kho_err_set(err, KHO_EIO, "cannot back up %s: %s", s->path, sqlite3_errmsg(to));
        sqlite3_close(to);
        return r;
    }
    /* all pages in one step: one read transaction, so one consistent snapshot
     * however busy the writers are (WAL: they are not held up) */
    rc = sqlite3_backup_step(b, -1);
    int fin = sqlite3_backup_finish(b);
    int r = 0;
    if (rc != SQLITE_DONE || fin != SQLITE_OK)
        r = kho_err_set(err, rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? KHO_EBUSY : KHO_EIO,
                        "backup of %s failed: %s", s->path, sqlite3_errstr(rc != SQLITE_DONE ? rc : fin));
    else if (sqlite3_exec(to, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK)
        r = kho_err_set(err, KHO_EIO, "backup %s: %s", dest, sqlite3_errmsg(to));
    sqlite3_close(to);
    return r;
}

void kho_store_checkpoint(kho_store_t *s)
{
    sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
}

void kho_store_quote_ident(const char *name, char *out, size_t outsz)
{
    size_t k = 0;
    if (outsz < 3) {
        if (outsz)
            out[0] = '\0';
        return;
    }
    out[k++] = '"';
    for (const char *p = name; *p && k + 3 < outsz; p++) {
        if (*p == '"')
            out[k++] = '"';
        out[k++] = *p;
    }
    out[k++] = '"';
    out[k] = '\0';
}
