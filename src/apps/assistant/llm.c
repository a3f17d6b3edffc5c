/*
 * llm — the assistant's optional language model (see llm.h).
 *
 * One call of kho_llm_ask():
 *
 *   check cfg ─ build prompt and body ─ POST ─┬─ 2xx ─────────────── parse reply ─ object
 *                                             ├─ 400/422, first try ─ POST again without
 *                                             │                       response_format (time left)
 *                                             └─ other ────────────── error
 *
 * The time limit is a deadline for the whole call: each POST gets what is left.
 * Reading the reply stops at KHO_LLM_MAX_REPLY bytes (Content-Length checked up
 * front, the bytes themselves as they arrive).
 */
#include "apps/assistant/llm.h"

#include <assert.h>
#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/jsonw.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/version.h"

#define DEFAULT_TIMEOUT_MS 5000
/* Objects tried when the content has text around one: enough for prose with a
 * few braces in it, few enough that hostile content costs little. */
#define MAX_CANDIDATES 32
/* Bytes of a server's error message quoted in err. */
#define EXCERPT 200

/* ---- the system prompt ------------------------------------------------------------ */

static const char PROMPT_HEAD[] =
    "You turn questions, usually in Vietnamese, about the socio-economic indicators of a Vietnamese "
    "province into a structured query for a data platform. The platform looks the data up itself: you "
    "never answer the question.\n"
    "\n"
    "Reply with ONE JSON object and nothing else (no prose, no code fences), of this form:\n"
    "{\"intent\":\"value|compare|rank|filter|change|share|forecast|target|definition|source|suggest|help\","
    "\"indicator\":\"<code from the catalogue or null>\","
    "\"units\":[\"official unit codes, e.g. 33 province, 5-digit commune\"],"
    "\"periods\":[\"2024\" | \"2024-Q3\" | \"2024-07\"],\"n\":5,\"order\":\"desc|asc\","
    "\"threshold\":number|null}\n"
    "\n"
    "Fields:\n"
    "- intent: value (the value of an indicator), compare (two units or two periods), rank (the top or "
    "bottom n communes), filter (communes above or below a threshold), change (growth or change between "
    "periods), share (a unit's share of the province), forecast (a future year), target (whether a target "
    "will be met), definition (what an indicator means), source (where its data come from), suggest (what "
    "needs attention), help (anything else, or when unsure).\n"
    "- indicator: exactly one \"code\" of the catalogue below (match names and synonyms with or without "
    "tone marks), or null. Never invent a code.\n"
    "- units: official administrative unit codes written in the question: 2-digit codes for provinces "
    "(such as \"33\"), 5-digit codes for communes and wards. [] when the question names no unit code "
    "(the province is meant).\n"
    "- periods: years \"2024\", quarters \"2024-Q3\", months \"2024-07\"; [] when none is named; for a span "
    "or a comparison of periods, the earlier first.\n"
    "- n: how many communes to rank (default 5, at most 20). order: \"desc\" for highest, most, top "
    "(cao nhất, nhiều nhất, dẫn đầu), \"asc\" for lowest, least (thấp nhất, ít nhất).\n"
    "- threshold: the number of a filter (\"trên 2%\" gives 2), otherwise null.\n"
    "\n"
    "Never write SQL. Never state numbers, values or facts of your own. When the question is not about "
    "these indicators, reply "
    "{\"intent\":\"help\",\"indicator\":null,\"units\":[],\"periods\":[],\"n\":5,\"order\":\"desc\","
    "\"threshold\":null}.\n";

/* The catalogue fields the model needs (a richer catalogue is cut down to these). */
static const char *const PROMPT_FIELDS[] = {"code",     "name", "synonyms", "level", "kind", "unit_of_measure",
                                            "frequency"};

/* {"indicators":[...]} with only PROMPT_FIELDS, deep-copied so that the
 * caller's catalogue is only read (not even its reference counts change). */
