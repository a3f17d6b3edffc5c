// dashboard — the leaders' dashboard of socio-economic indicators ("Bảng điều
// hành chỉ số kinh tế – xã hội") for one unit, the province or one of its
// communes, in one period: KPI cards with sparklines; the chosen indicator
// over time with its forecast and 80%/95% bands; the communes ranked (or, for
// periods before the July 2025 reform, the districts as they were then), each
// commune a way down to its own dashboard; the province's targets; two
// communes compared; and the virtual assistant (assistant.js), which answers
// questions about the indicators in Vietnamese.
//
// One request, GET /api/v1/dashboard, draws the whole first view; only what
// the user does fetches more (another ranking, a comparison). The state lives
// in the URL (?unit=&period=&indicator=), so a view can be bookmarked and the
// back button works. Every chart offers its data as CSV (made here from the
// JSON it drew, with a header row) and its picture as PNG. Values converted
// from the units before the reform are marked "quy đổi" (the method as a
// tooltip); synthetic data says so.
import { t, lang } from "./i18n.js";
import { api, ApiError, h, fill, message, errorBox, announce } from "./ui.js";
import * as assistant from "./assistant.js";

const REFORM = 2025; // communes merged and districts abolished in July 2025
const COMMUNE = "commune";
const DISTRICT = "district-before-2025";
const BLUE = "#0b5cad";
const ORANGE = "#b35900";
const PURPLE = "#7b2d8e";
const STATUS = ["on_track", "at_risk", "off_track", "achieved", "missed"];

let root;
let state = readUrl(); // {unit, period, indicator}: what the URL asks for
let data = null; // GET /api/v1/dashboard
let error = null;
let busy = false;
let seq = 0;
let ranking = null; // {level, period, result, busy, error}: result null = data.ranking
let rankSeq = 0;
let cmp = null; // {a, b, result, busy, error}
let cmpSeq = 0;
let els = {};
const charts = new Map(); // key -> {u, area, height}

// ---- formats ---------------------------------------------------------------------------------

const formats = new Map();
function num(v, digits = 2) {
  if (typeof v !== "number" || !Number.isFinite(v)) return "—";
  const loc = lang() === "en" ? "en-GB" : "vi-VN";
  const key = `${loc}/${digits}`;
  if (!formats.has(key)) formats.set(key, new Intl.NumberFormat(loc, { maximumFractionDigits: digits }));
  return formats.get(key).format(v);
}

/** A value with its unit of measure: "19,1%", "3.570.000 người". */
function withUnit(v, uom, digits) {
  const s = num(v, digits);
  if (!uom || s === "—") return s;
  return uom === "%" ? `${s}%` : `${s} ${uom}`;
}

function signedPct(v) {
  if (typeof v !== "number" || !Number.isFinite(v)) return "—";
  return `${v > 0 ? "+" : v < 0 ? "−" : ""}${num(Math.abs(v))}%`;
}

/** How many decimals an indicator's values are shown with (the API says so for its KPIs). */
function decimalsOf(code) {
  const k = data?.kpis?.find((x) => x.indicator === code);
  return typeof k?.decimals === "number" ? k.decimals : 2;
}

const year = (period) => parseInt(String(period).slice(0, 4), 10);
const beforeReform = (period) => year(period) < REFORM;
const byName = (a, b) => String(a.name).localeCompare(String(b.name), "vi");

// ---- the URL ---------------------------------------------------------------------------------

function readUrl() {
  const p = new URLSearchParams(location.search);
  return { unit: p.get("unit") || "", period: p.get("period") || "", indicator: p.get("indicator") || "" };
}

function params(s) {
  const p = new URLSearchParams();
  for (const k of ["unit", "period", "indicator"]) if (s[k]) p.set(k, s[k]);
  return p;
}

function href(s) {
  const q = params(s).toString();
  return q ? `/dashboard?${q}` : "/dashboard";
}

// ---- loading ---------------------------------------------------------------------------------

export async function mount(el) {
  root = el;
  window.addEventListener("popstate", () => {
    state = readUrl();
    load({ focus: true });
  });
  let timer;
  window.addEventListener("resize", () => {
    clearTimeout(timer);
    timer = setTimeout(resizeCharts, 150);
  });
  render();
  await load();
}

/** Show another unit, period or indicator: a new URL (history entry) and one request. */
function go(changes) {
  state = { ...state, ...changes };
  const url = href(state);
  if (url !== location.pathname + location.search) history.pushState(null, "", url);
  load({ focus: true });
}

async function load({ focus = false } = {}) {
  const mine = ++seq;
  busy = true;
  drawBusy();
  let r = null;
  try {
    r = await api(`/api/v1/dashboard?${params(state)}`);
  } catch (e) {
    if (mine !== seq) return;
    error = e;
  }
  if (mine !== seq) return;
  busy = false;
  if (r) {
    data = r;
    error = null;
    state = { unit: r.unit?.code || state.unit, period: r.period || state.period, indicator: r.series?.indicator || r.ranking?.indicator || state.indicator };
    const url = href(state);
    if (url !== location.pathname + location.search) history.replaceState(null, "", url);
    ranking = { level: COMMUNE, period: r.period, result: null, busy: false, error: null };
    const picks = compareChoices();
    cmp = { a: picks[0]?.code || "", b: picks[1]?.code || "", result: null, busy: false, error: null };
  }
  render();
  if (focus) document.getElementById("dash-h")?.focus();
  if (r) announce(r.unit?.name || "");
}

