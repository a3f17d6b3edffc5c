/*
 * ingest — two-pass streaming import into a new version (see ingest.h).
 *
 * Invariant between the passes: pass 2 re-derives, row by row, exactly the
 * reject decisions of pass 1 from the same bytes (row_verdict), and checks at
 * the end that it loaded the number of rows pass 1 promised; a file that
 * changes between the passes therefore fails instead of loading something else.
 */
#include "warehouse/ingest.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/jsonw.h"
#include "core/mem.h"
#include "core/strmap.h"
#include "core/text.h"
#include "security/ids.h"
#include "security/keys.h"
#include "security/mask.h"
#include "warehouse/quality.h"
#include "warehouse/recpipe.h"
#include "warehouse/units.h"

#define MAX_LISTED_REJECTS 1000
#define NULL_BITS 0xFFFFFFFFu /* a null cell in the per-row class array */
#define DEFAULT_NULL_MARKS "-|..|...|N/A|n/a|NA|#N/A|null|NULL"
#define STATS_MEMORY_HASHES (2u * 1024 * 1024) /* exact distinct budget over all columns */

typedef struct col {
    kho_colinfer_t inf;
    bool declared;
    kho_type_t decl_type;
    const char *decl_tag;  /* "commune_code", "province_code" or NULL */
    kho_decimal_t dec;     /* numeric convention used for reading */
    kho_column_t out;      /* name, label, type, tags */
    uint64_t code_cur, code_old, code_unknown;
    kho_example_t unknown_ex[KHO_INFER_EXAMPLES];
    size_t n_unknown_ex;
    kho_colstats_t stats;
    char scratch[48];      /* converted date/time before it is copied into a batch */
    const char *coltags;   /* --column-tags for this column, or NULL */
    uint64_t id_like, phone_like; /* values that are personal ID / mobile numbers */
    bool encrypt;          /* stored encrypted (decided in pass 2) */
    char aad[160];         /* "table.column": associated data of its encrypted values */
} col_t;

struct kho_ingest {
    const kho_ingest_opts_t *o;
    const kho_source_t *src;
    kho_store_t *w;
    kho_err_t *err;
    kho_strmap_t *codes;
    kho_nullmarks_t nulls;
    col_t *cols;
    size_t ncols, capcols;
    size_t header_fields; /* CSV: fields every row must have */
    unsigned *bits;
    size_t capbits;
    uint64_t rows_read, rows_rejected, rows_loaded;
    uint64_t rej_fields, rej_type;
    json_t *rejects, *warnings;
    kho_strmap_t *taken; /* column names in use */
    size_t named;        /* columns named so far */
    bool *decl_matched;
    bool *coltag_matched;
    int this_year;
    kho_format_t fmt;
    char delim;
    bool bom;
    uint64_t bytes;
    char sha[65];
    double threshold;
};
typedef struct kho_ingest ingest_t;

/* ---- options ------------------------------------------------------------------- */

static int parse_decl_type(const char *t, kho_type_t *type, const char **tag)
{
    *tag = NULL;
    if (strcmp(t, "commune_code") == 0 || strcmp(t, "province_code") == 0) {
        *type = KHO_TYPE_TEXT;
        *tag = strcmp(t, "commune_code") == 0 ? "commune_code" : "province_code";
        return 0;
    }
    int x = kho_type_parse(t);
    if (x < 0)
        return -1;
    *type = (kho_type_t)x;
    return 0;
}

