"""B6: takeover selection — objective ≥ greedy (always), proven optimal, time for the demo pool."""

from __future__ import annotations

import time

from benchmarks.env import Env, check
from benchmarks.harness import Result


def verify(sel: object) -> None:
    """The exact selection is never worse than the greedy baseline."""
    g = sel.baseline_greedy_objective
    check(g is None or sel.objective >= g - 1e-6, f"B6: objective {sel.objective} < greedy {g}")


def run(env: Env) -> list[Result]:
    """run_selection (score + MILP) timed against the greedy baseline on the same scored pool."""
    import numpy as np

    from plugins.takeover.mapping import settings_for
    from plugins.takeover.selection import greedy
    from plugins.takeover.service import run_selection

    ctx = env.context()
    settings = settings_for(ctx)
    rows = []
    for weight in (0.0, 5.0):
        times, cpu = [], []
        for _ in range(max(1, env.repeats // 2)):
            with ctx.session(readonly=True) as s:
                t0, c0 = time.perf_counter(), time.process_time()
                sel, scored = run_selection(s, settings, 10, 15, contiguity_weight=weight)
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
        verify(sel)
        score = scored["score"].to_numpy(dtype=float)
        cost = np.zeros(len(score))
        street = scored["street"].astype(str).to_numpy()
        t0 = time.perf_counter()
        greedy(score, cost, street, 10, 15, None, None)
        t_g = time.perf_counter() - t0
        rows.append(Result(f"B6 takeover selection (W={weight:g})", env.scale, env.backend,
                           "score + exact MILP", "greedy baseline only", float(np.median(times)), max(t_g, 1e-6),
                           "objective ≥ greedy; optimal", sel.objective >= (sel.baseline_greedy_objective or 0) - 1e-6
                           and sel.optimal, f"{len(scored):,} candidates, {sel.dominated} dominated",
                           note=f"objective {sel.objective:.2f} vs greedy {sel.baseline_greedy_objective or 0:.2f}, "
                                f"optimal={sel.optimal}, {_bound(sel)}solve {sel.solve_seconds:.2f} s "
                                f"(process CPU {float(np.median(cpu)):.2f} s of {float(np.median(times)):.2f} s wall)"))
    return rows


def _bound(sel: object) -> str:
    """The solver's proven upper bound when it stopped before a proof ("" when optimal or unknown)."""
    if sel.optimal:
        return ""
    if sel.objective_bound is None:
        return "no bound proven yet, "
    return f"bound {sel.objective_bound:.2f} (gap ≤ {sel.gap:.1%}), "
