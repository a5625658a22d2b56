"""Compound search on the map: by pinyin initials or spelling and by address (besides name and alias)."""

from __future__ import annotations

import pytest

from tests.support.webdemo import ALIAS_ID
from web.textsearch import is_pinyin_query, pinyin_keys


@pytest.mark.parametrize(("text", "query"), [
    ("新兴路小区", "xxl"),            # initials of a prefix
    ("新兴路小区", "xinxinglu"),      # full spelling
    ("银行家属院", "yhjsy"),          # 行 read háng here, not its common xíng
    ("长江花园", "cjhy"),
    ("长江花园", "zjhy"),             # both readings of 长 are kept
    ("钢59号街坊", "g59hjf"),        # digits stay as they are
])
def test_pinyin_keys(text: str, query: str) -> None:
    assert any(key.startswith(query) for key in pinyin_keys(text))


@pytest.mark.parametrize(("query", "expected"), [("xxl", True), ("Xin Xing", True), ("xi'an", True), ("12", False),
                                                 ("新兴", False), ("", False)])
def test_pinyin_query(query: str, expected: bool) -> None:
    assert is_pinyin_query(query) is expected


def _search(client, headers, q: str, limit: int = 50) -> list[dict]:  # noqa: ANN001
    r = client.get("/api/v1/compounds", query_string={"q": q, "limit": limit}, headers=headers)
    assert r.status_code == 200
    return r.get_json()["compounds"]


def test_search_by_pinyin_initials_and_spelling(client, admin) -> None:  # noqa: ANN001
    # the web demo's 测试正式名小区 (alias 测试别名花园): 测 c, 试 s, 正 z, 式 s, 名 m
    for q in ("cszsm", "CSZSMXQ", "ceshizhengshi", "csbmhy"):
        hits = _search(client, admin, q)
        assert ALIAS_ID in [h["id"] for h in hits], q
        assert next(h for h in hits if h["id"] == ALIAS_ID)["match"] == "pinyin"
    assert ALIAS_ID not in [h["id"] for h in _search(client, admin, "qqqzzz")]


def test_search_by_address(client, admin, web_ctx) -> None:  # noqa: ANN001
    from geoplatform.store import read_frame

    with web_ctx.session(readonly=True) as s:
        frame = read_frame(s, "compound", columns=["id", "name", "address"])
    row = frame[frame["address"].notna()].iloc[0]
    street_part = row["address"][-8:]  # e.g. 钢铁大街123号
    hits = _search(client, admin, street_part, limit=500)
    hit = next(h for h in hits if h["id"] == row["id"])
    assert hit["match"] == "address" and hit["address"] == row["address"]
    expected = {i for i, a in zip(frame["id"], frame["address"], strict=True) if isinstance(a, str) and street_part in a}
    assert expected <= {h["id"] for h in hits}


def test_name_hits_rank_before_pinyin_and_address(client, admin) -> None:  # noqa: ANN001
    hits = _search(client, admin, "测试正式名小区")
    assert hits[0]["id"] == ALIAS_ID and hits[0]["match"] == "name"
