/*
 * mem — allocation wrappers for small internal allocations.
 *
 * kho treats running out of memory on a small internal allocation as fatal: the
 * wrappers log one line and abort, so callers need no error path for them.
 * Sizes that come from a client (a request body, a field, a query limit) must be
 * checked against configured limits by the caller before they reach these.
 */
#ifndef KHO_CORE_MEM_H
#define KHO_CORE_MEM_H

#include <stddef.h>

/* malloc/calloc/realloc/strdup that never return NULL. The caller frees with free(). */
void *kho_xmalloc(size_t n);
void *kho_xcalloc(size_t count, size_t size);
void *kho_xrealloc(void *p, size_t n);
char *kho_xstrdup(const char *s);
/* Copy of the first n bytes of s, NUL-terminated. */
char *kho_xstrndup(const char *s, size_t n);

/* Grow a dynamic array so that it holds at least `need` elements of `elem` bytes.
 * *cap is updated; the array is reallocated when needed (doubling). */
void *kho_xgrow(void *arr, size_t *cap, size_t need, size_t elem);

#endif
