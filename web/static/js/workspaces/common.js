/* Helpers shared by the role workspaces (street, utility, takeover): message lookup, DOM building (text only,
 * never HTML), colour check, the flash line, JSON requests with the CSRF header, and GeoJSON layer fetches.
 * Loaded before each workspace script; exposes window.gpWs. */
(function () {
  "use strict";

  /* msg(key, {name: value}) over a message catalogue; every "{name}" is replaced, unknown keys show the key. */
  function messages(M) {
    return function msg(key, vars) {
      var text = M[key] || key;
      Object.keys(vars || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(vars[k])); });
      return text;
    };
  }

  /* An element with attributes (text → textContent, className) and children (nodes or plain strings as text). */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "className") { node.className = attrs[k]; }
      else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return node;
  }

  function safeColor(c) { return /^#[0-9a-fA-F]{3,8}$/.test(String(c || "")) ? c : "#9e9e9e"; }

  /* The workspace's #ws-flash line: ok (green) or error (red). */
  function flash(text, ok) {
    var f = document.getElementById("ws-flash");
    f.textContent = text;
    f.className = "ws-flash " + (ok ? "ok" : "err");
    f.hidden = false;
    f.dataset.kind = ok ? "ok" : "err";
  }

  /* send(method, url, body) → Promise<{status, data}> with the CSRF header; a non-JSON answer gives data {}.
   * While a request is out, counter.busy (when a counter object is given) is one higher. */
  function sender(csrf, counter) {
    var c = counter || {busy: 0};
    return function send(method, url, body) {
      c.busy++;
      var opts = {method: method, credentials: "same-origin", headers: {"Accept": "application/json", "X-CSRF-Token": csrf}};
      if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
      return fetch(url, opts).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) { c.busy--; return {status: r.status, data: data}; });
      }, function (err) { c.busy--; throw err; });
    };
  }

  /* GET one layer's GeoJSON (template with __ID__, query params) → Promise of the FeatureCollection; HTTP errors reject. */
  function fetchFeatures(template, id, params) {
    return fetch(template.replace("__ID__", encodeURIComponent(id)) + "?" + new URLSearchParams(params).toString(),
      {credentials: "same-origin", headers: {Accept: "application/geo+json"}, cache: "no-store"})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); });
  }

  /* A message that must survive a reload (e.g. "saved" before the page refreshes): kept in sessionStorage and
   * shown on the next page by showPending(); it stays until the user reads and closes it. */
  function flashAfterReload(text, ok) {
    try { sessionStorage.setItem("gpWsFlash", JSON.stringify({text: String(text), ok: !!ok})); } catch (e) { /* private mode */ }
  }
  function showPending() {
    var raw = null;
    try { raw = sessionStorage.getItem("gpWsFlash"); sessionStorage.removeItem("gpWsFlash"); } catch (e) { raw = null; }
    if (!raw || !document.getElementById("ws-flash")) { return; }
    var m = JSON.parse(raw);
    flash(m.text, m.ok);
    var f = document.getElementById("ws-flash");
    var close = el("button", {type: "button", className: "btn-close btn-sm ms-2 ws-flash-close", "aria-label": "×"});
    close.addEventListener("click", function () { f.hidden = true; });
    f.appendChild(close);
    f.dataset.pending = "1";
  }
  document.addEventListener("DOMContentLoaded", showPending);

  window.gpWs = {messages: messages, el: el, safeColor: safeColor, flash: flash, sender: sender, fetchFeatures: fetchFeatures,
                 flashAfterReload: flashAfterReload, showPending: showPending};
})();
