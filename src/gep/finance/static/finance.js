// Shared by the finance pages: words for states and rules, money from fen, rates from basis points.
"use strict";
const stateName = (s) => T(window.GEP.states[s] || s);
const zhLang = () => (window.GEP.lang || "zh").startsWith("zh");
const productName = (x) => (zhLang() ? x.product_zh || x.name_zh : x.product_en || x.name_en);
const fenText = (f) => (f === null || f === undefined ? "—" : (f / 100).toLocaleString(undefined, {minimumFractionDigits: 2, maximumFractionDigits: 2}));
const rateText = (bp) => `${(bp / 100).toFixed(2)} %`;
function fail(id, ex) { const e = document.getElementById(id); if (!e) return; e.textContent = ex ? ex.message : ""; e.hidden = !ex; if (ex) e.scrollIntoView({block: "nearest"}); }
function done(id, text) { const e = document.getElementById(id); if (!e) return; e.textContent = text || ""; e.hidden = !text; }
function kpi(label, value) { return el("div", {class: "kpi"}, el("div", {class: "k"}, label), el("div", {class: "v"}, value)); }
function stateBadge(s) { return el("span", {class: `state s-${s}`}, stateName(s)); }
function synthetic(row) { return row.synthetic ? el("span", {class: "badge synthetic", title: T("generated demo data, not a real loan")}, T("synthetic")) : ""; }
// A reason from the rules: its template translated, then filled.
function reasonText(r) { return T(r.message, r.params); }
