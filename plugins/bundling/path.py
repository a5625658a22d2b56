"""What the bundling plugin tells coverage's path to target (RULES §1 / §5) and its planner, through hooks.

A lone building bundled into a host stops being a unit of its own (`merged` into the host; with no host, into
the new bundle `bundle:<proposal id>`, one unserved unit); an orphan compound joining a served host becomes
served (`+served`). Accepted proposals are already in the data (the projection finds nothing left to change);
open ones (stored, undecided) are `pending`: the projection counts them, the planner offers them as actions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from geoplatform import models as m
from geoplatform.exchange import PlanAction, ProjectionChange

OPEN = ("proposed", "reverted")  # stored and undecided (DECIDABLE in service.py)


def proposal_changes(p: m.BundleProposal, pending: bool) -> tuple[ProjectionChange, ...]:
    """The unit changes of one proposal."""
    host = f"compound:{p.host_compound_id}" if p.host_compound_id else f"bundle:{p.id}"
    common = {"street_code": p.street_code, "source": "bundling", "kind": "bundle", "label": p.id, "ref": p.id,
              "pending": pending}
    if p.orphan_kind == "building":
        return tuple(ProjectionChange(unit=f"building:{b}", effect="merged", host=host, **common)
                     for b in p.orphan_ids or ())
    if p.host_compound_id is None:
        return ()  # a new bundle of orphan compounds: each stays a unit, served only once taken over
    return tuple(ProjectionChange(unit=f"compound:{c}", effect="+served", **common) for c in p.orphan_ids or ())


def _proposals(session: Any, states: tuple[str, ...]) -> list[m.BundleProposal]:
    stmt = select(m.BundleProposal).where(m.BundleProposal.status.in_(states)).order_by(m.BundleProposal.id)
    return list(session.scalars(stmt))


def projection_changes(session: Any) -> list[ProjectionChange]:
    """Accepted proposals (already applied: no-ops unless reverted data says otherwise) and open ones (pending)."""
    return [c for p in _proposals(session, ("accepted", *OPEN)) for c in proposal_changes(p, p.status in OPEN)]


def plan_actions(session: Any) -> list[PlanAction]:
    """Each open proposal as an action (its cost: coverage's `bundle_action_cost` setting)."""
    out = []
    for p in _proposals(session, OPEN):
        changes = proposal_changes(p, False)
        if changes:
            out.append(PlanAction(id=f"bundle:{p.id}", kind="bundle", source="bundling", label=p.id,
                                  street_code=p.street_code, changes=changes, cost=None))
    return out
