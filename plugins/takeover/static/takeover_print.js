/* Printable takeover shortlist: the print button (no inline handlers under the CSP). */
(function () {
  "use strict";
  var b = document.getElementById("tp-print-button");
  if (b) { b.addEventListener("click", function () { window.print(); }); }
})();
