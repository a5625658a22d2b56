"""The state company's takeover workspace over HTTP: who may use it, parameter validation, selection vs greedy,
saving the year's shortlist, the pipeline to serving, CSRF, the printable page and exports (both databases)."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from geoplatform import models as m
from tests.support.webdemo import XSS_ID, XSS_NAME
from tests.web.ws_accounts import cookie_login
from tests.web.ws_takeover_fixtures import tk_app, tk_ctx, tk_demo  # noqa: F401

TENDER = {"mode": "public", "bidders": 3}  # what entering `tendering` records (RULES §4)
CAND_ROW = re.compile(r'<tr class="tk-cand" data-id="([^"]+)"')
WEIGHTS = {"contiguity": 20, "age": 15, "renovation": 15, "fee_viability": 15, "households": 10,
           "safety_complaints": 10, "utility_handover": 10, "owners_org": 5}


@pytest.fixture
def client(tk_app):  # noqa: ANN001, ANN201, F811
    return tk_app.test_client()


def _rows(ctx, year: int) -> dict[str, str]:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        return dict(s.execute(select(m.TakeoverSelection.compound_id, m.TakeoverSelection.state)
                              .where(m.TakeoverSelection.year == year)).all())


def _denials(ctx, user: str) -> int:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        return s.scalar(select(func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.user_name == user, m.AuditEvent.outcome == "denied")) or 0


def test_anonymous_is_sent_to_login(client, tk_ctx) -> None:  # noqa: ANN001, F811
    for path in ("/ws/takeover", "/ws/takeover/print?year=2030", "/ws/takeover/select?budget=100"):
        r = client.get(path)
        assert r.status_code == 302 and "/login" in r.headers["Location"], path
    for path, body in (("/ws/takeover/shortlist", {"year": 2030}),
                       ("/ws/takeover/advance", {"compound_id": XSS_ID, "state": "shortlisted", "year": 2030})):
        assert client.post(path, json=body).status_code in (302, 401, 403)
    assert _rows(tk_ctx, 2030) == {}


@pytest.mark.parametrize("account", ["tk_officer", "tk_utility", "tk_viewer"])
def test_other_roles_get_403_and_are_audited(client, tk_demo, tk_ctx, account) -> None:  # noqa: ANN001, F811
    before = _denials(tk_ctx, account)
    h = tk_demo.auth(account)
    assert client.get("/ws/takeover", headers=h).status_code == 403
    assert client.get("/ws/takeover/print?year=2030", headers=h).status_code == 403
    assert client.get("/ws/takeover/select?budget=100", headers=h).status_code == 403
    assert client.post("/ws/takeover/shortlist", json={"year": 2030}, headers=h).status_code == 403
    r = client.post("/ws/takeover/advance", json={"compound_id": XSS_ID, "state": "shortlisted", "year": 2030},
                    headers=h)
    assert r.status_code == 403
    assert _rows(tk_ctx, 2030) == {}
    assert _denials(tk_ctx, account) == before + 5


@pytest.mark.parametrize("account", ["tk_state", "tk_bureau", "tk_admin"])
def test_state_company_bureau_and_admin_open_the_picker(client, tk_demo, tk_ctx, account) -> None:  # noqa: ANN001, F811
    r = client.get("/ws/takeover", headers=tk_demo.auth(account))
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    from plugins.takeover import service
    from plugins.takeover.mapping import settings_for

    with tk_ctx.session(readonly=True) as s:
        ranked = list(service.rank(s, settings_for(tk_ctx)).index)
    assert CAND_ROW.findall(html) == ranked  # every candidate, best first
    legend = html[html.index('id="tk-legend"'):html.index('id="tk-candidates"')]
    for name in ("连片", "房龄", "老旧小区改造", "收缴率", "户数", "投诉", "移交", "业委会"):
        assert name in legend
    assert all(f"权重 {w}" in legend for w in set(WEIGHTS.values()))
    assert "公开招标" in html and "公开/邀请" in html and 'data-points="' in html
    assert "协议" not in html  # the plan allows only public or invited tender (RULES §4)
    for fmt in ("xlsx", "geojson"):
        assert re.search(rf'href="/api/v1/export/takeover-shortlist\?format={fmt}"', html)
    assert 'id="tk-print" href="/ws/takeover/print?year=' in html
    assert 'id="tk-coverage"' in html and 'id="tk-board"' in html and 'id="tk-params"' in html


def test_the_nav_links_the_workspace_for_the_roles_that_may_open_it(client, tk_demo) -> None:  # noqa: ANN001, F811
    for account, shown in (("tk_state", True), ("tk_bureau", True), ("tk_viewer", False), ("tk_officer", False)):
        html = client.get("/", headers=tk_demo.auth(account)).get_data(as_text=True)
        assert ('id="gp-nav-ws-takeover" href="/ws/takeover"' in html) is shown, account


def test_hostile_names_are_escaped_and_english_works(client, tk_demo) -> None:  # noqa: ANN001, F811
    html = client.get("/ws/takeover", headers=tk_demo.auth("tk_state")).get_data(as_text=True)
    assert f'data-id="{XSS_ID}"' in html  # the hostile-named compound is a candidate (no property service)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and XSS_NAME not in html
    row = html[html.index(f'data-id="{XSS_ID}"'):]
    row = row[:row.index("</tr>")]
    assert "缺数据按0分：房龄、收费、投诉" in row  # missing inputs named as the page names the components
    en = client.get("/ws/takeover?lang=en", headers=tk_demo.auth("tk_state")).get_data(as_text=True)
    assert "State takeover workspace" in en and "Compute optimal set" in en and "weight 20" in en


@pytest.mark.parametrize(("query", "field"), [
    ("min=abc", "min"), ("max=0", "max"), ("min=1.5", "min"), ("budget=-1", "budget"), ("budget=nan", "budget"),
    ("budget=1e99", "budget"), ("per_street_max=0", "per_street_max"), ("contiguity_weight=x", "contiguity_weight"),
    ("year=1800", "year"), ("min=12&max=5", "max"), ("bogus=1", "bogus"),
])
def test_garbage_parameters_are_400_naming_the_field(client, tk_demo, query, field) -> None:  # noqa: ANN001, F811
    r = client.get(f"/ws/takeover/select?{query}", headers=tk_demo.auth("tk_state"))
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json()["field"] == field and "无效" in r.get_json()["error"]


def test_garbage_bodies_of_state_changes_are_400(client, tk_demo, tk_ctx) -> None:  # noqa: ANN001, F811
    h = tk_demo.auth("tk_state")
    assert client.post("/ws/takeover/shortlist", data="[1]", content_type="application/json", headers=h).status_code == 400
    assert client.post("/ws/takeover/shortlist", json={"min": "ten", "year": 2030}, headers=h).status_code == 400
    assert client.post("/ws/takeover/shortlist", json={"year": "soon"}, headers=h).status_code == 400
    for body in ({}, {"compound_id": 5, "state": "shortlisted"}, {"compound_id": XSS_ID},
                 {"compound_id": XSS_ID, "state": "shortlisted", "year": "x"}):
        r = client.post("/ws/takeover/advance", json=body, headers=h)
        assert r.status_code == 400, body
    r = client.post("/ws/takeover/advance", json={"compound_id": XSS_ID, "state": "flying", "year": 2030}, headers=h)
    assert r.status_code == 400 and "flying" in r.get_json()["error"]
    r = client.post("/ws/takeover/advance", json={"compound_id": "no-such", "state": "shortlisted", "year": 2030},
                    headers=h)
    assert r.status_code == 400 and r.get_json()["error"] == "找不到小区 no-such"
    assert _rows(tk_ctx, 2030) == {}


@pytest.mark.parametrize(("query", "constraint", "words"), [
    ("budget=1", "budget", "预算不足"),
    ("per_street_max=1&min=40&max=40", "per_street_max", "每街镇上限过低"),
    ("min=400&max=500", "count", "候选小区不足"),
])
def test_infeasible_parameters_get_a_clear_message(client, tk_demo, query, constraint, words) -> None:  # noqa: ANN001, F811
    r = client.get(f"/ws/takeover/select?{query}", headers=tk_demo.auth("tk_state"))
    assert r.status_code == 422
    data = r.get_json()
    assert data["constraint"] == constraint and words in data["error"] and data["detail"]
    en = client.get(f"/ws/takeover/select?{query}&lang=en", headers=tk_demo.auth("tk_state")).get_json()
    assert en["constraint"] == constraint and "No feasible" not in en["error"] and en["error"] != data["error"]


def test_selection_beats_or_matches_greedy_and_names_the_differences(client, tk_demo, tk_ctx) -> None:  # noqa: ANN001, F811
    with tk_ctx.session(readonly=True) as s:
        rows_before = s.scalar(select(func.count()).select_from(m.TakeoverSelection))
    r = client.get("/ws/takeover/select?budget=150&min=10&max=15", headers=tk_demo.auth("tk_state"))
    assert r.status_code == 200, r.get_data(as_text=True)
    d = r.get_json()
    assert d["optimal"] is True and 10 <= len(d["selected"]) <= 15 and d["total_cost"] <= 150
    assert d["objective"] >= d["baseline_greedy_objective"] - 1e-6
    assert d["gain"] == pytest.approx(d["objective"] - d["baseline_greedy_objective"], abs=0.01)
    greedy = set(d["baseline_greedy"])
    assert {x["compound_id"] for x in d["diff"]["only_optimal"]} == set(d["selected"]) - greedy
    assert {x["compound_id"] for x in d["diff"]["only_greedy"]} == greedy - set(d["selected"])
    roles = {f["id"]: f["properties"]["role"] for f in d["features"]["features"]}
    assert {k for k, v in roles.items() if v == "selected"} == set(d["selected"])
    assert {k for k, v in roles.items() if v == "greedy_only"} == greedy - set(d["selected"])
    # one plain sentence: the set's total against picking by score, no solver jargon
    assert f"{d['objective']:.1f} 分" in d["summary"] and f"合计 {d['baseline_greedy_objective']:.1f} 分" in d["summary"]
    assert not any(w in d["summary"] for w in ("贪心", "HiGHS", "目标值", "求解"))
    from plugins.takeover import service
    from plugins.takeover.mapping import settings_for

    with tk_ctx.session(readonly=True) as s:  # the page shows the plugin's answer, not its own
        direct = service.selection_payload(s, settings_for(tk_ctx), 10, 15, 150.0)
    assert direct["selected"] == d["selected"] and direct["objective"] == d["objective"]
    with tk_ctx.session(readonly=True) as s:
        rows_after = s.scalar(select(func.count()).select_from(m.TakeoverSelection))
    assert rows_after == rows_before  # computing saves nothing


def test_save_shortlist_then_move_one_compound_to_serving(client, tk_demo, tk_ctx) -> None:  # noqa: ANN001, F811
    year = 2031
    h = tk_demo.auth("tk_state")
    r = client.post("/ws/takeover/shortlist", json={"budget": "150", "year": str(year)}, headers=h)
    assert r.status_code == 200, r.get_data(as_text=True)
    d = r.get_json()
    rows = _rows(tk_ctx, year)
    assert set(rows) == set(d["selected"]) and set(rows.values()) == {"shortlisted"}
    assert str(year) in d["message"] and {c["compound_id"] for c in d["board"]["shortlisted"]} == set(rows)
    with tk_ctx.session(readonly=True) as s:
        created = s.scalars(select(m.AuditEvent.entity_id).where(
            m.AuditEvent.entity == "takeover_selection", m.AuditEvent.user_name == "tk_state",
            m.AuditEvent.action == "create")).all()
        assert {f"{year}/{c}" for c in rows} <= set(created)

    cid = d["selected"][0]
    with tk_ctx.session(readonly=True) as s:
        served_before = s.scalar(select(func.count()).select_from(m.Compound).where(
            m.Compound.management_mode.in_(("professional", "state_owned"))))
    r = client.post("/ws/takeover/advance", json={"compound_id": cid, "state": "serving", "year": year}, headers=h)
    assert r.status_code == 400 and "招标中" in r.get_json()["error"]  # one step at a time, next states named
    with tk_ctx.session() as s:  # a signatory owners' organisation for the contract (RULES §4)
        s.get(m.Compound, cid).owners_org = "owners_committee"
    terms = {"company": "昆都仑区城市物业服务有限公司", "contract_start": f"{year}-01-01", "contract_end": f"{year + 2}-12-31"}
    for state in ("tendering", "contracted", "serving"):
        r = client.post("/ws/takeover/advance", headers=h,
                        json={"compound_id": cid, "state": state, "year": year, **(terms if state == "contracted" else {}),
                              **(TENDER if state == "tendering" else {})})
        assert r.status_code == 200, r.get_data(as_text=True)
        assert _rows(tk_ctx, year)[cid] == state
    d = r.get_json()
    assert d["management_mode"] == "state_owned" and d["coverage"]["served"] == served_before + 1
    assert d["coverage"]["coverage_rate"] > d["coverage_before"]["coverage_rate"] and "覆盖率" in d["message"]
    assert [c["compound_id"] for c in d["board"]["serving"]] == [cid]
    with tk_ctx.session(readonly=True) as s:
        c = s.get(m.Compound, cid)
        assert c.management_mode == "state_owned" and c.company == terms["company"]
        moves = s.execute(select(m.AuditEvent.before, m.AuditEvent.after).where(
            m.AuditEvent.entity == "takeover_selection", m.AuditEvent.entity_id == f"{year}/{cid}")).all()
        pairs = {((b or {}).get("state"), (a or {}).get("state")) for b, a in moves}  # the move is in the snapshots
        assert {("shortlisted", "tendering"), ("tendering", "contracted"), ("contracted", "serving")} <= pairs
        assert s.scalar(select(func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.entity == "compound", m.AuditEvent.entity_id == cid, m.AuditEvent.user_name == "tk_state"))
    page = client.get(f"/ws/takeover?year={year}", headers=h).get_data(as_text=True)
    serving = page[page.index('<div class="tk-col" data-state="serving">'):]
    assert f'data-id="{cid}" data-state="serving"' in serving
    r = client.post("/ws/takeover/shortlist", json={"budget": "150", "year": year}, headers=h)  # re-saving keeps it
    assert r.status_code == 200 and cid in r.get_json()["saved"]["kept_in_later_states"]
    assert _rows(tk_ctx, year)[cid] == "serving"


def test_bureau_may_withdraw_a_failed_tender(client, tk_demo, tk_ctx) -> None:  # noqa: ANN001, F811
    year = 2034
    h = tk_demo.auth("tk_bureau")
    with tk_ctx.session(readonly=True) as s:
        cid = s.scalar(select(m.Compound.id).where(m.Compound.management_mode == "none",
                                                   m.Compound.demolition_planned.is_(False)).order_by(m.Compound.id))
    for state in ("shortlisted", "tendering", "candidate"):
        r = client.post("/ws/takeover/advance", headers=h,
                        json={"compound_id": cid, "state": state, "year": year, **(TENDER if state == "tendering" else {})})
        assert r.status_code == 200, r.get_data(as_text=True)
    assert _rows(tk_ctx, year) == {cid: "candidate"}


def test_cookie_session_needs_the_csrf_token(client, tk_demo, tk_ctx) -> None:  # noqa: ANN001, F811
    cookie_login(client, "tk_state", tk_demo.password)
    page = client.get("/ws/takeover").get_data(as_text=True)
    config = json.loads(re.search(r'<script type="application/json" id="tk-config">(.*?)</script>', page, re.S).group(1))
    csrf = config["csrf"]
    body = {"budget": "150", "year": "2035"}
    assert client.post("/ws/takeover/shortlist", json=body).status_code == 403
    assert client.post("/ws/takeover/shortlist", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    move = {"compound_id": XSS_ID, "state": "shortlisted", "year": 2035}
    assert client.post("/ws/takeover/advance", json=move).status_code == 403
    assert _rows(tk_ctx, 2035) == {}
    r = client.post("/ws/takeover/shortlist", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and set(_rows(tk_ctx, 2035)) == set(r.get_json()["selected"])
    assert client.get("/ws/takeover/select?budget=150").status_code == 200  # reads need no token


def test_printable_page_explains_the_score(client, tk_demo, tk_ctx) -> None:  # noqa: ANN001, F811
    h = tk_demo.auth("tk_state")
    r = client.get("/ws/takeover/print?year=2036", headers=h)  # nothing saved for 2036: the suggestion, marked
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'id="tp-suggested"' in html and "建议（未保存）" in html
    assert html.count('<tr class="tp-row"') == 15
    assert "<svg" in html and html.count('class="tp-marker"') == 15  # one numbered dot per row
    method = html[html.index('id="tp-method"'):]
    for comp, weight in WEIGHTS.items():
        row = re.search(rf'<tr data-component="{comp}"><td>[^<]+</td><td class="num">(\d+)</td><td>([^<]+)</td>', method)
        assert row and int(row.group(1)) == weight and len(row.group(2)) > 8, comp
    assert "500 米" in method and "2000 年" in method and "60%" in method and "公开招标" in method
    assert "@media print" in client.get("/ws/takeover/static/takeover.css").get_data(as_text=True)

    saved = client.post("/ws/takeover/shortlist", json={"budget": "60", "min": "10", "max": "12", "year": "2037"},
                        headers=h).get_json()
    html = client.get("/ws/takeover/print?year=2037", headers=h).get_data(as_text=True)
    ids = re.findall(r'<tr class="tp-row" data-id="([^"]+)"', html)
    assert set(ids) == set(saved["selected"]) and 'id="tp-suggested"' not in html and "入围" in html
    assert client.get("/ws/takeover/print?year=abc", headers=h).status_code == 400


def test_export_links_download_the_shortlist(client, tk_demo) -> None:  # noqa: ANN001, F811
    h = tk_demo.auth("tk_state")
    html = client.get("/ws/takeover", headers=h).get_data(as_text=True)
    xlsx = re.search(r'id="tk-export-xlsx" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    geojson = re.search(r'id="tk-export-geojson" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    r = client.get(xlsx, headers=h)
    assert r.status_code == 200 and r.data[:2] == b"PK"
    r = client.get(geojson, headers=h)
    data = json.loads(r.data)
    assert r.status_code == 200 and data["type"] == "FeatureCollection" and data["features"]
    assert "兜底得分(0-100)" in data["features"][0]["properties"]


def test_candidates_have_a_street_filter_and_the_map_outlines(client, tk_demo) -> None:  # noqa: ANN001, F811
    """Issue 19 pt 4: a street filter over the candidates (every candidate's street offered once) and the district
    and street outlines on the workspace map."""
    page = client.get("/ws/takeover", headers=tk_demo.auth("tk_state")).get_data(as_text=True)
    row_streets = set(re.findall(r'<tr class="tk-cand"[^>]*data-street="([^"]*)"', page))
    box = re.search(r'<select[^>]*id="tk-street-filter".*?</select>', page, re.S).group(0)
    options = re.findall(r'<option value="([^"]*)"', box)
    assert options[0] == "" and sorted(options[1:]) == sorted(row_streets) and len(row_streets) > 1
    config = json.loads(re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>', page, re.S).group(1))
    assert [o["id"] for o in config["outlines"]] == ["district", "streets"]
    assert not any(w in page for w in ("贪心", "HiGHS", "目标值", "连片加分"))  # plain words only
