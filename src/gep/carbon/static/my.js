// My carbon units: what I hold (by serial range); retire, sell on the exchange, or give to an organisation.
"use strict";
let account;
for (const [k, v] of Object.entries(window.GEP.purposes)) document.getElementById("r-purpose").append(el("option", {value: k}, T(v)));
api("/api/organisations").then((orgs) => document.getElementById("t-org").append(...orgs.filter((o) => o.id !== window.GEP.organisation_id).map((o) => el("option", {value: o.id}, o.name)))).catch(() => {});
function done(text) { const e = document.getElementById("m-done"); e.textContent = text; e.hidden = !text; }
async function load() {
  const accounts = await api("/api/carbon/accounts/my");
  account = accounts[0];
  const blocks = account ? account.blocks : [];
  document.getElementById("balance").textContent = T("{n} tCO₂e held", {n: tonnes(account ? account.balance : 0)});
  const body = document.querySelector("#blocks tbody");
  body.replaceChildren(...blocks.map((b) => el("tr", {}, el("td", {}, el("a", {href: `/carbon/projects/${b.project_id}`}, b.project)), el("td", {}, b.vintage), el("td", {class: "n"}, tonnes(b.quantity)), el("td", {}, el("span", {class: "serial"}, b.serials)))));
  if (!blocks.length) body.append(el("tr", {}, el("td", {colspan: 4, class: "muted"}, T("You hold no carbon units."))));
  labelCells(document.getElementById("blocks"));
}
function form(id, run) {
  const f = document.getElementById(id);
  f.addEventListener("submit", (ev) => {
    ev.preventDefault();
    once(f, async () => {
      fail("m-error"); done("");
      try { done(await run()); await load(); } catch (ex) { fail("m-error", ex); }
    });
  });
}
let retireKey = newKey();  // kept until the retirement is recorded: a retried request retires once
const v = (id) => document.getElementById(id).value;
form("retire", async () => {
  const r = await api(`/api/carbon/accounts/${account.id}/retire`, {method: "POST", headers: {"Idempotency-Key": retireKey},
    body: {quantity: Number(v("r-qty")), purpose: v("r-purpose"), beneficiary: v("r-beneficiary"), detail: v("r-detail")}});
  retireKey = newKey();
  return T("Retirement {code} is recorded; certificate {serial}", {code: r.code, serial: r.certificate_serial});
});
form("offer", async () => {
  await api(`/api/carbon/accounts/${account.id}/offer`, {method: "POST", body: {quantity: Number(v("o-qty")), title: v("o-title")}});
  return T("The units are set aside; the draft listing appears under My trades in a moment");
});
form("transfer", async () => {
  const r = await api(`/api/carbon/accounts/${account.id}/transfer`, {method: "POST", body: {to_organisation_id: Number(v("t-org")), quantity: Number(v("t-qty"))}});
  return T("{n} tCO₂e transferred", {n: tonnes(r.moved)});
});
load().catch((ex) => fail("m-error", ex));
