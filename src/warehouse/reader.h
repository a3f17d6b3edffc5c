/*
 * reader — streaming records out of CSV, JSON-array and NDJSON input.
 *
 * The reader turns bytes into records one at a time, holding only the current
 * record in memory, so memory does not grow with the size of the input. It is the
 * only place that knows the three formats; everything after it (type inference,
 * loading) sees records of cells.
 *
 * CSV follows RFC 4180 (parsed by libcsv in strict mode): quoted fields with
 * doubled quotes and embedded line breaks, CRLF or LF line ends, an optional
 * UTF-8 byte-order mark, and ',' ';' or tab as delimiter, detected from the
 * header line unless given. The first record is the header. Spaces and tabs
 * (unless the delimiter) around unquoted fields are trimmed; blank lines are
 * skipped; a record has at most KHO_READER_MAX_FIELDS fields.
 *
 * JSON input is an array of objects, streamed element by element (each element
 * is parsed by jansson); NDJSON is one object per line. Columns are the object
 * keys in the order first seen; a key missing from an object is an absent cell.
 * Nested arrays and objects become cells holding their compact JSON text. Keys
 * are NFC-normalised; two keys of one object that normalise to the same text
 * are an error.
 *
 * Structural damage stops the reader with an error that says where: invalid
 * UTF-8 or a NUL byte (line, column), an unterminated quote or a stray quote
 * (line), a field or record over the size limit, a JSON element that is not an
 * object or does not parse (record index, line, column).
 */
#ifndef KHO_WAREHOUSE_READER_H
#define KHO_WAREHOUSE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef enum { KHO_FMT_AUTO = 0, KHO_FMT_CSV, KHO_FMT_JSON, KHO_FMT_NDJSON } kho_format_t;

/* The most fields a record may have (a row with more is damage, not data). */
#define KHO_READER_MAX_FIELDS 10000

/* "csv", "json", "ndjson" (and "auto"); -1 when unknown. */
int kho_format_parse(const char *s);
const char *kho_format_name(kho_format_t f);

/* Where the bytes come from. Exactly one of path or mem. The source must stay
 * unchanged and valid while readers are open on it; it can be read again. */
typedef struct kho_source {
    const char *path;  /* a file */
    const char *mem;   /* or bytes in memory */
    size_t len;
    const char *name;  /* how to name it in messages: "data.csv", "upload" */
} kho_source_t;

typedef struct kho_reader_opts {
    kho_format_t format;  /* KHO_FMT_AUTO: from the first byte ('[' JSON, '{' NDJSON, else CSV) */
    char delimiter;       /* 0: detect */
    bool validate_utf8;   /* check every byte (the first pass does; the second need not) */
    bool hash;            /* compute the SHA-256 of the whole input */
    bool nfc;             /* normalise text cells and labels to NFC */
    size_t max_field;     /* largest field or JSON record in bytes (0: 16 MiB) */
} kho_reader_opts_t;

typedef enum {
    KHO_CELL_ABSENT = 0, /* JSON: key not present in this object */
    KHO_CELL_TEXT,       /* CSV field or JSON string */
    KHO_CELL_NUMBER,     /* JSON number, as text */
    KHO_CELL_TRUE,
    KHO_CELL_FALSE,
    KHO_CELL_NULL,       /* JSON null */
    KHO_CELL_JSON,       /* JSON array or object, as compact JSON text */
} kho_cell_kind_t;

typedef struct kho_cell {
    const char *s; /* NUL-terminated; "" for absent/null */
    size_t n;
    kho_cell_kind_t kind;
} kho_cell_t;

typedef struct kho_record {
    size_t n;          /* cells in this record (CSV: fields in the row) */
    kho_cell_t *cells;
    uint64_t line;     /* line where the record starts (1-based) */
    uint64_t index;    /* 1-based number of the data record (header excluded) */
} kho_record_t;

typedef struct kho_reader kho_reader_t;

/* Open a reader; for CSV the header is read here. On success *out is a reader
 * the caller frees with kho_reader_free(). Errors: KHO_EIO (cannot read),
 * KHO_EINVAL (empty input, damaged header, bad UTF-8 in it), KHO_EMEDIA. */
int kho_reader_open(const kho_source_t *src, const kho_reader_opts_t *opts, kho_reader_t **out,
                    kho_err_t *err) KHO_WUR;
/* Next record: 1 and *rec (borrowed until the next call), 0 at the end, or a
 * negative error for structural damage. */
int kho_reader_next(kho_reader_t *r, kho_record_t **rec, kho_err_t *err) KHO_WUR;
void kho_reader_free(kho_reader_t *r);

kho_format_t kho_reader_format(const kho_reader_t *r);
/* CSV delimiter in use (0 for JSON). */
char kho_reader_delimiter(const kho_reader_t *r);
bool kho_reader_had_bom(const kho_reader_t *r);
/* Columns known so far: for CSV the header's fields; for JSON the keys seen so far. */
size_t kho_reader_ncols(const kho_reader_t *r);
/* Label of column i (borrowed; NFC when opts.nfc). */
const char *kho_reader_label(const kho_reader_t *r, size_t i);
/* Bytes consumed so far, and after the end the SHA-256 (hex) when opts.hash. */
uint64_t kho_reader_bytes(const kho_reader_t *r);
const char *kho_reader_sha256(const kho_reader_t *r);
/* JSON records with an integer beyond 64 bits, whose numbers were therefore all
 * read as reals (rounded to double precision). */
uint64_t kho_reader_rounded(const kho_reader_t *r);

#endif
