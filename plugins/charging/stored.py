"""Evaluate the garages stored in the database and summarise them per compound (prefix `charging_`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from geoplatform.labels import label
from geoplatform.models import Compound, Garage
from geoplatform.store import rows_frame
from plugins.charging.rules import (
    DECISION_ORDER,
    NULLABLE_FIELDS,
    REQUIRED_FIELDS,
    InvalidGarage,
    certainly_valid,
    decide_columns,
    evaluate_garage,
    summarise_decisions,
)
from plugins.charging.settings import ChargingSettings

_GARAGE_FIELDS = [f for f in (*REQUIRED_FIELDS, *NULLABLE_FIELDS) if f != "management_mode"]


def load_garages(session: Session, street_code: str | None = None) -> list[dict[str, Any]]:
    """Stored garages as RULES §3 records; management_mode comes from the garage's compound."""
    cols = [getattr(Garage, f) for f in _GARAGE_FIELDS]
    stmt = (select(*cols, Garage.name, Garage.compound_id, Compound.name.label("compound_name"),
                   Compound.street_code, Compound.management_mode)
            .outerjoin(Compound, Garage.compound_id == Compound.id).order_by(Garage.id))
    if street_code:
        stmt = stmt.where(Compound.street_code == street_code)
    return [dict(row) for row in session.execute(stmt).mappings()]


def load_garage_columns(session: Session, compound_ids: Iterable[Any] | None = None) -> pd.DataFrame:
    """`load_garages` as columns (object dtype), read set-wise: the garages of `compound_ids` (None: every one)."""
    cols = [getattr(Garage, f) for f in _GARAGE_FIELDS]
    stmt = (select(*cols, Garage.name, Garage.compound_id, Compound.name.label("compound_name"),
                   Compound.street_code, Compound.management_mode)
            .outerjoin(Compound, Garage.compound_id == Compound.id).order_by(Garage.id))
    names = [*_GARAGE_FIELDS, "name", "compound_id", "compound_name", "street_code", "management_mode"]
    rows = session.connection().execute(stmt).all()  # Core rows: no ORM loading per row
    frame = rows_frame(rows, names)
    if compound_ids is not None:
        frame = frame[frame["compound_id"].isin(list(compound_ids))].reset_index(drop=True)
    return frame


def evaluate_columns(frame: pd.DataFrame, settings: ChargingSettings) -> pd.DataFrame:
    """`evaluate_records` set-wise, for the compound summary: id, name, compound_id, decision (None: does not
    validate), rule, reasons_zh, reasons_en per garage. Rows `certainly_valid` passes are decided over columns
    (`rules.decide_columns`); the others go through the per-record functions."""
    out = pd.DataFrame({"id": frame["id"].to_numpy(dtype=object), "name": frame["name"].to_numpy(dtype=object),
                        "compound_id": frame["compound_id"].to_numpy(dtype=object)}, dtype=object)
    for c in ("decision", "rule", "reasons_zh", "reasons_en"):
        out[c] = np.full(len(frame), None, dtype=object)
    ok = certainly_valid(frame)
    if ok.any():
        decided = decide_columns(frame[ok], settings)
        for c in ("decision", "rule", "reasons_zh", "reasons_en"):
            out.loc[ok, c] = decided[c].to_numpy(dtype=object)
    for i in np.flatnonzero(~ok):  # not surely valid: the reference decides
        row = evaluate_records([frame.iloc[i].to_dict()], settings)[0]
        if row["decision"] is None:
            continue  # does not validate: no decision, no reasons
        out.at[i, "decision"], out.at[i, "rule"] = row["decision"], row["rule"]
        out.at[i, "reasons_zh"] = "".join(r["zh"] for r in row["reasons"])
        out.at[i, "reasons_en"] = " ".join(r["en"] for r in row["reasons"])
    return out


