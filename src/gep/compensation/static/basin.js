// The basin page: this year's direction and amount of every section on the map and in the table, import and
// closing for the office, and the counties' fund ledger.
"use strict";
const BASIN = window.GEP.basin_id;
const params = new URLSearchParams(location.search);
let year = Number(params.get("year")) || null;
let MAP = null, LAYERS = [];
async function load() {
  if (!BASIN) { failIn("b-error", new Error(T("No basin is set up yet."))); return; }
  let b = await api(`/api/compensation/basins/${BASIN}?year=${year || new Date().getFullYear()}`);
  if (!year) {
    const withData = b.years.filter((y) => y <= new Date().getFullYear());
    const latest = withData.length ? Math.max(...withData) : b.year;
    if (latest !== b.year) b = await api(`/api/compensation/basins/${BASIN}?year=${latest}`);
    year = b.year;
  }
  yearSelect(b.years, year, (y) => { year = y; history.replaceState(null, "", `?year=${y}`); load().catch((ex) => failIn("b-error", ex)); });
  const name = window.GEP.lang === "zh" ? b.basin.name_zh : (b.basin.name_en || b.basin.name_zh);
  document.getElementById("b-title").replaceChildren(T("Watershed compensation: {basin}", {basin: name}), " ", syntheticBadge(b.basin, T("generated demo data, not real monitoring")));
  const tpl = document.getElementById("b-template");
  if (tpl) tpl.href = `/api/compensation/basins/${BASIN}/template.csv?year=${year}`;
  document.getElementById("b-kpis").replaceChildren(
    kpiBox(T("Sections"), b.sections.length),
    kpiBox(dirName("downstream_pays"), b.counts.downstream_pays),
    kpiBox(dirName("upstream_pays"), b.counts.upstream_pays),
    kpiBox(dirName("none"), b.counts.none),
    kpiBox(T("Transfers (yuan)"), fen(b.moved_fen)),
    kpiBox(T("Closed"), `${b.closed} / ${b.sections.length}`));
  drawMap(b);
  const body = document.querySelector("#settlements tbody");
  body.replaceChildren(...b.sections.map((s) => el("tr", {},
    el("td", {}, el("a", {href: `/compensation/sections/${s.section_id}?year=${year}`}, s.section_name), " ", syntheticBadge(s)),
    el("td", {}, `${s.upstream.name} → ${s.downstream.name}`),
    el("td", {}, s.water_class),
    el("td", {class: "n"}, s.index || "—"),
    el("td", {}, s.index ? dirBadge(s.direction) : "—"),
    el("td", {class: "n"}, fen(s.transfer_fen)),
    el("td", {}, stateBadge(s.state), s.gaps && s.gaps.length && s.state !== "closed" ? el("span", {class: "badge gaps", title: s.gaps.slice(0, 12).join(", ")}, T("{n} missing", {n: s.gaps.length})) : ""))));
  labelCells(document.getElementById("settlements"));
  await loadFunds();
}
function drawMap(b) {
  if (!MAP) MAP = L.map("b-map", {attributionControl: false, zoomSnap: 0.25});
  for (const l of LAYERS) l.remove();
  LAYERS = [];
  const counties = L.geoJSON(b.counties, {style: () => ({color: "#35533f", weight: 1, fillColor: "#dfe9e2", fillOpacity: 0.6}),
    onEachFeature: (f, layer) => layer.bindTooltip(f.properties.name, {sticky: true})}).addTo(MAP);
  LAYERS.push(counties);
  // the view first: Leaflet draws markers only on a map that has one
  const bounds = counties.getBounds();
  if (bounds.isValid()) MAP.fitBounds(bounds, {padding: [8, 8]});
  else if (b.sections.length) MAP.fitBounds(b.sections.map((s) => [s.lat, s.lon]), {padding: [30, 30]});
  else MAP.setView([28.2, 119.6], 8);
  const biggest = Math.max(1, ...b.sections.map((s) => s.transfer_fen || 0));
  for (const s of b.sections) {
    const r = 7 + 9 * Math.sqrt((s.transfer_fen || 0) / biggest);
    const m = L.circleMarker([s.lat, s.lon], {radius: r, color: "#222", weight: 1, fillColor: DIR_COLOURS[s.index ? s.direction : "none"], fillOpacity: 0.9}).addTo(MAP);
    const state = s.index ? T("index {index}, {direction}", {index: s.index, direction: dirName(s.direction)}) : T("no index yet");
    const money = s.transfer_fen ? T("{yuan} yuan", {yuan: fen(s.transfer_fen)}) : "";
    m.bindTooltip([`${s.section_name}: ${s.upstream.name} → ${s.downstream.name}`, state, money].filter(Boolean).join(" · "));
    m.on("click", () => { location.href = `/compensation/sections/${s.section_id}?year=${year}`; });
    LAYERS.push(m);
  }
  document.getElementById("b-legend").replaceChildren(...Object.keys(DIR_COLOURS).map((d) => el("li", {}, el("span", {class: "dot", style: `background:${DIR_COLOURS[d]}`}), dirName(d))),
    el("li", {class: "muted"}, T("a bigger circle moves more money")));
}
async function loadFunds() {
  const f = await api(`/api/compensation/basins/${BASIN}/funds`);
  document.querySelector("#funds tbody").replaceChildren(...f.counties.map((c) => el("tr", {},
    el("td", {}, c.name), el("td", {class: "n"}, fen(c.received_fen)), el("td", {class: "n"}, fen(c.paid_fen)), el("td", {class: "n"}, fen(c.balance_fen)))));
  labelCells(document.getElementById("funds"));
  const CODES = {compensation_stake: T("stake in a compensation pool"), compensation_payout: T("compensation paid out of the pool")};
  document.getElementById("f-statements").replaceChildren(...f.counties.filter((c) => c.statement.length).map((c) => el("details", {},
    el("summary", {}, T("{county}: the account's entries", {county: c.name})),
    el("div", {class: "table-wrap"}, el("table", {class: "data"}, el("thead", {}, el("tr", {}, el("th", {}, T("When")), el("th", {}, T("What")), el("th", {}, T("Counterparty")), el("th", {class: "n"}, T("Amount (yuan)")), el("th", {class: "n"}, T("Balance (yuan)")))),
      el("tbody", {}, ...c.statement.map((e) => el("tr", {}, el("td", {}, when(e.at)), el("td", {}, CODES[e.code] || e.code), el("td", {}, e.counterparty),
        el("td", {class: "n"}, `${e.incoming ? "+" : "−"}${fen(e.amount_fen)}`), el("td", {class: "n"}, fen(e.balance_fen))))))))));
  document.getElementById("f-total").textContent = T("The counties' balances add up to {total} yuan: stakes go into a pool and come back out of it, so the sum changes only by money from outside (a province or the centre).", {total: fen(f.total_fen)});
}
function forms() {
  const upload = document.getElementById("upload");
  if (!upload) return;
  onSubmit(upload, async () => {
    failIn("b-error"); doneIn("b-done");
    const problems = document.getElementById("u-problems"); problems.replaceChildren();
    const body = new FormData(); body.append("file", document.getElementById("file").files[0]);
    try {
      const r = await api("/api/compensation/observations/import", {method: "POST", body});
      doneIn("b-done", T("{stored} values stored, {skipped} already there, {flagged} flagged for a second look.", {stored: r.stored, skipped: r.skipped, flagged: r.flagged.length}));
      upload.reset();
      await load();
    } catch (ex) {
      failIn("b-error", ex);
      problems.replaceChildren(...(ex.problems || []).slice(0, 50).map((p) => el("li", {}, `${p.where}: ${p.message}`)));
    }
  });
  onSubmit(document.getElementById("close"), async () => {
    failIn("b-error"); doneIn("b-done");
    try {
      const r = await api(`/api/compensation/basins/${BASIN}/years/${year}/close`, {method: "POST", body: {accept_gaps: document.getElementById("c-accept").checked, reason: document.getElementById("c-reason").value}});
      doneIn("b-done", T("{closed} settlements closed, {already} were closed already, {refused} refused.", {closed: r.closed.length, already: r.already.length, refused: r.refused.length}));
      document.getElementById("c-result").replaceChildren(...r.refused.map((x) => el("li", {}, `${x.section}: ${x.reason}`)));
      await load();
    } catch (ex) { failIn("b-error", ex); }
  });
}
forms();
load().catch((ex) => failIn("b-error", ex));
