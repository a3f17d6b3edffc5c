/* epcis — EPCIS 2.0 capture documents: validation and normalisation (see epcis.h). */
#include "apps/trace/epcis.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "apps/trace/evhash.h"
#include "apps/trace/gs1.h"
#include "core/buf.h"

static const char *const BIZSTEPS[] = {
    "accepting", "arriving", "assembling", "collecting", "commissioning", "consigning", "creating_class_instance",
    "cycle_counting", "decommissioning", "departing", "destroying", "disassembling", "dispensing", "encoding",
    "entering_exiting", "holding", "inspecting", "installing", "killing", "loading", "other", "packing", "picking",
    "receiving", "removing", "repackaging", "repairing", "replacing", "reserving", "retail_selling", "sampling",
    "sensor_reporting", "shipping", "staging_outbound", "stock_taking", "stocking", "storing", "transporting",
    "unloading", "unpacking", "void_shipping", NULL};

static const char *const DISPOSITIONS[] = {
    "active", "available", "completeness_inferred", "completeness_verified", "conformant", "container_closed",
    "container_open", "damaged", "destroyed", "dispensed", "disposed", "encoded", "expired", "in_progress",
    "in_transit", "inactive", "mismatch_instance", "mismatch_class", "mismatch_quantity", "needs_replacement",
    "no_pedigree_match", "non_conformant", "non_sellable_other", "partially_dispensed", "recalled", "reserved",
    "retail_sold", "returned", "sellable_accessible", "sellable_not_accessible", "stolen", "unavailable", "unknown",
    NULL};

static const char *const BIZTX_TYPES[] = {"bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder",
                                          "recadv", "rma", "testprd", "testres", "upevt", NULL};

static const char *const SRCDEST_TYPES[] = {"owning_party", "possessing_party", "location", NULL};

static bool in_list(const char *const *list, const char *w)
{
    for (; *list; list++)
        if (!strcmp(*list, w))
            return true;
    return false;
}

bool kho_epcis_cbv_bizstep(const char *word)
{
    return word && in_list(BIZSTEPS, word);
}

bool kho_epcis_cbv_disposition(const char *word)
{
    return word && in_list(DISPOSITIONS, word);
}

/* ---- paths in messages ------------------------------------------------------------ */

/* Where a check is: the event's index and the field's path. The path is kept as
 * its format and arguments (only %s and %zu) and written out only when a
 * message needs it: most fields pass their checks. */
typedef struct where {
    size_t index;
    const char *fmt; /* NULL or "": the event itself */
    uintptr_t arg[4];
} where_t;

static void where_text(const where_t *w, char *out, size_t size)
{
    kho_buf_t b = KHO_BUF_INIT;
    int i = 0;
    for (const char *p = w->fmt; *p; p++) {
        if (p[0] == '%' && p[1] == 's' && i < 4) {
            kho_buf_puts(&b, (const char *)w->arg[i++]);
            p++;
        } else if (p[0] == '%' && p[1] == 'z' && p[2] == 'u' && i < 4) {
            kho_buf_printf(&b, "%zu", (size_t)w->arg[i++]);
            p += 2;
        } else
            kho_buf_putc(&b, *p);
    }
    snprintf(out, size, "%s", kho_buf_cstr(&b));
    kho_buf_free(&b);
}

