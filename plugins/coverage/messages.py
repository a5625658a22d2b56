"""User-facing text of the coverage plugin (zh default, en)."""

from __future__ import annotations

from geoplatform.i18n import add_messages

add_messages({
    "zh": {
        "coverage.layer": "物业服务覆盖（管理模式）",
        "coverage.streets_layer": "街镇专业化物业覆盖率",
        "coverage.group": "物业服务",
        "coverage.col.code": "代码", "coverage.col.name": "街镇", "coverage.col.compounds": "小区数",
        "coverage.col.served": "专业化", "coverage.col.coverage_rate": "覆盖率",
        "coverage.col.households": "户数", "coverage.col.served_households": "专业化户数",
        "coverage.col.coverage_rate_households": "户数覆盖率", "coverage.col.owners_org": "业主组织",
        "coverage.col.owners_org_rate": "组建率",
        "coverage.col.compounds_needed_for_target": "距覆盖目标差(个)",
        "coverage.col.owners_org_needed_for_target": "距组建目标差(个)",
        "coverage.col.unknown": "待核实", "coverage.col.coverage_rate_lower": "覆盖率下限",
        "coverage.col.owners_org_unknown": "组织待核实",
        "coverage.unknown_note": "口径：覆盖率 = 专业化 / 管理模式已知的小区（{n} 个小区管理模式待核实，不计为无物业）；"
                                 "覆盖率下限 = 专业化 / 全部小区（假设待核实的都没有专业化物业）；"
                                 "组建率同理（{orgs} 个小区业主组织待核实）。",
        "coverage.district": "全区合计",
        "coverage.thresholds": "阈值（可在配置 [rules.coverage] 中修改）：",
        "coverage.setting.served_modes": "专业化物业服务 = 管理模式属于",
        "coverage.setting.owners_org_values": "业主组织 =",
        "coverage.setting.target_coverage": "覆盖率目标",
        "coverage.setting.target_owners_org": "业主组织组建率目标",
        "coverage.projection.title": "覆盖率推演（合同按 {today} 判断；目标 {target}；括号内为距目标还差的单元数）",
        "coverage.projection.gap": "差 {n}",
        "coverage.plan.title": "{milestone} 前补齐覆盖率缺口（目标 {target}）的最低成本方案：{n} 项行动，合计 {cost} 万元/年",
        "coverage.plan.closed": "可补齐",
        "coverage.plan.open": "无法补齐",
        "coverage.plan.cost": "成本 {cost} 万元/年",
        "coverage.plan.missing": "即使采取全部可选行动仍差 {n} 个专业化服务单元",
        "coverage.plan.budget_insufficient": "预算不足：补齐全部可补齐街镇至少需要 {need} 万元/年",
        "coverage.plan.kind.takeover": "国企兜底接管", "coverage.plan.kind.bundle": "打包管理",
        "coverage.plan.kind.renewal": "续签合同",
        "coverage.error.budget": "预算必须 ≥ 0（收到 {budget}）",
    },
    "en": {
        "coverage.layer": "Property-service coverage (management mode)",
        "coverage.streets_layer": "Professional coverage by street",
        "coverage.group": "Property service",
        "coverage.col.code": "code", "coverage.col.name": "street", "coverage.col.compounds": "compounds",
        "coverage.col.served": "served", "coverage.col.coverage_rate": "coverage",
        "coverage.col.households": "households", "coverage.col.served_households": "served hh",
        "coverage.col.coverage_rate_households": "coverage (hh)", "coverage.col.owners_org": "owners' org",
        "coverage.col.owners_org_rate": "org rate",
        "coverage.col.compounds_needed_for_target": "to coverage target",
        "coverage.col.owners_org_needed_for_target": "to org target",
        "coverage.col.unknown": "unknown", "coverage.col.coverage_rate_lower": "coverage (lower)",
        "coverage.col.owners_org_unknown": "org unknown",
        "coverage.unknown_note": "Rates: coverage = served / compounds whose management mode is known ({n} compounds "
                                 "are unknown (待核实), not counted as unserved); lower bound = served / all compounds "
                                 "(as if every unknown proved unserved); the owners' organisation rate likewise "
                                 "({orgs} compounds unknown).",
        "coverage.district": "District total",
        "coverage.thresholds": "Thresholds (configurable in [rules.coverage]):",
        "coverage.setting.served_modes": "professionally served = management mode in",
        "coverage.setting.owners_org_values": "owners' organisation =",
        "coverage.setting.target_coverage": "coverage target",
        "coverage.setting.target_owners_org": "owners' organisation target",
        "coverage.projection.title": "Path to target (contracts as of {today}; target {target}; in brackets: units still needed)",
        "coverage.projection.gap": "{n} short",
        "coverage.plan.title": "Least-cost plan to close the coverage gaps by {milestone} (target {target}): {n} actions, {cost} 万元/year in all",
        "coverage.plan.closed": "closed",
        "coverage.plan.open": "cannot be closed",
        "coverage.plan.cost": "cost {cost} 万元/year",
        "coverage.plan.missing": "{n} served units short even with every available action",
        "coverage.plan.budget_insufficient": "Budget too small: closing every closable street needs at least {need} 万元/year",
        "coverage.plan.kind.takeover": "state-company takeover", "coverage.plan.kind.bundle": "bundle",
        "coverage.plan.kind.renewal": "contract renewal",
        "coverage.error.budget": "the budget must be ≥ 0 (got {budget})",
    },
})
