/* Unit tests of security/tlog: roots, proofs (checked by the RFC 9162 verification
 * algorithms written here independently of tlog.c), checkpoints, tiles, and
 * detection of tampering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kho_test.h"
#include "security/tlog.h"

#define H 32

static unsigned char SEED[32];

static void leaf(const char *s, unsigned char out[H])
{
    unsigned char buf[256];
    buf[0] = 0;
    size_t n = strlen(s);
    memcpy(buf + 1, s, n);
    crypto_hash_sha256(out, buf, n + 1);
}

static void node(const unsigned char *l, const unsigned char *r, unsigned char out[H])
{
    unsigned char buf[65];
    buf[0] = 1;
    memcpy(buf + 1, l, H);
    memcpy(buf + 33, r, H);
    crypto_hash_sha256(out, buf, 65);
}

/* Naive MTH over leaf hashes [lo, hi) straight from RFC 6962 section 2.1. */
static void mth(unsigned char (*leaves)[H], size_t lo, size_t hi, unsigned char out[H])
{
    size_t n = hi - lo;
    if (n == 0) {
        crypto_hash_sha256(out, NULL, 0);
        return;
    }
    if (n == 1) {
        memcpy(out, leaves[lo], H);
        return;
    }
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    unsigned char l[H], r[H];
    mth(leaves, lo, lo + k, l);
    mth(leaves, lo + k, hi, r);
    node(l, r, out);
}

/* RFC 9162 2.1.3.2: verify an inclusion proof. */
static bool verify_inclusion(uint64_t index, uint64_t size, const unsigned char *leafh, const unsigned char *proof,
                             size_t nproof, const unsigned char *root)
{
    if (index >= size)
        return false;
    uint64_t fn = index, sn = size - 1;
    unsigned char r[H];
    memcpy(r, leafh, H);
    for (size_t i = 0; i < nproof; i++) {
        const unsigned char *p = proof + i * H;
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            node(p, r, r);
            if (!(fn & 1))
                while (fn != 0 && !(fn & 1)) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else
            node(r, p, r);
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, H) == 0;
}

/* RFC 9162 2.1.4.2: verify a consistency proof. */
static bool verify_consistency(uint64_t m, uint64_t n, const unsigned char *r1, const unsigned char *r2,
                               const unsigned char *proof, size_t np)
{
    if (m == n)
        return np == 0 && memcmp(r1, r2, H) == 0;
    unsigned char path[64][H];
    size_t k = 0;
    if ((m & (m - 1)) == 0) /* m a power of two: prepend first_hash */
        memcpy(path[k++], r1, H);
    for (size_t i = 0; i < np; i++)
        memcpy(path[k++], proof + i * H, H);
    uint64_t fn = m - 1, sn = n - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    unsigned char fr[H], sr[H];
    memcpy(fr, path[0], H);
    memcpy(sr, path[0], H);
    for (size_t i = 1; i < k; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            node(path[i], fr, fr);
            node(path[i], sr, sr);
            if (!(fn & 1))
                while (fn != 0 && !(fn & 1)) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else
            node(sr, path[i], sr);
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, r1, H) == 0 && memcmp(sr, r2, H) == 0;
}

static kho_tlog_t *open_log(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/log.db", dir);
    kho_tlog_t *log = NULL;
    kho_err_t err = {0};
    if (kho_tlog_open(path, "kho.test/log", SEED, &log, &err) != 0)
        fail_msg("open: %s", err.msg);
    return log;
}

static void append_n(kho_tlog_t *log, size_t from, size_t to)
{
    kho_err_t err;
    for (size_t i = from; i < to; i++) {
        char s[32];
        snprintf(s, sizeof s, "entry %zu", i);
        kho_tlog_entry_t e = {s, strlen(s)};
        assert_int_equal(kho_tlog_append(log, &e, 1, NULL, &err), 0);
    }
}

