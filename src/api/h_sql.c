/* h_sql — the SQL sandbox over HTTP (see h_sql.h). */
#include "api/h_sql.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/guard.h"
#include "api/server.h"
#include "core/config.h"
#include "core/mem.h"
#include "warehouse/sandbox.h"

#define SPOOL_MEM (256 * 1024) /* output kept in memory; more goes to a file */
#define SEND_CHUNK (64 * 1024)

/* ---- the spool: output kept in memory, then in an unlinked file --------------------- */

typedef struct spool {
    kho_buf_t mem;
    int fd;       /* -1 while the output fits in memory */
    int64_t size; /* bytes written */
    char dir[PATH_MAX - 32];
} spool_t;

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A kho_sink_fn (rows.h). */
static int spool_write(void *ctx, const char *p, size_t n)
{
    spool_t *s = ctx;
    s->size += (int64_t)n;
    if (s->fd < 0 && s->mem.len + n <= SPOOL_MEM) {
        kho_buf_append(&s->mem, p, n);
        return 0;
    }
    if (s->fd < 0) {
        char path[PATH_MAX];
        if (!kho_fmt(path, sizeof path, "%s/sql.XXXXXX", s->dir))
            return -1;
        mkdir(s->dir, 0700); /* the server makes it at start; make sure */
        s->fd = mkstemp(path);
        if (s->fd < 0)
            return -1;
        unlink(path); /* gone when the response is */
        if (write_all(s->fd, s->mem.data ? s->mem.data : "", s->mem.len) != 0)
            return -1;
        kho_buf_free(&s->mem);
    }
    return write_all(s->fd, p, n);
}

static void spool_free(spool_t *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    kho_buf_free(&s->mem);
}

/* DATA/tmp, DATA being the directory of the database file. */
static void tmp_dir(const char *dbpath, char *out, size_t size)
{
    const char *slash = dbpath ? strrchr(dbpath, '/') : NULL;
    if (slash)
        snprintf(out, size, "%.*s/tmp", (int)(slash - dbpath), dbpath);
    else
        snprintf(out, size, "tmp");
}

/* ---- sending a spool file from the event loop ------------------------------------------ */

typedef struct filegen {
    h2o_generator_t super; /* first */
    int fd;
    int64_t off, size;
    char *buf;
} filegen_t;

static void filegen_dispose(void *p)
{
    filegen_t *g = p;
    if (g->fd >= 0)
        close(g->fd);
    free(g->buf);
}

