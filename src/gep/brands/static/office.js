// The brand office: applications and their decisions, inspection results, the map of certified products,
// producers, batches; producers apply and open batches here too.
"use strict";
let APPS = [], PRODUCERS = [], MAP = null, LAYER = null, CURRENT = null;
const OPEN = new Set(["submitted", "inspecting"]), CLOSED = new Set(["rejected", "suspended", "revoked", "expired"]);
async function load() {
  const [apps, producers, batches] = await Promise.all([api("/api/brands/applications"), api("/api/brands/producers"), api("/api/brands/batches")]);
  APPS = apps; PRODUCERS = producers;
  document.getElementById("o-kpis").replaceChildren(
    kpiBox(T("Producers"), producers.length),
    kpiBox(T("Waiting for the office"), apps.filter((a) => OPEN.has(a.state)).length),
    kpiBox(T("Certified products"), apps.filter((a) => a.state === "certified").length),
    kpiBox(T("Batches"), batches.length),
    kpiBox(T("Label codes"), batches.reduce((n, b) => n + b.codes, 0)));
  drawApps();
  document.querySelector("#batches tbody").replaceChildren(...batches.map((b) => el("tr", {},
    el("td", {}, el("a", {href: `/brands/batches/${b.id}`}, b.batch_no), " ", syntheticBadge(b)), el("td", {}, b.product),
    el("td", {class: "n"}, `${b.quantity} ${b.unit}`), el("td", {class: "n"}, b.remaining), el("td", {class: "n"}, b.codes), el("td", {}, b.sold_out_on || "—"))));
  labelCells(document.getElementById("batches"));
  document.querySelector("#producers tbody").replaceChildren(...producers.map((p) => el("tr", {}, el("td", {}, p.name, " ", syntheticBadge(p)), el("td", {}, roleName(p.role)), el("td", {}, p.county_code || "—"))));
  labelCells(document.getElementById("producers"));
  const pick = document.getElementById("a-producer");
  if (pick) pick.replaceChildren(...producers.map((p) => el("option", {value: p.id}, `${p.name} (${roleName(p.role)})`)));
  const cats = document.getElementById("a-category");
  if (cats) cats.replaceChildren(...Object.keys(G.categories).map((c) => el("option", {value: c}, catName(c))));
  const certified = document.getElementById("b-app");
  if (certified) certified.replaceChildren(...apps.filter((a) => a.state === "certified").map((a) => el("option", {value: a.id}, `${a.product} · ${a.certificate_no}`)));
  const roles = document.getElementById("p-role");
  if (roles) roles.replaceChildren(...Object.keys(G.roles).map((r) => el("option", {value: r}, roleName(r))));
  await drawMap();
}
function drawApps() {
  const f = document.getElementById("o-filter").value;
  const shown = APPS.filter((a) => !f || (f === "open" ? OPEN.has(a.state) : f === "certified" ? a.state === "certified" : CLOSED.has(a.state)));
  document.querySelector("#apps tbody").replaceChildren(...shown.map((a) => el("tr", {},
    el("td", {}, a.product, " ", syntheticBadge(a)), el("td", {}, a.producer), el("td", {}, catName(a.category)), el("td", {}, stateBadge(a.state)),
    el("td", {}, a.certificate_no ? `${a.certificate_no} · ${T("until {date}", {date: a.valid_until})}` : "—"),
    el("td", {}, button(T("Open"), () => openApp(a.id).catch((ex) => failIn("o-error", ex)), "secondary")))));
  labelCells(document.getElementById("apps"));
}
async function drawMap() {
  const fc = await api("/api/brands/map");
  if (!MAP) { MAP = L.map("o-map", {attributionControl: false}); MAP.setView([28.2, 119.6], 8); }
  if (LAYER) LAYER.remove();
  LAYER = L.geoJSON(fc, {style: (f) => ({color: f.properties.state === "certified" ? "#1e8a4c" : "#c98a00", weight: 2, fillOpacity: 0.4}),
    onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties.product} · ${f.properties.producer} · ${f.properties.parcel}`)}).addTo(MAP);
  const b = LAYER.getBounds();
  if (b.isValid()) MAP.fitBounds(b, {padding: [20, 20], maxZoom: 13});
}
async function openApp(id) {
  failIn("o-error"); doneIn("o-done");
  const a = await api(`/api/brands/applications/${id}`);
  CURRENT = a;
  document.getElementById("detail").hidden = false;
  document.getElementById("d-title").replaceChildren(`${a.product} · ${a.producer} `, stateBadge(a.state));
  const row = (k, v) => [el("dt", {}, k), el("dd", {}, v)];
  const ins = a.inspection;
  document.getElementById("d-facts").replaceChildren(
    ...row(T("Category"), catName(a.category)),
    ...row(T("Origin parcels"), a.parcels.map((p) => `${p.code} (${(p.area_m2 / 666.67).toFixed(1)} ${T("mu")})`).join(", ") || "—"),
    ...row(T("Certificate"), a.certificate_no ? T("{no}, {from} to {until}", {no: a.certificate_no, from: a.valid_from, until: a.valid_until}) : "—"),
    ...row(T("Last inspection"), ins ? `${ins.on} · ${ins.passed ? T("passed") : T("not passed: {items}", {items: ins.failed.map((c) => itemName(a.category, c)).join(", ")})}` : "—"));
  const std = G.categories[a.category];
  document.getElementById("d-requirements").replaceChildren(...std.items.map((i) => el("li", {}, `${zhOrEn(i)} ${i.limit} (${i.standard})`)));
  const form = document.getElementById("d-inspection");
  if (form) {
    form.hidden = a.state !== "inspecting";
    document.getElementById("d-items").replaceChildren(...std.items.map((i) => el("label", {}, `${zhOrEn(i)} (${i.unit}, ${i.limit})`, el("input", {name: i.code, inputmode: "decimal", required: true}))));
  }
  const buttons = document.getElementById("d-buttons");
  if (buttons) {
    const can = {submitted: ["inspect", "reject"], inspecting: ["certify", "reject"], certified: ["suspend", "revoke"], suspended: ["reinstate", "revoke"]}[a.state] || [];
    const words = {inspect: T("Start the inspection"), certify: T("Certify"), reject: T("Reject"), suspend: T("Suspend"), reinstate: T("Reinstate"), revoke: T("Revoke")};
    buttons.replaceChildren(...can.map((x) => button(words[x], () => decide(x), x === "reject" || x === "revoke" ? "danger" : "")));
  }
  document.getElementById("d-history").replaceChildren(...a.history.map((h) => el("li", {}, `${when(h.at)} · ${h.before ? T(G.states[h.before] || h.before) + " → " : ""}${T(G.states[h.after] || h.after)}${h.reason ? " · " + h.reason : ""}`)));
  document.getElementById("d-batches").replaceChildren(...a.batches.map((b) => el("li", {}, el("a", {href: `/brands/batches/${b.id}`}, b.batch_no), ` · ${b.quantity} ${b.unit} · ${T("{n} codes", {n: b.codes})}`)));
  document.getElementById("detail").scrollIntoView({block: "start"});
}
async function decide(action) {
  failIn("o-error"); doneIn("o-done");
  try {
    const a = await api(`/api/brands/applications/${CURRENT.id}/actions`, {method: "POST", body: {action, reason: document.getElementById("d-reason").value, version: CURRENT.version}});
    doneIn("o-done", T("{product}: now {state}", {product: a.product, state: T(G.states[a.state] || a.state)}));
    document.getElementById("d-reason").value = "";
    await load(); await openApp(a.id);
  } catch (ex) { failIn("o-error", ex); }
}
function forms() {
  document.getElementById("o-filter").onchange = drawApps;
  document.getElementById("d-close").onclick = () => { document.getElementById("detail").hidden = true; };
  const ins = document.getElementById("d-inspection");
  if (ins) onSubmit(ins, async () => {
    failIn("o-error");
    const results = {};
    for (const input of ins.querySelectorAll("#d-items input")) results[input.name] = input.value;
    try {
      const r = await api(`/api/brands/applications/${CURRENT.id}/inspections`, {method: "POST", body: {results, laboratory: document.getElementById("d-lab").value}});
      doneIn("o-done", r.passed ? T("Inspection recorded: every item within its limit.") : T("Inspection recorded: not passed ({items}).", {items: r.failed.map((c) => itemName(CURRENT.category, c)).join(", ")}));
      await openApp(CURRENT.id);
    } catch (ex) { failIn("o-error", ex); }
  });
  const apply = document.getElementById("apply");
  if (apply) onSubmit(apply, async () => {
    failIn("o-error"); doneIn("o-done");
    try {
      const codes = document.getElementById("a-parcels").value.split(/[,，\s]+/).filter(Boolean);
      const a = await api("/api/brands/applications", {method: "POST", body: {producer_id: Number(document.getElementById("a-producer").value), category: document.getElementById("a-category").value, product: document.getElementById("a-product").value, parcel_codes: codes}});
      doneIn("o-done", T("Application for {product} submitted.", {product: a.product}));
      apply.reset(); await load();
    } catch (ex) { failIn("o-error", ex); }
  });
  const batch = document.getElementById("batch");
  if (batch) onSubmit(batch, async () => {
    failIn("o-error"); doneIn("o-done");
    try {
      const b = await api("/api/brands/batches", {method: "POST", body: {application_id: Number(document.getElementById("b-app").value), quantity: document.getElementById("b-quantity").value, codes: Number(document.getElementById("b-codes").value)}});
      location.href = `/brands/batches/${b.id}`;
    } catch (ex) { failIn("o-error", ex); }
  });
  const producer = document.getElementById("producer");
  if (producer) onSubmit(producer, async () => {
    failIn("o-error");
    try {
      await api("/api/brands/producers", {method: "POST", body: {name: document.getElementById("p-name").value, role: document.getElementById("p-role").value, county_code: document.getElementById("p-county").value}});
      producer.reset(); await load();
    } catch (ex) { failIn("o-error", ex); }
  });
}
forms();
load().catch((ex) => failIn("o-error", ex));
