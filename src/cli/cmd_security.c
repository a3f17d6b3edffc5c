/* cmd_security — accounts, keys, grants, classification, audit, backup and
 * restore on the command line (see cmd_security.h). */
#include "cli/cmd_security.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd_data.h"
#include "core/buf.h"
#include "core/version.h"
#include "security/access.h"
#include "security/audit.h"
#include "security/auth.h"
#include "security/keys.h"
#include "security/tlog.h"
#include "store/schema.h"
#include "warehouse/catalog.h"
#include "warehouse/datadir.h"

/* ---- helpers ------------------------------------------------------------------------ */

int kho_cli_audit(kho_cmdctx_t *ctx, const char *action, const char *target, json_t *details, kho_err_t *err)
{
    kho_audit_t *a = NULL;
    int rc = kho_audit_open(ctx->datadir, ctx->cfg, false, false, &a, err);
    if (rc != 0) {
        json_decref(details);
        kho_err_prefix(err, "audit log");
        return rc;
    }
    struct passwd *pw = getpwuid(geteuid());
    char actor[96];
    snprintf(actor, sizeof actor, "cli:%s", pw && pw->pw_name ? pw->pw_name : "?");
    kho_audit_who_t who = {actor, "operator", "cli", NULL};
    rc = kho_audit_record(a, &who, action, target, details);
    kho_audit_close(a);
    if (rc != 0)
        return kho_err_set(err, KHO_EIO, "the audit log cannot be written (see the message above): nothing was done "
                                         "that would go unrecorded");
    return 0;
}

static const char *subcommand(kho_cmdctx_t *ctx)
{
    return ctx->args->npos > 0 ? ctx->args->pos[0] : "";
}

static int want_args(kho_cmdctx_t *ctx, size_t n, const char *usage, kho_err_t *err)
{
    if (ctx->args->npos != n)
        return kho_err_set(err, KHO_EUSAGE, "usage: %s", usage);
    return 0;
}

/* Read a password: at a terminal, twice without echo; otherwise one line of
 * standard input. Never from the command line. out has size bytes. */
