/* Unit tests of security/keys: key files (size, mode, atomic write), the key
 * ring on a real SQLite database in a temporary data directory (field
 * encryption, tampering, wrong keys) and master key rotation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "kho_test.h"
#include "security/keys.h"
#include "store/schema.h"
#include "store/store.h"

#define BLOB_OVERHEAD (1 + 4 + 24 + 16) /* version, key id, nonce, tag */

/* ---- helpers ------------------------------------------------------------------------ */

static void store_close_v(void *p)
{
    kho_store_close(p);
}

static void ring_free_v(void *p)
{
    kho_keyring_free(p);
}

static const char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = kt_malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* A migrated database DIR/kho.db, closed at teardown. */
static kho_store_t *open_db(const char *dir)
{
    kho_store_t *s = NULL;
    kho_err_t err = {0};
    if (kho_store_open(path_in(dir, "kho.db"), KHO_STORE_CREATE, NULL, &s, &err) != 0 ||
        kho_schema_migrate(s, &err) != 0)
        fail_msg("database: %s", err.msg);
    return kt_defer(store_close_v, s);
}

static kho_keyring_t *ring(const char *dir, kho_store_t *w, bool create)
{
    kho_keyring_t *k = NULL;
    kho_err_t err = {0};
    if (kho_keyring_open(dir, w, create, &k, &err) != 0)
        fail_msg("keyring_open: %s", err.msg);
    return kt_defer(ring_free_v, k);
}

static int64_t query_int(kho_store_t *s, const char *sql)
{
    int64_t v = -1;
    kho_err_t err;
    if (kho_store_query_int(s, sql, &v, &err) != 0)
        fail_msg("%s: %s", sql, err.msg);
    return v;
}

static kho_buf_t *encrypt(kho_keyring_t *k, const char *aad, const void *pt, size_t n)
{
    kho_buf_t *b = kt_buf();
    kho_err_t err = {0};
    if (kho_keyring_encrypt(k, aad, pt, n, b, &err) != 0)
        fail_msg("encrypt: %s", err.msg);
    return b;
}

/* Decrypt and compare with the expected plaintext. */
static void assert_decrypts(kho_keyring_t *k, kho_store_t *s, const char *aad, const kho_buf_t *blob, const void *pt,
                            size_t n)
{
    kho_buf_t out = KHO_BUF_INIT;
    kho_err_t err = {0};
    int rc = kho_keyring_decrypt(k, s, aad, blob->data, blob->len, &out, &err);
    bool same = rc == 0 && out.len == n && (n == 0 || memcmp(out.data, pt, n) == 0);
    kho_buf_free(&out);
    if (rc != 0)
        fail_msg("decrypt: %d %s", rc, err.msg);
    if (!same)
        fail_msg("decrypt gave other bytes");
}

static int decrypt_rc(kho_keyring_t *k, kho_store_t *s, const char *aad, const void *blob, size_t n)
{
    kho_buf_t out = KHO_BUF_INIT;
    kho_err_t err = {0};
    int rc = kho_keyring_decrypt(k, s, aad, blob, n, &out, &err);
    kho_buf_free(&out);
    return rc;
}

static uint32_t key_id_of(const kho_buf_t *blob)
{
    const unsigned char *b = (const unsigned char *)blob->data;
    return (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4];
}

static unsigned file_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        fail_msg("stat %s: %s", path, strerror(errno));
    return (unsigned)(st.st_mode & 07777);
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* ---- key files -------------------------------------------------------------------- */

