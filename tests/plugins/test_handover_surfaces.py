"""One service layer under the CLI and HTTP (issue 16): the same bad input gets the same answer on every surface.

Completing a ledger item twice is a Conflict on the CLI and over HTTP alike (no second audit event, the
first done date kept); an unknown street is the same NotFound from the CLI, the API, the workspace pages
and the utility ledger export. Both databases, on the hand-made handover fixture.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from geoplatform import models as m
from tests.plugins.test_handover_rules import T
from tests.plugins.test_handover_service import build_fixture


@pytest.fixture
def surfaces(ctx, db_url):  # noqa: ANN001, ANN201
    """(test client, {name: headers}, ctx, db url) on the hand-made fixture with an admin and a water utility."""
    from geoplatform import auth as accounts
    from web.app import create_app

    with ctx.session() as s:
        build_fixture(s)
        tokens = {}
        for name, role, utility in (("adm", "admin", None), ("w", "utility", "water")):
            accounts.add_user(s, name, role, "correct-horse-battery", utility=utility)
            tokens[name] = {"Authorization": f"Bearer {accounts.new_token(s, name)}"}
    ctx.today = T
    return create_app(ctx, settings={"TESTING": True}).test_client(), tokens, ctx, db_url


def _open_items(ctx) -> list[int]:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        return list(s.scalars(select(m.LedgerItem.id).where(m.LedgerItem.done_date.is_(None)).order_by(m.LedgerItem.id)))


def _done_events(ctx, item_id: int) -> int:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        return s.scalar(select(func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.entity == "ledger_item", m.AuditEvent.entity_id == str(item_id), m.AuditEvent.outcome == "ok"))


def test_done_twice_is_a_conflict_on_the_cli_and_over_http(surfaces, cli_run) -> None:  # noqa: ANN001
    client, tok, ctx, url = surfaces
    first, second = _open_items(ctx)[:2]
    # CLI first, then CLI and HTTP again
    assert cli_run(url, "handover", "done", str(first), "--date", "2026-03-01").exit_code == 0
    again = cli_run(url, "handover", "done", str(first), "--date", "2026-04-01")
    assert again.exit_code == 2 and "already done" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    r = client.post(f"/ws/utility/items/{first}/done", json={"done_date": "2026-05-01"}, headers=tok["adm"])
    assert r.status_code == 409
    body = r.get_json()
    assert body["key"] == "handover.item_already_done" and body["status"] == 409 and "2026-03-01" in body["error"]
    # HTTP first, then HTTP and CLI again
    assert client.post(f"/ws/utility/items/{second}/done", json={"done_date": "2026-03-02"},
                       headers=tok["adm"]).status_code == 200
    assert client.post(f"/ws/utility/items/{second}/done", json={}, headers=tok["adm"]).status_code == 409
    cli = cli_run(url, "handover", "done", str(second))
    assert cli.exit_code == 2 and "already done" in cli.stderr
    with ctx.session(readonly=True) as s:
        assert s.get(m.LedgerItem, first).done_date.isoformat() == "2026-03-01"  # the first date stays
        assert s.get(m.LedgerItem, second).done_date.isoformat() == "2026-03-02"
    assert _done_events(ctx, first) == 1 and _done_events(ctx, second) == 1  # no second audit event


def test_unknown_ledger_item_is_404_over_http_and_exit_2_on_the_cli(surfaces, cli_run) -> None:  # noqa: ANN001
    client, tok, _, url = surfaces
    r = client.post("/ws/utility/items/999999/done", json={}, headers=tok["w"])
    assert r.status_code == 404 and r.get_json()["key"] == "handover.unknown_item"
    cli = cli_run(url, "handover", "done", "999999")
    assert cli.exit_code == 2 and "unknown ledger item 999999" in cli.stderr


UNKNOWN = "NO_SUCH"


def test_unknown_street_is_the_same_error_everywhere(surfaces, cli_run) -> None:  # noqa: ANN001
    client, tok, _, url = surfaces
    urls = ["/api/v1/handover/backlog", "/api/v1/kpi", "/api/v1/export/compound", "/ws/utility",
            "/ws/utility/ledger.xlsx?utility=water", "/ws/street", "/ws/bureau?x=1"]
    answers = []
    for base in urls:
        sep = "&" if "?" in base else "?"
        param = "trend_street" if base.startswith("/ws/bureau") else "street"
        r = client.get(f"{base}{sep}{param}={UNKNOWN}&lang=en", headers={**tok["adm"], "Accept": "application/json"})
        assert r.status_code == 404, (base, r.status_code, r.get_data(as_text=True)[:200])
        answers.append((r.get_json()["key"], r.get_json()["params"], r.get_json()["error"]))
    assert len(set(map(str, answers))) == 1, answers
    key, params, text = answers[0]
    assert key == "street.unknown" and params == {"value": UNKNOWN} and UNKNOWN in text
    page = client.get(f"/ws/utility?street={UNKNOWN}&lang=zh", headers=tok["adm"])  # a page request gets a page
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert f"未知街镇“{UNKNOWN}”" in page.get_data(as_text=True)  # the same message, in the page's language
    for args in (("handover", "backlog", "--street", UNKNOWN), ("kpi", "--street", UNKNOWN)):
        r = cli_run(url, *args)
        assert r.exit_code == 2 and text in r.stderr, (args, r.stderr)


def test_the_handover_row_routes_belong_to_the_plugin(ctx, db_url, monkeypatch) -> None:  # noqa: ANN001
    from geoplatform import auth as accounts
    from geoplatform.context import Context
    from web.app import create_app

    with ctx.session() as s:
        build_fixture(s)
        accounts.add_user(s, "adm", "admin", "correct-horse-battery")
        token = {"Authorization": f"Bearer {accounts.new_token(s, 'adm')}"}
    monkeypatch.setenv("GEOPLATFORM_DISABLE_PLUGINS", "handover")
    client = create_app(Context.create(db_url), settings={"TESTING": True}).test_client()
    assert client.get("/api/v1/handovers/A/water", headers=token).status_code == 404
    r = client.patch("/api/v1/handovers/A/water", json={"state": "not_handed_over", "version": 0}, headers=token)
    assert r.status_code == 404
    with ctx.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(m.HandoverEvent)) == 0  # nothing was written
