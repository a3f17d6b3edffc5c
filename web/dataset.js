// dataset — one dataset: its metadata (classification in Vietnamese words),
// a preview of its rows with a filter under each column and click-to-sort
// headers, downloads, API examples for what is in view, its columns, the
// quality report of the current version and its versions.
//
// The preview's state (filters as typed, full-text words, sort) lives in the
// page URL (?f.COL=...&q=...&sort=col,-col2) and becomes the rows API's
// parameters: text "x" -> COL__contains=x ("=x" exact), numbers and dates
// "5" -> COL=5, ">5" -> COL__gt=5 (>=, <, <=, != alike), "a..b" -> COL__gte=a
// and COL__lte=b; booleans from a list.
import { t, has, fmtNumber, fmtBytes, fmtDate, fmtDateTime } from "./i18n.js";
import { api, h, fill, message, errorBox, pageStatus, copyButton, announce, debounce, shQuote, cellText } from "./ui.js";

const PREVIEW = 100;
const OPS = { ">": "__gt", ">=": "__gte", "<": "__lt", "<=": "__lte", "!=": "__ne", "=": "" };
const NUMERIC = new Set(["integer", "real"]);

let root;
let id = "";
let meta = null; // GET /api/v1/datasets/{id}
let units = new Map(); // unit code -> name
let view = { filters: {}, q: "", sort: [] };
let rows = null; // {columns, rows, next, total, masked}
let rowsError = null;
let loadingRows = false;
let seq = 0;
let els = {};
let apiLang = "curl";
let filteredDownload = false;

function readUrl() {
  const p = new URLSearchParams(location.search);
  const filters = {};
  for (const [k, v] of p) if (k.startsWith("f.") && v) filters[k.slice(2)] = v;
  const sort = (p.get("sort") || "").split(",").filter(Boolean)
    .map((s) => ({ col: s.replace(/^-/, ""), desc: s.startsWith("-") }));
  return { filters, q: p.get("q") || "", sort };
}

function writeUrl() {
  const p = new URLSearchParams();
  if (view.q) p.set("q", view.q);
  for (const [k, v] of Object.entries(view.filters)) if (v) p.set("f." + k, v);
  if (view.sort.length) p.set("sort", sortSpec());
  const url = location.pathname + (p.toString() ? `?${p}` : "");
  if (url !== location.pathname + location.search) history.replaceState(null, "", url);
}

function sortSpec() {
  return view.sort.map((s) => (s.desc ? "-" : "") + s.col).join(",");
}

function column(name) {
  return meta?.columns?.find((c) => c.name === name);
}

/** The rows API's parameters for one column's filter text. */
function filterParams(col, raw) {
  const type = column(col)?.type || "text";
  const v = String(raw).trim();
  if (!v) return [];
  if (type === "boolean") return [[col, v]];
  if (type === "text") return v.startsWith("=") ? [[col, v.slice(1).trim()]] : [[`${col}__contains`, v]];
  let m = v.match(/^(.+?)\s*\.\.\s*(.+)$/);
  if (m) return [[`${col}__gte`, m[1].trim()], [`${col}__lte`, m[2].trim()]];
  m = v.match(/^(>=|<=|!=|>|<|=)\s*(.+)$/);
  if (m) return [[col + OPS[m[1]], m[2].trim()]];
  return [[col, v]];
}

/** The query parameters of what is in view (filters, words, sort). */
function viewParams() {
  const p = [];
  for (const [col, raw] of Object.entries(view.filters)) p.push(...filterParams(col, raw));
  if (view.q) p.push(["q", view.q]);
  if (view.sort.length) p.push(["_sort", sortSpec()]);
  return p;
}

const filtered = () => Object.values(view.filters).some((v) => String(v).trim()) || !!view.q;
const rowsPath = () => `/api/v1/datasets/${encodeURIComponent(id)}/rows`;

