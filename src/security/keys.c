/* keys — key files, data keys and field encryption (see keys.h). */
#include "security/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/mem.h"
#include "warehouse/catalog.h"

#define KEYLEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define BLOB_HEAD (1 + 4 + NONCE)

typedef struct dkey {
    uint32_t id;
    unsigned char *key; /* sodium_malloc'd */
} dkey_t;

struct kho_keyring {
    char datadir[PATH_MAX];
    unsigned char *master; /* sodium_malloc'd */
    char master_id[17];
    pthread_rwlock_t lock;
    dkey_t *keys;
    size_t nkeys, cap;
    uint32_t active;
};

/* ---- key files --------------------------------------------------------------------- */

void kho_keyfile_path(const char *datadir, const char *name, char *out, size_t size)
{
    (void)kho_fmt(out, size, "%s/keys/%s", datadir, name);
}

int kho_keyfile_read(const char *path, unsigned char *out, size_t n, kho_err_t *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kho_err_set(err, errno == ENOENT ? KHO_ENOTFOUND : KHO_EIO, "cannot read key file %s: %s", path,
                           strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = kho_err_set(err, KHO_EIO, "key file %s is not a regular file", path);
    else if (st.st_mode & 077)
        rc = kho_err_set(err, KHO_EIO, "key file %s is readable by others (mode %03o): chmod 600 it", path,
                         (unsigned)(st.st_mode & 0777));
    else if ((size_t)st.st_size != n || read(fd, out, n) != (ssize_t)n)
        rc = kho_err_set(err, KHO_EIO, "key file %s does not hold a %zu-byte key", path, n);
    close(fd);
    return rc;
}

int kho_keyfile_write(const char *path, const unsigned char *key, size_t n, kho_err_t *err)
{
    char tmp[PATH_MAX + 8];
    if (!kho_fmt(tmp, sizeof tmp, "%s.tmp", path))
        return kho_err_set(err, KHO_EIO, "key file path too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return kho_err_set(err, KHO_EIO, "cannot write key file %s: %s", tmp, strerror(errno));
    bool ok = fchmod(fd, 0600) == 0 && write(fd, key, n) == (ssize_t)n && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return kho_err_set(err, KHO_EIO, "cannot write key file %s: %s", path, strerror(errno));
    }
    return 0;
}

/* ---- the ring ------------------------------------------------------------------------ */

static void key_id_of(const unsigned char *key, char out[17])
{
    unsigned char md[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(md, key, KEYLEN);
    sodium_bin2hex(out, 17, md, 8);
}

static void wrap_aad(uint32_t id, char out[32])
{
    snprintf(out, 32, "kho data key %u", id);
}

/* Unwrap one data key; KHO_EIO when the master key does not open it. */
static int unwrap(const kho_keyring_t *k, uint32_t id, const unsigned char *w, size_t wn, unsigned char *out,
                  kho_err_t *err)
{
    char aad[32];
    wrap_aad(id, aad);
    unsigned long long len = 0;
    if (wn != NONCE + KEYLEN + TAG ||
        crypto_aead_xchacha20poly1305_ietf_decrypt(out, &len, NULL, w + NONCE, wn - NONCE, (const unsigned char *)aad,
                                                   strlen(aad), w, k->master) != 0)
        return kho_err_set(err, KHO_EIO, "data key %u cannot be unwrapped with the master key %s", id, k->master_id);
    return 0;
}

static void wrap(const unsigned char *master, uint32_t id, const unsigned char *key, unsigned char *out)
{
    char aad[32];
    wrap_aad(id, aad);
    randombytes_buf(out, NONCE);
    unsigned long long len;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + NONCE, &len, key, KEYLEN, (const unsigned char *)aad,
                                               strlen(aad), NULL, out, master);
}

static bool have_key(const kho_keyring_t *k, uint32_t id)
{
    for (size_t i = 0; i < k->nkeys; i++)
        if (k->keys[i].id == id)
            return true;
    return false;
}

/* The ring's master key is older than the one a data key is wrapped with: a
 * `kho keys rotate` ran while this ring was open. Adopt the master key on disk
 * (master.key, or master.key.new while a rotation is being finished) when it
 * is the one wanted. Caller holds the write lock. */
static bool adopt_master(kho_keyring_t *k, const char *wanted)
{
    static const char *const names[] = {"master.key", "master.key.new"};
    for (size_t i = 0; i < 2; i++) {
        char path[PATH_MAX];
        unsigned char next[KEYLEN];
        char id[17];
        kho_err_t ignore;
        kho_keyfile_path(k->datadir, names[i], path, sizeof path);
        if (kho_keyfile_read(path, next, KEYLEN, &ignore) != 0)
            continue;
        key_id_of(next, id);
        bool match = strcmp(id, wanted) == 0;
        if (match) {
            memcpy(k->master, next, KEYLEN);
            memcpy(k->master_id, id, sizeof id);
        }
        sodium_memzero(next, sizeof next);
        if (match)
            return true;
    }
    return false;
}

/* Load the data keys the ring does not have yet; the active one becomes the
 * ring's only once it is loaded. Caller holds the write lock. */
static int load_data_keys(kho_keyring_t *k, kho_store_t *s, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_prepare(s, "SELECT id, wrapped, master_id, active FROM data_keys ORDER BY id", &st, err);
    if (rc != 0)
        return rc;
    uint32_t active = 0;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        uint32_t id = (uint32_t)kho_stmt_col_int(st, 0);
        if (kho_stmt_col_int(st, 3))
            active = id;
        if (have_key(k, id))
            continue;
        const char *wanted = kho_stmt_col_text(st, 2);
        if (strcmp(wanted, k->master_id) != 0 && !adopt_master(k, wanted)) {
            rc = kho_err_set(err, KHO_EIO,
                             "data key %u is wrapped by master key %s but DATA/keys/master.key is %s: restore the "
                             "matching master key",
                             id, wanted, k->master_id);
            break;
        }
        unsigned char *key = sodium_malloc(KEYLEN);
        const unsigned char *w = kho_stmt_col_blob(st, 1);
        size_t wn = kho_stmt_col_bytes(st, 1);
        if ((rc = unwrap(k, id, w, wn, key, err)) != 0) {
            sodium_free(key);
            break;
        }
        size_t c = k->cap;
        k->keys = kho_xgrow(k->keys, &c, k->nkeys + 1, sizeof *k->keys);
        k->cap = c;
        k->keys[k->nkeys++] = (dkey_t){id, key};
    }
    kho_stmt_free(st);
    if (active && have_key(k, active))
        k->active = active;
    return rc < 0 ? rc : 0;
}

