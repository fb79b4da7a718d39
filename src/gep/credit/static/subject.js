// A subject's credit: the grade and why (dimensions, events in force, vetoes, the next expiry), the score's
// history, every event with its status, and objections (the subject's own page lets them object).
"use strict";
const SID = window.GEP.subject_id;
let objecting = null;
async function load() {
  const c = await api(SID ? `/api/credit/subjects/${SID}` : "/api/credit/me");
  const s = c.standing;
  document.getElementById("c-title").replaceChildren(SID ? c.subject.name : T("My ecological credit"), " ", synthetic(c.subject));
  const g = document.getElementById("c-grade");
  g.textContent = s.grade; g.className = `grade-badge g-${s.grade}`;
  document.getElementById("c-score").textContent = T("score {score} (base {base})", {score: s.score, base: s.base});
  const veto = document.getElementById("c-veto");
  veto.hidden = !s.vetoed;
  veto.textContent = s.vetoed ? T("A one-vote veto is in force: the grade is D whatever the score, until {until}.", {until: s.vetoes.map((v) => v.expires_on).sort().slice(-1)[0]}) : "";
  document.getElementById("c-meta").textContent = T("{name} · {kind} · catalogue {version} · as of {on}", {name: c.subject.name, kind: kindName(c.subject.kind), version: s.version, on: s.on});
  document.getElementById("c-repair").textContent = s.next_negative_expiry
    ? T("To repair: object to an event that is wrong, or wait: the next negative event stops counting on {date}.", {date: s.next_negative_expiry})
    : T("No negative event counts against this subject.");
  const dims = document.querySelector("#dims tbody");
  dims.replaceChildren(...s.dimensions.filter((d) => d.raw).map((d) => el("tr", {},
    el("td", {}, d.list === "positive" ? T("positive") : T("negative")), el("td", {}, nameOf(d)),
    el("td", {class: "n"}, d.list === "positive" ? `+${d.raw}` : `−${d.raw}`), el("td", {class: "n"}, d.cap),
    el("td", {class: "n"}, points(d.list === "positive" ? d.counted : -d.counted), d.capped ? el("span", {class: "muted"}, ` (${T("capped")})`) : ""))));
  if (!dims.children.length) dims.append(el("tr", {}, el("td", {colspan: 5, class: "muted"}, T("Nothing counts yet: the score is the base."))));
  labelCells(document.getElementById("dims"));
  const live = document.querySelector("#live tbody");
  live.replaceChildren(...s.events.map((e) => el("tr", {}, el("td", {}, `${e.indicator} ${nameOf(e)}`, e.veto ? el("strong", {class: "neg"}, ` ${T("veto")}`) : ""),
    el("td", {}, e.occurred_on), el("td", {class: "n"}, points(e.points)), el("td", {}, e.expires_on))));
  labelCells(document.getElementById("live"));
  const hist = c.history;
  Plotly.react("c-chart", [{x: hist.map((h) => h.at), y: hist.map((h) => h.score), mode: "lines+markers", line: {shape: "hv"}, name: T("score")}],
    {margin: {t: 10, r: 10, b: 40, l: 45}, yaxis: {title: {text: T("score")}}, font: chartFont(), showlegend: false}, {displayModeBar: false, responsive: true});
  document.getElementById("history").replaceChildren(...hist.slice().reverse().slice(0, 20).map((h) => el("li", {},
    `${when(h.at)}: ${h.before === null ? "" : h.before + " → "}${h.score} (${h.grade}) · ${causeName(h.cause)}${h.event_id ? " #" + h.event_id : ""}`)));
  const events = document.querySelector("#events tbody");
  const open = new Set(c.objections.filter((o) => o.state === "open").map((o) => o.event_id));
  events.replaceChildren(...c.events.map((e) => {
    let act = "";
    if (!SID && (e.state === "accepted" || e.state === "pending") && !open.has(e.id)) {
      act = el("button", {type: "button", class: "small secondary"}, T("object"));
      act.addEventListener("click", () => startObjection(e));
    }
    return el("tr", {id: `event-${e.id}`}, el("td", {}, `${e.indicator} ${nameOf(e)}`), el("td", {}, e.occurred_on),
      el("td", {class: "n"}, points(e.points)), el("td", {}, e.evidence || "—"), el("td", {}, sourceName(e.source)),
      el("td", {}, stateName(e.state), e.reason ? el("div", {class: "muted"}, e.reason) : "", synthetic(e)), el("td", {}, act));
  }));
  if (!c.events.length) events.append(el("tr", {}, el("td", {colspan: 7, class: "muted"}, T("No event on record."))));
  labelCells(document.getElementById("events"));
  document.getElementById("objections").replaceChildren(...c.objections.map((o) => el("li", {},
    T("Objection to event {event} ({state}): {reason}", {event: o.event_id, state: T(OBJECTION_STATES[o.state] || o.state), reason: o.reason}), o.decision ? el("div", {class: "muted"}, o.decision) : "")));
  if (!c.objections.length) document.getElementById("objections").append(el("li", {class: "muted"}, T("No objection.")));
}
function startObjection(e) {
  objecting = e;
  const form = document.getElementById("objection");
  document.getElementById("o-title").textContent = T("Object to event {id}: {name} ({date})", {id: e.id, name: nameOf(e), date: e.occurred_on});
  form.hidden = false; document.getElementById("o-reason").focus();
}
document.getElementById("o-cancel").addEventListener("click", () => { objecting = null; document.getElementById("objection").hidden = true; });
onSubmit(document.getElementById("objection"), async () => {
  fail("c-error"); done("c-done");
  try {
    await api(`/api/credit/events/${objecting.id}/objections`, {method: "POST", body: {reason: document.getElementById("o-reason").value}});
    document.getElementById("objection").hidden = true; document.getElementById("o-reason").value = "";
    done("c-done", T("Objection sent: the credit office will decide."));
    await load();
  } catch (ex) { fail("c-error", ex); }
});
load().catch((ex) => fail("c-error", ex));