static json_t *slim_catalogue(const json_t *catalogue)
{
    json_t *list = json_array();
    const json_t *inds = catalogue ? json_object_get(catalogue, "indicators") : NULL;
    for (size_t i = 0; i < json_array_size(inds); i++) {
        const json_t *d = json_array_get(inds, i);
        if (!json_is_object(d))
            continue;
        json_t *o = json_object();
        for (size_t k = 0; k < sizeof PROMPT_FIELDS / sizeof PROMPT_FIELDS[0]; k++) {
            const json_t *v = json_object_get(d, PROMPT_FIELDS[k]);
            if (v)
                json_object_set_new(o, PROMPT_FIELDS[k], json_deep_copy(v));
        }
        json_array_append_new(list, o);
    }
    json_t *slim = json_object();
    json_object_set_new(slim, "indicators", list);
    return slim;
}

/* Two worked examples on the catalogue's first indicator, so that the model
 * sees real codes rather than placeholders. */
static void put_examples(kho_buf_t *b, const json_t *slim)
{
    const json_t *first = json_array_get(json_object_get(slim, "indicators"), 0);
    const char *code = json_string_value(json_object_get(first, "code"));
    const json_t *jname = json_object_get(first, "name");
    if (!code || !json_is_string(jname))
        return;
    kho_buf_t lower = KHO_BUF_INIT;
    kho_text_lower(json_string_value(jname), json_string_length(jname), &lower);
    const char *name = kho_buf_cstr(&lower);
    kho_buf_puts(b, "\nExamples:\nQuestion: ");
    kho_buf_puts(b, name);
    kho_buf_puts(b, " của xã 12031 năm 2024\nReply: ");
    json_t *ex = json_pack("{s:s,s:s,s:[s],s:[s],s:i,s:s,s:n}", "intent", "value", "indicator", code, "units", "12031",
                           "periods", "2024", "n", 5, "order", "desc", "threshold");
    if (ex)
        kho_json_dump(b, ex, 0);
    json_decref(ex);
    kho_buf_puts(b, "\nQuestion: 3 xã có ");
    kho_buf_puts(b, name);
    kho_buf_puts(b, " thấp nhất năm 2023\nReply: ");
    ex = json_pack("{s:s,s:s,s:[],s:[s],s:i,s:s,s:n}", "intent", "rank", "indicator", code, "units", "periods", "2023",
                   "n", 3, "order", "asc", "threshold");
    if (ex)
        kho_json_dump(b, ex, 0);
    json_decref(ex);
    kho_buf_putc(b, '\n');
    kho_buf_free(&lower);
}

char *kho_llm_system_prompt(const json_t *catalogue)
{
    kho_buf_t b = KHO_BUF_INIT;
    json_t *slim = slim_catalogue(catalogue);
    kho_buf_puts(&b, PROMPT_HEAD);
    put_examples(&b, slim);
    kho_buf_puts(&b, "\nIndicator catalogue (JSON):\n");
    kho_json_dump(&b, slim, 0);
    kho_buf_putc(&b, '\n');
    json_decref(slim);
    return kho_buf_steal(&b, NULL);
}

/* ---- the reply -------------------------------------------------------------------- */

/* Up to EXCERPT bytes of a server's text for a message, control characters
 * made spaces (a character cut in the middle is repaired by kho_err_set). */
static void excerpt(const char *src, size_t n, char out[EXCERPT + 1])
{
    if (n > EXCERPT)
        n = EXCERPT;
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? ' ' : src[i];
    out[n] = '\0';
}

static int bad_reply(kho_err_t *err, const char *what)
{
    return kho_err_setk(err, KHO_EINVAL, "llm_bad_reply", "language model reply: %s", what);
}

/* choices[0].message.content of a parsed body, as a borrowed string and its
 * length; NULL with err set when the body has no such string. */
