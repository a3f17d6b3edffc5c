/* respcache — per-thread cache of immutable responses (see respcache.h). */
#include "api/respcache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

typedef struct entry {
    char *key;
    char *body;
    size_t len, klen;
    uint64_t hash;
    struct entry *next;              /* bucket chain */
    struct entry *older, *newer;     /* LRU list */
} entry_t;

typedef struct cache {
    entry_t **buckets;
    size_t nbuckets, n, bytes;
    entry_t *oldest, *newest;
} cache_t;

static size_t budget = 0;
static _Thread_local cache_t *tls;

void kho_respcache_budget(size_t bytes)
{
    budget = bytes;
}

static uint64_t hash_of(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void lru_unlink(cache_t *c, entry_t *e)
{
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    e->older = e->newer = NULL;
}

static void lru_push(cache_t *c, entry_t *e)
{
    e->older = c->newest;
    e->newer = NULL;
    if (c->newest)
        c->newest->newer = e;
    c->newest = e;
    if (!c->oldest)
        c->oldest = e;
}

static entry_t **slot(cache_t *c, const char *key, size_t klen, uint64_t h)
{
    entry_t **p = &c->buckets[h & (c->nbuckets - 1)];
    while (*p && !((*p)->hash == h && (*p)->klen == klen && memcmp((*p)->key, key, klen) == 0))
        p = &(*p)->next;
    return p;
}

static void drop(cache_t *c, entry_t *e)
{
    entry_t **p = slot(c, e->key, e->klen, e->hash);
    *p = e->next;
    lru_unlink(c, e);
    c->n--;
    c->bytes -= e->len + e->klen;
    free(e->key);
    free(e->body);
    free(e);
}

const char *kho_respcache_get(const char *key, size_t *len)
{
    cache_t *c = tls;
    if (!c || !c->n)
        return NULL;
    size_t klen = strlen(key);
    entry_t *e = *slot(c, key, klen, hash_of(key, klen));
    if (!e)
        return NULL;
    lru_unlink(c, e);
    lru_push(c, e);
    *len = e->len;
    return e->body;
}

void kho_respcache_put(const char *key, const char *body, size_t len)
{
    size_t klen = strlen(key);
    if (budget == 0 || len + klen > budget / 8)
        return;
    cache_t *c = tls;
    if (!c) {
        c = tls = kho_xcalloc(1, sizeof *c);
        c->nbuckets = 1024;
        c->buckets = kho_xcalloc(c->nbuckets, sizeof *c->buckets);
    }
    uint64_t h = hash_of(key, klen);
    entry_t *old = *slot(c, key, klen, h);
    if (old)
        drop(c, old);
    while (c->oldest && c->bytes + len + klen > budget)
        drop(c, c->oldest);
    if (c->n >= c->nbuckets) { /* keep chains short: double the table */
        size_t nb = c->nbuckets * 2;
        entry_t **b = kho_xcalloc(nb, sizeof *b);
        for (size_t i = 0; i < c->nbuckets; i++)
            for (entry_t *e = c->buckets[i], *next; e; e = next) {
                next = e->next;
                e->next = b[e->hash & (nb - 1)];
                b[e->hash & (nb - 1)] = e;
            }
        free(c->buckets);
        c->buckets = b;
        c->nbuckets = nb;
    }
    entry_t *e = kho_xcalloc(1, sizeof *e);
    e->key = kho_xstrndup(key, klen);
    e->klen = klen;
    e->body = kho_xmalloc(len ? len : 1);
    memcpy(e->body, body, len);
    e->len = len;
    e->hash = h;
    entry_t **p = &c->buckets[h & (c->nbuckets - 1)];
    e->next = *p;
    *p = e;
    lru_push(c, e);
    c->n++;
    c->bytes += len + klen;
}

void kho_respcache_clear(void)
{
    cache_t *c = tls;
    if (!c)
        return;
    while (c->oldest)
        drop(c, c->oldest);
    free(c->buckets);
    free(c);
    tls = NULL;
}

void kho_respcache_stats(size_t *entries, size_t *bytes)
{
    *entries = tls ? tls->n : 0;
    *bytes = tls ? tls->bytes : 0;
}