static int fail(kho_err_t *err, const where_t *w, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(kho_err_t *err, const where_t *w, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (w->fmt && w->fmt[0]) {
        char field[160];
        where_text(w, field, sizeof field);
        return kho_err_set(err, KHO_EINVAL, "eventList[%zu].%s: %s", w->index, field, msg);
    }
    return kho_err_set(err, KHO_EINVAL, "eventList[%zu]: %s", w->index, msg);
}

/* Set the path (fmt: a literal with only %s and %zu; the strings must outlive w's use). */
static void at(where_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void at(where_t *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    w->fmt = fmt;
    int i = 0;
    for (const char *p = fmt; *p && i < 4; p++) {
        if (p[0] == '%' && p[1] == 's')
            w->arg[i++] = (uintptr_t)va_arg(ap, const char *);
        else if (p[0] == '%' && p[1] == 'z' && p[2] == 'u')
            w->arg[i++] = (uintptr_t)va_arg(ap, size_t);
    }
    va_end(ap);
}

/* ---- scalars --------------------------------------------------------------------- */

#define URI_MAX 512

/* A URI: scheme ":" then printable ASCII without spaces, at most URI_MAX bytes. */
static bool uri_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > URI_MAX || !isalpha((unsigned char)s[0]))
        return false;
    size_t i = 1;
    while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    if (s[i] != ':' || !s[i + 1])
        return false;
    for (; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

static int want_string(const json_t *v, const where_t *w, const char **out, kho_err_t *err)
{
    if (!json_is_string(v))
        return fail(err, w, "must be a string");
    *out = json_string_value(v);
    return 0;
}

/* A GS1 identifier in URN or Digital Link form, checked and (for a Digital Link)
 * rewritten with a 14-digit GTIN; any other URI as it is. *out: new reference. */
static int epc_value(const json_t *v, const where_t *w, json_t **out, kho_err_t *err)
{
    const char *s = NULL;
    if (want_string(v, w, &s, err) != 0)
        return KHO_EINVAL;
    if (!uri_ok(s))
        return fail(err, w, "'%.80s' is not a URI (expected an EPC URN such as urn:epc:id:sgtin:... or a GS1 "
                            "Digital Link https://.../01/...)", s);
    bool gs1 = !strncmp(s, "urn:epc:id:sgtin:", 17) || !strncmp(s, "urn:epc:class:lgtin:", 20) ||
               !strncmp(s, "urn:epc:id:sgln:", 16);
    bool dl = (!strncmp(s, "https://", 8) || !strncmp(s, "http://", 7)) &&
              (strstr(s, "/01/") || strstr(s, "/gtin/"));
    if (gs1 || dl) {
        kho_gs1_epc_t e;
        kho_err_t why;
        if (kho_gs1_parse_epc(s, &e, &why) != 0)
            return fail(err, w, "%s", why.msg);
        if (e.digital_link) {
            /* keep the host and path prefix, rebuild the GS1 part with 14 digits */
            const char *p = strstr(s, "/01/");
            if (!p)
                p = strstr(s, "/gtin/");
            char base[URI_MAX + 1];
            snprintf(base, sizeof base, "%.*s", (int)(p - s), s);
            kho_buf_t b = KHO_BUF_INIT;
            int rc = kho_gs1_dl_build(base, e.gtin14, e.lot, e.serial, &b, &why);
            if (rc != 0) {
                kho_buf_free(&b);
                return fail(err, w, "%s", why.msg);
            }
            *out = json_string(kho_buf_cstr(&b));
            kho_buf_free(&b);
            return 0;
        }
    } else if (!strncmp(s, "urn:epc:id:sscc:", 16)) {
        char key[KHO_EPCIS_KEY_MAX];
        if (!kho_epcis_key(s, key, sizeof key) || strncmp(key, "00/", 3))
            return fail(err, w, "'%.80s' is not an SSCC EPC URI (urn:epc:id:sscc:CompanyPrefix.SerialReference, "
                                "17 digits in all)", s);
    }
    *out = json_string(s);
    return 0;
}

static int time_value(const json_t *v, const where_t *w, kho_err_t *err)
{
    const char *s = NULL;
    if (want_string(v, w, &s, err) != 0)
        return KHO_EINVAL;
    char utc[25];
    kho_err_t why;
    if (kho_epcis_time(s, utc, &why) != 0)
        return fail(err, w, "%s", why.msg);
    return 0;
}

static bool tz_ok(const char *s)
{
    return strlen(s) == 6 && (s[0] == '+' || s[0] == '-') && isdigit((unsigned char)s[1]) &&
           isdigit((unsigned char)s[2]) && s[3] == ':' && isdigit((unsigned char)s[4]) &&
           isdigit((unsigned char)s[5]) && (s[1] - '0') * 10 + (s[2] - '0') <= 14 && s[4] <= '5';
}

/* A CBV word or URI for a vocabulary; stored bare when it is CBV's. */
static int vocab_value(const json_t *v, const where_t *w, const char *const *words, const char *web_prefix,
                       const char *urn_prefix, const char *what, json_t **out, kho_err_t *err)
{
    const char *s = NULL;
    if (want_string(v, w, &s, err) != 0)
        return KHO_EINVAL;
    const char *word = s;
    size_t wp = strlen(web_prefix), up = strlen(urn_prefix);
    if (!strncmp(s, web_prefix, wp))
        word = s + wp;
    else if (!strncmp(s, urn_prefix, up))
        word = s + up;
    if (in_list(words, word)) {
        *out = json_string(word);
        return 0;
    }
    if (word != s)
        return fail(err, w, "'%.60s' is not a CBV 2.0 %s", word, what);
    if (!strchr(s, ':'))
        return fail(err, w, "'%.60s' is not a CBV 2.0 %s (a private one must be a URI)", s, what);
    if (!uri_ok(s))
        return fail(err, w, "'%.80s' is not a URI", s);
    *out = json_string(s);
    return 0;
}

/* ---- lists ------------------------------------------------------------------------ */

static int epc_list(const json_t *v, where_t *w, const char *name, json_t **out, kho_err_t *err)
{
    at(w, "%s", name);
    if (!json_is_array(v))
        return fail(err, w, "must be a list of EPC URIs");
    json_t *a = json_array();
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        at(w, "%s[%zu]", name, i);
        json_t *n = NULL;
        if (epc_value(e, w, &n, err) != 0) {
            json_decref(a);
            return KHO_EINVAL;
        }
        json_array_append_new(a, n);
    }
    *out = a;
    return 0;
}

static int quantity_list(const json_t *v, where_t *w, const char *name, json_t **out, kho_err_t *err)
{
    at(w, "%s", name);
    if (!json_is_array(v))
        return fail(err, w, "must be a list of {\"epcClass\", \"quantity\", \"uom\"}");
    json_t *a = json_array();
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        at(w, "%s[%zu]", name, i);
        if (!json_is_object(e)) {
            json_decref(a);
            return fail(err, w, "must be an object {\"epcClass\", \"quantity\", \"uom\"}");
        }
        json_t *q = json_object();
        json_array_append_new(a, q);
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)e, k, x)
        {
            at(w, "%s[%zu].%s", name, i, k);
            if (!strcmp(k, "epcClass")) {
                json_t *n = NULL;
                if (epc_value(x, w, &n, err) != 0)
                    goto bad;
                json_object_set_new(q, k, n);
            } else if (!strcmp(k, "quantity")) {
                if (!json_is_number(x) || json_number_value(x) < 0 || json_number_value(x) > 1e12) {
                    fail(err, w, "must be a number from 0 to 10^12");
                    goto bad;
                }
                json_object_set(q, k, x);
            } else if (!strcmp(k, "uom")) {
                const char *u = NULL;
                if (want_string(x, w, &u, err) != 0)
                    goto bad;
                size_t n = strlen(u);
                bool ok = n >= 2 && n <= 3;
                for (size_t j = 0; ok && j < n; j++)
                    ok = isalnum((unsigned char)u[j]);
                if (!ok) {
                    fail(err, w, "'%.20s' is not a UN/ECE Rec 20 unit code (such as KGM or LTR)", u);
                    goto bad;
                }
                json_object_set(q, k, x);
            } else {
                fail(err, w, "unknown field (a quantity has epcClass, quantity and uom)");
                goto bad;
            }
        }
        if (!json_object_get(q, "epcClass")) {
            at(w, "%s[%zu]", name, i);
            fail(err, w, "epcClass is missing");
            goto bad;
        }
        if (json_object_get(q, "uom") && !json_object_get(q, "quantity")) {
            at(w, "%s[%zu]", name, i);
            fail(err, w, "a uom needs a quantity");
            goto bad;
        }
    }
    *out = a;
    return 0;
