"""The bureau's import page with real ledgers (issue 17, points 2–4): the coordinate system is chosen, never
guessed (a refusal says which fits), a ledger uploaded twice adds nothing the second time, points lying in another
street are listed (or take that street on request) — every text from the catalogue, no command-line flag on the page.
Both databases, each test module on its own copy of the role demo."""

from __future__ import annotations

import html as htmllib
import io
import re

import numpy as np
import pytest

from geoplatform.context import Context
from geoplatform.crs import from_wgs84, parse_crs
from tests.conftest import BACKENDS
from tests.support.ledger import edge_points, make_ledger, metres
from tests.web.ws_role_fixtures import ROLE_TEMPLATE, RoleDemo, copy_with_accounts

TOKEN = re.compile(r'name="token" value="([^"]+)"')
FLAG = re.compile(r"--[a-z]")


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> RoleDemo:
    web, tokens = copy_with_accounts(ROLE_TEMPLATE, request.param, tmp_path_factory.mktemp("db"))
    return RoleDemo(url=web.url, street=web.street_code, tokens=tokens)


@pytest.fixture(scope="module")
def ctx(demo: RoleDemo) -> Context:
    return Context.create(demo.url)


@pytest.fixture
def client(ctx: Context, tmp_path):  # noqa: ANN001, ANN201
    from web.app import create_app

    app = create_app(ctx, settings={"TESTING": True, "GEOPLATFORM_UPLOAD_DIR": str(tmp_path / "uploads")})
    return app.test_client()


def _post(client, demo: RoleDemo, data: bytes, filename: str, lang: str = "zh", **form: str) -> tuple[int, str]:  # noqa: ANN001
    r = client.post(f"/ws/bureau/import?lang={lang}", headers=demo.auth("wr_bureau"), content_type="multipart/form-data",
                    data={"kind": "compounds", "file": (io.BytesIO(data), filename), **form})
    return r.status_code, r.get_data(as_text=True)


def _report(page: str) -> str:
    """The report's text (problems and warnings), unescaped."""
    part = page.split('id="wb-report"', 1)[1].split('id="wb-import-form"', 1)[0] if 'id="wb-report"' in page else ""
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", part))


def _commit(client, demo: RoleDemo, page: str) -> str:  # noqa: ANN001
    token = TOKEN.search(page).group(1)
    r = client.post("/ws/bureau/import/commit", headers=demo.auth("wr_bureau"), data={"token": token})
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_the_form_offers_the_systems_with_a_hint(client, demo) -> None:  # noqa: ANN001
    page = client.get("/ws/bureau/import", headers=demo.auth("wr_bureau")).get_data(as_text=True)
    select = page.split('id="wb-crs"', 1)[1].split("</select>", 1)[0]
    assert "required" in page.split('id="wb-crs"', 1)[0][-120:] + select[:20]
    for label in ("WGS-84", "GCJ-02（高德、腾讯", "BD-09（百度", "EPSG"):
        assert label in select, label
    assert "请选择" in select and 'value="" selected disabled' in select  # nothing chosen in advance
    hint = page.split('id="wb-crs-hint"', 1)[1].split("</div>", 1)[0]
    assert "高德" in hint and "百度" in hint and "GPS" in hint
    assert "更新已有小区" in page and "以位置确定街镇" in page and "留空则自动识别" not in page
    form = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', page.split('id="wb-import-form"', 1)[1])
    assert not FLAG.search(form)  # (without the random CSRF token, which may hold "--" and a letter by chance)
    en = client.get("/ws/bureau/import?lang=en", headers=demo.auth("wr_bureau")).get_data(as_text=True)
    assert "GCJ-02 (picked on AMap or Tencent maps)" in en and "Update existing compounds" in en


def test_no_choice_is_refused_by_the_server_too(client, demo, tmp_path) -> None:  # noqa: ANN001
    status, page = _post(client, demo, "小区名称,所属街道,经度,纬度\n甲,少先路,109.79,40.622\n".encode(), "a.csv")
    assert status == 400 and "请选择坐标系" in page and 'id="wb-report"' not in page
    status, page = _post(client, demo, b"x", "a.csv", crs="epsg")
    assert status == 400 and "EPSG" in page.split('id="wb-import-error"', 1)[1].split("</div>", 1)[0]


def test_a_csv_with_the_files_own_system_is_refused_with_the_forms_words(client, demo) -> None:  # noqa: ANN001
    status, page = _post(client, demo, "小区名称,所属街道,经度,纬度\n甲,少先路,109.79,40.622\n".encode(), "a.csv",
                         crs="declared")
    text = _report(page)
    assert "无法说明坐标属于哪个坐标系" in text and "表单中的“坐标系”" in text and not FLAG.search(text)


