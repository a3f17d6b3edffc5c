/* cmd_assistant — the assistant from the command line (see cmd_assistant.h). */
#include "cli/cmd_assistant.h"

#include <stdio.h>
#include <string.h>

#include "apps/assistant/assistant.h"
#include "apps/assistant/lexicon.h"
#include "core/buf.h"
#include "core/jsonw.h"
#include "warehouse/datadir.h"

int kho_cmd_ask(kho_cmdctx_t *ctx, kho_err_t *err)
{
    const kho_args_t *a = ctx->args;
    if (a->npos != 1)
        return kho_err_set(err, KHO_EUSAGE, "ask takes one question (quote it)");
    kho_store_t *db = NULL;
    int rc = kho_datadir_open(ctx->datadir, ctx->cfg, true, &db, err);
    if (rc != 0)
        return rc;
    kho_principal_t op;
    kho_principal_public(&op); /* the operator at the console sees everything */
    op.role = KHO_ROLE_ADMIN;
    op.scopes = kho_role_scopes(KHO_ROLE_ADMIN);
    snprintf(op.user, sizeof op.user, "console");
    kho_ask_ctx_t c = {.db = db, .who = &op};
    json_t *out = NULL;
    rc = kho_ask(&c, a->pos[0], strlen(a->pos[0]), &out, err);
    if (rc == 0) {
        if (kho_args_flag(a, "json")) {
            kho_buf_t b = KHO_BUF_INIT;
            kho_json_dump(&b, out, 2);
            printf("%s\n", kho_buf_cstr(&b));
            kho_buf_free(&b);
        } else {
            printf("%s\n", json_string_value(json_object_get(out, "answer")));
            json_t *v;
            size_t i;
            json_array_foreach(json_object_get(out, "notes"), i, v) printf("  (%s)\n", json_string_value(v));
            json_array_foreach(json_object_get(out, "candidates"), i, v)
                printf("  - %s\n", json_string_value(json_object_get(v, "question")));
        }
        json_decref(out);
    }
    kho_ask_thread_done();
    kho_store_close(db);
    return rc;
}

int kho_cmd_assistant(kho_cmdctx_t *ctx, kho_err_t *err)
{
    const kho_args_t *a = ctx->args;
    if (a->npos != 2 || strcmp(a->pos[0], "synonyms"))
        return kho_err_set(err, KHO_EUSAGE, "usage: kho assistant synonyms FILE");
    kho_store_t *w = NULL;
    int rc = kho_datadir_open(ctx->datadir, ctx->cfg, false, &w, err);
    if (rc != 0)
        return rc;
    size_t n = 0;
    rc = kho_lexicon_load_synonyms(w, a->pos[1], &n, err);
    if (rc == 0)
        printf("kho: %zu extra words for the assistant loaded from %s\n", n, a->pos[1]);
    kho_store_close(w);
    return rc;
}
