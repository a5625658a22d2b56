"""`geoplatform charging evaluate FILE|-`: JSON contract, Chinese explanations, input errors (no database)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.plugins.test_charging_rules import BASE, NEW_BIG, OLD_BIG

# One record per rule, ids mixed text/int, in a deliberately unsorted order.
RECORDS = [
    {**BASE, "id": "z-R10"},
    {**BASE, "id": 7, "space_right": "lease_short"},
    {**BASE, "id": "a-R2", "garage_type": "open_lot", "management_mode": "none", "capacity_ok": False},
    {**BASE, "id": "R3", "sprinklers": "absent"},
    {**BASE, "id": "R4", "fire_alarm": "unknown"},
    {**BASE, "id": "R5", "lowest_charging_floor": -4},
    {**BASE, "id": "R6", **OLD_BIG, "meets_other_clauses": True},
    {**BASE, "id": "R7", **OLD_BIG, "meets_other_clauses": False},
    {**BASE, "id": "R8", **OLD_BIG},
    {**BASE, "id": "R9", **NEW_BIG},
]
EXPECTED_RULES = ["R10", "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9"]


def _write(tmp_path: Path, data: object, name: str = "garages.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_json_output_same_order_and_contract_keys(cli_run, tmp_path: Path) -> None:
    res = cli_run(None, "charging", "evaluate", _write(tmp_path, RECORDS), "--json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert [r["id"] for r in out] == [r["id"] for r in RECORDS]
    assert [r["rule"] for r in out] == EXPECTED_RULES
    assert all(list(r) == ["id", "decision", "rule", "reasons", "flags"] for r in out)
    assert out[2]["decision"] == "ELIGIBLE" and out[2]["flags"] == ["F2_CAPACITY_EXPANSION", "F3_COMMUNITY_ASSISTS"]
    assert out[1]["decision"] == "NOT_ELIGIBLE_PRIVATE" and out[1]["reasons"][0]["code"] == "R1.space_right"


def test_stdin(cli_run) -> None:
    res = cli_run(None, "charging", "evaluate", "-", "--json", input=json.dumps(RECORDS[:3]))
    assert res.exit_code == 0, res.stderr
    assert [r["rule"] for r in json.loads(res.stdout)] == EXPECTED_RULES[:3]


def test_human_table_explains_each_decision_in_chinese(cli_run, tmp_path: Path) -> None:
    res = cli_run(None, "charging", "evaluate", _write(tmp_path, RECORDS))
    assert res.exit_code == 0, res.stderr
    text = res.stdout
    for needle in ("编号", "结论", "规则", "按既有车库例外可安装", "不能装个人桩", "待核查", "不得安装",
                   "需先设独立防火单元", "不建议安装", "逐个说明", "合计", "采用的阈值：标准实施日期 2019-03-01",
                   "GB 50067 防火分区限值 地下车库 2000 m²、半地下车库 2500 m²", "（自动喷水灭火系统正常时 ×2）；例外规定适用于 地下车库", "不建议楼层：地下4层及以下",
                   "由社区居委会、业委会协助业主办理", "需向供电公司申请增容"):
        assert needle in text, needle
    # every garage gets its own explanation with its rule
    for rec, rule in zip(RECORDS, EXPECTED_RULES, strict=True):
        assert f"{rec['id']} — " in text and f"（规则 {rule}）" in text


def test_invalid_records_exit_2_naming_record_and_field(cli_run, tmp_path: Path) -> None:
    bad = [dict(RECORDS[0]), {**RECORDS[1], "sprinklers": "broken"}, {**RECORDS[2], "fire_compartment_area_m2": -5},
           {k: v for k, v in RECORDS[3].items() if k != "garage_type"}, {**RECORDS[4], "completion_date": "2019-02-30"}]
    path = _write(tmp_path, bad)
    res = cli_run(None, "charging", "evaluate", path, "--json")
    assert res.exit_code == 2 and res.stdout == ""
    err = res.stderr
    assert "record 2 (id 7), field sprinklers (自动喷水灭火系统): unknown value 'broken'; allowed: working 正常," in err
    assert "record 3 (id a-R2), field fire_compartment_area_m2 (防火分区面积 m²): negative area" in err
    assert "record 4 (id R3), field garage_type (车库类型): missing required field" in err
    assert "record 5 (id R4), field completion_date (竣工日期): unparseable date" in err
    assert "4 problem(s) in 4 record(s)" in err and "garages.json" in err


@pytest.mark.parametrize(("content", "message"), [
    ("[{", "not valid JSON"),
    ('{"id": "G1"}', "expected a JSON list"),
    ("[1]", "record 1, field (record): expected a JSON object"),
])
def test_bad_documents(cli_run, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    res = cli_run(None, "charging", "evaluate", str(path))
    assert res.exit_code == 2 and message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr  # one clear line, not the problem twice


@pytest.mark.parametrize("args", [(), ("x.json", "--stored"), ("x.json", "--street", "甲街道"),
                                  ("/nonexistent/garages.json",)])
def test_argument_errors(cli_run, args: tuple) -> None:
    res = cli_run(None, "charging", "evaluate", *args)
    assert res.exit_code == 2 and res.stderr.strip()


def test_help_describes_the_record_format(cli_run) -> None:
    res = cli_run(None, "charging", "evaluate", "--help")
    assert res.exit_code == 0
    for needle in ("sprinklers", "自动喷水灭火系统", "working 正常", "lease_1y_plus 租期一年及以上", "YYYY-MM-DD",
                   "meets_other_clauses", "（可选）"):
        assert needle in res.stdout, needle


def test_thresholds_come_from_the_config(cli_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[rules.charging]\ncompartment_threshold_m2 = 3500\nstandard_date = "2022-01-01"\n', encoding="utf-8")
    monkeypatch.setenv("GEOPLATFORM_CONFIG", str(cfg))
    rec = {**BASE, **OLD_BIG}
    res = cli_run(None, "charging", "evaluate", "-", "--json", input=json.dumps([rec]))
    assert json.loads(res.stdout)[0]["rule"] == "R10"
    assert "3500 m²" in json.loads(res.stdout)[0]["reasons"][0]["zh"]
    res = cli_run(None, "charging", "evaluate", "-", input=json.dumps([rec]))
    assert "标准实施日期 2022-01-01" in res.stdout and "防火分区 3500 m²" in res.stdout
    cfg.write_text("[rules.charging]\ncompartment = 1\n", encoding="utf-8")
    res = cli_run(None, "charging", "evaluate", "-", input=json.dumps([rec]))
    assert res.exit_code == 2 and "unknown [rules.charging] setting" in res.stderr
