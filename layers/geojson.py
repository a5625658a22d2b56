"""Layer features → GeoJSON: zoom-dependent simplification, bounded precision, only the attributes a map shows."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geoplatform.db import is_sqlite
from geoplatform.store import model_for
from layers.spec import LayerSpec

TILE_SIZE = 256
MAX_DECIMALS = 6  # ≈ 0.1 m: more is noise for EPSG:4326 map data
REFERENCE_LAT = 40.65
SIMPLIFY_MIN_COORDS = 8  # a rectangle (5) or a small polygon has nothing to drop; skip the GEOS call  # Kundulun; used when a frame is empty


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
    return names + [n for n in ("_color", "_label", "boundary_missing") if n not in names]


def generalise(geoms: np.ndarray, zoom: float | None, lat: float = REFERENCE_LAT) -> np.ndarray:
    """Simplify to one pixel at `zoom` (topology-preserving) and round coordinates to `coordinate_decimals(zoom)`."""
    out = np.asarray(geoms, dtype=object)
    if zoom is not None:
        big = shapely.get_num_coordinates(out) > SIMPLIFY_MIN_COORDS
        if big.any():
            out = out.copy()
            out[big] = shapely.simplify(out[big], pixel_size_deg(zoom, lat), preserve_topology=True)
    decimals = coordinate_decimals(zoom)
    return shapely.transform(out, lambda xy: np.round(xy, decimals))


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _feature_text(fid: Any, geom: str | None, props: dict[str, Any]) -> str:
    return (f'{{"type":"Feature","id":{json.dumps(_json_value(fid), ensure_ascii=False)},'
            f'"geometry":{geom or "null"},'
            f'"properties":{json.dumps(props, ensure_ascii=False, default=_json_value, allow_nan=False, separators=(",", ":"))}}}')


def _clean(values: list[Any]) -> list[Any]:
    return [None if isinstance(v, float) and math.isnan(v) else v for v in values]


def features_text(ids: list[Any], geoms: np.ndarray, columns: dict[str, list[Any]], spec: LayerSpec,
                  zoom: float | None) -> str:
    """The FeatureCollection text from parallel arrays: ids, geometries, property columns (incl. `_color`, `_label`)."""
    if len(ids) and spec.detail_zoom is not None and zoom is not None and zoom < spec.detail_zoom:
        texts = _aggregate_texts(geoms, columns, spec, zoom)
    elif len(ids):
        b = shapely.total_bounds(geoms)
        lat = float((b[1] + b[3]) / 2) if np.isfinite(b).all() else REFERENCE_LAT
        parts = shapely.to_geojson(generalise(geoms, zoom, lat))
        keys = list(columns)
        texts = [_feature_text(fid, g, dict(zip(keys, vals, strict=True)))
                 for fid, g, vals in zip(ids, parts, zip(*(_clean(columns[k]) for k in keys), strict=True),
                                         strict=True)]
    else:
        texts = []
    return '{"type":"FeatureCollection","features":[' + ",".join(texts) + "]}"


def _aggregate_texts(geoms: np.ndarray, columns: dict[str, list[Any]], spec: LayerSpec, zoom: float) -> list[str]:
    points = shapely.set_precision(shapely.point_on_surface(geoms), 10.0 ** -coordinate_decimals(zoom),
                                   mode="pointwise")
    attr = spec.legend.attribute if spec.legend else None
    groups: dict[tuple[str, str], list[int]] = {}
    for i, key in enumerate(zip(columns["_color"], columns["_label"], strict=True)):
        groups.setdefault(key, []).append(i)
    texts = []
    for n, ((color, lab), pos) in enumerate(sorted(groups.items())):
        props: dict[str, Any] = {"_color": color, "_label": lab, "_count": len(pos), "_aggregate": True}
        if attr and attr in columns:
            props[attr] = _clean([columns[attr][pos[0]]])[0]
        texts.append(_feature_text(f"_class_{n}", shapely.to_geojson(shapely.multipoints(points[pos])), props))
    return texts


def to_geojson_text(frame: Any, spec: LayerSpec, zoom: float | None = None) -> str:
    """A FeatureCollection string for `layer_features(...)` output.

    Feature ids are the frame's index; properties are `property_names(spec)` present in the frame.
    Below `spec.detail_zoom` one MultiPoint feature per legend class is sent instead (`_aggregate: true`,
    `_count`, `_color`, `_label`, the legend attribute).
    """
    cols = [n for n in property_names(spec) if n in frame.columns]
    sub = frame[cols].astype(object)
    sub = sub.where(pd.notna(sub), None)
    columns = {c: sub[c].tolist() for c in cols}
    return features_text(list(frame.index), frame.geometry.to_numpy(), columns, spec, zoom)


def to_geojson(frame: Any, spec: LayerSpec, zoom: float | None = None) -> dict[str, Any]:
    """The same FeatureCollection as `to_geojson_text`, as a dict."""
    return json.loads(to_geojson_text(frame, spec, zoom))


def layer_geojson(context: Any, spec: LayerSpec, bbox: Any = None, zoom: float | None = None,
                  street: str | None = None, lang: str = "zh", geometry: bool = True) -> str:
    """GeoJSON text of a layer for a bbox — the content of `to_geojson_text(layer_features(...))`, faster.

    Built-in sources without a `where` predicate skip pandas: the SELECT fetches only the shown
    columns with the geometry already simplified and written as GeoJSON by the database
    (ST_AsGeoJSON / AsGeoJSON), plugin attributes come from the context's cached lookup. Custom
    sources, `where` filters and dot maps take the frame path. With `geometry=False` the fast path
    leaves every geometry null (for a caller that reads it from the table itself: vector tiles on
    PostGIS); the frame path keeps it.
    """
    from layers.features import SOURCE_TABLES, fetch_source, layer_features
    from layers.style import legend_lists

    dots = spec.detail_zoom is not None and zoom is not None and zoom < spec.detail_zoom
    if spec.source not in SOURCE_TABLES or spec.where is not None or dots:
        return to_geojson_text(layer_features(context, spec, bbox, zoom, street, lang), spec, zoom)
    if zoom is not None and zoom < spec.min_zoom:
        return EMPTY
    lat = (bbox[1] + bbox[3]) / 2 if bbox is not None else REFERENCE_LAT
    tol = pixel_size_deg(zoom, lat) if zoom is not None else 0.0
    wanted = [n for n in property_names(spec) if n not in ("_color", "_label", "boundary_missing")]
    in_db = DB_GEOJSON if DB_GEOJSON is not None else not is_sqlite(context.engine)
    in_db = in_db and geometry  # without geometry: plain WKB fetched, never decoded
    table_columns = set(model_for(SOURCE_TABLES[spec.source][0]).__table__.c.keys())
    legend_attr = spec.legend.attribute if spec.legend is not None else None
    plain = (legend_attr,) if legend_attr in table_columns else ()
    # SQLite builds the properties JSON faster than Python (json_object); PostGIS's json_build_object is
    # slower than fetching the columns and encoding them here.
    in_db_json = is_sqlite(context.engine)
    rows, names = fetch_source(context, spec.source, columns=wanted, bbox=bbox, street=street,
                               geojson=(tol or None, coordinate_decimals(zoom)) if in_db else None,
                               json_props=in_db_json, plain=plain)
    if not rows:
        return EMPTY
    cols = [list(c) for c in zip(*rows, strict=True)]
    ids, geom_col = cols[0], cols[-1]
    if in_db_json:
        props_db = cols[-2]
    else:
        keys_db = [n for n in names if n in wanted or n == "boundary_missing"]  # the key too when shown
        template = "{" + ",".join(_ENCODE_KEY(k).replace("%", "%%") + ":%s" for k in keys_db) + "}"
        props_db = [template % t for t in zip(*(_encode_column(cols[names.index(k)]) for k in keys_db),
                                               strict=True)] if keys_db else ["{}"] * len(ids)
    if not geometry:
        geoms = ["null"] * len(ids)
    elif in_db:
        geoms = ["null" if g is None else g for g in geom_col]
    else:
        wkb = shapely.from_wkb([None if v is None else bytes(v) for v in geom_col])
        geoms = ["null" if g is None else g for g in shapely.to_geojson(generalise(wkb, zoom, lat))]
    # properties the database does not have: plugin attributes, then the legend class
    attrs = context.compound_attribute_values() if spec.source == "compounds" else {}
    extra: dict[str, list[Any]] = {}
    for name in wanted:
        if name not in table_columns and name in attrs:
            lookup = attrs[name]
            extra[name] = [lookup.get(i) for i in ids]
    if plain:
        legend_values: list[Any] = cols[names.index(plain[0])]
    elif legend_attr in extra:
        legend_values = extra[legend_attr]
    elif legend_attr in attrs:
        legend_values = [attrs[legend_attr].get(i) for i in ids]
    else:
        legend_values = [None] * len(ids)
    extra["_color"], extra["_label"] = legend_lists(legend_values, spec.legend, lang)
    keys = list(extra)
    tail = "".join("," + _ENCODE_KEY(k).replace("%", "%%") + ":%s" for k in keys) + "}}"
    tails = [tail % t for t in zip(*(_encode_column(extra[k]) for k in keys), strict=True)]
    feats = [f'{{"type":"Feature","id":{i},"geometry":{g},"properties":{p[:-1] if len(p) > 2 else "{"}'
             f'{t if len(p) > 2 else t[1:]}'
             for i, g, p, t in zip(_encode_column(ids), geoms, props_db, tails, strict=True)]
    return '{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}"


# Where geometry becomes GeoJSON: None = in the database for PostGIS (fast ST_AsGeoJSON), in
# shapely/GEOS for SpatiaLite (its AsGeoJSON costs ~20 µs a geometry, WKB decoding far less).
DB_GEOJSON: bool | None = None
EMPTY = '{"type":"FeatureCollection","features":[]}'
_ENCODE_KEY = json.encoder.encode_basestring  # type: ignore[attr-defined]
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_value)


def _encode_value(v: Any) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return _ENCODE_KEY(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "null" if math.isnan(v) or math.isinf(v) else repr(v)
    return _ENCODER.encode(_json_value(v))


def _encode_column(values: list[Any]) -> list[str]:
    """JSON text of each value (None/NaN → null), with shortcuts for columns of one simple type."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if kinds <= {str}:
        return ["null" if v is None else _ENCODE_KEY(v) for v in values]
    if kinds <= {int}:
        return ["null" if v is None else str(v) for v in values]
    if kinds <= {bool}:
        return ["null" if v is None else ("true" if v else "false") for v in values]
    if kinds <= {float, int}:
        return ["null" if v is None or v != v or v in _INFINITIES else repr(v) for v in values]
    return [_encode_value(v) for v in values]


_INFINITIES = (math.inf, -math.inf)
