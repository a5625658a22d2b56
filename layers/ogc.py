"""Layers as OGC API – Features collections: one geometry type each, typed properties, equality filters, pages.

Framework-free (the HTTP surface is `web/ogc.py`). What a GIS client needs from a layer:

- **One geometry type per collection.** A compound layer holds boundaries (MultiPolygon) and the
  location points of compounds whose boundary is missing: the points become their own collection
  `<layer>_points`. A plugin layer whose features mix geometry families is split the same way (the
  areas or lines keep the layer id; `<layer>_points`, `<layer>_lines` hold the rest), and a family
  mixing single and multi parts is served as multi parts.
- **Valid geometry after coordinate reduction.** Coordinates are snapped to a 1e-7° grid (≈ 1 cm);
  a geometry the rounding would make invalid is reduced with GEOS's topology-preserving reducer
  instead (valid in → valid out), see `reduce_precision`.
- **Pages whose cost grows with the page.** Built-in tables are read with `key > after ORDER BY key
  LIMIT n` (keyset on the primary key) or `LIMIT/OFFSET`; plugin-computed layers are built once per
  data revision (`Context.memo`) and then sliced. `numberMatched` is counted once per filter and revision.
- **Typed properties** (`properties`), the scalar ones queryable by equality (`queryables`, `parse_filters`).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy import func, select

from geoplatform.db import is_sqlite
from layers.features import SOURCE_TABLES, BBox, bbox_clause, fetch_rows, layer_features, source_statement
from layers.geojson import _ENCODE_KEY, _encode_column
from layers.spec import LayerSpec
from layers.style import legend_lists

DECIMALS = 7  # decimals of a degree served (≈ 1 cm)
GRID = 10.0 ** -DECIMALS
FAMILIES = ("polygon", "line", "point")  # the first family present keeps the layer id
SUFFIX = {"polygon": "_areas", "line": "_lines", "point": "_points"}
FAMILY_OF = {"Polygon": "polygon", "MultiPolygon": "polygon", "LineString": "line", "MultiLineString": "line",
             "Point": "point", "MultiPoint": "point"}
MULTI = {"polygon": "MultiPolygon", "line": "MultiLineString", "point": "MultiPoint"}
SQL_TYPES = {"MULTIPOLYGON": "MultiPolygon", "POLYGON": "Polygon", "POINT": "Point", "MULTIPOINT": "MultiPoint",
             "LINESTRING": "LineString", "MULTILINESTRING": "MultiLineString"}
COUNT_CACHE_SIZE = 256  # numberMatched of recent (collection, bbox, filters) per context


class FilterError(ValueError):
    """A query parameter that names no queryable or whose value does not fit its type."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


@dataclass(frozen=True)
class Collection:
    """A layer, or the part of a layer of one geometry family (`family` None: the whole layer)."""

    id: str
    spec: LayerSpec
    family: str | None
    geometry_type: str | None  # the GeoJSON type of every feature; None when the collection is empty/unknown

    @property
    def compounds(self) -> bool:
        """True when the features are compounds (boundary, or location point when the boundary is missing)."""
        return self.spec.source == "compounds"


@dataclass(frozen=True)
class Property:
    """A feature property's JSON type (`format` date / date-time for ISO texts); `scalar` ones are queryable."""

    type: str
    format: str | None = None

    @property
    def scalar(self) -> bool:
        """Queryable by equality."""
        return self.type in ("string", "integer", "number", "boolean")

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of the property."""
        out: dict[str, Any] = {"type": self.type}
        if self.format:
            out["format"] = self.format
        return out


@dataclass(frozen=True)
class Page:
    """One page of features: the FeatureCollection's `features` array as JSON text, and what links need."""

    features: str
    returned: int
    matched: int
    last_key: str | None


# ------------------------------------------------------------------------------------------------ geometry

def reduce_precision(geoms: Any, decimals: int = DECIMALS) -> np.ndarray:
    """Coordinates rounded to `decimals`, keeping every valid geometry valid.

    Pointwise rounding is fast but may make a valid polygon self-intersect (a vertex closer than the
    grid to an edge) or collapse a short line: those few are reduced with GEOS's topology-preserving
    precision reducer instead; should that empty a geometry, it keeps its unrounded coordinates.
    """
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return geoms
    grid = 10.0 ** -decimals
    out = shapely.transform(geoms, lambda xy: np.round(xy, decimals))  # pointwise, 4× faster than set_precision
    suspect = ~shapely.is_valid(out) & ~shapely.is_missing(out)
    if suspect.any():
        broken = suspect.copy()
        broken[suspect] = shapely.is_valid(geoms[suspect])
        out[broken] = shapely.set_precision(geoms[broken], grid)
        lost = broken & (shapely.is_empty(out) | ~shapely.is_valid(out))
        out[lost] = geoms[lost]
    return out