static void test_roots_and_proofs(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("tlog");
    kho_tlog_t *log = open_log(dir);
    enum { N = 45 };
    unsigned char leaves[N][H];
    for (size_t i = 0; i < N; i++) {
        char s[32];
        snprintf(s, sizeof s, "entry %zu", i);
        leaf(s, leaves[i]);
    }
    append_n(log, 0, N);
    assert_int_equal(kho_tlog_size(log), N);
    kho_err_t err;
    unsigned char roots[N + 1][H];
    for (size_t n = 0; n <= N; n++) {
        unsigned char want[H];
        mth(leaves, 0, n, want);
        assert_int_equal(kho_tlog_root(log, n, roots[n], &err), 0);
        assert_memory_equal(roots[n], want, H);
    }
    for (size_t n = 1; n <= N; n++)
        for (size_t i = 0; i < n; i++) {
            kho_buf_t p = KHO_BUF_INIT;
            assert_int_equal(kho_tlog_inclusion(log, i, n, &p, &err), 0);
            bool ok = verify_inclusion(i, n, leaves[i], (unsigned char *)p.data, p.len / H, roots[n]);
            kho_buf_free(&p);
            if (!ok)
                fail_msg("inclusion proof of %zu in %zu does not verify", i, n);
        }
    for (size_t n = 1; n <= N; n++)
        for (size_t m = 1; m <= n; m++) {
            kho_buf_t p = KHO_BUF_INIT;
            assert_int_equal(kho_tlog_consistency(log, m, n, &p, &err), 0);
            bool ok = verify_consistency(m, n, roots[m], roots[n], (unsigned char *)p.data, p.len / H);
            kho_buf_free(&p);
            if (!ok)
                fail_msg("consistency proof %zu -> %zu does not verify", m, n);
        }
    kho_buf_t p = KHO_BUF_INIT;
    assert_int_equal(kho_tlog_inclusion(log, N, N, &p, &err), KHO_EINVAL);
    assert_int_equal(kho_tlog_consistency(log, 0, 5, &p, &err), KHO_EINVAL);
    assert_int_equal(kho_tlog_consistency(log, 5, N + 1, &p, &err), KHO_EINVAL);
    kho_buf_free(&p);
    kho_tlog_close(log);
    /* reopened, the right edge is rebuilt from storage */
    log = open_log(dir);
    unsigned char r[H];
    assert_int_equal(kho_tlog_root(log, N, r, &err), 0);
    assert_memory_equal(r, roots[N], H);
    append_n(log, N, N + 1);
    unsigned char more[N + 1][H];
    memcpy(more, leaves, sizeof leaves);
    leaf("entry 45", more[N]);
    unsigned char want[H];
    mth(more, 0, N + 1, want);
    assert_int_equal(kho_tlog_root(log, N + 1, r, &err), 0);
    assert_memory_equal(r, want, H);
    kho_tlog_close(log);
}

