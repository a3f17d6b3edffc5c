// assistant — the "Trợ lý ảo" panel of the leaders' dashboard: a question in
// Vietnamese, GET /api/v1/ask?q=… (docs/assistant.md), and the answer as the
// server wrote it: the sentence, a small chart of its `chart` (line: series
// over periods; bar: units at one period), the target status or the hints,
// the notes and the sources; follow-up questions, the candidates of a
// clarifying question and the examples of a help answer are buttons that ask
// their question. The conversation of this tab is kept in sessionStorage and
// drawn again after a reload.
//
// The panel is one element that lives across the dashboard's re-renders (the
// dashboard puts panel() where it wants it on every render): what is typed, the
// conversation and its charts stay; a language switch rebuilds it. It makes no
// request until a question is asked. Every text from the question or the answer
// goes in as text (ui.js h()/textContent), never as HTML. Answers are in
// Vietnamese whatever the page's language: the parser reads Vietnamese.
import { t, lang } from "./i18n.js";
import { api, h, fill } from "./ui.js";

const KEY = "kho.assistant"; // sessionStorage: [{q, a} | {q, error}]
const MAX_TURNS = 20; // the oldest go first
const MAX_LEN = 500; // characters, as the API allows
const HEIGHT = 200; // of a chart, in CSS pixels
const COLOURS = ["#0b5cad", "#b35900", "#7b2d8e", "#1e6b35", "#a4161a"];
const STATUS = ["on_track", "at_risk", "off_track", "achieved", "missed"];

const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

let root = null; // the <section>, once built
let builtLang = null;
let turns = restore();
let busy = false;
let els = {};
const charts = new Map(); // chart area element -> uPlot

// ---- the conversation, kept for this tab ------------------------------------------------------

function restore() {
  try {
    const v = JSON.parse(sessionStorage.getItem(KEY) || "[]");
    return Array.isArray(v) ? v.filter((x) => x && typeof x.q === "string" && (isObj(x.a) || isObj(x.error))).slice(-MAX_TURNS) : [];
  } catch {
    return [];
  }
}

function save() {
  // the rows behind an answer (`data`) are not drawn: not kept either
  let list = turns.filter((x) => !x.pending).map((x) => (x.a ? { q: x.q, a: { ...x.a, data: undefined } } : { q: x.q, error: x.error }));
  for (;;) {
    try {
      if (list.length) sessionStorage.setItem(KEY, JSON.stringify(list));
      else sessionStorage.removeItem(KEY);
      return;
    } catch {
      if (!list.length) return; // no storage: the conversation lasts as long as the page
      list = list.slice(Math.ceil(list.length / 2)); // over the quota: keep the newer half
    }
  }
}

// ---- the panel ---------------------------------------------------------------------------------

/** The panel, for the dashboard to place; the same element every time (rebuilt after a language switch). */
export function panel() {
  if (!root || builtLang !== lang()) {
    build();
  } else if (root.isConnected) {
    // the dashboard is about to take the panel out and put it back, which loses its scrolling
    const sc = els.scroller;
    const top = sc.scrollTop;
    const bottom = top + sc.clientHeight >= sc.scrollHeight - 2;
    queueMicrotask(() => {
      sc.scrollTop = bottom ? sc.scrollHeight : top;
    });
  }
  return root;
}

function build() {
  const typed = els.input?.value || "";
  destroyCharts();
  builtLang = lang();
  els = {};
  els.input = h("input", {
    type: "text", id: "asst-q", name: "q", maxlength: String(MAX_LEN), autocomplete: "off", spellcheck: "false",
    enterkeyhint: "send", placeholder: t("asst.placeholder"), "aria-describedby": "asst-hint",
    value: typed,
  });
  els.ask = h("button", { type: "submit", class: "primary", id: "asst-ask", disabled: busy }, t("asst.ask"));
  els.form = h("form", {
    class: "asst-form", id: "asst-form", "aria-labelledby": "asst-h",
    onsubmit: (e) => {
      e.preventDefault();
      ask(els.input.value, { fromInput: true });
    },
  },
  h("label", { for: "asst-q" }, t("asst.label")),
  h("div", { class: "asst-row" }, els.input, els.ask),
  h("p", { class: "hint", id: "asst-hint" }, t("asst.hint")));
  els.log = h("ol", { class: "asst-log", id: "asst-log" });
  els.scroller = h("div", { class: "asst-scroll", role: "region", tabindex: "0", "aria-label": t("asst.log") }, els.log);
  els.empty = h("div", { class: "asst-empty", id: "asst-empty" },
    h("p", { class: "hint" }, t("asst.try")),
    buttons(["asst.starter.1", "asst.starter.2", "asst.starter.3", "asst.starter.4"].map((k) => ({ label: t(k), question: t(k) })), "asst-starter"));
  els.live = h("p", { class: "visually-hidden", id: "asst-live", "aria-live": "polite", "aria-atomic": "true" });
  els.clear = h("button", { type: "button", class: "link", id: "asst-clear", onclick: clearAll }, t("asst.clear"));
  els.inline = h("p", { class: "form-error", id: "asst-inline", hidden: true });
  const section = h("section", { id: "assistant", class: "dash-section assistant", "aria-labelledby": "asst-h" },
    h("div", { class: "asst-head" }, h("h2", { id: "asst-h" }, t("asst.title")), els.clear),
    h("p", { class: "hint" }, t("asst.lead")),
    els.empty, els.scroller, els.form, els.inline, els.live);
  if (root) root.replaceWith(section);
  root = section;
  for (const turn of turns) els.log.append(turnEl(turn));
  showEmpty();
  // the charts once the dashboard has put the panel in the page
  setTimeout(() => {
    for (const li of els.log.children) drawTurnChart(li);
    scrollDown();
  }, 0);
}

