"""Brute force for the takeover selection tests: the best objective over every subset of a small pool, vectorised.

Every subset of n ≤ 16 candidates is a row of a 2ⁿ × n boolean matrix; count, cost, per-street counts, selected
pairs and objective are matrix products, so the exact answer of a 12-candidate pool takes milliseconds instead of
the seconds a subset-by-subset loop spends in pandas. Independent of the product's code on purpose.
"""

from __future__ import annotations

import numpy as np


def subsets(n: int) -> np.ndarray:
    """Every subset of range(n) as a row of a (2ⁿ, n) boolean matrix."""
    if n > 20:
        raise ValueError(f"{n} candidates: too many for brute force")
    return ((np.arange(1 << n)[:, None] >> np.arange(n)) & 1).astype(bool)


def best_objective(score: np.ndarray, cost: np.ndarray, street: np.ndarray, pairs: np.ndarray, weight: float,
                   lo: int, hi: int, budget: float | None, cap: int | None, *, anchored: bool | None = None,
                   tol: float = 1e-9) -> float | None:
    """max Σ score + weight × selected pairs over sets with lo ≤ size ≤ hi, Σ cost ≤ budget (+ tol) and at most
    `cap` per street; None when no set is feasible.

    anchored=True keeps only sets of size `hi` in which a member is paired with all the others; anchored=False
    keeps every other feasible set (None: no such filter).
    """
    score, cost = np.asarray(score, dtype=float), np.asarray(cost, dtype=float)
    pairs = np.asarray(pairs, dtype=int).reshape(-1, 2)
    x = subsets(len(score))
    size = x.sum(axis=1)
    ok = (size >= lo) & (size <= hi)
    if budget is not None:
        ok &= x @ cost <= budget + tol
    if cap is not None:
        for code in np.unique(street):
            ok &= x[:, np.asarray(street) == code].sum(axis=1) <= cap
    inside = x[:, pairs[:, 0]] & x[:, pairs[:, 1]] if len(pairs) else np.zeros((len(x), 0), dtype=bool)
    if anchored is not None:
        adj = np.zeros((len(score), len(score)), dtype=int)
        adj[pairs[:, 0], pairs[:, 1]] = adj[pairs[:, 1], pairs[:, 0]] = 1
        degree = x.astype(int) @ adj  # neighbours inside the set, per candidate
        full = (size == hi) & (size >= 2) & (x & (degree == (size - 1)[:, None])).any(axis=1)
        ok &= full if anchored else ~full
    if not ok.any():
        return None
    objective = x[ok].astype(float) @ score + weight * inside[ok].sum(axis=1)
    return float(objective.max())