static const char *reply_content(const json_t *root, size_t *len, kho_err_t *err)
{
    if (!json_is_object(root)) {
        bad_reply(err, "the body is not a JSON object");
        return NULL;
    }
    const json_t *choices = json_object_get(root, "choices");
    if (!json_is_array(choices) || json_array_size(choices) == 0) {
        const json_t *emsg = json_object_get(json_object_get(root, "error"), "message");
        if (json_is_string(emsg)) {
            char text[EXCERPT + 1];
            excerpt(json_string_value(emsg), json_string_length(emsg), text);
            kho_err_setk(err, KHO_EINVAL, "llm_bad_reply", "language model reply: an error: %s", text);
        } else
            bad_reply(err, "no \"choices\" array, or an empty one");
        return NULL;
    }
    const json_t *msg = json_object_get(json_array_get(choices, 0), "message");
    if (!json_is_object(msg)) {
        bad_reply(err, "choices[0] has no \"message\" object");
        return NULL;
    }
    const json_t *content = json_object_get(msg, "content");
    if (!json_is_string(content)) {
        bad_reply(err, content && !json_is_null(content) ? "choices[0].message.content is not a string"
                                                         : "choices[0].message has no content");
        return NULL;
    }
    *len = json_string_length(content);
    return json_string_value(content);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void trim(const char *s, size_t *from, size_t *to)
{
    while (*from < *to && is_space(s[*from]))
        (*from)++;
    while (*to > *from && is_space(s[*to - 1]))
        (*to)--;
}

/* Narrow s[*from, *to) to the inside of the first ``` fence pair; false when
 * there is no fence. The opening fence's line (```json) is skipped; a missing
 * closing fence leaves the rest of the text. */
static bool inside_fence(const char *s, size_t *from, size_t *to)
{
    const char *open = memmem(s + *from, *to - *from, "```", 3);
    if (!open)
        return false;
    size_t a = (size_t)(open - s) + 3;
    while (a < *to && s[a] != '\n' && s[a] != '{' && s[a] != '[')
        a++;
    const char *close = memmem(s + a, *to - a, "```", 3);
    *from = a;
    if (close)
        *to = (size_t)(close - s);
    trim(s, from, to);
    return true;
}

/* s[from, to) as one JSON value: true when it is one (then *out is the object,
 * or NULL with err set for any other value), false when it is not JSON. */
static bool whole_value(const char *s, size_t from, size_t to, json_t **out, kho_err_t *err)
{
    json_error_t je;
    json_t *v = json_loadb(s + from, to - from, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    *out = NULL;
    if (!v)
        return false;
    if (json_is_object(v)) {
        *out = v;
        return true;
    }
    kho_err_setk(err, KHO_EINVAL, "llm_bad_reply", "language model reply: the content is a JSON %s, not an object",
                 json_is_array(v)    ? "array"
                 : json_is_string(v) ? "string"
                                     : "scalar");
    json_decref(v);
    return true;
}

/* The first '{' of s[from, to) that starts a complete object; *tries counts
 * the attempts, at most MAX_CANDIDATES. */
static json_t *first_object(const char *s, size_t from, size_t to, int *tries)
{
    for (size_t i = from; i < to && *tries < MAX_CANDIDATES; i++) {
        if (s[i] != '{')
            continue;
        (*tries)++;
        json_error_t je;
        json_t *v = json_loadb(s + i, to - i, JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &je);
        if (v)
            return v; /* starts with '{': an object */
    }
    return NULL;
}

/* The one JSON object in the model's text: the whole text when it is JSON
 * (then it must be an object), else the inside of a ``` fence when that is
 * JSON, else the first complete object inside the fence, else in the text. */
static json_t *content_object(const char *s, size_t n, kho_err_t *err)
{
    size_t from = 0, to = n;
    trim(s, &from, &to);
    if (from == to) {
        bad_reply(err, "the content is empty");
        return NULL;
    }
    json_t *v = NULL;
    if (whole_value(s, from, to, &v, err))
        return v;
    size_t ffrom = from, fto = to;
    bool fenced = inside_fence(s, &ffrom, &fto);
    if (fenced && ffrom < fto && whole_value(s, ffrom, fto, &v, err))
        return v;
    int tries = 0;
    v = first_object(s, ffrom, fto, &tries);
    if (!v && fenced)
        v = first_object(s, from, to, &tries);
    if (!v)
        bad_reply(err, "no JSON object in the content");
    return v;
}

json_t *kho_llm_parse_reply(const char *body, size_t len, kho_err_t *err)
{
    if (!body || len == 0) {
        bad_reply(err, "the body is empty");
        return NULL;
    }
    if (len > KHO_LLM_MAX_REPLY) {
        bad_reply(err, "the body is larger than 1 MiB");
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    if (!root) {
        kho_err_setk(err, KHO_EINVAL, "llm_bad_reply", "language model reply: not JSON (%s at byte %d)", je.text,
                     je.position);
        return NULL;
    }
    json_t *obj = NULL;
    size_t n = 0;
    const char *content = reply_content(root, &n, err);
    if (!content)
        goto done;
    if (n > KHO_LLM_MAX_CONTENT) {
        kho_err_setk(err, KHO_EINVAL, "llm_bad_reply", "language model reply: the content has %zu bytes (at most %d)",
                     n, KHO_LLM_MAX_CONTENT);
        goto done;
    }
    obj = content_object(content, n, err);
done:
    json_decref(root);
    return obj;
}

/* ---- the HTTP call ---------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The reply body as it arrives, refused past KHO_LLM_MAX_REPLY bytes. */
typedef struct sink {
    kho_buf_t body;
    bool too_large;
} sink_t;

static size_t on_data(char *p, size_t size, size_t nmemb, void *userdata)
{
    sink_t *s = userdata;
    size_t n = size * nmemb;
    if (n > KHO_LLM_MAX_REPLY - s->body.len) {
        s->too_large = true;
        return 0; /* anything but n stops the transfer */
    }
    kho_buf_append(&s->body, p, n);
    return n;
}

static int check_cfg(const kho_llm_cfg_t *cfg, const char *question, kho_err_t *err)
{
    if (!cfg || !cfg->url || !cfg->url[0])
        return kho_err_setk(err, KHO_EINVAL, "llm_off", "the language model is off (assistant_llm_url is empty)");
    if (strncasecmp(cfg->url, "http://", 7) != 0 && strncasecmp(cfg->url, "https://", 8) != 0)
        return kho_err_setk(err, KHO_EINVAL, "llm_bad_config", "assistant_llm_url must start with http:// or https://");
    for (const char *p = cfg->url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return kho_err_setk(err, KHO_EINVAL, "llm_bad_config",
                                "assistant_llm_url contains a space or a control character");
    for (const char *p = cfg->key; p && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return kho_err_setk(err, KHO_EINVAL, "llm_bad_config", "%s contains a control character", KHO_LLM_KEY_ENV);
    const char *model = cfg->model ? cfg->model : "";
    if (!kho_utf8_valid(model, strlen(model), NULL))
        return kho_err_setk(err, KHO_EINVAL, "llm_bad_config", "assistant_llm_model is not valid UTF-8");
    if (!question || !kho_utf8_valid(question, strlen(question), NULL))
        return kho_err_setk(err, KHO_EINVAL, "llm_bad_config", "the question is missing or not valid UTF-8");
    return 0;
}

/* The request body; with_format adds "response_format":{"type":"json_object"}.
 * Every string was checked to be UTF-8 (check_cfg), so packing cannot fail. */
static void request_body(kho_buf_t *b, const char *model, const char *system, const char *question, bool with_format)
{
    json_t *req = json_pack("{s:s,s:i,s:[{s:s,s:s},{s:s,s:s}]}", "model", model, "temperature", 0, "messages", "role",
                            "system", "content", system, "role", "user", "content", question);
    assert(req);
    if (with_format)
        json_object_set_new(req, "response_format", json_pack("{s:s}", "type", "json_object"));
    kho_buf_reset(b);
    kho_json_dump(b, req, 0);
    json_decref(req);
}

/* Headers of every request; the one carrying the key is wiped by free_headers. */
static struct curl_slist *make_headers(const char *key)
{
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Accept: application/json");
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip for a large prompt */
    if (key && key[0]) {
        kho_buf_t line = KHO_BUF_INIT;
        kho_buf_printf(&line, "Authorization: Bearer %s", key);
        h = curl_slist_append(h, line.data);
        sodium_memzero(line.data, line.cap);
        kho_buf_free(&line);
    }
    return h;
}

static void free_headers(struct curl_slist *h)
{
    for (struct curl_slist *p = h; p; p = p->next)
        sodium_memzero(p->data, strlen(p->data));
    curl_slist_free_all(h);
}

static void set_options(CURL *c, const char *url, struct curl_slist *headers, sink_t *sink)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM around name resolution */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "kho/" KHO_VERSION);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)KHO_LLM_MAX_REPLY);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
}

/* The start of a server's error answer, for the message: its error.message
 * when it is JSON in the OpenAI shape, else the first bytes of the body. */
static void error_excerpt(const kho_buf_t *body, char out[EXCERPT + 1])
{
    json_t *j = json_loadb(kho_buf_cstr(body), body->len, 0, NULL);
    const json_t *msg = json_object_get(json_object_get(j, "error"), "message");
    if (!json_is_string(msg))
        msg = json_object_get(j, "error");
    if (json_is_string(msg))
        excerpt(json_string_value(msg), json_string_length(msg), out);
    else
        excerpt(kho_buf_cstr(body), body->len, out);
    json_decref(j);
}

/* One POST within what is left of the deadline. 0 with *status set when the
 * server answered (whatever the status), or an error. */
static int post(CURL *c, const kho_buf_t *req, int64_t deadline, sink_t *sink, long *status, kho_err_t *err)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    int64_t left = deadline - now_ms();
    if (left <= 0)
        return kho_err_setk(err, KHO_ETIMEOUT, "llm_timeout", "the language model did not answer in time");
    kho_buf_reset(&sink->body);
    sink->too_large = false;
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, kho_buf_cstr(req));
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return kho_err_setk(err, KHO_ETIMEOUT, "llm_timeout", "the language model did not answer in time");
    if (sink->too_large || rc == CURLE_FILESIZE_EXCEEDED)
        return kho_err_setk(err, KHO_EIO, "llm_reply_too_large", "the language model's reply is larger than 1 MiB");
    if (rc != CURLE_OK)
        return kho_err_setk(err, KHO_EIO, "llm_unreachable", "language model server: %s",
                            errbuf[0] ? errbuf : curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    return 0;
}

