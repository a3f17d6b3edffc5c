/*
 * tlog — Merkle-tree log with signed checkpoints (see tlog.h).
 *
 * Storage (its own SQLite database):
 *   entries(idx, data)                 the entries, idx = 0, 1, 2, ...
 *   hashes(level, idx, hash)           every complete subtree: leaves
 *                                      [idx·2^level, (idx+1)·2^level)
 *   checkpoints(size, note, created_at)
 *   meta(key, value)                   origin
 *
 * In memory, `edge` holds the right edge of the tree: for every bit l set in the
 * size, the hash of the last complete subtree of level l. Appending a leaf is a
 * binary increment: while the bit of the current level is set, merge with the
 * edge subtree and store the new node one level up.
 */
#include "security/tlog.h"

#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "security/keys.h"
#include "store/store.h"
#include "warehouse/catalog.h"

#define H KHO_TLOG_HASH

struct kho_tlog {
    pthread_mutex_t mu;
    kho_store_t *db;
    char origin[256];
    bool can_sign;
    unsigned char sk[crypto_sign_SECRETKEYBYTES], pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char keyhash[4];
    char vkey[400];
    uint64_t size;
    unsigned char edge[64][H];
    bool damaged; /* opened for verification although its stored hashes are incomplete */
};

static const char *SCHEMA = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                            "CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);"
                            "CREATE TABLE IF NOT EXISTS hashes (level INTEGER NOT NULL, idx INTEGER NOT NULL,"
                            "  hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;"
                            "CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL,"
                            "  created_at TEXT NOT NULL);";

/* ---- hashing ---------------------------------------------------------------------- */

static void leaf_hash(const void *data, size_t n, unsigned char out[H])
{
    crypto_hash_sha256_state st;
    unsigned char z = 0x00;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &z, 1);
    crypto_hash_sha256_update(&st, data, n);
    crypto_hash_sha256_final(&st, out);
}

static void node_hash(const unsigned char l[H], const unsigned char r[H], unsigned char out[H])
{
    unsigned char buf[1 + 2 * H];
    buf[0] = 0x01;
    memcpy(buf + 1, l, H);
    memcpy(buf + 1 + H, r, H);
    crypto_hash_sha256(out, buf, sizeof buf);
}

