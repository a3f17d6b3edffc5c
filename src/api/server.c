/*
 * server — event loops, listeners, workers, access log and shutdown on libh2o
 * (see server.h for the design).
 *
 * Loop states: RUNNING -> (stop message) DRAINING: listener closed, h2o asked
 * to shut its connections down -> STOPPED when the loop has no connection left
 * or the shutdown deadline passed. Only the loop's own thread touches its
 * state; other threads talk to it through its two multithread receivers
 * (`jobs` for finished work, `control` for the stop message).
 */
#include "api/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "api/guard.h"
#include "api/respcache.h"
#include "apps/assistant/assistant.h"
#include "apps/indicators/indicators.h"
#include "apps/trace/esg.h"
#include "apps/trace/trace.h"
#include "api/router.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/pool.h"
#include "warehouse/datadir.h"
#include "warehouse/indexer.h"

/* A client connection, tracked so that shutdown can close idle keep-alive
 * connections (h2o 2.2 has no shutdown hook for HTTP/1). */
typedef struct conn {
    h2o_linklist_t link;
    h2o_socket_t *sock;
} conn_t;

struct kho_loop {
    h2o_context_t ctx; /* first: the handler finds the loop from req->conn->ctx */
    h2o_linklist_t conns;
    h2o_accept_ctx_t accept;
    kho_server_t *srv;
    size_t index;
    int fd;
    h2o_socket_t *listener;
    kho_store_t *db;
    h2o_multithread_receiver_t jobs, control, streams;
    bool draining;
    uint64_t deadline_ms;
    size_t njobs; /* deferred jobs of this loop's requests not yet answered */
    size_t nstreams; /* streaming responses whose worker has not finished (a stalled
                      * client is cut off at the shutdown timeout, which ends them) */
    bool forced; /* connections had to be cut off at the shutdown timeout */
    pthread_t tid;
    int start_rc;
    kho_err_t start_err;
};

struct kho_server {
    const char *datadir;
    SSL_CTX *ssl; /* NULL: plain HTTP */
    kho_config_t *cfg;
    h2o_globalconf_t h2o;
    size_t nloops, nworkers;
    kho_loop_t *loops;
    kho_pool_t *pool;
    pthread_mutex_t write_mu;
    kho_store_t *writer;
    _Atomic uint64_t changes; /* kho_server_changed */
    int64_t writer_rows;      /* the writer's total changes when it was locked (under write_mu) */
    kho_guard_t *guard;
    kho_ledger_t *ledger; /* the traceability log (apps/trace/trace.h) */
    kho_store_t **wdb; /* one read-only connection per worker (NULL if it failed to open) */
    pthread_mutex_t ready_mu; /* loops report here once set up (ready counts them) */
    pthread_cond_t ready_cv;
    size_t ready;
    bool access_log;
    /* the indexer thread (warehouse/indexer.h) */
    pthread_t idx_tid;
    bool idx_started, idx_stop, idx_kick;
    pthread_mutex_t idx_mu;
    pthread_cond_t idx_cv;
    /* ... which also recomputes the traceability ESG indicators (apps/trace/esg.h)
     * a while after the changes asked for it (under idx_mu) */
    bool esg_due;
    struct timespec esg_first, esg_last; /* CLOCK_MONOTONIC */
};

typedef struct job {
    h2o_multithread_message_t super; /* first: the receiver gets a list of these */
    kho_loop_t *loop;
    h2o_req_t *req;
    kho_work_fn work;
    kho_done_fn done;
    void *data;
} job_t;

kho_ledger_t *kho_server_ledger(kho_server_t *srv)
{
    return srv->ledger;
}

/* ---- workers and jobs ------------------------------------------------------------ */

static void run_job(void *arg)
{
    job_t *j = arg;
    j->work(j->data);
    h2o_multithread_send_message(&j->loop->jobs, &j->super);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_jobs_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    while (!h2o_linklist_is_empty(messages)) {
        job_t *j = H2O_STRUCT_FROM_MEMBER(job_t, super.link, messages->next);
        h2o_linklist_unlink(&j->super.link);
        j->done(j->req, j->data);
        kho_loop_t *loop = j->loop;
        if (--loop->njobs == 0 && loop->draining) /* clients get the full timeout after the last work */
            loop->deadline_ms = now_ms() + (uint64_t)kho_config_int(loop->srv->cfg, "shutdown_timeout_s") * 1000;
        free(j);
    }
}

int kho_server_defer(kho_reqctx_t *rc, kho_work_fn work, kho_done_fn done, void *data)
{
    job_t *j = kho_xcalloc(1, sizeof *j);
    j->loop = rc->loop;
    j->req = rc->req;
    j->work = work;
    j->done = done;
    j->data = data;
    if (kho_pool_submit(rc->srv->pool, run_job, j) != 0) {
        free(j);
        kho_http_send_status(rc->req, KHO_EBUSY, "shutting_down", "the server is shutting down");
        return -1;
    }
    rc->loop->njobs++;
    return 0;
}

