// The registry map: parcels of the view, a parcel's rights, locks, history and value; a drawn polygon's value; imports.
"use strict";
const regName = (r) => (window.GEP.lang === "zh" ? r.name : r.name_en || r.name);
const state = {region: null, map: null, layer: null, colour: "kind", kind: "", drawing: null, drawn: null};
const MIN_ZOOM = 12;

function notice(text) { const n = document.getElementById("notice"); n.textContent = text || ""; n.hidden = !text; }

async function init() {
  const regions = window.GEP.regions || [];
  const select = document.getElementById("region");
  select.replaceChildren(...regions.map((r) => el("option", {value: r.id}, regName(r))));
  if (!regions.length) { notice(T("No region yet: import a region package first.")); return; }
  state.region = regions[0].id;
  state.map = L.map("map", {preferCanvas: true, attributionControl: false, zoomSnap: 0.5});
  const outline = await api(`/api/regions/${state.region}/map?level=county`);
  const counties = L.geoJSON(outline, {style: {color: "#35533f", weight: 1, fill: false}, interactive: false}).addTo(state.map);
  state.map.fitBounds(counties.getBounds());
  state.map.on("moveend", load);
  select.addEventListener("change", () => { state.region = Number(select.value); load(); });
  document.getElementById("colour").addEventListener("change", (e) => { state.colour = e.target.value; load(); });
  document.getElementById("kind-filter").addEventListener("change", (e) => { state.kind = e.target.value; load(); });
  document.getElementById("draw").addEventListener("click", toggleDraw);
  const opener = document.getElementById("open-import");
  if (opener) opener.addEventListener("click", () => { const c = document.getElementById("import-card"); c.hidden = !c.hidden; c.scrollIntoView({behavior: "smooth"}); });
  const form = document.getElementById("import-form");
  if (form) form.addEventListener("submit", importFile);
  kindLegend(document.getElementById("legend"), state.colour);
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("parcel")) showParcel(Number(hash.get("parcel")), true);
  load();
}

async function load() {
  kindLegend(document.getElementById("legend"), state.colour);
  if (state.map.getZoom() < MIN_ZOOM) {
    if (state.layer) { state.map.removeLayer(state.layer); state.layer = null; }
    document.getElementById("map-hint").textContent = T("Zoom in to see the parcels; click one for its rights, history and value.");
    return;
  }
  const b = state.map.getBounds();
  const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(",");
  const fc = await api(`/api/registry/regions/${state.region}/parcels?bbox=${bbox}` + (state.kind ? `&kind=${state.kind}` : ""));
  if (state.layer) state.map.removeLayer(state.layer);
  state.layer = parcelLayer(fc, state.colour, (f) => { if (!state.drawing) showParcel(f.properties.id); }).addTo(state.map);
  document.getElementById("map-hint").textContent = T("{n} parcels in view.", {n: fc.features.length}) + (fc.truncated ? " " + T("Zoom in to see all of them.") : "");
}

