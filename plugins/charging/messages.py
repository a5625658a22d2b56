"""Texts of the charging plugin: decision/flag labels and the reason templates (zh-CN and en).

Reasons are written for a property manager: what was found, which clause says so, what to do next.
Templates take the thresholds in force as parameters, so the numbers shown are the ones applied.
"""

from __future__ import annotations

from geoplatform.i18n import add_messages
from geoplatform.labels import register_labels

# Decisions, best → worst (see rules.DECISION_ORDER for why this order).
DECISION_LABELS: dict[str, tuple[str, str]] = {
    "ELIGIBLE": ("可以安装", "eligible"),
    "ELIGIBLE_BY_EXCEPTION": ("按既有车库例外可安装", "eligible by the existing-garage exception"),
    "NEEDS_FIRE_UNIT": ("需先设独立防火单元", "needs a separate fire unit first"),
    "PENDING_INSPECTION": ("待核查", "pending inspection"),
    "NOT_RECOMMENDED": ("不建议安装", "not recommended"),
    "NOT_ELIGIBLE_PRIVATE": ("不能装个人桩（建议公共桩）", "no private pile (use a public one)"),
    "INELIGIBLE": ("不得安装", "ineligible"),
}

FLAG_LABELS: dict[str, tuple[str, str]] = {
    "F1_PROPERTY_MUST_COOPERATE": ("物业应配合安装", "property firm must cooperate"),
    "F2_CAPACITY_EXPANSION": ("需申请电力增容", "apply for more power capacity"),
    "F3_COMMUNITY_ASSISTS": ("居委会/业委会协助", "community / owners' committee assist"),
}