static int add_data_key(kho_keyring_t *k, kho_store_t *w, kho_err_t *err)
{
    unsigned char key[KEYLEN], wrapped[NONCE + KEYLEN + TAG];
    int64_t next = 0;
    int rc = kho_store_query_int(w, "SELECT coalesce(max(id), 0) + 1 FROM data_keys", &next, err);
    if (rc != 0)
        return rc;
    randombytes_buf(key, sizeof key);
    wrap(k->master, (uint32_t)next, key, wrapped);
    sodium_memzero(key, sizeof key);
    char now[32];
    kho_catalog_now(now);
    kho_stmt_t *st = NULL;
    rc = kho_store_exec(w, "UPDATE data_keys SET active = 0", err);
    if (rc == 0)
        rc = kho_store_prepare(w, "INSERT INTO data_keys(id, wrapped, master_id, active, created_at) VALUES (?,?,?,1,?)",
                               &st, err);
    if (rc == 0) {
        kho_stmt_bind_int(st, 1, next);
        kho_stmt_bind_blob(st, 2, wrapped, sizeof wrapped);
        kho_stmt_bind_str(st, 3, k->master_id);
        kho_stmt_bind_str(st, 4, now);
        rc = kho_stmt_step(st, err);
        rc = rc < 0 ? rc : 0;
    }
    kho_stmt_free(st);
    return rc;
}

/* Read the master key; finish an interrupted rotation (master.key.new holds the
 * key the data keys are wrapped with). */
