/*
 * libFuzzer harness for warehouse/reader: the streaming CSV / JSON / NDJSON parser
 * that sees every uploaded byte. The first input byte picks the format and the
 * delimiter; the rest is the document. Every record is read to the end or to an
 * error; nothing may crash, hang or leak, and an error always carries a message.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "warehouse/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char delims[] = {0, ',', ';', '\t'};
    kho_reader_opts_t o = {.format = (kho_format_t)(data[0] & 3),
                           .delimiter = delims[(data[0] >> 2) & 3],
                           .validate_utf8 = true,
                           .hash = (data[0] & 16) != 0,
                           .nfc = (data[0] & 32) != 0,
                           .max_field = 4096};
    kho_source_t src = {.mem = (const char *)data + 1, .len = size - 1, .name = "fuzz"};
    kho_reader_t *r = NULL;
    kho_err_t err = {0};
    if (kho_reader_open(&src, &o, &r, &err) != 0) {
        assert(err.msg[0] != '\0');
        return 0;
    }
    kho_record_t *rec;
    int rc;
    uint64_t last_line = 0;
    while ((rc = kho_reader_next(r, &rec, &err)) == 1) {
        assert(rec->line >= last_line);
        last_line = rec->line;
        for (size_t i = 0; i < rec->n; i++)
            assert(strlen(rec->cells[i].s) <= rec->cells[i].n || rec->cells[i].kind != KHO_CELL_TEXT);
        for (size_t i = 0; i < kho_reader_ncols(r); i++)
            (void)kho_reader_label(r, i);
    }
    if (rc < 0)
        assert(err.msg[0] != '\0');
    kho_reader_free(r);
    return 0;
}
