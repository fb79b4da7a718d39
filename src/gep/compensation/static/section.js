// A section's page: the monthly provisional index against the thresholds, the monthly values, and the year's
// settlement with what it used (data digest, formula version, baseline) and a recomputation to the fen.
"use strict";
const SECTION = window.GEP.section_id;
let year = Number(new URLSearchParams(location.search).get("year")) || new Date().getFullYear();
async function load() {
  const s = await api(`/api/compensation/sections/${SECTION}?year=${year}`);
  yearSelect(s.years, year, (y) => { year = y; history.replaceState(null, "", `?year=${y}`); load().catch((ex) => failIn("s-error", ex)); });
  document.getElementById("s-title").replaceChildren(s.section.name, " ", syntheticBadge(s.section, T("generated demo data, not real monitoring")));
  document.getElementById("s-sub").textContent = T("{river}: {up} → {down}, water class {cls}, agreement {agreement}", {river: s.section.river || "—", up: s.section.upstream, down: s.section.downstream, cls: s.section.water_class, agreement: s.agreement});
  const st = s.settlement;
  document.getElementById("s-kpis").replaceChildren(
    kpiBox(T("Index of the year"), st.index || "—"),
    kpiBox(T("Direction"), st.index ? dirBadge(st.direction) : "—"),
    kpiBox(T("Transfer (yuan)"), fen(st.transfer_fen)),
    kpiBox(T("State"), stateBadge(st.state)),
    kpiBox(T("Missing values"), st.gaps.length));
  chart(s);
  table(s);
  facts(st, s);
}
function chart(s) {
  const months = s.months.map((m) => m.month);
  const x = months.map((m) => `${year}-${String(m).padStart(2, "0")}`);
  const lower = Number(s.lower), upper = Number(s.upper);
  const traces = [{x, y: s.months.map((m) => Number(m.index)), name: T("monthly index (provisional)"), mode: "lines+markers", line: {color: "#2e7d5b"},
    marker: {color: s.months.map((m) => DIR_COLOURS[m.direction]), size: 9}}];
  const span = x.length ? [x[0], x[x.length - 1]] : [`${year}-01`, `${year}-12`];
  traces.push({x: span, y: [lower, lower], name: T("lower bound {v}", {v: s.lower}), mode: "lines", line: {dash: "dash", color: "#1e8a4c"}});
  if (upper !== lower) traces.push({x: span, y: [upper, upper], name: T("upper bound {v}", {v: s.upper}), mode: "lines", line: {dash: "dash", color: "#c0392b"}});
  if (s.settlement.index) traces.push({x: span, y: [Number(s.settlement.index), Number(s.settlement.index)], name: T("index of the year {v}", {v: s.settlement.index}), mode: "lines", line: {color: "#555", width: 1}});
  Plotly.react("s-chart", traces, {margin: {t: 10, r: 10, b: 40, l: 50}, font: chartFont(), legend: {orientation: "h"}, xaxis: {type: "category"}, yaxis: {title: {text: T("index")}}}, {displayModeBar: false, responsive: true});
  const o = s.orientation === "pollution"
    ? T("A pollution index: above 1 the water handed down is worse than the baseline. Below the lower bound downstream pays upstream, above the upper bound upstream pays downstream, between them nobody pays.")
    : T("A quality index: above 1 the water handed down is better than the baseline. Above the upper bound downstream pays upstream, below the lower bound upstream pays downstream, between them nobody pays.");
  document.getElementById("s-orientation").textContent = o;
}
function table(s) {
  const codes = window.GEP.parameter_order.filter((c) => s.values[c]);
  const head = document.querySelector("#values thead");
  head.replaceChildren(el("tr", {}, el("th", {}, T("Period")), ...codes.map((c) => el("th", {class: "n"}, `${paramName(c)} (${paramUnit(c)})`))));
  const periods = [...new Set(codes.flatMap((c) => s.values[c].map((v) => v.month)))].sort((a, b) => a - b);
  const cell = (c, m) => { const v = (s.values[c] || []).find((x) => x.month === m); return v ? el("td", {class: v.flagged ? "n flag" : "n", title: v.flagged ? T("beyond the plausible range") : ""}, v.flagged ? `⚑ ${v.value}` : v.value) : el("td", {class: "n muted"}, "—"); };
  document.querySelector("#values tbody").replaceChildren(...periods.map((m) => el("tr", {}, el("td", {}, m === 0 ? T("year") : `${year}-${String(m).padStart(2, "0")}`), ...codes.map((c) => cell(c, m)))));
}
function facts(st, s) {
  const dl = document.getElementById("settlement");
  const row = (k, v) => [el("dt", {}, k), el("dd", {}, v)];
  const pairs = (obj) => Object.entries(obj || {}).map(([k, v]) => `${paramName(k)} ${v}`).join(" · ") || "—";
  const parts = st.parts && st.parts.value ? T("quality {q}, quantity {v}, efficiency {e}", {q: st.parts.quality, v: st.parts.quantity ?? "—", e: st.parts.efficiency ?? "—"}) : "—";
  dl.replaceChildren(
    ...row(T("Formula"), `${s.scheme.version}: ${window.GEP.lang === "zh" ? s.scheme.name_zh : s.scheme.name_en}`),
    ...row(T("Weights"), T("K0 {k0}; quality {a}, quantity {b}, efficiency {c}", {k0: s.scheme.k0, a: s.scheme.quality_weight, b: s.scheme.quantity_weight, c: s.scheme.efficiency_weight})),
    ...row(T("Thresholds (class {cls})", {cls: st.water_class}), `${s.lower} – ${s.upper}`),
    ...row(T("Baseline"), pairs(st.baseline)),
    ...row(T("Annual means"), pairs(st.means)),
    ...row(T("Index and its parts"), `${st.index || "—"} (${parts})`),
    ...row(T("Money"), T("each county stakes {amount} yuan; the pool pays upstream {up} and downstream {down}", {amount: fen(st.amount_fen), up: fen(st.upstream_fen), down: fen(st.downstream_fen)})),
    ...row(T("Data used"), el("span", {}, T("{n} values, digest", {n: st.observations}), " ", el("span", {class: "mono"}, st.data_digest))),
    ...row(T("Missing"), st.gaps.length ? st.gaps.join(", ") : T("none")),
    ...(st.gaps_accepted ? row(T("Gaps accepted because"), st.gaps_reason) : []),
    ...row(T("Source"), s.scheme.source));
}
document.getElementById("recompute").addEventListener("click", async () => {
  failIn("s-error");
  try {
    const s = await api(`/api/compensation/sections/${SECTION}?year=${year}`);
    const r = await api(`/api/compensation/settlements/${s.settlement.id}/recompute`);
    document.getElementById("r-result").textContent = r.matches ? T("Recomputed from the stored data with the same formula: every figure is the same, to the fen.") : T("Recomputed: these figures differ from the stored ones: {fields}", {fields: r.differs.join(", ")});
  } catch (ex) { failIn("s-error", ex); }
});
load().catch((ex) => failIn("s-error", ex));
