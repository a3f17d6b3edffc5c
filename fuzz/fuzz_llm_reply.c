/*
 * libFuzzer harness for apps/assistant/llm: the parser of a language model's
 * chat-completions reply (untrusted bytes from the network).
 *
 * The first byte picks what the rest is: even, a whole reply body; odd, the
 * model's text, wrapped in a well-formed body as choices[0].message.content
 * (so that the search for the JSON object inside text and fences is reached
 * without the fuzzer having to build the envelope). Either the parser returns
 * a new object of its own, or it fails with KHO_EINVAL and a UTF-8 message.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "apps/assistant/llm.h"
#include "core/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *body, size_t len)
{
    kho_err_t err = {0};
    json_t *o = kho_llm_parse_reply(body, len, &err);
    if (o) {
        assert(json_is_object(o));
        assert(o->refcount == 1);
        assert(err.code == 0);
        json_decref(o);
    } else {
        assert(err.code == KHO_EINVAL);
        assert(err.msg[0] != '\0');
        assert(kho_utf8_valid(err.msg, strlen(err.msg), NULL));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;
    if ((data[0] & 1) == 0) {
        check(rest, n);
        return 0;
    }
    json_t *content = json_stringn(rest, n); /* NULL when not UTF-8 */
    if (!content) {
        check(rest, n);
        return 0;
    }
    json_t *body = json_pack("{s:[{s:i,s:{s:s,s:o},s:s}]}", "choices", "index", 0, "message", "role", "assistant",
                             "content", content, "finish_reason", "stop");
    assert(body);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    assert(text);
    check(text, strlen(text));
    free(text);
    return 0;
}
