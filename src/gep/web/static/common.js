// Shared helpers: JSON API calls carrying the CSRF token, number formats, words.
"use strict";
const T = (k) => (window.GEP && window.GEP.t[k]) || k;
async function api(path, options = {}) {
  const headers = Object.assign({"Accept": "application/json"}, options.headers || {});
  if (options.body && typeof options.body !== "string") { headers["Content-Type"] = "application/json"; options.body = JSON.stringify(options.body); }
  if (options.method && options.method !== "GET") headers["X-CSRF-Token"] = window.GEP.csrf;
  const res = await fetch(path, Object.assign({}, options, {headers, credentials: "same-origin"}));
  const data = res.headers.get("content-type", "").includes("json") ? await res.json() : null;
  if (!res.ok) throw new Error((data && data.detail) || res.statusText);
  return data;
}
const yi = (yuan) => (yuan / 1e8).toLocaleString(undefined, {minimumFractionDigits: 2, maximumFractionDigits: 2});
// Money in the unit that suits the zone: 亿元 for cities and counties, 万元 when the total is below 1 亿元.
function moneyUnit(total) { return total >= 1e8 ? {scale: 1e8, key: "yi"} : {scale: 1e4, key: "wan"}; }
function money(yuan, unit) { return (yuan / unit.scale).toLocaleString(undefined, {minimumFractionDigits: 2, maximumFractionDigits: 2}); }
const perKm2 = (yuan) => (yuan / 1e4).toLocaleString(undefined, {minimumFractionDigits: 1, maximumFractionDigits: 1});
const pct = (part, whole) => {
  if (!whole) return "—";
  const share = 100 * part / whole;
  return share > 0 && share < 0.005 ? "<0.01%" : share.toFixed(2) + "%";
};
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) { if (k === "class") e.className = v; else e.setAttribute(k, v); }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
