/*
 * lexicon — the words the assistant knows: every administrative unit (today's
 * and those of before 1 July 2025) by full and short name, every indicator by
 * name, code and synonym (the catalogue's and the steward's), all as folded
 * phrases (core/text.h: lower case, no tone
 * marks, đ ≡ d) in one hash table for longest-match lookup.
 *
 * Built from the database (kho_lexicon_shared, one per thread, rebuilt when
 * the database changes) or by hand for tests and the fuzzer (kho_lexicon_new
 * + kho_lexicon_add_*). The lexicon knows names, not values: whether a caller
 * may see an indicator is decided when its values are read.
 */
#ifndef KHO_APPS_ASSISTANT_LEXICON_H
#define KHO_APPS_ASSISTANT_LEXICON_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "store/store.h"

enum { KHO_LX_UNIT, KHO_LX_IND, KHO_LX_INDPFX };
enum { KHO_ERA_CURRENT, KHO_ERA_OLD };
enum { KHO_ULV_PROVINCE, KHO_ULV_DISTRICT, KHO_ULV_COMMUNE };

typedef struct kho_lx_unit {
    char code[8];
    char name[96];        /* "Xã Nghĩa Trụ" (NFC, as in the unit tables) */
    char name_lower[96];  /* "xã nghĩa trụ" */
    char short_lower[80]; /* "nghĩa trụ" */
    char province[8];     /* its province's code (of its era) */
    int era, level;
} kho_lx_unit_t;

typedef struct kho_lx_ind {
    char code[64];
    char name[128];
    char uom[48];
    int level;         /* KHO_ULV_PROVINCE or KHO_ULV_COMMUNE */
    bool rate;         /* kind rate: changes are in percentage points */
    bool additive;
    bool higher_is_better;
    int decimals;
} kho_lx_ind_t;

/* One meaning of a phrase. ref indexes units, inds or is a cue id. */
typedef struct kho_lx_hit {
    int kind;
    int ref;
} kho_lx_hit_t;

typedef struct kho_lexicon kho_lexicon_t;

/* An empty lexicon for building by hand; free with kho_lexicon_free. */
kho_lexicon_t *kho_lexicon_new(void);
void kho_lexicon_free(kho_lexicon_t *lx);

/* Add a unit under its full and short names; returns its index. */
int kho_lexicon_add_unit(kho_lexicon_t *lx, const kho_lx_unit_t *u);
/* Add an indicator under its name, code and each '|'-separated synonym, and the
 * two-word-or-longer beginnings of its name (KHO_LX_INDPFX: "sản lượng" is the
 * beginning of several); returns its index. */
int kho_lexicon_add_ind(kho_lexicon_t *lx, const kho_lx_ind_t *d, const char *synonyms);
/* Add one more phrase for an existing unit or indicator (a steward's synonym). */
void kho_lexicon_add_phrase(kho_lexicon_t *lx, const char *phrase, int kind, int ref);
/* Pre-2025 unit old_unit went (whole, or in part) into today's new_unit (indexes). */
void kho_lexicon_add_successor(kho_lexicon_t *lx, int old_unit, int new_unit, bool whole);
/* The successor province of a pre-2025 province ("34" -> "33"). */
void kho_lexicon_add_province_successor(kho_lexicon_t *lx, const char *old_code, const char *new_code);
/* The home province: the one whose indicators are loaded ("" when none or several). */
void kho_lexicon_set_home(kho_lexicon_t *lx, const char *province_code);

/* Replace the steward's extra words with a CSV file `term,kind,code` (kind
 * `indicator` with an indicator code, or `unit` with a current unit code), in
 * one transaction on w: a file with any problem (unknown code or kind, empty
 * or over-long term; each named with its line) loads nothing. *loaded
 * receives the number of terms. */
int kho_lexicon_load_synonyms(kho_store_t *w, const char *path, size_t *loaded, kho_err_t *err) KHO_WUR;

/* The lexicon of the database, kept per thread while neither s's
 * data_version nor its change count moves. Borrowed: valid until the next call
 * on this thread or kho_lexicon_thread_done. */
int kho_lexicon_shared(kho_store_t *s, const kho_lexicon_t **out, kho_err_t *err) KHO_WUR;
/* Free this thread's lexicon (at the end of a thread that called kho_lexicon_shared). */
void kho_lexicon_thread_done(void);

/* The meanings of a folded phrase (words separated by one space), or NULL;
 * *n receives their count. */
const kho_lx_hit_t *kho_lexicon_lookup(const kho_lexicon_t *lx, const char *phrase, size_t len, size_t *n);
/* Longest phrase in words. */
size_t kho_lexicon_max_words(const kho_lexicon_t *lx);

const kho_lx_unit_t *kho_lexicon_unit(const kho_lexicon_t *lx, int i);
const kho_lx_ind_t *kho_lexicon_ind(const kho_lexicon_t *lx, int i);
size_t kho_lexicon_ninds(const kho_lexicon_t *lx);
/* Index of the unit with this code (today's first, then pre-2025), or -1. */
int kho_lexicon_unit_by_code(const kho_lexicon_t *lx, const char *code, int era);
int kho_lexicon_ind_by_code(const kho_lexicon_t *lx, const char *code);
/* True when lower (lower case with tone marks, words separated by one space)
 * is one of indicator ind's names or synonyms as written. */
bool kho_lexicon_ind_lower(const kho_lexicon_t *lx, int ind, const char *lower);
const char *kho_lexicon_home(const kho_lexicon_t *lx);
/* The province today's units of province_code belong to (itself for today's). */
const char *kho_lexicon_province_now(const kho_lexicon_t *lx, const char *province_code, int era);
/* Successors of a pre-2025 commune or district: up to max unit indexes (today's
 * communes) into out; returns how many there are (may exceed max). *whole is
 * true when it went whole into a single one. */
size_t kho_lexicon_successors(const kho_lexicon_t *lx, int unit, int *out, size_t max, bool *whole);

#endif
