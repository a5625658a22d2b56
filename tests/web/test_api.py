"""/api/v1 on both databases: layers, GeoJSON by bbox/zoom/street, caching, compression, search, detail, KPIs."""

from __future__ import annotations

import gzip
import json

import pytest
import shapely

from tests.support.webdemo import ALIAS, ALIAS_ID, XSS_ID, XSS_NAME

CITY = "109.70,40.55,110.00,40.75"
SMALL = "109.820,40.628,109.833,40.638"  # contains the test compounds


def _features(client, headers, layer, **params):  # noqa: ANN001, ANN003, ANN202
    r = client.get(f"/api/v1/layers/{layer}/features", query_string=params, headers=headers)
    assert r.status_code == 200, r.data[:300]
    assert r.mimetype == "application/geo+json"
    return r.get_json()


def test_anonymous_is_refused(client) -> None:  # noqa: ANN001
    for url in ("/api/v1/layers", "/api/v1/layers/compounds/features", "/api/v1/compounds/x", "/ogc/collections"):
        assert client.get(url).status_code == 401, url


def test_health_is_public(client) -> None:  # noqa: ANN001
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json()["status"] == "ok"


def test_layers_lists_base_and_plugin_layers(client, admin, web_ctx) -> None:  # noqa: ANN001
    data = client.get("/api/v1/layers", headers=admin).get_json()
    ids = [layer["id"] for layer in data["layers"]]
    assert ids[:3] == ["district", "streets", "compounds"]
    assert {"buildings", "barriers"} <= set(ids)
    assert {spec.id for spec in web_ctx.layers} <= set(ids)  # every registered plugin layer
    buildings = next(layer for layer in data["layers"] if layer["id"] == "buildings")
    assert buildings["min_zoom"] >= 14 and buildings["title"] == "楼栋"
    en = client.get("/api/v1/layers?lang=en", headers=admin).get_json()
    assert next(layer for layer in en["layers"] if layer["id"] == "buildings")["title"] == "Buildings"


def test_features_are_limited_to_the_bbox(client, admin) -> None:  # noqa: ANN001
    city = _features(client, admin, "compounds", bbox=CITY, zoom=13)
    small = _features(client, admin, "compounds", bbox=SMALL, zoom=16)
    assert 0 < len(small["features"]) < len(city["features"])
    box = shapely.box(*map(float, SMALL.split(",")))
    for f in small["features"]:
        assert shapely.geometry.shape(f["geometry"]).envelope.intersects(box)
    assert XSS_ID in {f["id"] for f in small["features"]}
    xss = next(f for f in small["features"] if f["id"] == XSS_ID)
    assert xss["properties"]["name"] == XSS_NAME  # JSON carries the raw text; the page inserts it as text


def test_point_only_compound_is_a_point_flagged_boundary_missing(client, admin) -> None:  # noqa: ANN001
    data = _features(client, admin, "compounds", bbox="109.83,40.64,109.84,40.65", zoom=16)
    hit = next(f for f in data["features"] if f["id"] == ALIAS_ID)
    assert hit["geometry"]["type"] == "Point" and hit["properties"]["boundary_missing"] is True


def test_zoom_simplifies_geometry(client, admin) -> None:  # noqa: ANN001
    def coords(data: dict) -> int:
        return sum(len(shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))) for f in data["features"]
                   if f["geometry"])
    low = _features(client, admin, "district", bbox=CITY, zoom=6)
    high = _features(client, admin, "district", bbox=CITY, zoom=18)
    assert coords(low) < coords(high)


def test_buildings_only_at_street_level_zooms(client, admin) -> None:  # noqa: ANN001
    far = _features(client, admin, "buildings", bbox=SMALL, zoom=12)
    assert far["features"] == [] and far["below_min_zoom"] is True
    near = _features(client, admin, "buildings", bbox=SMALL, zoom=16)
    assert len(near["features"]) > 0


def test_street_filter(client, admin, web_demo, web_ctx) -> None:  # noqa: ANN001
    from geoplatform import models as m
    from geoplatform.store import read_frame

    data = _features(client, admin, "compounds", bbox=CITY, zoom=14, street=web_demo.street_code)
    with web_ctx.session(readonly=True) as s:
        expected = set(read_frame(s, "compound", where=[m.Compound.street_code == web_demo.street_code]).index)
    got = {f["id"] for f in data["features"]}
    assert got and got <= expected
    by_name = client.get("/api/v1/streets", headers=admin).get_json()["streets"]
    name = next(s["name"] for s in by_name if s["code"] == web_demo.street_code)
    assert {f["id"] for f in _features(client, admin, "compounds", bbox=CITY, zoom=14, street=name)["features"]} == got


