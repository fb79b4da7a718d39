// The monitoring map: stations coloured by their latest status, the table of latest values, the alerts with their
// handling, and the import of a readings file.
"use strict";
let MAP = null, LAYER = null;
async function load() {
  const state = document.getElementById("a-state").value;
  const [stations, alerts, open] = await Promise.all([api("/api/monitoring/stations"), api(`/api/monitoring/alerts?state=${state}`),
    state === "open" ? null : api("/api/monitoring/alerts?state=open")]);
  const count = (s) => stations.filter((x) => x.status === s).length;
  document.getElementById("m-kpis").replaceChildren(kpiBox(T("Stations"), stations.length), kpiBox(T(STATUS.beyond), count("beyond")),
    kpiBox(T(STATUS.stale), count("stale") + count("no_data")), kpiBox(T("Open alerts"), (open || alerts).length));
  drawMap(stations);
  document.querySelector("#stations tbody").replaceChildren(...stations.map((s) => el("tr", {},
    el("td", {}, el("a", {href: `/monitoring/stations/${s.id}`}, s.name), " ", syntheticBadge(s, T("generated demo data, not real monitoring"))),
    el("td", {}, kindName(s.kind)),
    el("td", {}, ...s.latest.map((v) => el("div", {class: v.beyond ? "beyond" : ""}, `${paramName(s.kind, v.parameter)} ${num(v.value)} ${v.unit}`))),
    el("td", {}, statusBadge(s.status), s.open_alerts ? el("span", {class: "badge a-open"}, T("{n} alerts", {n: s.open_alerts})) : ""))));
  labelCells(document.getElementById("stations"));
  drawAlerts(alerts);
}
function drawMap(stations) {
  if (!MAP) { MAP = L.map("m-map", {attributionControl: false}); outlines(MAP); }
  if (LAYER) LAYER.remove();
  LAYER = L.featureGroup(stations.map((s) => {
    const m = L.circleMarker([s.lat, s.lon], {radius: 8, color: "#222", weight: 1, fillColor: STATUS_COLOURS[s.status], fillOpacity: 0.9});
    m.bindTooltip(`${s.name} · ${kindName(s.kind)} · ${T(STATUS[s.status])}`);
    m.on("click", () => { location.href = `/monitoring/stations/${s.id}`; });
    return m;
  })).addTo(MAP);
  document.getElementById("m-legend").replaceChildren(...Object.keys(STATUS).map((s) => el("li", {}, el("span", {class: "dot", style: `background:${STATUS_COLOURS[s]}`}), T(STATUS[s]))));
}
const SHOWN = 50;
function drawAlerts(alerts) {
  document.getElementById("a-more").textContent = alerts.length > SHOWN ? T("The newest {n} of {total} alerts are shown.", {n: SHOWN, total: alerts.length}) : "";
  document.querySelector("#alerts tbody").replaceChildren(...alerts.slice(0, SHOWN).map((a) => el("tr", {},
    el("td", {}, when(a.started_at)), el("td", {}, a.text, " ", syntheticBadge(a), a.note ? el("div", {class: "muted"}, a.note) : ""),
    el("td", {}, deptName(a.department)), el("td", {}, alertBadge(a.state)),
    el("td", {}, ...(G.can_handle && a.state !== "closed" ? [
      a.state === "open" ? button(T("Acknowledge"), () => handle(a.id, "acknowledged"), "secondary") : "",
      button(T("Close"), () => handle(a.id, "closed"), "secondary")] : []),
      ...(G.can_handle ? [button(T("Credit"), () => credit(a.id), "secondary")] : []),
      a.credit && a.credit.length ? el("div", {class: "muted"}, T("credit: {parties}", {parties: a.credit.join(", ")})) : ""))));
  labelCells(document.getElementById("alerts"));
}
async function handle(id, state) {
  failIn("m-error");
  let note = "";
  if (state === "closed") { note = prompt(T("What was done?")) || ""; if (!note.trim()) return; }
  try { await api(`/api/monitoring/alerts/${id}`, {method: "POST", body: {state, note}}); await load(); } catch (ex) { failIn("m-error", ex); }
}
async function credit(id) {
  failIn("m-error"); doneIn("m-done");
  const who = (prompt(T("Who is it attributed to? A village's code, or org: and an organisation's number (e.g. org:12).")) || "").trim();
  if (!who) return;
  const body = who.startsWith("org:") ? {organisation_id: Number(who.slice(4))} : {village_code: who};
  try {
    await api(`/api/monitoring/alerts/${id}/credit`, {method: "POST", body});
    doneIn("m-done", T("Sent to ecological credit as a pending event; the credit office reviews it before it counts."));
    await load();
  } catch (ex) { failIn("m-error", ex); }
}
document.getElementById("a-state").onchange = () => load().catch((ex) => failIn("m-error", ex));
const upload = document.getElementById("upload");
if (upload) onSubmit(upload, async () => {
  failIn("m-error"); doneIn("m-done");
  const problems = document.getElementById("u-problems"), gaps = document.getElementById("u-gaps");
  problems.replaceChildren(); gaps.replaceChildren();
  const body = new FormData(); body.append("file", document.getElementById("file").files[0]);
  try {
    const r = await api("/api/monitoring/readings/import", {method: "POST", body});
    doneIn("m-done", T("{stored} readings stored, {skipped} already there, {flagged} flagged for a second look, {gaps} gaps, {alerts} alerts.", {stored: r.stored, skipped: r.skipped, flagged: r.flagged, gaps: r.gap_count, alerts: r.alerts.length}));
    gaps.replaceChildren(...r.gaps.slice(0, 20).map((g) => el("li", {}, T("{station} {parameter}: no readings between {from} and {to} ({n} missing)", {station: g.station, parameter: g.parameter, from: when(g.from), to: when(g.to), n: g.missing}) + (g.rows && g.rows[0] && g.rows[1] ? " · " + T("rows {a} and {b}", {a: g.rows[0], b: g.rows[1]}) : ""))));
    upload.reset();
    document.getElementById("a-state").value = "open";
    await load();
  } catch (ex) {
    failIn("m-error", ex);
    problems.replaceChildren(...(ex.problems || []).slice(0, 50).map((p) => el("li", {}, `${p.where}: ${p.message}`)));
  }
});
load().catch((ex) => failIn("m-error", ex));
