/* geoplatform map client: per-viewport GeoJSON layers, grouped layer panel, legends that follow the
 * toggles, search (name, alias, pinyin initials, address), street filter, KPI panel, offline-first
 * basemaps (the own-data outline basemap with labels, tile packages served by the app, online ones
 * only when picked), identify at district zoom, measure, print. Every piece of data is inserted as
 * text (textContent / DOM nodes), never as HTML, so names like "<img onerror=…>" stay text. */
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
    if (p._aggregate) { return el("span", {text: p._label || meta.title}); }  // a click lists the compounds there
    var parts = meta.tooltip.map(function (f) { return display(f.attribute, p[f.attribute]); }).filter(Boolean);
    return parts.length ? el("span", {text: parts.join(" · ")}) : null;
  }

  /* ---------- panes: basemap under areas under lines under points under labels ---------- */
  [["gp-base", 250], ["gp-areas", 410], ["gp-outlines", 420], ["gp-lines", 430], ["gp-points", 440],
   ["gp-base-labels", 445]].forEach(function (p) {
    map.createPane(p[0]).style.zIndex = p[1];
  });
  map.getPane("gp-base-labels").style.pointerEvents = "none";
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
        var marker = L.circleMarker(offsetLatLng(meta.id, latlng, agg), {pane: "gp-points", renderer: renderers["gp-points"],
          radius: agg ? 3 : 6, color: "#ffffff", weight: agg ? 0 : 1.5, fillColor: c, fillOpacity: 0.9});
        marker.gpAt = latlng;  // the true position (the marker may be offset from it)
        return marker;
      },
      onEachFeature: function (f, layer) {
        if (meta.popup.length && !(f.properties && f.properties._aggregate)) {
          layer.bindPopup(function () { return popupContent(meta, f); }, {maxWidth: 340});
        }
        var tip = tooltipContent(meta, f);
        if (tip) { layer.bindTooltip(tip, {sticky: true, direction: "top", opacity: 0.95}); }
      }
    });
  }

  /* ---------- big layers from vector tiles: a layer that can show more than config.tiles.threshold features
   * is drawn by the vendored protomaps-leaflet from /api/v1/tiles/{layer}/{z}/{x}/{y}.mvt (the same features,
   * attributes and permissions as the GeoJSON), so the page does not grow with the data. ---------- */
  function isTiled(meta) {
    return !!config.tiles && typeof meta.feature_count === "number" && meta.feature_count > config.tiles.threshold;
  }

  function tilePaint(P, meta) {
    var color = function (z, f) { return safeColor((f && f.props && f.props._color) || (meta.legend && meta.legend.default_color)); };
    var outline = meta.source === "district" || meta.source === "streets";
    var rules = [];
    if (!outline) {
      rules.push({dataLayer: meta.id, symbolizer: new P.PolygonSymbolizer({fill: color, opacity: meta.source === "buildings" ? 0.65 : 0.45}),
        filter: function (z, f) { return f.geomType === 3; }});
    }
    rules.push({dataLayer: meta.id, symbolizer: new P.LineSymbolizer({color: color, width: outline ? 1.6 : 1, opacity: 0.9}),
      filter: function (z, f) { return f.geomType === 3; }});
    rules.push({dataLayer: meta.id, symbolizer: new P.LineSymbolizer({color: color, width: 2.5, opacity: 0.85}),
      filter: function (z, f) { return f.geomType === 2; }});
    rules.push({dataLayer: meta.id, symbolizer: new P.CircleSymbolizer({radius: 5, fill: color, stroke: "#ffffff", width: 1.5}),
      filter: function (z, f) { return f.geomType === 1; }});
    return rules;
  }

  // below its detail_zoom a layer is a dot map (one point set per legend class): GeoJSON, tiled or not —
  // a few kB for the whole district, where tiles would carry every feature
  function dotMap(st, zoom) { return st.meta.detail_zoom !== null && st.meta.detail_zoom !== undefined && zoom < st.meta.detail_zoom; }

  function loadTiles(st) {
    var meta = st.meta;
    var params = new URLSearchParams({lang: config.lang});
    if (state.street) { params.set("street", state.street); }
    var url = config.tiles.url.replace("__ID__", encodeURIComponent(meta.id)) + "?" + params.toString();
    if (url === st.key && st.tileLayer) { return; }
    st.key = url; st.loading = true; setStatus();
    loadScript(config.vendor.vector_tiles).then(function () {
      st.loading = false;
      if (st.key !== url || !st.active) { setStatus(); return; }
      var P = window.protomapsL;
      var layer = P.leafletLayer({url: url, paintRules: tilePaint(P, meta), labelRules: [], maxDataZoom: 18,
        maxZoom: 20, pane: paneFor(meta), attribution: "", lang: config.lang});
      st.drawn = false;  // every tile of the view drawn (Leaflet's "load": each tile's canvas rendered)
      layer.on("loading", function () { st.drawn = false; });
      layer.on("load", function () { st.drawn = true; });
      st.group.clearLayers();
      st.group.addLayer(layer);
      st.tileLayer = layer; st.failed = false;
      state.loads++; state.lastLoadedAt = Date.now();
      setStatus();
    }).catch(function () { st.loading = false; st.failed = true; setStatus(); });
  }

  /* a click on a tiled layer: the popup of the feature under the cursor (its attributes are in the tile) */
  function tilePopup(latlng) {
    var ids = Object.keys(state.layers).filter(function (id) {
      var st = state.layers[id];
      return st.tiled && st.active && st.tileLayer && st.meta.popup.length;
    });
    for (var i = ids.length - 1; i >= 0; i--) {
      var st = state.layers[ids[i]], found = null;
      st.tileLayer.queryTileFeaturesDebug(latlng.lng, latlng.lat).forEach(function (picked) {
        (picked || []).forEach(function (p) { if (p.layerName === st.meta.id) { found = p.feature; } });  // the topmost
      });
      if (found) {
        var props = found.props || {};
        L.popup({maxWidth: 340}).setLatLng(latlng).setContent(popupContent(st.meta, {id: props._id, properties: props})).openOn(map);
        return true;
      }
    }
    return false;
  }
  gp.tilePopup = tilePopup;

  /* ---------- point offsets: dots of several layers side by side, never on top of each other ---------- */
  function pointLayerIds() {
    return config.layers.filter(function (m) {
      return (m.source === "compounds" || m.source === "garages") && state.layers[m.id] && state.layers[m.id].active;
    }).map(function (m) { return m.id; });
  }

  function offsetLatLng(id, latlng, aggregate) {
    var ids = pointLayerIds();
    var i = ids.indexOf(id);
    if (ids.length < 2 || i < 0) { return latlng; }
    var r = aggregate ? 3.5 : 6;  // one dot radius: neighbours touch but do not cover each other
    var angle = -Math.PI / 2 + 2 * Math.PI * i / ids.length;
    var p = map.latLngToLayerPoint(latlng).add([r * Math.cos(angle), r * Math.sin(angle)]);
    return map.layerPointToLatLng(p);
  }

  function relayoutPoints() {
    pointLayerIds().forEach(function (id) {
      var st = state.layers[id];
      if (st.data) { st.group.clearLayers(); st.group.addData(st.data); }
    });
  }
  function eachPoint(group, fn) {  // markers, also inside the feature groups of MultiPoint features
    group.eachLayer(function (l) { if (l.getLatLng) { fn(l); } else if (l.eachLayer) { eachPoint(l, fn); } });
  }
  /* screen positions of a layer's dots: drawn (`true`: where they belong, before any offset) */
  gp.pointPositions = function (id, trueSpot) {
    var out = [];
    eachPoint(state.layers[id].group, function (l) {
      var p = map.latLngToContainerPoint(trueSpot && l.gpAt ? l.gpAt : l.getLatLng());
      out.push([p.x, p.y]);
    });
    return out;
  };

  /* ---------- basemaps: the server's own first; online ones only when the user picks them ---------- */
  var scripts = {};
  function loadScript(src) {
    if (!scripts[src]) {
      scripts[src] = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = src;
        s.onload = resolve;
        s.onerror = reject;
        document.head.appendChild(s);
      });
    }
    return scripts[src];
  }

  function tileOptions(b) {
    var opts = {attribution: b.attribution, maxZoom: 20, maxNativeZoom: b.max_zoom};
    if (b.min_zoom) { opts.minNativeZoom = b.min_zoom; }
    if (b.bounds) { opts.bounds = L.latLngBounds([b.bounds[1], b.bounds[0]], [b.bounds[3], b.bounds[2]]); }
    if (b.subdomains) { opts.subdomains = b.subdomains; }
    return opts;
  }

  function rasterBasemap(b) {
    var group = [L.tileLayer(b.url, tileOptions(b))];
    var label = b.label_overlay && config.basemaps.filter(function (o) { return o.id === b.label_overlay; })[0];
    if (label && label.url) {
      var lopts = {maxZoom: 20, maxNativeZoom: label.max_zoom, subdomains: label.subdomains || "abc"};
      group.push(L.tileLayer(label.url, lopts));
    }
    return L.layerGroup(group);
  }

  /* A vector tile package: drawn by the vendored protomaps-leaflet (loaded only when chosen), with one
   * generic style for any schema: areas, lines and names of every layer the package lists. */
  function vectorStyle(P, layers) {
    var paint = [], labels = [];
    var names = ["name:zh", "name_zh", "name:zh-Hans", "name", "NAME", "名称"];
    function colour(layer) {
      var n = layer.toLowerCase();
      if (/water|river|lake|ocean|hyd|水/.test(n)) { return "#a9cfee"; }
      if (/park|green|wood|forest|grass|landcover|绿/.test(n)) { return "#d4e8c4"; }
      if (/build|建筑/.test(n)) { return "#ddd3c8"; }
      return "#e8e2d6";
    }
    function isRoad(layer) { return /road|transport|street|highway|道路|路/.test(layer.toLowerCase()); }
    layers.forEach(function (layer) {
      paint.push({dataLayer: layer, symbolizer: new P.PolygonSymbolizer({fill: colour(layer), opacity: 0.9}),
        filter: function (z, f) { return f.geomType === 3; }});
      if (isRoad(layer)) {
        paint.push({dataLayer: layer, symbolizer: new P.LineSymbolizer({color: "#c9bfae", width: 4}),
          filter: function (z, f) { return f.geomType === 2; }});
        paint.push({dataLayer: layer, symbolizer: new P.LineSymbolizer({color: "#ffffff", width: 2.5}),
          filter: function (z, f) { return f.geomType === 2; }});
      } else {
        paint.push({dataLayer: layer, symbolizer: new P.LineSymbolizer({color: colour(layer) === "#e8e2d6" ? "#9e9e9e" : "#6fa8dc", width: 1.2}),
          filter: function (z, f) { return f.geomType === 2; }});
      }
      labels.push({dataLayer: layer, symbolizer: new P.LineLabelSymbolizer({labelProps: names, fill: "#333333",
        stroke: "#ffffff", width: 2.5, font: "12px sans-serif"}), filter: function (z, f) { return f.geomType === 2; }});
      labels.push({dataLayer: layer, symbolizer: new P.CenteredTextSymbolizer({labelProps: names, fill: "#333333",
        stroke: "#ffffff", width: 2.5, font: "13px sans-serif"}), filter: function (z, f) { return f.geomType !== 2; }});
    });
    return {paintRules: paint, labelRules: labels};
  }

  function vectorBasemap(b) {
    var group = L.layerGroup();
    group.on("add", function () {
      if (group.getLayers().length) { return; }
      loadScript(config.vendor.vector_tiles).then(function () {
        var P = window.protomapsL;
        var style = vectorStyle(P, b.data_layers || []);
        var opts = {url: b.url, maxDataZoom: b.max_zoom, paintRules: style.paintRules, labelRules: style.labelRules,
          backgroundColor: "#f4f1ea", attribution: b.attribution || "", maxZoom: 20, lang: config.lang};
        if (b.bounds) { opts.bounds = L.latLngBounds([b.bounds[1], b.bounds[0]], [b.bounds[3], b.bounds[2]]); }
        group.addLayer(P.leafletLayer(opts));
        group.gpReady = true;
      }).catch(function () { setStatusText(msg("map.basemap_failed")); });
    });
    return group;
  }

  /* The own-data basemap: district, street and community outlines, main roads, rivers and railways,
   * with their names as DOM labels placed without overlaps (higher ranks first). */
  var LABEL_RULES = {
    district: {rank: 0, min: 0, max: 11},
    street: {rank: 1, min: 10, max: 17},
    river: {rank: 2, min: 11, max: 20}, railway: {rank: 2, min: 11, max: 20},
    main_road: {rank: 3, min: 12, max: 20},
    community: {rank: 4, min: 13, max: 20}
  };
  var BASE_STYLE = {
    district: {color: "#a1887f", weight: 2.5, fillColor: "#f8f5ee", fillOpacity: 1, opacity: 0.9},
    street: {color: "#9575cd", weight: 1.2, dashArray: "5 4", fill: false, opacity: 0.7},
    community: {color: "#b39ddb", weight: 0.8, dashArray: "2 3", fill: false, opacity: 0.6},
    main_road: [{color: "#cfc4b0", weight: 6, opacity: 1}, {color: "#fffdf8", weight: 3.5, opacity: 1}],
    river: [{color: "#8ec1ea", weight: 5, opacity: 0.95}],
    railway: [{color: "#616161", weight: 3, opacity: 0.9}, {color: "#ffffff", weight: 1.5, dashArray: "6 6", opacity: 1}]
  };

  function outlineBasemap(b) {
    var group = L.layerGroup();
    var renderer = L.canvas({pane: "gp-base", padding: 0.3});
    var box = el("div", {className: "gp-labels", id: "gp-base-labels"});
    var labels = [];
    var loaded = false;

    function addLabel(role, name, at, line) {
      if (!name) { return; }
      var rule = LABEL_RULES[role];
      if (!rule) { return; }
      var n = line ? 2 : 1;  // a line's name may show twice along it
      var els = [];
      for (var i = 0; i < n; i++) {
        var node = el("div", {className: "gp-label gp-label-" + role, "data-role": role, text: name});
        node.hidden = true;
        box.appendChild(node);
        els.push(node);
      }
      labels.push({role: role, rule: rule, name: name, at: at, line: line, els: els, size: {}});
    }

    function draw(data) {
      var feats = (data.features || []);
      feats.forEach(function (f) {
        var p = f.properties || {};
        var role = p.role === "barrier" ? p.kind : p.role;
        if (f.geometry) {
          var styles = BASE_STYLE[role] || [{color: "#9e9e9e", weight: 2}];
          (Array.isArray(styles) ? styles : [styles]).forEach(function (st) {
            group.addLayer(L.geoJSON(f, {pane: "gp-base", renderer: renderer, interactive: false,
              style: function () { return st; }}));
          });
        }
        var line = null;
        if (f.geometry && /LineString/.test(f.geometry.type)) {
          var parts = f.geometry.type === "LineString" ? [f.geometry.coordinates] : f.geometry.coordinates;
          line = parts.map(function (part) { return part.map(function (c) { return L.latLng(c[1], c[0]); }); });
        }
        addLabel(role, p.name, p.label ? L.latLng(p.label[1], p.label[0]) : null, line);
      });
      labels.sort(function (a, c) { return a.rule.rank - c.rule.rank; });
      loaded = true;
      layout();
    }

    function measureLabel(lab, node, vertical) {
      var key = vertical ? "v" : "h";
      if (!lab.size[key]) {
        node.classList.toggle("gp-label-vertical", vertical);
        node.style.transform = "";
        node.hidden = false;
        lab.size[key] = [node.offsetWidth, node.offsetHeight];
        node.hidden = true;
      }
      return lab.size[key];
    }

    function overlaps(r, placed) {
      for (var i = 0; i < placed.length; i++) {
        var q = placed[i];
        if (r[0] < q[2] && r[2] > q[0] && r[1] < q[3] && r[3] > q[1]) { return true; }
      }
      return false;
    }

    /* points along a line (layer pixels) every `step` px, with the line's angle there */
    function alongLine(parts, step) {
      var out = [];
      parts.forEach(function (part) {
        var pts = part.map(function (ll) { return map.latLngToLayerPoint(ll); });
        var next = step / 2;
        var walked = 0;
        for (var i = 1; i < pts.length; i++) {
          var a = pts[i - 1], c = pts[i];
          var len = a.distanceTo(c);
          while (len > 0 && next <= walked + len) {
            var t = (next - walked) / len;
            out.push({p: L.point(a.x + (c.x - a.x) * t, a.y + (c.y - a.y) * t), angle: Math.atan2(c.y - a.y, c.x - a.x)});
            next += step;
          }
          walked += len;
        }
      });
      return out;
    }

    function layout() {
      if (!loaded || !map.hasLayer(group)) { return; }
      var zoom = map.getZoom();
      var size = map.getSize();
      var topLeft = map.containerPointToLayerPoint([0, 0]);
      var view = [topLeft.x, topLeft.y, topLeft.x + size.x, topLeft.y + size.y];
      var centre = map.containerPointToLayerPoint(size.divideBy(2));
      var placed = [];
      var PAD = 3;
      labels.forEach(function (lab) {
        lab.els.forEach(function (node) { node.hidden = true; });
        if (zoom < lab.rule.min || zoom > lab.rule.max) { return; }
        var candidates;
        if (lab.line) {
          var width = measureLabel(lab, lab.els[0], false)[0];
          candidates = alongLine(lab.line, Math.max(260, width * 4));
          candidates = candidates.filter(function (c) {
            return c.p.x > view[0] + 20 && c.p.x < view[2] - 20 && c.p.y > view[1] + 20 && c.p.y < view[3] - 20;
          });
          candidates.sort(function (a, c) { return a.p.distanceTo(centre) - c.p.distanceTo(centre); });
        } else if (lab.at) {
          candidates = [{p: map.latLngToLayerPoint(lab.at), angle: 0}];
        } else {
          return;
        }
        var shown = 0;
        for (var i = 0; i < candidates.length && shown < lab.els.length; i++) {
          var c = candidates[i];
          var node = lab.els[shown];
          var deg = c.angle * 180 / Math.PI;
          if (deg > 90) { deg -= 180; } else if (deg <= -90) { deg += 180; }
          var vertical = !!lab.line && Math.abs(deg) > 60;  // Chinese reads well top to bottom along a vertical road
          var wh = measureLabel(lab, node, vertical);
          var rot = lab.line && !vertical ? deg : 0;
          var rad = rot * Math.PI / 180;
          var w = Math.abs(wh[0] * Math.cos(rad)) + Math.abs(wh[1] * Math.sin(rad));
          var h = Math.abs(wh[0] * Math.sin(rad)) + Math.abs(wh[1] * Math.cos(rad));
          var r = [c.p.x - w / 2 - PAD, c.p.y - h / 2 - PAD, c.p.x + w / 2 + PAD, c.p.y + h / 2 + PAD];
          if (!lab.line && (r[2] < view[0] || r[0] > view[2] || r[3] < view[1] || r[1] > view[3])) { break; }
          if (overlaps(r, placed)) { continue; }
          placed.push(r);
          node.classList.toggle("gp-label-vertical", vertical);
          node.style.left = c.p.x + "px";
          node.style.top = c.p.y + "px";
          node.style.transform = "translate(-50%, -50%)" + (rot ? " rotate(" + rot.toFixed(1) + "deg)" : "");
          node.hidden = false;
          shown++;
        }
      });
      box.dataset.zoom = String(zoom);
      box.dataset.placed = String(placed.length);
    }

    group.on("add", function () {
      map.getPane("gp-base-labels").appendChild(box);
      map.on("zoomend moveend viewreset resize", layout);
      if (!loaded) {
        fetch(b.url, {credentials: "same-origin", headers: {Accept: "application/geo+json"}})
          .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
          .then(draw)
          .catch(function () { setStatusText(msg("map.basemap_failed")); });
      } else {
        layout();
      }
    });
    group.on("remove", function () {
      map.off("zoomend moveend viewreset resize", layout);
      if (box.parentNode) { box.parentNode.removeChild(box); }
    });
    group.gpLabels = function () { return labels; };
    group.gpLoaded = function () { return loaded; };
    return group;
  }

  config.basemaps.forEach(function (b) {
    if (b.overlay || b.enabled === false) { return; }
    if (!b.url) { state.baseLayers[b.id] = L.layerGroup(); return; }
    if (b.kind === "outline") { state.baseLayers[b.id] = outlineBasemap(b); return; }
    if (b.kind === "vector") { state.baseLayers[b.id] = vectorBasemap(b); return; }
    state.baseLayers[b.id] = rasterBasemap(b);
  });

  /* `chosen`: the user picked it (remembered); the first view never takes an online basemap by itself */
  function setBasemap(id, chosen) {
    if (!state.baseLayers[id]) { id = state.baseLayers[config.default_basemap] ? config.default_basemap : Object.keys(state.baseLayers)[0]; }
    if (state.basemap && state.baseLayers[state.basemap]) { map.removeLayer(state.baseLayers[state.basemap]); }
    state.basemap = id;
    if (id) { state.baseLayers[id].addTo(map); }
    document.documentElement.dataset.basemap = id || "";
    if (chosen) {
      try { localStorage.setItem("gp.basemap.chosen", id); } catch (e) { /* private mode */ }
    }
    var radio = document.getElementById("gp-basemap-" + id);
    if (radio) { radio.checked = true; }
  }
  gp.setBasemap = setBasemap;

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
        if (b.overlay || b.enabled === false) { return; }  // unusable ones (no key) are not offered at all
        var input = el("input", {type: "radio", name: "gp-basemap", id: "gp-basemap-" + b.id, value: b.id,
          "data-remote": b.remote ? "1" : "0"});
        input.addEventListener("change", function () { setBasemap(b.id, true); });
        var label = el("label", {className: "gp-check", "for": "gp-basemap-" + b.id}, [input, el("span", {text: " " + b.title})]);
        if (b.remote) {
          label.title = msg("map.basemap_online_title");
          label.appendChild(el("small", {className: "gp-badge-online", text: " " + msg("map.basemap_online")}));
        }
        body.appendChild(label);
      });
      if (config.manage_basemaps) {
        body.appendChild(el("a", {className: "gp-manage-basemaps small", id: "gp-manage-basemaps", href: config.manage_basemaps,
          text: msg("map.basemap_manage")}));
      }
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
    s.textContent = loading ? msg("map.loading") : failed ? msg("map.error") : truncated ? msg("map.truncated") : (state.notice || "");
    s.hidden = !s.textContent;
    document.body.dataset.gpLoading = loading ? "1" : "0";
  }

  function setStatusText(text) { state.notice = text; setStatus(); }

  function loadLayer(id) {
    var st = state.layers[id], meta = st.meta;
    var note = document.getElementById("gp-note-" + id);
    if (st.controller) { st.controller.abort(); st.controller = null; }
    if (!st.active) { st.group.clearLayers(); st.tileLayer = null; st.data = null; st.count = 0; st.total = 0; st.loading = false; st.key = null; setStatus(); return; }
    var zoom = map.getZoom();
    if (zoom < meta.min_zoom) {
      st.group.clearLayers(); st.tileLayer = null; st.data = null; st.count = 0; st.total = 0; st.loading = false; st.key = null;
      if (note) { note.textContent = " " + msg("map.zoom_in_for", {zoom: meta.min_zoom}); }
      setStatus();
      return;
    }
    if (note) { note.textContent = ""; }
    if (st.tiled && !dotMap(st, zoom)) { loadTiles(st); return; }
    if (st.tileLayer) { st.group.clearLayers(); st.tileLayer = null; st.key = null; }
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
        st.data = data;
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
    if (st.meta.source === "compounds" || st.meta.source === "garages") { relayoutPoints(); }
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
              if (c.match === "address" && c.address) {
                btn.appendChild(el("div", {className: "gp-search-address text-muted", text: msg("map.search_by.address") + "：" + c.address}));
              } else if (c.match === "pinyin") {
                btn.appendChild(el("small", {className: "gp-search-by text-muted", text: " · " + msg("map.search_by.pinyin")}));
              }
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

  /* ---------- translated zoom buttons and a metric scale bar ---------- */
  L.control.zoom({position: "topleft", zoomInTitle: msg("map.zoom_in"), zoomOutTitle: msg("map.zoom_out")}).addTo(map);
  var Scale = L.Control.Scale.extend({
    _updateMetric: function (maxMeters) {
      var meters = this._getRoundNum(maxMeters);
      var label = meters < 1000 ? meters + " " + msg("map.unit_m") : (meters / 1000) + " " + msg("map.unit_km");
      this._updateScale(this._mScale, label, meters / maxMeters);
    }
  });
  var scale = new Scale({position: "bottomright", imperial: false, maxWidth: 160});
  scale.addTo(map);

  /* ---------- identify at district zoom: a click lists the compounds under the cursor ---------- */
  var IDENTIFY_PX = 10;   // the click's reach, in screen pixels
  var IDENTIFY_LIST = 8;  // compounds listed before "N more"

  function dotLayers() {
    var zoom = map.getZoom();
    return config.layers.filter(function (meta) {
      var st = state.layers[meta.id];
      return st && st.active && meta.source === "compounds" && meta.detail_zoom !== null &&
        meta.detail_zoom !== undefined && zoom < meta.detail_zoom && zoom >= meta.min_zoom;
    });
  }

  function legendLabel(meta, color) {
    var rules = (meta.legend && meta.legend.rules) || [];
    var hit = rules.filter(function (r) { return r.color === color; })[0];
    return hit ? hit.label : "";
  }

  function identify(latlng) {
    var metas = dotLayers();
    if (!metas.length) { return null; }
    var p = map.latLngToContainerPoint(latlng);
    var sw = map.containerPointToLatLng(p.add([-IDENTIFY_PX, IDENTIFY_PX]));
    var ne = map.containerPointToLatLng(p.add([IDENTIFY_PX, -IDENTIFY_PX]));
    var bbox = [sw.lng, sw.lat, ne.lng, ne.lat].map(function (v) { return v.toFixed(6); }).join(",");
    var box = el("div", {className: "gp-identify", "data-state": "loading"}, [el("div", {className: "gp-popup-title", text: msg("map.identify_loading")})]);
    var popup = L.popup({maxWidth: 340, className: "gp-identify-popup"}).setLatLng(latlng).setContent(box).openOn(map);
    var detail = Math.max.apply(null, metas.map(function (m) { return m.detail_zoom; }));
    var requests = metas.map(function (meta) {
      var params = new URLSearchParams({bbox: bbox, zoom: String(meta.detail_zoom), lang: config.lang});
      if (state.street) { params.set("street", state.street); }
      var url = config.api.features.replace("__ID__", encodeURIComponent(meta.id)) + "?" + params.toString();
      return fetch(url, {credentials: "same-origin", headers: {Accept: "application/geo+json"}})
        .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
        .then(function (data) { return {meta: meta, features: data.features || []}; });
    });
    Promise.all(requests).then(function (answers) {
      var seen = {}, hits = [];
      answers.forEach(function (a) {
        a.features.forEach(function (f) {
          var id = f.id === undefined || f.id === null ? null : String(f.id);
          var props = f.properties || {};
          var bounds = L.geoJSON(f).getBounds();
          var d = bounds.contains(latlng) ? 0 : map.latLngToContainerPoint(bounds.getCenter()).distanceTo(p);
          var color = safeColor(props._color);
          var entry = {id: id, name: props.name || display("name", props[(a.meta.tooltip[0] || {}).attribute]) || id,
            color: color, label: legendLabel(a.meta, props._color), distance: d};
          if (id !== null && seen[id]) { if (!seen[id].label && entry.label) { seen[id].label = entry.label; } return; }
          if (id !== null) { seen[id] = entry; }
          hits.push(entry);
        });
      });
      hits.sort(function (a, c) { return a.distance - c.distance || String(a.name).localeCompare(String(c.name), "zh"); });
      box.replaceChildren();
      box.dataset.state = "done";
      box.dataset.count = String(hits.length);
      box.appendChild(el("div", {className: "gp-popup-title", text: hits.length ? msg("map.identify_title", {count: hits.length}) : msg("map.identify_none")}));
      var list = el("ul", {className: "gp-identify-list"});
      hits.slice(0, IDENTIFY_LIST).forEach(function (h) {
        var sw = el("i", {className: "gp-swatch"});
        sw.style.background = h.color;
        var item = el("li", {className: "gp-identify-item", "data-id": h.id || ""}, [sw]);
        if (h.id && config.api.compound_page) {
          item.appendChild(el("a", {className: "gp-identify-link", href: config.api.compound_page.replace("__ID__", encodeURIComponent(h.id)),
            title: msg("map.open_compound"), text: h.name}));
        } else {
          item.appendChild(el("span", {text: h.name}));
        }
        if (h.label) { item.appendChild(el("small", {className: "text-muted", text: " " + h.label})); }
        list.appendChild(item);
      });
      box.appendChild(list);
      if (hits.length > IDENTIFY_LIST) {
        box.appendChild(el("div", {className: "gp-identify-more", text: msg("map.identify_more", {count: hits.length - IDENTIFY_LIST})}));
      }
      var zoomBtn = el("button", {type: "button", className: "btn btn-link btn-sm p-0 gp-identify-zoom", text: msg("map.identify_zoom")});
      zoomBtn.addEventListener("click", function () { map.closePopup(popup); map.setView(latlng, detail); });
      box.appendChild(zoomBtn);
      popup.update();
    }).catch(function () {
      box.replaceChildren(el("div", {className: "gp-popup-title", text: msg("map.error")}));
      box.dataset.state = "failed";
    });
    return popup;
  }
  gp.identify = identify;

  /* ---------- measure distance and area (geodesic, on the WGS-84 ellipsoid) ---------- */
  var WGS84_A = 6378137, WGS84_F = 1 / 298.257223563;

  /* Vincenty's inverse formula: the ellipsoidal distance in metres between two points (mm accuracy) */
  function geodesicDistance(p1, p2) {
    var a = WGS84_A, f = WGS84_F, b = a * (1 - f);
    var rad = Math.PI / 180;
    var L1 = (p2.lng - p1.lng) * rad;
    var U1 = Math.atan((1 - f) * Math.tan(p1.lat * rad)), U2 = Math.atan((1 - f) * Math.tan(p2.lat * rad));
    var sinU1 = Math.sin(U1), cosU1 = Math.cos(U1), sinU2 = Math.sin(U2), cosU2 = Math.cos(U2);
    var lambda = L1, prev, iter = 0, sinSigma, cosSigma, sigma, cosSqAlpha, cos2SigmaM;
    do {
      var sinLambda = Math.sin(lambda), cosLambda = Math.cos(lambda);
      sinSigma = Math.sqrt(Math.pow(cosU2 * sinLambda, 2) + Math.pow(cosU1 * sinU2 - sinU1 * cosU2 * cosLambda, 2));
      if (sinSigma === 0) { return 0; }
      cosSigma = sinU1 * sinU2 + cosU1 * cosU2 * cosLambda;
      sigma = Math.atan2(sinSigma, cosSigma);
      var sinAlpha = cosU1 * cosU2 * sinLambda / sinSigma;
      cosSqAlpha = 1 - sinAlpha * sinAlpha;
      cos2SigmaM = cosSqAlpha !== 0 ? cosSigma - 2 * sinU1 * sinU2 / cosSqAlpha : 0;
      var C = f / 16 * cosSqAlpha * (4 + f * (4 - 3 * cosSqAlpha));
      prev = lambda;
      lambda = L1 + (1 - C) * f * sinAlpha * (sigma + C * sinSigma * (cos2SigmaM + C * cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM)));
    } while (Math.abs(lambda - prev) > 1e-12 && ++iter < 200);
    var uSq = cosSqAlpha * (a * a - b * b) / (b * b);
    var A = 1 + uSq / 16384 * (4096 + uSq * (-768 + uSq * (320 - 175 * uSq)));
    var B = uSq / 1024 * (256 + uSq * (-128 + uSq * (74 - 47 * uSq)));
    var dSigma = B * sinSigma * (cos2SigmaM + B / 4 * (cosSigma * (-1 + 2 * cos2SigmaM * cos2SigmaM) -
      B / 6 * cos2SigmaM * (-3 + 4 * sinSigma * sinSigma) * (-3 + 4 * cos2SigmaM * cos2SigmaM)));
    return b * A * (sigma - dSigma);
  }

  /* The ellipsoidal area in m² of a ring: latitudes mapped to authalic ones (an equal-area sphere of
   * radius Rq), then the exact spherical-polygon area on that sphere. */
  function geodesicArea(points) {
    if (points.length < 3) { return 0; }
    var e2 = WGS84_F * (2 - WGS84_F), e = Math.sqrt(e2), rad = Math.PI / 180;
    function q(phi) {
      var s = Math.sin(phi);
      return (1 - e2) * (s / (1 - e2 * s * s) - 1 / (2 * e) * Math.log((1 - e * s) / (1 + e * s)));
    }
    var qp = q(Math.PI / 2), Rq = WGS84_A * Math.sqrt(qp / 2);
    var beta = function (lat) { return Math.asin(Math.max(-1, Math.min(1, q(lat * rad) / qp))); };
    var total = 0;
    for (var i = 0; i < points.length; i++) {
      var p1 = points[i], p2 = points[(i + 1) % points.length];
      var t1 = Math.tan(beta(p1.lat) / 2), t2 = Math.tan(beta(p2.lat) / 2);
      var dl = (p2.lng - p1.lng) * rad;
      total += 2 * Math.atan2(Math.tan(dl / 2) * (t1 + t2), 1 + t1 * t2);
    }
    return Math.abs(total) * Rq * Rq;
  }

  function pathLength(points, closed) {
    var d = 0;
    for (var i = 1; i < points.length; i++) { d += geodesicDistance(points[i - 1], points[i]); }
    if (closed && points.length > 2) { d += geodesicDistance(points[points.length - 1], points[0]); }
    return d;
  }
  gp.geodesic = {distance: geodesicDistance, area: geodesicArea, length: pathLength};

  function fmtNumber(v, digits) { return v.toLocaleString(config.lang === "zh" ? "zh-CN" : "en", {maximumFractionDigits: digits, minimumFractionDigits: digits}); }
  function fmtDistance(m) { return m < 1000 ? fmtNumber(m, 0) + " " + msg("map.unit_m") : fmtNumber(m / 1000, 2) + " " + msg("map.unit_km"); }
  function fmtArea(m2) { return m2 < 1e6 ? fmtNumber(m2, 0) + " " + msg("map.unit_m2") : fmtNumber(m2 / 1e6, 3) + " " + msg("map.unit_km2"); }
  gp.format = {distance: fmtDistance, area: fmtArea};

  var measure = {mode: null, points: [], layer: L.layerGroup().addTo(map), value: null, perimeter: null};
  gp.measure = measure;

  function drawMeasure() {
    measure.layer.clearLayers();
    var pts = measure.points;
    var style = {color: "#d62828", weight: 2.5, dashArray: "6 4", interactive: false};
    if (measure.mode === "area" && pts.length > 2) {
      measure.layer.addLayer(L.polygon(pts, L.extend({fillColor: "#d62828", fillOpacity: 0.12}, style)));
    } else if (pts.length > 1) {
      measure.layer.addLayer(L.polyline(pts, style));
    }
    pts.forEach(function (pt) { measure.layer.addLayer(L.circleMarker(pt, {radius: 3.5, color: "#d62828", weight: 2, fillColor: "#fff", fillOpacity: 1, interactive: false})); });
    var out = document.getElementById("gp-measure-result");
    if (measure.mode === "area") {
      measure.value = geodesicArea(pts);
      measure.perimeter = pathLength(pts, true);
      out.textContent = pts.length > 2 ? msg("map.measure_area_result", {value: fmtArea(measure.value), perimeter: fmtDistance(measure.perimeter)}) : msg("map.measure_hint_area");
    } else if (measure.mode === "distance") {
      measure.value = pathLength(pts, false);
      measure.perimeter = null;
      out.textContent = pts.length > 1 ? msg("map.measure_distance_result", {value: fmtDistance(measure.value)}) : msg("map.measure_hint_distance");
    }
    out.hidden = !out.textContent;
  }

  function startMeasure(mode) {
    measure.mode = mode;
    measure.points = [];
    map.doubleClickZoom.disable();
    map.getContainer().classList.add("gp-measuring");
    document.getElementById("gp-measure-finish").hidden = false;
    document.querySelectorAll(".gp-tool[data-mode]").forEach(function (b) { b.classList.toggle("active", b.dataset.mode === mode); });
    map.closePopup();
    drawMeasure();
  }

  function finishMeasure() {
    if (!measure.mode) { return; }
    measure.finishedMode = measure.mode;
    measure.mode = null;
    map.getContainer().classList.remove("gp-measuring");
    document.getElementById("gp-measure-finish").hidden = true;
    document.querySelectorAll(".gp-tool[data-mode]").forEach(function (b) { b.classList.remove("active"); });
    setTimeout(function () { map.doubleClickZoom.enable(); }, 0);
  }

  function clearMeasure() {
    finishMeasure();
    measure.points = [];
    measure.value = null;
    measure.layer.clearLayers();
    var out = document.getElementById("gp-measure-result");
    out.textContent = "";
    out.hidden = true;
  }
  gp.startMeasure = startMeasure;
  gp.finishMeasure = finishMeasure;

  map.on("click", function (e) {
    if (measure.mode) {
      var last = measure.points[measure.points.length - 1];
      if (!last || map.latLngToContainerPoint(last).distanceTo(e.containerPoint) > 3) { measure.points.push(e.latlng); }
      drawMeasure();
      return;
    }
    if (document.body.classList.contains("gp-print-mode")) { return; }
    if (tilePopup(e.latlng)) { return; }
    identify(e.latlng);
  });
  map.on("dblclick", function () { if (measure.mode) { finishMeasure(); } });

  /* ---------- print view: legend, scale bar, north arrow, title, extent and date ---------- */
  var North = L.Control.extend({
    options: {position: "topright"},
    onAdd: function () {
      var div = L.DomUtil.create("div", "gp-north");
      div.id = "gp-north";
      div.setAttribute("aria-label", msg("map.north"));
      var ns = "http://www.w3.org/2000/svg";
      var svg = document.createElementNS(ns, "svg");
      svg.setAttribute("viewBox", "0 0 40 56");
      svg.setAttribute("width", "34");
      svg.setAttribute("height", "48");
      [["M20 16 L30 50 L20 42 Z", "#1d3557"], ["M20 16 L10 50 L20 42 Z", "#ffffff"]].forEach(function (d) {
        var path = document.createElementNS(ns, "path");
        path.setAttribute("d", d[0]);
        path.setAttribute("fill", d[1]);
        path.setAttribute("stroke", "#1d3557");
        path.setAttribute("stroke-width", "1.5");
        svg.appendChild(path);
      });
      var text = document.createElementNS(ns, "text");
      text.setAttribute("x", "20");
      text.setAttribute("y", "13");
      text.setAttribute("text-anchor", "middle");
      text.setAttribute("font-size", "13");
      text.setAttribute("font-weight", "700");
      text.setAttribute("fill", "#1d3557");
      text.textContent = msg("map.north");
      svg.appendChild(text);
      div.appendChild(svg);
      return div;
    }
  });
  new North().addTo(map);

  function printScope() {
    var s = (state.streets || []).filter(function (x) { return x.code === state.street; })[0];
    return s ? s.name : msg("map.print_scope_district");
  }

  function enterPrint() {
    finishMeasure();
    map.closePopup();
    var header = document.getElementById("gp-print-header");
    document.getElementById("gp-print-title").textContent = msg("app.title");
    document.getElementById("gp-print-scope").textContent = msg("map.print_scope", {scope: printScope()});
    document.getElementById("gp-print-date").textContent = msg("map.print_date", {date: config.today});
    header.hidden = false;
    var centre = map.getCenter(), zoom = map.getZoom();
    document.body.classList.add("gp-print-mode");
    map.invalidateSize({pan: false});
    map.setView(centre, zoom, {animate: false});
    renderLegend();
  }

  function leavePrint() {
    var centre = map.getCenter(), zoom = map.getZoom();
    document.body.classList.remove("gp-print-mode");
    document.getElementById("gp-print-header").hidden = true;
    map.invalidateSize({pan: false});
    map.setView(centre, zoom, {animate: false});
  }
  gp.enterPrint = enterPrint;
  gp.leavePrint = leavePrint;

  function setupPrint() {
    document.getElementById("gp-print-now").addEventListener("click", function () { window.print(); });
    document.getElementById("gp-print-close").addEventListener("click", leavePrint);
    // Ctrl+P without the preview still prints the map with its header, legend, scale and north arrow
    window.addEventListener("beforeprint", function () { if (!document.body.classList.contains("gp-print-mode")) { enterPrint(); } });
  }

  /* ---------- the tools control: measure and print ---------- */
  var Tools = L.Control.extend({
    options: {position: "topleft"},
    onAdd: function () {
      var div = L.DomUtil.create("div", "gp-tools leaflet-bar");
      div.id = "gp-tools";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      function icon(d) {  // a 16×16 stroked icon (no icon font needed)
        var ns = "http://www.w3.org/2000/svg";
        var svg = document.createElementNS(ns, "svg");
        svg.setAttribute("viewBox", "0 0 16 16");
        svg.setAttribute("width", "16");
        svg.setAttribute("height", "16");
        svg.setAttribute("aria-hidden", "true");
        var path = document.createElementNS(ns, "path");
        path.setAttribute("d", d);
        path.setAttribute("fill", "none");
        path.setAttribute("stroke", "currentColor");
        path.setAttribute("stroke-width", "1.6");
        path.setAttribute("stroke-linejoin", "round");
        svg.appendChild(path);
        return svg;
      }
      function button(id, d, title, onClick, mode) {
        var b = el("button", {type: "button", className: "gp-tool", id: id, title: title, "aria-label": title}, [icon(d)]);
        if (mode) { b.dataset.mode = mode; }
        b.addEventListener("click", onClick);
        div.appendChild(b);
        return b;
      }
      button("gp-measure-distance", "M1 11 L11 1 L15 5 L5 15 Z M4 8 L6 10 M6 6 L8 8 M8 4 L10 6", msg("map.measure_distance"),
        function () { startMeasure("distance"); }, "distance");
      button("gp-measure-area", "M2 4 L9 2 L14 7 L11 14 L3 12 Z", msg("map.measure_area"), function () { startMeasure("area"); }, "area");
      button("gp-measure-clear", "M3 3 L13 13 M13 3 L3 13", msg("map.measure_clear"), clearMeasure);
      button("gp-print", "M4 6 V1.5 H12 V6 M4 12 H2 V6 H14 V12 H12 M4 9.5 H12 V14.5 H4 Z", msg("map.print_title"), enterPrint);
      var finish = el("button", {type: "button", className: "gp-tool gp-tool-wide", id: "gp-measure-finish", text: msg("map.measure_finish")});
      finish.hidden = true;
      finish.addEventListener("click", finishMeasure);
      div.appendChild(finish);
      var out = el("div", {className: "gp-measure-result", id: "gp-measure-result", role: "status"});
      out.hidden = true;
      div.appendChild(out);
      return div;
    }
  });
  new Tools().addTo(map);

  /* ---------- start ---------- */
  config.layers.forEach(function (meta) {
    var remembered = null;
    try { remembered = localStorage.getItem("gp.layer." + meta.id); } catch (e) { /* private mode */ }
    var tiled = isTiled(meta);
    // a tiled layer's group holds its tile layer, or below its detail_zoom the GeoJSON dot map (tiles have no dots)
    state.layers[meta.id] = {meta: meta, tiled: tiled, group: makeLayer(meta),
      active: remembered === null ? !!meta.visible : remembered === "1", count: 0, key: null, loading: false};
  });
  gp.featureCount = function (id) { return state.layers[id] ? state.layers[id].count : -1; };
  // whether a layer is drawn from vector tiles (above config.tiles.threshold), and whether its tile layer is on the map
  gp.tiled = function (id) { return !!(state.layers[id] && state.layers[id].tiled); };
  gp.tileLayerOn = function (id) { var st = state.layers[id]; return !!(st && st.tileLayer && map.hasLayer(st.tileLayer)); };
  // tiled layers that are on: how many have drawn every tile of the view, how many are still loading or drawing
  function tiledOn() {  // (below its min_zoom a layer draws nothing: not waited for)
    return Object.keys(state.layers).map(function (id) { return state.layers[id]; }).filter(function (st) {
      return st.tiled && st.active && !st.failed && map.getZoom() >= st.meta.min_zoom && !dotMap(st, map.getZoom()); });
  }
  gp.tilesDrawn = function () { return tiledOn().filter(function (st) { return st.tileLayer && st.drawn; }).length; };
  gp.tilesPending = function () { return tiledOn().filter(function (st) { return !(st.tileLayer && st.drawn); }).length; };
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
  try { remembered = localStorage.getItem("gp.basemap.chosen"); } catch (e) { /* private mode */ }
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
  setupPrint();
  loadKpi();
  var timer = null;
  map.on("moveend", function () { writeHash(); clearTimeout(timer); timer = setTimeout(reloadAll, 120); });
  writeHash();
  reloadAll();
})();
