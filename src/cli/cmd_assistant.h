/*
 * cmd_assistant — `kho ask` and `kho assistant`: the virtual assistant from
 * the command line (apps/assistant/assistant.h, docs/assistant.md).
 *
 *   kho ask "QUESTION" [--json]        answer as the operator (who sees every indicator)
 *   kho assistant synonyms FILE        replace the steward's extra words (CSV term,kind,code)
 */
#ifndef KHO_CLI_CMD_ASSISTANT_H
#define KHO_CLI_CMD_ASSISTANT_H

#include "cli/cli.h"

int kho_cmd_ask(kho_cmdctx_t *ctx, kho_err_t *err);
int kho_cmd_assistant(kho_cmdctx_t *ctx, kho_err_t *err);

#endif
