"""Import fields per KIND: column aliases (English, Chinese, shapefile short names) and value parsers.

docs/import.md holds the same alias table for users; tests/io/test_fields.py checks the two agree.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from geoplatform.i18n import Localized, MessageError
from geoplatform.io import messages  # noqa: F401 - registers the texts
from geoplatform.labels import LABELS, parse_enum

# ------------------------------------------------------------------ enum values the core labels lack
# (parsed here without registering globally: plugins own their enums' display labels)
EXTRA_ENUMS: dict[str, dict[str, tuple[str, ...]]] = {
    "management_mode": {
        "professional": ("专业化物业", "专业化物业服务", "物业公司", "专业物业", "市场化物业"),
        "state_owned": ("国企兜底", "国有物业", "国企托管", "区属国企"),
        "self_managed": ("业主自管", "单位自管", "自管", "自治"),
        "community_managed": ("社区代管", "准物业", "社区托管"),
        "none": ("无物业", "无", "无人管理", "弃管"),
    },
    "owners_org": {
        "none": ("未组建", "无", "没有"),
        "preparing": ("筹备中", "筹备", "正在组建"),
        "owners_committee": ("业委会", "业主委员会", "已成立业委会"),
        "management_committee": ("物管会", "物业管理委员会"),
    },
    "renovation": {
        "none": ("未纳入", "无", "未改造"),
        "planned": ("已列入计划", "计划", "计划改造", "拟改造"),
        "in_progress": ("改造中", "在建", "正在改造"),
        "completed": ("已完成", "已改造", "完成"),
    },
    "handover_state": {
        "unknown": ("未摸排",), "not_handed_over": ("未移交",), "owner_consent": ("业主表决同意",),
        "applied": ("提出移交",), "acceptance": ("组织验收",), "agreement": ("签订移交协议",),
        "taken_over": ("已接管",), "rectifying": ("整改中",), "renovation": ("纳入老旧小区改造",),
        "not_accepted": ("未验收",), "accepted": ("已验收",), "planned": ("计划",), "in_progress": ("实施中",),
        "done": ("已完成",), "blocked": ("无法进场",), "negotiating": ("协商中",), "access": ("已进场",),
    },
    "garage_type": {
        "open_lot": ("露天停车场", "地面停车场"), "above_ground": ("地上车库",), "semi_underground": ("半地下车库",),
        "underground": ("地下车库",), "high_rise": ("高层车库", "立体车库"),
    },
    "fire_state": {"working": ("正常", "完好"), "faulty": ("故障", "损坏"), "absent": ("无", "缺失", "未设置"),
                   "unknown": ("不详", "未知")},
    "space_right": {"owned": ("自有", "产权"), "lease_1y_plus": ("租赁一年以上", "长租"),
                    "lease_short": ("租赁不足一年", "短租"), "none": ("无",)},
    "credit_grade": {"A": ("A级",), "B": ("B级",), "C": ("C级",), "D": ("D级",)},
}


def enum_values(enum: str) -> list[str]:
    """All accepted values of an enum."""
    return list(dict.fromkeys([*LABELS.get(enum, {}), *EXTRA_ENUMS.get(enum, {})]))


def parse_enum_value(enum: str, text: object) -> str | None:
    """English value or any Chinese/English label or synonym → the enum value (None when unknown)."""
    s = str(text).strip()
    got = parse_enum(enum, s)
    if got is not None:
        return got
    low = s.lower().replace(" ", "_").replace("-", "_")
    for value, synonyms in EXTRA_ENUMS.get(enum, {}).items():
        if s in synonyms or low == value.lower():
            return value
    return None


# ------------------------------------------------------------------ value parsers

class ValueProblem(MessageError):
    """A cell that cannot become a valid value; `message` says why (key + params)."""


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    s = str(v).strip()
    if len(s) > 1 and s[0] == "'" and s[1] in "=+-@":  # our exports neutralise formulas this way
        s = s[1:]
    return s


_NUM_CLEAN = re.compile(r"[,，\s_]|(?<=\d)'(?=\d)")


def parse_number(v: Any) -> float:
    """12,345 / 1 234 / 12,345.5 / full-width digits → float; rejects NaN/Inf and text."""
    if isinstance(v, bool):
        raise ValueProblem("import.value.not_number", value=v)
    if isinstance(v, int | float):
        f = float(v)
    else:
        s = unicodedata.normalize("NFKC", _text(v))
        s = s.removesuffix("㎡").removesuffix("平方米").removesuffix("m²").removesuffix("m2").removesuffix("户")
        s = s.removesuffix("万元").removesuffix("层").strip()
        if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", s) or re.fullmatch(r"[+-]?\d+(\.\d+)?", _NUM_CLEAN.sub("", s)):
            s = _NUM_CLEAN.sub("", s)
        try:
            f = float(s)
        except ValueError as exc:
            raise ValueProblem("import.value.not_number", value=_text(v)) from exc
    if not math.isfinite(f):
        raise ValueProblem("import.value.not_finite", value=v)
    return f


def parse_int(v: Any) -> int:
    """A whole number (thousands separators allowed)."""
    f = parse_number(v)
    if not float(f).is_integer():
        raise ValueProblem("import.value.not_whole", value=_text(v))
    return int(f)


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(v: Any) -> dt.date:
    """2019-03-01 / 2019/3/1 / 2019.3.1 / 2019年3月1日 / 20190301 / an Excel date cell."""
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    s = unicodedata.normalize("NFKC", _text(v)).replace(" ", "") if not isinstance(v, str) else \
        unicodedata.normalize("NFKC", v.strip())
    for pat in _DATE_PATTERNS:
        m = pat.match(s)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError as exc:
                if not 1 <= int(m.group(2)) <= 12:
                    raise ValueProblem("import.value.bad_month", value=s) from exc
                if "day" in str(exc):
                    raise ValueProblem("import.value.bad_day", value=s) from exc
                raise ValueProblem("import.value.bad_date", value=s, detail=str(exc)) from exc
    raise ValueProblem("import.value.not_date", value=s)


_DATETIME_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[ T]?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?(\d{1,2})[时点:](\d{1,2})分?(?:(\d{1,2})秒?)?$"),
)


def parse_datetime(v: Any) -> dt.datetime:
    """2025-03-01 14:30 / 2025-03-01T14:30:05 / 2025/3/1 14:30 / 2025年3月1日14时30分 / an Excel date-time cell.

    A time of day is required (a bare date is refused: the 24-hour clocks need the hour); the value is
    kept as written (local time), without a time zone.
    """
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    if hasattr(v, "to_pydatetime"):  # pandas Timestamp
        return v.to_pydatetime().replace(tzinfo=None)
    s = unicodedata.normalize("NFKC", _text(v)).strip()
    squeezed = re.sub(r"\s+", " ", s)
    for pat in _DATETIME_PATTERNS:
        m = pat.match(squeezed if pat is _DATETIME_PATTERNS[0] else squeezed.replace(" ", ""))
        if m:
            try:
                return dt.datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)),
                                   int(m.group(5)), int(m.group(6) or 0))
            except ValueError as exc:
                raise ValueProblem("import.value.bad_date", value=s, detail=str(exc)) from exc
    raise ValueProblem("import.value.not_datetime", value=s)


_TRUE = {"1", "true", "yes", "y", "t", "是", "有", "√", "✓", "对"}
_FALSE = {"0", "false", "no", "n", "f", "否", "无", "×", "✗", "没有"}


def parse_bool(v: Any) -> bool:
    """是/否, yes/no, true/false, 1/0, √/×."""
    if isinstance(v, bool):
        return v
    s = _text(v).lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueProblem("import.value.not_bool", value=_text(v))


def parse_rate(v: Any) -> float:
    """A share 0–1, or a percentage written with % (85% → 0.85)."""
    s = _text(v) if not isinstance(v, int | float) else None
    if s is not None and s.endswith(("%", "％")):
        f = parse_number(s[:-1]) / 100
    else:
        f = parse_number(v)
        if 1 < f <= 100:
            raise ValueProblem("import.value.bare_percent", value=f, share=f / 100)
    if not 0 <= f <= 1:
        raise ValueProblem("import.value.rate_range", value=_text(v))
    return f


def parse_list(v: Any) -> list[str]:
    """A JSON list or text separated by 、 , ; ； | → list of names."""
    if isinstance(v, list):
        return [str(x) for x in v]
    s = _text(v)
    if s.startswith("["):
        try:
            got = json.loads(s)
            if isinstance(got, list):
                return [str(x) for x in got]
        except json.JSONDecodeError:
            pass
    return [p.strip() for p in re.split(r"[、,;；|，]", s) if p.strip()]


# ------------------------------------------------------------------ fields

@dataclass(frozen=True)
class Field:
    """One importable column: target name, type, accepted headers, plausible range."""

    name: str
    type: str  # text | int | float | date | datetime | bool | rate | list | enum:<name> | code9 | code12 | lon | lat | wkt
    aliases: tuple[str, ...] = ()
    lo: float | None = None
    hi: float | None = None
    required: bool = False
    max_len: int | None = None


def parse_value(f: Field, v: Any, today: dt.date) -> Any:
    """One cell → a typed, range-checked value (ValueProblem when not)."""
    kind = f.type
    if kind in ("text", "wkt", "ref"):
        s = _text(v)
        if f.max_len and len(s) > f.max_len:
            raise ValueProblem("import.value.too_long", max=f.max_len)
        return s
    if kind == "int":
        out: Any = parse_int(v)
    elif kind in ("float", "lon", "lat"):
        out = parse_number(v)
    elif kind == "date":
        out = parse_date(v)
        if out.year < 1900 or out.year > today.year + 50:
            raise ValueProblem("import.value.implausible_date", date=out.isoformat())
        return out
    elif kind == "datetime":
        out = parse_datetime(v)
        if out.year < 1900 or out.year > today.year + 50:
            raise ValueProblem("import.value.implausible_date", date=out.isoformat(sep=" "))
        return out
    elif kind == "bool":
        return parse_bool(v)
    elif kind == "rate":
        return parse_rate(v)
    elif kind == "list":
        return parse_list(v)
    elif kind.startswith("enum:"):
        enum = kind[5:]
        got = parse_enum_value(enum, v)
        if got is None:
            raise ValueProblem("import.value.not_in_enum", value=_text(v), choices=_enum_help(enum))
        return got
    elif kind in ("code9", "code12"):
        s = _text(v)
        n = 9 if kind == "code9" else 12
        if kind == "code9" and len(s) == 12 and s.endswith("000"):
            s = s[:9]
        if not (s.isdigit() and len(s) == n):
            raise ValueProblem("import.value.not_code", value=s, n=n)
        return s
    else:  # pragma: no cover - a spec error
        raise ValueError(kind)
    hi = f.hi
    if f.name == "build_year":
        hi = today.year
        if out > hi:
            raise ValueProblem("import.value.future_year", year=out)
    if f.lo is not None and out < f.lo:
        key = "import.value.below_min_negative" if out < 0 <= f.lo else "import.value.below_min"
        raise ValueProblem(key, value=out, lo=f.lo)
    if hi is not None and out > hi:
        raise ValueProblem("import.value.above_max", value=out, hi=hi)
    return out


def _enum_help(enum: str) -> Localized:
    """The accepted values: 'professional (专业化物业) / …' in English, the Chinese labels (also accepted) in Chinese."""
    en, zh_labels = [], []
    for v in enum_values(enum):
        zh = LABELS.get(enum, {}).get(v, (None,))[0] or (EXTRA_ENUMS.get(enum, {}).get(v) or ("",))[0]
        en.append(f"{v} ({zh})" if zh else v)
        zh_labels.append(zh or v)
    return Localized(en=" / ".join(en), zh="、".join(zh_labels))


ID = ("id", "编号", "代码", "编码", "code", "fid_", "序号id")
NAME = ("name", "名称")
STREET = ("street_code", "street", "所属街道", "街道", "街镇", "所属街镇", "街道办事处", "街道名称", "街道代码",
          "所属街道办事处", "街镇名称", "street_cod")
COMMUNITY = ("community_code", "community", "所属社区", "社区", "社区代码", "社区名称", "community_")
COMPOUND_REF = ("compound_id", "compound", "小区编号", "所属小区编号", "小区代码", "所属小区", "compound_i")
ADDRESS = ("address", "地址", "小区地址", "坐落", "详细地址", "门牌地址")
HOUSEHOLDS = ("households", "户数", "总户数", "住户数", "居民户数", "household")
BUILD_YEAR = ("build_year", "建成年份", "建成年代", "建成时间", "竣工年份", "建设年代", "建成年", "年代")
FLOOR_AREA = ("floor_area_m2", "floor_area", "建筑面积", "总建筑面积", "面积", "floor_are")
SOURCE = ("source", "来源", "数据来源")
LON = ("lon", "lng", "long", "longitude", "x", "经度", "东经", "x坐标", "loc_lon")
LAT = ("lat", "latitude", "y", "纬度", "北纬", "y坐标", "loc_lat")
WKT = ("wkt", "geometry", "geom", "几何", "边界", "范围", "边界wkt", "shape", "the_geom", "几何wkt")

SPECS: dict[str, tuple[str, list[Field]]] = {
    "district": ("district", [
        Field("code", "text", ("code", "adcode", "行政区划代码", "区划代码", "代码"), max_len=12),
        Field("name", "text", ("name", "行政区名称", "区名", *NAME), max_len=100),
        Field("source", "text", SOURCE, max_len=200),
    ]),
    "streets": ("street", [
        Field("code", "code9", ("code", "street_code", "街镇代码", "街道代码", "区划代码", "代码", "编码"), required=True),
        Field("name", "text", ("name", "街镇名称", "街道名称", "街道", "街镇", *NAME), required=True, max_len=100),
        Field("kind", "enum:street_kind", ("kind", "类型", "类别")),
        Field("aliases", "list", ("aliases", "别名")),
        Field("source", "text", SOURCE, max_len=200),
    ]),
    "communities": ("community", [
        Field("code", "code12", ("code", "community_code", "社区代码", "村代码", "社区编码", "代码", "编码"), required=True),
        Field("street_code", "ref", STREET),
        Field("name", "text", ("name", "社区名称", "社区", "村名称", *NAME), required=True, max_len=100),
        Field("source", "text", SOURCE, max_len=200),
    ]),
    "compounds": ("compound", [
        Field("id", "text", ("id", "小区编号", "小区代码", "小区id", *ID), max_len=64),
        Field("name", "text", ("name", "小区名称", "小区名", "项目名称", "小区", *NAME), required=True, max_len=200),
        Field("aliases", "list", ("aliases", "别名", "曾用名")),
        Field("street_code", "ref", STREET),
        Field("community_code", "ref", COMMUNITY),
        Field("address", "text", ADDRESS, max_len=300),
        Field("build_year", "int", BUILD_YEAR, lo=1900),
        Field("households", "int", HOUSEHOLDS, lo=0, hi=50_000),
        Field("floor_area_m2", "float", FLOOR_AREA, lo=0, hi=10_000_000),
        Field("management_mode", "enum:management_mode",
              ("management_mode", "mgmt_mode", "物业服务方式", "管理方式", "物业管理方式", "管理模式", "物业服务模式",
               "物业类型", "management")),
        # the serving firm: a name the firms registry knows (matched, or created with a warning; RULES §7)
        Field("company", "text", ("company", "物业公司", "物业服务企业", "property_company", "prop_comp", "物业企业",
                                  "物业公司名称", "property_c"), max_len=200),
        Field("contract_end", "date", ("contract_end", "contr_end", "合同到期", "合同到期日", "合同截止日期",
                                      "服务合同到期", "合同到期时间", "contract_e")),
        Field("owners_org", "enum:owners_org", ("owners_org", "业主组织", "业主组织情况", "业委会组建情况",
                                                "业委会/物管会")),
        Field("renovation", "enum:renovation", ("renovation", "老旧小区改造", "改造情况", "改造状态", "renovatio")),
        Field("fee_collection_rate", "rate", ("fee_collection_rate", "fee_rate", "物业费收缴率", "收缴率", "fee_collec")),
        Field("complaints_per_year", "int", ("complaints_per_year", "complaints", "年投诉量", "投诉量", "12345投诉",
                                             "年12345投诉", "complaints"), lo=0, hi=100_000),
        Field("demolition_planned", "bool", ("demolition_planned", "demolition", "拟拆迁", "是否拆迁", "列入拆迁",
                                             "demolition")),
        Field("takeover_cost", "float", ("takeover_cost", "takeover", "接管成本", "接管测算", "托底成本",
                                         "年补贴测算", "takeover_c"), lo=0, hi=100_000),
        Field("managed_by_id", "text", ("managed_by_id", "managed_by", "托管小区", "打包主体小区"), max_len=64),
        Field("source", "text", SOURCE, max_len=200),
    ]),
    "buildings": ("building", [
        Field("id", "text", ("id", "楼栋编号", "楼栋代码", "楼栋id", *ID), max_len=64),
        Field("compound_id", "ref", COMPOUND_REF),
        Field("street_code", "ref", STREET),
        Field("floors", "int", ("floors", "层数", "楼层数", "地上层数", "总层数"), lo=1, hi=150),
        Field("households", "int", HOUSEHOLDS, lo=0, hi=5_000),
        Field("build_year", "int", BUILD_YEAR, lo=1900),
        Field("floor_area_m2", "float", FLOOR_AREA, lo=0, hi=1_000_000),
        Field("address", "text", ADDRESS, max_len=300),
        Field("source", "text", SOURCE, max_len=200),
    ]),
    "garages": ("garage", [
        Field("id", "text", ("id", "车库编号", *ID), max_len=64),
        Field("compound_id", "ref", COMPOUND_REF),
        Field("name", "text", ("name", "车库名称", *NAME), max_len=200),
        Field("garage_type", "enum:garage_type", ("garage_type", "garage_typ", "车库类型", "类型"), required=True),
        Field("lowest_charging_floor", "int", ("lowest_charging_floor", "low_floor", "充电最低楼层", "最低充电楼层",
                                               "lowest_cha"), lo=-10, hi=50),
        Field("completion_date", "date", ("completion_date", "completed", "竣工日期", "建成日期", "completion")),
        *[Field(n, "enum:fire_state", (n, short, zh)) for n, short, zh in (
            ("fire_alarm", "fire_alarm", "火灾自动报警"), ("smoke_exhaust", "smoke_exh", "排烟设施"),
            ("sprinklers", "sprinklers", "自动喷淋"), ("emergency_lighting", "emerg_lt", "应急照明"),
            ("evacuation_signs", "evac_signs", "疏散指示"))],
        Field("fire_compartment_area_m2", "float", ("fire_compartment_area_m2", "fire_comp", "防火分区面积"), lo=0,
              hi=100_000),
        Field("fire_unit_area_m2", "float", ("fire_unit_area_m2", "fire_unit", "防火单元面积"), lo=0, hi=100_000),
        Field("meets_other_clauses", "bool", ("meets_other_clauses", "other_ok", "满足其他条款")),
        Field("space_right", "enum:space_right", ("space_right", "space_rght", "车位权属", "场地权属")),
        Field("capacity_ok", "bool", ("capacity_ok", "capacityok", "电力容量满足", "容量满足")),
        Field("source", "text", SOURCE, max_len=200),
    ]),
    "handovers": ("handover", [
        Field("compound_id", "ref", COMPOUND_REF, required=True),
        Field("facility", "enum:facility", ("facility", "设施", "设施类型", "专业经营设施"), required=True),
        Field("state", "enum:handover_state", ("state", "状态", "移交状态", "移交情况"), required=True),
        Field("deadline", "date", ("deadline", "整改期限", "期限", "截止日期")),
        Field("responsible_unit", "text", ("responsible_unit", "responsibl", "责任单位"), max_len=200),
        Field("note", "text", ("note", "备注"), max_len=2000),
    ]),
    # `companies` (the firms registry) is the firms plugin's import kind: grades become credit events there
    "barriers": ("barrier", [
        Field("id", "text", ("id", "障碍编号", *ID), max_len=64),
        Field("kind", "enum:barrier_kind", ("kind", "类型", "障碍类型"), required=True),
        Field("name", "text", ("name", "障碍名称", "道路名称", "河流名称", *NAME), max_len=200),
        Field("source", "text", SOURCE, max_len=200),
    ]),
}
KINDS = tuple(SPECS)
TABLE_KIND = {table: kind for kind, (table, _) in SPECS.items()}
# geometry each kind expects: polygon | polygon? (optional) | point | line | none
GEOMETRY_KIND = {"district": "polygon", "streets": "polygon?", "communities": "polygon?", "compounds": "polygon|point",
                 "buildings": "polygon", "garages": "point?", "handovers": "none",
                 "barriers": "line"}
COORD_FIELDS = (Field("lon", "lon", LON), Field("lat", "lat", LAT), Field("wkt", "wkt", WKT))
SPEC_EXTRA: dict[str, list[Field]] = {}


def normalise_header(h: Any) -> str:
    """Header cell → lookup key: NFKC, lower case, no spaces, no unit in brackets (建筑面积（㎡） → 建筑面积)."""
    s = unicodedata.normalize("NFKC", str(h)).strip().lower()
    s = re.sub(r"[\(（\[【][^)）\]】]*[\)）\]】]$", "", s)
    return re.sub(r"[\s\-]+", "", s).strip("*")


def fields_for(kind: str) -> list[Field]:
    """The importable fields of a KIND including its coordinate columns."""
    return [*SPECS[kind][1], *(COORD_FIELDS if GEOMETRY_KIND[kind] != "none" else ())]


def map_columns(kind: str, columns: list[str], fields: list[Field] | None = None) -> tuple[dict[str, str], list[str]]:
    """Column name → field name for recognised columns (first match wins), and the ignored columns.

    `fields` defaults to the core KIND's fields (a plugin's import kind passes its own).
    """
    fields = fields if fields is not None else fields_for(kind)
    lookup: dict[str, str] = {}
    for f in fields:
        for a in (f.name, *f.aliases):
            lookup.setdefault(normalise_header(a), f.name)
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    taken: set[str] = set()
    for c in columns:
        key = normalise_header(c)
        target = lookup.get(key)
        if target is None or target in taken:
            ignored.append(c)
            continue
        mapping[c] = target
        taken.add(target)
    return mapping, ignored


def all_aliases() -> dict[str, dict[str, tuple[str, ...]]]:
    """kind → field → accepted headers (for the documentation check)."""
    return {k: {f.name: tuple(dict.fromkeys((f.name, *f.aliases))) for f in fields_for(k)} for k in KINDS}


# every header (normalised) some kind accepts: the readers find the header row of a sheet by them
KNOWN_HEADERS: set[str] = {normalise_header(a) for k in KINDS for f in fields_for(k) for a in (f.name, *f.aliases)}


def register_known_headers(headers: Iterable[str]) -> None:
    """Add normalised headers (a plugin kind's) to those the readers recognise a header row by."""
    KNOWN_HEADERS.update(headers)