static int flag_value(const char *v, bool *out)
{
    if (!*v || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes"))
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no"))
        *out = false;
    else
        return -1;
    return 0;
}

static int bad_option(kho_err_t *err, const char *key, const char *what, const char *v)
{
    return kho_err_setk(err, KHO_EINVAL, "bad_parameter", "%s must be %s, not '%.60s'", key, what, v);
}

int kho_ingest_opts_read(kho_ingest_opts_t *o, const kho_optsrc_t *src, const kho_config_t *cfg,
                         kho_ingest_optbuf_t *buf, kho_err_t *err)
{
    const char *v;
    void *c = src->ctx;
    kho_dataset_meta_t *m = &o->meta;
    m->synthetic = -1;
    m->title = src->get(c, "title");
    m->description = src->get(c, "description");
    m->publisher = src->get(c, "publisher");
    m->licence = src->get(c, "licence");
    m->org = src->get(c, "org");
    m->org_name = src->get(c, "org_name");
    m->sharing = src->get(c, "sharing");
    m->importance = src->get(c, "importance");
    m->spatial = src->get(c, "spatial");
    m->ntags = src->all(c, "tag", buf->tags, KHO_INGEST_MAX_DECLS);
    m->tags = buf->tags;
    bool b;
    if ((v = src->get(c, "synthetic"))) {
        if (flag_value(v, &b) != 0)
            return bad_option(err, "synthetic", "true or false", v);
        m->synthetic = b;
    }
    if ((v = src->get(c, "temporal"))) { /* START or START/END */
        const char *slash = strchr(v, '/');
        snprintf(buf->temporal_start, sizeof buf->temporal_start, "%.*s",
                 (int)(slash ? (size_t)(slash - v) : strlen(v)), v);
        m->temporal_start = buf->temporal_start;
        m->temporal_end = slash ? slash + 1 : buf->temporal_start;
    }
    if ((v = src->get(c, "format"))) {
        int f = kho_format_parse(v);
        if (f < 0)
            return bad_option(err, "format", "csv, json or ndjson", v);
        o->format = (kho_format_t)f;
    }
    if ((v = src->get(c, "delimiter"))) {
        if (!strcmp(v, "tab") || !strcmp(v, "\\t") || !strcmp(v, "\t"))
            o->delimiter = '\t';
        else if (strlen(v) == 1 && strchr(",;|", v[0]))
            o->delimiter = v[0];
        else
            return bad_option(err, "delimiter", "',', ';', '|' or tab", v);
    }
    const char *types[KHO_INGEST_MAX_DECLS];
    size_t nt = src->all(c, "type", types, KHO_INGEST_MAX_DECLS);
    for (size_t i = 0; i < nt; i++) { /* COL=TYPE or COL:TYPE; type names have neither sign */
        const char *eq = strrchr(types[i], '='), *colon = strrchr(types[i], ':');
        const char *sep = eq > colon ? eq : colon;
        if (!sep)
            return bad_option(err, "type", "COL=TYPE", types[i]);
        snprintf(buf->columns[i], sizeof buf->columns[i], "%.*s", (int)(sep - types[i]), types[i]);
        buf->decls[i] = (kho_coldecl_t){buf->columns[i], sep + 1};
    }
    o->decls = buf->decls;
    o->ndecls = nt;
    nt = src->all(c, "column_tags", types, KHO_INGEST_MAX_DECLS);
    for (size_t i = 0; i < nt; i++) { /* COL=TAGS (tags contain ':', so only '=' separates) */
        const char *eq = strchr(types[i], '=');
        if (!eq)
            return bad_option(err, "column_tags", "COL=TAGS (personal, sensitive, pii:KIND or none)", types[i]);
        snprintf(buf->tagcols[i], sizeof buf->tagcols[i], "%.*s", (int)(eq - types[i]), types[i]);
        buf->coltags[i] = (kho_coldecl_t){buf->tagcols[i], eq + 1};
    }
    o->coltags = buf->coltags;
    o->ncoltags = nt;
    if ((v = src->get(c, "strict")) && flag_value(v, &o->strict) != 0)
        return bad_option(err, "strict", "true or false", v);
    v = src->get(c, "decimal") ? src->get(c, "decimal") : kho_config_str(cfg, "decimal");
    int d = kho_decimal_parse(v);
    if (d < 0)
        return bad_option(err, "decimal", "auto, comma or dot", v);
    o->decimal = (kho_decimal_t)d;
    o->reject_threshold = kho_config_num(cfg, "reject_threshold");
    if ((v = src->get(c, "reject_threshold"))) {
        char *end;
        o->reject_threshold = strtod(v, &end);
        if (*end || end == v || !(o->reject_threshold >= 0 && o->reject_threshold <= 1))
            return bad_option(err, "reject_threshold", "a fraction from 0 to 1", v);
    }
    o->null_marks = src->get(c, "null_marks") ? src->get(c, "null_marks") : kho_config_str(cfg, "null_marks");
    o->max_field = (size_t)kho_config_int(cfg, "max_field_kb") * 1024;
    return 0;
}

/* Check declared column tags ("personal,pii:name", "sensitive", "none") and
 * write them space-separated into out ("" for none). */
static int column_tags_parse(const char *spec, char *out, size_t size, kho_err_t *err)
{
    size_t k = 0;
    out[0] = '\0';
    bool none = false, personal = false, kind = false;
    for (const char *p = spec ? spec : ""; *p;) {
        size_t n = strcspn(p, ", +");
        char tag[40];
        if (n >= sizeof tag)
            return kho_err_setk(err, KHO_EINVAL, "bad_column_tags", "unknown tag '%.40s'", p);
        snprintf(tag, sizeof tag, "%.*s", (int)n, p);
        p += n;
        while (*p == ',' || *p == ' ' || *p == '+')
            p++;
        if (!n)
            continue;
        if (strcmp(tag, "none") == 0)
            none = true;
        else if (strcmp(tag, "personal") == 0 || strcmp(tag, "sensitive") == 0)
            personal = true;
        else if (strncmp(tag, "pii:", 4) == 0 && kho_pii_parse(tag + 4) >= 0)
            kind = true;
        else
            return kho_err_setk(err, KHO_EINVAL, "bad_column_tags",
                                "unknown tag '%s' (personal, sensitive, pii:id_number|phone|name|dob|email|address, "
                                "or none)",
                                tag);
        if (k + n + 2 > size)
            return kho_err_setk(err, KHO_EINVAL, "bad_column_tags", "too many tags");
        k += (size_t)snprintf(out + k, size - k, "%s%s", k ? " " : "", tag);
    }
    if (none && (personal || kind))
        return kho_err_setk(err, KHO_EINVAL, "bad_column_tags", "'none' cannot be combined with other tags");
    if (kind && !personal)
        return kho_err_setk(err, KHO_EINVAL, "bad_column_tags",
                            "a pii: kind goes with personal or sensitive (personal,pii:name)");
    if (!none && !personal)
        return kho_err_setk(err, KHO_EINVAL, "bad_column_tags", "say personal, sensitive or none");
    return 0;
}

int kho_ingest_check_opts(const kho_ingest_opts_t *o, kho_err_t *err)
{
    if (!o->dataset || !kho_text_is_slug(o->dataset))
        return kho_err_setk(err, KHO_EINVAL, "bad_dataset_id",
                            "dataset id '%s' must be 2-100 characters of a-z, 0-9, '-' and '_' (like CKAN names)",
                            o->dataset ? o->dataset : "");
    for (size_t i = 0; i < o->ndecls; i++) {
        kho_type_t t;
        const char *tag;
        if (!o->decls[i].column || !*o->decls[i].column)
            return kho_err_setk(err, KHO_EINVAL, "bad_type", "a type declaration needs a column: COL=TYPE");
        if (parse_decl_type(o->decls[i].type ? o->decls[i].type : "", &t, &tag) != 0)
            return kho_err_setk(err, KHO_EINVAL, "bad_type",
                                "unknown type '%s' for column '%s': use integer, real, boolean, date, datetime, "
                                "text, commune_code or province_code",
                                o->decls[i].type ? o->decls[i].type : "", o->decls[i].column);
    }
    for (size_t i = 0; i < o->ncoltags; i++) {
        char tags[96];
        if (!o->coltags[i].column || !*o->coltags[i].column)
            return kho_err_setk(err, KHO_EINVAL, "bad_column_tags", "column tags need a column: COL=TAGS");
        if (column_tags_parse(o->coltags[i].type, tags, sizeof tags, err) != 0) {
            kho_err_prefix(err, "column tags for '%.64s'", o->coltags[i].column);
            return err->code;
        }
    }
    if (o->reject_threshold > 1)
        return kho_err_setk(err, KHO_EINVAL, "bad_parameter", "the reject threshold is a fraction between 0 and 1");
    return kho_catalog_check_meta(&o->meta, err);
}

/* ---- columns ------------------------------------------------------------------- */

static col_t *ensure_cols(ingest_t *g, size_t n)
{
    if (n > g->ncols) {
        size_t c = g->capcols;
        g->cols = kho_xgrow(g->cols, &c, n, sizeof *g->cols);
        memset(g->cols + g->capcols, 0, (c - g->capcols) * sizeof *g->cols);
        g->capcols = c;
        c = g->capbits;
        g->bits = kho_xgrow(g->bits, &c, n, sizeof *g->bits);
        g->capbits = c;
        g->ncols = n;
    }
    return g->cols;
}

static const char *COMMUNE_HINTS[] = {"ma xa", "ma phuong", "ma dvhc", "ma don vi", "commune code", "ward code",
                                      "commune_code", "ma_xa", "ma_dvhc", NULL};
static const char *PROVINCE_HINTS[] = {"ma tinh", "province code", "province_code", "ma_tinh", NULL};

static bool label_hints(const char *label, const char *const *hints)
{
    kho_buf_t f = KHO_BUF_INIT;
    kho_text_fold(label, strlen(label), &f);
    bool hit = false;
    for (; *hints && !hit; hints++)
        hit = strstr(kho_buf_cstr(&f), *hints) != NULL;
    kho_buf_free(&f);
    return hit;
}

/* Name the columns the reader has found since the last call: safe identifiers,
 * unique, never empty; and attach --type declarations (matched by name or label).
 * A column's name depends only on the labels before it, so naming as JSON keys
 * appear gives the same names in both passes. */
static int name_new_columns(ingest_t *g, kho_reader_t *r)
{
    size_t n = kho_reader_ncols(r);
    if (n > KHO_INGEST_MAX_COLUMNS)
        return kho_err_setk(g->err, KHO_EINVAL, "too_many_columns", "%s has %zu columns; at most %d are supported",
                            g->src->name ? g->src->name : "the input", n, KHO_INGEST_MAX_COLUMNS);
    ensure_cols(g, n);
    for (size_t i = g->named; i < n; i++) {
        col_t *c = &g->cols[i];
        const char *label = kho_reader_label(r, i);
        c->out.label = kho_xstrdup(label);
        char base[64];
        if (kho_text_ident(label, strlen(label), base, sizeof base) == 0) {
            snprintf(base, sizeof base, "column_%zu", i + 1);
            json_array_append_new(g->warnings,
                                  json_sprintf("column %zu has an empty header: named %s", i + 1, base));
        }
        snprintf(c->out.name, sizeof c->out.name, "%s", base);
        for (int k = 2; kho_strmap_get(g->taken, c->out.name, strlen(c->out.name), NULL); k++) {
            char suffix[16];
            size_t sl = (size_t)snprintf(suffix, sizeof suffix, "_%d", k);
            size_t keep = strlen(base) + sl < sizeof c->out.name ? strlen(base) : sizeof c->out.name - 1 - sl;
            snprintf(c->out.name, sizeof c->out.name, "%.*s%s", (int)keep, base, suffix);
        }
        if (strcmp(c->out.name, base) != 0)
            json_array_append_new(g->warnings, json_sprintf("column %zu: header '%s' repeats an earlier name: named %s",
                                                            i + 1, label, c->out.name));
        kho_strmap_put(g->taken, c->out.name, strlen(c->out.name), i);
        for (size_t d = 0; d < g->o->ndecls; d++) {
            const kho_coldecl_t *decl = &g->o->decls[d];
            if (strcmp(c->out.name, decl->column) && strcmp(label, decl->column))
                continue;
            c->declared = true;
            (void)parse_decl_type(decl->type, &c->decl_type, &c->decl_tag);
            g->decl_matched[d] = true;
        }
        for (size_t d = 0; d < g->o->ncoltags; d++) {
            const kho_coldecl_t *t = &g->o->coltags[d];
            if (strcmp(c->out.name, t->column) && strcmp(label, t->column))
                continue;
            c->coltags = t->type;
            g->coltag_matched[d] = true;
        }
    }
    g->named = n;
    return 0;
}

/* Every declaration must have found its column. */
static int check_decls(ingest_t *g)
{
    for (size_t d = 0; d < g->o->ncoltags; d++) {
        if (g->coltag_matched[d])
            continue;
        kho_buf_t names = KHO_BUF_INIT;
        for (size_t i = 0; i < g->ncols; i++)
            kho_buf_printf(&names, "%s%s", i ? ", " : "", g->cols[i].out.name);
        int rc = kho_err_setk(g->err, KHO_EINVAL, "unknown_column",
                              "--column-tags names column '%s', which the file does not have (columns: %s)",
                              g->o->coltags[d].column, kho_buf_cstr(&names));
        kho_buf_free(&names);
        return rc;
    }
    for (size_t d = 0; d < g->o->ndecls; d++) {
        if (g->decl_matched[d])
            continue;
        kho_buf_t names = KHO_BUF_INIT;
        for (size_t i = 0; i < g->ncols; i++)
            kho_buf_printf(&names, "%s%s", i ? ", " : "", g->cols[i].out.name);
        int rc = kho_err_setk(g->err, KHO_EINVAL, "unknown_column",
                              "--type names column '%s', which the file does not have (columns: %s)",
                              g->o->decls[d].column, kho_buf_cstr(&names));
        kho_buf_free(&names);
        return rc;
    }
    return 0;
}

/* ---- row verdicts ---------------------------------------------------------------- */

static bool cell_is_null(ingest_t *g, const kho_cell_t *cell)
{
    switch (cell->kind) {
    case KHO_CELL_ABSENT:
    case KHO_CELL_NULL: return true;
    case KHO_CELL_TEXT: return kho_is_null(&g->nulls, cell->s, cell->n);
    default: return false;
    }
}

static unsigned cell_bits(ingest_t *g, const kho_cell_t *cell)
{
    if (cell_is_null(g, cell))
        return NULL_BITS;
    switch (cell->kind) {
    case KHO_CELL_NUMBER: return kho_classify_json_number(cell->s, cell->n);
    case KHO_CELL_TRUE:
    case KHO_CELL_FALSE: return KHO_C_BOOL;
    case KHO_CELL_JSON: return 0;
    default: return kho_classify(cell->s, cell->n);
    }
}

/* Does a declared column accept a value of these classes? Numbers may use
 * either convention unless one is forced. */
static bool decl_fits(const ingest_t *g, const col_t *c, unsigned bits)
{
    kho_decimal_t f = g->o->decimal;
    switch (c->decl_type) {
    case KHO_TYPE_INTEGER:
        return f == KHO_DEC_AUTO ? bits & (KHO_C_INT_COMMA | KHO_C_INT_DOT) : kho_fits(bits, c->decl_type, f);
    case KHO_TYPE_REAL:
        return f == KHO_DEC_AUTO ? bits & (KHO_C_NUM_COMMA | KHO_C_NUM_DOT) : kho_fits(bits, c->decl_type, f);
    default: return kho_fits(bits, c->decl_type, f);
    }
}

typedef struct verdict {
    bool reject;
    char reason[256];
    const char *field;
} verdict_t;

/* Classify the row's cells into g->bits and say whether the row is rejected.
 * Pass 2 (all == false) needs only what decides rejection and nulls: it
 * classifies declared columns and marks the others null or not (bits 0). */
static verdict_t row_verdict(ingest_t *g, const kho_record_t *rec, bool all)
{
    verdict_t v = {false, "", NULL};
    if (g->fmt == KHO_FMT_CSV && rec->n != g->header_fields) {
        v.reject = true;
        snprintf(v.reason, sizeof v.reason, "expected %zu fields as in the header, found %zu", g->header_fields,
                 rec->n);
        return v;
    }
    /* columns were named (and the arrays sized) when the reader found them:
     * rec->n <= g->ncols here (pass 2 checks it first) */
    for (size_t i = 0; i < rec->n; i++) {
        const col_t *c = &g->cols[i];
        g->bits[i] = all || c->declared ? cell_bits(g, &rec->cells[i])
                     : cell_is_null(g, &rec->cells[i]) ? NULL_BITS
                                                       : 0;
        if (c->declared && g->bits[i] != NULL_BITS && !decl_fits(g, c, g->bits[i]) && !v.reject) {
            char ex[80];
            kho_excerpt(rec->cells[i].s, rec->cells[i].n, ex, sizeof ex);
            v.reject = true;
            v.field = c->out.name[0] ? c->out.name : NULL;
            snprintf(v.reason, sizeof v.reason, "column %zu: '%s' is not %s %s", i + 1, ex,
                     c->decl_type == KHO_TYPE_INTEGER ? "an" : "a", kho_type_name(c->decl_type));
        }
    }
    return v;
}

static void note_reject(ingest_t *g, const kho_record_t *rec, const verdict_t *v)
{
    g->rows_rejected++;
    if (v->field || strstr(v->reason, "column"))
        g->rej_type++;
    else
        g->rej_fields++;
    if (json_array_size(g->rejects) < MAX_LISTED_REJECTS) {
        json_t *r = json_pack("{s:I,s:I,s:s}", "line", (json_int_t)rec->line, "record", (json_int_t)rec->index,
                              "reason", v->reason);
        if (v->field)
            json_object_set_new(r, "column", json_string(v->field));
        json_array_append_new(g->rejects, r);
    }
}

/* ---- pass 1 ---------------------------------------------------------------------- */

static void unknown_code(col_t *c, const char *value, uint64_t line)
{
    c->code_unknown++;
    if (c->n_unknown_ex < KHO_INFER_EXAMPLES) {
        c->unknown_ex[c->n_unknown_ex].line = line;
        kho_excerpt(value, strlen(value), c->unknown_ex[c->n_unknown_ex].value, sizeof c->unknown_ex[0].value);
        c->n_unknown_ex++;
    }
}

static void check_code(ingest_t *g, col_t *c, unsigned bits, const kho_cell_t *cell, uint64_t line)
{
    if (c->decl_tag) { /* declared: a value of the wrong shape is an unknown code too */
        unsigned want = strcmp(c->decl_tag, "commune_code") == 0 ? KHO_C_CODE5 : KHO_C_CODE2;
        if (!(bits & want)) {
            unknown_code(c, cell->s, line);
            return;
        }
    }
    if (!(bits & (KHO_C_CODE5 | KHO_C_CODE2)) || !g->codes)
        return;
    char code[8];
    size_t n = 0;
    for (size_t i = 0; i < cell->n && n < 6; i++)
        if (cell->s[i] != ' ' && cell->s[i] != '\t')
            code[n++] = cell->s[i];
    code[n] = '\0';
    size_t flags = 0;
    kho_strmap_get(g->codes, code, n, &flags);
    bool five = bits & KHO_C_CODE5;
    if (flags & (five ? KHO_UNIT_COMMUNE : KHO_UNIT_PROVINCE))
        c->code_cur++;
    else if (flags & (five ? KHO_UNIT_OLD_COMMUNE : KHO_UNIT_OLD_PROVINCE))
        c->code_old++;
    else
        unknown_code(c, code, line);
}

/* Count values that are personal ID numbers or mobile phone numbers. */
static void count_personal(ingest_t *g, col_t *c, const kho_cell_t *cell)
{
    size_t n = cell->n;
    if (n < 9 || n > 16 || (cell->kind != KHO_CELL_TEXT && cell->kind != KHO_CELL_NUMBER))
        return;
    if (n == 12 && kho_ids_cccd(cell->s, n, g->this_year, NULL))
        c->id_like++;
    else if (kho_ids_phone(cell->s, n))
        c->phone_like++;
}

static int open_reader(ingest_t *g, const kho_source_t *src, bool first, kho_reader_t **r)
{
    kho_reader_opts_t ro = {.format = g->o->format,
                            .delimiter = g->o->delimiter,
                            .validate_utf8 = first,
                            .hash = first,
                            .nfc = !first,
                            .max_field = g->o->max_field};
    return kho_reader_open(src, &ro, r, g->err);
}

static int pass1(ingest_t *g, const kho_source_t *src)
{
    kho_reader_t *r = NULL;
    int rc = open_reader(g, src, true, &r);
    if (rc != 0)
        return rc;
    g->fmt = kho_reader_format(r);
    g->delim = kho_reader_delimiter(r);
    g->bom = kho_reader_had_bom(r);
    g->header_fields = kho_reader_ncols(r);
    rc = name_new_columns(g, r);
    /* CSV columns are fixed by the header: read on a second thread while this one
     * classifies (JSON discovers columns as it reads, so it is read here) */
    kho_recpipe_t *pipe = NULL;
    if (rc == 0 && g->fmt == KHO_FMT_CSV)
        rc = kho_recpipe_start(r, &pipe, g->err);
    kho_record_t *rec;
    while (rc == 0 && (rc = pipe ? kho_recpipe_next(pipe, &rec, g->err) : kho_reader_next(r, &rec, g->err)) == 1) {
        rc = 0;
        g->rows_read++;
        if (kho_reader_ncols(r) > g->named && (rc = name_new_columns(g, r)) != 0)
            break;
        verdict_t v = row_verdict(g, rec, true);
        if (v.reject) {
            note_reject(g, rec, &v);
            continue;
        }
        for (size_t i = 0; i < rec->n; i++) {
            if (g->bits[i] == NULL_BITS)
                continue;
            kho_colinfer_add(&g->cols[i].inf, g->bits[i], rec->cells[i].s, rec->cells[i].n, rec->line);
            check_code(g, &g->cols[i], g->bits[i], &rec->cells[i], rec->line);
            count_personal(g, &g->cols[i], &rec->cells[i]);
        }
    }
    kho_recpipe_free(pipe);
    if (rc == 0) {
        snprintf(g->sha, sizeof g->sha, "%s", kho_reader_sha256(r) ? kho_reader_sha256(r) : "");
        g->bytes = kho_reader_bytes(r);
        if (kho_reader_rounded(r))
            json_array_append_new(g->warnings,
                                  json_sprintf("%llu records hold JSON numbers beyond 64-bit integers; their numbers "
                                               "were read as reals and rounded. Quote such numbers (identifiers, "
                                               "account numbers) to keep every digit.",
                                               (unsigned long long)kho_reader_rounded(r)));
    }
    kho_reader_free(r);
    return rc;
}

/* ---- decisions ------------------------------------------------------------------- */

static void add_tag(col_t *c, const char *tag)
{
    size_t n = strlen(c->out.tags);
    snprintf(c->out.tags + n, sizeof c->out.tags - n, "%s%s", n ? " " : "", tag);
}

static void decide_types(ingest_t *g)
{
    kho_decimal_t file_dec = KHO_DEC_AUTO;
    bool conflict = false;
    for (size_t i = 0; i < g->ncols; i++) {
        kho_decimal_t e = kho_colinfer_evidence(&g->cols[i].inf);
        if (e == KHO_DEC_AUTO)
            continue;
        if (file_dec != KHO_DEC_AUTO && file_dec != e)
            conflict = true;
        file_dec = e;
    }
    if (conflict)
        file_dec = KHO_DEC_AUTO;
    for (size_t i = 0; i < g->ncols; i++) {
        col_t *c = &g->cols[i];
        kho_coltype_t t = kho_colinfer_decide(&c->inf, file_dec, g->o->decimal);
        if (c->declared) {
            c->out.type = c->decl_type;
            if (c->decl_tag)
                add_tag(c, c->decl_tag);
            kho_decimal_t ev = kho_colinfer_evidence(&c->inf);
            c->dec = g->o->decimal != KHO_DEC_AUTO ? g->o->decimal
                     : ev != KHO_DEC_AUTO          ? ev
                     : file_dec != KHO_DEC_AUTO    ? file_dec
                                                   : KHO_DEC_COMMA;
            continue;
        }
        c->out.type = t.type;
        c->dec = t.dec;
        uint64_t known = c->code_cur + c->code_old;
        if (t.code5 && (label_hints(c->out.label, COMMUNE_HINTS) || label_hints(c->out.name, COMMUNE_HINTS) ||
                        known * 10 >= c->inf.nonnull * 9)) {
            c->out.type = KHO_TYPE_TEXT;
            add_tag(c, "commune_code");
        } else if (t.code2 && (label_hints(c->out.label, PROVINCE_HINTS) ||
                               label_hints(c->out.name, PROVINCE_HINTS))) {
            c->out.type = KHO_TYPE_TEXT;
            add_tag(c, "province_code");
        }
        if (t.ambiguous)
            json_array_append_new(g->warnings,
                                  json_sprintf("column %s: values such as 1.234 read differently as Vietnamese "
                                               "(1234) or international (1.234) numbers; read as %s (set "
                                               "decimal=comma or decimal=dot to choose)",
                                               c->out.name, c->dec == KHO_DEC_COMMA ? "Vietnamese" : "international"));
    }
}

/* Header words that name personal data (folded: no diacritics, lower case). */
static const struct {
    kho_pii_t kind;
    const char *const hints[8];
} PII_HINTS[] = {
    {KHO_PII_NAME, {"ho va ten", "ho ten", "ho_ten", "ho_va_ten", "full name", "full_name", "fullname", NULL}},
    {KHO_PII_DOB, {"ngay sinh", "ngay_sinh", "date of birth", "birth date", "birthdate", "date_of_birth", NULL}},
    {KHO_PII_ID_NUMBER, {"cccd", "cmnd", "can cuoc", "dinh danh", "so_dinh_danh", "id number", "id_number", NULL}},
    {KHO_PII_PHONE, {"so dien thoai", "dien thoai", "dien_thoai", "sdt", "phone", "mobile", NULL}},
    {KHO_PII_EMAIL, {"email", "e-mail", "thu dien tu", NULL}},
};

/* Tag the columns that hold personal data: declared (--column-tags), named by
 * their header, or recognised from their values (see ingest.h). */
static void decide_personal(ingest_t *g)
{
    for (size_t i = 0; i < g->ncols; i++) {
        col_t *c = &g->cols[i];
        if (c->coltags) {
            char tags[96];
            kho_err_t ignore;
            if (column_tags_parse(c->coltags, tags, sizeof tags, &ignore) == 0 && strcmp(tags, "none") != 0) {
                add_tag(c, tags);
                if (!strstr(tags, "pii:") && (c->id_like * 10 >= c->inf.nonnull * 9 && c->id_like))
                    add_tag(c, "pii:id_number");
            }
            continue;
        }
        int kind = -1;
        const char *why = "its header";
        for (size_t k = 0; k < sizeof PII_HINTS / sizeof PII_HINTS[0] && kind < 0; k++)
            if (label_hints(c->out.label, PII_HINTS[k].hints) || label_hints(c->out.name, PII_HINTS[k].hints))
                kind = (int)PII_HINTS[k].kind;
        if (kind < 0 && c->inf.nonnull > 0) {
            why = "its values";
            if (c->id_like * 10 >= c->inf.nonnull * 9)
                kind = KHO_PII_ID_NUMBER;
            else if (c->phone_like * 10 >= c->inf.nonnull * 9)
                kind = KHO_PII_PHONE;
        }
        if (kind < 0)
            continue;
        char tag[40];
        snprintf(tag, sizeof tag, "personal pii:%s", kho_pii_name((kho_pii_t)kind));
        add_tag(c, tag);
        json_array_append_new(g->warnings,
                              json_sprintf("column %s holds personal data (%s, by %s): tagged %s and masked for "
                                           "readers without pii:read; if it is not personal data, load it with "
                                           "--column-tags %s=none",
                                           c->out.name, kho_pii_name((kho_pii_t)kind), why, tag, c->out.name));
    }
}

static json_t *examples_json(const kho_example_t *ex, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:I,s:s}", "line", (json_int_t)ex[i].line, "value", ex[i].value));
    return a;
}

