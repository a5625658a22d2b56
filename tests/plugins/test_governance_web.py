"""The governance blueprint (pages and API), its layers and the records it hands to the shared screens."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from geoplatform import models as m
from geoplatform.context import Context
from geoplatform.models.governance import Mediation, Problem
from tests.conftest import BACKENDS, _fresh_url
from tests.plugins import governance_fixtures as gf

PASSWORD = "correct-horse-battery"
USERS = [("gw_co11", "community_officer", None, gf.C11), ("gw_co12", "community_officer", None, gf.C12),
         ("gw_so1", "street_officer", gf.S1, None), ("gw_so2", "street_officer", gf.S2, None),
         ("gw_bureau", "bureau", None, None), ("gw_viewer", "viewer", None, None)]


@dataclass
class GovWeb:
    """The database, a Context like a server's, and a bearer token per account."""

    url: str
    ctx: Context
    tokens: dict[str, str]

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}


@pytest.fixture(scope="module", params=BACKENDS)
def gweb(request, tmp_path_factory) -> GovWeb:  # noqa: ANN001
    from geoplatform import auth as accounts
    from geoplatform import schema

    url = _fresh_url(request.param, tmp_path_factory, request)
    ctx = Context.create(url)
    schema.upgrade(ctx.engine)
    gf.load(ctx)
    with ctx.session() as s:
        for name, role, street, community in USERS:
            accounts.add_user(s, name, role, PASSWORD, street, community=community)
        tokens = {name: accounts.new_token(s, name) for name, *_ in USERS}
    return GovWeb(url, ctx, tokens)


@pytest.fixture(scope="module")
def client(gweb):  # noqa: ANN001, ANN201
    from web.app import create_app

    return create_app(gweb.ctx, settings={"TESTING": True}).test_client()


def _post(client, gweb, who: str, path: str, data: dict):  # noqa: ANN001, ANN202
    return client.post(f"/api/v1/governance/{path}", json=data, headers=gweb.auth(who))


def test_the_community_officer_user_is_scoped_to_a_community(gweb) -> None:  # noqa: ANN001
    from geoplatform import auth as accounts

    with gweb.ctx.session() as s:
        user = accounts.get_user(s, "gw_co11")
        assert (user.street_code, user.community_code) == (gf.S1, gf.C11)  # the street follows the community
        assert accounts.principal_of(user).community_code == gf.C11
        for bad in (dict(community=None), dict(community="150203009009"), dict(street=gf.S2, community=gf.C11)):
            with pytest.raises(accounts.AccountError):
                accounts.add_user(s, "gw_bad", "community_officer", PASSWORD, bad.get("street"),
                                  community=bad["community"])
        with pytest.raises(accounts.AccountError):  # --community is for community officers only
            accounts.add_user(s, "gw_bad2", "street_officer", PASSWORD, gf.S1, community=gf.C11)


@pytest.mark.parametrize(("who", "path", "status", "location"), [
    ("gw_co11", "/ws/governance", 302, "/ws/governance/community"),
    ("gw_so1", "/ws/governance", 302, "/ws/governance/street"),
    ("gw_bureau", "/ws/governance", 302, "/ws/governance/bureau"),
    ("gw_viewer", "/ws/governance", 403, None),
    ("gw_co11", "/ws/governance/community", 200, None),
    ("gw_co11", f"/ws/governance/community?community={gf.C12}", 403, None),  # another community
    ("gw_co11", "/ws/governance/street", 302, "/ws/governance/community"),
    ("gw_co11", "/ws/governance/bureau", 403, None),
    ("gw_so1", "/ws/governance/street", 200, None),
    ("gw_so1", f"/ws/governance/street?street={gf.S2}", 403, None),  # another street
    ("gw_so1", f"/ws/governance/community?community={gf.C12}", 200, None),  # a community of the own street
    ("gw_so1", f"/ws/governance/community?community={gf.C21}", 403, None),
    ("gw_bureau", f"/ws/governance/street?street={gf.S2}", 200, None),
    ("gw_bureau", "/ws/governance/street?street=NO_SUCH", 404, None),
    ("gw_bureau", "/ws/governance/bureau", 200, None),
    ("gw_viewer", "/ws/governance/community", 403, None),
])
def test_pages_by_role(client, gweb, who, path, status, location) -> None:  # noqa: ANN001
    res = client.get(path, headers=gweb.auth(who))
    assert res.status_code == status, res.get_data(as_text=True)[:500]
    if location:
        assert res.headers["Location"].endswith(location)


