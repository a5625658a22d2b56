"""B3: bundle planning of the whole district vs `sjoin_nearest(max_distance)` + the same filters (≤ 1.3×).

Two layouts from 10× up. The demo at scale N packs N× the compounds into the one district's urban area (a block
grid 1/√N as wide: at 100× a 31 m grid, ≈ 190 same-street hosts within 300 m of each orphan): a stress of density.
The city (≈ 10 districts) and the region (≈ 100) the issue names are N districts side by side, each at the
district's own density: `region_frames`, N demo districts of their own seeds on a grid, ids and street codes made
unique per district.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from benchmarks.env import Env, cached, check, demo_data, demo_key
from benchmarks.harness import Result, alternate

TARGET = 1.3
# up to 10×, at least this many alternating rounds: with the machine loaded (2 spinners), medians of five to nine
# rounds of the same code and data landed at 1.07–1.40 on the packed 10× demo (idle 1.10–1.32), while the plan's
# CPU time is the same idle and busy (2026-12-07): the short samples' median is scheduler noise
MIN_ROUNDS = 15
NAIVE_SUBSET = 150  # orphans the naive pair loop is timed on (it is quadratic); the ratio is scaled to all
FLOOR_MIN_SCALE = 10  # from here on each layout also gets its floor row (the plan without the 10万 preference)


def frames(data: Any) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Compounds, buildings, barriers of the generated demo, EPSG:4326."""
    t = data.tables
    return (gpd.GeoDataFrame(pd.DataFrame(t["compound"]), geometry="boundary", crs=4326),
            gpd.GeoDataFrame(pd.DataFrame(t["building"]), geometry="geom", crs=4326),
            gpd.GeoDataFrame(pd.DataFrame(t["barrier"]), geometry="geom", crs=4326))


REGION_GAP_M = 5_000.0  # metres between two districts side by side (> max_distance: no orphan reaches across)
REGION_CRS = 4546  # the demo's metric CRS (CGCS2000 3° Gauss-Krüger CM 111°E): districts are moved in metres


