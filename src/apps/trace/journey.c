/* journey — the public traceability pages (see journey.h). */
#include "apps/trace/journey.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/trace/epcis.h"
#include "apps/trace/master.h"

void kho_html_escape(kho_buf_t *out, const char *s)
{
    if (!s)
        return;
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&':
            kho_buf_puts(out, "&amp;");
            break;
        case '<':
            kho_buf_puts(out, "&lt;");
            break;
        case '>':
            kho_buf_puts(out, "&gt;");
            break;
        case '"':
            kho_buf_puts(out, "&quot;");
            break;
        case '\'':
            kho_buf_puts(out, "&#39;");
            break;
        default:
            kho_buf_putc(out, *p);
        }
    }
}

#define E(s) kho_html_escape(out, (s))
/* The text in the page's language (en: English, else Vietnamese). */
#define T(vi, english) (en ? (english) : (vi))

static const char CSS[] =
    "*{box-sizing:border-box}footer,dd,.alert{overflow-wrap:anywhere}body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "color:#1d2a22;background:#f5f7f2}header{background:#2f6b3a;color:#fff;padding:16px}"
    "header h1{margin:0;font-size:1.3em}header p{margin:4px 0 0;opacity:.9}header a{color:#fff}main{max-width:720px;margin:0 auto;"
    "padding:12px}section{background:#fff;border-radius:10px;padding:12px 16px;margin:12px 0;"
    "box-shadow:0 1px 3px rgba(0,0,0,.08)}h2{font-size:1.1em;margin:0 0 8px;color:#2f6b3a}"
    "ol.tl{list-style:none;margin:0;padding:0;border-left:3px solid #c7dcc9}ol.tl li{position:relative;"
    "padding:4px 0 12px 16px}ol.tl li:before{content:'';position:absolute;left:-8px;top:10px;width:13px;"
    "height:13px;border-radius:50%;background:#2f6b3a}ol.tl li.warn:before{background:#c0392b}"
    ".when{color:#5b6b60;font-size:.9em}.step{font-weight:600}.warn .step{color:#c0392b}"
    ".badge{display:inline-block;border-radius:4px;padding:0 6px;font-size:.85em;margin:2px 4px 2px 0}"
    ".ok{background:#e2f3e4;color:#1e6b2b}.bad{background:#fbe3e0;color:#a5281b}"
    ".muted{color:#5b6b60;font-size:.9em}table{border-collapse:collapse;width:100%;font-size:.92em}"
    "td,th{text-align:left;padding:4px 6px;border-bottom:1px solid #e6ebe4;vertical-align:top}"
    ".alert{background:#fbe3e0;color:#7d1f14;border-left:4px solid #c0392b;padding:10px 12px;border-radius:6px}"
    ".scroll{overflow-x:auto}a{color:#1f5fa8}footer{max-width:720px;margin:0 auto;padding:8px 12px 24px;color:#5b6b60;font-size:.85em}"
    "dl{margin:0;display:grid;grid-template-columns:auto 1fr;gap:2px 12px}dt{color:#5b6b60}dd{margin:0;min-width:0}";

static void head(kho_buf_t *out, const char *title, bool en)
{
    kho_buf_printf(out, "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\">", T("vi", "en"));
    kho_buf_puts(out, "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                           "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\"><title>");
    E(title);
    kho_buf_printf(out, "</title><style>%s</style></head><body>", CSS);
}

/* ---- vocabularies in Vietnamese and English ------------------------------------------------------ */

