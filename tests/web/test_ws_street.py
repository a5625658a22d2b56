"""The street officer workspace over HTTP: who may open it, jurisdiction on every action, accept/reject/re-plan effects."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from geoplatform import models as m
from tests.web.ws_accounts import cookie_login
from tests.web.ws_fixtures import open_proposals, ws_app, ws_ctx, ws_demo  # noqa: F401

PROPOSAL_ROW = re.compile(r'<tr data-id="([^"]+)" data-status="([a-z]+)"')


VOTE_FIELDS = {"vote_area_total": "10000", "vote_area_participating": "8000", "vote_area_yes": "6000",
               "vote_owners_total": "100", "vote_owners_participating": "80",
               "vote_owners_yes": "60"}  # the form fields of a vote that passes


@pytest.fixture
def client(ws_app):  # noqa: ANN001, ANN201, F811
    return ws_app.test_client()


def _denials(ctx, user: str, entity_id: str | None = None) -> list[dict]:  # noqa: ANN001
    from geoplatform import audit

    with ctx.session(readonly=True) as s:
        return audit.query(s, user=user, outcome="denied", entity_id=entity_id)


def test_anonymous_is_sent_to_login(client) -> None:  # noqa: ANN001
    for path in ("/ws/street", "/ws/street?street=x"):
        r = client.get(path)
        assert r.status_code == 302 and "/login" in r.headers["Location"]
    r = client.post("/ws/street/proposals/150203001-B-x/accept", json={"consent_note": "x"})
    assert r.status_code in (302, 401, 403)


@pytest.mark.parametrize("account", ["ws_viewer", "ws_state"])
def test_roles_without_bundling_rights_get_403(client, ws_demo, ws_ctx, account) -> None:  # noqa: ANN001, F811
    assert client.get("/ws/street", headers=ws_demo.auth(account)).status_code == 403
    pid = open_proposals(ws_ctx, ws_demo.street)[0]["id"]
    r = client.post(f"/ws/street/proposals/{pid}/accept", json={"consent_note": "表决通过"},
                    headers=ws_demo.auth(account))
    assert r.status_code == 403
    assert client.post("/ws/street/plan", json={}, headers=ws_demo.auth(account)).status_code == 403
    assert _denials(ws_ctx, account, pid)


def test_officer_sees_only_their_street(client, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    r = client.get("/ws/street", headers=ws_demo.auth("ws_officer"))
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    ids = [i for i, _ in PROPOSAL_ROW.findall(html)]
    assert len(ids) >= 2
    assert all(i.startswith(ws_demo.street + "-") for i in ids)
    assert ws_demo.street_name in html
    others = open_proposals(ws_ctx, ws_demo.other_street)
    assert others and not any(p["id"] in html for p in others)
    assert 'id="ws-ledger"' in html and "handover-ledger" in html  # ledger table + XLSX export link
    assert 'id="ws-thresholds"' in html and "300" in html  # the bundling thresholds are shown


def test_officer_cannot_open_another_street_by_url(client, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    before = len(_denials(ws_ctx, "ws_officer"))
    r = client.get(f"/ws/street?street={ws_demo.other_street}", headers=ws_demo.auth("ws_officer"))
    assert r.status_code == 403
    r = client.post("/ws/street/plan", json={"street": ws_demo.other_street}, headers=ws_demo.auth("ws_officer"))
    assert r.status_code == 403
    assert len(_denials(ws_ctx, "ws_officer")) == before + 2


def test_officer_cannot_decide_another_streets_proposal(client, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    p = open_proposals(ws_ctx, ws_demo.other_street, "building")[0]
    for verb, body in (("accept", {"consent_note": "业主大会同意", **VOTE_FIELDS}), ("reject", {"reason": "不同意"})):
        r = client.post(f"/ws/street/proposals/{p['id']}/{verb}", json=body, headers=ws_demo.auth("ws_officer"))
        assert r.status_code == 403, r.get_data(as_text=True)
    denied = _denials(ws_ctx, "ws_officer", p["id"])
    assert len(denied) >= 2 and {d["street_code"] for d in denied} == {ws_demo.other_street}
    with ws_ctx.session(readonly=True) as s:
        assert s.get(m.BundleProposal, p["id"]) is None or s.get(m.BundleProposal, p["id"]).status == "proposed"
        assert all(s.get(m.Building, b).compound_id is None for b in p["orphan_ids"])


def test_admin_and_bureau_pick_any_street(client, ws_demo) -> None:  # noqa: ANN001, F811
    for account in ("ws_admin", "ws_bureau"):
        r = client.get(f"/ws/street?street={ws_demo.other_street}", headers=ws_demo.auth(account))
        assert r.status_code == 200
        ids = [i for i, _ in PROPOSAL_ROW.findall(r.get_data(as_text=True))]
        assert ids and all(i.startswith(ws_demo.other_street) for i in ids)
        assert 'id="ws-street-select"' in r.get_data(as_text=True)
    assert client.get("/ws/street?street=no-such-street", headers=ws_demo.auth("ws_admin")).status_code == 404


def test_the_vote_and_reason_are_required(client, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    pid = open_proposals(ws_ctx, ws_demo.street)[-1]["id"]
    for verb, key in (("accept", "vote_area"), ("reject", "reason")):
        for body in ({}, {key: "   "}, {key: 42}):
            r = client.post(f"/ws/street/proposals/{pid}/{verb}", json=body, headers=ws_demo.auth("ws_officer"))
            assert r.status_code == 400 and r.get_json()["field"] == key
    with ws_ctx.session(readonly=True) as s:
        row = s.get(m.BundleProposal, pid)
        assert row is None or row.status == "proposed"


def test_a_failed_or_missing_vote_is_refused_as_on_the_cli(client, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    from tests.plugins.test_bundling_cli import failed_area

    pid = open_proposals(ws_ctx, ws_demo.street)[-1]["id"]
    url = f"/ws/street/proposals/{pid}/accept"
    r = client.post(url, json={**VOTE_FIELDS, "vote_area_participating": "6000"}, headers=ws_demo.auth("ws_officer"))
    assert r.status_code == 400 and r.get_json()["field"] == "vote_area"
    assert r.get_json()["error"] == failed_area("zh") and r.get_json()["params"]["threshold"] == "participation_area"
    r = client.post(url, json={"vote_area": "10000/8000/6000"}, headers=ws_demo.auth("ws_officer"))  # no owners
    assert r.status_code == 400 and r.get_json()["field"] == "vote_owners"
    r = client.post(url, json={**VOTE_FIELDS, "vote_owners_yes": "x"}, headers=ws_demo.auth("ws_officer"))
    assert r.status_code == 400 and r.get_json()["field"] == "vote_owners"
    with ws_ctx.session(readonly=True) as s:
        row = s.get(m.BundleProposal, pid)
        assert row is None or row.status == "proposed"


def test_accept_moves_the_buildings_under_the_host_with_audit(client, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    p = open_proposals(ws_ctx, ws_demo.street, "building")[0]
    with ws_ctx.session(readonly=True) as s:
        host_before = s.get(m.Compound, p["host_compound_id"]).households or 0
    note = "2025年5月业主大会表决：同意户数72%，同意面积70%"
    r = client.post(f"/ws/street/proposals/{p['id']}/accept", json={"consent_note": note, **VOTE_FIELDS},
                    headers=ws_demo.auth("ws_officer"))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["status"] == "accepted" and r.get_json()["decided_by"] == "ws_officer"
    with ws_ctx.session(readonly=True) as s:
        assert {s.get(m.Building, b).compound_id for b in p["orphan_ids"]} == {p["host_compound_id"]}
        row = s.get(m.BundleProposal, p["id"])
        assert row.status == "accepted" and row.consent_note == note
        assert (row.vote_area_total, row.vote_area_participating, row.vote_area_yes) == (10000, 8000, 6000)
        assert (row.vote_owners_total, row.vote_owners_participating, row.vote_owners_yes) == (100, 80, 60)
        assert row.host_firm == s.get(m.Compound, p["host_compound_id"]).company
        assert s.get(m.Compound, p["host_compound_id"]).households == host_before + int(p["orphan_households"])
        events = s.scalars(select(m.AuditEvent).where(m.AuditEvent.entity_id == p["id"],
                                                      m.AuditEvent.action == "accept")).all()
        assert len(events) == 1 and events[0].user_name == "ws_officer" and events[0].detail == note
        moved = s.scalars(select(m.AuditEvent.entity_id).where(m.AuditEvent.entity == "building",
                                                               m.AuditEvent.detail == f"bundle {p['id']}")).all()
        assert sorted(moved) == sorted(p["orphan_ids"])
    again = client.post(f"/ws/street/proposals/{p['id']}/accept", json={"consent_note": note, **VOTE_FIELDS},
                        headers=ws_demo.auth("ws_officer"))
    assert again.status_code == 409 and "accepted" in again.get_json()["error"]
    page = client.get("/ws/street", headers=ws_demo.auth("ws_officer")).get_data(as_text=True)
    assert (p["id"], "accepted") in PROPOSAL_ROW.findall(page)
    assert 'data-role="vote"' in page and "参与 8000㎡" in page  # the recorded vote is shown on the row


def test_reject_keeps_the_reason(client, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    p = open_proposals(ws_ctx, ws_demo.street)[-1]
    r = client.post(f"/ws/street/proposals/{p['id']}/reject", json={"reason": "两小区间有围墙，业主不同意"},
                    headers=ws_demo.auth("ws_officer"))
    assert r.status_code == 200 and r.get_json()["status"] == "rejected"
    with ws_ctx.session(readonly=True) as s:
        row = s.get(m.BundleProposal, p["id"])
        assert row.status == "rejected" and row.reason == "两小区间有围墙，业主不同意"
        if p["orphan_kind"] == "building":
            assert all(s.get(m.Building, b).compound_id is None for b in p["orphan_ids"])


def test_replan_saves_only_the_officers_street(client, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    r = client.post("/ws/street/plan", json={}, headers=ws_demo.auth("ws_officer"))
    assert r.status_code == 200, r.get_data(as_text=True)
    data = r.get_json()
    assert data["street"] == ws_demo.street and data["inserted"] + data["updated"] + data["kept_decided"] >= 1
    with ws_ctx.session(readonly=True) as s:
        streets = set(s.scalars(select(m.BundleProposal.street_code).where(m.BundleProposal.decided_by.is_(None))))
        assert streets <= {ws_demo.street}
        plans = s.scalars(select(m.AuditEvent.street_code).where(m.AuditEvent.action == "plan",
                                                                 m.AuditEvent.user_name == "ws_officer")).all()
        assert plans and set(plans) == {ws_demo.street}


def test_cookie_session_needs_the_csrf_token(client, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    cookie_login(client, "ws_officer", ws_demo.password)
    page = client.get("/ws/street").get_data(as_text=True)
    csrf = re.search(r'"csrf": "([^"]+)"', page).group(1)
    pid = open_proposals(ws_ctx, ws_demo.street)[0]["id"]
    r = client.post(f"/ws/street/proposals/{pid}/reject", json={"reason": "x"})
    assert r.status_code == 403
    r = client.post(f"/ws/street/proposals/{pid}/reject", json={"reason": ""}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 400  # past the CSRF check, stopped by the missing reason


def test_english_page_and_escaped_names(client, ws_demo) -> None:  # noqa: ANN001, F811
    r = client.get("/ws/street?lang=en", headers=ws_demo.auth("ws_admin"))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Street workspace" in html and "Bundling proposals" in html
    html = client.get(f"/ws/street?street={ws_demo.xss_street}", headers=ws_demo.auth("ws_admin")).get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html


def test_ledger_export_link_downloads_the_streets_ledger(client, ws_demo) -> None:  # noqa: ANN001, F811
    html = client.get("/ws/street", headers=ws_demo.auth("ws_officer")).get_data(as_text=True)
    href = re.search(r'id="ws-ledger-export" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    r = client.get(href, headers=ws_demo.auth("ws_officer"))
    assert r.status_code == 200 and r.data[:2] == b"PK"


def test_admin_reverts_an_accepted_proposal_officer_cannot(client, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    p = open_proposals(ws_ctx, ws_demo.street, "building")[0]
    url = f"/ws/street/proposals/{p['id']}"
    assert client.post(url + "/accept", json={"consent_note": "业主大会表决通过", **VOTE_FIELDS},
                       headers=ws_demo.auth("ws_officer")).status_code == 200
    assert client.post(url + "/revert", json={}, headers=ws_demo.auth("ws_officer")).status_code == 403
    page = client.get("/ws/street", headers=ws_demo.auth("ws_officer")).get_data(as_text=True)
    assert "ws-revert" not in page
    page = client.get(f"/ws/street?street={ws_demo.street}", headers=ws_demo.auth("ws_admin")).get_data(as_text=True)
    assert "ws-revert" in page
    blank = client.post(url + "/revert", json={}, headers=ws_demo.auth("ws_admin"))  # the reason is required
    assert blank.status_code == 400 and blank.get_json()["field"] == "note" and blank.get_json()["error"] == "请填写撤销理由"
    r = client.post(url + "/revert", json={"note": "表决材料不全"}, headers=ws_demo.auth("ws_admin"))
    assert r.status_code == 200 and r.get_json()["status"] == "reverted"
    with ws_ctx.session(readonly=True) as s:
        assert all(s.get(m.Building, b).compound_id is None for b in p["orphan_ids"])
    assert client.post(url + "/revert", json={}, headers=ws_demo.auth("ws_admin")).status_code == 409


def test_orphan_buildings_are_listed_by_address_with_points_for_the_map(client, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    """Issue 19 pt 6: a building proposal names its buildings by address (count per address), the codes folded
    away, and carries each building's point for the map highlight."""
    import html as html_lib
    import json

    p = open_proposals(ws_ctx, ws_demo.street, kind="building")[0]
    with ws_ctx.session(readonly=True) as s:
        addresses = dict(s.execute(select(m.Building.id, m.Building.address)
                                   .where(m.Building.id.in_(list(p["orphan_ids"])))).all())
    page = client.get("/ws/street", headers=ws_demo.auth("ws_officer")).get_data(as_text=True)
    row = re.search(rf'<tr data-id="{re.escape(p["id"])}".*?</tr>', page, re.S).group(0)
    for address in {a for a in addresses.values() if a}:
        n = sum(1 for a in addresses.values() if a == address)
        assert html_lib.escape(f"{address}（{n} 栋）") in row
    points = json.loads(html_lib.unescape(re.search(r'data-points="([^"]+)"', row).group(1)))
    assert len(points) == len(p["orphan_ids"]) and all(40 < lat < 41.5 and 109 < lon < 111 for lat, lon in points)


def test_compound_page_has_one_bundle_status(client, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    """A host of the current plan without stored proposals is not also "不涉及打包建议"."""
    p = open_proposals(ws_ctx, ws_demo.street)[0]
    with ws_ctx.session(readonly=True) as s:
        stored = s.get(m.BundleProposal, p["id"])
    page = client.get(f"/compounds/{p['host_compound_id']}", headers=ws_demo.auth("ws_officer")).get_data(as_text=True)
    assert "当前规划：承接" in page
    assert ("不涉及打包建议" in page) is False
    assert stored is None or 'class="wc-bundle"' in page
