// Shared by the compensation pages: words for directions, states, parameters and ecosystems; money; the year picker.
"use strict";
const DIR_COLOURS = {downstream_pays: "#1e8a4c", upstream_pays: "#c0392b", none: "#8d9a93"};
const dirName = (d) => T(window.GEP.directions[d] || d);
const dirBadge = (d) => el("span", {class: `dir ${d}`}, dirName(d));
const paramName = (code) => { const p = window.GEP.parameters[code]; return p ? (window.GEP.lang === "zh" ? p.zh : p.en) : code; };
const paramUnit = (code) => { const p = window.GEP.parameters[code]; return p ? (window.GEP.lang === "zh" ? p.unit_zh : p.unit) : ""; };
const ecoName = (code) => { const e = window.GEP.ecosystems[code]; return e ? (window.GEP.lang === "zh" ? e.zh : e.en) : code; };
const fen = (n) => yuanText((n || 0) / 100);
const STATES = {draft: N_("not settled"), closed: N_("settled"), no_agreement: N_("no agreement"), valued: N_("valued"), remedied: N_("remedied")};
const stateBadge = (s) => el("span", {class: `badge ${s}`}, T(STATES[s] || s));
function yearSelect(years, chosen, onChange) {
  const sel = document.getElementById("year");
  const all = [...new Set([...years, chosen])].sort((a, b) => b - a);
  sel.replaceChildren(...all.map((y) => el("option", {value: y, selected: y === chosen}, y)));
  sel.onchange = () => onChange(Number(sel.value));
}