/* A CBV business step as the shopper reads it: {word, Vietnamese, English}. */
static const char *step_text(const char *step, const char *type, bool en)
{
    static const char *const map[][3] = {
        {"commissioning", "Thu hoạch, tạo lô", "Harvested, lot created"},
        {"packing", "Đóng gói", "Packed"},
        {"repackaging", "Đóng gói lại", "Repacked"},
        {"inspecting", "Kiểm tra chất lượng", "Quality inspection"},
        {"storing", "Bảo quản kho lạnh", "Cold storage"},
        {"shipping", "Xuất hàng", "Shipped"},
        {"departing", "Rời kho", "Departed"},
        {"transporting", "Vận chuyển", "In transport"},
        {"arriving", "Đến nơi", "Arrived"},
        {"receiving", "Nhận hàng", "Received"},
        {"accepting", "Nhận hàng", "Accepted"},
        {"loading", "Xếp lên xe", "Loaded"},
        {"unloading", "Dỡ hàng", "Unloaded"},
        {"unpacking", "Tách kiện", "Unpacked"},
        {"stocking", "Lên kệ", "Stocked on the shelf"},
        {"retail_selling", "Bán lẻ", "Sold at retail"},
        {"holding", "Lưu giữ", "Held"},
        {"sensor_reporting", "Ghi nhiệt độ", "Temperature recorded"},
        {"killing", "Giết mổ", "Slaughtered"},
        {"assembling", "Gom kiện", "Assembled"},
        {"sampling", "Lấy mẫu", "Sampled"},
        {"destroying", "Tiêu hủy", "Destroyed"},
    };
    for (size_t i = 0; step && i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(map[i][0], step))
            return map[i][en ? 2 : 1];
    if (type && !strcmp(type, "TransformationEvent"))
        return T("Chế biến, chuyển đổi lô", "Processed, lot transformed");
    if (type && !strcmp(type, "AggregationEvent"))
        return T("Xếp kiện", "Packed into a container");
    if (type && !strcmp(type, "AssociationEvent"))
        return T("Gắn với thiết bị hoặc vị trí", "Associated with a device or place");
    if (type && !strcmp(type, "TransactionEvent"))
        return T("Giao dịch", "Business transaction");
    return T("Sự kiện", "Event");
}

static const char *disp_text(const char *d, bool en)
{
    static const char *const map[][3] = {
        {"active", "đang lưu hành", "active"},
        {"in_transit", "đang vận chuyển", "in transit"},
        {"in_progress", "đang xử lý", "in progress"},
        {"conformant", "đạt yêu cầu", "conformant"},
        {"non_conformant", "không đạt", "non-conformant"},
        {"sellable_accessible", "đang bày bán", "on sale"},
        {"sellable_not_accessible", "sẵn sàng bán", "ready for sale"},
        {"retail_sold", "đã bán", "sold"},
        {"expired", "hết hạn", "expired"},
        {"damaged", "hư hỏng", "damaged"},
        {"recalled", "bị thu hồi", "recalled"},
        {"container_closed", "đã đóng kiện", "container closed"},
        {"available", "sẵn có", "available"},
    };
    for (size_t i = 0; d && i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(map[i][0], d))
            return map[i][en ? 2 : 1];
    return NULL;
}

/* "2025-07-18T06:30:00+07:00" -> "18/07/2025 06:30" (en: "2025-07-18 06:30"), the
 * time as recorded, in its own zone. */
static void when(kho_buf_t *out, const char *t, bool en)
{
    if (!t || strlen(t) < 16) {
        E(t);
        return;
    }
    if (en)
        kho_buf_printf(out, "%.10s %.5s", t, t + 11);
    else
        kho_buf_printf(out, "%.2s/%.2s/%.4s %.5s", t + 8, t + 5, t, t + 11);
}

static void date_text(kho_buf_t *out, const char *d, bool en)
{
    if (d && strlen(d) >= 10 && en)
        kho_buf_printf(out, "%.10s", d);
    else if (d && strlen(d) >= 10)
        kho_buf_printf(out, "%.2s/%.2s/%.4s", d + 8, d + 5, d);
    else
        E(d);
}

/* ---- lookups ------------------------------------------------------------------------- */

static char *lookup_text(kho_store_t *s, const char *sql, const char *arg)
{
    kho_stmt_t *st;
    kho_err_t err;
    if (!arg || kho_store_cached(s, sql, &st, &err) != 0)
        return NULL;
    kho_stmt_bind_str(st, 1, arg);
    char *v = NULL;
    if (kho_stmt_step(st, &err) == KHO_STEP_ROW && kho_stmt_col_text(st, 0))
        v = strdup(kho_stmt_col_text(st, 0));
    kho_stmt_reset(st);
    return v;
}

static char *commune_name(kho_store_t *s, const char *code)
{
    return lookup_text(s, "SELECT name FROM units WHERE era = 'current' AND level = 'commune' AND code = ?", code);
}

