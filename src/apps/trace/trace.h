/*
 * trace — the traceability ledger: EPCIS 2.0 events stored in the warehouse
 * database and, each, a leaf of a transparency log (security/tlog.h) of its
 * own (DATA/trace.db, signed with DATA/trace.key, origin `trace_origin`).
 *
 * Capture (kho_trace_capture) takes a whole EPCISDocument: it is validated and
 * normalised (epcis.h), then stored in one transaction of the writing
 * connection. Each new event's stored form, its "body" (compact JSON with keys
 * sorted and the server's recordTime), is appended to the log as one entry;
 * leaf i of the log is the event whose `leaf` column is i. A signed checkpoint
 * follows every capture, so every event is covered by one as soon as its
 * capture has answered. An event already stored under the same eventID with
 * the same content is counted as repeated (idempotent); with other content
 * the document is refused (KHO_ECONFLICT).
 *
 * Integrity (kho_trace_verify): every stored body must equal its log entry,
 * every log entry must belong to a stored event, and the log itself must verify
 * (tlog.h). An event changed in the database behind kho's back no longer equals
 * its leaf: the journey page and `kho trace verify` say so.
 *
 * Lots: the journey of a lot (GTIN + lot) collects the events that name it,
 * the lots it was made from (TransformationEvent inputs, followed back), and
 * the containers it was aggregated into (AggregationEvent parents) with their
 * events.
 *
 * Threads: a kho_ledger_t may be used from any thread (the log serialises its
 * calls). Captures run on the writing connection (the server's writer lock).
 */
#ifndef KHO_APPS_TRACE_TRACE_H
#define KHO_APPS_TRACE_TRACE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"
#include "core/err.h"
#include "security/tlog.h"
#include "store/store.h"

typedef struct kho_ledger kho_ledger_t;

/* Open (create: creating the key and the log when missing) DATA/trace.db. */
int kho_ledger_open(const char *datadir, const kho_config_t *cfg, bool create, kho_ledger_t **out,
                    kho_err_t *err) KHO_WUR;
void kho_ledger_close(kho_ledger_t *l);
kho_tlog_t *kho_ledger_log(kho_ledger_t *l);
/* The log's Ed25519 public key. */
const unsigned char *kho_ledger_public_key(const kho_ledger_t *l);

typedef struct kho_trace_captured {
    size_t events;   /* in the document */
    size_t captured; /* new */
    size_t repeated; /* already stored, identical */
    size_t harvests; /* new events whose ilmd names a farm (kho:farmId): the ESG figures changed */
    uint64_t first_leaf, tree_size;
} kho_trace_captured_t;

/* Capture a document (see above). org: the capturing organisation ("" none).
 * ids (optional): receives a new array of the events' IDs in document order.
 * The same as kho_trace_prepare then kho_trace_store. */
int kho_trace_capture(kho_store_t *w, kho_ledger_t *l, const json_t *doc, const char *org,
                      kho_trace_captured_t *res, json_t **ids, kho_err_t *err) KHO_WUR;

/* A capture in two steps, so that the work that needs no database (validation,
 * normalisation, hash IDs, the stored forms and the identifier keys) runs on
 * the caller's thread, outside the writer lock, and only the writing is
 * serialised. kho_trace_prepare: *out is the caller's (kho_trace_batch_free);
 * the events' recordTime is the time of the preparation. kho_trace_store: the
 * batch is only read (it may be stored once); it does not sign: when it
 * captured anything, call kho_trace_sign before answering (after the writer
 * lock is released: the log serialises its own calls), so that the new events
 * are covered by a signed checkpoint as soon as the capture has answered. */
typedef struct kho_trace_batch kho_trace_batch_t;
int kho_trace_prepare(const json_t *doc, kho_trace_batch_t **out, kho_err_t *err) KHO_WUR;
int kho_trace_store(kho_store_t *w, kho_ledger_t *l, const kho_trace_batch_t *b, const char *org,
                    kho_trace_captured_t *res, json_t **ids, kho_err_t *err) KHO_WUR;
void kho_trace_batch_free(kho_trace_batch_t *b);
/* Sign a checkpoint of the log as it is now (a failure is logged: the next
 * capture signs again). */
void kho_trace_sign(kho_ledger_t *l);

/* The standard query parameters (EPCIS 2.0 SimpleEventQuery); each list is
 * values separated by '|'. NULL: no condition. */
typedef struct kho_trace_query {
    const char *event_type, *action, *biz_step, *disposition, *biz_location, *read_point;
    const char *any_epc, *epc_class; /* MATCH_anyEPC, MATCH_epcClass */
    const char *ge_time, *lt_time;   /* GE_eventTime, LT_eventTime (RFC 3339) */
    const char *ge_record_time, *lt_record_time;
    long per_page;                   /* 1..1000 */
    int64_t after;                   /* continue after this sequence number (next page) */
} kho_trace_query_t;

/* Events matching q in capture order: *events a new array of event objects;
 * *next the token of the next page, 0 when this is the last. */
int kho_trace_events(kho_store_t *s, const kho_trace_query_t *q, json_t **events, int64_t *next,
                     kho_err_t *err) KHO_WUR;

/* One event's inclusion proof against the latest checkpoint:
 * {"eventID","leaf_index","tree_size","leaf","inclusion":[base64...],"checkpoint","verifier_key",
 *  "public_key","intact"} (intact: the stored event equals its leaf). */
int kho_trace_event_proof(kho_store_t *s, kho_ledger_t *l, const char *event_id, json_t **out,
                          kho_err_t *err) KHO_WUR;

/* The journey of a lot (or, with serial non-empty and lot "", of one item):
 * {"gtin","lot","serial","key","product":{...}|null,"events":[{"seq","leaf","event",
 * "intact","checkpointed"}] (by event time), "lots":[keys of the lot and its sources],
 * "containers":[keys]}. KHO_ENOTFOUND when no event names the lot. */
int kho_trace_journey(kho_store_t *s, kho_ledger_t *l, const char *gtin14, const char *lot, const char *serial,
                      json_t **out, kho_err_t *err) KHO_WUR;

/* The self-contained proof bundle of a lot: its journey's events with their
 * leaves and inclusion proofs, the signed checkpoint and the public key. */
int kho_trace_lot_bundle(kho_store_t *s, kho_ledger_t *l, const char *gtin14, const char *lot, json_t **out,
                         kho_err_t *err) KHO_WUR;

/* Check the ledger (see above); one line per problem to report; *problems
 * counts them. Returns 0 when the check ran. */
int kho_trace_verify(kho_store_t *s, kho_ledger_t *l, FILE *report, size_t *problems, kho_err_t *err) KHO_WUR;

#endif
