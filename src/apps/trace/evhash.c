/* evhash — the EPCIS 2.0 hash-based event ID (see evhash.h). */
#include "apps/trace/evhash.h"

#include <ctype.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/trace/epcis.h"
#include "apps/trace/gs1.h"

#define DL "https://id.gs1.org"

/* ---- values ----------------------------------------------------------------------- */

static void put_number(kho_buf_t *b, double d)
{
    char s[64];
    if (d == floor(d) && fabs(d) < 1e15)
        snprintf(s, sizeof s, "%.0f", d);
    else {
        snprintf(s, sizeof s, "%.15g", d);
        if (strchr(s, '.') && !strchr(s, 'e')) {
            size_t n = strlen(s);
            while (n && s[n - 1] == '0')
                s[--n] = '\0';
            if (n && s[n - 1] == '.')
                s[--n] = '\0';
        }
    }
    kho_buf_puts(b, s);
}

/* Digits of a "CP.REF" pair with the first character of ref moved in front. */
static bool urn_digits(const char *p, char *out, size_t want, const char **rest)
{
    const char *dot = strchr(p, '.');
    if (!dot)
        return false;
    size_t cp = (size_t)(dot - p), rl = strcspn(dot + 1, ".");
    if (cp + rl != want || rl == 0)
        return false;
    out[0] = dot[1];
    memcpy(out + 1, p, cp);
    memcpy(out + 1 + cp, dot + 2, rl - 1);
    out[want] = '\0';
    for (size_t i = 0; i < want; i++)
        if (!isdigit((unsigned char)out[i]))
            return false;
    if (rest)
        *rest = dot + 1 + rl;
    return true;
}

/* An EPC, class or location as a canonical Digital Link; other URIs unchanged. */
static void put_epc(kho_buf_t *b, const char *uri)
{
    kho_gs1_epc_t e;
    char d[20];
    const char *rest;
    if (!strncmp(uri, "urn:epc:id:sscc:", 16) && urn_digits(uri + 16, d, 17, &rest) && !*rest) {
        kho_buf_printf(b, DL "/00/%s%c", d, kho_gs1_check_digit(d, 17));
        return;
    }
    if (!strncmp(uri, "urn:epc:id:pgln:", 16)) {
        const char *p = uri + 16, *dot = strchr(p, '.');
        if (dot && strlen(p) == 13) {
            char g[14];
            memcpy(g, p, (size_t)(dot - p));
            memcpy(g + (dot - p), dot + 1, strlen(dot + 1));
            g[12] = '\0';
            kho_buf_printf(b, DL "/417/%s%c", g, kho_gs1_check_digit(g, 12));
            return;
        }
    }
    if (!strncmp(uri, "urn:epc:id:giai:", 16)) {
        const char *p = uri + 16, *dot = strchr(p, '.');
        if (dot) {
            kho_buf_printf(b, DL "/8004/%.*s%s", (int)(dot - p), p, dot + 1);
            return;
        }
    }
    if (!strncmp(uri, "urn:epc:idpat:sgtin:", 20) && urn_digits(uri + 20, d, 13, &rest) && !strcmp(rest, ".*")) {
        kho_buf_printf(b, DL "/01/%s%c", d, kho_gs1_check_digit(d, 13));
        return;
    }
    if (kho_gs1_parse_epc(uri, &e, NULL) == 0) {
        kho_buf_t t = KHO_BUF_INIT;
        int rc = 0;
        if (e.kind == KHO_GS1_SGLN) {
            kho_buf_printf(&t, DL "/414/%s", e.gln13);
            if (e.extension[0] && strcmp(e.extension, "0"))
                kho_buf_printf(&t, "/254/%s", e.extension);
        } else
            rc = kho_gs1_dl_build(DL, e.gtin14, e.kind == KHO_GS1_LGTIN ? e.lot : NULL,
                                  e.kind == KHO_GS1_SGTIN ? e.serial : NULL, &t, NULL);
        if (rc == 0) {
            kho_buf_append(b, t.data, t.len);
            kho_buf_free(&t);
            return;
        }
        kho_buf_free(&t);
    }
    kho_buf_puts(b, uri);
}