static char *place_name(kho_store_t *s, const json_t *ev)
{
    const char *fields[] = {"bizLocation", "readPoint"};
    for (int i = 0; i < 2; i++) {
        const char *id = json_string_value(json_object_get(json_object_get(ev, fields[i]), "id"));
        char key[KHO_EPCIS_KEY_MAX];
        if (!id || !kho_epcis_key(id, key, sizeof key))
            continue;
        char *n = lookup_text(s, "SELECT name FROM trace_locations WHERE key = ?", key);
        if (n)
            return n;
    }
    return NULL;
}

static char *party_name(kho_store_t *s, const json_t *list, const char *valkey)
{
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x)
    {
        const char *type = json_string_value(json_object_get(x, "type"));
        if (type && strcmp(type, "owning_party") && strcmp(type, "possessing_party"))
            continue;
        char *n = lookup_text(s, "SELECT name FROM trace_partners WHERE id = ?",
                              json_string_value(json_object_get(x, valkey)));
        if (n)
            return n;
    }
    return NULL;
}

/* ---- temperatures ------------------------------------------------------------------------ */

typedef struct temps {
    int n;
    double lo, hi;
    bool alarm;
} temps_t;

static bool is_temperature(const char *type)
{
    return type && (!strcmp(type, "gs1:Temperature") || !strcmp(type, "Temperature") ||
                    !strcmp(type, "https://gs1.org/voc/Temperature"));
}

static void event_temps(const json_t *ev, temps_t *t)
{
    memset(t, 0, sizeof *t);
    size_t i, j;
    json_t *e, *r;
    json_array_foreach(json_object_get(ev, "sensorElementList"), i, e)
    {
        json_array_foreach(json_object_get(e, "sensorReport"), j, r)
        {
            const char *ex = json_string_value(json_object_get(r, "exception"));
            if (ex && !strcmp(ex, "ALARM_CONDITION"))
                t->alarm = true;
            if (!is_temperature(json_string_value(json_object_get(r, "type"))))
                continue;
            const char *keys[] = {"value", "minValue", "maxValue", "meanValue"};
            for (int k = 0; k < 4; k++) {
                json_t *v = json_object_get(r, keys[k]);
                if (!json_is_number(v))
                    continue;
                double d = json_number_value(v);
                const char *uom = json_string_value(json_object_get(r, "uom"));
                if (uom && !strcmp(uom, "FAH"))
                    d = (d - 32) * 5 / 9;
                if (!t->n || d < t->lo)
                    t->lo = d;
                if (!t->n || d > t->hi)
                    t->hi = d;
                t->n++;
            }
        }
    }
}

static void limits(const char *category, double *lo, double *hi)
{
    *lo = -50;
    *hi = 8;
    if (!category)
        return;
    if (!strcmp(category, "chicken"))
        *hi = 4;
    else if (!strcmp(category, "banana")) {
        *lo = 12;
        *hi = 20;
    }
}

/* A number with the page's decimal separator (Vietnamese: a comma). */
static void number(kho_buf_t *out, double v, int decimals, bool en)
{
    char s[64];
    snprintf(s, sizeof s, "%.*f", decimals, v);
    for (char *p = s; *p && !en; p++)
        if (*p == '.')
            *p = ',';
    kho_buf_puts(out, s);
}

/* ---- the page ---------------------------------------------------------------------------- */

typedef struct harvest {
    const json_t *ilmd;
    const json_t *event;
    double kg;
} harvest_t;

static void certificate(kho_buf_t *out, const json_t *c, const char *harvest_day, bool en)
{
    const char *from = json_string_value(json_object_get(c, "valid_from"));
    const char *to = json_string_value(json_object_get(c, "valid_to"));
    bool valid = from && to && harvest_day[0] && strcmp(from, harvest_day) <= 0 && strcmp(harvest_day, to) <= 0;
    kho_buf_printf(out, "<span class=\"badge %s\">", valid ? "ok" : "bad");
    E(json_string_value(json_object_get(c, "scheme")));
    kho_buf_puts(out, " ");
    E(json_string_value(json_object_get(c, "number")));
    if (valid) {
        kho_buf_puts(out, T(" · hiệu lực đến ", " · valid until "));
        date_text(out, to, en);
    } else {
        kho_buf_puts(out, T(" · không hiệu lực khi thu hoạch (", " · not valid at harvest ("));
        date_text(out, from, en);
        kho_buf_puts(out, "–");
        date_text(out, to, en);
        kho_buf_puts(out, ")");
    }
    kho_buf_puts(out, "</span>");
}