function rowsUrl(extra = []) {
  const p = new URLSearchParams([...viewParams(), ...extra]);
  return `${rowsPath()}?${p}`;
}

export async function mount(el) {
  root = el;
  id = decodeURIComponent(location.pathname.split("/")[2] || "");
  if (pageStatus() === 404) {
    drawNotFound();
    return;
  }
  view = readUrl();
  fill(root, h("p", { class: "loading" }, t("loading")));
  try {
    meta = await api(`/api/v1/datasets/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e.status === 404) drawNotFound();
    else fill(root, errorBox(e, () => mount(el)));
    return;
  }
  for (const k of Object.keys(view.filters)) if (!column(k)) delete view.filters[k];
  view.sort = view.sort.filter((s) => column(s.col));
  render();
  loadUnits();
  await loadRows();
}

function drawNotFound() {
  document.title = `${t("notfound.title")} — kho`;
  fill(root, h("h1", {}, t("notfound.title")), message("info", h("p", {}, t("notfound.dataset"))),
    h("p", {}, h("a", { href: "/" }, t("back.catalogue"))));
}

async function loadUnits() {
  const codes = spatialCodes().slice(0, 8);
  const got = await Promise.allSettled(codes.map((c) => api(`/api/v1/units/${encodeURIComponent(c)}`)));
  got.forEach((r, i) => r.status === "fulfilled" && units.set(codes[i], r.value.name));
  if (units.size) drawMeta();
}

function spatialCodes() {
  const s = meta?.spatial;
  if (!s) return [];
  return (Array.isArray(s) ? s : String(s).split(/[\s,;]+/)).map(String).filter(Boolean);
}

// ---- rows --------------------------------------------------------------------------------

async function loadRows(append = false) {
  const mine = ++seq;
  loadingRows = true;
  drawStatus();
  const url = append && rows?.next ? rows.next : rowsUrl([["_limit", String(PREVIEW)], ...(filtered() ? [["_count", "true"]] : [])]);
  try {
    const r = await api(url);
    if (mine !== seq) return;
    if (append && rows) {
      rows.rows.push(...r.rows);
      rows.next = r.next;
    } else {
      rows = r;
    }
    rowsError = null;
  } catch (e) {
    if (mine !== seq) return;
    rowsError = e;
    if (!append) rows = null;
  }
  loadingRows = false;
  drawBody();
  drawStatus();
  drawApi();
  drawDownloads();
  if (!rowsError) announce(statusText());
}

function changed() {
  writeUrl();
  drawSortState();
  loadRows();
}

const changedSoon = debounce(changed, 400);

/** Click: sort by this column alone (ascending, descending, then none);
 * Shift+click: add it to the sort keys, or turn or drop it there. */
function toggleSort(col, add) {
  const i = view.sort.findIndex((s) => s.col === col);
  const cur = i >= 0 ? view.sort[i] : null;
  const next = !cur ? { col, desc: false } : !cur.desc ? { col, desc: true } : null;
  if (!add) view.sort = next ? [next] : [];
  else if (i < 0) view.sort.push(next);
  else if (next) view.sort[i] = next;
  else view.sort.splice(i, 1);
  changed();
}

function statusText() {
  if (!rows) return "";
  const shown = fmtNumber(rows.rows.length);
  const total = rows.total_is_lower_bound ? t("ds.preview.atleast", { n: fmtNumber(rows.total) }) : fmtNumber(rows.total);
  return typeof rows.total === "number"
    ? t("ds.preview.shown", { shown, total })
    : t("ds.preview.shown.nototal", { shown });
}

// ---- drawing ------------------------------------------------------------------------------

export function render() {
  if (!root || !meta) {
    if (root && pageStatus() === 404) drawNotFound();
    return;
  }
  document.title = `${meta.title || id} — kho`;
  els = {
    meta: h("section", { class: "meta", "aria-labelledby": "meta-h" }),
    status: h("p", { class: "status", id: "preview-status", "aria-live": "off" }),
    body: h("tbody"),
    more: h("div", { class: "more" }),
    problem: h("div", { class: "problem" }),
    downloads: h("div", { class: "downloads" }),
    api: h("div", { class: "api" }),
  };
  const sections = [["preview", t("ds.preview")], ["download", t("ds.download")], ["api", t("ds.api")],
    ["columns", t("ds.columns")], ["quality", t("ds.quality")], ["versions", t("ds.versions")]];
  fill(root,
    h("nav", { class: "crumbs", "aria-label": t("ds.breadcrumb") },
      h("ol", {}, h("li", {}, h("a", { href: "/" }, t("nav.catalogue"))), h("li", { "aria-current": "page" }, meta.title || id))),
    h("h1", {}, meta.title || id),
    meta.organisation ? h("p", { class: "org" }, meta.organisation.name) : null,
    h("div", { class: "badges" },
      h("span", { class: `badge sharing-${meta.sharing}` }, t("sharing." + meta.sharing)),
      h("span", { class: `badge importance-${meta.importance}` }, t("importance." + meta.importance)),
      meta.synthetic ? h("span", { class: "badge synthetic" }, t("ds.synthetic")) : null),
    meta.description ? h("p", { class: "lead" }, meta.description) : null,
    h("nav", { class: "toc", "aria-label": t("ds.toc") },
      h("ul", {}, sections.map(([k, label]) => h("li", {}, h("a", { href: `#${k}` }, label))))),
    els.meta,
    h("section", { id: "preview", "aria-labelledby": "preview-h" },
      h("h2", { id: "preview-h" }, t("ds.preview")),
      previewTools(),
      h("p", { class: "hint", id: "preview-help" }, t("ds.preview.filter.help")),
      els.status,
      els.problem,
      h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-labelledby": "preview-h" },
        h("table", { class: "data", id: "preview-table", "aria-describedby": "preview-status" }, previewHead(), els.body)),
      els.more),
    h("section", { id: "download", "aria-labelledby": "download-h" }, h("h2", { id: "download-h" }, t("ds.download")), els.downloads),
    h("section", { id: "api", "aria-labelledby": "api-h" }, h("h2", { id: "api-h" }, t("ds.api")),
      h("p", {}, t("ds.api.lead")), els.api),
    h("section", { id: "columns", "aria-labelledby": "columns-h" }, h("h2", { id: "columns-h" }, t("ds.columns")), columnsTable()),
    h("section", { id: "quality", "aria-labelledby": "quality-h" }, h("h2", { id: "quality-h" }, t("ds.quality")), quality()),
    h("section", { id: "versions", "aria-labelledby": "versions-h" }, h("h2", { id: "versions-h" }, t("ds.versions")), versions()));
  drawMeta();
  drawBody();
  drawStatus();
  drawDownloads();
  drawApi();
}

