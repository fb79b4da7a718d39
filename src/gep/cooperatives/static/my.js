// A holder's own page: their rights on a map, their contracts with cooperatives, what they were paid.
"use strict";
const CONTRACT_STATES = {active: N_("in force"), ended: N_("ended")};
const PAY_KINDS = {share: N_("revenue share"), rent: N_("rent"), lump_sum: N_("lump sum")};
(async () => {
  const me = await api("/api/cooperatives/me");
  if (!me.holders.length) { document.getElementById("my-none").hidden = false; return; }
  document.getElementById("my-who").textContent = me.holders.map((h) => `${h.name}${h.id_masked ? " (" + h.id_masked + ")" : ""}`).join("，");
  const parcels = await Promise.all([...new Set(me.rights.map((r) => r.parcel_id))].map((id) => api(`/api/registry/parcels/${id}`)));
  const byId = Object.fromEntries(parcels.map((p) => [p.id, p]));
  document.querySelector("#my-rights tbody").replaceChildren(...me.rights.map((r) => el("tr", {"data-right": r.id},
    el("td", {}, `${byId[r.parcel_id].code} · ${kindName(byId[r.parcel_id].kind)}`), el("td", {}, T(window.GEP.rights[r.type] || r.type)),
    el("td", {}, r.start ? `${r.start} – ${r.end}` : "—"), el("td", {}, r.certificate_no), el("td", {}, lockBadges(r.locks)))));
  const map = L.map("my-map", {attributionControl: false});
  const layer = parcelLayer({type: "FeatureCollection", features: parcels.map((p) => ({type: "Feature", geometry: p.geometry,
    properties: {id: p.id, code: p.code, kind: p.kind, area_m2: p.area_m2}}))}, "kind").addTo(map);
  if (parcels.length) map.fitBounds(layer.getBounds(), {padding: [20, 20], maxZoom: 15});
  document.getElementById("my-total").textContent = yuanText(me.total);
  document.querySelector("#my-payments tbody").replaceChildren(...me.payments.map((p) => el("tr", {},
    el("td", {}, p.paid_on), el("td", {}, T(PAY_KINDS[p.kind] || p.kind)), el("td", {class: "n"}, yuanText(p.amount)))));
  if (!me.payments.length) document.querySelector("#my-payments tbody").append(el("tr", {}, el("td", {colspan: 3, class: "muted"}, T("No payments yet."))));
  document.querySelector("#my-contracts tbody").replaceChildren(...me.contracts.map((c) => el("tr", {},
    el("td", {}, c.parcel_code), el("td", {}, T(window.GEP.modes[c.mode] || c.mode)), el("td", {}, `${c.start} – ${c.end || "—"}`),
    el("td", {class: "n"}, yuanText(c.annual_rent)), el("td", {class: "n"}, c.revenue_share_pct), el("td", {}, T(CONTRACT_STATES[c.status] || c.status)))));
  for (const id of ["my-rights", "my-payments", "my-contracts"]) labelCells(document.getElementById(id));
  document.getElementById("my-statement").href = `/api/cooperatives/holders/${me.holders[0].id}/statement.csv`;
})().catch((e) => { const n = document.getElementById("my-none"); n.textContent = e.message; n.hidden = false; });
