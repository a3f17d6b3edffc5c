/* h_audit — audit log endpoints and tlog tiles (see h_audit.h). */
#include "api/h_audit.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/guard.h"
#include "api/server.h"
#include "core/mem.h"
#include "security/tlog.h"

static const char *const NO_PARAMS[] = {NULL};

static kho_tlog_t *audit_log(kho_reqctx_t *rc)
{
    return kho_audit_log(kho_guard_audit(rc->guard));
}

static void send_bytes(h2o_req_t *req, const char *type, const char *cache, const void *p, size_t n)
{
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type, strlen(type));
    if (cache)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, cache, strlen(cache));
    h2o_iovec_t body = h2o_strdup(&req->pool, p, n);
    h2o_send_inline(req, body.base, body.len);
}

void kho_h_audit_key(kho_reqctx_t *rc)
{
    kho_err_t err;
    if (kho_http_check_params(rc, NO_PARAMS, &err) != 0) {
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    char line[512];
    int n = snprintf(line, sizeof line, "%s\n", kho_tlog_vkey(audit_log(rc)));
    send_bytes(rc->req, "text/plain; charset=utf-8", NULL, line, (size_t)n);
}

void kho_h_audit_checkpoint(kho_reqctx_t *rc)
{
    kho_err_t err;
    kho_buf_t note = KHO_BUF_INIT;
    if (kho_http_check_params(rc, NO_PARAMS, &err) != 0 || kho_tlog_latest(audit_log(rc), &note, NULL, &err) != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        send_bytes(rc->req, "text/plain; charset=utf-8", "no-cache", note.data, note.len);
    kho_buf_free(&note);
}

static json_t *hashes_json(const kho_buf_t *b)
{
    json_t *a = json_array();
    char b64[sodium_base64_ENCODED_LEN(KHO_TLOG_HASH, sodium_base64_VARIANT_ORIGINAL)];
    for (size_t i = 0; i + KHO_TLOG_HASH <= b->len; i += KHO_TLOG_HASH) {
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)b->data + i, KHO_TLOG_HASH,
                          sodium_base64_VARIANT_ORIGINAL);
        json_array_append_new(a, json_string(b64));
    }
    return a;
}

static int param_u64(kho_reqctx_t *rc, const char *key, long *out, kho_err_t *err)
{
    if (!kho_http_param(rc, key))
        return kho_err_setk(err, KHO_EINVAL, "bad_parameter", "%s is required", key);
    return kho_http_param_long(rc, key, 0, 0, 0x7FFFFFFFFFFFFFFFL, out, err);
}

void kho_h_audit_inclusion(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"index", "size", NULL};
    kho_err_t err;
    long index = 0, size = 0;
    kho_buf_t proof = KHO_BUF_INIT;
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0 && (r = param_u64(rc, "index", &index, &err)) == 0)
        r = param_u64(rc, "size", &size, &err);
    if (r == 0)
        r = kho_tlog_inclusion(audit_log(rc), (uint64_t)index, (uint64_t)size, &proof, &err);
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        kho_http_send_value(rc->req, 200,
                            json_pack("{s:I,s:I,s:o}", "index", (json_int_t)index, "size", (json_int_t)size, "hashes",
                                      hashes_json(&proof)));
    kho_buf_free(&proof);
}

void kho_h_audit_consistency(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"from", "to", NULL};
    kho_err_t err;
    long from = 0, to = 0;
    kho_buf_t proof = KHO_BUF_INIT;
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0 && (r = param_u64(rc, "from", &from, &err)) == 0)
        r = param_u64(rc, "to", &to, &err);
    if (r == 0)
        r = kho_tlog_consistency(audit_log(rc), (uint64_t)from, (uint64_t)to, &proof, &err);
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        kho_http_send_value(rc->req, 200,
                            json_pack("{s:I,s:I,s:o}", "from", (json_int_t)from, "to", (json_int_t)to, "hashes",
                                      hashes_json(&proof)));
    kho_buf_free(&proof);
}

/* ---- entries --------------------------------------------------------------------------- */

#define SCAN_MAX 100000

typedef struct entries_job {
    kho_tlog_t *log;
    uint64_t from;
    long limit;
    char actor[64], action[64], target[160];
    json_t *out;
    kho_err_t err;
    int result;
} entries_job_t;

static bool field_is(json_t *e, const char *key, const char *want)
{
    return !want[0] || (json_is_string(json_object_get(e, key)) &&
                        strcmp(json_string_value(json_object_get(e, key)), want) == 0);
}

static void entries_work(void *data)
{
    entries_job_t *j = data;
    uint64_t size = kho_tlog_size(j->log), i = j->from;
    json_t *arr = json_array();
    kho_buf_t b = KHO_BUF_INIT;
    j->result = 0;
    for (; i < size && i - j->from < SCAN_MAX && (long)json_array_size(arr) < j->limit; i++) {
        kho_buf_reset(&b);
        if ((j->result = kho_tlog_entry(j->log, i, &b, &j->err)) != 0)
            break;
        json_t *e = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
        if (!e) /* not ours to judge here: kho audit verify reports damage */
            e = json_pack("{s:s%}", "raw", b.data ? b.data : "", b.len);
        if (field_is(e, "actor", j->actor) && field_is(e, "action", j->action) && field_is(e, "target", j->target))
            json_array_append_new(arr, json_pack("{s:I,s:o}", "index", (json_int_t)i, "entry", e));
        else
            json_decref(e);
    }
    kho_buf_free(&b);
    if (j->result != 0) {
        json_decref(arr);
        return;
    }
    j->out = json_pack("{s:I,s:I,s:o}", "size", (json_int_t)size, "next", (json_int_t)i, "entries", arr);
}