function showEmpty() {
  els.empty.hidden = turns.length > 0;
  els.scroller.hidden = turns.length === 0;
  els.clear.hidden = turns.length === 0;
}

function scrollDown() {
  if (els.scroller) els.scroller.scrollTop = els.scroller.scrollHeight;
}

function say(text) {
  if (!els.live) return;
  els.live.textContent = "";
  setTimeout(() => (els.live.textContent = text), 30);
}

function setBusy() {
  if (els.ask) els.ask.disabled = busy;
  els.scroller?.setAttribute("aria-busy", busy ? "true" : "false");
}

// ---- asking ----------------------------------------------------------------------------------

async function ask(text, { fromInput = false } = {}) {
  const q = String(text ?? "").trim();
  els.inline.hidden = true;
  if (!q) {
    els.inline.textContent = t("asst.empty");
    els.inline.hidden = false;
    say(t("asst.empty"));
    els.input.focus();
    return;
  }
  if (busy) return;
  if ([...q].length > MAX_LEN) {
    els.inline.textContent = t("asst.err.question_too_long");
    els.inline.hidden = false;
    say(t("asst.err.question_too_long"));
    return;
  }
  busy = true;
  setBusy();
  const turn = { q, pending: true };
  turns.push(turn);
  while (turns.length > MAX_TURNS) {
    turns.shift();
    const old = els.log.firstElementChild;
    if (old) forget(old);
  }
  els.log.append(turnEl(turn));
  showEmpty();
  scrollDown();
  if (fromInput) els.input.value = "";
  say(t("asst.asking"));
  try {
    turn.a = await api(`/api/v1/ask?${new URLSearchParams({ q })}`);
    if (!isObj(turn.a)) throw new Error(t("asst.err.shape"));
  } catch (e) {
    delete turn.a;
    turn.error = { status: typeof e.status === "number" ? e.status : -1, code: e.code || "", message: e.message || String(e) };
  }
  delete turn.pending;
  busy = false;
  setBusy();
  save();
  // the panel may have been rebuilt (a language switch) while the answer came
  const now = turnEl(turn);
  const at = [...els.log.children].find((x) => x._turn === turn);
  if (at) {
    at.replaceWith(now); // a pending turn has no chart
  } else if (turns.includes(turn)) {
    els.log.append(now);
  }
  drawTurnChart(now);
  scrollDown();
  say(turn.a ? answerText(turn.a) : errorText(turn.error));
  if (fromInput && turn.error && !els.input.value) els.input.value = q; // to correct it
}

function clearAll() {
  turns = turns.filter((x) => x.pending); // an answer on its way still comes
  for (const li of [...els.log.children]) if (!li._turn?.pending) forget(li);
  save();
  showEmpty();
  say(t("asst.cleared"));
  els.input.focus();
}

function forget(li) {
  for (const area of li.querySelectorAll(".asst-chart")) destroyChart(area);
  li.remove();
}

// ---- one question and its answer --------------------------------------------------------------

const answerText = (a) => (typeof a.answer === "string" && a.answer ? a.answer : t("asst.noanswer"));

function errorText(err) {
  const s = err?.status;
  if (s === 0) return t("error.network");
  if (s === 404) return t("asst.err.unavailable");
  if (s === 429) return t("asst.err.busy");
  if (s === 400 && (err.code === "empty_question" || err.code === "question_too_long")) return t(`asst.err.${err.code}`);
  if (s === 400) return t("asst.err.bad", { msg: err.message || err.code });
  return t("asst.err.generic", { msg: err?.message || "" });
}

