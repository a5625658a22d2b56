"""The coverage planner (issue 22 point 4) against brute force on small hand-made and generated cases: it
never misses a cheaper feasible plan, reports the same streets as impossible, and respects a budget."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import Any

import pytest

from geoplatform.exchange import PlanAction, ProjectionChange
from plugins.coverage.planner import plan
from plugins.coverage.projection import figures, initial_state, state_at

M = dt.date(2027, 12, 31)
T = 0.8


def ch(unit: str, street: str, effect: str, on: dt.date | None = None, host: str | None = None,
       pending: bool = False, kind: str = "x") -> ProjectionChange:
    return ProjectionChange(unit=unit, street_code=street, effect=effect, source="test", label=unit, on=on,
                            host=host, kind=kind, pending=pending)


def act(aid: str, street: str, cost: float | None, *changes: ProjectionChange, kind: str = "takeover") -> PlanAction:
    return PlanAction(id=aid, kind=kind, source="test", label=aid, street_code=street, changes=changes, cost=cost)


# ---------------------------------------------------------------------------------------------- the oracle

def _touched(state: Any, a: PlanAction) -> set[str]:
    return {c.unit for c in a.changes if c.unit in state}


def oracle(units: list[tuple], decided: list[ProjectionChange], actions: list[PlanAction], streets: list[str],
           budget: float | None = None) -> tuple[float | None, set[str]]:
    """(least cost of a plan closing every closable street of `streets`, the streets no plan can close); every
    subset of priced actions is tried; two actions changing one unit are alternatives (the planner's rule)."""
    base, _ = state_at(initial_state(units), [c for c in decided if not c.pending], M)
    priced = [a for a in actions if a.cost is not None]
    wanted = [s for s in streets if figures(base, T, s)["gap"] > 0]
    results = []
    for r in range(len(priced) + 1):
        for subset in itertools.combinations(priced, r):
            seen: set[str] = set()
            clash = False
            for a in subset:
                mine = {c.unit for c in a.changes if _changes(base, a, c)}
                if seen & mine:
                    clash = True
                    break
                seen |= mine
            if clash:
                continue
            after, _ = state_at(base, [c for a in subset for c in a.changes], None)
            closed = {s for s in wanted if figures(after, T, s)["gap"] == 0}
            results.append((sum(a.cost for a in subset), closed))
    closable = set().union(*(c for _, c in results)) if results else set()
    impossible = set(wanted) - closable
    costs = [cost for cost, closed in results if closed >= closable and (budget is None or cost <= budget + 1e-9)]
    return (min(costs) if costs else None), impossible


def oracle_within_budget(units: list[tuple], decided: list[ProjectionChange], actions: list[PlanAction],
                         streets: list[str], budget: float) -> tuple[int, float]:
    """(the most streets any plan within `budget` closes, the least cost of such a plan) by brute force."""
    base, _ = state_at(initial_state(units), [c for c in decided if not c.pending], M)
    priced = [a for a in actions if a.cost is not None]
    wanted = [s for s in streets if figures(base, T, s)["gap"] > 0]
    best = (0, 0.0)
    for r in range(len(priced) + 1):
        for subset in itertools.combinations(priced, r):
            cost = sum(a.cost for a in subset)
            seen: set[str] = set()
            ok = cost <= budget + 1e-9
            for a in subset if ok else ():
                mine = {c.unit for c in a.changes if _changes(base, a, c)}
                ok = ok and not seen & mine
                seen |= mine
            if not ok:
                continue
            after, _ = state_at(base, [c for a in subset for c in a.changes], None)
            n = sum(figures(after, T, s)["gap"] == 0 for s in wanted)
            if n > best[0] or (n == best[0] and cost < best[1] - 1e-9):
                best = (n, cost)
    return best


def _changes(base: Any, a: PlanAction, c: ProjectionChange) -> bool:
    """Whether change `c` of action `a` alone changes a unit of `base`."""
    local, _ = state_at({k: v for k, v in base.items() if k == c.unit}, [c], None)
    return c.unit in base and (c.unit not in local or (local[c.unit].served, local[c.unit].known)
                                != (base[c.unit].served, base[c.unit].known))


# ---------------------------------------------------------------------------------------------- hand-made

def test_cheapest_mix_of_takeover_bundle_and_renewal() -> None:
    """Street A: 5 compounds (a1, a2 served; a2's contract ends mid-2027), 3 lone buildings — 2 of 8 served.
    Street B: 4 compounds, 3 served (75 %: 1 short)."""
    units = [("compound:a1", "A", True, True), ("compound:a2", "A", True, True), ("compound:a3", "A", False, True),
             ("compound:a4", "A", False, True), ("compound:a5", "A", False, True),
             ("building:x1", "A", False, True), ("building:x2", "A", False, True), ("building:x3", "A", False, True),
             ("compound:b1", "B", True, True), ("compound:b2", "B", True, True), ("compound:b3", "B", True, True),
             ("compound:b4", "B", False, True)]
    decided = [ch("compound:a2", "A", "-served", on=dt.date(2027, 7, 1), kind="contract_end")]
    actions = [
        act("t3", "A", 10.0, ch("compound:a3", "A", "+served")),
        act("t4", "A", 4.0, ch("compound:a4", "A", "+served")),
        act("t5", "A", 5.0, ch("compound:a5", "A", "+served")),
        act("bx", "A", 0.0, *(ch(f"building:x{i}", "A", "merged", host="compound:a1") for i in (1, 2, 3)),
            kind="bundle"),
        act("r2", "A", 1.0, ch("compound:a2", "A", "+served"), kind="renewal"),
        act("t4b", "A", 3.0, ch("compound:a4", "A", "+served")),  # a cheaper bid for a4: an alternative
        act("tb4", "B", 6.0, ch("compound:b4", "B", "+served")),
    ]
    # A after the bundle: 5 units, a1 served → needs 4: renew a2 (1) + a4 (3) + a5 (5) = 9; B: b4 (6)
    doc = plan(initial_state(units), decided, actions, ["A", "B"], T, M)
    assert doc["status"] == "optimal" and doc["cost"] == pytest.approx(15.0)
    assert sorted(a["id"] for a in doc["actions"]) == ["bx", "r2", "t4b", "t5", "tb4"]
    rows = {r["street_code"]: r for r in doc["streets"]}
    assert rows["A"]["before"]["gap"] == 6 and rows["A"]["after"]["gap"] == 0 and rows["A"]["closed"]
    assert rows["A"]["after"]["units"] == 5 and rows["B"]["cost"] == pytest.approx(6.0)
    assert oracle(units, decided, actions, ["A", "B"])[0] == pytest.approx(doc["cost"])


def test_an_impossible_street_is_reported_with_what_is_missing() -> None:
    units = [("compound:a1", "A", False, True), ("compound:a2", "A", False, True), ("compound:a3", "A", False, False),
             ("compound:b1", "B", False, True)]
    actions = [act("t1", "A", 2.0, ch("compound:a1", "A", "+served")),
               act("t2", "A", None, ch("compound:a2", "A", "+served")),
               act("tb", "B", 7.0, ch("compound:b1", "B", "+served"))]
    doc = plan(initial_state(units), [], actions, ["A", "B"], T, M)
    rows = {r["street_code"]: r for r in doc["streets"]}
    assert not rows["A"]["feasible"] and rows["A"]["missing"] == {"served_short": 1, "unpriced_actions": ["t2"]}
    assert rows["A"]["actions"] == []
    assert rows["B"]["feasible"] and rows["B"]["closed"] and doc["cost"] == pytest.approx(7.0)
    assert doc["unpriced"] == ["t2"]
    assert oracle(units, [], actions, ["A", "B"]) == (pytest.approx(7.0), {"A"})


def test_a_budget_too_small_says_what_it_would_take() -> None:
    units = [("compound:a1", "A", False, True), ("compound:a2", "A", True, True), ("compound:a3", "A", True, True),
             ("compound:a4", "A", True, True)]
    actions = [act("t1", "A", 12.5, ch("compound:a1", "A", "+served"))]
    doc = plan(initial_state(units), [], actions, ["A"], T, M, budget=10.0)
    assert doc["status"] == "budget_insufficient" and doc["budget_needed"] == pytest.approx(12.5)
    assert doc["actions"] == [] and not doc["streets"][0]["closed"]  # nothing within 10 closes the street
    assert plan(initial_state(units), [], actions, ["A"], T, M, budget=12.5)["cost"] == pytest.approx(12.5)


def test_pending_changes_are_actions_not_baseline() -> None:
    """An open bundle proposal counts in the projection but the planner must choose it (at its cost)."""
    units = [("compound:a1", "A", True, True), ("building:x1", "A", False, True)]
    pending = [ch("building:x1", "A", "merged", host="compound:a1", pending=True)]
    actions = [act("bx", "A", 0.5, ch("building:x1", "A", "merged", host="compound:a1"), kind="bundle")]
    doc = plan(initial_state(units), pending, actions, ["A"], T, M)
    assert [a["id"] for a in doc["actions"]] == ["bx"] and doc["streets"][0]["after"]["rate"] == 1.0


# ---------------------------------------------------------------------------------------------- generated

def generated_case(seed: int) -> tuple[list[tuple], list[ProjectionChange], list[PlanAction], list[str]]:
    """2–3 streets of 3–7 compounds (some served, some unknown) and 0–3 lone buildings; contracts ending;
    takeovers (some unpriced, some competing for one compound), bundles, renewals — at most 10 actions."""
    rnd = random.Random(seed)
    units, decided, actions = [], [], []
    streets = [f"S{k}" for k in range(rnd.randint(2, 3))]
    for s in streets:
        served_ids, unserved = [], []
        for i in range(rnd.randint(3, 7)):
            key, r = f"compound:{s}c{i}", rnd.random()
            if r < 0.5:
                units.append((key, s, True, True))
                served_ids.append(key)
            elif r < 0.9:
                units.append((key, s, False, True))
                unserved.append(key)
            else:
                units.append((key, s, False, False))
        lone = [f"building:{s}x{i}" for i in range(rnd.randint(0, 3))]
        units += [(b, s, False, True) for b in lone]
        for key in served_ids:
            if rnd.random() < 0.3:
                decided.append(ch(key, s, "-served", on=dt.date(2027, rnd.randint(1, 12), 1)))
                if rnd.random() < 0.8:
                    actions.append(act(f"r-{key}", s, rnd.choice([0.0, 1.0, 2.0]), ch(key, s, "+served"),
                                       kind="renewal"))
        for key in unserved:
            for _ in range(rnd.choice([1, 1, 2])):
                actions.append(act(f"t{len(actions)}-{key}", s, rnd.choice([None, 1.0, 2.5, 4.0, 6.0]),
                                   ch(key, s, "+served")))
        if lone and served_ids:
            host = rnd.choice(served_ids)
            pending = rnd.random() < 0.5
            changes = tuple(ch(b, s, "merged", host=host) for b in lone)
            if pending:
                decided += [ch(b, s, "merged", host=host, pending=True) for b in lone]
            actions.append(act(f"b-{s}", s, rnd.choice([0.0, 0.5]), *changes, kind="bundle"))
        elif len(lone) >= 2:
            actions.append(act(f"n-{s}", s, 0.0, *(ch(b, s, "merged", host=f"bundle:{s}") for b in lone),
                               kind="bundle"))
    rnd.shuffle(actions)
    return units, decided, actions[:10], streets


@pytest.mark.parametrize("seed", range(40))
def test_planner_matches_brute_force(seed: int) -> None:
    units, decided, actions, streets = generated_case(seed)
    doc = plan(initial_state(units), decided, actions, streets, T, M)
    best, impossible = oracle(units, decided, actions, streets)
    assert {r["street_code"] for r in doc["streets"] if not r["feasible"]} == impossible
    assert doc["status"] == "optimal"
    assert doc["cost"] == pytest.approx(best if best is not None else 0.0)
    closable = {r["street_code"] for r in doc["streets"] if r["gap"] and r["feasible"]}
    assert all(r["closed"] for r in doc["streets"] if r["street_code"] in closable)


@pytest.mark.parametrize("seed", range(40, 55))
def test_planner_with_a_budget_matches_brute_force(seed: int) -> None:
    units, decided, actions, streets = generated_case(seed)
    unlimited = plan(initial_state(units), decided, actions, streets, T, M)
    budget = max(0.0, unlimited["cost"] - 1.0)
    doc = plan(initial_state(units), decided, actions, streets, T, M, budget=budget)
    best, _ = oracle(units, decided, actions, streets, budget=budget)
    if best is None:
        assert doc["status"] == "budget_insufficient" and doc["budget_needed"] == pytest.approx(unlimited["cost"])
        n, cost = oracle_within_budget(units, decided, actions, streets, budget)
        closed = sum(r["closed"] for r in doc["streets"] if r["gap"])
        assert (closed, doc["cost"]) == (n, pytest.approx(cost)) and doc["cost"] <= budget + 1e-9
    else:
        assert doc["status"] == "optimal" and doc["cost"] == pytest.approx(best) and doc["cost"] <= budget + 1e-9
