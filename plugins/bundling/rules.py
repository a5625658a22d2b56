"""RULES §5 as pure functions over GeoDataFrames: orphans, hosts, and the bundling plan.

Inputs and outputs are in EPSG:4326; every distance and area is computed in the metric CRS of
the settings (EPSG:4547). Geometry work is vectorised (STRtree bulk queries, shapely 2 array
functions); there is no Python loop over pairs of geometries.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from plugins.bundling.settings import BundlingSettings

WGS84 = 4326
ORPHAN_KINDS = ("building", "compound")
# why an orphan got no host; labels in plugins/bundling/messages.py
UNMATCHED_REASONS = ("no_host_in_reach", "only_across_barrier", "only_other_street")
# why a compound is under management scale
SCALE_REASONS = ("single_building", "small_area", "few_households")

ORPHAN_COLUMNS = ["orphan_id", "orphan_kind", "street_code", "floor_area_m2", "households", "orphan_reason"]
HOST_COLUMNS = ["host_compound_id", "street_code", "management_mode", "floor_area_m2", "households",
                "managed_count"]
PROPOSAL_COLUMNS = ["id", "street", "orphan_kind", "orphan_ids", "host_compound_id", "distance_m",
                    "shared_boundary_m", "merged_floor_area_m2", "merged_households", "orphan_floor_area_m2",
                    "orphan_households", "host_floor_area_m2", "host_households", "within_preferred_area"]
BUNDLE_COLUMNS = ["id", "street", "orphan_ids", "floor_area_m2", "households"]
UNMATCHED_COLUMNS = ["orphan_kind", "orphan_id", "street", "reason", "nearest_host_distance_m"]


@dataclass
class Plan:
    """The result of plan_bundles: proposals (with link lines), new bundles (hulls), unmatched orphans."""

    proposals: gpd.GeoDataFrame
    new_bundles: gpd.GeoDataFrame
    unmatched: pd.DataFrame
    orphans: gpd.GeoDataFrame  # every orphan with its outcome: status proposed | new_bundle | unmatched
    hosts: gpd.GeoDataFrame  # hosts that received at least one proposal
    settings: BundlingSettings = field(default_factory=BundlingSettings)

    def to_dict(self, with_settings: bool = False) -> dict[str, Any]:
        """The JSON document of `geoplatform bundle plan --json`."""
        out: dict[str, Any] = {
            "proposals": [
                {"id": r.id, "street": r.street, "orphan_kind": r.orphan_kind, "orphan_ids": list(r.orphan_ids),
                 "host_compound_id": r.host_compound_id, "distance_m": round(float(r.distance_m), 1),
                 "merged_floor_area_m2": round(float(r.merged_floor_area_m2), 1),
                 "merged_households": int(r.merged_households)}
                for r in self.proposals.itertuples(index=False)
            ],
            "new_bundles": [
                {"id": r.id, "street": r.street, "orphan_ids": list(r.orphan_ids),
                 "floor_area_m2": round(float(r.floor_area_m2), 1), "households": int(r.households)}
                for r in self.new_bundles.itertuples(index=False)
            ],
            "unmatched": [
                {"orphan_kind": r.orphan_kind, "orphan_id": r.orphan_id, "street": r.street, "reason": r.reason,
                 "nearest_host_distance_m": None if pd.isna(r.nearest_host_distance_m)
                 else round(float(r.nearest_host_distance_m), 1)}
                for r in self.unmatched.itertuples(index=False)
            ],
        }
        if with_settings:
            out["settings"] = self.settings.as_dict()
        return out


# ---------------------------------------------------------------------------------------------
# Orphans and hosts


def compound_geometry(compounds: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Each compound's boundary, or its point (`location`) where the boundary is missing."""
    geom = compounds.geometry
    missing = geom.isna() | geom.is_empty
    if "location" in compounds and missing.any():
        geom = geom.copy()
        geom[missing] = gpd.GeoSeries(compounds["location"], crs=compounds.crs)[missing]
    return geom


def _num(series: pd.Series | None, index: pd.Index) -> pd.Series:
    if series is None:
        return pd.Series(np.nan, index=index, dtype=float)
    return pd.to_numeric(series, errors="coerce").astype(float)


