// A certificate's public record (where its QR code leads), and checking a file someone holds.
"use strict";
const VERDICT_CLASS = {valid: "valid", revoked: "warn", unknown_key: "warn", tampered: "bad", not_issued: "bad"};
const label = (line) => (window.GEP.lang === "zh" ? line.zh : line.en) || line.zh || line.en;
function lines(table, rows) {
  table.querySelector("tbody").replaceChildren(...rows.map((l) => el("tr", {}, el("th", {scope: "row"}, label(l)), el("td", {}, l.value))));
}
function verdict(node, status, text) { node.textContent = text; node.className = "verdict " + (VERDICT_CLASS[status] || "bad"); }
function fail(id, ex) { const e = document.getElementById(id); e.textContent = ex ? ex.message : ""; e.hidden = !ex; }

async function loadRecord() {
  const serial = window.GEP.serial;
  if (!serial) return;
  try {
    const c = await api(`/api/certificates/${encodeURIComponent(serial)}`);
    document.getElementById("c-title").textContent = c.title;
    verdict(document.getElementById("c-verdict"), c.status, c.verdict + (c.revoked_reason ? ` (${c.revoked_reason})` : ""));
    lines(document.getElementById("c-lines"), c.lines);
    document.getElementById("c-digest").textContent = c.digest;
    document.getElementById("c-key").textContent = c.key_id;
    // in the certificate's own time zone, as its trade and payment times are (not the browser's)
    document.getElementById("c-issued").textContent =
      new Date(c.issued_at).toLocaleString("sv-SE", {timeZone: "Asia/Shanghai"}) + " (UTC+8)";
    if (c.downloadable) {
      document.getElementById("c-downloads").hidden = false;
      document.getElementById("c-pdf").href = `/api/certificates/${serial}/pdf`;
      document.getElementById("c-json").href = `/api/certificates/${serial}/document`;
    }
    document.getElementById("revoke-form").hidden = !(window.GEP.revoker && c.status === "valid");
  } catch (ex) { fail("c-error", ex); }
}

async function check(e) {
  e.preventDefault(); fail("v-error", null);
  const file = document.getElementById("verify-file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  const button = document.getElementById("verify-submit");
  button.disabled = true;
  try {
    const v = await api("/api/certificates/verify", {method: "POST", body: form});
    document.getElementById("verify-result").hidden = false;
    verdict(document.getElementById("v-verdict"), v.status, `${v.serial}: ${v.verdict}` + (v.revoked_reason ? ` (${v.revoked_reason})` : ""));
    lines(document.getElementById("v-lines"), v.lines);
    document.getElementById("v-digest").textContent = v.digest;
    document.getElementById("v-register").textContent = v.register_digest || "—";
  } catch (ex) { document.getElementById("verify-result").hidden = true; fail("v-error", ex); } finally { button.disabled = false; }
}

async function revoke(e) {
  e.preventDefault();
  try {
    await api(`/api/certificates/${encodeURIComponent(window.GEP.serial)}/revoke`, {method: "POST", body: {reason: document.getElementById("revoke-reason").value.trim()}});
    await loadRecord();
  } catch (ex) { fail("c-error", ex); }
}

document.getElementById("verify-form").addEventListener("submit", check);
const rf = document.getElementById("revoke-form");
if (rf) rf.addEventListener("submit", revoke);
loadRecord();