// ---- the page --------------------------------------------------------------------------------

function drawBusy() {
  if (!root) return;
  root.setAttribute("aria-busy", busy ? "true" : "false");
  if (els.status) els.status.textContent = busy ? t("loading") : "";
}

const indicatorInfo = (code) => data?.indicators?.find((i) => i.code === code);

export function render() {
  if (!root) return;
  destroyCharts();
  const title = t("dash.title");
  els = { status: h("p", { class: "status", id: "dash-status", role: "status" }) };
  if (!data) {
    document.title = `${title} — kho`;
    fill(root,
      h("h1", { id: "dash-h", tabindex: "-1" }, title),
      error ? problem(error) : h("p", { class: "loading" }, t("loading")),
      assistant.panel());
    drawBusy();
    return;
  }
  const unit = data.unit || {};
  document.title = `${unit.name} — ${title} — kho`;
  els.ranking = h("div", { class: "ranking-body" });
  els.compare = h("div", { class: "compare-body" });
  fill(root,
    crumbs(),
    h("h1", { id: "dash-h", tabindex: "-1" },
      h("span", { class: "dash-title" }, title),
      h("span", { class: "dash-unit" }, unit.name, data.period ? ` · ${data.period}` : "")),
    h("div", { class: "badges" },
      h("span", { class: "badge" }, t("dash.level." + (unit.level || "province"))),
      data.synthetic ? h("span", { class: "badge synthetic", id: "dash-synthetic" }, t("dash.synthetic")) : null),
    unit.resolved_from ? resolvedNote(unit) : null,
    data.synthetic ? h("p", { class: "hint" }, t("dash.synthetic.note")) : null,
    error ? problem(error) : null,
    els.status,
    controls(),
    kpiSection(),
    assistant.panel(),
    seriesSection(),
    h("section", { id: "ranking", class: "dash-section", "aria-labelledby": "ranking-h" }, els.ranking),
    targetsSection(),
    h("section", { id: "compare", class: "dash-section", "aria-labelledby": "compare-h" }, els.compare));
  drawBusy();
  drawRanking();
  drawCompare();
  drawSparklines();
  drawSeries();
}

/** The unit asked for had a code from before the reform: say which unit it became. */
function resolvedNote(unit) {
  const from = typeof unit.resolved_from === "object" ? unit.resolved_from : { code: String(unit.resolved_from) };
  const others = (from.successors || []).filter((s) => s.code !== unit.code);
  return message("info",
    h("p", { id: "dash-resolved" }, t("dash.resolved", { old: from.name ? `${from.code} (${from.name})` : from.code, name: unit.name, code: unit.code })),
    others.length
      ? h("p", {}, t("dash.resolved.others"), " ", others.map((o, i) => [i ? ", " : "",
        h("a", { href: href({ ...state, unit: o.code }), onclick: (e) => (e.preventDefault(), go({ unit: o.code })) }, o.name)]))
      : null);
}

function problem(e) {
  if (e instanceof ApiError && (e.status === 404 || e.status === 400)) {
    return message("error", h("p", {}, e.message),
      h("p", {}, h("a", { href: "/dashboard", onclick: (ev) => (ev.preventDefault(), go({ unit: "", period: "", indicator: "" })) }, t("dash.back.default"))));
  }
  return errorBox(e, () => load());
}

function crumbs() {
  const unit = data.unit || {};
  const items = [];
  if (data.parent) {
    items.push(h("li", {}, h("a", {
      href: href({ ...state, unit: data.parent.code }), id: "dash-parent",
      onclick: (e) => {
        e.preventDefault();
        go({ unit: data.parent.code });
      },
    }, data.parent.name)));
  }
  items.push(h("li", { "aria-current": "page" }, unit.name));
  return h("nav", { class: "crumbs", "aria-label": t("ds.breadcrumb") }, h("ol", {}, items));
}

function field(id, label, select) {
  return h("div", { class: "field" }, h("label", { for: id }, label), select);
}

function controls() {
  const inds = data.indicators || [];
  const periods = data.periods || [];
  const children = [...(data.children || [])].sort(byName);
  return h("form", { class: "tools dash-controls", onsubmit: (e) => e.preventDefault() },
    field("dash-indicator", t("dash.indicator"),
      h("select", { id: "dash-indicator", onchange: (e) => go({ indicator: e.target.value }) },
        inds.map((i) => h("option", { value: i.code, selected: i.code === state.indicator }, i.name)))),
    field("dash-period", t("dash.period"),
      h("select", { id: "dash-period", onchange: (e) => go({ period: e.target.value }) },
        [...periods].reverse().map((p) => h("option", { value: p, selected: p === data.period }, p)))),
    children.length
      ? field("dash-unit", t("dash.goto"),
        h("select", { id: "dash-unit", onchange: (e) => e.target.value && go({ unit: e.target.value }) },
          h("option", { value: "" }, t("dash.goto.pick")),
          children.map((c) => h("option", { value: c.code }, c.name))))
      : null);
}

/** "quy đổi": a value converted from the units before the reform; the method as a tooltip. */
function convertedMark(method) {
  const tip = method ? t("dash.converted.method", { method }) : t("dash.converted.tip");
  return h("span", { class: "badge converted", title: tip, "data-method": method || "" },
    t("dash.converted"), h("span", { class: "visually-hidden" }, ` (${tip})`));
}

// ---- KPI cards --------------------------------------------------------------------------------

