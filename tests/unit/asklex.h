/* A small hand-made lexicon for the assistant's unit tests and fuzzer: real
 * names and codes of a few units of Hưng Yên (33) and elsewhere, before and
 * after 1 July 2025, and five indicators. */
#ifndef KHO_TESTS_ASKLEX_H
#define KHO_TESTS_ASKLEX_H

#include <stdio.h>
#include <string.h>

#include "apps/assistant/lexicon.h"

static int asklex_unit(kho_lexicon_t *lx, int era, int level, const char *code, const char *name,
                       const char *name_lower, const char *short_lower, const char *prov)
{
    kho_lx_unit_t u;
    memset(&u, 0, sizeof u);
    u.era = era;
    u.level = level;
    snprintf(u.code, sizeof u.code, "%s", code);
    snprintf(u.name, sizeof u.name, "%s", name);
    snprintf(u.name_lower, sizeof u.name_lower, "%s", name_lower);
    snprintf(u.short_lower, sizeof u.short_lower, "%s", short_lower);
    snprintf(u.province, sizeof u.province, "%s", prov);
    return kho_lexicon_add_unit(lx, &u);
}

static void asklex_ind(kho_lexicon_t *lx, const char *code, const char *name, const char *uom, int level, bool rate,
                       const char *syn)
{
    kho_lx_ind_t d;
    memset(&d, 0, sizeof d);
    snprintf(d.code, sizeof d.code, "%s", code);
    snprintf(d.name, sizeof d.name, "%s", name);
    snprintf(d.uom, sizeof d.uom, "%s", uom);
    d.level = level;
    d.rate = rate;
    d.additive = !rate;
    d.higher_is_better = !rate;
    d.decimals = rate ? 2 : 0;
    kho_lexicon_add_ind(lx, &d, syn);
}

static kho_lexicon_t *asklex_new(void)
{
    kho_lexicon_t *lx = kho_lexicon_new();
    const int C = KHO_ERA_CURRENT, O = KHO_ERA_OLD;
    asklex_unit(lx, C, KHO_ULV_PROVINCE, "33", "Tỉnh Hưng Yên", "tỉnh hưng yên", "hưng yên", "33");
    asklex_unit(lx, C, KHO_ULV_PROVINCE, "08", "Tỉnh Tuyên Quang", "tỉnh tuyên quang", "tuyên quang", "08");
    asklex_unit(lx, C, KHO_ULV_COMMUNE, "12031", "Xã Nghĩa Trụ", "xã nghĩa trụ", "nghĩa trụ", "33");
    asklex_unit(lx, C, KHO_ULV_COMMUNE, "11953", "Phường Phố Hiến", "phường phố hiến", "phố hiến", "33");
    asklex_unit(lx, C, KHO_ULV_COMMUNE, "12364", "Xã Tân Tiến", "xã tân tiến", "tân tiến", "33");
    asklex_unit(lx, C, KHO_ULV_COMMUNE, "02260", "Xã Tân Tiến", "xã tân tiến", "tân tiến", "08");
    asklex_unit(lx, C, KHO_ULV_COMMUNE, "23235", "Phường La Gi", "phường la gi", "la gi", "68");
    asklex_unit(lx, C, KHO_ULV_COMMUNE, "11995", "Xã Đại Đồng", "xã đại đồng", "đại đồng", "33");
    asklex_unit(lx, C, KHO_ULV_COMMUNE, "11992", "Xã Như Quỳnh", "xã như quỳnh", "như quỳnh", "33");
    asklex_unit(lx, O, KHO_ULV_PROVINCE, "34", "Tỉnh Thái Bình", "tỉnh thái bình", "thái bình", "34");
    asklex_unit(lx, O, KHO_ULV_DISTRICT, "331", "Huyện Kim Động", "huyện kim động", "kim động", "33");
    int lh = asklex_unit(lx, O, KHO_ULV_COMMUNE, "12034", "Xã Vĩnh Khúc", "xã vĩnh khúc", "vĩnh khúc", "33");
    int lt = asklex_unit(lx, O, KHO_ULV_COMMUNE, "11989", "Xã Lạc Hồng", "xã lạc hồng", "lạc hồng", "33");
    kho_lexicon_add_successor(lx, lh, kho_lexicon_unit_by_code(lx, "12031", C), true);
    kho_lexicon_add_successor(lx, lt, kho_lexicon_unit_by_code(lx, "11992", C), false);
    kho_lexicon_add_successor(lx, lt, kho_lexicon_unit_by_code(lx, "11995", C), false);
    kho_lexicon_add_province_successor(lx, "34", "33");
    kho_lexicon_add_province_successor(lx, "33", "33");
    kho_lexicon_set_home(lx, "33");
    asklex_ind(lx, "dan_so", "Dân số", "người", KHO_ULV_COMMUNE, false, "số dân|dân|nhân khẩu");
    asklex_ind(lx, "san_luong_nhan", "Sản lượng nhãn", "tấn", KHO_ULV_COMMUNE, false, "nhãn|nhãn lồng");
    asklex_ind(lx, "san_luong_chuoi", "Sản lượng chuối", "tấn", KHO_ULV_COMMUNE, false, "chuối");
    asklex_ind(lx, "ty_le_ho_ngheo", "Tỷ lệ hộ nghèo", "%", KHO_ULV_COMMUNE, true, "tỷ lệ nghèo|hộ nghèo");
    asklex_ind(lx, "grdp", "Tổng sản phẩm trên địa bàn (GRDP)", "tỷ đồng", KHO_ULV_PROVINCE, false,
               "grdp|tổng sản phẩm");
    asklex_ind(lx, "gia_tri_kinh_te_so", "Giá trị tăng thêm kinh tế số", "tỷ đồng", KHO_ULV_PROVINCE, false, "kinh tế số");
    asklex_ind(lx, "ty_trong_kinh_te_so", "Tỷ trọng kinh tế số trong GRDP", "%", KHO_ULV_PROVINCE, true, "kinh tế số");
    return lx;
}

#endif
