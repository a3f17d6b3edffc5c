/* Unit tests of apps/trace/demo: the demo supply chains are deterministic, well-formed master data and EPCIS 2.0
 * documents that kho's own validator accepts, with the features the demo exists to show (a merge, a split, one
 * cold-chain excursion, an expired certificate, a showcase lot with a complete journey). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/trace/demo.h"
#include "apps/trace/epcis.h"
#include "apps/trace/gs1.h"
#include "kho_test.h"

#define CHILLED_MAX_CEL 8.0 /* longan and chicken travel at 0-8 °C; above is an excursion */

static void jdecref(void *p)
{
    json_decref(p);
}

/* A fresh demo, released at teardown. */
static void demo(json_t **master, json_t **docs)
{
    kho_err_t err = {0};
    *master = NULL;
    *docs = NULL;
    int rc = kho_trace_demo(master, docs, &err);
    if (rc != 0)
        fail_msg("kho_trace_demo: %s", err.msg);
    kt_defer(jdecref, *master);
    kt_defer(jdecref, *docs);
}

/* Every event of every document, in capture order (a new array, released at teardown). */
static json_t *events_of(const json_t *docs)
{
    json_t *all = kt_defer(jdecref, json_array());
    size_t i;
    json_t *doc;
    json_array_foreach(docs, i, doc)
    {
        json_array_extend(all, json_object_get(json_object_get(doc, "epcisBody"), "eventList"));
    }
    return all;
}

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static bool is(const json_t *o, const char *key, const char *want)
{
    const char *v = str(o, key);
    return v && strcmp(v, want) == 0;
}

static bool all_digits(const char *s, size_t n)
{
    return s && strlen(s) == n && strspn(s, "0123456789") == n;
}

/* The master record of a kind ("farms", "locations" ...) whose key is id, or NULL. */
static json_t *record(const json_t *master, const char *kind, const char *key, const char *id)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(master, kind), i, r)
    {
        if (id && is(r, key, id))
            return r;
    }
    return NULL;
}

/* The GTIN-14 of an LGTIN class URN (asserted to be one, under the company prefix 8930001). */
static void class_gtin(const char *uri, char gtin14[15])
{
    kho_gs1_epc_t e;
    kho_err_t err = {0};
    if (!uri || kho_gs1_parse_epc(uri, &e, &err) != 0)
        fail_msg("not an LGTIN class: %s (%s)", uri ? uri : "(null)", err.msg);
    assert_int_equal(e.kind, KHO_GS1_LGTIN);
    assert_int_equal(e.company_prefix_len, 7);
    assert_true(kho_gs1_check_digit_ok(e.gtin14, 14));
    memcpy(gtin14, e.gtin14, 15);
}

/* The product category ("longan" ...) of an LGTIN class, asserted to be a master product. */
static const char *class_category(const json_t *master, const char *uri)
{
    char g[15];
    class_gtin(uri, g);
    json_t *p = record(master, "products", "gtin", g);
    if (!p)
        fail_msg("%s: GTIN %s is not a product of the master data", uri, g);
    return str(p, "category");
}

static void check_sscc(const char *uri)
{
    static const char pre[] = "urn:epc:id:sscc:8930001.";
    assert_non_null(uri);
    assert_int_equal(strncmp(uri, pre, sizeof pre - 1), 0);
    assert_true(all_digits(uri + sizeof pre - 1, 10)); /* 7 + 10 = 17 digits: extension, prefix, serial */
}

static const char *const QLISTS[] = {"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"};
static const char *const ELISTS[] = {"epcList", "childEPCs", "inputEPCList", "outputEPCList"};

/* Number of "what" entries of an event in one direction (inputs or outputs of a transformation). */
static size_t count_what(const json_t *ev, const char *qlist, const char *elist)
{
    return json_array_size(json_object_get(ev, qlist)) + json_array_size(json_object_get(ev, elist));
}

