/* h_dcat — DCAT-AP JSON-LD for the catalogue and each dataset (see h_dcat.h). */
#include "api/h_dcat.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/guard.h"
#include "api/server.h"
#include "core/jsonw.h"
#include "core/mem.h"
#include "core/version.h"
#include "warehouse/catalog.h"
#include "warehouse/units.h"

#define LDJSON "application/ld+json; charset=utf-8"
#define SUFFIX ".jsonld"
#define CATALOG_MAX 100000 /* datasets in one catalogue document */

/* ---- shared helpers -------------------------------------------------------------------- */

static bool host_ok(const char *h, size_t n)
{
    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == ':' || c == '[' || c == ']'))
            return false;
    }
    return true;
}

void kho_h_base_url(kho_reqctx_t *rc, char *out, size_t size)
{
    const char *scheme = kho_guard_tls(rc->guard) ? "https" : "http";
    if (strcmp(kho_config_str(rc->cfg, "trust_proxy"), "on") == 0) {
        const char *xfp = kho_http_header_str(rc->req, "x-forwarded-proto");
        if (xfp && strcasecmp(xfp, "https") == 0)
            scheme = "https";
        else if (xfp && strcasecmp(xfp, "http") == 0)
            scheme = "http";
    }
    h2o_iovec_t a = rc->req->authority;
    if (host_ok(a.base, a.len)) {
        snprintf(out, size, "%s://%.*s", scheme, (int)a.len, a.base);
        return;
    }
    /* no usable Host: the address and port the client reached */
    struct sockaddr_storage ss;
    char ip[INET6_ADDRSTRLEN] = "";
    socklen_t len = rc->req->conn->callbacks->get_sockname(rc->req->conn, (struct sockaddr *)&ss);
    if (len > 0 && ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof ip);
        snprintf(out, size, "%s://[%s]:%u", scheme, ip, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
    } else if (len > 0 && ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof ip);
        snprintf(out, size, "%s://%s:%u", scheme, ip, ntohs(((struct sockaddr_in *)&ss)->sin_port));
    } else
        snprintf(out, size, "%s://%s", scheme, kho_config_str(rc->cfg, "listen"));
}

static const kho_licence_info_t LICENCES[] = {
    {"CC-BY-4.0", "Creative Commons Attribution 4.0", "https://creativecommons.org/licenses/by/4.0/", true},
    {"CC-BY-SA-4.0", "Creative Commons Attribution Share-Alike 4.0", "https://creativecommons.org/licenses/by-sa/4.0/",
     true},
    {"CC0-1.0", "Creative Commons CCZero", "https://creativecommons.org/publicdomain/zero/1.0/", true},
    {"ODbL-1.0", "Open Data Commons Open Database License (ODbL)", "https://opendatacommons.org/licenses/odbl/1-0/",
     true},
    {"ODC-By-1.0", "Open Data Commons Attribution License", "https://opendatacommons.org/licenses/by/1-0/", true},
    {"PDDL-1.0", "Open Data Commons Public Domain Dedication and License (PDDL)",
     "https://opendatacommons.org/licenses/pddl/1-0/", true},
    {"cc-by", "Creative Commons Attribution", "http://www.opendefinition.org/licenses/cc-by", true},
    {"cc-by-sa", "Creative Commons Attribution Share-Alike", "http://www.opendefinition.org/licenses/cc-by-sa", true},
    {"cc-zero", "Creative Commons CCZero", "http://www.opendefinition.org/licenses/cc-zero", true},
    {"odc-odbl", "Open Data Commons Open Database License (ODbL)", "http://www.opendefinition.org/licenses/odc-odbl",
     true},
    {"odc-by", "Open Data Commons Attribution License", "http://www.opendefinition.org/licenses/odc-by", true},
    {"odc-pddl", "Open Data Commons Public Domain Dedication and License (PDDL)",
     "http://www.opendefinition.org/licenses/odc-pddl", true},
};