static int read_password(const char *prompt, char *out, size_t size, kho_err_t *err)
{
    bool tty = isatty(STDIN_FILENO);
    char again[1100];
    for (int round = 0; round < (tty ? 2 : 1); round++) {
        char *buf = round == 0 ? out : again;
        size_t bsz = round == 0 ? size : sizeof again;
        struct termios old, quiet;
        if (tty) {
            fprintf(stderr, "%s", round == 0 ? prompt : "Again: ");
            tcgetattr(STDIN_FILENO, &old);
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
        bool got = fgets(buf, (int)bsz, stdin) != NULL;
        if (tty) {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
            fputc('\n', stderr);
        }
        if (!got)
            return kho_err_set(err, KHO_EUSAGE, "no password given (type it, or send one line on standard input)");
        buf[strcspn(buf, "\r\n")] = '\0';
    }
    if (tty && strcmp(out, again) != 0) {
        sodium_memzero(again, sizeof again);
        return kho_err_set(err, KHO_EUSAGE, "the two passwords differ");
    }
    sodium_memzero(again, sizeof again);
    return 0;
}

static int open_writer(kho_cmdctx_t *ctx, kho_store_t **w, kho_err_t *err)
{
    return kho_datadir_open(ctx->datadir, ctx->cfg, false, w, err);
}

/* ---- kho user ----------------------------------------------------------------------- */

static int user_list(kho_cmdctx_t *ctx, kho_err_t *err)
{
    kho_store_t *s = NULL;
    json_t *out = NULL;
    int rc = kho_datadir_open(ctx->datadir, ctx->cfg, true, &s, err);
    if (rc == 0)
        rc = kho_user_list(s, &out, err);
    if (rc == 0 && kho_args_flag(ctx->args, "json"))
        kho_cmd_print_json(out);
    else if (rc == 0) {
        json_t *users = json_object_get(out, "users"), *u;
        size_t i;
        printf("%-24s %-8s %-24s %-9s %s\n", "NAME", "ROLE", "ORGANISATION", "STATE", "CREATED");
        json_array_foreach(users, i, u)
        {
            const char *org = json_string_value(json_object_get(u, "org"));
            printf("%-24s %-8s %-24s %-9s %s\n", json_string_value(json_object_get(u, "name")),
                   json_string_value(json_object_get(u, "role")), org ? org : "-",
                   json_is_true(json_object_get(u, "disabled")) ? "disabled"
                   : json_is_true(json_object_get(u, "locked")) ? "locked"
                                                                 : "active",
                   json_string_value(json_object_get(u, "created_at")));
        }
        printf("%zu accounts\n", json_array_size(users));
    }
    json_decref(out);
    kho_store_close(s);
    return rc;
}

int kho_cmd_user(kho_cmdctx_t *ctx, kho_err_t *err)
{
    const char *sub = subcommand(ctx);
    if (strcmp(sub, "list") == 0)
        return user_list(ctx, err);
    int rc;
    char password[1100] = "";
    kho_store_t *w = NULL;
    if (strcmp(sub, "add") == 0) {
        if ((rc = want_args(ctx, 2, "kho user add NAME --role ROLE [--org ORG]", err)) != 0)
            return rc;
        const char *name = ctx->args->pos[1], *role = kho_args_get(ctx->args, "role");
        const char *org = kho_args_get(ctx->args, "org");
        int r = role ? kho_role_parse(role) : -1;
        if (r < 0)
            return kho_err_set(err, KHO_EUSAGE, "--role must be admin, steward, analyst, leader or partner");
        if ((rc = read_password("Password for the new account: ", password, sizeof password, err)) == 0 &&
            (rc = kho_password_policy(name, password, err)) == 0 &&
            (rc = kho_cli_audit(ctx, "user_add", name, json_pack("{s:s,s:s?}", "role", role, "org", org), err)) == 0 &&
            (rc = open_writer(ctx, &w, err)) == 0 && (rc = kho_user_add(w, name, (kho_role_t)r, org, password, err)) == 0)
            printf("kho: account %s (%s%s%s) created\n", name, role, org ? ", " : "", org ? org : "");
    } else if (strcmp(sub, "passwd") == 0) {
        if ((rc = want_args(ctx, 2, "kho user passwd NAME", err)) != 0)
            return rc;
        const char *name = ctx->args->pos[1];
        if ((rc = read_password("New password: ", password, sizeof password, err)) == 0 &&
            (rc = kho_password_policy(name, password, err)) == 0 &&
            (rc = kho_cli_audit(ctx, "user_change", name, json_pack("{s:b}", "password_changed", 1), err)) == 0 &&
            (rc = open_writer(ctx, &w, err)) == 0 && (rc = kho_user_passwd(w, name, password, err)) == 0)
            printf("kho: password of %s changed; its sessions have ended\n", name);
    } else if (strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0) {
        bool off = sub[0] == 'd';
        if ((rc = want_args(ctx, 2, off ? "kho user disable NAME" : "kho user enable NAME", err)) != 0)
            return rc;
        const char *name = ctx->args->pos[1];
        if ((rc = kho_cli_audit(ctx, "user_change", name, json_pack("{s:b}", "disabled", off), err)) == 0 &&
            (rc = open_writer(ctx, &w, err)) == 0 && (rc = kho_user_set_disabled(w, name, off, err)) == 0)
            printf("kho: account %s %s\n", name, off ? "disabled (its sessions and keys stop working now)" : "enabled");
    } else
        return kho_err_set(err, KHO_EUSAGE, "kho user add|list|passwd|disable|enable (see 'kho help user')");
    sodium_memzero(password, sizeof password);
    kho_store_close(w);
    return rc;
}

/* ---- kho key / kho keys ------------------------------------------------------------- */

static int key_list(kho_cmdctx_t *ctx, kho_err_t *err)
{
    kho_store_t *s = NULL;
    json_t *out = NULL;
    int rc = kho_datadir_open(ctx->datadir, ctx->cfg, true, &s, err);
    if (rc == 0)
        rc = kho_key_list(s, kho_args_get(ctx->args, "user"), &out, err);
    if (rc == 0 && kho_args_flag(ctx->args, "json"))
        kho_cmd_print_json(out);
    else if (rc == 0) {
        json_t *keys = json_object_get(out, "keys"), *k;
        size_t i;
        printf("%5s %-16s %-14s %-44s %-10s %s\n", "ID", "USER", "PREFIX", "SCOPES", "EXPIRES", "STATE");
        json_array_foreach(keys, i, k)
        {
            const char *exp = json_string_value(json_object_get(k, "expires_at"));
            bool revoked = json_is_string(json_object_get(k, "revoked_at"));
            printf("%5lld %-16s %-14s %-44s %-10.10s %s\n", (long long)json_integer_value(json_object_get(k, "id")),
                   json_string_value(json_object_get(k, "user")), json_string_value(json_object_get(k, "prefix")),
                   json_string_value(json_object_get(k, "scopes")), exp ? exp : "?",
                   revoked ? "revoked" : json_is_true(json_object_get(k, "active")) ? "active" : "expired");
        }
        printf("%zu keys\n", json_array_size(keys));
    }
    json_decref(out);
    kho_store_close(s);
    return rc;
}

int kho_cmd_key(kho_cmdctx_t *ctx, kho_err_t *err)
{
    const char *sub = subcommand(ctx);
    if (strcmp(sub, "list") == 0)
        return key_list(ctx, err);
    kho_store_t *w = NULL;
    int rc;
    if (strcmp(sub, "create") == 0) {
        const char *user = kho_args_get(ctx->args, "user"), *scopes = kho_args_get(ctx->args, "scopes");
        const char *expires = kho_args_get(ctx->args, "expires");
        if (ctx->args->npos != 1 || !user || !scopes)
            return kho_err_set(err, KHO_EUSAGE, "usage: kho key create --user NAME --scopes S1,S2 [--expires DATE]");
        unsigned sc = 0;
        int64_t exp = 0, id = 0;
        char key[64];
        if ((rc = kho_scopes_parse(scopes, &sc, err)) != 0 ||
            (expires && (rc = kho_expiry_parse(expires, &exp, err)) != 0))
            return rc == KHO_EINVAL ? (err->code = KHO_EUSAGE) : rc;
        if ((rc = open_writer(ctx, &w, err)) == 0 &&
            (rc = kho_key_create(w, user, sc, &exp, kho_args_get(ctx->args, "name"),
                                 (int)kho_config_int(ctx->cfg, "key_default_days"),
                                 (int)kho_config_int(ctx->cfg, "key_max_days"), key, &id, err)) == 0) {
            rc = kho_cli_audit(ctx, "key_create", user, json_pack("{s:I,s:s}", "key", (json_int_t)id, "scopes", scopes),
                               err);
            if (rc != 0) { /* unrecorded: take it back */
                kho_err_t e2;
                if (kho_key_revoke(w, id, 0, &e2) != 0)
                    fprintf(stderr, "kho: could not revoke key %lld either: %s\n", (long long)id, e2.msg);
            } else {
                printf("%s\n", key);
                fprintf(stderr, "kho: key %lld for %s (%s). It is shown only now: store it safely.\n",
                        (long long)id, user, scopes);
            }
            sodium_memzero(key, sizeof key);
        }
    } else if (strcmp(sub, "revoke") == 0) {
        if ((rc = want_args(ctx, 2, "kho key revoke ID", err)) != 0)
            return rc;
        char *end;
        long long id = strtoll(ctx->args->pos[1], &end, 10);
        if (*end || id < 1)
            return kho_err_set(err, KHO_EUSAGE, "a key id is a number (see 'kho key list')");
        if ((rc = kho_cli_audit(ctx, "key_revoke", NULL, json_pack("{s:I}", "key", (json_int_t)id), err)) == 0 &&
            (rc = open_writer(ctx, &w, err)) == 0 && (rc = kho_key_revoke(w, id, 0, err)) == 0)
            printf("kho: key %lld revoked: it stops working with the next request\n", id);
    } else
        return kho_err_set(err, KHO_EUSAGE, "kho key create|list|revoke (see 'kho help key')");
    kho_store_close(w);
    return rc;
}

int kho_cmd_keys(kho_cmdctx_t *ctx, kho_err_t *err)
{
    if (strcmp(subcommand(ctx), "rotate") != 0 || ctx->args->npos != 1)
        return kho_err_set(err, KHO_EUSAGE, "usage: kho keys rotate [--data-key]");
    bool data_key = kho_args_flag(ctx->args, "data-key");
    kho_store_t *w = NULL;
    int rc = kho_cli_audit(ctx, "keys_rotate", NULL, json_pack("{s:b}", "data_key", data_key), err);
    if (rc == 0)
        rc = open_writer(ctx, &w, err);
    if (rc == 0)
        rc = kho_keyring_rotate(ctx->datadir, w, data_key, err);
    if (rc == 0)
        printf("kho: data keys re-wrapped under a new master key%s; back up %s/keys/master.key now\n",
               data_key ? " and a new data key is active for new values" : "", ctx->datadir);
    kho_store_close(w);
    return rc;
}

/* ---- grants and classification ---------------------------------------------------------- */

int kho_cmd_grant(kho_cmdctx_t *ctx, kho_err_t *err)
{
    const char *sub = subcommand(ctx);
    kho_store_t *w = NULL;
    int rc;
    if (strcmp(sub, "list") == 0) {
        json_t *out = NULL;
        if (ctx->args->npos > 2)
            return kho_err_set(err, KHO_EUSAGE, "usage: kho grant list [DATASET]");
        if ((rc = kho_datadir_open(ctx->datadir, ctx->cfg, true, &w, err)) == 0 &&
            (rc = kho_grant_list(w, ctx->args->npos == 2 ? ctx->args->pos[1] : NULL, &out, err)) == 0) {
            if (kho_args_flag(ctx->args, "json"))
                kho_cmd_print_json(out);
            else {
                json_t *g;
                size_t i;
                json_array_foreach(json_object_get(out, "grants"), i, g)
                printf("%-32s %-32s %s\n", json_string_value(json_object_get(g, "dataset")),
                       json_string_value(json_object_get(g, "grantee")),
                       json_is_true(json_object_get(g, "pii")) ? "with personal data" : "masked personal data");
            }
        }
        json_decref(out);
    } else if (strcmp(sub, "add") == 0 || strcmp(sub, "remove") == 0) {
        bool add = sub[0] == 'a';
        if ((rc = want_args(ctx, 3, add ? "kho grant add DATASET user:NAME|org:ORG [--pii]"
                                        : "kho grant remove DATASET user:NAME|org:ORG",
                            err)) != 0)
            return rc;
        const char *ds = ctx->args->pos[1], *who = ctx->args->pos[2];
        bool pii = kho_args_flag(ctx->args, "pii");
        if ((rc = kho_cli_audit(ctx, add ? "grant" : "revoke_grant", ds,
                                json_pack("{s:s,s:b}", "grantee", who, "pii", pii), err)) == 0 &&
            (rc = open_writer(ctx, &w, err)) == 0 &&
            (rc = add ? kho_grant_add(w, ds, who, pii, err) : kho_grant_remove(w, ds, who, err)) == 0)
            printf("kho: %s %s %s%s\n", who, add ? "may now read" : "may no longer read", ds,
                   add && pii ? " (personal data unmasked with pii:read)" : "");
    } else
        return kho_err_set(err, KHO_EUSAGE, "kho grant add|remove|list (see 'kho help grant')");
    kho_store_close(w);
    return rc;
}

int kho_cmd_classify(kho_cmdctx_t *ctx, kho_err_t *err)
{
    kho_dataset_meta_t meta = KHO_DATASET_META_INIT;
    meta.sharing = kho_args_get(ctx->args, "sharing");
    meta.importance = kho_args_get(ctx->args, "importance");
    if (ctx->args->npos != 1 || (!meta.sharing && !meta.importance))
        return kho_err_set(err, KHO_EUSAGE,
                           "usage: kho classify ID [--sharing open|shared|private] [--importance core|important|other]");
    int rc = kho_catalog_check_meta(&meta, err);
    if (rc != 0)
        return rc == KHO_EINVAL ? (err->code = KHO_EUSAGE) : rc;
    const char *id = ctx->args->pos[0];
    kho_store_t *w = NULL;
    int64_t dsid;
    if ((rc = open_writer(ctx, &w, err)) == 0 && (rc = kho_catalog_find(w, id, &dsid, err)) == 0 &&
        (rc = kho_cli_audit(ctx, "classify", id,
                            json_pack("{s:s?,s:s?}", "sharing", meta.sharing, "importance", meta.importance), err)) == 0 &&
        (rc = kho_store_begin(w, true, err)) == 0) {
        rc = kho_catalog_put_dataset(w, id, &meta, &dsid, NULL, err);
        if (rc == 0)
            rc = kho_store_commit(w, err);
        else
            kho_store_rollback(w);
    }
    if (rc == 0) {
        printf("kho: %s is now%s%s%s%s\n", id, meta.sharing ? " sharing " : "", meta.sharing ? meta.sharing : "",
               meta.importance ? ", importance " : "", meta.importance ? meta.importance : "");
        if (meta.importance && strcmp(meta.importance, "other") != 0)
            printf("  versions already stored keep their storage: personal columns are encrypted from the next "
                   "import on\n");
    }
    kho_store_close(w);
    return rc;
}

/* ---- kho audit ------------------------------------------------------------------------ */

static int open_log(kho_cmdctx_t *ctx, kho_tlog_t **log, unsigned char pk[32], kho_err_t *err)
{
    char keypath[PATH_MAX], dbpath[PATH_MAX];
    unsigned char seed[32];
    kho_keyfile_path(ctx->datadir, "audit.key", keypath, sizeof keypath);
    snprintf(dbpath, sizeof dbpath, "%s/audit.db", ctx->datadir);
    if (access(dbpath, F_OK) != 0)
        return kho_err_set(err, KHO_ENOTFOUND, "%s does not exist (run kho init)", dbpath);
    int rc = kho_keyfile_read(keypath, seed, sizeof seed, err);
    if (rc != 0)
        return rc;
    kho_tlog_public_key(seed, pk);
    sodium_memzero(seed, sizeof seed);
    return kho_tlog_open(dbpath, kho_config_str(ctx->cfg, "audit_origin"), NULL, log, err);
}

static int audit_verify(kho_cmdctx_t *ctx, kho_err_t *err)
{
    kho_tlog_t *log = NULL;
    unsigned char pk[32];
    int rc = open_log(ctx, &log, pk, err);
    size_t problems = 0;
    if (rc == 0)
        rc = kho_tlog_verify(log, pk, stdout, &problems, err);
    if (rc == 0) {
        kho_buf_t note = KHO_BUF_INIT;
        uint64_t cp = 0;
        kho_err_t probe;
        bool have = kho_tlog_latest(log, &note, &cp, &probe) == 0;
        kho_buf_free(&note);
        if (problems)
            rc = kho_err_set(err, KHO_ETAMPER, "the audit log fails verification: %zu problems (listed above)",
                             problems);
        else
            printf("kho: audit log %s verified: %llu entries, every entry matches the tree and every checkpoint "
                   "(the latest at size %llu%s) is validly signed\n",
                   kho_tlog_origin(log), (unsigned long long)kho_tlog_size(log), (unsigned long long)cp,
                   have ? "" : ": none yet");
    }
    kho_tlog_close(log);
    return rc;
}

static int audit_show(kho_cmdctx_t *ctx, kho_err_t *err)
{
    kho_tlog_t *log = NULL;
    unsigned char pk[32];
    int rc = open_log(ctx, &log, pk, err);
    if (rc != 0)
        return rc;
    uint64_t size = kho_tlog_size(log);
    long limit = 20;
    const char *l = kho_args_get(ctx->args, "limit"), *f = kho_args_get(ctx->args, "from");
    if (l)
        limit = strtol(l, NULL, 10);
    uint64_t from = f ? strtoull(f, NULL, 10) : size > (uint64_t)limit ? size - (uint64_t)limit : 0;
    kho_buf_t b = KHO_BUF_INIT;
    for (uint64_t i = from; i < size && i < from + (uint64_t)limit && rc == 0; i++) {
        kho_buf_reset(&b);
        if ((rc = kho_tlog_entry(log, i, &b, err)) == 0)
            printf("%llu %.*s\n", (unsigned long long)i, (int)b.len, b.data ? b.data : "");
    }
    kho_buf_free(&b);
    kho_tlog_close(log);
    return rc;
}

int kho_cmd_audit(kho_cmdctx_t *ctx, kho_err_t *err)
{
    const char *sub = subcommand(ctx);
    if (strcmp(sub, "verify") == 0)
        return audit_verify(ctx, err);
    if (strcmp(sub, "show") == 0)
        return audit_show(ctx, err);
    if (strcmp(sub, "checkpoint") == 0 || strcmp(sub, "key") == 0) {
        kho_audit_t *a = NULL;
        int rc = kho_audit_open(ctx->datadir, ctx->cfg, false, false, &a, err);
        if (rc != 0)
            return rc;
        kho_buf_t note = KHO_BUF_INIT;
        if (sub[0] == 'k')
            printf("%s\n", kho_tlog_vkey(kho_audit_log(a)));
        else if ((rc = kho_tlog_checkpoint(kho_audit_log(a), &note, err)) == 0 ||
                 (rc = kho_tlog_latest(kho_audit_log(a), &note, NULL, err)) == 0)
            fwrite(note.data, 1, note.len, stdout);
        kho_buf_free(&note);
        kho_audit_close(a);
        return rc;
    }
    return kho_err_set(err, KHO_EUSAGE, "kho audit verify|show|checkpoint|key (see 'kho help audit')");
}

/* ---- backup and restore ------------------------------------------------------------------ */

static int sha256_file(const char *path, char hex[65], long long *bytes, kho_err_t *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return kho_err_set(err, KHO_EIO, "cannot read %s: %s", path, strerror(errno));
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    unsigned char buf[65536], md[32];
    size_t n;
    *bytes = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        crypto_hash_sha256_update(&st, buf, n);
        *bytes += (long long)n;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad)
        return kho_err_set(err, KHO_EIO, "cannot read %s", path);
    crypto_hash_sha256_final(&st, md);
    sodium_bin2hex(hex, 65, md, sizeof md);
    return 0;
}

