"""Per-compound handover attributes (for layers and other plugins) and the handover layers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from layers.spec import LayerSpec, Legend, PopupField, StyleRule
from plugins.handover import rules
from plugins.handover.labels import CLASS_LABELS, facility_label, state_label
from plugins.handover.settings import HandoverSettings

_UNSURVEYED = rules.RowStatus(rules.UNKNOWN, False, 0, 0, None, "unknown")


def attributes_frame(compound_ids: Sequence[str], rows: Sequence[Mapping[str, Any]],
                     items_by_row: Mapping[Any, Sequence[Mapping[str, Any]]], today: dt.date,
                     settings: HandoverSettings) -> pd.DataFrame:
    """One row per compound: state and colour class per facility, worst state, overdue count, takeover share.

    Missing rows of the four utilities read as `unknown`; missing gap-kind rows stay empty (no gap
    recorded) and do not take part in the worst state.
    """
    by_compound: dict[str, dict[str, rules.RowStatus]] = {}
    for r in rows:
        st = rules.row_status(r["facility"], r["state"], r.get("deadline"), items_by_row.get(r["id"], ()), today,
                              settings)
        by_compound.setdefault(r["compound_id"], {})[r["facility"]] = st
    records = []
    for cid in compound_ids:
        found = by_compound.get(cid, {})
        statuses = {f: found.get(f) or _UNSURVEYED for f in rules.FACILITIES
                    if f in found or f in rules.UTILITY_FACILITIES}  # facility order: ties break alike
        rec: dict[str, Any] = {}
        for f in rules.FACILITIES:
            st = statuses.get(f)
            rec[f"handover_state_{f}"] = st.state if st else None
            rec[f"handover_class_{f}"] = st.color_class if st else None
            rec[f"handover_overdue_{f}"] = bool(st.overdue) if st else False
            rec[f"handover_label_{f}"] = (state_label(st.state) + ("（逾期）" if st.overdue else "")) if st else None
        w = rules.worst(list(statuses.values()))
        rec["handover_worst_state"] = w.state
        rec["handover_class"] = w.color_class
        rec["handover_worst_label"] = state_label(w.state) + ("（逾期）" if w.overdue else "")
        rec["handover_overdue"] = sum(s.overdue for s in statuses.values())
        rec["handover_open_items"] = sum(s.open_items for s in statuses.values())
        share = rules.taken_over_share({f: s.state for f, s in statuses.items()})
        rec["handover_taken_over_share"] = share
        rec["handover_taken_over"] = f"{round(share * len(rules.UTILITY_FACILITIES))}/{len(rules.UTILITY_FACILITIES)}"
        rec["handover_summary"] = "；".join(
            f"{facility_label(f)}:{state_label(s.state)}{'（逾期）' if s.overdue else ''}"
            for f in rules.FACILITIES if (s := statuses.get(f)) is not None)
        records.append(rec)
    return pd.DataFrame.from_records(records, index=pd.Index(list(compound_ids), name=None))


def compound_attributes(context: Any, compounds: pd.DataFrame) -> pd.DataFrame:
    """The compute_compound_attributes hook: reads the handover tables' columns and calls attributes_columns."""
    from plugins.handover.service import load_status_columns
    from plugins.handover.settings import settings_for

    ids = [str(i) for i in compounds.index]
    with context.session(readonly=True) as s:
        rows, items = load_status_columns(s, compound_ids=ids if len(ids) <= 500 else None)
    return attributes_columns(ids, rows, items, context.today, settings_for(context))


