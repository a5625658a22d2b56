"""B3: bundle planning of the whole district vs `sjoin_nearest(max_distance)` + the same filters (≤ 1.3×)."""

from __future__ import annotations

import time
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from benchmarks.env import Env, check
from benchmarks.harness import Result, alternate

TARGET = 1.3
NAIVE_SUBSET = 150  # orphans the naive pair loop is timed on (it is quadratic); the ratio is scaled to all


def frames(data: Any) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Compounds, buildings, barriers of the generated demo, EPSG:4326."""
    t = data.tables
    return (gpd.GeoDataFrame(pd.DataFrame(t["compound"]), geometry="boundary", crs=4326),
            gpd.GeoDataFrame(pd.DataFrame(t["building"]), geometry="geom", crs=4326),
            gpd.GeoDataFrame(pd.DataFrame(t["barrier"]), geometry="geom", crs=4326))


def verify(plan: Any, peer: pd.DataFrame, orphans: gpd.GeoDataFrame, hosts: gpd.GeoDataFrame,
           barriers: gpd.GeoDataFrame, s: Any) -> None:
    """Each (orphan, host) pair we propose passes the rules when re-checked plainly; each pair the peer finds is planned.

    The peer only looks at the single nearest host, so it finds fewer pairs: every orphan it attaches
    must be proposed, grouped into a new bundle, or listed as unmatched with a reason.
    """
    o = orphans.set_index(orphans["orphan_id"].astype(str)).to_crs(s.metric_crs)
    h = hosts.set_index(hosts["host_compound_id"].astype(str)).to_crs(s.metric_crs)
    pairs = [(str(oid), str(hid)) for ids, hid in zip(plan.proposals["orphan_ids"], plan.proposals["host_compound_id"],
                                                      strict=True) for oid in ids]
    if pairs:
        oi, hi = [p[0] for p in pairs], [p[1] for p in pairs]
        og, hg = o.geometry.loc[oi].to_numpy(), h.geometry.loc[hi].to_numpy()
        check(bool((o["street_code"].loc[oi].to_numpy() == h["street_code"].loc[hi].to_numpy()).all()),
              "B3: a proposal joins an orphan to a host of another street")
        d = shapely.distance(og, hg)
        check(bool((d <= s.max_distance_m + 1e-6).all()), f"B3: {(d > s.max_distance_m).sum()} proposed pairs "
                                                          f"farther than {s.max_distance_m} m")
        bg = barriers.to_crs(s.metric_crs).geometry.to_numpy()
        if len(bg):
            crossed = shapely.STRtree(bg).query(shapely.shortest_line(og, hg), predicate="crosses")[0]
            check(not len(crossed), f"B3: {len(set(crossed))} proposed pairs cross a barrier")
    planned = {p[0] for p in pairs}
    if len(plan.new_bundles) and "orphan_ids" in plan.new_bundles:
        planned |= {str(x) for ids in plan.new_bundles["orphan_ids"] for x in ids}
    if "orphan_id" in plan.unmatched:
        planned |= set(plan.unmatched["orphan_id"].astype(str))
    lost = set(peer["orphan_id"].astype(str)) - planned
    check(not lost, f"B3: {len(lost)} orphans the peer attaches are neither proposed nor explained")


def run(env: Env) -> list[Result]:
    """Ours (plan_bundles) vs the peer; the naive pair loop on a subset at 1×."""
    from plugins.bundling.benchmark import naive, ours, peer
    from plugins.bundling.rules import find_hosts, find_orphans
    from plugins.bundling.settings import BundlingSettings

    s = BundlingSettings()
    compounds, buildings, barriers = frames(env.data)
    orphans, hosts = find_orphans(compounds, buildings, s), find_hosts(compounds, s)
    plan, pj = ours(orphans, hosts, barriers, s), peer(orphans, hosts, barriers, s)
    verify(plan, pj, orphans, hosts, barriers, s)
    t_o, t_p = alternate(lambda: ours(orphans, hosts, barriers, s), lambda: peer(orphans, hosts, barriers, s),
                         env.repeats)
    size = (f"{len(orphans):,} orphans, {len(hosts):,} hosts, {len(barriers)} barriers → "
            f"{len(plan.proposals):,} proposals")
    rows = [Result("B3 bundle planning (district)", env.scale, "in-memory", "plan_bundles",
                   "sjoin_nearest + filters", t_o, t_p, f"≤ {TARGET}×", t_o / t_p <= TARGET, size,
                   note=f"max_distance {s.max_distance_m:g} m")]
    if env.scale <= 1:
        sub = orphans.iloc[:NAIVE_SUBSET]
        t0 = time.perf_counter()
        naive(sub, hosts, barriers, s)
        t_naive = (time.perf_counter() - t0) * len(orphans) / max(1, len(sub))
        rows.append(Result("B3 planning vs naive pair loop", env.scale, "in-memory", "plan_bundles",
                           "Python pair loop (extrapolated)", t_o, t_naive, "floor (ratio ≪ 1)", t_o < t_naive,
                           size, note=f"loop timed on {len(sub)} orphans, scaled linearly"))
    return rows
