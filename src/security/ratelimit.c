/* ratelimit — striped token-bucket table (see ratelimit.h). */
#include "security/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define STRIPES 16
#define SLOTS 2048 /* per stripe: 32768 buckets, about 1 MiB */
#define PROBES 8

typedef struct bucket {
    uint64_t key; /* 0: empty */
    uint64_t last_ms;
    double tokens;
} bucket_t;

typedef struct stripe {
    pthread_mutex_t mu;
    bucket_t slot[SLOTS];
} stripe_t;

struct kho_ratelimit {
    unsigned char hkey[crypto_shorthash_KEYBYTES];
    stripe_t stripe[STRIPES];
};

int kho_rate_parse(const char *spec, kho_rate_t *out, kho_err_t *err)
{
    if (strcmp(spec, "off") == 0) {
        *out = (kho_rate_t){0, 0};
        return 0;
    }
    char *end;
    double r = strtod(spec, &end), b = 2 * r;
    if (end != spec && *end == '/') {
        const char *p = end + 1;
        b = strtod(p, &end);
        if (end == p)
            end = (char *)p - 1; /* "R/" alone is malformed */
    }
    if (end == spec || *end || !(r > 0) || !(b >= 1) || r > 1e9 || b > 1e9)
        return kho_err_setk(err, KHO_EINVAL, "bad_setting",
                            "a rate is 'R/B' (R requests a second, bursts of B, B >= 1), 'R' or 'off', not '%.40s'",
                            spec);
    *out = (kho_rate_t){r, b};
    return 0;
}

kho_ratelimit_t *kho_ratelimit_new(void)
{
    kho_ratelimit_t *rl = kho_xcalloc(1, sizeof *rl);
    crypto_shorthash_keygen(rl->hkey);
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_init(&rl->stripe[i].mu, NULL);
    return rl;
}

void kho_ratelimit_free(kho_ratelimit_t *rl)
{
    if (!rl)
        return;
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&rl->stripe[i].mu);
    free(rl);
}

/* Tokens in b at now (refilled since its last use, capped at burst). */
static double level(const bucket_t *b, const kho_rate_t *r, uint64_t now_ms)
{
    double t = b->tokens + (double)(now_ms - (now_ms > b->last_ms ? b->last_ms : now_ms)) / 1000.0 * r->rate;
    return t > r->burst ? r->burst : t;
}

/* The slot of key h: its own, else an empty one, else the fullest (stalest). */
static bucket_t *find(stripe_t *s, uint64_t h, const kho_rate_t *r, uint64_t now_ms)
{
    bucket_t *victim = NULL;
    double best = -1;
    for (size_t i = 0; i < PROBES; i++) {
        bucket_t *b = &s->slot[(h + i) % SLOTS];
        if (b->key == h)
            return b;
        double lv = b->key == 0 ? INFINITY : level(b, r, now_ms);
        if (lv > best) {
            best = lv;
            victim = b;
        }
    }
    victim->key = h;
    victim->tokens = r->burst;
    victim->last_ms = now_ms;
    return victim;
}

bool kho_ratelimit_take(kho_ratelimit_t *rl, const void *key, size_t n, const kho_rate_t *r, uint64_t now_ms,
                        int *retry_after)
{
    *retry_after = 0;
    if (r->rate <= 0)
        return true;
    unsigned char hb[crypto_shorthash_BYTES];
    crypto_shorthash(hb, key, n, rl->hkey);
    uint64_t h;
    memcpy(&h, hb, sizeof h);
    h |= 1; /* never 0, the empty mark */
    stripe_t *s = &rl->stripe[(h >> 32) % STRIPES];
    pthread_mutex_lock(&s->mu);
    bucket_t *b = find(s, h, r, now_ms);
    double t = level(b, r, now_ms);
    bool ok = t >= 1.0;
    if (ok)
        t -= 1.0;
    else
        *retry_after = (int)ceil((1.0 - t) / r->rate);
    b->tokens = t;
    b->last_ms = now_ms > b->last_ms ? now_ms : b->last_ms;
    pthread_mutex_unlock(&s->mu);
    if (!ok && *retry_after < 1)
        *retry_after = 1;
    return ok;
}
