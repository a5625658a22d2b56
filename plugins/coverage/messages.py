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
    },
})
