/* query — row queries and aggregates over one version (see query.h). */
#include "warehouse/query.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonw.h"
#include "core/mem.h"
#include "core/text.h"
#include "security/mask.h"
#include "warehouse/infer.h"

#define FACET_TOP 30
#define MAX_TEXT 512
#define MAX_WORDS 16

/* ---- small helpers ------------------------------------------------------------------- */

static void qval_free(kho_qval_t *v)
{
    free(v->s);
    v->s = NULL;
}

static void qval_copy(kho_qval_t *dst, const kho_qval_t *src)
{
    *dst = *src;
    dst->s = src->s ? kho_xstrdup(src->s) : NULL;
}

static void qval_bind(kho_stmt_t *st, int i, const kho_qval_t *v)
{
    switch (v->type) {
    case KHO_VAL_INT: kho_stmt_bind_int(st, i, v->i); break;
    case KHO_VAL_REAL: kho_stmt_bind_double(st, i, v->d); break;
    case KHO_VAL_TEXT: kho_stmt_bind_str(st, i, v->s); break;
    default: kho_stmt_bind_null(st, i);
    }
}

/* The current value of statement column i as a kho_qval_t. */
static void qval_from_stmt(kho_stmt_t *st, int i, kho_qval_t *v)
{
    memset(v, 0, sizeof *v);
    switch (kho_stmt_col_type(st, i)) {
    case KHO_VAL_INT: v->type = KHO_VAL_INT; v->i = kho_stmt_col_int(st, i); break;
    case KHO_VAL_REAL: v->type = KHO_VAL_REAL; v->d = kho_stmt_col_double(st, i); break;
    case KHO_VAL_TEXT:
        v->type = KHO_VAL_TEXT;
        v->s = kho_xstrdup(kho_stmt_col_text(st, i));
        break;
    default: v->type = KHO_VAL_NULL; /* blobs never make sort keys (encrypted columns cannot be sorted) */
    }
}

static int find_col(const kho_version_info_t *v, const char *name, size_t n)
{
    for (size_t i = 0; i < v->ncols; i++)
        if (strlen(v->cols[i].name) == n && memcmp(v->cols[i].name, name, n) == 0)
            return (int)i;
    return -1;
}

/* KHO_EINVAL "unknown column 'x'; the columns are a, b, c". */
static int unknown_column(const kho_version_info_t *v, const char *name, size_t n, const char *what,
                          kho_err_t *err)
{
    char list[600];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < v->ncols && used < sizeof list - 70; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", v->cols[i].name);
    if (used >= sizeof list - 70 && v->ncols)
        snprintf(list + used, sizeof list - used, ", ...");
    return kho_err_setk(err, KHO_EINVAL, "unknown_column", "%s: unknown column '%.*s'; the columns are: %s", what,
                        (int)(n > 64 ? 64 : n), name, list);
}

static bool is_encrypted(const kho_version_info_t *v, int col)
{
    return col >= 0 && kho_tags_have(v->cols[col].tags, "encrypted");
}

static int refuse_encrypted(const kho_version_info_t *v, int col, const char *what, kho_err_t *err)
{
    return kho_err_setk(err, KHO_EINVAL, "encrypted_column",
                        "column '%s' is encrypted at rest: it cannot be used to %s (its stored values are ciphertext)",
                        v->cols[col].name, what);
}

static bool textual(kho_type_t t)
{
    return t == KHO_TYPE_TEXT || t == KHO_TYPE_DATE || t == KHO_TYPE_DATETIME;
}

static bool numeric(kho_type_t t)
{
    return t == KHO_TYPE_INTEGER || t == KHO_TYPE_REAL;
}

/* A yes/no parameter: true/false, 1/0, yes/no, có/không. */
static int flag(const char *s, bool *out)
{
    if (strcmp(s, "1") == 0 || strcmp(s, "0") == 0) {
        *out = s[0] == '1';
        return 0;
    }
    return kho_parse_bool(s, strlen(s), out);
}

/* Read a filter value by the column's type. */
static int parse_value(const kho_version_info_t *v, int col, const char *s, kho_qval_t *out, kho_err_t *err)
{
    memset(out, 0, sizeof *out);
    size_t n = strlen(s);
    const char *name = v->cols[col].name;
    kho_type_t t = v->cols[col].type;
    switch (t) {
    case KHO_TYPE_INTEGER:
    case KHO_TYPE_REAL: {
        bool is_int = false;
        int64_t iv = 0;
        double dv = 0;
        if (kho_parse_number(s, n, KHO_DEC_DOT, &is_int, &iv, &dv) != 0 &&
            kho_parse_number(s, n, KHO_DEC_COMMA, &is_int, &iv, &dv) != 0)
            return kho_err_setk(err, KHO_EINVAL, "bad_value", "column '%s' holds numbers; '%.60s' is not a number",
                                name, s);
        if (is_int) {
            out->type = KHO_VAL_INT;
            out->i = iv;
        } else {
            out->type = KHO_VAL_REAL;
            out->d = dv;
        }
        return 0;
    }
    case KHO_TYPE_BOOLEAN: {
        bool b;
        if (flag(s, &b) != 0)
            return kho_err_setk(err, KHO_EINVAL, "bad_value",
                                "column '%s' holds true/false; '%.60s' is neither (use true, false, có, không, 1, 0)",
                                name, s);
        out->type = KHO_VAL_INT;
        out->i = b;
        return 0;
    }
    case KHO_TYPE_DATE: {
        char d[11];
        if (kho_parse_date(s, n, d) != 0)
            return kho_err_setk(err, KHO_EINVAL, "bad_value",
                                "column '%s' holds dates; '%.60s' is not a date (YYYY-MM-DD or dd/mm/yyyy)", name, s);
        out->type = KHO_VAL_TEXT;
        out->s = kho_xstrdup(d);
        return 0;
    }
    case KHO_TYPE_DATETIME: {
        char d[48];
        if (kho_parse_datetime(s, n, d) != 0)
            return kho_err_setk(err, KHO_EINVAL, "bad_value",
                                "column '%s' holds date-times; '%.60s' is not one (ISO 8601, e.g. 2024-03-31T08:30:00)",
                                name, s);
        out->type = KHO_VAL_TEXT;
        out->s = kho_xstrdup(d);
        return 0;
    }
    default:
        if (!kho_utf8_valid(s, n, NULL))
            return kho_err_setk(err, KHO_EINVAL, "bad_value", "the value for column '%s' is not valid UTF-8", name);
        out->type = KHO_VAL_TEXT;
        out->s = kho_text_nfc_dup(s);
        return 0;
    }
}

/* ---- building a query --------------------------------------------------------------- */

void kho_query_init(kho_query_t *q, const kho_version_info_t *v, const char *dataset, int64_t limit)
{
    memset(q, 0, sizeof *q);
    q->v = v;
    q->dataset = dataset;
    q->limit = limit > 0 ? limit : 100;
    q->sort[0].col = KHO_QUERY_ROW;
    q->nsort = 1;
    q->format = KHO_OUT_JSON;
}

static void free_after(kho_query_t *q)
{
    if (q->after)
        for (size_t i = 0; i < q->nsort; i++)
            qval_free(&q->after[i]);
    free(q->after);
    q->after = NULL;
    q->has_after = false;
}

void kho_query_free(kho_query_t *q)
{
    for (size_t i = 0; i < q->nfilters; i++) {
        for (size_t k = 0; k < q->filters[i].nvals; k++)
            qval_free(&q->filters[i].vals[k]);
        free(q->filters[i].vals);
    }
    free(q->text);
    free(q->fields);
    free_after(q);
    memset(q, 0, sizeof *q);
}

static const struct {
    const char *name;
    kho_op_t op;
} OPS[] = {{"eq", KHO_OP_EQ},       {"ne", KHO_OP_NE},         {"gt", KHO_OP_GT},
           {"gte", KHO_OP_GTE},     {"lt", KHO_OP_LT},         {"lte", KHO_OP_LTE},
           {"in", KHO_OP_IN},       {"contains", KHO_OP_CONTAINS}, {"startswith", KHO_OP_STARTSWITH},
           {"isnull", KHO_OP_ISNULL}};

