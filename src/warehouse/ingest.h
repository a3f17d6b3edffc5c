/*
 * ingest — turning an uploaded file into a new version of a dataset.
 *
 * The pipeline reads the input twice, streaming both times (memory does not
 * grow with the file):
 *
 *   pass 1  validate UTF-8, hash, count fields, classify every value; decide each
 *           column's type from ALL its values; list the rows to reject (wrong
 *           number of fields, a value that breaks a declared type) and refuse
 *           the whole file when --strict or when the rejected share passes the
 *           threshold. Nothing is written in this pass.
 *   pass 2  in one write transaction: create or update the dataset, create the
 *           version's table, load the good rows (NFC-normalised, converted to
 *           their column types), compute the quality report, record the version
 *           and point the dataset at it. Any error rolls the whole transaction
 *           back, so nothing of the new version remains and the previous
 *           version stays current and readable throughout.
 *
 * Personal data: a column is tagged `personal` (with a `pii:<kind>` saying how
 * to mask it, see security/mask.h) when --column-tags says so, when its header
 * names personal data (họ và tên, ngày sinh, số điện thoại, CCCD, email, địa
 * chỉ ...) or when at least 90% of its values are personal ID numbers or mobile
 * phone numbers; `--column-tags COL=none` turns the detection off for a column.
 * `sensitive` columns (the law's sensitive personal data: health, finances ...)
 * are only ever declared. Sensitive columns, and personal columns of core or
 * important datasets, are encrypted at rest (tag `encrypted`, keys.h); the
 * quality report of a personal column leaves out its minimum, maximum and
 * example values.
 *
 * Header rules: each column keeps its header as its label and gets a safe name
 * derived from it ("Dân số (người)" -> dan_so_nguoi); an empty header becomes
 * column_N (N its 1-based position); a name that repeats an earlier one gets
 * _2, _3 ... appended; both cases are noted in the quality report.
 */
#ifndef KHO_WAREHOUSE_INGEST_H
#define KHO_WAREHOUSE_INGEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "store/store.h"
#include "warehouse/catalog.h"
#include "warehouse/infer.h"
#include "warehouse/reader.h"

/* The most columns a dataset may have (SQLite allows 2000 per table, one is _row). */
#define KHO_INGEST_MAX_COLUMNS 1999

/* A declared column: "COL=TYPE" where COL is a column's name or header label and
 * TYPE a type name or commune_code / province_code. */
typedef struct kho_coldecl {
    const char *column;
    const char *type;
} kho_coldecl_t;

typedef struct kho_keyring kho_keyring_t;

typedef struct kho_ingest_opts {
    const char *dataset;       /* dataset id (slug) */
    kho_dataset_meta_t meta;   /* metadata to set (see catalog.h) */
    kho_format_t format;       /* KHO_FMT_AUTO: detect */
    char delimiter;            /* 0: detect */
    const kho_coldecl_t *decls;
    size_t ndecls;
    bool strict;               /* refuse the file if any row would be rejected */
    double reject_threshold;   /* refuse when rejected/read is above this (negative: 0.10) */
    const char *null_marks;    /* '|'-separated (NULL: the default list) */
    kho_decimal_t decimal;
    size_t max_field;          /* bytes (0: 16 MiB) */
    const char *source_name;   /* recorded with the version: a file name or "upload" */
    const kho_coldecl_t *coltags; /* "COL=TAGS": personal, sensitive, pii:KIND, or none */
    size_t ncoltags;
    kho_keyring_t *keys;       /* encrypts personal/sensitive columns (NULL: refuse to load such columns) */
} kho_ingest_opts_t;

typedef struct kho_ingest_result {
    int64_t version;           /* new version number; 0 when nothing was written */
    uint64_t rows_read, rows_loaded, rows_rejected;
    json_t *quality;           /* the quality report (new reference, also on KHO_EREJECTED; may be NULL) */
    double check_seconds;      /* pass 1: validation and inference */
    double load_seconds;       /* pass 2: conversion, loading and commit */
} kho_ingest_result_t;

