"""Chinese/English strings of the state company's takeover workspace (/ws/takeover)."""

from __future__ import annotations

from geoplatform.i18n import add_messages

STATES_ZH = {"candidate": "候选", "shortlisted": "入围", "tendering": "招标中", "contracted": "已签约",
             "serving": "已进驻服务"}
STATES_EN = {"candidate": "candidate", "shortlisted": "shortlisted", "tendering": "tendering",
             "contracted": "contracted", "serving": "serving"}
MOVES_ZH = {"candidate": "退回候选", "shortlisted": "入围", "tendering": "开始招标", "contracted": "已签约",
            "serving": "进驻服务"}
MOVES_EN = {"candidate": "back to candidates", "shortlisted": "shortlist", "tendering": "start tender",
            "contracted": "contract signed", "serving": "start serving"}
PARAMS_ZH = {"min": "最少入选数", "max": "最多入选数", "budget": "年度补贴预算（万元）", "per_street_max": "每街镇上限",
             "contiguity_weight": "连片加分（每对）", "include_community_managed": "含社区代管小区", "year": "年度",
             "compound_id": "小区", "state": "目标状态"}
PARAMS_EN = {"min": "minimum count", "max": "maximum count", "budget": "annual subsidy budget (万元)",
             "per_street_max": "per-street cap", "contiguity_weight": "contiguity bonus (per pair)",
             "include_community_managed": "include community-managed", "year": "year", "compound_id": "compound",
             "state": "target state"}