function drawMeta() {
  if (!els.meta) return;
  const m = meta;
  const tmp = m.temporal && (m.temporal.start || m.temporal.end)
    ? [fmtDate(m.temporal.start), fmtDate(m.temporal.end)].filter(Boolean).join(" – ") : t("ds.unknown");
  const codes = spatialCodes();
  const spatial = codes.length ? codes.map((c) => (units.has(c) ? `${units.get(c)} (${c})` : c)).join(", ") : t("ds.unknown");
  const rowsOf = (k, v) => [h("dt", {}, t(k)), h("dd", {}, v)];
  fill(els.meta,
    h("h2", { id: "meta-h" }, t("ds.meta")),
    h("dl", { class: "facts" },
      rowsOf("ds.publisher", m.publisher || t("ds.unknown")),
      rowsOf("ds.organisation", m.organisation ? h("a", { href: `/?org=${encodeURIComponent(m.organisation.id)}` }, m.organisation.name) : t("ds.unknown")),
      rowsOf("ds.licence", m.licence || t("ds.unknown")),
      rowsOf("ds.sharing", t("sharing." + m.sharing)),
      rowsOf("ds.importance", t("importance." + m.importance)),
      rowsOf("ds.temporal", tmp),
      rowsOf("ds.spatial", spatial),
      rowsOf("ds.rows", fmtNumber(m.row_count)),
      rowsOf("ds.version", String(m.current_version ?? "")),
      rowsOf("ds.updated", fmtDateTime(m.updated_at)),
      m.tags?.length ? rowsOf("ds.tags", h("ul", { class: "tags" },
        m.tags.map((tag) => h("li", {}, h("a", { class: "tag", href: `/?tag=${encodeURIComponent(tag)}` }, tag))))) : null));
}

