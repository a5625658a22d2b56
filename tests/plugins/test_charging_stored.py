"""Charging on stored garages (both databases): evaluation, `--stored` CLI, compound attributes, the layer, the demo."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import pytest
import shapely
from sqlalchemy import func, select

from geoplatform.models import Garage
from geoplatform.store import insert_records
from plugins.charging.layer import DECISION_COLORS, NO_DATA_COLOR
from plugins.charging.rules import DECISION_ORDER, RULE_DECISIONS, evaluate_garage
from plugins.charging.settings import ChargingSettings
from plugins.charging.stored import evaluate_records, load_garages
from tests.plugins.test_charging_rules import BASE, OLD_BIG

STREETS = [
    {"code": "150203001", "name": "甲街道", "kind": "subdistrict", "aliases": [],
     "geom": shapely.MultiPolygon([shapely.box(109.70, 40.60, 109.80, 40.70)])},
    {"code": "150203002", "name": "乙街道", "kind": "subdistrict", "aliases": [],
     "geom": shapely.MultiPolygon([shapely.box(109.80, 40.60, 109.90, 40.70)])},
]


def _compound(cid: str, street: str, x: float, mode: str, name: str) -> dict[str, Any]:
    box = shapely.box(x, 40.65, x + 0.002, 40.652)
    return {"id": cid, "name": name, "aliases": [], "street_code": street, "boundary": shapely.MultiPolygon([box]),
            "location": box.centroid, "households": 100, "management_mode": mode, "owners_org": "none",
            "renovation": "none", "demolition_planned": False, "source": "test", "version": 1}


COMPOUNDS = [
    _compound("k1", "150203001", 109.71, "professional", "<b>阳光</b>花园"),
    _compound("k2", "150203001", 109.75, "none", "无物业小区"),
    _compound("k3", "150203002", 109.85, "state_owned", "没有车库的小区"),
]


def _garage(gid: str, compound: str | None, **changes: Any) -> dict[str, Any]:
    rec = {k: v for k, v in {**BASE, **changes}.items() if k != "management_mode"}
    if rec["completion_date"] is not None:
        rec["completion_date"] = dt.date.fromisoformat(rec["completion_date"])
    return {**rec, "id": gid, "compound_id": compound, "name": f"<img src=x>{gid}", "source": "test", "version": 1,
            "location": shapely.Point(109.711, 40.651)}


GARAGES = [
    _garage("k1-G1", "k1", **OLD_BIG, meets_other_clauses=True),         # R6, F1
    _garage("k1-G2", "k1", sprinklers="absent"),                          # R3
    _garage("k2-G1", "k2", garage_type="open_lot", capacity_ok=False),   # R2, F2 + F3 (mode from compound)
    _garage("k2-G2", "k2", completion_date=None),                         # incomplete: not evaluated
    _garage("x-G1", None),                                                # no compound: no management_mode
]


@pytest.fixture
def charging_ctx(ctx):  # noqa: ANN001, ANN201
    """A Context on a fresh database (each backend) with 3 compounds and 5 garages."""
    with ctx.session() as s:
        insert_records(s, "street", STREETS)
        insert_records(s, "compound", COMPOUNDS)
        insert_records(s, "garage", GARAGES)
    return ctx


def _by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in rows}


def test_stored_evaluation_uses_the_compounds_management_mode(charging_ctx) -> None:  # noqa: ANN001
    with charging_ctx.session(readonly=True) as s:
        records = load_garages(s)
    assert [r["id"] for r in records] == sorted(g["id"] for g in GARAGES)
    rows = _by_id(evaluate_records(records, ChargingSettings()))
    assert (rows["k1-G1"]["rule"], rows["k1-G1"]["flags"]) == ("R6", ["F1_PROPERTY_MUST_COOPERATE"])
    assert rows["k1-G2"]["decision"] == "INELIGIBLE"
    assert rows["k2-G1"]["flags"] == ["F2_CAPACITY_EXPANSION", "F3_COMMUNITY_ASSISTS"]
    assert rows["k2-G2"]["decision"] is None and any("completion_date" in p for p in rows["k2-G2"]["problems"])
    assert any("management_mode" in p for p in rows["x-G1"]["problems"])
    for rec in records:  # same answer as the pure function on the same record
        if rows[rec["id"]]["decision"] is not None:
            assert rows[rec["id"]]["decision"] == evaluate_garage(rec).decision


def test_cli_stored_json_and_street_filter(charging_ctx, db_url: str, cli_run) -> None:  # noqa: ANN001
    res = cli_run(db_url, "charging", "evaluate", "--stored", "--json")
    assert res.exit_code == 0, res.stderr
    rows = json.loads(res.stdout)
    assert [r["id"] for r in rows] == sorted(g["id"] for g in GARAGES)
    assert _by_id(rows)["k1-G1"]["compound_name"] == "<b>阳光</b>花园"
    res = cli_run(db_url, "charging", "evaluate", "--stored", "--street", "甲街道", "--json")
    assert [r["id"] for r in json.loads(res.stdout)] == ["k1-G1", "k1-G2", "k2-G1", "k2-G2"]
    res = cli_run(db_url, "charging", "evaluate", "--stored", "--street", "150203002", "--json")
    assert json.loads(res.stdout) == []
    res = cli_run(db_url, "charging", "evaluate", "--stored", "--street", "不存在街道")
    assert res.exit_code == 2 and "unknown street" in res.stderr


def test_cli_stored_human(charging_ctx, db_url: str, cli_run) -> None:  # noqa: ANN001
    res = cli_run(db_url, "charging", "evaluate", "--stored", "--street", "甲街道")
    assert res.exit_code == 0, res.stderr
    for needle in ("小区", "<b>阳光</b>花园", "按既有车库例外可安装", "不得安装", "数据不全", "field completion_date",
                   "合计：可以安装 1，按既有车库例外可安装 1，不得安装 1，数据不全 1"):
        assert needle in res.stdout, needle


def test_cli_stored_needs_a_schema(db_url: str, cli_run) -> None:
    res = cli_run(db_url, "charging", "evaluate", "--stored")
    assert res.exit_code == 2 and "geoplatform init" in res.stderr


def test_compound_attributes(charging_ctx) -> None:  # noqa: ANN001
    attrs = charging_ctx.compound_attributes()
    assert {"k1", "k2", "k3"} <= set(attrs.index)
    k1, k2, k3 = attrs.loc["k1"], attrs.loc["k2"], attrs.loc["k3"]
    assert (k1.charging_best, k1.charging_worst, k1.charging_garages) == ("ELIGIBLE_BY_EXCEPTION", "INELIGIBLE", 2)
    assert (k1.charging_eligible_by_exception, k1.charging_ineligible, k1.charging_eligible) == (1, 1, 0)
    assert k1.charging_worst_label == "不得安装" and k1.charging_best_label == "按既有车库例外可安装"
    assert k1.charging_detail.index("k1-G2") < k1.charging_detail.index("k1-G1")  # worst garage first
    assert "不得安装（R3）：这是地下车库，缺少以下消防设施：自动喷水灭火系统。" in k1.charging_detail
    assert (k2.charging_best, k2.charging_worst, k2.charging_invalid, k2.charging_garages) == ("ELIGIBLE", "ELIGIBLE", 1, 2)
    assert "数据不全" in k2.charging_detail and "incomplete data" in k2.charging_detail_en
    assert k3.charging_garages == 0 and pd.isna(k3.charging_worst)
    assert all(c.startswith("charging_") for c in attrs.columns if c in {
        *(f"charging_{d.lower()}" for d in DECISION_ORDER)})


def test_layer_colours_by_worst_decision_and_escapes_popups(charging_ctx) -> None:  # noqa: ANN001
    from layers.features import layer_features
    from layers.geojson import to_geojson

    spec = charging_ctx.layer("charging")
    assert spec.plugin == "charging" and spec.legend.attribute == "charging_worst"
    frame = layer_features(charging_ctx, spec)
    assert set(frame.index) == {"k1", "k2"}  # k3 has no garage
    assert frame.loc["k1", "_color"] == DECISION_COLORS["INELIGIBLE"]
    assert frame.loc["k2", "_color"] == DECISION_COLORS["ELIGIBLE"]
    props = next(f["properties"] for f in to_geojson(frame, spec)["features"] if f["id"] == "k1")
    text = " ".join(str(v) for v in props.values())  # sent as data; the map page shows it as text (test_layers_browser.py)
    assert "<img src=x>k1-G" in text and "<b>阳光" in text and "可以安装" in text
    legend_values = [r.value for r in spec.legend.rules]
    assert legend_values == [*DECISION_ORDER, None]
    assert spec.legend.rules[-1].color == NO_DATA_COLOR


# ------------------------------------------------------------------ the demo (both databases)

def test_demo_stored_evaluation(demo_url: str, cli_run) -> None:
    from geoplatform.context import Context

    with Context.create(demo_url).session(readonly=True) as s:
        n = s.scalar(select(func.count()).select_from(Garage))
    res = cli_run(demo_url, "charging", "evaluate", "--stored", "--json")
    assert res.exit_code == 0, res.stderr
    rows = json.loads(res.stdout)
    assert len(rows) == n > 100
    assert all(r["decision"] == RULE_DECISIONS[r["rule"]] for r in rows)
    assert len({r["rule"] for r in rows}) >= 8
    res = cli_run(demo_url, "charging", "evaluate", "--stored", "--street", "150203006", "--json")
    sub = json.loads(res.stdout)
    assert 0 < len(sub) < n and {r["street_code"] for r in sub} == {"150203006"}


def test_demo_layer(demo_ctx, cli_run, demo_url: str) -> None:  # noqa: ANN001
    from layers.features import layer_features

    frame = layer_features(demo_ctx, demo_ctx.layer("charging"))
    attrs = demo_ctx.compound_attributes()
    assert len(frame) == int((attrs.charging_garages > 0).sum()) > 100
    assert set(frame["_color"]) <= set(DECISION_COLORS.values())
    assert frame["charging_worst"].map(DECISION_ORDER.index).ge(frame["charging_best"].map(DECISION_ORDER.index)).all()
    layers = json.loads(cli_run(demo_url, "layers", "--json").stdout)["layers"]
    assert any(layer["id"] == "charging" and layer["plugin"] == "charging" for layer in layers)


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "geojson"])
def test_export_evaluations(charging_ctx, db_url: str, cli_run, tmp_path, fmt: str) -> None:  # noqa: ANN001
    out = tmp_path / f"charging.{fmt}"
    res = cli_run(db_url, "export", "charging", "--format", fmt, "-o", str(out), "--street", "甲街道", "--json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["rows"] == 4
    if fmt == "geojson":
        import geopandas as gpd

        frame = gpd.read_file(out).set_index("id")
        assert frame.loc["k1-G1", "decision"] == "按既有车库例外可安装" and frame.geometry.notna().all()
        return
    frame = pd.read_excel(out) if fmt == "xlsx" else pd.read_csv(out, encoding="utf-8-sig")
    assert list(frame.columns[:8]) == ["车库编号", "车库", "小区编号", "小区", "街镇代码", "车库类型", "结论", "规则"]
    rows = frame.set_index("车库编号")
    assert rows.loc["k1-G2", "结论"] == "不得安装" and "自动喷水灭火系统" in rows.loc["k1-G2", "理由"]
    assert "申请增容" in rows.loc["k2-G1", "提示"] and "completion_date" in rows.loc["k2-G2", "数据问题"]


def test_export_neutralises_formulas(ctx, db_url: str, cli_run, tmp_path) -> None:  # noqa: ANN001
    with ctx.session() as s:
        insert_records(s, "street", STREETS)
        insert_records(s, "compound", [_compound("k9", "150203001", 109.72, "professional", "=HYPERLINK(1)")])
        insert_records(s, "garage", [{**_garage("k9-G1", "k9"), "name": "=1+1"}])
    out = tmp_path / "charging.csv"
    assert cli_run(db_url, "export", "charging", "--format", "csv", "-o", str(out)).exit_code == 0
    row = pd.read_csv(out, encoding="utf-8-sig").iloc[0]
    assert row["车库"] == "'=1+1" and row["小区"] == "'=HYPERLINK(1)"
