/* Unit tests of apps/assistant: the question parser over a hand-made lexicon
 * (tests/unit/asklex.h) and Vietnamese number formatting. The answers
 * themselves (values read through the indicators API) are tested end to end
 * in tests/e2e/test_assistant.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "apps/assistant/assistant.h"
#include "apps/assistant/parse.h"
#include "asklex.h"

static kho_lexicon_t *lx;

static int setup(void **state)
{
    (void)state;
    lx = asklex_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    kho_lexicon_free(lx);
    return 0;
}

static kho_askq_t q;

static void parse(const char *s)
{
    kho_ask_parse(lx, s, strlen(s), 2026, &q);
}

static const char *unit_code(int k)
{
    return kho_lexicon_unit(lx, q.units[k])->code;
}

static const char *ind_code(void)
{
    return q.ind >= 0 ? kho_lexicon_ind(lx, q.ind)->code : "";
}

#define assert_intent(want) assert_string_equal(kho_ask_intent_name(q.intent), want)

static void value_with_and_without_marks(void **state)
{
    (void)state;
    const char *forms[] = {"dân số xã Nghĩa Trụ năm 2024", "dan so xa nghia tru 2024", "DÂN SỐ XÃ NGHĨA TRỤ NĂM 2024",
                           "Số dân X. Nghĩa Trụ 2024?", "nhân khẩu Nghĩa Trụ năm 2024", "dân số 12031 năm 2024"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        parse(forms[i]);
        assert_intent("value");
        assert_string_equal(ind_code(), "dan_so");
        assert_int_equal(q.nunits, 1);
        assert_string_equal(unit_code(0), "12031");
        assert_int_equal(q.pkind, KHO_PER_ONE);
        assert_string_equal(q.p[0], "2024");
    }
    parse("dân số xã Nghĩa Trụ");
    assert_int_equal(q.pkind, KHO_PER_NONE);
    assert_true(q.marks);
    parse("dan so xa nghia tru");
    assert_false(q.marks);
}

static void abbreviations_and_type_words(void **state)
{
    (void)state;
    parse("dân số P. Phố Hiến");
    assert_string_equal(unit_code(0), "11953");
    parse("dân số phường Phố Hiến");
    assert_string_equal(unit_code(0), "11953");
    parse("dân số Phố Hiến");
    assert_string_equal(unit_code(0), "11953");
    parse("tổng sản phẩm HY năm 2024");
    assert_string_equal(ind_code(), "grdp");
    assert_string_equal(unit_code(0), "33");
}

static void relative_periods(void **state)
{
    (void)state;
    parse("dân số Phố Hiến năm nay");
    assert_string_equal(q.p[0], "2026");
    parse("dân số Phố Hiến năm ngoái");
    assert_string_equal(q.p[0], "2025");
    parse("dân số Phố Hiến năm kia");
    assert_string_equal(q.p[0], "2024");
    parse("dân số Phố Hiến 5 năm qua");
    assert_int_equal(q.recent, 5);
    assert_int_equal(q.pkind, KHO_PER_NONE);
    parse("dân số Phố Hiến giai đoạn 2020–2024");
    assert_int_equal(q.pkind, KHO_PER_SPAN);
    assert_string_equal(q.p[0], "2020");
    assert_string_equal(q.p[1], "2024");
    parse("dân số Phố Hiến từ 2024 đến 2020");
    assert_int_equal(q.pkind, KHO_PER_SPAN);
    assert_string_equal(q.p[0], "2020");
    parse("dân số Phố Hiến quý 3/2024");
    assert_string_equal(q.p[0], "2024-Q3");
    parse("dân số Phố Hiến quý III năm 2024");
    assert_string_equal(q.p[0], "2024-Q3");
    parse("dân số Phố Hiến tháng 7/2024");
    assert_string_equal(q.p[0], "2024-07");
}

static void intents(void **state)
{
    (void)state;
    static const struct {
        const char *q, *intent, *ind;
    } cases[] = {
        {"so sánh dân số Phố Hiến và Nghĩa Trụ năm 2024", "compare", "dan_so"},
        {"dân số Phố Hiến 2024 so với 2020", "compare", "dan_so"},
        {"top 5 xã có sản lượng nhãn cao nhất 2024", "rank", "san_luong_nhan"},
        {"3 xã có tỷ lệ hộ nghèo thấp nhất", "rank", "ty_le_ho_ngheo"},
        {"những xã có tỷ lệ hộ nghèo trên 2,5%", "filter", "ty_le_ho_ngheo"},
        {"dân số Phố Hiến tăng bao nhiêu % so với năm trước", "change", "dan_so"},
        {"tăng trưởng bình quân GRDP giai đoạn 2020–2024", "change", "grdp"},
        {"Phố Hiến chiếm bao nhiêu % dân số tỉnh", "share", "dan_so"},
        {"dự báo dân số Nghĩa Trụ năm 2027", "forecast", "dan_so"},
        {"dân số Nghĩa Trụ năm 2028 sẽ là bao nhiêu", "forecast", "dan_so"},
        {"tỷ lệ hộ nghèo có đạt mục tiêu không", "target", "ty_le_ho_ngheo"},
        {"dân số là gì", "definition", "dan_so"},
        {"số liệu sản lượng chuối lấy từ đâu", "source", "san_luong_chuoi"},
        {"xã nào cần chú ý về hộ nghèo", "suggest", "ty_le_ho_ngheo"},
        {"đề xuất", "suggest", ""},
        {"xin chào", "help", ""},
        {"thời tiết hôm nay thế nào", "help", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parse(cases[i].q);
        if (strcmp(kho_ask_intent_name(q.intent), cases[i].intent) || strcmp(ind_code(), cases[i].ind))
            fail_msg("'%s': intent %s indicator '%s', expected %s '%s'", cases[i].q, kho_ask_intent_name(q.intent),
                     ind_code(), cases[i].intent, cases[i].ind);
    }
    parse("top 5 xã có sản lượng nhãn cao nhất 2024");
    assert_int_equal(q.n, 5);
    assert_int_equal(q.order, 1);
    parse("3 xã có tỷ lệ hộ nghèo thấp nhất");
    assert_int_equal(q.n, 3);
    assert_int_equal(q.order, -1);
    parse("những xã có dân số trên 50.000 người");
    assert_true(q.threshold_set);
    assert_true(q.threshold == 50000);
    assert_int_equal(q.cmp, 1);
    parse("những xã có tỷ lệ hộ nghèo dưới 1,5%");
    assert_true(q.threshold == 1.5);
    assert_int_equal(q.cmp, -1);
    parse("xã nào có dân số hơn 30 nghìn người");
    assert_true(q.threshold == 30000);
}

static void clarifications(void **state)
{
    (void)state;
    parse("dân số xã Tân Tiến năm 2024"); /* in Hưng Yên and in Tuyên Quang */
    assert_intent("clarify");
    assert_int_equal(q.ncands, 2);
    for (int k = 0; k < q.ncands; k++) { /* each candidate question is itself unambiguous */
        kho_askq_t again;
        kho_ask_parse(lx, q.cands[k].question, strlen(q.cands[k].question), 2026, &again);
        assert_string_equal(kho_ask_intent_name(again.intent), "value");
        assert_int_equal(again.nunits, 1);
    }
    parse("dân số xã Tân Tiến tỉnh Hưng Yên");
    assert_intent("value");
    assert_string_equal(unit_code(0), "12364");
    parse("sản lượng Phố Hiến năm 2024"); /* nhãn or chuối? */
    assert_intent("clarify");
    assert_int_equal(q.ncands, 2);
    assert_non_null(strstr(q.cands[0].question, "Phố Hiến"));
    parse("kinh tế số năm 2024");
    assert_intent("clarify");
    parse("dân số xã Lạc Hồng năm 2020"); /* split between two communes */
    assert_intent("clarify");
    assert_int_equal(q.ncands, 2);
    parse("xã Nghĩa Trụ"); /* which indicator? */
    assert_intent("clarify");
}

