/* Unit tests of warehouse/reader: CSV (RFC 4180), JSON arrays and NDJSON, from
 * memory and from files, including damage and inputs that straddle the reader's
 * 256 KiB chunks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "kho_test.h"
#include "warehouse/reader.h"

#if defined(__SANITIZE_ADDRESS__)
#define KT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KT_ASAN 1
#endif
#endif

#define CHUNK (256 * 1024) /* the reader's chunk size (reader.c) */

/* ---- helpers ---------------------------------------------------------------------- */

static kho_reader_opts_t OPTS = {.validate_utf8 = true, .hash = true};

static void free_reader(void *r)
{
    kho_reader_free(r);
}

/* Open a reader on bytes in memory (released at teardown); fails the test when open fails. */
static kho_reader_t *open_mem_opts(const char *s, size_t n, kho_reader_opts_t o)
{
    kho_source_t src = {.mem = s, .len = n, .name = "test.csv"};
    kho_reader_t *r = NULL;
    kho_err_t err = {0};
    int rc = kho_reader_open(&src, &o, &r, &err);
    if (rc != 0)
        fail_msg("kho_reader_open failed: %d %s", rc, err.msg);
    return kt_defer(free_reader, r);
}

static kho_reader_t *open_mem(const char *s)
{
    return open_mem_opts(s, strlen(s), OPTS);
}

static void repr(kho_buf_t *b, const kho_cell_t *c)
{
    switch (c->kind) {
    case KHO_CELL_ABSENT: kho_buf_puts(b, "-"); return;
    case KHO_CELL_NULL: kho_buf_puts(b, "null"); return;
    case KHO_CELL_TRUE: kho_buf_puts(b, "true"); return;
    case KHO_CELL_FALSE: kho_buf_puts(b, "false"); return;
    case KHO_CELL_NUMBER: kho_buf_printf(b, "n:%s", c->s); return;
    case KHO_CELL_JSON: kho_buf_printf(b, "j:%s", c->s); return;
    default: break;
    }
    if (strlen(c->s) != c->n) /* must be NUL-terminated at n */
        kho_buf_puts(b, "<length mismatch>");
    kho_buf_putc(b, '[');
    for (size_t i = 0; i < c->n; i++) {
        if (c->s[i] == '\n')
            kho_buf_puts(b, "\\n");
        else if (c->s[i] == '\r')
            kho_buf_puts(b, "\\r");
        else
            kho_buf_putc(b, c->s[i]);
    }
    kho_buf_putc(b, ']');
}

/* Read every record into "L<line>#<index>: cell cell\n..."; *rc is 0 at a clean
 * end or the error code. The caller frees the result. */
static char *drain(kho_reader_t *r, int *rc, kho_err_t *err)
{
    kho_buf_t b = KHO_BUF_INIT;
    kho_record_t *rec;
    int x;
    while ((x = kho_reader_next(r, &rec, err)) == 1) {
        kho_buf_printf(&b, "L%llu#%llu:", (unsigned long long)rec->line, (unsigned long long)rec->index);
        for (size_t i = 0; i < rec->n; i++) {
            kho_buf_putc(&b, ' ');
            repr(&b, &rec->cells[i]);
        }
        kho_buf_putc(&b, '\n');
    }
    *rc = x;
    if (x == 0 && kho_reader_next(r, &rec, err) != 0) /* the end stays the end */
        kho_buf_puts(&b, "<records after the end>");
    char *out = kt_defer(free, strdup(kho_buf_cstr(&b)));
    kho_buf_free(&b);
    return out;
}

/* Read everything and compare with the expected dump; the end must be clean. */
static void expect_records(kho_reader_t *r, const char *want)
{
    int rc;
    kho_err_t err = {0};
    char *got = drain(r, &rc, &err);
    if (rc != 0)
        fail_msg("reading failed (%d: %s) after:\n%s", rc, err.msg, got);
    if (strcmp(got, want) != 0)
        fail_msg("records differ.\n--- got:\n%s--- want:\n%s", got, want);
    kt_release(got);
}

static void expect_labels(const kho_reader_t *r, size_t n, const char *const *labels)
{
    assert_int_equal(kho_reader_ncols(r), n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(kho_reader_label(r, i), labels[i]);
}

#define LABELS(r, ...)                                                                                                 \
    expect_labels((r), sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *),                              \
                  (const char *const[]){__VA_ARGS__})

/* The first error from opening or reading; 0 when the input reads cleanly. */
static int first_error(const char *s, size_t n, kho_reader_opts_t o, kho_err_t *err)
{
    kho_source_t src = {.mem = s, .len = n, .name = "in.csv"};
    kho_reader_t *r = NULL;
    memset(err, 0, sizeof *err);
    int rc = kho_reader_open(&src, &o, &r, err);
    if (rc != 0)
        return rc;
    kho_record_t *rec;
    while ((rc = kho_reader_next(r, &rec, err)) == 1) {
    }
    kho_reader_free(r);
    return rc;
}

#define assert_msg_has(err, text)                                                                                      \
    do {                                                                                                               \
        if (!strstr((err).msg, (text)))                                                                                \
            fail_msg("error message \"%s\" lacks \"%s\"", (err).msg, (text));                                          \
    } while (0)

/* ---- names ------------------------------------------------------------------------- */

static void test_format_names(void **state)
{
    (void)state;
    assert_int_equal(kho_format_parse("auto"), KHO_FMT_AUTO);
    assert_int_equal(kho_format_parse("csv"), KHO_FMT_CSV);
    assert_int_equal(kho_format_parse("json"), KHO_FMT_JSON);
    assert_int_equal(kho_format_parse("ndjson"), KHO_FMT_NDJSON);
    assert_int_equal(kho_format_parse("jsonl"), KHO_FMT_NDJSON);
    assert_int_equal(kho_format_parse("xlsx"), -1);
    assert_int_equal(kho_format_parse("CSV"), -1);
    assert_string_equal(kho_format_name(KHO_FMT_CSV), "csv");
    assert_string_equal(kho_format_name(KHO_FMT_JSON), "json");
    assert_string_equal(kho_format_name(KHO_FMT_NDJSON), "ndjson");
}

/* ---- CSV ------------------------------------------------------------------------------ */

static void test_csv_basic(void **state)
{
    (void)state;
    const char *in = "ma_xa,ten,dan_so\n12031,Xã Nghĩa Trụ,1234\n11953,Phường Phố Hiến,567\n";
    kho_reader_t *r = open_mem(in);
    assert_int_equal(kho_reader_format(r), KHO_FMT_CSV);
    assert_int_equal(kho_reader_delimiter(r), ',');
    assert_false(kho_reader_had_bom(r));
    LABELS(r, "ma_xa", "ten", "dan_so");
    assert_string_equal(kho_reader_label(r, 3), ""); /* beyond the columns */
    assert_null(kho_reader_sha256(r));               /* not before the end */
    expect_records(r, "L2#1: [12031] [Xã Nghĩa Trụ] [1234]\n"
                      "L3#2: [11953] [Phường Phố Hiến] [567]\n");
    assert_int_equal(kho_reader_bytes(r), strlen(in));
    kt_release(r);
}

