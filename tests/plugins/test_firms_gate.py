"""Bundling and takeover consult the credit gate (RULES §4, §5, §7) — through `firm_eligibility`, never by import."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from geoplatform import models as m
from geoplatform.exchange import OrgStatus
from geoplatform.hookspecs import hookimpl
from geoplatform.models.firms import FirmCreditEvent, ServiceContract
from plugins.bundling import service as bundling
from plugins.bundling.rules import find_hosts, find_orphans, plan_bundles
from plugins.bundling.settings import load_settings
from plugins.takeover import service as takeover
from plugins.takeover.mapping import settings_for as takeover_settings
from tests.plugins.firms_fixtures import BUREAU, A, X, seed
from tests.plugins.test_bundling_db import ADMIN, OFFICER_1, seeded  # noqa: F401
from tests.plugins.test_bundling_layouts import VOTE, Layout, rect


def _reasons(plan) -> dict[str, str]:  # noqa: ANN001
    return dict(zip(plan.unmatched["orphan_id"], plan.unmatched["reason"], strict=True))


def _hosts(plan) -> dict[str, str]:  # noqa: ANN001
    return {o: r.host_compound_id for r in plan.proposals.itertuples() for o in r.orphan_ids}


def test_rules_an_ineligible_host_hosts_nothing() -> None:
    lay = Layout()
    lay.host("H1", rect(0, 0, 100, 100), area=40_000, company="黑物业")  # ineligible
    lay.host("H2", rect(600, 0, 100, 100), area=40_000, company="好物业")
    lay.lone("B1", rect(120, 0, 30, 20))  # only H1 in reach (20 m; H2 is 450 m away)
    lay.lone("B2", rect(450, 0, 30, 20))  # H2 120 m away, H1 350 m: out of reach anyway
    lay.lone("B3", rect(-200, 0, 30, 20))  # 170 m from H1, behind a main road: H1 could not host it anyway
    lay.barrier("R1", (-100, -200), (-100, 300))
    lay.lone("B4", rect(0, 500, 30, 20))  # nothing in reach at all
    s = load_settings()
    compounds, buildings, barriers = lay.frames()
    hosts = find_hosts(compounds, s)
    assert list(hosts["company"]) == ["黑物业", "好物业"]
    ok = (hosts["company"] != "黑物业").to_numpy()
    plan = plan_bundles(find_orphans(compounds, buildings, s), hosts[ok], barriers, s, ineligible_hosts=hosts[~ok])
    assert _hosts(plan) == {"B2": "H2"}
    assert _reasons(plan) == {"B1": "host_firm_ineligible", "B3": "no_host_in_reach", "B4": "no_host_in_reach"}
    every = plan_bundles(find_orphans(compounds, buildings, s), hosts, barriers, s)  # without the gate
    assert _hosts(every) == {"B1": "H1", "B2": "H2"}


def _blacklist(ctx, firm: str) -> None:  # noqa: ANN001
    with ctx.session() as s:
        s.add(FirmCreditEvent(company=firm, on=ctx.today, kind="blacklisted", expires_on=ctx.today + dt.timedelta(days=365)))


def test_bundling_plan_consults_the_gate(seeded) -> None:  # noqa: ANN001, F811
    ctx = seeded
    with ctx.session(readonly=True) as s:
        before = bundling.compute_plan(s, bundling.settings_for(ctx))
    assert _hosts(before)["B1"] == "H1" and _hosts(before)["B3"] == "H3"
    _blacklist(ctx, "测试物业")  # the firm of H1 and H3
    with ctx.session(readonly=True) as s:
        after = bundling.compute_plan(s, bundling.settings_for(ctx))
        both = {r["orphan_id"]: r["reason"] for r in after.to_dict()["unmatched"]}
    assert both["B1"] == both["B2"] == both["B3"] == "host_firm_ineligible"
    assert _hosts(after) == {o: h for o, h in _hosts(before).items() if h == "H2"}  # H2's firm is still eligible
    with ctx.session() as s:  # a host whose firm is not recorded still hosts (eligible with a warning)
        s.get(m.Compound, "H1").company = None
    with ctx.session(readonly=True) as s:
        plan = bundling.compute_plan(s, bundling.settings_for(ctx))
    assert _hosts(plan)["B1"] == "H1"
    b1 = next(p for p in plan.to_dict()["proposals"] if "B1" in p["orphan_ids"])
    assert b1["host_firm_warnings"] == ["firm_not_recorded"]
    h2 = next(p for p in plan.to_dict()["proposals"] if p["host_compound_id"] == "H2")
    assert "no_grade" in h2["host_firm_warnings"]  # the state company has no grade recorded in this layout


def test_bundling_accept_refuses_a_host_whose_firm_became_ineligible(seeded) -> None:  # noqa: ANN001, F811
    ctx = seeded
    with ctx.session() as s:
        plan = bundling.compute_plan(s, bundling.settings_for(ctx))
        bundling.save_plan(s, plan, ADMIN)
    pid = next(r.id for r in plan.proposals.itertuples() if "B1" in r.orphan_ids)
    _blacklist(ctx, "测试物业")
    with ctx.session() as s, pytest.raises(bundling.BundleError, match="host_firm_ineligible"):
        bundling.accept(ctx, s, OFFICER_1, pid, consent_note="业主大会同意", **VOTE)
    with ctx.session(readonly=True) as s:
        assert s.get(m.Building, "B1").compound_id is None and s.get(m.BundleProposal, pid).status == "proposed"


@pytest.fixture
def world(ctx):  # noqa: ANN001, ANN201
    seed(ctx)
    return ctx


def _advance(ctx, state: str, **terms):  # noqa: ANN001, ANN003, ANN202
    with ctx.session() as s:
        return takeover.advance(s, BUREAU, "c4", state, 2025, takeover_settings(ctx), **terms)


TERMS = {"contract_start": dt.date(2025, 10, 1), "contract_end": dt.date(2028, 9, 30)}
TENDER = {"tender_mode": "public", "bidders": 3}  # entering tendering records the tender (RULES §4)


def test_takeover_contract_needs_an_eligible_firm_dates_and_a_signatory(world) -> None:  # noqa: ANN001
    for state in ("shortlisted", "tendering"):
        _advance(world, state, **(TENDER if state == "tendering" else {}))
    with pytest.raises(takeover.TakeoverError, match="Firm, Contract starts, Contract ends"):
        _advance(world, "contracted")
    with pytest.raises(takeover.TakeoverError, match="Contract ends"):
        _advance(world, "contracted", company=A, contract_start=dt.date(2025, 10, 1))
    with pytest.raises(takeover.TakeoverError, match=r"takeover contract \(blacklisted\)"):
        _advance(world, "contracted", company=X, **TERMS)
    with pytest.raises(takeover.TakeoverError, match=r"takeover contract \(firm not in the registry\)"):
        _advance(world, "contracted", company="无此企业", **TERMS)
    with pytest.raises(takeover.TakeoverError, match="form one first"):  # c4 has no owners' organisation
        _advance(world, "contracted", company=A, **TERMS)
    with world.session(readonly=True) as s:
        assert s.scalar(select(m.TakeoverSelection.state)) == "tendering"
        assert s.get(ServiceContract, "TK2025-c4") is None
    with world.session() as s:
        s.get(m.Compound, "c4").owners_org = "management_committee"  # no organisation plugin: the compound field
    out = _advance(world, "contracted", company=A, **TERMS)
    assert out["contract"]["contract_id"] == "TK2025-c4" and out["contract"]["signatory"] == "management_committee"
    served = _advance(world, "serving")
    assert (served["management_mode"], served["company"]) == ("state_owned", A)
    with world.session(readonly=True) as s:
        c = s.get(m.Compound, "c4")
        assert (c.management_mode, c.company, c.contract_end) == ("state_owned", A, dt.date(2028, 9, 30))
        k = s.get(ServiceContract, "TK2025-c4")
        assert (k.company, k.start, k.end) == (A, dt.date(2025, 10, 1), dt.date(2028, 9, 30))


class _NoSignatory:
    """An owners' organisation plugin saying c4's organisation cannot sign (its term lapsed)."""

    @hookimpl
    def owners_org_status(self, context, compound_ids):  # noqa: ANN001, ANN201
        return {cid: OrgStatus(cid, "owners_committee", "term_expired", counts=False, known=True, can_sign=False)
                for cid in compound_ids}


def test_takeover_asks_the_owners_org_plugin_first(world) -> None:  # noqa: ANN001
    world.pm.register(_NoSignatory(), name="orgs_test")
    with world.session() as s:
        s.get(m.Compound, "c4").owners_org = "owners_committee"  # the ledger says so, the records say lapsed
    for state in ("shortlisted", "tendering"):
        _advance(world, state, **(TENDER if state == "tendering" else {}))
    with pytest.raises(takeover.TakeoverError, match="hold the re-election or form a management committee first"):
        _advance(world, "contracted", company=A, **TERMS)
    world.pm.unregister(name="orgs_test")
    assert _advance(world, "contracted", company=A, **TERMS)["to"] == "contracted"
