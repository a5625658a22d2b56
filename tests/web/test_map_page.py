"""The map page: Chinese by default, English switch, only local assets, no geometry in the page."""

from __future__ import annotations

import re

from tests.support.webdemo import XSS_NAME


def test_map_page_is_chinese_and_local(client, admin) -> None:  # noqa: ANN001
    r = client.get("/", headers=admin)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "昆都仑区小区物业服务管理地图" in html
    srcs = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert any("vendor/leaflet/leaflet.js" in s for s in srcs)
    assert all(s.startswith(("/", "?")) for s in srcs), srcs  # nothing from a CDN
    assert "cdn.jsdelivr" not in html and "cdnjs" not in html and "bootstrapcdn" not in html


def test_inline_scripts_carry_the_csp_nonce(client, admin) -> None:  # noqa: ANN001
    r = client.get("/", headers=admin)
    html = r.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", r.headers["Content-Security-Policy"]).group(1)
    for tag in re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html):
        assert f'nonce="{nonce}"' in tag or 'type="application/json"' in tag, tag


def test_page_embeds_no_geometry_and_no_user_text(client, admin) -> None:  # noqa: ANN001
    html = client.get("/", headers=admin).get_data(as_text=True)
    assert '"coordinates"' not in html
    assert XSS_NAME not in html and "onerror" not in html
    assert len(html.encode()) < 120_000  # no data in it: the layers come per viewport (size is flat with data)


def test_english_switch_is_remembered(client, admin) -> None:  # noqa: ANN001
    r = client.get("/?lang=en", headers=admin)
    html = r.get_data(as_text=True)
    assert '<html lang="en">' in html and "Kundulun District residential property-service map" in html
    assert "lang=en" in r.headers["Set-Cookie"]
    again = client.get("/", headers=admin).get_data(as_text=True)
    assert '<html lang="en">' in again
    back = client.get("/?lang=zh", headers=admin).get_data(as_text=True)
    assert '<html lang="zh-CN">' in back


def test_page_config_lists_layers_and_basemaps(client, admin) -> None:  # noqa: ANN001
    import json

    html = client.get("/", headers=admin).get_data(as_text=True)
    raw = re.search(r'<script type="application/json" id="gp-config">(.*?)</script>', html, re.S).group(1)
    config = json.loads(raw)
    assert {"district", "streets", "compounds", "buildings", "barriers"} <= {layer["id"] for layer in config["layers"]}
    assert {b["id"] for b in config["basemaps"]} >= {"outline", "osm", "none"}  # Tianditu only with a key
    assert config["default_basemap"] == "outline"
    assert config["lang"] == "zh" and config["messages"]["map.layers"] == "图层"


def test_anonymous_page_is_not_served(client) -> None:  # noqa: ANN001
    r = client.get("/")
    assert r.status_code in (302, 303, 401)


def test_vendored_assets_are_served_compressed(client) -> None:  # noqa: ANN001
    for path in ("/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet/leaflet.css",
                 "/static/vendor/bootstrap/css/bootstrap.min.css", "/static/map.js",
                 "/static/vendor/fontawesome/webfonts/fa-solid-900.woff2",
                 "/static/vendor/glyphicons/fonts/glyphicons-halflings-regular.woff2"):
        r = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200, path
        if path.endswith((".js", ".css")):
            assert r.headers.get("Content-Encoding") == "gzip", path


def test_every_folium_default_asset_is_overridden() -> None:
    import folium

    from web.mapview import VENDOR_CSS, VENDOR_JS

    assert {n for n, _ in folium.Map.default_js} <= {n for n, _ in VENDOR_JS}
    assert {n for n, _ in folium.Map.default_css} <= {n for n, _ in VENDOR_CSS}
    from pathlib import Path

    static = Path(__file__).resolve().parents[2] / "web" / "static"
    for _, path in VENDOR_JS + VENDOR_CSS:
        assert (static / path).is_file(), path
