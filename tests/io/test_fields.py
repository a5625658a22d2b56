"""Value parsers, column aliases and the documentation table of aliases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from geoplatform.cli.commands.imports import KINDS
from geoplatform.io import fields as F
from geoplatform.io.readers import decode_text

TODAY = dt.date(2026, 1, 1)


@pytest.mark.parametrize(("text", "value"), [("1,234", 1234.0), ("12,345.5", 12345.5), ("1 234", 1234.0),
                                             ("１２３", 123.0), ("88,000.5㎡", 88000.5), (" 42 ", 42.0), (7, 7.0)])
def test_numbers(text, value):
    assert F.parse_number(text) == value


@pytest.mark.parametrize("text", ["abc", "nan", "inf", "1,2,3,4x", True])
def test_not_numbers(text):
    with pytest.raises(F.ValueProblem):
        F.parse_number(text)


@pytest.mark.parametrize("text", ["2019-03-01", "2019/3/1", "2019年3月1日", "2019.3.1", "20190301", dt.date(2019, 3, 1),
                                  dt.datetime(2019, 3, 1, 8, 30)])
def test_dates(text):
    assert F.parse_date(text) == dt.date(2019, 3, 1)


@pytest.mark.parametrize("text", ["2025-03-01 14:30", "2025-03-01T14:30", "2025/3/1 14:30", "2025.3.1 14:30:00",
                                  "2025年3月1日14时30分", "2025年3月1日 14:30", dt.datetime(2025, 3, 1, 14, 30)])
def test_datetimes(text):
    assert F.parse_datetime(text) == dt.datetime(2025, 3, 1, 14, 30)


@pytest.mark.parametrize("text", ["2025-03-01", "14:30", "2025-13-01 10:00", "2025-02-30 10:00", "2025-03-01 25:00"])
def test_not_datetimes(text):
    with pytest.raises(F.ValueProblem):
        F.parse_datetime(text)


@pytest.mark.parametrize(("enum", "text", "value"), [
    ("management_mode", "专业化物业", "professional"), ("management_mode", "professional", "professional"),
    ("management_mode", "业主自管", "self_managed"), ("management_mode", "准物业", "community_managed"),
    ("management_mode", "无物业", "none"), ("management_mode", "State-owned company", "state_owned"),
    ("owners_org", "业委会", "owners_committee"), ("renovation", "改造中", "in_progress"),
    ("facility", "供热", "heating"), ("handover_state", "已接管", "taken_over"), ("garage_type", "地下车库", "underground"),
])
def test_enums_in_chinese_or_english(enum, text, value):
    assert F.parse_enum_value(enum, text) == value


@pytest.mark.parametrize(("field", "value", "expect"), [
    ("households", "-1", "negative"), ("build_year", "2027", "future"), ("build_year", "1800", "minimum"),
    ("fee_collection_rate", "85", "85%"),
])
def test_implausible_values(field, value, expect):
    f = next(f for f in F.fields_for("compounds") if f.name == field)
    with pytest.raises(F.ValueProblem, match=expect):
        F.parse_value(f, value, TODAY)


def test_rate_with_percent():
    f = next(f for f in F.fields_for("compounds") if f.name == "fee_collection_rate")
    assert F.parse_value(f, "85%", TODAY) == pytest.approx(0.85)


def test_chinese_headers_map(tmp_path):
    mapping, ignored = F.map_columns("compounds", ["小区名称", "所属街道", "户数", "建成年份", "建筑面积（㎡）",
                                                   "物业服务方式", "经度", "纬度", "备注栏"])
    assert mapping["建筑面积（㎡）"] == "floor_area_m2" and mapping["物业服务方式"] == "management_mode"
    assert mapping["经度"] == "lon" and ignored == ["备注栏"]


@pytest.mark.parametrize(("raw", "enc"), [("小区".encode("utf-8-sig"), "utf-8-sig"), ("小区".encode(), "utf-8"),
                                          ("小区".encode("gbk"), "gb18030"), ("㵘".encode("gb18030"), "gb18030")])
def test_encodings_detected(raw, enc):
    text, got = decode_text(raw, None)
    assert got == enc and text in ("小区", "㵘")


def test_kinds_agree():
    assert tuple(KINDS) == F.KINDS


def test_every_alias_is_documented():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "import.md").read_text(encoding="utf-8")
    missing = [(k, f, a) for k, fs in F.all_aliases().items() for f, aliases in fs.items() for a in aliases
               if f"`{a}`" not in doc]
    assert not missing, missing[:10]
