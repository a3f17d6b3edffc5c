/* Unit tests of kho_tile_path_parse (api/h_audit.h): C2SP tlog-tiles paths
 * "<L>/<N>[.p/<W>]" and "entries/<N>[.p/<W>]", N in 3-digit groups with all
 * but the last prefixed by "x". Only canonical paths are accepted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/h_audit.h"
#include "kho_test.h"

#define MAXSEG 16

/* Split "a/b/c" into segments (as the router gives them) and parse. */
static bool parse(const char *path, int *level, uint64_t *index, unsigned *width)
{
    static char buf[4096];
    const char *seg[MAXSEG];
    size_t n = 0;
    snprintf(buf, sizeof buf, "%s", path);
    char *p = buf;
    for (;;) {
        if (n == MAXSEG)
            fail_msg("too many segments in %s", path);
        seg[n++] = p;
        char *slash = strchr(p, '/');
        if (!slash)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    return kho_tile_path_parse(seg, n, level, index, width);
}

static void ok_path(const char *path, int level, uint64_t index, unsigned width)
{
    int l = 99;
    uint64_t i = 99;
    unsigned w = 99;
    if (!parse(path, &l, &i, &w))
        fail_msg("%s was refused", path);
    if (l != level || i != index || w != width)
        fail_msg("%s: level %d index %llu width %u, expected %d %llu %u", path, l, (unsigned long long)i, w, level,
                 (unsigned long long)index, width);
}

static void bad_path(const char *path)
{
    int l;
    uint64_t i;
    unsigned w;
    if (parse(path, &l, &i, &w))
        fail_msg("%s was accepted (level %d index %llu width %u)", path, l, (unsigned long long)i, w);
}

static void test_canonical(void **state)
{
    (void)state;
    ok_path("0/000", 0, 0, 256);
    ok_path("0/001", 0, 1, 256);
    ok_path("0/999", 0, 999, 256);
    ok_path("1/042", 1, 42, 256);
    ok_path("9/000", 9, 0, 256);
    ok_path("0/x001/000", 0, 1000, 256);
    ok_path("0/x001/234", 0, 1234, 256);
    ok_path("2/x001/x234/067", 2, 1234067, 256);
    ok_path("0/x999/x999/999", 0, 999999999, 256);
    ok_path("0/x001/x000/x000/000", 0, 1000000000, 256);
    ok_path("3/x999/x999/x999/x999/x999/999", 3, 999999999999999999ull, 256);
    ok_path("0/x123/x456/x789/x012/x345/678", 0, 123456789012345678ull, 256);
    /* partial tiles */
    ok_path("0/000.p/1", 0, 0, 1);
    ok_path("0/000.p/7", 0, 0, 7);
    ok_path("0/000.p/99", 0, 0, 99);
    ok_path("0/000.p/255", 0, 0, 255);
    ok_path("1/x001/234.p/10", 1, 1234, 10);
    /* entry bundles */
    ok_path("entries/000", -1, 0, 256);
    ok_path("entries/x001/000", -1, 1000, 256);
    ok_path("entries/x001/x234/067.p/45", -1, 1234067, 45);
    ok_path("entries/005.p/200", -1, 5, 200);
    /* every group value round-trips */
    for (int g = 0; g < 1000; g++) {
        char p[64];
        snprintf(p, sizeof p, "0/%03d", g);
        ok_path(p, 0, (uint64_t)g, 256);
        snprintf(p, sizeof p, "4/x%03d/%03d", g == 0 ? 1 : g, g);
        ok_path(p, 4, (uint64_t)(g == 0 ? 1 : g) * 1000 + (uint64_t)g, 256);
    }
    for (unsigned w = 1; w <= 255; w++) {
        char p[64];
        snprintf(p, sizeof p, "entries/x002/500.p/%u", w);
        ok_path(p, -1, 2500, w);
    }
}

static void test_malformed_level(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",        "0",          "entries",     "/000",      "00/000",    "01/000",   "10/000",   "-1/000",
        "a/000",   "L/000",      "Entries/000", "entry/000", "entries_/000", " 0/000", "0 /000",  "+0/000",
        "x0/000",  "0x0/000",    "\xd9\xa0/000", /* Arabic-Indic zero */
        "entries/", "0/",        "tile/0/000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        bad_path(bad[i]);
    /* no segments at all */
    int l;
    uint64_t idx;
    unsigned w;
    assert_false(kho_tile_path_parse(NULL, 0, &l, &idx, &w));
    const char *one[] = {"0"};
    assert_false(kho_tile_path_parse(one, 1, &l, &idx, &w));
}

static void test_non_canonical_index(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "0/0",        "0/00",          "0/0000",       "0/1234",        "0/1",          "0/12",
        "0/x000/001", /* a leading x000 group */      "0/x000/000",    "0/x000/x000/001", "0/x000/x001/000",
        "0/x001",     /* x on the last group */       "0/001/234",     /* no x on a group before the last */
        "0/X001/234", "0/x01/234",     "0/x0001/234",  "0/xx001/234",   "0/x001/x234",  "0/x001/23",
        "0/x001/2345", "0/x001//234",  "0/x001/234/",  "0//000",        "0/000/",       "0/00a",
        "0/a00",      "0/ 01",         "0/01 ",        "0/-01",         "0/+01",        "0/0x1",
        "0/1e2",      "0/x-01/000",    "0/x 01/000",   "0/\xd9\xa0\xd9\xa0\xd9\xa0",    "0/x\xd9\xa0\xd9\xa0/000",
        /* seven groups: beyond any log */
        "0/x001/x000/x000/x000/x000/x000/000", "0/x999/x999/x999/x999/x999/x999/999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        bad_path(bad[i]);
}

static void test_non_canonical_width(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "0/000.p/0",    "0/000.p/00",   "0/000.p/007",  "0/000.p/07",   "0/000.p/256",  "0/000.p/300",
        "0/000.p/999",  "0/000.p/1000", "0/000.p/",     "0/000.p",      "0/000.P/5",    "0/000.q/5",
        "0/000p/5",     "0/000..p/5",   "0/000.p/-1",   "0/000.p/+5",   "0/000.p/ 5",   "0/000.p/5 ",
        "0/000.p/5a",   "0/000.p/0x5",  "0/000.p/5/1",  "0/000.p/5.p/3", "0/.p/5",      "0/000/.p/5",
        "0/x001.p/5/234", "0/x001/.p/5", "entries/000.p/", "entries/.p/5", "0/000.p/\xd9\xa5",
        "0/000.p/256.p/1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        bad_path(bad[i]);
}

static void test_long_and_hostile(void **state)
{
    (void)state;
    /* a very long segment, and very many groups */
    char big[3000];
    memset(big, '0', sizeof big);
    memcpy(big, "0/", 2);
    big[sizeof big - 1] = '\0';
    bad_path(big);
    char many[200] = "0";
    size_t used = 1;
    for (int i = 0; i < 12; i++)
        used += (size_t)snprintf(many + used, sizeof many - used, "/x001");
    snprintf(many + used, sizeof many - used, "/000");
    bad_path(many);
    /* segments passed directly, including an empty and a huge one */
    int l;
    uint64_t idx;
    unsigned w;
    const char *empty[] = {"0", ""};
    assert_false(kho_tile_path_parse(empty, 2, &l, &idx, &w));
    const char *huge[] = {"0", big};
    assert_false(kho_tile_path_parse(huge, 2, &l, &idx, &w));
    const char *lots[12];
    lots[0] = "0";
    for (int i = 1; i < 11; i++)
        lots[i] = "x001";
    lots[11] = "000";
    assert_false(kho_tile_path_parse(lots, 12, &l, &idx, &w));
}

/* The function takes path segments: a segment holding a '/' (a "%2F" in the
 * request path, decoded) is not the canonical path of any tile. */
static void test_slash_inside_a_segment(void **state)
{
    (void)state;
    int l;
    uint64_t idx;
    unsigned w;
    const char *a[] = {"0", "x001/234"};
    assert_false(kho_tile_path_parse(a, 2, &l, &idx, &w));
    const char *b[] = {"0", "000.p/5"};
    assert_false(kho_tile_path_parse(b, 2, &l, &idx, &w));
    const char *c[] = {"entries", "x001/x234/067"};
    assert_false(kho_tile_path_parse(c, 2, &l, &idx, &w));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_canonical, kt_cleanup),
        cmocka_unit_test_teardown(test_malformed_level, kt_cleanup),
        cmocka_unit_test_teardown(test_non_canonical_index, kt_cleanup),
        cmocka_unit_test_teardown(test_non_canonical_width, kt_cleanup),
        cmocka_unit_test_teardown(test_long_and_hostile, kt_cleanup),
        cmocka_unit_test_teardown(test_slash_inside_a_segment, kt_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
