"""Per-compound firm attributes and the two map layers: firm_status and disclosure_compliance."""

from __future__ import annotations

from typing import Any

import pandas as pd

from geoplatform.i18n import t
from geoplatform.labels import label
from layers.spec import LayerSpec, Legend, PopupField, StyleRule
from plugins.firms import rules, service
from plugins.firms.settings import settings_for

STATUS_COLOURS = {"blacklisted": "#000000", "ineligible": "#b71c1c", "bad_list": "#e65100",
                  "contract_unfiled": "#f9a825", "expiring": "#8e24aa", "good_list": "#1b5e20", "ok": "#66bb6a"}
DISCLOSURE_COLOURS = {"missing": "#c62828", "pending": "#f9a825", "compliant": "#2e7d32"}
COLUMNS = ("firms_status", "firms_status_label", "firms_disclosure", "firms_disclosure_label",
           "firms_disclosure_missing", "firms_findings")


def compound_attributes(context: Any, compounds: pd.DataFrame) -> pd.DataFrame:
    """firms_status (a FIRM_STATUSES code or None), firms_disclosure (a DISCLOSURE_STATUSES code), labels,
    the half-years missing a disclosure and the number of findings, per compound id."""
    ids = pd.Index(compounds["id"] if "id" in compounds else compounds.index)
    with context.session(readonly=True) as s:
        attrs = service.compound_attributes(context, s, context.today, settings_for(context))
    records = {}  # built as plain rows, then one frame (setting cells one by one costs ≈ 1 s per 1,000 compounds)
    status_labels = {s: label("firm_status", s) for s in rules.FIRM_STATUSES}  # each label looked up once
    disclosure_labels = {s: label("disclosure_status", s) for s in rules.DISCLOSURE_STATUSES}
    for cid in ids.tolist():
        a = attrs.get(cid)
        if a is None:
            continue
        st, disclosure = a["status"], a["disclosure"]
        records[cid] = (st, (status_labels.get(st) or label("firm_status", st)) if st else None, disclosure,
                        disclosure_labels.get(disclosure) or label("disclosure_status", disclosure),
                        "、".join(a["disclosure_missing"]) or None, len(a["codes"]))
    out = pd.DataFrame.from_dict(records, orient="index", columns=list(COLUMNS), dtype=object)
    return out.reindex(ids)


def _has_status(frame: pd.DataFrame) -> pd.Series:
    return frame["firms_status"].notna() if "firms_status" in frame else pd.Series(False, index=frame.index)


def _is_served(frame: pd.DataFrame) -> pd.Series:
    if "firms_disclosure" not in frame:
        return pd.Series(False, index=frame.index)
    return frame["firms_disclosure"].isin(list(DISCLOSURE_COLOURS))


def layers() -> list[LayerSpec]:
    """Compounds by their firm's status, and by fee disclosure (served compounds only)."""
    group = t("firms.group", "zh")
    popup = (PopupField("name", "小区", "compound"), PopupField("company", "物业企业", "property firm"),
             PopupField("firms_status_label", "企业状况", "firm status"),
             PopupField("firms_disclosure_label", "收费公示", "fee disclosure"),
             PopupField("firms_disclosure_missing", "公示缺失的半年度", "half-years without disclosure"),
             PopupField("firms_findings", "问题数", "findings"))
    return [
        LayerSpec(id="firm_status", title_zh=t("firms.layer.status", "zh"), title_en=t("firms.layer.status", "en"),
                  source="compounds", group=group, where=_has_status, detail_zoom=13, popup=popup,
                  tooltip=(PopupField("name", "小区", "compound"), PopupField("firms_status_label", "状况", "status")),
                  legend=Legend("firms_status", "categorical", tuple(
                      StyleRule(STATUS_COLOURS[s], label("firm_status", s), label("firm_status", s, "en"), value=s)
                      for s in rules.FIRM_STATUSES), default_color="#9e9e9e")),
        LayerSpec(id="disclosure_compliance", title_zh=t("firms.layer.disclosure", "zh"),
                  title_en=t("firms.layer.disclosure", "en"), source="compounds", group=group, where=_is_served,
                  detail_zoom=13, popup=popup,
                  tooltip=(PopupField("name", "小区", "compound"),
                           PopupField("firms_disclosure_label", "收费公示", "disclosure")),
                  legend=Legend("firms_disclosure", "categorical", tuple(
                      StyleRule(c, label("disclosure_status", s), label("disclosure_status", s, "en"), value=s)
                      for s, c in DISCLOSURE_COLOURS.items()), default_color="#9e9e9e")),
    ]