static bool has_class(const json_t *ev, const char *list, const char *cls)
{
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(ev, list), i, q)
    {
        if (is(q, "epcClass", cls))
            return true;
    }
    return false;
}

static bool has_class_anywhere(const json_t *ev, const char *cls)
{
    for (size_t k = 0; k < sizeof QLISTS / sizeof QLISTS[0]; k++)
        if (has_class(ev, QLISTS[k], cls))
            return true;
    return false;
}

/* The class a pallet was loaded with (its AggregationEvent ADD), or NULL. */
static const char *pallet_class(const json_t *evs, const char *sscc)
{
    size_t i;
    json_t *ev;
    json_array_foreach(evs, i, ev)
    {
        if (is(ev, "type", "AggregationEvent") && is(ev, "action", "ADD") && is(ev, "parentID", sscc))
            return str(json_array_get(json_object_get(ev, "childQuantityList"), 0), "epcClass");
    }
    return NULL;
}

/* The class an event is about: its first quantity, or the load of the pallet in its epcList. */
static const char *subject_class(const json_t *evs, const json_t *ev)
{
    for (size_t k = 0; k < sizeof QLISTS / sizeof QLISTS[0]; k++) {
        const char *c = str(json_array_get(json_object_get(ev, QLISTS[k]), 0), "epcClass");
        if (c)
            return c;
    }
    const char *sscc = json_string_value(json_array_get(json_object_get(ev, "epcList"), 0));
    return sscc ? pallet_class(evs, sscc) : NULL;
}

/* The lowest and highest temperature readings of an event; false when it has none. */
static bool temperatures(const json_t *ev, double *lo, double *hi)
{
    bool any = false;
    size_t i, j;
    json_t *el, *r;
    json_array_foreach(json_object_get(ev, "sensorElementList"), i, el)
    {
        json_array_foreach(json_object_get(el, "sensorReport"), j, r)
        {
            if (!is(r, "type", "gs1:Temperature"))
                continue;
            assert_true(is(r, "uom", "CEL"));
            double v = json_number_value(json_object_get(r, "value"));
            *lo = any && *lo < v ? *lo : v;
            *hi = any && *hi > v ? *hi : v;
            any = true;
        }
    }
    return any;
}

/* The event's time as UTC "YYYY-MM-DDTHH:MM:SS.mmmZ" (comparable with strcmp). */
static void utc(const json_t *ev, char out[25])
{
    kho_err_t err = {0};
    if (kho_epcis_time(str(ev, "eventTime"), out, &err) != 0)
        fail_msg("eventTime %s: %s", str(ev, "eventTime"), err.msg);
}

