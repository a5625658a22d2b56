"""Pure optimal selection of the year's takeover set (RULES §4): exact MILP (SciPy HiGHS) vs a greedy baseline.

maximise   Σ score_i x_i + W Σ_{(i,j) within radius} y_ij
subject to min ≤ Σ x_i ≤ max;  Σ cost_i x_i ≤ budget;  Σ_{i in street} x_i ≤ cap;
           y_ij ≤ x_i,  y_ij ≤ x_j;  x, y binary (y only when W > 0).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MIP_REL_GAP = 1e-7  # HiGHS relative gap for "optimal": far below the 0.01-point resolution of the scores


class InfeasibleSelection(ValueError):
    """No set satisfies the parameters; the message names the binding constraint."""

    def __init__(self, constraint: str, message: str) -> None:
        super().__init__(message)
        self.constraint = constraint


@dataclass
class Selection:
    """The chosen set, its objective, whether it is proven optimal, and the greedy baseline beside it."""

    selected: list[str]
    objective: float
    optimal: bool
    status: str
    baseline_greedy: list[str] | None
    baseline_greedy_objective: float | None
    total_cost: float
    pairs_selected: int
    solve_seconds: float
    parameters: dict[str, Any] = field(default_factory=dict)
    excluded_unknown_cost: list[str] = field(default_factory=list)
    dominated: int = 0  # candidates left out of the MILP because ≥ T others provably beat them (see dominated())


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def _cheapest_feasible(cost: np.ndarray, street: np.ndarray, k: int, cap: int | None) -> tuple[float, int]:
    """Minimum total cost of k candidates under the per-street cap (matroid greedy) and how many it found."""
    total, taken, per = 0.0, 0, {}
    for i in np.argsort(cost, kind="stable"):
        if cap is not None and per.get(street[i], 0) >= cap:
            continue
        per[street[i]] = per.get(street[i], 0) + 1
        total += float(cost[i])
        taken += 1
        if taken == k:
            break
    return total, taken


def check_feasible(cost: np.ndarray, street: np.ndarray, min_n: int, max_n: int, budget: float | None,
                   per_street_max: int | None) -> None:
    """Raise InfeasibleSelection naming the binding constraint; silent when some set is feasible.

    Exact: costs are ≥ 0, so a feasible set exists iff the cheapest `min_n` candidates under the
    per-street cap (a partition matroid, where greedy by cost is optimal) fit the budget.
    """
    n = len(cost)
    if min_n < 0 or max_n < 0:
        raise InfeasibleSelection("count", f"--min {min_n} / --max {max_n} must be ≥ 0")
    if min_n > max_n:
        raise InfeasibleSelection("count", f"--min {min_n} > --max {max_n}")
    if per_street_max is not None and per_street_max < 0:
        raise InfeasibleSelection("per_street_max", f"--per-street-max {per_street_max} must be ≥ 0")
    if budget is not None and budget < 0:
        raise InfeasibleSelection("budget", f"budget {budget} 万元 must be ≥ 0")
    if n < min_n:
        raise InfeasibleSelection("count", f"only {n} candidates < --min {min_n}")
    if per_street_max is not None:
        counts = pd.Series(street).value_counts()
        reachable = int(np.minimum(counts.to_numpy(), per_street_max).sum())
        if reachable < min_n:
            raise InfeasibleSelection(
                "per_street_max",
                f"per-street cap {per_street_max} × {len(counts)} streets with candidates allows at most "
                f"{reachable} compounds < --min {min_n}")
    if budget is not None and min_n > 0:
        cheapest, _ = _cheapest_feasible(cost, street, min_n, per_street_max)
        if cheapest > budget + 1e-9:
            cap = f" under the per-street cap {per_street_max}" if per_street_max is not None else ""
            raise InfeasibleSelection(
                "budget", f"budget {_fmt(budget)} 万元 < cheapest {min_n} candidates{cap} cost {_fmt(cheapest)} 万元")


def objective_of(chosen: Iterable[int], score: np.ndarray, pairs: np.ndarray, weight: float) -> tuple[float, int]:
    """Total score of a set plus weight × its pairs within the radius; returns (objective, pairs counted)."""
    mask = np.zeros(len(score), dtype=bool)
    mask[list(chosen)] = True
    n_pairs = int((mask[pairs[:, 0]] & mask[pairs[:, 1]]).sum()) if len(pairs) and weight > 0 else 0
    return float(score[mask].sum() + weight * n_pairs), n_pairs


def greedy(score: np.ndarray, cost: np.ndarray, street: np.ndarray, min_n: int, max_n: int, budget: float | None,
           per_street_max: int | None) -> list[int] | None:
    """Top-N by score, skipping any that would break the budget or street cap; None if fewer than min_n."""
    chosen: list[int] = []
    spent, per = 0.0, {}
    for i in np.lexsort((np.arange(len(score)), -score)):
        if len(chosen) == max_n:
            break
        if budget is not None and spent + cost[i] > budget + 1e-9:
            continue
        if per_street_max is not None and per.get(street[i], 0) >= per_street_max:
            continue
        chosen.append(int(i))
        spent += float(cost[i])
        per[street[i]] = per.get(street[i], 0) + 1
    return chosen if len(chosen) >= min_n else None


def dominated(score: np.ndarray, cost: np.ndarray, street: np.ndarray, pairs: np.ndarray, max_n: int,
              cap: int | None, weight: float, use_cost: bool, chunk: int = 2048) -> np.ndarray:
    """Candidates that no optimal set needs (exact reduction; the MILP then runs on the rest).

    j dominates i when j ranks before i (score desc, cost asc, index), score_j ≥ score_i + W·min(deg_i,
    max_n − 1), cost_j ≤ cost_i (with a budget) and j is in i's street (with a per-street cap). If i has
    T = max_n dominators (min(cap, max_n) in its street with a cap), any feasible set holding i leaves
    one of them out, and swapping it in for i keeps count, budget and cap and loses nothing; dominance is
    transitive, so every dominated candidate keeps T undominated dominators and all can go at once.
    """
    n = len(score)
    deg = np.bincount(pairs.ravel(), minlength=n) if len(pairs) and weight > 0 else np.zeros(n, dtype=int)
    need = score + weight * np.minimum(deg, max(max_n - 1, 0))
    threshold = max_n if cap is None else min(cap, max_n)
    rank = np.empty(n, dtype=int)
    rank[np.lexsort((np.arange(n), cost if use_cost else np.zeros(n), -score))] = np.arange(n)
    out = np.zeros(n, dtype=bool)
    if threshold <= 0:
        return out
    codes = pd.factorize(street)[0]
    for start in range(0, n, chunk):
        rows = slice(start, min(start + chunk, n))
        beats = (score[None, :] >= need[rows, None]) & (rank[None, :] < rank[rows, None])
        if use_cost:
            beats &= cost[None, :] <= cost[rows, None]
        if cap is not None:
            beats &= codes[None, :] == codes[rows, None]
        out[rows] = beats.sum(axis=1) >= threshold
    return out


def _milp(score: np.ndarray, cost: np.ndarray, street: np.ndarray, pairs: np.ndarray, min_n: int, max_n: int,
          budget: float | None, per_street_max: int | None, weight: float, time_limit: float) -> tuple[Any, int]:
    from scipy.optimize import Bounds, LinearConstraint, milp  # imported here: keeps CLI start-up fast
    from scipy.sparse import coo_matrix

    n = len(score)
    m = len(pairs) if weight > 0 else 0
    c = -np.concatenate([score, np.full(m, weight)])
    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0

    def add(idx: Iterable[int], coef: Iterable[float], lb: float, ub: float) -> None:
        nonlocal r
        idx, coef = list(idx), list(coef)
        rows.extend([r] * len(idx))
        cols.extend(idx)
        vals.extend(coef)
        lo.append(lb)
        hi.append(ub)
        r += 1

    add(range(n), [1.0] * n, min_n, max_n)
    if budget is not None:
        add(range(n), cost.tolist(), -np.inf, budget)
    if per_street_max is not None:
        for st in pd.unique(street):
            members = np.flatnonzero(street == st)
            if len(members) > per_street_max:
                add(members.tolist(), [1.0] * len(members), -np.inf, per_street_max)
    for p in range(m):  # y_p - x_i ≤ 0, y_p - x_j ≤ 0
        add([n + p, int(pairs[p, 0])], [1.0, -1.0], -np.inf, 0.0)
        add([n + p, int(pairs[p, 1])], [1.0, -1.0], -np.inf, 0.0)
    if m:
        _pair_cuts(pairs, street, max_n, per_street_max, add, n)
    A = coo_matrix((vals, (rows, cols)), shape=(r, n + m)).tocsr()
    options = {"time_limit": time_limit, "presolve": True, "mip_rel_gap": MIP_REL_GAP}
    # y stays continuous: with x binary and W > 0 the optimum sets y_ij = min(x_i, x_j) ∈ {0, 1} anyway
    integrality = np.concatenate([np.ones(n), np.zeros(m)])
    res = milp(c, constraints=LinearConstraint(A, lo, hi), integrality=integrality, bounds=Bounds(0, 1),
               options=options)
    return res, m


def _pair_cuts(pairs: np.ndarray, street: np.ndarray, max_n: int, cap: int | None, add: Any, n: int) -> None:
    """Valid inequalities that tighten the y ≤ x relaxation (same integer optimum, faster proofs).

    Per compound i: Σ_j y_ij ≤ U_i x_i, U_i = min(max_n − 1, Σ_streets min(neighbours there, cap, cap − 1
    in i's own street)). Per street: selected pairs inside it ≤ cap·(cap − 1)/2.
    """
    incident: dict[int, list[tuple[int, int]]] = {}
    for p, (a, b) in enumerate(pairs.tolist()):
        incident.setdefault(a, []).append((p, b))
        incident.setdefault(b, []).append((p, a))
    for i, inc in incident.items():
        per_street = pd.Series([street[j] for _, j in inc]).value_counts()
        bound = 0
        for st, count in per_street.items():
            limit = count if cap is None else (cap - 1 if st == street[i] else cap)
            bound += min(int(count), max(limit, 0))
        bound = min(bound, max_n - 1)
        if bound < len(inc):
            add([n + p for p, _ in inc] + [i], [1.0] * len(inc) + [-float(max(bound, 0))], -np.inf, 0.0)
    if cap is not None:
        same = street[pairs[:, 0]] == street[pairs[:, 1]]
        limit = cap * (cap - 1) // 2
        for st in pd.unique(street[pairs[same, 0]]):
            inside = np.flatnonzero(same & (street[pairs[:, 0]] == st))
            if len(inside) > limit:
                add([n + int(p) for p in inside], [1.0] * len(inside), -np.inf, float(limit))


def select(candidates: pd.DataFrame, min_n: int = 10, max_n: int = 15, budget: float | None = None,
           per_street_max: int | None = None, contiguity_weight: float = 0.0,
           pairs: pd.DataFrame | Iterable[tuple[str, str]] | None = None, time_limit: float = 10.0) -> Selection:
    """The set of candidates maximising Σ score (+ W per selected neighbour pair) under the constraints.

    `candidates`: columns compound_id, street, score, takeover_cost (万元/yr). `pairs`: (a, b) compound
    ids within the contiguity radius. Raises InfeasibleSelection naming the binding constraint. With a
    budget, candidates of unknown cost are left out (listed in `excluded_unknown_cost`).
    """
    params = {"min": min_n, "max": max_n, "budget": budget, "per_street_max": per_street_max,
              "contiguity_weight": contiguity_weight}
    if contiguity_weight < 0:
        raise InfeasibleSelection("contiguity_weight", f"--contiguity-weight {contiguity_weight} must be ≥ 0")
    cand = candidates.reset_index(drop=True)
    cost_all = pd.to_numeric(cand["takeover_cost"], errors="coerce")
    excluded: list[str] = []
    if budget is not None:
        excluded = cand.loc[cost_all.isna(), "compound_id"].astype(str).tolist()
        cand = cand[cost_all.notna()].reset_index(drop=True)
        cost_all = cost_all[cost_all.notna()].reset_index(drop=True)
    ids = cand["compound_id"].astype(str).to_numpy()
    score = cand["score"].to_numpy(dtype=float)
    cost = cost_all.fillna(0.0).to_numpy(dtype=float)
    if (cost < 0).any():
        raise InfeasibleSelection("budget", "takeover_cost must be ≥ 0 for every candidate")
    street = cand["street"].astype(str).to_numpy()
    check_feasible(cost, street, min_n, max_n, budget, per_street_max)
    pos = {cid: i for i, cid in enumerate(ids)}
    pair_list = pairs[["a", "b"]].itertuples(index=False) if isinstance(pairs, pd.DataFrame) else (pairs or [])
    pair_idx = {tuple(sorted((pos[a], pos[b]))) for a, b in pair_list if a in pos and b in pos and a != b}
    pair_arr = np.array(sorted(pair_idx), dtype=int).reshape(-1, 2)
    weight = float(contiguity_weight)

    g = greedy(score, cost, street, min_n, max_n, budget, per_street_max)
    g_obj = objective_of(g, score, pair_arr, weight)[0] if g is not None else None
    t0 = time.perf_counter()
    keep = np.flatnonzero(~dominated(score, cost, street, pair_arr, max_n, per_street_max, weight, budget is not None))
    remap = np.full(len(ids), -1)
    remap[keep] = np.arange(len(keep))
    sub_pairs = remap[pair_arr] if len(pair_arr) else pair_arr
    sub_pairs = sub_pairs[(sub_pairs >= 0).all(axis=1)] if len(sub_pairs) else sub_pairs
    res, _ = _milp(score[keep], cost[keep], street[keep], sub_pairs, min_n, max_n, budget, per_street_max, weight,
                   time_limit)
    seconds = time.perf_counter() - t0
    optimal = res.status == 0
    chosen: list[int] | None = None
    if res.x is not None:
        chosen = [int(keep[i]) for i in np.flatnonzero(res.x[: len(keep)] > 0.5)]
    status = str(res.message)
    if chosen is None:
        if g is None:
            raise InfeasibleSelection("solver", f"the solver found no feasible set ({status})")
        chosen, optimal, status = g, False, f"solver returned no solution ({status}); greedy set returned"
    obj, n_pairs = objective_of(chosen, score, pair_arr, weight)
    if g is not None and g_obj is not None and obj < g_obj - 1e-6:
        chosen, optimal, status = g, False, f"solver result below greedy ({status}); greedy set returned"
        obj, n_pairs = objective_of(chosen, score, pair_arr, weight)
    order = sorted(chosen, key=lambda i: (-score[i], ids[i]))
    return Selection(
        selected=[str(ids[i]) for i in order], objective=round(obj, 4), optimal=bool(optimal), status=status,
        baseline_greedy=[str(ids[i]) for i in g] if g is not None else None,
        baseline_greedy_objective=round(g_obj, 4) if g_obj is not None else None,
        total_cost=round(float(cost[order].sum()), 2) if order else 0.0, pairs_selected=n_pairs,
        solve_seconds=round(seconds, 4), parameters=params, excluded_unknown_cost=excluded,
        dominated=len(ids) - len(keep))