/* A CBV value: bare word or URN -> https://ref.gs1.org/cbv/<Kind>-word. */
static void put_cbv(kho_buf_t *b, const char *v, const char *kind, const char *urn_prefix)
{
    size_t up = strlen(urn_prefix);
    if (!strncmp(v, urn_prefix, up))
        kho_buf_printf(b, "https://ref.gs1.org/cbv/%s-%s", kind, v + up);
    else if (!strchr(v, ':'))
        kho_buf_printf(b, "https://ref.gs1.org/cbv/%s-%s", kind, v);
    else
        kho_buf_puts(b, v);
}

/* gs1:Temperature / Temperature / ALARM_CONDITION -> https://ref.gs1.org/voc/... */
static void put_voc(kho_buf_t *b, const char *v)
{
    if (!strncmp(v, "gs1:", 4))
        kho_buf_printf(b, "https://ref.gs1.org/voc/%s", v + 4);
    else if (!strchr(v, ':'))
        kho_buf_printf(b, "https://ref.gs1.org/voc/%s", v);
    else
        kho_buf_puts(b, v);
}

static int put_time(kho_buf_t *b, const char *v, kho_err_t *err)
{
    char utc[25];
    if (kho_epcis_time(v, utc, err) != 0)
        return KHO_EINVAL;
    kho_buf_puts(b, utc);
    return 0;
}

static void put_scalar(kho_buf_t *b, const json_t *v)
{
    if (json_is_string(v))
        kho_buf_puts(b, json_string_value(v));
    else if (json_is_number(v))
        put_number(b, json_number_value(v));
    else if (json_is_true(v))
        kho_buf_puts(b, "true");
    else if (json_is_false(v))
        kho_buf_puts(b, "false");
}

/* ---- sorted pieces --------------------------------------------------------------- */

typedef struct pieces {
    char **s;
    size_t n, cap;
} pieces_t;

static void add_piece(pieces_t *p, kho_buf_t *b)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        char **s = realloc(p->s, p->cap * sizeof *s);
        if (!s)
            abort();
        p->s = s;
    }
    p->s[p->n++] = kho_buf_steal(b, NULL);
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void flush(pieces_t *p, kho_buf_t *out)
{
    if (p->n > 1)
        qsort(p->s, p->n, sizeof *p->s, cmp);
    for (size_t i = 0; i < p->n; i++) {
        kho_buf_puts(out, p->s[i]);
        free(p->s[i]);
    }
    free(p->s);
    memset(p, 0, sizeof *p);
}

/* ---- extensions ------------------------------------------------------------------ */

/* "ex:name" -> "{ex:}name"; a key without prefix stays as it is. */
static void ext_name(kho_buf_t *b, const char *key)
{
    const char *colon = strchr(key, ':');
    if (colon && colon != key)
        kho_buf_printf(b, "{%.*s:}%s", (int)(colon - key), key, colon + 1);
    else
        kho_buf_puts(b, key);
}

static void ext_value(kho_buf_t *out, const char *key, const json_t *v, int depth);

static void ext_object(kho_buf_t *out, const json_t *o, int depth)
{
    pieces_t p = {0};
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)o, k, x)
    {
        if (k[0] == '@' || k[0] == '#')
            continue;
        kho_buf_t b = KHO_BUF_INIT;
        ext_value(&b, k, x, depth + 1);
        add_piece(&p, &b);
    }
    flush(&p, out);
}

static void ext_value(kho_buf_t *out, const char *key, const json_t *v, int depth)
{
    if (depth > 32)
        return;
    if (json_is_array(v)) {
        pieces_t p = {0};
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            kho_buf_t b = KHO_BUF_INIT;
            ext_value(&b, key, x, depth + 1);
            add_piece(&p, &b);
        }
        flush(&p, out);
    } else if (json_is_object(v)) {
        ext_name(out, key);
        ext_object(out, v, depth);
    } else if (!json_is_null(v)) {
        ext_name(out, key);
        kho_buf_putc(out, '=');
        put_scalar(out, v);
    }
}

