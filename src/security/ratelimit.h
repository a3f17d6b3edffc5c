/*
 * ratelimit — token buckets per credential and per client address.
 *
 * A bucket holds up to `burst` tokens and refills at `rate` tokens a second; a
 * request takes one. Buckets are kept in a fixed-size table (memory does not
 * grow with the number of clients): keys are hashed with a random SipHash key,
 * and when a slot is needed the stalest of a few candidates is reused (a
 * bucket that has refilled is the same as a new one). Thread-safe: the table is
 * split into stripes, each with its own lock.
 */
#ifndef KHO_SECURITY_RATELIMIT_H
#define KHO_SECURITY_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct kho_rate {
    double rate;  /* tokens per second; 0: unlimited */
    double burst; /* bucket size */
} kho_rate_t;

/* "R/B" (R requests a second, bursts of B), "R" (B = 2R) or "off". */
int kho_rate_parse(const char *spec, kho_rate_t *out, kho_err_t *err) KHO_WUR;

typedef struct kho_ratelimit kho_ratelimit_t;

kho_ratelimit_t *kho_ratelimit_new(void);
void kho_ratelimit_free(kho_ratelimit_t *rl);

/* Take a token from the bucket of `key` (n bytes) at time now_ms (monotonic).
 * True when allowed; otherwise *retry_after is the whole seconds (>= 1) until a
 * token is back. */
bool kho_ratelimit_take(kho_ratelimit_t *rl, const void *key, size_t n, const kho_rate_t *r, uint64_t now_ms,
                        int *retry_after);

#endif
