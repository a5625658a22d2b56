"""Chinese/English labels of the takeover plugin (enum labels and catalogue messages)."""

from __future__ import annotations

from geoplatform.i18n import add_messages
from geoplatform.labels import register_labels

TENDER_MODE = {
    "public_tender": ("公开招标（建筑面积≥5万㎡）", "public tender (floor area ≥ 50,000 m²)"),
    "invited_tender": ("邀请招标（≥3家）或依法协议选聘", "invited tender (≥ 3 bidders) or negotiated where lawful"),
}
TAKEOVER_STATE = {
    "candidate": ("候选", "candidate"),
    "shortlisted": ("入围", "shortlisted"),
    "tendering": ("招标中", "tendering"),
    "contracted": ("已签约", "contracted"),
    "serving": ("已进驻服务", "serving"),
}
COMPONENT = {
    "contiguity": ("连片（500米内候选/国企小区）", "contiguity (candidates/state-owned within 500 m)"),
    "age": ("房龄（2000年前老旧小区）", "age (built ≤ 2000)"),
    "renovation": ("老旧小区改造", "renovation"),
    "fee_viability": ("物业费收缴率（≥60%满分）", "fee viability (full at ≥ 60 %)"),
    "households": ("户数（对数，500户满分）", "households (log, full at 500)"),
    "safety_complaints": ("安全与投诉（12345，20件/年满分）", "safety & complaints (12345, full at 20/yr)"),
    "utility_handover": ("水电暖气已移交比例", "utility handover (share taken over)"),
    "owners_org": ("业委会/物管会", "owners' organisation"),
}

register_labels("tender_mode", TENDER_MODE)
register_labels("takeover_state", TAKEOVER_STATE)
register_labels("takeover_component", COMPONENT)

add_messages({
    "zh": {
        "takeover.layer.candidates": "国企兜底候选小区（按得分）",
        "takeover.layer.shortlist": "国企兜底入围/进驻小区",
        "takeover.score": "兜底得分",
        "takeover.optimal": "最优解（HiGHS已证明）",
        "takeover.not_optimal": "非最优保证（求解器未证明最优，返回不劣于贪心的方案）",
    },
    "en": {
        "takeover.layer.candidates": "State takeover candidates (by score)",
        "takeover.layer.shortlist": "State takeover shortlist / served",
        "takeover.score": "takeover score",
        "takeover.optimal": "optimal (proven by HiGHS)",
        "takeover.not_optimal": "not proven optimal (greedy-or-better set returned)",
    },
})
