// The ledger page: my accounts, the statement of the one picked; staff record payments and read the balance sheet.
"use strict";
const L_ = {current: null, accounts: []};
const CODE_NAMES = window.GEP.codes;
function fail(ex) { const e = document.getElementById("ledger-error"); e.textContent = ex ? ex.message : ""; e.hidden = !ex; }
const accountName = (a) => (a.code.startsWith("platform:") ? T(window.GEP.platform_names[a.code] || a.name) : a.name);
const codeName = (c) => T(CODE_NAMES[c] || c);

async function loadAccounts() {
  L_.accounts = await api("/api/ledger/accounts");
  const list = document.getElementById("accounts");
  list.replaceChildren(...L_.accounts.map((a) => {
    const b = el("button", {type: "button", class: "account", "data-account": a.id},
      el("div", {class: "name"}, accountName(a)), el("div", {class: "muted"}, `${a.code} · ${T(window.GEP.kinds[a.kind] || a.kind)}`),
      el("div", {class: "money"}, yuanText(a.balance)),
      a.held !== "0.00" ? el("div", {class: "muted"}, T("held: {amount}", {amount: yuanText(a.held)})) : "");
    b.addEventListener("click", () => showAccount(a.id));
    return b;
  }));
  const select = document.getElementById("pay-account");
  if (select) select.replaceChildren(...L_.accounts.filter((a) => a.purpose === "funds").map((a) => el("option", {value: a.id}, `${accountName(a)} (${a.code})`)));
  if (L_.accounts.length) await showAccount(L_.current || L_.accounts[0].id);
}

async function showAccount(id) {
  L_.current = id;
  for (const b of document.querySelectorAll(".account")) b.classList.toggle("on", Number(b.dataset.account) === id);
  const data = await api(`/api/ledger/accounts/${id}?limit=200`);
  const a = data.account;
  document.getElementById("statement-card").hidden = false;
  document.getElementById("statement-title").textContent = accountName(a);
  document.getElementById("statement-csv").href = `/api/ledger/accounts/${id}/statement.csv?lang=${window.GEP.lang}`;
  document.getElementById("st-balance").textContent = yuanText(a.balance);
  document.getElementById("st-held").textContent = yuanText(a.held);
  document.getElementById("st-available").textContent = a.available === null ? "—" : yuanText(a.available);
  const body = document.querySelector("#statement tbody");
  body.replaceChildren(...data.statement.map((t) => {
    const posted = t.kind === "plain" || t.kind === "post_pending";
    const what = [codeName(t.code), t.kind === "pending" ? T("(held)") : "", t.kind === "void_pending" ? T("(hold released)") : "", t.kind === "post_pending" ? T("(hold taken)") : "", t.memo].filter(Boolean).join(" ");
    const cells = [el("td", {}, when(t.at)), el("td", {}, t.id), el("td", {}, what), el("td", {}, accountName({code: t.counterparty_code, name: t.counterparty})),
      el("td", {class: "n"}, posted && t.incoming ? yuanText(t.amount) : (!posted && t.incoming ? `(${yuanText(t.amount)})` : "")),
      el("td", {class: "n"}, posted && !t.incoming ? yuanText(t.amount) : (!posted && !t.incoming ? `(${yuanText(t.amount)})` : "")),
      el("td", {class: "n"}, yuanText(t.balance))];
    if (window.GEP.staff) {
      const td = el("td", {});
      if (t.kind === "plain" && t.code !== "reversal") {
        const b = el("button", {type: "button", class: "secondary small"}, T("Reverse"));
        b.addEventListener("click", () => reverse(t.id));
        td.append(b);
      }
      cells.push(td);
    }
    return el("tr", {class: posted ? "" : "pending"}, ...cells);
  }));
  if (!data.statement.length) body.append(el("tr", {}, el("td", {colspan: 8, class: "muted"}, T("No transfers yet."))));
  labelCells(document.getElementById("statement"));
}

async function reverse(id) {
  const reason = window.prompt(T("Why is transfer {id} reversed?", {id}));
  if (!reason) return;
  try { await api(`/api/ledger/transfers/${id}/reverse`, {method: "POST", body: {reason}}); await refresh(); } catch (ex) { fail(ex); }
}

async function pay(e) {
  e.preventDefault(); fail(null);
  const button = document.getElementById("pay-submit");
  button.disabled = true;
  try {
    const t = await api("/api/ledger/payments", {method: "POST", headers: {"Idempotency-Key": newKey()}, body: {
      account_id: Number(document.getElementById("pay-account").value), direction: document.getElementById("pay-direction").value,
      amount: document.getElementById("pay-amount").value.trim(), reference: document.getElementById("pay-reference").value.trim()}});
    document.getElementById("pay-result").textContent = T("Recorded as transfer {id}.", {id: t.id});
    L_.current = t.debit_account_id === Number(document.getElementById("pay-account").value) ? t.debit_account_id : t.credit_account_id;
    await refresh();
  } catch (ex) { fail(ex); } finally { button.disabled = false; }
}

async function loadSheet() {
  if (!document.getElementById("sheet")) return;
  const s = await api("/api/ledger/balance-sheet");
  const badge = document.getElementById("sheet-balanced");
  badge.textContent = s.balanced ? T("debits equal credits") : T("OUT OF BALANCE");
  badge.className = "badge " + (s.balanced ? "ok" : "bad");
  document.querySelector("#sheet tbody").replaceChildren(...s.accounts.map((a) => el("tr", {},
    el("td", {}, `${accountName(a)} (${a.code})`), el("td", {}, T(window.GEP.kinds[a.kind] || a.kind)), el("td", {class: "n"}, yuanText(a.balance)), el("td", {class: "n"}, yuanText(a.held)))));
  document.querySelector("#sheet tfoot").replaceChildren(...Object.entries(s.totals).map(([k, v]) => el("tr", {},
    el("th", {}, T("total")), el("th", {}, T(window.GEP.kinds[k] || k)), el("th", {class: "n"}, yuanText(v)), el("th", {}))));
  labelCells(document.getElementById("sheet"));
}

async function refresh() { await loadAccounts(); await loadSheet(); }
const form = document.getElementById("payment-form");
if (form) form.addEventListener("submit", pay);
refresh().catch(fail);
