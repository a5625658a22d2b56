"""The planner beyond any ledger (issue 22 point 4) as a pure function: the least-cost set of actions that
brings every street missing the coverage target at the plan milestone up to it — one exact MILP.

Model. Start from the units at the milestone after every decided change (`projection.state_at`, pending
changes left out: an open bundle proposal is an action here). Each action i (a takeover candidate, an open
bundle proposal, a contract renewal) changes some units; applied alone to that state it moves street s by
Δserved_is served units and Δknown_is known units. Street s reaches the target t iff
served_s + Σ Δserved_is·x_i ≥ t·(known_s + Σ Δknown_is·x_i), i.e. Σ (Δserved_is − t·Δknown_is)·x_i ≥
t·known_s − served_s (served is whole, so this is gap 0 of RULES §1). Two actions that change one unit are
alternatives (a takeover or a bundle of the same compound): at most one of them (so effects add up).
Objective: least total cost, then the fewest actions among the least-cost plans (second solve with the cost
fixed); optional budget Σ cost·x ≤ B — when it cannot close every street, the plan closes as many streets as
the budget allows (binary z_s: Σ coef·x ≥ rhs_s·z_s), then at least cost, and says what closing all would cost. A street that cannot reach the target even with every action it has is
reported infeasible with what is missing and left out of the joint model; an action of unknown cost is never
chosen and is listed. Solved with SciPy's HiGHS `milp` (no time limit: the model is a covering problem of a
few hundred binaries at district scale).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geoplatform.exchange import PlanAction, ProjectionChange
from plugins.coverage.projection import State, UnitState, apply_change, figures, state_at

EPS = 1e-9
TOL = 1e-6


@dataclass
class ActionEffect:
    """What one action does when applied alone to the baseline state."""

    action: PlanAction
    served: dict[str, int] = field(default_factory=dict)  # street → Δserved
    known: dict[str, int] = field(default_factory=dict)  # street → Δknown
    units: frozenset[str] = frozenset()  # units whose state it changes


def effect_of(state: State, action: PlanAction) -> ActionEffect:
    """Apply `action`'s changes alone to a copy of the touched part of `state`; the per-street deltas."""
    keys = {c.unit for c in action.changes} | {c.host for c in action.changes if c.host}
    local = {k: UnitState(state[k].street_code, state[k].served, state[k].known) for k in keys if k in state}
    before = {k: (u.street_code, u.served, u.known) for k, u in local.items()}
    gone: set[str] = set()
    for c in sorted(action.changes, key=lambda c: (c.on is not None, c.on or dt.date.min)):
        apply_change(local, gone, c)
    out = ActionEffect(action)
    touched = set()
    for k in keys:
        a, b = before.get(k), local.get(k)
        if a == ((b.street_code, b.served, b.known) if b else None):
            continue
        touched.add(k)
        for sign, rec in ((-1, a), (1, (b.street_code, b.served, b.known) if b else None)):
            if rec is None:
                continue
            street, served, known = rec
            out.served[street] = out.served.get(street, 0) + sign * int(served)
            out.known[street] = out.known.get(street, 0) + sign * int(known)
    out.units = frozenset(touched)
    return out


def _solve(c: np.ndarray, a_rows: list[np.ndarray], lb: list[float], ub: list[float], n: int) -> np.ndarray | None:
    from scipy.optimize import Bounds, LinearConstraint, milp

    cons = [LinearConstraint(np.vstack(a_rows), np.array(lb), np.array(ub))] if a_rows else []
    res = milp(c, constraints=cons, integrality=np.ones(n), bounds=Bounds(0, 1),
               options={"mip_rel_gap": 0.0, "presolve": True})
    if res.status != 0 or res.x is None:
        return None
    return np.round(res.x).astype(int)