def evaluate_records(records: Iterable[dict[str, Any]], settings: ChargingSettings) -> list[dict[str, Any]]:
    """Each stored record with its decision; records that do not validate carry `problems` instead."""
    out = []
    for rec in records:
        row = {"id": rec["id"], "name": rec.get("name"), "compound_id": rec.get("compound_id"),
               "compound_name": rec.get("compound_name"), "street_code": rec.get("street_code"),
               "garage_type": rec.get("garage_type"), "management_mode": rec.get("management_mode")}
        try:
            d = evaluate_garage(rec, settings).as_dict(rec["id"])
        except InvalidGarage as exc:
            row.update({"decision": None, "rule": None, "reasons": [], "flags": [],
                        "problems": [str(p) for p in exc.problems]})
        else:
            row.update({k: d[k] for k in ("decision", "rule", "reasons", "flags")})
        out.append(row)
    return out


def _garage_line(row: dict[str, Any], lang: str) -> str:
    name = row.get("name") or row["id"]
    if row["decision"] is None:
        missing = "数据不全" if lang == "zh" else "incomplete data"
        return f"【{name}】{missing}" if lang == "zh" else f"[{name}] {missing}"
    text = ("" if lang == "zh" else " ").join(r[lang] for r in row["reasons"])
    verdict = label("charging_decision", row["decision"], lang)
    if lang == "zh":
        return f"【{name}】{verdict}（{row['rule']}）：{text}"
    return f"[{name}] {verdict} ({row['rule']}): {text}"


def compound_summary(results: list[dict[str, Any]], compound_ids: pd.Index) -> pd.DataFrame:
    """Per compound: garage count, best/worst decision (+ zh labels), counts per decision, popup texts."""
    by_compound: dict[Any, list[dict[str, Any]]] = {}
    for row in results:
        by_compound.setdefault(row["compound_id"], []).append(row)
    records = []
    for cid in compound_ids:
        rows = by_compound.get(cid, [])
        valid = [r["decision"] for r in rows if r["decision"] is not None]
        s = summarise_decisions(valid)
        rows_sorted = sorted(rows, key=lambda r: (-(DECISION_ORDER.index(r["decision"]) if r["decision"] else 99),
                                                  str(r["id"])))
        rec: dict[str, Any] = {
            "charging_garages": len(rows),
            "charging_invalid": len(rows) - len(valid),
            "charging_best": s["best"], "charging_worst": s["worst"],
            "charging_best_label": label("charging_decision", s["best"]) if s["best"] else None,
            "charging_worst_label": label("charging_decision", s["worst"]) if s["worst"] else None,
            **{f"charging_{d.lower()}": n for d, n in s["counts"].items()},
            "charging_summary": "，".join(f"{label('charging_decision', d)} {n}" for d, n in s["counts"].items() if n)
            or None,
            "charging_detail": " ".join(_garage_line(r, "zh") for r in rows_sorted) or None,
            "charging_detail_en": " ".join(_garage_line(r, "en") for r in rows_sorted) or None,
        }
        records.append(rec)
    frame = pd.DataFrame.from_records(records, index=compound_ids)
    if frame.empty:
        frame = pd.DataFrame(columns=list(_EMPTY_COLUMNS), index=compound_ids)
    return frame