/* Where import options come from: command-line options (--reject-threshold) or
 * HTTP query parameters (reject_threshold). The functions are asked for the
 * underscore names; `get` gives the last value or NULL ("" for a bare flag),
 * `all` every value of a repeatable option. */
typedef struct kho_optsrc {
    const char *(*get)(void *ctx, const char *key);
    size_t (*all)(void *ctx, const char *key, const char **vals, size_t max);
    void *ctx;
} kho_optsrc_t;

#define KHO_INGEST_MAX_DECLS 64

/* Storage for what kho_ingest_opts_read() derives from its source; keep it as long
 * as the options are used. */
typedef struct kho_ingest_optbuf {
    kho_coldecl_t decls[KHO_INGEST_MAX_DECLS];
    kho_coldecl_t coltags[KHO_INGEST_MAX_DECLS];
    char tagcols[KHO_INGEST_MAX_DECLS][256];
    const char *tags[KHO_INGEST_MAX_DECLS];
    char columns[KHO_INGEST_MAX_DECLS][256];
    char temporal_start[32];
} kho_ingest_optbuf_t;

/* Read the import options (metadata, reading options, declarations, checks) from
 * src over the settings in cfg, into o (whose dataset the caller sets). Values
 * point into the source or into buf. The options read: title description
 * publisher licence org org_name tag* sharing importance synthetic temporal
 * (START[/END]) spatial format delimiter (, ; | tab) type* (COL=TYPE or COL:TYPE)
 * column_tags* (COL=TAGS) strict decimal null_marks reject_threshold. KHO_EINVAL
 * names a bad value. */
int kho_ingest_opts_read(kho_ingest_opts_t *o, const kho_optsrc_t *src, const kho_config_t *cfg,
                         kho_ingest_optbuf_t *buf, kho_err_t *err) KHO_WUR;

/* Check declarations and options before any work; KHO_EINVAL names the problem. */
int kho_ingest_check_opts(const kho_ingest_opts_t *o, kho_err_t *err) KHO_WUR;

/* Import src as a new version of o->dataset through the writable connection w
 * (which must not be inside a transaction): kho_ingest_prepare then
 * kho_ingest_commit. On success res->version is set. Errors: KHO_EINVAL
 * (damaged input, bad options), KHO_EREJECTED (refused by its quality checks;
 * res->quality says why), KHO_EBUSY (another writer), KHO_EIO. res->quality is
 * set whenever a report exists; the caller releases it with kho_ingest_result_free(). */
int kho_ingest(kho_store_t *w, const kho_source_t *src, const kho_ingest_opts_t *o, kho_ingest_result_t *res,
               kho_err_t *err) KHO_WUR;
void kho_ingest_result_free(kho_ingest_result_t *res);

/* The two halves, for callers that hold the write lock only for loading (the
 * server: many uploads check in parallel, load one at a time).
 * prepare runs pass 1 reading the unit tables through s (any connection, read-only
 * is fine) and, unless the file is refused, gives a checked import in *out that the
 * caller frees with kho_ingest_free(). src and o must stay valid until then.
 * commit runs pass 2 through the writable connection w; call it at most once. */
typedef struct kho_ingest kho_ingest_t;
/* A check that runs inside every import's write transaction, after the new
 * version is recorded and made current, before the commit: an error refuses
 * the whole import (nothing of it remains). Set once at start-up by the top
 * layer (the indicators app uses it to validate and recompute its values);
 * NULL: none. `w` is the writable connection inside the transaction. */
typedef int (*kho_ingest_hook_fn)(kho_store_t *w, const char *dataset, int64_t version, uint64_t rows_rejected,
                                  kho_err_t *err);
void kho_ingest_set_hook(kho_ingest_hook_fn fn);

int kho_ingest_prepare(kho_store_t *s, const kho_source_t *src, const kho_ingest_opts_t *o, kho_ingest_t **out,
                       kho_ingest_result_t *res, kho_err_t *err) KHO_WUR;
int kho_ingest_commit(kho_ingest_t *g, kho_store_t *w, kho_ingest_result_t *res, kho_err_t *err) KHO_WUR;
void kho_ingest_free(kho_ingest_t *g);

#endif