static void filegen_proceed(h2o_generator_t *self, h2o_req_t *req)
{
    filegen_t *g = (filegen_t *)self;
    int64_t left = g->size - g->off;
    size_t want = left > SEND_CHUNK ? SEND_CHUNK : (size_t)left;
    ssize_t n;
    do
        n = pread(g->fd, g->buf, want, g->off);
    while (n < 0 && errno == EINTR);
    if (n <= 0) { /* the file went wrong: cut the response, never send a wrong one whole */
        h2o_send(req, NULL, 0, H2O_SEND_STATE_ERROR);
        return;
    }
    g->off += n;
    h2o_iovec_t v = h2o_iovec_init(g->buf, (size_t)n);
    h2o_send(req, &v, 1, g->off >= g->size ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

static void filegen_stop(h2o_generator_t *self, h2o_req_t *req)
{
    (void)self;
    (void)req; /* the pool's dispose closes the file */
}

static bool is_head(h2o_req_t *req)
{
    return h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
}

/* Send the spooled body (takes the spool's file). */
static void send_spool(h2o_req_t *req, spool_t *s)
{
    if (s->fd < 0) {
        req->res.content_length = s->mem.len;
        h2o_send_inline(req, s->mem.data ? s->mem.data : "", s->mem.len);
        return;
    }
    filegen_t *g = h2o_mem_alloc_shared(&req->pool, sizeof *g, filegen_dispose);
    memset(g, 0, sizeof *g);
    g->super.proceed = filegen_proceed;
    g->super.stop = filegen_stop;
    g->fd = s->fd;
    s->fd = -1;
    g->size = s->size;
    g->buf = kho_xmalloc(SEND_CHUNK);
    req->res.content_length = (size_t)g->size;
    h2o_start_response(req, &g->super);
    if (is_head(req))
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    else
        filegen_proceed(&g->super, req);
}

/* ---- jobs ------------------------------------------------------------------------------ */

static atomic_int running; /* sandbox jobs queued or running */

typedef struct sql_job {
    kho_server_t *srv;
    kho_reqctx_t *rc; /* valid until the response is sent (HTTP/1, server.h) */
    kho_principal_t who;
    bool tables; /* GET /api/v1/sql/tables */
    char *sql;
    size_t len;
    kho_sandbox_query_t q;
    spool_t spool;
    kho_sandbox_result_t res;
    json_t *out; /* the table list */
    kho_err_t err;
    int result;
} sql_job_t;

static void job_free(sql_job_t *j)
{
    spool_free(&j->spool);
    kho_sandbox_result_free(&j->res);
    json_decref(j->out);
    free(j->sql);
    free(j);
}

static void sql_work(void *data)
{
    sql_job_t *j = data;
    kho_store_t *s = kho_server_worker_db(j->srv);
    if (!s)
        j->result = kho_err_setk(&j->err, KHO_EBUSY, "busy", "no database connection on this worker: retry");
    else if (j->tables)
        j->result = kho_sandbox_tables(s, &j->who, &j->out, &j->err);
    else
        j->result = kho_sandbox_run(s, &j->q, spool_write, &j->spool, &j->res, &j->err);
    atomic_fetch_sub(&running, 1);
}

/* {"position","line","column"}: a byte offset in the SQL text, and its line
 * and column (1-based, the column in characters). */
static json_t *position(const char *sql, size_t len, int offset)
{
    if (offset < 0 || (size_t)offset > len)
        return NULL;
    long line = 1, col = 1;
    for (int i = 0; i < offset; i++) {
        if (sql[i] == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)sql[i] & 0xC0) != 0x80) {
            col++;
        }
    }
    return json_pack("{s:i,s:i,s:i}", "position", offset, "line", (int)line, "column", (int)col);
}

/* One audit entry per dataset whose read must be recorded. */
static void audit_reads(sql_job_t *j)
{
    size_t i, n = j->len;
    json_t *e;
    if (n > KHO_SANDBOX_AUDIT_SQL) {
        n = KHO_SANDBOX_AUDIT_SQL;
        while (n > 0 && ((unsigned char)j->sql[n] & 0xC0) == 0x80) /* a whole character */
            n--;
    }
    json_array_foreach(j->res.audit, i, e)
    {
        json_t *d = json_pack("{s:O,s:O,s:O,s:I,s:b,s:s,s:O,s:s%}", "version", json_object_get(e, "version"), "table",
                              json_object_get(e, "table"), "personal", json_object_get(e, "personal"), "rows",
                              (json_int_t)j->res.rows, "truncated", j->res.truncated, "format",
                              j->q.fmt == KHO_OUT_CSV      ? "csv"
                              : j->q.fmt == KHO_OUT_NDJSON ? "ndjson"
                                                           : "json",
                              "tables", j->res.tables, "sql", j->sql, n);
        if (d && n < j->len)
            json_object_set_new(d, "sql_truncated", json_true());
        kho_guard_audit_event(j->rc, "sql", json_string_value(json_object_get(e, "dataset")), d);
    }
}

static void add_header(h2o_req_t *req, const char *name, const char *value)
{
    h2o_iovec_t v = h2o_strdup(&req->pool, value, SIZE_MAX);
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 0, NULL, v.base, v.len);
}

