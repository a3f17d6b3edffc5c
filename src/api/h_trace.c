/* h_trace — traceability over HTTP (see h_trace.h). */
#include "api/h_trace.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/guard.h"
#include "api/respcache.h"
#include "api/server.h"
#include "apps/trace/gs1.h"
#include "apps/trace/journey.h"
#include "apps/trace/master.h"
#include "apps/trace/qr.h"
#include "apps/trace/trace.h"
#include "core/buf.h"
#include "core/jsonw.h"
#include "core/mem.h"

#define CAPTURE_MAX_BYTES (64u << 20)

/* ---- capture ---------------------------------------------------------------------- */

typedef struct capjob {
    kho_server_t *srv;
    kho_reqctx_t *rc;
    json_t *doc, *ids;
    char org[104];
    kho_trace_captured_t res;
    kho_err_t err;
    int result;
} capjob_t;

/* On a worker thread: the document is validated and prepared before the writer
 * lock is taken, so that captures on several threads overlap in everything but
 * their writing. */
static void capture_work(void *data)
{
    capjob_t *j = data;
    kho_trace_batch_t *b = NULL;
    j->result = kho_trace_prepare(j->doc, &b, &j->err);
    if (j->result != 0)
        return;
    kho_store_t *w = kho_server_writer_lock(j->srv);
    j->result = kho_trace_store(w, kho_server_ledger(j->srv), b, j->org, &j->res, &j->ids, &j->err);
    kho_server_writer_unlock(j->srv);
    kho_trace_batch_free(b);
    if (j->result == 0 && j->res.captured > 0) {
        kho_trace_sign(kho_server_ledger(j->srv));
        kho_server_changed(j->srv); /* journey pages show the new checkpoint */
    }
    if (j->result == 0 && j->res.harvests > 0)
        kho_server_esg_soon(j->srv); /* the ESG indicators follow, in the background */
}

static void capture_done(h2o_req_t *req, void *data)
{
    capjob_t *j = data;
    json_decref(j->doc);
    if (j->result != 0) {
        kho_http_send_error(req, &j->err, NULL);
        return;
    }
    kho_guard_audit_event(j->rc, "trace_capture", "",
                          json_pack("{s:I,s:I,s:I}", "events", (json_int_t)j->res.events, "captured",
                                    (json_int_t)j->res.captured, "first_leaf", (json_int_t)j->res.first_leaf));
    kho_http_send_value(req, j->res.captured ? 201 : 200,
                        json_pack("{s:I,s:I,s:I,s:o,s:I}", "events", (json_int_t)j->res.events, "captured",
                                  (json_int_t)j->res.captured, "repeated", (json_int_t)j->res.repeated, "eventIDs",
                                  j->ids, "tree_size", (json_int_t)j->res.tree_size));
}

