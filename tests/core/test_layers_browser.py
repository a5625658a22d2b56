"""The folium rendering in a real browser: escaped popups/tooltips (no script runs) and a legend that follows the toggle."""

from __future__ import annotations

import shutil
from pathlib import Path

import folium
import geopandas as gpd
import pytest
import shapely

from layers import LayerSpec, Legend, PopupField, StyleRule
from layers.folium_render import add_layer
from layers.style import legend_columns
from tests.e2e.browser import TIMEOUT_S

pytestmark = pytest.mark.e2e
VENDOR = Path(__file__).resolve().parents[2] / "web" / "static" / "vendor"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAYLOAD = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>花园"


def _page_html() -> tuple[str, str]:
    spec = LayerSpec(id="t", title_zh="测试<b>图层</b>", title_en="test", source="compounds", visible=True,
                     legend=Legend("mode", rules=(StyleRule("#2e7d32", "专业化<i>x</i>", "pro", value="p"),)),
                     popup=(PopupField("name", "名称", "name"),), tooltip=(PopupField("name", "名称", "name"),))
    frame = gpd.GeoDataFrame({"name": [PAYLOAD, "普通"], "mode": ["p", "q"]}, crs=4326, index=["a", "b"],
                             geometry=[shapely.box(109.80, 40.60, 109.81, 40.61), shapely.Point(109.82, 40.62)])
    frame["_color"], frame["_label"] = legend_columns(frame, spec.legend)
    m = folium.Map(location=[40.61, 109.81], zoom_start=14, tiles=None)
    m.default_js = [("leaflet", (VENDOR / "leaflet" / "leaflet.js").as_uri()),
                    ("jquery", (VENDOR / "jquery" / "jquery.min.js").as_uri())]
    m.default_css = [("leaflet_css", (VENDOR / "leaflet" / "leaflet.css").as_uri())]
    group = add_layer(m, spec, frame)
    folium.LayerControl(collapsed=False).add_to(m)
    geojson = next(iter(group._children.values()))
    return m.get_root().render(), geojson.get_name()


@pytest.fixture
def browser(browser):  # noqa: ANN001, ANN201
    """The shared Chromium (tests/conftest.py), when the vendored Leaflet is there."""
    if not (VENDOR / "leaflet" / "leaflet.js").exists():
        pytest.skip("needs web/static/vendor/leaflet")
    return browser

def test_popup_and_tooltip_show_text_and_run_nothing(browser, tmp_path) -> None:  # noqa: ANN001
    html, name = _page_html()
    path = tmp_path / "map.html"
    path.write_text(html, encoding="utf-8")
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_S * 1000)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_function(f"typeof {name} !== 'undefined'")
    # popups and tooltips are bound to the GeoJson group: fire what a click / hover would
    page.evaluate(f"""{name}.eachLayer(l => {{ if (l.feature.id === 'a') {{
        const ll = l.getBounds().getCenter();
        l.fire('click', {{latlng: ll}}, true); l.fire('mouseover', {{latlng: ll}}, true); }} }})""")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert PAYLOAD in popup.inner_text()
    assert PAYLOAD in page.locator(".leaflet-tooltip").inner_text()
    assert popup.locator("img, script").count() == 0
    assert page.evaluate("window.__xss === undefined") and not dialogs
    assert "测试<b>图层</b>" in page.locator(".leaflet-control-layers").inner_text()
    page.close()


def test_legend_follows_the_layer_toggle(browser, tmp_path) -> None:  # noqa: ANN001
    html, _ = _page_html()
    path = tmp_path / "map.html"
    path.write_text(html, encoding="utf-8")
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_S * 1000)
    page.goto(path.as_uri())
    legend = page.locator(".gp-legend-control")
    legend.wait_for()
    assert "专业化<i>x</i>" in legend.inner_text() and legend.locator("i i").count() == 0
    toggle = page.locator(".leaflet-control-layers-overlays input").first
    toggle.click()
    page.locator(".gp-legend-control").wait_for(state="detached")  # waits as long as the machine needs
    assert page.locator(".gp-legend-control").count() == 0
    toggle.click()
    page.locator(".gp-legend-control").wait_for(state="attached")
    assert page.locator(".gp-legend-control").count() == 1
    page.close()
