/* cmd_serve — run the HTTP server (see cmd_serve.h). */
#include "cli/cmd_serve.h"

#include "api/server.h"

int kho_cmd_serve(kho_cmdctx_t *ctx, kho_err_t *err)
{
    if (ctx->args->npos)
        return kho_err_set(err, KHO_EUSAGE, "serve takes no arguments");
    const char *opts[] = {"listen", "threads", "workers", "tls-cert", "tls-key"};
    const char *keys[] = {"listen", "threads", "workers", "tls_cert", "tls_key"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        const char *v = kho_args_get(ctx->args, opts[i]);
        if (v && kho_config_set(ctx->cfg, keys[i], v, err) != 0) {
            kho_err_prefix(err, "--%s", opts[i]);
            return KHO_EUSAGE;
        }
    }
    return kho_server_run(ctx->datadir, ctx->cfg, err);
}
