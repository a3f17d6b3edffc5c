/* quality — per-column statistics (see quality.h). */
#include "warehouse/quality.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/mem.h"

#define HLL_P 14
#define HLL_M (1u << HLL_P)

void kho_colstats_init(kho_colstats_t *s, kho_type_t type, size_t exact_limit)
{
    memset(s, 0, sizeof *s);
    s->type = type;
    s->exact_limit = exact_limit < 16 ? 16 : exact_limit;
}

void kho_colstats_free(kho_colstats_t *s)
{
    free(s->set);
    free(s->hll);
    free(s->smin);
    free(s->smax);
    memset(s, 0, sizeof *s);
}

static void hll_add(uint8_t *reg, uint64_t h)
{
    uint32_t idx = (uint32_t)(h >> (64 - HLL_P));
    uint64_t rest = h << HLL_P;
    uint8_t rank = rest ? (uint8_t)(__builtin_clzll(rest) + 1) : (uint8_t)(64 - HLL_P + 1);
    if (rank > reg[idx])
        reg[idx] = rank;
}

static uint64_t hll_estimate(const uint8_t *reg)
{
    double sum = 0;
    unsigned zeros = 0;
    for (unsigned i = 0; i < HLL_M; i++) {
        sum += ldexp(1.0, -reg[i]);
        zeros += reg[i] == 0;
    }
    double m = HLL_M, alpha = 0.7213 / (1 + 1.079 / m);
    double e = alpha * m * m / sum;
    if (e <= 2.5 * m && zeros)
        e = m * log(m / zeros);
    return (uint64_t)(e + 0.5);
}

static void set_insert(uint64_t *set, size_t cap, uint64_t h, size_t *count)
{
    size_t i = (size_t)h & (cap - 1);
    while (set[i]) {
        if (set[i] == h)
            return;
        i = (i + 1) & (cap - 1);
    }
    set[i] = h;
    (*count)++;
}

static bool set_contains(const uint64_t *set, size_t cap, uint64_t h)
{
    if (!cap)
        return false;
    size_t i = (size_t)h & (cap - 1);
    while (set[i]) {
        if (set[i] == h)
            return true;
        i = (i + 1) & (cap - 1);
    }
    return false;
}

/* Count a value's hash: exactly while at most exact_limit distinct values were
 * seen, then in HyperLogLog registers (seeded with the exact set). */
static void add_hash(kho_colstats_t *s, uint64_t h)
{
    if (h == 0)
        h = 1;
    if (s->hll) {
        hll_add(s->hll, h);
        return;
    }
    if (set_contains(s->set, s->set_cap, h))
        return;
    if (s->set_count >= s->exact_limit) { /* one distinct value too many: switch to the estimate */
        s->hll = kho_xcalloc(HLL_M, 1);
        for (size_t i = 0; i < s->set_cap; i++)
            if (s->set[i])
                hll_add(s->hll, s->set[i]);
        hll_add(s->hll, h);
        free(s->set);
        s->set = NULL;
        s->set_cap = 0;
        return;
    }
    if ((s->set_count + 1) * 2 > s->set_cap) {
        size_t cap = s->set_cap ? s->set_cap * 2 : 64;
        uint64_t *n = kho_xcalloc(cap, sizeof *n);
        size_t cnt = 0;
        for (size_t i = 0; i < s->set_cap; i++)
            if (s->set[i])
                set_insert(n, cap, s->set[i], &cnt);
        free(s->set);
        s->set = n;
        s->set_cap = cap;
    }
    set_insert(s->set, s->set_cap, h, &s->set_count);
}

void kho_colstats_null(kho_colstats_t *s)
{
    s->nulls++;
}

void kho_colstats_int(kho_colstats_t *s, int64_t v)
{
    s->values++;
    add_hash(s, kho_hash_fast(&v, sizeof v));
    if (!s->have || v < s->imin)
        s->imin = v;
    if (!s->have || v > s->imax)
        s->imax = v;
    s->have = true;
}

void kho_colstats_real(kho_colstats_t *s, double v)
{
    s->values++;
    uint64_t bits;
    double z = v == 0 ? 0 : v; /* -0 and 0 are one value */
    memcpy(&bits, &z, sizeof bits);
    add_hash(s, kho_hash_fast(&bits, sizeof bits));
    if (!s->have || v < s->dmin)
        s->dmin = v;
    if (!s->have || v > s->dmax)
        s->dmax = v;
    s->have = true;
}

static int cmp_text(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

void kho_colstats_text(kho_colstats_t *s, const char *v, size_t n)
{
    s->values++;
    add_hash(s, kho_hash_fast(v, n));
    if (!s->have || cmp_text(s->smin, s->lmin, v, n) > 0) {
        free(s->smin);
        s->smin = kho_xstrndup(v, n);
        s->lmin = n;
    }
    if (!s->have || cmp_text(s->smax, s->lmax, v, n) < 0) {
        free(s->smax);
        s->smax = kho_xstrndup(v, n);
        s->lmax = n;
    }
    s->have = true;
}

uint64_t kho_colstats_distinct(const kho_colstats_t *s, bool *estimate)
{
    *estimate = s->hll != NULL;
    return s->hll ? hll_estimate(s->hll) : s->set_count;
}

static json_t *text_excerpt(const char *s)
{
    char out[120];
    kho_excerpt(s, strlen(s), out, sizeof out);
    return json_string(out);
}

void kho_colstats_to_json(const kho_colstats_t *s, json_t *obj)
{
    bool est;
    json_object_set_new(obj, "nulls", json_integer((json_int_t)s->nulls));
    json_object_set_new(obj, "distinct", json_integer((json_int_t)kho_colstats_distinct(s, &est)));
    json_object_set_new(obj, "distinct_is_estimate", json_boolean(est));
    json_t *mn = json_null(), *mx = json_null();
    if (s->have) {
        switch (s->type) {
        case KHO_TYPE_INTEGER:
        case KHO_TYPE_BOOLEAN:
            mn = json_integer(s->imin);
            mx = json_integer(s->imax);
            if (s->type == KHO_TYPE_BOOLEAN) {
                json_decref(mn);
                json_decref(mx);
                mn = json_boolean(s->imin);
                mx = json_boolean(s->imax);
            }
            break;
        case KHO_TYPE_REAL:
            mn = json_real(s->dmin);
            mx = json_real(s->dmax);
            break;
        default:
            mn = text_excerpt(s->smin);
            mx = text_excerpt(s->smax);
        }
    }
    json_object_set_new(obj, "min", mn);
    json_object_set_new(obj, "max", mx);
}
