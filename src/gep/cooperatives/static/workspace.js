// The cooperative's workspace: rights to take in, intake contracts, packages with their value, revenue shared out.
"use strict";
const SHOWN = 40;
const W = {coop: null, rights: [], chosen: null, packages: [], current: null, map: null, layer: null};
const modeName = (m) => T(window.GEP.modes[m] || m);
const stateName = (s) => T(window.GEP.states[s] || s);
function fail(ex) { const e = document.getElementById("coop-error"); e.textContent = ex ? ex.message : ""; e.hidden = !ex; }

function tabs() {
  for (const b of document.querySelectorAll(".tab")) b.addEventListener("click", () => {
    for (const o of document.querySelectorAll(".tab")) o.classList.toggle("on", o === b);
    for (const p of document.querySelectorAll(".tab-panel")) p.hidden = p.id !== `tab-${b.dataset.tab}`;
    if (b.dataset.tab === "contracts") loadContracts();
    if (b.dataset.tab === "packages") loadPackages();
  });
}

async function loadRights() {
  fail(null);
  const village = document.getElementById("intake-village").value.trim();
  W.rights = await api(`/api/cooperatives/rights?limit=${SHOWN + 1}` + (village ? `&village=${encodeURIComponent(village)}` : ""));
  const more = W.rights.length > SHOWN;
  W.rights = W.rights.slice(0, SHOWN);
  const body = document.querySelector("#available tbody");
  body.replaceChildren(...W.rights.map((r) => {
    const take = el("button", {type: "button", class: "secondary", "data-right": r.id}, T("Take in"));
    take.addEventListener("click", () => openIntake(r));
    return el("tr", {"data-right": r.id}, el("td", {}, r.parcel.code), el("td", {}, kindName(r.parcel.kind)), el("td", {class: "n"}, areaText(r.parcel.area_m2)),
      el("td", {}, r.holder || T("(not shown)")), el("td", {}, T(window.GEP.rights[r.type] || r.type)), el("td", {}, r.start ? `${r.start} – ${r.end}` : "—"), el("td", {}, take));
  }));
  if (!W.rights.length) body.append(el("tr", {}, el("td", {colspan: 7, class: "muted"}, T("No free rights here."))));
  if (more) body.append(el("tr", {}, el("td", {colspan: 7, class: "muted"}, T("The first {n} are shown: give a village code to see that village's.", {n: SHOWN}))));
  labelCells(document.getElementById("available"));
}

function openIntake(r) {
  W.chosen = r;
  const form = document.getElementById("intake-form");
  form.hidden = false;
  document.getElementById("intake-title").textContent = T("Take in {parcel} from {holder}", {parcel: r.parcel.code, holder: r.holder || "—"});
  const today = new Date().toISOString().slice(0, 10);
  document.getElementById("intake-start").value = r.start && r.start > today ? r.start : today;
  document.getElementById("intake-end").value = r.end || "";
  form.scrollIntoView({behavior: "smooth", block: "center"});
}

async function signIntake(e) {
  e.preventDefault();
  fail(null);
  const body = {right_id: W.chosen.id, mode: document.getElementById("intake-mode").value, start: document.getElementById("intake-start").value,
    annual_rent: document.getElementById("intake-rent").value || "0", lump_sum: document.getElementById("intake-lump").value || "0",
    revenue_share_pct: document.getElementById("intake-share").value || "0", payment: document.getElementById("intake-payment").value};
  const end = document.getElementById("intake-end").value;
  if (end) body.end = end;
  const button = document.getElementById("intake-submit");
  button.disabled = true;  // a double click signs once
  try {
    await api("/api/cooperatives/contracts", {method: "POST", body});
    document.getElementById("intake-form").hidden = true;
    await loadRights();
  } catch (ex) { fail(ex); } finally { button.disabled = false; }
}

