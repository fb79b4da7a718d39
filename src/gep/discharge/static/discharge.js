// Shared by the discharge pages: pollutant names, tonnes, a year picker, errors.
"use strict";
const polName = (code) => { const p = window.GEP.pollutants[code]; return p ? (window.GEP.lang === "zh" ? `${p.zh}（${p.en}）` : p.en) : code; };
const short = (code) => { const p = window.GEP.pollutants[code]; return p ? p.en : code; };
const t3 = (s) => (s === null || s === undefined ? "—" : Number(s).toLocaleString(undefined, {minimumFractionDigits: 3, maximumFractionDigits: 3}));
function fail(id, ex) { const e = document.getElementById(id); if (!e) return; e.textContent = ex ? ex.message : ""; e.hidden = !ex; if (ex) e.scrollIntoView({block: "nearest"}); }
function yearPicker(onChange) {
  const sel = document.getElementById("year");
  const now = new Date().getFullYear();
  for (let y = now + 1; y >= now - 4; y--) sel.append(el("option", {value: y, selected: y === now}, y));
  sel.addEventListener("change", () => onChange(Number(sel.value)));
  return Number(sel.value);
}
function bar(pct) {
  const cls = pct === null ? "" : pct >= 100 ? "over" : pct >= window.GEP.thresholds[0] ? "warn" : "";
  return el("div", {class: `bar ${cls}`, role: "img", "aria-label": pct === null ? "—" : `${pct}%`}, el("span", {style: `width:${Math.min(pct || 0, 100)}%`}));
}
function synthetic(row) { return row.synthetic ? el("span", {class: "badge synthetic", title: T("generated demo data, not a real enterprise")}, T("synthetic")) : ""; }