/* A column that became text although most values are numbers (or dates) gets a
 * hint naming the values that kept it from the narrower type. */
static void type_hint(ingest_t *g, col_t *c, json_t *obj)
{
    if (c->out.type != KHO_TYPE_TEXT || c->declared || strstr(c->out.tags, "code") || c->inf.nonnull < 2)
        return;
    uint64_t n = c->inf.nonnull;
    uint64_t num = c->inf.count[0] > c->inf.count[2] ? c->inf.count[0] : c->inf.count[2];
    uint64_t date = c->inf.count[7];
    const char *what = NULL;
    const kho_example_t *ex = NULL;
    size_t nex = 0;
    if (num * 10 >= n * 9) {
        what = "numbers";
        ex = c->inf.not_number;
        nex = c->inf.n_not_number;
    } else if (date * 10 >= n * 9) {
        what = "dates";
        ex = c->inf.not_date;
        nex = c->inf.n_not_date;
    }
    if (!what)
        return;
    json_object_set_new(obj, "hint",
                        json_sprintf("%llu of %llu values are %s; the column is text because of values such as "
                                     "these. Fix them, add them to null_marks, or declare the type (--type %s=...) "
                                     "to reject their rows instead.",
                                     (unsigned long long)(what[0] == 'n' ? num : date), (unsigned long long)n, what,
                                     c->out.name));
    json_object_set_new(obj, "hint_examples", examples_json(ex, nex));
    (void)g;
}

