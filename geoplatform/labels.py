"""Chinese/English labels of the shared enumerations (also accepted as input by the importer)."""

from __future__ import annotations

from geoplatform.i18n import add_messages

# enum name -> value -> (zh, en)
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "management_mode": {
        "professional": ("专业化物业", "professional property service"),
        "state_owned": ("国企兜底", "state-owned company"),
        "self_managed": ("业主自管/单位自管", "self-managed"),
        "community_managed": ("社区代管/准物业", "community-managed"),
        "none": ("无物业", "no property service"),
        "unknown": ("待核实", "unknown (to verify)"),
    },
    "owners_org": {
        "none": ("未组建", "none"),
        "preparing": ("筹备中", "preparing"),
        "owners_committee": ("业委会", "owners' committee"),
        "management_committee": ("物管会", "management committee"),
        "unknown": ("待核实", "unknown (to verify)"),
    },
    "renovation": {
        "none": ("未纳入", "none"),
        "planned": ("已列入计划", "planned"),
        "in_progress": ("改造中", "in progress"),
        "completed": ("已完成", "completed"),
        "unknown": ("待核实", "unknown (to verify)"),
    },
    "facility": {
        "water": ("供水", "water"),
        "power": ("供电", "power"),
        "heating": ("供热", "heating"),
        "gas": ("供气", "gas"),
        "fire_acceptance": ("消防验收", "fire acceptance"),
        "power_upgrade": ("老旧小区电力改造", "power upgrade"),
        "telecom_access": ("通信进场", "telecom access"),
    },
    # garage attributes of RULES §3 (core enums: the importer reads them, the charging plugin explains them)
    "garage_type": {
        "open_lot": ("露天停车场", "open-air parking lot"),
        "above_ground": ("地上车库", "above-ground garage"),
        "semi_underground": ("半地下车库", "semi-underground garage"),
        "underground": ("地下车库", "underground garage"),
        "high_rise": ("高层汽车库", "high-rise garage"),
    },
    "fire_facility": {
        "fire_alarm": ("火灾自动报警系统", "automatic fire alarm"),
        "smoke_exhaust": ("排烟设施", "smoke exhaust"),
        "sprinklers": ("自动喷水灭火系统", "automatic sprinklers"),
        "emergency_lighting": ("消防应急照明", "emergency lighting"),
        "evacuation_signs": ("疏散指示标志", "evacuation signs"),
    },
    "fire_facility_state": {
        "working": ("正常", "working"),
        "faulty": ("故障", "faulty"),
        "absent": ("未设置", "absent"),
        "unknown": ("情况不明", "unknown"),
    },
    "space_right": {
        "owned": ("自有车位", "owned space"),
        "lease_1y_plus": ("租期一年及以上", "lease of 1 year or more"),
        "lease_short": ("租期不足一年", "lease under 1 year"),
        "none": ("无产权无租赁", "no ownership or lease"),
    },
    "street_kind": {"subdistrict": ("街道", "subdistrict"), "town": ("镇", "town")},
    "barrier_kind": {"main_road": ("主干道", "main road"), "river": ("河流", "river"), "railway": ("铁路", "railway")},
    "role": {
        "admin": ("系统管理员", "administrator"),
        "bureau": ("区住建局", "housing bureau"),
        "street_officer": ("街镇工作人员", "street officer"),
        "community_officer": ("社区工作人员", "community officer"),
        "state_company": ("区属国有物业公司", "state-owned company"),
        "utility": ("专业经营单位", "utility"),
        "telecom": ("通信（区工信局/运营商）", "telecom (bureau of industry / operators)"),
        "fire": ("消防验收", "fire acceptance"),
        "viewer": ("只读用户", "viewer"),
    },
}


def label(enum: str, value: object, lang: str = "zh") -> str:
    """The display label of an enum value (the value itself when unknown)."""
    pair = LABELS.get(enum, {}).get(str(value))
    if pair is None:
        return "" if value is None else str(value)
    return pair[0] if lang == "zh" else pair[1]


def parse_enum(enum: str, text: object) -> str | None:
    """An enum value from its English value or any Chinese label / part of a slash-separated label."""
    if text is None:
        return None
    s = str(text).strip()
    values = LABELS.get(enum, {})
    if s in values:
        return s
    for value, (zh, en) in values.items():
        if s == zh or s.lower() == en.lower() or s in zh.split("/"):
            return value
    return None


def register_labels(enum: str, values: dict[str, tuple[str, str]]) -> None:
    """Add or extend an enumeration's labels (plugins call this for their own enums)."""
    LABELS.setdefault(enum, {}).update(values)


add_messages({
    "zh": {f"{e}.{v}": zh for e, vals in LABELS.items() for v, (zh, _) in vals.items()},
    "en": {f"{e}.{v}": en for e, vals in LABELS.items() for v, (_, en) in vals.items()},
})
