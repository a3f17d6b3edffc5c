/*
 * cmd_data — the warehouse commands: init, import, datasets, show, export.
 * Each returns 0 or a kho error code with err filled (cli.c prints it and picks
 * the exit code).
 */
#ifndef KHO_CLI_CMD_DATA_H
#define KHO_CLI_CMD_DATA_H

#include "cli/cli.h"

int kho_cmd_init(kho_cmdctx_t *ctx, kho_err_t *err);
int kho_cmd_import(kho_cmdctx_t *ctx, kho_err_t *err);
int kho_cmd_datasets(kho_cmdctx_t *ctx, kho_err_t *err);
int kho_cmd_show(kho_cmdctx_t *ctx, kho_err_t *err);
int kho_cmd_export(kho_cmdctx_t *ctx, kho_err_t *err);

/* Print a JSON value (pretty) to stdout. */
void kho_cmd_print_json(const void *json);

#endif