static void test_keyfile_roundtrip(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("keys");
    const char *p = path_in(dir, "k.key");
    unsigned char key[32], back[32];
    randombytes_buf(key, sizeof key);
    kho_err_t err;
    assert_int_equal(kho_keyfile_write(p, key, sizeof key, &err), 0);
    assert_int_equal(file_mode(p), 0600);
    assert_int_equal(kho_keyfile_read(p, back, sizeof back, &err), 0);
    assert_memory_equal(key, back, sizeof key);
    /* no temporary file stays behind */
    assert_false(exists(path_in(dir, "k.key.tmp")));
    /* overwriting replaces the key, and repairs a too-open mode */
    assert_int_equal(chmod(p, 0644), 0);
    randombytes_buf(key, sizeof key);
    assert_int_equal(kho_keyfile_write(p, key, sizeof key, &err), 0);
    assert_int_equal(file_mode(p), 0600);
    assert_int_equal(kho_keyfile_read(p, back, sizeof back, &err), 0);
    assert_memory_equal(key, back, sizeof key);
    /* owner read-only is fine */
    assert_int_equal(chmod(p, 0400), 0);
    assert_int_equal(kho_keyfile_read(p, back, sizeof back, &err), 0);
    /* a file in a directory that does not exist cannot be written */
    assert_int_not_equal(kho_keyfile_write(path_in(dir, "no/such/k.key"), key, sizeof key, &err), 0);
}

static void test_keyfile_refused(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("keys");
    unsigned char key[32], back[32];
    randombytes_buf(key, sizeof key);
    kho_err_t err;
    assert_int_equal(kho_keyfile_read(path_in(dir, "missing.key"), back, sizeof back, &err), KHO_ENOTFOUND);
    const char *p = path_in(dir, "k.key");
    assert_int_equal(kho_keyfile_write(p, key, sizeof key, &err), 0);
    /* readable (or writable) by group or others */
    static const unsigned modes[] = {0640, 0604, 0660, 0644, 0606, 0610, 0601, 0620, 0602, 0777};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        assert_int_equal(chmod(p, modes[i]), 0);
        if (kho_keyfile_read(p, back, sizeof back, &err) != KHO_EIO)
            fail_msg("a key file of mode %03o was read", modes[i]);
    }
    assert_int_equal(chmod(p, 0600), 0);
    assert_int_equal(kho_keyfile_read(p, back, sizeof back, &err), 0);
    /* the wrong size, both ways */
    assert_int_equal(kho_keyfile_read(p, back, 16, &err), KHO_EIO);
    unsigned char big[64];
    assert_int_equal(kho_keyfile_read(p, big, sizeof big, &err), KHO_EIO);
    static const size_t sizes[] = {0, 1, 31, 33, 64};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char junk[64] = {0};
        const char *q = kt_write_file(dir, "sized.key", junk, sizes[i]);
        assert_int_equal(chmod(q, 0600), 0);
        if (kho_keyfile_read(q, back, sizeof back, &err) != KHO_EIO)
            fail_msg("a key file of %zu bytes was read as a 32-byte key", sizes[i]);
    }
    /* not a regular file */
    const char *d = path_in(dir, "adir.key");
    assert_int_equal(mkdir(d, 0700), 0);
    assert_int_equal(kho_keyfile_read(d, back, sizeof back, &err), KHO_EIO);
}

static void test_keyfile_path(void **state)
{
    (void)state;
    char out[256];
    kho_keyfile_path("/srv/kho", "master.key", out, sizeof out);
    assert_string_equal(out, "/srv/kho/keys/master.key");
    kho_keyfile_path("var", "audit.key", out, sizeof out);
    assert_string_equal(out, "var/keys/audit.key");
    char tiny[8];
    kho_keyfile_path("/a/very/long/data/directory", "master.key", tiny, sizeof tiny);
    assert_true(strlen(tiny) < sizeof tiny); /* cut, never overflowed */
}

/* ---- the ring -------------------------------------------------------------------------- */