/* ---- streaming responses --------------------------------------------------------- */

#define STREAM_CHUNK (128 * 1024)

typedef enum { MSG_NONE, MSG_CHUNK, MSG_FINAL, MSG_ERROR, MSG_ABORT } stream_msg_t;

struct kho_stream {
    h2o_multithread_message_t super; /* first: the loop's receiver gets a list of these */
    h2o_generator_t gen;
    kho_loop_t *loop;
    h2o_req_t *req;             /* valid while !gone */
    kho_stream_fn fn;
    void *data;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;                   /* the worker's and the request's */
    bool gone;                  /* the request was disposed (client gone or response done) */
    bool inflight;              /* a message or a sent chunk not yet released by h2o */
    bool started;               /* status and headers given */
    bool sent_start;            /* the loop started the response */
    stream_msg_t msg;           /* the message in flight (set by the worker under mu) */
    stream_msg_t want;          /* the worker's own: MSG_ERROR or MSG_ABORT asked by fn */
    int status;
    char ctype[96];
    char *hdr_names[8], *hdr_values[8];
    size_t nhdr;
    kho_err_t err;
    kho_buf_t wbuf, sbuf;       /* the worker fills wbuf; sbuf is with the loop */
};

static void stream_unref(kho_stream_t *st)
{
    pthread_mutex_lock(&st->mu);
    int left = --st->refs;
    pthread_mutex_unlock(&st->mu);
    if (left > 0)
        return;
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    for (size_t i = 0; i < st->nhdr; i++) {
        free(st->hdr_names[i]);
        free(st->hdr_values[i]);
    }
    kho_buf_free(&st->wbuf);
    kho_buf_free(&st->sbuf);
    free(st);
}

/* The request's pool is being cleared: the loop lets go of the stream. */
static void stream_disposed(void *p)
{
    kho_stream_t *st = *(kho_stream_t **)p;
    pthread_mutex_lock(&st->mu);
    st->gone = true;
    st->req = NULL;
    st->inflight = false;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    stream_unref(st);
}

