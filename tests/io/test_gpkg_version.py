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
