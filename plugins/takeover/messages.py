"""Chinese/English labels of the takeover plugin (enum labels and catalogue messages)."""

from __future__ import annotations

from geoplatform.i18n import add_messages
from geoplatform.labels import register_labels

TENDER_MODE = {
    "public_tender": ("公开招标（建筑面积≥5万㎡）", "public tender (floor area ≥ 50,000 m²)"),
    "invited_tender": ("公开招标或邀请招标（邀请不少于3家）", "public or invited tender (invited: ≥ 3 bidders)"),
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
    "safety_complaints": ("安全与投诉（12345 投诉20件/年或未整改安全隐患3件满分）",
                          "safety & complaints (12345: full at 20/yr, or 3 open safety problems)"),
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
                                      "投诉 {compl} 件/年或未整改安全隐患 {hazards} 件满分；建筑面积 ≥{area} 万㎡ 或面积不明须公开招标",
        "takeover.col.rank": "排名", "takeover.col.n": "序号", "takeover.col.id": "编号", "takeover.col.name": "小区",
        "takeover.col.street": "街镇", "takeover.col.score": "得分", "takeover.col.cost": "年补贴(万元)",
        "takeover.col.tender": "选聘方式", "takeover.col.state": "进度",
        "takeover.col.reasons": "主要得分项",
        "takeover.tender_short.public_tender": "公开招标", "takeover.tender_short.invited_tender": "公开/邀请",
        "takeover.total": "共 {n} 个候选小区",
        "takeover.unlimited": "不限",
        "takeover.greedy_none": "无（按得分从高到低挑选凑不足最少数量）",
        "takeover.optimal": "已确认是所有可选组合中得分最高的",
        "takeover.not_optimal": "在限定的计算时间内未能确认没有更高分的组合，结果不低于按得分从高到低挑选",
        "takeover.bound": "；任何组合的得分都不会超过 {bound:.2f}（最多相差 {gap:.1%}）",
        "takeover.summary": "入选 {n} 个（数量 {lo}–{hi}，预算 {budget}，每街镇上限 {cap}，相邻加分 {w} 分/对）；"
                            "得分合计 {obj:.2f}（{verdict}）；按得分从高到低挑选得 {greedy}；年补贴合计 {cost} 万元；"
                            "计算用时 {sec:.3f} 秒",
        "takeover.param.min_gt_max": "最多入选数 {hi} 小于最少入选数 {lo}",
        "takeover.infeasible.negative_count": "入选数量不能为负（最少 {lo}，最多 {hi}）",
        "takeover.infeasible.negative_cap": "每街镇上限不能为负（{cap}）",
        "takeover.infeasible.negative_budget": "预算不能为负（{budget} 万元）",
        "takeover.infeasible.too_few": "只有 {n} 个候选小区，少于最少入选数 {min}",
        "takeover.infeasible.cap_detail": "每个街镇最多 {cap} 个时，{streets} 个有候选的街镇合计最多 {reachable} 个，"
                                          "少于最少入选数 {min}",
        "takeover.infeasible.budget_detail": "最便宜的 {min} 个候选小区年补贴合计 {cheapest} 万元，超出预算 {budget} 万元",
        "takeover.infeasible.budget_detail_cap": "每街镇最多 {cap} 个时，最便宜的 {min} 个候选小区年补贴合计 {cheapest} 万元，"
                                                 "超出预算 {budget} 万元",
        "takeover.infeasible.negative_weight": "相邻加分不能为负（{w}）",
        "takeover.infeasible.negative_cost": "有候选小区的年补贴为负数，请先更正数据",
        "takeover.infeasible.no_set": "在给定条件下找不到符合要求的小区组合",
        "takeover.unknown_state": "未知的接管进度“{state}”，可选：{states}",
        "takeover.unknown_compound": "找不到小区 {compound}",
        "takeover.not_candidate": "{name} 不是国企兜底候选小区（当前管理模式：{mode}{demolition}）",
        "takeover.demolition": "，已列入拆迁计划",
        "takeover.move_not_allowed": "{name}（{year} 年）当前进度为“{current}”，只能改为：{allowed}",
        "takeover.move_final": "{name}（{year} 年）已是最后一步“{current}”，不能再改",
        "takeover.denied": "{user} 无权修改国企兜底接管名单",
        "takeover.audit.by_selection": "按最优名单入围",
        "takeover.audit.not_selected": "未进入新的入围名单，退回候选",
        "takeover.audit.serving": "{year} 年国企兜底接管：按合同 {contract} 由区属国有物业公司进驻服务",
        "takeover.audit.contract_signed": "{year} 年国企兜底接管：签订物业服务合同",
        "takeover.saved": "已保存为 {year} 年入围名单：新增/更新 {added}，移出 {dropped}，保留后续阶段 {kept}",
        "takeover.moved": "{name}（{year} 年）：{frm} → {to}",
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
                                      "= full (log); {compl} complaints/yr or {hazards} open safety problems = full; floor area ≥ {area}万 m² or "
                                      "unknown → public tender",
        "takeover.col.rank": "rank", "takeover.col.n": "#", "takeover.col.id": "id", "takeover.col.name": "compound",
        "takeover.col.street": "street", "takeover.col.score": "score", "takeover.col.cost": "cost (万元/yr)",
        "takeover.col.tender": "tender", "takeover.col.state": "state",
        "takeover.col.reasons": "main reasons",
        "takeover.tender_short.public_tender": "public", "takeover.tender_short.invited_tender": "public/invited",
        "takeover.total": "{n} candidates",
        "takeover.unlimited": "none",
        "takeover.greedy_none": "none (picking by score alone cannot reach the minimum)",
        "takeover.optimal": "confirmed as the highest-scoring of all possible sets",
        "takeover.not_optimal": "not confirmed as the highest-scoring set within the time allowed; at least as good "
                                "as picking by score",
        "takeover.bound": "; no set can score more than {bound:.2f} (at most {gap:.1%} more)",
        "takeover.summary": "{n} selected (count {lo}–{hi}, budget {budget}, per-street cap {cap}, neighbour "
                            "bonus {w} per pair); total score {obj:.2f} ({verdict}); picking by score gives {greedy}; "
                            "total cost {cost} 万元/yr; computed in {sec:.3f} s",
        "takeover.param.min_gt_max": "the maximum {hi} is below the minimum {lo}",
        "takeover.infeasible.negative_count": "counts must not be negative (minimum {lo}, maximum {hi})",
        "takeover.infeasible.negative_cap": "the per-street cap must not be negative ({cap})",
        "takeover.infeasible.negative_budget": "the budget must not be negative ({budget} 万元)",
        "takeover.infeasible.too_few": "only {n} candidates, fewer than the minimum {min}",
        "takeover.infeasible.cap_detail": "at most {cap} per street, the {streets} streets with candidates allow at "
                                          "most {reachable} compounds, fewer than the minimum {min}",
        "takeover.infeasible.budget_detail": "the cheapest {min} candidates cost {cheapest} 万元/yr, over the budget of "
                                             "{budget} 万元",
        "takeover.infeasible.budget_detail_cap": "at most {cap} per street, the cheapest {min} candidates cost "
                                                 "{cheapest} 万元/yr, over the budget of {budget} 万元",
        "takeover.infeasible.negative_weight": "the neighbour bonus must not be negative ({w})",
        "takeover.infeasible.negative_cost": "a candidate has a negative subsidy; correct the data first",
        "takeover.infeasible.no_set": "no set of compounds meets the conditions",
        "takeover.unknown_state": "unknown takeover stage “{state}”; stages: {states}",
        "takeover.unknown_compound": "unknown compound {compound}",
        "takeover.not_candidate": "{name} is not a takeover candidate (management: {mode}{demolition})",
        "takeover.demolition": ", due for demolition",
        "takeover.move_not_allowed": "{name} ({year}) is at “{current}”; it can move to: {allowed}",
        "takeover.move_final": "{name} ({year}) is at the last stage “{current}”",
        "takeover.denied": "{user} may not change the takeover pipeline",
        "takeover.audit.by_selection": "shortlisted by the optimal selection",
        "takeover.audit.not_selected": "not in the new shortlist, back to candidates",
        "takeover.audit.serving": "takeover {year}: served by the state-owned company under contract {contract}",
        "takeover.audit.contract_signed": "takeover {year}: service contract signed",
        "takeover.saved": "saved as the {year} shortlist: {added} added/updated, {dropped} dropped, {kept} kept in later states",
        "takeover.moved": "{name} ({year}): {frm} → {to}",
        "takeover.served": "now served by {company}, out of the candidate pool; professional coverage {rate:.1%}",
        **{f"takeover.short.{k}": v[1] for k, v in SHORT.items()},
    },
})