static json_t *tags_json(const char *tags)
{
    json_t *a = json_array();
    const char *p = tags;
    while (*p) {
        const char *sp = strchr(p, ' ');
        size_t n = sp ? (size_t)(sp - p) : strlen(p);
        json_array_append_new(a, json_stringn(p, n));
        p = sp ? sp + 1 : p + n;
    }
    return a;
}

/* A rejected row's reason quotes the value that broke the column's type;
 * for personal columns the value is left out. */
static void redact_rejects(ingest_t *g)
{
    size_t i;
    json_t *r;
    json_array_foreach(g->rejects, i, r)
    {
        const char *col = json_string_value(json_object_get(r, "column"));
        if (!col)
            continue;
        for (size_t k = 0; k < g->ncols; k++)
            if (strcmp(g->cols[k].out.name, col) == 0 && kho_tags_personal(g->cols[k].out.tags)) {
                json_object_set_new(r, "reason",
                                    json_sprintf("column %zu: the value is not %s %s (not shown: personal data)",
                                                 k + 1, g->cols[k].decl_type == KHO_TYPE_INTEGER ? "an" : "a",
                                                 kho_type_name(g->cols[k].decl_type)));
                break;
            }
    }
}

static json_t *report(ingest_t *g, bool with_stats)
{
    json_t *cols = json_array();
    for (size_t i = 0; i < g->ncols; i++) {
        col_t *c = &g->cols[i];
        json_t *o = json_pack("{s:s,s:s,s:s,s:o}", "name", c->out.name, "label", c->out.label ? c->out.label : "",
                              "type", kho_type_name(c->out.type), "tags", tags_json(c->out.tags));
        if ((c->out.type == KHO_TYPE_INTEGER || c->out.type == KHO_TYPE_REAL))
            json_object_set_new(o, "decimal", json_string(c->dec == KHO_DEC_DOT ? "dot" : "comma"));
        bool personal = kho_tags_personal(c->out.tags);
        if (with_stats) {
            kho_colstats_to_json(&c->stats, o);
            if (personal) { /* the extremes of personal data are personal data */
                json_object_set_new(o, "min", json_null());
                json_object_set_new(o, "max", json_null());
            }
        } else
            json_object_set_new(o, "values", json_integer((json_int_t)c->inf.nonnull));
        if (strstr(c->out.tags, "_code"))
            json_object_set_new(o, "codes",
                                json_pack("{s:I,s:I,s:I,s:o}", "current", (json_int_t)c->code_cur, "pre_2025_only",
                                          (json_int_t)c->code_old, "unknown", (json_int_t)c->code_unknown,
                                          "unknown_examples", examples_json(c->unknown_ex, c->n_unknown_ex)));
        type_hint(g, c, o);
        if (personal && json_object_get(o, "hint_examples"))
            json_object_del(o, "hint_examples");
        json_array_append_new(cols, o);
    }
    double share = g->rows_read ? (double)g->rows_rejected / (double)g->rows_read : 0;
    json_t *q = json_object();
    json_object_set_new(q, "format", json_string(kho_format_name(g->fmt)));
    if (g->fmt == KHO_FMT_CSV) {
        char d[2] = {g->delim, 0};
        json_object_set_new(q, "delimiter", json_string(g->delim == '\t' ? "\\t" : d));
        json_object_set_new(q, "bom", json_boolean(g->bom));
    }
    json_object_set_new(q, "bytes", json_integer((json_int_t)g->bytes));
    json_object_set_new(q, "sha256", json_string(g->sha));
    json_object_set_new(q, "rows_read", json_integer((json_int_t)g->rows_read));
    json_object_set_new(q, "rows_loaded", json_integer((json_int_t)g->rows_loaded));
    json_object_set_new(q, "rows_rejected", json_integer((json_int_t)g->rows_rejected));
    json_object_set_new(q, "rejected_share", json_real(share));
    json_object_set_new(q, "reject_threshold", json_real(g->threshold));
    json_object_set_new(q, "strict", json_boolean(g->o->strict));
    json_object_set_new(q, "rejected_by_reason",
                        json_pack("{s:I,s:I}", "field_count", (json_int_t)g->rej_fields, "declared_type",
                                  (json_int_t)g->rej_type));
    redact_rejects(g);
    json_object_set_new(q, "rejected", json_incref(g->rejects));
    json_object_set_new(q, "rejected_listed", json_integer((json_int_t)json_array_size(g->rejects)));
    json_object_set_new(q, "columns", cols);
    json_object_set_new(q, "warnings", json_incref(g->warnings));
    return q;
}