static void showcase_class(char *out, size_t n)
{
    char gtin[15], lot[32];
    kho_trace_demo_showcase(gtin, lot);
    kho_buf_t b = KHO_BUF_INIT;
    assert_int_equal(kho_gs1_lgtin_uri(gtin, lot, 7, &b, NULL), 0);
    snprintf(out, n, "%s", kho_buf_cstr(&b));
    kho_buf_free(&b);
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_deterministic(void **state)
{
    (void)state;
    json_t *m1, *d1, *m2, *d2;
    demo(&m1, &d1);
    demo(&m2, &d2);
    assert_true(json_equal(m1, m2));
    assert_true(json_equal(d1, d2));
    char g1[15], l1[32], g2[15], l2[32];
    kho_trace_demo_showcase(g1, l1);
    kho_trace_demo_showcase(g2, l2);
    assert_string_equal(g1, g2);
    assert_string_equal(l1, l2);
}

static void test_counts(void **state)
{
    (void)state;
    json_t *master, *docs;
    demo(&master, &docs);
    assert_true(json_is_true(json_object_get(master, "synthetic")));
    assert_in_range(json_array_size(json_object_get(master, "farms")), 8, 40);
    assert_in_range(json_array_size(json_object_get(master, "products")), 3, 20);
    assert_in_range(json_array_size(json_object_get(master, "locations")), 10, 60);
    assert_in_range(json_array_size(json_object_get(master, "partners")), 4, 20);
    assert_true(json_array_size(docs) >= 3);
    size_t i, total = 0, by_type[4] = {0};
    json_t *doc;
    static const char *const TYPES[] = {"ObjectEvent", "AggregationEvent", "TransformationEvent", "TransactionEvent"};
    json_array_foreach(docs, i, doc)
    {
        assert_true(is(doc, "type", "EPCISDocument"));
        assert_true(is(doc, "schemaVersion", "2.0"));
        assert_non_null(str(doc, "creationDate"));
        json_t *ctx = json_object_get(doc, "@context");
        assert_string_equal(json_string_value(json_array_get(ctx, 0)),
                            "https://ref.gs1.org/standards/epcis/epcis-context.jsonld");
        assert_true(is(json_array_get(ctx, 1), "kho", "https://kho.example.vn/epcis/"));
        json_t *list = json_object_get(json_object_get(doc, "epcisBody"), "eventList");
        assert_in_range(json_array_size(list), 1, 100);
        total += json_array_size(list);
        size_t j;
        json_t *ev;
        json_array_foreach(list, j, ev)
        {
            for (size_t t = 0; t < 4; t++)
                by_type[t] += is(ev, "type", TYPES[t]);
        }
    }
    assert_in_range(total, 300, 600);
    assert_true(by_type[0] > 0 && by_type[1] > 0 && by_type[2] > 0);
    assert_int_equal(by_type[0] + by_type[1] + by_type[2] + by_type[3], total);
}

/* The official 2025 commune list: is code a commune of Hưng Yên (province 33)? Its name in *name. */
static bool hung_yen_commune(const char *code, char *name, size_t n)
{
    char dir[1024], path[1100], line[512];
    if (!kt_find_units(dir, sizeof dir))
        fail_msg("cannot find data/units (set KHO_UNITS_DIR)");
    snprintf(path, sizeof path, "%s/communes.csv", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    bool found = false;
    size_t clen = strlen(code);
    while (!found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *last = strrchr(line, ',');
        const char *first = strchr(line, ',');
        if (clen == 5 && strncmp(line, code, 5) == 0 && line[5] == ',' && last && strcmp(last, ",33") == 0) {
            const char *end = strchr(first + 1, ',');
            snprintf(name, n, "%.*s", (int)(end - first - 1), first + 1);
            found = true;
        }
    }
    fclose(f);
    return found;
}

static void check_certificates(const json_t *farm, bool *expired_before_season)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(farm, "certifications"), i, c)
    {
        const char *s = str(c, "scheme"), *from = str(c, "valid_from"), *to = str(c, "valid_to");
        assert_non_null(s);
        assert_true(!strcmp(s, "VietGAP") || !strcmp(s, "GlobalGAP") || !strcmp(s, "organic"));
        assert_non_null(str(c, "number"));
        assert_true(from && to && strlen(from) == 10 && strlen(to) == 10 && strcmp(from, to) < 0);
        if (strcmp(to, "2025-07-01") < 0)
            *expired_before_season = true;
    }
}

static void test_master_farms(void **state)
{
    (void)state;
    json_t *master, *docs;
    demo(&master, &docs);
    size_t i;
    json_t *f;
    bool expired = false;
    json_array_foreach(json_object_get(master, "farms"), i, f)
    {
        char name[200];
        assert_non_null(str(f, "id"));
        assert_non_null(str(f, "name"));
        assert_true(is(f, "kind", "farm") || is(f, "kind", "coop"));
        if (!hung_yen_commune(str(f, "commune_code"), name, sizeof name))
            fail_msg("%s: commune %s is not in Hưng Yên", str(f, "id"), str(f, "commune_code"));
        assert_true(json_number_value(json_object_get(f, "area_ha")) > 0);
        const char *gln = str(f, "gln");
        if (is(f, "kind", "farm") || gln) {
            assert_true(all_digits(gln, 13) && strncmp(gln, "893", 3) == 0);
            assert_true(kho_gs1_check_digit_ok(gln, 13));
        }
        assert_true(json_is_array(json_object_get(f, "certifications")));
        check_certificates(f, &expired);
    }
    assert_true(expired); /* one certificate had lapsed before the season: validity matters */
}