/* POST, and once more without response_format when the server refused the
 * request itself (400 or 422). The reply body is left in sink. */
static int exchange(CURL *c, const kho_llm_cfg_t *cfg, const char *system, const char *question, int64_t deadline,
                    sink_t *sink, kho_err_t *err)
{
    kho_buf_t req = KHO_BUF_INIT;
    const char *model = cfg->model ? cfg->model : "";
    long status = 0;
    request_body(&req, model, system, question, true);
    int rc = post(c, &req, deadline, sink, &status, err);
    if (rc == 0 && (status == 400 || status == 422)) {
        request_body(&req, model, system, question, false);
        rc = post(c, &req, deadline, sink, &status, err);
    }
    kho_buf_free(&req);
    if (rc == 0 && (status < 200 || status > 299)) {
        char excerpt[EXCERPT + 1];
        error_excerpt(&sink->body, excerpt);
        rc = kho_err_setk(err, KHO_EIO, "llm_http_status", "language model server answered HTTP %ld%s%s%s", status,
                          status >= 300 && status < 400 ? " (redirects are not followed)" : "", excerpt[0] ? ": " : "",
                          excerpt);
    }
    return rc;
}

json_t *kho_llm_ask(const kho_llm_cfg_t *cfg, const json_t *catalogue, const char *question, kho_err_t *err)
{
    if (check_cfg(cfg, question, err) != 0)
        return NULL;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        kho_err_setk(err, KHO_EIO, "llm_unreachable", "libcurl: %s", curl_easy_strerror(curl_init_rc));
        return NULL;
    }
    int64_t deadline = now_ms() + (cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS);
    json_t *out = NULL;
    char *system = NULL;
    struct curl_slist *headers = NULL;
    sink_t sink = {KHO_BUF_INIT, false};
    kho_buf_t url = KHO_BUF_INIT;
    size_t n = strlen(cfg->url);
    while (n > 0 && cfg->url[n - 1] == '/')
        n--;
    kho_buf_append(&url, cfg->url, n);
    kho_buf_puts(&url, "/chat/completions");
    CURL *c = curl_easy_init();
    if (!c) {
        kho_err_setk(err, KHO_EIO, "llm_unreachable", "libcurl: cannot create a handle");
        goto done;
    }
    system = kho_llm_system_prompt(catalogue);
    headers = make_headers(cfg->key);
    set_options(c, url.data, headers, &sink);
    if (exchange(c, cfg, system, question, deadline, &sink, err) == 0)
        out = kho_llm_parse_reply(sink.body.data, sink.body.len, err);
done:
    curl_easy_cleanup(c);
    free_headers(headers);
    free(system);
    kho_buf_free(&sink.body);
    kho_buf_free(&url);
    return out;
}
