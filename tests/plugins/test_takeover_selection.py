"""The takeover selection (pure): exact optimum vs brute force, greedy never wins, infeasible errors."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from plugins.takeover.selection import InfeasibleSelection, Selection, greedy, objective_of
from plugins.takeover.selection import select as _select
from tests.conftest import NO_SOLVER_LIMIT_S as NO_LIMIT
from tests.plugins.takeover_oracle import best_objective


def select(*args, time_limit: float = NO_LIMIT, **kwargs) -> Selection:  # noqa: ANN002, ANN003
    """select() without the product's 10-second limit (unless a test sets one on purpose: time_limit=0)."""
    return _select(*args, time_limit=time_limit, **kwargs)


def _fixture(seed: int, n: int = 11, streets: int = 3) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    rng = np.random.default_rng(seed)
    cand = pd.DataFrame({
        "compound_id": [f"c{i:02d}" for i in range(n)],
        "street": [f"s{int(rng.integers(0, streets))}" for _ in range(n)],
        "score": np.round(rng.uniform(20, 90, n), 2),
        "takeover_cost": np.round(rng.uniform(1, 20, n), 1),
    })
    pairs = [(f"c{i:02d}", f"c{j:02d}") for i, j in itertools.combinations(range(n), 2) if rng.random() < 0.25]
    return cand, pairs


def _brute(cand: pd.DataFrame, pairs: list[tuple[str, str]], lo: int, hi: int, budget: float | None,
           cap: int | None, w: float) -> float | None:
    """Best objective over every feasible subset (tests/plugins/takeover_oracle.py); None when none is feasible."""
    pos = {c: i for i, c in enumerate(cand["compound_id"])}
    pa = np.array([(pos[a], pos[b]) for a, b in pairs], dtype=int).reshape(-1, 2)
    return best_objective(cand["score"].to_numpy(float), cand["takeover_cost"].to_numpy(float),
                          cand["street"].astype(str).to_numpy(), pa, w, lo, hi, budget, cap)


CASES = [  # (min, max, budget, per-street cap, contiguity weight)
    (2, 4, None, None, 0.0),
    (3, 5, 35.0, None, 0.0),
    (2, 5, None, 2, 0.0),
    (2, 5, None, None, 15.0),
    (3, 6, 45.0, 2, 10.0),
    (0, 3, 12.0, 1, 30.0),
]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("lo", "hi", "budget", "cap", "w"), CASES)
def test_selection_equals_brute_force(seed: int, lo: int, hi: int, budget: float | None, cap: int | None,
                                      w: float) -> None:
    cand, pairs = _fixture(seed)
    expected = _brute(cand, pairs, lo, hi, budget, cap, w)
    if expected is None:
        with pytest.raises(InfeasibleSelection):
            select(cand, lo, hi, budget, cap, w, pairs)
        return
    sel = select(cand, lo, hi, budget, cap, w, pairs)
    assert sel.optimal is True
    assert sel.objective == pytest.approx(expected, abs=1e-4)
    chosen = cand.set_index("compound_id").loc[sel.selected]
    assert lo <= len(chosen) <= hi
    if budget is not None:
        assert chosen["takeover_cost"].sum() <= budget + 1e-9
    if cap is not None:
        assert chosen["street"].value_counts().max() <= cap
    assert sel.baseline_greedy_objective is None or sel.baseline_greedy_objective <= sel.objective + 1e-9


