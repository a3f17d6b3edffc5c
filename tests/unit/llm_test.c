/* Unit tests of apps/assistant/llm: the reply parser on good and hostile
 * replies, the system prompt, and calls to tiny HTTP servers on 127.0.0.1
 * (a canned answer, 500, silence, a refused connection, a server that refuses
 * response_format, a redirect, replies over 1 MiB). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "apps/assistant/llm.h"
#include "kho_test.h"

static void jfree(void *p)
{
    json_decref(p);
}

/* ---- reply bodies ----------------------------------------------------------------- */

/* A chat-completions body whose choices[0].message.content is `content`
 * (released at teardown). */
static const char *completion(const char *content)
{
    json_t *j =
        json_pack("{s:s,s:s,s:[{s:i,s:{s:s,s:s},s:s}]}", "id", "chatcmpl-1", "object", "chat.completion", "choices",
                  "index", 0, "message", "role", "assistant", "content", content, "finish_reason", "stop");
    assert_non_null(j);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return kt_defer(free, s);
}

static json_t *parse(const char *body, kho_err_t *err)
{
    json_t *o = kho_llm_parse_reply(body, strlen(body), err);
    return o ? kt_defer(jfree, o) : NULL;
}

/* The reply must be refused with KHO_EINVAL and a message containing `why`. */
static void assert_refused(const char *body, size_t len, const char *why)
{
    kho_err_t err = {0};
    json_t *o = kho_llm_parse_reply(body, len, &err);
    if (o) {
        json_decref(o);
        fail_msg("accepted a reply that should be refused (%s)", why);
    }
    assert_int_equal(err.code, KHO_EINVAL);
    assert_string_equal(err.kind, "llm_bad_reply");
    if (!strstr(err.msg, why))
        fail_msg("message '%s' should say '%s'", err.msg, why);
}

static const char QUERY[] = "{\"intent\":\"value\",\"indicator\":\"dan_so\",\"units\":[\"12031\"],"
                            "\"periods\":[\"2024\"],\"n\":5,\"order\":\"desc\",\"threshold\":null}";

static void assert_query(const json_t *o)
{
    assert_non_null(o);
    assert_true(json_is_object(o));
    assert_int_equal(o->refcount, 1); /* a new reference, not one kept by a parsed body */
    assert_string_equal(json_string_value(json_object_get(o, "intent")), "value");
    assert_string_equal(json_string_value(json_object_get(o, "indicator")), "dan_so");
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "units"), 0)), "12031");
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "periods"), 0)), "2024");
    assert_true(json_is_null(json_object_get(o, "threshold")));
}

/* before + QUERY + after (released at teardown). */
static const char *around(const char *before, const char *after)
{
    size_t n = strlen(before) + sizeof QUERY + strlen(after);
    char *t = kt_malloc(n);
    snprintf(t, n, "%s%s%s", before, QUERY, after);
    return t;
}

static void test_plain_reply(void **state)
{
    (void)state;
    kho_err_t err = {0};
    assert_query(parse(completion(QUERY), &err));
    /* white space around it, and a body with more fields than the parser reads */
    assert_query(parse(completion(around("\n  ", " \n\n")), &err));
    const char *full = "{\"id\":\"x\",\"created\":1,\"model\":\"qwen\",\"usage\":{\"prompt_tokens\":9},"
                       "\"choices\":[{\"index\":0,\"logprobs\":null,\"message\":{\"role\":\"assistant\",\"content\":"
                       "\"{\\\"intent\\\":\\\"help\\\",\\\"indicator\\\":null}\"},\"finish_reason\":\"stop\"}]}";
    json_t *o = parse(full, &err);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "intent")), "help");
    assert_true(json_is_null(json_object_get(o, "indicator")));
}

static void test_fenced_reply(void **state)
{
    (void)state;
    static const char *forms[][2] = {
        {"```json\n", "\n```"}, {"```JSON\n", "\n```\n"},
        {"```\n", "\n```"},     {"Đây là truy vấn:\n```json\n", "\n```\nHy vọng hữu ích."},
        {"```json ", "```"},    {"```json\n", "\n"}, /* no closing fence */
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        kho_err_t err = {0};
        json_t *o = parse(completion(around(forms[i][0], forms[i][1])), &err);
        if (!o)
            fail_msg("form %zu: %s", i, err.msg);
        assert_query(o);
    }
}

