/* audit — audit events into the tamper-evident log (see audit.h). */
#include "security/audit.h"

#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "core/mem.h"
#include "security/keys.h"

#define BATCH_MS 5

typedef struct item {
    char *data;
    size_t len;
    struct item *next;
} item_t;

struct kho_audit {
    kho_tlog_t *log;
    unsigned char pk[32];
    bool background;
    long long every_entries, every_seconds;
    /* queue (background mode) */
    pthread_mutex_t mu;
    pthread_cond_t cv, done_cv;
    item_t *head, *tail;
    uint64_t queued, written; /* counters of entries enqueued / committed */
    bool stopping;
    pthread_t tid;
    /* checkpoint pacing (writer thread or the caller's thread in foreground) */
    uint64_t at_last_checkpoint;
    time_t last_checkpoint;
};

static void checkpoint_if_due(kho_audit_t *a, bool force)
{
    uint64_t size = kho_tlog_size(a->log);
    time_t now = time(NULL);
    if (size == a->at_last_checkpoint)
        return;
    if (!force && size - a->at_last_checkpoint < (uint64_t)a->every_entries &&
        now - a->last_checkpoint < a->every_seconds)
        return;
    kho_err_t err;
    if (kho_tlog_checkpoint(a->log, NULL, &err) != 0) {
        kho_error("audit: cannot write a checkpoint: %s", err.msg);
        return;
    }
    a->at_last_checkpoint = size;
    a->last_checkpoint = now;
}

/* Append a batch; on failure the items stay for the next attempt. */
static int write_batch(kho_audit_t *a, item_t *batch, size_t n)
{
    kho_tlog_entry_t *e = kho_xmalloc((n ? n : 1) * sizeof *e);
    size_t i = 0;
    for (item_t *it = batch; it && i < n; it = it->next)
        e[i++] = (kho_tlog_entry_t){it->data, it->len};
    kho_err_t err;
    int rc = kho_tlog_append(a->log, e, n, NULL, &err);
    if (rc != 0)
        kho_error("audit: cannot append %zu entries (they are kept and retried): %s", n, err.msg);
    free(e);
    return rc;
}

static void free_items(item_t *it)
{
    while (it) {
        item_t *next = it->next;
        free(it->data);
        free(it);
        it = next;
    }
}

static void *writer(void *arg)
{
    kho_audit_t *a = arg;
    pthread_mutex_lock(&a->mu);
    for (;;) {
        while (!a->head && !a->stopping) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&a->cv, &a->mu, &until);
            pthread_mutex_unlock(&a->mu);
            checkpoint_if_due(a, false);
            pthread_mutex_lock(&a->mu);
        }
        if (!a->head && a->stopping)
            break;
        /* let a few more arrive, then take the whole queue as one batch */
        pthread_mutex_unlock(&a->mu);
        struct timespec pause = {0, BATCH_MS * 1000000L};
        nanosleep(&pause, NULL);
        pthread_mutex_lock(&a->mu);
        item_t *batch = a->head;
        size_t n = 0;
        for (item_t *it = batch; it; it = it->next)
            n++;
        a->head = a->tail = NULL;
        pthread_mutex_unlock(&a->mu);
        int rc = write_batch(a, batch, n);
        pthread_mutex_lock(&a->mu);
        if (rc != 0) { /* put the batch back in front and wait a little */
            item_t *last = batch;
            while (last->next)
                last = last->next;
            last->next = a->head;
            a->head = batch;
            if (!a->tail)
                a->tail = last;
            if (a->stopping)
                break; /* cannot write at shutdown: give up (logged above) */
            pthread_mutex_unlock(&a->mu);
            struct timespec wait = {1, 0};
            nanosleep(&wait, NULL);
            pthread_mutex_lock(&a->mu);
            continue;
        }
        free_items(batch);
        a->written += n;
        pthread_cond_broadcast(&a->done_cv);
        pthread_mutex_unlock(&a->mu);
        checkpoint_if_due(a, false);
        pthread_mutex_lock(&a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

int kho_audit_open(const char *datadir, const kho_config_t *cfg, bool create, bool background, kho_audit_t **out,
                   kho_err_t *err)
{
    kho_audit_t *a = kho_xcalloc(1, sizeof *a);
    int rc = kho_tlog_open_keyed(datadir, "audit.db", "audit.key", kho_config_str(cfg, "audit_origin"), create,
                                 "audit log", &a->log, a->pk, err);
    if (rc != 0) {
        free(a);
        return rc;
    }
    a->every_entries = kho_config_int(cfg, "audit_checkpoint_entries");
    a->every_seconds = kho_config_int(cfg, "audit_checkpoint_seconds");
    a->at_last_checkpoint = kho_tlog_size(a->log);
    a->last_checkpoint = time(NULL);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    pthread_cond_init(&a->done_cv, NULL);
    if (kho_tlog_size(a->log) > 0) { /* a log without a checkpoint of its current size gets one */
        kho_buf_t note = KHO_BUF_INIT;
        uint64_t size = 0;
        kho_err_t probe;
        if (kho_tlog_latest(a->log, &note, &size, &probe) != 0 || size != kho_tlog_size(a->log))
            checkpoint_if_due(a, true);
        kho_buf_free(&note);
    }
    a->background = background;
    if (background && pthread_create(&a->tid, NULL, writer, a) != 0) {
        a->background = false;
        kho_audit_close(a);
        return kho_err_set(err, KHO_EINTERNAL, "cannot start the audit writer");
    }
    *out = a;
    return 0;
}

void kho_audit_close(kho_audit_t *a)
{
    if (!a)
        return;
    if (a->background) {
        pthread_mutex_lock(&a->mu);
        a->stopping = true;
        pthread_cond_broadcast(&a->cv);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->tid, NULL);
        if (a->head)
            kho_error("audit: %llu entries could not be written at shutdown",
                      (unsigned long long)(a->queued - a->written));
        free_items(a->head);
    }
    checkpoint_if_due(a, true);
    kho_tlog_close(a->log);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    pthread_cond_destroy(&a->done_cv);
    free(a);
}