static void origin_section(kho_store_t *s, kho_buf_t *out, const harvest_t *h, size_t nh, bool en)
{
    kho_buf_printf(out, "<section id=\"nguon-goc\"><h2>%s</h2>", T("Nguồn gốc", "Origin"));
    if (!nh)
        kho_buf_printf(out, "<p class=\"muted\">%s</p>",
                       T("Chưa có thông tin thu hoạch cho lô này.", "No harvest has been recorded for this lot yet."));
    for (size_t i = 0; i < nh; i++) {
        const char *farm_id = json_string_value(json_object_get(h[i].ilmd, "kho:farmId"));
        json_t *farm = NULL;
        kho_err_t err;
        if (farm_id && kho_md_get(s, KHO_MD_FARMS, farm_id, &farm, &err) != 0)
            farm = NULL;
        const char *hd = json_string_value(json_object_get(h[i].ilmd, "kho:harvestDate"));
        const char *et = json_string_value(json_object_get(h[i].event, "eventTime"));
        char harvest_day[11] = "";
        snprintf(harvest_day, sizeof harvest_day, "%.10s", hd ? hd : et ? et : "");
        kho_buf_puts(out, "<dl>");
        if (farm) {
            char *commune = commune_name(s, json_string_value(json_object_get(farm, "commune_code")));
            kho_buf_printf(out, "<dt>%s</dt><dd><b>", T("Nơi trồng", "Grown at"));
            E(json_string_value(json_object_get(farm, "name")));
            kho_buf_printf(out, "</b></dd><dt>%s</dt><dd>", T("Xã/phường", "Commune"));
            E(commune ? commune : json_string_value(json_object_get(farm, "commune_code")));
            kho_buf_puts(out, T(", tỉnh Hưng Yên</dd>", ", Hưng Yên province</dd>"));
            free(commune);
            if (json_is_number(json_object_get(farm, "area_ha"))) {
                kho_buf_printf(out, "<dt>%s</dt><dd>", T("Diện tích", "Area"));
                number(out, json_number_value(json_object_get(farm, "area_ha")), 1, en);
                kho_buf_puts(out, " ha</dd>");
            }
        } else if (farm_id) {
            kho_buf_printf(out, "<dt>%s</dt><dd>", T("Nơi trồng", "Grown at"));
            E(farm_id);
            kho_buf_puts(out, "</dd>");
        }
        kho_buf_printf(out, "<dt>%s</dt><dd>", T("Ngày thu hoạch", "Harvested on"));
        date_text(out, harvest_day, en);
        kho_buf_puts(out, "</dd>");
        if (h[i].kg > 0) {
            kho_buf_printf(out, "<dt>%s</dt><dd>", T("Sản lượng lô gốc", "Harvested lot"));
            number(out, h[i].kg, 0, en);
            kho_buf_puts(out, " kg</dd>");
        }
        kho_buf_puts(out, "</dl>");
        json_t *certs = json_object_get(farm, "certifications");
        if (json_array_size(certs)) {
            kho_buf_puts(out, "<p>");
            size_t k;
            json_t *c;
            json_array_foreach(certs, k, c) certificate(out, c, harvest_day, en);
            kho_buf_puts(out, "</p>");
        }
        json_decref(farm);
    }
    kho_buf_puts(out, "</section>");
}

static int days_between(const char *a, const char *b)
{
    struct tm ta = {0}, tb = {0};
    if (!a || !b || strlen(a) < 10 || strlen(b) < 10)
        return -1;
    ta.tm_year = (int)strtol(a, NULL, 10) - 1900;
    ta.tm_mon = (int)strtol(a + 5, NULL, 10) - 1;
    ta.tm_mday = (int)strtol(a + 8, NULL, 10);
    tb.tm_year = (int)strtol(b, NULL, 10) - 1900;
    tb.tm_mon = (int)strtol(b + 5, NULL, 10) - 1;
    tb.tm_mday = (int)strtol(b + 8, NULL, 10);
    return (int)((timegm(&tb) - timegm(&ta)) / 86400);
}