def test_pages_escape_user_text_and_speak_both_languages(client, gweb) -> None:  # noqa: ANN001
    res = _post(client, gweb, "gw_so2", "problems", {"compound_id": "G4", "category": "noise", "source": "report",
                                                     "found_on": "2025-05-01", "note": "<b>x</b>"})
    assert res.status_code == 201
    zh = client.get("/ws/governance/street", headers=gweb.auth("gw_so2")).get_data(as_text=True)
    assert gf.XSS not in zh and "&lt;script&gt;alert(" in zh
    assert "噪声扰民" in zh and "城管执法局" in zh and "24小时报告预警" in zh
    en = client.get("/ws/governance/street?lang=en", headers=gweb.auth("gw_so2")).get_data(as_text=True)
    assert "noise nuisance" in en and "24-hour report alarms" in en and "噪声扰民" not in en


def test_a_case_from_report_to_mediation_through_the_api(client, gweb) -> None:  # noqa: ANN001
    res = _post(client, gweb, "gw_co11", "problems", {"compound_id": "G1", "category": "fire_lane", "source": "patrol",
                                                      "found_on": "2025-05-01", "rectify_by": "2025-05-10"})
    assert res.status_code == 201
    p = res.get_json()
    assert (p["state"], p["company"], p["overdue"]) == ("open", "甲物业", True)
    # outside the community: refused on the server and audited
    assert _post(client, gweb, "gw_co11", "problems", {"compound_id": "G3", "category": "noise",
                                                       "source": "patrol"}).status_code == 403
    with gweb.ctx.session(readonly=True) as s:
        denied = s.scalars(select(m.AuditEvent).where(m.AuditEvent.outcome == "denied",
                                                      m.AuditEvent.user_name == "gw_co11")).all()
        assert denied and denied[-1].action == "edit_governance"
    bad = _post(client, gweb, "gw_co11", "problems", {"compound_id": "G1", "category": "fire_lane", "source": "x",
                                                      "colour": "red"})
    assert bad.status_code == 400 and bad.get_json()["key"] == "governance.error.unknown_fields"
    bad = _post(client, gweb, "gw_co11", "problems", {"compound_id": "G1", "category": "fire_lane", "source": "x"})
    assert bad.status_code == 400 and bad.get_json()["params"]["field"] == "source"
    d = _post(client, gweb, "gw_co11", "dissuasions", {"problem_id": p["id"], "failed_at": "2025-05-02T09:00",
                                                       "reported_street_at": "2025-05-02T10:00"})
    assert d.status_code == 201, d.get_json()
    # the street officer follows up; the community officer may not
    assert _post(client, gweb, "gw_co11", f"problems/{p['id']}/state", {"state": "rectifying"}).status_code == 403
    assert _post(client, gweb, "gw_so2", f"problems/{p['id']}/state", {"state": "rectifying"}).status_code == 403
    r1 = _post(client, gweb, "gw_so1", f"problems/{p['id']}/state", {"state": "rectifying", "version": p["version"]})
    assert r1.status_code == 200 and r1.get_json()["allowed_next"] == ["rectified", "refused"]
    stale = _post(client, gweb, "gw_so1", f"problems/{p['id']}/state", {"state": "refused", "version": p["version"]})
    assert stale.status_code == 409
    wrong = _post(client, gweb, "gw_so1", f"problems/{p['id']}/state", {"state": "open"})
    assert wrong.status_code == 409 and wrong.get_json()["key"] == "governance.error.transition"
    assert _post(client, gweb, "gw_so1", f"problems/{p['id']}/state", {"state": "refused"}).status_code == 200
    check = client.get("/api/v1/governance/check", headers=gweb.auth("gw_so1")).get_json()
    codes = {(f["code"], f.get("problem_id")) for f in check["findings"]}
    assert ("rectification_refused", p["id"]) in codes and ("report_late", p["id"]) in codes
    late = next(f for f in check["findings"] if f["code"] == "report_late" and f["problem_id"] == p["id"])
    assert late["late"] == ["authority", "owners_org"]  # G1 has an owners' committee
    # mediation: the community opens, the street escalates to the district mediation centre
    x = _post(client, gweb, "gw_co11", "mediations", {"compound_id": "G1", "opened_on": "2025-04-01",
                                                      "subject": "停车纠纷"}).get_json()
    assert x["stage"] == "community"
    assert _post(client, gweb, "gw_co11", f"mediations/{x['id']}/escalate", {}).status_code == 403
    up = _post(client, gweb, "gw_so1", f"mediations/{x['id']}/escalate", {"version": x["version"]})
    assert up.status_code == 201 and up.get_json()["stage"] == "administrative"
    queue = client.get("/ws/governance/bureau", headers=gweb.auth("gw_bureau")).get_data(as_text=True)
    assert re.search(rf'id="gv-queue".*data-id="{re.escape(up.get_json()["id"])}"', queue, re.S)


