/* Unit tests of core/buf: growth, NUL termination, printf, steal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static void test_append_and_terminate(void **state)
{
    (void)state;
    kho_buf_t b = KHO_BUF_INIT;
    assert_string_equal(kho_buf_cstr(&b), "");
    kho_buf_append(&b, "abc", 3);
    kho_buf_putc(&b, 'd');
    kho_buf_puts(&b, "ế");
    assert_int_equal(b.len, 7);
    assert_string_equal(b.data, "abcdế");
    kho_buf_append(&b, "xyz", 0);
    assert_int_equal(b.len, 7);
    kho_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(kho_buf_cstr(&b), "");
    for (int i = 0; i < 100000; i++)
        kho_buf_putc(&b, (char)('a' + i % 26));
    assert_int_equal(b.len, 100000);
    assert_int_equal(strlen(b.data), 100000);
    assert_true(b.cap > b.len);
    kho_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.cap, 0);
}

static void test_printf_grows(void **state)
{
    (void)state;
    kho_buf_t b = KHO_BUF_INIT;
    kho_buf_printf(&b, "%s-%d", "x", 42);
    assert_string_equal(b.data, "x-42");
    char big[1000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    kho_buf_printf(&b, "[%s]", big); /* longer than the room reserved up front */
    assert_int_equal(b.len, 4 + 2 + 999);
    assert_int_equal(b.data[b.len - 1], ']');
    assert_int_equal(b.data[b.len], '\0');
    kho_buf_printf(&b, "%s", "");
    assert_int_equal(b.len, 1005);
    kho_buf_free(&b);
}

static void test_steal(void **state)
{
    (void)state;
    kho_buf_t b = KHO_BUF_INIT;
    kho_buf_puts(&b, "Nghĩa Trụ");
    size_t n = 0;
    char *s = kho_buf_steal(&b, &n);
    assert_string_equal(s, "Nghĩa Trụ");
    assert_int_equal(n, strlen("Nghĩa Trụ"));
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(s);
    /* a reset buffer hands over "" */
    kho_buf_puts(&b, "x");
    kho_buf_reset(&b);
    s = kho_buf_steal(&b, &n);
    assert_int_equal(n, 0);
    assert_string_equal(s, "");
    free(s);
}

/* buf.h: "always NUL-terminated" — also a buffer never written to. */
static void test_steal_never_written(void **state)
{
    (void)state;
    kho_buf_t b = KHO_BUF_INIT;
    size_t n = 99;
    char *s = kho_buf_steal(&b, &n);
    assert_non_null(s);
    char first = s[0];
    free(s);
    assert_int_equal(n, 0);
    assert_int_equal(first, '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_terminate),
        cmocka_unit_test(test_printf_grows),
        cmocka_unit_test(test_steal),
        cmocka_unit_test(test_steal_never_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
