/*
 * reader — streaming CSV / JSON / NDJSON records (see reader.h).
 *
 * Design
 *   Bytes arrive in chunks of CHUNK bytes (from a file with read(), or sliced
 *   from memory). Every chunk is validated as UTF-8 and hashed as it arrives, so
 *   an error names the exact line and column of the bad byte.
 *
 *   CSV: libcsv is a push parser; we feed it one "piece" at a time, a piece
 *   ending at the first line break, so at most one record completes per piece.
 *   That keeps exactly one ready record (no queue) and gives each record the
 *   line where it began: the line counter when the first byte of the record was
 *   fed. Field bytes are copied into a per-record arena (fbuf) that is reset when
 *   the next record starts.
 *
 *   JSON array: a small scanner finds where each top-level element begins and
 *   ends (tracking string and nesting state) and hands the element's bytes to
 *   jansson. NDJSON: each non-blank line is handed to jansson. Either way one
 *   element is held in memory at a time.
 */
#include "warehouse/reader.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/jsonw.h"
#include "core/mem.h"
#include "core/strmap.h"
#include "core/text.h"

#define CHUNK (256 * 1024)
#define DEFAULT_MAX_FIELD (16u * 1024 * 1024)

typedef enum { J_BEFORE, J_EXPECT_ELEM, J_IN_ELEM, J_AFTER_ELEM, J_DONE } jstate_t;

struct kho_reader {
    kho_source_t src;
    kho_reader_opts_t opts;
    kho_format_t fmt;
    char delim;
    bool bom;

    /* input */
    int fd;
    size_t mem_pos;
    char *buf;         /* file chunk storage */
    const char *chunk; /* current chunk */
    size_t chunk_len, chunk_pos;
    bool eof;
    uint64_t bytes;
    kho_utf8v_t utf8;
    kho_sha256_t sha;
    char sha_hex[65];

    /* position */
    uint64_t line;
    bool prev_cr;
    uint64_t col; /* bytes since the last line break (JSON messages) */

    /* the record being built and the ready one */
    kho_buf_t fbuf;
    size_t *offs, *lens;
    kho_cell_kind_t *kinds;
    size_t nf, capf;
    bool in_record;
    uint64_t rec_start;
    bool ready;
    kho_record_t rec;
    kho_cell_t *cells;
    size_t capcells;
    uint64_t nrec;
    kho_buf_t tmp;

    /* columns */
    char **labels;
    size_t nlabels, caplabels;
    kho_strmap_t *keys; /* JSON key -> column */

    size_t max_field;
    size_t too_big;   /* length of a field over the limit, seen in a callback */
    bool too_many;    /* a record with more than KHO_READER_MAX_FIELDS fields */
    uint64_t rounded; /* JSON records whose numbers were read as reals */

    /* CSV */
    struct csv_parser csv;
    bool csv_ready;
    bool header_done;

    /* JSON */
    jstate_t js;
    int depth;
    bool in_str, esc;
    kho_buf_t ebuf;
    uint64_t elem_line, elem_col;
};

int kho_format_parse(const char *s)
{
    if (strcmp(s, "auto") == 0)
        return KHO_FMT_AUTO;
    if (strcmp(s, "csv") == 0)
        return KHO_FMT_CSV;
    if (strcmp(s, "json") == 0)
        return KHO_FMT_JSON;
    if (strcmp(s, "ndjson") == 0 || strcmp(s, "jsonl") == 0)
        return KHO_FMT_NDJSON;
    return -1;
}

const char *kho_format_name(kho_format_t f)
{
    static const char *names[] = {"auto", "csv", "json", "ndjson"};
    return names[f];
}

/* ---- input ----------------------------------------------------------------------- */

static int read_full(int fd, char *p, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        ssize_t k = read(fd, p + *got, n - *got);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (k == 0)
            break;
        *got += (size_t)k;
    }
    return 0;
}

