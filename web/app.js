// app — the entry of every portal page: the header (language, sign-in), and
// the page for this URL: "/" the catalogue, "/datasets/{id}" a dataset,
// "/dashboard" the indicators dashboard, "/sql" the SQL sandbox, "/api" the
// API documentation. Each page module exports mount(root) (load, then draw)
// and render() (draw again from what it holds, after a language switch).
import { lang, setLang, t } from "./i18n.js";
import { api, ApiError, h, fill, setCsrf, message } from "./ui.js";
import * as catalogue from "./catalogue.js";
import * as dataset from "./dataset.js";
import * as sql from "./sql.js";
import * as dashboard from "./dashboard.js";
import * as apidocs from "./apidocs.js";

const main = document.getElementById("main");
let page = null;
let me = { role: "public" };

function route() {
  const path = location.pathname.replace(/\/+$/, "") || "/";
  if (path === "/") return catalogue;
  if (path === "/sql") return sql;
  if (path === "/dashboard") return dashboard;
  if (path === "/api") return apidocs;
  if (/^\/datasets\/[^/]+$/.test(path)) return dataset;
  return null;
}

/** Texts of the static shell (header, footer) in the current language. */
function relabel() {
  document.documentElement.lang = lang();
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  const sw = document.getElementById("lang");
  sw.textContent = t("lang.switch");
  sw.setAttribute("lang", lang() === "vi" ? "en" : "vi");
  sw.setAttribute("aria-label", t("lang.switch.label"));
  drawAccount();
}

function drawAccount() {
  const box = document.getElementById("account");
  if (!box) return;
  if (me.role && me.role !== "public" && me.user) {
    fill(box,
      h("span", { class: "who" }, t("auth.as", { user: me.user, role: t("role." + me.role) })),
      h("button", { type: "button", class: "link", onclick: signOut }, t("auth.signout")));
  } else {
    fill(box, h("button", { type: "button", class: "link", onclick: openSignIn }, t("auth.signin")));
  }
}

async function loadMe() {
  try {
    me = await api("/api/v1/auth/me");
    setCsrf(me.csrf_token);
  } catch {
    me = { role: "public" };
  }
  drawAccount();
}

function openSignIn() {
  const err = h("p", { class: "form-error", role: "alert", hidden: true });
  const name = h("input", { id: "signin-name", name: "name", autocomplete: "username", required: true });
  const pw = h("input", { id: "signin-pw", name: "password", type: "password", autocomplete: "current-password", required: true });
  const dlg = h("dialog", { class: "signin", "aria-labelledby": "signin-title" });
  const close = () => {
    dlg.close();
    dlg.remove();
  };
  const form = h("form", {
    onsubmit: async (ev) => {
      ev.preventDefault();
      err.hidden = true;
      try {
        me = await api("/api/v1/auth/login", { method: "POST", body: { name: name.value, password: pw.value } });
        setCsrf(me.csrf_token);
        close();
        location.reload(); // what the account may see differs: load the page anew
      } catch (e) {
        err.textContent = e.message;
        err.hidden = false;
        pw.select();
      }
    },
  },
  h("h2", { id: "signin-title" }, t("auth.title")),
  h("label", { for: "signin-name" }, t("auth.name")), name,
  h("label", { for: "signin-pw" }, t("auth.password")), pw,
  err,
  h("div", { class: "actions" },
    h("button", { type: "submit", class: "primary" }, t("auth.submit")),
    h("button", { type: "button", onclick: close }, t("auth.cancel"))));
  dlg.append(form);
  dlg.addEventListener("cancel", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  name.focus();
}

async function signOut() {
  try {
    await api("/api/v1/auth/logout", { method: "POST", body: {} });
  } catch {
    /* the session may have ended already */
  }
  location.reload();
}

async function start() {
  relabel();
  document.getElementById("lang").addEventListener("click", () => {
    setLang(lang() === "vi" ? "en" : "vi");
    relabel();
    page?.render?.();
  });
  for (const a of document.querySelectorAll("nav.main a")) {
    const href = a.getAttribute("href");
    const here = href === "/" ? location.pathname === "/" || location.pathname.startsWith("/datasets/") : location.pathname.startsWith(href);
    if (here) a.setAttribute("aria-current", "page");
  }
  loadMe();
  page = route();
  if (!page) {
    document.title = `${t("notfound.title")} — kho`;
    fill(main, h("h1", {}, t("notfound.title")), message("info", h("p", {}, t("notfound.text"))),
      h("p", {}, h("a", { href: "/" }, t("back.catalogue"))));
    return;
  }
  try {
    await page.mount(main);
  } catch (e) {
    fill(main, message("error", h("p", {}, e instanceof ApiError ? e.message : String(e))));
  }
}

start();