static int op_parse(const char *s, kho_op_t *op)
{
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        if (strcmp(s, OPS[i].name) == 0) {
            *op = OPS[i].op;
            return 0;
        }
    return -1;
}

static int add_filter_col(kho_query_t *q, int col, kho_op_t op, const char *value, kho_err_t *err)
{
    const kho_version_info_t *v = q->v;
    const char *name = v->cols[col].name;
    if (is_encrypted(v, col))
        return refuse_encrypted(v, col, "filter rows", err);
    kho_type_t t = v->cols[col].type;
    if ((op == KHO_OP_CONTAINS || op == KHO_OP_STARTSWITH) && !textual(t))
        return kho_err_setk(err, KHO_EINVAL, "bad_operator",
                            "column '%s' holds %s values: __contains and __startswith apply to text, dates and "
                            "date-times (use __gt/__lt for ranges)",
                            name, kho_type_name(t));
    if (strlen(value) > 4096)
        return kho_err_setk(err, KHO_ETOOLARGE, "value_too_long", "the value for column '%s' is longer than 4096 bytes",
                            name);
    /* a repeated col=value means either value: merge into the first equality filter */
    kho_qfilter_t *f = NULL;
    if (op == KHO_OP_EQ)
        for (size_t i = 0; i < q->nfilters; i++)
            if (q->filters[i].col == col && q->filters[i].op == KHO_OP_EQ)
                f = &q->filters[i];
    if (!f) {
        if (q->nfilters >= KHO_QUERY_MAX_FILTERS)
            return kho_err_setk(err, KHO_EINVAL, "too_many_filters", "at most %d filters per query",
                                KHO_QUERY_MAX_FILTERS);
        f = &q->filters[q->nfilters++];
        memset(f, 0, sizeof *f);
        f->col = col;
        f->op = op;
    }
    int rc = 0;
    if (op == KHO_OP_ISNULL) {
        bool b;
        if (flag(value, &b) != 0)
            rc = kho_err_setk(err, KHO_EINVAL, "bad_value", "%s__isnull takes true or false, not '%.40s'", name, value);
        else {
            f->vals = kho_xcalloc(1, sizeof *f->vals);
            f->vals[0].type = KHO_VAL_INT;
            f->vals[0].i = b;
            f->nvals = 1;
        }
    } else if (op == KHO_OP_CONTAINS || op == KHO_OP_STARTSWITH) {
        if (!kho_utf8_valid(value, strlen(value), NULL))
            rc = kho_err_setk(err, KHO_EINVAL, "bad_value", "the value for column '%s' is not valid UTF-8", name);
        else {
            /* compared folded, as a LIKE pattern with % and _ escaped */
            kho_buf_t fo = KHO_BUF_INIT, pat = KHO_BUF_INIT;
            kho_text_fold(value, strlen(value), &fo);
            if (op == KHO_OP_CONTAINS)
                kho_buf_putc(&pat, '%');
            for (size_t i = 0; i < fo.len; i++) {
                if (fo.data[i] == '%' || fo.data[i] == '_' || fo.data[i] == '\\')
                    kho_buf_putc(&pat, '\\');
                kho_buf_putc(&pat, fo.data[i]);
            }
            kho_buf_putc(&pat, '%');
            f->vals = kho_xcalloc(1, sizeof *f->vals);
            f->vals[0].type = KHO_VAL_TEXT;
            f->vals[0].s = kho_xstrdup(pat.data);
            f->nvals = 1;
            kho_buf_free(&fo);
            kho_buf_free(&pat);
        }
    } else {
        /* one value, or a comma-separated list for __in */
        const char *p = value;
        for (;;) {
            const char *end = op == KHO_OP_IN ? strchr(p, ',') : NULL;
            size_t n = end ? (size_t)(end - p) : strlen(p);
            if (f->nvals >= KHO_QUERY_MAX_IN) {
                rc = kho_err_setk(err, KHO_EINVAL, "too_many_values", "at most %d values for column '%s'",
                                  KHO_QUERY_MAX_IN, name);
                break;
            }
            char *one = kho_xstrndup(p, n);
            kho_qval_t val;
            rc = parse_value(v, col, one, &val, err);
            free(one);
            if (rc != 0)
                break;
            f->vals = kho_xrealloc(f->vals, (f->nvals + 1) * sizeof *f->vals);
            f->vals[f->nvals++] = val;
            if (!end)
                break;
            p = end + 1;
        }
    }
    if (rc != 0 && f->nvals == 0) { /* drop a filter left empty */
        free(f->vals);
        q->nfilters--;
    }
    return rc;
}

int kho_query_add_filter(kho_query_t *q, const char *col, const char *op, const char *value, kho_err_t *err)
{
    int c = find_col(q->v, col, strlen(col));
    if (c < 0)
        return unknown_column(q->v, col, strlen(col), "filter", err);
    kho_op_t o;
    if (op_parse(op ? op : "eq", &o) != 0)
        return kho_err_setk(err, KHO_EINVAL, "bad_operator",
                            "unknown operator '%.20s' (use eq, ne, gt, gte, lt, lte, in, contains, startswith, isnull)",
                            op);
    return add_filter_col(q, c, o, value, err);
}

static int add_sort_key(kho_query_t *q, const char *name, size_t n, bool desc, kho_err_t *err)
{
    int col;
    if (n == 4 && memcmp(name, "_row", 4) == 0)
        col = KHO_QUERY_ROW;
    else if ((col = find_col(q->v, name, n)) < 0)
        return unknown_column(q->v, name, n, "_sort", err);
    else if (is_encrypted(q->v, col))
        return refuse_encrypted(q->v, col, "sort rows", err);
    for (size_t i = 0; i < q->nsort; i++)
        if (q->sort[i].col == col)
            return kho_err_setk(err, KHO_EINVAL, "bad_sort", "_sort names '%.*s' twice", (int)(n > 64 ? 64 : n), name);
    if (q->nsort >= KHO_QUERY_MAX_SORT)
        return kho_err_setk(err, KHO_EINVAL, "bad_sort", "at most %d sort keys", KHO_QUERY_MAX_SORT);
    q->sort[q->nsort].col = col;
    q->sort[q->nsort].desc = desc;
    q->nsort++;
    return 0;
}

int kho_query_set_sort(kho_query_t *q, const char *spec, bool ckan, kho_err_t *err)
{
    free_after(q);
    q->nsort = 0;
    q->sort_set = true;
    const char *p = spec;
    int rc = 0;
    while (rc == 0 && *p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        bool desc = false;
        if (ckan) {
            /* "col", "col asc", "col desc" (CKAN), also quoted "col" */
            const char *sp = memchr(p, ' ', n);
            if (sp) {
                const char *dir = sp + 1;
                size_t dn = n - (size_t)(dir - p);
                while (dn && *dir == ' ') {
                    dir++;
                    dn--;
                }
                if (dn == 4 && strncasecmp(dir, "desc", 4) == 0)
                    desc = true;
                else if (!(dn == 3 && strncasecmp(dir, "asc", 3) == 0))
                    return kho_err_setk(err, KHO_EINVAL, "bad_sort", "sort direction must be asc or desc, not '%.*s'",
                                        (int)(dn > 20 ? 20 : dn), dir);
                n = (size_t)(sp - p);
            }
            if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
                p++;
                n -= 2;
            }
        } else if (n > 0 && p[0] == '-') {
            desc = true;
            p++;
            n--;
        }
        if (n == 0)
            rc = kho_err_setk(err, KHO_EINVAL, "bad_sort", "_sort has an empty key (use col,-col2)");
        else
            rc = add_sort_key(q, p, n, desc, err);
        if (!end)
            break;
        p = end + 1;
    }
    /* the row number closes every order, so that it is total */
    bool has_row = false;
    for (size_t i = 0; i < q->nsort; i++)
        has_row |= q->sort[i].col == KHO_QUERY_ROW;
    if (!has_row) {
        q->sort[q->nsort].col = KHO_QUERY_ROW;
        q->sort[q->nsort].desc = false;
        q->nsort++;
    } else if (q->sort[q->nsort - 1].col != KHO_QUERY_ROW && rc == 0)
        rc = kho_err_setk(err, KHO_EINVAL, "bad_sort", "_row, when sorted on, must be the last key (it is unique)");
    return rc;
}