static void test_master_products_partners(void **state)
{
    (void)state;
    json_t *master, *docs;
    demo(&master, &docs);
    size_t i;
    json_t *p;
    bool cat[3] = {false};
    json_array_foreach(json_object_get(master, "products"), i, p)
    {
        const char *g = str(p, "gtin");
        assert_true(all_digits(g, 14) && strncmp(g, "0893", 4) == 0);
        assert_true(kho_gs1_check_digit_ok(g, 14));
        assert_non_null(str(p, "name"));
        assert_non_null(str(p, "name_en"));
        cat[0] |= is(p, "category", "longan");
        cat[1] |= is(p, "category", "banana");
        cat[2] |= is(p, "category", "chicken");
        assert_true(is(p, "category", "longan") || is(p, "category", "banana") || is(p, "category", "chicken"));
        assert_true(json_is_number(json_object_get(p, "net_kg")) &&
                    json_number_value(json_object_get(p, "net_kg")) >= 0);
    }
    assert_true(cat[0] && cat[1] && cat[2]);
    static const char *const KINDS[] = {"coop", "packer", "transporter", "distributor", "retailer"};
    json_array_foreach(json_object_get(master, "partners"), i, p)
    {
        assert_int_equal(strncmp(str(p, "id"), "urn:epc:id:pgln:893", 19), 0);
        assert_non_null(str(p, "name"));
        bool ok = false;
        for (size_t k = 0; k < 5; k++)
            ok |= is(p, "kind", KINDS[k]);
        assert_true(ok);
    }
}

static void check_location_refs(const json_t *master, const json_t *l)
{
    json_t *farm = json_object_get(l, "farm_id"), *partner = json_object_get(l, "partner_id");
    if (farm && !json_is_null(farm) && !record(master, "farms", "id", json_string_value(farm)))
        fail_msg("%s: farm_id %s is not a farm", str(l, "id"), json_string_value(farm));
    if (partner && !json_is_null(partner) && !record(master, "partners", "id", json_string_value(partner)))
        fail_msg("%s: partner_id %s is not a partner", str(l, "id"), json_string_value(partner));
    if (is(l, "kind", "orchard") || is(l, "kind", "farm"))
        assert_true(json_is_string(farm));
}

static void test_master_locations(void **state)
{
    (void)state;
    json_t *master, *docs;
    demo(&master, &docs);
    static const char *const KINDS[] = {
        "orchard", "farm", "packhouse", "cold_store", "distribution_centre", "retail_store", "slaughterhouse"};
    static const char *const PHO_HIEN[] = {"Phường Phố Hiến", "Phường Sơn Nam", "Phường Hồng Châu", "Xã Tân Hưng"};
    size_t i, orchards = 0;
    json_t *l;
    json_array_foreach(json_object_get(master, "locations"), i, l)
    {
        kho_gs1_epc_t e;
        kho_err_t err = {0};
        assert_int_equal(kho_gs1_parse_epc(str(l, "id"), &e, &err), 0);
        assert_int_equal(e.kind, KHO_GS1_SGLN);
        assert_int_equal(e.company_prefix_len, 7);
        assert_int_equal(strncmp(e.gln13, "893", 3), 0);
        assert_non_null(str(l, "name"));
        assert_non_null(str(l, "address"));
        bool ok = false;
        for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++)
            ok |= is(l, "kind", KINDS[k]);
        assert_true(ok);
        char name[200] = "";
        const char *commune = str(l, "commune_code");
        assert_non_null(commune);
        if (commune[0] == '\0')
            assert_non_null(strstr(str(l, "address"), "Hà Nội"));
        else if (!hung_yen_commune(commune, name, sizeof name))
            fail_msg("%s: commune %s is not in Hưng Yên", str(l, "id"), commune);
        if (is(l, "kind", "orchard")) {
            bool near = false;
            for (size_t k = 0; k < 4; k++)
                near |= strcmp(name, PHO_HIEN[k]) == 0;
            if (!near)
                fail_msg("orchard %s is in %s, not around Phố Hiến", str(l, "id"), name);
            orchards++;
        }
        check_location_refs(master, l);
    }
    assert_true(orchards >= 3);
}

