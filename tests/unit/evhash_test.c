/* Unit tests of apps/trace/evhash: the EPCIS 2.0 event hash ID's pre-hash string against the
 * published examples of the reference implementation (RalphTro/epcis-event-hash-generator,
 * tests/examples/expected/CBV2.0/: CertificationInfoAndSensorReportWithCRS and
 * TransformationEvent_all_possible_fields), written here as kho receives them (URNs, CBV words);
 * and the properties kho relies on (key order does not matter, bad input is an error). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "apps/trace/evhash.h"

static char *prehash(const char *json)
{
    json_error_t je;
    json_t *ev = json_loads(json, 0, &je);
    assert_non_null(ev);
    kho_buf_t b = KHO_BUF_INIT;
    kho_err_t err;
    assert_int_equal(kho_evhash_prehash(ev, &b, &err), 0);
    json_decref(ev);
    return kho_buf_steal(&b, NULL);
}

/* The first sensor element of CertificationInfoAndSensorReportWithCRS (the second carries a
 * namespaced extension, whose namespace kho writes as its prefix: see evhash.h). */
static void test_object_event_with_sensor(void **state)
{
    (void)state;
    char *p = prehash(
        "{\"type\":\"ObjectEvent\",\"eventTime\":\"2023-01-11T12:00:00+01:00\",\"eventTimeZoneOffset\":\"+01:00\","
        "\"epcList\":[\"urn:epc:id:sgtin:4012345.099999.XYZ-1234\"],\"action\":\"OBSERVE\",\"bizStep\":\"receiving\","
        "\"disposition\":\"in_progress\",\"readPoint\":{\"id\":\"urn:epc:id:sgln:4012345.00011.0\"},"
        "\"sensorElementList\":[{\"sensorMetadata\":{\"time\":\"2023-01-11T11:05:00Z\","
        "\"bizRules\":\"https://id.gs1.org/253/4012345000054987\"},\"sensorReport\":[{\"type\":\"gs1:Dimensionless\","
        "\"exception\":\"ALARM_CONDITION\",\"coordinateReferenceSystem\":\"http://www.opengis.net/def/crs/EPSG/0/27700\"}]}],"
        "\"recordTime\":\"2024-01-01T00:00:00Z\",\"eventID\":\"urn:uuid:x\"}");
    assert_string_equal(
        p, "eventType=ObjectEventeventTime=2023-01-11T11:00:00.000ZeventTimeZoneOffset=+01:00epcListepc=https://"
           "id.gs1.org/01/04012345999990/21/XYZ-1234action=OBSERVEbizStep=https://ref.gs1.org/cbv/"
           "BizStep-receivingdisposition=https://ref.gs1.org/cbv/Disp-in_progressreadPointid=https://id.gs1.org/414/"
           "4012345000115sensorElementsensorMetadatatime=2023-01-11T11:05:00.000ZbizRules=https://id.gs1.org/253/"
           "4012345000054987sensorReporttype=https://ref.gs1.org/voc/Dimensionlessexception=https://ref.gs1.org/voc/"
           "ALARM_CONDITIONcoordinateReferenceSystem=http://www.opengis.net/def/crs/EPSG/0/27700");
    free(p);
}

/* The start of TransformationEvent_all_possible_fields: inputs as URNs in another order. */
static void test_transformation_inputs(void **state)
{
    (void)state;
    char *p = prehash(
        "{\"type\":\"TransformationEvent\",\"eventTime\":\"2013-10-31T16:58:56.591+02:00\","
        "\"eventTimeZoneOffset\":\"+02:00\",\"inputEPCList\":[\"urn:epc:id:sgtin:4012345.011122.25\","
        "\"urn:epc:id:sgtin:4000001.065432.99886655\"],\"inputQuantityList\":["
        "{\"epcClass\":\"urn:epc:class:lgtin:4012345.011111.4444\",\"quantity\":10.0,\"uom\":\"KGM\"},"
        "{\"epcClass\":\"urn:epc:class:lgtin:0614141.077777.987\",\"quantity\":30},"
        "{\"epcClass\":\"urn:epc:idpat:sgtin:4012345.066666.*\",\"quantity\":220}],"
        "\"bizTransactionList\":[{\"type\":\"po\",\"bizTransaction\":\"https://id.gs1.org/253/06141410000121618034\"},"
        "{\"type\":\"pedigree\",\"bizTransaction\":\"https://id.gs1.org/8018/061414100000102534\"}]}");
    assert_string_equal(
        p, "eventType=TransformationEventeventTime=2013-10-31T14:58:56.591ZeventTimeZoneOffset=+02:00inputEPCListepc="
           "https://id.gs1.org/01/04000001654321/21/99886655epc=https://id.gs1.org/01/04012345111224/21/"
           "25inputQuantityListquantityElementepcClass=https://id.gs1.org/01/00614141777778/10/987quantity="
           "30quantityElementepcClass=https://id.gs1.org/01/04012345111118/10/4444quantity=10uom="
           "KGMquantityElementepcClass=https://id.gs1.org/01/04012345666663quantity=220bizTransactionListtype=https://"
           "ref.gs1.org/cbv/BTT-pedigreebizTransaction=https://id.gs1.org/8018/061414100000102534type=https://"
           "ref.gs1.org/cbv/BTT-pobizTransaction=https://id.gs1.org/253/06141410000121618034");
    free(p);
}