/* ---- the event ------------------------------------------------------------------- */

static const char *const KNOWN[] = {
    "type", "eventTime", "eventTimeZoneOffset", "eventID", "recordTime", "errorDeclaration", "certificationInfo",
    "@context", "parentID", "epcList", "inputEPCList", "childEPCs", "quantityList", "childQuantityList",
    "inputQuantityList", "outputEPCList", "outputQuantityList", "action", "transformationID", "bizStep",
    "disposition", "persistentDisposition", "readPoint", "bizLocation", "bizTransactionList", "sourceList",
    "destinationList", "sensorElementList", "ilmd", NULL};

static bool known(const char *k)
{
    for (const char *const *p = KNOWN; *p; p++)
        if (!strcmp(*p, k))
            return true;
    return false;
}

static void epc_list(kho_buf_t *out, const json_t *ev, const char *name)
{
    json_t *l = json_object_get(ev, name);
    if (!json_is_array(l))
        return;
    kho_buf_puts(out, name);
    pieces_t p = {0};
    size_t i;
    json_t *x;
    json_array_foreach(l, i, x)
    {
        if (!json_is_string(x))
            continue;
        kho_buf_t b = KHO_BUF_INIT;
        kho_buf_puts(&b, "epc=");
        put_epc(&b, json_string_value(x));
        add_piece(&p, &b);
    }
    flush(&p, out);
}

static void quantity_list(kho_buf_t *out, const json_t *ev, const char *name)
{
    json_t *l = json_object_get(ev, name);
    if (!json_is_array(l))
        return;
    kho_buf_puts(out, name);
    pieces_t p = {0};
    size_t i;
    json_t *q;
    json_array_foreach(l, i, q)
    {
        kho_buf_t b = KHO_BUF_INIT;
        kho_buf_puts(&b, "quantityElement");
        const char *c = json_string_value(json_object_get(q, "epcClass"));
        if (c) {
            kho_buf_puts(&b, "epcClass=");
            put_epc(&b, c);
        }
        json_t *n = json_object_get(q, "quantity");
        if (json_is_number(n)) {
            kho_buf_puts(&b, "quantity=");
            put_number(&b, json_number_value(n));
        }
        const char *u = json_string_value(json_object_get(q, "uom"));
        if (u)
            kho_buf_printf(&b, "uom=%s", u);
        add_piece(&p, &b);
    }
    flush(&p, out);
}

static void typed_list(kho_buf_t *out, const json_t *ev, const char *name, const char *valkey, const char *kind,
                       const char *urn_prefix, bool epc)
{
    json_t *l = json_object_get(ev, name);
    if (!json_is_array(l))
        return;
    kho_buf_puts(out, name);
    pieces_t p = {0};
    size_t i;
    json_t *x;
    json_array_foreach(l, i, x)
    {
        kho_buf_t b = KHO_BUF_INIT;
        const char *t = json_string_value(json_object_get(x, "type"));
        if (t) {
            kho_buf_puts(&b, "type=");
            put_cbv(&b, t, kind, urn_prefix);
        }
        const char *v = json_string_value(json_object_get(x, valkey));
        if (v) {
            kho_buf_printf(&b, "%s=", valkey);
            if (epc)
                put_epc(&b, v);
            else
                kho_buf_puts(&b, v);
        }
        add_piece(&p, &b);
    }
    flush(&p, out);
}

