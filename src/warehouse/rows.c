/* rows — CSV / JSON / NDJSON output of a version's rows (see rows.h). */
#include "warehouse/rows.h"

#include <stdio.h>
#include <string.h>

#include "core/jsonw.h"

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

/* One row object {"_row":n,"col":value,...} from column 0 (_row) onward. */
static void row_object(kho_buf_t *b, kho_stmt_t *st, const kho_version_info_t *v, const kho_buf_t *keys)
{
    kho_buf_append(b, "{\"_row\":", 8);
    kho_json_int(b, (long long)kho_stmt_col_int(st, 0));
    const char *k = keys->data;
    for (size_t i = 0; i < v->ncols; i++) {
        size_t kl = strlen(k);
        kho_buf_append(b, k, kl); /* ,"name": */
        k += kl + 1;
        json_value(b, st, (int)i + 1, v->cols[i].type);
    }
    kho_buf_putc(b, '}');
}

/* Pre-render ,"name": for every column, NUL-separated. */
static void render_keys(const kho_version_info_t *v, kho_buf_t *keys)
{
    for (size_t i = 0; i < v->ncols; i++) {
        kho_buf_putc(keys, ',');
        kho_json_cstr(keys, v->cols[i].name);
        kho_buf_putc(keys, ':');
        kho_buf_putc(keys, '\0');
    }
}

static int prepare_select(kho_store_t *s, const kho_version_info_t *v, const char *tail, kho_stmt_t **st,
                          kho_err_t *err)
{
    char sql[256], q[160];
    kho_store_quote_ident(v->table, q, sizeof q);
    snprintf(sql, sizeof sql, "SELECT * FROM %s%s", q, tail);
    return kho_store_cached(s, sql, st, err);
}

int kho_rows_page_json(kho_store_t *s, const kho_version_info_t *v, int64_t limit, int64_t offset, kho_buf_t *out,
                       kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = prepare_select(s, v, " WHERE _row > ? ORDER BY _row LIMIT ?", &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_int(st, 1, offset);
    kho_stmt_bind_int(st, 2, limit);
    kho_buf_t keys = KHO_BUF_INIT;
    render_keys(v, &keys);
    kho_buf_putc(out, '[');
    bool first = true;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        if (!first)
            kho_buf_putc(out, ',');
        first = false;
        row_object(out, st, v, &keys);
    }
    kho_buf_putc(out, ']');
    kho_stmt_reset(st);
    kho_buf_free(&keys);
    return rc < 0 ? rc : 0;
}

int kho_rows_export(kho_store_t *s, const kho_version_info_t *v, kho_outfmt_t fmt, kho_sink_fn sink, void *ctx,
                    kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = prepare_select(s, v, " ORDER BY _row", &st, err);
    if (rc != 0)
        return rc;
    kho_buf_t b = KHO_BUF_INIT, keys = KHO_BUF_INIT;
    render_keys(v, &keys);
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
        if (fmt == KHO_OUT_CSV) {
            for (size_t i = 0; i < v->ncols; i++) {
                if (i)
                    kho_buf_putc(&b, ',');
                csv_value(&b, st, (int)i + 1, v->cols[i].type);
            }
            kho_buf_append(&b, "\r\n", 2);
        } else {
            if (fmt == KHO_OUT_JSON && !first)
                kho_buf_putc(&b, ',');
            row_object(&b, st, v, &keys);
            if (fmt == KHO_OUT_NDJSON)
                kho_buf_putc(&b, '\n');
        }
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
    kho_buf_free(&b);
    kho_buf_free(&keys);
    return rc;
}
