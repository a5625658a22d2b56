"""The map at a low tile threshold: big layers come as vector tiles (drawn by the vendored protomaps-leaflet),
a click on a tiled compound opens its popup from the tile's attributes, nothing leaves the server."""

from __future__ import annotations

import pytest

from tests.e2e.browser import offline_context, serve, wait_for, watched_page
from tests.support.webdemo import XSS_ID, XSS_NAME

pytestmark = pytest.mark.e2e


def test_map_above_the_threshold_draws_compounds_from_tiles(browser, web_demo, tmp_path_factory) -> None:  # noqa: ANN001
    if not web_demo.url.startswith("sqlite"):
        pytest.skip("one browser run: the tiles of both databases are compared in tests/web/test_tiles.py")
    from geoplatform.context import Context

    context = Context.create(web_demo.url)
    frame = context.compounds_frame()
    mine = frame.geometry.loc[XSS_ID]
    others = frame.geometry.drop(XSS_ID)
    where = mine.difference(others[others.intersects(mine)].union_all()).representative_point()  # only it there
    record = {"urls": [], "outside": [], "dialogs": [], "errors": []}
    with serve(context, tmp_path_factory, settings={"GEOPLATFORM_TILE_THRESHOLD": 100}) as url:
        ctx = offline_context(browser, record, viewport={"width": 1200, "height": 800},
                              extra_http_headers={"Authorization": f"Bearer {web_demo.admin_token}"})
        try:
            page = watched_page(ctx, record)
            page.goto(f"{url}/?basemap=none#17/{where.y:.6f}/{where.x:.6f}")
            wait_for(page, "window.gp && gp.compoundLayerIds().length > 0")
            layer = page.evaluate("() => gp.compoundLayerIds()[0]")  # the compound layer shown (coverage's, the base one)
            wait_for(page, f"gp.tiled({layer!r}) && gp.tileLayerOn({layer!r})")
            wait_for(page, "gp.tilesDrawn() > 0 && gp.tilesPending() === 0")  # what B5 waits for: every tile drawn
            assert not page.evaluate("() => gp.tiled('district')")  # a small layer stays GeoJSON
            # the tile under the compound has arrived and holds it
            wait_for(page, f"(() => {{ var hit = false; gp.state.layers[{layer!r}].tileLayer"
                           f".queryTileFeaturesDebug({where.x}, {where.y}).forEach(function (l) {{"
                           f" (l || []).forEach(function (p) {{ if (p.feature.props._id === {XSS_ID!r}) {{ hit = true; }} }}); }});"
                           f" return hit; }})()")
            # only the tiled compound layer on: the click is for its popup, not a street outline's
            page.evaluate(f"() => gp.config.layers.forEach(function (m) {{ if (m.id !== {layer!r}) {{ gp.setActive(m.id, false); }} }})")
            box = page.evaluate(f"""() => {{
                var p = gp.map.latLngToContainerPoint([{where.y}, {where.x}]);
                var r = gp.map.getContainer().getBoundingClientRect();
                return [r.left + p.x, r.top + p.y]; }}""")
            page.mouse.click(box[0], box[1])
            popup = page.locator(".leaflet-popup-content")
            popup.wait_for()
            assert XSS_NAME in popup.inner_text() and popup.locator("img").count() == 0
            assert popup.locator(f'a[href$="{XSS_ID}"]').count() == 1  # the compound page link from `_id`
        finally:
            ctx.close()
    tiles = [u for u in record["urls"] if f"/api/v1/tiles/{layer}/" in u and u.split("?")[0].endswith(".mvt")]
    assert tiles and all("/17/" in u or "/18/" in u or "/16/" in u for u in tiles), tiles[:5]
    assert not [u for u in record["urls"] if f"/api/v1/layers/{layer}/features" in u]
    assert record["outside"] == [] and record["errors"] == [] and record["dialogs"] == []