static void sql_done(h2o_req_t *req, void *data)
{
    sql_job_t *j = data;
    if (j->result != 0) {
        kho_http_send_error(req, &j->err, j->tables ? NULL : position(j->sql, j->len, j->res.offset));
        job_free(j);
        return;
    }
    if (j->tables) {
        const kho_config_t *cfg = j->rc->cfg;
        size_t nf;
        const char *const *f = kho_sandbox_functions(&nf);
        json_t *fns = json_array();
        for (size_t i = 0; i < nf; i++)
            json_array_append_new(fns, json_string(f[i]));
        json_object_set_new(j->out, "functions", fns);
        json_object_set_new(j->out, "limits",
                            json_pack("{s:I,s:I,s:I,s:I,s:i,s:i}", "time_limit_ms",
                                      (json_int_t)kho_config_int(cfg, "sql_time_limit_ms"), "max_rows",
                                      (json_int_t)kho_config_int(cfg, "sql_max_rows"), "max_rows_export",
                                      (json_int_t)kho_config_int(cfg, "sql_max_rows_export"), "max_output_mb",
                                      (json_int_t)kho_config_int(cfg, "sql_max_output_mb"), "max_sql_bytes",
                                      KHO_SANDBOX_MAX_SQL, "max_value_bytes", KHO_SANDBOX_MAX_VALUE));
        kho_http_send_value(req, 200, j->out);
        j->out = NULL;
        job_free(j);
        return;
    }
    if (j->res.audit && !is_head(req))
        audit_reads(j);
    char v[64];
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   h2o_strdup(&req->pool, kho_outfmt_mime(j->q.fmt), SIZE_MAX).base, strlen(kho_outfmt_mime(j->q.fmt)));
    snprintf(v, sizeof v, "%lld", (long long)j->res.rows);
    add_header(req, "x-kho-row-count", v);
    add_header(req, "x-kho-truncated", j->res.truncated ? "true" : "false");
    snprintf(v, sizeof v, "%.2f", j->res.time_ms);
    add_header(req, "x-kho-time-ms", v);
    send_spool(req, &j->spool);
    job_free(j);
}

