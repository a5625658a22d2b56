"""What the coverage plugin adds to the shared screens: the bureau dashboard's KPI panel (tiles, per-street
charts against the targets, distance to target, the monthly trend) and the compound page's flags.

Read models over `plugins.coverage.service` / `rules`; called inside a web request (page language).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

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
        'coverage.panel.kpi.unknown': '{n} 个小区待核实（不计入覆盖率）',
        'coverage.panel.kpi.lower': '下限 {rate}（待核实按无物业计）',
        'coverage.panel.kpi.org_unknown': '{n} 个小区业主组织待核实',
        'coverage.panel.col.unknown': '待核实',
        'coverage.section.unknown': '待核实',
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
        'coverage.panel.kpi.units': '覆盖率（按单元，含单体楼）',
        'coverage.panel.kpi.units_note': '单元 = 小区或不在任何小区内的单体楼（共 {units} 个，其中单体楼 {lone} 个）；已专业化 {served} 个，距目标还差 {n} 个单元。',
        'coverage.panel.kpi.compounds_note': '按小区计：专业化小区 / 管理模式已知的小区（与以往口径一致，不含单体楼）。',
        'coverage.panel.kpi.managed': '物业管理覆盖率（任何管理模式，除无物业和待核实）{rate}',
        'coverage.panel.kpi.evidence': '已核验（有在期服务合同）{v} 个 · 未核验 {u} 个（仍计入，需补录合同）',
        'coverage.panel.kpi.no_evidence': '无合同数据：专业化服务均未能核验',
        'coverage.panel.kpi.orgs_evidence': '有组建记录 {r} 个 · 仅台账申报 {d} 个',
        'coverage.path.title': '2025–2027 目标路径',
        'coverage.path.menu': '覆盖率目标路径',
        'coverage.section.verified': '已核验：服务合同 {id} 在期{end}',
        'coverage.section.until': '（至 {end}）',
        'coverage.section.unverified': '未核验：没有在期的服务合同（仍计入覆盖率，请补录合同）',
        'coverage.path.page_hint': '各街镇到各年末的推演覆盖率（含已决定的打包、国企接管入围/流程中、合同到期），以及补齐缺口的最低成本方案。',
        'coverage.path.method': '推演口径：以今日数据为起点（合同按 {today} 判断），加上已受理和待决定的打包方案、国企接管入围及流程中（尚未进驻）的小区，减去在节点前到期且无续签的合同；单体楼并入所在小区后不再单独计为单元。',
        'coverage.path.chart': '各街镇按单元覆盖率：现在与各年末（目标 {target}）',
        'coverage.path.now': '现在',
        'coverage.path.sources': '各街镇缺口来源（到最后节点）',
        'coverage.path.gap_last': '2027年末差距',
        'coverage.path.kind.bundle': '打包并入', 'coverage.path.kind.takeover': '国企接管',
        'coverage.path.kind.contract_end': '合同到期', 'coverage.path.kind.renewal': '续签',
        'coverage.path.unknown': '待核实',
        'coverage.path.plan': '补齐方案',
        'coverage.path.on_track': '可达标',
        'coverage.path.plan_closes': '{n} 项行动可补齐（{cost} 万元/年）',
        'coverage.path.sources_note': '打包并入：减少的单元数（/ 并入后成为专业化的小区数）；接管/续签：增加的专业化单元；合同到期：减少的专业化单元；待核实：管理模式待核实的单元（核实后可能改变缺口）。',
        'coverage.path.drill': '缺口明细（点击街镇展开，小区可进入详情）',
        'coverage.path.n_changes': '{n} 项已决定或待决定的变化，{unknown} 个待核实',
        'coverage.path.building': '单体楼 {id}',
        'coverage.path.effect.plus_served': '计为专业化', 'coverage.path.effect.minus_served': '不再计为专业化',
        'coverage.path.effect.merged': '并入所在小区，不再单独计数',
        'coverage.path.from': '自 {on} 起',
        'coverage.path.pending': '待决定',
        'coverage.path.plan_actions': '最低成本补齐方案：',
        'coverage.path.contributes': '专业化单元 {served:+d}，已知单元 {known:+d}',
        'coverage.path.unpriced': '{n} 项行动因成本未知未纳入',
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
        'coverage.panel.kpi.unknown': '{n} compounds unknown (待核实; not in the rate)',
        'coverage.panel.kpi.lower': 'lower bound {rate} (unknown counted as unserved)',
        'coverage.panel.kpi.org_unknown': "{n} compounds' organisation unknown",
        'coverage.panel.col.unknown': 'Unknown',
        'coverage.section.unknown': 'unknown (待核实)',
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
        'coverage.panel.kpi.units': 'Coverage (units, incl. lone buildings)',
        'coverage.panel.kpi.units_note': 'A unit is a compound or a residential building inside no compound ({units} units, {lone} lone buildings); {served} professionally served, {n} more units to reach the target.',
        'coverage.panel.kpi.compounds_note': 'Per compound: served compounds / compounds whose mode is known (as before; lone buildings not counted).',
        'coverage.panel.kpi.managed': 'Managed (any mode but none and unknown) {rate}',
        'coverage.panel.kpi.evidence': '{v} verified (contract in force) · {u} unverified (counted; contract to be recorded)',
        'coverage.panel.kpi.no_evidence': 'No contract data: no served compound could be verified',
        'coverage.panel.kpi.orgs_evidence': '{r} from organisation records · {d} only declared by a ledger',
        'coverage.path.title': 'Path to the 2025–2027 targets',
        'coverage.path.menu': 'Path to target',
        'coverage.section.verified': 'verified: service contract {id} in force{end}',
        'coverage.section.until': ' (until {end})',
        'coverage.section.unverified': 'unverified: no service contract in force (still counted; record the contract)',
        'coverage.path.page_hint': "Each street's projected coverage at each year end (decided bundles, takeover shortlist and pipeline, contracts ending) and the least-cost plan closing the gaps.",
        'coverage.path.method': 'Projection: today\'s data (contracts as of {today}), plus accepted and open bundle proposals, plus takeover rows shortlisted or in the pipeline (not yet serving), minus contracts ending before the milestone with no renewal; a bundled lone building stops being a unit of its own.',
        'coverage.path.chart': 'Unit coverage per street: now and at each year end (target {target})',
        'coverage.path.now': 'now',
        'coverage.path.sources': "Sources of each street's gap (by the last milestone)",
        'coverage.path.gap_last': 'gap end-2027',
        'coverage.path.kind.bundle': 'bundled in', 'coverage.path.kind.takeover': 'takeover',
        'coverage.path.kind.contract_end': 'contracts ending', 'coverage.path.kind.renewal': 'renewals',
        'coverage.path.unknown': 'unknown',
        'coverage.path.plan': 'plan',
        'coverage.path.on_track': 'on track',
        'coverage.path.plan_closes': '{n} actions close it ({cost} 万元/year)',
        'coverage.path.sources_note': 'bundled in: units merged away (/ orphan compounds served by their host); takeover / renewals: served units gained; contracts ending: served units lost; unknown: units whose mode is to be verified (may change the gap).',
        'coverage.path.drill': 'Gap details (open a street; compounds link to their page)',
        'coverage.path.n_changes': '{n} decided or pending changes, {unknown} unknown',
        'coverage.path.building': 'lone building {id}',
        'coverage.path.effect.plus_served': 'counts as served', 'coverage.path.effect.minus_served': 'no longer served',
        'coverage.path.effect.merged': 'joins its host, no longer a unit of its own',
        'coverage.path.from': 'from {on}',
        'coverage.path.pending': 'pending',
        'coverage.path.plan_actions': 'Least-cost plan:',
        'coverage.path.contributes': 'served units {served:+d}, known units {known:+d}',
        'coverage.path.unpriced': '{n} actions left out (cost unknown)',
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
    """The bureau dashboard's KPI panel (its trend scoped to `street_code` when given) and the path to target;
    on the street workspace, the street's own path and plan (the officer's own street only)."""
    if where == "bureau":
        return [bureau_panel(context, street_code), path_panel(context, None)]
    if where == "street" and street_code and user is not None and context.allowed(
            user, "work_street", {"kind": "street", "street_code": street_code}):
        return [path_panel(context, street_code)]
    return []


def projection_doc(context: Any) -> dict[str, Any]:
    """The district's `kpi projection` document, once per data revision and day."""
    from plugins.coverage.pages import _plain
    from plugins.coverage.service import projection_report

    return context.memo("kpi_projection", lambda: _plain(projection_report(context)))


