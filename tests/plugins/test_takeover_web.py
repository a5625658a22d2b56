"""The takeover API (/api/v1/takeover) over the services: permissions, shortlist save, advance, both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from geoplatform import models as m
from geoplatform.principal import Principal
from tests.plugins.test_takeover_db import SMALL
from tests.support.templates import Template, refill


def _accounts(url: str) -> dict:
    from geoplatform import auth as accounts
    from geoplatform.context import Context

    tokens = {}
    c = Context.create(url)
    with c.session() as s:
        for name, role in (("co", "state_company"), ("v", "viewer"), ("bu", "bureau")):
            accounts.add_user(s, name, role, "correct-horse-battery")
            tokens[name] = {"Authorization": f"Bearer {accounts.new_token(s, name)}"}
    c.engine.dispose()
    return tokens


WEB = Template("takeover-web", _accounts, SMALL)  # the small demo plus three accounts, built once per run


@pytest.fixture
def web(no_solver_limit, ctx):  # noqa: ANN001, ANN201
    """(test client, {user: auth headers}, ctx) on a small demo."""
    from web.app import create_app

    ctx.engine.dispose()
    tokens = refill(ctx.config.database_url, WEB)
    app = create_app(ctx, settings={"TESTING": True})
    return app.test_client(), tokens, ctx


def test_rank_select_save_advance(web) -> None:  # noqa: ANN001
    client, tok, ctx = web
    assert client.get("/api/v1/takeover/rank").status_code in (401, 302)
    rank = client.get("/api/v1/takeover/rank", headers=tok["v"]).get_json()
    assert rank["candidates"] and rank["candidates"][0]["score"] >= rank["candidates"][-1]["score"]
    sel = client.get("/api/v1/takeover/select?min=2&max=3&budget=30", headers=tok["v"]).get_json()
    assert sel["optimal"] is True and 2 <= len(sel["selected"]) <= 3 and sel["saved"] is None
    bad = client.get("/api/v1/takeover/select?min=5&max=6&budget=0.1", headers=tok["v"])
    assert bad.status_code == 422 and bad.get_json()["constraint"] == "budget"
    assert client.get("/api/v1/takeover/select?bogus=1", headers=tok["v"]).status_code == 400

    body = {"min": 2, "max": 3, "year": 2025}
    assert client.post("/api/v1/takeover/shortlist", json=body, headers=tok["v"]).status_code == 403
    saved = client.post("/api/v1/takeover/shortlist", json=body, headers=tok["co"]).get_json()
    chosen = saved["selected"]
    assert saved["saved"]["shortlisted"] == chosen
    target = chosen[0]
    step = {"compound_id": target, "state": "tendering", "year": 2025, "mode": "public", "bidders": 3}
    assert client.post("/api/v1/takeover/advance", json=step, headers=tok["v"]).status_code == 403
    r = client.post("/api/v1/takeover/advance", json={**step, "state": "serving"}, headers=tok["co"])
    assert r.status_code == 400 and r.get_json()["allowed_states"] == ["tendering", "candidate"]
    with ctx.session() as s:  # a signatory for the contract (RULES §4)
        s.get(m.Compound, target).owners_org = "owners_committee"
    terms = {"company": "昆都仑区城市物业服务有限公司", "contract_start": "2025-10-01", "contract_end": "2028-09-30"}
    assert client.post("/api/v1/takeover/advance", json=step, headers=tok["co"]).status_code == 200
    bad = client.post("/api/v1/takeover/advance", json={**step, "state": "contracted"}, headers=tok["bu"])
    assert bad.status_code == 400 and bad.get_json()["fields"] == ["company", "contract_start", "contract_end"]
    assert "--" not in bad.get_json()["error"] and "合同开始日期" in bad.get_json()["error"]  # named as in the form
    for state in ("contracted", "serving"):
        r = client.post("/api/v1/takeover/advance", json={**step, "state": state, **(
            terms if state == "contracted" else {})}, headers=tok["bu"] if state == "contracted" else tok["co"])
        assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["management_mode"] == "state_owned"
    with ctx.session(readonly=True) as s:
        assert s.get(m.Compound, target).management_mode == "state_owned"
        users = [e.user_name for e in s.scalars(select(m.AuditEvent).where(
            m.AuditEvent.entity_id == f"2025/{target}").order_by(m.AuditEvent.id))]
        denied = {(e.user_name, e.entity) for e in s.scalars(select(m.AuditEvent).where(m.AuditEvent.outcome == "denied"))}
    assert users == ["co", "co", "bu", "co"]  # shortlisted, tendering, contracted, serving
    # the viewer's attempts were refused by the write gate before their bodies were read (docs/security.md)
    assert denied == {("v", "takeover_api.save_view"), ("v", "takeover_api.advance_view"),
                      ("anonymous", "takeover_api.rank")}  # the anonymous 401 above is a refusal too


def test_layers_answer_over_http(web) -> None:  # noqa: ANN001
    client, tok, ctx = web
    with ctx.session() as s:
        from plugins.takeover import service
        from plugins.takeover.mapping import settings_for

        top = service.rank(s, settings_for(ctx)).index[0]
        service.advance(s, Principal(name="co", role="state_company"), top, "shortlisted", 2025, settings_for(ctx))
    cand = client.get("/api/v1/layers/takeover_candidates/features", query_string={"zoom": 16},
                      headers=tok["v"])
    assert cand.status_code == 200, cand.data[:300]
    feats = cand.get_json()["features"]
    assert feats and all(f["properties"].get("takeover_score") is not None for f in feats)
    short = client.get("/api/v1/layers/takeover_shortlist/features", query_string={"zoom": 16}, headers=tok["v"])
    assert short.status_code == 200
    assert [f["id"] for f in short.get_json()["features"]] == [top]


def test_tender_and_signatory_refusals_are_the_same_on_cli_and_web(web, cli_run) -> None:  # noqa: ANN001
    """Issue 24 items 6-7: tendering records the tender; contracted needs a signatory and records the contract in
    the firms plugin's registry; the CLI and the API refuse with the same words."""
    from geoplatform.models.firms import ServiceContract
    from plugins.takeover import service
    from plugins.takeover.mapping import settings_for

    client, tok, ctx = web
    url = ctx.config.database_url
    with ctx.session() as s:
        cid = service.rank(s, settings_for(ctx)).index[0]
        compound = s.get(m.Compound, cid)
        compound.floor_area_m2, compound.owners_org = 60_000.0, "none"
    step = {"compound_id": cid, "year": 2030}
    assert client.post("/api/v1/takeover/advance", json={**step, "state": "shortlisted"}, headers=tok["co"]).status_code == 200

    def both(state: str, body: dict, argv: tuple) -> str:
        """The web's refusal (zh, the default); the English one is exactly the CLI's line."""
        web_res = client.post("/api/v1/takeover/advance?lang=zh", json={**step, "state": state, **body},
                              headers=tok["co"])
        web_en = client.post("/api/v1/takeover/advance?lang=en", json={**step, "state": state, **body},
                             headers=tok["co"])
        cli_res = cli_run(url, "takeover", "advance", cid, state, "--year", "2030", *argv)
        assert web_res.status_code == 400 and cli_res.exit_code == 2, (web_res.get_data(as_text=True), cli_res.stderr)
        assert cli_res.stderr.strip() == f"错误 / error: {web_en.get_json()['error']}"
        return web_res.get_json()["error"]

    assert "招标方式和投标" in both("tendering", {}, ())
    assert "须公开招标" in both("tendering", {"mode": "invited", "bidders": 5}, ("--mode", "invited", "--bidders", "5"))
    assert "不能是“negotiated”" in both("tendering", {"mode": "negotiated", "bidders": 3},
                                        ("--mode", "negotiated", "--bidders", "3"))
    with ctx.session() as s:  # below 5万 m² an invited tender is allowed, with at least 3 bidders
        s.get(m.Compound, cid).floor_area_m2 = 20_000.0
    assert "至少需要 3 家" in both("tendering", {"mode": "invited", "bidders": 2}, ("--mode", "invited", "--bidders", "2"))
    with ctx.session(readonly=True) as s:
        assert s.scalar(select(m.TakeoverSelection.state).where(m.TakeoverSelection.compound_id == cid)) == "shortlisted"
    r = cli_run(url, "takeover", "advance", cid, "tendering", "--year", "2030", "--mode", "invited", "--bidders", "3",
                "--json")
    assert r.exit_code == 0, r.stderr
    with ctx.session(readonly=True) as s:
        row = s.scalar(select(m.TakeoverSelection).where(m.TakeoverSelection.compound_id == cid))
        assert row.parameters["tender"] == {"mode": "invited", "bidders": 3, "floor_area_m2": 20_000.0}

    terms = {"company": "昆都仑区城市物业服务有限公司", "contract_start": "2030-01-01", "contract_end": "2032-12-31"}
    argv = ("--company", terms["company"], "--contract-start", "2030-01-01", "--contract-end", "2032-12-31")
    assert "先组建物管会" in both("contracted", terms, argv)  # no owners' organisation at all
    with ctx.session() as s:
        s.get(m.Compound, cid).owners_org = "preparing"
    assert "先完成组建" in both("contracted", terms, argv)  # one being formed cannot sign yet
    with ctx.session() as s:
        s.get(m.Compound, cid).owners_org = "management_committee"
    r = client.post("/api/v1/takeover/advance", json={**step, "state": "contracted", **terms}, headers=tok["co"])
    assert r.status_code == 200, r.get_data(as_text=True)
    with ctx.session(readonly=True) as s:
        k = s.get(ServiceContract, f"TK2030-{cid}")  # recorded by the firms plugin (record_service_contract)
        assert (k.company, str(k.start), str(k.end), k.source) == (terms["company"], "2030-01-01", "2032-12-31",
                                                                   "takeover 2030")
        made = s.scalars(select(m.AuditEvent).where(m.AuditEvent.entity == "service_contract",
                                                    m.AuditEvent.entity_id == k.id)).all()
        assert [(e.action, e.user_name) for e in made] == [("create", "co")]
    r = client.post("/api/v1/takeover/advance", json={**step, "state": "serving"}, headers=tok["co"])
    assert r.status_code == 200 and r.get_json()["contract_id"] == f"TK2030-{cid}"
    with ctx.session(readonly=True) as s:
        c = s.get(m.Compound, cid)
        assert (c.management_mode, c.company, str(c.contract_end)) == ("state_owned", terms["company"], "2032-12-31")


