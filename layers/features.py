"""Load a layer's features: its source table filtered by bbox in SQL (spatial index), plugin attributes, legend colour."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy import func, literal_column, select

from geoplatform.db import is_sqlite
from geoplatform.models import SRID
from geoplatform.store import model_for
from layers.spec import LayerSpec
from layers.style import legend_lists

BBox = tuple[float, float, float, float]  # (min_lon, min_lat, max_lon, max_lat) in EPSG:4326

# source -> (table, geometry column, key column); compounds are special-cased (boundary or location)
SOURCE_TABLES: dict[str, tuple[str, str, str]] = {
    "compounds": ("compound", "boundary", "id"),
    "buildings": ("building", "geom", "id"),
    "garages": ("garage", "location", "id"),
    "streets": ("street", "geom", "code"),
    "district": ("district", "geom", "code"),
    "barriers": ("barrier", "geom", "id"),
}
# Columns never worth sending to a map (bulky or internal); plugins still get them via compounds_frame().
SIMPLIFY_MIN_POINTS = 8  # a rectangle (5 points) has nothing to simplify
SKIP_COLUMNS = {"aliases", "source", "updated_at"}


def parse_bbox(value: str | Sequence[float] | None) -> BBox | None:
    """A bbox from "minx,miny,maxx,maxy" or a 4-sequence; ValueError when malformed or inverted."""
    if value is None or value == "":
        return None
    parts = value.split(",") if isinstance(value, str) else list(value)
    if len(parts) != 4:
        raise ValueError("bbox needs 4 numbers: min_lon,min_lat,max_lon,max_lat")
    minx, miny, maxx, maxy = (float(p) for p in parts)
    if not all(map(pd.notna, (minx, miny, maxx, maxy))) or minx > maxx or miny > maxy:
        raise ValueError("bbox must be min_lon,min_lat,max_lon,max_lat with min ≤ max")
    return (minx, miny, maxx, maxy)


def bbox_clause(engine: sa.Engine, table: sa.Table, column: str, bbox: BBox) -> sa.ColumnElement[bool]:
    """A WHERE clause selecting rows whose geometry's envelope meets bbox, answered by the spatial index.

    PostGIS: `geom && ST_MakeEnvelope(...)` (GiST). SpatiaLite: `rowid IN (SELECT pkid FROM
    idx_<table>_<column> WHERE …)` on the R*Tree that SpatiaLite keeps in sync by triggers.
    """
    minx, miny, maxx, maxy = bbox
    if is_sqlite(engine):
        idx = sa.table(f"idx_{table.name}_{column}", sa.column("pkid"), sa.column("xmin"), sa.column("xmax"),
                       sa.column("ymin"), sa.column("ymax"))
        hits = select(idx.c.pkid).where(idx.c.xmin <= maxx, idx.c.xmax >= minx, idx.c.ymin <= maxy,
                                        idx.c.ymax >= miny)
        return literal_column(f"{table.name}.rowid").in_(hits)
    return table.c[column].op("&&")(func.ST_MakeEnvelope(minx, miny, maxx, maxy, SRID))


def _json_value_expr(engine: sa.Engine, expr: Any) -> Any:
    """A column as a JSON value: SQLite has no boolean type, so booleans become json('true'/'false')."""
    is_bool = isinstance(getattr(expr, "type", None), sa.Boolean)
    if is_sqlite(engine) and is_bool:
        return func.json(sa.case((expr.is_(None), "null"), (expr == sa.true(), "true"), else_="false"))
    return expr


def _street_clause(table: sa.Table, street: str) -> sa.ColumnElement[bool] | None:
    if "street_code" in table.c:
        return table.c.street_code == street
    if table.name == "street":
        return table.c.code == street
    if "compound_id" in table.c:
        compound = model_for("compound").__table__
        return table.c.compound_id.in_(select(compound.c.id).where(compound.c.street_code == street))
    return None


def source_statement(context: Any, source: str, columns: Sequence[str] | None = None, bbox: BBox | None = None,
                     street: str | None = None, geojson: tuple[float, int] | None = None,
                     ordered: bool = True, json_props: Sequence[str] | None = None,
                     plain: Sequence[str] = ()) -> tuple[sa.Select, list[str]]:
    """The SELECT of a built-in source: key, the scalar `columns` (default: all useful ones), flags, WKB last.

    With `geojson=(tolerance, decimals)` the last column is instead the database's own GeoJSON of the
    geometry simplified to `tolerance` degrees (None or 0: not simplified) with `decimals` digits.
    bbox, street and geojson values may be SQLAlchemy bind parameters (see `fetch_source`).
    With `json_props`, the columns are the key, the `plain` columns and `_props`: a JSON object text of
    those table columns (and `boundary_missing` for compounds) built by the database.

    Compounds: geometry is the boundary, or the location point when the boundary is missing
    (`boundary_missing`); the bbox test uses the boundary's index, else the location's.
    Returns the statement and the names of its columns except the trailing WKB.
    """
    table_name, geom_name, key = SOURCE_TABLES[source]
    table: sa.Table = model_for(table_name).__table__
    geoms = [c.name for c in table.columns if isinstance(c.type, Geometry)]
    scalars = [c for c in table.columns if c.name not in geoms and c.name not in SKIP_COLUMNS
               and (columns is None or c.name in columns) and c.name != key]
    scalars.insert(0, table.c[key])
    engine = context.engine
    if source == "compounds":
        geom_expr = func.coalesce(table.c.boundary, table.c.location)
        extra = [table.c.boundary.is_(None).label("boundary_missing")]
    else:
        geom_expr = table.c[geom_name]
        extra = []
    if geojson is None:
        geom_out = func.ST_AsBinary(geom_expr)
    elif is_sqlite(engine):
        tol, decimals = geojson
        simplify = tol is not None and (isinstance(tol, sa.BindParameter) or tol > 0)
        geom_out = func.AsGeoJSON(func.SimplifyPreserveTopology(geom_expr, tol) if simplify else geom_expr, decimals)
    else:
        tol, decimals = geojson
        simplify = tol is not None and (isinstance(tol, sa.BindParameter) or tol > 0)
        if simplify:  # GEOS round trips cost ~20 µs a geometry: only for shapes with vertices to drop
            geom_expr = sa.case((func.ST_NPoints(geom_expr) > SIMPLIFY_MIN_POINTS,
                                 func.ST_SimplifyPreserveTopology(geom_expr, tol)), else_=geom_expr)
        geom_out = func.ST_AsGeoJSON(geom_expr, decimals)
    if json_props is not None:
        scalars = [table.c[key], *(table.c[n] for n in plain if n in table.c)]
        pairs: list[Any] = []
        for name in json_props:
            if name in table.c and name not in geoms and name not in SKIP_COLUMNS:  # as the other paths
                pairs += [literal_column(f"'{name}'"), _json_value_expr(engine, table.c[name])]
        if source == "compounds":
            pairs += [literal_column("'boundary_missing'"), _json_value_expr(engine, table.c.boundary.is_(None))]
        props = func.json_object(*pairs) if is_sqlite(engine) else sa.cast(func.json_build_object(*pairs), sa.Text)
        extra = [props.label("_props")]
    stmt = select(*scalars, *extra, geom_out.label("_geom"))
    if source != "compounds":
        stmt = stmt.where(table.c[geom_name].isnot(None))
    if bbox is not None:
        if source == "compounds":
            stmt = stmt.where(sa.or_(
                sa.and_(table.c.boundary.isnot(None), bbox_clause(engine, table, "boundary", bbox)),
                sa.and_(table.c.boundary.is_(None), bbox_clause(engine, table, "location", bbox)),
            ))
        else:
            stmt = stmt.where(bbox_clause(engine, table, geom_name, bbox))
    if street is not None:
        clause = _street_clause(table, street)
        if clause is not None:
            stmt = stmt.where(clause)
    names = [c.name for c in scalars] + [e.name for e in extra]
    return (stmt.order_by(table.c[key]) if ordered else stmt), names


@dataclass(frozen=True)
class CompiledSource:
    """A source query compiled once per dialect: SQL text, parameter order, column names and decoders."""

    sql: str
    positional: tuple[str, ...] | None
    names: tuple[str, ...]
    booleans: tuple[int, ...]
    json_columns: tuple[int, ...]
    defaults: tuple[tuple[str, Any], ...] = ()  # literals compiled as parameters (e.g. the SRID)


_COMPILED: dict[tuple[Any, ...], CompiledSource] = {}


def compiled_source(engine: sa.Engine, source: str, columns: tuple[str, ...] | None, bbox: bool, street: bool,
                    geojson: str | None, json_props: bool = False, plain: tuple[str, ...] = ()) -> CompiledSource:
    """The compiled SELECT of `source_statement` with bind parameters minx…maxy, street, tol, decimals.

    `geojson`: None (WKB), "plain" (database GeoJSON) or "simplified" (database GeoJSON of the
    geometry simplified to :tol). Cached per dialect, so a map request skips SQLAlchemy's compiler.
    """
    key = (engine.dialect.name, source, columns, bbox, street, geojson, json_props, plain)
    hit = _COMPILED.get(key)
    if hit is not None:
        return hit

    class _Ctx:  # source_statement only needs the engine
        pass

    ctx = _Ctx()
    ctx.engine = engine  # type: ignore[attr-defined]
    params = tuple(sa.bindparam(n, type_=sa.Float) for n in ("minx", "miny", "maxx", "maxy")) if bbox else None
    gj = None
    if geojson is not None:
        gj = (sa.bindparam("tol", type_=sa.Float) if geojson == "simplified" else None,
              sa.bindparam("decimals", type_=sa.Integer))
    stmt, names = source_statement(ctx, source, columns=columns, bbox=params,  # type: ignore[arg-type]
                                   street=sa.bindparam("street", type_=sa.String) if street else None,  # type: ignore[arg-type]
                                   geojson=gj, ordered=False,  # type: ignore[arg-type]
                                   json_props=columns if json_props else None, plain=plain)
    compiled = stmt.compile(dialect=engine.dialect)
    table: sa.Table = model_for(SOURCE_TABLES[source][0]).__table__
    booleans = tuple(i for i, n in enumerate(names) if n == "boundary_missing" or
                     (n in table.c and isinstance(table.c[n].type, sa.Boolean)))
    json_columns = tuple(i for i, n in enumerate(names) if n in table.c and isinstance(table.c[n].type, sa.JSON))
    out = CompiledSource(sql=str(compiled), positional=tuple(compiled.positiontup) if compiled.positional else None,
                         names=tuple(names), booleans=booleans, json_columns=json_columns,
                         defaults=tuple((k, v) for k, v in compiled.params.items() if v is not None))
    _COMPILED[key] = out
    return out


def fetch_source(context: Any, source: str, columns: Sequence[str] | None = None, bbox: BBox | None = None,
                 street: str | None = None, geojson: tuple[float | None, int] | None = None,
                 json_props: bool = False, plain: Sequence[str] = ()) -> tuple[list[tuple[Any, ...]], tuple[str, ...]]:
    """Rows (key, columns…, flags…, geometry last) of a built-in source, through the compiled-query cache.

    Geometry is WKB, or with `geojson=(tolerance, decimals)` the database's GeoJSON text.
    Booleans come back as bool and JSON columns decoded on both databases. With `json_props` the
    rows are (key, `plain` columns…, properties JSON text of `columns`, geometry) — see `source_statement`.
    """
    mode = None if geojson is None else ("simplified" if geojson[0] else "plain")
    cs = compiled_source(context.engine, source, tuple(columns) if columns is not None else None,
                         bbox is not None, street is not None, mode, json_props, tuple(plain))
    values: dict[str, Any] = dict(cs.defaults)
    if bbox is not None:
        values.update(zip(("minx", "miny", "maxx", "maxy"), map(float, bbox), strict=True))
    if street is not None:
        values["street"] = street
    if geojson is not None:
        values["tol"], values["decimals"] = geojson
    params: Any = tuple(values[n] for n in cs.positional) if cs.positional is not None else values
    with read_engine(context).connect() as conn:
        rows = conn.exec_driver_sql(cs.sql, params).fetchall()
    rows.sort(key=_first)  # by key, here rather than ORDER BY: PostGIS would sort the wide GeoJSON rows
    if rows and (cs.booleans or cs.json_columns) and is_sqlite(context.engine):  # raw 0/1 and JSON text
        fixed = []
        for r in rows:
            r = list(r)
            for i in cs.booleans:
                r[i] = None if r[i] is None else bool(r[i])
            for i in cs.json_columns:
                if isinstance(r[i], str):
                    r[i] = json.loads(r[i])
            fixed.append(tuple(r))
        rows = fixed
    return rows, cs.names


def _first(row: tuple[Any, ...]) -> Any:
    return row[0]


def read_engine(context: Any) -> sa.Engine:
    """The context's engine with the read-only option (no write lock on SQLite), created once."""
    base = context.engine
    cached = getattr(context, "_read_engine", None)
    if cached is None or cached[0] is not base:
        cached = (base, base.execution_options(readonly=True))
        context._read_engine = cached
    return cached[1]


