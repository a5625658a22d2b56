"""The layer engine: LayerSpec, GeoJSON serialisation by bbox, folium rendering."""

from layers.spec import Basemap, Exporter, LayerSpec, Legend, PopupField, StyleRule

__all__ = ["Basemap", "Exporter", "LayerSpec", "Legend", "PopupField", "StyleRule"]