function previewTools() {
  const q = h("input", { id: "preview-q", type: "search", value: view.q, placeholder: t("ds.preview.search.placeholder"), autocomplete: "off" });
  q.addEventListener("input", () => {
    view.q = q.value.trim();
    changedSoon();
  });
  q.addEventListener("keydown", (e) => e.key === "Enter" && (e.preventDefault(), (view.q = q.value.trim()), changed()));
  return h("div", { class: "tools" },
    h("div", { class: "field" }, h("label", { for: "preview-q" }, t("ds.preview.search")), q),
    h("button", {
      type: "button", id: "preview-clear",
      onclick: () => {
        view = { filters: {}, q: "", sort: [] };
        q.value = "";
        for (const f of document.querySelectorAll("#preview-table [data-filter]")) f.value = "";
        changed();
      },
    }, t("ds.preview.clear")));
}

function colTitle(c) {
  return c.label && c.label !== c.name ? c.label : c.name;
}

function previewHead() {
  const cols = meta.columns || [];
  const heads = cols.map((c) => h("th", { scope: "col", "data-col": c.name, class: NUMERIC.has(c.type) ? "num" : null },
    h("button", {
      type: "button", class: "sort", "data-sort": c.name,
      onclick: (e) => toggleSort(c.name, e.shiftKey),
    }, h("span", { class: "label" }, colTitle(c)), h("span", { class: "arrow", "aria-hidden": "true" })),
    c.label && c.label !== c.name ? h("code", { class: "colname" }, c.name) : null));
  const filters = cols.map((c) => {
    const label = t("ds.preview.filter", { col: colTitle(c) });
    let input;
    if (c.type === "boolean") {
      input = h("select", { "data-filter": c.name, "aria-label": label },
        h("option", { value: "" }, t("ds.preview.filter.any")),
        h("option", { value: "true", selected: view.filters[c.name] === "true" }, t("ds.preview.filter.true")),
        h("option", { value: "false", selected: view.filters[c.name] === "false" }, t("ds.preview.filter.false")));
      input.addEventListener("change", () => {
        view.filters[c.name] = input.value;
        changed();
      });
    } else {
      input = h("input", {
        type: "text", "data-filter": c.name, "aria-label": label, value: view.filters[c.name] || "", autocomplete: "off",
        placeholder: c.type === "text" ? t("ds.preview.filter.text") : t("ds.preview.filter.num"), spellcheck: "false",
      });
      input.addEventListener("input", () => {
        view.filters[c.name] = input.value;
        changedSoon();
      });
      input.addEventListener("keydown", (e) => {
        if (e.key !== "Enter") return;
        e.preventDefault();
        view.filters[c.name] = input.value;
        changed();
      });
    }
    return h("td", {}, input);
  });
  const thead = h("thead", {},
    h("tr", {}, h("th", { scope: "col", class: "rownum" }, "#"), heads),
    h("tr", { class: "filters" }, h("td", {}), filters));
  queueMicrotask(drawSortState);
  return thead;
}

