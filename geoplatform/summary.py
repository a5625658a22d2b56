"""Per-street counts of compounds, buildings, households and management modes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geoplatform.models import MANAGEMENT_MODES, Building, Compound, Street


def summarise(session: Session) -> dict[str, Any]:
    """`{"streets": [{code, name, compounds, buildings, orphan_buildings, households, <mode>...}], "district": {...}}`."""
    streets = {code: {"code": code, "name": name, "compounds": 0, "buildings": 0, "orphan_buildings": 0,
                      "households": 0, **{m: 0 for m in MANAGEMENT_MODES}}
               for code, name in session.execute(select(Street.code, Street.name).order_by(Street.code))}
    q = select(Compound.street_code, Compound.management_mode, func.count(), func.coalesce(func.sum(Compound.households), 0))
    for code, mode, n, hh in session.execute(q.group_by(Compound.street_code, Compound.management_mode)):
        row = streets[code]
        row["compounds"] += n
        row["households"] += int(hh)
        row[mode] = row.get(mode, 0) + n
    q = select(Building.street_code, Building.compound_id.is_(None), func.count())
    for code, orphan, n in session.execute(q.group_by(Building.street_code, Building.compound_id.is_(None))):
        if code in streets:
            streets[code]["buildings"] += n
            if orphan:
                streets[code]["orphan_buildings"] += n
    keys = ["compounds", "buildings", "orphan_buildings", "households", *MANAGEMENT_MODES]
    district = {k: sum(r[k] for r in streets.values()) for k in keys}
    return {"streets": list(streets.values()), "district": district}
