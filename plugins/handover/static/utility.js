/* Utility workspace: the facility's handover layer on the map, and per row a form that moves the row along
 * RULES §2 over PATCH /api/v1/handovers/COMPOUND/FACILITY (400 → the allowed next states, 409 → reload),
 * adds ledger items and marks them done. Data is always inserted as text (textContent), never as HTML. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("ws-config").textContent);
  var map = window[config.map];
  var M = config.messages;
  var LABELS = config.labels;
  var C = window.gpWs;
  var ws = window.wsUtility = {map: map, config: config, loads: 0, count: 0, ids: []};

  var msg = C.messages(M), el = C.el, safeColor = C.safeColor, flash = C.flash;
  var send = C.sender(config.csrf);

  function stateLabel(s) { return (LABELS.handover_state && LABELS.handover_state[s]) || s; }

  /* ---------- map: compounds coloured by this facility's handover state ---------- */
  var meta = config.layers[0];
  var group = null;
  if (meta) {
    group = L.geoJSON(null, {
      style: function (f) {
        var c = safeColor(f.properties && f.properties._color);
        return {color: c, weight: 1, fillColor: c, fillOpacity: 0.45};
      },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {radius: 5, color: "#fff", weight: 1, fillColor: safeColor(f.properties && f.properties._color), fillOpacity: 0.9});
      },
      onEachFeature: function (f, layer) {
        layer.bindPopup(function () {
          var p = f.properties || {};
          var rows = meta.popup.map(function (x) {
            var v = p[x.attribute];
            return el("tr", {}, [el("th", {text: x.label}), el("td", {text: v === null || v === undefined ? "–" : String(v)})]);
          });
          return el("div", {className: "gp-popup"}, [el("div", {className: "gp-popup-title", text: meta.title}),
            el("table", {className: "gp-fields"}, [el("tbody", {}, rows)]),
            el("a", {href: config.compound_page.replace("__ID__", encodeURIComponent(String(f.id))), text: msg("ws_utility.detail") + " →"})]);
        }, {maxWidth: 340});
        var tip = (f.properties || {}).name;
        if (tip) { layer.bindTooltip(el("span", {text: String(tip)}), {sticky: true}); }
      }
    }).addTo(map);

    var Legend = L.Control.extend({
      options: {position: "topright"},
      onAdd: function () {
        var div = L.DomUtil.create("div", "gp-legend ws-legend");
        div.id = "ws-legend";
        div.appendChild(el("div", {className: "gp-legend-title", text: meta.title}));
        (meta.legend && meta.legend.rules || []).forEach(function (r) {
          var sw = el("i", {className: "gp-swatch"});
          sw.style.background = safeColor(r.color);
          div.appendChild(el("div", {className: "gp-legend-item"}, [sw, el("span", {text: r.label})]));
        });
        return div;
      }
    });
    new Legend().addTo(map);
  }
  map.attributionControl.setPrefix(false);

  function loadMap() {
    if (!group) { ws.loads++; return Promise.resolve(); }
    var params = new URLSearchParams({lang: config.lang});
    if (config.street) { params.set("street", config.street); }
    document.body.dataset.wsLoading = "1";
    return C.fetchFeatures(config.features, meta.id, params)
      .then(function (data) {
        if (config.only) {  // a state / overdue filter: the map shows the table's compounds only
          var only = new Set(config.only.map(String));
          data = {type: "FeatureCollection", features: (data.features || []).filter(function (f) { return only.has(String(f.id)); })};
        }
        group.clearLayers();
        group.addData(data);
        ws.count = (data.features || []).length;
        ws.ids = (data.features || []).map(function (f) { return String(f.id); });
        ws.colors = {};
        (data.features || []).forEach(function (f) { ws.colors[String(f.id)] = (f.properties || {})._color; });
        if (!config.street && ws.count && group.getBounds().isValid()) { map.fitBounds(group.getBounds(), {maxZoom: 15}); }
        ws.loads++;
        document.body.dataset.wsLoading = "0";
      })
      .catch(function () { ws.failed = true; ws.loads++; document.body.dataset.wsLoading = "0"; });
  }
  ws.reloadMap = loadMap;
  loadMap();

  function focusCompound(cid) {
    if (!group) { return; }
    group.eachLayer(function (l) {
      if (l.feature && String(l.feature.id) === String(cid)) {
        map.fitBounds(l.getBounds ? l.getBounds().pad(1.5) : L.latLngBounds([l.getLatLng()]).pad(0.01), {maxZoom: 17});
        l.openPopup();
      }
    });
  }

  /* ---------- the row form: next state, note, deadline, ledger items; mark items done ---------- */
  function closeForms() { document.querySelectorAll("tr.ws-form-row").forEach(function (r) { r.remove(); }); }

  function itemLine() {
    return el("div", {className: "ws-item-line"}, [
      el("input", {type: "text", className: "form-control ws-item-content", maxlength: "2000", placeholder: msg("ws_utility.item_ph"), "aria-label": msg("ws_utility.item_content")}),
      el("input", {type: "text", className: "form-control ws-item-unit", maxlength: "200", placeholder: msg("ws_utility.unit"), "aria-label": msg("ws_utility.unit")}),
      el("input", {type: "date", className: "form-control ws-item-deadline", "aria-label": msg("ws_utility.deadline")})]);
  }

  function openForm(row) {
    closeForms();
    var holder = el("td", {colspan: "9"});
    var tr = el("tr", {className: "ws-form-row"}, [holder]);
    row.after(tr);
    var url = config.handover_api.replace("__ID__", encodeURIComponent(row.dataset.compound));
    fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}, cache: "no-store"})
      .then(function (r) { return r.json().then(function (d) { return {status: r.status, data: d}; }); })
      .then(function (res) {
        if (res.status !== 200) { holder.textContent = msg("ws_utility.error", {message: res.data.error || res.status}); return; }
        buildForm(row, holder, res.data);
      });
  }

  function buildForm(row, holder, h) {
    var form = el("form", {className: "ws-hform", id: "ws-hform", novalidate: "novalidate"});
    var select = el("select", {className: "form-select", id: "ws-next-state", name: "state"});
    h.allowed_next.forEach(function (s) { select.appendChild(el("option", {value: s, text: stateLabel(s)})); });
    Object.keys(h.conditional_next || {}).forEach(function (s) {  /* RULES §2: not_handed_over → acceptance by the district */
      var need = h.conditional_next[s];
      var opt = el("option", {value: s, text: msg("ws_utility.district_path", {state: stateLabel(s)})});
      opt.dataset.organisedBy = need.organised_by || "";
      select.appendChild(opt);
    });
    select.appendChild(el("option", {value: h.state, text: msg("ws_utility.same_state", {state: stateLabel(h.state)})}));
    var note = el("textarea", {className: "form-control", id: "ws-note", rows: "2", maxlength: "2000", placeholder: msg("ws_utility.note_ph")});
    var deadline = el("input", {type: "date", className: "form-control", id: "ws-deadline", value: h.deadline || "", title: msg("ws_utility.deadline_keep")});
    var cleared = false;
    var clearDeadline = el("button", {type: "button", className: "btn btn-sm btn-outline-secondary py-0 mt-1 ws-clear-deadline", id: "ws-clear-deadline", text: msg("ws_utility.clear_deadline")});
    clearDeadline.addEventListener("click", function () { deadline.value = ""; cleared = true; });
    deadline.addEventListener("input", function () { if (!deadline.value && h.deadline) { cleared = true; } });
    var unit = el("input", {type: "text", className: "form-control", id: "ws-unit", maxlength: "200", value: h.responsible_unit || ""});
    var lines = el("div", {className: "ws-item-lines", id: "ws-item-lines"});
    var addItem = el("button", {type: "button", className: "btn btn-sm btn-outline-secondary mt-1", id: "ws-add-item", text: "+ " + msg("ws_utility.add_item")});
    var itemsHint = el("div", {className: "ws-muted", id: "ws-items-hint", text: msg("ws_utility.items_only_rectifying")});
    var rectHint = el("div", {className: "ws-muted", id: "ws-rectifying-hint", text: msg("ws_utility.rectifying_hint")});
    var itemsBox = el("div", {}, [el("div", {className: "form-label mt-2", text: msg("ws_utility.items")}), itemsHint, rectHint, lines, addItem]);
    addItem.addEventListener("click", function () { lines.appendChild(itemLine()); });
    /* the acceptance event: organiser, date, participants — when the move enters or ends an acceptance */
    var organiser = el("select", {className: "form-select", id: "ws-organised-by"});
    organiser.appendChild(el("option", {value: "", text: "–"}));
    (config.organisers || []).forEach(function (o) { organiser.appendChild(el("option", {value: o[0], text: o[1]})); });
    var heldOn = el("input", {type: "date", className: "form-control", id: "ws-held-on"});
    var participants = el("input", {type: "text", className: "form-control", id: "ws-participants", maxlength: "2000"});
    var acceptBox = el("div", {className: "row g-2 mt-1", id: "ws-acceptance"}, [
      el("div", {className: "col-12 fw-semibold", text: msg("ws_utility.acceptance")}),
      el("div", {className: "col-4"}, [el("label", {className: "form-label", "for": "ws-organised-by", text: msg("ws_utility.organised_by")}), organiser]),
      el("div", {className: "col-3"}, [el("label", {className: "form-label", "for": "ws-held-on", text: msg("ws_utility.held_on")}), heldOn]),
      el("div", {className: "col-5"}, [el("label", {className: "form-label", "for": "ws-participants", text: msg("ws_utility.participants")}), participants])]);
    function chosenOrganiser() {
      var opt = select.options[select.selectedIndex];
      return (opt && opt.dataset.organisedBy) || "";
    }
    function syncItems() {
      var open = (config.item_states || []).indexOf(select.value) >= 0;
      addItem.disabled = !open;
      itemsHint.hidden = open;
      rectHint.hidden = !(select.value === config.rectifying && h.state !== config.rectifying);
      if (open && !lines.children.length) { lines.appendChild(itemLine()); }
      var accepting = (h.acceptance_next || []).indexOf(select.value) >= 0 ||
        (select.value === h.state && h.state === config.acceptance_state);
      acceptBox.hidden = !accepting;
      var forced = chosenOrganiser();
      if (forced) { organiser.value = forced; }
      organiser.disabled = !!forced;
    }
    select.addEventListener("change", syncItems);
    var existing = el("ul", {className: "ws-hitems", id: "ws-existing-items"});
    if (!h.items.length) { existing.appendChild(el("li", {className: "ws-muted", text: msg("ws_utility.no_items")})); }
    h.items.forEach(function (it) {
      var li = el("li", {className: it.done_date ? "ws-done" : (it.overdue ? "ws-late" : ""), "data-item": String(it.id)}, [
        el("span", {text: it.content}), el("span", {className: "ws-muted", text: (it.responsible_unit || "") + " " + (it.deadline || "")})]);
      if (!it.done_date) {
        var done = el("button", {type: "button", className: "btn btn-sm btn-outline-success ms-auto ws-item-done", text: msg("ws_utility.done")});
        done.addEventListener("click", function () {
          done.disabled = true;
          send("POST", config.done_url.replace("__ID__", String(it.id)), {}).then(function (res) {
            if (res.status === 200) {
              li.className = "ws-done"; done.remove(); flash(msg("ws_utility.done_ok"), true);
              var cell = row.querySelector(".ws-items-cell");
              if (cell) { cell.textContent = String(Math.max(0, parseInt(cell.textContent, 10) - 1)); }
            } else {
              done.disabled = false;
              flash(res.status === 403 ? msg("ws_utility.forbidden") : msg("ws_utility.error", {message: res.data.error || res.status}), false);
            }
          });
        });
        li.appendChild(done);
      }
      existing.appendChild(li);
    });
    var save = el("button", {type: "submit", className: "btn btn-sm btn-primary", id: "ws-save", text: msg("ws_utility.save")});
    var cancel = el("button", {type: "button", className: "btn btn-sm btn-link", text: msg("ws_utility.cancel")});
    var out = el("div", {id: "ws-form-note", role: "alert"});
    var grid = el("div", {className: "row g-2"}, [
      el("div", {className: "col-5"}, [el("label", {className: "form-label", "for": "ws-next-state", text: msg("ws_utility.next_state")}), select]),
      el("div", {className: "col-3"}, [el("label", {className: "form-label", "for": "ws-deadline", text: msg("ws_utility.deadline")}), deadline, clearDeadline]),
      el("div", {className: "col-4"}, [el("label", {className: "form-label", "for": "ws-unit", text: msg("ws_utility.unit")}), unit]),
      el("div", {className: "col-12"}, [el("label", {className: "form-label", "for": "ws-note", text: msg("ws_utility.note")}), note])]);
    [el("div", {className: "fw-semibold mb-1", text: h.compound_name + " · " + stateLabel(h.state) + " · " + msg("ws_utility.version") + " " + h.version}),
      h.allowed_next.length ? null : el("div", {className: "ws-muted", text: msg("ws_utility.final")}),
      grid, acceptBox, el("div", {className: "form-label mt-2", text: msg("ws_utility.items")}), existing, itemsBox,
      el("div", {className: "mt-2 d-flex gap-2 align-items-center"}, [save, cancel]), out]
      .forEach(function (node) { if (node) { form.appendChild(node); } });  // never a literal "null"
    holder.replaceChildren(form);
    syncItems();
    cancel.addEventListener("click", closeForms);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      out.replaceChildren();
      var body = {version: h.version, state: select.value};
      if (note.value.trim()) { body.note = note.value.trim(); }
      if (deadline.value) { body.deadline = deadline.value; } else if (cleared) { body.deadline = null; }
      if (unit.value.trim() && unit.value.trim() !== (h.responsible_unit || "")) { body.responsible_unit = unit.value.trim(); }
      var items = [];
      lines.querySelectorAll(".ws-item-line").forEach(function (ln) {
        var c = ln.querySelector(".ws-item-content").value.trim();
        if (!c) { return; }
        var it = {content: c};
        var u = ln.querySelector(".ws-item-unit").value.trim(); if (u) { it.responsible_unit = u; }
        var d = ln.querySelector(".ws-item-deadline").value; if (d) { it.deadline = d; }
        items.push(it);
      });
      if (items.length && (config.item_states || []).indexOf(select.value) >= 0) { body.items = items; }
      if (!acceptBox.hidden) {
        var org = chosenOrganiser() || organiser.value;
        if (org) { body.organised_by = org; }
        if (heldOn.value) { body.held_on = heldOn.value; }
        if (participants.value.trim()) { body.participants = participants.value.trim(); }
      }
      save.disabled = true;
      send("PATCH", url(h), body).then(function (res) {
        save.disabled = false;
        if (res.status === 200) {
          var d = res.data;
          row.dataset.state = d.state;
          var cell = row.querySelector(".ws-state-cell");
          cell.replaceChildren(el("span", {className: "ws-hstate ws-hstate-" + d.state, text: stateLabel(d.state)}));
          refreshRow(row, d);
          closeForms();
          flash(msg("ws_utility.saved", {compound: d.compound_name, state: stateLabel(d.state)}), true);
          loadMap();
        } else if (res.status === 409) {
          var reload = el("button", {type: "button", className: "btn btn-sm btn-outline-danger ms-2", id: "ws-reload", text: msg("ws_utility.reload")});
          reload.addEventListener("click", function () { openForm(row); });
          out.replaceChildren(el("div", {className: "ws-conflict", id: "ws-conflict"}, [el("span", {text: msg("ws_utility.conflict")}), reload]));
        } else if (res.status === 400 && res.data.allowed && res.data.key === "handover.not_allowed") {
          var names = res.data.allowed.map(stateLabel).join("、") || "–";
          out.replaceChildren(el("div", {className: "ws-allowed", id: "ws-allowed", text: msg("ws_utility.not_allowed", {allowed: names})}));
        } else if (res.status === 403) {
          out.replaceChildren(el("div", {className: "ws-allowed", text: msg("ws_utility.forbidden")}));
        } else {
          out.replaceChildren(el("div", {className: "ws-allowed", text: msg("ws_utility.error", {message: res.data.error || res.status})}));
        }
      });
    });
  }

  function lateText(late) {
    if (!late) { return ""; }
    if (late.kind === "item") {
      return msg("ws_utility.late.item", {content: late.content, days: late.days}) +
        (late.count > 1 ? msg("ws_utility.late.more", {count: late.count}) : "");
    }
    return msg("ws_utility.late.deadline", {date: late.date, days: late.days});
  }
  /* a saved row shows what the server now holds: state, since, deadline, open items, overdue and why, version */
  function refreshRow(row, d) {
    row.dataset.state = d.state;
    row.dataset.version = String(d.version);
    row.dataset.overdue = d.overdue ? "1" : "0";
    row.classList.toggle("ws-overdue", !!d.overdue);
    row.querySelector(".ws-state-cell").replaceChildren(el("span", {className: "ws-hstate ws-hstate-" + d.state, text: stateLabel(d.state)}));
    row.querySelector(".ws-since-cell").textContent = d.since ? String(d.since).slice(0, 10) : "–";
    row.querySelector(".ws-deadline-cell").textContent = d.deadline || "–";
    row.querySelector(".ws-items-cell").textContent = String(d.open_items);
    var cell = row.querySelector(".ws-overdue-cell");
    cell.replaceChildren(document.createTextNode(d.overdue ? msg("ws_utility.yes") : msg("ws_utility.no")));
    if (d.overdue) { cell.appendChild(el("div", {className: "ws-late small", text: lateText(d.late)})); }
  }
  ws.refreshRow = refreshRow;

  /* ---------- bulk: tick rows, pick a state and/or a responsible unit, confirm once ---------- */
  var bulkBox = document.getElementById("ws-bulk");
  function picked() { return Array.prototype.filter.call(document.querySelectorAll("#ws-backlog tr.ws-row"), function (r) { return r.querySelector(".ws-pick").checked; }); }
  function syncBulk() {
    if (!bulkBox) { return; }
    var n = picked().length;
    document.getElementById("ws-bulk-count").textContent = msg("ws_utility.bulk_selected", {n: n});
    document.getElementById("ws-bulk-apply").disabled = !n || !(document.getElementById("ws-bulk-state").value || document.getElementById("ws-bulk-unit").value.trim());
    document.getElementById("ws-bulk-confirm").hidden = true;
  }
  if (bulkBox) {
    var all = document.getElementById("ws-select-all");
    all.addEventListener("change", function () {
      document.querySelectorAll("#ws-backlog .ws-pick").forEach(function (c) { c.checked = all.checked; });
      syncBulk();
    });
    document.querySelectorAll("#ws-backlog .ws-pick").forEach(function (c) { c.addEventListener("change", syncBulk); });
    document.getElementById("ws-bulk-state").addEventListener("change", syncBulk);
    document.getElementById("ws-bulk-unit").addEventListener("input", syncBulk);
    document.getElementById("ws-bulk-apply").addEventListener("click", function () {
      var st = document.getElementById("ws-bulk-state").value, unit = document.getElementById("ws-bulk-unit").value.trim();
      var what = (st ? msg("ws_utility.bulk_confirm_state", {state: stateLabel(st)}) : "") + (unit ? msg("ws_utility.bulk_confirm_unit", {unit: unit}) : "");
      document.getElementById("ws-bulk-question").textContent = msg("ws_utility.bulk_confirm", {n: picked().length, what: what});
      document.getElementById("ws-bulk-confirm").hidden = false;
    });
    document.getElementById("ws-bulk-no").addEventListener("click", function () { document.getElementById("ws-bulk-confirm").hidden = true; });
    document.getElementById("ws-bulk-yes").addEventListener("click", function () {
      var yes = document.getElementById("ws-bulk-yes");
      var body = {rows: picked().map(function (r) { return {compound_id: r.dataset.compound, version: parseInt(r.dataset.version, 10)}; })};
      var st = document.getElementById("ws-bulk-state").value, unit = document.getElementById("ws-bulk-unit").value.trim();
      if (st) { body.state = st; }
      if (unit) { body.responsible_unit = unit; }
      yes.disabled = true;
      send("POST", config.bulk_url, body).then(function (res) {
        yes.disabled = false;
        document.getElementById("ws-bulk-confirm").hidden = true;
        if (res.status === 200) {
          C.flashAfterReload(msg("ws_utility.bulk_done", {n: res.data.changed}), true);
          window.location.reload();
        } else {
          flash(res.status === 403 ? msg("ws_utility.forbidden") : msg("ws_utility.error", {message: res.data.error || res.status}), false);
        }
      });
    });
  }

  function url(h) { return config.handover_api.replace("__ID__", encodeURIComponent(h.compound_id)); }

  document.querySelectorAll("#ws-backlog tr.ws-row").forEach(function (row) {
    row.querySelector(".ws-handle").addEventListener("click", function () { openForm(row); });
    row.querySelector(".ws-show").addEventListener("click", function () {
      document.querySelectorAll("tr.ws-selected").forEach(function (r) { r.classList.remove("ws-selected"); });
      row.classList.add("ws-selected");
      focusCompound(row.dataset.compound);
    });
  });
  var pick = document.getElementById("ws-utility-select");
  if (pick) { pick.addEventListener("change", function () { pick.form.submit(); }); }
  ws.ready = true;
})();
