// The review queue: approve or reject what was submitted; announce what was approved.
"use strict";
async function act(path, body) {
  fail("r-error", null);
  try { await api(path, {method: "POST", body}); await load(); } catch (ex) { fail("r-error", ex); }
}
function item(x) {
  const reason = el("input", {maxlength: 200, "aria-label": T("Reason (for a rejection)"), placeholder: T("Reason (for a rejection)")});
  const buttons = x.state === "submitted"
    ? [el("button", {type: "button"}, T("Approve")), reason, el("button", {type: "button", class: "danger"}, T("Reject"))]
    : [el("button", {type: "button"}, T("Announce now (category periods)"))];
  if (x.state === "submitted") {
    buttons[0].addEventListener("click", () => act(`/api/exchange/listings/${x.id}/review`, {approve: true, reason: ""}));
    buttons[2].addEventListener("click", () => act(`/api/exchange/listings/${x.id}/review`, {approve: false, reason: reason.value.trim()}));
  } else buttons[0].addEventListener("click", () => act(`/api/exchange/listings/${x.id}/announce`, {}));
  return el("div", {class: "item", "data-listing": x.id},
    el("div", {class: "row spread"}, el("a", {href: `/exchange/listings/${x.id}`}, `${x.code} · ${x.title}`), stateBadge(x.state)),
    el("p", {class: "muted"}, `${catName(x.category_code)} · ${modeName(x.mode)} · ${x.seller_name} · ¥${yuanText(x.start_price)}${x.mode === "multi_unit" ? ` × ${x.quantity} ${x.unit}` : ""}`),
    x.gep_basis && x.gep_basis.summary ? el("p", {class: "notice"}, x.gep_basis.summary) : "",
    x.description ? el("p", {class: "description"}, x.description) : "", el("div", {class: "row"}, ...buttons));
}
async function load() {
  const queue = await api("/api/exchange/review-queue");
  const box = document.getElementById("queue");
  box.replaceChildren(...queue.map(item));
  if (!queue.length) box.append(el("p", {class: "muted"}, T("Nothing waits for review.")));
}
load().catch((ex) => fail("r-error", ex));
