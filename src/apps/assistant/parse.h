/*
 * parse — understanding a Vietnamese question about indicators.
 *
 * A question is NFC-normalised and cut into words; every word is folded
 * (core/text.h). Abbreviations are expanded (TP → thành phố, P. → phường,
 * X. → xã, HY → Hưng Yên …). Then, left to right, the longest phrase the
 * lexicon knows is taken: units and indicators. What is left gives the cue
 * words of intents, numbers (Vietnamese "1.234,5" or "1234.5"), years,
 * quarters, months and relative periods. The result is a structured query
 * (kho_askq_t): the same form an optional language model must produce, which
 * assistant.h runs against the indicators.
 *
 * Ambiguity is never resolved by guessing: a name shared by units of several
 * provinces, an old commune split between several successors, or a phrase
 * that begins the names of several indicators gives intent CLARIFY with the
 * candidates, each with the question rewritten to be unambiguous.
 *
 * Pure: no I/O, no clock (the caller gives this year). Works on any bytes (the
 * fuzzer's); text that is not UTF-8 gives HELP.
 */
#ifndef KHO_APPS_ASSISTANT_PARSE_H
#define KHO_APPS_ASSISTANT_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "apps/assistant/lexicon.h"

enum {
    KHO_ASK_VALUE,
    KHO_ASK_COMPARE,
    KHO_ASK_RANK,
    KHO_ASK_FILTER,
    KHO_ASK_CHANGE,
    KHO_ASK_SHARE,
    KHO_ASK_FORECAST,
    KHO_ASK_TARGET,
    KHO_ASK_DEFINITION,
    KHO_ASK_SOURCE,
    KHO_ASK_SUGGEST,
    KHO_ASK_CLARIFY,
    KHO_ASK_HELP,
    KHO_ASK_NINTENTS
};

/* "value", "compare" … ; -1 for an unknown name. */
const char *kho_ask_intent_name(int intent);
int kho_ask_intent_parse(const char *name);

enum { KHO_PER_NONE, KHO_PER_ONE, KHO_PER_SPAN, KHO_PER_TWO };

#define KHO_ASK_MAX_UNITS 4
#define KHO_ASK_MAX_CANDS 8
#define KHO_ASK_MAX_NOTES 4

typedef struct kho_ask_cand {
    int ind; /* the indicator it stands for, or -1 (a unit) */
    char label[320];
    char question[640];
} kho_ask_cand_t;

typedef struct kho_askq {
    int intent;
    int ind;                            /* lexicon indicator, -1: none */
    int units[KHO_ASK_MAX_UNITS];       /* lexicon units: today's, or a pre-2025 district */
    int named_old[KHO_ASK_MAX_UNITS];   /* the pre-2025 unit the question named, or -1 */
    int nunits;
    bool province_word;                 /* "toàn tỉnh", "tỉnh": the home province */
    int pkind;                          /* KHO_PER_* */
    char p[2][16];                      /* ONE: p[0]; SPAN: p[0]..p[1]; TWO: p[0] and p[1] */
    int recent;                         /* "N năm qua": the N latest years (pkind NONE) */
    bool step_prev;                     /* "so với năm trước" */
    int n;                              /* rank: how many (0: default) */
    int order;                          /* rank: +1 highest first, -1 lowest first, +2 worst, -2 best, 0 */
    bool threshold_set;
    int cmp;                            /* filter: +1 above, -1 below */
    double threshold;
    bool cagr;                          /* "bình quân mỗi năm" */
    bool marks;                         /* the question had tone marks */
    bool greeting;
    int ncands;                         /* CLARIFY */
    char clarify_prompt[256];
    kho_ask_cand_t cands[KHO_ASK_MAX_CANDS];
    int nnotes;
    char notes[KHO_ASK_MAX_NOTES][256];
    double confidence;
} kho_askq_t;

/* Understand question (len bytes) for the year this_year. Always fills q. */
void kho_ask_parse(const kho_lexicon_t *lx, const char *question, size_t len, int this_year, kho_askq_t *q);

/* Append a note to q (dropped when full). */
void kho_askq_note(kho_askq_t *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
