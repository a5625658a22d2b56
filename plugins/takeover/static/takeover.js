/* State company takeover workspace: sortable candidates with score bars, optimal selection vs greedy,
 * save as the year's shortlist, pipeline board (candidate → … → serving), map of candidates/selection.
 * Data is always inserted as text (textContent / DOM nodes), never as HTML. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("tk-config").textContent);
  var map = window[config.map];
  var M = config.messages;
  var C = window.gpWs;
  var tk = window.wsTakeover = {map: map, config: config, layers: {}, loads: 0, busy: 0, result: null, lastParams: null};

  var msg = C.messages(M), el = C.el, safeColor = C.safeColor, flash = C.flash;
  var request = C.sender(config.csrf, tk);

  function fmt(v, digits) {
    if (v === null || v === undefined || v === "") { return "–"; }
    if (typeof v === "number") { return v.toLocaleString(undefined, {maximumFractionDigits: digits === undefined ? 2 : digits}); }
    return String(v);
  }

  /* ---------- map: candidates by score, the pipeline, and the computed selection ---------- */
  var STATE_WEIGHT = {shortlisted: 3, tendering: 3, contracted: 3.5, serving: 4};

  function styleFor(meta, f) {
    var p = f.properties || {};
    var c = safeColor(p._color);
    if (meta.id === "takeover_shortlist") { return {color: c, weight: STATE_WEIGHT[p.takeover_state] || 3, fill: false}; }
    return {color: "#6c757d", weight: 0.6, fillColor: c, fillOpacity: 0.55};
  }

  function popupFor(title, rows, cid) {
    var trs = rows.map(function (r) { return el("tr", {}, [el("th", {text: r[0]}), el("td", {text: fmt(r[1])})]); });
    var box = el("div", {className: "gp-popup"}, [el("div", {className: "gp-popup-title", text: title}),
      el("table", {className: "gp-fields"}, [el("tbody", {}, trs)])]);
    if (cid !== null && cid !== undefined) {
      box.appendChild(el("a", {href: config.compound_page.replace("__ID__", encodeURIComponent(String(cid))),
        text: msg("ws_takeover.detail") + " →"}));
    }
    return box;
  }

  function display(attr, value) {
    if (value === null || value === undefined || value === "") { return "–"; }
    return value;
  }

  function makeLayer(meta) {
    return L.geoJSON(null, {
      style: function (f) { return styleFor(meta, f); },
      pointToLayer: function (f, latlng) {
        var p = f.properties || {};
        return L.circleMarker(latlng, meta.id === "takeover_shortlist" ?
          {radius: 8, color: safeColor(p._color), weight: 3, fill: false} :
          {radius: 5, color: "#fff", weight: 1, fillColor: safeColor(p._color), fillOpacity: 0.9});
      },
      onEachFeature: function (f, layer) {
        var p = f.properties || {};
        layer.bindPopup(function () {
          return popupFor(meta.title, meta.popup.map(function (x) { return [x.label, display(x.attribute, p[x.attribute])]; }), f.id);
        }, {maxWidth: 340});
        var tip = meta.tooltip.map(function (x) { return fmt(p[x.attribute]); }).filter(function (v) { return v !== "–"; }).join(" · ");
        if (tip) { layer.bindTooltip(el("span", {text: tip}), {sticky: true}); }
        layer.on("click", function () { highlightRow(f.id); });
      }
    }).addTo(map);
  }

  function setStatus() {
    var loading = Object.keys(tk.layers).some(function (id) { return tk.layers[id].pending > 0; });
    var s = document.getElementById("gp-status");
    s.textContent = loading ? (M["map.loading"] || "…") : "";
    s.hidden = !loading;
    document.body.dataset.wsLoading = loading ? "1" : "0";
  }

  /* the street filter of the candidates: only these compound ids are drawn (null = all) */
  tk.only = null;
  function filtered(data) {
    if (!tk.only) { return data; }
    return {type: "FeatureCollection", features: (data.features || []).filter(function (f) { return tk.only[String(f.id)]; })};
  }

  /* a layer may be reloaded while an older request is still out: only the latest answer is drawn */
  function loadLayer(id) {
    var st = tk.layers[id];
    var seq = ++st.seq;
    st.pending++; setStatus();
    function done() { st.pending--; setStatus(); }
    return C.fetchFeatures(config.features, id, {lang: config.lang})
      .then(function (data) {
        if (seq === st.seq) {
          st.data = data;
          st.group.clearLayers();
          st.group.addData(filtered(data));
          st.ids = (data.features || []).map(function (f) { return String(f.id); });
          st.states = {};
          (data.features || []).forEach(function (f) { st.states[String(f.id)] = (f.properties || {}).takeover_state; });
          tk.loads++;
          if (id === "takeover_candidates" && !tk.fitted && st.group.getLayers().length) {
            tk.fitted = true;
            map.fitBounds(st.group.getBounds().pad(0.05));
          }
        }
        done();
      })
      .catch(function () { st.failed = true; done(); });
  }

  function reloadMap() { return Promise.all(Object.keys(tk.layers).map(loadLayer)); }
  tk.reloadMap = reloadMap;
  tk.hasFeature = function (id, fid) { return !!(tk.layers[id] && tk.layers[id].ids && tk.layers[id].ids.indexOf(String(fid)) >= 0); };
  tk.stateOnMap = function (fid) { var st = tk.layers.takeover_shortlist; return st && st.states ? st.states[String(fid)] || null : null; };

  /* district and street outlines (street names as labels) under the candidates */
  tk.outlines = {};
  (config.outlines || []).forEach(function (meta) {
    var street = meta.id === "streets";
    var group = L.geoJSON(null, {
      interactive: false,
      style: function () {
        return street ? {color: "#6a1b9a", weight: 1.2, dashArray: "5 4", fill: false} : {color: "#b71c1c", weight: 2.5, fill: false};
      },
      onEachFeature: function (f, layer) {
        var name = (f.properties || {}).name;
        if (street && name) {
          layer.bindTooltip(el("span", {text: String(name)}), {permanent: true, direction: "center", className: "tk-street-label"});
        }
      }
    }).addTo(map);
    group.bringToBack();
    tk.outlines[meta.id] = group;
    C.fetchFeatures(config.features, meta.id, {lang: config.lang}).then(function (data) {
      group.addData(data);
      group.bringToBack();
      tk.outlinesLoaded = (tk.outlinesLoaded || 0) + 1;
    }).catch(function () { tk.outlinesFailed = true; });
  });

  config.layers.forEach(function (meta) {
    tk.layers[meta.id] = {meta: meta, group: makeLayer(meta), ids: [], pending: 0, seq: 0};
  });

  var resultLayer = L.geoJSON(null, {
    style: function (f) {
      return f.properties.role === "selected" ? {color: "#c1121f", weight: 3, fillColor: "#c1121f", fillOpacity: 0.35} :
        {color: "#495057", weight: 2, dashArray: "4 3", fill: false};
    },
    pointToLayer: function (f, latlng) {
      return f.properties.role === "selected" ?
        L.circleMarker(latlng, {radius: 8, color: "#fff", weight: 2, fillColor: "#c1121f", fillOpacity: 0.95}) :
        L.circleMarker(latlng, {radius: 8, color: "#495057", weight: 2, dashArray: "3 2", fill: false});
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindTooltip(el("span", {text: (p.role === "selected" ? p.n + ". " : "") + p.name + " · " +
        msg(p.role === "selected" ? "ws_takeover.map_selected" : "ws_takeover.map_greedy")}), {sticky: true});
      layer.on("click", function () { highlightRow(f.id); });
    }
  }).addTo(map);
  tk.resultLayer = resultLayer;

  var Legend = L.Control.extend({
    options: {position: "topright"},
    onAdd: function () {
      var div = L.DomUtil.create("div", "gp-legend ws-legend");
      div.id = "tk-map-legend";
      config.layers.forEach(function (meta) {
        var block = el("div", {className: "gp-legend-layer"}, [el("div", {className: "gp-legend-title", text: meta.title})]);
        (meta.legend && meta.legend.rules || []).forEach(function (r) {
          var sw = el("i", {className: "gp-swatch"});
          sw.style.background = safeColor(r.color);
          block.appendChild(el("div", {className: "gp-legend-item"}, [sw, el("span", {text: r.label})]));
        });
        div.appendChild(block);
      });
      var own = el("div", {className: "gp-legend-layer"});
      [["#c1121f", "ws_takeover.map_selected"], ["#495057", "ws_takeover.map_greedy"]].forEach(function (x) {
        var sw = el("i", {className: "gp-swatch"});
        sw.style.background = x[0];
        own.appendChild(el("div", {className: "gp-legend-item"}, [sw, el("span", {text: msg(x[1])})]));
      });
      div.appendChild(own);
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    }
  });
  new Legend().addTo(map);
  map.attributionControl.setPrefix(false);
  reloadMap();

  function focusOnMap(cid) {
    var found = [];
    [resultLayer].concat(Object.keys(tk.layers).map(function (k) { return tk.layers[k].group; })).forEach(function (g) {
      g.eachLayer(function (l) { if (l.feature && String(l.feature.id) === String(cid)) { found.push(l); } });
    });
    if (!found.length) { return false; }
    var l = found[0];
    if (l.getBounds) { map.fitBounds(l.getBounds().pad(1.5), {maxZoom: 17}); } else { map.setView(l.getLatLng(), 17); }
    l.openTooltip && l.openTooltip();
    return true;
  }
  tk.focusOnMap = focusOnMap;

  function highlightRow(cid) {
    document.querySelectorAll("#tk-candidates tr.tk-focus").forEach(function (r) { r.classList.remove("tk-focus"); });
    var row = document.querySelector('#tk-candidates tr.tk-cand[data-id="' + CSS.escape(String(cid)) + '"]');
    if (row) { row.classList.add("tk-focus"); row.scrollIntoView({block: "nearest"}); }
  }

  /* ---------- candidates: client-side sort, component bars ---------- */
  var table = document.getElementById("tk-candidates");
  function sortBy(th) {
    var idx = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.dataset.sort === "num";
    var asc = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th[aria-sort]").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[idx].dataset.v, y = b.cells[idx].dataset.v;
      if (numeric) {
        var nx = x === "" ? NaN : parseFloat(x), ny = y === "" ? NaN : parseFloat(y);
        if (isNaN(nx) && isNaN(ny)) { return 0; }
        if (isNaN(nx)) { return 1; }  /* unknowns last either way */
        if (isNaN(ny)) { return -1; }
        return asc ? nx - ny : ny - nx;
      }
      var c = String(x).localeCompare(String(y), "zh-CN");
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  /* the eight components of one candidate as labelled bars: name (weight), share of the weight, points */
  function componentDetail(bar) {
    var points = String(bar.dataset.points || "").split(",").map(parseFloat);
    var box = el("div", {className: "tk-detail", hidden: "hidden"});
    config.components.forEach(function (comp, i) {
      var pts = isNaN(points[i]) ? 0 : points[i];
      var fill = el("span");
      fill.style.width = Math.max(0, Math.min(100, comp.weight ? pts / comp.weight * 100 : 0)) + "%";
      fill.style.background = safeColor(comp.colour);
      box.appendChild(el("div", {className: "tk-detail-row"}, [
        el("span", {className: "tk-detail-name", title: comp.name, text: comp.short + "（" + msg("ws_takeover.weight", {"w:g": comp.weight}) + "）"}),
        el("span", {className: "tk-mini"}, [fill]), el("span", {className: "tk-detail-pts", text: fmt(pts)})]));
    });
    return box;
  }

  if (table) {
    table.querySelectorAll("th[data-sort]").forEach(function (th) {
      th.setAttribute("tabindex", "0");
      th.addEventListener("click", function () { sortBy(th); });
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sortBy(th); } });
    });
    table.addEventListener("click", function (e) {
      var bar = e.target.closest(".tk-bar");
      if (bar) {
        var detail = bar.parentNode.querySelector(".tk-detail") || bar.parentNode.appendChild(componentDetail(bar));
        detail.hidden = !detail.hidden;
        bar.setAttribute("aria-expanded", detail.hidden ? "false" : "true");
        return;
      }
      if (e.target.closest("a")) { return; }
      var row = e.target.closest("tr.tk-cand");
      if (row) { highlightRow(row.dataset.id); focusOnMap(row.dataset.id); }
    });
  }
  /* the street filter: rows of other streets hidden, the map shows the remaining candidates */
  var streetFilter = document.getElementById("tk-street-filter");
  function applyStreetFilter() {
    var code = streetFilter.value, shown = 0, total = 0, only = {};
    table.querySelectorAll("tr.tk-cand").forEach(function (r) {
      total++;
      var hide = !!code && r.dataset.street !== code;
      r.hidden = hide;
      if (!hide) { shown++; only[r.dataset.id] = true; }
    });
    tk.only = code ? only : null;
    document.getElementById("tk-filter-count").textContent = msg("ws_takeover.filtered", {shown: shown, total: total});
    var bounds = null;
    Object.keys(tk.layers).forEach(function (id) {
      var st = tk.layers[id];
      if (!st.data) { return; }
      st.group.clearLayers();
      st.group.addData(filtered(st.data));
      if (id === "takeover_candidates" && st.group.getLayers().length) { bounds = st.group.getBounds(); }
    });
    if (code && bounds && bounds.isValid()) { map.fitBounds(bounds.pad(0.2), {maxZoom: 16}); }
    tk.filterStreet = code;
  }
  if (streetFilter && table) { streetFilter.addEventListener("change", applyStreetFilter); }
  tk.applyStreetFilter = applyStreetFilter;

  tk.columnValues = function (i) {
    return Array.prototype.map.call(table.tBodies[0].rows, function (r) { return r.cells[i].dataset.v; });
  };

  /* ---------- parameters → optimal selection vs greedy ---------- */
  var form = document.getElementById("tk-params");
  var saveBtn = document.getElementById("tk-save");
  var FIELDS = ["min", "max", "budget", "per_street_max", "contiguity_weight"];

  function readParams() {
    var p = {};
    FIELDS.forEach(function (f) { var v = form.elements[f].value.trim(); if (v !== "") { p[f] = v; } });
    if (form.elements.include_community_managed.checked) { p.include_community_managed = "1"; }
    return p;
  }

  // the pool itself changes and the candidates table is rendered by the server: reload the page with it
  form.elements.include_community_managed.addEventListener("change", function (e) {
    var url = new URL(window.location.href);
    if (e.target.checked) { url.searchParams.set("include_community_managed", "1"); }
    else { url.searchParams.delete("include_community_managed"); }
    document.body.dataset.wsLoading = "1";
    window.location.assign(url.toString());
  });

  function clearErrors() {
    FIELDS.forEach(function (f) {
      form.elements[f].classList.remove("is-invalid");
      document.getElementById("tk-err-" + f).textContent = "";
    });
  }

  function figure(label, value, good) {
    return el("div", {className: "tk-figure" + (good ? " tk-good" : "")}, [
      el("div", {className: "tk-fig-label", text: label}), el("div", {className: "tk-fig-value", text: value})]);
  }

  function nameList(items) {
    if (!items.length) { return el("p", {className: "text-muted mb-1", text: "–"}); }
    return el("ul", {}, items.map(function (x) { return el("li", {text: x.name + "（" + x.compound_id + "）"}); }));
  }

  function renderResult(d) {
    var box = document.getElementById("tk-result");
    box.textContent = "";
    box.dataset.state = "ok";
    box.dataset.objective = d.objective;
    box.dataset.greedy = d.baseline_greedy_objective === null ? "" : d.baseline_greedy_objective;
    box.dataset.optimal = d.optimal ? "true" : "false";
    var gain = d.gain === null ? "" : (d.gain > 0.005 ? msg("ws_takeover.gain", {gain: fmt(d.gain)}) : msg("ws_takeover.same"));
    box.appendChild(el("div", {className: "tk-summary"}, [
      figure(msg("ws_takeover.objective"), fmt(d.objective), d.gain !== null && d.gain > 0.005),
      figure(msg("ws_takeover.greedy"), d.baseline_greedy_objective === null ? msg("takeover.greedy_none") : fmt(d.baseline_greedy_objective)),
      figure(msg("ws_takeover.selected"), String(d.selected.length) + " · " + msg("ws_takeover.total_cost", {cost: fmt(d.total_cost)}))
    ]));
    box.appendChild(el("div", {}, [
      el("span", {id: "tk-optimal", className: d.optimal ? "tk-badge-optimal" : "tk-badge-heuristic",
        text: d.optimal ? msg("ws_takeover.optimal_flag") : msg("ws_takeover.not_optimal_flag")}),
      el("span", {className: "ms-2", id: "tk-gain", text: gain})]));
    box.appendChild(el("div", {className: "tk-summary-line", id: "tk-summary-line", text: d.summary}));
    if (d.excluded_unknown_cost && d.excluded_unknown_cost.length) {
      box.appendChild(el("div", {className: "ws-flag", text: msg("ws_takeover.excluded", {n: d.excluded_unknown_cost.length})}));
    }
    var rows = d.details.map(function (c, i) {
      var bar = el("span", {className: "tk-bar", title: c.score});
      config.components.forEach(function (comp) {
        var seg = el("span", {className: "tk-seg", title: comp.short + " " + c.components[comp.id].points + "/" + comp.weight});
        seg.style.width = Math.max(0, Math.min(100, c.components[comp.id].points)) + "%";
        seg.style.background = safeColor(comp.colour);
        bar.appendChild(seg);
      });
      var page = (c.members && c.members.length) ? c.members[0] : c.compound_id;  // a new bundle: its first member
      var link = el("a", {href: config.compound_page.replace("__ID__", encodeURIComponent(page)), text: c.name});
      var show = el("button", {type: "button", className: "btn btn-link btn-sm p-0 ms-1", text: msg("ws_takeover.show")});
      show.addEventListener("click", function () { focusOnMap(c.compound_id); });
      return el("tr", {className: "tk-sel", "data-id": c.compound_id}, [
        el("td", {className: "num", text: String(i + 1)}), el("td", {}, [link, show]), el("td", {text: c.street_name}),
        el("td", {className: "num", text: fmt(c.score)}), el("td", {}, [bar]),
        el("td", {text: M["takeover.tender_short." + c.tender_mode] || c.tender_mode}),
        el("td", {className: "num", text: fmt(c.takeover_cost)})]);
    });
    box.appendChild(el("div", {className: "ws-section-title", text: msg("ws_takeover.selected")}));
    box.appendChild(el("table", {className: "table table-sm ws-table", id: "tk-selected"}, [
      el("thead", {}, [el("tr", {}, ["col.n", "col.name", "col.street", "col.score", "col.components", "col.tender", "col.cost"]
        .map(function (k) { return el("th", {text: msg("ws_takeover." + k)}); }))]),
      el("tbody", {}, rows)]));
    box.appendChild(el("div", {className: "ws-section-title", text: msg("ws_takeover.diff")}));
    if (!d.diff.only_optimal.length && !d.diff.only_greedy.length) {
      box.appendChild(el("p", {className: "text-muted", id: "tk-no-diff", text: msg("ws_takeover.no_diff")}));
    } else {
      box.appendChild(el("div", {className: "tk-diff", id: "tk-diff"}, [
        el("div", {"data-role": "only-optimal"}, [el("b", {text: msg("ws_takeover.only_optimal")}), nameList(d.diff.only_optimal)]),
        el("div", {"data-role": "only-greedy"}, [el("b", {text: msg("ws_takeover.only_greedy")}), nameList(d.diff.only_greedy)])]));
    }
    var picked = {};
    d.selected.forEach(function (id) { picked[id] = true; });
    document.querySelectorAll("#tk-candidates tr.tk-cand").forEach(function (r) { r.classList.toggle("tk-picked", !!picked[r.dataset.id]); });
    resultLayer.clearLayers();
    resultLayer.addData(d.features);
    if (resultLayer.getLayers().length) { map.fitBounds(resultLayer.getBounds().pad(0.15), {maxZoom: 15}); }
  }

  function renderInfeasible(d) {
    var box = document.getElementById("tk-result");
    box.textContent = "";
    box.dataset.state = "infeasible";
    box.dataset.constraint = d.constraint || "";
    box.appendChild(el("div", {className: "tk-infeasible", id: "tk-infeasible"}, [
      el("b", {text: msg("ws_takeover.infeasible")}), el("div", {text: d.error}),
      el("div", {className: "tk-detail-line", text: d.detail || ""})]));
    resultLayer.clearLayers();
  }

  function run() {
    clearErrors();
    var params = readParams();
    var box = document.getElementById("tk-result");
    box.dataset.state = "busy";
    box.textContent = msg("ws_takeover.computing");
    saveBtn.disabled = true;
    return request("GET", config.actions.select + "?" + new URLSearchParams(params).toString()).then(function (res) {
      if (res.status === 200) {
        tk.result = res.data;
        tk.lastParams = params;
        renderResult(res.data);
        saveBtn.disabled = false;
      } else if (res.status === 400 && res.data.field && form.elements[res.data.field]) {
        form.elements[res.data.field].classList.add("is-invalid");
        document.getElementById("tk-err-" + res.data.field).textContent = res.data.error;
        box.dataset.state = "invalid";
        box.textContent = res.data.error;
      } else if (res.status === 422) {
        renderInfeasible(res.data);
      } else {
        box.dataset.state = "error";
        box.textContent = msg("ws_takeover.error", {message: res.data.error || ("HTTP " + res.status)});
      }
    }).catch(function (err) { box.dataset.state = "error"; box.textContent = String(err); });
  }
  tk.run = run;

  form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
  saveBtn.addEventListener("click", function () {
    if (!tk.lastParams) { return; }
    saveBtn.disabled = true;
    var body = Object.assign({}, tk.lastParams, {year: String(config.year)});
    request("POST", config.actions.save, body).then(function (res) {
      if (res.status === 200) {
        flash(res.data.message, true);
        renderBoard(res.data.board);
        markStates(res.data.board);
        document.body.dataset.tkSaved = String(config.year);
        reloadMap();
      } else {
        flash(msg("ws_takeover.error", {message: res.data.error || ("HTTP " + res.status)}), false);
        saveBtn.disabled = false;
      }
    });
  });

  /* ---------- pipeline board ---------- */
  function card(c) {
    var moves = el("div", {className: "tk-moves"}, c.next.map(function (mv) {
      return el("button", {type: "button", className: "btn btn-sm py-0 tk-move " +
        (mv.state === "candidate" ? "btn-outline-secondary" : "btn-outline-primary"), "data-to": mv.state, text: mv.label});
    }));
    return el("div", {className: "tk-card", "data-id": c.compound_id, "data-state": c.state, "data-name": c.name}, [
      el("a", {className: "tk-card-name", href: config.compound_page.replace("__ID__", encodeURIComponent(c.compound_id)), text: c.name}),
      el("div", {className: "ws-muted", text: c.street_name + (c.score === null ? "" : " · " + c.score + " 分")}),
      el("div", {className: "ws-muted tk-card-by", text: (c.updated_by || "") + " " + (c.updated_at || "")}), moves]);
  }

  function renderBoard(b) {
    var total = 0;
    config.states.forEach(function (st) {
      var col = document.querySelector('.tk-col[data-state="' + st + '"]');
      var body = col.querySelector(".tk-col-body");
      body.textContent = "";
      (b[st] || []).forEach(function (c) { body.appendChild(card(c)); });
      col.querySelector(".tk-col-count").textContent = String((b[st] || []).length);
      if (st !== "candidate") { total += (b[st] || []).length; }
    });
    document.getElementById("tk-board-count").textContent = String(total);
    var none = document.getElementById("tk-board-none");
    if (none) { none.remove(); }
  }

  function markStates(b) {
    var states = {};
    config.states.forEach(function (st) { (b[st] || []).forEach(function (c) { states[c.compound_id] = st; }); });
    document.querySelectorAll("#tk-candidates tr.tk-cand").forEach(function (r) {
      var st = states[r.dataset.id];
      if (!st) { return; }
      r.dataset.state = st;
      var cell = r.cells[r.cells.length - 1];
      cell.dataset.v = st;
      cell.textContent = "";
      cell.appendChild(el("span", {className: "tk-state tk-state-" + st, text: msg("ws_takeover.state." + st)}));
    });
  }

  function setCoverage(cov, up) {
    var box = document.getElementById("tk-coverage");
    document.getElementById("tk-coverage-rate").textContent = ((cov.coverage_rate || 0) * 100).toFixed(1) + "%";
    document.getElementById("tk-coverage-detail").textContent = msg("ws_takeover.coverage_detail", {served: cov.served, total: cov.compounds});
    box.dataset.rate = cov.coverage_rate;
    box.dataset.served = cov.served;
    if (up) { box.classList.remove("tk-up"); void box.offsetWidth; box.classList.add("tk-up"); }
  }

  function move(cardEl, to, terms) {
    var cid = cardEl.dataset.id;
    cardEl.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    var body = {compound_id: cid, state: to, year: config.year};
    Object.keys(terms || {}).forEach(function (k) { body[k] = terms[k]; });
    request("POST", config.actions.advance, body).then(function (res) {
      if (res.status === 200) {
        flash(res.data.message, true);
        renderBoard(res.data.board);
        markStates(res.data.board);
        var moved = document.querySelector('.tk-card[data-id="' + CSS.escape(cid) + '"]');
        if (moved) { moved.classList.add("tk-moved"); }
        setCoverage(res.data.coverage, res.data.coverage.served > res.data.coverage_before.served);
        reloadMap();
      } else {
        flash(msg("ws_takeover.error", {message: res.data.error || ("HTTP " + res.status)}), false);
        cardEl.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      }
    });
  }

  document.getElementById("tk-board").addEventListener("click", function (e) {
    var btn = e.target.closest("button");
    if (!btn) { return; }
    var cardEl = btn.closest(".tk-card");
    if (btn.classList.contains("tk-cancel")) { btn.closest(".tk-confirm").remove(); return; }
    if (btn.classList.contains("tk-confirm-btn")) { move(cardEl, "serving"); return; }
    if (btn.classList.contains("tk-contract-btn")) {  // the contract the tender's winner signs (RULES §4/§7)
      var box = btn.closest(".tk-confirm");
      move(cardEl, "contracted", {company: box.querySelector(".tk-c-company").value.trim(),
                                  contract_start: box.querySelector(".tk-c-start").value,
                                  contract_end: box.querySelector(".tk-c-end").value});
      return;
    }
    if (btn.classList.contains("tk-tender-btn")) {  // the tender the plan allows: public or invited (RULES §4)
      var tbox = btn.closest(".tk-confirm");
      move(cardEl, "tendering", {mode: tbox.querySelector(".tk-t-mode").value,
                                 bidders: tbox.querySelector(".tk-t-bidders").value});
      return;
    }
    if (!btn.classList.contains("tk-move")) { return; }
    var to = btn.dataset.to;
    var label = function (text, input) { return el("label", {className: "d-block small mt-1"}, [text, input]); };
    if (to === "tendering") {
      if (cardEl.querySelector(".tk-confirm")) { return; }
      var modes = el("select", {className: "form-select form-select-sm tk-t-mode"}, [
        el("option", {value: "public", text: msg("ws_takeover.tender_public")}),
        el("option", {value: "invited", text: msg("ws_takeover.tender_invited")})]);
      cardEl.appendChild(el("div", {className: "tk-confirm tk-tender"}, [
        el("div", {text: msg("ws_takeover.tender_title", {name: cardEl.dataset.name, area: config.tender.area,
                                                         least: config.tender.least})}),
        label(msg("ws_takeover.tender_mode"), modes),
        label(msg("ws_takeover.tender_bidders"), el("input", {className: "form-control form-control-sm tk-t-bidders",
                                                             type: "number", min: "0", step: "1",
                                                             value: String(config.tender.least)})),
        el("button", {type: "button", className: "btn btn-sm btn-success py-0 mt-1 tk-tender-btn", text: msg("ws_takeover.confirm")}),
        el("button", {type: "button", className: "btn btn-sm btn-link py-0 mt-1 tk-cancel", text: msg("ws_takeover.cancel")})]));
      return;
    }
    if (to === "contracted") {
      if (cardEl.querySelector(".tk-confirm")) { return; }
      cardEl.appendChild(el("div", {className: "tk-confirm tk-contract"}, [
        el("div", {text: msg("ws_takeover.contract_title", {name: cardEl.dataset.name})}),
        label(msg("ws_takeover.contract_company"), el("input", {className: "form-control form-control-sm tk-c-company",
                                                               value: config.contract.company, maxlength: "200"})),
        label(msg("ws_takeover.contract_start"), el("input", {className: "form-control form-control-sm tk-c-start",
                                                             type: "date", value: config.contract.start})),
        label(msg("ws_takeover.contract_end"), el("input", {className: "form-control form-control-sm tk-c-end",
                                                           type: "date", value: config.contract.end})),
        el("button", {type: "button", className: "btn btn-sm btn-success py-0 mt-1 tk-contract-btn", text: msg("ws_takeover.confirm")}),
        el("button", {type: "button", className: "btn btn-sm btn-link py-0 mt-1 tk-cancel", text: msg("ws_takeover.cancel")})]));
      return;
    }
    if (to !== "serving") { move(cardEl, to); return; }
    if (cardEl.querySelector(".tk-confirm")) { return; }
    cardEl.appendChild(el("div", {className: "tk-confirm"}, [
      el("div", {text: msg("ws_takeover.confirm_serving", {name: cardEl.dataset.name})}),
      el("button", {type: "button", className: "btn btn-sm btn-success py-0 mt-1 tk-confirm-btn", text: msg("ws_takeover.confirm")}),
      el("button", {type: "button", className: "btn btn-sm btn-link py-0 mt-1 tk-cancel", text: msg("ws_takeover.cancel")})]));
  });

  document.getElementById("tk-year").addEventListener("change", function () { document.getElementById("tk-year-form").submit(); });

  tk.ready = true;
})();
