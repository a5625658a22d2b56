"""The state company's job in a real browser: log in, pick the year's takeover set under a budget (optimal ≥ greedy),
save it, move one compound to serving (it becomes state-owned, coverage rises), print the shortlist."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from geoplatform import models as m
from tests.e2e.browser import ARTIFACTS, logged_in, serve, wait_for
from tests.web.ws_takeover_fixtures import tk_ctx, tk_demo  # noqa: F401

pytestmark = pytest.mark.e2e
YEAR = 2040  # a year no other test writes


@pytest.fixture(scope="module")
def tk_server(tk_ctx, tmp_path_factory) -> Iterator[str]:  # noqa: ANN001, F811
    """The app on the takeover demo under waitress (one per backend for this module)."""
    with serve(tk_ctx, tmp_path_factory) as url:
        yield url


@pytest.fixture
def state_page(browser, tk_server, tk_demo):  # noqa: ANN001, ANN201, F811
    """A fresh browser context logged in as the state company through the login form, on /ws/takeover."""
    ctx, page, record = logged_in(browser, tk_server, "tk_state", tk_demo.password, f"/ws/takeover?year={YEAR}",
                                  viewport=(1600, 940), accept_downloads=False)
    wait_for(page, "window.wsTakeover && wsTakeover.ready && wsTakeover.loads >= wsTakeover.config.layers.length"
                   " && document.body.dataset.wsLoading === '0'")
    yield page, record, ctx
    ctx.close()


def _run(page, budget: str) -> str:  # noqa: ANN001
    page.fill("#tk-p-budget", budget)
    page.click("#tk-run")
    return wait_for(page, "['ok', 'infeasible', 'invalid', 'error'].indexOf("
                          "document.getElementById('tk-result').dataset.state) >= 0 && "
                          "document.getElementById('tk-result').dataset.state")


def _column(page, state: str) -> list[str]:  # noqa: ANN001
    return page.eval_on_selector_all(f'.tk-col[data-state="{state}"] .tk-card', "cs => cs.map(c => c.dataset.id)")


@pytest.mark.both_backends  # writes through the pages: PostGIS as well (tests/conftest.py)
def test_state_company_picks_saves_and_serves(state_page, tk_server, tk_ctx) -> None:  # noqa: ANN001, F811
    page, record, ctx = state_page
    assert page.locator("#tk-candidates tr.tk-cand").count() > 50
    assert page.evaluate("() => wsTakeover.layers.takeover_candidates.ids.length") > 50  # candidates on the map

    # the table sorts by any column in the page (unknown costs last)
    cost_th = page.locator("#tk-candidates th", has_text="年补贴")
    cost_th.click()
    costs = [float(v) for v in page.evaluate("() => wsTakeover.columnValues(6)") if v]
    assert costs == sorted(costs) and len(costs) > 10
    cost_th.click()
    costs = [float(v) for v in page.evaluate("() => wsTakeover.columnValues(6)") if v]
    assert costs == sorted(costs, reverse=True)
    page.locator("#tk-candidates th", has_text="得分").first.click()
    page.locator("#tk-candidates tr.tk-cand .tk-bar").first.click()
    detail = page.locator("#tk-candidates .tk-detail").first
    assert detail.is_visible() and detail.locator(".tk-detail-row").count() == 8
    assert "连片（权重 20）" in detail.inner_text() and "业委会（权重 5）" in detail.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ws_takeover_candidates.png"))

    page.click("#tk-tab-select")
    assert _run(page, "1") == "infeasible"  # too small a budget: the binding constraint in plain words
    assert "预算不足" in page.inner_text("#tk-infeasible")
    assert page.is_disabled("#tk-save")
    assert _run(page, "150") == "ok"
    objective = float(page.get_attribute("#tk-result", "data-objective"))
    greedy = float(page.get_attribute("#tk-result", "data-greedy"))
    assert objective >= greedy and page.get_attribute("#tk-result", "data-optimal") == "true"
    assert "已确认是得分最高的组合" in page.inner_text("#tk-optimal")
    selected = page.eval_on_selector_all("#tk-selected tr.tk-sel", "rs => rs.map(r => r.dataset.id)")
    assert 10 <= len(selected) <= 15
    assert page.locator("#tk-diff, #tk-no-diff").count() == 1
    if objective > greedy + 0.01:
        assert page.locator('#tk-diff [data-role="only-greedy"] li').count() >= 1
    assert page.evaluate("() => wsTakeover.resultLayer.getLayers().length") >= len(selected)
    assert page.locator("#tk-candidates tr.tk-picked").count() == len(selected)

    page.click("#tk-save")
    wait_for(page, f"document.body.dataset.tkSaved === '{YEAR}'")
    assert page.get_attribute("#ws-flash", "data-kind") == "ok" and str(YEAR) in page.inner_text("#ws-flash")
    with tk_ctx.session(readonly=True) as s:
        rows = dict(s.execute(select(m.TakeoverSelection.compound_id, m.TakeoverSelection.state)
                              .where(m.TakeoverSelection.year == YEAR)).all())
    assert set(rows) == set(selected) and set(rows.values()) == {"shortlisted"}

    page.click("#tk-tab-board")
    assert set(_column(page, "shortlisted")) == set(selected)
    cid = _column(page, "shortlisted")[0]
    rate_before = float(page.get_attribute("#tk-coverage", "data-rate"))
    with tk_ctx.session() as s:  # a signatory for the contract (RULES §4: an owners' committee)
        s.get(m.Compound, cid).owners_org = "owners_committee"
    for state in ("tendering", "contracted"):
        page.click(f'.tk-card[data-id="{cid}"] .tk-move[data-to="{state}"]')
        if state == "tendering":  # the tender form (RULES §4): public or invited tender only, and the bidders
            modes = page.eval_on_selector_all(f'.tk-card[data-id="{cid}"] .tk-t-mode option', "os => os.map(o => o.value)")
            assert modes == ["public", "invited"]
            assert page.input_value(f'.tk-card[data-id="{cid}"] .tk-t-bidders') == "3"
            page.fill(f'.tk-card[data-id="{cid}"] .tk-t-bidders', "4")
            page.click(f'.tk-card[data-id="{cid}"] .tk-tender-btn')
        if state == "contracted":  # the contract form: the state company and three years proposed, all editable
            assert page.input_value(f'.tk-card[data-id="{cid}"] .tk-c-company')
            page.click(f'.tk-card[data-id="{cid}"] .tk-contract-btn')
        wait_for(page, f"!!document.querySelector('.tk-col[data-state=\"{state}\"] .tk-card[data-id=\"{cid}\"]')")
    page.click(f'.tk-card[data-id="{cid}"] .tk-move[data-to="serving"]')
    assert "国企兜底" in page.inner_text(f'.tk-card[data-id="{cid}"] .tk-confirm')  # says what serving changes
    page.click(f'.tk-card[data-id="{cid}"] .tk-confirm-btn')
    wait_for(page, f"!!document.querySelector('.tk-col[data-state=\"serving\"] .tk-card[data-id=\"{cid}\"]')")
    assert float(page.get_attribute("#tk-coverage", "data-rate")) > rate_before
    assert "覆盖率" in page.inner_text("#ws-flash")
    with tk_ctx.session(readonly=True) as s:
        assert s.get(m.Compound, cid).management_mode == "state_owned"
        row = s.scalar(select(m.TakeoverSelection).where(m.TakeoverSelection.year == YEAR,
                                                         m.TakeoverSelection.compound_id == cid))
        assert row.state == "serving" and (row.parameters["tender"]["mode"], row.parameters["tender"]["bidders"]) == (
            "public", 4)
        audited = s.execute(select(m.AuditEvent.before, m.AuditEvent.after).where(
            m.AuditEvent.entity_id == f"{YEAR}/{cid}", m.AuditEvent.entity == "takeover_selection")).all()
        moves = {((b or {}).get("state"), (a or {}).get("state")) for b, a in audited}  # the move is in the snapshots
        assert {("shortlisted", "tendering"), ("tendering", "contracted"), ("contracted", "serving")} <= moves
    wait_for(page, f"wsTakeover.stateOnMap('{cid}') === 'serving' && document.body.dataset.wsLoading === '0'")
    assert page.evaluate(f"() => wsTakeover.hasFeature('takeover_candidates', '{cid}')") is False  # left the pool

    page.click("#tk-tab-select")
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "ws_takeover.png"))
    page.click("#tk-tab-board")
    page.wait_for_timeout(400)
    page.screenshot(path=str(ARTIFACTS / "ws_takeover_board.png"))

    printed = ctx.new_page()
    printed.goto(tk_server + f"/ws/takeover/print?year={YEAR}")
    ids = printed.eval_on_selector_all("#tp-table tr.tp-row", "rs => rs.map(r => r.dataset.id)")
    assert set(ids) == set(selected)
    assert printed.locator("#tp-map-section svg circle.tp-marker").count() == len(selected)
    served_row = printed.inner_text(f'#tp-table tr[data-id="{cid}"]')
    assert "已进驻服务" in served_row and "移出候选池" in served_row and "招标" in served_row
    assert printed.locator("#tp-method tr[data-component]").count() == 8
    printed.screenshot(path=str(ARTIFACTS / "ws_takeover_print.png"), full_page=True)
    printed.emulate_media(media="print")
    assert printed.locator("nav.gp-nav").is_hidden() and printed.locator("#tp-print-button").is_hidden()
    assert record["outside"] == [] and record["errors"] == [] and record["dialogs"] == []


def test_the_community_managed_box_widens_the_candidate_pool(state_page, tk_ctx) -> None:  # noqa: ANN001, F811
    from plugins.takeover.mapping import settings_for
    from plugins.takeover.service import rank_payload

    page, _record, _ctx = state_page
    with tk_ctx.session(readonly=True) as s:
        narrow = {c["compound_id"] for c in rank_payload(s, settings_for(tk_ctx))["candidates"]}
        wide = {c["compound_id"] for c in rank_payload(s, settings_for(tk_ctx), include_community_managed=True)["candidates"]}
    assert wide > narrow  # the demo has community-managed candidates
    ids = lambda: set(page.eval_on_selector_all("#tk-candidates tr.tk-cand", "rs => rs.map(r => r.dataset.id)"))  # noqa: E731
    assert ids() == narrow
    page.click("#tk-tab-select")
    with page.expect_navigation():
        page.check("#tk-p-include_community_managed")
    wait_for(page, "window.wsTakeover && wsTakeover.ready && document.body.dataset.wsLoading === '0'")
    assert "include_community_managed=1" in page.url and f"year={YEAR}" in page.url
    assert ids() == wide
    page.click("#tk-tab-select")
    assert page.is_checked("#tk-p-include_community_managed")
    with page.expect_navigation():
        page.uncheck("#tk-p-include_community_managed")
    wait_for(page, "window.wsTakeover && wsTakeover.ready && document.body.dataset.wsLoading === '0'")
    assert "include_community_managed" not in page.url and ids() == narrow


def test_street_filter_narrows_table_and_map_and_outlines_are_drawn(state_page) -> None:  # noqa: ANN001
    """Issue 19 pt 4: the street filter hides other streets' rows and dots; the district/street outlines load."""
    page, record, _ = state_page
    wait_for(page, "wsTakeover.outlinesLoaded === 2")
    assert page.evaluate("() => wsTakeover.outlines.streets.getLayers().length") >= 10
    total = page.locator("#tk-candidates tr.tk-cand").count()
    code = page.eval_on_selector_all("#tk-street-filter option", "os => os.map(o => o.value)")[1]
    page.select_option("#tk-street-filter", code)
    shown = page.eval_on_selector_all("#tk-candidates tr.tk-cand:not([hidden])", "rs => rs.map(r => r.dataset.street)")
    assert shown and set(shown) == {code} and len(shown) < total
    assert page.locator("#tk-filter-count").inner_text() == f"显示 {len(shown)} / {total} 个"
    on_map = page.evaluate("() => wsTakeover.layers.takeover_candidates.group.getLayers().length")
    assert 0 < on_map <= len(shown)
    page.select_option("#tk-street-filter", "")
    assert page.locator("#tk-candidates tr.tk-cand:not([hidden])").count() == total
    assert not record["outside"] and not record["errors"]
