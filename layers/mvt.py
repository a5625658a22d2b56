"""Layer features → Mapbox vector tiles (`/api/v1/tiles/{layer}/{z}/{x}/{y}.mvt`).

The features and their attributes are those of the layer's GeoJSON for the tile's (buffered) bbox —
the same rows (the same bbox test on the spatial index), `where` filter, plugin attributes, legend
colour and label —, so a tile never says anything the GeoJSON endpoint would not (tests/web/test_tiles.py
compares them feature by feature). For a built-in source, what does not depend on the tile — the plugin
attributes and legend classes of every feature, and which features pass the layer's `where` — is
computed once per data revision (`tile_attributes`, memoised on the context); a tile then reads only its
rows:

- PostGIS: one query — the table columns as attributes in SQL, the per-revision attributes handed over
  as one jsonb keyed by id, geometry from the table through `ST_AsMVTGeom`, encoded by `ST_AsMVT`;
- SpatiaLite (no MVT function): ids, columns and WKB of the tile's rows; clipping and snapping by GEOS for
  all features at once, encoding by `layers.mvtwriter` (numpy; same output as `mapbox-vector-tile`).

Custom sources (a plugin's loader) go through the layer's GeoJSON for the tile and the same encoders.

Tile conventions (those of ST_AsMVTGeom's defaults): extent 4096, a 64-unit buffer, Web Mercator
(EPSG:3857) XYZ tiles with y from the top, one tile layer named after the layer id. Each feature
carries the GeoJSON properties (nulls left out: MVT has no null) plus `_id`, the GeoJSON feature id;
a list or object value is sent as its JSON text (MVT values are scalars; PostGIS writes it in its
jsonb text form — no layer has such a value today).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
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
    if z < spec.min_zoom:
        return b""
    attrs = tile_attributes(context, spec, lang) if keyed(spec) else None
    if attrs is not None and not is_sqlite(context.engine):
        return encode_postgis_keyed(context, spec, attrs, z, x, y, street)
    if attrs is not None:
        return tile_sqlite(context, spec, attrs, z, x, y, street)
    text = tile_geojson(context, spec, z, x, y, street, lang)
    if not is_sqlite(context.engine):
        return encode_postgis(context, spec.id, text, z, x, y)
    features = json.loads(text).get("features", [])
    if not features:
        return b""
    return encode_python(spec.id, features, z, x, y, text)


def keyed(spec: LayerSpec) -> bool:
    """Whether a layer's tiles are read by key from its table (a built-in source; `where` only on compounds)."""
    from layers.features import SOURCE_TABLES

    return spec.source in SOURCE_TABLES and (spec.where is None or spec.source == "compounds")


@dataclass(frozen=True)
class TileAttributes:
    """What a layer's tiles add to the table columns, for every feature of its source (one data revision).

    `shown`: the table columns the layer sends (besides `boundary_missing` for compounds);
    `extra`: id → the other attributes (plugin attributes, `_color`, `_label`), nulls left out, values
    as MVT holds them; `allowed`: the ids that pass the layer's `where` (None: no `where`). On PostGIS also
    each feature's envelope and JSON text, so a tile hands the database only its features' (`extra_json`).
    """

    shown: tuple[str, ...]
    extra: dict[Any, dict[str, Any]]
    allowed: frozenset[Any] | None
    ids: Any = None  # PostGIS: the ids of `extra` (numpy array), their envelopes and JSON members
    boxes: Any = None
    members: Any = None
    table: Any = None  # SpatiaLite: every feature's attributes (table columns too) as a mvtwriter.AttributeTable
    rows: dict[Any, int] | None = None  # id → its row in `table`

    def extra_json(self, bbox: tuple[float, float, float, float]) -> tuple[str, int]:
        """The JSON object {str(id): extra} of the features whose envelope meets `bbox` (widened a little: the
        database's own bbox test, on float4 boxes, decides; this only has to hold every feature it keeps), and how
        many they are."""
        minx, miny, maxx, maxy = bbox
        pad = max(maxx - minx, maxy - miny) * 0.01
        b = self.boxes
        hit = (b[:, 2] >= minx - pad) & (b[:, 0] <= maxx + pad) & (b[:, 3] >= miny - pad) & (b[:, 1] <= maxy + pad)
        picked = self.members[hit].tolist()
        return "{" + ",".join(picked) + "}", len(picked)


