/*
 * access — the one access decision: may this caller do this to this dataset,
 * and if so, with masking and with an audit entry or not. Every path that
 * touches a dataset (catalog lists and views, rows, exports, uploads,
 * classification, grants, and every later endpoint) asks kho_access_decide().
 *
 * The Data Law 2024 classes, as kho enforces them:
 *
 *   sharing   open      anyone, signed in or not
 *             shared    staff of the province's agencies: analyst, leader,
 *                       steward, admin (not partners: outside organisations)
 *             private   the owning organisation's stewards, admins, and named
 *                       grants (to an account or to an organisation)
 *   importance core / important: every read is audited and personal columns
 *             are encrypted at rest; other: reads are audited when the
 *             dataset is private or has personal columns.
 *
 * A dataset the caller may not read does not exist for it (404, absent from
 * lists and counts). Writing (a new version, metadata) needs the
 * datasets:write scope and is for the owning organisation's stewards and for
 * admins; managing (classification, grants) likewise.
 *
 * Personal columns (tags `personal`, `sensitive`) come out masked unless the
 * caller holds pii:read and is an admin, a steward of the owning organisation,
 * or has a grant that includes personal data.
 */
#ifndef KHO_SECURITY_ACCESS_H
#define KHO_SECURITY_ACCESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "security/auth.h"
#include "store/store.h"

typedef enum { KHO_SHARING_OPEN, KHO_SHARING_SHARED, KHO_SHARING_PRIVATE } kho_sharing_t;
typedef enum { KHO_IMPORTANCE_OTHER, KHO_IMPORTANCE_IMPORTANT, KHO_IMPORTANCE_CORE } kho_importance_t;

/* "open" ...; unknown text is treated as the strictest class. */
kho_sharing_t kho_sharing_parse(const char *s);
kho_importance_t kho_importance_parse(const char *s);

typedef enum { KHO_GRANT_NONE, KHO_GRANT_READ, KHO_GRANT_PII } kho_grant_t;

/* What the decision needs to know about a dataset. */
typedef struct kho_dsfacts {
    int64_t id;       /* 0: it does not exist yet (an upload would create it) */
    kho_sharing_t sharing;
    kho_importance_t importance;
    int64_t org_id;   /* owning organisation; 0: none */
    kho_grant_t grant; /* the caller's best grant on it */
    bool personal;    /* the version concerned has personal columns */
} kho_dsfacts_t;

typedef enum {
    KHO_ACT_READ,   /* see it in a list, its metadata, its rows, exports, queries */
    KHO_ACT_WRITE,  /* upload a version, change its description */
    KHO_ACT_MANAGE, /* classify, grant and revoke access */
} kho_action_t;

typedef struct kho_decision {
    int code;        /* 0: allowed; KHO_ENOTFOUND (hidden), KHO_EUNAUTH (sign in first), KHO_EFORBIDDEN */
    bool mask;       /* personal columns must be masked for this caller */
    bool audit;      /* the access must be recorded in the audit log */
    const char *why; /* why it was refused (static text) */
} kho_decision_t;

/* The decision. Pure: no I/O, cheap enough for every row of a catalog list. */
kho_decision_t kho_access_decide(const kho_principal_t *p, const kho_dsfacts_t *d, kho_action_t a);

/* Set err from a refusal: "no dataset has the id X" for hidden ones, the
 * reason otherwise. Returns d->code. */
int kho_access_refuse(const kho_decision_t *d, const char *slug, kho_err_t *err);

/* ---- grants ---------------------------------------------------------------------- */

/* The caller's grants, loaded once per request for lists. */
typedef struct kho_grants {
    int64_t *ids;      /* sorted dataset ids */
    kho_grant_t *level;
    size_t n;
} kho_grants_t;

/* Load p's grants (its own and its organisation's). Free with kho_grants_free. */
int kho_grants_load(kho_store_t *s, const kho_principal_t *p, kho_grants_t *out, kho_err_t *err) KHO_WUR;
void kho_grants_free(kho_grants_t *g);
kho_grant_t kho_grants_level(const kho_grants_t *g, int64_t dataset_id);

/* The facts of dataset `slug` for caller p (its grant included). personal is
 * left false: the caller sets it from the version's columns. KHO_ENOTFOUND
 * when there is no such dataset. */
int kho_access_facts(kho_store_t *s, const kho_principal_t *p, const char *slug, kho_dsfacts_t *out,
                     kho_err_t *err) KHO_WUR;

/* Grant read access on a dataset to an account ("user:NAME") or an
 * organisation ("org:SLUG"), with personal data when pii. Granting again
 * updates pii. */
int kho_grant_add(kho_store_t *w, const char *dataset, const char *grantee, bool pii, kho_err_t *err) KHO_WUR;
int kho_grant_remove(kho_store_t *w, const char *dataset, const char *grantee, kho_err_t *err) KHO_WUR;
/* {"grants":[{"dataset","grantee","pii","created_at"}]}; dataset NULL: all. */
int kho_grant_list(kho_store_t *s, const char *dataset, json_t **out, kho_err_t *err) KHO_WUR;

/* ---- aggregates ------------------------------------------------------------------ */

/* May an aggregate over personal columns report a group of n rows? Only when
 * n >= min_group (setting min_group_size), or the caller may see the rows. */
bool kho_access_group_ok(const kho_decision_t *d, int64_t n, int64_t min_group);

#endif
