// Region data: upload a package (with progress), the statistics template, and the region's parameter overrides.
"use strict";
let regions = [];
const regionName = (r) => (window.GEP.lang === "zh" ? r.name : r.name_en || r.name);
const select = document.getElementById("data-region");
const current = () => select.value;
function showProblems(id, ex) {
  // a region package's problems, grouped by file (the part of "where" before the first comma)
  const box = document.getElementById(id);
  box.replaceChildren();
  if (!ex) { box.hidden = true; return; }
  box.append(el("p", {class: "error"}, ex.message));
  const groups = new Map();
  for (const p of ex.problems || []) {
    const file = (p.where || "").split(/[,\[ ]/)[0] || "—";
    if (!groups.has(file)) groups.set(file, []);
    groups.get(file).push(p);
  }
  for (const [file, items] of groups) {
    box.append(el("h3", {}, file), el("ul", {}, ...items.map((p) => el("li", {}, el("span", {class: "where"}, p.where), " ", p.message))));
  }
  box.hidden = false;
  box.scrollIntoView({block: "nearest"});
}
async function loadRegions(selected) {
  regions = await api("/api/regions");
  select.replaceChildren(el("option", {value: ""}, T("a new region")), ...regions.map((r) => el("option", {value: r.id}, regionName(r))));
  if (selected) select.value = String(selected);
  else if (regions.length) select.value = String(regions[regions.length - 1].id);
  onRegion();
}
function onRegion() {
  const r = regions.find((x) => String(x.id) === current());
  for (const id of ["template-card", "parameters-card"]) document.getElementById(id).hidden = !r;
  if (!r) return;
  document.getElementById("template-year").value = r.years[r.years.length - 1];
  templateLink();
  loadParameters();
}
function templateLink() {
  const year = document.getElementById("template-year").value;
  document.getElementById("template-download").href = `/api/regions/${current()}/statistics/template?year=${encodeURIComponent(year)}`;
}
// -- 1. upload, with the bytes sent shown as they go -------------------------------------------------------
function send(url, data, progress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("X-CSRF-Token", window.GEP.csrf);
    xhr.setRequestHeader("Accept-Language", window.GEP.lang);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) progress(e.loaded / e.total); };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (_) { body = null; }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body);
      const error = new Error((body && body.detail) || xhr.statusText);
      error.problems = (body && body.problems) || [];
      reject(error);
    };
    xhr.onerror = () => reject(new Error(T("the upload was interrupted")));
    xhr.send(data);
  });
}
onSubmit(document.getElementById("upload-form"), async () => {
  const files = document.getElementById("upload-files").files;
  showProblems("upload-problems", null); doneIn("upload-done", "");
  if (!files.length) { showProblems("upload-problems", new Error(T("choose a zip or the package's files"))); return; }
  const data = new FormData();
  for (const f of files) data.append("files", f, f.webkitRelativePath ? f.webkitRelativePath.split("/").slice(1).join("/") || f.name : f.name);
  const bar = document.getElementById("upload-progress");
  bar.hidden = false;
  const fill = bar.querySelector(".fill");
  const url = current() ? `/api/regions/${current()}/uploads` : "/api/regions/uploads";
  try {
    const region = await send(url, data, (share) => { fill.style.width = `${Math.round(100 * share)}%`; });
    doneIn("upload-done", T("{name}: checked and stored; years {years}", {name: regionName(region), years: region.years.join(", ")}));
    await loadRegions(region.id);
  } catch (ex) { showProblems("upload-problems", ex); }
  bar.hidden = true; fill.style.width = "0%";
});
// -- 2. the statistics template ------------------------------------------------------------------------------
document.getElementById("template-year").addEventListener("input", templateLink);
onSubmit(document.getElementById("template-form"), async () => {
  showProblems("template-problems", null); doneIn("template-done", "");
  const list = document.getElementById("template-missing");
  list.hidden = true;
  const data = new FormData();
  data.append("year", document.getElementById("template-year").value);
  data.append("file", document.getElementById("template-file").files[0]);
  try {
    const r = await api(`/api/regions/${current()}/statistics`, {method: "POST", body: data});
    doneIn("template-done", T("{added} new figure(s) added, {unchanged} already there", {added: r.added, unchanged: r.unchanged}));
    list.replaceChildren(...r.missing.map((m) => el("li", {"data-indicator": m.indicator},
      T("{indicator} will not be accounted: no figure for {items}", {indicator: window.GEP.lang === "zh" ? m.name_zh : m.name_en, items: m.items}))));
    list.hidden = !r.missing.length;
  } catch (ex) { showProblems("template-problems", ex); }
});
// -- 3. parameters and overrides -----------------------------------------------------------------------------
let params = [];
const valueText = (v) => (v && typeof v === "object" ? Object.entries(v).map(([k, x]) => `${k}=${x}`).join("; ") : String(v));
async function loadParameters() {
  const data = await api(`/api/regions/${current()}/parameters`);
  params = data.parameters;
  const pick = document.getElementById("override-parameter");
  pick.replaceChildren(...params.filter((p) => typeof p.value === "number").map((p) => el("option", {value: p.id}, p.id)));
  pick.onchange = fillOverride;
  fillOverride();
  const body = document.querySelector("#parameters tbody");
  body.replaceChildren(...params.map((p) => {
    const o = p.override;
    const cell = el("td", {class: "actions"});
    if (o && window.GEP.can_import) {
      const b = el("button", {type: "button", class: "secondary", "data-remove": p.id}, T("Remove"));
      b.addEventListener("click", async () => {
        b.disabled = true;  // one removal, however often it is clicked
        try { await api(`/api/regions/${current()}/parameters/${p.id}`, {method: "DELETE"}); loadParameters(); }
        catch (ex) { failIn("override-error", ex); b.disabled = false; }
      });
      cell.append(b);
    }
    return el("tr", {id: `param-${p.id}`, class: o ? "overridden" : ""},
      el("td", {}, p.id), el("td", {class: typeof p.value === "number" ? "n" : "table-value"}, valueText(p.value)), el("td", {}, p.unit),
      el("td", {class: "source"}, p.source),
      el("td", {}, o ? el("span", {}, el("strong", {}, valueText(o.value), " ", o.unit, o.year ? ` (${o.year})` : ""), el("div", {class: "muted"}, o.source)) : "—"),
      cell);
  }));
  labelCells(document.getElementById("parameters"));
}
function fillOverride() {
  const p = params.find((x) => x.id === document.getElementById("override-parameter").value);
  if (!p) return;
  document.getElementById("override-unit").value = p.override ? p.override.unit : p.unit;
  document.getElementById("override-value").value = p.override ? p.override.value : p.value;
  document.getElementById("override-year").value = (p.override ? p.override.year : p.year) || "";
  document.getElementById("override-source").value = p.override ? p.override.source : "";
}
onSubmit(document.getElementById("override-form"), async () => {
  failIn("override-error", null);
  const id = document.getElementById("override-parameter").value;
  const year = document.getElementById("override-year").value;
  const body = {value: Number(document.getElementById("override-value").value), unit: document.getElementById("override-unit").value,
                source: document.getElementById("override-source").value};
  if (year) body.year = Number(year);
  try { await api(`/api/regions/${current()}/parameters/${id}`, {method: "PUT", body}); await loadParameters(); }
  catch (ex) { failIn("override-error", ex); }
});
select.addEventListener("change", onRegion);
if (!window.GEP.can_import) for (const id of ["upload-card", "template-form", "override-form"]) document.getElementById(id).hidden = true;
loadRegions();
