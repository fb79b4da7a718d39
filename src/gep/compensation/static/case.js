// A damage case: its map, the claim and how it was reached, the year-by-year loss, the remedies, the claim report.
"use strict";
const CASE = window.GEP.case_id;
const CATEGORY = {material: N_("material products"), regulating: N_("regulating services"), cultural: N_("cultural services")};
async function load() {
  const c = await api(`/api/compensation/damage/${CASE}`);
  const r = c.result;
  document.getElementById("c-title").replaceChildren(`${c.code} ${c.title}`, " ", syntheticBadge(c, T("generated demo data, not a real case")));
  document.getElementById("c-sub").textContent = T("{date}: {from} → {to}; responsible: {who}", {date: c.occurred_on, from: ecoName(c.from_ecosystem), to: ecoName(c.to_ecosystem), who: c.responsible || "—"});
  document.getElementById("c-kpis").replaceChildren(kpiBox(T("Claim (yuan)"), fen(c.total_fen)), kpiBox(T("Area changed (ha)"), r.changed_ha.toFixed(2)),
    kpiBox(T("Yearly loss (yuan)"), yuanText(r.yearly_loss_yuan)), kpiBox(T("Recovery"), T("{n} years, {path}", {n: c.recovery_years, path: T(window.GEP.paths[c.path])})),
    kpiBox(T("Discount rate"), `${(Number(c.discount_rate) * 100).toFixed(2)} %`), kpiBox(T("State"), stateBadge(c.state)));
  document.getElementById("c-pdf-zh").href = `/api/compensation/damage/${CASE}/claim.pdf?lang=zh`;
  document.getElementById("c-pdf-en").href = `/api/compensation/damage/${CASE}/claim.pdf?lang=en`;
  const map = L.map("c-map", {attributionControl: false});
  const shape = L.geoJSON(c.geometry, {style: {color: "#c0392b", weight: 2, fillOpacity: 0.25}}).addTo(map);
  map.fitBounds(shape.getBounds(), {maxZoom: 15, padding: [80, 80]});
  if (window.GEP.region_id) api(`/api/compensation/regions/${window.GEP.region_id}/counties`).then((g) => L.geoJSON(g, {style: {color: "#35533f", weight: 1, fillOpacity: 0.05}, interactive: false}).addTo(map).bringToBack()).catch(() => {});
  document.querySelector("#c-categories tbody").replaceChildren(...r.categories.map((x) => el("tr", {}, el("td", {}, T(CATEGORY[x.category])),
    el("td", {class: "n"}, yuanText(x.before_yuan)), el("td", {class: "n"}, yuanText(x.after_yuan)), el("td", {class: "n"}, yuanText(x.loss_yuan)))));
  document.querySelector("#c-indicators tbody").replaceChildren(...r.indicators.filter((x) => Math.abs(x.before_yuan) + Math.abs(x.after_yuan) > 0).map((x) => el("tr", {}, el("td", {}, (window.GEP.lang === "zh" ? x.name_zh : x.name_en) || x.band),
    el("td", {class: "n"}, yuanText(x.before_yuan)), el("td", {class: "n"}, yuanText(x.after_yuan)), el("td", {class: "n"}, yuanText(x.loss_yuan)))));
  document.getElementById("c-indicators").hidden = !r.indicators.length;
  document.querySelector("#c-schedule tbody").replaceChildren(...r.schedule.map((y) => el("tr", {}, el("td", {}, y.year), el("td", {class: "n"}, y.share.toFixed(4)),
    el("td", {class: "n"}, yuanText(y.loss_yuan)), el("td", {class: "n"}, y.factor.toFixed(6)), el("td", {class: "n"}, yuanText(y.present_yuan)))));
  for (const id of ["c-categories", "c-indicators", "c-schedule"]) labelCells(document.getElementById(id));
  const zone = r.reference_zone_name || r.reference_zone || T("the region");
  document.getElementById("c-method").textContent = T("From accounting run {run} ({year}, {method}); prices of {price} (factor {factor}). Before: the changed pixels' own value; after: the mean value of the new ecosystem over {n} pixels of {zone}.", {run: r.run_id, year: r.accounts_year, method: r.method, price: r.price_year, factor: r.price_factor.toFixed(4), n: r.reference_pixels, zone});
  const rem = document.getElementById("c-remedies");
  const retired = c.retired_tonnes;
  rem.replaceChildren(
    el("p", {}, el("strong", {}, T("Restoration")), " ", T("the responsible party pays {yuan} yuan into restoring the area.", {yuan: fen(c.total_fen)})),
    el("p", {}, el("strong", {}, T("Carbon sinks")), " ", r.carbon_tonnes === null ? "—" : T("buy and retire {t} t of forestry carbon at the reference price of {price} yuan/t, for judicial restoration, naming {code} in the retirement's detail.", {t: r.carbon_tonnes.toLocaleString(), price: fen(c.carbon_price_fen), code: c.code})),
    el("p", {class: "muted"}, T("Retired for this case so far: {t} t.", {t: retired.toLocaleString()})),
    ...(r.items.length ? [el("p", {}, el("strong", {}, T("Other losses")), " ", r.items.map((i) => `${i.name}: ${yuanText(i.yuan)} (${i.source})`).join("; "))] : []));
}
document.getElementById("c-recompute").addEventListener("click", async () => {
  failIn("c-error"); doneIn("c-done");
  try {
    const r = await api(`/api/compensation/damage/${CASE}/recompute`);
    doneIn("c-done", r.matches ? T("Valued again from the stored accounts and parameters: the claim is the same, to the fen.") : T("Valued again: {now} yuan, not the stored {stored} yuan (the accounts changed since).", {now: fen(r.recomputed_fen), stored: fen(r.stored_fen)}));
  } catch (ex) { failIn("c-error", ex); }
});
load().catch((ex) => failIn("c-error", ex));
