/* strmap — open-addressing string hash map (see strmap.h). */
#include "core/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/mem.h"

typedef struct slot {
    char *key; /* NULL: empty */
    size_t len;
    uint64_t hash;
    size_t value;
} slot_t;

struct kho_strmap {
    slot_t *slots;
    size_t cap; /* power of two */
    size_t count;
};

kho_strmap_t *kho_strmap_new(void)
{
    kho_strmap_t *m = kho_xcalloc(1, sizeof *m);
    m->cap = 16;
    m->slots = kho_xcalloc(m->cap, sizeof *m->slots);
    return m;
}

void kho_strmap_free(kho_strmap_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    free(m);
}

static slot_t *find(const kho_strmap_t *m, const char *key, size_t n, uint64_t h)
{
    size_t i = (size_t)h & (m->cap - 1);
    for (;;) {
        slot_t *s = &m->slots[i];
        if (!s->key || (s->hash == h && s->len == n && memcmp(s->key, key, n) == 0))
            return s;
        i = (i + 1) & (m->cap - 1);
    }
}

static void grow(kho_strmap_t *m)
{
    slot_t *old = m->slots;
    size_t oldcap = m->cap;
    m->cap *= 2;
    m->slots = kho_xcalloc(m->cap, sizeof *m->slots);
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].key)
            *find(m, old[i].key, old[i].len, old[i].hash) = old[i];
    free(old);
}

void kho_strmap_put(kho_strmap_t *m, const char *key, size_t n, size_t value)
{
    if ((m->count + 1) * 4 > m->cap * 3)
        grow(m);
    uint64_t h = kho_hash64(key, n);
    slot_t *s = find(m, key, n, h);
    if (!s->key) {
        s->key = kho_xstrndup(key, n);
        s->len = n;
        s->hash = h;
        m->count++;
    }
    s->value = value;
}

bool kho_strmap_get(const kho_strmap_t *m, const char *key, size_t n, size_t *value)
{
    slot_t *s = find(m, key, n, kho_hash64(key, n));
    if (!s->key)
        return false;
    if (value)
        *value = s->value;
    return true;
}

size_t kho_strmap_count(const kho_strmap_t *m)
{
    return m->count;
}
