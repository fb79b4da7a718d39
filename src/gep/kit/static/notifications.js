// The inbox: newest first, unread in bold; opening one marks it read.
"use strict";
async function loadInbox() {
  const items = await api("/api/notifications");
  const list = document.getElementById("inbox");
  list.replaceChildren(...items.map((n) => {
    const text = n.link ? el("a", {href: n.link, "data-id": n.id}, n.title) : el("span", {}, n.title);
    text.addEventListener("click", () => api("/api/notifications/read", {method: "POST", body: {ids: [n.id]}}));
    return el("li", {class: n.read_at ? "read" : "unread", "data-id": n.id}, text, el("time", {}, when(n.created_at)));
  }));
  document.getElementById("inbox-empty").hidden = items.length > 0;
}
document.getElementById("mark-all").addEventListener("click", async () => {
  await api("/api/notifications/read", {method: "POST", body: {}});
  await loadInbox(); refreshBell();
});
loadInbox();
