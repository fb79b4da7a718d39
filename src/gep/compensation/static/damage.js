// The damage cases: the list, and for the office a form to open one: draw the damaged area on the map (or
// import a GeoJSON file), say what changed and how it recovers, value it, open the case.
"use strict";
const CATEGORY = {material: N_("material products"), regulating: N_("regulating services"), cultural: N_("cultural services")};
async function loadCases() {
  const rows = await api("/api/compensation/damage");
  document.querySelector("#cases tbody").replaceChildren(...rows.map((c) => el("tr", {},
    el("td", {}, el("a", {href: `/compensation/damage/${c.id}`}, c.code), " ", syntheticBadge(c)),
    el("td", {}, c.title), el("td", {}, c.occurred_on),
    el("td", {}, `${ecoName(c.from_ecosystem)} → ${ecoName(c.to_ecosystem)}`),
    el("td", {class: "n"}, c.changed_ha === null || c.changed_ha === undefined ? "—" : c.changed_ha.toFixed(2)),
    el("td", {class: "n"}, fen(c.total_fen)), el("td", {}, stateBadge(c.state)))));
  if (!rows.length) document.querySelector("#cases tbody").append(el("tr", {}, el("td", {colspan: 7, class: "muted"}, T("No case yet."))));
  labelCells(document.getElementById("cases"));
}
let POINTS = [], SHAPE = null, IMPORTED = null, MAP = null;
function redraw() {
  if (SHAPE) SHAPE.remove();
  SHAPE = null;
  if (IMPORTED) { SHAPE = L.geoJSON(IMPORTED, {style: {color: "#c0392b", weight: 2}}).addTo(MAP); MAP.fitBounds(SHAPE.getBounds(), {maxZoom: 15}); }
  else if (POINTS.length) SHAPE = (POINTS.length > 2 ? L.polygon(POINTS, {color: "#c0392b", weight: 2}) : L.polyline(POINTS, {color: "#c0392b", dashArray: "4"})).addTo(MAP);
  document.getElementById("n-drawn").textContent = IMPORTED ? T("The area comes from the imported file.") : POINTS.length > 2 ? T("{n} corners drawn.", {n: POINTS.length}) : T("Click on the map to put the corners of the damaged area (at least three).");
}
function geometry() {
  if (IMPORTED) return IMPORTED;
  if (POINTS.length < 3) throw new Error(T("draw the damaged area first: at least three corners"));
  const ring = POINTS.map((p) => [p.lng, p.lat]);
  return {type: "Polygon", coordinates: [[...ring, ring[0]]]};
}
async function setUpForm() {
  const form = document.getElementById("case");
  if (!form) return;
  MAP = L.map("n-map", {attributionControl: false, zoomSnap: 0.25});
  if (window.GEP.region_id) {
    const counties = await api(`/api/compensation/regions/${window.GEP.region_id}/counties`);
    const layer = L.geoJSON(counties, {style: {color: "#35533f", weight: 1, fillColor: "#dfe9e2", fillOpacity: 0.35}, interactive: false}).addTo(MAP);
    if (layer.getBounds().isValid()) MAP.fitBounds(layer.getBounds());
  }
  MAP.on("click", (ev) => { if (IMPORTED) return; POINTS.push(ev.latlng); redraw(); });
  document.getElementById("n-clear").addEventListener("click", () => { POINTS = []; IMPORTED = null; document.getElementById("n-file").value = ""; redraw(); });
  document.getElementById("n-file").addEventListener("change", async (ev) => {
    failIn("n-error");
    try {
      const data = JSON.parse(await ev.target.files[0].text());
      const g = data.type === "FeatureCollection" ? data.features[0].geometry : data.type === "Feature" ? data.geometry : data;
      if (!g || !["Polygon", "MultiPolygon"].includes(g.type)) throw new Error(T("the file holds no polygon"));
      IMPORTED = g; POINTS = []; redraw();
    } catch (ex) { failIn("n-error", new Error(T("{file} is not a GeoJSON polygon: {reason}", {file: ev.target.files[0].name, reason: ex.message}))); }
  });
  const eco = Object.entries(window.GEP.ecosystems);
  const allTypes = T("(all types)");
  const opts = (sel, chosen) => sel.replaceChildren(...eco.map(([code, e]) => el("option", {value: code, selected: code === chosen}, e.group ? `${ecoName(code)} ${allTypes}` : `· ${ecoName(code)}`)));
  opts(document.getElementById("n-from"), "forest"); opts(document.getElementById("n-to"), "bare");
  document.getElementById("n-path").replaceChildren(...Object.entries(window.GEP.paths).map(([k, v]) => el("option", {value: k, selected: k === "linear"}, T(v))));
  const pathSel = document.getElementById("n-path");
  pathSel.addEventListener("change", () => { document.getElementById("n-curve-label").hidden = pathSel.value !== "curve"; });
  document.getElementById("n-rate").value = window.GEP.default_rate;
  document.getElementById("n-carbon").value = window.GEP.default_carbon_price;
  document.getElementById("n-date").value = new Date().toISOString().slice(0, 10);
  const body = () => {
    const v = (id) => document.getElementById(id).value.trim();
    const b = {title: v("n-title"), responsible: v("n-resp"), region_id: window.GEP.region_id, geometry: geometry(), occurred_on: v("n-date"),
      from_ecosystem: v("n-from"), to_ecosystem: v("n-to"), recovery_years: Number(v("n-years")), path: v("n-path"),
      discount_rate: v("n-rate"), carbon_price_yuan: v("n-carbon"), items: []};
    if (v("n-price")) b.price_year = Number(v("n-price"));
    if (v("n-item") || v("n-item-yuan")) b.items.push({name: v("n-item"), yuan: v("n-item-yuan"), source: v("n-item-source")});
    if (b.path === "curve") b.curve = v("n-curve").split(/[,，\s]+/).filter(Boolean).map(Number);
    return b;
  };
  document.getElementById("n-preview").addEventListener("click", async () => {
    failIn("n-error");
    try { show(await api("/api/compensation/damage/preview", {method: "POST", body: {...body(), title: body().title || "—"}})); }
    catch (ex) { failIn("n-error", ex); }
  });
  onSubmit(form, async () => {
    failIn("n-error");
    try { const c = await api("/api/compensation/damage", {method: "POST", body: body()}); location.href = `/compensation/damage/${c.id}`; }
    catch (ex) { failIn("n-error", ex); }
  });
}
function show(r) {
  document.getElementById("n-result").replaceChildren(
    el("div", {class: "kpis"}, kpiBox(T("Claim (yuan)"), fen(r.total_fen)), kpiBox(T("Area changed (ha)"), r.changed_ha.toFixed(2)),
      kpiBox(T("Yearly loss (yuan)"), yuanText(r.yearly_loss_yuan)), kpiBox(T("Carbon sinks to retire (t)"), r.carbon_tonnes === null ? "—" : r.carbon_tonnes.toLocaleString())),
    el("p", {class: "muted"}, T("{changed} of the {pixels} pixels inside the area are of the ecosystem that changed; after the damage they are valued as {n} pixels of the new ecosystem nearby are.", {changed: r.changed_pixels, pixels: r.pixels, n: r.reference_pixels})),
    el("ul", {class: "plain"}, ...r.categories.map((c) => el("li", {}, T("{service}: {before} → {after} yuan a year", {service: T(CATEGORY[c.category]), before: yuanText(c.before_yuan), after: yuanText(c.after_yuan)})))));
}
loadCases().catch((ex) => failIn("d-error", ex));
setUpForm().catch((ex) => failIn("n-error", ex));
