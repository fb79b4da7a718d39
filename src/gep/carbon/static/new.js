// Register a carbon project: its stands as "parcel code, species group" lines (the species of the methodology).
"use strict";
const byId = (id) => document.getElementById(id);
for (const [k, v] of Object.entries(window.GEP.types)) byId("p-type").append(el("option", {value: k}, T(v)));
for (const r of window.GEP.regions) byId("p-region").append(el("option", {value: r.id}, r.name));
for (const m of window.GEP.methods) byId("p-method").append(el("option", {value: m.id}, window.GEP.lang === "zh" ? m.name_zh : m.name_en));
function species() {
  const m = window.GEP.methods.find((x) => x.id === byId("p-method").value);
  byId("p-species").textContent = T("Species groups: {list}", {list: Object.entries(m ? m.species : {}).map(([k, v]) => `${k} (${window.GEP.lang === "zh" ? v.zh : v.en})`).join(", ")});
}
byId("p-method").addEventListener("change", species);
species();
byId("new").addEventListener("submit", (ev) => { ev.preventDefault(); once(byId("new"), create); });
async function create() {
  fail("n-error");
  const stands = byId("p-stands").value.split(/\n/).map((l) => l.trim()).filter(Boolean).map((l) => {
    const [parcel, sp] = l.split(/[,，\t]/).map((x) => (x || "").trim());
    return {parcel_code: parcel, species: sp || ""};
  });
  try {
    const p = await api("/api/carbon/projects", {method: "POST", body: {name: byId("p-name").value, type: byId("p-type").value, methodology: byId("p-method").value,
      region_id: Number(byId("p-region").value), start: byId("p-start").value, stands}});
    window.location.href = `/carbon/projects/${p.id}`;
  } catch (ex) { fail("n-error", ex); }
}
