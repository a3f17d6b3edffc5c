// apidocs — the API documentation page (/api): draws /api/v1/openapi.json as
// endpoints grouped by area, each with its parameters, request body, answers,
// who may call it and a curl example built for this server. Its own words are
// here (Vietnamese first, English), the document's summaries come in both
// languages (x-summary-vi), its descriptions in English. `?q=` filters the
// endpoints; each endpoint has an anchor (#operationId).
import { lang, t } from "./i18n.js";
import { api, h, fill, message, copyButton, shQuote, debounce } from "./ui.js";

const WORDS = {
  vi: {
    title: "Tài liệu API",
    lead: "Mọi điểm cuối của API: tham số, dữ liệu gửi lên, kết quả trả về và ví dụ. Tài liệu máy đọc được theo chuẩn OpenAPI 3.1.",
    openapi: "Tài liệu OpenAPI (JSON)",
    ckan: "API tương thích CKAN",
    dcat: "Danh mục DCAT-AP (JSON-LD)",
    filter: "Lọc điểm cuối",
    filterHint: "Ví dụ: rows, datastore, đơn vị…",
    count: "{n} điểm cuối",
    none: "Không có điểm cuối nào phù hợp.",
    areas: "Các nhóm",
    params: "Tham số",
    name: "Tên", where: "Vị trí", type: "Kiểu", required: "Bắt buộc", meaning: "Ý nghĩa",
    yes: "có", no: "không",
    body: "Dữ liệu gửi lên",
    responses: "Kết quả trả về",
    example: "Ví dụ",
    exampleAnswer: "Ví dụ kết quả",
    who: "Ai được gọi",
    anyone: "Mọi người (kể cả không đăng nhập); kết quả tùy quyền của người gọi.",
    account: "Tài khoản đã đăng nhập (khóa API hoặc phiên).",
    session: "Chỉ phiên đăng nhập trên trình duyệt (kèm X-CSRF-Token).",
    scope: "Cần phạm vi {s}.",
    noParams: "Không có tham số.",
    auth: "Xác thực",
    authText: "Người dùng ẩn danh đọc dữ liệu mở. Khóa API gửi trong tiêu đề Authorization: Bearer kho_…; phiên đăng nhập dùng cookie và tiêu đề X-CSRF-Token cho mọi yêu cầu thay đổi dữ liệu.",
    errors: "Lỗi",
    errorsText: "Mọi lỗi có dạng {\"error\": {\"code\", \"message\"}} với mã HTTP tương ứng; các hành động CKAN trả lỗi theo dạng của CKAN.",
    descNote: "Mô tả chi tiết bằng tiếng Anh.",
    loadFailed: "Không tải được tài liệu OpenAPI.",
  },
  en: {
    title: "API documentation",
    lead: "Every endpoint of the API: parameters, request bodies, answers and examples. Machine-readable as OpenAPI 3.1.",
    openapi: "OpenAPI document (JSON)",
    ckan: "CKAN-compatible API",
    dcat: "DCAT-AP catalogue (JSON-LD)",
    filter: "Filter endpoints",
    filterHint: "For example: rows, datastore, units…",
    count: "{n} endpoints",
    none: "No endpoint matches.",
    areas: "Areas",
    params: "Parameters",
    name: "Name", where: "In", type: "Type", required: "Required", meaning: "Meaning",
    yes: "yes", no: "no",
    body: "Request body",
    responses: "Answers",
    example: "Example",
    exampleAnswer: "Example answer",
    who: "Who may call it",
    anyone: "Anyone (signed in or not); what comes back depends on the caller's access.",
    account: "A signed-in account (an API key or a session).",
    session: "A browser session only (with X-CSRF-Token).",
    scope: "Needs the scope {s}.",
    noParams: "No parameters.",
    auth: "Authentication",
    authText: "Anonymous callers read open data. API keys go in Authorization: Bearer kho_…; browser sessions use the cookie and send X-CSRF-Token with every request that changes something.",
    errors: "Errors",
    errorsText: "Every error is {\"error\": {\"code\", \"message\"}} with the matching HTTP status; CKAN actions answer in CKAN's error shape.",
    descNote: "",
    loadFailed: "The OpenAPI document could not be loaded.",
  },
};

function w(key, vars) {
  let s = WORDS[lang()]?.[key] ?? WORDS.vi[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (all, k) => (k in vars ? String(vars[k]) : all));
  return s;
}

const METHODS = ["get", "post", "patch", "delete", "put"];
let root;
let doc = null;
let failure = null;
let filter = new URLSearchParams(location.search).get("q") || "";
let listEl;

