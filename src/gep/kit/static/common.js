// Shared by every page: the page's config, words, JSON API calls with the CSRF token, formats, safe DOM building.
"use strict";
window.GEP = JSON.parse(document.getElementById("gep-config").textContent);
// Words come from the gettext catalogues (/i18n/<lang>.js); English is the message id itself.
// N_ marks a word for the catalogues where it is written and translated later with T (as in Python).
const N_ = (msgid) => msgid;
const T = (msgid, params) => {
  let text = (window.GEP_WORDS && window.GEP_WORDS[msgid]) || msgid;
  if (params) for (const [k, v] of Object.entries(params)) text = text.split(`{${k}}`).join(String(v));
  return text;
};
async function api(path, options = {}) {
  // the answer (errors included) in the page's language, whatever the browser's own
  const headers = Object.assign({"Accept": "application/json", "Accept-Language": window.GEP.lang}, options.headers || {});
  if (options.body && typeof options.body !== "string" && !(options.body instanceof FormData)) {
    headers["Content-Type"] = "application/json"; options.body = JSON.stringify(options.body);
  }
  if (options.method && options.method !== "GET") headers["X-CSRF-Token"] = window.GEP.csrf;
  const res = await fetch(path, Object.assign({}, options, {headers, credentials: "same-origin"}));
  const type = res.headers.get("content-type") || "";
  const data = type.includes("json") ? await res.json() : null;
  if (!res.ok) {
    const error = new Error((data && data.detail) || res.statusText);
    error.status = res.status; error.problems = (data && data.problems) || [];
    throw error;
  }
  return data;
}
// Yuan as the API sends them (decimal strings), shown with two decimals and thousands separators.
const yuanText = (s) => (s === null || s === undefined || s === "" ? "—" : Number(s).toLocaleString(undefined, {minimumFractionDigits: 2, maximumFractionDigits: 2}));
// A fresh Idempotency-Key for one user action: a retried request is recognised by the server.
const newKey = () => (window.crypto && crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2));
const yi = (yuan) => (yuan / 1e8).toLocaleString(undefined, {minimumFractionDigits: 2, maximumFractionDigits: 2});
// Money in the unit that suits the zone: 亿元 for cities and counties, 万元 when the total is below 1 亿元.
function moneyUnit(total) { return total >= 1e8 ? {scale: 1e8, key: N_("100 M yuan")} : {scale: 1e4, key: N_("10 k yuan")}; }
function money(yuan, unit) { return (yuan / unit.scale).toLocaleString(undefined, {minimumFractionDigits: 2, maximumFractionDigits: 2}); }
const perKm2 = (yuan) => (yuan / 1e4).toLocaleString(undefined, {minimumFractionDigits: 1, maximumFractionDigits: 1});
const pct = (part, whole) => {
  if (!whole) return "—";
  const share = 100 * part / whole;
  return share > 0 && share < 0.005 ? "<0.01%" : share.toFixed(2) + "%";
};
// Charts draw their text in SVG: give them the page's fonts, so Chinese labels are not boxes.
const chartFont = () => ({family: getComputedStyle(document.body).fontFamily, size: 12});
// A moment in the reader's own time zone (the API sends UTC), as 2026-11-30 16:00:58.
const when = (iso) => {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso).replace("T", " ").slice(0, 19);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};
// One request per click: a form's buttons stay disabled until its request returns (a double click sends once).
async function once(form, run) {
  if (form.dataset.busy) return undefined;
  form.dataset.busy = "1";
  const buttons = [...form.querySelectorAll("button")];
  for (const b of buttons) b.disabled = true;
  try { return await run(); } finally { delete form.dataset.busy; for (const b of buttons) b.disabled = false; }
}
function onSubmit(form, handler) { form.addEventListener("submit", (ev) => { ev.preventDefault(); once(form, () => handler(ev)); }); }
// Elements are built with text nodes only: nothing a user typed is ever parsed as HTML.
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v; else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== undefined && c !== null && c !== "") e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
// Label every cell of a "cards" table with its column's name (a phone shows rows as cards).
function labelCells(table) {
  const names = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
  for (const row of table.querySelectorAll("tbody tr")) [...row.children].forEach((td, i) => { if (names[i]) td.setAttribute("data-label", names[i]); });
}
// The bell: unread notifications, refreshed every minute.
async function refreshBell() {
  const badge = document.getElementById("bell-count");
  if (!badge) return;
  try {
    const r = await api("/api/notifications/unread");
    badge.textContent = r.unread > 99 ? "99+" : String(r.unread);
    badge.hidden = !r.unread;
  } catch (e) { /* logged out: the next page load asks for a login */ }
}
if (document.getElementById("bell")) { refreshBell(); setInterval(refreshBell, 60000); }
// The phone menu: the header's button shows and hides the links.
(() => {
  const button = document.getElementById("menu-button");
  if (!button) return;
  button.addEventListener("click", () => {
    const open = button.closest("header").classList.toggle("open");
    button.setAttribute("aria-expanded", String(open));
  });
})();
// Shared page helpers: an error or a confirmation shown in the element `id`, a key figure, the synthetic badge.
function failIn(id, ex) { const e = document.getElementById(id); if (!e) return; e.textContent = ex ? ex.message : ""; e.hidden = !ex; if (ex) e.scrollIntoView({block: "nearest"}); }
function doneIn(id, text) { const e = document.getElementById(id); if (!e) return; e.textContent = text || ""; e.hidden = !text; }
function kpiBox(label, value) { return el("div", {class: "kpi"}, el("div", {class: "k"}, label), el("div", {class: "v"}, value)); }
function syntheticBadge(row, title) { return row.synthetic ? el("span", {class: "badge synthetic", title: title || T("generated demo data")}, T("synthetic")) : ""; }
