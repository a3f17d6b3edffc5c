/*
 * pool — a fixed set of worker threads running submitted jobs in FIFO order.
 *
 * Used by the HTTP server for work that must not run on an event loop (uploads,
 * long queries). A job is a function and its argument; the job itself reports
 * its result (the server's jobs post a message back to their event loop).
 * Thread-safe: any thread may submit.
 */
#ifndef KHO_CORE_POOL_H
#define KHO_CORE_POOL_H

#include <stddef.h>

typedef struct kho_pool kho_pool_t;
typedef void (*kho_job_fn)(void *arg);

/* Start `nthreads` workers; each runs `thread_init(i, ctx)` first if given (to
 * open per-thread resources) and `thread_fini(i, ctx)` last. Returns NULL if a
 * thread cannot be started. The caller stops and frees it with kho_pool_free(). */
kho_pool_t *kho_pool_new(size_t nthreads, void (*thread_init)(size_t i, void *ctx),
                         void (*thread_fini)(size_t i, void *ctx), void *ctx);
/* Queue a job. Returns 0, or -1 when the pool is stopping (the job is not run). */
int kho_pool_submit(kho_pool_t *pool, kho_job_fn fn, void *arg);
/* Jobs queued or running right now. */
size_t kho_pool_pending(kho_pool_t *pool);
/* Index of the calling worker thread (0..n-1), or -1 when not a worker of any pool. */
long kho_pool_worker_index(void);
/* Finish every queued job, stop the threads and free the pool. NULL is allowed. */
void kho_pool_free(kho_pool_t *pool);

#endif
