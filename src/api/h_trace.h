/*
 * h_trace — traceability over HTTP (apps/trace/, docs/trace.md).
 *
 *   POST /api/v1/trace/capture              an EPCIS 2.0 EPCISDocument (trace:write): 201 with the
 *                                           event IDs, 200 when every event was already captured
 *   GET  /api/v1/trace/events               EPCIS query (trace:read): eventType, EQ_action, EQ_bizStep,
 *                                           EQ_disposition, EQ_bizLocation, EQ_readPoint, MATCH_anyEPC,
 *                                           MATCH_epcClass, GE_/LT_eventTime, GE_/LT_recordTime,
 *                                           perPage, nextPageToken (Link: rel="next")
 *   GET  /api/v1/trace/events/{id}/proof    inclusion proof of one event (public)
 *   GET  /api/v1/trace/lots/{gtin}/{lot}/proof  the lot's offline-verifiable bundle (public)
 *   GET|POST /api/v1/trace/{farms|products|locations|partners}   master data (read: public;
 *                                           write trace:write, JSON list or CSV)
 *   GET  /api/v1/trace/qr?gtin=&lot=&serial=&format=svg|png&size=   the Digital Link QR code
 *   GET  /trace/labels?gtin=&lot=&count=    an A4 sheet of labels for a lot (printable HTML)
 *   GET  /01/{gtin}[/10/{lot}][/21/{serial}] the GS1 Digital Link resolver: the journey page for a
 *                                           browser, the JSON linkset for Accept: application/json
 *                                           or ?linkType=all; a friendly 404 page when unknown
 */
#ifndef KHO_API_H_TRACE_H
#define KHO_API_H_TRACE_H

#include "api/http.h"

void kho_h_trace_capture(kho_reqctx_t *rc);
void kho_h_trace_events(kho_reqctx_t *rc);
void kho_h_trace_event_proof(kho_reqctx_t *rc);
void kho_h_trace_lot_proof(kho_reqctx_t *rc);
void kho_h_trace_master_list(kho_reqctx_t *rc);
void kho_h_trace_master_put(kho_reqctx_t *rc);
void kho_h_trace_qr(kho_reqctx_t *rc);
void kho_h_trace_labels(kho_reqctx_t *rc);
void kho_h_trace_resolve(kho_reqctx_t *rc);

#endif
