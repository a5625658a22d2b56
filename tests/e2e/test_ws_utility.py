"""The water utility's job in a real browser: log in, filter overdue rows, move one to rectifying with a note and
a ledger item; the database records the event and the map recolours the compound."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from geoplatform import models as m
from geoplatform.models.handover import HandoverAcceptance
from tests.e2e.ws_role_helpers import ARTIFACTS, logged_in, role_server, wait_for  # noqa: F401
from tests.web.ws_role_fixtures import role_ctx, role_demo  # noqa: F401

pytestmark = pytest.mark.e2e
READY = "window.wsUtility && wsUtility.ready && wsUtility.loads >= 1 && document.body.dataset.wsLoading === '0'"


def test_utility_moves_an_overdue_row_along(browser, role_server, role_demo, role_ctx) -> None:  # noqa: ANN001, F811
    from plugins.handover import rules, service
    from plugins.handover.pages import MAX_ROWS
    from plugins.handover.settings import settings_for

    ctx, page, record = logged_in(browser, role_server, "wr_water", role_demo.password, "/ws/utility")
    try:
        wait_for(page, READY)
        assert page.evaluate("wsUtility.count") > 100  # the water layer: every compound of the district
        page.check("#ws-filter-overdue")
        page.click("#ws-filter-apply")
        page.wait_for_url("**overdue=1**")
        wait_for(page, READY)
        flags = page.eval_on_selector_all("#ws-backlog tr.ws-row", "rows => rows.map(r => r.dataset.overdue)")
        assert flags and set(flags) == {"1"}
        table_ids = page.eval_on_selector_all("#ws-backlog tr.ws-row", "rows => rows.map(r => r.dataset.compound)")
        assert len(table_ids) < MAX_ROWS  # the whole filtered backlog is in the table, so the map must match it
        assert sorted(page.evaluate("wsUtility.ids")) == sorted(table_ids)  # the map follows the filter
        cid = page.locator('#ws-backlog tr.ws-row[data-state="acceptance"]').first.get_attribute("data-compound")
        row = page.locator(f'#ws-backlog tr.ws-row[data-compound="{cid}"]')
        row.locator(".ws-handle").click()
        page.wait_for_selector("#ws-hform")
        assert "null" not in page.inner_text("#ws-hform") and "undefined" not in page.inner_text("#ws-hform")
        options = page.eval_on_selector_all("#ws-next-state option", "os => os.map(o => o.value)")
        assert options[:2] == ["agreement", "rectifying"]  # RULES §2: pass → agreement, fail → rectifying
        page.select_option("#ws-next-state", "rectifying")
        assert page.is_visible("#ws-acceptance") and page.is_visible("#ws-rectifying-hint")
        page.fill("#ws-participants", "区住建局、市政供水公司")
        page.fill("#ws-note", "验收未通过：管网漏损")
        page.fill("#ws-deadline", "2027-06-30")
        page.fill("#ws-item-lines .ws-item-content", "更换供水主管120米")
        page.fill("#ws-item-lines .ws-item-unit", "市政供水公司")
        page.fill("#ws-item-lines .ws-item-deadline", "2027-05-31")
        loads = page.evaluate("wsUtility.loads")
        page.click("#ws-save")
        wait_for(page, "document.getElementById('ws-flash').dataset.kind === 'ok'")
        wait_for(page, f"wsUtility.loads > {loads} && document.body.dataset.wsLoading === '0'")
        assert row.get_attribute("data-state") == "rectifying"
        assert row.locator(".ws-state-cell").inner_text().strip() == "整改中"
        with role_ctx.session(readonly=True) as s:
            h = s.scalars(select(m.Handover).where(m.Handover.compound_id == cid, m.Handover.facility == "water")).one()
            assert (h.state, h.deadline) == ("rectifying", dt.date(2027, 6, 30))
            h_id = h.id
            since = h.since.date().isoformat()
            ev = s.execute(select(m.HandoverEvent.from_state, m.HandoverEvent.to_state, m.HandoverEvent.note,
                                  m.HandoverEvent.user_name).where(m.HandoverEvent.handover_id == h.id)
                           .order_by(m.HandoverEvent.id.desc())).first()
            assert tuple(ev) == ("acceptance", "rectifying", "验收未通过：管网漏损", "wr_water")
            item = s.execute(select(m.LedgerItem.content, m.LedgerItem.responsible_unit, m.LedgerItem.deadline)
                             .where(m.LedgerItem.handover_id == h.id).order_by(m.LedgerItem.id.desc())).first()
            assert tuple(item) == ("更换供水主管120米", "市政供水公司", dt.date(2027, 5, 31))
            acc = s.scalars(select(HandoverAcceptance).where(HandoverAcceptance.handover_id == h.id)
                            .order_by(HandoverAcceptance.id.desc())).first()
            assert (acc.result, acc.participants, acc.held_on) == ("fail", "区住建局、市政供水公司", role_ctx.today)
            now = service.get_handover(s, cid, "water", today=role_ctx.today, settings=settings_for(role_ctx))
        st = rules.row_status("water", now["state"], now["deadline"], now["items"], role_ctx.today,
                              settings_for(role_ctx))
        assert page.evaluate(f"wsUtility.colors[{cid!r}]") == settings_for(role_ctx).colors[st.color_class]
        # the saved row shows what is stored now, without a reload (issue 19 pt 3)
        assert row.locator(".ws-since-cell").inner_text().strip() == since
        assert row.locator(".ws-deadline-cell").inner_text().strip() == "2027-06-30"
        assert row.get_attribute("data-overdue") == ("1" if st.overdue else "0")
        assert row.locator(".ws-overdue-cell").inner_text().startswith("是" if st.overdue else "否")
        # an illegal jump shows the allowed next states
        row.locator(".ws-handle").click()
        page.wait_for_selector("#ws-hform")
        page.evaluate("""() => { const s = document.getElementById('ws-next-state');
            const o = document.createElement('option'); o.value = 'taken_over'; o.textContent = 'x'; s.appendChild(o); }""")
        page.select_option("#ws-next-state", "taken_over")
        page.click("#ws-save")
        page.wait_for_selector("#ws-allowed")
        assert "组织验收" in page.inner_text("#ws-allowed")  # rectifying → acceptance only
        page.click("#ws-hform .btn-link")
        # mark the new ledger item done
        row.locator(".ws-handle").click()
        page.wait_for_selector("#ws-hform")
        new_item = page.locator("#ws-existing-items li", has_text="更换供水主管120米")
        new_item.locator(".ws-item-done").click()
        wait_for(page, "document.getElementById('ws-flash').textContent.indexOf('整改项已完成') >= 0")
        with role_ctx.session(readonly=True) as s:
            done = s.scalar(select(m.LedgerItem.done_date).where(m.LedgerItem.handover_id == h_id,
                                                                 m.LedgerItem.content == "更换供水主管120米"))
        assert done == role_ctx.today
        # someone else changes the row while the form is open: a clear reload message, then it works
        page.click("#ws-hform .btn-link")
        row.locator(".ws-handle").click()
        page.wait_for_selector("#ws-hform")
        from geoplatform.principal import Principal

        with role_ctx.session() as s:
            service.set_state(s, Principal("wr_admin", "admin"), cid, "water", "rectifying", note="另一用户补充说明")
        page.select_option("#ws-next-state", "acceptance")
        page.click("#ws-save")
        page.wait_for_selector("#ws-conflict")
        assert "重新加载" in page.inner_text("#ws-conflict")
        page.click("#ws-reload")
        page.wait_for_selector("#ws-hform")
        page.select_option("#ws-next-state", "acceptance")
        page.fill("#ws-note", "整改完成，申请复验")
        page.click("#ws-save")
        wait_for(page, "document.getElementById('ws-flash').textContent.indexOf('组织验收') >= 0")
        assert row.get_attribute("data-state") == "acceptance"
        # RULES §2 (issue 24): a surveyed row takes ledger items, and the district may organise its acceptance
        page.goto(role_server + "/ws/utility?state=not_handed_over")
        wait_for(page, READY)
        nrow = page.locator("#ws-backlog tr.ws-row").first
        ncid = nrow.get_attribute("data-compound")
        nrow.locator(".ws-handle").click()
        page.wait_for_selector("#ws-hform")
        page.select_option("#ws-next-state", "not_handed_over")  # stay: add the survey's finding
        assert page.is_hidden("#ws-acceptance")  # shown only for a move that enters or ends an acceptance
        page.fill("#ws-item-lines .ws-item-content", "摸排：缺竣工图纸")
        page.fill("#ws-item-lines .ws-item-deadline", "2027-04-30")
        page.click("#ws-save")
        wait_for(page, "document.getElementById('ws-flash').dataset.kind === 'ok' && !document.getElementById('ws-hform')")
        assert nrow.locator(".ws-items-cell").inner_text().strip() != "0"
        nrow.locator(".ws-handle").click()
        page.wait_for_selector("#ws-hform")
        opt = page.locator('#ws-next-state option[value="acceptance"]')
        assert opt.get_attribute("data-organised-by") == "district_government" and "区政府组织" in opt.inner_text()
        page.select_option("#ws-next-state", "acceptance")
        assert page.is_visible("#ws-acceptance") and page.input_value("#ws-organised-by") == "district_government"
        page.fill("#ws-participants", "区政府、区住建局、市政供水公司")
        page.click("#ws-save")
        wait_for(page, "!document.getElementById('ws-hform')")  # the form closes once saved
        assert nrow.get_attribute("data-state") == "acceptance"
        with role_ctx.session(readonly=True) as s:
            h = s.scalars(select(m.Handover).where(m.Handover.compound_id == ncid, m.Handover.facility == "water")).one()
            acc = s.scalars(select(HandoverAcceptance).where(HandoverAcceptance.handover_id == h.id)).one()
            assert (acc.organised_by, acc.participants, acc.result) == ("district_government", "区政府、区住建局、市政供水公司",
                                                                        None)
            assert "摸排：缺竣工图纸" in s.scalars(select(m.LedgerItem.content).where(m.LedgerItem.handover_id == h.id)).all()
        nrow.locator(".ws-show").click()
        page.wait_for_timeout(400)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ws_utility.png"))
        assert not record["errors"] and not record["outside"]
    finally:
        ctx.close()


def test_bulk_update_with_one_confirmation(browser, role_server, role_demo, role_ctx) -> None:  # noqa: ANN001, F811
    """Issue 19 pt 3: tick rows, pick the next state, confirm once; the page reloads with the message kept until read."""
    ctx, page, record = logged_in(browser, role_server, "wr_gas", role_demo.password, "/ws/utility?state=unknown")
    try:
        wait_for(page, READY)
        rows = page.locator('#ws-backlog tr.ws-row[data-state="unknown"]')
        ids = [rows.nth(i).get_attribute("data-compound") for i in range(2)]
        for i in range(2):
            rows.nth(i).locator(".ws-pick").check()
        assert page.inner_text("#ws-bulk-count") == "已选 2 个小区"
        page.select_option("#ws-bulk-state", "not_handed_over")
        page.click("#ws-bulk-apply")
        assert page.inner_text("#ws-bulk-question") == "确认将已选的 2 个小区改为“未移交”？"
        with page.expect_navigation():  # saved: the page reloads
            page.click("#ws-bulk-yes")
        wait_for(page, "document.getElementById('ws-flash') && document.getElementById('ws-flash').dataset.pending === '1'")
        assert "已办理 2 个小区" in page.inner_text("#ws-flash")
        with role_ctx.session(readonly=True) as s:
            states = dict(s.execute(select(m.Handover.compound_id, m.Handover.state).where(
                m.Handover.compound_id.in_(ids), m.Handover.facility == "gas")).all())
        assert states == dict.fromkeys(ids, "not_handed_over")
        assert not record["outside"] and not record["errors"] and not record["dialogs"]
    finally:
        ctx.close()
