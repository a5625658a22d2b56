"""Issue 24 (RULES §2) over the CLI and HTTP at once: the same refusals, the district-organised acceptance and its
events, and the telecom / fire roles — on the hand-made fixture of test_handover_service."""

from __future__ import annotations

import csv
import json

import pytest
from sqlalchemy import func, select

from geoplatform.models import HandoverEvent, LedgerItem
from geoplatform.models.handover import HandoverAcceptance
from plugins.handover.ledger import ACCEPTANCE_HEADERS
from tests.plugins.test_handover_rules import T
from tests.plugins.test_handover_service import build_fixture

PASSWORD = "correct-horse-battery"
# SpatiaLite only: these tests compare the surfaces over one service; its SQL runs on both databases in
# test_handover_service (the survey items, the acceptance events).
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def both(ctx, db_url):  # noqa: ANN001, ANN201
    """(test client, {user: auth headers}, db url): the hand-made fixture with admin, telecom and fire accounts."""
    from geoplatform import auth as accounts
    from web.app import create_app

    tokens = {}
    with ctx.session() as s:
        build_fixture(s)
        for name, role in (("adm", "admin"), ("tel", "telecom"), ("fir", "fire")):
            accounts.add_user(s, name, role, PASSWORD)
            tokens[name] = {"Authorization": f"Bearer {accounts.new_token(s, name)}"}
    ctx.today = T
    app = create_app(ctx, settings={"TESTING": True})
    return app.test_client(), tokens, db_url


def _counts(ctx) -> tuple[int, int, int]:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (HandoverEvent, LedgerItem,
                                                                              HandoverAcceptance))


# (compound, facility, PATCH body besides version, CLI args after COMPOUND FACILITY, catalogue key)
REFUSALS = [
    ("A", "water", {"state": "taken_over", "items": [{"content": "x"}]}, ("taken_over", "--item", "x"),
     "handover.items_open_only"),  # 1: a finished row takes no item
    ("A", "heating", {"state": "rectifying"}, ("rectifying",), "handover.rectifying_needs_item"),  # 2
    ("A", "heating", {"state": "rectifying", "items": [{"content": "x", "responsible_unit": "u"}]},
     ("rectifying", "--item", "x|u"), "handover.rectifying_needs_deadline"),  # 2: an item without a deadline
    ("B", "water", {"state": "acceptance"}, ("acceptance",), "handover.needs_district_government"),  # 3
    ("B", "water", {"state": "acceptance", "organised_by": "utility"}, ("acceptance", "--organised-by", "utility"),
     "handover.needs_district_government"),  # 3: another organiser is no way round the owners' vote
    ("B", "water", {"state": "owner_consent", "participants": "x"}, ("owner_consent", "--participants", "x"),
     "handover.acceptance_fields_only"),
]


@pytest.mark.parametrize(("compound", "facility", "body", "args", "key"), REFUSALS,
                         ids=[r[4].split(".")[1] + f"-{n}" for n, r in enumerate(REFUSALS)])
def test_cli_and_http_give_the_same_refusal(both, ctx, cli_run, compound, facility, body, args, key) -> None:  # noqa: ANN001, E501
    client, tok, url = both
    before = _counts(ctx)
    row = client.get(f"/api/v1/handovers/{compound}/{facility}", headers=tok["adm"]).get_json()
    r = client.patch(f"/api/v1/handovers/{compound}/{facility}?lang=en", json={**body, "version": row["version"]},
                     headers=tok["adm"])
    assert r.status_code == 400 and r.get_json()["key"] == key
    cli = cli_run(url, "handover", "set", compound, facility, *args)
    assert cli.exit_code == 2 and cli.stdout == ""
    assert cli.stderr.strip() == f"错误 / error: {r.get_json()['error']}"  # word for word the same refusal
    assert _counts(ctx) == before  # nothing written by either


