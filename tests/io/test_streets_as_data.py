"""The street list is data, not code (issue 17, point 9): the bureau adds a unit such as 包钢厂区办事处 (NBS
150203400) by importing streets — a ledger naming it then imports, and every street parameter knows it — and
communities accept points (经度/纬度, as docs/import.md lists). Both databases."""

from __future__ import annotations

import io
import json

import pytest
import shapely
from sqlalchemy import select

from geoplatform import models as m
from geoplatform.context import Context
from geoplatform.io.importer import import_file
from geoplatform.io.report import ImportFailed
from geoplatform.streets import resolve_street
from tests.conftest import BACKENDS, _copy_url
from tests.io.conftest import SMALL
from tests.io.corpus import P1, P2, write_csv

UNIT = "150203400"


@pytest.fixture(params=BACKENDS)
def small(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Context]:
    url = _copy_url(request.param, SMALL, tmp_path_factory)[0]
    return url, Context.create(url)


def _ledger(tmp_path):  # noqa: ANN001, ANN202
    return write_csv(tmp_path / "包钢.csv", [["小区名称", "所属街道", "经度", "纬度"], ["厂区一号院", "包钢厂区", *P1],
                                            ["少先一号院", "少先路", *P2]])


def test_a_16th_unit_added_by_importing_streets(small, tmp_path, cli_run) -> None:
    url, ctx = small
    ledger = _ledger(tmp_path)
    with pytest.raises(ImportFailed) as exc:  # before: the unknown unit is a clear error naming the row
        import_file(ctx, "compounds", ledger, crs="wgs84", dry_run=True)
    (err,) = exc.value.report.as_dict("zh")["errors"]
    assert err["where"] == "包钢.csv 第2行，「所属街道」列" and "包钢厂区" in err["message"]

    streets = write_csv(tmp_path / "街镇.csv", [["街道代码", "街道名称"], [UNIT, "包钢厂区办事处"]])
    res = cli_run(url, "import", "streets", str(streets), "--json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["inserted"] == 1
    with ctx.session(readonly=True) as s:
        st = s.get(m.Street, UNIT)
        assert st.name == "包钢厂区办事处" and "包钢厂区" in st.aliases and st.geom is None
        for value in (UNIT, "包钢厂区", "包钢厂区办事处"):  # the one resolver knows it by any name
            assert resolve_street(s, value) == UNIT

    rep = import_file(ctx, "compounds", ledger, crs="wgs84")
    assert rep.inserted == 2
    with ctx.session(readonly=True) as s:
        assert s.execute(select(m.Compound.street_code).where(m.Compound.name == "厂区一号院")).scalar_one() == UNIT
    res = cli_run(url, "kpi", "--street", "包钢厂区", "--json")
    assert res.exit_code == 0, res.stderr
    (row,) = json.loads(res.stdout)["streets"]
    assert (row["code"], row["compounds"], row["unknown"]) == (UNIT, 1, 1)


def test_the_unit_on_the_bureau_page(small, tmp_path) -> None:
    """The same through the bureau's import page (kind “街镇”)."""
    from tests.web.ws_accounts import add_accounts

    url, ctx = small
    tokens = add_accounts(url, "150203001", [("sd_bureau", "bureau", None, None)])
    from web.app import create_app

    client = create_app(ctx, settings={"TESTING": True, "GEOPLATFORM_UPLOAD_DIR": str(tmp_path / "up")}).test_client()
    auth = {"Authorization": f"Bearer {tokens['sd_bureau']}"}
    data = f"街道代码,街道名称\n{UNIT},包钢厂区办事处\n".encode()
    page = client.post("/ws/bureau/import", headers=auth, content_type="multipart/form-data",
                       data={"kind": "streets", "crs": "wgs84", "file": (io.BytesIO(data), "街镇.csv")}
                       ).get_data(as_text=True)
    assert 'id="wb-report-ok"' in page
    token = page.split('name="token" value="', 1)[1].split('"', 1)[0]
    done = client.post("/ws/bureau/import/commit", headers=auth, data={"token": token}).get_data(as_text=True)
    assert 'id="wb-report-done"' in done
    with ctx.session(readonly=True) as s:
        assert s.get(m.Street, UNIT).name == "包钢厂区办事处"


def test_communities_accept_points(small, tmp_path) -> None:
    _, ctx = small
    path = write_csv(tmp_path / "社区.csv", [["社区代码", "社区名称", "所属街道", "经度", "纬度"],
                                           ["150203001901", "测试点社区", "少先路", *P1]])
    rep = import_file(ctx, "communities", path, crs="wgs84")
    assert rep.inserted == 1, rep.as_dict()
    with ctx.session(readonly=True) as s:
        c = s.get(m.Community, "150203001901")
        assert c.street_code == "150203001" and c.geom is None
        loc = shapely.from_wkb(bytes(s.execute(select(m.Community.location.ST_AsBinary()).where(
            m.Community.code == c.code)).scalar_one()))
    assert loc.geom_type == "Point" and abs(loc.x - P1[0]) < 1e-7 and abs(loc.y - P1[1]) < 1e-7