static void id_of(const char *json, char id[KHO_EVHASH_ID_LEN + 1])
{
    json_t *ev = json_loads(json, 0, NULL);
    assert_non_null(ev);
    kho_err_t err;
    assert_int_equal(kho_evhash_id(ev, id, KHO_EVHASH_ID_LEN + 1, &err), 0);
    json_decref(ev);
}

static void test_ids(void **state)
{
    (void)state;
    char a[KHO_EVHASH_ID_LEN + 1], b[KHO_EVHASH_ID_LEN + 1], c[KHO_EVHASH_ID_LEN + 1];
    id_of("{\"type\":\"ObjectEvent\",\"eventTime\":\"2025-07-18T06:30:00+07:00\",\"eventTimeZoneOffset\":\"+07:00\","
          "\"epcList\":[\"urn:epc:id:sscc:8930001.0000000001\",\"urn:epc:id:sscc:8930001.0000000002\"],"
          "\"action\":\"OBSERVE\",\"bizStep\":\"shipping\",\"ex:note\":{\"a\":1,\"b\":[2,1]}}",
          a);
    /* the same event: keys and list order changed, the time in UTC, the CBV word as a URN */
    id_of("{\"ex:note\":{\"b\":[1,2],\"a\":1},\"bizStep\":\"urn:epcglobal:cbv:bizstep:shipping\","
          "\"action\":\"OBSERVE\",\"epcList\":[\"urn:epc:id:sscc:8930001.0000000002\","
          "\"urn:epc:id:sscc:8930001.0000000001\"],\"eventTimeZoneOffset\":\"+07:00\","
          "\"eventTime\":\"2025-07-17T23:30:00.000Z\",\"type\":\"ObjectEvent\"}",
          b);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), KHO_EVHASH_ID_LEN);
    assert_memory_equal(a, "ni:///sha-256;", 14);
    assert_string_equal(a + 78, "?ver=CBV2.0");
    /* another action is another event */
    id_of("{\"type\":\"ObjectEvent\",\"eventTime\":\"2025-07-18T06:30:00+07:00\",\"eventTimeZoneOffset\":\"+07:00\","
          "\"epcList\":[\"urn:epc:id:sscc:8930001.0000000001\",\"urn:epc:id:sscc:8930001.0000000002\"],"
          "\"action\":\"ADD\",\"bizStep\":\"shipping\",\"ex:note\":{\"a\":1,\"b\":[2,1]}}",
          c);
    assert_string_not_equal(a, c);
}

static void test_bad_input(void **state)
{
    (void)state;
    const char *bad[] = {"[]", "{}", "{\"type\":\"ObjectEvent\"}",
                         "{\"type\":\"ObjectEvent\",\"eventTime\":\"yesterday\",\"eventTimeZoneOffset\":\"+07:00\"}",
                         "{\"type\":1,\"eventTime\":\"2025-07-18T06:30:00Z\",\"eventTimeZoneOffset\":\"+07:00\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *ev = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        char id[KHO_EVHASH_ID_LEN + 1];
        kho_err_t err;
        assert_int_not_equal(kho_evhash_id(ev, id, sizeof id, &err), 0);
        json_decref(ev);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_object_event_with_sensor),
        cmocka_unit_test(test_transformation_inputs),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
