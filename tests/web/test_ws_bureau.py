"""The bureau dashboard over HTTP: roles, charts and figures, import upload (dry run → commit), user management."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from geoplatform import models as m
from tests.web.ws_role_fixtures import (  # noqa: F401
    compound_geojson,
    cookie_login,
    role_app,
    role_ctx,
    role_demo,
)

PAGES = ("/ws/bureau", "/ws/bureau/import", "/ws/bureau/users")
TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.fixture
def client(role_app):  # noqa: ANN001, ANN201, F811
    return role_app.test_client()


def _count(ctx, model, *where) -> int:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _upload(client, auth, data: bytes, filename: str = "新小区.geojson", kind: str = "compounds",  # noqa: ANN001, ANN202
            crs: str | None = None, **form: str):
    """Post an upload; the form's coordinate system (required): WGS-84 for a CSV/XLSX, else the file's own."""
    crs = crs or ("wgs84" if filename.endswith((".csv", ".xlsx")) else "declared")
    return client.post("/ws/bureau/import", headers=auth, content_type="multipart/form-data",
                       data={"kind": kind, "crs": crs, "file": (io.BytesIO(data), filename), **form})


def test_anonymous_is_sent_to_login(client) -> None:  # noqa: ANN001
    for path in PAGES:
        r = client.get(path)
        assert r.status_code == 302 and "/login" in r.headers["Location"]


@pytest.mark.parametrize("account", ["wr_water", "wr_officer", "wr_viewer", "wr_state"])
def test_other_roles_get_403_everywhere(client, role_demo, role_ctx, account) -> None:  # noqa: ANN001, F811
    auth = role_demo.auth(account)
    before = _count(role_ctx, m.AuditEvent, m.AuditEvent.user_name == account, m.AuditEvent.outcome == "denied")
    for path in PAGES:
        assert client.get(path, headers=auth).status_code == 403
    assert _upload(client, auth, compound_geojson("t-deny", "不应导入")).status_code == 403
    r = client.post("/ws/bureau/users", headers=auth, data={"name": "x_evil", "role": "admin", "password": "12345678x"})
    assert r.status_code == 403
    assert client.post("/ws/bureau/users/wr_bureau/disable", headers=auth).status_code == 403
    assert _count(role_ctx, m.AuditEvent, m.AuditEvent.user_name == account, m.AuditEvent.outcome == "denied") \
        == before + 6
    assert _count(role_ctx, m.User, m.User.name == "x_evil") == 0
    assert _count(role_ctx, m.Compound, m.Compound.id == "t-deny") == 0


def test_dashboard_figures_and_charts(client, role_demo, role_ctx) -> None:  # noqa: ANN001, F811
    from plugins.coverage.service import kpi_report

    r = client.get("/ws/bureau", headers=role_demo.auth("wr_bureau"))
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    report = kpi_report(role_ctx)
    d = report["district"]
    assert f"{d['coverage_rate'] * 100:.1f}%" in html and f"{d['owners_org_rate'] * 100:.1f}%" in html
    for chart in ("ws-chart-coverage", "ws-chart-owners", "ws-chart-trend"):
        assert f'id="{chart}"' in html
    assert html.count('class="ws-target"') == 2 and "目标80.0%" in html and "目标95.0%" in html
    bars = re.findall(r'<g class="ws-bar" data-street="(\d+)" data-rate="([0-9.]*)"', html)
    assert len(bars) == 2 * len(report["streets"])
    first = report["streets"][0]
    assert (first["code"], f"{first['coverage_rate']:.4f}") in bars
    distance = re.search(r'<table[^>]*id="wb-distance".*?</table>', html, re.S).group(0)  # the coverage panel's table
    rows = re.findall(r'<tr data-street="(\d+)">', distance)
    assert rows == [s["code"] for s in report["streets"]]
    assert "充电桩" in html and 'class="ws-count"' in html  # charging summary
    assert 'id="wb-handover"' in html and html.count("<tr data-facility=") == 4  # handover per utility
    assert "<script>" not in html  # CSP: no inline script without nonce


def test_dashboard_in_english(client, role_demo) -> None:  # noqa: ANN001, F811
    html = client.get("/ws/bureau?lang=en", headers=role_demo.auth("wr_admin")).get_data(as_text=True)
    assert "Coverage per street" in html and "Distance to target" in html


def test_import_dry_run_then_commit(client, role_demo, role_ctx, role_app) -> None:  # noqa: ANN001, F811
    auth = role_demo.auth("wr_bureau")
    r = _upload(client, auth, compound_geojson("t-imp-0001", "上传测试小区"))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="wb-report-ok"' in html, html[:2000]
    assert _count(role_ctx, m.Compound, m.Compound.id == "t-imp-0001") == 0  # dry run wrote nothing
    token = TOKEN.search(html).group(1)
    other = client.post("/ws/bureau/import/commit", headers=role_demo.auth("wr_admin"), data={"token": token})
    assert other.status_code == 403  # an upload belongs to its uploader
    r = client.post("/ws/bureau/import/commit", headers=auth, data={"token": token})
    assert r.status_code == 200 and 'id="wb-report-done"' in r.get_data(as_text=True)
    with role_ctx.session(readonly=True) as s:
        c = s.get(m.Compound, "t-imp-0001")
        assert (c.name, c.management_mode, c.households) == ("上传测试小区", "professional", 240)
        who = s.scalar(select(m.AuditEvent.user_name).where(m.AuditEvent.action == "import",
                                                            m.AuditEvent.entity == "compound").order_by(
            m.AuditEvent.id.desc()))
    assert who == "wr_bureau"
    upload_dir = role_app.config["GEOPLATFORM_UPLOAD_DIR"]
    import os

    assert os.listdir(upload_dir) == []  # the upload was removed after the commit
    again = client.post("/ws/bureau/import/commit", headers=auth, data={"token": token})
    assert again.status_code == 410


def test_bad_file_lists_every_problem_and_writes_nothing(client, role_demo, role_ctx, role_app) -> None:  # noqa: ANN001, F811
    import json

    doc = json.loads(compound_geojson("t-bad-0001", "坏数据小区", households=-5, management_mode="bogus"))
    doc["features"].append({"type": "Feature", "properties": {"id": "t-bad-0002"},
                            "geometry": {"type": "Point", "coordinates": [109.83, 40.63]}})
    before = _count(role_ctx, m.Compound)
    r = _upload(client, role_demo.auth("wr_bureau"), json.dumps(doc).encode())
    html = r.get_data(as_text=True)
    assert 'id="wb-report-failed"' in html and 'id="wb-commit"' not in html
    problems = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td></tr>", html)
    assert len(problems) >= 3  # households, management_mode, the missing name
    assert any("households" in w or "户数" in w or "households" in p for w, p in problems)
    assert _count(role_ctx, m.Compound) == before
    import os

    assert os.listdir(role_app.config["GEOPLATFORM_UPLOAD_DIR"]) == []


def test_import_problems_in_the_users_language(client, role_demo) -> None:  # noqa: ANN001, F811
    ledger = ("小区名称,所属街道,经度,纬度,户数,备注X\n"
              "甲,火星街道,109.79,40.622,-5,x\n"
              "乙,少先路街道,116.397,39.909,100,x\n").encode()
    auth = role_demo.auth("wr_bureau")
    html = _upload(client, auth, ledger, filename="台账.csv").get_data(as_text=True)
    assert 'id="wb-report-failed"' in html and 'lang="zh-CN"' in html
    problems = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td></tr>", html)
    assert ("台账.csv 第2行，「户数」列", "-5 为负数，低于允许的最小值 0") in problems, problems
    assert ("台账.csv 第2行，「所属街道」列", "未知街道「火星街道」（请填写统计用区划代码或街道名称，如 少先路街道）") in problems
    assert any(w.startswith("台账.csv 第3行") and m.startswith("位于昆都仑区外 ") and "公里（坐标有误" in m
               for w, m in problems), problems
    warnings = re.search(r'<ul id="wb-report-warnings">(.*?)</ul>', html, re.S).group(1)
    assert "台账.csv：以下列未导入：备注X" in warnings
    for english in ("below the plausible", "unknown street", "outside", " row ", "column", "columns not imported"):
        assert english not in html.split('id="wb-report"', 1)[1].split("</table>", 1)[0] + warnings, english
    en = client.post("/ws/bureau/import?lang=en", headers=auth, content_type="multipart/form-data",
                     data={"kind": "compounds", "crs": "wgs84", "file": (io.BytesIO(ledger), "台账.csv")}
                     ).get_data(as_text=True)
    problems = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td></tr>", en)
    assert ("台账.csv row 2, column 户数", "-5 is below the plausible minimum 0 (negative)") in problems, problems
    assert "columns not imported: 备注X" in en and "未知街道" not in en


def test_upload_refuses_unknown_types_and_bad_tokens(client, role_demo) -> None:  # noqa: ANN001, F811
    auth = role_demo.auth("wr_bureau")
    r = _upload(client, auth, b"MZ\x90\x00", filename="evil.exe")
    assert r.status_code == 400 and "evil.exe" in r.get_data(as_text=True)
    assert client.post("/ws/bureau/import/commit", headers=auth, data={"token": "../../etc"}).status_code == 400
    r = client.post("/ws/bureau/import", headers=auth, content_type="multipart/form-data",
                    data={"kind": "nonsense", "crs": "declared", "file": (io.BytesIO(b"{}"), "a.geojson")})
    assert r.status_code == 400


def test_user_management(client, role_demo, role_ctx) -> None:  # noqa: ANN001, F811
    auth = role_demo.auth("wr_bureau")
    r = client.post("/ws/bureau/users", headers=auth, data={"name": "new_gas", "role": "utility", "utility": "gas",
                                                             "street": role_demo.street, "password": "gas-pass-123"})
    assert r.status_code == 302
    page = client.get(r.headers["Location"], headers=auth).get_data(as_text=True)
    assert 'data-user="new_gas"' in page and "new_gas" in page
    with role_ctx.session(readonly=True) as s:
        u = s.scalars(select(m.User).where(m.User.name == "new_gas")).one()
        assert (u.role, u.utility, u.street_code, u.disabled) == ("utility", "gas", None, False)
    dup = client.post("/ws/bureau/users", headers=auth, data={"name": "new_gas", "role": "viewer", "password": "x" * 9})
    assert dup.status_code == 400 and "用户“new_gas”已存在" in dup.get_data(as_text=True)
    weak = client.post("/ws/bureau/users", headers=auth, data={"name": "weak", "role": "viewer", "password": "short"})
    assert weak.status_code == 400
    r = client.post("/ws/bureau/users/new_gas/token", headers=auth)
    token = re.search(r'id="wb-token">([^<]+)<', r.get_data(as_text=True)).group(1)
    assert client.get("/ws/utility", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    users_page = client.get("/ws/bureau/users", headers=auth).get_data(as_text=True)
    assert "gp_" not in users_page  # shown once only
    row = re.search(r'data-user="new_gas".*?</tr>', users_page, re.S).group(0)
    assert "1 个有效" in row and "最近使用" in row  # the token and its first use (the request above)
    assert client.post("/ws/bureau/users/new_gas/disable", headers=auth).status_code == 200
    assert client.get("/ws/utility", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.post("/ws/bureau/users/new_gas/enable", headers=auth).status_code == 200
    with role_ctx.session(readonly=True) as s:
        actions = s.scalars(select(m.AuditEvent.action).where(m.AuditEvent.user_name == "wr_bureau",
                                                              m.AuditEvent.entity_id == "new_gas")
                            .order_by(m.AuditEvent.id)).all()
        assert not s.scalars(select(m.User.disabled).where(m.User.name == "new_gas")).one()
    assert actions == ["create", "create", "disable", "enable"]
    assert client.post("/ws/bureau/users/nobody/disable", headers=auth).status_code == 404


def test_forms_need_the_csrf_token(client, role_demo, role_ctx) -> None:  # noqa: ANN001, F811
    cookie_login(client, "wr_admin")
    r = client.post("/ws/bureau/users", data={"name": "csrf_x", "role": "viewer", "password": "12345678y"})
    assert r.status_code == 403
    page = client.get("/ws/bureau/users").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post("/ws/bureau/users", data={"name": "csrf_x", "role": "viewer", "password": "12345678y",
                                              "csrf_token": csrf})
    assert r.status_code == 302
    r = client.post("/ws/bureau/import", content_type="multipart/form-data",
                    data={"kind": "compounds", "crs": "declared",
                          "file": (io.BytesIO(compound_geojson("t-c", "x")), "a.geojson")})
    assert r.status_code == 403


def test_upload_size_limit_and_stale_uploads_are_swept(role_ctx, role_demo, tmp_path) -> None:  # noqa: ANN001, F811
    import os
    import time

    from web.app import create_app

    uploads = tmp_path / "up"
    app = create_app(role_ctx, settings={"TESTING": True, "GEOPLATFORM_UPLOAD_DIR": str(uploads),
                                         "MAX_CONTENT_LENGTH": 4096})
    client = app.test_client()
    auth = role_demo.auth("wr_bureau")
    r = _upload(client, auth, b" " * 8000 + compound_geojson("t-big", "太大"))
    assert r.status_code == 413
    stale = uploads / "stale-token-aaaaaaaaaaaaaaaa"
    stale.mkdir(parents=True)
    (stale / "meta.json").write_text("{}")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    r = _upload(client, auth, compound_geojson("t-sweep-0001", "清理测试"))
    assert r.status_code == 200
    assert not stale.exists()  # older than the upload lifetime: removed
    assert len(os.listdir(uploads)) == 1  # the fresh upload waits for its commit


def test_trend_of_one_street(client, role_demo, role_ctx) -> None:  # noqa: ANN001, F811
    from plugins.coverage.screens import trend_points
    from plugins.coverage.service import kpi_report
    from plugins.coverage.settings import settings_for

    auth = role_demo.auth("wr_bureau")
    street = kpi_report(role_ctx)["streets"][0]
    html = client.get(f"/ws/bureau?trend_street={street['code']}", headers=auth).get_data(as_text=True)
    assert f'<option value="{street["code"]}" selected>' in html and street["name"] in html
    points = trend_points(role_ctx, settings_for(role_ctx), street["code"])
    # the month-end figures of that street: today's end equals the street's own KPI
    assert points[-1]["compounds"] == street["compounds"]
    assert points[-1]["coverage_rate"] == pytest.approx(street["coverage_rate"])
    whole = trend_points(role_ctx, settings_for(role_ctx))
    assert whole[-1]["compounds"] > points[-1]["compounds"]
    assert client.get("/ws/bureau?trend_street=999999999", headers=auth).status_code == 404
