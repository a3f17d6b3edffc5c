/* rows — CSV / JSON / NDJSON output of a version's rows (see rows.h). */
#include "warehouse/rows.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonw.h"
#include "core/mem.h"
#include "security/keys.h"
#include "security/mask.h"

#define FLUSH_AT (64 * 1024)

int kho_outfmt_parse(const char *s)
{
    if (strcmp(s, "csv") == 0)
        return KHO_OUT_CSV;
    if (strcmp(s, "json") == 0)
        return KHO_OUT_JSON;
    if (strcmp(s, "ndjson") == 0 || strcmp(s, "jsonl") == 0)
        return KHO_OUT_NDJSON;
    return -1;
}

const char *kho_outfmt_mime(kho_outfmt_t f)
{
    switch (f) {
    case KHO_OUT_CSV: return "text/csv; charset=utf-8";
    case KHO_OUT_NDJSON: return "application/x-ndjson";
    default: return "application/json; charset=utf-8";
    }
}

static void csv_field(kho_buf_t *b, const char *s, size_t n)
{
    /* quote what a reader would otherwise trim or split on */
    bool quote = n > 0 && (s[0] == ' ' || s[n - 1] == ' ' || s[0] == '\t' || s[n - 1] == '\t');
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        kho_buf_append(b, s, n);
        return;
    }
    kho_buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '"') {
            kho_buf_append(b, s + run, i + 1 - run);
            kho_buf_putc(b, '"');
            run = i + 1;
        }
    kho_buf_append(b, s + run, n - run);
    kho_buf_putc(b, '"');
}

/* Append column i of the current row as a JSON value. */
static void json_value(kho_buf_t *b, kho_stmt_t *st, int i, kho_type_t t)
{
    switch (kho_stmt_col_type(st, i)) {
    case KHO_VAL_NULL: kho_buf_append(b, "null", 4); return;
    case KHO_VAL_INT:
        if (t == KHO_TYPE_BOOLEAN)
            kho_buf_puts(b, kho_stmt_col_int(st, i) ? "true" : "false");
        else
            kho_json_int(b, (long long)kho_stmt_col_int(st, i));
        return;
    case KHO_VAL_REAL: kho_json_double(b, kho_stmt_col_double(st, i)); return;
    default: kho_json_str(b, kho_stmt_col_text(st, i), kho_stmt_col_bytes(st, i));
    }
}

static void csv_value(kho_buf_t *b, kho_stmt_t *st, int i, kho_type_t t)
{
    char tmp[40];
    size_t n;
    switch (kho_stmt_col_type(st, i)) {
    case KHO_VAL_NULL: return;
    case KHO_VAL_INT:
        if (t == KHO_TYPE_BOOLEAN)
            kho_buf_puts(b, kho_stmt_col_int(st, i) ? "true" : "false");
        else
            kho_json_int(b, (long long)kho_stmt_col_int(st, i));
        return;
    case KHO_VAL_REAL:
        n = kho_fmt_double(tmp, sizeof tmp, kho_stmt_col_double(st, i));
        kho_buf_append(b, tmp, n);
        return;
    default: csv_field(b, kho_stmt_col_text(st, i), kho_stmt_col_bytes(st, i));
    }
}

/* ---- reading cells through a view ------------------------------------------------ */

typedef struct colplan {
    bool work;  /* masked or possibly encrypted: cells go through cell() */
    bool mask;
    kho_pii_t kind;
    char aad[160];
} colplan_t;

typedef enum { OUT_NULL, OUT_NATIVE, OUT_STR, OUT_LITERAL } outkind_t;

typedef struct reader {
    kho_store_t *s;
    const kho_version_info_t *v;
    const kho_rows_view_t *view;
    colplan_t *cols;  /* NULL: no column needs work */
    kho_buf_t pt, masked, keys;
    kho_err_t *err;
} reader_t;

bool kho_rows_has_personal(const kho_version_info_t *v)
{
    for (size_t i = 0; i < v->ncols; i++)
        if (kho_tags_personal(v->cols[i].tags))
            return true;
    return false;
}

static void reader_init(reader_t *r, kho_store_t *s, const kho_version_info_t *v, const kho_rows_view_t *view,
                        kho_err_t *err)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    r->v = v;
    r->view = view;
    r->err = err;
    for (size_t i = 0; i < v->ncols; i++) {
        bool enc = kho_tags_have(v->cols[i].tags, "encrypted");
        bool mask = view && view->mask && kho_tags_personal(v->cols[i].tags);
        if (!enc && !mask)
            continue;
        if (!r->cols)
            r->cols = kho_xcalloc(v->ncols, sizeof *r->cols);
        colplan_t *c = &r->cols[i];
        c->work = true;
        c->mask = mask;
        c->kind = kho_pii_from_tags(v->cols[i].tags);
        snprintf(c->aad, sizeof c->aad, "%s.%s", v->table, v->cols[i].name);
    }
    /* pre-render ,"name": for every column, NUL-separated */
    for (size_t i = 0; i < v->ncols; i++) {
        kho_buf_putc(&r->keys, ',');
        kho_json_cstr(&r->keys, v->cols[i].name);
        kho_buf_putc(&r->keys, ':');
        kho_buf_putc(&r->keys, '\0');
    }
}