def test_a_gcj_ledger_read_as_wgs84_is_refused_with_a_suggestion(client, demo, ctx) -> None:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        edge = edge_points(s, 3)
    gcj = from_wgs84(np.array(edge, dtype=object), parse_crs("gcj02"))
    data = "小区名称,所属街道,经度,纬度\n" + "".join(f"边缘{i},少先路,{p.x},{p.y}\n" for i, p in enumerate(gcj))
    status, page = _post(client, demo, data.encode(), "高德.csv", crs="wgs84")
    text = _report(page)
    assert 'id="wb-report-failed"' in page and "这些坐标看起来是 GCJ-02（高德、腾讯）" in text and "请选择该坐标系" in text
    assert not FLAG.search(text)
    status, page = _post(client, demo, data.encode(), "高德.csv", crs="gcj02")
    assert 'id="wb-report-ok"' in page, _report(page)[:600]


def test_a_ledger_twice_on_the_page(client, demo, ctx, tmp_path) -> None:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        ledger = make_ledger(s, tmp_path / "台账.xlsx", n=25, moved=2, seed=9)
    data = ledger.path.read_bytes()
    status, page = _post(client, demo, data, "台账.xlsx", crs="gcj02")
    text = _report(page)
    assert status == 200 and 'id="wb-report-ok"' in page, text[:800]
    assert "新增 25，更新 0" in text
    assert "填写的街镇与点位所在街镇不同" in text and "勾选“以位置确定街镇”" in text
    for k in ledger.moved:
        assert f"第{ledger.sheet_row(k)}行" in text
    assert not FLAG.search(text)
    status, page = _post(client, demo, data, "台账.xlsx", crs="gcj02", street_from_location="1")
    assert "已按位置改为所在街镇" in _report(page)
    done = _commit(client, demo, page)
    assert 'id="wb-report-done"' in done
    names = [r[1] for r in ledger.rows[1:]]
    from geoplatform.models import Compound
    from geoplatform.store import read_frame

    with ctx.session(readonly=True) as s:
        got = read_frame(s, "compound", columns=["id", "name", "street_code", "location", "management_mode"],
                         where=[Compound.name.in_(names)]).set_index("name")
    assert len(got) == 25 and (got["management_mode"] == "unknown").all()
    for k, name in enumerate(names):
        assert metres(got.loc[name, "location"], ledger.truth[k]) < 1.0
        assert got.loc[name, "street_code"] == ledger.located[k]
    # the same file again: nothing new — duplicates named, the checkbox (not a flag) to update them
    status, page = _post(client, demo, data, "台账.xlsx", crs="gcj02", street_from_location="1")
    text = _report(page)
    assert 'id="wb-report-failed"' in page and 'id="wb-commit"' not in page
    assert text.count("不会重复新增") == 25 and "勾选“更新已有小区”" in text and not FLAG.search(text)
    status, page = _post(client, demo, data, "台账.xlsx", crs="gcj02", street_from_location="1", upsert="1")
    assert "新增 0，更新 25" in _report(page)
    en = _post(client, demo, data, "台账.xlsx", lang="en", crs="gcj02", street_from_location="1")[1]
    assert "tick “Update existing compounds”" in _report(en)


def test_page_advice_names_the_form_never_a_flag(client, demo, tmp_path) -> None:  # noqa: ANN001
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["小区名称", "所属街道", "经度", "纬度"])
    wb.active.append(["甲", "少先路", 109.79, 40.622])
    wb.create_sheet("二").append(["小区名称", "所属街道", "经度", "纬度"])
    wb["二"].append(["乙", "少先路", 109.79, 40.622])
    path = tmp_path / "two.xlsx"
    wb.save(path)
    text = _report(_post(client, demo, path.read_bytes(), "two.xlsx", crs="wgs84")[1])
    assert "请在表单“工作表”中填写其一" in text and not FLAG.search(text)
    bowtie = ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"蝴蝶","street_code":'
              '"150203001"},"geometry":{"type":"Polygon","coordinates":[[[109.79,40.62],[109.80,40.63],[109.80,40.62],'
              '[109.79,40.63],[109.79,40.62]]]}}]}')
    text = _report(_post(client, demo, bowtie.encode(), "b.geojson", crs="declared")[1])
    assert "勾选“自动修复无效几何”" in text and not FLAG.search(text)
    status, page = _post(client, demo, bowtie.encode(), "b.geojson", crs="declared", repair="1")
    assert 'id="wb-report-ok"' in page, _report(page)[:600]