def tile_attributes(context: Any, spec: LayerSpec, lang: str) -> TileAttributes:
    """The layer's `TileAttributes`, computed once per data revision (`context.memo`)."""
    return context.memo(f"tile_attributes|{spec.id}|{lang}", lambda: _tile_attributes(context, spec, lang))


def _tile_attributes(context: Any, spec: LayerSpec, lang: str) -> TileAttributes:
    import pandas as pd
    import sqlalchemy as sa

    from geoplatform.store import model_for
    from layers.features import SKIP_COLUMNS, SOURCE_TABLES, fetch_rows
    from layers.geojson import property_names
    from layers.style import legend_lists

    table_name, _geom, key = SOURCE_TABLES[spec.source]
    table = model_for(table_name).__table__
    wanted = [n for n in property_names(spec) if n not in ("_color", "_label", "boundary_missing")]
    shown = tuple(n for n in wanted if n in table.c and n != key and n not in GEOMETRY_COLUMNS
                  and n not in SKIP_COLUMNS)  # as the GeoJSON (source_statement)
    if key in wanted:  # the key as an attribute too (e.g. a building's id in its popup)
        shown = (key, *shown)
    values = context.compound_attribute_values() if spec.source == "compounds" else {}
    legend_attr = spec.legend.attribute if spec.legend is not None else None
    cols = [table.c[key]] + ([table.c[legend_attr]] if legend_attr in table.c else [])
    rows = fetch_rows(context, sa.select(*cols))
    ids = [r[0] for r in rows]
    if legend_attr in table.c:
        legend_values = [r[1] for r in rows]
    elif legend_attr in values:
        legend_values = [values[legend_attr].get(i) for i in ids]
    else:
        legend_values = [None] * len(ids)
    colors, labels = legend_lists(legend_values, spec.legend, lang)
    names = [n for n in wanted if n not in table.c and n in values]
    extra: dict[Any, dict[str, Any]] = {}
    for n, i in enumerate(ids):
        props = {}
        for name in names:
            v = _plain(values[name].get(i))
            if v is not None:  # (NaN too: MVT has no null)
                props[name] = tile_value(v)
        props["_color"], props["_label"] = colors[n], labels[n]
        extra[i] = props
    allowed = None
    if spec.where is not None:
        frame = context.compounds_frame()
        attrs = context.compound_attributes()
        if len(attrs.columns):
            frame = frame.join(attrs.drop(columns=[c for c in attrs.columns if c in frame.columns]), how="left")
        if "boundary_missing" not in frame.columns and "boundary" in frame.columns:
            frame = frame.assign(boundary_missing=frame["boundary"].isna())
        mask = pd.Series(spec.where(frame), index=frame.index).fillna(False).astype(bool) if len(frame) else []
        allowed = frozenset(frame.index[mask].tolist()) if len(frame) else frozenset()
        extra = {i: p for i, p in extra.items() if i in allowed}
    if is_sqlite(context.engine):  # the table columns too: a tile then reads only ids and geometry
        from layers.mvtwriter import attribute_table

        sel = [table.c[key], *(table.c[n] for n in shown)]
        if spec.source == "compounds":
            sel.append(table.c.boundary.is_(None).label("boundary_missing"))
        names_db = [c.name for c in sel[1:]]
        every = []
        index: dict[Any, int] = {}
        for r in fetch_rows(context, sa.select(*sel)):
            if r[0] not in extra:  # left out by `where`
                continue
            props = {n: tile_value(_plain(v)) for n, v in zip(names_db, r[1:], strict=True) if v is not None}
            props.update(extra[r[0]])
            props["_id"] = r[0]
            index[r[0]] = len(every)
            every.append(props)
        return TileAttributes(shown, extra, allowed, table=attribute_table(every), rows=index)
    geom = "coalesce(boundary, location)" if spec.source == "compounds" else _geom
    boxes = {r[0]: r[1:] for r in fetch_rows(context, sa.select(  # every envelope, once per revision
        table.c[key], *(getattr(sa.func, f)(sa.literal_column(geom)) for f in ("ST_XMin", "ST_YMin", "ST_XMax", "ST_YMax"))
    ).select_from(table).where(sa.literal_column(geom).isnot(None)))}
    kept = [i for i in extra if i in boxes]
    dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_plain).encode
    members = np.array([dump(str(i)) + ":" + dump(extra[i]) for i in kept] or [""], dtype=object)[:len(kept)]
    return TileAttributes(shown, extra, allowed, np.array(kept, dtype=object),
                          np.array([boxes[i] for i in kept], dtype=float).reshape(-1, 4), members)


