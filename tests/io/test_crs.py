"""GCJ-02 / BD-09 against published reference points; round trips; EPSG parsing; plausibility diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from geoplatform import crs as C

# (wgs lon, wgs lat, gcj lon, gcj lat): eviltransform's test points (Shanghai, Shenzhen, Beijing)
GCJ_REFERENCE = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
]
# (gcj lon, gcj lat, bd lon, bd lat): coordtransform's published example (Beijing, 天安门)
BD_REFERENCE = [(116.404, 39.915, 116.41036949371029, 39.92133699351021)]
M_PER_DEG = 111_320.0


@pytest.mark.parametrize(("lon", "lat", "glon", "glat"), GCJ_REFERENCE)
def test_wgs84_to_gcj02_matches_reference(lon, lat, glon, glat):
    x, y = C.wgs84_to_gcj02(lon, lat)
    assert abs(x - glon) < 1e-8 and abs(y - glat) < 1e-8
    bx, by = C.gcj02_to_wgs84(glon, glat)
    assert abs(bx - lon) * M_PER_DEG < 0.01 and abs(by - lat) * M_PER_DEG < 0.01


@pytest.mark.parametrize(("glon", "glat", "blon", "blat"), BD_REFERENCE)
def test_gcj02_to_bd09_matches_reference(glon, glat, blon, blat):
    x, y = C.gcj02_to_bd09(glon, glat)
    assert abs(x - blon) < 1e-10 and abs(y - blat) < 1e-10
    bx, by = C.bd09_to_gcj02(blon, blat)
    assert abs(bx - glon) * M_PER_DEG < 0.01 and abs(by - glat) * M_PER_DEG < 0.01


def test_round_trips_under_one_metre_over_kundulun():
    lon, lat = np.meshgrid(np.linspace(109.60, 109.87, 30), np.linspace(40.59, 40.82, 30))
    lon, lat = lon.ravel(), lat.ravel()
    for fwd, inv in ((C.wgs84_to_gcj02, C.gcj02_to_wgs84), (C.wgs84_to_bd09, C.bd09_to_wgs84)):
        x, y = fwd(lon, lat)
        shift = np.hypot((x - lon) * M_PER_DEG * 0.76, (y - lat) * M_PER_DEG)
        assert shift.min() > 100  # the obfuscation really moves points here (hundreds of metres)
        bx, by = inv(x, y)
        err = np.hypot((bx - lon) * M_PER_DEG * 0.76, (by - lat) * M_PER_DEG)
        assert err.max() < 1.0


def test_outside_china_is_unchanged():
    x, y = C.wgs84_to_gcj02(2.35, 48.85)
    assert (float(x), float(y)) == (2.35, 48.85)


@pytest.mark.parametrize(("text", "name"), [("EPSG:4547", "EPSG:4547"), ("4546", "EPSG:4546"), ("gcj02", "gcj02"),
                                            ("GCJ-02", "gcj02"), ("bd09", "bd09"), ("wgs84", "EPSG:4326")])
def test_parse_crs(text, name):
    assert C.parse_crs(text).name == name


def test_parse_crs_unknown():
    with pytest.raises(C.CRSProblem, match="unknown coordinate system"):
        C.parse_crs("EPSG:999999")


BBOX = (109.6, 40.6, 109.87, 40.82)


@pytest.mark.parametrize(("x", "y", "declared", "expect"), [
    ([40.62], [109.79], None, "swapped"),
    ([37_400_000.0], [4_500_000.0], None, "--crs"),
    ([400_000.0], [4_500_000.0], "the GeoJSON crs member (EPSG:4326)", "projected numbers labelled"),
    ([109.79], [40.62], None, None),
])
def test_diagnose(x, y, declared, expect):
    got = C.diagnose(np.array(x), np.array(y), BBOX, declared)
    assert (got is None) if expect is None else (expect in got)
