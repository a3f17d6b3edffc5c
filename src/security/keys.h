/*
 * keys — key files and field encryption at rest.
 *
 * Key files live in DATA/keys/ (mode 0700), each mode 0600, created at init and
 * kept out of the database (and out of backups unless asked, see
 * docs/security.md):
 *   master.key   32 random bytes: wraps the data keys
 *   audit.key    the Ed25519 seed that signs audit checkpoints (see tlog.h)
 * A key file readable by group or others is refused.
 *
 * Field encryption: values of columns that must be encrypted (tag `sensitive`,
 * and `personal` in core or important datasets) are stored as
 *   0x01 | data key id (4 bytes, big-endian) | nonce (24) | XChaCha20-Poly1305 ciphertext+tag
 * with the table and column name as associated data, so a value cannot be moved
 * to another column unnoticed. Data keys are random 32-byte keys kept in the
 * data_keys table wrapped (XChaCha20-Poly1305) by the master key; one is active
 * for new values. `kho keys rotate` re-wraps every data key under a new master
 * key (and with --data-key starts a new active data key): running servers keep
 * their unwrapped keys in memory and are not interrupted.
 */
#ifndef KHO_SECURITY_KEYS_H
#define KHO_SECURITY_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

/* Read a key file of exactly n bytes; KHO_ENOTFOUND when missing, KHO_EIO when
 * unreadable, of the wrong size, or readable by group/others. */
int kho_keyfile_read(const char *path, unsigned char *out, size_t n, kho_err_t *err) KHO_WUR;
/* Write a key file atomically with mode 0600 (a temporary file, fsync, rename). */
int kho_keyfile_write(const char *path, const unsigned char *key, size_t n, kho_err_t *err) KHO_WUR;
/* DATA/keys/<name> into out. */
void kho_keyfile_path(const char *datadir, const char *name, char *out, size_t size);

typedef struct kho_keyring kho_keyring_t;

/* Load the master key and unwrap the data keys. With `create`, make the keys
 * directory, a master key and a first data key when missing (kho init); w must
 * then be writable. The caller frees the ring with kho_keyring_free(). Thread-safe
 * once loaded. */
int kho_keyring_open(const char *datadir, kho_store_t *w, bool create, kho_keyring_t **out, kho_err_t *err) KHO_WUR;
void kho_keyring_free(kho_keyring_t *k);

/* Encrypt n bytes with the active data key; appends the blob to out. */
int kho_keyring_encrypt(kho_keyring_t *k, const char *aad, const void *pt, size_t n, kho_buf_t *out,
                        kho_err_t *err) KHO_WUR;
/* Decrypt a blob; appends the plaintext to out. A data key the ring does not
 * know yet (made by another process) is loaded through s. KHO_EIO when the
 * blob was altered or the key is missing. */
int kho_keyring_decrypt(kho_keyring_t *k, kho_store_t *s, const char *aad, const void *blob, size_t n, kho_buf_t *out,
                        kho_err_t *err) KHO_WUR;
/* True when a stored value looks like an encrypted blob. */
bool kho_keyring_is_blob(const void *p, size_t n);

/* Re-wrap every data key under a new master key; with new_data_key also add a
 * new active data key. w is a writable connection outside a transaction. */
int kho_keyring_rotate(const char *datadir, kho_store_t *w, bool new_data_key, kho_err_t *err) KHO_WUR;

#endif
