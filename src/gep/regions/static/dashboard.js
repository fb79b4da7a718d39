// GEP dashboard: map with drill-down city → county → township → village, totals, composition, indicators, trend.
"use strict";
const COLORS = ["#c7e9c0", "#a1d99b", "#74c476", "#31a354", "#006d2c"];
const CAT_COLORS = {material: "#d08c3c", regulating: "#2e7d5b", cultural: "#4a72b0"};
const state = {region: null, year: null, metric: "gep", zone: null, map: null, layer: null};
const lang = () => window.GEP.lang;
const LEVELS = {city: N_("city level"), county: N_("county level"), township: N_("township level"), village: N_("village level")};
const PER_KM2 = N_("10k yuan/km²"), YI = N_("100 M yuan");
const CATS = {material: N_("Material products"), regulating: N_("Regulating services"), cultural: N_("Cultural services")};

function quantileBreaks(values) {
  const v = values.filter((x) => x != null && isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return [];
  return [0.2, 0.4, 0.6, 0.8].map((q) => v[Math.min(v.length - 1, Math.floor(q * v.length))]);
}
function colorFor(value, breaks) {
  if (value == null) return "#dddddd";
  let i = 0; while (i < breaks.length && value > breaks[i]) i++;
  return COLORS[i];
}
function metricText(value) {
  if (value == null) return "—";
  return state.metric === "gep" ? `${yi(value)} ${T(YI)}` : `${perKm2(value)} ${T(PER_KM2)}`;
}

async function init() {
  state.map = L.map("map", {zoomSnap: 0.25, attributionControl: false});
  // a phone turned sideways (or a resized window) keeps the whole zone in view
  state.map.on("resize", () => { if (state.layer) state.map.fitBounds(state.layer.getBounds(), {padding: [10, 10]}); });
  const regions = await api("/api/regions");
  const select = document.getElementById("region");
  for (const r of regions) select.append(el("option", {value: r.id}, lang() === "zh" ? r.name : r.name_en));
  if (!regions.length) { document.getElementById("empty").hidden = false; return; }
  state.region = regions[0];
  document.getElementById("metric").addEventListener("change", (e) => { state.metric = e.target.value; showZone(state.zone.code); });
  document.getElementById("year").addEventListener("change", (e) => { state.year = Number(e.target.value); showZone(state.zone.code); });
  // the zone and year survive a reload or a language switch through the URL hash
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("year")) state.year = Number(hash.get("year"));
  if (hash.get("metric")) { state.metric = hash.get("metric"); document.getElementById("metric").value = state.metric; }
  let code = hash.get("zone");
  if (!code) code = (await api(`/api/regions/${state.region.id}/zones?level=${state.region.levels[0]}`))[0].code;
  await showZone(code);
}

function remember() {
  const h = new URLSearchParams({zone: state.zone.code, metric: state.metric});
  if (state.year) h.set("year", state.year);
  history.replaceState(null, "", "#" + h.toString());
  const sw = document.getElementById("lang-switch");
  if (sw) sw.href = sw.href.split("#")[0] + location.hash;
}

async function showZone(code) {
  const rid = state.region.id;
  const acc = await api(`/api/regions/${rid}/zones/${encodeURIComponent(code)}/accounts` + (state.year ? `?year=${state.year}` : ""));
  state.zone = acc.zone;
  document.getElementById("empty").hidden = !!acc.totals;
  document.querySelectorAll(".side, .wide").forEach((e) => { e.hidden = !acc.totals; });
  if (acc.year) state.year = acc.year;
  remember();
  fillYears(acc.years);
  renderBreadcrumb(acc.breadcrumb || [acc.zone]);
  renderSummary(acc);
  renderIndicators(acc);
  await Promise.all([renderMap(acc.zone), renderTrend(code)]);
}

function fillYears(years) {
  const sel = document.getElementById("year");
  sel.replaceChildren(...years.map((y) => el("option", {value: y}, y)));
  if (state.year) sel.value = state.year;
}

function renderBreadcrumb(chain) {
  const nav = document.getElementById("breadcrumb");
  nav.replaceChildren();
  chain.forEach((z, i) => {
    if (i) nav.append(" › ");
    const a = el("a", {href: "#", "data-code": z.code, "data-level": z.level}, z.name);
    a.addEventListener("click", (e) => { e.preventDefault(); showZone(z.code); });
    nav.append(a);
  });
}

function renderSummary(acc) {
  const z = acc.zone, tot = acc.totals;
  const level = T(LEVELS[z.level] || z.level);
  document.getElementById("zone-title").textContent = acc.year ? `${z.name}（${level}）· ${acc.year}` : z.name;
  const kpis = document.getElementById("kpis");
  kpis.replaceChildren();
  if (!tot) return;
  state.unit = moneyUnit(tot.gep);
  const u = T(state.unit.key);
  const add = (k, v, id) => kpis.append(el("div", {class: "kpi", id: id || ""}, el("div", {class: "k"}, k), el("div", {class: "v"}, v)));
  add(`${T("GEP")} (${u})`, money(tot.gep, state.unit), "kpi-gep");
  for (const c of ["material", "regulating", "cultural"]) add(`${T(CATS[c])} (${u})`, `${money(tot[c], state.unit)} · ${pct(tot[c], tot.gep)}`);
  add(T("Area"), `${z.area_km2.toLocaleString(undefined, {maximumFractionDigits: 1})} km²`);
  add(T("GEP per km²"), `${perKm2(tot.gep / z.area_km2)} ${T(PER_KM2)}`);
  add(T("GEP/GDP"), acc.gdp_yuan ? (tot.gep / acc.gdp_yuan).toFixed(2) : T("no GDP figure"));
  const cats = ["material", "regulating", "cultural"];
  Plotly.react("composition", [{type: "pie", hole: 0.55, sort: false, labels: cats.map((c) => T(CATS[c])), values: cats.map((c) => tot[c] / state.unit.scale),
    marker: {colors: cats.map((c) => CAT_COLORS[c])}, textinfo: "none", hovertemplate: `%{label}: %{value:,.2f} ${u} (%{percent})<extra></extra>`}],
    {margin: {t: 10, b: 10, l: 10, r: 10}, height: 220, showlegend: true, legend: {orientation: "h", y: -0.05}, font: chartFont()},
    {displayModeBar: false, responsive: true});
}