int kho_query_set_fields(kho_query_t *q, const char *spec, kho_err_t *err)
{
    free(q->fields);
    q->fields = NULL;
    q->nfields = 0;
    size_t cap = q->v->ncols ? q->v->ncols : 1;
    int *f = kho_xcalloc(cap, sizeof *f);
    size_t nf = 0;
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && *p == ' ') {
            p++;
            n--;
        }
        while (n && p[n - 1] == ' ')
            n--;
        if (!(n == 4 && memcmp(p, "_row", 4) == 0) && n) { /* _row always comes */
            int c = find_col(q->v, p, n);
            if (c < 0) {
                free(f);
                return unknown_column(q->v, p, n, "_fields", err);
            }
            bool dup = false;
            for (size_t i = 0; i < nf; i++)
                dup |= f[i] == c;
            if (!dup)
                f[nf++] = c;
        }
        if (!end)
            break;
        p = end + 1;
    }
    q->fields = f;
    q->nfields = nf;
    return 0;
}

int kho_query_set_text(kho_query_t *q, const char *text, kho_err_t *err)
{
    size_t n = strlen(text);
    if (n > MAX_TEXT)
        return kho_err_setk(err, KHO_ETOOLARGE, "query_too_long", "q= is longer than %d bytes", MAX_TEXT);
    if (!kho_utf8_valid(text, n, NULL))
        return kho_err_setk(err, KHO_EINVAL, "bad_value", "q= is not valid UTF-8");
    free(q->text);
    q->text = NULL;
    /* only spaces: no search */
    bool any = false;
    for (size_t i = 0; i < n; i++)
        any |= text[i] != ' ' && text[i] != '\t';
    if (any)
        q->text = kho_text_nfc_dup(text);
    return 0;
}

/* The next column of a comma-separated list at *p (empty names skipped; *p
 * advances past it). Returns 1 with *col set, 0 at the end of the list, or an
 * error naming `param`: an unknown column, or an encrypted one (which cannot
 * be used to `use`). */
static int next_column(const kho_query_t *q, const char **p, const char *param, const char *use, int *col,
                       kho_err_t *err)
{
    while (**p) {
        const char *s = *p, *end = strchr(s, ',');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        *p = end ? end + 1 : s + n;
        if (!n)
            continue;
        int c = find_col(q->v, s, n);
        if (c < 0)
            return unknown_column(q->v, s, n, param, err);
        if (is_encrypted(q->v, c))
            return refuse_encrypted(q->v, c, use, err);
        *col = c;
        return 1;
    }
    return 0;
}

int kho_query_add_facet(kho_query_t *q, const char *col, kho_err_t *err)
{
    const char *p = col;
    int c, r;
    while ((r = next_column(q, &p, "_facet", "count values", &c, err)) == 1) {
        bool dup = false;
        for (size_t i = 0; i < q->nfacets; i++)
            dup |= q->facets[i] == c;
        if (!dup) {
            if (q->nfacets >= KHO_QUERY_MAX_FACETS)
                return kho_err_setk(err, KHO_EINVAL, "too_many_facets", "at most %d facets", KHO_QUERY_MAX_FACETS);
            q->facets[q->nfacets++] = c;
        }
    }
    return r;
}

/* ---- cursors ---------------------------------------------------------------------- */

/* The sort as text, to tie a cursor to it: "name,-name2,_row" ("~" for the exact-match key). */
static void sort_signature(const kho_query_t *q, kho_buf_t *b)
{
    for (size_t i = 0; i < q->nsort; i++) {
        if (i)
            kho_buf_putc(b, ',');
        if (q->sort[i].desc)
            kho_buf_putc(b, '-');
        int c = q->sort[i].col;
        kho_buf_puts(b, c == KHO_QUERY_ROW ? "_row" : c == KHO_QUERY_EXACT ? "~" : q->v->cols[c].name);
    }
}

static int bad_cursor(kho_err_t *err, const char *why)
{
    return kho_err_setk(err, KHO_EINVAL, "bad_cursor", "_after is not a cursor of this query: %s", why);
}

