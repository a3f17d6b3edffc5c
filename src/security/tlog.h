/*
 * tlog — an append-only, tamper-evident log: RFC 6962 Merkle tree, C2SP signed
 * checkpoints, tlog-tiles.
 *
 * Each log is its own SQLite database (the audit log: DATA/audit.db) so that
 * appending never waits for the warehouse's writer. Entries are opaque bytes
 * (at most 65,535 each); entry i is leaf i of a Merkle tree with
 *   leaf hash = SHA-256(0x00 || entry),  node hash = SHA-256(0x01 || left || right)
 * (RFC 6962 / RFC 9162). The hash of every complete subtree is stored, so roots,
 * inclusion and consistency proofs and tiles need only O(log n) reads.
 *
 * A checkpoint is a C2SP signed note over the tlog-checkpoint body
 *   <origin>\n<tree size>\n<base64 root hash>\n
 * signed with Ed25519 by a key whose name is the origin; the signature line is
 *   "— <origin> <base64(key hash[4] || signature[64])>"
 * with key hash = SHA-256(name || "\n" || 0x01 || public key)[0:4]. The
 * verifier key is "<name>+<hex key hash>+<base64(0x01 || public key)>".
 *
 * Tiles follow C2SP tlog-tiles: height 8; tile L/N holds the hashes of tree
 * level 8·L, nodes 256·N ... (a partial tile has width W < 256); the entry bundle
 * N holds entries 256·N ..., each prefixed by its length as a big-endian uint16.
 *
 * Threads: one kho_tlog_t may be used from any thread; calls are serialised by
 * its own mutex. Reusable: the traceability ledger opens another log with its
 * own origin.
 */
#ifndef KHO_SECURITY_TLOG_H
#define KHO_SECURITY_TLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/err.h"

#define KHO_TLOG_HASH 32
#define KHO_TLOG_MAX_ENTRY 65535

typedef struct kho_tlog kho_tlog_t;

typedef struct kho_tlog_entry {
    const void *data;
    size_t len;
} kho_tlog_entry_t;

/* Open (creating) the log database at path. seed is the 32-byte Ed25519 seed of
 * the signing key (NULL: the log can be read and verified but not checkpointed).
 * A log created with one origin refuses to open under another. Opened without
 * a seed (for verification), a log whose stored hashes are damaged still opens:
 * kho_tlog_verify() then says what is wrong, and every other call refuses
 * with KHO_ETAMPER. With a seed, such a log does not open. */
int kho_tlog_open(const char *path, const char *origin, const unsigned char *seed, kho_tlog_t **out,
                  kho_err_t *err) KHO_WUR;
void kho_tlog_close(kho_tlog_t *log);

/* Open the log of data directory `datadir` stored in `dbname` and signed by the
 * key file `keyname` (security/keys.h), as the audit log and the traceability
 * ledger do. With create, a missing key is made, unless the log already exists
 * (a new key could not sign for its old checkpoints: KHO_EIO saying to restore
 * the key; `what` names the log in that message). pk receives the public key. */
int kho_tlog_open_keyed(const char *datadir, const char *dbname, const char *keyname, const char *origin,
                        bool create, const char *what, kho_tlog_t **out, unsigned char pk[32],
                        kho_err_t *err) KHO_WUR;

const char *kho_tlog_origin(const kho_tlog_t *log);
uint64_t kho_tlog_size(kho_tlog_t *log);

/* Append entries in one transaction; *first (optional) is the index of the first. */
int kho_tlog_append(kho_tlog_t *log, const kho_tlog_entry_t *entries, size_t n, uint64_t *first,
                    kho_err_t *err) KHO_WUR;

/* Sign a checkpoint of the current size, store it, and (optionally) append its
 * note to out. A checkpoint of an unchanged size is not repeated. */
int kho_tlog_checkpoint(kho_tlog_t *log, kho_buf_t *out, kho_err_t *err) KHO_WUR;
/* The newest stored checkpoint note; KHO_ENOTFOUND when none yet. */
int kho_tlog_latest(kho_tlog_t *log, kho_buf_t *note, uint64_t *size, kho_err_t *err) KHO_WUR;

/* Root hash of the tree of the first `size` entries (size <= current size). */
int kho_tlog_root(kho_tlog_t *log, uint64_t size, unsigned char root[KHO_TLOG_HASH], kho_err_t *err) KHO_WUR;
/* Inclusion proof of entry `index` in the tree of `size`: hashes appended to out
 * (32 bytes each, RFC 9162 order). */
int kho_tlog_inclusion(kho_tlog_t *log, uint64_t index, uint64_t size, kho_buf_t *out, kho_err_t *err) KHO_WUR;
/* Consistency proof between the trees of sizes `from` and `to`. */
int kho_tlog_consistency(kho_tlog_t *log, uint64_t from, uint64_t to, kho_buf_t *out, kho_err_t *err) KHO_WUR;
/* Tile `index` of tile level `level` (>= 0) or, for level -1, the entry bundle;
 * `width` 1..256 (256: full). KHO_ENOTFOUND when the log is not that large. */
int kho_tlog_tile(kho_tlog_t *log, int level, uint64_t index, unsigned width, kho_buf_t *out,
                  kho_err_t *err) KHO_WUR;
/* One entry's bytes. */
int kho_tlog_entry(kho_tlog_t *log, uint64_t index, kho_buf_t *out, kho_err_t *err) KHO_WUR;

/* The verifier key string of this log's signing key ("" without a key). */
const char *kho_tlog_vkey(const kho_tlog_t *log);
/* The Ed25519 public key of a seed. */
void kho_tlog_public_key(const unsigned char seed[32], unsigned char pk[32]);

/* Recompute the tree from the stored entries and check the stored hashes and
 * every checkpoint (signature with `pk`, size, root). Each problem is written to
 * `report` as one line naming the entry index or checkpoint size; *problems
 * counts them. Returns 0 when the check ran (whatever it found). */
int kho_tlog_verify(kho_tlog_t *log, const unsigned char pk[32], FILE *report, size_t *problems,
                    kho_err_t *err) KHO_WUR;

#endif