static int copy_file(const char *from, const char *to, mode_t mode, kho_err_t *err)
{
    FILE *in = fopen(from, "rb");
    if (!in)
        return kho_err_set(err, KHO_EIO, "cannot read %s: %s", from, strerror(errno));
    int fd = open(to, O_WRONLY | O_CREAT | O_EXCL, mode);
    FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!out) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        fclose(in);
        return kho_err_set(err, KHO_EIO, "cannot create %s: %s", to, strerror(e));
    }
    char buf[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) {
            rc = kho_err_set(err, KHO_EIO, "cannot write %s: %s", to, strerror(errno));
            break;
        }
    if (rc == 0 && (fflush(out) != 0 || fsync(fileno(out)) != 0))
        rc = kho_err_set(err, KHO_EIO, "cannot write %s: %s", to, strerror(errno));
    fclose(in);
    fclose(out);
    return rc;
}

static const char *const KEY_FILES[] = {"master.key", "audit.key", "trace.key", NULL};

static int manifest_add(json_t *files, const char *dir, const char *name, kho_err_t *err)
{
    char path[PATH_MAX], hex[65];
    long long bytes;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = sha256_file(path, hex, &bytes, err);
    if (rc == 0)
        json_array_append_new(files, json_pack("{s:s,s:I,s:s}", "name", name, "bytes", (json_int_t)bytes, "sha256", hex));
    return rc;
}

