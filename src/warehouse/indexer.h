/*
 * indexer — B-tree indexes on the columns of current dataset versions, so that
 * row filters (warehouse/query.h) are index lookups rather than scans.
 *
 * Indexes are not made at import (an import stays a straight append, and
 * `kho import` as fast as it was); the server makes the missing ones in the
 * background after each upload, at start and every few seconds (a version
 * imported by the CLI gets them too), one index per transaction, so that
 * writers wait at most one index build. A version is readable at once; it
 * becomes faster to filter when its indexes are there.
 *
 * Every column is indexed except encrypted ones (ciphertext is never
 * filtered), up to 32 per version: "ix_<table>_<column>" on (column), whose
 * entries are in row order for equal values, so an equality filter in row
 * order needs no sort.
 */
#ifndef KHO_WAREHOUSE_INDEXER_H
#define KHO_WAREHOUSE_INDEXER_H

#include <stdbool.h>

#include "core/err.h"
#include "store/store.h"

/* Make at most `max` missing indexes of current versions through w (a writable
 * connection, no transaction open); *made receives how many. *more is set when
 * some are still missing. */
int kho_index_pending(kho_store_t *w, int max, int *made, bool *more, kho_err_t *err) KHO_WUR;

#endif
