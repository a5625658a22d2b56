"""The 业委会 workspace and API over HTTP on both databases: who may see and change what (checked on the server,
refusals audited), the forms' refusals (A1, A3) shown on the page, community officers' evaluations, escaping,
the screens' records, the catalogues, and compound.owners_org no longer editable by hand."""

from __future__ import annotations

import re
import string
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from geoplatform import models as m
from geoplatform.context import Context
from geoplatform.models.owners_org import OrgEvaluation, OrgMember, OwnersOrg
from tests.conftest import BACKENDS, _fresh_url
from tests.plugins import owners_org_support as sup

XSS = "<script>alert('oo')</script>花园"


@pytest.fixture(scope="module", params=BACKENDS)
def oo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    import shapely

    from geoplatform import schema
    from geoplatform.db import make_engine
    from geoplatform.store import insert_records
    from web.app import create_app

    url = _fresh_url(request.param, tmp_path_factory, request)
    eng = make_engine(url)
    schema.upgrade(eng)
    ctx = Context.create(url)
    ctx._engine = eng
    ctx.today = sup.TODAY
    sup.load(ctx)
    tokens = sup.add_users(ctx)
    box = shapely.box(109.78, 40.61, 109.781, 40.611)
    with ctx.session() as s:
        insert_records(s, "compound", [{"id": "a-xss", "name": XSS, "aliases": [], "street_code": sup.A,
                                        "community_code": "150203001001", "boundary": shapely.MultiPolygon([box]),
                                        "location": box.centroid, "management_mode": "none", "owners_org": "none",
                                        "renovation": "none", "demolition_planned": False, "source": "t", "version": 1}])
    app = create_app(ctx, settings={"TESTING": True})
    yield SimpleNamespace(ctx=ctx, app=app, tokens=tokens)
    eng.dispose()


def auth(oo, name: str) -> dict[str, str]:  # noqa: ANN001
    return {"Authorization": f"Bearer {oo.tokens[name]}"}


def denied(oo, user: str) -> int:  # noqa: ANN001
    with oo.ctx.session(readonly=True) as s:
        return len(s.scalars(select(m.AuditEvent).where(m.AuditEvent.user_name == user,
                                                        m.AuditEvent.outcome == "denied")).all())


# ---- who sees what ------------------------------------------------------------------------------------

