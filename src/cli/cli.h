/*
 * cli — kho's command line: the command table, help, and exit codes.
 *
 *   kho COMMAND [ARGS] [--data DIR] [OPTIONS]
 *
 * The data directory is --data, else $KHO_DATA, else ./var. Exit codes (the only
 * place kho error codes become them is kho_cli_exit_code):
 *   0 success            4 invalid input (bad file, bad value, too large)
 *   1 failure (I/O ...)  5 refused by the quality checks (--strict, threshold)
 *   2 usage error        6 busy: another writer holds the database
 *   3 not found          7 conflict (database schema newer, file changed)
 */
#ifndef KHO_CLI_CLI_H
#define KHO_CLI_CLI_H

#include "cli/args.h"
#include "core/config.h"
#include "core/err.h"

#include "core/version.h"

/* What a command receives. */
typedef struct kho_cmdctx {
    const char *datadir;
    kho_config_t *cfg;
    const kho_args_t *args;
} kho_cmdctx_t;

/* Run kho with the process's arguments; returns the exit code. */
int kho_cli_main(int argc, char **argv);
/* Exit code for an error code. */
int kho_cli_exit_code(int code);

#endif