bad:
    json_decref(a);
    return KHO_EINVAL;
}

static int id_object(const json_t *v, where_t *w, const char *name, json_t **out, kho_err_t *err)
{
    at(w, "%s", name);
    if (!json_is_object(v))
        return fail(err, w, "must be an object {\"id\": URI}");
    json_t *o = json_object();
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        at(w, "%s.%s", name, k);
        if (!strcmp(k, "id")) {
            json_t *n = NULL;
            if (epc_value(x, w, &n, err) != 0) {
                json_decref(o);
                return KHO_EINVAL;
            }
            json_object_set_new(o, k, n);
        } else if (strchr(k, ':')) {
            json_object_set(o, k, x);
        } else {
            json_decref(o);
            return fail(err, w, "unknown field (only id, and extensions with a namespace prefix)");
        }
    }
    if (!json_object_get(o, "id")) {
        json_decref(o);
        at(w, "%s", name);
        return fail(err, w, "id is missing");
    }
    *out = o;
    return 0;
}

/* bizTransactionList, sourceList, destinationList: [{type?, <valkey>: URI}] */
static int typed_list(const json_t *v, where_t *w, const char *name, const char *valkey,
                      const char *const *types, const char *web_prefix, const char *urn_prefix, bool type_required,
                      json_t **out, kho_err_t *err)
{
    at(w, "%s", name);
    if (!json_is_array(v))
        return fail(err, w, "must be a list of {\"type\", \"%s\"}", valkey);
    json_t *a = json_array();
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        at(w, "%s[%zu]", name, i);
        if (!json_is_object(e)) {
            json_decref(a);
            return fail(err, w, "must be an object {\"type\", \"%s\"}", valkey);
        }
        json_t *o = json_object();
        json_array_append_new(a, o);
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)e, k, x)
        {
            at(w, "%s[%zu].%s", name, i, k);
            json_t *n = NULL;
            int rc;
            if (!strcmp(k, "type"))
                rc = vocab_value(x, w, types, web_prefix, urn_prefix, "type", &n, err);
            else if (!strcmp(k, valkey)) {
                const char *s = NULL;
                rc = want_string(x, w, &s, err);
                if (rc == 0 && !uri_ok(s))
                    rc = fail(err, w, "'%.80s' is not a URI", s);
                if (rc == 0)
                    n = json_string(s);
            } else
                rc = fail(err, w, "unknown field (expected type and %s)", valkey);
            if (rc != 0) {
                json_decref(a);
                return KHO_EINVAL;
            }
            json_object_set_new(o, k, n);
        }
        at(w, "%s[%zu]", name, i);
        if (!json_object_get(o, valkey) || (type_required && !json_object_get(o, "type"))) {
            json_decref(a);
            return fail(err, w, "%s is missing", json_object_get(o, valkey) ? "type" : valkey);
        }
    }
    *out = a;
    return 0;
}

static int number_field(const json_t *x, const where_t *w, kho_err_t *err)
{
    if (!json_is_number(x))
        return fail(err, w, "must be a number");
    double d = json_number_value(x);
    if (!(d > -1e15 && d < 1e15))
        return fail(err, w, "is out of range");
    return 0;
}

