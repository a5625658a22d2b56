"""A community officer and a street officer run a case from report to mediation in a real browser."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from geoplatform import models as m
from geoplatform.context import Context
from geoplatform.models.governance import Dissuasion, Mediation, Problem
from plugins.governance import hooks, service
from plugins.governance.settings import GovernanceSettings
from tests.conftest import BACKENDS, _fresh_url
from tests.e2e.browser import ARTIFACTS, logged_in, serve, wait_for
from tests.plugins import governance_fixtures as gf

pytestmark = pytest.mark.e2e
PASSWORD = "correct-horse-battery"
FMT = "%Y-%m-%dT%H:%M"


@pytest.fixture(scope="module", params=BACKENDS)
def gov_ctx(request, tmp_path_factory) -> Context:  # noqa: ANN001
    from geoplatform import auth as accounts
    from geoplatform import schema

    ctx = Context.create(_fresh_url(request.param, tmp_path_factory, request))
    schema.upgrade(ctx.engine)
    gf.load(ctx)
    with ctx.session() as s:
        accounts.add_user(s, "e2e_community", "community_officer", PASSWORD, community=gf.C11)
        accounts.add_user(s, "e2e_street", "street_officer", PASSWORD, gf.S1)
    return ctx


@pytest.fixture(scope="module")
def gov_server(gov_ctx, tmp_path_factory) -> Iterator[str]:  # noqa: ANN001
    with serve(gov_ctx, tmp_path_factory) as url:
        yield url


def _flash_ok(page) -> str:  # noqa: ANN001
    wait_for(page, "document.getElementById('gv-flash') && document.getElementById('gv-flash').dataset.kind !== ''")
    kind = page.get_attribute("#gv-flash", "data-kind")
    text = page.inner_text("#gv-flash")
    assert kind == "ok", text
    return text


def test_a_case_from_report_to_mediation(browser, gov_server, gov_ctx) -> None:  # noqa: ANN001
    now = hooks.local_now(GovernanceSettings())
    failed = now - dt.timedelta(hours=30)
    today = gov_ctx.today

    # -- the community officer records the problem, the failed dissuasion and opens a community mediation
    ctx, page, record = logged_in(browser, gov_server, "e2e_community", PASSWORD, "/ws/governance/community")
    assert "甲一社区" in page.inner_text(".gv-head")
    assert page.eval_on_selector_all("#gv-p-compound option", "os => os.map(o => o.value)") == ["G1", "G2"]
    page.select_option("#gv-p-compound", "G1")
    page.select_option("#gv-p-category", "fire_lane")
    page.select_option("#gv-p-source", "patrol")
    page.fill("#gv-p-rectify", (today + dt.timedelta(days=7)).isoformat())
    page.fill("#gv-p-note", "3号楼消防车通道被私家车长期占用")
    page.click("#gv-p-submit")
    _flash_ok(page)
    row = page.locator("#gv-problems tr.gv-problem").first
    pid = row.get_attribute("data-id")
    assert row.get_attribute("data-state") == "open" and "消防救援大队" in row.inner_text()

    page.select_option("#gv-d-problem", pid)
    page.fill("#gv-d-failed", failed.strftime(FMT))
    page.fill("#gv-d-street", (failed + dt.timedelta(hours=1)).strftime(FMT))
    page.fill("#gv-d-authority", (failed + dt.timedelta(hours=25)).strftime(FMT))  # 24:01 and later: late
    page.click("#gv-d-submit")
    _flash_ok(page)
    rep = page.locator(f'#gv-reports tr.gv-report[data-problem="{pid}"]')
    assert rep.get_attribute("data-late") == "authority owners_org"  # G1 has an owners' committee
    assert "迟报/漏报" in rep.inner_text()

    page.select_option("#gv-m-compound", "G1")
    page.fill("#gv-m-opened", (today - dt.timedelta(days=31)).isoformat())  # day 31: past due
    page.fill("#gv-m-subject", "占用消防通道引发的邻里纠纷")
    page.click("#gv-m-submit")
    _flash_ok(page)
    med = page.locator("#gv-mediations tr.gv-mediation").first
    mid = med.get_attribute("data-id")
    assert (med.get_attribute("data-stage"), med.get_attribute("data-overdue")) == ("community", "1")
    assert page.locator("#gv-mediations .gv-escalate").count() == 0  # escalation is the street's
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ws_governance_community.png"), full_page=True)
    assert record["outside"] == [] and record["errors"] == [] and record["dialogs"] == []
    ctx.close()

    # -- the street officer sees both alarms, follows the problem up to a refusal and escalates the mediation
    ctx, page, record = logged_in(browser, gov_server, "e2e_street", PASSWORD, "/ws/governance/street")
    alarm = page.locator(f'#gv-alarm24 tr.gv-report[data-problem="{pid}"]')
    assert alarm.get_attribute("data-late") == "authority owners_org"
    assert page.locator(f'#gv-alarm30 tr.gv-mediation[data-id="{mid}"]').get_attribute("data-overdue") == "1"

    page.locator(f'#gv-problems tr.gv-problem[data-id="{pid}"] .gv-to-rectifying').click()
    assert "整改中" in _flash_ok(page)
    page.locator(f'#gv-problems tr.gv-problem[data-id="{pid}"] .gv-to-refused').click()
    assert "拒不整改" in _flash_ok(page)
    assert page.locator(f'#gv-problems tr.gv-problem[data-id="{pid}"]').get_attribute("data-state") == "refused"

    told = page.locator(f'#gv-alarm24 tr.gv-report[data-problem="{pid}"]')
    told.locator("input[name=reported_owners_org_at]").fill((failed + dt.timedelta(hours=26)).strftime(FMT))
    told.locator(".gv-report-save").click()
    _flash_ok(page)

    page.locator(f'#gv-alarm30 tr.gv-mediation[data-id="{mid}"] .gv-escalate').click()
    assert "区矛盾纠纷调解中心" in _flash_ok(page)
    stages = page.eval_on_selector_all("#gv-mediations tr.gv-mediation",
                                       "rows => rows.map(r => [r.dataset.stage, r.dataset.open])")
    assert ["administrative", "1"] in stages and ["community", "0"] in stages
    assert page.locator(f'#gv-alarm30 tr.gv-mediation[data-id="{mid}"]').count() == 0
    codes = page.eval_on_selector_all("#gv-findings tr.gv-finding-row", "rows => rows.map(r => r.dataset.code)")
    assert "rectification_refused" in codes and "report_late" in codes and "mediation_overdue" not in codes
    page.screenshot(path=str(ARTIFACTS / "ws_governance_street.png"), full_page=True)
    assert record["outside"] == [] and record["errors"] == [] and record["dialogs"] == []
    ctx.close()

    # -- what is stored: every step, by whom
    with gov_ctx.session(readonly=True) as s:
        p = s.get(Problem, pid)
        assert (p.state, p.company, p.compound_id) == ("refused", "甲物业", "G1")
        d = s.scalars(select(Dissuasion).where(Dissuasion.problem_id == pid)).one()
        assert d.reported_owners_org_at == (failed + dt.timedelta(hours=26)).replace(second=0, microsecond=0)
        chain = s.scalars(select(Mediation).where(Mediation.compound_id == "G1").order_by(Mediation.opened_on)).all()
        assert [(x.stage, x.outcome) for x in chain] == [("community", "unresolved"), ("administrative", None)]
        assert chain[1].escalated_from == mid
        who = [(e.user_name, e.entity, e.action) for e in s.scalars(select(m.AuditEvent).where(
            m.AuditEvent.entity.in_(("problem", "dissuasion", "mediation"))).order_by(m.AuditEvent.id))]
        assert who == [("e2e_community", "problem", "create"), ("e2e_community", "dissuasion", "create"),
                       ("e2e_community", "mediation", "create"), ("e2e_street", "problem", "update"),
                       ("e2e_street", "problem", "update"), ("e2e_street", "dissuasion", "update"),
                       ("e2e_street", "mediation", "escalate")]
        found = service.check(s, today, now, GovernanceSettings())["findings"]
    late = [f for f in found if f["code"] == "report_late" and f["problem_id"] == pid]
    assert late and late[0]["late"] == ["authority", "owners_org"]  # the owners' organisation was told at 26 h