static int load_master(kho_keyring_t *k, kho_store_t *s, bool create, kho_err_t *err)
{
    char path[PATH_MAX], fresh[PATH_MAX + 8];
    kho_keyfile_path(k->datadir, "master.key", path, sizeof path);
    (void)kho_fmt(fresh, sizeof fresh, "%s.new", path);
    int rc = kho_keyfile_read(path, k->master, KEYLEN, err);
    if (rc == KHO_ENOTFOUND && create) {
        int64_t n = 0;
        if ((rc = kho_store_query_int(s, "SELECT count(*) FROM data_keys", &n, err)) != 0)
            return rc;
        if (n > 0)
            return kho_err_set(err, KHO_EIO,
                               "%s is missing but the database holds encrypted data: restore the master key from "
                               "your key backup",
                               path);
        randombytes_buf(k->master, KEYLEN);
        rc = kho_keyfile_write(path, k->master, KEYLEN, err);
    }
    if (rc != 0)
        return rc;
    key_id_of(k->master, k->master_id);
    kho_stmt_t *st = NULL;
    if ((rc = kho_store_prepare(s, "SELECT master_id FROM data_keys LIMIT 1", &st, err)) != 0)
        return rc;
    char wanted[17] = "";
    if ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW)
        snprintf(wanted, sizeof wanted, "%s", kho_stmt_col_text(st, 0));
    kho_stmt_free(st);
    if (rc < 0)
        return rc;
    if (wanted[0] && strcmp(wanted, k->master_id) != 0 && access(fresh, F_OK) == 0) {
        unsigned char next[KEYLEN];
        char id[17];
        if (kho_keyfile_read(fresh, next, KEYLEN, err) == 0) {
            key_id_of(next, id);
            if (strcmp(id, wanted) == 0 && rename(fresh, path) == 0) {
                memcpy(k->master, next, KEYLEN);
                memcpy(k->master_id, id, sizeof id);
            }
        }
        sodium_memzero(next, sizeof next);
    }
    return 0;
}

int kho_keyring_open(const char *datadir, kho_store_t *w, bool create, kho_keyring_t **out, kho_err_t *err)
{
    if (sodium_init() < 0)
        return kho_err_set(err, KHO_EINTERNAL, "libsodium cannot start");
    char dir[PATH_MAX];
    if (!kho_fmt(dir, sizeof dir, "%s/keys", datadir))
        return kho_err_set(err, KHO_EIO, "data directory path too long");
    if (create && mkdir(dir, 0700) != 0 && errno != EEXIST)
        return kho_err_set(err, KHO_EIO, "cannot create %s: %s", dir, strerror(errno));
    kho_keyring_t *k = kho_xcalloc(1, sizeof *k);
    (void)kho_fmt(k->datadir, sizeof k->datadir, "%s", datadir);
    k->master = sodium_malloc(KEYLEN);
    pthread_rwlock_init(&k->lock, NULL);
    int rc = load_master(k, w, create, err);
    if (rc == 0)
        rc = load_data_keys(k, w, err);
    if (rc == 0 && k->nkeys == 0 && create) {
        if ((rc = kho_store_begin(w, true, err)) == 0) {
            rc = add_data_key(k, w, err);
            rc = rc == 0 ? kho_store_commit(w, err) : rc;
            if (rc != 0)
                kho_store_rollback(w);
        }
        if (rc == 0)
            rc = load_data_keys(k, w, err);
    }
    if (rc != 0) {
        kho_keyring_free(k);
        return rc;
    }
    *out = k;
    return 0;
}

void kho_keyring_free(kho_keyring_t *k)
{
    if (!k)
        return;
    for (size_t i = 0; i < k->nkeys; i++)
        sodium_free(k->keys[i].key);
    free(k->keys);
    sodium_free(k->master);
    pthread_rwlock_destroy(&k->lock);
    free(k);
}

/* ---- values ------------------------------------------------------------------------- */

bool kho_keyring_is_blob(const void *p, size_t n)
{
    return n >= BLOB_HEAD + TAG && ((const unsigned char *)p)[0] == 0x01;
}

static const unsigned char *find_key(kho_keyring_t *k, uint32_t id)
{
    for (size_t i = 0; i < k->nkeys; i++)
        if (k->keys[i].id == id)
            return k->keys[i].key;
    return NULL;
}

int kho_keyring_encrypt(kho_keyring_t *k, const char *aad, const void *pt, size_t n, kho_buf_t *out, kho_err_t *err)
{
    pthread_rwlock_rdlock(&k->lock);
    const unsigned char *key = find_key(k, k->active);
    uint32_t id = k->active;
    if (!key) {
        pthread_rwlock_unlock(&k->lock);
        return kho_err_set(err, KHO_EIO, "no active data key");
    }
    kho_buf_reserve(out, BLOB_HEAD + n + TAG);
    unsigned char *b = (unsigned char *)out->data + out->len;
    b[0] = 0x01;
    b[1] = (unsigned char)(id >> 24);
    b[2] = (unsigned char)(id >> 16);
    b[3] = (unsigned char)(id >> 8);
    b[4] = (unsigned char)id;
    randombytes_buf(b + 5, NONCE);
    unsigned long long len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(b + BLOB_HEAD, &len, pt, n, (const unsigned char *)aad, strlen(aad),
                                               NULL, b + 5, key);
    pthread_rwlock_unlock(&k->lock);
    out->len += BLOB_HEAD + (size_t)len;
    out->data[out->len] = '\0';
    return 0;
}

