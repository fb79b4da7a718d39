// The pilot's tasks: overdue ones highlighted; the owner department (or the office) moves a task along.
"use strict";
const CFG = window.GEP;
const ZH = CFG.lang === "zh";
const STATUS = {open: N_("not started"), in_progress: N_("in progress"), done: N_("done")};
const NEXT = {open: ["in_progress", "done"], in_progress: ["done", "open"], done: ["in_progress"]};
let DEPS = {};
async function load() {
  const rows = await api("/api/assessment/tasks");
  const pick = document.getElementById("k-dep").value;
  const shown = rows.filter((t) => !pick || t.department === pick);
  document.getElementById("k-kpis").replaceChildren(kpiBox(T("Tasks"), shown.length), kpiBox(T("done"), shown.filter((t) => t.status === "done").length),
    kpiBox(T("Overdue"), shown.filter((t) => t.overdue).length));
  document.querySelector("#k-tasks tbody").replaceChildren(...shown.map((t) => {
    const mine = CFG.can_manage || t.department === CFG.department;
    const moves = mine ? (NEXT[t.status] || []).filter((s) => CFG.can_manage || t.status !== "done").map((s) => {
      const b = el("button", {type: "button", class: "secondary", "data-to": s}, T(STATUS[s]));
      b.addEventListener("click", async () => {
        failIn("k-error", null);
        const note = t.status === "done" ? window.prompt(T("Why is it reopened?")) || "" : "";
        try { await api(`/api/assessment/tasks/${t.id}/status`, {method: "POST", body: {status: s, note}}); doneIn("k-done", T("Task updated.")); await load(); }
        catch (ex) { failIn("k-error", ex); }
      });
      return b;
    }) : [];
    const dep = DEPS[t.department];
    return el("tr", {class: t.overdue ? "fell" : ""}, el("td", {}, t.title, " ", syntheticBadge(t)), el("td", {}, dep ? (ZH ? dep.name_zh : dep.name_en) : t.department),
      el("td", {}, t.deadline, t.overdue ? el("strong", {}, " · " + T("overdue")) : "", t.late ? el("span", {class: "muted"}, " · " + T("done late")) : ""),
      el("td", {}, T(STATUS[t.status]), t.done_on ? ` ${t.done_on}` : ""), el("td", {class: "row"}, ...moves));
  }));
  labelCells(document.getElementById("k-tasks"));
}
async function init() {
  const deps = await api("/api/assessment/departments");
  DEPS = Object.fromEntries(deps.map((d) => [d.code, d]));
  const opts = () => deps.map((d) => el("option", {value: d.code}, ZH ? d.name_zh : d.name_en));
  document.getElementById("k-dep").append(...opts());
  document.getElementById("k-dep").addEventListener("change", () => load());
  const form = document.getElementById("k-new");
  if (form) {
    document.getElementById("k-owner").replaceChildren(...opts());
    onSubmit(form, async () => {
      failIn("k-error", null);
      try {
        await api("/api/assessment/tasks", {method: "POST", body: {title: document.getElementById("k-title").value.trim(), department: document.getElementById("k-owner").value, deadline: document.getElementById("k-deadline").value}});
        form.reset(); doneIn("k-done", T("Task set.")); await load();
      } catch (ex) { failIn("k-error", ex); }
    });
  }
  await load();
}
init().catch((ex) => failIn("k-error", ex));