static int fields(kho_buf_t *out, const json_t *o, const char *const *order, kho_err_t *err)
{
    for (const char *const *f = order; *f; f++) {
        json_t *v = json_object_get(o, *f);
        if (!v || json_is_null(v))
            continue;
        kho_buf_printf(out, "%s=", *f);
        const char *s = json_string_value(v);
        if (s && (!strcmp(*f, "time") || !strcmp(*f, "startTime") || !strcmp(*f, "endTime"))) {
            if (put_time(out, s, err) != 0)
                return KHO_EINVAL;
        } else if (s && (!strcmp(*f, "type") || !strcmp(*f, "exception")))
            put_voc(out, s);
        else if (s && (!strcmp(*f, "deviceID") || !strcmp(*f, "deviceMetadata") || !strcmp(*f, "rawData") ||
                       !strcmp(*f, "dataProcessingMethod") || !strcmp(*f, "bizRules")))
            put_epc(out, s);
        else
            put_scalar(out, v);
    }
    /* extensions inside the object */
    pieces_t p = {0};
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)o, k, x)
    {
        if (!strchr(k, ':') || k[0] == '@')
            continue;
        kho_buf_t b = KHO_BUF_INIT;
        ext_value(&b, k, x, 1);
        add_piece(&p, &b);
    }
    flush(&p, out);
    return 0;
}

static int sensors(kho_buf_t *out, const json_t *ev, kho_err_t *err)
{
    static const char *const meta[] = {"time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData",
                                       "dataProcessingMethod", "bizRules", NULL};
    static const char *const report[] = {"type", "exception", "deviceID", "deviceMetadata", "rawData",
                                         "dataProcessingMethod", "time", "microorganism", "chemicalSubstance",
                                         "value", "component", "stringValue", "booleanValue", "hexBinaryValue",
                                         "uriValue", "minValue", "maxValue", "meanValue", "sDev", "percRank",
                                         "percValue", "uom", "coordinateReferenceSystem", NULL};
    json_t *l = json_object_get(ev, "sensorElementList");
    size_t i;
    json_t *e;
    json_array_foreach(l, i, e)
    {
        kho_buf_puts(out, "sensorElement");
        json_t *m = json_object_get(e, "sensorMetadata");
        if (json_is_object(m)) {
            kho_buf_puts(out, "sensorMetadata");
            if (fields(out, m, meta, err) != 0)
                return KHO_EINVAL;
        }
        pieces_t p = {0};
        size_t j;
        json_t *r;
        json_array_foreach(json_object_get(e, "sensorReport"), j, r)
        {
            kho_buf_t b = KHO_BUF_INIT;
            kho_buf_puts(&b, "sensorReport");
            if (fields(&b, r, report, err) != 0) {
                kho_buf_free(&b);
                kho_buf_t junk = KHO_BUF_INIT;
                flush(&p, &junk);
                kho_buf_free(&junk);
                return KHO_EINVAL;
            }
            add_piece(&p, &b);
        }
        flush(&p, out);
        /* the element's own extensions */
        pieces_t x = {0};
        const char *k;
        json_t *v;
        json_object_foreach(e, k, v)
        {
            if (!strchr(k, ':') || k[0] == '@')
                continue;
            kho_buf_t b = KHO_BUF_INIT;
            ext_value(&b, k, v, 1);
            add_piece(&x, &b);
        }
        flush(&x, out);
    }
    return 0;
}

