"""Layer features → GeoJSON: zoom-dependent simplification, bounded precision, only the attributes a map shows."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pandas as pd
import shapely

from layers.spec import LayerSpec

TILE_SIZE = 256
MAX_DECIMALS = 6  # ≈ 0.1 m: more is noise for EPSG:4326 map data
REFERENCE_LAT = 40.65  # Kundulun; used when a frame is empty


def pixel_size_deg(zoom: float, lat: float = REFERENCE_LAT) -> float:
    """Ground size of one Web-Mercator pixel at `zoom`, in degrees of latitude (the smaller of the two axes)."""
    return 360.0 / (TILE_SIZE * 2.0**zoom) * math.cos(math.radians(lat))


def coordinate_decimals(zoom: float | None) -> int:
    """Fewest decimals whose step is at most half a pixel at `zoom` (6, ≈ 0.1 m, when zoom is None)."""
    if zoom is None:
        return MAX_DECIMALS
    return int(min(MAX_DECIMALS, max(1, math.ceil(-math.log10(pixel_size_deg(zoom) / 2)))))


def property_names(spec: LayerSpec) -> list[str]:
    """The attributes a layer sends: popup, tooltip and legend attribute (then `_color`, `_label`, flags)."""
    names: list[str] = []
    for f in (*spec.popup, *spec.tooltip):
        if f.attribute not in names:
            names.append(f.attribute)
    if spec.legend is not None and spec.legend.attribute not in names:
        names.append(spec.legend.attribute)
    return names + ["_color", "_label", "boundary_missing"]


def generalise(geoms: np.ndarray, zoom: float | None, lat: float = REFERENCE_LAT) -> np.ndarray:
    """Simplify to one pixel at `zoom` (topology-preserving) and round coordinates to `coordinate_decimals(zoom)`."""
    out = geoms
    if zoom is not None:
        out = shapely.simplify(out, pixel_size_deg(zoom, lat), preserve_topology=True)
    return shapely.set_precision(out, 10.0 ** -coordinate_decimals(zoom), mode="pointwise")


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _records(frame: pd.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    cols = [n for n in names if n in frame.columns]
    sub = frame[cols].astype(object)
    return sub.where(pd.notna(sub), None).to_dict("records")


def _feature_text(fid: Any, geom: str | None, props: dict[str, Any]) -> str:
    return (f'{{"type":"Feature","id":{json.dumps(_json_value(fid), ensure_ascii=False)},'
            f'"geometry":{geom or "null"},'
            f'"properties":{json.dumps(props, ensure_ascii=False, default=_json_value, allow_nan=False, separators=(",", ":"))}}}')


def _aggregate_texts(frame: Any, spec: LayerSpec, zoom: float) -> list[str]:
    points = shapely.point_on_surface(frame.geometry.to_numpy())
    points = shapely.set_precision(points, 10.0 ** -coordinate_decimals(zoom), mode="pointwise")
    attr = spec.legend.attribute if spec.legend else None
    keys = frame["_color"].astype(str) + "\x00" + frame["_label"].astype(str)
    texts = []
    for n, (_, idx) in enumerate(sorted(pd.Series(np.arange(len(frame))).groupby(keys.to_numpy()).groups.items())):
        pos = np.asarray(idx)
        first = frame.iloc[pos[0]]
        props: dict[str, Any] = {"_color": first["_color"], "_label": first["_label"], "_count": int(len(pos)),
                                 "_aggregate": True}
        if attr and attr in frame.columns:
            props[attr] = _json_value(first[attr]) if pd.notna(first[attr]) else None
        geom = shapely.to_geojson(shapely.multipoints(points[pos]))
        texts.append(_feature_text(f"_class_{n}", geom, props))
    return texts


def to_geojson_text(frame: Any, spec: LayerSpec, zoom: float | None = None) -> str:
    """A FeatureCollection string for `layer_features(...)` output (the fast path for HTTP responses).

    Feature ids are the frame's index; properties are `property_names(spec)`. Below
    `spec.detail_zoom` one MultiPoint feature per legend class is sent instead (`_aggregate: true`).
    """
    if len(frame) and spec.detail_zoom is not None and zoom is not None and zoom < spec.detail_zoom:
        texts = _aggregate_texts(frame, spec, zoom)
    else:
        lat = REFERENCE_LAT
        if len(frame):
            b = frame.total_bounds
            lat = float((b[1] + b[3]) / 2) if np.isfinite(b).all() else REFERENCE_LAT
        geoms = shapely.to_geojson(generalise(frame.geometry.to_numpy(), zoom, lat)) if len(frame) else []
        texts = [_feature_text(fid, g, p)
                 for fid, g, p in zip(frame.index, geoms, _records(frame, property_names(spec)), strict=True)]
    return '{"type":"FeatureCollection","features":[' + ",".join(texts) + "]}"


def to_geojson(frame: Any, spec: LayerSpec, zoom: float | None = None) -> dict[str, Any]:
    """The same FeatureCollection as `to_geojson_text`, as a dict."""
    return json.loads(to_geojson_text(frame, spec, zoom))
