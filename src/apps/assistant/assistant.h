/*
 * assistant — the virtual assistant (Trợ lý ảo): a Vietnamese question about
 * the province's indicators in, a short Vietnamese answer with its numbers,
 * rows, chart, sources and follow-ups out (docs/assistant.md).
 *
 * A question is understood by parse.h (or, optionally, by a language model
 * whose structured query is validated here), then answered with the reads of
 * apps/indicators/indicators.h as the caller: an indicator the caller may not
 * read is answered as if it did not exist. No SQL is built from the question.
 *
 * Thread-safety: per thread (the lexicon is kept per thread).
 */
#ifndef KHO_APPS_ASSISTANT_ASSISTANT_H
#define KHO_APPS_ASSISTANT_ASSISTANT_H

#include <jansson.h>
#include <stddef.h>

#include "core/err.h"
#include "security/auth.h"
#include "store/store.h"

/* Questions longer than this (in characters) are refused. */
#define KHO_ASK_MAX_CHARS 500

typedef struct kho_ask_ctx {
    kho_store_t *db;
    const kho_principal_t *who;
    int this_year; /* "năm nay"; 0: the clock's */
} kho_ask_ctx_t;

/* Answer question (len bytes). *out receives a new JSON object (the answer of
 * docs/assistant.md). KHO_EINVAL, kind empty_question, question_too_long or
 * bad_text, for a question that is empty, longer than KHO_ASK_MAX_CHARS
 * characters or not UTF-8; store errors otherwise. Every other question gets
 * an answer (intent help when nothing was understood). */
int kho_ask(const kho_ask_ctx_t *c, const char *question, size_t len, json_t **out, kho_err_t *err) KHO_WUR;

/* Answer question from a structured query {"intent","indicator","units",
 * "periods","n","order","threshold"} (a language model's; borrowed), after
 * checking every field against the catalogue and the unit tables; engine is
 * "llm". KHO_EINVAL when the query is not valid (the caller keeps its own
 * answer then). */
int kho_ask_structured(const kho_ask_ctx_t *c, const char *question, const json_t *query, json_t **out,
                       kho_err_t *err) KHO_WUR;

/* The catalogue a language model is shown: {"indicators":[{code,name,synonyms,
 * level,kind,unit_of_measure}]} of the indicators the caller may read. New reference. */
int kho_ask_catalogue(const kho_ask_ctx_t *c, json_t **out, kho_err_t *err) KHO_WUR;

/* Vietnamese number: 30985 -> "30.985", 1.25 (2 decimals) -> "1,25"; trailing
 * zeros of the decimals are dropped. Writes into out (size >= 48). */
void kho_ask_format_number(double v, int decimals, char *out, size_t size);

/* This calendar year by the clock (UTC): "năm nay" when a context gives none. */
int kho_ask_year_now(void);

/* Free what this thread keeps (its lexicon). */
void kho_ask_thread_done(void);

#endif
