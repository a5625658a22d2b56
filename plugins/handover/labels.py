"""Chinese/English labels of the handover states and colour classes, and the plugin's messages."""

from __future__ import annotations

from geoplatform.i18n import add_messages
from geoplatform.labels import label, register_labels

STATE_LABELS: dict[str, tuple[str, str]] = {
    "unknown": ("未摸排", "not surveyed"),
    "not_handed_over": ("未移交", "not handed over"),
    "owner_consent": ("业主表决同意", "owners consented"),
    "applied": ("提出移交", "handover applied for"),
    "acceptance": ("组织验收", "acceptance inspection"),
    "rectifying": ("整改中", "rectifying"),
    "renovation": ("纳入老旧小区改造", "in old-compound renovation"),
    "agreement": ("签订移交协议", "handover agreement signed"),
    "taken_over": ("已接管", "taken over"),
    "not_accepted": ("消防未验收", "fire facilities not accepted"),
    "accepted": ("已验收", "accepted"),
    "planned": ("已列入计划", "planned"),
    "in_progress": ("改造中", "in progress"),
    "done": ("已完成", "done"),
    "blocked": ("无法进场", "operators blocked"),
    "negotiating": ("协调中", "negotiating"),
    "access": ("已进场", "access granted"),
}
CLASS_LABELS: dict[str, tuple[str, str]] = {
    "open": ("未移交/逾期", "not handed over / overdue"),
    "rectifying": ("整改中", "rectifying"),
    "progress": ("移交推进中", "handover in progress"),
    "unknown": ("未摸排", "not surveyed"),
    "done": ("已接管/已完成", "taken over / done"),
}
ORGANISER_LABELS: dict[str, tuple[str, str]] = {
    "district_government": ("区政府组织", "district government"),
    "utility": ("专业经营单位组织", "the utility"),
    "street": ("街镇组织", "the street"),
    "other": ("其他", "other"),
    "unknown": ("未记录", "not recorded"),
}
RESULT_LABELS: dict[str, tuple[str, str]] = {
    "pass": ("验收通过", "passed"),
    "fail": ("验收未通过", "failed"),
}
MESSAGES = {
    "zh": {
        "handover.col.compound_id": "小区编号", "handover.col.compound_name": "小区", "handover.col.street": "街道",
        "handover.col.facility": "设施类型", "handover.col.state": "状态", "handover.col.since": "状态起始",
        "handover.col.deadline": "整改期限", "handover.col.overdue": "是否逾期", "handover.col.open_items": "未完成整改项",
        "handover.col.content": "整改内容", "handover.col.responsible_unit": "责任单位", "handover.col.done_date": "完成日期",
        "handover.yes": "是", "handover.no": "否",
        "handover.total": "合计 {total} 项，逾期 {overdue} 项",
        "handover.layer.all": "专业经营设施移交（全部）", "handover.layer.one": "专业经营设施移交：{facility}",
        "handover.popup.worst": "最差状态", "handover.popup.overdue": "逾期项数",
        "handover.popup.taken_over": "四类设施已接管", "handover.popup.open_items": "未完成整改项",
        "handover.popup.summary": "各设施状态",
    },
    "en": {
        "handover.col.compound_id": "compound id", "handover.col.compound_name": "compound", "handover.col.street": "street",
        "handover.col.facility": "facility", "handover.col.state": "state", "handover.col.since": "since",
        "handover.col.deadline": "deadline", "handover.col.overdue": "overdue", "handover.col.open_items": "open items",
        "handover.col.content": "rectification item", "handover.col.responsible_unit": "responsible unit",
        "handover.col.done_date": "done on", "handover.yes": "yes", "handover.no": "no",
        "handover.total": "{total} items, {overdue} overdue",
        "handover.layer.all": "Utility handover (all facilities)", "handover.layer.one": "Utility handover: {facility}",
        "handover.popup.worst": "worst state", "handover.popup.overdue": "overdue rows",
        "handover.popup.taken_over": "utilities taken over", "handover.popup.open_items": "open ledger items",
        "handover.popup.summary": "state per facility",
    },
}


def register() -> None:
    """Register the enums with geoplatform.labels and the messages with geoplatform.i18n (idempotent)."""
    register_labels("handover_state", STATE_LABELS)
    register_labels("handover_class", CLASS_LABELS)
    register_labels("acceptance_organiser", ORGANISER_LABELS)
    register_labels("acceptance_result", RESULT_LABELS)
    add_messages({
        "zh": {**{f"handover_state.{k}": v[0] for k, v in STATE_LABELS.items()},
               **{f"handover_class.{k}": v[0] for k, v in CLASS_LABELS.items()},
               **{f"acceptance_organiser.{k}": v[0] for k, v in ORGANISER_LABELS.items()},
               **{f"acceptance_result.{k}": v[0] for k, v in RESULT_LABELS.items()}, **MESSAGES["zh"]},
        "en": {**{f"handover_state.{k}": v[1] for k, v in STATE_LABELS.items()},
               **{f"handover_class.{k}": v[1] for k, v in CLASS_LABELS.items()},
               **{f"acceptance_organiser.{k}": v[1] for k, v in ORGANISER_LABELS.items()},
               **{f"acceptance_result.{k}": v[1] for k, v in RESULT_LABELS.items()}, **MESSAGES["en"]},
    })


def state_label(state: str, lang: str = "zh") -> str:
    """Display label of a handover state."""
    return label("handover_state", state, lang)


def facility_label(facility: str, lang: str = "zh") -> str:
    """Display label of a facility (供水, 供电, …)."""
    return label("facility", facility, lang)


register()
