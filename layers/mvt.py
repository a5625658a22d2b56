"""Layer features → Mapbox vector tiles (`/api/v1/tiles/{layer}/{z}/{x}/{y}.mvt`).

The features and their attributes are those of the layer's GeoJSON for the tile's (buffered) bbox —
the same rows, `where` filter, plugin attributes, legend colour and label —, so a tile never says
anything the GeoJSON endpoint would not. Only the encoding differs by database:

- PostGIS: `ST_AsMVT` / `ST_AsMVTGeom` (clip, quantize, encode in the database);
- SpatiaLite (no MVT function): the `mapbox-vector-tile` encoder (tilezen, pure Python on shapely 2).

Tile conventions (those of ST_AsMVTGeom's defaults): extent 4096, a 64-unit buffer, Web Mercator
(EPSG:3857) XYZ tiles with y from the top, one tile layer named after the layer id. Each feature
carries the GeoJSON properties (nulls left out: MVT has no null) plus `_id`, the GeoJSON feature id;
a list or object value is sent as its JSON text (MVT values are scalars; PostGIS writes it in its
jsonb text form — no layer has such a value today).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import numpy as np

from geoplatform.db import is_sqlite
from layers.spec import LayerSpec

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 24
EARTH_HALF = 20037508.342789244  # half the Web Mercator world width, metres
MIME = "application/vnd.mapbox-vector-tile"


def valid_tile(z: int, x: int, y: int) -> bool:
    """Whether z/x/y names a tile: 0 ≤ z ≤ MAX_ZOOM and 0 ≤ x, y < 2^z."""
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


def mercator_bounds(z: int, x: int, y: int, buffer: int = 0) -> tuple[float, float, float, float]:
    """The tile's EPSG:3857 bounds (minx, miny, maxx, maxy), widened by `buffer` tile units on each side."""
    size = 2 * EARTH_HALF / 2**z
    pad = size * buffer / EXTENT
    minx = -EARTH_HALF + x * size
    maxy = EARTH_HALF - y * size
    return (minx - pad, maxy - size - pad, minx + size + pad, maxy + pad)


def _lon_lat(mx: float, my: float) -> tuple[float, float]:
    lon = mx / EARTH_HALF * 180.0
    lat = math.degrees(math.atan(math.sinh(my / EARTH_HALF * math.pi)))
    return max(-180.0, min(180.0, lon)), max(-90.0, min(90.0, lat))


def tile_bbox(z: int, x: int, y: int, buffer: int = BUFFER) -> tuple[float, float, float, float]:
    """The WGS-84 bbox (min_lon, min_lat, max_lon, max_lat) of the tile with its buffer: the features it may hold."""
    minx, miny, maxx, maxy = mercator_bounds(z, x, y, buffer)
    lon0, lat0 = _lon_lat(minx, miny)
    lon1, lat1 = _lon_lat(maxx, maxy)
    return (lon0, lat0, lon1, lat1)


def to_mercator(xy: np.ndarray) -> np.ndarray:
    """(lon, lat) rows → EPSG:3857 metres (latitudes clamped to the Mercator limit)."""
    out = np.empty_like(xy, dtype=float)
    out[:, 0] = xy[:, 0] * EARTH_HALF / 180.0
    lat = np.clip(xy[:, 1], -85.05112878, 85.05112878)
    out[:, 1] = np.log(np.tan(np.radians(90.0 + lat) / 2.0)) * EARTH_HALF / math.pi
    return out


def tile_value(value: Any) -> Any:
    """A property value as MVT can hold it: scalars as they are, lists/objects as JSON text."""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def tile_properties(feature: dict[str, Any]) -> dict[str, Any]:
    """The MVT attributes of a GeoJSON feature: its non-null properties plus `_id`."""
    props = {k: tile_value(v) for k, v in (feature.get("properties") or {}).items() if v is not None}
    if feature.get("id") is not None:
        props["_id"] = tile_value(feature["id"])
    return props