/* Load the next chunk. Returns 1 when bytes are available, 0 at the end, <0 on error. */
static int fill(kho_reader_t *r, kho_err_t *err)
{
    if (r->eof)
        return 0;
    const char *p;
    size_t n;
    if (r->src.path) {
        if (read_full(r->fd, r->buf, CHUNK, &n) != 0)
            return kho_err_set(err, KHO_EIO, "%s: read failed: %s", r->src.name, strerror(errno));
        p = r->buf;
    } else {
        n = r->src.len - r->mem_pos < CHUNK ? r->src.len - r->mem_pos : CHUNK;
        p = r->src.mem + r->mem_pos;
        r->mem_pos += n;
    }
    if (n == 0) {
        r->eof = true;
        kho_utf8_error_t e;
        if (r->opts.validate_utf8 && !kho_utf8v_finish(&r->utf8, &e))
            return kho_err_setk(err, KHO_EINVAL, "invalid_utf8",
                                "%s: invalid UTF-8 at line %llu, column %llu: the input ends inside a multi-byte "
                                "character",
                                r->src.name, (unsigned long long)e.line, (unsigned long long)e.col);
        if (r->opts.hash)
            kho_sha256_final(&r->sha, r->sha_hex);
        return 0;
    }
    if (r->opts.validate_utf8) {
        kho_utf8_error_t e;
        if (!kho_utf8v_feed(&r->utf8, p, n, &e)) {
            if (e.byte == 0)
                return kho_err_setk(err, KHO_EINVAL, "invalid_utf8",
                                    "%s: NUL byte at line %llu, column %llu (byte offset %llu): not a text file?",
                                    r->src.name, (unsigned long long)e.line, (unsigned long long)e.col,
                                    (unsigned long long)e.offset);
            return kho_err_setk(err, KHO_EINVAL, "invalid_utf8",
                                "%s: invalid UTF-8 at line %llu, column %llu (byte offset %llu, byte 0x%02X): the "
                                "file must be UTF-8 encoded",
                                r->src.name, (unsigned long long)e.line, (unsigned long long)e.col,
                                (unsigned long long)e.offset, e.byte);
        }
    }
    if (r->opts.hash)
        kho_sha256_update(&r->sha, p, n);
    if (r->bytes == 0 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        r->bom = true;
        r->chunk_pos = 3;
    } else
        r->chunk_pos = 0;
    r->bytes += n;
    r->chunk = p;
    r->chunk_len = n;
    return 1;
}

/* ---- record building ----------------------------------------------------------- */

static void rec_begin(kho_reader_t *r)
{
    kho_buf_reset(&r->fbuf);
    r->nf = 0;
}

/* Append one cell to the record being built, normalising text when asked. */
static void rec_add(kho_reader_t *r, const char *s, size_t n, kho_cell_kind_t kind)
{
    if (r->nf == r->capf) {
        size_t c = r->capf;
        r->offs = kho_xgrow(r->offs, &c, r->nf + 1, sizeof *r->offs);
        c = r->capf;
        r->lens = kho_xgrow(r->lens, &c, r->nf + 1, sizeof *r->lens);
        c = r->capf;
        r->kinds = kho_xgrow(r->kinds, &c, r->nf + 1, sizeof *r->kinds);
        r->capf = c;
    }
    r->offs[r->nf] = r->fbuf.len;
    if (kind == KHO_CELL_TEXT && r->opts.nfc) {
        kho_buf_reset(&r->tmp);
        if (kho_text_nfc(s, n, &r->tmp)) {
            s = r->tmp.data;
            n = r->tmp.len;
        }
    }
    kho_buf_reserve(&r->fbuf, n + 1);
    memcpy(r->fbuf.data + r->fbuf.len, s, n);
    r->fbuf.len += n + 1;
    r->fbuf.data[r->fbuf.len - 1] = '\0';
    r->lens[r->nf] = n;
    r->kinds[r->nf] = kind;
    r->nf++;
}

/* Turn the built fields into the ready record (cells point into fbuf). */
static void rec_finish(kho_reader_t *r, size_t ncells)
{
    size_t c = r->capcells;
    r->cells = kho_xgrow(r->cells, &c, ncells ? ncells : 1, sizeof *r->cells);
    r->capcells = c;
    for (size_t i = 0; i < ncells; i++) {
        if (i < r->nf) {
            r->cells[i].s = r->fbuf.data + r->offs[i];
            r->cells[i].n = r->lens[i];
            r->cells[i].kind = r->kinds[i];
        } else {
            r->cells[i].s = "";
            r->cells[i].n = 0;
            r->cells[i].kind = KHO_CELL_ABSENT;
        }
    }
    r->rec.n = ncells;
    r->rec.cells = r->cells;
    r->rec.line = r->rec_start;
    r->ready = true;
}

