/*
 * libFuzzer harness for warehouse/sandbox: any SQL text against a small data
 * directory made at the first run (an open dataset, a shared one with a
 * personal column, a private important one whose personal columns are stored
 * encrypted). The first byte picks the caller (the anonymous public, or an
 * analyst: it reads the shared dataset with its personal column masked) and
 * the output format; the rest is the SQL.
 *
 * Checked on every input:
 *   - the database never changes: the bytes of kho.db and its WAL, and PRAGMA
 *     data_version on kho's own connection, are those of the start;
 *   - nothing the caller may not read comes out, in the output or an error
 *     message: values of the private dataset (for both callers) and of the
 *     personal column (masked for the analyst, hidden from the public) are
 *     random per process, so SQL text cannot spell them; they are looked for
 *     by fingerprint (a comparison with the secret itself would let
 *     libFuzzer's compare hooks teach it the secret);
 *   - an error has a code, a kind and a message; output is valid JSON lines
 *     for JSON/NDJSON when the run succeeds (well-formed UTF-8);
 *   - no crash, leak or undefined behaviour (ASan+UBSan).
 */
#include <assert.h>
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "core/log.h"
#include "core/text.h"
#include "security/access.h"
#include "security/auth.h"
#include "security/keys.h"
#include "store/schema.h"
#include "store/store.h"
#include "warehouse/ingest.h"
#include "warehouse/sandbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSECRETS 4
#define SECRET_LEN 24

static kho_store_t *W, *R;
static kho_keyring_t *KEYS;
static char DIR_[64];
static char SECRETS[NSECRETS][SECRET_LEN + 1]; /* hex: [0..1] private, [2..3] personal (shared) */
static uint64_t SECRET_HASH[NSECRETS];
static unsigned char DIGEST[32];
static int64_t DATA_VERSION;
static kho_principal_t PUB, ANALYST;

/* A polynomial fingerprint of SECRET_LEN bytes (not a compare with the secret). */
__attribute__((no_sanitize("coverage"))) static uint64_t fingerprint(const unsigned char *p)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < SECRET_LEN; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

__attribute__((no_sanitize("coverage"))) static bool leaks(const char *s, size_t n)
{
    for (size_t i = 0; i + SECRET_LEN <= n; i++) {
        uint64_t h = fingerprint((const unsigned char *)s + i);
        for (size_t k = 0; k < NSECRETS; k++)
            if (h == SECRET_HASH[k])
                return true;
    }
    return false;
}

static void digest_files(unsigned char out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    const char *names[] = {"kho.db", "kho.db-wal"};
    for (size_t i = 0; i < 2; i++) {
        char path[128], buf[65536];
        snprintf(path, sizeof path, "%s/%s", DIR_, names[i]);
        FILE *f = fopen(path, "rb");
        size_t n;
        while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
            EVP_DigestUpdate(ctx, buf, n);
        if (f)
            fclose(f);
    }
    unsigned len = 0;
    EVP_DigestFinal_ex(ctx, out, &len);
    EVP_MD_CTX_free(ctx);
}

