"""What the charging plugin adds to the shared screens: the bureau dashboard's decision counts and the
compound page's garages with their RULES §3 decisions (read models over `plugins.charging.stored`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint

from geoplatform import models as m
from geoplatform import webshell
from geoplatform.i18n import t
from geoplatform.labels import label
from geoplatform.screens import Panel, Section

MESSAGES = {
    "zh": {
        "group.充电桩": "充电桩",
        "charging.section.title": "充电桩安装条件（GB/T 51313-2018）", "charging.section.no_garages": "无车库记录",
        "charging.section.garage": "车库", "charging.section.decision": "结论", "charging.section.reasons": "理由",
        "charging.panel": "充电桩配建条件评估（按车库）", "charging.panel_invalid": "数据不全 {n} 个",
        "charging.panel_none": "暂无车库数据",
    },
    "en": {
        "group.充电桩": "EV charging",
        "charging.section.title": "EV charging piles (GB/T 51313-2018)", "charging.section.no_garages": "No garages recorded",
        "charging.section.garage": "Garage", "charging.section.decision": "Decision", "charging.section.reasons": "Reasons",
        "charging.panel": "EV charging eligibility (per garage)", "charging.panel_invalid": "{n} incomplete",
        "charging.panel_none": "no garages",
    },
}
DECISION_COLORS = {"ELIGIBLE": "#2e7d32", "ELIGIBLE_BY_EXCEPTION": "#66bb6a", "NEEDS_FIRE_UNIT": "#fbc02d",
                   "PENDING_INSPECTION": "#ffa000", "NOT_RECOMMENDED": "#ef6c00", "INELIGIBLE": "#c62828",
                   "NOT_ELIGIBLE_PRIVATE": "#6d4c41"}


def blueprint() -> Blueprint:
    """No routes: the templates of the panel and the section (charging/…)."""
    return Blueprint("charging", __name__, template_folder="templates")


def dashboard_panels(context: Any, user: Any, where: str, street_code: str | None) -> list[Panel]:
    """The bureau dashboard: counts of garages per decision."""
    if where != "bureau":
        return []
    from layers.charts import count_bars
    from plugins.charging.rules import DECISION_ORDER
    from plugins.charging.settings import settings_for
    from plugins.charging.stored import evaluate_records, load_garages

    lang = webshell.lang()
    with context.session(readonly=True) as s:
        results = evaluate_records(load_garages(s), settings_for(context))
    counts = Counter(r["decision"] for r in results)
    rows = [(d, label("charging_decision", d, lang), counts.get(d, 0), DECISION_COLORS.get(d, "#607d8b"))
            for d in DECISION_ORDER]
    chart = count_bars(rows, t("charging.panel", lang), "ws-chart-charging") if results else None
    return [Panel(id="charging", title="charging.panel", template="charging/bureau_panel.html", where="bureau",
                  order=30, data={"chart": chart, "total": len(results), "invalid": counts.get(None, 0)})]


def compound_sections(context: Any, compound_id: str, user: Any) -> list[Section]:
    """The compound's stored garages with decision, rule, reasons and flags."""
    from plugins.charging.settings import settings_for
    from plugins.charging.stored import evaluate_records, load_garages

    lang = webshell.lang()
    with context.session(readonly=True) as s:
        c = s.get(m.Compound, compound_id)
        records = [r for r in load_garages(s, c.street_code) if r.get("compound_id") == compound_id] if c else []
    garages = []
    for r in evaluate_records(records, settings_for(context)):
        garages.append({"name": r.get("name") or r["id"], "type": label("garage_type", r.get("garage_type"), lang),
                        "decision": r["decision"], "rule": r["rule"],
                        "decision_label": label("charging_decision", r["decision"], lang) if r["decision"] else "–",
                        "reasons": [x.get(lang) or x.get("zh") for x in r["reasons"]] or list(r.get("problems", [])),
                        "flags": [label("charging_flag", f, lang) for f in r["flags"]]})
    return [Section(id="charging", title="charging.section.title", template="charging/section.html",
                    data={"garages": garages}, order=30)]