static void stream_proceed(h2o_generator_t *g, h2o_req_t *req)
{
    (void)req;
    kho_stream_t *st = H2O_STRUCT_FROM_MEMBER(kho_stream_t, gen, g);
    pthread_mutex_lock(&st->mu);
    st->inflight = false;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

static void stream_stop(h2o_generator_t *g, h2o_req_t *req)
{
    (void)req;
    kho_stream_t *st = H2O_STRUCT_FROM_MEMBER(kho_stream_t, gen, g);
    pthread_mutex_lock(&st->mu);
    st->gone = true;
    st->inflight = false;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

/* On the loop: message m from the worker. */
static void on_stream_msg(kho_stream_t *st, stream_msg_t m)
{
    pthread_mutex_lock(&st->mu);
    bool gone = st->gone;
    h2o_req_t *req = st->req;
    pthread_mutex_unlock(&st->mu);
    if (gone || !req) {
        pthread_mutex_lock(&st->mu);
        st->inflight = false;
        pthread_cond_broadcast(&st->cv);
        pthread_mutex_unlock(&st->mu);
        return;
    }
    if (m == MSG_ERROR) {
        kho_http_send_error(req, &st->err, NULL);
        return; /* inflight stays: nothing more is sent */
    }
    if (!st->sent_start) {
        st->sent_start = true;
        req->res.status = st->started ? st->status : 200;
        req->res.reason = "OK";
        if (st->ctype[0])
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, h2o_strdup(&req->pool, st->ctype, SIZE_MAX).base,
                           strlen(st->ctype));
        for (size_t i = 0; i < st->nhdr; i++) {
            h2o_iovec_t v = h2o_strdup(&req->pool, st->hdr_values[i], SIZE_MAX);
            h2o_add_header_by_str(&req->pool, &req->res.headers, st->hdr_names[i], strlen(st->hdr_names[i]), 1, NULL,
                                  v.base, v.len);
        }
        h2o_start_response(req, &st->gen);
    }
    h2o_iovec_t buf = h2o_iovec_init(st->sbuf.data ? st->sbuf.data : "", st->sbuf.len);
    h2o_send(req, &buf, buf.len ? 1 : 0,
             m == MSG_CHUNK ? H2O_SEND_STATE_IN_PROGRESS : m == MSG_ABORT ? H2O_SEND_STATE_ERROR : H2O_SEND_STATE_FINAL);
}

/* On the worker: hand wbuf to the loop as message m, after the previous one is done. */
static int stream_post(kho_stream_t *st, stream_msg_t m)
{
    pthread_mutex_lock(&st->mu);
    while (st->inflight && !st->gone)
        pthread_cond_wait(&st->cv, &st->mu);
    if (st->gone && m == MSG_CHUNK) {
        pthread_mutex_unlock(&st->mu);
        return -1;
    }
    kho_buf_t t = st->sbuf;
    st->sbuf = st->wbuf;
    st->wbuf = t;
    kho_buf_reset(&st->wbuf);
    st->msg = m;
    st->inflight = true;
    pthread_mutex_unlock(&st->mu);
    h2o_multithread_send_message(&st->loop->streams, &st->super);
    return 0;
}

void kho_stream_header(kho_stream_t *st, const char *name, const char *value)
{
    if (st->started || st->nhdr >= sizeof st->hdr_names / sizeof st->hdr_names[0])
        return;
    st->hdr_names[st->nhdr] = kho_xstrdup(name);
    st->hdr_values[st->nhdr] = kho_xstrdup(value);
    st->nhdr++;
}

void kho_stream_start(kho_stream_t *st, int status, const char *content_type)
{
    if (st->started)
        return;
    st->started = true;
    st->status = status;
    snprintf(st->ctype, sizeof st->ctype, "%s", content_type ? content_type : "");
}

int kho_stream_write(kho_stream_t *st, const void *p, size_t n)
{
    if (st->want != MSG_NONE)
        return -1;
    if (!st->started)
        kho_stream_start(st, 200, "application/octet-stream");
    kho_buf_append(&st->wbuf, p, n);
    if (st->wbuf.len < STREAM_CHUNK)
        return 0;
    return stream_post(st, MSG_CHUNK);
}

void kho_stream_error(kho_stream_t *st, const kho_err_t *err)
{
    if (st->started || st->want != MSG_NONE)
        return;
    st->err = *err;
    st->want = MSG_ERROR;
}

void kho_stream_abort(kho_stream_t *st)
{
    if (st->want == MSG_NONE)
        st->want = MSG_ABORT;
}

static void run_stream(void *arg)
{
    kho_stream_t *st = arg;
    st->fn(st, st->data);
    /* the last message: the rest of the output, an error, or an abort; the
     * loop drops the worker's reference when it has handled it */
    if (st->want == MSG_ERROR)
        kho_buf_reset(&st->wbuf);
    (void)stream_post(st, st->want != MSG_NONE ? st->want : MSG_FINAL);
}

static void on_streams(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    while (!h2o_linklist_is_empty(messages)) {
        kho_stream_t *st = H2O_STRUCT_FROM_MEMBER(kho_stream_t, super.link, messages->next);
        h2o_linklist_unlink(&st->super.link);
        pthread_mutex_lock(&st->mu);
        stream_msg_t m = st->msg;
        pthread_mutex_unlock(&st->mu);
        kho_loop_t *loop = st->loop;
        on_stream_msg(st, m);
        if (m != MSG_CHUNK) {
            stream_unref(st); /* the worker's: it is done */
            loop->nstreams--;
        }
    }
}

int kho_server_stream(kho_reqctx_t *rc, kho_stream_fn fn, void *data)
{
    kho_stream_t *st = kho_xcalloc(1, sizeof *st);
    st->loop = rc->loop;
    st->req = rc->req;
    st->fn = fn;
    st->data = data;
    st->gen.proceed = stream_proceed;
    st->gen.stop = stream_stop;
    st->refs = 2;
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    kho_stream_t **slot = h2o_mem_alloc_shared(&rc->req->pool, sizeof *slot, stream_disposed);
    *slot = st;
    if (kho_pool_submit(rc->srv->pool, run_stream, st) != 0) {
        st->refs = 1; /* only the pool's: freed when the request is */
        kho_http_send_status(rc->req, KHO_EBUSY, "shutting_down", "the server is shutting down");
        return -1;
    }
    rc->loop->nstreams++;
    return 0;
}

/* ---- background indexing ------------------------------------------------------------ */

#define INDEX_PERIOD_S 10
#define ESG_MAX_WAIT_S 60

static double since(const struct timespec *t, const struct timespec *now)
{
    return (double)(now->tv_sec - t->tv_sec) + (double)(now->tv_nsec - t->tv_nsec) / 1e9;
}

/* Seconds until the ESG recomputation asked for is due (<= 0: now); under idx_mu. */
static double esg_wait(const kho_server_t *srv)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double quiet = (double)kho_config_int(srv->cfg, "trace_esg_delay_s") - since(&srv->esg_last, &now);
    double cap = ESG_MAX_WAIT_S - since(&srv->esg_first, &now);
    return quiet < cap ? quiet : cap;
}

static void esg_run(kho_server_t *srv)
{
    kho_err_t err;
    kho_store_t *w = kho_server_writer_lock(srv);
    int rc = kho_trace_esg_refresh(w, srv->datadir, NULL, &err);
    kho_server_writer_unlock(srv);
    if (rc != 0 && rc != KHO_ENOTFOUND)
        kho_warn("traceability ESG indicators: %s (run kho trace esg)", err.msg);
    else if (rc == 0)
        kho_info("traceability ESG indicators recomputed");
}