GEOMETRY_COLUMNS = ("boundary", "location", "geom")


def _plain(value: Any) -> Any:
    """A plugin attribute value as plain Python (numpy scalars, dates as ISO text, NaN as None)."""
    import datetime as dt

    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


_KEYED_SQL: dict[tuple[Any, ...], str] = {}


def keyed_tile_sql(spec: LayerSpec, shown: tuple[str, ...], street: bool) -> str:
    """The one ST_AsMVT query of a built-in source's tile: table columns in SQL, `:extra` jsonb by id.

    Identifiers come from SOURCE_TABLES and the model, never from a request; every value is a parameter.
    """
    cache_key = (spec.source, shown, street, spec.where is not None)
    sql = _KEYED_SQL.get(cache_key)
    if sql is not None:
        return sql
    import sqlalchemy as sa

    from geoplatform.models import SRID
    from geoplatform.store import model_for
    from layers.features import SOURCE_TABLES

    table_name, geom_name, key = SOURCE_TABLES[spec.source]
    table = model_for(table_name).__table__
    env = f"ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, {int(SRID)})"
    cols = [f"s.{key} AS _id"]
    for name in shown:
        if isinstance(table.c[name].type, sa.JSON):  # a list or object is sent as its JSON text
            j = f"CAST(s.{name} AS jsonb)"
            cols.append(f"CASE WHEN jsonb_typeof({j}) IN ('array', 'object') THEN {j}::text ELSE {j} #>> '{{}}' END"
                        f" AS {name}")
        else:  # typed: ST_AsMVT leaves nulls out, writes numbers and booleans as such, dates as ISO text
            cols.append(f"s.{name}")
    if spec.source == "compounds":
        geom = "coalesce(s.boundary, s.location)"
        cols.append("s.boundary IS NULL AS boundary_missing")
        where = (f"((s.boundary IS NOT NULL AND s.boundary && {env})"
                 f" OR (s.boundary IS NULL AND s.location && {env}))")
    else:
        geom = f"s.{geom_name}"
        where = f"s.{geom_name} IS NOT NULL AND s.{geom_name} && {env}"
    if street:
        if "street_code" in table.c:
            where += " AND s.street_code = :street"
        elif table_name == "street":
            where += " AND s.code = :street"
        elif "compound_id" in table.c:
            where += " AND s.compound_id IN (SELECT c.id FROM compound AS c WHERE c.street_code = :street)"
    if spec.where is not None:
        where += f" AND CAST(:extra AS jsonb) ? CAST(s.{key} AS text)"
    sql = (
        "SELECT ST_AsMVT(t, :name, :extent, 'geom') FROM ("  # noqa: S608
        f" SELECT ST_AsMVTGeom(ST_Transform({geom}, 3857), ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true)"
        f" AS geom, {', '.join(cols)}, CAST(:extra AS jsonb) -> CAST(s.{key} AS text) AS _extra"
        f" FROM {table_name} AS s WHERE {where}"
        ") AS t WHERE t.geom IS NOT NULL"
    )
    _KEYED_SQL[cache_key] = sql
    return sql