def plan(state: State, decided: Sequence[ProjectionChange], actions: Sequence[PlanAction], streets: Sequence[str],
         target: float, milestone: dt.date, budget: float | None = None) -> dict[str, Any]:
    """The least-cost plan closing the gap of every street of `streets` at `milestone` (see the module doc).

    Returns {"milestone", "target", "budget", "feasible", "cost", "actions": [chosen], "streets": [{street_code,
    before, after, gap, closed, feasible, actions, cost, missing}], "unpriced": [action ids of unknown cost]}.
    """
    base, _ = state_at(state, [c for c in decided if not c.pending], milestone)
    effects = [effect_of(base, a) for a in actions]
    wanted = [s for s in streets if figures(base, target, s)["gap"] > 0]
    coef = {s: [e.served.get(s, 0) - target * e.known.get(s, 0) for e in effects] for s in wanted}
    rhs = {s: target * figures(base, target, s)["known"] - figures(base, target, s)["served"] - EPS for s in wanted}
    usable = [i for i, e in enumerate(effects) if e.action.cost is not None and e.units
              and any(coef[s][i] > EPS for s in wanted)]
    unpriced = [e.action.id for e in effects if e.action.cost is None and e.units]
    conflicts = _conflicts(effects, usable)

    feasible_streets, missing = [], {}
    for s in wanted:
        mine = [i for i in usable if abs(coef[s][i]) > EPS]
        best = _max_gain(coef[s], mine, conflicts)
        if best + TOL >= rhs[s]:
            feasible_streets.append(s)
        else:
            short = rhs[s] - best
            missing[s] = {"served_short": math.ceil(short - TOL) if short > TOL else 1,
                          "unpriced_actions": [effects[i].action.id for i in range(len(effects))
                                               if effects[i].action.cost is None and effects[i].action.street_code == s
                                               and effects[i].units]}
    chosen: list[int] = []
    status = "optimal"
    cols = [i for i in usable if any(abs(coef[s][i]) > EPS for s in feasible_streets)]
    if feasible_streets and cols:
        chosen_or_none = _joint(effects, cols, coef, rhs, feasible_streets, conflicts, budget)
        if chosen_or_none is None:
            status = "budget_insufficient"
            unlimited = _joint(effects, cols, coef, rhs, feasible_streets, conflicts, None) or []
            needed = sum(effects[i].action.cost for i in unlimited)
            missing["__budget__"] = {"cost_needed": needed}
            chosen = _most_streets(effects, cols, coef, rhs, feasible_streets, conflicts, float(budget or 0.0))
        else:
            chosen = chosen_or_none
    after, _ = state_at(base, [c for i in chosen for c in actions[i].changes], None)
    rows = []
    for s in streets:
        b, a = figures(base, target, s), figures(after, target, s)
        mine = [i for i in chosen if effects[i].served.get(s) or effects[i].known.get(s)]
        rows.append({"street_code": s, "before": b, "after": a, "gap": b["gap"], "closed": a["gap"] == 0,
                     "feasible": s not in wanted or s not in missing,
                     "actions": [action_dict(effects[i], s) for i in mine],
                     "cost": float(sum(effects[i].action.cost for i in mine)), "missing": missing.get(s)})
    return {"milestone": milestone.isoformat(), "target": target, "budget": budget, "status": status,
            "cost": float(sum(effects[i].action.cost for i in chosen)),
            "actions": [action_dict(effects[i]) for i in chosen], "streets": rows, "unpriced": unpriced,
            "budget_needed": missing.get("__budget__", {}).get("cost_needed")}


def action_dict(e: ActionEffect, street: str | None = None) -> dict[str, Any]:
    """An action with what it contributes (served units, known units per street)."""
    a = e.action
    return {"id": a.id, "kind": a.kind, "source": a.source, "label": a.label, "street_code": a.street_code,
            "cost": a.cost, "served": e.served.get(street, 0) if street else sum(e.served.values()),
            "known": e.known.get(street, 0) if street else sum(e.known.values()),
            "units": sorted(e.units)}


def _conflicts(effects: Sequence[ActionEffect], usable: Sequence[int]) -> list[list[int]]:
    by_unit: dict[str, list[int]] = {}
    for i in usable:
        for u in effects[i].units:
            by_unit.setdefault(u, []).append(i)
    return [ids for ids in by_unit.values() if len(ids) > 1]