def test_workspace_forms_post_and_come_back_with_a_message(client, gweb) -> None:  # noqa: ANN001
    res = client.post("/ws/governance/do/problems", headers=gweb.auth("gw_co12"), data={
        "compound_id": "G3", "category": "lift", "source": "12345", "found_on": "2025-05-03",
        "next": "/ws/governance/community"})
    assert res.status_code == 303 and res.headers["Location"].endswith("/ws/governance/community")
    page = client.get("/ws/governance/community?lang=zh", headers=gweb.auth("gw_co12")).get_data(as_text=True)
    assert 'data-kind="ok"' in page and "电梯安全隐患" in page and "市场监管局" in page
    res = client.post("/ws/governance/do/problems", headers=gweb.auth("gw_co12"), data={
        "compound_id": "G1", "category": "lift", "source": "12345", "next": "//evil.example/x"})
    assert res.status_code == 303 and res.headers["Location"].endswith("/ws/governance")  # never off-site
    page = client.get("/ws/governance/community", headers=gweb.auth("gw_co12")).get_data(as_text=True)
    assert 'data-kind="error"' in page and "无权执行此操作" in page
    with gweb.ctx.session(readonly=True) as s:
        assert s.scalars(select(Problem.compound_id).where(Problem.category == "lift")).all() == ["G3"]


def test_pilot_second_refused_in_the_workspace(client, gweb) -> None:  # noqa: ANN001
    assert _post(client, gweb, "gw_so1", "pilots", {"year": 2025, "community_code": gf.C11}).status_code == 201
    second = _post(client, gweb, "gw_bureau", "pilots", {"year": 2025, "community_code": gf.C12})
    assert second.status_code == 409 and second.get_json()["key"] == "governance.error.second_pilot"
    assert _post(client, gweb, "gw_co11", "pilots", {"year": 2026, "community_code": gf.C11}).status_code == 403
    ok = _post(client, gweb, "gw_co11", "meetings", {"community_code": gf.C11, "held_on": "2025-02-01",
                                                     "kind": "tripartite"})
    assert ok.status_code == 201
    page = client.get("/ws/governance/street", headers=gweb.auth("gw_so1")).get_data(as_text=True)
    assert f'data-community="{gf.C11}"' in page


def test_screens_records(gweb) -> None:  # noqa: ANN001
    from flask import render_template

    from plugins.governance import screens
    from web.app import create_app

    assert [x.href for x in screens.menu(gf.CO11)] == ["/ws/governance"]
    assert screens.menu(gf.VIEWER) == [] and screens.menu(None) == []
    ctx = gweb.ctx
    with ctx.session() as s:
        s.add(Problem(id="SCR1", compound_id="G2", category="dogs", source="report", found_on=dt.date(2025, 1, 2),
                      rectify_by=dt.date(2025, 1, 9), state="open"))
        s.add(Mediation(id="SCRM", compound_id="G2", stage="administrative", opened_on=dt.date(2025, 1, 2)))
    sections = screens.compound_section(ctx, "G2", gf.SO1)
    assert [x.id for x in sections] == ["governance"]
    data = sections[0].data
    assert data["open_problems"] >= 1 and any(x["id"] == "SCRM" and x["overdue"] for x in data["mediations"])
    bureau = screens.panels(ctx, gf.BUREAU, "bureau", None)
    assert [p.id for p in bureau] == ["governance"] and bureau[0].data["queue"] >= 1
    assert bureau[0].data["queue_overdue"] >= 1
    assert screens.panels(ctx, gf.SO1, "street", gf.S1)[0].data["street_code"] == gf.S1
    assert screens.panels(ctx, gf.SO1, "street", gf.S2) == [] and screens.panels(ctx, gf.CO11, "bureau", None) == []
    app = create_app(ctx, settings={"TESTING": True})
    with app.test_request_context("/"):
        html = render_template(sections[0].template, data=data)
        assert 'id="gv-section"' in html and "违规养犬" in html
        panel = render_template(bureau[0].template, data=bureau[0].data)
        assert "调解中心在办" in panel


def test_hooks_answer_through_the_plugin_manager(gweb) -> None:  # noqa: ANN001
    ctx = gweb.ctx
    hook = ctx.pm.hook
    links = [x for lst in hook.menu_links(context=ctx, user=gf.SO1) for x in lst]
    assert any(x.id == "governance" for x in links)
    with ctx.session() as s:
        s.add(Problem(id="HOOK1", compound_id="G3", category="dogs", source="report", company="乙物业",
                      found_on=dt.date(2025, 1, 2), rectify_by=dt.date(2025, 1, 9), state="open"))
    events = [e for lst in hook.credit_events(context=ctx, today=dt.date(2026, 1, 1)) for e in lst]
    assert ("HOOK1", "rectification_overdue", "乙物业", dt.date(2025, 1, 10)) in {(e.ref, e.kind, e.company, e.on)
                                                                               for e in events}
    assert all(e.source == "governance" and e.company for e in events)
    messages = [mm for mm in hook.register_messages() if "governance.menu" in mm.get("zh", {})]
    assert messages and messages[0]["en"]["governance.menu"] == "Governance"