static void test_keyring_create(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("keys");
    kho_store_t *w = open_db(dir);
    kho_keyring_t *k = NULL;
    kho_err_t err;
    /* without create, nothing is made */
    assert_int_not_equal(kho_keyring_open(dir, w, false, &k, &err), 0);
    assert_false(exists(path_in(dir, "keys/master.key")));
    assert_int_equal(query_int(w, "SELECT count(*) FROM data_keys"), 0);
    ring(dir, w, true);
    assert_int_equal(file_mode(path_in(dir, "keys")), 0700);
    assert_int_equal(file_mode(path_in(dir, "keys/master.key")), 0600);
    unsigned char master[32];
    assert_int_equal(kho_keyfile_read(path_in(dir, "keys/master.key"), master, sizeof master, &err), 0);
    assert_int_equal(query_int(w, "SELECT count(*) FROM data_keys"), 1);
    assert_int_equal(query_int(w, "SELECT count(*) FROM data_keys WHERE active = 1"), 1);
    /* the data key is stored wrapped: the master key is not in the database */
    assert_int_equal(query_int(w, "SELECT length(wrapped) > 32 FROM data_keys"), 1);
    /* opening again (with or without create) keeps the same keys */
    ring(dir, w, true);
    ring(dir, w, false);
    assert_int_equal(query_int(w, "SELECT count(*) FROM data_keys"), 1);
    unsigned char again[32];
    assert_int_equal(kho_keyfile_read(path_in(dir, "keys/master.key"), again, sizeof again, &err), 0);
    assert_memory_equal(master, again, sizeof master);
}

static void test_roundtrip(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("keys");
    kho_store_t *w = open_db(dir);
    kho_keyring_t *k = ring(dir, w, true);
    static const size_t sizes[] = {0, 1, 2, 15, 16, 17, 100, 1000, 65536, 200000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        unsigned char *pt = kt_malloc(n);
        for (size_t j = 0; j < n; j++)
            pt[j] = (unsigned char)(j * 31 + 7); /* includes NUL bytes */
        kho_buf_t *blob = encrypt(k, "people.cccd", pt, n);
        assert_int_equal(blob->len, n + BLOB_OVERHEAD);
        assert_true(kho_keyring_is_blob(blob->data, blob->len));
        if (n >= 8)
            assert_null(memmem(blob->data, blob->len, pt + n / 2 - 4, 8)); /* not in the clear */
        assert_decrypts(k, w, "people.cccd", blob, pt, n);
        assert_decrypts(k, NULL, "people.cccd", blob, pt, n);
        /* a fresh nonce each time */
        kho_buf_t *again = encrypt(k, "people.cccd", pt, n);
        assert_int_equal(again->len, blob->len);
        assert_memory_not_equal(again->data, blob->data, blob->len);
        assert_decrypts(k, w, "people.cccd", again, pt, n);
    }
    /* Vietnamese text in, the same bytes out; appended to what the buffer holds */
    const char *text = "Nguyễn Thị Ánh, Thôn Đông, Xã Nghĩa Trụ";
    kho_buf_t *blob = kt_buf();
    kho_buf_puts(blob, "");
    kho_err_t err;
    assert_int_equal(kho_keyring_encrypt(k, "t.address", text, strlen(text), blob, &err), 0);
    kho_buf_t *out = kt_buf();
    kho_buf_puts(out, ">");
    assert_int_equal(kho_keyring_decrypt(k, w, "t.address", blob->data, blob->len, out, &err), 0);
    assert_int_equal(out->len, 1 + strlen(text));
    assert_string_equal(kho_buf_cstr(out) + 1, text);
    assert_int_equal(out->data[0], '>');
    /* encrypting after other content appends a whole blob after it */
    kho_buf_t *two = kt_buf();
    kho_buf_puts(two, "abc");
    assert_int_equal(kho_keyring_encrypt(k, "t.c", "x", 1, two, &err), 0);
    assert_int_equal(two->len, 3 + 1 + BLOB_OVERHEAD);
    assert_int_equal(decrypt_rc(k, w, "t.c", two->data + 3, two->len - 3), 0);
}