static void check_event_identifiers(const json_t *master, const json_t *ev)
{
    for (size_t k = 0; k < sizeof QLISTS / sizeof QLISTS[0]; k++) {
        size_t i;
        json_t *q;
        json_array_foreach(json_object_get(ev, QLISTS[k]), i, q)
        {
            assert_non_null(class_category(master, str(q, "epcClass")));
            assert_true(json_number_value(json_object_get(q, "quantity")) > 0);
            assert_true(is(q, "uom", "KGM") || is(q, "uom", "H87"));
        }
    }
    for (size_t k = 0; k < sizeof ELISTS / sizeof ELISTS[0]; k++) {
        size_t i;
        json_t *u;
        json_array_foreach(json_object_get(ev, ELISTS[k]), i, u)
        {
            check_sscc(json_string_value(u));
        }
    }
    if (json_object_get(ev, "parentID"))
        check_sscc(str(ev, "parentID"));
    static const char *const PLACES[] = {"readPoint", "bizLocation"};
    for (size_t k = 0; k < 2; k++) {
        const char *id = str(json_object_get(ev, PLACES[k]), "id");
        if (json_object_get(ev, PLACES[k]) && !record(master, "locations", "id", id))
            fail_msg("%s %s is not a location of the master data", PLACES[k], id ? id : "(none)");
    }
}

static void check_event_parties(const json_t *master, const json_t *ev)
{
    static const char *const LISTS[][2] = {{"sourceList", "source"}, {"destinationList", "destination"}};
    for (size_t k = 0; k < 2; k++) {
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(ev, LISTS[k][0]), i, p)
        {
            assert_true(is(p, "type", "owning_party"));
            if (!record(master, "partners", "id", str(p, LISTS[k][1])))
                fail_msg("%s %s is not a partner", LISTS[k][0], str(p, LISTS[k][1]));
        }
    }
}

static void test_events_well_formed(void **state)
{
    (void)state;
    json_t *master, *docs;
    demo(&master, &docs);
    json_t *evs = events_of(docs);
    size_t i;
    json_t *ev;
    json_array_foreach(evs, i, ev)
    {
        const char *t = str(ev, "eventTime");
        char u[25];
        assert_non_null(str(ev, "type"));
        assert_non_null(t);
        assert_true(strlen(t) > 6 && strcmp(t + strlen(t) - 6, "+07:00") == 0);
        assert_true(is(ev, "eventTimeZoneOffset", "+07:00"));
        utc(ev, u);
        assert_int_equal(strncmp(u, "2025-", 5), 0);
        check_event_identifiers(master, ev);
        check_event_parties(master, ev);
    }
}

static void check_harvest_ilmd(const json_t *master, const json_t *ev)
{
    json_t *ilmd = json_object_get(ev, "ilmd");
    assert_non_null(record(master, "farms", "id", str(ilmd, "kho:farmId")));
    assert_non_null(str(ilmd, "kho:harvestDate"));
    assert_true(json_number_value(json_object_get(ilmd, "kho:areaHa")) > 0);
    json_t *in = json_array_get(json_object_get(ilmd, "kho:inputs"), 0);
    assert_non_null(str(in, "name"));
    assert_non_null(str(in, "activeIngredient"));
    assert_non_null(str(in, "appliedOn"));
    assert_true(json_is_integer(json_object_get(in, "preHarvestIntervalDays")));
    assert_true(json_is_number(json_object_get(ilmd, "kho:waterM3")));
    assert_true(json_is_number(json_object_get(ilmd, "kho:energyKWh")));
    assert_true(json_is_number(json_object_get(ilmd, "kho:fertiliserNKg")));
}