def promote(geoms: np.ndarray, family: str) -> np.ndarray:
    """Single parts as one-part multi geometries (so a collection holds one geometry type)."""
    out = np.asarray(geoms, dtype=object).copy()
    types = shapely.get_type_id(out)
    single = {"polygon": 3, "line": 1, "point": 0}[family]
    hit = types == single
    if hit.any():
        make = {"polygon": shapely.multipolygons, "line": shapely.multilinestrings, "point": shapely.multipoints}
        out[hit] = make[family](out[hit].reshape(-1, 1))
    return out


def families(geoms: Any) -> dict[str, set[str]]:
    """{family: geometry types present} (missing geometries skipped)."""
    out: dict[str, set[str]] = {}
    for kind in pd.unique(shapely.get_type_id(np.asarray(geoms, dtype=object))):
        name = _TYPE_NAMES.get(int(kind))
        if name in FAMILY_OF:
            out.setdefault(FAMILY_OF[name], set()).add(name)
    return out


_TYPE_NAMES = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon"}


# ------------------------------------------------------------------------------------------------ collections

def _sql_layer(spec: LayerSpec) -> bool:
    return spec.source in SOURCE_TABLES and spec.where is None


def _table(spec: LayerSpec) -> sa.Table:
    from geoplatform.store import model_for

    return model_for(SOURCE_TABLES[spec.source][0]).__table__


def _declared_type(spec: LayerSpec, column: str) -> str | None:
    col = _table(spec).c[column]
    return SQL_TYPES.get(str(getattr(col.type, "geometry_type", "")).upper())


def layer_collections(context: Any, spec: LayerSpec, lang: str = "zh") -> list[Collection]:
    """The collections a layer is served as (one per geometry family; see the module doc)."""
    if spec.source == "compounds":
        return [Collection(spec.id, spec, "polygon", _declared_type(spec, "boundary")),
                Collection(spec.id + SUFFIX["point"], spec, "point", _declared_type(spec, "location"))]
    if spec.source in SOURCE_TABLES:
        return [Collection(spec.id, spec, None, _declared_type(spec, SOURCE_TABLES[spec.source][1]))]
    present = context.memo(f"ogc|families|{spec.id}", lambda: families(_layer_frame(context, spec, lang).geometry))
    if not present:
        return [Collection(spec.id, spec, None, None)]
    found = [f for f in FAMILIES if f in present]
    out = []
    for i, fam in enumerate(found):
        types = present[fam]
        gtype = next(iter(types)) if len(types) == 1 else MULTI[fam]
        out.append(Collection(spec.id if i == 0 else spec.id + SUFFIX[fam], spec,
                              fam if len(found) > 1 else None, gtype))
    return out


def collections(context: Any, specs: Sequence[LayerSpec], lang: str = "zh") -> list[Collection]:
    """Every collection of the layers, in layer order."""
    return [c for spec in specs for c in layer_collections(context, spec, lang)]


def find(context: Any, specs: Sequence[LayerSpec], collection_id: str, lang: str = "zh") -> Collection | None:
    """The collection with this id among the layers' collections, or None."""
    for spec in specs:
        if collection_id == spec.id or collection_id.startswith(spec.id + "_"):
            for c in layer_collections(context, spec, lang):
                if c.id == collection_id:
                    return c
    return None


# ------------------------------------------------------------------------------------------------ frames

def _layer_frame(context: Any, spec: LayerSpec, lang: str) -> gpd.GeoDataFrame:
    """The whole layer as the layer engine gives it (memoised per data revision and language)."""
    return context.memo(f"ogc|layer|{spec.id}|{lang}", lambda: layer_features(context, spec, lang=lang))


@dataclass(frozen=True)
class _Part:
    """A collection's features built once per revision: rows in key order, ids as text, geometry and its GeoJSON."""

    frame: pd.DataFrame  # the property columns
    keys: np.ndarray  # str(id), sorted
    ids: list[Any]
    shapes: np.ndarray  # served (precision-reduced) geometries
    geometries: np.ndarray  # their GeoJSON texts ("null" for none)
    bounds: list[float] | None