void kho_h_trace_capture(kho_reqctx_t *rc)
{
    kho_err_t err;
    json_t *doc = NULL;
    if (kho_http_check_params(rc, (const char *const[]){NULL}, &err) != 0 ||
        kho_guard_body_json(rc, CAPTURE_MAX_BYTES, &doc, &err) != 0) {
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    capjob_t *j = h2o_mem_alloc_pool(&rc->req->pool, sizeof *j);
    memset(j, 0, sizeof *j);
    j->srv = rc->srv;
    j->rc = rc;
    j->doc = doc;
    snprintf(j->org, sizeof j->org, "%s", rc->who.org);
    if (kho_server_defer(rc, capture_work, capture_done, j) != 0)
        json_decref(doc);
}

/* ---- query ------------------------------------------------------------------------ */

static const char *const QUERY_PARAMS[] = {"eventType",     "EQ_action",     "EQ_bizStep",    "EQ_disposition",
                                           "EQ_bizLocation", "EQ_readPoint",  "MATCH_anyEPC",  "MATCH_epcClass",
                                           "GE_eventTime",  "LT_eventTime",  "GE_recordTime", "LT_recordTime",
                                           "perPage",       "nextPageToken", NULL};

static json_t *query_document(json_t *events)
{
    return json_pack("{s:[s],s:s,s:s,s:{s:{s:s,s:{s:o}}}}", "@context",
                     "https://ref.gs1.org/standards/epcis/epcis-context.jsonld", "type", "EPCISQueryDocument",
                     "schemaVersion", "2.0", "epcisBody", "queryResults", "queryName", "SimpleEventQuery",
                     "resultsBody", "eventList", events);
}

void kho_h_trace_events(kho_reqctx_t *rc)
{
    kho_err_t err;
    long per = 0, after = 0;
    int r = kho_http_check_params(rc, QUERY_PARAMS, &err);
    if (r == 0)
        r = kho_http_param_long(rc, "perPage", 30, 1, 1000, &per, &err);
    if (r == 0)
        r = kho_http_param_long(rc, "nextPageToken", 0, 0, 1L << 62, &after, &err);
    json_t *events = NULL;
    int64_t next = 0;
    if (r == 0) {
        kho_trace_query_t q = {.event_type = kho_http_param(rc, "eventType"),
                               .action = kho_http_param(rc, "EQ_action"),
                               .biz_step = kho_http_param(rc, "EQ_bizStep"),
                               .disposition = kho_http_param(rc, "EQ_disposition"),
                               .biz_location = kho_http_param(rc, "EQ_bizLocation"),
                               .read_point = kho_http_param(rc, "EQ_readPoint"),
                               .any_epc = kho_http_param(rc, "MATCH_anyEPC"),
                               .epc_class = kho_http_param(rc, "MATCH_epcClass"),
                               .ge_time = kho_http_param(rc, "GE_eventTime"),
                               .lt_time = kho_http_param(rc, "LT_eventTime"),
                               .ge_record_time = kho_http_param(rc, "GE_recordTime"),
                               .lt_record_time = kho_http_param(rc, "LT_recordTime"),
                               .per_page = per,
                               .after = after};
        r = kho_trace_events(rc->db, &q, &events, &next, &err);
    }
    if (r != 0) {
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    json_t *doc = query_document(events);
    if (next > 0) {
        kho_buf_t link = KHO_BUF_INIT;
        kho_buf_puts(&link, "</api/v1/trace/events?");
        for (size_t i = 0; i < rc->nparams; i++) {
            if (!strcmp(rc->params[i].key, "nextPageToken"))
                continue;
            kho_http_url_encode(&link, rc->params[i].key);
            kho_buf_putc(&link, '=');
            kho_http_url_encode(&link, rc->params[i].val);
            kho_buf_putc(&link, '&');
        }
        kho_buf_printf(&link, "nextPageToken=%lld>; rel=\"next\"", (long long)next);
        char *v = h2o_mem_alloc_pool(&rc->req->pool, link.len + 1);
        memcpy(v, link.data, link.len + 1);
        h2o_add_header(&rc->req->pool, &rc->req->res.headers, H2O_TOKEN_LINK, NULL, v, link.len);
        kho_buf_free(&link);
        json_object_set_new(doc, "nextPageToken", json_sprintf("%lld", (long long)next));
    }
    kho_http_send_value(rc->req, 200, doc);
}

/* ---- proofs ------------------------------------------------------------------------ */

/* Proofs carry whole events: public unless trace_public_proofs says otherwise
 * (anything but "on" keeps them to trace:read, so that a typo does not publish). */
static bool proofs_public(const kho_reqctx_t *rc)
{
    return strcmp(kho_config_str(rc->cfg, "trace_public_proofs"), "on") == 0;
}

static int proof_allowed(kho_reqctx_t *rc)
{
    return proofs_public(rc) ? 0 : kho_guard_require(rc, &(kho_rule_t){.scopes = KHO_SCOPE_TRACE_READ});
}

void kho_h_trace_event_proof(kho_reqctx_t *rc)
{
    if (proof_allowed(rc) != 0)
        return;
    kho_err_t err;
    json_t *out = NULL;
    int r = kho_http_check_params(rc, (const char *const[]){NULL}, &err);
    if (r == 0)
        r = kho_trace_event_proof(rc->db, kho_server_ledger(rc->srv), rc->var[0], &out, &err);
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        kho_http_send_value(rc->req, 200, out);
}

void kho_h_trace_lot_proof(kho_reqctx_t *rc)
{
    if (proof_allowed(rc) != 0)
        return;
    kho_err_t err;
    json_t *out = NULL;
    char g14[15];
    int r = kho_http_check_params(rc, (const char *const[]){NULL}, &err);
    if (r == 0)
        r = kho_gtin_normalise(rc->var[0], g14, &err);
    if (r == 0)
        r = kho_trace_lot_bundle(rc->db, kho_server_ledger(rc->srv), g14, rc->var[1], &out, &err);
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        kho_http_send_value(rc->req, 200, out);
}

/* ---- master data ------------------------------------------------------------------- */

static int md_kind(kho_reqctx_t *rc, kho_err_t *err)
{
    int k = kho_md_kind_parse(rc->var[0]);
    if (k < 0)
        return kho_err_set(err, KHO_ENOTFOUND, "no master data '%s' (farms, products, locations, partners)",
                           rc->var[0]);
    return k;
}

void kho_h_trace_master_list(kho_reqctx_t *rc)
{
    kho_err_t err;
    json_t *out = NULL;
    int r = kho_http_check_params(rc, (const char *const[]){NULL}, &err);
    int k = r == 0 ? md_kind(rc, &err) : r;
    r = k < 0 ? k : kho_md_list(rc->db, (kho_md_kind_t)k, &out, &err);
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        kho_http_send_value(rc->req, 200, out);
}

typedef struct mdjob {
    kho_server_t *srv;
    kho_reqctx_t *rc;
    kho_md_kind_t kind;
    json_t *records;  /* JSON body */
    char *csv;        /* or CSV bytes (malloc'd copy) */
    size_t csv_len;
    char org[104];
    bool admin;
    size_t n;
    kho_err_t err;
    int result;
} mdjob_t;

static void md_work(void *data)
{
    mdjob_t *j = data;
    kho_store_t *w = kho_server_writer_lock(j->srv);
    if (j->csv) {
        kho_source_t src = {.mem = j->csv, .len = j->csv_len, .name = "upload"};
        j->result = kho_md_import(w, j->kind, &src, j->org, j->admin, &j->n, &j->err);
    } else
        j->result = kho_md_upsert(w, j->kind, j->records, j->org, j->admin, &j->n, &j->err);
    kho_server_writer_unlock(j->srv);
    if (j->result == 0 && j->kind == KHO_MD_FARMS && j->n > 0)
        kho_server_esg_soon(j->srv); /* areas and certificates count in the ESG indicators */
}

static void md_done(h2o_req_t *req, void *data)
{
    mdjob_t *j = data;
    json_decref(j->records);
    free(j->csv);
    if (j->result != 0) {
        kho_http_send_error(req, &j->err, NULL);
        return;
    }
    kho_guard_audit_event(j->rc, "trace_master", kho_md_kind_name(j->kind),
                          json_pack("{s:I}", "records", (json_int_t)j->n));
    kho_http_send_value(req, 200, json_pack("{s:s,s:I}", "kind", kho_md_kind_name(j->kind), "written",
                                            (json_int_t)j->n));
}

void kho_h_trace_master_put(kho_reqctx_t *rc)
{
    kho_err_t err;
    int k = kho_http_check_params(rc, (const char *const[]){NULL}, &err);
    if (k == 0)
        k = md_kind(rc, &err);
    if (k < 0) {
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    h2o_req_t *req = rc->req;
    const char *ct = kho_http_header(req, H2O_TOKEN_CONTENT_TYPE);
    mdjob_t *j = h2o_mem_alloc_pool(&req->pool, sizeof *j);
    memset(j, 0, sizeof *j);
    j->srv = rc->srv;
    j->rc = rc;
    j->kind = (kho_md_kind_t)k;
    j->admin = rc->who.role == KHO_ROLE_ADMIN;
    snprintf(j->org, sizeof j->org, "%s", rc->who.org);
    if (ct && !strncasecmp(ct, "text/csv", 8)) {
        if (req->entity.len > CAPTURE_MAX_BYTES) {
            kho_http_send_status(req, KHO_ETOOLARGE, "too_large", "the body is larger than %u bytes",
                                 CAPTURE_MAX_BYTES);
            return;
        }
        j->csv = kho_xmalloc(req->entity.len + 1);
        memcpy(j->csv, req->entity.base ? req->entity.base : "", req->entity.len);
        j->csv[req->entity.len] = '\0';
        j->csv_len = req->entity.len;
    } else {
        json_t *body = NULL;
        if (!ct || (strncasecmp(ct, "application/json", 16) && strncasecmp(ct, "application/ld+json", 19))) {
            kho_http_send_status(req, KHO_EMEDIA, "unsupported_media_type",
                                 "send a JSON list of records (application/json) or a CSV file (text/csv)");
            return;
        }
        json_error_t je;
        body = json_loadb(req->entity.base ? req->entity.base : "", req->entity.len,
                          JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
        if (!body) {
            kho_http_send_status(req, KHO_EINVAL, "bad_json", "the body is not valid JSON (line %d, column %d: %s)",
                                 je.line, je.column, je.text);
            return;
        }
        if (json_is_object(body) && json_is_array(json_object_get(body, "records"))) {
            json_t *a = json_incref(json_object_get(body, "records"));
            json_decref(body);
            body = a;
        }
        j->records = body;
    }
    if (kho_server_defer(rc, md_work, md_done, j) != 0) {
        json_decref(j->records);
        free(j->csv);
    }
}

/* ---- QR codes and labels ----------------------------------------------------------- */

/* The Digital Link URL of gtin/lot/serial parameters on the public base URL. */
static int dl_url(kho_reqctx_t *rc, kho_buf_t *url, char g14[15], kho_err_t *err)
{
    const char *gtin = kho_http_param(rc, "gtin");
    if (!gtin)
        return kho_err_set(err, KHO_EINVAL, "gtin: missing");
    int r = kho_gtin_normalise(gtin, g14, err);
    if (r != 0) {
        kho_err_prefix(err, "gtin");
        return r;
    }
    r = kho_gs1_dl_build(kho_config_str(rc->cfg, "public_url"), g14, kho_http_param(rc, "lot"),
                         kho_http_param(rc, "serial"), url, err);
    return r;
}

void kho_h_trace_qr(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"gtin", "lot", "serial", "format", "size", "margin", NULL};
    kho_err_t err;
    kho_buf_t url = KHO_BUF_INIT, img = KHO_BUF_INIT;
    char g14[15];
    long size = 0, margin = 0;
    const char *format = kho_http_param(rc, "format");
    if (!format)
        format = "svg";
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_http_param_long(rc, "size", 8, 1, 40, &size, &err);
    if (r == 0)
        r = kho_http_param_long(rc, "margin", 4, 0, 10, &margin, &err);
    if (r == 0 && strcmp(format, "svg") && strcmp(format, "png"))
        r = kho_err_set(&err, KHO_EINVAL, "format: '%.10s' is not svg or png", format);
    if (r == 0)
        r = dl_url(rc, &url, g14, &err);
    if (r == 0)
        r = !strcmp(format, "png") ? kho_qr_png(kho_buf_cstr(&url), (int)size, (int)margin, &img, &err)
                                   : kho_qr_svg(kho_buf_cstr(&url), (int)size, (int)margin, &img, &err);
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else {
        h2o_add_header(&rc->req->pool, &rc->req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                       H2O_STRLIT("public, max-age=86400"));
        kho_http_send_body(rc->req, 200, !strcmp(format, "png") ? "image/png" : "image/svg+xml", img.data, img.len);
    }
    kho_buf_free(&url);
    kho_buf_free(&img);
}

void kho_h_trace_labels(kho_reqctx_t *rc)
{
    static const char *const allowed[] = {"gtin", "lot", "count", NULL};
    kho_err_t err;
    kho_buf_t url = KHO_BUF_INIT, svg = KHO_BUF_INIT, page = KHO_BUF_INIT;
    char g14[15];
    long count = 24;
    int r = kho_http_check_params(rc, allowed, &err);
    if (r == 0)
        r = kho_http_param_long(rc, "count", 24, 1, 480, &count, &err);
    if (r == 0)
        r = dl_url(rc, &url, g14, &err);
    if (r == 0)
        r = kho_qr_svg(kho_buf_cstr(&url), 4, 2, &svg, &err);
    if (r == 0)
        r = kho_journey_labels(rc->db, g14, kho_http_param(rc, "lot"), kho_buf_cstr(&url), kho_buf_cstr(&svg),
                               (int)count, &page, &err);
    if (r != 0)
        kho_http_send_error(rc->req, &err, NULL);
    else
        kho_http_send_body(rc->req, 200, "text/html; charset=utf-8", page.data, page.len);
    kho_buf_free(&url);
    kho_buf_free(&svg);
    kho_buf_free(&page);
}

/* ---- the resolver ------------------------------------------------------------------ */

static bool wants_linkset(kho_reqctx_t *rc, bool *linkset_type)
{
    const char *lt = kho_http_param(rc, "linkType");
    const char *accept = kho_http_header(rc->req, H2O_TOKEN_ACCEPT);
    *linkset_type = accept && strstr(accept, "application/linkset+json");
    if (lt && !strcmp(lt, "all"))
        return true;
    return accept && (strstr(accept, "application/json") || *linkset_type) && !strstr(accept, "text/html");
}

static json_t *linkset(kho_reqctx_t *rc, const kho_gs1_dl_t *dl, const char *url)
{
    kho_buf_t ev = KHO_BUF_INIT, proof = KHO_BUF_INIT, cls = KHO_BUF_INIT;
    const char *base = kho_config_str(rc->cfg, "public_url");
    kho_buf_printf(&cls, "%s", url);
    kho_buf_printf(&ev, "%s/api/v1/trace/events?MATCH_anyEPC=", base);
    kho_http_url_encode(&ev, url);
    kho_buf_printf(&proof, "%s/api/v1/trace/lots/%s/", base, dl->gtin14);
    kho_http_url_encode(&proof, dl->lot);
    kho_buf_puts(&proof, "/proof");
    json_t *item = json_pack("{s:s,s:[{s:s,s:s,s:s,s:[s]}],s:[{s:s,s:s,s:s,s:[s]}],s:[{s:s,s:s,s:s}]}", "anchor", url,
                             "https://gs1.org/voc/defaultLink", "href", url, "title", "Hành trình sản phẩm", "type",
                             "text/html", "hreflang", "vi", "https://gs1.org/voc/pip", "href", url, "title",
                             "Thông tin sản phẩm và hành trình", "type", "text/html", "hreflang", "vi",
                             "https://gs1.org/voc/epcis", "href", kho_buf_cstr(&ev), "title",
                             "Sự kiện EPCIS (cần quyền trace:read)", "type", "application/ld+json");
    kho_buf_puts(&cls, "?lang=en");
    json_array_append_new(json_object_get(item, "https://gs1.org/voc/pip"),
                          json_pack("{s:s,s:s,s:s,s:[s]}", "href", kho_buf_cstr(&cls), "title",
                                    "Product information and journey", "type", "text/html", "hreflang", "en"));
    if (dl->lot[0])
        json_object_set_new(item, "https://gs1.org/voc/traceability",
                            json_pack("[{s:s,s:s,s:s}]", "href", kho_buf_cstr(&proof), "title",
                                      "Bằng chứng toàn vẹn của lô (nhật ký minh bạch)", "type", "application/json"));
    kho_buf_free(&ev);
    kho_buf_free(&proof);
    kho_buf_free(&cls);
    return json_pack("{s:[o]}", "linkset", item);
}

/* The language of the journey page: ?lang=en|vi, else the one of the two that
 * Accept-Language prefers (the higher q; on a tie the first), else Vietnamese. */
static const char *page_lang(kho_reqctx_t *rc)
{
    const char *p = kho_http_param(rc, "lang");
    if (p && (!strcmp(p, "en") || !strcmp(p, "vi")))
        return p;
    const char *al = kho_http_header(rc->req, H2O_TOKEN_ACCEPT_LANGUAGE);
    const char *best = "vi";
    double best_q = -1;
    while (al && *al) {
        al += strspn(al, " \t,");
        size_t n = strcspn(al, ",");
        size_t tag = strcspn(al, ";-, \t");
        double q = 1;
        const char *qp = strstr(al, ";q=");
        if (qp && qp < al + n)
            q = strtod(qp + 3, NULL);
        bool vi = tag == 2 && !strncasecmp(al, "vi", 2), en = tag == 2 && !strncasecmp(al, "en", 2);
        if ((vi || en) && q > 0 && q > best_q) {
            best = en ? "en" : "vi";
            best_q = q;
        }
        al += n;
    }
    return best;
}

/* Journey pages depend only on the database, the log (its entries written with the database,
 * its checkpoints followed by kho_server_changed) and the language. */
static bool page_key(kho_reqctx_t *rc, kho_buf_t *key, bool json, const char *lang)
{
    int64_t dv = 0;
    kho_err_t err;
    if (kho_server_data_version(rc, &dv, &err) != 0)
        return false;
    kho_buf_printf(key, "trace|%c|%s|%lld|", json ? 'j' : 'h', json ? "" : lang, (long long)dv);
    kho_buf_append(key, rc->req->path.base, rc->req->path.len);
    return true;
}

void kho_h_trace_resolve(kho_reqctx_t *rc)
{
    h2o_req_t *req = rc->req;
    kho_err_t err;
    kho_gs1_dl_t dl;
    char path[2100];
    size_t plen = req->path.len < sizeof path - 1 ? req->path.len : sizeof path - 1;
    memcpy(path, req->path.base, plen);
    path[plen] = '\0';
    bool lstype = false, json = wants_linkset(rc, &lstype);
    const char *lang = page_lang(rc);
    kho_buf_t key = KHO_BUF_INIT, page = KHO_BUF_INIT;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Accept, Accept-Language"));
    if (page_key(rc, &key, json, lang)) {
        size_t len;
        const char *body = kho_respcache_get(key.data, &len);
        if (body) {
            kho_http_send_body(req, 200,
                               json ? (lstype ? "application/linkset+json" : "application/json; charset=utf-8")
                                    : "text/html; charset=utf-8",
                               body, len);
            kho_buf_free(&key);
            return;
        }
    }
    int r = kho_gs1_dl_parse(path, &dl, &err);
    kho_buf_t url = KHO_BUF_INIT;
    if (r == 0)
        r = kho_gs1_dl_build(kho_config_str(rc->cfg, "public_url"), dl.gtin14, dl.lot, dl.serial, &url, &err);
    json_t *journey = NULL;
    if (r == 0 && !dl.lot[0] && !dl.serial[0])
        r = kho_err_set(&err, KHO_ENOTFOUND, "this code names a product but no lot: scan the code on the package");
    if (r == 0)
        r = kho_trace_journey(rc->db, kho_server_ledger(rc->srv), dl.gtin14, dl.lot, dl.serial, &journey, &err);
    int status = 200;
    const char *ctype = "text/html; charset=utf-8";
    if (r == 0 && json) {
        json_decref(journey);
        json_t *ls = linkset(rc, &dl, kho_buf_cstr(&url));
        kho_json_dump(&page, ls, 0);
        json_decref(ls);
        kho_buf_putc(&page, '\n');
        ctype = lstype ? "application/linkset+json" : "application/json; charset=utf-8";
    } else if (r == 0) {
        kho_buf_t proof = KHO_BUF_INIT;
        kho_buf_printf(&proof, "/api/v1/trace/lots/%s/", dl.gtin14);
        kho_http_url_encode(&proof, json_string_value(json_object_get(journey, "lot")));
        kho_buf_puts(&proof, "/proof");
        r = kho_journey_html(rc->db, journey, kho_buf_cstr(&url), proofs_public(rc) ? kho_buf_cstr(&proof) : NULL,
                             lang, &page, &err);
        kho_buf_free(&proof);
        json_decref(journey);
    }
    if (r != 0) {
        status = kho_http_status(r);
        if (status >= 500) {
            kho_http_send_error(req, &err, NULL);
            goto out;
        }
        status = 404;
        kho_buf_reset(&page);
        if (json) {
            json_t *e = json_pack("{s:{s:s,s:s}}", "error", "code", "not_found", "message", err.msg);
            kho_json_dump(&page, e, 0);
            json_decref(e);
            ctype = "application/json; charset=utf-8";
        } else
            kho_journey_not_found(err.msg, lang, &page);
    } else if (key.len)
        kho_respcache_put(key.data, page.data, page.len);
    kho_http_send_body(req, status, ctype, page.data, page.len);
out:
    kho_buf_free(&key);
    kho_buf_free(&url);
    kho_buf_free(&page);
}
