"""A quarter end to end in a real browser: two street officers score the firms of their streets, the bureau reviews
and publishes the 好评榜 / 差评榜 (credit events written), a viewer reads, prints and downloads the lists."""

from __future__ import annotations

from collections.abc import Iterator

import openpyxl
import pytest
from sqlalchemy import select

from geoplatform.context import Context
from geoplatform.models.firms import FirmAssessment, FirmCreditEvent, FirmRanking
from tests.conftest import BACKENDS, _fresh_url
from tests.e2e.browser import ARTIFACTS, logged_in, serve
from tests.plugins.firms_fixtures import S1, S2, A, B, C, X, seed

pytestmark = pytest.mark.e2e
PASSWORD = "correct-horse-battery"
QUARTER = "2025Q2"  # the quarter before the fixture's day (2025-08-15), the one the pages open on


@pytest.fixture(scope="module", params=BACKENDS)
def firms_ctx(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Context:
    """The small firms world with accounts, judged as of TODAY (one database per backend)."""
    from geoplatform import auth as accounts
    from geoplatform import schema

    ctx = Context.create(_fresh_url(request.param, tmp_path_factory, request))
    schema.upgrade(ctx.engine)
    seed(ctx)
    with ctx.session() as s:
        for name, role, street in (("f_officer", "street_officer", S1), ("f_officer2", "street_officer", S2),
                                   ("f_bureau", "bureau", None), ("f_viewer", "viewer", None)):
            accounts.add_user(s, name, role, PASSWORD, street)
    return ctx


@pytest.fixture(scope="module")
def firms_server(firms_ctx: Context, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(firms_ctx, tmp_path_factory) as url:
        yield url


def _score(browser, server: str, user: str, scores: dict[str, str]) -> None:  # noqa: ANN001
    ctx, page, record = logged_in(browser, server, user, PASSWORD, "/ws/firms/street", accept_downloads=False)
    try:
        assert page.get_attribute("#fm-street", "data-quarter") == QUARTER
        shown = page.eval_on_selector_all("#fm-firms tr.fm-firm", "rows => rows.map(r => r.dataset.company)")
        assert sorted(shown) == sorted(scores)
        for firm, value in scores.items():
            page.fill(f'#fm-firms tr.fm-firm[data-company="{firm}"] input.fm-score', value)
        with page.expect_navigation():
            page.click("#fm-save")
        assert page.locator('.fm-flash[data-kind="ok"]').count() == len(scores)
        ending = page.eval_on_selector_all("#fm-expiring tbody tr", "rows => rows.map(r => r.dataset.code)")
        assert ending == (["contract_expiring_30", "contract_expired"] if user == "f_officer" else [])
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"ws_firms_{user}.png"), full_page=True)
        assert record["outside"] == [] and record["errors"] == [] and record["dialogs"] == []
    finally:
        ctx.close()


def test_a_quarter_end_to_end(browser, firms_server, firms_ctx, tmp_path) -> None:  # noqa: ANN001
    _score(browser, firms_server, "f_officer", {A: "92", B: "48.5", C: "75"})
    _score(browser, firms_server, "f_officer2", {X: "66"})
    with firms_ctx.session(readonly=True) as s:
        got = {(a.street_code, a.company): a.score for a in s.scalars(select(FirmAssessment))}
    assert got == {(S1, A): 92.0, (S1, B): 48.5, (S1, C): 75.0, (S2, X): 66.0}

    # another street's page is refused on the server
    ctx, page, record = logged_in(browser, firms_server, "f_officer", PASSWORD, "/ws/firms/street",
                                  accept_downloads=False)
    assert page.goto(f"{firms_server}/ws/firms/street?street={S2}").status == 403
    ctx.close()

    ctx, page, record = logged_in(browser, firms_server, "f_bureau", PASSWORD, f"/ws/firms/bureau?quarter={QUARTER}")
    try:
        good = page.eval_on_selector_all("#fm-draft-good tbody tr", "rows => rows.map(r => r.dataset.company)")
        bad = page.eval_on_selector_all("#fm-draft-bad tbody tr", "rows => rows.map(r => r.dataset.company)")
        assert (good, bad) == ([A, X], [B])
        assert page.locator('#fm-registry tr[data-company="' + X + '"]').get_attribute("data-eligible") == "0"
        assert page.locator("#fm-gap-professional_without_contract li").count() == 1
        with page.expect_navigation():
            page.click("#fm-publish")
        assert page.locator('.fm-flash[data-kind="ok"]').count() == 1 and page.locator("#fm-publish").count() == 0
        assert QUARTER in page.inner_text("#fm-published")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ws_firms_bureau.png"), full_page=True)
        assert record["outside"] == [] and record["errors"] == []
    finally:
        ctx.close()
    with firms_ctx.session(readonly=True) as s:
        assert s.get(FirmRanking, QUARTER).good == [A, X]
        listed = {(e.company, e.kind) for e in s.scalars(select(FirmCreditEvent).where(FirmCreditEvent.ref == QUARTER))}
    assert listed == {(A, "good_list"), (X, "good_list"), (B, "bad_list")}

    ctx, page, record = logged_in(browser, firms_server, "f_viewer", PASSWORD, "/firms/lists")
    try:
        assert page.eval_on_selector_all("#fm-list-good tbody tr", "rows => rows.map(r => r.dataset.company)") == [A, X]
        with page.expect_download() as dl:
            page.click("#fm-xlsx")
        path = tmp_path / "lists.xlsx"
        dl.value.save_as(path)
        sheet = openpyxl.load_workbook(path)["差评榜"]
        assert [r[2] for r in list(sheet.values)[1:]] == [B]
        page.click("#fm-print")
        page.wait_for_selector("#fm-print-page")
        assert f"{QUARTER} 好评榜、差评榜" in page.inner_text("h1")
        page.emulate_media(media="print")
        assert not page.locator("nav.gp-nav").is_visible()  # the printable page hides the menu
        page.screenshot(path=str(ARTIFACTS / "firms_lists_print.png"), full_page=True)
        assert record["outside"] == [] and record["errors"] == [] and record["dialogs"] == []
    finally:
        ctx.close()
