"""The compound detail page: permissions, Chinese labels, escaped text, boundary flag, plugin results, readable history."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from sqlalchemy import func, select

from geoplatform import models as m
from tests.support.webdemo import ALIAS_ID, XSS_ID, XSS_NAME
from tests.web.ws_fixtures import ws_app, ws_ctx, ws_demo  # noqa: F401


@pytest.fixture
def client(ws_app):  # noqa: ANN001, ANN201, F811
    return ws_app.test_client()


def _text(html: str) -> str:
    """The page's visible text, roughly (tags dropped, entities decoded, spaces collapsed)."""
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", "", html)))


def test_anonymous_is_sent_to_login_and_unknown_is_404(client, ws_demo) -> None:  # noqa: ANN001, F811
    r = client.get(f"/compounds/{ALIAS_ID}")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert client.get("/compounds/no-such-compound", headers=ws_demo.auth("ws_viewer")).status_code == 404


def test_viewer_reads_labels_in_chinese_and_english(client, ws_demo) -> None:  # noqa: ANN001, F811
    r = client.get(f"/compounds/{ALIAS_ID}", headers=ws_demo.auth("ws_viewer"))
    assert r.status_code == 200
    text = _text(r.get_data(as_text=True))
    for words in ("基本信息", "管理模式", "专业化物业", "业委会", "测试正式名小区", "修改记录", "边界缺失"):
        assert words in text, words
    en = _text(client.get(f"/compounds/{ALIAS_ID}?lang=en", headers=ws_demo.auth("ws_viewer")).get_data(as_text=True))
    assert "Attributes" in en and "Management mode" in en and "Boundary missing" in en


def test_hostile_name_is_text(client, ws_demo) -> None:  # noqa: ANN001, F811
    html = client.get(f"/compounds/{XSS_ID}", headers=ws_demo.auth("ws_viewer")).get_data(as_text=True)
    assert "<img src=x" not in html and "<b>bold</b>" not in html
    assert XSS_NAME in _text(html)
    assert 'id="wc-boundary-missing"' not in html  # this one has a boundary


def test_handover_states_and_ledger_items(client, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    with ws_ctx.session(readonly=True) as s:
        h, content = s.execute(select(m.Handover, m.LedgerItem.content).join(
            m.LedgerItem, m.LedgerItem.handover_id == m.Handover.id).order_by(m.Handover.id).limit(1)).one()
        cid, facility = h.compound_id, h.facility
    html = client.get(f"/compounds/{cid}", headers=ws_demo.auth("ws_state")).get_data(as_text=True)
    assert f'data-facility="{facility}"' in html
    assert content in _text(html)
    assert "整改台账" in html and "供水" in html
    # docs/security.md: a viewer reads the map data, not the handover rows and their ledger
    html = client.get(f"/compounds/{cid}", headers=ws_demo.auth("ws_viewer")).get_data(as_text=True)
    assert f'data-facility="{facility}"' not in html and content not in _text(html)


def test_charging_decisions_per_garage_with_reasons(client, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    with ws_ctx.session(readonly=True) as s:
        cid, n = s.execute(select(m.Garage.compound_id, func.count()).where(m.Garage.compound_id.isnot(None))
                           .group_by(m.Garage.compound_id).order_by(m.Garage.compound_id).limit(1)).one()
    html = client.get(f"/compounds/{cid}", headers=ws_demo.auth("ws_viewer")).get_data(as_text=True)
    rows = re.findall(r'<tr class="wc-garage">(.*?)</tr>', html, re.S)
    assert len(rows) == n
    assert all(re.search(r"wc-decision-[A-Z_]+", row) and "R" in row for row in rows)


def test_takeover_candidate_shows_score_components(client, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    with ws_ctx.session(readonly=True) as s:
        cid = s.scalar(select(m.Compound.id).where(m.Compound.management_mode == "none",
                                                   m.Compound.demolition_planned.is_(False),
                                                   m.Compound.id.notlike("test-%")).order_by(m.Compound.id).limit(1))
    html = client.get(f"/compounds/{cid}", headers=ws_demo.auth("ws_viewer")).get_data(as_text=True)
    assert 'id="wc-score"' in html
    assert len(re.findall(r'class="wc-comp"', html)) == 8  # the eight components of RULES §4
    shares = [float(x) for x in re.findall(r'data-share="([0-9.]+)"', html)]
    assert shares and all(0 <= x <= 1 for x in shares)
    score = float(re.search(r"得分 ([0-9.]+) / 100", html).group(1))
    points = [float(x) for x in re.findall(r'class="wc-comp-pts">([0-9.]+) /', html)]
    assert abs(sum(points) - score) < 1.0


def test_history_shows_who_changed_what_readably(client, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    with ws_ctx.session(readonly=True) as s:
        c = s.get(m.Compound, ALIAS_ID)
        version, households = c.version, c.households
    r = client.patch(f"/api/v1/compounds/{ALIAS_ID}", json={"version": version, "households": households + 7,
                                                            "management_mode": "state_owned"},
                     headers=ws_demo.auth("ws_admin"))
    assert r.status_code == 200, r.get_data(as_text=True)
    text = _text(client.get(f"/compounds/{ALIAS_ID}", headers=ws_demo.auth("ws_bureau")).get_data(as_text=True))
    assert f"户数：{households} → {households + 7}" in text
    assert "管理模式：专业化物业 → 国企兜底" in text
    assert "ws_admin" in text
    viewer = client.get(f"/compounds/{ALIAS_ID}", headers=ws_demo.auth("ws_viewer")).get_data(as_text=True)
    assert f"户数：{households} → {households + 7}" in _text(viewer) and "ws_admin" not in viewer
    r = client.patch(f"/api/v1/compounds/{ALIAS_ID}", json={"version": version + 1, "households": households,
                                                            "management_mode": "professional"},
                     headers=ws_demo.auth("ws_admin"))
    assert r.status_code == 200


def test_map_popups_know_the_compound_page(client, ws_demo) -> None:  # noqa: ANN001, F811
    html = client.get("/", headers=ws_demo.auth("ws_viewer")).get_data(as_text=True)
    assert '"compound_page": "/compounds/__ID__"' in html


def test_an_unknown_compound_says_to_verify_never_no_service(client, ws_demo, ws_ctx) -> None:  # noqa: ANN001, F811
    """RULES §1: a compound whose ledger said nothing about its mode/organisation shows 待核实, not 无物业/未组建."""
    with ws_ctx.session(readonly=True) as s:
        cid = s.execute(select(m.Compound.id).where(m.Compound.management_mode == "unknown",
                                                    m.Compound.owners_org == "unknown").order_by(m.Compound.id)
                        ).scalars().first()
    assert cid is not None  # the demo holds some unknowns, as real data will
    page = client.get(f"/compounds/{cid}", headers=ws_demo.auth("ws_viewer")).get_data(as_text=True)
    assert 'id="wc-coverage-served-unknown"' in page and 'id="wc-coverage-org-unknown"' in page
    assert 'id="wc-takeover-unknown"' in page  # not "only unmanaged compounds are candidates"
    text = _text(page.replace("暂无物业企业", ""))  # "no firm records yet" is not a statement about the mode
    assert "待核实" in text and "无物业" not in text and "未组建" not in text
    en = _text(client.get(f"/compounds/{cid}?lang=en", headers=ws_demo.auth("ws_viewer")).get_data(as_text=True))
    assert "unknown (待核实)" in en