static void test_text_around_object(void **state)
{
    (void)state;
    static const char *forms[][2] = {
        {"Sure! ", ""},
        {"", "\nThe indicator is the population."},
        {"Câu hỏi {không rõ} nhưng đây: ", " (xong)"}, /* a brace before the object that is not JSON */
        {"Ví dụ {\"a\": [1, 2} sai, còn đây: ", ""},   /* a broken object before the good one */
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        kho_err_t err = {0};
        json_t *o = parse(completion(around(forms[i][0], forms[i][1])), &err);
        if (!o)
            fail_msg("form %zu: %s", i, err.msg);
        assert_query(o);
    }
    /* a whole object is taken as it is, even with fences inside its strings */
    kho_err_t err0 = {0};
    json_t *f = parse(completion("{\"intent\":\"help\",\"note\":\"```json {\\\"intent\\\":\\\"rank\\\"}```\"}"), &err0);
    if (!f)
        fail_msg("%s", err0.msg);
    assert_string_equal(json_string_value(json_object_get(f, "intent")), "help");
    /* two objects: the first complete one wins */
    kho_err_t err = {0};
    json_t *o = parse(completion("{\"intent\":\"rank\"} then {\"intent\":\"value\"}"), &err);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "intent")), "rank");
}

static void test_bodies_not_chat_completions(void **state)
{
    (void)state;
    static const struct {
        const char *body, *why;
    } cases[] = {
        {"hello", "not JSON"},
        {"", "empty"},
        {"   ", "not JSON"},
        {"{\"choices\":[{\"message\":{\"content\":\"{}\"}}]", "not JSON"},
        {"[1,2,3]", "not a JSON object"},
        {"[{\"message\":{\"content\":\"{}\"}}]", "not a JSON object"},
        {"\"text\"", "not JSON"},
        {"{}", "no \"choices\""},
        {"{\"choices\":[]}", "no \"choices\""},
        {"{\"choices\":{\"0\":1}}", "no \"choices\""},
        {"{\"choices\":[1]}", "no \"message\""},
        {"{\"choices\":[{\"text\":\"{}\"}]}", "no \"message\""},
        {"{\"choices\":[{\"message\":\"{}\"}]}", "no \"message\""},
        {"{\"choices\":[{\"message\":{}}]}", "has no content"},
        {"{\"choices\":[{\"message\":{\"content\":null,\"refusal\":\"no\"}}]}", "has no content"},
        {"{\"choices\":[{\"message\":{\"content\":42}}]}", "not a string"},
        {"{\"choices\":[{\"message\":{\"content\":[{\"type\":\"text\"}]}}]}", "not a string"},
        {"{\"choices\":[{\"message\":{\"content\":{\"intent\":\"value\"}}}]}", "not a string"},
        {"{\"error\":{\"message\":\"model 'x' not found\",\"type\":\"invalid_request_error\"}}", "not found"},
        {"{\"choices\":[{\"message\":{\"content\":\"\\u00ff\\u0000{}\"}}]}", "not JSON"},
        {"{\"choices\":[{\"message\":{\"content\":\"\xff{}\"}}]}", "not JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_refused(cases[i].body, strlen(cases[i].body), cases[i].why);
    assert_refused(NULL, 0, "empty");
}

static void test_contents_without_object(void **state)
{
    (void)state;
    static const struct {
        const char *content, *why;
    } cases[] = {
        {"", "empty"},
        {" \n\t ", "empty"},
        {"Tôi không biết.", "no JSON object"},
        {"```json\n```", "no JSON object"},
        {"```json\n\n```", "no JSON object"},
        {"[{\"intent\":\"value\"}]", "JSON array"},
        {"```json\n[{\"intent\":\"value\"}]\n```", "JSON array"},
        {"\"{\\\"intent\\\":\\\"value\\\"}\"", "JSON string"},
        {"42", "JSON scalar"},
        {"null", "JSON scalar"},
        {"{\"intent\":\"value\",\"intent\":\"rank\"}", "no JSON object"}, /* duplicate keys */
        {"{\"intent\":\"value\"", "no JSON object"},
        {"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{", "no JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *body = completion(cases[i].content);
        assert_refused(body, strlen(body), cases[i].why);
    }
}

static void test_hostile_sizes_and_bytes(void **state)
{
    (void)state;
    /* deeply nested body (jansson stops at depth 2048) */
    size_t depth = 100000;
    char *deep = kt_malloc(2 * depth + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    assert_refused(deep, 2 * depth, "not JSON");
    /* deeply nested content within 8 KiB */
    char nested[8001];
    memset(nested, '[', 4000);
    memset(nested + 4000, ']', 4000);
    nested[8000] = '\0';
    nested[0] = '{'; /* "{[[[...]]]" : neither valid nor an object */
    const char *body = completion(nested);
    assert_refused(body, strlen(body), "no JSON object");
    /* {"a":{"a":{"a":... : every brace starts a long, unfinished object */
    char objs[8001];
    for (size_t i = 0; i < 1600; i++)
        memcpy(objs + 5 * i, "{\"a\":", 5);
    objs[8000] = '\0';
    body = completion(objs);
    assert_refused(body, strlen(body), "no JSON object");
    /* content over 8 KiB, even when it is a valid object */
    size_t big = KHO_LLM_MAX_CONTENT + 1;
    char *padded = kt_malloc(big + 1);
    memset(padded, ' ', big);
    memcpy(padded, QUERY, sizeof QUERY - 1);
    padded[big] = '\0';
    body = completion(padded);
    assert_refused(body, strlen(body), "bytes (at most 8192)");
    padded[big - 1] = '\0'; /* exactly 8 KiB is fine */
    kho_err_t err = {0};
    assert_query(parse(completion(padded), &err));
    /* a body over 1 MiB, even when it is valid */
    size_t huge = KHO_LLM_MAX_REPLY + 16;
    char *hb = kt_malloc(huge + 1);
    const char *ok = completion(QUERY);
    memset(hb, ' ', huge);
    memcpy(hb, ok, strlen(ok));
    hb[huge] = '\0';
    assert_refused(hb, huge, "larger than 1 MiB");
    /* NUL bytes: inside the body, after it, inside the content (escaped) */
    char withnul[256];
    size_t n = (size_t)snprintf(withnul, sizeof withnul, "%s", ok);
    assert_refused(withnul, n + 1, "not JSON"); /* the terminating NUL counted as a byte */
    withnul[10] = '\0';
    assert_refused(withnul, n, "not JSON");
    static const char nulcontent[] =
        "{\"choices\":[{\"message\":{\"content\":\"{\\\"intent\\\":\\\"va\\u0000lue\\\"}\"}}]}";
    assert_refused(nulcontent, sizeof nulcontent - 1, "not JSON");
    /* the length is honoured: a NUL-free prefix of a valid body is not parsed past len */
    assert_refused(ok, strlen(ok) - 1, "not JSON");
}

/* ---- the system prompt ------------------------------------------------------------ */

static json_t *catalogue(void)
{
    json_t *c = json_pack("{s:[{s:s,s:s,s:[s,s],s:s,s:s,s:s,s:s,s:s},{s:s,s:s,s:[],s:s,s:s,s:s,s:s}]}", "indicators",
                          "code", "dan_so", "name", "Dân số", "synonyms", "số dân", "dân cư", "level", "commune",
                          "kind", "additive", "unit_of_measure", "người", "frequency", "year", "description",
                          "SECRET-DESCRIPTION", "code", "ty_le_ho_ngheo", "name", "Tỷ lệ hộ nghèo", "synonyms", "level",
                          "commune", "kind", "rate", "unit_of_measure", "%", "frequency", "year");
    assert_non_null(c);
    return kt_defer(jfree, c);
}

static void test_system_prompt(void **state)
{
    (void)state;
    json_t *cat = catalogue();
    char *p = kt_defer(free, kho_llm_system_prompt(cat));
    assert_non_null(p);
    assert_non_null(strstr(p, "\"code\":\"dan_so\""));
    assert_non_null(strstr(p, "\"code\":\"ty_le_ho_ngheo\""));
    assert_non_null(strstr(p, "Dân số"));
    assert_non_null(strstr(p, "số dân"));
    assert_non_null(strstr(p, "\"unit_of_measure\":\"người\""));
    assert_non_null(strstr(p, "\"kind\":\"rate\""));
    assert_non_null(strstr(p, "ONE JSON object"));
    assert_non_null(strstr(p, "Never write SQL"));
    assert_non_null(strstr(p, "value|compare|rank|filter|change|share|forecast|target|definition|source|suggest|help"));
    assert_non_null(strstr(p, "\"2024-Q3\""));
    assert_null(strstr(p, "SECRET-DESCRIPTION")); /* fields the model does not need are left out */
    /* the catalogue is only read */
    assert_int_equal(cat->refcount, 1);
    assert_int_equal(json_array_get(json_object_get(cat, "indicators"), 0)->refcount, 1);
    assert_int_equal(json_object_get(json_array_get(json_object_get(cat, "indicators"), 0), "synonyms")->refcount, 1);
    /* no catalogue, or a malformed one: still instructions, with an empty list */
    char *q = kt_defer(free, kho_llm_system_prompt(NULL));
    assert_non_null(strstr(q, "{\"indicators\":[]}"));
    assert_non_null(strstr(q, "ONE JSON object"));
    json_t *odd = kt_defer(jfree, json_pack("{s:[i,s,{s:i}]}", "indicators", 1, "x", "code", 7));
    char *r = kt_defer(free, kho_llm_system_prompt(odd));
    assert_non_null(strstr(r, "{\"indicators\":[{\"code\":7}]}"));
}

/* ---- a tiny HTTP server ----------------------------------------------------------- */

typedef enum {
    SRV_OK,          /* the canned chat completion */
    SRV_500,         /* 500 with an OpenAI-style error */
    SRV_SILENT,      /* reads the request, never answers */
    SRV_NO_FORMAT,   /* 400 when the body has response_format, else SRV_OK */
    SRV_REDIRECT,    /* 302 to another path of itself */
    SRV_HUGE_LENGTH, /* announces 2 MiB */
    SRV_HUGE_STREAM, /* sends 1.5 MiB without Content-Length */
} srv_mode_t;

#define SRV_MAX_REQ 4

typedef struct server {
    int lfd, port;
    srv_mode_t mode;
    int max_conns;
    pthread_t th;
    bool joined;
    /* what the requests were (read after server_join) */
    int nreq;
    char line[SRV_MAX_REQ][256];
    char *headers[SRV_MAX_REQ];
    char *body[SRV_MAX_REQ];
} server_t;

static const char SRV_CONTENT[] = "Kết quả:\n```json\n{\"intent\":\"value\",\"indicator\":\"dan_so\","
                                  "\"units\":[\"12031\"],\"periods\":[\"2024\"],\"n\":5,\"order\":\"desc\","
                                  "\"threshold\":null}\n```";

static bool send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static void respond(int fd, const char *status, const char *extra, const char *body)
{
    char head[512];
    int n =
        snprintf(head, sizeof head,
                 "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
                 status, strlen(body), extra);
    if (send_all(fd, head, (size_t)n))
        send_all(fd, body, strlen(body));
}

/* Read one request (headers and Content-Length bytes of body) into s's slot. */
static bool read_request(server_t *s, int fd)
{
    size_t cap = 1 << 20, n = 0, hlen = 0, clen = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (n == cap || poll(&p, 1, 5000) <= 0)
            break;
        ssize_t r = recv(fd, buf + n, cap - n, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
        if (!hlen) {
            char *e = strstr(buf, "\r\n\r\n");
            if (!e)
                continue;
            hlen = (size_t)(e - buf) + 4;
            buf[hlen - 2] = '\0';
            const char *cl = strcasestr(buf, "\r\ncontent-length:");
            clen = cl ? strtoul(cl + 17, NULL, 10) : 0;
            buf[hlen - 2] = '\r';
        }
        if (hlen && n >= hlen + clen) {
            int k = s->nreq++;
            const char *eol = strstr(buf, "\r\n");
            snprintf(s->line[k], sizeof s->line[k], "%.*s", (int)(eol - buf), buf);
            s->headers[k] = strndup(buf, hlen);
            s->body[k] = strndup(buf + hlen, clen);
            free(buf);
            return true;
        }
    }
    free(buf);
    return false;
}

static void answer(server_t *s, int fd)
{
    const char *req = s->body[s->nreq - 1];
    char *reply = NULL;
    switch (s->mode) {
    case SRV_NO_FORMAT:
        if (strstr(req, "response_format")) {
            respond(
                fd, "400 Bad Request", "",
                "{\"error\":{\"message\":\"response_format is not supported\",\"type\":\"invalid_request_error\"}}");
            return;
        }
        /* fall through */
    case SRV_OK: {
        json_t *j = json_pack("{s:s,s:[{s:i,s:{s:s,s:s},s:s}]}", "object", "chat.completion", "choices", "index", 0,
                              "message", "role", "assistant", "content", SRV_CONTENT, "finish_reason", "stop");
        reply = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        respond(fd, "200 OK", "", reply);
        free(reply);
        return;
    }
    case SRV_500:
        respond(fd, "500 Internal Server Error", "",
                "{\"error\":{\"message\":\"model\\n not loaded\",\"type\":\"server_error\"}}");
        return;
    case SRV_SILENT: {
        struct pollfd p = {fd, POLLIN, 0};
        char c;
        if (poll(&p, 1, 5000) > 0)
            (void)recv(fd, &c, 1, 0); /* returns when the client gives up */
        return;
    }
    case SRV_REDIRECT: {
        char loc[128];
        snprintf(loc, sizeof loc, "Location: http://127.0.0.1:%d/elsewhere\r\n", s->port);
        respond(fd, "302 Found", loc, "{}");
        return;
    }
    case SRV_HUGE_LENGTH:
    case SRV_HUGE_STREAM: {
        const char *h = s->mode == SRV_HUGE_LENGTH
                            ? "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n"
                            : "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
        char chunk[65536];
        memset(chunk, ' ', sizeof chunk);
        chunk[0] = '[';
        if (!send_all(fd, h, strlen(h)))
            return;
        for (int i = 0; i < 24; i++)
            if (!send_all(fd, chunk, sizeof chunk))
                return;
        return;
    }
    }
}

static void *serve(void *arg)
{
    server_t *s = arg;
    for (int i = 0; i < s->max_conns && s->nreq < SRV_MAX_REQ; i++) {
        struct pollfd p = {s->lfd, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0)
            break;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            break;
        if (read_request(s, fd))
            answer(s, fd);
        close(fd);
    }
    return NULL;
}

static void server_join(server_t *s)
{
    if (!s->joined)
        pthread_join(s->th, NULL);
    s->joined = true;
}

static void server_free(void *p)
{
    server_t *s = p;
    server_join(s);
    close(s->lfd);
    for (int i = 0; i < s->nreq; i++) {
        free(s->headers[i]);
        free(s->body[i]);
    }
    free(s);
}

/* A listening socket on 127.0.0.1 and a thread serving max_conns connections
 * (stopped and freed at teardown). */
static server_t *server_start(srv_mode_t mode, int max_conns)
{
    server_t *s = calloc(1, sizeof *s);
    s->mode = mode;
    s->max_conns = max_conns;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->lfd, 8), 0);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
    return kt_defer(server_free, s);
}

static const char *url_of(int port, const char *suffix)
{
    char *u = kt_malloc(64);
    snprintf(u, 64, "http://127.0.0.1:%d%s", port, suffix);
    return u;
}

static int64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char QUESTION[] = "dân số xã Nghĩa Trụ năm 2024 \"trích dẫn\" và {ngoặc}";
static const char KEY[] = "sk-test-0123456789abcdef";

static json_t *ask(const char *url, const char *key, long timeout_ms, kho_err_t *err)
{
    kho_llm_cfg_t cfg = {.url = url, .model = "qwen2.5:7b", .key = key, .timeout_ms = timeout_ms};
    json_t *o = kho_llm_ask(&cfg, catalogue(), QUESTION, err);
    return o ? kt_defer(jfree, o) : NULL;
}

/* The request kho sent: method, path, key, and the body's fields. */
static void assert_request(const server_t *s, int k, const char *key, bool with_format)
{
    assert_string_equal(s->line[k], "POST /v1/chat/completions HTTP/1.1");
    char auth[128];
    snprintf(auth, sizeof auth, "\r\nAuthorization: Bearer %s\r\n", key ? key : "");
    if (key)
        assert_non_null(strstr(s->headers[k], auth));
    else
        assert_null(strcasestr(s->headers[k], "Authorization:"));
    assert_non_null(strcasestr(s->headers[k], "\r\nContent-Type: application/json\r\n"));
    assert_null(strcasestr(s->headers[k], "Expect:"));
    json_error_t je;
    json_t *b = kt_defer(jfree, json_loads(s->body[k], 0, &je));
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(b, "model")), "qwen2.5:7b");
    assert_true(json_is_number(json_object_get(b, "temperature")));
    assert_true(json_number_value(json_object_get(b, "temperature")) == 0);
    json_t *msgs = json_object_get(b, "messages");
    assert_int_equal(json_array_size(msgs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "role")), "system");
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(msgs, 0), "content")), "dan_so"));
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 1), "role")), "user");
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 1), "content")), QUESTION);
    json_t *rf = json_object_get(b, "response_format");
    if (with_format)
        assert_string_equal(json_string_value(json_object_get(rf, "type")), "json_object");
    else
        assert_null(rf);
}

