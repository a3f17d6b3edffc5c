/*
 * respcache — a cache of whole responses for immutable content, one per thread.
 *
 * A dataset version never changes once committed, so the answer to the same
 * query over the same version, for a caller who sees it the same way, is
 * always the same bytes. Handlers key such answers by a string that names all
 * of that (dataset, version, view, format, the query string) and keep them
 * here; a new version has a new key, so an entry is never stale, only unused.
 *
 * Each thread (each event loop) has its own cache, so lookups take no lock.
 * Entries are evicted least-recently-used first when the thread's budget
 * (kho_respcache_budget) is passed. Only responses without personal or
 * audited data belong here: the caller decides.
 */
#ifndef KHO_API_RESPCACHE_H
#define KHO_API_RESPCACHE_H

#include <stdbool.h>
#include <stddef.h>

/* Set the byte budget of every thread's cache (0 disables caching). Call
 * before the threads start. */
void kho_respcache_budget(size_t bytes);

/* The body stored under key, or NULL; *len receives its length. The pointer
 * stays valid until the next kho_respcache_put on this thread. */
const char *kho_respcache_get(const char *key, size_t *len);

/* Store a copy of body under key (replacing any). Bodies larger than an
 * eighth of the budget are not stored. */
void kho_respcache_put(const char *key, const char *body, size_t len);

/* Drop this thread's cache (at thread exit). */
void kho_respcache_clear(void);

/* Entries and bytes held by this thread's cache. */
void kho_respcache_stats(size_t *entries, size_t *bytes);

#endif