def _max_gain(coef: Sequence[float], cols: Sequence[int], conflicts: list[list[int]]) -> float:
    """The most one street can gain from its own actions under the alternatives constraint (a small MILP)."""
    positive = [i for i in cols if coef[i] > EPS]
    if not positive:
        return 0.0
    idx = {i: k for k, i in enumerate(positive)}
    rows = []
    for group in conflicts:
        mine = [idx[i] for i in group if i in idx]
        if len(mine) > 1:
            row = np.zeros(len(positive))
            row[mine] = 1
            rows.append(row)
    x = _solve(-np.array([coef[i] for i in positive]), rows, [0.0] * len(rows), [1.0] * len(rows), len(positive))
    return float(sum(coef[i] for i in positive if x is not None and x[idx[i]]))


def _joint(effects: Sequence[ActionEffect], cols: Sequence[int], coef: dict[str, list[float]],
           rhs: dict[str, float], streets: Sequence[str], conflicts: list[list[int]], budget: float | None
           ) -> list[int] | None:
    """Least cost, then fewest actions: two HiGHS solves over the binaries of `cols`."""
    n = len(cols)
    idx = {i: k for k, i in enumerate(cols)}
    cost = np.array([float(effects[i].action.cost) for i in cols])
    rows, lb, ub = [], [], []
    for s in streets:
        rows.append(np.array([coef[s][i] for i in cols]))
        lb.append(rhs[s])
        ub.append(np.inf)
    for group in conflicts:
        mine = [idx[i] for i in group if i in idx]
        if len(mine) > 1:
            row = np.zeros(n)
            row[mine] = 1
            rows.append(row)
            lb.append(0.0)
            ub.append(1.0)
    if budget is not None:
        rows.append(cost)
        lb.append(0.0)
        ub.append(float(budget) + TOL)
    x = _solve(cost, rows, lb, ub, n)
    if x is None:
        return None
    best = float(cost @ x)
    rows.append(cost)
    lb.append(0.0)
    ub.append(best + TOL * max(1.0, abs(best)))
    y = _solve(np.ones(n), rows, lb, ub, n)
    x = y if y is not None else x
    return [i for i in cols if x[idx[i]]]


def _most_streets(effects: Sequence[ActionEffect], cols: Sequence[int], coef: dict[str, list[float]],
                  rhs: dict[str, float], streets: Sequence[str], conflicts: list[list[int]], budget: float
                  ) -> list[int]:
    """Within the budget: the most streets closed, then the least cost, then the fewest actions (three solves)."""
    n, k = len(cols), len(streets)
    idx = {i: j for j, i in enumerate(cols)}
    cost = np.array([float(effects[i].action.cost) for i in cols] + [0.0] * k)
    rows, lb, ub = [], [], []
    for j, s in enumerate(streets):
        row = np.zeros(n + k)
        row[:n] = [coef[s][i] for i in cols]
        row[n + j] = -rhs[s]
        rows.append(row)
        lb.append(0.0)
        ub.append(np.inf)
    for group in conflicts:
        mine = [idx[i] for i in group if i in idx]
        if len(mine) > 1:
            row = np.zeros(n + k)
            row[mine] = 1
            rows.append(row)
            lb.append(0.0)
            ub.append(1.0)
    rows.append(cost)
    lb.append(0.0)
    ub.append(budget + TOL)
    closed = np.concatenate([np.zeros(n), np.ones(k)])
    x = _solve(-closed, rows, lb, ub, n + k)
    if x is None:
        return []
    rows.append(closed)
    lb.append(float(closed @ x) - TOL)
    ub.append(np.inf)
    y = _solve(cost, rows, lb, ub, n + k)
    x = y if y is not None else x
    rows.append(cost)
    lb.append(0.0)
    ub.append(float(cost @ x) + TOL * max(1.0, float(cost @ x)))
    z = _solve(np.concatenate([np.ones(n), np.zeros(k)]), rows, lb, ub, n + k)
    x = z if z is not None else x
    return [i for i in cols if x[idx[i]]]