static int sensor_list(const json_t *v, where_t *w, json_t **out, kho_err_t *err)
{
    static const char *const numeric[] = {"value", "minValue", "maxValue", "meanValue", "sDev", "percRank",
                                          "percValue", NULL};
    static const char *const strings[] = {"type", "exception", "deviceID", "deviceMetadata", "rawData",
                                          "dataProcessingMethod", "time", "microorganism", "chemicalSubstance",
                                          "uom", "component", "stringValue", "booleanValue", "hexBinaryValue",
                                          "uriValue", "coordinateReferenceSystem", NULL};
    at(w, "sensorElementList");
    if (!json_is_array(v))
        return fail(err, w, "must be a list of {\"sensorMetadata\", \"sensorReport\"}");
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        at(w, "sensorElementList[%zu]", i);
        if (!json_is_object(e))
            return fail(err, w, "must be an object");
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)e, k, x)
        {
            at(w, "sensorElementList[%zu].%s", i, k);
            if (!strcmp(k, "sensorMetadata")) {
                if (!json_is_object(x))
                    return fail(err, w, "must be an object");
                const char *mk;
                json_t *mx;
                json_object_foreach(x, mk, mx)
                {
                    at(w, "sensorElementList[%zu].sensorMetadata.%s", i, mk);
                    if ((!strcmp(mk, "time") || !strcmp(mk, "startTime") || !strcmp(mk, "endTime")) &&
                        time_value(mx, w, err) != 0)
                        return KHO_EINVAL;
                    if (!strchr(mk, ':') && !json_is_string(mx))
                        return fail(err, w, "must be a string");
                }
            } else if (!strcmp(k, "sensorReport")) {
                if (!json_is_array(x) || json_array_size(x) == 0)
                    return fail(err, w, "must be a non-empty list of readings");
                size_t j;
                const json_t *r;
                json_array_foreach(x, j, r)
                {
                    at(w, "sensorElementList[%zu].sensorReport[%zu]", i, j);
                    if (!json_is_object(r))
                        return fail(err, w, "must be an object");
                    if (!json_object_get(r, "type") && !json_object_get(r, "exception"))
                        return fail(err, w, "type is missing (such as gs1:Temperature)");
                    const char *rk;
                    json_t *rx;
                    json_object_foreach((json_t *)r, rk, rx)
                    {
                        at(w, "sensorElementList[%zu].sensorReport[%zu].%s", i, j, rk);
                        if (in_list(numeric, rk)) {
                            if (number_field(rx, w, err) != 0)
                                return KHO_EINVAL;
                        } else if (!strcmp(rk, "time")) {
                            if (time_value(rx, w, err) != 0)
                                return KHO_EINVAL;
                        } else if (in_list(strings, rk)) {
                            if (!json_is_string(rx) && !(json_is_boolean(rx) && !strcmp(rk, "booleanValue")))
                                return fail(err, w, "must be a string");
                        } else if (!strchr(rk, ':'))
                            return fail(err, w, "unknown field of a sensor reading");
                    }
                }
            } else if (!strchr(k, ':'))
                return fail(err, w, "unknown field (expected sensorMetadata and sensorReport)");
        }
        if (!json_object_get(e, "sensorReport")) {
            at(w, "sensorElementList[%zu]", i);
            return fail(err, w, "sensorReport is missing");
        }
    }
    *out = json_incref((json_t *)v);
    return 0;
}

/* ---- extension prefixes --------------------------------------------------------- */

/* The IRI a JSON-LD @context (a URL, an object, or an array of them) gives prefix
 * (n bytes), or NULL; a later definition wins, as in JSON-LD. */
static const char *ctx_iri(const json_t *ctx, const char *prefix, size_t n, int depth)
{
    if (json_is_array(ctx) && depth == 0) {
        const char *found = NULL;
        size_t i;
        const json_t *x;
        json_array_foreach(ctx, i, x)
        {
            const char *iri = ctx_iri(x, prefix, n, 1);
            if (iri)
                found = iri;
        }
        return found;
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)ctx, k, v)
    {
        if (strlen(k) != n || memcmp(k, prefix, n))
            continue;
        const char *iri = json_is_string(v) ? json_string_value(v) : json_string_value(json_object_get(v, "@id"));
        return iri && *iri ? iri : NULL;
    }
    return NULL;
}

/* Adds to defs the document context's definition of every prefix that the keys
 * of x (at any depth) use, as in "ex:note" (not "https://..."). */
static void used_prefixes(const json_t *x, const json_t *context, json_t *defs, int depth)
{
    if (depth > 64)
        return;
    size_t i;
    const json_t *v;
    if (json_is_array(x)) {
        json_array_foreach(x, i, v) used_prefixes(v, context, defs, depth + 1);
        return;
    }
    const char *k;
    json_object_foreach((json_t *)x, k, v)
    {
        const char *colon = strchr(k, ':');
        size_t n = colon ? (size_t)(colon - k) : 0;
        if (n && k[0] != '@' && strncmp(colon + 1, "//", 2) && !memchr(k, '/', n)) {
            char prefix[64];
            const char *iri = n < sizeof prefix ? ctx_iri(context, k, n, 0) : NULL;
            if (iri) {
                memcpy(prefix, k, n);
                prefix[n] = '\0';
                json_object_set_new(defs, prefix, json_string(iri));
            }
        }
        if (json_is_object(v) || json_is_array(v))
            used_prefixes(v, context, defs, depth + 1);
    }
}