def find_orphans(compounds: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame, settings: BundlingSettings,
                 building_counts: pd.Series | None = None) -> gpd.GeoDataFrame:
    """RULES §5 orphans: buildings with no compound, and under-scale compounds without professional service.

    `building_counts` (buildings per compound id) saves passing every building when only the
    orphan ones are at hand; by default the counts come from `buildings`.
    """
    crs = compounds.crs or buildings.crs or WGS84
    lone = buildings[buildings["compound_id"].isna()]
    b = gpd.GeoDataFrame({
        "orphan_id": lone["id"].astype(str).to_numpy(),
        "orphan_kind": "building",
        "street_code": lone["street_code"].to_numpy() if "street_code" in lone else None,
        "floor_area_m2": _num(lone.get("floor_area_m2"), lone.index).to_numpy(),
        "households": _num(lone.get("households"), lone.index).to_numpy(),
        "orphan_reason": "no_compound",
    }, geometry=lone.geometry.to_numpy(), crs=crs)

    if building_counts is None:
        building_counts = buildings.groupby("compound_id").size()
    n_buildings = building_counts.reindex(compounds["id"].to_numpy()).fillna(0).to_numpy()
    area = _num(compounds.get("floor_area_m2"), compounds.index).to_numpy()
    hh = _num(compounds.get("households"), compounds.index).to_numpy()
    single = (n_buildings >= 1) & (n_buildings <= settings.max_buildings_orphan)
    small = area < settings.min_floor_area_m2  # NaN compares False: unknown area is not "small"
    few = hh < settings.min_households
    managed = (compounds["managed_by_id"].notna().to_numpy() if "managed_by_id" in compounds
               else np.zeros(len(compounds), dtype=bool))
    mode_ok = compounds["management_mode"].isin(settings.orphan_modes).to_numpy()
    is_orphan = mode_ok & ~managed & (single | small | few)
    reason = np.where(single, "single_building", np.where(small, "small_area", "few_households"))
    c = compounds[is_orphan]
    cg = gpd.GeoDataFrame({
        "orphan_id": c["id"].astype(str).to_numpy(),
        "orphan_kind": "compound",
        "street_code": c["street_code"].to_numpy(),
        "floor_area_m2": area[is_orphan],
        "households": hh[is_orphan],
        "orphan_reason": reason[is_orphan],
    }, geometry=compound_geometry(c).to_numpy(), crs=crs)
    out = pd.concat([b, cg], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=crs)


def find_hosts(compounds: gpd.GeoDataFrame, settings: BundlingSettings) -> gpd.GeoDataFrame:
    """Professionally served compounds that may host orphans, with the area they already manage."""
    crs = compounds.crs or WGS84
    managed_by = compounds["managed_by_id"] if "managed_by_id" in compounds else pd.Series(None, index=compounds.index)
    area = _num(compounds.get("floor_area_m2"), compounds.index).fillna(0.0)
    hh = _num(compounds.get("households"), compounds.index).fillna(0.0)
    extra_area = area.groupby(managed_by.to_numpy()).sum()
    extra_hh = hh.groupby(managed_by.to_numpy()).sum()
    extra_n = managed_by.value_counts()
    is_host = compounds["management_mode"].isin(settings.host_modes) & managed_by.isna()
    h = compounds[is_host]
    ids = h["id"].astype(str)
    out = gpd.GeoDataFrame({
        "host_compound_id": ids.to_numpy(),
        "street_code": h["street_code"].to_numpy(),
        "management_mode": h["management_mode"].to_numpy(),
        "floor_area_m2": (area[is_host].to_numpy() + extra_area.reindex(ids).fillna(0.0).to_numpy()),
        "households": (hh[is_host].to_numpy() + extra_hh.reindex(ids).fillna(0.0).to_numpy()),
        "managed_count": extra_n.reindex(ids).fillna(0).astype(int).to_numpy(),
    }, geometry=compound_geometry(h).to_numpy(), crs=crs)
    return out


# ---------------------------------------------------------------------------------------------
# Planning


def _stable_id(prefix: str, *parts: object) -> str:
    digest = hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:10]
    return f"{prefix}-{digest}"


def proposal_id(street: str, kind: str, host: str, orphan_ids: list[str]) -> str:
    """Deterministic proposal id: the street, the kind's initial and a digest of host and orphans."""
    return _stable_id(f"{street}-{kind[0].upper()}", kind, host, ",".join(sorted(orphan_ids)))


