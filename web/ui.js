// ui — small helpers the pages share: building elements (text is always set
// as text, never parsed as HTML), calling the API, copying, announcing.
import { t } from "./i18n.js";

/**
 * h("a", {href: "/x", class: "c", onclick: fn}, "text", child, ...): an element.
 * Attributes starting with "on" are listeners; null/false attributes and
 * children are skipped; strings become text nodes.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value" || k === "checked" || k === "selected" || k === "disabled") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replace el's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** An error from the API: status, code and message as the server said them. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

let csrf = null;
export function setCsrf(token) {
  csrf = token || null;
}

/** GET (or another method) a JSON endpoint; throws ApiError on an error status. */
export async function api(path, { method = "GET", body, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, credentials: "same-origin" });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, "network", t("error.network"));
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const e = data && data.error;
    throw new ApiError(res.status, e?.code || "http_" + res.status, e?.message || `${res.status} ${res.statusText}`, e?.details);
  }
  return data;
}

/** The HTTP status this page was served with (404 for an unknown dataset), or 200. */
export function pageStatus() {
  const nav = performance.getEntriesByType?.("navigation")?.[0];
  return nav && nav.responseStatus ? nav.responseStatus : 200;
}

let live;
/** Say msg to screen readers (polite). */
export function announce(msg) {
  live ??= document.getElementById("live");
  if (!live) return;
  live.textContent = "";
  setTimeout(() => (live.textContent = msg), 30);
}

/** A button that copies text() to the clipboard and says so. */
export function copyButton(text, label = t("copy")) {
  const b = h("button", { type: "button", class: "copy" }, label);
  b.addEventListener("click", async () => {
    const s = typeof text === "function" ? text() : text;
    let ok = false;
    try {
      await navigator.clipboard.writeText(s);
      ok = true;
    } catch {
      ok = legacyCopy(s);
    }
    b.textContent = ok ? t("copied") : label;
    announce(ok ? t("copied") : t("copy.failed"));
    if (ok) setTimeout(() => (b.textContent = label), 2000);
  });
  return b;
}

function legacyCopy(s) {
  const ta = h("textarea", { class: "offscreen", readonly: true }, s);
  document.body.append(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

/** A message box; kind "error" is announced at once (role=alert). */
export function message(kind, ...children) {
  return h("div", { class: `msg msg-${kind}`, role: kind === "error" ? "alert" : "status" }, ...children);
}

export function errorBox(e, retry) {
  const text = e instanceof ApiError && e.status === 0 ? e.message : t("error.generic", { msg: e.message });
  return message("error", h("p", {}, text), retry ? h("button", { type: "button", onclick: retry }, t("retry")) : null);
}

/** Debounce fn by ms. */
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Shell-quote for a POSIX shell: 'text' with embedded quotes escaped. */
export function shQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

/** The text of a cell value (null as an empty cell). */
export function cellText(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Pagination: previous, numbered pages around the current one, next. */
export function pager(page, pages, go) {
  if (pages <= 1) return null;
  const nums = new Set([1, pages, page - 1, page, page + 1].filter((n) => n >= 1 && n <= pages));
  const items = [];
  let last = 0;
  for (const n of [...nums].sort((a, b) => a - b)) {
    if (n - last > 1) items.push(h("li", { class: "gap", "aria-hidden": "true" }, "…"));
    items.push(h("li", {}, n === page
      ? h("span", { "aria-current": "page", class: "current" }, String(n))
      : h("button", { type: "button", "aria-label": t("page.goto", { n }), onclick: () => go(n) }, String(n))));
    last = n;
  }
  return h("nav", { class: "pager", "aria-label": t("page.nav") },
    h("button", { type: "button", disabled: page <= 1, onclick: () => go(page - 1) }, "‹ ", t("page.prev")),
    h("ol", {}, items),
    h("button", { type: "button", disabled: page >= pages, onclick: () => go(page + 1) }, t("page.next"), " ›"),
    h("span", { class: "visually-hidden" }, t("page.current", { n: page, total: pages })));
}
