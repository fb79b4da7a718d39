// Shared by the monitoring pages: names of kinds, parameters, departments, categories and ecosystem groups.
"use strict";
const G = window.GEP;
const zhOrEn = (o) => (o ? (G.lang === "zh" ? o.zh : o.en) : "");
const kindName = (k) => zhOrEn(G.kinds[k]) || k;
const paramName = (kind, p) => zhOrEn((G.kinds[kind] || {parameters: {}}).parameters[p]) || p;
const deptName = (d) => zhOrEn(G.departments[d]) || d;
const groupName = (g) => zhOrEn(G.groups[g]) || (g === "none" ? T("no data") : g);
const STATUS = {ok: N_("within limits"), beyond: N_("beyond a limit"), stale: N_("no recent data"), no_data: N_("no data")};
const STATUS_COLOURS = {ok: "#1e8a4c", beyond: "#c0392b", stale: "#c98a00", no_data: "#8d9a93"};
const statusBadge = (s) => el("span", {class: `badge s-${s}`}, T(STATUS[s] || s));
const alertBadge = (s) => el("span", {class: `badge a-${s}`}, T(G.alert_states[s] || s));
function button(label, handler, cls = "") { const b = el("button", {type: "button", class: cls}, label); b.addEventListener("click", handler); return b; }
const num = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(3).replace(/\.?0+$/, ""));
// The region's counties under a map's own layers, so a point has its place (and a tooltip names the county).
function outlines(map) {
  const layer = L.geoJSON(G.counties, {style: () => ({color: "#35533f", weight: 1, fillColor: "#dfe9e2", fillOpacity: 0.5}), interactive: false}).addTo(map);
  const b = layer.getBounds();
  if (b.isValid()) map.fitBounds(b, {padding: [8, 8]}); else map.setView([28.2, 119.6], 8);
  return layer;
}
