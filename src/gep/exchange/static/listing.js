// One listing: its terms, countdown, live bid ladder (polled), and the actions the caller may take now.
"use strict";
const ID = window.GEP.listing_id;
const S = {listing: null, fetchedAt: 0, lastSeq: 0, timer: null, map: null};
const LIVE = ["announced", "bidding"];
const err = (ex) => fail("l-error", ex);

function fact(label, value) { return value === null || value === undefined || value === "" ? null : el("tr", {}, el("th", {scope: "row"}, label), el("td", {}, value)); }

async function act(path, body, headers) {
  err(null);
  for (const b of document.querySelectorAll("#actions button")) b.disabled = true;
  try { await api(path, {method: "POST", body: body || {}, headers}); await refresh(true); }
  catch (ex) { err(ex); for (const b of document.querySelectorAll("#actions button")) b.disabled = false; }
}

function panel(title, ...children) { return el("div", {class: "panel"}, title ? el("h3", {}, title) : "", ...children); }
function button(text, onClick, cls) { const b = el("button", {type: "button", class: cls || ""}, text); b.addEventListener("click", onClick); return b; }

function bidPanel(x) {
  const reg = x.my_registration;
  // a re-render (another bidder's bid) keeps what the person typed
  const typed = document.getElementById("bid-price");
  const keep = typed && typed.dataset.touched ? typed.value : null;
  const price = el("input", {id: "bid-price", inputmode: "decimal", required: true, "aria-label": T("Your bid (yuan)"),
    value: keep !== null ? keep : x.minimum_next && x.mode === "ascending" ? x.minimum_next : "", "data-touched": keep !== null ? "1" : null});
  price.addEventListener("input", () => { price.dataset.touched = "1"; });
  const qty = el("input", {id: "bid-quantity", type: "number", min: 1, max: x.quantity, value: x.quantity, "aria-label": T("Quantity")});
  const form = el("form", {class: "row form", id: "bid-form"},
    el("label", {}, x.mode === "multi_unit" ? T("Price per unit (yuan)") : x.mode === "negotiated" ? T("Your offer (yuan)") : T("Your bid (yuan)"), price),
    x.mode === "multi_unit" ? el("label", {}, T("Quantity ({unit})", {unit: x.unit || T("unit")}), qty) : "",
    el("button", {type: "submit", id: "bid-submit"}, x.mode === "negotiated" ? T("Make the offer") : x.mode === "sealed" ? T("Place the sealed bid") : T("Bid")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const amount = yuanInput(price.value);
    if (amount === null) { err(new Error(T("Enter an amount of yuan, such as 1200.50"))); return; }
    delete price.dataset.touched;
    act(`/api/exchange/listings/${ID}/bids`, {price: amount, quantity: x.mode === "multi_unit" ? Number(qty.value) : x.quantity}, {"Idempotency-Key": newKey()});
  });
  const notes = [T("You are bidder {n}.", {n: reg.alias}), T("Deposit held: ¥{d}.", {d: yuanText(reg.deposit)})];
  if (reg.leading) notes.push(T("You hold the highest bid."));
  if (x.mode === "multi_unit") notes.push(T("Bids used: {used} of {max}.", {used: reg.bids_used, max: x.max_bids}));
  if (x.mode === "sealed" && reg.bids_used) return panel(T("Your sealed bid is in"), el("p", {}, T("Your bid of ¥{p} stays sealed until the close.", {p: yuanText(reg.last_bid)})));
  return panel(T("Bid"), el("p", {class: "muted"}, notes.join(" ")), form);
}

