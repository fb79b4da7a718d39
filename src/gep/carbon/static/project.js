// A carbon project: its facts and stands on the map, monitoring reports (verify and issue where allowed), the
// estimate by stand, issuances, every move of its units, and the methodology's parameters with their sources.
"use strict";
const ID = window.GEP.project_id;
const PARAMS = {wood_density: N_("basic wood density (WD)"), bef: N_("biomass expansion factor (BEF)"), root_shoot: N_("root-to-shoot ratio (R)"), carbon_fraction: N_("carbon fraction (CF)"), biomass_per_culm: N_("biomass per culm")};
let speciesNames = {};
const speciesName = (sid) => speciesNames[sid] || sid;
const MOVES = {issue: N_("issued"), transfer: N_("transferred"), offer: N_("set aside for the exchange"), deliver: N_("delivered to a buyer"), return: N_("returned unsold"), retire: N_("retired")};
function action(label, handler) {
  const b = el("button", {type: "button", class: "secondary small"}, label);
  b.addEventListener("click", () => { b.disabled = true; handler().then(load).catch((ex) => { b.disabled = false; fail("p-error", ex); }); });
  return b;
}
function showEstimate(period) {
  const box = document.getElementById("estimate");
  box.hidden = !period || !period.estimate;
  if (box.hidden) return;
  document.getElementById("estimate-period").textContent = `${period.start} – ${period.end}`;
  const body = document.querySelector("#stands tbody");
  body.replaceChildren(...period.estimate.map((e) => el("tr", {}, el("td", {}, e.stand), el("td", {}, speciesName(e.species)), el("td", {class: "n"}, tonnes1(e.area_ha)),
    el("td", {class: "n"}, tonnes1(e.baseline_tco2)), el("td", {class: "n"}, tonnes1(e.project_tco2)), el("td", {class: "n"}, tonnes1(e.removals_tco2)))));
  labelCells(document.getElementById("stands"));
}
let map;
let reportReady = false;
let verifying = null;
function openVerify(period) {
  verifying = period;
  const form = document.getElementById("verify");
  form.hidden = false;
  document.getElementById("v-period").textContent = `${period.start} – ${period.end}`;
  document.getElementById("v-tonnes").value = period.estimated_t;
  document.getElementById("v-tonnes").max = period.estimated_t;
  form.scrollIntoView({block: "nearest"});
}
document.getElementById("verify").addEventListener("submit", (ev) => {
  ev.preventDefault();
  once(ev.target, () => verify(!(ev.submitter && ev.submitter.name === "reject")));
});
async function verify(approve) {
  fail("p-error");
  const t = document.getElementById("v-tonnes").value;
  try {
    await api(`/api/carbon/periods/${verifying.id}/verify`, {method: "POST", body: {approve, verified_t: approve && t !== "" ? Number(t) : null, opinion: document.getElementById("v-opinion").value}});
    document.getElementById("verify").hidden = true; document.getElementById("verify").reset(); await load();
  } catch (ex) { fail("p-error", ex); }
}
function reportForm(p) {
  const form = document.getElementById("report");
  form.hidden = !p.can_report;
  if (!p.can_report || reportReady) return;
  reportReady = true;
  document.getElementById("r-rows").placeholder = p.stands.map((s) => `${s.parcel_code}, 80, 82, 80, 90`).join("\n");
  form.addEventListener("submit", (ev) => { ev.preventDefault(); once(form, save); });
  async function save() {
    fail("p-error");
    const rows = document.getElementById("r-rows").value.split(/\n/).map((l) => l.trim()).filter(Boolean).map((l) => {
      const [code, ...nums] = l.split(/[,，\t]/).map((x) => x.trim());
      const [bs, be, ps, pe] = nums.map(Number);
      return {parcel_code: code, baseline_start: bs, baseline_end: be, project_start: ps, project_end: pe};
    });
    try {
      await api(`/api/carbon/projects/${ID}/periods`, {method: "POST", body: {start: document.getElementById("r-start").value, end: document.getElementById("r-end").value, measurements: rows}});
      form.reset(); await load();
    } catch (ex) { fail("p-error", ex); }
  }
}
async function load() {
  const p = await api(`/api/carbon/projects/${ID}`);
  reportForm(p);
  document.getElementById("p-title").replaceChildren(`${p.code} · ${p.name} `, synthetic(p));
  const flag = document.getElementById("p-flag");
  flag.hidden = !p.flag;
  if (p.flag) flag.textContent = `${T(p.flag)} (${T("issued {issued} t; the GEP accounts give {expected} t over the same parcels and years", {issued: tonnes(p.check.issued_t), expected: tonnes(p.check.expected_t)})})`;
  const facts = [[T("Type"), typeName(p.type)], [T("Developer"), p.developer], [T("Start"), p.start], [T("Crediting period (years)"), p.crediting_years],
    [T("Area (ha)"), tonnes1(p.area_ha)], [T("Stands"), p.stands.length], [T("Issued (tCO₂e)"), tonnes(p.issued_t)], [T("Retired (tCO₂e)"), tonnes(p.retired_t)],
    [T("Cross-check"), checkBadge(p)]];
  document.getElementById("p-facts").replaceChildren(...facts.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))));
  const body = document.querySelector("#periods tbody");
  body.replaceChildren(...p.periods.map((x) => {
    const acts = [];
    if (x.estimate) acts.push(action(T("estimate"), async () => showEstimate(x)));
    if (p.can_report && ["draft", "rejected"].includes(x.state)) acts.push(action(T("submit for verification"), () => api(`/api/carbon/periods/${x.id}/submit`, {method: "POST"})));
    if (p.can_verify && x.state === "submitted") acts.push(action(T("verify"), async () => openVerify(x)));
    if (p.can_issue && x.state === "verified") acts.push(action(T("issue units"), () => api(`/api/carbon/periods/${x.id}/issue`, {method: "POST"})));
    return el("tr", {}, el("td", {}, `${x.start} – ${x.end}`), el("td", {}, periodStateName(x.state), x.opinion ? el("div", {class: "muted"}, x.opinion) : ""),
      el("td", {class: "n"}, tonnes(x.estimated_t)), el("td", {class: "n"}, tonnes(x.verified_t)), el("td", {}, x.verifier || "—"), el("td", {}, ...acts));
  }));
  if (!p.periods.length) body.append(el("tr", {}, el("td", {colspan: 6, class: "muted"}, T("No monitoring report yet."))));
  labelCells(document.getElementById("periods"));
  const iss = document.querySelector("#p-issuances tbody");
  iss.replaceChildren(...p.issuances.map((i) => el("tr", {}, el("td", {}, i.vintage), el("td", {class: "n"}, tonnes(i.quantity)), el("td", {}, el("span", {class: "serial"}, i.serials)), el("td", {}, when(i.issued_at)))));
  labelCells(document.getElementById("p-issuances"));
  const moves = document.querySelector("#moves tbody");
  moves.replaceChildren(...p.moves.map((m) => el("tr", {}, el("td", {}, when(m.at)), el("td", {}, T(MOVES[m.kind] || m.kind)), el("td", {class: "n"}, tonnes(m.quantity)), el("td", {}, el("span", {class: "serial"}, m.serials)), el("td", {}, m.ref))));
  labelCells(document.getElementById("moves"));
  const md = p.methodology_detail;
  speciesNames = Object.fromEntries(Object.entries(md.species).map(([sid, ps]) => [sid, window.GEP.lang === "zh" ? ps.name_zh : ps.name_en]));
  document.getElementById("method").textContent = `${window.GEP.lang === "zh" ? md.name_zh : md.name_en} (${md.id} v${md.version}). ${md.reference}`;
  const used = new Set(p.stands.map((s) => s.species));
  const rows = [];
  for (const [sid, ps] of Object.entries(md.species)) {
    if (!used.has(sid)) continue;
    for (const [k, v] of Object.entries(ps)) if (v && typeof v === "object") rows.push(el("tr", {}, el("td", {}, speciesName(sid)), el("td", {}, PARAMS[k] ? T(PARAMS[k]) : k), el("td", {class: "n"}, v.value), el("td", {}, v.unit), el("td", {}, v.verified ? "" : el("span", {class: "badge flagged"}, T("unverified")), " ", v.source)));
  }
  document.querySelector("#params tbody").replaceChildren(...rows);
  labelCells(document.getElementById("params"));
  if (!map && p.geojson) {
    map = L.map("p-map", {attributionControl: false});
    const layer = L.geoJSON(p.geojson, {style: {color: "#2e7d5b", weight: 1, fillOpacity: 0.4}}).addTo(map);
    map.fitBounds(layer.getBounds().pad(0.2));
  }
}
load().catch((ex) => fail("p-error", ex));
