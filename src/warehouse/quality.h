/*
 * quality — per-column statistics of a loaded version for its quality report:
 * null count, distinct count, minimum and maximum.
 *
 * Distinct values are counted exactly (a set of 64-bit hashes) up to a limit,
 * then estimated with HyperLogLog (2^14 registers, about 0.8% standard error),
 * and the report says which ("distinct_is_estimate"). Memory per column is
 * bounded, so statistics never grow with the size of the file.
 */
#ifndef KHO_WAREHOUSE_QUALITY_H
#define KHO_WAREHOUSE_QUALITY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warehouse/infer.h"

typedef struct kho_colstats {
    kho_type_t type;
    uint64_t nulls, values;
    /* distinct */
    uint64_t *set;   /* open addressing, 0 = empty */
    size_t set_cap, set_count, exact_limit;
    uint8_t *hll;    /* registers once the exact set overflowed */
    /* min/max */
    bool have;
    int64_t imin, imax;
    double dmin, dmax;
    char *smin, *smax; /* text, date, datetime (malloc'd) */
    size_t lmin, lmax;
} kho_colstats_t;

/* exact_limit: distinct values counted exactly before switching to an estimate. */
void kho_colstats_init(kho_colstats_t *s, kho_type_t type, size_t exact_limit);
void kho_colstats_free(kho_colstats_t *s);
void kho_colstats_null(kho_colstats_t *s);
void kho_colstats_int(kho_colstats_t *s, int64_t v);
void kho_colstats_real(kho_colstats_t *s, double v);
void kho_colstats_text(kho_colstats_t *s, const char *v, size_t n);
uint64_t kho_colstats_distinct(const kho_colstats_t *s, bool *estimate);
/* Add nulls, distinct, distinct_is_estimate, min, max to obj. */
void kho_colstats_to_json(const kho_colstats_t *s, json_t *obj);

#endif
