"""A small firms world built in code (two streets, four firms, five compounds) for the database, CLI and web tests."""

from __future__ import annotations

import datetime as dt

import pytest
import shapely

from geoplatform.models.firms import FeeDisclosure, FirmCreditEvent, ServiceContract
from geoplatform.principal import Principal
from geoplatform.store import insert_records

TODAY = dt.date(2025, 8, 15)
S1, S2 = "150203001", "150203003"
A, B, C, X = "甲物业服务有限公司", "乙物业服务有限公司", "丙物业服务有限公司", "黑物业服务有限公司"
BUREAU = Principal(name="t_bureau", role="bureau")
OFFICER_1 = Principal(name="t_officer1", role="street_officer", street_code=S1)
OFFICER_2 = Principal(name="t_officer2", role="street_officer", street_code=S2)


def seed(ctx) -> None:  # noqa: ANN001
    """Streets S1/S2; firms A (AA, filed), B (grade B: forbidden), C (no grade, filing unknown), X (blacklisted);
    compounds c1 (S1, A, contract ends in 20 days, area filing missing), c2 (S1, B, contract expired), c3 (S2, X,
    contract fine), c4 (S2, nobody serves it), c5 (S1, C, no contract); disclosures: c1 in 2025H1 only."""
    ctx.today = TODAY
    d = dt.date
    with ctx.session() as s:
        insert_records(s, "street", [{"code": S1, "name": "少先路街道", "kind": "subdistrict", "aliases": ["少先路"]},
                                     {"code": S2, "name": "沼潭街道", "kind": "subdistrict", "aliases": ["沼潭"]}])
        insert_records(s, "property_company", [
            {"name": A, "filed": True, "blacklisted": False, "state_owned": False},
            {"name": B, "filed": True, "blacklisted": False, "state_owned": False},
            {"name": C, "filed": None, "blacklisted": False, "state_owned": False},
            {"name": X, "filed": True, "blacklisted": True, "state_owned": False}])
        compounds = [("c1", S1, "professional", A, 0), ("c2", S1, "professional", B, 1),
                     ("c3", S2, "professional", X, 2), ("c4", S2, "none", None, 3), ("c5", S1, "professional", C, 4)]
        insert_records(s, "compound", [
            {"id": cid, "name": f"小区{cid}", "aliases": [], "street_code": st, "management_mode": mode, "company": firm,
             "location": shapely.Point(109.80 + 0.01 * k, 40.64), "owners_org": "none", "renovation": "none",
             "households": 200, "floor_area_m2": 20_000.0, "source": "test"} for cid, st, mode, firm, k in compounds])
        filed = {f"{f}_filed_on": d(2024, 1, 10) for f in ("selection", "area", "contract", "acceptance")}
        s.add_all([
            ServiceContract(id="k1", compound_id="c1", company=A, start=d(2022, 9, 4), end=TODAY + dt.timedelta(days=20),
                            **{**filed, "area_filed_on": None}),
            ServiceContract(id="k2", compound_id="c2", company=B, start=d(2021, 1, 1), end=d(2025, 6, 30), **filed),
            ServiceContract(id="k3", compound_id="c3", company=X, start=d(2024, 1, 1), end=d(2027, 12, 31), **filed),
            FirmCreditEvent(company=A, on=d(2025, 1, 10), kind="grade", grade="AA", expires_on=d(2026, 1, 10)),
            FirmCreditEvent(company=B, on=d(2025, 1, 10), kind="grade", grade="B", expires_on=d(2026, 1, 10)),
            FirmCreditEvent(company=X, on=d(2025, 3, 1), kind="blacklisted", expires_on=d(2026, 3, 1)),
            FeeDisclosure(compound_id="c1", start=d(2025, 3, 1), end=d(2025, 3, 20)),
        ])


_DEMO: dict = {}


@pytest.fixture(scope="session", params=("sqlite", "postgis"))
def firms_demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """A small demo (scale 0.3) with the firms plugin's demo records (`load_demo`), one per backend; read-only."""
    from geoplatform import demo, schema
    from geoplatform.context import Context
    from plugins.firms.demo import load_demo_records
    from tests.conftest import _fresh_url

    if "d" not in _DEMO:
        _DEMO["d"] = demo.generate(scale=0.3, seed=5)
    ctx = Context.create(_fresh_url(request.param, tmp_path_factory, request))
    schema.upgrade(ctx.engine)
    with ctx.session() as s:
        demo.load(s, _DEMO["d"])
        load_demo_records(s, 5, ctx.today)
    return ctx
