"""B2: building → compound assignment and the coverage layer vs a plain `geopandas.sjoin` (≤ 1.3×; ≥ 20× a loop)."""

from __future__ import annotations

import statistics
import time
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from benchmarks.env import Env, check
from benchmarks.harness import Result, alternate

TARGET = 1.3
FLOOR = 20.0
LOOP_RUNS = 3


def _seconds(fn: Any) -> float:
    """Wall seconds of one call."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def building_points(ctx: Any) -> np.ndarray:
    """A point on the surface of every stored building (what the importer assigns)."""
    from geoplatform.store import read_frame

    with ctx.session(readonly=True) as s:
        b = read_frame(s, "building", columns=["id", "geom"])
    return shapely.point_on_surface(b.geometry.to_numpy())


def ours_assign(ctx: Any, pts: np.ndarray) -> dict[int, str]:
    """The importer's vectorised containment (geoplatform.io.references.compounds_containing)."""
    from geoplatform.io.references import compounds_containing

    with ctx.session(readonly=True) as s:
        return compounds_containing(s, pts, np.ones(len(pts), dtype=bool))


def peer_assign(ctx: Any, pts: np.ndarray) -> dict[int, str]:
    """Plain geopandas: read the compounds, sjoin(predicate='within'), first match per point."""
    from geoplatform.store import read_frame

    with ctx.session(readonly=True) as s:
        comps = read_frame(s, "compound", columns=["id", "boundary"])
    comps = comps[comps.geometry.notna()]
    j = gpd.sjoin(gpd.GeoDataFrame(geometry=pts, crs=4326), comps, predicate="within", how="inner")
    j = j[~j.index.duplicated()]
    return dict(zip(j.index.tolist(), j["id"].astype(str).tolist(), strict=True))


def loop_assign(ctx: Any, pts: np.ndarray) -> dict[int, str]:
    """The floor: a Python loop over compounds, each testing every point."""
    from geoplatform.store import read_frame

    with ctx.session(readonly=True) as s:
        comps = read_frame(s, "compound", columns=["id", "boundary"])
    out: dict[int, str] = {}
    for cid, poly in zip(comps["id"], comps.geometry, strict=True):
        if poly is None:
            continue
        for i in np.flatnonzero(shapely.within(pts, poly)):
            out.setdefault(int(i), str(cid))
    return out


def verify_assign(ours: dict[int, str], peer: dict[int, str]) -> None:
    """Same buildings matched, to the same compounds."""
    check(len(ours) == len(peer), f"B2: {len(ours)} buildings assigned by ours, {len(peer)} by sjoin")
    check(ours == peer, "B2: ours and sjoin assign some building to different compounds")


def coverage_spec(ctx: Any) -> Any:
    """The coverage plugin's compound layer."""
    from plugins.coverage.layers import layer_specs
    from plugins.coverage.settings import settings_for

    return layer_specs(settings_for(ctx))[0]


def ours_layer(ctx: Any, spec: Any) -> Any:
    """The coverage layer's features (layer engine; plugins' compound attributes cached in the context)."""
    from layers.features import layer_features

    return layer_features(ctx, spec)


def peer_layer(ctx: Any) -> Any:
    """Plain geopandas: read the compounds and classify management mode."""
    from geoplatform.store import read_frame
    from plugins.coverage.settings import settings_for

    with ctx.session(readonly=True) as s:
        frame = read_frame(s, "compound", columns=["id", "name", "management_mode", "company", "households",
                                                   "owners_org", "build_year", "boundary", "location"])
    frame["served"] = frame["management_mode"].isin(settings_for(ctx).served_modes)
    return frame


def verify_layer(ours: Any, peer: Any) -> None:
    """Same compounds, same management mode each."""
    o = ours["management_mode"].astype(str)
    p = peer.set_index("id")["management_mode"].astype(str)
    check(set(o.index) == set(p.index), f"B2: coverage layer has {len(o)} compounds, the table {len(p)}")
    check(bool((o.sort_index() == p.sort_index()).all()), "B2: coverage layer management modes differ")


def run(env: Env) -> list[Result]:
    """Assignment (ours vs sjoin, plus the loop floor at 1×) and the coverage layer (ours vs plain read)."""
    ctx = env.context()  # one context (engine, plugins) for all sides: the figures time the assignment itself
    pts = building_points(ctx)
    o, p = ours_assign(ctx, pts), peer_assign(ctx, pts)
    verify_assign(o, p)
    t_o, t_p = alternate(lambda: ours_assign(ctx, pts), lambda: peer_assign(ctx, pts), env.repeats)
    size = f"{len(pts):,} buildings, {len(o):,} inside a compound"
    rows = [Result("B2 building→compound assignment", env.scale, env.backend, "importer containment",
                   "geopandas.sjoin", t_o, t_p, f"≤ {TARGET}×", t_o / t_p <= TARGET, size)]
    if env.scale <= 1:  # the loop's median of three runs (one run, as before 2026-12-07, is one draw of the noise)
        verify_assign(o, loop_assign(ctx, pts))
        t_loop = statistics.median(_seconds(lambda: loop_assign(ctx, pts)) for _ in range(LOOP_RUNS))
        rows.append(Result("B2 assignment vs per-compound loop", env.scale, env.backend, "importer containment",
                           "Python loop over compounds", t_o, t_loop, f"≥ {FLOOR:g}× faster (ratio ≤ {1 / FLOOR:.2f})",
                           t_o / t_loop <= 1 / FLOOR, size))
    spec = coverage_spec(ctx)
    lo = ours_layer(ctx, spec)  # warms the context's compound-attribute cache (shared by every layer)
    verify_layer(lo, peer_layer(ctx))
    t_o, t_p = alternate(lambda: ours_layer(ctx, spec), lambda: peer_layer(ctx), env.repeats)
    rows.append(Result("B2 coverage layer (all compounds)", env.scale, env.backend, "layer_features(coverage)",
                       "read_frame + pandas", t_o, t_p, f"≤ {TARGET}×", t_o / t_p <= TARGET, f"{len(lo):,} compounds",
                       note="plugin attributes warm in the context"))
    return rows
