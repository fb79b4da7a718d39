// Product categories: the list, and (administrators) editing one without code.
"use strict";
const $ = (id) => document.getElementById(id);
let editing = null;
const FIELDS = ["name_zh", "name_en", "department", "deposit_pct", "fee_pct", "announce_days", "bidding_days", "contract_days", "settle_days", "term_max_years"];
// A period in days as a person reads it: days, or hours, minutes or seconds when it is shorter than a day.
const days = (d) => {
  const n = (x) => Number(x).toLocaleString(undefined, {maximumFractionDigits: 2});
  if (d >= 1) return n(d);
  if (d * 24 >= 1) return T("{n} h", {n: n(d * 24)});
  if (d * 1440 >= 1) return T("{n} min", {n: n(d * 1440)});
  return T("{n} s", {n: n(d * 86400)});
};
async function load() {
  const cats = await api("/api/exchange/categories");
  $("cats").querySelector("tbody").replaceChildren(...cats.map((c) => {
    const cell = el("td", {});
    if (window.GEP.can_edit_categories) {
      const b = el("button", {type: "button", class: "secondary small"}, T("Edit"));
      b.addEventListener("click", () => edit(c));
      cell.append(b);
    }
    return el("tr", {"data-category": c.code}, el("td", {}, c.code), el("td", {}, el("div", {}, c.name_zh), el("div", {class: "muted"}, c.name_en)),
      el("td", {}, c.modes.map(modeName).join("、")), el("td", {class: "n"}, c.deposit_pct), el("td", {class: "n"}, days(c.announce_days)),
      el("td", {class: "n"}, days(c.contract_days)), el("td", {class: "n"}, days(c.settle_days)),
      el("td", {}, el("span", {class: "badge", title: c.source}, T(window.GEP.sourcing[c.sourcing] || c.sourcing)), c.verified ? ` ✓ ${T("verified")}` : ""),
      el("td", {}, c.active ? T("yes") : T("no")), cell);
  }));
  labelCells($("cats"));
}
function edit(c) {
  editing = c;
  $("edit-card").hidden = false;
  $("e-title").textContent = `${T("Edit")} ${c.code}`;
  for (const f of FIELDS) $(`e-${f}`).value = c[f] === null || c[f] === undefined ? "" : c[f];
  $("e-verified").checked = c.verified;
  $("e-active").checked = c.active;
  $("e-source").value = c.source;
  $("e-modes").replaceChildren(...Object.keys(window.GEP.modes).map((m) => el("label", {}, Object.assign(el("input", {type: "checkbox", value: m}), {checked: c.modes.includes(m)}), " ", modeName(m))));
  $("edit-card").scrollIntoView({behavior: "smooth"});
}
async function save(e) {
  e.preventDefault();
  fail("c-error", null);
  const body = {verified: $("e-verified").checked, active: $("e-active").checked, source: $("e-source").value,
    modes: [...$("e-modes").querySelectorAll("input:checked")].map((i) => i.value)};
  for (const f of FIELDS) {
    const v = $(`e-${f}`).value.trim();
    if (f === "term_max_years") { if (v) body[f] = Number(v); continue; }
    if (v !== "") body[f] = v;
  }
  try { await api(`/api/exchange/categories/${editing.code}`, {method: "PATCH", body}); $("edit-card").hidden = true; await load(); } catch (ex) { fail("c-error", ex); }
}
$("edit-form").addEventListener("submit", save);
$("e-cancel").addEventListener("click", () => { $("edit-card").hidden = true; });
load().catch((ex) => fail("c-error", ex));
