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

SHORT = {  # short table headers of the components (zh, en)
    "contiguity": ("连片", "contig"), "age": ("房龄", "age"), "renovation": ("改造", "renov"),
    "fee_viability": ("收费", "fees"), "households": ("户数", "hh"), "safety_complaints": ("投诉", "compl"),
    "utility_handover": ("移交", "handov"), "owners_org": ("业委会", "org"),
}

add_messages({
    "zh": {
        "takeover.layer.candidates": "国企兜底候选小区（按得分）",
        "takeover.layer.shortlist": "国企兜底入围/进驻小区",
        "takeover.score": "兜底得分",
        "takeover.legend.formula": "得分 = Σ 权重 × 分项(0–1)：{parts}",
        "takeover.legend.thresholds": "阈值：连片半径 {radius} 米（{sat} 个邻近满分，EPSG:4546 实测边界距离）；"
                                      "老旧小区 ≤{old} 年；收缴率 ≥{fee} 满分；户数 {hh} 户满分（对数）；"
                                      "投诉 {compl} 件/年满分；建筑面积 ≥{area} 万㎡ 公开招标",
        "takeover.col.rank": "排名", "takeover.col.n": "序号", "takeover.col.id": "编号", "takeover.col.name": "小区",
        "takeover.col.street": "街镇", "takeover.col.score": "得分", "takeover.col.cost": "年补贴(万元)",
        "takeover.col.tender": "选聘方式", "takeover.col.state": "进度",
        "takeover.col.reasons": "主要得分项",
        "takeover.tender_short.public_tender": "公开招标", "takeover.tender_short.invited_tender": "邀请/协议",
        "takeover.total": "共 {n} 个候选小区",
        "takeover.unlimited": "不限",
        "takeover.greedy_none": "无（按得分贪心凑不足最少数量）",
        "takeover.optimal": "最优解（HiGHS 已证明）",
        "takeover.not_optimal": "未证明最优（{status}），返回不劣于贪心的方案",
        "takeover.bound": "；可能的最优值不超过 {bound:.2f}（差距至多 {gap:.1%}）",
        "takeover.summary": "入选 {n} 个（范围 {lo}–{hi}，预算 {budget}，每街镇上限 {cap}，连片加分 {w}/对）；"
                            "目标值 {obj:.2f}（{verdict}）；贪心基线 {greedy}；年补贴合计 {cost} 万元；求解 {sec:.3f} 秒",
        "takeover.saved": "已保存为 {year} 年入围名单：新增/更新 {added}，移出 {dropped}，保留后续阶段 {kept}",
        "takeover.moved": "{cid}（{year}）：{frm} → {to}",
        "takeover.served": "已由 {company} 进驻服务，移出候选池；专业化物业覆盖率 {rate:.1%}",
        **{f"takeover.short.{k}": v[0] for k, v in SHORT.items()},
    },
    "en": {
        "takeover.layer.candidates": "State takeover candidates (by score)",
        "takeover.layer.shortlist": "State takeover shortlist / served",
        "takeover.score": "takeover score",
        "takeover.legend.formula": "score = Σ weight × component (0–1): {parts}",
        "takeover.legend.thresholds": "thresholds: contiguity radius {radius} m ({sat} neighbours = full, EPSG:4546 "
                                      "edge distance); old ≤ {old}; fee collection ≥ {fee} = full; {hh} households "
                                      "= full (log); {compl} complaints/yr = full; floor area ≥ {area}万 m² → public tender",
        "takeover.col.rank": "rank", "takeover.col.n": "#", "takeover.col.id": "id", "takeover.col.name": "compound",
        "takeover.col.street": "street", "takeover.col.score": "score", "takeover.col.cost": "cost (万元/yr)",
        "takeover.col.tender": "tender", "takeover.col.state": "state",
        "takeover.col.reasons": "main reasons",
        "takeover.tender_short.public_tender": "public", "takeover.tender_short.invited_tender": "invited",
        "takeover.total": "{n} candidates",
        "takeover.unlimited": "none",
        "takeover.greedy_none": "none (greedy by score cannot reach the minimum)",
        "takeover.optimal": "optimal (proven by HiGHS)",
        "takeover.not_optimal": "not proven optimal ({status}); a set at least as good as greedy returned",
        "takeover.bound": "; no set can score more than {bound:.2f} (gap ≤ {gap:.1%})",
        "takeover.summary": "{n} selected (range {lo}–{hi}, budget {budget}, per-street cap {cap}, contiguity "
                            "bonus {w}/pair); objective {obj:.2f} ({verdict}); greedy baseline {greedy}; "
                            "total cost {cost} 万元/yr; solved in {sec:.3f} s",
        "takeover.saved": "saved as the {year} shortlist: {added} added/updated, {dropped} dropped, {kept} kept in later states",
        "takeover.moved": "{cid} ({year}): {frm} → {to}",
        "takeover.served": "now served by {company}, out of the candidate pool; professional coverage {rate:.1%}",
        **{f"takeover.short.{k}": v[1] for k, v in SHORT.items()},
    },
})


# the contracted step (RULES §4/§7): what a takeover contract needs
add_messages({
    "zh": {
        "takeover.contract.missing": "{compound}：签约须录入物业服务合同——请填写 {missing}",
        "takeover.contract.dates_order": "{compound}：合同结束日期 {end} 早于开始日期 {start}",
        "takeover.contract.firm_ineligible": "{company} 不符合选聘条件（firm_ineligible：{reasons}），不得签订兜底接管合同",
        "takeover.contract.no_signatory": "{compound} 没有可签订物业服务合同的业委会或物管会：先组建物管会",
        "takeover.contract.none_recorded": "{compound}（{year}年）尚未录入物业服务合同：请先签约（填写企业、合同起止日期）",
        "takeover.param.date": "必须是日期（YYYY-MM-DD）",
        "takeover.param.text": "必须是不超过 {max} 字的文字",
    },
    "en": {
        "takeover.contract.missing": "{compound}: contracted needs the service contract — give {missing}",
        "takeover.contract.dates_order": "{compound}: the contract ends ({end}) before it starts ({start})",
        "takeover.contract.firm_ineligible": "{company} may not be selected for a takeover contract "
                                             "(firm_ineligible: {reasons}; RULES §7)",
        "takeover.contract.no_signatory": "{compound} has no owners' organisation that can sign the contract "
                                          "(an active 业委会 or 物管会): 先组建物管会 — form a management committee first",
        "takeover.contract.none_recorded": "{compound} ({year}) has no recorded service contract: advance it to "
                                           "contracted with --company, --contract-start and --contract-end first",
        "takeover.param.date": "must be a date (YYYY-MM-DD)",
        "takeover.param.text": "must be text of at most {max} characters",
    },
})