def attributes_columns(compound_ids: Sequence[str], rows: pd.DataFrame, items: pd.DataFrame, today: dt.date,
                       settings: HandoverSettings) -> pd.DataFrame:
    """`attributes_frame` set-wise (the same frame, value for value and dtype for dtype): `rows` has the columns
    id, compound_id, facility, state, deadline of the handover rows; `items` handover_id, deadline, done_date of
    their ledger items. The rules run over columns (`rules.row_status_columns`, `rules.worst_positions`)."""
    index = pd.Index(list(compound_ids), name=None)
    n, k = len(index), len(rules.FACILITIES)
    if not n:
        return pd.DataFrame.from_records([], index=index)  # as attributes_frame gives it
    at = index.get_indexer(rows["compound_id"])
    fac = pd.Index(rules.FACILITIES).get_indexer(rows["facility"])
    keep = (at >= 0) & (fac >= 0)
    rows = rows[keep].assign(_at=at[keep], _fac=fac[keep])
    rows = rows.drop_duplicates(["_at", "_fac"], keep="last").reset_index(drop=True)  # the last row, as a dict keeps
    counts = rules.item_columns(items["handover_id"], items["deadline"], items["done_date"], today)
    st = rules.row_status_columns(rows["state"], rows["deadline"], counts.reindex(rows["id"].to_numpy()), today,
                                  settings)
    at, fac = rows["_at"].to_numpy(), rows["_fac"].to_numpy()
    utility = np.array([f in rules.UTILITY_FACILITIES for f in rules.FACILITIES])
    # (compounds × facilities) matrices; a missing row of a utility reads as unsurveyed, of a gap kind as absent
    present = np.broadcast_to(utility, (n, k)).copy()
    present[at, fac] = True
    state = np.tile(np.where(utility, rules.UNKNOWN, None).astype(object), (n, 1))
    state[at, fac] = st["state"].to_numpy(dtype=object)
    klass = np.tile(np.where(utility, "unknown", None).astype(object), (n, 1))
    klass[at, fac] = st["color_class"].to_numpy(dtype=object)
    overdue = np.zeros((n, k), dtype=bool)
    overdue[at, fac] = st["overdue"].to_numpy(dtype=bool)
    open_items = np.zeros((n, k), dtype="int64")
    open_items[at, fac] = st["open_items"].to_numpy(dtype="int64")
    severity = np.full((n, k), np.iinfo("int64").max, dtype="int64")
    severity[present] = rules.severity_columns(state[present], klass[present])
    text = np.where(present, _labels(state) + np.where(overdue, "（逾期）", ""), None)
    cols: dict[str, Any] = {}
    for j, f in enumerate(rules.FACILITIES):
        cols[f"handover_state_{f}"] = state[:, j]
        cols[f"handover_class_{f}"] = klass[:, j]
        cols[f"handover_overdue_{f}"] = overdue[:, j]
        cols[f"handover_label_{f}"] = text[:, j]
    worst = rules.worst_positions(severity)
    every = np.arange(n)
    worst_state, worst_overdue = state[every, worst], overdue[every, worst]
    cols["handover_worst_state"] = worst_state
    cols["handover_class"] = rules.state_class_columns(worst_state, worst_overdue)
    cols["handover_worst_label"] = _labels(worst_state) + np.where(worst_overdue, "（逾期）", "")
    cols["handover_overdue"] = overdue.sum(axis=1).astype("int64")
    cols["handover_open_items"] = open_items.sum(axis=1).astype("int64")
    u = len(rules.UTILITY_FACILITIES)
    taken = (state[:, utility] == "taken_over").sum(axis=1)
    cols["handover_taken_over_share"] = (taken / u).astype(float)
    cols["handover_taken_over"] = np.array([f"{round(v)}/{u}" for v in range(u + 1)], dtype=object)[taken]
    summary = np.full(n, "", dtype=object)
    started = np.zeros(n, dtype=bool)
    for j, f in enumerate(rules.FACILITIES):
        piece = f"{facility_label(f)}:" + np.where(present[:, j], text[:, j], "").astype(object)
        summary = np.where(present[:, j], np.where(started, summary + "；" + piece, piece), summary)
        started |= present[:, j]
    cols["handover_summary"] = summary
    return pd.DataFrame(cols, index=index)[_COLUMNS]


_COLUMNS = [*(f"handover_{k}_{f}" for f in rules.FACILITIES for k in ("state", "class", "overdue", "label")),
            "handover_worst_state", "handover_class", "handover_worst_label", "handover_overdue", "handover_open_items",
            "handover_taken_over_share", "handover_taken_over", "handover_summary"]


def _labels(states: np.ndarray) -> np.ndarray:
    """`state_label` of each state (an array of any shape; None gives an empty label)."""
    codes, uniques = pd.factorize(states.ravel())
    names = np.array([*(state_label(s) for s in uniques), ""], dtype=object)
    return names[codes].reshape(states.shape)


def _legend(attribute: str, settings: HandoverSettings) -> Legend:
    return Legend(attribute=attribute, kind="categorical", default_color=settings.colors["unknown"], rules=tuple(
        StyleRule(color=settings.colors[c], label_zh=CLASS_LABELS[c][0], label_en=CLASS_LABELS[c][1], value=c)
        for c in rules.CLASSES))


def layer_specs(settings: HandoverSettings) -> list[LayerSpec]:
    """One layer per facility plus an "all facilities" layer, compounds coloured by the worst state."""
    popup_all = (
        PopupField("name", "小区", "compound"),
        PopupField("handover_worst_label", "最差状态", "worst state"),
        PopupField("handover_summary", "各设施状态", "state per facility"),
        PopupField("handover_taken_over", "四类设施已接管", "utilities taken over"),
        PopupField("handover_overdue", "逾期项数", "overdue rows"),
        PopupField("handover_open_items", "未完成整改项", "open ledger items"),
    )
    specs = [LayerSpec(id="handover", title_zh="专业经营设施移交（全部）", title_en="Utility handover (all facilities)",
                       source="compounds", group="设施移交", legend=_legend("handover_class", settings),
                       popup=popup_all, tooltip=(PopupField("handover_worst_label", "最差状态", "worst state"),))]
    for f in rules.FACILITIES:
        zh, en = facility_label(f, "zh"), facility_label(f, "en")
        specs.append(LayerSpec(
            id=f"handover_{f}", title_zh=f"设施移交：{zh}", title_en=f"Handover: {en}", source="compounds",
            group="设施移交", legend=_legend(f"handover_class_{f}", settings),
            popup=(PopupField("name", "小区", "compound"),
                   PopupField(f"handover_label_{f}", f"{zh}状态", f"{en} state"),
                   PopupField("handover_summary", "各设施状态", "state per facility")),
            tooltip=(PopupField(f"handover_label_{f}", f"{zh}状态", f"{en} state"),),
            # gap kinds: only compounds where a gap was recorded
            where=None if f in rules.UTILITY_FACILITIES else _has_row(f)))
    return specs


def _has_row(facility: str):  # noqa: ANN202
    col = f"handover_state_{facility}"

    def predicate(frame: pd.DataFrame) -> pd.Series:
        return frame[col].notna() if col in frame else pd.Series(False, index=frame.index)

    return predicate
