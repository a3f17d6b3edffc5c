/* pool — fixed worker threads with a FIFO job queue (see pool.h). */
#include "core/pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/mem.h"

typedef struct job {
    kho_job_fn fn;
    void *arg;
    struct job *next;
} job_t;

typedef struct worker {
    kho_pool_t *pool;
    size_t index;
    pthread_t tid;
} worker_t;

struct kho_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job_t *head, *tail;
    size_t pending; /* queued + running */
    bool stopping;
    size_t n;
    worker_t *workers;
    void (*thread_init)(size_t, void *);
    void (*thread_fini)(size_t, void *);
    void *ctx;
};

static _Thread_local long worker_index = -1;

long kho_pool_worker_index(void)
{
    return worker_index;
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    kho_pool_t *p = w->pool;
    worker_index = (long)w->index;
    if (p->thread_init)
        p->thread_init(w->index, p->ctx);
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        job_t *j = p->head;
        if (!j) { /* stopping and drained */
            pthread_mutex_unlock(&p->mu);
            break;
        }
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->mu);
        j->fn(j->arg);
        free(j);
        pthread_mutex_lock(&p->mu);
        p->pending--;
        pthread_mutex_unlock(&p->mu);
    }
    if (p->thread_fini)
        p->thread_fini(w->index, p->ctx);
    return NULL;
}

kho_pool_t *kho_pool_new(size_t nthreads, void (*thread_init)(size_t, void *), void (*thread_fini)(size_t, void *),
                         void *ctx)
{
    kho_pool_t *p = kho_xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->thread_init = thread_init;
    p->thread_fini = thread_fini;
    p->ctx = ctx;
    p->workers = kho_xcalloc(nthreads, sizeof *p->workers);
    for (size_t i = 0; i < nthreads; i++) {
        p->workers[i].pool = p;
        p->workers[i].index = i;
        if (pthread_create(&p->workers[i].tid, NULL, worker_main, &p->workers[i]) != 0) {
            kho_pool_free(p);
            return NULL;
        }
        p->n++;
    }
    return p;
}

int kho_pool_submit(kho_pool_t *p, kho_job_fn fn, void *arg)
{
    job_t *j = kho_xmalloc(sizeof *j);
    j->fn = fn;
    j->arg = arg;
    j->next = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        pthread_mutex_unlock(&p->mu);
        free(j);
        return -1;
    }
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->pending++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

size_t kho_pool_pending(kho_pool_t *p)
{
    pthread_mutex_lock(&p->mu);
    size_t n = p->pending;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void kho_pool_free(kho_pool_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->n; i++)
        pthread_join(p->workers[i].tid, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->workers);
    free(p);
}
