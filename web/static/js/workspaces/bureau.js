/* Bureau dashboard: small helpers only (the charts are server-rendered SVG). Enables the street/utility
 * selects of the add-user form for the roles that use them; disables the commit button after a click;
 * the trend's street select reloads the dashboard for that street. */
(function () {
  "use strict";
  var role = document.getElementById("wb-u-role");
  if (role) {
    var street = document.getElementById("wb-u-street"), utility = document.getElementById("wb-u-utility");
    var sync = function () {
      street.disabled = role.value !== "street_officer";
      utility.disabled = role.value !== "utility";
    };
    role.addEventListener("change", sync);
    sync();
  }
  var commit = document.getElementById("wb-commit-form");
  if (commit) {
    commit.addEventListener("submit", function () { document.getElementById("wb-commit").disabled = true; });
  }
  var trendStreet = document.getElementById("wb-trend-street");
  if (trendStreet) {
    trendStreet.addEventListener("change", function () { trendStreet.form.submit(); });
  }
  window.wsBureau = {ready: true};
})();
