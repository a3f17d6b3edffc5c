// sql — the SQL sandbox: the tables the caller may query, a query box (Run or
// Ctrl+Enter), the result as a table and a chart, and the query as a curl
// command. The query is kept in the page URL (?q=...) so it can be shared.
import { t, fmtNumber } from "./i18n.js";
import { api, h, fill, message, copyButton, announce, shQuote, cellText } from "./ui.js";
import * as plot from "./plot.js";

let root;
let tables = null; // [{name, dataset, version, columns}]
let tablesError = null;
let result = null; // {columns, rows, row_count, truncated, time_ms}
let error = null;
let running = false;
let query = new URLSearchParams(location.search).get("q") || "";
let chartPick = { x: "", y: "" };
let els = {};

export async function mount(el) {
  root = el;
  render();
  try {
    const r = await api("/api/v1/sql/tables");
    tables = ordered(Array.isArray(r) ? r : r.tables || []);
  } catch (e) {
    tablesError = e;
    tables = [];
  }
  if (!query && tables.length) query = sample(tables[0]);
  if (els.q && !els.q.value) els.q.value = query;
  drawTables();
  drawRunnable();
}

function colName(c) {
  return typeof c === "string" ? c : c.name;
}

function quoteIdent(name) {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `"${String(name).replace(/"/g, '""')}"`;
}

/** A first query over a table: every column, or the readable ones when some
 * are personal data hidden from this caller (SELECT * over those is refused). */
function sample(table) {
  const cols = table.columns || [];
  const hidden = cols.some((c) => typeof c === "object" && c.hidden);
  const list = hidden ? cols.filter((c) => !c.hidden).map((c) => quoteIdent(colName(c))).join(", ") : "*";
  return `SELECT ${list || "*"}\nFROM ${quoteIdent(table.name)}\nLIMIT 100`;
}

/** Dataset tables first (each dataset's current table before its versions), then the units. */
function ordered(list) {
  const rank = (tb) => (tb.kind === "units" ? 2 : tb.current === false || /_v\d+$/.test(tb.name) ? 1 : 0);
  return [...list].sort((a, b) => rank(a) - rank(b) || String(a.name).localeCompare(String(b.name)));
}

const unavailable = () => tablesError && tablesError.status === 404;

export function render() {
  if (!root) return;
  document.title = `${t("sql.title")} — kho`;
  const q = h("textarea", {
    id: "sql-q", rows: "8", spellcheck: "false", autocapitalize: "off", autocomplete: "off",
    "aria-describedby": "sql-hint", value: query,
  });
  q.value = query;
  q.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      run();
    }
  });
  q.addEventListener("input", () => (query = q.value));
  els = {
    q,
    tables: h("div", { class: "tables" }),
    run: h("button", { type: "submit", class: "primary", id: "sql-run" }, t("sql.run")),
    status: h("p", { class: "status", id: "sql-status" }),
    problem: h("div", {}),
    result: h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": t("sql.result") }),
    chart: h("section", { class: "chart", "aria-labelledby": "chart-h" }),
  };
  fill(root,
    h("h1", {}, t("sql.title")),
    h("p", { class: "lead" }, t("sql.lead")),
    h("div", { class: "sandbox" },
      h("aside", { class: "sql-tables", "aria-labelledby": "tables-h" }, h("h2", { id: "tables-h" }, t("sql.tables")), els.tables),
      h("div", { class: "sql-main" },
        h("form", {
          class: "sql-form",
          onsubmit: (e) => {
            e.preventDefault();
            run();
          },
        },
        h("label", { for: "sql-q" }, t("sql.query")),
        q,
        h("p", { class: "hint", id: "sql-hint" }, `${t("sql.run")}: ${t("sql.run.hint")}`),
        h("div", { class: "actions" }, els.run, copyButton(curl, t("sql.copy.curl")))),
        els.problem,
        h("section", { "aria-labelledby": "result-h" }, h("h2", { id: "result-h" }, t("sql.result")), els.status, els.result),
        els.chart)));
  drawTables();
  drawRunnable();
  drawResult();
}

function drawRunnable() {
  if (!els.run) return;
  els.run.disabled = running || unavailable();
  els.run.textContent = running ? t("sql.running") : t("sql.run");
}

function drawTables() {
  if (!els.tables) return;
  if (tables === null) {
    fill(els.tables, h("p", { class: "loading" }, t("loading")));
    return;
  }
  if (unavailable()) {
    fill(els.tables, message("info", h("p", {}, t("sql.tables.unavailable"))));
    return;
  }
  if (tablesError) {
    fill(els.tables, message("error", h("p", {}, tablesError.message)));
    return;
  }
  if (!tables.length) {
    fill(els.tables, h("p", {}, t("sql.tables.none")));
    return;
  }
  fill(els.tables, h("ul", {}, tables.map((tb) => h("li", {},
    h("details", {},
      h("summary", {}, h("code", {}, tb.name)),
      tb.dataset ? h("p", { class: "hint" }, h("a", { href: `/datasets/${encodeURIComponent(tb.dataset)}` },
        t("sql.tables.dataset", { d: tb.dataset, v: tb.version ?? "" }))) : null,
      h("ul", { class: "cols" }, (tb.columns || []).map((c) => h("li", { class: c.hidden ? "hidden-col" : null },
        h("code", {}, colName(c)),
        typeof c === "object" && c.type ? h("span", { class: "type" }, ` ${c.type}`) : null,
        c.hidden ? h("span", { class: "type" }, ` — ${t("sql.tables.hidden")}`) : null))),
      h("button", {
        type: "button", class: "link", "aria-label": t("sql.tables.insert", { t: tb.name }),
        onclick: () => {
          els.q.value = query = sample(tb);
          els.q.focus();
        },
      }, "SELECT * …"))))));
}

