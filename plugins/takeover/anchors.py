"""Exact anchor decomposition of the contiguity selection (Σ score + W per selected pair, W > 0).

Split every feasible set S by its largest selected degree:

* case A — every member has ≤ max_n − 2 selected neighbours: bounded by one LP whose star cuts use
  max_n − 2 (far tighter than max_n − 1), with exact pair variables only inside a growing subset of
  a few hundred candidates and one aggregated term per candidate for the other pairs;
* case B — some member a ("anchor") has max_n − 1: then |S| = max_n and S ⊆ N[a], a small local problem.
  Anchors are taken one at a time and each, once done, is capped at max_n − 2 for the rest, so every set
  is covered once. A local problem splits the same way, recursing on a second anchor inside N[a] ∩ N[b].

Each region is first bounded combinatorially (peeling, then a Lagrangian bound: each pair's W split
between its two ends, the split improved by subgradient steps and carried from region to region), then
by its LP (rounded into a set on the way), and only then solved as a MILP; a first pass over all anchors
does only the cheap bounds, so the expensive regions meet the best cutoff. The case-A bound is first the
same Lagrangian over the whole pool, its LP only when that does not settle it. Dense pair graphs make the global LP weak (fractional x spread over hundreds
of candidates); the local problems are small and their LPs tight. Exact whatever the graph, budget or
per-street cap: the combinatorial bounds relax those, the LPs and MILPs keep them.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SMALL_REGION = 70  # a region this small goes straight to its MILP: recursing costs more than it saves
COMMON_PRODUCT_MAX = 2e7  # Σ deg² above which anchor bounds skip the common-neighbour counts (10×: 1e6; 100×: 8e8)
CUT_SHORT_ROUNDS = 1000  # steps of that bound then (100×, W = 5: ≈ 5 ms each; it stops at the deadline)
GAP_GOAL = 0.01  # the gap (issue 26) a pool too large to prove in time should still report …
GAP_AIM = 0.008  # … so anchors bounded above the best set by more than this share get their full bounds first (a
# margin below the goal: 100×, W = 5, load 6: bound 1864.61 = 0.80 %, where aiming at 1 % left 0.996 %) …
GAP_FIRST_ANCHORS = 500  # … when more anchors than this are bounded above the best set at the start
CASE_A_RESERVE = 0.25  # of the decomposition's time, kept for the case-A bound when the anchors run out of theirs
PROBES = 32  # anchors (highest anchor bound first) whose neighbourhood is searched greedily for a dense set
PROBE_PULL = (0.25, 0.5)  # × W per neighbour still open: how much a probe step values keeping the set dense
# (10×, W = 5: 0.25 finds the optimum, a 15-clique, at the 8th anchor; then the bounds settle ≈ 1/3 sooner)
LAGRANGE_ROUNDS = 60  # subgradient steps of a region's Lagrangian bound before its LP
LAGRANGE_PATIENT = 300  # at most this many more steps for such an anchor still above that line after LAGRANGE_ROUNDS, …
LAGRANGE_PATIENCE = 10  # … halving the step after this many without a lower bound (100×: the region left at 1870.67
# by a constant step, whose 1 s LP did not finish in the limit at load 6, falls to 1864.6 in ≈ 0.1 s)
LAGRANGE_FIRST = 20  # fewer in the first pass over the anchors, which only ranks them (the best set is not found yet)
POOL_LAGRANGE_ROUNDS = 200  # subgradient steps of the case-A bound over the whole pool before its LP
POOL_STEP = 1.5  # Polyak step length of those steps, towards a target POOL_MARGIN (share of the best set's value)
POOL_MARGIN = 0.003  # below the best set (10×, W = 5: proven in ≈ 140 steps, 0.45 s, instead of a 1 s LP)
FIRST_INSIDE = 400  # candidates (best potential first) with exact pair variables in the first case-A LP (10× pool, W = 5:
# 200 needed a second, larger LP — 3.2 s CPU in all; 400 settles it in one, 1.8 s)


@dataclass
class Pool:
    """The reduced candidate pool as arrays, with its pair graph (symmetric CSR) and the parameters."""

    score: np.ndarray
    cost: np.ndarray
    codes: np.ndarray  # street of each candidate as an integer code
    adj: Any
    weight: float
    min_n: int
    max_n: int
    budget: float | None
    cap: int | None
    deg: np.ndarray = field(init=False)
    share: np.ndarray = field(init=False)  # per stored entry (i, j) of adj: α_ij, i's part of the pair's W
    _ids: Any = field(init=False)

    def __post_init__(self) -> None:
        from scipy.sparse import csr_matrix

        self.deg = np.diff(self.adj.indptr)
        self.share = np.full(self.adj.nnz + 1, self.weight / 2)  # (+ one unused slot for "no pair", id −1)
        self.adj.sort_indices()
        self._ids = csr_matrix((np.arange(1, self.adj.nnz + 1), self.adj.indices, self.adj.indptr),
                               shape=self.adj.shape)

    def mirror(self) -> np.ndarray:
        """For each stored entry (i, j) of adj, the position of its entry (j, i)."""
        return self._ids.T.tocsr().data - 1

    def edge_ids(self, nodes: np.ndarray) -> np.ndarray:
        """Dense matrix among `nodes` (distinct) of the stored entry of each pair (i, j) of adj, −1 where none.

        Gathered from the CSR rows directly (sparse fancy indexing cost ≈ 1 ms a region in SciPy's checks)."""
        nodes = np.asarray(nodes, dtype=int)
        out = np.full((len(nodes), len(nodes)), -1, dtype=np.int64)
        if not len(nodes):
            return out
        entry, at = _entries(self.adj.indptr, nodes)
        where = np.full(len(self.score), -1, dtype=np.int64)
        where[nodes] = np.arange(len(nodes))
        col = where[self.adj.indices[entry]]
        keep = col >= 0
        out[at[keep], col[keep]] = entry[keep]
        return out

    def neighbours(self, i: int) -> np.ndarray:
        """The candidates paired with i."""
        return self.adj.indices[self.adj.indptr[i]:self.adj.indptr[i + 1]]

    def sub(self, nodes: np.ndarray) -> np.ndarray:
        """Dense 0/1 adjacency among `nodes` (distinct): from edge_ids, not SciPy's fancy indexing (two sparse
        slices ≈ 0.3 ms a call; _pairs_of asks for every set it scores)."""
        return self.edge_ids(nodes) >= 0


def _entries(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The stored entries of CSR `rows` (in row order, each row's in CSR order) and, for each, its position in rows."""
    lo = indptr[rows]
    count = indptr[np.asarray(rows) + 1] - lo
    ends = np.cumsum(count)
    entry = np.repeat(lo - ends + count, count) + np.arange(int(ends[-1]) if len(ends) else 0)
    return entry, np.repeat(np.arange(len(rows)), count)


@dataclass
class Search:
    """The best set so far, the time limit, and whether every region was settled (a proof)."""

    best: list[int] | None
    best_obj: float
    deadline: float
    complete: bool = True
    milps: int = 0
    lps: int = 0
    bound: float | None = None  # when cut short: an upper bound on every set (see _open_bound)

    def slack(self) -> float:
        """Bounds within this of the best set count as no better (HiGHS's relative gap, far below 0.01 points)."""
        from plugins.takeover.selection import MIP_REL_GAP

        return MIP_REL_GAP * max(1.0, abs(self.best_obj))

    def beaten(self, bound: float) -> bool:
        """Whether a region with this upper bound cannot hold a better set than the best so far."""
        return bound <= self.best_obj + self.slack()

    def expired(self) -> bool:
        """Out of time: the search stops and cannot claim a proof."""
        if time.perf_counter() > self.deadline:
            self.complete = False
            return True
        return False


# ---------------------------------------------------------------- models


@dataclass
class Model:
    """A region's LP/MILP as rows A z ≤ b over z = (x of `nodes`, y of their pairs), with each node's star row."""

    c: np.ndarray
    a: Any
    b: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    star_row: np.ndarray  # per node, −1 when its star is not binding in the region

    def parts(self) -> tuple[np.ndarray, Any, np.ndarray, np.ndarray, np.ndarray]:
        """(c, A, b, lo, hi)."""
        return self.c, self.a, self.b, self.lo, self.hi


def _model(pool: Pool, nodes: np.ndarray, star: np.ndarray, n_fixed: int, count: tuple[int, int],
           pairs: tuple[np.ndarray, np.ndarray], degree: np.ndarray | None = None) -> Model:
    """max s·x + W·y over `nodes` (the first n_fixed forced in) and `pairs` (positions in `nodes`).

    Rows: count range, budget, per-street caps, y_p ≤ x_a, y_p ≤ x_b, stars Σ_p∋i y_p ≤ star_i x_i
    (a star row only where star_i < `degree`_i, by default the number of pairs i is in).
    """
    from scipy.sparse import coo_matrix

    n = len(nodes)
    pa, pb = pairs
    m = len(pa)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    rhs: list[float] = []

    def add(col: np.ndarray, val: np.ndarray, bound: float) -> None:
        rows.append(np.full(len(col), len(rhs)))
        cols.append(col)
        vals.append(val)
        rhs.append(bound)

    every = np.arange(n)
    add(every, np.ones(n), float(count[1]))
    if count[0] > 0:
        add(every, -np.ones(n), -float(count[0]))
    if pool.budget is not None:
        add(every, pool.cost[nodes].astype(float), float(pool.budget))
    if pool.cap is not None:
        codes = pool.codes[nodes]
        for code in np.unique(codes):
            members = np.flatnonzero(codes == code)
            if len(members) > pool.cap:
                add(members, np.ones(len(members)), float(pool.cap))
    p = np.arange(m)
    for ends in (pa, pb):  # y_p − x_end ≤ 0
        rows.extend([len(rhs) + p, len(rhs) + p])
        cols.extend([n + p, ends])
        vals.extend([np.ones(m), -np.ones(m)])
        rhs.extend([0.0] * m)
    if degree is None:
        degree = np.bincount(np.concatenate([pa, pb]), minlength=n)
    tight = np.flatnonzero(star < degree)
    star_row = np.full(n, -1)
    star_row[tight] = len(rhs) + np.arange(len(tight))
    for ends in (pa, pb):
        keep = star_row[ends] >= 0
        rows.append(star_row[ends[keep]])
        cols.append(n + p[keep])
        vals.append(np.ones(int(keep.sum())))
    rows.append(star_row[tight])
    cols.append(tight)
    vals.append(-star[tight].astype(float))
    rhs.extend([0.0] * len(tight))
    a = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                   shape=(len(rhs), n + m)).tocsr()
    lo = np.zeros(n + m)
    lo[:n_fixed] = 1.0
    return Model(np.concatenate([pool.score[nodes], np.full(m, pool.weight)]), a, np.asarray(rhs), lo,
                 np.ones(n + m), star_row)


def _dual_bound(c: np.ndarray, a: Any, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, pi: np.ndarray) -> float:
    """Lagrangian bound b·π + max over the box of (c − Aᵀπ)·z: valid for any π ≥ 0, whatever the LP's accuracy."""
    rc = c - a.T @ pi
    return float(b @ pi + np.maximum(rc * lo, rc * hi).sum())


def _lp(search: Search, model: Model | tuple[np.ndarray, Any, np.ndarray, np.ndarray, np.ndarray],
        method: str = "highs") -> tuple[float, np.ndarray | None]:
    """The LP relaxation's rigorous upper bound (−inf if infeasible, +inf if unsolved) and its solution."""
    from scipy.optimize import OptimizeWarning, linprog

    c, a, b, lo, hi = model.parts() if isinstance(model, Model) else model
    search.lps += 1
    left = max(search.deadline - time.perf_counter(), 0.01)
    options: dict[str, Any] = {"time_limit": left}
    if method == "highs-ipm":  # no crossover to a vertex: the bound is rebuilt from the duals (half the time)
        options["run_crossover"] = "off"
    with warnings.catch_warnings():  # SciPy warns that it hands run_crossover to HiGHS verbatim
        warnings.simplefilter("ignore", OptimizeWarning)
        res = linprog(-c, A_ub=a, b_ub=b, bounds=np.column_stack([lo, hi]), method=method, options=options)
    if res.status == 2:
        return -np.inf, None
    if res.status != 0:
        return np.inf, None
    pi = np.maximum(-np.asarray(res.ineqlin.marginals), 0.0)
    return _dual_bound(c, a, b, lo, hi, pi), res.x


def _milp(search: Search, pool: Pool, nodes: np.ndarray, model: Model) -> None:
    """Solve a region exactly with the best value as cutoff; record a better set or an unfinished proof."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import vstack

    from plugins.takeover.selection import MIP_REL_GAP

    search.milps += 1
    c, a, b, lo, hi = model.parts()
    n = len(nodes)
    cut = search.best_obj - search.slack() if np.isfinite(search.best_obj) else -np.inf
    rows = vstack([a, c[None, :]]).tocsr()
    lower = np.concatenate([np.full(len(b), -np.inf), [cut]])
    upper = np.concatenate([b, [np.inf]])
    left = search.deadline - time.perf_counter()
    if left <= 0:
        search.complete = False
        return
    integrality = np.concatenate([np.ones(n), np.zeros(len(c) - n)])
    res = milp(-c, constraints=LinearConstraint(rows, lower, upper), integrality=integrality, bounds=Bounds(lo, hi),
               options={"time_limit": left, "presolve": True, "mip_rel_gap": MIP_REL_GAP})
    if res.status == 2:  # infeasible: nothing here reaches the cutoff
        return
    if res.status != 0:
        search.complete = False
    if res.x is not None:
        from plugins.takeover.selection import feasible, objective_of

        chosen = [int(nodes[i]) for i in np.flatnonzero(res.x[:n] > 0.5)]
        pairs = _pairs_of(pool, np.asarray(chosen, dtype=int))
        obj = objective_of(chosen, pool.score, pairs, pool.weight)[0]
        if obj > search.best_obj and feasible(chosen, pool.cost, pool.codes, pool.min_n, pool.max_n, pool.budget,
                                              pool.cap):
            search.best, search.best_obj = sorted(chosen), obj


def _pairs_of(pool: Pool, nodes: np.ndarray) -> np.ndarray:
    """The pairs among `nodes` as global index pairs."""
    if not len(nodes):
        return np.zeros((0, 2), dtype=int)
    a, b = np.nonzero(np.triu(pool.sub(nodes), 1))
    return np.column_stack([nodes[a], nodes[b]])


# ---------------------------------------------------------------- combinatorial bounds


def _peel(search: Search, score: np.ndarray, weight: float, base: float, r: int, room: np.ndarray,
          sub: np.ndarray) -> np.ndarray | None:
    """Candidates of a region that can still be in a better set (mask), or None when none can.

    The region picks r more candidates, each adjacent to the fixed ones (worth `base` together).
    Candidate j can add at most s_j + W/2·min(room_j, its neighbours still in) (half of each pair);
    j goes when even with the r − 1 best others the total stays ≤ the best set, and dropping it lowers
    its neighbours' bound in turn.
    """
    alive = np.ones(len(room), dtype=bool)
    half = weight / 2
    while True:
        if alive.sum() < r:
            return None
        pot = score + half * np.minimum(room, sub[:, alive].sum(axis=1))
        top = np.sort(pot[alive])[::-1]
        if search.beaten(base + top[:r].sum()):
            return None
        rest = top[: r - 1].sum()
        cutoff = top[r - 2] if r >= 2 else np.inf
        kill = alive & (pot < cutoff) & (base + pot + rest <= search.best_obj + search.slack())
        if not kill.any():
            return alive
        alive &= ~kill


def _lagrange_bound(search: Search, base: float, r: int, room: np.ndarray, sub: np.ndarray, score: np.ndarray,
                   weight: float, offer: Any = None, rounds: int | None = None,
                   share: np.ndarray | None = None, enough: float = -np.inf,
                   patience: int | None = None) -> tuple[float, np.ndarray]:
    """Upper bound from splitting each pair's W between its two ends (a Lagrangian relaxation of y ≤ x).

    For any split α_ij + α_ji = W (α ≥ 0) a set T of r candidates scores Σ_{i∈T} (s_i + Σ_{j∈T∩N(i)} α_ij)
    ≤ the r largest of s_i + (its room_i largest shares): valid for every α, so the split is improved by
    subgradient steps (Polyak, towards the best set) and the lowest bound seen is returned. The best split
    is the dual of the region's LP without budget and caps, so this settles most regions before that LP.
    Each step's r candidates are a set of the region: `offer` (if given) receives their positions when
    that set (with the fixed ones) would score more than the best so far. `share` is the split to start
    from (share[i, j] = α_ij; W/2 each by default); returns the bound and the split that gave it.
    """
    rounds = LAGRANGE_ROUNDS if rounds is None else rounds
    n = len(score)
    share = np.where(sub, weight / 2, 0.0) if share is None else np.where(sub, share, 0.0)
    if n < r or r <= 0:
        return (base if r == 0 else -np.inf), share
    t = np.clip(room, 0, n - 1).astype(int)
    most = int(t.max())
    cols = np.arange(n)[None, :]
    target = search.best_obj + search.slack() if np.isfinite(search.best_obj) else -np.inf
    best, kept = np.inf, share
    step, since = 1.0, 0
    for _ in range(rounds):
        # each row's `most` largest shares, largest first (a partition, not a sort of every row: 100× regions
        # have ≈ 300 candidates and `most` ≤ 14)
        part = np.partition(share, n - most, axis=1)[:, n - most:] if 0 < most < n else share
        ranked = -np.sort(-part, axis=1)
        top = np.concatenate([np.zeros((n, 1)), np.cumsum(ranked, axis=1)], axis=1)[np.arange(n), t]
        value = score + top
        picked = np.argpartition(-value, r - 1)[:r]
        bound = base + float(value[picked].sum())
        since += 1
        if bound < best:
            best, kept, since = bound, share, 0
        elif patience is not None and since >= patience:  # stalled: shorter steps, from the best split again
            step, since, share = step / 2, 0, kept
            continue
        if patience is not None and search.expired():
            break  # (the bound so far is valid; the caller sees the deadline)
        if offer is not None and base + score[picked].sum() + weight * sub[np.ix_(picked, picked)].sum() / 2 \
                > search.best_obj:
            offer(picked)
        if best <= max(target, enough) or not np.isfinite(target):
            break
        # the subgradient lives on the picked rows' top shares (and their mirrors): rank only those rows
        order = np.argsort(-share[picked], axis=1, kind="stable")
        mine = np.zeros((r, n), dtype=bool)
        mine[np.arange(r)[:, None], order] = cols < t[picked][:, None]
        taken = np.zeros((n, n))
        taken[picked] = mine & sub[picked]
        grad = taken - taken.T
        norm = float((grad * grad).sum()) / 2
        if norm == 0:
            break
        share = np.clip(share - step * (bound - target) / norm * grad, 0.0, weight) * sub
    return best, kept


# ---------------------------------------------------------------- regions


@dataclass
class Region:
    """A region that survived its bounds: fixed + candidates, its model, and what recursion needs."""

    fixed: list[int]
    cand: np.ndarray
    sub: np.ndarray  # adjacency among the candidates
    full: np.ndarray  # selected neighbours each candidate may have inside the region
    nodes: np.ndarray  # fixed then candidates
    pairs: tuple[np.ndarray, np.ndarray]
    model: Model
    bound: float = np.inf  # its LP's bound: no set of the region scores more


def _screen(search: Search, pool: Pool, fixed: list[int], cand: np.ndarray, capped: np.ndarray,
            rounds: int | None = None, enough: float = -np.inf,
            patience: int | None = None) -> tuple[float, np.ndarray, np.ndarray, np.ndarray] | None:
    """The cheap bounds of a region (see _bounded): None when peeling or the Lagrangian bound settles it,
    else (that bound, the candidates still alive, their adjacency, their room for selected neighbours)."""
    k, w = pool.max_n, pool.weight
    r = k - len(fixed)
    if len(cand) < r or search.expired():
        return None
    base = float(pool.score[fixed].sum()) + w * (len(fixed) * (len(fixed) - 1) / 2 + len(fixed) * r)
    full = np.where(capped[cand], k - 2, k - 1) - len(fixed)
    ids = pool.edge_ids(cand)
    sub = ids >= 0
    alive = _peel(search, pool.score[cand], w, base, r, np.minimum(full, r - 1), sub)
    if alive is None:
        return None
    cand, sub, full, ids = cand[alive], sub[np.ix_(alive, alive)], full[alive], ids[np.ix_(alive, alive)]
    bound, share = _lagrange_bound(search, base, r, np.minimum(full, r - 1), sub, pool.score[cand], w,
                                   lambda picked: _keep(search, pool, [*fixed, *cand[picked].tolist()]), rounds,
                                   pool.share[ids], enough, patience)
    pool.share[ids[sub]] = share[sub]  # the next region over these pairs starts from this split
    return None if search.beaten(bound) else (bound, cand, sub, full)


def _bounded(search: Search, pool: Pool, fixed: list[int], cand: np.ndarray, capped: np.ndarray) -> Region | None:
    """The region of max_n-sets holding `fixed` (each adjacent to all others) plus candidates from `cand`.

    None when peeling, the Lagrangian bound or its LP shows it holds no better set. `capped` marks
    candidates whose own anchored sets are already covered: they keep at most max_n − 2 selected neighbours.
    The LP's solution, rounded, may improve the best set on the way.
    """
    screened = _screen(search, pool, fixed, cand, capped)
    if screened is None:
        return None
    _, cand, sub, full = screened
    k = pool.max_n
    nodes = np.concatenate([np.asarray(fixed, dtype=int), cand])
    pairs = np.nonzero(np.triu(_sub_with_fixed(fixed, sub), 1))
    star = np.concatenate([np.full(len(fixed), k - 1), full + len(fixed)])
    model = _model(pool, nodes, star, len(fixed), (k, k), pairs)
    bound, x = _lp(search, model)
    if x is not None:
        _round(search, pool, nodes, x[: len(nodes)])
    if search.beaten(bound):
        return None
    return Region(list(fixed), cand, sub, full, nodes, pairs, model, bound)


def _round(search: Search, pool: Pool, nodes: np.ndarray, x: np.ndarray) -> None:
    """Take the region's candidates by LP value while count, budget and cap allow; keep the set if better."""
    from plugins.takeover.selection import objective_of

    chosen: list[int] = []
    spent, per = 0.0, {}
    for i in nodes[np.argsort(-x, kind="stable")]:
        if len(chosen) == pool.max_n:
            break
        if pool.budget is not None and spent + pool.cost[i] > pool.budget + 1e-9:
            continue
        if pool.cap is not None and per.get(pool.codes[i], 0) >= pool.cap:
            continue
        chosen.append(int(i))
        spent += float(pool.cost[i])
        per[pool.codes[i]] = per.get(pool.codes[i], 0) + 1
    if len(chosen) < pool.min_n:
        return
    obj = objective_of(chosen, pool.score, _pairs_of(pool, np.asarray(chosen)), pool.weight)[0]
    if obj > search.best_obj:
        search.best, search.best_obj = sorted(chosen), obj


def _keep(search: Search, pool: Pool, chosen: list[int]) -> None:
    """Record `chosen` as the best set if it is feasible and scores more."""
    from plugins.takeover.selection import feasible, objective_of

    idx = np.asarray(chosen, dtype=int)
    obj = objective_of(chosen, pool.score, _pairs_of(pool, idx), pool.weight)[0]
    if obj > search.best_obj and feasible(chosen, pool.cost, pool.codes, pool.min_n, pool.max_n, pool.budget,
                                          pool.cap):
        search.best, search.best_obj = sorted(chosen), obj


def _region(search: Search, pool: Pool, fixed: list[int], cand: np.ndarray, capped: np.ndarray,
            region: Region | None = None) -> None:
    """Settle a region (see _bounded): by its bounds, its MILP, or a second anchor inside it.

    Sets where some candidate j is adjacent to all others live in N[j] and recurse (j capped for the
    siblings after it); the rest have every candidate at ≤ max_n − 2 selected neighbours, an LP that
    must then fall below the best set — else the whole region goes to the MILP.
    """
    region = region or _bounded(search, pool, fixed, cand, capped)
    if region is None:
        return
    k, w = pool.max_n, pool.weight
    r = k - len(fixed)
    cand, sub, full = region.cand, region.sub, region.full
    if len(cand) <= SMALL_REGION or r <= 3:
        _milp(search, pool, region.nodes, region.model)
        return
    star_a = np.concatenate([np.full(len(fixed), k - 1), np.full(len(cand), k - 2)])
    bound_a, _ = _lp(search, _model(pool, region.nodes, star_a, len(fixed), (k, k), region.pairs))
    if not search.beaten(bound_a):
        _milp(search, pool, region.nodes, region.model)
        return
    local = capped.copy()
    inner = sub.sum(axis=1)
    order = np.argsort(-(pool.score[cand] + w / 2 * np.minimum(inner, r - 1)), kind="stable")
    for j in order:
        if full[j] < r - 1 or inner[j] < r - 1 or local[cand[j]]:
            continue  # j cannot be adjacent to all r − 1 others here
        _region(search, pool, [*fixed, int(cand[j])], cand[sub[j]], local)
        local[cand[j]] = True
        if search.expired():
            return


def _probe(search: Search, pool: Pool, anchors: np.ndarray) -> None:
    """Greedy dense sets in the anchors' neighbourhoods, offered as best sets (a cutoff before the bounds run).

    From anchor a: repeatedly take, among the candidates of N(a) paired with every one taken so far and
    keeping budget and cap, the one of largest s_j + pull·W·(such candidates it is paired with), until max_n.
    A heuristic only: a set counts when _keep finds it feasible and better; the proof does not rely on it.
    """
    k = pool.max_n
    for a in anchors:
        if search.expired():
            return
        cand = pool.neighbours(int(a))
        sub = pool.edge_ids(cand) >= 0
        score, cost, codes = pool.score[cand], pool.cost[cand], pool.codes[cand]
        for pull in PROBE_PULL:
            chosen = [int(a)]
            alive = np.ones(len(cand), dtype=bool)
            spent = float(pool.cost[a])
            per = {int(pool.codes[a]): 1}
            while len(chosen) < k:
                ok = alive.copy()
                if pool.budget is not None:
                    ok &= cost <= pool.budget - spent + 1e-9
                if pool.cap is not None:
                    ok &= np.array([per.get(int(c), 0) < pool.cap for c in codes])
                if not ok.any():
                    break
                value = np.where(ok, score + pull * pool.weight * sub[:, alive].sum(axis=1), -np.inf)
                j = int(np.argmax(value))
                chosen.append(int(cand[j]))
                alive &= sub[j]
                spent += float(cost[j])
                per[int(codes[j])] = per.get(int(codes[j]), 0) + 1
            if len(chosen) >= pool.min_n:
                _keep(search, pool, chosen)


def _sub_with_fixed(fixed: list[int], sub: np.ndarray) -> np.ndarray:
    """Adjacency among fixed + candidates (fixed are adjacent to every candidate and to each other)."""
    f = len(fixed)
    whole = np.zeros((f + len(sub), f + len(sub)), dtype=bool)
    whole[:f, :] = True
    whole[:, :f] = True
    np.fill_diagonal(whole, False)
    whole[f:, f:] = sub
    return whole


# ---------------------------------------------------------------- the whole pool


def _anchor_bounds(pool: Pool, anchors: np.ndarray) -> np.ndarray:
    """Upper bound on any set anchored at each of `anchors`: s_a + W(k−1) + best k−1 of s_j + W/2·min(k−2, c_j),
    c_j the neighbours j shares with a — or, on a pool too dense for the product adj·adj (100×: ≈ 10⁹ terms),
    all of j's neighbours (a weaker bound, one sort of the pair list)."""
    k, w = pool.max_n, pool.weight
    if float((pool.deg.astype(float) ** 2).sum()) > COMMON_PRODUCT_MAX:
        return _loose_anchor_bounds(pool, anchors)
    common = (pool.adj @ pool.adj).multiply(pool.adj).tocsr()  # per pair: how many neighbours both have
    out = np.empty(len(anchors))
    for t, a in enumerate(anchors):
        row = slice(common.indptr[a], common.indptr[a + 1])
        nb, shared = common.indices[row], common.data[row]
        gain = pool.score[nb] + w / 2 * np.minimum(shared, k - 2)
        if len(gain) < pool.deg[a]:  # pairs with no common neighbour are absent from the product
            rest = np.setdiff1d(pool.neighbours(a), nb)
            gain = np.concatenate([gain, pool.score[rest]])
        out[t] = pool.score[a] + w * (k - 1) + np.sort(gain)[::-1][: k - 1].sum()
    return out


def _loose_anchor_bounds(pool: Pool, anchors: np.ndarray) -> np.ndarray:
    """s_a + W(k−1) + the k−1 largest g_j = s_j + W/2·min(k−2, deg_j) over a's neighbours (see _anchor_bounds)."""
    from scipy.sparse import csr_matrix

    k, w, n = pool.max_n, pool.weight, len(pool.score)
    gain = pool.score + w / 2 * np.minimum(pool.deg, k - 2)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(-gain, kind="stable")] = np.arange(n)
    ranked = csr_matrix((gain[pool.adj.indices], rank[pool.adj.indices], pool.adj.indptr), shape=(n, n))
    ranked.sort_indices()  # each row's neighbours by decreasing gain
    entry, at = _entries(ranked.indptr, np.arange(n))
    first = entry - ranked.indptr[at] < k - 1
    top = np.bincount(at[first], ranked.data[entry[first]], minlength=n)
    return (pool.score + w * (k - 1) + top)[anchors]


def _pool_lagrange(search: Search, pool: Pool, rounds: int, patient: bool = False, most: int | None = None) -> float:
    """Upper bound on every case-A set by the pair split over the whole pool (see _lagrange_bound).

    A case-A set has at most max_n members, each with ≤ max_n − 2 selected neighbours, so it scores at
    most the max_n largest of s_i + (i's max_n − 2 largest shares α_ij) for any split α_ij + α_ji = W.
    The split starts from the one the anchor regions left (pool.share) and takes subgradient steps on the
    sparse pair graph; the lowest bound seen is returned. Budget and caps are relaxed (still a bound).
    Without a best set (−inf) there is nothing to aim at: one step, the bound of the starting split.
    """
    n, k, w = len(pool.score), pool.max_n, pool.weight
    nnz = pool.adj.nnz
    if nnz == 0 or n == 0:
        return float(np.sort(pool.score)[::-1][:k].sum()) if n else -np.inf
    indptr = pool.adj.indptr
    row = np.repeat(np.arange(n), pool.deg)
    mirror = pool.mirror()
    t = k - 2 if most is None else most
    share = pool.share[:nnz].copy()
    top = np.zeros(nnz, dtype=bool)  # entry among its row's t largest shares
    extra = np.zeros(n)  # per candidate: the sum of its t largest shares
    _row_tops(share, indptr, np.arange(n), t, top, extra)
    target = search.best_obj + search.slack()
    aim = search.best_obj - POOL_MARGIN * abs(search.best_obj)
    best = np.inf
    undo: list[tuple[np.ndarray, np.ndarray]] = []  # the shares changed since the best split (to restore it)
    for step in range(rounds):
        value = pool.score + extra
        picked = np.argpartition(-value, min(k, n) - 1)[: min(k, n)]
        bound = float(value[picked].sum())
        if bound < best:
            best = bound
            undo.clear()
        if best <= target or not np.isfinite(aim) or search.expired() or (
                not patient and step >= 60 and best > 1.02 * target):
            break  # proven, out of time, or hopeless (the LP decides; `patient`: no LP follows, keep lowering it)
        # the subgradient is nonzero only on the picked rows' top entries and their mirrors: update those and
        # re-rank only the rows they are in (the whole pool's ranking once, not every step: ×10 at 10×)
        inside = np.zeros(n, dtype=bool)
        inside[picked] = True
        own, _ = _entries(indptr, np.sort(picked))
        own = own[top[own]]
        touched = np.unique(np.concatenate([own, mirror[own]]))
        taken = top[touched] & inside[row[touched]]
        back = mirror[touched]
        grad = taken.astype(float) - (top[back] & inside[row[back]])
        norm = float((grad * grad).sum()) / 2
        if norm == 0:
            break
        undo.append((touched, share[touched]))
        share[touched] = np.clip(share[touched] - POOL_STEP * (bound - aim) / norm * grad, 0.0, w)
        _row_tops(share, indptr, np.unique(row[touched]), t, top, extra)
    for touched, before in reversed(undo):
        share[touched] = before
    pool.share[:nnz] = share
    return best


def _row_tops(share: np.ndarray, indptr: np.ndarray, rows: np.ndarray, t: int, top: np.ndarray,
              extra: np.ndarray) -> None:
    """For sorted CSR `rows`: mark each row's t largest shares in `top` (ties: first stored) and sum them in `extra`.

    Only rows longer than t with unequal shares are sorted (at the start most rows hold W/2 everywhere: 100×,
    3.4 million entries, 0.7 s for one sort of all)."""
    entry, at = _entries(indptr, rows)
    if not len(entry):
        extra[rows] = 0.0
        return
    count = indptr[rows + 1] - indptr[rows]
    first = np.cumsum(count) - count  # each row's first position in entry
    values = share[entry]
    rank = np.arange(len(entry)) - first[at]  # CSR order: the stable order of a row whose shares are all equal
    full = count > 0
    flat = count <= t
    flat[full] |= np.minimum.reduceat(values, first[full]) == np.maximum.reduceat(values, first[full])
    mixed = np.flatnonzero(~flat[at])
    if len(mixed):
        order = mixed[np.lexsort((-values[mixed], at[mixed]))]  # by row, largest share first (stable: by entry)
        sub_first = np.zeros(len(rows), dtype=np.int64)
        sub_first[~flat] = np.cumsum(count[~flat]) - count[~flat]
        rank[order] = np.arange(len(order)) - sub_first[at[order]]
    chosen = rank < t
    top[entry] = chosen
    extra[rows] = np.bincount(at[chosen], values[chosen], minlength=len(rows))


def _unanchored_bound(search: Search, pool: Pool, rounds: int = 12) -> float:
    """Upper bound on every set whose members all have ≤ max_n − 2 selected neighbours (case A).

    The LP with stars min(deg, k − 2): pairs inside a subset R get their y; every other pair is paid
    W/2 to each end through one aggregated variable per candidate (g_i ≤ star_i x_i, g_i ≤ Σ x over its
    pairs leaving R). That is exact on sets and a valid (slightly weaker) relaxation, so its LP value
    bounds case A for the whole pool; candidates the LP picks outside R join R with their neighbours
    and it is solved again.
    """
    cheap = _pool_lagrange(search, pool, POOL_LAGRANGE_ROUNDS)
    if search.beaten(cheap):
        return cheap
    n, k, w = len(pool.score), pool.max_n, pool.weight
    star = np.minimum(pool.deg, k - 2)
    inside = np.zeros(n, dtype=bool)
    inside[np.argsort(-(pool.score + w / 2 * star), kind="stable")[:FIRST_INSIDE]] = True
    bound = np.inf
    for _ in range(rounds):
        bound, x = _hybrid_lp(search, pool, inside, star)
        moved = (x > 1e-6) & ~inside
        if search.beaten(bound) or not moved.any() or search.expired():
            return bound
        inside[moved] = True
        inside[pool.adj[moved].indices] = True
    return bound


def _hybrid_lp(search: Search, pool: Pool, inside: np.ndarray, star: np.ndarray) -> tuple[float, np.ndarray]:
    """The case-A LP with y only for pairs inside R (see _unanchored_bound): (rigorous bound, x)."""
    from scipy.sparse import csr_matrix, hstack, identity, vstack

    n, w = len(pool.score), pool.weight
    coo = pool.adj.tocoo()
    upper = coo.row < coo.col
    both = upper & inside[coo.row] & inside[coo.col]
    model = _model(pool, np.arange(n), star, 0, (pool.min_n, pool.max_n), (coo.row[both], coo.col[both]),
                   degree=pool.deg)
    rows_n, cols = model.a.shape
    out = ~(inside[coo.row] & inside[coo.col])  # pairs paid through g
    cross = csr_matrix((np.ones(int(out.sum())), (coo.row[out], coo.col[out])), shape=(n, n))
    has = np.flatnonzero(np.diff(cross.indptr) > 0)
    g = len(has)
    folded = model.star_row[has] >= 0  # g joins the star row: Σ y + g ≤ star·x
    fold = csr_matrix((np.ones(int(folded.sum())), (model.star_row[has][folded], np.flatnonzero(folded))),
                      shape=(rows_n, g))
    own = np.flatnonzero(~folded)  # else its own row g − star·x ≤ 0
    cap = hstack([csr_matrix((-star[has[own]].astype(float), (np.arange(len(own)), has[own])),
                             shape=(len(own), cols)),
                  csr_matrix((np.ones(len(own)), (np.arange(len(own)), own)), shape=(len(own), g))])
    link = hstack([-cross[has], csr_matrix((g, cols - n)), identity(g, format="csr")])  # g − Σ_pairs x ≤ 0
    a = vstack([hstack([model.a, fold]), cap, link]).tocsr()
    b = np.concatenate([model.b, np.zeros(len(own) + g)])
    c = np.concatenate([model.c, np.full(g, w / 2)])
    hi = np.concatenate([model.hi, star[has].astype(float)])
    # interior point: twice as fast as simplex on this large degenerate LP; the bound is rebuilt from its duals
    bound, x = _lp(search, (c, a, b, np.zeros(len(c)), hi), method="highs-ipm")
    return bound, (x[:n] if x is not None else np.zeros(n))


def solve(pool: Pool, best: list[int] | None, best_obj: float, deadline: float,
          hard: float | None = None) -> tuple[Search, float]:
    """Search every anchor, then bound the unanchored sets; returns (search, their bound).

    Anchors go best bound first, three times: a pass of cheap bounds (peeling, Lagrangian) settles most,
    the rest get their LP, highest Lagrangian bound first (its rounding usually finds the optimum, which
    then settles the others by their cheap bounds again), and the survivors are solved against that cutoff.
    The best set is optimal when search.complete and the unanchored bound is not above it; complete is
    False when the deadline passed, and then search.bound is an upper bound on every set (see _open_bound); that
    bound may use the time up to `hard` (no later step needs it then).
    """
    search = Search(best, best_obj, deadline)
    last = deadline if hard is None else max(hard, deadline)
    capped = pool.deg < pool.max_n - 1
    anchors = np.flatnonzero(~capped)
    bounds = _anchor_bounds(pool, anchors)
    open_: dict[int, float] = {int(a): float(b) for a, b in zip(anchors, bounds, strict=True)}
    # a pool with many anchors above the best set (100×: 850; 10×: 280) may not be proven in time: case A and the
    # anchors that decide a GAP_GOAL gap are bounded first
    _probe(search, pool, anchors[np.argsort(-bounds, kind="stable")[:PROBES]])
    many = int((bounds > search.best_obj).sum()) > GAP_FIRST_ANCHORS
    # the anchors get all but CASE_A_RESERVE of the time left: if they run out, case A is still bounded by its
    # Lagrangian in the rest (without it the reported bound would be one step of it: 100×, W = 5: gap 2.7 %)
    search.deadline = time.perf_counter() + (1 - CASE_A_RESERVE) * max(deadline - time.perf_counter(), 0.0)

    def settled(a: int) -> None:  # every set anchored at a is covered (not so when the deadline cut it short)
        if search.complete:
            capped[a] = True
            open_.pop(a, None)

    screened: list[tuple[float, int]] = []
    case_a = _pool_lagrange(search, pool, POOL_LAGRANGE_ROUNDS, patient=True) if many else np.inf
    if search.beaten(case_a):  # case A settled: the anchors decide alone (a proof needs no global MILP after them)
        search.deadline = last
    gap_first = _gap_first(search, pool, anchors, bounds, capped, open_) if many else set()
    for t in np.argsort(-bounds, kind="stable"):
        if search.beaten(bounds[t]) or search.expired():
            break  # the rest bound lower still
        a = int(anchors[t])
        if a in gap_first:
            if a in open_:
                screened.append((open_[a], a))
            continue
        cheap = _screen(search, pool, [a], pool.neighbours(a), capped, LAGRANGE_FIRST)
        if cheap is None:
            settled(a)  # (its bound used fewer caps)
        else:
            screened.append((cheap[0], a))
            open_[a] = min(open_[a], cheap[0])
    survivors: list[int] = []
    for _, a in sorted(screened, key=lambda item: -item[0]):  # the most promising region's LP first
        if search.expired():
            return _cut_short(search, pool, open_, last, case_a)
        if _bounded(search, pool, [a], pool.neighbours(a), capped) is None:
            settled(a)
        else:
            survivors.append(a)
    for a in survivors:
        if search.expired():
            return _cut_short(search, pool, open_, last, case_a)
        _region(search, pool, [a], pool.neighbours(a), capped)
        settled(a)
    if search.expired():
        return _cut_short(search, pool, open_, last, case_a)
    search.deadline = deadline
    unanchored = case_a if search.beaten(case_a) else min(case_a, _unanchored_bound(search, pool))
    search.expired()  # an LP cut short by the deadline leaves no time for anything after either
    return _open_bound(search, pool, open_, unanchored), unanchored


def _gap_first(search: Search, pool: Pool, anchors: np.ndarray, bounds: np.ndarray, capped: np.ndarray,
               open_: dict[int, float]) -> set[int]:
    """The anchors whose bound is above the best set by more than GAP_AIM, each with its full Lagrangian bound (steps
    stop once it is below that line; one still above gets up to LAGRANGE_PATIENT more with a shrinking step), then
    the LP (≈ 1 s of CPU for a 100× region) of those still above: they decide the reported gap when the search runs
    out of time (100×, W = 5: 114 of 16,363 anchors, ≈ 3 s at load 6; none left for an LP).
    Settled ones are capped and leave open_; the others keep their lower bound there. Returns the anchors done."""
    done: set[int] = set()
    if not np.isfinite(search.best_obj) or search.best_obj <= 0:
        return done
    line = search.best_obj / (1 - GAP_AIM)
    for t in np.argsort(-bounds, kind="stable"):
        if bounds[t] <= line or search.expired():
            break
        a = int(anchors[t])
        cheap = _screen(search, pool, [a], pool.neighbours(a), capped, LAGRANGE_ROUNDS, line)
        if cheap is not None and cheap[0] > line and not search.expired():  # stalled above the line: shorter steps
            more = _screen(search, pool, [a], pool.neighbours(a), capped, LAGRANGE_PATIENT, line, LAGRANGE_PATIENCE)
            cheap = more if more is None or more[0] < cheap[0] else cheap
        if search.expired():
            break  # (cut short inside: its bound stays the one in open_)
        done.add(a)
        if cheap is None:
            capped[a] = True
            open_.pop(a, None)
        else:
            open_[a] = min(open_[a], cheap[0])
        line = search.best_obj / (1 - GAP_AIM)  # (a set its steps offered may have raised the best set)
    for a in sorted((a for a in done if a in open_), key=lambda a: -open_[a]):  # still above the line: their LPs
        if open_[a] <= line or search.expired():
            break
        region = _bounded(search, pool, [a], pool.neighbours(a), capped)
        if search.expired():
            break
        if region is None:
            capped[a] = True
            open_.pop(a, None)
        else:
            open_[a] = min(open_[a], region.bound)
        line = search.best_obj / (1 - GAP_AIM)  # (its LP's rounding may have raised the best set)
    return done


def _cut_short(search: Search, pool: Pool, open_: dict[int, float], deadline: float,
               case_a: float = np.inf) -> tuple[Search, float]:
    """The anchors ran out of their time: bound case A by its Lagrangian until the real deadline (unless `case_a`,
    computed before the anchors, already settles it), then report."""
    search.deadline = deadline
    if not search.beaten(case_a):
        case_a = min(case_a, _pool_lagrange(search, pool, CUT_SHORT_ROUNDS, patient=True))
    search.complete = False
    return _open_bound(search, pool, open_, case_a), case_a


def _open_bound(search: Search, pool: Pool, open_: dict[int, float], unanchored: float) -> Search:
    """Set search.bound when the search was cut short: no set scores more than this (None if complete).

    A set with a member paired with all the others is in the region of its first settled such member
    (covered: ≤ the best set) or, if none is settled, in the region of each of them, which is still open
    with a valid bound (its anchor bound, or its Lagrangian bound, both computed with caps only on settled
    anchors). Every other set is case A: the unanchored bound, or one step of its Lagrangian if not reached.
    """
    if search.complete:
        return search
    if not np.isfinite(unanchored):
        unanchored = _pool_lagrange(search, pool, 1)
    search.bound = max([search.best_obj, unanchored, *open_.values()])
    return search
