/*
 * rows — reading a version's rows out as CSV, JSON or NDJSON.
 *
 * Values keep their column types on the way out: integers and reals as JSON
 * numbers (reals in the shortest form that reads back to the same value),
 * booleans as true/false, dates and text as strings, NULL as null (JSON) or an
 * empty field (CSV). CSV follows RFC 4180 with a header of column names and
 * CRLF line ends; fields are quoted when they need it.
 *
 * Personal data: with a view whose `mask` is set, columns tagged personal or
 * sensitive come out masked (security/mask.h) as strings, in every format.
 * Encrypted values (keys.h) are decrypted with the view's key ring; a value
 * that fails its authentication stops the output with KHO_ETAMPER.
 *
 * Exports stream: rows are written into a buffer that is handed to a sink
 * whenever it passes a threshold, so memory stays flat for any number of rows.
 */
#ifndef KHO_WAREHOUSE_ROWS_H
#define KHO_WAREHOUSE_ROWS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"
#include "warehouse/catalog.h"

typedef enum { KHO_OUT_CSV, KHO_OUT_JSON, KHO_OUT_NDJSON } kho_outfmt_t;

/* "csv", "json", "ndjson"; -1 when unknown. */
int kho_outfmt_parse(const char *s);
const char *kho_outfmt_mime(kho_outfmt_t f);

typedef struct kho_keyring kho_keyring_t;

/* How the reader sees the rows. NULL means: no masking and no key ring. */
typedef struct kho_rows_view {
    bool mask;            /* mask personal columns */
    kho_keyring_t *keys;  /* decrypts encrypted columns (NULL: they cannot be read) */
} kho_rows_view_t;

/* Receives output in pieces; returns 0 to go on, non-zero to stop (an error). */
typedef int (*kho_sink_fn)(void *ctx, const char *p, size_t n);

/* Write every row of version v to the sink: CSV with a header, a JSON array of
 * objects, or NDJSON. */
int kho_rows_export(kho_store_t *s, const kho_version_info_t *v, const kho_rows_view_t *view, kho_outfmt_t fmt,
                    kho_sink_fn sink, void *ctx, kho_err_t *err) KHO_WUR;

/* Append to out the JSON array of at most `limit` row objects starting after
 * `offset` rows (row order is file order; rows are numbered 1..n, so paging is
 * an index seek, not a scan). Each object has "_row" and the columns. */
int kho_rows_page_json(kho_store_t *s, const kho_version_info_t *v, const kho_rows_view_t *view, int64_t limit,
                       int64_t offset, kho_buf_t *out, kho_err_t *err) KHO_WUR;

/* A row formatter: writes the current row of a statement whose column 0 is
 * _row and whose columns 1..n are version columns fields[0..n) (all columns in
 * order when fields is NULL), masked and decrypted per the view. Columns past
 * n are ignored (a query may select its sort keys after them). s, v, view and
 * fields must outlive it (fields is copied). Free with kho_rowfmt_free. */
typedef struct kho_rowfmt kho_rowfmt_t;
kho_rowfmt_t *kho_rowfmt_new(kho_store_t *s, const kho_version_info_t *v, const kho_rows_view_t *view,
                             const int *fields, size_t nfields);
void kho_rowfmt_free(kho_rowfmt_t *r);
/* {"_row":n,"col":v,...} */
int kho_rowfmt_object(kho_rowfmt_t *r, kho_stmt_t *st, kho_buf_t *out, kho_err_t *err) KHO_WUR;
/* [v,...] (no _row) */
int kho_rowfmt_array(kho_rowfmt_t *r, kho_stmt_t *st, kho_buf_t *out, kho_err_t *err) KHO_WUR;
/* v,v,...CRLF */
int kho_rowfmt_csv(kho_rowfmt_t *r, kho_stmt_t *st, kho_buf_t *out, kho_err_t *err) KHO_WUR;
/* the names of the output columns, CRLF */
void kho_rowfmt_csv_header(const kho_rowfmt_t *r, kho_buf_t *out);

/* Append one CSV field (RFC 4180): quoted when it holds a comma, a quote, a
 * line break or leading/trailing blanks, quotes doubled. */
void kho_csv_field(kho_buf_t *b, const char *s, size_t n);

/* True when a version has columns tagged personal or sensitive. */
bool kho_rows_has_personal(const kho_version_info_t *v);

#endif
