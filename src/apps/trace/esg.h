/*
 * esg — the traceability ledger's figures as indicators of the indicator
 * catalogue (apps/indicators/), per commune and year, so that they appear on
 * the leaders' dashboard and to the assistant.
 *
 * From the harvest events (events whose ilmd names a farm, kho:farmId) and the
 * master data, kho_trace_esg() computes for every commune of the farms'
 * provinces and every harvest year:
 *   nhan_truy_xuat            traced longan harvested (tấn)
 *   chuoi_truy_xuat           traced banana harvested (tấn)
 *   ga_truy_xuat              traced hill chickens (con)
 *   dien_tich_nhan_truy_xuat  area of the longan farms that harvested (ha)
 *   dien_tich_nhan_vietgap    ... of those with a VietGAP certificate valid on
 *                             a harvest date of that year (ha)
 * (the rate ty_le_nhan_vietgap = VietGAP area / traced area x 100 is
 * computed by the indicators module). Communes without any get 0, so that
 * province totals exist. The reports are imported as a new version of the
 * dataset truy-xuat-nong-san, declared as an indicator source; the import
 * rebuilds the indicators in its own transaction. These indicators must be in
 * the catalogue (data/indicators/catalogue.json).
 *
 * The server recomputes them in the background (api/server.c) a while after a
 * capture of new harvests or a change of farm master data: trace_esg_delay_s
 * after the last such change, and at most 60 s after the first.
 */
#ifndef KHO_APPS_TRACE_ESG_H
#define KHO_APPS_TRACE_ESG_H

#include <stdbool.h>
#include <stdio.h>

#include "core/err.h"
#include "store/store.h"

#define KHO_TRACE_ESG_DATASET "truy-xuat-nong-san"

/* Compute and import (see above). When the reports equal those last imported
 * (their SHA-256 is kept in the meta table) no version is added. csv_path: a
 * scratch file (removed after). synthetic: label the dataset as synthetic (the
 * demo). Progress to out (may be NULL). KHO_ENOTFOUND when there are no
 * harvests. */
int kho_trace_esg(kho_store_t *w, const char *csv_path, bool synthetic, FILE *out, kho_err_t *err) KHO_WUR;

/* kho_trace_esg with the scratch file in datadir, labelled synthetic when the
 * ledger holds the demo's chains: what `kho trace esg` and the server (after a
 * capture of harvests or a change of farms) run. */
int kho_trace_esg_refresh(kho_store_t *w, const char *datadir, FILE *out, kho_err_t *err) KHO_WUR;

#endif