# the contracted step (RULES §4/§7): what a takeover contract needs; the tendering step: what a tender records
add_messages({
    "zh": {
        "takeover.tender.missing": "{compound}：开始招标须登记招标方式和投标（受邀）企业数——请填写 {missing}",
        "takeover.tender.mode": "招标方式只能是公开招标（public）或邀请招标（invited），不能是“{mode}”",
        "takeover.tender.public_required": "{compound} 建筑面积{area}，须公开招标（建筑面积≥{limit}万㎡或面积不明时不得邀请招标）",
        "takeover.tender.bidders": "{compound}：{mode}至少需要 {least} 家投标企业，登记的是 {bidders} 家",
        "takeover.tender.area_unknown": "不明",
        "takeover.tender.mode_public": "公开招标", "takeover.tender.mode_invited": "邀请招标",
        "takeover.contract.org_preparing": "{compound} 的物管会/业委会还在筹备（{state}），尚不能签订物业服务合同：先完成组建",
        "takeover.contract.org_lapsed": "{compound} 的{org}已{state}，不能签订物业服务合同：先完成换届或重新组建物管会",
        "takeover.contract.missing": "{compound}：签约须录入物业服务合同——请填写 {missing}",
        "takeover.contract.dates_order": "{compound}：合同结束日期 {end} 早于开始日期 {start}",
        "takeover.contract.firm_ineligible": "{company} 不符合选聘条件（{reasons}），不得签订兜底接管合同",
        "takeover.contract.no_signatory": "{compound} 没有可签订物业服务合同的业委会或物管会：先组建物管会",
        "takeover.contract.none_recorded": "{compound}（{year}年）尚未录入物业服务合同：请先签约（填写企业、合同起止日期）",
        "takeover.param.date": "必须是日期（YYYY-MM-DD）",
        "takeover.param.text": "必须是不超过 {max} 字的文字",
    },
    "en": {
        "takeover.contract.missing": "{compound}: contracted needs the service contract — give {missing}",
        "takeover.contract.dates_order": "{compound}: the contract ends ({end}) before it starts ({start})",
        "takeover.contract.firm_ineligible": "{company} may not be selected for a takeover contract "
                                             "({reasons})",
        "takeover.contract.no_signatory": "{compound} has no owners' organisation that can sign the contract "
                                          "(an active owners' committee or management committee): form one first",
        "takeover.contract.none_recorded": "{compound} ({year}) has no recorded service contract: sign it first "
                                           "(firm, contract start and end dates)",
        "takeover.tender.missing": "{compound}: starting the tender records its mode and the number of bidders — give {missing}",
        "takeover.tender.mode": "the tender mode is public or invited, not “{mode}”",
        "takeover.tender.public_required": "{compound} has a floor area of {area}: it must be tendered publicly "
                                           "(no invited tender at ≥ {limit}万 m² or when the area is unknown)",
        "takeover.tender.bidders": "{compound}: a {mode} needs at least {least} bidders; {bidders} given",
        "takeover.tender.area_unknown": "unknown",
        "takeover.tender.mode_public": "public tender", "takeover.tender.mode_invited": "invited tender",
        "takeover.contract.org_preparing": "{compound}'s owners' organisation is still being formed ({state}) and cannot "
                                           "sign the service contract yet: finish forming it first",
        "takeover.contract.org_lapsed": "{compound}'s {org} is {state} and cannot sign the service contract: hold the "
                                        "re-election or form a management committee first",
        "takeover.param.date": "must be a date (YYYY-MM-DD)",
        "takeover.param.text": "must be text of at most {max} characters",
    },
})
