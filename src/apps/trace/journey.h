/*
 * journey — the public pages of traceability: the journey of a lot as a
 * shopper sees it after scanning its QR code, the friendly "not found" page,
 * and the printable label sheet.
 *
 * Pages are complete HTML documents in Vietnamese (lang "en": in English, the
 * product's English name, dates as YYYY-MM-DD, a decimal point; names of
 * farms, places and communes stay as recorded), server-rendered with their CSS
 * inline and no script, small enough for a phone on a weak connection. The
 * journey links to itself in the other language (?lang=en / ?lang=vi). Every
 * text taken from the database is HTML-escaped.
 *
 * The journey page shows (from the journey of trace.h and the master data):
 *   - the product and lot; the farm(s) and commune of origin, harvest date,
 *     certifications with their validity on the harvest date;
 *   - the timeline: each event's date, step (in words), place, state,
 *     and cold-chain temperatures; a reading above the product's limit
 *     (longan 8 °C, chicken 4 °C, banana 12–20 °C, others 8 °C) or a sensor
 *     exception ALARM_CONDITION is flagged as an excursion;
 *   - ESG facts of the lot from the harvest's ilmd (kho:inputs with active
 *     ingredient and dose, whether each pre-harvest interval was respected,
 *     water, energy, nitrogen fertiliser) and an estimate of kg CO2e per kg:
 *       (energy kWh x 0.68 + fertiliser N kg x 5.9) / harvested kg
 *     (grid and fertiliser factors are rough, documented in docs/trace.md);
 *   - authenticity: how many events are leaves of the transparency log under
 *     a signed checkpoint, each event altered since capture flagged, and the
 *     link to the proof bundle.
 */
#ifndef KHO_APPS_TRACE_JOURNEY_H
#define KHO_APPS_TRACE_JOURNEY_H

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

/* Append the journey page of `journey` (kho_trace_journey) to out. url: the
 * Digital Link of the lot; proof_url: its proof bundle (NULL: the bundle is not
 * public, the page says so instead of linking to it); lang: "en" for
 * English, anything else (NULL too) for Vietnamese. */
int kho_journey_html(kho_store_t *s, const json_t *journey, const char *url, const char *proof_url, const char *lang,
                     kho_buf_t *out, kho_err_t *err) KHO_WUR;

/* Append the "not found" page, saying why (escaped), in lang (as above). */
void kho_journey_not_found(const char *why, const char *lang, kho_buf_t *out);

/* Append an A4 sheet of `count` labels for a lot: product name, lot, the QR
 * code (svg, an <svg> element), and the URL as text. */
int kho_journey_labels(kho_store_t *s, const char *gtin14, const char *lot, const char *url, const char *svg,
                       int count, kho_buf_t *out, kho_err_t *err) KHO_WUR;

/* Append s HTML-escaped (& < > " '). */
void kho_html_escape(kho_buf_t *out, const char *s);

#endif
