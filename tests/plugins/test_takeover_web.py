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
        denied = {e.user_name for e in s.scalars(select(m.AuditEvent).where(m.AuditEvent.outcome == "denied"))}
    assert users == ["co", "v", "co", "bu", "co"]  # shortlisted, denied attempt, tendering, contracted, serving
    assert denied == {"v"}


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
