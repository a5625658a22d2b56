/* Street officer workspace (the shell): the street's map with the layers of the plugins' tabs, compound edits
 * over PATCH /api/v1/compounds/ID (409 → "someone else changed this"). The plugins' tabs bring their own
 * scripts, loaded before this one: each pushes `function (ws) {…}` onto window.gpPanels and is called with
 * the page object (map, layers, reloadMap, focusFeature, send, flash, msg, display, el) once the map is set up.
 * Data is always inserted as text (textContent / DOM nodes), never as HTML. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("ws-config").textContent);
  var map = window[config.map];
  var M = config.messages;
  var LABELS = config.labels;
  var C = window.gpWs;
  var ws = window.wsStreet = {map: map, config: config, layers: {}, loads: 0, busy: 0};

  var msg = C.messages(M), el = C.el, safeColor = C.safeColor, flash = C.flash;
  var send = C.sender(config.csrf, ws);

  function display(attr, value) {
    if (value === null || value === undefined || value === "") { return "–"; }
    if (typeof value === "boolean") { return value ? msg("ws_street.yes") : msg("ws_street.no"); }
    var table = LABELS[attr];
    if (table && Object.prototype.hasOwnProperty.call(table, String(value))) { return table[String(value)]; }
    if (typeof value === "number" && !Number.isInteger(value)) { return value.toLocaleString(undefined, {maximumFractionDigits: 1}); }
    return String(value);
  }

  /* ---------- the map: this street's compounds and the plugins' layers ---------- */
  ws.styles = {};  /* a tab's script may style its layers: ws.styles[layerId] = function (meta, feature, color) {…} */
  function styleFor(meta, feature) {
    var p = feature.properties || {};
    var color = safeColor(p._color || (meta.legend && meta.legend.default_color));
    var gtype = feature.geometry ? feature.geometry.type : "";
    if (ws.styles[meta.id]) { return ws.styles[meta.id](meta, feature, color); }
    if (gtype.indexOf("LineString") >= 0) { return {color: color, weight: 3, opacity: 0.95, dashArray: "6 4"}; }
    if (meta.id === "compounds") { return {color: color, weight: 1, fillColor: color, fillOpacity: 0.25}; }
    return {color: "#5b2a00", weight: 1, fillColor: color, fillOpacity: 0.8};
  }

  function popupFor(meta, feature) {
    var p = feature.properties || {};
    var rows = meta.popup.map(function (f) {
      return el("tr", {}, [el("th", {text: f.label}), el("td", {text: display(f.attribute, p[f.attribute])})]);
    });
    var box = el("div", {className: "gp-popup"}, [el("div", {className: "gp-popup-title", text: meta.title}),
      el("table", {className: "gp-fields"}, [el("tbody", {}, rows)])]);
    if (p.boundary_missing) { box.appendChild(el("div", {className: "gp-warn", text: msg("ws_street.boundary_missing")})); }
    var cid = meta.id === "compounds" ? feature.id : (p.host_compound_id || null);
    if (cid !== null && cid !== undefined) {
      box.appendChild(el("a", {href: config.compound_page.replace("__ID__", encodeURIComponent(String(cid))),
        text: msg("ws_street.detail") + " →"}));
    }
    return box;
  }

  function makeLayer(meta) {
    return L.geoJSON(null, {
      style: function (f) { return styleFor(meta, f); },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {radius: 6, color: "#fff", weight: 1.5,
          fillColor: safeColor(f.properties && f.properties._color), fillOpacity: 0.9});
      },
      onEachFeature: function (f, layer) {
        layer.bindPopup(function () { return popupFor(meta, f); }, {maxWidth: 340});
        var tip = meta.tooltip.map(function (x) { return display(x.attribute, (f.properties || {})[x.attribute]); })
          .filter(function (v) { return v && v !== "–"; }).join(" · ");
        if (tip) { layer.bindTooltip(el("span", {text: tip}), {sticky: true}); }
      }
    }).addTo(map);
  }

  function setStatus() {
    var loading = Object.keys(ws.layers).some(function (id) { return ws.layers[id].loading; });
    var s = document.getElementById("gp-status");
    s.textContent = loading ? msg("map.loading") : "";
    s.hidden = !loading;
    document.body.dataset.wsLoading = loading ? "1" : "0";
  }

  function loadLayer(id) {
    var st = ws.layers[id];
    var params = new URLSearchParams({street: config.street, lang: config.lang});
    st.loading = true; setStatus();
    return C.fetchFeatures(config.features, id, params)
      .then(function (data) {
        st.group.clearLayers();
        st.group.addData(data);
        st.count = (data.features || []).length;
        st.ids = (data.features || []).map(function (f) { return String(f.id); });
        st.features = data.features || [];
        st.loading = false; ws.loads++; setStatus();
        if (id === "compounds" && !ws.fitted && st.count) {
          ws.fitted = true;
          map.fitBounds(st.group.getBounds(), {padding: [20, 20], maxZoom: 17});
        }
      })
      .catch(function () { st.loading = false; st.failed = true; setStatus(); });
  }

  function reloadMap() { return Promise.all(Object.keys(ws.layers).map(loadLayer)); }
  ws.reloadMap = reloadMap;
  ws.featureCount = function (id) { return ws.layers[id] ? ws.layers[id].count : -1; };
  ws.hasFeature = function (id, fid) { return !!(ws.layers[id] && ws.layers[id].ids && ws.layers[id].ids.indexOf(String(fid)) >= 0); };

  config.layers.forEach(function (meta) {
    ws.layers[meta.id] = {meta: meta, group: makeLayer(meta), count: 0, ids: [], loading: false};
  });

  var Legend = L.Control.extend({
    options: {position: "bottomright"},
    onAdd: function () {
      var div = L.DomUtil.create("div", "gp-legend ws-legend");
      div.id = "ws-legend";
      config.layers.forEach(function (meta) {
        var block = el("div", {className: "gp-legend-layer"}, [el("div", {className: "gp-legend-title", text: meta.title})]);
        var rules = meta.legend && meta.legend.rules && meta.legend.rules.length ? meta.legend.rules :
          [{color: meta.legend ? meta.legend.default_color : "#9e9e9e", label: meta.title}];
        rules.forEach(function (r) {
          var sw = el("i", {className: "gp-swatch"});
          sw.style.background = safeColor(r.color);
          block.appendChild(el("div", {className: "gp-legend-item"}, [sw, el("span", {text: r.label})]));
        });
        div.appendChild(block);
      });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    }
  });
  new Legend().addTo(map);
  map.attributionControl.setPrefix(false);
  reloadMap();

  /* fit the map to the features of a layer whose key (keyOf(feature), default its id) is fid; open a popup */
  function focusFeature(layerId, fid, keyOf) {
    var st = ws.layers[layerId];
    var key = keyOf || function (f) { return String(f.id); };
    var found = [];
    if (st) {
      st.group.eachLayer(function (l) {
        if (l.feature && key(l.feature) === String(fid)) { found.push(l); }
      });
    }
    if (!found.length) { return false; }
    var bounds = L.latLngBounds([]);
    found.forEach(function (l) { bounds.extend(l.getBounds ? l.getBounds() : l.getLatLng()); });
    map.fitBounds(bounds.pad(0.8), {maxZoom: 17});
    found[0].openPopup(found[0].getBounds ? found[0].getBounds().getCenter() : undefined);
    return true;
  }

  ws.focusFeature = focusFeature;
  ws.display = display;
  ws.msg = msg;
  ws.send = send;
  ws.flash = flash;
  ws.el = el;

  var langSwitch = document.getElementById("gp-lang-switch");
  if (langSwitch) {
    var q = new URLSearchParams(location.search);
    q.set("lang", config.lang === "zh" ? "en" : "zh");
    langSwitch.setAttribute("href", "?" + q.toString());
  }

  var pick = document.getElementById("ws-street-select");
  if (pick) { pick.addEventListener("change", function () { pick.form.submit(); }); }

  /* ---------- compounds: filter and edit (PATCH with version; 409 and field errors shown) ---------- */
  var filter = document.getElementById("ws-compound-filter");
  if (filter) {
    filter.addEventListener("input", function () {
      var q = filter.value.trim().toLowerCase();
      document.querySelectorAll("#ws-compounds tr.ws-compound").forEach(function (r) {
        r.hidden = q && (r.dataset.name + " " + r.dataset.id).toLowerCase().indexOf(q) < 0;
      });
    });
  }

  function inputFor(f, value) {
    var input;
    if (LABELS[f.kind]) {
      input = el("select", {className: "form-select"});
      Object.keys(LABELS[f.kind]).forEach(function (v) { input.appendChild(el("option", {value: v, text: LABELS[f.kind][v]})); });
      input.value = value || "";
    } else if (f.kind === "bool") {
      input = el("input", {type: "checkbox", className: "form-check-input"});
      input.checked = !!value;
    } else {
      var type = f.kind === "date" ? "date" : (f.kind === "text" ? "text" : "number");
      input = el("input", {type: type, className: "form-control"});
      if (f.kind === "rate") { input.step = "0.01"; }
      if (f.kind === "float") { input.step = "any"; }
      input.value = value === null || value === undefined ? "" : String(value);
    }
    input.name = f.name;
    input.id = "ws-f-" + f.name;
    return input;
  }

  function valueOf(f, input) {
    if (f.kind === "bool") { return input.checked; }
    var v = input.value.trim();
    if (v === "") { return null; }
    if (f.kind === "int") { return /^-?\d+$/.test(v) ? parseInt(v, 10) : v; }
    if (f.kind === "float" || f.kind === "rate") { var n = Number(v); return isNaN(n) ? v : n; }
    return v;
  }

  function same(a, b) { return (a === null || a === undefined ? null : a) === (b === null || b === undefined ? null : b); }

  function openEdit(row) {
    document.querySelectorAll("tr.ws-edit-row").forEach(function (r) { r.remove(); });
    var holder = el("td", {colspan: "6"});
    var tr = el("tr", {className: "ws-edit-row"}, [holder]);
    row.after(tr);
    var url = config.compound_api.replace("__ID__", encodeURIComponent(row.dataset.id));
    fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}, cache: "no-store"})
      .then(function (r) { return r.json(); })
      .then(function (c) { buildForm(row, holder, c); });
  }

  function buildForm(row, holder, c) {
    var form = el("form", {className: "ws-edit", id: "ws-edit-form", novalidate: "novalidate"});
    form.dataset.version = String(c.version);
    var grid = el("div", {className: "row g-2"});
    var inputs = {};
    config.edit_fields.forEach(function (f) {
      var input = inputFor(f, c[f.name]);
      inputs[f.name] = input;
      var fb = el("div", {className: "invalid-feedback", id: "ws-err-" + f.name});
      grid.appendChild(el("div", {className: f.kind === "text" ? "col-6" : "col-3"}, [
        el("label", {className: "form-label", "for": input.id, text: f.label}), input, fb]));
    });
    var save = el("button", {type: "submit", className: "btn btn-sm btn-primary", id: "ws-save", text: msg("ws_street.save")});
    var cancel = el("button", {type: "button", className: "btn btn-sm btn-link", text: msg("ws_street.cancel")});
    var note = el("div", {className: "ws-edit-note", id: "ws-edit-note", role: "alert"});
    form.append(el("div", {className: "fw-semibold mb-1", text: c.name + " · " + msg("ws_street.version") + " " + c.version}),
      grid, el("div", {className: "mt-2 d-flex gap-2 align-items-center"}, [save, cancel]), note);
    holder.replaceChildren(form);
    cancel.addEventListener("click", function () { holder.parentNode.remove(); });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      form.querySelectorAll(".is-invalid").forEach(function (i) { i.classList.remove("is-invalid"); });
      note.replaceChildren();
      var body = {version: parseInt(form.dataset.version, 10)};
      var changed = 0;
      config.edit_fields.forEach(function (f) {
        var v = valueOf(f, inputs[f.name]);
        if (!same(v, c[f.name])) { body[f.name] = v; changed++; }
      });
      if (!changed) { note.appendChild(el("div", {className: "ws-muted", text: msg("ws_street.nothing_changed")})); return; }
      save.disabled = true;
      send("PATCH", config.compound_api.replace("__ID__", encodeURIComponent(c.id)), body).then(function (res) {
        save.disabled = false;
        if (res.status === 200) {
          updateRow(row, res.data);
          holder.parentNode.remove();
          flash(msg("ws_street.saved") + ": " + res.data.name, true);
          reloadMap();
        } else if (res.status === 409) {
          var reload = el("button", {type: "button", className: "btn btn-sm btn-outline-danger ms-2", id: "ws-reload",
            text: msg("ws_street.reload")});
          reload.addEventListener("click", function () { openEdit(row); });
          note.replaceChildren(el("div", {className: "ws-conflict", id: "ws-conflict"}, [
            el("span", {text: msg("ws_street.conflict", {version: res.data.version !== undefined ? res.data.version : "?"})}), reload]));
        } else if (res.status === 400 && (res.data.field || res.data.fields)) {
          var names = res.data.field ? [res.data.field] : res.data.fields;
          names.forEach(function (n) {
            if (inputs[n]) { inputs[n].classList.add("is-invalid"); }
            var fb = document.getElementById("ws-err-" + n);
            if (fb) { fb.textContent = res.data.error; }
          });
          if (!names.some(function (n) { return inputs[n]; })) { note.textContent = res.data.error; }
        } else if (res.status === 403) {
          note.textContent = msg("ws_street.forbidden");
        } else {
          note.textContent = msg("ws_street.error", {message: res.data.error || res.status});
        }
      });
    });
  }

  function updateRow(row, c) {
    row.dataset.name = c.name;
    var link = row.querySelector(".ws-compound-name");
    if (link) { link.textContent = c.name; }
    ["management_mode", "owners_org", "households", "floor_area_m2"].forEach(function (k) {
      var cell = row.querySelector('[data-field="' + k + '"]');
      if (cell) { cell.textContent = k === "floor_area_m2" && typeof c[k] === "number" ? Math.round(c[k]).toLocaleString() : display(k, c[k]); }
    });
  }

  document.querySelectorAll("#ws-compounds .ws-edit-btn").forEach(function (b) {
    b.addEventListener("click", function () { openEdit(b.closest("tr")); });
  });

  /* ---------- the plugins' tabs: each panel script registered an init function (window.gpPanels) ---------- */
  (window.gpPanels || []).forEach(function (init) { init(ws); });
  ws.ready = true;
})();
