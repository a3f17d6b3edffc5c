/*
 * units — Vietnam's administrative units: the 2025 lists, the pre-2025 list and
 * the old-to-new conversion table.
 *
 * Since 1 July 2025 Vietnam has two levels: 34 provinces (2-digit codes) and
 * 3,321 communes, wards and special zones (5-digit codes). Before, it had three:
 * 63 provinces, about 700 districts (3-digit codes) and about 10,000 communes.
 * kho keeps both eras ("current" and "old") in one table, and the official
 * conversion table that says which old communes (whole or in part) make up each
 * new one, so that data reported against old codes can be followed forward.
 *
 * The source files are real and imperfect; loading reports every gap it finds
 * (kho_units_gaps) instead of hiding it: a conversion row whose new code is not
 * in the 2025 list, a 2025 commune with no conversion row, an old code missing
 * from the old list, an old commune with no conversion row, an old row with no
 * commune code.
 *
 * Search folds case and diacritics (đ = d), so "nghia tru", "Nghĩa Trụ" and
 * "NGHIA TRU" all find Xã Nghĩa Trụ; when the query carries tone marks, a match
 * with the same marks ranks above one that matches only when folded.
 */
#ifndef KHO_WAREHOUSE_UNITS_H
#define KHO_WAREHOUSE_UNITS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/strmap.h"
#include "store/store.h"

typedef struct kho_units_summary {
    size_t provinces, communes, old_provinces, old_districts, old_communes, conversions, gaps;
    bool unchanged; /* the files were already loaded: nothing done */
} kho_units_summary_t;

/* Load provinces.csv, communes.csv, communes-before-2025-07.csv and
 * conversion-2025-07.csv from dir into the unit tables, replacing what was
 * there, in one transaction. Skips the work when the same files (by SHA-256)
 * are already loaded, unless `force`. */
int kho_units_load(kho_store_t *w, const char *dir, bool force, kho_units_summary_t *sum,
                   kho_err_t *err) KHO_WUR;

/* Gaps found at load: a JSON array of {"kind","code","detail"} (new reference). */
int kho_units_gaps(kho_store_t *s, json_t **out, kho_err_t *err) KHO_WUR;

/* Flags of a code in the code set. */
enum {
    KHO_UNIT_COMMUNE = 1,      /* a 2025 commune */
    KHO_UNIT_OLD_COMMUNE = 2,  /* a pre-2025 commune */
    KHO_UNIT_PROVINCE = 4,     /* a 2025 province */
    KHO_UNIT_OLD_PROVINCE = 8, /* a pre-2025 province */
};
/* Every known commune and province code with its flags (a new map the caller
 * frees with kho_strmap_free). Empty when the units are not loaded. */
int kho_units_codeset(kho_store_t *s, kho_strmap_t **out, kho_err_t *err) KHO_WUR;

typedef struct kho_units_query {
    const char *q;        /* name (folded match) or code prefix; NULL: all */
    const char *province; /* 2-digit code: units of this province */
    const char *type;     /* "xã", "phường", "tỉnh" ... (folded match) */
    const char *level;    /* province, district, commune */
    const char *era;      /* current (default), old, all */
    long limit, offset;
} kho_units_query_t;

/* Search: {"total": n, "units": [...]} (new reference). KHO_EINVAL on bad filters. */
int kho_units_search(kho_store_t *s, const kho_units_query_t *q, json_t **out, kho_err_t *err) KHO_WUR;

/* One unit by code with its province and its predecessors (a 2025 unit) or
 * successors (a pre-2025 unit). `era` NULL prefers the current unit. */
int kho_units_get(kho_store_t *s, const char *code, const char *era, json_t **out, kho_err_t *err) KHO_WUR;

#endif
