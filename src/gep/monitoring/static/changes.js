// Land-cover change: the pixels that changed (coloured by the ecosystem they left) over the map, each zone's losses
// with the alerts they raised, and for the monitoring centre the raster ingest and the comparison of two years.
"use strict";
let MAP = null, OVERLAY = null, ZONES = null;
const params = new URLSearchParams(location.search);
const COLOURS = {forest: "#1b7837", shrub: "#78a03c", grassland: "#b4c85a", wetland: "#286ec8", cropland: "#e6aa28", urban: "#c82828", bare: "#8c7864"};
async function load(reportId) {
  const reports = await api("/api/monitoring/changes");
  const sel = document.getElementById("c-report");
  const chosen = Number(reportId || params.get("report")) || (reports[0] && reports[0].id);
  sel.replaceChildren(...reports.map((r) => el("option", {value: r.id, selected: r.id === chosen}, `${r.year_from} → ${r.year_to} · ${T(r.level)}`)));
  if (!MAP) { MAP = L.map("c-map", {attributionControl: false}); outlines(MAP); }
  document.getElementById("c-legend").replaceChildren(...Object.keys(G.groups).map((g) => el("li", {}, el("span", {class: "dot", style: `background:${COLOURS[g]}`}), T("{group} lost", {group: groupName(g)}))));
  if (!chosen) { document.getElementById("c-sub").textContent = T("No comparison yet."); return; }
  const r = await api(`/api/monitoring/changes/${chosen}`);
  document.getElementById("c-sub").replaceChildren(T("Land cover of {a} against {b}, by {level}.", {a: r.year_from, b: r.year_to, level: T(r.level)}), " ", syntheticBadge(r, T("generated demo data")));
  if (OVERLAY) OVERLAY.remove();
  if (ZONES) ZONES.remove();
  const lost = {};
  for (const x of r.losses) if (x.alert) lost[x.zone] = (lost[x.zone] || 0) + x.lost_ha;
  ZONES = L.geoJSON(r.zones, {style: (f) => ({color: lost[f.properties.code] ? "#a11" : "#35533f", weight: lost[f.properties.code] ? 2 : 0.6, fill: false}),
    onEachFeature: (f, layer) => layer.bindTooltip(lost[f.properties.code] ? T("{zone}: {ha} ha lost past a threshold", {zone: f.properties.name, ha: lost[f.properties.code].toFixed(1)}) : f.properties.name, {sticky: true})}).addTo(MAP);
  OVERLAY = L.imageOverlay(`/api/monitoring/changes/${r.id}/map.png`, r.bounds, {opacity: 0.95}).addTo(MAP);
  MAP.fitBounds(r.bounds);
  const rows = r.losses.filter((x) => x.lost_ha > 0).sort((a, b) => (b.alert - a.alert) || (b.lost_ha - a.lost_ha));
  document.querySelector("#losses tbody").replaceChildren(...rows.map((x) => el("tr", {class: x.alert ? "alert" : ""},
    el("td", {}, x.name), el("td", {}, groupName(x.group)), el("td", {class: "n"}, x.before_ha.toFixed(1)), el("td", {class: "n"}, x.after_ha.toFixed(1)),
    el("td", {class: "n"}, x.lost_ha.toFixed(1)), el("td", {}, Object.entries(x.to).sort((a, b) => b[1] - a[1]).map(([g, ha]) => `${groupName(g)} ${ha.toFixed(1)}`).join(", ")),
    el("td", {}, x.alert ? el("span", {class: "badge a-open"}, T("alert")) : "—"))));
  labelCells(document.getElementById("losses"));
}
function forms() {
  const ingest = document.getElementById("ingest");
  if (!ingest) return;
  for (const id of ["i-region", "k-region"]) document.getElementById(id).replaceChildren(...G.regions.map((r) => el("option", {value: r.id}, r.name)));
  const listRasters = async () => {
    const rs = await api("/api/monitoring/rasters");
    document.getElementById("k-rasters").replaceChildren(...rs.map((r) => el("li", {}, `${({ecosystem: T("land cover"), npp: "NPP", precipitation: T("precipitation")})[r.layer] || r.layer} ${r.year}`, " ", syntheticBadge(r), r.source ? el("span", {class: "muted"}, ` · ${r.source}`) : "")));
  };
  listRasters().catch((ex) => failIn("c-error", ex));
  onSubmit(ingest, async () => {
    failIn("c-error"); doneIn("c-done");
    const problems = document.getElementById("i-problems"); problems.replaceChildren();
    const body = new FormData();
    for (const [k, id] of [["region_id", "i-region"], ["layer", "i-layer"], ["year", "i-year"], ["source", "i-source"]]) body.append(k, document.getElementById(id).value);
    body.append("file", document.getElementById("i-file").files[0]);
    try {
      const r = await api("/api/monitoring/rasters", {method: "POST", body});
      doneIn("c-done", T("{layer} of {year} checked and ingested.", {layer: r.layer, year: r.year}));
      ingest.reset(); await listRasters();
    } catch (ex) {
      failIn("c-error", ex);
      problems.replaceChildren(...(ex.problems || []).map((p) => el("li", {}, `${p.where}: ${p.message}`)));
    }
  });
  onSubmit(document.getElementById("compare"), async () => {
    failIn("c-error"); doneIn("c-done");
    try {
      const r = await api("/api/monitoring/changes", {method: "POST", body: {region_id: Number(document.getElementById("k-region").value), year_from: Number(document.getElementById("k-from").value), year_to: Number(document.getElementById("k-to").value), level: document.getElementById("k-level").value}});
      doneIn("c-done", T("Compared: {n} zones lost land past a threshold.", {n: r.losses.filter((x) => x.alert).length}));
      await load(r.id);
    } catch (ex) { failIn("c-error", ex); }
  });
}
document.getElementById("c-report").onchange = (ev) => { history.replaceState(null, "", `?report=${ev.target.value}`); load(ev.target.value).catch((ex) => failIn("c-error", ex)); };
forms();
load().catch((ex) => failIn("c-error", ex));