function drawSortState() {
  for (const th of document.querySelectorAll("#preview-table th[data-col]")) {
    const i = view.sort.findIndex((s) => s.col === th.dataset.col);
    const s = view.sort[i];
    if (s) th.setAttribute("aria-sort", s.desc ? "descending" : "ascending");
    else th.removeAttribute("aria-sort");
    const c = column(th.dataset.col);
    const b = th.querySelector("button.sort");
    b.querySelector(".arrow").textContent = s ? (s.desc ? "▼" : "▲") + (view.sort.length > 1 ? String(i + 1) : "") : "↕";
    b.setAttribute("aria-label", `${t("ds.preview.sort", { col: colTitle(c) })}${s ? ` (${t(s.desc ? "ds.preview.sort.desc" : "ds.preview.sort.asc")})` : ""}`);
  }
}

function drawStatus() {
  if (!els.status) return;
  els.status.textContent = loadingRows && !rows ? t("loading") : statusText();
  els.status.classList.toggle("busy", loadingRows);
  fill(els.problem,
    rowsError ? message("error", h("p", {}, rowsError.message)) : null,
    rows?.masked ? message("info", h("p", {}, t("ds.preview.masked"))) : null);
}

function drawBody() {
  if (!els.body) return;
  const cols = (rows?.columns || meta.columns || []).map((c) => c.name);
  const typeOf = new Map((meta.columns || []).map((c) => [c.name, c.type]));
  if (!rows) {
    fill(els.body);
  } else if (!rows.rows.length) {
    fill(els.body, h("tr", {}, h("td", { colspan: String(cols.length + 1), class: "none" }, t("ds.preview.none"))));
  } else {
    fill(els.body, rows.rows.map((r) => h("tr", {},
      h("td", { class: "rownum" }, String(r._row ?? "")),
      (meta.columns || []).map((c) => {
        const v = r[c.name];
        return h("td", { class: [NUMERIC.has(typeOf.get(c.name)) ? "num" : "", v === null ? "null" : ""].join(" ").trim() || null },
          typeof v === "number" ? fmtNumber(v) : cellText(v));
      }))));
  }
  fill(els.more, rows?.next
    ? h("button", { type: "button", id: "preview-more", onclick: () => loadRows(true) }, t("ds.preview.more"))
    : null);
}

function drawDownloads() {
  if (!els.downloads) return;
  const extra = filteredDownload ? viewParams() : [];
  const href = (fmt) => `${rowsPath()}?${new URLSearchParams([...extra, ["_format", fmt]])}`;
  const link = (fmt, label) => h("a", { class: "button", href: href(fmt), download: `${id}.${fmt}`, "data-format": fmt }, label);
  const box = h("input", {
    type: "checkbox", id: "download-filtered", checked: filteredDownload,
    onchange: (e) => {
      filteredDownload = e.target.checked;
      drawDownloads();
      document.getElementById("download-filtered")?.focus();
    },
  });
  const json = h("button", { type: "button", "data-format": "json", onclick: () => downloadJson(json, href("ndjson")) }, t("ds.download.json"));
  fill(els.downloads,
    h("p", {}, t("ds.download.lead", { n: fmtNumber(meta.row_count), v: meta.current_version })),
    h("p", { class: "buttons" }, link("csv", t("ds.download.csv")), json, link("ndjson", t("ds.download.ndjson"))),
    h("p", { class: "check" }, box, h("label", { for: "download-filtered" }, t("ds.download.filtered"))),
    h("p", { class: "hint" }, t("ds.download.json.note")),
    h("div", { id: "download-problem" }));
}

/** The rows API pages JSON; the whole dataset as one JSON array is made here
 * from the NDJSON export (one object a line), then saved as a file. */