/* An event keeps the definitions of the prefixes its extensions use (from the
 * document it came in) as its own "@context", so that it means the same when
 * it is returned by a query, alone or among events of other documents. */
static void carry_prefixes(json_t *o, const json_t *context)
{
    json_t *defs = json_object();
    used_prefixes(o, context, defs, 0);
    if (json_object_size(defs))
        json_object_set_new(o, "@context", defs);
    else
        json_decref(defs);
}

/* ---- one event -------------------------------------------------------------------- */

enum { T_OBJECT, T_AGGREGATION, T_TRANSFORMATION, T_TRANSACTION, T_ASSOCIATION };

static int depth_ok(const json_t *v, int depth)
{
    if (depth > 16)
        return 0;
    size_t i;
    const char *k;
    json_t *x;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) if (!depth_ok(x, depth + 1)) return 0;
    } else if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x) if (!depth_ok(x, depth + 1)) return 0;
    }
    return 1;
}

int kho_epcis_event(const json_t *ev, const json_t *context, size_t index, json_t **out, kho_err_t *err)
{
    where_t w = {.index = index};
    *out = NULL;
    if (!json_is_object(ev))
        return fail(err, &w, "an event must be a JSON object");
    if (!depth_ok(ev, 0))
        return fail(err, &w, "nested more than 16 levels deep");
    const char *type = json_string_value(json_object_get(ev, "type"));
    int t;
    at(&w, "type");
    if (!type)
        return fail(err, &w, "is missing (ObjectEvent, AggregationEvent, TransformationEvent, TransactionEvent or "
                             "AssociationEvent)");
    if (!strcmp(type, "ObjectEvent"))
        t = T_OBJECT;
    else if (!strcmp(type, "AggregationEvent"))
        t = T_AGGREGATION;
    else if (!strcmp(type, "TransformationEvent"))
        t = T_TRANSFORMATION;
    else if (!strcmp(type, "TransactionEvent"))
        t = T_TRANSACTION;
    else if (!strcmp(type, "AssociationEvent"))
        t = T_ASSOCIATION;
    else
        return fail(err, &w, "'%.40s' is not an event type (ObjectEvent, AggregationEvent, TransformationEvent, "
                             "TransactionEvent or AssociationEvent)", type);

    json_t *o = json_object();
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)ev, k, x)
    {
        at(&w, "%s", k);
        json_t *n = NULL;
        int rc = 0;
        bool list_of_epcs = !strcmp(k, "epcList") || !strcmp(k, "childEPCs") || !strcmp(k, "inputEPCList") ||
                            !strcmp(k, "outputEPCList");
        bool list_of_qty = !strcmp(k, "quantityList") || !strcmp(k, "childQuantityList") ||
                           !strcmp(k, "inputQuantityList") || !strcmp(k, "outputQuantityList");
        bool allowed = true;
        if (list_of_epcs || list_of_qty) {
            bool in = !strncmp(k, "input", 5) || !strncmp(k, "output", 6);
            bool child = !strncmp(k, "child", 5);
            allowed = t == T_TRANSFORMATION                      ? in
                      : t == T_AGGREGATION || t == T_ASSOCIATION ? child
                                                                 : (!in && !child);
        }
        if (!allowed)
            rc = fail(err, &w, "is not a field of a %s", type);
        else if (!strcmp(k, "type") || !strcmp(k, "@context"))
            n = json_incref((json_t *)x);
        else if (!strcmp(k, "recordTime"))
            continue; /* the capture server's, not the client's */
        else if (!strcmp(k, "eventTime")) {
            rc = time_value(x, &w, err);
            if (rc == 0)
                n = json_incref((json_t *)x);
        } else if (!strcmp(k, "eventTimeZoneOffset")) {
            const char *s = NULL;
            rc = want_string(x, &w, &s, err);
            if (rc == 0 && !tz_ok(s))
                rc = fail(err, &w, "'%.20s' is not an offset such as +07:00", s);
            if (rc == 0)
                n = json_incref((json_t *)x);
        } else if (!strcmp(k, "eventID")) {
            const char *s = NULL;
            rc = want_string(x, &w, &s, err);
            if (rc == 0 && !uri_ok(s))
                rc = fail(err, &w, "'%.80s' is not a URI (such as ni:///sha-256;... or urn:uuid:...)", s);
            if (rc == 0)
                n = json_incref((json_t *)x);
        } else if (!strcmp(k, "action")) {
            const char *s = NULL;
            rc = t == T_TRANSFORMATION ? fail(err, &w, "a TransformationEvent has no action")
                                       : want_string(x, &w, &s, err);
            if (rc == 0 && strcmp(s, "ADD") && strcmp(s, "OBSERVE") && strcmp(s, "DELETE"))
                rc = fail(err, &w, "'%.20s' is not ADD, OBSERVE or DELETE", s);
            if (rc == 0)
                n = json_incref((json_t *)x);
        } else if (list_of_epcs)
            rc = epc_list(x, &w, k, &n, err);
        else if (list_of_qty)
            rc = quantity_list(x, &w, k, &n, err);
        else if (!strcmp(k, "parentID")) {
            rc = t == T_AGGREGATION || t == T_TRANSACTION || t == T_ASSOCIATION
                     ? epc_value(x, &w, &n, err)
                     : fail(err, &w, "is not a field of a %s", type);
        } else if (!strcmp(k, "bizStep"))
            rc = vocab_value(x, &w, BIZSTEPS, "https://ref.gs1.org/cbv/BizStep-", "urn:epcglobal:cbv:bizstep:",
                             "business step", &n, err);
        else if (!strcmp(k, "disposition"))
            rc = vocab_value(x, &w, DISPOSITIONS, "https://ref.gs1.org/cbv/Disp-", "urn:epcglobal:cbv:disp:",
                             "disposition", &n, err);
        else if (!strcmp(k, "persistentDisposition")) {
            if (!json_is_object(x))
                rc = fail(err, &w, "must be an object {\"set\": [...], \"unset\": [...]}");
            else
                n = json_incref((json_t *)x);
        } else if (!strcmp(k, "readPoint") || !strcmp(k, "bizLocation"))
            rc = id_object(x, &w, k, &n, err);
        else if (!strcmp(k, "bizTransactionList"))
            rc = typed_list(x, &w, k, "bizTransaction", BIZTX_TYPES, "https://ref.gs1.org/cbv/BTT-",
                            "urn:epcglobal:cbv:btt:", false, &n, err);
        else if (!strcmp(k, "sourceList"))
            rc = typed_list(x, &w, k, "source", SRCDEST_TYPES, "https://ref.gs1.org/cbv/SDT-",
                            "urn:epcglobal:cbv:sdt:", true, &n, err);
        else if (!strcmp(k, "destinationList"))
            rc = typed_list(x, &w, k, "destination", SRCDEST_TYPES, "https://ref.gs1.org/cbv/SDT-",
                            "urn:epcglobal:cbv:sdt:", true, &n, err);
        else if (!strcmp(k, "sensorElementList"))
            rc = t == T_AGGREGATION ? fail(err, &w, "is not a field of an AggregationEvent")
                                    : sensor_list(x, &w, &n, err);
        else if (!strcmp(k, "certificationInfo")) {
            if (json_is_string(x)) {
                if (!uri_ok(json_string_value(x)))
                    rc = fail(err, &w, "must be a URI");
            } else if (json_is_array(x)) {
                size_t i;
                json_t *c;
                json_array_foreach(x, i, c) if (!json_is_string(c) || !uri_ok(json_string_value(c)))
                {
                    at(&w, "certificationInfo[%zu]", i);
                    rc = fail(err, &w, "must be a URI");
                    break;
                }
            } else
                rc = fail(err, &w, "must be a URI or a list of URIs");
            if (rc == 0)
                n = json_incref((json_t *)x);
        } else if (!strcmp(k, "ilmd")) {
            rc = t == T_OBJECT || t == T_TRANSFORMATION ? 0 : fail(err, &w, "is not a field of a %s", type);
            if (rc == 0 && !json_is_object(x))
                rc = fail(err, &w, "must be an object");
            if (rc == 0)
                n = json_incref((json_t *)x);
        } else if (!strcmp(k, "transformationID")) {
            const char *s = NULL;
            rc = t == T_TRANSFORMATION ? want_string(x, &w, &s, err) : fail(err, &w, "is not a field of a %s", type);
            if (rc == 0 && !uri_ok(s))
                rc = fail(err, &w, "must be a URI");
            if (rc == 0)
                n = json_incref((json_t *)x);
        } else if (!strcmp(k, "errorDeclaration")) {
            if (!json_is_object(x) || !json_object_get(x, "declarationTime"))
                rc = fail(err, &w, "must be an object with a declarationTime");
            else
                n = json_incref((json_t *)x);
        } else if (strchr(k, ':') && k[0] != ':')
            n = json_incref((json_t *)x); /* an extension with a namespace prefix */
        else
            rc = fail(err, &w, "unknown field (a user extension needs a namespace prefix such as \"ex:%s\")", k);
        if (rc != 0) {
            json_decref(o);
            return KHO_EINVAL;
        }
        json_object_set_new(o, k, n);
    }

    /* required fields and the event's "what" */
    w.fmt = NULL;
    int rc = 0;
    if (!json_object_get(o, "eventTime"))
        rc = fail(err, &w, "eventTime is missing");
    else if (!json_object_get(o, "eventTimeZoneOffset"))
        rc = fail(err, &w, "eventTimeZoneOffset is missing (such as +07:00)");
    else if (t != T_TRANSFORMATION && !json_object_get(o, "action"))
        rc = fail(err, &w, "action is missing (ADD, OBSERVE or DELETE)");
    else if (t == T_OBJECT && !json_array_size(json_object_get(o, "epcList")) &&
             !json_array_size(json_object_get(o, "quantityList")))
        rc = fail(err, &w, "an ObjectEvent needs a non-empty epcList or quantityList");
    else if (t == T_AGGREGATION && strcmp(json_string_value(json_object_get(o, "action")), "OBSERVE") &&
             !json_object_get(o, "parentID"))
        rc = fail(err, &w, "parentID is missing (an AggregationEvent ADD or DELETE names its container)");
    else if (t == T_ASSOCIATION && strcmp(json_string_value(json_object_get(o, "action")), "OBSERVE") &&
             !json_object_get(o, "parentID"))
        rc = fail(err, &w, "parentID is missing (an AssociationEvent ADD or DELETE names what the children are "
                           "associated with, such as a device or a place)");
    else if (t == T_ASSOCIATION && strcmp(json_string_value(json_object_get(o, "action")), "DELETE") &&
             !json_array_size(json_object_get(o, "childEPCs")) &&
             !json_array_size(json_object_get(o, "childQuantityList")))
        rc = fail(err, &w, "an AssociationEvent ADD or OBSERVE needs a non-empty childEPCs or childQuantityList");
    else if (t == T_TRANSFORMATION &&
             !json_array_size(json_object_get(o, "inputEPCList")) &&
             !json_array_size(json_object_get(o, "inputQuantityList")) &&
             !json_array_size(json_object_get(o, "outputEPCList")) &&
             !json_array_size(json_object_get(o, "outputQuantityList")))
        rc = fail(err, &w, "a TransformationEvent needs inputs or outputs");
    else if (t == T_TRANSACTION && !json_array_size(json_object_get(o, "bizTransactionList")))
        rc = fail(err, &w, "a TransactionEvent needs a non-empty bizTransactionList");
    if (rc != 0) {
        json_decref(o);
        return rc;
    }
    if (context && !json_object_get(o, "@context"))
        carry_prefixes(o, context);
    if (!json_object_get(o, "eventID")) {
        char id[128];
        kho_err_t why;
        if (kho_evhash_id_ctx(ev, context, id, sizeof id, &why) != 0) {
            json_decref(o);
            return fail(err, &w, "its hash-based eventID cannot be computed: %s", why.msg);
        }
        json_object_set_new(o, "eventID", json_string(id));
    }
    *out = o;
    return 0;
}

