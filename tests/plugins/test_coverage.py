"""The coverage plugin on both databases: `geoplatform kpi`, the layers, the attributes; demo sanity."""

from __future__ import annotations

import json

import pytest

from layers.features import layer_features
from layers.geojson import layer_geojson
from plugins.coverage.rules import KPI_FIELDS
from tests.core import layer_fixtures as lf


@pytest.fixture
def loaded(ctx):  # noqa: ANN001, ANN201
    lf.load(ctx)
    return ctx


def test_kpi_json_exact(loaded, db_url, cli_run) -> None:  # noqa: ANN001
    r = cli_run(db_url, "kpi", "--json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) == {"district", "streets"}
    d = data["district"]
    assert {k: d[k] for k in KPI_FIELDS} == {
        "compounds": 5, "served": 2, "coverage_rate": 0.4, "households": 1200, "served_households": 400,
        "coverage_rate_households": 1 / 3, "owners_org": 3, "owners_org_rate": 0.6, "target_coverage": 0.8,
        "target_owners_org": 0.95, "compounds_needed_for_target": 2, "owners_org_needed_for_target": 2,
        "known": 5, "unknown": 0, "coverage_rate_lower": 0.4, "coverage_rate_households_lower": 1 / 3,
        "owners_org_rate_lower": 0.6}
    a, b = data["streets"]
    assert (a["code"], a["name"], a["compounds"], a["served"], a["coverage_rate"]) == ("150203001", "甲街道", 3, 2,
                                                                                      2 / 3)
    assert (a["households"], a["served_households"], a["coverage_rate_households"]) == (1000, 400, 0.4)
    assert (b["code"], b["served"], b["owners_org"], b["owners_org_rate"], b["compounds_needed_for_target"]) == \
        ("150203002", 0, 1, 0.5, 2)


def test_kpi_street_filter_by_code_or_name(loaded, db_url, cli_run) -> None:  # noqa: ANN001
    for value in ("150203002", "乙街道"):
        data = json.loads(cli_run(db_url, "kpi", "--street", value, "--json").stdout)
        assert [s["code"] for s in data["streets"]] == ["150203002"]
        assert data["district"]["compounds"] == 5


def test_kpi_unknown_street_is_a_user_error(loaded, db_url, cli_run) -> None:  # noqa: ANN001
    r = cli_run(db_url, "kpi", "--street", "不存在街道", "--json")
    assert r.exit_code == 2 and r.stdout == ""
    assert "不存在街道" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_kpi_human_table(loaded, db_url, cli_run) -> None:  # noqa: ANN001
    r = cli_run(db_url, "kpi")
    assert r.exit_code == 0
    out = r.stdout
    assert "覆盖率" in out and "甲街道" in out and "全区合计" in out
    assert "66.7%" in out and "40.0%" in out and "33.3%" in out  # street A, district, district households
    assert "覆盖率目标 80.0%" in out and "[Q]" in out and "[D]" in out


def test_kpi_needs_schema(db_url, cli_run) -> None:  # noqa: ANN001
    r = cli_run(db_url, "kpi", "--json")
    assert r.exit_code == 2 and "init" in r.stderr


def test_configured_target_is_applied(loaded) -> None:
    from plugins.coverage.service import kpi_report

    loaded.config.rules = {"coverage": {"target_coverage": 0.4}}
    d = kpi_report(loaded)["district"]
    assert (d["target_coverage"], d["compounds_needed_for_target"]) == (0.4, 0)


def test_attributes(loaded) -> None:
    attrs = loaded.compound_attributes()
    assert attrs["coverage_served"].to_dict() == {"c1": True, "c2": True, "c3": False, "c4": False, "c5": False}
    assert attrs.loc["c3", "coverage_owners_org"] and not attrs.loc["c4", "coverage_owners_org"]


def test_compound_layer_coloured_by_mode(loaded) -> None:
    spec = loaded.layer("coverage")
    assert spec.plugin == "coverage" and spec.source == "compounds"
    assert [r.label_zh for r in spec.legend.rules] == ["专业化物业", "国企兜底", "业主自管/单位自管", "社区代管/准物业",
                                                       "无物业", "待核实"]  # unknown: its own category (RULES §1)
    f = layer_features(loaded, spec)
    assert f.loc["c1", "_label"] == "专业化物业" and f.loc["c3", "_label"] == "无物业"
    assert len(set(f["_color"])) == 5 and bool(f.loc["c3", "boundary_missing"])
    data = json.loads(layer_geojson(loaded, spec, zoom=15))
    assert {x["id"]: x["properties"]["_label"] for x in data["features"]}["c4"] == "业主自管/单位自管"


def test_street_layer_carries_the_kpis(loaded) -> None:
    spec = loaded.layer("coverage_streets")
    data = json.loads(layer_geojson(loaded, spec, zoom=12))
    props = {x["id"]: x["properties"] for x in data["features"]}
    assert props["150203001"]["coverage_rate"] == pytest.approx(2 / 3)
    assert props["150203002"]["_label"].startswith("<")  # 0 % is below half the target
    assert props["150203001"]["compounds_needed_for_target"] == 1


# ---- the demo (shared, read-only) ------------------------------------------------------------------

def test_demo_kpis_are_consistent(demo_ctx) -> None:  # noqa: ANN001
    from geoplatform.summary import summarise
    from plugins.coverage.service import kpi_report

    report = kpi_report(demo_ctx)
    with demo_ctx.session(readonly=True) as s:
        summary = summarise(s)
    d = report["district"]
    assert d["compounds"] == summary["district"]["compounds"] > 500
    assert d["served"] == summary["district"]["professional"] + summary["district"]["state_owned"]
    assert d["households"] == summary["district"]["households"]
    for key in ("compounds", "served", "households", "served_households", "owners_org"):
        assert sum(s[key] for s in report["streets"]) == d[key]
    for row in [d, *report["streets"]]:
        assert 0 <= row["coverage_rate"] <= 1 and 0 <= row["owners_org_rate"] <= 1
        # RULES §1: rates over the known, the lower bound over all; the demo holds some unknowns
        assert row["known"] + row["unknown"] == row["compounds"]
        assert row["coverage_rate"] == row["served"] / row["known"]
        assert row["coverage_rate_lower"] == row["served"] / row["compounds"] <= row["coverage_rate"]
        after = (row["served"] + row["compounds_needed_for_target"]) / row["known"]
        assert after >= 0.8 and (row["compounds_needed_for_target"] == 0 or
                                 (after - 1 / row["known"]) < 0.8)
    assert d["unknown"] == summary["district"]["unknown"] == 13  # the point-only ledger entries: 待核实
    assert len(report["streets"]) == 15