kho_licence_info_t kho_licence_lookup(const char *id)
{
    if (!id || !*id)
        return (kho_licence_info_t){"notspecified", "License not specified", NULL, false};
    for (size_t i = 0; i < sizeof LICENCES / sizeof LICENCES[0]; i++)
        if (strcasecmp(LICENCES[i].id, id) == 0)
            return LICENCES[i];
    return (kho_licence_info_t){id, id, NULL, false};
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 503: return "Service Unavailable";
    default: return status < 500 ? "Error" : "Internal Server Error";
    }
}

void kho_h_send_typed(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len)
{
    req->res.status = status;
    req->res.reason = reason(status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type, strlen(content_type));
    h2o_send_inline(req, body, len);
}

/* ---- JSON-LD building -------------------------------------------------------------------- */

static json_t *context_json(void)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "dcat", "http://www.w3.org/ns/dcat#", "dct",
                     "http://purl.org/dc/terms/", "foaf", "http://xmlns.com/foaf/0.1/", "vcard",
                     "http://www.w3.org/2006/vcard/ns#", "xsd", "http://www.w3.org/2001/XMLSchema#", "rdfs",
                     "http://www.w3.org/2000/01/rdf-schema#", "kho", "urn:kho:vocab#");
}

static json_t *iri(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *iri(const char *fmt, ...)
{
    kho_buf_t b = KHO_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    kho_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    json_t *v = json_pack("{s:s}", "@id", b.data);
    kho_buf_free(&b);
    return v;
}

static json_t *typed(const char *value, const char *type)
{
    return json_pack("{s:s,s:s}", "@value", value, "@type", type);
}

static json_t *vi_text(const char *s)
{
    return json_pack("{s:s,s:s}", "@value", s ? s : "", "@language", "vi");
}

/* A date as far as it is known: 2020 (gYear), 2020-05 (gYearMonth), 2020-05-31 (date). */
static json_t *partial_date(const char *s)
{
    size_t n = strlen(s);
    const char *t = n == 4 ? "xsd:gYear" : n == 7 ? "xsd:gYearMonth" : n == 10 ? "xsd:date" : "xsd:dateTime";
    return typed(s, t);
}

static const char *str_of(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* Percent-encode a dataset id for a URL path (ids are [a-z0-9_-], so only a
 * defensive copy in practice). */
static void path_id(char *out, size_t size, const char *id)
{
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)id; *p && k + 4 < size; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '_' || *p == '.')
            out[k++] = (char)*p;
        else
            k += (size_t)snprintf(out + k, size - k, "%%%02X", *p);
    }
    out[k] = '\0';
}

/* Names of administrative units, looked up once per document. */
typedef struct units_cache {
    kho_store_t *db;
    kho_strmap_t *idx; /* code -> index in names */
    json_t *names;     /* array of strings */
} units_cache_t;

static const char *unit_name(units_cache_t *u, const char *code)
{
    size_t i;
    if (kho_strmap_get(u->idx, code, strlen(code), &i))
        return json_string_value(json_array_get(u->names, i));
    json_t *unit = NULL;
    kho_err_t err;
    const char *name = code;
    if (kho_units_get(u->db, code, NULL, &unit, &err) == 0 && json_is_string(json_object_get(unit, "name")))
        name = json_string_value(json_object_get(unit, "name"));
    json_array_append_new(u->names, json_string(name));
    json_decref(unit);
    i = json_array_size(u->names) - 1;
    kho_strmap_put(u->idx, code, strlen(code), i);
    return json_string_value(json_array_get(u->names, i));
}

static json_t *spatial_json(const char *base, units_cache_t *u, const char *spatial)
{
    json_t *arr = json_array();
    const char *p = spatial;
    while (p && *p) {
        p += strspn(p, " ,");
        size_t n = strcspn(p, " ,");
        if (n == 0 || n > 16)
            break;
        char code[17];
        snprintf(code, sizeof code, "%.*s", (int)n, p);
        json_t *loc = iri("%s/api/v1/units/%s", base, code);
        json_object_set_new(loc, "@type", json_string("dct:Location"));
        json_object_set_new(loc, "dct:identifier", json_string(code));
        json_object_set_new(loc, "rdfs:label", vi_text(unit_name(u, code)));
        json_array_append_new(arr, loc);
        p += n;
    }
    return arr;
}

