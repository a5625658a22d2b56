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
    "unknown": "#9e9e9e",  # [D] RULES §1: 待核实 is its own category (grey), never coloured as unserved
}


def mode_legend() -> Legend:
    """Categorical legend of the management modes (unknown / 待核实 its own grey category), labels in Chinese and
    English."""
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
    lone = LayerSpec(
        id="coverage_lone_buildings", title_zh=t("coverage.lone_layer", "zh"), title_en=t("coverage.lone_layer", "en"),
        source="custom", group=t("coverage.group", "zh"), loader=lone_buildings_frame,
        legend=Legend(attribute="unit_status", kind="categorical", default_color="#c62828", rules=(
            StyleRule("#2e7d32", "单体楼：专业化服务", "lone building: served", value="served"),
            StyleRule("#ef6c00", "单体楼：拟打包并入（待决定）", "lone building: bundle proposed", value="bundle_proposed"),
            StyleRule("#c62828", "单体楼：无物业服务", "lone building: not served", value="unserved"))),
        popup=(PopupField("id", "楼栋", "building"), PopupField("address", "地址", "address"),
               PopupField("households", "户数", "households"),
               PopupField("proposal_id", "打包方案", "bundle proposal")),
        tooltip=(PopupField("id", "楼栋", "building"),), min_zoom=12,
    )
    gap = LayerSpec(
        id="coverage_gap_2027", title_zh=t("coverage.gap_layer", "zh"), title_en=t("coverage.gap_layer", "en"),
        source="custom", group=t("coverage.group", "zh"), loader=street_gap_frame, legend=gap_legend(),
        popup=(PopupField("name", "街镇", "street"), PopupField("gap_last", "推演末节点差距（单元）", "projected gap (units)"),
               PopupField("rate_last", "推演末节点覆盖率", "projected rate"),
               PopupField("rate_now", "当前覆盖率（按单元）", "unit rate now")),
        tooltip=(PopupField("name", "街镇", "street"), PopupField("gap_last", "差距", "gap")),
    )
    return [compounds, streets, lone, gap]


def gap_legend() -> Legend:
    """Graduated legend of the projected gap at the last milestone (units still to serve)."""
    return Legend(attribute="gap_last", kind="graduated", rules=(
        StyleRule("#2e7d32", "0（达标）", "0 (on track)", min=0, max=1),
        StyleRule("#fdd835", "1–4", "1–4", min=1, max=5),
        StyleRule("#ef6c00", "5–14", "5–14", min=5, max=15),
        StyleRule("#c62828", "≥ 15", "≥ 15", min=15, max=None)))


def lone_buildings_frame(context: Any, bbox: Any = None, street: str | None = None) -> Any:
    """Buildings inside no compound (单体楼) with `unit_status`: served / bundle_proposed / unserved."""
    from geoplatform.exchange import collect_projection_changes
    from layers.features import read_source

    frame = read_source(context, "buildings", bbox=bbox, street=street)
    frame = frame[frame["compound_id"].isna()].copy()
    with context.session(readonly=True) as s:
        pending = {c.unit.partition(":")[2]: c.ref for c in collect_projection_changes(context, s)
                   if c.pending and c.effect == "merged" and c.unit.startswith("building:")}
    frame["proposal_id"] = [pending.get(str(i)) for i in frame.index]
    frame["unit_status"] = ["bundle_proposed" if p else "unserved" for p in frame["proposal_id"]]
    return frame


def street_gap_frame(context: Any, bbox: Any = None, street: str | None = None) -> Any:
    """Streets with the projected rate and gap at the last milestone (and the unit rate now)."""
    import pandas as pd

    from layers.features import read_source
    from plugins.coverage.pages import _plain
    from plugins.coverage.service import projection_report

    doc = context.memo("kpi_projection", lambda: _plain(projection_report(context)))
    rows = pd.DataFrame([{"code": r["street_code"], "gap_last": r["milestones"][-1]["gap"],
                          "rate_last": r["milestones"][-1]["rate"], "rate_now": r["now"]["rate"]}
                         for r in doc["streets"]], columns=["code", "gap_last", "rate_last", "rate_now"])
    frame = read_source(context, "streets", bbox=bbox, street=street)
    return frame.join(rows.set_index("code"), how="left")