function kpiSection() {
  const kpis = data.kpis || [];
  return h("section", { id: "kpis", class: "dash-section", "aria-labelledby": "kpis-h" },
    h("h2", { id: "kpis-h" }, t("dash.kpis", { period: data.period })),
    kpis.length
      ? h("ul", { class: "kpis" }, kpis.map(kpiCard))
      : h("p", {}, t("dash.kpis.none")));
}

function kpiCard(k) {
  const up = typeof k.change_pct === "number" && k.change_pct > 0;
  const down = typeof k.change_pct === "number" && k.change_pct < 0;
  const d = typeof k.decimals === "number" ? k.decimals : 2;
  // better or worse, when the API says which way is better (a falling poverty rate is good news)
  const judged = typeof k.higher_is_better === "boolean" && (up || down) ? ((up === k.higher_is_better) ? " better" : " worse") : "";
  const selected = k.indicator === state.indicator;
  const series = k.series || [];
  return h("li", { class: `kpi${selected ? " selected" : ""}`, "data-indicator": k.indicator },
    h("h3", {}, h("button", {
      type: "button", class: "link kpi-name", "aria-pressed": String(selected),
      title: t("dash.kpi.show"), onclick: () => selected || go({ indicator: k.indicator }),
    }, k.name)),
    h("p", { class: "kpi-value" },
      h("data", { value: k.value ?? "", class: "value" }, num(k.value, d)),
      k.unit_of_measure ? h("span", { class: "uom" }, k.unit_of_measure === "%" ? "%" : ` ${k.unit_of_measure}`) : null,
      k.converted ? [" ", convertedMark(k.method)] : null),
    h("p", { class: `kpi-change${up ? " up" : down ? " down" : ""}${judged}` },
      h("span", { "aria-hidden": "true" }, up ? "▲ " : down ? "▼ " : ""),
      h("data", { value: k.change_pct ?? "", class: "change" }, signedPct(k.change_pct)),
      " ", h("span", { class: "hint" }, k.previous_period
        ? t("dash.kpi.vs", { period: k.previous_period, v: withUnit(k.previous, k.unit_of_measure, d) })
        : t("dash.kpi.yoy", { v: withUnit(k.previous, k.unit_of_measure, d) }))),
    series.length > 1
      ? h("div", {
        class: "spark", id: `spark-${k.indicator}`, role: "img",
        "aria-label": t("dash.kpi.spark", { name: k.name, from: series[0].period, to: series[series.length - 1].period }),
      })
      : null);
}

function drawSparklines() {
  for (const k of data.kpis || []) {
    const area = document.getElementById(`spark-${k.indicator}`);
    if (!area) continue;
    const pts = k.series || [];
    plotInto(`spark:${k.indicator}`, area, 48, (uPlot) => ({
      opts: {
        scales: { x: { time: false } },
        axes: [{ show: false }, { show: false }],
        legend: { show: false },
        cursor: { show: false },
        select: { show: false },
        padding: [4, 4, 4, 4],
        series: [{}, { stroke: BLUE, width: 1.5, fill: "rgba(11,92,173,0.10)", points: { show: false }, spanGaps: true }],
      },
      data: [pts.map((_, i) => i), pts.map((p) => (typeof p.value === "number" ? p.value : null))],
    }));
  }
}

// ---- the indicator over time, with its forecast ----------------------------------------------

function seriesSection() {
  const s = data.series;
  if (!s) {
    return h("section", { id: "series", class: "dash-section", "aria-labelledby": "series-h" },
      h("h2", { id: "series-h" }, t("dash.series.title", { name: indicatorInfo(state.indicator)?.name || state.indicator })),
      h("p", {}, t("dash.series.none")));
  }
  const fc = s.forecast;
  const title = t("dash.series.title", { name: s.name });
  const hist = s.history || [];
  const points = fc?.points || [];
  const d = decimalsOf(s.indicator);
  return h("section", { id: "series", class: "dash-section", "aria-labelledby": "series-h" },
    h("h2", { id: "series-h" }, title),
    h("p", { class: "hint" }, s.unit_of_measure ? t("dash.uom", { uom: s.unit_of_measure }) : null),
    h("div", { class: "plot dash-plot", id: "ts-chart", role: "img", "aria-label": title }),
    fc
      ? h("p", { class: "forecast-note", id: "ts-note", title: fc.description || null },
        t("dash.forecast.note", { method: methodName(fc.method), mape: num(fc.mape, 2) }), " ",
        h("span", { class: "hint" }, t("dash.forecast.bands")))
      : null,
    exportTools("ts", title, () => seriesCsv(s), fileName("chuoi")),
    h("details", { class: "data-table" },
      h("summary", {}, t("dash.table")),
      h("div", { class: "table-wrap" },
        h("table", { class: "data compact", id: "ts-table" },
          h("thead", {}, h("tr", {},
            h("th", { scope: "col" }, t("dash.col.period")),
            h("th", { scope: "col", class: "num" }, t("dash.col.value")),
            h("th", { scope: "col", class: "num" }, t("dash.col.band80")),
            h("th", { scope: "col", class: "num" }, t("dash.col.band95")),
            h("th", { scope: "col" }, t("dash.col.note")))),
          h("tbody", {},
            hist.map((p) => h("tr", {},
              h("th", { scope: "row" }, p.period),
              h("td", { class: "num" }, num(p.value, d)),
              h("td", {}), h("td", {}),
              h("td", {}, p.converted ? convertedMark(p.method) : null))),
            points.map((p) => h("tr", { class: "forecast" },
              h("th", { scope: "row" }, p.period),
              h("td", { class: "num" }, num(p.value, d)),
              h("td", { class: "num" }, `${num(p.lo80, d)} – ${num(p.hi80, d)}`),
              h("td", { class: "num" }, `${num(p.lo95, d)} – ${num(p.hi95, d)}`),
              h("td", {}, t("dash.forecast")))))))));
}

