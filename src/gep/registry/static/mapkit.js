// Parcel maps shared by the registry, the cooperative's workspace and a holder's page.
"use strict";
const KIND_COLOURS = {forest_land: "#2e7d32", public_welfare_forest: "#1b5e20", farmland: "#c0a000", idle_house: "#8d6e63",
  homestead: "#a1887f", reservoir_pond: "#1e88e5", river_section: "#4fc3f7", water_take_permit: "#0d47a1", sand_gravel: "#9e9e9e"};
const LOCK_COLOURS = {free: "#43a047", locked: "#e53935"};
const YUAN = N_("yuan"), WAN = N_("10 k yuan");
function wan(yuan) { return (yuan / 1e4).toLocaleString(undefined, {minimumFractionDigits: 2, maximumFractionDigits: 2}); }
function areaText(m2) { return m2 >= 1e4 ? `${(m2 / 1e4).toLocaleString(undefined, {maximumFractionDigits: 2})} ha` : `${Math.round(m2).toLocaleString()} m²`; }
function kindName(kind) { return T((window.GEP.kinds || {})[kind] || kind); }
function parcelStyle(colourBy) {
  return (f) => {
    const colour = colourBy === "locked" ? (f.properties.locked ? LOCK_COLOURS.locked : LOCK_COLOURS.free) : (KIND_COLOURS[f.properties.kind] || "#666");
    return {color: colour, weight: 1, fillColor: colour, fillOpacity: 0.45};
  };
}
function parcelLayer(fc, colourBy, onClick) {
  return L.geoJSON(fc, {
    style: parcelStyle(colourBy),
    pointToLayer: (f, latlng) => L.circleMarker(latlng, {radius: 6}),
    onEachFeature: (f, layer) => {
      layer.bindTooltip(() => el("div", {}, el("strong", {}, f.properties.code), el("br"), kindName(f.properties.kind), " · ", areaText(f.properties.area_m2)), {sticky: true});
      if (onClick) layer.on("click", () => onClick(f));
    },
  });
}
function kindLegend(box, colourBy) {
  box.replaceChildren();
  const entries = colourBy === "locked" ? [[LOCK_COLOURS.free, T("free")], [LOCK_COLOURS.locked, T("locked")]]
    : Object.entries(KIND_COLOURS).map(([k, c]) => [c, kindName(k)]);
  for (const [colour, text] of entries) box.append(el("div", {}, el("span", {class: "swatch", style: `background:${colour}`}), text));
}
function vepBox(v) {
  const box = el("div", {class: "vep", "data-gep": v.gep_yuan});
  const add = (k, yuan) => box.append(el("div", {class: "kpi"}, el("div", {class: "k"}, `${T(k)} (${T(WAN)})`), el("div", {class: "v"}, wan(yuan))));
  add(N_("GEP"), v.gep_yuan); add(N_("Regulating services"), v.regulating_yuan); add(N_("Material products"), v.material_yuan); add(N_("Cultural services"), v.cultural_yuan);
  return el("div", {}, box, el("p", {class: "muted"}, T("From the accounts of {year} (run {run}, {method}, prices of {price_year}); area {area}.",
    {year: v.year, run: v.run_id, method: v.method, price_year: v.price_year, area: areaText(v.area_m2)})));
}
function lockBadges(locks) {
  if (!locks.length) return el("span", {class: "free"}, T("free"));
  const span = el("span");
  for (const k of locks) span.append(el("span", {class: "lock", title: k.ref || ""}, `${T((window.GEP.locks || {})[k.kind] || k.kind)} · ${k.holder}${k.until ? " · " + k.until : ""}`));
  return span;
}
