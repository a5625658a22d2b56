"""What the coverage plugin adds to the shared screens: the bureau dashboard's KPI panel (tiles, per-street
charts against the targets, distance to target, the monthly trend) and the compound page's flags.

Read models over `plugins.coverage.service` / `rules`; called inside a web request (page language).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoplatform import models as m
from geoplatform import webshell
from geoplatform.i18n import t
from geoplatform.labels import label
from geoplatform.screens import Panel, Section

TREND_MONTHS = 12

MESSAGES = {
    "zh": {
        "group.物业覆盖": "物业覆盖",
        "coverage.section.title": "物业覆盖与业主组织", "coverage.section.served": "专业化物业服务",
        "coverage.section.owners_org_ok": "已组建业委会/物管会",
        'coverage.panel.kpi.coverage': '专业化物业覆盖率',
        'coverage.panel.kpi.owners_org': '业主组织组建率',
        'coverage.panel.kpi.coverage_hh': '覆盖率（按户数）',
        'coverage.panel.kpi.compounds': '小区总数',
        'coverage.panel.kpi.target': '目标 {target}',
        'coverage.panel.kpi.needed': '距目标还差 {n} 个小区',
        'coverage.panel.kpi.reached': '已达标',
        'coverage.panel.kpi.served': '专业化服务 {n} 个',
        'coverage.panel.chart.coverage': '各街镇专业化物业覆盖率（目标 {target}）',
        'coverage.panel.chart.owners_org': '各街镇业主组织组建率（目标 {target}）',
        'coverage.panel.target': '目标{target}',
        'coverage.panel.distance': '距目标差距（需新增小区数）',
        'coverage.panel.col.street': '街镇',
        'coverage.panel.col.compounds': '小区数',
        'coverage.panel.col.coverage': '覆盖率',
        'coverage.panel.col.coverage_need': '覆盖率还差',
        'coverage.panel.col.owners_org': '组建率',
        'coverage.panel.col.owners_need': '组建率还差',
        'coverage.panel.trend_street': '范围',
        'coverage.panel.trend_district': '全区',
        'coverage.panel.trend_show': '显示',
        'coverage.panel.trend': '月度趋势（由审计记录回溯）',
        'coverage.xlsx.sheet': '覆盖率与组建率', 'coverage.xlsx.district': '全区合计',
        'coverage.xlsx.col.name': '街镇', 'coverage.xlsx.col.compounds': '小区数', 'coverage.xlsx.col.served': '专业化物业',
        'coverage.xlsx.col.coverage_rate': '专业化物业覆盖率', 'coverage.xlsx.col.compounds_needed_for_target': '距覆盖目标差(个)',
        'coverage.xlsx.col.owners_org_rate': '业主组织组建率', 'coverage.xlsx.col.owners_org_needed_for_target': '距组建目标差(个)',
        'coverage.xlsx.col.households': '户数', 'coverage.xlsx.col.coverage_rate_households': '户数覆盖率',
        'coverage.panel.export_xlsx': '导出指标表（XLSX）', 'coverage.panel.download_svg': '下载图表（SVG）',
        'coverage.panel.print': '打印', 'coverage.unknown_chart': '未知图表“{chart}”',
        'coverage.panel.trend_method': '方法：从当前数据出发，按审计记录倒序撤销每月末之后的管理模式/业主组织变更和新导入的小区，再按覆盖率规则计算；没有历史记录时为水平线。',
        'coverage.panel.thresholds': '口径：专业化服务 = {modes}；业主组织 = {orgs}；目标覆盖率 {cov}，组建率 {org}（2027年底）',
    },
    "en": {
        "group.物业覆盖": "Property-service coverage",
        "coverage.section.title": "Property service and owners' organisation",
        "coverage.section.served": "Professionally served", "coverage.section.owners_org_ok": "Has an owners' organisation",
        'coverage.panel.kpi.coverage': 'Professional service coverage',
        'coverage.panel.kpi.owners_org': "Owners' organisation rate",
        'coverage.panel.kpi.coverage_hh': 'Coverage (by households)',
        'coverage.panel.kpi.compounds': 'Compounds',
        'coverage.panel.kpi.target': 'target {target}',
        'coverage.panel.kpi.needed': '{n} more compounds to reach the target',
        'coverage.panel.kpi.reached': 'target reached',
        'coverage.panel.kpi.served': '{n} professionally served',
        'coverage.panel.chart.coverage': 'Coverage per street (target {target})',
        'coverage.panel.chart.owners_org': "Owners' organisation rate per street (target {target})",
        'coverage.panel.target': 'target {target}',
        'coverage.panel.distance': 'Distance to target (compounds needed)',
        'coverage.panel.col.street': 'Street',
        'coverage.panel.col.compounds': 'Compounds',
        'coverage.panel.col.coverage': 'Coverage',
        'coverage.panel.col.coverage_need': 'Coverage: needed',
        'coverage.panel.col.owners_org': "Owners' org.",
        'coverage.panel.col.owners_need': "Owners' org.: needed",
        'coverage.panel.trend_street': 'Scope',
        'coverage.panel.trend_district': 'whole district',
        'coverage.panel.trend_show': 'Show',
        'coverage.panel.trend': 'Monthly trend (reconstructed from the audit trail)',
        'coverage.xlsx.sheet': 'Coverage', 'coverage.xlsx.district': 'District total',
        'coverage.xlsx.col.name': 'Street', 'coverage.xlsx.col.compounds': 'Compounds', 'coverage.xlsx.col.served': 'Professional',
        'coverage.xlsx.col.coverage_rate': 'Coverage', 'coverage.xlsx.col.compounds_needed_for_target': 'Short of target',
        'coverage.xlsx.col.owners_org_rate': "Owners' organisations", 'coverage.xlsx.col.owners_org_needed_for_target': 'Short of target',
        'coverage.xlsx.col.households': 'Households', 'coverage.xlsx.col.coverage_rate_households': 'Household coverage',
        'coverage.panel.export_xlsx': 'Export the KPI table (XLSX)', 'coverage.panel.download_svg': 'Download chart (SVG)',
        'coverage.panel.print': 'Print', 'coverage.unknown_chart': 'unknown chart “{chart}”',
        'coverage.panel.trend_method': "Method: from today's data, undo the management-mode / owners'-organisation changes and imported compounds after each month end (audit events, newest first), then apply the coverage rules; flat without history.",
        'coverage.panel.thresholds': "Definitions: served = {modes}; owners' organisation = {orgs}; targets coverage {cov}, owners' org. {org} (end-2027)",
    },
}


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v * 100:.1f}%"


def trend_points(context: Any, settings: Any, street: str | None = None) -> list[dict[str, Any]]:
    """Month-end rates of the last TREND_MONTHS months, district-wide or of one street (method in trend.py)."""
    import pandas as pd
    from sqlalchemy import select

    from plugins.coverage.rules import group_kpis
    from plugins.coverage.trend import month_ends, reconstruct

    ends = month_ends(context.today, TREND_MONTHS)
    start = dt.datetime.combine(ends[0].replace(day=1), dt.time())
    with context.session(readonly=True) as s:
        query = select(m.Compound.id, m.Compound.management_mode, m.Compound.owners_org, m.Compound.households)
        rows = s.execute(query.where(m.Compound.street_code == street) if street else query).all()
        ev = m.AuditEvent
        events = [{"at": e.at, "action": e.action, "entity_id": e.entity_id, "before": e.before, "after": e.after}
                  for e in s.scalars(select(ev).where(ev.entity == "compound", ev.outcome == "ok", ev.at >= start))]
    frame = pd.DataFrame(rows, columns=["id", "management_mode", "owners_org", "households"])
    return reconstruct(frame, events, ends, lambda f: group_kpis(f, settings))


def bureau_panel(context: Any, street: str | None) -> Panel:
    """KPI tiles, per-street charts with target lines, distance to target and the trend (of `street` or the district)."""
    from layers import charts
    from plugins.coverage.service import kpi_report
    from plugins.coverage.settings import settings_for

    lang = webshell.lang()

    def _t(key: str, **kw: Any) -> str:
        return t(key, lang, **kw)

    report, settings = kpi_report(context), settings_for(context)
    streets = report["streets"]
    names = {x["code"]: x["name"] for x in streets}
    tc, to = settings.target_coverage, settings.target_owners_org
    data: dict[str, Any] = {
        "coverage": report["district"], "streets": streets, "settings": settings, "pct": _pct,
        "chart_coverage": charts.bar_chart(streets, "coverage_rate", tc, _t("coverage.panel.chart.coverage",
                                           target=_pct(tc)), _t("coverage.panel.target", target=_pct(tc)), "ws-chart-coverage"),
        "chart_owners": charts.bar_chart(streets, "owners_org_rate", to, _t("coverage.panel.chart.owners_org",
                                         target=_pct(to)), _t("coverage.panel.target", target=_pct(to)), "ws-chart-owners"),
        "trend": trend_points(context, settings, street), "trend_street": street,
        "thresholds": _t("coverage.panel.thresholds", modes="、".join(label("management_mode", x, lang)
                                                                      for x in settings.served_modes),
                         orgs="、".join(label("owners_org", x, lang) for x in settings.owners_org_values),
                         cov=_pct(tc), org=_pct(to)),
    }
    title = _t("coverage.panel.trend") + (f" · {names[street]}" if street in names else "")
    data["chart_trend"] = charts.trend_chart(data["trend"], [
        ("coverage_rate", _t("coverage.panel.kpi.coverage"), "#1565c0", tc),
        ("owners_org_rate", _t("coverage.panel.kpi.owners_org"), "#6a1b9a", to)], title, "ws-chart-trend")
    return Panel(id="coverage", title="coverage.panel.kpi.coverage", template="coverage/bureau_panel.html",
                 where="bureau", order=10, data=data, wide=True)


def dashboard_panels(context: Any, user: Any, where: str, street_code: str | None) -> list[Panel]:
    """The bureau dashboard's KPI panel (its trend scoped to `street_code` when given)."""
    return [bureau_panel(context, street_code)] if where == "bureau" else []


def compound_sections(context: Any, compound_id: str, user: Any) -> list[Section]:
    """Professionally served? Owners' organisation? (the plugin's attributes of this compound)."""
    values = context.compound_attribute_values()
    served = values.get("coverage_served", {}).get(compound_id)
    if served is None:
        return []
    with context.session(readonly=True) as s:
        c = s.get(m.Compound, compound_id)
        mode, org = (c.management_mode, c.owners_org) if c is not None else (None, None)
    lang = webshell.lang()
    data = {"served": bool(served), "owners_org": bool(values.get("coverage_owners_org", {}).get(compound_id)),
            "mode_label": label("management_mode", mode, lang), "owners_org_value": org}
    return [Section(id="coverage_flags", title="coverage.section.title", template="coverage/section.html",
                    data=data, order=10)]