def _metric(geoms: gpd.GeoSeries, crs: int) -> np.ndarray:
    if len(geoms) == 0:
        return np.array([], dtype=object)
    if geoms.crs is None:
        geoms = geoms.set_crs(WGS84)
    return np.asarray(geoms.to_crs(crs).array, dtype=object)


def _blocked(a: np.ndarray, b: np.ndarray, barrier_tree: shapely.STRtree | None) -> np.ndarray:
    """For each pair (a[i], b[i]): does their shortest segment cross a barrier line?"""
    blocked = np.zeros(len(a), dtype=bool)
    if barrier_tree is None or len(a) == 0:
        return blocked
    lines = shapely.shortest_line(a, b)
    hit = barrier_tree.query(lines, predicate="crosses")[0]
    blocked[np.unique(hit)] = True
    return blocked


def _empty(columns: list[str], crs: int = WGS84) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in columns}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


RANKED = {"o": np.intp, "h": np.intp, "dist": float, "shared": float, "merged": float, "over": bool,
          "dkey": float, "host_id": object}  # columns of ranked candidate pairs
LAZY_ROUNDS = 3  # barrier checks of the best-ranked pair per orphan before checking all that remain


@dataclass
class _Resolved:
    """Best usable host per orphan among some candidates, and what explains orphans left without one."""

    best: pd.DataFrame  # o, h, dist, shared, merged, over, dkey, host_id
    blocked: np.ndarray  # orphan rows with a same-street host in reach behind a barrier
    other_street: np.ndarray  # orphan rows with a host of another street in reach
    nearest_o: np.ndarray  # orphan rows ...
    nearest_d: np.ndarray  # ... and their nearest host distance (any street)


def _dkey(dist: np.ndarray, resolution: float) -> np.ndarray:
    return np.floor(dist / resolution + 0.5) if resolution > 0 else dist


