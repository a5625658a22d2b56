"""Issue 17, "done when": the bureau takes a real street ledger from upload to KPI in the browser.

A generated 200-row ledger (blank modes, points picked on AMap = GCJ-02, two rows whose point lies in a
neighbouring street) is uploaded; the bureau chooses GCJ-02, sees the street warnings naming both rows, takes the
street from the location, commits; uploads the same file again and sees nothing new (every row named as already
stored; with “更新已有小区” 0 new, 200 updated); the dashboard then shows the 200 unknowns apart and the coverage rate
over the known unchanged by them. Positions are checked against the WGS-84 truth. Both databases.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from geoplatform.context import Context
from tests.conftest import BACKENDS
from tests.e2e.browser import ARTIFACTS, logged_in, serve, wait_for
from tests.support.ledger import make_ledger, metres
from tests.support.webdemo import PASSWORD
from tests.web.ws_role_fixtures import ROLE_TEMPLATE, copy_with_accounts

pytestmark = pytest.mark.e2e
N = 200


@pytest.fixture(scope="module", params=BACKENDS)
def ledger_ctx(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Context:
    """A copy of the role demo of its own (this test adds 200 compounds)."""
    web, _ = copy_with_accounts(ROLE_TEMPLATE, request.param, tmp_path_factory.mktemp("ledgerdb"))
    return Context.create(web.url)


@pytest.fixture(scope="module")
def ledger_server(ledger_ctx: Context, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(ledger_ctx, tmp_path_factory,
               settings={"GEOPLATFORM_UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads"))}) as url:
        yield url


def _kpi(page) -> tuple[str, int, str]:  # noqa: ANN001
    """(coverage rate shown, unknown compounds shown, compounds shown) on the bureau dashboard."""
    wait_for(page, "window.wsBureau && wsBureau.ready")
    rate = page.inner_text("#wb-kpi-coverage .wb-value").strip()
    unknown = page.locator("#wb-kpi-unknown")
    n = int(unknown.get_attribute("data-unknown")) if unknown.count() else 0
    return rate, n, page.inner_text("#wb-compound-count").strip()


def _check(page, path: str, **ticks: bool) -> None:  # noqa: ANN001
    """Choose the file, GCJ-02 and the given checkboxes, and run the check (dry run)."""
    page.select_option("#wb-kind", "compounds")
    page.set_input_files("#wb-file", path)
    page.select_option("#wb-crs", "gcj02")
    for box, on in ticks.items():
        page.set_checked(f"#wb-{box.replace('_', '-')}", on)
    page.click("#wb-check")
    page.wait_for_selector("#wb-report")


@pytest.mark.both_backends  # writes through the pages: PostGIS as well (tests/conftest.py)
def test_a_street_ledger_from_upload_to_kpi(browser, ledger_server, ledger_ctx, tmp_path) -> None:  # noqa: ANN001
    from geoplatform.models import Compound
    from geoplatform.store import read_frame

    with ledger_ctx.session(readonly=True) as s:
        ledger = make_ledger(s, tmp_path / "昆都仑区小区台账.xlsx", n=N, moved=2, seed=17)
    names = [r[1] for r in ledger.rows[1:]]
    ctx, page, record = logged_in(browser, ledger_server, "wr_bureau", PASSWORD, "/ws/bureau")
    try:
        rate, unknown, compounds = _kpi(page)
        page.goto(ledger_server + "/ws/bureau/import")
        # the form requires the coordinate system and says how to tell
        assert page.locator("#wb-crs").get_attribute("required") is not None
        assert "高德" in page.inner_text("#wb-crs-hint")
        _check(page, str(ledger.path), street_from_location=False, upsert=False)
        assert page.locator("#wb-report-ok").count() == 1, page.inner_text("#wb-report")
        assert f"新增 {N}，更新 0" in page.inner_text("#wb-report-ok")
        warnings = page.inner_text("#wb-report-warnings")
        line = next(w for w in warnings.splitlines() if "填写的街镇与点位所在街镇不同" in w)
        assert all(f"第{ledger.sheet_row(k)}行" in line for k in ledger.moved) and line.count("→") == 2
        assert "勾选“以位置确定街镇”" in line and not re.search(r"--[a-z]", page.inner_text("#wb-report"))
        with ledger_ctx.session(readonly=True) as s:  # the dry run wrote nothing
            assert read_frame(s, "compound", columns=["id"], where=[Compound.name.in_(names)]).empty
        # take the street from the location, then commit
        _check(page, str(ledger.path), street_from_location=True)
        assert "已按位置改为所在街镇" in page.inner_text("#wb-report-warnings")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ledger_check.png"), full_page=True)
        page.click("#wb-commit")
        page.wait_for_selector("#wb-report-done")
        assert f"新增 {N}" in page.inner_text("#wb-report-done")

        # the same file again: nothing new
        _check(page, str(ledger.path), street_from_location=True)
        assert page.locator("#wb-report-failed").count() == 1 and page.locator("#wb-commit").count() == 0
        rows = page.locator("#wb-report-errors tbody tr")
        assert rows.count() == N
        assert "不会重复新增" in rows.nth(0).inner_text() and "勾选“更新已有小区”" in rows.nth(0).inner_text()
        _check(page, str(ledger.path), street_from_location=True, upsert=True)
        assert "新增 0，更新 200" in page.inner_text("#wb-report-ok")
        page.screenshot(path=str(ARTIFACTS / "ledger_again.png"), full_page=True)

        # the KPI: the unknowns apart, the rate over the known unchanged by them
        page.goto(ledger_server + "/ws/bureau")
        rate2, unknown2, compounds2 = _kpi(page)
        assert unknown2 == unknown + N and rate2 == rate
        assert int(compounds2.replace(",", "")) == int(compounds.replace(",", "")) + N
        assert "待核实" in page.inner_text("#wb-kpi-unknown")
        served_hh, known_hh = (int(x.replace(",", "")) for x in re.findall(
            r"[\d,]+", page.inner_text("#wb-kpi-households-base"))[:2])  # the household rate's base: the known
        assert page.inner_text("#wb-kpi-households .wb-value").strip() == f"{served_hh / known_hh * 100:.1f}%"
        page.screenshot(path=str(ARTIFACTS / "ledger_kpi.png"), full_page=True)
        assert record["errors"] == [] and record["outside"] == []
    finally:
        ctx.close()

    with ledger_ctx.session(readonly=True) as s:  # positions against the WGS-84 truth, streets from the location
        got = read_frame(s, "compound", columns=["id", "name", "street_code", "location", "management_mode",
                                                 "owners_org"], where=[Compound.name.in_(names)]).set_index("name")
    assert len(got) == N
    for k, name in enumerate(names):
        assert metres(got.loc[name, "location"], ledger.truth[k]) < 3.0, name
        assert got.loc[name, "street_code"] == ledger.located[k]
    assert set(got["management_mode"]) == set(got["owners_org"]) == {"unknown"}
