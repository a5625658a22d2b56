/* The street workspace's ledger tab (handover plugin): "overdue only" hides the rows that are not overdue. */
(function () {
  "use strict";
  (window.gpPanels = window.gpPanels || []).push(function () {
    var overdue = document.getElementById("ws-only-overdue");
    if (!overdue) { return; }
    overdue.addEventListener("change", function () {
      document.querySelectorAll("#ws-ledger tr.ws-ledger-row").forEach(function (r) {
        r.hidden = overdue.checked && r.dataset.overdue !== "1";
      });
    });
  });
})();
