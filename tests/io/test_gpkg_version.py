"""GeoPackage exports are version 1.2 (GPKG_VERSION), which GDAL 3.6 and QGIS 3.22 open without a warning."""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import pytest
import shapely

from geoplatform.io.export import GPKG_VERSION, write_file

USER_VERSION = {"1.2": 10200, "1.3": 10300, "1.4": 10400}


@pytest.mark.parametrize("version", [None, "1.3"])
def test_gpkg_export_version(tmp_path, version) -> None:  # noqa: ANN001
    frame = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.box(109, 40, 109.001, 40.001)], crs=4326)
    path = tmp_path / "out.gpkg"
    assert write_file(frame, path, "gpkg", table="building", gpkg_version=version) == 1
    with sqlite3.connect(path) as db:
        assert db.execute("pragma application_id").fetchone()[0] == 0x47504B47  # "GPKG"
        assert db.execute("pragma user_version").fetchone()[0] == USER_VERSION[version or GPKG_VERSION]
    assert GPKG_VERSION in ("1.2", "1.3")


@pytest.mark.parametrize("version", [None, "1.3"])
def test_the_points_layer_keeps_the_version_and_warns_nothing(tmp_path, version) -> None:  # noqa: ANN001
    """The second layer (point-only compounds) is appended to the file the first created: same version, both
    layers readable, no warning about creation options on append."""
    import warnings

    import pyogrio

    frame = gpd.GeoDataFrame({"id": ["a", "b"], "name": ["有边界", "只有点"],
                              "location": [shapely.Point(109.0005, 40.0005), shapely.Point(109.8, 40.6)]},
                             geometry=[shapely.box(109, 40, 109.001, 40.001), None], crs=4326)
    frame = frame.rename_geometry("boundary")
    path = tmp_path / "c.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert write_file(frame, path, "gpkg", table="compound", gpkg_version=version) == 2
    with sqlite3.connect(path) as db:
        assert db.execute("pragma user_version").fetchone()[0] == USER_VERSION[version or GPKG_VERSION]
    layers = dict(pyogrio.list_layers(path))
    assert set(layers) == {"compound", "compounds_points"} and layers["compounds_points"] == "Point"
    pts = gpd.read_file(path, layer="compounds_points")
    assert list(pts["id"]) == ["b"] and pts.geometry.iloc[0].equals(shapely.Point(109.8, 40.6))
