// Publishing accounting runs on the public portal, and withdrawing them (with a reason).
"use strict";
async function load() {
  const runs = await api("/api/assessment/publications");
  document.querySelector("#runs tbody").replaceChildren(...runs.map((r) => {
    const act = el("button", {type: "button", class: r.published_at ? "secondary" : "", "data-run": r.run_id}, r.published_at ? T("Withdraw") : T("Publish"));
    act.addEventListener("click", async () => {
      failIn("r-error", null); doneIn("r-done", "");
      try {
        if (r.published_at) {
          const reason = window.prompt(T("Why is it withdrawn?"));
          if (!reason) return;
          await api(`/api/assessment/publications/${r.run_id}/withdraw`, {method: "POST", body: {reason}});
          doneIn("r-done", T("Withdrawn: {year} is no longer public.", {year: r.year}));
        } else {
          await api("/api/assessment/publications", {method: "POST", body: {run_id: r.run_id}});
          doneIn("r-done", T("Published: {year} is on the public portal.", {year: r.year}));
        }
        await load();
      } catch (ex) { failIn("r-error", ex); }
    });
    return el("tr", {}, el("td", {}, r.region), el("td", {}, r.year), el("td", {class: "n"}, yi(r.gep_yuan || 0)), el("td", {}, r.method),
      el("td", {}, r.published_at ? el("span", {class: "badge published"}, T("published") + " " + when(r.published_at)) : el("span", {class: "badge draft"}, T("not published"))),
      el("td", {}, act));
  }));
  labelCells(document.getElementById("runs"));
}
load().catch((ex) => failIn("r-error", ex));
