/*
 * indicators — socio-economic indicators by province and commune, continuous
 * across the 1 July 2025 boundary reform.
 *
 * Model (tables in store/schema.c, migration 3; docs/indicators.md):
 *   - the catalogue (ind_catalogue): code, names, unit of measure, kind
 *     (additive | ratio | rate | index), level (commune | province: the finest
 *     level it exists at), frequency (year | quarter | month), and for ratio
 *     and rate the numerator, denominator and scale (value = scale × num/den);
 *   - sources (ind_sources): warehouse datasets whose current versions hold
 *     reports, each with a mapping: "long" (columns indicator, unit, period,
 *     value) or "wide" (columns unit, period and one column per indicator);
 *   - weights (ind_weights): optional shares for communes that were split in
 *     the reform (old commune → new commune, by area or population ...);
 *   - targets (ind_targets) and the computed values (ind_values).
 *
 * kho_ind_rebuild() recomputes every value from the sources, in one
 * transaction:
 *   1. Reports are read and checked: an unknown indicator, unit code or
 *      period, a value that is not a number, a report of a computed (ratio or
 *      rate) indicator, or two reports of the same thing refuse the whole
 *      rebuild, naming the dataset, line and field of each problem.
 *   2. A code is read in the era of its period: periods before July 2025 (years
 *      up to 2024) name pre-reform units, later ones today's units; a code that
 *      exists only in the other era is taken from there.
 *   3. Additive values of pre-reform communes become values of today's
 *      communes through the official conversion table: whole merges are
 *      summed; a commune split between several new ones contributes a share
 *      (equal by default, or its weight in ind_weights). A new commune gets a
 *      converted value only when every predecessor reported one. Pre-reform
 *      provinces convert the same way (an old province that went whole into a
 *      new one counts whole). A value reported against today's unit wins over a
 *      converted one. Index values convert only 1:1.
 *   4. Province values of commune indicators are the sums over all the
 *      province's communes (none when a commune is missing); pre-reform
 *      districts ("district_old") are sums over their old communes, for the
 *      periods reported against old communes.
 *   5. Ratios and rates are recomputed at every level from the converted
 *      numerator and denominator, never averaged.
 * Every converted or recomputed value has converted = 1 and a `method` saying
 * how (Vietnamese text).
 *
 * Access: an indicator is visible to a caller who may read every dataset its
 * values come from (for a ratio or rate: those of numerator and denominator).
 *
 * All functions take a store connection; the read functions use a read-only
 * one. JSON results are new references owned by the caller.
 */
#ifndef KHO_APPS_INDICATORS_INDICATORS_H
#define KHO_APPS_INDICATORS_INDICATORS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "security/auth.h"
#include "store/store.h"

/* ---- loading ------------------------------------------------------------------- */

/* The loaders below run in their own transaction, or join the caller's when w
 * is already inside one (so that a change and the rebuild it needs commit or
 * roll back together, as `kho indicators` does). */

/* Load a catalogue file (JSON: {"indicators":[...], "sources":[...],
 * "targets":[...]}, see data/indicators/catalogue.json): indicators are
 * replaced or added, sources and targets are added or replaced. One
 * transaction on w; KHO_EINVAL names the entry and field of a problem.
 * Does not rebuild. */
int kho_ind_load_catalogue(kho_store_t *w, const char *path, kho_err_t *err) KHO_WUR;

/* Declare dataset `dataset` a source; mapping is a JSON object:
 * {"form":"long","indicator":COL,"unit":COL,"period":COL,"value":COL} or
 * {"form":"wide","unit":COL,"period":COL,"values":{"INDICATOR":COL,...}}. */
int kho_ind_set_source(kho_store_t *w, const char *dataset, const char *mapping_json, kho_err_t *err) KHO_WUR;

/* Load split weights from a CSV file `old_code,new_code,weight[,basis]`
 * (replacing all weights). The weights of each split old commune must sum to 1
 * (± 0.001). KHO_EINVAL names the line and field of each problem; nothing is
 * loaded then. Does not rebuild. */
int kho_ind_load_weights(kho_store_t *w, const char *path, kho_err_t *err) KHO_WUR;

/* Load targets from a CSV file `indicator,unit_code,period,value[,direction][,note]`
 * (added or replaced). Line numbers in errors; nothing loaded on error. */
int kho_ind_load_targets(kho_store_t *w, const char *path, kho_err_t *err) KHO_WUR;

typedef struct kho_ind_build {
    size_t reports;     /* rows read from the sources */
    size_t values;      /* values written */
    size_t converted;   /* of which converted or recomputed */
    size_t incomplete;  /* new units left without a value: a predecessor had none */
    double seconds;
} kho_ind_build_t;

