/* demo — the traceability demo supply chains (see demo.h). */
#include "apps/trace/demo.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "apps/trace/gs1.h"
#include "core/buf.h"

#define CP "8930001"
#define CPLEN 7

/* splitmix64: a fixed sequence, the same on every machine */
static uint64_t rnd_state = 0x6b686f2d74726163ULL;
static uint64_t rnd(void)
{
    uint64_t z = (rnd_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double urand(double lo, double hi)
{
    return lo + (hi - lo) * (double)(rnd() >> 11) / 9007199254740992.0;
}
static double round1(double v)
{
    return (double)(long long)(v * 10 + (v >= 0 ? 0.5 : -0.5)) / 10;
}

/* GTIN-14 "0" CP item(5) + check */
static void gtin(const char *item, char out[15])
{
    char d[14];
    snprintf(d, sizeof d, "0%s%s", CP, item);
    snprintf(out, 15, "%s%c", d, kho_gs1_check_digit(d, 13));
}

static void gln(const char *loc, char out[14])
{
    char d[13];
    snprintf(d, sizeof d, "%s%s", CP, loc);
    snprintf(out, 14, "%s%c", d, kho_gs1_check_digit(d, 12));
}

static json_t *lgtin(const char *item, const char *lot)
{
    char g[15];
    gtin(item, g);
    kho_buf_t b = KHO_BUF_INIT;
    json_t *s = kho_gs1_lgtin_uri(g, lot, CPLEN, &b, NULL) == 0 ? json_string(kho_buf_cstr(&b)) : json_null();
    kho_buf_free(&b);
    return s;
}

static char *sgln_str(const char *loc, char *out, size_t n)
{
    snprintf(out, n, "urn:epc:id:sgln:%s.%s.0", CP, loc);
    return out;
}

static json_t *place(const char *loc)
{
    char s[64];
    return json_pack("{s:s}", "id", sgln_str(loc, s, sizeof s));
}

static void pgln(const char *p, char *out, size_t n)
{
    snprintf(out, n, "urn:epc:id:pgln:%s.%s", CP, p);
}

static void sscc(unsigned serial, char *out, size_t n)
{
    snprintf(out, n, "urn:epc:id:sscc:%s.0%09u", CP, serial);
}

static void when(char *out, size_t n, int month, int day, int hour, int minute)
{
    snprintf(out, n, "2025-%02d-%02dT%02d:%02d:00+07:00", month, day, hour, minute);
}

static json_t *base(const char *type, const char *t)
{
    return json_pack("{s:s,s:s,s:s}", "type", type, "eventTime", t, "eventTimeZoneOffset", "+07:00");
}

static json_t *qty(json_t *cls, double q, const char *uom)
{
    return json_pack("{s:o,s:f,s:s}", "epcClass", cls, "quantity", q, "uom", uom);
}

static json_t *temps(int month, int day, int hour, int n, double lo, double hi, double spike)
{
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        char t[40];
        when(t, sizeof t, month, day, (hour + i) % 24, 0);
        double v = round1(urand(lo, hi));
        if (spike > 0 && i >= n / 2 && i < n / 2 + 2)
            v = spike + i - n / 2;
        json_array_append_new(
            list, json_pack("{s:{s:s,s:s},s:[{s:s,s:f,s:s}]}", "sensorMetadata", "time", t, "deviceID",
                            "urn:epc:id:giai:8930001.T01", "sensorReport", "type", "gs1:Temperature", "value", v,
                            "uom", "CEL"));
    }
    return list;
}

static json_t *party(const char *kind, const char *p)
{
    char id[64];
    pgln(p, id, sizeof id);
    return json_pack("[{s:s,s:s}]", "type", "owning_party", kind, id);
}

/* ---- master data ------------------------------------------------------------------ */

typedef struct farmdef {
    const char *id, *name, *kind, *commune, *loc;
    double area;
    bool expired;
} farmdef_t;

static const farmdef_t LONGAN[] = {
    {"FARM-NH01", "Vườn nhãn Đồng Vàng (HTX Nhãn lồng Phố Hiến)", "farm", "11953", "00011", 2.4, false},
    {"FARM-NH02", "Vườn nhãn Bãi Sậy (HTX Nhãn lồng Phố Hiến)", "farm", "11953", "00012", 1.8, false},
    {"FARM-NH03", "Vườn nhãn Xóm Đình (HTX Nhãn lồng Phố Hiến)", "farm", "11983", "00013", 3.1, false},
    {"FARM-NH04", "Vườn nhãn Cây Đa (HTX Nhãn lồng Phố Hiến)", "farm", "11980", "00014", 2.0, false},
    {"FARM-NH05", "Vườn nhãn Ven Đê (HTX Nhãn lồng Phố Hiến)", "farm", "11977", "00015", 2.7, true},
    {"FARM-NH06", "Vườn nhãn Lê Lợi (HTX Nhãn lồng Phố Hiến)", "farm", "11977", "00016", 1.5, false},
};
static const farmdef_t BANANA[] = {
    {"FARM-CH01", "Trang trại chuối Bãi Giữa", "farm", "12205", "00021", 6.5, false},
    {"FARM-CH02", "Trang trại chuối Ven Sông", "farm", "12406", "00022", 4.2, false},
};
static const farmdef_t CHICKEN[] = {
    {"FARM-GA01", "Trại gà đồi Đồng Cỏ", "farm", "12364", "00031", 3.0, false},
    {"FARM-GA02", "Trại gà đồi Gò Cao", "farm", "12586", "00032", 2.2, false},
};

static void add_farm(json_t *farms, json_t *locs, const farmdef_t *f, const char *loc_kind, int n)
{
    char g[14], s[64];
    gln(f->loc, g);
    char number[40];
    snprintf(number, sizeof number, "VietGAP-TT-25-%04d", 100 + n);
    json_t *certs = json_pack("[{s:s,s:s,s:s,s:s}]", "scheme", "VietGAP", "number", number, "valid_from",
                              f->expired ? "2022-07-01" : "2024-03-01", "valid_to",
                              f->expired ? "2025-06-30" : "2027-02-28");
    if (n == 0)
        json_array_append_new(certs, json_pack("{s:s,s:s,s:s,s:s}", "scheme", "GlobalGAP", "number",
                                               "GGN-4063061999001", "valid_from", "2025-01-15", "valid_to",
                                               "2026-01-14"));
    json_array_append_new(farms, json_pack("{s:s,s:s,s:s,s:s,s:f,s:s,s:o}", "id", f->id, "name", f->name, "kind",
                                           f->kind, "commune_code", f->commune, "area_ha", f->area, "gln", g,
                                           "certifications", certs));
    json_array_append_new(locs, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", sgln_str(f->loc, s, sizeof s), "name",
                                          f->name, "kind", loc_kind, "commune_code", f->commune, "address",
                                          "Hưng Yên", "farm_id", f->id));
}