/* Harvests and flocks are commissioned by a TransformationEvent without input at a farm; every lot that is
 * consumed, packed or loaded was produced earlier, in capture order and in time. */
static void test_lineage(void **state)
{
    (void)state;
    json_t *master, *docs;
    demo(&master, &docs);
    json_t *evs = events_of(docs);
    size_t i, merges = 0, splits = 0, harvests = 0;
    json_t *ev;
    json_array_foreach(evs, i, ev)
    {
        size_t nin = count_what(ev, "inputQuantityList", "inputEPCList");
        size_t nout = count_what(ev, "outputQuantityList", "outputEPCList");
        if (is(ev, "type", "TransformationEvent") && nin == 0) {
            assert_true(is(ev, "bizStep", "commissioning") && nout == 1);
            json_t *loc = record(master, "locations", "id", str(json_object_get(ev, "bizLocation"), "id"));
            assert_true(is(loc, "kind", "orchard") || is(loc, "kind", "farm"));
            check_harvest_ilmd(master, ev);
            harvests++;
        }
        merges += is(ev, "type", "TransformationEvent") && nin >= 2;
        splits += is(ev, "type", "TransformationEvent") && nout >= 2;
        static const char *const CONSUMED[] = {"inputQuantityList", "childQuantityList"};
        for (size_t k = 0; k < 2; k++) {
            size_t j;
            json_t *q;
            json_array_foreach(json_object_get(ev, CONSUMED[k]), j, q)
            {
                const char *cls = str(q, "epcClass");
                bool made = false;
                char tin[25], tout[25];
                utc(ev, tin);
                for (size_t p = 0; p < i && !made; p++) {
                    json_t *prev = json_array_get(evs, p);
                    utc(prev, tout);
                    made = has_class(prev, "outputQuantityList", cls) && strcmp(tout, tin) <= 0;
                }
                if (!made)
                    fail_msg("event %zu consumes %s, which no earlier TransformationEvent produced", i, cls);
            }
        }
    }
    assert_true(merges >= 1);
    assert_true(splits >= 1);
    assert_true(harvests >= 6);
}

/* Exactly one shipment of a chilled product (longan, chicken) goes above 8 °C, on a longan lot that is not the
 * showcase lot; chilled products stay below 8 °C everywhere else. Bananas are not chilled (below about 13 °C
 * they suffer chilling injury): their readings must stay in 12-18 °C. */
static void test_one_excursion(void **state)
{
    (void)state;
    json_t *master, *docs;
    demo(&master, &docs);
    json_t *evs = events_of(docs);
    char show[128];
    showcase_class(show, sizeof show);
    size_t i, hot = 0, shipments = 0;
    const char *hot_class = NULL;
    json_t *ev;
    json_array_foreach(evs, i, ev)
    {
        double lo = 0, hi = 0;
        bool shipping = is(ev, "type", "ObjectEvent") && is(ev, "bizStep", "shipping");
        bool any = temperatures(ev, &lo, &hi);
        if (shipping) {
            assert_true(any); /* every shipment has its logger's readings */
            shipments++;
        }
        if (!any)
            continue;
        const char *cls = subject_class(evs, ev);
        const char *cat = class_category(master, cls);
        if (strcmp(cat, "banana") == 0) {
            assert_true(lo >= 12.0 && hi <= 18.0);
        } else if (hi > CHILLED_MAX_CEL) {
            if (!shipping)
                fail_msg("event %zu (%s, %s) reads %.1f °C outside a shipment", i, str(ev, "bizStep"), cls, hi);
            hot++;
            hot_class = cls;
        }
    }
    assert_true(shipments >= 20);
    assert_int_equal(hot, 1);
    assert_string_equal(class_category(master, hot_class), "longan");
    assert_string_not_equal(hot_class, show);
}

