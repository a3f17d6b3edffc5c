/* access — the access decision, grants (see access.h). */
#include "security/access.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "warehouse/catalog.h"

kho_sharing_t kho_sharing_parse(const char *s)
{
    if (s && strcmp(s, "open") == 0)
        return KHO_SHARING_OPEN;
    if (s && strcmp(s, "shared") == 0)
        return KHO_SHARING_SHARED;
    return KHO_SHARING_PRIVATE;
}

kho_importance_t kho_importance_parse(const char *s)
{
    if (s && strcmp(s, "other") == 0)
        return KHO_IMPORTANCE_OTHER;
    if (s && strcmp(s, "important") == 0)
        return KHO_IMPORTANCE_IMPORTANT;
    return KHO_IMPORTANCE_CORE;
}

static bool is_staff(kho_role_t r)
{
    return r == KHO_ROLE_ANALYST || r == KHO_ROLE_LEADER || r == KHO_ROLE_STEWARD || r == KHO_ROLE_ADMIN;
}

/* May p read d at all (see it, its metadata and its rows)? */
static bool may_read(const kho_principal_t *p, const kho_dsfacts_t *d, bool owner)
{
    if (d->sharing == KHO_SHARING_OPEN)
        return true;
    if (!(p->scopes & KHO_SCOPE_DATASETS_READ))
        return false; /* a key made for other work reads only open data */
    return p->role == KHO_ROLE_ADMIN || owner || d->grant != KHO_GRANT_NONE ||
           (d->sharing == KHO_SHARING_SHARED && is_staff(p->role));
}

kho_decision_t kho_access_decide(const kho_principal_t *p, const kho_dsfacts_t *d, kho_action_t a)
{
    kho_decision_t r = {0};
    bool owner = p->role == KHO_ROLE_STEWARD && p->org_id != 0 && p->org_id == d->org_id;
    bool admin = p->role == KHO_ROLE_ADMIN;
    if (d->id != 0 && !may_read(p, d, owner)) {
        r.code = KHO_ENOTFOUND;
        r.why = "no such dataset";
        return r;
    }
    if (a == KHO_ACT_READ) {
        bool pii = (p->scopes & KHO_SCOPE_PII_READ) && (admin || owner || d->grant == KHO_GRANT_PII);
        r.mask = d->personal && !pii;
        r.audit = d->sharing == KHO_SHARING_PRIVATE || d->importance != KHO_IMPORTANCE_OTHER || d->personal;
        return r;
    }
    r.audit = true; /* every write and every management action is recorded */
    if (!(p->scopes & KHO_SCOPE_DATASETS_WRITE)) {
        r.code = p->user_id == 0 ? KHO_EUNAUTH : KHO_EFORBIDDEN;
        r.why = p->user_id == 0 ? "sign in (or send an API key) to publish data"
                                : "this credential has no datasets:write scope";
        return r;
    }
    bool creating_own = d->id == 0 && p->role == KHO_ROLE_STEWARD && p->org_id != 0;
    if (!(admin || owner || creating_own)) {
        r.code = KHO_EFORBIDDEN;
        r.why = a == KHO_ACT_WRITE ? "only the owning organisation's stewards and admins may publish this dataset"
                                   : "only the owning organisation's stewards and admins may manage this dataset";
    }
    return r;
}

int kho_access_refuse(const kho_decision_t *d, const char *slug, kho_err_t *err)
{
    if (d->code == KHO_ENOTFOUND)
        return kho_err_setk(err, KHO_ENOTFOUND, "unknown_dataset", "no dataset has the id '%.64s'", slug);
    const char *kind = d->code == KHO_EUNAUTH ? "unauthenticated" : "forbidden";
    return kho_err_setk(err, d->code, kind, "%s", d->why ? d->why : "not allowed");
}

bool kho_access_group_ok(const kho_decision_t *d, int64_t n, int64_t min_group)
{
    return !d->mask || n >= min_group;
}

/* ---- grants ---------------------------------------------------------------------- */