static void *indexer_main(void *arg)
{
    kho_server_t *srv = arg;
    for (;;) {
        pthread_mutex_lock(&srv->idx_mu);
        double wait = srv->esg_due ? esg_wait(srv) : INDEX_PERIOD_S;
        if (wait > INDEX_PERIOD_S)
            wait = INDEX_PERIOD_S;
        if (!srv->idx_kick && !srv->idx_stop && wait > 0) {
            /* the condition variable waits on CLOCK_REALTIME: only the length matters */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            long long ns = until.tv_nsec + (long long)((wait - (double)(long long)wait) * 1e9);
            until.tv_sec += (time_t)wait + (time_t)(ns / 1000000000);
            until.tv_nsec = (long)(ns % 1000000000);
            pthread_cond_timedwait(&srv->idx_cv, &srv->idx_mu, &until);
        }
        bool stop = srv->idx_stop;
        bool esg = srv->esg_due && (stop || esg_wait(srv) <= 0); /* at shutdown: now */
        if (esg)
            srv->esg_due = false;
        srv->idx_kick = false;
        pthread_mutex_unlock(&srv->idx_mu);
        if (esg)
            esg_run(srv); /* before indexing, so that its new version is indexed in this turn */
        if (stop)
            break;
        /* one index per turn of the write lock, so that uploads interleave */
        bool more = true;
        while (more) {
            int made = 0;
            kho_err_t err;
            kho_store_t *w = kho_server_writer_lock(srv);
            int rc = kho_index_pending(w, 1, &made, &more, &err);
            kho_server_writer_unlock(srv);
            if (rc != 0) {
                kho_warn("indexer: %s (will retry)", err.msg);
                break;
            }
            pthread_mutex_lock(&srv->idx_mu);
            stop = srv->idx_stop;
            pthread_mutex_unlock(&srv->idx_mu);
            if (stop)
                break;
        }
    }
    return NULL;
}

void kho_server_esg_soon(kho_server_t *srv)
{
    pthread_mutex_lock(&srv->idx_mu);
    clock_gettime(CLOCK_MONOTONIC, &srv->esg_last);
    if (!srv->esg_due)
        srv->esg_first = srv->esg_last;
    srv->esg_due = true;
    pthread_cond_signal(&srv->idx_cv); /* to wait for the new time */
    pthread_mutex_unlock(&srv->idx_mu);
}

void kho_server_index_soon(kho_server_t *srv)
{
    pthread_mutex_lock(&srv->idx_mu);
    srv->idx_kick = true;
    pthread_cond_signal(&srv->idx_cv);
    pthread_mutex_unlock(&srv->idx_mu);
}

kho_store_t *kho_server_worker_db(kho_server_t *srv)
{
    long i = kho_pool_worker_index();
    return i >= 0 && (size_t)i < srv->nworkers ? srv->wdb[i] : NULL;
}

static void worker_init(size_t i, void *ctx)
{
    kho_server_t *srv = ctx;
    kho_err_t err;
    if (kho_datadir_open(srv->datadir, srv->cfg, true, &srv->wdb[i], &err) != 0) {
        kho_warn("worker %zu: cannot open a read connection: %s", i, err.msg);
        srv->wdb[i] = NULL;
    }
}

static void worker_fini(size_t i, void *ctx)
{
    kho_server_t *srv = ctx;
    kho_store_close(srv->wdb[i]);
    srv->wdb[i] = NULL;
}

kho_store_t *kho_server_writer_lock(kho_server_t *srv)
{
    pthread_mutex_lock(&srv->write_mu);
    srv->writer_rows = kho_store_total_changes(srv->writer);
    return srv->writer;
}

void kho_server_writer_unlock(kho_server_t *srv)
{
    if (kho_store_total_changes(srv->writer) != srv->writer_rows)
        kho_server_changed(srv); /* the cached answers look again (kho_server_data_version) */
    pthread_mutex_unlock(&srv->write_mu);
}

void kho_server_changed(kho_server_t *srv)
{
    atomic_fetch_add_explicit(&srv->changes, 1, memory_order_release);
}

int kho_server_data_version(kho_reqctx_t *rc, int64_t *out, kho_err_t *err)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t gen = atomic_load_explicit(&rc->srv->changes, memory_order_acquire);
    return kho_store_data_version_at(rc->db, gen, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, out, err);
}

/* ---- request entry and access log ------------------------------------------------ */

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    kho_loop_t *loop = (kho_loop_t *)req->conn->ctx;
    kho_reqctx_t *rc = h2o_mem_alloc_pool(&req->pool, sizeof *rc);
    memset(rc, 0, sizeof *rc);
    rc->req = req;
    rc->loop = loop;
    rc->srv = loop->srv;
    rc->db = loop->db;
    rc->cfg = loop->srv->cfg;
    rc->guard = loop->srv->guard;
    /* one read snapshot for everything the handler reads on the loop; work
     * deferred to a worker uses the worker's own connection */
    kho_store_snapshot_begin(rc->db);
    kho_router_dispatch(rc);
    kho_store_snapshot_end(rc->db);
    return 0;
}

