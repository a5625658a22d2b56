"""store.read_frame builds its frame from row tuples: the same frame, dtypes included, as from the rows as mappings."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import false, func, select

from geoplatform.context import Context
from geoplatform.models import GEOMETRY_COLUMNS, SRID
from geoplatform.store import geometry_columns, model_for, read_frame


def read_frame_from_mappings(bind, table: str, where=(), columns=None) -> gpd.GeoDataFrame:  # noqa: ANN001
    """read_frame as it was before: a frame from the rows as mappings (the reference)."""
    model = model_for(table)
    geoms = geometry_columns(model)
    cols = [c for c in model.__table__.columns if columns is None or c.name in columns or c.name in geoms]
    stmt = select(*[func.ST_AsBinary(c).label(c.name) if c.name in geoms else c for c in cols])
    for clause in where:
        stmt = stmt.where(clause)
    pk = [c.name for c in model.__table__.primary_key.columns]
    stmt = stmt.order_by(*[model.__table__.c[name] for name in pk])
    df = pd.DataFrame(bind.execute(stmt).mappings().all(), columns=[c.name for c in cols])
    for name in geoms:
        if name in df:
            df[name] = gpd.GeoSeries(shapely.from_wkb([bytes(v) if v is not None else None for v in df[name]]), crs=SRID)
    active = GEOMETRY_COLUMNS.get(table) or (geoms[0] if geoms else None)
    if active is None:
        return df
    gdf = gpd.GeoDataFrame(df, geometry=active, crs=SRID)
    if len(pk) == 1:
        gdf = gdf.set_index(pk[0], drop=False)
        gdf.index.name = None
    return gdf


@pytest.mark.parametrize("table", ["compound", "building", "garage", "street", "barrier", "handover", "ledger_item",
                                   "property_company"])
def test_read_frame_is_the_frame_of_the_rows_as_mappings(demo_url: str, table: str) -> None:
    """Every column's values and dtype (text with None, dates, booleans, numbers, geometries), on both databases."""
    with Context.create(demo_url).session(readonly=True) as s:
        got, want = read_frame(s, table), read_frame_from_mappings(s, table)
        assert len(got) > 0
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert list(got.dtypes) == list(want.dtypes)
        empty = read_frame(s, table, where=[false()])
        pd.testing.assert_frame_equal(empty, read_frame_from_mappings(s, table, where=[false()]))
        some = [c.name for c in model_for(table).__table__.columns][:3]
        pd.testing.assert_frame_equal(read_frame(s, table, columns=some), read_frame_from_mappings(s, table, columns=some))


def test_the_compounds_hold_the_kinds_of_values_compared(demo_url: str) -> None:
    """The comparison above meets None in text, dates and numbers (the demo leaves some fields unknown)."""
    with Context.create(demo_url).session(readonly=True) as s:
        frame = read_frame(s, "compound")
    kinds = {str(t) for t in frame.dtypes}
    assert {"object", "int64", "float64", "bool"} <= kinds and any(k.startswith("datetime64") for k in kinds)
    assert frame.isna().any().sum() >= 3
