/*
 * libFuzzer harness for the text the security layer reads from clients: tile
 * paths (C2SP tlog-tiles), scope lists, key expiries, column tags, rate specs,
 * session tokens, and the masking and identifier checks over any text. The
 * first byte picks the parser; the rest is its input.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/h_audit.h"
#include "core/text.h"
#include "security/auth.h"
#include "security/ids.h"
#include "security/mask.h"
#include "security/ratelimit.h"
#include "warehouse/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void tile_path(char *s)
{
    const char *seg[16];
    size_t n = 0;
    for (char *p = s; p && n < 16;) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        seg[n++] = p;
        p = slash ? slash + 1 : NULL;
    }
    int level;
    uint64_t index;
    unsigned width;
    if (kho_tile_path_parse(seg, n, &level, &index, &width)) {
        assert(level >= -1 && level <= 9);
        assert(width >= 1 && width <= 256);
        assert(index < 1000000000000000000ULL);
    }
}

static void masks(char *s, size_t n)
{
    kho_utf8_repair(s, n);
    for (int k = KHO_PII_GENERIC; k <= KHO_PII_ADDRESS; k++) {
        kho_buf_t out = KHO_BUF_INIT;
        kho_mask((kho_pii_t)k, s, n, &out);
        assert(out.len > 0);
        assert(kho_utf8_valid(out.data, out.len, NULL));
        if (k == KHO_PII_GENERIC)
            assert(out.len == 3 && memcmp(out.data, "***", 3) == 0);
        kho_buf_free(&out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    size_t n = size - 1;
    char *s = malloc(n + 1);
    memcpy(s, data + 1, n);
    s[n] = '\0';
    kho_err_t err = {0};
    unsigned scopes;
    int64_t when;
    kho_rate_t rate;
    switch (data[0] % 8) {
    case 0: tile_path(s); break;
    case 1:
        if (kho_scopes_parse(s, &scopes, &err) == 0)
            assert(scopes <= KHO_SCOPE_ALL);
        else
            assert(err.msg[0]);
        break;
    case 2:
        if (kho_expiry_parse(s, &when, &err) != 0)
            assert(err.msg[0]);
        break;
    case 3: masks(s, n); break;
    case 4:
        (void)kho_ids_cccd(s, n, 2026, NULL);
        (void)kho_ids_tax_code(s, n);
        (void)kho_ids_phone(s, n);
        if (n >= 9)
            (void)kho_ids_tax_check_digit(s);
        break;
    case 5:
        if (kho_rate_parse(s, &rate, &err) == 0)
            assert(rate.rate >= 0 && rate.burst >= 0);
        break;
    case 6: {
        kho_coldecl_t tags = {"c", s};
        kho_ingest_opts_t o = {.dataset = "fuzz", .coltags = &tags, .ncoltags = 1, .reject_threshold = -1};
        if (kho_ingest_check_opts(&o, &err) != 0)
            assert(err.msg[0]);
        break;
    }
    default: {
        static kho_sessions_t *sessions;
        if (!sessions)
            sessions = kho_sessions_new(30, 12);
        kho_principal_t p;
        assert(!kho_session_lookup(sessions, s, &p));
        assert(!kho_token_equal(s, "never-a-token") || strcmp(s, "never-a-token") == 0);
        break;
    }
    }
    free(s);
    return 0;
}