static double num(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : 0;
}

/* One input of a harvest (kho:inputs) as a table row. */
static void input_row(kho_buf_t *out, const json_t *in, const char *harvest_date, bool en)
{
    const char *applied = json_string_value(json_object_get(in, "appliedOn"));
    double phi = num(in, "preHarvestIntervalDays");
    int gap = days_between(applied, harvest_date);
    kho_buf_puts(out, "<tr><td>");
    E(json_string_value(json_object_get(in, "name")));
    kho_buf_puts(out, "</td><td>");
    E(json_string_value(json_object_get(in, "activeIngredient")));
    kho_buf_puts(out, "</td><td>");
    if (json_is_number(json_object_get(in, "dosePerHa"))) {
        number(out, num(in, "dosePerHa"), 2, en);
        kho_buf_puts(out, " ");
        E(json_string_value(json_object_get(in, "doseUnit")));
        kho_buf_puts(out, "/ha");
    }
    kho_buf_puts(out, "</td><td>");
    date_text(out, applied, en);
    kho_buf_puts(out, "</td><td>");
    if (gap >= 0 && phi > 0)
        kho_buf_printf(out, "<span class=\"badge %s\">%s (%d/%g %s)</span>", gap >= phi ? "ok" : "bad",
                       gap >= phi ? T("đảm bảo", "respected") : T("chưa đủ", "too short"), gap, phi,
                       T("ngày", "days"));
    kho_buf_puts(out, "</td></tr>");
}

static void esg_section(kho_buf_t *out, const harvest_t *h, size_t nh, bool en)
{
    kho_buf_printf(out, "<section id=\"esg\"><h2>%s</h2>",
                   T("Sản xuất có trách nhiệm (ESG)", "Responsible production (ESG)"));
    double water = 0, energy = 0, nkg = 0, kg = 0;
    bool any = false;
    kho_buf_t rows = KHO_BUF_INIT;
    for (size_t i = 0; i < nh; i++) {
        const json_t *il = h[i].ilmd;
        water += num(il, "kho:waterM3");
        energy += num(il, "kho:energyKWh");
        nkg += num(il, "kho:fertiliserNKg");
        kg += h[i].kg;
        const char *hd = json_string_value(json_object_get(il, "kho:harvestDate"));
        size_t k;
        json_t *in;
        json_array_foreach(json_object_get(il, "kho:inputs"), k, in)
        {
            any = true;
            input_row(&rows, in, hd, en);
        }
    }
    if (any) {
        kho_buf_printf(out,
                       "<div class=\"scroll\"><table><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
                       "<th>%s</th></tr></thead><tbody>",
                       T("Vật tư", "Input"), T("Hoạt chất", "Active ingredient"), T("Liều lượng", "Dose"),
                       T("Ngày dùng", "Applied on"), T("Thời gian cách ly", "Pre-harvest interval"));
        kho_buf_append(out, rows.data, rows.len);
        kho_buf_puts(out, "</tbody></table></div>");
    }
    kho_buf_free(&rows);
    kho_buf_puts(out, "<dl>");
    if (water > 0) {
        kho_buf_printf(out, "<dt>%s</dt><dd>", T("Nước tưới", "Irrigation water"));
        number(out, water, 0, en);
        kho_buf_puts(out, " m³</dd>");
    }
    if (energy > 0) {
        kho_buf_printf(out, "<dt>%s</dt><dd>", T("Điện năng", "Electricity"));
        number(out, energy, 0, en);
        kho_buf_puts(out, " kWh</dd>");
    }
    if (kg > 0 && (energy > 0 || nkg > 0)) {
        double co2 = (energy * 0.68 + nkg * 5.9) / kg;
        kho_buf_printf(out, "<dt>%s</dt><dd>", T("Phát thải ước tính", "Estimated emissions"));
        number(out, co2, 3, en);
        kho_buf_printf(out, " kg CO₂e/kg <span class=\"muted\">(%s)</span></dd>",
                       T("ước tính từ điện năng và phân đạm", "estimated from electricity and nitrogen fertiliser"));
    }
    kho_buf_puts(out, "</dl>");
    if (!any && water <= 0 && energy <= 0)
        kho_buf_printf(out, "<p class=\"muted\">%s</p>",
                       T("Chưa có số liệu đầu vào cho lô này.", "No inputs have been recorded for this lot yet."));
    kho_buf_puts(out, "</section>");
}

