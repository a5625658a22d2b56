"""Pure optimal selection of the year's takeover set (RULES §4): exact MILP (SciPy HiGHS) vs a greedy baseline.

maximise   Σ score_i x_i + W Σ_{(i,j) within radius} y_ij
subject to min ≤ Σ x_i ≤ max;  Σ cost_i x_i ≤ budget;  Σ_{i in street} x_i ≤ cap;
           y_ij ≤ x_i,  y_ij ≤ x_j;  x, y binary (y only when W > 0).

With a contiguity bonus the anchor decomposition (anchors.py) proves the optimum first; the global MILP
here is its fallback.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geoplatform.i18n import MessageError
from plugins.takeover import messages as _messages  # noqa: F401  (the catalogue of the infeasibility messages)

MIP_REL_GAP = 1e-7  # HiGHS relative gap for "optimal": far below the 0.01-point resolution of the scores
ANCHOR_SHARE = 0.8  # of the time limit for the anchor decomposition; the global MILP gets the rest if it fails


class InfeasibleSelection(MessageError):
    """No set satisfies the parameters; the message (a catalogue key) names the binding constraint."""

    def __init__(self, constraint: str, key: str, **params: Any) -> None:
        super().__init__(key, **params)
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
    objective_bound: float | None = None  # no set can score more (the solver's proof); = objective when optimal

    @property
    def gap(self) -> float | None:
        """How far below the best possible the objective may be, as a fraction of the bound (0 when optimal)."""
        if self.objective_bound is None or self.objective_bound <= 0:
            return None
        return max(0.0, (self.objective_bound - self.objective) / self.objective_bound)


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
        raise InfeasibleSelection("count", "takeover.infeasible.negative_count", lo=min_n, hi=max_n)
    if min_n > max_n:
        raise InfeasibleSelection("count", "takeover.param.min_gt_max", lo=min_n, hi=max_n)
    if per_street_max is not None and per_street_max < 0:
        raise InfeasibleSelection("per_street_max", "takeover.infeasible.negative_cap", cap=per_street_max)
    if budget is not None and budget < 0:
        raise InfeasibleSelection("budget", "takeover.infeasible.negative_budget", budget=_fmt(budget))
    if n < min_n:
        raise InfeasibleSelection("count", "takeover.infeasible.too_few", n=n, min=min_n)
    if per_street_max is not None:
        counts = pd.Series(street).value_counts()
        reachable = int(np.minimum(counts.to_numpy(), per_street_max).sum())
        if reachable < min_n:
            raise InfeasibleSelection("per_street_max", "takeover.infeasible.cap_detail", cap=per_street_max,
                                      streets=len(counts), reachable=reachable, min=min_n)
    if budget is not None and min_n > 0:
        cheapest, _ = _cheapest_feasible(cost, street, min_n, per_street_max)
        if cheapest > budget + 1e-9:
            key = "takeover.infeasible.budget_detail" + ("_cap" if per_street_max is not None else "")
            raise InfeasibleSelection("budget", key, budget=_fmt(budget), min=min_n, cap=per_street_max,
                                      cheapest=_fmt(cheapest))


def feasible(chosen: Iterable[int], cost: np.ndarray, street: np.ndarray, min_n: int, max_n: int,
             budget: float | None, per_street_max: int | None) -> bool:
    """Whether a set keeps the count range, the budget and the per-street cap."""
    idx = list(chosen)
    if not min_n <= len(idx) <= max_n or len(set(idx)) != len(idx):
        return False
    if budget is not None and float(cost[idx].sum()) > budget + 1e-6:
        return False
    return per_street_max is None or not len(idx) or int(pd.Series(street[idx]).value_counts().max()) <= per_street_max


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


def _adjacency(n: int, pairs: np.ndarray) -> Any:
    """Symmetric 0/1 sparse matrix of the pairs."""
    from scipy.sparse import coo_matrix

    if not len(pairs):
        return coo_matrix((n, n)).tocsr()
    a, b = pairs[:, 0], pairs[:, 1]
    return coo_matrix((np.ones(2 * len(a)), (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()


def contiguity_heuristic(score: np.ndarray, cost: np.ndarray, street: np.ndarray, pairs: np.ndarray, weight: float,
                         min_n: int, max_n: int, budget: float | None, per_street_max: int | None,
                         seeds: int = 16, max_swaps: int = 200) -> list[int] | None:
    """A good feasible set when neighbours earn a bonus: grown from many seeds by marginal gain, then improved by swaps.

    Greedy by score alone ignores the bonus: it misses compact clusters of slightly lower scores that
    win once their pairs count. Each seed (the best candidates by score + W·neighbours) grows a set
    by the largest marginal gain (score + W × selected neighbours) under count, budget and street cap;
    the best sets are then improved by single swaps until none helps. The MILP proves or beats it.
    """
    n = len(score)
    if n == 0 or max_n == 0:
        return None
    adj = _adjacency(n, pairs)
    deg = np.asarray(adj.sum(axis=1)).ravel()
    codes, _ = pd.factorize(street)
    potential = score + weight * np.minimum(deg, max(max_n - 1, 0))
    starts = np.lexsort((np.arange(n), -potential))[:seeds]
    best: list[int] | None = None
    best_obj = -np.inf
    tried: set[tuple[int, ...]] = set()
    for seed in starts:
        near = np.zeros(n, dtype=bool)
        near[_row(adj, int(seed))[0]] = True
        for first in (None, near):  # plain marginal gain, and the seed's neighbourhood first (finds clusters)
            chosen = _grow(int(seed), score, cost, codes, adj, weight, max_n, budget, per_street_max, first)
            if chosen is None or len(chosen) < min_n:
                continue
            key = tuple(sorted(chosen))
            if key in tried:
                continue
            tried.add(key)
            chosen = _swap_search(chosen, score, cost, codes, adj, weight, budget, per_street_max, max_swaps)
            obj = objective_of(chosen, score, pairs, weight)[0]
            if obj > best_obj + 1e-9:
                best, best_obj = sorted(chosen), obj
    return best


def _grow(seed: int, score: np.ndarray, cost: np.ndarray, codes: np.ndarray, adj: Any, weight: float, max_n: int,
          budget: float | None, cap: int | None, first: np.ndarray | None = None) -> list[int] | None:
    """From `seed`, add the candidate of largest marginal gain while count, budget and cap allow.

    With `first` (a mask), candidates in it are taken before any other while one still fits.
    """
    if budget is not None and cost[seed] > budget + 1e-9:
        return None
    chosen = [seed]
    free = np.ones(len(score), dtype=bool)
    free[seed] = False
    gain = score.astype(float)
    nb, w = _row(adj, seed)
    gain[nb] += weight * w
    spent = float(cost[seed])
    per = np.bincount([codes[seed]], minlength=codes.max() + 1)
    while len(chosen) < max_n:
        ok = free.copy()
        if budget is not None:
            ok &= cost <= budget - spent + 1e-9
        if cap is not None:
            ok &= per[codes] < cap
        if not ok.any():
            break
        if first is not None and (ok & first).any():
            ok &= first
        j = int(np.flatnonzero(ok)[np.argmax(gain[ok])])
        chosen.append(j)
        free[j] = False
        spent += float(cost[j])
        per[codes[j]] += 1
        nb, w = _row(adj, j)
        gain[nb] += weight * w
    return chosen


def _row(adj: Any, i: int) -> tuple[np.ndarray, np.ndarray]:
    """Row i of a CSR matrix as (column indices, values): views, no sparse slicing (a hot path of the heuristic)."""
    lo, hi = adj.indptr[i], adj.indptr[i + 1]
    return adj.indices[lo:hi], adj.data[lo:hi]


def _swap_search(chosen: list[int], score: np.ndarray, cost: np.ndarray, codes: np.ndarray, adj: Any, weight: float,
                 budget: float | None, cap: int | None, max_swaps: int) -> list[int]:
    """Best-improvement single swaps (one out, one in) until none raises the objective.

    Every member's best swap is found at once (one row per member), the first member of largest gain wins.
    """
    chosen = list(chosen)
    n = len(score)
    for _ in range(max_swaps):
        idx = np.asarray(chosen)
        inside = np.zeros(n, dtype=bool)
        inside[idx] = True
        links = np.asarray(adj @ inside.astype(float)).ravel()  # selected neighbours of every candidate
        spent = float(cost[idx].sum())
        per = np.bincount(codes[idx], minlength=codes.max() + 1)
        gain = score[None, :] + weight * (links[None, :] - adj[idx].toarray())  # row r: chosen[r] swapped out
        ok = np.repeat(~inside[None, :], len(idx), axis=0)
        if budget is not None:
            ok &= cost[None, :] <= (budget - spent + cost[idx])[:, None] + 1e-9
        if cap is not None:
            ok &= (per[codes][None, :] - (codes[None, :] == codes[idx][:, None])) < cap
        masked = np.where(ok, gain, -np.inf)
        best = masked.argmax(axis=1)
        delta = masked[np.arange(len(idx)), best] - (score[idx] + weight * links[idx])
        delta[~ok.any(axis=1)] = -np.inf
        r = int(np.argmax(delta))
        if not delta[r] > 1e-9:
            break
        chosen[r] = int(best[r])
    return chosen


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
    # only a candidate with ≥ T others scoring ≥ its need can be dominated (100×, W = 5: none, so no n² pass)
    ranked = np.sort(score)
    others = n - np.searchsorted(ranked, need, side="left") - (score >= need)  # (i itself is no dominator)
    maybe = np.flatnonzero(others >= threshold)
    for start in range(0, len(maybe), chunk):
        rows = maybe[start:start + chunk]
        beats = (score[None, :] >= need[rows, None]) & (rank[None, :] < rank[rows, None])
        if use_cost:
            beats &= cost[None, :] <= cost[rows, None]
        if cap is not None:
            beats &= codes[None, :] == codes[rows, None]
        out[rows] = beats.sum(axis=1) >= threshold
    return out


def _milp(score: np.ndarray, cost: np.ndarray, street: np.ndarray, pairs: np.ndarray, min_n: int, max_n: int,
          budget: float | None, per_street_max: int | None, weight: float, time_limit: float,
          min_objective: float | None = None, most: int | None = None) -> tuple[Any, int]:
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
        _pair_cuts(pairs, street, max_n - 1 if most is None else most, per_street_max, add, n)
    if min_objective is not None:  # a known feasible set's value: prunes every branch that cannot beat it
        add(range(n + m), (-c).tolist(), min_objective - 1e-6 * max(1.0, abs(min_objective)), np.inf)
    A = coo_matrix((vals, (rows, cols)), shape=(r, n + m)).tocsr()
    options = {"time_limit": time_limit, "presolve": True, "mip_rel_gap": MIP_REL_GAP}
    # y stays continuous: with x binary and W > 0 the optimum sets y_ij = min(x_i, x_j) ∈ {0, 1} anyway
    integrality = np.concatenate([np.ones(n), np.zeros(m)])
    res = milp(c, constraints=LinearConstraint(A, lo, hi), integrality=integrality, bounds=Bounds(0, 1),
               options=options)
    return res, m


def _pair_cuts(pairs: np.ndarray, street: np.ndarray, most: int, cap: int | None, add: Any, n: int) -> None:
    """Valid inequalities that tighten the y ≤ x relaxation (same integer optimum, faster proofs).

    Per compound i: Σ_j y_ij ≤ U_i x_i, U_i = min(most, Σ_streets min(neighbours there, cap, cap − 1 in i's
    own street)); most is max_n − 1, or max_n − 2 once every set with a member paired with all the others
    is known to be no better (anchors.py). Per street: selected pairs inside it ≤ cap·(cap − 1)/2.
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
        bound = min(bound, most)
        if bound < len(inc):
            add([n + p for p, _ in inc] + [i], [1.0] * len(inc) + [-float(max(bound, 0))], -np.inf, 0.0)
    if cap is not None:
        same = street[pairs[:, 0]] == street[pairs[:, 1]]
        limit = cap * (cap - 1) // 2
        for st in pd.unique(street[pairs[same, 0]]):
            inside = np.flatnonzero(same & (street[pairs[:, 0]] == st))
            if len(inside) > limit:
                add([n + int(p) for p in inside], [1.0] * len(inside), -np.inf, float(limit))