int kho_cmd_backup(kho_cmdctx_t *ctx, kho_err_t *err)
{
    if (ctx->args->npos != 1)
        return kho_err_set(err, KHO_EUSAGE, "usage: kho backup DEST [--with-keys]");
    const char *dest = ctx->args->pos[0];
    bool keys = kho_args_flag(ctx->args, "with-keys");
    if (mkdir(dest, 0700) != 0)
        return kho_err_set(err, errno == EEXIST ? KHO_ECONFLICT : KHO_EIO, "cannot create %s: %s (give a new directory)",
                           dest, strerror(errno));
    kho_store_t *s = NULL, *a = NULL;
    char path[PATH_MAX];
    json_t *files = json_array();
    int rc = kho_datadir_open(ctx->datadir, ctx->cfg, true, &s, err);
    if (rc == 0 && (rc = kho_cli_audit(ctx, "backup", dest, json_pack("{s:b}", "with_keys", keys), err)) == 0) {
        snprintf(path, sizeof path, "%s/kho.db", dest);
        rc = kho_store_backup(s, path, err);
    }
    if (rc == 0)
        rc = manifest_add(files, dest, "kho.db", err);
    snprintf(path, sizeof path, "%s/audit.db", ctx->datadir);
    if (rc == 0 && (rc = kho_store_open(path, KHO_STORE_READONLY, NULL, &a, err)) == 0) {
        snprintf(path, sizeof path, "%s/audit.db", dest);
        if ((rc = kho_store_backup(a, path, err)) == 0)
            rc = manifest_add(files, dest, "audit.db", err);
    }
    kho_store_t *t = NULL; /* the traceability log, when this data directory has one */
    snprintf(path, sizeof path, "%s/trace.db", ctx->datadir);
    if (rc == 0 && access(path, F_OK) == 0 && (rc = kho_store_open(path, KHO_STORE_READONLY, NULL, &t, err)) == 0) {
        snprintf(path, sizeof path, "%s/trace.db", dest);
        if ((rc = kho_store_backup(t, path, err)) == 0)
            rc = manifest_add(files, dest, "trace.db", err);
    }
    kho_store_close(t);
    char from[PATH_MAX];
    snprintf(from, sizeof from, "%s/kho.conf", ctx->datadir);
    snprintf(path, sizeof path, "%s/kho.conf", dest);
    if (rc == 0 && access(from, F_OK) == 0 && (rc = copy_file(from, path, 0600, err)) == 0)
        rc = manifest_add(files, dest, "kho.conf", err);
    if (rc == 0 && keys) {
        snprintf(path, sizeof path, "%s/keys", dest);
        if (mkdir(path, 0700) != 0)
            rc = kho_err_set(err, KHO_EIO, "cannot create %s: %s", path, strerror(errno));
        for (size_t i = 0; rc == 0 && KEY_FILES[i]; i++) {
            char to[PATH_MAX + 32], name[64];
            kho_keyfile_path(ctx->datadir, KEY_FILES[i], from, sizeof from);
            if (!strcmp(KEY_FILES[i], "trace.key") && access(from, F_OK) != 0)
                continue; /* made by the first `kho serve` or `kho init` of a version with traceability */
            snprintf(to, sizeof to, "%s/%s", path, KEY_FILES[i]);
            snprintf(name, sizeof name, "keys/%s", KEY_FILES[i]);
            if ((rc = copy_file(from, to, 0600, err)) == 0)
                rc = manifest_add(files, dest, name, err);
        }
    }
    if (rc == 0) {
        char now[32];
        kho_catalog_now(now);
        json_t *m = json_pack("{s:s,s:s,s:i,s:s,s:b,s:O}", "kho", KHO_VERSION, "created_at", now, "schema",
                              kho_schema_latest(), "data_directory", ctx->datadir, "with_keys", keys, "files", files);
        snprintf(path, sizeof path, "%s/MANIFEST.json", dest);
        if (json_dump_file(m, path, JSON_INDENT(2)) != 0)
            rc = kho_err_set(err, KHO_EIO, "cannot write %s", path);
        json_decref(m);
    }
    if (rc == 0)
        printf("kho: backup of %s written to %s (%zu files)%s\n", ctx->datadir, dest, json_array_size(files),
               keys ? "\n  it holds the key files: keep it as safe as the keys themselves"
                    : "\n  without the key files: keep a copy of DATA/keys/ elsewhere (see docs/security.md)");
    json_decref(files);
    kho_store_close(a);
    kho_store_close(s);
    return rc;
}

