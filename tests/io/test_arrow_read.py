"""GeoPackage and shapefile layers read through Arrow give the importer the very table the row-by-row read gives
(same columns, dtypes, values, nulls, geometries, Z flags); layers with other field types keep the row-by-row read."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio.raw
import pytest
import shapely

from geoplatform.io import readers

pytest.importorskip("pyarrow")


@pytest.mark.parametrize(("types", "subtypes", "expected"), [
    (["OFTString", "OFTInteger64", "OFTReal"], ["OFSTNone"] * 3, True),
    (["OFTInteger"], [None], True),
    ([], [], True),  # a layer of geometries only
    (["OFTString", "OFTDateTime"], ["OFSTNone"] * 2, False),  # dates: the two reads give different types
    (["OFTDate"], ["OFSTNone"], False),
    (["OFTInteger"], ["OFSTBoolean"], False),
    (["OFTString"], ["OFSTJSON"], False),
    (["OFTReal"], ["OFSTFloat32"], False),
    (["OFTStringList"], ["OFSTNone"], False),
    (["OFTBinary"], ["OFSTNone"], False),
    (None, None, False),  # an older pyogrio that does not say
])
def test_arrow_readable(types, subtypes, expected):  # noqa: ANN001, ANN201
    fields = [f"f{i}" for i in range(len(types or ()))]
    assert readers.arrow_readable({"fields": fields, "ogr_types": types, "ogr_subtypes": subtypes}) is expected


def _frame() -> gpd.GeoDataFrame:
    """Text (Chinese, blanks, nulls), integers with and without nulls, reals, a null and a 3D geometry."""
    return gpd.GeoDataFrame({
        "名称": ["幸福小区1号楼", None, "", " 前导空格"],
        "floors": [6, 5, 4, 3],
        "households": pd.array([44, None, 27, 0], dtype="Int64"),
        "area": [3821.2, None, 0.5, -1.0],
        "blank": [None, None, None, None],
    }, geometry=[shapely.box(109.8, 40.6, 109.81, 40.61), None, shapely.Point(109.8, 40.6, 7.0),
                 shapely.MultiPolygon([shapely.box(109.82, 40.62, 109.83, 40.63)])], crs=4326)


def _both(path, monkeypatch, **kw):  # noqa: ANN001, ANN003, ANN202
    """read_ogr through Arrow (checked to be taken) and row by row (Arrow refused)."""
    calls = []
    real = pyogrio.raw.read_arrow

    def spy(*a, **k):  # noqa: ANN002, ANN003, ANN202
        calls.append(a)
        return real(*a, **k)

    monkeypatch.setattr(pyogrio.raw, "read_arrow", spy)
    via_arrow = readers.read_ogr(path, path.name, **kw)
    assert calls, "the layer should have been read through Arrow"
    monkeypatch.setattr(readers, "arrow_readable", lambda info: False)
    row_by_row = readers.read_ogr(path, path.name, **kw)
    return via_arrow, row_by_row


def _same(a: readers.RawTable, b: readers.RawTable) -> None:
    pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True)
    assert list(a.frame.dtypes) == list(b.frame.dtypes)
    assert len(a.geometry) == len(b.geometry)
    assert all((x is None and y is None) or (x is not None and y is not None and shapely.equals_exact(x, y, 0))
               for x, y in zip(a.geometry, b.geometry, strict=True))
    assert np.array_equal(a.had_z, b.had_z) and a.geom_problems == b.geom_problems
    assert (a.crs.name if a.crs else None) == (b.crs.name if b.crs else None) and a.labels == b.labels


def test_geopackage_through_arrow_is_the_row_by_row_table(tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    path = tmp_path / "buildings.gpkg"
    _frame().to_file(path, driver="GPKG", layer="buildings")
    via_arrow, row_by_row = _both(path, monkeypatch)
    _same(via_arrow, row_by_row)
    assert via_arrow.frame["名称"].tolist()[:2] == ["幸福小区1号楼", None]
    assert np.isnan(via_arrow.frame["households"][1]) and via_arrow.had_z.tolist() == [False, False, True, False]


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_shapefile_through_arrow_is_the_row_by_row_table(tmp_path, monkeypatch, encoding):  # noqa: ANN001, ANN201
    frame = _frame()
    frame = frame[frame.geometry.notna()].copy()
    frame.geometry = frame.geometry.apply(lambda g: g if g.geom_type != "Point" else g.buffer(0.001))
    path = tmp_path / "buildings.shp"
    frame.to_file(path, driver="ESRI Shapefile", encoding=encoding)
    via_arrow, row_by_row = _both(path, monkeypatch, encoding=encoding)
    _same(via_arrow, row_by_row)
    assert via_arrow.frame["名称"].tolist()[0] == "幸福小区1号楼"


def test_dates_keep_the_row_by_row_read(tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    path = tmp_path / "dated.gpkg"
    gpd.GeoDataFrame({"when": pd.to_datetime(["2020-01-01 10:00", None])},
                     geometry=[shapely.Point(109.8, 40.6), shapely.Point(109.81, 40.61)], crs=4326).to_file(path)
    monkeypatch.setattr(pyogrio.raw, "read_arrow", lambda *a, **k: pytest.fail("read through Arrow"))
    table = readers.read_ogr(path, path.name)
    assert len(table.frame) == 2 and pd.notna(table.frame["when"][0])
