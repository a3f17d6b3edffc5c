/*
 * schema — kho's database schema as numbered migrations.
 *
 * The database records the number of the last migration applied (SQLite's
 * user_version). At start every newer migration runs, each in its own
 * transaction; a database newer than the binary is refused rather than guessed
 * at. Migrations are append-only: a released migration is never edited.
 * The tables are described in docs/data-model.md.
 */
#ifndef KHO_STORE_SCHEMA_H
#define KHO_STORE_SCHEMA_H

#include "core/err.h"
#include "store/store.h"

/* Apply pending migrations to a writable connection. */
int kho_schema_migrate(kho_store_t *s, kho_err_t *err) KHO_WUR;
/* The schema version of a database (0 for an empty one). */
int kho_schema_current(kho_store_t *s, int *version, kho_err_t *err) KHO_WUR;
/* The newest schema version this binary knows. */
int kho_schema_latest(void);

#endif
