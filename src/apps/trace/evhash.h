/*
 * evhash — the EPCIS 2.0 hash-based event ID: "ni:///sha-256;<64 hex>?ver=CBV2.0",
 * the SHA-256 (RFC 6920 "ni" URI) of a canonical pre-hash string of the event,
 * so that the same event gets the same ID whoever computes it, whatever the
 * order of its keys and lists, its time zone, or its spelling of identifiers
 * (EPC URN or GS1 Digital Link) and vocabulary (CBV word, URN or web URI).
 *
 * The algorithm is GS1's "EPCIS Event Hash ID" (CBV 2.0, section 8.9, referred
 * to from EPCIS 2.0); its reference implementation is
 * github.com/RalphTro/epcis-event-hash-generator. kho follows the reference
 * implementation's output where its prose and its code differ (noted below),
 * since the published hash values come from the code; tests/unit/evhash_test.c
 * checks kho against those published values.
 *
 * The pre-hash string, as implemented:
 *
 *   Concatenation. Pieces are joined with no separator. A value is written
 *   name=value; a structure is its name followed by its content
 *   ("readPointid=…", "quantityElementepcClass=…quantity=…"); a list is its
 *   name once, then its elements ("epcListepc=…epc=…"). Absent fields, null,
 *   blank strings and empty lists are left out (in an extension, a blank
 *   string or an empty object leaves its name alone, as the reference does).
 *
 *   Order. First these, in this order, when present:
 *     eventType (the JSON "type"), eventTime, eventTimeZoneOffset,
 *     certificationInfo, parentID, epcList, inputEPCList, childEPCs,
 *     quantityList, childQuantityList, inputQuantityList, outputEPCList,
 *     outputQuantityList, action, transformationID, bizStep, disposition,
 *     persistentDisposition (set…, unset…), readPoint (id), bizLocation (id),
 *     sensorElementList (each sensorElement: sensorMetadata with time,
 *     startTime, endTime, deviceID, deviceMetadata, rawData,
 *     dataProcessingMethod, bizRules; then its sensorReports, each with type,
 *     exception, deviceID, deviceMetadata, rawData, dataProcessingMethod, time,
 *     microorganism, chemicalSubstance, value, component, stringValue,
 *     booleanValue, hexBinaryValue, uriValue, minValue, maxValue, meanValue,
 *     sDev, percRank, percValue, uom, coordinateReferenceSystem).
 *   Then one block, sorted as whole strings: bizTransactionList, sourceList,
 *   destinationList, ilmd and every user extension. (The README of the
 *   reference lists parentID after epcList, these lists before
 *   sensorElementList, and no certificationInfo; its code, and so every
 *   published hash, does as above.)
 *
 *   Sorting. Elements of a list, the sensorReports of an element, the
 *   elements of ilmd and of extensions, and the final block are each sorted
 *   by their rendered strings, byte by byte (strcmp: UTF-8 code-point order).
 *   Duplicates stay.
 *
 *   Typed entries. A business transaction is "type=…bizTransaction=…", a
 *   source "type=…source=…", a destination "type=…destination=…": type first,
 *   as CBV 2.0 and the reference's output have it (its README's wording
 *   suggests the opposite).
 *
 *   Values. Every value has surrounding ASCII white space removed; then
 *     - a CURIE whose prefix is known (gs1:, cbv:, epcis:, cbvmda:, rdfs:,
 *       owl:, xsd:, dcterms: from the EPCIS 2.0 JSON-LD context, plus those of
 *       the document's and the event's @context) is expanded
 *       ("gs1:Temperature" -> "https://gs1.org/voc/Temperature");
 *     - a bare CBV word (no ':') in bizStep, disposition, persistentDisposition,
 *       a bizTransaction / source / destination type, or a sensorReport's
 *       component becomes its web URI (https://ref.gs1.org/cbv/BizStep-…,
 *       Disp-…, BTT-…, SDT-…, Comp-…), and a bare sensorReport type or
 *       exception becomes https://gs1.org/voc/… (as the EPCIS JSON-LD context
 *       expands them: note gs1.org, not ref.gs1.org);
 *     - CBV URNs urn:epcglobal:cbv:{bizstep,disp,btt,sdt,er}: become
 *       https://ref.gs1.org/cbv/{BizStep,Disp,BTT,SDT,ER}-…;
 *     - a number, or a string that is a decimal number, is written as the
 *       reference (Python) does: integral values without a fraction ("10.0" ->
 *       "10", 452.0 -> "452"), others in their shortest round-trip form
 *       ("26.20" -> "26.2", 1e-05 stays "1e-05");
 *     - booleans are "true" / "false";
 *     - EPC URIs (urn:epc:id: sgtin sscc sgln grai giai gsrn gsrnp gdti cpi
 *       sgcn ginc gsin itip upui pgln), EPC class URIs (urn:epc:class:lgtin)
 *       and EPC pattern URIs (urn:epc:idpat: sgtin grai gdti sgcn cpi itip
 *       upui) become canonical GS1 Digital Link URIs on https://id.gs1.org
 *       (check digit computed; in the URN's serial, lot or reference the
 *       characters ! ( ) * + , : are percent-encoded and existing escapes
 *       kept; an SGLN extension "0" is dropped);
 *     - a GS1 Digital Link URI (any host, any path before the primary key,
 *       short names such as /gtin/ or /ser/) is constrained: host
 *       https://id.gs1.org, query string dropped, GTIN padded to 14 digits,
 *       CPV (/22/) dropped, the lot dropped when there is a serial. One that
 *       does not then fit GS1's syntax (a percent escape, a fragment, ...) is
 *       kept as written, like any other URI.
 *   Times (eventTime and the sensor times) are converted to UTC with
 *   milliseconds: "2005-04-04T20:33:31.116-06:00" -> "2005-04-05T02:33:31.116Z";
 *   a 4th fractional digit of 5-9 rounds the 3rd up. A time must carry a zone.
 *
 *   Extensions. A namespaced key is written "{namespace-IRI}local"
 *   ("example:myField" with example = https://ns.example.com/epcis/ gives
 *   "{https://ns.example.com/epcis/}myField"); a prefix that no @context
 *   defines is left as written. An extension object is its key followed by
 *   its sorted children; a list gives one sibling per element, all with the
 *   same key. Extensions inside readPoint, bizLocation, a quantity element,
 *   sensorElement, sensorMetadata, sensorReport or a typed entry come after
 *   that structure's own fields, sorted. ilmd is written like an extension.
 *
 *   Left out: eventID, recordTime, errorDeclaration, JSON-LD keywords (@context,
 *   @id, ...) and comments ("comment", "rdfs:comment").
 *
 * Deliberately not supported, or different from the reference implementation
 * (each only for unusual input; none of its published examples is affected):
 *   - XML: only the JSON form is read (the same event in XML has the same ID
 *     when converted faithfully). Its "ignoreFields" extension (a repository's
 *     private fields left out of the hash) is not supported.
 *   - Times: the reference rounds an exact tie (".1425Z", to 6 digits) to even
 *     (".142Z") and fails when rounding carries into the next second; kho
 *     rounds half up as the algorithm's text says (".143Z") and carries. A
 *     time kho cannot read (no zone, 24:00, a leap second, Feb 30) is an error;
 *     the reference keeps it as written or reads it in its machine's zone.
 *   - A JSON boolean is "true"/"false" (the reference writes Python's "True"
 *     for JSON but "true" for XML); null is left out (the reference: "None").
 *   - Its JSON reader's quirks are not copied: any extension key ending in
 *     "List" split like epcList, a bizTransaction's members in JSON key order,
 *     a bare word anywhere in the document replaced when it matches a word of
 *     a vocabulary field. Bare words are expanded in the fields above whatever
 *     the word (so a later CBV's new words are too), the reference only those
 *     of the 2.0 context.
 *   - GRAI URNs with a 12-digit company prefix ("...:grai:401234500022..7"),
 *     and GRAI/GDTI/SGCN patterns with one, become Digital Links as the Tag
 *     Data Standard says; the reference's patterns miss them.
 *   - A standard structure's member without a prefix that the standard does
 *     not define (readPoint {"id":…, "note":…}) is written with that
 *     structure's extensions; the reference writes it again in the block.
 *   - Numeric strings are plain decimal syntax only (not "1_000", "inf",
 *     "nan"); white space is ASCII white space only.
 *
 * Errors: a string or key of more than KHO_EVHASH_VALUE_MAX bytes or a pre-hash
 * string of more than KHO_EVHASH_PREHASH_MAX bytes is KHO_ETOOLARGE; extensions
 * nested more than KHO_EVHASH_DEPTH_MAX levels, a string holding a NUL, a
 * standard field of the wrong JSON type, a bad time, or a missing type /
 * eventTime / eventTimeZoneOffset is KHO_EINVAL. Messages name the field
 * ("sensorElementList[0].sensorReport[1].value: must be a number").
 *
 * Pure functions: no global state, safe from any thread. The json_t arguments
 * are borrowed and not changed.
 */
