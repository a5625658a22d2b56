"""The street officer's 业委会 tab in a real browser, tried as a new user would: from the board, open a compound
without an organisation, set up a preparatory group, record the election and the members (a forgotten vetting check
is refused and named on the page), file and register the committee — and see the street's rate move."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from geoplatform import models as m
from geoplatform.context import Context
from geoplatform.models.owners_org import OrgMember
from tests.conftest import BACKENDS, _fresh_url
from tests.e2e.browser import ARTIFACTS, logged_in, serve
from tests.plugins import owners_org_support as sup

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=BACKENDS)
def oo_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The small owners' organisation world (as of sup.TODAY) with its accounts, served under waitress."""
    from geoplatform import schema
    from geoplatform.db import make_engine

    url = _fresh_url(request.param, tmp_path_factory, request)
    eng = make_engine(url)
    schema.upgrade(eng)
    ctx = Context.create(url)
    ctx._engine = eng
    ctx.today = sup.TODAY
    sup.load(ctx)
    sup.add_users(ctx)
    with serve(ctx, tmp_path_factory) as base:
        yield SimpleNamespace(url=base, ctx=ctx)
    eng.dispose()


def kpi(page) -> tuple[int, str]:  # noqa: ANN001
    return int(page.get_attribute("#oo-kpi", "data-counting")), page.inner_text("#oo-rate")


def test_officer_takes_a_compound_from_preparatory_group_to_active_committee(browser, oo_server) -> None:  # noqa: ANN001
    ctx, page, record = logged_in(browser, oo_server.url, "oo_officer", sup.PASSWORD, "/ws/owners-org/")
    try:
        assert "甲街道" in page.inner_text("#oo-street")
        counting, rate = kpi(page)
        assert counting == sup.HAND[sup.A]["counting"]
        # the compound without an organisation sits in the 未组建 column; open it
        page.click('#oo-col-none .oo-card[data-compound="a-none"] a.oo-open')
        page.wait_for_url("**/ws/owners-org/compound/a-none")
        assert page.get_attribute("#oo-compound", "data-state") == "none"

        page.select_option('#oo-start select[name="kind"]', "owners_committee")
        page.fill('#oo-start input[name="prep_group_on"]', "2026-01-05")
        page.click('#oo-start button[type="submit"]')
        page.wait_for_selector('#oo-flash [data-kind="ok"]')
        assert page.get_attribute("#oo-compound", "data-state") == "preparing"
        assert "筹备组" in page.inner_text("#oo-status")

        org = "section.oo-current"
        page.fill(f'{org} .oo-org-form input[name="seats"]', "5")
        page.fill(f'{org} .oo-org-form input[name="elected_on"]', "2026-02-20")
        page.click(f"{org} .oo-save-org")
        page.wait_for_selector('#oo-flash [data-kind="ok"]')
        assert page.get_attribute("#oo-compound", "data-state") == "elected"

        def add_member(name: str, role: str, party: bool, discipline: bool, votes: int) -> None:
            form = f"{org} .oo-member-form"
            if not page.is_visible(form):
                page.click(f"{org} details summary")
            page.fill(f'{form} input[name="person"]', name)
            page.select_option(f'{form} select[name="role"]', role)
            page.fill(f'{form} input[name="votes"]', str(votes))
            page.fill(f'{form} input[name="start"]', "2026-03-01")
            for box in ("check_police", "check_credit", "check_community"):
                page.check(f'{form} input[name="{box}"]')
            if party:
                page.check(f'{form} input[name="party_member"]')
            if discipline:
                page.check(f'{form} input[name="check_discipline"]')
            page.click(f'{form} button[type="submit"]')
            page.wait_for_selector("#oo-flash [data-kind]")

        # a first try forgets the 纪工委 check of a party member: refused, the page names what is missing
        add_member("周委员", "chair", party=True, discipline=False, votes=320)
        assert page.get_attribute("#oo-flash [data-kind]", "data-kind") == "error"
        assert "纪工委审查" in page.inner_text("#oo-flash") and "周委员" in page.inner_text("#oo-flash")
        with oo_server.ctx.session(readonly=True) as s:
            assert not s.scalars(select(OrgMember).where(OrgMember.org_id == "a-none-org1")).all()  # nothing written
        for i, (name, role) in enumerate((("周委员", "chair"), ("吴委员", "vice_chair"), ("郑委员", "member"),
                                          ("王委员", "member"), ("冯委员", "member"))):
            add_member(name, role, party=i < 3, discipline=i < 3, votes=320 - 10 * i)
            assert page.get_attribute("#oo-flash [data-kind]", "data-kind") == "ok"
        assert page.locator(f"{org} .oo-members tbody tr").count() == 5

        page.fill(f'{org} .oo-org-form input[name="filed_on"]', "2026-03-01")
        page.fill(f'{org} .oo-org-form input[name="term_start"]', "2026-03-01")
        page.fill(f'{org} .oo-org-form input[name="term_end"]', "2031-02-28")
        page.fill(f'{org} .oo-org-form input[name="registered_on"]', "2026-03-05")
        page.fill(f'{org} .oo-org-form input[name="party_org_on"]', "2026-03-10")
        page.click(f"{org} .oo-save-org")
        page.wait_for_selector('#oo-flash [data-kind="ok"]')
        assert page.get_attribute("#oo-compound", "data-state") == "active"
        assert page.get_attribute("#oo-compound", "data-counts") == "1"
        assert "运行中" in page.inner_text("#oo-status")

        page.click("#oo-back")
        page.wait_for_url("**/ws/owners-org/")
        after, new_rate = kpi(page)
        assert after == counting + 1 and new_rate != rate  # the KPI moved
        assert page.locator('#oo-col-active .oo-card[data-compound="a-none"]').count() == 1
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ws_owners_org_board.png"), full_page=True)
        assert record["outside"] == [] and record["errors"] == []
    finally:
        ctx.close()
    with oo_server.ctx.session(readonly=True) as s:
        assert s.get(m.Compound, "a-none").owners_org == "owners_committee"  # kept in step for old readers
        events = Counter(s.execute(select(m.AuditEvent.entity, m.AuditEvent.action).where(
            m.AuditEvent.user_name == "oo_officer", m.AuditEvent.outcome == "ok", m.AuditEvent.entity != "user")).all())
    # every change audited: the organisation, its five members, two saves of its dates, and compound.owners_org
    # kept in step twice (none → preparing → owners_committee), as the bureau's trend reads it
    assert events == {("owners_org", "create"): 1, ("org_member", "create"): 5, ("owners_org", "update"): 2,
                      ("compound", "update"): 2}
