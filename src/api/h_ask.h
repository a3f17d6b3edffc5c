/*
 * h_ask — the virtual assistant over HTTP (apps/assistant/assistant.h,
 * docs/assistant.md).
 *
 *   GET  /api/v1/ask?q=QUESTION
 *   POST /api/v1/ask   {"q": "QUESTION"}
 *
 * 200 with the answer for every question kho can read; 400 for an empty
 * question, one over 500 characters or text that is not UTF-8. Answers are
 * kept in the loop's response cache under the question, the caller and the
 * database's data_version. When an operator has configured a language model
 * (assistant_llm_url), questions the parser answers with "help" are sent to
 * it from a worker thread; its structured query is validated and run by kho.
 */
#ifndef KHO_API_H_ASK_H
#define KHO_API_H_ASK_H

#include "api/http.h"

void kho_h_ask(kho_reqctx_t *rc);

#endif
