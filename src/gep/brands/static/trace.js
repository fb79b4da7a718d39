// The public trace page: what a scanned code says (genuine, refused, or a warning), and its batch's history.
"use strict";
async function show(code, batch) {
  failIn("v-error");
  const q = batch ? `?b=${encodeURIComponent(batch)}` : "";
  const r = await api(`/api/public/trace/${encodeURIComponent(code)}${q}`);
  const card = document.getElementById("verdict-card");
  card.hidden = false;
  const kind = r.genuine ? "genuine" : r.refused ? "refused" : "warning";
  const head = {genuine: T("Genuine"), refused: T("Not genuine"), warning: T("Genuine code, but look again")}[kind];
  document.getElementById("verdict").className = `verdict ${kind}`;
  document.getElementById("verdict").replaceChildren(el("strong", {}, head), ...r.messages.map((m) => el("p", {}, m)));
  const row = (k, v) => [el("dt", {}, k), el("dd", {}, v)];
  const facts = document.getElementById("facts");
  if (!r.batch_no) { facts.replaceChildren(...row(T("Code"), r.code)); document.getElementById("history-card").hidden = true; return; }
  facts.replaceChildren(
    ...row(T("Product"), el("span", {}, `${r.product} (${G.lang === "zh" ? r.category_zh : r.category_en}) `, syntheticBadge(r, T("generated demo data")))),
    ...row(T("Producer"), r.producer),
    ...row(T("Brand certificate"), r.certificate_no ? T("{no}, {state}, valid until {until}", {no: r.certificate_no, state: T(G.states[r.certificate_state] || r.certificate_state), until: r.valid_until}) : "—"),
    ...row(T("Batch"), `${r.batch_no} · ${r.quantity} ${r.unit}`),
    ...row(T("This label"), T("no. {serial}, scanned {n} times", {serial: r.serial, n: r.scans})));
  document.getElementById("history-card").hidden = false;
  document.getElementById("history").replaceChildren(...r.history.map((h) => stepItem(h, "", r.unit)));
}
const params = new URLSearchParams(location.search);
onSubmit(document.getElementById("lookup"), async () => {
  const code = document.getElementById("q-code").value.trim();
  history.replaceState(null, "", `/trace/${encodeURIComponent(code)}`);
  try { await show(code, ""); } catch (ex) { failIn("v-error", ex); }
});
if (G.code) {
  document.getElementById("q-code").value = G.code;
  show(G.code, G.batch_no || params.get("b") || "").catch((ex) => failIn("v-error", ex));
}