/* Recompute ind_values from the sources (see above). When w is already in a
 * write transaction (the ingest hook) the work joins it; otherwise it runs in
 * its own. KHO_EINVAL lists the first problems (dataset, line, field). */
int kho_ind_rebuild(kho_store_t *w, kho_ind_build_t *out, kho_err_t *err) KHO_WUR;

/* The ingest hook (warehouse/ingest.h): when `dataset` is an indicator
 * source, rebuild inside the import's transaction, so that an upload with bad
 * reports is refused whole. A source must load without rejected rows. */
int kho_ind_ingest_hook(kho_store_t *w, const char *dataset, int64_t version, uint64_t rows_rejected,
                        kho_err_t *err);

/* Write the demo reports (apps/indicators/indgen.h) to `csv_path`, import
 * them as dataset chi-so-kinh-te-xa-hoi, load `catalogue` and rebuild. Skips
 * what exists. Progress to out (may be NULL). */
int kho_ind_demo(kho_store_t *w, const char *catalogue, const char *csv_path, FILE *out, kho_err_t *err) KHO_WUR;

/* ---- reading ------------------------------------------------------------------- */

/* Everything a read needs about the caller: visibility is decided per source
 * dataset with security/access.h. */
typedef struct kho_ind_ctx {
    kho_store_t *db;
    const kho_principal_t *who;
} kho_ind_ctx_t;

/* Drop what this thread keeps between requests (the parsed catalogue; see
 * the read functions below, which reuse it while the database is unchanged).
 * Call when a thread that served reads ends. */
void kho_ind_thread_done(void);

/* Every indicator's definition (as in kho_ind_list), whatever the caller may
 * see: for building lookup tables such as the assistant's lexicon. Never send
 * it to a caller: the reads below decide visibility. *out is a new reference. */
int kho_ind_catalogue_all(kho_store_t *db, json_t **out, kho_err_t *err) KHO_WUR;

/* {"sources":[{"dataset","version"}]}: the datasets the indicator's values come
 * from, with their current versions; KHO_ENOTFOUND when the caller may not
 * read it (or it does not exist). Cheap: no scan of the values. */
int kho_ind_sources(const kho_ind_ctx_t *c, const char *code, json_t **out, kho_err_t *err) KHO_WUR;

/* {"indicators":[definition...]}: the visible ones, in catalogue order. */
int kho_ind_list(const kho_ind_ctx_t *c, json_t **out, kho_err_t *err) KHO_WUR;

/* One definition with "coverage" (periods, units per level, converted count)
 * and "sources" ([{dataset, version}]). KHO_ENOTFOUND for unknown or hidden. */
int kho_ind_get(const kho_ind_ctx_t *c, const char *code, json_t **out, kho_err_t *err) KHO_WUR;

typedef struct kho_ind_values_q {
    const char *units;  /* comma-separated codes (old codes resolve to successors); NULL: all */
    const char *level;  /* commune | province | district-before-2025; NULL: from the units */
    const char *from, *to, *period;
    const char *rank;   /* NULL, "asc" or "desc": order by value (needs one period; default the latest) */
    long limit;         /* 0: no limit */
} kho_ind_values_q_t;

/* {"indicator","name","unit_of_measure","level","values":[{"unit","unit_name","period",
 * "value","converted","method"[,"rank"]}], "resolved":[...]} */
int kho_ind_values(const kho_ind_ctx_t *c, const char *code, const kho_ind_values_q_t *q, json_t **out,
                   kho_err_t *err) KHO_WUR;

/* {"indicator","unit","unit_name","method","alpha","beta","mape","history":[...],"points":[...]} */
int kho_ind_forecast(const kho_ind_ctx_t *c, const char *code, const char *unit, long horizon, json_t **out,
                     kho_err_t *err) KHO_WUR;

/* {"indicator","targets":[{unit,unit_name,period,target,direction,baseline,latest,progress,forecast,status}]};
 * unit NULL: every unit with a target. */
int kho_ind_targets(const kho_ind_ctx_t *c, const char *code, const char *unit, json_t **out,
                    kho_err_t *err) KHO_WUR;

/* One dashboard view: {"unit","period","periods","kpis","series","ranking","targets","children","parent",
 * "indicators","synthetic"}. unit NULL: the province of the first target or
 * "33"; period NULL: the latest; indicator NULL: the first visible. */
int kho_ind_dashboard(const kho_ind_ctx_t *c, const char *unit, const char *period, const char *indicator,
                      json_t **out, kho_err_t *err) KHO_WUR;

#endif
