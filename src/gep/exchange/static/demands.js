// The demand board: publish a demand (matched at once), and see the open ones.
"use strict";
const $ = (id) => document.getElementById(id);
function row(d) {
  const cell = el("td", {});
  if (d.mine) {
    const matches = el("button", {type: "button", class: "secondary small"}, T("Matches"));
    matches.addEventListener("click", () => showMatches(d));
    const close = el("button", {type: "button", class: "secondary small"}, T("Close"));
    close.addEventListener("click", async () => { try { await api(`/api/exchange/demands/${d.id}/close`, {method: "POST"}); load(); } catch (ex) { fail("d-error", ex); } });
    cell.append(matches, " ", close);
  }
  const area = d.area_mu_min || d.area_mu_max ? `${d.area_mu_min || "0"} – ${d.area_mu_max || "…"}` : "—";
  return el("tr", {"data-demand": d.id}, el("td", {}, d.side === "buy" ? T("buys") : T("sells")), el("td", {}, d.title, " ", syntheticBadge(d)), el("td", {}, catName(d.category_code)),
    el("td", {}, d.county_code || "—"), el("td", {class: "n"}, area), el("td", {class: "n"}, d.budget ? yuanText(d.budget) : "—"), el("td", {}, d.party_name), cell);
}
async function showMatches(d) {
  const ms = await api(`/api/exchange/demands/${d.id}/matches`);
  renderMatches(d.title, ms);
}
function renderMatches(title, ms) {
  const box = $("d-result");
  box.hidden = false;
  box.replaceChildren(el("h3", {}, T("What fits “{title}”", {title})),
    ms.length ? el("ul", {}, ...ms.map((m) => el("li", {}, m.listing ? el("a", {href: `/exchange/listings/${m.listing.id}`}, `${m.listing.code} · ${m.listing.title} · ¥${yuanText(m.listing.start_price)}`)
      : `${m.demand.side === "buy" ? T("buyer") : T("seller")}: ${m.demand.title} (${m.demand.party_name})`, ` — ${m.why.map((w) => T(w)).join(", ")}`))) : el("p", {class: "muted"}, T("Nothing fits yet: you will be told when something does.")));
  box.scrollIntoView({block: "nearest"});
}
async function publish(e) {
  e.preventDefault();
  fail("d-error", null);
  const num = (id) => ($(id).value.trim() ? $(id).value.trim() : null);
  const body = {side: $("d-side").value, title: $("d-title").value.trim(), county_code: $("d-county").value.trim()};
  if ($("d-category").value) body.category_code = $("d-category").value;
  if (num("d-min")) body.area_mu_min = num("d-min");
  if (num("d-max")) body.area_mu_max = num("d-max");
  if (num("d-budget")) { const v = yuanInput(num("d-budget")); if (v === null) { fail("d-error", new Error(T("Enter an amount of yuan, such as 1200.50"))); return; } body.budget = v; }
  if (num("d-term")) body.term_years = Number(num("d-term"));
  try {
    const d = await api("/api/exchange/demands", {method: "POST", body});
    renderMatches(d.title, d.matches);
    await load();
  } catch (ex) { fail("d-error", ex); }
}
async function load() {
  const side = $("d-filter").value;
  const rows = await api("/api/exchange/demands" + (side ? `?side=${side}` : ""));
  $("board").querySelector("tbody").replaceChildren(...rows.map(row));
  if (!rows.length) $("board").querySelector("tbody").append(el("tr", {}, el("td", {colspan: 8, class: "muted"}, T("No open demands."))));
  labelCells($("board"));
}
populateCategories($("d-category"), (c) => c.active);
$("demand-form").hidden = !window.GEP.can_trade;
$("demand-form").addEventListener("submit", publish);
$("d-filter").addEventListener("change", () => load());
$("d-side").addEventListener("change", () => { $("d-budget-label").textContent = $("d-side").value === "buy" ? T("Budget, at most (yuan)") : T("Price, at least (yuan)"); });
load().catch((ex) => fail("d-error", ex));