function sqlUrl() {
  return `/api/v1/sql?${new URLSearchParams({ q: els.q.value })}`;
}

function curl() {
  return `curl -s --get ${shQuote(`${location.origin}/api/v1/sql`)} --data-urlencode ${shQuote(`q=${els.q.value}`)}`;
}

async function run() {
  if (running || !els.q.value.trim()) return;
  query = els.q.value;
  history.replaceState(null, "", `/sql?${new URLSearchParams({ q: query })}`);
  running = true;
  error = null;
  drawRunnable();
  els.status.textContent = t("sql.running");
  try {
    result = await api(sqlUrl());
  } catch (e) {
    error = e;
    result = null;
  }
  running = false;
  drawRunnable();
  drawResult();
  if (error) showErrorPosition();
  else announce(els.status.textContent);
}

/** The string index in text of a byte offset in its UTF-8 form (the server
 * counts bytes). */
function charIndex(text, byteOffset) {
  const bytes = new TextEncoder().encode(text);
  return new TextDecoder().decode(bytes.slice(0, Math.max(0, byteOffset))).length;
}

/** Line and column (1-based) of a 0-based character offset in text. */
function lineCol(text, pos) {
  const before = text.slice(0, Math.max(0, Math.min(pos, text.length)));
  const lines = before.split("\n");
  return { line: lines.length, col: lines[lines.length - 1].length + 1 };
}

function showErrorPosition() {
  if (typeof error?.details?.position !== "number") return;
  const q = els.q;
  const pos = charIndex(q.value, error.details.position);
  q.focus();
  q.setSelectionRange(Math.max(0, pos), Math.min(q.value.length, pos + 1));
}

function drawResult() {
  if (!els.result) return;
  if (error) {
    const pos = error.details?.position;
    const text = typeof pos === "number"
      ? t("sql.error.at", { ...lineCol(els.q.value, charIndex(els.q.value, pos)), msg: error.message })
      : error.message;
    fill(els.problem, message("error", h("p", {}, text)));
    els.status.textContent = "";
    fill(els.result);
    plot.clear(els.chart);
    return;
  }
  fill(els.problem);
  if (!result) {
    els.status.textContent = t("sql.empty");
    fill(els.result);
    return;
  }
  const cols = result.columns || [];
  const rows = result.rows || [];
  els.status.textContent = t("sql.result.status", { n: fmtNumber(result.row_count ?? rows.length), ms: fmtNumber(result.time_ms ?? 0) });
  if (result.truncated) fill(els.problem, message("info", h("p", {}, t("sql.result.truncated"))));
  const numeric = cols.map((_, i) => plot.kindOf(rows.map((r) => r[i])) === "number");
  fill(els.result, rows.length
    ? h("table", { class: "data", id: "sql-table" },
      h("thead", {}, h("tr", {}, cols.map((c, i) => h("th", { scope: "col", class: numeric[i] ? "num" : null }, colName(c))))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((v, i) => h("td", { class: numeric[i] ? "num" : null },
        typeof v === "number" ? fmtNumber(v) : cellText(v)))))))
    : h("p", {}, t("sql.result.none")));
  drawChartControls(cols.map(colName), numeric);
}

function drawChartControls(cols, numeric) {
  const ys = cols.filter((_, i) => numeric[i]);
  if (!cols.length || !(result.rows || []).length) {
    fill(els.chart);
    return;
  }
  if (!ys.length) {
    plot.clear(els.chart);
    fill(els.chart, h("h2", { id: "chart-h" }, t("sql.chart")), h("p", {}, t("sql.chart.none")));
    return;
  }
  if (!cols.includes(chartPick.x)) chartPick.x = cols.find((c, i) => !numeric[i]) || cols[0];
  if (!ys.includes(chartPick.y)) chartPick.y = ys.find((c) => c !== chartPick.x) || ys[0];
  const pick = (id, label, options, key) => h("div", { class: "field" },
    h("label", { for: id }, label),
    h("select", {
      id,
      onchange: (e) => {
        chartPick[key] = e.target.value;
        drawChart();
      },
    }, options.map((c) => h("option", { value: c, selected: c === chartPick[key] }, c))));
  const area = h("div", { class: "plot", id: "sql-chart", role: "img" });
  els.plot = area;
  plot.clear(area);
  fill(els.chart,
    h("h2", { id: "chart-h" }, t("sql.chart")),
    h("div", { class: "tools" }, pick("chart-x", t("sql.chart.x"), cols, "x"), pick("chart-y", t("sql.chart.y"), ys, "y")),
    area);
  drawChart();
}

async function drawChart() {
  const cols = (result?.columns || []).map(colName);
  const xi = cols.indexOf(chartPick.x), yi = cols.indexOf(chartPick.y);
  const area = els.plot;
  if (xi < 0 || yi < 0 || !area) return;
  area.setAttribute("aria-label", t("sql.chart.label", { x: chartPick.x, y: chartPick.y }));
  try {
    await plot.draw(area, {
      xs: result.rows.map((r) => r[xi]), ys: result.rows.map((r) => r[yi]),
      xLabel: chartPick.x, yLabel: chartPick.y, fmt: (v) => fmtNumber(v),
    });
  } catch {
    fill(area, message("info", h("p", {}, t("sql.chart.failed"))));
  }
}
