// My trades: what I sell (with its state) and where I bid, with what to do next.
"use strict";
const NEXT = {awarded: N_("sign the contract"), contract_signed: N_("pay")};
function link(x) { return el("a", {href: `/exchange/listings/${x.id}`}, x.code); }
async function load() {
  const m = await api("/api/exchange/my");
  document.getElementById("new-listing").hidden = !window.GEP.can_trade;
  const selling = document.querySelector("#selling tbody");
  selling.replaceChildren(...m.selling.map((x) => el("tr", {}, el("td", {}, link(x)), el("td", {}, x.title), el("td", {}, modeName(x.mode)),
    el("td", {}, stateBadge(x.state), x.reason ? ` ${T(x.reason)}` : ""), el("td", {class: "n"}, yuanText(x.current_price || x.start_price)),
    el("td", {}, x.state === "draft" ? el("a", {href: `/exchange/listings/${x.id}`}, T("complete and submit")) : ""))));
  if (!m.selling.length) selling.append(el("tr", {}, el("td", {colspan: 6, class: "muted"}, T("You sell nothing on the exchange yet."))));
  const bidding = document.querySelector("#bidding tbody");
  bidding.replaceChildren(...m.bidding.map((x) => {
    const r = x.registration;
    const deal = x.deals[0];
    const lost = !deal && r.state === "released" && !["announced", "bidding"].includes(x.state);
    const todo = deal && NEXT[deal.state] ? el("a", {href: `/exchange/listings/${x.id}`}, T(NEXT[deal.state])) : x.state === "bidding" && r.state === "active" ? el("a", {href: `/exchange/listings/${x.id}`}, T("bid")) : "";
    return el("tr", {}, el("td", {}, link(x)), el("td", {}, x.title), el("td", {}, stateBadge(x.state)),
      el("td", {}, T("bidder {n}", {n: r.alias}), r.leading ? ` · ${T("leading")}` : ""), el("td", {class: "n"}, r.last_bid ? yuanText(r.last_bid) : "—"),
      el("td", {}, ...(deal ? [stateName(deal.state), deal.certificate_serial ? " · " : "", deal.certificate_serial ? el("a", {href: `/certificates/${deal.certificate_serial}`}, deal.certificate_serial) : ""] : [lost ? T("not won; the deposit was released") : "—"])), el("td", {}, todo));
  }));
  if (!m.bidding.length) bidding.append(el("tr", {}, el("td", {colspan: 7, class: "muted"}, T("You have not registered for any listing yet."))));
  for (const id of ["selling", "bidding"]) labelCells(document.getElementById(id));
}
load().catch((ex) => fail("m-error", ex));