static void log_access(h2o_logger_t *self, h2o_req_t *req)
{
    (void)self;
    kho_loop_t *loop = (kho_loop_t *)req->conn->ctx;
    if (!loop->srv->access_log)
        return;
    /* h2o's timestamps are the loop's cached clock; measure to the real now */
    struct timeval now;
    gettimeofday(&now, NULL);
    int64_t usec = h2o_timeval_is_null(&req->timestamps.request_begin_at)
                       ? 0
                       : h2o_timeval_subtract(&req->timestamps.request_begin_at, &now);
    char ts[40], line[1024];
    kho_log_timestamp(ts, sizeof ts);
    size_t plen = req->input.path.len > 300 ? 300 : req->input.path.len;
    int n = snprintf(line, sizeof line, "%s ACCESS %.*s %.*s%s %d %zuB %.3fms", ts, (int)req->input.method.len,
                     req->input.method.base, (int)plen, req->input.path.base, plen < req->input.path.len ? "..." : "",
                     req->res.status, req->bytes_sent, (double)usec / 1000.0);
    if (n > 0)
        kho_log_line(line, (unsigned long)(n < (int)sizeof line ? n : (int)sizeof line - 1));
}

/* An output filter: the security headers on every response, h2o's own error
 * responses included. */
typedef struct header_filter {
    h2o_filter_t super;
    bool tls;
} header_filter_t;

static void on_setup_headers(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    kho_guard_security_headers(req, ((header_filter_t *)self)->tls);
    h2o_setup_next_ostream(req, slot);
}

static void register_headers(h2o_pathconf_t *pc, bool tls)
{
    header_filter_t *f = (header_filter_t *)h2o_create_filter(pc, sizeof *f);
    f->super.on_setup_ostream = on_setup_headers;
    f->tls = tls;
}

static void register_logger(h2o_pathconf_t *pc)
{
    h2o_logger_t *lg = h2o_create_logger(pc, sizeof *lg);
    lg->log_access = log_access;
}

/* ---- listeners ------------------------------------------------------------------- */

static int parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len, kho_err_t *err)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec)
        return kho_err_set(err, KHO_EUSAGE, "listen address '%s' must be ADDRESS:PORT (127.0.0.1:8080, [::1]:8080)",
                           spec);
    snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return kho_err_set(err, KHO_EUSAGE, "bad port in listen address '%s'", spec);
    memset(ss, 0, sizeof *ss);
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        host[hl - 1] = '\0';
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            return kho_err_set(err, KHO_EUSAGE, "bad IPv6 address in '%s'", spec);
        *len = sizeof *a6;
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        return kho_err_set(err, KHO_EUSAGE, "bad IPv4 address in '%s' (use a numeric address such as 127.0.0.1)",
                           spec);
    *len = sizeof *a4;
    return 0;
}

static int open_listener(const struct sockaddr_storage *ss, socklen_t len, bool reuseport, int *out, kho_err_t *err)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd < 0)
        return kho_err_set(err, KHO_EIO, "socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        close(fd);
        return kho_err_set(err, KHO_EIO, "cannot listen on the address: %s", strerror(e));
    }
    *out = fd;
    return 0;
}

/* Open one SO_REUSEPORT listener per loop on the same address. A probe bind
 * without SO_REUSEPORT first makes sure no other program holds the port (with
 * SO_REUSEPORT alone, a second server would silently share it). Port 0 picks a
 * free port, which every loop then shares. */
static int open_listeners(kho_server_t *srv, char *shown, size_t shownsz, kho_err_t *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    const char *spec = kho_config_str(srv->cfg, "listen");
    int rc = parse_listen(spec, &ss, &len, err);
    if (rc != 0)
        return rc;
    int probe;
    if ((rc = open_listener(&ss, len, false, &probe, err)) != 0) {
        kho_err_prefix(err, "%s", spec);
        return rc;
    }
    getsockname(probe, (struct sockaddr *)&ss, &len); /* learns the port when 0 was asked */
    close(probe);
    for (size_t i = 0; i < srv->nloops; i++) {
        srv->loops[i].fd = -1;
        if ((rc = open_listener(&ss, len, true, &srv->loops[i].fd, err)) != 0) {
            kho_err_prefix(err, "%s", spec);
            return rc;
        }
    }
    char host[INET6_ADDRSTRLEN];
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof host);
        snprintf(shown, shownsz, "%s://[%s]:%u", srv->ssl ? "https" : "http", host, ntohs(a6->sin6_port));
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a4->sin_addr, host, sizeof host);
        snprintf(shown, shownsz, "%s://%s:%u", srv->ssl ? "https" : "http", host, ntohs(a4->sin_port));
    }
    return 0;
}

static void on_socket_close(void *data)
{
    conn_t *c = data;
    h2o_linklist_unlink(&c->link);
    free(c);
}