def test_messages_in_both_languages_with_the_same_params() -> None:
    from string import Formatter

    from plugins.governance.messages import MESSAGES

    assert set(MESSAGES["zh"]) == set(MESSAGES["en"])

    def params(text: str) -> set[str]:
        return {f for _, f, _, _ in Formatter().parse(text) if f}

    for key, zh in MESSAGES["zh"].items():
        assert {p.split("!")[0] for p in params(zh)} == {p.split("!")[0] for p in params(MESSAGES["en"][key])}, key


def test_layers(gweb) -> None:  # noqa: ANN001
    from layers.features import layer_features
    from layers.geojson import to_geojson

    ctx = Context.create(gweb.url, today=dt.date(2026, 1, 5))
    with ctx.session() as s:
        if s.scalar(select(m.Community.code).where(m.Community.code == gf.C11)) and \
                not s.scalar(select(Mediation.id).where(Mediation.id == "LAYM")):
            s.add(Mediation(id="LAYM", compound_id="G4", stage="community", opened_on=dt.date(2025, 1, 2)))
            s.add(Problem(id="LAYP", compound_id="G4", category="lift", source="report", found_on=dt.date(2025, 1, 2),
                          state="open"))
    ids = [spec.id for spec in ctx.layers if spec.plugin == "governance"]
    assert ids == ["governance_problems", "governance_pilots", "governance_mediations"]
    problems = layer_features(ctx, ctx.layer("governance_problems"))
    assert "G4" in problems.index and problems["governance_open_problems"].min() >= 1
    meds = layer_features(ctx, ctx.layer("governance_mediations"))
    assert "G4" in meds.index and (meds["governance_mediation_overdue"] > 0).all()
    doc = to_geojson(meds, ctx.layer("governance_mediations"))
    assert doc["features"] and all(f["properties"]["_color"] for f in doc["features"])
    from geoplatform.models.governance import Pilot

    with ctx.session() as s:
        if not s.scalar(select(Pilot.id).where(Pilot.community_code == gf.C21)):
            s.add(Pilot(year=2025, street_code=gf.S2, community_code=gf.C21))
    pilots = layer_features(ctx, ctx.layer("governance_pilots"))
    assert f"2025-{gf.C21}" in pilots.index and pilots.geometry.notna().all()


def test_disabling_the_plugin_removes_all_of_it(monkeypatch, gweb) -> None:  # noqa: ANN001
    from geoplatform.cli import build_cli
    from geoplatform.io.importer import import_kinds
    from web.app import create_app

    monkeypatch.setenv("GEOPLATFORM_DISABLE_PLUGINS", "governance")
    assert "governance" not in build_cli().commands
    ctx = Context.create(gweb.url)
    assert ctx.pm.get_plugin("governance") is None
    assert not [s for s in ctx.layers if s.id.startswith("governance")]
    assert "problems" not in import_kinds(ctx)
    client = create_app(ctx, settings={"TESTING": True}).test_client()
    assert client.get("/ws/governance", headers=gweb.auth("gw_bureau")).status_code == 404
    assert client.get("/api/v1/governance/check", headers=gweb.auth("gw_bureau")).status_code == 404


def test_a_flashed_error_echoing_a_huge_value_keeps_the_cookie_small(client, gweb) -> None:  # noqa: ANN001
    """A refused form value is echoed in the flashed error; the session cookie must stay under what browsers keep
    (≈ 4 kB) or the login and CSRF token would be dropped with it (web.security clips flashed messages)."""
    res = client.post("/ws/governance/do/problems", headers=gweb.auth("gw_co12"), data={
        "compound_id": "G3", "category": "坏" * 50_000, "source": "12345", "found_on": "2025-05-03",
        "next": "/ws/governance/community"})
    assert res.status_code == 303
    cookie = next(v for k, v in res.headers.items() if k == "Set-Cookie" and v.startswith("geoplatform_session="))
    assert len(cookie) < 4096
    page = client.get("/ws/governance/community", headers=gweb.auth("gw_co12")).get_data(as_text=True)
    assert 'data-kind="error"' in page and "坏坏坏" in page and "坏" * 400 not in page
