// The assessment page: the year's score sheet (ranks, colours, first-level subtotals) with the counties coloured
// on the map, a unit's indicators, computing, publishing and rechecking for the office, and a department's values
// by form or workbook.
"use strict";
const CFG = window.GEP;
const ZH = CFG.lang === "zh";
const COLOURS = {green: "#1b7f3b", yellow: "#f2c230", red: "#b3261e"};
const params = new URLSearchParams(location.search);
let SETS = [], SET = null, YEAR = Number(params.get("year")) || null, SHEET = null, MAP = null, LAYER = null, COUNTIES = null;
const name = (x) => (ZH ? x.name_zh : (x.name_en || x.name_zh));
const colourName = (c) => T(CFG.colours[c] || c);
// the terms of a colour rule in the reader's words (an indicator stays its code)
const ofName = (of) => (of === "total" ? T("total score") : of === "level1_min_share" ? T("lowest first-level share") : of);
const reasonText = (text) => text.split("level1_min_share").join(T("lowest first-level share")).split("total").join(T("total score"));
const codeChip = (c) => el("span", {class: `code ${c}`}, colourName(c));

async function init() {
  SETS = await api("/api/assessment/sets");
  if (!SETS.length) { failIn("a-error", new Error(T("No indicator set is installed."))); return; }
  const wanted = params.get("set");
  SET = SETS.find((s) => s.version === wanted) || SETS.find((s) => s.kind === "county") || SETS[0];
  const select = document.getElementById("set");
  select.replaceChildren(...SETS.map((s) => el("option", {value: s.version}, name(s))));
  select.value = SET.version;
  select.addEventListener("change", () => { SET = SETS.find((s) => s.version === select.value); go(); });
  const sheets = await api("/api/assessment/sheets");
  const years = new Set(sheets.map((s) => s.year));
  const now = new Date().getFullYear();
  for (let y = now - 6; y <= now; y++) years.add(y);
  const ys = [...years].sort((a, b) => b - a);
  if (!YEAR) YEAR = sheets.length ? Math.max(...sheets.map((s) => s.year)) : now - 1;
  const ysel = document.getElementById("year");
  ysel.replaceChildren(...ys.map((y) => el("option", {value: y}, y)));
  ysel.value = YEAR;
  ysel.addEventListener("change", () => { YEAR = Number(ysel.value); go(); });
  wireActions();
  wireSubmit();
  await go();
}
async function go() {
  history.replaceState(null, "", `?set=${SET.version}&year=${YEAR}`);
  failIn("a-error", null); doneIn("a-done", "");
  document.getElementById("a-source").textContent = SET.source;
  const sheets = await api("/api/assessment/sheets");
  const row = sheets.find((s) => s.set === SET.version && s.year === YEAR && s.region_id === CFG.region_id);
  SHEET = row ? await api(`/api/assessment/sheets/${row.id}`) : null;
  drawSheet();
  await drawMap();
  await drawEntry();
}
function drawSheet() {
  const kpis = document.getElementById("a-kpis");
  const state = document.getElementById("s-state");
  const head = document.querySelector("#sheet thead tr");
  const body = document.querySelector("#sheet tbody");
  head.replaceChildren(el("th", {}, T("Rank")), el("th", {}, T("Unit")), el("th", {}, T("Colour")), el("th", {class: "n"}, T("Score")),
    ...SET.level1.map((l) => el("th", {class: "n", title: name(l)}, `${name(l)} (${Number(l.points)})`)));
  document.getElementById("detail").hidden = true;
  document.getElementById("map-grid").classList.add("one");
  const publish = document.getElementById("publish"), recheck = document.getElementById("recheck");
  if (!SHEET) {
    kpis.replaceChildren();
    state.textContent = T("No score sheet for this year yet.");
    body.replaceChildren();
    if (publish) publish.hidden = true;
    if (recheck) recheck.hidden = true;
    return;
  }
  const c = SHEET.colours || {};
  kpis.replaceChildren(kpiBox(T("Assessed"), SHEET.units.length), kpiBox(colourName("green"), c.green || 0),
    kpiBox(colourName("yellow"), c.yellow || 0), kpiBox(colourName("red"), c.red || 0));
  const status = SHEET.status === "published" ? T("published") : T("draft");
  state.replaceChildren(el("span", {class: `badge ${SHEET.status}`}, status), " ",
    T("computed {when}", {when: when(SHEET.computed_at)}), SHEET.accounts ? " · " + T("accounts of {year} against {previous} at {price} prices", {year: SHEET.year, previous: SHEET.accounts.previous, price: SHEET.accounts.price_year}) : "",
    SHEET.missing_accounts ? " · " + T("no accounts for this year and the one before: the computed indicators score nothing") : "",
    " ", SHEET.synthetic ? syntheticBadge(SHEET) : "");
  if (publish) publish.hidden = SHEET.status === "published";
  if (recheck) recheck.hidden = false;
  body.replaceChildren(...SHEET.units.map((u) => {
    const tr = el("tr", {class: "pick", tabindex: "0", "data-code": u.code}, el("td", {}, u.rank), el("td", {}, u.name), el("td", {}, codeChip(u.colour)),
      el("td", {class: "n"}, u.total), ...SET.level1.map((l) => el("td", {class: "n"}, u.level1[l.code])));
    tr.addEventListener("click", () => showUnit(u));
    tr.addEventListener("keydown", (ev) => { if (ev.key === "Enter") showUnit(u); });
    return tr;
  }));
  labelCells(document.getElementById("sheet"));
}
function showUnit(u) {
  for (const tr of document.querySelectorAll("#sheet tbody tr")) tr.classList.toggle("on", tr.dataset.code === u.code);
  const box = document.getElementById("detail");
  box.hidden = false;
  document.getElementById("map-grid").classList.remove("one");
  refit();
  document.getElementById("d-title").textContent = u.name;
  document.getElementById("d-head").replaceChildren(codeChip(u.colour), " ", T("{total} points, rank {rank}", {total: u.total, rank: u.rank}),
    u.colour_rule ? el("span", {class: "muted small"}, " · " + reasonText(u.colour_rule)) : "");
  const link = document.getElementById("d-card");
  link.hidden = SHEET.status !== "published";
  link.href = `/public/assessment/${SHEET.set}/${SHEET.year}/${u.code}`;
  document.querySelector("#d-indicators tbody").replaceChildren(...SET.indicators.map((i) => {
    const cell = u.indicators[i.code];
    const note = cell.note ? T(cell.note) : "";
    return el("tr", {}, el("td", {}, i.code), el("td", {}, name(i), i.metric ? el("span", {class: "muted small"}, " · " + T("computed")) : ""),
      el("td", {class: cell.value === null ? "n miss" : "n", title: note}, cell.value === null ? "—" : `${cell.value} ${i.unit}`),
      el("td", {class: "n"}, `${cell.points} / ${Number(i.points)}`));
  }));
  labelCells(document.getElementById("d-indicators"));
  box.scrollIntoView({block: "nearest"});
}
async function drawMap() {
  const card = document.getElementById("map-card");
  card.hidden = SET.kind !== "county" || !CFG.region_id;
  if (card.hidden) return;
  if (!COUNTIES) COUNTIES = await api(`/api/assessment/map?region_id=${CFG.region_id}`);
  if (!MAP) {
    MAP = L.map("a-map", {attributionControl: false, zoomSnap: 0.25});
    MAP.setView([28.2, 119.6], 8);
  }
  if (LAYER) LAYER.remove();
  const byCode = Object.fromEntries((SHEET ? SHEET.units : []).map((u) => [u.code, u]));
  LAYER = L.geoJSON(COUNTIES, {
    style: (f) => { const u = byCode[f.properties.code]; return {color: "#333", weight: 1, fillColor: u ? COLOURS[u.colour] : "#dfe3e0", fillOpacity: u ? 0.75 : 0.4}; },
    onEachFeature: (f, layer) => {
      const u = byCode[f.properties.code];
      layer.bindTooltip(u ? `${f.properties.name}: ${colourName(u.colour)} · ${u.total}` : f.properties.name, {sticky: true});
      if (u) layer.on("click", () => showUnit(u));
    }}).addTo(MAP);
  refit();
  document.getElementById("a-legend").replaceChildren(...["green", "yellow", "red"].map((c) => el("li", {}, codeChip(c))));
  const rules = SET.colour_rules.map((r) => `${colourName(r.colour)}: ` + r.conditions.map((c) => `${ofName(c.of)} ${c.op} ${c.value}`).join(r.when === "any" ? ` ${T("or")} ` : ` ${T("and")} `));
  document.getElementById("a-rules").textContent = T("The first rule that holds gives the colour: {rules}; otherwise {colour}.", {rules: rules.join("; "), colour: colourName(SET.default_colour)});
}
// the map's size changes with the layout (the county panel, a phone turned): fit the counties again
function refit() {
  if (!MAP || !LAYER) return;
  const box = MAP.getContainer();
  if (!box.offsetWidth || !box.offsetHeight) return;  // hidden (a department set): nothing to fit, and Leaflet would divide by 0
  MAP.invalidateSize();
  const b = LAYER.getBounds();
  if (b.isValid()) MAP.fitBounds(b, {padding: [6, 6]});
}
window.addEventListener("resize", () => refit());
function wireActions() {
  const form = document.getElementById("actions");
  if (!form) return;
  onSubmit(form, async () => {
    try {
      SHEET = await api("/api/assessment/sheets", {method: "POST", body: {set: SET.version, year: YEAR, region_id: CFG.region_id}});
      drawSheet(); await drawMap();
      doneIn("a-done", T("Score sheet computed: {n} units.", {n: SHEET.units.length}));
    } catch (ex) { failIn("a-error", ex); }
  });
  document.getElementById("publish").addEventListener("click", () => once(form, async () => {
    try {
      SHEET = await api(`/api/assessment/sheets/${SHEET.id}/publish`, {method: "POST"});
      drawSheet(); await drawMap();
      doneIn("a-done", T("Published: the colour codes and score cards are public."));
    } catch (ex) { failIn("a-error", ex); }
  }));
  document.getElementById("recheck").addEventListener("click", () => once(form, async () => {
    try {
      const r = await api(`/api/assessment/sheets/${SHEET.id}/recheck`);
      const moved = r.moved.map((m) => `${m.code}: ${m.was} → ${m.now}`).join(", ");
      doneIn("a-done", r.same ? T("Recomputed from the stored inputs: the same, to the point.") : T("The inputs changed since: {moved}", {moved: moved || "—"}));
    } catch (ex) { failIn("a-error", ex); }
  }));
}
// -- a department's values --------------------------------------------------------------------------------------
let UNITS = [];
async function drawEntry() {
  const card = document.getElementById("submit-card");
  if (!card) return;
  const dsel = document.getElementById("department");
  const providers = [...new Set(SET.indicators.filter((i) => !i.metric).map((i) => i.provider))];
  const deps = await api("/api/assessment/departments");
  const mine = CFG.department;
  const options = deps.filter((d) => providers.includes(d.code) && (CFG.can_manage || d.code === mine));
  card.hidden = !options.length;
  if (!options.length) return;
  const keep = dsel.value;
  dsel.replaceChildren(...options.map((d) => el("option", {value: d.code}, name(d))));
  dsel.value = options.some((d) => d.code === keep) ? keep : (options.find((d) => d.code === mine) || options[0]).code;
  dsel.onchange = () => drawEntry();
  const dep = dsel.value;
  document.getElementById("template").href = `/api/assessment/template.xlsx?set=${SET.version}&year=${YEAR}&region_id=${CFG.region_id}&department=${dep}`;
  const inds = SET.indicators.filter((i) => !i.metric && i.provider === dep);
  const values = await api(`/api/assessment/values?set=${SET.version}&year=${YEAR}`);
  const stored = Object.fromEntries(values.map((v) => [`${v.unit_code}|${v.indicator}`, v]));
  UNITS = SHEET ? SHEET.units.map((u) => ({code: u.code, name: u.name})) : await unitsOf();
  UNITS.sort((a, b) => a.code.localeCompare(b.code));
  document.querySelector("#entry thead tr").replaceChildren(el("th", {}, T("Unit")), ...inds.map((i) => el("th", {title: name(i)}, `${i.code} ${name(i)} (${i.unit})`)));
  document.querySelector("#entry tbody").replaceChildren(...UNITS.map((u) => el("tr", {}, el("td", {}, u.name),
    ...inds.map((i) => {
      const v = stored[`${u.code}|${i.code}`];
      const input = el("input", {inputmode: "decimal", "data-unit": u.code, "data-indicator": i.code, "data-measure": i.unit,
        "aria-label": `${u.name} ${i.code}`, value: v ? v.value : "", "data-stored": v ? v.value : ""});
      return el("td", {}, input);
    }))));
  labelCells(document.getElementById("entry"));
}
async function unitsOf() { return api(`/api/assessment/units?set=${SET.version}&region_id=${CFG.region_id}`); }
function showProblems(ex) {
  const list = document.getElementById("u-problems");
  list.replaceChildren(...(ex && ex.problems ? ex.problems : []).map((p) => el("li", {}, `${p.where}: ${p.message}`)));
  failIn("u-error", ex);
}
function wireSubmit() {
  const form = document.getElementById("form");
  if (!form) return;
  onSubmit(form, async () => {
    showProblems(null); doneIn("u-done", "");
    const rows = [...form.querySelectorAll("input[data-indicator]")].filter((i) => i.value.trim() !== "" && i.value.trim() !== i.dataset.stored)
      .map((i) => ({unit_code: i.dataset.unit, indicator: i.dataset.indicator, value: i.value.trim(), unit: i.dataset.measure}));
    if (!rows.length) { doneIn("u-done", T("Nothing changed.")); return; }
    try {
      const r = await api("/api/assessment/values", {method: "POST", body: {set: SET.version, year: YEAR, region_id: CFG.region_id, rows}});
      doneIn("u-done", T("{stored} values stored, {unchanged} unchanged.", {stored: r.stored, unchanged: r.unchanged}));
      await drawEntry();
    } catch (ex) { showProblems(ex); }
  });
  const upload = document.getElementById("upload");
  onSubmit(upload, async () => {
    showProblems(null); doneIn("u-done", "");
    const data = new FormData();
    data.append("file", document.getElementById("file").files[0]);
    try {
      const r = await api(`/api/assessment/values/import?set=${SET.version}&year=${YEAR}&region_id=${CFG.region_id}`, {method: "POST", body: data});
      doneIn("u-done", T("{stored} values stored, {unchanged} unchanged.", {stored: r.stored, unchanged: r.unchanged}));
      await drawEntry();
    } catch (ex) { showProblems(ex); }
  });
}
init().catch((ex) => failIn("a-error", ex));
