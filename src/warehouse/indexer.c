/* indexer — indexes on current versions' columns (see indexer.h). */
#include "warehouse/indexer.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "security/mask.h"

#define MAX_PER_VERSION 32

int kho_index_pending(kho_store_t *w, int max, int *made, bool *more, kho_err_t *err)
{
    *made = 0;
    *more = false;
    /* every column of every current version, and whether its index exists */
    kho_stmt_t *st = NULL;
    int rc = kho_store_prepare(w,
                               "SELECT v.table_name, c.name, c.tags,"
                               " EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'index'"
                               "         AND m.name = 'ix_' || v.table_name || '_' || c.name)"
                               " FROM datasets d JOIN versions v ON v.dataset_id = d.id AND v.number = d.current_version"
                               " JOIN columns c ON c.version_id = v.id ORDER BY v.id, c.position",
                               &st, err);
    if (rc != 0)
        return rc;
    struct {
        char table[64], col[64];
    } todo[64];
    int n = 0, per = 0;
    char last[80] = "";
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        const char *table = kho_stmt_col_text(st, 0), *col = kho_stmt_col_text(st, 1), *tags = kho_stmt_col_text(st, 2);
        if (strcmp(table, last) != 0) {
            snprintf(last, sizeof last, "%s", table);
            per = 0;
        }
        if (++per > MAX_PER_VERSION || kho_tags_have(tags ? tags : "", "encrypted") || kho_stmt_col_int(st, 3))
            continue;
        if (n >= max || n >= 64) {
            *more = true;
            break;
        }
        snprintf(todo[n].table, sizeof todo[n].table, "%s", table);
        snprintf(todo[n].col, sizeof todo[n].col, "%s", col);
        n++;
    }
    kho_stmt_free(st);
    if (rc < 0)
        return rc;
    for (int i = 0; i < n; i++) {
        char ix[160], qix[340], qt[140], qc[140];
        (void)kho_fmt(ix, sizeof ix, "ix_%s_%s", todo[i].table, todo[i].col);
        kho_store_quote_ident(ix, qix, sizeof qix);
        kho_store_quote_ident(todo[i].table, qt, sizeof qt);
        kho_store_quote_ident(todo[i].col, qc, sizeof qc);
        kho_buf_t sql = KHO_BUF_INIT;
        kho_buf_printf(&sql, "CREATE INDEX IF NOT EXISTS %s ON %s(%s)", qix, qt, qc);
        rc = kho_store_begin(w, true, err);
        if (rc == 0)
            rc = kho_store_exec(w, sql.data, err);
        if (rc == 0)
            rc = kho_store_commit(w, err);
        else
            kho_store_rollback(w);
        kho_buf_free(&sql);
        if (rc != 0)
            return rc;
        (*made)++;
    }
    return 0;
}
