/*
 * libFuzzer harness for apps/trace/gs1: any bytes are a GTIN, a Digital Link
 * path and an EPC URI. Nothing crashes; whatever parses has well-formed fields,
 * and rebuilding it (URN, Digital Link) and parsing again gives the same values.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apps/trace/gs1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool digits_ok(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return kho_gs1_check_digit_ok(s, n);
}

/* Rebuild a GTIN + lot/serial as a Digital Link and as URNs; all must reparse equal. */
static void check_gtin_values(const char *gtin14, const char *lot, const char *serial, size_t cp)
{
    kho_buf_t b = KHO_BUF_INIT;
    kho_gs1_epc_t e;
    assert(digits_ok(gtin14, 14));
    assert(strlen(lot) <= KHO_GS1_VALUE_MAX && strlen(serial) <= KHO_GS1_VALUE_MAX);
    assert(kho_gs1_dl_build("https://kho.example/t/", gtin14, lot, serial, &b, NULL) == 0);
    assert(kho_gs1_parse_epc(b.data, &e, NULL) == 0);
    assert(e.digital_link && strcmp(e.gtin14, gtin14) == 0);
    assert(strcmp(e.lot, lot) == 0 && strcmp(e.serial, serial) == 0);
    if (cp == 0)
        cp = 7;
    if (*serial) {
        kho_buf_reset(&b);
        assert(kho_gs1_sgtin_uri(gtin14, serial, cp, &b, NULL) == 0);
        assert(kho_gs1_parse_epc(b.data, &e, NULL) == 0);
        assert(e.kind == KHO_GS1_SGTIN && e.company_prefix_len == cp);
        assert(strcmp(e.gtin14, gtin14) == 0 && strcmp(e.serial, serial) == 0);
    }
    if (*lot) {
        kho_buf_reset(&b);
        assert(kho_gs1_lgtin_uri(gtin14, lot, cp, &b, NULL) == 0);
        assert(kho_gs1_parse_epc(b.data, &e, NULL) == 0);
        assert(e.kind == KHO_GS1_LGTIN && e.company_prefix_len == cp);
        assert(strcmp(e.gtin14, gtin14) == 0 && strcmp(e.lot, lot) == 0);
    }
    kho_buf_free(&b);
}

static void check_sgln(const kho_gs1_epc_t *in)
{
    kho_buf_t b = KHO_BUF_INIT;
    kho_gs1_epc_t e;
    assert(digits_ok(in->gln13, 13));
    assert(kho_gs1_sgln_uri(in->gln13, in->extension, in->company_prefix_len, &b, NULL) == 0);
    assert(kho_gs1_parse_epc(b.data, &e, NULL) == 0);
    assert(e.kind == KHO_GS1_SGLN && e.company_prefix_len == in->company_prefix_len);
    assert(strcmp(e.gln13, in->gln13) == 0 && strcmp(e.extension, in->extension) == 0);
    kho_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    kho_err_t err;

    char g[15];
    if (kho_gtin_normalise(s, g, &err) == 0) {
        char again[15];
        assert(digits_ok(g, 14));
        assert(kho_gtin_normalise(g, again, &err) == 0 && strcmp(again, g) == 0);
    } else {
        assert(g[0] == '\0' && err.code == KHO_EINVAL && err.msg[0]);
    }

    kho_gs1_dl_t d;
    if (kho_gs1_dl_parse(s, &d, &err) == 0)
        check_gtin_values(d.gtin14, d.lot, d.serial, 0);
    else
        assert(d.gtin14[0] == '\0' && err.code == KHO_EINVAL);

    kho_gs1_epc_t e;
    if (kho_gs1_parse_epc(s, &e, &err) == 0) {
        assert(e.kind != KHO_GS1_NONE);
        if (e.kind == KHO_GS1_SGLN)
            check_sgln(&e);
        else
            check_gtin_values(e.gtin14, e.lot, e.serial, e.company_prefix_len);
    } else {
        assert(e.kind == KHO_GS1_NONE && err.code == KHO_EINVAL);
    }
    free(s);
    return 0;
}