function methodName(m) {
  const key = `dash.method.${m}`;
  const s = t(key);
  return s === key ? String(m || "") : s;
}

function seriesCsv(s) {
  const rows = [["period", "kind", "value", "lo80", "hi80", "lo95", "hi95", "converted", "method"]];
  for (const p of s.history || []) rows.push([p.period, "history", p.value, "", "", "", "", p.converted ? "true" : "false", p.method || ""]);
  for (const p of s.forecast?.points || []) rows.push([p.period, "forecast", p.value, p.lo80, p.hi80, p.lo95, p.hi95, "", s.forecast.method || ""]);
  return rows;
}

function drawSeries() {
  const s = data.series;
  const area = document.getElementById("ts-chart");
  if (!s || !area) return;
  const hist = s.history || [];
  const points = s.forecast?.points || [];
  const labels = [...hist.map((p) => p.period), ...points.map((p) => p.period)];
  const n = hist.length;
  const d = decimalsOf(s.indicator);
  const last = n ? hist[n - 1].value : null;
  // the forecast and its bands start at the last known value, so the lines join
  const fc = (key) => labels.map((_, i) => (i < n - 1 ? null : i === n - 1 ? (points.length ? last : null) : points[i - n][key] ?? null));
  const cols = [
    labels.map((_, i) => i),
    labels.map((_, i) => (i < n ? hist[i].value ?? null : null)),
    fc("value"),
    labels.map((_, i) => (i < n && hist[i].converted ? hist[i].value ?? null : null)),
    fc("lo80"), fc("hi80"), fc("lo95"), fc("hi95"),
  ];
  // the bands' edges: drawn as no line, left out of the legend; a band names its upper edge first
  const edge = (label) => ({ label, stroke: "rgba(0,0,0,0)", width: 0, points: { show: false } });
  plotInto("ts", area, 320, (uPlot) => ({
    opts: {
      scales: { x: { time: false, range: [-0.3, Math.max(1, labels.length - 0.7)] } },
      axes: [
        { values: (u, splits) => splits.map((i) => (Number.isInteger(i) ? labels[i] ?? "" : "")), space: 40 },
        yAxis(),
      ],
      series: [
        { label: t("dash.col.period"), value: (u, i) => labels[i] ?? "" },
        { label: s.name, stroke: BLUE, width: 2, points: { show: true, size: 6 }, value: (u, v) => num(v, d) },
        { label: t("dash.forecast"), stroke: ORANGE, width: 2, dash: [6, 4], points: { show: true, size: 5 }, value: (u, v) => num(v, d) },
        { label: t("dash.converted.series"), stroke: PURPLE, width: 0, paths: () => null, points: { show: true, size: 9, stroke: PURPLE, fill: "#fff", width: 2 }, value: (u, v) => (v == null ? "" : num(v, d)) },
        edge("lo80"), edge("hi80"), edge("lo95"), edge("hi95"),
      ],
      bands: [
        { series: [5, 4], fill: "rgba(179,89,0,0.26)" },
        { series: [7, 6], fill: "rgba(179,89,0,0.11)" },
      ],
      cursor: { drag: { x: false, y: false } },
    },
    data: cols,
  }), { legendHidden: cols[3].some((v) => v !== null) ? [4, 5, 6, 7] : [3, 4, 5, 6, 7] });
}

function yAxis() {
  return {
    values: (u, splits) => splits.map((v) => num(v)),
    size: (u, values) => (values ? Math.max(40, ...values.map((v) => String(v).length * 7.5 + 16)) : 60),
  };
}

// ---- the ranking ---------------------------------------------------------------------------

/** The ranking in view: the dashboard's (commune level, its period) or one fetched for another. */
function currentRanking() {
  if (ranking.result) return ranking.result;
  return data.ranking || null;
}