static int refuse(ingest_t *g, kho_ingest_result_t *res)
{
    res->quality = report(g, false);
    double share = g->rows_read ? (double)g->rows_rejected / (double)g->rows_read : 0;
    if (g->o->strict)
        return kho_err_setk(g->err, KHO_EREJECTED, "rejected_strict",
                            "refused in strict mode: %llu of %llu rows would be rejected (first: line %lld, %s)",
                            (unsigned long long)g->rows_rejected, (unsigned long long)g->rows_read,
                            (long long)json_integer_value(json_object_get(json_array_get(g->rejects, 0), "line")),
                            json_string_value(json_object_get(json_array_get(g->rejects, 0), "reason")));
    return kho_err_setk(g->err, KHO_EREJECTED, "too_many_rejected",
                        "refused: %llu of %llu rows (%.1f%%) would be rejected, more than the threshold of %.1f%% "
                        "(first: line %lld, %s)",
                        (unsigned long long)g->rows_rejected, (unsigned long long)g->rows_read, share * 100,
                        g->threshold * 100,
                        (long long)json_integer_value(json_object_get(json_array_get(g->rejects, 0), "line")),
                        json_string_value(json_object_get(json_array_get(g->rejects, 0), "reason")));
}

/* ---- pass 2 ---------------------------------------------------------------------- */

