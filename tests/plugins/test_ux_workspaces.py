"""Issue 19 pts 3 and 5 over HTTP, both databases: the utility backlog's paging, overdue explanation and bulk
update; the bureau's KPI table as XLSX and its charts as SVG; trend labels that do not overlap."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from layers.charts import tick_indices
from tests.plugins.test_handover_surfaces import surfaces  # noqa: F401


def test_overdue_is_explained_and_the_backlog_pages(surfaces, monkeypatch) -> None:  # noqa: ANN001, F811
    client, tok, _, _ = surfaces
    html = client.get("/ws/utility?utility=power", headers=tok["adm"]).get_data(as_text=True)
    assert "整改项“更换老化管网”逾期 1 天" in html  # which item, by how many days
    assert "办理期限 2026-06-14 已过 1 天" in html  # 丙小区: the row's own deadline
    assert ">null<" not in html and "undefined" not in html
    monkeypatch.setattr("plugins.handover.pages.MAX_ROWS", 2)
    first = client.get("/ws/utility?utility=water", headers=tok["adm"]).get_data(as_text=True)
    second = client.get("/ws/utility?utility=water&page=2", headers=tok["adm"]).get_data(as_text=True)
    rows = [re.findall(r'data-compound="([^"]+)"', h) for h in (first, second)]
    assert len(rows[0]) == 2 and len(rows[1]) == 1 and not set(rows[0]) & set(rows[1])
    assert "第 1 / 2 页" in first and "第 2 / 2 页" in second and 'id="ws-next"' in first and 'id="ws-prev"' in second


def test_bulk_update_over_http(surfaces) -> None:  # noqa: ANN001, F811
    client, tok, ctx, _ = surfaces
    rows = [{"compound_id": "C", "version": 1}, {"compound_id": "D", "version": 0}]
    assert client.post("/ws/utility/bulk", json={"rows": rows}, headers=tok["w"]).status_code == 400  # nothing to do
    bad = client.post("/ws/utility/bulk", json={"rows": [{"compound_id": "C"}], "state": "not_handed_over"},
                      headers=tok["w"])
    assert bad.status_code == 400 and bad.get_json()["error"] == "勾选的小区格式无效"
    r = client.post("/ws/utility/bulk", json={"rows": rows, "state": "not_handed_over", "responsible_unit": "供水公司"},
                    headers=tok["w"])
    assert r.status_code == 200 and r.get_json()["changed"] == 2
    stale = client.post("/ws/utility/bulk", json={"rows": rows, "responsible_unit": "别的单位"}, headers=tok["w"])
    assert stale.status_code == 409 and "刚被其他人修改" in stale.get_json()["error"]
    from plugins.handover import service

    with ctx.session(readonly=True) as s:
        assert service.get_handover(s, "D", "water")["responsible_unit"] == "供水公司"


def test_kpi_table_as_xlsx_and_charts_as_svg(surfaces) -> None:  # noqa: ANN001, F811
    from openpyxl import load_workbook

    client, tok, _, _ = surfaces
    kpi = client.get("/api/v1/kpi", headers=tok["adm"]).get_json()
    r = client.get("/api/v1/kpi.xlsx", headers=tok["adm"])
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(r.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("街镇", "小区数", "专业化物业", "专业化物业覆盖率")
    assert rows[1][0] == "全区合计" and rows[1][1] == kpi["district"]["compounds"]
    assert sorted(r_[0] for r_ in rows[2:]) == sorted(s["name"] for s in kpi["streets"])
    for name in ("coverage", "owners", "trend"):
        svg = client.get(f"/api/v1/kpi/chart/{name}.svg", headers=tok["adm"])
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
        assert svg.get_data(as_text=True).startswith("<?xml") and "<svg" in svg.get_data(as_text=True)
        assert "attachment" in svg.headers["Content-Disposition"]
    assert client.get("/api/v1/kpi/chart/pie.svg", headers=tok["adm"]).status_code == 404


@pytest.mark.parametrize(("count", "width"), [(13, 396), (12, 396), (25, 396), (2, 396), (1, 396), (7, 1000)])
def test_trend_labels_never_overlap(count: int, width: float) -> None:
    shown = tick_indices(count, width, label_px=52)
    gap = width / max(1, count - 1)
    assert shown[-1] == count - 1 and shown == sorted(set(shown))
    assert all((b - a) * gap >= 52 or count == 1 for a, b in zip(shown, shown[1:], strict=False))
    assert len(shown) >= min(count, int(width // 52) // 2)  # and not needlessly few


def test_change_history_reads_in_plain_chinese(surfaces) -> None:  # noqa: ANN001, F811
    """Issue 19 pt 2: the compound page's history names fields by label and values by their Chinese names; an edit
    that changes nothing adds no entry."""
    from geoplatform.principal import Principal
    from plugins.handover import service

    client, tok, ctx, _ = surfaces
    with ctx.session() as s:
        service.set_state(s, Principal("adm", "admin"), "A", "heating", "rectifying", note="阀门漏水",
                          items=[{"content": "更换阀门", "deadline": dt.date(2026, 9, 30)}])
    version = client.get("/api/v1/compounds/A", headers=tok["adm"]).get_json()["version"]
    r = client.patch("/api/v1/compounds/A", json={"households": 321, "version": version}, headers=tok["adm"])
    assert r.status_code == 200, r.get_data(as_text=True)
    again = client.patch("/api/v1/compounds/A", json={"households": 321, "version": r.get_json()["version"]},
                         headers=tok["adm"])
    assert again.status_code in (200, 400)
    html = client.get("/compounds/A", headers=tok["adm"]).get_data(as_text=True)
    history = re.search(r'<section[^>]*id="wc-history".*?</section>', html, re.S).group(0)
    text = re.sub(r"<[^>]+>", " ", history)
    assert "户数" in text and "321" in text and "整改中" in text and "状态" in text
    assert text.count("321") == 1  # the no-op second edit is not recorded
    words = set(re.findall(r"[A-Za-z]{3,}", text)) - {"adm"}
    assert not words, words  # no raw field names ("households", "state") or values ("rectifying")
