"""The coverage plugin's layers: compounds coloured by management mode, streets by coverage rate."""

from __future__ import annotations

from typing import Any

from geoplatform.i18n import t
from geoplatform.labels import LABELS
from layers.spec import LayerSpec, Legend, PopupField, StyleRule

MODE_COLORS = {  # [D] green = professional … red = none
    "professional": "#2e7d32",
    "state_owned": "#1565c0",
    "self_managed": "#f9a825",
    "community_managed": "#ef6c00",
    "none": "#c62828",
}


def mode_legend() -> Legend:
    """Categorical legend of the five management modes, labels in Chinese and English."""
    rules = tuple(StyleRule(color=c, label_zh=LABELS["management_mode"][m][0], label_en=LABELS["management_mode"][m][1],
                            value=m) for m, c in MODE_COLORS.items())
    return Legend(attribute="management_mode", kind="categorical", rules=rules, default_color="#9e9e9e")


def coverage_legend(target: float) -> Legend:
    """Graduated legend of street coverage: below half the target, below the target, target reached."""
    return Legend(attribute="coverage_rate", kind="graduated", rules=(
        StyleRule("#c62828", f"< {target / 2:.0%}", f"< {target / 2:.0%}", min=0.0, max=target / 2),
        StyleRule("#ef6c00", f"{target / 2:.0%} – {target:.0%}", f"{target / 2:.0%} – {target:.0%}",
                  min=target / 2, max=target),
        StyleRule("#2e7d32", f"≥ {target:.0%}（达标）", f"≥ {target:.0%} (target met)", min=target, max=None),
    ))


def layer_specs(settings: Any) -> list[LayerSpec]:
    """The two layers, built from the settings (the street legend shows the configured target)."""
    from plugins.coverage.service import street_kpi_frame

    compounds = LayerSpec(
        id="coverage", title_zh=t("coverage.layer", "zh"), title_en=t("coverage.layer", "en"),
        source="compounds", group=t("coverage.group", "zh"), legend=mode_legend(), visible=True,
        popup=(PopupField("name", "小区", "compound"), PopupField("management_mode", "管理模式", "management mode"),
               PopupField("company", "物业企业", "property company"),
               PopupField("households", "户数", "households"), PopupField("owners_org", "业主组织", "owners' org"),
               PopupField("build_year", "建成年份", "built"),
               PopupField("boundary_missing", "缺少边界（仅有点位）", "boundary missing")),
        tooltip=(PopupField("name", "小区", "compound"), PopupField("management_mode", "管理模式", "mode")),
        detail_zoom=13,
    )
    streets = LayerSpec(
        id="coverage_streets", title_zh=t("coverage.streets_layer", "zh"), title_en=t("coverage.streets_layer", "en"),
        source="custom", group=t("coverage.group", "zh"), legend=coverage_legend(settings.target_coverage),
        loader=street_kpi_frame,
        popup=(PopupField("name", "街镇", "street"), PopupField("compounds", "小区数", "compounds"),
               PopupField("served", "专业化物业", "served"), PopupField("coverage_rate", "覆盖率", "coverage"),
               PopupField("owners_org_rate", "业主组织组建率", "owners' org rate"),
               PopupField("compounds_needed_for_target", "距覆盖目标还差（个）", "compounds to target")),
        tooltip=(PopupField("name", "街镇", "street"), PopupField("coverage_rate", "覆盖率", "coverage")),
    )
    return [compounds, streets]