@dataclass
class _Anchored:
    """The decomposition's best set (full indices), whether it is proven, whether every anchor was searched,
    and (when it was cut short) an upper bound on every set."""

    chosen: list[int] | None
    proven: bool
    complete: bool
    bound: float | None = None


def _anchored(score: np.ndarray, cost: np.ndarray, street: np.ndarray, pairs: np.ndarray, min_n: int, max_n: int,
              budget: float | None, cap: int | None, weight: float, start: list[int] | None,
              start_obj: float | None, keep: np.ndarray, deadline: float, hard: float | None = None) -> _Anchored | None:
    """The anchor decomposition (see anchors.py) on the reduced pool, or None when it does not apply.

    It does not apply without a bonus or with max_n < 3. The set is `start` when nothing beat it.
    """
    from plugins.takeover import anchors

    if weight <= 0 or max_n < 3 or not len(pairs):
        return None
    pos = {int(k): j for j, k in enumerate(keep)}
    inside = [pos[i] for i in start] if start is not None and all(i in pos for i in start) else None
    # (a heuristic set holding a dominated candidate is not carried over; its value still serves as the cutoff)
    pool = anchors.Pool(score, cost, pd.factorize(street)[0], _adjacency(len(score), pairs), weight, min_n, max_n,
                        budget, cap)
    search, unanchored = anchors.solve(pool, inside, start_obj if start_obj is not None else -np.inf, deadline, hard)
    chosen = [int(keep[i]) for i in search.best] if search.best is not None else start
    return _Anchored(chosen, search.complete and search.beaten(unanchored), search.complete, search.bound)