static json_t *licence_json(const char *licence)
{
    kho_licence_info_t l = kho_licence_lookup(licence);
    if (l.url)
        return iri("%s", l.url);
    return json_pack("{s:s,s:s}", "@type", "dct:LicenseDocument", "rdfs:label", l.title);
}

static json_t *distribution(const char *ds_iri, const char *rows_url, const char *fmt, const char *media,
                            const char *eu_type, bool download, const char *licence, const char *modified)
{
    json_t *d = iri("%s#distribution-%s", ds_iri, fmt);
    char url[1200];
    snprintf(url, sizeof url, "%s?_format=%s", rows_url, fmt);
    json_object_set_new(d, "@type", json_string("dcat:Distribution"));
    char title[32];
    snprintf(title, sizeof title, "%s", fmt);
    for (char *c = title; *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
    json_object_set_new(d, "dct:title", json_string(title));
    json_object_set_new(d, "dcat:accessURL", iri("%s", url));
    if (download)
        json_object_set_new(d, "dcat:downloadURL", iri("%s", url));
    else
        json_object_set_new(d, "dct:description",
                            json_string("Paged JSON rows API (rows_default_limit rows a page; follow \"next\")"));
    json_object_set_new(d, "dcat:mediaType", iri("http://www.iana.org/assignments/media-types/%s", media));
    json_object_set_new(d, "dct:format", iri("http://publications.europa.eu/resource/authority/file-type/%s", eu_type));
    json_object_set_new(d, "dct:license", licence_json(licence));
    if (*modified)
        json_object_set_new(d, "dct:modified", typed(modified, "xsd:dateTime"));
    return d;
}

static const char *access_right(const char *sharing)
{
    if (strcmp(sharing, "open") == 0)
        return "PUBLIC";
    return strcmp(sharing, "shared") == 0 ? "RESTRICTED" : "NON_PUBLIC";
}

/* One dcat:Dataset from kho_catalog_dataset()'s JSON (borrowed); new reference. */
static json_t *dataset_node(const char *base, units_cache_t *u, const json_t *d)
{
    char id[400], ds_iri[600], rows_url[700];
    path_id(id, sizeof id, str_of(d, "id"));
    snprintf(ds_iri, sizeof ds_iri, "%s/api/v1/datasets/%s", base, id);
    snprintf(rows_url, sizeof rows_url, "%s/rows", ds_iri);
    const json_t *org = json_object_get(d, "organisation");
    const char *publisher = str_of(d, "publisher");
    if (!*publisher)
        publisher = org ? str_of(org, "name") : "";
    const char *licence = str_of(d, "licence"), *modified = str_of(d, "updated_at");
    json_t *n = iri("%s", ds_iri);
    json_object_set_new(n, "@type", json_string("dcat:Dataset"));
    json_object_set_new(n, "dct:identifier", json_string(str_of(d, "id")));
    json_object_set_new(n, "dct:title", vi_text(str_of(d, "title")));
    json_object_set_new(n, "dct:description", vi_text(str_of(d, "description")));
    json_object_set_new(n, "dct:publisher", json_pack("{s:s,s:o}", "@type", "foaf:Agent", "foaf:name", vi_text(publisher)));
    if (org)
        json_object_set_new(n, "dcat:contactPoint", json_pack("{s:s,s:o}", "@type", "vcard:Organization", "vcard:fn",
                                                              vi_text(str_of(org, "name"))));
    json_object_set_new(n, "dct:license", licence_json(licence));
    const char *sharing = str_of(d, "sharing");
    json_object_set_new(n, "dct:accessRights",
                        iri("http://publications.europa.eu/resource/authority/access-right/%s", access_right(sharing)));
    json_t *kw = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(d, "tags"), i, t) json_array_append_new(kw, vi_text(json_string_value(t)));
    json_object_set_new(n, "dcat:keyword", kw);
    const json_t *tmp = json_object_get(d, "temporal");
    const char *ts = json_string_value(json_object_get(tmp, "start")), *te = json_string_value(json_object_get(tmp, "end"));
    if (ts || te) {
        json_t *p = json_pack("{s:s}", "@type", "dct:PeriodOfTime");
        if (ts)
            json_object_set_new(p, "dcat:startDate", partial_date(ts));
        if (te)
            json_object_set_new(p, "dcat:endDate", partial_date(te));
        json_object_set_new(n, "dct:temporal", p);
    }
    const char *spatial = json_string_value(json_object_get(d, "spatial"));
    if (spatial && *spatial)
        json_object_set_new(n, "dct:spatial", spatial_json(base, u, spatial));
    if (*str_of(d, "created_at"))
        json_object_set_new(n, "dct:issued", typed(str_of(d, "created_at"), "xsd:dateTime"));
    if (*modified)
        json_object_set_new(n, "dct:modified", typed(modified, "xsd:dateTime"));
    json_object_set_new(n, "dcat:landingPage", iri("%s/datasets/%s", base, id));
    json_object_set_new(n, "kho:sharing", json_string(sharing));
    json_object_set_new(n, "kho:importance", json_string(str_of(d, "importance")));
    json_object_set_new(n, "kho:synthetic", json_boolean(json_is_true(json_object_get(d, "synthetic"))));
    json_t *dist = json_array();
    if (json_integer_value(json_object_get(d, "current_version")) > 0) {
        json_array_append_new(dist, distribution(ds_iri, rows_url, "csv", "text/csv", "CSV", true, licence, modified));
        json_array_append_new(dist, distribution(ds_iri, rows_url, "ndjson", "application/x-ndjson", "JSON", true,
                                                 licence, modified));
        json_array_append_new(dist, distribution(ds_iri, rows_url, "json", "application/json", "JSON", false, licence,
                                                 modified));
    }
    json_object_set_new(n, "dcat:distribution", dist);
    return n;
}