static void import(const char *slug, const char *csv, const char *sharing, const char *importance)
{
    kho_ingest_opts_t o = {.dataset = slug,
                           .meta = KHO_DATASET_META_INIT,
                           .reject_threshold = -1,
                           .source_name = "fuzz.csv",
                           .keys = KEYS};
    o.meta.sharing = sharing;
    o.meta.importance = importance;
    o.meta.org = "so-y-te";
    kho_source_t src = {.mem = csv, .len = strlen(csv), .name = "fuzz.csv"};
    kho_ingest_result_t res = {0};
    kho_err_t err = {0};
    if (kho_ingest(W, &src, &o, &res, &err) != 0) {
        fprintf(stderr, "fuzz_sandbox: import %s: %s\n", slug, err.msg);
        abort();
    }
    kho_ingest_result_free(&res);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* At exit: close the connections and remove the data directory. */
static void teardown(void)
{
    kho_sandbox_thread_close();
    kho_keyring_free(KEYS);
    kho_store_close(R);
    kho_store_close(W);
    nftw(DIR_, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
    kho_log_set_level(KHO_LOG_ERROR);
    if (sodium_init() < 0)
        abort();
    snprintf(DIR_, sizeof DIR_, "/tmp/kho-fuzz-sandbox-XXXXXX");
    if (!mkdtemp(DIR_))
        abort();
    for (size_t k = 0; k < NSECRETS; k++) {
        unsigned char raw[SECRET_LEN / 2];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(SECRETS[k], sizeof SECRETS[k], raw, sizeof raw);
        SECRETS[k][0] = 'z'; /* never a number: it stays text in every column */
        SECRET_HASH[k] = fingerprint((const unsigned char *)SECRETS[k]);
    }
    char path[128];
    snprintf(path, sizeof path, "%s/kho.db", DIR_);
    kho_err_t err = {0};
    if (kho_store_open(path, KHO_STORE_CREATE, NULL, &W, &err) != 0 || kho_schema_migrate(W, &err) != 0 ||
        kho_keyring_open(DIR_, W, true, &KEYS, &err) != 0) {
        fprintf(stderr, "fuzz_sandbox: %s\n", err.msg);
        abort();
    }
    import("cong-khai", "ma,ten,so,ty_le,dung\n11953,Phố Hiến,5,0.5,true\n12031,Nghĩa Trụ,7,,false\n", "open", "other");
    char csv[512];
    snprintf(csv, sizeof csv, "ma,Họ và tên,so\n11953,%s,3\n12031,%s,4\n", SECRETS[2], SECRETS[3]);
    import("chia-se", csv, "shared", "other");
    snprintf(csv, sizeof csv, "ma,Họ và tên,ghi_chu,so\n11953,Nguyễn Văn An,%s,1\n12031,%s,x,2\n", SECRETS[0],
             SECRETS[1]);
    import("rieng-tu", csv, "private", "important");
    if (kho_store_open(path, KHO_STORE_READONLY, NULL, &R, &err) != 0)
        abort();
    kho_principal_public(&PUB);
    memset(&ANALYST, 0, sizeof ANALYST);
    ANALYST.role = KHO_ROLE_ANALYST;
    ANALYST.user_id = 4242;
    ANALYST.scopes = KHO_SCOPE_DATASETS_READ;
    atexit(teardown);
    digest_files(DIGEST);
    if (kho_store_query_int(W, "PRAGMA data_version", &DATA_VERSION, &err) != 0)
        abort();
}

static int sink(void *ctx, const char *p, size_t n)
{
    kho_buf_append(ctx, p, n);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!W)
        setup();
    if (size < 1)
        return 0;
    static const kho_outfmt_t fmts[] = {KHO_OUT_JSON, KHO_OUT_CSV, KHO_OUT_NDJSON};
    kho_sandbox_query_t q = {.sql = (const char *)data + 1,
                             .len = size - 1,
                             .who = data[0] & 1 ? &ANALYST : &PUB,
                             .fmt = fmts[(data[0] >> 1) % 3],
                             .time_limit_ms = 100,
                             .max_rows = 200,
                             .max_bytes = 1 << 20,
                             .keys = KEYS};
    kho_buf_t out = KHO_BUF_INIT;
    kho_sandbox_result_t res;
    kho_err_t err = {0};
    int rc = kho_sandbox_run(R, &q, sink, &out, &res, &err);
    if (rc != 0) {
        assert(err.code == rc && err.msg[0] != '\0' && kho_err_kind(&err)[0] != '\0');
        assert(!leaks(err.msg, strlen(err.msg)));
        assert(res.offset < 0 || (size_t)res.offset <= q.len);
    } else {
        assert(kho_utf8_valid(out.data ? out.data : "", out.len, NULL) || out.len == 0);
        assert(res.rows <= q.max_rows && (int64_t)out.len <= q.max_bytes + 4096);
        assert(!leaks(out.data ? out.data : "", out.len));
    }
    kho_sandbox_result_free(&res);
    kho_buf_free(&out);
    unsigned char now[32];
    digest_files(now);
    assert(memcmp(now, DIGEST, sizeof now) == 0);
    int64_t v = -1;
    assert(kho_store_query_int(W, "PRAGMA data_version", &v, &err) == 0 && v == DATA_VERSION);
    return 0;
}
