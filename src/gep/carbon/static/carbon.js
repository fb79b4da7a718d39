// Shared by the carbon registry's pages: words for types, purposes and report states; numbers; badges.
"use strict";
const typeName = (t) => T(window.GEP.types[t] || t);
const purposeName = (p) => T(window.GEP.purposes[p] || p);
const periodStateName = (s) => T(window.GEP.period_states[s] || s);
const tonnes = (n) => (n === null || n === undefined ? "—" : Number(n).toLocaleString(undefined, {maximumFractionDigits: 0}));
const tonnes1 = (n) => Number(n).toLocaleString(undefined, {minimumFractionDigits: 1, maximumFractionDigits: 1});
function fail(id, ex) { const e = document.getElementById(id); if (!e) return; e.textContent = ex ? ex.message : ""; e.hidden = !ex; if (ex) e.scrollIntoView({block: "nearest"}); }
function synthetic(row) { return row.synthetic ? el("span", {class: "badge synthetic", title: T("generated demo data, not a real project")}, T("synthetic")) : ""; }
function checkBadge(p) {
  if (p.flag) return el("span", {class: "badge flagged", title: T(p.flag)}, T("flagged"));
  if (p.check && p.check.done) return el("span", {class: "badge ok", title: T("issued {issued} t; the GEP accounts give {expected} t over the same parcels and years", {issued: tonnes(p.check.issued_t), expected: tonnes(p.check.expected_t)})}, T("within the accounts"));
  return "—";
}
function kpi(label, value) { return el("div", {class: "kpi"}, el("div", {class: "k"}, label), el("div", {class: "v"}, value)); }
function certLink(serial) { return serial ? el("a", {href: `/certificates/${serial}`}, serial) : "—"; }