def region_frames(districts: int, seed: int = 42, scale: float = 1.0,
                  cache: Path | None = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """`districts` demo districts (seeds seed, seed + 1, …; each at `scale`) side by side on a square grid, as frames().

    Each district keeps its geometry, moved by whole tiles in metres; its ids, compound references and street codes
    get the prefix "D{k:03d}-", so no street, compound or building is shared between two districts."""
    def make() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
        from geoplatform.reference import DISTRICT_OUTLINE

        to_m = Transformer.from_crs(4326, REGION_CRS, always_xy=True)
        x, y = to_m.transform(*np.asarray(DISTRICT_OUTLINE, dtype=float).T)
        step_x, step_y = np.ptp(x) + REGION_GAP_M, np.ptp(y) + REGION_GAP_M
        side = math.ceil(math.sqrt(districts))
        parts: list[list[gpd.GeoDataFrame]] = [[], [], []]
        for k in range(districts):
            data, _, _ = demo_data(scale, seed + k, None)
            dx, dy = (k % side) * step_x, (k // side) * step_y
            for out, frame in zip(parts, frames(data), strict=True):
                out.append(_district(frame, f"D{k:03d}-", dx, dy))
        return tuple(gpd.GeoDataFrame(pd.concat(p, ignore_index=True), geometry=p[0].geometry.name, crs=4326)
                     for p in parts)

    today = dt.date.today()
    return cached(cache, demo_key(scale, seed, today, kind=f"region{districts}", code=(__file__,)), make)[0]


def _district(frame: gpd.GeoDataFrame, prefix: str, dx: float, dy: float) -> gpd.GeoDataFrame:
    """One district of a region: ids, compound references and street codes prefixed, geometry moved (dx, dy) metres."""
    out = frame.copy()
    for col in ("id", "compound_id", "street_code"):
        if col in out:
            out[col] = [None if v is None or v != v else f"{prefix}{v}" for v in out[col]]
    g = out.geometry.to_numpy()
    xy = shapely.get_coordinates(g)
    mx, my = Transformer.from_crs(4326, REGION_CRS, always_xy=True).transform(xy[:, 0], xy[:, 1])
    lon, lat = Transformer.from_crs(REGION_CRS, 4326, always_xy=True).transform(mx + dx, my + dy)
    out[out.geometry.name] = shapely.set_coordinates(g.copy(), np.column_stack([lon, lat]))
    return out


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
    """Ours (plan_bundles) vs the peer on the demo; from 10× up also on as many districts side by side (see the module's
    docstring); the naive pair loop on a subset at 1×."""
    rows = _rows("B3 bundle planning (district)", env, frames(env.data))
    if env.scale >= 10:
        n = round(env.scale)
        region = region_frames(n, cache=env.extra.get("cache"))
        rows += _rows(f"B3 bundle planning ({n} districts side by side)", env, region, naive_floor=False)
    return rows


def _rows(name: str, env: Env, data: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame],
          naive_floor: bool = True, floor: bool | None = None) -> list[Result]:
    """The rows of one layout: ours vs the peer, checked first; the naive floor at 1×; from FLOOR_MIN_SCALE on (or
    with `floor`) the plan without the 10万 preference (see _floor)."""
    from plugins.bundling.benchmark import naive, ours, peer
    from plugins.bundling.rules import find_hosts, find_orphans
    from plugins.bundling.settings import BundlingSettings

    s = BundlingSettings()
    compounds, buildings, barriers = data
    orphans, hosts = find_orphans(compounds, buildings, s), find_hosts(compounds, s)
    plan, pj = ours(orphans, hosts, barriers, s), peer(orphans, hosts, barriers, s)
    verify(plan, pj, orphans, hosts, barriers, s)
    runs: list[None] = []

    def counted() -> None:
        runs.append(None)
        ours(orphans, hosts, barriers, s)

    rounds = max(env.repeats, MIN_ROUNDS) if env.scale <= 10 else env.repeats
    t_o, t_p = alternate(counted, lambda: peer(orphans, hosts, barriers, s), rounds)
    size = _size(orphans, hosts, barriers, plan)
    rows = [Result(name, env.scale, "in-memory", "plan_bundles",
                   "sjoin_nearest + filters", t_o, t_p, f"≤ {TARGET}×", t_o / t_p <= TARGET, size,
                   note=f"max_distance {s.max_distance_m:g} m; median of {len(runs)} alternating runs a side")]
    if naive_floor and env.scale <= 1:
        sub = orphans.iloc[:NAIVE_SUBSET]
        t0 = time.perf_counter()
        naive(sub, hosts, barriers, s)
        t_naive = (time.perf_counter() - t0) * len(orphans) / max(1, len(sub))
        rows.append(Result("B3 planning vs naive pair loop", env.scale, "in-memory", "plan_bundles",
                           "Python pair loop (extrapolated)", t_o, t_naive, "floor (ratio ≪ 1)", t_o < t_naive,
                           size, note=f"loop timed on {len(sub)} orphans, scaled linearly"))
    if floor or (floor is None and env.scale >= FLOOR_MIN_SCALE):
        rows.append(_floor(name, env, orphans, hosts, barriers, s, pj, rounds))
    return rows


def _size(orphans: gpd.GeoDataFrame, hosts: gpd.GeoDataFrame, barriers: gpd.GeoDataFrame, plan: Any) -> str:
    """A B3 row's sizes: the layout's inputs and what its plan proposes."""
    return (f"{len(orphans):,} orphans, {len(hosts):,} hosts, {len(barriers)} barriers → "
            f"{len(plan.proposals):,} proposals")


def _floor(name: str, env: Env, orphans: gpd.GeoDataFrame, hosts: gpd.GeoDataFrame, barriers: gpd.GeoDataFrame,
           s: Any, pj: pd.DataFrame, rounds: int) -> Result:
    """The plan with the 10万 m² preference lifted vs the same peer: no host is ever over it, so none ranks after the
    others for being over, and nothing is settled across the plan (the cumulative preference); every other step of
    RULES §5 runs. Where ours misses, ours minus this is what the preference costs — mostly its settling across the
    plan, a global assignment the peer (the nearest host per orphan) does not make."""
    from plugins.bundling.benchmark import ours, peer

    lifted = dataclasses.replace(s, preferred_max_merged_area_m2=math.inf)
    plan = ours(orphans, hosts, barriers, lifted)
    verify(plan, pj, orphans, hosts, barriers, lifted)
    t_f, t_p = alternate(lambda: ours(orphans, hosts, barriers, lifted), lambda: peer(orphans, hosts, barriers, s),
                         rounds)
    return Result(f"{name} floor: without the 10万 preference", env.scale, "in-memory",
                  "plan_bundles, preference lifted", "sjoin_nearest + filters", t_f, t_p, "info", None,
                  _size(orphans, hosts, barriers, plan),
                  note=f"preferred_max_merged_area_m2 = ∞ (every other rule as above); median of {rounds} alternating "
                       "runs a side")
