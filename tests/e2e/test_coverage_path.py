"""Issue 22 in a real browser: the state company's path-to-target page draws every street's milestone bars
and the street officer's own street only, with no request off the server and no page error."""

from __future__ import annotations

import pytest

from tests.e2e.ws_role_helpers import ARTIFACTS, logged_in, role_server  # noqa: F401
from tests.web.ws_role_fixtures import role_ctx, role_demo  # noqa: F401

pytestmark = pytest.mark.e2e


def test_path_page_in_the_browser(browser, role_server, role_demo, role_ctx) -> None:  # noqa: ANN001, F811
    from plugins.coverage.service import projection_report

    streets = projection_report(role_ctx)["streets"]
    ctx, page, record = logged_in(browser, role_server, "wr_state", role_demo.password, "/ws/coverage/path")
    try:
        page.wait_for_selector("#cv-chart-milestones")
        assert page.locator("#cv-chart-milestones g.cv-street").count() == len(streets)
        assert page.locator("#cv-chart-milestones g.cv-bar").count() == 4 * len(streets)  # now + 3 milestones
        box = page.locator("#cv-chart-milestones").bounding_box()
        assert box and box["width"] > 300 and box["height"] > 300
        first = page.locator("#cv-path-drill details").first
        first.locator("summary").click()
        assert first.evaluate("d => d.open")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "coverage_path.png"), full_page=True)
        assert record["outside"] == [] and record["errors"] == []
    finally:
        ctx.close()
    ctx, page, record = logged_in(browser, role_server, "wr_officer", role_demo.password, "/ws/coverage/path")
    try:
        page.wait_for_selector("#cv-chart-milestones")
        assert page.locator("#cv-chart-milestones g.cv-street").evaluate_all(
            "gs => gs.map(g => g.dataset.street)") == [role_demo.street]
        assert record["outside"] == [] and record["errors"] == []
    finally:
        ctx.close()