/* Check every file of a backup against its manifest. */
static int check_backup(const char *src, json_t **manifest, kho_err_t *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/MANIFEST.json", src);
    json_error_t je;
    json_t *m = json_load_file(path, 0, &je);
    if (!m)
        return kho_err_set(err, KHO_EINVAL, "%s: %s (line %d)", path, je.text, je.line);
    json_t *f;
    size_t i;
    int rc = 0;
    json_array_foreach(json_object_get(m, "files"), i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *want = json_string_value(json_object_get(f, "sha256"));
        char hex[65];
        long long bytes;
        if (!name || !want || strstr(name, "..") || name[0] == '/') {
            rc = kho_err_set(err, KHO_EINVAL, "%s: a file entry is malformed", path);
            break;
        }
        snprintf(path, sizeof path, "%s/%s", src, name);
        if ((rc = sha256_file(path, hex, &bytes, err)) != 0)
            break;
        if (strcmp(hex, want) != 0) {
            rc = kho_err_set(err, KHO_ETAMPER, "%s does not match the backup's manifest (damaged or altered)", path);
            break;
        }
    }
    if (rc != 0) {
        json_decref(m);
        return rc;
    }
    *manifest = m;
    return 0;
}

int kho_cmd_restore(kho_cmdctx_t *ctx, kho_err_t *err)
{
    if (ctx->args->npos != 1)
        return kho_err_set(err, KHO_EUSAGE, "usage: kho restore SRC [--force]");
    const char *src = ctx->args->pos[0];
    json_t *m = NULL;
    int rc = check_backup(src, &m, err);
    if (rc != 0)
        return rc;
    char path[PATH_MAX], aside[PATH_MAX + 64] = "";
    snprintf(path, sizeof path, "%s/kho.db", ctx->datadir);
    if (access(path, F_OK) == 0) {
        if (!kho_args_flag(ctx->args, "force")) {
            json_decref(m);
            return kho_err_set(err, KHO_ECONFLICT,
                               "%s already holds a database: stop kho serve, then give --force (the current files are "
                               "moved to %s/pre-restore-TIME/)",
                               ctx->datadir, ctx->datadir);
        }
        snprintf(aside, sizeof aside, "%s/pre-restore-%lld", ctx->datadir, (long long)time(NULL));
        if (mkdir(aside, 0700) != 0)
            rc = kho_err_set(err, KHO_EIO, "cannot create %s: %s", aside, strerror(errno));
        static const char *const moved[] = {"kho.db",   "kho.db-wal",   "kho.db-shm",   "audit.db", "audit.db-wal",
                                            "audit.db-shm", "trace.db", "trace.db-wal", "trace.db-shm", NULL};
        for (size_t i = 0; rc == 0 && moved[i]; i++) {
            char a[PATH_MAX], b[PATH_MAX + 80];
            snprintf(a, sizeof a, "%s/%s", ctx->datadir, moved[i]);
            snprintf(b, sizeof b, "%s/%s", aside, moved[i]);
            if (access(a, F_OK) == 0 && rename(a, b) != 0)
                rc = kho_err_set(err, KHO_EIO, "cannot move %s aside: %s", a, strerror(errno));
        }
    } else if ((rc = kho_datadir_create(ctx->datadir, err)) != 0) {
        json_decref(m);
        return rc;
    }
    json_t *f;
    size_t i;
    bool keys_restored = false;
    json_array_foreach(json_object_get(m, "files"), i, f)
    {
        if (rc != 0)
            break;
        const char *name = json_string_value(json_object_get(f, "name"));
        char from[PATH_MAX], to[PATH_MAX];
        snprintf(from, sizeof from, "%s/%s", src, name);
        snprintf(to, sizeof to, "%s/%s", ctx->datadir, name);
        if (strcmp(name, "kho.conf") == 0 && access(to, F_OK) == 0)
            continue; /* the settings in place win */
        if (strncmp(name, "keys/", 5) == 0) {
            char dir[PATH_MAX];
            snprintf(dir, sizeof dir, "%s/keys", ctx->datadir);
            if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                rc = kho_err_set(err, KHO_EIO, "cannot create %s: %s", dir, strerror(errno));
                break;
            }
            unlink(to);
            keys_restored = true;
        }
        rc = copy_file(from, to, 0600, err);
    }
    json_decref(m);
    if (rc != 0)
        return rc;
    unsigned char probe[32];
    char keypath[PATH_MAX];
    kho_keyfile_path(ctx->datadir, "master.key", keypath, sizeof keypath);
    kho_err_t e2;
    bool have_keys = kho_keyfile_read(keypath, probe, sizeof probe, &e2) == 0;
    sodium_memzero(probe, sizeof probe);
    printf("kho: restored %s into %s%s%s\n", src, ctx->datadir, aside[0] ? "; the previous files are in " : "", aside);
    if (!have_keys)
        printf("  the key files are missing: copy your key backup into %s/keys/ (mode 0600) before serving, or "
               "encrypted columns cannot be read and the audit log cannot be signed\n",
               ctx->datadir);
    else if (!keys_restored)
        printf("  the key files in %s/keys/ were kept: they must be the ones this backup was made with\n",
               ctx->datadir);
    kho_keyfile_path(ctx->datadir, "audit.key", keypath, sizeof keypath);
    if (access(keypath, F_OK) != 0) { /* nothing can sign for the log until its key is back */
        printf("  this restore is not in the audit log: its signing key (keys/audit.key) is missing\n");
        return 0;
    }
    return kho_cli_audit(ctx, "restore", src, json_pack("{s:b}", "keys_restored", keys_restored), err);
}
