// User administration: list, create, change role or organisation, deactivate and reactivate.
"use strict";
const ROLES = window.GEP.roles || {};
let orgs = [];
function roleSelect(value) {
  const s = el("select", {});
  for (const [id, label] of Object.entries(ROLES)) s.append(el("option", {value: id}, T(label)));
  s.value = value; return s;
}
async function loadUsers() {
  const [users, organisations] = await Promise.all([api("/api/users"), api("/api/organisations")]);
  orgs = organisations;
  const orgName = (id) => (orgs.find((o) => o.id === id) || {name: "—"}).name;
  const err = document.getElementById("users-error");
  document.querySelector("#users tbody").replaceChildren(...users.map((u) => {
    const role = roleSelect(u.role);
    role.addEventListener("change", () => change(u.id, {role: role.value}));
    const toggle = el("button", {type: "button", class: u.is_active ? "secondary" : ""}, u.is_active ? T("Deactivate") : T("Reactivate"));
    toggle.addEventListener("click", () => change(u.id, {is_active: !u.is_active}));
    return el("tr", {"data-user": u.username}, el("td", {}, u.id), el("td", {}, u.username), el("td", {}, u.display_name),
      el("td", {}, role), el("td", {}, orgName(u.organisation_id)), el("td", {class: u.is_active ? "ok" : "muted"}, u.is_active ? T("active") : T("inactive")), el("td", {}, toggle));
  }));
  async function change(id, body) {
    err.hidden = true;
    try { await api(`/api/users/${id}`, {method: "PATCH", body}); } catch (ex) { err.textContent = ex.message; err.hidden = false; }
    loadUsers();
  }
  const sel = document.getElementById("new-role");
  if (!sel.options.length) for (const [id, label] of Object.entries(ROLES)) sel.append(el("option", {value: id}, T(label)));
  const orgSel = document.getElementById("new-org");
  orgSel.replaceChildren(el("option", {value: ""}, "—"), ...orgs.map((o) => el("option", {value: o.id}, o.name)));
}
document.getElementById("user-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const out = document.getElementById("user-result");
  const org = document.getElementById("new-org").value;
  try {
    await api("/api/users", {method: "POST", body: {username: document.getElementById("new-username").value,
      display_name: document.getElementById("new-display").value, role: document.getElementById("new-role").value,
      organisation_id: org ? Number(org) : null, password: document.getElementById("new-password").value}});
    out.className = "ok"; out.textContent = T("User created."); e.target.reset(); loadUsers();
  } catch (ex) { out.className = "error"; out.textContent = ex.message; }
});
loadUsers();