def tile_geojson(context: Any, spec: LayerSpec, z: int, x: int, y: int, street: str | None, lang: str,
                 geometry: bool = True) -> str:
    """The layer's GeoJSON text for the tile's buffered bbox (simplified to the tile's resolution).

    Never a dot map: tiles are how big layers are drawn feature by feature. Below the layer's
    `min_zoom`, no feature.
    """
    from layers.geojson import EMPTY, layer_geojson

    if z < spec.min_zoom:
        return EMPTY
    plain = replace(spec, detail_zoom=None)
    # a tile unit is 1/16 of a 256-px pixel: simplify (and round) at zoom z + 4
    return layer_geojson(context, plain, bbox=tile_bbox(z, x, y), zoom=min(z + 4, MAX_ZOOM), street=street,
                         lang=lang, geometry=geometry)


def layer_tile(context: Any, spec: LayerSpec, z: int, x: int, y: int, street: str | None = None,
               lang: str = "zh") -> bytes:
    """The MVT bytes of one tile of a layer (an empty tile — zero bytes — when it holds no feature)."""
    if not is_sqlite(context.engine):  # a built-in source's geometry is read from its table by key
        keyed = keyed_sql(context.engine, spec.source) is not None
        text = tile_geojson(context, spec, z, x, y, street, lang, geometry=not keyed)
        return encode_postgis(context, spec.id, text, z, x, y, spec.source)
    text = tile_geojson(context, spec, z, x, y, street, lang)
    features = json.loads(text).get("features", [])
    if not features:
        return b""
    return encode_python(spec.id, features, z, x, y, text)


# The attributes of a GeoJSON feature `f` as ST_AsMVT's jsonb column: what `tile_properties` gives in Python
# (nulls left out, arrays/objects as their JSON text, `_id`).
PROPS_SQL = (
    "(SELECT coalesce(jsonb_object_agg(e.key, CASE WHEN jsonb_typeof(e.value) IN ('array', 'object')"
    " THEN to_jsonb(e.value::text) ELSE e.value END), '{}'::jsonb)"
    " FROM jsonb_each(jsonb_strip_nulls(coalesce(f->'properties', '{}'::jsonb))) AS e)"
    " || CASE WHEN f->'id' IS NULL OR f->'id' = 'null'::jsonb THEN '{}'::jsonb"
    " ELSE jsonb_build_object('_id', f->'id') END"
)

ASMVT_SQL = (  # constants only in the text (PROPS_SQL); every value is a parameter
    "SELECT ST_AsMVT(t, :name, :extent, 'geom') FROM ("  # noqa: S608
    " SELECT ST_AsMVTGeom(ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(f->'geometry'), 4326), 3857),"
    f" ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true) AS geom, {PROPS_SQL} AS props"
    " FROM jsonb_array_elements(CAST(:collection AS jsonb)->'features') AS f"
    " WHERE jsonb_typeof(f->'geometry') = 'object'"
    ") AS t WHERE t.geom IS NOT NULL"
)


def encode_postgis(context: Any, name: str, collection: str, z: int, x: int, y: int,
                   source: str | None = None) -> bytes:
    """Clip, quantize and encode in PostGIS (ST_AsMVTGeom + ST_AsMVT; the jsonb column becomes the attributes).

    `collection` is the layer's FeatureCollection text, handed to the database as it is (it reads the
    attributes itself). For a built-in source the geometry is read from its table by key (the features'
    ids), so the database never parses GeoJSON geometry back; a custom layer's features bring theirs.
    """
    import sqlalchemy as sa

    from layers.features import read_engine

    sql = (keyed_sql(context.engine, source) if source is not None else None) or ASMVT_SQL
    params = {"name": name, "z": z, "x": x, "y": y, "extent": EXTENT, "buffer": BUFFER, "collection": collection}
    with read_engine(context).connect() as conn:
        out = conn.execute(sa.text(sql), params).scalar()
    return bytes(out or b"")