static void units_init(units_cache_t *u, kho_store_t *db)
{
    u->db = db;
    u->idx = kho_strmap_new();
    u->names = json_array();
}

static void units_free(units_cache_t *u)
{
    kho_strmap_free(u->idx);
    json_decref(u->names);
}

static void send_ld(h2o_req_t *req, json_t *doc)
{
    kho_buf_t b = KHO_BUF_INIT;
    kho_json_dump(&b, doc, 0);
    kho_buf_putc(&b, '\n');
    json_decref(doc);
    kho_h_send_typed(req, 200, LDJSON, b.data, b.len);
    kho_buf_free(&b);
}

/* ---- one dataset ---------------------------------------------------------------------------- */

void kho_h_dcat_dataset(kho_reqctx_t *rc)
{
    static const char *const no_params[] = {NULL};
    kho_err_t err;
    const char *seg = rc->var[0];
    size_t n = strlen(seg), sn = strlen(SUFFIX);
    char slug[128];
    int r = kho_http_check_params(rc, no_params, &err);
    if (r == 0 && (n <= sn || n - sn >= sizeof slug || strcmp(seg + n - sn, SUFFIX) != 0))
        r = kho_err_setk(&err, KHO_ENOTFOUND, "unknown_dataset", "no dataset has the id '%.64s'", seg);
    if (r == 0)
        snprintf(slug, sizeof slug, "%.*s", (int)(n - sn), seg);
    kho_decision_t d;
    if (r == 0)
        r = kho_guard_dataset(rc, slug, KHO_ACT_READ, false, NULL, &d, &err);
    json_t *meta = NULL;
    if (r == 0)
        r = kho_catalog_dataset(rc->db, slug, &meta, &err);
    if (r != 0) {
        kho_http_send_error(rc->req, &err, NULL);
        return;
    }
    char base[300];
    kho_h_base_url(rc, base, sizeof base);
    units_cache_t u;
    units_init(&u, rc->db);
    json_t *node = dataset_node(base, &u, meta);
    units_free(&u);
    json_decref(meta);
    json_t *doc = json_pack("{s:o}", "@context", context_json());
    json_object_update(doc, node);
    json_decref(node);
    send_ld(rc->req, doc);
}

