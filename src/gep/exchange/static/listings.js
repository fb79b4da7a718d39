// Public listings: filters, cards with their price and countdown, and a map of the open ones.
"use strict";
const X = {map: null, layer: null};
const OPEN = ["announced", "bidding"], DONE = ["certificate_issued", "title_transferred", "settled", "contract_signed", "awarded"];

function cardOf(x, fetchedAt, serverTime) {
  const price = x.current_price || x.start_price;
  const when = x.state === "bidding" && x.closes_at ? T("closes in {t}", {t: countdown(x.closes_at, serverTime, fetchedAt).text})
    : x.state === "announced" && x.opens_at ? T("bidding opens in {t}", {t: countdown(x.opens_at, serverTime, fetchedAt).text}) : "";
  return el("a", {class: "listing-card", href: `/exchange/listings/${x.id}`, "data-listing": x.id},
    el("div", {class: "row spread"}, el("span", {class: "meta"}, `${x.code} · ${catName(x.category_code)}`), stateBadge(x.state)),
    el("div", {class: "title"}, x.title),
    el("div", {class: "price"}, `¥${yuanText(price)}`, x.mode === "multi_unit" ? el("span", {class: "meta"}, ` / ${x.unit || T("unit")}`) : ""),
    el("div", {class: "meta"}, `${modeName(x.mode)} · ${x.seller_name}`),
    el("div", {class: "meta"}, [x.area_mu ? T("{n} mu", {n: x.area_mu}) : "", x.term_years ? T("{n} years", {n: x.term_years}) : "", when].filter(Boolean).join(" · ")),
    syntheticBadge(x));
}

async function load(e) {
  if (e) e.preventDefault();
  const p = new URLSearchParams();
  const category = document.getElementById("f-category").value, mode = document.getElementById("f-mode").value;
  const shown = document.getElementById("f-state").value, q = document.getElementById("f-q").value.trim();
  if (category) p.set("category", category);
  if (mode) p.set("mode", mode);
  if (q) p.set("q", q);
  for (const s of shown === "open" ? OPEN : shown === "done" ? DONE : []) p.append("state", s);
  p.set("limit", "60");
  const fetchedAt = Date.now();
  const data = await api(`/api/exchange/listings?${p}`);
  const serverTime = new Date(fetchedAt).toISOString();
  const cards = document.getElementById("cards");
  cards.replaceChildren(...data.items.map((x) => cardOf(x, fetchedAt, serverTime)));
  if (!data.items.length) cards.append(el("p", {class: "muted"}, T("Nothing matches.")));
  document.getElementById("more").textContent = data.total > data.items.length ? T("{shown} of {total} shown: narrow the filters to see the others.", {shown: data.items.length, total: data.total}) : "";
}

async function loadMap() {
  const fc = await api("/api/exchange/listings/map");
  X.map = L.map("ex-map", {attributionControl: false});
  let counties = null;
  try {  // the region's counties for context: there is no base map offline
    const outline = await api("/api/exchange/map/counties");
    if (outline.features.length) {
      counties = L.geoJSON(outline, {style: {color: "#8aa597", weight: 1, fillColor: "#e8f1ec", fillOpacity: 0.6},
        interactive: false}).addTo(X.map);
    }
  } catch (ex) { /* the listings alone */ }
  X.layer = L.geoJSON(fc, {pointToLayer: (f, latlng) => L.circleMarker(latlng, {radius: 7, color: "#2e7d5b", fillOpacity: 0.7}),
    onEachFeature: (f, layer) => {
      layer.bindTooltip(() => el("div", {}, el("strong", {}, f.properties.code), el("br"), f.properties.title, el("br"), `¥${yuanText(f.properties.price)} · ${stateName(f.properties.state)}`));
      layer.on("click", () => { window.location.href = `/exchange/listings/${f.properties.id}`; });
    }}).addTo(X.map);
  // the whole region with its listings on it: a single listing alone, zoomed in, would be a dot on grey
  const bounds = counties ? counties.getBounds() : (fc.features.length ? X.layer.getBounds() : null);
  if (bounds) X.map.fitBounds(bounds, {padding: [10, 10], maxZoom: 12}); else X.map.setView([28.2, 119.6], 8);
  new ResizeObserver(() => X.map.invalidateSize()).observe(document.getElementById("ex-map"));
}

populateCategories(document.getElementById("f-category"));
for (const [k, v] of Object.entries(window.GEP.modes)) document.getElementById("f-mode").append(el("option", {value: k}, T(v)));
document.getElementById("new-listing").hidden = !window.GEP.can_trade;
document.getElementById("filters").addEventListener("submit", (e) => load(e).catch((ex) => alert(ex.message)));
load().catch((ex) => document.getElementById("cards").replaceChildren(el("p", {class: "error"}, ex.message)));
loadMap().catch(() => {});