def _part(context: Any, coll: Collection, lang: str) -> _Part:
    def build() -> _Part:
        frame = _layer_frame(context, coll.spec, lang)
        geoms = frame.geometry.to_numpy()
        if coll.compounds:
            missing = frame["boundary_missing"].to_numpy(dtype=bool) if "boundary_missing" in frame else \
                shapely.get_type_id(geoms) == 0
            keep = missing if coll.family == "point" else ~missing
        elif coll.family is not None:
            fams = np.array([FAMILY_OF.get(_TYPE_NAMES.get(int(k), "")) for k in shapely.get_type_id(geoms)],
                            dtype=object)
            keep = fams == coll.family
            if coll.id == coll.spec.id:  # features without geometry stay in the layer's own collection
                keep |= shapely.is_missing(geoms) | shapely.is_empty(geoms)
        else:
            keep = np.ones(len(frame), dtype=bool)
        frame = frame[keep]
        keys = frame.index.astype(str).to_numpy()
        order = np.argsort(keys, kind="stable")
        frame = frame.iloc[order]
        keys = keys[order]
        geoms = frame.geometry.to_numpy()
        present = families(geoms)
        if coll.geometry_type is not None and coll.geometry_type.startswith("Multi") and present:
            geoms = promote(geoms, next(iter(present)))
        geoms = reduce_precision(geoms)
        bounds = shapely.total_bounds(geoms) if len(geoms) else np.array([np.nan] * 4)
        dtypes = frame.dtypes
        cols = [c for c in frame.columns if c != frame.geometry.name
                and not isinstance(dtypes[c], gpd.array.GeometryDtype)]
        props = pd.DataFrame({c: frame[c].to_numpy() for c in cols}, index=frame.index)
        for name in _integer_columns(coll.spec, props):
            props[name] = props[name].astype(object).where(props[name].notna(), None).map(
                lambda v: None if v is None else int(v))
        texts = shapely.to_geojson(geoms)
        return _Part(frame=props, keys=keys, ids=list(frame.index), shapes=geoms,
                     geometries=np.array(["null" if t is None else t for t in texts], dtype=object),
                     bounds=[float(v) for v in bounds] if np.isfinite(bounds).all() else None)

    return context.memo(f"ogc|part|{coll.id}|{lang}", build)


def _integer_columns(spec: LayerSpec, frame: pd.DataFrame) -> list[str]:
    """Integer table columns that pandas turned into floats (a missing value among them)."""
    if spec.source not in SOURCE_TABLES:
        return []
    table = _table(spec)
    return [c for c in frame.columns if c in table.c and isinstance(table.c[c].type, sa.Integer)
            and pd.api.types.is_float_dtype(frame[c].dtype)]


# ------------------------------------------------------------------------------------------------ properties

def _sql_property(column: sa.Column) -> Property | None:
    t = column.type
    if isinstance(t, sa.Boolean):
        return Property("boolean")
    if isinstance(t, sa.Integer):
        return Property("integer")
    if isinstance(t, sa.Float | sa.Numeric):
        return Property("number")
    if isinstance(t, sa.DateTime):
        return Property("string", "date-time")
    if isinstance(t, sa.Date):
        return Property("string", "date")
    if isinstance(t, sa.JSON):
        return Property("array")
    if isinstance(t, sa.String | sa.Text | sa.Enum):
        return Property("string")
    return None