static void test_decrypt_refuses_altered(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("keys");
    kho_store_t *w = open_db(dir);
    kho_keyring_t *k = ring(dir, w, true);
    const char *pt = "0912345678";
    kho_buf_t *blob = encrypt(k, "people.phone", pt, strlen(pt));
    assert_int_equal(decrypt_rc(k, w, "people.phone", blob->data, blob->len), 0);
    /* moved to another column, or another table */
    assert_int_equal(decrypt_rc(k, w, "people.name", blob->data, blob->len), KHO_EIO);
    assert_int_equal(decrypt_rc(k, w, "others.phone", blob->data, blob->len), KHO_EIO);
    assert_int_equal(decrypt_rc(k, w, "", blob->data, blob->len), KHO_EIO);
    assert_int_equal(decrypt_rc(k, w, "people.phone ", blob->data, blob->len), KHO_EIO);
    /* one flipped bit anywhere (header, key id, nonce, ciphertext, tag) */
    unsigned char *copy = kt_malloc(blob->len + 1);
    for (size_t i = 0; i < blob->len; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, blob->data, blob->len);
            copy[i] ^= (unsigned char)(1u << bit);
            int rc = decrypt_rc(k, w, "people.phone", copy, blob->len);
            if (rc != KHO_EIO)
                fail_msg("byte %zu bit %d flipped: decrypt gave %d", i, bit, rc);
            rc = decrypt_rc(k, NULL, "people.phone", copy, blob->len);
            if (rc != KHO_EIO)
                fail_msg("byte %zu bit %d flipped (no store): decrypt gave %d", i, bit, rc);
        }
    /* cut short at every length, or one byte longer */
    for (size_t n = 0; n < blob->len; n++)
        if (decrypt_rc(k, w, "people.phone", blob->data, n) != KHO_EIO)
            fail_msg("a blob cut to %zu bytes was accepted", n);
    memcpy(copy, blob->data, blob->len);
    copy[blob->len] = 0;
    assert_int_equal(decrypt_rc(k, w, "people.phone", copy, blob->len + 1), KHO_EIO);
    /* not a blob at all */
    assert_int_equal(decrypt_rc(k, w, "people.phone", "0912345678", 10), KHO_EIO);
    assert_int_equal(decrypt_rc(k, w, "people.phone", "", 0), KHO_EIO);
    unsigned char fake[200];
    memset(fake, 0, sizeof fake);
    fake[0] = 0x01; /* the right version byte, data key 0 (none), zero nonce and garbage */
    assert_int_equal(decrypt_rc(k, w, "people.phone", fake, sizeof fake), KHO_EIO);
    fake[4] = 1; /* the real key id, garbage ciphertext */
    assert_int_equal(decrypt_rc(k, w, "people.phone", fake, sizeof fake), KHO_EIO);
    fake[1] = 0xFF; /* an unknown key id: looked up in the database, still refused */
    assert_int_equal(decrypt_rc(k, w, "people.phone", fake, sizeof fake), KHO_EIO);
    /* the real blob still decrypts after all that */
    assert_decrypts(k, w, "people.phone", blob, pt, strlen(pt));
}

static void test_is_blob(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("keys");
    kho_store_t *w = open_db(dir);
    kho_keyring_t *k = ring(dir, w, true);
    for (size_t n = 0; n < 40; n += 7) {
        kho_buf_t *b = encrypt(k, "a.b", "0123456789012345678901234567890123456789", n);
        assert_true(kho_keyring_is_blob(b->data, b->len));
        b->data[0] = 0x02;
        assert_false(kho_keyring_is_blob(b->data, b->len));
        b->data[0] = 0x00;
        assert_false(kho_keyring_is_blob(b->data, b->len));
    }
    assert_false(kho_keyring_is_blob("", 0));
    assert_false(kho_keyring_is_blob("\x01", 1));
    assert_false(kho_keyring_is_blob("0912345678", 10));
    assert_false(kho_keyring_is_blob("Nguyễn Văn An", strlen("Nguyễn Văn An")));
    char text[200];
    memset(text, 'a', sizeof text);
    assert_false(kho_keyring_is_blob(text, sizeof text));
    unsigned char shortblob[BLOB_OVERHEAD - 1];
    memset(shortblob, 0, sizeof shortblob);
    shortblob[0] = 0x01; /* shorter than the smallest blob (of an empty value) */
    assert_false(kho_keyring_is_blob(shortblob, sizeof shortblob));
}

