/*
 * infer — reading values and inferring column types over a whole file.
 *
 * Every non-null cell is classified once (kho_classify) into the set of types it
 * could belong to; a column accumulates the counts (kho_colinfer_t) and, after
 * the whole file, takes the narrowest type that fits every value it holds
 * (kho_colinfer_decide). Inference never drops data: a value that breaks a
 * column's would-be type widens the column (often to text), and the quality
 * report says which values did it. Rows are rejected only for a type the
 * steward declared.
 *
 * Numbers are read in both conventions: Vietnamese (1.234.567,5: dot groups,
 * decimal comma) and international (1,234,567.5, 1.5e3). Where a file's values
 * fit both with different meanings ("1.234"), the column follows the evidence
 * of the file's other values, then the `decimal` setting, then the Vietnamese
 * convention. A number with a leading zero ("007", "01234") is a code, not a
 * number. Dates are ISO (2024-03-31) or Vietnamese (31/03/2024, 31-03-2024,
 * 31.03.2024); date-times are ISO 8601 or "31/03/2024 08:30[:00]". A whole number
 * beyond 64 bits keeps its column text (a double would round it). Booleans are
 * true/false, yes/no, có/không, đúng/sai in any case, with or without marks.
 */
#ifndef KHO_WAREHOUSE_INFER_H
#define KHO_WAREHOUSE_INFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    KHO_TYPE_INTEGER,
    KHO_TYPE_REAL,
    KHO_TYPE_BOOLEAN,
    KHO_TYPE_DATE,
    KHO_TYPE_DATETIME,
    KHO_TYPE_TEXT,
} kho_type_t;

const char *kho_type_name(kho_type_t t);
/* "integer", "real", "boolean", "date", "datetime", "text" (also "int", "number",
 * "bool", "string"); -1 when unknown. */
int kho_type_parse(const char *s);

typedef enum { KHO_DEC_AUTO, KHO_DEC_COMMA, KHO_DEC_DOT } kho_decimal_t;
/* "auto", "comma", "dot"; -1 when unknown. */
int kho_decimal_parse(const char *s);

/* Classes a value may belong to. */
enum {
    KHO_C_NUM_COMMA = 1u << 0, /* a number when ',' is the decimal mark */
    KHO_C_INT_COMMA = 1u << 1, /* ... and a whole number within 64 bits */
    KHO_C_NUM_DOT = 1u << 2,   /* a number when '.' is the decimal mark */
    KHO_C_INT_DOT = 1u << 3,
    KHO_C_AMBIG = 1u << 4,     /* the two readings give different values */
    KHO_C_BOOL = 1u << 5,
    KHO_C_DATE = 1u << 6,
    KHO_C_DATETIME = 1u << 7,
    KHO_C_CODE5 = 1u << 8,     /* exactly five digits: a commune code? */
    KHO_C_CODE2 = 1u << 9,     /* exactly two digits: a province code? */
    KHO_C_BIGINT = 1u << 10,   /* a whole number beyond 64 bits (an identifier?): keeps a column text */
    KHO_C__COUNT = 11,
};

/* Classify a text value (leading/trailing spaces ignored). */
unsigned kho_classify(const char *s, size_t n);
/* Classify a JSON number literal: written '.'-decimal, it has one meaning under
 * either convention, so it gets the bits of both. */
unsigned kho_classify_json_number(const char *s, size_t n);

/* Read a number under a convention (KHO_DEC_COMMA or KHO_DEC_DOT). Returns 0 and
 * sets *is_int and *iv (whole numbers) or *dv; -1 when s is not such a number. */
int kho_parse_number(const char *s, size_t n, kho_decimal_t dec, bool *is_int, int64_t *iv, double *dv);
/* Read a boolean; -1 when not one. */
int kho_parse_bool(const char *s, size_t n, bool *v);
/* Read a date into "YYYY-MM-DD"; -1 when not a valid calendar date. */
int kho_parse_date(const char *s, size_t n, char out[11]);
/* Read a date-time (or a date, taken as midnight) into ISO 8601
 * "YYYY-MM-DDTHH:MM:SS[.fff][Z|+hh:mm]"; -1 when not one. */
int kho_parse_datetime(const char *s, size_t n, char out[48]);

/* ---- null marks ---------------------------------------------------------------- */

typedef struct kho_nullmarks {
    char **marks;
    size_t *lens;
    size_t n, maxlen;
    bool first[256]; /* bytes that start some mark, in either ASCII case */
} kho_nullmarks_t;

/* Parse a '|'-separated list ("-|..|N/A"). The caller frees with kho_nullmarks_free. */
void kho_nullmarks_init(kho_nullmarks_t *m, const char *spec);
void kho_nullmarks_free(kho_nullmarks_t *m);
/* True when the value is empty, only spaces, or one of the marks (ASCII case ignored). */
bool kho_is_null(const kho_nullmarks_t *m, const char *s, size_t n);

/* ---- per-column inference ------------------------------------------------------ */

#define KHO_INFER_EXAMPLES 3

typedef struct kho_example {
    uint64_t line;
    char value[80]; /* truncated, valid UTF-8 */
} kho_example_t;

typedef struct kho_colinfer {
    uint64_t nonnull;
    uint64_t count[KHO_C__COUNT]; /* values having each class bit */
    kho_example_t not_number[KHO_INFER_EXAMPLES];
    kho_example_t not_date[KHO_INFER_EXAMPLES];
    size_t n_not_number, n_not_date;
} kho_colinfer_t;

/* Account one non-null value with its classes. */
void kho_colinfer_add(kho_colinfer_t *c, unsigned bits, const char *s, size_t n, uint64_t line);

typedef struct kho_coltype {
    kho_type_t type;
    kho_decimal_t dec;   /* for integer/real columns read from text */
    bool ambiguous;      /* some values read differently under the two conventions */
    bool code5, code2;   /* every value has exactly five / two digits */
} kho_coltype_t;

/* The column's type from its counts. `file_dec` is the convention the rest of
 * the file showed (KHO_DEC_AUTO when none), `forced` the configured one. */
kho_coltype_t kho_colinfer_decide(const kho_colinfer_t *c, kho_decimal_t file_dec, kho_decimal_t forced);
/* Evidence of a column for the file-wide convention: KHO_DEC_COMMA or KHO_DEC_DOT
 * when its values fit only that one, else KHO_DEC_AUTO. */
kho_decimal_t kho_colinfer_evidence(const kho_colinfer_t *c);
/* Whether a value classified as `bits` fits type t (under convention dec). */
bool kho_fits(unsigned bits, kho_type_t t, kho_decimal_t dec);

/* Copy at most `size`-1 bytes of s into out without splitting a UTF-8 character. */
void kho_excerpt(const char *s, size_t n, char *out, size_t size);

#endif
