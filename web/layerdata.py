"""Layer answers for HTTP: thin over the layer engine (`layers.features`, `layers.geojson`)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np

from geoplatform.context import Context
from layers.features import BBox
from layers.geojson import layer_geojson
from layers.spec import LayerSpec


def layer_geojson_text(context: Context, spec: LayerSpec, bbox: BBox | None, zoom: int | None,
                       street: str | None, lang: str) -> str:
    """The layer's FeatureCollection for a viewport, simplified for `zoom` (text, ready to send)."""
    if zoom is not None and zoom < spec.min_zoom:
        return json.dumps({"type": "FeatureCollection", "features": [], "below_min_zoom": True,
                           "min_zoom": spec.min_zoom})
    if is_dot_map(spec, zoom):
        # the whole layer thinned to the pixel grid: the same for every viewport at this zoom, so computed
        # once per data revision (the first view at district zoom then costs the same at any data size)
        # (the recipe lets the server's worker process compute it for each next revision: see Context.memo)
        text = context.memo(f"dots|{spec.id}|{zoom}|{street}|{lang}",
                            lambda: dot_map_text(context, spec, zoom, street, lang), recipe=("web.layerdata:dot_map_of", (spec.id, zoom, street, lang)))
    else:
        text = layer_geojson(context, spec, bbox=bbox, zoom=zoom, street=street, lang=lang)
    return text[:-1] + f',"layer":{json.dumps(spec.id)}' + "}"


def dot_map_text(context: Context, spec: LayerSpec, zoom: int, street: str | None, lang: str) -> str:
    """The whole layer as a dot map at `zoom`: one MultiPoint per legend class, thinned to the pixel grid."""
    dots = replace(spec, popup=(), tooltip=())  # a dot carries its class and count only
    return thin_dots(layer_geojson(context, dots, bbox=None, zoom=zoom, street=street, lang=lang), zoom)


def dot_map_of(context: Context, layer_id: str, zoom: int, street: str | None, lang: str) -> str:
    """`dot_map_text` of the map layer `layer_id` (the memo recipe: computed from names, e.g. in the worker)."""
    from web.maplayers import find_layer

    spec = find_layer(context, layer_id)
    if spec is None:
        raise KeyError(layer_id)
    return dot_map_text(context, spec, zoom, street, lang)


DOT_CELL_PX = 8  # dots of one legend class closer than this many pixels are drawn once


def is_dot_map(spec: LayerSpec, zoom: int | None) -> bool:
    """True when the layer is sent as a dot map (one MultiPoint per legend class) at this zoom."""
    return spec.detail_zoom is not None and zoom is not None and zoom < spec.detail_zoom


def effective_bbox(spec: LayerSpec, bbox: BBox | None, zoom: int | None) -> BBox | None:
    """The bbox a request really depends on: none for dot maps (the whole layer, thinned to the pixel grid)."""
    return None if is_dot_map(spec, zoom) else bbox


def thin_dots(text: str, zoom: int) -> str:
    """Merge the dots of each class that fall in the same DOT_CELL_PX-pixel cell (`_count` keeps the true count).

    Keeps a district-wide dot map's size bounded by the screen's pixels rather than by the data size.
    """
    data = json.loads(text)
    cell = 360.0 / (256 * 2**zoom) * DOT_CELL_PX
    for feature in data.get("features", []):
        geom = feature.get("geometry") or {}
        if geom.get("type") != "MultiPoint" or not geom.get("coordinates"):
            continue
        xy = np.asarray(geom["coordinates"], dtype=float)
        cells = np.unique(np.floor(xy / cell).astype(np.int64), axis=0)
        centres = (cells + 0.5) * cell
        decimals = max(1, int(np.ceil(-np.log10(cell))) + 1)
        geom["coordinates"] = np.round(centres, decimals).tolist()
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