int kho_query_set_after(kho_query_t *q, const char *cursor, kho_err_t *err)
{
    free_after(q);
    size_t n = strlen(cursor);
    if (n == 0 || n > KHO_QUERY_CURSOR_MAX)
        return bad_cursor(err, n ? "too long" : "empty");
    unsigned char *bin = kho_xmalloc(n + 1);
    size_t bl = 0;
    if (sodium_base642bin(bin, n, cursor, n, NULL, &bl, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
        free(bin);
        return bad_cursor(err, "it does not decode (copy the whole value of \"next\")");
    }
    json_error_t je;
    json_t *j = json_loadb((const char *)bin, bl, JSON_REJECT_DUPLICATES, &je);
    free(bin);
    json_t *jd = json_object_get(j, "d"), *jv = json_object_get(j, "v"), *js = json_object_get(j, "s"),
           *jk = json_object_get(j, "k");
    int rc = 0;
    if (!json_is_object(j) || !json_is_string(jd) || !json_is_integer(jv) || !json_is_string(js) ||
        !json_is_array(jk))
        rc = bad_cursor(err, "it does not decode (copy the whole value of \"next\")");
    else if (!q->dataset || strcmp(json_string_value(jd), q->dataset) != 0)
        rc = bad_cursor(err, "it belongs to another dataset");
    else if (json_integer_value(jv) != q->v->number)
        rc = kho_err_setk(err, KHO_EINVAL, "bad_cursor",
                          "_after belongs to version %lld, not %lld (a cursor stays with its version: add "
                          "version=%lld)",
                          (long long)json_integer_value(jv), (long long)q->v->number,
                          (long long)json_integer_value(jv));
    else {
        kho_buf_t sig = KHO_BUF_INIT;
        sort_signature(q, &sig);
        if (strcmp(sig.data, json_string_value(js)) != 0)
            rc = bad_cursor(err, "it was made for another _sort");
        kho_buf_free(&sig);
    }
    if (rc == 0 && json_array_size(jk) != q->nsort)
        rc = bad_cursor(err, "wrong number of sort values");
    if (rc == 0) {
        q->after = kho_xcalloc(q->nsort, sizeof *q->after);
        for (size_t i = 0; i < q->nsort && rc == 0; i++) {
            json_t *x = json_array_get(jk, i);
            kho_qval_t *a = &q->after[i];
            if (json_is_null(x))
                a->type = KHO_VAL_NULL;
            else if (json_is_integer(x)) {
                a->type = KHO_VAL_INT;
                a->i = json_integer_value(x);
            } else if (json_is_real(x)) {
                a->type = KHO_VAL_REAL;
                a->d = json_real_value(x);
            } else if (json_is_string(x) && kho_utf8_valid(json_string_value(x), json_string_length(x), NULL) &&
                       strlen(json_string_value(x)) == json_string_length(x)) {
                a->type = KHO_VAL_TEXT;
                a->s = kho_xstrdup(json_string_value(x));
            } else
                rc = bad_cursor(err, "a sort value has the wrong type");
        }
        /* the last key is the row number */
        if (rc == 0 && q->after[q->nsort - 1].type != KHO_VAL_INT)
            rc = bad_cursor(err, "no row number");
        if (rc == 0)
            q->has_after = true;
        else
            free_after(q);
    }
    json_decref(j);
    return rc;
}

/* ---- parameters --------------------------------------------------------------------- */

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

int kho_query_parse(kho_query_t *q, const kho_qparam_t *params, size_t n, const char *const *also,
                    const kho_query_limits_t *lim, kho_err_t *err)
{
    const char *after = NULL;
    int rc = 0;
    /* sort first: a cursor and the exact-match ranking depend on it */
    for (size_t i = 0; i < n && rc == 0; i++)
        if (strcmp(params[i].key, "_sort") == 0)
            rc = kho_query_set_sort(q, params[i].val, false, err);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *k = params[i].key, *val = params[i].val;
        if (strcmp(k, "_sort") == 0 || strcmp(k, "version") == 0 || in_list(also, k))
            continue;
        if (strcmp(k, "q") == 0)
            rc = kho_query_set_text(q, val, err);
        else if (strcmp(k, "_fields") == 0)
            rc = kho_query_set_fields(q, val, err);
        else if (strcmp(k, "_facet") == 0)
            rc = kho_query_add_facet(q, val, err);
        else if (strcmp(k, "_after") == 0)
            after = val;
        else if (strcmp(k, "_offset") == 0) {
            char *end = NULL;
            long long o = strtoll(val, &end, 10);
            if (!*val || *end || o < 0 || val[0] == '+' || val[0] == ' ')
                rc = kho_err_setk(err, KHO_EINVAL, "bad_parameter",
                                  "_offset must be a whole number of at least 0, not '%.20s' (better: follow "
                                  "\"next\", whose _after cursor never skips rows one by one)",
                                  val);
            else
                q->offset = o;
        }
        else if (strcmp(k, "_count") == 0) {
            bool b;
            if (flag(val, &b) != 0)
                rc = kho_err_setk(err, KHO_EINVAL, "bad_parameter", "_count takes true or false, not '%.20s'", val);
            else
                q->count = b;
        } else if (strcmp(k, "_format") == 0) {
            int f = kho_outfmt_parse(val);
            if (f < 0)
                rc = kho_err_setk(err, KHO_EINVAL, "bad_parameter", "_format must be json, csv or ndjson, not '%.20s'",
                                  val);
            else {
                q->format = (kho_outfmt_t)f;
                q->format_set = true;
            }
        } else if (strcmp(k, "_limit") == 0) {
            char *end = NULL;
            long long l = strtoll(val, &end, 10);
            if (!*val || *end || l < 1 || val[0] == '+' || val[0] == ' ')
                rc = kho_err_setk(err, KHO_EINVAL, "bad_parameter", "_limit must be a whole number of at least 1, "
                                  "not '%.20s'", val);
            else {
                q->limit = l;
                q->limit_set = true;
            }
        } else if (k[0] == '_')
            rc = kho_err_setk(err, KHO_EINVAL, "unknown_parameter",
                              "unknown parameter '%.40s' (this endpoint takes: q, _sort, _fields, _limit, _after, "
                              "_count, _facet, _format, version, and filters col=value or col__op=value)",
                              k);
        else {
            const char *sep = strstr(k, "__");
            const char *last = sep;
            while (last && strstr(last + 2, "__"))
                last = strstr(last + 2, "__");
            kho_op_t op = KHO_OP_EQ;
            size_t cn = last ? (size_t)(last - k) : strlen(k);
            if (last && op_parse(last + 2, &op) != 0)
                rc = kho_err_setk(err, KHO_EINVAL, "bad_operator",
                                  "unknown operator '__%.20s' in '%.60s' (use __ne, __gt, __gte, __lt, __lte, __in, "
                                  "__contains, __startswith, __isnull)",
                                  last + 2, k);
            else {
                int c = find_col(q->v, k, cn);
                rc = c < 0 ? unknown_column(q->v, k, cn, "filter", err) : add_filter_col(q, c, op, val, err);
            }
        }
    }
    if (rc != 0)
        return rc;
    /* q= with tone marks and no explicit order: exact matches first */
    if (q->text && !q->sort_set && kho_text_has_marks(q->text, strlen(q->text))) {
        q->sort[0].col = KHO_QUERY_EXACT;
        q->sort[0].desc = true;
        q->sort[1].col = KHO_QUERY_ROW;
        q->sort[1].desc = false;
        q->nsort = 2;
    }
    if (q->format == KHO_OUT_JSON || q->limit_set) {
        if (!q->limit_set)
            q->limit = lim ? lim->default_limit : 100;
        if (q->format == KHO_OUT_JSON && lim && q->limit > lim->max_limit)
            return kho_err_setk(err, KHO_EINVAL, "bad_parameter",
                                "_limit is at most %lld per JSON page (follow \"next\", or ask for _format=csv or "
                                "ndjson to stream everything)",
                                (long long)lim->max_limit);
    }
    if (after && q->offset)
        return kho_err_setk(err, KHO_EINVAL, "bad_parameter", "give _after or _offset, not both");
    if (after)
        rc = kho_query_set_after(q, after, err);
    return rc;
}

int kho_query_check_view(const kho_query_t *q, const kho_rows_view_t *view, kho_err_t *err)
{
    if (!view || !view->mask)
        return 0;
    const kho_version_info_t *v = q->v;
#define PERSONAL(c) ((c) >= 0 && kho_tags_personal(v->cols[c].tags))
    for (size_t i = 0; i < q->nfilters; i++)
        if (PERSONAL(q->filters[i].col))
            return kho_err_setk(err, KHO_EFORBIDDEN, "personal_column",
                                "column '%s' is personal data: filtering on it needs pii:read and a grant that includes "
                                "personal data",
                                v->cols[q->filters[i].col].name);
    for (size_t i = 0; i < q->nsort; i++)
        if (PERSONAL(q->sort[i].col))
            return kho_err_setk(err, KHO_EFORBIDDEN, "personal_column",
                                "column '%s' is personal data: sorting on it needs pii:read and a grant that includes "
                                "personal data",
                                v->cols[q->sort[i].col].name);
    for (size_t i = 0; i < q->nfacets; i++)
        if (PERSONAL(q->facets[i]))
            return kho_err_setk(err, KHO_EFORBIDDEN, "personal_column",
                                "column '%s' is personal data: counting its values needs pii:read and a grant that "
                                "includes personal data",
                                v->cols[q->facets[i]].name);
#undef PERSONAL
    return 0;
}

/* ---- SQL ----------------------------------------------------------------------------- */

typedef struct sqlb {
    kho_buf_t sql;
    kho_qval_t *binds; /* owned copies */
    size_t n, cap;
} sqlb_t;

static void sqlb_free(sqlb_t *b)
{
    kho_buf_free(&b->sql);
    for (size_t i = 0; i < b->n; i++)
        qval_free(&b->binds[i]);
    free(b->binds);
}

static void sqlb_bind(sqlb_t *b, const kho_qval_t *v)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->binds = kho_xrealloc(b->binds, b->cap * sizeof *b->binds);
    }
    qval_copy(&b->binds[b->n++], v);
    kho_buf_putc(&b->sql, '?');
}

static void sqlb_bind_text(sqlb_t *b, const char *s)
{
    kho_qval_t v = {.type = KHO_VAL_TEXT, .s = (char *)s};
    sqlb_bind(b, &v);
}

static void col_ref(sqlb_t *b, const kho_version_info_t *v, int col)
{
    char q[160];
    kho_store_quote_ident(v->cols[col].name, q, sizeof q);
    kho_buf_puts(&b->sql, "t.");
    kho_buf_puts(&b->sql, q);
}

static void fts_name(const kho_version_info_t *v, char *out, size_t size)
{
    char raw[96];
    snprintf(raw, sizeof raw, "%s_fts", v->table);
    kho_store_quote_ident(raw, out, size);
}

/* FTS5 query text: `col : "w1"* AND col : "w2"*` over the words of s (split on
 * white space; quotes doubled), prefixes when `prefix`. */