static json_t *master(void)
{
    json_t *farms = json_array(), *locs = json_array(), *products = json_array(), *partners = json_array();
    for (size_t i = 0; i < 6; i++)
        add_farm(farms, locs, &LONGAN[i], "orchard", (int)i);
    for (size_t i = 0; i < 2; i++)
        add_farm(farms, locs, &BANANA[i], "farm", (int)i + 6);
    for (size_t i = 0; i < 2; i++)
        add_farm(farms, locs, &CHICKEN[i], "farm", (int)i + 8);
    json_array_append_new(farms, json_pack("{s:s,s:s,s:s,s:s,s:f,s:[]}", "id", "COOP-NH", "name",
                                           "HTX Nhãn lồng Phố Hiến", "kind", "coop", "commune_code", "11953",
                                           "area_ha", 13.5, "certifications"));
    static const char *const P[][5] = {
        {"00010", "Nhãn lồng Hưng Yên – hàng xá (thu hoạch)", "Hung Yen longan – bulk harvest", "longan", "0"},
        {"00011", "Nhãn lồng Hưng Yên – hộp 1 kg", "Hung Yen longan – 1 kg box", "longan", "1"},
        {"00020", "Chuối tiêu hồng – hàng xá (thu hoạch)", "Pink dwarf banana – bulk harvest", "banana", "0"},
        {"00021", "Chuối tiêu hồng Hưng Yên – nải 1,5 kg", "Hung Yen pink dwarf banana – 1.5 kg hand", "banana",
         "1.5"},
        {"00030", "Gà đồi – đàn nuôi", "Hill chicken – flock", "chicken", "0"},
        {"00031", "Gà đồi Hưng Yên – nguyên con 1,6 kg", "Hung Yen hill chicken – whole 1.6 kg", "chicken", "1.6"},
    };
    for (size_t i = 0; i < sizeof P / sizeof P[0]; i++) {
        char g[15];
        gtin(P[i][0], g);
        double kg = 0;
        sscanf(P[i][4], "%lf", &kg);
        json_array_append_new(products, json_pack("{s:s,s:s,s:s,s:s,s:f}", "gtin", g, "name", P[i][1], "name_en",
                                                  P[i][2], "category", P[i][3], "net_kg", kg));
    }
    static const char *const L[][5] = {
        {"00040", "Nhà sơ chế, đóng gói nhãn Phố Hiến", "packhouse", "11953", "00092"},
        {"00041", "Kho lạnh Phố Hiến", "cold_store", "11953", "00092"},
        {"00042", "Phòng ủ chín chuối Khoái Châu", "cold_store", "12205", "00092"},
        {"00043", "Cơ sở giết mổ gia cầm Tiên Lữ", "slaughterhouse", "12364", "00092"},
        {"00050", "Trung tâm phân phối Thủ Đô (Long Biên, Hà Nội)", "distribution_centre", "", "00094"},
        {"00051", "Siêu thị Thực phẩm Tươi Hà Thành – Cầu Giấy", "retail_store", "", "00095"},
        {"00052", "Siêu thị Thực phẩm Tươi Hà Thành – Hai Bà Trưng", "retail_store", "", "00095"},
        {"00053", "Siêu thị Thực phẩm Tươi Hà Thành – Hà Đông", "retail_store", "", "00095"},
    };
    for (size_t i = 0; i < sizeof L / sizeof L[0]; i++) {
        char s[64], p[64];
        pgln(L[i][4], p, sizeof p);
        json_array_append_new(locs, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", sgln_str(L[i][0], s, sizeof s),
                                              "name", L[i][1], "kind", L[i][2], "commune_code", L[i][3], "address",
                                              L[i][3][0] ? "Hưng Yên" : "Hà Nội", "partner_id", p));
    }
    static const char *const R[][3] = {
        {"00091", "HTX Nhãn lồng Phố Hiến", "coop"},
        {"00092", "Công ty TNHH Sơ chế Nông sản Phố Hiến", "packer"},
        {"00093", "Công ty Vận tải Lạnh Sông Hồng", "transporter"},
        {"00094", "Công ty CP Phân phối Thực phẩm Xanh Thủ Đô", "distributor"},
        {"00095", "Chuỗi siêu thị Thực phẩm Tươi Hà Thành", "retailer"},
    };
    for (size_t i = 0; i < sizeof R / sizeof R[0]; i++) {
        char p[64];
        pgln(R[i][0], p, sizeof p);
        json_array_append_new(partners, json_pack("{s:s,s:s,s:s}", "id", p, "name", R[i][1], "kind", R[i][2]));
    }
    return json_pack("{s:b,s:o,s:o,s:o,s:o}", "synthetic", 1, "farms", farms, "products", products, "locations",
                     locs, "partners", partners);
}