static void test_ask_ok(void **state)
{
    (void)state;
    server_t *s = server_start(SRV_OK, 1);
    kho_err_t err = {0};
    json_t *o = ask(url_of(s->port, "/v1"), KEY, 5000, &err);
    if (!o)
        fail_msg("%s", err.msg);
    assert_query(o);
    server_join(s);
    assert_int_equal(s->nreq, 1);
    assert_request(s, 0, KEY, true);
    /* a base URL with a trailing slash, and no key */
    s = server_start(SRV_OK, 1);
    assert_query(ask(url_of(s->port, "/v1/"), NULL, 5000, &err));
    server_join(s);
    assert_request(s, 0, NULL, true);
}

static void test_ask_without_response_format(void **state)
{
    (void)state;
    server_t *s = server_start(SRV_NO_FORMAT, 2);
    kho_err_t err = {0};
    json_t *o = ask(url_of(s->port, "/v1"), KEY, 5000, &err);
    if (!o)
        fail_msg("%s", err.msg);
    assert_query(o);
    server_join(s);
    assert_int_equal(s->nreq, 2);
    assert_request(s, 0, KEY, true);
    assert_request(s, 1, KEY, false);
}

static void test_ask_http_500(void **state)
{
    (void)state;
    server_t *s = server_start(SRV_500, 1);
    kho_err_t err = {0};
    assert_null(ask(url_of(s->port, "/v1"), KEY, 5000, &err));
    assert_int_equal(err.code, KHO_EIO);
    assert_string_equal(err.kind, "llm_http_status");
    assert_non_null(strstr(err.msg, "HTTP 500"));
    assert_non_null(strstr(err.msg, "model  not loaded")); /* the newline made a space */
    assert_null(strstr(err.msg, KEY));
    server_join(s);
    assert_int_equal(s->nreq, 1);
}

