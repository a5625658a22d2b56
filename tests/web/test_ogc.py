"""OGC API – Features on both databases: the client call sequence (landing → API → conformance → collections →
items), the API definition, queryables and filters, limits, bbox, paging links, single features.

The real clients (GDAL, OWSLib, QGIS) against a served demo are in test_ogc_clients.py."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import shapely


def _get(client, headers, url, **params):  # noqa: ANN001, ANN003, ANN202
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    r = client.get(path, query_string=params or None, headers=headers)
    assert r.status_code == 200, (url, r.data[:300])
    return r.get_json()


def _link(doc: dict, rel: str) -> str:
    return next(link["href"] for link in doc["links"] if link["rel"] == rel)


def test_client_sequence(client, admin) -> None:  # noqa: ANN001
    landing = _get(client, admin, "/ogc/")
    conf = _get(client, admin, _link(landing, "conformance"))
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conf["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30" in conf["conformsTo"]
    cols = _get(client, admin, _link(landing, "data"))
    ids = [c["id"] for c in cols["collections"]]
    assert {"compounds", "buildings", "streets", "district", "barriers"} <= set(ids)
    layers = [layer["id"] for layer in client.get("/api/v1/layers", headers=admin).get_json()["layers"]]
    assert set(layers) <= set(ids)  # every layer is a collection
    compounds = next(c for c in cols["collections"] if c["id"] == "compounds")
    assert len(compounds["extent"]["spatial"]["bbox"][0]) == 4
    assert {"compounds_points", "coverage_points"} <= set(ids)  # point-only compounds: a collection of their own
    items_url = _link(compounds, "items")
    page = _get(client, admin, items_url, bbox="109.70,40.55,110.00,40.75", limit=50)
    assert page["type"] == "FeatureCollection" and page["numberReturned"] == 50
    assert page["numberMatched"] > 50
    nxt = _get(client, admin, _link(page, "next"))
    assert nxt["numberReturned"] > 0
    assert not {f["id"] for f in page["features"]} & {f["id"] for f in nxt["features"]}
    assert "prev" in {link["rel"] for link in nxt["links"]}
    one = page["features"][0]
    item = _get(client, admin, f"/ogc/collections/compounds/items/{one['id']}")
    assert item["id"] == one["id"] and item["properties"]["name"] == one["properties"]["name"]
    assert _link(item, "self").endswith(f"/ogc/collections/compounds/items/{one['id']}")
    assert _get(client, admin, _link(item, "self"))["id"] == one["id"]


def test_items_paging_covers_everything_once(client, admin) -> None:  # noqa: ANN001
    bbox = "109.815,40.62,109.835,40.64"
    full = _get(client, admin, "/ogc/collections/buildings/items", bbox=bbox, limit=10000)
    seen: list[str] = []
    offset = 0
    while True:
        page = _get(client, admin, "/ogc/collections/buildings/items", bbox=bbox, limit=7, offset=offset)
        seen += [f["id"] for f in page["features"]]
        if not any(link["rel"] == "next" for link in page["links"]):
            break
        offset += 7
    assert seen == [f["id"] for f in full["features"]] and len(seen) == full["numberMatched"] > 7


def test_items_carry_all_attributes(client, admin) -> None:  # noqa: ANN001
    page = _get(client, admin, "/ogc/collections/compounds/items", limit=1)
    props = page["features"][0]["properties"]
    assert {"id", "name", "street_code", "management_mode", "households", "version"} <= set(props)


@pytest.mark.parametrize("params", [
    {"bbox": "abc"}, {"bbox": "1,2"}, {"bbox": "1,2,3,4,5"}, {"bbox": "2,2,1,1"}, {"limit": "0"}, {"limit": "x"},
    {"offset": "-1"}, {"f": "html"}, {"bbox-crs": "EPSG:3857", "bbox": "1,1,2,2"},
    {"management_mod": "none"}, {"datetime": "2025-01-01"}, {"households": "many"},
    {"demolition_planned": "maybe"}, {"_color": "#fff"},
])
def test_bad_item_parameters_are_400(client, admin, params) -> None:  # noqa: ANN001
    r = client.get("/ogc/collections/compounds/items", query_string=params, headers=admin)
    assert r.status_code == 400, params


def test_unknown_collection_and_item_are_404(client, admin) -> None:  # noqa: ANN001
    assert client.get("/ogc/collections/nope", headers=admin).status_code == 404
    assert client.get("/ogc/collections/nope/items", headers=admin).status_code == 404
    assert client.get("/ogc/collections/compounds/items/nope", headers=admin).status_code == 404


def test_repeated_parameter_is_400(client, admin) -> None:  # noqa: ANN001
    r = client.get("/ogc/collections/compounds/items?management_mode=none&management_mode=professional",
                   headers=admin)
    assert r.status_code == 400 and r.get_json()["parameter"] == "management_mode"


def test_api_definition_advertises_page_sizes_and_queryables(client, admin) -> None:  # noqa: ANN001
    from web.ogc import DEFAULT_LIMIT, MAX_LIMIT

    landing = _get(client, admin, "/ogc/")
    desc = next(link for link in landing["links"] if link["rel"] == "service-desc")
    assert desc["type"] == "application/vnd.oai.openapi+json;version=3.0"
    r = client.get(urlsplit(desc["href"]).path, headers=admin)
    assert r.status_code == 200 and r.mimetype == "application/vnd.oai.openapi+json"
    api = r.get_json()
    assert api["openapi"].startswith("3.0")
    limit = api["components"]["parameters"]["limit"]["schema"]
    assert (limit["default"], limit["maximum"]) == (DEFAULT_LIMIT, MAX_LIMIT)
    items = api["paths"]["/collections/compounds/items"]["get"]["parameters"]
    params = [api["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] for p in items]
    named = {p["name"]: p for p in params}
    assert {"limit", "bbox", "management_mode", "street_code", "households"} <= set(named)
    mode = named["management_mode"]
    assert (mode["in"], mode["style"], mode["explode"], mode["schema"]["type"]) == ("query", "form", False, "string")
    assert named["households"]["schema"]["type"] == "integer"
    cols = _get(client, admin, "/ogc/collections")["collections"]
    assert {f"/collections/{c['id']}/items" for c in cols} <= set(api["paths"])
    doc = client.get(urlsplit(next(link["href"] for link in landing["links"] if link["rel"] == "service-doc")).path,
                     headers=admin)
    assert doc.status_code == 200 and doc.mimetype == "text/html" and b"compounds_points" in doc.data


def test_queryables_and_property_filters(client, admin, web_ctx) -> None:  # noqa: ANN001
    from sqlalchemy import text

    q = client.get("/ogc/collections/compounds/queryables", headers=admin)
    assert q.status_code == 200 and q.mimetype == "application/schema+json"
    props = q.get_json()["properties"]
    assert props["management_mode"]["type"] == "string" and props["households"]["type"] == "integer"
    assert not [name for name in props if name.startswith("_")]
    with web_ctx.engine.connect() as c:
        street = c.execute(text("select street_code from compound where boundary is not null "
                                "group by street_code order by count(*) desc limit 1")).scalar()
        want = c.execute(text("select count(*) from compound where boundary is not null and "
                              "management_mode = 'professional' and street_code = :s"), {"s": street}).scalar()
    page = _get(client, admin, "/ogc/collections/compounds/items", management_mode="professional",
                street_code=street, limit=10000)
    assert page["numberMatched"] == page["numberReturned"] == want > 0
    assert {(f["properties"]["management_mode"], f["properties"]["street_code"]) for f in page["features"]} == \
        {("professional", street)}
    nxt = _get(client, admin, "/ogc/collections/compounds/items", management_mode="professional", street_code=street,
               limit=2)
    assert "management_mode=professional" in _link(nxt, "next") and f"street_code={street}" in _link(nxt, "next")
    flagged = _get(client, admin, "/ogc/collections/compounds/items", bundling_orphan="true", limit=10000)
    assert flagged["numberMatched"] > 0 and all(f["properties"]["bundling_orphan"] for f in flagged["features"])


def test_limit_above_the_maximum_is_served_as_the_maximum(client, admin) -> None:  # noqa: ANN001
    from web.ogc import MAX_LIMIT

    page = _get(client, admin, "/ogc/collections/buildings/items", limit=MAX_LIMIT * 10)
    assert page["numberReturned"] == MAX_LIMIT < page["numberMatched"]


def test_six_number_bbox_equals_four(client, admin) -> None:  # noqa: ANN001
    four = _get(client, admin, "/ogc/collections/buildings/items", bbox="109.815,40.62,109.835,40.64", limit=10000)
    six = _get(client, admin, "/ogc/collections/buildings/items", bbox="109.815,40.62,-10,109.835,40.64,1000",
               limit=10000)
    assert [f["id"] for f in six["features"]] == [f["id"] for f in four["features"]] and four["numberMatched"] > 0


def test_each_collection_has_its_own_extent(client, admin) -> None:  # noqa: ANN001
    cols = {c["id"]: c for c in _get(client, admin, "/ogc/collections")["collections"]}
    boxes = {cid: tuple(c["extent"]["spatial"]["bbox"][0]) for cid, c in cols.items() if "extent" in c}
    assert len(set(boxes.values())) > 3  # not the one district box for all
    for cid in ("compounds_points", "bundling_links"):
        minx, miny, maxx, maxy = boxes[cid]
        for f in _get(client, admin, f"/ogc/collections/{cid}/items", limit=10000)["features"]:
            x0, y0, x1, y1 = shapely.geometry.shape(f["geometry"]).bounds
            assert minx <= x0 and miny <= y0 and x1 <= maxx and y1 <= maxy


def test_following_next_links_lists_every_feature_once(client, admin) -> None:  # noqa: ANN001
    url = "/ogc/collections/compounds/items?limit=7"
    seen: list[str] = []
    matched = None
    while url:
        page = _get(client, admin, url)
        matched = page["numberMatched"]
        seen += [f["id"] for f in page["features"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    assert len(seen) == len(set(seen)) == matched > 7
