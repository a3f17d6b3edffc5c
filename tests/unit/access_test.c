/* Unit tests of security/access: the access decision as a matrix over callers
 * (roles, credentials with fewer scopes), sharing, importance, grants, personal
 * data and actions, against the rules written in access.h; then grants on a
 * real SQLite database: add, update, remove, list, load, facts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "kho_test.h"
#include "security/access.h"
#include "security/auth.h"
#include "store/schema.h"
#include "store/store.h"

#define OWN_ORG 1
#define OTHER_ORG 2
#define PARTNER_ORG 5

/* ---- callers ------------------------------------------------------------------------ */

typedef enum {
    C_PUBLIC,
    C_ANALYST,
    C_LEADER,
    C_PARTNER,
    C_STEWARD_OWN,
    C_STEWARD_OTHER,
    C_ADMIN,
    /* credentials (API keys) with fewer scopes than their role */
    C_ADMIN_KEY_AUDIT,        /* admin, audit:read only: no datasets:read */
    C_STEWARD_OWN_KEY_READ,   /* owning steward, datasets:read only */
    C_STEWARD_OWN_KEY_WRITE,  /* owning steward, datasets:write only */
    C_STEWARD_OWN_KEY_NOPII,  /* owning steward, datasets:read + write */
    C_ADMIN_KEY_NOPII,        /* admin without pii:read */
    C_STEWARD_NOORG,          /* a steward whose organisation is unset */
    NCALLERS
} caller_t;

static const char *const CALLER_NAMES[] = {
    "public",           "analyst",          "leader",           "partner",          "steward(own)",
    "steward(other)",   "admin",            "admin key audit",  "own key read",     "own key write",
    "own key read+write", "admin key no pii", "steward no org",
};

static kho_principal_t caller(caller_t c)
{
    kho_principal_t p;
    kho_principal_public(&p);
    if (c == C_PUBLIC)
        return p;
    static const kho_role_t roles[NCALLERS] = {
        [C_ANALYST] = KHO_ROLE_ANALYST,        [C_LEADER] = KHO_ROLE_LEADER,
        [C_PARTNER] = KHO_ROLE_PARTNER,        [C_STEWARD_OWN] = KHO_ROLE_STEWARD,
        [C_STEWARD_OTHER] = KHO_ROLE_STEWARD,  [C_ADMIN] = KHO_ROLE_ADMIN,
        [C_ADMIN_KEY_AUDIT] = KHO_ROLE_ADMIN,  [C_STEWARD_OWN_KEY_READ] = KHO_ROLE_STEWARD,
        [C_STEWARD_OWN_KEY_WRITE] = KHO_ROLE_STEWARD, [C_STEWARD_OWN_KEY_NOPII] = KHO_ROLE_STEWARD,
        [C_ADMIN_KEY_NOPII] = KHO_ROLE_ADMIN,  [C_STEWARD_NOORG] = KHO_ROLE_STEWARD,
    };
    p.role = roles[c];
    p.user_id = 100 + (int64_t)c;
    snprintf(p.user, sizeof p.user, "user%d", (int)c);
    p.scopes = kho_role_scopes(p.role);
    switch (c) {
    case C_PARTNER: p.org_id = PARTNER_ORG; break;
    case C_STEWARD_OWN:
    case C_STEWARD_OWN_KEY_READ:
    case C_STEWARD_OWN_KEY_WRITE:
    case C_STEWARD_OWN_KEY_NOPII: p.org_id = OWN_ORG; break;
    case C_STEWARD_OTHER: p.org_id = OTHER_ORG; break;
    default: break;
    }
    switch (c) {
    case C_ADMIN_KEY_AUDIT: p.scopes = KHO_SCOPE_AUDIT_READ; break;
    case C_STEWARD_OWN_KEY_READ: p.scopes = KHO_SCOPE_DATASETS_READ; break;
    case C_STEWARD_OWN_KEY_WRITE: p.scopes = KHO_SCOPE_DATASETS_WRITE; break;
    case C_STEWARD_OWN_KEY_NOPII: p.scopes = KHO_SCOPE_DATASETS_READ | KHO_SCOPE_DATASETS_WRITE; break;
    case C_ADMIN_KEY_NOPII: p.scopes = KHO_SCOPE_ALL & ~(unsigned)KHO_SCOPE_PII_READ; break;
    default: break;
    }
    if (c >= C_ADMIN_KEY_AUDIT && c <= C_ADMIN_KEY_NOPII)
        p.key_id = 10 + (int64_t)c;
    return p;
}

/* ---- the rules of access.h, written out independently ---------------------------------- */

typedef struct {
    int code;
    bool mask, audit;
} expect_t;

