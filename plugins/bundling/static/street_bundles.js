/* The street workspace's bundling tab (bundling plugin): show a proposal on the map, accept it (owners'
 * consent note) or reject it (reason), revert an accepted one (admin), re-plan the street.
 * Data is always inserted as text (textContent / DOM nodes), never as HTML. */
(function () {
  "use strict";
  (window.gpPanels = window.gpPanels || []).push(function (ws) {
    var config = ws.config, map = ws.map, msg = ws.msg, send = ws.send, flash = ws.flash, el = ws.el;
    var display = ws.display, reloadMap = ws.reloadMap, focusFeature = ws.focusFeature;
    var actions = config.panels.bundles.actions;

    /* the bundling layers' look on the workspace map */
    ws.styles.bundling_hosts = function (meta, f, color) { return {color: color, weight: 2.5, fill: false}; };
    ws.styles.bundling_new_bundles = function (meta, f, color) {
      return {color: color, weight: 2, dashArray: "3 3", fillColor: color, fillOpacity: 0.12};
    };

    function proposalOf(f) {
      var p = f.properties || {};
      var pid = p.proposal_id || p.id || null;
      return pid === null ? null : String(pid);
    }
    /* is the proposal drawn on the map (a link of the current plan)? */
    ws.hasProposal = function (pid) {
      var st = ws.layers.bundling_links;
      return !!(st && (st.features || []).some(function (f) { return proposalOf(f) === String(pid); }));
    };

  /* ---------- proposals: show, accept (consent note), reject (reason), re-plan ---------- */
  function closeForms() {
    document.querySelectorAll("tr.ws-decide-row").forEach(function (r) { r.remove(); });
  }

  /* per verb: the body key, the label, placeholder, confirm button and "required" message */
  var FORMS = {
    accept: {key: "consent_note", label: "bundling.ws.consent", ph: "bundling.ws.consent_ph", ok: "bundling.ws.confirm_accept", need: "bundling.ws.need_consent", cls: "btn-success", vote: true, optional: true},
    reject: {key: "reason", label: "bundling.ws.reason", ph: "bundling.ws.reason_ph", ok: "bundling.ws.confirm_reject", need: "bundling.ws.need_reason", cls: "btn-danger"},
    revert: {key: "note", label: "bundling.ws.revert_reason", ph: "bundling.ws.revert_ph", ok: "bundling.ws.confirm_revert", need: "bundling.ws.need_revert_reason", cls: "btn-danger", question: "bundling.ws.revert_question"}
  };
  function openDecide(row, verb) {
    closeForms();
    var f = FORMS[verb], key = f.key;
    var area = el("textarea", {className: "form-control", rows: "2", maxlength: "2000", name: key, id: "ws-" + key,
      placeholder: msg(f.ph)});
    var feedback = el("div", {className: "invalid-feedback"});
    /* the owners' vote (民法典 §278): by area and by owners, each total / participating / yes; judged by the server */
    var voteInputs = {}, voteBox = null, voteFeedback = el("div", {className: "small text-danger", id: "ws-vote-feedback"});
    if (f.vote) {
      var rows = ["vote_area", "vote_owners"].map(function (side) {
        var cells = ["total", "participating", "yes"].map(function (part) {
          var name = side + "_" + part;
          var input = el("input", {type: "number", min: "0", step: side === "vote_area" ? "any" : "1", name: name,
            id: "ws-" + name, className: "form-control form-control-sm", required: "required",
            "aria-label": msg("bundling.ws." + side) + " " + msg("bundling.ws.vote_" + part)});
          voteInputs[name] = input;
          return el("div", {className: "col"}, [el("label", {className: "form-label small", "for": "ws-" + name,
            text: msg("bundling.ws.vote_" + part)}), input]);
        });
        return el("div", {className: "row g-2 mb-1"}, [el("div", {className: "col-12 small fw-semibold",
          text: msg("bundling.ws." + side)})].concat(cells));
      });
      voteBox = el("fieldset", {className: "mb-2", id: "ws-vote"}, [el("legend", {className: "small fw-semibold",
        text: msg("bundling.ws.vote")})].concat(rows, [voteFeedback]));
    }
    var ok = el("button", {type: "button", className: "btn btn-sm " + f.cls, id: "ws-confirm", text: msg(f.ok)});
    var cancel = el("button", {type: "button", className: "btn btn-sm btn-link", text: msg("ws_street.cancel")});
    var box = el("div", {className: "ws-decide"}, [
      f.question ? el("div", {className: "small fw-semibold text-danger mb-1", id: "ws-revert-question", text: msg(f.question)}) : null,
      voteBox,
      el("label", {className: "form-label small fw-semibold", "for": "ws-" + key, text: msg(f.label)}),
      area, feedback, el("div", {className: "mt-1 d-flex gap-2"}, [ok, cancel])]);
    var tr = el("tr", {className: "ws-decide-row"}, [el("td", {colspan: "7"}, [box])]);
    row.after(tr);
    (f.vote ? voteInputs.vote_area_total : area).focus();
    cancel.addEventListener("click", closeForms);
    ok.addEventListener("click", function () {
      var text = area.value.trim();
      if (!text && !f.optional) {
        area.classList.add("is-invalid");
        feedback.textContent = msg(f.need);
        return;
      }
      var body = {}; body[key] = text;
      var missing = null;
      Object.keys(voteInputs).forEach(function (name) {
        var v = voteInputs[name].value.trim();
        voteInputs[name].classList.toggle("is-invalid", !v);
        if (!v && !missing) { missing = voteInputs[name]; }
        body[name] = v;
      });
      if (missing) { voteFeedback.textContent = msg("bundling.ws.need_vote"); missing.focus(); return; }
      voteFeedback.textContent = "";
      ok.disabled = true;
      send("POST", actions[verb].replace("__ID__", encodeURIComponent(row.dataset.id)), body).then(function (res) {
        ok.disabled = false;
        if (res.status === 200) {
          decided(row, res.data);
          closeForms();
          if (verb === "revert") { var rv = row.querySelector(".ws-revert"); if (rv) { rv.remove(); } }
          flash(verb === "accept" ? msg("bundling.ws.accepted_ok", {host: row.children[1].textContent.trim()}) :
            msg(verb === "revert" ? "bundling.ws.reverted_ok" : "bundling.ws.rejected_ok"), true);
          reloadMap();
        } else if (res.status === 400 && f.vote && /^vote_/.test(res.data.field || "")) {
          /* the server's catalogue message: which threshold failed, or which count is missing or malformed */
          voteFeedback.textContent = res.data.error || "";
          ["total", "participating", "yes"].forEach(function (part) {
            var input = voteInputs[res.data.field + "_" + part];
            if (input) { input.classList.add("is-invalid"); }
          });
        } else if (res.status === 400 && res.data.field === key) {
          area.classList.add("is-invalid");
          feedback.textContent = msg(f.need);
        } else if (res.status === 403) {
          flash(msg("ws_street.forbidden"), false);
        } else {
          flash(msg("ws_street.error", {message: res.data.error || res.status}), false);
        }
      }).catch(function (e) { ok.disabled = false; flash(msg("ws_street.error", {message: String(e)}), false); });
    });
  }

  function decided(row, p) {
    row.dataset.status = p.status;
    var cell = row.querySelector(".ws-status-cell");
    cell.replaceChildren(el("span", {className: "ws-status ws-status-" + p.status, text: display("bundle_status", p.status)}),
      el("div", {className: "ws-muted", text: msg("bundling.ws.decided_by", {who: p.decided_by || "", at: (p.decided_at || "").replace("T", " ")})}));
    if (p.status === "accepted" && p.vote) {
      var v = {a_t: p.vote.area[0], a_p: p.vote.area[1], a_y: p.vote.area[2], o_t: p.vote.owners[0], o_p: p.vote.owners[1], o_y: p.vote.owners[2]};
      cell.appendChild(el("div", {className: "ws-muted", "data-role": "vote",
        text: msg("bundling.ws.vote_summary", v) + (p.host_firm ? msg("bundling.ws.host_firm_agreed", {firm: p.host_firm}) : "")}));
    }
    var note = p.status === "accepted" ? p.consent_note : p.reason;
    if (note) { cell.appendChild(el("div", {className: "ws-muted", "data-role": p.status === "accepted" ? "consent" : "reason", text: note})); }
    row.querySelectorAll(".ws-accept, .ws-reject").forEach(function (b) { b.remove(); });
    var badge = document.getElementById("ws-badge-bundles");
    if (badge) { badge.textContent = String(document.querySelectorAll('#ws-proposals tr.ws-proposal[data-status="proposed"], #ws-proposals tr.ws-proposal[data-status="reverted"]').length); }
  }

  document.querySelectorAll("#ws-proposals tr.ws-proposal").forEach(function (row) {
    var accept = row.querySelector(".ws-accept"), reject = row.querySelector(".ws-reject"), show = row.querySelector(".ws-show");
    if (accept) { accept.addEventListener("click", function () { openDecide(row, "accept"); }); }
    if (reject) { reject.addEventListener("click", function () { openDecide(row, "reject"); }); }
    var revert = row.querySelector(".ws-revert");
    if (revert) { revert.addEventListener("click", function () { openDecide(row, "revert"); }); }
    show.addEventListener("click", function () {
      document.querySelectorAll("tr.ws-selected").forEach(function (r) { r.classList.remove("ws-selected"); });
      row.classList.add("ws-selected");
      highlight(row);
      if (!row.dataset.points && !focusFeature("bundling_links", row.dataset.id, proposalOf)) { focusFeature("compounds", row.dataset.host); }
    });
  });

  /* the orphan buildings of a proposal highlighted on the map (yellow rings over their footprints) */
  var marks = L.layerGroup().addTo(map);
  function highlight(row) {
    marks.clearLayers();
    var pts = row.dataset.points ? JSON.parse(row.dataset.points) : [];
    pts.forEach(function (p) {
      L.circleMarker(p, {radius: 9, color: "#ff6f00", weight: 3, fill: true, fillColor: "#ffd54f", fillOpacity: 0.6, className: "ws-orphan-mark"}).addTo(marks);
    });
    ws.orphanMarks = pts.length;
    if (pts.length) { map.fitBounds(L.latLngBounds(pts).pad(0.6), {maxZoom: 18}); }
    return pts.length > 0;
  }
  ws.highlightOrphans = highlight;

  var replan = document.getElementById("ws-replan");
  if (replan) {
    replan.addEventListener("click", function () {
      replan.disabled = true;
      send("POST", actions.plan, {street: config.street}).then(function (res) {
        if (res.status === 200) {
          /* the message is shown on the reloaded page and stays there until closed */
          window.gpWs.flashAfterReload(msg("bundling.ws.replanned", res.data), true);
          location.reload();
        } else {
          replan.disabled = false;
          flash(res.status === 403 ? msg("ws_street.forbidden") : msg("ws_street.error", {message: res.data.error || res.status}), false);
        }
      });
    });
  }

  });
})();