static void test_wrong_or_missing_master_key(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("keys");
    kho_store_t *w = open_db(dir);
    kho_keyring_t *k = ring(dir, w, true);
    kho_buf_t *blob = encrypt(k, "t.c", "secret", 6);
    const char *mk = path_in(dir, "keys/master.key");
    unsigned char master[32], other[32];
    kho_err_t err;
    assert_int_equal(kho_keyfile_read(mk, master, sizeof master, &err), 0);
    /* another master key does not open the data keys */
    randombytes_buf(other, sizeof other);
    assert_int_equal(kho_keyfile_write(mk, other, sizeof other, &err), 0);
    kho_keyring_t *bad = NULL;
    assert_int_equal(kho_keyring_open(dir, w, false, &bad, &err), KHO_EIO);
    assert_int_equal(kho_keyring_open(dir, w, true, &bad, &err), KHO_EIO);
    /* a missing master key is not silently replaced while data keys exist */
    assert_int_equal(unlink(mk), 0);
    assert_int_not_equal(kho_keyring_open(dir, w, false, &bad, &err), 0);
    assert_int_equal(kho_keyring_open(dir, w, true, &bad, &err), KHO_EIO);
    assert_false(exists(mk));
    assert_int_equal(query_int(w, "SELECT count(*) FROM data_keys"), 1);
    /* a group-readable master key is refused */
    assert_int_equal(kho_keyfile_write(mk, master, sizeof master, &err), 0);
    assert_int_equal(chmod(mk, 0640), 0);
    assert_int_equal(kho_keyring_open(dir, w, false, &bad, &err), KHO_EIO);
    /* the right key back: everything reads again */
    assert_int_equal(chmod(mk, 0600), 0);
    kho_keyring_t *good = ring(dir, w, false);
    assert_decrypts(good, w, "t.c", blob, "secret", 6);
}

static void test_values_survive_reopen(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("keys");
    kho_store_t *w = open_db(dir);
    kho_keyring_t *k = ring(dir, w, true);
    kho_buf_t *blob = encrypt(k, "t.c", "001234567789", 12);
    kt_release(k);
    kt_release(w);
    w = open_db(dir);
    k = ring(dir, w, false);
    assert_decrypts(k, w, "t.c", blob, "001234567789", 12);
}

/* ---- rotation ------------------------------------------------------------------------ */

static void test_rotate_master_key(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("keys");
    kho_store_t *w = open_db(dir);
    kho_keyring_t *k1 = ring(dir, w, true);
    kho_buf_t *v1 = encrypt(k1, "t.c", "before", 6);
    const char *mk = path_in(dir, "keys/master.key");
    unsigned char m1[32], m2[32];
    kho_err_t err;
    assert_int_equal(kho_keyfile_read(mk, m1, sizeof m1, &err), 0);
    assert_int_equal(kho_keyring_rotate(dir, w, false, &err), 0);
    assert_int_equal(kho_keyfile_read(mk, m2, sizeof m2, &err), 0);
    assert_memory_not_equal(m1, m2, sizeof m1);
    assert_int_equal(file_mode(mk), 0600);
    assert_false(exists(path_in(dir, "keys/master.key.new")));
    assert_int_equal(query_int(w, "SELECT count(*) FROM data_keys"), 1);
    /* the ring loaded before the rotation goes on working (a running server) */
    assert_decrypts(k1, w, "t.c", v1, "before", 6);
    kho_buf_t *v2 = encrypt(k1, "t.c", "during", 6);
    /* a ring opened now uses the new master key, and reads everything */
    kho_keyring_t *k2 = ring(dir, w, false);
    assert_decrypts(k2, w, "t.c", v1, "before", 6);
    assert_decrypts(k2, w, "t.c", v2, "during", 6);
    kho_buf_t *v3 = encrypt(k2, "t.c", "after", 5);
    assert_int_equal(key_id_of(v3), key_id_of(v1)); /* same data key */
    /* the old master key no longer opens the ring */
    assert_int_equal(kho_keyfile_write(mk, m1, sizeof m1, &err), 0);
    kho_keyring_t *old = NULL;
    assert_int_equal(kho_keyring_open(dir, w, false, &old, &err), KHO_EIO);
    assert_int_equal(kho_keyfile_write(mk, m2, sizeof m2, &err), 0);
    /* reopened from scratch (new connection) */
    kt_release(k2);
    kt_release(k1);
    kt_release(w);
    w = open_db(dir);
    kho_keyring_t *k3 = ring(dir, w, false);
    assert_decrypts(k3, w, "t.c", v1, "before", 6);
    assert_decrypts(k3, w, "t.c", v2, "during", 6);
    assert_decrypts(k3, w, "t.c", v3, "after", 5);
    /* rotating again and again */
    for (int i = 0; i < 3; i++)
        assert_int_equal(kho_keyring_rotate(dir, w, false, &err), 0);
    kho_keyring_t *k4 = ring(dir, w, false);
    assert_decrypts(k4, w, "t.c", v1, "before", 6);
}

