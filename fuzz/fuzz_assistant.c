/*
 * libFuzzer harness for the assistant's question parser (apps/assistant/parse.h)
 * over a small hand-made lexicon (tests/unit/asklex.h): any bytes are a
 * question. The parse never crashes, always gives a known intent, keeps its
 * counts within bounds, and each clarification's rewritten question parses too.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../tests/unit/asklex.h"
#include "apps/assistant/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static kho_lexicon_t *lx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!lx)
        lx = asklex_new();
    static kho_askq_t q, again;
    kho_ask_parse(lx, (const char *)data, size, 2026, &q);
    assert(q.intent >= 0 && q.intent < KHO_ASK_NINTENTS);
    assert(q.nunits >= 0 && q.nunits <= KHO_ASK_MAX_UNITS);
    assert(q.ncands >= 0 && q.ncands <= KHO_ASK_MAX_CANDS);
    assert(q.pkind >= KHO_PER_NONE && q.pkind <= KHO_PER_TWO);
    for (int k = 0; k < q.ncands; k++)
        kho_ask_parse(lx, q.cands[k].question, strlen(q.cands[k].question), 2026, &again);
    return 0;
}
