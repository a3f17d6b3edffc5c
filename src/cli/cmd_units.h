/*
 * cmd_units — `kho units`: search the administrative units, show one unit with
 * its predecessors or successors, list the gaps of the source lists.
 *
 *   kho units [QUERY] [--province 33] [--type xã] [--level commune] [--era current|old|all] [--limit N] [--json]
 *   kho units show CODE [--era old] [--json]
 *   kho units gaps [--json]
 */
#ifndef KHO_CLI_CMD_UNITS_H
#define KHO_CLI_CMD_UNITS_H

#include "cli/cli.h"

int kho_cmd_units(kho_cmdctx_t *ctx, kho_err_t *err);

#endif
