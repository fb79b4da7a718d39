// The rewards page: a policy applied to the region's zones for a year within a budget; the office computes the
// round, approves it (the payments posted once) and rechecks it; everyone with access reads it and its notice.
"use strict";
const CFG = window.GEP;
const ZH = CFG.lang === "zh";
const params = new URLSearchParams(location.search);
const BASES = {gep_increment: N_("GEP increment at constant prices (yuan)"), regulating_value: N_("Regulating-service value (yuan)"), assessment_rank: N_("Assessment rank")};
const NOTES = {capped: N_("capped"), "not ranked": N_("not ranked"), "below the ranks rewarded": N_("below the ranks rewarded"),
  "no accounts for both years": N_("no accounts for both years"), "basis not above the threshold": N_("basis not above the threshold")};
let POLICIES = [], POLICY = null, YEAR = Number(params.get("year")) || null, ROUND = null;
const name = (x) => (ZH ? x.name_zh : (x.name_en || x.name_zh));
const fen = (f) => (f === null || f === undefined ? "—" : (f / 100).toLocaleString(undefined, {minimumFractionDigits: 2, maximumFractionDigits: 2}));
async function init() {
  POLICIES = await api("/api/assessment/rewards/policies");
  const sel = document.getElementById("policy");
  sel.replaceChildren(...POLICIES.map((p) => el("option", {value: p.version}, name(p))));
  POLICY = POLICIES.find((p) => p.version === params.get("policy")) || POLICIES[0];
  sel.value = POLICY.version;
  sel.addEventListener("change", () => { POLICY = POLICIES.find((p) => p.version === sel.value); go(); });
  const rounds = await api("/api/assessment/rewards/rounds");
  const now = new Date().getFullYear();
  const years = new Set(rounds.map((r) => r.year));
  for (let y = now - 6; y <= now; y++) years.add(y);
  if (!YEAR) YEAR = rounds.length ? Math.max(...rounds.map((r) => r.year)) : now - 1;
  const ysel = document.getElementById("year");
  ysel.replaceChildren(...[...years].sort((a, b) => b - a).map((y) => el("option", {value: y}, y)));
  ysel.value = YEAR;
  ysel.addEventListener("change", () => { YEAR = Number(ysel.value); go(); });
  wire();
  await go();
}
async function go() {
  history.replaceState(null, "", `?policy=${POLICY.version}&year=${YEAR}`);
  failIn("r-error", null); doneIn("r-done", "");
  document.getElementById("r-source").textContent = POLICY.source;
  const budget = document.getElementById("budget");
  const rounds = await api("/api/assessment/rewards/rounds");
  const row = rounds.find((r) => r.policy === POLICY.version && r.year === YEAR && r.region_id === CFG.region_id);
  ROUND = row ? await api(`/api/assessment/rewards/rounds/${row.id}`) : null;
  if (budget) budget.value = ((ROUND ? ROUND.budget_fen : POLICY.budget_fen) / 100).toFixed(2);
  draw();
}
function draw() {
  document.getElementById("r-basis-head").textContent = T(BASES[POLICY.basis]);
  const body = document.querySelector("#r-zones tbody");
  const approve = document.getElementById("r-approve"), recheck = document.getElementById("r-recheck");
  document.getElementById("r-notice").hidden = !ROUND;
  for (const id of ["budget-label", "r-compute"]) { const e = document.getElementById(id); if (e) e.hidden = false; }
  if (!ROUND) {
    document.getElementById("r-kpis").replaceChildren();
    document.getElementById("r-state").textContent = T("No round for this year yet.");
    body.replaceChildren();
    if (approve) approve.hidden = true;
    if (recheck) recheck.hidden = true;
    return;
  }
  document.getElementById("r-kpis").replaceChildren(kpiBox(T("Budget (yuan)"), fen(ROUND.budget_fen)), kpiBox(T("Paid out (yuan)"), fen(ROUND.total_fen)),
    kpiBox(T("Zones rewarded"), ROUND.rewarded), kpiBox(T("Due before the budget (yuan)"), fen(ROUND.wanted_fen)));
  const state = ROUND.status === "approved" ? T("approved: paid through the ledger") : T("draft");
  document.getElementById("r-state").replaceChildren(el("span", {class: `badge ${ROUND.status === "approved" ? "published" : "draft"}`}, state), " ",
    ROUND.binding ? T("The amounts exceed the budget: each is cut in proportion, the total is the budget to the fen.") : "", " ", syntheticBadge(ROUND));
  if (approve) approve.hidden = ROUND.status === "approved";
  // an approved round is paid: its budget and amounts no longer change
  for (const id of ["budget-label", "r-compute"]) { const e = document.getElementById(id); if (e) e.hidden = ROUND.status === "approved"; }
  if (recheck) recheck.hidden = false;
  document.getElementById("r-pdf-zh").href = `/api/assessment/rewards/rounds/${ROUND.id}/notice.pdf?lang=zh`;
  document.getElementById("r-pdf-en").href = `/api/assessment/rewards/rounds/${ROUND.id}/notice.pdf?lang=en`;
  const all = document.getElementById("r-all").checked;
  body.replaceChildren(...ROUND.zones.filter((z) => all || z.paid_fen > 0).map((z) => el("tr", {class: z.paid_fen ? "" : "muted"},
    el("td", {}, z.name, z.parent ? el("span", {class: "muted"}, `（${z.parent}）`) : "", z.note ? el("span", {class: "muted small"}, " · " + T(NOTES[z.note] || z.note)) : ""),
    el("td", {class: "n"}, POLICY.basis === "assessment_rank" ? (z.rank || "—") : (z.basis_yuan === null ? "—" : Number(z.basis_yuan).toLocaleString(undefined, {maximumFractionDigits: 0}))),
    el("td", {class: "n"}, fen(z.wanted_fen)), el("td", {class: "n"}, fen(z.paid_fen)))));
}
function wire() {
  document.getElementById("r-all").addEventListener("change", () => draw());
  const form = document.getElementById("r-form");
  if (!form) return;
  onSubmit(form, async () => {
    try {
      ROUND = await api("/api/assessment/rewards/rounds", {method: "POST", body: {policy: POLICY.version, region_id: CFG.region_id, year: YEAR, budget_yuan: document.getElementById("budget").value.trim()}});
      draw();
      doneIn("r-done", T("Round computed: {n} zones rewarded.", {n: ROUND.rewarded}));
    } catch (ex) { failIn("r-error", ex); }
  });
  document.getElementById("r-approve").addEventListener("click", () => once(form, async () => {
    try {
      ROUND = await api(`/api/assessment/rewards/rounds/${ROUND.id}/approve`, {method: "POST"});
      draw();
      doneIn("r-done", T("Approved: {yuan} yuan paid to {n} zones.", {yuan: fen(ROUND.total_fen), n: ROUND.rewarded}));
    } catch (ex) { failIn("r-error", ex); }
  }));
  document.getElementById("r-recheck").addEventListener("click", () => once(form, async () => {
    try {
      const r = await api(`/api/assessment/rewards/rounds/${ROUND.id}/recheck`);
      doneIn("r-done", r.same ? T("Recomputed from the accounts as they are now: the same, to the fen.") : T("The accounts changed since: {n} zones would get other amounts.", {n: r.moved.length}));
    } catch (ex) { failIn("r-error", ex); }
  }));
}
init().catch((ex) => failIn("r-error", ex));