static const char *sql_type(kho_type_t t)
{
    switch (t) {
    case KHO_TYPE_INTEGER:
    case KHO_TYPE_BOOLEAN: return "INTEGER";
    case KHO_TYPE_REAL: return "REAL";
    default: return "TEXT";
    }
}

static int create_table(ingest_t *g, const char *table, kho_stmt_t **insert)
{
    kho_buf_t ddl = KHO_BUF_INIT, ins = KHO_BUF_INIT;
    char q[160];
    kho_store_quote_ident(table, q, sizeof q);
    kho_buf_printf(&ddl, "CREATE TABLE %s (\"_row\" INTEGER PRIMARY KEY", q);
    kho_buf_printf(&ins, "INSERT INTO %s VALUES (?", q);
    for (size_t i = 0; i < g->ncols; i++) {
        kho_store_quote_ident(g->cols[i].out.name, q, sizeof q);
        kho_buf_printf(&ddl, ", %s %s", q, g->cols[i].encrypt ? "BLOB" : sql_type(g->cols[i].out.type));
        kho_buf_puts(&ins, ",?");
    }
    kho_buf_puts(&ddl, ") STRICT");
    kho_buf_putc(&ins, ')');
    int rc = kho_store_exec(g->w, ddl.data, g->err);
    if (rc == 0)
        rc = kho_store_prepare(g->w, ins.data, insert, g->err);
    kho_buf_free(&ddl);
    kho_buf_free(&ins);
    return rc;
}

/* Pass 2 runs as a pipeline of two threads: a producer reads, checks and
 * converts rows into batches of typed values (and keeps the statistics); the
 * calling thread, which owns the database connection, binds and inserts them.
 * Parsing and SQLite's work overlap, so the load takes about as long as the
 * slower of the two rather than their sum. At most NBATCH batches are in flight:
 * memory stays bounded whatever the file size. */

#define BATCH_ROWS 1024
#define BATCH_BYTES (8u << 20) /* a batch also ends past this much text */
#define NBATCH 4

typedef enum { V_NULL, V_INT, V_REAL, V_TEXT, V_BLOB } vkind_t;

typedef struct val {
    vkind_t kind;
    size_t len;
    union {
        int64_t i;
        double d;
        size_t off; /* V_TEXT, V_BLOB: offset in the batch's text arena */
    } u;
} val_t;

typedef struct batch {
    size_t nrows;
    val_t *vals; /* BATCH_ROWS x ncols */
    kho_buf_t text;
} batch_t;

typedef struct pipe {
    ingest_t *g;
    const kho_source_t *src;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch_t batch[NBATCH];
    size_t head, count; /* filled batches: batch[head .. head+count) mod NBATCH */
    bool done;          /* producer finished (see rc) */
    bool stop;          /* consumer failed: producer should give up */
    int rc;
    kho_err_t err;
} pipe_t;

static void put_text(batch_t *b, val_t *v, const char *s, size_t n)
{
    v->kind = V_TEXT;
    v->len = n;
    v->u.off = b->text.len;
    kho_buf_append(&b->text, s, n);
}

/* Convert one non-null cell into v; updates the column statistics. False when
 * the value does not fit the column's type, which pass 1 rules out for the same
 * bytes: the input changed between the passes. */
static bool convert_cell(col_t *c, const kho_cell_t *cell, batch_t *b, val_t *v, kho_buf_t *tmp)
{
    bool is_int, flag;
    int64_t iv = 0;
    double dv = 0;
    kho_decimal_t dec = cell->kind == KHO_CELL_NUMBER ? KHO_DEC_DOT : c->dec;
    switch (c->out.type) {
    case KHO_TYPE_INTEGER:
    case KHO_TYPE_REAL: {
        /* A declared column accepts a value that fits its type under either
         * convention (decl_fits); read it under the column's own convention if
         * that fits, else under the other. An inferred column fits its own. */
        bool want_int = c->out.type == KHO_TYPE_INTEGER;
        bool ok = kho_parse_number(cell->s, cell->n, dec, &is_int, &iv, &dv) == 0 && (!want_int || is_int);
        if (!ok)
            ok = kho_parse_number(cell->s, cell->n, dec == KHO_DEC_DOT ? KHO_DEC_COMMA : KHO_DEC_DOT, &is_int, &iv,
                                  &dv) == 0 &&
                 (!want_int || is_int);
        if (!ok)
            return false;
        if (want_int) {
            v->kind = V_INT;
            v->u.i = iv;
            kho_colstats_int(&c->stats, iv);
        } else {
            v->kind = V_REAL;
            v->u.d = is_int ? (double)iv : dv;
            kho_colstats_real(&c->stats, v->u.d);
        }
        return true;
    }
    case KHO_TYPE_BOOLEAN:
        if (cell->kind == KHO_CELL_TRUE || cell->kind == KHO_CELL_FALSE)
            flag = cell->kind == KHO_CELL_TRUE;
        else if (kho_parse_bool(cell->s, cell->n, &flag) != 0)
            return false;
        v->kind = V_INT;
        v->u.i = flag;
        kho_colstats_int(&c->stats, flag);
        return true;
    case KHO_TYPE_DATE:
    case KHO_TYPE_DATETIME:
        if ((c->out.type == KHO_TYPE_DATE ? kho_parse_date(cell->s, cell->n, c->scratch)
                                          : kho_parse_datetime(cell->s, cell->n, c->scratch)) != 0)
            return false;
        put_text(b, v, c->scratch, strlen(c->scratch));
        kho_colstats_text(&c->stats, c->scratch, v->len);
        return true;
    default: {
        const char *s = cell->s;
        size_t n = cell->n;
        kho_buf_reset(tmp);
        if (kho_text_nfc(s, n, tmp)) {
            s = tmp->data;
            n = tmp->len;
        }
        put_text(b, v, s, n);
        kho_colstats_text(&c->stats, s, n);
        return true;
    }
    }
}

/* Replace a converted value by its encrypted form: the value's text (as the
 * column's type prints it) sealed with the column's associated data. */
static int encrypt_cell(ingest_t *g, col_t *c, batch_t *b, val_t *v, kho_buf_t *tmp, kho_err_t *err)
{
    char num[40];
    const char *pt = num;
    size_t n;
    switch (v->kind) {
    case V_INT:
        if (c->out.type == KHO_TYPE_BOOLEAN)
            n = (size_t)snprintf(num, sizeof num, "%s", v->u.i ? "true" : "false");
        else
            n = (size_t)snprintf(num, sizeof num, "%lld", (long long)v->u.i);
        break;
    case V_REAL: n = kho_fmt_double(num, sizeof num, v->u.d); break;
    case V_TEXT:
        kho_buf_reset(tmp);
        kho_buf_append(tmp, b->text.data + v->u.off, v->len);
        b->text.len = v->u.off; /* the plaintext leaves the batch */
        pt = tmp->data;
        n = tmp->len;
        break;
    default: return 0;
    }
    size_t off = b->text.len;
    int rc = kho_keyring_encrypt(g->o->keys, c->aad, pt, n, &b->text, err);
    if (v->kind == V_TEXT)
        sodium_memzero(tmp->data, tmp->len);
    if (rc != 0)
        return rc;
    v->kind = V_BLOB;
    v->u.off = off;
    v->len = b->text.len - off;
    return 0;
}

