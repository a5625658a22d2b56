"""The utility workspace over HTTP: who may open it, own facility only (403 + audit by any URL), state changes, ledger."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from geoplatform import models as m
from tests.web.ws_role_fixtures import cookie_login, handover_rows, role_app, role_ctx, role_demo  # noqa: F401

ROW = re.compile(r'<tr class="ws-row[^"]*" data-compound="([^"]+)" data-state="([a-z_]+)" data-overdue="([01])"')


@pytest.fixture
def client(role_app):  # noqa: ANN001, ANN201, F811
    return role_app.test_client()


def _denials(ctx, user: str) -> int:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        return s.scalar(select(func.count()).select_from(m.AuditEvent)
                        .where(m.AuditEvent.user_name == user, m.AuditEvent.outcome == "denied"))


def test_anonymous_is_sent_to_login(client) -> None:  # noqa: ANN001
    for path in ("/ws/utility", "/ws/utility?utility=gas", "/ws/utility/ledger.xlsx"):
        r = client.get(path)
        assert r.status_code == 302 and "/login" in r.headers["Location"]


@pytest.mark.parametrize("account", ["wr_viewer", "wr_state", "wr_officer"])
def test_other_roles_get_403(client, role_demo, role_ctx, account) -> None:  # noqa: ANN001, F811
    before = _denials(role_ctx, account)
    assert client.get("/ws/utility", headers=role_demo.auth(account)).status_code == 403
    assert client.get("/ws/utility/ledger.xlsx", headers=role_demo.auth(account)).status_code == 403
    assert _denials(role_ctx, account) == before + 2


def test_utility_sees_its_own_backlog(client, role_demo, role_ctx) -> None:  # noqa: ANN001, F811
    r = client.get("/ws/utility", headers=role_demo.auth("wr_water"))
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    rows = ROW.findall(html)
    assert len(rows) > 10
    assert "供水" in html and 'id="ws-backlog"' in html and '"handover_water"' in html  # table + the water layer
    # the rows are the water backlog: every listed compound has an open (non-final) water row or none yet
    with role_ctx.session(readonly=True) as s:
        done = set(s.scalars(select(m.Handover.compound_id).where(m.Handover.facility == "water",
                                                                   m.Handover.state == "taken_over")))
    assert not {c for c, _, _ in rows} & done


def test_utility_cannot_open_another_facility(client, role_demo, role_ctx) -> None:  # noqa: ANN001, F811
    before = _denials(role_ctx, "wr_water")
    assert client.get("/ws/utility?utility=gas", headers=role_demo.auth("wr_water")).status_code == 403
    assert client.get("/ws/utility/ledger.xlsx?utility=gas", headers=role_demo.auth("wr_water")).status_code == 403
    assert _denials(role_ctx, "wr_water") == before + 2
    assert client.get("/ws/utility?utility=gas", headers=role_demo.auth("wr_bureau")).status_code == 200


def test_filters(client, role_demo) -> None:  # noqa: ANN001, F811
    auth = role_demo.auth("wr_water")
    overdue = ROW.findall(client.get("/ws/utility?overdue=1", headers=auth).get_data(as_text=True))
    assert overdue and all(o == "1" for _, _, o in overdue)
    rect = ROW.findall(client.get("/ws/utility?state=rectifying", headers=auth).get_data(as_text=True))
    assert rect and all(st == "rectifying" for _, st, _ in rect)
    html = client.get(f"/ws/utility?street={role_demo.street}", headers=auth).get_data(as_text=True)
    assert ROW.findall(html) and f'value="{role_demo.street}" selected' in html
    assert client.get("/ws/utility?state=bogus", headers=auth).status_code == 400


def test_state_change_allowed_next_and_stale_version(client, role_demo, role_ctx) -> None:  # noqa: ANN001, F811
    row = handover_rows(role_ctx, "water", "not_handed_over")[0]
    url = f"/api/v1/handovers/{row['compound_id']}/water"
    auth = role_demo.auth("wr_water")
    bad = client.patch(url, json={"version": row["version"], "state": "taken_over"}, headers=auth)
    assert bad.status_code == 400 and set(bad.get_json()["allowed"]) == {"owner_consent", "renovation"}
    ok = client.patch(url, json={"version": row["version"], "state": "owner_consent", "note": "业主表决通过"},
                      headers=auth)
    assert ok.status_code == 200 and ok.get_json()["state"] == "owner_consent"
    stale = client.patch(url, json={"version": row["version"], "state": "applied"}, headers=auth)
    assert stale.status_code == 409
    with role_ctx.session(readonly=True) as s:
        e = m.HandoverEvent
        ev = s.execute(select(e.from_state, e.to_state, e.user_name, e.note).where(e.handover_id == row["id"])
                       .order_by(e.id.desc())).first()
    assert tuple(ev) == ("not_handed_over", "owner_consent", "wr_water", "业主表决通过")


def test_utility_cannot_change_another_facility_by_any_url(client, role_demo, role_ctx) -> None:  # noqa: ANN001, F811
    gas = handover_rows(role_ctx, "gas", "not_handed_over")[0]
    before = _denials(role_ctx, "wr_water")
    r = client.patch(f"/api/v1/handovers/{gas['compound_id']}/gas",
                     json={"version": gas["version"], "state": "owner_consent"}, headers=role_demo.auth("wr_water"))
    assert r.status_code == 403
    with role_ctx.session(readonly=True) as s:
        item = s.execute(select(m.LedgerItem.id, m.LedgerItem.handover_id).join(m.Handover)
                         .where(m.Handover.facility == "gas", m.LedgerItem.done_date.is_(None))).first()
    r = client.post(f"/ws/utility/items/{item.id}/done", json={}, headers=role_demo.auth("wr_water"))
    assert r.status_code == 403
    assert _denials(role_ctx, "wr_water") == before + 2
    with role_ctx.session(readonly=True) as s:
        assert s.get(m.Handover, gas["id"]).state == "not_handed_over"
        assert s.get(m.LedgerItem, item.id).done_date is None


def test_rectifying_with_ledger_item_then_done(client, role_demo, role_ctx) -> None:  # noqa: ANN001, F811
    row = handover_rows(role_ctx, "water", "acceptance")[0]
    url = f"/api/v1/handovers/{row['compound_id']}/water"
    r = client.patch(url, json={"version": row["version"], "state": "rectifying", "note": "验收未通过",
                                "deadline": "2026-12-31",
                                "items": [{"content": "更换供水主管", "responsible_unit": "水务公司",
                                           "deadline": "2026-12-31"}]}, headers=role_demo.auth("wr_water"))
    assert r.status_code == 200, r.get_json()
    item = next(i for i in r.get_json()["items"] if i["content"] == "更换供水主管")
    done = client.post(f"/ws/utility/items/{item['id']}/done", json={"done_date": "2026-11-20"},
                       headers=role_demo.auth("wr_water"))
    assert done.status_code == 200 and done.get_json()["done_date"] == "2026-11-20"
    again = client.post(f"/ws/utility/items/{item['id']}/done", json={}, headers=role_demo.auth("wr_water"))
    assert again.status_code == 409
    with role_ctx.session(readonly=True) as s:
        users = s.scalars(select(m.AuditEvent.user_name).where(m.AuditEvent.entity == "ledger_item",
                                                               m.AuditEvent.entity_id == str(item["id"]))).all()
    assert users == ["wr_water"]


def test_export_holds_only_the_own_facility(client, role_demo) -> None:  # noqa: ANN001, F811
    from openpyxl import load_workbook

    r = client.get("/ws/utility/ledger.xlsx", headers=role_demo.auth("wr_water"))
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(r.data)).active
    header = [c.value for c in ws[1]]
    facilities = {row[header.index("设施类型")] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert facilities == {"供水"}
    r = client.get("/ws/utility/ledger.xlsx?utility=gas", headers=role_demo.auth("wr_bureau"))
    ws = load_workbook(io.BytesIO(r.data)).active
    assert {row[2] for row in ws.iter_rows(min_row=2, values_only=True)} == {"供气"}


def test_item_done_needs_csrf_with_a_cookie_session(client, role_demo, role_ctx) -> None:  # noqa: ANN001, F811
    with role_ctx.session(readonly=True) as s:
        item_id = s.scalar(select(m.LedgerItem.id).join(m.Handover)
                           .where(m.Handover.facility == "water", m.LedgerItem.done_date.is_(None)))
    cookie_login(client, "wr_water")
    page = client.get("/ws/utility").get_data(as_text=True)
    csrf = re.search(r'"csrf": "([^"]+)"', page).group(1)
    assert client.post(f"/ws/utility/items/{item_id}/done", json={}).status_code == 403
    r = client.post(f"/ws/utility/items/{item_id}/done", json={}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200


def test_page_escapes_and_switches_language(client, role_demo) -> None:  # noqa: ANN001, F811
    from tests.support.webdemo import XSS_NAME

    html = client.get("/ws/utility?lang=en", headers=role_demo.auth("wr_water")).get_data(as_text=True)
    assert "Water" in html or "water" in html
    assert "handover backlog" in html
    assert XSS_NAME not in html


@pytest.mark.parametrize(("account", "utility", "bureau"), [("wr_water", True, False), ("wr_bureau", True, True),
                                                            ("wr_viewer", False, False), ("wr_officer", False, False)])
def test_nav_links_to_the_workspaces(client, role_demo, account, utility, bureau) -> None:  # noqa: ANN001, F811
    html = client.get("/", headers=role_demo.auth(account)).get_data(as_text=True)
    assert ('id="gp-nav-ws-utility"' in html, 'id="gp-nav-ws-bureau"' in html) == (utility, bureau)
