/*
 * cmd_trace — `kho trace`: the traceability ledger from the command line
 * (apps/trace/, docs/trace.md).
 *
 *   kho trace verify                      check every stored event against the transparency log
 *                                         (exit 0 when intact, 7 when something was altered)
 *   kho trace capture FILE                capture an EPCIS 2.0 document (JSON)
 *   kho trace import KIND FILE            master data: farms, products, locations or partners
 *                                         (CSV, JSON list or NDJSON)
 *   kho trace qr --gtin G [--lot L] [--serial S] [--format png|svg] [--size N] --out FILE
 *   kho trace esg                         recompute the traceability indicators (apps/trace/esg.h)
 *
 * `kho init` calls kho_trace_setup(): it creates the log and its key and, with
 * --demo, loads the demo supply chains and writes the showcase lot's QR code.
 * The ESG indicators are a separate step (`kho trace esg`; `make run` does it
 * after init), so that `init --demo` keeps to the four demo datasets.
 */
#ifndef KHO_CLI_CMD_TRACE_H
#define KHO_CLI_CMD_TRACE_H

#include <stdbool.h>

#include "cli/cli.h"
#include "store/store.h"

int kho_cmd_trace(kho_cmdctx_t *ctx, kho_err_t *err);

/* For `kho init`: the ledger, and the demo when demo is true (w: the writing connection). */
int kho_trace_setup(kho_cmdctx_t *ctx, kho_store_t *w, bool demo, kho_err_t *err);

#endif