async function downloadJson(button, ndjsonUrl) {
  const label = button.textContent;
  const problem = document.getElementById("download-problem");
  button.disabled = true;
  button.textContent = t("ds.download.preparing");
  fill(problem);
  try {
    const res = await fetch(ndjsonUrl, { headers: { Accept: "application/x-ndjson" } });
    if (!res.ok) {
      const e = await res.json().catch(() => null);
      throw new Error(e?.error?.message || `${res.status} ${res.statusText}`);
    }
    const lines = (await res.text()).split("\n").filter((l) => l.trim());
    const blob = new Blob([`[\n${lines.join(",\n")}\n]\n`], { type: "application/json" });
    const a = h("a", { href: URL.createObjectURL(blob), download: `${id}-v${meta.current_version}.json`, hidden: true });
    document.body.append(a);
    a.click();
    setTimeout(() => (URL.revokeObjectURL(a.href), a.remove()), 1000);
  } catch (e) {
    fill(problem, message("error", h("p", {}, t("error.generic", { msg: e.message }))));
  }
  button.disabled = false;
  button.textContent = label;
}

// ---- API examples -------------------------------------------------------------------------

function examples() {
  const base = `${location.origin}${rowsPath()}`;
  const params = [...viewParams(), ["_limit", String(PREVIEW)]];
  const qs = new URLSearchParams(params).toString();
  const curl = `curl -s ${shQuote(`${base}?${qs}`)}`;
  const pyParams = params.map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)},`).join("\n");
  const python = `import requests
from urllib.parse import urljoin

url = ${JSON.stringify(base)}
params = {
${pyParams}
}
rows = []
while url:  # every page; "next" is null after the last one
    page = requests.get(url, params=params, timeout=60)
    page.raise_for_status()
    page = page.json()
    rows += page["rows"]
    url, params = (urljoin(url, page["next"]), None) if page["next"] else (None, None)
print(len(rows), rows[:3])
`;
  const jsParams = params.map(([k, v]) => `  [${JSON.stringify(k)}, ${JSON.stringify(v)}],`).join("\n");
  const js = `const params = new URLSearchParams([
${jsParams}
]);
const res = await fetch(\`${base}?\${params}\`);
const page = await res.json();
if (!res.ok) throw new Error(page.error.message);
console.log(page.total, page.rows);
// page.next: the URL of the next page (null on the last one)
`;
  return { curl, python, javascript: js };
}

function drawApi() {
  if (!els.api) return;
  const ex = examples();
  const names = { curl: "curl", python: "Python", javascript: "JavaScript" };
  const keys = Object.keys(names);
  const code = h("code", { id: "api-code" }, ex[apiLang]);
  const tabs = keys.map((k) => h("button", {
    type: "button", role: "tab", id: `tab-${k}`, "aria-selected": String(k === apiLang), "aria-controls": "api-panel",
    tabindex: k === apiLang ? "0" : "-1", "data-lang": k,
    onclick: () => {
      apiLang = k;
      drawApi();
      document.getElementById(`tab-${k}`)?.focus();
    },
    onkeydown: (e) => {
      const d = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
      if (!d) return;
      e.preventDefault();
      apiLang = keys[(keys.indexOf(k) + d + keys.length) % keys.length];
      drawApi();
      document.getElementById(`tab-${apiLang}`)?.focus();
    },
  }, names[k]));
  fill(els.api,
    h("div", { role: "tablist", "aria-label": t("ds.api.tabs") }, tabs),
    h("div", { role: "tabpanel", id: "api-panel", "aria-labelledby": `tab-${apiLang}` },
      h("pre", { tabindex: "0" }, code),
      copyButton(() => examples()[apiLang])));
}

// ---- columns, quality, versions -------------------------------------------------------------

function tagText(tag) {
  return has("tag." + tag) ? t("tag." + tag) : tag;
}

