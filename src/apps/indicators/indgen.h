/*
 * indgen — SYNTHETIC socio-economic indicator reports for Hưng Yên province,
 * for demonstrations and tests. None of these numbers is an official statistic.
 *
 * Hưng Yên is province 33 since the reform of 1 July 2025, when it absorbed the
 * old Thái Bình (old province code 34). The reports follow that history:
 *
 *   2015–2024  commune-level indicators against the 381 pre-2025 communes of the
 *              old provinces 33 and 34 (units era 'old', level 'commune'), and
 *              province-level ones against old provinces '33' and '34';
 *   2025       commune-level indicators against the 104 communes of the new
 *              province 33 (era 'current'), province-level ones against '33'.
 *
 * Commune-level indicators (all additive): dan_so (people), dien_tich (km²),
 * so_doanh_nghiep (active enterprises), san_luong_nhan (longan, tonnes),
 * san_luong_chuoi (banana, tonnes), dan_ga (chickens, thousand head),
 * san_luong_lua (rice, tonnes), so_ho_ngheo (poor households), tong_so_ho
 * (households), ho_so_truc_tuyen (public-service applications filed online),
 * tong_ho_so (all applications). Province-level: grdp, gia_tri_kinh_te_so
 * (digital-economy value added), thu_ngan_sach (budget revenue), in tỷ đồng.
 *
 * The 2025 commune values continue the 2024 ones: each new commune's 2024 value
 * is first converted with the rule kho applies to the unit_conversion table
 * (new = Σ w·old, w = 1 for a 'whole' row and 1/k for a 'partial' one, k the
 * number of conversion rows of that old code), then one year's growth and a
 * little noise are applied. Area does not grow: a new commune's 2025 area is its
 * converted area, exactly (old areas are whole hundredths of km², multiples of k
 * hundredths for a commune split k ways). Old communes keep one area for all
 * years; together they cover 2,514.81 km².
 *
 * 2025 levels the generator aims at (province totals): area 2,514.81 km²,
 * population ≈ 3,570,000, households ≈ 1,100,000, active enterprises ≈ 27,700,
 * GRDP ≈ 328,000 tỷ đồng (old Hưng Yên ≈ 55 % of it before the merger), budget
 * revenue ≈ 45,000 tỷ đồng, rice ≈ 1.2 million t (most of it from old Thái Bình),
 * longan ≈ 60,000 t (concentrated around Phố Hiến: the old districts Thành phố
 * Hưng Yên, Kim Động, Tiên Lữ and Khoái Châu), banana ≈ 120,000 t (Khoái Châu,
 * Văn Giang, Kim Động and riverside communes), chickens ≈ 30,000 thousand head.
 * Going back to 2015: population +0.8 %/yr, enterprises +7 %/yr (slower in 2020
 * and 2021), GRDP +8 %/yr nominal, budget revenue +9 %/yr, rice slowly declining;
 * the poverty rate falls from about 5 % of households (2015) to about 1 % (2025),
 * the share of applications filed online rises from about 5 % to about 80 %, and
 * the digital economy's share of GRDP from about 8 % to about 19 % — on that
 * path the province's target of 30 % by 2030 is at risk.
 *
 * Planted features, for a data assistant to find (old commune codes; the 2025
 * commune each one flows into in brackets):
 *   - enterprises decline every year 2022–2024 (about −9 %/yr while the province
 *     grows about 7 %/yr) in three communes only: 12010 Xã Lương Tài, old Văn Lâm
 *     [11995 Xã Đại Đồng]; 12451 Phường Tiền Phong, old Thành phố Thái Bình
 *     [13225 Phường Thái Bình]; 12988 Xã Đông Xuyên, old Tiền Hải [12988 Xã Đông
 *     Tiền Hải];
 *   - the poverty rate roughly doubles in 2024 (after typhoon Yagi) in 12880 Xã
 *     Thụy Hải, old Thái Thụy [12826 Xã Thái Thụy]: the only commune whose
 *     poverty rate rises that year;
 *   - rice output of 12664 Xã Kim Chung, old Hưng Hà [12586 Xã Hưng Hà], is ten
 *     times its usual level in 2020 (a misplaced decimal point).
 * Communes with these codes that are missing from the unit tables are skipped.
 *
 * Determinism: every random draw comes from splitmix64 seeded with a hash of the
 * unit code, the indicator (or trait) and the year, so a value does not depend
 * on the order of rows; the same unit tables give byte-identical output.
 */
#ifndef KHO_APPS_INDICATORS_INDGEN_H
#define KHO_APPS_INDICATORS_INDGEN_H

#include <stdio.h>

#include "core/err.h"
#include "store/store.h"

/* Write the demo reports as long-form CSV (header `indicator,unit_code,period,value`,
 * LF line ends, '.' decimal point, values written with at most 2 decimals and no
 * exponent, integers without decimals) to out. Rows are sorted by indicator, then
 * unit_code, then period (about 43,000 rows).
 *
 * Reads the unit tables through s (they must be loaded: KHO_ENOTFOUND otherwise,
 * kind "units_not_loaded"). Both s and out are borrowed: out is written and
 * flushed, not closed. Nothing is written unless the reports could be computed;
 * a failed write gives KHO_EIO (out may then hold part of the reports).
 * Deterministic: the same units give byte-identical output. */
int kho_indgen_write(kho_store_t *s, FILE *out, kho_err_t *err) KHO_WUR;

#endif