/* ---- events ------------------------------------------------------------------------- */

static json_t *ilmd(const char *farm, const char *date, double area, const char *input, const char *ai,
                    double dose, const char *unit, const char *applied, int phi, double water, double energy,
                    double n)
{
    return json_pack("{s:s,s:s,s:f,s:[{s:s,s:s,s:f,s:s,s:s,s:i}],s:f,s:f,s:f}", "kho:farmId", farm,
                     "kho:harvestDate", date, "kho:areaHa", area, "kho:inputs", "name", input, "activeIngredient", ai,
                     "dosePerHa", dose, "doseUnit", unit, "appliedOn", applied, "preHarvestIntervalDays", phi,
                     "kho:waterM3", water, "kho:energyKWh", energy, "kho:fertiliserNKg", n);
}

/* The distribution leg of a packed lot on its pallet: from the packhouse to a store. */
static void distribute(json_t *evs, const char *item, const char *lot, double kg, unsigned pallet, int month,
                       int day, const char *from_loc, double tlo, double thi, double spike, int store)
{
    char t[40], ss[64], po[96];
    sscc(pallet, ss, sizeof ss);
    json_t *e = base("AggregationEvent", (when(t, sizeof t, month, day, 17, 0), t));
    json_object_set_new(e, "parentID", json_string(ss));
    json_object_set_new(e, "childQuantityList", json_pack("[o]", qty(lgtin(item, lot), kg, "KGM")));
    json_object_set_new(e, "action", json_string("ADD"));
    json_object_set_new(e, "bizStep", json_string("packing"));
    json_object_set_new(e, "disposition", json_string("container_closed"));
    json_object_set_new(e, "bizLocation", place(from_loc));
    json_array_append_new(evs, e);

    e = base("ObjectEvent", (when(t, sizeof t, month, day, 18, 0), t));
    json_object_set_new(e, "epcList", json_pack("[s]", ss));
    json_object_set_new(e, "action", json_string("OBSERVE"));
    json_object_set_new(e, "bizStep", json_string("storing"));
    json_object_set_new(e, "disposition", json_string("active"));
    json_object_set_new(e, "readPoint", place("00041"));
    json_object_set_new(e, "bizLocation", place("00041"));
    json_object_set_new(e, "sensorElementList", temps(month, day, 18, 3, tlo, thi, 0));
    json_array_append_new(evs, e);

    snprintf(po, sizeof po, "urn:epcglobal:cbv:bt:%s00950:PO-%s", CP, lot);
    e = base("TransactionEvent", (when(t, sizeof t, month, day, 20, 0), t));
    json_object_set_new(e, "bizTransactionList", json_pack("[{s:s,s:s}]", "type", "po", "bizTransaction", po));
    json_object_set_new(e, "epcList", json_pack("[s]", ss));
    json_object_set_new(e, "action", json_string("ADD"));
    json_object_set_new(e, "bizStep", json_string("shipping"));
    json_array_append_new(evs, e);

    e = base("ObjectEvent", (when(t, sizeof t, month, day + 1, 4, 0), t));
    json_object_set_new(e, "epcList", json_pack("[s]", ss));
    json_object_set_new(e, "action", json_string("OBSERVE"));
    json_object_set_new(e, "bizStep", json_string("shipping"));
    json_object_set_new(e, "disposition", json_string("in_transit"));
    json_object_set_new(e, "readPoint", place("00041"));
    json_object_set_new(e, "bizTransactionList", json_pack("[{s:s,s:s}]", "type", "po", "bizTransaction", po));
    json_object_set_new(e, "sourceList", party("source", "00092"));
    json_object_set_new(e, "destinationList", party("destination", "00094"));
    json_object_set_new(e, "sensorElementList", temps(month, day + 1, 4, 4, tlo, thi, spike));
    json_array_append_new(evs, e);

    e = base("ObjectEvent", (when(t, sizeof t, month, day + 1, 8, 30), t));
    json_object_set_new(e, "epcList", json_pack("[s]", ss));
    json_object_set_new(e, "action", json_string("OBSERVE"));
    json_object_set_new(e, "bizStep", json_string("receiving"));
    json_object_set_new(e, "disposition", json_string("in_progress"));
    json_object_set_new(e, "readPoint", place("00050"));
    json_object_set_new(e, "bizLocation", place("00050"));
    json_array_append_new(evs, e);

    e = base("AggregationEvent", (when(t, sizeof t, month, day + 1, 9, 0), t));
    json_object_set_new(e, "parentID", json_string(ss));
    json_object_set_new(e, "childQuantityList", json_pack("[o]", qty(lgtin(item, lot), kg, "KGM")));
    json_object_set_new(e, "action", json_string("DELETE"));
    json_object_set_new(e, "bizStep", json_string("unpacking"));
    json_object_set_new(e, "bizLocation", place("00050"));
    json_array_append_new(evs, e);

    char storeloc[8];
    snprintf(storeloc, sizeof storeloc, "0005%d", 1 + store % 3);
    e = base("ObjectEvent", (when(t, sizeof t, month, day + 1, 14, 0), t));
    json_object_set_new(e, "quantityList", json_pack("[o]", qty(lgtin(item, lot), kg, "KGM")));
    json_object_set_new(e, "action", json_string("OBSERVE"));
    json_object_set_new(e, "bizStep", json_string("receiving"));
    json_object_set_new(e, "disposition", json_string("sellable_not_accessible"));
    json_object_set_new(e, "readPoint", place(storeloc));
    json_object_set_new(e, "bizLocation", place(storeloc));
    json_object_set_new(e, "sourceList", party("source", "00094"));
    json_object_set_new(e, "destinationList", party("destination", "00095"));
    json_array_append_new(evs, e);

    e = base("ObjectEvent", (when(t, sizeof t, month, day + 1, 16, 0), t));
    json_object_set_new(e, "quantityList", json_pack("[o]", qty(lgtin(item, lot), kg, "KGM")));
    json_object_set_new(e, "action", json_string("OBSERVE"));
    json_object_set_new(e, "bizStep", json_string("stocking"));
    json_object_set_new(e, "disposition", json_string("sellable_accessible"));
    json_object_set_new(e, "readPoint", place(storeloc));
    json_object_set_new(e, "bizLocation", place(storeloc));
    json_array_append_new(evs, e);
}

