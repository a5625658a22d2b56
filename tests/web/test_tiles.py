"""/api/v1/tiles/{layer}/{z}/{x}/{y}.mvt on both databases: decoded tiles hold the GeoJSON's features and
attributes for the same bbox; the same gate (401/403/404) and caching (ETag, private) as the GeoJSON."""

from __future__ import annotations

import gzip
import json
import math

import mapbox_vector_tile
import numpy as np
import pytest
import shapely

from layers.mvt import EXTENT, mercator_bounds, tile_bbox
from tests.support.webdemo import XSS_ID, XSS_NAME

# the tile of zoom 15 holding the test compounds (SMALL in test_api.py), and its east neighbour
LON, LAT = 109.826, 40.633


def tile_at(z: int, lon: float = LON, lat: float = LAT) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def _tile(client, headers, layer, z, x, y, **params):  # noqa: ANN001, ANN003, ANN202
    r = client.get(f"/api/v1/tiles/{layer}/{z}/{x}/{y}.mvt", query_string=params, headers=headers)
    assert r.status_code == 200, r.data[:300]
    assert r.mimetype == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(r.data) if r.data else {}


def _expected(value):  # noqa: ANN001, ANN202 - what MVT can hold of a GeoJSON value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if isinstance(value, list | dict) else value


def _to_lon_lat(geom: shapely.Geometry, z: int, x: int, y: int) -> shapely.Geometry:
    """Tile units (y up, as the decoder gives them) → WGS-84."""
    minx, miny, maxx, maxy = mercator_bounds(z, x, y)

    def back(xy):  # noqa: ANN001, ANN202
        mx = minx + xy[:, 0] / EXTENT * (maxx - minx)
        my = miny + xy[:, 1] / EXTENT * (maxy - miny)
        lon = mx / 20037508.342789244 * 180
        lat = np.degrees(np.arctan(np.sinh(my / 20037508.342789244 * np.pi)))
        return np.column_stack([lon, lat])

    return shapely.transform(geom, back)


def _compare(client, headers, layer: str, z: int, x: int, y: int) -> int:  # noqa: ANN001
    """Assert the tile holds exactly the GeoJSON's features that meet the buffered tile, same attributes; their count."""
    decoded = _tile(client, headers, layer, z, x, y)
    box = tile_bbox(z, x, y)
    r = client.get(f"/api/v1/layers/{layer}/features", query_string={"bbox": ",".join(map(str, box))},
                   headers=headers)
    assert r.status_code == 200
    area = shapely.box(*box)
    expected = {str(f["id"]): f for f in r.get_json()["features"]
                if f["geometry"] and shapely.geometry.shape(f["geometry"]).intersects(area)}
    got = {str(f["properties"]["_id"]): f for f in decoded.get(layer, {}).get("features", [])}
    assert set(got) == set(expected), layer
    unit = (box[2] - box[0]) / EXTENT
    for fid, feature in got.items():
        props = dict(feature["properties"])
        props.pop("_id")
        want = {k: _expected(v) for k, v in expected[fid]["properties"].items() if v is not None}
        assert props == pytest.approx(want), (layer, fid)
        # the geometry is the GeoJSON's, clipped to the buffered tile (within a few tile units)
        mine = _to_lon_lat(shapely.geometry.shape(feature["geometry"]), z, x, y)
        theirs = shapely.geometry.shape(expected[fid]["geometry"]).intersection(area)
        assert mine.buffer(4 * unit).contains(theirs.representative_point()) or \
            theirs.buffer(4 * unit).intersects(mine), (layer, fid)
        assert shapely.hausdorff_distance(mine.envelope, theirs.envelope) < 8 * unit, (layer, fid)
    return len(got)


def test_every_layer_tile_holds_the_geojson_features_and_attributes(client, admin) -> None:  # noqa: ANN001
    layers = client.get("/api/v1/layers", headers=admin).get_json()["layers"]
    total = 0
    for layer in layers:
        z, x, y = tile_at(max(15, layer["min_zoom"]))
        total += _compare(client, admin, layer["id"], z, x, y)
    assert total > 10  # the tile is in the test compounds: layers do hold features there


