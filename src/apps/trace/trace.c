/* trace — the traceability ledger (see trace.h). */
#include "apps/trace/trace.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "apps/trace/epcis.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"

struct kho_ledger {
    kho_tlog_t *log;
    unsigned char pk[32];
};

int kho_ledger_open(const char *datadir, const kho_config_t *cfg, bool create, kho_ledger_t **out, kho_err_t *err)
{
    kho_ledger_t *l = kho_xcalloc(1, sizeof *l);
    int rc = kho_tlog_open_keyed(datadir, "trace.db", "trace.key", kho_config_str(cfg, "trace_origin"), create,
                                 "traceability log", &l->log, l->pk, err);
    if (rc != 0) {
        free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void kho_ledger_close(kho_ledger_t *l)
{
    if (!l)
        return;
    kho_tlog_close(l->log);
    free(l);
}

kho_tlog_t *kho_ledger_log(kho_ledger_t *l)
{
    return l->log;
}

const unsigned char *kho_ledger_public_key(const kho_ledger_t *l)
{
    return l->pk;
}

/* ---- capture ---------------------------------------------------------------------- */

static void now_utc(char out[25])
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000,
             (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100,
             (int)(tv.tv_usec / 1000) % 1000);
    memcpy(out, tmp, 24);
    out[24] = '\0';
}

static const char *const EPC_ROLES[][2] = {
    {"epcList", "epc"},          {"childEPCs", "child"},
    {"inputEPCList", "input"},   {"outputEPCList", "output"},
    {"quantityList", "class"},   {"childQuantityList", "child_class"},
    {"inputQuantityList", "input_class"}, {"outputQuantityList", "output_class"},
};

/* One prepared event: everything its rows need, computed before the writer lock. */
typedef struct prepped {
    json_t *ev;                    /* borrowed from the batch's events */
    const char *id;                /* borrowed from ev */
    char et[25];                   /* eventTime in UTC */
    char rp[KHO_EPCIS_KEY_MAX];    /* readPoint key, "" none */
    char bl[KHO_EPCIS_KEY_MAX];    /* bizLocation key, "" none */
    char *body;                    /* owned: the stored form */
    size_t len;
    size_t k0, nk;                 /* its identifier keys: keys[k0 .. k0+nk) */
    const char *farm;              /* its ilmd's kho:farmId ("" if not a string; borrowed), NULL if none:
                                    * a harvest, an ESG figure */
} prepped_t;

typedef struct epckey {
    char key[KHO_EPCIS_KEY_MAX];
    const char *role;              /* static */
} epckey_t;

struct kho_trace_batch {
    json_t *events;                /* the normalised events (owned) */
    size_t n;
    prepped_t *ev;
    epckey_t *keys;
    size_t nkeys, capkeys;
};

void kho_trace_batch_free(kho_trace_batch_t *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        free(b->ev[i].body);
    free(b->ev);
    free(b->keys);
    json_decref(b->events);
    free(b);
}

static void add_key(kho_trace_batch_t *b, const char *uri, const char *role)
{
    b->keys = kho_xgrow(b->keys, &b->capkeys, b->nkeys + 1, sizeof *b->keys);
    /* a key too long to index is left out: the event is still stored, found by other conditions */
    if (kho_epcis_key(uri, b->keys[b->nkeys].key, sizeof b->keys[b->nkeys].key)) {
        b->keys[b->nkeys].role = role;
        b->nkeys++;
    }
}

static void id_key(const json_t *ev, const char *field, char *out, size_t size)
{
    const char *id = json_string_value(json_object_get(json_object_get(ev, field), "id"));
    out[0] = '\0';
    if (id && !kho_epcis_key(id, out, size))
        out[0] = '\0';
}

int kho_trace_prepare(const json_t *doc, kho_trace_batch_t **out, kho_err_t *err)
{
    *out = NULL;
    json_t *events = NULL;
    int rc = kho_epcis_document(doc, &events, err);
    if (rc != 0)
        return rc;
    kho_trace_batch_t *b = kho_xcalloc(1, sizeof *b);
    b->events = events;
    size_t n = json_array_size(events);
    b->ev = kho_xcalloc(n ? n : 1, sizeof *b->ev);
    char rt[25];
    now_utc(rt);
    for (size_t i = 0; i < n; i++, b->n++) {
        prepped_t *p = &b->ev[i];
        json_t *ev = p->ev = json_array_get(events, i);
        p->id = json_string_value(json_object_get(ev, "eventID"));
        json_object_set_new(ev, "recordTime", json_string(rt));
        if (kho_epcis_time(json_string_value(json_object_get(ev, "eventTime")), p->et, err) != 0) {
            rc = KHO_EINVAL;
            break;
        }
        id_key(ev, "readPoint", p->rp, sizeof p->rp);
        const json_t *farm = json_object_get(json_object_get(ev, "ilmd"), "kho:farmId");
        p->farm = !farm ? NULL : json_is_string(farm) ? json_string_value(farm) : "";
        id_key(ev, "bizLocation", p->bl, sizeof p->bl);
        p->body = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
        if (!p->body) {
            rc = kho_err_set(err, KHO_EINTERNAL, "eventList[%zu]: cannot serialise the event", i);
            break;
        }
        p->len = strlen(p->body);
        if (p->len > KHO_TLOG_MAX_ENTRY) {
            rc = kho_err_set(err, KHO_ETOOLARGE, "eventList[%zu]: the event is %zu bytes; at most %d", i, p->len,
                             KHO_TLOG_MAX_ENTRY);
            b->n++; /* so that its body is freed */
            break;
        }
        p->k0 = b->nkeys;
        for (size_t r = 0; r < sizeof EPC_ROLES / sizeof EPC_ROLES[0]; r++) {
            json_t *list = json_object_get(ev, EPC_ROLES[r][0]);
            bool q = strstr(EPC_ROLES[r][1], "class") != NULL;
            size_t j;
            json_t *x;
            json_array_foreach(list, j, x)
            {
                const char *uri = q ? json_string_value(json_object_get(x, "epcClass")) : json_string_value(x);
                if (uri)
                    add_key(b, uri, EPC_ROLES[r][1]);
            }
        }
        const char *parent = json_string_value(json_object_get(ev, "parentID"));
        if (parent)
            add_key(b, parent, "parent");
        p->nk = b->nkeys - p->k0;
    }
    if (rc != 0) {
        kho_trace_batch_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

/* Is the stored body the same event as ev (recordTime aside, and the @context
 * that names its extensions' prefixes: events stored before it was kept have none)? */
static bool same_event(const char *body, const json_t *ev)
{
    json_t *old = json_loads(body, 0, NULL);
    if (!old)
        return false;
    json_object_del(old, "recordTime");
    json_object_del(old, "@context");
    json_t *cmp = json_deep_copy(ev);
    json_object_del(cmp, "recordTime");
    json_object_del(cmp, "@context");
    bool same = json_equal(old, cmp);
    json_decref(old);
    json_decref(cmp);
    return same;
}

static int insert_keys(kho_store_t *w, const kho_trace_batch_t *b, const prepped_t *p, int64_t seq, kho_err_t *err)
{
    for (size_t k = p->k0; k < p->k0 + p->nk; k++) {
        kho_stmt_t *st;
        int rc = kho_store_cached(w, "INSERT OR IGNORE INTO trace_epcs(key, seq, role) VALUES (?, ?, ?)", &st, err);
        if (rc != 0)
            return rc;
        kho_stmt_bind_str(st, 1, b->keys[k].key);
        kho_stmt_bind_int(st, 2, seq);
        kho_stmt_bind_str(st, 3, b->keys[k].role);
        rc = kho_stmt_step(st, err);
        kho_stmt_reset(st);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Is id stored? 1 yes (*same: with the same content as ev), 0 no, < 0 an error. */
static int stored(kho_store_t *w, const char *id, int64_t h, const json_t *ev, bool *same, kho_err_t *err)
{
    kho_stmt_t *st;
    int rc = kho_store_cached(w, "SELECT body FROM trace_events WHERE id_hash = ? AND event_id = ?", &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_int(st, 1, h);
    kho_stmt_bind_str(st, 2, id);
    int step = kho_stmt_step(st, err);
    if (step == KHO_STEP_ROW)
        *same = same_event(kho_stmt_col_text(st, 0), ev);
    kho_stmt_reset(st);
    return step < 0 ? step : step == KHO_STEP_ROW;
}

int kho_trace_store(kho_store_t *w, kho_ledger_t *l, const kho_trace_batch_t *b, const char *org,
                    kho_trace_captured_t *res, json_t **ids, kho_err_t *err)
{
    memset(res, 0, sizeof *res);
    if (ids)
        *ids = NULL;
    size_t n = b->n;
    res->events = n;
    kho_tlog_entry_t *entries = kho_xcalloc(n ? n : 1, sizeof *entries);
    size_t nnew = 0;
    json_t *idlist = json_array();
    int rc = kho_store_begin(w, true, err);
    uint64_t size = kho_tlog_size(l->log);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const prepped_t *p = &b->ev[i];
        json_array_append_new(idlist, json_string(p->id));
        int64_t h = kho_store_hash63(p->id, strlen(p->id));
        bool same = false;
        int st_rc = stored(w, p->id, h, p->ev, &same, err);
        if (st_rc < 0) {
            rc = st_rc;
            break;
        }
        if (st_rc == 1) {
            if (!same) {
                rc = kho_err_set(err, KHO_ECONFLICT,
                                 "eventList[%zu].eventID: %s was captured before with other content (an event "
                                 "cannot be changed; declare an error with a new event)",
                                 i, p->id);
                break;
            }
            res->repeated++;
            continue;
        }
        entries[nnew] = (kho_tlog_entry_t){p->body, p->len};
        kho_stmt_t *st;
        if ((rc = kho_store_cached(w,
                                   "INSERT INTO trace_events(event_id, id_hash, type, event_time, record_time, "
                                   "action, biz_step, disposition, read_point, biz_location, leaf, org, body, "
                                   "farm_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                   &st, err)) != 0)
            break;
        const json_t *ev = p->ev;
        kho_stmt_bind_str(st, 1, p->id);
        kho_stmt_bind_int(st, 2, h);
        kho_stmt_bind_str(st, 3, json_string_value(json_object_get(ev, "type")));
        kho_stmt_bind_str(st, 4, p->et);
        kho_stmt_bind_str(st, 5, json_string_value(json_object_get(ev, "recordTime")));
        kho_stmt_bind_str(st, 6, json_string_value(json_object_get(ev, "action")));
        kho_stmt_bind_str(st, 7, json_string_value(json_object_get(ev, "bizStep")));
        kho_stmt_bind_str(st, 8, json_string_value(json_object_get(ev, "disposition")));
        kho_stmt_bind_str(st, 9, p->rp[0] ? p->rp : NULL);
        kho_stmt_bind_str(st, 10, p->bl[0] ? p->bl : NULL);
        kho_stmt_bind_int(st, 11, (int64_t)(size + nnew));
        kho_stmt_bind_str(st, 12, org ? org : "");
        kho_stmt_bind_text(st, 13, p->body, p->len);
        kho_stmt_bind_str(st, 14, p->farm);
        int step = kho_stmt_step(st, err);
        kho_stmt_reset(st);
        nnew++;
        res->harvests += p->farm != NULL;
        if (step < 0) {
            rc = step;
            break;
        }
        if ((rc = insert_keys(w, b, p, kho_store_last_id(w), err)) != 0)
            break;
    }
    uint64_t first = 0;
    if (rc == 0 && nnew > 0) {
        rc = kho_tlog_append(l->log, entries, nnew, &first, err);
        if (rc == 0 && first != size)
            rc = kho_err_set(err, KHO_EINTERNAL, "the traceability log grew behind this capture (%llu, not %llu)",
                             (unsigned long long)first, (unsigned long long)size);
    }
    if (rc == 0)
        rc = kho_store_commit(w, err);
    if (rc != 0)
        kho_store_rollback(w);
    free(entries);
    if (rc != 0) {
        json_decref(idlist);
        return rc;
    }
    res->captured = nnew;
    res->first_leaf = size;
    res->tree_size = size + nnew;
    if (ids)
        *ids = idlist;
    else
        json_decref(idlist);
    return 0;
}

void kho_trace_sign(kho_ledger_t *l)
{
    kho_err_t cerr;
    if (kho_tlog_checkpoint(l->log, NULL, &cerr) != 0)
        kho_warn("trace: the checkpoint after a capture failed (the next capture signs it): %s", cerr.msg);
}

int kho_trace_capture(kho_store_t *w, kho_ledger_t *l, const json_t *doc, const char *org,
                      kho_trace_captured_t *res, json_t **ids, kho_err_t *err)
{
    memset(res, 0, sizeof *res);
    if (ids)
        *ids = NULL;
    kho_trace_batch_t *b = NULL;
    int rc = kho_trace_prepare(doc, &b, err);
    if (rc == 0)
        rc = kho_trace_store(w, l, b, org, res, ids, err);
    if (rc == 0 && res->captured > 0)
        kho_trace_sign(l);
    kho_trace_batch_free(b);
    return rc;
}

/* ---- query ------------------------------------------------------------------------ */

typedef struct sqlq {
    kho_buf_t sql;
    const char *vals[256];
    bool owned[256];
    size_t nvals;
} sqlq_t;

static void add_val(sqlq_t *q, const char *v, bool owned)
{
    if (q->nvals < 256) {
        q->owned[q->nvals] = owned;
        q->vals[q->nvals++] = v;
    } else if (owned)
        free((char *)v);
}

/* Split a '|' list into items, calling fn(item) -> a new string (NULL to refuse). */
typedef char *(*norm_fn)(const char *item, kho_err_t *err);

static int in_list(sqlq_t *q, const char *column, const char *param, const char *list, norm_fn norm, kho_err_t *err)
{
    if (!list)
        return 0;
    kho_buf_printf(&q->sql, " AND %s IN (", column);
    const char *p = list;
    int k = 0;
    while (1) {
        size_t n = strcspn(p, "|");
        char item[KHO_EPCIS_KEY_MAX + 64];
        if (n == 0 || n >= sizeof item)
            return kho_err_set(err, KHO_EINVAL, "%s: '%.60s' has an empty or over-long value", param, list);
        memcpy(item, p, n);
        item[n] = '\0';
        char *v = norm(item, err);
        if (!v) {
            kho_err_prefix(err, "%s", param);
            return KHO_EINVAL;
        }
        kho_buf_puts(&q->sql, k++ ? ",?" : "?");
        add_val(q, v, true);
        if (q->nvals >= 200)
            return kho_err_set(err, KHO_EINVAL, "%s: too many values", param);
        if (!p[n])
            break;
        p += n + 1;
    }
    kho_buf_putc(&q->sql, ')');
    return 0;
}

static char *norm_plain(const char *item, kho_err_t *err)
{
    (void)err;
    return kho_xstrdup(item);
}

static char *norm_type(const char *item, kho_err_t *err)
{
    static const char *const types[] = {"ObjectEvent", "AggregationEvent", "TransformationEvent", "TransactionEvent",
                                        "AssociationEvent"};
    for (size_t i = 0; i < 5; i++)
        if (!strcmp(item, types[i]))
            return kho_xstrdup(item);
    kho_err_set(err, KHO_EINVAL, "'%.40s' is not an event type", item);
    return NULL;
}

static char *norm_action(const char *item, kho_err_t *err)
{
    if (!strcmp(item, "ADD") || !strcmp(item, "OBSERVE") || !strcmp(item, "DELETE"))
        return kho_xstrdup(item);
    kho_err_set(err, KHO_EINVAL, "'%.20s' is not ADD, OBSERVE or DELETE", item);
    return NULL;
}

static char *norm_vocab(const char *item, const char *web, const char *urn, bool (*known)(const char *))
{
    const char *w = item;
    if (!strncmp(item, web, strlen(web)))
        w = item + strlen(web);
    else if (!strncmp(item, urn, strlen(urn)))
        w = item + strlen(urn);
    return kho_xstrdup(known(w) ? w : item);
}

static char *norm_step(const char *item, kho_err_t *err)
{
    (void)err;
    return norm_vocab(item, "https://ref.gs1.org/cbv/BizStep-", "urn:epcglobal:cbv:bizstep:", kho_epcis_cbv_bizstep);
}

static char *norm_disp(const char *item, kho_err_t *err)
{
    (void)err;
    return norm_vocab(item, "https://ref.gs1.org/cbv/Disp-", "urn:epcglobal:cbv:disp:", kho_epcis_cbv_disposition);
}

static char *norm_key(const char *item, kho_err_t *err)
{
    char key[KHO_EPCIS_KEY_MAX];
    if (!kho_epcis_key(item, key, sizeof key)) {
        kho_err_set(err, KHO_EINVAL, "'%.60s' is too long", item);
        return NULL;
    }
    return kho_xstrdup(key);
}

static int time_cond(sqlq_t *q, const char *column, const char *op, const char *param, const char *v, kho_err_t *err)
{
    if (!v)
        return 0;
    char utc[25];
    if (kho_epcis_time(v, utc, err) != 0) {
        kho_err_prefix(err, "%s", param);
        return KHO_EINVAL;
    }
    kho_buf_printf(&q->sql, " AND %s %s ?", column, op);
    add_val(q, kho_xstrdup(utc), true);
    return 0;
}

/* MATCH_anyEPC / MATCH_epcClass: keys; a bare GTIN key also matches its lots and items. */
static int match_cond(sqlq_t *q, const char *param, const char *list, bool classes, kho_err_t *err)
{
    if (!list)
        return 0;
    kho_buf_puts(&q->sql, " AND seq IN (SELECT seq FROM trace_epcs WHERE (");
    const char *p = list;
    int k = 0;
    while (1) {
        size_t n = strcspn(p, "|");
        char item[KHO_EPCIS_KEY_MAX + 64];
        if (n == 0 || n >= sizeof item)
            return kho_err_set(err, KHO_EINVAL, "%s: '%.60s' has an empty or over-long value", param, list);
        memcpy(item, p, n);
        item[n] = '\0';
        char *key = norm_key(item, err);
        if (!key)
            return KHO_EINVAL;
        bool gtin_only = !strncmp(key, "01/", 3) && strlen(key) == 17;
        kho_buf_puts(&q->sql, k++ ? " OR " : "");
        if (gtin_only) {
            kho_buf_puts(&q->sql, "key = ? OR (key > ? AND key < ?)");
            char lo[24], hi[24];
            snprintf(lo, sizeof lo, "%s/", key);
            snprintf(hi, sizeof hi, "%s0", key);
            add_val(q, key, true);
            add_val(q, kho_xstrdup(lo), true);
            add_val(q, kho_xstrdup(hi), true);
        } else {
            kho_buf_puts(&q->sql, "key = ?");
            add_val(q, key, true);
        }
        if (q->nvals >= 200)
            return kho_err_set(err, KHO_EINVAL, "%s: too many values", param);
        if (!p[n])
            break;
        p += n + 1;
    }
    kho_buf_puts(&q->sql, classes ? ") AND role IN ('class','child_class','input_class','output_class'))"
                                  : ") AND role IN ('epc','parent','child','input','output'))");
    return 0;
}

int kho_trace_events(kho_store_t *s, const kho_trace_query_t *q, json_t **events, int64_t *next, kho_err_t *err)
{
    *events = NULL;
    *next = 0;
    sqlq_t b = {.sql = KHO_BUF_INIT};
    kho_buf_puts(&b.sql, "SELECT seq, body FROM trace_events WHERE seq > ?");
    int rc = in_list(&b, "type", "eventType", q->event_type, norm_type, err);
    if (rc == 0)
        rc = in_list(&b, "action", "EQ_action", q->action, norm_action, err);
    if (rc == 0)
        rc = in_list(&b, "biz_step", "EQ_bizStep", q->biz_step, norm_step, err);
    if (rc == 0)
        rc = in_list(&b, "disposition", "EQ_disposition", q->disposition, norm_disp, err);
    if (rc == 0)
        rc = in_list(&b, "biz_location", "EQ_bizLocation", q->biz_location, norm_key, err);
    if (rc == 0)
        rc = in_list(&b, "read_point", "EQ_readPoint", q->read_point, norm_key, err);
    if (rc == 0)
        rc = time_cond(&b, "event_time", ">=", "GE_eventTime", q->ge_time, err);
    if (rc == 0)
        rc = time_cond(&b, "event_time", "<", "LT_eventTime", q->lt_time, err);
    if (rc == 0)
        rc = time_cond(&b, "record_time", ">=", "GE_recordTime", q->ge_record_time, err);
    if (rc == 0)
        rc = time_cond(&b, "record_time", "<", "LT_recordTime", q->lt_record_time, err);
    if (rc == 0)
        rc = match_cond(&b, "MATCH_anyEPC", q->any_epc, false, err);
    if (rc == 0)
        rc = match_cond(&b, "MATCH_epcClass", q->epc_class, true, err);
    (void)norm_plain;
    long per = q->per_page > 0 && q->per_page <= 1000 ? q->per_page : 30;
    kho_buf_printf(&b.sql, " ORDER BY seq LIMIT %ld", per + 1);
    kho_stmt_t *st = NULL;
    if (rc == 0)
        rc = kho_store_prepare(s, kho_buf_cstr(&b.sql), &st, err);
    json_t *out = json_array();
    if (rc == 0) {
        kho_stmt_bind_int(st, 1, q->after);
        for (size_t i = 0; i < b.nvals; i++)
            kho_stmt_bind_str(st, (int)i + 2, b.vals[i]);
        long got = 0;
        int step;
        while ((step = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
            if (got == per) {
                *next = kho_stmt_col_int(st, 0) - 1;
                break;
            }
            json_t *ev = json_loads(kho_stmt_col_text(st, 1), 0, NULL);
            if (ev)
                json_array_append_new(out, ev);
            got++;
        }
        if (step < 0)
            rc = step;
    }
    kho_stmt_free(st);
    for (size_t i = 0; i < b.nvals; i++)
        if (b.owned[i])
            free((char *)b.vals[i]);
    kho_buf_free(&b.sql);
    if (rc != 0) {
        json_decref(out);
        *next = 0;
        return rc;
    }
    *events = out;
    return 0;
}

/* ---- proofs ----------------------------------------------------------------------- */

static json_t *b64_hashes(const kho_buf_t *b)
{
    json_t *a = json_array();
    char s[sodium_base64_ENCODED_LEN(KHO_TLOG_HASH, sodium_base64_VARIANT_ORIGINAL)];
    for (size_t i = 0; i + KHO_TLOG_HASH <= b->len; i += KHO_TLOG_HASH) {
        sodium_bin2base64(s, sizeof s, (const unsigned char *)b->data + i, KHO_TLOG_HASH,
                          sodium_base64_VARIANT_ORIGINAL);
        json_array_append_new(a, json_string(s));
    }
    return a;
}

static json_t *b64_bytes(const unsigned char *p, size_t n)
{
    char s[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(s, sizeof s, p, n, sodium_base64_VARIANT_ORIGINAL);
    return json_string(s);
}

/* Does the log's entry `leaf` equal body? */
static bool leaf_matches(kho_ledger_t *l, int64_t leaf, const char *body, size_t len)
{
    kho_buf_t e = KHO_BUF_INIT;
    kho_err_t err;
    bool ok = leaf >= 0 && kho_tlog_entry(l->log, (uint64_t)leaf, &e, &err) == 0 && e.len == len &&
              memcmp(e.data, body, len) == 0;
    kho_buf_free(&e);
    return ok;
}

typedef struct checkpoint {
    kho_buf_t note;
    uint64_t size;
} checkpoint_t;

static int latest(kho_ledger_t *l, checkpoint_t *c, kho_err_t *err)
{
    c->note = (kho_buf_t)KHO_BUF_INIT;
    c->size = 0;
    int rc = kho_tlog_latest(l->log, &c->note, &c->size, err);
    if (rc == KHO_ENOTFOUND) {
        c->size = 0;
        return 0;
    }
    return rc;
}

/* {"leaf_index","leaf","inclusion","intact","checkpointed"} for one stored event. */
static json_t *event_proof(kho_ledger_t *l, const checkpoint_t *c, int64_t leaf, const char *body, size_t len)
{
    json_t *o = json_object();
    json_object_set_new(o, "leaf_index", json_integer(leaf));
    json_object_set_new(o, "leaf", json_stringn(body, len));
    bool intact = leaf_matches(l, leaf, body, len);
    bool covered = (uint64_t)leaf < c->size;
    json_object_set_new(o, "intact", json_boolean(intact));
    json_object_set_new(o, "checkpointed", json_boolean(covered));
    if (covered) {
        kho_buf_t p = KHO_BUF_INIT;
        kho_err_t err;
        if (kho_tlog_inclusion(l->log, (uint64_t)leaf, c->size, &p, &err) == 0)
            json_object_set_new(o, "inclusion", b64_hashes(&p));
        kho_buf_free(&p);
    }
    return o;
}

static void add_checkpoint(json_t *o, kho_ledger_t *l, const checkpoint_t *c)
{
    json_object_set_new(o, "tree_size", json_integer((json_int_t)c->size));
    json_object_set_new(o, "checkpoint", c->size ? json_stringn(c->note.data, c->note.len) : json_null());
    json_object_set_new(o, "origin", json_string(kho_tlog_origin(l->log)));
    json_object_set_new(o, "verifier_key", json_string(kho_tlog_vkey(l->log)));
    json_object_set_new(o, "public_key", b64_bytes(l->pk, 32));
}

int kho_trace_event_proof(kho_store_t *s, kho_ledger_t *l, const char *event_id, json_t **out, kho_err_t *err)
{
    *out = NULL;
    kho_stmt_t *st;
    int rc = kho_store_cached(s, "SELECT leaf, body FROM trace_events WHERE id_hash = ? AND event_id = ?", &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_int(st, 1, kho_store_hash63(event_id, strlen(event_id)));
    kho_stmt_bind_str(st, 2, event_id);
    int step = kho_stmt_step(st, err);
    if (step != KHO_STEP_ROW) {
        kho_stmt_reset(st);
        return step < 0 ? step : kho_err_set(err, KHO_ENOTFOUND, "no event %.200s", event_id);
    }
    checkpoint_t c;
    rc = latest(l, &c, err);
    if (rc == 0) {
        json_t *o = event_proof(l, &c, kho_stmt_col_int(st, 0), kho_stmt_col_text(st, 1), kho_stmt_col_bytes(st, 1));
        json_object_set_new(o, "eventID", json_string(event_id));
        add_checkpoint(o, l, &c);
        *out = o;
    }
    kho_stmt_reset(st);
    kho_buf_free(&c.note);
    return rc;
}

/* ---- journeys --------------------------------------------------------------------- */

/* A set of keys kept as a JSON object (key -> true) for membership, plus its order. */
static bool set_add(json_t *set, json_t *order, const char *k)
{
    if (json_object_get(set, k))
        return false;
    json_object_set_new(set, k, json_true());
    json_array_append_new(order, json_string(k));
    return true;
}

/* Keys of the events (seq) that name `key` in one of the roles, into found (seq set). */
static int events_of(kho_store_t *s, const char *key, json_t *seqs, kho_err_t *err)
{
    kho_stmt_t *st;
    int rc = kho_store_cached(s, "SELECT seq FROM trace_epcs WHERE key = ?", &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, key);
    int step;
    while ((step = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        char k[24];
        snprintf(k, sizeof k, "%lld", (long long)kho_stmt_col_int(st, 0));
        json_object_set_new(seqs, k, json_true());
    }
    kho_stmt_reset(st);
    return step < 0 ? step : 0;
}

/* Keys related to `key` through events where key has role `role` and the other has `other_like`. */
static int related(kho_store_t *s, const char *key, const char *role_sql, const char *other_sql, json_t *set,
                   json_t *order, kho_err_t *err)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT DISTINCT b.key FROM trace_epcs a JOIN trace_epcs b ON b.seq = a.seq "
             "WHERE a.key = ? AND a.role IN (%s) AND b.role IN (%s)",
             role_sql, other_sql);
    kho_stmt_t *st;
    int rc = kho_store_cached(s, sql, &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, key);
    int step;
    while ((step = kho_stmt_step(st, err)) == KHO_STEP_ROW)
        set_add(set, order, kho_stmt_col_text(st, 0));
    kho_stmt_reset(st);
    return step < 0 ? step : 0;
}

static void start_key(const char *gtin14, const char *lot, const char *serial, char *out, size_t size)
{
    if (serial && serial[0])
        snprintf(out, size, "01/%s/21/%s", gtin14, serial);
    else
        snprintf(out, size, "01/%s/10/%s", gtin14, lot);
}

/* ---- containers and the times the lot was in them ----------------------------------- */

/* Times are the stored event_time (UTC, fixed width), so they compare as strings;
 * "" is before every time and "~" after. A window is inclusive at both ends. */
#define T_MIN ""
#define T_MAX "~"

typedef struct window {
    char from[25], to[25];
} window_t;

typedef struct container {
    char *key;
    window_t *w;
    size_t nw;
} container_t;

typedef struct containers {
    container_t *c;
    size_t n, cap;
} containers_t;

static void containers_free(containers_t *cs)
{
    for (size_t i = 0; i < cs->n; i++) {
        free(cs->c[i].key);
        free(cs->c[i].w);
    }
    free(cs->c);
}

static container_t *container_get(containers_t *cs, const char *key)
{
    for (size_t i = 0; i < cs->n; i++)
        if (!strcmp(cs->c[i].key, key))
            return &cs->c[i];
    if (cs->n == cs->cap) {
        cs->cap = cs->cap ? cs->cap * 2 : 8;
        cs->c = kho_xrealloc(cs->c, cs->cap * sizeof *cs->c);
    }
    cs->c[cs->n] = (container_t){.key = kho_xstrdup(key)};
    return &cs->c[cs->n++];
}

static void window_add(container_t *c, const char *from, const char *to)
{
    if (strcmp(from, to) > 0)
        return;
    c->w = kho_xrealloc(c->w, (c->nw + 1) * sizeof *c->w);
    snprintf(c->w[c->nw].from, sizeof c->w[c->nw].from, "%s", from);
    snprintf(c->w[c->nw].to, sizeof c->w[c->nw].to, "%s", to);
    c->nw++;
}

static bool in_windows(const container_t *c, const char *t)
{
    for (size_t i = 0; i < c->nw; i++)
        if (strcmp(c->w[i].from, t) <= 0 && strcmp(t, c->w[i].to) <= 0)
            return true;
    return false;
}

/* The containers `child` went into (AggregationEvent and AssociationEvent parents),
 * each with the windows it was in them: from an ADD (or the first OBSERVE) to the
 * next DELETE that names the child or names no children at all (the container
 * emptied; such a DELETE ends a window but never opens one), clipped to the windows the child itself was in (outer; NULL: always). */
static int containers_of(kho_store_t *s, const char *child, const container_t *outer, containers_t *cs,
                         kho_err_t *err)
{
    kho_stmt_t *st;
    int rc = kho_store_cached(
        s,
        "SELECT b.key, e.event_time, e.action FROM trace_epcs a JOIN trace_epcs b ON b.seq = a.seq AND b.role = "
        "'parent' JOIN trace_events e ON e.seq = a.seq WHERE a.key = ?1 AND a.role IN ('child','child_class') "
        "UNION SELECT b.key, e.event_time, 'EMPTY' FROM trace_epcs a JOIN trace_epcs b ON b.seq = a.seq AND "
        "b.role = 'parent' JOIN trace_epcs p ON p.key = b.key AND p.role = 'parent' JOIN trace_events e ON e.seq = "
        "p.seq AND e.action = 'DELETE' WHERE a.key = ?1 AND a.role IN ('child','child_class') AND NOT EXISTS "
        "(SELECT 1 FROM trace_epcs x WHERE x.seq = p.seq AND x.role IN ('child','child_class')) "
        "ORDER BY 1, 2",
        &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, child);
    int step;
    container_t *cur = NULL;
    char open[25] = "";
    bool is_open = false;
    while ((step = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        const char *key = kho_stmt_col_text(st, 0), *t = kho_stmt_col_text(st, 1), *action = kho_stmt_col_text(st, 2);
        if (!key || !t)
            continue;
        if (!cur || strcmp(cur->key, key)) {
            if (cur && is_open)
                window_add(cur, open, T_MAX);
            cur = container_get(cs, key);
            is_open = false;
        }
        if (action && !strcmp(action, "EMPTY")) {
            if (is_open)
                window_add(cur, open, t);
            is_open = false;
        } else if (action && !strcmp(action, "DELETE")) {
            if (is_open)
                window_add(cur, open, t);
            else if (!cur->nw)
                window_add(cur, T_MIN, t); /* taken out, never seen put in */
            is_open = false;
        } else if (!is_open) {
            snprintf(open, sizeof open, "%s", t);
            is_open = true;
        }
    }
    if (cur && is_open)
        window_add(cur, open, T_MAX);
    kho_stmt_reset(st);
    if (step < 0)
        return step;
    if (!outer)
        return 0;
    /* clip to the windows the child was in its own container */
    for (size_t i = 0; i < cs->n; i++) {
        container_t *c = &cs->c[i];
        window_t *w = c->w;
        size_t nw = c->nw;
        c->w = NULL;
        c->nw = 0;
        for (size_t j = 0; j < nw; j++)
            for (size_t k = 0; k < outer->nw; k++)
                window_add(c, strcmp(w[j].from, outer->w[k].from) > 0 ? w[j].from : outer->w[k].from,
                           strcmp(w[j].to, outer->w[k].to) < 0 ? w[j].to : outer->w[k].to);
        free(w);
    }
    return 0;
}

/* Events of container c while the lot was in it; the container's own packing of
 * other goods (events naming it as the parent of other children) is left out. */
static int container_events(kho_store_t *s, const container_t *c, json_t *seqs, kho_err_t *err)
{
    kho_stmt_t *st;
    int rc = kho_store_cached(s,
                              "SELECT a.seq, e.event_time FROM trace_epcs a JOIN trace_events e ON e.seq = a.seq "
                              "WHERE a.key = ? AND (a.role != 'parent' OR NOT EXISTS (SELECT 1 FROM trace_epcs x "
                              "WHERE x.seq = a.seq AND x.role IN ('child','child_class')))",
                              &st, err);
    if (rc != 0)
        return rc;
    kho_stmt_bind_str(st, 1, c->key);
    int step;
    while ((step = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        const char *t = kho_stmt_col_text(st, 1);
        if (!t || !in_windows(c, t))
            continue;
        char k[24];
        snprintf(k, sizeof k, "%lld", (long long)kho_stmt_col_int(st, 0));
        json_object_set_new(seqs, k, json_true());
    }
    kho_stmt_reset(st);
    return step < 0 ? step : 0;
}

/* Add the containers found (and their windows) to cs, but for the one named skip. */
static void containers_merge(containers_t *cs, const containers_t *found, const char *skip)
{
    for (size_t j = 0; j < found->n; j++) {
        if (skip && !strcmp(found->c[j].key, skip))
            continue;
        container_t *c = container_get(cs, found->c[j].key);
        for (size_t k = 0; k < found->c[j].nw; k++)
            window_add(c, found->c[j].w[k].from, found->c[j].w[k].to);
    }
}

/* The containers of the lots (and of their containers, up to 256), with windows. */
static int journey_containers(kho_store_t *s, const json_t *lots, containers_t *cs, kho_err_t *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(lots); i++) {
        containers_t found = {0};
        rc = containers_of(s, json_string_value(json_array_get(lots, i)), NULL, &found, err);
        if (rc == 0)
            containers_merge(cs, &found, NULL);
        containers_free(&found);
    }
    for (size_t i = 0; rc == 0 && i < cs->n && i < 256; i++) {
        containers_t found = {0}; /* cs is only read until the merge, which may move its entries */
        rc = containers_of(s, cs->c[i].key, &cs->c[i], &found, err);
        if (rc == 0)
            containers_merge(cs, &found, cs->c[i].key);
        containers_free(&found);
    }
    return rc;
}

static int journey_events(kho_store_t *s, const char *start, json_t **lots_out, json_t **containers_out,
                          json_t **rows_out, kho_err_t *err)
{
    json_t *set = json_object(), *lots = json_array(), *containers = json_array();
    json_t *seqs = json_object();
    containers_t cs = {0};
    set_add(set, lots, start);
    int rc = 0;
    /* the lot's sources: inputs of the transformations that output it, followed back */
    for (size_t i = 0; rc == 0 && i < json_array_size(lots) && i < 256; i++)
        rc = related(s, json_string_value(json_array_get(lots, i)), "'output','output_class'",
                     "'input','input_class'", set, lots, err);
    /* containers the lot (or its sources) went into, and the containers of those */
    if (rc == 0)
        rc = journey_containers(s, lots, &cs, err);
    for (size_t i = 0; rc == 0 && i < json_array_size(lots); i++)
        rc = events_of(s, json_string_value(json_array_get(lots, i)), seqs, err);
    for (size_t i = 0; rc == 0 && i < cs.n; i++) {
        json_array_append_new(containers, json_string(cs.c[i].key));
        rc = container_events(s, &cs.c[i], seqs, err);
    }
    containers_free(&cs);
    json_t *rows = json_array();
    if (rc == 0 && json_object_size(seqs) == 0)
        rc = kho_err_set(err, KHO_ENOTFOUND, "no events for %s", start);
    if (rc == 0) {
        kho_buf_t sql = KHO_BUF_INIT;
        kho_buf_puts(&sql, "SELECT seq, leaf, body FROM trace_events WHERE seq IN (");
        const char *k;
        json_t *v;
        int n = 0;
        json_object_foreach(seqs, k, v)
        {
            kho_buf_printf(&sql, "%s%lld", n++ ? "," : "", strtoll(k, NULL, 10));
            if (n >= 5000)
                break;
        }
        kho_buf_puts(&sql, ") ORDER BY event_time, seq");
        kho_stmt_t *st;
        rc = kho_store_prepare(s, kho_buf_cstr(&sql), &st, err);
        kho_buf_free(&sql);
        if (rc == 0) {
            int step;
            while ((step = kho_stmt_step(st, err)) == KHO_STEP_ROW)
                json_array_append_new(rows, json_pack("{s:I,s:I,s:s%}", "seq", (json_int_t)kho_stmt_col_int(st, 0),
                                                      "leaf", (json_int_t)kho_stmt_col_int(st, 1), "body",
                                                      kho_stmt_col_text(st, 2), kho_stmt_col_bytes(st, 2)));
            if (step < 0)
                rc = step;
            kho_stmt_free(st); /* also when a step failed */
        }
    }
    json_decref(set);
    json_decref(seqs);
    if (rc != 0) {
        json_decref(lots);
        json_decref(containers);
        json_decref(rows);
        return rc;
    }
    *lots_out = lots;
    *containers_out = containers;
    *rows_out = rows;
    return 0;
}

static json_t *product_of(kho_store_t *s, const char *gtin14)
{
    kho_stmt_t *st;
    kho_err_t err;
    if (kho_store_cached(s, "SELECT name, name_en, category, net_kg FROM trace_products WHERE gtin = ?", &st, &err) !=
        0)
        return json_null();
    kho_stmt_bind_str(st, 1, gtin14);
    json_t *o = json_null();
    if (kho_stmt_step(st, &err) == KHO_STEP_ROW)
        o = json_pack("{s:s,s:s,s:s,s:s,s:f}", "gtin", gtin14, "name", kho_stmt_col_text(st, 0), "name_en",
                      kho_stmt_col_text(st, 1), "category", kho_stmt_col_text(st, 2), "net_kg",
                      kho_stmt_col_double(st, 3));
    kho_stmt_reset(st);
    return o ? o : json_null();
}

/* The start key of a lot (or serial), its events (journey_events) and the latest
 * checkpoint, as the journey and the lot bundle both need them. On failure
 * nothing is left to free. */
static int lot_events(kho_store_t *s, kho_ledger_t *l, const char *gtin14, const char *lot, const char *serial,
                      char key[KHO_EPCIS_KEY_MAX], json_t **lots, json_t **containers, json_t **rows,
                      checkpoint_t *c, kho_err_t *err)
{
    start_key(gtin14, lot, serial, key, KHO_EPCIS_KEY_MAX);
    int rc = journey_events(s, key, lots, containers, rows, err);
    if (rc != 0)
        return rc;
    rc = latest(l, c, err);
    if (rc != 0) {
        json_decref(*lots);
        json_decref(*containers);
        json_decref(*rows);
        kho_buf_free(&c->note);
    }
    return rc;
}

int kho_trace_journey(kho_store_t *s, kho_ledger_t *l, const char *gtin14, const char *lot, const char *serial,
                      json_t **out, kho_err_t *err)
{
    *out = NULL;
    json_t *lots, *containers, *rows;
    char key[KHO_EPCIS_KEY_MAX];
    checkpoint_t c;
    kho_store_snapshot_begin(s);
    int rc = lot_events(s, l, gtin14, lot, serial, key, &lots, &containers, &rows, &c, err);
    if (rc != 0) {
        kho_store_snapshot_end(s);
        return rc;
    }
    json_t *events = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *body = json_string_value(json_object_get(r, "body"));
        size_t len = json_string_length(json_object_get(r, "body"));
        json_int_t leaf = json_integer_value(json_object_get(r, "leaf"));
        json_t *ev = json_loads(body, 0, NULL);
        json_array_append_new(events, json_pack("{s:O,s:I,s:o*,s:b,s:b}", "seq", json_object_get(r, "seq"), "leaf",
                                                leaf, "event", ev, "intact", leaf_matches(l, leaf, body, len),
                                                "checkpointed", (uint64_t)leaf < c.size));
    }
    *out = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:I}", "gtin", gtin14, "lot", lot ? lot : "", "serial",
                     serial ? serial : "", "key", key, "product",
                     product_of(s, gtin14), "events", events, "lots", lots, "containers", containers, "tree_size",
                     (json_int_t)c.size);
    kho_store_snapshot_end(s);
    kho_buf_free(&c.note);
    json_decref(rows);
    return rc;
}

int kho_trace_lot_bundle(kho_store_t *s, kho_ledger_t *l, const char *gtin14, const char *lot, json_t **out,
                         kho_err_t *err)
{
    *out = NULL;
    json_t *lots, *containers, *rows;
    char key[KHO_EPCIS_KEY_MAX];
    checkpoint_t c;
    kho_store_snapshot_begin(s);
    int rc = lot_events(s, l, gtin14, lot, NULL, key, &lots, &containers, &rows, &c, err);
    kho_store_snapshot_end(s);
    if (rc != 0)
        return rc;
    json_t *events = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *body = json_string_value(json_object_get(r, "body"));
        size_t len = json_string_length(json_object_get(r, "body"));
        json_t *p = event_proof(l, &c, json_integer_value(json_object_get(r, "leaf")), body, len);
        json_t *ev = json_loads(body, 0, NULL);
        json_object_set_new(p, "eventID", json_string(json_string_value(json_object_get(ev, "eventID"))));
        json_decref(ev);
        json_array_append_new(events, p);
    }
    json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o}", "type", "kho-trace-lot-bundle", "gtin", gtin14, "lot", lot,
                          "lots", lots, "containers", containers, "events", events);
    add_checkpoint(o, l, &c);
    json_object_set_new(o, "how_to_verify",
                        json_string("Each event's leaf is its stored JSON; leaf hash = SHA-256(0x00 || leaf); the "
                                    "inclusion proof (RFC 9162) leads to the root hash in the checkpoint, a C2SP "
                                    "signed note signed with Ed25519 by public_key (verifier_key)."));
    kho_buf_free(&c.note);
    json_decref(rows);
    *out = o;
    return rc;
}

/* ---- verification ---------------------------------------------------------------- */

int kho_trace_verify(kho_store_t *s, kho_ledger_t *l, FILE *report, size_t *problems, kho_err_t *err)
{
    *problems = 0;
    size_t log_problems = 0;
    int rc = kho_tlog_verify(l->log, l->pk, report, &log_problems, err);
    if (rc != 0)
        return rc;
    *problems += log_problems;
    uint64_t size = kho_tlog_size(l->log);
    kho_stmt_t *st;
    rc = kho_store_prepare(s, "SELECT leaf, event_id, body FROM trace_events ORDER BY leaf", &st, err);
    if (rc != 0)
        return rc;
    uint64_t expect = 0;
    int step;
    while ((step = kho_stmt_step(st, err)) == KHO_STEP_ROW) {
        int64_t leaf = kho_stmt_col_int(st, 0);
        const char *id = kho_stmt_col_text(st, 1);
        for (; expect < (uint64_t)leaf && expect < size; expect++) {
            fprintf(report, "leaf %llu: a log entry without a stored event (deleted from the database?)\n",
                    (unsigned long long)expect);
            (*problems)++;
        }
        if (leaf < 0 || (uint64_t)leaf >= size) {
            fprintf(report, "event %s: its leaf %lld is not in the log (size %llu)\n", id, (long long)leaf,
                    (unsigned long long)size);
            (*problems)++;
        } else if (!leaf_matches(l, leaf, kho_stmt_col_text(st, 2), kho_stmt_col_bytes(st, 2))) {
            fprintf(report, "event %s (leaf %lld): the stored event differs from its log entry: altered\n", id,
                    (long long)leaf);
            (*problems)++;
        }
        expect = (uint64_t)leaf + 1;
    }
    for (; step >= 0 && expect < size; expect++) {
        fprintf(report, "leaf %llu: a log entry without a stored event (deleted from the database?)\n",
                (unsigned long long)expect);
        (*problems)++;
    }
    kho_stmt_free(st);
    return step < 0 ? step : 0;
}
