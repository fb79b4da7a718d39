// The credit office: the review queue (accept, reject with a reason), objections (uphold, dismiss), recording an
// event and importing a file, recounts, the grade distribution by county on a map, and finding a subject.
"use strict";
let CATALOGUE = null;
let FOUND = {};
async function loadQueue() {
  if (!window.GEP.can_review) return;
  const text = document.getElementById("q-text").value.trim();
  const q = await api(`/api/credit/queue${text ? "?q=" + encodeURIComponent(text) : ""}`);
  document.getElementById("q-total").textContent = T("({n} waiting)", {n: q.total});
  const body = document.querySelector("#queue tbody");
  body.replaceChildren(...q.events.map((e) => {
    const reason = el("input", {class: "reason", maxlength: "200", placeholder: T("reason (to reject)"), "aria-label": T("reason (to reject)")});
    const ok = el("button", {type: "button", class: "small"}, T("accept"));
    const no = el("button", {type: "button", class: "small secondary"}, T("reject"));
    const act = (accept) => async () => {
      ok.disabled = no.disabled = true; fail("f-error"); done("f-done");
      try {
        const r = await api(`/api/credit/events/${e.id}/review`, {method: "POST", body: {accept, reason: reason.value}});
        done("f-done", accept ? T("Event {id} counts: {name} is now {grade} ({score}).", {id: e.id, name: e.subject.name, grade: r.standing.grade, score: r.standing.score}) : T("Event {id} rejected.", {id: e.id}));
        await Promise.all([loadQueue(), loadDistribution()]);
      } catch (ex) { ok.disabled = no.disabled = false; fail("f-error", ex); }
    };
    ok.addEventListener("click", act(true)); no.addEventListener("click", act(false));
    return el("tr", {id: `q-${e.id}`}, el("td", {}, el("a", {href: `/credit/subjects/${e.subject.id}`}, e.subject.name), " ", synthetic(e.subject)),
      el("td", {}, `${e.indicator} ${nameOf(e)}`, e.veto ? el("strong", {class: "neg"}, ` ${T("veto")}`) : ""), el("td", {}, e.occurred_on),
      el("td", {class: "n"}, points(e.points)), el("td", {}, e.evidence || "—"), el("td", {}, sourceName(e.source)),
      el("td", {}, el("div", {class: "row"}, ok, reason, no)));
  }));
  if (!q.events.length) body.append(el("tr", {}, el("td", {colspan: 7, class: "muted"}, T("Nothing waits for review."))));
  labelCells(document.getElementById("queue"));
  const list = document.getElementById("objections");
  list.replaceChildren(...q.objections.map((o) => {
    const text = el("input", {class: "reason", maxlength: "400", placeholder: T("decision and its reason"), "aria-label": T("decision and its reason")});
    const up = el("button", {type: "button", class: "small"}, T("uphold (withdraw the event)"));
    const dis = el("button", {type: "button", class: "small secondary"}, T("dismiss"));
    const act = (uphold) => async () => {
      up.disabled = dis.disabled = true; fail("f-error");
      try { await api(`/api/credit/objections/${o.id}/decide`, {method: "POST", body: {uphold, decision: text.value}}); await loadQueue(); }
      catch (ex) { up.disabled = dis.disabled = false; fail("f-error", ex); }
    };
    up.addEventListener("click", act(true)); dis.addEventListener("click", act(false));
    return el("li", {}, T("Event {id} ({name}, {date}): {reason}", {id: o.event.id, name: nameOf(o.event), date: o.event.occurred_on, reason: o.reason}), el("div", {class: "row"}, text, up, dis));
  }));
  if (!q.objections.length) list.append(el("li", {class: "muted"}, T("No objection is open.")));
}
let MAP = null, LAYER = null;
async function loadDistribution() {
  const d = await api("/api/credit/distribution");
  const rows = d.map.features.map((f) => f.properties);
  let total = 0;
  document.querySelector("#dist tbody").replaceChildren(...rows.map((z) => {
    total += z.subjects || 0;
    return el("tr", {}, el("td", {}, z.name), el("td", {class: "n"}, z.subjects || 0), el("td", {class: "n"}, z.mean_score ?? "—"),
      el("td", {}, d.grades.filter((g) => z.grades && z.grades[g]).map((g) => `${g} ${z.grades[g]}`).join(" · ") || "—"));
  }));
  labelCells(document.getElementById("dist"));
  const counts = await api("/api/credit/catalogue");
  document.getElementById("o-version").textContent = T("catalogue {version}", {version: counts.version});
  document.getElementById("kpis").replaceChildren(kpi(T("subjects rated"), total.toLocaleString()),
    kpi(T("indicators"), counts.indicators.length), kpi(T("grades"), d.grades.join(" ")));
  if (!MAP) { MAP = L.map("d-map", {attributionControl: false, zoomSnap: 0.5}); }
  if (LAYER) LAYER.remove();
  const colour = (s) => (s === null || s === undefined ? "#ddd" : s > 0.6 ? "#1e6b37" : s > 0.45 ? "#3f8f5a" : s > 0.3 ? "#8fbf7a" : s > 0.15 ? "#e0c35a" : "#d9822b");
  LAYER = L.geoJSON(d.map, {style: (f) => ({color: "#35533f", weight: 1, fillColor: colour(f.properties.share_a_or_better), fillOpacity: 0.75}),
    onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties.name}: ${f.properties.share_a_or_better === undefined ? "—" : Math.round(100 * f.properties.share_a_or_better) + "%"} ${T("A or better")}`)}).addTo(MAP);
  if (d.map.features.length) MAP.fitBounds(LAYER.getBounds());
  const sel = document.getElementById("rc-county");
  if (sel && sel.options.length === 1) for (const z of rows) sel.append(el("option", {value: z.code}, z.name));
}
async function setUpRecord() {
  const form = document.getElementById("record");
  if (!form) return;
  CATALOGUE = await api("/api/credit/catalogue");
  const sel = document.getElementById("r-indicator");
  for (const i of CATALOGUE.indicators) sel.append(el("option", {value: i.code}, `${i.code} ${nameOf(i)}`));
  const rule = () => {
    const i = CATALOGUE.indicators.find((x) => x.code === sel.value);
    document.getElementById("r-rule").textContent = T("{list}, {points}; counts for {days} days{evidence}{veto}", {
      list: i.list === "positive" ? T("positive") : T("negative"), points: i.rule, days: i.validity_days,
      evidence: i.evidence_required ? T("; evidence required") : "", veto: i.veto ? T("; one-vote veto") : ""});
    document.getElementById("r-qty-label").hidden = !(i.needs_quantity || i.levels.length);
    document.getElementById("r-qty").placeholder = i.levels.length ? i.levels.join(" / ") : (i.needs_quantity ? T("a number") : "");
  };
  sel.addEventListener("change", rule); rule();
  document.getElementById("r-date").value = new Date().toISOString().slice(0, 10);
  const find = document.getElementById("r-find");
  find.addEventListener("input", async () => {
    if (find.value.length < 1 || FOUND[find.value]) return;  // a choice from the list is not a new search
    const rows = await api(`/api/credit/subjects?q=${encodeURIComponent(find.value)}`).catch(() => []);
    for (const r of rows) FOUND[`${r.name} · ${r.code}`] = r;
    document.getElementById("r-subjects").replaceChildren(...rows.map((r) => el("option", {value: `${r.name} · ${r.code}`})));
  });
  onSubmit(form, async () => {
    fail("f-error"); done("f-done");
    const subject = FOUND[find.value];
    if (!subject) { fail("f-error", new Error(T("choose a subject from the list"))); return; }
    const v = (id) => document.getElementById(id).value;
    try {
      const r = await api("/api/credit/events", {method: "POST", body: {subject_id: subject.id, indicator: v("r-indicator"), occurred_on: v("r-date"), quantity: v("r-qty"), evidence: v("r-evidence"), note: v("r-note")}});
      done("f-done", T("Event {id} recorded for {name}: {points} points, pending review.", {id: r.id, name: subject.name, points: r.points}));
      await loadQueue();
    } catch (ex) { fail("f-error", ex); }
  });
  onSubmit(document.getElementById("upload"), async () => {
    fail("f-error"); done("f-done");
    const problems = document.getElementById("u-problems"); problems.replaceChildren();
    const body = new FormData(); body.append("file", document.getElementById("file").files[0]);
    try {
      const r = await api("/api/credit/events/import", {method: "POST", body});
      done("f-done", T("{recorded} events recorded (pending review), {skipped} recorded before", {recorded: r.recorded, skipped: r.skipped}));
      await loadQueue();
    } catch (ex) { fail("f-error", ex); problems.replaceChildren(...(ex.problems || []).map((p) => el("li", {}, `${p.where}: ${p.message}`))); }
  });
  const recount = document.getElementById("recount");
  if (recount) onSubmit(recount, async () => {
    fail("f-error"); done("f-done");
    try {
      const r = await api("/api/credit/recount", {method: "POST", body: {county_code: document.getElementById("rc-county").value || null}});
      done("f-done", T("{subjects} subjects and {events} events recounted in {seconds} s; {changed} scores changed.", r));
      await loadDistribution();
    } catch (ex) { fail("f-error", ex); }
  });
}
onSubmit(document.getElementById("find"), async () => {
  const rows = await api(`/api/credit/subjects?q=${encodeURIComponent(document.getElementById("f-q").value)}`).catch((ex) => { fail("f-error", ex); return []; });
  document.getElementById("found").replaceChildren(...rows.map((r) => el("li", {}, el("a", {href: `/credit/subjects/${r.id}`}, r.name), ` · ${kindName(r.kind)} · ${r.code} · `, el("span", {class: "grade"}, r.grade || "—"), " ", synthetic(r))));
  if (!rows.length) document.getElementById("found").append(el("li", {class: "muted"}, T("No subject found.")));
});
const queueFilter = document.getElementById("q-find");
if (queueFilter) onSubmit(queueFilter, () => loadQueue().catch((ex) => fail("f-error", ex)));
Promise.all([loadQueue(), loadDistribution(), setUpRecord()]).catch((ex) => fail("f-error", ex));
