// Project checks: the counties and the listed areas on the map, the project's outline drawn by clicks, its
// industry and ecosystem change; the check gives the negative list's verdict with its rule and the GEP change.
"use strict";
const CFG = window.GEP;
const ZH = CFG.lang === "zh";
const KIND_COLOURS = {red_line: "#b3261e", water_source: "#1f6fb2", key_function: "#2e7d32"};
let LIST = null, MAP = null, POINTS = [], SHAPE = null;
const word = (x) => (x ? (ZH ? x.zh : (x.en || x.zh)) : "");
const yuan = (v) => (Math.abs(Number(v)) < 0.5 ? "0" : Number(v).toLocaleString(undefined, {maximumFractionDigits: 0}));
const verdictWord = (v) => T(LIST.verdicts[v] || v);
async function init() {
  LIST = await api("/api/assessment/negative-list");
  document.getElementById("p-source").textContent = LIST.source;
  MAP = L.map("p-map", {attributionControl: false, zoomSnap: 0.25});
  MAP.setView([28.2, 119.6], 8);
  if (CFG.region_id) {
    const counties = L.geoJSON(await api(`/api/assessment/map?region_id=${CFG.region_id}`), {style: () => ({color: "#35533f", weight: 1, fillColor: "#eef1ef", fillOpacity: 0.5}),
      onEachFeature: (f, l) => l.bindTooltip(f.properties.name, {sticky: true})}).addTo(MAP);
    if (counties.getBounds().isValid()) MAP.fitBounds(counties.getBounds(), {padding: [6, 6]});
  }
  const areas = await api("/api/assessment/areas");
  L.geoJSON(areas, {style: (f) => ({color: KIND_COLOURS[f.properties.kind] || "#555", weight: 1.5, fillOpacity: 0.25}),
    onEachFeature: (f, l) => l.bindTooltip(`${f.properties.name} · ${word(LIST.kinds[f.properties.kind])}`, {sticky: true})}).addTo(MAP);
  document.getElementById("p-legend").replaceChildren(...Object.entries(LIST.kinds).map(([k, w]) => el("li", {}, el("span", {class: "dot", style: `background:${KIND_COLOURS[k] || "#555"}`}), word(w))));
  MAP.on("click", (ev) => { POINTS.push(ev.latlng); redraw(); });
  document.getElementById("p-clear").addEventListener("click", () => { POINTS = []; redraw(); });
  redraw();
  const form = document.getElementById("project");
  if (form) {
    const ind = document.getElementById("p-industry");
    ind.replaceChildren(...Object.entries(LIST.industries).map(([c, w]) => el("option", {value: c}, `${c} ${word(w)}`)));
    for (const [id, pick] of [["p-from", "forest"], ["p-to", "urban"]]) {
      const sel = document.getElementById(id);
      sel.replaceChildren(...Object.entries(LIST.ecosystems).map(([c, w]) => el("option", {value: c}, word(w))));
      sel.value = pick;
    }
    document.getElementById("p-preview").addEventListener("click", () => once(form, () => run(false)));
    onSubmit(form, () => run(true));
  }
  await loadList();
}
function redraw() {
  if (SHAPE) SHAPE.remove();
  SHAPE = null;
  if (POINTS.length) SHAPE = (POINTS.length > 2 ? L.polygon(POINTS, {color: "#6a1b9a", weight: 2}) : L.polyline(POINTS, {color: "#6a1b9a", dashArray: "4"})).addTo(MAP);
  document.getElementById("p-drawn").textContent = POINTS.length > 2 ? T("{n} corners drawn.", {n: POINTS.length}) : T("Click on the map to put the corners of the project's outline (at least three).");
}
function outline() {
  if (POINTS.length < 3) throw new Error(T("draw the project's outline first: at least three corners"));
  const ring = POINTS.map((p) => [p.lng, p.lat]);
  return {type: "Polygon", coordinates: [[...ring, ring[0]]]};
}
async function run(keep) {
  failIn("p-error", null);
  try {
    const body = {name: document.getElementById("p-name").value.trim() || T("Unnamed project"), proponent: document.getElementById("p-proponent").value.trim(),
      industry: document.getElementById("p-industry").value, region_id: CFG.region_id, geometry: outline(),
      from_ecosystem: document.getElementById("p-from").value, to_ecosystem: document.getElementById("p-to").value};
    const r = await api(keep ? "/api/assessment/projects" : "/api/assessment/projects/preview", {method: "POST", body});
    show(r);
    if (keep) await loadList();
  } catch (ex) { failIn("p-error", ex); }
}
function show(r) {
  document.getElementById("p-result").hidden = false;
  const v = r.decision;
  const box = document.getElementById("p-verdict");
  box.className = `verdict ${v.verdict}`;
  box.textContent = (r.code ? `${r.code} · ` : "") + verdictWord(v.verdict);
  document.getElementById("p-rule").textContent = v.rule
    ? T("Rule {id}: {industry} in {kind}", {id: v.rule.id, industry: `${v.rule.industry} ${word(LIST.industries[v.rule.industry])}`, kind: word(LIST.kinds[v.kind])}) + (v.rule.conditions ? ` · ${v.rule.conditions}` : "")
    : (r.areas.length ? T("No rule of the list covers this industry in the areas it touches.") : T("The project touches no listed area."));
  document.querySelector("#p-areas tbody").replaceChildren(...(r.areas.length ? r.areas.map((a) => el("tr", {}, el("td", {}, a.name), el("td", {}, ZH ? a.kind_zh : a.kind_en), el("td", {class: "n"}, a.overlap_ha.toFixed(2))))
    : [el("tr", {}, el("td", {colspan: "3", class: "muted"}, T("none")))]));
  const g = r.gep;
  document.getElementById("p-kpis").replaceChildren(kpiBox(T("GEP change (yuan/yr)"), yuan(g.change_yuan)), kpiBox(T("Changed (ha)"), g.changed_ha.toFixed(2)),
    kpiBox(T("Base year"), g.accounts_year));
  const cats = {material: N_("Material products"), regulating: N_("Regulating services"), cultural: N_("Cultural services")};
  document.querySelector("#p-gep tbody").replaceChildren(
    ...g.categories.map((c) => el("tr", {}, el("td", {}, el("strong", {}, T(cats[c.category]))), el("td", {class: "n"}, yuan(c.before_yuan)), el("td", {class: "n"}, yuan(c.after_yuan)), el("td", {class: "n"}, yuan(c.change_yuan)))),
    ...g.indicators.map((i) => el("tr", {}, el("td", {}, ZH ? i.name_zh : i.name_en), el("td", {class: "n"}, yuan(i.before_yuan)), el("td", {class: "n"}, yuan(i.after_yuan)), el("td", {class: "n"}, yuan(i.change_yuan)))));
}
async function loadList() {
  const rows = await api("/api/assessment/projects");
  document.querySelector("#p-list tbody").replaceChildren(...rows.map((p) => {
    const tr = el("tr", {class: "pick"}, el("td", {}, p.code), el("td", {}, p.name, " ", syntheticBadge(p)), el("td", {}, `${p.industry} ${word(LIST.industries[p.industry]) || ""}`),
      el("td", {}, el("span", {class: `vbadge ${p.verdict}`}, verdictWord(p.verdict)), p.rule_id ? ` ${p.rule_id}` : ""),
      el("td", {class: "n"}, p.gep_change_yuan === null ? "—" : yuan(p.gep_change_yuan)), el("td", {}, when(p.checked_at)));
    tr.addEventListener("click", async () => show(await api(`/api/assessment/projects/${p.id}`)));
    return tr;
  }));
  labelCells(document.getElementById("p-list"));
}
init().catch((ex) => failIn("p-error", ex));