def test_a_district_zoom_tile_is_features_not_a_dot_map(client, admin) -> None:  # noqa: ANN001
    z, x, y = tile_at(12)
    assert _compare(client, admin, "compounds", z, x, y) > 50  # below detail_zoom the GeoJSON would be dots
    decoded = _tile(client, admin, "compounds", z, x, y)
    names = {f["properties"].get("_id"): f["properties"].get("name") for f in decoded["compounds"]["features"]}
    assert names[XSS_ID] == XSS_NAME  # raw text: a renderer draws it, never parses it


def test_below_min_zoom_the_tile_is_empty(client, admin) -> None:  # noqa: ANN001
    z, x, y = tile_at(12)
    r = client.get(f"/api/v1/tiles/buildings/{z}/{x}/{y}.mvt", headers=admin)
    assert r.status_code == 200 and r.data == b""


def test_street_filter(client, admin, web_demo) -> None:  # noqa: ANN001
    z, x, y = tile_at(12)
    every = _tile(client, admin, "compounds", z, x, y)["compounds"]["features"]
    streets = {f["properties"].get("street_code") for f in every} - {None}
    one = sorted(streets)[0] if streets else None
    if one is None:  # the compounds layer shows no street code: filter on the first street listed
        one = client.get("/api/v1/streets", headers=admin).get_json()["streets"][0]["code"]
    some = _tile(client, admin, "compounds", z, x, y, street=one).get("compounds", {"features": []})["features"]
    assert 0 < len(some) < len(every)


@pytest.mark.parametrize("path", ["25/0/0", "15/32768/0", "15/0/32768", "3/-1/0", "a/0/0", "3/0/b", "3/1.5/0"])
def test_bad_tile_numbers_are_400(client, admin, path) -> None:  # noqa: ANN001
    r = client.get(f"/api/v1/tiles/compounds/{path}.mvt", headers=admin)
    assert r.status_code == 400 and r.get_json()["parameter"] in ("z", "x", "y")


def test_same_gate_as_the_geojson(client, admin, viewer, web_ctx, monkeypatch) -> None:  # noqa: ANN001
    z, x, y = tile_at(15)
    tile, features = f"/api/v1/tiles/compounds/{z}/{x}/{y}.mvt", "/api/v1/layers/compounds/features"
    assert client.get(tile).status_code == client.get(features).status_code == 401
    assert client.get(f"/api/v1/tiles/nope/{z}/{x}/{y}.mvt", headers=admin).status_code == 404
    assert client.get(tile, headers=viewer).status_code == 200
    allowed = web_ctx.allowed

    def no_compounds_layer(user, action, resource=None):  # noqa: ANN001, ANN202
        if (resource or {}).get("kind") == "layer" and resource.get("id") == "compounds" and user.role == "viewer":
            return False
        return allowed(user, action, resource)

    monkeypatch.setattr(web_ctx, "allowed", no_compounds_layer)
    assert client.get(tile, headers=viewer).status_code == client.get(features, headers=viewer).status_code == 403
    assert client.get(tile, headers=admin).status_code == 200
    assert client.get(f"/api/v1/tiles/streets/{z}/{x}/{y}.mvt", headers=viewer).status_code == 200


def test_etag_private_cache_and_gzip(client, admin) -> None:  # noqa: ANN001
    z, x, y = tile_at(13)
    url = f"/api/v1/tiles/compounds/{z}/{x}/{y}.mvt"
    first = client.get(url, headers={**admin, "Accept-Encoding": "gzip"})
    assert first.status_code == 200 and first.headers["Content-Encoding"] == "gzip"
    assert first.headers["Cache-Control"] == "private, no-store"
    assert "Authorization" in first.headers["Vary"]
    plain = client.get(url, headers=admin)
    assert gzip.decompress(first.data) == plain.data and mapbox_vector_tile.decode(plain.data)["compounds"]
    assert client.get(url, headers={**admin, "If-None-Match": plain.headers["ETag"]}).status_code == 304
    again = client.get(url, headers={**admin, "Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
