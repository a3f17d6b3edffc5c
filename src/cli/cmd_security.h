/*
 * cmd_security — the security officer's and operator's commands: accounts,
 * API keys, key rotation, grants, classification, the audit log, backup and
 * restore. Each returns 0 or a kho error code with err filled.
 *
 * The command line runs with the data directory owner's full rights (it can
 * read the key files); what it changes or reads of restricted data is written
 * to the audit log as actor "cli:<unix user>".
 */
#ifndef KHO_CLI_CMD_SECURITY_H
#define KHO_CLI_CMD_SECURITY_H

#include <jansson.h>

#include "cli/cli.h"

int kho_cmd_user(kho_cmdctx_t *ctx, kho_err_t *err);
int kho_cmd_key(kho_cmdctx_t *ctx, kho_err_t *err);
int kho_cmd_keys(kho_cmdctx_t *ctx, kho_err_t *err);
int kho_cmd_grant(kho_cmdctx_t *ctx, kho_err_t *err);
int kho_cmd_classify(kho_cmdctx_t *ctx, kho_err_t *err);
int kho_cmd_audit(kho_cmdctx_t *ctx, kho_err_t *err);
int kho_cmd_backup(kho_cmdctx_t *ctx, kho_err_t *err);
int kho_cmd_restore(kho_cmdctx_t *ctx, kho_err_t *err);

/* Append an audit entry for the command line's user; details stolen (may be
 * NULL). Fails (and the command with it) when the entry cannot be written. */
int kho_cli_audit(kho_cmdctx_t *ctx, const char *action, const char *target, json_t *details,
                  kho_err_t *err) KHO_WUR;

#endif
