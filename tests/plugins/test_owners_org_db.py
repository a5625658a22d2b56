"""The owners' organisation plugin on both databases: imports (A1/A3 refused, nothing written), the §1 rate from
records against a hand count, the check command's JSON, keeping compound.owners_org in step, declared organisations."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from geoplatform import models as m
from geoplatform.context import Context
from geoplatform.io.importer import import_file
from geoplatform.io.report import ImportFailed
from geoplatform.models.owners_org import OrgEvaluation, OrgMember, OwnersOrg, Training
from tests.plugins import owners_org_support as sup

CHECK_KEYS = {"today", "orgs", "streets"}
ORG_KEYS = {"org_id", "compound_id", "kind", "state", "findings", "seat_order"}
STREET_KEYS = {"street_code", "year", "trainings", "findings"}


@pytest.fixture
def world(ctx):  # noqa: ANN001, ANN201
    ctx.today = sup.TODAY
    sup.load(ctx)
    return ctx


def count(ctx, model) -> int:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        return s.scalar(select(func.count()).select_from(model))


def write(tmp_path, name: str, text: str):  # noqa: ANN001, ANN201
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---- imports ------------------------------------------------------------------------------------------

MEMBER_HEAD = "编号,组织编号,姓名,职务,党员,无犯罪记录,征信,社区表现,纪工委审查,得票,任职日期\n"


def test_member_list_missing_a_check_is_refused_naming_row_and_check(world, tmp_path) -> None:  # noqa: ANN001
    path = write(tmp_path, "members.csv", MEMBER_HEAD +
                 "x1,a-prep-org1,张三,主任,否,是,是,是,,300,2026-03-01\n"
                 "x2,a-prep-org1,李四,委员,是,是,是,是,,280,2026-03-01\n")  # a party member without the 纪工委 check
    before = count(world, OrgMember)
    with pytest.raises(ImportFailed) as failed:
        import_file(world, "org_members", path)
    (problem,) = failed.value.report.errors
    assert "members.csv" in problem.where and "3" in problem.where and "纪工委审查" in problem.where
    assert problem.message.key == "owners_org.refused.eligibility" and "李四" in problem.message.text("zh")
    assert "纪工委审查" in problem.message.text("zh") and "discipline check" in problem.message.text("en")
    assert count(world, OrgMember) == before  # nothing written


def test_member_list_without_the_police_column_is_refused(world, tmp_path) -> None:  # noqa: ANN001
    path = write(tmp_path, "m.csv", "编号,组织编号,姓名,职务,征信,社区表现\nx1,a-prep-org1,张三,委员,是,是\n")
    with pytest.raises(ImportFailed) as failed:
        import_file(world, "org_members", path)
    assert [e.message.key for e in failed.value.report.errors] == ["owners_org.refused.eligibility"]


@pytest.mark.parametrize(("alternates", "refused"), [(1, False), (2, True)])
def test_alternates_beyond_half_the_seats_are_refused(world, tmp_path, alternates: int, refused: bool) -> None:  # noqa: ANN001
    # a-active-org1: 7 seats, 2 alternates stored → ⌊7/2⌋ = 3 allows one more, not two
    rows = "".join(f"y{i},a-active-org1,候补{i},候补委员,否,是,是,是,,50,2026-03-01\n" for i in range(alternates))
    path = write(tmp_path, "alts.csv", MEMBER_HEAD + rows)
    before = count(world, OrgMember)
    if refused:
        with pytest.raises(ImportFailed) as failed:
            import_file(world, "org_members", path)
        (problem,) = failed.value.report.errors
        assert "3" in problem.where and "职务" in problem.where  # the second alternate's row, the role column
        assert problem.message.key == "owners_org.refused.alternates" and problem.message.params["limit"] == 3
        assert count(world, OrgMember) == before
    else:
        assert import_file(world, "org_members", path).inserted == 1
        assert count(world, OrgMember) == before + 1


def test_alternates_of_an_organisation_without_seats_are_refused(world, tmp_path) -> None:  # noqa: ANN001
    path = write(tmp_path, "alts.csv", MEMBER_HEAD + "z1,a-prep-org1,王五,候补委员,否,是,是,是,,50,\n")
    with pytest.raises(ImportFailed) as failed:
        import_file(world, "org_members", path)
    assert failed.value.report.errors[0].message.key == "owners_org.refused.alternates_no_seats"


def test_unknown_organisation_is_refused(world, tmp_path) -> None:  # noqa: ANN001
    path = write(tmp_path, "m.csv", MEMBER_HEAD + "x1,no-such-org,张三,委员,否,是,是,是,,1,\n")
    with pytest.raises(ImportFailed) as failed:
        import_file(world, "org_members", path)
    assert failed.value.report.errors[0].message.key == "owners_org.refused.unknown_org"


def test_import_an_organisation_with_members_makes_it_active_and_keeps_owners_org_in_step(world, tmp_path) -> None:  # noqa: ANN001
    orgs = write(tmp_path, "orgs.csv", "编号,小区名称,类型,委员名额,筹备组成立日期,选举日期,备案日期,登记日期,任期开始,任期届满\n"
                 "n-org1,测试a-none小区,业委会,5,2025-09-01,2025-11-01,2025-11-20,2025-12-01,2025-12-01,2030-11-30\n")
    report = import_file(world, "owners_orgs", orgs)
    assert report.inserted == 1
    with world.session(readonly=True) as s:
        assert s.get(OwnersOrg, "n-org1").compound_id == "a-none"
        assert s.get(m.Compound, "a-none").owners_org == "owners_committee"  # kept in step by after_write
    members = write(tmp_path, "members.csv", MEMBER_HEAD + "".join(
        f"n-m{i},n-org1,委员{i},{'主任' if i == 0 else '委员'},{'是' if i < 3 else '否'},是,是,是,{'是' if i < 3 else ''},"
        f"{100 - i},2025-12-01\n" for i in range(5)))
    assert import_file(world, "org_members", members).inserted == 5
    from plugins.owners_org import service
    from plugins.owners_org.settings import OwnersOrgSettings

    with world.session(readonly=True) as s:
        report = service.check_report(s, sup.TODAY, OwnersOrgSettings())
    entry = next(o for o in report["orgs"] if o["org_id"] == "n-org1")
    # 3 party members and no party organisation; in office at the end of 2025H2 and not evaluated by 31 January
    assert entry["state"] == "active"
    assert [f["code"] for f in entry["findings"]] == ["party_org_missing", "evaluation_overdue"]


def test_dates_out_of_order_are_refused(world, tmp_path) -> None:  # noqa: ANN001
    path = write(tmp_path, "orgs.csv", "id,compound_id,kind,elected_on,filed_on\nq1,a-none,物管会,2025-05-01,2025-03-01\n")
    with pytest.raises(ImportFailed) as failed:
        import_file(world, "owners_orgs", path)
    (problem,) = failed.value.report.errors
    assert problem.message.key == "owners_org.refused.date_order" and "filed_on" in problem.where
    assert count(world, OwnersOrg) == 8


def test_evaluations_and_trainings_import(world, tmp_path) -> None:  # noqa: ANN001
    bad = write(tmp_path, "ev.csv", "组织编号,评议期,评议日期,评议结果\na-active-org1,2025Q1,2025-07-10,合格\n")
    with pytest.raises(ImportFailed) as failed:
        import_file(world, "org_evaluations", bad)
    assert failed.value.report.errors[0].message.key == "owners_org.refused.bad_period"
    future = write(tmp_path, "ev2.csv", "org_id,period,grade\na-active-org1,2026H2,qualified\n")
    with pytest.raises(ImportFailed):
        import_file(world, "org_evaluations", future)
    ok = write(tmp_path, "ev3.csv", "组织编号,评议期,评议日期,评议结果\na-active-org1,2024h2,2025-01-12,优秀\n")
    assert import_file(world, "org_evaluations", ok).inserted == 1
    with world.session(readonly=True) as s:
        assert s.scalars(select(OrgEvaluation.grade).where(OrgEvaluation.period == "2024H2")).one() == "excellent"
    tr = write(tmp_path, "tr.csv", "编号,街镇,培训日期,培训对象,培训主题\nt1,甲街道,2026-02-01,委员、街道工作人员,履职培训\n"
               "t2,150203002,2026-02-03,,条例解读\n")
    assert import_file(world, "trainings", tr).inserted == 2
    with world.session(readonly=True) as s:
        rows = {t.id: (t.street_code, t.audiences) for t in s.scalars(select(Training))}
    assert rows == {"t1": (sup.A, ["committee_members", "street_staff"]), "t2": (sup.B, ["committee_members"])}
    bad_street = write(tmp_path, "tr2.csv", "id,street_code,held_on\nt9,火星街道,2026-02-01\n")
    with pytest.raises(ImportFailed) as failed:
        import_file(world, "trainings", bad_street)
    assert failed.value.report.errors[0].message.key == "owners_org.refused.unknown_street"


def test_compounds_ledger_creates_declared_organisations(world, tmp_path) -> None:  # noqa: ANN001
    path = write(tmp_path, "compounds.csv", "id,name,street_code,lon,lat,业主组织\n"
                 "new-1,新一小区,150203001,109.75,40.62,物管会\nnew-2,新二小区,150203001,109.76,40.62,未组建\n"
                 "a-expired,测试a-expired小区,150203001,109.74,40.65,业委会\n")
    report = import_file(world, "compounds", path, upsert=True, crs="wgs84")
    assert any("new-1" in w and "declared" in w for w in report.warnings)  # reported as such
    assert any("a-expired" in w for w in report.warnings)  # the records win over the file
    with world.session(readonly=True) as s:
        declared = s.scalars(select(OwnersOrg).where(OwnersOrg.compound_id == "new-1")).one()
        assert (declared.kind, declared.declared) == ("management_committee", True)
        assert not s.scalars(select(OwnersOrg).where(OwnersOrg.compound_id == "new-2")).all()
        assert s.get(m.Compound, "a-expired").owners_org == "none"  # term expired: not counted
    from plugins.owners_org import service
    from plugins.owners_org.settings import OwnersOrgSettings

    with world.session(readonly=True) as s:
        entry = next(o for o in service.check_report(s, sup.TODAY, OwnersOrgSettings())["orgs"]
                     if o["compound_id"] == "new-1")
    assert entry["state"] == "active" and entry["findings"][0]["code"] == "to_complete"


def test_an_imported_record_replaces_a_bare_declared_placeholder(world, tmp_path) -> None:  # noqa: ANN001
    from plugins.owners_org import service

    with world.session() as s:
        assert service.declare_from_compounds(s, ["a-declared"], "test") == ["a-declared"]
    path = write(tmp_path, "orgs.csv", "id,compound_id,kind,seats,elected_on,filed_on,registered_on,term_start,term_end\n"
                 "real-1,a-declared,owners_committee,5,2024-01-01,2024-01-10,2024-01-20,2024-01-20,2029-01-19\n")
    import_file(world, "owners_orgs", path)
    with world.session(readonly=True) as s:
        assert s.scalars(select(OwnersOrg.id).where(OwnersOrg.compound_id == "a-declared")).all() == ["real-1"]


# ---- the §1 rate from the records -------------------------------------------------------------------------

def test_kpi_from_records_equals_the_hand_count(world) -> None:  # noqa: ANN001
    from plugins.coverage.service import kpi_report

    report = kpi_report(world)
    rows = {r["code"]: r for r in report["streets"]}
    for street, hand in sup.HAND.items():
        row = rows[street]
        assert (row["owners_org"], row["owners_org_unknown"]) == (hand["counting"], hand["compounds"] - hand["known"])
        assert row["owners_org_rate"] == pytest.approx(hand["counting"] / hand["known"])
    assert rows[sup.A]["owners_org_needed_for_target"] == 9 - 5  # ⌈0.95 × 9⌉ − 5
    d = report["district"]
    assert (d["owners_org"], d["owners_org_rate"]) == (6, pytest.approx(6 / 11))


def test_kpi_counts_lapsed_organisations_only_when_the_setting_says_so(world) -> None:  # noqa: ANN001
    from plugins.coverage.service import kpi_report

    world.config.rules = {**world.config.rules, "owners_org": {"count_lapsed": True}}
    world.invalidate()
    rows = {r["code"]: r for r in kpi_report(world)["streets"]}
    assert rows[sup.A]["owners_org"] == sup.HAND_LAPSED[sup.A]["counting"]


def test_kpi_falls_back_to_the_compound_field_without_the_plugin(world) -> None:  # noqa: ANN001
    from plugins.coverage.service import kpi_report

    world.pm.unregister(name="owners_org")
    rows = {r["code"]: r for r in kpi_report(world)["streets"]}
    # the field as kept in step: expired / re-election → none; a-declared still says owners_committee; unknown apart
    assert rows[sup.A]["owners_org"] == 5 and rows[sup.A]["owners_org_unknown"] == 1


def test_owners_org_status_hook_and_attributes(world) -> None:  # noqa: ANN001
    answer = world.pm.hook.owners_org_status(context=world, compound_ids=["a-active", "a-declared", "a-expired",
                                                                         "a-unknown", "new-x"])
    assert {k: (v.state, v.counts, v.can_sign, v.declared) for k, v in answer.items()} == {
        "a-active": ("active", True, True, False), "a-declared": ("active", True, True, True),
        "a-expired": ("term_expired", False, False, False), "a-unknown": ("unknown", False, False, False)}
    attrs = world.compound_attributes()
    assert attrs.loc["a-reelect", "owners_org_class"] == "lapsed"
    assert attrs.loc["a-prep", "owners_org_class"] == "forming"
    assert attrs.loc["a-unknown", "owners_org_class"] == "unknown"
    assert attrs.loc["a-active", "owners_org_class"] == "active_owners_committee"
    assert attrs.loc["a-mc", "owners_org_class"] == "active_management_committee"
    assert bool(attrs.loc["a-expired", "coverage_owners_org"]) is False  # the coverage plugin reads the records
    assert bool(attrs.loc["a-declared", "coverage_owners_org"]) is True


def test_layers(world) -> None:  # noqa: ANN001
    from layers.features import layer_features

    frame = layer_features(world, world.layer("owners_org"))
    assert frame.loc["a-none", "_color"] == "#c62828" and frame.loc["a-active", "_color"] == "#2e7d32"
    streets = layer_features(world, world.layer("owners_org_streets"))
    assert streets.loc[sup.A, "owners_org_needed"] == 4 and streets.loc[sup.B, "owners_org_needed"] == 1


# ---- the check command -----------------------------------------------------------------------------------

def test_check_json_shape_is_stable(world, db_url, cli_run) -> None:  # noqa: ANN001
    r = cli_run(db_url, "owners-org", "check", "--today", sup.TODAY.isoformat(), "--json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) == CHECK_KEYS and data["today"] == "2026-03-15"
    assert all(set(o) == ORG_KEYS for o in data["orgs"]) and all(set(s) == STREET_KEYS for s in data["streets"])
    assert all({"code", "severity"} <= set(f) for o in data["orgs"] for f in o["findings"])
    states = {o["compound_id"]: o["state"] for o in data["orgs"]}
    expected = {cid: v[3] for cid, v in sup.COMPOUNDS.items() if cid not in ("a-declared", "a-none", "a-unknown",
                                                                              "b-none")}
    assert states == expected
    reelect = next(o for o in data["orgs"] if o["compound_id"] == "a-reelect")
    assert {"code": "re_election_required", "severity": "error", "reason": "two_unqualified",
            "periods": ["2025H1", "2025H2"]} in reelect["findings"]
    expired = next(o for o in data["orgs"] if o["compound_id"] == "a-expired")
    custody = next(f for f in expired["findings"] if f["code"] == "custody_due")
    assert custody == {"code": "custody_due", "severity": "warning", "due": "2026-03-30",
                       "missing": ["seal", "accounts", "vouchers", "archives"], "overdue": False}
    assert {s["street_code"]: (s["year"], s["trainings"]) for s in data["streets"]} == {sup.A: (2026, 0), sup.B: (2026, 0)}
    assert data["streets"][0]["findings"] == [{"code": "training_short", "severity": "warning", "year": 2025,
                                               "trainings": 0, "target": 2},
                                              {"code": "training_progress", "severity": "info", "year": 2026,
                                               "trainings": 0, "target": 2}]


def test_the_documented_example_is_what_the_command_prints(world, db_url, cli_run) -> None:  # noqa: ANN001
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "owners_org.md").read_text(encoding="utf-8")
    example = json.loads(re.search(r"```json\n(.*?)```", doc, flags=re.S).group(1))
    data = json.loads(cli_run(db_url, "owners-org", "check", "--today", "2026-03-15", "--json").stdout)
    assert set(example) == CHECK_KEYS and example["today"] == data["today"]
    (org,) = example["orgs"]
    assert org in data["orgs"]  # the example's organisation exactly as printed for the test world
    assert example["streets"][0] == data["streets"][0]


def test_check_street_filter_today_and_errors(world, db_url, cli_run) -> None:  # noqa: ANN001
    data = json.loads(cli_run(db_url, "owners-org", "check", "--street", "乙街道", "--today", "2026-03-15",
                              "--json").stdout)
    assert [o["compound_id"] for o in data["orgs"]] == ["b-active"] and [s["street_code"] for s in data["streets"]] == [sup.B]
    later = json.loads(cli_run(db_url, "owners-org", "check", "--today", "2026-05-01", "--json").stdout)
    expired = next(o for o in later["orgs"] if o["compound_id"] == "a-expired")
    assert next(f for f in expired["findings"] if f["code"] == "custody_due")["severity"] == "error"
    r = cli_run(db_url, "owners-org", "check", "--street", "不存在街道", "--json")
    assert r.exit_code == 2 and r.stdout == "" and "不存在街道" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    human = cli_run(db_url, "owners-org", "check", "--today", "2026-03-15")
    assert human.exit_code == 0 and "需换届" in human.stdout and "[Q]" in human.stdout and "[D]" in human.stdout


def test_sync_command_declares_and_keeps_in_step(world, db_url, cli_run) -> None:  # noqa: ANN001
    r = cli_run(db_url, "owners-org", "sync", "--today", "2026-03-15", "--json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["declared"] == ["a-declared"] and data["changed"] == []
    with world.session(readonly=True) as s:
        assert s.scalars(select(OwnersOrg.declared).where(OwnersOrg.compound_id == "a-declared")).one() is True


# ---- migration: data from before the records -------------------------------------------------------------

def test_migration_turns_existing_values_into_declared_organisations(db_url) -> None:  # noqa: ANN001
    import shapely

    from geoplatform import schema
    from geoplatform.db import make_engine

    eng = make_engine(db_url)
    schema.upgrade(eng, "0001")
    box = shapely.box(109.7, 40.6, 109.71, 40.61)
    from sqlalchemy import text

    with eng.begin() as conn:
        conn.execute(text("INSERT INTO street (code, name, kind, aliases, source) VALUES ('150203001', '甲', "
                          "'subdistrict', '[]', 't')"))
        insert = text("INSERT INTO compound (id, name, aliases, street_code, location, management_mode, owners_org, "
                      "renovation, demolition_planned, source, version, updated_at) VALUES (:id, :id, '[]', "
                      "'150203001', ST_GeomFromText(:wkt, 4326), 'none', :org, 'none', false, 't', 1, CURRENT_TIMESTAMP)")
        for cid, org in (("k1", "owners_committee"), ("k2", "management_committee"), ("k3", "none"),
                         ("k4", "preparing")):
            conn.execute(insert, {"id": cid, "wkt": box.centroid.wkt, "org": org})
    schema.upgrade(eng)
    with eng.connect() as conn:
        rows = conn.exec_driver_sql("SELECT compound_id, kind, declared FROM owners_org ORDER BY compound_id").all()
    assert [(c, k, bool(d)) for c, k, d in rows] == [("k1", "owners_committee", True), ("k2", "management_committee", True)]
    schema.downgrade(eng, "0001")
    schema.upgrade(eng)
    eng.dispose()


# ---- services -----------------------------------------------------------------------------------------

def test_service_refusals_and_jurisdiction(world) -> None:  # noqa: ANN001
    from geoplatform.errors import Conflict, Forbidden, UserInputError
    from geoplatform.principal import Principal
    from plugins.owners_org import service
    from plugins.owners_org.settings import OwnersOrgSettings

    s_ = OwnersOrgSettings()
    officer = Principal("o", "street_officer", street_code=sup.A)
    other = Principal("b", "street_officer", street_code=sup.B)
    community = Principal("c", "community_officer", street_code=sup.A, community_code="150203001001")
    today = sup.TODAY
    with world.session() as s:
        with pytest.raises(Forbidden):
            service.create_org(s, other, "a-none", {"prep_group_on": "2026-03-01"}, world.allowed, today, s_)
        with pytest.raises(Forbidden):  # a community officer records evaluations, not organisations
            service.create_org(s, community, "a-none", {"prep_group_on": "2026-03-01"}, world.allowed, today, s_)
        with pytest.raises(Conflict):  # one current organisation per compound
            service.create_org(s, officer, "a-prep", {"prep_group_on": "2026-03-01"}, world.allowed, today, s_)
        org = service.create_org(s, officer, "a-none", {"kind": "业委会", "prep_group_on": "2026-03-01"},
                                 world.allowed, today, s_)
        assert org["id"] == "a-none-org1"
        with pytest.raises(UserInputError) as exc:
            service.add_member(s, officer, "a-none-org1", {"person": "赵六", "role": "member", "check_police": "1",
                                                           "check_credit": "1"}, world.allowed, today, s_)
        assert exc.value.message.key == "owners_org.refused.eligibility"
        with pytest.raises(UserInputError):  # A3 without seats
            service.add_member(s, officer, "a-none-org1", {"person": "钱七", "role": "alternate", "check_police": "1",
                                                           "check_credit": "1", "check_community": "1"},
                               world.allowed, today, s_)
        with pytest.raises(Conflict):  # a stale version
            service.update_org(s, officer, "a-none-org1", {"seats": "5"}, world.allowed, today, s_, version=99)
        with pytest.raises(UserInputError):  # filed before elected
            service.update_org(s, officer, "a-none-org1", {"elected_on": "2026-03-10", "filed_on": "2026-03-05"},
                               world.allowed, today, s_)
        # a community officer records its own community's evaluations only
        done = service.record_evaluation(s, community, "a-active-org1", {"period": "2026h1", "grade": "合格"},
                                         world.allowed, today, s_)
        assert done["period"] == "2026H1"
        with pytest.raises(Forbidden):
            service.record_evaluation(s, community, "a-mc-org1", {"period": "2025H2", "grade": "qualified"},
                                      world.allowed, today, s_)  # a-mc is in 甲二社区
        with pytest.raises(UserInputError):
            service.record_evaluation(s, officer, "a-active-org1", {"period": "2026H2", "grade": "qualified"},
                                      world.allowed, today, s_)  # not begun
        events = s.scalars(select(m.AuditEvent.entity).where(m.AuditEvent.user_name.in_(["o", "c"]))).all()
    assert set(events) == {"owners_org", "org_evaluation", "compound"}  # compound: owners_org kept in step


def test_pipeline_from_preparatory_group_to_active_moves_the_kpi(world) -> None:  # noqa: ANN001
    from geoplatform.principal import Principal
    from plugins.coverage.service import kpi_report
    from plugins.owners_org import service
    from plugins.owners_org.settings import OwnersOrgSettings

    s_ = OwnersOrgSettings()
    officer = Principal("o", "street_officer", street_code=sup.A)
    day = sup.TODAY

    def rate() -> int:
        return {r["code"]: r for r in kpi_report(world)["streets"]}[sup.A]["owners_org"]

    start = rate()
    with world.session() as s:
        org = service.create_org(s, officer, "a-none", {"prep_group_on": "2026-01-05"}, world.allowed, day, s_)
        service.update_org(s, officer, org["id"], {"seats": "5", "elected_on": "2026-02-20"}, world.allowed, day, s_)
        for i in range(5):
            service.add_member(s, officer, org["id"], {"person": f"委员{i}", "role": "member" if i else "chair",
                                                       "party_member": "1" if i < 3 else "", "check_discipline": "1" if i < 3 else "",
                                                       "check_police": "1", "check_credit": "1", "check_community": "1",
                                                       "votes": str(100 - i), "start": "2026-03-01"},
                               world.allowed, day, s_)
        assert s.get(m.Compound, "a-none").owners_org == "preparing"
    assert rate() == start
    with world.session() as s:
        service.update_org(s, officer, org["id"], {"filed_on": "2026-03-01", "term_start": "2026-03-01",
                                                   "term_end": "2031-02-28"}, world.allowed, day, s_)
    assert rate() == start + 1  # filed counts
    with world.session() as s:
        service.update_org(s, officer, org["id"], {"registered_on": "2026-03-10", "party_org_on": "2026-03-12"},
                           world.allowed, day, s_)
        detail = service.compound_detail(s, "a-none", day, s_)
    assert detail["status"]["state"] == "active" and detail["status"]["can_sign"] is True
    assert detail["orgs"][0]["findings"] == []
    with world.session(readonly=True) as s:  # audited as the bureau's trend reads compound changes
        steps = s.execute(select(m.AuditEvent.before, m.AuditEvent.after).where(
            m.AuditEvent.entity == "compound", m.AuditEvent.entity_id == "a-none").order_by(m.AuditEvent.id)).all()
    assert [(b["owners_org"], a["owners_org"]) for b, a in steps] == [("none", "preparing"),
                                                                       ("preparing", "owners_committee")]


def test_fill_seats_from_alternates(world) -> None:  # noqa: ANN001
    from geoplatform.principal import Principal
    from plugins.owners_org import service
    from plugins.owners_org.settings import OwnersOrgSettings

    s_ = OwnersOrgSettings()
    officer = Principal("o", "street_officer", street_code=sup.A)
    with world.session() as s:
        service.update_member(s, officer, "a-active-org1-m3", {"end": "2026-03-01"}, world.allowed, sup.TODAY, s_)
        detail = service.compound_detail(s, "a-active", sup.TODAY, s_)
        assert detail["orgs"][0]["seat_order"] == ["a-active-org1-m8"]  # the alternate with most votes
        got = service.fill_seats(s, officer, "a-active-org1", world.allowed, sup.TODAY, s_)
        assert got["filled"] == 1
        detail = service.compound_detail(s, "a-active", sup.TODAY, s_)
    assert detail["orgs"][0]["seat_order"] == [] and not any(f["code"] == "vacancy_fill"
                                                               for f in detail["orgs"][0]["findings"])


# ---- the demo ----------------------------------------------------------------------------------------

def test_demo_has_every_state_and_every_rule_fires(ctx) -> None:  # noqa: ANN001
    from geoplatform import demo
    from plugins.owners_org import service
    from plugins.owners_org.demo import load_demo
    from plugins.owners_org.settings import OwnersOrgSettings

    data = demo.generate(scale=0.25, seed=7)
    today = dt.date(2026, 7, 20)  # within the grace days after H1: an evaluation can be merely due
    with ctx.session() as s:
        demo.load(s, data)
        counts = load_demo(s, 7, today, ctx)
    assert counts["owners_org"] > 50 and counts["org_member"] > 300 and counts["training"] > 15
    with ctx.session(readonly=True) as s:
        report = service.check_report(s, today, OwnersOrgSettings())
        values = dict(s.execute(select(m.Compound.owners_org, func.count()).group_by(m.Compound.owners_org)).all())
    states = {o["state"] for o in report["orgs"]}
    assert states >= {"preparing", "elected", "filed", "active", "term_expired", "re_election_required", "dissolved"}
    codes = {f["code"] for o in report["orgs"] for f in o["findings"]} | \
        {f["code"] for st in report["streets"] for f in st["findings"]}
    assert codes >= {"party_count_low", "party_share_low", "party_org_missing", "vacancy_fill", "re_election_required",
                     "evaluation_due", "evaluation_overdue", "rectification_due", "rectification_overdue",
                     "term_expiring", "term_expired", "custody_due", "to_complete", "training_short",
                     "training_progress"}
    reasons = {f["reason"] for o in report["orgs"] for f in o["findings"] if f["code"] == "re_election_required"}
    assert reasons == {"vacancy_over_half", "two_unqualified"}
    assert any(o["seat_order"] for o in report["orgs"])
    assert values.get("preparing") and values.get("owners_committee") and values.get("management_committee")


# ---- the community officer role ----------------------------------------------------------------------------

def test_users_add_community_officer(world, db_url, cli_run) -> None:  # noqa: ANN001
    r = cli_run(db_url, "users", "add", "sq1", "--role", "community_officer", "--community", "150203001002",
                "--password-stdin", "--json", input="long-enough-password\n")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout) == {"name": "sq1", "role": "community_officer", "street_code": sup.A,
                                    "utility": None, "community_code": "150203001002"}
    for args in (["--role", "community_officer"], ["--role", "community_officer", "--community", "999999999999"],
                 ["--role", "street_officer", "--street", sup.A, "--community", "150203001002"]):
        bad = cli_run(db_url, "users", "add", "sq2", *args, "--password-stdin", input="long-enough-password\n")
        assert bad.exit_code == 2 and "community" in bad.stderr


@pytest.mark.parametrize(("role", "street", "community", "action", "resource", "allowed"), [
    ("street_officer", sup.A, None, "edit_owners_org", {"street_code": sup.A}, True),
    ("street_officer", sup.A, None, "edit_owners_org", {"street_code": sup.B}, False),
    ("street_officer", sup.A, None, "record_evaluation", {"street_code": sup.A, "community_code": "x"}, True),
    ("community_officer", sup.A, "c1", "record_evaluation", {"street_code": sup.A, "community_code": "c1"}, True),
    ("community_officer", sup.A, "c1", "record_evaluation", {"street_code": sup.A, "community_code": "c2"}, False),
    ("community_officer", sup.A, "c1", "edit_owners_org", {"street_code": sup.A, "community_code": "c1"}, False),
    ("bureau", None, None, "edit_owners_org", {"street_code": sup.B}, True),
    ("viewer", None, None, "record_evaluation", {"street_code": sup.B}, False),
    ("utility", None, None, "edit_owners_org", {"street_code": sup.B}, False),
])
def test_jurisdiction(tmp_path, role, street, community, action, resource, allowed) -> None:  # noqa: ANN001
    from geoplatform.principal import Principal

    ctx = Context.create(f"sqlite:///{tmp_path / 'unused.sqlite'}")  # the policy needs no database
    user = Principal("u", role, street_code=street, community_code=community)
    assert ctx.allowed(user, action, resource) is allowed
