/*
 * query — row queries over one version of a dataset: filters, full-text search,
 * sort, projection, keyset pagination, counts and facets; and grouped aggregates.
 *
 * A query is built from request parameters (kho_query_parse) or piece by piece
 * (kho_query_add_filter, kho_query_set_sort, ... — what the CKAN actions use),
 * then run with kho_query_open / kho_query_next, which write each row in the
 * caller's format. Every value a client gives is bound as an SQL parameter;
 * column names only ever come from the version's own column list, so no text of
 * a client reaches the SQL.
 *
 * Filters (parameter name = column name, with an optional operator suffix):
 *   col=v  col__ne  col__gt  col__gte  col__lt  col__lte  col__in=a,b,c
 *   col__contains  col__startswith  col__isnull=true|false
 * Values are read by the column's type: integers and reals (Vietnamese
 * "1.234,5" and "1234.5"), booleans (true/false, có/không, 1/0), dates
 * (YYYY-MM-DD or dd/mm/yyyy), datetimes, text (NFC); a value the type cannot
 * read is KHO_EINVAL naming the column and the value. __contains and
 * __startswith compare folded text (no case, no tone marks, đ = d). Several
 * filters are ANDed; a repeated parameter (col=a&col=b) means either value.
 *
 * Full-text (q=...): over the version's text columns that are not personal,
 * through its FTS5 index (made at ingest). Words are matched as prefixes of the
 * folded words of a row, so "nhan long" finds "Nhãn lồng"; when the query has
 * tone marks, rows containing the words exactly as written come first.
 *
 * Sort (_sort=col,-col2): ascending, "-" descending; the row number (_row) is
 * always the last key, so the order is total. Pagination is keyset: each row
 * has a cursor (its sort values and row number, tied to the version) and
 * _after=<cursor> continues after it, with an index seek when the sort has one
 * column, never an OFFSET scan. A cursor of another version or dataset, or one
 * that does not decode, is KHO_EINVAL.
 *
 * Personal data: columns tagged personal or sensitive cannot be filtered,
 * searched, sorted or faceted by a caller whose view masks them (KHO_EFORBIDDEN
 * naming the column), and encrypted columns cannot be filtered or sorted by
 * anyone (their stored values are ciphertext); they are still returned, masked
 * or decrypted, as rows.h says.
 *
 * Memory: a query owns copies of everything it keeps; kho_query_free releases
 * them. A run (kho_qrun_t) holds one prepared statement on the store; the
 * store must stay open and in the same thread until kho_query_close.
 */
#ifndef KHO_WAREHOUSE_QUERY_H
#define KHO_WAREHOUSE_QUERY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"
#include "warehouse/catalog.h"
#include "warehouse/rows.h"

#define KHO_QUERY_MAX_FILTERS 32
#define KHO_QUERY_MAX_SORT 8
#define KHO_QUERY_MAX_FACETS 8
#define KHO_QUERY_MAX_IN 100
#define KHO_QUERY_ROW (-1)   /* the row number as a sort key */
#define KHO_QUERY_EXACT (-2) /* 1 when a row has the words of q= exactly as written (with their tone marks) */

typedef enum {
    KHO_OP_EQ,
    KHO_OP_NE,
    KHO_OP_GT,
    KHO_OP_GTE,
    KHO_OP_LT,
    KHO_OP_LTE,
    KHO_OP_IN,
    KHO_OP_CONTAINS,
    KHO_OP_STARTSWITH,
    KHO_OP_ISNULL
} kho_op_t;

/* A value as bound to SQL. */
typedef struct kho_qval {
    kho_val_type_t type; /* KHO_VAL_NULL, KHO_VAL_INT, KHO_VAL_REAL or KHO_VAL_TEXT */
    int64_t i;
    double d;
    char *s; /* owned */
} kho_qval_t;

typedef struct kho_qfilter {
    int col; /* index in v->cols */
    kho_op_t op;
    kho_qval_t *vals; /* one, or several for __in and repeated parameters */
    size_t nvals;
} kho_qfilter_t;

typedef struct kho_qsort {
    int col; /* index in v->cols, KHO_QUERY_ROW or KHO_QUERY_EXACT */
    bool desc;
} kho_qsort_t;

