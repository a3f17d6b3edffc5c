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

void kho_csv_field(kho_buf_t *b, const char *s, size_t n)
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
    default: kho_csv_field(b, kho_stmt_col_text(st, i), kho_stmt_col_bytes(st, i));
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

struct kho_rowfmt {
    kho_store_t *s;
    const kho_version_info_t *v;
    const kho_rows_view_t *view;
    int *map;         /* output column k is version column map[k] (statement column k + 1) */
    size_t n;
    colplan_t *cols;  /* per version column; NULL: no column needs work */
    kho_buf_t pt, masked, keys;
};

bool kho_rows_has_personal(const kho_version_info_t *v)
{
    for (size_t i = 0; i < v->ncols; i++)
        if (kho_tags_personal(v->cols[i].tags))
            return true;
    return false;
}

kho_rowfmt_t *kho_rowfmt_new(kho_store_t *s, const kho_version_info_t *v, const kho_rows_view_t *view,
                             const int *fields, size_t nfields)
{
    kho_rowfmt_t *r = kho_xcalloc(1, sizeof *r);
    r->s = s;
    r->v = v;
    r->view = view;
    r->n = fields ? nfields : v->ncols;
    r->map = kho_xcalloc(r->n ? r->n : 1, sizeof *r->map);
    for (size_t k = 0; k < r->n; k++)
        r->map[k] = fields ? fields[k] : (int)k;
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
    /* pre-render ,"name": for every output column, NUL-separated */
    for (size_t k = 0; k < r->n; k++) {
        kho_buf_putc(&r->keys, ',');
        kho_json_cstr(&r->keys, v->cols[r->map[k]].name);
        kho_buf_putc(&r->keys, ':');
        kho_buf_putc(&r->keys, '\0');
    }
    return r;
}

void kho_rowfmt_free(kho_rowfmt_t *r)
{
    if (!r)
        return;
    free(r->cols);
    free(r->map);
    if (r->pt.data)
        sodium_memzero(r->pt.data, r->pt.cap);
    kho_buf_free(&r->pt);
    kho_buf_free(&r->masked);
    kho_buf_free(&r->keys);
    free(r);
}

/* Decrypt the encrypted value of version column i at statement column col into r->pt. */
static int decrypt(kho_rowfmt_t *r, kho_stmt_t *st, size_t i, int col, kho_err_t *err)
{
    const void *b = kho_stmt_col_blob(st, col);
    size_t n = kho_stmt_col_bytes(st, col);
    if (!r->view || !r->view->keys)
        return kho_err_setk(err, KHO_EIO, "no_keys", "column %s is encrypted and the key ring is not loaded",
                            r->v->cols[i].name);
    kho_buf_reset(&r->pt);
    if (!kho_keyring_is_blob(b, n) ||
        kho_keyring_decrypt(r->view->keys, r->s, r->cols[i].aad, b, n, &r->pt, err) != 0)
        return kho_err_setk(err, KHO_ETAMPER, "tampered",
                            "row %lld, column %s: the encrypted value failed its integrity check (altered, moved, "
                            "or its data key is missing)",
                            (long long)kho_stmt_col_int(st, 0), r->v->cols[i].name);
    return 0;
}

/* What output column k of the current row prints as: OUT_NATIVE (print the
 * stored value), or text in s and n to print as a string (OUT_STR) or as it is
 * (OUT_LITERAL: a decrypted number or boolean). */
static int cell(kho_rowfmt_t *r, kho_stmt_t *st, size_t k, const char **s, size_t *n, outkind_t *out,
                kho_err_t *err)
{
    int col = (int)k + 1;
    size_t i = (size_t)r->map[k];
    int vt = kho_stmt_col_type(st, col);
    const colplan_t *c = r->cols ? &r->cols[i] : NULL;
    if (vt == KHO_VAL_NULL) {
        *out = OUT_NULL;
        return 0;
    }
    if (!c || !c->work || (vt != KHO_VAL_BLOB && !c->mask)) {
        *out = OUT_NATIVE;
        return 0;
    }
    kho_type_t t = r->v->cols[i].type;
    bool literal = t == KHO_TYPE_INTEGER || t == KHO_TYPE_REAL || t == KHO_TYPE_BOOLEAN;
    char num[40];
    const char *txt;
    size_t len;
    if (vt == KHO_VAL_BLOB) {
        int rc = decrypt(r, st, i, col, err);
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
        *out = OUT_STR;
    } else {
        *s = txt;
        *n = len;
        *out = literal ? OUT_LITERAL : OUT_STR;
    }
    return 0;
}

