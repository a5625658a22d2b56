"""The layer engine: LayerSpec, features by bbox (`layer_features`), GeoJSON (`to_geojson`), dashboard charts.

    frame = layer_features(context, spec, bbox=(minx, miny, maxx, maxy), zoom=z, street=code)
    text = to_geojson_text(frame, spec, zoom=z)        # or to_geojson(...) -> dict

The browser draws the layers (web/static/map.js: popups, tooltips, legends as DOM text); `layers.charts`
renders server-side SVG charts for the dashboards' panels.
"""

from layers.spec import Basemap, Exporter, LayerSpec, Legend, PopupField, StyleRule

__all__ = ["Basemap", "Exporter", "LayerSpec", "Legend", "PopupField", "StyleRule"]