def test_every_layer_answers(client, admin) -> None:  # noqa: ANN001
    for layer in client.get("/api/v1/layers", headers=admin).get_json()["layers"]:
        data = _features(client, admin, layer["id"], bbox=SMALL, zoom=max(16, layer["min_zoom"]))
        assert data["type"] == "FeatureCollection", layer["id"]


@pytest.mark.parametrize(("params", "name"), [
    ({"bbox": "garbage"}, "bbox"),
    ({"bbox": "1,2,3"}, "bbox"),
    ({"bbox": "110,40,109,41"}, "bbox"),
    ({"bbox": "nan,1,2,3"}, "bbox"),
    ({"bbox": "0,0,500,1"}, "bbox"),
    ({"zoom": "x"}, "zoom"),
    ({"zoom": "99"}, "zoom"),
])
def test_bad_parameters_are_400(client, admin, params, name) -> None:  # noqa: ANN001
    r = client.get("/api/v1/layers/compounds/features", query_string=params, headers=admin)
    assert r.status_code == 400
    assert r.get_json()["parameter"] == name


def test_unknown_street_is_the_one_street_error(client, admin) -> None:  # noqa: ANN001
    r = client.get("/api/v1/layers/compounds/features", query_string={"street": "no such street"}, headers=admin)
    assert r.status_code == 404 and r.get_json()["key"] == "street.unknown"  # geoplatform.streets.resolve_street


def test_unknown_layer_is_404(client, admin) -> None:  # noqa: ANN001
    assert client.get("/api/v1/layers/nope/features", headers=admin).status_code == 404