static void entries_done(h2o_req_t *req, void *data)
{
    entries_job_t *j = data;
    if (j->result != 0)
        kho_http_send_error(req, &j->err, NULL);
    else
        kho_http_send_value(req, 200, j->out);
    free(j);
}

void kho_h_audit_entries(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"from", "limit", "actor", "action", "target", NULL};
    kho_err_t err;
    long from = 0, limit = 0;
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_http_param_long(rc, "from", 0, 0, 0x7FFFFFFFFFFFFFFFL, &from, &err);
    if (r == 0)
        r = kho_http_param_long(rc, "limit", 100, 1, 1000, &limit, &err);
    if (r != 0) {
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    entries_job_t *j = kho_xcalloc(1, sizeof *j);
    j->log = audit_log(rc);
    j->from = (uint64_t)from;
    j->limit = limit;
    const char *v;
    if ((v = kho_http_param(rc, "actor")))
        snprintf(j->actor, sizeof j->actor, "%s", v);
    if ((v = kho_http_param(rc, "action")))
        snprintf(j->action, sizeof j->action, "%s", v);
    if ((v = kho_http_param(rc, "target")))
        snprintf(j->target, sizeof j->target, "%s", v);
    kho_guard_audit_event(rc, "audit_read", NULL, json_pack("{s:I,s:I}", "from", (json_int_t)from, "limit",
                                                            (json_int_t)limit));
    if (kho_server_defer(rc, entries_work, entries_done, j) != 0)
        free(j);
}

/* ---- tiles ------------------------------------------------------------------------------ */

/* "067", "x001": three digits (with the x prefix when not last). */
static bool group(const char *s, bool last, unsigned *out)
{
    if (!last) {
        if (s[0] != 'x')
            return false;
        s++;
    }
    if (strlen(s) != 3)
        return false;
    for (int i = 0; i < 3; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    *out = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
    return true;
}

bool kho_tile_path_parse(const char *const *seg, size_t nseg, int *level, uint64_t *index, unsigned *width)
{
    if (nseg < 2)
        return false;
    if (strcmp(seg[0], "entries") == 0)
        *level = -1;
    else if (strlen(seg[0]) == 1 && seg[0][0] >= '0' && seg[0][0] <= '9')
        *level = seg[0][0] - '0';
    else
        return false;
    char path[64];
    size_t k = 0;
    for (size_t i = 1; i < nseg; i++) { /* the rest as one path: x001/x234/067[.p/W] */
        size_t n = strlen(seg[i]);
        if (memchr(seg[i], '/', n)) /* a decoded %2F is not a path separator */
            return false;
        if (k + n + 2 > sizeof path)
            return false;
        if (i > 1)
            path[k++] = '/';
        memcpy(path + k, seg[i], n);
        k += n;
    }
    path[k] = '\0';
    *width = 256;
    char *partial = strstr(path, ".p/");
    if (partial) {
        const char *w = partial + 3;
        size_t wl = strlen(w);
        if (wl < 1 || wl > 3 || w[0] == '0' || strspn(w, "0123456789") != wl || strtoul(w, NULL, 10) > 255)
            return false;
        *width = (unsigned)strtoul(w, NULL, 10);
        *partial = '\0';
    }
    uint64_t n = 0;
    size_t groups = 0;
    for (char *p = path; p;) {
        char *slash = strchr(p, '/');
        bool last = slash == NULL;
        if (slash)
            *slash = '\0';
        unsigned g;
        if (!group(p, last, &g) || ++groups > 6 || (groups == 1 && g == 0 && !last))
            return false; /* not canonical, or beyond any log size */
        n = n * 1000 + g;
        p = slash ? slash + 1 : NULL;
    }
    *index = n;
    return true;
}

void kho_h_audit_tile(kho_reqctx_t *rc)
{
    kho_err_t err;
    int level;
    uint64_t index;
    unsigned width;
    /* segments: "audit", "tile", ... */
    if (kho_http_check_params(rc, NO_PARAMS, &err) != 0) {
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    if (!kho_tile_path_parse(rc->seg + 2, rc->nseg - 2, &level, &index, &width)) {
        kho_http_send_status(rc->req, KHO_ENOTFOUND, "not_found", "no such tile (see C2SP tlog-tiles for the paths)");
        return;
    }
    if (level < 0 && !(rc->who.scopes & KHO_SCOPE_AUDIT_READ)) {
        kho_http_send_status(rc->req, rc->who.user_id ? KHO_EFORBIDDEN : KHO_EUNAUTH, "missing_scope",
                             "entry bundles name people and addresses: they need the audit:read scope");
        return;
    }
    kho_buf_t b = KHO_BUF_INIT;
    if (kho_tlog_tile(audit_log(rc), level, index, width, &b, &err) != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        send_bytes(rc->req, "application/octet-stream",
                   level < 0 ? "private, no-store" : width == 256 ? "public, max-age=31536000, immutable" : "no-cache",
                   b.data ? b.data : "", b.len);
    kho_buf_free(&b);
}