# code -> (zh template, en template); parameters are filled per language by rules.py.
REASONS: dict[str, tuple[str, str]] = {
    "R1.space_right": (
        "申请安装的车位是“{space_right}”。按行动方案，个人充电桩只能装在业主自有车位，"
        "或租期不少于一年的车位上，所以不能安装个人充电桩。",
        "The space is held as “{space_right}”. The action plan allows a private charging pile only on an "
        "owned space or on one leased for at least one year, so no private pile can be installed.",
    ),
    "R1.public_pile": (
        "建议使用小区内或附近的公共充电桩；签订一年及以上的租赁合同后可以重新申请。",
        "Use a public charging pile in or near the compound; apply again once a lease of one year or more is signed.",
    ),
    "R2.not_covered": (
        "这是{garage_type}，不属于GB/T 51313-2018第6.1.6条限制的地下、半地下或高层汽车库，可以安装。",
        "This is an {garage_type}: not an underground, semi-underground or high-rise garage, so the ban of "
        "GB/T 51313-2018 §6.1.6 does not apply and the pile may be installed.",
    ),
    "R2.advice_6_1_5": (
        "建议参照GB/T 51313-2018第6.1.5条布置：充电车位相对集中设置，并与其他车位做好防火分隔。",
        "Advice: lay out the charging spaces as GB/T 51313-2018 §6.1.5 recommends (grouped together and "
        "separated from the other spaces for fire safety).",
    ),
    "R3.absent": (
        "这是{garage_type}，缺少以下消防设施：{facilities}。GB/T 51313-2018第6.1.6条规定，"
        "没有火灾自动报警、排烟、自动喷水灭火、消防应急照明和疏散指示标志的地下、半地下和高层汽车库"
        "不得配建分散充电设施，所以不能安装。",
        "This {garage_type} lacks these fire facilities: {facilities}. GB/T 51313-2018 §6.1.6 forbids "
        "distributed charging facilities in underground, semi-underground and high-rise garages without fire "
        "alarm, smoke exhaust, automatic sprinklers, emergency lighting and evacuation signs, so no pile may be installed.",
    ),
    "R3.remedy": (
        "只有补齐上述消防设施并经验收合格后，才能重新评估。",
        "Only after these facilities are installed and accepted can the garage be assessed again.",
    ),
    "R4.not_working": (
        "以下消防设施未确认能正常使用：{facilities}。五项消防设施必须齐全并且能正常使用，"
        "请先组织检测、维修，确认正常后重新评估。",
        "These fire facilities are not confirmed to be working: {facilities}. All five must be present and "
        "working: have them inspected and repaired, then assess the garage again.",
    ),
    "R5.too_deep": (
        "充电车位最低设在{floor}，已到{limit_floor}或更深。GB/T 51313-2018第6.1.5条规定充电设施不应布置在"
        "{limit_floor}及以下（新建车库的规定，既有车库参照执行），所以不建议安装；可考虑改设在较浅的楼层。",
        "The lowest charging space is on {floor}, at or below {limit_floor}. GB/T 51313-2018 §6.1.5 rules out "
        "charging facilities on {limit_floor} or below (a rule for new garages, applied to existing ones as "
        "guidance), so installation is not recommended; consider a shallower floor.",
    ),
    "R6.exception": (
        "车库防火分区面积{area} m²，超过{threshold} m²；{completion_date}竣工，早于标准实施日期{standard_date}，"
        "属于既有车库；经核实符合标准其他条款；防火分区面积没有超过GB 50067的限值{limit} m²（{limit_basis}）。"
        "按行动方案对既有车库的例外规定，可以安装。",
        "The fire compartment is {area} m², above {threshold} m²; the garage was completed on {completion_date}, "
        "before the standard took effect on {standard_date}; it meets the standard's other clauses; and the "
        "compartment is within the GB 50067 limit of {limit} m² ({limit_basis}). Under the plan's exception "
        "for existing garages the pile may be installed.",
    ),
    "R7.other_clauses": (
        "车库防火分区面积{area} m²，超过{threshold} m²，是{standard_date}前竣工的既有车库，"
        "但经核实不符合标准的其他条款，不能适用既有车库的例外规定，所以不得安装。",
        "The fire compartment is {area} m², above {threshold} m², in a garage completed before {standard_date}, "
        "but the garage does not meet the standard's other clauses, so the existing-garage exception cannot be used "
        "and no pile may be installed.",
    ),
    "R7.type_excluded": (
        "车库防火分区面积{area} m²，超过{threshold} m²，是{standard_date}前竣工的既有车库，但它是{garage_type}："
        "行动方案对既有车库的例外规定只适用于地下停车库，所以不得安装。",
        "The fire compartment is {area} m², above {threshold} m², in a garage completed before {standard_date}, but "
        "it is a {garage_type}: the plan's exception for existing garages names underground garages only, so "
        "no pile may be installed.",
    ),
    "R7.over_limit": (
        "车库防火分区面积{area} m²，超过GB 50067允许的{limit} m²（{limit_basis}），不能适用既有车库的例外规定，所以不得安装。",
        "The fire compartment of {area} m² exceeds the GB 50067 limit of {limit} m² ({limit_basis}), so the "
        "existing-garage exception cannot be used and no pile may be installed.",
    ),
    "R8.unchecked": (
        "车库防火分区面积{area} m²，超过{threshold} m²，是{standard_date}前竣工的既有车库，"
        "但还没有核实是否符合标准的其他条款。请组织核查，核查后重新评估。",
        "The fire compartment is {area} m², above {threshold} m², in a garage completed before {standard_date}, "
        "but nobody has yet checked whether it meets the standard's other clauses. Have it checked, then assess again.",
    ),
    "R9.fire_unit": (
        "车库{completion_date}竣工（在标准{standard_date}实施之后），防火分区面积{area} m²，超过{threshold} m²，"
        "而充电区域{unit_text}。需先把充电区域划分为不超过{unit_max} m²的独立防火单元，才能安装。",
        "The garage was completed on {completion_date} (after the standard took effect on {standard_date}); its "
        "fire compartment is {area} m², above {threshold} m², and the charging area {unit_text}. The charging "
        "area must first become a separate fire unit of at most {unit_max} m².",
    ),
    "R10.small_compartment": (
        "这是{garage_type}，消防设施齐全且正常，防火分区面积{area} m²，没有超过{threshold} m²，"
        "充电车位最低在{floor}，符合要求，可以安装。",
        "This {garage_type} has all fire facilities working, a fire compartment of {area} m² (not above "
        "{threshold} m²) and its lowest charging space on {floor}: the pile may be installed.",
    ),
    "R10.fire_unit_ok": (
        "这是{garage_type}，消防设施齐全且正常，{completion_date}竣工，充电区域设有{unit} m²的独立防火单元"
        "（不超过{unit_max} m²），可以安装。",
        "This {garage_type} has all fire facilities working, was completed on {completion_date} and its "
        "charging area is a separate fire unit of {unit} m² (at most {unit_max} m²): the pile may be installed.",
    ),
}

