/*
 * strmap — a small hash map from strings to size_t values.
 *
 * Keys are copied and owned by the map. Used for column names, JSON keys and
 * code sets; not for millions of entries (it never shrinks). Not thread-safe.
 */
#ifndef KHO_CORE_STRMAP_H
#define KHO_CORE_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct kho_strmap kho_strmap_t;

kho_strmap_t *kho_strmap_new(void);
void kho_strmap_free(kho_strmap_t *m);
/* Insert or replace. */
void kho_strmap_put(kho_strmap_t *m, const char *key, size_t n, size_t value);
/* True and *value when present. */
bool kho_strmap_get(const kho_strmap_t *m, const char *key, size_t n, size_t *value);
size_t kho_strmap_count(const kho_strmap_t *m);

#endif