export async function mount(el) {
  root = el;
  fill(root, h("h1", {}, w("title")), h("p", { class: "loading" }, t("loading")));
  try {
    doc = await api("/api/v1/openapi.json");
  } catch (e) {
    failure = e;
  }
  render();
  if (location.hash) document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView();
}

/** Follow a local "$ref" (#/components/...). */
function deref(x) {
  let guard = 0;
  while (x && x.$ref && guard++ < 10) {
    x = x.$ref.replace(/^#\//, "").split("/").reduce((o, k) => (o ? o[k] : undefined), doc);
  }
  return x || {};
}

function operations() {
  const out = [];
  for (const [path, item] of Object.entries(doc.paths || {}))
    for (const m of METHODS) if (item[m]) out.push({ path, method: m.toUpperCase(), op: item[m] });
  return out;
}

function summary(op) {
  return lang() === "vi" && op["x-summary-vi"] ? op["x-summary-vi"] : op.summary || "";
}

function matches(o, f) {
  if (!f) return true;
  const hay = `${o.method} ${o.path} ${o.op.summary || ""} ${o.op["x-summary-vi"] || ""} ${o.op.description || ""} ${(o.op.tags || []).join(" ")}`.toLowerCase();
  return f.toLowerCase().split(/\s+/).every((word) => hay.includes(word));
}

function typeText(schema) {
  const s = deref(schema);
  if (!s || !Object.keys(s).length) return "";
  if (s.enum) return s.enum.join(" | ");
  const ty = Array.isArray(s.type) ? s.type.join(" | ") : s.type || (s.allOf ? "object" : "");
  return ty === "array" && s.items ? `array of ${typeText(s.items)}` : ty;
}

function whoText(op) {
  const sec = op.security ?? doc.security ?? [];
  if (!sec.length || sec.some((r) => Object.keys(r).length === 0)) return w("anyone");
  const scopes = new Set(sec.flatMap((r) => Object.values(r).flat()));
  if (scopes.size) return `${w("account")} ${w("scope", { s: [...scopes].join(", ") })}`;
  if (sec.every((r) => "sessionCookie" in r)) return w("session");
  return w("account");
}

/** A curl command for this server, with the examples of the document. */
function curl(o) {
  const params = (o.op.parameters || []).map(deref);
  let path = o.path;
  for (const p of params.filter((p) => p.in === "path"))
    path = path.replace(`{${p.name}}`, encodeURIComponent(String(p.example ?? p.schema?.enum?.[0] ?? p.name)));
  const query = params.filter((p) => p.in === "query" && p.required && p.example !== undefined);
  const first = params.find((p) => p.in === "query" && !p.required && p.example !== undefined && typeof p.example !== "object");
  if (first && !query.length) query.push(first);
  const qs = query.map((p) => `${encodeURIComponent(p.name)}=${encodeURIComponent(String(p.example))}`).join("&");
  const url = `${location.origin}${path}${qs ? `?${qs}` : ""}`;
  const parts = ["curl -s"];
  if (o.method !== "GET") parts.push(`-X ${o.method}`);
  const sec = o.op.security ?? doc.security ?? [];
  if (sec.length && !sec.some((r) => Object.keys(r).length === 0)) parts.push(`-H ${shQuote("Authorization: Bearer $KHO_KEY")}`);
  const body = o.op.requestBody && deref(o.op.requestBody).content;
  const json = body?.["application/json"];
  if (json && json.example !== undefined) {
    parts.push(`-H ${shQuote("Content-Type: application/json")}`);
    parts.push(`-d ${shQuote(JSON.stringify(json.example))}`);
  } else if (body?.["text/csv"]) {
    parts.push(`-H ${shQuote("Content-Type: text/csv")}`, "--data-binary @file.csv");
  }
  parts.push(shQuote(url));
  return parts.join(" ");
}

function paramTable(params) {
  if (!params.length) return h("p", { class: "hint" }, w("noParams"));
  return h("div", { class: "table-wrap" },
    h("table", { class: "data compact" },
      h("thead", {}, h("tr", {}, ["name", "where", "type", "required", "meaning"].map((k) => h("th", { scope: "col" }, w(k))))),
      h("tbody", {}, params.map((p) => h("tr", {},
        h("td", {}, h("code", {}, p.name)),
        h("td", {}, p.in),
        h("td", {}, typeText(p.schema)),
        h("td", {}, p.required ? w("yes") : w("no")),
        h("td", {}, p.description || ""))))));
}

function answers(op) {
  const items = Object.entries(op.responses || {}).map(([code, r]) => {
    const resp = deref(r);
    const types = Object.keys(resp.content || {});
    return h("li", {}, h("code", {}, code), " ", resp.description || "", types.length ? h("span", { class: "hint" }, ` (${types.join(", ")})`) : null);
  });
  const ok = deref(op.responses?.["200"] || op.responses?.["201"]);
  const ex = ok?.content && Object.values(ok.content).find((c) => c.example !== undefined)?.example;
  return [h("h4", {}, w("responses")), h("ul", {}, items),
    ex !== undefined ? [h("h4", {}, w("exampleAnswer")), h("pre", { tabindex: "0" }, JSON.stringify(ex, null, 2))] : null];
}

function operation(o) {
  const params = (o.op.parameters || []).map(deref);
  const body = o.op.requestBody ? deref(o.op.requestBody) : null;
  const cmd = curl(o);
  return h("article", { class: "card endpoint", id: o.op.operationId },
    h("h3", {}, h("span", { class: `badge method method-${o.method.toLowerCase()}` }, o.method), " ",
      h("code", { style: "overflow-wrap: anywhere" }, o.path)),
    h("p", {}, h("strong", {}, summary(o.op))),
    o.op.description ? h("p", { lang: "en" }, o.op.description) : null,
    h("p", { class: "hint" }, `${w("who")}: ${whoText(o.op)}`),
    h("h4", {}, w("params")), paramTable(params),
    body ? [h("h4", {}, w("body")), h("p", {}, body.description || Object.keys(body.content || {}).join(", "))] : null,
    answers(o.op),
    h("h4", {}, w("example")),
    h("pre", { tabindex: "0" }, cmd),
    copyButton(cmd));
}

function drawList() {
  if (!listEl) return;
  const ops = operations().filter((o) => matches(o, filter));
  const tags = (doc.tags || []).map((tg) => tg.name);
  for (const o of ops) for (const tg of o.op.tags || []) if (!tags.includes(tg)) tags.push(tg);
  const tagName = (name) => {
    const tg = (doc.tags || []).find((x) => x.name === name);
    return lang() === "vi" && tg?.["x-name-vi"] ? tg["x-name-vi"] : name;
  };
  const groups = tags.map((tg) => ({ tg, ops: ops.filter((o) => (o.op.tags || [])[0] === tg) })).filter((g) => g.ops.length);
  fill(listEl,
    h("p", { class: "status", role: "status" }, w("count", { n: ops.length })),
    ops.length ? null : message("info", h("p", {}, w("none"))),
    groups.length ? h("nav", { class: "toc", "aria-label": w("areas") },
      h("ul", {}, groups.map((g) => h("li", {}, h("a", { href: `#area-${g.tg}` }, `${tagName(g.tg)} (${g.ops.length})`))))) : null,
    groups.map((g) => h("section", { id: `area-${g.tg}`, "aria-labelledby": `area-${g.tg}-h` },
      h("h2", { id: `area-${g.tg}-h` }, tagName(g.tg)),
      g.ops.map(operation))));
}

export function render() {
  if (!root) return;
  document.title = `${w("title")} — kho`;
  if (failure || !doc) {
    fill(root, h("h1", {}, w("title")), message("error", h("p", {}, w("loadFailed"), failure ? ` ${failure.message}` : "")));
    return;
  }
  const input = h("input", { type: "search", id: "api-filter", value: filter, placeholder: w("filterHint"), "aria-describedby": "api-filter-hint" });
  const update = debounce(() => {
    filter = input.value.trim();
    const u = new URL(location.href);
    if (filter) u.searchParams.set("q", filter);
    else u.searchParams.delete("q");
    history.replaceState(null, "", u);
    drawList();
  }, 200);
  input.addEventListener("input", update);
  listEl = h("div", { id: "api-list" });
  const info = doc.info || {};
  fill(root,
    h("h1", {}, w("title")),
    h("p", { class: "lead" }, w("lead")),
    h("p", { class: "lead" }, lang() === "vi" && info["x-description-vi"] ? info["x-description-vi"] : info.description || ""),
    h("ul", { class: "tags" },
      h("li", {}, h("a", { class: "tag", href: "/api/v1/openapi.json" }, w("openapi"))),
      h("li", {}, h("a", { class: "tag", href: "#area-CKAN" }, w("ckan"))),
      h("li", {}, h("a", { class: "tag", href: "/catalog.jsonld" }, w("dcat")))),
    h("h2", {}, w("auth")), h("p", {}, w("authText")),
    h("h2", {}, w("errors")), h("p", {}, w("errorsText")),
    w("descNote") ? h("p", { class: "hint" }, w("descNote")) : null,
    h("form", { class: "search", role: "search", onsubmit: (e) => e.preventDefault() },
      h("label", { for: "api-filter" }, w("filter")),
      h("div", { class: "row" }, input),
      h("p", { class: "hint", id: "api-filter-hint" }, w("filterHint"))),
    listEl);
  drawList();
}