int kho_epcis_document(const json_t *doc, json_t **events, kho_err_t *err)
{
    *events = NULL;
    if (!json_is_object(doc))
        return kho_err_set(err, KHO_EINVAL, "an EPCIS document must be a JSON object");
    const char *type = json_string_value(json_object_get(doc, "type"));
    if (!type || strcmp(type, "EPCISDocument"))
        return kho_err_set(err, KHO_EINVAL, "type: must be \"EPCISDocument\"");
    const char *ver = json_string_value(json_object_get(doc, "schemaVersion"));
    if (!ver || (strcmp(ver, "2.0") && strcmp(ver, "2")))
        return kho_err_set(err, KHO_EINVAL, "schemaVersion: must be \"2.0\" (kho reads EPCIS 2.0 JSON)");
    json_t *cd = json_object_get(doc, "creationDate");
    char utc[25];
    kho_err_t why;
    if (!json_is_string(cd))
        return kho_err_set(err, KHO_EINVAL, "creationDate: is missing");
    if (kho_epcis_time(json_string_value(cd), utc, &why) != 0)
        return kho_err_set(err, KHO_EINVAL, "creationDate: %s", why.msg);
    json_t *body = json_object_get(doc, "epcisBody");
    if (!json_is_object(body))
        return kho_err_set(err, KHO_EINVAL, "epcisBody: is missing");
    json_t *list = json_object_get(body, "eventList");
    if (!json_is_array(list))
        return kho_err_set(err, KHO_EINVAL, "epcisBody.eventList: is missing or not a list");
    size_t n = json_array_size(list);
    if (n == 0)
        return kho_err_set(err, KHO_EINVAL, "epcisBody.eventList: is empty");
    if (n > KHO_EPCIS_MAX_EVENTS)
        return kho_err_set(err, KHO_ETOOLARGE, "epcisBody.eventList: %zu events; at most %d in one document", n,
                           KHO_EPCIS_MAX_EVENTS);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *e = NULL;
        int rc = kho_epcis_event(json_array_get(list, i), json_object_get(doc, "@context"), i, &e, err);
        if (rc != 0) {
            json_decref(out);
            return rc;
        }
        json_array_append_new(out, e);
    }
    *events = out;
    return 0;
}