/* ---- the catalogue --------------------------------------------------------------------------- */

typedef struct catjob {
    kho_server_t *srv;
    kho_visibility_t vis;
    char base[300];
    json_t *doc;
    int rc;
    kho_err_t err;
} catjob_t;

static int build_catalog(kho_store_t *db, catjob_t *j)
{
    json_t *list = NULL;
    kho_catalog_query_t q = {.limit = CATALOG_MAX, .visible = kho_guard_visible, .visible_ctx = &j->vis};
    int r = kho_catalog_list(db, &q, &list, &j->err);
    if (r != 0)
        return r;
    units_cache_t u;
    units_init(&u, db);
    json_t *sets = json_array();
    const char *newest = "";
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(list, "datasets"), i, s)
    {
        json_t *meta = NULL;
        r = kho_catalog_dataset(db, str_of(s, "id"), &meta, &j->err);
        if (r == KHO_ENOTFOUND) { /* removed meanwhile */
            r = 0;
            continue;
        }
        if (r != 0)
            break;
        json_array_append_new(sets, dataset_node(j->base, &u, meta));
        if (strcmp(str_of(s, "updated_at"), newest) > 0)
            newest = str_of(s, "updated_at");
        json_decref(meta);
    }
    units_free(&u);
    if (r != 0) {
        json_decref(sets);
        json_decref(list);
        return r;
    }
    char cat_iri[400];
    snprintf(cat_iri, sizeof cat_iri, "%s/catalog.jsonld", j->base);
    json_t *doc = json_pack("{s:o,s:s,s:s,s:o,s:o,s:o,s:o}", "@context", context_json(), "@id", cat_iri, "@type",
                            "dcat:Catalog", "dct:title", vi_text("kho — Cổng dữ liệu mở"), "dct:description",
                            vi_text("Danh mục dữ liệu của tỉnh (kho " KHO_VERSION ")"), "dct:publisher",
                            json_pack("{s:s,s:s}", "@type", "foaf:Agent", "foaf:name", "kho"), "foaf:homepage",
                            iri("%s/", j->base));
    if (*newest)
        json_object_set_new(doc, "dct:modified", typed(newest, "xsd:dateTime"));
    json_object_set_new(doc, "dcat:dataset", sets);
    json_decref(list);
    j->doc = doc;
    return 0;
}

static void cat_work(void *data)
{
    catjob_t *j = data;
    kho_store_t *db = kho_server_worker_db(j->srv);
    if (!db) {
        j->rc = kho_err_set(&j->err, KHO_EBUSY, "no database connection on this worker");
        return;
    }
    kho_store_snapshot_begin(db);
    j->rc = build_catalog(db, j);
    kho_store_snapshot_end(db);
}

static void catjob_free(catjob_t *j)
{
    kho_visibility_free(&j->vis);
    json_decref(j->doc);
    free(j);
}

static void cat_done(h2o_req_t *req, void *data)
{
    catjob_t *j = data;
    if (j->rc != 0)
        kho_http_send_error(req, &j->err, NULL);
    else {
        send_ld(req, j->doc);
        j->doc = NULL;
    }
    catjob_free(j);
}

void kho_h_dcat_catalog(kho_reqctx_t *rc)
{
    static const char *const no_params[] = {NULL};
    kho_err_t err;
    int r = kho_http_check_params(rc, no_params, &err);
    catjob_t *j = kho_xcalloc(1, sizeof *j);
    j->srv = rc->srv;
    if (r == 0)
        r = kho_guard_visibility(rc, &j->vis, &err); /* j->vis.who points at rc->who: alive until the response */
    if (r != 0) {
        kho_http_send_error(rc->req, &err, NULL);
        catjob_free(j);
        return;
    }
    kho_h_base_url(rc, j->base, sizeof j->base);
    if (kho_server_defer(rc, cat_work, cat_done, j) != 0)
        catjob_free(j);
}