function actions(x) {
  const box = document.getElementById("actions");
  const out = [];
  const g = window.GEP;
  if (x.is_seller || g.can_review) {
    if (x.state === "draft" && x.is_seller) out.push(panel(T("Your draft"), el("p", {class: "muted"}, T("Check the terms, then submit the listing for review: its right is locked for the trade from then on.")),
      el("div", {class: "row"}, button(T("Submit for review"), () => act(`/api/exchange/listings/${ID}/submit`)), button(T("Withdraw"), () => act(`/api/exchange/listings/${ID}/withdraw`, {reason: ""}), "secondary"))));
    if (x.state === "rejected" && x.is_seller) out.push(panel(T("Rejected"), el("div", {class: "row"}, button(T("Revise"), () => act(`/api/exchange/listings/${ID}/revise`)))));
    if (x.state === "submitted" && g.can_review && !x.is_seller) {
      const reason = el("input", {id: "review-reason", maxlength: 200, "aria-label": T("Reason (for a rejection)")});
      out.push(panel(T("Review"), el("div", {class: "row"}, button(T("Approve"), () => act(`/api/exchange/listings/${ID}/review`, {approve: true, reason: reason.value})),
        el("label", {}, T("Reason (for a rejection)"), reason), button(T("Reject"), () => act(`/api/exchange/listings/${ID}/review`, {approve: false, reason: reason.value}), "danger"))));
    }
    if (x.state === "approved" && g.can_review) {
      const opens = el("input", {type: "datetime-local", id: "announce-opens", "aria-label": T("Bidding opens")});
      const closes = el("input", {type: "datetime-local", id: "announce-closes", "aria-label": T("Bidding closes")});
      const iso = (v) => (v ? new Date(v).toISOString() : null);
      out.push(panel(T("Announce"), el("p", {class: "muted"}, T("Leave the times empty for the category's periods: the notice, then the bidding.")),
        el("div", {class: "row"}, el("label", {}, T("Bidding opens"), opens), el("label", {}, T("Bidding closes"), closes),
          button(T("Announce"), () => act(`/api/exchange/listings/${ID}/announce`, {opens_at: iso(opens.value), closes_at: iso(closes.value)})))));
    }
    if (["draft", "submitted", "approved", "announced"].includes(x.state) && (x.is_seller || g.can_review) && x.state !== "draft")
      out.push(el("div", {class: "row"}, button(T("Withdraw the listing"), () => { if (confirm(T("Withdraw listing {code}? Every deposit is released.", {code: x.code}))) act(`/api/exchange/listings/${ID}/withdraw`, {reason: ""}); }, "secondary")));
  }
  if (LIVE.includes(x.state) && !x.is_seller) {
    if (!g.logged_in) out.push(panel(T("Want to bid?"), el("p", {}, el("a", {href: `/login?next=/exchange/listings/${ID}`}, T("Log in")), " ", T("to register and bid."))));
    else if (!g.can_trade) out.push(panel("", el("p", {class: "muted"}, T("Your role does not trade on the exchange."))));
    else if (!x.my_registration) out.push(panel(T("Register to bid"), el("p", {class: "muted"}, T("A deposit of ¥{d} is held from your account until the close: it is released if you do not win, and counts towards the price if you do.", {d: yuanText(x.deposit)})),
      button(T("Register and hold the deposit"), () => act(`/api/exchange/listings/${ID}/register`), "")));
    else if (x.state === "bidding" && x.my_registration.state === "active") out.push(bidPanel(x));
    else if (x.state === "announced") out.push(panel(T("Registered"), el("p", {}, T("You are bidder {n}; bidding opens when the notice period ends.", {n: x.my_registration.alias}))));
  }
  box.replaceChildren(...out);
}