#ifndef KHO_APPS_TRACE_EVHASH_H
#define KHO_APPS_TRACE_EVHASH_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

#define KHO_EVHASH_ID_LEN 89                      /* "ni:///sha-256;" + 64 + "?ver=CBV2.0" */
#define KHO_EVHASH_VALUE_MAX 65536                /* longest string value or key, in bytes */
#define KHO_EVHASH_PREHASH_MAX (8u * 1024 * 1024) /* longest pre-hash string, in bytes */
#define KHO_EVHASH_DEPTH_MAX 16                   /* deepest nesting of extension values */

/* Append the canonical pre-hash string of one EPCIS 2.0 JSON event (an object as
 * in an EPCISDocument's eventList) to out. Namespace prefixes are those of the
 * EPCIS context and of the event's own "@context", if any. On failure nothing is
 * appended (out keeps its content) and *err (may be NULL) says why. */
int kho_evhash_prehash(const json_t *event, kho_buf_t *out, kho_err_t *err) KHO_WUR;

/* The event's hash ID "ni:///sha-256;<hex>?ver=CBV2.0" into id, which must hold
 * size >= KHO_EVHASH_ID_LEN + 1 bytes (KHO_EINVAL otherwise). On failure id is "". */
int kho_evhash_id(const json_t *event, char *id, size_t size, kho_err_t *err) KHO_WUR;

/* The same with the "@context" of the document the event came from (a string,
 * an object or an array of them; borrowed; may be NULL), whose prefix
 * definitions expand the event's extension keys and CURIEs. The event's own
 * @context, if any, wins over it. An event with user extensions gets the ID
 * other implementations compute only when its prefixes are known: pass the
 * document's @context when the event does not carry one. */
int kho_evhash_prehash_ctx(const json_t *event, const json_t *context, kho_buf_t *out, kho_err_t *err) KHO_WUR;
int kho_evhash_id_ctx(const json_t *event, const json_t *context, char *id, size_t size, kho_err_t *err) KHO_WUR;

#endif
