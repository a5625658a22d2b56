"""Evaluate the garages stored in the database and summarise them per compound (prefix `charging_`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from geoplatform.labels import label
from geoplatform.models import Compound, Garage
from plugins.charging.rules import (
    DECISION_ORDER,
    NULLABLE_FIELDS,
    REQUIRED_FIELDS,
    InvalidGarage,
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


_EMPTY_COLUMNS = ("charging_garages", "charging_invalid", "charging_best", "charging_worst", "charging_best_label",
                  "charging_worst_label", *(f"charging_{d.lower()}" for d in DECISION_ORDER), "charging_summary",
                  "charging_detail", "charging_detail_en")
