/* hash — SHA-256 and fast 64-bit hashing (see hash.h). */
#include "core/hash.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void kho_sha256_init(kho_sha256_t *h)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        abort(); /* only when out of memory */
    h->ctx = ctx;
}

void kho_sha256_update(kho_sha256_t *h, const void *p, size_t n)
{
    if (n)
        EVP_DigestUpdate(h->ctx, p, n);
}

void kho_sha256_final(kho_sha256_t *h, char hex[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(h->ctx, md, &len);
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
    sodium_bin2hex(hex, 65, md, sizeof md);
}

void kho_sha256_abort(kho_sha256_t *h)
{
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

static unsigned char siphash_key[crypto_shorthash_siphash24_KEYBYTES];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void make_key(void)
{
    randombytes_buf(siphash_key, sizeof siphash_key);
}

uint64_t kho_hash64(const void *p, size_t n)
{
    pthread_once(&key_once, make_key);
    const unsigned char *key = siphash_key;
    unsigned char out[crypto_shorthash_siphash24_BYTES];
    crypto_shorthash_siphash24(out, p, n, key);
    uint64_t v;
    memcpy(&v, out, sizeof v);
    return v;
}

uint64_t kho_hash_u64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

uint64_t kho_hash_fast(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0x243F6A8885A308D3ULL ^ ((uint64_t)n * 0x9E3779B97F4A7C15ULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = rotl(h ^ (w * 0x87C37B91114253D5ULL), 31) * 0x4CF5AD432745937FULL;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    h ^= w * 0x87C37B91114253D5ULL;
    return kho_hash_u64(h);
}
