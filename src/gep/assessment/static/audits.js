// Tenure audits: open one for a zone and a term; read it (GEP at both ends at constant prices, what fell, events).
"use strict";
const CFG = window.GEP;
const CATS = {gep: "GEP", material: N_("Material products"), regulating: N_("Regulating services"), cultural: N_("Cultural services")};
const KINDS = {settlement: N_("Watershed settlement"), damage: N_("Damage case"), project: N_("Project check"), reward: N_("Reward paid"), registry: N_("Registry events (count)")};
const yuan = (v) => (Math.abs(Number(v)) < 0.5 ? "0" : Number(v).toLocaleString(undefined, {maximumFractionDigits: 0}));
async function init() {
  const form = document.getElementById("audit");
  if (form && CFG.region_id) {
    const zones = await api(`/api/assessment/audits/zones?region_id=${CFG.region_id}`);
    document.getElementById("a-zone").replaceChildren(...zones.map((z) => el("option", {value: z.code}, z.level === "county" ? z.name : `— ${z.name}`)));
    onSubmit(form, async () => {
      failIn("t-error", null);
      try {
        const a = await api("/api/assessment/audits", {method: "POST", body: {region_id: CFG.region_id, zone_code: document.getElementById("a-zone").value,
          leader: document.getElementById("a-leader").value.trim(), started_on: document.getElementById("a-start").value, ended_on: document.getElementById("a-end").value}});
        show(a); await loadList();
      } catch (ex) { failIn("t-error", ex); }
    });
  }
  await loadList();
}
const ZH = CFG.lang === "zh";
function label(g) { return CATS[g.key] ? T(CATS[g.key]) : ((ZH ? g.name_zh : g.name_en) || g.key); }
function show(a) {
  document.getElementById("t-view").hidden = false;
  document.getElementById("t-title").replaceChildren(`${a.code} · ${a.zone.name} · ${a.started_on} – ${a.ended_on}`, " ", syntheticBadge(a));
  document.getElementById("t-pdf-zh").href = `/api/assessment/audits/${a.id}/report.pdf?lang=zh`;
  document.getElementById("t-pdf-en").href = `/api/assessment/audits/${a.id}/report.pdf?lang=en`;
  document.getElementById("t-y0").textContent = `${a.start.year}`;
  document.getElementById("t-y1").textContent = `${a.end.year}`;
  const total = a.gep.find((g) => g.key === "gep");
  document.getElementById("t-kpis").replaceChildren(kpiBox(T("GEP at the start (100 M yuan)"), yi(total.start_yuan)), kpiBox(T("GEP at the end (100 M yuan)"), yi(total.end_yuan)),
    kpiBox(T("Change"), total.change_pct === null ? "—" : `${total.change_pct >= 0 ? "+" : ""}${total.change_pct.toFixed(2)}%`), kpiBox(T("At the prices of"), a.price_year),
    ...(a.forest_stock_m3 ? [kpiBox(T("Forest stock (10,000 m³)"), a.forest_stock_m3.map((v) => (v === null ? "—" : (v / 1e4).toLocaleString(undefined, {maximumFractionDigits: 0}))).join(" → "))] : []));
  const byKey = Object.fromEntries(a.gep.map((g) => [g.key, g]));
  document.getElementById("t-fell").textContent = a.fell.length ? T("Indicators that fell: {list}", {list: a.fell.map((k) => label(byKey[k] || {key: k})).join(ZH ? "、" : ", ")}) : T("No indicator fell.");
  document.querySelector("#t-gep tbody").replaceChildren(...a.gep.map((g) => el("tr", {class: a.fell.includes(g.key) ? "fell" : ""}, el("td", {}, label(g)),
    el("td", {class: "n"}, yuan(g.start_yuan)), el("td", {class: "n"}, yuan(g.end_yuan)), el("td", {class: "n"}, yuan(g.change_yuan)))));
  document.querySelector("#t-events tbody").replaceChildren(...(a.events.length ? a.events.map((e) => el("tr", {}, el("td", {}, e.date), el("td", {}, T(KINDS[e.kind] || e.kind)),
    el("td", {}, e.ref), el("td", {}, e.text), el("td", {class: "n"}, e.net_fen === null ? "" : yuanText(e.net_fen / 100))))
    : [el("tr", {}, el("td", {colspan: "5", class: "muted"}, T("none")))]));
}
async function loadList() {
  const rows = await api("/api/assessment/audits");
  document.querySelector("#t-list tbody").replaceChildren(...rows.map((a) => {
    const tr = el("tr", {class: "pick"}, el("td", {}, a.code, " ", syntheticBadge(a)), el("td", {}, a.zone.name), el("td", {}, a.leader), el("td", {}, `${a.started_on} – ${a.ended_on}`));
    tr.addEventListener("click", async () => show(await api(`/api/assessment/audits/${a.id}`)));
    return tr;
  }));
  labelCells(document.getElementById("t-list"));
}
init().catch((ex) => failIn("t-error", ex));