@dataclass
class _Outcome:
    """What the exact search on the reduced pool settled: a set (full indices), proven or not, and why."""

    chosen: list[int] | None
    optimal: bool
    status: str
    bound: float | None = None


def _solve_reduced(score: np.ndarray, cost: np.ndarray, street: np.ndarray, pairs: np.ndarray, keep: np.ndarray,
                   min_n: int, max_n: int, budget: float | None, cap: int | None, weight: float, h: list[int] | None,
                   h_obj: float | None, t0: float, time_limit: float) -> _Outcome:
    """Anchor decomposition first (with a bonus), then the global MILP on the undominated pool if not proven.

    When the decomposition searched every anchored set, the MILP only has to cover the rest, so its star
    cuts drop to max_n − 2; finding nothing above the cutoff then proves the decomposition's best set.
    When the decomposition ran out of time, its best set is returned unproven.
    """
    remap = np.full(len(score), -1)
    remap[keep] = np.arange(len(keep))
    sub_pairs = remap[pairs] if len(pairs) else pairs
    sub_pairs = sub_pairs[(sub_pairs >= 0).all(axis=1)] if len(sub_pairs) else sub_pairs
    found = _anchored(score[keep], cost[keep], street[keep], sub_pairs, min_n, max_n, budget, cap, weight, h, h_obj,
                      keep, t0 + ANCHOR_SHARE * time_limit, t0 + time_limit)
    if found is not None and found.proven and found.chosen is not None:
        return _Outcome(found.chosen, True, "Optimal (anchor decomposition)")
    if found is not None and not found.complete and found.chosen is not None:
        # out of time: HiGHS cannot stop inside presolve/root LP of the whole pool (10 s over on the 10x pool);
        # the decomposition's bound is valid for the whole pool too (the dominance reduction keeps an optimum)
        return _Outcome(found.chosen, False, "Time limit reached in the anchor decomposition", found.bound)
    most = max_n - 1
    if found is not None and found.chosen is not None:
        h_obj = max(h_obj if h_obj is not None else -np.inf, objective_of(found.chosen, score, pairs, weight)[0])
        most = max_n - 2 if found.complete else most
    left = max(time_limit - (time.perf_counter() - t0), 0.0)
    res, _ = _milp(score[keep], cost[keep], street[keep], sub_pairs, min_n, max_n, budget, cap, weight, left,
                   min_objective=h_obj, most=most)
    if res.status == 2 and most < max_n - 1 and found is not None:
        return _Outcome(found.chosen, True, "Optimal (anchor decomposition; no set without an anchor is better)")
    optimal = res.status == 0
    chosen: list[int] | None = None
    if res.x is not None:
        chosen = [int(keep[i]) for i in np.flatnonzero(res.x[: len(keep)] > 0.5)]
        if not feasible(chosen, cost, street, min_n, max_n, budget, cap):
            chosen, optimal = None, False
    bound = -float(res.mip_dual_bound) if getattr(res, "mip_dual_bound", None) is not None else None
    if chosen is None and found is not None and found.chosen is not None:
        chosen = found.chosen  # the MILP stopped without a set: keep the decomposition's (not proven)
    return _Outcome(chosen, optimal, str(res.message), bound)


