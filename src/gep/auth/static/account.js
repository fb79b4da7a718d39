// My account: change the password, list and revoke API tokens.
"use strict";
async function loadTokens() {
  const tokens = await api("/api/auth/tokens");
  document.querySelector("#tokens tbody").replaceChildren(...tokens.map((t) => {
    const cell = el("td");
    if (!t.revoked) {
      const b = el("button", {type: "button", class: "secondary"}, T("Revoke"));
      b.addEventListener("click", async () => { await api(`/api/auth/tokens/${t.id}`, {method: "DELETE"}); loadTokens(); });
      cell.append(b);
    }
    return el("tr", {}, el("td", {}, t.id), el("td", {}, t.name || "—"), el("td", {}, when(t.created_at)),
      el("td", {}, when(t.expires_at)), el("td", {}, t.revoked ? T("revoked") : T("active")), cell);
  }));
}
document.getElementById("password-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const out = document.getElementById("password-result");
  try {
    await api("/api/auth/password", {method: "POST", body: {current_password: document.getElementById("current-password").value,
      new_password: document.getElementById("new-password").value}});
    out.className = "ok"; out.textContent = T("Password changed.");
    e.target.reset(); loadTokens();
  } catch (ex) { out.className = "error"; out.textContent = ex.message; }
});
loadTokens();
