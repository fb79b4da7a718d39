// A batch: its steps on the signed chain, whether the chain holds, label sheets, and the next step's form.
"use strict";
const BATCH = G.batch_id;
let B = null;
async function load() {
  B = await api(`/api/brands/batches/${BATCH}`);
  const a = B.application;
  document.getElementById("t-title").replaceChildren(`${B.batch_no} · ${B.product} `, syntheticBadge(B, T("generated demo data")));
  document.getElementById("t-sub").textContent = T("{category} by {producer}, certificate {no} valid until {until}", {category: catName(a.category), producer: a.producer, no: a.certificate_no, until: a.valid_until});
  document.getElementById("t-kpis").replaceChildren(kpiBox(T("Quantity"), `${B.quantity} ${B.unit}`), kpiBox(T("Left to sell"), `${B.remaining} ${B.unit}`),
    kpiBox(T("Label codes"), B.codes), kpiBox(T("Steps"), B.records.length), kpiBox(T("Sold out"), B.sold_out_on || "—"));
  const chain = document.getElementById("t-chain");
  chain.className = `chain ${B.chain.intact ? "ok" : "bad"}`;
  chain.replaceChildren(B.chain.intact ? T("✓ The chain holds: {n} records, each linked to the one before and signed by the platform.", {n: B.records.length}) : T("✗ The chain does not hold:"), ...B.chain.breaks.map((b) => el("div", {}, b)));
  document.getElementById("steps").replaceChildren(...B.records.map((r) => stepItem(r, a.category, B.unit)));
  document.getElementById("l-csv").href = `/api/brands/batches/${BATCH}/codes.csv`;
  document.getElementById("l-chain").href = `/api/brands/batches/${BATCH}/chain.json`;
  const first = document.getElementById("l-first-url");
  first.href = B.label_url || "#"; first.textContent = B.label_url || "—";
  fillForm();
}
function fillForm() {
  const form = document.getElementById("step");
  if (!form) return;
  const a = B.application;
  const kind = document.getElementById("s-kind");
  const open = Number(B.remaining) > 0;  // once sold out, only the settlements of its sales can follow
  const kinds = Object.keys(G.steps).filter((k) => open || k === "settlement");
  const chosen = kinds.includes(kind.value) ? kind.value : (B.records.length ? kinds[Math.min(1, kinds.length - 1)] : "harvest");
  kind.replaceChildren(...kinds.map((k) => el("option", {value: k, selected: k === chosen}, stepName(k))));
  const opts = (rows) => rows.map((p) => el("option", {value: p.id}, `${p.name} (${roleName(p.role)})`));
  document.getElementById("s-grower").replaceChildren(...opts(B.producers.filter((p) => p.role === "grower")), ...opts(B.producers.filter((p) => p.role !== "grower")));
  document.getElementById("s-buyer").replaceChildren(...opts(B.producers.filter((p) => p.role !== "grower")));
  document.getElementById("s-parcel").replaceChildren(el("option", {value: ""}, T("the product's first parcel")), ...(a.parcel_codes || []).map((c) => el("option", {value: c}, c)));
  document.getElementById("s-sale").replaceChildren(...B.records.filter((r) => r.kind === "sale" || r.kind === "harvest").map((r) => el("option", {value: r.seq}, `${r.seq}. ${stepLine(r, a.category, B.unit)}`)));
  document.getElementById("s-items").replaceChildren(...G.categories[a.category].items.map((i) => el("label", {}, `${zhOrEn(i)} (${i.unit}, ${i.limit})`, el("input", {name: i.code, inputmode: "decimal"}))));
  showFields();
}
function showFields() {
  const k = document.getElementById("s-kind").value;
  for (const d of document.querySelectorAll("#step [data-for]")) d.hidden = !d.dataset.for.split(" ").includes(k);
}
function forms() {
  const labelLink = () => {
    const first = Math.max(1, Number(document.getElementById("l-first").value) || 1), count = Math.max(1, Number(document.getElementById("l-count").value) || 21);
    document.getElementById("l-pdf").href = `/api/brands/batches/${BATCH}/labels.pdf?first=${first}&count=${count}`;
  };
  document.getElementById("l-first").oninput = labelLink;
  document.getElementById("l-count").oninput = labelLink;
  document.getElementById("labels").addEventListener("submit", (ev) => ev.preventDefault());
  labelLink();
  const form = document.getElementById("step");
  if (!form) return;
  document.getElementById("s-kind").onchange = showFields;
  onSubmit(form, async () => {
    failIn("t-error"); doneIn("t-done");
    const v = (id) => document.getElementById(id).value.trim();
    const kind = v("s-kind");
    const body = {kind};
    if (v("s-on")) body.on = v("s-on");
    if (kind === "harvest") Object.assign(body, {grower: Number(v("s-grower")), quantity: v("s-quantity"), parcel: v("s-parcel")});
    if (kind === "processing") Object.assign(body, {process: v("s-process"), output: v("s-output")});
    if (kind === "inspection") { body.results = {}; for (const i of form.querySelectorAll("#s-items input")) if (i.value.trim()) body.results[i.name] = i.value.trim(); body.laboratory = v("s-lab"); }
    if (kind === "sale") Object.assign(body, {buyer: Number(v("s-buyer")), quantity: v("s-quantity"), unit_price_yuan: v("s-price")});
    if (kind === "settlement") Object.assign(body, {sale: Number(v("s-sale")), amount_yuan: v("s-amount"), reference: v("s-ref")});
    for (const [k, x] of Object.entries(body)) if (x === "" || Number.isNaN(x)) delete body[k];
    try {
      const r = await api(`/api/brands/batches/${BATCH}/records`, {method: "POST", body});
      doneIn("t-done", T("Step {seq} signed onto the chain.", {seq: r.seq}));
      form.reset();
      await load();
    } catch (ex) { failIn("t-error", ex); }
  });
}
forms();
load().catch((ex) => failIn("t-error", ex));