def plan_doc(context: Any) -> dict[str, Any]:
    """The district's `kpi plan` document, once per data revision and day."""
    from plugins.coverage.pages import _plain
    from plugins.coverage.service import plan_report

    return context.memo("kpi_plan", lambda: _plain(plan_report(context)))


def path_panel(context: Any, street: str | None) -> Panel:
    """Path to target (RULES §1): the milestone chart per street, the sources of each street's gap with the
    units behind them, and the planner's actions; `street`: one street's (the street workspace's tab)."""
    from plugins.coverage.charts import milestone_chart
    from plugins.coverage.settings import settings_for

    lang = webshell.lang()
    settings = settings_for(context)
    proj, plan = projection_doc(context), plan_doc(context)
    rows = [r for r in proj["streets"] if street is None or r["street_code"] == street]
    plans = {r["street_code"]: r for r in plan["streets"]}
    target = settings.target_coverage
    chart = milestone_chart(rows, target, t("coverage.path.chart", lang, target=_pct(target)),
                            t("coverage.panel.target", lang, target=_pct(target)), t("coverage.path.now", lang),
                            "cv-chart-milestones")
    names = {}
    with context.session(readonly=True) as s:
        ids = sorted({c["unit_id"] for r in rows for c in r["changes"] if c["unit_kind"] == "compound"}
                     | {a_id.partition(":")[2] for r in rows for a_id in r["unknown_units"]}
                     | {u.partition(":")[2] for p in plans.values() for a in p["actions"] for u in a["units"]})
        for k in range(0, len(ids), 500):
            names.update(dict(s.execute(select(m.Compound.id, m.Compound.name)
                                        .where(m.Compound.id.in_(ids[k:k + 500]))).all()))
    data = {"proj": proj, "rows": rows, "plans": plans, "plan": plan, "chart": chart, "pct": _pct,
            "names": names, "street": street, "target": target,
            "kinds": ("bundle", "takeover", "contract_end", "renewal")}
    return Panel(id="coverage_path" if street is None else "coverage_street_path", title="coverage.path.title",
                 template="coverage/path_panel.html", where="bureau" if street is None else "street",
                 order=11 if street is None else 15, data=data, wide=True,
                 layers=("coverage_lone_buildings", "coverage_gap_2027"))


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
            "mode_label": label("management_mode", mode, lang), "owners_org_value": org,
            # RULES §1: an unknown mode / organisation is 待核实, never a "no"
            "served_known": mode != "unknown",
            "owners_org_known": bool(values.get("coverage_owners_org_known", {}).get(compound_id, org != "unknown"))}
    if served:  # RULES §1 evidence: verified only with a contract in force (None: no plugin keeps contracts)
        from geoplatform.exchange import served_evidences

        found = served_evidences(context, [compound_id])
        data["evidence"] = None if found is None else found.get(compound_id, False)
    return [Section(id="coverage_flags", title="coverage.section.title", template="coverage/section.html",
                    data=data, order=10)]