int kho_grants_load(kho_store_t *s, const kho_principal_t *p, kho_grants_t *out, kho_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (p->user_id == 0)
        return 0;
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(s,
                              "SELECT dataset_id, max(pii) FROM grants WHERE user_id = ?1 OR org_id = ?2"
                              " GROUP BY dataset_id ORDER BY dataset_id",
                              &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_int(st, 1, p->user_id);
    kho_stmt_bind_int(st, 2, p->org_id ? p->org_id : -1);
    size_t cap = 0;
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            out->ids = kho_xrealloc(out->ids, cap * sizeof *out->ids);
            out->level = kho_xrealloc(out->level, cap * sizeof *out->level);
        }
        out->ids[out->n] = kho_stmt_col_int(st, 0);
        out->level[out->n++] = kho_stmt_col_int(st, 1) ? KHO_GRANT_PII : KHO_GRANT_READ;
    }
    kho_stmt_reset(st);
    if (rc < 0) {
        kho_grants_free(out);
        return rc;
    }
    return 0;
}

void kho_grants_free(kho_grants_t *g)
{
    free(g->ids);
    free(g->level);
    memset(g, 0, sizeof *g);
}

kho_grant_t kho_grants_level(const kho_grants_t *g, int64_t dataset_id)
{
    size_t lo = 0, hi = g->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->ids[mid] < dataset_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->n && g->ids[lo] == dataset_id ? g->level[lo] : KHO_GRANT_NONE;
}

int kho_access_facts(kho_store_t *s, const kho_principal_t *p, const char *slug, kho_dsfacts_t *out, kho_err_t *err)
{
    memset(out, 0, sizeof *out);
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(s,
                              "SELECT d.id, d.sharing, d.importance, d.org_id,"
                              " (SELECT max(g.pii) + 1 FROM grants g WHERE g.dataset_id = d.id"
                              "   AND (g.user_id = ?2 OR g.org_id = ?3))"
                              " FROM datasets d WHERE d.slug = ?1",
                              &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, slug);
    kho_stmt_bind_int(st, 2, p->user_id ? p->user_id : -1);
    kho_stmt_bind_int(st, 3, p->org_id ? p->org_id : -1);
    rc = kho_stmt_step(st, err);
    if (rc == KHO_STEP_ROW) {
        out->id = kho_stmt_col_int(st, 0);
        out->sharing = kho_sharing_parse(kho_stmt_col_text(st, 1));
        out->importance = kho_importance_parse(kho_stmt_col_text(st, 2));
        out->org_id = kho_stmt_col_int(st, 3);
        out->grant = (kho_grant_t)kho_stmt_col_int(st, 4);
        rc = 0;
    } else if (rc == KHO_STEP_DONE)
        rc = kho_err_setk(err, KHO_ENOTFOUND, "unknown_dataset", "no dataset has the id '%.64s'", slug);
    kho_stmt_reset(st);
    return rc;
}

/* Resolve "user:NAME" or "org:SLUG" to a column and a row id. */
static int grantee_id(kho_store_t *s, const char *grantee, bool *is_org, int64_t *id, kho_err_t *err)
{
    const char *sql;
    const char *name;
    if (strncmp(grantee, "user:", 5) == 0) {
        *is_org = false;
        name = grantee + 5;
        sql = "SELECT id FROM users WHERE name = ?";
    } else if (strncmp(grantee, "org:", 4) == 0) {
        *is_org = true;
        name = grantee + 4;
        sql = "SELECT id FROM organisations WHERE slug = ?";
    } else
        return kho_err_setk(err, KHO_EINVAL, "bad_grantee",
                            "a grant goes to 'user:NAME' or 'org:ORGANISATION', not '%.64s'", grantee);
    kho_stmt_t *st = NULL;
    int rc = kho_store_cached(s, sql, &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, name);
    rc = kho_stmt_step(st, err);
    if (rc == KHO_STEP_ROW) {
        *id = kho_stmt_col_int(st, 0);
        rc = 0;
    } else if (rc == KHO_STEP_DONE)
        rc = kho_err_setk(err, KHO_ENOTFOUND, "unknown_grantee", "there is no %s '%.64s'",
                          *is_org ? "organisation" : "account", name);
    kho_stmt_reset(st);
    return rc;
}