/* One event of the timeline; *excursion: whether its temperatures left the limits [lo, hi]. */
static void timeline_item(kho_store_t *s, kho_buf_t *out, const json_t *e, double lo, double hi, bool *excursion,
                          bool en)
{
    json_t *ev = json_object_get(e, "event");
    temps_t t;
    event_temps(ev, &t);
    *excursion = t.alarm || (t.n && (t.hi > hi || t.lo < lo));
    bool altered = !json_is_true(json_object_get(e, "intact"));
    kho_buf_printf(out, "<li%s><div class=\"when\">", *excursion || altered ? " class=\"warn\"" : "");
    when(out, json_string_value(json_object_get(ev, "eventTime")), en);
    kho_buf_puts(out, "</div><div class=\"step\">");
    E(step_text(json_string_value(json_object_get(ev, "bizStep")), json_string_value(json_object_get(ev, "type")),
                en));
    kho_buf_puts(out, "</div>");
    char *place = place_name(s, ev);
    if (place) {
        kho_buf_puts(out, "<div>");
        E(place);
        kho_buf_puts(out, "</div>");
        free(place);
    }
    char *from = party_name(s, json_object_get(ev, "sourceList"), "source");
    char *to = party_name(s, json_object_get(ev, "destinationList"), "destination");
    if (from || to) {
        kho_buf_puts(out, "<div class=\"muted\">");
        if (from) {
            kho_buf_puts(out, T("Từ ", "From "));
            E(from);
        }
        if (to) {
            kho_buf_puts(out, from ? T(" đến ", " to ") : T("Đến ", "To "));
            E(to);
        }
        kho_buf_puts(out, "</div>");
    }
    free(from);
    free(to);
    const char *d = disp_text(json_string_value(json_object_get(ev, "disposition")), en);
    if (d) {
        kho_buf_printf(out, "<div class=\"muted\">%s", T("Trạng thái: ", "Status: "));
        E(d);
        kho_buf_puts(out, "</div>");
    }
    if (t.n) {
        kho_buf_printf(out, "<div><span class=\"badge %s\">%s", *excursion ? "bad" : "ok",
                       T("Nhiệt độ ", "Temperature "));
        number(out, t.lo, 1, en);
        if (t.hi != t.lo) {
            kho_buf_puts(out, "–");
            number(out, t.hi, 1, en);
        }
        kho_buf_puts(out, " °C");
        if (*excursion)
            kho_buf_puts(out, T(" · vượt ngưỡng bảo quản", " · outside the storage limits"));
        kho_buf_puts(out, "</span></div>");
    }
    if (altered)
        kho_buf_printf(out, "<div><span class=\"badge bad\">%s</span></div>",
                       T("Dữ liệu đã bị thay đổi", "Data altered since it was recorded"));
    kho_buf_puts(out, "</li>");
}