async function loadContracts() {
  const contracts = await api("/api/cooperatives/contracts?status=active");
  const body = document.querySelector("#contracts tbody");
  body.replaceChildren(...contracts.map((c) => {
    const end = el("button", {type: "button", class: "secondary"}, T("End"));
    end.addEventListener("click", async () => { try { await api(`/api/cooperatives/contracts/${c.id}/end`, {method: "POST"}); loadContracts(); } catch (ex) { fail(ex); } });
    return el("tr", {"data-contract": c.id}, el("td", {}, el("input", {type: "checkbox", value: c.id, "aria-label": c.parcel_code})), el("td", {}, c.id),
      el("td", {}, c.parcel_code), el("td", {}, c.holder || "—"), el("td", {}, modeName(c.mode)), el("td", {}, `${c.start} – ${c.end || "—"}`),
      el("td", {class: "n"}, yuanText(c.annual_rent)), el("td", {class: "n"}, c.revenue_share_pct), el("td", {class: "n"}, areaText(c.area_m2)),
      el("td", {}, c.locked ? T("locked for the cooperative") : T("transferred")), el("td", {}, end));
  }));
  if (!contracts.length) body.append(el("tr", {}, el("td", {colspan: 11, class: "muted"}, T("No contracts yet: take rights in first."))));
  labelCells(document.getElementById("contracts"));
}

async function createPackage(e) {
  e.preventDefault();
  fail(null);
  const ids = [...document.querySelectorAll("#contracts tbody input:checked")].map((i) => Number(i.value));
  try {
    const p = await api("/api/cooperatives/packages", {method: "POST", body: {code: document.getElementById("package-code").value,
      name: document.getElementById("package-name").value, contract_ids: ids}});
    e.target.reset();
    W.current = p;  // the packages tab opens on the new package
    document.querySelector('.tab[data-tab="packages"]').click();
  } catch (ex) { fail(ex); }
}

async function payRents(e) {
  e.preventDefault();
  try {
    const r = await api("/api/cooperatives/rents", {method: "POST", body: {year: Number(document.getElementById("rent-year").value)}});
    document.getElementById("rent-result").textContent = T("{n} rents paid.", {n: r.paid});
  } catch (ex) { fail(ex); }
}

async function loadPackages(select) {
  W.packages = await api("/api/cooperatives/packages");
  const list = document.getElementById("package-list");
  list.replaceChildren(...W.packages.map((p) => {
    const card = el("div", {class: "package", "data-package": p.id, tabindex: 0},
      el("strong", {}, `${p.code} · ${p.name}`), el("span", {class: "status-tag"}, stateName(p.status)),
      el("div", {class: "meta"}, T("{n} rights, {area}", {n: p.contracts.length, area: areaText(p.area_m2)}),
        p.vep.gep_yuan ? ` · GEP ${wan(p.vep.gep_yuan)} ${T(WAN)}` : ""));
    card.addEventListener("click", () => showPackage(p.id));
    return card;
  }));
  if (!W.packages.length) list.append(el("p", {class: "muted"}, T("No packages yet: bundle contracts into one.")));
  const pick = select || (W.current && W.current.id) || (W.packages[0] && W.packages[0].id);
  if (pick) showPackage(pick);
}