/* The showcase lot: a packed longan lot out of a merge of orchard harvests, taken to a supermarket shelf. */
static void test_showcase(void **state)
{
    (void)state;
    json_t *master, *docs;
    demo(&master, &docs);
    json_t *evs = events_of(docs);
    char gtin[15], lot[32], show[128], sscc[64] = "";
    kho_trace_demo_showcase(gtin, lot);
    assert_true(all_digits(gtin, 14) && kho_gs1_check_digit_ok(gtin, 14));
    assert_true(lot[0] != '\0');
    showcase_class(show, sizeof show);
    assert_string_equal(class_category(master, show), "longan");
    size_t i, made = 0, shelved = 0;
    json_t *ev;
    json_array_foreach(evs, i, ev)
    {
        if (is(ev, "type", "TransformationEvent") && has_class(ev, "outputQuantityList", show)) {
            assert_true(count_what(ev, "inputQuantityList", "inputEPCList") >= 2);
            made++;
        }
        if (is(ev, "type", "AggregationEvent") && is(ev, "action", "ADD") && has_class(ev, "childQuantityList", show))
            snprintf(sscc, sizeof sscc, "%s", str(ev, "parentID"));
        json_t *at = record(master, "locations", "id", str(json_object_get(ev, "bizLocation"), "id"));
        if (has_class_anywhere(ev, show) && is(ev, "disposition", "sellable_accessible") &&
            is(at, "kind", "retail_store"))
            shelved++;
    }
    assert_int_equal(made, 1);
    assert_true(shelved >= 1);
    check_sscc(sscc);
    bool shipped = false, received = false;
    json_array_foreach(evs, i, ev)
    {
        const char *epc = json_string_value(json_array_get(json_object_get(ev, "epcList"), 0));
        if (epc && strcmp(epc, sscc) == 0) {
            double lo = 0, hi = 0;
            if (is(ev, "type", "ObjectEvent") && is(ev, "bizStep", "shipping")) {
                shipped = true;
                assert_true(temperatures(ev, &lo, &hi) && hi <= CHILLED_MAX_CEL);
            }
            json_t *at = record(master, "locations", "id", str(json_object_get(ev, "bizLocation"), "id"));
            received |= is(ev, "bizStep", "receiving") && is(at, "kind", "distribution_centre");
        }
    }
    assert_true(shipped && received);
}

/* Every document passes kho's own EPCIS 2.0 validation, and every event gets its hash-based ID. */
static void test_epcis_valid(void **state)
{
    (void)state;
    json_t *master, *docs;
    demo(&master, &docs);
    size_t i;
    json_t *doc;
    json_array_foreach(docs, i, doc)
    {
        json_t *out = NULL;
        kho_err_t err = {0};
        if (kho_epcis_document(doc, &out, &err) != 0)
            fail_msg("document %zu: %s", i, err.msg);
        kt_defer(jdecref, out);
        json_t *list = json_object_get(json_object_get(doc, "epcisBody"), "eventList");
        assert_int_equal(json_array_size(out), json_array_size(list));
        size_t j;
        json_t *ev;
        json_array_foreach(out, j, ev)
        {
            assert_non_null(str(ev, "eventID"));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_deterministic, kt_cleanup),
        cmocka_unit_test_teardown(test_counts, kt_cleanup),
        cmocka_unit_test_teardown(test_master_farms, kt_cleanup),
        cmocka_unit_test_teardown(test_master_products_partners, kt_cleanup),
        cmocka_unit_test_teardown(test_master_locations, kt_cleanup),
        cmocka_unit_test_teardown(test_events_well_formed, kt_cleanup),
        cmocka_unit_test_teardown(test_lineage, kt_cleanup),
        cmocka_unit_test_teardown(test_one_excursion, kt_cleanup),
        cmocka_unit_test_teardown(test_showcase, kt_cleanup),
        cmocka_unit_test_teardown(test_epcis_valid, kt_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
