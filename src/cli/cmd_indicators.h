/*
 * cmd_indicators — `kho indicators`: the indicator catalogue, its sources,
 * split weights and targets, and recomputing the values.
 *
 *   kho indicators [--json]                      list the catalogue with coverage
 *   kho indicators catalogue FILE                load a catalogue file (JSON), then rebuild
 *   kho indicators source DATASET MAPPING_JSON   declare a dataset a source, then rebuild
 *   kho indicators weights FILE                  split weights (old_code,new_code,weight[,basis]), then rebuild
 *   kho indicators targets FILE                  targets (indicator,unit_code,period,value[,direction][,note])
 *   kho indicators rebuild                       recompute every value from the sources
 *
 * Every write is one transaction: a file with a problem loads nothing.
 */
#ifndef KHO_CLI_CMD_INDICATORS_H
#define KHO_CLI_CMD_INDICATORS_H

#include "cli/cli.h"

int kho_cmd_indicators(kho_cmdctx_t *ctx, kho_err_t *err);

#endif