function renderIndicators(acc) {
  const body = document.querySelector("#indicators tbody");
  body.replaceChildren();
  const total = acc.totals ? acc.totals.gep : 0;
  const unit = moneyUnit(total);
  document.getElementById("value-head").textContent = `${T("Value")} (${T(unit.key)})`;
  for (const ind of acc.indicators) {
    const name = lang() === "zh" ? ind.name_zh : ind.name_en;
    body.append(el("tr", {}, el("td", {}, `${name}`, el("span", {class: "cat " + ind.category}, T(CATS[ind.category]))),
      el("td", {class: "n"}, money(ind.value_yuan, unit)), el("td", {class: "n"}, pct(ind.value_yuan, total))));
  }
}

async function renderMap(zone) {
  const levels = state.region.levels, i = levels.indexOf(zone.level);
  const lowest = i === levels.length - 1;
  const level = lowest ? zone.level : levels[i + 1];
  const parent = lowest ? zone.parent_code : zone.code;
  const fc = await api(`/api/regions/${state.region.id}/map?level=${level}&parent=${encodeURIComponent(parent)}` + (state.year ? `&year=${state.year}` : ""));
  const breaks = quantileBreaks(fc.features.map((f) => f.properties[state.metric]));
  if (state.layer) state.map.removeLayer(state.layer);
  state.layer = L.geoJSON(fc, {
    style: (f) => ({color: f.properties.code === zone.code ? "#d7301f" : "#35533f", weight: f.properties.code === zone.code ? 3 : 0.8,
                    fillColor: colorFor(f.properties[state.metric], breaks), fillOpacity: 0.85}),
    onEachFeature: (f, layer) => {
      // the tooltip is built from text nodes: a zone name is data, never markup
      layer.bindTooltip(() => el("div", {}, el("strong", {}, f.properties.name), el("br"), metricText(f.properties[state.metric])), {sticky: true});
      layer.on("click", () => showZone(f.properties.code));
      layer.getElement && layer.on("add", () => { const e = layer.getElement(); if (e) { e.setAttribute("data-code", f.properties.code); e.classList.add("zone"); } });
    },
  }).addTo(state.map);
  state.layer.eachLayer((l) => { const e = l.getElement(); if (e) { e.setAttribute("data-code", l.feature.properties.code); e.classList.add("zone"); } });
  state.map.fitBounds(state.layer.getBounds(), {padding: [10, 10]});
  state.map.closeTooltip && state.map.eachLayer((l) => l.closeTooltip && l.closeTooltip());
  renderLegend(breaks);
}

function renderLegend(breaks) {
  const box = document.getElementById("legend");
  box.replaceChildren(el("div", {class: "k"}, state.metric === "gep" ? `${T("GEP")} (${T(YI)})` : `${T("GEP per km²")} (${T(PER_KM2)})`));
  const fmt = (v) => state.metric === "gep" ? yi(v) : perKm2(v);
  const edges = [null, ...breaks, null];
  for (let k = 0; k < edges.length - 1; k++) {
    const lo = edges[k], hi = edges[k + 1];
    const text = lo == null ? `< ${fmt(hi)}` : hi == null ? `≥ ${fmt(lo)}` : `${fmt(lo)} – ${fmt(hi)}`;
    box.append(el("div", {class: "row"}, el("span", {class: "swatch", style: `background:${COLORS[k]}`}), text));
  }
}

async function renderTrend(code) {
  const rows = await api(`/api/regions/${state.region.id}/zones/${encodeURIComponent(code)}/trends`);
  const years = rows.map((r) => String(r.year));
  const traces = ["material", "regulating", "cultural"].map((c) => ({type: "bar", name: T(CATS[c]), x: years, y: rows.map((r) => r[c] / 1e8), marker: {color: CAT_COLORS[c]}}));
  if (rows.some((r) => r.gdp_yuan)) traces.push({type: "scatter", mode: "lines+markers", name: T("GDP"), x: years, y: rows.map((r) => r.gdp_yuan ? r.gdp_yuan / 1e8 : null), line: {color: "#333"}});
  Plotly.react("trend", traces, {barmode: "stack", bargap: years.length < 3 ? 0.7 : 0.3, height: 260, margin: {t: 10, b: 30, l: 50, r: 10},
    yaxis: {title: {text: T(YI)}}, xaxis: {type: "category"}, legend: {orientation: "h"}, font: chartFont()},
    {displayModeBar: false, responsive: true});
}

init().catch((e) => { document.getElementById("empty").hidden = false; document.getElementById("empty").textContent = e.message; });
