/*
 * libFuzzer harness for api/http: path and query-string parsing of requests.
 * Builds an h2o request in memory; every decoded segment and parameter must be
 * valid UTF-8 without NUL bytes, and bad encodings must give an error message.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "api/http.h"
#include "core/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h2o_req_t req;
    memset(&req, 0, sizeof req);
    h2o_mem_init_pool(&req.pool);
    char *path = h2o_mem_alloc_pool(&req.pool, size + 2);
    path[0] = '/';
    memcpy(path + 1, data, size);
    req.path = h2o_iovec_init(path, size + 1);
    const char *q = memchr(path, '?', size + 1);
    req.query_at = q ? (size_t)(q - path) : SIZE_MAX;
    kho_reqctx_t rc;
    memset(&rc, 0, sizeof rc);
    rc.req = &req;
    kho_err_t err = {0};
    if (kho_http_parse(&rc, &err) == 0) {
        for (size_t i = 0; i < rc.nseg; i++)
            assert(kho_utf8_valid(rc.seg[i], strlen(rc.seg[i]), NULL));
        for (size_t i = 0; i < rc.nparams; i++) {
            assert(kho_utf8_valid(rc.params[i].key, strlen(rc.params[i].key), NULL));
            assert(kho_utf8_valid(rc.params[i].val, strlen(rc.params[i].val), NULL));
        }
        (void)kho_http_param(&rc, "q");
    } else
        assert(err.msg[0] != '\0');
    h2o_mem_clear_pool(&req.pool);
    return 0;
}