static void add_label(kho_reader_t *r, const char *s, size_t n)
{
    size_t c = r->caplabels;
    r->labels = kho_xgrow(r->labels, &c, r->nlabels + 1, sizeof *r->labels);
    r->caplabels = c;
    kho_buf_t t = KHO_BUF_INIT;
    if (kho_text_nfc(s, n, &t)) {
        r->labels[r->nlabels++] = kho_buf_steal(&t, NULL);
    } else
        r->labels[r->nlabels++] = kho_xstrndup(s, n);
    kho_buf_free(&t);
}

/* ---- CSV ------------------------------------------------------------------------ */

static void csv_on_field(void *s, size_t n, void *data)
{
    kho_reader_t *r = data;
    if (n > r->max_field && !r->too_big) {
        r->too_big = n;
        return;
    }
    if (r->nf >= KHO_READER_MAX_FIELDS) {
        r->too_many = true;
        return;
    }
    rec_add(r, s ? s : "", s ? n : 0, KHO_CELL_TEXT);
}

static void csv_on_record(int c, void *data)
{
    (void)c;
    kho_reader_t *r = data;
    r->in_record = false; /* (libcsv itself skips blank and all-space lines) */
    if (!r->header_done) {
        for (size_t i = 0; i < r->nf; i++)
            add_label(r, r->fbuf.data + r->offs[i], r->lens[i]);
        r->header_done = true;
        r->ready = true; /* consumed by open */
        return;
    }
    rec_finish(r, r->nf);
}

static bool csv_is_term(unsigned char c)
{
    return c == '\r' || c == '\n';
}

/* Choose the delimiter from the first line: the most frequent of , ; TAB outside quotes. */
static char detect_delimiter(const char *p, size_t n)
{
    size_t comma = 0, semi = 0, tab = 0;
    bool q = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '"')
            q = !q;
        else if (!q && (c == '\n' || c == '\r'))
            break;
        else if (!q && c == ',')
            comma++;
        else if (!q && c == ';')
            semi++;
        else if (!q && c == '\t')
            tab++;
    }
    if (semi > comma && semi >= tab)
        return ';';
    if (tab > comma && tab > semi)
        return '\t';
    return ',';
}

static int csv_fail(kho_reader_t *r, kho_err_t *err)
{
    int e = csv_error(&r->csv);
    if (e == CSV_ETOOBIG || e == CSV_ENOMEM)
        return kho_err_setk(err, KHO_ETOOLARGE, "field_too_large", "%s: the field at line %llu is too large",
                            r->src.name, (unsigned long long)r->line);
    return kho_err_setk(err, KHO_EINVAL, "bad_quote",
                        "%s: malformed quoting at line %llu: a quote inside a quoted field must be doubled (\"\"), "
                        "and a quoted field must end at a delimiter or line end",
                        r->src.name, (unsigned long long)r->line);
}

/* Feed the parser until a record is ready. 1: ready, 0: end of input, <0 error. */
/* "1024 KiB" for whole KiB (the unit of the max_field_kb setting), else bytes. */
static const char *limit_text(size_t limit, char *buf, size_t size)
{
    if (limit % 1024 == 0)
        snprintf(buf, size, "%zu KiB", limit / 1024);
    else
        snprintf(buf, size, "%zu bytes", limit);
    return buf;
}

static int field_too_big(kho_reader_t *r, kho_err_t *err)
{
    char lim[48];
    return kho_err_setk(err, KHO_ETOOLARGE, "field_too_large",
                        "%s: a field of the record starting at line %llu is larger than the limit of %s "
                        "(max_field_kb); an unterminated quote can cause this",
                        r->src.name, (unsigned long long)r->rec_start, limit_text(r->max_field, lim, sizeof lim));
}