def plan_bundles(orphans: gpd.GeoDataFrame, hosts: gpd.GeoDataFrame, barriers: gpd.GeoDataFrame | None,
                 settings: BundlingSettings) -> Plan:
    """Match each orphan to its best host (RULES §5), group the rest into new bundles or list why unmatched.

    Best host: same street, within max_distance edge to edge, shortest segment crossing no barrier;
    ranked by merged area within the preferred maximum first, then distance (at the distance
    resolution), then shared boundary length, then host id.
    """
    s = settings
    orphans = orphans.reset_index(drop=True)
    hosts = hosts.reset_index(drop=True)
    n = len(orphans)
    og = _metric(orphans.geometry, s.metric_crs)
    hg = _metric(hosts.geometry, s.metric_crs)
    bg = _metric(barriers.geometry, s.metric_crs) if barriers is not None and len(barriers) else np.array([])
    bg = bg[~shapely.is_empty(bg) & ~shapely.is_missing(bg)] if len(bg) else bg
    barrier_tree = shapely.STRtree(bg) if len(bg) else None
    host_tree = shapely.STRtree(hg) if len(hg) else None
    o_street = orphans["street_code"].astype(object).to_numpy()
    h_street = hosts["street_code"].astype(object).to_numpy()
    h_ids = hosts["host_compound_id"].astype(str).to_numpy()
    o_area = orphans["floor_area_m2"].fillna(0.0).to_numpy(dtype=float)
    o_hh = orphans["households"].fillna(0.0).to_numpy(dtype=float)
    h_area = hosts["floor_area_m2"].fillna(0.0).to_numpy(dtype=float)
    h_hh = hosts["households"].fillna(0.0).to_numpy(dtype=float)
    valid_o = ~(shapely.is_missing(og) | shapely.is_empty(og)) if n else np.zeros(0, bool)
    empty_i = np.array([], dtype=np.intp)

    def resolve(rows: np.ndarray, radius: np.ndarray | float) -> _Resolved:
        """Best usable host of each orphan in `rows` among hosts within `radius` (one bulk query).

        Pairs are ranked first; barriers are then checked for the best-ranked pair of each orphan
        (a few vectorised rounds), then for all pairs still open.
        """
        if host_tree is None or len(rows) == 0:
            return _Resolved(pd.DataFrame({c: pd.Series(dtype=t) for c, t in RANKED.items()}), empty_i, empty_i,
                             empty_i, np.array([], float))
        q, hi = host_tree.query(og[rows], predicate="dwithin", distance=radius)
        oi = rows[q]
        dist = shapely.distance(og[oi], hg[hi])
        same = o_street[oi] == h_street[hi]
        near = pd.Series(dist).groupby(oi).min()
        df = pd.DataFrame({"o": oi[same], "h": hi[same], "dist": dist[same], "shared": 0.0})
        close = (df["dist"] <= s.shared_boundary_tolerance_m).to_numpy()
        if close.any():
            po, ph = df["o"].to_numpy()[close], df["h"].to_numpy()[close]
            uh, inv = np.unique(ph, return_inverse=True)
            zone = shapely.buffer(hg[uh], s.shared_boundary_tolerance_m)[inv]
            df.loc[close, "shared"] = shapely.length(shapely.intersection(shapely.boundary(og[po]), zone))
        df["merged"] = o_area[df["o"].to_numpy()] + h_area[df["h"].to_numpy()]
        df["over"] = df["merged"] > s.preferred_max_merged_area_m2
        df["dkey"] = _dkey(df["dist"].to_numpy(), s.distance_resolution_m)
        df["host_id"] = h_ids[df["h"].to_numpy()]
        df = df.sort_values(["o", "over", "dkey", "shared", "host_id"],
                            ascending=[True, True, True, False, True], kind="mergesort").reset_index(drop=True)
        chosen, blocked_o = [], []
        for round_ in range(LAZY_ROUNDS + 1):
            if df.empty:
                break
            last = round_ == LAZY_ROUNDS
            check = df if last else df.drop_duplicates("o", keep="first")
            blk = _blocked(og[check["o"].to_numpy()], hg[check["h"].to_numpy()], barrier_tree)
            blocked_o.append(check["o"].to_numpy()[blk])
            df = df.drop(index=check.index[blk])
            if last:
                chosen.append(df.drop_duplicates("o", keep="first"))
                break
            done = check[~blk]
            chosen.append(done)
            df = df[~df["o"].isin(done["o"])]
        best = pd.concat(chosen, ignore_index=True) if chosen else df.iloc[:0]
        blocked = np.unique(np.concatenate(blocked_o)) if blocked_o else empty_i
        return _Resolved(best, blocked, np.unique(oi[~same]), near.index.to_numpy(), near.to_numpy())

    # 1. the nearest host of any street (like sjoin_nearest): where it is in the orphan's street, only
    #    hosts tied with it at the distance resolution can beat it, so a small second query settles most
    rows = np.flatnonzero(valid_o)
    parts = []
    unsettled = rows
    if host_tree is not None and len(rows):
        (q, hi), d1 = host_tree.query_nearest(og[rows], max_distance=s.max_distance_m, return_distance=True)
        first = ~pd.Series(q).duplicated().to_numpy()
        q, hi, d1 = q[first], hi[first], d1[first]
        same1 = o_street[rows[q]] == h_street[hi]
        res = s.distance_resolution_m
        radius = (_dkey(d1[same1], res) + 0.5) * res if res > 0 else d1[same1]
        tied = resolve(rows[q[same1]], radius).best
        parts.append(tied[~tied["over"].astype(bool)])
        unsettled = np.setdiff1d(rows, parts[0]["o"].to_numpy())
    # 2. the rest (nearest host in another street or behind a barrier, or over the preferred area):
    #    every host in reach
    full = resolve(unsettled, s.max_distance_m)
    parts.append(full.best)
    best = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else full.best
    best = best.astype({"o": np.intp, "h": np.intp, "dist": float, "shared": float})

    proposals = _proposals(orphans, hosts, og, hg, best, o_area, o_hh, h_area, h_hh, s)

    # 4. orphans without a host: reasons, then groups of neighbours
    matched = np.zeros(n, dtype=bool)
    matched[best["o"].to_numpy()] = True
    # the full candidate set covers every orphan left without a host
    blocked_same = np.zeros(n, dtype=bool)
    blocked_same[full.blocked] = True
    other_street = np.zeros(n, dtype=bool)
    other_street[full.other_street] = True
    nearest = np.full(n, np.nan)
    nearest[full.nearest_o] = full.nearest_d
    nearest[matched] = np.nan
    reason = np.where(blocked_same, "only_across_barrier", np.where(other_street, "only_other_street",
                                                                      "no_host_in_reach"))
    rest = np.flatnonzero(~matched & valid_o)
    bundles, in_bundle, bundle_of = _new_bundles(orphans, og, rest, o_street, o_area, o_hh, barrier_tree, s)
    left = np.setdiff1d(np.flatnonzero(~matched), in_bundle)
    unmatched = pd.DataFrame({
        "orphan_kind": orphans["orphan_kind"].to_numpy()[left],
        "orphan_id": orphans["orphan_id"].to_numpy()[left],
        "street": o_street[left],
        "reason": reason[left],
        "nearest_host_distance_m": nearest[left],
    }, columns=UNMATCHED_COLUMNS).sort_values(["street", "orphan_kind", "orphan_id"], kind="mergesort")

    status = np.full(n, "unmatched", dtype=object)
    status[matched] = "proposed"
    status[in_bundle] = "new_bundle"
    out_orphans = orphans.copy()
    out_orphans["status"] = status
    out_orphans["reason"] = np.where(status == "unmatched", reason, None)
    out_orphans["nearest_host_distance_m"] = nearest
    out_orphans["proposal_id"] = None
    out_orphans["bundle_id"] = None
    if len(proposals):
        pid = proposals[["id", "orphan_kind", "orphan_ids"]].explode("orphan_ids")
        key = pd.Series(pid["id"].to_numpy(), index=pid["orphan_kind"] + ":" + pid["orphan_ids"].astype(str))
        out_orphans["proposal_id"] = (out_orphans["orphan_kind"] + ":" + out_orphans["orphan_id"]).map(key).to_numpy()
    out_orphans.loc[in_bundle, "bundle_id"] = bundle_of

    used_hosts = hosts[hosts["host_compound_id"].isin(proposals["host_compound_id"])].copy()
    counts = proposals.groupby("host_compound_id").size()
    used_hosts["proposals"] = used_hosts["host_compound_id"].map(counts).fillna(0).astype(int).to_numpy()
    return Plan(proposals=proposals, new_bundles=bundles, unmatched=unmatched.reset_index(drop=True),
                orphans=out_orphans, hosts=used_hosts.reset_index(drop=True), settings=s)


