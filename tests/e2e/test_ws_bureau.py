"""The housing bureau's job in a real browser: the dashboard's charts, importing a GeoJSON of compounds (dry run
→ commit) so the new compound appears, and creating a user."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from geoplatform import models as m
from tests.e2e.ws_role_helpers import ARTIFACTS, logged_in, role_server, wait_for  # noqa: F401
from tests.web.ws_role_fixtures import compound_geojson, role_ctx, role_demo  # noqa: F401

pytestmark = pytest.mark.e2e


def test_bureau_dashboard_import_and_users(browser, role_server, role_demo, role_ctx, tmp_path) -> None:  # noqa: ANN001, F811
    from plugins.coverage.service import kpi_report

    ctx, page, record = logged_in(browser, role_server, "wr_bureau", role_demo.password, "/ws/bureau")
    try:
        wait_for(page, "window.wsBureau && wsBureau.ready")
        streets = len(kpi_report(role_ctx)["streets"])
        assert page.locator("#ws-chart-coverage g.ws-bar").count() == streets
        assert page.locator("#ws-chart-owners line.ws-target").count() == 1
        assert page.locator("#ws-chart-trend polyline.ws-trend-line").count() == 2
        box = page.locator("#ws-chart-coverage").bounding_box()
        assert box and box["width"] > 300 and box["height"] > 200  # rendered, not collapsed
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ws_bureau.png"), full_page=True)
        first = kpi_report(role_ctx)["streets"][0]  # the trend of one street: the select reloads the page
        with page.expect_navigation():
            page.select_option("#wb-trend-street", first["code"])
        wait_for(page, "window.wsBureau && wsBureau.ready")
        assert f"trend_street={first['code']}" in page.url and first["name"] in page.text_content("#ws-chart-trend")
        assert page.locator("#ws-chart-trend polyline.ws-trend-line").count() == 2
        page.goto(page.url.split("?")[0])
        wait_for(page, "window.wsBureau && wsBureau.ready")
        before = int(page.inner_text("#wb-compound-count").replace(",", ""))

        path = tmp_path / "新增小区.geojson"
        path.write_bytes(compound_geojson("e2e-new-0001", "浏览器导入测试小区"))
        page.click("#wb-tab-import")
        page.select_option("#wb-kind", "compounds")
        page.set_input_files("#wb-file", str(path))
        page.select_option("#wb-crs", "declared")  # a GeoJSON says its own system (RFC 7946)
        page.click("#wb-check")
        page.wait_for_selector("#wb-report-ok")
        with role_ctx.session(readonly=True) as s:
            assert s.get(m.Compound, "e2e-new-0001") is None  # the dry run wrote nothing
        page.screenshot(path=str(ARTIFACTS / "ws_bureau_import.png"))
        page.click("#wb-commit")
        page.wait_for_selector("#wb-report-done")
        with role_ctx.session(readonly=True) as s:
            assert s.get(m.Compound, "e2e-new-0001").name == "浏览器导入测试小区"
        page.goto(role_server + "/ws/bureau")
        assert int(page.inner_text("#wb-compound-count").replace(",", "")) == before + 1
        page.goto(role_server + "/compounds/e2e-new-0001")
        assert "浏览器导入测试小区" in page.content()

        page.goto(role_server + "/ws/bureau/users")
        page.fill("#wb-u-name", "e2e_heating")
        page.select_option("#wb-u-role", "utility")
        page.select_option("#wb-u-utility", "heating")
        page.fill("#wb-u-password", "heating-pass-1")
        page.click("#wb-u-submit")
        page.wait_for_selector("#wb-users-message")
        assert page.locator('#wb-users tr[data-user="e2e_heating"]').count() == 1
        with role_ctx.session(readonly=True) as s:
            u = s.execute(select(m.User.role, m.User.utility, m.User.disabled).where(m.User.name == "e2e_heating")).one()
            assert tuple(u) == ("utility", "heating", False)
            assert s.scalar(select(func.count()).select_from(m.AuditEvent).where(
                m.AuditEvent.entity == "user", m.AuditEvent.entity_id == "e2e_heating",
                m.AuditEvent.user_name == "wr_bureau")) == 1
        page.screenshot(path=str(ARTIFACTS / "ws_bureau_users.png"))
        assert not record["errors"] and not record["outside"]
    finally:
        ctx.close()
