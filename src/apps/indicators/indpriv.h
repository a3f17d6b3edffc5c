/*
 * indpriv — what the indicator modules share (build.c, indicators.c) and their
 * tests use: the catalogue in memory, numbers and periods. Not an interface
 * for other layers (use indicators.h).
 */
#ifndef KHO_APPS_INDICATORS_INDPRIV_H
#define KHO_APPS_INDICATORS_INDPRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/strmap.h"
#include "store/store.h"

#define KHO_IND_DEMO_DATASET "chi-so-kinh-te-xa-hoi"

enum { KHO_KIND_ADDITIVE, KHO_KIND_RATIO, KHO_KIND_RATE, KHO_KIND_INDEX };
enum { KHO_LVL_COMMUNE, KHO_LVL_PROVINCE };
enum { KHO_FREQ_YEAR, KHO_FREQ_QUARTER, KHO_FREQ_MONTH };

typedef struct kho_ind_def {
    char code[64];
    char *name, *name_en, *uom, *description, *synonyms;
    char *sources; /* comma-separated dataset ids its values come from ("" before the first build) */
    int kind, level, freq;
    int num, den; /* catalogue indexes of numerator and denominator, or -1 */
    double scale;
    int decimals;
    bool higher_is_better;
} kho_ind_def_t;

typedef struct kho_ind_cat {
    kho_ind_def_t *v;
    size_t n;
    kho_strmap_t *by_code;
} kho_ind_cat_t;

/* Read the catalogue (in its order) into c; free with kho_ind_cat_free. */
int kho_ind_cat_load(kho_store_t *s, kho_ind_cat_t *c, kho_err_t *err) KHO_WUR;
void kho_ind_cat_free(kho_ind_cat_t *c);
/* The catalogue of s, kept per thread while neither s's data_version nor its
 * own change count moves (then read again). *out is borrowed: valid until the
 * next call on this thread or kho_ind_thread_done. */
int kho_ind_cat_shared(kho_store_t *s, const kho_ind_cat_t **out, kho_err_t *err) KHO_WUR;
/* Index of code, or -1. */
int kho_ind_cat_find(const kho_ind_cat_t *c, const char *code);
const char *kho_ind_kind_name(int kind);

/* "1234.5", "1.234,5" (Vietnamese separators) or "-3"; false for anything else. */
bool kho_ind_parse_number(const char *s, double *out);
/* KHO_FREQ_* of "year" / "quarter" / "month", or -1. */
int kho_ind_freq_parse(const char *s);
/* A period of the frequency: "2024", "2024-Q3", "2024-07". */
bool kho_ind_period_ok(int freq, const char *p);
/* True for periods before 1 July 2025 (years up to 2024, 2025-Q1/Q2, 2025-01..06):
 * reported against pre-reform units. */
bool kho_ind_period_old(const char *p);
/* The period k steps after p (k >= 0). */
void kho_ind_period_add(int freq, const char *p, int k, char out[16]);
/* Steps from a to b (negative when b is earlier). */
int kho_ind_period_diff(int freq, const char *a, const char *b);

#endif