def _proposals(orphans: gpd.GeoDataFrame, hosts: gpd.GeoDataFrame, og: np.ndarray, hg: np.ndarray,
               best: pd.DataFrame, o_area: np.ndarray, o_hh: np.ndarray, h_area: np.ndarray, h_hh: np.ndarray,
               s: BundlingSettings) -> gpd.GeoDataFrame:
    """One proposal per orphan compound, one per host for the orphan buildings it gets."""
    if best.empty:
        return _empty(PROPOSAL_COLUMNS)
    o, h = best["o"].to_numpy(), best["h"].to_numpy()
    link = shapely.shortest_line(shapely.point_on_surface(og[o]), hg[h])
    rows = pd.DataFrame({
        "o": o, "h": h, "dist": best["dist"].to_numpy(), "shared": best["shared"].to_numpy(),
        "kind": orphans["orphan_kind"].to_numpy()[o], "orphan_id": orphans["orphan_id"].to_numpy()[o],
        "street": orphans["street_code"].to_numpy()[o], "host": hosts["host_compound_id"].to_numpy()[h],
        "o_area": o_area[o], "o_hh": o_hh[o],
    })
    # buildings bound for the same host form one proposal; each compound is its own proposal
    rows["group"] = np.where(rows["kind"] == "building", "B:" + rows["host"], "C:" + rows["orphan_id"])
    rows["link"] = link
    rows = rows.sort_values(["street", "group", "orphan_id"], kind="mergesort")
    key = (rows["street"].astype(str) + "|" + rows["group"]).to_numpy()
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    group_no = np.cumsum(np.r_[True, key[1:] != key[:-1]]) - 1
    firsts = rows.iloc[starts]
    agg = pd.DataFrame({
        "street": firsts["street"].to_numpy(), "kind": firsts["kind"].to_numpy(),
        "host": firsts["host"].to_numpy(), "h": firsts["h"].to_numpy(),
        "orphan_ids": [list(a) for a in np.split(rows["orphan_id"].to_numpy(), starts[1:])],
        "dist": np.maximum.reduceat(rows["dist"].to_numpy(), starts),
        "shared": np.add.reduceat(rows["shared"].to_numpy(), starts),
        "o_area": np.add.reduceat(rows["o_area"].to_numpy(), starts),
        "o_hh": np.add.reduceat(rows["o_hh"].to_numpy(), starts),
    })
    lines = shapely.multilinestrings(rows["link"].to_numpy(), indices=group_no)
    hidx = agg["h"].to_numpy()
    merged_area = agg["o_area"].to_numpy() + h_area[hidx]
    ids = [proposal_id(st, k, ho, ids_) for st, k, ho, ids_ in
           zip(agg["street"], agg["kind"], agg["host"], agg["orphan_ids"], strict=True)]
    out = gpd.GeoDataFrame({
        "id": ids, "street": agg["street"].to_numpy(), "orphan_kind": agg["kind"].to_numpy(),
        "orphan_ids": agg["orphan_ids"].to_numpy(), "host_compound_id": agg["host"].to_numpy(),
        "distance_m": agg["dist"].to_numpy(), "shared_boundary_m": agg["shared"].to_numpy(),
        "merged_floor_area_m2": merged_area, "merged_households": (agg["o_hh"].to_numpy() + h_hh[hidx]).astype(int),
        "orphan_floor_area_m2": agg["o_area"].to_numpy(), "orphan_households": agg["o_hh"].to_numpy().astype(int),
        "host_floor_area_m2": h_area[hidx], "host_households": h_hh[hidx].astype(int),
        "within_preferred_area": merged_area <= s.preferred_max_merged_area_m2,
    }, geometry=gpd.GeoSeries(lines, crs=s.metric_crs).to_crs(WGS84), crs=WGS84)
    return out.sort_values(["street", "id"], kind="mergesort").reset_index(drop=True)


