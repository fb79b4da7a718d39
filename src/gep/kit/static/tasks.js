// Background tasks for administrators: counts by state, the list of one state, retry a dead one, its traceback.
"use strict";
async function loadTasks() {
  const status = document.getElementById("task-status").value;
  const [counts, tasks] = await Promise.all([api("/api/tasks/counts"), api(`/api/tasks?status=${status}`)]);
  document.getElementById("task-counts").replaceChildren(...Object.entries(counts).map(([k, v]) => el("span", {class: "chip"}, `${T(k)}: ${v}`)));
  const body = document.querySelector("#tasks tbody");
  if (!tasks.length) { body.replaceChildren(el("tr", {}, el("td", {colspan: 7, class: "muted"}, T("No tasks in this state.")))); return; }
  body.replaceChildren(...tasks.map((t) => {
    const actions = el("td");
    if (t.status === "dead" || t.status === "cancelled") {
      const b = el("button", {type: "button", class: "secondary"}, T("Retry"));
      b.addEventListener("click", async () => { await api(`/api/tasks/${t.id}/retry`, {method: "POST"}); loadTasks(); });
      actions.append(b);
    }
    const err = el("td", {class: "error"}, t.last_error || "");
    if (t.traceback) { err.style.cursor = "pointer"; err.addEventListener("click", () => { const p = document.getElementById("task-trace"); p.textContent = t.traceback; p.hidden = false; }); }
    return el("tr", {"data-id": t.id}, el("td", {}, t.id), el("td", {}, t.kind), el("td", {class: "status " + t.status}, T(t.status)),
      el("td", {class: "n"}, `${t.attempts}/${t.max_attempts}`), el("td", {}, when(t.due_at)), err, actions);
  }));
}
document.getElementById("task-status").addEventListener("change", loadTasks);
loadTasks();