function deals(x) {
  const box = document.getElementById("deals-box");
  box.hidden = !x.deals.length;
  const body = document.querySelector("#deals tbody");
  body.replaceChildren(...x.deals.map((d) => {
    const due = d.state === "awarded" ? d.contract_due : d.state === "contract_signed" ? d.settle_due : null;
    const cell = el("td", {});
    if (d.is_buyer && d.state === "awarded") cell.append(button(T("Sign the contract"), () => act(`/api/exchange/deals/${d.id}/sign`)));
    if (d.is_buyer && d.state === "contract_signed") cell.append(button(T("Pay ¥{t}", {t: yuanText(d.total)}), () => { if (confirm(T("Pay ¥{t} from your account? The deposit counts towards it.", {t: yuanText(d.total)}))) act(`/api/exchange/deals/${d.id}/settle`); }));
    if (d.certificate_serial) cell.append(el("a", {href: `/certificates/${d.certificate_serial}`}, T("Certificate {serial}", {serial: d.certificate_serial})));
    return el("tr", {"data-deal": d.id}, el("td", {}, d.contract_no), el("td", {}, `${d.buyer_name} (${T("bidder {n}", {n: d.alias})})`),
      el("td", {class: "n"}, yuanText(d.total) + (d.quantity > 1 ? ` (${yuanText(d.price)} × ${d.quantity})` : "")), el("td", {}, stateBadge(d.state), d.reason ? ` ${T(d.reason)}` : ""),
      el("td", {}, due ? when(due) : ""), cell);
  }));
  labelCells(document.getElementById("deals"));
}

function render(x) {
  document.title = `${x.code} · ${x.title}`;
  document.getElementById("l-code").textContent = x.code;
  document.getElementById("l-category").textContent = catName(x.category_code);
  document.getElementById("l-title").textContent = x.title;
  document.getElementById("l-state").replaceWith(Object.assign(stateBadge(x.state), {id: "l-state"}));
  const reason = document.getElementById("l-reason");
  reason.hidden = !x.reason;
  reason.textContent = x.reason ? `${stateName(x.state)}: ${T(x.reason)}` : "";
  const ascending = x.mode === "ascending";
  const closed = !LIVE.includes(x.state) && x.state !== "draft";
  document.getElementById("price-label").textContent = ascending && x.current_price ? (closed ? T("Final price (yuan)") : T("Current price (yuan)"))
    : x.mode === "multi_unit" ? T("Starting price per unit (yuan)") : T("Starting price (yuan)");
  document.getElementById("l-price").textContent = yuanText(ascending && x.current_price ? x.current_price : x.start_price);
  document.getElementById("next-box").hidden = !(ascending && LIVE.includes(x.state));
  document.getElementById("l-next").textContent = yuanText(x.minimum_next);
  document.getElementById("l-bids").textContent = x.bid_count;
  const rows = [fact(T("Seller"), x.seller_name), fact(T("Trading mode"), modeName(x.mode)), fact(T("Category"), catName(x.category_code)),
    fact(T("Quantity"), x.mode === "multi_unit" ? `${x.quantity} ${x.unit}` : null), fact(T("Starting price (yuan)"), yuanText(x.start_price)),
    fact(T("Minimum increment (yuan)"), ascending ? yuanText(x.increment) : null),
    fact(T("Reserve price"), x.reserve_set ? (x.reserve ? `¥${yuanText(x.reserve)}` : (x.reserve_met ? T("met") : T("set, not yet met"))) : null),
    fact(T("Deposit (yuan)"), yuanText(x.deposit)), fact(T("Area (mu)"), x.area_mu), fact(T("Term (years)"), x.term_years),
    fact(T("Bids each"), x.mode === "multi_unit" ? `${x.max_bids} · ${T("top {p}% of bidders win", {p: Number(x.top_share_pct)})}` : null),
    fact(T("Automatic extension"), !ascending ? null : x.extension_window_s && x.extension_s ? T("a bid in the last {w} min moves the close to {e} min after it", {w: x.extension_window_s / 60, e: x.extension_s / 60}) : T("none")),
    fact(T("Bidding opens"), x.opens_at ? when(x.opens_at) : null), fact(T("Bidding closes"), x.closes_at ? when(x.closes_at) : null),
    fact(T("Registered bidders"), LIVE.includes(x.state) || x.registrations ? x.registrations : null)].filter(Boolean);
  document.querySelector("#facts tbody").replaceChildren(...rows);
  const basis = document.getElementById("gep-basis");
  basis.hidden = !(x.gep_basis && x.gep_basis.summary);
  if (!basis.hidden) basis.replaceChildren(el("strong", {}, T("Priced from the GEP accounts")), el("br"), x.gep_basis.summary);
  document.getElementById("l-description").textContent = x.description || "";
  document.getElementById("history").replaceChildren(...x.history.map((h) => el("li", {}, `${when(h.at)} · ${T(window.GEP.verbs[h.verb] || h.verb)}`,
    h.to && h.to !== h.from ? ` → ${stateName(h.to)}` : "", h.reason ? ` (${T(h.reason)})` : "")));
  actions(x);
  deals(x);
  if (x.geojson && !S.map) {
    const box = document.getElementById("l-map");
    box.hidden = false;
    S.map = L.map(box, {attributionControl: false});
    const layer = L.geoJSON({type: "Feature", geometry: x.geojson}, {style: {color: "#2e7d5b", weight: 2, fillOpacity: 0.3}}).addTo(S.map);
    S.map.fitBounds(layer.getBounds(), {padding: [20, 20], maxZoom: 15});
  }
}