static void test_ask_timeout(void **state)
{
    (void)state;
    server_t *s = server_start(SRV_SILENT, 1);
    kho_err_t err = {0};
    int64_t t0 = ms_now();
    assert_null(ask(url_of(s->port, "/v1"), KEY, 300, &err));
    int64_t took = ms_now() - t0;
    assert_int_equal(err.code, KHO_ETIMEOUT);
    assert_string_equal(err.kind, "llm_timeout");
    if (took < 250 || took > 2000)
        fail_msg("the call took %lld ms with a 300 ms limit", (long long)took);
    server_join(s);
    assert_int_equal(s->nreq, 1);
}

static void test_ask_refused(void **state)
{
    (void)state;
    /* a port bound and released: nothing listens there */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    close(fd);
    kho_err_t err = {0};
    int64_t t0 = ms_now();
    assert_null(ask(url_of(ntohs(a.sin_port), "/v1"), KEY, 5000, &err));
    assert_true(ms_now() - t0 < 2000);
    assert_int_equal(err.code, KHO_EIO);
    assert_string_equal(err.kind, "llm_unreachable");
    assert_null(strstr(err.msg, KEY));
}

static void test_ask_redirect_not_followed(void **state)
{
    (void)state;
    server_t *s = server_start(SRV_REDIRECT, 1); /* a followed redirect would time out */
    kho_err_t err = {0};
    assert_null(ask(url_of(s->port, "/v1"), KEY, 1000, &err));
    assert_int_equal(err.code, KHO_EIO);
    assert_non_null(strstr(err.msg, "HTTP 302"));
    server_join(s);
    assert_int_equal(s->nreq, 1);
}

