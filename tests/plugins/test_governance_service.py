"""The governance service on both databases: writes checked for jurisdiction and audited, the clocks as stored."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select

from geoplatform import models as m
from geoplatform.errors import Conflict, Forbidden, NotFound, UserInputError
from geoplatform.exchange import OrgStatus
from geoplatform.hookspecs import hookimpl
from geoplatform.models.governance import Mediation, Problem
from plugins.governance import hooks, service
from plugins.governance.settings import GovernanceSettings
from tests.plugins import governance_fixtures as gf

S = GovernanceSettings()
TODAY = dt.date(2025, 6, 1)
NOW = dt.datetime(2025, 6, 1, 12, 0)


@pytest.fixture
def gctx(ctx):  # noqa: ANN001, ANN201
    gf.load(ctx)
    return ctx


def _problem(ctx, who=gf.CO11, compound="G1", **kw):  # noqa: ANN001, ANN003, ANN202
    data = {"compound_id": compound, "category": "fire_lane", "source": "patrol", "found_on": dt.date(2025, 5, 1),
            "rectify_by": dt.date(2025, 5, 20), **kw}
    with ctx.session() as s:
        return service.create_problem(s, who, ctx.allowed, data, TODAY)


def test_problem_lifecycle_enforced_and_audited(gctx) -> None:  # noqa: ANN001
    p = _problem(gctx)
    assert (p["state"], p["company"], p["street_code"], p["community_code"]) == ("open", "甲物业", gf.S1, gf.C11)
    assert p["overdue"] is True and p["allowed_next"] == ["rectifying"]
    with gctx.session() as s, pytest.raises(Conflict) as exc:
        service.set_problem_state(s, gf.SO1, gctx.allowed, p["id"], "rectified", TODAY)
    assert exc.value.message.key == "governance.error.transition"
    with gctx.session() as s:
        out = service.set_problem_state(s, gf.SO1, gctx.allowed, p["id"], "rectifying", TODAY,
                                        expected_version=p["version"])
    with gctx.session() as s, pytest.raises(Conflict):  # a stale version
        service.set_problem_state(s, gf.SO1, gctx.allowed, p["id"], "refused", TODAY, expected_version=p["version"])
    with gctx.session() as s:
        out = service.set_problem_state(s, gf.SO1, gctx.allowed, p["id"], "refused", TODAY,
                                        on=dt.date(2025, 5, 25), expected_version=out["version"], note="拒绝清理")
    assert (out["state"], out["state_on"], out["allowed_next"]) == ("refused", dt.date(2025, 5, 25), [])
    with gctx.session(readonly=True) as s:
        events = s.scalars(select(m.AuditEvent).where(m.AuditEvent.entity == "problem")
                           .order_by(m.AuditEvent.id)).all()
        assert [(e.user_name, e.action) for e in events] == [("gv_co11", "create"), ("gv_so1", "update"),
                                                             ("gv_so1", "update")]
        assert events[-1].after["state"] == "refused" and events[-1].street_code == gf.S1
        assert service.credit_events(s, TODAY, S)[0].kind == "rectification_refused"


@pytest.mark.parametrize(("who", "compound", "allowed"), [
    (gf.CO11, "G1", True), (gf.CO11, "G3", False),  # another community of the same street
    (gf.CO12, "G3", True), (gf.SO1, "G3", True), (gf.SO1, "G4", False), (gf.SO2, "G4", True),
    (gf.BUREAU, "G4", True), (gf.VIEWER, "G1", False),
])
def test_recording_is_limited_to_the_own_community_or_street(gctx, who, compound, allowed) -> None:  # noqa: ANN001
    if allowed:
        assert _problem(gctx, who, compound)["compound_id"] == compound
    else:
        with pytest.raises(Forbidden):
            _problem(gctx, who, compound)
        with gctx.session(readonly=True) as s:
            assert s.scalar(select(Problem.id)) is None


def test_a_community_officer_records_but_does_not_follow_up_or_escalate(gctx) -> None:  # noqa: ANN001
    p = _problem(gctx)
    with gctx.session() as s, pytest.raises(Forbidden):
        service.set_problem_state(s, gf.CO11, gctx.allowed, p["id"], "rectifying", TODAY)
    with gctx.session() as s:
        x = service.open_mediation(s, gf.CO11, gctx.allowed, "G1", dt.date(2025, 4, 1), TODAY, S, "车位纠纷")
    assert (x["stage"], x["due"], x["overdue"]) == ("community", dt.date(2025, 5, 1), True)
    with gctx.session() as s, pytest.raises(Forbidden):
        service.escalate_mediation(s, gf.CO11, gctx.allowed, x["id"], None, TODAY, S)
    with gctx.session() as s, pytest.raises(Forbidden):  # the street's stage is not the community's to close
        service.escalate_mediation(s, gf.SO2, gctx.allowed, x["id"], None, TODAY, S)
    with gctx.session() as s:
        admin = service.escalate_mediation(s, gf.SO1, gctx.allowed, x["id"], dt.date(2025, 5, 2), TODAY, S,
                                           expected_version=x["version"])
    assert (admin["stage"], admin["escalated_from"], admin["due"]) == ("administrative", x["id"], dt.date(2025, 6, 1))
    with gctx.session() as s, pytest.raises(Forbidden):
        service.close_mediation(s, gf.CO11, gctx.allowed, admin["id"], "resolved", None, TODAY, S)
    with gctx.session() as s, pytest.raises(Conflict):  # escalated once already
        service.escalate_mediation(s, gf.SO1, gctx.allowed, x["id"], None, TODAY, S)
    with gctx.session() as s:
        first = s.get(Mediation, x["id"])
        assert (first.closed_on, first.outcome) == (dt.date(2025, 5, 2), "unresolved")
        judicial = service.escalate_mediation(s, gf.BUREAU, gctx.allowed, admin["id"], None, TODAY, S)
    assert judicial["stage"] == "judicial" and judicial["due"] is None
    with gctx.session() as s, pytest.raises(Conflict):
        service.escalate_mediation(s, gf.BUREAU, gctx.allowed, judicial["id"], None, TODAY, S)


def test_the_24_hour_duty_as_stored(gctx) -> None:  # noqa: ANN001
    p1 = _problem(gctx)  # G1: an owners' committee → three recipients
    p2 = _problem(gctx, compound="G2")  # G2: none → two
    failed = dt.datetime(2025, 5, 30, 9, 0)
    with gctx.session() as s:
        d1 = service.record_dissuasion(s, gf.CO11, gctx.allowed, p1["id"], failed,
                                       {"street": "2025-05-30T10:00", "authority": "2025-05-31 09:01"}, now=NOW)
        service.record_dissuasion(s, gf.CO11, gctx.allowed, p2["id"], "2025-05-31T15:00",
                                  {"street": "2025-05-31T16:00"}, now=NOW)
    with gctx.session() as s, pytest.raises(UserInputError) as exc:
        service.record_dissuasion(s, gf.CO11, gctx.allowed, p2["id"], failed, {"street": "2025-05-29T10:00"}, now=NOW)
    assert exc.value.message.key == "governance.error.report_before_failure"
    with gctx.session() as s, pytest.raises(UserInputError):  # in the future
        service.record_dissuasion(s, gf.CO11, gctx.allowed, p2["id"], "2025-06-02T10:00", now=NOW)
    with gctx.session(readonly=True) as s:
        data = service.check(s, TODAY, NOW, S)
    late = [f for f in data["findings"] if f["code"] == "report_late"]
    assert late == [{"code": "report_late", "problem_id": p1["id"], "late": ["authority", "owners_org"],
                     "community_code": gf.C11, "street_code": gf.S1}]  # p2: authority still has until 06-01 15:00
    with gctx.session() as s:
        service.record_reports(s, gf.SO1, gctx.allowed, d1["id"], {"owners_org": "2025-05-31T08:00"},
                               expected_version=d1["version"], now=NOW)
    with gctx.session(readonly=True) as s:
        later = service.check(s, TODAY, dt.datetime(2025, 6, 1, 15, 1), S)
    assert sorted((f["problem_id"], f["late"]) for f in later["findings"] if f["code"] == "report_late") == sorted([
        (p1["id"], ["authority"]), (p2["id"], ["authority"])])


def test_owners_org_status_hook_decides_who_must_be_told(gctx) -> None:  # noqa: ANN001
    p = _problem(gctx, compound="G2")  # compound.owners_org says none
    with gctx.session() as s:
        service.record_dissuasion(s, gf.CO11, gctx.allowed, p["id"], "2025-05-01T09:00",
                                  {"street": "2025-05-01T10:00", "authority": "2025-05-01T11:00"}, now=NOW)

    def late(lookup):  # noqa: ANN001, ANN202
        with gctx.session(readonly=True) as s:
            return [f["late"] for f in service.check(s, TODAY, NOW, S, lookup)["findings"] if f["code"] == "report_late"]

    assert late(hooks.org_lookup(gctx)) == []  # no plugin answers: compound.owners_org (none)

    class OwnersOrg:
        @hookimpl
        def owners_org_status(self, context, compound_ids):  # noqa: ANN001, ANN201
            return {c: OrgStatus(c, "owners_committee", "active", True, True, True) for c in compound_ids}

    gctx.pm.register(OwnersOrg(), name="fake_owners_org")
    assert late(hooks.org_lookup(gctx)) == [["owners_org"]]


def test_pilots_one_per_street_and_year(gctx) -> None:  # noqa: ANN001
    with gctx.session() as s:
        service.set_pilot(s, gf.SO1, gctx.allowed, 2025, gf.C11, TODAY)
    with gctx.session() as s, pytest.raises(Conflict) as exc:
        service.set_pilot(s, gf.BUREAU, gctx.allowed, 2025, gf.C12, TODAY)
    assert exc.value.message.params["community"] == gf.C11
    with gctx.session() as s:
        service.set_pilot(s, gf.SO1, gctx.allowed, 2024, gf.C12, TODAY)  # another year: fine
        with pytest.raises(Forbidden):
            service.set_pilot(s, gf.SO1, gctx.allowed, 2025, gf.C21, TODAY)  # another street
        with pytest.raises(Forbidden):
            service.set_pilot(s, gf.CO12, gctx.allowed, 2025, gf.C12, TODAY)  # not a community's decision
        for q in (2, 5, 11):
            service.record_meeting(s, gf.CO11, gctx.allowed, gf.C11, dt.date(2025, q, 10), "tripartite", dt.date(2026, 1, 5))
        service.record_meeting(s, gf.CO11, gctx.allowed, gf.C11, dt.date(2025, 8, 10), "joint", dt.date(2026, 1, 5))
        service.record_case(s, gf.CO11, gctx.allowed, gf.C11, 2025, "飞线充电整治", dt.date(2025, 9, 1), dt.date(2026, 1, 5))
        with pytest.raises(Forbidden):
            service.record_meeting(s, gf.CO11, gctx.allowed, gf.C12, dt.date(2025, 2, 10), "tripartite", TODAY)
    with gctx.session(readonly=True) as s:
        data = service.check(s, dt.date(2026, 1, 5), dt.datetime(2026, 1, 5, 12), S)
    pilot = [(f["code"], f.get("period"), f.get("community_code") or f.get("street_code")) for f in data["findings"]
             if f["code"].startswith("pilot")]
    assert pilot == [("pilot_missing", "2025", gf.S2), ("pilot_quarter_missing", "2025Q3", gf.C11),
                     ("pilot_quarter_missing", "2024Q1", gf.C12), ("pilot_quarter_missing", "2024Q2", gf.C12),
                     ("pilot_quarter_missing", "2024Q3", gf.C12), ("pilot_quarter_missing", "2024Q4", gf.C12),
                     ("pilot_cases_short", "2025", gf.C11), ("pilot_cases_short", "2024", gf.C12)]


def test_scope_for_roles(gctx) -> None:  # noqa: ANN001
    with gctx.session(readonly=True) as s:
        assert service.scope_for(s, gf.CO11) == service.Scope(gf.S1, gf.C11)
        assert service.scope_for(s, gf.SO1) == service.Scope(gf.S1, None)
        assert service.scope_for(s, gf.SO1, None, gf.C12) == service.Scope(gf.S1, gf.C12)
        assert service.scope_for(s, gf.BUREAU, "乙街道") == service.Scope(gf.S2, None)
        for who, street, community in ((gf.CO11, None, gf.C12), (gf.SO1, gf.S2, None), (gf.SO1, None, gf.C21),
                                       (gf.VIEWER, None, None)):
            with pytest.raises(Forbidden):
                service.scope_for(s, who, street, community)
        with pytest.raises(NotFound):
            service.scope_for(s, gf.BUREAU, "NO_SUCH_STREET")


def test_compound_summary_and_map_attributes(gctx) -> None:  # noqa: ANN001
    from plugins.governance.layers import attributes_frame

    p = _problem(gctx)  # overdue as of TODAY
    _problem(gctx, compound="G1", rectify_by=dt.date(2025, 7, 1))
    with gctx.session() as s:
        service.open_mediation(s, gf.CO11, gctx.allowed, "G1", dt.date(2025, 4, 1), TODAY, S, "漏水")
    with gctx.session(readonly=True) as s:
        summary = service.compound_summary(s, "G1", TODAY, S)
        problems, meds, escalated = service.map_records(s)
    assert summary["open_problems"] == 2 and summary["mediations"][0]["overdue"] is True
    frame = attributes_frame(["G1", "G2"], problems, meds, escalated, TODAY, S)
    assert frame.loc["G1", "governance_problem_class"] == "overdue" and frame.loc["G1", "governance_open_problems"] == 2
    assert frame.loc["G1", "governance_mediation_stage"] == "community"
    assert frame.loc["G2", "governance_open_problems"] == 0 and pd.isna(frame.loc["G2", "governance_problem_class"])
    with gctx.session() as s:
        service.set_problem_state(s, gf.SO1, gctx.allowed, p["id"], "rectifying", TODAY)
        service.set_problem_state(s, gf.SO1, gctx.allowed, p["id"], "refused", TODAY)
    with gctx.session(readonly=True) as s:
        frame = attributes_frame(["G1"], *service.map_records(s), TODAY, S)
    assert frame.loc["G1", "governance_problem_class"] == "refused"