static void test_checkpoint_note_and_key(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("tlog");
    kho_tlog_t *log = open_log(dir);
    append_n(log, 0, 3);
    kho_err_t err;
    kho_buf_t note = KHO_BUF_INIT;
    assert_int_equal(kho_tlog_checkpoint(log, &note, &err), 0);
    /* body: origin, size, base64 root; a blank line; the signature line */
    unsigned char root[H];
    assert_int_equal(kho_tlog_root(log, 3, root, &err), 0);
    char b64[64];
    sodium_bin2base64(b64, sizeof b64, root, H, sodium_base64_VARIANT_ORIGINAL);
    char body[256];
    snprintf(body, sizeof body, "kho.test/log\n3\n%s\n", b64);
    assert_true(strncmp(note.data, body, strlen(body)) == 0);
    const char *sigline = note.data + strlen(body);
    assert_true(strncmp(sigline, "\n\xe2\x80\x94 kho.test/log ", strlen("\n\xe2\x80\x94 kho.test/log ")) == 0);
    /* the signature verifies over the body with the public key of the seed */
    unsigned char pk[32], sig[68];
    kho_tlog_public_key(SEED, pk);
    const char *s64 = sigline + strlen("\n\xe2\x80\x94 kho.test/log ");
    size_t sl;
    assert_int_equal(sodium_base642bin(sig, sizeof sig, s64, strcspn(s64, "\n"), NULL, &sl, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(sl, 68);
    assert_int_equal(crypto_sign_verify_detached(sig + 4, (unsigned char *)body, strlen(body), pk), 0);
    /* verifier key: name+hex(key hash)+base64(0x01||pk), key hash = first 4 bytes of the signature field */
    const char *vkey = kho_tlog_vkey(log);
    char hex[9];
    sodium_bin2hex(hex, sizeof hex, sig, 4);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "kho.test/log+%s+", hex);
    assert_true(strncmp(vkey, prefix, strlen(prefix)) == 0);
    kho_buf_t latest = KHO_BUF_INIT;
    uint64_t size = 0;
    assert_int_equal(kho_tlog_latest(log, &latest, &size, &err), 0);
    assert_int_equal(size, 3);
    assert_string_equal(latest.data, note.data);
    kho_buf_free(&note);
    kho_buf_free(&latest);
    kho_tlog_close(log);
    /* another origin cannot open the same file */
    char path[256];
    snprintf(path, sizeof path, "%s/log.db", dir);
    kho_tlog_t *other = NULL;
    assert_int_equal(kho_tlog_open(path, "kho.test/other", SEED, &other, &err), KHO_ECONFLICT);
}

static void test_tiles(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("tlog");
    kho_tlog_t *log = open_log(dir);
    kho_tlog_entry_t batch[300];
    char text[300][16];
    for (int i = 0; i < 300; i++) {
        snprintf(text[i], sizeof text[i], "e%d", i);
        batch[i] = (kho_tlog_entry_t){text[i], strlen(text[i])};
    }
    kho_err_t err;
    uint64_t first = 99;
    assert_int_equal(kho_tlog_append(log, batch, 300, &first, &err), 0);
    assert_int_equal(first, 0);
    kho_buf_t t = KHO_BUF_INIT;
    assert_int_equal(kho_tlog_tile(log, 0, 0, 256, &t, &err), 0);
    assert_int_equal(t.len, 256 * H);
    unsigned char l5[H];
    leaf("e5", l5);
    assert_memory_equal(t.data + 5 * H, l5, H);
    kho_buf_reset(&t);
    assert_int_equal(kho_tlog_tile(log, 0, 1, 44, &t, &err), 0); /* partial */
    assert_int_equal(t.len, 44 * H);
    kho_buf_reset(&t);
    assert_int_equal(kho_tlog_tile(log, 0, 1, 45, &t, &err), KHO_ENOTFOUND);
    assert_int_equal(kho_tlog_tile(log, 1, 0, 1, &t, &err), 0); /* level 1: the hash of 256 leaves */
    unsigned char root256[H];
    assert_int_equal(kho_tlog_root(log, 256, root256, &err), 0);
    assert_memory_equal(t.data, root256, H);
    kho_buf_reset(&t);
    assert_int_equal(kho_tlog_tile(log, -1, 1, 2, &t, &err), 0); /* entries 256, 257 */
    assert_int_equal(t.len, 2 + 4 + 2 + 4);
    assert_memory_equal(t.data, "\x00\x04" "e256" "\x00\x04" "e257", 12);
    kho_buf_free(&t);
    kho_tlog_close(log);
}

static int exec_sql(const char *dir, const char *sql)
{
    char path[256];
    snprintf(path, sizeof path, "%s/log.db", dir);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static size_t verify_report(const char *dir, char *report, size_t size)
{
    kho_tlog_t *log = open_log(dir);
    unsigned char pk[32];
    kho_tlog_public_key(SEED, pk);
    FILE *f = fmemopen(report, size, "w");
    size_t problems = 0;
    kho_err_t err;
    assert_int_equal(kho_tlog_verify(log, pk, f, &problems, &err), 0);
    fclose(f);
    kho_tlog_close(log);
    return problems;
}

static void test_verify_detects_tampering(void **state)
{
    (void)state;
    char report[4096];
    const char *dir = kt_tmpdir("tlog");
    kho_tlog_t *log = open_log(dir);
    kho_err_t err;
    append_n(log, 0, 10);
    assert_int_equal(kho_tlog_checkpoint(log, NULL, &err), 0);
    append_n(log, 10, 20);
    assert_int_equal(kho_tlog_checkpoint(log, NULL, &err), 0);
    kho_tlog_close(log);
    assert_int_equal(verify_report(dir, report, sizeof report), 0);

    /* one flipped byte in entry 7 */
    assert_int_equal(exec_sql(dir, "UPDATE entries SET data = CAST('entry 8' AS BLOB) WHERE idx = 7"), 0);
    memset(report, 0, sizeof report);
    assert_true(verify_report(dir, report, sizeof report) >= 2);
    assert_non_null(strstr(report, "entry 7: its content does not match"));
    assert_non_null(strstr(report, "checkpoint of size 10"));
    assert_null(strstr(report, "entry 8:"));
    assert_int_equal(exec_sql(dir, "UPDATE entries SET data = CAST('entry 7' AS BLOB) WHERE idx = 7"), 0);
    memset(report, 0, sizeof report);
    assert_int_equal(verify_report(dir, report, sizeof report), 0);

    /* two entries swapped (reordered) */
    assert_int_equal(exec_sql(dir, "UPDATE entries SET idx = -1 WHERE idx = 3; UPDATE entries SET idx = 3 WHERE idx = 4;"
                                   "UPDATE entries SET idx = 4 WHERE idx = -1"),
                     0);
    memset(report, 0, sizeof report);
    verify_report(dir, report, sizeof report);
    assert_non_null(strstr(report, "entry 3:"));
    assert_non_null(strstr(report, "entry 4:"));
    assert_int_equal(exec_sql(dir, "UPDATE entries SET idx = -1 WHERE idx = 3; UPDATE entries SET idx = 3 WHERE idx = 4;"
                                   "UPDATE entries SET idx = 4 WHERE idx = -1"),
                     0);

    /* an entry removed, and entries cut off the end */
    assert_int_equal(exec_sql(dir, "DELETE FROM entries WHERE idx = 12"), 0);
    memset(report, 0, sizeof report);
    verify_report(dir, report, sizeof report);
    assert_non_null(strstr(report, "entry 12: missing"));
    assert_non_null(strstr(report, "checkpoint of size 20"));
    /* a forged checkpoint (signature of other bytes) */
    assert_int_equal(exec_sql(dir, "INSERT INTO entries(idx, data) VALUES (12, CAST('entry 12' AS BLOB));"
                                   "UPDATE checkpoints SET note = replace(note, '\n10\n', '\n11\n') WHERE size = 10"),
                     0);
    memset(report, 0, sizeof report);
    verify_report(dir, report, sizeof report);
    assert_non_null(strstr(report, "checkpoint of size 10"));
}

static void test_bad_arguments(void **state)
{
    (void)state;
    const char *dir = kt_tmpdir("tlog");
    char path[256];
    snprintf(path, sizeof path, "%s/x.db", dir);
    kho_tlog_t *log = NULL;
    kho_err_t err;
    assert_int_equal(kho_tlog_open(path, "has space", SEED, &log, &err), KHO_EINVAL);
    assert_int_equal(kho_tlog_open(path, "a+b", SEED, &log, &err), KHO_EINVAL);
    assert_int_equal(kho_tlog_open(path, "kho.test/ro", NULL, &log, &err), 0);
    assert_int_equal(kho_tlog_checkpoint(log, NULL, &err), KHO_EINTERNAL);
    static char big[70000];
    kho_tlog_entry_t e = {big, sizeof big};
    assert_int_equal(kho_tlog_append(log, &e, 1, NULL, &err), KHO_ETOOLARGE);
    assert_int_equal(kho_tlog_size(log), 0);
    kho_buf_t b = KHO_BUF_INIT;
    assert_int_equal(kho_tlog_entry(log, 0, &b, &err), KHO_ENOTFOUND);
    assert_int_equal(kho_tlog_tile(log, 0, 0, 257, &b, &err), KHO_EINVAL);
    kho_buf_free(&b);
    kho_tlog_close(log);
}

int main(void)
{
    for (int i = 0; i < 32; i++)
        SEED[i] = (unsigned char)(i * 7 + 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_roots_and_proofs, kt_cleanup),
        cmocka_unit_test_teardown(test_checkpoint_note_and_key, kt_cleanup),
        cmocka_unit_test_teardown(test_tiles, kt_cleanup),
        cmocka_unit_test_teardown(test_verify_detects_tampering, kt_cleanup),
        cmocka_unit_test_teardown(test_bad_arguments, kt_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
