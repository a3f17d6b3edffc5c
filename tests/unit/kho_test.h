/*
 * kho_test.h — small helpers shared by the unit tests.
 *
 * cmocka leaves a failing test by longjmp, so memory freed at the end of a test
 * would leak (and LeakSanitizer would fail the ASan run) exactly when a test
 * reports a bug. Resources registered with kt_defer() are released by
 * kt_cleanup(), which tests run as their teardown (cmocka calls it whether the
 * test passed or failed); kt_release() releases one early, on the success path.
 *
 * Also: temporary directories removed recursively at teardown, and SHA-256 via
 * OpenSSL directly (independent of kho's own hash wrapper).
 */
#ifndef KHO_TEST_H
#define KHO_TEST_H

#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"

typedef void (*kt_free_fn)(void *);

#define KT_MAX_DEFERRED 1024
static struct {
    kt_free_fn fn;
    void *p;
} kt_deferred[KT_MAX_DEFERRED];
static size_t kt_ndeferred;

/* Release p with fn at teardown (or at kt_release). Returns p. */
static inline void *kt_defer(kt_free_fn fn, void *p)
{
    if (kt_ndeferred == KT_MAX_DEFERRED) {
        fprintf(stderr, "kho_test.h: too many deferred releases\n");
        abort();
    }
    kt_deferred[kt_ndeferred].fn = fn;
    kt_deferred[kt_ndeferred].p = p;
    kt_ndeferred++;
    return p;
}

/* Release a deferred resource now. */
static inline void kt_release(void *p)
{
    for (size_t i = kt_ndeferred; i-- > 0;)
        if (kt_deferred[i].p == p) {
            kt_free_fn fn = kt_deferred[i].fn;
            memmove(&kt_deferred[i], &kt_deferred[i + 1], (kt_ndeferred - i - 1) * sizeof kt_deferred[0]);
            kt_ndeferred--;
            fn(p);
            return;
        }
    fprintf(stderr, "kho_test.h: kt_release of an unregistered pointer\n");
    abort();
}

/* Teardown: release everything still registered, newest first. */
static inline int kt_cleanup(void **state)
{
    (void)state;
    while (kt_ndeferred > 0) {
        kt_ndeferred--;
        kt_deferred[kt_ndeferred].fn(kt_deferred[kt_ndeferred].p);
    }
    return 0;
}

/* A heap buffer released at teardown. */
static inline void kt_buf_destroy(void *p)
{
    kho_buf_free(p);
    free(p);
}

static inline kho_buf_t *kt_buf(void)
{
    return kt_defer(kt_buf_destroy, calloc(1, sizeof(kho_buf_t)));
}

/* malloc that is released at teardown. */
static inline void *kt_malloc(size_t n)
{
    return kt_defer(free, malloc(n ? n : 1));
}

/* ---- temporary directories -------------------------------------------------------- */

static inline int kt_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void kt_rm_rf(void *path)
{
    nftw(path, kt_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(path);
}

/* Create /tmp/kho-<tag>-XXXXXX, removed with everything in it at teardown.
 * Returns the path (valid until then). */
static inline const char *kt_tmpdir(const char *tag)
{
    char tmpl[128];
    snprintf(tmpl, sizeof tmpl, "/tmp/kho-%s-XXXXXX", tag);
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        abort();
    }
    return kt_defer(kt_rm_rf, strdup(tmpl));
}

/* Write data to dir/name; returns the path (valid until teardown). */
static inline const char *kt_write_file(const char *dir, const char *name, const void *data, size_t n)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = kt_malloc(len);
    snprintf(path, len, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        perror(path);
        abort();
    }
    fclose(f);
    return path;
}

/* ---- the repository's data ------------------------------------------------------- */

static inline bool kt_is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* data/units: $KHO_UNITS_DIR, else ./data/units, else relative to this binary
 * (build/<variant>/tests/x_test -> ../../../data/units). */
static inline bool kt_find_units(char *out, size_t size)
{
    const char *env = getenv("KHO_UNITS_DIR");
    if (env && kt_is_dir(env)) {
        snprintf(out, size, "%s", env);
        return true;
    }
    if (kt_is_dir("data/units")) {
        snprintf(out, size, "data/units");
        return true;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    char *d = exe;
    for (int i = 0; i < 4; i++)
        d = dirname(d);
    snprintf(out, size, "%s/data/units", d);
    return kt_is_dir(out);
}

/* ---- digests ---------------------------------------------------------------------- */

static inline void kt_sha256_hex(const void *p, size_t n, char hex[65])
{
    unsigned char md[32];
    unsigned len = 0;
    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

#endif
