// A bank's workbench: applications with the computed terms, the portfolio by product, pledged rights on a map,
// every loan, and the import of settlement records for trade-flow credit.
"use strict";
let MAP = null, LAYER = null;
async function load() {
  const [w, info] = await Promise.all([api("/api/finance/workbench"), api("/api/finance/products")]);
  const names = Object.fromEntries(info.products.map((p) => [p.code, productName(p)]));
  const apps = document.querySelector("#apps tbody");
  apps.replaceChildren(...w.applications.map((l) => el("tr", {}, el("td", {}, el("a", {href: `/finance/loans/${l.id}`}, l.code), " ", synthetic(l)), el("td", {}, l.borrower),
    el("td", {}, productName(l)), el("td", {}, l.grade || "—"), el("td", {class: "n"}, fenText(l.amount_fen)), el("td", {class: "n"}, fenText(l.limit_fen)),
    el("td", {class: "n"}, rateText(l.rate_bp)), el("td", {}, l.months))));
  if (!w.applications.length) apps.append(el("tr", {}, el("td", {colspan: 8, class: "muted"}, T("No application waits."))));
  labelCells(document.getElementById("apps"));
  let out = 0, n = 0;
  document.querySelector("#portfolio tbody").replaceChildren(...Object.entries(w.portfolio).map(([code, p]) => {
    out += p.amount_fen; n += p.count;
    return el("tr", {}, el("td", {}, names[code] || code), el("td", {class: "n"}, p.count), el("td", {class: "n"}, fenText(p.amount_fen)),
      el("td", {}, Object.entries(p.states).map(([s, k]) => `${stateName(s)} ${k}`).join(" · ")));
  }));
  labelCells(document.getElementById("portfolio"));
  document.getElementById("w-kpis").replaceChildren(kpi(T("loans"), n), kpi(T("applications waiting"), w.applications.length),
    kpi(T("outstanding (yuan)"), fenText(out)), kpi(T("pledged rights"), w.pledged.length));
  const all = document.querySelector("#all tbody");
  all.replaceChildren(...w.loans.map((l) => el("tr", {}, el("td", {}, el("a", {href: `/finance/loans/${l.id}`}, l.code)), el("td", {}, l.borrower),
    el("td", {}, productName(l)), el("td", {class: "n"}, fenText(l.amount_fen)), el("td", {}, stateBadge(l.state)))));
  labelCells(document.getElementById("all"));
  if (!MAP) MAP = L.map("w-map", {attributionControl: false});
  if (LAYER) LAYER.remove();
  const feats = w.pledged.filter((c) => c.geojson).map((c) => ({type: "Feature", geometry: c.geojson, properties: c}));
  LAYER = L.geoJSON({type: "FeatureCollection", features: feats}, {style: (f) => ({color: f.properties.state === "on_sale" ? "#c25e00" : "#b3261e", weight: 2, fillOpacity: 0.35}),
    pointToLayer: (f, ll) => L.circleMarker(ll, {radius: 6}),
    onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties.loan_code} · ${f.properties.parcel_name || f.properties.parcel_code}`)}).addTo(MAP);
  if (feats.length) MAP.fitBounds(LAYER.getBounds(), {padding: [20, 20], maxZoom: 14}); else MAP.setView([28.3, 119.6], 8);
}
onSubmit(document.getElementById("upload"), async () => {
  fail("w-error"); done("w-done");
  const problems = document.getElementById("u-problems"); problems.replaceChildren();
  const body = new FormData(); body.append("file", document.getElementById("file").files[0]);
  try {
    const r = await api("/api/finance/settlements/import", {method: "POST", body});
    done("w-done", T("{recorded} settlements recorded, {skipped} recorded before", r));
  } catch (ex) { fail("w-error", ex); problems.replaceChildren(...(ex.problems || []).map((p) => el("li", {}, `${p.where}: ${p.message}`))); }
});
load().catch((ex) => fail("w-error", ex));