static void test_rotate_new_data_key(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("keys");
    kho_store_t *w = open_db(dir);
    kho_keyring_t *k1 = ring(dir, w, true);
    kho_buf_t *v1 = encrypt(k1, "t.c", "old value", 9);
    uint32_t id1 = key_id_of(v1);
    kho_err_t err;
    assert_int_equal(kho_keyring_rotate(dir, w, true, &err), 0);
    assert_int_equal(query_int(w, "SELECT count(*) FROM data_keys"), 2);
    assert_int_equal(query_int(w, "SELECT count(*) FROM data_keys WHERE active = 1"), 1);
    kho_keyring_t *k2 = ring(dir, w, false);
    kho_buf_t *v2 = encrypt(k2, "t.c", "new value", 9);
    uint32_t id2 = key_id_of(v2);
    assert_int_not_equal(id1, id2);
    assert_int_equal(query_int(w, "SELECT id FROM data_keys WHERE active = 1"), id2);
    assert_decrypts(k2, w, "t.c", v1, "old value", 9);
    assert_decrypts(k2, w, "t.c", v2, "new value", 9);
    /* the ring loaded before still reads and writes its own values */
    assert_decrypts(k1, NULL, "t.c", v1, "old value", 9);
    /* reopened: both still read, new values keep the new key */
    kt_release(k2);
    kho_keyring_t *k3 = ring(dir, w, false);
    assert_decrypts(k3, w, "t.c", v1, "old value", 9);
    assert_decrypts(k3, w, "t.c", v2, "new value", 9);
    assert_int_equal(key_id_of(encrypt(k3, "t.c", "x", 1)), id2);
    /* another data key, then a plain rotation: all three keys still read */
    assert_int_equal(kho_keyring_rotate(dir, w, true, &err), 0);
    assert_int_equal(kho_keyring_rotate(dir, w, false, &err), 0);
    kho_keyring_t *k4 = ring(dir, w, false);
    kho_buf_t *v3 = encrypt(k4, "t.c", "newest", 6);
    assert_int_not_equal(key_id_of(v3), id1);
    assert_int_not_equal(key_id_of(v3), id2);
    assert_decrypts(k4, w, "t.c", v1, "old value", 9);
    assert_decrypts(k4, w, "t.c", v2, "new value", 9);
    assert_decrypts(k4, w, "t.c", v3, "newest", 6);
}

/* keys.h: a data key the ring does not know yet (made by another process) is
 * loaded through s; `kho keys rotate --data-key` does not interrupt running
 * servers. A server's ring, loaded before the rotation, must read values that
 * another process (the CLI) encrypted with the new data key, and go on
 * encrypting. */
static void test_rotate_new_data_key_running_ring(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("keys");
    kho_store_t *w = open_db(dir);
    kho_keyring_t *server = ring(dir, w, true);
    kho_buf_t *v1 = encrypt(server, "t.c", "old value", 9);
    kho_err_t err;
    assert_int_equal(kho_keyring_rotate(dir, w, true, &err), 0);
    kho_keyring_t *cli = ring(dir, w, false);
    kho_buf_t *v2 = encrypt(cli, "t.c", "new value", 9);
    assert_int_not_equal(key_id_of(v1), key_id_of(v2));
    kho_buf_t out = KHO_BUF_INIT;
    int rc = kho_keyring_decrypt(server, w, "t.c", v2->data, v2->len, &out, &err);
    kho_buf_free(&out);
    if (rc != 0)
        fail_msg("the running ring cannot read a value of the new data key: %s", err.msg);
    kho_buf_t *b = kt_buf();
    rc = kho_keyring_encrypt(server, "t.c", "later", 5, b, &err);
    if (rc != 0)
        fail_msg("the running ring can no longer encrypt: %s", err.msg);
    assert_decrypts(server, w, "t.c", v1, "old value", 9);
}

