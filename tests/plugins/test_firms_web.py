"""The firms blueprint (workspaces, lists, print, xlsx, API) and the screen records it hands the shell."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from sqlalchemy import select

from geoplatform import models as m
from geoplatform.i18n import t
from geoplatform.models.firms import FirmAssessment, FirmRanking
from geoplatform.screens import MenuLink, Panel, Section
from tests.plugins.firms_fixtures import BUREAU, OFFICER_1, S1, S2, A, B, C, X, seed

HOSTILE = "<script>alert(1)</script>物业"
PASSWORD = "correct-horse-battery"


@pytest.fixture
def web(ctx):  # noqa: ANN001, ANN201
    from geoplatform import auth as accounts
    from web.app import create_app

    seed(ctx)
    with ctx.session() as s:
        s.add(m.PropertyCompany(name=HOSTILE, filed=False))
        for name, role, street in (("w_officer", "street_officer", S1), ("w_officer2", "street_officer", S2),
                                   ("w_bureau", "bureau", None), ("w_viewer", "viewer", None)):
            accounts.add_user(s, name, role, PASSWORD, street)
        tokens = {n: accounts.new_token(s, n) for n in ("w_officer", "w_officer2", "w_bureau", "w_viewer")}
    app = create_app(ctx, settings={"TESTING": True})
    client = app.test_client()
    client.h = {n: {"Authorization": f"Bearer {tok}"} for n, tok in tokens.items()}
    return client


def text(r) -> str:  # noqa: ANN001
    return r.get_data(as_text=True)


def test_street_officer_scores_own_street_only(web, ctx) -> None:  # noqa: ANN001
    h = web.h["w_officer"]
    page = web.get("/ws/firms/street?quarter=2025Q2", headers=h)
    assert page.status_code == 200
    shown = re.findall(r'<tr class="fm-firm" data-company="([^"]+)"', text(page))
    assert shown == sorted([A, B, C])  # the firms serving S1, not X (S2)
    assert "合同30天内到期" in text(page) and "物业管理区域备案" in text(page)  # c1: ending, area filing missing
    r = web.post("/ws/firms/street/scores", headers=h,
                 data={"street": S1, "quarter": "2025Q2", "company": [A, B, C], "score": ["91", "58.5", ""]})
    assert r.status_code == 302
    with ctx.session(readonly=True) as s:
        got = {(a.company, a.score, a.scored_by) for a in s.scalars(select(FirmAssessment))}
    assert got == {(A, 91.0, "w_officer"), (B, 58.5, "w_officer")}
    page = text(web.get("/ws/firms/street?quarter=2025Q2", headers=h))
    assert 'value="91.0"' in page and "已保存" in page
    bad = web.post("/ws/firms/street/scores", headers=h, data={"street": S1, "quarter": "2025Q2", "company": [A],
                                                               "score": ["120"]})
    assert bad.status_code == 302 and "0–100" in text(web.get(bad.headers["Location"], headers=h))
    # another street: refused on the server, and the refusal audited
    other = web.post("/ws/firms/street/scores", headers=h, data={"street": S2, "quarter": "2025Q2", "company": [X],
                                                                 "score": ["10"]})
    assert other.status_code == 403
    assert web.get(f"/ws/firms/street?street={S2}", headers=h).status_code == 403
    assert web.post("/api/v1/firms/assessments", headers=h, json={"street_code": S2, "quarter": "2025Q2",
                                                                  "company": X, "score": 5}).status_code == 403
    with ctx.session(readonly=True) as s:
        assert s.scalar(select(FirmAssessment).where(FirmAssessment.company == X)) is None
        denied = s.scalars(select(m.AuditEvent).where(m.AuditEvent.outcome == "denied",
                                                      m.AuditEvent.user_name == "w_officer")).all()
        assert len(denied) >= 2 and all(d.street_code == S2 for d in denied)
    assert web.get("/ws/firms/street", headers=web.h["w_viewer"]).status_code == 403


def test_bureau_reviews_publishes_and_everyone_sees_the_lists(web, ctx) -> None:  # noqa: ANN001
    with ctx.session() as s:
        s.add_all([FirmAssessment(street_code=S1, quarter="2025Q2", company=a, score=v)
                   for a, v in ((A, 90), (B, 40), (C, 70))] +
                  [FirmAssessment(street_code=S2, quarter="2025Q2", company=X, score=65)])
    h = web.h["w_bureau"]
    assert web.get("/ws/firms/bureau", headers=web.h["w_officer"]).status_code == 403
    assert web.get("/api/v1/firms/rank?quarter=2025Q2", headers=web.h["w_viewer"]).status_code == 403  # a draft
    page = text(web.get("/ws/firms/bureau?quarter=2025Q2", headers=h))
    assert 'id="fm-publish"' in page and 'id="fm-draft-good"' in page
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;物业" in page  # escaped
    assert "备案情况待核实" in page or "待核实" in page  # C's filing unknown, in the 查漏补缺 list
    assert re.search(r'id="fm-gap-professional_without_contract">\s*<li><a href="/compounds/c5">', page)
    r = web.post("/ws/firms/bureau/publish", headers=h, data={"quarter": "2025Q2"})
    assert r.status_code == 302
    with ctx.session(readonly=True) as s:
        row = s.get(FirmRanking, "2025Q2")
        assert (row.good, row.bad, row.published_by) == ([A, X], [B], "w_bureau")
    again = web.post("/ws/firms/bureau/publish", headers=h, data={"quarter": "2025Q2"})
    assert "已发布" in text(web.get(again.headers["Location"], headers=h))
    v = web.h["w_viewer"]
    lists = text(web.get("/firms/lists", headers=v))
    good = re.search(r'id="fm-list-good">.*?</table>', lists, re.S).group(0)
    assert re.findall(r'<tr data-company="([^"]+)">', good) == [A, X]
    printable = web.get("/firms/lists/2025Q2/print", headers=v)
    assert printable.status_code == 200 and "2025Q2 好评榜、差评榜" in text(printable)
    assert web.get("/firms/lists/2024Q1/print", headers=v).status_code == 404
    book = openpyxl.load_workbook(io.BytesIO(web.get("/firms/lists/2025Q2.xlsx", headers=v).get_data()))
    assert book.sheetnames == ["好评榜", "差评榜", "各街镇"]
    rows = list(book["好评榜"].values)
    assert rows[0] == ("季度", "名次", "物业企业", "全区得分", "发布日期") and [r[2] for r in rows[1:]] == [A, X]
    en = openpyxl.load_workbook(io.BytesIO(web.get("/firms/lists/2025Q2.xlsx?lang=en", headers=v).get_data()))
    assert en.sheetnames == ["Good list", "Bad list", "Streets"]
    api = web.get("/api/v1/firms/rank?quarter=2025Q2", headers=v).get_json()
    assert api["good"] == [A, X] and api["published_by"] == "w_bureau"
    assert web.get("/api/v1/firms/rank?quarter=25Q2", headers=v).status_code == 400


def test_bureau_blacklists_a_firm(web, ctx) -> None:  # noqa: ANN001
    h = web.h["w_bureau"]
    r = web.post("/ws/firms/bureau/blacklist", headers=h, data={"company": A, "action": "blacklist", "note": "测试"})
    assert r.status_code == 302
    page = text(web.get("/ws/firms/bureau", headers=h))
    assert "小区c1" in page  # the compounds it serves are named back
    assert re.search(rf'data-company="{A}" data-blacklisted="1" data-eligible="0"', page)
    registry = web.get("/api/v1/firms/registry", headers=web.h["w_viewer"]).get_json()
    assert {f["company"]: f["blacklisted"] for f in registry["firms"]}[A] is True
    check = web.get("/api/v1/firms/check?today=2025-08-15", headers=h).get_json()
    assert {"code": "firm_blacklisted", "compound_id": "c1", "company": A} in check["findings"]
    mine = web.get("/api/v1/firms/check?today=2025-08-15", headers=web.h["w_officer2"]).get_json()
    assert {f["compound_id"] for f in mine["findings"]} <= {"c3", "c4"}  # a street officer sees their street
    assert web.post("/ws/firms/bureau/blacklist", headers=web.h["w_officer"],
                    data={"company": B, "action": "blacklist"}).status_code == 403


def test_screen_records(web, ctx) -> None:  # noqa: ANN001
    hook = ctx.pm.hook
    links = {link.href for lst in hook.menu_links(context=ctx, user=OFFICER_1) for link in lst
             if link.id.startswith("firms")}
    assert links == {"/ws/firms/street", "/firms/lists"}
    bureau = [x for lst in hook.menu_links(context=ctx, user=BUREAU) for x in lst]
    assert all(isinstance(x, MenuLink) for x in bureau) and {x.href for x in bureau} >= {"/ws/firms/bureau"}
    sections = [x for lst in hook.compound_sections(context=ctx, compound_id="c1", user=OFFICER_1) for x in lst]
    (sec,) = [x for x in sections if x.id == "firms"]
    assert isinstance(sec, Section) and sec.template == "firms/section.html" and sec.title == "firms.section.title"
    assert sec.data["company"] == A and sec.data["contracts"][0]["id"] == "k1"
    assert {"code": "filing_missing", "compound_id": "c1", "company": A, "contract_id": "k1", "filing": "area"} \
        in sec.data["findings"]
    panels = [x for lst in hook.dashboard_panels(context=ctx, user=BUREAU, where="bureau", street_code=None)
              for x in lst if x.id == "firms"]
    assert isinstance(panels[0], Panel) and panels[0].data["blacklisted"] == 1 and panels[0].data["filings"] == 1
    assert panels[0].data["expiring"] == 2  # c1 (ending in 20 days) and c2 (ended)
    # the shell renders the records' templates from the plugin's blueprint
    app = web.application
    with app.test_request_context("/"):
        from flask import render_template

        html = render_template(sec.template, data=sec.data)
        assert 'id="fm-section"' in html and "物业管理区域备案" in html
        assert "黑名单企业服务 1 个小区" in render_template(panels[0].template, data=panels[0].data)


def test_catalogue_has_both_languages_with_the_same_params() -> None:
    from string import Formatter

    from plugins.firms import register_messages

    cat = register_messages()
    assert set(cat) == {"zh", "en"} and set(cat["zh"]) == set(cat["en"])

    def params(s: str) -> set[str]:
        return {f for _, f, _, _ in Formatter().parse(s) if f}

    assert all(params(cat["zh"][k]) == params(cat["en"][k]) for k in cat["zh"])
    assert t("firms.finding.contract_expired", "en") == "service contract expired (coverage at risk)"