@pytest.mark.parametrize("seed", range(60))
def test_greedy_never_wins(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    cand, pairs = _fixture(seed + 100, n=int(rng.integers(8, 25)), streets=int(rng.integers(2, 6)))
    budget = float(rng.uniform(20, 120)) if rng.random() < 0.6 else None
    cap = int(rng.integers(1, 4)) if rng.random() < 0.6 else None
    w = float(rng.choice([0.0, 5.0, 25.0]))
    try:
        sel = select(cand, 3, 6, budget, cap, w, pairs)
    except InfeasibleSelection:
        return
    assert sel.optimal
    if sel.baseline_greedy_objective is not None:
        assert sel.objective >= sel.baseline_greedy_objective - 1e-9


def test_greedy_can_lose_to_the_optimum() -> None:
    """Greedy takes the top score and then cannot afford the rest; the MILP sees the better pair."""
    cand = pd.DataFrame({"compound_id": ["a", "b", "c"], "street": ["s", "s", "s"],
                         "score": [90.0, 60.0, 60.0], "takeover_cost": [10.0, 5.0, 5.0]})
    sel = select(cand, 1, 2, 10.0, None, 0.0, [])
    assert sorted(sel.selected) == ["b", "c"] and sel.objective == 120.0
    assert sel.baseline_greedy == ["a"] and sel.baseline_greedy_objective == 90.0


def test_contiguity_bonus_counts_selected_pairs() -> None:
    cand = pd.DataFrame({"compound_id": ["a", "b", "c"], "street": ["s", "t", "u"],
                         "score": [50.0, 40.0, 45.0], "takeover_cost": [1.0, 1.0, 1.0]})
    plain = select(cand, 2, 2, None, None, 0.0, [("a", "b")])
    assert sorted(plain.selected) == ["a", "c"]
    bonus = select(cand, 2, 2, None, None, 10.0, [("a", "b")])
    assert sorted(bonus.selected) == ["a", "b"] and bonus.objective == 100.0 and bonus.pairs_selected == 1


INFEASIBLE = [  # (min, max, budget, cap, constraint named, text in the Chinese message)
    (3, 2, None, None, "count", "最多入选数 2 小于最少入选数 3"),
    (20, 25, None, None, "count", "只有 11 个候选小区，少于最少入选数 20"),
    (5, 6, 3.0, None, "budget", "最便宜的 5 个候选小区年补贴合计"),
    (5, 6, None, 1, "per_street_max", "每个街镇最多 1 个时，3 个有候选的街镇合计最多 3 个"),
]


@pytest.mark.parametrize(("lo", "hi", "budget", "cap", "constraint", "text"), INFEASIBLE)
def test_infeasible_names_binding_constraint(lo: int, hi: int, budget: float | None, cap: int | None,
                                            constraint: str, text: str) -> None:
    cand, pairs = _fixture(3)
    cand["street"] = [f"s{i % 3}" for i in range(len(cand))]
    with pytest.raises(InfeasibleSelection) as err:
        select(cand, lo, hi, budget, cap, 0.0, pairs)
    assert err.value.constraint == constraint
    assert text in err.value.message.text("zh")
    assert not any(flag in err.value.message.text("zh") for flag in ("--", "<", "candidates"))  # no CLI flags, no English


def test_budget_error_reports_cheapest_cost() -> None:
    cand = pd.DataFrame({"compound_id": list("abcd"), "street": list("ssst"),
                         "score": [1.0, 2.0, 3.0, 4.0], "takeover_cost": [10.0, 20.0, 11.2, 40.0]})
    with pytest.raises(InfeasibleSelection) as err:
        select(cand, 3, 4, 30.0, None, 0.0, [])
    assert err.value.message.text("zh") == "最便宜的 3 个候选小区年补贴合计 41.2 万元，超出预算 30.0 万元"
    with pytest.raises(InfeasibleSelection) as err:
        select(cand, 3, 4, 50.0, 2, 0.0, [])
    assert err.value.message.text("zh") == "每街镇最多 2 个时，最便宜的 3 个候选小区年补贴合计 61.2 万元，超出预算 50.0 万元"


def test_unknown_cost_excluded_only_with_budget() -> None:
    cand = pd.DataFrame({"compound_id": list("abc"), "street": list("sst"),
                         "score": [90.0, 50.0, 40.0], "takeover_cost": [None, 2.0, 3.0]})
    assert select(cand, 1, 1).selected == ["a"]
    sel = select(cand, 1, 1, 100.0)
    assert sel.selected == ["b"] and sel.excluded_unknown_cost == ["a"]


def test_greedy_and_objective_helpers() -> None:
    score = np.array([5.0, 4.0, 3.0])
    g = greedy(score, np.array([1.0, 1.0, 1.0]), np.array(["s", "s", "t"]), 1, 2, None, 1)
    assert g == [0, 2]
    assert objective_of(g, score, np.array([[0, 2]]), 2.0) == (10.0, 1)


def test_time_limit_falls_back_to_greedy_or_better() -> None:
    """When HiGHS stops at its time limit the answer is never below greedy and says optimal=false."""
    cand, pairs = _fixture(5, n=120, streets=6)
    sel = select(cand, 10, 15, 60.0, 3, 10.0, pairs, time_limit=0.0)
    assert sel.optimal is False
    assert sel.baseline_greedy_objective is not None
    assert sel.objective >= sel.baseline_greedy_objective - 1e-9
    chosen = cand.set_index("compound_id").loc[sel.selected]
    assert 10 <= len(chosen) <= 15 and chosen["takeover_cost"].sum() <= 60.0 + 1e-9
    assert chosen["street"].value_counts().max() <= 3


def test_dominance_reduction_is_exact_and_prunes() -> None:
    from plugins.takeover.selection import dominated

    score = np.array([90.0, 80.0, 70.0, 60.0, 50.0, 50.0])
    cost = np.array([5.0, 1.0, 9.0, 2.0, 1.0, 1.0])
    street = np.array(["s"] * 6)
    none = np.zeros((0, 2), dtype=int)
    # no budget, max 3: everything with 3 better ones goes; the tie (4, 5) is broken by position
    assert dominated(score, cost, street, none, 3, None, 0.0, False).tolist() == [False] * 3 + [True] * 3
    # with a budget a dominator must also be no dearer: 2 (cost 9) by 0 and 1; 5 by 1 and its twin 4
    assert dominated(score, cost, street, none, 2, None, 0.0, True).tolist() == [
        False, False, True, False, False, True]
    # a neighbour bonus protects: 3 could gain 2 pairs × 10 points
    pairs = np.array([[3, 4], [3, 5]])
    assert not dominated(score, cost, street, pairs, 3, None, 10.0, False)[3]
    # per-street cap 1 with another street: only same-street dominators count, one suffices
    two = np.array(["s", "t", "s", "t", "s", "t"])
    assert dominated(score, cost, two, none, 3, 1, 0.0, False).tolist() == [False, False, True, True, True, True]


def _cluster_pool(n_far: int = 40, n_cluster: int = 8) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """High scorers far apart, and a tight cluster (every pair within the radius) of slightly lower scores."""
    ids = [f"far{i:02d}" for i in range(n_far)] + [f"cl{i:02d}" for i in range(n_cluster)]
    cand = pd.DataFrame({"compound_id": ids, "street": [f"s{i % 5}" for i in range(len(ids))],
                         "score": [80.0 - 0.1 * i for i in range(n_far)] + [70.0] * n_cluster,
                         "takeover_cost": 1.0})
    pairs = list(itertools.combinations([f"cl{i:02d}" for i in range(n_cluster)], 2))
    return cand, pairs


def _arrays(cand: pd.DataFrame, pairs: list[tuple[str, str]]) -> tuple[np.ndarray, ...]:
    pos = {c: i for i, c in enumerate(cand["compound_id"])}
    pa = np.array(sorted(tuple(sorted((pos[a], pos[b]))) for a, b in pairs), dtype=int).reshape(-1, 2)
    return (cand["score"].to_numpy(float), cand["takeover_cost"].to_numpy(float),
            cand["street"].astype(str).to_numpy(), pa)


def test_contiguity_heuristic_finds_the_cluster_that_greedy_misses() -> None:
    from plugins.takeover.selection import contiguity_heuristic, feasible

    cand, pairs = _cluster_pool()
    score, cost, street, pa = _arrays(cand, pairs)
    h = contiguity_heuristic(score, cost, street, pa, 5.0, 5, 8, None, None)
    g = greedy(score, cost, street, 5, 8, None, None)
    assert h is not None and feasible(h, cost, street, 5, 8, None, None)
    assert set(cand["compound_id"].to_numpy()[h]) == {f"cl{i:02d}" for i in range(8)}  # 8·70 + 5·28 = 700
    assert objective_of(h, score, pa, 5.0)[0] == pytest.approx(700.0)
    assert objective_of(g, score, pa, 5.0)[0] < 640.0  # greedy: the eight far ones, no pairs
    # under a per-street cap of 2 the cluster cannot be taken whole: the set stays within the cap
    h2 = contiguity_heuristic(score, cost, street, pa, 5.0, 5, 8, None, 2)
    assert h2 is not None and feasible(h2, cost, street, 5, 8, None, 2)
    assert objective_of(h2, score, pa, 5.0)[0] >= objective_of(greedy(score, cost, street, 5, 8, None, 2), score,
                                                                pa, 5.0)[0]


@pytest.mark.parametrize("seed", range(8))
def test_contiguity_heuristic_is_feasible_and_never_above_the_optimum(seed: int) -> None:
    from plugins.takeover.selection import contiguity_heuristic, feasible

    cand, pairs = _fixture(seed)
    score, cost, street, pa = _arrays(cand, pairs)
    for lo, hi, budget, cap, w in CASES:
        if w == 0:
            continue
        h = contiguity_heuristic(score, cost, street, pa, w, lo, hi, budget, cap)
        best = _brute(cand, pairs, lo, hi, budget, cap, w)
        if h is None:
            continue
        assert feasible(h, cost, street, lo, hi, budget, cap)
        assert objective_of(h, score, pa, w)[0] <= best + 1e-9


def test_time_limit_keeps_the_heuristic_set_and_reports_a_bound() -> None:
    """Stopped before any proof, select still returns the cluster (not greedy's set); optimal=false, no fake bound."""
    cand, pairs = _cluster_pool()
    sel = select(cand, 5, 8, contiguity_weight=5.0, pairs=pairs, time_limit=0.0)
    assert sel.optimal is False
    assert sel.objective == pytest.approx(700.0)
    assert sel.objective > sel.baseline_greedy_objective
    assert sel.objective_bound is None or sel.objective_bound >= sel.objective
    full = select(cand, 5, 8, contiguity_weight=5.0, pairs=pairs)
    assert full.optimal and full.objective == pytest.approx(700.0)
    assert full.objective_bound == pytest.approx(full.objective) and full.gap == 0.0


def test_feasible_checks_count_budget_and_cap() -> None:
    from plugins.takeover.selection import feasible

    cost = np.array([1.0, 2.0, 3.0, 4.0])
    street = np.array(["a", "a", "b", "b"])
    assert feasible([0, 2], cost, street, 1, 3, 4.0, 1)
    assert not feasible([0, 1], cost, street, 1, 3, None, 1)  # two in street a
    assert not feasible([2, 3], cost, street, 1, 3, 6.0, None)  # 7 > 6
    assert not feasible([0], cost, street, 2, 3, None, None)  # below the minimum
    assert not feasible([0, 0], cost, street, 1, 3, None, None)  # a repeated candidate


def test_verdict_names_the_bound_when_not_proven() -> None:
    from plugins.takeover.service import verdict

    stopped = {"optimal": False, "status": "Time limit reached", "objective_bound": 110.0, "gap": 1 / 11}
    assert "110.00" in verdict(stopped, "zh") and "9.1%" in verdict(stopped, "zh")
    assert "110.00" in verdict(stopped, "en") and "Time limit" not in verdict(stopped, "zh")  # no solver jargon
    assert "110" not in verdict({**stopped, "objective_bound": None, "gap": None}, "en")
    assert verdict({"optimal": True, "status": "ok"}, "zh") != verdict(stopped, "zh")


def test_csr_row_views_match_the_dense_rows() -> None:
    from plugins.takeover.selection import _adjacency, _row

    rng = np.random.default_rng(3)
    n = 40
    pairs = np.array(sorted({tuple(sorted(p)) for p in rng.integers(0, n, size=(120, 2)) if p[0] != p[1]}))
    adj = _adjacency(n, pairs)
    for i in range(n):
        dense = np.zeros(n)
        cols, vals = _row(adj, i)
        dense[cols] = vals
        assert np.array_equal(dense, adj[i].toarray().ravel())
        assert set(cols.tolist()) == {int(b) for a, b in pairs if a == i} | {int(a) for a, b in pairs if b == i}


@pytest.mark.parametrize("as_frame", [True, False])
def test_pairs_are_mapped_to_distinct_ordered_positions(as_frame: bool) -> None:
    """Pairs become sorted distinct (i, j) rows, i < j: reversed and repeated pairs once, a pair with an id that is
    not a candidate or with one id twice left out; a repeated candidate id maps to its last row (as a dict would)."""
    from plugins.takeover.selection import _pair_index

    ids = np.array(["c", "a", "b", "d", "a"])
    raw = [("a", "b"), ("b", "a"), ("a", "b"), ("c", "d"), ("d", "d"), ("x", "a"), ("b", "c"), ("d", "c")]
    pairs = pd.DataFrame(raw, columns=["a", "b"]) if as_frame else raw
    expected = sorted({tuple(sorted((4 if p == "a" else int(np.flatnonzero(ids == p)[0]),
                                     4 if q == "a" else int(np.flatnonzero(ids == q)[0]))))
                       for p, q in raw if p != q and p in ids and q in ids})
    assert _pair_index(ids, pairs).tolist() == [list(e) for e in expected]
    assert _pair_index(ids, None).shape == (0, 2)