/* A rotation cut short after the database was re-wrapped but before
 * master.key.new replaced master.key is finished by the next open. */
static void test_interrupted_rotation_is_finished(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("keys");
    kho_store_t *w = open_db(dir);
    kho_keyring_t *k = ring(dir, w, true);
    kho_buf_t *v = encrypt(k, "t.c", "value", 5);
    const char *mk = path_in(dir, "keys/master.key");
    const char *fresh = path_in(dir, "keys/master.key.new");
    unsigned char m1[32], m2[32], now[32];
    kho_err_t err;
    assert_int_equal(kho_keyfile_read(mk, m1, sizeof m1, &err), 0);
    assert_int_equal(kho_keyring_rotate(dir, w, false, &err), 0);
    assert_int_equal(kho_keyfile_read(mk, m2, sizeof m2, &err), 0);
    /* put the disk back as it was between the commit and the rename */
    assert_int_equal(kho_keyfile_write(fresh, m2, sizeof m2, &err), 0);
    assert_int_equal(kho_keyfile_write(mk, m1, sizeof m1, &err), 0);
    kho_keyring_t *k2 = ring(dir, w, false);
    assert_decrypts(k2, w, "t.c", v, "value", 5);
    assert_false(exists(fresh));
    assert_int_equal(kho_keyfile_read(mk, now, sizeof now, &err), 0);
    assert_memory_equal(now, m2, sizeof now);
    /* a stray master.key.new that wraps nothing is ignored */
    unsigned char junk[32];
    randombytes_buf(junk, sizeof junk);
    assert_int_equal(kho_keyfile_write(fresh, junk, sizeof junk, &err), 0);
    kho_keyring_t *k3 = ring(dir, w, false);
    assert_decrypts(k3, w, "t.c", v, "value", 5);
    assert_int_equal(kho_keyfile_read(mk, now, sizeof now, &err), 0);
    assert_memory_equal(now, m2, sizeof now);
}

static void test_rotate_without_keys(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("keys");
    kho_store_t *w = open_db(dir);
    kho_err_t err;
    assert_int_not_equal(kho_keyring_rotate(dir, w, false, &err), 0);
    assert_int_not_equal(kho_keyring_rotate(dir, w, true, &err), 0);
    assert_false(exists(path_in(dir, "keys/master.key")));
    assert_false(exists(path_in(dir, "keys/master.key.new")));
}

int main(void)
{
    kho_log_set_level(KHO_LOG_OFF);
    if (sodium_init() < 0)
        return 1;
    umask(022);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_keyfile_roundtrip, kt_cleanup),
        cmocka_unit_test_teardown(test_keyfile_refused, kt_cleanup),
        cmocka_unit_test_teardown(test_keyfile_path, kt_cleanup),
        cmocka_unit_test_teardown(test_keyring_create, kt_cleanup),
        cmocka_unit_test_teardown(test_roundtrip, kt_cleanup),
        cmocka_unit_test_teardown(test_decrypt_refuses_altered, kt_cleanup),
        cmocka_unit_test_teardown(test_is_blob, kt_cleanup),
        cmocka_unit_test_teardown(test_wrong_or_missing_master_key, kt_cleanup),
        cmocka_unit_test_teardown(test_values_survive_reopen, kt_cleanup),
        cmocka_unit_test_teardown(test_rotate_master_key, kt_cleanup),
        cmocka_unit_test_teardown(test_rotate_new_data_key, kt_cleanup),
        cmocka_unit_test_teardown(test_rotate_new_data_key_running_ring, kt_cleanup),
        cmocka_unit_test_teardown(test_interrupted_rotation_is_finished, kt_cleanup),
        cmocka_unit_test_teardown(test_rotate_without_keys, kt_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
