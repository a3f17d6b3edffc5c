/*
 * datadir — the data directory: where kho keeps its database and settings.
 *
 *   DATA/kho.db      the SQLite database (with kho.db-wal and kho.db-shm)
 *   DATA/kho.conf    settings (see core/config.h), written commented-out at init
 *
 * Also finds the data kho ships with (administrative units, demo datasets) next
 * to the binary: KHO_SHARE if set, else <binary>/../../data (the build tree),
 * <binary>/../share/kho (an installed layout), then ./data.
 */
#ifndef KHO_WAREHOUSE_DATADIR_H
#define KHO_WAREHOUSE_DATADIR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

/* Create the directory (and a kho.conf template) if missing. */
int kho_datadir_create(const char *dir, kho_err_t *err) KHO_WUR;

/* Open the database of an initialised data directory. A writable connection
 * applies pending schema migrations; a read-only one requires the schema to be
 * current. KHO_ENOTFOUND when the directory was never initialised. */
int kho_datadir_open(const char *dir, const kho_config_t *cfg, bool readonly, kho_store_t **out,
                     kho_err_t *err) KHO_WUR;

/* Path of a shipped data folder such as "units" or "demo" into out.
 * KHO_ENOTFOUND when none of the candidate places has it. */
int kho_datadir_shipped(const char *sub, char *out, size_t outsz, kho_err_t *err) KHO_WUR;

#endif