static int too_many_fields(kho_reader_t *r, kho_err_t *err)
{
    return kho_err_setk(err, KHO_ETOOLARGE, "too_many_fields", "%s: the record starting at line %llu has more than %d fields",
                        r->src.name, (unsigned long long)r->rec_start, KHO_READER_MAX_FIELDS);
}

static int csv_pump(kho_reader_t *r, kho_err_t *err)
{
    size_t max_field = r->max_field;
    while (!r->ready) {
        if (r->chunk_pos == r->chunk_len) {
            int rc = fill(r, err);
            if (rc < 0)
                return rc;
            if (rc == 0) {
                int fin = csv_fini(&r->csv, csv_on_field, csv_on_record, r);
                if (r->too_big)
                    return field_too_big(r, err);
                if (r->too_many)
                    return too_many_fields(r, err);
                if (fin != 0)
                    return kho_err_setk(err, KHO_EINVAL, "unterminated_quote",
                                        "%s: unterminated quoted field starting at line %llu: the file ends "
                                        "inside quotes",
                                        r->src.name, (unsigned long long)r->rec_start);
                return r->ready ? 1 : 0;
            }
            continue;
        }
        const char *p = r->chunk + r->chunk_pos;
        size_t left = r->chunk_len - r->chunk_pos;
        const char *nl = memchr(p, '\n', left);
        size_t len = nl ? (size_t)(nl - p) + 1 : left;
        const char *cr = memchr(p, '\r', len);
        if (cr && cr + 1 < p + len && cr[1] != '\n')
            len = (size_t)(cr - p) + 1; /* a lone CR ends a line too */
        if (!r->in_record && !csv_is_term((unsigned char)p[0])) {
            r->in_record = true;
            r->rec_start = r->line;
        }
        if (csv_parse(&r->csv, p, len, csv_on_field, csv_on_record, r) != len)
            return csv_fail(r, err);
        if (r->too_big)
            return field_too_big(r, err);
        if (r->too_many)
            return too_many_fields(r, err);
        r->chunk_pos += len;
        r->in_record = r->csv.pstate != 0; /* libcsv: 0 is "row not begun" */
        char last = p[len - 1];
        if (last == '\n') {
            if (!(r->prev_cr && len == 1)) /* the LF of a CRLF split after its CR */
                r->line++;
            r->prev_cr = false;
        } else if (last == '\r') {
            r->line++;
            r->prev_cr = true;
        } else
            r->prev_cr = false;
        if (r->fbuf.len > 4 * max_field + 4096)
            return kho_err_setk(err, KHO_ETOOLARGE, "field_too_large",
                                "%s: the record starting at line %llu is larger than %zu KiB (4 x max_field_kb)",
                                r->src.name, (unsigned long long)r->rec_start, 4 * max_field / 1024);
        if (r->csv.entry_pos > max_field) /* the field still being read (libcsv's public state) */
            return field_too_big(r, err);
    }
    return 1;
}

