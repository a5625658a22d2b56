"""Layer answers for HTTP: thin over the layer engine (`layers.features`, `layers.geojson`)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplatform.context import Context
from layers.features import BBox, layer_features
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
        dots = replace(spec, popup=(), tooltip=())  # a dot carries its class and count only
        text = context.memo(f"dots|{spec.id}|{zoom}|{street}|{lang}", lambda: thin_dots(
            layer_geojson(context, dots, bbox=None, zoom=zoom, street=street, lang=lang), zoom))
    else:
        text = layer_geojson(context, spec, bbox=bbox, zoom=zoom, street=street, lang=lang)
    return text[:-1] + f',"layer":{json.dumps(spec.id)}' + "}"


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


def full_frame(context: Context, spec: LayerSpec, bbox: BBox | None, lang: str = "zh") -> gpd.GeoDataFrame:
    """Every feature of the layer meeting bbox, with all attributes (for OGC API items)."""
    return layer_features(context, spec, bbox=bbox, zoom=None, street=None, lang=lang)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def ogc_features(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """GeoJSON features with every non-geometry attribute (ids = the frame's index)."""
    if not len(frame):
        return []
    geom_name = frame.geometry.name
    cols = [c for c in frame.columns if c != geom_name and not isinstance(frame[c].dtype, gpd.array.GeometryDtype)]
    sub = frame[cols].astype(object)
    records = sub.where(pd.notna(sub), None).to_dict("records")
    geoms = shapely.to_geojson(shapely.set_precision(frame.geometry.to_numpy(), 1e-7, mode="pointwise"))
    return [{"type": "Feature", "id": _plain(fid), "geometry": json.loads(g) if g else None,
             "properties": {k: _plain(v) for k, v in rec.items()}}
            for fid, g, rec in zip(frame.index, geoms, records, strict=True)]