static void fts_match(const char *col, const char *s, bool prefix, kho_buf_t *out)
{
    size_t words = 0;
    const char *p = s;
    while (*p && words < MAX_WORDS) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != ' ' && *e != '\t')
            e++;
        if (words++)
            kho_buf_puts(out, " AND ");
        kho_buf_printf(out, "%s : \"", col);
        for (const char *c = p; c < e; c++) {
            if (*c == '"')
                kho_buf_putc(out, '"');
            kho_buf_putc(out, *c);
        }
        kho_buf_puts(out, prefix ? "\"*" : "\"");
        p = e;
    }
}

static void exact_expr(sqlb_t *b, const kho_query_t *q)
{
    char fts[160];
    fts_name(q->v, fts, sizeof fts);
    kho_buf_t lower = KHO_BUF_INIT, m = KHO_BUF_INIT;
    kho_text_lower(q->text, strlen(q->text), &lower);
    fts_match("exact", lower.data ? lower.data : "", false, &m);
    kho_buf_printf(&b->sql, "(t._row IN (SELECT rowid FROM %s WHERE %s MATCH ", fts, fts);
    sqlb_bind_text(b, m.data ? m.data : "\"\"");
    kho_buf_puts(&b->sql, "))");
    kho_buf_free(&lower);
    kho_buf_free(&m);
}

static void sort_expr(sqlb_t *b, const kho_query_t *q, int col)
{
    if (col == KHO_QUERY_ROW)
        kho_buf_puts(&b->sql, "t._row");
    else if (col == KHO_QUERY_EXACT)
        exact_expr(b, q);
    else
        col_ref(b, q->v, col);
}

static void where_filters(sqlb_t *b, const kho_query_t *q, bool *first)
{
    const kho_version_info_t *v = q->v;
    for (size_t i = 0; i < q->nfilters; i++) {
        const kho_qfilter_t *f = &q->filters[i];
        kho_buf_puts(&b->sql, *first ? " WHERE " : " AND ");
        *first = false;
        static const char *const cmp[] = {[KHO_OP_GT] = " > ", [KHO_OP_GTE] = " >= ", [KHO_OP_LT] = " < ",
                                          [KHO_OP_LTE] = " <= "};
        switch (f->op) {
        case KHO_OP_EQ:
        case KHO_OP_IN:
            col_ref(b, v, f->col);
            if (f->nvals == 1) {
                kho_buf_puts(&b->sql, " = ");
                sqlb_bind(b, &f->vals[0]);
            } else {
                kho_buf_puts(&b->sql, " IN (");
                for (size_t k = 0; k < f->nvals; k++) {
                    if (k)
                        kho_buf_putc(&b->sql, ',');
                    sqlb_bind(b, &f->vals[k]);
                }
                kho_buf_putc(&b->sql, ')');
            }
            break;
        case KHO_OP_NE: /* not equal, or no value */
            kho_buf_putc(&b->sql, '(');
            col_ref(b, v, f->col);
            kho_buf_puts(&b->sql, " IS NOT ");
            sqlb_bind(b, &f->vals[0]);
            kho_buf_putc(&b->sql, ')');
            break;
        case KHO_OP_GT:
        case KHO_OP_GTE:
        case KHO_OP_LT:
        case KHO_OP_LTE:
            col_ref(b, v, f->col);
            kho_buf_puts(&b->sql, cmp[f->op]);
            sqlb_bind(b, &f->vals[0]);
            break;
        case KHO_OP_CONTAINS:
        case KHO_OP_STARTSWITH:
            kho_buf_puts(&b->sql, "kho_fold(");
            col_ref(b, v, f->col);
            kho_buf_puts(&b->sql, ") LIKE ");
            sqlb_bind(b, &f->vals[0]);
            kho_buf_puts(&b->sql, " ESCAPE '\\'");
            break;
        case KHO_OP_ISNULL:
            col_ref(b, v, f->col);
            kho_buf_puts(&b->sql, f->vals[0].i ? " IS NULL" : " IS NOT NULL");
            break;
        }
    }
    if (q->text) {
        char fts[160];
        fts_name(v, fts, sizeof fts);
        kho_buf_t fo = KHO_BUF_INIT, m = KHO_BUF_INIT;
        kho_text_fold(q->text, strlen(q->text), &fo);
        fts_match("folded", fo.data ? fo.data : "", true, &m);
        kho_buf_puts(&b->sql, *first ? " WHERE " : " AND ");
        *first = false;
        kho_buf_printf(&b->sql, "t._row IN (SELECT rowid FROM %s WHERE %s MATCH ", fts, fts);
        sqlb_bind_text(b, m.data ? m.data : "\"\"");
        kho_buf_puts(&b->sql, ")");
        kho_buf_free(&fo);
        kho_buf_free(&m);
    }
}

/* The keyset condition: rows after the cursor in the query's order. With keys
 * k1..kn (kn = _row) and cursor a1..an:
 *   after(k1) OR (k1 IS a1 AND after(k2)) OR ... ; after(k) per direction and NULLs
 * (SQLite sorts NULL first ascending, last descending). */
static void where_after(sqlb_t *b, const kho_query_t *q, bool *first)
{
    if (!q->has_after)
        return;
    kho_buf_puts(&b->sql, *first ? " WHERE (" : " AND (");
    *first = false;
    for (size_t i = 0; i < q->nsort; i++) {
        if (i)
            kho_buf_puts(&b->sql, " OR ");
        kho_buf_putc(&b->sql, '(');
        for (size_t k = 0; k < i; k++) {
            sort_expr(b, q, q->sort[k].col);
            kho_buf_puts(&b->sql, " IS ");
            sqlb_bind(b, &q->after[k]);
            kho_buf_puts(&b->sql, " AND ");
        }
        const kho_qval_t *a = &q->after[i];
        bool desc = q->sort[i].desc;
        if (a->type == KHO_VAL_NULL && !desc) {
            sort_expr(b, q, q->sort[i].col);
            kho_buf_puts(&b->sql, " IS NOT NULL");
        } else if (a->type == KHO_VAL_NULL) {
            kho_buf_puts(&b->sql, "0");
        } else {
            if (desc)
                kho_buf_putc(&b->sql, '(');
            sort_expr(b, q, q->sort[i].col);
            kho_buf_puts(&b->sql, desc ? " < " : " > ");
            sqlb_bind(b, a);
            if (desc) {
                kho_buf_puts(&b->sql, " OR ");
                sort_expr(b, q, q->sort[i].col);
                kho_buf_puts(&b->sql, " IS NULL)");
            }
        }
        kho_buf_putc(&b->sql, ')');
    }
    kho_buf_putc(&b->sql, ')');
}

static void from_table(sqlb_t *b, const kho_version_info_t *v)
{
    char t[160];
    kho_store_quote_ident(v->table, t, sizeof t);
    kho_buf_printf(&b->sql, " FROM %s AS t", t);
}

static int prepare(kho_store_t *s, sqlb_t *b, kho_stmt_t **st, kho_err_t *err)
{
    int rc = kho_store_cached(s, b->sql.data, st, err);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < b->n; i++)
        qval_bind(*st, (int)i + 1, &b->binds[i]);
    return 0;
}

