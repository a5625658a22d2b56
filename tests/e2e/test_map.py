"""The map in a real browser: renders with the demo, layers toggle, escaped popups, language switch, offline."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.e2e.browser import ARTIFACTS, offline_context, until, wait_for, watched_page
from tests.support.webdemo import XSS_ID, XSS_NAME

pytestmark = pytest.mark.e2e


@pytest.fixture
def visit(browser, server):  # noqa: ANN001, ANN201
    """Open a page as the admin; every request is recorded and anything not for 127.0.0.1 is aborted."""
    contexts = []

    def open_page(path: str = "/?basemap=none"):  # noqa: ANN202
        record = {"urls": [], "outside": [], "dialogs": [], "errors": []}
        ctx = offline_context(browser, record, viewport={"width": 1400, "height": 900},
                              extra_http_headers={"Authorization": f"Bearer {server.demo.admin_token}"})
        contexts.append(ctx)
        page = watched_page(ctx, record)
        page.goto(server.url + path)
        wait_for(page, "window.gp && gp.compoundTotal() > 0 && document.body.dataset.gpLoading === '0'")
        return page, record

    yield open_page
    for ctx in contexts:
        ctx.close()


@pytest.mark.both_backends  # writes through the pages: PostGIS as well (tests/conftest.py)
def test_map_renders_offline_with_every_layer_control(visit) -> None:  # noqa: ANN001
    page, record = visit()
    assert page.evaluate("() => gp.featureCount('district')") == 1
    assert page.evaluate("() => gp.featureCount('streets')") >= 10
    assert page.evaluate("() => gp.compoundTotal()") >= 1000  # the demo's compounds (a dot map at this zoom)
    layer_ids = page.evaluate("() => gp.config.layers.map(l => l.id)")
    for layer_id in layer_ids:
        assert page.locator(f"#gp-layer-{layer_id}").count() == 1
    assert page.locator(".gp-group-title").count() >= 3  # basemaps + base + plugin groups
    assert page.locator(".leaflet-control-attribution").inner_text().find("合成") >= 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "map.png"))
    assert record["outside"] == [], record["outside"]
    assert all(urlsplit(u).hostname == "127.0.0.1" for u in record["urls"] if u.startswith("http"))
    assert record["errors"] == []


def test_osm_asks_for_tiles_only_when_chosen(visit) -> None:  # noqa: ANN001
    page, record = visit("/")
    assert page.evaluate("() => gp.state.basemap") == "outline"
    assert record["outside"] == [], record["outside"]
    page.check("#gp-basemap-osm")
    wait_for(page, "gp.state.basemap === 'osm'")
    until(page, lambda: record["outside"])  # OpenStreetMap tiles expected once chosen
    assert all(urlsplit(u).hostname == "tile.openstreetmap.org" for u in record["outside"]), record["outside"]
    page.check("#gp-basemap-none")
    assert page.evaluate("() => gp.state.basemap") == "none"


def test_layers_toggle_with_their_legends(visit) -> None:  # noqa: ANN001
    page, _ = visit()
    shown = page.evaluate("() => gp.compoundLayerIds()")[0]
    assert page.locator(f'#gp-legend [data-layer="{shown}"]').count() > 0
    page.uncheck(f"#gp-layer-{shown}")
    wait_for(page, f"!gp.map.hasLayer(gp.state.layers['{shown}'].group)")
    assert page.locator(f'#gp-legend .gp-legend-layer[data-layer="{shown}"]').count() == 0
    assert page.evaluate(f"() => gp.featureCount('{shown}')") == 0
    page.check("#gp-layer-barriers")
    wait_for(page, "gp.featureCount('barriers') > 0")
    assert page.locator('#gp-legend .gp-legend-layer[data-layer="barriers"]').count() == 1
    page.check(f"#gp-layer-{shown}")
    wait_for(page, f"gp.featureCount('{shown}') > 0")
    for layer_id in page.evaluate("() => gp.config.layers.map(l => l.id)"):  # every layer can be switched on
        page.check(f"#gp-layer-{layer_id}")
    wait_for(page, "document.body.dataset.gpLoading === '0'")
    assert page.locator("#gp-status").inner_text() == ""  # no layer failed to load


def test_buildings_appear_at_street_level(visit) -> None:  # noqa: ANN001
    page, _ = visit()
    assert page.evaluate("() => gp.featureCount('buildings')") == 0
    assert "15" in page.locator("#gp-note-buildings").inner_text()
    page.evaluate("() => { gp.map.setView([40.6335, 109.8265], 16); }")
    wait_for(page, "gp.featureCount('buildings') > 0")


def test_popup_shows_hostile_name_as_text(visit) -> None:  # noqa: ANN001
    page, record = visit()
    page.fill("#gp-search", "<img")
    page.locator(f'.gp-search-hit[data-id="{XSS_ID}"]').click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert XSS_NAME in popup.inner_text()
    assert popup.locator("img").count() == 0 and popup.locator("b").count() == 0
    page.evaluate("() => { gp.map.closePopup(); }")
    page.wait_for_timeout(300)
    assert record["dialogs"] == []


def test_language_switch(visit) -> None:  # noqa: ANN001
    page, _ = visit()
    assert page.locator(".gp-panel-toggle").inner_text() == "图层"
    page.click("#gp-lang-switch")
    wait_for(page, "window.gp && gp.config.lang === 'en' && gp.compoundTotal() > 0")
    assert page.locator(".gp-panel-toggle").inner_text() == "Layers"
    assert page.evaluate("() => document.documentElement.lang") == "en"
    assert "no property service" in page.locator("#gp-legend").inner_text()
    assert "Buildings" in page.locator(".gp-panel").inner_text()


def test_street_filter_and_kpi_panel(visit, server) -> None:  # noqa: ANN001
    page, _ = visit()
    wait_for(page, "document.querySelectorAll('#gp-street option').length > 10")
    total = page.evaluate("() => gp.compoundTotal()")
    wait_for(page, "document.getElementById('gp-kpi').dataset.loaded === '1'")
    assert "80.0%" in page.locator("#gp-kpi").inner_text() and "95.0%" in page.locator("#gp-kpi").inner_text()
    page.select_option("#gp-street", server.demo.street_code)
    wait_for(page, f"gp.state.street === '{server.demo.street_code}' && document.body.dataset.gpLoading === '0'")
    wait_for(page, "gp.compoundTotal() > 0")
    assert page.evaluate("() => gp.compoundTotal()") < total
    name = page.locator("#gp-street option:checked").inner_text()
    wait_for(page, f"document.getElementById('gp-kpi').innerText.includes({name!r})")


def test_tianditu_with_a_key_draws_tiles_and_annotations(visit, server) -> None:  # noqa: ANN001
    server.context.config.tianditu_key = "test-key-42"
    try:
        page, record = visit()
        assert page.locator("#gp-basemap-tianditu_img").is_enabled()
        page.check("#gp-basemap-tianditu_img")
        wait_for(page, "gp.state.basemap === 'tianditu_img'")
        until(page, lambda: any("img_w" in u for u in record["outside"]) and any("cia_w" in u for u in record["outside"]))
        hosts = {urlsplit(u).hostname for u in record["outside"]}
        assert hosts and all(h.endswith(".tianditu.gov.cn") for h in hosts), hosts
        assert any("img_w" in u and "tk=test-key-42" in u for u in record["outside"])
        assert any("cia_w" in u for u in record["outside"])  # the annotation overlay
        assert "天地图" in page.locator(".leaflet-control-attribution").inner_text()
    finally:
        server.context.config.tianditu_key = ""


def test_tianditu_without_a_key_is_not_offered(visit) -> None:  # noqa: ANN001
    page, _ = visit()
    assert page.locator("#gp-basemap-tianditu_vec").count() == 0
    assert "tianditu_key" not in page.locator(".gp-panel").inner_text()
