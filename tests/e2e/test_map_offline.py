"""The map offline and its tools in a real browser: no request leaves 127.0.0.1 by default, street names are
drawn, tile packages (raster and vector) come from the app, identify at district zoom, dots side by side,
measure, print view, search by pinyin and address, translated controls."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from geoplatform.principal import Principal
from tests.e2e.browser import ARTIFACTS, offline_context, wait_for, watched_page
from tests.support.webdemo import ALIAS_ID, XSS_ID, XSS_NAME

pytestmark = pytest.mark.e2e

READY = "window.gp && gp.compoundTotal() > 0 && document.body.dataset.gpLoading === '0'"
LABELS_READY = "document.getElementById('gp-base-labels') && +document.getElementById('gp-base-labels').dataset.placed > 0"


@pytest.fixture
def visit(browser, server):  # noqa: ANN001, ANN201
    """Open a page as the admin; every request is recorded and anything not for 127.0.0.1 is aborted."""
    contexts = []

    def open_page(path: str = "/"):  # noqa: ANN202
        record = {"urls": [], "outside": [], "dialogs": [], "errors": []}
        ctx = offline_context(browser, record, viewport={"width": 1400, "height": 900},
                              extra_http_headers={"Authorization": f"Bearer {server.demo.admin_token}"})
        contexts.append(ctx)
        page = watched_page(ctx, record)
        page.goto(server.url + path)
        wait_for(page, READY)
        return page, record

    yield open_page
    for ctx in contexts:
        ctx.close()


def _streets(page) -> list[str]:  # noqa: ANN001
    return page.evaluate("() => fetch('/api/v1/streets').then(r => r.json()).then(d => d.streets.map(s => s.name))")


@pytest.mark.both_backends  # writes through the pages: PostGIS as well (tests/conftest.py)
def test_default_map_makes_no_request_off_the_server_and_names_the_streets(visit, server) -> None:  # noqa: ANN001
    server.context.config.tianditu_key = ""
    page, record = visit("/")
    assert page.evaluate("() => gp.state.basemap") == "outline"
    wait_for(page, LABELS_READY)
    page.wait_for_timeout(300)
    shown = page.evaluate("() => Array.from(document.querySelectorAll('.gp-label-street:not([hidden])'))"
                          ".map(e => e.textContent)")
    names = _streets(page)
    assert len(shown) >= 10 and set(shown) <= set(names), (shown, names)
    # labels never overlap (their boxes, rotated ones included)
    boxes = page.evaluate("() => Array.from(document.querySelectorAll('.gp-label:not([hidden])')).map(e => {"
                          " const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })")
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] - 0.5 and a[2] > b[0] + 0.5 and a[1] < b[3] - 0.5 and a[3] > b[1] + 0.5), (a, b)
    # the switcher: the app's own basemap is chosen; OpenStreetMap only offered, marked online; no Tianditu without key
    radios = page.evaluate("() => Array.from(document.querySelectorAll('input[name=gp-basemap]'))"
                           ".map(i => [i.value, i.checked, i.dataset.remote])")
    by_id = {r[0]: r for r in radios}
    assert by_id["outline"][1] is True and by_id["osm"] == ["osm", False, "1"]
    assert not [r for r in radios if r[0].startswith("tianditu")]
    assert "联网" in page.locator("label[for=gp-basemap-osm]").inner_text()
    # translated Leaflet controls
    assert page.locator(".leaflet-control-zoom-in").get_attribute("title") == "放大"
    assert page.locator(".leaflet-control-zoom-out").get_attribute("title") == "缩小"
    scale = page.locator(".leaflet-control-scale-line").inner_text()
    assert scale.endswith(("公里", "米")) and page.locator(".leaflet-control-scale-line").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map-offline.png"))
    page.evaluate("() => { gp.map.setZoom(14); }")
    wait_for(page, "document.getElementById('gp-base-labels').dataset.zoom === '14' && "
                   "document.querySelectorAll('.gp-label-main_road:not([hidden])').length > 0")
    assert record["outside"] == [], record["outside"]
    assert all(urlsplit(u).hostname == "127.0.0.1" for u in record["urls"] if u.startswith("http"))
    assert record["errors"] == []


def test_online_basemaps_are_choices_never_the_default(visit, server) -> None:  # noqa: ANN001
    server.context.config.tianditu_key = "test-key-7"
    try:
        page, record = visit("/")
        radios = page.evaluate("() => Array.from(document.querySelectorAll('input[name=gp-basemap]'))"
                               ".map(i => [i.value, i.checked, i.dataset.remote])")
    finally:
        server.context.config.tianditu_key = ""
    online = [r for r in radios if r[2] == "1"]
    assert {r[0] for r in online} == {"osm", "tianditu_vec", "tianditu_img"}
    assert not any(r[1] for r in online) and page.evaluate("() => gp.state.basemap") == "outline"
    assert record["outside"] == [], record["outside"]


@pytest.fixture
def packages(server, tmp_path):  # noqa: ANN001, ANN201
    """A raster MBTiles and a vector PMTiles loaded into the running app (removed afterwards)."""
    from plugins.basemaps import service
    from tests.support.tilepackages import (
        make_mbtiles,
        make_pmtiles,
        raster_tiles,
        vector_metadata,
        vector_tiles,
    )

    admin = Principal(name="e2e-admin", role="admin")
    service.add_package(server.context, admin, make_mbtiles(tmp_path / "ras.mbtiles", raster_tiles()), name="e2e-ras",
                        title="测试栅格")
    service.add_package(server.context, admin, make_pmtiles(tmp_path / "vec.pmtiles", vector_tiles(), "pbf",
                                                            gzip_tiles=True, metadata=vector_metadata()),
                        name="e2e-vec", title="测试矢量")
    try:
        yield
    finally:
        for name in ("e2e-ras", "e2e-vec"):
            service.remove_package(server.context, admin, name)


PIXEL_AT_CENTRE = """() => {
  const map = gp.map.getContainer().getBoundingClientRect();
  const x = map.left + map.width / 2, y = map.top + map.height / 2;
  for (const c of document.querySelectorAll('.leaflet-tile-container canvas')) {
    const r = c.getBoundingClientRect();
    if (x >= r.left && x < r.right && y >= r.top && y < r.bottom) {
      const px = c.getContext('2d').getImageData((x - r.left) * c.width / r.width, (y - r.top) * c.height / r.height, 1, 1).data;
      return [px[0], px[1], px[2]];
    }
  }
  return null;
}"""


def test_tile_packages_are_drawn_from_the_app(visit, packages) -> None:  # noqa: ANN001
    page, record = visit("/")
    assert page.evaluate("() => gp.state.basemap") == "pkg-e2e-vec"  # the newest package is the default
    wait_for(page, "(" + PIXEL_AT_CENTRE + ")() !== null")
    wait_for(page, "(" + PIXEL_AT_CENTRE + ")()[2] > 200")  # the package's water polygon (#a9cfee) is painted
    pixel = page.evaluate("(" + PIXEL_AT_CENTRE + ")()")
    assert all(abs(a - b) <= 12 for a, b in zip(pixel, (169, 207, 238), strict=True)), pixel  # water, not background
    assert any("/basemaps/tiles/e2e-vec/1/1/0" in u for u in record["urls"])  # Kundulun lies in the north-east tile
    page.check("#gp-basemap-pkg-e2e-ras")
    wait_for(page, "Array.from(document.querySelectorAll('.leaflet-tile-container img'))"
                   ".some(i => i.complete && i.naturalWidth === 256 && i.src.includes('/basemaps/tiles/e2e-ras/1/1/0'))")
    assert record["outside"] == [], record["outside"]
    assert record["errors"] == []


def test_a_click_at_district_zoom_lists_the_compounds_there(visit) -> None:  # noqa: ANN001
    page, record = visit("/?basemap=none")
    assert page.evaluate("() => gp.map.getZoom() < 13")  # a dot map
    point = page.evaluate("() => { const p = gp.map.latLngToContainerPoint([40.6335, 109.8265]);"
                          " const r = gp.map.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }")
    assert page.evaluate(f"() => !document.elementFromPoint({point[0]}, {point[1]}).closest('.leaflet-control')")
    page.mouse.click(*point)
    wait_for(page, "document.querySelector('.gp-identify[data-state=done]')")
    popup = page.locator(".gp-identify")
    link = popup.locator(f'.gp-identify-item[data-id="{XSS_ID}"] a')
    assert link.inner_text() == XSS_NAME and link.get_attribute("href") == f"/compounds/{XSS_ID}"
    assert popup.locator("img").count() == 0 and "共" not in popup.inner_text()
    assert int(popup.get_attribute("data-count")) >= 1
    link.click()
    page.wait_for_url(f"**/compounds/{XSS_ID}")
    assert record["dialogs"] == []


def test_dots_of_two_layers_sit_side_by_side(visit) -> None:  # noqa: ANN001
    page, _ = visit("/?basemap=none")
    first = page.evaluate("() => gp.compoundLayerIds()")[0]
    other = "compounds" if first != "compounds" else page.evaluate(
        "() => gp.config.layers.filter(l => l.source === 'compounds' && l.id !== 'compounds')[0].id")
    page.check(f"#gp-layer-{other}")
    wait_for(page, f"gp.featureCount('{other}') > 0 && gp.featureCount('{first}') > 0 && "
                   "document.body.dataset.gpLoading === '0'")
    a = {(round(x), round(y)) for x, y in page.evaluate(f"() => gp.pointPositions('{first}')")}
    b = {(round(x), round(y)) for x, y in page.evaluate(f"() => gp.pointPositions('{other}')")}
    assert len(a) > 100 and len(b) > 100
    assert not a & b  # the same compounds' dots of both layers are offset, not stacked
    page.uncheck(f"#gp-layer-{other}")
    wait_for(page, f"gp.featureCount('{other}') === 0")
    drawn = page.evaluate(f"() => gp.pointPositions('{first}')")
    true = page.evaluate(f"() => gp.pointPositions('{first}', true)")
    assert len(drawn) == len(true) > 100
    assert max(abs(p[0] - q[0]) + abs(p[1] - q[1]) for p, q in zip(drawn, true, strict=True)) < 0.5  # alone: in place


def test_measure_distance_and_area_geodesically(visit) -> None:  # noqa: ANN001
    from pyproj import Geod

    page, _ = visit("/?basemap=none#14/40.64/109.82")
    box = page.locator(".folium-map").bounding_box()
    # whole screen pixels (a mouse event's position is one), and the container points they are: the map's offset on
    # the page may be fractional
    clicks = [(round(box["x"] + x), round(box["y"] + y)) for x, y in ((400, 300), (800, 320), (760, 640), (420, 600))]
    pts = [(cx - box["x"], cy - box["y"]) for cx, cy in clicks]

    def latlngs(points):  # noqa: ANN001, ANN202
        return page.evaluate("(pts) => pts.map(p => { const ll = gp.map.containerPointToLatLng(p); return [ll.lat, ll.lng]; })",
                             [list(p) for p in points])

    geod = Geod(ellps="WGS84")

    def drawn(n: int) -> list:
        """The vertices the tool recorded: the clicked points (to a pixel — the page may scale a fractional box)."""
        got = page.evaluate("() => gp.measure.points.map(p => [p.lat, p.lng])")
        assert len(got) == n
        for (lat, lon), (elat, elon) in zip(got, latlngs(pts[:n]), strict=True):
            assert abs(lat - elat) < 1e-4 and abs(lon - elon) < 1e-4  # ≈ 1 pixel at zoom 14
        return got
    page.click("#gp-measure-distance")
    for x, y in clicks[:2]:
        page.mouse.click(x, y)
    page.mouse.dblclick(*clicks[1])
    wait_for(page, "gp.measure.mode === null")
    (lat1, lon1), (lat2, lon2) = drawn(2)
    expected = geod.inv(lon1, lat1, lon2, lat2)[2]
    assert page.evaluate("() => gp.measure.value") == pytest.approx(expected, rel=1e-6)
    text = page.locator("#gp-measure-result").inner_text()
    assert text.startswith("距离：") and ("公里" in text or "米" in text)
    assert page.locator(".gp-identify").count() == 0  # measuring clicks do not identify

    page.click("#gp-measure-area")
    for x, y in clicks:
        page.mouse.click(x, y)
    page.click("#gp-measure-finish")
    corners = drawn(4)
    area, perimeter = geod.polygon_area_perimeter([c[1] for c in corners], [c[0] for c in corners])
    assert page.evaluate("() => gp.measure.value") == pytest.approx(abs(area), rel=1e-3)
    assert page.evaluate("() => gp.measure.perimeter") == pytest.approx(perimeter, rel=1e-6)
    text = page.locator("#gp-measure-result").inner_text()
    assert text.startswith("面积：") and "周长" in text and ("平方公里" in text or "平方米" in text)
    page.click("#gp-measure-clear")
    assert page.locator("#gp-measure-result").is_hidden()


def test_print_view_has_legend_scale_north_arrow_and_date(visit, server) -> None:  # noqa: ANN001
    page, record = visit("/?basemap=outline")
    page.evaluate("() => { window.gpPrinted = 0; window.print = () => { window.gpPrinted += 1; }; }")
    page.click("#gp-print")
    wait_for(page, "document.body.classList.contains('gp-print-mode')")
    today = server.context.today.isoformat()
    assert page.locator("#gp-print-date").inner_text() == f"制图日期：{today}"
    assert page.locator("#gp-print-title").inner_text() == "昆都仑区小区物业服务管理地图"
    assert page.locator("#gp-print-scope").inner_text() == "范围：全区"
    page.emulate_media(media="print")
    try:
        for selector in ("#gp-legend", "#gp-north", ".leaflet-control-scale-line", "#gp-print-date", "#gp-print-title"):
            assert page.locator(selector).is_visible(), selector
        legend = page.locator("#gp-legend").inner_text()
        shown = page.evaluate("() => gp.compoundLayerIds().map(id => gp.state.layers[id].meta.title)")
        assert shown and all(title in legend for title in shown)
        for selector in (".gp-nav", ".gp-panel", "#gp-tools", ".leaflet-control-zoom", "#gp-print-now"):
            assert not page.locator(selector).is_visible(), selector
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "map-print.png"))
    finally:
        page.emulate_media(media="screen")
    page.click("#gp-print-now")
    assert page.evaluate("() => window.gpPrinted") == 1
    page.click("#gp-print-close")
    wait_for(page, "!document.body.classList.contains('gp-print-mode')")
    assert page.locator("#gp-north").is_hidden() and page.locator(".gp-panel").is_visible()
    assert record["outside"] == [] and record["errors"] == []


def test_search_by_pinyin_initials_and_by_address(visit, server) -> None:  # noqa: ANN001
    page, _ = visit("/?basemap=none")
    page.fill("#gp-search", "cszsm")  # 测试正式名小区: 测 c 试 s 正 z 式 s 名 m
    hit = page.locator(f'.gp-search-hit[data-id="{ALIAS_ID}"]')
    hit.wait_for(timeout=20000)
    assert "测试正式名小区" in hit.inner_text() and "拼音" in hit.inner_text()
    from geoplatform.store import read_frame

    with server.context.session(readonly=True) as s:
        frame = read_frame(s, "compound", columns=["id", "address"])
    row = frame[frame["address"].notna()].iloc[0]
    page.fill("#gp-search", row["address"])
    found = page.locator(f'.gp-search-hit[data-id="{row["id"]}"]')
    found.wait_for(timeout=20000)
    assert row["address"] in found.locator(".gp-search-address").inner_text()
    found.click()
    wait_for(page, "gp.map.getZoom() >= 15")