def test_pages_by_role(oo) -> None:  # noqa: ANN001
    c = oo.app.test_client()
    page = c.get("/ws/owners-org/", headers=auth(oo, "oo_officer"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "甲街道" in html and 'data-compound="a-active"' in html
    assert 'data-compound="b-active"' not in html  # own street only
    before = denied(oo, "oo_officer")
    assert c.get(f"/ws/owners-org/?street={sup.B}", headers=auth(oo, "oo_officer")).status_code == 403
    assert c.get("/ws/owners-org/compound/b-active", headers=auth(oo, "oo_officer")).status_code == 403
    assert denied(oo, "oo_officer") == before + 2  # refusals are audited
    assert c.get("/ws/owners-org/", headers=auth(oo, "oo_viewer")).status_code == 403
    bureau = c.get("/ws/owners-org/", headers=auth(oo, "oo_bureau")).get_data(as_text=True)
    assert 'id="oo-streets"' in bureau and "乙街道" in bureau  # the 95 % per street from the records
    b = c.get(f"/ws/owners-org/?street={sup.B}", headers=auth(oo, "oo_bureau"))
    assert b.status_code == 200 and 'data-compound="b-active"' in b.get_data(as_text=True)
    assert c.get("/ws/owners-org/?street=火星", headers=auth(oo, "oo_bureau")).status_code == 404
    community = c.get("/ws/owners-org/", headers=auth(oo, "oo_community")).get_data(as_text=True)
    assert 'data-compound="a-active"' in community and 'data-compound="a-mc"' not in community  # 甲一社区 only
    assert 'id="oo-training-form"' not in community
    assert c.get("/ws/owners-org/compound/a-mc", headers=auth(oo, "oo_community")).status_code == 403


def test_board_shows_the_rate_alerts_and_trainings(oo) -> None:  # noqa: ANN001
    html = oo.app.test_client().get("/ws/owners-org/", headers=auth(oo, "oo_officer")).get_data(as_text=True)
    rate = re.search(r'id="oo-kpi" data-rate="([0-9.]+)" data-counting="(\d+)" data-needed="(\d+)"', html)
    assert rate is not None
    counting, needed = int(rate.group(2)), int(rate.group(3))
    assert counting >= sup.HAND[sup.A]["counting"] and needed >= 0
    assert 'data-code="custody_due" data-compound="a-expired"' in html  # alerts: custody of the expired committee
    assert 'data-code="re_election_required" data-compound="a-reelect"' in html
    assert "2025 年委员培训 0 次，少于 2 次" in html
    en = oo.app.test_client().get("/ws/owners-org/?lang=en", headers=auth(oo, "oo_officer")).get_data(as_text=True)
    assert "2025: 0 member trainings, fewer than 2" in en and "Pipeline" in en


def test_user_text_is_escaped(oo) -> None:  # noqa: ANN001
    c = oo.app.test_client()
    for url in ("/ws/owners-org/", "/ws/owners-org/compound/a-xss"):
        html = c.get(url, headers=auth(oo, "oo_officer")).get_data(as_text=True)
        assert XSS not in html and "&lt;script&gt;alert(" in html


# ---- forms -------------------------------------------------------------------------------------------

def test_officer_forms_from_preparatory_group_with_refusals_shown(oo) -> None:  # noqa: ANN001
    c = oo.app.test_client()
    h = auth(oo, "oo_officer")
    page = c.post("/ws/owners-org/compound/a-xss/start", data={"kind": "owners_committee", "prep_group_on": "2026-02-01"},
                  headers=h, follow_redirects=True).get_data(as_text=True)
    assert "已成立筹备组（a-xss-org1）" in page and 'data-state="preparing"' in page
    refused = c.post("/ws/owners-org/org/a-xss-org1/members", headers=h, follow_redirects=True, data={
        "person": "缺审查", "role": "member", "party_member": "1", "check_police": "1", "check_credit": "1",
        "check_community": "1"}).get_data(as_text=True)
    assert "未保存" in refused and "纪工委审查" in refused and "缺审查" in refused  # A1: names the missing check
    with oo.ctx.session(readonly=True) as s:
        assert not s.scalars(select(OrgMember).where(OrgMember.org_id == "a-xss-org1")).all()
    no_seats = c.post("/ws/owners-org/org/a-xss-org1/members", headers=h, follow_redirects=True, data={
        "person": "候补甲", "role": "alternate", "check_police": "1", "check_credit": "1", "check_community": "1"})
    assert "请先登记该组织的正式委员名额" in no_seats.get_data(as_text=True)  # A3 needs the seats
    with oo.ctx.session(readonly=True) as s:
        version = s.get(OwnersOrg, "a-xss-org1").version
    saved = c.post("/ws/owners-org/org/a-xss-org1/update", headers=h, follow_redirects=True,
                   data={"version": version, "seats": "3", "elected_on": "2026-03-01"}).get_data(as_text=True)
    assert "已保存" in saved
    for i in range(2):
        c.post("/ws/owners-org/org/a-xss-org1/members", headers=h, data={
            "person": f"候补{i}", "role": "alternate", "check_police": "1", "check_credit": "1", "check_community": "1"})
    with oo.ctx.session(readonly=True) as s:  # ⌊3/2⌋ = 1: the second alternate was refused
        assert [x.person for x in s.scalars(select(OrgMember).where(OrgMember.org_id == "a-xss-org1"))] == ["候补0"]
    stale = c.post("/ws/owners-org/org/a-xss-org1/update", headers=h, follow_redirects=True,
                   data={"version": version, "seats": "5"}).get_data(as_text=True)
    assert "已被他人修改" in stale


def test_other_street_cannot_post(oo) -> None:  # noqa: ANN001
    c = oo.app.test_client()
    before = denied(oo, "oo_officer_b")
    r = c.post("/ws/owners-org/compound/a-none/start", data={"kind": "owners_committee", "prep_group_on": "2026-02-01"},
               headers=auth(oo, "oo_officer_b"))
    assert r.status_code == 403 and denied(oo, "oo_officer_b") == before + 1
    with oo.ctx.session(readonly=True) as s:
        assert not s.scalars(select(OwnersOrg).where(OwnersOrg.compound_id == "a-none")).all()


def test_community_officer_records_evaluations_of_own_community_only(oo) -> None:  # noqa: ANN001
    c = oo.app.test_client()
    h = auth(oo, "oo_community")
    page = c.get("/ws/owners-org/compound/a-active2", headers=h).get_data(as_text=True)
    assert "oo-evaluation-form" in page and "oo-org-form" not in page and "oo-member-form" not in page
    done = c.post("/ws/owners-org/org/a-active2-org1/evaluations", headers=h, follow_redirects=True,
                  data={"period": "2026H1", "grade": "excellent", "held_on": "2026-03-10"}).get_data(as_text=True)
    assert "已登记 2026H1 民主评议" in done
    with oo.ctx.session(readonly=True) as s:
        row = s.scalars(select(OrgEvaluation).where(OrgEvaluation.org_id == "a-active2-org1",
                                                    OrgEvaluation.period == "2026H1")).one()
        assert (row.grade, row.recorded_by) == ("excellent", "oo_community")
    assert c.post("/ws/owners-org/org/a-mc-org1/evaluations", headers=h,
                  data={"period": "2026H1", "grade": "qualified"}).status_code == 403
    assert c.post("/ws/owners-org/org/a-active2-org1/update", headers=h, data={"seats": "9"}).status_code == 403
    other = auth(oo, "oo_community_b")
    assert c.post("/ws/owners-org/org/a-active2-org1/evaluations", headers=other,
                  data={"period": "2026H1", "grade": "unqualified"}).status_code == 403


def test_training_form(oo) -> None:  # noqa: ANN001
    c = oo.app.test_client()
    page = c.post("/ws/owners-org/trainings", headers=auth(oo, "oo_officer_b"), follow_redirects=True,
                  data={"held_on": "2026-03-02", "title": "履职培训", "audiences": ["committee_members"]})
    assert "已登记培训" in page.get_data(as_text=True) and 'data-count="1"' in page.get_data(as_text=True)
    assert c.post("/ws/owners-org/trainings", headers=auth(oo, "oo_officer_b"),
                  data={"street_code": sup.A, "held_on": "2026-03-02"}).status_code == 403


# ---- the API -------------------------------------------------------------------------------------------

def test_api(oo) -> None:  # noqa: ANN001
    from plugins.owners_org import service
    from plugins.owners_org.settings import OwnersOrgSettings

    c = oo.app.test_client()
    got = c.get(f"/api/v1/owners-org/check?street={sup.B}&today=2026-03-15", headers=auth(oo, "oo_viewer")).get_json()
    with oo.ctx.session(readonly=True) as s:
        assert got == service.check_report(s, sup.TODAY, OwnersOrgSettings(), sup.B)
    assert c.get("/api/v1/owners-org/check?street=nowhere", headers=auth(oo, "oo_viewer")).status_code == 404
    h = auth(oo, "oo_officer_b")
    r = c.post("/api/v1/owners-org/orgs/b-active-org1/members", headers=h,
               json={"person": "新候补", "role": "alternate", "check_police": True, "check_credit": True,
                     "check_community": True})
    assert r.status_code == 201  # 2 stored + 1 = 3 = ⌊7/2⌋
    r = c.post("/api/v1/owners-org/orgs/b-active-org1/members", headers=h,
               json={"person": "再候补", "role": "alternate", "check_police": True, "check_credit": True,
                     "check_community": True})
    assert r.status_code == 400 and r.get_json()["key"] == "owners_org.refused.alternates"
    r = c.patch("/api/v1/owners-org/orgs/b-active-org1", headers=h, json={"seats": 5, "version": 999})
    assert r.status_code == 409
    r = c.patch("/api/v1/owners-org/orgs/a-active-org1", headers=h, json={"seats": 5})
    assert r.status_code == 403 and r.get_json()["key"] == "owners_org.refused.forbidden"
    detail = c.get("/api/v1/owners-org/compounds/b-active", headers=h).get_json()
    assert detail["status"]["state"] == "active" and len(detail["orgs"][0]["members"]) == 10
    streets = c.get("/api/v1/owners-org/streets", headers=auth(oo, "oo_bureau")).get_json()["streets"]
    assert {s["street_code"]: s["known"] for s in streets}[sup.B] == 2


def test_compound_owners_org_is_no_longer_editable_by_hand(oo) -> None:  # noqa: ANN001
    c = oo.app.test_client()
    with oo.ctx.session(readonly=True) as s:
        version = s.get(m.Compound, "b-none").version
    r = c.patch("/api/v1/compounds/b-none", headers=auth(oo, "oo_admin"),
                json={"owners_org": "owners_committee", "version": version})
    assert r.status_code == 400 and r.get_json()["fields"] == ["owners_org"]
    assert r.get_json()["key"] == "compound.derived_fields" and "业委会" in r.get_json()["error"]
    with oo.ctx.session(readonly=True) as s:
        assert s.get(m.Compound, "b-none").owners_org == "none"
    from web.workspaces.street import EDIT_FIELDS

    assert "owners_org" not in dict(EDIT_FIELDS)  # the street form no longer offers it


# ---- screens and catalogues ------------------------------------------------------------------------------

def test_screens_records_render(oo) -> None:  # noqa: ANN001
    from flask import render_template

    from geoplatform.pluginmanager import call_safely
    from geoplatform.principal import Principal
    from geoplatform.screens import MenuLink, Panel, Section

    ctx = oo.ctx
    officer = Principal("oo_officer", "street_officer", street_code=sup.A)

    def own(hook: str, **kw):  # noqa: ANN003, ANN202  (this plugin's answers: other built-ins answer too)
        return [res for plugin, res in call_safely(ctx.pm, hook, context=ctx, **kw) if plugin == "owners_org"]

    assert own("menu_links", user=officer) == [
        [MenuLink(href="/ws/owners-org", label="owners_org.nav", order=40, id="owners_org")]]
    assert own("menu_links", user=Principal("v", "viewer")) == [[]]
    (sections,) = [x for x in own("compound_sections", compound_id="a-expired", user=officer) if x]
    (section,) = sections
    assert isinstance(section, Section) and section.data["status"]["state"] == "term_expired"
    assert section.data["link"] == "/ws/owners-org/compound/a-expired"
    (panels,) = [x for x in own("dashboard_panels", user=Principal("b", "bureau"), where="bureau", street_code=None)
                 if x]
    (panel,) = panels
    assert isinstance(panel, Panel) and {r["street_code"] for r in panel.data["rows"]} == {sup.A, sup.B}
    with oo.app.test_request_context("/?lang=zh"):
        html = render_template(section.template, data=section.data)
        assert "任期届满" in html and "街镇应于" in html and section.data["link"] in html
        table = render_template(panel.template, data=panel.data)
        assert "甲街道" in table and 'data-street="150203002"' in table
    (street_panels,) = [x for x in own("dashboard_panels", user=officer, where="street", street_code=sup.A) if x]
    assert street_panels[0].data["rate"]["known"] >= 9


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_catalogues_are_complete_in_both_languages(oo) -> None:  # noqa: ANN001
    (messages,) = [x for x in oo.ctx.pm.hook.register_messages() if x and "owners_org.nav" in x.get("zh", {})]
    assert set(messages["zh"]) == set(messages["en"])
    for key in messages["zh"]:
        assert _fields(messages["zh"][key]) == _fields(messages["en"][key]), key
    from plugins.owners_org import rules

    for code in ("eligibility_missing", "members_missing", "members_incomplete", "seats_missing", "alternates_over", "party_count_low",
                 "party_share_low", "party_org_missing", "vacancy_fill", "re_election_required", "evaluation_due",
                 "evaluation_overdue", "rectification_due", "rectification_overdue", "term_expiring", "term_expired",
                 "custody_due", "to_complete", "training_short", "training_progress"):
        assert f"owners_org.finding.{code}" in messages["zh"]
    assert all(f"org_state.{s}" in messages["zh"] for s in rules.STATES)
    assert all(f"org_class.{c}" in messages["en"] for c in rules.LAYER_CLASSES)