def value_property(values: pd.Series) -> Property:
    """The JSON type of a column of values (pandas dtype first, else the Python types of its non-null values)."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return Property("boolean")
    if pd.api.types.is_integer_dtype(dtype):
        return Property("integer")
    if pd.api.types.is_float_dtype(dtype):
        return Property("number")
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return Property("string", "date-time")
    kinds = {type(v) for v in values.to_numpy(dtype=object).tolist()
             if v is not None and v is not pd.NaT and not (isinstance(v, float) and v != v)}
    if not kinds or kinds <= {str}:
        return Property("string")
    if kinds <= {bool, np.bool_}:
        return Property("boolean")
    if all(issubclass(k, int | np.integer) and not issubclass(k, bool | np.bool_) for k in kinds):
        return Property("integer")
    if all(issubclass(k, int | float | np.integer | np.floating) and not issubclass(k, bool | np.bool_)
           for k in kinds):
        return Property("number")
    if all(issubclass(k, dt.datetime) for k in kinds):
        return Property("string", "date-time")
    if all(issubclass(k, dt.date) for k in kinds):
        return Property("string", "date")
    if all(issubclass(k, list | tuple | np.ndarray) for k in kinds):
        return Property("array")
    if all(issubclass(k, dict) for k in kinds):
        return Property("object")
    return Property("string")  # mixed: sent as text where it is not a string (not queryable)


def properties(context: Any, coll: Collection, lang: str = "zh") -> dict[str, Property]:
    """Every property of the collection's features with its type, in the order features carry them."""
    def build() -> dict[str, Property]:
        if coll.spec.source not in SOURCE_TABLES:  # a plugin's own frame: typed from its values
            frame = _part(context, coll, lang).frame
            return {str(c): value_property(frame[c]) for c in frame.columns}
        table = _table(coll.spec)
        _, names = source_statement(context, coll.spec.source)
        out: dict[str, Property] = {}
        for name in names:
            prop = Property("boolean") if name == "boundary_missing" else _sql_property(table.c[name])
            if prop is not None:
                out[name] = prop
        if coll.compounds:
            attrs = context.compound_attributes()
            for name in attrs.columns:
                if name not in out:
                    out[str(name)] = value_property(attrs[name])
        out["_color"] = Property("string")
        out["_label"] = Property("string")
        return out

    return context.memo(f"ogc|properties|{coll.id}|{lang}", build)


RESERVED = frozenset({"f", "lang", "limit", "offset", "after", "bbox", "bbox-crs", "crs", "datetime", "filter",
                      "filter-lang", "filter-crs", "properties", "sortby", "q", "ids"})


def queryables(context: Any, coll: Collection, lang: str = "zh") -> dict[str, Property]:
    """The properties filterable by `?name=value`: scalar ones, except internal (`_…`) and reserved names."""
    return {k: v for k, v in properties(context, coll, lang).items()
            if v.scalar and not k.startswith("_") and k not in RESERVED}


INT64 = 2**63


def parse_filters(queryable: Mapping[str, Property], args: Mapping[str, str]) -> dict[str, Any]:
    """{property: typed value} for the `args` naming queryables; FilterError when a value does not fit."""
    out: dict[str, Any] = {}
    for name, text in args.items():
        prop = queryable.get(name)
        if prop is None:
            raise FilterError(name, "not a queryable of this collection")
        out[name] = _typed(name, prop, text)
    return out


def _typed(name: str, prop: Property, text: str) -> Any:
    try:
        if prop.type == "integer":
            value = int(text)
            if not -INT64 <= value < INT64:  # no column holds it; a database would overflow on it
                raise ValueError
            return value
        if prop.type == "number":
            value = float(text)
            if not np.isfinite(value):
                raise ValueError
            return value
        if prop.type == "boolean":
            low = text.strip().lower()
            if low not in ("true", "false", "1", "0"):
                raise ValueError
            return low in ("true", "1")
        if prop.format == "date":
            return dt.date.fromisoformat(text)
        if prop.format == "date-time":
            return dt.datetime.fromisoformat(text)
    except ValueError:
        kind = prop.format or prop.type
        raise FilterError(name, f"expected {'true or false' if kind == 'boolean' else 'a ' + kind}, got {text!r}") \
            from None
    return text


# ------------------------------------------------------------------------------------------------ extent

def extent(context: Any, coll: Collection, lang: str = "zh") -> list[float] | None:
    """[minx, miny, maxx, maxy] of the collection's features (None when empty), per data revision."""
    def build() -> list[float] | None:
        if not _sql_layer(coll.spec):
            return _part(context, coll, lang).bounds
        table, geom = _sql_parts(coll)
        if is_sqlite(context.engine):
            cols = [func.min(func.MbrMinX(geom)), func.min(func.MbrMinY(geom)), func.max(func.MbrMaxX(geom)),
                    func.max(func.MbrMaxY(geom))]
        else:
            box = func.ST_Extent(geom)
            cols = [func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box), func.ST_YMax(box)]
        row = fetch_rows(context, select(*cols).select_from(table).where(*_part_clauses(coll, table)))[0]
        return None if row[0] is None else [float(v) for v in row]

    return context.memo(f"ogc|extent|{coll.id}", build)


def _sql_parts(coll: Collection) -> tuple[sa.Table, sa.Column]:
    table = _table(coll.spec)
    if coll.compounds:
        return table, table.c.location if coll.family == "point" else table.c.boundary
    return table, table.c[SOURCE_TABLES[coll.spec.source][1]]