/* When q= is given, the version must have a full-text index. */
static int check_fts(kho_store_t *s, const kho_query_t *q, kho_err_t *err)
{
    if (!q->text)
        return 0;
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(s, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", &st, err);
    if (rc != 0)
        return rc;
    char name[96];
    snprintf(name, sizeof name, "%s_fts", q->v->table);
    kho_stmt_bind_str(st, 1, name);
    rc = kho_stmt_step(st, err);
    kho_stmt_reset(st);
    if (rc == KHO_STEP_ROW)
        return 0;
    if (rc < 0)
        return rc;
    return kho_err_setk(err, KHO_EINVAL, "no_text_index",
                        "this version has no full-text index (it has no text columns that are not personal data): "
                        "use col__contains=... instead of q=");
}

bool kho_query_is_index_lookup(kho_store_t *s, const kho_query_t *q)
{
    if (q->text || q->nfacets || q->count || q->distinct || q->offset || q->nfilters == 0 || q->limit > 1000 ||
        q->nsort != 1 || q->sort[0].col != KHO_QUERY_ROW || q->sort[0].desc)
        return false;
    for (size_t i = 0; i < q->nfilters; i++) {
        const kho_qfilter_t *f = &q->filters[i];
        if (f->op != KHO_OP_EQ && f->op != KHO_OP_IN)
            return false;
    }
    /* one of the filtered columns must have its index (the planner picks it) */
    kho_stmt_t *st = NULL;
    kho_err_t err;
    if (kho_store_cached(s, "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", &st, &err) != 0)
        return false;
    bool found = false;
    for (size_t i = 0; i < q->nfilters && !found; i++) {
        char ix[160];
        (void)kho_fmt(ix, sizeof ix, "ix_%s_%s", q->v->table, q->v->cols[q->filters[i].col].name);
        kho_stmt_bind_str(st, 1, ix);
        found = kho_stmt_step(st, &err) == KHO_STEP_ROW;
        kho_stmt_reset(st);
    }
    return found;
}

/* ---- running ------------------------------------------------------------------------ */

struct kho_qrun {
    kho_store_t *s;
    const kho_query_t *q;
    kho_stmt_t *st;
    kho_rowfmt_t *fmt;
    bool paged, more;
    int64_t out;     /* rows returned */
    int keycol;      /* statement column of the first sort key */
    char cursor[KHO_QUERY_CURSOR_MAX + 1];
    kho_qval_t *last; /* sort values of the last row returned */
};

static size_t nfields(const kho_query_t *q)
{
    return q->fields ? q->nfields : q->v->ncols;
}

static int field(const kho_query_t *q, size_t k)
{
    return q->fields ? q->fields[k] : (int)k;
}

int kho_query_open(kho_store_t *s, const kho_query_t *q, const kho_rows_view_t *view, bool paged, kho_qrun_t **out,
                   kho_err_t *err)
{
    int rc = check_fts(s, q, err);
    if (rc != 0)
        return rc;
    sqlb_t b = {0};
    size_t nf = nfields(q);
    if (q->distinct) {
        /* CKAN's distinct over the returned fields: one row per distinct tuple */
        for (size_t i = 0; i < q->nsort; i++) {
            int c = q->sort[i].col;
            bool ok = c == KHO_QUERY_ROW;
            for (size_t k = 0; k < nf && !ok; k++)
                ok = field(q, k) == c;
            if (!ok) {
                sqlb_free(&b);
                return kho_err_setk(err, KHO_EINVAL, "bad_sort", "with distinct, sort only on returned fields");
            }
        }
        kho_buf_puts(&b.sql, "SELECT min(t._row) AS _row");
    } else
        kho_buf_puts(&b.sql, "SELECT t._row");
    for (size_t k = 0; k < nf; k++) {
        kho_buf_putc(&b.sql, ',');
        col_ref(&b, q->v, field(q, k));
    }
    int keycol = 1 + (int)nf;
    if (!q->distinct)
        for (size_t i = 0; i < q->nsort; i++) {
            kho_buf_putc(&b.sql, ',');
            sort_expr(&b, q, q->sort[i].col);
        }
    from_table(&b, q->v);
    bool first = true;
    where_filters(&b, q, &first);
    if (!q->distinct)
        where_after(&b, q, &first);
    /* rows are numbered 1..n: skipping the first k rows in file order is a seek */
    bool seek = q->offset > 0 && first && !q->distinct && q->nsort == 1 && q->sort[0].col == KHO_QUERY_ROW &&
                !q->sort[0].desc;
    if (seek) {
        kho_qval_t off = {.type = KHO_VAL_INT, .i = q->offset};
        kho_buf_puts(&b.sql, " WHERE t._row > ");
        sqlb_bind(&b, &off);
    }
    if (q->distinct) {
        kho_buf_puts(&b.sql, " GROUP BY ");
        for (size_t k = 0; k < nf; k++) {
            if (k)
                kho_buf_putc(&b.sql, ',');
            col_ref(&b, q->v, field(q, k));
        }
    }
    kho_buf_puts(&b.sql, " ORDER BY ");
    for (size_t i = 0; i < q->nsort; i++) {
        if (i)
            kho_buf_putc(&b.sql, ',');
        if (q->distinct && q->sort[i].col == KHO_QUERY_ROW)
            kho_buf_puts(&b.sql, "_row");
        else
            sort_expr(&b, q, q->sort[i].col);
        if (q->sort[i].desc)
            kho_buf_puts(&b.sql, " DESC");
    }
    if (paged || q->limit_set) {
        kho_qval_t lim = {.type = KHO_VAL_INT, .i = q->limit < INT64_MAX ? q->limit + (paged ? 1 : 0) : q->limit};
        kho_buf_puts(&b.sql, " LIMIT ");
        sqlb_bind(&b, &lim);
    } else
        kho_buf_puts(&b.sql, " LIMIT -1");
    if (q->offset > 0 && !seek) {
        kho_qval_t off = {.type = KHO_VAL_INT, .i = q->offset};
        kho_buf_puts(&b.sql, " OFFSET ");
        sqlb_bind(&b, &off);
    }
    kho_stmt_t *st = NULL;
    rc = prepare(s, &b, &st, err);
    sqlb_free(&b);
    if (rc != 0)
        return rc;
    kho_qrun_t *r = kho_xcalloc(1, sizeof *r);
    r->s = s;
    r->q = q;
    r->st = st;
    r->paged = paged;
    r->keycol = keycol;
    r->fmt = kho_rowfmt_new(s, q->v, view, q->fields ? q->fields : NULL, q->fields ? q->nfields : 0);
    r->last = kho_xcalloc(q->nsort, sizeof *r->last);
    *out = r;
    return 0;
}

int kho_query_next(kho_qrun_t *r, kho_err_t *err)
{
    if (r->paged && r->out >= r->q->limit) {
        /* the extra row read says whether there is a next page */
        int rc = kho_stmt_step(r->st, err);
        if (rc == KHO_STEP_ROW)
            r->more = true;
        return rc < 0 ? rc : KHO_STEP_DONE;
    }
    int rc = kho_stmt_step(r->st, err);
    if (rc != KHO_STEP_ROW)
        return rc;
    r->out++;
    r->cursor[0] = '\0';
    if (!r->q->distinct)
        for (size_t i = 0; i < r->q->nsort; i++) {
            qval_free(&r->last[i]);
            qval_from_stmt(r->st, r->keycol + (int)i, &r->last[i]);
        }
    return KHO_STEP_ROW;
}

bool kho_query_has_more(const kho_qrun_t *r)
{
    return r->more;
}

int kho_query_row_object(kho_qrun_t *r, kho_buf_t *out, kho_err_t *err)
{
    return kho_rowfmt_object(r->fmt, r->st, out, err);
}

int kho_query_row_array(kho_qrun_t *r, kho_buf_t *out, kho_err_t *err)
{
    return kho_rowfmt_array(r->fmt, r->st, out, err);
}

int kho_query_row_csv(kho_qrun_t *r, kho_buf_t *out, kho_err_t *err)
{
    return kho_rowfmt_csv(r->fmt, r->st, out, err);
}

void kho_query_csv_header(const kho_query_t *q, kho_buf_t *out)
{
    size_t nf = nfields(q);
    for (size_t k = 0; k < nf; k++) {
        if (k)
            kho_buf_putc(out, ',');
        const char *name = q->v->cols[field(q, k)].name;
        /* safe identifiers never need quoting */
        kho_buf_puts(out, name);
    }
    kho_buf_append(out, "\r\n", 2);
}

const char *kho_query_cursor(kho_qrun_t *r)
{
    if (r->cursor[0] || r->out == 0 || r->q->distinct)
        return r->cursor;
    json_t *k = json_array();
    for (size_t i = 0; i < r->q->nsort; i++) {
        const kho_qval_t *v = &r->last[i];
        json_array_append_new(k, v->type == KHO_VAL_INT    ? json_integer(v->i)
                                 : v->type == KHO_VAL_REAL ? json_real(v->d)
                                 : v->type == KHO_VAL_TEXT ? json_string(v->s)
                                                           : json_null());
    }
    kho_buf_t sig = KHO_BUF_INIT;
    sort_signature(r->q, &sig);
    json_t *j = json_pack("{s:s,s:I,s:s,s:o}", "d", r->q->dataset ? r->q->dataset : "", "v",
                          (json_int_t)r->q->v->number, "s", sig.data, "k", k);
    kho_buf_free(&sig);
    kho_buf_t txt = KHO_BUF_INIT;
    kho_json_dump(&txt, j, 0);
    json_decref(j);
    size_t need = sodium_base64_ENCODED_LEN(txt.len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (need <= sizeof r->cursor)
        sodium_bin2base64(r->cursor, sizeof r->cursor, (const unsigned char *)txt.data, txt.len,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    /* else: a sort value too long for a cursor (a very long text); no cursor, no next page */
    kho_buf_free(&txt);
    return r->cursor;
}

int64_t kho_query_rows_out(const kho_qrun_t *r)
{
    return r->out;
}

void kho_query_close(kho_qrun_t *r)
{
    if (!r)
        return;
    kho_stmt_reset(r->st);
    kho_rowfmt_free(r->fmt);
    for (size_t i = 0; i < r->q->nsort; i++)
        qval_free(&r->last[i]);
    free(r->last);
    free(r);
}

/* ---- counts and facets --------------------------------------------------------------- */

int kho_query_count(kho_store_t *s, const kho_query_t *q, int64_t budget_ms, int64_t *total, bool *lower_bound,
                    kho_err_t *err)
{
    *lower_bound = false;
    if (q->nfilters == 0 && !q->text && !q->distinct) {
        *total = q->v->rows;
        return 0;
    }
    int rc = check_fts(s, q, err);
    if (rc != 0)
        return rc;
    sqlb_t b = {0};
    kho_buf_puts(&b.sql, q->distinct ? "SELECT DISTINCT " : "SELECT 1");
    for (size_t k = 0; q->distinct && k < nfields(q); k++) {
        if (k)
            kho_buf_putc(&b.sql, ',');
        col_ref(&b, q->v, field(q, k));
    }
    from_table(&b, q->v);
    bool first = true;
    where_filters(&b, q, &first);
    kho_stmt_t *st = NULL;
    rc = prepare(s, &b, &st, err);
    sqlb_free(&b);
    if (rc != 0)
        return rc;
    kho_store_deadline(s, budget_ms);
    int64_t n = 0;
    kho_err_t e2;
    while ((rc = kho_stmt_step(st, &e2)) == KHO_STEP_ROW)
        n++;
    bool timed_out = kho_store_timed_out(s);
    kho_store_deadline(s, 0);
    kho_stmt_reset(st);
    if (rc == KHO_ETIMEOUT || (rc < 0 && timed_out)) {
        *total = n;
        *lower_bound = true;
        return 0;
    }
    if (rc < 0) {
        if (err)
            *err = e2;
        return rc;
    }
    *total = n;
    return 0;
}

static json_t *json_of(kho_stmt_t *st, int i, kho_type_t t)
{
    switch (kho_stmt_col_type(st, i)) {
    case KHO_VAL_INT:
        return t == KHO_TYPE_BOOLEAN ? json_boolean(kho_stmt_col_int(st, i)) : json_integer(kho_stmt_col_int(st, i));
    case KHO_VAL_REAL: return json_real(kho_stmt_col_double(st, i));
    case KHO_VAL_TEXT: return json_stringn(kho_stmt_col_text(st, i), kho_stmt_col_bytes(st, i));
    default: return json_null();
    }
}

int kho_query_facets(kho_store_t *s, const kho_query_t *q, int64_t budget_ms, json_t **out, kho_err_t *err)
{
    *out = NULL;
    int rc = check_fts(s, q, err);
    if (rc != 0)
        return rc;
    json_t *all = json_object();
    kho_store_deadline(s, budget_ms);
    for (size_t f = 0; f < q->nfacets && rc == 0; f++) {
        int c = q->facets[f];
        sqlb_t b = {0};
        kho_buf_puts(&b.sql, "SELECT ");
        col_ref(&b, q->v, c);
        kho_buf_puts(&b.sql, ", count(*)");
        from_table(&b, q->v);
        bool first = true;
        where_filters(&b, q, &first);
        kho_buf_printf(&b.sql, " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %d", FACET_TOP);
        kho_stmt_t *st = NULL;
        rc = prepare(s, &b, &st, err);
        sqlb_free(&b);
        if (rc != 0)
            break;
        json_t *arr = json_array();
        while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW)
            json_array_append_new(arr, json_pack("{s:o,s:I}", "value", json_of(st, 0, q->v->cols[c].type), "count",
                                                 (json_int_t)kho_stmt_col_int(st, 1)));
        kho_stmt_reset(st);
        json_object_set_new(all, q->v->cols[c].name, arr);
        rc = rc < 0 ? rc : 0;
    }
    kho_store_deadline(s, 0);
    if (rc != 0) {
        json_decref(all);
        if (rc == KHO_ETIMEOUT)
            kho_err_setk(err, KHO_ETIMEOUT, "timeout",
                         "counting the facets took longer than the limit of %lld ms (filter the rows first)",
                         (long long)budget_ms);
        return rc;
    }
    *out = all;
    return 0;
}

/* ---- aggregates ----------------------------------------------------------------------- */

static const char *const AGG_PARAMS[] = {"group", "sum", "avg", "min", "max", "count", "_limit", NULL};

static int agg_cols(kho_agg_t *a, const kho_query_t *q, kho_aggfn_t fn, const char *spec, kho_err_t *err)
{
    static const char *const names[] = {"count", "sum", "avg", "min", "max"};
    const char *p = spec;
    int c, r;
    while ((r = next_column(q, &p, names[fn], "aggregate", &c, err)) == 1) {
        kho_type_t t = q->v->cols[c].type;
        if ((fn == KHO_AGG_SUM || fn == KHO_AGG_AVG) && !numeric(t))
            return kho_err_setk(err, KHO_EINVAL, "bad_aggregate", "%s needs a numeric column; '%s' holds %s",
                                names[fn], q->v->cols[c].name, kho_type_name(t));
        if (a->nm >= KHO_AGG_MAX_MEASURES)
            return kho_err_setk(err, KHO_EINVAL, "bad_aggregate", "at most %d measures", KHO_AGG_MAX_MEASURES);
        a->m[a->nm].fn = fn;
        a->m[a->nm].col = c;
        a->nm++;
    }
    return r;
}

int kho_agg_parse(kho_agg_t *a, kho_query_t *q, const kho_qparam_t *params, size_t n, const kho_query_limits_t *lim,
                  kho_err_t *err)
{
    memset(a, 0, sizeof *a);
    a->limit = 1000;
    for (size_t i = 0; i < n; i++)
        if (strncmp(params[i].key, "_", 1) == 0 && strcmp(params[i].key, "_limit") != 0 &&
            strcmp(params[i].key, "_format") != 0)
            return kho_err_setk(err, KHO_EINVAL, "unknown_parameter",
                                "unknown parameter '%.40s' (aggregate takes: group, count, sum, avg, min, max, "
                                "_limit, q, version, and filters col=value or col__op=value)",
                                params[i].key);
    int rc = kho_query_parse(q, params, n, AGG_PARAMS, lim, err);
    bool want_count = false;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *k = params[i].key, *v = params[i].val;
        if (strcmp(k, "group") == 0) {
            const char *p = v;
            int c, r;
            while (rc == 0 && (r = next_column(q, &p, "group", "group rows", &c, err)) == 1) {
                bool dup = false;
                for (size_t g = 0; g < a->ngroup; g++)
                    dup |= a->group[g] == c;
                if (!dup && a->ngroup >= KHO_AGG_MAX_GROUP)
                    rc = kho_err_setk(err, KHO_EINVAL, "bad_aggregate", "at most %d group columns", KHO_AGG_MAX_GROUP);
                else if (!dup)
                    a->group[a->ngroup++] = c;
            }
            if (rc == 0 && r < 0)
                rc = r;
        } else if (strcmp(k, "count") == 0) {
            bool b;
            if (flag(v, &b) != 0)
                rc = kho_err_setk(err, KHO_EINVAL, "bad_parameter", "count takes 1 or true, not '%.20s'", v);
            else
                want_count |= b;
        } else if (strcmp(k, "sum") == 0)
            rc = agg_cols(a, q, KHO_AGG_SUM, v, err);
        else if (strcmp(k, "avg") == 0)
            rc = agg_cols(a, q, KHO_AGG_AVG, v, err);
        else if (strcmp(k, "min") == 0)
            rc = agg_cols(a, q, KHO_AGG_MIN, v, err);
        else if (strcmp(k, "max") == 0)
            rc = agg_cols(a, q, KHO_AGG_MAX, v, err);
        else if (strcmp(k, "_limit") == 0) {
            char *end = NULL;
            long long l = strtoll(v, &end, 10);
            if (!*v || *end || l < 1 || l > 10000)
                rc = kho_err_setk(err, KHO_EINVAL, "bad_parameter", "_limit must be a whole number of groups from 1 "
                                  "to 10000, not '%.20s'", v);
            else
                a->limit = l;
        }
    }
    if (rc != 0)
        return rc;
    if (q->nfacets || q->has_after || q->nfields || q->sort_set)
        return kho_err_setk(err, KHO_EINVAL, "unknown_parameter",
                            "aggregate takes no _facet, _after, _fields or _sort (groups come sorted by the group "
                            "columns)");
    if (q->format != KHO_OUT_JSON)
        return kho_err_setk(err, KHO_EINVAL, "bad_parameter", "aggregate answers in JSON only");
    (void)want_count;
    {
        /* every group says how many rows it has: count first */
        memmove(&a->m[1], &a->m[0], a->nm * sizeof a->m[0]);
        a->m[0].fn = KHO_AGG_COUNT;
        a->m[0].col = -1;
        a->nm++;
        if (a->nm > KHO_AGG_MAX_MEASURES)
            return kho_err_setk(err, KHO_EINVAL, "bad_aggregate", "at most %d measures", KHO_AGG_MAX_MEASURES - 1);
    }
    return 0;
}

int kho_agg_run(kho_store_t *s, const kho_query_t *q, const kho_agg_t *a, const kho_rows_view_t *view,
                int64_t min_group, int64_t budget_ms, json_t **out, kho_err_t *err)
{
    static const char *const fn_sql[] = {"count(*)", "sum", "avg", "min", "max"};
    static const char *const fn_name[] = {"count", "sum", "avg", "min", "max"};
    *out = NULL;
    const kho_version_info_t *v = q->v;
    bool masked = view && view->mask;
    /* does anything touch personal data? */
    bool personal = false;
    for (size_t g = 0; g < a->ngroup; g++)
        personal |= kho_tags_personal(v->cols[a->group[g]].tags);
    for (size_t i = 0; i < a->nm; i++) {
        if (a->m[i].col < 0 || !kho_tags_personal(v->cols[a->m[i].col].tags))
            continue;
        personal = true;
        if (masked && (a->m[i].fn == KHO_AGG_MIN || a->m[i].fn == KHO_AGG_MAX))
            return kho_err_setk(err, KHO_EFORBIDDEN, "personal_column",
                                "column '%s' is personal data: its minimum and maximum are one person's values "
                                "(needs pii:read and a grant that includes personal data)",
                                v->cols[a->m[i].col].name);
    }
    int rc = kho_query_check_view(q, view, err);
    if (rc == 0)
        rc = check_fts(s, q, err);
    if (rc != 0)
        return rc;
    bool suppress = masked && personal && min_group > 1;
    sqlb_t b = {0};
    kho_buf_puts(&b.sql, "SELECT count(*)");
    for (size_t g = 0; g < a->ngroup; g++) {
        kho_buf_putc(&b.sql, ',');
        col_ref(&b, v, a->group[g]);
    }
    for (size_t i = 0; i < a->nm; i++) {
        kho_buf_putc(&b.sql, ',');
        if (a->m[i].fn == KHO_AGG_COUNT)
            kho_buf_puts(&b.sql, "count(*)");
        else {
            kho_buf_printf(&b.sql, "%s(", fn_sql[a->m[i].fn]);
            col_ref(&b, v, a->m[i].col);
            kho_buf_putc(&b.sql, ')');
        }
    }
    from_table(&b, v);
    bool first = true;
    where_filters(&b, q, &first);
    if (a->ngroup) {
        kho_buf_puts(&b.sql, " GROUP BY ");
        for (size_t g = 0; g < a->ngroup; g++)
            kho_buf_printf(&b.sql, "%s%zu", g ? "," : "", g + 2);
        kho_buf_puts(&b.sql, " ORDER BY ");
        for (size_t g = 0; g < a->ngroup; g++)
            kho_buf_printf(&b.sql, "%s%zu", g ? "," : "", g + 2);
    }
    kho_stmt_t *st = NULL;
    rc = prepare(s, &b, &st, err);
    sqlb_free(&b);
    if (rc != 0)
        return rc;
    json_t *groups = json_array();
    int64_t suppressed = 0, ngroups = 0;
    bool truncated = false;
    kho_store_deadline(s, budget_ms);
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        int64_t n = kho_stmt_col_int(st, 0);
        if (suppress && n < min_group) {
            suppressed++;
            continue;
        }
        ngroups++;
        if ((int64_t)json_array_size(groups) >= a->limit) {
            truncated = true;
            continue; /* go on counting the suppressed ones */
        }
        json_t *o = json_object();
        for (size_t g = 0; g < a->ngroup; g++) {
            int c = a->group[g];
            json_t *val = json_of(st, 1 + (int)g, v->cols[c].type);
            if (masked && kho_tags_personal(v->cols[c].tags) && json_is_string(val)) {
                kho_buf_t m = KHO_BUF_INIT;
                kho_mask(kho_pii_from_tags(v->cols[c].tags), json_string_value(val), json_string_length(val), &m);
                json_decref(val);
                val = json_stringn(m.data ? m.data : "", m.len);
                kho_buf_free(&m);
            }
            json_object_set_new(o, v->cols[c].name, val);
        }
        for (size_t i = 0; i < a->nm; i++) {
            int col = 1 + (int)a->ngroup + (int)i;
            char key[96];
            if (a->m[i].fn == KHO_AGG_COUNT)
                snprintf(key, sizeof key, "count");
            else
                snprintf(key, sizeof key, "%s_%s", fn_name[a->m[i].fn], v->cols[a->m[i].col].name);
            kho_type_t t = a->m[i].fn == KHO_AGG_AVG ? KHO_TYPE_REAL
                           : a->m[i].col >= 0        ? v->cols[a->m[i].col].type
                                                     : KHO_TYPE_INTEGER;
            json_object_set_new(o, key, json_of(st, col, t));
        }
        json_array_append_new(groups, o);
    }
    kho_store_deadline(s, 0);
    kho_stmt_reset(st);
    if (rc < 0) {
        json_decref(groups);
        if (rc == KHO_ETIMEOUT)
            kho_err_setk(err, KHO_ETIMEOUT, "timeout",
                         "the aggregate took longer than the limit of %lld ms (filter the rows first)",
                         (long long)budget_ms);
        return rc;
    }
    json_t *res = json_pack("{s:o,s:I,s:b}", "groups", groups, "group_count", (json_int_t)ngroups, "truncated",
                            truncated);
    if (suppress) {
        json_object_set_new(res, "suppressed", json_integer(suppressed));
        json_object_set_new(res, "min_group_size", json_integer(min_group));
    }
    *out = res;
    return 0;
}