static void test_ask_reply_too_large(void **state)
{
    (void)state;
    srv_mode_t modes[] = {SRV_HUGE_LENGTH, SRV_HUGE_STREAM};
    for (size_t i = 0; i < 2; i++) {
        server_t *s = server_start(modes[i], 1);
        kho_err_t err = {0};
        assert_null(ask(url_of(s->port, "/v1"), KEY, 5000, &err));
        if (err.code != KHO_EIO || strcmp(err.kind, "llm_reply_too_large") != 0)
            fail_msg("mode %zu: %d %s: %s", i, err.code, err.kind, err.msg);
        server_join(s);
    }
}

static void test_ask_bad_config(void **state)
{
    (void)state;
    kho_llm_cfg_t cfg = {.url = "", .model = "m", .key = NULL, .timeout_ms = 1000};
    kho_err_t err = {0};
    assert_null(kho_llm_ask(&cfg, NULL, "q", &err));
    assert_int_equal(err.code, KHO_EINVAL);
    assert_string_equal(err.kind, "llm_off");
    assert_null(kho_llm_ask(NULL, NULL, "q", &err));
    assert_string_equal(err.kind, "llm_off");
    static const char *urls[] = {"ftp://127.0.0.1/v1", "file:///etc/passwd",          "127.0.0.1:11434/v1",
                                 "gopher://x",         "http://127.0.0.1/v1\r\nX: y", "http://a b/"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        cfg.url = urls[i];
        assert_null(kho_llm_ask(&cfg, NULL, "q", &err));
        assert_int_equal(err.code, KHO_EINVAL);
        assert_string_equal(err.kind, "llm_bad_config");
    }
    cfg.url = "http://127.0.0.1:1/v1";
    cfg.key = "abc\r\nX-Injected: 1";
    assert_null(kho_llm_ask(&cfg, NULL, "q", &err));
    assert_string_equal(err.kind, "llm_bad_config");
    assert_null(strstr(err.msg, "Injected"));
    cfg.key = NULL;
    assert_null(kho_llm_ask(&cfg, NULL, "d\xe2n s\xe1", &err));
    assert_string_equal(err.kind, "llm_bad_config");
    assert_null(kho_llm_ask(&cfg, NULL, NULL, &err));
    assert_string_equal(err.kind, "llm_bad_config");
}

