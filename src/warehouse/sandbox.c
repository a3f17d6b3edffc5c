/*
 * sandbox — the read-only SQL sandbox (see sandbox.h for the design).
 *
 * A thread's sandbox_t holds its connection, the catalog as last read (with
 * the PRAGMA data_version it was read at), the views that exist on the
 * connection right now (sorted by name) and, while a query runs, the caller's
 * state the authorizer and kho_decrypt consult.
 *
 * States of a connection:
 *   TRUSTED  kho's own statements (catalog, views): the authorizer allows all
 *   CALLER   between setting a caller and kho_sandbox_run's end: the
 *            authorizer applies the rules, views match that caller
 * A failure while changing views closes the connection (the next query opens
 * a fresh one), so views never disagree with sb->views.
 */
#include "warehouse/sandbox.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strmap.h"
#include "core/text.h"
#include "security/access.h"
#include "security/mask.h"
#include "warehouse/rows.h"
#include "warehouse/infer.h"

#define FLUSH_AT (64 * 1024)
#define NAME_MAX_LEN 136
#define PROGRESS_OPS 1000

/* ---- the allow-list ---------------------------------------------------------------- */

/* Functions a caller may use, sorted (bsearch). Left out on purpose:
 * load_extension, fts3_tokenizer (pointers), sqlite_compileoption_get/used and
 * sqlite_source_id (build details), changes, total_changes, last_insert_rowid
 * (nothing to report on a read-only connection), sqlite_log (writes the log),
 * subtype (internal to JSON); printf and format (a %c with a huge precision
 * loops for seconds inside one call, where no time limit can stop it) and
 * json_patch (quadratic in the number of keys). instr, replace and the
 * two-argument trim, ltrim and rtrim are kho's own linear versions with
 * SQLite's semantics (SQLite 3.40's are quadratic: a 1 MB needle took 100 s). */
/* clang-format off */
static const char *const FUNCTIONS[] = {
    "->",          "->>",          "abs",          "acos",         "acosh",         "asin",
    "asinh",       "atan",         "atan2",        "atanh",        "avg",           "ceil",
    "ceiling",     "char",         "coalesce",     "cos",          "cosh",          "count",
    "cume_dist",   "current_date", "current_time", "current_timestamp", "date",     "datetime",
    "degrees",     "dense_rank",   "exp",          "first_value",  "floor",
    "glob",        "group_concat", "hex",          "ifnull",       "iif",           "instr",
    "json",        "json_array",   "json_array_length", "json_extract", "json_group_array",
    "json_group_object", "json_insert", "json_object", "json_quote",  "json_remove",
    "json_replace", "json_set",    "json_type",    "json_valid",   "julianday",     "lag",
    "last_value",  "lead",         "length",       "like",         "likelihood",    "likely",
    "ln",          "log",          "log10",        "log2",         "lower",         "ltrim",
    "max",         "min",          "mod",          "nth_value",    "ntile",         "nullif",
    "percent_rank", "pi",          "pow",          "power",        "quote",
    "radians",     "random",       "randomblob",   "rank",         "replace",       "round",
    "row_number",  "rtrim",        "sign",         "sin",          "sinh",          "soundex",
    "sqlite_version", "sqrt",      "strftime",     "substr",       "substring",     "sum",
    "tan",         "tanh",         "time",         "total",        "trim",          "trunc",
    "typeof",      "unicode",      "unixepoch",    "unlikely",     "upper",         "zeroblob",
};
/* clang-format on */
#define NFUNCTIONS (sizeof FUNCTIONS / sizeof FUNCTIONS[0])