static int csv_open(kho_reader_t *r, kho_err_t *err)
{
    if (csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return kho_err_set(err, KHO_EINTERNAL, "cannot start the CSV parser");
    r->csv_ready = true; /* libcsv's built-in rules: CR/LF end records, spaces and tabs (unless the
                            delimiter) around unquoted fields are trimmed */
    if (!r->delim)
        r->delim = detect_delimiter(r->chunk + r->chunk_pos, r->chunk_len - r->chunk_pos);
    csv_set_delim(&r->csv, (unsigned char)r->delim);
    /* libcsv grows a field's buffer by this much at a time; with its default of
     * 128 bytes a multi-megabyte field costs quadratic copying */
    csv_set_blk_size(&r->csv, 1024 * 1024);
    rec_begin(r);
    int rc = csv_pump(r, err);
    if (rc < 0)
        return rc;
    if (rc == 0 || !r->header_done)
        return kho_err_setk(err, KHO_EINVAL, "empty_file", "%s: the file is empty (no header line)",
                            r->src.name);
    r->ready = false;
    return 0;
}

/* ---- JSON ---------------------------------------------------------------------- */

static size_t key_column(kho_reader_t *r, const char *key)
{
    size_t n = strlen(key), idx;
    kho_buf_reset(&r->tmp);
    if (kho_text_nfc(key, n, &r->tmp)) {
        key = r->tmp.data;
        n = r->tmp.len;
    }
    if (kho_strmap_get(r->keys, key, n, &idx))
        return idx;
    idx = r->nlabels;
    add_label(r, key, n);
    kho_strmap_put(r->keys, key, n, idx);
    return idx;
}

/* Parse one element (an object) from ebuf into the ready record. */
static int json_element(kho_reader_t *r, kho_err_t *err)
{
    json_error_t je;
    json_t *obj = json_loadb(r->ebuf.data, r->ebuf.len, JSON_REJECT_DUPLICATES, &je);
    if (!obj && json_error_code(&je) == json_error_numeric_overflow) { /* beyond 64 bits: read them as reals */
        obj = json_loadb(r->ebuf.data, r->ebuf.len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &je);
        if (obj)
            r->rounded++;
    }
    uint64_t idx = r->nrec + 1;
    if (!obj) {
        uint64_t line = r->elem_line + (je.line > 0 ? (uint64_t)je.line - 1 : 0);
        uint64_t col = je.line <= 1 ? r->elem_col + (uint64_t)(je.column > 0 ? je.column : 1) - 1
                                    : (uint64_t)(je.column > 0 ? je.column : 1);
        return kho_err_setk(err, KHO_EINVAL, "bad_json", "%s: record %llu (line %llu, column %llu): %s",
                            r->src.name, (unsigned long long)idx, (unsigned long long)line,
                            (unsigned long long)col, je.text);
    }
    if (!json_is_object(obj)) {
        json_decref(obj);
        return kho_err_setk(err, KHO_EINVAL, "not_an_object",
                            "%s: record %llu (line %llu) is not a JSON object: each record must be an object "
                            "{\"column\": value, ...}",
                            r->src.name, (unsigned long long)idx, (unsigned long long)r->elem_line);
    }
    /* cells in column order: collect (column, value) then lay them out */
    rec_begin(r);
    size_t nkeys = json_object_size(obj);
    if (nkeys > KHO_READER_MAX_FIELDS || r->nlabels + nkeys > 4 * (size_t)KHO_READER_MAX_FIELDS) {
        json_decref(obj);
        return kho_err_setk(err, KHO_ETOOLARGE, "too_many_fields",
                            "%s: record %llu (line %llu) brings the number of keys above %d", r->src.name,
                            (unsigned long long)idx, (unsigned long long)r->elem_line, KHO_READER_MAX_FIELDS);
    }
    size_t *colof = kho_xmalloc((nkeys ? nkeys : 1) * sizeof *colof);
    size_t k = 0;
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        colof[k] = key_column(r, key);
        char num[40];
        switch (json_typeof(v)) {
        case JSON_STRING: rec_add(r, json_string_value(v), json_string_length(v), KHO_CELL_TEXT); break;
        case JSON_INTEGER:
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
            rec_add(r, num, strlen(num), KHO_CELL_NUMBER);
            break;
        case JSON_REAL: {
            size_t m = kho_fmt_double(num, sizeof num, json_real_value(v));
            rec_add(r, num, m, KHO_CELL_NUMBER);
            break;
        }
        case JSON_TRUE: rec_add(r, "true", 4, KHO_CELL_TRUE); break;
        case JSON_FALSE: rec_add(r, "false", 5, KHO_CELL_FALSE); break;
        case JSON_NULL: rec_add(r, "", 0, KHO_CELL_NULL); break;
        default: { /* nested: compact JSON text, reals in their shortest form */
            kho_buf_reset(&r->tmp);
            kho_json_dump(&r->tmp, v, 0);
            rec_add(r, r->tmp.data, r->tmp.len, KHO_CELL_JSON);
        }
        }
        k++;
    }
    json_decref(obj);
    bool *seen = kho_xcalloc(r->nlabels ? r->nlabels : 1, sizeof *seen);
    for (size_t i = 0; i < k; i++) { /* keys that differ only in normal form would collide */
        if (seen[colof[i]]) {
            int rc = kho_err_setk(err, KHO_EINVAL, "bad_json",
                                  "%s: record %llu (line %llu) has two keys that are the same text in different "
                                  "Unicode forms ('%s')",
                                  r->src.name, (unsigned long long)idx, (unsigned long long)r->elem_line,
                                  r->labels[colof[i]]);
            free(seen);
            free(colof);
            return rc;
        }
        seen[colof[i]] = true;
    }
    free(seen);
    /* rec_add appended cells in key order; scatter them to their columns */
    size_t ncols = r->nlabels;
    size_t c = r->capcells;
    r->cells = kho_xgrow(r->cells, &c, ncols ? ncols : 1, sizeof *r->cells);
    r->capcells = c;
    for (size_t i = 0; i < ncols; i++)
        r->cells[i] = (kho_cell_t){"", 0, KHO_CELL_ABSENT};
    for (size_t i = 0; i < k; i++)
        r->cells[colof[i]] = (kho_cell_t){r->fbuf.data + r->offs[i], r->lens[i], r->kinds[i]};
    free(colof);
    r->rec.n = ncols;
    r->rec.cells = r->cells;
    r->rec.line = r->elem_line;
    r->ready = true;
    return 0;
}

