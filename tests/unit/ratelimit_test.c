/* Unit tests of security/ratelimit: rate specs, bursts and refusals, refill over
 * simulated time (now_ms is a parameter), independent keys, and a flood of keys
 * larger than the fixed table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kho_test.h"
#include "security/ratelimit.h"

static void rl_free_v(void *p)
{
    kho_ratelimit_free(p);
}

static kho_ratelimit_t *new_rl(void)
{
    return kt_defer(rl_free_v, kho_ratelimit_new());
}

static kho_rate_t rate(const char *spec)
{
    kho_rate_t r;
    kho_err_t err = {0};
    if (kho_rate_parse(spec, &r, &err) != 0)
        fail_msg("rate '%s': %s", spec, err.msg);
    return r;
}

static bool take(kho_ratelimit_t *rl, const char *key, const kho_rate_t *r, uint64_t now, int *retry)
{
    int dummy;
    return kho_ratelimit_take(rl, key, strlen(key), r, now, retry ? retry : &dummy);
}

/* How many takes succeed in a row at one instant. */
static int drain(kho_ratelimit_t *rl, const char *key, const kho_rate_t *r, uint64_t now)
{
    int n = 0;
    while (take(rl, key, r, now, NULL)) {
        n++;
        if (n > 100000)
            fail_msg("key %s is never limited", key);
    }
    return n;
}

#define T0 1000000000ull /* a monotonic clock far from zero */

/* ---- specs ---------------------------------------------------------------------------- */

static void test_parse(void **state)
{
    (void)state;
    kho_rate_t r = rate("10/20");
    assert_true(r.rate == 10 && r.burst == 20);
    r = rate("5");
    assert_true(r.rate == 5 && r.burst == 10); /* B = 2R */
    r = rate("off");
    assert_true(r.rate == 0);
    r = rate("0.5/1");
    assert_true(r.rate == 0.5 && r.burst == 1);
    r = rate("1/10");
    assert_true(r.rate == 1 && r.burst == 10);
    r = rate("300/600");
    assert_true(r.rate == 300 && r.burst == 600);
    static const char *const bad[] = {
        "",     "-1/2", "1/0",   "abc",   "1/",     "/5",    "0",      "0/5",   "-5",    "1/-1",  "1/0.5",
        "nan",  "inf",  "1/inf", "1/nan", "1e99/2", "1/1e99", "10/20x", "10x/20", "10 /20", "10/ 20x", "10/20/30",
        "OFF",  "off ", " off",  "10,20", "1//2",   "0.1",   "--1/2", "10/20 ", "\xff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kho_err_t err = {0};
        kho_rate_t out;
        if (kho_rate_parse(bad[i], &out, &err) != KHO_EINVAL)
            fail_msg("rate '%s' was accepted (%g/%g)", bad[i], out.rate, out.burst);
        assert_true(err.msg[0] != '\0');
    }
    /* a huge spec: refused, message bounded */
    char huge[10000];
    memset(huge, '9', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    kho_err_t err;
    kho_rate_t out;
    assert_int_equal(kho_rate_parse(huge, &out, &err), KHO_EINVAL);
}

/* ---- buckets --------------------------------------------------------------------------- */

static void test_burst_then_refusal(void **state)
{
    (void)state;
    kho_ratelimit_t *rl = new_rl();
    kho_rate_t r = rate("1/5");
    assert_int_equal(drain(rl, "alice", &r, T0), 5);
    int retry = 0;
    assert_false(take(rl, "alice", &r, T0, &retry));
    assert_int_equal(retry, 1);
    assert_false(take(rl, "alice", &r, T0 + 10, &retry));
    assert_true(retry >= 1);
    /* slower refill: the wait is longer, in whole seconds */
    kho_rate_t slow = rate("0.25/2");
    assert_int_equal(drain(rl, "bob", &slow, T0), 2);
    assert_false(take(rl, "bob", &slow, T0, &retry));
    assert_int_equal(retry, 4);
    /* a fast refill still says at least one second */
    kho_rate_t fast = rate("1000/3");
    assert_int_equal(drain(rl, "carol", &fast, T0), 3);
    assert_false(take(rl, "carol", &fast, T0, &retry));
    assert_int_equal(retry, 1);
    /* an allowed take reports no wait */
    retry = 77;
    assert_true(take(rl, "dave", &r, T0, &retry));
    assert_int_equal(retry, 0);
}

static void test_refill(void **state)
{
    (void)state;
    kho_ratelimit_t *rl = new_rl();
    kho_rate_t r = rate("2/4"); /* a token every 500 ms */
    int retry;
    assert_int_equal(drain(rl, "k", &r, T0), 4);
    assert_false(take(rl, "k", &r, T0 + 499, &retry));
    assert_true(take(rl, "k", &r, T0 + 999, &retry)); /* almost two tokens back by now */
    /* after the wait it announced, a token is back */
    kho_ratelimit_t *rl2 = new_rl();
    kho_rate_t one = rate("1/3");
    uint64_t now = T0;
    assert_int_equal(drain(rl2, "k", &one, now), 3);
    for (int round = 0; round < 20; round++) {
        assert_false(take(rl2, "k", &one, now, &retry));
        assert_true(retry >= 1);
        now += (uint64_t)retry * 1000;
        if (!take(rl2, "k", &one, now, &retry))
            fail_msg("round %d: refused after waiting the announced %d s", round, retry);
    }
    /* a long pause refills to the burst, never beyond */
    now += 3600 * 1000;
    assert_int_equal(drain(rl2, "k", &one, now), 3);
    /* a steady rate at the limit is always allowed */
    kho_ratelimit_t *rl3 = new_rl();
    kho_rate_t ten = rate("10/1");
    now = T0;
    for (int i = 0; i < 1000; i++) {
        if (!take(rl3, "steady", &ten, now, &retry))
            fail_msg("request %d at 10/s refused", i);
        now += 100;
    }
    /* time going backwards (a clock glitch) gives no tokens and does not crash */
    assert_false(take(rl3, "steady", &ten, now - 100, &retry));
    assert_false(take(rl3, "steady", &ten, 0, &retry));
    assert_true(retry >= 1);
}

static void test_off_is_unlimited(void **state)
{
    (void)state;
    kho_ratelimit_t *rl = new_rl();
    kho_rate_t off = rate("off");
    for (int i = 0; i < 10000; i++) {
        int retry = 5;
        assert_true(take(rl, "anyone", &off, T0, &retry));
        assert_int_equal(retry, 0);
    }
}

static void test_independent_keys(void **state)
{
    (void)state;
    kho_ratelimit_t *rl = new_rl();
    kho_rate_t r = rate("1/3");
    assert_int_equal(drain(rl, "key:1", &r, T0), 3);
    assert_int_equal(drain(rl, "key:2", &r, T0), 3);
    assert_int_equal(drain(rl, "127.0.0.1", &r, T0), 3);
    assert_int_equal(drain(rl, "127.0.0.10", &r, T0), 3);
    /* keys are bytes: an embedded NUL or an empty key is a key like any other */
    int retry;
    assert_true(kho_ratelimit_take(rl, "a\0b", 3, &r, T0, &retry));
    assert_true(kho_ratelimit_take(rl, "a\0c", 3, &r, T0, &retry));
    assert_true(kho_ratelimit_take(rl, "a", 1, &r, T0, &retry));
    for (int i = 0; i < 2; i++)
        assert_true(kho_ratelimit_take(rl, "", 0, &r, T0, &retry));
    assert_true(kho_ratelimit_take(rl, "", 0, &r, T0, &retry));
    assert_false(kho_ratelimit_take(rl, "", 0, &r, T0, &retry));
    /* two tables do not share buckets */
    kho_ratelimit_t *other = new_rl();
    assert_int_equal(drain(other, "key:1", &r, T0), 3);
    /* a long binary key */
    unsigned char big[4096];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)i;
    int n = 0;
    while (kho_ratelimit_take(rl, big, sizeof big, &r, T0, &retry))
        n++;
    assert_int_equal(n, 3);
}