function tick() {
  const x = S.listing;
  const clock = document.getElementById("clock");
  const target = x.state === "announced" ? x.opens_at : x.state === "bidding" ? x.closes_at : null;
  clock.hidden = !target;
  if (!target) return;
  const c = countdown(target, x.server_time, S.fetchedAt);
  document.getElementById("clock-label").textContent = x.state === "announced" ? T("Bidding opens in") : T("Bidding closes in");
  document.getElementById("clock-value").textContent = c.ms > 0 ? c.text : T("closing …");
  clock.classList.toggle("soon", x.state === "bidding" && c.ms < 5 * 60 * 1000);
  if (c.ms <= 0 && !S.closing) { S.closing = true; setTimeout(() => { S.closing = false; refresh(true); }, 2000); }
}

async function ladder() {
  const x = S.listing;
  const data = await api(`/api/exchange/listings/${ID}/bids?after=${S.lastSeq}`);
  const table = document.getElementById("ladder");
  const body = table.querySelector("tbody");
  const fresh = S.lastSeq > 0;  // rows that arrive while one watches are marked for a moment
  if (!fresh) body.replaceChildren();
  const accepting = x.is_seller && x.mode === "negotiated" && x.state === "bidding";
  table.classList.toggle("with-qty", x.mode === "multi_unit");
  table.classList.toggle("with-act", accepting);
  for (const b of data.bids) {
    const accept = accepting ? button(T("Accept this offer"), () => { if (confirm(T("Accept the offer of ¥{p}? The listing is awarded to this buyer.", {p: yuanText(b.price)}))) act(`/api/exchange/listings/${ID}/bids/${b.id}/accept`); }, "small") : "";
    body.prepend(el("tr", {class: (b.mine ? "mine " : "") + (fresh ? "fresh" : ""), "data-seq": b.seq}, el("td", {}, b.seq), el("td", {}, b.mine ? T("me (bidder {n})", {n: b.alias}) : T("bidder {n}", {n: b.alias})),
      el("td", {class: "n"}, yuanText(b.price)), el("td", {class: "n col-qty"}, b.quantity), el("td", {class: "time"}, when(b.at)), el("td", {class: "col-act"}, accept)));
    S.lastSeq = Math.max(S.lastSeq, b.seq);
  }
  document.getElementById("ladder-note").textContent = data.hidden ? T("Bids in this mode stay sealed until the close: you see only your own.") : (data.bid_count ? "" : T("No bids yet."));
  if (data.bid_count !== x.bid_count || data.state !== x.state || (data.closes_at && x.closes_at && new Date(data.closes_at).getTime() !== new Date(x.closes_at).getTime())) await refresh(false);
}

async function refresh(resetLadder) {
  S.fetchedAt = Date.now();
  S.listing = await api(`/api/exchange/listings/${ID}`);
  render(S.listing);
  tick();
  if (resetLadder) S.lastSeq = 0;
  if (resetLadder) await ladder();
}

async function start() {
  await refresh(true);
  setInterval(tick, 1000);
  setInterval(() => { if (LIVE.includes(S.listing.state) || ["awarded", "contract_signed"].includes(S.listing.state)) ladder().catch(() => {}); }, 2000);
}
start().catch(err);