const char *const *kho_sandbox_functions(size_t *n)
{
    *n = NFUNCTIONS;
    return FUNCTIONS;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool function_allowed(const char *name)
{
    char low[64];
    size_t n = strlen(name);
    if (n >= sizeof low)
        return false;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
    const char *key = low;
    return strcmp(low, "kho_decrypt") == 0 || bsearch(&key, FUNCTIONS, NFUNCTIONS, sizeof *FUNCTIONS, cmp_cstr) != NULL;
}

/* ---- administrative-unit tables ----------------------------------------------------- */

typedef struct unitdef {
    const char *name, *base, *cols, *where;
} unitdef_t;

static const unitdef_t UNITS[] = {
    {"units", "units", "era, level, code, name, short_name, type, province_code, district_code", NULL},
    {"units_province", "units", "code, name, short_name, type", "era = 'current' AND level = 'province'"},
    {"units_commune", "units", "code, name, short_name, type, province_code", "era = 'current' AND level = 'commune'"},
    {"units_old_province", "units", "code, name, short_name, type", "era = 'old' AND level = 'province'"},
    {"units_old_district", "units", "code, name, short_name, type, province_code",
     "era = 'old' AND level = 'district'"},
    {"units_old_commune", "units", "code, name, short_name, type, province_code, district_code",
     "era = 'old' AND level = 'commune'"},
    {"units_conversion", "unit_conversion",
     "new_code, new_name, new_province_code, old_code, old_name, old_district_code, old_district_name, "
     "old_province_code, relation, note",
     NULL},
    {"units_gaps", "unit_gaps", "kind, code, detail", NULL},
};
#define NUNITS (sizeof UNITS / sizeof UNITS[0])

/* ---- the catalog as the sandbox sees it --------------------------------------------- */

typedef struct col {
    char *name;
    kho_type_t type;
    bool personal, encrypted;
} col_t;

typedef struct ver {
    int64_t id, number, rows;
    size_t ds;
    char table[64];
    col_t *cols;
    size_t ncols;
    bool personal;
} ver_t;

typedef struct dataset {
    int64_t id, org_id, current;
    char *slug;
    char base[NAME_MAX_LEN - 24];
    kho_sharing_t sharing;
    kho_importance_t importance;
    size_t v0, nv;
} dataset_t;

typedef struct catalog {
    dataset_t *ds;
    size_t nds;
    ver_t *vers;
    size_t nvers;
    char **stored; /* names in the main schema, lower case, sorted */
    size_t nstored;
} catalog_t;

/* A sandbox table: a view on the connection, or one a caller would get. */
typedef struct entry {
    char name[NAME_MAX_LEN];
    char base[64];                  /* the stored table it reads */
    int unit;                       /* index in UNITS, or -1 for a dataset version */
    size_t ver;                     /* index in the catalog's versions (datasets) */
    bool current;                   /* the dataset's current version under its plain name */
    bool masked;                    /* personal columns are NULL in the view (and refused) */
    bool touched, touched_personal; /* read by the running query */
} entry_t;

typedef enum { DENY_NONE, DENY_HIDDEN, DENY_PERSONAL, DENY_OTHER } deny_t;

typedef struct sandbox {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *data_version;
    catalog_t cat;
    bool loaded;
    int64_t version_seen;
    entry_t *views; /* sorted by name: exactly the views on the connection */
    size_t nviews;
    /* the running query */
    bool trusted;
    kho_store_t *store;
    kho_keyring_t *keys;
    deny_t deny;
    char deny_name[NAME_MAX_LEN];
    char deny_col[NAME_MAX_LEN];
    char deny_msg[400];
    struct timespec step_start;
    int64_t spent_ns, limit_ns;
    bool stepping, timed_out;
    int fn_code;                   /* an error kho_decrypt raised (KHO_ETAMPER, KHO_EIO) */
    char (*defined)[NAME_MAX_LEN]; /* names the statement defines (WITH, WINDOW), lower case */
    size_t ndefined, capdefined;
    kho_buf_t plain; /* decrypted text (wiped after use) */
} sandbox_t;

static void catalog_free(catalog_t *c)
{
    for (size_t i = 0; i < c->nvers; i++) {
        for (size_t k = 0; k < c->vers[i].ncols; k++)
            free(c->vers[i].cols[k].name);
        free(c->vers[i].cols);
    }
    for (size_t i = 0; i < c->nds; i++)
        free(c->ds[i].slug);
    for (size_t i = 0; i < c->nstored; i++)
        free(c->stored[i]);
    free(c->stored);
    free(c->vers);
    free(c->ds);
    memset(c, 0, sizeof *c);
}

static int db_error(sqlite3 *db, int rc, kho_err_t *err, const char *what)
{
    int code = (rc & 0xFF) == SQLITE_BUSY || (rc & 0xFF) == SQLITE_LOCKED ? KHO_EBUSY : KHO_EIO;
    return kho_err_set(err, code, "SQL sandbox: %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* The dataset's sandbox name: its id with '-' as '_' ("ds_" first when it
 * would start with SQLite's reserved "sqlite_"). */
static void base_name(const char *slug, char *out, size_t size)
{
    const char *prefix = strncmp(slug, "sqlite", 6) == 0 && (slug[6] == '-' || slug[6] == '_') ? "ds_" : "";
    size_t k = (size_t)snprintf(out, size, "%s", prefix);
    for (const char *p = slug; *p && k + 1 < size; p++)
        out[k++] = *p == '-' ? '_' : *p;
    out[k < size ? k : size - 1] = '\0';
}

typedef struct vid {
    int64_t id;
    size_t idx;
} vid_t;

static int cmp_vid(const void *a, const void *b)
{
    const vid_t *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int load_datasets(sqlite3 *db, catalog_t *c, kho_err_t *err)
{
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(db,
                           "SELECT id, slug, sharing, importance, coalesce(org_id, 0), coalesce(current_version, 0)"
                           " FROM datasets ORDER BY id",
                           -1, &st, NULL);
    size_t cap = 0;
    while ((rc == SQLITE_OK || rc == SQLITE_ROW) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        c->ds = kho_xgrow(c->ds, &cap, c->nds + 1, sizeof *c->ds);
        dataset_t *d = &c->ds[c->nds++];
        memset(d, 0, sizeof *d);
        d->id = sqlite3_column_int64(st, 0);
        d->slug = kho_xstrdup((const char *)sqlite3_column_text(st, 1));
        d->sharing = kho_sharing_parse((const char *)sqlite3_column_text(st, 2));
        d->importance = kho_importance_parse((const char *)sqlite3_column_text(st, 3));
        d->org_id = sqlite3_column_int64(st, 4);
        d->current = sqlite3_column_int64(st, 5);
        base_name(d->slug, d->base, sizeof d->base);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_error(db, rc, err, "reading the datasets");
}

static int load_versions(sqlite3 *db, catalog_t *c, kho_err_t *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT id, dataset_id, number, table_name, row_count FROM versions"
                                " ORDER BY dataset_id, number",
                                -1, &st, NULL);
    size_t cap = 0, d = 0;
    while ((rc == SQLITE_OK || rc == SQLITE_ROW) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t dsid = sqlite3_column_int64(st, 1);
        while (d < c->nds && c->ds[d].id < dsid)
            d++;
        if (d == c->nds || c->ds[d].id != dsid)
            continue; /* a version without its dataset: not shown */
        c->vers = kho_xgrow(c->vers, &cap, c->nvers + 1, sizeof *c->vers);
        ver_t *v = &c->vers[c->nvers];
        memset(v, 0, sizeof *v);
        v->id = sqlite3_column_int64(st, 0);
        v->ds = d;
        v->number = sqlite3_column_int64(st, 2);
        snprintf(v->table, sizeof v->table, "%s", (const char *)sqlite3_column_text(st, 3));
        v->rows = sqlite3_column_int64(st, 4);
        if (c->ds[d].nv == 0)
            c->ds[d].v0 = c->nvers;
        c->ds[d].nv++;
        c->nvers++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_error(db, rc, err, "reading the versions");
}

static int load_columns(sqlite3 *db, catalog_t *c, kho_err_t *err)
{
    vid_t *ids = kho_xcalloc(c->nvers ? c->nvers : 1, sizeof *ids);
    for (size_t i = 0; i < c->nvers; i++)
        ids[i] = (vid_t){c->vers[i].id, i};
    qsort(ids, c->nvers, sizeof *ids, cmp_vid);
    size_t *caps = kho_xcalloc(c->nvers ? c->nvers : 1, sizeof *caps);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT version_id, name, type, tags FROM columns ORDER BY version_id, position",
                                -1, &st, NULL);
    while ((rc == SQLITE_OK || rc == SQLITE_ROW) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        vid_t key = {sqlite3_column_int64(st, 0), 0};
        vid_t *hit = bsearch(&key, ids, c->nvers, sizeof *ids, cmp_vid);
        if (!hit)
            continue;
        ver_t *v = &c->vers[hit->idx];
        v->cols = kho_xgrow(v->cols, &caps[hit->idx], v->ncols + 1, sizeof *v->cols);
        col_t *col = &v->cols[v->ncols++];
        const char *tags = (const char *)sqlite3_column_text(st, 3);
        int t = kho_type_parse((const char *)sqlite3_column_text(st, 2));
        col->name = kho_xstrdup((const char *)sqlite3_column_text(st, 1));
        col->type = t < 0 ? KHO_TYPE_TEXT : (kho_type_t)t;
        col->encrypted = kho_tags_have(tags ? tags : "", "encrypted");
        col->personal = kho_tags_personal(tags ? tags : "") || col->encrypted;
        v->personal = v->personal || col->personal;
    }
    sqlite3_finalize(st);
    free(caps);
    free(ids);
    return rc == SQLITE_DONE ? 0 : db_error(db, rc, err, "reading the columns");
}

static int load_stored_names(sqlite3 *db, catalog_t *c, kho_err_t *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT lower(name) FROM sqlite_schema ORDER BY 1", -1, &st, NULL);
    size_t cap = 0;
    while ((rc == SQLITE_OK || rc == SQLITE_ROW) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        c->stored = kho_xgrow(c->stored, &cap, c->nstored + 1, sizeof *c->stored);
        c->stored[c->nstored++] = kho_xstrdup((const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_error(db, rc, err, "reading the schema");
}

/* Re-read the catalog when another connection has committed since. */
static int refresh_catalog(sandbox_t *sb, kho_err_t *err)
{
    int rc = sqlite3_step(sb->data_version);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(sb->data_version, 0) : -1;
    sqlite3_reset(sb->data_version);
    if (rc != SQLITE_ROW)
        return db_error(sb->db, rc, err, "data_version");
    if (sb->loaded && v == sb->version_seen)
        return 0;
    catalog_t c = {0};
    rc = sqlite3_exec(sb->db, "BEGIN", NULL, NULL, NULL); /* one snapshot for the three reads */
    if (rc != SQLITE_OK)
        return db_error(sb->db, rc, err, "reading the catalog");
    rc = load_datasets(sb->db, &c, err);
    if (rc == 0)
        rc = load_versions(sb->db, &c, err);
    if (rc == 0)
        rc = load_columns(sb->db, &c, err);
    if (rc == 0)
        rc = load_stored_names(sb->db, &c, err);
    sqlite3_exec(sb->db, "COMMIT", NULL, NULL, NULL);
    if (rc != 0) {
        catalog_free(&c);
        return rc;
    }
    catalog_free(&sb->cat);
    sb->cat = c;
    sb->loaded = true;
    sb->version_seen = v;
    return 0;
}

/* ---- the tables of one caller ----------------------------------------------------- */

typedef struct tableset {
    entry_t *e;
    size_t n, cap;
    kho_strmap_t *names;
} tableset_t;

static entry_t *add_table(tableset_t *t, const char *name)
{
    size_t n = strlen(name), dummy;
    if (n == 0 || n >= NAME_MAX_LEN || kho_strmap_get(t->names, name, n, &dummy))
        return NULL; /* taken by an earlier table (see sandbox.h on collisions) */
    kho_strmap_put(t->names, name, n, t->n);
    t->e = kho_xgrow(t->e, &t->cap, t->n + 1, sizeof *t->e);
    entry_t *e = &t->e[t->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->unit = -1;
    return e;
}

static void add_version(tableset_t *t, const catalog_t *c, size_t vi, const char *name, bool current, bool masked)
{
    entry_t *e = add_table(t, name);
    if (!e)
        return;
    snprintf(e->base, sizeof e->base, "%s", c->vers[vi].table);
    e->ver = vi;
    e->current = current;
    e->masked = masked && c->vers[vi].personal;
}

/* The decision for who on dataset d (personal: the read concerns personal data). */
static kho_decision_t decide(const kho_principal_t *who, const kho_grants_t *g, const dataset_t *d, bool personal)
{
    kho_dsfacts_t f = {.id = d->id,
                       .sharing = d->sharing,
                       .importance = d->importance,
                       .org_id = d->org_id,
                       .grant = kho_grants_level(g, d->id),
                       .personal = personal};
    return kho_access_decide(who, &f, KHO_ACT_READ);
}

/* Every table who may read, in priority order (units, <name>_v<N>, <name>). */
static void caller_tables(const catalog_t *c, const kho_principal_t *who, const kho_grants_t *g, tableset_t *t)
{
    t->names = kho_strmap_new();
    for (size_t u = 0; u < NUNITS; u++) {
        entry_t *e = add_table(t, UNITS[u].name);
        e->unit = (int)u;
        snprintf(e->base, sizeof e->base, "%s", UNITS[u].base);
    }
    bool *masked = kho_xcalloc(c->nds ? c->nds : 1, sizeof *masked);
    bool *readable = kho_xcalloc(c->nds ? c->nds : 1, sizeof *readable);
    for (size_t d = 0; d < c->nds; d++) {
        kho_decision_t dd = decide(who, g, &c->ds[d], true);
        readable[d] = dd.code == 0;
        masked[d] = dd.mask;
        for (size_t k = 0; readable[d] && k < c->ds[d].nv; k++) {
            size_t vi = c->ds[d].v0 + k;
            char name[NAME_MAX_LEN];
            snprintf(name, sizeof name, "%s_v%lld", c->ds[d].base, (long long)c->vers[vi].number);
            add_version(t, c, vi, name, c->vers[vi].number == c->ds[d].current, masked[d]);
        }
    }
    for (size_t d = 0; d < c->nds; d++)
        for (size_t k = 0; readable[d] && k < c->ds[d].nv; k++) {
            size_t vi = c->ds[d].v0 + k;
            if (c->vers[vi].number == c->ds[d].current)
                add_version(t, c, vi, c->ds[d].base, true, masked[d]);
        }
    free(masked);
    free(readable);
    kho_strmap_free(t->names);
    t->names = NULL;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const entry_t *)a)->name, ((const entry_t *)b)->name);
}

static entry_t *find_view(sandbox_t *sb, const char *name)
{
    if (!name || !sb->nviews)
        return NULL;
    entry_t key;
    size_t n = strlen(name);
    if (n >= sizeof key.name)
        return NULL;
    memcpy(key.name, name, n + 1);
    return bsearch(&key, sb->views, sb->nviews, sizeof *sb->views, cmp_entry);
}

/* The same, ignoring ASCII case (names as a caller typed them). */
static entry_t *find_view_nocase(sandbox_t *sb, const char *name)
{
    char low[NAME_MAX_LEN];
    size_t n = name ? strlen(name) : 0;
    if (!name || n >= sizeof low)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
    return find_view(sb, low);
}

static const col_t *view_column(sandbox_t *sb, const entry_t *e, const char *name)
{
    if (e->unit >= 0 || !name)
        return NULL;
    const ver_t *v = &sb->cat.vers[e->ver];
    for (size_t i = 0; i < v->ncols; i++)
        if (sqlite3_stricmp(v->cols[i].name, name) == 0)
            return &v->cols[i];
    return NULL;
}

/* ---- views -------------------------------------------------------------------------- */

static void quote_literal(kho_buf_t *b, const char *s)
{
    kho_buf_putc(b, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            kho_buf_putc(b, '\'');
        kho_buf_putc(b, *p);
    }
    kho_buf_putc(b, '\'');
}

static void put_ident(kho_buf_t *b, const char *name)
{
    char q[2 * NAME_MAX_LEN + 8];
    kho_store_quote_ident(name, q, sizeof q);
    kho_buf_puts(b, q);
}

static void create_view_sql(const sandbox_t *sb, const entry_t *e, kho_buf_t *b)
{
    kho_buf_puts(b, "CREATE TEMP VIEW ");
    put_ident(b, e->name);
    kho_buf_puts(b, " AS SELECT ");
    if (e->unit >= 0) {
        const unitdef_t *u = &UNITS[e->unit];
        kho_buf_printf(b, "%s FROM main.%s", u->cols, u->base);
        if (u->where)
            kho_buf_printf(b, " WHERE %s", u->where);
        kho_buf_puts(b, ";\n");
        return;
    }
    const ver_t *v = &sb->cat.vers[e->ver];
    kho_buf_puts(b, "\"_row\"");
    for (size_t i = 0; i < v->ncols; i++) {
        const col_t *c = &v->cols[i];
        kho_buf_puts(b, ", ");
        if (e->masked && c->personal) {
            kho_buf_puts(b, "NULL AS ");
        } else if (c->encrypted) {
            char aad[160];
            snprintf(aad, sizeof aad, "%s.%s", v->table, c->name);
            kho_buf_puts(b, "kho_decrypt(");
            put_ident(b, c->name);
            kho_buf_puts(b, ", ");
            quote_literal(b, aad);
            kho_buf_puts(b, ", ");
            quote_literal(b, kho_type_name(c->type));
            kho_buf_puts(b, ") AS ");
        }
        put_ident(b, c->name);
    }
    kho_buf_puts(b, " FROM main.");
    put_ident(b, v->table);
    kho_buf_puts(b, ";\n");
}

static void drop_view_sql(const entry_t *e, kho_buf_t *b)
{
    kho_buf_puts(b, "DROP VIEW temp.");
    put_ident(b, e->name);
    kho_buf_puts(b, ";\n");
}

static void sandbox_reset(sandbox_t *sb);

/* Make the connection's views exactly `want` (sorted by name); takes ownership
 * of want. A failure closes the connection (the next query opens a new one). */
static int sync_views(sandbox_t *sb, entry_t *want, size_t nwant, kho_err_t *err)
{
    kho_buf_t sql = KHO_BUF_INIT;
    size_t i = 0, j = 0;
    while (i < sb->nviews || j < nwant) {
        int c = i == sb->nviews ? 1 : j == nwant ? -1 : strcmp(sb->views[i].name, want[j].name);
        if (c < 0) {
            drop_view_sql(&sb->views[i++], &sql);
        } else if (c > 0) {
            create_view_sql(sb, &want[j++], &sql);
        } else {
            if (strcmp(sb->views[i].base, want[j].base) != 0 || sb->views[i].masked != want[j].masked) {
                drop_view_sql(&sb->views[i], &sql);
                create_view_sql(sb, &want[j], &sql);
            }
            i++;
            j++;
        }
    }
    free(sb->views);
    sb->views = want;
    sb->nviews = nwant;
    if (!sql.len)
        return 0;
    sqlite3_limit(sb->db, SQLITE_LIMIT_SQL_LENGTH, 1000000000);
    kho_buf_t script = KHO_BUF_INIT;
    kho_buf_printf(&script, "PRAGMA query_only=0; BEGIN;\n%sCOMMIT; PRAGMA query_only=1;", sql.data);
    char *msg = NULL;
    int rc = sqlite3_exec(sb->db, script.data, NULL, NULL, &msg);
    kho_buf_free(&script);
    kho_buf_free(&sql);
    sqlite3_limit(sb->db, SQLITE_LIMIT_SQL_LENGTH, KHO_SANDBOX_MAX_SQL);
    if (rc == SQLITE_OK)
        return 0;
    rc = kho_err_set(err, KHO_EIO, "SQL sandbox: cannot prepare the tables: %s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    sandbox_reset(sb);
    return rc;
}

/* ---- the authorizer --------------------------------------------------------------- */

static int deny(sandbox_t *sb, deny_t kind, const char *name, const char *col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int deny(sandbox_t *sb, deny_t kind, const char *name, const char *col, const char *fmt, ...)
{
    if (sb->deny == DENY_NONE) { /* the first refusal is the one reported */
        sb->deny = kind;
        snprintf(sb->deny_name, sizeof sb->deny_name, "%s", name ? name : "");
        snprintf(sb->deny_col, sizeof sb->deny_col, "%s", col ? col : "");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(sb->deny_msg, sizeof sb->deny_msg, fmt, ap);
        va_end(ap);
    }
    return SQLITE_DENY;
}

static int deny_personal(sandbox_t *sb, const entry_t *e, const char *col)
{
    return deny(sb, DENY_PERSONAL, e->name, col,
                "column '%s' of table '%s' holds personal data, which this caller may not read (a table read "
                "with * includes it): name the columns you need (GET /api/v1/sql/tables marks the hidden ones), "
                "or ask the dataset's owners for a grant that includes personal data",
                col, e->name);
}

/* The caller's query names column col of view e (a read of the view itself,
 * not of the stored table under it: a view reads all its columns whatever the
 * caller uses). */
static void touch(sandbox_t *sb, entry_t *e, const char *col)
{
    e->touched = true;
    const col_t *c = view_column(sb, e, col);
    if (c && c->personal && !e->masked)
        e->touched_personal = true;
}

/* A column read: of a view (db "temp"), or of a stored table (db "main"),
 * which only a view built on it may do. */
static int auth_read(sandbox_t *sb, const char *table, const char *col, const char *db, const char *inner)
{
    if (!table)
        return deny(sb, DENY_OTHER, NULL, NULL, "this statement is not allowed in the SQL sandbox");
    bool temp = db && strcmp(db, "temp") == 0;
    if (temp) {
        entry_t *e = find_view(sb, table);
        if (!e)
            return deny(sb, DENY_HIDDEN, table, NULL, "no such table");
        const col_t *c = view_column(sb, e, col);
        if (c && c->personal && e->masked)
            return deny_personal(sb, e, c->name);
        touch(sb, e, col);
        return SQLITE_OK;
    }
    if (strcmp(table, "json_each") == 0 || strcmp(table, "json_tree") == 0)
        return SQLITE_OK;
    entry_t *v = find_view(sb, inner);
    if (v && strcmp(v->base, table) == 0) {
        const col_t *c = view_column(sb, v, col);
        if (c && c->personal && v->masked) /* never from kho's views: a CTE named like one */
            return deny_personal(sb, v, c->name);
        v->touched = true;
        return SQLITE_OK;
    }
    if (col && !col[0]) { /* a table read without a column (count(*), a join without columns) */
        for (size_t i = 0; i < sb->nviews; i++)
            if (strcmp(sb->views[i].base, table) == 0) { /* any view on it will do */
                sb->views[i].touched = true;
                return SQLITE_OK;
            }
        for (size_t i = 0; i < sb->ndefined; i++) /* a WITH name: never a stored table's (see check_defined) */
            if (sqlite3_stricmp(sb->defined[i], table) == 0)
                return SQLITE_OK;
    }
    return deny(sb, DENY_HIDDEN, table, NULL, "no such table");
}

static int auth_pragma(sandbox_t *sb, const char *name, const char *arg, const char *db)
{
    bool info = name && (strcasecmp(name, "table_info") == 0 || strcasecmp(name, "table_xinfo") == 0);
    if (info && arg && (!db || strcasecmp(db, "temp") == 0) && find_view_nocase(sb, arg))
        return SQLITE_OK;
    return deny(sb, DENY_OTHER, NULL, NULL,
                "PRAGMA %.60s is not allowed in the SQL sandbox (only PRAGMA table_info(TABLE) and "
                "table_xinfo(TABLE) on its tables)",
                name ? name : "");
}

static int authorize(void *p, int action, const char *a1, const char *a2, const char *db, const char *inner)
{
    sandbox_t *sb = p;
    if (sb->trusted)
        return SQLITE_OK;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE: return SQLITE_OK;
    case SQLITE_READ: return auth_read(sb, a1, a2, db, inner);
    case SQLITE_FUNCTION:
        if (a2 && function_allowed(a2))
            return SQLITE_OK;
        return deny(sb, DENY_OTHER, NULL, NULL,
                    "function %.60s() is not allowed in the SQL sandbox (docs/api.md lists the functions it allows)",
                    a2 ? a2 : "");
    case SQLITE_PRAGMA: return auth_pragma(sb, a1, a2, db);
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
        return deny(sb, DENY_OTHER, NULL, NULL, "ATTACH, DETACH and VACUUM INTO are not allowed in the SQL sandbox");
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
        return deny(sb, DENY_OTHER, NULL, NULL,
                    "transactions and savepoints are not allowed in the SQL sandbox: send one SELECT");
    case SQLITE_UPDATE:
        if (a1 && strcmp(a1, "sqlite_master") == 0) /* first use of an eponymous virtual table (pragma_...) */
            return deny(sb, DENY_OTHER, NULL, NULL,
                        "this table is not available in the SQL sandbox (GET /api/v1/sql/tables lists the tables "
                        "you can query)");
        /* fall through */
    case SQLITE_INSERT:
    case SQLITE_DELETE:
        if (a1 && (strcmp(a1, "sqlite_master") == 0 || strcmp(a1, "sqlite_temp_master") == 0))
            return deny(sb, DENY_OTHER, NULL, NULL,
                        "the SQL sandbox is read-only: it cannot create or drop tables, views, triggers or indexes "
                        "(temporary ones included); use WITH name AS (SELECT ...) for a named subquery");
        return deny(sb, DENY_OTHER, NULL, NULL,
                    "the SQL sandbox is read-only: only SELECT statements run (no INSERT, UPDATE or DELETE)");
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_VTABLE:
        return deny(sb, DENY_OTHER, NULL, NULL,
                    "the SQL sandbox is read-only: it cannot create or drop tables, views, triggers or indexes "
                    "(temporary ones included); use WITH name AS (SELECT ...) for a named subquery");
    default:
        return deny(sb, DENY_OTHER, NULL, NULL,
                    "the SQL sandbox is read-only: only SELECT statements run (no INSERT, UPDATE, DELETE, DROP, "
                    "ALTER, ANALYZE, REINDEX or VACUUM)");
    }
}

/* ---- kho_decrypt(value, 'table.column', type) --------------------------------------- */

/* May the running caller see the plain values of aad's column? Only through
 * one of its views that shows that column unmasked. */
static const col_t *decryptable(sandbox_t *sb, const char *aad)
{
    const char *dot = aad ? strchr(aad, '.') : NULL;
    if (!dot || sb->trusted)
        return NULL;
    size_t tl = (size_t)(dot - aad);
    for (size_t i = 0; i < sb->nviews; i++) {
        entry_t *e = &sb->views[i];
        if (e->unit >= 0 || e->masked || strlen(e->base) != tl || memcmp(e->base, aad, tl) != 0)
            continue;
        const col_t *c = view_column(sb, e, dot + 1);
        return c && c->encrypted ? c : NULL;
    }
    return NULL;
}

static void result_typed(sqlite3_context *cx, const char *s, size_t n, const char *type)
{
    char num[48];
    if (n < sizeof num && (strcmp(type, "integer") == 0 || strcmp(type, "real") == 0 || strcmp(type, "boolean") == 0)) {
        memcpy(num, s, n);
        num[n] = '\0';
        char *end;
        if (strcmp(type, "boolean") == 0 && (strcmp(num, "true") == 0 || strcmp(num, "false") == 0)) {
            sqlite3_result_int(cx, num[0] == 't');
            return;
        }
        if (strcmp(type, "integer") == 0) {
            long long x = strtoll(num, &end, 10);
            if (end != num && !*end) {
                sqlite3_result_int64(cx, x);
                return;
            }
        } else if (strcmp(type, "real") == 0) {
            double x = strtod(num, &end);
            if (end != num && !*end) {
                sqlite3_result_double(cx, x);
                return;
            }
        }
    }
    sqlite3_result_text(cx, s, (int)n, SQLITE_TRANSIENT);
}

static void fn_decrypt(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    sandbox_t *sb = sqlite3_user_data(cx);
    (void)argc;
    const char *aad = (const char *)sqlite3_value_text(argv[1]);
    const char *type = (const char *)sqlite3_value_text(argv[2]);
    const col_t *c = decryptable(sb, aad);
    if (!c || !type) {
        sqlite3_result_error(cx, "kho_decrypt() decrypts only columns of this caller's tables", -1);
        return;
    }
    if (sqlite3_value_type(argv[0]) != SQLITE_BLOB) { /* NULL, or a value stored in clear */
        sqlite3_result_value(cx, argv[0]);
        return;
    }
    const void *blob = sqlite3_value_blob(argv[0]);
    size_t n = (size_t)sqlite3_value_bytes(argv[0]);
    char msg[300];
    if (!sb->keys) {
        sb->fn_code = KHO_EIO;
        snprintf(msg, sizeof msg, "column %s is encrypted and the server's key ring is not loaded", c->name);
        sqlite3_result_error(cx, msg, -1);
        return;
    }
    kho_err_t err;
    kho_buf_reset(&sb->plain);
    if (!kho_keyring_is_blob(blob, n) ||
        kho_keyring_decrypt(sb->keys, sb->store, aad, blob, n, &sb->plain, &err) != 0) {
        sb->fn_code = KHO_ETAMPER;
        snprintf(msg, sizeof msg,
                 "an encrypted value of column %s failed its integrity check (altered, moved, or its data key is "
                 "missing)",
                 c->name);
        sqlite3_result_error(cx, msg, -1);
        return;
    }
    result_typed(cx, sb->plain.data ? sb->plain.data : "", sb->plain.len, type);
    if (sb->plain.data)
        sodium_memzero(sb->plain.data, sb->plain.cap);
}

/* ---- linear instr, replace, trim ------------------------------------------------------- */

/* Substring search in expected linear time whatever the input: Rabin-Karp
 * modulo the prime 2^61 - 1 with a base drawn at random once per process (a
 * client cannot aim collisions at it), each candidate checked with memcmp.
 * (glibc's memmem is linear too, but sanitizer builds replace it with a
 * quadratic one, and kho's bound must not depend on the C library.) */
#define RK_PRIME ((uint64_t)0x1FFFFFFFFFFFFFFFULL)

static uint64_t rk_base;

static void rk_init(void)
{
    if (sodium_init() < 0)
        abort();
    rk_base = 256 + randombytes_uniform(1u << 30);
}

static uint64_t rk_mul(uint64_t a, uint64_t b)
{
    unsigned __int128 p = (unsigned __int128)a * b;
    uint64_t r = (uint64_t)(p & RK_PRIME) + (uint64_t)(p >> 61);
    return r >= RK_PRIME ? r - RK_PRIME : r;
}

static uint64_t rk_add(uint64_t a, uint64_t b)
{
    uint64_t r = a + b;
    return r >= RK_PRIME ? r - RK_PRIME : r;
}

/* May a match start at h[i]? In text, only where a character starts. */
static bool rk_start(const char *h, size_t i, bool text)
{
    return !text || i == 0 || ((unsigned char)h[i] & 0xC0) != 0x80;
}

/* The first nd in h at a permitted start (see rk_start), or NULL. */
static const char *find_bytes(const char *h, size_t nh, const char *nd, size_t nn, bool text)
{
    if (nn == 0)
        return h;
    if (nn > nh)
        return NULL;
    if (nn <= 8) { /* short needles: at most 8 bytes compared per position */
        for (const char *p = h, *end = h + nh - nn; p <= end; p++) {
            p = memchr(p, nd[0], (size_t)(end - p) + 1);
            if (!p)
                return NULL;
            if (rk_start(h, (size_t)(p - h), text) && memcmp(p, nd, nn) == 0)
                return p;
        }
        return NULL;
    }
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, rk_init);
    uint64_t hn = 0, hw = 0, top = 1;
    for (size_t i = 0; i < nn; i++) {
        hn = rk_add(rk_mul(hn, rk_base), (unsigned char)nd[i]);
        hw = rk_add(rk_mul(hw, rk_base), (unsigned char)h[i]);
        if (i)
            top = rk_mul(top, rk_base);
    }
    for (size_t i = 0;; i++) {
        if (hw == hn && rk_start(h, i, text) && memcmp(h + i, nd, nn) == 0)
            return h + i;
        if (i + nn >= nh)
            return NULL;
        uint64_t out = rk_mul(top, (unsigned char)h[i]);
        hw = rk_add(rk_mul(rk_add(hw, RK_PRIME - out), rk_base), (unsigned char)h[i + nn]);
    }
}

/* Text or bytes of a value as instr/replace read it (NULL for SQL NULL). */
static const char *value_bytes_of(sqlite3_value *v, bool text, size_t *n)
{
    const void *p = text ? (const void *)sqlite3_value_text(v) : sqlite3_value_blob(v);
    *n = (size_t)sqlite3_value_bytes(v);
    return p ? p : "";
}

/* instr(X, Y): 1 + the characters (bytes for two BLOBs) before the first Y in
 * X, 0 when there is none; NULL when either is NULL. */
static void fn_instr(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    int th = sqlite3_value_type(argv[0]), tn = sqlite3_value_type(argv[1]);
    if (th == SQLITE_NULL || tn == SQLITE_NULL)
        return;
    bool text = !(th == SQLITE_BLOB && tn == SQLITE_BLOB);
    size_t nh, nn;
    const char *h = value_bytes_of(argv[0], text, &nh), *nd = value_bytes_of(argv[1], text, &nn);
    if (nn == 0) {
        sqlite3_result_int(cx, 1);
        return;
    }
    const char *hit = find_bytes(h, nh, nd, nn, text);
    int64_t pos = 0;
    if (hit) {
        size_t off = (size_t)(hit - h);
        pos = 1;
        for (size_t i = 0; i < off; i++)
            pos += !text || ((unsigned char)h[i] & 0xC0) != 0x80;
    }
    sqlite3_result_int64(cx, pos);
}

/* replace(X, Y, Z): every Y in X (bytes, left to right, not overlapping) by Z. */
static void fn_replace(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *x = (const char *)sqlite3_value_text(argv[0]);
    if (!x)
        return;
    size_t nx = (size_t)sqlite3_value_bytes(argv[0]);
    const char *y = (const char *)sqlite3_value_text(argv[1]);
    if (!y)
        return;
    size_t ny = (size_t)sqlite3_value_bytes(argv[1]);
    if (ny == 0 || y[0] == '\0') {
        sqlite3_result_value(cx, argv[0]);
        return;
    }
    const char *z = (const char *)sqlite3_value_text(argv[2]);
    if (!z)
        return;
    size_t nz = (size_t)sqlite3_value_bytes(argv[2]);
    size_t max = (size_t)sqlite3_limit(sqlite3_context_db_handle(cx), SQLITE_LIMIT_LENGTH, -1);
    kho_buf_t out = KHO_BUF_INIT;
    size_t i = 0;
    const char *hit;
    while (i + ny <= nx && (hit = find_bytes(x + i, nx - i, y, ny, false)) != NULL) {
        size_t at = (size_t)(hit - x);
        if (out.len + (at - i) + nz > max) {
            kho_buf_free(&out);
            sqlite3_result_error_toobig(cx);
            return;
        }
        kho_buf_append(&out, x + i, at - i);
        kho_buf_append(&out, z, nz);
        i = at + ny;
    }
    if (out.len + (nx - i) > max) {
        kho_buf_free(&out);
        sqlite3_result_error_toobig(cx);
        return;
    }
    kho_buf_append(&out, x + i, nx - i);
    sqlite3_result_text(cx, out.data ? out.data : "", (int)out.len, SQLITE_TRANSIENT);
    kho_buf_free(&out);
}

/* The characters of trim's second argument as SQLite reads them (a byte from
 * 0xC0 up and the continuation bytes after it; any other byte alone; up to
 * the first NUL), each with its first position, sorted for lookup. */
typedef struct tchar {
    const unsigned char *p;
    size_t len, first;
} tchar_t;

static int cmp_tchar(const void *a, const void *b)
{
    const tchar_t *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    if (c)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* Position in the charset of the character p[0..len), or SIZE_MAX. */
static size_t tchar_find(const tchar_t *set, size_t n, const unsigned char *p, size_t len)
{
    size_t lo = 0, hi = n;
    tchar_t key = {p, len, 0};
    while (lo < hi) { /* the first entry not below key: its smallest position */
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_tchar(&set[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && set[lo].len == len && memcmp(set[lo].p, p, len) == 0 ? set[lo].first : SIZE_MAX;
}

/* How many bytes to trim at the front of z[0..n) (one step): the matching
 * charset character that comes first in the charset, 0 when none matches.
 * Candidates are z's own lead byte alone or with 1..run continuation bytes. */
static size_t trim_front(const tchar_t *set, size_t nset, const unsigned char *z, size_t n)
{
    size_t best = SIZE_MAX, len = 0, run = 0;
    if (z[0] >= 0xC0)
        while (1 + run < n && (z[1 + run] & 0xC0) == 0x80)
            run++;
    for (size_t l = 1; l <= 1 + run; l++) {
        size_t f = tchar_find(set, nset, z, l);
        if (f < best) {
            best = f;
            len = l;
        }
    }
    return len;
}

static size_t trim_back(const tchar_t *set, size_t nset, const unsigned char *z, size_t n)
{
    size_t best = tchar_find(set, nset, z + n - 1, 1), len = best == SIZE_MAX ? 0 : 1, run = 0;
    while (run < n && (z[n - 1 - run] & 0xC0) == 0x80)
        run++;
    if (run > 0 && run < n && z[n - 1 - run] >= 0xC0) {
        size_t f = tchar_find(set, nset, z + n - 1 - run, run + 1);
        if (f < best)
            len = run + 1;
    }
    return len;
}

/* trim(X, Y), ltrim(X, Y), rtrim(X, Y): remove the characters of Y from the
 * start (1), the end (2) or both (3) of X. */
static void fn_trim(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    int flags = (int)(intptr_t)sqlite3_user_data(cx);
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL)
        return;
    const unsigned char *z = sqlite3_value_text(argv[0]);
    if (!z)
        return;
    size_t n = (size_t)sqlite3_value_bytes(argv[0]);
    const unsigned char *cs = sqlite3_value_text(argv[1]);
    if (!cs)
        return;
    size_t ncs = strnlen((const char *)cs, (size_t)sqlite3_value_bytes(argv[1]));
    tchar_t *set = kho_xcalloc(ncs ? ncs : 1, sizeof *set);
    size_t nset = 0;
    for (size_t i = 0; i < ncs;) {
        size_t j = i + 1;
        if (cs[i] >= 0xC0)
            while (j < ncs && (cs[j] & 0xC0) == 0x80)
                j++;
        set[nset] = (tchar_t){cs + i, j - i, nset};
        nset++;
        i = j;
    }
    qsort(set, nset, sizeof *set, cmp_tchar);
    size_t step;
    if (flags & 1)
        while (n > 0 && nset && (step = trim_front(set, nset, z, n)) > 0) {
            z += step;
            n -= step;
        }
    if (flags & 2)
        while (n > 0 && nset && (step = trim_back(set, nset, z, n)) > 0)
            n -= step;
    free(set);
    sqlite3_result_text(cx, (const char *)z, (int)n, SQLITE_TRANSIENT);
}

/* Register kho's versions over SQLite's on a sandbox connection. */
static int register_functions(sqlite3 *db, sandbox_t *sb)
{
    const int det = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    int rc = sqlite3_create_function_v2(db, "kho_decrypt", 3, SQLITE_UTF8 | SQLITE_INNOCUOUS, sb, fn_decrypt, NULL,
                                        NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "instr", 2, det, NULL, fn_instr, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "replace", 3, det, NULL, fn_replace, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "ltrim", 2, det, (void *)(intptr_t)1, fn_trim, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "rtrim", 2, det, (void *)(intptr_t)2, fn_trim, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "trim", 2, det, (void *)(intptr_t)3, fn_trim, NULL, NULL, NULL);
    return rc;
}

/* ---- the time limit ----------------------------------------------------------------- */

static int64_t elapsed_ns(const struct timespec *from)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - from->tv_sec) * 1000000000LL + (now.tv_nsec - from->tv_nsec);
}

static int on_progress(void *p)
{
    sandbox_t *sb = p;
    if (sb->trusted || sb->limit_ns <= 0 || !sb->stepping)
        return 0;
    if (sb->spent_ns + elapsed_ns(&sb->step_start) > sb->limit_ns) {
        sb->timed_out = true;
        return 1;
    }
    return 0;
}

static void clock_start(sandbox_t *sb)
{
    clock_gettime(CLOCK_MONOTONIC, &sb->step_start);
    sb->stepping = true;
}

static void clock_stop(sandbox_t *sb)
{
    sb->spent_ns += elapsed_ns(&sb->step_start);
    sb->stepping = false;
}

/* ---- the connection ----------------------------------------------------------------- */

/* Close the connection and forget what it held; the struct stays (it may be
 * the thread's: thread_sandbox replaces it on next use). */
static void sandbox_reset(sandbox_t *sb)
{
    sqlite3_finalize(sb->data_version);
    sqlite3_close_v2(sb->db);
    sb->db = NULL;
    sb->data_version = NULL;
    catalog_free(&sb->cat);
    sb->loaded = false;
    free(sb->views);
    sb->views = NULL;
    sb->nviews = 0;
}

static void sandbox_close(sandbox_t *sb)
{
    if (!sb)
        return;
    sandbox_reset(sb);
    free(sb->defined);
    free(sb->path);
    if (sb->plain.data)
        sodium_memzero(sb->plain.data, sb->plain.cap);
    kho_buf_free(&sb->plain);
    free(sb);
}

static void configure(sqlite3 *db)
{
    static const struct {
        int op, value;
    } cfg[] = {
        {SQLITE_DBCONFIG_DEFENSIVE, 1},
        {SQLITE_DBCONFIG_ENABLE_TRIGGER, 0},
        {SQLITE_DBCONFIG_ENABLE_VIEW, 0}, /* main-schema views only: TEMP views stay */
        {SQLITE_DBCONFIG_DQS_DML, 0},
        {SQLITE_DBCONFIG_DQS_DDL, 0},
        {SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0},
        {SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0},
    };
    for (size_t i = 0; i < sizeof cfg / sizeof cfg[0]; i++)
        sqlite3_db_config(db, cfg[i].op, cfg[i].value, (int *)NULL);
    static const struct {
        int id, value;
    } lim[] = {
        {SQLITE_LIMIT_LENGTH, KHO_SANDBOX_MAX_VALUE},
        {SQLITE_LIMIT_SQL_LENGTH, KHO_SANDBOX_MAX_SQL},
        {SQLITE_LIMIT_EXPR_DEPTH, 250},
        {SQLITE_LIMIT_COMPOUND_SELECT, 50},
        {SQLITE_LIMIT_VDBE_OP, 250000},
        {SQLITE_LIMIT_FUNCTION_ARG, 100},
        {SQLITE_LIMIT_ATTACHED, 0},
        {SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 100}, /* LIKE costs up to value length x pattern length */
        {SQLITE_LIMIT_VARIABLE_NUMBER, 100},
        {SQLITE_LIMIT_TRIGGER_DEPTH, 1},
        {SQLITE_LIMIT_WORKER_THREADS, 0},
    };
    for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++)
        sqlite3_limit(db, lim[i].id, lim[i].value);
}

static int sandbox_open(const char *path, sandbox_t **out, kho_err_t *err)
{
    sandbox_t *sb = kho_xcalloc(1, sizeof *sb);
    sb->trusted = true;
    sb->path = kho_xstrdup(path);
    int rc = sqlite3_open_v2(path, &sb->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(sb->db, 1);
        configure(sb->db);
        sqlite3_busy_timeout(sb->db, 5000);
        rc = register_functions(sb->db, sb);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_set_authorizer(sb->db, authorize, sb);
    if (rc == SQLITE_OK)
        sqlite3_progress_handler(sb->db, PROGRESS_OPS, on_progress, sb);
    /* eponymous virtual tables register themselves on first use: do it now,
     * trusted, for the two a caller may use and the two it may not (so that
     * naming those gets the usual "no such table") */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(sb->db,
                          "PRAGMA cache_size=-8192;"
                          "SELECT count(*) FROM json_each('[]'), json_tree('[]');"
                          "SELECT count(*) FROM dbstat WHERE 0; SELECT count(*) FROM sqlite_stmt WHERE 0;"
                          "PRAGMA query_only=1;",
                          NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(sb->db, "PRAGMA data_version", -1, SQLITE_PREPARE_PERSISTENT, &sb->data_version, NULL);
    if (rc != SQLITE_OK) {
        rc = db_error(sb->db, rc, err, "opening the database");
        sandbox_close(sb);
        return rc;
    }
    *out = sb;
    return 0;
}

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void tls_destroy(void *p)
{
    sandbox_close(p);
}

static void tls_init(void)
{
    if (pthread_key_create(&tls_key, tls_destroy) != 0) {
        kho_error("SQL sandbox: cannot create a thread key");
        abort();
    }
}

/* The calling thread's connection to the database at path (opened when needed). */
static int thread_sandbox(const char *path, sandbox_t **out, kho_err_t *err)
{
    pthread_once(&tls_once, tls_init);
    sandbox_t *sb = pthread_getspecific(tls_key);
    if (sb && sb->db && strcmp(sb->path, path) == 0) {
        *out = sb;
        return 0;
    }
    if (sb) { /* another database (tests), or closed after a failure */
        pthread_setspecific(tls_key, NULL);
        sandbox_close(sb);
    }
    int rc = sandbox_open(path, &sb, err);
    if (rc != 0)
        return rc;
    pthread_setspecific(tls_key, sb);
    *out = sb;
    return 0;
}

void kho_sandbox_thread_close(void)
{
    pthread_once(&tls_once, tls_init);
    sandbox_t *sb = pthread_getspecific(tls_key);
    pthread_setspecific(tls_key, NULL);
    sandbox_close(sb);
}

/* The calling thread's sandbox with the catalog fresh and the tables of `who`
 * computed (t->e unsorted, in priority order). */
static int prepare_caller(kho_store_t *s, const kho_principal_t *who, sandbox_t **out, tableset_t *t, kho_err_t *err)
{
    const char *path = kho_store_path(s);
    sandbox_t *sb = NULL;
    int rc = thread_sandbox(path ? path : "", &sb, err);
    if (rc != 0)
        return rc;
    sb->trusted = true;
    rc = refresh_catalog(sb, err);
    kho_grants_t g = {0};
    if (rc == 0)
        rc = kho_grants_load(s, who, &g, err);
    if (rc != 0)
        return rc;
    caller_tables(&sb->cat, who, &g, t);
    kho_grants_free(&g);
    *out = sb;
    return 0;
}

/* ---- reading the SQL text -------------------------------------------------------------- */

typedef enum { TK_END, TK_IDENT, TK_STRING, TK_SEMI, TK_DOT, TK_OTHER } tokkind_t;

typedef struct tok {
    tokkind_t kind;
    size_t start, len;
    bool quoted;
} tok_t;

static bool ident_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
           c >= 0x80;
}

/* Skip white space and comments. */
static size_t skip_space(const char *s, size_t n, size_t i)
{
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            i++;
        } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            while (i < n && s[i] != '\n')
                i++;
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            const char *end = i + 2 < n ? memmem(s + i + 2, n - i - 2, "*/", 2) : NULL;
            i = end ? (size_t)(end - s) + 2 : n;
        } else {
            break;
        }
    }
    return i;
}

/* The token at s[i..): returns the index after it. */
static size_t next_token(const char *s, size_t n, size_t i, tok_t *t)
{
    i = skip_space(s, n, i);
    memset(t, 0, sizeof *t);
    t->start = i;
    if (i >= n) {
        t->kind = TK_END;
        return n;
    }
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '`' || c == '[' || c == '\'') {
        char close = c == '[' ? ']' : (char)c;
        size_t j = i + 1;
        while (j < n) {
            if (s[j] == close) {
                if (close != ']' && j + 1 < n && s[j + 1] == close) {
                    j += 2;
                    continue;
                }
                break;
            }
            j++;
        }
        t->kind = c == '\'' ? TK_STRING : TK_IDENT;
        t->quoted = true;
        t->len = (j < n ? j + 1 : n) - i;
        return i + t->len;
    }
    size_t j = i + 1;
    if (ident_char(c) && !(c >= '0' && c <= '9') && c != '$') {
        while (j < n && ident_char((unsigned char)s[j]))
            j++;
        t->kind = TK_IDENT;
    } else if (c == ';') {
        t->kind = TK_SEMI;
    } else if (c == '.' && !(j < n && s[j] >= '0' && s[j] <= '9')) {
        t->kind = TK_DOT;
    } else {
        if (ident_char(c) || c == '.' || c == '?' || c == ':' || c == '@' || c == '$' || c == '#')
            while (j < n && (ident_char((unsigned char)s[j]) || s[j] == '.'))
                j++;
        t->kind = TK_OTHER;
    }
    t->len = j - i;
    return j;
}

/* The text of an identifier token without its quotes (into out). */
static void dequote(const char *s, const tok_t *t, char *out, size_t size)
{
    size_t k = 0, from = t->start, to = t->start + t->len;
    if (t->quoted) {
        char q = s[from] == '[' ? ']' : s[from];
        from++;
        if (to > from && s[to - 1] == q)
            to--;
        for (size_t i = from; i < to && k + 1 < size; i++) {
            out[k++] = s[i];
            if (s[i] == q && q != ']' && i + 1 < to && s[i + 1] == q)
                i++;
        }
    } else {
        for (size_t i = from; i < to && k + 1 < size; i++)
            out[k++] = s[i];
    }
    out[k] = '\0';
}

static bool keyword_is(const char *s, const tok_t *t, const char *kw)
{
    return t->kind == TK_IDENT && !t->quoted && t->len == strlen(kw) && strncasecmp(s + t->start, kw, t->len) == 0;
}

/* Where the caller wrote `name` (an identifier, any case or quoting): its
 * spelling (with a "schema." before it when qualified) and byte offset. */
static bool find_ident(const char *s, size_t n, const char *name, char *spelled, size_t size, size_t *offset)
{
    tok_t prev2 = {0}, prev = {0}, t;
    char buf[NAME_MAX_LEN];
    for (size_t i = next_token(s, n, 0, &t); t.kind != TK_END; i = next_token(s, n, i, &t)) {
        if (t.kind == TK_IDENT) {
            dequote(s, &t, buf, sizeof buf);
            if (sqlite3_stricmp(buf, name) == 0) {
                char schema[NAME_MAX_LEN] = "";
                if (prev.kind == TK_DOT && prev2.kind == TK_IDENT)
                    dequote(s, &prev2, schema, sizeof schema);
                snprintf(spelled, size, "%s%s%s", schema, schema[0] ? "." : "", buf);
                *offset = t.start;
                return true;
            }
        }
        prev2 = prev;
        prev = t;
    }
    return false;
}

/* The statement's first word must be one a read can start with. */
static int check_first_word(const char *s, size_t n, kho_err_t *err)
{
    tok_t t, t2, t3;
    size_t i = next_token(s, n, 0, &t);
    while (t.kind == TK_SEMI)
        i = next_token(s, n, i, &t);
    if (t.kind == TK_END)
        return kho_err_setk(err, KHO_EINVAL, "sql_error", "the query is empty: send a SELECT statement");
    static const char *const starts[] = {"SELECT", "WITH", "VALUES", "PRAGMA"};
    for (size_t k = 0; k < sizeof starts / sizeof starts[0]; k++)
        if (keyword_is(s, &t, starts[k]))
            return 0;
    if (keyword_is(s, &t, "EXPLAIN")) {
        i = next_token(s, n, i, &t2);
        next_token(s, n, i, &t3);
        if (keyword_is(s, &t2, "QUERY") && keyword_is(s, &t3, "PLAN"))
            return 0;
        return kho_err_setk(err, KHO_EFORBIDDEN, "sql_denied",
                            "EXPLAIN is not available in the SQL sandbox; EXPLAIN QUERY PLAN is");
    }
    return kho_err_setk(err, KHO_EFORBIDDEN, "sql_denied",
                        "the SQL sandbox is read-only: a statement starts with SELECT, WITH, VALUES or EXPLAIN QUERY "
                        "PLAN");
}

/* The names the statement defines (`name AS (`, `name(cols) AS [NOT]
 * [MATERIALIZED] (`: WITH clauses, and WINDOW definitions, which look alike),
 * into sb->defined; their offsets in *offsets (first one kept per name). */
static void collect_defined(sandbox_t *sb, const char *s, size_t n, size_t *first_offset)
{
    tok_t t, u;
    sb->ndefined = 0;
    *first_offset = SIZE_MAX;
    for (size_t i = next_token(s, n, 0, &t); t.kind != TK_END; i = next_token(s, n, i, &t)) {
        if (t.kind != TK_IDENT)
            continue;
        size_t j = next_token(s, n, i, &u);
        if (u.kind == TK_OTHER && u.len == 1 && s[u.start] == '(') { /* skip a column list */
            int depth = 1;
            while (depth > 0 && u.kind != TK_END) {
                j = next_token(s, n, j, &u);
                if (u.kind == TK_OTHER && u.len == 1)
                    depth += s[u.start] == '(' ? 1 : s[u.start] == ')' ? -1 : 0;
            }
            j = next_token(s, n, j, &u);
        }
        if (!keyword_is(s, &u, "AS"))
            continue;
        j = next_token(s, n, j, &u); /* AS [NOT] [MATERIALIZED] ( */
        if (keyword_is(s, &u, "NOT"))
            j = next_token(s, n, j, &u);
        if (keyword_is(s, &u, "MATERIALIZED"))
            next_token(s, n, j, &u);
        if (!(u.kind == TK_OTHER && u.len == 1 && s[u.start] == '('))
            continue;
        sb->defined = kho_xgrow(sb->defined, &sb->capdefined, sb->ndefined + 1, sizeof *sb->defined);
        char *name = sb->defined[sb->ndefined++];
        dequote(s, &t, name, NAME_MAX_LEN);
        for (char *p = name; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        if (*first_offset == SIZE_MAX)
            *first_offset = t.start;
    }
}

/* ds<digits>_v<digits>, alone or followed by '_': how kho names stored versions. */
static bool version_table_name(const char *name)
{
    const char *p = name;
    if (strncmp(p, "ds", 2) != 0 || !(p[2] >= '0' && p[2] <= '9'))
        return false;
    for (p += 2; *p >= '0' && *p <= '9'; p++)
        ;
    if (strncmp(p, "_v", 2) != 0 || !(p[2] >= '0' && p[2] <= '9'))
        return false;
    for (p += 2; *p >= '0' && *p <= '9'; p++)
        ;
    return *p == '\0' || *p == '_';
}

/* A name the statement defines may not be one of the caller's tables, a
 * stored table's, or an eponymous virtual table's (dbstat, pragma_...): the
 * authorizer trusts reads made in a view's name, and column-less reads of a
 * defined name (a WITH in one subquery must not cover a count(*) of the real
 * table in another). Version-table names are refused by their shape, whether
 * they exist or not (no oracle). */
static int check_defined(sandbox_t *sb, const char *s, size_t n, kho_sandbox_result_t *res, kho_err_t *err)
{
    size_t off;
    collect_defined(sb, s, n, &off);
    for (size_t i = 0; i < sb->ndefined; i++) {
        const char *name = sb->defined[i];
        const char *key = name;
        bool stored = strncmp(name, "sqlite_", 7) == 0 || strncmp(name, "pragma_", 7) == 0 ||
                      strcmp(name, "dbstat") == 0 || version_table_name(name) ||
                      bsearch(&key, sb->cat.stored, sb->cat.nstored, sizeof *sb->cat.stored, cmp_cstr) != NULL;
        if (!stored && !find_view(sb, name))
            continue;
        char spelled[2 * NAME_MAX_LEN];
        size_t at = 0;
        if (find_ident(s, n, name, spelled, sizeof spelled, &at) && at <= (size_t)INT32_MAX)
            res->offset = (int)at;
        return kho_err_setk(err, KHO_EINVAL, "sql_error",
                            "'%s' is the name of a table: give the WITH (or WINDOW) clause's name another name", name);
    }
    return 0;
}

/* Nothing but white space, comments and semicolons may follow the statement. */
static bool only_one_statement(const char *s, size_t n, size_t from)
{
    tok_t t;
    size_t i = from;
    do
        i = next_token(s, n, i, &t);
    while (t.kind == TK_SEMI);
    return t.kind == TK_END;
}

/* ---- output ------------------------------------------------------------------------- */

typedef struct out {
    kho_outfmt_t fmt;
    kho_buf_t b;
    kho_sink_fn sink;
    void *ctx;
    int64_t flushed;
    int ncols;
    bool *boolean;  /* column k comes straight from a boolean column */
    kho_buf_t keys; /* NDJSON: ,"name": per column, NUL-separated */
    kho_buf_t tmp;
    bool failed;
} out_t;

static int out_flush(out_t *o)
{
    if (!o->b.len || o->failed)
        return o->failed ? -1 : 0;
    if (o->sink(o->ctx, o->b.data, o->b.len) != 0) {
        o->failed = true;
        return -1;
    }
    o->flushed += (int64_t)o->b.len;
    kho_buf_reset(&o->b);
    return 0;
}

/* Valid UTF-8 of s[0..n): s itself, or a repaired copy in o->tmp. */
static const char *utf8_of(out_t *o, const char *s, size_t n)
{
    if (kho_utf8_valid(s, n, NULL))
        return s;
    kho_buf_reset(&o->tmp);
    kho_buf_append(&o->tmp, s, n);
    kho_utf8_repair(o->tmp.data, n);
    return o->tmp.data;
}

static void put_base64(kho_buf_t *b, const void *p, size_t n)
{
    size_t enc = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    kho_buf_reserve(b, enc);
    sodium_bin2base64(b->data + b->len, enc, p ? p : "", n, sodium_base64_VARIANT_ORIGINAL);
    b->len += enc - 1;
}

static void put_value(out_t *o, sqlite3_stmt *st, int k)
{
    kho_buf_t *b = &o->b;
    bool csv = o->fmt == KHO_OUT_CSV;
    switch (sqlite3_column_type(st, k)) {
    case SQLITE_NULL:
        if (!csv)
            kho_buf_append(b, "null", 4);
        return;
    case SQLITE_INTEGER:
        if (o->boolean[k])
            kho_buf_puts(b, sqlite3_column_int64(st, k) ? "true" : "false");
        else
            kho_json_int(b, (long long)sqlite3_column_int64(st, k));
        return;
    case SQLITE_FLOAT: {
        double d = sqlite3_column_double(st, k);
        char num[40];
        if (!csv)
            kho_json_double(b, d);
        else if (!isfinite(d)) /* infinities (SQLite turns NaN into NULL) */
            kho_buf_puts(b, isnan(d) ? "" : d > 0 ? "Inf" : "-Inf");
        else
            kho_buf_append(b, num, kho_fmt_double(num, sizeof num, d));
        return;
    }
    case SQLITE_BLOB: {
        const void *p = sqlite3_column_blob(st, k);
        size_t n = (size_t)sqlite3_column_bytes(st, k);
        if (!csv)
            kho_buf_puts(b, "{\"$base64\":true,\"encoded\":\"");
        put_base64(b, p, n);
        if (!csv)
            kho_buf_puts(b, "\"}");
        return;
    }
    default: {
        const char *s = (const char *)sqlite3_column_text(st, k);
        size_t n = (size_t)sqlite3_column_bytes(st, k);
        s = utf8_of(o, s ? s : "", n);
        if (csv)
            kho_csv_field(b, s, n);
        else
            kho_json_str(b, s, n);
    }
    }
}

/* Column k's name, valid UTF-8 (into o->tmp or as is). */
static const char *column_name(out_t *o, sqlite3_stmt *st, int k)
{
    const char *name = sqlite3_column_name(st, k);
    return name ? utf8_of(o, name, strlen(name)) : "";
}

/* Which output columns come straight from a boolean column of a version. */
static void find_booleans(sandbox_t *sb, out_t *o, sqlite3_stmt *st)
{
    for (int k = 0; k < o->ncols; k++) {
        const char *table = sqlite3_column_table_name(st, k), *col = sqlite3_column_origin_name(st, k);
        const char *db = sqlite3_column_database_name(st, k);
        if (!table || !col || !db || strcmp(db, "main") != 0)
            continue;
        for (size_t i = 0; i < sb->nviews; i++) {
            entry_t *e = &sb->views[i];
            if (e->unit >= 0 || strcmp(e->base, table) != 0)
                continue;
            const col_t *c = view_column(sb, e, col);
            o->boolean[k] = c && c->type == KHO_TYPE_BOOLEAN && !c->encrypted;
            break;
        }
    }
}

/* NDJSON keys: the column names, a repeated one suffixed _2, _3 ... */
static void ndjson_keys(out_t *o, sqlite3_stmt *st)
{
    kho_strmap_t *seen = kho_strmap_new();
    for (int k = 0; k < o->ncols; k++) {
        char key[512];
        snprintf(key, sizeof key, "%s", column_name(o, st, k));
        size_t dummy;
        for (int dup = 2; kho_strmap_get(seen, key, strlen(key), &dummy); dup++)
            snprintf(key, sizeof key, "%.480s_%d", column_name(o, st, k), dup);
        kho_strmap_put(seen, key, strlen(key), (size_t)k);
        kho_utf8_repair(key, strlen(key));
        if (k)
            kho_buf_putc(&o->keys, ',');
        kho_json_cstr(&o->keys, key);
        kho_buf_putc(&o->keys, ':');
        kho_buf_putc(&o->keys, '\0');
    }
    kho_strmap_free(seen);
}

static void write_head(out_t *o, sqlite3_stmt *st)
{
    if (o->fmt == KHO_OUT_NDJSON) {
        ndjson_keys(o, st);
        return;
    }
    if (o->fmt == KHO_OUT_JSON)
        kho_buf_puts(&o->b, "{\"columns\":[");
    for (int k = 0; k < o->ncols; k++) {
        const char *name = column_name(o, st, k);
        if (k)
            kho_buf_putc(&o->b, ',');
        if (o->fmt == KHO_OUT_CSV)
            kho_csv_field(&o->b, name, strlen(name));
        else
            kho_json_cstr(&o->b, name);
    }
    kho_buf_puts(&o->b, o->fmt == KHO_OUT_CSV ? "\r\n" : "],\"rows\":[");
}

/* Append the current row; false when it would pass max_bytes (nothing added). */
static bool write_row(out_t *o, sqlite3_stmt *st, int64_t row, int64_t max_bytes)
{
    size_t mark = o->b.len;
    const char *key = o->keys.data;
    if (o->fmt == KHO_OUT_JSON)
        kho_buf_puts(&o->b, row ? ",[" : "[");
    else if (o->fmt == KHO_OUT_NDJSON)
        kho_buf_putc(&o->b, '{');
    for (int k = 0; k < o->ncols; k++) {
        if (o->fmt == KHO_OUT_NDJSON) {
            size_t kl = strlen(key);
            kho_buf_append(&o->b, key, kl);
            key += kl + 1;
        } else if (k) {
            kho_buf_putc(&o->b, ',');
        }
        put_value(o, st, k);
        if (o->flushed + (int64_t)o->b.len > max_bytes) {
            o->b.len = mark;
            if (o->b.data)
                o->b.data[mark] = '\0';
            return false;
        }
    }
    kho_buf_puts(&o->b, o->fmt == KHO_OUT_JSON ? "]" : o->fmt == KHO_OUT_NDJSON ? "}\n" : "\r\n");
    return true;
}

static void out_free(out_t *o)
{
    free(o->boolean);
    kho_buf_free(&o->b);
    kho_buf_free(&o->keys);
    kho_buf_free(&o->tmp);
}

/* ---- running a query ---------------------------------------------------------------- */

/* The error of a failed prepare or step, in the caller's terms. */
static int query_error(sandbox_t *sb, const kho_sandbox_query_t *q, int rc, kho_sandbox_result_t *res, kho_err_t *err)
{
    int prim = rc & 0xFF;
    if (sb->timed_out || prim == SQLITE_INTERRUPT)
        return kho_err_setk(err, KHO_ETIMEOUT, "timeout",
                            "the query ran longer than the sandbox's limit of %lld ms and was stopped: narrow it "
                            "(WHERE, LIMIT) or aggregate",
                            (long long)(q->time_limit_ms));
    if (prim == SQLITE_AUTH || sb->deny != DENY_NONE) { /* a refused function is reported as SQLITE_ERROR */
        if (sb->deny == DENY_HIDDEN) {
            char spelled[2 * NAME_MAX_LEN] = "";
            size_t off = 0;
            const char *alias = strcmp(sb->deny_name, "sqlite_master") == 0        ? "sqlite_schema"
                                : strcmp(sb->deny_name, "sqlite_temp_master") == 0 ? "sqlite_temp_schema"
                                                                                   : NULL;
            if (!find_ident(q->sql, q->len, sb->deny_name, spelled, sizeof spelled, &off) &&
                !(alias && find_ident(q->sql, q->len, alias, spelled, sizeof spelled, &off)))
                snprintf(spelled, sizeof spelled, "%s", sb->deny_name);
            return kho_err_setk(err, KHO_EINVAL, "sql_error",
                                "no such table: %s (GET /api/v1/sql/tables lists the tables you can query)", spelled);
        }
        if (sb->deny == DENY_PERSONAL) {
            char spelled[2 * NAME_MAX_LEN];
            size_t off;
            if (find_ident(q->sql, q->len, sb->deny_col, spelled, sizeof spelled, &off) && off <= (size_t)INT32_MAX)
                res->offset = (int)off;
        }
        return kho_err_setk(err, KHO_EFORBIDDEN, "sql_denied", "%s",
                            sb->deny != DENY_NONE ? sb->deny_msg : "not allowed in the SQL sandbox");
    }
    const char *msg = sqlite3_errmsg(sb->db);
    if (sb->fn_code)
        return kho_err_setk(err, sb->fn_code, sb->fn_code == KHO_ETAMPER ? "tampered" : "no_keys", "%s", msg);
    if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
        return kho_err_setk(err, KHO_EBUSY, "database_busy", "the database is busy: retry in a moment");
    if (prim == SQLITE_TOOBIG)
        return kho_err_setk(err, KHO_EINVAL, "sql_limit", "a value grew past the sandbox's limit of %d bytes (%s)",
                            KHO_SANDBOX_MAX_VALUE, msg);
    if (prim == SQLITE_NOMEM)
        return kho_err_setk(err, KHO_EINVAL, "sql_limit", "the query is too large or complex for the sandbox");
    if (prim == SQLITE_IOERR || prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB || prim == SQLITE_CANTOPEN ||
        prim == SQLITE_FULL)
        return kho_err_set(err, KHO_EIO, "SQL sandbox: %s", msg);
    if (strncmp(msg, "no such table: ", 15) == 0)
        return kho_err_setk(err, KHO_EINVAL, "sql_error", "%s (GET /api/v1/sql/tables lists the tables you can query)",
                            msg);
    int off = sqlite3_error_offset(sb->db);
    res->offset = off >= 0 && (size_t)off <= q->len ? off : -1;
    return kho_err_setk(err, KHO_EINVAL, "sql_error", "%s", msg);
}

static void reset_query_state(sandbox_t *sb, const kho_sandbox_query_t *q, kho_store_t *s)
{
    sb->store = s;
    sb->keys = q->keys;
    sb->deny = DENY_NONE;
    sb->deny_msg[0] = '\0';
    sb->fn_code = 0;
    sb->spent_ns = 0;
    sb->limit_ns = q->time_limit_ms > 0 ? q->time_limit_ms * 1000000LL : 0;
    sb->timed_out = false;
    sb->stepping = false;
    for (size_t i = 0; i < sb->nviews; i++)
        sb->views[i].touched = sb->views[i].touched_personal = false;
}

static int prepare_statement(sandbox_t *sb, const kho_sandbox_query_t *q, sqlite3_stmt **st, kho_sandbox_result_t *res,
                             kho_err_t *err)
{
    const char *tail = NULL;
    int rc = check_defined(sb, q->sql, q->len, res, err);
    if (rc != 0)
        return rc;
    sb->trusted = false;
    clock_start(sb);
    rc = sqlite3_prepare_v3(sb->db, q->sql, (int)q->len, 0, st, &tail);
    clock_stop(sb);
    if (rc != SQLITE_OK)
        return query_error(sb, q, rc, res, err);
    if (!*st)
        return kho_err_setk(err, KHO_EINVAL, "sql_error", "the query is empty: send a SELECT statement");
    if ((rc = check_first_word(q->sql, q->len, err)) != 0)
        return rc;
    size_t used = tail ? (size_t)(tail - q->sql) : q->len;
    if (!only_one_statement(q->sql, q->len, used)) {
        res->offset = (int)used;
        return kho_err_setk(err, KHO_EINVAL, "sql_error", "send one statement at a time (more follows at byte %zu)",
                            used);
    }
    if (!sqlite3_stmt_readonly(*st))
        return kho_err_setk(err, KHO_EFORBIDDEN, "sql_denied",
                            "the SQL sandbox is read-only: only SELECT statements run");
    if (sqlite3_stmt_isexplain(*st) == 1)
        return kho_err_setk(err, KHO_EFORBIDDEN, "sql_denied",
                            "EXPLAIN is not available in the SQL sandbox; EXPLAIN QUERY PLAN is");
    if (sqlite3_bind_parameter_count(*st) > 0)
        return kho_err_setk(err, KHO_EINVAL, "sql_error",
                            "the sandbox has no query parameters (?, :name): write the values into the query");
    return 0;
}

static int step_rows(sandbox_t *sb, const kho_sandbox_query_t *q, sqlite3_stmt *st, out_t *o, kho_sandbox_result_t *res,
                     kho_err_t *err)
{
    int64_t max_rows = q->max_rows > 0 ? q->max_rows : INT64_MAX;
    int64_t max_bytes = q->max_bytes > 0 ? q->max_bytes : INT64_MAX;
    for (;;) {
        clock_start(sb);
        int rc = sqlite3_step(st);
        clock_stop(sb);
        if (rc == SQLITE_DONE)
            return 0;
        if (rc != SQLITE_ROW)
            return query_error(sb, q, rc, res, err);
        if (res->rows >= max_rows || !write_row(o, st, res->rows, max_bytes)) {
            res->truncated = true;
            return 0;
        }
        res->rows++;
        if (o->b.len >= FLUSH_AT && out_flush(o) != 0)
            return kho_err_set(err, KHO_EIO, "the output could not be written");
    }
}

static void write_tail(out_t *o, const kho_sandbox_result_t *res, double ms)
{
    if (o->fmt != KHO_OUT_JSON)
        return;
    kho_buf_printf(&o->b, "],\"row_count\":%lld,\"truncated\":%s,\"time_ms\":", (long long)res->rows,
                   res->truncated ? "true" : "false");
    kho_json_double(&o->b, ms);
    kho_buf_puts(&o->b, "}\n");
}

/* What the query read: res->tables, and res->audit for reads to record. */
static void collect_reads(sandbox_t *sb, const kho_principal_t *who, kho_store_t *s, kho_sandbox_result_t *res)
{
    kho_grants_t g = {0};
    kho_err_t err;
    bool grants = false;
    for (size_t i = 0; i < sb->nviews; i++) {
        entry_t *e = &sb->views[i];
        if (!e->touched)
            continue;
        json_array_append_new(res->tables, json_string(e->name));
        if (e->unit >= 0)
            continue;
        if (!grants)
            grants = kho_grants_load(s, who, &g, &err) == 0;
        const ver_t *v = &sb->cat.vers[e->ver];
        const dataset_t *d = &sb->cat.ds[v->ds];
        kho_decision_t dd = decide(who, &g, d, e->touched_personal);
        if (!dd.audit && grants)
            continue;
        if (!res->audit)
            res->audit = json_array();
        json_array_append_new(res->audit,
                              json_pack("{s:s,s:I,s:s,s:b}", "dataset", d->slug, "version", (json_int_t)v->number,
                                        "table", e->name, "personal", e->touched_personal));
    }
    kho_grants_free(&g);
}

void kho_sandbox_result_free(kho_sandbox_result_t *res)
{
    json_decref(res->tables);
    json_decref(res->audit);
    res->tables = res->audit = NULL;
}

static int run_statement(sandbox_t *sb, const kho_sandbox_query_t *q, kho_sink_fn sink, void *ctx,
                         kho_sandbox_result_t *res, const struct timespec *t0, kho_err_t *err)
{
    sqlite3_stmt *st = NULL;
    out_t o = {.fmt = q->fmt, .sink = sink, .ctx = ctx};
    int rc = prepare_statement(sb, q, &st, res, err);
    if (rc == 0) {
        o.ncols = sqlite3_column_count(st);
        o.boolean = kho_xcalloc(o.ncols > 0 ? (size_t)o.ncols : 1, sizeof *o.boolean);
        find_booleans(sb, &o, st);
        write_head(&o, st);
        rc = step_rows(sb, q, st, &o, res, err);
    }
    sqlite3_finalize(st);
    sb->trusted = true;
    res->time_ms = (double)elapsed_ns(t0) / 1e6;
    if (rc == 0) {
        write_tail(&o, res, (double)(int64_t)(res->time_ms * 100 + 0.5) / 100);
        if (out_flush(&o) != 0)
            rc = kho_err_set(err, KHO_EIO, "the output could not be written");
    }
    out_free(&o);
    return rc;
}

int kho_sandbox_run(kho_store_t *s, const kho_sandbox_query_t *q, kho_sink_fn sink, void *ctx,
                    kho_sandbox_result_t *res, kho_err_t *err)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(res, 0, sizeof *res);
    res->offset = -1;
    res->tables = json_array();
    if (q->len > KHO_SANDBOX_MAX_SQL)
        return kho_err_setk(err, KHO_ETOOLARGE, "sql_too_long",
                            "the query is %zu bytes long; the sandbox takes at most %d", q->len, KHO_SANDBOX_MAX_SQL);
    size_t bad = 0;
    if (!kho_utf8_valid(q->sql, q->len, &bad))
        return kho_err_setk(err, KHO_EINVAL, "invalid_utf8", "the query is not valid UTF-8 text (byte %zu)", bad);
    sandbox_t *sb = NULL;
    tableset_t t = {0};
    int rc = prepare_caller(s, q->who, &sb, &t, err);
    if (rc != 0)
        return rc;
    qsort(t.e, t.n, sizeof *t.e, cmp_entry);
    rc = sync_views(sb, t.e, t.n, err); /* takes t.e */
    if (rc != 0)
        return rc;
    reset_query_state(sb, q, s);
    rc = run_statement(sb, q, sink, ctx, res, &t0, err);
    if (rc == 0)
        collect_reads(sb, q->who, s, res);
    sb->store = NULL;
    sb->keys = NULL;
    return rc;
}

/* ---- the list of tables --------------------------------------------------------------- */

static json_t *unit_columns(const unitdef_t *u)
{
    json_t *cols = json_array();
    const char *p = u->cols;
    while (*p) {
        size_t n = strcspn(p, ",");
        json_array_append_new(cols, json_pack("{s:s%,s:s,s:b,s:b,s:b}", "name", p, n, "type", "text", "personal", 0,
                                              "encrypted", 0, "hidden", 0));
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return cols;
}

static json_t *table_json(const catalog_t *c, const entry_t *e)
{
    if (e->unit >= 0)
        return json_pack("{s:s,s:s,s:o}", "name", e->name, "kind", "units", "columns", unit_columns(&UNITS[e->unit]));
    const ver_t *v = &c->vers[e->ver];
    json_t *cols = json_array();
    json_array_append_new(cols, json_pack("{s:s,s:s,s:b,s:b,s:b}", "name", "_row", "type", "integer", "personal", 0,
                                          "encrypted", 0, "hidden", 0));
    for (size_t i = 0; i < v->ncols; i++) {
        const col_t *col = &v->cols[i];
        json_array_append_new(cols, json_pack("{s:s,s:s,s:b,s:b,s:b}", "name", col->name, "type",
                                              kho_type_name(col->type), "personal", col->personal, "encrypted",
                                              col->encrypted, "hidden", col->personal && e->masked));
    }
    return json_pack("{s:s,s:s,s:s,s:I,s:b,s:I,s:b,s:o}", "name", e->name, "kind", "dataset", "dataset",
                     c->ds[v->ds].slug, "version", (json_int_t)v->number, "current", e->current, "rows",
                     (json_int_t)v->rows, "masked", e->masked, "columns", cols);
}

/* Listing order: datasets by creation, each with its current name first then
 * its versions; the unit tables last. */
static int cmp_listing(const void *a, const void *b, void *ctx)
{
    const entry_t *x = a, *y = b;
    const catalog_t *c = ctx;
    if ((x->unit >= 0) != (y->unit >= 0))
        return x->unit >= 0 ? 1 : -1;
    if (x->unit >= 0)
        return x->unit - y->unit;
    const ver_t *vx = &c->vers[x->ver], *vy = &c->vers[y->ver];
    if (vx->ds != vy->ds)
        return vx->ds < vy->ds ? -1 : 1;
    bool px = x->current && strcmp(x->name, c->ds[vx->ds].base) == 0;
    bool py = y->current && strcmp(y->name, c->ds[vy->ds].base) == 0;
    if (px != py)
        return px ? -1 : 1;
    return vx->number < vy->number ? -1 : vx->number > vy->number;
}

int kho_sandbox_tables(kho_store_t *s, const kho_principal_t *who, json_t **out, kho_err_t *err)
{
    sandbox_t *sb = NULL;
    tableset_t t = {0};
    int rc = prepare_caller(s, who, &sb, &t, err);
    if (rc != 0)
        return rc;
    qsort_r(t.e, t.n, sizeof *t.e, cmp_listing, &sb->cat);
    json_t *arr = json_array();
    for (size_t i = 0; i < t.n; i++)
        json_array_append_new(arr, table_json(&sb->cat, &t.e[i]));
    free(t.e);
    *out = json_pack("{s:o}", "tables", arr);
    return 0;
}
