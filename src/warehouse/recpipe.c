/*
 * recpipe — reader thread with batched hand-over (see recpipe.h).
 *
 * A ring of batches: the reader thread fills batch[(head + count) % N] and
 * publishes it (count++); the consumer reads batch[head] and releases it
 * (head++, count--). Each batch copies its records' cells into its own arena,
 * since the reader reuses its buffers for the next record.
 */
#include "warehouse/recpipe.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

#define RECPIPE_ROWS 1024
#define RECPIPE_BATCHES 4
#define RECPIPE_BYTES (8u << 20) /* a batch ends early past this much text */

typedef struct batch {
    size_t nrec, ncells;
    kho_record_t rec[RECPIPE_ROWS];
    size_t first[RECPIPE_ROWS]; /* index of each record's first cell */
    kho_cell_t *cells;
    size_t capcells;
    size_t *offs; /* cell text offsets in arena, parallel to cells */
    kho_buf_t arena;
} batch_t;

struct kho_recpipe {
    kho_reader_t *r;
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch_t batch[RECPIPE_BATCHES];
    size_t head, count;
    bool done, stop, holding; /* holding: the consumer holds batch[head] */
    size_t pos;               /* next record of batch[head] */
    int rc;
    kho_err_t err;
};

static void copy_record(batch_t *b, const kho_record_t *rec)
{
    size_t need = b->ncells + rec->n;
    if (need > b->capcells) {
        size_t c = b->capcells;
        b->cells = kho_xgrow(b->cells, &c, need, sizeof *b->cells);
        c = b->capcells;
        b->offs = kho_xgrow(b->offs, &c, need, sizeof *b->offs);
        b->capcells = c;
    }
    b->first[b->nrec] = b->ncells;
    for (size_t i = 0; i < rec->n; i++) {
        b->offs[b->ncells] = b->arena.len;
        b->cells[b->ncells] = rec->cells[i];
        kho_buf_append(&b->arena, rec->cells[i].s, rec->cells[i].n + 1); /* with its NUL */
        b->ncells++;
    }
    b->rec[b->nrec] = *rec;
    b->nrec++;
}

/* Point the batch's records and cells into its arena (once it is complete). */
static void fix_pointers(batch_t *b)
{
    for (size_t i = 0; i < b->ncells; i++)
        b->cells[i].s = b->arena.data + b->offs[i];
    for (size_t r = 0; r < b->nrec; r++)
        b->rec[r].cells = b->cells + b->first[r];
}

static void *produce(void *arg)
{
    kho_recpipe_t *p = arg;
    int rc = 0;
    while (rc == 0) {
        pthread_mutex_lock(&p->mu);
        while (p->count == RECPIPE_BATCHES && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        bool stop = p->stop;
        batch_t *b = &p->batch[(p->head + p->count) % RECPIPE_BATCHES];
        pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        b->nrec = b->ncells = 0;
        kho_buf_reset(&b->arena);
        kho_record_t *rec;
        while (b->nrec < RECPIPE_ROWS && b->arena.len < RECPIPE_BYTES &&
               (rc = kho_reader_next(p->r, &rec, &p->err)) == 1) {
            copy_record(b, rec);
            rc = 0;
        }
        fix_pointers(b);
        pthread_mutex_lock(&p->mu);
        if (b->nrec)
            p->count++;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        if (rc == 0 && b->nrec < RECPIPE_ROWS && b->arena.len < RECPIPE_BYTES)
            rc = 1; /* end of input */
    }
    pthread_mutex_lock(&p->mu);
    p->done = true;
    p->rc = rc < 0 ? rc : 0;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int kho_recpipe_start(kho_reader_t *r, kho_recpipe_t **out, kho_err_t *err)
{
    if (kho_reader_format(r) != KHO_FMT_CSV)
        return kho_err_set(err, KHO_EINTERNAL, "recpipe: only CSV readers have fixed columns");
    kho_recpipe_t *p = kho_xcalloc(1, sizeof *p);
    p->r = r;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->tid, NULL, produce, p) != 0) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p);
        return kho_err_set(err, KHO_EINTERNAL, "cannot start the reading thread");
    }
    *out = p;
    return 0;
}

int kho_recpipe_next(kho_recpipe_t *p, kho_record_t **rec, kho_err_t *err)
{
    /* Within the batch it holds, the consumer needs no lock: the reader thread
     * does not touch a published batch until the consumer releases it. */
    if (p->holding && p->pos < p->batch[p->head].nrec) {
        *rec = &p->batch[p->head].rec[p->pos++];
        return 1;
    }
    pthread_mutex_lock(&p->mu);
    if (p->holding && p->pos == p->batch[p->head].nrec) { /* release the finished batch */
        p->head = (p->head + 1) % RECPIPE_BATCHES;
        p->count--;
        p->holding = false;
        p->pos = 0;
        pthread_cond_broadcast(&p->cv);
    }
    while (p->count == 0 && !p->done)
        pthread_cond_wait(&p->cv, &p->mu);
    int rc;
    if (p->count > 0) {
        p->holding = true;
        *rec = &p->batch[p->head].rec[p->pos++];
        rc = 1;
    } else {
        rc = p->rc;
        if (rc < 0 && err)
            *err = p->err;
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void kho_recpipe_free(kho_recpipe_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->tid, NULL);
    for (int i = 0; i < RECPIPE_BATCHES; i++) {
        free(p->batch[i].cells);
        free(p->batch[i].offs);
        kho_buf_free(&p->batch[i].arena);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