static int grant_change(kho_store_t *w, const char *dataset, const char *grantee, int pii, kho_err_t *err)
{
    int64_t ds = 0, id = 0;
    bool is_org = false;
    int rc = kho_store_begin(w, true, err);
    if (rc != 0)
        return rc;
    if ((rc = kho_catalog_find(w, dataset, &ds, err)) == 0)
        rc = grantee_id(w, grantee, &is_org, &id, err);
    kho_stmt_t *st = NULL;
    if (rc == 0)
        rc = kho_store_prepare(w,
                               is_org ? "DELETE FROM grants WHERE dataset_id = ?1 AND org_id = ?2"
                                      : "DELETE FROM grants WHERE dataset_id = ?1 AND user_id = ?2",
                               &st, err);
    if (rc == 0) {
        kho_stmt_bind_int(st, 1, ds);
        kho_stmt_bind_int(st, 2, id);
        rc = kho_stmt_step(st, err);
        rc = rc < 0 ? rc : 0;
        kho_stmt_free(st);
        st = NULL;
    }
    int64_t removed = 0;
    if (rc == 0 && pii < 0 && (rc = kho_store_query_int(w, "SELECT changes()", &removed, err)) == 0 && !removed)
        rc = kho_err_setk(err, KHO_ENOTFOUND, "unknown_grant", "'%.64s' has no grant on '%.64s'", grantee, dataset);
    if (rc == 0 && pii >= 0) {
        char now[32];
        kho_catalog_now(now);
        rc = kho_store_prepare(w, "INSERT INTO grants(dataset_id, org_id, user_id, pii, created_at) VALUES (?,?,?,?,?)",
                               &st, err);
        if (rc == 0) {
            kho_stmt_bind_int(st, 1, ds);
            if (is_org) {
                kho_stmt_bind_int(st, 2, id);
                kho_stmt_bind_null(st, 3);
            } else {
                kho_stmt_bind_null(st, 2);
                kho_stmt_bind_int(st, 3, id);
            }
            kho_stmt_bind_int(st, 4, pii);
            kho_stmt_bind_str(st, 5, now);
            rc = kho_stmt_step(st, err);
            rc = rc < 0 ? rc : 0;
            kho_stmt_free(st);
        }
    }
    if (rc == 0)
        return kho_store_commit(w, err);
    kho_store_rollback(w);
    return rc;
}

int kho_grant_add(kho_store_t *w, const char *dataset, const char *grantee, bool pii, kho_err_t *err)
{
    return grant_change(w, dataset, grantee, pii ? 1 : 0, err);
}

int kho_grant_remove(kho_store_t *w, const char *dataset, const char *grantee, kho_err_t *err)
{
    return grant_change(w, dataset, grantee, -1, err);
}

int kho_grant_list(kho_store_t *s, const char *dataset, json_t **out, kho_err_t *err)
{
    kho_stmt_t *st = NULL;
    int rc = kho_store_prepare(s,
                               "SELECT d.slug, CASE WHEN g.user_id IS NOT NULL THEN 'user:' || u.name"
                               "  ELSE 'org:' || o.slug END, g.pii, g.created_at"
                               " FROM grants g JOIN datasets d ON d.id = g.dataset_id"
                               " LEFT JOIN users u ON u.id = g.user_id LEFT JOIN organisations o ON o.id = g.org_id"
                               " WHERE ?1 IS NULL OR d.slug = ?1 ORDER BY d.slug, 2",
                               &st, err);
    if (rc != 0)
        return rc;
    if (dataset)
        kho_stmt_bind_str(st, 1, dataset);
    else
        kho_stmt_bind_null(st, 1);
    json_t *arr = json_array();
    while ((rc = kho_stmt_step(st, err)) == KHO_STEP_ROW)
        json_array_append_new(arr, json_pack("{s:s,s:s,s:b,s:s}", "dataset", kho_stmt_col_text(st, 0), "grantee",
                                             kho_stmt_col_text(st, 1), "pii", (int)kho_stmt_col_int(st, 2),
                                             "created_at", kho_stmt_col_text(st, 3)));
    kho_stmt_free(st);
    if (rc < 0) {
        json_decref(arr);
        return rc;
    }
    *out = json_pack("{s:o}", "grants", arr);
    return 0;
}
