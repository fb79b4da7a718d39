// A borrower's loans and the application: choose a product, a bank, the rights to pledge and a term; see the
// terms the rules give (limit, rate, each with its reason) before applying.
"use strict";
let PRODUCTS = {};
let RIGHTS = [];
async function loadLoans() {
  const rows = await api("/api/finance/loans");
  const body = document.querySelector("#loans tbody");
  body.replaceChildren(...rows.map((l) => el("tr", {}, el("td", {}, el("a", {href: `/finance/loans/${l.id}`}, l.code), " ", synthetic(l)),
    el("td", {}, productName(l)), el("td", {}, l.bank), el("td", {class: "n"}, fenText(l.amount_fen)), el("td", {class: "n"}, rateText(l.rate_bp)), el("td", {}, stateBadge(l.state)))));
  if (!rows.length) body.append(el("tr", {}, el("td", {colspan: 6, class: "muted"}, T("No loan yet."))));
  labelCells(document.getElementById("loans"));
}
function chosenRights() { return [...document.querySelectorAll("#a-rights input:checked")].map((i) => Number(i.value)); }
function showRights() {
  const p = PRODUCTS[document.getElementById("a-product").value];
  const allowed = new Set([...p.collateral, ...p.optional_collateral]);
  const box = document.getElementById("a-rights");
  const usable = RIGHTS.filter((r) => allowed.has(r.parcel_kind));
  box.replaceChildren(...usable.map((r) => {
    const locked = r.locks.length > 0;
    return el("label", {}, el("input", {type: "checkbox", value: r.id, disabled: locked}),
      `${r.parcel_name || r.parcel_code} · ${r.certificate_no}`, locked ? el("span", {class: "muted"}, ` (${T("locked")})`) : "");
  }));
  if (!usable.length) box.append(el("p", {class: "muted"}, p.collateral.length ? T("You hold no right of the kind this product needs.") : T("No pledge needed for this product.")));
  const d = document.getElementById("a-desc");
  d.textContent = `${zhLang() ? p.description_zh : p.description_en} · ${T("up to {months} months", {months: p.max_months})} · ${T("grade {grade} or better", {grade: p.min_grade})}`;
  document.getElementById("a-months").max = p.max_months;
  document.getElementById("a-terms").replaceChildren();
}
async function showQuote() {
  const q = await api("/api/finance/quote", {method: "POST", body: {product: document.getElementById("a-product").value,
    months: Number(document.getElementById("a-months").value), right_ids: chosenRights()}});
  const t = q.terms;
  const box = document.getElementById("a-terms");
  box.replaceChildren(el("p", {}, el("strong", {}, t.eligible ? T("Limit {limit} yuan at {rate}", {limit: fenText(t.limit_fen), rate: rateText(t.rate_bp)}) : T("Not eligible"))),
    el("ul", {class: "plain small-list"}, ...t.problems.map((r) => el("li", {class: "no"}, r.text || reasonText(r))), ...t.reasons.map((r) => el("li", {}, r.text || reasonText(r)))));
  if (t.eligible && !document.getElementById("a-amount").value) document.getElementById("a-amount").value = (t.limit_fen / 100).toFixed(2);
  return t;
}
async function setUp() {
  await loadLoans();
  const form = document.getElementById("apply");
  if (!form) return;
  const [info, rights] = await Promise.all([api("/api/finance/products"), api("/api/finance/my-rights")]);
  RIGHTS = rights;
  const sel = document.getElementById("a-product");
  for (const p of info.products) { PRODUCTS[p.code] = p; sel.append(el("option", {value: p.code}, productName(p))); }
  for (const b of info.banks) document.getElementById("a-bank").append(el("option", {value: b.id}, b.name));
  document.getElementById("rules").replaceChildren(...info.products.map((p) => el("li", {}, el("strong", {}, productName(p)), ": ", T(p.limit_rule), ` · ${T(window.GEP.repayments[p.repayment])}`)));
  sel.addEventListener("change", showRights); showRights();
  document.getElementById("a-quote").addEventListener("click", () => showQuote().catch((ex) => fail("l-error", ex)));
  onSubmit(form, async () => {
    fail("l-error");
    const v = (id) => document.getElementById(id).value;
    try {
      const loan = await api("/api/finance/loans", {method: "POST", headers: {"Idempotency-Key": newKey()}, body: {
        product: v("a-product"), bank_org_id: Number(v("a-bank")), months: Number(v("a-months")), right_ids: chosenRights(),
        amount_yuan: v("a-amount"), purpose: v("a-purpose")}});
      window.location.href = `/finance/loans/${loan.id}`;
    } catch (ex) {
      fail("l-error", ex);
      const box = document.getElementById("a-terms");
      if (ex.problems && ex.problems.length) box.replaceChildren(el("ul", {class: "plain small-list"}, ...ex.problems.map((p) => el("li", {class: "no"}, p.message))));
    }
  });
}
setUp().catch((ex) => fail("l-error", ex));