function drawRanking() {
  const box = els.ranking;
  if (!box) return;
  destroyChart("rank");
  const info = indicatorInfo(state.indicator);
  const name = data.series?.name || data.ranking?.name || info?.name || state.indicator;
  const r = currentRanking();
  const level = ranking.level;
  const title = t(level === DISTRICT ? "dash.rank.title.district" : "dash.rank.title", { name, period: ranking.period || data.period });
  const periods = (data.periods || []).filter((p) => level === COMMUNE || beforeReform(p));
  const canDistrict = (data.periods || []).some(beforeReform);
  const uom = data.series?.unit_of_measure || info?.unit_of_measure || "";
  if (info?.level === "province") {
    fill(box, h("h2", { id: "ranking-h" }, title), h("p", {}, t("dash.rank.province", { name })));
    return;
  }
  const radio = (value, label, disabled) => h("span", { class: "check" },
    h("input", {
      type: "radio", name: "rank-level", id: `rank-level-${value}`, value, checked: level === value, disabled,
      onchange: () => switchRanking({ level: value }),
    }),
    h("label", { for: `rank-level-${value}` }, label));
  const values = r?.values || [];
  const clickable = (r?.level || level) === COMMUNE;
  const d = decimalsOf(state.indicator);
  fill(box,
    h("h2", { id: "ranking-h" }, title),
    h("div", { class: "tools rank-tools" },
      h("fieldset", { class: "levels" },
        h("legend", {}, t("dash.rank.level")),
        radio(COMMUNE, t("dash.rank.level.commune")),
        radio(DISTRICT, t("dash.rank.level.district"), !canDistrict)),
      field("rank-period", t("dash.period"),
        h("select", { id: "rank-period", onchange: (e) => switchRanking({ period: e.target.value }) },
          [...periods].reverse().map((p) => h("option", { value: p, selected: p === ranking.period }, p))))),
    level === DISTRICT ? h("p", { class: "hint" }, t("dash.rank.district.note")) : null,
    ranking.busy ? h("p", { class: "status busy" }, t("loading")) : null,
    ranking.error ? errorBox(ranking.error, () => switchRanking({})) : null,
    !values.length && !ranking.busy && !ranking.error ? h("p", {}, t("dash.rank.none")) : null,
    values.length
      ? [
        h("div", { class: "rank-grid" },
          h("div", { class: "table-wrap rank-table-wrap", tabindex: "0", role: "region", "aria-labelledby": "ranking-h" },
            h("table", { class: "data compact", id: "rank-table" },
              h("thead", {}, h("tr", {},
                h("th", { scope: "col", class: "num" }, t("dash.col.rank")),
                h("th", { scope: "col" }, t(level === DISTRICT ? "dash.col.district" : "dash.col.unit")),
                h("th", { scope: "col", class: "num" }, uom ? t("dash.col.value.uom", { uom }) : t("dash.col.value")))),
              h("tbody", { onclick: clickable ? rankRowClick : null },
                values.map((v) => h("tr", {
                  "data-unit": v.unit,
                  class: `${clickable ? "clickable" : ""}${v.unit === data.unit?.code ? " here" : ""}`,
                  "aria-current": v.unit === data.unit?.code ? "true" : null,
                },
                h("td", { class: "num" }, num(v.rank, 0)),
                h("td", {}, clickable
                  ? h("a", { href: href({ ...state, unit: v.unit }), "data-unit": v.unit, title: t("dash.rank.drill", { name: v.unit_name }) }, v.unit_name)
                  : v.unit_name),
                h("td", { class: "num" }, h("data", { value: v.value ?? "" }, num(v.value, d)), v.converted ? [" ", convertedMark(v.method)] : null)))))),
          h("div", { class: "rank-chart-box" },
            h("div", { class: "plot dash-plot", id: "rank-chart", role: "img", "aria-label": title }),
            clickable ? h("p", { class: "hint" }, t("dash.rank.chart.hint")) : null)),
        exportTools("rank", title, () => rankCsv(values), fileName(level === DISTRICT ? "xep-hang-huyen-cu" : "xep-hang")),
      ]
      : null);
  if (values.length) drawRankChart(values, clickable);
}

function rankRowClick(e) {
  const tr = e.target.closest("tr[data-unit]");
  if (!tr) return;
  if (e.target.closest("a") && (e.ctrlKey || e.metaKey || e.shiftKey || e.button === 1)) return; // a new tab: the link's own way
  e.preventDefault();
  drill(tr.dataset.unit);
}

function drill(code) {
  if (!code || code === data.unit?.code) return;
  go({ unit: code });
}

function rankCsv(values) {
  return [["rank", "unit", "unit_name", "value", "converted", "method"],
    ...values.map((v) => [v.rank, v.unit, v.unit_name, v.value, v.converted ? "true" : "false", v.method || ""])];
}

function drawRankChart(values, clickable) {
  const area = document.getElementById("rank-chart");
  if (!area) return;
  const here = data.unit?.code;
  const ys = values.map((v) => (typeof v.value === "number" ? v.value : null));
  const mine = values.map((v, i) => (v.unit === here ? ys[i] : null));
  const hasHere = mine.some((v) => v !== null);
  const d = decimalsOf(state.indicator);
  plotInto("rank", area, 320, (uPlot) => ({
    opts: {
      scales: {
        x: { time: false, range: [-0.6, values.length - 0.4] },
        y: { range: (u, min, max) => uPlot.rangeNum(Math.min(0, min ?? 0), Math.max(0, max ?? 0), 0.1, true) },
      },
      axes: [
        {
          label: t("dash.col.rank"), space: 30, incrs: [1, 2, 5, 10, 20, 50, 100],
          // ranks 1, 5, 10, 15 … (bar i is rank i + 1)
          splits: (u, ax, min, max, incr) => {
            const out = [0];
            for (let i = incr - 1; i < values.length; i += incr) if (i > 0) out.push(i);
            return out;
          },
          values: (u, splits) => splits.map((i) => String(i + 1)),
        },
        yAxis(),
      ],
      series: [
        { label: t("dash.col.unit"), value: (u, i) => values[i]?.unit_name ?? "" },
        { label: data.series?.name || t("dash.col.value"), stroke: BLUE, fill: "rgba(11,92,173,0.7)", width: 1, paths: uPlot.paths.bars({ size: [0.8, 40] }), points: { show: false }, value: (u, v) => num(v, d) },
        hasHere ? { label: data.unit.name, stroke: ORANGE, fill: ORANGE, width: 1, paths: uPlot.paths.bars({ size: [0.8, 40] }), points: { show: false }, value: (u, v) => (v == null ? "" : num(v, d)) } : null,
      ].filter(Boolean),
      cursor: { drag: { x: false, y: false }, points: { show: false } },
    },
    data: hasHere ? [values.map((_, i) => i), ys, mine] : [values.map((_, i) => i), ys],
  })).then((u) => {
    if (!u || !clickable) return;
    u.over.classList.add("clickable");
    u.over.addEventListener("click", () => {
      const i = u.cursor.idx;
      if (i !== null && i !== undefined && values[i]) drill(values[i].unit);
    });
  });
}