def _part_clauses(coll: Collection, table: sa.Table) -> list[Any]:
    if coll.compounds:
        return [table.c.boundary.is_(None) if coll.family == "point" else table.c.boundary.isnot(None)]
    return [table.c[SOURCE_TABLES[coll.spec.source][1]].isnot(None)]


# ------------------------------------------------------------------------------------------------ pages

_count_lock = threading.Lock()


def _counted(context: Any, key: tuple[Any, ...], count: Any) -> int:
    """numberMatched from the context's small LRU (keyed with the data revision), else `count()`."""
    key = (context.current_revision(), *key)
    with _count_lock:
        cache = getattr(context, "_ogc_counts", None)
        if cache is None:
            cache = context._ogc_counts = OrderedDict()
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    value = int(count())
    with _count_lock:
        cache[key] = value
        while len(cache) > COUNT_CACHE_SIZE:
            cache.popitem(last=False)
    return value


def uses_sql(coll: Collection, filters: Mapping[str, Any]) -> bool:
    """True when the page is read from the table itself (built-in source, no `where`, filters on its columns)."""
    if not _sql_layer(coll.spec):
        return False
    table = _table(coll.spec)
    return all(name in table.c for name in filters)


def page(context: Any, coll: Collection, bbox: BBox | None = None, filters: Mapping[str, Any] | None = None,
         limit: int = 10, offset: int = 0, after: str | None = None, lang: str = "zh") -> Page:
    """Features `offset`… (or those whose key follows `after`) meeting bbox and filters, at most `limit`."""
    filters = dict(filters or {})
    if uses_sql(coll, filters):
        return _sql_page(context, coll, bbox, filters, limit, offset, after, lang)
    return _frame_page(context, coll, bbox, filters, limit, offset, after, lang)


def feature(context: Any, coll: Collection, feature_id: str, lang: str = "zh") -> str | None:
    """One feature's GeoJSON text by id (None when the collection has no such feature)."""
    if _sql_layer(coll.spec):
        key = SOURCE_TABLES[coll.spec.source][2]
        got = _sql_page(context, coll, None, {key: feature_id}, 1, 0, None, lang, count=False)
    else:
        part = _part(context, coll, lang)
        pos = int(np.searchsorted(part.keys, feature_id))
        if pos >= len(part.keys) or part.keys[pos] != feature_id:
            return None
        got = _encode(part.ids[pos:pos + 1], part.geometries[pos:pos + 1], _columns(part.frame.iloc[pos:pos + 1]),
                      1, None)
    return got.features[1:-1] if got.returned else None


def _frame_page(context: Any, coll: Collection, bbox: BBox | None, filters: Mapping[str, Any], limit: int,
                offset: int, after: str | None, lang: str) -> Page:
    part = _part(context, coll, lang)
    n = len(part.keys)
    mask = np.ones(n, dtype=bool)
    if bbox is not None and n:
        tree = context.memo(f"ogc|tree|{coll.id}|{lang}", lambda: shapely.STRtree(part.shapes))
        inside = np.zeros(n, dtype=bool)
        inside[tree.query(shapely.box(*bbox), predicate="intersects")] = True
        mask &= inside
    for name, value in filters.items():
        mask &= _equals(part.frame[name], value) if name in part.frame.columns else False
    rows = np.flatnonzero(mask)
    start = int(np.searchsorted(part.keys[rows], after, side="right")) if after is not None else offset
    take = rows[start:start + limit]
    return _encode([part.ids[i] for i in take], part.geometries[take], _columns(part.frame.iloc[take]), len(rows),
                   str(part.keys[take[-1]]) if len(take) else None)


def _equals(values: pd.Series, value: Any) -> np.ndarray:
    """Rows whose value equals `value` (typed by `parse_filters`); missing values never match."""
    if isinstance(value, bool):
        return values.map(lambda v: isinstance(v, bool | np.bool_) and bool(v) == value).to_numpy(dtype=bool)
    if isinstance(value, int | float):
        return (pd.to_numeric(values, errors="coerce") == value).to_numpy(dtype=bool)
    if isinstance(value, dt.date):
        text = value.isoformat()
        return values.map(lambda v: v is not None and (v.isoformat() if isinstance(v, dt.date) else str(v)) == text
                          ).to_numpy(dtype=bool)
    return (values.astype(object) == value).to_numpy(dtype=bool)


