// catalogue — the list of datasets: search (the API folds case and tone
// marks), filters by organisation, tag and sharing scope, pagination. The
// state lives in the URL (?q=&org=&tag=&sharing=&page=), so a search can be
// bookmarked and the back button works.
//
// The dataset list API filters by words, organisation and tag but not by
// sharing scope: with a scope chosen, this page asks for every matching
// dataset (up to 1000) and filters and pages them itself.
import { t, fmtNumber, fmtDate } from "./i18n.js";
import { api, h, fill, message, errorBox, pager, announce, debounce } from "./ui.js";

const PAGE = 20;
const ALL = 1000;
const SHARING = ["open", "shared", "private"];

let root;
let state = readUrl();
let orgs = [];
let everything = []; // every dataset the caller may see (for the tag list and scope counts)
let result = null; // {total, datasets}
let error = null;
let els = {};
let seq = 0;

function readUrl() {
  const p = new URLSearchParams(location.search);
  const page = Math.max(1, parseInt(p.get("page") || "1", 10) || 1);
  return { q: p.get("q") || "", org: p.get("org") || "", tag: p.get("tag") || "", sharing: p.get("sharing") || "", page };
}

function writeUrl(push) {
  const p = new URLSearchParams();
  for (const k of ["q", "org", "tag", "sharing"]) if (state[k]) p.set(k, state[k]);
  if (state.page > 1) p.set("page", String(state.page));
  const url = p.toString() ? `/?${p}` : "/";
  if (url !== location.pathname + location.search) history[push ? "pushState" : "replaceState"](null, "", url);
}

export async function mount(el) {
  root = el;
  window.addEventListener("popstate", () => {
    state = readUrl();
    render();
    search();
  });
  fill(root, h("p", { class: "loading" }, t("loading")));
  const [o, all] = await Promise.allSettled([api("/api/v1/organisations"), api(`/api/v1/datasets?limit=${ALL}`)]);
  orgs = o.status === "fulfilled" ? o.value.organisations : [];
  everything = all.status === "fulfilled" ? all.value.datasets : [];
  render();
  await search();
}

async function search() {
  const mine = ++seq;
  const p = new URLSearchParams();
  for (const k of ["q", "org", "tag"]) if (state[k]) p.set(k, state[k]);
  try {
    let r;
    if (state.sharing) {
      p.set("limit", String(ALL));
      const all = await api(`/api/v1/datasets?${p}`);
      const matching = all.datasets.filter((d) => d.sharing === state.sharing);
      const start = (state.page - 1) * PAGE;
      r = { total: matching.length, datasets: matching.slice(start, start + PAGE) };
    } else {
      p.set("limit", String(PAGE));
      p.set("offset", String((state.page - 1) * PAGE));
      r = await api(`/api/v1/datasets?${p}`);
    }
    if (mine !== seq) return; // a newer search has started
    result = r;
    error = null;
  } catch (e) {
    if (mine !== seq) return;
    error = e;
  }
  drawResults();
  announce(countText());
}

function countText() {
  if (!result) return "";
  return result.total === 1 ? t("cat.count.one") : t("cat.count", { n: fmtNumber(result.total) });
}

function update(changes, push = true) {
  Object.assign(state, changes);
  if (!("page" in changes)) state.page = 1;
  writeUrl(push);
  syncControls();
  search();
}

function select(id, label, value, options, onchange) {
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    h("select", { id, onchange: (e) => onchange(e.target.value) },
      h("option", { value: "", selected: !value }, t("cat.filter.all")),
      options.map(([v, text]) => h("option", { value: v, selected: v === value }, text))));
}

function tagOptions() {
  const counts = new Map();
  for (const d of everything) for (const tag of d.tags || []) counts.set(tag, (counts.get(tag) || 0) + 1);
  if (state.tag && !counts.has(state.tag)) counts.set(state.tag, 0);
  return [...counts].sort((a, b) => a[0].localeCompare(b[0], "vi")).map(([tag, n]) => [tag, n ? `${tag} (${n})` : tag]);
}

function sharingOptions() {
  return SHARING.map((s) => {
    const n = everything.filter((d) => d.sharing === s).length;
    return [s, `${t("sharing." + s)} (${fmtNumber(n)})`];
  });
}