int kho_audit_record(kho_audit_t *a, const kho_audit_who_t *who, const char *action, const char *target,
                     json_t *details)
{
    char t[40];
    kho_log_timestamp(t, sizeof t); /* UTC, milliseconds */
    json_t *e = json_object();
    json_object_set_new(e, "time", json_string(t));
    json_object_set_new(e, "actor", json_string(who && who->actor ? who->actor : "anonymous"));
    json_object_set_new(e, "role", json_string(who && who->role ? who->role : "public"));
    json_object_set_new(e, "via", json_string(who && who->via ? who->via : "anonymous"));
    if (who && who->ip)
        json_object_set_new(e, "ip", json_string(who->ip));
    json_object_set_new(e, "action", json_string(action));
    if (target)
        json_object_set_new(e, "target", json_string(target));
    if (details)
        json_object_set_new(e, "details", details);
    kho_buf_t b = KHO_BUF_INIT;
    kho_json_dump(&b, e, 0);
    if (b.len > KHO_TLOG_MAX_ENTRY) { /* never lose the event: drop its oversized details */
        size_t bytes = b.len;
        kho_buf_reset(&b);
        json_object_set_new(e, "details", json_pack("{s:b,s:I}", "truncated", 1, "bytes", (json_int_t)bytes));
        kho_json_dump(&b, e, 0);
    }
    json_decref(e);
    if (!a->background) {
        kho_tlog_entry_t en = {b.data, b.len};
        kho_err_t err;
        int rc = kho_tlog_append(a->log, &en, 1, NULL, &err);
        if (rc != 0)
            kho_error("audit: cannot append an entry: %s", err.msg);
        kho_buf_free(&b);
        return rc;
    }
    item_t *it = kho_xmalloc(sizeof *it);
    it->data = kho_buf_steal(&b, &it->len);
    it->next = NULL;
    pthread_mutex_lock(&a->mu);
    if (a->tail)
        a->tail->next = it;
    else
        a->head = it;
    a->tail = it;
    a->queued++;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    return 0;
}

int kho_audit_flush(kho_audit_t *a, kho_err_t *err)
{
    (void)err;
    if (!a->background)
        return 0;
    pthread_mutex_lock(&a->mu);
    uint64_t target = a->queued;
    pthread_cond_signal(&a->cv);
    while (a->written < target && !a->stopping)
        pthread_cond_wait(&a->done_cv, &a->mu);
    pthread_mutex_unlock(&a->mu);
    return 0;
}

kho_tlog_t *kho_audit_log(kho_audit_t *a)
{
    return a->log;
}

const unsigned char *kho_audit_public_key(const kho_audit_t *a)
{
    return a->pk;
}
