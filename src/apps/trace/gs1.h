/*
 * gs1 — GS1 identifiers for traceability: check digits, GTINs, EPC URIs and
 * GS1 Digital Link paths.
 *
 * The first brick of the traceability application (issue 7). Pure functions on
 * strings, no database, no allocation except into a caller's kho_buf_t; safe to
 * call from any thread.
 *
 * The forms handled (GS1 General Specifications, EPC Tag Data Standard, GS1
 * Digital Link URI syntax):
 *
 *   GTIN              8, 12, 13 or 14 digits, the last a mod-10 check digit;
 *                     kho keeps every GTIN as 14 digits (left-padded with '0').
 *   SGTIN EPC URI     urn:epc:id:sgtin:CompanyPrefix.IndicatorItemRef.Serial
 *   LGTIN class URI   urn:epc:class:lgtin:CompanyPrefix.IndicatorItemRef.Lot
 *   SGLN EPC URI      urn:epc:id:sgln:CompanyPrefix.LocationRef.Extension
 *   Digital Link      [https://host[/prefix]]/01/{gtin}[/10/{lot}][/21/{serial}]
 *                     (also the long names /gtin/, /lot/, /ser/)
 *
 * In the URNs the GTIN is split at the company prefix (6-12 digits): the
 * indicator digit moves in front of the item reference and the check digit is
 * dropped (the parser recomputes it). A serial (AI 21), a lot (AI 10) or a GLN
 * extension (AI 254) is 1-20 characters of GS1's "character set 82":
 *   ! " % & ' ( ) * + , - . / 0-9 : ; < = > ? A-Z _ a-z
 * In an EPC URI the characters " % & / < > ? are percent-encoded (Tag Data
 * Standard, Table A-1); in a Digital Link every character outside A-Z a-z 0-9
 * - . _ is percent-encoded on output, and escapes or raw URI-safe characters are
 * accepted on input. Decoded values are always checked against character set 82,
 * so %00, %20 or any byte above 0x7F are rejected, as are broken escapes (%G1).
 *
 * Errors: every int function returns 0 or KHO_EINVAL with a message in *err
 * (which may be NULL) naming the problem and, where there is one, the position.
 */
#ifndef KHO_APPS_TRACE_GS1_H
#define KHO_APPS_TRACE_GS1_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

#define KHO_GS1_VALUE_MAX 20 /* longest serial, lot or GLN extension, in characters */

/* ---- Check digits ----------------------------------------------------------------- */

/* The GS1 mod-10 check digit ('0'..'9') of digits[0..n): weights 3, 1, 3, ...
 * from the rightmost digit. Returns '\0' when n is 0 or a byte is not a digit. */
char kho_gs1_check_digit(const char *digits, size_t n);

/* True when digits[0..n) are n >= 2 digits whose last is the check digit of the
 * first n-1. */
bool kho_gs1_check_digit_ok(const char *digits, size_t n);

/* ---- GTIN ------------------------------------------------------------------------- */

/* Normalise a GTIN-8, -12, -13 or -14 (digits only, spaces around allowed) to
 * 14 digits in out (NUL-terminated). The check digit is validated. On failure
 * returns KHO_EINVAL with a message naming the length, the first non-digit
 * (1-based position) or the expected check digit; out is then "". */
int kho_gtin_normalise(const char *in, char out[15], kho_err_t *err) KHO_WUR;

/* ---- EPC URIs (Tag Data Standard) ------------------------------------------------- */

/* Append urn:epc:id:sgtin:... for a GTIN (any length kho_gtin_normalise accepts)
 * and a serial (character set 82, 1-20 characters). company_prefix_len is the
 * length of the GS1 Company Prefix, 6-12. Nothing is appended on failure. */
int kho_gs1_sgtin_uri(const char *gtin14, const char *serial, size_t company_prefix_len, kho_buf_t *out,
                      kho_err_t *err) KHO_WUR;

