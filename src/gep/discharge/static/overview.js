// The bureau's overview: enterprises by the share of quota used, reserves by county, quota on the exchange, checks.
"use strict";
let year = yearPicker((y) => { year = y; load().catch((ex) => fail("o-error", ex)); });
async function load() {
  const o = await api(`/api/discharge/overview?year=${year}`);
  const [warn, over] = o.thresholds;
  document.getElementById("o-kpis").replaceChildren(
    el("div", {class: "kpi"}, el("div", {class: "k"}, T("Enterprises")), el("div", {class: "v"}, o.enterprises.length)),
    el("div", {class: "kpi"}, el("div", {class: "k"}, T("At {pct} % or more", {pct: warn})), el("div", {class: "v"}, o.over[warn] || 0)),
    el("div", {class: "kpi"}, el("div", {class: "k"}, T("Over the quota")), el("div", {class: "v"}, o.over[over] || 0)),
    el("div", {class: "kpi"}, el("div", {class: "k"}, T("Fee bills due (yuan)")), el("div", {class: "v"}, yuanText(o.bills_due.amount_fen / 100))),
    el("div", {class: "kpi"}, el("div", {class: "k"}, T("Fees paid (yuan)")), el("div", {class: "v"}, yuanText(o.fees_paid_fen / 100))));
  const body = document.querySelector("#enterprises tbody");
  const county = (c) => o.county_names[c] || c;
  body.replaceChildren(...o.enterprises.map((e) => el("tr", {}, el("td", {}, el("a", {href: `/discharge/enterprises/${e.id}`}, e.name), " ", synthetic(e)), el("td", {}, county(e.county_code)), el("td", {}, e.industry),
    el("td", {class: "chips"}, ...Object.entries(e.pollutants).map(([code, p]) => el("span", {class: "chip", title: `${t3(p.used_t)} / ${t3(p.held_t)} t`}, short(code), " ", bar(p.used_pct), p.used_pct === null ? "—" : `${p.used_pct}%`))),
    el("td", {class: "n"}, e.worst_pct === null ? "—" : `${e.worst_pct}%`))));
  labelCells(document.getElementById("enterprises"));
  const codes = Object.keys(window.GEP.pollutants);
  const head = document.querySelector("#reserves thead tr");
  head.replaceChildren(el("th", {}, T("Reserve")), ...codes.map((c) => el("th", {class: "n"}, polName(c))));
  document.querySelector("#reserves tbody").replaceChildren(...o.reserves.map((r) => el("tr", {}, el("td", {}, county(r.county_code)), ...codes.map((c) => el("td", {class: "n"}, `${t3(r[c].reserve_t)} / ${t3(r[c].cap_t)}`)))));
  labelCells(document.getElementById("reserves"));
  document.querySelector("#offers tbody").replaceChildren(...o.offers.map((x) => el("tr", {}, el("td", {}, x.listing || T("waiting for its listing")), el("td", {}, polName(x.pollutant)), el("td", {}, x.years),
    el("td", {class: "n"}, x.kg_per_year.toLocaleString()), el("td", {class: "n"}, x.sold_kg === null ? "—" : x.sold_kg.toLocaleString()))));
  labelCells(document.getElementById("offers"));
  document.getElementById("checks").replaceChildren(...o.checks.map((c) => el("li", {}, el("span", {class: `badge ${c.allowed ? "allowed" : "blocked"}`}, c.allowed ? T("may go ahead") : T("refused: reserve short")), " ", c.project, ` (${county(c.county_code)}, ${c.year})`)));
  if (!o.checks.length) document.getElementById("checks").append(el("li", {class: "muted"}, T("No project checked yet.")));
}
let formsReady = false;
const done = (text) => { const e = document.getElementById("o-done"); e.textContent = text; e.hidden = !text; };
const v = (id) => document.getElementById(id).value;
function forms(o) {
  if (formsReady || !window.GEP.can_manage) return;
  formsReady = true;
  for (const sel of document.querySelectorAll("select.pollutants")) for (const code of Object.keys(window.GEP.pollutants)) sel.append(el("option", {value: code}, polName(code)));
  for (const r of o.reserves) {
    document.getElementById("a-county").append(el("option", {value: r.county_code}, o.county_names[r.county_code] || r.county_code));
    if (r.county_code !== "city") document.getElementById("k-county").append(el("option", {value: r.county_code}, o.county_names[r.county_code] || r.county_code));
  }
  api("/api/organisations").then((orgs) => {
    const known = new Set(o.enterprises.map((e) => e.organisation_id));
    document.getElementById("e-org").append(...orgs.filter((x) => x.kind === "enterprise").map((x) => el("option", {value: x.id}, known.has(x.id) ? `${x.name} ✓` : x.name)));
  }).catch(() => {});
  for (const r of o.reserves) if (r.county_code !== "city") document.getElementById("e-county").append(el("option", {value: r.county_code}, o.county_names[r.county_code] || r.county_code));
  document.getElementById("e-lines").append(...Object.keys(window.GEP.pollutants).map((code) => el("label", {}, T("{pollutant} (t a year)", {pollutant: polName(code)}), el("input", {id: `e-t-${code}`, inputmode: "decimal"}))));
  document.getElementById("e-start").value = year;
  onSubmit(document.getElementById("permit"), async (ev) => {
    ev.preventDefault(); fail("o-error"); done("");
    const org = Number(v("e-org"));
    const lines = Object.keys(window.GEP.pollutants).filter((code) => v(`e-t-${code}`).trim()).map((code) => ({pollutant: code, tonnes_per_year: v(`e-t-${code}`).trim()}));
    try {
      const current = await api(`/api/discharge/overview?year=${year}`);
      let enterprise = current.enterprises.find((e) => e.organisation_id === org);
      if (!enterprise) {
        const name = document.getElementById("e-org").selectedOptions[0].textContent.replace(/ ✓$/, "");
        enterprise = await api("/api/discharge/enterprises", {method: "POST", body: {organisation_id: org, name, credit_code: v("e-code").trim(), county_code: v("e-county"), industry: v("e-industry")}});
      }
      const p = await api("/api/discharge/permits", {method: "POST", body: {enterprise_id: enterprise.id, start_year: Number(v("e-start")), years: Number(v("e-years")), lines}});
      done(T("Permit {number} is issued", {number: p.number})); await load();
    } catch (ex) { fail("o-error", ex); }
  });
  document.getElementById("a-first").value = year; document.getElementById("a-last").value = year + 4; document.getElementById("k-year").value = year;
  onSubmit(document.getElementById("auction"), async (ev) => {
    ev.preventDefault(); fail("o-error"); done("");
    try {
      await api("/api/discharge/offers", {method: "POST", body: {pollutant: v("a-pollutant"), first_year: Number(v("a-first")), last_year: Number(v("a-last")), kg_per_year: Number(v("a-kg")), county_code: v("a-county")}});
      done(T("The quota is set aside; the draft listing appears under My trades in a moment")); await load();
    } catch (ex) { fail("o-error", ex); }
  });
  onSubmit(document.getElementById("check"), async (ev) => {
    ev.preventDefault(); fail("o-error"); done("");
    try {
      const r = await api("/api/discharge/project-checks", {method: "POST", body: {project_name: v("k-name"), county_code: v("k-county"), year: Number(v("k-year")), needs: {[v("k-pollutant")]: v("k-t")}}});
      done(r.allowed ? T("may go ahead") : T("refused: reserve short")); await load();
    } catch (ex) { fail("o-error", ex); }
  });
}
load().then(() => api(`/api/discharge/overview?year=${year}`)).then(forms).catch((ex) => fail("o-error", ex));