def compound_summary_columns(results: pd.DataFrame, compound_ids: pd.Index) -> pd.DataFrame:
    """`compound_summary` set-wise, from `evaluate_columns` (the same frame, value for value and dtype for dtype)."""
    if not len(compound_ids):
        return pd.DataFrame(columns=list(_EMPTY_COLUMNS), index=compound_ids)
    n = len(compound_ids)
    at = pd.Index(compound_ids).get_indexer(results["compound_id"])
    mine = results[at >= 0]
    at = at[at >= 0]
    decision = mine["decision"].to_numpy(dtype=object)
    valid = np.array([d is not None for d in decision], dtype=bool)
    rank = pd.Series(decision, dtype=object).map({d: i for i, d in enumerate(DECISION_ORDER)}).fillna(-1) \
        .to_numpy().astype("int64")
    garages = np.bincount(at, minlength=n).astype("int64")
    counts = {d: np.bincount(at[rank == i], minlength=n).astype("int64") for i, d in enumerate(DECISION_ORDER)}
    best = np.full(n, len(DECISION_ORDER), dtype="int64")
    np.minimum.at(best, at[valid], rank[valid])
    worst = np.full(n, -1, dtype="int64")
    np.maximum.at(worst, at[valid], rank[valid])
    names = np.array([*DECISION_ORDER, None], dtype=object)
    zh = np.array([*(label("charging_decision", d) for d in DECISION_ORDER), None], dtype=object)
    best_d, worst_d = names[best], names[np.where(worst < 0, len(DECISION_ORDER), worst)]
    best_l, worst_l = zh[best], zh[np.where(worst < 0, len(DECISION_ORDER), worst)]
    summary = np.full(n, "", dtype=object)
    for d in DECISION_ORDER:
        c = counts[d]
        piece = f"{label('charging_decision', d)} " + c.astype(str).astype(object)
        summary = np.where(c > 0, np.where(summary == "", piece, summary + "，" + piece), summary)
    lines = {lang: _garage_lines(mine, lang) for lang in ("zh", "en")}
    key = np.where(valid, -rank, -99)
    ids = np.array([str(i) for i in mine["id"].to_numpy(dtype=object)], dtype=object)
    order = np.lexsort((ids, key, at))
    grouped = at[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]]) if len(grouped) else np.zeros(0, dtype=int)
    ends = np.append(starts[1:], len(grouped)).astype(int) if len(starts) else starts
    detail = {}
    for lang, text in lines.items():
        ordered = text[order].tolist()
        column = np.full(n, None, dtype=object)
        column[grouped[starts]] = [" ".join(ordered[a:b]) for a, b in zip(starts, ends, strict=True)]
        detail[lang] = column
    cols = {"charging_garages": garages, "charging_invalid": garages - np.bincount(at[valid], minlength=n).astype("int64"),
            "charging_best": best_d, "charging_worst": worst_d, "charging_best_label": best_l,
            "charging_worst_label": worst_l, **{f"charging_{d.lower()}": counts[d] for d in DECISION_ORDER},
            "charging_summary": np.where(summary == "", None, summary),
            "charging_detail": detail["zh"], "charging_detail_en": detail["en"]}
    return pd.DataFrame(cols, index=compound_ids)


def _garage_lines(results: pd.DataFrame, lang: str) -> np.ndarray:
    """`_garage_line` of every row of `evaluate_columns`."""
    names = np.array([str(n or i) for n, i in zip(results["name"].to_numpy(dtype=object),
                                                   results["id"].to_numpy(dtype=object), strict=True)], dtype=object)
    decision = results["decision"].to_numpy(dtype=object)
    verdict = pd.Series(decision, dtype=object).map(
        {d: label("charging_decision", d, lang) for d in DECISION_ORDER}).to_numpy(dtype=object)
    rule = results["rule"].to_numpy(dtype=object)
    text = results[f"reasons_{lang}"].to_numpy(dtype=object)
    valid = np.array([d is not None for d in decision], dtype=bool)
    if lang == "zh":
        ok = "【" + names + "】" + np.where(valid, verdict, "") + "（" + np.where(valid, rule, "") + "）：" \
            + np.where(valid, text, "")
        return np.where(valid, ok, "【" + names + "】数据不全")
    ok = "[" + names + "] " + np.where(valid, verdict, "") + " (" + np.where(valid, rule, "") + "): " \
        + np.where(valid, text, "")
    return np.where(valid, ok, "[" + names + "] incomplete data")


_EMPTY_COLUMNS = ("charging_garages", "charging_invalid", "charging_best", "charging_worst", "charging_best_label",
                  "charging_worst_label", *(f"charging_{d.lower()}" for d in DECISION_ORDER), "charging_summary",
                  "charging_detail", "charging_detail_en")
