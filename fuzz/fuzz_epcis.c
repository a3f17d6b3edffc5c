/*
 * libFuzzer harness for apps/trace/epcis and evhash: any bytes are a capture
 * document (JSON), an identifier and a time. Nothing crashes; a document that
 * validates has an eventID on every event, and normalising an accepted event
 * again gives the same event (normalisation is idempotent) with the same ID.
 */
#include <assert.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apps/trace/epcis.h"
#include "apps/trace/evhash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    char key[KHO_EPCIS_KEY_MAX], utc[25];
    (void)kho_epcis_key(s, key, sizeof key);
    kho_err_t err;
    if (kho_epcis_time(s, utc, &err) == 0)
        assert(strlen(utc) == 24 && utc[23] == 'Z');
    free(s);

    json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!doc)
        return 0;
    json_t *events = NULL;
    if (kho_epcis_document(doc, &events, &err) == 0) {
        size_t i;
        json_t *ev;
        json_array_foreach(events, i, ev)
        {
            const char *id = json_string_value(json_object_get(ev, "eventID"));
            assert(id);
            json_t *again = NULL;
            int rc = kho_epcis_event(ev, json_object_get(doc, "@context"), i, &again, &err);
            assert(rc == 0);
            assert(json_equal(again, ev));
            json_decref(again);
            char h[KHO_EVHASH_ID_LEN + 1];
            assert(kho_evhash_id(ev, h, sizeof h, &err) == 0);
        }
        json_decref(events);
    }
    json_t *list = json_object_get(json_object_get(doc, "epcisBody"), "eventList");
    size_t i;
    json_t *ev;
    json_array_foreach(list, i, ev)
    {
        kho_buf_t b = KHO_BUF_INIT;
        (void)!kho_evhash_prehash(ev, &b, &err);
        kho_buf_free(&b);
        if (i > 50)
            break;
    }
    json_decref(doc);
    return 0;
}
