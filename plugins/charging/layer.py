"""The compound layer of the charging plugin: coloured by each compound's worst garage decision."""

from __future__ import annotations

import pandas as pd

from layers.spec import LayerSpec, Legend, PopupField, StyleRule
from plugins.charging.messages import DECISION_LABELS
from plugins.charging.rules import DECISION_ORDER

# [D] colours follow DECISION_ORDER best → worst: greens (install), yellow/orange (work or checks
# first), red-orange (advised against), purple (public pile only), red (forbidden); grey = no garage data.
DECISION_COLORS = {
    "ELIGIBLE": "#2e7d32",
    "ELIGIBLE_BY_EXCEPTION": "#8bc34a",
    "NEEDS_FIRE_UNIT": "#fdd835",
    "PENDING_INSPECTION": "#fb8c00",
    "NOT_RECOMMENDED": "#e64a19",
    "NOT_ELIGIBLE_PRIVATE": "#8e24aa",
    "INELIGIBLE": "#c62828",
}
NO_DATA_COLOR = "#bdbdbd"


def has_garages(frame: pd.DataFrame) -> pd.Series:
    """Only compounds with at least one garage (all rows when the attribute is not there)."""
    if "charging_garages" not in frame.columns:
        return pd.Series(True, index=frame.index)
    return pd.to_numeric(frame["charging_garages"], errors="coerce").fillna(0) > 0


def charging_layer() -> LayerSpec:
    """Compounds coloured by the worst decision among their garages; popup lists every garage."""
    rules = tuple(StyleRule(DECISION_COLORS[d], DECISION_LABELS[d][0], DECISION_LABELS[d][1], value=d)
                  for d in DECISION_ORDER)
    rules += (StyleRule(NO_DATA_COLOR, "无可评估车库", "no garage to evaluate", value=None),)
    return LayerSpec(
        id="charging",
        title_zh="充电桩安装条件（按小区内最差车库着色）",
        title_en="EV charging eligibility (worst garage per compound)",
        source="compounds",
        group="专题",
        legend=Legend(attribute="charging_worst", kind="categorical", rules=rules, default_color=NO_DATA_COLOR),
        popup=(
            PopupField("name", "小区", "compound"),
            PopupField("charging_garages", "车库数", "garages"),
            PopupField("charging_worst_label", "最差结论", "worst decision"),
            PopupField("charging_best_label", "最好结论", "best decision"),
            PopupField("charging_summary", "各结论车库数", "garages per decision"),
            PopupField("charging_detail", "各车库结论与理由", "garages, decisions and reasons"),
        ),
        tooltip=(PopupField("name", "小区", "compound"), PopupField("charging_worst_label", "最差结论", "worst decision")),
        where=has_garages,
    )