FLAG_NOTES: dict[str, tuple[str, str]] = {
    "F1_PROPERTY_MUST_COOPERATE": (
        "小区是{management_mode}，电力容量满足：按行动方案，物业服务企业应当配合业主安装，不得阻挠。",
        "The compound has {management_mode} and enough power capacity: under the plan the property firm must "
        "support the installation and may not obstruct it.",
    ),
    "F2_CAPACITY_EXPANSION": (
        "电力容量不足：需向供电公司申请增容。",
        "Not enough power capacity: apply to the power utility for more capacity.",
    ),
    "F3_COMMUNITY_ASSISTS": (
        "小区没有专业化物业（{management_mode}）：由社区居委会、业委会协助业主办理。",
        "The compound has no professional property service ({management_mode}): the residents' committee and "
        "owners' committee assist the owner.",
    ),
}

# Chinese names of the record fields, used in validation messages and `charging evaluate --help`.
FIELD_LABELS: dict[str, str] = {
    "id": "编号",
    "garage_type": "车库类型",
    "lowest_charging_floor": "充电车位最低楼层",
    "completion_date": "竣工日期",
    "fire_alarm": "火灾自动报警系统",
    "smoke_exhaust": "排烟设施",
    "sprinklers": "自动喷水灭火系统",
    "emergency_lighting": "消防应急照明",
    "evacuation_signs": "疏散指示标志",
    "fire_compartment_area_m2": "防火分区面积 m²",
    "fire_unit_area_m2": "充电区域防火单元面积 m²",
    "meets_other_clauses": "是否符合标准其他条款",
    "space_right": "车位权属",
    "capacity_ok": "电力容量是否满足",
    "management_mode": "小区管理模式",
}

WORDS: dict[str, tuple[str, str]] = {
    "sep": ("、", ", "),
    "ground": ("地面层", "ground level"),
    "above": ("地上{n}层", "floor {n}"),
    "below": ("地下{n}层（B{n}）", "basement {n} (B{n})"),
    "limit_sprinklered": ("{garage_type}限值{base} m²，自动喷水灭火系统正常，乘以{factor}",
                          "{base} m² for a {garage_type}, times {factor} with working sprinklers"),
    "limit_plain": ("{garage_type}限值{base} m²，没有正常的自动喷水灭火系统", "{base} m² for a {garage_type}, no working sprinklers"),
    "unit_none": ("没有划分独立防火单元", "is not a separate fire unit"),
    "unit_big": ("的防火单元为{unit} m²，超过{unit_max} m²", "is a fire unit of {unit} m², above {unit_max} m²"),
}

MESSAGES = {
    "zh": {
        **{f"charging.decision.{k}": zh for k, (zh, _) in DECISION_LABELS.items()},
        **{f"charging.flag.{k}": zh for k, (zh, _) in FLAG_LABELS.items()},
        "charging.layer.title": "充电桩安装条件",
        "charging.col.id": "编号", "charging.col.name": "车库", "charging.col.compound": "小区",
        "charging.col.garage_type": "类型", "charging.col.decision": "结论", "charging.col.rule": "规则",
        "charging.col.flags": "提示", "charging.col.reason": "理由",
    },
    "en": {
        **{f"charging.decision.{k}": en for k, (_, en) in DECISION_LABELS.items()},
        **{f"charging.flag.{k}": en for k, (_, en) in FLAG_LABELS.items()},
        "charging.layer.title": "EV charging eligibility",
        "charging.col.id": "id", "charging.col.name": "garage", "charging.col.compound": "compound",
        "charging.col.garage_type": "type", "charging.col.decision": "decision", "charging.col.rule": "rule",
        "charging.col.flags": "notes", "charging.col.reason": "reason",
    },
}


def register() -> None:
    """Register the plugin's enum labels and messages (idempotent)."""
    register_labels("charging_decision", DECISION_LABELS)
    register_labels("charging_flag", FLAG_LABELS)
    add_messages(MESSAGES)