static int record_too_big(kho_reader_t *r, kho_err_t *err)
{
    char lim[48];
    return kho_err_setk(err, KHO_ETOOLARGE, "field_too_large",
                        "%s: record %llu (line %llu) is larger than the limit of %s (max_field_kb)", r->src.name,
                        (unsigned long long)r->nrec + 1, (unsigned long long)r->elem_line,
                        limit_text(r->max_field, lim, sizeof lim));
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int json_unexpected(kho_reader_t *r, char c, const char *want, kho_err_t *err)
{
    char shown[8];
    unsigned char u = (unsigned char)c;
    if (u >= 0x20 && u < 0x7F)
        snprintf(shown, sizeof shown, "'%c'", c);
    else
        snprintf(shown, sizeof shown, "0x%02X", u);
    return kho_err_setk(err, KHO_EINVAL, "bad_json",
                        "%s: line %llu, column %llu: expected %s, found %s (the body must be a JSON array of "
                        "objects)",
                        r->src.name, (unsigned long long)r->line, (unsigned long long)r->col + 1, want, shown);
}

/* Scan the array until one element is complete (1), the array ends (0) or error. */
static int json_array_pump(kho_reader_t *r, kho_err_t *err)
{
    size_t max = r->max_field;
    while (!r->ready) {
        if (r->chunk_pos == r->chunk_len) {
            int rc = fill(r, err);
            if (rc < 0)
                return rc;
            if (rc == 0) {
                if (r->js == J_DONE)
                    return 0;
                if (r->js == J_BEFORE)
                    return kho_err_setk(err, KHO_EINVAL, "empty_file", "%s: the body is empty", r->src.name);
                return kho_err_setk(err, KHO_EINVAL, "bad_json",
                                    "%s: the JSON array is not closed: the input ends at line %llu inside %s",
                                    r->src.name, (unsigned long long)r->line,
                                    r->js == J_IN_ELEM ? "a record" : "the array");
            }
            continue;
        }
        const char *p = r->chunk + r->chunk_pos;
        size_t left = r->chunk_len - r->chunk_pos, i = 0;
        size_t run_start = 0;
        for (; i < left && !r->ready; i++) {
            char c = p[i];
            if (r->js == J_IN_ELEM) {
                if (r->in_str) {
                    if (r->esc)
                        r->esc = false;
                    else if (c == '\\')
                        r->esc = true;
                    else if (c == '"')
                        r->in_str = false;
                } else if (c == '"')
                    r->in_str = true;
                else if (c == '{' || c == '[')
                    r->depth++;
                else if (c == '}' || c == ']') {
                    if (--r->depth == 0) {
                        kho_buf_append(&r->ebuf, p + run_start, i + 1 - run_start);
                        if (r->ebuf.len > max)
                            return record_too_big(r, err);
                        r->js = J_AFTER_ELEM;
                        int rc = json_element(r, err);
                        if (rc < 0)
                            return rc;
                    }
                }
            } else if (is_ws(c)) {
                /* between tokens */
            } else if (r->js == J_BEFORE) {
                if (c != '[')
                    return json_unexpected(r, c, "'['", err);
                r->js = J_EXPECT_ELEM;
            } else if (r->js == J_EXPECT_ELEM || r->js == J_AFTER_ELEM) {
                if (c == ']' && (r->js == J_AFTER_ELEM || r->nrec == 0)) {
                    r->js = J_DONE;
                } else if (c == ']' && r->js == J_EXPECT_ELEM) {
                    return kho_err_setk(err, KHO_EINVAL, "bad_json",
                                        "%s: line %llu, column %llu: a comma before ']' (trailing commas are not "
                                        "JSON)",
                                        r->src.name, (unsigned long long)r->line, (unsigned long long)r->col + 1);
                } else if (c == ',' && r->js == J_AFTER_ELEM) {
                    r->js = J_EXPECT_ELEM;
                } else if (r->js == J_EXPECT_ELEM && c == '{') {
                    r->js = J_IN_ELEM;
                    r->depth = 1;
                    r->in_str = r->esc = false;
                    kho_buf_reset(&r->ebuf);
                    run_start = i;
                    r->elem_line = r->line;
                    r->elem_col = r->col + 1;
                } else if (r->js == J_EXPECT_ELEM) {
                    return kho_err_setk(err, KHO_EINVAL, "not_an_object",
                                        "%s: record %llu (line %llu, column %llu) is not a JSON object: the body "
                                        "must be an array of objects",
                                        r->src.name, (unsigned long long)r->nrec + 1, (unsigned long long)r->line,
                                        (unsigned long long)r->col + 1);
                } else
                    return json_unexpected(r, c, "',' or ']'", err);
            } else /* J_DONE */
                return kho_err_setk(err, KHO_EINVAL, "bad_json",
                                    "%s: line %llu, column %llu: unexpected data after the end of the JSON array",
                                    r->src.name, (unsigned long long)r->line, (unsigned long long)r->col + 1);
            if (c == '\n') {
                r->line++;
                r->col = 0;
            } else if (((unsigned char)c & 0xC0) != 0x80) /* columns count characters, like jansson's */
                r->col++;
        }
        if (r->js == J_IN_ELEM) {
            kho_buf_append(&r->ebuf, p + run_start, i - run_start);
            if (r->ebuf.len > max)
                return record_too_big(r, err);
        }
        r->chunk_pos += i;
    }
    return 1;
}

static bool all_space(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_ws(p[i]))
            return false;
    return true;
}