static expect_t oracle(const kho_principal_t *p, const kho_dsfacts_t *d, kho_action_t a)
{
    bool admin = p->role == KHO_ROLE_ADMIN;
    bool owner = p->role == KHO_ROLE_STEWARD && p->org_id != 0 && p->org_id == d->org_id;
    bool staff = p->role == KHO_ROLE_ANALYST || p->role == KHO_ROLE_LEADER || p->role == KHO_ROLE_STEWARD || admin;
    bool reads = (p->scopes & KHO_SCOPE_DATASETS_READ) != 0;
    bool granted = d->grant != KHO_GRANT_NONE;
    /* "A dataset the caller may not read does not exist for it"; open: anyone;
     * shared: staff (not partners) and grants; private: owning stewards, admins,
     * grants; a credential without datasets:read sees only open data */
    bool may_read;
    if (d->sharing == KHO_SHARING_OPEN)
        may_read = true;
    else if (!reads)
        may_read = false;
    else if (d->sharing == KHO_SHARING_SHARED)
        may_read = staff || granted;
    else
        may_read = admin || owner || granted;
    expect_t e = {0, false, false};
    if (d->id != 0 && !may_read) {
        e.code = KHO_ENOTFOUND;
        return e;
    }
    if (a == KHO_ACT_READ) {
        bool sees_pii = (p->scopes & KHO_SCOPE_PII_READ) && (admin || owner || d->grant == KHO_GRANT_PII);
        e.mask = d->personal && !sees_pii;
        e.audit = d->importance != KHO_IMPORTANCE_OTHER || d->sharing == KHO_SHARING_PRIVATE || d->personal;
        return e;
    }
    /* write and manage: datasets:write, and the owning organisation's stewards or admins */
    if (!(p->scopes & KHO_SCOPE_DATASETS_WRITE)) {
        e.code = p->user_id == 0 ? KHO_EUNAUTH : KHO_EFORBIDDEN;
        return e;
    }
    bool creating = d->id == 0 && p->role == KHO_ROLE_STEWARD && p->org_id != 0;
    if (!(admin || owner || creating)) {
        e.code = KHO_EFORBIDDEN;
        return e;
    }
    e.audit = true;
    return e;
}

static const char *const SHARING[] = {"open", "shared", "private"};
static const char *const IMPORTANCE[] = {"other", "important", "core"};
static const char *const GRANT[] = {"none", "read", "pii"};
static const char *const ACTION[] = {"read", "write", "manage"};

static void check(caller_t c, const kho_dsfacts_t *d, kho_action_t a, expect_t want)
{
    kho_principal_t p = caller(c);
    kho_decision_t got = kho_access_decide(&p, d, a);
    bool ok = got.code == want.code;
    if (ok && want.code == 0)
        ok = got.audit == want.audit && (a != KHO_ACT_READ || got.mask == want.mask);
    if (!ok)
        fail_msg("%s %s id=%lld %s/%s org=%lld grant=%s personal=%d: expected code %d mask %d audit %d,"
                 " got code %d mask %d audit %d",
                 CALLER_NAMES[c], ACTION[a], (long long)d->id, SHARING[d->sharing], IMPORTANCE[d->importance],
                 (long long)d->org_id, GRANT[d->grant], d->personal, want.code, want.mask, want.audit, got.code,
                 got.mask, got.audit);
    if (got.code != 0)
        assert_non_null(got.why);
}

/* ---- the decision ------------------------------------------------------------------------- */

static kho_dsfacts_t ds(kho_sharing_t s, kho_importance_t i, kho_grant_t g, bool personal)
{
    kho_dsfacts_t d = {.id = 42, .sharing = s, .importance = i, .org_id = OWN_ORG, .grant = g, .personal = personal};
    return d;
}

#define O KHO_SHARING_OPEN
#define S KHO_SHARING_SHARED
#define P KHO_SHARING_PRIVATE
#define OTH KHO_IMPORTANCE_OTHER
#define IMP KHO_IMPORTANCE_IMPORTANT
#define CORE KHO_IMPORTANCE_CORE
#define GN KHO_GRANT_NONE
#define GR KHO_GRANT_READ
#define GP KHO_GRANT_PII
#define RD KHO_ACT_READ
#define WR KHO_ACT_WRITE
#define MG KHO_ACT_MANAGE
#define NF KHO_ENOTFOUND
#define FB KHO_EFORBIDDEN
#define UA KHO_EUNAUTH