def _new_bundles(orphans: gpd.GeoDataFrame, og: np.ndarray, rest: np.ndarray, o_street: np.ndarray,
                 o_area: np.ndarray, o_hh: np.ndarray, barrier_tree: shapely.STRtree | None,
                 s: BundlingSettings) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """Connected groups of host-less orphans of one street (neighbours, no barrier between) ≥ the minimum area."""
    none = (_empty(BUNDLE_COLUMNS), np.array([], dtype=np.intp), np.array([], dtype=object))
    if len(rest) == 0:
        return none
    geoms = og[rest]
    a, b = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=s.neighbour_distance_m)
    keep = (a < b) & (o_street[rest[a]] == o_street[rest[b]])
    a, b = a[keep], b[keep]
    if len(a):
        ok = ~_blocked(geoms[a], geoms[b], barrier_tree)
        a, b = a[ok], b[ok]
    n = len(rest)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    area = pd.Series(o_area[rest]).groupby(comp).sum()
    big = area[area >= s.new_bundle_min_area_m2].index.to_numpy()
    members = np.isin(comp, big)
    if not members.any():
        return none
    rows = rest[members]
    comp_m = comp[members]
    frame = pd.DataFrame({"comp": comp_m, "row": rows, "street": o_street[rows],
                          "key": orphans["orphan_kind"].to_numpy()[rows] + ":" + orphans["orphan_id"].to_numpy()[rows],
                          "orphan_id": orphans["orphan_id"].to_numpy()[rows], "area": o_area[rows], "hh": o_hh[rows]})
    frame = frame.sort_values(["comp", "key"], kind="mergesort")
    g = frame.groupby("comp", sort=True)
    agg = g.agg(street=("street", "first"), orphan_ids=("orphan_id", list), keys=("key", list),
                floor_area_m2=("area", "sum"), households=("hh", "sum"))
    hulls = shapely.convex_hull(shapely.geometrycollections(og[frame["row"].to_numpy()],
                                                            indices=g.ngroup().to_numpy()))
    ids = [_stable_id(f"{st}-N", ",".join(k)) for st, k in zip(agg["street"], agg["keys"], strict=True)]
    out = gpd.GeoDataFrame({"id": ids, "street": agg["street"].to_numpy(), "orphan_ids": agg["orphan_ids"].to_numpy(),
                            "floor_area_m2": agg["floor_area_m2"].to_numpy(),
                            "households": agg["households"].to_numpy().astype(int)},
                           geometry=gpd.GeoSeries(hulls, crs=s.metric_crs).to_crs(WGS84), crs=WGS84)
    bundle_of = pd.Series(ids, index=agg.index).reindex(frame["comp"]).to_numpy()
    out = out.sort_values(["street", "id"], kind="mergesort").reset_index(drop=True)
    return out, frame["row"].to_numpy(), bundle_of
