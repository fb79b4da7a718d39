// The public carbon registry: totals, projects on the map, retirements (with the search) and issuances.
"use strict";
function retirementRows(rows) {
  const body = document.querySelector("#retirements tbody");
  body.replaceChildren(...rows.map((r) => el("tr", {}, el("td", {}, r.code, " ", synthetic(r)), el("td", {}, purposeName(r.purpose), r.detail ? el("div", {class: "muted"}, r.detail) : ""),
    el("td", {}, r.beneficiary), el("td", {}, r.holder), el("td", {class: "n"}, tonnes(r.quantity)),
    el("td", {}, el("span", {class: "serial"}, r.ranges.map((x) => x.serials).join("; "))), el("td", {}, certLink(r.certificate_serial)))));
  if (!rows.length) body.append(el("tr", {}, el("td", {colspan: 7, class: "muted"}, T("No retirement found."))));
  labelCells(document.getElementById("retirements"));
}
async function load() {
  const r = await api("/api/carbon/registry");
  const t = r.totals;
  document.getElementById("totals").replaceChildren(kpi(T("Number of projects"), t.projects), kpi(T("Issued (tCO₂e)"), tonnes(t.issued_t)),
    kpi(T("Retired (tCO₂e)"), tonnes(t.retired_t)), kpi(T("In circulation (tCO₂e)"), tonnes(t.circulating_t)), kpi(T("Flagged by the cross-check"), t.flagged));
  const body = document.querySelector("#projects tbody");
  body.replaceChildren(...r.projects.map((p) => el("tr", {}, el("td", {}, el("a", {href: `/carbon/projects/${p.id}`}, p.code), " ", p.name, " ", synthetic(p)),
    el("td", {}, typeName(p.type)), el("td", {}, p.developer), el("td", {class: "n"}, tonnes1(p.area_ha)), el("td", {class: "n"}, tonnes(p.issued_t)),
    el("td", {class: "n"}, tonnes(p.retired_t)), el("td", {}, checkBadge(p)))));
  if (!r.projects.length) body.append(el("tr", {}, el("td", {colspan: 7, class: "muted"}, T("No project yet."))));
  labelCells(document.getElementById("projects"));
  retirementRows(r.retirements);
  const iss = document.querySelector("#issuances tbody");
  iss.replaceChildren(...r.issuances.map((i) => el("tr", {}, el("td", {}, el("a", {href: `/carbon/projects/${i.project_id}`}, i.project), " ", i.project_name),
    el("td", {}, i.vintage), el("td", {class: "n"}, tonnes(i.quantity)), el("td", {}, el("span", {class: "serial"}, i.serials)), el("td", {}, when(i.issued_at)))));
  labelCells(document.getElementById("issuances"));
  const map = L.map("c-map", {attributionControl: false});
  // the counties under the projects (the exchange's public outlines), then each project's stands and a marker
  api("/api/exchange/map/counties").then((outline) => {
    if (outline && outline.features && outline.features.length) L.geoJSON(outline, {style: {color: "#8aa597", weight: 1, fillColor: "#e8f1ec", fillOpacity: 0.6}, interactive: false}).addTo(map).bringToBack();
  }).catch(() => {});
  const layers = [];
  for (const p of r.projects) {
    const colour = p.flag ? "#b26a00" : "#2e7d5b";
    const go = () => { window.location.href = `/carbon/projects/${p.id}`; };
    if (p.geojson) layers.push(L.geoJSON(p.geojson, {style: {color: colour, weight: 1, fillOpacity: 0.5}}).on("click", go));
    if (p.lat !== null) layers.push(L.circleMarker([p.lat, p.lon], {radius: 7, color: colour, fillOpacity: 0.8}).bindTooltip(`${p.code} · ${p.name}`).on("click", go));
  }
  const group = L.featureGroup(layers).addTo(map);
  if (layers.length) map.fitBounds(group.getBounds().pad(0.6)); else map.setView([28.3, 119.6], 8);
}
document.getElementById("search").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try { fail("c-error"); retirementRows(await api(`/api/carbon/retirements?q=${encodeURIComponent(document.getElementById("q").value)}`)); } catch (ex) { fail("c-error", ex); }
});
load().catch((ex) => fail("c-error", ex));