static void test_csv_quoted_fields(void **state)
{
    (void)state;
    kho_reader_t *r = open_mem("name,note,empty\n"
                               "\"Nguyễn, Văn A\",\"say \"\"hi\"\"\",\"\"\n"
                               "\"\"\"\",\"a,b,,c\",x\n"
                               "plain,\"\",\n");
    LABELS(r, "name", "note", "empty");
    expect_records(r, "L2#1: [Nguyễn, Văn A] [say \"hi\"] []\n"
                      "L3#2: [\"] [a,b,,c] [x]\n"
                      "L4#3: [plain] [] []\n");
    kt_release(r);
}

static void test_csv_quoted_header(void **state)
{
    (void)state;
    kho_reader_t *r = open_mem("\"Dân số, 2024\",\"Tên \"\"xã\"\"\"\n1,2\n");
    LABELS(r, "Dân số, 2024", "Tên \"xã\"");
    expect_records(r, "L2#1: [1] [2]\n");
    kt_release(r);
}

static void test_csv_embedded_line_breaks(void **state)
{
    (void)state;
    /* records that span lines report the line where they start */
    kho_reader_t *r = open_mem("id,text\n"
                               "1,\"line1\nline2\"\n"
                               "2,\"a\r\nb\r\nc\"\n"
                               "3,\"\n\n\"\n"
                               "4,z\n");
    expect_records(r, "L2#1: [1] [line1\\nline2]\n"
                      "L4#2: [2] [a\\r\\nb\\r\\nc]\n"
                      "L7#3: [3] [\\n\\n]\n"
                      "L10#4: [4] [z]\n");
    kt_release(r);
}

static void test_csv_crlf(void **state)
{
    (void)state;
    kho_reader_t *r = open_mem("a,b\r\n1,2\r\n\r\n3,4\r\n");
    LABELS(r, "a", "b");
    expect_records(r, "L2#1: [1] [2]\n"
                      "L4#2: [3] [4]\n");
    kt_release(r);
}

static void test_csv_lone_cr(void **state)
{
    (void)state;
    kho_reader_t *r = open_mem("a,b\r1,2\r\r3,\"x\ry\"\r5,6");
    LABELS(r, "a", "b");
    expect_records(r, "L2#1: [1] [2]\n"
                      "L4#2: [3] [x\\ry]\n"
                      "L6#3: [5] [6]\n");
    kt_release(r);
}