/* Salient cases written out by hand from access.h. */
static void test_decide_cases(void **state)
{
    (void)state;
    static const struct {
        caller_t c;
        kho_sharing_t s;
        kho_importance_t imp;
        kho_grant_t g;
        bool personal;
        kho_action_t a;
        expect_t want;
    } cases[] = {
        /* open: anyone, signed in or not; not audited unless important or personal */
        {C_PUBLIC, O, OTH, GN, false, RD, {0, false, false}},
        {C_PARTNER, O, OTH, GN, false, RD, {0, false, false}},
        {C_PUBLIC, O, CORE, GN, false, RD, {0, false, true}},
        {C_PUBLIC, O, IMP, GN, false, RD, {0, false, true}},
        {C_PUBLIC, O, OTH, GN, true, RD, {0, true, true}},
        {C_ADMIN_KEY_AUDIT, O, OTH, GN, false, RD, {0, false, false}}, /* no datasets:read: open still */
        /* shared: the province's staff, not partners (without a grant), not the public */
        {C_PUBLIC, S, OTH, GN, false, RD, {NF, false, false}},
        {C_ANALYST, S, OTH, GN, false, RD, {0, false, false}},
        {C_LEADER, S, OTH, GN, false, RD, {0, false, false}},
        {C_STEWARD_OTHER, S, OTH, GN, false, RD, {0, false, false}},
        {C_PARTNER, S, OTH, GN, false, RD, {NF, false, false}},
        {C_PARTNER, S, OTH, GR, false, RD, {0, false, false}},
        {C_ANALYST, S, OTH, GN, true, RD, {0, true, true}},
        {C_ADMIN_KEY_AUDIT, S, OTH, GN, false, RD, {NF, false, false}},
        /* private: owning stewards, admins, grants */
        {C_ANALYST, P, OTH, GN, false, RD, {NF, false, false}},
        {C_LEADER, P, CORE, GN, false, RD, {NF, false, false}},
        {C_STEWARD_OTHER, P, OTH, GN, false, RD, {NF, false, false}},
        {C_PARTNER, P, OTH, GN, false, RD, {NF, false, false}},
        {C_STEWARD_OWN, P, OTH, GN, false, RD, {0, false, true}},
        {C_ADMIN, P, OTH, GN, false, RD, {0, false, true}},
        {C_ANALYST, P, OTH, GR, false, RD, {0, false, true}},
        {C_PARTNER, P, OTH, GR, true, RD, {0, true, true}},
        {C_STEWARD_NOORG, P, OTH, GN, false, RD, {NF, false, false}},
        {C_ADMIN_KEY_AUDIT, P, OTH, GN, false, RD, {NF, false, false}},
        {C_STEWARD_OWN_KEY_WRITE, P, OTH, GN, false, RD, {NF, false, false}},
        /* personal columns: unmasked for admins and owning stewards holding pii:read,
         * and for a pii grant with pii:read */
        {C_ADMIN, P, CORE, GN, true, RD, {0, false, true}},
        {C_STEWARD_OWN, P, CORE, GN, true, RD, {0, false, true}},
        {C_STEWARD_OWN_KEY_READ, P, CORE, GN, true, RD, {0, true, true}},
        {C_STEWARD_OWN_KEY_NOPII, P, CORE, GN, true, RD, {0, true, true}},
        {C_ADMIN_KEY_NOPII, P, CORE, GN, true, RD, {0, true, true}},
        {C_STEWARD_OTHER, P, CORE, GP, true, RD, {0, false, true}},
        {C_STEWARD_OTHER, P, CORE, GR, true, RD, {0, true, true}},
        {C_STEWARD_OTHER, S, OTH, GN, true, RD, {0, true, true}},
        {C_ANALYST, P, CORE, GP, true, RD, {0, false, true}},  /* a pii grant and the role's pii:read */
        {C_PARTNER, S, OTH, GP, true, RD, {0, false, true}},
        {C_ANALYST, P, CORE, GR, true, RD, {0, true, true}},   /* a grant without personal data */
        {C_ANALYST, O, OTH, GN, true, RD, {0, true, true}},
        /* writing and managing: datasets:write, owning stewards and admins */
        {C_PUBLIC, O, OTH, GN, false, WR, {UA, false, false}},
        {C_PUBLIC, O, OTH, GN, false, MG, {UA, false, false}},
        {C_PUBLIC, P, OTH, GN, false, WR, {NF, false, false}}, /* hidden first */
        {C_ANALYST, O, OTH, GN, false, WR, {FB, false, false}},
        {C_ANALYST, S, OTH, GN, false, MG, {FB, false, false}},
        {C_PARTNER, P, OTH, GP, false, WR, {FB, false, false}},
        {C_STEWARD_OTHER, O, OTH, GN, false, WR, {FB, false, false}},
        {C_STEWARD_OTHER, S, OTH, GN, false, MG, {FB, false, false}},
        {C_STEWARD_OTHER, P, OTH, GP, false, WR, {FB, false, false}},
        {C_STEWARD_OWN, O, OTH, GN, false, WR, {0, false, true}},
        {C_STEWARD_OWN, P, CORE, GN, true, MG, {0, false, true}},
        {C_ADMIN, P, OTH, GN, false, WR, {0, false, true}},
        {C_ADMIN, S, IMP, GN, false, MG, {0, false, true}},
        {C_STEWARD_OWN_KEY_READ, O, OTH, GN, false, WR, {FB, false, false}},
        {C_STEWARD_OWN_KEY_NOPII, P, OTH, GN, false, WR, {0, false, true}},
        {C_STEWARD_OWN_KEY_WRITE, O, OTH, GN, false, WR, {0, false, true}},
        {C_STEWARD_OWN_KEY_WRITE, P, OTH, GN, false, WR, {NF, false, false}}, /* cannot see it */
        {C_ADMIN_KEY_AUDIT, O, OTH, GN, false, WR, {FB, false, false}},
        {C_STEWARD_NOORG, O, OTH, GN, false, WR, {FB, false, false}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kho_dsfacts_t d = ds(cases[i].s, cases[i].imp, cases[i].g, cases[i].personal);
        check(cases[i].c, &d, cases[i].a, cases[i].want);
    }
}

/* Every caller x sharing x importance x grant x personal x action, with the
 * owning organisation set and unset, against the rules. */
static void test_decide_matrix(void **state)
{
    (void)state;
    size_t n = 0;
    for (int c = 0; c < NCALLERS; c++)
        for (int s = 0; s < 3; s++)
            for (int imp = 0; imp < 3; imp++)
                for (int g = 0; g < 3; g++)
                    for (int personal = 0; personal < 2; personal++)
                        for (int a = 0; a < 3; a++)
                            for (int org = 0; org < 3; org++) {
                                kho_dsfacts_t d = ds((kho_sharing_t)s, (kho_importance_t)imp, (kho_grant_t)g,
                                                     personal);
                                d.org_id = org == 0 ? OWN_ORG : org == 1 ? OTHER_ORG : 0;
                                kho_principal_t p = caller((caller_t)c);
                                check((caller_t)c, &d, (kho_action_t)a, oracle(&p, &d, (kho_action_t)a));
                                n++;
                            }
    assert_int_equal(n, (size_t)NCALLERS * 3 * 3 * 3 * 2 * 3 * 3);
}

/* Properties that hold whatever the rules' details. */
static void test_decide_invariants(void **state)
{
    (void)state;
    for (int c = 0; c < NCALLERS; c++)
        for (int s = 0; s < 3; s++)
            for (int imp = 0; imp < 3; imp++)
                for (int g = 0; g < 3; g++)
                    for (int personal = 0; personal < 2; personal++) {
                        kho_principal_t p = caller((caller_t)c);
                        kho_dsfacts_t d = ds((kho_sharing_t)s, (kho_importance_t)imp, (kho_grant_t)g, personal);
                        kho_decision_t r = kho_access_decide(&p, &d, KHO_ACT_READ);
                        kho_decision_t w = kho_access_decide(&p, &d, KHO_ACT_WRITE);
                        kho_decision_t m = kho_access_decide(&p, &d, KHO_ACT_MANAGE);
                        /* no personal columns: nothing to mask */
                        if (!personal)
                            assert_false(r.mask);
                        /* important and core data: every read is audited */
                        if (r.code == 0 && imp != KHO_IMPORTANCE_OTHER)
                            assert_true(r.audit);
                        /* whoever may write may read; writes are always audited */
                        if (w.code == 0) {
                            assert_int_equal(r.code, 0);
                            assert_true(w.audit);
                        }
                        assert_int_equal(w.code, m.code);
                        /* hidden for reading means hidden for writing */
                        if (r.code == KHO_ENOTFOUND)
                            assert_int_equal(w.code, KHO_ENOTFOUND);
                        /* a more restrictive sharing never opens more */
                        if (s > 0) {
                            kho_dsfacts_t looser = d;
                            looser.sharing = (kho_sharing_t)(s - 1);
                            if (r.code == 0)
                                assert_int_equal(kho_access_decide(&p, &looser, KHO_ACT_READ).code, 0);
                        }
                        /* a grant never takes anything away */
                        if (g < 2) {
                            kho_dsfacts_t more = d;
                            more.grant = (kho_grant_t)(g + 1);
                            kho_decision_t r2 = kho_access_decide(&p, &more, KHO_ACT_READ);
                            if (r.code == 0) {
                                assert_int_equal(r2.code, 0);
                                if (!r.mask)
                                    assert_false(r2.mask);
                            }
                        }
                    }
}

static void test_decide_new_dataset(void **state)
{
    (void)state;
    /* id 0: a dataset an upload would create */
    kho_dsfacts_t d = {.id = 0, .sharing = KHO_SHARING_PRIVATE, .importance = KHO_IMPORTANCE_CORE, .org_id = 0};
    kho_principal_t p = caller(C_STEWARD_OWN);
    assert_int_equal(kho_access_decide(&p, &d, KHO_ACT_WRITE).code, 0);
    assert_true(kho_access_decide(&p, &d, KHO_ACT_WRITE).audit);
    p = caller(C_STEWARD_OTHER);
    assert_int_equal(kho_access_decide(&p, &d, KHO_ACT_WRITE).code, 0);
    p = caller(C_ADMIN);
    assert_int_equal(kho_access_decide(&p, &d, KHO_ACT_WRITE).code, 0);
    p = caller(C_ANALYST);
    assert_int_equal(kho_access_decide(&p, &d, KHO_ACT_WRITE).code, KHO_EFORBIDDEN);
    p = caller(C_PARTNER);
    assert_int_equal(kho_access_decide(&p, &d, KHO_ACT_WRITE).code, KHO_EFORBIDDEN);
    p = caller(C_PUBLIC);
    assert_int_equal(kho_access_decide(&p, &d, KHO_ACT_WRITE).code, KHO_EUNAUTH);
    p = caller(C_STEWARD_NOORG);
    assert_int_equal(kho_access_decide(&p, &d, KHO_ACT_WRITE).code, KHO_EFORBIDDEN);
    p = caller(C_STEWARD_OWN_KEY_READ);
    assert_int_equal(kho_access_decide(&p, &d, KHO_ACT_WRITE).code, KHO_EFORBIDDEN);
    /* an existing dataset of no organisation: admins only; org 0 matches nobody */
    kho_dsfacts_t none = {.id = 7, .sharing = KHO_SHARING_OPEN, .importance = KHO_IMPORTANCE_OTHER, .org_id = 0};
    p = caller(C_STEWARD_NOORG);
    assert_int_equal(kho_access_decide(&p, &none, KHO_ACT_WRITE).code, KHO_EFORBIDDEN);
    p = caller(C_STEWARD_OWN);
    assert_int_equal(kho_access_decide(&p, &none, KHO_ACT_MANAGE).code, KHO_EFORBIDDEN);
    p = caller(C_ADMIN);
    assert_int_equal(kho_access_decide(&p, &none, KHO_ACT_MANAGE).code, 0);
}

static void test_parse_classes(void **state)
{
    (void)state;
    assert_int_equal(kho_sharing_parse("open"), KHO_SHARING_OPEN);
    assert_int_equal(kho_sharing_parse("shared"), KHO_SHARING_SHARED);
    assert_int_equal(kho_sharing_parse("private"), KHO_SHARING_PRIVATE);
    static const char *const strict[] = {"", "OPEN", "Open", "open ", " open", "opened", "public", "shar", "x"};
    for (size_t i = 0; i < sizeof strict / sizeof strict[0]; i++) {
        assert_int_equal(kho_sharing_parse(strict[i]), KHO_SHARING_PRIVATE);
        assert_int_equal(kho_importance_parse(strict[i]), KHO_IMPORTANCE_CORE);
    }
    assert_int_equal(kho_sharing_parse(NULL), KHO_SHARING_PRIVATE);
    assert_int_equal(kho_importance_parse(NULL), KHO_IMPORTANCE_CORE);
    assert_int_equal(kho_importance_parse("other"), KHO_IMPORTANCE_OTHER);
    assert_int_equal(kho_importance_parse("important"), KHO_IMPORTANCE_IMPORTANT);
    assert_int_equal(kho_importance_parse("core"), KHO_IMPORTANCE_CORE);
    assert_int_equal(kho_importance_parse("Other"), KHO_IMPORTANCE_CORE);
}

static void test_refuse_and_group(void **state)
{
    (void)state;
    kho_principal_t p = caller(C_ANALYST);
    kho_dsfacts_t d = ds(KHO_SHARING_PRIVATE, KHO_IMPORTANCE_OTHER, KHO_GRANT_NONE, false);
    kho_decision_t r = kho_access_decide(&p, &d, KHO_ACT_READ);
    kho_err_t err = {0};
    assert_int_equal(kho_access_refuse(&r, "ho-ngheo", &err), KHO_ENOTFOUND);
    assert_int_equal(err.code, KHO_ENOTFOUND);
    assert_non_null(strstr(err.msg, "ho-ngheo"));
    /* hidden looks exactly like absent: the message says nothing about access */
    assert_null(strstr(err.msg, "private"));
    assert_null(strstr(err.msg, "permission"));
    d.sharing = KHO_SHARING_OPEN;
    r = kho_access_decide(&p, &d, KHO_ACT_WRITE);
    memset(&err, 0, sizeof err);
    assert_int_equal(kho_access_refuse(&r, "ho-ngheo", &err), KHO_EFORBIDDEN);
    assert_true(strlen(err.msg) > 0);
    p = caller(C_PUBLIC);
    r = kho_access_decide(&p, &d, KHO_ACT_WRITE);
    memset(&err, 0, sizeof err);
    assert_int_equal(kho_access_refuse(&r, "ho-ngheo", &err), KHO_EUNAUTH);
    /* a hostile slug in the message is bounded */
    char slug[4000];
    memset(slug, 'a', sizeof slug - 1);
    slug[sizeof slug - 1] = '\0';
    p = caller(C_ANALYST);
    d.sharing = KHO_SHARING_PRIVATE;
    r = kho_access_decide(&p, &d, KHO_ACT_READ);
    assert_int_equal(kho_access_refuse(&r, slug, &err), KHO_ENOTFOUND);
    assert_true(strlen(err.msg) < sizeof err.msg);
    /* aggregates over personal columns: small groups only for who sees the rows */
    d = ds(KHO_SHARING_SHARED, KHO_IMPORTANCE_OTHER, KHO_GRANT_NONE, true);
    r = kho_access_decide(&p, &d, KHO_ACT_READ);
    assert_true(r.mask);
    assert_false(kho_access_group_ok(&r, 4, 5));
    assert_true(kho_access_group_ok(&r, 5, 5));
    assert_true(kho_access_group_ok(&r, 1000, 5));
    assert_false(kho_access_group_ok(&r, 0, 5));
    p = caller(C_ADMIN);
    r = kho_access_decide(&p, &d, KHO_ACT_READ);
    assert_false(r.mask);
    assert_true(kho_access_group_ok(&r, 1, 5));
}

/* ---- grants on a database ----------------------------------------------------------------- */

static void store_close_v(void *p)
{
    kho_store_close(p);
}

static void jdecref(void *p)
{
    json_decref(p);
}

static void grants_free_v(void *p)
{
    kho_grants_free(p);
    free(p);
}

static kho_store_t *W;

static void exec_sql(const char *sql)
{
    kho_err_t err;
    if (kho_store_exec(W, sql, &err) != 0)
        fail_msg("%s: %s", sql, err.msg);
}

static int64_t query_int(const char *sql)
{
    int64_t v = -1;
    kho_err_t err;
    if (kho_store_query_int(W, sql, &v, &err) != 0)
        fail_msg("%s: %s", sql, err.msg);
    return v;
}

/* A database with organisations, accounts (made by SQL: no password needed
 * here) and datasets. */
static void open_fixture(void)
{
    const char *dir = kt_tmpdir("access");
    char path[256];
    snprintf(path, sizeof path, "%s/kho.db", dir);
    kho_err_t err = {0};
    if (kho_store_open(path, KHO_STORE_CREATE, NULL, &W, &err) != 0 || kho_schema_migrate(W, &err) != 0)
        fail_msg("database: %s", err.msg);
    kt_defer(store_close_v, W);
    exec_sql("INSERT INTO organisations(id, slug, name, created_at) VALUES"
             " (1, 'so-y-te', 'Sở Y tế', '2025-01-01'), (2, 'so-tai-chinh', 'Sở Tài chính', '2025-01-01'),"
             " (5, 'doi-tac', 'Đối tác', '2025-01-01');"
             "INSERT INTO users(id, name, role, org_id, password_hash, created_at, updated_at) VALUES"
             " (10, 'an', 'analyst', NULL, 'x', '2025-01-01', '2025-01-01'),"
             " (11, 'binh', 'partner', 5, 'x', '2025-01-01', '2025-01-01'),"
             " (12, 'chi', 'partner', 5, 'x', '2025-01-01', '2025-01-01'),"
             " (13, 'dung', 'steward', 1, 'x', '2025-01-01', '2025-01-01');"
             "INSERT INTO datasets(id, slug, org_id, title, sharing, importance, created_at, updated_at) VALUES"
             " (1, 'ho-ngheo', 1, 'Hộ nghèo', 'private', 'core', '2025-01-01', '2025-01-01'),"
             " (2, 'dan-so', 2, 'Dân số', 'shared', 'important', '2025-01-01', '2025-01-01'),"
             " (3, 'thoi-tiet', NULL, 'Thời tiết', 'open', 'other', '2025-01-01', '2025-01-01');");
}

static kho_principal_t account(int64_t id, const char *name, kho_role_t role, int64_t org)
{
    kho_principal_t p;
    kho_principal_public(&p);
    p.user_id = id;
    snprintf(p.user, sizeof p.user, "%s", name);
    p.role = role;
    p.org_id = org;
    p.scopes = kho_role_scopes(role);
    return p;
}

static kho_grants_t *load(const kho_principal_t *p)
{
    kho_grants_t *g = kt_defer(grants_free_v, calloc(1, sizeof *g));
    kho_err_t err;
    if (kho_grants_load(W, p, g, &err) != 0)
        fail_msg("grants_load: %s", err.msg);
    return g;
}

static json_t *list(const char *dataset)
{
    json_t *out = NULL;
    kho_err_t err;
    if (kho_grant_list(W, dataset, &out, &err) != 0)
        fail_msg("grant_list: %s", err.msg);
    kt_defer(jdecref, out);
    json_t *arr = json_object_get(out, "grants");
    assert_true(json_is_array(arr));
    return arr;
}

static void test_grants_add_list_remove(void **state)
{
    (void)state;
    open_fixture();
    kho_err_t err;
    assert_int_equal(json_array_size(list(NULL)), 0);
    assert_int_equal(kho_grant_add(W, "ho-ngheo", "user:an", false, &err), 0);
    json_t *g = list("ho-ngheo");
    assert_int_equal(json_array_size(g), 1);
    json_t *e = json_array_get(g, 0);
    assert_string_equal(json_string_value(json_object_get(e, "dataset")), "ho-ngheo");
    assert_string_equal(json_string_value(json_object_get(e, "grantee")), "user:an");
    assert_true(json_is_false(json_object_get(e, "pii")));
    assert_true(json_is_string(json_object_get(e, "created_at")));
    /* granting again updates pii, it does not add a second grant */
    assert_int_equal(kho_grant_add(W, "ho-ngheo", "user:an", true, &err), 0);
    g = list("ho-ngheo");
    assert_int_equal(json_array_size(g), 1);
    assert_true(json_is_true(json_object_get(json_array_get(g, 0), "pii")));
    assert_int_equal(kho_grant_add(W, "ho-ngheo", "user:an", false, &err), 0);
    g = list("ho-ngheo");
    assert_int_equal(json_array_size(g), 1);
    assert_true(json_is_false(json_object_get(json_array_get(g, 0), "pii")));
    /* to an organisation */
    assert_int_equal(kho_grant_add(W, "ho-ngheo", "org:doi-tac", false, &err), 0);
    assert_int_equal(kho_grant_add(W, "dan-so", "org:doi-tac", true, &err), 0);
    assert_int_equal(json_array_size(list("ho-ngheo")), 2);
    assert_int_equal(json_array_size(list("dan-so")), 1);
    assert_int_equal(json_array_size(list(NULL)), 3);
    assert_int_equal(json_array_size(list("thoi-tiet")), 0);
    assert_int_equal(json_array_size(list("no-such")), 0);
    bool saw_org = false;
    size_t i;
    json_array_foreach(list("ho-ngheo"), i, e) saw_org |=
        strcmp(json_string_value(json_object_get(e, "grantee")), "org:doi-tac") == 0;
    assert_true(saw_org);
    /* remove */
    assert_int_equal(kho_grant_remove(W, "ho-ngheo", "user:an", &err), 0);
    assert_int_equal(json_array_size(list("ho-ngheo")), 1);
    assert_int_equal(kho_grant_remove(W, "ho-ngheo", "user:an", &err), KHO_ENOTFOUND);
    assert_int_equal(kho_grant_remove(W, "thoi-tiet", "org:doi-tac", &err), KHO_ENOTFOUND);
    assert_int_equal(kho_grant_remove(W, "ho-ngheo", "org:doi-tac", &err), 0);
    assert_int_equal(json_array_size(list("ho-ngheo")), 0);
    assert_int_equal(json_array_size(list(NULL)), 1);
}

static void test_grants_refused(void **state)
{
    (void)state;
    open_fixture();
    kho_err_t err;
    static const char *const bad_grantees[] = {"an", "", "user", "org", "group:x", "User:an", " user:an",
                                               "user;an", "user/an"};
    for (size_t i = 0; i < sizeof bad_grantees / sizeof bad_grantees[0]; i++) {
        memset(&err, 0, sizeof err);
        if (kho_grant_add(W, "ho-ngheo", bad_grantees[i], false, &err) != KHO_EINVAL)
            fail_msg("grantee '%s' was accepted (%s)", bad_grantees[i], err.msg);
    }
    static const char *const unknown[] = {"user:", "org:", "user:nobody", "org:nowhere", "user:an ",
                                          "user:an' OR '1'='1", "org:so-y-te' --", "user:AN"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        memset(&err, 0, sizeof err);
        if (kho_grant_add(W, "ho-ngheo", unknown[i], false, &err) != KHO_ENOTFOUND)
            fail_msg("grantee '%s' was not reported unknown (%d %s)", unknown[i], err.code, err.msg);
    }
    assert_int_equal(kho_grant_add(W, "no-such", "user:an", false, &err), KHO_ENOTFOUND);
    assert_int_equal(kho_grant_add(W, "", "user:an", false, &err), KHO_ENOTFOUND);
    assert_int_equal(kho_grant_add(W, "ho-ngheo' OR '1'='1", "user:an", false, &err), KHO_ENOTFOUND);
    assert_int_equal(kho_grant_remove(W, "no-such", "user:an", &err), KHO_ENOTFOUND);
    assert_int_equal(kho_grant_remove(W, "ho-ngheo", "user:nobody", &err), KHO_ENOTFOUND);
    assert_int_equal(kho_grant_remove(W, "ho-ngheo", "nobody", &err), KHO_EINVAL);
    /* nothing was written, and the connection is usable (no transaction left open) */
    assert_int_equal(query_int("SELECT count(*) FROM grants"), 0);
    assert_false(kho_store_in_transaction(W));
    assert_int_equal(kho_grant_add(W, "ho-ngheo", "user:an", false, &err), 0);
}

static void test_grants_load_and_facts(void **state)
{
    (void)state;
    open_fixture();
    kho_err_t err;
    assert_int_equal(kho_grant_add(W, "ho-ngheo", "org:doi-tac", false, &err), 0); /* binh and chi */
    assert_int_equal(kho_grant_add(W, "ho-ngheo", "user:binh", true, &err), 0);    /* binh: more */
    assert_int_equal(kho_grant_add(W, "dan-so", "user:chi", false, &err), 0);
    kho_principal_t an = account(10, "an", KHO_ROLE_ANALYST, 0);
    kho_principal_t binh = account(11, "binh", KHO_ROLE_PARTNER, 5);
    kho_principal_t chi = account(12, "chi", KHO_ROLE_PARTNER, 5);
    kho_principal_t dung = account(13, "dung", KHO_ROLE_STEWARD, 1);
    kho_principal_t anon;
    kho_principal_public(&anon);
    kho_grants_t *g = load(&binh);
    assert_int_equal(kho_grants_level(g, 1), KHO_GRANT_PII); /* the best of user and organisation grants */
    assert_int_equal(kho_grants_level(g, 2), KHO_GRANT_NONE);
    assert_int_equal(kho_grants_level(g, 3), KHO_GRANT_NONE);
    assert_int_equal(kho_grants_level(g, 999), KHO_GRANT_NONE);
    assert_int_equal(kho_grants_level(g, 0), KHO_GRANT_NONE);
    assert_int_equal(kho_grants_level(g, -1), KHO_GRANT_NONE);
    g = load(&chi);
    assert_int_equal(kho_grants_level(g, 1), KHO_GRANT_READ);
    assert_int_equal(kho_grants_level(g, 2), KHO_GRANT_READ);
    g = load(&an);
    assert_int_equal(g->n, 0);
    assert_int_equal(kho_grants_level(g, 1), KHO_GRANT_NONE);
    g = load(&anon);
    assert_int_equal(g->n, 0);
    assert_int_equal(kho_grants_level(g, 1), KHO_GRANT_NONE);
    g = load(&dung);
    assert_int_equal(kho_grants_level(g, 1), KHO_GRANT_NONE);
    /* facts */
    kho_dsfacts_t f;
    memset(&f, 0x5A, sizeof f);
    assert_int_equal(kho_access_facts(W, &binh, "ho-ngheo", &f, &err), 0);
    assert_int_equal(f.id, 1);
    assert_int_equal(f.sharing, KHO_SHARING_PRIVATE);
    assert_int_equal(f.importance, KHO_IMPORTANCE_CORE);
    assert_int_equal(f.org_id, 1);
    assert_int_equal(f.grant, KHO_GRANT_PII);
    assert_false(f.personal);
    assert_int_equal(kho_access_facts(W, &chi, "ho-ngheo", &f, &err), 0);
    assert_int_equal(f.grant, KHO_GRANT_READ);
    assert_int_equal(kho_access_facts(W, &an, "ho-ngheo", &f, &err), 0);
    assert_int_equal(f.grant, KHO_GRANT_NONE);
    assert_int_equal(kho_access_facts(W, &anon, "ho-ngheo", &f, &err), 0);
    assert_int_equal(f.grant, KHO_GRANT_NONE);
    assert_int_equal(kho_access_facts(W, &chi, "dan-so", &f, &err), 0);
    assert_int_equal(f.sharing, KHO_SHARING_SHARED);
    assert_int_equal(f.importance, KHO_IMPORTANCE_IMPORTANT);
    assert_int_equal(f.org_id, 2);
    assert_int_equal(f.grant, KHO_GRANT_READ);
    assert_int_equal(kho_access_facts(W, &an, "thoi-tiet", &f, &err), 0);
    assert_int_equal(f.sharing, KHO_SHARING_OPEN);
    assert_int_equal(f.importance, KHO_IMPORTANCE_OTHER);
    assert_int_equal(f.org_id, 0);
    assert_int_equal(kho_access_facts(W, &an, "no-such", &f, &err), KHO_ENOTFOUND);
    assert_int_equal(kho_access_facts(W, &an, "", &f, &err), KHO_ENOTFOUND);
    assert_int_equal(kho_access_facts(W, &an, "ho-ngheo' OR '1'='1", &f, &err), KHO_ENOTFOUND);
    /* the facts feed the decision: a partner reads the private dataset through its grant */
    assert_int_equal(kho_access_facts(W, &chi, "ho-ngheo", &f, &err), 0);
    f.personal = true;
    kho_decision_t d = kho_access_decide(&chi, &f, KHO_ACT_READ);
    assert_int_equal(d.code, 0);
    assert_true(d.mask);
    assert_true(d.audit);
    assert_int_equal(kho_access_facts(W, &an, "ho-ngheo", &f, &err), 0);
    assert_int_equal(kho_access_decide(&an, &f, KHO_ACT_READ).code, KHO_ENOTFOUND);
    /* a removed grant is gone from facts and loads at once */
    assert_int_equal(kho_grant_remove(W, "ho-ngheo", "org:doi-tac", &err), 0);
    assert_int_equal(kho_access_facts(W, &chi, "ho-ngheo", &f, &err), 0);
    assert_int_equal(f.grant, KHO_GRANT_NONE);
    assert_int_equal(kho_grants_level(load(&chi), 1), KHO_GRANT_NONE);
    assert_int_equal(kho_grants_level(load(&binh), 1), KHO_GRANT_PII);
}

static void test_grants_many(void **state)
{
    (void)state;
    open_fixture();
    /* 300 more datasets, a grant on every third (pii on every ninth) */
    exec_sql("WITH RECURSIVE n(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM n WHERE i < 399)"
             " INSERT INTO datasets(id, slug, title, sharing, created_at, updated_at)"
             " SELECT i, 'ds-' || i, 'DS ' || i, 'private', '2025', '2025' FROM n;"
             "WITH RECURSIVE n(i) AS (SELECT 100 UNION ALL SELECT i + 3 FROM n WHERE i + 3 <= 399)"
             " INSERT INTO grants(dataset_id, user_id, pii, created_at)"
             " SELECT i, 10, i % 9 = 1, '2025' FROM n;");
    kho_principal_t an = account(10, "an", KHO_ROLE_ANALYST, 0);
    kho_grants_t *g = load(&an);
    assert_int_equal(g->n, 100);
    for (int64_t id = 0; id < 450; id++) {
        kho_grant_t want = KHO_GRANT_NONE;
        if (id >= 100 && id <= 399 && (id - 100) % 3 == 0)
            want = id % 9 == 1 ? KHO_GRANT_PII : KHO_GRANT_READ;
        if (kho_grants_level(g, id) != want)
            fail_msg("dataset %lld: grant %d, expected %d", (long long)id, kho_grants_level(g, id), want);
    }
    kho_grants_t empty = {0};
    assert_int_equal(kho_grants_level(&empty, 1), KHO_GRANT_NONE);
}

int main(void)
{
    kho_log_set_level(KHO_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_decide_cases, kt_cleanup),
        cmocka_unit_test_teardown(test_decide_matrix, kt_cleanup),
        cmocka_unit_test_teardown(test_decide_invariants, kt_cleanup),
        cmocka_unit_test_teardown(test_decide_new_dataset, kt_cleanup),
        cmocka_unit_test_teardown(test_parse_classes, kt_cleanup),
        cmocka_unit_test_teardown(test_refuse_and_group, kt_cleanup),
        cmocka_unit_test_teardown(test_grants_add_list_remove, kt_cleanup),
        cmocka_unit_test_teardown(test_grants_refused, kt_cleanup),
        cmocka_unit_test_teardown(test_grants_load_and_facts, kt_cleanup),
        cmocka_unit_test_teardown(test_grants_many, kt_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
