// A published run's map: the zones of the level coloured by GEP per km² (the table below works without it).
"use strict";
(async () => {
  const box = document.getElementById("g-map");
  if (!box) return;
  box.hidden = false;  // without scripts the page is its table
  const {run, level, parent, below} = box.dataset;
  const data = await api(`/api/public/gep/${run}/map?level=${level}` + (parent ? `&parent=${parent}` : ""));
  const map = L.map(box, {attributionControl: false, zoomSnap: 0.25});
  map.setView([28.2, 119.6], 8);
  const values = data.features.map((f) => f.properties.per_km2 || 0);
  const top = Math.max(1, ...values);
  const shade = (v) => `hsl(140, 45%, ${88 - 55 * Math.sqrt((v || 0) / top)}%)`;
  const layer = L.geoJSON(data, {style: (f) => ({color: "#35533f", weight: 1, fillColor: shade(f.properties.per_km2), fillOpacity: 0.85}),
    onEachFeature: (f, l) => {
      l.bindTooltip(`${f.properties.name}: ${((f.properties.gep || 0) / 1e8).toFixed(2)} ${T("100 M yuan")}`, {sticky: true});
      if (below) l.on("click", () => { location.href = `/public/gep/${run}?level=${below}&parent=${f.properties.code}`; });
    }}).addTo(map);
  if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), {padding: [6, 6]});
})().catch(() => {});