int kho_journey_html(kho_store_t *s, const json_t *journey, const char *url, const char *proof_url, const char *lang,
                     kho_buf_t *out, kho_err_t *err)
{
    (void)err;
    bool en = lang && !strcmp(lang, "en");
    const json_t *product = json_object_get(journey, "product");
    const char *pname = json_string_value(json_object_get(product, en ? "name_en" : "name"));
    if (!pname || !pname[0])
        pname = json_string_value(json_object_get(product, "name"));
    const char *category = json_string_value(json_object_get(product, "category"));
    const char *lot = json_string_value(json_object_get(journey, "lot"));
    const char *serial = json_string_value(json_object_get(journey, "serial"));
    const char *gtin = json_string_value(json_object_get(journey, "gtin"));
    json_t *events = json_object_get(journey, "events");
    size_t n = json_array_size(events), intact = 0, covered = 0;

    /* harvests: the events that created a lot with the farm's ilmd */
    harvest_t h[16];
    size_t nh = 0;
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
    {
        json_t *ev = json_object_get(e, "event");
        intact += json_is_true(json_object_get(e, "intact"));
        covered += json_is_true(json_object_get(e, "checkpointed"));
        json_t *il = json_object_get(ev, "ilmd");
        if (nh < 16 && json_object_get(il, "kho:farmId")) {
            double kg = 0;
            size_t k;
            json_t *q;
            json_array_foreach(json_object_get(ev, "outputQuantityList"), k, q) kg += num(q, "quantity");
            json_array_foreach(json_object_get(ev, "quantityList"), k, q) kg += num(q, "quantity");
            h[nh++] = (harvest_t){il, ev, kg};
        }
    }
    const char *product_word = T("Sản phẩm", "Product");
    char title[300];
    snprintf(title, sizeof title, "%s – %s %s", pname ? pname : product_word, T("lô", "lot"),
             lot && lot[0] ? lot : serial);
    head(out, title, en);
    kho_buf_puts(out, "<header><h1>");
    E(pname ? pname : product_word);
    kho_buf_puts(out, "</h1><p>");
    if (lot && lot[0]) {
        kho_buf_puts(out, T("Lô ", "Lot "));
        E(lot);
    } else {
        kho_buf_puts(out, T("Mã sản phẩm ", "Item "));
        E(serial);
    }
    kho_buf_puts(out, " · GTIN ");
    E(gtin);
    kho_buf_printf(out, " · <a class=\"lang\" href=\"?lang=%s\" hreflang=\"%s\" lang=\"%s\">%s</a></p></header><main>",
                   T("en", "vi"), T("en", "vi"), T("en", "vi"), T("English", "Tiếng Việt"));
    if (intact < n) {
        kho_buf_printf(out, "<p class=\"alert\" id=\"canh-bao\"><b>%s</b> ", T("Cảnh báo:", "Warning:"));
        kho_buf_printf(out,
                       T("%zu sự kiện của lô này đã bị thay đổi sau khi ghi nhận (không khớp nhật ký minh bạch). "
                         "Thông tin bên dưới có thể không đúng.",
                         "%zu events of this lot have been altered since they were recorded (they no longer match "
                         "the transparency log). What follows may be wrong."),
                       n - intact);
        kho_buf_puts(out, "</p>");
    }

    origin_section(s, out, h, nh, en);

    /* the timeline */
    double lo, hi;
    limits(category, &lo, &hi);
    kho_buf_printf(out, "<section id=\"hanh-trinh\"><h2>%s</h2><ol class=\"tl\">", T("Hành trình", "Journey"));
    int excursions = 0;
    json_array_foreach(events, i, e)
    {
        bool excursion;
        timeline_item(s, out, e, lo, hi, &excursion, en);
        excursions += excursion;
    }
    kho_buf_puts(out, "</ol>");
    if (excursions)
        kho_buf_printf(out,
                       T("<p class=\"alert\">Chuỗi lạnh: %d lần nhiệt độ ra ngoài ngưỡng bảo quản.</p>",
                         "<p class=\"alert\">Cold chain: the temperature left the storage limits %d times.</p>"),
                       excursions);
    kho_buf_puts(out, "</section>");

    esg_section(out, h, nh, en);

    /* authenticity */
    kho_buf_printf(out, "<section id=\"xac-thuc\"><h2>%s</h2><p>", T("Xác thực", "Authenticity"));
    if (intact == n && covered == n)
        kho_buf_printf(out,
                       T("<span class=\"badge ok\">Toàn vẹn</span> Cả %zu sự kiện đều nằm trong nhật ký minh bạch "
                         "của tỉnh, được niêm phong bằng chữ ký số (điểm kiểm tra gồm %lld mục).",
                         "<span class=\"badge ok\">Intact</span> All %zu events are in the province's transparency "
                         "log, sealed by a digital signature (a checkpoint of %lld entries)."),
                       n, (long long)json_integer_value(json_object_get(journey, "tree_size")));
    else
        kho_buf_printf(out,
                       T("<span class=\"badge bad\">Cần kiểm tra</span> %zu/%zu sự kiện khớp nhật ký minh bạch; "
                         "%zu/%zu đã có chữ ký số.",
                         "<span class=\"badge bad\">Check needed</span> %zu/%zu events match the transparency log; "
                         "%zu/%zu are under a signature."),
                       intact, n, covered, n);
    if (proof_url) {
        kho_buf_puts(out, "</p><p><a href=\"");
        E(proof_url);
        kho_buf_printf(out, "\">%s</a> <span class=\"muted\">(%s)</span></p></section>",
                       T("Tải bằng chứng để tự kiểm tra", "Download the evidence and check it yourself"),
                       T("JSON: sự kiện, đường dẫn Merkle, điểm kiểm tra có chữ ký và khóa công khai",
                         "JSON: the events, Merkle paths, the signed checkpoint and the public key"));
    } else
        kho_buf_printf(out, "</p><p class=\"muted\">%s</p></section>",
                       T("Bằng chứng chi tiết (các sự kiện và chữ ký) chỉ dành cho các bên có quyền tra cứu sổ "
                         "truy xuất nguồn gốc.",
                         "The detailed evidence (the events and signatures) is for parties allowed to query the "
                         "traceability ledger."));
    kho_buf_printf(out, "</main><footer>%s",
                   T("Thông tin do các bên trong chuỗi cung ứng ghi nhận theo chuẩn GS1 EPCIS 2.0. Địa chỉ: ",
                     "Recorded by the parties of the supply chain as GS1 EPCIS 2.0 events. Address: "));
    E(url);
    kho_buf_puts(out, "</footer></body></html>\n");
    return 0;
}