export function render() {
  if (!root) return;
  document.title = `${t("cat.title")} — kho`;
  const q = h("input", {
    id: "q", type: "search", name: "q", value: state.q, placeholder: t("cat.search.placeholder"),
    "aria-describedby": "q-hint", autocomplete: "off", spellcheck: "false",
  });
  const onType = debounce(() => {
    if (q.value.trim() !== state.q) update({ q: q.value.trim() }, false);
  }, 350);
  q.addEventListener("input", onType);
  const form = h("form", {
    role: "search", class: "search",
    onsubmit: (e) => {
      e.preventDefault();
      update({ q: q.value.trim() });
    },
  },
  h("label", { for: "q" }, t("cat.search.label")),
  h("div", { class: "row" }, q, h("button", { type: "submit", class: "primary" }, t("cat.search.button"))),
  h("p", { id: "q-hint", class: "hint" }, t("cat.search.hint")));

  const filters = h("aside", { class: "filters", "aria-labelledby": "filters-h" },
    h("h2", { id: "filters-h" }, t("cat.filters")),
    select("f-org", t("cat.filter.org"), state.org,
      orgs.map((o) => [o.id, `${o.name} (${fmtNumber(o.datasets)})`]), (v) => update({ org: v })),
    select("f-tag", t("cat.filter.tag"), state.tag, tagOptions(), (v) => update({ tag: v })),
    select("f-sharing", t("cat.filter.sharing"), state.sharing, sharingOptions(), (v) => update({ sharing: v })),
    h("button", { type: "button", id: "f-clear", onclick: () => update({ q: "", org: "", tag: "", sharing: "" }) },
      t("cat.filter.clear")));

  els = { q, results: h("section", { class: "results", "aria-labelledby": "results-h" }) };
  fill(root,
    h("h1", {}, t("cat.title")),
    h("p", { class: "lead" }, t("cat.lead")),
    form,
    h("div", { class: "catalogue" }, filters, els.results));
  drawResults();
}

/** Put the controls in line with the state (after a tag click or a clear). */
function syncControls() {
  if (els.q && els.q.value.trim() !== state.q) els.q.value = state.q;
  for (const [id, k] of [["f-org", "org"], ["f-tag", "tag"], ["f-sharing", "sharing"]]) {
    const s = document.getElementById(id);
    if (!s) continue;
    if (k === "tag" && state.tag && ![...s.options].some((o) => o.value === state.tag))
      s.append(h("option", { value: state.tag }, state.tag));
    s.value = state[k];
  }
}

function excerpt(text, max = 220) {
  if (!text || text.length <= max) return text || "";
  const cut = text.slice(0, max);
  const sp = cut.lastIndexOf(" ");
  return `${cut.slice(0, sp > max * 0.6 ? sp : max).replace(/[\s,.;:]+$/, "")}…`;
}

function card(d) {
  return h("li", { class: "card" },
    h("h3", {}, h("a", { href: `/datasets/${encodeURIComponent(d.id)}` }, d.title || d.id)),
    h("p", { class: "meta" },
      d.organisation ? h("span", {}, d.organisation.name) : null,
      h("span", {}, t("cat.rows", { n: fmtNumber(d.row_count) })),
      d.updated_at ? h("span", {}, t("cat.updated", { date: fmtDate(d.updated_at) })) : null),
    h("p", { class: "desc" }, excerpt(d.description)),
    h("div", { class: "badges" },
      h("span", { class: `badge sharing-${d.sharing}` }, t("sharing." + d.sharing)),
      d.synthetic ? h("span", { class: "badge synthetic" }, t("cat.synthetic")) : null),
    d.tags && d.tags.length
      ? h("ul", { class: "tags" }, d.tags.map((tag) => h("li", {},
        h("button", {
          type: "button", class: "tag", "aria-label": t("cat.tag.filter", { tag }), "aria-pressed": String(tag === state.tag),
          onclick: () => update({ tag: tag === state.tag ? "" : tag }),
        }, tag))))
      : null);
}

function drawResults() {
  const box = els.results;
  if (!box) return;
  if (error) {
    fill(box, h("h2", { id: "results-h", class: "visually-hidden" }, t("cat.title")), errorBox(error, search));
    return;
  }
  if (!result) {
    fill(box, h("h2", { id: "results-h", class: "count" }, t("loading")));
    return;
  }
  const pages = Math.max(1, Math.ceil(result.total / PAGE));
  fill(box,
    h("h2", { id: "results-h", class: "count" }, countText()),
    result.datasets.length
      ? h("ol", { class: "cards", start: (state.page - 1) * PAGE + 1 }, result.datasets.map(card))
      : message("info", h("p", {}, t("cat.empty"))),
    pager(state.page, pages, (n) => {
      update({ page: n });
      document.getElementById("results-h")?.scrollIntoView({ block: "start" });
    }));
}