def fetch_rows(context: Any, stmt: sa.Select) -> list[Any]:
    """Run a read-only SELECT on a plain connection (no ORM, no write lock on SQLite)."""
    with read_engine(context).connect() as conn:
        return conn.execute(stmt).all()


def read_source(context: Any, source: str, bbox: BBox | None = None, street: str | None = None) -> gpd.GeoDataFrame:
    """The rows of a built-in source (EPSG:4326, indexed by its key) meeting bbox and street; see source_statement."""
    stmt, names = source_statement(context, source, bbox=bbox, street=street)
    rows = fetch_rows(context, stmt)
    df = pd.DataFrame.from_records([r[:-1] for r in rows], columns=names)
    wkb = [bytes(r[-1]) if r[-1] is not None else None for r in rows]
    frame = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(shapely.from_wkb(wkb), crs=SRID), crs=SRID)
    if "boundary_missing" in frame:
        frame["boundary_missing"] = frame["boundary_missing"].astype(bool)
    frame.index = pd.Index(frame[names[0]].to_numpy(), name=None)
    return frame


def source_count(context: Any, source: str) -> int | None:
    """How many features a layer of this built-in source can show at most (rows with a geometry), once per revision.

    None for custom sources (their loader decides). The map draws a layer from vector tiles above a threshold.
    """
    if source not in SOURCE_TABLES:
        return None
    table_name, geom_name, _key = SOURCE_TABLES[source]
    table: sa.Table = model_for(table_name).__table__
    geom = sa.func.coalesce(table.c.boundary, table.c.location) if source == "compounds" else table.c[geom_name]
    stmt = select(func.count()).select_from(table).where(geom.isnot(None))
    return context.memo(f"source_count|{source}", lambda: int(fetch_rows(context, stmt)[0][0]))


