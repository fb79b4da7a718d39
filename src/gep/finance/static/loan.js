// One loan: its terms and why, the schedule, the pledged rights (on a map, with their registry lock), the steps,
// and the actions the caller may take: the borrower withdraws or repays, the bank approves (with appraisals),
// rejects, pays out, declares a default or sends the collateral to the exchange.
"use strict";
const LID = window.GEP.loan_id;
let MAP = null, LAYER = null, LOAN = null;
function button(label, cls, run) {
  const b = el("button", {type: "button", class: cls}, label);
  b.addEventListener("click", async () => { b.disabled = true; fail("n-error"); done("n-done");
    try { await run(); await load(); } catch (ex) { fail("n-error", ex); } finally { b.disabled = false; } });
  return b;
}
async function load() {
  const l = LOAN = await api(`/api/finance/loans/${LID}`);
  document.getElementById("n-title").replaceChildren(`${productName(l)} ${l.code}`, " ", synthetic(l));
  document.getElementById("n-state").replaceChildren(stateBadge(l.state));
  document.getElementById("n-meta").textContent = T("{borrower} · {bank} · grade {grade} · applied {at}", {borrower: l.borrower, bank: l.bank, grade: l.grade || "—", at: when(l.created_at)});
  document.getElementById("n-kpis").replaceChildren(kpi(T("amount (yuan)"), fenText(l.amount_fen)), kpi(T("limit (yuan)"), fenText(l.limit_fen)),
    kpi(T("rate"), rateText(l.rate_bp)), kpi(T("months"), l.months), kpi(T("outstanding (yuan)"), fenText(l.outstanding_fen)));
  const t = l.terms || {};
  document.getElementById("n-reasons").replaceChildren(...(t.problems || []).map((r) => el("li", {class: "no"}, r.text || reasonText(r))),
    ...(t.reasons || []).map((r) => el("li", {}, r.text || reasonText(r))), l.reason ? el("li", {class: "muted"}, T("bank's note: {note}", {note: l.reason})) : "");
  const list = document.getElementById("n-collateral");
  list.replaceChildren(...l.collateral.map((c) => el("li", {}, `${c.parcel_name || c.parcel_code} · ${c.certificate_no} · `,
    el("strong", {}, c.locked ? T("locked in the registry") : T("not locked")), ` · ${T(COLLATERAL_STATES[c.state] || c.state)}`,
    c.value_fen ? ` · ${T("value {v} yuan", {v: fenText(c.value_fen)})}` : "")));
  if (!l.collateral.length) list.append(el("li", {class: "muted"}, T("No collateral: a credit loan.")));
  const geo = l.collateral.filter((c) => c.geojson);
  if (geo.length) {
    if (!MAP) MAP = L.map("n-map", {attributionControl: false});
    if (LAYER) LAYER.remove();
    LAYER = L.geoJSON({type: "FeatureCollection", features: geo.map((c) => ({type: "Feature", geometry: c.geojson, properties: {}}))}, {style: {color: "#b3261e", weight: 2, fillOpacity: 0.3}}).addTo(MAP);
    MAP.fitBounds(LAYER.getBounds(), {maxZoom: 15, padding: [20, 20]});
  } else document.getElementById("n-map").hidden = true;
  const body = document.querySelector("#schedule tbody");
  body.replaceChildren(...l.schedule.map((i) => el("tr", {class: l.overdue.includes(i.n) ? "late" : ""}, el("td", {}, i.n), el("td", {}, i.due_on),
    el("td", {class: "n"}, fenText(i.principal_fen)), el("td", {class: "n"}, fenText(i.interest_fen)),
    el("td", {}, i.state === "paid" ? T("paid") : i.state === "written_off" ? T("written off") : l.overdue.includes(i.n) ? T("overdue") : T("due")))));
  if (!l.schedule.length) body.append(el("tr", {}, el("td", {colspan: 5, class: "muted"}, T("The schedule is set when the loan is paid out."))));
  labelCells(document.getElementById("schedule"));
  document.getElementById("steps").replaceChildren(...l.steps.map((s) => el("li", {}, `${when(s.at)} · ${T(window.GEP.verbs[s.verb] || s.verb)} · ${s.before ? stateName(s.before) + " → " : ""}${stateName(s.after)}`)));
  const bank = window.GEP.can_lend && window.GEP.org_id === l.bank_org_id;
  const acts = [];
  const approveForm = document.getElementById("n-approve"), rejectForm = document.getElementById("n-reject");
  approveForm.hidden = rejectForm.hidden = !(bank && l.state === "applied");
  if (bank && l.state === "applied") {
    document.getElementById("n-amount").value = (l.amount_fen / 100).toFixed(2);
    document.getElementById("n-appraisals").replaceChildren(...l.collateral.map((c) => el("label", {}, T("Appraisal of {name} (yuan, optional)", {name: c.parcel_name || c.parcel_code}), el("input", {"data-right": c.right_id, inputmode: "decimal", placeholder: c.value_fen ? fenText(c.value_fen) : ""}))));
  }
  if (bank && l.state === "approved") acts.push(button(T("Pay out"), "", () => api(`/api/finance/loans/${LID}/disburse`, {method: "POST"})));
  if (bank && l.state === "disbursed" && l.overdue.length) acts.push(button(T("Declare in default"), "secondary", () => api(`/api/finance/loans/${LID}/default`, {method: "POST"})));
  if (bank && l.state === "defaulted" && l.collateral.some((c) => c.state === "pledged")) acts.push(button(T("Send the collateral to the exchange"), "secondary", async () => { await api(`/api/finance/loans/${LID}/enforce`, {method: "POST"}); done("n-done", T("Draft listings follow on the exchange (My trades): set their terms and submit them.")); }));
  const mine = !bank && (l.state === "disbursed" || l.state === "defaulted");
  if (mine) acts.push(button(T("Repay the next instalment"), "", async () => { const r = await api(`/api/finance/loans/${LID}/repay`, {method: "POST", headers: {"Idempotency-Key": newKey()}}); done("n-done", T("Instalment {n} paid.", {n: r.instalment})); }));
  if (!bank && (l.state === "applied" || l.state === "approved")) acts.push(button(T("Withdraw the application"), "secondary", () => api(`/api/finance/loans/${LID}/withdraw`, {method: "POST"})));
  document.getElementById("n-actions").replaceChildren(...acts);
}
const COLLATERAL_STATES = {proposed: N_("proposed"), pledged: N_("pledged"), released: N_("released"), on_sale: N_("on the exchange"), sold: N_("sold")};
onSubmit(document.getElementById("n-approve"), async () => {
  fail("n-error");
  const appraisals = [...document.querySelectorAll("#n-appraisals input")].filter((i) => i.value).map((i) => ({right_id: Number(i.dataset.right), value_yuan: i.value}));
  try {
    await api(`/api/finance/loans/${LID}/approve`, {method: "POST", body: {amount_yuan: document.getElementById("n-amount").value || null, appraisals, reason: document.getElementById("n-reason").value}});
    done("n-done", T("Approved: the pledged rights are locked in the registry."));
    await load();
  } catch (ex) { fail("n-error", ex); }
});
onSubmit(document.getElementById("n-reject"), async () => {
  fail("n-error");
  try { await api(`/api/finance/loans/${LID}/reject`, {method: "POST", body: {reason: document.getElementById("n-reject-reason").value}}); await load(); }
  catch (ex) { fail("n-error", ex); }
});
load().catch((ex) => fail("n-error", ex));