async function showParcel(id, fly) {
  const [p, events] = await Promise.all([api(`/api/registry/parcels/${id}`), api(`/api/registry/parcels/${id}/history`)]);
  document.getElementById("panel-title").textContent = `${p.code} · ${kindName(p.kind)}`;
  const body = document.getElementById("panel-body");
  const facts = el("dl", {class: "facts"});
  const fact = (k, v) => facts.append(el("dt", {}, T(k)), el("dd", {}, v));
  if (p.name) fact(N_("Name"), p.name);
  fact(N_("Area"), areaText(p.area_m2));
  fact(N_("Village"), p.place || p.village_code || "—");
  fact(N_("Status"), p.active ? T("current") : T("split or merged into {ids}", {ids: p.children.join(", ")}));
  if (p.attributes.annual_compensation_yuan) fact(N_("Yearly compensation"), `${p.attributes.annual_compensation_yuan.toLocaleString()} ${T(YUAN)}`);
  if (p.synthetic) fact(N_("Data"), T("synthetic (demo)"));
  const rights = el("table", {class: "data"}, el("thead", {}, el("tr", {}, el("th", {}, T("Right")), el("th", {}, T("Holder")), el("th", {}, T("Term")), el("th", {}, T("Certificate")), el("th", {}, T("Locks")))));
  const tbody = el("tbody");
  for (const r of p.rights) {
    tbody.append(el("tr", {class: r.active ? "" : "muted", "data-right": r.id},
      el("td", {}, T(window.GEP.rights[r.type] || r.type)), el("td", {}, r.holder ? `${r.holder}${r.holder_id_masked ? " (" + r.holder_id_masked + ")" : ""}` : T("(not shown)")),
      el("td", {}, r.start ? `${r.start} – ${r.end}` : "—"), el("td", {}, r.certificate_no), el("td", {}, r.active ? lockBadges(r.locks) : T("ended"))));
  }
  rights.append(tbody);
  const timeline = el("ol", {class: "timeline"});
  for (const e of events) timeline.append(el("li", {}, el("time", {}, when(e.at)), T(EVENT_WORDS[e.kind] || e.kind)));
  const valueButton = el("button", {type: "button", class: "secondary", id: "parcel-vep"}, T("Value this parcel"));
  const valueBox = el("div");
  valueButton.addEventListener("click", async () => {
    try { valueBox.replaceChildren(vepBox(await api(`/api/registry/parcels/${id}/vep`))); } catch (ex) { valueBox.replaceChildren(el("p", {class: "error"}, ex.message)); }
  });
  body.replaceChildren(facts, el("h3", {}, T("Rights")), el("div", {class: "table-wrap"}, rights), el("h3", {}, T("History")), timeline,
    el("h3", {}, T("Ecological value (VEP)")), valueButton, valueBox);
  window.history.replaceState(null, "", `#parcel=${id}`);
  if (fly && p.geometry) state.map.fitBounds(L.geoJSON(p.geometry).getBounds(), {maxZoom: 15});
}
const EVENT_WORDS = {ParcelRegistered: N_("parcel registered"), RightGranted: N_("right registered"), RightTransferred: N_("right transferred"),
  RightLocked: N_("right locked"), LockReleased: N_("lock released"), RightEnded: N_("right ended"), ParcelSplit: N_("parcel split"), ParcelsMerged: N_("parcels merged")};

function toggleDraw() {
  const button = document.getElementById("draw");
  if (state.drawing) { finishDraw(); return; }
  state.drawing = [];
  if (state.drawn) { state.map.removeLayer(state.drawn); state.drawn = null; }
  document.getElementById("map").classList.add("drawing");
  button.textContent = T("Finish the polygon");
  state.map.doubleClickZoom.disable();
  state.map.on("click", addVertex);
  notice(T("Click the map to place the corners; click “Finish the polygon” when done."));
}
function addVertex(e) {
  state.drawing.push(e.latlng);
  if (state.drawn) state.map.removeLayer(state.drawn);
  state.drawn = L.polygon(state.drawing, {color: "#6a1b9a", weight: 2, fillOpacity: 0.15}).addTo(state.map);
}
async function finishDraw() {
  const points = state.drawing || [];
  state.map.off("click", addVertex);
  state.map.doubleClickZoom.enable();
  document.getElementById("map").classList.remove("drawing");
  document.getElementById("draw").textContent = T("Draw a polygon for its value");
  state.drawing = null;
  notice("");
  if (points.length < 3) return;
  const ring = points.map((p) => [p.lng, p.lat]);
  ring.push(ring[0]);
  document.getElementById("panel-title").textContent = T("Value of the drawn polygon");
  const body = document.getElementById("panel-body");
  try { body.replaceChildren(vepBox(await api(`/api/registry/regions/${state.region}/vep`, {method: "POST", body: {geometry: {type: "Polygon", coordinates: [ring]}}}))); }
  catch (ex) { body.replaceChildren(el("p", {class: "error"}, ex.message)); }
}

async function importFile(e) {
  e.preventDefault();
  const out = document.getElementById("import-result"), table = document.getElementById("import-problems");
  const file = document.getElementById("import-file").files[0];
  if (!file) return;
  const data = new FormData();
  data.append("file", file);
  out.className = ""; out.textContent = T("Checking {name} …", {name: file.name}); table.hidden = true;
  document.getElementById("import-submit").disabled = true;
  try {
    const r = await api(`/api/registry/regions/${state.region}/imports`, {method: "POST", body: data});
    out.className = "ok"; out.textContent = T("{parcels} parcels and {rights} rights imported (batch {batch}).", {parcels: r.parcels, rights: r.rights, batch: r.batch_id});
    load();
  } catch (ex) {
    out.className = "error"; out.textContent = ex.message;
    table.querySelector("tbody").replaceChildren(...ex.problems.map((p) => el("tr", {}, el("td", {}, p.where), el("td", {}, p.message))));
    table.hidden = !ex.problems.length;
  } finally { document.getElementById("import-submit").disabled = false; }
}

init().catch((e) => notice(e.message));
