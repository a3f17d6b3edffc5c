/*
 * libFuzzer harness for warehouse/ingest: the whole two-pass import into an
 * in-memory SQLite database. The input is an uploaded file (format detected).
 * An import either succeeds with loaded + rejected = read rows, or fails with
 * a message and leaves no new version behind.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/schema.h"
#include "store/store.h"
#include "warehouse/catalog.h"
#include "warehouse/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static kho_store_t *db;

static int64_t versions(void)
{
    int64_t n = 0;
    kho_err_t err;
    if (kho_store_query_int(db, "SELECT count(*) FROM versions", &n, &err) != 0)
        abort();
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kho_err_t err = {0};
    if (!db) {
        if (kho_store_open(":memory:", KHO_STORE_CREATE, NULL, &db, &err) != 0 || kho_schema_migrate(db, &err) != 0)
            abort();
    }
    int64_t before = versions();
    kho_coldecl_t decl = {"a", "integer"};
    kho_ingest_opts_t o = {.dataset = "fuzz",
                           .meta = KHO_DATASET_META_INIT,
                           .decls = size > 0 && data[0] == 'a' ? &decl : NULL,
                           .ndecls = size > 0 && data[0] == 'a' ? 1 : 0,
                           .reject_threshold = 0.5,
                           .max_field = 4096};
    kho_source_t src = {.mem = (const char *)data, .len = size, .name = "fuzz"};
    kho_ingest_result_t res;
    int rc = kho_ingest(db, &src, &o, &res, &err);
    if (rc == 0) {
        assert(res.rows_loaded + res.rows_rejected == res.rows_read);
        assert(versions() == before + 1);
    } else {
        assert(err.msg[0] != '\0');
        assert(versions() == before);
        assert(!kho_store_in_transaction(db));
    }
    kho_ingest_result_free(&res);
    if (versions() > 50) { /* keep memory bounded over long runs */
        kho_store_close(db);
        db = NULL;
    }
    return 0;
}
