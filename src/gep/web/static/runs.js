// Accounting runs: start a run, watch its progress, download its report.
"use strict";
let regions = [];
async function loadRegions() {
  regions = await api("/api/regions");
  const sel = document.getElementById("run-region");
  sel.replaceChildren(...regions.map((r) => el("option", {value: r.id}, window.GEP.lang === "zh" ? r.name : r.name_en)));
  sel.addEventListener("change", fillYears);
  fillYears();
}
function fillYears() {
  const r = regions.find((x) => String(x.id) === document.getElementById("run-region").value);
  document.getElementById("run-year").replaceChildren(...(r ? r.years : []).map((y) => el("option", {value: y}, y)));
}
async function refresh() {
  const runs = await api("/api/runs");
  const body = document.querySelector("#runs tbody");
  body.replaceChildren();
  for (const r of runs) {
    const region = regions.find((x) => x.id === r.region_id);
    const bar = el("div", {class: "bar"}, el("div", {class: "fill", style: `width:${Math.round(100 * r.progress)}%`}));
    const reports = el("span", {class: "reports"});
    for (const key of r.reports) {
      const [lang, fmt] = key.split(".");
      reports.append(el("a", {href: `/api/runs/${r.id}/report/${lang}.${fmt}`, class: "dl", "data-report": key}, `${fmt.toUpperCase()} ${lang}`), " ");
    }
    body.append(el("tr", {id: `run-${r.id}`, "data-status": r.status},
      el("td", {}, r.id), el("td", {}, region ? region.name : r.region_id), el("td", {}, r.year), el("td", {}, r.method),
      el("td", {class: "status " + r.status}, T(r.status), r.message ? el("div", {class: "error"}, r.message) : ""),
      el("td", {}, bar, el("div", {class: "stage"}, r.stage)), el("td", {class: "n"}, r.gep_yuan ? yi(r.gep_yuan) : "—"),
      el("td", {}, reports), el("td", {}, r.created_at ? r.created_at.replace("T", " ").slice(0, 19) : "")));
  }
  const busy = runs.some((r) => r.status === "queued" || r.status === "running");
  setTimeout(refresh, busy ? 1000 : 5000);
}
document.getElementById("run-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const err = document.getElementById("run-error");
  err.hidden = true;
  const body = {year: Number(document.getElementById("run-year").value)};
  const method = document.getElementById("run-method").value, py = document.getElementById("run-price-year").value;
  if (method) body.method = method;
  if (py) body.price_year = Number(py);
  try {
    await api(`/api/regions/${document.getElementById("run-region").value}/runs`, {method: "POST", body});
  } catch (ex) { err.textContent = ex.message; err.hidden = false; }
});
loadRegions().then(refresh);