/* Producer: wait for a free batch; NULL when the consumer asked to stop. */
static batch_t *free_batch(pipe_t *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->count == NBATCH && !p->stop)
        pthread_cond_wait(&p->cv, &p->mu);
    batch_t *b = p->stop ? NULL : &p->batch[(p->head + p->count) % NBATCH];
    pthread_mutex_unlock(&p->mu);
    return b;
}

static void publish(pipe_t *p, bool last, int rc)
{
    pthread_mutex_lock(&p->mu);
    if (!last)
        p->count++;
    else {
        p->done = true;
        p->rc = rc;
    }
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static int changed(pipe_t *p)
{
    return kho_err_setk(&p->err, KHO_ECONFLICT, "changed_input",
                        "%s changed while it was being imported (its content differs between the check and the "
                        "load); nothing was loaded",
                        p->src->name);
}

static void *produce(void *arg)
{
    pipe_t *p = arg;
    ingest_t *g = p->g;
    kho_reader_t *r = NULL;
    kho_buf_t tmp = KHO_BUF_INIT;
    kho_reader_opts_t ro = {
        .format = g->o->format, .delimiter = g->o->delimiter, .max_field = g->o->max_field, .hash = true};
    int rc = kho_reader_open(p->src, &ro, &r, &p->err);
    batch_t *b = NULL;
    kho_record_t *rec;
    while (rc == 0) {
        if (!b) {
            if (!(b = free_batch(p)))
                break;
            b->nrows = 0;
            kho_buf_reset(&b->text);
        }
        int nx = kho_reader_next(r, &rec, &p->err);
        if (nx <= 0) {
            rc = nx;
            break;
        }
        if (g->fmt != KHO_FMT_CSV && rec->n > g->ncols) { /* a JSON key pass 1 did not see (CSV: a ragged row) */
            rc = changed(p);
            break;
        }
        verdict_t v = row_verdict(g, rec, false);
        if (v.reject)
            continue;
        val_t *row = b->vals + b->nrows * g->ncols;
        for (size_t i = 0; i < g->ncols && rc == 0; i++) {
            col_t *c = &g->cols[i];
            if (i >= rec->n || g->bits[i] == NULL_BITS) {
                row[i].kind = V_NULL;
                kho_colstats_null(&c->stats);
            } else if (!convert_cell(c, &rec->cells[i], b, &row[i], &tmp))
                rc = changed(p);
            else if (c->encrypt)
                rc = encrypt_cell(g, c, b, &row[i], &tmp, &p->err);
        }
        if (rc != 0)
            break;
        g->rows_loaded++;
        if (++b->nrows == BATCH_ROWS || b->text.len >= BATCH_BYTES) {
            publish(p, false, 0);
            b = NULL;
        }
    }
    if (rc == 0 && b && b->nrows)
        publish(p, false, 0);
    /* the bytes loaded must be the bytes checked: compare the digests of the passes */
    if (rc == 0 && strcmp(kho_reader_sha256(r) ? kho_reader_sha256(r) : "", g->sha) != 0)
        rc = changed(p);
    publish(p, true, rc);
    kho_reader_free(r);
    kho_buf_free(&tmp);
    return NULL;
}

/* Consumer: insert one batch; row numbers continue from *next_row. */
static int insert_batch(ingest_t *g, kho_stmt_t *st, const batch_t *b, int64_t *next_row)
{
    for (size_t r = 0; r < b->nrows; r++) {
        const val_t *row = b->vals + r * g->ncols;
        kho_stmt_bind_int(st, 1, ++*next_row);
        for (size_t i = 0; i < g->ncols; i++) {
            int idx = (int)i + 2;
            switch (row[i].kind) {
            case V_NULL: kho_stmt_bind_null(st, idx); break;
            case V_INT: kho_stmt_bind_int(st, idx, row[i].u.i); break;
            case V_REAL: kho_stmt_bind_double(st, idx, row[i].u.d); break;
            case V_TEXT: kho_stmt_bind_text_static(st, idx, b->text.data + row[i].u.off, row[i].len); break;
            case V_BLOB: kho_stmt_bind_blob(st, idx, b->text.data + row[i].u.off, row[i].len); break;
            }
        }
        int rc = kho_stmt_step(st, g->err);
        kho_stmt_reset(st);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int load_rows(ingest_t *g, const kho_source_t *src, kho_stmt_t *st)
{
    pipe_t p = {.g = g, .src = src};
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    for (int i = 0; i < NBATCH; i++)
        p.batch[i].vals = kho_xmalloc(BATCH_ROWS * (g->ncols ? g->ncols : 1) * sizeof(val_t));
    pthread_t tid;
    int rc = 0;
    bool started = pthread_create(&tid, NULL, produce, &p) == 0;
    if (!started)
        rc = kho_err_set(g->err, KHO_EINTERNAL, "cannot start the loading thread");
    int64_t next_row = 0;
    while (rc == 0) {
        pthread_mutex_lock(&p.mu);
        while (p.count == 0 && !p.done)
            pthread_cond_wait(&p.cv, &p.mu);
        bool have = p.count > 0;
        batch_t *b = have ? &p.batch[p.head] : NULL;
        pthread_mutex_unlock(&p.mu);
        if (!have)
            break; /* producer done and drained */
        rc = insert_batch(g, st, b, &next_row);
        pthread_mutex_lock(&p.mu);
        p.head = (p.head + 1) % NBATCH;
        p.count--;
        if (rc != 0)
            p.stop = true;
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
    }
    if (started) {
        if (rc != 0) { /* wake a producer waiting for room */
            pthread_mutex_lock(&p.mu);
            p.stop = true;
            pthread_cond_broadcast(&p.cv);
            pthread_mutex_unlock(&p.mu);
        }
        pthread_join(tid, NULL);
    }
    if (rc == 0 && p.rc < 0) {
        *g->err = p.err;
        rc = p.rc;
    }
    for (int i = 0; i < NBATCH; i++) {
        free(p.batch[i].vals);
        kho_buf_free(&p.batch[i].text);
    }
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv);
    if (rc != 0)
        return rc;
    uint64_t expected = g->rows_read - g->rows_rejected;
    if (g->rows_loaded != expected || (uint64_t)next_row != expected)
        return kho_err_set(g->err, KHO_ECONFLICT, "%s changed while it was being imported (%llu rows, expected %llu)",
                           src->name, (unsigned long long)g->rows_loaded, (unsigned long long)expected);
    return 0;
}

/* Which columns are stored encrypted: sensitive ones always, personal ones when
 * the dataset is core or important (its importance as it is now, in this
 * transaction). */
static int decide_encryption(ingest_t *g, int64_t dataset_id, const char *table)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(g->w, "SELECT importance FROM datasets WHERE id = ?", &st, g->err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_int(st, 1, dataset_id);
    rc = kho_stmt_step(st, g->err);
    bool strict = rc == KHO_STEP_ROW && strcmp(kho_stmt_col_text(st, 0), "other") != 0;
    kho_stmt_reset(st);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < g->ncols; i++) {
        col_t *c = &g->cols[i];
        c->encrypt = kho_tags_have(c->out.tags, "sensitive") || (strict && kho_tags_have(c->out.tags, "personal"));
        if (!c->encrypt)
            continue;
        if (!g->o->keys)
            return kho_err_setk(g->err, KHO_EIO, "no_keys",
                                "column %s must be stored encrypted, but the key ring is not loaded (DATA/keys)",
                                c->out.name);
        snprintf(c->aad, sizeof c->aad, "%s.%s", table, c->out.name);
        add_tag(c, "encrypted");
    }
    return 0;
}

/* The version's full-text index (warehouse/query.h, q=): an FTS5 table
 * "<table>_fts" without content of its own, one entry per row (rowid = _row)
 * with two columns over the row's text columns that are neither personal nor
 * encrypted: `folded` (no case, no tone marks, đ = d) and `exact` (lower case,
 * tone marks kept). A version without such columns gets none. */
static int build_text_index(ingest_t *g, const char *table)
{
    kho_buf_t args = KHO_BUF_INIT;
    for (size_t i = 0; i < g->ncols; i++) {
        const kho_column_t *c = &g->cols[i].out;
        if (c->type != KHO_TYPE_TEXT || g->cols[i].encrypt || kho_tags_personal(c->tags))
            continue;
        char q[160];
        kho_store_quote_ident(c->name, q, sizeof q);
        kho_buf_printf(&args, "%s%s", args.len ? "," : "", q);
    }
    if (!args.len)
        return 0;
    char fts[96], qfts[160], qt[160];
    snprintf(fts, sizeof fts, "%s_fts", table);
    kho_store_quote_ident(fts, qfts, sizeof qfts);
    kho_store_quote_ident(table, qt, sizeof qt);
    kho_buf_t sql = KHO_BUF_INIT;
    kho_buf_printf(&sql,
                   "CREATE VIRTUAL TABLE %s USING fts5(folded, exact, content='', "
                   "tokenize='unicode61 remove_diacritics 0');"
                   "INSERT INTO %s(rowid, folded, exact) SELECT _row, kho_fold(%s), kho_lower(%s) FROM %s;",
                   qfts, qfts, args.data, args.data, qt);
    int rc = kho_store_exec(g->w, sql.data, g->err);
    if (rc != 0)
        kho_err_prefix(g->err, "full-text index");
    kho_buf_free(&sql);
    kho_buf_free(&args);
    return rc;
}

static kho_ingest_hook_fn commit_hook;

void kho_ingest_set_hook(kho_ingest_hook_fn fn)
{
    commit_hook = fn;
}

static int pass2(ingest_t *g, const kho_source_t *src, kho_ingest_result_t *res)
{
    size_t limit = STATS_MEMORY_HASHES / (g->ncols ? g->ncols : 1);
    for (size_t i = 0; i < g->ncols; i++)
        kho_colstats_init(&g->cols[i].stats, g->cols[i].out.type, limit > 65536 ? 65536 : limit);
    int64_t id = 0, number = 0;
    kho_stmt_t *ins = NULL;
    int rc = kho_store_begin(g->w, true, g->err);
    if (rc != 0)
        return rc;
    rc = kho_catalog_put_dataset(g->w, g->o->dataset, &g->o->meta, &id, NULL, g->err);
    if (rc == 0)
        rc = kho_catalog_next_version(g->w, id, &number, g->err);
    char table[64];
    snprintf(table, sizeof table, "ds%lld_v%lld", (long long)id, (long long)number);
    if (rc == 0)
        rc = decide_encryption(g, id, table);
    if (rc == 0)
        rc = create_table(g, table, &ins);
    if (rc == 0)
        rc = load_rows(g, src, ins);
    kho_stmt_free(ins);
    if (rc == 0)
        rc = build_text_index(g, table);
    if (rc == 0) {
        res->quality = report(g, true);
        kho_buf_t qj = KHO_BUF_INIT;
        kho_json_dump(&qj, res->quality, 0);
        kho_column_t *cols = kho_xcalloc(g->ncols ? g->ncols : 1, sizeof *cols);
        for (size_t i = 0; i < g->ncols; i++)
            cols[i] = g->cols[i].out;
        kho_version_new_t v = {.dataset_id = id,
                               .number = number,
                               .rows = g->rows_loaded,
                               .bytes = g->bytes,
                               .sha256 = g->sha,
                               .format = kho_format_name(g->fmt),
                               .source = g->o->source_name,
                               .table = table,
                               .quality_json = qj.data,
                               .cols = cols,
                               .ncols = g->ncols};
        rc = kho_catalog_add_version(g->w, &v, g->err);
        free(cols);
        kho_buf_free(&qj);
    }
    if (rc == 0 && commit_hook)
        rc = commit_hook(g->w, g->o->dataset, number, g->rows_rejected, g->err);
    if (rc == 0)
        rc = kho_store_commit(g->w, g->err);
    if (rc != 0) {
        kho_store_rollback(g->w);
        return rc;
    }
    res->version = number;
    return 0;
}

/* ---- entry ----------------------------------------------------------------------- */

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

void kho_ingest_free(kho_ingest_t *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->capcols; i++) {
        free(g->cols[i].out.label);
        kho_colstats_free(&g->cols[i].stats);
    }
    free(g->cols);
    free(g->bits);
    json_decref(g->rejects);
    json_decref(g->warnings);
    kho_nullmarks_free(&g->nulls);
    kho_strmap_free(g->codes);
    kho_strmap_free(g->taken);
    free(g->decl_matched);
    free(g->coltag_matched);
    free(g);
}

