"""The basemaps plugin over HTTP: tiles with y-flip and caching, the own-data outline basemap, the bureau's
page (upload with Chinese errors, audited, admin/bureau only), and which basemap the map starts on."""

from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path

import pytest

from geoplatform.principal import Principal
from plugins.basemaps import service
from tests.support.tilepackages import (
    BLUE,
    RED,
    make_mbtiles,
    make_pmtiles,
    mbtiles_json,
    png,
    raster_tiles,
    vector_metadata,
    vector_tiles,
    water_tile,
)

ADMIN = Principal(name="web_admin", role="admin")


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty instance folder for this test (tile packages go to <instance>/basemaps)."""
    folder = tmp_path / "instance"
    monkeypatch.setenv("GEOPLATFORM_INSTANCE", str(folder))
    return folder


def _config(client, headers) -> dict:  # noqa: ANN001
    html = client.get("/", headers=headers).get_data(as_text=True)
    return json.loads(re.search(r'<script type="application/json" id="gp-config">(.*?)</script>', html, re.S).group(1))


# ---------- tiles ----------

@pytest.mark.parametrize("container", ["mbtiles", "pmtiles"])
def test_raster_tiles_are_served_north_up_with_caching(client, admin, web_ctx, instance, tmp_path,  # noqa: ANN001
                                                       container: str) -> None:
    build = make_mbtiles if container == "mbtiles" else make_pmtiles
    service.add_package(web_ctx, ADMIN, build(tmp_path / f"r.{container}", raster_tiles()), name="ras")
    north = client.get("/basemaps/tiles/ras/1/1/0", headers=admin)
    assert north.status_code == 200 and north.mimetype == "image/png"
    assert north.data == png(RED)  # XYZ row 0 is the north: MBTiles' TMS row 1
    assert client.get("/basemaps/tiles/ras/1/1/1", headers=admin).data == png(BLUE)
    assert "private" in north.headers["Cache-Control"] and "max-age=86400" in north.headers["Cache-Control"]
    etag = north.headers["ETag"]
    again = client.get("/basemaps/tiles/ras/1/1/0", headers={**admin, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert client.get("/basemaps/tiles/ras/7/1/1", headers=admin).status_code == 204  # none there
    assert client.get("/basemaps/tiles/ras/1/5/0", headers=admin).status_code == 204  # outside the grid
    assert client.get("/basemaps/tiles/nope/1/1/0", headers=admin).status_code == 404
    assert client.get("/basemaps/tiles/ras/1/1/0").status_code in (302, 303, 401)  # login required


@pytest.mark.parametrize(("container", "gz"), [("mbtiles", False), ("pmtiles", True)])
def test_vector_tiles_are_served_north_up(client, admin, web_ctx, instance, tmp_path, container: str,  # noqa: ANN001
                                          gz: bool) -> None:
    if container == "mbtiles":
        path = make_mbtiles(tmp_path / "v.mbtiles", vector_tiles(), "pbf", mbtiles_json(vector_metadata()))
    else:
        path = make_pmtiles(tmp_path / "v.pmtiles", vector_tiles(), "pbf", gzip_tiles=gz, metadata=vector_metadata())
    service.add_package(web_ctx, ADMIN, path, name="vec")
    r = client.get("/basemaps/tiles/vec/1/0/0", headers={**admin, "Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.mimetype == "application/x-protobuf"
    body = gzip.decompress(r.data) if r.headers.get("Content-Encoding") == "gzip" else r.data
    assert (r.headers.get("Content-Encoding") == "gzip") == gz
    assert body == water_tile("北湖")
    south = client.get("/basemaps/tiles/vec/1/0/1", headers=admin)  # no gzip accepted: sent plain
    assert "Content-Encoding" not in south.headers and south.data == water_tile("南湖")
    meta = {b["id"]: b for b in _config(client, admin)["basemaps"]}["pkg-vec"]
    assert meta["kind"] == "vector" and set(meta["data_layers"]) == {"water", "roads"} and not meta["remote"]


# ---------- the own-data basemap ----------

def test_outline_basemap_has_named_outlines_and_lines(client, admin, web_ctx) -> None:  # noqa: ANN001
    from geoplatform.store import read_frame

    r = client.get("/basemaps/outline.geojson", headers={**admin, "Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    doc = json.loads(gzip.decompress(r.data) if r.headers.get("Content-Encoding") == "gzip" else r.data)
    by_role: dict[str, list[dict]] = {}
    for f in doc["features"]:
        by_role.setdefault(f["properties"]["role"], []).append(f)
    with web_ctx.session(readonly=True) as s:
        streets = read_frame(s, "street", columns=["code", "name"])
        barriers = read_frame(s, "barrier", columns=["id", "kind", "name"])
    assert sorted(f["properties"]["name"] for f in by_role["street"]) == sorted(streets["name"])
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") and len(f["properties"]["label"]) == 2
               for f in by_role["street"] + by_role["district"])
    assert {f["properties"]["kind"] for f in by_role["barrier"]} == set(barriers["kind"])
    assert {f["properties"]["name"] for f in by_role["barrier"]} == set(barriers["name"])
    assert by_role["community"] and all(f["properties"]["label"] for f in by_role["community"])
    assert "private" in r.headers["Cache-Control"]
    again = client.get("/basemaps/outline.geojson", headers={**admin, "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    assert len(r.data) < 60_000  # the district's outlines, not its compounds


# ---------- which basemap the map starts on; what the switcher offers ----------

def test_default_basemap_is_served_by_the_app(client, admin, web_ctx, instance, tmp_path) -> None:  # noqa: ANN001
    web_ctx.config.tianditu_key = ""
    config = _config(client, admin)
    offered = {b["id"]: b for b in config["basemaps"]}
    assert config["default_basemap"] == "outline" and not offered["outline"]["remote"]
    assert offered["osm"]["remote"] and not any(i.startswith("tianditu") for i in offered)  # no key: not offered
    assert "tianditu_key" not in json.dumps(config, ensure_ascii=False)
    service.add_package(web_ctx, ADMIN, make_mbtiles(tmp_path / "r.mbtiles", raster_tiles()), name="gis")
    assert _config(client, admin)["default_basemap"] == "pkg-gis"  # a loaded package becomes the default


def test_tianditu_with_a_key_is_a_choice_never_the_default(client, admin, web_ctx) -> None:  # noqa: ANN001
    web_ctx.config.tianditu_key = "k-1"
    try:
        config = _config(client, admin)
    finally:
        web_ctx.config.tianditu_key = ""
    offered = {b["id"]: b for b in config["basemaps"]}
    assert offered["tianditu_vec"]["remote"] and "tk=k-1" in offered["tianditu_vec"]["url"]
    assert config["default_basemap"] == "outline"


def test_configured_basemap_is_honoured(web_ctx, admin) -> None:  # noqa: ANN001
    from web.app import create_app

    app = create_app(web_ctx, settings={"TESTING": True, "GEOPLATFORM_BASEMAP": "osm"})
    assert _config(app.test_client(), admin)["default_basemap"] == "osm"


# ---------- the bureau's page ----------

def test_basemap_page_is_for_admin_and_bureau(client, admin, viewer) -> None:  # noqa: ANN001
    assert client.get("/bureau/basemaps", headers=viewer).status_code == 403
    upload = client.post("/bureau/basemaps", headers=viewer, data={"file": (io.BytesIO(b"x"), "a.mbtiles")},
                         content_type="multipart/form-data")
    assert upload.status_code == 403
    page = client.get("/bureau/basemaps", headers=admin)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "底图管理" in html and 'id="bm-tianditu-hint"' in html  # the hint says who enables Tianditu …
    assert not any(w in html for w in ("tianditu_key", "GEOPLATFORM_", "geoplatform basemap"))  # … without internals


def test_upload_bad_file_names_it_in_chinese(client, admin, instance) -> None:  # noqa: ANN001
    r = client.post("/bureau/basemaps", headers=admin, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(b"hello, not sqlite"), "街道底图.mbtiles")})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    error = re.search(r'id="bm-error"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert "街道底图.mbtiles" in error and "不是有效的 MBTiles 文件" in error
    assert not list((instance / "basemaps").glob("*"))  # nothing left behind


def test_upload_list_and_remove(client, admin, web_ctx, instance, tmp_path) -> None:  # noqa: ANN001
    from geoplatform import audit

    data = make_pmtiles(tmp_path / "x.pmtiles", raster_tiles()).read_bytes()
    r = client.post("/bureau/basemaps", headers=admin, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(data), "区影像.pmtiles"), "title": "区影像", "name": "qu-img"})
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    html = r.get_data(as_text=True)
    assert 'id="bm-notice"' in html and 'data-name="qu-img"' in html and "区影像.pmtiles" in html
    assert [p["name"] for p in service.list_packages(web_ctx)] == ["qu-img"]
    assert not [p for p in (instance / "basemaps").iterdir() if p.name.endswith(".part")]
    removed = client.post("/bureau/basemaps/qu-img/remove", headers=admin)
    assert removed.status_code == 200 and 'data-name="qu-img"' not in removed.get_data(as_text=True)
    with web_ctx.session(readonly=True) as s:
        events = audit.for_entity(s, "basemap", "qu-img")
    assert {e["action"] for e in events} >= {"create", "delete"} and all(e["user"] == "web_admin" for e in events)