/* The showcase: day index 1, pair 0 (orchards 1 and 2), packed 19/07/2025. */
#define SHOW_DAY 1
#define SHOW_PAIR 0
/* The excursion: day index 2, pair 1. */
#define HOT_DAY 2
#define HOT_PAIR 1

static void packed_lot(int d, int p, int k, char *out, size_t n)
{
    snprintf(out, n, "PH-2507%02d-%d%c", 18 + d, p + 1, k ? 'B' : 'A');
}

void kho_trace_demo_showcase(char gtin14[15], char lot[32])
{
    gtin("00011", gtin14);
    packed_lot(SHOW_DAY, SHOW_PAIR, 0, lot, 32);
}

static void longan(json_t *evs, unsigned *pallet)
{
    for (int d = 0; d < 6; d++) {
        int day = 18 + d;
        char date[16];
        snprintf(date, sizeof date, "2025-07-%02d", day);
        char hl[6][32];
        double hk[6];
        for (int o = 0; o < 6; o++) {
            const farmdef_t *f = &LONGAN[o];
            char t[40], applied[16];
            snprintf(hl[o], sizeof hl[o], "NH%d-2507%02d", o + 1, day);
            hk[o] = (double)(long long)urand(700, 1400);
            snprintf(applied, sizeof applied, "2025-07-%02d", day - (o == 4 && d == 3 ? 4 : 10));
            json_t *e = base("TransformationEvent", (when(t, sizeof t, 7, day, 6 + o / 2, 10 * o), t));
            json_object_set_new(e, "outputQuantityList", json_pack("[o]", qty(lgtin("00010", hl[o]), hk[o], "KGM")));
            json_object_set_new(e, "bizStep", json_string("commissioning"));
            json_object_set_new(e, "disposition", json_string("active"));
            json_object_set_new(e, "readPoint", place(f->loc));
            json_object_set_new(e, "bizLocation", place(f->loc));
            json_object_set_new(e, "ilmd", ilmd(f->id, date, f->area / 6, "Thuốc trừ sâu sinh học", "Abamectin", 0.3,
                                                "L", applied, 7, round1(urand(30, 60)), round1(urand(80, 160)),
                                                round1(urand(4, 9))));
            json_array_append_new(evs, e);
        }
        for (int p = 0; p < 3; p++) {
            char t[40], out1[32], out2[32];
            bool split = d == 0 && p == 2; /* one harvest lot split into two packed lots */
            packed_lot(d, p, 0, out1, sizeof out1);
            packed_lot(d, p, 1, out2, sizeof out2);
            double in = hk[2 * p] + hk[2 * p + 1], packed = (double)(long long)(in * 0.93);
            json_t *e = base("TransformationEvent", (when(t, sizeof t, 7, day, 13, 20 * p), t));
            if (split) {
                json_object_set_new(e, "inputQuantityList",
                                    json_pack("[o]", qty(lgtin("00010", hl[2 * p]), hk[2 * p], "KGM")));
                packed = (double)(long long)(hk[2 * p] * 0.93);
                json_object_set_new(e, "outputQuantityList",
                                    json_pack("[o,o]", qty(lgtin("00011", out1), (double)(long long)(packed / 2), "KGM"),
                                              qty(lgtin("00011", out2), packed - (double)(long long)(packed / 2),
                                                  "KGM")));
            } else {
                json_object_set_new(e, "inputQuantityList",
                                    json_pack("[o,o]", qty(lgtin("00010", hl[2 * p]), hk[2 * p], "KGM"),
                                              qty(lgtin("00010", hl[2 * p + 1]), hk[2 * p + 1], "KGM")));
                json_object_set_new(e, "outputQuantityList", json_pack("[o]", qty(lgtin("00011", out1), packed, "KGM")));
            }
            json_object_set_new(e, "bizStep", json_string("repackaging"));
            json_object_set_new(e, "disposition", json_string("active"));
            json_object_set_new(e, "readPoint", place("00040"));
            json_object_set_new(e, "bizLocation", place("00040"));
            json_array_append_new(evs, e);
            for (int k = 0; k < (split ? 2 : 1); k++) {
                const char *lot = k ? out2 : out1;
                double kg = split ? (k ? packed - (double)(long long)(packed / 2) : (double)(long long)(packed / 2))
                                  : packed;
                e = base("ObjectEvent", (when(t, sizeof t, 7, day, 15, 20 * p + k), t));
                json_object_set_new(e, "quantityList", json_pack("[o]", qty(lgtin("00011", lot), kg, "KGM")));
                json_object_set_new(e, "action", json_string("OBSERVE"));
                json_object_set_new(e, "bizStep", json_string("inspecting"));
                json_object_set_new(e, "disposition", json_string("conformant"));
                json_object_set_new(e, "readPoint", place("00040"));
                json_array_append_new(evs, e);
                bool hot = d == HOT_DAY && p == HOT_PAIR;
                distribute(evs, "00011", lot, kg, (*pallet)++, 7, day, "00040", 3.5, 6.5, hot ? 11.8 : 0, d + p + k);
            }
        }
    }
}