def test_workspace_coverage_uses_the_plan_definition_of_served(web) -> None:  # noqa: ANN001
    """Issue 24 item 9: the coverage figure of /ws/takeover counts what `[rules.plan] served_modes` calls served."""
    import re

    from sqlalchemy import func

    client, tok, ctx = web

    def figure() -> tuple[int, float]:
        html = client.get("/ws/takeover?year=2030", headers=tok["co"]).get_data(as_text=True)
        found = re.search(r'id="tk-coverage" data-rate="([^"]*)" data-served="(\d+)"', html)
        return int(found.group(2)), float(found.group(1))

    def count(modes: tuple[str, ...]) -> tuple[int, int]:
        with ctx.session(readonly=True) as s:
            served = s.scalar(select(func.count()).select_from(m.Compound).where(m.Compound.management_mode.in_(modes)))
            known = s.scalar(select(func.count()).select_from(m.Compound).where(m.Compound.management_mode != "unknown"))
        return served, known

    served, known = count(("professional", "state_owned"))
    assert figure() == (served, pytest.approx(round(served / known, 4)))
    wider = ("professional", "state_owned", "self_managed")
    ctx.config.rules["plan"] = {"served_modes": list(wider)}
    try:
        served_wide, _ = count(wider)
        assert served_wide > served and figure() == (served_wide, pytest.approx(round(served_wide / known, 4)))
    finally:
        ctx.config.rules.pop("plan")
