// A new listing: of a right the person holds, of units, or of a zone's regulating services priced from the accounts.
"use strict";
const N = {rights: [], quote: null};
const $ = (id) => document.getElementById(id);
const kind = () => $("n-kind").value;

function fitCategories() {
  const k = kind();
  const select = $("n-category");
  select.replaceChildren();
  populateCategories(select, (c) => c.active && !c.units_from && (k === "gep" ? c.code === "gep_regulating" : k === "right" ? c.right_type !== "" || c.code === "asset_package" : c.modes.includes("multi_unit") || c.right_type === ""));
  fitModes();
}
function fitModes() {
  const c = CATS[$("n-category").value];
  const select = $("n-mode");
  select.replaceChildren(...(c ? c.modes : []).filter((m) => kind() !== "right" || m !== "multi_unit").map((m) => el("option", {value: m}, modeName(m))));
  showModeFields();
  if (c && c.unit && !$("n-unit").value) $("n-unit").value = c.unit;
  fitRights();
}
function showModeFields() {
  const mode = $("n-mode").value;
  for (const label of document.querySelectorAll("[data-modes]")) label.hidden = !label.dataset.modes.split(" ").includes(mode);
  $("n-price-label").textContent = mode === "multi_unit" ? T("Starting price per unit (yuan)") : T("Starting price (yuan)");
}
function fitRights() {
  const c = CATS[$("n-category").value];
  const ok = N.rights.filter((r) => !c || !c.right_type || r.type === c.right_type);
  $("n-right").replaceChildren(...ok.map((r) => el("option", {value: r.id}, `${r.parcel_code} · ${T(r.type_label)} · ${T("{n} mu", {n: r.area_mu})}${r.certificate_no ? " · " + r.certificate_no : ""}`)));
  $("n-right-none").hidden = ok.length > 0;
}
function showKind() {
  const k = kind();
  $("right-row").hidden = k !== "right";
  $("gep-row").hidden = k !== "gep";
  $("g-basis").hidden = true;
  $("n-price").readOnly = k === "gep";
  fitCategories();
}

async function loadRights() {
  N.rights = await api("/api/exchange/my-rights");
  fitRights();
}
async function loadRegions() {
  const regions = await api("/api/regions");
  $("g-region").replaceChildren(...regions.map((r) => el("option", {value: r.id}, r.name || r.code)));
  if (regions.length) await loadZones();
}
async function loadZones() {
  const zones = await api(`/api/regions/${$("g-region").value}/zones?level=township`).catch(() => []);
  $("g-zone").replaceChildren(...zones.map((z) => el("option", {value: z.code}, `${z.name} (${z.code})`)));
}
async function quote() {
  fail("n-error", null);
  try {
    const q = await api("/api/exchange/gep-quote", {method: "POST", body: {region_id: Number($("g-region").value), zone_code: $("g-zone").value,
      years: Number($("g-years").value), adjustment_pct: $("g-adjust").value.trim() || "0"}});
    N.quote = q;
    $("n-price").value = q.price;
    $("g-basis").hidden = false;
    $("g-basis").textContent = `${T("Price")}: ¥${yuanText(q.price)} — ${q.basis.summary}`;
    if (!$("n-title").value) $("n-title").value = T("Regulating services of {zone}, {years} years", {zone: q.basis.zone_name || q.basis.zone_code, years: q.basis.years});
  } catch (ex) { fail("n-error", ex); }
}

async function create(e) {
  e.preventDefault();
  fail("n-error", null);
  const button = $("n-create");
  button.disabled = true;
  try {
    let listing;
    if (kind() === "gep") {
      if (!N.quote) throw new Error(T("Price the zone from the accounts first."));
      listing = await api("/api/exchange/gep-listings", {method: "POST", body: {region_id: Number($("g-region").value), zone_code: $("g-zone").value,
        years: Number($("g-years").value), adjustment_pct: $("g-adjust").value.trim() || "0", title: $("n-title").value.trim(), description: $("n-description").value}});
    } else {
      const mode = $("n-mode").value;
      const money = (id) => { const v = yuanInput($(id).value || "0"); if (v === null) throw new Error(T("Enter an amount of yuan, such as 1200.50")); return v; };
      const body = {category_code: $("n-category").value, title: $("n-title").value.trim(), mode, start_price: money("n-price"), description: $("n-description").value};
      if (mode === "ascending") Object.assign(body, {increment: money("n-increment"), extension_window_minutes: Number($("n-window").value || 0),
        extension_minutes: Number($("n-extension").value || 0)});
      if (mode === "ascending" || mode === "sealed") body.reserve = money("n-reserve");
      if (mode === "multi_unit") Object.assign(body, {quantity: Number($("n-quantity").value), unit: $("n-unit").value.trim(), max_bids: Number($("n-maxbids").value), top_share_pct: $("n-share").value.trim() || "70"});
      if ($("n-term").value) body.term_years = Number($("n-term").value);
      if (kind() === "right") { if (!$("n-right").value) throw new Error(T("You hold no right that is free to list.")); body.right_id = Number($("n-right").value); }
      listing = await api("/api/exchange/listings", {method: "POST", body});
    }
    window.location.href = `/exchange/listings/${listing.id}`;
  } catch (ex) { fail("n-error", ex); button.disabled = false; }
}

$("n-kind").addEventListener("change", showKind);
$("n-category").addEventListener("change", fitModes);
$("n-mode").addEventListener("change", showModeFields);
$("g-region").addEventListener("change", () => loadZones());
$("g-quote").addEventListener("click", quote);
$("listing-form").addEventListener("submit", create);
showKind();
loadRights().catch((ex) => fail("n-error", ex));
loadRegions().catch(() => {});