int kho_ingest_prepare(kho_store_t *s, const kho_source_t *src, const kho_ingest_opts_t *o, kho_ingest_t **out,
                       kho_ingest_result_t *res, kho_err_t *err)
{
    memset(res, 0, sizeof *res);
    *out = NULL;
    int rc = kho_ingest_check_opts(o, err);
    if (rc != 0)
        return rc;
    ingest_t *g = kho_xcalloc(1, sizeof *g);
    g->o = o;
    g->src = src;
    g->err = err;
    g->threshold = o->reject_threshold < 0 ? 0.10 : o->reject_threshold;
    g->rejects = json_array();
    g->warnings = json_array();
    kho_nullmarks_init(&g->nulls, o->null_marks ? o->null_marks : DEFAULT_NULL_MARKS);
    g->taken = kho_strmap_new();
    g->decl_matched = kho_xcalloc(o->ndecls ? o->ndecls : 1, sizeof *g->decl_matched);
    g->coltag_matched = kho_xcalloc(o->ncoltags ? o->ncoltags : 1, sizeof *g->coltag_matched);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    g->this_year = tm.tm_year + 1900;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = kho_units_codeset(s, &g->codes, err);
    if (rc == 0)
        rc = pass1(g, src);
    res->check_seconds = seconds_since(&t0);
    if (rc == 0)
        rc = check_decls(g);
    const char *name = src->name ? src->name : "the input";
    if (rc == 0 && g->rows_read == 0)
        rc = kho_err_setk(err, KHO_EINVAL, "no_rows",
                          g->fmt == KHO_FMT_CSV ? "%s has a header but no data rows" : "%s holds no records", name);
    if (rc == 0 && g->ncols == 0)
        rc = kho_err_setk(err, KHO_EINVAL, "no_columns", "%s: the records have no fields", name);
    if (rc == 0) {
        decide_types(g);
        decide_personal(g);
        double share = (double)g->rows_rejected / (double)g->rows_read;
        if ((o->strict && g->rows_rejected > 0) || share > g->threshold)
            rc = refuse(g, res);
    }
    res->rows_read = g->rows_read;
    res->rows_rejected = g->rows_rejected;
    if (rc != 0) {
        kho_ingest_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

int kho_ingest_commit(kho_ingest_t *g, kho_store_t *w, kho_ingest_result_t *res, kho_err_t *err)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    g->w = w;
    g->err = err;
    int rc = pass2(g, g->src, res);
    res->load_seconds = seconds_since(&t0);
    res->rows_loaded = rc == 0 ? g->rows_loaded : 0;
    return rc;
}

int kho_ingest(kho_store_t *w, const kho_source_t *src, const kho_ingest_opts_t *o, kho_ingest_result_t *res,
               kho_err_t *err)
{
    kho_ingest_t *g = NULL;
    int rc = kho_ingest_prepare(w, src, o, &g, res, err);
    if (rc == 0)
        rc = kho_ingest_commit(g, w, res, err);
    kho_ingest_free(g);
    return rc;
}

void kho_ingest_result_free(kho_ingest_result_t *res)
{
    json_decref(res->quality);
    res->quality = NULL;
}
