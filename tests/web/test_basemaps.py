"""Basemaps: the own-data outline basemap, OSM, Tianditu (with the configured key), none; GCJ-02 never offered."""

from __future__ import annotations

import types

import pytest

from geoplatform.context import Context
from geoplatform.hookspecs import hookimpl
from layers.spec import Basemap
from plugins.basemaps import basemaps_for, tianditu_url


def test_basemaps_without_key() -> None:
    maps = {b.id: b for b in basemaps_for("")}
    assert set(maps) == {"outline", "osm", "tianditu_vec", "tianditu_vec_label", "tianditu_img", "tianditu_img_label",
                         "none"}
    assert all(b.crs == "wgs84" for b in maps.values())
    assert maps["outline"].kind == "outline" and not maps["outline"].remote and maps["osm"].remote
    assert list(maps)[0] == "outline"  # served by the app: first, and so the default without a tile package
    assert maps["tianditu_vec"].requires_key and maps["tianditu_vec_label"].overlay
    assert "OpenStreetMap" in maps["osm"].attribution and "天地图" in maps["tianditu_img"].attribution
    assert maps["none"].url == ""


@pytest.mark.parametrize(("layer", "key", "expected"), [
    ("vec", "abc123", "LAYER=vec"),
    ("cva", "abc123", "cva_w/wmts"),
    ("img", "a b&c", "tk=a%20b%26c"),
])
def test_tianditu_url(layer: str, key: str, expected: str) -> None:
    url = tianditu_url(layer, key)
    assert expected in url and "{z}" in url and "{x}" in url and "{y}" in url and "{s}" in url
    assert "TILEMATRIXSET=w" in url  # web-mercator (CGCS2000 ≈ WGS-84), not the _c lon/lat matrix


def _list(ctx: Context, lang: str = "zh") -> dict[str, dict]:
    from web.queries import basemap_list

    return {b["id"]: b for b in basemap_list(ctx, lang)}


def test_tianditu_disabled_without_key_and_enabled_with_it(web_demo) -> None:  # noqa: ANN001
    ctx = Context.create(web_demo.url)
    ctx.config.tianditu_key = ""
    off = _list(ctx)
    assert not off["tianditu_vec"]["enabled"] and off["tianditu_vec"]["url"] == ""
    assert off["tianditu_vec"]["reason"] == "needs_key"
    ctx.config.tianditu_key = "secret-key-1"
    on = _list(ctx, "en")
    assert on["tianditu_vec"]["enabled"] and "tk=secret-key-1" in on["tianditu_vec"]["url"]
    assert on["tianditu_vec"]["label_overlay"] == "tianditu_vec_label" and on["tianditu_img"]["title"] == "Tianditu imagery"


def test_gcj02_basemap_is_never_offered(web_demo) -> None:  # noqa: ANN001
    ctx = Context.create(web_demo.url)
    amap = types.ModuleType("amap_plugin")

    @hookimpl
    def register_basemaps(context):  # noqa: ANN001, ANN202
        return [Basemap("amap", "高德", "Amap", "https://webrd01.is.autonavi.com/{z}/{x}/{y}", "© 高德", crs="gcj02")]

    amap.register_basemaps = register_basemaps
    ctx.pm.register(amap, name="amap_plugin")
    assert "amap" in {b.id for b in ctx.basemaps()}
    assert "amap" not in _list(ctx)


def test_basemaps_plugin_is_registered(web_ctx) -> None:  # noqa: ANN001
    assert web_ctx.pm.get_plugin("basemaps") is not None
    assert {"osm", "none"} <= {b.id for b in web_ctx.basemaps()}