static void on_accept(h2o_socket_t *listener, const char *errmsg)
{
    if (errmsg)
        return;
    kho_loop_t *loop = listener->data;
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (!sock)
        return;
    conn_t *c = kho_xcalloc(1, sizeof *c);
    c->sock = sock;
    h2o_linklist_insert(&loop->conns, &c->link);
    sock->on_close.cb = on_socket_close;
    sock->on_close.data = c;
    h2o_accept(&loop->accept, sock);
}

/* Ask every connection to end: shutting down the read side makes h2o see the end
 * of input and close an idle connection at once, and a busy one after its
 * response (h2o does not read from a connection while its request is processed). */
static void shutdown_connections(kho_loop_t *loop, int how)
{
    for (h2o_linklist_t *n = loop->conns.next; n != &loop->conns; n = n->next) {
        conn_t *c = H2O_STRUCT_FROM_MEMBER(conn_t, link, n);
        shutdown(h2o_socket_get_fd(c->sock), how);
    }
}

/* ---- loop threads ------------------------------------------------------------------ */


static void on_control(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    kho_loop_t *loop = H2O_STRUCT_FROM_MEMBER(kho_loop_t, control, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
        free(m);
    }
    if (loop->draining)
        return;
    loop->draining = true;
    loop->deadline_ms = now_ms() + (uint64_t)kho_config_int(loop->srv->cfg, "shutdown_timeout_s") * 1000;
    if (loop->listener) {
        h2o_socket_read_stop(loop->listener);
        h2o_socket_close(loop->listener);
        loop->listener = NULL;
        loop->fd = -1;
    }
    h2o_context_request_shutdown(&loop->ctx);
    shutdown_connections(loop, SHUT_RD);
}

static bool loop_idle(kho_loop_t *loop)
{
    return h2o_linklist_is_empty(&loop->conns) && h2o_linklist_is_empty(&loop->ctx.http1._conns) &&
           h2o_linklist_is_empty(&loop->ctx.http2._conns);
}

static void *loop_main(void *arg)
{
    kho_loop_t *loop = arg;
    kho_server_t *srv = loop->srv;
    h2o_linklist_init_anchor(&loop->conns);
    h2o_context_init(&loop->ctx, h2o_evloop_create(), &srv->h2o);
    h2o_multithread_register_receiver(loop->ctx.queue, &loop->jobs, on_jobs_done);
    h2o_multithread_register_receiver(loop->ctx.queue, &loop->control, on_control);
    h2o_multithread_register_receiver(loop->ctx.queue, &loop->streams, on_streams);
    loop->accept.ctx = &loop->ctx;
    loop->accept.hosts = srv->h2o.hosts;
    loop->accept.ssl_ctx = srv->ssl;
    loop->start_rc = kho_datadir_open(srv->datadir, srv->cfg, true, &loop->db, &loop->start_err);
    if (loop->start_rc == 0) {
        loop->listener = h2o_evloop_socket_create(loop->ctx.loop, loop->fd, H2O_SOCKET_FLAG_DONT_READ);
        loop->listener->data = loop;
        h2o_socket_read_start(loop->listener, on_accept);
    } else {
        close(loop->fd);
        loop->fd = -1;
    }
    pthread_mutex_lock(&srv->ready_mu);
    srv->ready++;
    pthread_cond_broadcast(&srv->ready_cv);
    pthread_mutex_unlock(&srv->ready_mu);
    /* Draining: work in progress (deferred jobs) always finishes and is answered;
     * the shutdown timeout applies to clients that hold their connection open
     * (not reading a response): they are cut off, and h2o closes those
     * connections through its own error path. */
    bool clean = true;
    uint64_t last_resort = 0;
    if (loop->start_rc == 0) {
        while (!(loop->draining && loop->njobs == 0 && loop->nstreams == 0 && loop_idle(loop))) {
            h2o_evloop_run(loop->ctx.loop, 100);
            if (!loop->draining || loop->njobs > 0 || now_ms() <= loop->deadline_ms)
                continue;
            if (!loop->forced) {
                kho_warn("loop %zu: shutdown timeout: cutting off the clients still connected", loop->index);
                shutdown_connections(loop, SHUT_RDWR);
                loop->forced = true;
                last_resort = now_ms() + 2000;
            } else if (now_ms() > last_resort) {
                kho_warn("loop %zu: connections did not close; leaving them to the exit", loop->index);
                clean = false;
                break;
            }
        }
    }
    if (clean) {
        /* h2o's shutdown request arms a one-second GOAWAY resend for HTTP/2 even
         * with no HTTP/2 connection; disarm it so the context can be disposed */
        if (h2o_timeout_is_linked(&loop->ctx.http2._graceful_shutdown_timeout))
            h2o_timeout_unlink(&loop->ctx.http2._graceful_shutdown_timeout);
        h2o_multithread_unregister_receiver(loop->ctx.queue, &loop->jobs);
        h2o_multithread_unregister_receiver(loop->ctx.queue, &loop->control);
        h2o_multithread_unregister_receiver(loop->ctx.queue, &loop->streams);
        h2o_evloop_t *evloop = loop->ctx.loop;
        h2o_context_dispose(&loop->ctx);
        h2o_evloop_run(evloop, 0); /* let sockets closed by the dispose be freed */
        h2o_evloop_destroy(evloop);
    }
    kho_store_close(loop->db);
    loop->db = NULL;
    kho_respcache_clear();
    kho_ind_thread_done();
    kho_ask_thread_done();
    return NULL;
}