_KEYED: dict[str, str | None] = {}


def keyed_sql(engine: Any, source: str) -> str | None:
    """The ST_AsMVT query of a built-in source whose geometry is joined from its table by key (None: not one)."""
    if source in _KEYED:
        return _KEYED[source]
    from layers.features import SOURCE_TABLES

    sql = None
    if source in SOURCE_TABLES:
        from geoplatform.store import model_for

        table_name, geom_name, key = SOURCE_TABLES[source]
        table = model_for(table_name).__table__
        key_type = table.c[key].type.compile(dialect=engine.dialect)
        geom = "coalesce(s.boundary, s.location)" if source == "compounds" else f"s.{geom_name}"
        # identifiers from SOURCE_TABLES and the model, never from a request; every value is a parameter
        sql = (
            "SELECT ST_AsMVT(t, :name, :extent, 'geom') FROM ("  # noqa: S608
            f" SELECT ST_AsMVTGeom(ST_Transform({geom}, 3857), ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true)"
            f" AS geom, {PROPS_SQL} AS props"
            " FROM jsonb_array_elements(CAST(:collection AS jsonb)->'features') AS f"
            f" JOIN {table_name} AS s ON s.{key} = CAST(f->>'id' AS {key_type})"
            ") AS t WHERE t.geom IS NOT NULL"
        )
    _KEYED[source] = sql
    return sql


def encode_python(name: str, features: list[dict[str, Any]], z: int, x: int, y: int, text: str | None = None) -> bytes:
    """Clip, quantize and orient like ST_AsMVTGeom, then encode with `mapbox-vector-tile` (SpatiaLite has no ST_AsMVT).

    The geometric work is done for all features at once by GEOS (shapely's vectorised functions):
    EPSG:3857 → tile units, clip to the tile plus its buffer, snap to the integer grid keeping the
    geometry valid (a part that collapses is dropped), exterior rings clockwise; the encoder then only
    writes the commands and attributes (its own per-vertex quantizing and winding checks are off).
    `text`, when given, is the FeatureCollection text `features` were parsed from.
    """
    import mapbox_vector_tile
    import shapely

    minx, miny, maxx, maxy = mercator_bounds(z, x, y)
    scale = EXTENT / (maxx - minx)

    def to_tile(xy: np.ndarray) -> np.ndarray:
        m = to_mercator(xy)
        m[:, 0] = (m[:, 0] - minx) * scale
        m[:, 1] = (m[:, 1] - miny) * scale  # y up: the encoder flips it (y_coord_down False)
        return m

    geoms = None
    if text is not None and '"geometry":null' not in text:  # `features`' own text: GEOS parses it in one go
        geoms = shapely.get_parts(shapely.from_geojson(text))
    if geoms is None or len(geoms) != len(features):
        geoms = shapely.from_geojson([json.dumps(f["geometry"]) if f.get("geometry") else None for f in features])
    geoms = shapely.clip_by_rect(shapely.transform(geoms, to_tile), -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    geoms = shapely.orient_polygons(shapely.set_precision(geoms, 1.0), exterior_cw=True)
    encoded = []
    for geom, feature in zip(geoms, features, strict=True):
        if geom is None or geom.is_empty:
            continue
        if geom.geom_type == "GeometryCollection":  # a clip or snap touching an edge: keep the parts of one dimension
            parts = [g for g in geom.geoms if not g.is_empty]
            dim = max(shapely.get_dimensions(parts))
            geom = shapely.union_all([g for g in parts if shapely.get_dimensions(g) == dim])
            if geom.is_empty:
                continue
            geom = shapely.orient_polygons(geom, exterior_cw=True)
        encoded.append({"geometry": geom, "properties": tile_properties(feature)})
    if not encoded:
        return b""
    return mapbox_vector_tile.encode(
        [{"name": name, "features": encoded}],
        default_options={"quantize_bounds": None, "extents": EXTENT, "check_winding_order": False})