/* ---- keys and times ---------------------------------------------------------------- */

bool kho_epcis_key(const char *uri, char *out, size_t size)
{
    kho_gs1_epc_t e;
    int w = -1;
    if (!strncmp(uri, "urn:epc:id:sscc:", 16)) {
        /* CompanyPrefix.SerialReference: 17 digits in all (extension digit first in the reference) */
        const char *p = uri + 16, *dot = strchr(p, '.');
        char d[18];
        size_t cp = dot ? (size_t)(dot - p) : 0, sr = dot ? strlen(dot + 1) : 0;
        if (!dot || cp < 6 || cp > 12 || cp + sr != 17)
            goto raw;
        for (size_t i = 0; i < cp; i++)
            if (!isdigit((unsigned char)p[i]))
                goto raw;
        for (size_t i = 0; i < sr; i++)
            if (!isdigit((unsigned char)dot[1 + i]))
                goto raw;
        d[0] = dot[1];
        memcpy(d + 1, p, cp);
        memcpy(d + 1 + cp, dot + 2, sr - 1);
        d[17] = '\0';
        w = snprintf(out, size, "00/%s%c", d, kho_gs1_check_digit(d, 17));
    } else if (!strncmp(uri, "urn:epc:idpat:sgtin:", 20)) {
        /* CompanyPrefix.IndicatorItemRef.* : the whole product class */
        const char *p = uri + 20, *dot = strchr(p, '.');
        if (!dot || strcmp(dot + 1 + strcspn(dot + 1, "."), ".*"))
            goto raw;
        size_t cp = (size_t)(dot - p), ir = strcspn(dot + 1, ".");
        if (cp + ir != 13)
            goto raw;
        char g[14];
        g[0] = dot[1];
        memcpy(g + 1, p, cp);
        memcpy(g + 1 + cp, dot + 2, ir - 1);
        g[13] = '\0';
        for (int i = 0; i < 13; i++)
            if (!isdigit((unsigned char)g[i]))
                goto raw;
        w = snprintf(out, size, "01/%s%c", g, kho_gs1_check_digit(g, 13));
    } else if (kho_gs1_parse_epc(uri, &e, NULL) == 0) {
        switch (e.kind) {
        case KHO_GS1_SGTIN:
            w = snprintf(out, size, "01/%s/21/%s", e.gtin14, e.serial);
            break;
        case KHO_GS1_LGTIN:
            w = snprintf(out, size, "01/%s/10/%s", e.gtin14, e.lot);
            break;
        case KHO_GS1_GTIN:
            w = snprintf(out, size, "01/%s", e.gtin14);
            break;
        case KHO_GS1_SGLN:
            w = snprintf(out, size, "414/%s/254/%s", e.gln13, e.extension[0] ? e.extension : "0");
            break;
        default:
            goto raw;
        }
    } else
        goto raw;
    return w >= 0 && (size_t)w < size;
raw:
    w = snprintf(out, size, "%s", uri);
    return w >= 0 && (size_t)w < size;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int kho_epcis_time(const char *s, char out[25], kho_err_t *err)
{
    /* YYYY-MM-DDTHH:MM:SS[.fff...](Z|±hh:mm) */
    size_t n = strlen(s);
    if (n < 20 || n > 40 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return kho_err_set(err, KHO_EINVAL, "'%.40s' is not an RFC 3339 time such as 2025-07-20T06:30:00+07:00", s);
    int Y = digits(s, 4), M = digits(s + 5, 2), D = digits(s + 8, 2), h = digits(s + 11, 2), m = digits(s + 14, 2),
        sec = digits(s + 17, 2);
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (Y < 1900 || Y > 9999 || M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h < 0 || h > 23 || m < 0 ||
        m > 59 || sec < 0 || sec > 60)
        return kho_err_set(err, KHO_EINVAL, "'%.40s' is not a valid date and time", s);
    if (M == 2 && D == 29 && !(Y % 4 == 0 && (Y % 100 != 0 || Y % 400 == 0)))
        return kho_err_set(err, KHO_EINVAL, "'%.40s': %d is not a leap year", s, Y);
    const char *p = s + 19;
    int ms = 0;
    if (*p == '.') {
        p++;
        int nd = 0;
        while (isdigit((unsigned char)*p)) {
            if (nd < 3)
                ms = ms * 10 + (*p - '0');
            nd++;
            p++;
        }
        if (nd == 0 || nd > 9)
            return kho_err_set(err, KHO_EINVAL, "'%.40s': bad fraction of a second", s);
        for (; nd < 3; nd++)
            ms *= 10;
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && tz_ok(p)) {
        off = (digits(p + 1, 2) * 60 + digits(p + 4, 2)) * (*p == '-' ? -1 : 1);
        p += 6;
    } else
        return kho_err_set(err, KHO_EINVAL, "'%.40s' has no time zone (end it with Z or an offset such as +07:00)",
                           s);
    if (*p)
        return kho_err_set(err, KHO_EINVAL, "'%.40s': unexpected text after the time", s);
    struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m,
                    .tm_sec = sec > 59 ? 59 : sec};
    time_t t = timegm(&tm) - (time_t)off * 60;
    struct tm u;
    if (!gmtime_r(&t, &u))
        return kho_err_set(err, KHO_EINVAL, "'%.40s' is out of range", s);
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (u.tm_year + 1900) % 10000,
             (u.tm_mon + 1) % 100, u.tm_mday % 100, u.tm_hour % 100, u.tm_min % 100, u.tm_sec % 100, ms % 1000);
    memcpy(out, tmp, 24);
    out[24] = '\0';
    return 0;
}
