// Shared by the credit pages: words for lists, states and sources; a grade badge; an error line.
"use strict";
const stateName = (s) => T(window.GEP.states[s] || s);
const sourceName = (s) => T(window.GEP.sources[s] || s);
const kindName = (k) => T(window.GEP.kinds[k] || k);
const zh = () => (window.GEP.lang || "zh").startsWith("zh");
const nameOf = (row) => (zh() ? row.name_zh : row.name_en);
function fail(id, ex) { const e = document.getElementById(id); if (!e) return; e.textContent = ex ? ex.message : ""; e.hidden = !ex; if (ex) e.scrollIntoView({block: "nearest"}); }
function done(id, text) { const e = document.getElementById(id); if (!e) return; e.textContent = text || ""; e.hidden = !text; }
function points(n) { return el("span", {class: n >= 0 ? "pos" : "neg"}, n > 0 ? `+${n}` : String(n)); }
function synthetic(row) { return row.synthetic ? el("span", {class: "badge synthetic", title: T("generated demo data, not a real record")}, T("synthetic")) : ""; }
function kpi(label, value) { return el("div", {class: "kpi"}, el("div", {class: "k"}, label), el("div", {class: "v"}, value)); }
const CAUSES = {accepted: N_("an event accepted"), withdrawn: N_("an event withdrawn"), expired: N_("an event expired"),
  recount: N_("recounted"), corrected: N_("an event corrected"), objection: N_("an objection upheld")};
const OBJECTION_STATES = {open: N_("open"), upheld: N_("upheld"), dismissed: N_("dismissed")};
const causeName = (c) => T(CAUSES[c] || c);
