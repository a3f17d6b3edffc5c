/*
 * libFuzzer harness for warehouse/infer: value classification and parsing of
 * untrusted cell text. Checks the properties the ingest relies on: a value
 * classified into a type can be read as that type (pass 1 and pass 2 agree).
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "warehouse/infer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    unsigned bits = kho_classify(s, size);
    bool is_int = false, b;
    int64_t iv;
    double dv;
    char out[48];
    if (bits & KHO_C_NUM_COMMA)
        assert(kho_parse_number(s, size, KHO_DEC_COMMA, &is_int, &iv, &dv) == 0);
    if (bits & KHO_C_INT_COMMA) {
        assert(kho_parse_number(s, size, KHO_DEC_COMMA, &is_int, &iv, &dv) == 0 && is_int);
    }
    if (bits & KHO_C_NUM_DOT)
        assert(kho_parse_number(s, size, KHO_DEC_DOT, &is_int, &iv, &dv) == 0);
    if (bits & KHO_C_INT_DOT)
        assert(kho_parse_number(s, size, KHO_DEC_DOT, &is_int, &iv, &dv) == 0 && is_int);
    if (bits & KHO_C_BOOL)
        assert(kho_parse_bool(s, size, &b) == 0);
    if (bits & KHO_C_DATE) {
        assert(kho_parse_date(s, size, out) == 0);
        assert(strlen(out) == 10);
    }
    if (bits & KHO_C_DATETIME)
        assert(kho_parse_datetime(s, size, out) == 0);
    (void)kho_classify_json_number(s, size);
    kho_nullmarks_t m;
    kho_nullmarks_init(&m, s[0] ? "-|..|N/A" : "");
    (void)kho_is_null(&m, s, size);
    kho_nullmarks_free(&m);
    return 0;
}
