// A station's chart: one parameter's readings over the chosen days, its limit, flagged values and gaps.
"use strict";
const STATION = G.station_id;
const q = new URLSearchParams(location.search);
let param = q.get("parameter") || "";
async function load() {
  const days = document.getElementById("s-days").value;
  const s = await api(`/api/monitoring/stations/${STATION}?parameter=${encodeURIComponent(param)}&days=${days}`);
  param = s.parameter;
  const st = s.station;
  document.getElementById("s-title").replaceChildren(`${st.name} `, statusBadge(st.status), " ", syntheticBadge(st, T("generated demo data, not real monitoring")));
  document.getElementById("s-sub").textContent = `${kindName(st.kind)} · ${st.code} · ${st.lat.toFixed(4)}, ${st.lon.toFixed(4)}`;
  const sel = document.getElementById("s-param");
  sel.replaceChildren(...s.parameters.map((p) => el("option", {value: p.code, selected: p.code === param}, G.lang === "zh" ? p.name_zh : p.name_en)));
  const name = G.lang === "zh" ? s.name_zh : s.name_en;
  const traces = [{x: s.times, y: s.values, mode: "lines", name: `${name} (${s.unit})`, line: {color: "#2e7d5b", width: 1.5}}];
  const flagged = s.flags.map((f, i) => (f ? i : -1)).filter((i) => i >= 0);
  if (flagged.length) traces.push({x: flagged.map((i) => s.times[i]), y: flagged.map((i) => s.values[i]), mode: "markers", name: T("flagged for a second look"), marker: {color: "#c98a00", size: 7}});
  const span = s.times.length ? [s.times[0], s.times[s.times.length - 1]] : [];
  if (s.limit !== null && span.length) traces.push({x: span, y: [s.limit, s.limit], mode: "lines", name: T("limit {v}", {v: s.limit}), line: {dash: "dash", color: "#c0392b"}});
  if (s.limit_min !== null && span.length) traces.push({x: span, y: [s.limit_min, s.limit_min], mode: "lines", name: T("at least {v}", {v: s.limit_min}), line: {dash: "dash", color: "#c0392b"}});
  Plotly.react("s-chart", traces, {margin: {t: 10, r: 10, b: 40, l: 50}, font: chartFont(), legend: {orientation: "h"}, yaxis: {title: {text: s.unit}}}, {displayModeBar: false, responsive: true});
  document.getElementById("s-gaps").replaceChildren(...(s.gaps.length ? s.gaps.map((g) => el("li", {}, T("no readings between {from} and {to} ({n} missing)", {from: when(g.from), to: when(g.to), n: g.missing}))) : [el("li", {class: "muted"}, T("none in these days"))]));
}
document.getElementById("s-param").onchange = (ev) => { param = ev.target.value; history.replaceState(null, "", `?parameter=${param}`); load().catch((ex) => failIn("s-error", ex)); };
document.getElementById("s-days").onchange = () => load().catch((ex) => failIn("s-error", ex));
load().catch((ex) => failIn("s-error", ex));
