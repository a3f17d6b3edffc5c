/*
 * cmd_serve — `kho serve [--listen ADDR:PORT] [--threads N] [--workers N]`:
 * run the HTTP server on an initialised data directory until SIGINT/SIGTERM.
 */
#ifndef KHO_CLI_CMD_SERVE_H
#define KHO_CLI_CMD_SERVE_H

#include "cli/cli.h"

int kho_cmd_serve(kho_cmdctx_t *ctx, kho_err_t *err);

#endif
