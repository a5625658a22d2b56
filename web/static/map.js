/* geoplatform map client: per-viewport GeoJSON layers, grouped layer panel, legends that follow the
 * toggles, search, street filter, KPI panel. Every piece of data is inserted as text (textContent /
 * DOM nodes), never as HTML, so names like "<img onerror=…>" stay text. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("gp-config").textContent);
  var map = window[config.map];
  var M = config.messages;
  var LABELS = config.labels;
  var state = {
    street: "", basemap: null, baseLayers: {}, overlays: {}, layers: {}, pendingOpen: null, kpi: null,
    loads: 0, lastLoadedAt: 0
  };
  var gp = window.gp = {map: map, config: config, state: state};

  function msg(key, vars) {
    var text = M[key] || key;
    if (vars) { Object.keys(vars).forEach(function (k) { text = text.replace("{" + k + "}", vars[k]); }); }
    return text;
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "className") { node.className = attrs[k]; }
      else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function safeColor(c) { return /^#[0-9a-fA-F]{3,8}$/.test(String(c || "")) ? c : "#9e9e9e"; }

  /* ---------- values shown in popups (enum labels, yes/no, numbers) ---------- */
  function display(attr, value) {
    if (value === null || value === undefined || value === "") { return ""; }
    if (typeof value === "boolean") { return config.lang === "zh" ? (value ? "是" : "否") : (value ? "yes" : "no"); }
    if (Array.isArray(value)) { return value.map(function (v) { return display(attr, v); }).join(config.lang === "zh" ? "、" : ", "); }
    var enums = [attr, attr.split("_").slice(1).join("_")];
    for (var i = 0; i < enums.length; i++) {
      var table = LABELS[enums[i]];
      if (table && Object.prototype.hasOwnProperty.call(table, String(value))) { return table[String(value)]; }
    }
    if (typeof value === "number" && !Number.isInteger(value)) {
      return Math.abs(value) < 1 ? String(Math.round(value * 1000) / 1000) : value.toLocaleString(undefined, {maximumFractionDigits: 2});
    }
    return String(value);
  }

  function fieldsTable(fields, props) {
    var rows = fields.map(function (f) {
      return el("tr", {}, [el("th", {text: f.label}), el("td", {text: display(f.attribute, props[f.attribute])})]);
    });
    return el("table", {className: "gp-fields"}, [el("tbody", {}, rows)]);
  }

  function popupContent(meta, feature) {
    var p = feature.properties || {};
    if (p._aggregate) { return el("div", {text: msg("map.dot_count", {label: p._label || meta.title, count: p._count})}); }
    var box = el("div", {className: "gp-popup"}, [el("div", {className: "gp-popup-title", text: meta.title})]);
    box.appendChild(fieldsTable(meta.popup, p));
    if (p.boundary_missing) { box.appendChild(el("div", {className: "gp-warn", text: msg("map.boundary_missing")})); }
    if (config.api.compound_page && meta.source === "compounds" && feature.id !== undefined && feature.id !== null) {
      box.appendChild(el("a", {className: "gp-detail-link", href: config.api.compound_page.replace("__ID__",
        encodeURIComponent(String(feature.id))), text: msg("map.compound_details")}));
    }
    return box;
  }

  function tooltipContent(meta, feature) {
    var p = feature.properties || {};
    if (p._aggregate) { return el("span", {text: msg("map.dot_count", {label: p._label || meta.title, count: p._count})}); }
    var parts = meta.tooltip.map(function (f) { return display(f.attribute, p[f.attribute]); }).filter(Boolean);
    return parts.length ? el("span", {text: parts.join(" · ")}) : null;
  }

  /* ---------- panes: areas under lines under points ---------- */
  [["gp-areas", 410], ["gp-outlines", 420], ["gp-lines", 430], ["gp-points", 440]].forEach(function (p) {
    map.createPane(p[0]).style.zIndex = p[1];
  });
  var renderers = {};
  ["gp-areas", "gp-outlines", "gp-lines", "gp-points"].forEach(function (p) { renderers[p] = L.canvas({pane: p, padding: 0.3}); });

  function styleFor(meta, feature) {
    var p = feature.properties || {};
    var color = safeColor(p._color || (meta.legend && meta.legend.default_color));
    var gtype = feature.geometry ? feature.geometry.type : "";
    if (meta.source === "district") { return {color: color, weight: 3, fill: false, opacity: 0.9}; }
    if (meta.source === "streets") { return {color: color, weight: 1.6, dashArray: "6 4", fill: false, opacity: 0.85}; }
    if (gtype.indexOf("LineString") >= 0) { return {color: color, weight: 2.5, opacity: 0.85}; }
    if (meta.source === "buildings") { return {color: "#4e342e", weight: 0.5, fillColor: color, fillOpacity: 0.65}; }
    return {color: color, weight: 1, fillColor: color, fillOpacity: 0.45, opacity: 0.9};
  }

  function paneFor(meta) {
    if (meta.source === "district" || meta.source === "streets") { return "gp-outlines"; }
    if (meta.source === "barriers") { return "gp-lines"; }
    if (meta.source === "garages") { return "gp-points"; }
    return "gp-areas";
  }

  function makeLayer(meta) {
    var pane = paneFor(meta);
    return L.geoJSON(null, {
      pane: pane,
      renderer: renderers[pane],
      style: function (f) { return styleFor(meta, f); },
      pointToLayer: function (f, latlng) {
        var agg = f.properties && f.properties._aggregate;
        var c = safeColor(f.properties && f.properties._color);
        return L.circleMarker(latlng, {pane: "gp-points", renderer: renderers["gp-points"], radius: agg ? 3 : 6,
          color: "#ffffff", weight: agg ? 0 : 1.5, fillColor: c, fillOpacity: 0.9});
      },
      onEachFeature: function (f, layer) {
        if (meta.popup.length || (f.properties && f.properties._aggregate)) {
          layer.bindPopup(function () { return popupContent(meta, f); }, {maxWidth: 340});
        }
        var tip = tooltipContent(meta, f);
        if (tip) { layer.bindTooltip(tip, {sticky: true, direction: "top", opacity: 0.95}); }
      }
    });
  }

  /* ---------- basemaps ---------- */
  config.basemaps.forEach(function (b) {
    if (b.overlay || !b.enabled) { return; }
    if (!b.url) { state.baseLayers[b.id] = L.layerGroup(); return; }
    var opts = {attribution: b.attribution, maxZoom: 20, maxNativeZoom: b.max_zoom};
    if (b.subdomains) { opts.subdomains = b.subdomains; }
    var group = [L.tileLayer(b.url, opts)];
    var label = b.label_overlay && config.basemaps.filter(function (o) { return o.id === b.label_overlay; })[0];
    if (label && label.url) {
      var lopts = {maxZoom: 20, maxNativeZoom: label.max_zoom, subdomains: label.subdomains || "abc"};
      group.push(L.tileLayer(label.url, lopts));
    }
    state.baseLayers[b.id] = L.layerGroup(group);
  });

  function setBasemap(id) {
    if (!state.baseLayers[id]) { id = state.baseLayers.osm ? "osm" : Object.keys(state.baseLayers)[0]; }
    if (state.basemap && state.baseLayers[state.basemap]) { map.removeLayer(state.baseLayers[state.basemap]); }
    state.basemap = id;
    if (id) { state.baseLayers[id].addTo(map); }
    document.documentElement.dataset.basemap = id || "";
    try { localStorage.setItem("gp.basemap", id); } catch (e) { /* private mode */ }
    var radio = document.getElementById("gp-basemap-" + id);
    if (radio) { radio.checked = true; }
  }

  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(msg("map.synthetic"));
  map.attributionControl.addAttribution('<a href="https://leafletjs.com" title="Leaflet">Leaflet</a>');

  /* ---------- the layer panel (basemaps + overlays grouped) ---------- */
  var Panel = L.Control.extend({
    options: {position: "topright"},
    onAdd: function () {
      var div = L.DomUtil.create("div", "gp-panel leaflet-bar");
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      var toggle = el("button", {type: "button", className: "gp-panel-toggle", "aria-expanded": "true",
        text: msg("map.layers")});
      var body = el("div", {className: "gp-panel-body"});
      toggle.addEventListener("click", function () {
        var open = body.hidden;
        body.hidden = !open;
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
      div.appendChild(toggle);
      div.appendChild(body);
      body.appendChild(el("div", {className: "gp-group-title", text: msg("map.basemaps")}));
      config.basemaps.forEach(function (b) {
        if (b.overlay) { return; }
        var input = el("input", {type: "radio", name: "gp-basemap", id: "gp-basemap-" + b.id, value: b.id});
        if (!b.enabled) { input.disabled = true; }
        input.addEventListener("change", function () { setBasemap(b.id); });
        var label = el("label", {className: "gp-check" + (b.enabled ? "" : " gp-disabled"), "for": "gp-basemap-" + b.id},
          [input, el("span", {text: " " + b.title})]);
        if (!b.enabled) { label.title = msg("map.basemap_needs_key"); label.appendChild(el("small", {text: " (" + msg("map.basemap_needs_key") + ")"})); }
        body.appendChild(label);
      });
      var groups = {};
      config.layers.forEach(function (meta) {
        if (!groups[meta.group]) {
          groups[meta.group] = el("fieldset", {className: "gp-group"}, [el("legend", {className: "gp-group-title", text: meta.group})]);
          body.appendChild(groups[meta.group]);
        }
        var input = el("input", {type: "checkbox", id: "gp-layer-" + meta.id, "data-layer": meta.id});
        input.checked = !!meta.visible;
        input.addEventListener("change", function () { setActive(meta.id, input.checked); });
        var note = el("small", {className: "gp-zoom-note", id: "gp-note-" + meta.id});
        groups[meta.group].appendChild(el("label", {className: "gp-check", "for": "gp-layer-" + meta.id},
          [input, el("span", {text: " " + meta.title}), note]));
      });
      return div;
    }
  });

  /* ---------- legends that follow the toggles ---------- */
  var Legend = L.Control.extend({
    options: {position: "bottomleft"},
    onAdd: function () {
      var div = L.DomUtil.create("div", "gp-legend");
      div.id = "gp-legend";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    }
  });
  var legend = new Legend();

  function renderLegend() {
    var div = document.getElementById("gp-legend");
    if (!div) { return; }
    div.replaceChildren();
    var shown = 0;
    config.layers.forEach(function (meta) {
      if (!state.layers[meta.id].active) { return; }
      var block = el("div", {className: "gp-legend-layer", "data-layer": meta.id}, [el("div", {className: "gp-legend-title", text: meta.title})]);
      var rules = meta.legend && meta.legend.rules && meta.legend.rules.length ? meta.legend.rules :
        [{color: meta.legend ? meta.legend.default_color : "#9e9e9e", label: meta.title}];
      rules.forEach(function (r) {
        var sw = el("i", {className: "gp-swatch" + (meta.source === "streets" || meta.source === "district" ? " gp-swatch-line" : "")});
        sw.style.background = safeColor(r.color);
        if (meta.source === "streets" || meta.source === "district") { sw.style.borderColor = safeColor(r.color); sw.style.background = "transparent"; }
        block.appendChild(el("div", {className: "gp-legend-item", "data-layer": meta.id}, [sw, el("span", {text: r.label})]));
      });
      div.appendChild(block);
      shown++;
    });
    div.hidden = shown === 0;
  }

  /* ---------- KPI panel ---------- */
  var Kpi = L.Control.extend({
    options: {position: "bottomleft"},
    onAdd: function () {
      var div = L.DomUtil.create("div", "gp-kpi");
      div.id = "gp-kpi";
      L.DomEvent.disableClickPropagation(div);
      return div;
    }
  });

  function pct(v) { return v === null || v === undefined ? "–" : (Math.round(v * 1000) / 10).toFixed(1) + "%"; }

  function kpiBar(title, value, target) {
    var ok = value !== null && value !== undefined && value >= target;
    var bar = el("div", {className: "gp-bar"}, [el("div", {className: "gp-bar-fill " + (ok ? "gp-ok" : "gp-short")}), el("div", {className: "gp-bar-target"})]);
    bar.firstChild.style.width = Math.max(0, Math.min(100, (value || 0) * 100)) + "%";
    bar.lastChild.style.left = (target * 100) + "%";
    return el("div", {className: "gp-kpi-row"}, [
      el("div", {className: "gp-kpi-label"}, [el("span", {text: title}), el("b", {text: " " + pct(value)}),
        el("small", {text: " / " + msg("kpi.target") + " " + pct(target)})]),
      bar
    ]);
  }

  function loadKpi() {
    var div = document.getElementById("gp-kpi");
    if (!div || !config.api.kpi) { return; }  /* no plugin serves the KPI: no box */
    var url = config.api.kpi + (state.street ? "?street=" + encodeURIComponent(state.street) : "");
    fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}}).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.json();
    }).then(function (data) {
      var row = data.district || {};
      var scope = msg("kpi.scope_district");
      if (state.street && Array.isArray(data.streets)) {
        var hit = data.streets.filter(function (s) { return s.code === state.street; })[0];
        if (hit) { row = hit; scope = hit.name; }
      }
      state.kpi = row;
      div.replaceChildren(
        el("div", {className: "gp-kpi-title", text: msg("kpi.title") + " · " + scope}),
        kpiBar(msg("kpi.coverage"), row.coverage_rate, row.target_coverage !== undefined ? row.target_coverage : 0.8),
        kpiBar(msg("kpi.owners_org"), row.owners_org_rate, row.target_owners_org !== undefined ? row.target_owners_org : 0.95),
        el("div", {className: "gp-kpi-foot", text: msg("kpi.compounds") + " " + (row.compounds !== undefined ? row.compounds : "–") +
          (row.compounds_needed_for_target ? " · " + msg("kpi.needed") + " " + row.compounds_needed_for_target : "")})
      );
      div.dataset.loaded = "1";
    }).catch(function () {
      div.replaceChildren(el("div", {className: "gp-kpi-title", text: msg("kpi.unavailable")}));
      div.dataset.loaded = "0";
    });
  }

  /* ---------- per-viewport loading ---------- */
  function snappedBbox() {
    var b = map.getBounds().pad(0.25);
    var step = 360 / Math.pow(2, map.getZoom()) ; // ≈ one 256-px tile: equal views share cache entries
    var f = function (v, up) { return (up ? Math.ceil(v / step) : Math.floor(v / step)) * step; };
    var minx = Math.max(-180, f(b.getWest())), miny = Math.max(-85, f(b.getSouth()));
    var maxx = Math.min(180, f(b.getEast(), true)), maxy = Math.min(85, f(b.getNorth(), true));
    return [minx, miny, maxx, maxy].map(function (v) { return v.toFixed(5); }).join(",");
  }

  function setStatus() {
    var loading = Object.keys(state.layers).some(function (id) { return state.layers[id].loading; });
    var truncated = Object.keys(state.layers).some(function (id) { return state.layers[id].truncated; });
    var failed = Object.keys(state.layers).some(function (id) { return state.layers[id].failed; });
    var s = document.getElementById("gp-status");
    s.textContent = loading ? msg("map.loading") : failed ? msg("map.error") : truncated ? msg("map.truncated") : "";
    s.hidden = !s.textContent;
    document.body.dataset.gpLoading = loading ? "1" : "0";
  }

  function loadLayer(id) {
    var st = state.layers[id], meta = st.meta;
    var note = document.getElementById("gp-note-" + id);
    if (st.controller) { st.controller.abort(); st.controller = null; }
    if (!st.active) { st.group.clearLayers(); st.count = 0; st.total = 0; st.loading = false; st.key = null; setStatus(); return; }
    var zoom = map.getZoom();
    if (zoom < meta.min_zoom) {
      st.group.clearLayers(); st.count = 0; st.total = 0; st.loading = false; st.key = null;
      if (note) { note.textContent = " " + msg("map.zoom_in_for", {zoom: meta.min_zoom}); }
      setStatus();
      return;
    }
    if (note) { note.textContent = ""; }
    var params = new URLSearchParams({bbox: snappedBbox(), zoom: String(zoom), lang: config.lang});
    if (state.street) { params.set("street", state.street); }
    var url = config.api.features.replace("__ID__", encodeURIComponent(id)) + "?" + params.toString();
    if (url === st.key && !st.failed) { return; }
    var controller = new AbortController();
    st.controller = controller; st.loading = true; setStatus();
    fetch(url, {credentials: "same-origin", signal: controller.signal, headers: {Accept: "application/geo+json"}})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (data) {
        if (controller.signal.aborted) { return; }
        st.group.clearLayers();
        st.group.addData(data);
        st.key = url; st.count = (data.features || []).length; st.truncated = !!data.truncated;
        st.total = (data.features || []).reduce(function (n, f) { return n + ((f.properties && f.properties._count) || 1); }, 0);
        st.loading = false; st.failed = false; st.controller = null;
        state.loads++; state.lastLoadedAt = Date.now();
        if (meta.source === "compounds") { openPending(st); }
        setStatus();
      })
      .catch(function (err) {
        if (err && err.name === "AbortError") { return; }
        st.loading = false; st.failed = true; st.controller = null; setStatus();
      });
  }

  function reloadAll() { Object.keys(state.layers).forEach(loadLayer); }

  function setActive(id, on) {
    var st = state.layers[id];
    st.active = on;
    if (on) { st.group.addTo(map); } else { map.removeLayer(st.group); }
    var input = document.getElementById("gp-layer-" + id);
    if (input) { input.checked = on; }
    try { localStorage.setItem("gp.layer." + id, on ? "1" : "0"); } catch (e) { /* private mode */ }
    renderLegend();
    loadLayer(id);
  }
  gp.setActive = setActive;

  function compoundLayers() {
    return Object.keys(state.layers).map(function (id) { return state.layers[id]; })
      .filter(function (st) { return st.meta.source === "compounds"; });
  }

  function openPending(st) {
    if (!state.pendingOpen) { return; }
    var found = null;
    st.group.eachLayer(function (layer) { if (layer.feature && String(layer.feature.id) === state.pendingOpen) { found = layer; } });
    if (found) { found.openPopup(found.getBounds ? found.getBounds().getCenter() : undefined); state.pendingOpen = null; }
  }

  /* ---------- search by compound name or alias ---------- */
  function setupSearch() {
    var input = document.getElementById("gp-search");
    var list = document.getElementById("gp-search-results");
    if (!input) { return; }
    var timer = null, seq = 0;
    input.form.addEventListener("submit", function (e) { e.preventDefault(); var first = list.querySelector("button"); if (first) { first.click(); } });
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (!q) { list.hidden = true; list.replaceChildren(); return; }
        var mine = ++seq;
        var params = new URLSearchParams({q: q, limit: "12"});
        if (state.street) { params.set("street", state.street); }
        fetch(config.api.compounds + "?" + params.toString(), {credentials: "same-origin"})
          .then(function (r) { return r.json(); })
          .then(function (data) {
            if (mine !== seq) { return; }
            list.replaceChildren();
            var items = data.compounds || [];
            if (!items.length) { list.appendChild(el("li", {className: "list-group-item small text-muted", text: msg("map.search_none")})); }
            items.forEach(function (c) {
              var btn = el("button", {type: "button", className: "list-group-item list-group-item-action small gp-search-hit", "data-id": c.id},
                [el("span", {text: c.name})]);
              if (c.aliases && c.aliases.length) { btn.appendChild(el("small", {className: "text-muted", text: " (" + c.aliases.join("、") + ")"})); }
              btn.addEventListener("click", function () { zoomToCompound(c); list.hidden = true; });
              list.appendChild(btn);
            });
            list.hidden = false;
          });
      }, 200);
    });
    document.addEventListener("click", function (e) { if (!input.form.contains(e.target)) { list.hidden = true; } });
  }

  function zoomToCompound(c) {
    state.pendingOpen = String(c.id);
    var shown = compoundLayers().filter(function (st) { return st.active; });
    if (!shown.length && state.layers.compounds) { setActive("compounds", true); shown = [state.layers.compounds]; }
    var b = c.bbox;
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {maxZoom: 17, padding: [40, 40]});
    shown.forEach(openPending);
  }
  gp.zoomToCompound = zoomToCompound;

  /* ---------- street filter ---------- */
  function setupStreets() {
    var select = document.getElementById("gp-street");
    if (!select) { return; }
    fetch(config.api.streets, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (data) {
      state.streets = data.streets || [];
      state.streets.forEach(function (s) { select.appendChild(el("option", {value: s.code, text: s.name})); });
    });
    select.addEventListener("change", function () {
      state.street = select.value;
      var s = (state.streets || []).filter(function (x) { return x.code === state.street; })[0];
      if (s && s.bbox) { map.fitBounds([[s.bbox[1], s.bbox[0]], [s.bbox[3], s.bbox[2]]], {padding: [20, 20]}); }
      Object.keys(state.layers).forEach(function (id) { state.layers[id].key = null; });
      reloadAll();
      loadKpi();
    });
  }

  /* ---------- view in the URL hash (kept across the language switch) ---------- */
  function readHash() {
    var m = /^#(\d+)\/(-?[\d.]+)\/(-?[\d.]+)/.exec(location.hash);
    if (m) { map.setView([parseFloat(m[2]), parseFloat(m[3])], parseInt(m[1], 10), {animate: false}); return; }
    var e = config.extent;  // the district, fitted at once so the first layer requests are for the final view
    if (e) { map.fitBounds([[e[1], e[0]], [e[3], e[2]]], {animate: false}); }
  }
  function writeHash() {
    var c = map.getCenter();
    var hash = "#" + map.getZoom() + "/" + c.lat.toFixed(5) + "/" + c.lng.toFixed(5);
    history.replaceState(null, "", location.pathname + location.search + hash);
    var sw = document.getElementById("gp-lang-switch");
    if (sw) { sw.setAttribute("href", "?lang=" + (config.lang === "zh" ? "en" : "zh") + hash); }
  }

  /* ---------- start ---------- */
  config.layers.forEach(function (meta) {
    var remembered = null;
    try { remembered = localStorage.getItem("gp.layer." + meta.id); } catch (e) { /* private mode */ }
    state.layers[meta.id] = {meta: meta, group: makeLayer(meta), active: remembered === null ? !!meta.visible : remembered === "1",
      count: 0, key: null, loading: false};
  });
  gp.featureCount = function (id) { return state.layers[id] ? state.layers[id].count : -1; };
  // features represented (a dot-map feature stands for `_count` of them)
  gp.total = function (id) { return state.layers[id] && state.layers[id].active ? (state.layers[id].total || 0) : 0; };
  // the compounds drawn by whichever compound layers are on (base or plugin)
  gp.compoundLayerIds = function () { return compoundLayers().filter(function (st) { return st.active; }).map(function (st) { return st.meta.id; }); };
  gp.compoundTotal = function () { return gp.compoundLayerIds().reduce(function (n, id) { return Math.max(n, gp.total(id)); }, 0); };

  new Panel().addTo(map);
  if (config.api.kpi) { new Kpi().addTo(map); }
  legend.addTo(map);
  readHash();
  var remembered = null;
  try { remembered = localStorage.getItem("gp.basemap"); } catch (e) { /* private mode */ }
  var asked = new URLSearchParams(location.search).get("basemap");
  setBasemap(asked || remembered || config.default_basemap);
  Object.keys(state.layers).forEach(function (id) {
    var st = state.layers[id];
    var input = document.getElementById("gp-layer-" + id);
    if (input) { input.checked = st.active; }
    if (st.active) { st.group.addTo(map); }
  });
  renderLegend();
  setupSearch();
  setupStreets();
  loadKpi();
  var timer = null;
  map.on("moveend", function () { writeHash(); clearTimeout(timer); timer = setTimeout(reloadAll, 120); });
  writeHash();
  reloadAll();
})();