def _pair_index(ids: np.ndarray, pairs: pd.DataFrame | Iterable[tuple[str, str]] | None) -> np.ndarray:
    """The pairs as distinct rows (i, j), i < j, of candidate positions, sorted; a pair naming an id that is not a
    candidate, or one id twice, is left out (vectorised: 100×, 1.7 million pairs, 0.5 s instead of 13 s; columns
    that are categorical, as `rules.candidate_pairs` gives them, are mapped through their categories only)."""
    where = pd.Series(np.arange(len(ids)), index=pd.Index(ids, dtype=object))
    where = where[~where.index.duplicated(keep="last")]
    if isinstance(pairs, pd.DataFrame):
        i, j = (_positions(where, pairs[col]) for col in ("a", "b"))
    else:
        listed = list(pairs or [])
        i = where.reindex(np.array([p[0] for p in listed], dtype=object)).to_numpy(dtype=float)
        j = where.reindex(np.array([p[1] for p in listed], dtype=object)).to_numpy(dtype=float)
    ok = ~np.isnan(i) & ~np.isnan(j) & (i != j)
    lo = np.minimum(i[ok], j[ok]).astype(np.int64)
    hi = np.maximum(i[ok], j[ok]).astype(np.int64)
    n = max(len(ids), 1)
    key = np.sort(lo * n + hi)  # by (i, j): one sort of integers (np.unique hashes them first: 2.7 s at 100×)
    key = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key
    return np.column_stack([key // n, key % n]) if len(key) else np.zeros((0, 2), dtype=int)


def _positions(where: pd.Series, column: pd.Series) -> np.ndarray:
    """Each value's candidate position (NaN when it is no candidate); a categorical column through its categories."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        per = np.append(where.reindex(column.cat.categories.astype(object)).to_numpy(dtype=float), np.nan)
        return per[codes]  # (code −1, a missing value, takes the appended NaN)
    return where.reindex(column.to_numpy(dtype=object)).to_numpy(dtype=float)


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
        raise InfeasibleSelection("contiguity_weight", "takeover.infeasible.negative_weight", w=contiguity_weight)
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
        raise InfeasibleSelection("budget", "takeover.infeasible.negative_cost")
    street = cand["street"].astype(str).to_numpy()
    check_feasible(cost, street, min_n, max_n, budget, per_street_max)
    pair_arr = _pair_index(ids, pairs)
    weight = float(contiguity_weight)

    g = greedy(score, cost, street, min_n, max_n, budget, per_street_max)
    g_obj = objective_of(g, score, pair_arr, weight)[0] if g is not None else None
    # SciPy's optimisers are loaded before the solver's clock starts (kept out of CLI start-up, imported on
    # first use): their import took ≈ 1 s of the time limit on a busy machine, before any bound was computed
    import scipy.optimize  # noqa: F401

    t0 = time.perf_counter()
    h = (contiguity_heuristic(score, cost, street, pair_arr, weight, min_n, max_n, budget, per_street_max)
         if weight > 0 and len(pair_arr) else None)
    h_obj = objective_of(h, score, pair_arr, weight)[0] if h is not None else None
    keep = np.flatnonzero(~dominated(score, cost, street, pair_arr, max_n, per_street_max, weight, budget is not None))
    # the heuristic's value is a valid lower bound for the reduced problem too (the reduction keeps an optimum)
    out = _solve_reduced(score, cost, street, pair_arr, keep, min_n, max_n, budget, per_street_max, weight, h, h_obj,
                         t0, time_limit)
    chosen, optimal, status, bound = out.chosen, out.optimal, out.status, out.bound
    seconds = time.perf_counter() - t0
    obj = objective_of(chosen, score, pair_arr, weight)[0] if chosen is not None else -np.inf
    # never return less than a set already in hand: the contiguity heuristic's, else greedy's
    source = "solver"
    for other, other_obj, what in ((h, h_obj, "contiguity heuristic"), (g, g_obj, "greedy")):
        if other is not None and other_obj is not None and other_obj > obj + 1e-6:
            chosen, obj, source = list(other), other_obj, what
    if chosen is None:
        raise InfeasibleSelection("solver", "takeover.infeasible.no_set", status=status)
    if source != "solver":
        optimal = False
        status = f"{status}; the {source} set is returned (the solver's set was {'missing' if out.chosen is None else 'lower'})"
    obj, n_pairs = objective_of(chosen, score, pair_arr, weight)
    bound = obj if optimal else (bound if bound is not None and np.isfinite(bound) else None)
    order = sorted(chosen, key=lambda i: (-score[i], ids[i]))
    return Selection(
        selected=[str(ids[i]) for i in order], objective=round(obj, 4), optimal=bool(optimal), status=status,
        baseline_greedy=[str(ids[i]) for i in g] if g is not None else None,
        baseline_greedy_objective=round(g_obj, 4) if g_obj is not None else None,
        total_cost=round(float(cost[order].sum()), 2) if order else 0.0, pairs_selected=n_pairs,
        solve_seconds=round(seconds, 4), parameters=params, excluded_unknown_cost=excluded,
        dominated=len(ids) - len(keep), objective_bound=round(max(bound, obj), 4) if bound is not None else None)