static long max_jobs(const kho_config_t *cfg)
{
    long n = (long)kho_config_int(cfg, "workers");
    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

/* Queue the job (taking it), or answer 503 when enough sandbox work is queued. */
static void defer(kho_reqctx_t *rc, sql_job_t *j)
{
    if (atomic_fetch_add(&running, 1) >= max_jobs(rc->cfg)) {
        atomic_fetch_sub(&running, 1);
        job_free(j); /* 503 comes with Retry-After (api/http.c) */
        kho_http_send_http_error(rc->req, 503, "busy",
                                 "as many SQL queries as the server runs at once are running: retry in a moment");
        return;
    }
    if (kho_server_defer(rc, sql_work, sql_done, j) != 0) { /* stopping: 503 sent */
        atomic_fetch_sub(&running, 1);
        job_free(j);
    }
}

static sql_job_t *job_new(kho_reqctx_t *rc)
{
    sql_job_t *j = kho_xcalloc(1, sizeof *j);
    j->srv = rc->srv;
    j->rc = rc;
    j->who = rc->who;
    j->spool.fd = -1;
    tmp_dir(kho_store_path(rc->db), j->spool.dir, sizeof j->spool.dir);
    return j;
}

/* ---- the handlers --------------------------------------------------------------------- */

/* The output format: _format, else the Accept header, else JSON. */
static int choose_format(kho_reqctx_t *rc, const char *param, kho_outfmt_t *out, kho_err_t *err)
{
    if (param) {
        int f = kho_outfmt_parse(param);
        if (f < 0)
            return kho_err_setk(err, KHO_EINVAL, "bad_parameter", "_format is json, csv or ndjson, not '%.40s'", param);
        *out = (kho_outfmt_t)f;
        return 0;
    }
    const char *accept = kho_http_header(rc->req, H2O_TOKEN_ACCEPT);
    *out = KHO_OUT_JSON;
    if (accept && strcasestr(accept, "text/csv"))
        *out = KHO_OUT_CSV;
    else if (accept && (strcasestr(accept, "application/x-ndjson") || strcasestr(accept, "application/ndjson") ||
                        strcasestr(accept, "application/jsonl")))
        *out = KHO_OUT_NDJSON;
    return 0;
}

/* q and _format from a POST body {"q": "...", "_format": "..."}. */
static int body_fields(kho_reqctx_t *rc, json_t **body, const char **q, const char **fmt, kho_err_t *err)
{
    int r = kho_guard_body_json(rc, 4 * KHO_SANDBOX_MAX_SQL + 4096, body, err);
    if (r != 0)
        return r;
    const char *key;
    json_t *v;
    json_object_foreach(*body, key, v)
    {
        if (strcmp(key, "q") != 0 && strcmp(key, "_format") != 0)
            return kho_err_setk(err, KHO_EINVAL, "unknown_parameter",
                                "unknown field '%.40s' in the body (this endpoint takes: q, _format)", key);
        if (!json_is_string(v))
            return kho_err_setk(err, KHO_EINVAL, "bad_parameter", "%s must be a string", key);
    }
    *q = json_string_value(json_object_get(*body, "q"));
    if (json_object_get(*body, "_format"))
        *fmt = json_string_value(json_object_get(*body, "_format"));
    return 0;
}

void kho_h_sql(kho_reqctx_t *rc)
{
    static const char *const get_params[] = {"q", "_format", NULL};
    static const char *const post_params[] = {"_format", NULL};
    bool post = h2o_memis(rc->req->method.base, rc->req->method.len, H2O_STRLIT("POST"));
    kho_err_t err;
    json_t *body = NULL;
    const char *q = NULL, *fmt = kho_http_param(rc, "_format");
    int r = kho_http_check_params(rc, post ? post_params : get_params, &err);
    if (r == 0 && post)
        r = body_fields(rc, &body, &q, &fmt, &err);
    else if (r == 0)
        q = kho_http_param(rc, "q");
    if (r == 0 && (!q || !*q))
        r = kho_err_setk(&err, KHO_EINVAL, "bad_parameter",
                         post ? "send the query as {\"q\": \"SELECT ...\"}" : "send the query as ?q=SELECT...");
    size_t len = q ? strlen(q) : 0;
    if (r == 0 && len > KHO_SANDBOX_MAX_SQL)
        r = kho_err_setk(&err, KHO_ETOOLARGE, "sql_too_long",
                         "the query is %zu bytes long; the sandbox takes at most %d", len, KHO_SANDBOX_MAX_SQL);
    kho_outfmt_t f = KHO_OUT_JSON;
    if (r == 0)
        r = choose_format(rc, fmt, &f, &err);
    if (r != 0) {
        json_decref(body);
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    sql_job_t *j = job_new(rc);
    j->sql = kho_xstrndup(q, len);
    j->len = len;
    json_decref(body);
    const kho_config_t *cfg = rc->cfg;
    j->q = (kho_sandbox_query_t){
        .sql = j->sql,
        .len = len,
        .who = &j->who,
        .fmt = f,
        .time_limit_ms = (int64_t)kho_config_int(cfg, "sql_time_limit_ms"),
        .max_rows = (int64_t)kho_config_int(cfg, f == KHO_OUT_JSON ? "sql_max_rows" : "sql_max_rows_export"),
        .max_bytes = (int64_t)kho_config_int(cfg, "sql_max_output_mb") * 1024 * 1024,
        .keys = kho_guard_keys(rc->guard),
    };
    defer(rc, j);
}

void kho_h_sql_tables(kho_reqctx_t *rc)
{
    static const char *const none[] = {NULL};
    kho_err_t err;
    if (kho_http_check_params(rc, none, &err) != 0) {
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    sql_job_t *j = job_new(rc);
    j->tables = true;
    defer(rc, j);
}
