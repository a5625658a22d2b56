"""RULES §1 "Path to target" as pure functions: the KPI units at each milestone after the decided changes.

The state of a unit is (street, served, known). Changes (`geoplatform.exchange.ProjectionChange`) apply in
the order of the day they take effect (None — decided, whatever its date — first), each only to the state it
finds: `+served` serves an existing unit (a unit merged away stays gone), `-served` ends the service of a
served unit, `merged` removes the unit (a lone building joining its host) and creates the host when it is not
a unit yet (a new bundle of orphans: one unserved unit). A change that finds nothing to change is not
applied (an accepted proposal is already in today's data), so nothing is counted twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from geoplatform.exchange import ProjectionChange
from plugins.coverage.rules import needed_for_target


@dataclass
class UnitState:
    """A unit as the projection sees it."""

    street_code: str | None
    served: bool
    known: bool


State = dict[str, UnitState]


def initial_state(units: Iterable[tuple[str, str | None, bool, bool]]) -> State:
    """{unit key: UnitState} from (key, street_code, served, known) tuples."""
    return {k: UnitState(st, bool(sv), bool(kn)) for k, st, sv, kn in units}


def _order(c: ProjectionChange) -> tuple[Any, ...]:
    return (c.on is not None, c.on or dt.date.min, c.effect == "+served")


def apply_change(state: State, gone: set[str], c: ProjectionChange) -> bool:
    """Apply one change to `state` in place (`gone`: units merged away); True when it changed something."""
    unit = state.get(c.unit)
    if c.effect == "merged":
        changed = False
        if unit is not None:
            del state[c.unit]
            gone.add(c.unit)
            changed = True
        if changed and c.host and c.host not in state and c.host not in gone:
            state[c.host] = UnitState(c.street_code, False, True)
        return changed
    if unit is None:
        return False
    if c.effect == "+served" and not unit.served:
        unit.served, unit.known = True, True
        return True
    if c.effect == "-served" and unit.served:
        unit.served = False
        return True
    return False


def state_at(state: State, changes: Sequence[ProjectionChange], day: dt.date | None
             ) -> tuple[State, list[ProjectionChange]]:
    """(the state after every change effective on or before `day` (None: every change), the changes applied)."""
    out = {k: UnitState(v.street_code, v.served, v.known) for k, v in state.items()}
    gone: set[str] = set()
    applied = []
    for c in sorted(changes, key=_order):
        if day is not None and c.on is not None and c.on > day:
            continue
        if apply_change(out, gone, c):
            applied.append(c)
    return out, applied


def figures(state: State, target: float, street: str | None = None) -> dict[str, Any]:
    """units, known, served, rate (over the known), rate_lower (over all) and gap to `target` (RULES §1)."""
    rows = [u for u in state.values() if street is None or u.street_code == street]
    units, known, served = len(rows), sum(u.known for u in rows), sum(u.served for u in rows)
    return {"units": units, "known": known, "served": served, "rate": served / known if known else None,
            "rate_lower": served / units if units else None, "gap": needed_for_target(served, known, target)}


def project(state: State, changes: Sequence[ProjectionChange], milestones: Sequence[dt.date],
            streets: Sequence[str], target: float) -> dict[str, Any]:
    """`{"milestones": [{date, units, known, served, rate, rate_lower, gap}], "streets": [{street_code,
    milestones, changes}]}`: the district and each street at each milestone; `changes` per street are the
    ones applied by the last milestone (what moves the street), each with the milestone it first counts at."""
    first_at: dict[int, dt.date] = {}
    per_milestone = []
    for day in milestones:
        st, applied = state_at(state, changes, day)
        for c in applied:
            first_at.setdefault(id(c), day)
        per_milestone.append((day, st))
    district = [{"date": day.isoformat(), **figures(st, target)} for day, st in per_milestone]
    rows = []
    final = state_at(state, changes, milestones[-1])[1] if milestones else []
    for code in streets:
        mine = [c for c in final if c.street_code == code]
        rows.append({"street_code": code,
                     "milestones": [{"date": day.isoformat(), **figures(st, target, code)} for day, st in per_milestone],
                     "changes": [change_dict(c, first_at.get(id(c))) for c in mine]})
    return {"milestones": district, "streets": rows}


def change_dict(c: ProjectionChange, counts_from: dt.date | None = None) -> dict[str, Any]:
    """A change as JSON (drill-down of a street's gap)."""
    unit_kind, _, unit_id = c.unit.partition(":")
    return {"unit": c.unit, "unit_kind": unit_kind, "unit_id": unit_id, "effect": c.effect, "source": c.source,
            "kind": c.kind, "label": c.label, "on": c.on.isoformat() if c.on else None, "host": c.host, "ref": c.ref,
            "pending": c.pending, "counts_from": counts_from.isoformat() if counts_from else None}


def source_summary(changes: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """{kind: {"served": net served units, "units": net units}} of applied change dicts (the sources of a gap)."""
    out: dict[str, dict[str, int]] = {}
    for c in changes:
        row = out.setdefault(c["kind"] or c["source"], {"served": 0, "units": 0, "count": 0})
        row["count"] += 1
        if c["effect"] == "+served":
            row["served"] += 1
        elif c["effect"] == "-served":
            row["served"] -= 1
        elif c["effect"] == "merged":
            row["units"] -= 1
    return out