function turnEl(turn) {
  const a = turn.a;
  const state = turn.pending ? "busy" : a ? "done" : "error";
  const li = h("li", { class: `asst-turn asst-turn-${state}`, "data-state": state, "data-intent": a && typeof a.intent === "string" ? a.intent : null },
    h("p", { class: "asst-q" }, h("span", { class: "visually-hidden" }, t("asst.you")), turn.q));
  li._turn = turn;
  if (turn.pending) {
    li.append(h("p", { class: "asst-a status busy" }, t("asst.asking")));
  } else if (!a) {
    const s = turn.error?.status;
    const retry = s === 0 || s === 429 || s >= 500 || s === -1;
    li.append(h("div", { class: "msg msg-error asst-error" },
      h("p", {}, errorText(turn.error)),
      retry ? h("button", { type: "button", class: "asst-retry", onclick: () => ask(turn.q) }, t("retry")) : null));
  } else {
    li.append(answerEl(a));
  }
  return li;
}

function answerEl(a) {
  const box = h("div", { class: "asst-a" });
  const status = STATUS.includes(a.status) ? a.status : null;
  box.append(h("p", { class: "asst-answer" },
    h("span", { class: "visually-hidden" }, t("asst.reply")),
    answerText(a),
    status ? [" ", h("span", { class: `badge status status-${status}` }, t(`dash.status.${status}`))] : null,
    a.engine === "llm" ? [" ", h("span", { class: "badge asst-llm", title: t("asst.llm.tip") }, t("asst.llm"))] : null));
  const hints = Array.isArray(a.hints) ? a.hints.filter((x) => isObj(x) && x.text) : [];
  if (hints.length) {
    box.append(h("p", { class: "asst-label" }, t("asst.hints")),
      h("ul", { class: "asst-hints" }, hints.map((x) => h("li", { "data-kind": typeof x.kind === "string" ? x.kind : null }, String(x.text)))));
  }
  const chart = usableChart(a.chart);
  if (chart) {
    const title = t("asst.chart.label", { name: a.indicator?.name || t("asst.chart.data"), from: chart.x[0], to: chart.x[chart.x.length - 1] });
    const area = h("div", { class: "asst-chart", role: "img", "aria-label": title });
    area._chart = { chart, uom: a.indicator?.unit_of_measure || "" };
    box.append(area, chartTable(chart, a.indicator?.unit_of_measure));
  }
  const notes = Array.isArray(a.notes) ? a.notes.filter((n) => typeof n === "string" && n) : [];
  if (notes.length) box.append(h("ul", { class: "asst-notes hint" }, notes.map((n) => h("li", {}, n))));
  const sources = Array.isArray(a.sources) ? a.sources.filter((s) => isObj(s) && typeof s.dataset === "string") : [];
  if (sources.length) {
    box.append(h("p", { class: "asst-sources hint" }, t("asst.sources"), " ",
      sources.map((s, i) => [i ? ", " : "",
        h("a", { href: `/datasets/${encodeURIComponent(s.dataset)}` },
          s.version != null ? t("asst.source.version", { dataset: s.dataset, version: s.version }) : s.dataset)])));
  }
  const pick = (list) => (Array.isArray(list) ? list : [])
    .map((x) => (typeof x === "string" ? { label: x, question: x } : isObj(x) ? { label: String(x.label ?? x.question ?? ""), question: String(x.question ?? x.label ?? "") } : null))
    .filter((x) => x && x.question);
  const groups = [
    ["candidates", "asst.candidates", "asst-candidate"],
    ["examples", "asst.examples", "asst-example"],
    ["follow_ups", "asst.followups", "asst-followup"],
  ];
  for (const [field, label, cls] of groups) {
    const list = pick(a[field]);
    if (list.length) box.append(h("p", { class: "asst-label" }, t(label)), buttons(list, cls));
  }
  return box;
}

/** Buttons that ask their question. */
function buttons(list, cls) {
  return h("div", { class: "buttons asst-buttons" }, list.map((x) => h("button", {
    type: "button", class: `asst-chip ${cls}`, title: x.label !== x.question ? x.question : null,
    onclick: () => ask(x.question),
  }, x.label)));
}

// ---- the chart -------------------------------------------------------------------------------

function usableChart(c) {
  if (!isObj(c) || !Array.isArray(c.x) || !c.x.length || !Array.isArray(c.series)) return null;
  const series = c.series.filter((s) => isObj(s) && Array.isArray(s.values) && s.values.some((v) => typeof v === "number"));
  if (!series.length) return null;
  return { type: c.type === "bar" ? "bar" : "line", x: c.x.map((v) => String(v ?? "")), series };
}

