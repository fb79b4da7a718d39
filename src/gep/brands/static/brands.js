// Shared by the brand pages: words for states, categories, steps and roles.
"use strict";
const G = window.GEP;
const zhOrEn = (o) => (o ? (G.lang === "zh" ? o.zh : o.en) : "");
const catName = (code) => zhOrEn(G.categories[code]) || code;
const stepName = (k) => T(G.steps[k] || k);
const roleName = (r) => T(G.roles[r] || r);
const stateBadge = (s) => el("span", {class: `badge st-${s}`}, T(G.states[s] || s));
function button(label, handler, cls = "") { const b = el("button", {type: "button", class: cls}, label); b.addEventListener("click", handler); return b; }
const itemName = (cat, code) => { const i = (G.categories[cat] || {items: []}).items.find((x) => x.code === code); return i ? `${zhOrEn(i)} (${i.unit})` : code; };
function stepLine(r, cat, unit = "") {
  // one step in words, from a record's payload (the office's view) or its public form
  const p = r.payload || r;
  const name = (x) => (x && typeof x === "object" ? x.name : x);
  switch (r.kind) {
    case "harvest": return T("{grower} harvested {quantity} from parcel {parcel}", {grower: name(p.grower), quantity: `${p.quantity} ${unit}`.trim(), parcel: (p.parcel && p.parcel.code) || p.parcel || "—"});
    case "processing": return T("{processor}: {process}, {output} out", {processor: name(p.processor), process: p.process, output: `${p.output} ${unit}`.trim()});
    case "inspection": return (p.passed ? T("inspected: every item within its limit") : T("inspected: not passed ({items})", {items: (p.failed || []).map((c) => itemName(cat, c)).join(", ")})) + (p.laboratory ? ` · ${p.laboratory}` : "");
    case "sale": return p.unit_price_yuan ? T("{seller} sold {quantity} to {buyer} at {price} yuan a unit", {seller: name(p.seller), quantity: `${p.quantity} ${unit}`.trim(), buyer: name(p.buyer), price: p.unit_price_yuan}) : T("{seller} sold {quantity} to {buyer}", {seller: name(p.seller), quantity: `${p.quantity} ${unit}`.trim(), buyer: name(p.buyer)});
    case "settlement": return p.amount_yuan ? T("{payer} paid {payee} {amount} yuan for record no. {sale}", {payer: name(p.payer), payee: name(p.payee), amount: p.amount_yuan, sale: p.sale}) : T("{payer} paid {payee} for record no. {sale}", {payer: name(p.payer), payee: name(p.payee), sale: p.sale});
    default: return r.kind;
  }
}
function stepItem(r, cat, unit = "") {
  return el("li", {class: `step ${r.kind}`}, el("div", {class: "when"}, `${r.seq}. ${stepName(r.kind)} · ${r.on || (r.payload && r.payload.on) || ""}`),
    el("div", {}, stepLine(r, cat, unit)), el("div", {class: "mono muted", title: T("this record's SHA-256 hash")}, r.hash.slice(0, 16) + "…"));
}
