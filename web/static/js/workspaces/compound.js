/* Compound detail page: draw the compound's boundary (or its point, flagged "boundary missing") and the score bars. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("wc-config").textContent);
  var map = window[config.map];
  var color = /^#[0-9a-fA-F]{3,8}$/.test(config.color) ? config.color : "#607d8b";
  var g = config.geometry || {};
  var layer = null;
  if (g.boundary) {
    layer = L.geoJSON(g.boundary, {style: {color: color, weight: 2, fillColor: color, fillOpacity: 0.3}}).addTo(map);
    map.fitBounds(layer.getBounds(), {maxZoom: 18, padding: [20, 20]});
  } else if (g.point) {
    layer = L.circleMarker([g.point[1], g.point[0]], {radius: 9, color: "#fff", weight: 2, fillColor: color, fillOpacity: 0.9}).addTo(map);
    var tip = document.createElement("span");
    tip.textContent = config.missing;
    layer.bindTooltip(tip, {permanent: true, direction: "top"});
    map.setView([g.point[1], g.point[0]], 17);
  }
  map.attributionControl.setPrefix(false);
  document.querySelectorAll(".wc-bar-fill").forEach(function (bar) {
    var share = parseFloat(bar.dataset.share);
    bar.style.width = (isNaN(share) ? 0 : Math.max(0, Math.min(1, share)) * 100) + "%";
  });
  window.wcCompound = {map: map, layer: layer, ready: true};
})();
