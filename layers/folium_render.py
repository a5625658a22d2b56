"""A LayerSpec + features → a folium layer: deduplicated styles, escaped popups/tooltips, a legend that follows the toggle.

folium inserts popup/tooltip values into the page as raw HTML, so every label and value is escaped
here with markupsafe and sent as one pre-built `_popup` / `_tooltip` property.
"""

from __future__ import annotations

from typing import Any

import folium
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template
from markupsafe import Markup, escape

from geoplatform.labels import LABELS, label
from layers.geojson import to_geojson
from layers.spec import LayerSpec, PopupField

POPUP_PROPERTY = "_popup"
TOOLTIP_PROPERTY = "_tooltip"


def display_value(attribute: str, value: Any, lang: str = "zh") -> str:
    """The text shown for a value: enum labels translated, booleans as 是/否, None as empty."""
    if value is None or (not isinstance(value, list | dict | str) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    for enum in (attribute, attribute.split("_", 1)[-1]):
        if enum in LABELS and str(value) in LABELS[enum]:
            return label(enum, value, lang)
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def fields_html(fields: tuple[PopupField, ...], props: dict[str, Any], lang: str = "zh",
                title: str | None = None) -> Markup:
    """An escaped HTML table of `fields` (label: value) for one feature."""
    rows = []
    for f in fields:
        name = f.label_zh if lang == "zh" else f.label_en
        rows.append(Markup("<tr><th>{}</th><td>{}</td></tr>").format(name, display_value(f.attribute,
                                                                                       props.get(f.attribute), lang)))
    head = Markup("<b>{}</b>").format(title) if title else Markup("")
    return head + Markup("<table>") + Markup("").join(rows) + Markup("</table>")


def legend_html(spec: LayerSpec, lang: str = "zh") -> Markup:
    """The escaped legend box of a layer (title and one swatch per rule)."""
    title = spec.title_zh if lang == "zh" else spec.title_en
    items = []
    if spec.legend is not None:
        for r in spec.legend.rules:
            items.append(Markup('<div><i style="background:{};display:inline-block;width:12px;height:12px;'
                                'margin-right:4px;opacity:.8"></i>{}</div>').format(
                _safe_color(r.color), r.label_zh if lang == "zh" else r.label_en))
    return Markup('<div class="gp-legend" style="background:#fff;padding:6px 8px;border-radius:4px;'
                  'box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px sans-serif"><b>{}</b>{}</div>').format(
        title, Markup("").join(items))


def _safe_color(color: Any) -> str:
    text = str(color)
    ok = text.startswith("#") and len(text) in (4, 7, 9) and all(c in "0123456789abcdefABCDEF" for c in text[1:])
    return text if ok else "#9e9e9e"


class LayerLegend(MacroElement):
    """A Leaflet control with the layer's legend, shown only while its overlay is on the map."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this.map_name }}, layer = {{ this.layer_name }};
            var legend = L.control({position: "bottomright"});
            legend.onAdd = function() {
                var div = L.DomUtil.create("div", "gp-legend-control");
                div.setAttribute("data-layer", {{ this.layer_id | tojson }});
                div.innerHTML = {{ this.html | tojson }};
                return div;
            };
            if (map.hasLayer(layer)) { legend.addTo(map); }
            map.on("overlayadd", function(e) { if (e.layer === layer) { legend.addTo(map); } });
            map.on("overlayremove", function(e) { if (e.layer === layer) { legend.remove(); } });
        })();
        {% endmacro %}
    """)

    def __init__(self, map_name: str, layer_name: str, layer_id: str, html: str) -> None:
        super().__init__()
        self._name = "LayerLegend"
        self.map_name = map_name
        self.layer_name = layer_name
        self.layer_id = layer_id
        self.html = str(html)


def _style(feature: dict[str, Any]) -> dict[str, Any]:
    color = _safe_color(feature["properties"].get("_color"))
    return {"color": color, "fillColor": color, "weight": 1, "fillOpacity": 0.55, "opacity": 0.9}


def folium_layer(spec: LayerSpec, frame: Any, zoom: float | None = None, lang: str = "zh",
                 show: bool | None = None) -> folium.FeatureGroup:
    """A FeatureGroup holding the layer's GeoJson (styles deduplicated by folium, popups/tooltips escaped)."""
    data = to_geojson(frame, spec, zoom)
    title = spec.title_zh if lang == "zh" else spec.title_en
    for feat in data["features"]:
        props = feat["properties"]
        if props.get("_aggregate"):
            props[TOOLTIP_PROPERTY] = str(Markup("{}: {}").format(props.get("_label", ""), props.get("_count", 0)))
            continue
        if spec.popup:
            props[POPUP_PROPERTY] = str(fields_html(spec.popup, props, lang, title))
        if spec.tooltip:
            props[TOOLTIP_PROPERTY] = str(fields_html(spec.tooltip, props, lang))
    group = folium.FeatureGroup(name=str(escape(title)), show=spec.visible if show is None else show)
    has_tooltip = any(TOOLTIP_PROPERTY in f["properties"] for f in data["features"])
    has_popup = any(POPUP_PROPERTY in f["properties"] for f in data["features"])
    if data["features"]:
        folium.GeoJson(
            data,
            name=str(escape(title)),
            style_function=_style,
            marker=folium.CircleMarker(radius=5, weight=1, fill=True),
            popup=folium.GeoJsonPopup(fields=[POPUP_PROPERTY], labels=False) if has_popup else None,
            tooltip=folium.GeoJsonTooltip(fields=[TOOLTIP_PROPERTY], labels=False) if has_tooltip else None,
        ).add_to(group)
    return group


def add_layer(m: folium.Map, spec: LayerSpec, frame: Any, zoom: float | None = None, lang: str = "zh",
              show: bool | None = None) -> folium.FeatureGroup:
    """Add a layer and its toggle-following legend to a folium Map; returns the FeatureGroup."""
    group = folium_layer(spec, frame, zoom, lang, show)
    group.add_to(m)
    m.add_child(LayerLegend(m.get_name(), group.get_name(), spec.id, legend_html(spec, lang)))
    return group