add_messages({
    "zh": {
        "ws_takeover.title": "国企兜底接管工作台", "ws_takeover.year": "年度",
        "ws_takeover.coverage": "专业化物业覆盖率", "ws_takeover.coverage_detail": "{served} / {total} 个小区",
        "ws_takeover.tab.candidates": "候选小区", "ws_takeover.tab.select": "最优选择", "ws_takeover.tab.board": "接管进度",
        "ws_takeover.tab.export": "导出与打印",
        "ws_takeover.candidates_hint": "点击表头排序；条形图为各分项得分（颜色见图例，悬停看分值）。",
        "ws_takeover.col.rank": "排名", "ws_takeover.col.name": "小区", "ws_takeover.col.street": "街镇",
        "ws_takeover.col.score": "得分", "ws_takeover.col.components": "得分构成", "ws_takeover.col.tender": "选聘方式",
        "ws_takeover.col.cost": "年补贴(万元)", "ws_takeover.col.households": "户数", "ws_takeover.col.build_year": "建成年份",
        "ws_takeover.col.state": "进度", "ws_takeover.col.n": "序号", "ws_takeover.col.actions": "操作",
        "ws_takeover.unknown": "未知", "ws_takeover.unknown_inputs": "缺数据按0分：{items}",
        "ws_takeover.params": "选择参数", "ws_takeover.run": "计算最优名单", "ws_takeover.save": "保存为年度名单",
        "ws_takeover.params_hint": "在数量范围、预算和每街镇上限内，使入选小区得分合计（加连片加分）最大；"
                                   "用混合整数规划（HiGHS）精确求解，并与“按得分从高到低挑选”（贪心）对比。",
        "ws_takeover.budget_ph": "不限", "ws_takeover.cap_ph": "不限",
        "ws_takeover.result": "计算结果", "ws_takeover.no_result": "尚未计算。填写参数后点击“计算最优名单”。",
        "ws_takeover.objective": "目标值（得分合计）", "ws_takeover.greedy": "贪心基线",
        "ws_takeover.gain": "比贪心多 {gain} 分", "ws_takeover.same": "与贪心结果相同",
        "ws_takeover.optimal_flag": "已证明最优", "ws_takeover.not_optimal_flag": "未证明最优",
        "ws_takeover.diff": "与贪心不同的小区", "ws_takeover.only_optimal": "仅最优解选中",
        "ws_takeover.only_greedy": "仅贪心选中", "ws_takeover.no_diff": "两者选中的小区相同",
        "ws_takeover.selected": "入选小区", "ws_takeover.total_cost": "年补贴合计 {cost} 万元",
        "ws_takeover.excluded": "成本未知、未参与预算约束的候选：{n} 个",
        "ws_takeover.computing": "正在计算…", "ws_takeover.saving": "正在保存…",
        "ws_takeover.infeasible": "无可行方案",
        "ws_takeover.infeasible.budget": "预算不足：在 {budget} 万元年度补贴预算内选不出 {min} 个小区。"
                                         "请提高预算或减少最少入选数。",
        "ws_takeover.infeasible.per_street_max": "每街镇上限过低：每个街镇最多 {cap} 个时凑不足 {min} 个小区。"
                                                 "请提高每街镇上限或减少最少入选数。",
        "ws_takeover.infeasible.count": "候选小区不足 {min} 个。请减少最少入选数或勾选“含社区代管小区”。",
        "ws_takeover.infeasible.solver": "求解器未找到可行方案，请放宽参数后重试。",
        "ws_takeover.bad_param": "参数“{field}”无效：{message}",
        "ws_takeover.need_compound": "缺少小区编号", "ws_takeover.need_state": "缺少目标状态",
        "ws_takeover.board_hint": "每次只能前进一步；入围或招标中的小区可退回候选（流标）。"
                                  "“进驻服务”后该小区管理模式改为国企兜底，计入专业化物业覆盖率。",
        "ws_takeover.board_empty": "无", "ws_takeover.board_none": "{year} 年尚未保存名单：先在“最优选择”中计算并保存。",
        "ws_takeover.confirm_serving": "确认 {name} 已由国企进驻服务？其管理模式将改为“国企兜底”。",
        "ws_takeover.confirm": "确认", "ws_takeover.cancel": "取消",
        "ws_takeover.served": "已由 {company} 进驻服务，专业化物业覆盖率 {before:.1%} → {after:.1%}",
        "ws_takeover.export_hint": "导出最近一个年度已保存的入围名单（含各分项得分）；未保存时导出默认参数下的建议名单。",
        "ws_takeover.export_xlsx": "导出 Excel（XLSX）", "ws_takeover.export_geojson": "导出 GeoJSON（含位置）",
        "ws_takeover.print": "打印版名单（地图+表格）",
        "ws_takeover.legend": "得分构成（满分100 = 各分项权重之和）", "ws_takeover.weight": "权重 {w:g}",
        "ws_takeover.map_selected": "本次入选", "ws_takeover.map_greedy": "仅贪心选中",
        "ws_takeover.detail": "详情", "ws_takeover.show": "定位",
        "ws_takeover.print_title": "{year} 年区属国企兜底接管入围名单",
        "ws_takeover.print_suggested": "（{year} 年尚未保存名单，以下为默认参数下的建议名单，未保存）",
        "ws_takeover.print_method": "评分方法", "ws_takeover.print_formula":
            "每个候选小区（无物业、未列入拆迁）的兜底得分为 0–100 分 = 各分项（0–1）× 权重之和。各分项如下：",
        "ws_takeover.print_generated": "生成日期 {today}；专业化物业覆盖率 {rate:.1%}（{served}/{total}）",
        "ws_takeover.print_map": "位置示意图（圆点编号对应表格序号；灰点为其他候选小区）",
        "ws_takeover.print_button": "打印", "ws_takeover.back": "返回工作台", "ws_takeover.suggested": "建议（未保存）",
        "ws_takeover.col.weight": "权重", "ws_takeover.col.how": "计分方法", "ws_takeover.col.component": "分项",
        "ws_takeover.print_points": "各分项得分", "ws_takeover.print_tender_rule":
            "选聘方式：建筑面积 ≥ {area} 万㎡ 公开招标；否则邀请招标（不少于3家）或依法协议选聘。",
        "ws_takeover.how.contiguity": "{radius} 米内（边界间距离）其他候选或国企兜底小区的个数 ÷ {sat}，"
                                      "{sat} 个及以上满分——一支物业队伍可服务相邻多个小区",
        "ws_takeover.how.age": "建成于 {old} 年及以前（老旧小区）得 {old_s:g}；{old}–{mid} 年得 {mid_s:g}；"
                               "更晚得 {new_s:g}；未知得 0",
        "ws_takeover.how.renovation": "老旧小区改造进展：{ren}",
        "ws_takeover.how.fee_viability": "物业费收缴率 ÷ {fee}，达到 {fee} 满分",
        "ws_takeover.how.households": "按户数取对数，{hh} 户及以上满分",
        "ws_takeover.how.safety_complaints": "12345 年投诉量 ÷ {compl}，{compl} 件及以上满分（投诉越多越急需）",
        "ws_takeover.how.utility_handover": "供水、供电、供热、供气四项中已完成移交的比例",
        "ws_takeover.how.owners_org": "业主组织：{org}",
        "ws_takeover.renovation.completed": "已完成", "ws_takeover.renovation.in_progress": "在建",
        "ws_takeover.renovation.planned": "已列入计划", "ws_takeover.renovation.none": "未改造",
        "ws_takeover.org.owners_committee": "业委会", "ws_takeover.org.management_committee": "物管会",
        "ws_takeover.org.preparing": "筹备中", "ws_takeover.org.none": "无",
        "ws_takeover.left_pool": "已由国企进驻、移出候选池：得分为保存名单时的得分",
        "ws_takeover.error": "操作失败：{message}", "ws_takeover.forbidden": "无权执行此操作",
        **{f"ws_takeover.state.{k}": v for k, v in STATES_ZH.items()},
        **{f"ws_takeover.move.{k}": v for k, v in MOVES_ZH.items()},
        **{f"ws_takeover.param.{k}": v for k, v in PARAMS_ZH.items()},
    },
    "en": {
        "ws_takeover.title": "State takeover workspace", "ws_takeover.year": "Year",
        "ws_takeover.coverage": "Professional coverage", "ws_takeover.coverage_detail": "{served} / {total} compounds",
        "ws_takeover.tab.candidates": "Candidates", "ws_takeover.tab.select": "Optimal selection",
        "ws_takeover.tab.board": "Pipeline", "ws_takeover.tab.export": "Export & print",
        "ws_takeover.candidates_hint": "Click a header to sort; bars are the score components (hover for points).",
        "ws_takeover.col.rank": "Rank", "ws_takeover.col.name": "Compound", "ws_takeover.col.street": "Street",
        "ws_takeover.col.score": "Score", "ws_takeover.col.components": "Components", "ws_takeover.col.tender": "Tender",
        "ws_takeover.col.cost": "Cost (万元/yr)", "ws_takeover.col.households": "Households",
        "ws_takeover.col.build_year": "Built", "ws_takeover.col.state": "State", "ws_takeover.col.n": "#",
        "ws_takeover.col.actions": "Actions",
        "ws_takeover.unknown": "unknown", "ws_takeover.unknown_inputs": "missing (counted 0): {items}",
        "ws_takeover.params": "Parameters", "ws_takeover.run": "Compute optimal set", "ws_takeover.save": "Save as the year's shortlist",
        "ws_takeover.params_hint": "Maximise the total score (plus the contiguity bonus) within the count range, budget "
                                   "and per-street cap; solved exactly (MILP, HiGHS) and compared with picking by "
                                   "score (greedy).",
        "ws_takeover.budget_ph": "none", "ws_takeover.cap_ph": "none",
        "ws_takeover.result": "Result", "ws_takeover.no_result": "Not computed yet. Set the parameters and compute.",
        "ws_takeover.objective": "Objective (total score)", "ws_takeover.greedy": "Greedy baseline",
        "ws_takeover.gain": "{gain} points better than greedy", "ws_takeover.same": "same as greedy",
        "ws_takeover.optimal_flag": "proven optimal", "ws_takeover.not_optimal_flag": "not proven optimal",
        "ws_takeover.diff": "Compounds that differ from greedy", "ws_takeover.only_optimal": "only in the optimal set",
        "ws_takeover.only_greedy": "only in the greedy set", "ws_takeover.no_diff": "both pick the same compounds",
        "ws_takeover.selected": "Selected compounds", "ws_takeover.total_cost": "total cost {cost} 万元/yr",
        "ws_takeover.excluded": "Candidates of unknown cost left out under a budget: {n}",
        "ws_takeover.computing": "Computing…", "ws_takeover.saving": "Saving…",
        "ws_takeover.infeasible": "No feasible set",
        "ws_takeover.infeasible.budget": "Budget too small: no {min} compounds fit an annual budget of {budget} 万元. "
                                         "Raise the budget or lower the minimum.",
        "ws_takeover.infeasible.per_street_max": "Per-street cap too low: at most {cap} per street cannot reach {min} "
                                                 "compounds. Raise the cap or lower the minimum.",
        "ws_takeover.infeasible.count": "Fewer than {min} candidates. Lower the minimum or include community-managed.",
        "ws_takeover.infeasible.solver": "The solver found no feasible set; relax the parameters.",
        "ws_takeover.bad_param": "Invalid “{field}”: {message}",
        "ws_takeover.need_compound": "compound_id is required", "ws_takeover.need_state": "state is required",
        "ws_takeover.board_hint": "One step forward at a time; shortlisted or tendering compounds may go back to the "
                                  "candidates (failed tender). Serving makes the compound state-owned and raises coverage.",
        "ws_takeover.board_empty": "none", "ws_takeover.board_none": "No shortlist saved for {year}: compute and save one first.",
        "ws_takeover.confirm_serving": "Confirm that the state company now serves {name}? Its management mode becomes state-owned.",
        "ws_takeover.confirm": "Confirm", "ws_takeover.cancel": "Cancel",
        "ws_takeover.served": "now served by {company}; professional coverage {before:.1%} → {after:.1%}",
        "ws_takeover.export_hint": "Exports the latest saved shortlist (with component points); without one, the "
                                   "suggestion under the default parameters.",
        "ws_takeover.export_xlsx": "Export Excel (XLSX)", "ws_takeover.export_geojson": "Export GeoJSON (with locations)",
        "ws_takeover.print": "Printable shortlist (map + table)",
        "ws_takeover.legend": "Score components (100 = sum of the weights)", "ws_takeover.weight": "weight {w:g}",
        "ws_takeover.map_selected": "selected now", "ws_takeover.map_greedy": "only greedy",
        "ws_takeover.detail": "Details", "ws_takeover.show": "Show",
        "ws_takeover.print_title": "State takeover shortlist {year}",
        "ws_takeover.print_suggested": "(no shortlist saved for {year}: the suggestion under the default parameters, not saved)",
        "ws_takeover.print_method": "How the score works", "ws_takeover.print_formula":
            "Each candidate (no property service, not to be demolished) scores 0–100 = Σ component (0–1) × weight:",
        "ws_takeover.print_generated": "Generated {today}; professional coverage {rate:.1%} ({served}/{total})",
        "ws_takeover.print_map": "Location sketch (numbers match the table; grey dots are other candidates)",
        "ws_takeover.print_button": "Print", "ws_takeover.back": "Back to the workspace",
        "ws_takeover.suggested": "suggested (not saved)",
        "ws_takeover.col.weight": "Weight", "ws_takeover.col.how": "How it is scored",
        "ws_takeover.col.component": "Component", "ws_takeover.print_points": "Points per component",
        "ws_takeover.print_tender_rule": "Tender: floor area ≥ {area}万 m² → public tender; otherwise invited tender "
                                         "(≥ 3 bidders) or negotiated where lawful.",
        "ws_takeover.how.contiguity": "other candidates or state-owned compounds within {radius} m (edge to edge) ÷ {sat}; "
                                      "full at {sat} — one team can serve neighbouring compounds",
        "ws_takeover.how.age": "built ≤ {old} (old compound) {old_s:g}; {old}–{mid} {mid_s:g}; later {new_s:g}; unknown 0",
        "ws_takeover.how.renovation": "renovation progress: {ren}",
        "ws_takeover.how.fee_viability": "fee collection rate ÷ {fee}, full at {fee}",
        "ws_takeover.how.households": "households, log-scaled, full at {hh}",
        "ws_takeover.how.safety_complaints": "12345 complaints per year ÷ {compl}, full at {compl} (more = more urgent)",
        "ws_takeover.how.utility_handover": "share of water, power, heating and gas handed over",
        "ws_takeover.how.owners_org": "owners' organisation: {org}",
        "ws_takeover.renovation.completed": "completed", "ws_takeover.renovation.in_progress": "in progress",
        "ws_takeover.renovation.planned": "planned", "ws_takeover.renovation.none": "none",
        "ws_takeover.org.owners_committee": "owners' committee", "ws_takeover.org.management_committee":
            "management committee", "ws_takeover.org.preparing": "preparing", "ws_takeover.org.none": "none",
        "ws_takeover.left_pool": "served by the state company, out of the pool: score as saved with the shortlist",
        "ws_takeover.error": "Failed: {message}", "ws_takeover.forbidden": "Not allowed",
        **{f"ws_takeover.state.{k}": v for k, v in STATES_EN.items()},
        **{f"ws_takeover.move.{k}": v for k, v in MOVES_EN.items()},
        **{f"ws_takeover.param.{k}": v for k, v in PARAMS_EN.items()},
    },
})