/* ---- run ---------------------------------------------------------------------------- */

/* The CPUs this process may run on (its affinity mask, as nproc counts them:
 * a server pinned with taskset or a container's cpuset gets as many threads
 * as it has cores, not as the machine has). */
static size_t ncpu(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (size_t)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

static void setup_h2o(kho_server_t *srv)
{
    /* Request bodies above 32 MiB are spilled by h2o to a file (created and
     * unlinked at once); keep those files in the data directory, not in /tmp. */
    char tmpdir[PATH_MAX - 16];
    int n = snprintf(tmpdir, sizeof tmpdir, "%s/tmp", srv->datadir);
    if (n > 0 && (size_t)n < sizeof tmpdir && (mkdir(tmpdir, 0700) == 0 || errno == EEXIST))
        snprintf(h2o_socket_buffer_mmap_settings.fn_template, sizeof h2o_socket_buffer_mmap_settings.fn_template,
                 "%.*s/body.XXXXXX", (int)sizeof tmpdir - 1, tmpdir);
    h2o_config_init(&srv->h2o);
    kho_respcache_budget((size_t)kho_config_int(srv->cfg, "response_cache_mb") * 1024 * 1024);
    srv->h2o.max_request_entity_size = (size_t)kho_config_int(srv->cfg, "max_body_mb") * 1024 * 1024;
    srv->h2o.http1.upgrade_to_http2 = 0;
    srv->h2o.http2.graceful_shutdown_timeout = 0; /* no HTTP/2; nothing to wait for at shutdown */
    srv->h2o.server_name = h2o_iovec_init(H2O_STRLIT("kho"));
    h2o_hostconf_t *host = h2o_config_register_host(&srv->h2o, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pc = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *h = h2o_create_handler(pc, sizeof *h);
    h->on_req = on_req;
    register_logger(pc);
    register_logger(&host->fallback_path);
    register_headers(pc, srv->ssl != NULL);
    register_headers(&host->fallback_path, srv->ssl != NULL);
    /* gzip when the client accepts it, for compressible types (JSON, CSV, text)
     * that are not already encoded (the embedded assets carry their own) */
    h2o_compress_args_t gz = {.min_size = 256, .gzip = {.quality = 1}, .brotli = {.quality = -1}};
    h2o_compress_register(pc, &gz);
}

/* TLS 1.2+ with the certificate chain and key of the settings; HTTP/1.1 only
 * (no ALPN h2: see server.h on request lifetime). */
static int setup_tls(kho_server_t *srv, kho_err_t *err)
{
    const char *cert = kho_config_str(srv->cfg, "tls_cert"), *key = kho_config_str(srv->cfg, "tls_key");
    if (!*cert && !*key)
        return 0;
    if (!*cert || !*key)
        return kho_err_set(err, KHO_EUSAGE, "TLS needs both a certificate (tls_cert) and its key (tls_key)");
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return kho_err_set(err, KHO_EINTERNAL, "cannot set up TLS");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    const char *what = NULL;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
        what = cert;
    else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        what = key;
    else if (SSL_CTX_check_private_key(ctx) != 1)
        what = "the key does not match the certificate";
    if (what) {
        char e[256];
        ERR_error_string_n(ERR_get_error(), e, sizeof e);
        SSL_CTX_free(ctx);
        return kho_err_set(err, KHO_EINVAL, "TLS: cannot use %s (%s)", what, e);
    }
    srv->ssl = ctx;
    return 0;
}

static void stop_loops(kho_server_t *srv)
{
    for (size_t i = 0; i < srv->nloops; i++) {
        if (srv->loops[i].start_rc != 0) /* never ran: its receivers are gone */
            continue;
        h2o_multithread_message_t *m = kho_xcalloc(1, sizeof *m);
        h2o_multithread_send_message(&srv->loops[i].control, m);
    }
}

int kho_server_run(const char *datadir, kho_config_t *cfg, kho_err_t *err)
{
    kho_server_t srv = {.datadir = datadir, .cfg = cfg};
    srv.nloops = kho_config_int(cfg, "threads") > 0 ? (size_t)kho_config_int(cfg, "threads") : ncpu();
    srv.nworkers = kho_config_int(cfg, "workers") > 0 ? (size_t)kho_config_int(cfg, "workers") : ncpu();
    srv.access_log = strcmp(kho_config_str(cfg, "access_log"), "off") != 0;
    if (srv.nloops > 256 || srv.nworkers > 256)
        return kho_err_set(err, KHO_EUSAGE, "threads and workers must be at most 256");
    int rc = kho_datadir_open(datadir, cfg, false, &srv.writer, err);
    if (rc != 0)
        return rc;
    pthread_mutex_init(&srv.write_mu, NULL);
    if ((rc = setup_tls(&srv, err)) != 0 ||
        (rc = kho_guard_new(datadir, cfg, srv.writer, srv.ssl != NULL, &srv.guard, err)) != 0 ||
        (rc = kho_ledger_open(datadir, cfg, true, &srv.ledger, err)) != 0) {
        kho_guard_free(srv.guard);
        SSL_CTX_free(srv.ssl);
        kho_store_close(srv.writer);
        pthread_mutex_destroy(&srv.write_mu);
        return rc;
    }
    srv.loops = kho_xcalloc(srv.nloops, sizeof *srv.loops);
    char shown[128];
    rc = open_listeners(&srv, shown, sizeof shown, err);
    if (rc != 0) {
        for (size_t i = 0; i < srv.nloops; i++)
            if (srv.loops[i].fd > 0)
                close(srv.loops[i].fd);
        goto done;
    }

    /* Signals go to this thread only (sigwait); threads inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    setup_h2o(&srv);
    srv.wdb = kho_xcalloc(srv.nworkers, sizeof *srv.wdb);
    srv.pool = kho_pool_new(srv.nworkers, worker_init, worker_fini, &srv);
    pthread_mutex_init(&srv.ready_mu, NULL);
    pthread_cond_init(&srv.ready_cv, NULL);
    size_t started = 0;
    for (size_t i = 0; i < srv.nloops && srv.pool; i++) {
        srv.loops[i].srv = &srv;
        srv.loops[i].index = i;
        if (pthread_create(&srv.loops[i].tid, NULL, loop_main, &srv.loops[i]) != 0)
            break;
        started++;
    }
    pthread_mutex_init(&srv.idx_mu, NULL);
    pthread_cond_init(&srv.idx_cv, NULL);
    srv.idx_kick = true; /* a first pass at start */
    srv.idx_started = pthread_create(&srv.idx_tid, NULL, indexer_main, &srv) == 0;
    pthread_mutex_lock(&srv.ready_mu);
    while (srv.ready < started)
        pthread_cond_wait(&srv.ready_cv, &srv.ready_mu);
    pthread_mutex_unlock(&srv.ready_mu);
    if (!srv.pool || started < srv.nloops)
        rc = kho_err_set(err, KHO_EIO, "cannot start the server's threads");
    for (size_t i = started; i < srv.nloops; i++) { /* never started: nothing to stop, close their sockets */
        srv.loops[i].start_rc = KHO_EIO;
        close(srv.loops[i].fd);
    }
    for (size_t i = 0; i < srv.nloops && rc == 0; i++)
        if (srv.loops[i].start_rc != 0) {
            *err = srv.loops[i].start_err;
            rc = srv.loops[i].start_rc;
        }
    if (rc == 0) {
        kho_info("kho serve: listening on %s (%zu event loops, %zu workers, data directory %s)", shown, srv.nloops,
                 srv.nworkers, datadir);
        int sig = 0;
        sigwait(&set, &sig);
        kho_info("kho serve: %s received, finishing requests in flight", sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    stop_loops(&srv);
    for (size_t i = 0; i < started; i++)
        pthread_join(srv.loops[i].tid, NULL);
    pthread_mutex_lock(&srv.idx_mu);
    srv.idx_stop = true;
    pthread_cond_signal(&srv.idx_cv);
    pthread_mutex_unlock(&srv.idx_mu);
    if (srv.idx_started)
        pthread_join(srv.idx_tid, NULL);
    pthread_mutex_destroy(&srv.idx_mu);
    pthread_cond_destroy(&srv.idx_cv);
    kho_pool_free(srv.pool);
    free(srv.wdb);
    pthread_mutex_destroy(&srv.ready_mu);
    pthread_cond_destroy(&srv.ready_cv);
    h2o_config_dispose(&srv.h2o);
    bool forced = false;
    for (size_t i = 0; i < srv.nloops; i++)
        forced = forced || srv.loops[i].forced;
    if (rc == 0)
        kho_info(forced ? "kho serve: stopped (clients cut off at the shutdown timeout)" : "kho serve: stopped cleanly");
done:
    free(srv.loops);
    kho_ledger_close(srv.ledger);
    kho_guard_free(srv.guard); /* after the workers: the audit log gets every entry, then its final checkpoint */
    SSL_CTX_free(srv.ssl);
    kho_store_checkpoint(srv.writer);
    kho_store_close(srv.writer);
    pthread_mutex_destroy(&srv.write_mu);
    return rc;
}