async function showPackage(id) {
  const p = await api(`/api/cooperatives/packages/${id}`);
  W.current = p;
  for (const c of document.querySelectorAll(".package")) c.classList.toggle("on", Number(c.dataset.package) === id);
  const box = document.getElementById("package-detail");
  const mapDiv = el("div", {class: "registry-map small-map", id: "package-map"});
  const facts = el("dl", {class: "facts"});
  const fact = (k, v) => facts.append(el("dt", {}, T(k)), el("dd", {}, v));
  fact(N_("Status"), stateName(p.status)); fact(N_("Area"), areaText(p.area_m2)); fact(N_("Rights"), String(p.contracts.length));
  fact(N_("Encumbrances"), p.encumbrances.length ? T("{n} locks (held for the cooperative or others)", {n: p.encumbrances.length}) : T("none"));
  const valueBox = el("div", {id: "package-vep"}, p.vep.gep_yuan != null ? vepBox(p.vep) : el("p", {class: "muted"}, T("Not valued yet.")));
  const value = el("button", {type: "button", class: "secondary", id: "package-value"}, T("Value the package"));
  value.addEventListener("click", async () => { try { valueBox.replaceChildren(vepBox(await api(`/api/cooperatives/packages/${id}/value`, {method: "POST", body: {}}))); } catch (ex) { fail(ex); } });
  const offers = el("div", {class: "row"});
  for (const [to, label] of [["market", N_("Offer on the exchange")], ["bank", N_("Offer to a bank")]]) {
    const b = el("button", {type: "button", "data-offer": to, disabled: p.status !== "draft"}, T(label));
    b.addEventListener("click", async () => { try { await api(`/api/cooperatives/packages/${id}/offer`, {method: "POST", body: {to}}); loadPackages(id); } catch (ex) { fail(ex); } });
    offers.append(b);
  }
  const revenueForm = el("form", {class: "row form", id: "revenue-form"},
    el("label", {}, T("Revenue (yuan)"), el("input", {id: "revenue-amount", inputmode: "decimal", required: true})),
    el("label", {}, T("Received on"), el("input", {id: "revenue-date", type: "date", required: true, value: new Date().toISOString().slice(0, 10)})),
    el("label", {}, T("Paid by"), el("input", {id: "revenue-source", maxlength: 200})),
    el("button", {type: "submit", id: "revenue-submit"}, T("Share it out")));
  const revenues = el("div", {id: "revenues"});
  revenueForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = document.getElementById("revenue-submit");
    button.disabled = true;
    try {
      await api(`/api/cooperatives/packages/${id}/revenues`, {method: "POST", body: {amount: document.getElementById("revenue-amount").value,
        received_on: document.getElementById("revenue-date").value, source: document.getElementById("revenue-source").value,
        idempotency_key: `${id}-${document.getElementById("revenue-date").value}-${document.getElementById("revenue-amount").value}`}});
      revenueForm.reset(); await showRevenues(id, revenues);
    } catch (ex) { fail(ex); } finally { button.disabled = false; }
  });
  box.replaceChildren(el("h2", {}, `${p.code} · ${p.name}`), mapDiv, facts, el("h3", {}, T("Ecological value (VEP)")), value, valueBox, offers,
    el("h3", {}, T("Revenue")), revenueForm, revenues);
  const map = L.map(mapDiv, {attributionControl: false});
  const layer = parcelLayer({type: "FeatureCollection", features: p.parcels.map((x) => ({type: "Feature", geometry: x.geometry, properties: {code: x.code, kind: x.kind, area_m2: x.area_m2}}))}, "kind");
  layer.addTo(map);
  if (p.parcels.length) map.fitBounds(layer.getBounds(), {padding: [10, 10]});
  await showRevenues(id, revenues);
}

async function showRevenues(id, box) {
  const revenues = await api(`/api/cooperatives/packages/${id}/revenues`);
  box.replaceChildren(...revenues.map((r) => {
    const table = el("table", {class: "data"}, el("thead", {}, el("tr", {}, el("th", {}, T("Holder")), el("th", {class: "n"}, T("Amount (yuan)")), el("th", {}))));
    const tbody = el("tbody");
    for (const p of r.payouts) tbody.append(el("tr", {}, el("td", {}, p.holder || "—"), el("td", {class: "n"}, yuanText(p.amount)),
      el("td", {}, el("a", {class: "dl", href: `/api/cooperatives/holders/${p.holder_id}/statement.csv`}, T("statement")))));
    tbody.append(el("tr", {class: "muted"}, el("td", {}, T("rounding residue to {account}", {account: r.residue_account})), el("td", {class: "n"}, yuanText(r.residue)), el("td")));
    tbody.append(el("tr", {class: "muted"}, el("td", {}, T("kept by the cooperative")), el("td", {class: "n"}, yuanText(r.retained)), el("td")));
    table.append(tbody);
    return el("div", {class: "revenue", "data-revenue": r.id}, el("p", {}, T("{date}: {amount} yuan from {source}", {date: r.received_on, amount: yuanText(r.amount), source: r.source || "—"})), el("div", {class: "table-wrap"}, table));
  }));
}

(async () => {
  tabs();
  document.getElementById("intake-search").addEventListener("click", () => loadRights().catch(fail));
  document.getElementById("intake-form").addEventListener("submit", signIntake);
  document.getElementById("intake-cancel").addEventListener("click", () => { document.getElementById("intake-form").hidden = true; });
  document.getElementById("package-form").addEventListener("submit", createPackage);
  document.getElementById("rent-form").addEventListener("submit", payRents);
  document.getElementById("rent-year").value = new Date().getFullYear();
  try {
    W.coop = await api("/api/cooperatives/mine");
    document.getElementById("coop-area").textContent = T("serves {area}", {area: W.coop.county_name || T(N_("the whole region"))});
    await loadRights();
  } catch (ex) { fail(ex); }
})();
