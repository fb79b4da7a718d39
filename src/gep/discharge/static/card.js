// An enterprise's card: its permit, the year's quota per pollutant (held, used, balance, pledged), alerts, the
// daily emissions chart, fee bills (pay), pledges, and the import of emission records.
"use strict";
const EID = window.GEP.enterprise_id;
let year = yearPicker((y) => { year = y; load().catch((ex) => fail("d-error", ex)); });
async function load() {
  const c = await api(EID ? `/api/discharge/enterprises/${EID}/card?year=${year}` : `/api/discharge/card?year=${year}`);
  document.getElementById("d-title").replaceChildren(c.enterprise.name, " ", synthetic(c.enterprise));
  document.getElementById("d-permit").textContent = c.permit ? T("Permit {number}, {start}–{end}; credit code {code}", {number: c.permit.number, start: c.permit.start_year, end: c.permit.end_year, code: c.enterprise.credit_code}) : T("No permit");
  const alerts = c.alerts.filter((a) => a.year === year);
  document.getElementById("d-alerts").replaceChildren(...alerts.map((a) => el("div", {class: `alert ${a.threshold_pct >= 100 ? "over" : ""}`},
    T("{pollutant}: {pct} % of the year's quota is used ({used} of {held} t)", {pollutant: polName(a.pollutant), pct: a.threshold_pct, used: t3(a.used_t), held: t3(a.held_t)}))));
  document.getElementById("d-gauges").replaceChildren(...c.pollutants.map((p) => el("div", {class: "gauge"},
    el("h3", {}, polName(p.pollutant)), bar(p.used_pct),
    el("div", {class: "nums"}, T("used {used} of {held} t ({pct})", {used: t3(p.used_t), held: t3(p.held_t), pct: p.used_pct === null ? "—" : `${p.used_pct}%`})),
    el("div", {class: "nums"}, T("balance {balance} t; pledged {pledged} t", {balance: t3(p.balance_t), pledged: t3(p.pledged_t)})))));
  if (!c.pollutants.length) document.getElementById("d-gauges").append(el("p", {class: "muted"}, T("No quota for this year.")));
  const traces = Object.entries(c.daily_kg).map(([pol, days]) => ({x: Object.keys(days), y: Object.values(days), name: polName(pol), type: "bar"}));
  Plotly.react("d-chart", traces, {barmode: "group", margin: {t: 10, r: 10, b: 40, l: 50}, xaxis: {tickformat: "%m-%d"}, yaxis: {title: {text: T("kg a day")}}, font: chartFont(), legend: {orientation: "h"}}, {displayModeBar: false, responsive: true});
  const bills = document.querySelector("#bills tbody");
  bills.replaceChildren(...c.bills.map((b) => {
    let act = "";
    if (b.state === "due" && window.GEP.can_hold && !EID) {
      act = el("button", {type: "button", class: "small"}, T("pay the fee"));
      act.addEventListener("click", () => { act.disabled = true; api(`/api/discharge/bills/${b.id}/pay`, {method: "POST"}).then(load).catch((ex) => { act.disabled = false; fail("d-error", ex); }); });
    }
    return el("tr", {}, el("td", {}, b.year), el("td", {class: "n"}, yuanText(b.amount_fen / 100)), el("td", {}, b.due_on), el("td", {}, b.state === "paid" ? T("fee paid") : T("fee due")), el("td", {}, act));
  }));
  labelCells(document.getElementById("bills"));
  document.getElementById("pledges").replaceChildren(...c.pledges.map((p) => {
    let act = "";
    if (p.state === "active" && window.GEP.can_manage && EID) {
      act = el("button", {type: "button", class: "small secondary"}, T("release"));
      act.addEventListener("click", () => { act.disabled = true; api(`/api/discharge/pledges/${p.id}/release`, {method: "POST"}).then(load).catch((ex) => { act.disabled = false; fail("d-error", ex); }); });
    }
    return el("li", {}, T("{t} t of {pollutant} for {year} pledged to {bank} ({state})", {t: t3(p.t), pollutant: polName(p.pollutant), year: p.year, bank: p.bank, state: p.state === "active" ? T("locked") : T("released")}), " ", act);
  }));
  if (!c.pledges.length) document.getElementById("pledges").append(el("li", {class: "muted"}, T("No pledge.")));
}
onSubmit(document.getElementById("upload"), async (ev) => {
  ev.preventDefault(); fail("d-error");
  const done = document.getElementById("u-done"), problems = document.getElementById("u-problems");
  done.hidden = true; problems.replaceChildren();
  const form = new FormData(); form.append("file", document.getElementById("file").files[0]);
  try {
    const r = await api("/api/discharge/emissions/import", {method: "POST", body: form});
    done.textContent = T("{booked} records booked, {skipped} already booked before", {booked: r.booked, skipped: r.skipped}); done.hidden = false;
    await load();
  } catch (ex) {
    fail("d-error", ex);
    problems.replaceChildren(...(ex.problems || []).map((p) => el("li", {}, `${p.where}: ${p.message}`)));
  }
});
const lock = document.getElementById("lock");
if (lock) {
  for (const code of Object.keys(window.GEP.pollutants)) document.getElementById("p-pollutant").append(el("option", {value: code}, polName(code)));
  onSubmit(lock, async (ev) => {
    ev.preventDefault(); fail("d-error");
    const v = (id) => document.getElementById(id).value;
    const body = {enterprise_id: EID, pollutant: v("p-pollutant"), year, tonnes: v("p-t")};
    try {
      if (ev.submitter && ev.submitter.name === "buyback") await api("/api/discharge/buybacks", {method: "POST", body: {...body, price_yuan_per_kg: v("p-price") || "0", key: newKey()}});
      else await api("/api/discharge/pledges", {method: "POST", body: {...body, bank_name: v("p-bank")}});
      await load();
    } catch (ex) { fail("d-error", ex); }
  });
}
load().catch((ex) => fail("d-error", ex));