def test_district_path_over_http_and_the_events_everywhere(both, ctx, cli_run, tmp_path) -> None:  # noqa: ANN001
    client, tok, url = both
    r = client.patch("/api/v1/handovers/B/water", headers=tok["adm"], json={
        "version": 1, "state": "acceptance", "organised_by": "district_government", "held_on": T.isoformat(),
        "participants": "区住建局、供水公司"})
    assert r.status_code == 200 and r.get_json()["state"] == "acceptance"
    # the result over the CLI: a failed acceptance, its defect a ledger item with a deadline (so rectifying is allowed)
    out = cli_run(url, "handover", "set", "B", "water", "rectifying", "--item", "阀门井渗漏|产权单位|2026-07-31",
                  "--acceptance-date", T.isoformat(), "--json")
    assert out.exit_code == 0, out.stderr
    shown = json.loads(cli_run(url, "handover", "show", "B", "water", "--json").stdout)
    assert [(a["organised_by"], a["held_on"], a["participants"], a["result"], [d["content"] for d in a["defects"]])
            for a in shown["acceptances"]] == [("district_government", T.isoformat(), "区住建局、供水公司", "fail",
                                                ["阀门井渗漏"])]
    api = client.get("/api/v1/handovers/B/water", headers=tok["adm"]).get_json()
    assert api["acceptances"] == shown["acceptances"] and api["state"] == "rectifying"
    # the CLI takes the organiser's Chinese label too
    out = cli_run(url, "handover", "set", "C", "power", "acceptance", "--organised-by", "区政府组织", "--json")
    assert out.exit_code == 0 and json.loads(out.stdout)["acceptances"][0]["organised_by"] == "district_government"
    # the compound's handover section shows the events
    page = client.get("/compounds/B", headers=tok["adm"]).get_data(as_text=True)
    section = page[page.index('id="wc-acceptances"'):]
    assert 'class="wc-acceptance" data-facility="water" data-result="fail"' in section
    assert all(w in section for w in ("区政府组织", "区住建局、供水公司", "验收未通过", "阀门井渗漏", T.isoformat()))
    # and the export lists them (the pending one of C as 待验收)
    path = tmp_path / "acceptances.csv"
    r = cli_run(url, "export", "handover-acceptances", "--format", "csv", "-o", str(path))
    assert r.exit_code == 0, r.stderr
    lines = list(csv.reader(path.open(encoding="utf-8-sig")))
    assert lines[0] == list(ACCEPTANCE_HEADERS)
    assert [line[2:] for line in lines[1:]] == [
        ["供水", T.isoformat(), "区政府组织", "区住建局、供水公司", "验收未通过", "阀门井渗漏（产权单位） 期限 2026-07-31", "", "B"],
        ["供电", "", "区政府组织", "", "待验收", "", "", "C"]]


def test_telecom_and_fire_edit_only_their_own_kind(both, ctx, cli_run) -> None:  # noqa: ANN001
    client, tok, url = both
    ok = client.patch("/api/v1/handovers/D/telecom_access", headers=tok["tel"], json={
        "version": 0, "state": "blocked", "items": [{"content": "协调运营商进场", "deadline": "2026-08-01"}]})
    assert ok.status_code == 200 and ok.get_json()["open_items"] == 1
    assert client.patch("/api/v1/handovers/D/fire_acceptance", headers=tok["tel"],
                        json={"version": 0, "state": "not_accepted"}).status_code == 403
    assert client.patch("/api/v1/handovers/D/water", headers=tok["fir"],
                        json={"version": 0, "state": "not_handed_over"}).status_code == 403
    assert client.patch("/api/v1/handovers/B/fire_acceptance", headers=tok["fir"],
                        json={"version": 1, "state": "rectifying",
                              "items": [{"content": "更换喷淋头", "deadline": "2026-07-01"}]}).status_code == 200
    # the CLI enforces the same with --user
    refused = cli_run(url, "handover", "set", "D", "power_upgrade", "planned", "--user", "fir")
    assert refused.exit_code == 2 and "may not change" in refused.stderr
    assert cli_run(url, "handover", "set", "D", "telecom_access", "negotiating", "--user", "tel").exit_code == 0
    # their workspace is their backlog: the telecom account lands on telecom_access rows only
    page = client.get("/ws/utility", headers=tok["tel"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-compound="D" data-state="negotiating"' in html and 'data-state="not_handed_over"' not in html
    assert client.get("/ws/utility?utility=water", headers=tok["tel"]).status_code == 403
    mine = client.get("/api/v1/handover/backlog", headers=tok["fir"]).get_json()
    assert {i["facility"] for i in mine["items"]} == {"fire_acceptance"} and mine["counts"]["total"] == 1


@pytest.mark.parametrize("role", ["telecom", "fire"])
def test_the_bureau_creates_telecom_and_fire_accounts(both, ctx, cli_run, role) -> None:  # noqa: ANN001
    client, tok, url = both
    page = client.get("/ws/bureau/users", headers=tok["adm"]).get_data(as_text=True)
    assert f'<option value="{role}"' in page  # the users page offers the role
    r = client.post("/ws/bureau/users", headers=tok["adm"], data={"name": f"web_{role}", "role": role,
                                                                 "password": PASSWORD})
    assert r.status_code == 302
    with ctx.session(readonly=True) as s:
        from geoplatform.models import User

        u = s.scalars(select(User).where(User.name == f"web_{role}")).one()
        assert (u.role, u.utility, u.street_code) == (role, None, None)
    r = cli_run(url, "users", "add", f"new_{role}", "--role", role, "--password-stdin", "--json", input=PASSWORD + "\n")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["role"] == role
    bad = cli_run(url, "users", "add", f"bad_{role}", "--role", role, "--utility", "water", "--password-stdin",
                  input=PASSWORD + "\n")
    assert bad.exit_code == 2  # they own a gap kind, not a utility