int kho_evhash_prehash(const json_t *ev, kho_buf_t *out, kho_err_t *err)
{
    if (!json_is_object(ev))
        return kho_err_set(err, KHO_EINVAL, "an event must be an object");
    const char *type = json_string_value(json_object_get(ev, "type"));
    const char *t = json_string_value(json_object_get(ev, "eventTime"));
    const char *tz = json_string_value(json_object_get(ev, "eventTimeZoneOffset"));
    if (!type || !t || !tz)
        return kho_err_set(err, KHO_EINVAL, "type, eventTime and eventTimeZoneOffset are needed for the event hash");
    kho_buf_printf(out, "eventType=%seventTime=", type);
    if (put_time(out, t, err) != 0)
        return KHO_EINVAL;
    kho_buf_printf(out, "eventTimeZoneOffset=%s", tz);
    const char *parent = json_string_value(json_object_get(ev, "parentID"));
    if (parent) {
        kho_buf_puts(out, "parentID=");
        put_epc(out, parent);
    }
    epc_list(out, ev, "epcList");
    epc_list(out, ev, "inputEPCList");
    epc_list(out, ev, "childEPCs");
    quantity_list(out, ev, "quantityList");
    quantity_list(out, ev, "childQuantityList");
    quantity_list(out, ev, "inputQuantityList");
    epc_list(out, ev, "outputEPCList");
    quantity_list(out, ev, "outputQuantityList");
    const char *s;
    if ((s = json_string_value(json_object_get(ev, "action"))))
        kho_buf_printf(out, "action=%s", s);
    if ((s = json_string_value(json_object_get(ev, "transformationID")))) {
        kho_buf_puts(out, "transformationID=");
        put_epc(out, s);
    }
    if ((s = json_string_value(json_object_get(ev, "bizStep")))) {
        kho_buf_puts(out, "bizStep=");
        put_cbv(out, s, "BizStep", "urn:epcglobal:cbv:bizstep:");
    }
    if ((s = json_string_value(json_object_get(ev, "disposition")))) {
        kho_buf_puts(out, "disposition=");
        put_cbv(out, s, "Disp", "urn:epcglobal:cbv:disp:");
    }
    json_t *pd = json_object_get(ev, "persistentDisposition");
    if (json_is_object(pd)) {
        kho_buf_puts(out, "persistentDisposition");
        const char *which[] = {"set", "unset"};
        for (int w = 0; w < 2; w++) {
            pieces_t p = {0};
            size_t i;
            json_t *x;
            json_array_foreach(json_object_get(pd, which[w]), i, x)
            {
                if (!json_is_string(x))
                    continue;
                kho_buf_t b = KHO_BUF_INIT;
                kho_buf_printf(&b, "%s=", which[w]);
                put_cbv(&b, json_string_value(x), "Disp", "urn:epcglobal:cbv:disp:");
                add_piece(&p, &b);
            }
            flush(&p, out);
        }
    }
    const char *places[] = {"readPoint", "bizLocation"};
    for (int i = 0; i < 2; i++) {
        const char *id = json_string_value(json_object_get(json_object_get(ev, places[i]), "id"));
        if (id) {
            kho_buf_printf(out, "%sid=", places[i]);
            put_epc(out, id);
        }
    }
    typed_list(out, ev, "bizTransactionList", "bizTransaction", "BTT", "urn:epcglobal:cbv:btt:", true);
    typed_list(out, ev, "sourceList", "source", "SDT", "urn:epcglobal:cbv:sdt:", true);
    typed_list(out, ev, "destinationList", "destination", "SDT", "urn:epcglobal:cbv:sdt:", true);
    if (sensors(out, ev, err) != 0)
        return KHO_EINVAL;
    json_t *ilmd = json_object_get(ev, "ilmd");
    if (json_is_object(ilmd)) {
        kho_buf_puts(out, "ilmd");
        ext_object(out, ilmd, 1);
    }
    pieces_t p = {0};
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)ev, k, x)
    {
        if (known(k) || k[0] == '@')
            continue;
        kho_buf_t b = KHO_BUF_INIT;
        ext_value(&b, k, x, 1);
        add_piece(&p, &b);
    }
    flush(&p, out);
    return 0;
}

int kho_evhash_id(const json_t *ev, char *id, size_t size, kho_err_t *err)
{
    if (size < KHO_EVHASH_ID_LEN + 1)
        return kho_err_set(err, KHO_EINTERNAL, "event ID buffer too small");
    kho_buf_t b = KHO_BUF_INIT;
    int rc = kho_evhash_prehash(ev, &b, err);
    if (rc == 0) {
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const unsigned char *)(b.data ? b.data : ""), b.len);
        char hex[2 * sizeof h + 1];
        sodium_bin2hex(hex, sizeof hex, h, sizeof h);
        snprintf(id, size, "ni:///sha-256;%s?ver=CBV2.0", hex);
    }
    kho_buf_free(&b);
    return rc;
}