async function switchRanking(changes) {
  const next = { level: ranking.level, period: ranking.period, ...changes };
  if (next.level === DISTRICT && !beforeReform(next.period)) {
    next.period = [...(data.periods || [])].filter(beforeReform).pop() || next.period;
  }
  ranking = { ...ranking, ...next, error: null };
  const code = state.indicator;
  if (next.level === COMMUNE && next.period === data.period && data.ranking) {
    ranking.result = null;
    ranking.busy = false;
    drawRanking();
    return;
  }
  const mine = ++rankSeq;
  ranking.busy = true;
  drawRanking();
  try {
    const p = new URLSearchParams({ period: next.period, level: next.level, rank: "desc", limit: "200" });
    const r = await api(`/api/v1/indicators/${encodeURIComponent(code)}/values?${p}`);
    if (mine !== rankSeq) return;
    const values = (r.values || []).map((v, i) => ({ ...v, rank: v.rank ?? i + 1 }));
    ranking.result = { indicator: r.indicator || code, name: r.name, period: next.period, level: next.level, values };
  } catch (e) {
    if (mine !== rankSeq) return;
    ranking.error = e;
    ranking.result = { indicator: code, period: next.period, level: next.level, values: [] };
  }
  ranking.busy = false;
  drawRanking();
  announce(document.getElementById("ranking-h")?.textContent || "");
}

// ---- targets -------------------------------------------------------------------------------

function targetsSection() {
  const list = data.targets || [];
  return h("section", { id: "targets", class: "dash-section", "aria-labelledby": "targets-h" },
    h("h2", { id: "targets-h" }, t("dash.targets")),
    list.length ? h("ul", { class: "targets" }, list.map(targetCard)) : h("p", {}, t("dash.targets.none")));
}

function targetCard(g) {
  const status = STATUS.includes(g.status) ? g.status : "unknown";
  const pct = typeof g.progress === "number" && Number.isFinite(g.progress) ? g.progress : null;
  const width = pct === null ? 0 : Math.max(0, Math.min(1, pct)) * 100;
  const bar = h("div", { class: "bar-fill" });
  bar.style.width = `${width}%`; // CSSOM, not an inline style attribute: the CSP allows it
  const sign = g.direction === "decrease" ? "≤ " : g.direction === "increase" ? "≥ " : "";
  const fc = g.forecast;
  const d = decimalsOf(g.indicator);
  return h("li", { class: `target target-${status}`, "data-indicator": g.indicator, "data-status": status },
    h("div", { class: "target-head" },
      h("h3", {}, g.name || g.indicator),
      h("span", { class: `badge status status-${status}` }, t("dash.status." + status))),
    g.note && g.note !== g.name ? h("p", { class: "hint target-note" }, g.note) : null,
    h("p", { class: "target-goal" }, t("dash.target.goal", { period: g.period, v: sign + withUnit(g.target, g.unit_of_measure, d) })),
    h("div", {
      class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": pct === null ? null : String(Math.round(pct * 100)),
      "aria-label": t("dash.target.progress", { name: g.name || g.indicator }),
    }, bar),
    h("p", { class: "target-facts" },
      h("span", {}, t("dash.target.done", { pct: pct === null ? "—" : `${num(pct * 100, 0)}%` })),
      g.latest ? h("span", {}, t("dash.target.latest", { period: g.latest.period, v: withUnit(g.latest.value, g.unit_of_measure, d) })) : null,
      g.baseline ? h("span", {}, t("dash.target.baseline", { period: g.baseline.period, v: withUnit(g.baseline.value, g.unit_of_measure, d) })) : null,
      fc && typeof fc.value === "number"
        ? h("span", {}, t("dash.target.forecast", { period: fc.period || g.period, v: withUnit(fc.value, g.unit_of_measure, d) }),
          typeof fc.lo80 === "number" ? ` (${t("dash.target.band", { lo: num(fc.lo80, d), hi: num(fc.hi80, d) })})` : "")
        : null));
}

// ---- compare two communes ----------------------------------------------------------------------

/** The communes one may compare: the province's, or the siblings in the ranking. */
function compareChoices() {
  if (data?.children?.length) return [...data.children].sort(byName);
  const vals = data?.ranking?.level === COMMUNE || !data?.ranking?.level ? data?.ranking?.values || [] : [];
  return vals.map((v) => ({ code: v.unit, name: v.unit_name })).sort(byName);
}

