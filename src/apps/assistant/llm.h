/*
 * llm — the assistant's optional language model: an OpenAI-compatible
 * chat-completions client that turns a question into the same structured
 * query the parser produces (docs/assistant.md, "The optional language model").
 *
 * The model only reads: it gets the indicator catalogue and the question, and
 * must answer with one JSON object naming an intent, an indicator code, unit
 * codes and periods. This module fetches and extracts that object; it checks
 * nothing against the catalogue or the unit tables (the caller does, and falls
 * back to `help` on anything unknown). The model never writes SQL and its
 * numbers are never used.
 *
 * Everything the server sends is untrusted: the reply is read into memory up to
 * KHO_LLM_MAX_REPLY bytes, parsed with jansson (which refuses invalid UTF-8, NUL
 * bytes and nesting deeper than 2048), and the model's text is at most
 * KHO_LLM_MAX_CONTENT bytes.
 *
 * Thread-safety: every function may be called from any thread at the same
 * time; nothing is shared between calls but libcurl's global state, set up
 * once (pthread_once) on the first kho_llm_ask(). kho_llm_ask() blocks for up
 * to timeout_ms: call it from a worker thread, never from an event loop.
 * There is no cleanup call (curl_global_cleanup is left to process exit).
 */
#ifndef KHO_APPS_ASSISTANT_LLM_H
#define KHO_APPS_ASSISTANT_LLM_H

#include <jansson.h>
#include <stddef.h>

#include "core/err.h"

/* The environment variable the API key comes from (never kho.conf). */
#define KHO_LLM_KEY_ENV "KHO_ASSISTANT_LLM_KEY"
/* Largest reply body read from the server. */
#define KHO_LLM_MAX_REPLY (1024 * 1024)
/* Largest choices[0].message.content accepted. */
#define KHO_LLM_MAX_CONTENT (8 * 1024)

typedef struct kho_llm_cfg {
    const char *url;   /* OpenAI-compatible base URL, e.g. http://127.0.0.1:11434/v1 ; "" = off */
    const char *model; /* model name sent as "model" */
    const char *key;   /* bearer token or NULL */
    long timeout_ms;   /* whole-call time limit (<= 0: 5000) */
} kho_llm_cfg_t;

/* Build the system message: instructions + the indicator catalogue. catalogue
 * is the JSON object {"indicators":[{code,name,synonyms,level,kind,
 * unit_of_measure},...]} (borrowed; NULL or without "indicators" gives an empty
 * catalogue; only those fields and "frequency" are copied into the prompt). The
 * instructions say: reply with ONE JSON object and nothing else, of the form
 * {"intent":"value|compare|rank|filter|change|share|forecast|target|definition|source|suggest|help",
 *  "indicator":"<code from the catalogue or null>",
 *  "units":["official unit codes, e.g. 33 province, 5-digit commune"],
 *  "periods":["2024" | "2024-Q3" | "2024-07"],"n":5,"order":"desc|asc","threshold":number|null},
 * never SQL, never numbers of its own. The caller frees the result with free(). */
char *kho_llm_system_prompt(const json_t *catalogue);

/* Extract the structured query from a chat-completions reply body (len bytes,
 * not trusted, need not be NUL-terminated): choices[0].message.content, which
 * may be wrapped in ```json fences or have text around one JSON object. A
 * content that is JSON as a whole must be an object; otherwise the first
 * object found in it is taken. Returns a new reference to that object (caller
 * decrefs), or NULL with err set (KHO_EINVAL, kind "llm_bad_reply", saying
 * what was wrong). Does not validate fields against the catalogue (the caller
 * does), but rejects non-objects, duplicate keys, bodies over
 * KHO_LLM_MAX_REPLY and content over KHO_LLM_MAX_CONTENT. */
json_t *kho_llm_parse_reply(const char *body, size_t len, kho_err_t *err);

/* POST {url}/chat/completions with {"model", "temperature":0,
 * "messages":[system, user=question], "response_format":{"type":"json_object"}};
 * a server that refuses that request with 400 or 422 is asked once more
 * without response_format, within the same time limit. Blocking (libcurl easy
 * handle); honours timeout_ms for the whole call; refuses replies over
 * KHO_LLM_MAX_REPLY; only http and https; follows no redirects; verifies TLS
 * certificates; uses the usual proxy environment variables. cfg, catalogue
 * and question are borrowed.
 *
 * Returns the parsed object (kho_llm_parse_reply; a new reference the caller
 * decrefs) or NULL with err set:
 *   KHO_EINVAL   url empty ("llm_off") or not http(s), a key with control
 *                characters, a question or model that is not UTF-8
 *                ("llm_bad_config"), or a reply kho_llm_parse_reply refuses
 *   KHO_EIO      the server could not be reached ("llm_unreachable"), answered
 *                an HTTP status other than 2xx ("llm_http_status", the message
 *                gives the status and the start of the server's error), or
 *                sent more than KHO_LLM_MAX_REPLY bytes ("llm_reply_too_large")
 *   KHO_ETIMEOUT no complete answer within timeout_ms ("llm_timeout")
 * The key never appears in an error message. */
json_t *kho_llm_ask(const kho_llm_cfg_t *cfg, const json_t *catalogue, const char *question, kho_err_t *err);

#endif
