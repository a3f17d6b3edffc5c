/*
 * audit — the audit trail: who signed in, who read restricted or personal data,
 * who wrote or administered what, as entries of a tamper-evident log (tlog.h).
 *
 * The log is DATA/audit.db with origin `audit_origin` (setting, default
 * "kho/audit"), signed by the Ed25519 key in DATA/keys/audit.key (created at
 * init). An entry is one compact JSON object:
 *   {"time":"2026-11-22T02:47:31.577Z","actor":"alice","role":"steward",
 *    "via":"session|key:12|cli|anonymous","ip":"127.0.0.1","action":"read",
 *    "target":"doi-tuong-tro-cap-xa-hoi","details":{...}}
 * (target: the dataset id, account name or file concerned). Details over the
 * entry limit are replaced by {"truncated":true,"bytes":N}.
 *
 * In the server (background mode) entries are queued and a writer thread commits
 * them in batches every few milliseconds, checkpointing every
 * `audit_checkpoint_entries` entries or `audit_checkpoint_seconds` seconds and at
 * shutdown. A crash can lose the entries of the last batch not yet committed
 * (milliseconds). The CLI (foreground mode) appends each entry at once and
 * checkpoints when it closes the log. Thread-safe.
 */
#ifndef KHO_SECURITY_AUDIT_H
#define KHO_SECURITY_AUDIT_H

#include <jansson.h>
#include <stdbool.h>

#include "core/config.h"
#include "core/err.h"
#include "security/tlog.h"

typedef struct kho_audit kho_audit_t;

/* Open the audit log of a data directory. `create` makes the signing key when
 * missing (init); `background` starts the writer thread (the server). */
int kho_audit_open(const char *datadir, const kho_config_t *cfg, bool create, bool background, kho_audit_t **out,
                   kho_err_t *err) KHO_WUR;
/* Commit what is queued, write a final checkpoint, close. NULL is allowed. */
void kho_audit_close(kho_audit_t *a);

typedef struct kho_audit_who {
    const char *actor; /* user name, or "anonymous" / "cli:<unix user>" */
    const char *role;
    const char *via;   /* "session", "key:<id>", "cli", "anonymous" */
    const char *ip;    /* NULL for the CLI */
} kho_audit_who_t;

/* Record an event. `details` may be NULL; its reference is stolen. In the
 * background mode an event is queued (and kept until it is written) and 0 is
 * returned; in the foreground mode it is appended at once and a failure is
 * returned (and logged), so that the caller can refuse to go on. */
int kho_audit_record(kho_audit_t *a, const kho_audit_who_t *who, const char *action, const char *target,
                     json_t *details);
/* Wait until everything recorded so far is committed (tests, shutdown). */
int kho_audit_flush(kho_audit_t *a, kho_err_t *err) KHO_WUR;

kho_tlog_t *kho_audit_log(kho_audit_t *a);
/* The Ed25519 public key that signs the checkpoints. */
const unsigned char *kho_audit_public_key(const kho_audit_t *a);

#endif