static int get_hash(kho_tlog_t *log, int level, uint64_t idx, unsigned char out[H], kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(log->db, "SELECT hash FROM hashes WHERE level = ? AND idx = ?", &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_int(st, 1, level);
    kho_stmt_bind_int(st, 2, (int64_t)idx);
    rc = kho_stmt_step(st, err);
    if (rc == KHO_STEP_ROW && kho_stmt_col_bytes(st, 0) == H) {
        memcpy(out, kho_stmt_col_blob(st, 0), H);
        rc = 0;
    } else if (rc >= 0)
        rc = kho_err_set(err, KHO_EIO, "audit log damaged: no stored hash for level %d node %llu", level,
                         (unsigned long long)idx);
    kho_stmt_reset(st);
    return rc;
}

static int put_hash(kho_tlog_t *log, int level, uint64_t idx, const unsigned char h[H], kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(log->db, "INSERT INTO hashes(level, idx, hash) VALUES (?, ?, ?)", &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_int(st, 1, level);
    kho_stmt_bind_int(st, 2, (int64_t)idx);
    kho_stmt_bind_blob(st, 3, h, H);
    rc = kho_stmt_step(st, err);
    kho_stmt_reset(st);
    return rc < 0 ? rc : 0;
}

static bool pow2(uint64_t n)
{
    return n && !(n & (n - 1));
}

static uint64_t split(uint64_t n) /* largest power of two smaller than n (n >= 2) */
{
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

static int level_of(uint64_t n) /* log2 of a power of two */
{
    return __builtin_ctzll(n);
}

/* MTH of leaves [lo, hi), from stored complete subtrees. */
static int subtree(kho_tlog_t *log, uint64_t lo, uint64_t hi, unsigned char out[H], kho_err_t *err)
{
    uint64_t n = hi - lo;
    if (n == 0) {
        crypto_hash_sha256(out, NULL, 0);
        return 0;
    }
    if (pow2(n) && lo % n == 0)
        return get_hash(log, level_of(n), lo / n, out, err);
    uint64_t k = split(n);
    unsigned char l[H], r[H];
    int rc = subtree(log, lo, lo + k, l, err);
    if (rc == 0)
        rc = subtree(log, lo + k, hi, r, err);
    if (rc == 0)
        node_hash(l, r, out);
    return rc;
}

static void edge_root(const unsigned char edge[64][H], uint64_t size, unsigned char out[H])
{
    bool have = false;
    for (int l = 0; l < 64; l++) {
        if (!((size >> l) & 1))
            continue;
        if (have)
            node_hash(edge[l], out, out);
        else
            memcpy(out, edge[l], H);
        have = true;
    }
    if (!have)
        crypto_hash_sha256(out, NULL, 0);
}

/* ---- open ------------------------------------------------------------------------- */

static void make_vkey(kho_tlog_t *log)
{
    unsigned char buf[sizeof log->origin + 2 + crypto_sign_PUBLICKEYBYTES], md[crypto_hash_sha256_BYTES];
    size_t on = strlen(log->origin);
    memcpy(buf, log->origin, on);
    buf[on] = '\n';
    buf[on + 1] = 0x01;
    memcpy(buf + on + 2, log->pk, sizeof log->pk);
    crypto_hash_sha256(md, buf, on + 2 + sizeof log->pk);
    memcpy(log->keyhash, md, 4);
    unsigned char typed[1 + crypto_sign_PUBLICKEYBYTES];
    typed[0] = 0x01;
    memcpy(typed + 1, log->pk, sizeof log->pk);
    char b64[sodium_base64_ENCODED_LEN(sizeof typed, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, typed, sizeof typed, sodium_base64_VARIANT_ORIGINAL);
    char hex[9];
    sodium_bin2hex(hex, sizeof hex, log->keyhash, 4);
    snprintf(log->vkey, sizeof log->vkey, "%s+%s+%s", log->origin, hex, b64);
}

static int load_edge(kho_tlog_t *log, kho_err_t *err)
{
    int64_t n = 0;
    int rc = kho_store_query_int(log->db, "SELECT coalesce(max(idx) + 1, 0) FROM entries", &n, err);
    if (rc != 0)
        return rc;
    log->size = (uint64_t)n;
    for (int l = 0; l < 64 && rc == 0; l++)
        if ((log->size >> l) & 1)
            rc = get_hash(log, l, (log->size >> l) - 1, log->edge[l], err);
    return rc;
}

/* Catch up with entries another process (the CLI next to the server) appended:
 * reload the right edge when the stored size differs from ours. Under log->mu. */
static int sync_edge(kho_tlog_t *log, kho_err_t *err)
{
    if (log->damaged)
        return kho_err_set(err, KHO_ETAMPER, "the log's stored tree is damaged: run kho audit verify");
    int64_t n = 0;
    int rc = kho_store_query_int(log->db, "SELECT coalesce(max(idx) + 1, 0) FROM entries", &n, err);
    if (rc != 0 || (uint64_t)n == log->size)
        return rc;
    return load_edge(log, err);
}

int kho_tlog_open(const char *path, const char *origin, const unsigned char *seed, kho_tlog_t **out, kho_err_t *err)
{
    if (sodium_init() < 0)
        return kho_err_set(err, KHO_EINTERNAL, "libsodium cannot start");
    if (!origin || !*origin || strlen(origin) >= 200 || strchr(origin, '\n') || strchr(origin, '+') ||
        strchr(origin, ' '))
        return kho_err_set(err, KHO_EINVAL, "a log origin is one line of at most 200 bytes without spaces or '+'");
    kho_tlog_t *log = kho_xcalloc(1, sizeof *log);
    pthread_mutex_init(&log->mu, NULL);
    snprintf(log->origin, sizeof log->origin, "%s", origin);
    if (seed) {
        crypto_sign_seed_keypair(log->pk, log->sk, seed);
        log->can_sign = true;
        make_vkey(log);
    }
    int rc = kho_store_open(path, KHO_STORE_CREATE, NULL, &log->db, err);
    if (rc == 0)
        rc = kho_store_exec(log->db, SCHEMA, err);
    kho_stmt_t *st = NULL;
    if (rc == 0)
        rc = kho_store_prepare(log->db, "SELECT value FROM meta WHERE key = 'origin'", &st, err);
    if (rc == 0) {
        rc = kho_stmt_step(st, err);
        if (rc == KHO_STEP_ROW && strcmp(kho_stmt_col_text(st, 0), origin) != 0)
            rc = kho_err_set(err, KHO_ECONFLICT, "%s is the log '%s', not '%s'", path, kho_stmt_col_text(st, 0),
                             origin);
        else if (rc == KHO_STEP_DONE) {
            kho_stmt_free(st);
            st = NULL;
            rc = kho_store_prepare(log->db, "INSERT INTO meta(key, value) VALUES ('origin', ?)", &st, err);
            if (rc == 0) {
                kho_stmt_bind_str(st, 1, origin);
                rc = kho_stmt_step(st, err);
            }
        }
        rc = rc < 0 ? rc : 0;
    }
    kho_stmt_free(st);
    if (rc == 0 && (rc = load_edge(log, err)) != 0 && !seed && rc != KHO_EBUSY) {
        log->damaged = true; /* a log opened to be verified: let kho_tlog_verify say what is wrong */
        rc = 0;
    }
    if (rc != 0) {
        kho_tlog_close(log);
        return rc;
    }
    *out = log;
    return 0;
}

void kho_tlog_close(kho_tlog_t *log)
{
    if (!log)
        return;
    kho_store_close(log->db);
    sodium_memzero(log->sk, sizeof log->sk);
    pthread_mutex_destroy(&log->mu);
    free(log);
}

const char *kho_tlog_origin(const kho_tlog_t *log)
{
    return log->origin;
}

const char *kho_tlog_vkey(const kho_tlog_t *log)
{
    return log->vkey;
}

void kho_tlog_public_key(const unsigned char seed[32], unsigned char pk[32])
{
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(pk, sk, seed);
    sodium_memzero(sk, sizeof sk);
}

uint64_t kho_tlog_size(kho_tlog_t *log)
{
    pthread_mutex_lock(&log->mu);
    kho_err_t ignore;
    (void)!sync_edge(log, &ignore);
    uint64_t n = log->size;
    pthread_mutex_unlock(&log->mu);
    return n;
}

/* ---- append ---------------------------------------------------------------------- */

static int append_one(kho_tlog_t *log, unsigned char edge[64][H], uint64_t n, const kho_tlog_entry_t *e,
                      kho_err_t *err)
{
    if (e->len > KHO_TLOG_MAX_ENTRY)
        return kho_err_set(err, KHO_ETOOLARGE, "a log entry is larger than %d bytes", KHO_TLOG_MAX_ENTRY);
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(log->db, "INSERT INTO entries(idx, data) VALUES (?, ?)", &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_int(st, 1, (int64_t)n);
    kho_stmt_bind_blob(st, 2, e->data, e->len);
    rc = kho_stmt_step(st, err);
    kho_stmt_reset(st);
    if (rc < 0)
        return rc;
    unsigned char cur[H];
    leaf_hash(e->data, e->len, cur);
    if ((rc = put_hash(log, 0, n, cur, err)) != 0)
        return rc;
    int l = 0;
    for (; (n >> l) & 1; l++) { /* binary increment: merge with the complete subtree on the edge */
        node_hash(edge[l], cur, cur);
        if ((rc = put_hash(log, l + 1, n >> (l + 1), cur, err)) != 0)
            return rc;
    }
    memcpy(edge[l], cur, H);
    return 0;
}

int kho_tlog_append(kho_tlog_t *log, const kho_tlog_entry_t *entries, size_t n, uint64_t *first, kho_err_t *err)
{
    pthread_mutex_lock(&log->mu);
    int rc = kho_store_begin(log->db, true, err);
    if (rc == 0)
        rc = sync_edge(log, err); /* inside the write transaction: nobody appends in between */
    unsigned char edge[64][H];
    memcpy(edge, log->edge, sizeof edge);
    uint64_t size = log->size;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = append_one(log, edge, size + i, &entries[i], err);
    if (rc == 0)
        rc = kho_store_commit(log->db, err);
    if (rc == 0) { /* only now does the new tree become the log's */
        memcpy(log->edge, edge, sizeof edge);
        if (first)
            *first = size;
        log->size = size + n;
    } else
        kho_store_rollback(log->db);
    pthread_mutex_unlock(&log->mu);
    return rc;
}

/* ---- checkpoints ------------------------------------------------------------------ */

static void note_body(const char *origin, uint64_t size, const unsigned char root[H], kho_buf_t *out)
{
    char b64[sodium_base64_ENCODED_LEN(H, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, root, H, sodium_base64_VARIANT_ORIGINAL);
    kho_buf_printf(out, "%s\n%llu\n%s\n", origin, (unsigned long long)size, b64);
}

int kho_tlog_checkpoint(kho_tlog_t *log, kho_buf_t *out, kho_err_t *err)
{
    if (!log->can_sign)
        return kho_err_set(err, KHO_EINTERNAL, "this log was opened without its signing key");
    pthread_mutex_lock(&log->mu);
    kho_buf_t note = KHO_BUF_INIT;
    unsigned char root[H];
    int rc = sync_edge(log, err);
    if (rc != 0) {
        pthread_mutex_unlock(&log->mu);
        return rc;
    }
    edge_root(log->edge, log->size, root);
    note_body(log->origin, log->size, root, &note);
    unsigned char sig[4 + crypto_sign_BYTES];
    memcpy(sig, log->keyhash, 4);
    crypto_sign_detached(sig + 4, NULL, (const unsigned char *)note.data, note.len, log->sk);
    char b64[sodium_base64_ENCODED_LEN(sizeof sig, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
    kho_buf_printf(&note, "\n\xe2\x80\x94 %s %s\n", log->origin, b64);
    char now[32];
    kho_catalog_now(now);
    kho_stmt_t *st = NULL;
    rc = kho_store_cached(log->db,
                              "INSERT OR IGNORE INTO checkpoints(size, note, created_at) VALUES (?, ?, ?)", &st, err);
    if (rc == 0) {
        kho_stmt_bind_int(st, 1, (int64_t)log->size);
        kho_stmt_bind_text(st, 2, note.data, note.len);
        kho_stmt_bind_str(st, 3, now);
        rc = kho_stmt_step(st, err);
        kho_stmt_reset(st);
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0 && out)
        kho_buf_append(out, note.data, note.len);
    kho_buf_free(&note);
    pthread_mutex_unlock(&log->mu);
    return rc;
}

int kho_tlog_latest(kho_tlog_t *log, kho_buf_t *note, uint64_t *size, kho_err_t *err)
{
    pthread_mutex_lock(&log->mu);
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(log->db, "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1", &st, err);
    if (rc == 0) {
        rc = kho_stmt_step(st, err);
        if (rc == KHO_STEP_ROW) {
            if (size)
                *size = (uint64_t)kho_stmt_col_int(st, 0);
            kho_buf_append(note, kho_stmt_col_text(st, 1), kho_stmt_col_bytes(st, 1));
            rc = 0;
        } else if (rc == KHO_STEP_DONE)
            rc = kho_err_setk(err, KHO_ENOTFOUND, "no_checkpoint", "the log has no checkpoint yet");
        kho_stmt_reset(st);
    }
    pthread_mutex_unlock(&log->mu);
    return rc;
}

/* ---- reading and proofs ------------------------------------------------------------- */

int kho_tlog_root(kho_tlog_t *log, uint64_t size, unsigned char root[H], kho_err_t *err)
{
    pthread_mutex_lock(&log->mu);
    int rc = sync_edge(log, err);
    if (rc != 0)
        ;
    else if (size > log->size)
        rc = kho_err_setk(err, KHO_EINVAL, "bad_size", "the log has only %llu entries",
                          (unsigned long long)log->size);
    else if (size == log->size)
        edge_root(log->edge, size, root);
    else
        rc = subtree(log, 0, size, root, err);
    pthread_mutex_unlock(&log->mu);
    return rc;
}

/* PATH(m, D[lo:hi]) of RFC 9162 2.1.3.1. */
static int path(kho_tlog_t *log, uint64_t m, uint64_t lo, uint64_t hi, kho_buf_t *out, kho_err_t *err)
{
    uint64_t n = hi - lo;
    if (n <= 1)
        return 0;
    uint64_t k = split(n);
    unsigned char h[H];
    int rc;
    if (m < k) {
        rc = path(log, m, lo, lo + k, out, err);
        if (rc == 0 && (rc = subtree(log, lo + k, hi, h, err)) == 0)
            kho_buf_append(out, h, H);
    } else {
        rc = path(log, m - k, lo + k, hi, out, err);
        if (rc == 0 && (rc = subtree(log, lo, lo + k, h, err)) == 0)
            kho_buf_append(out, h, H);
    }
    return rc;
}

/* SUBPROOF(m, D[lo:hi], b) of RFC 9162 2.1.4.1. */
static int subproof(kho_tlog_t *log, uint64_t m, uint64_t lo, uint64_t hi, bool b, kho_buf_t *out, kho_err_t *err)
{
    uint64_t n = hi - lo;
    unsigned char h[H];
    int rc;
    if (m == n) {
        if (b)
            return 0;
        if ((rc = subtree(log, lo, hi, h, err)) == 0)
            kho_buf_append(out, h, H);
        return rc;
    }
    uint64_t k = split(n);
    if (m <= k) {
        rc = subproof(log, m, lo, lo + k, b, out, err);
        if (rc == 0 && (rc = subtree(log, lo + k, hi, h, err)) == 0)
            kho_buf_append(out, h, H);
    } else {
        rc = subproof(log, m - k, lo + k, hi, false, out, err);
        if (rc == 0 && (rc = subtree(log, lo, lo + k, h, err)) == 0)
            kho_buf_append(out, h, H);
    }
    return rc;
}

int kho_tlog_inclusion(kho_tlog_t *log, uint64_t index, uint64_t size, kho_buf_t *out, kho_err_t *err)
{
    pthread_mutex_lock(&log->mu);
    int rc = sync_edge(log, err);
    if (rc != 0)
        ;
    else if (size > log->size || index >= size)
        rc = kho_err_setk(err, KHO_EINVAL, "bad_size",
                          "an inclusion proof needs index < size <= %llu (the log's size)",
                          (unsigned long long)log->size);
    else
        rc = path(log, index, 0, size, out, err);
    pthread_mutex_unlock(&log->mu);
    return rc;
}

int kho_tlog_consistency(kho_tlog_t *log, uint64_t from, uint64_t to, kho_buf_t *out, kho_err_t *err)
{
    pthread_mutex_lock(&log->mu);
    int rc = sync_edge(log, err);
    if (rc != 0)
        ;
    else if (to > log->size || from == 0 || from > to)
        rc = kho_err_setk(err, KHO_EINVAL, "bad_size",
                          "a consistency proof needs 0 < from <= to <= %llu (the log's size)",
                          (unsigned long long)log->size);
    else
        rc = from == to ? 0 : subproof(log, from, 0, to, true, out, err);
    pthread_mutex_unlock(&log->mu);
    return rc;
}

int kho_tlog_tile(kho_tlog_t *log, int level, uint64_t index, unsigned width, kho_buf_t *out, kho_err_t *err)
{
    if (width < 1 || width > 256 || index > (UINT64_MAX >> 16) || level > 7)
        return kho_err_setk(err, KHO_EINVAL, "bad_tile", "no such tile");
    pthread_mutex_lock(&log->mu);
    uint64_t first = index * 256, end = first + width;
    int tree_level = level < 0 ? 0 : 8 * level;
    int rc = sync_edge(log, err);
    bool exists = tree_level < 64 && (end <= (log->size >> tree_level));
    kho_stmt_t *st = NULL;
    if (rc != 0)
        ;
    else if (!exists)
        rc = kho_err_setk(err, KHO_ENOTFOUND, "not_found", "the log is not large enough for that tile");
    else if (level < 0)
        rc = kho_store_cached(log->db, "SELECT data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx", &st, err);
    else
        rc = kho_store_cached(log->db, "SELECT hash FROM hashes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx",
                              &st, err);
    if (rc == 0) {
        int p = 1;
        if (level >= 0)
            kho_stmt_bind_int(st, p++, tree_level);
        kho_stmt_bind_int(st, p++, (int64_t)first);
        kho_stmt_bind_int(st, p, (int64_t)end);
        uint64_t got = 0;
        while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
            size_t n = kho_stmt_col_bytes(st, 0);
            if (level < 0) {
                unsigned char len[2] = {(unsigned char)(n >> 8), (unsigned char)n};
                kho_buf_append(out, len, 2);
            }
            kho_buf_append(out, kho_stmt_col_blob(st, 0), n);
            got++;
        }
        kho_stmt_reset(st);
        rc = rc < 0 ? rc : got == width ? 0 : kho_err_set(err, KHO_EIO, "audit log damaged: a tile is incomplete");
    }
    pthread_mutex_unlock(&log->mu);
    return rc;
}

int kho_tlog_entry(kho_tlog_t *log, uint64_t index, kho_buf_t *out, kho_err_t *err)
{
    pthread_mutex_lock(&log->mu);
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(log->db, "SELECT data FROM entries WHERE idx = ?", &st, err);
    if (rc == 0) {
        kho_stmt_bind_int(st, 1, (int64_t)index);
        rc = kho_stmt_step(st, err);
        if (rc == KHO_STEP_ROW) {
            kho_buf_append(out, kho_stmt_col_blob(st, 0), kho_stmt_col_bytes(st, 0));
            rc = 0;
        } else if (rc == KHO_STEP_DONE)
            rc = kho_err_setk(err, KHO_ENOTFOUND, "not_found", "no log entry %llu", (unsigned long long)index);
        kho_stmt_reset(st);
    }
    pthread_mutex_unlock(&log->mu);
    return rc;
}

/* ---- verification ------------------------------------------------------------------- */

typedef struct cp {
    uint64_t size;
    char *note;
} cp_t;

/* Check a checkpoint's signature and parse its size and root. 0 when valid. */
static int check_note(const kho_tlog_t *log, const unsigned char pk[32], const char *note, uint64_t *size,
                      unsigned char root[H], char *why, size_t whysz)
{
    const char *sep = strstr(note, "\n\n");
    if (!sep) {
        snprintf(why, whysz, "not a signed note");
        return -1;
    }
    size_t body = (size_t)(sep - note) + 1;
    char origin[256], b64[128];
    unsigned long long sz;
    if (sscanf(note, "%255[^\n]\n%llu\n%127[^\n]\n", origin, &sz, b64) != 3 || strcmp(origin, log->origin) != 0) {
        (void)kho_fmt(why, whysz, "the body is not a checkpoint of '%s'", log->origin);
        return -1;
    }
    size_t rl;
    if (sodium_base642bin(root, H, b64, strlen(b64), NULL, &rl, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 || rl != H) {
        snprintf(why, whysz, "the root hash is not base64 of 32 bytes");
        return -1;
    }
    *size = sz;
    char prefix[300];
    snprintf(prefix, sizeof prefix, "\xe2\x80\x94 %s ", log->origin);
    const char *line = strstr(sep + 2, prefix);
    unsigned char sig[4 + crypto_sign_BYTES];
    size_t sl = 0;
    if (!line || sodium_base642bin(sig, sizeof sig, line + strlen(prefix), strcspn(line + strlen(prefix), "\n"), NULL,
                                   &sl, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        sl != sizeof sig) {
        (void)kho_fmt(why, whysz, "no signature line by '%s'", log->origin);
        return -1;
    }
    if (crypto_sign_verify_detached(sig + 4, (const unsigned char *)note, body, pk) != 0) {
        snprintf(why, whysz, "the signature does not verify with the log's public key");
        return -1;
    }
    return 0;
}

static int load_checkpoints(kho_tlog_t *log, cp_t **out, size_t *n, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_prepare(log->db, "SELECT size, note FROM checkpoints ORDER BY size", &st, err);
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    while (rc == 0 && (rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        *out = kho_xgrow(*out, &cap, *n + 1, sizeof **out);
        (*out)[*n].size = (uint64_t)kho_stmt_col_int(st, 0);
        (*out)[(*n)++].note = kho_xstrdup(kho_stmt_col_text(st, 1));
        rc = 0;
    }
    kho_stmt_free(st);
    return rc < 0 ? rc : 0;
}

int kho_tlog_verify(kho_tlog_t *log, const unsigned char pk[32], FILE *report, size_t *problems, kho_err_t *err)
{
    pthread_mutex_lock(&log->mu);
    *problems = 0;
    cp_t *cps = NULL;
    size_t ncp = 0, next_cp = 0;
    int rc = load_checkpoints(log, &cps, &ncp, err);
    kho_stmt_t *st = NULL;
    if (rc == 0)
        rc = kho_store_prepare(log->db, "SELECT idx, data FROM entries ORDER BY idx", &st, err);
    unsigned char edge[64][H], h[H], stored[H];
    uint64_t n = 0, last_ok_cp = 0;
    kho_err_t ignore;
#define PROBLEM(...)                                                                                                   \
    do {                                                                                                               \
        (*problems)++;                                                                                                 \
        if (report)                                                                                                    \
            fprintf(report, __VA_ARGS__);                                                                              \
    } while (0)
    while (rc == 0 && (rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        rc = 0;
        uint64_t idx = (uint64_t)kho_stmt_col_int(st, 0);
        if (idx != n) {
            PROBLEM("entry %llu: missing (the next stored entry is %llu): entries were removed\n",
                    (unsigned long long)n, (unsigned long long)idx);
            break;
        }
        leaf_hash(kho_stmt_col_blob(st, 1), kho_stmt_col_bytes(st, 1), h);
        if (get_hash(log, 0, n, stored, &ignore) != 0 || memcmp(h, stored, H) != 0)
            PROBLEM("entry %llu: its content does not match its recorded hash (modified)\n", (unsigned long long)n);
        int l = 0;
        for (; (n >> l) & 1; l++) {
            node_hash(edge[l], h, h);
            if (get_hash(log, l + 1, n >> (l + 1), stored, &ignore) != 0 || memcmp(h, stored, H) != 0)
                PROBLEM("tree node %d/%llu (entries %llu-%llu): does not match the entries\n", l + 1,
                        (unsigned long long)(n >> (l + 1)), (unsigned long long)((n >> (l + 1)) << (l + 1)),
                        (unsigned long long)n);
        }
        memcpy(edge[l], h, H);
        n++;
        for (; next_cp < ncp && cps[next_cp].size == n; next_cp++) {
            uint64_t sz = 0;
            unsigned char root[H], mine[H];
            char why[160];
            if (check_note(log, pk, cps[next_cp].note, &sz, root, why, sizeof why) != 0 || sz != n) {
                PROBLEM("checkpoint of size %llu: %s\n", (unsigned long long)n, sz != n ? "its size is wrong" : why);
                continue;
            }
            edge_root(edge, n, mine);
            if (memcmp(mine, root, H) != 0)
                PROBLEM("checkpoint of size %llu: the entries do not give its root: an entry from %llu to %llu was "
                        "changed, inserted, removed or reordered\n",
                        (unsigned long long)n, (unsigned long long)last_ok_cp, (unsigned long long)n - 1);
            else
                last_ok_cp = n;
        }
    }
#undef PROBLEM
    if (rc == 0) {
        for (; next_cp < ncp; next_cp++) {
            (*problems)++;
            if (report)
                fprintf(report, "checkpoint of size %llu: the log holds only %llu entries: entries were removed\n",
                        (unsigned long long)cps[next_cp].size, (unsigned long long)n);
        }
        if (n != log->size && report)
            fprintf(report, "note: the log now reads %llu entries; it held %llu when opened\n",
                    (unsigned long long)n, (unsigned long long)log->size);
    }
    kho_stmt_free(st);
    for (size_t i = 0; i < ncp; i++)
        free(cps[i].note);
    free(cps);
    pthread_mutex_unlock(&log->mu);
    return rc < 0 ? rc : 0;
}

int kho_tlog_open_keyed(const char *datadir, const char *dbname, const char *keyname, const char *origin,
                        bool create, const char *what, kho_tlog_t **out, unsigned char pk[32], kho_err_t *err)
{
    if (sodium_init() < 0)
        return kho_err_set(err, KHO_EINTERNAL, "libsodium cannot start");
    char keypath[PATH_MAX], dbpath[PATH_MAX];
    kho_keyfile_path(datadir, keyname, keypath, sizeof keypath);
    if (!kho_fmt(dbpath, sizeof dbpath, "%s/%s", datadir, dbname))
        return kho_err_set(err, KHO_EIO, "data directory path too long");
    unsigned char seed[32];
    int rc = kho_keyfile_read(keypath, seed, sizeof seed, err);
    if (rc == KHO_ENOTFOUND && create) {
        if (access(dbpath, F_OK) == 0)
            return kho_err_set(err, KHO_EIO,
                               "%s is missing but the %s exists: restore the key from your key backup "
                               "(a new key could not sign for the old checkpoints)",
                               keypath, what);
        randombytes_buf(seed, sizeof seed);
        rc = kho_keyfile_write(keypath, seed, sizeof seed, err);
    }
    if (rc != 0)
        return rc;
    rc = kho_tlog_open(dbpath, origin, seed, out, err);
    kho_tlog_public_key(seed, pk);
    sodium_memzero(seed, sizeof seed);
    return rc;
}