static void old_names(void **state)
{
    (void)state;
    parse("dân số xã Vĩnh Khúc năm 2020");
    assert_intent("value");
    assert_string_equal(unit_code(0), "12031");
    assert_true(q.nnotes >= 1 && strstr(q.notes[0], "Vĩnh Khúc") && strstr(q.notes[0], "Nghĩa Trụ"));
    parse("dân số huyện Kim Động năm 2020");
    assert_string_equal(unit_code(0), "331");
    parse("dân số tỉnh Thái Bình năm 2020");
    assert_string_equal(unit_code(0), "33");
}

static void questions_are_not_names(void **state)
{
    (void)state;
    parse("dân số là gì"); /* not Phường La Gi */
    assert_intent("definition");
    assert_int_equal(q.nunits, 0);
}

static void hostile(void **state)
{
    (void)state;
    const char *bad[] = {"", "   ", "\xff\xfe", "'; DROP TABLE units; --", "<script>alert(1)</script>",
                         "😀😀😀 dân số 🚀", "人口 население 2024", "năm năm năm năm 2024 2024 2024 - - / /",
                         "quý", "quý 9/2024", "tháng 13/2024", "top 0 xã", "trên", "1.2.3.4,5,6"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        parse(bad[i]);
        assert_true(q.intent >= 0 && q.intent < KHO_ASK_NINTENTS);
    }
    parse("\xff\xfe dân số");
    assert_intent("help");
    char *big = malloc(20001);
    for (size_t i = 0; i < 20000; i++)
        big[i] = "dân số xã Nghĩa Trụ 2024 "[i % 26];
    big[20000] = 0;
    kho_ask_parse(lx, big, 20000, 2026, &q); /* cut at the word limit, no crash */
    free(big);
}

static void numbers(void **state)
{
    (void)state;
    char b[64];
    kho_ask_format_number(30985, 0, b, sizeof b);
    assert_string_equal(b, "30.985");
    kho_ask_format_number(3570811, 0, b, sizeof b);
    assert_string_equal(b, "3.570.811");
    kho_ask_format_number(1.25, 2, b, sizeof b);
    assert_string_equal(b, "1,25");
    kho_ask_format_number(1.2, 2, b, sizeof b);
    assert_string_equal(b, "1,2");
    kho_ask_format_number(1234.5, 1, b, sizeof b);
    assert_string_equal(b, "1.234,5");
    kho_ask_format_number(-0.001, 2, b, sizeof b);
    assert_string_equal(b, "0");
    kho_ask_format_number(-2500, 0, b, sizeof b);
    assert_string_equal(b, "-2.500");
    kho_ask_format_number(999.96, 1, b, sizeof b);
    assert_string_equal(b, "1.000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(value_with_and_without_marks), cmocka_unit_test(abbreviations_and_type_words),
        cmocka_unit_test(relative_periods),              cmocka_unit_test(intents),
        cmocka_unit_test(clarifications),                cmocka_unit_test(old_names),
        cmocka_unit_test(questions_are_not_names),       cmocka_unit_test(hostile),
        cmocka_unit_test(numbers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
