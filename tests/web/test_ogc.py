"""OGC API – Features: the client call sequence QGIS makes (landing → conformance → collections → items)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest


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
    cols = _get(client, admin, _link(landing, "data"))
    ids = [c["id"] for c in cols["collections"]]
    assert {"compounds", "buildings", "streets", "district", "barriers"} <= set(ids)
    layers = [layer["id"] for layer in client.get("/api/v1/layers", headers=admin).get_json()["layers"]]
    assert set(layers) <= set(ids)  # every layer is a collection
    compounds = next(c for c in cols["collections"] if c["id"] == "compounds")
    assert len(compounds["extent"]["spatial"]["bbox"][0]) == 4
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
    {"bbox": "abc"}, {"bbox": "1,2"}, {"bbox": "2,2,1,1"}, {"limit": "0"}, {"limit": "100001"}, {"limit": "x"},
    {"offset": "-1"}, {"f": "html"}, {"bbox-crs": "EPSG:3857", "bbox": "1,1,2,2"},
])
def test_bad_item_parameters_are_400(client, admin, params) -> None:  # noqa: ANN001
    r = client.get("/ogc/collections/compounds/items", query_string=params, headers=admin)
    assert r.status_code == 400, params


def test_unknown_collection_and_item_are_404(client, admin) -> None:  # noqa: ANN001
    assert client.get("/ogc/collections/nope", headers=admin).status_code == 404
    assert client.get("/ogc/collections/nope/items", headers=admin).status_code == 404
    assert client.get("/ogc/collections/compounds/items/nope", headers=admin).status_code == 404