static void reader_free(reader_t *r)
{
    free(r->cols);
    if (r->pt.data)
        sodium_memzero(r->pt.data, r->pt.cap);
    kho_buf_free(&r->pt);
    kho_buf_free(&r->masked);
    kho_buf_free(&r->keys);
}

/* Decrypt the encrypted value in column i (statement column i + 1) into r->pt. */
static int decrypt(reader_t *r, kho_stmt_t *st, size_t i)
{
    const void *b = kho_stmt_col_blob(st, (int)i + 1);
    size_t n = kho_stmt_col_bytes(st, (int)i + 1);
    if (!r->view || !r->view->keys)
        return kho_err_setk(r->err, KHO_EIO, "no_keys", "column %s is encrypted and the key ring is not loaded",
                            r->v->cols[i].name);
    kho_buf_reset(&r->pt);
    if (!kho_keyring_is_blob(b, n) ||
        kho_keyring_decrypt(r->view->keys, r->s, r->cols[i].aad, b, n, &r->pt, r->err) != 0)
        return kho_err_setk(r->err, KHO_ETAMPER, "tampered",
                            "row %lld, column %s: the encrypted value failed its integrity check (altered, moved, "
                            "or its data key is missing)",
                            (long long)kho_stmt_col_int(st, 0), r->v->cols[i].name);
    return 0;
}

/* What column i of the current row prints as: OUT_NATIVE (print the stored
 * value), or text in s and n to print as a string (OUT_STR) or as it is
 * (OUT_LITERAL: a decrypted number or boolean). */
static int cell(reader_t *r, kho_stmt_t *st, size_t i, const char **s, size_t *n, outkind_t *k)
{
    int col = (int)i + 1;
    int vt = kho_stmt_col_type(st, col);
    const colplan_t *c = r->cols ? &r->cols[i] : NULL;
    if (vt == KHO_VAL_NULL) {
        *k = OUT_NULL;
        return 0;
    }
    if (!c || !c->work || (vt != KHO_VAL_BLOB && !c->mask)) {
        *k = OUT_NATIVE;
        return 0;
    }
    kho_type_t t = r->v->cols[i].type;
    bool literal = t == KHO_TYPE_INTEGER || t == KHO_TYPE_REAL || t == KHO_TYPE_BOOLEAN;
    char num[40];
    const char *txt;
    size_t len;
    if (vt == KHO_VAL_BLOB) {
        int rc = decrypt(r, st, i);
        if (rc != 0)
            return rc;
        txt = r->pt.data ? r->pt.data : "";
        len = r->pt.len;
    } else if (vt == KHO_VAL_INT) {
        len = t == KHO_TYPE_BOOLEAN ? (size_t)snprintf(num, sizeof num, "%s", kho_stmt_col_int(st, col) ? "true" : "false")
                                    : (size_t)snprintf(num, sizeof num, "%lld", (long long)kho_stmt_col_int(st, col));
        txt = num;
    } else if (vt == KHO_VAL_REAL) {
        len = kho_fmt_double(num, sizeof num, kho_stmt_col_double(st, col));
        txt = num;
    } else {
        txt = kho_stmt_col_text(st, col);
        len = kho_stmt_col_bytes(st, col);
    }
    if (c->mask) {
        kho_buf_reset(&r->masked);
        kho_mask(c->kind, txt, len, &r->masked);
        *s = r->masked.data ? r->masked.data : "";
        *n = r->masked.len;
        *k = OUT_STR;
    } else {
        *s = txt;
        *n = len;
        *k = literal ? OUT_LITERAL : OUT_STR;
    }
    return 0;
}

static int json_cell(reader_t *r, kho_buf_t *b, kho_stmt_t *st, size_t i)
{
    const char *s = NULL;
    size_t n = 0;
    outkind_t k;
    int rc = cell(r, st, i, &s, &n, &k);
    if (rc != 0)
        return rc;
    switch (k) {
    case OUT_NULL: kho_buf_append(b, "null", 4); break;
    case OUT_NATIVE: json_value(b, st, (int)i + 1, r->v->cols[i].type); break;
    case OUT_LITERAL: kho_buf_append(b, s, n); break;
    case OUT_STR: kho_json_str(b, s, n); break;
    }
    return 0;
}