function drawCompare() {
  const box = els.compare;
  if (!box) return;
  destroyChart("cmp");
  const choices = compareChoices();
  const info = indicatorInfo(state.indicator);
  const name = data.series?.name || info?.name || state.indicator;
  if (!choices.length || info?.level === "province") {
    fill(box, h("h2", { id: "compare-h" }, t("dash.cmp")),
      h("p", {}, info?.level === "province" ? t("dash.rank.province", { name }) : t("dash.cmp.none")));
    return;
  }
  const pick = (id, label, key) => field(id, label,
    h("select", { id, onchange: (e) => (cmp[key] = e.target.value) },
      choices.map((c) => h("option", { value: c.code, selected: c.code === cmp[key] }, c.name))));
  const r = cmp.result;
  fill(box,
    h("h2", { id: "compare-h" }, t("dash.cmp")),
    h("form", {
      class: "tools cmp-tools",
      onsubmit: (e) => {
        e.preventDefault();
        runCompare();
      },
    },
    pick("cmp-a", t("dash.cmp.a"), "a"),
    pick("cmp-b", t("dash.cmp.b"), "b"),
    h("div", { class: "field" }, h("button", { type: "submit", class: "primary", id: "cmp-run", disabled: cmp.busy }, cmp.busy ? t("loading") : t("dash.cmp.run")))),
    cmp.error ? errorBox(cmp.error, runCompare) : null,
    r
      ? [
        h("h3", { id: "cmp-chart-h" }, t("dash.cmp.chart", { name: r.name || name, a: r.names[0], b: r.names[1] })),
        h("div", { class: "plot dash-plot", id: "cmp-chart", role: "img", "aria-labelledby": "cmp-chart-h" }),
        exportTools("cmp", t("dash.cmp.chart", { name: r.name || name, a: r.names[0], b: r.names[1] }), () => compareCsv(r), fileName(`so-sanh-${r.units[0]}-${r.units[1]}`)),
        h("details", { class: "data-table" },
          h("summary", {}, t("dash.table")),
          h("div", { class: "table-wrap" },
            h("table", { class: "data compact", id: "cmp-table" },
              h("thead", {}, h("tr", {},
                h("th", { scope: "col" }, t("dash.col.period")),
                r.names.map((n) => h("th", { scope: "col", class: "num" }, n)))),
              h("tbody", {}, r.periods.map((p, i) => h("tr", {},
                h("th", { scope: "row" }, p),
                r.units.map((u, j) => {
                  const v = r.cells[j][i];
                  return h("td", { class: "num" }, num(v?.value, decimalsOf(r.indicator || state.indicator)), v?.converted ? [" ", convertedMark(v.method)] : null);
                }))))))),
      ]
      : h("p", { class: "hint" }, t("dash.cmp.hint")));
  if (r) drawCompareChart(r);
}

async function runCompare() {
  if (!cmp.a || !cmp.b) return;
  const mine = ++cmpSeq;
  const units = [cmp.a, cmp.b];
  cmp.busy = true;
  cmp.error = null;
  drawCompare();
  try {
    const periods = data.periods || [];
    const p = new URLSearchParams({ unit: [...new Set(units)].join(",") });
    if (periods.length) {
      p.set("from", periods[0]);
      p.set("to", periods[periods.length - 1]);
    }
    const r = await api(`/api/v1/indicators/${encodeURIComponent(state.indicator)}/values?${p}`);
    if (mine !== cmpSeq) return;
    cmp.result = shapeCompare(r, units);
  } catch (e) {
    if (mine !== cmpSeq) return;
    cmp.error = e;
  }
  cmp.busy = false;
  drawCompare();
  if (cmp.result) announce(document.getElementById("cmp-chart-h")?.textContent || "");
}

/** The values response as one column of cells per unit over the periods of either. */
function shapeCompare(r, units) {
  const values = r.values || [];
  const periods = [...new Set(values.map((v) => String(v.period)))].sort();
  const choices = new Map(compareChoices().map((c) => [c.code, c.name]));
  const names = units.map((u) => values.find((v) => v.unit === u)?.unit_name || choices.get(u) || u);
  const cells = units.map((u) => periods.map((p) => values.find((v) => v.unit === u && String(v.period) === p) || null));
  return { name: r.name, uom: r.unit_of_measure, indicator: r.indicator, units, names, periods, cells, values };
}

function compareCsv(r) {
  const rows = [["unit", "unit_name", "period", "value", "converted", "method"]];
  r.units.forEach((u, j) => r.periods.forEach((p, i) => {
    const v = r.cells[j][i];
    if (v) rows.push([u, r.names[j], p, v.value, v.converted ? "true" : "false", v.method || ""]);
  }));
  return rows;
}

function drawCompareChart(r) {
  const area = document.getElementById("cmp-chart");
  if (!area) return;
  const colours = [BLUE, ORANGE];
  const d = decimalsOf(r.indicator || state.indicator);
  plotInto("cmp", area, 300, () => ({
    opts: {
      scales: { x: { time: false, range: [-0.3, Math.max(1, r.periods.length - 0.7)] } },
      axes: [
        { values: (u, splits) => splits.map((i) => (Number.isInteger(i) ? r.periods[i] ?? "" : "")), space: 40 },
        yAxis(),
      ],
      series: [
        { label: t("dash.col.period"), value: (u, i) => r.periods[i] ?? "" },
        ...r.units.map((u, j) => ({
          label: r.names[j], stroke: colours[j], width: 2, dash: j ? [8, 4] : undefined, spanGaps: true,
          points: { show: true, size: 6 }, value: (uu, v) => num(v, d),
        })),
      ],
      cursor: { drag: { x: false, y: false } },
    },
    data: [r.periods.map((_, i) => i), ...r.cells.map((col) => col.map((v) => (typeof v?.value === "number" ? v.value : null)))],
  }));
}

// ---- charts: drawing, CSV and PNG ------------------------------------------------------------