def _sql_page(context: Any, coll: Collection, bbox: BBox | None, filters: Mapping[str, Any], limit: int,
              offset: int, after: str | None, lang: str, count: bool = True) -> Page:
    spec = coll.spec
    table, geom = _sql_parts(coll)
    key = table.c[SOURCE_TABLES[spec.source][2]]
    stmt, names = source_statement(context, spec.source, ordered=False)
    where = _part_clauses(coll, table)
    if bbox is not None:
        where.append(bbox_clause(context.engine, table, geom.name, bbox))
    for name, value in filters.items():
        where.append(table.c[name] == value)
    stmt = stmt.where(*where)
    if after is not None:
        stmt = stmt.where(key > after)
    stmt = stmt.order_by(key).limit(limit)
    if after is None and offset:
        stmt = stmt.offset(offset)
    rows = fetch_rows(context, stmt)
    if count:
        ident = (coll.id, bbox, tuple(sorted((k, repr(v)) for k, v in filters.items())))
        matched = _counted(context, ident, lambda: fetch_rows(
            context, select(func.count()).select_from(table).where(*where))[0][0])
    else:
        matched = len(rows)
    if not rows:
        return Page("[]", 0, matched, None)
    cols = list(zip(*rows, strict=True))
    ids = list(cols[0])
    geoms = shapely.from_wkb([None if v is None else bytes(v) for v in cols[-1]])
    if coll.geometry_type is not None and coll.geometry_type.startswith("Multi"):
        geoms = promote(geoms, FAMILY_OF[coll.geometry_type])
    texts = shapely.to_geojson(reduce_precision(geoms))
    data: dict[str, list[Any]] = {}
    for i, name in enumerate(names):
        boolean = name == "boundary_missing" or (name in table.c and isinstance(table.c[name].type, sa.Boolean))
        data[name] = [None if v is None else bool(v) for v in cols[i]] if boolean else _plain_column(list(cols[i]))
    if coll.compounds:
        for name, lookup in context.compound_attribute_values().items():
            if name not in data:
                data[name] = _plain_column([lookup.get(i) for i in ids])
    legend = spec.legend
    legend_values = data.get(legend.attribute) if legend is not None else None
    data["_color"], data["_label"] = legend_lists(legend_values or [None] * len(ids), legend, lang)
    return _encode(ids, np.array(["null" if t is None else t for t in texts], dtype=object), data, matched,
                   str(ids[-1]))


def _columns(frame: pd.DataFrame) -> dict[str, list[Any]]:
    return {str(c): _plain_column(frame.iloc[:, i].astype(object).tolist()) for i, c in enumerate(frame.columns)}


_SIMPLE = {str, int, bool, float, type(None), dt.date, dt.datetime, list, dict}


def _plain_column(values: list[Any]) -> list[Any]:
    """`_plain` of every value, skipped for columns of plain Python values (what `_encode_column` takes as is)."""
    if set(map(type, values)) <= _SIMPLE:
        return values
    return [_plain(v) for v in values]


def _encode(ids: Sequence[Any], geometries: np.ndarray, columns: Mapping[str, list[Any]], matched: int,
            last_key: str | None) -> Page:
    """The features array text: ids, geometry texts and the property columns (plain values)."""
    n = len(ids)
    if not n:
        return Page("[]", 0, matched, None)
    template = ('{"type":"Feature","id":%s,"geometry":%s,"properties":{'
                + ",".join(_ENCODE_KEY(k).replace("%", "%%") + ":%s" for k in columns) + "}}")
    encoded = [_encode_column(values) for values in columns.values()]
    id_texts = _encode_column(_plain_column(list(ids)))
    texts = [template % row for row in zip(id_texts, geometries, *encoded, strict=True)]
    return Page("[" + ",".join(texts) + "]", n, matched, last_key)


def _plain(value: Any) -> Any:
    """A JSON-ready value: numpy scalars unwrapped, NaN/NaT as None, dates as ISO text, arrays as lists."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.ndarray | tuple):
        return [_plain(v) for v in list(value)]
    return value


def feature_collection(page_: Page, links: list[dict[str, Any]], time_stamp: str) -> str:
    """The FeatureCollection text of a page with its links."""
    return ('{"type":"FeatureCollection","features":' + page_.features + f',"numberMatched":{page_.matched},'
            f'"numberReturned":{page_.returned},"timeStamp":{json.dumps(time_stamp)},'
            f'"links":{json.dumps(links, ensure_ascii=False)}}}')
