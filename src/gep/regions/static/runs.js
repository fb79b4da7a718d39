// Accounting runs: start a run, watch its progress, cancel or retry it, download its report.
"use strict";
let regions = [];
const regionName = (r) => (window.GEP.lang === "zh" ? r.name : r.name_en || r.name);
const STATUS = {queued: N_("queued"), running: N_("running"), succeeded: N_("finished"), failed: N_("failed"), cancelled: N_("cancelled")};
let timer = null;
async function loadRegions() {
  regions = await api("/api/regions");
  const sel = document.getElementById("run-region");
  if (!sel) return;
  sel.replaceChildren(...regions.map((r) => el("option", {value: r.id}, regionName(r))));
  sel.addEventListener("change", fillYears);
  fillYears();
}
function fillYears() {
  const r = regions.find((x) => String(x.id) === document.getElementById("run-region").value);
  document.getElementById("run-year").replaceChildren(...(r ? r.years : []).map((y) => el("option", {value: y}, y)));
}
function actions(r) {
  const cell = el("td", {class: "actions"});
  if (!window.GEP.can_run) return cell;
  const act = (label, path, cls) => {
    const b = el("button", {type: "button", class: cls, "data-action": path}, T(label));
    b.addEventListener("click", async () => {
      b.disabled = true;
      try { await api(`/api/runs/${r.id}/${path}`, {method: "POST"}); } catch (ex) { showError(ex.message); }
      refresh();
    });
    cell.append(b);
  };
  if (r.status === "queued" || r.status === "running") act(N_("Cancel"), "cancel", "secondary");
  if (r.status === "failed" || r.status === "cancelled") act(N_("Retry"), "retry", "secondary");
  return cell;
}
function showError(text) { const err = document.getElementById("run-error"); if (err) { err.textContent = text; err.hidden = !text; } }
async function refresh() {
  const runs = await api("/api/runs");
  const body = document.querySelector("#runs tbody");
  body.replaceChildren();
  for (const r of runs) {
    const region = regions.find((x) => x.id === r.region_id);
    const bar = el("div", {class: "bar"}, el("div", {class: "fill", style: `width:${Math.round(100 * r.progress)}%`}));
    const reports = el("span", {class: "reports"});
    const mine = window.GEP.lang;
    const keys = [...r.reports].sort((a, b) => (b.startsWith(mine) - a.startsWith(mine)) || a.localeCompare(b));
    for (const key of keys) {
      const [lang, fmt] = key.split(".");
      const label = `${fmt.toUpperCase()}·${lang === "zh" ? "中文" : "EN"}`;
      reports.append(el("a", {href: `/api/runs/${r.id}/report/${lang}.${fmt}`, class: "dl", "data-report": key}, label), " ");
    }
    const status = el("td", {class: "status " + r.status}, T(STATUS[r.status] || r.status), r.message ? el("div", {class: "error"}, r.message) : "");
    if (r.traceback) {
      const show = el("a", {href: "#", class: "dl"}, T("details"));
      show.addEventListener("click", (e) => { e.preventDefault(); const p = document.getElementById("run-trace"); p.textContent = r.traceback; p.hidden = false; });
      status.append(" ", show);
    }
    body.append(el("tr", {id: `run-${r.id}`, "data-status": r.status},
      el("td", {}, r.id), el("td", {}, region ? regionName(region) : r.region_id), el("td", {}, r.year), el("td", {}, r.method),
      status, el("td", {}, bar, el("div", {class: "stage"}, r.stage)), el("td", {class: "n"}, r.gep_yuan ? yi(r.gep_yuan) : "—"),
      el("td", {}, reports), el("td", {}, when(r.created_at)), actions(r)));
  }
  labelCells(document.getElementById("runs"));
  const busy = runs.some((r) => r.status === "queued" || r.status === "running");
  clearTimeout(timer);
  timer = setTimeout(refresh, busy ? 1000 : 5000);
}
const form = document.getElementById("run-form");
if (form) form.addEventListener("submit", async (e) => {
  e.preventDefault();
  showError("");
  const body = {year: Number(document.getElementById("run-year").value)};
  const method = document.getElementById("run-method").value, py = document.getElementById("run-price-year").value;
  if (method) body.method = method;
  if (py) body.price_year = Number(py);
  try {
    await api(`/api/regions/${document.getElementById("run-region").value}/runs`, {method: "POST", body});
    refresh();
  } catch (ex) { showError(ex.message); }
});
loadRegions().then(refresh);