static int json_cell(kho_rowfmt_t *r, kho_buf_t *b, kho_stmt_t *st, size_t k, kho_err_t *err)
{
    if (!r->cols) {
        json_value(b, st, (int)k + 1, r->v->cols[r->map[k]].type);
        return 0;
    }
    const char *s = NULL;
    size_t n = 0;
    outkind_t o;
    int rc = cell(r, st, k, &s, &n, &o, err);
    if (rc != 0)
        return rc;
    switch (o) {
    case OUT_NULL: kho_buf_append(b, "null", 4); break;
    case OUT_NATIVE: json_value(b, st, (int)k + 1, r->v->cols[r->map[k]].type); break;
    case OUT_LITERAL: kho_buf_append(b, s, n); break;
    case OUT_STR: kho_json_str(b, s, n); break;
    }
    return 0;
}

static int csv_cell(kho_rowfmt_t *r, kho_buf_t *b, kho_stmt_t *st, size_t k, kho_err_t *err)
{
    if (!r->cols) {
        csv_value(b, st, (int)k + 1, r->v->cols[r->map[k]].type);
        return 0;
    }
    const char *s = NULL;
    size_t n = 0;
    outkind_t o;
    int rc = cell(r, st, k, &s, &n, &o, err);
    if (rc != 0)
        return rc;
    switch (o) {
    case OUT_NULL: break;
    case OUT_NATIVE: csv_value(b, st, (int)k + 1, r->v->cols[r->map[k]].type); break;
    case OUT_LITERAL: kho_buf_append(b, s, n); break;
    case OUT_STR: kho_csv_field(b, s, n); break;
    }
    return 0;
}

int kho_rowfmt_object(kho_rowfmt_t *r, kho_stmt_t *st, kho_buf_t *b, kho_err_t *err)
{
    kho_buf_append(b, "{\"_row\":", 8);
    kho_json_int(b, (long long)kho_stmt_col_int(st, 0));
    const char *key = r->keys.data;
    for (size_t k = 0; k < r->n; k++) {
        size_t kl = strlen(key);
        kho_buf_append(b, key, kl); /* ,"name": */
        key += kl + 1;
        int rc = json_cell(r, b, st, k, err);
        if (rc != 0)
            return rc;
    }
    kho_buf_putc(b, '}');
    return 0;
}

int kho_rowfmt_array(kho_rowfmt_t *r, kho_stmt_t *st, kho_buf_t *b, kho_err_t *err)
{
    kho_buf_putc(b, '[');
    for (size_t k = 0; k < r->n; k++) {
        if (k)
            kho_buf_putc(b, ',');
        int rc = json_cell(r, b, st, k, err);
        if (rc != 0)
            return rc;
    }
    kho_buf_putc(b, ']');
    return 0;
}

int kho_rowfmt_csv(kho_rowfmt_t *r, kho_stmt_t *st, kho_buf_t *b, kho_err_t *err)
{
    for (size_t k = 0; k < r->n; k++) {
        if (k)
            kho_buf_putc(b, ',');
        int rc = csv_cell(r, b, st, k, err);
        if (rc != 0)
            return rc;
    }
    kho_buf_append(b, "\r\n", 2);
    return 0;
}

void kho_rowfmt_csv_header(const kho_rowfmt_t *r, kho_buf_t *b)
{
    for (size_t k = 0; k < r->n; k++) {
        if (k)
            kho_buf_putc(b, ',');
        const char *name = r->v->cols[r->map[k]].name;
        kho_csv_field(b, name, strlen(name));
    }
    kho_buf_append(b, "\r\n", 2);
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
    kho_rowfmt_t *r = kho_rowfmt_new(s, v, view, NULL, 0);
    kho_buf_putc(out, '[');
    bool first = true;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        if (!first)
            kho_buf_putc(out, ',');
        first = false;
        if ((rc = kho_rowfmt_object(r, st, out, err)) != 0)
            break;
    }
    kho_buf_putc(out, ']');
    kho_stmt_reset(st);
    kho_rowfmt_free(r);
    return rc < 0 ? rc : 0;
}

int kho_rows_export(kho_store_t *s, const kho_version_info_t *v, const kho_rows_view_t *view, kho_outfmt_t fmt,
                    kho_sink_fn sink, void *ctx, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = prepare_select(s, v, " ORDER BY _row", &st, err);
    if (rc != 0)
        return rc;
    kho_rowfmt_t *r = kho_rowfmt_new(s, v, view, NULL, 0);
    kho_buf_t b = KHO_BUF_INIT;
    if (fmt == KHO_OUT_CSV)
        kho_rowfmt_csv_header(r, &b);
    else if (fmt == KHO_OUT_JSON)
        kho_buf_putc(&b, '[');
    bool first = true;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        if (fmt == KHO_OUT_CSV)
            rc = kho_rowfmt_csv(r, st, &b, err);
        else {
            if (fmt == KHO_OUT_JSON && !first)
                kho_buf_putc(&b, ',');
            rc = kho_rowfmt_object(r, st, &b, err);
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
    kho_rowfmt_free(r);
    return rc;
}
