"""Export tables and layers to files."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy.orm import Session

from geoplatform.models import Base
from geoplatform.store import model_for, read_frame

EXPORTABLE_TABLES = ("district", "street", "community", "compound", "building", "garage", "handover",
                     "ledger_item", "property_company", "barrier", "bundle_proposal", "takeover_selection")


def table_frame(session: Session, table: str, street: str | None = None) -> pd.DataFrame:
    """A table as a (Geo)DataFrame, optionally limited to one street's rows."""
    model: type[Base] = model_for(table)
    where = []
    if street and "street_code" in model.__table__.c:
        where.append(model.__table__.c.street_code == street)
    elif street and table == "street":
        where.append(model.__table__.c.code == street)
    return read_frame(session, table, where=where)


def write_geojson(frame: pd.DataFrame, path: str | Path) -> int:
    """Write a frame as GeoJSON (EPSG:4326, RFC 7946); JSON-typed columns serialised as text."""
    frame = frame.copy()
    for col in frame.columns:
        if col != getattr(frame, "geometry", pd.Series()).name and frame[col].map(
            lambda v: isinstance(v, list | dict)
        ).any():
            import json

            frame[col] = frame[col].map(lambda v: json.dumps(v, ensure_ascii=False) if v is not None else None)
    if not isinstance(frame, gpd.GeoDataFrame):
        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame), crs=4326), crs=4326)
    other_geoms = [c for c in frame.columns if c != frame.geometry.name and isinstance(frame[c], gpd.GeoSeries)]
    frame = frame.drop(columns=other_geoms)
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    return len(frame)