# From ≈ 1,850 features a tile query's plan cost (≈ 54 a feature) passes PostgreSQL's jit_above_cost (100,000), and
# compiling its expressions takes longer than it saves (10× z12, EXPLAIN ANALYZE: 48 ms of JIT in a 293 ms query): for
# a tile of at least NO_JIT_FROM features JIT is off in the query's own transaction (SET LOCAL), nowhere else; a smaller
# tile is planned without JIT anyway and spares the statement's round trip.
NO_JIT = "SET LOCAL jit = off"
NO_JIT_FROM = 1000


def encode_postgis_keyed(context: Any, spec: LayerSpec, attrs: TileAttributes, z: int, x: int, y: int,
                         street: str | None) -> bytes:
    """A built-in source's tile in one PostGIS query (see `keyed_tile_sql`)."""
    import sqlalchemy as sa

    from layers.features import read_engine

    bbox = tile_bbox(z, x, y)
    minx, miny, maxx, maxy = bbox
    extra, picked = attrs.extra_json(bbox)
    params = {"name": spec.id, "z": z, "x": x, "y": y, "extent": EXTENT, "buffer": BUFFER,
              "extra": extra, "minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}
    if street is not None:
        params["street"] = street
    with read_engine(context).connect() as conn:
        if picked >= NO_JIT_FROM:
            conn.exec_driver_sql(NO_JIT)  # (this transaction only)
        out = conn.execute(sa.text(keyed_tile_sql(spec, attrs.shown, street is not None)), params).scalar()
    return bytes(out or b"")


def tile_sqlite(context: Any, spec: LayerSpec, attrs: TileAttributes, z: int, x: int, y: int,
                street: str | None) -> bytes:
    """A built-in source's tile on SpatiaLite: its rows (ids and WKB) by the spatial index, attributes from the
    per-revision `attrs.table`, geometry clipped and snapped by GEOS and encoded by `layers.mvtwriter`."""
    import shapely

    from layers.features import fetch_source

    bbox = tile_bbox(z, x, y)
    found, _names = fetch_source(context, spec.source, columns=(), bbox=bbox, street=street)
    index = attrs.rows
    found = [r for r in found if r[0] in index]  # (and passing `where`)
    if not found:
        return b""
    # the table's geometry, as ST_AsMVTGeom gets it on PostGIS (the snap to the tile grid is the generalisation)
    geoms = shapely.from_wkb([r[-1] for r in found])
    return encode_geoms(spec.id, geoms, attrs.table, z, x, y, rows=[index[r[0]] for r in found])


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


def encode_postgis(context: Any, name: str, collection: str, z: int, x: int, y: int) -> bytes:
    """Clip, quantize and encode a FeatureCollection text in PostGIS (ST_AsMVTGeom + ST_AsMVT; custom sources)."""
    import sqlalchemy as sa

    from layers.features import read_engine

    params = {"name": name, "z": z, "x": x, "y": y, "extent": EXTENT, "buffer": BUFFER, "collection": collection}
    with read_engine(context).connect() as conn:
        out = conn.execute(sa.text(ASMVT_SQL), params).scalar()
    return bytes(out or b"")


def encode_python(name: str, features: list[dict[str, Any]], z: int, x: int, y: int, text: str | None = None) -> bytes:
    """A tile of GeoJSON features (custom sources on SpatiaLite): their geometry and `tile_properties`, see `encode_geoms`.

    `text`, when given, is the FeatureCollection text `features` were parsed from (GEOS parses it in one go).
    """
    import shapely

    geoms = None
    if text is not None and '"geometry":null' not in text:
        geoms = shapely.get_parts(shapely.from_geojson(text))
    if geoms is None or len(geoms) != len(features):
        geoms = shapely.from_geojson([json.dumps(f["geometry"]) if f.get("geometry") else None for f in features])
    return encode_geoms(name, geoms, [tile_properties(f) for f in features], z, x, y)


def _clip(geoms: np.ndarray) -> np.ndarray:
    """Geometries in tile units clipped to the tile plus its buffer. One GEOS cannot clip (a ring of fewer than four
    points, e.g. from a custom source's simplified GeoJSON) is repaired first, or left out when even that fails."""
    import shapely

    box = (-BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    try:
        return shapely.clip_by_rect(geoms, *box)
    except shapely.errors.GEOSException:
        out = np.empty(len(geoms), dtype=object)
        for i, g in enumerate(geoms.tolist()):
            try:
                out[i] = shapely.clip_by_rect(g, *box)
            except shapely.errors.GEOSException:
                try:
                    out[i] = shapely.clip_by_rect(shapely.make_valid(g), *box)
                except shapely.errors.GEOSException:
                    out[i] = None
        return out


def encode_geoms(name: str, geoms: Any, props: Any, z: int, x: int, y: int, rows: list[int] | None = None) -> bytes:
    """Clip, quantize and orient like ST_AsMVTGeom (SpatiaLite has no ST_AsMVT), then encode with `layers.mvtwriter`.

    The geometric work is done for all features at once by GEOS (shapely's vectorised functions):
    EPSG:4326 → 3857 → tile units, clip to the tile plus its buffer, snap to the integer grid (rounding), repair
    what the snap made invalid keeping the feature's dimension (a part that collapses is dropped), exterior
    rings clockwise on screen (y down). Repeated points are dropped by the writer.
    """
    import shapely

    from layers.mvtwriter import encode_layer

    minx, miny, maxx, maxy = mercator_bounds(z, x, y)
    scale = EXTENT / (maxx - minx)

    def to_tile(xy: np.ndarray) -> np.ndarray:  # y down, as MVT has it (the clip box is the same either way)
        m = to_mercator(xy)
        m[:, 0] = (m[:, 0] - minx) * scale
        m[:, 1] = (maxy - m[:, 1]) * scale
        return m

    def to_grid(xy: np.ndarray) -> np.ndarray:  # to tile units and snapped to the integer grid in one pass
        return np.rint(to_tile(xy))

    geoms = np.asarray(geoms, dtype=object)
    dims = shapely.get_dimensions(geoms)  # ST_AsMVTGeom keeps a feature's own dimension only
    # which features cross the tile plus its buffer, from their lon/lat bounds (the mapping is monotonic on each
    # axis: x grows with lon, y — down — shrinks as lat grows; None or empty: NaN bounds, "cut" to nothing)
    b = shapely.bounds(geoms)
    lo = to_tile(b[:, [0, 3]])
    hi = to_tile(b[:, [2, 1]])
    inside = (lo[:, 0] >= -BUFFER) & (lo[:, 1] >= -BUFFER) & (hi[:, 0] <= EXTENT + BUFFER) & (hi[:, 1] <= EXTENT + BUFFER)
    cut = np.flatnonzero(~inside)
    out = np.empty(len(geoms), dtype=object)
    if len(cut) < len(geoms):  # wholly inside: one GEOS pass, to tile units and snapped (no clip)
        keep = np.flatnonzero(inside)
        out[keep] = shapely.transform(geoms[keep], to_grid)
    if len(cut):  # only what crosses the tile plus its buffer is clipped (in tile units), then snapped
        out[cut] = shapely.transform(_clip(shapely.transform(geoms[cut], to_tile)), np.rint)
    geoms = out
    bad = np.flatnonzero(~shapely.is_valid(geoms) & ~shapely.is_empty(geoms) & (dims == 2))
    if len(bad):  # a ring the snap made touch itself or collapse: repaired (GEOS), polygonal parts kept
        geoms[bad] = shapely.make_valid(geoms[bad])
    mixed = np.union1d(bad, np.flatnonzero(shapely.get_type_id(geoms) == 7))  # a clip or repair touching an edge
    for i in mixed.tolist():
        parts = [g for g in shapely.get_parts(geoms[i]) if not g.is_empty and shapely.get_dimensions(g) == dims[i]]
        geoms[i] = shapely.union_all(parts) if parts else None
    return encode_layer(name, geoms, props, EXTENT, rows, orient=True)  # exterior rings clockwise on screen