def test_etag_and_gzip(client, admin) -> None:  # noqa: ANN001
    url = f"/api/v1/layers/compounds/features?bbox={CITY}&zoom=13"
    first = client.get(url, headers={**admin, "Accept-Encoding": "gzip"})
    assert first.status_code == 200 and first.headers["Content-Encoding"] == "gzip"
    assert "private" in first.headers["Cache-Control"]
    body = json.loads(gzip.decompress(first.data))
    assert len(body["features"]) > 100
    etag = first.headers["ETag"]
    again = client.get(url, headers={**admin, "Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    plain = client.get(url, headers=admin)
    assert "Content-Encoding" not in plain.headers and json.loads(plain.data) == body
    assert client.get(url, headers={**admin, "If-None-Match": plain.headers["ETag"]}).status_code == 304


def test_etag_changes_when_data_change(client, admin, web_ctx) -> None:  # noqa: ANN001
    from sqlalchemy import update

    from geoplatform import models as m
    from web import revision

    url = f"/api/v1/layers/compounds/features?bbox={SMALL}&zoom=16"
    before = client.get(url, headers=admin)
    with web_ctx.session() as s:
        s.execute(update(m.Compound).where(m.Compound.id == ALIAS_ID).values(households=301,
                                                                                 version=m.Compound.version + 1))
    try:
        revision.invalidate(web_ctx)
        after = client.get(url, headers={**admin, "If-None-Match": before.headers["ETag"]})
        assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    finally:
        with web_ctx.session() as s:
            s.execute(update(m.Compound).where(m.Compound.id == ALIAS_ID).values(households=300))
        revision.invalidate(web_ctx)


def test_search_by_name_and_alias(client, admin) -> None:  # noqa: ANN001
    hits = client.get("/api/v1/compounds", query_string={"q": ALIAS}, headers=admin).get_json()["compounds"]
    assert [h["id"] for h in hits] == [ALIAS_ID]
    hits = client.get("/api/v1/compounds", query_string={"q": "测试正式名"}, headers=admin).get_json()["compounds"]
    assert hits[0]["id"] == ALIAS_ID and len(hits[0]["bbox"]) == 4
    hits = client.get("/api/v1/compounds", query_string={"q": "<img"}, headers=admin).get_json()["compounds"]
    assert hits[0]["name"] == XSS_NAME
    assert client.get("/api/v1/compounds", query_string={"q": "x" * 101}, headers=admin).status_code == 400
    assert client.get("/api/v1/compounds", query_string={"limit": "0"}, headers=admin).status_code == 400


def test_compound_list_pages_through_every_compound(client, admin, web_ctx) -> None:  # noqa: ANN001
    from sqlalchemy import text

    with web_ctx.engine.connect() as c:
        total = c.execute(text("select count(*) from compound")).scalar()
    assert total > 500  # more than one page of the largest size
    url, ids = "/api/v1/compounds?limit=500", []
    while url:
        page = client.get(url, headers=admin).get_json()
        assert page["total"] == total and len(page["compounds"]) <= 500
        ids += [h["id"] for h in page["compounds"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    assert len(ids) == len(set(ids)) == total and ids == sorted(ids)
    second = client.get("/api/v1/compounds?limit=3&offset=3", headers=admin).get_json()
    assert [h["id"] for h in second["compounds"]] == ids[3:6]
    assert {link["rel"] for link in second["links"]} == {"self", "next", "prev"}
    assert client.get("/api/v1/compounds?limit=501", headers=admin).status_code == 400
    assert client.get("/api/v1/compounds?offset=-1", headers=admin).status_code == 400


def test_compound_detail_has_version_and_plugin_attributes(client, admin) -> None:  # noqa: ANN001
    r = client.get(f"/api/v1/compounds/{XSS_ID}", headers=admin)
    assert r.status_code == 200
    data = r.get_json()
    assert data["id"] == XSS_ID and data["name"] == XSS_NAME and isinstance(data["version"], int)
    assert data["boundary_missing"] is False and len(data["bbox"]) == 4
    assert isinstance(data["attributes"], dict)
    assert client.get("/api/v1/compounds/does-not-exist", headers=admin).status_code == 404


def test_viewer_can_read(client, viewer) -> None:  # noqa: ANN001
    assert client.get(f"/api/v1/layers/compounds/features?bbox={SMALL}&zoom=16", headers=viewer).status_code == 200


def test_kpi_comes_from_the_coverage_plugin(client, admin, web_ctx, web_demo) -> None:  # noqa: ANN001
    from plugins.coverage.service import kpi_report

    r = client.get("/api/v1/kpi", headers=admin)
    assert r.status_code == 200
    data = r.get_json()
    assert data == json.loads(json.dumps(kpi_report(web_ctx), default=str))
    street = client.get("/api/v1/kpi", query_string={"street": web_demo.street_code}, headers=admin)
    assert street.status_code == 200


def test_basemaps_endpoint(client, admin) -> None:  # noqa: ANN001
    maps = {b["id"]: b for b in client.get("/api/v1/basemaps", headers=admin).get_json()["basemaps"]}
    assert maps["osm"]["enabled"] and "OpenStreetMap" in maps["osm"]["attribution"]
    assert maps["none"]["enabled"] and maps["none"]["url"] == ""


def test_district_zoom_is_a_dot_map_counting_every_compound(client, admin, web_ctx) -> None:  # noqa: ANN001
    from geoplatform import models as m

    with web_ctx.session(readonly=True) as s:
        n = s.query(m.Compound).count()
    a = _features(client, admin, "compounds", bbox=CITY, zoom=11)
    assert a["features"] and all(f["properties"]["_aggregate"] for f in a["features"])
    assert sum(f["properties"]["_count"] for f in a["features"]) == n
    moved = client.get("/api/v1/layers/compounds/features", query_string={"bbox": SMALL, "zoom": 11}, headers=admin)
    first = client.get("/api/v1/layers/compounds/features", query_string={"bbox": CITY, "zoom": 11}, headers=admin)
    assert moved.headers["ETag"] == first.headers["ETag"]  # one cached answer for every viewport at this zoom


def test_kpi_street_row(client, admin, web_demo) -> None:  # noqa: ANN001
    data = client.get("/api/v1/kpi", query_string={"street": web_demo.street_code}, headers=admin).get_json()
    assert [row["code"] for row in data["streets"]] == [web_demo.street_code]
    assert data["district"]["target_coverage"] == 0.8 and data["district"]["target_owners_org"] == 0.95


def test_dot_map_and_kpi_are_computed_once_per_data_revision(client, admin, web_ctx, monkeypatch) -> None:  # noqa: ANN001
    """With the HTTP response cache cold (another process, a restart), the district view is not rebuilt per request."""
    from sqlalchemy import update

    from geoplatform import models as m
    from web import http, layerdata, revision

    calls: list[str] = []
    real = layerdata.layer_geojson
    monkeypatch.setattr(layerdata, "layer_geojson", lambda *a, **k: calls.append("dots") or real(*a, **k))

    def cold() -> None:
        with http._BODIES.lock:
            http._BODIES.items.clear()
            http._BODIES.size = 0

    for _ in range(3):
        cold()
        _features(client, admin, "compounds", bbox=CITY, zoom=10)
        assert client.get("/api/v1/kpi", headers=admin).status_code == 200
    assert calls == ["dots"]
    with web_ctx.session() as s:  # a change of the data: the next answer is rebuilt
        s.execute(update(m.Compound).where(m.Compound.id == ALIAS_ID).values(version=m.Compound.version + 1))
    revision.invalidate(web_ctx)
    cold()
    _features(client, admin, "compounds", bbox=CITY, zoom=10)
    assert calls == ["dots", "dots"]


def test_index_links_every_resource_and_each_answers(client, admin) -> None:  # noqa: ANN001
    r = client.get("/api/v1/", headers=admin)
    assert r.status_code == 200
    links = {link["rel"]: link["href"] for link in r.get_json()["links"]}
    assert {"layers", "streets", "compounds", "kpi", "basemaps", "ogc"} <= set(links)
    for rel, href in links.items():
        assert client.get(href, headers=admin).status_code == 200, rel
