"""A plugin's layer on the map page users see (web/static/map.js), in a real browser: hostile text in feature
values, the layer title and the legend labels is shown as text (no script runs), and the legend follows the toggle.

(These were tests of layers/folium_render.py, a renderer no page used; the map page builds its popups,
tooltips, layer switcher and legends from the GeoJSON API with DOM text nodes.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from geoplatform.hookspecs import hookimpl
from layers import LayerSpec, Legend, PopupField, StyleRule
from tests.core import layer_fixtures as lf
from tests.e2e.browser import offline_context, serve, wait_for, watched_page

pytestmark = pytest.mark.e2e
HOSTILE_NAME = "<script>alert('x')</script>花园"  # compound c1 of the layer fixtures
TITLE = "测试<b>图层</b>"
RULE = "专业化<i>x</i>"


class HostileLayer:
    """A plugin whose layer title and legend label carry markup (as a careless plugin might)."""

    @hookimpl
    def register_layers(self, context):  # noqa: ANN001, ANN201
        return [LayerSpec(id="t_hostile", title_zh=TITLE, title_en=TITLE, source="compounds", visible=True, group="测试",
                          legend=Legend("management_mode", rules=(StyleRule("#2e7d32", RULE, RULE, value="professional"),)),
                          popup=(PopupField("name", "名称<u>", "name<u>"),), tooltip=(PopupField("name", "名称", "name"),))]


@pytest.fixture
def page(browser, ctx, tmp_path_factory) -> Iterator[tuple]:  # noqa: ANN001
    """The map page of an app on the layer fixtures with the hostile plugin, as an admin; (page, record)."""
    from geoplatform import auth as accounts

    lf.load(ctx)
    ctx.pm.register(HostileLayer(), name="hostile")
    with ctx.session() as s:
        accounts.add_user(s, "lb_admin", "admin", "correct-horse-battery")
        token = accounts.new_token(s, "lb_admin")
    with serve(ctx, tmp_path_factory) as url:
        record: dict[str, list] = {"outside": [], "dialogs": [], "errors": []}
        bctx = offline_context(browser, record, viewport={"width": 1300, "height": 900},
                               extra_http_headers={"Authorization": f"Bearer {token}"})
        p = watched_page(bctx, record)
        p.goto(url + "/?basemap=none#16/40.611/109.711")
        wait_for(p, "window.gp && gp.featureCount('t_hostile') > 0 && document.body.dataset.gpLoading === '0'")
        yield p, record
        bctx.close()


def test_popup_tooltip_switcher_and_legend_show_text_and_run_nothing(page) -> None:  # noqa: ANN001
    p, record = page
    p.evaluate("""() => gp.state.layers.t_hostile.group.eachLayer(l => { if (l.feature.id === 'c1') {
        const ll = l.getBounds ? l.getBounds().getCenter() : l.getLatLng();
        l.fire('click', {latlng: ll}, true); l.fire('mouseover', {latlng: ll}, true); } })""")
    popup = p.locator(".leaflet-popup-content")
    popup.wait_for()
    assert HOSTILE_NAME in popup.inner_text() and "名称<u>" in popup.inner_text()
    assert popup.locator("script, u").count() == 0
    tooltip = p.locator(".leaflet-tooltip")
    assert HOSTILE_NAME in tooltip.inner_text() and tooltip.locator("script").count() == 0
    switcher = p.locator("#gp-layer-t_hostile").locator("xpath=..")
    assert TITLE in switcher.inner_text() and switcher.locator("b").count() == 0
    legend = p.locator('#gp-legend .gp-legend-layer[data-layer="t_hostile"]')
    assert RULE in legend.inner_text() and legend.locator("i:not(.gp-swatch)").count() == 0
    assert record["dialogs"] == [] and record["errors"] == [] and record["outside"] == []


def test_legend_follows_the_layer_toggle(page) -> None:  # noqa: ANN001
    p, _ = page
    legend = '#gp-legend .gp-legend-layer[data-layer="t_hostile"]'
    assert p.locator(legend).count() == 1
    p.uncheck("#gp-layer-t_hostile")
    wait_for(p, f"!document.querySelector('{legend}')")
    p.check("#gp-layer-t_hostile")
    wait_for(p, f"!!document.querySelector('{legend}')")