/* Same for a lot: urn:epc:class:lgtin:CompanyPrefix.IndicatorItemRef.Lot. */
int kho_gs1_lgtin_uri(const char *gtin14, const char *lot, size_t company_prefix_len, kho_buf_t *out,
                      kho_err_t *err) KHO_WUR;

/* Append urn:epc:id:sgln:... for a GLN (13 digits, check digit validated) and an
 * extension (AI 254; NULL or "" means none and is written "0", as the standard
 * says). company_prefix_len is 6-12. */
int kho_gs1_sgln_uri(const char *gln13, const char *extension, size_t company_prefix_len, kho_buf_t *out,
                     kho_err_t *err) KHO_WUR;

typedef enum kho_gs1_kind {
    KHO_GS1_NONE = 0,
    KHO_GS1_GTIN,  /* a product class without lot or serial (Digital Link /01/{gtin} only) */
    KHO_GS1_SGTIN, /* one serialised item: gtin14 + serial (a Digital Link may also carry the lot) */
    KHO_GS1_LGTIN, /* a lot (batch): gtin14 + lot */
    KHO_GS1_SGLN,  /* a location: gln13 + extension */
} kho_gs1_kind_t;

typedef struct kho_gs1_epc {
    kho_gs1_kind_t kind;
    bool digital_link;                     /* parsed from a Digital Link URI rather than a URN */
    size_t company_prefix_len;             /* from a URN; 0 for a Digital Link (not knowable from it) */
    char gtin14[15];                       /* SGTIN, LGTIN, GTIN: 14 digits with the check digit */
    char serial[KHO_GS1_VALUE_MAX + 1];    /* SGTIN: decoded; "" otherwise */
    char lot[KHO_GS1_VALUE_MAX + 1];       /* LGTIN (and a Digital Link with /10/): decoded; "" otherwise */
    char gln13[14];                        /* SGLN: 13 digits with the check digit */
    char extension[KHO_GS1_VALUE_MAX + 1]; /* SGLN: decoded; "" when the URN says "0" (none) */
} kho_gs1_epc_t;

/* Parse an SGTIN, LGTIN or SGLN URN (lower case, as the standard writes them) or
 * an http(s) GS1 Digital Link URI into *out (zeroed first). A Digital Link
 * gives KHO_GS1_SGTIN when it has a serial, KHO_GS1_LGTIN when it has only a
 * lot, KHO_GS1_GTIN when it has neither. */
int kho_gs1_parse_epc(const char *uri, kho_gs1_epc_t *out, kho_err_t *err) KHO_WUR;

/* ---- GS1 Digital Link ------------------------------------------------------------- */

typedef struct kho_gs1_dl {
    char gtin14[15];
    char lot[KHO_GS1_VALUE_MAX + 1];    /* decoded; "" when absent */
    char serial[KHO_GS1_VALUE_MAX + 1]; /* decoded; "" when absent */
} kho_gs1_dl_t;

/* Parse the path of a Digital Link URI: /01/{gtin}, optionally followed by
 * /10/{lot} and then /21/{serial} (long names /gtin/, /lot/, /ser/ too). The
 * GTIN (8, 12, 13 or 14 digits) is normalised and its check digit validated;
 * lot and serial are percent-decoded and checked. Segments before the primary
 * key (a resolver's path prefix such as /trace) are skipped; a query string or
 * fragment is ignored. Paths longer than 2048 bytes are refused. */
int kho_gs1_dl_parse(const char *path, kho_gs1_dl_t *out, kho_err_t *err) KHO_WUR;

/* Append base_url + "/01/{gtin14}" [+ "/10/{lot}"] [+ "/21/{serial}"]. base_url
 * may be NULL or "" (a bare path is built) and loses one trailing '/'. lot and
 * serial may be NULL or "" for none; they are percent-encoded. The GTIN is
 * normalised to 14 digits. Nothing is appended on failure. */
int kho_gs1_dl_build(const char *base_url, const char *gtin14, const char *lot, const char *serial, kho_buf_t *out,
                     kho_err_t *err) KHO_WUR;

#endif