def layer_features(context: Any, spec: LayerSpec, bbox: BBox | None = None, zoom: float | None = None,
                   street: str | None = None, lang: str = "zh") -> gpd.GeoDataFrame:
    """The features of a layer for a bbox: source rows + plugins' compound attributes, `where` applied, `_color`/`_label` set.

    Empty (same columns) when `zoom` is below the layer's `min_zoom`. Compound sources carry the
    cached `context.compound_attributes()` joined on compound id.
    """
    if spec.source == "custom":
        if spec.loader is None:
            raise ValueError(f"layer {spec.id}: source 'custom' needs a loader")
        frame = spec.loader(context, bbox, street)
        if not isinstance(frame, gpd.GeoDataFrame):
            frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=SRID)
    elif spec.source == "compounds" and bbox is None and hasattr(context, "memo"):
        # the whole district (the dot maps of every compound layer): read once per revision and shared, never
        # modified (the attribute join below makes a new frame, else it is copied)
        frame = context.memo(f"layers.source|compounds|{street}",
                             lambda: read_source(context, "compounds", street=street))
    elif spec.source in SOURCE_TABLES:
        frame = read_source(context, spec.source, bbox=bbox, street=street)
    else:
        raise ValueError(f"layer {spec.id}: unknown source {spec.source!r}")
    if spec.source == "compounds":
        attrs = context.compound_attributes()
        if len(attrs.columns):
            frame = frame.join(attrs.drop(columns=[c for c in attrs.columns if c in frame.columns]), how="left")
        elif bbox is None:
            frame = frame.copy()
    if zoom is not None and zoom < spec.min_zoom:
        frame = frame.iloc[0:0]
    if spec.where is not None and len(frame):
        mask = spec.where(frame)
        frame = frame[pd.Series(mask, index=frame.index).fillna(False).astype(bool)]
    if spec.source == "custom" or spec.where is not None:
        frame = frame.copy()  # not the loader's or the caller's frame: we add columns below
    values = frame[spec.legend.attribute].tolist() if spec.legend is not None and \
        spec.legend.attribute in frame.columns else [None] * len(frame)
    colors, labels = legend_lists(values, spec.legend, lang)
    frame["_color"] = pd.Series(colors, index=frame.index, dtype=object)
    frame["_label"] = pd.Series(labels, index=frame.index, dtype=object)
    return frame
