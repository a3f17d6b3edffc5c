/*
 * hash — SHA-256 of content (OpenSSL's libcrypto, which uses the CPU's SHA
 * instructions where present) and a fast 64-bit hash for counting distinct values.
 */
#ifndef KHO_CORE_HASH_H
#define KHO_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct kho_sha256 {
    void *ctx; /* EVP_MD_CTX */
} kho_sha256_t;

/* Start a digest; kho_sha256_final() releases it. */
void kho_sha256_init(kho_sha256_t *h);
void kho_sha256_update(kho_sha256_t *h, const void *p, size_t n);
/* Finish and write the digest as 64 lower-case hex digits plus NUL. */
void kho_sha256_final(kho_sha256_t *h, char hex[65]);
/* Release a digest that will not be finished (NULL-safe on an unstarted one). */
void kho_sha256_abort(kho_sha256_t *h);

/* 64-bit keyed hash (SipHash-2-4) of a byte string, with a key drawn at random
 * once per process, so that hash tables keyed by client data (JSON keys) cannot
 * be flooded with chosen collisions. */
uint64_t kho_hash64(const void *p, size_t n);
/* Fast 64-bit hash of a byte string, not keyed: for statistics (distinct counts),
 * where a collision only miscounts. */
uint64_t kho_hash_fast(const void *p, size_t n);
/* Mix a 64-bit value into a well-distributed hash (splitmix64 finaliser). */
uint64_t kho_hash_u64(uint64_t x);

#endif