/* Several calls at once from several threads (curl's set-up happens once). */
typedef struct par {
    int port;
    json_t *out;
} par_t;

static void *par_ask(void *arg)
{
    par_t *p = arg;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", p->port);
    kho_llm_cfg_t cfg = {.url = url, .model = "qwen2.5:7b", .key = KEY, .timeout_ms = 5000};
    json_t *cat = json_pack("{s:[{s:s}]}", "indicators", "code", "dan_so");
    kho_err_t err = {0};
    p->out = kho_llm_ask(&cfg, cat, QUESTION, &err);
    json_decref(cat);
    return NULL;
}

static void test_ask_concurrent(void **state)
{
    (void)state;
    enum { N = 4 };
    server_t *s[N];
    pthread_t th[N];
    par_t p[N];
    for (int i = 0; i < N; i++) {
        s[i] = server_start(SRV_OK, 1);
        p[i] = (par_t){.port = s[i]->port};
        assert_int_equal(pthread_create(&th[i], NULL, par_ask, &p[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        if (p[i].out)
            kt_defer(jfree, p[i].out);
    }
    for (int i = 0; i < N; i++)
        assert_query(p[i].out);
}

int main(void)
{
    /* the servers are on loopback: no proxy from the environment */
    static const char *proxies[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++)
        unsetenv(proxies[i]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_plain_reply, kt_cleanup),
        cmocka_unit_test_teardown(test_fenced_reply, kt_cleanup),
        cmocka_unit_test_teardown(test_text_around_object, kt_cleanup),
        cmocka_unit_test_teardown(test_bodies_not_chat_completions, kt_cleanup),
        cmocka_unit_test_teardown(test_contents_without_object, kt_cleanup),
        cmocka_unit_test_teardown(test_hostile_sizes_and_bytes, kt_cleanup),
        cmocka_unit_test_teardown(test_system_prompt, kt_cleanup),
        cmocka_unit_test_teardown(test_ask_ok, kt_cleanup),
        cmocka_unit_test_teardown(test_ask_without_response_format, kt_cleanup),
        cmocka_unit_test_teardown(test_ask_http_500, kt_cleanup),
        cmocka_unit_test_teardown(test_ask_timeout, kt_cleanup),
        cmocka_unit_test_teardown(test_ask_refused, kt_cleanup),
        cmocka_unit_test_teardown(test_ask_redirect_not_followed, kt_cleanup),
        cmocka_unit_test_teardown(test_ask_reply_too_large, kt_cleanup),
        cmocka_unit_test_teardown(test_ask_bad_config, kt_cleanup),
        cmocka_unit_test_teardown(test_ask_concurrent, kt_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
