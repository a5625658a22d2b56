"""What the bundling plugin tells the takeover plugin (RULES §4/§5) through `takeover_bundles`: each new bundle of
orphans with no host as ONE takeover unit — area and households summed, the oldest member's build year, the
household-weighted fee collection rate, complaints and cost summed, its outline.

Uses only the plugin's public functions (`service.settings_for`, `service.cached_plan` / `service.compute_plan`);
member attributes the plan does not carry (build year, fee rate, complaints, cost) are read from the core tables.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select

from geoplatform import models as m
from geoplatform.exchange import TakeoverBundle
from geoplatform.sqlin import in_values


def _known(values: list[Any]) -> list[float]:
    return [float(v) for v in values if v is not None and not pd.isna(v)]


def aggregate(bundle_id: str, street: str | None, compounds: list[dict[str, Any]], buildings: list[dict[str, Any]],
              area: float | None, households: float | None, geometry: Any = None) -> TakeoverBundle:
    """One bundle as a takeover unit from its members' rows (dicts with build_year, households and, for compounds,
    fee_collection_rate, complaints_per_year, takeover_cost): the rules of RULES §4 for a new bundle."""
    members = compounds + buildings
    years = _known([r.get("build_year") for r in members])
    weighted = [(float(r["fee_collection_rate"]), float(r.get("households") or 0)) for r in compounds
                if r.get("fee_collection_rate") is not None and not pd.isna(r["fee_collection_rate"])]
    weight = sum(w for _, w in weighted)
    fee = (sum(v * w for v, w in weighted) / weight) if weight > 0 else (
        sum(v for v, _ in weighted) / len(weighted) if weighted else None)
    complaints = _known([r.get("complaints_per_year") for r in compounds])
    costs = [r.get("takeover_cost") for r in compounds]
    cost = None if not costs or any(c is None or pd.isna(c) for c in costs) else float(sum(costs))
    return TakeoverBundle(
        id=bundle_id, street_code=street, compound_ids=tuple(r["id"] for r in compounds),
        building_ids=tuple(r["id"] for r in buildings),
        floor_area_m2=None if area is None or pd.isna(area) else float(area),
        households=None if households is None or pd.isna(households) else int(households),
        build_year=int(min(years)) if years else None, fee_collection_rate=None if fee is None else round(fee, 4),
        complaints_per_year=int(sum(complaints)) if complaints else None, takeover_cost=cost, geometry=geometry)


def takeover_bundles(context: Any, session: Any) -> list[TakeoverBundle]:
    """The plan's new bundles (district-wide, the configured settings) as takeover units."""
    from plugins.bundling import service

    settings = service.settings_for(context)
    plan = service.cached_plan(context, settings) if getattr(context, "memo", None) else \
        service.compute_plan(session, settings)
    if plan.new_bundles is None or not len(plan.new_bundles):
        return []
    members = plan.orphans[plan.orphans["status"] == "new_bundle"]
    cids = members.loc[members["orphan_kind"] == "compound", "orphan_id"].astype(str).tolist()
    bids = members.loc[members["orphan_kind"] == "building", "orphan_id"].astype(str).tolist()
    ccols = (m.Compound.id, m.Compound.build_year, m.Compound.households, m.Compound.fee_collection_rate,
             m.Compound.complaints_per_year, m.Compound.takeover_cost)
    crows = {r.id: r._asdict() for r in session.execute(select(*ccols).where(in_values(m.Compound.id, cids)))} if cids else {}
    bcols = (m.Building.id, m.Building.build_year, m.Building.households)
    brows = {r.id: r._asdict() for r in session.execute(select(*bcols).where(in_values(m.Building.id, bids)))} if bids else {}
    out = []
    for b in plan.new_bundles.itertuples(index=False):
        mine = members[members["bundle_id"] == b.id]
        comp = [crows[i] for i in mine.loc[mine["orphan_kind"] == "compound", "orphan_id"].astype(str) if i in crows]
        bldg = [brows[i] for i in mine.loc[mine["orphan_kind"] == "building", "orphan_id"].astype(str) if i in brows]
        out.append(aggregate(b.id, b.street, comp, bldg, b.floor_area_m2, b.households, b.geometry))
    return out
