/*
 * evhash — the EPCIS 2.0 hash-based event ID (EPCIS 2.0 section 8.9, the GS1
 * "event hash ID" algorithm): "ni:///sha-256;<64 hex>?ver=CBV2.0", the SHA-256
 * of a canonical pre-hash string, so that the same event written in JSON or
 * XML, with keys in any order, URNs or Digital Links, gets the same ID.
 *
 * The pre-hash string, as implemented here (checked against the published
 * examples of the reference implementation, see tests/unit/evhash_test.c):
 *   - "eventType=<type>", then "eventTime=" and "eventTimeZoneOffset=";
 *     times are UTC with milliseconds ("2005-04-05T02:33:31.116Z");
 *   - then, when present and in this order: parentID, epcList, inputEPCList,
 *     childEPCs, quantityList, childQuantityList, inputQuantityList,
 *     outputEPCList, outputQuantityList, action, transformationID, bizStep,
 *     disposition, persistentDisposition, readPoint, bizLocation,
 *     bizTransactionList, sourceList, destinationList, sensorElementList, ilmd,
 *     and last the user extensions;
 *   - a list is its name followed by its elements, each rendered then sorted
 *     (byte order): "epcListepc=…epc=…"; a quantity element is
 *     "quantityElementepcClass=…quantity=…uom=…"; a business transaction
 *     "type=…bizTransaction=…"; a source "type=…source=…"; a sensor element
 *     "sensorElementsensorMetadata…sensorReport…" (no list name) with the
 *     standard's field order;
 *   - EPCs and classes become canonical GS1 Digital Link URIs on
 *     https://id.gs1.org (SGTIN, LGTIN, SSCC, SGLN, PGLN, GIAI, GTIN patterns);
 *     CBV words become their https://ref.gs1.org/cbv/… URIs; sensor types and
 *     exceptions https://ref.gs1.org/voc/…;
 *   - numbers are written without trailing zeros (30, 26.2);
 *   - eventID, recordTime, errorDeclaration, certificationInfo and @context
 *     are left out.
 * Deliberately simplified: a user extension's namespace is its JSON prefix
 * ("{ex:}field") because the event alone does not carry the document's
 * @context; two systems using the same prefix for the same namespace agree.
 */
#ifndef KHO_APPS_TRACE_EVHASH_H
#define KHO_APPS_TRACE_EVHASH_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

#define KHO_EVHASH_ID_LEN 89 /* "ni:///sha-256;" + 64 + "?ver=CBV2.0" */

/* Append the canonical pre-hash string of one event object to out. */
int kho_evhash_prehash(const json_t *event, kho_buf_t *out, kho_err_t *err) KHO_WUR;
/* The event's hash ID into id (size >= KHO_EVHASH_ID_LEN + 1). */
int kho_evhash_id(const json_t *event, char *id, size_t size, kho_err_t *err) KHO_WUR;

#endif
