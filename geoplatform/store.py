"""Table ↔ (Geo)DataFrame plumbing shared by the importer, the demo, the plugins and the web layer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geoalchemy2 import Geometry
from geoalchemy2.shape import from_shape
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from geoplatform.db import deferred_spatial_index
from geoplatform.models import GEOMETRY_COLUMNS, SRID, Base

CHUNK = 5_000


def model_for(table: str) -> type[Base]:
    """The mapped class of a table name."""
    for mapper in Base.registry.mappers:
        if mapper.class_.__tablename__ == table:
            return mapper.class_
    raise KeyError(f"unknown table {table!r}")


def geometry_columns(model: type[Base]) -> list[str]:
    """Names of the geometry columns of a model."""
    from geoalchemy2 import Geometry

    return [c.name for c in model.__table__.columns if isinstance(c.type, Geometry)]


def rows_frame(rows: Sequence[Sequence[Any]], names: Sequence[str]) -> pd.DataFrame:
    """Result rows (Core, not ORM) as a frame of object columns, built column by column; object dtype keeps None as
    None (pandas would infer text columns and turn None into NaN)."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    return pd.DataFrame({n: np.array(c, dtype=object) for n, c in zip(names, columns, strict=True)}, dtype=object)


def read_frame(
    bind: Engine | Connection | Session,
    table: str,
    where: Iterable[Any] = (),
    geometry: str | None = None,
    columns: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read a table (optionally filtered by SQLAlchemy clauses) as a GeoDataFrame in EPSG:4326.

    `geometry` picks the active geometry column (default: the table's main one); every geometry
    column is decoded from WKB.
    """
    model = model_for(table)
    geoms = geometry_columns(model)
    cols = [c for c in model.__table__.columns if columns is None or c.name in columns or c.name in geoms]
    selected = [func.ST_AsBinary(c).label(c.name) if c.name in geoms else c for c in cols]
    stmt = select(*selected)
    for clause in where:
        stmt = stmt.where(clause)
    pk = [c.name for c in model.__table__.primary_key.columns]
    stmt = stmt.order_by(*[model.__table__.c[name] for name in pk])
    # rows as plain tuples: pandas infers each column as it does from the rows as mappings, without a dict a row
    # (100× buildings: 11 → 5 CPU s; tests/core/test_read_frame.py compares the two)
    rows = [tuple(r) for r in bind.execute(stmt).all()]
    df = pd.DataFrame(rows, columns=[c.name for c in cols])
    for name in geoms:
        if name in df:
            df[name] = gpd.GeoSeries(shapely.from_wkb([bytes(v) if v is not None else None for v in df[name]]), crs=SRID)
    active = geometry or GEOMETRY_COLUMNS.get(table) or (geoms[0] if geoms else None)
    if active is None:
        return df
    gdf = gpd.GeoDataFrame(df, geometry=active, crs=SRID)
    if len(pk) == 1:
        gdf = gdf.set_index(pk[0], drop=False)
        gdf.index.name = None
    return gdf


def _to_db_value(value: Any) -> Any:
    if isinstance(value, shapely.Geometry):
        return from_shape(value, srid=SRID, extended=True)
    return value


def insert_records(session: Session | Connection, table: str, records: Iterable[Mapping[str, Any]]) -> int:
    """Bulk-insert plain dict records (shapely geometries allowed) in chunks; returns the row count."""
    model = model_for(table)
    records = list(records)
    conn = session.connection() if isinstance(session, Session) else session
    geom_cols = [c.name for c in model.__table__.columns if isinstance(c.type, Geometry)]
    n = 0
    with deferred_spatial_index(conn, model.__table__.name, geom_cols, len(records)):
        for k in range(0, len(records), CHUNK):
            chunk = [{key: _to_db_value(v) for key, v in rec.items()} for rec in records[k:k + CHUNK]]
            session.execute(insert(model), chunk)
            n += len(chunk)
    return n


def frame_records(gdf: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as dicts with NaN/NaT turned into None."""
    out = gdf.astype(object).where(pd.notna(gdf), None).to_dict("records")
    return out