function columnsTable() {
  const stats = new Map((meta.quality?.columns || []).map((c) => [c.name, c]));
  const val = (v) => (typeof v === "number" ? fmtNumber(v) : cellText(v));
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-labelledby": "columns-h" },
    h("table", { class: "data compact" },
      h("thead", {}, h("tr", {}, ["ds.col.name", "ds.col.label", "ds.col.type", "ds.col.tags", "ds.col.nulls", "ds.col.distinct", "ds.col.min", "ds.col.max"]
        .map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, (meta.columns || []).map((c) => {
        const s = stats.get(c.name) || {};
        return h("tr", {},
          h("th", { scope: "row" }, h("code", {}, c.name)),
          h("td", {}, c.label || ""),
          h("td", {}, has("type." + c.type) ? t("type." + c.type) : c.type),
          h("td", {}, (c.tags || []).map(tagText).join(", ")),
          h("td", { class: "num" }, val(s.nulls)),
          h("td", { class: "num" }, s.distinct === undefined ? "" : (s.distinct_is_estimate ? "≈ " : "") + val(s.distinct)),
          h("td", {}, val(s.min)),
          h("td", {}, val(s.max)));
      }))));
}

function quality() {
  const q = meta.quality;
  if (!q) return h("p", {}, t("ds.unknown"));
  const pct = (x) => (typeof x === "number" ? `${fmtNumber(Math.round(x * 10000) / 100)} %` : "");
  const codes = (q.columns || []).filter((c) => c.codes).map((c) => h("li", {}, t("ds.q.codes", {
    col: c.name, current: fmtNumber(c.codes.current), old: fmtNumber(c.codes.pre_2025_only), unknown: fmtNumber(c.codes.unknown),
  })));
  const fact = (k, v) => [h("dt", {}, t(k)), h("dd", {}, v)];
  return h("div", {},
    h("dl", { class: "facts" },
      fact("ds.q.read", fmtNumber(q.rows_read)),
      fact("ds.q.loaded", fmtNumber(q.rows_loaded)),
      fact("ds.q.rejected", fmtNumber(q.rows_rejected)),
      fact("ds.q.share", pct(q.rejected_share)),
      fact("ds.q.threshold", pct(q.reject_threshold)),
      fact("ds.q.format", String(q.format || "").toUpperCase()),
      fact("ds.q.bytes", fmtBytes(q.bytes)),
      fact("ds.q.sha256", h("code", { class: "hash" }, q.sha256 || ""))),
    q.rows_rejected ? null : message("ok", h("p", {}, t("ds.q.ok"))),
    codes.length ? h("ul", {}, codes) : null,
    q.warnings?.length ? [h("h3", {}, t("ds.q.warnings")), h("ul", {}, q.warnings.map((w) => h("li", {}, typeof w === "string" ? w : w.message || JSON.stringify(w))))] : null,
    q.rejected?.length ? [h("h3", {}, t("ds.q.rejected.list")),
      h("div", { class: "table-wrap" }, h("table", { class: "data compact" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("ds.q.line")), h("th", { scope: "col" }, t("ds.q.reason")))),
        h("tbody", {}, q.rejected.slice(0, 20).map((r) => h("tr", {}, h("td", { class: "num" }, String(r.line ?? "")), h("td", {}, r.reason || ""))))))]
      : null);
}

function versions() {
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-labelledby": "versions-h" },
    h("table", { class: "data compact" },
      h("thead", {}, h("tr", {}, ["ds.v.number", "ds.v.created", "ds.v.rows", "ds.v.format", "ds.v.bytes", "ds.v.source", "ds.v.sha"]
        .map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, (meta.versions || []).map((v) => h("tr", {},
        h("th", { scope: "row" }, String(v.number), v.number === meta.current_version ? ` (${t("ds.v.current")})` : ""),
        h("td", {}, fmtDateTime(v.created_at)),
        h("td", { class: "num" }, fmtNumber(v.row_count)),
        h("td", {}, String(v.format || "").toUpperCase()),
        h("td", { class: "num" }, fmtBytes(v.bytes)),
        h("td", {}, v.source || ""),
        h("td", {}, h("code", { class: "hash", title: v.sha256 || "" }, (v.sha256 || "").slice(0, 12))))))));
}