/* In a file with CR line ends, errors name the same lines the records do. */
static void test_csv_lone_cr_error_position(void **state)
{
    (void)state;
    kho_err_t err;
    const char *in = "a,b\r1,2\r3,\xff\r";
    assert_int_equal(first_error(in, strlen(in), OPTS, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "invalid_utf8");
    assert_msg_has(err, "line 3, column 3");
}

/* A file whose line ends change from CR to LF keeps counting lines. */
static void test_csv_mixed_line_ends(void **state)
{
    (void)state;
    kho_reader_t *r = open_mem("a,b\r1,2\n3,4\r\n5,6\n");
    expect_records(r, "L2#1: [1] [2]\n"
                      "L3#2: [3] [4]\n"
                      "L4#3: [5] [6]\n");
    kt_release(r);
    /* a lone CR inside quotes in an LF file */
    r = open_mem("a,b\n1,\"x\ry\"\n5,6\n");
    expect_records(r, "L2#1: [1] [x\\ry]\n"
                      "L4#2: [5] [6]\n");
    kt_release(r);
}

static void test_csv_bom(void **state)
{
    (void)state;
    const char *in = "\xEF\xBB\xBF"
                     "a,b\n1,2\n";
    kho_reader_t *r = open_mem(in);
    assert_true(kho_reader_had_bom(r));
    LABELS(r, "a", "b"); /* the BOM is not part of the first label */
    expect_records(r, "L2#1: [1] [2]\n");
    assert_int_equal(kho_reader_bytes(r), strlen(in));
    kt_release(r);
    /* a BOM that is not at the very start is content */
    r = open_mem("a,b\n\xEF\xBB\xBFx,2\n");
    assert_false(kho_reader_had_bom(r));
    expect_records(r, "L2#1: [\xEF\xBB\xBFx] [2]\n");
    kt_release(r);
}

static void test_csv_delimiter_detection(void **state)
{
    (void)state;
    kho_reader_t *r = open_mem("ma;ten;gia\n1;Hà Nội;1,5\n");
    assert_int_equal(kho_reader_delimiter(r), ';');
    LABELS(r, "ma", "ten", "gia");
    expect_records(r, "L2#1: [1] [Hà Nội] [1,5]\n");
    kt_release(r);

    r = open_mem("ma\tten\tgia\n1\tHà Nội, Việt Nam\t1,5\n");
    assert_int_equal(kho_reader_delimiter(r), '\t');
    expect_records(r, "L2#1: [1] [Hà Nội, Việt Nam] [1,5]\n");
    kt_release(r);

    /* only the header line counts, and delimiters inside quotes do not */
    r = open_mem("\"a;b;c\",d\n1;2;3,4\n");
    assert_int_equal(kho_reader_delimiter(r), ',');
    LABELS(r, "a;b;c", "d");
    expect_records(r, "L2#1: [1;2;3] [4]\n");
    kt_release(r);

    /* one column: nothing to detect, comma */
    r = open_mem("ten\nHà Nội\n");
    assert_int_equal(kho_reader_delimiter(r), ',');
    expect_records(r, "L2#1: [Hà Nội]\n");
    kt_release(r);

    /* explicit delimiter wins over the detection */
    kho_reader_opts_t o = OPTS;
    o.delimiter = ';';
    const char *in = "a,b;c\n1,2;3\n";
    r = open_mem_opts(in, strlen(in), o);
    assert_int_equal(kho_reader_delimiter(r), ';');
    LABELS(r, "a,b", "c");
    expect_records(r, "L2#1: [1,2] [3]\n");
    kt_release(r);
    o.delimiter = '|';
    in = "a|b\n1|2\n";
    r = open_mem_opts(in, strlen(in), o);
    LABELS(r, "a", "b");
    kt_release(r);
}

static void test_csv_blank_lines_and_spaces(void **state)
{
    (void)state;
    kho_reader_t *r = open_mem("\n\n a , b \n\n1,2\n   \n\n 3 , \" 4 \" \n,\n");
    LABELS(r, "a", "b");
    expect_records(r, "L5#1: [1] [2]\n"
                      "L8#2: [3] [ 4 ]\n"
                      "L9#3: [] []\n");
    kt_release(r);
}

static void test_csv_last_line_without_newline(void **state)
{
    (void)state;
    kho_reader_t *r = open_mem("a,b\n1,2\n3,\"4\"");
    expect_records(r, "L2#1: [1] [2]\n"
                      "L3#2: [3] [4]\n");
    kt_release(r);
    r = open_mem("a,b\r\n1,2");
    expect_records(r, "L2#1: [1] [2]\n");
    kt_release(r);
}

static void test_csv_ragged_records_pass_through(void **state)
{
    (void)state;
    kho_reader_t *r = open_mem("a,b\n1\n1,2,3\n,\n");
    expect_records(r, "L2#1: [1]\n"
                      "L3#2: [1] [2] [3]\n"
                      "L4#3: [] []\n");
    kt_release(r);
}

static void test_csv_nfc(void **state)
{
    (void)state;
    /* "Hưng Yên" with combining marks in the header and in a cell */
    const char *in = "Hu\xcc\x9bng Ye\xcc\x82n,x\nHu\xcc\x9bng Ye\xcc\x82n,Hưng Yên\n";
    kho_reader_t *r = open_mem(in); /* nfc off */
    LABELS(r, "Hưng Yên", "x");     /* labels are always NFC */
    expect_records(r, "L2#1: [Hu\xcc\x9bng Ye\xcc\x82n] [Hưng Yên]\n");
    kt_release(r);
    kho_reader_opts_t o = OPTS;
    o.nfc = true;
    r = open_mem_opts(in, strlen(in), o);
    LABELS(r, "Hưng Yên", "x");
    expect_records(r, "L2#1: [Hưng Yên] [Hưng Yên]\n");
    kt_release(r);
}

static void test_csv_invalid_utf8(void **state)
{
    (void)state;
    kho_err_t err;
    const char *in = "a,b\n1,2\nxã,\xff"
                     "z\n";
    assert_int_equal(first_error(in, strlen(in), OPTS, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "invalid_utf8");
    assert_msg_has(err, "line 3, column 4");
    assert_msg_has(err, "in.csv");
    assert_msg_has(err, "0xFF");
    /* in the header */
    in = "a,\xc3\x28\n1,2\n";
    assert_int_equal(first_error(in, strlen(in), OPTS, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "invalid_utf8");
    assert_msg_has(err, "line 1, column 3");
    /* overlong, surrogate */
    in = "a\n\xc0\xaf\n";
    assert_int_equal(first_error(in, strlen(in), OPTS, &err), KHO_EINVAL);
    assert_msg_has(err, "line 2, column 1");
    in = "a\nok\n\xed\xa0\x80\n";
    assert_int_equal(first_error(in, strlen(in), OPTS, &err), KHO_EINVAL);
    assert_msg_has(err, "line 3, column 1");
}

static void test_csv_nul_byte(void **state)
{
    (void)state;
    kho_err_t err;
    static const char in[] = "a,b\n1,x\0y\n";
    assert_int_equal(first_error(in, sizeof in - 1, OPTS, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "invalid_utf8");
    assert_msg_has(err, "NUL byte at line 2, column 4");
}

static void test_csv_truncated_multibyte_at_eof(void **state)
{
    (void)state;
    kho_err_t err;
    const char *in = "a,b\n1,\xe1\xba";
    assert_int_equal(first_error(in, strlen(in), OPTS, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "invalid_utf8");
    assert_msg_has(err, "line 2, column 3");
    assert_msg_has(err, "ends inside a multi-byte character");
}

static void test_csv_unterminated_quote(void **state)
{
    (void)state;
    kho_err_t err;
    const char *in = "a,b\n1,2\n3,\"abc\n4,5\n6,7\n";
    assert_int_equal(first_error(in, strlen(in), OPTS, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "unterminated_quote");
    assert_msg_has(err, "starting at line 3");
    /* in the header */
    in = "a,\"b\n1,2\n";
    assert_int_equal(first_error(in, strlen(in), OPTS, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "unterminated_quote");
    assert_msg_has(err, "starting at line 1");
}

static void test_csv_malformed_quotes(void **state)
{
    (void)state;
    kho_err_t err;
    const char *in = "a,b\n1,2\n3,b\"c\"d\n";
    assert_int_equal(first_error(in, strlen(in), OPTS, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "bad_quote");
    assert_msg_has(err, "line 3");
    /* text after a closing quote */
    in = "a,b\n\"abc\"x,1\n";
    assert_int_equal(first_error(in, strlen(in), OPTS, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "bad_quote");
    assert_msg_has(err, "line 2");
    /* a record before the damage is still delivered */
    kho_reader_t *r = open_mem("a,b\n1,2\n3,b\"c\"d\n");
    int rc;
    char *got = drain(r, &rc, &err);
    assert_string_equal(got, "L2#1: [1] [2]\n");
    assert_int_equal(rc, KHO_EINVAL);
}

static void test_csv_empty_inputs(void **state)
{
    (void)state;
    kho_err_t err;
    kho_source_t src = {.mem = "", .len = 0, .name = "empty.csv"};
    kho_reader_t *r = (kho_reader_t *)0x1;
    assert_int_equal(kho_reader_open(&src, &OPTS, &r, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "empty_file");
    assert_msg_has(err, "empty.csv");
    assert_int_equal(first_error("\xEF\xBB\xBF", 3, OPTS, &err), KHO_EINVAL); /* only a BOM */
    assert_string_equal(err.kind, "empty_file");
    assert_int_equal(first_error("\n\r\n\n", 4, OPTS, &err), KHO_EINVAL); /* only blank lines */
    assert_string_equal(err.kind, "empty_file");
    assert_int_equal(first_error("   \n", 4, OPTS, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "empty_file");
}

static void test_csv_header_only(void **state)
{
    (void)state;
    kho_reader_t *r = open_mem("a,b,c\n");
    LABELS(r, "a", "b", "c");
    expect_records(r, "");
    assert_non_null(kho_reader_sha256(r));
    kt_release(r);
    r = open_mem("a,b,c"); /* without a newline */
    LABELS(r, "a", "b", "c");
    expect_records(r, "");
    kt_release(r);
    r = open_mem("a,b\n\n\n");
    expect_records(r, "");
    kt_release(r);
}

static char *field_csv(size_t n, size_t *len)
{
    char *in = kt_malloc(n + 16);
    memcpy(in, "h\n", 2);
    memset(in + 2, 'x', n);
    memcpy(in + 2 + n, "\n2\n", 3);
    *len = n + 5;
    return in;
}

static void test_csv_field_too_large(void **state)
{
    (void)state;
    kho_reader_opts_t o = OPTS;
    o.max_field = 4096;
    kho_err_t err;
    size_t len;
    char *in = field_csv(10000, &len);
    assert_int_equal(first_error(in, len, o, &err), KHO_ETOOLARGE);
    assert_string_equal(err.kind, "field_too_large");
    assert_msg_has(err, "line 2");
    /* a quoted field spanning lines counts as a whole */
    kho_buf_t *b = kt_buf();
    kho_buf_puts(b, "h\n\"");
    for (int i = 0; i < 200; i++)
        kho_buf_puts(b, "0123456789012345678901234567890123456789\n");
    kho_buf_puts(b, "\"\n");
    assert_int_equal(first_error(b->data, b->len, o, &err), KHO_ETOOLARGE);
    assert_msg_has(err, "line 2");
    /* in the header */
    in = field_csv(10000, &len);
    in[1] = 'x';
    assert_int_equal(first_error(in, len, o, &err), KHO_ETOOLARGE);
}

/* max_field is "the largest field in bytes": a field of exactly that size loads. */
static void test_csv_field_at_the_limit(void **state)
{
    (void)state;
    kho_reader_opts_t o = OPTS;
    o.max_field = 4096;
    size_t len;
    char *in = field_csv(4000, &len);
    kho_err_t err;
    assert_int_equal(first_error(in, len, o, &err), 0);
    in = field_csv(4096, &len);
    if (first_error(in, len, o, &err) != 0)
        fail_msg("a field of exactly max_field (4096) bytes was refused: %s", err.msg);
    in = field_csv(4097, &len);
    assert_int_equal(first_error(in, len, o, &err), KHO_ETOOLARGE);
}

/* A 10 MB field loads under the 16 MiB limit. Under AddressSanitizer the size is
 * cut to 256 KiB: libcsv grows its field buffer 128 bytes at a time, which is
 * quadratic when realloc cannot grow in place (see test_csv_big_field_linear_time). */
static void test_csv_10mb_field(void **state)
{
    (void)state;
#ifdef KT_ASAN
    size_t n = 256u * 1024, len;
#else
    size_t n = 10u * 1000 * 1000, len;
#endif
    char *in = field_csv(n, &len);
    in[2] = '"';
    in[2 + n - 1] = '"'; /* quoted: 10 MB minus the two quotes */
    kho_reader_opts_t o = OPTS;
    o.max_field = 16u << 20;
    kho_reader_t *r = open_mem_opts(in, len, o);
    kho_record_t *rec;
    kho_err_t err;
    assert_int_equal(kho_reader_next(r, &rec, &err), 1);
    assert_int_equal(rec->n, 1);
    assert_int_equal(rec->cells[0].n, n - 2);
    assert_int_equal(rec->cells[0].s[0], 'x');
    assert_int_equal(rec->cells[0].s[n - 3], 'x');
    assert_int_equal(rec->cells[0].s[n - 2], '\0');
    assert_int_equal(kho_reader_next(r, &rec, &err), 1);
    assert_int_equal(rec->line, 3);
    assert_string_equal(rec->cells[0].s, "2");
    assert_int_equal(kho_reader_next(r, &rec, &err), 0);
}

/* Reading a field costs time in proportion to its size. A 1 MB field is read in
 * milliseconds when the parser's buffer grows geometrically; libcsv's default
 * growth of 128 bytes per step copies the field ~8,000 times when realloc
 * cannot extend in place (as under ASan, or with a fragmented heap). */
static void test_csv_big_field_linear_time(void **state)
{
    (void)state;
    size_t n = 1000u * 1000, len;
    char *in = field_csv(n, &len);
    kho_reader_opts_t o = OPTS;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    kho_reader_t *r = open_mem_opts(in, len, o);
    kho_record_t *rec;
    kho_err_t err;
    assert_int_equal(kho_reader_next(r, &rec, &err), 1);
    assert_int_equal(rec->cells[0].n, n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (secs > 0.5)
        fail_msg("reading one 1 MB field took %.1f s: field buffer growth is quadratic", secs);
}

static void test_csv_sha256(void **state)
{
    (void)state;
    /* printf 'ma_xa,ten\n12031,Xã Nghĩa Trụ\n' | sha256sum */
    kho_reader_t *r = open_mem("ma_xa,ten\n12031,Xã Nghĩa Trụ\n");
    assert_null(kho_reader_sha256(r));
    expect_records(r, "L2#1: [12031] [Xã Nghĩa Trụ]\n");
    assert_non_null(kho_reader_sha256(r));
    assert_string_equal(kho_reader_sha256(r), "b07821c09bc613c2013e44a9c3934d8910e4638a8bee40bf602587efaa1c262c");
    kt_release(r);
    /* the BOM is hashed too: the digest is of the bytes as given */
    const char *in = "\xEF\xBB\xBF"
                     "a\n1\n";
    char want[65];
    kt_sha256_hex(in, strlen(in), want);
    r = open_mem(in);
    expect_records(r, "L2#1: [1]\n");
    assert_string_equal(kho_reader_sha256(r), want);
    kt_release(r);
    /* no hash unless asked */
    kho_reader_opts_t o = OPTS;
    o.hash = false;
    r = open_mem_opts("a\n1\n", 4, o);
    expect_records(r, "L2#1: [1]\n");
    assert_null(kho_reader_sha256(r));
    kt_release(r);
}

static void test_csv_from_file(void **state)
{
    (void)state;
    const char *in = "\xEF\xBB\xBF"
                     "ma;ten\r\n12031;\"Xã\r\nNghĩa Trụ\"\r\n";
    const char *dir = kt_tmpdir("reader-test");
    kho_source_t src = {.path = kt_write_file(dir, "data.csv", in, strlen(in))};
    kho_reader_t *r = NULL;
    kho_err_t err;
    assert_int_equal(kho_reader_open(&src, &OPTS, &r, &err), 0);
    kt_defer(free_reader, r);
    assert_true(kho_reader_had_bom(r));
    assert_int_equal(kho_reader_delimiter(r), ';');
    LABELS(r, "ma", "ten");
    expect_records(r, "L2#1: [12031] [Xã\\r\\nNghĩa Trụ]\n");
    char want[65];
    kt_sha256_hex(in, strlen(in), want);
    assert_string_equal(kho_reader_sha256(r), want);
    assert_int_equal(kho_reader_bytes(r), strlen(in));
    kt_release(r);
    /* the same source can be read again */
    assert_int_equal(kho_reader_open(&src, &OPTS, &r, &err), 0);
    kt_defer(free_reader, r);
    expect_records(r, "L2#1: [12031] [Xã\\r\\nNghĩa Trụ]\n");
    kt_release(r);
    /* a missing file */
    kho_source_t missing = {.path = "/tmp/kho-reader-test-does-not-exist/x.csv"};
    assert_int_equal(kho_reader_open(&missing, &OPTS, &r, &err), KHO_ENOTFOUND);
    assert_msg_has(err, "x.csv");
}

/* ---- chunk boundaries ---------------------------------------------------------------- */

/* A record with doubled quotes, CRLF and LF inside quotes and multi-byte
 * characters, placed so that every one of its bytes in turn is the first byte
 * of the reader's second chunk. */
static const char SPECIAL[] = "1,\"q\"\"uo,te\r\nNghĩa Trụ\"\"ữ\nend\",ệ\r\n";

/* Header, short padding rows up to CHUNK - shift, SPECIAL, a last row without a
 * line end. *npad is the number of padding rows. */
static kho_buf_t *straddle_csv(size_t shift, size_t *npad)
{
    kho_buf_t *b = kt_buf();
    kho_buf_puts(b, "id,text,x\r\n");
    size_t target = CHUNK - shift;
    *npad = 0;
    while (b->len < target) {
        size_t left = target - b->len, k = left >= 112 ? 100 : left - 6; /* a row is k + 6 bytes */
        kho_buf_puts(b, "0,");
        kho_buf_reserve(b, k);
        memset(b->data + b->len, 'p', k);
        b->len += k;
        kho_buf_puts(b, ",p\r\n");
        (*npad)++;
    }
    assert_int_equal(b->len, target);
    kho_buf_puts(b, SPECIAL);
    kho_buf_puts(b, "9,last,ư");
    return b;
}

static void check_straddle(const kho_buf_t *in, size_t npad, size_t shift, bool from_file)
{
    kho_reader_opts_t o = OPTS;
    o.nfc = true;
    const char *dir = NULL;
    kho_reader_t *r = NULL;
    kho_err_t err = {0};
    if (from_file) {
        dir = kt_tmpdir("reader-test");
        kho_source_t src = {.path = kt_write_file(dir, "big.csv", in->data, in->len)};
        assert_int_equal(kho_reader_open(&src, &o, &r, &err), 0);
        kt_defer(free_reader, r);
    } else
        r = open_mem_opts(in->data, in->len, o);
    kho_record_t *rec;
    for (size_t i = 0; i < npad; i++) {
        int rc = kho_reader_next(r, &rec, &err);
        if (rc != 1)
            fail_msg("shift %zu: padding row %zu: %d %s", shift, i, rc, err.msg);
        assert_int_equal(rec->line, i + 2);
        assert_int_equal(rec->n, 3);
    }
    int xrc;
    char *rest = drain(r, &xrc, &err);
    if (xrc != 0)
        fail_msg("shift %zu (%s): %s", shift, from_file ? "file" : "memory", err.msg);
    char want[256];
    snprintf(want, sizeof want, "L%zu#%zu: [1] [q\"uo,te\\r\\nNghĩa Trụ\"ữ\\nend] [ệ]\nL%zu#%zu: [9] [last] [ư]\n",
             npad + 2, npad + 1, npad + 5, npad + 2);
    if (strcmp(rest, want) != 0)
        fail_msg("shift %zu (%s):\n--- got:\n%s--- want:\n%s", shift, from_file ? "file" : "memory", rest, want);
    char hex[65];
    kt_sha256_hex(in->data, in->len, hex);
    assert_string_equal(kho_reader_sha256(r), hex);
    assert_int_equal(kho_reader_bytes(r), in->len);
    kt_release(rest);
    kt_release(r);
    if (from_file)
        kt_release((void *)dir);
}

static void test_csv_chunk_boundaries(void **state)
{
    (void)state;
    for (size_t shift = 0; shift <= sizeof SPECIAL; shift++) {
        size_t npad;
        kho_buf_t *b = straddle_csv(shift, &npad);
        check_straddle(b, npad, shift, false);
        if (shift % 4 == 0 || shift < 4 || shift + 4 > sizeof SPECIAL)
            check_straddle(b, npad, shift, true);
        kt_release(b);
    }
}

/* Errors after the first chunk still name the right line and column. */
static void test_csv_errors_after_first_chunk(void **state)
{
    (void)state;
    kho_buf_t *b = kt_buf();
    kho_buf_puts(b, "n,ten\n");
    size_t lines = 1;
    while (b->len < 3 * CHUNK) {
        kho_buf_printf(b, "%zu,\"Xã Nghĩa Trụ \"\"không\"\"\"\n", lines);
        lines++;
    }
    size_t good = b->len;
    kho_buf_puts(b, "x,Đà Nẵ\xff\n");
    kho_err_t err;
    assert_int_equal(first_error(b->data, b->len, OPTS, &err), KHO_EINVAL);
    char where[64];
    snprintf(where, sizeof where, "line %zu, column 8", lines + 1);
    assert_msg_has(err, where);
    /* an unterminated quote far into the file */
    b->len = good;
    kho_buf_puts(b, "x,\"open\n1,2\n");
    assert_int_equal(first_error(b->data, b->len, OPTS, &err), KHO_EINVAL);
    snprintf(where, sizeof where, "starting at line %zu", lines + 1);
    assert_msg_has(err, where);
    /* a bad quote */
    b->len = good;
    kho_buf_puts(b, "x,a\"b\n");
    assert_int_equal(first_error(b->data, b->len, OPTS, &err), KHO_EINVAL);
    snprintf(where, sizeof where, "line %zu", lines + 1);
    assert_msg_has(err, where);
    /* and the clean file reads every record */
    b->len = good;
    kho_reader_t *r = open_mem_opts(b->data, b->len, OPTS);
    kho_record_t *rec;
    uint64_t n = 0, last_line = 0;
    while (kho_reader_next(r, &rec, &err) == 1) {
        n++;
        last_line = rec->line;
        assert_int_equal(rec->n, 2);
        assert_string_equal(rec->cells[1].s, "Xã Nghĩa Trụ \"không\"");
    }
    assert_int_equal(n, lines - 1);
    assert_int_equal(last_line, lines);
    kt_release(r);
    kt_release(b);
}

/* ---- JSON ---------------------------------------------------------------------------- */

static kho_reader_t *open_json(const char *s, kho_format_t f)
{
    kho_reader_opts_t o = OPTS;
    o.format = f;
    return open_mem_opts(s, strlen(s), o);
}

static void test_json_array(void **state)
{
    (void)state;
    kho_reader_t *r = open_json("[{\"a\":1,\"b\":\"x\"},\n"
                                " {\"b\":\"y\",\"c\":true,\"a\":2.5},\n"
                                " {\"d\":null,\"e\":{\"k\":[1, 2]},\"f\":[1,{\"z\":\"w\"}],\"c\":false}\n"
                                "]\n",
                                KHO_FMT_AUTO);
    assert_int_equal(kho_reader_format(r), KHO_FMT_JSON);
    assert_int_equal(kho_reader_delimiter(r), 0);
    assert_int_equal(kho_reader_ncols(r), 0); /* nothing read yet */
    expect_records(r, "L1#1: n:1 [x]\n"
                      "L2#2: n:2.5 [y] true\n"
                      "L3#3: - - false null j:{\"k\":[1,2]} j:[1,{\"z\":\"w\"}]\n");
    LABELS(r, "a", "b", "c", "d", "e", "f"); /* keys in first-seen order */
    char want[65];
    const char *in = "[{\"a\":1,\"b\":\"x\"},\n"
                     " {\"b\":\"y\",\"c\":true,\"a\":2.5},\n"
                     " {\"d\":null,\"e\":{\"k\":[1, 2]},\"f\":[1,{\"z\":\"w\"}],\"c\":false}\n"
                     "]\n";
    kt_sha256_hex(in, strlen(in), want);
    assert_string_equal(kho_reader_sha256(r), want);
    kt_release(r);
}

static void test_json_strings_and_numbers(void **state)
{
    (void)state;
    kho_reader_t *r = open_json("[{\"s\":\"a\\\"b\\\\c\\nd\\u00e1\\u1ec7\\ud83d\\ude00 \\/\",\"t\":\"{[\\\"]}\","
                                "\"n1\":-0,\"n2\":1.0,\"n3\":1e2,\"n4\":0.1,\"n5\":1.5e300,\"n6\":-7,"
                                "\"n7\":9223372036854775807,\"n8\":8854.13}]",
                                KHO_FMT_JSON);
    expect_records(r, "L1#1: [a\"b\\c\\ndáệ😀 /] [{[\"]}] n:0 n:1 n:100 n:0.1 n:1.5e+300 n:-7 "
                      "n:9223372036854775807 n:8854.13\n");
    kt_release(r);
    /* decomposed text and keys: keys (labels) always NFC, cells when asked */
    r = open_json("[{\"a\\u0301\":\"e\\u0302\"}]", KHO_FMT_JSON);
    expect_records(r, "L1#1: [e\xcc\x82]\n");
    LABELS(r, "á");
    kt_release(r);
    kho_reader_opts_t o = OPTS;
    o.nfc = true;
    const char *in = "[{\"a\\u0301\":\"e\\u0302\"},{\"\xc3\xa1\":\"x\"}]";
    r = open_mem_opts(in, strlen(in), o);
    expect_records(r, "L1#1: [ê]\nL1#2: [x]\n"); /* the NFC key is the same column */
    LABELS(r, "á");
    kt_release(r);
}

/* A JSON number is a number whatever its size; integers beyond 64 bits included. */
static void test_json_big_integer(void **state)
{
    (void)state;
    kho_reader_t *r = open_json("[{\"a\":12345678901234567890}]", KHO_FMT_JSON);
    kho_record_t *rec;
    kho_err_t err = {0};
    int rc = kho_reader_next(r, &rec, &err);
    if (rc != 1)
        fail_msg("a valid JSON number was refused: %s", err.msg);
    assert_int_equal(rec->cells[0].kind, KHO_CELL_NUMBER);
    assert_true(strtod(rec->cells[0].s, NULL) == 12345678901234567890.0);
    kt_release(r);
}

static void test_json_empty_array(void **state)
{
    (void)state;
    kho_reader_t *r = open_json("[]", KHO_FMT_AUTO);
    assert_int_equal(kho_reader_format(r), KHO_FMT_JSON);
    expect_records(r, "");
    assert_int_equal(kho_reader_ncols(r), 0);
    kt_release(r);
    r = open_json(" \r\n\t[ \n ] \n", KHO_FMT_AUTO);
    assert_int_equal(kho_reader_format(r), KHO_FMT_JSON);
    expect_records(r, "");
    kt_release(r);
    r = open_json("[{}]", KHO_FMT_AUTO);
    expect_records(r, "L1#1:\n");
    kt_release(r);
}

static int json_error(const char *in, kho_format_t f, kho_err_t *err)
{
    kho_reader_opts_t o = OPTS;
    o.format = f;
    return first_error(in, strlen(in), o, err);
}

static void test_json_not_an_array(void **state)
{
    (void)state;
    kho_err_t err;
    assert_int_equal(json_error("{\"a\":1}", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "bad_json");
    assert_msg_has(err, "line 1, column 1");
    assert_msg_has(err, "'['");
    assert_int_equal(json_error("\n  \"x\"", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_msg_has(err, "line 2, column 3");
    assert_int_equal(json_error("   ", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "empty_file");
}

static void test_json_array_of_non_objects(void **state)
{
    (void)state;
    kho_err_t err;
    assert_int_equal(json_error("[1,2]", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "not_an_object");
    assert_msg_has(err, "record 1");
    assert_msg_has(err, "line 1, column 2");
    assert_int_equal(json_error("[{\"a\":1},\n \"x\"]", KHO_FMT_AUTO, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "not_an_object");
    assert_msg_has(err, "record 2");
    assert_msg_has(err, "line 2, column 2");
    assert_int_equal(json_error("[[{\"a\":1}]]", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "not_an_object");
    assert_int_equal(json_error("[null]", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "not_an_object");
}

static void test_json_structure_damage(void **state)
{
    (void)state;
    kho_err_t err;
    /* trailing garbage */
    assert_int_equal(json_error("[{\"a\":1}] x", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "bad_json");
    assert_msg_has(err, "line 1, column 11");
    assert_msg_has(err, "after the end");
    assert_int_equal(json_error("[{\"a\":1}]\n[]", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_msg_has(err, "line 2, column 1");
    /* unclosed */
    assert_int_equal(json_error("[{\"a\":1}", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "bad_json");
    assert_msg_has(err, "not closed");
    assert_int_equal(json_error("[{\"a\":1},\n", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_msg_has(err, "not closed");
    assert_int_equal(json_error("[\n{\"a\":\"}", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_msg_has(err, "not closed");
    assert_msg_has(err, "inside a record");
    assert_int_equal(json_error("[", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_msg_has(err, "not closed");
    /* missing commas, trailing commas */
    assert_int_equal(json_error("[{\"a\":1} {\"a\":2}]", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_msg_has(err, "line 1, column 10");
    assert_int_equal(json_error("[{\"a\":1},]", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_int_equal(json_error("[,{\"a\":1}]", KHO_FMT_JSON, &err), KHO_EINVAL);
}

static void test_json_bad_element(void **state)
{
    (void)state;
    kho_err_t err;
    /* the error names the record, its line and a column on that line */
    assert_int_equal(json_error("[\n{\"a\":1},\n{\"a\": tru}\n]", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "bad_json");
    assert_msg_has(err, "record 2");
    assert_msg_has(err, "line 3, column 9");
    /* on the same line as the array: the column counts from the line start */
    assert_int_equal(json_error("[{\"a\":1}, {\"a\": tru}]", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_msg_has(err, "record 2");
    assert_msg_has(err, "line 1, column 19");
    /* an element spanning lines: the line inside the element */
    assert_int_equal(json_error("[{\"a\":1},\n{\n\"a\":\n\"x\" \"y\"}]", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_msg_has(err, "record 2");
    assert_msg_has(err, "line 4");
    /* a NUL escape is refused */
    assert_int_equal(json_error("[{\"a\":\"x\\u0000y\"}]", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_msg_has(err, "record 1");
    /* a key that is not a string */
    assert_int_equal(json_error("[{a:1}]", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_msg_has(err, "record 1 (line 1");
}

static void test_json_duplicate_keys(void **state)
{
    (void)state;
    kho_err_t err;
    assert_int_equal(json_error("[{\"a\":1,\"b\":2},{\"a\":1,\"a\":2}]", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "bad_json");
    assert_msg_has(err, "record 2");
    assert_msg_has(err, "duplicate");
    assert_int_equal(json_error("{\"x\":1,\"x\":1}\n", KHO_FMT_AUTO, &err), KHO_EINVAL);
    assert_msg_has(err, "duplicate");
}

static void test_json_invalid_utf8(void **state)
{
    (void)state;
    kho_err_t err;
    assert_int_equal(json_error("[{\"a\":\"\xff\"}]", KHO_FMT_JSON, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "invalid_utf8");
    assert_msg_has(err, "line 1, column 8");
    assert_int_equal(json_error("{\"a\":\"ok\"}\n{\"a\":\"\xc3\"}\n", KHO_FMT_AUTO, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "invalid_utf8");
    assert_msg_has(err, "line 2, column 7"); /* the character the bad byte breaks */
}

static void test_json_record_too_large(void **state)
{
    (void)state;
    kho_reader_opts_t o = OPTS;
    o.max_field = 100;
    kho_buf_t *b = kt_buf();
    kho_buf_puts(b, "[{\"a\":1},\n{\"a\":\"");
    for (int i = 0; i < 200; i++)
        kho_buf_putc(b, 'x');
    kho_buf_puts(b, "\"}]");
    kho_err_t err;
    assert_int_equal(first_error(b->data, b->len, o, &err), KHO_ETOOLARGE);
    assert_string_equal(err.kind, "field_too_large");
    assert_msg_has(err, "record 2 (line 2)");
    kt_release(b);
}

static void test_ndjson_line_too_large(void **state)
{
    (void)state;
    kho_reader_opts_t o = OPTS;
    o.max_field = 100;
    kho_buf_t *b = kt_buf();
    kho_err_t err;
    kho_buf_puts(b, "{\"a\":1}\n{\"a\":\"");
    for (int i = 0; i < 200; i++)
        kho_buf_putc(b, 'x');
    kho_buf_puts(b, "\"}\n");
    assert_int_equal(first_error(b->data, b->len, o, &err), KHO_ETOOLARGE);
    assert_msg_has(err, "line 2");
    kt_release(b);
}

static void test_ndjson(void **state)
{
    (void)state;
    const char *in = "{\"a\":1,\"b\":\"x\"}\n"
                     "\n"
                     "   \n"
                     "{\"b\":\"y\"}\r\n"
                     "{\"c\":[true],\"a\":3}";
    kho_reader_t *r = open_json(in, KHO_FMT_AUTO);
    assert_int_equal(kho_reader_format(r), KHO_FMT_NDJSON);
    expect_records(r, "L1#1: n:1 [x]\n"
                      "L4#2: - [y]\n"
                      "L5#3: n:3 - j:[true]\n");
    LABELS(r, "a", "b", "c");
    char want[65];
    kt_sha256_hex(in, strlen(in), want);
    assert_string_equal(kho_reader_sha256(r), want);
    kt_release(r);
    /* explicit format, trailing blank lines */
    r = open_json("{\"a\":1}\n\n\n", KHO_FMT_NDJSON);
    expect_records(r, "L1#1: n:1\n");
    kt_release(r);
}

static void test_ndjson_damage(void **state)
{
    (void)state;
    kho_err_t err;
    assert_int_equal(json_error("{\"a\":1}\n[1]\n", KHO_FMT_AUTO, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "not_an_object");
    assert_msg_has(err, "record 2 (line 2)");
    assert_int_equal(json_error("{\"a\":1}\n\n{bad}\n", KHO_FMT_AUTO, &err), KHO_EINVAL);
    assert_string_equal(err.kind, "bad_json");
    assert_msg_has(err, "record 2 (line 3, column 4)"); /* where jansson stopped */
    assert_int_equal(json_error("{\"a\":1}\n{\"a\":2} {\"a\":3}\n", KHO_FMT_AUTO, &err), KHO_EINVAL);
    assert_msg_has(err, "line 2");
    assert_int_equal(json_error("{\"a\":1}\n\"text\"", KHO_FMT_NDJSON, &err), KHO_EINVAL);
    assert_msg_has(err, "record 2 (line 2");
}

static void test_format_detection(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        kho_format_t f;
    } cases[] = {
        {"[{\"a\":1}]", KHO_FMT_JSON},   {"\n\t [{\"a\":1}]", KHO_FMT_JSON}, {"\xEF\xBB\xBF[{\"a\":1}]", KHO_FMT_JSON},
        {"{\"a\":1}\n", KHO_FMT_NDJSON}, {"  {\"a\":1}", KHO_FMT_NDJSON},    {"a,b\n1,2\n", KHO_FMT_CSV},
        {"\"[\",b\n1,2\n", KHO_FMT_CSV}, {"x[,{\n1,2\n", KHO_FMT_CSV},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kho_reader_t *r = open_json(cases[i].in, KHO_FMT_AUTO);
        if (kho_reader_format(r) != cases[i].f)
            fail_msg("case %zu: format %d, expected %d", i, kho_reader_format(r), cases[i].f);
        int rc;
        kho_err_t err;
        char *got = drain(r, &rc, &err);
        if (rc != 0)
            fail_msg("case %zu: %s", i, err.msg);
        kt_release(got);
        kt_release(r);
    }
    /* an explicit format is not second-guessed */
    kho_reader_t *r = open_json("[a,b]\n1,2\n", KHO_FMT_CSV);
    assert_int_equal(kho_reader_format(r), KHO_FMT_CSV);
    LABELS(r, "[a", "b]");
    expect_records(r, "L2#1: [1] [2]\n");
    kt_release(r);
}

/* JSON elements that straddle a chunk boundary at every position: short padding
 * records up to CHUNK - shift, then one with strings holding braces, brackets,
 * escaped quotes and multi-byte characters. */
static void test_json_chunk_boundaries(void **state)
{
    (void)state;
    static const char special[] = "{\"s\":\"a\\\"}{[ \\\\\",\"u\":\"Nghĩa Trụ ữ\",\"n\":[1,{\"x\":\"]\"}],\"t\":true}";
    for (size_t shift = 0; shift <= sizeof special; shift++) {
        for (int nd = 0; nd < 2; nd++) {
            kho_buf_t *b = kt_buf();
            size_t row = nd ? 9 : 10, npad = 0; /* padding record: {"p":"<k bytes>"} + (",\n" or "\n") */
            kho_buf_puts(b, nd ? "" : "[\n");
            while (b->len < CHUNK - shift) {
                size_t left = CHUNK - shift - b->len, k = left >= 2000 + 2 * row ? 2000 : left - row;
                kho_buf_puts(b, "{\"p\":\"");
                kho_buf_reserve(b, k);
                memset(b->data + b->len, 'p', k);
                b->len += k;
                kho_buf_puts(b, nd ? "\"}\n" : "\"},\n");
                npad++;
            }
            assert_int_equal(b->len, CHUNK - shift);
            kho_buf_puts(b, special);
            kho_buf_puts(b, nd ? "\n{\"p\":\"end\"}" : ",\n{\"p\":\"end\"}]");
            kho_reader_t *r = open_mem_opts(b->data, b->len, OPTS);
            assert_int_equal(kho_reader_format(r), nd ? KHO_FMT_NDJSON : KHO_FMT_JSON);
            kho_record_t *rec;
            kho_err_t err;
            for (size_t i = 0; i < npad; i++) {
                int rc = kho_reader_next(r, &rec, &err);
                if (rc != 1)
                    fail_msg("shift %zu %s: padding record %zu: %s", shift, nd ? "ndjson" : "json", i, err.msg);
                assert_int_equal(rec->line, i + (nd ? 1 : 2));
            }
            int xrc;
            char *rest = drain(r, &xrc, &err);
            if (xrc != 0)
                fail_msg("shift %zu %s: %s", shift, nd ? "ndjson" : "json", err.msg);
            char want[256];
            size_t line = npad + (nd ? 1 : 2);
            snprintf(want, sizeof want,
                     "L%zu#%zu: - [a\"}{[ \\] [Nghĩa Trụ ữ] j:[1,{\"x\":\"]\"}] true\nL%zu#%zu: [end] - - - -\n", line,
                     npad + 1, line + 1, npad + 2);
            if (strcmp(rest, want) != 0)
                fail_msg("shift %zu %s:\n--- got:\n%s--- want:\n%s", shift, nd ? "ndjson" : "json", rest, want);
            char hex[65];
            kt_sha256_hex(b->data, b->len, hex);
            assert_string_equal(kho_reader_sha256(r), hex);
            kt_release(rest);
            kt_release(r);
            kt_release(b);
        }
    }
}

/* A JSON array read from a file, larger than a chunk, keys appearing late. */
static void test_json_large_file(void **state)
{
    (void)state;
    kho_buf_t *b = kt_buf();
    kho_buf_puts(b, "[\n");
    int n = 20000;
    for (int i = 1; i <= n; i++) {
        kho_buf_printf(b, "  {\"id\": %d, \"ten\": \"Xã số %d\"", i, i);
        if (i == n)
            kho_buf_puts(b, ", \"late\": \"cuối\"}\n");
        else
            kho_buf_puts(b, "},\n");
    }
    kho_buf_puts(b, "]\n");
    assert_true(b->len > 2 * CHUNK);
    const char *dir = kt_tmpdir("reader-test");
    kho_source_t src = {.path = kt_write_file(dir, "big.json", b->data, b->len)};
    kho_reader_t *r = NULL;
    kho_err_t err;
    assert_int_equal(kho_reader_open(&src, &OPTS, &r, &err), 0);
    kt_defer(free_reader, r);
    kho_record_t *rec;
    int count = 0, rc;
    while ((rc = kho_reader_next(r, &rec, &err)) == 1) {
        count++;
        assert_int_equal(rec->line, (uint64_t)count + 1);
        assert_int_equal(rec->index, (uint64_t)count);
        char want[32];
        snprintf(want, sizeof want, "%d", count);
        assert_string_equal(rec->cells[0].s, want);
        assert_int_equal(rec->cells[0].kind, KHO_CELL_NUMBER);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(count, n);
    LABELS(r, "id", "ten", "late");
    assert_int_equal(rec->n, 3);
    assert_string_equal(rec->cells[2].s, "cuối");
    char hex[65];
    kt_sha256_hex(b->data, b->len, hex);
    assert_string_equal(kho_reader_sha256(r), hex);
    kt_release(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_format_names, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_basic, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_quoted_fields, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_quoted_header, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_embedded_line_breaks, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_crlf, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_lone_cr, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_lone_cr_error_position, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_mixed_line_ends, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_bom, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_delimiter_detection, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_blank_lines_and_spaces, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_last_line_without_newline, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_ragged_records_pass_through, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_nfc, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_invalid_utf8, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_nul_byte, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_truncated_multibyte_at_eof, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_unterminated_quote, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_malformed_quotes, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_empty_inputs, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_header_only, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_field_too_large, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_field_at_the_limit, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_10mb_field, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_big_field_linear_time, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_sha256, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_from_file, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_chunk_boundaries, kt_cleanup),
        cmocka_unit_test_teardown(test_csv_errors_after_first_chunk, kt_cleanup),
        cmocka_unit_test_teardown(test_json_array, kt_cleanup),
        cmocka_unit_test_teardown(test_json_strings_and_numbers, kt_cleanup),
        cmocka_unit_test_teardown(test_json_big_integer, kt_cleanup),
        cmocka_unit_test_teardown(test_json_empty_array, kt_cleanup),
        cmocka_unit_test_teardown(test_json_not_an_array, kt_cleanup),
        cmocka_unit_test_teardown(test_json_array_of_non_objects, kt_cleanup),
        cmocka_unit_test_teardown(test_json_structure_damage, kt_cleanup),
        cmocka_unit_test_teardown(test_json_bad_element, kt_cleanup),
        cmocka_unit_test_teardown(test_json_duplicate_keys, kt_cleanup),
        cmocka_unit_test_teardown(test_json_invalid_utf8, kt_cleanup),
        cmocka_unit_test_teardown(test_json_record_too_large, kt_cleanup),
        cmocka_unit_test_teardown(test_ndjson_line_too_large, kt_cleanup),
        cmocka_unit_test_teardown(test_ndjson, kt_cleanup),
        cmocka_unit_test_teardown(test_ndjson_damage, kt_cleanup),
        cmocka_unit_test_teardown(test_format_detection, kt_cleanup),
        cmocka_unit_test_teardown(test_json_chunk_boundaries, kt_cleanup),
        cmocka_unit_test_teardown(test_json_large_file, kt_cleanup),
    };
    if (getenv("KHO_TEST_FILTER")) /* run a subset: KHO_TEST_FILTER='test_json*' */
        cmocka_set_test_filter(getenv("KHO_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
