"""The handover plugin's API (plugins/handover/pages.py over its service): backlog, history, GET/PATCH rows, both databases."""

from __future__ import annotations

import pytest

from tests.plugins.test_handover_rules import T
from tests.plugins.test_handover_service import build_fixture


@pytest.fixture
def web(ctx):  # noqa: ANN001, ANN201
    """(test client, {user name: auth headers}) on the hand-made fixture."""
    from geoplatform import auth as accounts
    from web.app import create_app

    tokens = {}
    with ctx.session() as s:
        build_fixture(s)
        for name, role, street, utility in (("adm", "admin", None, None), ("w", "utility", None, "water"),
                                            ("zt", "street_officer", "150203003", None)):
            accounts.add_user(s, name, role, "correct-horse-battery", street=street, utility=utility)
            tokens[name] = {"Authorization": f"Bearer {accounts.new_token(s, name)}"}
    ctx.today = T
    app = create_app(ctx, settings={"TESTING": True})
    return app.test_client(), tokens


def test_backlog_route(web) -> None:  # noqa: ANN001
    client, tok = web
    assert client.get("/api/v1/handover/backlog").status_code in (401, 302)
    d = client.get(f"/api/v1/handover/backlog?today={T.isoformat()}", headers=tok["adm"]).get_json()
    assert d["counts"]["total"] == 14 and d["counts"]["overdue"] == 2
    mine = client.get("/api/v1/handover/backlog", headers=tok["w"]).get_json()  # a utility sees its own backlog
    assert {i["facility"] for i in mine["items"]} == {"water"} and mine["counts"]["total"] == 3
    d = client.get("/api/v1/handover/backlog?street=沼潭街道", headers=tok["adm"]).get_json()
    assert d["counts"]["by_street"] == {"沼潭街道": 8}
    assert client.get("/api/v1/handover/backlog?utility=sewage", headers=tok["adm"]).status_code == 400
    assert client.get("/api/v1/handover/backlog?today=x", headers=tok["adm"]).status_code == 400


def test_patch_maps_errors_and_history_route(web) -> None:  # noqa: ANN001
    client, tok = web
    url = "/api/v1/handovers/D/water"
    assert client.get(url, headers=tok["adm"]).get_json()["version"] == 0
    r = client.patch(url, json={"state": "taken_over", "version": 0}, headers=tok["adm"])
    assert r.status_code == 400 and r.get_json()["allowed"] == ["not_handed_over"]
    r = client.patch(url, json={"state": "not_handed_over", "version": 0}, headers=tok["w"])
    assert r.status_code == 200 and r.get_json()["version"] == 1
    r = client.patch(url, json={"state": "owner_consent", "version": 0}, headers=tok["adm"])
    assert r.status_code == 409
    assert client.patch("/api/v1/handovers/D/power", json={"state": "not_handed_over", "version": 0},
                        headers=tok["w"]).status_code == 403  # not the water utility's facility
    assert client.patch("/api/v1/handovers/A/heating", json={"state": "agreement", "version": 1},
                        headers=tok["zt"]).status_code == 403  # A is not in 沼潭街道
    assert client.patch("/api/v1/handovers/D/gas", json={"state": "not_handed_over", "version": 0},
                        headers=tok["zt"]).status_code == 200
    h = client.get("/api/v1/handover/history/D", headers=tok["adm"]).get_json()
    assert [(e["facility"], e["user"], e["to"]) for e in h["events"]] == [("water", "w", "not_handed_over"),
                                                                         ("gas", "zt", "not_handed_over")]
    assert client.get("/api/v1/handover/history/Z", headers=tok["adm"]).status_code == 404