let loading = null;
function loadPlot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  loading ??= new Promise((resolve, reject) => {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = new URL("./uplot.min.css", import.meta.url).href;
    document.head.append(css);
    const s = document.createElement("script");
    s.src = new URL("./uplot.min.js", import.meta.url).href;
    s.onload = () => (window.uPlot ? resolve(window.uPlot) : reject(new Error("uPlot did not load")));
    s.onerror = () => reject(new Error("uPlot could not be loaded"));
    document.head.append(s);
  }).catch((e) => {
    loading = null;
    throw e;
  });
  return loading;
}

/**
 * Draw a uPlot chart into area under key (replacing the one drawn there
 * before); make(uPlot) gives its options (without size) and data. Resolves to
 * the chart, or null when the area has gone or the library did not load.
 */
async function plotInto(key, area, height, make, { legendHidden = [] } = {}) {
  let uPlot;
  try {
    uPlot = await loadPlot();
  } catch {
    if (area.isConnected) fill(area, message("info", h("p", {}, t("dash.chart.failed"))));
    return null;
  }
  if (!area.isConnected) return null;
  destroyChart(key);
  const { opts, data: cols } = make(uPlot);
  area.replaceChildren();
  const u = new uPlot({ ...opts, width: chartWidth(area), height }, cols, area);
  const rows = u.root.querySelectorAll(".u-legend .u-series");
  for (const i of legendHidden) rows[i]?.classList.add("legend-hidden");
  area.dataset.series = String(opts.series.length - 1 - legendHidden.length);
  charts.set(key, { u, area, height });
  return u;
}

const chartWidth = (area) => Math.max(160, Math.floor(area.clientWidth || area.parentElement?.clientWidth || 600));

function destroyChart(key) {
  const c = charts.get(key);
  if (!c) return;
  c.u.destroy();
  charts.delete(key);
}

function destroyCharts() {
  for (const key of [...charts.keys()]) destroyChart(key);
}

function resizeCharts() {
  for (const [key, c] of charts) {
    if (!c.area.isConnected) {
      destroyChart(key);
      continue;
    }
    const w = chartWidth(c.area);
    if (w !== c.u.width) c.u.setSize({ width: w, height: c.height });
  }
}

function fileName(kind) {
  return `kho-${state.indicator || "chi-so"}-${data?.unit?.code || "don-vi"}-${ranking?.period && kind.startsWith("xep-hang") ? ranking.period : data?.period || ""}-${kind}`
    .replace(/[^A-Za-z0-9_.-]+/g, "-");
}

function exportTools(key, title, rows, name) {
  return h("div", { class: "buttons chart-tools" },
    h("button", {
      type: "button", "data-export": "csv", "data-chart": key, "aria-label": `${t("dash.csv")} — ${title}`,
      onclick: () => saveBlob(new Blob([csvText(rows())], { type: "text/csv;charset=utf-8" }), `${name}.csv`),
    }, t("dash.csv")),
    h("button", {
      type: "button", "data-export": "png", "data-chart": key, "aria-label": `${t("dash.png")} — ${title}`,
      onclick: () => savePng(key, title, `${name}.png`),
    }, t("dash.png")));
}

/** RFC 4180 CSV with a byte-order mark (so that spreadsheet programs read UTF-8). */
function csvText(rows) {
  const cell = (v) => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `\uFEFF${rows.map((r) => r.map(cell).join(",")).join("\r\n")}\r\n`;
}

function saveBlob(blob, name) {
  const a = h("a", { href: URL.createObjectURL(blob), download: name, hidden: true });
  document.body.append(a);
  a.click();
  setTimeout(() => (URL.revokeObjectURL(a.href), a.remove()), 1000);
  announce(t("dash.saved", { name }));
}

/** The chart's canvas on white, under its title, above a legend of its series. */
function savePng(key, title, name) {
  const c = charts.get(key);
  if (!c) return;
  const src = c.u.ctx.canvas;
  const r = src.width / (c.u.width || src.clientWidth || src.width) || 1;
  const shown = c.u.series.slice(1).filter((s, i) => s.show !== false && !c.u.root.querySelectorAll(".u-legend .u-series")[i + 1]?.classList.contains("legend-hidden"));
  const pad = 12 * r, titleH = 34 * r, legendH = shown.length ? 26 * r : 0;
  const out = document.createElement("canvas");
  out.width = src.width + 2 * pad;
  out.height = src.height + titleH + legendH + 2 * pad;
  const g = out.getContext("2d");
  g.fillStyle = "#fff";
  g.fillRect(0, 0, out.width, out.height);
  g.fillStyle = "#1b1f24";
  g.textBaseline = "middle";
  g.font = `600 ${15 * r}px system-ui, sans-serif`;
  const full = data?.synthetic ? `${title} (${t("dash.synthetic")})` : title;
  g.fillText(full, pad, pad + titleH / 2, out.width - 2 * pad);
  g.drawImage(src, pad, pad + titleH);
  let x = pad;
  const y = pad + titleH + src.height + legendH / 2;
  g.font = `${13 * r}px system-ui, sans-serif`;
  for (const s of shown) {
    const colour = typeof s._stroke === "string" && s._stroke !== "rgba(0,0,0,0)" ? s._stroke : typeof s.stroke === "function" ? s.stroke(c.u, 1) : s.stroke;
    g.fillStyle = typeof colour === "string" ? colour : BLUE;
    g.fillRect(x, y - 6 * r, 12 * r, 12 * r);
    g.fillStyle = "#1b1f24";
    const label = String(s.label ?? "");
    g.fillText(label, x + 16 * r, y);
    x += 16 * r + g.measureText(label).width + 18 * r;
  }
  out.toBlob((blob) => blob && saveBlob(blob, name), "image/png");
}