static void test_many_keys(void **state)
{
    (void)state;
    kho_ratelimit_t *rl = new_rl();
    kho_rate_t r = rate("1/5");
    int retry;
    assert_int_equal(drain(rl, "attacker-target", &r, T0), 5);
    /* far more distinct keys than the table holds, each taking one token, at the same time */
    for (int i = 0; i < 200000; i++) {
        char key[32];
        snprintf(key, sizeof key, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        if (!take(rl, key, &r, T0, &retry))
            fail_msg("new key %s refused", key);
    }
    /* the exhausted key is still limited: fresh buckets are fuller, so it was not the one reused */
    assert_false(take(rl, "attacker-target", &r, T0, &retry));
    assert_true(retry >= 1);
    /* and it recovers at its rate */
    assert_true(take(rl, "attacker-target", &r, T0 + 1000, &retry));
}

typedef struct {
    kho_ratelimit_t *rl;
    const kho_rate_t *r;
    int allowed;
    int id;
} worker_t;

static void *worker(void *arg)
{
    worker_t *w = arg;
    int retry;
    for (int i = 0; i < 2000; i++) {
        char key[32];
        snprintf(key, sizeof key, "w%d-%d", w->id, i % 50);
        (void)kho_ratelimit_take(w->rl, key, strlen(key), w->r, T0, &retry);
        if (kho_ratelimit_take(w->rl, "shared", 6, w->r, T0, &retry))
            w->allowed++;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    kho_ratelimit_t *rl = new_rl();
    kho_rate_t r = rate("1/100");
    enum { N = 8 };
    pthread_t t[N];
    worker_t w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (worker_t){rl, &r, 0, i};
        assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        total += w[i].allowed;
    }
    assert_int_equal(total, 100); /* exactly the burst of the shared key, across all threads */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_parse, kt_cleanup),
        cmocka_unit_test_teardown(test_burst_then_refusal, kt_cleanup),
        cmocka_unit_test_teardown(test_refill, kt_cleanup),
        cmocka_unit_test_teardown(test_off_is_unlimited, kt_cleanup),
        cmocka_unit_test_teardown(test_independent_keys, kt_cleanup),
        cmocka_unit_test_teardown(test_many_keys, kt_cleanup),
        cmocka_unit_test_teardown(test_threads, kt_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
