"""Bundling services on both databases: saving plans, accept / reject / revert with audit and permissions."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from geoplatform import models as m
from geoplatform.errors import UserInputError
from geoplatform.principal import Principal
from geoplatform.store import insert_records
from plugins.bundling import decide, service
from plugins.bundling.rules import find_hosts
from tests.plugins.test_bundling_layouts import S1, S2, VOTE, Layout, point, rect

ADMIN = Principal(name="admin1", role="admin")
OFFICER_1 = Principal(name="officer1", role="street_officer", street_code=S1)
OFFICER_2 = Principal(name="officer2", role="street_officer", street_code=S2)
VIEWER = Principal(name="viewer1", role="viewer")


def layout() -> Layout:
    """S1: host H1 with two orphan buildings 20 m away, under-scale C1 next to state-owned H2, point-only C2;
    S2: host H3 with one orphan building."""
    lay = Layout()
    lay.host("H1", rect(60, -40, 100, 100), area=40_000, households=400)
    lay.lone("B1", rect(0, 0, 40, 20), area=3_000, households=30)
    lay.lone("B2", rect(0, 40, 40, 20), area=2_000, households=20)
    lay.host("H2", rect(400, 0, 100, 100), mode="state_owned", area=50_000, households=500,
             company="昆都仑区城市物业服务有限公司")
    lay.small("C1", rect(520, 0, 40, 40), area=6_000, households=60)
    lay.small("C2", None, point=point(400, -100), area=9_000, households=120, n_buildings=0)
    lay.host("H3", rect(2000, 0, 100, 100), street=S2)
    lay.lone("B3", rect(2120, 0, 40, 20), street=S2)
    return lay


@pytest.fixture
def seeded(ctx):  # noqa: ANN001, ANN201
    """A migrated database of each backend with the layout stored."""
    recs = layout().records()
    for rec in recs["compound"]:
        if rec["id"] == "H2":
            rec["company"] = "昆都仑区城市物业服务有限公司"
    with ctx.session() as s:
        for table in ("street", "property_company", "compound", "building", "barrier"):
            insert_records(s, table, recs[table])
    return ctx


def snapshot(ctx) -> dict[str, Any]:  # noqa: ANN001
    """Every compound's and building's business fields (not version / updated_at)."""
    with ctx.session(readonly=True) as s:
        comps = {c.id: (c.managed_by_id, c.management_mode, c.company, c.floor_area_m2, c.households)
                 for c in s.scalars(select(m.Compound))}
        blds = {b.id: b.compound_id for b in s.scalars(select(m.Building))}
    return {"compounds": comps, "buildings": blds}


def plan_ids(ctx, street: str | None = None) -> dict[str, dict]:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        plan = service.compute_plan(s, service.settings_for(ctx), street)
    return {p["id"]: p for p in plan.to_dict()["proposals"]}


def proposal_for(ctx, orphan: str) -> str:  # noqa: ANN001
    return next(pid for pid, p in plan_ids(ctx).items() if orphan in p["orphan_ids"])


def audit_rows(ctx, **filters: Any) -> list[SimpleNamespace]:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        stmt = select(m.AuditEvent).order_by(m.AuditEvent.id)
        for k, v in filters.items():
            stmt = stmt.where(getattr(m.AuditEvent, k) == v)
        return [SimpleNamespace(**{c.name: getattr(e, c.name) for c in m.AuditEvent.__table__.columns})
                for e in s.scalars(stmt)]


def test_plan_from_the_database(seeded) -> None:  # noqa: ANN001
    d = {tuple(p["orphan_ids"]): p for p in plan_ids(seeded).values()}
    assert d[("B1", "B2")]["host_compound_id"] == "H1"
    assert d[("B1", "B2")]["merged_floor_area_m2"] == pytest.approx(45_000)
    assert d[("B1", "B2")]["merged_households"] == 450
    assert d[("C1",)]["host_compound_id"] == "H2"
    assert d[("C1",)]["distance_m"] == pytest.approx(20.0, abs=0.05)
    assert d[("C2",)]["host_compound_id"] == "H2"  # point-only compound: its point is 100 m from H2
    assert d[("C2",)]["distance_m"] == pytest.approx(100.0, abs=0.05)
    assert d[("B3",)]["street"] == S2
    assert set(plan_ids(seeded, S2)) == {p["id"] for p in d.values() if p["street"] == S2}


def test_orphan_building_without_street_gets_it_from_the_street_polygon(seeded) -> None:  # noqa: ANN001
    from geoalchemy2.shape import from_shape
    from shapely.geometry import MultiPolygon

    from tests.plugins.test_bundling_layouts import to_wgs

    with seeded.session() as s:
        street = s.get(m.Street, S1)
        street.geom = from_shape(MultiPolygon([to_wgs(rect(-500, -500, 1500, 1500))]), srid=4326, extended=True)
        s.get(m.Building, "B1").street_code = None
    assert any("B1" in p["orphan_ids"] and p["street"] == S1 for p in plan_ids(seeded).values())


def test_save_plan_never_duplicates_nor_clobbers_decisions(seeded) -> None:  # noqa: ANN001
    ctx = seeded
    with ctx.session() as s:
        first = service.save_plan(s, service.compute_plan(s, service.settings_for(ctx)), ADMIN)
    assert first == {"inserted": 4, "updated": 0, "kept_decided": 0, "removed_stale": 0}
    with ctx.session() as s:
        again = service.save_plan(s, service.compute_plan(s, service.settings_for(ctx)), ADMIN)
    assert again == {"inserted": 0, "updated": 0, "kept_decided": 0, "removed_stale": 0}
    c1, b3 = proposal_for(ctx, "C1"), proposal_for(ctx, "B3")
    with ctx.session() as s:
        service.reject(ctx, s, ADMIN, c1, reason="业主不同意")
    with ctx.session() as s:
        service.accept(ctx, s, ADMIN, proposal_for(ctx, "B1"), consent_note="业主大会表决通过", **VOTE)
    with ctx.session() as s:  # H3 loses its property company: B3's proposal is stale
        s.get(m.Compound, "H3").management_mode = "none"
    with ctx.session() as s:
        third = service.save_plan(s, service.compute_plan(s, service.settings_for(ctx)), ADMIN)
        statuses = dict(s.execute(select(m.BundleProposal.id, m.BundleProposal.status)).all())
    assert third["kept_decided"] == 1  # the rejected C1 (the accepted buildings are no longer orphans)
    assert third["removed_stale"] == 1
    assert statuses[c1] == "rejected"
    assert b3 not in statuses
    assert sorted(statuses.values()) == ["accepted", "proposed", "rejected"]
    assert [e.action for e in audit_rows(ctx, entity="bundle_proposal", action="plan")] == ["plan"] * 3


def test_accept_buildings_then_revert_restores_exactly(seeded) -> None:  # noqa: ANN001
    ctx = seeded
    before = snapshot(ctx)
    pid = proposal_for(ctx, "B1")
    with ctx.session() as s:
        out = service.accept(ctx, s, OFFICER_1, pid, consent_note="2025年3月业主大会表决通过", **VOTE)
    assert out["status"] == "accepted" and out["decided_by"] == "officer1"
    after = snapshot(ctx)
    assert after["buildings"]["B1"] == after["buildings"]["B2"] == "H1"
    assert after["compounds"]["H1"][3:] == (45_000, 450)
    assert {k: v for k, v in after["buildings"].items() if k not in ("B1", "B2")} == \
        {k: v for k, v in before["buildings"].items() if k not in ("B1", "B2")}
    accept_ev = audit_rows(ctx, entity="bundle_proposal", entity_id=pid)
    assert [e.action for e in accept_ev] == ["accept"]
    assert accept_ev[0].user_name == "officer1" and accept_ev[0].detail == "2025年3月业主大会表决通过"
    assert accept_ev[0].street_code == S1
    assert {e.entity_id for e in audit_rows(ctx, entity="building", action="update")} == {"B1", "B2"}
    assert [e.entity_id for e in audit_rows(ctx, entity="compound", action="update")] == ["H1"]
    with ctx.session(readonly=True) as s:
        stored = s.get(m.BundleProposal, pid)
        assert stored.consent_note == "2025年3月业主大会表决通过"
        assert stored.before_state["buildings"] == {"B1": {"compound_id": None}, "B2": {"compound_id": None}}
    assert pid not in plan_ids(ctx)  # no longer orphans

    accepted = snapshot(ctx)
    for blank in (None, "  "):  # issue 19 pt 6: no revert without its reason; nothing changes
        with pytest.raises(UserInputError) as err, ctx.session() as s:
            service.revert(ctx, s, ADMIN, pid, note=blank)
        assert err.value.message.params["field"] == "note" and err.value.message.text("zh") == "请填写撤销理由"
    assert snapshot(ctx) == accepted
    with ctx.session() as s:
        assert service.revert(ctx, s, ADMIN, pid, note="误操作")["status"] == "reverted"
    assert snapshot(ctx) == before
    assert audit_rows(ctx, entity="bundle_proposal", entity_id=pid)[-1].detail == "误操作"  # the reason, audited
    assert [e.action for e in audit_rows(ctx, entity="bundle_proposal", entity_id=pid)] == ["accept", "revert"]
    assert {e.entity_id for e in audit_rows(ctx, action="revert", entity="building")} == {"B1", "B2"}
    assert pid in plan_ids(ctx)  # orphans again, same deterministic id
    with ctx.session() as s:  # a reverted proposal may be decided again
        assert service.accept(ctx, s, OFFICER_1, pid, **VOTE)["status"] == "accepted"


def test_accept_compound_follows_the_host_then_revert(seeded) -> None:  # noqa: ANN001
    ctx = seeded
    before = snapshot(ctx)
    pid = proposal_for(ctx, "C1")
    with ctx.session() as s:
        service.accept(ctx, s, OFFICER_1, pid, consent_note="业主大会同意", **VOTE)
    with ctx.session(readonly=True) as s:
        c1, h2 = s.get(m.Compound, "C1"), s.get(m.Compound, "H2")
        assert (c1.managed_by_id, c1.management_mode, c1.company) == \
            ("H2", "state_owned", "昆都仑区城市物业服务有限公司")
        assert c1.version == 2
        assert h2.floor_area_m2 == 50_000  # the host's own figures stay; its managed area counts C1
        from geoplatform.store import read_frame

        hosts = find_hosts(read_frame(s, "compound"), service.settings_for(ctx)).set_index("host_compound_id")
    assert hosts.loc["H2", "floor_area_m2"] == pytest.approx(56_000)
    assert "C1" not in hosts.index
    assert all("C1" not in p["orphan_ids"] for p in plan_ids(ctx).values())
    ev = audit_rows(ctx, entity="compound", entity_id="C1")
    assert ev[0].before["management_mode"] == "none" and ev[0].after["management_mode"] == "state_owned"
    with ctx.session() as s:
        service.revert(ctx, s, ADMIN, pid, note="表决无效")
    assert snapshot(ctx) == before
    assert [e.action for e in audit_rows(ctx, entity="compound", entity_id="C1")] == ["update", "revert"]


def test_reject_needs_a_reason_and_is_final_for_replanning(seeded) -> None:  # noqa: ANN001
    ctx = seeded
    pid = proposal_for(ctx, "C1")
    with pytest.raises(service.BundleError, match="reason"), ctx.session() as s:
        service.reject(ctx, s, OFFICER_1, pid, reason="  ")
    with ctx.session() as s:
        out = service.reject(ctx, s, OFFICER_1, pid, reason="两小区之间有围墙，业主不同意")
    assert out["status"] == "rejected" and out["reason"] == "两小区之间有围墙，业主不同意"
    with pytest.raises(service.BundleError, match="rejected"), ctx.session() as s:
        service.accept(ctx, s, OFFICER_1, pid, **VOTE)
    with pytest.raises(service.BundleError, match="only accepted"), ctx.session() as s:
        service.revert(ctx, s, ADMIN, pid, note="表决无效")
    assert [e.action for e in audit_rows(ctx, entity="bundle_proposal", entity_id=pid)] == ["reject"]


@pytest.mark.parametrize(("principal", "action"), [
    (OFFICER_2, "accept"), (VIEWER, "accept"), (OFFICER_2, "reject"),
    (Principal(name="co", role="state_company"), "accept"), (Principal(name="w", role="utility", utility="water"),
                                                               "accept"),
])
def test_only_the_streets_officer_decides(seeded, principal: Principal, action: str) -> None:  # noqa: ANN001
    ctx = seeded
    before = snapshot(ctx)
    pid = proposal_for(ctx, "B1")
    with pytest.raises(service.BundleDenied), ctx.session() as s:
        if action == "accept":
            service.accept(ctx, s, principal, pid, **VOTE)
        else:
            service.reject(ctx, s, principal, pid, reason="x")
    assert snapshot(ctx) == before
    with ctx.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(m.BundleProposal)) == 0  # nothing stored either
    assert audit_rows(ctx) == []


def test_revert_is_for_admins(seeded) -> None:  # noqa: ANN001
    ctx = seeded
    pid = proposal_for(ctx, "B1")
    with ctx.session() as s:
        service.accept(ctx, s, OFFICER_1, pid, **VOTE)
    accepted = snapshot(ctx)
    for who in (OFFICER_1, OFFICER_2, VIEWER):
        with pytest.raises(service.BundleDenied), ctx.session() as s:
            service.revert(ctx, s, who, pid)
    assert snapshot(ctx) == accepted


def test_accept_refuses_when_the_data_changed(seeded) -> None:  # noqa: ANN001
    ctx = seeded
    pid = proposal_for(ctx, "B1")
    with ctx.session() as s:
        service.save_plan(s, service.compute_plan(s, service.settings_for(ctx)), ADMIN)
    with ctx.session() as s:
        s.get(m.Building, "B2").compound_id = "H2"
    before = snapshot(ctx)
    with pytest.raises(service.BundleError, match="B2 already belongs"), ctx.session() as s:
        service.accept(ctx, s, ADMIN, pid, **VOTE)
    with ctx.session() as s:
        s.get(m.Compound, "H2").management_mode = "none"
    with pytest.raises(service.BundleError, match="no longer professionally managed"), ctx.session() as s:
        service.accept(ctx, s, ADMIN, _stored_for(ctx, "C1"), **VOTE)
    assert snapshot(ctx)["buildings"] == before["buildings"]


def _stored_for(ctx, orphan: str) -> str:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        return next(p.id for p in s.scalars(select(m.BundleProposal)) if orphan in p.orphan_ids)


def test_revert_refuses_when_the_host_changed_since(seeded) -> None:  # noqa: ANN001
    ctx = seeded
    pid = proposal_for(ctx, "B1")
    with ctx.session() as s:
        service.accept(ctx, s, ADMIN, pid, **VOTE)
    with ctx.session() as s:
        s.get(m.Compound, "H1").households = 999
    changed = snapshot(ctx)
    with pytest.raises(service.BundleError, match="changed since"), ctx.session() as s:
        service.revert(ctx, s, ADMIN, pid, note="表决无效")
    assert snapshot(ctx) == changed


def test_unknown_proposal(seeded) -> None:  # noqa: ANN001
    with pytest.raises(service.BundleError, match="unknown bundle proposal"), seeded.session() as s:
        service.accept(seeded, s, ADMIN, f"{S1}-B-0000000000", **VOTE)
    with pytest.raises(service.BundleError, match="unknown bundle proposal"), seeded.session() as s:
        service.revert(seeded, s, ADMIN, "nope")


def test_list_proposals_for_a_street(seeded) -> None:  # noqa: ANN001
    ctx = seeded
    with ctx.session() as s:
        service.save_plan(s, service.compute_plan(s, service.settings_for(ctx)), ADMIN)
    with ctx.session(readonly=True) as s:
        s1 = service.list_proposals(s, S1)
        s2 = service.list_proposals(s, S2, "proposed")
    assert {p["street"] for p in s1} == {S1} and len(s1) == 3
    assert [p["orphan_ids"] for p in s2] == [["B3"]]
    assert s2[0]["version"] == 1


def test_compound_attributes_and_layers(seeded) -> None:  # noqa: ANN001
    from plugins.bundling.layers import hosts_frame, layers, links_frame, new_bundles_frame, orphans_frame

    ctx = seeded
    with ctx.session(readonly=True) as s:
        from geoplatform.store import read_frame

        compounds = read_frame(s, "compound")
    attrs = ctx.compound_attributes(compounds)
    assert bool(attrs.loc["C1", "bundling_orphan"]) and not bool(attrs.loc["H1", "bundling_orphan"])
    assert attrs.loc["H2", "bundling_host_of"] == 2 and attrs.loc["H1", "bundling_host_of"] == 1
    assert attrs.loc["C1", "bundling_status"] == "proposed"
    links = links_frame(ctx)
    assert set(links.geometry.geom_type) == {"LineString"}
    assert sorted(links["orphan_id"]) == ["B1", "B2", "B3", "C1", "C2"]
    assert {"distance_m", "merged_floor_area_m2", "merged_households"} <= set(links.columns)
    assert len(links_frame(ctx, street=S2)) == 1
    h1 = links[links["host_compound_id"] == "H1"].iloc[0]
    bbox = h1.geometry.bounds
    assert "H1" in set(links_frame(ctx, bbox=bbox)["host_compound_id"])
    assert links_frame(ctx, bbox=(100.0, 10.0, 100.1, 10.1)).empty
    orphans = orphans_frame(ctx)
    assert set(orphans["orphan_id"]) == {"B1", "B2", "B3", "C1", "C2"}
    assert orphans.set_index("orphan_id").loc["B1", "merged_households"] == 450
    hosts = hosts_frame(ctx).set_index("host_compound_id")
    assert hosts.loc["H2", "all_merged_floor_area_m2"] == pytest.approx(65_000)
    assert new_bundles_frame(ctx).empty
    specs = {spec.id: spec for spec in layers()}
    for spec in specs.values():
        frame = spec.loader(ctx, None, None)
        for f in spec.popup:
            assert f.attribute in frame.columns, (spec.id, f.attribute)
    assert {s.id for s in ctx.layers} >= set(specs)


@pytest.mark.parametrize(("user", "action", "street", "expected"), [
    (OFFICER_1, "decide_bundle", S1, True),
    (OFFICER_1, "decide_bundle", S2, False),
    (Principal(name="x", role="street_officer", street_code=None), "decide_bundle", S1, False),
    (ADMIN, "decide_bundle", S1, None),  # the base policy answers for admins
    (VIEWER, "decide_bundle", S1, None),
    (OFFICER_1, "revert_bundle", S1, None),
    (OFFICER_1, "edit_compound", S1, None),
])
def test_permission_hook(user: Principal, action: str, street: str, expected: bool | None) -> None:
    assert decide(user, action, {"kind": "bundle", "street_code": street}) is expected


def test_permission_through_the_context(seeded) -> None:  # noqa: ANN001
    res = {"kind": "bundle", "street_code": S1}
    assert seeded.allowed(OFFICER_1, "decide_bundle", res)
    assert not seeded.allowed(OFFICER_2, "decide_bundle", res)
    assert seeded.allowed(ADMIN, "decide_bundle", res) and seeded.allowed(ADMIN, "revert_bundle", res)
    assert not seeded.allowed(OFFICER_1, "revert_bundle", res)
    assert not seeded.allowed(VIEWER, "decide_bundle", res)