static int csv_cell(reader_t *r, kho_buf_t *b, kho_stmt_t *st, size_t i)
{
    const char *s = NULL;
    size_t n = 0;
    outkind_t k;
    int rc = cell(r, st, i, &s, &n, &k);
    if (rc != 0)
        return rc;
    switch (k) {
    case OUT_NULL: break;
    case OUT_NATIVE: csv_value(b, st, (int)i + 1, r->v->cols[i].type); break;
    case OUT_LITERAL: kho_buf_append(b, s, n); break;
    case OUT_STR: csv_field(b, s, n); break;
    }
    return 0;
}

/* One row object {"_row":n,"col":value,...} from column 0 (_row) onward. */
static int row_object(reader_t *r, kho_buf_t *b, kho_stmt_t *st)
{
    kho_buf_append(b, "{\"_row\":", 8);
    kho_json_int(b, (long long)kho_stmt_col_int(st, 0));
    const char *k = r->keys.data;
    for (size_t i = 0; i < r->v->ncols; i++) {
        size_t kl = strlen(k);
        kho_buf_append(b, k, kl); /* ,"name": */
        k += kl + 1;
        if (!r->cols)
            json_value(b, st, (int)i + 1, r->v->cols[i].type);
        else {
            int rc = json_cell(r, b, st, i);
            if (rc != 0)
                return rc;
        }
    }
    kho_buf_putc(b, '}');
    return 0;
}

static int csv_row(reader_t *r, kho_buf_t *b, kho_stmt_t *st)
{
    for (size_t i = 0; i < r->v->ncols; i++) {
        if (i)
            kho_buf_putc(b, ',');
        if (!r->cols)
            csv_value(b, st, (int)i + 1, r->v->cols[i].type);
        else {
            int rc = csv_cell(r, b, st, i);
            if (rc != 0)
                return rc;
        }
    }
    kho_buf_append(b, "\r\n", 2);
    return 0;
}

static int prepare_select(kho_store_t *s, const kho_version_info_t *v, const char *tail, kho_stmt_t **st,
                          kho_err_t *err)
{
    char sql[256], q[160];
    kho_store_quote_ident(v->table, q, sizeof q);
    snprintf(sql, sizeof sql, "SELECT * FROM %s%s", q, tail);
    return kho_store_cached(s, sql, st, err);
}

int kho_rows_page_json(kho_store_t *s, const kho_version_info_t *v, const kho_rows_view_t *view, int64_t limit,
                       int64_t offset, kho_buf_t *out, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = prepare_select(s, v, " WHERE _row > ? ORDER BY _row LIMIT ?", &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_int(st, 1, offset);
    kho_stmt_bind_int(st, 2, limit);
    reader_t r;
    reader_init(&r, s, v, view, err);
    kho_buf_putc(out, '[');
    bool first = true;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        if (!first)
            kho_buf_putc(out, ',');
        first = false;
        if ((rc = row_object(&r, out, st)) != 0)
            break;
    }
    kho_buf_putc(out, ']');
    kho_stmt_reset(st);
    reader_free(&r);
    return rc < 0 ? rc : 0;
}

int kho_rows_export(kho_store_t *s, const kho_version_info_t *v, const kho_rows_view_t *view, kho_outfmt_t fmt,
                    kho_sink_fn sink, void *ctx, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = prepare_select(s, v, " ORDER BY _row", &st, err);
    if (rc != 0)
        return rc;
    reader_t r;
    reader_init(&r, s, v, view, err);
    kho_buf_t b = KHO_BUF_INIT;
    if (fmt == KHO_OUT_CSV) {
        for (size_t i = 0; i < v->ncols; i++) {
            if (i)
                kho_buf_putc(&b, ',');
            csv_field(&b, v->cols[i].name, strlen(v->cols[i].name));
        }
        kho_buf_append(&b, "\r\n", 2);
    } else if (fmt == KHO_OUT_JSON)
        kho_buf_putc(&b, '[');
    bool first = true;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        if (fmt == KHO_OUT_CSV)
            rc = csv_row(&r, &b, st);
        else {
            if (fmt == KHO_OUT_JSON && !first)
                kho_buf_putc(&b, ',');
            rc = row_object(&r, &b, st);
            if (fmt == KHO_OUT_NDJSON)
                kho_buf_putc(&b, '\n');
        }
        if (rc != 0)
            break;
        first = false;
        if (b.len >= FLUSH_AT) {
            if (sink(ctx, b.data, b.len) != 0) {
                rc = kho_err_set(err, KHO_EIO, "the output could not be written");
                break;
            }
            kho_buf_reset(&b);
        }
    }
    if (rc >= 0) {
        if (fmt == KHO_OUT_JSON)
            kho_buf_append(&b, "]\n", 2);
        rc = b.len && sink(ctx, b.data, b.len) != 0 ? kho_err_set(err, KHO_EIO, "the output could not be written") : 0;
    }
    kho_stmt_reset(st);
    if (b.data)
        sodium_memzero(b.data, b.cap);
    kho_buf_free(&b);
    reader_free(&r);
    return rc;
}