/* NDJSON: one object per non-blank line. */
static int ndjson_pump(kho_reader_t *r, kho_err_t *err)
{
    size_t max = r->max_field;
    while (!r->ready) {
        if (r->chunk_pos == r->chunk_len) {
            int rc = fill(r, err);
            if (rc < 0)
                return rc;
            if (rc == 0) {
                if (r->ebuf.len && !all_space(r->ebuf.data, r->ebuf.len)) {
                    r->elem_line = r->line;
                    r->elem_col = 1;
                    rc = json_element(r, err);
                    kho_buf_reset(&r->ebuf);
                    return rc < 0 ? rc : 1;
                }
                return 0;
            }
            continue;
        }
        const char *p = r->chunk + r->chunk_pos;
        size_t left = r->chunk_len - r->chunk_pos;
        const char *nl = memchr(p, '\n', left);
        size_t len = nl ? (size_t)(nl - p) : left;
        kho_buf_append(&r->ebuf, p, len);
        r->chunk_pos += len + (nl ? 1 : 0);
        if (r->ebuf.len > max) {
            char lim[48];
            return kho_err_setk(err, KHO_ETOOLARGE, "field_too_large",
                                "%s: line %llu is longer than the limit of %s (max_field_kb)", r->src.name,
                                (unsigned long long)r->line, limit_text(max, lim, sizeof lim));
        }
        if (!nl)
            continue;
        if (!all_space(r->ebuf.data, r->ebuf.len)) {
            r->elem_line = r->line;
            r->elem_col = 1;
            int rc = json_element(r, err);
            if (rc < 0)
                return rc;
        }
        kho_buf_reset(&r->ebuf);
        r->line++;
    }
    return 1;
}