const formats = new Map();
function num(v, digits = 2) {
  if (typeof v !== "number" || !Number.isFinite(v)) return "—";
  const loc = lang() === "en" ? "en-GB" : "vi-VN";
  const key = `${loc}/${digits}`;
  if (!formats.has(key)) formats.set(key, new Intl.NumberFormat(loc, { maximumFractionDigits: digits }));
  return formats.get(key).format(v);
}

function chartTable(c, uom) {
  return h("details", { class: "data-table" },
    h("summary", {}, t("dash.table")),
    h("div", { class: "table-wrap" },
      h("table", { class: "data compact" },
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, t(c.type === "bar" ? "asst.col.unit" : "dash.col.period")),
          c.series.map((s) => h("th", { scope: "col", class: "num" }, String(s.name ?? ""), uom ? ` (${uom})` : "")))),
        h("tbody", {}, c.x.map((x, i) => h("tr", {},
          h("th", { scope: "row" }, x),
          c.series.map((s) => h("td", { class: "num" }, num(s.values[i])))))))));
}

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

const short = (name) => name.replace(/^(Xã|Phường|Thị trấn|Thị xã|Thành phố|Huyện|Tỉnh) /, "");
const width = (area) => Math.max(220, Math.floor(area.clientWidth || area.parentElement?.clientWidth || 560));

async function drawTurnChart(li) {
  const area = li.querySelector(".asst-chart");
  if (!area || charts.has(area) || !area._chart) return;
  let uPlot;
  try {
    uPlot = await loadPlot();
  } catch {
    if (area.isConnected) fill(area, h("p", { class: "hint" }, t("dash.chart.failed")));
    return;
  }
  if (!area.isConnected || charts.has(area)) return;
  const { chart: c } = area._chart;
  const bar = c.type === "bar";
  const n = c.series.length;
  const labels = bar ? c.x.map(short) : c.x;
  const u = new uPlot({
    width: width(area),
    height: HEIGHT,
    scales: {
      x: { time: false, range: [bar ? -0.6 : -0.3, c.x.length - (bar ? 0.4 : 0.7)] },
      y: bar ? { range: (uu, min, max) => uPlot.rangeNum(Math.min(0, min ?? 0), Math.max(0, max ?? 0), 0.1, true) } : {},
    },
    axes: [
      { values: (uu, splits) => splits.map((i) => (Number.isInteger(i) ? labels[i] ?? "" : "")), space: bar ? 70 : 40, incrs: [1, 2, 3, 5, 10, 20, 50, 100] },
      {
        values: (uu, splits) => splits.map((v) => num(v)),
        size: (uu, values) => (values ? Math.max(40, ...values.map((v) => String(v).length * 7.5 + 16)) : 60),
      },
    ],
    series: [
      { label: t(bar ? "asst.col.unit" : "dash.col.period"), value: (uu, i) => c.x[i] ?? "" },
      ...c.series.map((s, j) => ({
        label: String(s.name ?? ""),
        stroke: COLOURS[j % COLOURS.length],
        width: bar ? 1 : 2,
        dash: !bar && /^dự báo/i.test(String(s.name ?? "")) ? [6, 4] : undefined, // the forecast after the history
        fill: bar ? `${COLOURS[j % COLOURS.length]}b3` : undefined,
        paths: bar ? uPlot.paths.bars({ size: [n === 2 ? 0.4 : 0.7, 60], align: n === 2 ? (j ? 1 : -1) : 0 }) : undefined,
        points: { show: !bar, size: 5 },
        spanGaps: !bar,
        value: (uu, v) => num(v),
      })),
    ],
    legend: { show: true },
    cursor: { drag: { x: false, y: false }, points: { show: !bar } },
  }, [c.x.map((_, i) => i), ...c.series.map((s) => c.x.map((_, i) => (typeof s.values[i] === "number" ? s.values[i] : null)))], area);
  charts.set(area, u);
}

function destroyChart(area) {
  charts.get(area)?.destroy();
  charts.delete(area);
}

function destroyCharts() {
  for (const area of [...charts.keys()]) destroyChart(area);
}

let timer;
window.addEventListener("resize", () => {
  clearTimeout(timer);
  timer = setTimeout(() => {
    for (const [area, u] of charts) {
      if (!area.isConnected) continue; // the dashboard may show it again
      const w = width(area);
      if (w !== u.width) u.setSize({ width: w, height: HEIGHT });
    }
  }, 150);
});
