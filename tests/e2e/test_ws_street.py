"""The street officer's job in a real browser: log in, decide bundling proposals, edit a compound through a conflict."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from geoplatform import models as m
from tests.e2e.browser import ARTIFACTS, logged_in, serve, wait_for
from tests.web.ws_fixtures import WsDemo, open_proposals, ws_ctx, ws_demo  # noqa: F401

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def ws_server(ws_demo: WsDemo, ws_ctx, tmp_path_factory) -> Iterator[str]:  # noqa: ANN001, F811
    """The app on the workspace demo under waitress (one per backend for this module)."""
    with serve(ws_ctx, tmp_path_factory) as url:
        yield url


@pytest.fixture
def officer_page(browser, ws_server, ws_demo):  # noqa: ANN001, ANN201, F811
    """A fresh browser context logged in as the street officer through the login form, on /ws/street."""
    ctx, page, record = logged_in(browser, ws_server, ws_demo.officer, ws_demo.password, "/ws/street",
                                  viewport=(1500, 920), accept_downloads=False)
    wait_for(page, "window.wsStreet && wsStreet.ready && wsStreet.loads >= wsStreet.config.layers.length"
                   " && document.body.dataset.wsLoading === '0'")
    yield page, record
    ctx.close()


def _decide(page, pid: str, verb: str, text: str) -> None:  # noqa: ANN001
    row = page.locator(f'#ws-proposals tr.ws-proposal[data-id="{pid}"]')
    row.locator(f".ws-{verb}").click()
    key = "consent_note" if verb == "accept" else "reason"
    page.click("#ws-confirm")  # empty: refused in the page, nothing sent
    if verb == "accept":  # the owners' vote (民法典 §278): a failed one is refused by the server, naming the threshold
        assert "is-invalid" in page.get_attribute("#ws-vote_area_total", "class")
        for side, counts in (("vote_area", (10000, 6000, 4000)), ("vote_owners", (100, 80, 60))):
            for part, n in zip(("total", "participating", "yes"), counts, strict=True):
                page.fill(f"#ws-{side}_{part}", str(n))
        page.click("#ws-confirm")
        wait_for(page, "document.querySelector('#ws-vote-feedback').textContent.includes('2/3')")
        assert "参与表决业主的专有部分面积" in page.inner_text("#ws-vote-feedback")
        page.fill("#ws-vote_area_participating", "8000")
        page.fill("#ws-vote_area_yes", "6000")
    else:
        assert "is-invalid" in page.get_attribute(f"#ws-{key}", "class")
    page.fill(f"#ws-{key}", text)
    page.click("#ws-confirm")
    wait_for(page, f"document.querySelector('#ws-proposals tr[data-id=\"{pid}\"]').dataset.status === "
                   f"'{'accepted' if verb == 'accept' else 'rejected'}'")
    if verb == "accept":
        assert "8000" in page.inner_text(f'#ws-proposals tr[data-id="{pid}"] [data-role="vote"]')


def test_officer_decides_proposals_of_their_street(officer_page, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    page, record = officer_page
    ids = page.eval_on_selector_all("#ws-proposals tr.ws-proposal", "rows => rows.map(r => r.dataset.id)")
    assert ids and all(i.startswith(ws_demo.street + "-") for i in ids)
    assert ws_demo.street_name in page.inner_text(".ws-head")
    open_ids = {p["id"] for p in open_proposals(ws_ctx, ws_demo.street)}
    shown_open = page.eval_on_selector_all(
        '#ws-proposals tr.ws-proposal[data-status="proposed"]', "rows => rows.map(r => r.dataset.id)")
    assert open_ids and open_ids <= set(shown_open)  # (a stored proposal the data outgrew is shown flagged too)

    first = open_proposals(ws_ctx, ws_demo.street, "building")[0]
    pid = first["id"]
    assert page.evaluate(f"() => wsStreet.hasProposal('{pid}')")
    note = "2025年6月业主大会表决：同意户数75%，同意面积71%"
    _decide(page, pid, "accept", note)
    assert note in page.inner_text(f'#ws-proposals tr[data-id="{pid}"]')
    assert page.locator(f'#ws-proposals tr[data-id="{pid}"] .ws-accept').count() == 0
    assert page.locator("#ws-flash").get_attribute("data-kind") == "ok"
    with ws_ctx.session(readonly=True) as s:
        assert {s.get(m.Building, b).compound_id for b in first["orphan_ids"]} == {first["host_compound_id"]}
        events = s.scalars(select(m.AuditEvent).where(m.AuditEvent.entity_id == pid,
                                                      m.AuditEvent.action == "accept")).all()
        assert [(e.user_name, e.detail) for e in events] == [(ws_demo.officer, note)]
    wait_for(page, f"!wsStreet.hasProposal('{pid}') && document.body.dataset.wsLoading === '0'")

    second = next(p for p in open_proposals(ws_ctx, ws_demo.street) if p["id"] != pid)
    _decide(page, second["id"], "reject", "两小区间有围墙，业主大会未通过")
    with ws_ctx.session(readonly=True) as s:
        row = s.get(m.BundleProposal, second["id"])
        assert row.status == "rejected" and row.reason == "两小区间有围墙，业主大会未通过"
    page.click(f'#ws-proposals tr[data-id="{second["id"]}"] .ws-show')
    assert page.locator("tr.ws-selected").count() == 1

    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "ws_street.png"))
    assert record["outside"] == [] and record["errors"] == [] and record["dialogs"] == []


@pytest.mark.both_backends  # writes through the pages: PostGIS as well (tests/conftest.py)
def test_officer_edits_a_compound_through_a_stale_version(officer_page, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    page, record = officer_page
    with ws_ctx.session(readonly=True) as s:
        cid = s.scalar(select(m.Compound.id).where(m.Compound.street_code == ws_demo.street)
                       .order_by(m.Compound.id.desc()).limit(1))
        households = s.get(m.Compound, cid).households or 0
    page.click("#ws-tab-compounds")
    row = page.locator(f'#ws-compounds tr.ws-compound[data-id="{cid}"]')
    row.locator(".ws-edit-btn").click()
    page.wait_for_selector("#ws-edit-form")
    values = page.eval_on_selector_all("#ws-edit-form input, #ws-edit-form textarea", "es => es.map(e => e.value)")
    assert "null" not in values and "undefined" not in values  # an empty field is empty (issue 19 pt 2)
    assert not {"null", "undefined"} & set(page.inner_text("#ws-edit-form").split())
    page.fill("#ws-f-households", "-5")
    page.click("#ws-save")
    page.wait_for_selector("#ws-f-households.is-invalid")
    assert page.inner_text("#ws-err-households").startswith("户数：")  # the field's label, in Chinese

    with ws_ctx.session() as s:  # someone else changes the compound meanwhile
        s.get(m.Compound, cid).address = "包头市昆都仑区（他人修改）"
    page.fill("#ws-f-households", str(households + 11))
    page.click("#ws-save")
    page.wait_for_selector("#ws-conflict")
    assert "其他人修改" in page.inner_text("#ws-conflict")
    with ws_ctx.session(readonly=True) as s:
        assert s.get(m.Compound, cid).households == households  # the stale write changed nothing

    page.click("#ws-reload")
    wait_for(page, "document.getElementById('ws-f-address') && "
                   "document.getElementById('ws-f-address').value.indexOf('他人修改') >= 0")
    page.fill("#ws-f-households", str(households + 11))
    page.click("#ws-save")
    wait_for(page, "document.getElementById('ws-flash').dataset.kind === 'ok' && !document.getElementById('ws-edit-form')")
    assert row.locator('[data-field="households"]').inner_text() == str(households + 11)
    with ws_ctx.session(readonly=True) as s:
        c = s.get(m.Compound, cid)
        assert c.households == households + 11 and "他人修改" in c.address
    assert record["errors"] == []


def test_ledger_tab_and_compound_page(officer_page, ws_server, ws_ctx) -> None:  # noqa: ANN001, F811
    page, record = officer_page
    page.click("#ws-tab-ledger")
    total = page.locator("#ws-ledger tr.ws-ledger-row").count()
    overdue = page.locator("#ws-ledger tr.ws-overdue").count()
    assert total > 0
    page.check("#ws-only-overdue")
    visible = page.eval_on_selector_all("#ws-ledger tr.ws-ledger-row", "rows => rows.filter(r => !r.hidden).length")
    assert visible == overdue
    href = page.get_attribute("#ws-ledger-export", "href")
    assert "handover-ledger" in href and "format=xlsx" in href
    assert "handover-acceptances" in page.get_attribute("#ws-acceptances-export", "href")
    # RULES §2 (issue 24): the survey's findings go into the ledger from the street's own tab, in the row's state
    page.uncheck("#ws-only-overdue")
    row = page.locator('#ws-ledger tr.ws-ledger-row[data-state="not_handed_over"]').first
    cid, facility = row.get_attribute("data-compound"), row.get_attribute("data-facility")
    row.locator(".ws-ledger-add-btn").click()
    page.fill("#ws-ledger .ws-li-content", "摸排：补齐竣工资料")
    page.fill("#ws-ledger .ws-li-unit", "产权单位")
    page.fill("#ws-ledger .ws-li-deadline", "2027-03-31")
    with page.expect_navigation():  # saved: the page reloads with the message kept for it
        page.click("#ws-ledger .ws-li-save")
    wait_for(page, "document.getElementById('ws-flash') && document.getElementById('ws-flash').dataset.pending === '1'")
    with ws_ctx.session(readonly=True) as s:
        h = s.scalars(select(m.Handover).where(m.Handover.compound_id == cid, m.Handover.facility == facility)).one()
        items = s.execute(select(m.LedgerItem.content, m.LedgerItem.responsible_unit, m.LedgerItem.deadline)
                          .where(m.LedgerItem.handover_id == h.id)).all()
        assert h.state == "not_handed_over" and ("摸排：补齐竣工资料", "产权单位", dt.date(2027, 3, 31)) in items
    wait_for(page, "window.wsStreet && wsStreet.ready")
    page.click("#ws-tab-ledger")
    page.locator("#ws-ledger tr.ws-ledger-row a").first.click()
    page.wait_for_url("**/compounds/**")
    wait_for(page, "window.wcCompound && wcCompound.ready && wcCompound.layer !== null")
    assert page.locator("#wc-handover").count() == 1 and page.locator("#wc-history").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ws_compound.png"), full_page=True)
    assert record["outside"] == [] and record["errors"] == []


def test_map_popup_links_to_the_compound_page(officer_page, ws_server) -> None:  # noqa: ANN001
    from tests.support.webdemo import XSS_ID, XSS_NAME

    page, record = officer_page
    page.goto(ws_server + "/?basemap=none")
    wait_for(page, "window.gp && gp.config && document.body.dataset.gpLoading === '0'")
    page.evaluate(f"() => gp.zoomToCompound({{id: '{XSS_ID}', bbox: [109.8257, 40.6329, 109.8273, 40.6341]}})")
    link = page.locator(".leaflet-popup-content a.gp-detail-link")
    link.wait_for()
    assert link.get_attribute("href") == f"/compounds/{XSS_ID}"
    link.click()
    page.wait_for_url(f"**/compounds/{XSS_ID}")
    assert page.inner_text("#wc-name") == XSS_NAME
    assert record["dialogs"] == []


def test_orphan_highlight_and_a_replan_message_that_stays(officer_page, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    """Issue 19 pt 6: 定位 on a building proposal rings its buildings on the map; the re-plan message survives the
    reload and stays until closed."""
    page, record = officer_page
    pid = open_proposals(ws_ctx, ws_demo.street, "building")[-1]["id"]
    row = page.locator(f'#ws-proposals tr.ws-proposal[data-id="{pid}"]')
    assert row.locator(".ws-orphan-addresses li").count() >= 1
    row.locator(".ws-show").click()
    n = len(open_proposals(ws_ctx, ws_demo.street, "building")[-1]["orphan_ids"])
    assert page.evaluate("() => wsStreet.orphanMarks") == n
    assert page.evaluate("""() => { const b = wsStreet.map.getBounds();  // the map shows every ringed building
        return JSON.parse(document.querySelector('tr.ws-selected').dataset.points).every(p => b.contains(p)); }""")
    with page.expect_navigation():
        page.click("#ws-replan")
    wait_for(page, "document.getElementById('ws-flash') && document.getElementById('ws-flash').dataset.pending === '1'")
    assert not page.locator("#ws-flash").is_hidden() and "规划" in page.inner_text("#ws-flash")
    page.click("#ws-flash .ws-flash-close")
    assert page.locator("#ws-flash").is_hidden()
    assert not record["outside"] and not record["errors"]


def test_admin_revert_needs_a_reason_and_a_confirmation(officer_page, browser, ws_server, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    """Issue 19 pt 6: the admin's 撤销打包 opens a confirmation with a required reason; the reason is audited."""
    page, _ = officer_page
    pid = open_proposals(ws_ctx, ws_demo.street, "building")[0]["id"]
    _decide(page, pid, "accept", "2025年7月业主大会表决通过")
    ctx, admin, record = logged_in(browser, ws_server, "ws_admin", ws_demo.password, f"/ws/street?street={ws_demo.street}",
                                   viewport=(1500, 920), accept_downloads=False)
    try:
        wait_for(admin, "window.wsStreet && wsStreet.ready && document.body.dataset.wsLoading === '0'")
        row = admin.locator(f'#ws-proposals tr.ws-proposal[data-id="{pid}"]')
        row.locator(".ws-revert").click()  # one click only opens the confirmation
        assert "确定撤销" in admin.inner_text("#ws-revert-question")
        assert row.get_attribute("data-status") == "accepted"
        admin.click("#ws-confirm")  # no reason: refused in the page, nothing sent
        assert "is-invalid" in admin.get_attribute("#ws-note", "class")
        admin.fill("#ws-note", "表决材料不全，需重新表决")
        admin.click("#ws-confirm")
        wait_for(admin, f"document.querySelector('#ws-proposals tr[data-id=\"{pid}\"]').dataset.status === 'reverted'")
        assert row.locator(".ws-revert").count() == 0
        with ws_ctx.session(readonly=True) as s:
            ev = s.execute(select(m.AuditEvent.user_name, m.AuditEvent.detail).where(
                m.AuditEvent.entity_id == pid, m.AuditEvent.action == "revert")).one()
        assert tuple(ev) == ("ws_admin", "表决材料不全，需重新表决")
        assert not record["dialogs"] and not record["errors"]
    finally:
        ctx.close()