static void banana(json_t *evs, unsigned *pallet)
{
    for (int w = 0; w < 5; w++) {
        for (int f = 0; f < 2; f++) {
            const farmdef_t *fd = &BANANA[f];
            char t[40], hl[32], pl[32], date[16], applied[16];
            int month = 8, day = 4 + 5 * w;
            snprintf(date, sizeof date, "2025-%02d-%02d", month, day);
            snprintf(applied, sizeof applied, "2025-07-%02d", 10 + w);
            snprintf(hl, sizeof hl, "CH%d-2508%02d", f + 1, day);
            snprintf(pl, sizeof pl, "CTH-2508%02d-%d", day + 3, f + 1);
            double kg = (double)(long long)urand(1500, 2600);
            json_t *e = base("TransformationEvent", (when(t, sizeof t, month, day, 6, 30), t));
            json_object_set_new(e, "outputQuantityList", json_pack("[o]", qty(lgtin("00020", hl), kg, "KGM")));
            json_object_set_new(e, "bizStep", json_string("commissioning"));
            json_object_set_new(e, "disposition", json_string("active"));
            json_object_set_new(e, "readPoint", place(fd->loc));
            json_object_set_new(e, "bizLocation", place(fd->loc));
            json_object_set_new(e, "ilmd", ilmd(fd->id, date, fd->area / 5, "Phân bón NPK", "Đạm-Lân-Kali 16-16-8",
                                                120, "kg", applied, 0, round1(urand(90, 140)),
                                                round1(urand(40, 90)), round1(urand(12, 20))));
            json_array_append_new(evs, e);
            e = base("ObjectEvent", (when(t, sizeof t, month, day, 11, 0), t));
            json_object_set_new(e, "quantityList", json_pack("[o]", qty(lgtin("00020", hl), kg, "KGM")));
            json_object_set_new(e, "action", json_string("OBSERVE"));
            json_object_set_new(e, "bizStep", json_string("holding"));
            json_object_set_new(e, "disposition", json_string("in_progress"));
            json_object_set_new(e, "readPoint", place("00042"));
            json_object_set_new(e, "sensorElementList", temps(month, day, 11, 3, 14.0, 17.5, 0));
            json_array_append_new(evs, e);
            double packed = (double)(long long)(kg * 0.9);
            e = base("TransformationEvent", (when(t, sizeof t, month, day + 3, 7, 0), t));
            json_object_set_new(e, "inputQuantityList", json_pack("[o]", qty(lgtin("00020", hl), kg, "KGM")));
            json_object_set_new(e, "outputQuantityList", json_pack("[o]", qty(lgtin("00021", pl), packed, "KGM")));
            json_object_set_new(e, "bizStep", json_string("packing"));
            json_object_set_new(e, "readPoint", place("00042"));
            json_object_set_new(e, "bizLocation", place("00042"));
            json_array_append_new(evs, e);
            distribute(evs, "00021", pl, packed, (*pallet)++, month, day + 3, "00042", 13.5, 16.5, 0, w + f);
        }
    }
}

