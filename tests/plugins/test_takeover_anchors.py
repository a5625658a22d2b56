"""The anchor decomposition of the contiguity selection: exact against brute force on small dense pools."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pandas as pd
import pytest

from plugins.takeover import anchors, selection
from plugins.takeover.selection import Selection, _adjacency, feasible, objective_of
from plugins.takeover.selection import select as _select
from tests.conftest import NO_SOLVER_LIMIT_S as NO_LIMIT
from tests.plugins.takeover_oracle import best_objective


def select(*args, **kwargs) -> Selection:  # noqa: ANN002, ANN003
    """select() without the product's 10-second limit."""
    return _select(*args, time_limit=NO_LIMIT, **kwargs)


def _pool(seed: int, n: int, density: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scores, costs, street codes and a dense random pair graph (clusters of near-equal scores)."""
    rng = np.random.default_rng(seed)
    score = np.round(rng.uniform(40, 90, n), 2)
    cost = np.round(rng.uniform(1, 20, n), 1)
    codes = rng.integers(0, 3, n)
    pairs = np.array([(i, j) for i, j in itertools.combinations(range(n), 2) if rng.random() < density],
                     dtype=int).reshape(-1, 2)
    return score, cost, codes, pairs


def _brute(score: np.ndarray, cost: np.ndarray, codes: np.ndarray, pairs: np.ndarray, w: float, lo: int, hi: int,
           budget: float | None, cap: int | None, unanchored_only: bool | None = None) -> float:
    """Best objective over feasible sets (the product's 1e-6 budget tolerance); only sets without (True) or with
    (False) a member paired with all the others at size `hi`; -inf when none."""
    best = best_objective(score, cost, codes, pairs, w, lo, hi, budget, cap, tol=1e-6,
                          anchored=None if unanchored_only is None else not unanchored_only)
    return -np.inf if best is None else best


CASES = [  # (min, max, budget, per-street cap, weight, density)
    (2, 5, None, None, 5.0, 0.6),
    (4, 8, None, None, 4.0, 0.7),
    (3, 8, 70.0, 3, 6.0, 0.75),
    (3, 6, None, None, 10.0, 0.5),
    (4, 6, None, None, 3.0, 0.8),
    (3, 5, 40.0, None, 8.0, 0.6),
    (2, 6, None, 3, 6.0, 0.7),
    (3, 6, 55.0, 2, 12.0, 0.6),
]


def _solve(score: np.ndarray, cost: np.ndarray, codes: np.ndarray, pairs: np.ndarray, w: float, lo: int, hi: int,
           budget: float | None, cap: int | None, start_obj: float = -np.inf) -> tuple[anchors.Search, float]:
    pool = anchors.Pool(score, cost, codes, _adjacency(len(score), pairs), w, lo, hi, budget, cap)
    return anchors.solve(pool, None, start_obj, time.perf_counter() + NO_LIMIT)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(("lo", "hi", "budget", "cap", "w", "density"), CASES)
@pytest.mark.parametrize(("small_region", "first_inside", "lagrange"), [(0, 3, 0), (24, 200, None)])
def test_anchor_search_equals_brute_force(seed: int, lo: int, hi: int, budget: float | None, cap: int | None,
                                          w: float, density: float, small_region: int, first_inside: int,
                                          lagrange: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Proven ⇒ the brute-force optimum; never a set above it; best set or unanchored bound ≥ the optimum.

    small_region=0 forces every region through its LPs and the second-anchor recursion; first_inside=3
    makes the case-A LP start with pair variables for only three candidates (aggregated terms elsewhere);
    lagrange=0 takes no subgradient step (the Lagrangian bounds stay at the even split, the LPs decide).
    """
    monkeypatch.setattr(anchors, "SMALL_REGION", small_region)
    monkeypatch.setattr(anchors, "FIRST_INSIDE", first_inside)
    if lagrange is not None:
        for name in ("LAGRANGE_ROUNDS", "LAGRANGE_FIRST", "POOL_LAGRANGE_ROUNDS"):
            monkeypatch.setattr(anchors, name, lagrange)
    score, cost, codes, pairs = _pool(seed, 12, density)
    expected = _brute(score, cost, codes, pairs, w, lo, hi, budget, cap)
    search, unanchored = _solve(score, cost, codes, pairs, w, lo, hi, budget, cap)
    assert unanchored >= _brute(score, cost, codes, pairs, w, lo, hi, budget, cap, unanchored_only=True) - 1e-6
    assert search.complete
    if search.best is not None:
        assert feasible(search.best, cost, codes, lo, hi, budget, cap)
        assert objective_of(search.best, score, pairs, w)[0] == pytest.approx(search.best_obj)
    assert search.best_obj <= expected + 1e-6
    assert max(search.best_obj, unanchored) >= expected - 1e-6  # together they bound every set
    if search.beaten(unanchored):
        assert search.best_obj == pytest.approx(expected, abs=1e-6)
    anchored = _brute(score, cost, codes, pairs, w, lo, hi, budget, cap, unanchored_only=False)
    assert search.best_obj >= anchored - 1e-6  # every anchored region was searched
    if np.isfinite(anchored):  # pruning against a cutoff just below the best anchored set must not lose it
        tight, _ = _solve(score, cost, codes, pairs, w, lo, hi, budget, cap, start_obj=anchored - 0.01)
        assert tight.complete and tight.best is not None and tight.best_obj == pytest.approx(anchored)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("lo", "hi", "budget", "cap", "w", "density"), CASES[::2])
def test_gap_first_search_with_patient_steps_equals_brute_force(seed: int, lo: int, hi: int, budget: float | None,
                                                                cap: int | None, w: float, density: float,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The path of a pool with many anchors above the best set (case A first, then every anchor above the aim line
    with its Lagrangian bound stopped at that line or continued with halving steps, then their LPs), given all the
    time it needs: it still proves the brute-force optimum (issue 26 item 2, the 100× gap)."""
    aim, patience = ((0.0, 1), (0.02, 3))[seed % 2]
    monkeypatch.setattr(anchors, "GAP_FIRST_ANCHORS", 0)
    monkeypatch.setattr(anchors, "GAP_AIM", aim)
    monkeypatch.setattr(anchors, "LAGRANGE_PATIENCE", patience)
    monkeypatch.setattr(anchors, "LAGRANGE_ROUNDS", 2)  # (most anchors then go on to the patient steps)
    score, cost, codes, pairs = _pool(700 + seed, 12, density)
    expected = _brute(score, cost, codes, pairs, w, lo, hi, budget, cap)
    cand, named = _named(score, cost, codes, pairs)
    sel = select(cand, lo, hi, budget, cap, w, named)
    assert sel.optimal
    assert sel.objective == pytest.approx(expected, abs=1e-4)
    search, unanchored = _solve(score, cost, codes, pairs, w, lo, hi, budget, cap, start_obj=expected - 3.0)
    assert search.complete and max(search.best_obj, unanchored) >= expected - 1e-6


def test_anchor_search_proves_a_clique_pool_and_recurses(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dense pool whose optimum is a clique: proven by anchors alone, also with every region recursing."""
    rng = np.random.default_rng(7)
    n = 16
    score = np.round(rng.uniform(60, 90, n), 2)
    pairs = np.array([(i, j) for i, j in itertools.combinations(range(n), 2) if rng.random() < 0.75], dtype=int)
    expected = _brute(score, np.zeros(n), np.zeros(n, dtype=int), pairs, 5.0, 6, 6, None, None)
    for small in (0, 24):
        monkeypatch.setattr(anchors, "SMALL_REGION", small)
        search, unanchored = _solve(score, np.zeros(n), np.zeros(n, dtype=int), pairs, 5.0, 6, 6, None, None)
        assert search.complete and search.beaten(unanchored)
        assert search.best_obj == pytest.approx(expected)


def test_unanchored_bound_covers_sets_without_an_anchor() -> None:
    """A 6-cycle with max 6: no member is adjacent to all others, so only the case-A bound can cover it."""
    n = 6
    score = np.full(n, 10.0)
    pairs = np.array([(i, (i + 1) % n) for i in range(n)], dtype=int)
    pairs = np.sort(pairs, axis=1)
    search, unanchored = _solve(score, np.zeros(n), np.zeros(n, dtype=int), pairs, 5.0, 6, 6, None, None)
    assert search.best is None  # nobody has 5 neighbours
    assert unanchored >= 60.0 + 5.0 * 6 - 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_select_on_dense_pools_equals_brute_force(seed: int) -> None:
    """Through select(): dense pair graphs where the decomposition runs, with budget and cap variants."""
    score, cost, codes, pairs = _pool(100 + seed, 13, 0.65)
    cand, named = _named(score, cost, codes, pairs)
    for lo, hi, budget, cap in [(3, 6, None, None), (3, 6, 50.0, None), (2, 6, None, 2)]:
        sel = select(cand, lo, hi, budget, cap, 7.0, named)
        assert sel.optimal
        assert sel.objective == pytest.approx(_brute(score, cost, codes, pairs, 7.0, lo, hi, budget, cap), abs=1e-4)


@pytest.mark.parametrize("seed", range(6))
def test_fallback_milp_after_a_complete_anchor_search_is_exact(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Case-A bound withheld: the global MILP (star cuts at max_n − 2) must still prove the brute-force optimum.

    Covers both outcomes: it finds an unanchored set above the cutoff, or none (then the anchors' set stands).
    """
    monkeypatch.setattr(anchors, "_unanchored_bound", lambda search, pool: np.inf)
    score, cost, codes, pairs = _pool(200 + seed, 12, 0.4 + 0.1 * (seed % 4))
    cand, named = _named(score, cost, codes, pairs)
    for lo, hi, budget, cap in [(3, 5, None, None), (2, 6, 60.0, None), (3, 6, None, 2)]:
        sel = select(cand, lo, hi, budget, cap, 9.0, named)
        assert sel.optimal
        assert sel.objective == pytest.approx(_brute(score, cost, codes, pairs, 9.0, lo, hi, budget, cap), abs=1e-4)


def _named(score: np.ndarray, cost: np.ndarray, codes: np.ndarray, pairs: np.ndarray) -> tuple[pd.DataFrame, list]:
    """A pool as select() takes it: a candidates frame and pairs of compound ids."""
    ids = [f"c{i:02d}" for i in range(len(score))]
    cand = pd.DataFrame({"compound_id": ids, "street": [f"s{c}" for c in codes], "score": score,
                         "takeover_cost": cost})
    return cand, [(ids[a], ids[b]) for a, b in pairs]


def _cocktail_pool(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Six strong candidates paired with all but one of the others (degrees 4 = max_n − 2) among weaker noise."""
    rng = np.random.default_rng(seed)
    n = 14
    score = np.concatenate([np.full(6, 70.0), np.round(rng.uniform(40, 75, n - 6), 2)])
    strong = [(i, j) for i, j in itertools.combinations(range(6), 2) if j != i + 3]
    noise = [(i, j) for i, j in itertools.combinations(range(n), 2) if j >= 6 and rng.random() < 0.3]
    return score, np.ones(n), rng.integers(0, 3, n), np.array(sorted(strong + noise), dtype=int)


@pytest.mark.parametrize("seed", range(4))
def test_unanchored_optimum_is_found_by_the_fallback_and_covered_by_the_bound(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """An optimum where nobody is paired with all others: the case-A bound must cover it, the MILP find it."""
    score, cost, codes, pairs = _cocktail_pool(seed)
    expected = _brute(score, cost, codes, pairs, 10.0, 6, 6, None, None)
    search, unanchored = _solve(score, cost, codes, pairs, 10.0, 6, 6, None, None)
    assert unanchored >= _brute(score, cost, codes, pairs, 10.0, 6, 6, None, None, unanchored_only=True) - 1e-6
    monkeypatch.setattr(anchors, "_unanchored_bound", lambda search, pool: np.inf)
    monkeypatch.setattr(selection, "contiguity_heuristic", lambda *args, **kwargs: None)  # no head start
    ids = [f"c{i:02d}" for i in range(len(score))]
    cand = pd.DataFrame({"compound_id": ids, "street": [f"s{c}" for c in codes], "score": score,
                         "takeover_cost": cost})
    sel = select(cand, 6, 6, None, None, 10.0, [(ids[a], ids[b]) for a, b in pairs])
    assert sel.optimal and sel.objective == pytest.approx(expected, abs=1e-4)


def test_a_heuristic_set_with_a_dominated_candidate_still_seeds_the_cutoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last candidate is dominated (left out of the reduced pool); a start set holding it must not break."""
    score, cost, codes, pairs = _pool(5, 12, 0.6)
    score[-1] = 1.0  # far below everyone, few pairs: dominated
    pairs = pairs[(pairs != len(score) - 1).all(axis=1)]
    monkeypatch.setattr(selection, "contiguity_heuristic", lambda *args, **kwargs: [0, 1, len(score) - 1])
    ids = [f"c{i:02d}" for i in range(len(score))]
    cand = pd.DataFrame({"compound_id": ids, "street": [f"s{c}" for c in codes], "score": score,
                         "takeover_cost": cost})
    sel = select(cand, 3, 5, None, None, 6.0, [(ids[a], ids[b]) for a, b in pairs])
    assert sel.dominated >= 1 and sel.optimal
    assert sel.objective == pytest.approx(_brute(score, cost, codes, pairs, 6.0, 3, 5, None, None), abs=1e-4)


def _restricted_best(score: np.ndarray, pairs: np.ndarray, w: float, r: int, room: np.ndarray) -> float:
    """Brute force: the best Σ score + w × pairs over r-subsets where every member has ≤ room_i selected neighbours."""
    n = len(score)
    adj = np.zeros((n, n), dtype=int)
    adj[pairs[:, 0], pairs[:, 1]] = adj[pairs[:, 1], pairs[:, 0]] = 1
    best = -np.inf
    for chosen in itertools.combinations(range(n), r):
        idx = list(chosen)
        inner = adj[np.ix_(idx, idx)]
        if (inner.sum(axis=1) <= room[idx]).all():
            best = max(best, float(score[idx].sum() + w * inner.sum() / 2))
    return best


@pytest.mark.parametrize("seed", range(8))
def test_lagrangian_region_bound_covers_every_set_for_any_split(seed: int) -> None:
    """Whatever split it starts from and however many steps it takes, the bound is ≥ the region's best set,
    and every set it offers is an r-subset whose true value the callback can check."""
    rng = np.random.default_rng(300 + seed)
    n, r, w = 10, int(rng.integers(3, 7)), float(rng.uniform(2, 12))
    score, _, _, pairs = _pool(300 + seed, n, float(rng.uniform(0.3, 0.9)))
    room = rng.integers(1, r, n)  # room_i ≤ r − 1, some tighter (capped candidates)
    sub = _adjacency(n, pairs).toarray() > 0
    base = float(rng.uniform(0, 50))
    expected = base + _restricted_best(score, pairs, w, r, room)
    raw = rng.uniform(0, w, (n, n))
    split = np.where(np.triu(sub, 1), raw, 0.0)
    split = split + np.where(np.tril(sub, -1), w - split.T, 0.0)  # α_ij + α_ji = W on every pair
    offered: list[np.ndarray] = []
    for target, rounds, start, enough, patience in [
            (-np.inf, 1, None, -np.inf, None), (expected - 5.0, 40, split, -np.inf, None),
            (expected + 1.0, 40, None, -np.inf, None),
            # stopping at a line above the best set, and halving a stalled step (from the best split again)
            (expected - 5.0, 60, split, expected + 0.5, 2), (expected - 20.0, 80, None, -np.inf, 1),
            (expected - 0.01, 80, split, expected + 3.0, 3)]:
        search = anchors.Search(None, target, time.perf_counter() + NO_LIMIT)
        bound, kept = anchors._lagrange_bound(search, base, r, room, sub, score, w, offered.append, rounds, start,
                                              enough, patience)
        assert bound >= expected - 1e-6
        assert np.allclose((kept + kept.T)[sub], w) and (kept >= 0).all()  # still a split of each pair
    assert all(len(set(p.tolist())) == r for p in offered)


@pytest.mark.parametrize("seed", range(6))
def test_pool_lagrangian_covers_every_unanchored_set(seed: int) -> None:
    """The whole-pool case-A bound is ≥ the best set without an anchor, from a random starting split."""
    score, cost, codes, pairs = _pool(400 + seed, 12, 0.5 + 0.05 * seed)
    lo, hi, w = 3, 6, 6.0
    pool = anchors.Pool(score, cost, codes, _adjacency(len(score), pairs), w, lo, hi, None, None)
    rng = np.random.default_rng(seed)
    raw = rng.uniform(0, w, pool.adj.nnz)
    mirror = pool.mirror()
    first = np.repeat(np.arange(len(score)), pool.deg) < pool.adj.indices
    pool.share[: pool.adj.nnz] = np.where(first, raw, w - raw[mirror])
    unanchored = _brute(score, cost, codes, pairs, w, lo, hi, None, None, unanchored_only=True)
    for best in (-np.inf, unanchored - 10.0, unanchored - 0.5):
        search = anchors.Search(None, best, time.perf_counter() + NO_LIMIT)
        assert anchors._pool_lagrange(search, pool, 300) >= unanchored - 1e-6


def _clique_pool() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """16 candidates, dense pairs: the optimum of 6 is anchored (a member paired with all the others)."""
    rng = np.random.default_rng(7)
    score = np.round(rng.uniform(60, 90, 16), 2)
    pairs = np.array([(i, j) for i, j in itertools.combinations(range(16), 2) if rng.random() < 0.75], dtype=int)
    return score, np.zeros(16), np.zeros(16, dtype=int), pairs


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("calls", [0, 3, 12, 40])
@pytest.mark.parametrize("gap_first", [False, True])
def test_a_search_cut_short_still_bounds_every_set(seed: int, calls: int, gap_first: bool,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The deadline passes after `calls` checks (a counter, not a clock): unproven, and search.bound is ≥
    the brute-force optimum (what select() reports as objective_bound and gap). Seed 4: the clique pool,
    where the open anchors' bounds (not the case-A one) must cover the anchored optimum. gap_first: the
    path of a pool with many anchors above the best set (case A, then the anchors above the gap line)."""
    if gap_first:
        monkeypatch.setattr(anchors, "GAP_FIRST_ANCHORS", 0)
        monkeypatch.setattr(anchors, "GAP_AIM", 0.001)
        monkeypatch.setattr(anchors, "LAGRANGE_PATIENCE", 2)  # (the patient steps too, halving often)
    left = [calls]

    def expired(self: anchors.Search) -> bool:
        if left[0] <= 0:
            self.complete = False
            return True
        left[0] -= 1
        return False

    monkeypatch.setattr(anchors.Search, "expired", expired)
    lo, hi, budget, cap, w, density = CASES[seed % len(CASES)]
    score, cost, codes, pairs = _pool(500 + seed, 12, density)
    if seed == 4:
        (score, cost, codes, pairs), (lo, hi, budget, cap, w) = _clique_pool(), (6, 6, None, None, 5.0)
    expected = _brute(score, cost, codes, pairs, w, lo, hi, budget, cap)
    search, _ = _solve(score, cost, codes, pairs, w, lo, hi, budget, cap)
    if search.complete:  # finished within the allowance: no bound needed (the proof decides)
        assert search.bound is None
        return
    assert search.bound is not None and search.bound >= expected - 1e-6
    assert search.bound >= search.best_obj


def _pool_lagrange_reference(search: anchors.Search, pool: anchors.Pool, rounds: int) -> float:
    """The whole-pool Lagrangian re-ranking every row at every step (the definition; the product re-ranks only
    the rows a step changes)."""
    n, k, w, nnz = len(pool.score), pool.max_n, pool.weight, pool.adj.nnz
    row = np.repeat(np.arange(n), pool.deg)
    mirror, start, share = pool.mirror(), pool.adj.indptr[row], pool.share[:nnz].copy()
    target = search.best_obj + search.slack()
    aim = search.best_obj - anchors.POOL_MARGIN * abs(search.best_obj)
    best = np.inf
    for step in range(rounds):
        order = np.lexsort((-share, row))
        top = np.zeros(nnz, dtype=bool)
        top[order] = np.arange(nnz) - start[order] < k - 2
        value = pool.score + np.bincount(row[top], share[top], minlength=n)
        picked = np.argpartition(-value, min(k, n) - 1)[: min(k, n)]
        bound = float(value[picked].sum())
        best = min(best, bound)
        if best <= target or not np.isfinite(aim) or (step >= 60 and best > 1.02 * target):
            break
        inside = np.zeros(n, dtype=bool)
        inside[picked] = True
        taken = (top & inside[row]).astype(float)
        grad = taken - taken[mirror]
        norm = float((grad * grad).sum()) / 2
        if norm == 0:
            break
        share = np.clip(share - anchors.POOL_STEP * (bound - aim) / norm * grad, 0.0, w)
    return best


@pytest.mark.parametrize("seed", range(4))
def test_pool_lagrangian_reranks_only_what_a_step_changes(seed: int) -> None:
    """The incremental whole-pool Lagrangian gives the bound of re-ranking every row at every step, and leaves
    the best split it saw in the pool (still a split: α_ij + α_ji = W); edge_ids and sub equal SciPy's slicing."""
    score, cost, codes, pairs = _pool(600 + seed, 40, 0.35)
    lo, hi, w = 3, 6 + seed, 5.0
    rng = np.random.default_rng(seed)
    for best in (1.0, 0.97, 0.9):
        pool = anchors.Pool(score, cost, codes, _adjacency(len(score), pairs), w, lo, hi, None, None)
        raw = np.round(rng.uniform(0, w, pool.adj.nnz), 1)  # ties between shares: the ranking's order matters
        first = np.repeat(np.arange(len(score)), pool.deg) < pool.adj.indices
        pool.share[: pool.adj.nnz] = np.where(first, raw, w - raw[pool.mirror()])
        start = pool.share.copy()
        scale = float(np.sort(score)[::-1][:hi].sum()) + w * hi
        expected = _pool_lagrange_reference(anchors.Search(None, best * scale, time.perf_counter() + NO_LIMIT),
                                            _with_share(pool, start), 150)
        got = anchors._pool_lagrange(anchors.Search(None, best * scale, time.perf_counter() + NO_LIMIT), pool, 150)
        assert got == pytest.approx(expected, abs=1e-9)
        kept = pool.share[: pool.adj.nnz]
        assert np.allclose(kept + kept[pool.mirror()], w) and (kept >= 0).all()
        one_step = anchors._pool_lagrange(anchors.Search(None, -np.inf, time.perf_counter() + NO_LIMIT), pool, 1)
        assert one_step == pytest.approx(got, abs=1e-9)  # the split kept is the one that gave the bound
    nodes = rng.permutation(len(score))[:25]
    assert (pool.edge_ids(nodes) == pool._ids[nodes][:, nodes].toarray() - 1).all()
    assert (pool.sub(nodes) == (pool.adj[nodes][:, nodes].toarray() > 0)).all()
    assert pool.sub(nodes).dtype == bool and pool.sub(nodes[:0]).shape == (0, 0)


def _with_share(pool: anchors.Pool, share: np.ndarray) -> anchors.Pool:
    """A copy of `pool` starting from `share`."""
    other = anchors.Pool(pool.score, pool.cost, pool.codes, pool.adj.copy(), pool.weight, pool.min_n, pool.max_n,
                         pool.budget, pool.cap)
    other.share[:] = share
    return other


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize(("lo", "hi", "budget", "cap", "w", "density"), CASES)
def test_anchor_search_with_loose_bounds_and_no_probes_equals_brute_force(
        seed: int, lo: int, hi: int, budget: float | None, cap: int | None, w: float, density: float,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The dense-pool path (anchor bounds without common-neighbour counts; case A and the anchors above the
    gap line first) and no probe sets: still exact."""
    monkeypatch.setattr(anchors, "COMMON_PRODUCT_MAX", 0.0)
    monkeypatch.setattr(anchors, "PROBES", 0)
    monkeypatch.setattr(anchors, "GAP_FIRST_ANCHORS", 0)
    monkeypatch.setattr(anchors, "GAP_GOAL", 0.001)
    score, cost, codes, pairs = _pool(700 + seed, 12, density)
    expected = _brute(score, cost, codes, pairs, w, lo, hi, budget, cap)
    cutoff = -np.inf if seed == 0 else expected - 5.0  # (seed 1: a known value, so the gap-first pass has a line)
    search, unanchored = _solve(score, cost, codes, pairs, w, lo, hi, budget, cap, start_obj=cutoff)
    assert search.complete and search.best_obj <= expected + 1e-6
    assert max(search.best_obj, unanchored) >= expected - 1e-6
    if search.beaten(unanchored):
        assert search.best_obj == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_anchor_bounds_and_probes_against_brute_force(seed: int) -> None:
    """Both anchor bounds cover every set anchored at their anchor (the loose one ≥ the tight one), and the
    probes only ever record a feasible set at its true value, never above the optimum."""
    lo, hi, budget, cap, w, density = CASES[seed % len(CASES)]
    score, cost, codes, pairs = _pool(800 + seed, 12, density + 0.1)
    pool = anchors.Pool(score, cost, codes, _adjacency(len(score), pairs), w, lo, hi, budget, cap)
    candidates = np.flatnonzero(pool.deg >= hi - 1)
    tight, loose = anchors._anchor_bounds(pool, candidates), anchors._loose_anchor_bounds(pool, candidates)
    assert (loose >= tight - 1e-9).all()
    for a, bound in zip(candidates, tight, strict=True):
        others = pool.neighbours(int(a))  # sets of size hi holding a and hi − 1 of its neighbours (relaxed: no budget)
        mask = np.isin(np.arange(len(score)), np.r_[others, a])
        idx = np.flatnonzero(mask)
        local = np.array([(np.searchsorted(idx, i), np.searchsorted(idx, j)) for i, j in pairs
                          if mask[i] and mask[j]], dtype=int).reshape(-1, 2)
        at = int(np.searchsorted(idx, a))
        best = best_objective(np.where(np.arange(len(idx)) == at, score[idx] + 1e6, score[idx]), np.zeros(len(idx)),
                              np.zeros(len(idx), dtype=int), local, w, hi, hi, None, None, anchored=True)
        if best is not None:  # (the 1e6 forces a in; every other member is a's neighbour, so a is the anchor)
            assert best - 1e6 <= bound + 1e-6
    search = anchors.Search(None, -np.inf, time.perf_counter() + NO_LIMIT)
    anchors._probe(search, pool, candidates)
    if search.best is not None:
        assert feasible(search.best, cost, codes, lo, hi, budget, cap)
        assert objective_of(search.best, score, pairs, w)[0] == pytest.approx(search.best_obj)
        assert search.best_obj <= _brute(score, cost, codes, pairs, w, lo, hi, budget, cap) + 1e-6
