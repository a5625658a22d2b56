"""The layer engine: LayerSpec, features by bbox (`layer_features`), GeoJSON (`to_geojson`), folium rendering.

    frame = layer_features(context, spec, bbox=(minx, miny, maxx, maxy), zoom=z, street=code)
    text = to_geojson_text(frame, spec, zoom=z)        # or to_geojson(...) -> dict
    add_layer(folium_map, spec, frame, zoom=z)         # folium FeatureGroup + legend
"""

from layers.spec import Basemap, Exporter, LayerSpec, Legend, PopupField, StyleRule

__all__ = ["Basemap", "Exporter", "LayerSpec", "Legend", "PopupField", "StyleRule"]
