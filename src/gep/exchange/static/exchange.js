// Shared by the exchange's pages: words for states and modes, categories, state badges, countdowns.
"use strict";
const stateName = (s) => T(window.GEP.states[s] || s);
const modeName = (m) => T(window.GEP.modes[m] || m);
const CATS = Object.fromEntries(window.GEP.categories.map((c) => [c.code, c]));
const catName = (code) => (CATS[code] ? (window.GEP.lang === "zh" ? CATS[code].zh : CATS[code].en) : code || "—");
function stateBadge(state) { return el("span", {class: `badge s-${state}`}, stateName(state)); }
function syntheticBadge(row) { return row.synthetic ? el("span", {class: "badge synthetic", title: T("generated demo data, not a real trade")}, T("synthetic")) : ""; }
function fail(id, ex) { const e = document.getElementById(id); if (!e) return; e.textContent = ex ? ex.message : ""; e.hidden = !ex; if (ex) e.scrollIntoView({block: "nearest"}); }
// "2 d 03:04:05" until a moment, from the server's clock (the page's clock may be off).
function countdown(targetIso, serverIso, fetchedAt) {
  const skew = new Date(serverIso).getTime() - fetchedAt;
  const left = Math.max(0, new Date(targetIso).getTime() - (Date.now() + skew));
  const s = Math.floor(left / 1000), d = Math.floor(s / 86400);
  const hms = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60].map((n) => String(n).padStart(2, "0")).join(":");
  return {ms: left, text: d ? T("{d} d {hms}", {d, hms}) : hms};
}
function populateCategories(select, filter) {
  for (const c of window.GEP.categories.filter(filter || (() => true))) select.append(el("option", {value: c.code}, window.GEP.lang === "zh" ? c.zh : c.en));
}
// A decimal amount of yuan typed by a person: digits, at most two decimals.
function yuanInput(value) { const v = String(value).trim().replace(/[,，\s]/g, ""); return /^\d+(\.\d{1,2})?$/.test(v) ? v : null; }