int kho_keyring_decrypt(kho_keyring_t *k, kho_store_t *s, const char *aad, const void *blob, size_t n, kho_buf_t *out,
                        kho_err_t *err)
{
    const unsigned char *b = blob;
    if (!kho_keyring_is_blob(blob, n))
        return kho_err_set(err, KHO_EIO, "an encrypted value is damaged (not a kho ciphertext)");
    uint32_t id = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4];
    pthread_rwlock_rdlock(&k->lock);
    const unsigned char *key = find_key(k, id);
    pthread_rwlock_unlock(&k->lock);
    if (!key && s) { /* a key made by another process since the ring was loaded */
        pthread_rwlock_wrlock(&k->lock);
        int rc = load_data_keys(k, s, err);
        key = rc == 0 ? find_key(k, id) : NULL;
        pthread_rwlock_unlock(&k->lock);
        if (rc != 0)
            return rc;
    }
    if (!key)
        return kho_err_set(err, KHO_EIO, "data key %u is unknown", id);
    kho_buf_reserve(out, n);
    unsigned long long len = 0;
    pthread_rwlock_rdlock(&k->lock);
    int bad = crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)out->data + out->len, &len, NULL,
                                                         b + BLOB_HEAD, n - BLOB_HEAD, (const unsigned char *)aad,
                                                         strlen(aad), b + 5, key);
    pthread_rwlock_unlock(&k->lock);
    if (bad)
        return kho_err_set(err, KHO_EIO, "an encrypted value does not authenticate (altered, or moved from another "
                                         "column)");
    out->len += (size_t)len;
    out->data[out->len] = '\0';
    return 0;
}

/* ---- rotation -------------------------------------------------------------------- */

int kho_keyring_rotate(const char *datadir, kho_store_t *w, bool new_data_key, kho_err_t *err)
{
    kho_keyring_t *k = NULL;
    int rc = kho_keyring_open(datadir, w, false, &k, err);
    if (rc != 0)
        return rc;
    unsigned char *next = sodium_malloc(KEYLEN);
    randombytes_buf(next, KEYLEN);
    char next_id[17], path[PATH_MAX], fresh[PATH_MAX + 8];
    key_id_of(next, next_id);
    kho_keyfile_path(datadir, "master.key", path, sizeof path);
    (void)kho_fmt(fresh, sizeof fresh, "%s.new", path);
    /* 1. the new master key on disk beside the old; 2. re-wrap in one transaction;
     * 3. rename. A crash between 2 and 3 is finished by the next kho_keyring_open. */
    rc = kho_keyfile_write(fresh, next, KEYLEN, err);
    if (rc == 0)
        rc = kho_store_begin(w, true, err);
    kho_stmt_t *st = NULL;
    if (rc == 0)
        rc = kho_store_prepare(w, "UPDATE data_keys SET wrapped = ?, master_id = ? WHERE id = ?", &st, err);
    for (size_t i = 0; rc == 0 && i < k->nkeys; i++) {
        unsigned char wrapped[NONCE + KEYLEN + TAG];
        wrap(next, k->keys[i].id, k->keys[i].key, wrapped);
        kho_stmt_bind_blob(st, 1, wrapped, sizeof wrapped);
        kho_stmt_bind_str(st, 2, next_id);
        kho_stmt_bind_int(st, 3, k->keys[i].id);
        rc = kho_stmt_step(st, err);
        kho_stmt_reset(st);
        rc = rc < 0 ? rc : 0;
    }
    kho_stmt_free(st);
    if (rc == 0 && new_data_key) {
        memcpy(k->master, next, KEYLEN);
        memcpy(k->master_id, next_id, sizeof next_id);
        rc = add_data_key(k, w, err);
    }
    bool committed = false;
    if (rc == 0)
        committed = (rc = kho_store_commit(w, err)) == 0;
    if (!committed) { /* the old master key still wraps everything: drop the new one */
        kho_store_rollback(w);
        unlink(fresh);
    } else if (rename(fresh, path) != 0) /* keep master.key.new: the next open finishes the swap */
        rc = kho_err_set(err, KHO_EIO, "cannot rename %s to %s: %s (kho finishes this at its next start)", fresh,
                         path, strerror(errno));
    sodium_free(next);
    kho_keyring_free(k);
    return rc;
}
