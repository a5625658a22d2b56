/* The street workspace's ledger tab (handover plugin): "overdue only" hides the rows that are not overdue; a row in
 * an open state takes a new ledger item (content, responsible unit, deadline) over PATCH /api/v1/handovers/C/F with
 * its current state (RULES §2: the ledger starts at the survey). Data is inserted as text, never as HTML. */
(function () {
  "use strict";
  (window.gpPanels = window.gpPanels || []).push(function (ws) {
    var overdue = document.getElementById("ws-only-overdue");
    if (!overdue) { return; }
    overdue.addEventListener("change", function () {
      document.querySelectorAll("#ws-ledger tr.ws-ledger-row").forEach(function (r) {
        r.hidden = overdue.checked && r.dataset.overdue !== "1";
      });
    });
    var tpl = document.getElementById("ws-ledger-form-tpl");
    function close() { document.querySelectorAll("#ws-ledger tr.ws-ledger-form").forEach(function (r) { r.remove(); }); }
    document.querySelectorAll("#ws-ledger .ws-ledger-add-btn").forEach(function (btn) {
      btn.addEventListener("click", function () {
        close();
        var row = btn.closest("tr");
        var frag = tpl.content.cloneNode(true);
        var tr = frag.querySelector("tr");
        row.after(tr);
        var form = tr.querySelector("form"), err = tr.querySelector(".ws-li-error");
        tr.querySelector(".ws-li-cancel").addEventListener("click", close);
        tr.querySelector(".ws-li-content").focus();
        form.addEventListener("submit", function (e) {
          e.preventDefault();
          var item = {content: tr.querySelector(".ws-li-content").value.trim()};
          var unit = tr.querySelector(".ws-li-unit").value.trim(), deadline = tr.querySelector(".ws-li-deadline").value;
          if (unit) { item.responsible_unit = unit; }
          if (deadline) { item.deadline = deadline; }
          var url = tpl.dataset.api.replace("__ID__", encodeURIComponent(row.dataset.compound))
            .replace("__F__", encodeURIComponent(row.dataset.facility));
          var save = tr.querySelector(".ws-li-save");
          save.disabled = true;
          ws.send("PATCH", url, {version: parseInt(row.dataset.version, 10), state: row.dataset.state, items: [item]})
            .then(function (res) {
              save.disabled = false;
              if (res.status === 200) {
                window.gpWs.flashAfterReload(tpl.dataset.saved, true);
                window.location.reload();
              } else {
                err.textContent = (res.data && res.data.error) || String(res.status);
              }
            });
        });
      });
    });
  });
})();
