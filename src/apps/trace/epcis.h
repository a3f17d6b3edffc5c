/*
 * epcis — reading EPCIS 2.0 JSON / JSON-LD capture documents (GS1 EPCIS 2.0,
 * CBV 2.0): validation, normalisation, and the keys kho indexes events by.
 *
 * A document is checked whole: the first problem found is returned as
 * KHO_EINVAL with a message naming the event and the field, for example
 *   eventList[3].quantityList[0].epcClass: GTIN 8930000000018 has the check digit 8, expected 7
 * so that a capture is accepted whole or refused whole (docs/trace.md).
 *
 * What is checked, per event:
 *   type           ObjectEvent, AggregationEvent, TransformationEvent, TransactionEvent,
 *                  AssociationEvent
 *   eventTime      RFC 3339 with a zone (Z or ±hh:mm); eventTimeZoneOffset ±hh:mm
 *   action         ADD, OBSERVE or DELETE (not on a TransformationEvent)
 *   what           epcList / childEPCs / inputEPCList / outputEPCList: URIs;
 *                  quantityList & co: {epcClass, quantity >= 0, uom}; at least
 *                  one "what" per event (AggregationEvent ADD/DELETE: parentID;
 *                  AssociationEvent: parentID unless OBSERVE, children unless
 *                  DELETE)
 *   bizStep, disposition, persistentDisposition: a CBV 2.0 word ("shipping"),
 *                  its URI (https://ref.gs1.org/cbv/BizStep-shipping or
 *                  urn:epcglobal:cbv:bizstep:shipping), or another URI (a
 *                  private vocabulary); CBV words are stored bare
 *   readPoint, bizLocation: {"id": URI}
 *   bizTransactionList, sourceList, destinationList: typed URIs
 *   sensorElementList: sensorReport entries with a type and numeric readings
 *   certificationInfo: a URI or a list of them
 *   extensions     keys with a namespace prefix ("ex:field") pass through;
 *                  any other unknown field is refused
 * GS1 identifiers (SGTIN, LGTIN, SGLN, SSCC URNs and GS1 Digital Link URIs)
 * are parsed with gs1.h; a Digital Link is rewritten with its GTIN as 14 digits.
 * recordTime is the capture server's: one sent by the client is dropped. An
 * event without eventID gets the EPCIS 2.0 hash-based ID (evhash.h).
 */
#ifndef KHO_APPS_TRACE_EPCIS_H
#define KHO_APPS_TRACE_EPCIS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define KHO_EPCIS_MAX_EVENTS 10000 /* events in one capture document */
#define KHO_EPCIS_KEY_MAX 160      /* an identifier key, NUL included */

/* Validate and normalise an EPCISDocument. On success *events is a new array
 * (the caller's reference) of normalised event objects, each with its
 * eventID. */
int kho_epcis_document(const json_t *doc, json_t **events, kho_err_t *err) KHO_WUR;

/* Validate and normalise one event (index: its position, for messages). *out
 * is a new object, the caller's. An event without an eventID gets its hash ID
 * (evhash.h), computed from the event as given, with context (the "@context"
 * of the document it came from, borrowed, may be NULL) defining the prefixes
 * of its extensions. */
int kho_epcis_event(const json_t *event, const json_t *context, size_t index, json_t **out,
                    kho_err_t *err) KHO_WUR;

/* The key kho indexes an identifier by, the same whatever its spelling:
 *   SGTIN  01/{gtin14}/21/{serial}     LGTIN 01/{gtin14}/10/{lot}
 *   GTIN   01/{gtin14} (a Digital Link without lot or serial, an idpat:sgtin *)
 *   SGLN   414/{gln13}/254/{ext}       SSCC  00/{sscc18}
 * and the URI itself for anything else. Returns false when it does not fit. */
bool kho_epcis_key(const char *uri, char *out, size_t size);

/* Parse an RFC 3339 time with a zone into UTC "YYYY-MM-DDTHH:MM:SS.mmmZ"
 * (24 characters + NUL). */
int kho_epcis_time(const char *s, char out[25], kho_err_t *err) KHO_WUR;

/* True for a CBV 2.0 business step / disposition word ("shipping"). */
bool kho_epcis_cbv_bizstep(const char *word);
bool kho_epcis_cbv_disposition(const char *word);

#endif
