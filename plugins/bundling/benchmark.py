"""Planning time of the whole synthetic district against a plain geopandas peer (a script, not a test).

    python -m plugins.bundling.benchmark --scale 1 --scale 10 [--db sqlite:///demo10.sqlite]

Ours: plan_bundles (all of RULES §5) on the orphans and hosts that find_orphans/find_hosts select
(their time and the lazy drawing of link lines are reported apart). Peer: `geopandas.sjoin_nearest(
max_distance=…)` of orphans to hosts plus the same street and barrier filters written plainly (it
only looks at the single nearest host, so it answers less). Floor: a naive Python loop over pairs
(scale 1 only). Ours and the peer run alternately; medians are reported, with the ratio ours/peer.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from plugins.bundling.rules import find_hosts, find_orphans, plan_bundles
from plugins.bundling.settings import BundlingSettings


def demo_frames(scale: float, seed: int = 42) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Compounds, buildings and barriers of the synthetic demo (geoplatform.demo.generate), EPSG:4326."""
    from geoplatform import demo

    data = demo.generate(scale=scale, seed=seed)
    compounds = gpd.GeoDataFrame(pd.DataFrame(data.tables["compound"]), geometry="boundary", crs=4326)
    buildings = gpd.GeoDataFrame(pd.DataFrame(data.tables["building"]), geometry="geom", crs=4326)
    barriers = gpd.GeoDataFrame(pd.DataFrame(data.tables["barrier"]), geometry="geom", crs=4326)
    return compounds, buildings, barriers


def ours(orphans: gpd.GeoDataFrame, hosts: gpd.GeoDataFrame, barriers: gpd.GeoDataFrame,
         s: BundlingSettings) -> Any:
    """The product on the same inputs as the peer: the full plan (proposals, new bundles, unmatched reasons)."""
    return plan_bundles(orphans, hosts, barriers, s)


def peer(orphans: gpd.GeoDataFrame, hosts: gpd.GeoDataFrame, barriers: gpd.GeoDataFrame,
         s: BundlingSettings) -> pd.DataFrame:
    """geopandas.sjoin_nearest(max_distance) + same street + barrier filter, written plainly."""
    o = orphans.to_crs(s.metric_crs)
    h = hosts.to_crs(s.metric_crs)
    b = barriers.to_crs(s.metric_crs)
    j = gpd.sjoin_nearest(o, h, how="inner", max_distance=s.max_distance_m, distance_col="distance_m")
    j = j[j["street_code_left"] == j["street_code_right"]]
    lines = shapely.shortest_line(j.geometry.to_numpy(), h.geometry.to_numpy()[j["index_right"].to_numpy()])
    hit = shapely.STRtree(b.geometry.to_numpy()).query(lines, predicate="crosses")[0]
    return j[~np.isin(np.arange(len(j)), hit)]


def naive(orphans: gpd.GeoDataFrame, hosts: gpd.GeoDataFrame, barriers: gpd.GeoDataFrame,
          s: BundlingSettings) -> dict[int, int]:
    """A Python loop over every (orphan, host) pair: the floor the product must beat by far."""
    o = list(orphans.to_crs(s.metric_crs).geometry)
    h = list(hosts.to_crs(s.metric_crs).geometry)
    b = list(barriers.to_crs(s.metric_crs).geometry)
    best: dict[int, int] = {}
    for i, og in enumerate(o):
        cands = []
        for k, hg in enumerate(h):
            if orphans["street_code"].iat[i] != hosts["street_code"].iat[k]:
                continue
            d = og.distance(hg)
            if d <= s.max_distance_m and not any(shapely.shortest_line(og, hg).crosses(x) for x in b):
                cands.append((d, k))
        if cands:
            best[i] = min(cands)[1]
    return best


def alternate(a: Callable[[], Any], b: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Median seconds of a and b, run alternately."""
    ta, tb = [], []
    for i in range(repeats):
        for fn, bucket in ([(a, ta), (b, tb)] if i % 2 == 0 else [(b, tb), (a, ta)]):
            t0 = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - t0)
    return statistics.median(ta), statistics.median(tb)


def from_database(url: str, repeats: int) -> dict[str, Any]:
    """Median seconds of `geoplatform bundle plan` work (load from the database + plan) on a stored demo."""
    from geoplatform.context import Context
    from plugins.bundling import service

    c = Context.create(url)
    s = service.settings_for(c)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with c.session(readonly=True) as sess:
            plan = service.compute_plan(sess, s)
        times.append(time.perf_counter() - t0)
    return {"db": url.split(":", 1)[0], "load_and_plan_s": round(statistics.median(times), 3),
            "proposals": len(plan.proposals)}


def bench(scale: float, repeats: int) -> dict[str, Any]:
    """One scale: sizes, ours, peer, ratio (and the naive floor at scale ≤ 1)."""
    s = BundlingSettings()
    compounds, buildings, barriers = demo_frames(scale)
    orphans, hosts = find_orphans(compounds, buildings, s), find_hosts(compounds, s)
    plan = ours(orphans, hosts, barriers, s)
    t_ours, t_peer = alternate(lambda: ours(orphans, hosts, barriers, s),
                               lambda: peer(orphans, hosts, barriers, s), repeats)
    t_select, t_links = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        find_orphans(compounds, buildings, s), find_hosts(compounds, s)
        t_select.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        plan.links()
        t_links.append(time.perf_counter() - t0)
    out = {"scale": scale, "compounds": len(compounds), "buildings": len(buildings), "orphans": len(orphans),
           "hosts": len(hosts), "proposals": len(plan.proposals), "new_bundles": len(plan.new_bundles),
           "unmatched": len(plan.unmatched), "ours_s": round(t_ours, 3), "peer_sjoin_nearest_s": round(t_peer, 3),
           "ratio": round(t_ours / t_peer, 2), "select_orphans_hosts_s": round(statistics.median(t_select), 3),
           "link_lines_s": round(statistics.median(t_links), 3)}
    if scale <= 1:
        t0 = time.perf_counter()
        naive(orphans, hosts, barriers, s)
        out["naive_loop_s"] = round(time.perf_counter() - t0, 2)
    return out


def main() -> None:
    """Command-line entry: print one JSON document with the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, action="append", default=None)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--db", action="append", default=[], help="Also time load+plan on this stored demo.")
    args = ap.parse_args()
    rows = [bench(sc, args.repeats) for sc in (args.scale or [1.0, 10.0])]
    dbs = [from_database(url, max(3, args.repeats // 2)) for url in args.db]
    print(json.dumps({"bench": "bundle planning vs sjoin_nearest + filters", "rows": rows, "databases": dbs},
                     ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
