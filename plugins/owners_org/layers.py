"""Map layers: compounds by owners' organisation class, and streets by compounds still needed for the 95 % target."""

from __future__ import annotations

from typing import Any

import pandas as pd

from geoplatform.i18n import t
from layers.spec import LayerSpec, Legend, PopupField, StyleRule
from plugins.owners_org import rules as r
from plugins.owners_org.messages import LABELS

CLASS_COLORS = {  # [D] green = organised … red = none, grey = unknown
    "active_owners_committee": "#2e7d32",
    "active_management_committee": "#66bb6a",
    "forming": "#1e88e5",
    "needs_action": "#f9a825",
    "lapsed": "#ef6c00",
    "none": "#c62828",
    "unknown": "#9e9e9e",
}
NEEDED_BREAKS = (0, 1, 6, 16)  # [D] 0 = target met; 1–5; 6–15; 16 and more


def class_legend() -> Legend:
    """The seven classes of RULES §6's layer."""
    labels = LABELS["org_class"]
    return Legend(attribute="owners_org_class", kind="categorical", default_color=CLASS_COLORS["unknown"],
                  rules=tuple(StyleRule(CLASS_COLORS[c], labels[c][0], labels[c][1], value=c) for c in r.LAYER_CLASSES))


def needed_legend(target: float) -> Legend:
    """Streets graduated by the compounds still needed to reach the target."""
    pct = f"{target:.0%}"
    return Legend(attribute="owners_org_needed", kind="graduated", rules=(
        StyleRule("#2e7d32", f"已达{pct}", f"{pct} reached", min=0, max=1),
        StyleRule("#f9a825", "还差1–5个", "1–5 short", min=1, max=6),
        StyleRule("#ef6c00", "还差6–15个", "6–15 short", min=6, max=16),
        StyleRule("#c62828", "还差16个及以上", "16 or more short", min=16, max=None),
    ))


def compound_attributes(context: Any, compounds: pd.DataFrame) -> pd.DataFrame:
    """owners_org_state/kind/class/counts/declared/findings (errors and warnings) per compound, from the records."""
    from plugins.owners_org import service
    from plugins.owners_org.settings import settings_for

    settings = settings_for(context)
    d = service.district(context, settings)
    rows = {}
    for cid in compounds.index:
        st = d.statuses.get(cid)
        if st is None:  # a compound the cached district does not hold yet (a frame built elsewhere)
            st = r.status_of(cid, None, compounds.at[cid, "owners_org"] if "owners_org" in compounds else None, settings)
        cur = service.current_of(d.assessed.get(cid, ()))
        findings = cur.findings if cur else []
        rows[cid] = {"owners_org_state": st.state, "owners_org_kind": st.kind, "owners_org_class": r.layer_class(st, findings),
                     "owners_org_counts": st.counts, "owners_org_declared": st.declared,
                     "owners_org_findings": sum(f.severity in ("error", "warning") for f in findings)}
    columns = ["owners_org_state", "owners_org_kind", "owners_org_class", "owners_org_counts", "owners_org_declared",
               "owners_org_findings"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns).reindex(compounds.index)


def street_frame(context: Any, bbox: Any = None, street: str | None = None) -> Any:
    """Streets (geometry) with the owners' organisation rate from the records and the compounds still needed."""
    from layers.features import read_source
    from plugins.owners_org import service
    from plugins.owners_org.settings import settings_for

    rates = pd.DataFrame(service.street_rates(context, settings_for(context))).set_index("street_code")
    rates = rates.rename(columns={k: f"owners_org_{k}" for k in rates.columns if k != "name"}).drop(columns=["name"])
    frame = read_source(context, "streets", bbox=bbox, street=street)
    return frame.join(rates, how="left")


def layer_specs(settings: Any) -> list[LayerSpec]:
    """`owners_org` (compounds) and `owners_org_streets` (the street choropleth)."""
    compounds = LayerSpec(
        id="owners_org", title_zh=t("owners_org.layer", "zh"), title_en=t("owners_org.layer", "en"),
        source="compounds", group=t("owners_org.group", "zh"), legend=class_legend(), detail_zoom=13,
        popup=(PopupField("name", "小区", "compound"), PopupField("owners_org_kind", "组织类型", "kind"),
               PopupField("owners_org_state", "状态", "state"),
               PopupField("owners_org_findings", "待处理问题（个）", "open findings"),
               PopupField("owners_org_declared", "台账申报待补全", "declared, to complete"),
               PopupField("boundary_missing", "缺少边界（仅有点位）", "boundary missing")),
        tooltip=(PopupField("name", "小区", "compound"), PopupField("owners_org_state", "状态", "state")),
    )
    streets = LayerSpec(
        id="owners_org_streets", title_zh=t("owners_org.streets_layer", "zh"),
        title_en=t("owners_org.streets_layer", "en"), source="custom", group=t("owners_org.group", "zh"),
        legend=needed_legend(settings.target_rate), loader=street_frame,
        popup=(PopupField("name", "街镇", "street"), PopupField("owners_org_compounds", "小区数", "compounds"),
               PopupField("owners_org_counting", "已组建", "organised"),
               PopupField("owners_org_unknown", "待核实", "unknown"),
               PopupField("owners_org_rate", "组建率（按记录）", "rate (records)"),
               PopupField("owners_org_needed", "距95%还差（个）", "short of 95%")),
        tooltip=(PopupField("name", "街镇", "street"), PopupField("owners_org_needed", "距95%还差", "short of 95%")),
    )
    return [compounds, streets]