typedef struct kho_query {
    const kho_version_info_t *v; /* borrowed: must outlive the query */
    const char *dataset;         /* borrowed: the dataset's id (slug), for cursors and links */
    kho_qfilter_t filters[KHO_QUERY_MAX_FILTERS];
    size_t nfilters;
    char *text; /* q=, NFC (owned; NULL when none) */
    kho_qsort_t sort[KHO_QUERY_MAX_SORT + 1]; /* the last is always _row */
    size_t nsort;
    int *fields; /* columns to return, in order (owned); NULL: all */
    size_t nfields;
    int64_t limit;    /* rows per page */
    int64_t offset;   /* rows to skip (CKAN's offset; the REST API uses cursors) */
    kho_qval_t *after; /* decoded cursor: nsort values (the last the row number); owned */
    bool has_after;
    bool count;       /* _count=true */
    bool distinct;    /* CKAN's distinct: drop repeated rows of the returned fields */
    int facets[KHO_QUERY_MAX_FACETS];
    size_t nfacets;
    kho_outfmt_t format; /* _format (default JSON) */
    bool format_set;
    bool limit_set;   /* _limit was given */
    bool sort_set;    /* _sort was given */
} kho_query_t;

typedef struct kho_query_limits {
    int64_t default_limit, max_limit; /* for JSON pages; CSV/NDJSON exports have no limit unless _limit is given */
} kho_query_limits_t;

/* One request parameter. */
typedef struct kho_qparam {
    const char *key, *val;
} kho_qparam_t;

/* Start an empty query over v (all columns, file order, default limit). */
void kho_query_init(kho_query_t *q, const kho_version_info_t *v, const char *dataset, int64_t limit);
void kho_query_free(kho_query_t *q);

/* Fill q from request parameters. Reserved names: q, _sort, _fields, _limit,
 * _after, _offset (skip rows; a seek in file order), _count, _facet, _format,
 * version (read by the caller), and the names
 * in `also` (NULL-terminated, may be NULL: parameters the caller reads itself).
 * Every other name must be a column with an optional __operator; otherwise
 * KHO_EINVAL ("unknown column 'x'; the columns are a, b, c"). */
int kho_query_parse(kho_query_t *q, const kho_qparam_t *params, size_t n, const char *const *also,
                    const kho_query_limits_t *lim, kho_err_t *err) KHO_WUR;

/* Pieces, for callers that build a query themselves. `op` is an operator name
 * ("eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "startswith",
 * "isnull"); the value is text read by the column's type ("in": comma-separated). */
int kho_query_add_filter(kho_query_t *q, const char *col, const char *op, const char *value, kho_err_t *err) KHO_WUR;
/* "col,-col2" (or CKAN's "col asc, col2 desc" when `ckan`). */
int kho_query_set_sort(kho_query_t *q, const char *spec, bool ckan, kho_err_t *err) KHO_WUR;
/* "a,b,c"; the named columns in that order. */
int kho_query_set_fields(kho_query_t *q, const char *spec, kho_err_t *err) KHO_WUR;
int kho_query_set_text(kho_query_t *q, const char *text, kho_err_t *err) KHO_WUR;
int kho_query_set_after(kho_query_t *q, const char *cursor, kho_err_t *err) KHO_WUR;
int kho_query_add_facet(kho_query_t *q, const char *col, kho_err_t *err) KHO_WUR;

/* Check the query against what the caller may see: with view->mask, filters,
 * text search, sort keys and facets over personal columns are refused. Call
 * before running. */
int kho_query_check_view(const kho_query_t *q, const kho_rows_view_t *view, kho_err_t *err) KHO_WUR;

/* True when the query is a few index lookups: filters by equality (or __in) on
 * columns that have their index (warehouse/indexer.h), in row order, no text
 * search, facets or count, at most 1,000 rows. Such a query is cheap enough to
 * answer without handing it to another thread. */
bool kho_query_is_index_lookup(kho_store_t *s, const kho_query_t *q);

/* ---- running ---------------------------------------------------------------------- */

typedef struct kho_qrun kho_qrun_t;

/* Prepare the query. With `paged`, at most q->limit rows come out (one more is
 * read to know whether there is a next page); without, every matching row
 * (an export). The run reads under a progress handler only when `deadline_ms`
 * > 0: past it, kho_query_next fails with KHO_ETIMEOUT. */
