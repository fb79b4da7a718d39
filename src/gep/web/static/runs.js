// Accounting runs: start a run, watch its progress, download its report.
"use strict";
let regions = [];
const regionName = (r) => (window.GEP.lang === "zh" ? r.name : r.name_en || r.name);
// the job reports its stage in English; the page shows it in the page's language
const STAGES_ZH = [["loading the region", "加载区域数据"], ["method profile", "读取核算方法"], ["build the lazy graph", "构建计算任务"],
  ["one pass over", "分块计算"], ["quantities and values", "计算功能量与价值量"], ["sum up the levels", "逐级汇总"],
  ["writing the accounts", "写出核算表"], ["writing the report", "生成核算报告"], ["storing the accounts", "结果入库"],
  ["claimed by a worker", "已由工作进程领取"], ["done", "完成"]];
function stageText(stage) {
  if (window.GEP.lang !== "zh" || !stage) return stage || "";
  for (const [en, zh] of STAGES_ZH) if (stage.startsWith(en)) return zh + stage.slice(en.length).replace(/chunks/, "块");
  return stage;
}
let timer = null;
async function loadRegions() {
  regions = await api("/api/regions");
  const sel = document.getElementById("run-region");
  sel.replaceChildren(...regions.map((r) => el("option", {value: r.id}, regionName(r))));
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
    const mine = window.GEP.lang;
    const keys = [...r.reports].sort((a, b) => (b.startsWith(mine) - a.startsWith(mine)) || a.localeCompare(b));
    for (const key of keys) {
      const [lang, fmt] = key.split(".");
      const label = `${fmt.toUpperCase()}·${lang === "zh" ? "中文" : "EN"}`;
      reports.append(el("a", {href: `/api/runs/${r.id}/report/${lang}.${fmt}`, class: "dl", "data-report": key}, label), " ");
    }
    body.append(el("tr", {id: `run-${r.id}`, "data-status": r.status},
      el("td", {}, r.id), el("td", {}, region ? regionName(region) : r.region_id), el("td", {}, r.year), el("td", {}, r.method),
      el("td", {class: "status " + r.status}, T(r.status), r.message ? el("div", {class: "error"}, r.message) : ""),
      el("td", {}, bar, el("div", {class: "stage"}, stageText(r.stage))), el("td", {class: "n"}, r.gep_yuan ? yi(r.gep_yuan) : "—"),
      el("td", {}, reports), el("td", {}, r.created_at ? r.created_at.replace("T", " ").slice(0, 19) : "")));
  }
  const busy = runs.some((r) => r.status === "queued" || r.status === "running");
  clearTimeout(timer);
  timer = setTimeout(refresh, busy ? 1000 : 5000);
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
    refresh();
  } catch (ex) { err.textContent = ex.message; err.hidden = false; }
});
loadRegions().then(refresh);
