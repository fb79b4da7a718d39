// Patrols: a report form made for a phone (the place from the phone's location or a tap on the map, photos from
// its camera), and the map and list of reports.
"use strict";
let MAP = null, PICK = null, PIN = null, LAYER = null;
function setPlace(lat, lon) {
  document.getElementById("r-lat").value = lat.toFixed(6);
  document.getElementById("r-lon").value = lon.toFixed(6);
  if (PIN) PIN.remove();
  PIN = L.marker([lat, lon]).addTo(PICK);
}
async function load() {
  const reports = await api("/api/monitoring/patrols");
  if (!MAP) { MAP = L.map("p-map", {attributionControl: false}); outlines(MAP); }
  if (LAYER) LAYER.remove();
  LAYER = L.featureGroup(reports.map((r) => L.circleMarker([r.lat, r.lon], {radius: 8, color: "#222", weight: 1, fillColor: "#c0392b", fillOpacity: 0.85})
    .bindTooltip(`${when(r.observed_at)} · ${G.lang === "zh" ? r.category_zh : r.category_en}`))).addTo(MAP);
  document.querySelector("#reports tbody").replaceChildren(...reports.map((r) => el("tr", {},
    el("td", {}, when(r.observed_at)), el("td", {}, G.lang === "zh" ? r.category_zh : r.category_en, " ", syntheticBadge(r)), el("td", {}, r.by),
    el("td", {}, r.note || "—"), el("td", {}, ...Array.from({length: r.photos}, (_, n) => el("a", {href: `/api/monitoring/patrols/${r.id}/photos/${n}`, target: "_blank"}, T("photo {n}", {n: n + 1}), " "))))));
  labelCells(document.getElementById("reports"));
}
function form() {
  document.getElementById("r-category").replaceChildren(...Object.keys(G.patrols).map((c) => el("option", {value: c}, zhOrEn(G.patrols[c]))));
  PICK = L.map("r-map", {attributionControl: false});
  outlines(PICK);
  PICK.on("click", (ev) => setPlace(ev.latlng.lat, ev.latlng.lng));
  document.getElementById("r-locate").onclick = () => {
    if (!navigator.geolocation) { failIn("p-error", new Error(T("This browser cannot tell where it is; tap the map."))); return; }
    navigator.geolocation.getCurrentPosition((pos) => { setPlace(pos.coords.latitude, pos.coords.longitude); PICK.setView([pos.coords.latitude, pos.coords.longitude], 13); },
      () => failIn("p-error", new Error(T("The location was not shared; tap the map instead."))), {enableHighAccuracy: true, timeout: 10000});
  };
  onSubmit(document.getElementById("report"), async () => {
    failIn("p-error"); doneIn("p-done");
    const problems = document.getElementById("r-problems"); problems.replaceChildren();
    const body = new FormData();
    body.append("category", document.getElementById("r-category").value);
    body.append("note", document.getElementById("r-note").value);
    body.append("lat", document.getElementById("r-lat").value);
    body.append("lon", document.getElementById("r-lon").value);
    const w = document.getElementById("r-when").value;
    if (w) body.append("observed_at", new Date(w).toISOString());
    for (const f of document.getElementById("r-photos").files) body.append("photos", f);
    try {
      await api("/api/monitoring/patrols", {method: "POST", body});
      doneIn("p-done", T("Report sent; the department has been told."));
      document.getElementById("report").reset();
      if (PIN) { PIN.remove(); PIN = null; }
      await load();
    } catch (ex) {
      failIn("p-error", ex);
      problems.replaceChildren(...(ex.problems || []).map((p) => el("li", {}, `${p.where}: ${p.message}`)));
    }
  });
}
form();
load().catch((ex) => failIn("p-error", ex));