static void chicken(json_t *evs, unsigned *pallet)
{
    for (int b = 0; b < 3; b++) {
        for (int f = 0; f < 2; f++) {
            const farmdef_t *fd = &CHICKEN[f];
            char t[40], flock[32], lot[32], date[16], start[16];
            int day = 5 + 9 * b;
            snprintf(flock, sizeof flock, "DAN%d-25%02d", f + 1, b + 1);
            snprintf(lot, sizeof lot, "GD-2509%02d-%d", day, f + 1);
            snprintf(date, sizeof date, "2025-09-%02d", day);
            snprintf(start, sizeof start, "2025-05-%02d", day);
            double birds = (double)(long long)urand(600, 1000);
            json_t *e = base("TransformationEvent", (when(t, sizeof t, 5, day, 8, 0), t));
            json_object_set_new(e, "outputQuantityList", json_pack("[o]", qty(lgtin("00030", flock), birds, "H87")));
            json_object_set_new(e, "bizStep", json_string("commissioning"));
            json_object_set_new(e, "disposition", json_string("active"));
            json_object_set_new(e, "readPoint", place(fd->loc));
            json_object_set_new(e, "bizLocation", place(fd->loc));
            json_object_set_new(e, "ilmd", ilmd(fd->id, date, fd->area, "Vắc-xin Newcastle", "Vắc-xin sống nhược độc",
                                                1, "liều/con", start, 21, round1(urand(150, 260)),
                                                round1(urand(300, 500)), 0));
            json_array_append_new(evs, e);
            for (int m = 6; m <= 8; m++) {
                e = base("ObjectEvent", (when(t, sizeof t, m, day, 9, 0), t));
                json_object_set_new(e, "quantityList", json_pack("[o]", qty(lgtin("00030", flock), birds, "H87")));
                json_object_set_new(e, "action", json_string("OBSERVE"));
                json_object_set_new(e, "bizStep", json_string("inspecting"));
                json_object_set_new(e, "disposition", json_string("active"));
                json_object_set_new(e, "readPoint", place(fd->loc));
                json_array_append_new(evs, e);
            }
            double kg = (double)(long long)(birds * 1.6);
            e = base("TransformationEvent", (when(t, sizeof t, 9, day, 5, 0), t));
            json_object_set_new(e, "inputQuantityList", json_pack("[o]", qty(lgtin("00030", flock), birds, "H87")));
            json_object_set_new(e, "outputQuantityList", json_pack("[o]", qty(lgtin("00031", lot), kg, "KGM")));
            json_object_set_new(e, "bizStep", json_string("killing"));
            json_object_set_new(e, "readPoint", place("00043"));
            json_object_set_new(e, "bizLocation", place("00043"));
            json_array_append_new(evs, e);
            distribute(evs, "00031", lot, kg, (*pallet)++, 9, day, "00043", 0.5, 3.5, 0, b + f);
        }
    }
}

static void chunk(json_t *evs, json_t *docs)
{
    size_t n = json_array_size(evs);
    for (size_t i = 0; i < n; i += 100) {
        json_t *list = json_array();
        for (size_t j = i; j < n && j < i + 100; j++)
            json_array_append(list, json_array_get(evs, j));
        json_array_append_new(
            docs, json_pack("{s:[s,{s:s}],s:s,s:s,s:s,s:{s:o}}", "@context",
                            "https://ref.gs1.org/standards/epcis/epcis-context.jsonld", "kho",
                            "https://kho.example.vn/epcis/", "type", "EPCISDocument", "schemaVersion", "2.0",
                            "creationDate", "2025-10-01T08:00:00+07:00", "epcisBody", "eventList", list));
    }
}

int kho_trace_demo(json_t **master_out, json_t **docs_out, kho_err_t *err)
{
    (void)err;
    rnd_state = 0x6b686f2d74726163ULL;
    unsigned pallet = 1;
    json_t *evs = json_array();
    longan(evs, &pallet);
    banana(evs, &pallet);
    chicken(evs, &pallet);
    json_t *docs = json_array();
    chunk(evs, docs);
    json_decref(evs);
    *master_out = master();
    *docs_out = docs;
    return 0;
}