int kho_query_open(kho_store_t *s, const kho_query_t *q, const kho_rows_view_t *view, bool paged, kho_qrun_t **out,
                   kho_err_t *err) KHO_WUR;
/* KHO_STEP_ROW with a row ready, KHO_STEP_DONE after the last, or an error. */
int kho_query_next(kho_qrun_t *r, kho_err_t *err) KHO_WUR;
/* True after KHO_STEP_DONE when a paged run stopped at q->limit with more rows left. */
bool kho_query_has_more(const kho_qrun_t *r);
/* The current row: {"_row":n,"col":v,...} (the selected fields), [v,...] or a CSV line. */
int kho_query_row_object(kho_qrun_t *r, kho_buf_t *out, kho_err_t *err) KHO_WUR;
int kho_query_row_array(kho_qrun_t *r, kho_buf_t *out, kho_err_t *err) KHO_WUR;
int kho_query_row_csv(kho_qrun_t *r, kho_buf_t *out, kho_err_t *err) KHO_WUR;
/* The CSV header line of the selected fields (names, CRLF). */
void kho_query_csv_header(const kho_query_t *q, kho_buf_t *out);
/* The cursor after the last row returned (base64url text, NUL-terminated, at
 * most KHO_QUERY_CURSOR_MAX bytes); empty before the first row. */
#define KHO_QUERY_CURSOR_MAX 1024
const char *kho_query_cursor(kho_qrun_t *r);
int64_t kho_query_rows_out(const kho_qrun_t *r);
void kho_query_close(kho_qrun_t *r);

/* Total of matching rows. Without filters or text it is the version's row count
 * (kept at write time, no scan). Otherwise counted for at most budget_ms; when
 * the budget runs out *total is the rows counted so far and *lower_bound true. */
int kho_query_count(kho_store_t *s, const kho_query_t *q, int64_t budget_ms, int64_t *total, bool *lower_bound,
                    kho_err_t *err) KHO_WUR;

/* {"col":[{"value":v,"count":n},...],...} for every facet of q: the 30 most
 * frequent values among matching rows, most frequent first (new reference).
 * Counted for at most budget_ms in all (KHO_ETIMEOUT past it). */
int kho_query_facets(kho_store_t *s, const kho_query_t *q, int64_t budget_ms, json_t **out, kho_err_t *err) KHO_WUR;

/* ---- aggregates ----------------------------------------------------------------- */

typedef enum { KHO_AGG_COUNT, KHO_AGG_SUM, KHO_AGG_AVG, KHO_AGG_MIN, KHO_AGG_MAX } kho_aggfn_t;

#define KHO_AGG_MAX_GROUP 4
#define KHO_AGG_MAX_MEASURES 16

typedef struct kho_agg {
    int group[KHO_AGG_MAX_GROUP];
    size_t ngroup;
    struct {
        kho_aggfn_t fn;
        int col; /* -1 for count */
    } m[KHO_AGG_MAX_MEASURES];
    size_t nm;
    int64_t limit; /* groups returned at most */
} kho_agg_t;

/* From parameters group=a,b sum=c avg=c min=c max=c count=1 (sum/avg/min/max
 * take comma-separated columns and may repeat); the other parameters are the
 * filters and q of `q` (kho_query_parse with these names reserved). sum and avg
 * need numeric columns. Every group has its row count ("count"), asked or not. */
int kho_agg_parse(kho_agg_t *a, kho_query_t *q, const kho_qparam_t *params, size_t n, const kho_query_limits_t *lim,
                  kho_err_t *err) KHO_WUR;

/* Run: {"groups":[{"a":..,"b":..,"count":n,"sum_c":..,"avg_c":..},...],
 * "suppressed":k} (new reference). When view->mask and the query or the groups
 * involve a personal column, groups of fewer than min_group rows are left out
 * (counted in "suppressed"), and min/max over personal columns are refused. */
int kho_agg_run(kho_store_t *s, const kho_query_t *q, const kho_agg_t *a, const kho_rows_view_t *view,
                int64_t min_group, int64_t budget_ms, json_t **out, kho_err_t *err) KHO_WUR;

#endif
