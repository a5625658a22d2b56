"""What the takeover plugin tells coverage's path to target (RULES §1) and its planner, through hooks:
pipeline rows not yet serving count as served (a decision already recorded, whatever its date), and every
candidate outside the pipeline is an action the planner may pick at its `takeover_cost`."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select

from geoplatform import models as m
from geoplatform.exchange import PlanAction, ProjectionChange
from geoplatform.sqlin import in_values

NOT_YET_SERVING = ("shortlisted", "tendering", "contracted")  # a `serving` row's compound is state_owned already


def _unit(compound_id: str) -> str:
    return f"compound:{compound_id}"


def projection_changes(session: Any) -> list[ProjectionChange]:
    """+served for each compound whose latest pipeline row is shortlisted, tendering or contracted."""
    from plugins.takeover.service import latest_states

    rows = latest_states(session)
    if rows.empty:
        return []
    rows = rows[rows["state"].isin(NOT_YET_SERVING)]
    found = {i: (st, name) for i, st, name in session.execute(
        select(m.Compound.id, m.Compound.street_code, m.Compound.name).where(in_values(m.Compound.id, rows.index.tolist())))}
    return [ProjectionChange(unit=_unit(cid), street_code=found[cid][0], effect="+served", source="takeover",
                             kind="takeover", label=found[cid][1], ref=f"{int(r.year)}:{r.state}")
            for cid, r in rows.iterrows() if cid in found]


def plan_actions(session: Any, settings: Any) -> list[PlanAction]:
    """Each takeover candidate (RULES §4) not in the pipeline: +served at its takeover_cost (None: unknown)."""
    from plugins.takeover.rules import candidate_mask
    from plugins.takeover.service import latest_states

    cols = (m.Compound.id, m.Compound.name, m.Compound.street_code, m.Compound.management_mode,
            m.Compound.demolition_planned, m.Compound.managed_by_id, m.Compound.takeover_cost)
    frame = pd.DataFrame(session.execute(select(*cols).order_by(m.Compound.id)).all(),
                         columns=["id", "name", "street_code", "management_mode", "demolition_planned",
                                  "managed_by_id", "takeover_cost"])
    if frame.empty:
        return []
    rows = latest_states(session)
    active = set(rows.index[rows["state"] != "candidate"]) if not rows.empty else set()
    frame = frame[candidate_mask(frame, settings) & ~frame["id"].isin(active)]
    out = []
    for r in frame.itertuples(index=False):
        cost = None if r.takeover_cost is None or pd.isna(r.takeover_cost) else float(r.takeover_cost)
        change = ProjectionChange(unit=_unit(r.id), street_code=r.street_code, effect="+served", source="takeover",
                                  kind="takeover", label=r.name, ref=r.id)
        out.append(PlanAction(id=f"takeover:{r.id}", kind="takeover", source="takeover", label=r.name,
                              street_code=r.street_code, changes=(change,), cost=cost))
    return out