void kho_journey_not_found(const char *why, const char *lang, kho_buf_t *out)
{
    bool en = lang && !strcmp(lang, "en");
    const char *title = T("Không tìm thấy sản phẩm", "Product not found");
    head(out, title, en);
    kho_buf_printf(out, "<header><h1>%s</h1></header><main><section><p>%s</p><p class=\"muted\">%s", title,
                   T("Mã bạn quét chưa có thông tin truy xuất nguồn gốc trên hệ thống của tỉnh. Hãy kiểm tra lại mã "
                     "trên bao bì, hoặc hỏi nơi bán.",
                     "The code you scanned has no traceability record in the province's system yet. Check the code "
                     "on the package, or ask the shop."),
                   T("Chi tiết: ", "Details: "));
    E(why);
    kho_buf_puts(out, "</p></section></main></body></html>\n");
}

int kho_journey_labels(kho_store_t *s, const char *gtin14, const char *lot, const char *url, const char *svg,
                       int count, kho_buf_t *out, kho_err_t *err)
{
    (void)err;
    char *name = lookup_text(s, "SELECT name FROM trace_products WHERE gtin = ?", gtin14);
    kho_buf_puts(out, "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Tem truy xuất – ");
    E(name ? name : gtin14);
    kho_buf_puts(out, "</title><style>@page{size:A4;margin:8mm}body{margin:0;font:9pt sans-serif}"
                      ".sheet{display:grid;grid-template-columns:repeat(3,1fr);gap:3mm}"
                      ".label{border:1px dashed #999;padding:2mm;height:33mm;display:flex;gap:2mm;"
                      "align-items:center;overflow:hidden;break-inside:avoid}.label svg{width:28mm;height:28mm;"
                      "flex:none}.t b{display:block;font-size:9pt}.t span{display:block;font-size:7pt;"
                      "word-break:break-all;color:#333}</style></head><body><div class=\"sheet\">");
    for (int i = 0; i < count; i++) {
        kho_buf_puts(out, "<div class=\"label\">");
        kho_buf_puts(out, svg);
        kho_buf_puts(out, "<div class=\"t\"><b>");
        E(name ? name : "Sản phẩm");
        kho_buf_puts(out, "</b>");
        if (lot && lot[0]) {
            kho_buf_puts(out, "Lô ");
            E(lot);
        }
        kho_buf_puts(out, "<span>Quét để xem nguồn gốc</span><span>");
        E(url);
        kho_buf_puts(out, "</span></div></div>");
    }
    kho_buf_puts(out, "</div></body></html>\n");
    free(name);
    return 0;
}