/* ---- public -------------------------------------------------------------------- */

static kho_format_t sniff(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (is_ws(p[i]))
            continue;
        if (p[i] == '[')
            return KHO_FMT_JSON;
        if (p[i] == '{')
            return KHO_FMT_NDJSON;
        break;
    }
    return KHO_FMT_CSV;
}

int kho_reader_open(const kho_source_t *src, const kho_reader_opts_t *opts, kho_reader_t **out, kho_err_t *err)
{
    kho_reader_t *r = kho_xcalloc(1, sizeof *r);
    r->src = *src;
    if (!r->src.name)
        r->src.name = src->path ? src->path : "input";
    r->opts = *opts;
    r->max_field = opts->max_field ? opts->max_field : DEFAULT_MAX_FIELD;
    r->delim = opts->delimiter;
    r->fd = -1;
    r->line = 1;
    kho_utf8v_init(&r->utf8);
    if (opts->hash)
        kho_sha256_init(&r->sha);
    r->keys = kho_strmap_new();
    int rc = 0;
    if (src->path) {
        r->fd = open(src->path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            rc = kho_err_set(err, errno == ENOENT ? KHO_ENOTFOUND : KHO_EIO, "cannot open %s: %s", src->path,
                             strerror(errno));
            goto done;
        }
        r->buf = kho_xmalloc(CHUNK);
    }
    rc = fill(r, err);
    if (rc < 0)
        goto done;
    if (rc == 0) {
        rc = kho_err_setk(err, KHO_EINVAL, "empty_file", "%s: the file is empty", r->src.name);
        goto done;
    }
    rc = 0;
    r->fmt = opts->format ? opts->format : sniff(r->chunk + r->chunk_pos, r->chunk_len - r->chunk_pos);
    if (r->fmt == KHO_FMT_CSV)
        rc = csv_open(r, err);
    else if (r->fmt == KHO_FMT_JSON)
        r->js = J_BEFORE;
done:
    if (rc != 0) {
        kho_reader_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int kho_reader_next(kho_reader_t *r, kho_record_t **rec, kho_err_t *err)
{
    r->ready = false;
    int rc;
    if (r->fmt == KHO_FMT_CSV) {
        rec_begin(r);
        rc = csv_pump(r, err);
    } else if (r->fmt == KHO_FMT_JSON)
        rc = json_array_pump(r, err);
    else
        rc = ndjson_pump(r, err);
    if (rc <= 0)
        return rc;
    r->rec.index = ++r->nrec;
    *rec = &r->rec;
    return 1;
}

void kho_reader_free(kho_reader_t *r)
{
    if (!r)
        return;
    if (r->csv_ready)
        csv_free(&r->csv);
    if (r->fd >= 0)
        close(r->fd);
    if (r->opts.hash && r->sha.ctx)
        kho_sha256_abort(&r->sha);
    free(r->buf);
    kho_buf_free(&r->fbuf);
    kho_buf_free(&r->tmp);
    kho_buf_free(&r->ebuf);
    free(r->offs);
    free(r->lens);
    free(r->kinds);
    free(r->cells);
    for (size_t i = 0; i < r->nlabels; i++)
        free(r->labels[i]);
    free(r->labels);
    kho_strmap_free(r->keys);
    free(r);
}

kho_format_t kho_reader_format(const kho_reader_t *r)
{
    return r->fmt;
}

char kho_reader_delimiter(const kho_reader_t *r)
{
    return r->fmt == KHO_FMT_CSV ? r->delim : 0;
}

bool kho_reader_had_bom(const kho_reader_t *r)
{
    return r->bom;
}

size_t kho_reader_ncols(const kho_reader_t *r)
{
    return r->nlabels;
}

const char *kho_reader_label(const kho_reader_t *r, size_t i)
{
    return i < r->nlabels ? r->labels[i] : "";
}

uint64_t kho_reader_bytes(const kho_reader_t *r)
{
    return r->bytes;
}

const char *kho_reader_sha256(const kho_reader_t *r)
{
    return r->sha_hex[0] ? r->sha_hex : NULL;
}

uint64_t kho_reader_rounded(const kho_reader_t *r)
{
    return r->rounded;
}
