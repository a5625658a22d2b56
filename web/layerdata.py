"""Layer answers for HTTP: thin over the layer engine (`layers.features`, `layers.geojson`)."""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplatform.context import Context
from layers.features import BBox, layer_features
from layers.geojson import to_geojson_text
from layers.spec import LayerSpec

MAX_FEATURES = 20_000  # a viewport answer never carries more (the client says "zoom in")


def layer_geojson_text(context: Context, spec: LayerSpec, bbox: BBox | None, zoom: int | None,
                       street: str | None, lang: str) -> str:
    """The layer's FeatureCollection for a viewport, simplified for `zoom` (text, ready to send)."""
    if zoom is not None and zoom < spec.min_zoom:
        return json.dumps({"type": "FeatureCollection", "features": [], "below_min_zoom": True,
                           "min_zoom": spec.min_zoom})
    frame = layer_features(context, spec, bbox=bbox, zoom=zoom, street=street, lang=lang)
    truncated = len(frame) > MAX_FEATURES
    if truncated:
        frame = frame.iloc[:MAX_FEATURES]
    text = to_geojson_text(frame, spec, zoom)
    extra = f',"truncated":{"true" if truncated else "false"},"layer":{json.dumps(spec.id)}'
    return text[:-1] + extra + "}"


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
