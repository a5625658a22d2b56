"""The firms plugin on both databases: imports, the check, ranking and publication, scores, blacklisting, new
contracts through the gate, the firm_eligibility hook, the 0004 migration, the demo's firm records."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from geoplatform import exchange, schema, sqlin
from geoplatform import models as m
from geoplatform.errors import Conflict, Forbidden, NotFound, UserInputError
from geoplatform.io.importer import import_file
from geoplatform.io.report import ImportFailed
from geoplatform.models.firms import FirmAssessment, FirmCreditEvent, FirmRanking, ServiceContract
from plugins.firms import rules, service
from plugins.firms.settings import FirmsSettings
from tests.plugins.firms_fixtures import (
    BUREAU,
    OFFICER_1,
    OFFICER_2,
    S1,
    S2,
    TODAY,
    A,
    B,
    C,
    X,
    firms_demo,  # noqa: F401  (the fixture)
    seed,
)

S = FirmsSettings()
FINDING_KEYS = {"code", "compound_id", "company", "contract_id", "period", "filing"}


@pytest.fixture
def world(ctx):  # noqa: ANN001, ANN201
    seed(ctx)
    return ctx


def _check(ctx, today=TODAY) -> list[dict]:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        doc = service.check_payload(ctx, s, today, S)
    assert set(doc) == {"today", "findings"} and doc["today"] == today.isoformat()
    assert all(set(f) <= FINDING_KEYS and "code" in f for f in doc["findings"])
    return doc["findings"]


def test_check_finds_every_kind(world) -> None:  # noqa: ANN001
    found = {(f["code"], f.get("compound_id"), f.get("filing") or f.get("period")) for f in _check(world)}
    assert ("contract_expiring_30", "c1", None) in found
    assert ("filing_missing", "c1", "area") in found
    assert ("contract_expired", "c2", None) in found
    assert ("firm_blacklisted", "c3", None) in found
    assert ("professional_without_contract", "c5", None) in found
    assert ("disclosure_missing", "c2", "2025H1") in found and ("disclosure_missing", "c1", "2025H1") not in found
    assert not {f for f in found if f[1] == "c4"}  # nobody serves c4
    assert not {f for f in found if f[0] == "professional_without_contract" and f[1] == "c2"}  # expired ≠ never


def test_the_gate_through_the_hook_and_its_fallback(world) -> None:  # noqa: ANN001
    got = world.pm.hook.firm_eligibility(context=world, companies=[A, B, C, X, None, "无此企业"])
    assert (got[A].eligible, got[A].warnings) == (True, ())
    assert (got[B].eligible, got[B].reasons) == (False, ("grade_forbidden",))
    assert (got[C].eligible, got[C].warnings) == (True, ("filing_unknown", "no_grade"))
    assert (got[X].eligible, got[X].reasons) == (False, ("blacklisted",))
    assert got[None].eligible and got[None].warnings == ("firm_not_recorded",)
    assert got["无此企业"].reasons == ("unknown_firm",)
    with world.session(readonly=True) as s:
        assert exchange.firm_gate(s, [B])[B].eligible is False  # the session's context asks the plugin
    world.pm.unregister(name="firms")  # no plugin answers: the registry's plain fields, said so
    with world.session(readonly=True) as s:
        plain = exchange.firm_gate(s, [B, X])
    assert plain[B].eligible and "no_credit_gate" in plain[B].warnings
    assert plain[X].reasons == ("blacklisted",)


def test_blacklisting_flags_the_compounds_and_lifting_clears_them(world) -> None:  # noqa: ANN001
    with world.session() as s:
        out = service.blacklist(s, BUREAU, A, TODAY, S, note="拒不整改", allowed=world.allowed)
    assert out["blacklisted"] and [c["compound_id"] for c in out["compounds"]] == ["c1"]
    assert ("firm_blacklisted", "c1") in {(f["code"], f.get("compound_id")) for f in _check(world)}
    with world.session(readonly=True) as s:
        assert s.scalar(select(m.PropertyCompany.blacklisted).where(m.PropertyCompany.name == A)) is True
        events = s.scalars(select(FirmCreditEvent).where(FirmCreditEvent.company == A)).all()
        assert [(e.kind, e.detail) for e in events][-1] == ("blacklisted", "拒不整改")
        assert s.scalar(select(func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.entity == "firm_credit_event")) == 1
    with world.session() as s, pytest.raises(Conflict):
        service.blacklist(s, BUREAU, A, TODAY, S)
    with world.session() as s, pytest.raises(Forbidden):
        service.blacklist(s, OFFICER_1, B, TODAY, S, allowed=world.allowed)
    with world.session() as s:
        service.blacklist(s, BUREAU, A, TODAY + dt.timedelta(days=1), S, lift=True)
    found = _check(world, TODAY + dt.timedelta(days=1))
    assert ("firm_blacklisted", "c1") not in {(f["code"], f.get("compound_id")) for f in found}


def test_scores_own_street_only_then_rank_and_publish(world) -> None:  # noqa: ANN001
    q = "2025Q2"
    with world.session() as s:
        service.set_score(s, OFFICER_1, S1, q, A, "88", TODAY, S, allowed=world.allowed)
        service.set_score(s, OFFICER_1, S1, q, B, 61.5, TODAY, S, allowed=world.allowed)
        service.set_score(s, OFFICER_1, S1, q, C, 70, TODAY, S, allowed=world.allowed)
        service.set_score(s, OFFICER_2, S2, q, X, 75, TODAY, S, allowed=world.allowed)
        service.set_score(s, OFFICER_1, S1, q, B, 60, TODAY, S, allowed=world.allowed)  # corrected
    for principal, street, firm, score, error in [
        (OFFICER_1, S2, X, 80, Forbidden),  # another street: refused on the server
        (OFFICER_1, S1, X, 80, UserInputError),  # X does not serve S1
        (OFFICER_1, S1, A, 101, UserInputError),
        (OFFICER_1, S1, A, "abc", UserInputError),
    ]:
        with world.session() as s, pytest.raises(error):
            service.set_score(s, principal, street, q, firm, score, TODAY, S, allowed=world.allowed)
    with world.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(FirmAssessment)) == 4
        ranking = service.rank(s, q, S).as_dict()
    assert ranking == {"quarter": q, "streets": [{"street_code": S1, "first": [A], "last": [B]},
                                                 {"street_code": S2, "first": [X], "last": []}],
                       "scores": {A: 88.0, B: 60.0, C: 70.0, X: 75.0}, "good": [A, X], "bad": [B]}
    with world.session() as s, pytest.raises(UserInputError, match="has not ended"):
        service.publish(s, BUREAU, "2025Q3", TODAY, S)
    with world.session() as s, pytest.raises(Forbidden):
        service.publish(s, OFFICER_1, q, TODAY, S, allowed=world.allowed)
    with world.session() as s:
        doc = service.publish(s, BUREAU, q, TODAY, S, allowed=world.allowed)
    assert doc["good"] == [A, X] and doc["bad"] == [B] and doc["published_on"] == TODAY.isoformat()
    with world.session(readonly=True) as s:
        events = {(e.company, e.kind, e.ref, e.expires_on) for e in s.scalars(
            select(FirmCreditEvent).where(FirmCreditEvent.kind.in_(["good_list", "bad_list"])))}
        assert events == {(A, "good_list", q, TODAY + dt.timedelta(days=365)),
                          (X, "good_list", q, TODAY + dt.timedelta(days=365)),
                          (B, "bad_list", q, TODAY + dt.timedelta(days=365))}
        assert s.get(FirmRanking, q).scores == {A: 88.0, B: 60.0, C: 70.0, X: 75.0}
        st = service.credit_states(service.stored_events(s), [A, B], TODAY, S)
        assert st[A].listed == "good_list" and st[B].listed == "bad_list"
    with world.session() as s, pytest.raises(Conflict):
        service.publish(s, BUREAU, q, TODAY, S)
    with world.session() as s, pytest.raises(Conflict):  # a published quarter's scores are final
        service.set_score(s, OFFICER_1, S1, q, A, 10, TODAY, S, allowed=world.allowed)
    with world.session() as s, pytest.raises(UserInputError, match="no street"):
        service.publish(s, BUREAU, "2025Q1", TODAY, S)


def test_new_contract_passes_the_gate(world) -> None:  # noqa: ANN001
    start, end = dt.date(2025, 9, 1), dt.date(2028, 8, 31)
    for firm, key in ((X, "firms.firm_ineligible"), (B, "firms.firm_ineligible")):
        with world.session() as s, pytest.raises(UserInputError) as err:
            service.new_contract(world, s, BUREAU, "c4", firm, start, end, TODAY, S)
        assert err.value.message.key == key
    with world.session() as s, pytest.raises(UserInputError, match="before it starts"):
        service.new_contract(world, s, BUREAU, "c4", A, end, start, TODAY, S)
    with world.session() as s, pytest.raises(NotFound):
        service.new_contract(world, s, BUREAU, "nope", A, start, end, TODAY, S)
    with world.session() as s:
        out = service.new_contract(world, s, BUREAU, "c5", C, start, end, TODAY, S,
                                   filings={"selection": dt.date(2025, 8, 1)})
    assert out["warnings"] == ["filing_unknown", "no_grade"]  # eligible with warnings
    with world.session(readonly=True) as s:
        row = s.get(ServiceContract, out["contract_id"])
        assert (row.company, row.start, row.end, row.selection_filed_on) == (C, start, end, dt.date(2025, 8, 1))
        assert s.get(m.Compound, "c5").contract_end == end
    codes = {(f["code"], f.get("compound_id")) for f in _check(world)}
    assert ("professional_without_contract", "c5") not in codes and ("filing_missing", "c5") in codes
    with world.session() as s:
        service.file_contract(s, BUREAU, out["contract_id"], "area", dt.date(2025, 8, 20))
    with world.session(readonly=True) as s:
        assert s.get(ServiceContract, out["contract_id"]).area_filed_on == dt.date(2025, 8, 20)


def _csv(tmp_path, name: str, text: str):  # noqa: ANN001, ANN202
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_kinds(world, tmp_path) -> None:  # noqa: ANN001
    # the registry sheet: grades and blacklisting become dated credit events
    rep = import_file(world, "companies", _csv(tmp_path, "firms.csv",
                                               f"企业名称,信用等级,评级日期,黑名单,市平台备案\n"
                                               f"{A},aaa级,2025-07-01,否,是\n丁物业,A,,是,否\n"), upsert=True)
    assert (rep.inserted, rep.updated) == (1, 1)
    with world.session(readonly=True) as s:
        st = service.credit_states(service.stored_events(s), [A, "丁物业"], TODAY, S)
        assert (st[A].grade, st[A].graded_on) == ("AAA", dt.date(2025, 7, 1))
        assert (st["丁物业"].grade, st["丁物业"].blacklisted) == ("A", True)
        cached = dict(s.execute(select(m.PropertyCompany.name, m.PropertyCompany.credit_grade)).all())
        assert cached[A] == "AAA" and cached["丁物业"] == "A"
        grades = s.scalars(select(FirmCreditEvent.grade).where(FirmCreditEvent.company == A,
                                                               FirmCreditEvent.kind == "grade")).all()
        assert sorted(grades) == ["AA", "AAA"]  # the old grade stays in the file
    with pytest.raises(ImportFailed) as bad:
        import_file(world, "companies", _csv(tmp_path, "bad.csv", "企业名称,信用等级\n戊物业,D\n"))
    assert "row 2" in bad.value.report.errors[0].where and "信用等级" in bad.value.report.errors[0].where
    # contracts: the firm written loosely is matched to the registered name; an unknown firm is added
    rep = import_file(world, "contracts", _csv(tmp_path, "contracts.csv",
                                               "合同编号,小区编号,物业公司,合同开始日期,合同结束日期,选聘备案日期\n"
                                               "k9,小区c4,甲物业,2025-01-01,2027-12-31,2025-01-05\n"
                                               "k8,c5,新来物业有限公司,2025-02-01,2026-01-31,\n"))
    assert rep.inserted == 2 and any("新来物业有限公司" in str(w) for w in rep.warnings)
    with world.session(readonly=True) as s:
        assert s.get(ServiceContract, "k9").company == A and s.get(ServiceContract, "k9").compound_id == "c4"
        new = s.scalar(select(m.PropertyCompany).where(m.PropertyCompany.name == "新来物业有限公司"))
        assert new is not None and new.filed is None
        assert s.get(m.Compound, "c4").company == A  # a compound without a firm takes its running contract's
        assert s.get(m.Compound, "c5").company == C  # never overwritten
    with pytest.raises(ImportFailed) as bad:
        import_file(world, "contracts", _csv(tmp_path, "c2.csv", "id,compound_id,company,start,end\nk7,c1,甲物业,2025-05-01,2025-04-01\n"))
    assert "end" in bad.value.report.errors[0].where
    # assessments: street by name, quarter in Chinese; disclosures
    rep = import_file(world, "assessments", _csv(tmp_path, "scores.csv",
                                                 f"街道,季度,物业公司,得分\n少先路,2025年第二季度,{A},91\n沼潭街道,2025Q2,{X},55\n"))
    assert rep.inserted == 2
    with world.session(readonly=True) as s:
        assert service.assessments(s, "2025Q2") == [(S1, A, 91.0), (S2, X, 55.0)]
    with pytest.raises(ImportFailed):
        import_file(world, "assessments", _csv(tmp_path, "s2.csv", f"街道,季度,物业公司,得分\n少先路,2025Q9,{A},91\n"))
    rep = import_file(world, "disclosures", _csv(tmp_path, "disc.csv", "小区编号,公示开始日期,公示结束日期\nc2,2025-06-30,2025-07-14\n"))
    assert rep.inserted == 1
    assert ("disclosure_missing", "c2") not in {(f["code"], f.get("compound_id")) for f in _check(world)}


def test_compounds_import_firm_column(world, tmp_path) -> None:  # noqa: ANN001
    rep = import_file(world, "compounds", _csv(tmp_path, "compounds.csv",
                                               "小区编号,小区名称,街道,经度,纬度,物业服务企业\n"
                                               "n1,新一小区,少先路街道,109.81,40.65,甲物业\n"
                                               "n2,新二小区,少先路街道,109.82,40.65,全新物业公司\n"
                                               "n3,新三小区,少先路街道,109.83,40.65,\n"), crs="wgs84")
    assert rep.inserted == 3
    with world.session(readonly=True) as s:
        firms = dict(s.execute(select(m.Compound.id, m.Compound.company).where(m.Compound.id.like("n%"))).all())
    assert firms == {"n1": A, "n2": "全新物业公司", "n3": None}
    text = " ".join(map(str, rep.warnings))
    assert f"甲物业 → {A}" in text and "全新物业公司" in text


def test_ambiguous_firm_in_a_compounds_file_is_refused(world, tmp_path) -> None:  # noqa: ANN001
    with world.session() as s:
        s.add(m.PropertyCompany(name="包头市恒泰物业服务有限公司", filed=True))
        s.add(m.PropertyCompany(name="恒泰物业管理（包头）有限公司", filed=True))
    with pytest.raises(ImportFailed) as bad:
        import_file(world, "compounds", _csv(tmp_path, "amb.csv",
                                            "小区编号,小区名称,街道,经度,纬度,物业公司\nn9,九小区,少先路,109.81,40.65,恒泰物业\n"), crs="wgs84")
    err = bad.value.report.errors[0]
    assert "物业公司" in err.where and "恒泰物业管理（包头）有限公司" in str(err.message)


def test_migration_0004_matches_creates_and_reports_ambiguous(db_url) -> None:  # noqa: ANN001
    from geoplatform.db import make_engine

    eng = make_engine(db_url)
    schema.upgrade(eng, "0001")
    firms = ["包头市钢苑物业服务有限公司", "包头市恒泰物业服务有限公司", "恒泰物业管理（包头）有限公司", "鹿城物业"]
    texts = {"p1": "包头市钢苑物业服务有限公司", "p2": "钢苑物业", "p3": "全新物业公司", "p4": "恒泰物业",
             "p5": " 鹿城物业 ", "p6": "   ", "p7": None}
    with eng.begin() as conn:
        conn.execute(sa.text("INSERT INTO street (code, name, kind, aliases, source) VALUES ('150203001', '少先路街道', "
                             "'subdistrict', '[]', '')"))
        for n in firms:
            conn.execute(sa.text("INSERT INTO property_company (name, credit_grade, blacklisted, filed, state_owned, "
                                 "source) VALUES (:n, 'A', :f, :t, :f, '')"), {"n": n, "f": False, "t": True})
        for cid, text in texts.items():
            conn.execute(sa.text(
                "INSERT INTO compound (id, name, aliases, street_code, location, management_mode, property_company, "
                "owners_org, renovation, demolition_planned, source, version, updated_at) VALUES (:id, :id, '[]', "
                "'150203001', ST_GeomFromText('POINT(109.8 40.6)', 4326), 'professional', :pc, 'none', 'none', :f, '', 1,"
                " :now)"), {"id": cid, "pc": text, "f": False, "now": dt.datetime(2025, 1, 1)})
    schema.upgrade(eng)
    assert schema.schema_diff(eng) == []
    with eng.connect() as conn:
        got = dict(conn.execute(sa.text("SELECT id, company FROM compound")).all())
        created = conn.execute(sa.text("SELECT filed, source FROM property_company WHERE name = '全新物业公司'")).one()
        audits = conn.execute(sa.text("SELECT entity_id, detail FROM audit_event WHERE action = 'migrate' "
                                      "AND entity = 'compound'")).all()
        summary = conn.execute(sa.text("SELECT after FROM audit_event WHERE entity = 'property_company'")).scalar()
    assert got == {"p1": "包头市钢苑物业服务有限公司", "p2": "包头市钢苑物业服务有限公司", "p3": "全新物业公司", "p4": None,
                   "p5": "鹿城物业", "p6": None, "p7": None}
    assert created[0] is None and "0004" in created[1]
    assert [a[0] for a in audits] == ["p4"] and "恒泰物业" in audits[0][1]
    import json

    assert (json.loads(summary) if isinstance(summary, str) else summary) == {
        "matched": 3, "created": 1, "ambiguous": 1, "compounds": 5}
    schema.downgrade(eng, "0001")
    with eng.connect() as conn:
        back = dict(conn.execute(sa.text("SELECT id, property_company FROM compound")).all())
    assert back["p2"] == "包头市钢苑物业服务有限公司" and back["p4"] is None
    schema.upgrade(eng)
    assert schema.schema_diff(eng) == []
    eng.dispose()


def test_demo_carries_every_case(firms_demo) -> None:  # noqa: ANN001, F811
    demo_ctx = firms_demo
    today = demo_ctx.today
    with demo_ctx.session(readonly=True) as s:
        firms = service.registry(demo_ctx, s, today, S)
        found = service.findings(demo_ctx, s, today, S)
        last_q = rules.previous_quarter(rules.quarter_of(today))
        scores = service.assessments(s, last_q)
        published = [service.ranking_dict(r) for r in service.published(s)]
        disclosures = service.load_disclosures(s)
    grades = {f["grade"] for f in firms}
    assert set(S.grade_scale) <= grades and None in grades
    assert sum(f["blacklisted"] for f in firms) == 1 and any(f["filed"] is False for f in firms)
    assert any(not f["eligible"] for f in firms) and any(f["eligible"] for f in firms)
    codes = {f.code for f in found}
    assert {"contract_expired", "contract_expiring_30", "contract_expiring_90", "filing_missing",
            "professional_without_contract", "disclosure_missing", "firm_blacklisted"} <= codes
    assert len({st for st, _, _ in scores}) >= 10
    assert published and published[0]["quarter"] == rules.previous_quarter(last_q) and published[0]["good"]
    lengths = {rules.disclosure_days(a, b) for _, a, b in disclosures}
    assert S.disclosure_min_days - 1 in lengths and max(lengths) >= S.disclosure_min_days
    assert any(a.month in (6, 12) and a.day in (30, 31) for _, a, _ in disclosures)


def test_contracts_of_many_compounds_are_read_past_the_parameter_limit(firms_demo, monkeypatch) -> None:  # noqa: ANN001, F811
    """`load_contracts` reads a list longer than sqlin.PARAMS_MAX as literals (PostgreSQL refuses > 65,535
    parameters): same contracts, in the same order, as bound parameters."""
    with firms_demo.session(readonly=True) as s:
        every = service.load_contracts(s)
        ids = [c.compound_id for c in every][::-1] + ["no-such-compound"]
        whole = service.load_contracts(s, ids)
        monkeypatch.setattr(sqlin, "PARAMS_MAX", 3)
        sliced = service.load_contracts(s, ids)
    assert len(every) > 6 and whole == every
    assert sliced == whole
