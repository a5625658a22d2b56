"""RULES §5 as pure functions over GeoDataFrames: orphans, hosts, and the bundling plan.

Inputs and outputs are in EPSG:4326; every distance and area is computed in the metric CRS of
the settings (EPSG:4546). Geometry work is vectorised (STRtree bulk queries, shapely 2 array
functions); there is no Python loop over pairs of geometries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from fractions import Fraction
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from plugins.bundling.settings import BundlingSettings

WGS84 = 4326
ORPHAN_KINDS = ("building", "compound")
# why an orphan got no host; labels in plugins/bundling/messages.py
UNMATCHED_REASONS = ("no_host_in_reach", "only_across_barrier", "only_other_street", "street_unknown",
                     "host_under_scale", "host_firm_ineligible")
# why a compound is under management scale
SCALE_REASONS = ("single_building", "small_area", "few_households")

ORPHAN_COLUMNS = ["orphan_id", "orphan_kind", "street_code", "floor_area_m2", "households", "orphan_reason"]
HOST_COLUMNS = ["host_compound_id", "street_code", "management_mode", "floor_area_m2", "households",
                "managed_count", "buildings", "at_scale"]
PROPOSAL_COLUMNS = ["id", "street", "orphan_kind", "orphan_ids", "host_compound_id", "distance_m",
                    "shared_boundary_m", "merged_floor_area_m2", "merged_households", "orphan_floor_area_m2",
                    "orphan_households", "host_floor_area_m2", "host_households", "host_planned_floor_area_m2",
                    "within_preferred_area"]
BUNDLE_COLUMNS = ["id", "street", "orphan_ids", "floor_area_m2", "households"]
LINK_COLUMNS = ["proposal_id", "orphan_kind", "orphan_id", "host_compound_id", "distance_m"]
UNMATCHED_COLUMNS = ["orphan_kind", "orphan_id", "street", "reason", "nearest_host_distance_m"]


@dataclass
class Plan:
    """The result of plan_bundles: proposals (with link lines), new bundles (hulls), unmatched orphans."""

    proposals: pd.DataFrame  # no geometry: see links()
    new_bundles: gpd.GeoDataFrame
    unmatched: pd.DataFrame
    orphans: gpd.GeoDataFrame  # every orphan with its outcome: status proposed | new_bundle | unmatched
    hosts: gpd.GeoDataFrame  # hosts that received at least one proposal
    settings: BundlingSettings = field(default_factory=BundlingSettings)
    _links: Callable[[], gpd.GeoDataFrame] | None = field(default=None, repr=False, compare=False)
    # host id → the credit gate's warnings about its firm (RULES §5/§7: eligible, but e.g. firm_not_recorded)
    host_warnings: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def links(self) -> gpd.GeoDataFrame:
        """One line per proposed orphan, from a point inside it to the nearest point of its host (drawing only)."""
        if self._links is None:
            return _empty(LINK_COLUMNS)
        return self._links()

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (the server's worker process sends plans): the link lines drawn now instead of on demand."""
        state = dict(self.__dict__)
        if self._links is not None and not isinstance(self._links, _Drawn):
            state["_links"] = _Drawn(self._links())
        return state

    def to_dict(self, with_settings: bool = False) -> dict[str, Any]:
        """The JSON document of `geoplatform bundle plan --json`."""
        out: dict[str, Any] = {
            "proposals": [
                {"id": r.id, "street": r.street, "orphan_kind": r.orphan_kind, "orphan_ids": list(r.orphan_ids),
                 "host_compound_id": r.host_compound_id, "distance_m": round(float(r.distance_m), 1),
                 "merged_floor_area_m2": round(float(r.merged_floor_area_m2), 1),
                 "merged_households": int(r.merged_households),
                 "host_planned_floor_area_m2": round(float(r.host_planned_floor_area_m2), 1),
                 "within_preferred_area": bool(r.within_preferred_area),
                 "host_firm_warnings": list(self.host_warnings.get(str(r.host_compound_id), ()))}
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


@dataclass(frozen=True)
class _Drawn:
    """Link lines already drawn (a pickled Plan's `_links`)."""

    frame: gpd.GeoDataFrame

    def __call__(self) -> gpd.GeoDataFrame:
        return self.frame

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
    mode_ok = compounds["management_mode"].isin(settings.orphan_mode_set).to_numpy()  # unknown only when asked
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


def find_hosts(compounds: gpd.GeoDataFrame, settings: BundlingSettings,
               building_counts: pd.Series | None = None) -> gpd.GeoDataFrame:
    """Professionally served compounds that may host orphans, with the area they already manage.

    `at_scale` (RULES §5): the host with what it manages is at management scale — at least
    `host_min_floor_area_m2` or `host_min_buildings` buildings, and no orphan itself (a single building,
    a known area under `min_floor_area_m2` or known households under `min_households`). Only hosts at
    scale host; plan_bundles gives an orphan only they could have taken the reason `host_under_scale`.
    `building_counts`: buildings per compound id (without them only the areas and households are judged).
    """
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
    known_area = area.where(_num(compounds.get("floor_area_m2"), compounds.index).notna())
    known_hh = hh.where(_num(compounds.get("households"), compounds.index).notna())
    own_area, own_hh = known_area[is_host].to_numpy(), known_hh[is_host].to_numpy()
    total_area = own_area + extra_area.reindex(ids).fillna(0.0).to_numpy()  # NaN: its own area unknown
    total_hh = own_hh + extra_hh.reindex(ids).fillna(0.0).to_numpy()
    if building_counts is not None:
        per = building_counts.reindex(compounds["id"].to_numpy()).fillna(0).to_numpy()
        extra_b = pd.Series(per, index=compounds.index).groupby(managed_by.to_numpy()).sum()
        n_b = per[is_host.to_numpy()] + extra_b.reindex(ids).fillna(0).to_numpy()
    else:
        n_b = np.full(len(h), np.nan)
    orphan_like = (n_b == settings.max_buildings_orphan) | (total_area < settings.min_floor_area_m2) \
        | (total_hh < settings.min_households)
    out["buildings"] = n_b
    out["at_scale"] = ~orphan_like & ((total_area >= settings.host_min_floor_area_m2)
                                      | (n_b >= settings.host_min_buildings))
    if "company" in h:  # the serving firm: the caller applies the credit gate (RULES §5/§7)
        out["company"] = h["company"].to_numpy(dtype=object)
    return out


# ---------------------------------------------------------------------------------------------
# Planning


def _stable_id(prefix: str, *parts: object) -> str:
    digest = hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:10]
    return f"{prefix}-{digest}"


def proposal_id(street: str, kind: str, host: str, orphan_ids: list[str]) -> str:
    """Deterministic proposal id: the street, the kind's initial and a digest of host and orphans."""
    digest = hashlib.sha1(f"{kind}|{host}|{','.join(sorted(orphan_ids))}".encode()).hexdigest()[:10]
    return f"{street}-{kind[0].upper()}-{digest}"


@lru_cache(maxsize=8)
def _transformer(src: str, dst: int) -> Transformer | None:
    """The always-xy transformer between two CRSs (None when they are the same), built once per pair."""
    src_crs, dst_crs = CRS.from_user_input(src), CRS.from_user_input(dst)
    return None if src_crs.is_exact_same(dst_crs) else Transformer.from_crs(src_crs, dst_crs, always_xy=True)


def _metric(geoms: gpd.GeoSeries, crs: int) -> np.ndarray:
    """The geometries as a shapely array in `crs` (unset CRS taken as EPSG:4326).

    Same coordinates as GeoSeries.to_crs, without its per-call cost: to_crs rebuilds the target
    CRS and hashes both CRSs (WKT) to find its cached transformer, ~0.5 ms a call at district size.
    """
    data = np.asarray(geoms.array, dtype=object)
    if len(data) == 0:
        return np.array([], dtype=object)
    if shapely.has_z(data).any():  # rare: let geopandas handle the z coordinate
        return np.asarray((geoms if geoms.crs is not None else geoms.set_crs(WGS84)).to_crs(crs).array, dtype=object)
    transformer = _transformer(geoms.crs.srs if geoms.crs is not None else f"EPSG:{WGS84}", crs)
    if transformer is None:
        return data
    xy = shapely.get_coordinates(data)
    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return shapely.set_coordinates(data.copy(), np.column_stack([x, y]))


BOX_TEST_MIN_PAIRS = 200  # below this, the box test below costs about what it saves
BOX_PAD_M = 1e-3  # metres: the segment's computed end points may round just outside the geometries' boxes


def _blocked(a: np.ndarray, b: np.ndarray, barrier_tree: shapely.STRtree | None,
             ba: np.ndarray | None = None, bb: np.ndarray | None = None) -> np.ndarray:
    """For each pair (a[i], b[i]): does their shortest segment cross a barrier line? (`ba`, `bb`: their bounds, if known)"""
    blocked = np.zeros(len(a), dtype=bool)
    if barrier_tree is None or len(a) == 0:
        return blocked
    check = _may_cross(a, b, barrier_tree.geometries, ba, bb)
    blocked[check] = _crossing(a[check], b[check], barrier_tree)
    return blocked


class _PairChecks:
    """_blocked of (orphan row, host row) pairs, each pair checked once: the plan's later searches reuse the answers."""

    def __init__(self, og: np.ndarray, hg: np.ndarray, barrier_tree: shapely.STRtree | None, c: _Columns) -> None:
        self.og, self.hg, self.tree, self.c = og, hg, barrier_tree, c
        self.keys = np.empty(0, dtype=np.int64)  # sorted: o * len(hg) + h
        self.blocked = np.empty(0, dtype=bool)

    def __call__(self, oi: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Per pair (oi[k], hi[k]): does a barrier lie between them?"""
        key = oi.astype(np.int64) * len(self.hg) + hi
        out = np.zeros(len(key), dtype=bool)
        known = np.zeros(len(key), dtype=bool)
        if len(self.keys):
            at = np.minimum(np.searchsorted(self.keys, key), len(self.keys) - 1)
            known = self.keys[at] == key
            out[known] = self.blocked[at[known]]
        new = np.flatnonzero(~known)
        if len(new):
            o, h = oi[new], hi[new]
            out[new] = _blocked(self.og[o], self.hg[h], self.tree, self.c.o_bounds[o], self.c.h_bounds[h])
            keys, blocked = np.concatenate([self.keys, key[new]]), np.concatenate([self.blocked, out[new]])
            order = np.argsort(keys, kind="stable")
            self.keys, self.blocked = keys[order], blocked[order]
        return out


BOX_DECIDED_MIN_PAIRS = 64  # below this, the box test of _box_decided costs about what it saves


def _crossing(a: np.ndarray, b: np.ndarray, barrier_tree: shapely.STRtree) -> np.ndarray:
    """For each pair (a[i], b[i]), without pre-test: does their shortest segment cross a barrier line?

    Pairs the boxes decide (_box_decided: a barrier runs between them from side to side, or every barrier
    segment near them misses the hull of their boxes) are not measured; the rest by their shortest segment.
    """
    out = np.zeros(len(a), dtype=bool)
    if len(a) == 0:
        return out
    rest = np.arange(len(a))
    grid = _segment_grid(barrier_tree.geometries) if len(a) >= BOX_DECIDED_MIN_PAIRS else None
    if grid is not None:
        out, free = _box_decided(shapely.bounds(a), shapely.bounds(b), grid)
        rest = np.flatnonzero(~out & ~free)
    if len(rest):
        lines = shapely.shortest_line(a[rest], b[rest])
        if grid is not None and len(rest) >= BOX_DECIDED_MIN_PAIRS:  # the same test on the segments' two ends
            two = shapely.get_num_coordinates(lines) == 2  # (an empty geometry has no shortest line: not judged here)
            ends = np.full((len(lines), 4), np.nan)
            ends[two] = shapely.get_coordinates(lines[two]).reshape(-1, 4)
            sure, free = _box_decided(ends[:, [0, 1, 0, 1]], ends[:, [2, 3, 2, 3]], grid)
            out[rest[sure]] = True
            lines, rest = lines[~sure & ~free], rest[~sure & ~free]
        out[rest[barrier_tree.query(lines, predicate="crosses")[0]]] = True
    return out


SURE_MARGIN_M = 1e-6  # metres: a corner this close to a line is not surely on one side of it (rounding)


def _box_decided(ba: np.ndarray, bb: np.ndarray, grid: _SegmentGrid) -> tuple[np.ndarray, np.ndarray]:
    """(surely crossing, surely not): pairs whose shortest segment crosses a barrier line, or cannot, judged from
    the pairs' bounds `ba`, `bb` alone.

    The segment runs from a point of box A to a point of box B (padded by BOX_PAD_M), so it lies in the hull of
    the two boxes. Against a barrier segment S (u along it from its first end, n across it): when A lies
    strictly on one side of S's line and B on the other, every such segment meets that line once, within the
    hull's cut of the line — the interval between the points where the 16 lines from a corner of A to a corner
    of B meet it (the hull's edges that cross it are among them). When that interval lies strictly inside S,
    the segment crosses S at an interior point. "crosses" (interiors meeting in points only) also needs no
    stretch of that barrier along the segment: every other segment of the barrier whose box meets the pair's
    must cross the same way or miss the hull (the hull on one side of its line, or its cut beyond the segment's
    ends). A pair every segment near it misses cannot be blocked — unless a barrier that is not all lines (a
    polygon: its box is in the tree too) is near. Neither: not known (the caller checks those pairs exactly).
    """
    n = len(ba)
    out, free = np.zeros(n, dtype=bool), np.ones(n, dtype=bool)
    if grid.seg_tree is None or n == 0:
        return out, free
    lo = np.minimum(ba[:, :2], bb[:, :2]) - BOX_PAD_M
    hi = np.maximum(ba[:, 2:], bb[:, 2:]) + BOX_PAD_M
    unknown = np.isnan(lo).any(axis=1) | np.isnan(hi).any(axis=1)
    free[unknown] = False
    rows = np.flatnonzero(~unknown)
    # the joint box's diagonal: its envelope is the box, and a line is cheaper to make than a polygon
    pi, si = grid.seg_tree.query(shapely.linestrings(np.stack([lo[rows], hi[rows]], axis=1)))
    if len(pi) == 0:
        return out, free
    pi = rows[pi]
    seg = grid.segments[si]
    length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    ok = (length > 0) & grid.seg_line[si]
    safe = np.where(ok, length, 1.0)
    ux, uy = (seg[:, 2] - seg[:, 0]) / safe, (seg[:, 3] - seg[:, 1]) / safe

    def extent(b: np.ndarray, ax: np.ndarray, ay: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lowest and highest of (x - x0) * ax + (y - y0) * ay over each padded box (a linear function: at corners)."""
        px, qx = (b[:, 0] - BOX_PAD_M - seg[:, 0]) * ax, (b[:, 2] + BOX_PAD_M - seg[:, 0]) * ax
        py, qy = (b[:, 1] - BOX_PAD_M - seg[:, 1]) * ay, (b[:, 3] + BOX_PAD_M - seg[:, 1]) * ay
        return np.minimum(px, qx) + np.minimum(py, qy), np.maximum(px, qx) + np.maximum(py, qy)

    box_a, box_b = ba[pi], bb[pi]
    (ua_lo, ua_hi), (ub_lo, ub_hi) = extent(box_a, ux, uy), extent(box_b, ux, uy)
    (na_lo, na_hi), (nb_lo, nb_hi) = extent(box_a, -uy, ux), extent(box_b, -uy, ux)
    m = SURE_MARGIN_M
    apart = ok & (((na_lo > m) & (nb_hi < -m)) | ((na_hi < -m) & (nb_lo > m)))
    # the hull's cut lies within the boxes' u-extent: when that decides, the 16 lines are not needed
    u_lo, u_hi = np.minimum(ua_lo, ub_lo), np.maximum(ua_hi, ub_hi)
    crossing = apart & (u_lo > m) & (u_hi < length - m)
    side = (np.minimum(na_lo, nb_lo) > m) | (np.maximum(na_hi, nb_hi) < -m)
    clear = ok & (side | (u_hi < -m) | (u_lo > length + m))
    j = np.flatnonzero(apart & ~crossing & ~clear)
    if len(j):
        def corners(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            """(u, n) of each padded box's four corners in its segment's frame: two (k, 4) arrays."""
            x = np.column_stack([b[:, 0] - BOX_PAD_M, b[:, 2] + BOX_PAD_M, b[:, 0] - BOX_PAD_M, b[:, 2] + BOX_PAD_M])
            y = np.column_stack([b[:, 1] - BOX_PAD_M, b[:, 1] - BOX_PAD_M, b[:, 3] + BOX_PAD_M, b[:, 3] + BOX_PAD_M])
            x, y = x - seg[j, :1], y - seg[j, 1:2]
            return x * ux[j, None] + y * uy[j, None], y * ux[j, None] - x * uy[j, None]

        (ua, na), (ub, nb) = corners(box_a[j]), corners(box_b[j])
        nai, naj, uai, ubj = na[:, :, None], nb[:, None, :], ua[:, :, None], ub[:, None, :]
        cut = ((nai * ubj - naj * uai) / (nai - naj)).reshape(len(j), 16)  # where line (corner i of A, j of B) meets S's
        t_lo, t_hi = cut.min(axis=1), cut.max(axis=1)
        crossing[j] = (t_lo > m) & (t_hi < length[j] - m)
        clear[j] = (t_hi < -m) | (t_lo > length[j] + m)
    # per (pair, barrier): a crossing segment, and every segment near the pair crossing or clear
    key = pi * len(grid.barriers) + grid.seg_barrier[si]
    uk, inv = np.unique(key, return_inverse=True)
    bad = np.bincount(inv, weights=~(crossing | clear), minlength=len(uk)) > 0
    crossed = np.bincount(inv, weights=crossing, minlength=len(uk)) > 0
    out[uk[crossed & ~bad] // len(grid.barriers)] = True
    free[pi[~clear]] = False
    return out, free


def _may_cross(a: np.ndarray, b: np.ndarray, barriers: np.ndarray,
               ba: np.ndarray | None = None, bb: np.ndarray | None = None) -> np.ndarray:
    """Pairs whose joint bounding box meets a barrier segment's box (every pair when the test would not pay).

    The shortest segment between a and b lies inside that box, and it can only cross a barrier line
    where it meets one of the line's segments, so only these pairs can be blocked. shortest_line is
    the costly part of a barrier check, and in a large batch most pairs are far from any barrier
    segment (a long road's whole box would cover much of the district). The test is made on a grid
    (see _SegmentGrid): a pair is kept when a cell its box covers meets a segment's box, so it keeps
    every pair the boxes themselves would keep. `ba`, `bb`: the bounds of a and b, if known.
    """
    if len(a) < BOX_TEST_MIN_PAIRS:
        return np.arange(len(a))
    ba = shapely.bounds(a) if ba is None else ba
    bb = shapely.bounds(b) if bb is None else bb
    lo = np.minimum(ba[:, :2], bb[:, :2]) - BOX_PAD_M
    hi = np.maximum(ba[:, 2:], bb[:, 2:]) + BOX_PAD_M
    return np.flatnonzero(_segment_grid(barriers).meets(lo, hi))


GRID_CELLS = 256  # cells along the longer side of the barriers' extent


@dataclass
class _SegmentGrid:
    """Cells over the barriers' extent, marked where a barrier segment's box meets them, as a summed-area table.

    A box meets a segment's box only at a point of some cell both cover, so "a cell the box covers is
    marked" holds for every box that meets a segment's box (and for some more, near them).
    """

    barriers: np.ndarray  # the array the grid was last asked for (kept: the cache compares by identity first)
    key: bytes  # the barriers' types and coordinates
    origin: np.ndarray
    cell: float
    shape: tuple[int, int]
    table: np.ndarray  # (ny + 1, nx + 1) cumulative counts of marked cells
    segments: np.ndarray  # (n, 4) x0, y0, x1, y1: the barriers' line segments, then the other parts' boxes
    seg_line: np.ndarray  # (n,) a segment _box_decided may judge (of a barrier made of lines only)
    seg_barrier: np.ndarray  # (n,) each segment's barrier (position in `barriers`)
    seg_tree: shapely.STRtree | None  # of the segments' boxes (None: no such segment)

    def meets(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return self.meets_xy(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1])

    def meets_xy(self, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
        """meets() with the boxes as four columns."""
        ny, nx = self.shape
        ox, oy = self.origin
        unknown = np.isnan(x0) | np.isnan(y0) | np.isnan(x1) | np.isnan(y1)  # no bounds (empty): kept, to be checked

        def cell(v: np.ndarray, o: float, n: int) -> np.ndarray:
            return np.clip(np.floor(np.where(unknown, 0.0, v - o) / self.cell), 0, n - 1).astype(np.intp)

        i0, j0, i1, j1 = cell(x0, ox, nx), cell(y0, oy, ny), cell(x1, ox, nx), cell(y1, oy, ny)
        t = self.table
        return ((t[j1 + 1, i1 + 1] - t[j0, i1 + 1] - t[j1 + 1, i0] + t[j0, i0]) > 0) | unknown


_GRID_CACHE: list[_SegmentGrid] = []


def _segment_grid(barriers: np.ndarray) -> _SegmentGrid:
    """The _SegmentGrid of these barriers (kept for the last barriers: one plan asks many times, and plans repeat)."""
    if _GRID_CACHE and _GRID_CACHE[0].barriers is barriers:
        return _GRID_CACHE[0]
    parts, part_of = shapely.get_parts(barriers, return_index=True)
    key = shapely.get_coordinates(parts).tobytes() + shapely.get_type_id(parts).tobytes() \
        + shapely.get_num_coordinates(parts).tobytes() + part_of.tobytes()  # (which barrier each part is of: see _box_decided)
    if _GRID_CACHE and _GRID_CACHE[0].key == key:  # the same barriers in another array
        _GRID_CACHE[0].barriers = barriers
        return _GRID_CACHE[0]
    line = np.isin(shapely.get_type_id(parts), (1, 2))  # LineString, LinearRing
    xy, part = shapely.get_coordinates(parts[line], return_index=True)
    seg = np.flatnonzero(part[1:] == part[:-1])  # consecutive vertices of one line
    x0, y0, x1, y1 = xy[seg, 0], xy[seg, 1], xy[seg + 1, 0], xy[seg + 1, 1]
    seg_barrier = part_of[line][part[seg]]
    lines_only = np.bincount(part_of[~line], minlength=len(barriers)) == 0  # a barrier with no polygon part
    known = ~np.isnan(xy[seg]).any(axis=1) & ~np.isnan(xy[seg + 1]).any(axis=1)
    other = shapely.bounds(parts[~line])  # a polygon barrier's line of crossing is its boundary, within its box
    other_known = ~np.isnan(other).any(axis=1)
    # _box_decided's segments: the lines' (to be judged only where their barrier is all lines), then the other
    # parts' boxes (as a diagonal: never judged, they only make a pair near them unknown)
    segments = np.vstack([np.column_stack([x0, y0, x1, y1])[known], other[other_known]])
    seg_line = np.r_[lines_only[seg_barrier][known], np.zeros(int(other_known.sum()), dtype=bool)]
    seg_of = np.r_[seg_barrier[known], part_of[~line][other_known]]
    boxes = np.vstack([np.column_stack([np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1),
                                        np.maximum(y0, y1)]), other.reshape(-1, 4)])
    boxes = boxes[~np.isnan(boxes).any(axis=1)]
    origin = boxes[:, :2].min(axis=0) if len(boxes) else np.zeros(2)
    size = (boxes[:, 2:].max(axis=0) - origin) if len(boxes) else np.ones(2)
    cell = max(float(size.max()) / GRID_CELLS, 1e-6)
    nx, ny = (np.floor(size / cell).astype(int) + 1).tolist()
    marks = np.zeros((ny, nx), dtype=np.int32)
    i0, j0 = np.floor((boxes[:, :2] - origin) / cell).astype(np.intp).T
    i1, j1 = np.floor((boxes[:, 2:] - origin) / cell).astype(np.intp).T
    for a, b, c, d in zip(j0.tolist(), j1.tolist(), i0.tolist(), i1.tolist(), strict=True):
        marks[a:b + 1, c:d + 1] = 1
    table = np.zeros((ny + 1, nx + 1), dtype=np.int64)
    table[1:, 1:] = marks.cumsum(axis=0).cumsum(axis=1)
    seg_tree = shapely.STRtree(shapely.linestrings(segments.reshape(-1, 2, 2))) if len(segments) else None
    grid = _SegmentGrid(barriers, key, origin, cell, (ny, nx), table, segments, seg_line, seg_of, seg_tree)
    _GRID_CACHE[:] = [grid]
    return grid


REACH_EXACT_M = 1e-6  # metres: a pair this close to the radius is decided by dwithin itself, not by its distance


def _in_reach(tree: shapely.STRtree, og: np.ndarray, rows: np.ndarray, hg: np.ndarray, radius: np.ndarray | float,
              keep: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
              bounds: np.ndarray | None = None, h_bounds: np.ndarray | None = None,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs (orphan row, host) of `tree.query(og[rows], "dwithin", radius)`, with their distances.

    The same pairs, found more cheaply: the geometries' boxes grown by the radius (what dwithin queries
    too), `keep(orphan rows, hosts)` (e.g. the same street) on those candidates, and one distance per pair
    left, which the pairs would need anyway. A pair within REACH_EXACT_M of the radius is decided by
    dwithin itself (two GEOS computations of one distance may differ in the last bits). `h_bounds`: the
    bounds of every geometry of hg, if known: a pair whose boxes' nearest points are beyond the radius
    (the grown box's corners) is left out without a distance.
    """
    g = og[rows]
    r = np.broadcast_to(np.asarray(radius, dtype=float), len(rows))
    bx = shapely.bounds(g) if bounds is None else bounds[rows]  # `bounds`: of every geometry of og, if known
    q, hi = tree.query(shapely.box(bx[:, 0] - r, bx[:, 1] - r, bx[:, 2] + r, bx[:, 3] + r))
    oi = rows[q]
    if keep is not None:
        ok = keep(oi, hi)
        q, oi, hi = q[ok], oi[ok], hi[ok]
    if h_bounds is not None and len(q):
        a, b = bx[q], h_bounds[hi]
        dx = np.maximum(np.maximum(a[:, 0] - b[:, 2], b[:, 0] - a[:, 2]), 0.0)
        dy = np.maximum(np.maximum(a[:, 1] - b[:, 3], b[:, 1] - a[:, 3]), 0.0)
        ok = np.flatnonzero(dx * dx + dy * dy <= (r[q] + REACH_EXACT_M) ** 2)  # the distance is at least that
        q, oi, hi = q[ok], oi[ok], hi[ok]
    dist = shapely.distance(og[oi], hg[hi])
    rq = r[q]
    inside = dist < rq - REACH_EXACT_M
    edge = np.flatnonzero(~inside & (dist <= rq + REACH_EXACT_M))
    if len(edge):
        a = og[oi[edge]]
        shapely.prepare(a)  # as the tree query does with its input geometries
        inside[edge] = shapely.dwithin(a, hg[hi[edge]], rq[edge])
    return oi[inside], hi[inside], dist[inside]


NEAREST_FRACTIONS = (1 / 16, 1 / 4, 1.0)  # growing boxes (fractions of max_distance) the nearest host is sought in


def _box_gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance between the boxes a[i] and b[i] (rows of minx, miny, maxx, maxy): at most their geometries' distance."""
    dx = np.maximum(np.maximum(a[:, 0] - b[:, 2], b[:, 0] - a[:, 2]), 0.0)
    dy = np.maximum(np.maximum(a[:, 1] - b[:, 3], b[:, 1] - a[:, 3]), 0.0)
    return np.sqrt(dx * dx + dy * dy)


def _nearest(tree: shapely.STRtree, og: np.ndarray, rows: np.ndarray, hg: np.ndarray, max_distance: float,
             bounds: np.ndarray, h_bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of `tree.query_nearest(og[rows], max_distance, return_distance=True, all_matches=True)`.

    Each orphan row's nearest hosts (all that tie) if within `max_distance`, with their distance, the
    orphan's GEOS distance to the host as the tree computes it; found more cheaply (the tree's own search
    measures many more pairs). The hosts in each orphan's box grown by a radius r (growing, see
    NEAREST_FRACTIONS): the pairs of smallest box distance (`_box_gap`) are measured, then every pair whose
    box distance is within that distance (a nearer host or a tie has a box that near). Where the nearest
    found is closer than r, every host as near is inside the grown box: the orphan is done; the others
    go on to the next radius. `bounds`, `h_bounds`: the bounds of og and hg. Pairs grouped by orphan row.
    """
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    todo = rows
    best = np.full(len(og), np.inf)
    for frac in NEAREST_FRACTIONS:
        if len(todo) == 0:
            break
        last = frac >= 1.0
        r = max_distance if last else max_distance * frac
        pad = r + 2 * REACH_EXACT_M if last else r  # the last box keeps every host within max_distance
        bx = bounds[todo]
        q, hi = tree.query(shapely.box(bx[:, 0] - pad, bx[:, 1] - pad, bx[:, 2] + pad, bx[:, 3] + pad))
        oi = todo[q]
        gap = _box_gap(bounds[oi], h_bounds[hi])
        k = np.flatnonzero(gap <= r + REACH_EXACT_M)  # farther boxes: the host is out of reach of this radius
        oi, hi, gap = oi[k], hi[k], gap[k]
        low = np.full(len(og), np.inf)
        np.minimum.at(low, oi, gap)
        d = np.full(len(oi), np.inf)
        m = np.flatnonzero(gap <= low[oi])
        d[m] = shapely.distance(og[oi[m]], hg[hi[m]])
        best[todo] = np.inf
        np.minimum.at(best, oi[m], d[m])
        m = np.flatnonzero((gap > low[oi]) & (gap <= best[oi] + REACH_EXACT_M))
        if len(m):
            d[m] = shapely.distance(og[oi[m]], hg[hi[m]])
            np.minimum.at(best, oi[m], d[m])
        done = best <= max_distance if last else best < r - REACH_EXACT_M
        sel = np.flatnonzero(done[oi] & (d == best[oi]))
        out.append((oi[sel], hi[sel], d[sel]))
        todo = todo[~done[todo]]
    if not out:
        e = np.array([], dtype=np.intp)
        return e, e, np.array([], dtype=float)
    oi, hi, d = (np.concatenate(x) for x in zip(*out, strict=True))
    by = np.argsort(oi, kind="stable")
    return oi[by], hi[by], d[by]


@lru_cache(maxsize=8)
def _empty_template(columns: tuple[str, ...], crs: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in columns}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def _empty(columns: list[str], crs: int = WGS84) -> gpd.GeoDataFrame:
    return _empty_template(tuple(columns), crs).copy()


SEARCH_FRACTIONS = (0.25, 0.5, 1.0)  # growing search radii for orphans not settled by their nearest host
REACH_MARGIN_M = 1e-6  # metres: rounding slack between two GEOS computations of one distance
LAZY_ROUNDS = 3  # barrier checks of the best-ranked pair per orphan before checking all that remain


@dataclass
class _Best:
    """Chosen (orphan, host) pairs as parallel arrays."""

    o: np.ndarray
    h: np.ndarray
    dist: np.ndarray
    shared: np.ndarray
    over: np.ndarray

    def take(self, mask: np.ndarray) -> _Best:
        return _Best(self.o[mask], self.h[mask], self.dist[mask], self.shared[mask], self.over[mask])

    @staticmethod
    def concat(parts: list[_Best]) -> _Best:
        return _Best(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("o", "h", "dist", "shared", "over")))


@dataclass
class _Resolved:
    """Best usable host per orphan among some candidates, and what explains orphans left without one."""

    best: _Best
    blocked: np.ndarray  # orphan rows with a same-street host in reach behind a barrier
    other_street: np.ndarray  # orphan rows with a host of another street in reach
    nearest: np.ndarray  # per orphan row: nearest host distance in reach (any street), inf if none


def _dkey(dist: np.ndarray, resolution: float) -> np.ndarray:
    return np.floor(dist / resolution + 0.5) if resolution > 0 else dist


def _tied(close: np.ndarray, o: np.ndarray, over: np.ndarray, dkey: np.ndarray) -> np.ndarray:
    """Mask of the `close` pairs (within the shared-boundary tolerance) that tie with another close pair of their
    orphan at (over, distance key): only there can the shared boundary change the ranking. A pair farther than the
    tolerance shares none and is farther than any close pair, so a close pair alone in its tie ranks first either way.
    """
    ci = np.flatnonzero(close)
    out = np.zeros(len(close), dtype=bool)
    if len(ci) < 2:
        return out
    ci = ci[np.lexsort((dkey[ci], over[ci], o[ci]))]
    same = (o[ci][1:] == o[ci][:-1]) & (over[ci][1:] == over[ci][:-1]) & (dkey[ci][1:] == dkey[ci][:-1])
    out[ci[1:][same]] = True
    out[ci[:-1][same]] = True
    return out


def _rank(values: np.ndarray) -> np.ndarray:
    """Each value's position in sorted order (values usually arrive sorted: then no sort is needed)."""
    if len(values) < 2 or bool(np.all(values[1:] >= values[:-1])):
        return np.arange(len(values))
    return np.argsort(np.argsort(values, kind="stable"), kind="stable")


def _firsts(sorted_keys: np.ndarray) -> np.ndarray:
    """Mask of the first element of each run of equal values."""
    return np.r_[True, sorted_keys[1:] != sorted_keys[:-1]] if len(sorted_keys) else np.zeros(0, bool)


def plan_bundles(orphans: gpd.GeoDataFrame, hosts: gpd.GeoDataFrame, barriers: gpd.GeoDataFrame | None,
                 settings: BundlingSettings, ineligible_hosts: gpd.GeoDataFrame | None = None) -> Plan:
    """Match each orphan to its best host (RULES §5), group the rest into new bundles or list why unmatched.

    Best host: same street, within max_distance edge to edge, shortest segment crossing no barrier;
    ranked by merged area within the preferred maximum first, then distance (at the distance
    resolution), then shared boundary length, then exact distance, then host id.
    `ineligible_hosts`: hosts whose firm fails the credit gate (RULES §7); they host nothing, and an
    orphan left unmatched that one of them could have hosted gets the reason `host_firm_ineligible`.
    Hosts under management scale (`at_scale` false, see find_hosts) host nothing either: the reason is
    `host_under_scale` (the firm's reason wins when both apply). An orphan whose street is unknown can
    have no host (hosts are of the same street) and joins no new bundle: `street_unknown`.
    """
    s = settings
    under_scale = None  # (metric geometries, streets) of the hosts under management scale
    hg = _metric(hosts.geometry, s.metric_crs)  # every host's at once: those under scale give reasons (step 4)
    if "at_scale" in hosts:
        at_scale = hosts["at_scale"].fillna(False).to_numpy(dtype=bool)
        if not at_scale.all():
            under_scale = hg[~at_scale], hosts["street_code"].to_numpy(dtype=object)[~at_scale]
            hosts, hg = hosts[at_scale], hg[at_scale]
    n = len(orphans)
    og = _metric(orphans.geometry, s.metric_crs)
    bg = _metric(barriers.geometry, s.metric_crs) if barriers is not None and len(barriers) else np.array([])
    bg = bg[~shapely.is_empty(bg) & ~shapely.is_missing(bg)] if len(bg) else bg
    barrier_tree = shapely.STRtree(bg) if len(bg) else None
    host_tree = shapely.STRtree(hg) if len(hg) else None
    c = _columns(orphans, hosts)
    c.o_bounds, c.h_bounds = shapely.bounds(og), shapely.bounds(hg)
    o_street, h_street, h_ids = c.o_street, c.h_street, c.h_ids
    o_area, h_area = c.o_area, c.h_area
    h_rank = _rank(h_ids)  # host id order as integers (ties are broken by id)
    valid_o = ~(shapely.is_missing(og) | shapely.is_empty(og)) if n else np.zeros(0, bool)
    empty_i = np.array([], dtype=np.intp)
    tol, res = s.shared_boundary_tolerance_m, s.distance_resolution_m
    checked = _PairChecks(og, hg, barrier_tree, c)  # the growing radii meet the same pairs again

    def resolve(oi: np.ndarray, hi: np.ndarray, dist: np.ndarray) -> _Resolved:
        """Best usable host per orphan among candidate pairs (oi, hi) at distances `dist`.

        Pairs are ranked first; barriers are then checked for the best-ranked pair of each orphan
        (a few vectorised rounds), then for all pairs still open.
        """
        nearest = np.full(n, np.inf)
        np.minimum.at(nearest, oi, dist)
        same = o_street[oi] == h_street[hi]
        o_, h_, d_ = oi[same], hi[same], dist[same]
        over = (o_area[o_] + h_area[h_]) > s.preferred_max_merged_area_m2
        dk = _dkey(d_, res)
        shared = np.zeros(len(o_))
        close = d_ <= tol
        measured = _tied(close, o_, over, dk)
        _share(shared, measured, o_, h_)
        order = np.lexsort((h_rank[h_], d_, -shared, dk, over, o_))
        o_, h_, d_, shared, over = o_[order], h_[order], d_[order], shared[order], over[order]
        close, measured = close[order], measured[order]
        alive = np.ones(len(o_), dtype=bool)
        settled = np.zeros(n, dtype=bool)  # per orphan row (a mask: np.isin sorts on every round)
        chosen, blocked = [], []
        for round_ in range(LAZY_ROUNDS + 1):
            idx = np.flatnonzero(alive)
            if len(idx) == 0:
                break
            last = round_ == LAZY_ROUNDS
            check = idx if last else idx[_firsts(o_[idx])]
            blk = checked(o_[check], h_[check])
            blocked.append(o_[check[blk]])
            alive[check[blk]] = False
            if last:
                idx = np.flatnonzero(alive)
                chosen.append(idx[_firsts(o_[idx])])
                break
            done = check[~blk]
            chosen.append(done)
            settled[o_[done]] = True
            alive &= ~settled[o_]
        pick = np.concatenate(chosen) if chosen else empty_i
        late = np.zeros(len(o_), dtype=bool)
        late[pick] = close[pick] & ~measured[pick]  # a chosen pair's shared boundary is in its proposal
        _share(shared, late, o_, h_)
        best = _Best(o_[pick], h_[pick], d_[pick], shared[pick], over[pick])
        return _Resolved(best, np.unique(np.concatenate(blocked)) if blocked else empty_i,
                         np.unique(oi[~same]), nearest)

    def _share(shared: np.ndarray, which: np.ndarray, o_: np.ndarray, h_: np.ndarray) -> None:
        """shared[which] = the length of each orphan's boundary within the tolerance of its host."""
        if which.any():
            uh, inv = np.unique(h_[which], return_inverse=True)
            zone = shapely.buffer(hg[uh], tol)[inv]
            shared[which] = shapely.length(shapely.intersection(shapely.boundary(og[o_[which]]), zone))

    def query(rows: np.ndarray, radius: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if host_tree is None or len(rows) == 0:
            return empty_i, empty_i, np.array([], float)
        return _in_reach(host_tree, og, rows, hg, radius, bounds=c.o_bounds, h_bounds=c.h_bounds)

    # 1. the nearest host(s), like sjoin_nearest. Where one is in the orphan's street it is the best
    #    host, unless a host tied at the distance resolution shares more boundary (only possible when the
    #    nearest is within the shared-boundary tolerance: those few orphans get a second, tiny query), a
    #    barrier is in the way, or the merged area is over the preferred maximum (settled in step 2).
    rows = np.flatnonzero(valid_o)
    parts: list[_Best] = []
    unsettled = rows
    reach = np.full(n, np.inf)  # per orphan row: distance to its nearest host of any street (inf: none in reach)
    if host_tree is not None and len(rows):
        oi, hi, d1 = _nearest(host_tree, og, rows, hg, s.max_distance_m, c.o_bounds, c.h_bounds)
        np.minimum.at(reach, oi, d1)
        same1 = o_street[oi] == h_street[hi]
        d1_of = np.full(n, np.inf)
        np.minimum.at(d1_of, oi[same1], d1[same1])
        near = np.zeros(n, dtype=bool)  # only these may have a tie that shares boundary
        near[oi[same1 & (d1 <= tol)]] = True
        near_rows = np.flatnonzero(near)
        far = same1 & ~near[oi]
        oi_t, hi_t, d_t = query(near_rows, (_dkey(d1_of[near_rows], res) + 0.5) * res if res > 0
                                else d1_of[near_rows])
        first = resolve(np.concatenate([oi[far], oi_t]), np.concatenate([hi[far], hi_t]),
                        np.concatenate([d1[far], d_t])).best
        parts.append(first.take(~first.over))
        unsettled = np.setdiff1d(rows, parts[0].o)
    # 2. the rest (nearest host in another street or behind a barrier, or over the preferred area):
    #    every host in reach, of any street (which also tells why an orphan stays unmatched)
    #    Searched in growing radii: a usable host within the preferred area found closer than the
    #    radius (by more than the resolution) cannot be beaten by one farther away.
    full = resolve(empty_i, empty_i, np.array([], float))
    parts.append(full.best)
    for radius in SEARCH_FRACTIONS:
        r = s.max_distance_m * radius
        if len(unsettled) == 0:
            break
        # an orphan with no host at all within r gets no pair from the query: leave it out (the margin
        # covers query_nearest and dwithin computing the same distance apart)
        found = resolve(*query(unsettled[reach[unsettled] <= r + REACH_MARGIN_M], r))
        if radius == 1.0:
            full = found
            parts.append(found.best)
            break
        ok = ~found.best.over & (found.best.dist < r - res)
        parts.append(found.best.take(ok))
        unsettled = np.setdiff1d(unsettled, found.best.o[ok])
    best = _Best.concat(parts)
    # 3. the 10万 preference is cumulative over the plan: orphans bound for one host together may not push it
    #    over while another host in reach would stay under (RULES §5)
    best, load = _settle_loads(best, og, hg, host_tree, barrier_tree, c, s, h_rank)

    proposals, proposal_of, per_host, links = _proposals(og, hg, best, c, s, load)

    # 4. orphans without a host: reasons, then groups of neighbours
    matched = np.zeros(n, dtype=bool)
    matched[best.o] = True
    # the full candidate set covers every orphan left without a host
    blocked_same = np.zeros(n, dtype=bool)
    blocked_same[full.blocked] = True
    other_street = np.zeros(n, dtype=bool)
    other_street[full.other_street] = True
    nearest = np.where(np.isfinite(full.nearest), full.nearest, np.nan)
    nearest[matched] = np.nan
    reason = np.where(blocked_same, "only_across_barrier", np.where(other_street, "only_other_street",
                                                                      "no_host_in_reach"))
    if under_scale is not None:
        barred = _usable_host(og, np.flatnonzero(~matched & valid_o), c, *under_scale, barrier_tree, s)
        reason = np.where(barred, "host_under_scale", reason)
    if ineligible_hosts is not None and len(ineligible_hosts):
        barred = _usable_host(og, np.flatnonzero(~matched & valid_o), c,
                              _metric(ineligible_hosts.geometry, s.metric_crs),
                              ineligible_hosts["street_code"].to_numpy(dtype=object), barrier_tree, s)
        reason = np.where(barred, "host_firm_ineligible", reason)
    no_street = pd.isna(pd.Series(o_street, dtype=object)).to_numpy() if n else np.zeros(0, bool)
    reason = np.where(no_street, "street_unknown", reason)
    rest = np.flatnonzero(~matched & valid_o & ~no_street)  # a new bundle is of one street
    bundles, in_bundle, bundle_of = _new_bundles(og, rest, c, barrier_tree, s)
    left = np.setdiff1d(np.flatnonzero(~matched), in_bundle)
    o_kind, o_id = c.o_kind, c.o_id
    if len(left):  # by street (unknown last), kind, id
        st = o_street[left]
        left = left[np.lexsort((o_id[left].astype(str), o_kind[left].astype(str), st.astype(str),
                                np.array([v is None for v in st])))]
    unmatched = pd.DataFrame({
        "orphan_kind": o_kind[left],
        "orphan_id": o_id[left],
        "street": o_street[left],
        "reason": reason[left],
        "nearest_host_distance_m": nearest[left],
    }, columns=UNMATCHED_COLUMNS)

    status = np.full(n, "unmatched", dtype=object)
    status[matched] = "proposed"
    status[in_bundle] = "new_bundle"
    out_orphans = _renumbered(orphans)
    out_orphans["status"] = status
    out_orphans["reason"] = np.where(status == "unmatched", reason, None)
    out_orphans["nearest_host_distance_m"] = nearest
    out_orphans["proposal_id"] = proposal_of
    bundle_ids = np.full(n, None, dtype=object)
    bundle_ids[in_bundle] = bundle_of
    out_orphans["bundle_id"] = bundle_ids

    used = np.flatnonzero(per_host)
    used_hosts = hosts.iloc[used]
    used_hosts.index = pd.RangeIndex(len(used))  # as reset_index(drop=True), without another frame copy
    used_hosts["proposals"] = per_host[used].astype(int)
    return Plan(proposals=proposals, new_bundles=bundles, unmatched=unmatched,
                orphans=out_orphans, hosts=used_hosts, settings=s, _links=links)


def _usable_host(og: np.ndarray, rows: np.ndarray, c: _Columns, hg: np.ndarray, h_street: np.ndarray,
                 barrier_tree: shapely.STRtree | None, s: BundlingSettings) -> np.ndarray:
    """Per orphan row: would one of the hosts `hg` (metric geometries; streets `h_street`) have hosted it (same
    street, in reach, no barrier between)?

    As a `dwithin` query and a barrier check of every pair, deciding by the boxes where they tell (see
    _box_pairs) and checking the other pairs a few per orphan a round, only for orphans not known yet.
    """
    out = np.zeros(len(og), dtype=bool)
    if len(rows) == 0 or len(hg) == 0:
        return out
    valid = ~(shapely.is_missing(hg) | shapely.is_empty(hg))
    hb = shapely.bounds(hg)
    cols = replace(c, h_street=h_street, h_bounds=hb, street_codes=None)
    p = _box_pairs(rows, og, hg, shapely.STRtree(hg), barrier_tree, cols, s)
    keep = valid[p.h]
    p = p.take(keep)
    out[p.o[p.state == USABLE]] = True
    take = 1
    while True:
        need = np.flatnonzero((p.state == UNKNOWN) & ~out[p.o])
        if len(need) == 0:
            return out
        chosen = _few_per_key(need, p.o[need], p.lb[need], take)
        _check(p, chosen, og, hg, barrier_tree, s)
        out[p.o[chosen[p.state[chosen] == USABLE]]] = True
        take *= 2


@dataclass
class _Columns:
    """The orphan and host columns the plan reads, as arrays (unknown numbers as 0)."""

    o_id: np.ndarray  # as given
    o_id_str: np.ndarray
    o_kind: np.ndarray
    o_street: np.ndarray
    o_area: np.ndarray
    o_hh: np.ndarray
    h_ids: np.ndarray
    h_street: np.ndarray
    h_area: np.ndarray
    h_hh: np.ndarray
    o_bounds: np.ndarray | None = None  # the metric geometries' bounds (set by plan_bundles)
    h_bounds: np.ndarray | None = None
    street_codes: tuple[np.ndarray, np.ndarray] | None = None  # see _street_codes

    def codes(self) -> tuple[np.ndarray, np.ndarray]:
        """Orphan and host streets as integers that compare as the values do (`==`), computed once."""
        if self.street_codes is None:
            self.street_codes = _street_codes(self.o_street, self.h_street)
        return self.street_codes


def _street_codes(o_street: np.ndarray, h_street: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes equal where `o_street[i] == h_street[j]` (None equals None; NaN equals nothing)."""
    both = np.concatenate([o_street, h_street]).astype(object)
    none = np.array([v is None for v in both], dtype=bool)
    na = pd.isna(both) & ~none
    codes = np.full(len(both), -1, dtype=np.int64)
    ok = ~none & ~na
    if ok.any():
        codes[ok] = pd.factorize(both[ok])[0]
    n = len(o_street)
    codes[:n][na[:n]] = -2  # NaN: never equal to a host's street
    codes[n:][na[n:]] = -3
    return codes[:n], codes[n:]


def _columns(orphans: pd.DataFrame, hosts: pd.DataFrame) -> _Columns:
    """Read the orphan and host columns once."""
    o_id = orphans["orphan_id"]
    return _Columns(
        o_id=o_id.to_numpy(), o_id_str=o_id.astype(str).to_numpy(), o_kind=orphans["orphan_kind"].to_numpy(),
        o_street=orphans["street_code"].to_numpy(dtype=object),
        o_area=orphans["floor_area_m2"].fillna(0.0).to_numpy(dtype=float),
        o_hh=orphans["households"].fillna(0.0).to_numpy(dtype=float),
        h_ids=hosts["host_compound_id"].astype(str).to_numpy(), h_street=hosts["street_code"].to_numpy(dtype=object),
        h_area=hosts["floor_area_m2"].fillna(0.0).to_numpy(dtype=float),
        h_hh=hosts["households"].fillna(0.0).to_numpy(dtype=float))


def _renumbered(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy of `frame` indexed 0..n-1 (a plain copy when it already is: reset_index costs twice as much)."""
    if frame.index.equals(pd.RangeIndex(len(frame))):
        return frame.copy()
    return frame.reset_index(drop=True)


def _proposals(og: np.ndarray, hg: np.ndarray, best: _Best, c: _Columns,
               s: BundlingSettings, load: np.ndarray) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, Callable[[], gpd.GeoDataFrame] | None]:
    """One proposal per orphan compound, one per host for the orphan buildings it gets.

    Returns the proposals, each orphan row's proposal id (None where it has none), the number of
    proposals of each host row and the lazy link lines.
    """
    of_orphan = np.full(len(c.o_id), None, dtype=object)
    per_host = np.zeros(len(c.h_ids), dtype=np.intp)
    if len(best.o) == 0:
        return pd.DataFrame({k: [] for k in PROPOSAL_COLUMNS}), of_orphan, per_host, None
    o_ids, o_kind, o_street, h_ids = c.o_id_str, c.o_kind, c.o_street, c.h_ids
    o_area, o_hh, h_area, h_hh = c.o_area, c.o_hh, c.h_area, c.h_hh
    # buildings bound for the same host form one proposal; each compound is its own proposal
    group = np.where(o_kind[best.o] == "building", best.h, len(h_ids) + best.o)
    order = np.lexsort((o_ids[best.o], group))
    o, h, dist = best.o[order], best.h[order], best.dist[order]
    first = _firsts(group[order])
    starts = np.flatnonzero(first)
    group_no = np.cumsum(first) - 1
    go, gh = o[starts], h[starts]
    member_ids = o_ids[o].tolist()  # slicing one list is much cheaper than np.split into many small arrays
    members = [member_ids[a:b] for a, b in zip(starts, [*starts[1:], len(o)], strict=True)]
    streets, kinds, host_ids = o_street[go], o_kind[go], h_ids[gh]
    ids = np.array([proposal_id(st, k, ho, m) for st, k, ho, m in zip(streets, kinds, host_ids, members, strict=True)],
                   dtype=object)
    area = np.add.reduceat(o_area[o], starts)
    hh = np.add.reduceat(o_hh[o], starts)
    merged_area = area + h_area[gh]
    columns = {
        "id": ids, "street": streets, "orphan_kind": kinds, "orphan_ids": _object_array(members),
        "host_compound_id": host_ids,
        "distance_m": np.maximum.reduceat(dist, starts), "shared_boundary_m": np.add.reduceat(best.shared[order], starts),
        "merged_floor_area_m2": merged_area, "merged_households": (hh + h_hh[gh]).astype(int),
        "orphan_floor_area_m2": area, "orphan_households": hh.astype(int),
        "host_floor_area_m2": h_area[gh], "host_households": h_hh[gh].astype(int),
        # over the whole plan: the host's area with every orphan the plan proposes to it (RULES §5, cumulative)
        "host_planned_floor_area_m2": load[gh],
        "within_preferred_area": load[gh] <= s.preferred_max_merged_area_m2,
    }
    # ids start with the street code, so sorting by id sorts by street first
    by_id = np.argsort(ids.astype(str), kind="stable")
    out = pd.DataFrame({k: v[by_id] for k, v in columns.items()})
    of_orphan[o] = ids[group_no]
    np.add.at(per_host, gh, 1)

    def links() -> gpd.GeoDataFrame:
        rows = pd.DataFrame({"proposal_id": ids[group_no], "orphan_kind": o_kind[o], "orphan_id": o_ids[o],
                             "host_compound_id": h_ids[h], "distance_m": dist})
        lines = shapely.shortest_line(shapely.point_on_surface(og[o]), hg[h])
        return gpd.GeoDataFrame(rows, geometry=gpd.GeoSeries(lines, crs=s.metric_crs).to_crs(WGS84), crs=WGS84)

    return out, of_orphan, per_host, links


def _object_array(items: list[Any]) -> np.ndarray:
    """A 1-D object array holding `items` as they are (np.array would turn equal-length lists into 2-D)."""
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def _street_may_reach(streets: np.ndarray, area: np.ndarray, minimum: float) -> bool:
    """Could the orphans of some street together reach `minimum`? If not, no group can (groups keep to one street)."""
    codes = pd.factorize(streets, use_na_sentinel=False)[0]
    most = np.bincount(codes, weights=np.maximum(area, 0.0)).max()
    return most * (1 + 1e-9) >= minimum  # the margin covers rounding: groups sum their areas in another order


def _new_bundles(og: np.ndarray, rest: np.ndarray, c: _Columns, barrier_tree: shapely.STRtree | None,
                 s: BundlingSettings) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """Connected groups of host-less orphans of one street (neighbours, no barrier between) ≥ the minimum area."""
    o_street, o_area, o_hh = c.o_street, c.o_area, c.o_hh

    def none() -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
        return _empty(BUNDLE_COLUMNS), np.array([], dtype=np.intp), np.array([], dtype=object)

    if len(rest) == 0 or not _street_may_reach(o_street[rest], o_area[rest], s.new_bundle_min_area_m2):
        return none()
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
    comp = _split_large(comp, geoms, o_area[rest], s)
    area = np.bincount(comp, weights=o_area[rest])
    members = area[comp] >= s.new_bundle_min_area_m2
    if not members.any():
        return none()
    rows = rest[members]
    comp_m = comp[members]
    key = (c.o_kind[rows] + ":" + c.o_id[rows]).astype(str)
    order = np.lexsort((key, comp_m))  # by group, then orphan key (unique): each group's members in key order
    rows, comp_m, key = rows[order], comp_m[order], key[order]
    starts = np.flatnonzero(_firsts(comp_m))
    group = np.cumsum(_firsts(comp_m)) - 1  # 0, 1, … per group, in group order
    bounds = np.r_[starts, len(rows)]
    streets = o_street[rows[starts]]
    ids = [_stable_id(f"{st}-N", ",".join(key[i:j].tolist())) for st, i, j in zip(streets, bounds[:-1], bounds[1:],
                                                                                   strict=True)]
    hulls = shapely.convex_hull(shapely.geometrycollections(og[rows], indices=group))
    hulls = _metric(gpd.GeoSeries(hulls, crs=s.metric_crs), WGS84)  # (to WGS84: _metric takes any target CRS)
    orphan_ids = _object_array([c.o_id[rows[i:j]].tolist() for i, j in zip(bounds[:-1], bounds[1:], strict=True)])
    bundle_of = np.asarray(ids, dtype=object)[group]
    by = np.array(sorted(range(len(ids)), key=lambda k: (streets[k], ids[k])), dtype=np.intp)  # by street, then id
    out = gpd.GeoDataFrame({"id": np.asarray(ids, dtype=object)[by], "street": streets[by],
                            "orphan_ids": orphan_ids[by],
                            "floor_area_m2": np.add.reduceat(o_area[rows], starts)[by],
                            "households": np.add.reduceat(o_hh[rows], starts).astype(int)[by]},
                           geometry=hulls[by], crs=WGS84)
    return out, rows, bundle_of


# ---------------------------------------------------------------------------------------------
# The cumulative 10万 preference (RULES §5)

EXACT_MAX_ASSIGNMENTS = 20_000  # a conflict group with at most this many assignments is solved exactly


USABLE, BLOCKED, UNKNOWN = 1, 0, -1  # what is known of a pair (its reach, its barrier, or both): yes, no, not yet
RING_M = 50.0  # metres: the greedy pass measures each orphan's pairs this far beyond its nearest box first
RING_NEAR_M = 20.0  # the same for an orphan with its near pairs only (_group_pairs): a search past them is cheap


@dataclass
class _Pairs:
    """(orphan, host) pairs: same street, in reach; with distance and shared boundary (a barrier may be between)."""

    o: np.ndarray
    h: np.ndarray
    dist: np.ndarray
    shared: np.ndarray

    def take(self, idx: np.ndarray) -> _Pairs:
        return _Pairs(self.o[idx], self.h[idx], self.dist[idx], self.shared[idx])


@dataclass
class _Cands:
    """The settle pass's (orphan, host) pairs: same street, boxes within reach; and what is known of each.

    The two boxes bound the distance: `lb` (their nearest points) ≤ distance ≤ their farthest corners'
    distance. A pair whose farthest corners are within the radius is in reach without a distance; the others' reach,
    every distance (`dist`, NaN until measured) and every barrier check are computed only where the
    plan needs them. `state`: USABLE (in reach, no barrier between), BLOCKED (out of reach, or behind a
    barrier), UNKNOWN (not decided yet).
    """

    o: np.ndarray
    h: np.ndarray
    lb: np.ndarray
    dist: np.ndarray
    shared: np.ndarray
    reach: np.ndarray  # USABLE, BLOCKED or UNKNOWN
    bar: np.ndarray  # USABLE, BLOCKED or UNKNOWN (a barrier segment's box is near: not checked yet)
    state: np.ndarray

    def take(self, idx: np.ndarray) -> _Cands:
        """The pairs at positions `idx` (a copy)."""
        return _Cands(*(getattr(self, f.name)[idx] for f in fields(_Cands)))

    @staticmethod
    def concat(parts: list[_Cands]) -> _Cands:
        return _Cands(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(_Cands)))


BOX_PAIRS_CHUNK = 2048  # orphans a chunk: the chunks' arrays stay small enough to be reused, not mapped anew


def _box_pairs(rows: np.ndarray, og: np.ndarray, hg: np.ndarray, host_tree: shapely.STRtree,
               barrier_tree: shapely.STRtree | None, c: _Columns, s: BundlingSettings,
               within: float | None = None, host_rows: np.ndarray | None = None) -> _Cands:
    """Every same-street host whose box is within reach of the box of an orphan row in `rows` (grouped by orphan).

    `within`: only the hosts whose box is this near (default: max_distance; reach is judged against
    max_distance either way). `host_rows`: the host row of each of `host_tree`'s geometries when the tree
    holds some hosts only (default: the tree is of every host row, in order).

    No GEOS call: the hosts the tree finds in each orphan's box grown by the radius, the boxes' nearest
    distance `lb` (over the radius: out of reach) and their farthest corners' (within it: in reach), and
    the barrier pre-test of _may_cross (no barrier segment near: no barrier between). Computed by chunks
    of BOX_PAIRS_CHUNK orphans (at 100× an orphan has ≈ 200 hosts in its grown box: one pass over all
    of them at once would map and fault in tens of megabytes per temporary array).
    """
    if len(rows) <= BOX_PAIRS_CHUNK:
        return _box_pairs_chunk(rows, og, hg, host_tree, barrier_tree, c, s, within, host_rows)
    return _Cands.concat([_box_pairs_chunk(rows[i:i + BOX_PAIRS_CHUNK], og, hg, host_tree, barrier_tree, c, s,
                                           within, host_rows)
                          for i in range(0, len(rows), BOX_PAIRS_CHUNK)])


def _box_pairs_chunk(rows: np.ndarray, og: np.ndarray, hg: np.ndarray, host_tree: shapely.STRtree,
                     barrier_tree: shapely.STRtree | None, c: _Columns, s: BundlingSettings,
                     within: float | None = None, host_rows: np.ndarray | None = None) -> _Cands:
    """_box_pairs of one chunk of orphan rows."""
    r = s.max_distance_m
    w = r if within is None else min(within, r)
    ob = shapely.bounds(og) if c.o_bounds is None else c.o_bounds
    hb = shapely.bounds(hg) if c.h_bounds is None else c.h_bounds
    bx = ob[rows]
    q, hi = host_tree.query(shapely.box(bx[:, 0] - w, bx[:, 1] - w, bx[:, 2] + w, bx[:, 3] + w))
    if host_rows is not None:
        hi = host_rows[hi]
    if len(q) > 1 and not bool(np.all(q[1:] >= q[:-1])):  # the tree answers in input order; kept grouped anyway
        by = np.argsort(q, kind="stable")
        q, hi = q[by], hi[by]
    oi = rows[q]
    o_code, h_code = c.codes()
    same = np.flatnonzero(o_code[oi] == h_code[hi])
    oi, hi = oi[same], hi[same]
    ax0, ay0, ax1, ay1 = (ob[:, k][oi] for k in range(4))
    bx0, by0, bx1, by1 = (hb[:, k][hi] for k in range(4))
    dx = np.maximum(np.maximum(ax0 - bx1, bx0 - ax1), 0.0)
    dy = np.maximum(np.maximum(ay0 - by1, by0 - ay1), 0.0)
    lb2 = dx * dx + dy * dy  # squared: the bounds only sort pairs out with a margin, rounding is far below it
    ux = np.maximum(ax1 - bx0, bx1 - ax0)
    uy = np.maximum(ay1 - by0, by1 - ay0)
    sure = ux * ux + uy * uy < (r - REACH_EXACT_M) ** 2
    near = np.flatnonzero(lb2 <= (w + REACH_EXACT_M) ** 2)  # NaN bounds (an empty geometry) are never near
    if barrier_tree is not None and len(near):
        grid = _segment_grid(barrier_tree.geometries)  # the pre-test of _may_cross, on every batch
        free = ~grid.meets_xy(np.minimum(ax0, bx0)[near] - BOX_PAD_M, np.minimum(ay0, by0)[near] - BOX_PAD_M,
                              np.maximum(ax1, bx1)[near] + BOX_PAD_M, np.maximum(ay1, by1)[near] + BOX_PAD_M)
    else:
        free = np.ones(len(near), dtype=bool)
    oi, hi, lb, sure = oi[near], hi[near], np.sqrt(lb2[near]), sure[near]
    n = len(oi)
    reach = np.where(sure, USABLE, UNKNOWN).astype(np.int8)
    bar = np.where(free, USABLE, UNKNOWN).astype(np.int8)
    state = np.where(sure & free, USABLE, UNKNOWN).astype(np.int8)
    return _Cands(oi, hi, lb, np.full(n, np.nan), np.zeros(n), reach, bar, state)


def _measure(p: _Cands, idx: np.ndarray, og: np.ndarray, hg: np.ndarray, s: BundlingSettings) -> None:
    """Distances (and shared boundary) of the pairs `idx` not measured yet; their reach where the boxes left it open.

    Reach as the STRtree's `dwithin` decides it: a distance within REACH_EXACT_M of the radius is asked
    of dwithin itself (see _in_reach).
    """
    idx = idx[np.isnan(p.dist[idx])]
    if len(idx) == 0:
        return
    oi, hi = p.o[idx], p.h[idx]
    d = shapely.distance(og[oi], hg[hi])
    p.dist[idx] = d
    tol = s.shared_boundary_tolerance_m
    close = d <= tol
    if close.any():
        uh, inv = np.unique(hi[close], return_inverse=True)  # a host is close to several orphans: buffered once
        zone = shapely.buffer(hg[uh], tol)[inv]
        p.shared[idx[close]] = shapely.length(shapely.intersection(shapely.boundary(og[oi[close]]), zone))
    open_ = p.reach[idx] == UNKNOWN
    if open_.any():
        r = s.max_distance_m
        j, dj = idx[open_], d[open_]
        inside = dj < r - REACH_EXACT_M
        edge = np.flatnonzero(~inside & (dj <= r + REACH_EXACT_M))
        if len(edge):
            g = og[p.o[j[edge]]]
            shapely.prepare(g)  # as the tree query does with its input geometries
            inside[edge] = shapely.dwithin(g, hg[p.h[j[edge]]], r)
        p.reach[j] = np.where(inside, USABLE, BLOCKED)
        out = j[~inside]
        p.state[out] = BLOCKED
        j = j[inside]
        p.state[j] = np.where(p.bar[j] == USABLE, USABLE, np.where(p.bar[j] == BLOCKED, BLOCKED, UNKNOWN))


def _check(p: _Cands, idx: np.ndarray, og: np.ndarray, hg: np.ndarray, barrier_tree: shapely.STRtree | None,
           s: BundlingSettings) -> None:
    """Decide the pairs `idx` still UNKNOWN: their reach (a distance where the boxes left it open), then their barrier."""
    idx = idx[p.state[idx] == UNKNOWN]
    if len(idx) == 0:
        return
    open_ = p.reach[idx] == UNKNOWN
    if open_.any():
        _measure(p, idx[open_], og, hg, s)
        idx = idx[p.state[idx] == UNKNOWN]  # in reach now, a barrier segment near
    if len(idx):
        assert barrier_tree is not None
        blocked = _crossing(og[p.o[idx]], hg[p.h[idx]], barrier_tree)
        p.bar[idx] = np.where(blocked, BLOCKED, USABLE)
        p.state[idx] = p.bar[idx]


def _few_per_key(idx: np.ndarray, key: np.ndarray, order: np.ndarray | None, k: int) -> np.ndarray:
    """Of `idx`, the first `k` of each key's run, by `order` (then position); `order` None: `idx` is in that order."""
    if order is not None:
        by = np.lexsort((order, key))
        idx, key = idx[by], key[by]
    start = np.flatnonzero(_firsts(key))
    run = np.arange(len(idx)) - np.repeat(start, np.diff(np.r_[start, len(idx)]))
    return idx[run < k]


def _closure(start: np.ndarray, host_of: np.ndarray, og: np.ndarray, hg: np.ndarray,
             barrier_tree: shapely.STRtree | None, c: _Columns, s: BundlingSettings) -> np.ndarray:
    """Per orphan row: is it involved? The orphan rows `start`, closed over "an involved orphan has a usable pair
    to a host: that host's orphans (`host_of`, -1 for none) are involved".

    Only a host whose orphans are not involved yet can widen the closure: the new orphans' pairs are asked of
    a tree of those hosts alone (rebuilt per round). Pairs the boxes leave open are checked only once what
    the boxes decide is closed over (a host touched that way needs none), a few per host a round.
    """
    n_o, n_h = len(og), len(hg)
    assigned = host_of >= 0
    involved = np.zeros(n_o, dtype=bool)
    touched = np.zeros(n_h, dtype=bool)  # waiting hosts with a usable pair from an involved orphan
    new = start
    open_pairs: list[_Cands] = []  # pairs still unknown to hosts not touched yet
    while len(new):
        while len(new):
            involved[new] = True
            waiting = np.zeros(n_h, dtype=bool)  # hosts with orphans not involved yet
            waiting[host_of[assigned & ~involved]] = True
            open_h = np.flatnonzero(waiting & ~touched)
            if len(open_h) == 0:
                return involved
            p = _box_pairs(new, og, hg, shapely.STRtree(hg[open_h]), barrier_tree, c, s, host_rows=open_h)
            touched[p.h[p.state == USABLE]] = True
            open_pairs.append(p.take(np.flatnonzero(p.state == UNKNOWN)))
            new = np.flatnonzero(assigned & ~involved & touched[np.maximum(host_of, 0)])
        p = _Cands.concat(open_pairs)
        p = p.take(np.flatnonzero(~touched[p.h]))
        p = p.take(np.lexsort((p.lb, p.h)))  # by host, nearest by box first: each round's pairs are in that order
        open_pairs = []
        take = 1
        while True:  # one usable pair touches a host: a few pairs per host a round (nearest by box first), doubling
            need = np.flatnonzero((p.state == UNKNOWN) & ~touched[p.h])
            if len(need) == 0:
                break
            chosen = _few_per_key(need, p.h[need], None, take)
            _check(p, chosen, og, hg, barrier_tree, s)
            touched[p.h[chosen[p.state[chosen] == USABLE]]] = True
            take *= 2
        new = np.flatnonzero(assigned & ~involved & touched[np.maximum(host_of, 0)])
    return involved


def _log_limit() -> float:
    """log(EXACT_MAX_ASSIGNMENTS): a part whose assignments' log is above it is solved greedily."""
    return float(np.log(EXACT_MAX_ASSIGNMENTS)) if EXACT_MAX_ASSIGNMENTS > 0 else -np.inf


def _parts(p: _Cands, rows: np.ndarray, n_o: int, n_h: int, check: Callable[[_Cands, np.ndarray], None]) -> np.ndarray:
    """Per node (orphan rows, then n_o + host rows): its part, a connected component over the usable pairs of `p`.

    First over the pairs known usable; a pair still unknown matters where it may join a part whose
    candidates are few enough to be solved exactly (a lower bound of its assignments, from the known
    pairs, is at most the limit): those are decided by `check`, a few per part a round. `rows`: the orphan
    rows taking part.
    """
    limit = _log_limit()
    known = p.state == USABLE
    graph = coo_matrix((np.ones(int(known.sum())), (p.o[known], n_o + p.h[known])), shape=(n_o + n_h, n_o + n_h))
    label = connected_components(graph, directed=False)[1]  # the parts: components over the pairs known usable
    if not (p.state == UNKNOWN).any():
        return label
    count = np.bincount(p.o[known], minlength=n_o)  # known usable pairs per orphan, kept up to date
    has_known = np.zeros(n_h, dtype=bool)
    has_known[p.h[known]] = True
    u = np.flatnonzero(p.state == UNKNOWN)  # the pairs still unknown (a round decides some)
    uo, uh = p.o[u], p.h[u]
    take = 1
    while True:
        per = np.bincount(label[rows], weights=np.log(np.maximum(count[rows], 1)), minlength=n_o + n_h)
        big = per[label] > limit + 1e-9
        big_o = big[uo]
        # a host with no known pair whose unknown pairs all lead to big parts joins big parts or nothing
        lonely = ~has_known
        lonely[uh[~big_o]] = False
        ask = ~(big_o & (big[n_o + uh] | lonely[uh]))
        need = u[ask]
        if len(need) == 0:
            return label
        # one usable pair to a big part makes a small part big: a few pairs per small part a round (nearest
        # by box first), doubling, instead of all its pairs
        chosen = _few_per_key(need, np.where(big_o[ask], label[n_o + uh[ask]], label[uo[ask]]), p.lb[need], take)
        check(p, chosen)
        joined = chosen[p.state[chosen] == USABLE]
        if len(joined):  # merge the parts these pairs join
            count += np.bincount(p.o[joined], minlength=n_o)
            has_known[p.h[joined]] = True
            graph = coo_matrix((np.ones(len(joined)), (label[p.o[joined]], label[n_o + p.h[joined]])),
                               shape=(n_o + n_h, n_o + n_h))
            label = connected_components(graph, directed=False)[1][label]
        left = p.state[u] == UNKNOWN
        u, uo, uh = u[left], uo[left], uh[left]
        take *= 2


INNER_FRACTION = 1 / 4  # of max_distance: the settle pass's groups first look this near each orphan (see _group_pairs)
NEAR_FIRST_MIN_ORPHANS = 4096  # fewer involved orphans: all their pairs at once (the near pairs first cost more there)


def _group_pairs(rows: np.ndarray, og: np.ndarray, hg: np.ndarray, host_tree: shapely.STRtree,
                 barrier_tree: shapely.STRtree | None, c: _Columns, s: BundlingSettings) -> tuple[_Cands, np.ndarray]:
    """The pairs of the involved orphan `rows` that the settle pass's groups need, and which orphans have all theirs.

    A group is solved exactly only when its assignments are few (EXACT_MAX_ASSIGNMENTS); where orphans are
    dense, an orphan's hosts near by already make its part too big, and its farther pairs change nothing but
    its own candidates, which the greedy pass asks for when it looks past the near ones (_Ranked). So: every
    pair whose boxes are within INNER_FRACTION of the radius; then, for the orphans whose part (over the
    pairs known usable) may still be small, all their pairs, and every involved orphan's pairs to those
    orphans' hosts (whatever joins such a part goes through one of them). With at most
    NEAR_FIRST_MIN_ORPHANS orphans, all pairs at once. Returns the pairs (one run per orphan) and, per
    orphan row, whether all its pairs are among them.
    """
    n_o, n_h = len(og), len(hg)
    complete = np.zeros(n_o, dtype=bool)
    inner = s.max_distance_m * INNER_FRACTION
    if inner >= s.max_distance_m or len(rows) <= NEAR_FIRST_MIN_ORPHANS:
        complete[rows] = True
        return _box_pairs(rows, og, hg, host_tree, barrier_tree, c, s), complete
    p = _box_pairs(rows, og, hg, host_tree, barrier_tree, c, s, within=inner)

    def decide(q: _Cands, idx: np.ndarray) -> None:
        _check(q, idx, og, hg, barrier_tree, s)

    label = _parts(p, rows, n_o, n_h, decide)
    small = rows[_small_parts(p, label, rows, n_o, n_h)[rows]]
    if len(small) == 0:
        return p, complete
    complete[small] = True
    own = _box_pairs(small, og, hg, host_tree, barrier_tree, c, s)  # their every pair: most parts grow big with them
    p = _merged(p, own, n_h)
    label = _parts(p, rows, n_o, n_h, decide)
    small = small[_small_parts(p, label, rows, n_o, n_h)[small]]
    if len(small) == 0:
        return p, complete
    reach = np.unique(own.h[np.isin(own.o, small)])
    far = _box_pairs(rows, og, hg, shapely.STRtree(hg[reach]), barrier_tree, c, s, host_rows=reach)
    return _merged(p, far, n_h), complete


def _small_parts(p: _Cands, label: np.ndarray, rows: np.ndarray, n_o: int, n_h: int) -> np.ndarray:
    """Per orphan row: may its part be small enough to be solved exactly (by the pairs known usable), or has it
    no usable pair among `p` yet (it needs the others: every involved orphan has one, its host)?"""
    known = p.state == USABLE
    count = np.bincount(p.o[known], minlength=n_o)
    per = np.bincount(label[rows], weights=np.log(np.maximum(count[rows], 1)), minlength=n_o + n_h)
    return (per[label[:n_o]] <= _log_limit() + 1e-9) | (count == 0)


def _merged(p: _Cands, q: _Cands, n_h: int) -> _Cands:
    """The pairs of `p` and `q`, each (orphan, host) once (`p`'s where both have it), by orphan row then host row."""
    both = _Cands.concat([p, q])
    _, first = np.unique(both.o.astype(np.int64) * n_h + both.h, return_index=True)
    return both.take(first)


def _settle_loads(best: _Best, og: np.ndarray, hg: np.ndarray, host_tree: shapely.STRtree | None,
                  barrier_tree: shapely.STRtree | None, c: _Columns, s: BundlingSettings,
                  h_rank: np.ndarray) -> tuple[_Best, np.ndarray]:
    """Re-assign orphans whose hosts the plan as a whole pushes over the preferred maximum (RULES §5).

    Each orphan's best host is chosen alone first. Where the orphans bound for one host together
    (plus what it already holds) push it past `preferred_max_merged_area_m2` although one of them fits
    there alone, the orphans of the hosts concerned (closed over their usable hosts) are assigned again
    as one group, minimising in order: the number of orphans on a host over the maximum, the sum of the
    distances (at the resolution), minus the sum of shared boundary, the sum of exact distances, then
    each orphan's host rank in orphan order. A group of at most EXACT_MAX_ASSIGNMENTS assignments is
    solved exactly; a larger one greedily (orphans in order of distance, each to its best host that
    stays under, else its best host) and then repaired: an orphan on a host over the maximum moves to
    its best host that stays under with it, until none can. Either way no orphan sits on a host over
    the maximum while one of its usable hosts would stay under with it.

    Reach, distances and barriers are decided only where the answer can matter (issue 26; the plan is
    the one of measuring and checking every pair, tests/plugins/test_bundling_settle_reference.py).
    The pairs come from the boxes (_box_pairs): a pair whose farthest corners are within the radius is
    in reach, one no barrier segment comes near is not blocked. Of the others, the closure (_closure)
    decides those that could touch a host not yet touched whose orphans would join; the groups
    (_group_pairs, _parts) start from each orphan's pairs within INNER_FRACTION of the radius, take all
    pairs only of orphans whose part may be small enough to solve exactly, and decide those that could
    join two parts of which one may be small (every pair of such a part is decided and measured); the
    greedy pass measures each orphan's pairs nearest by box first (a ring of RING_M) and the rest only
    when it looks past them (asking the tree for an orphan's farther pairs then), and checks a barrier
    when it reaches a candidate.

    Returns the chosen pairs and each host row's planned area (its own and managed area plus its orphans').
    """
    cap = s.preferred_max_merged_area_m2
    base = c.h_area

    def loads(b: _Best) -> np.ndarray:
        return base + np.bincount(b.h, weights=c.o_area[b.o], minlength=len(base))

    load = loads(best)
    fits_alone = ~best.over
    hot = np.zeros(len(base), dtype=bool)
    hot[best.h[fits_alone & (load[best.h] > cap)]] = True  # a host the orphans push over together
    if not hot.any() or host_tree is None:
        return best, load
    n_o, n_h = len(c.o_id), len(base)
    host_of = np.full(n_o, -1, dtype=np.intp)
    host_of[best.o] = best.h
    assigned = host_of >= 0

    def check(p: _Cands, idx: np.ndarray) -> None:
        _check(p, idx, og, hg, barrier_tree, s)

    # the orphans of the hot hosts, closed over the hosts they could use (their orphans take part too)
    involved = _closure(np.flatnonzero(hot[np.maximum(host_of, 0)] & assigned), host_of, og, hg, barrier_tree, c, s)
    p, complete = _group_pairs(np.flatnonzero(involved), og, hg, host_tree, barrier_tree, c, s)
    label = _parts(p, np.flatnonzero(involved), n_o, n_h, check)
    limit = _log_limit()

    def log_assignments(comp: np.ndarray, known: np.ndarray) -> np.ndarray:
        """Per node: log of the product of its component's orphans' known candidate counts (at least 1 each)."""
        count = np.bincount(p.o[known], minlength=n_o)
        rows_ = np.flatnonzero(involved)
        per = np.bincount(comp[rows_], weights=np.log(np.maximum(count[rows_], 1)), minlength=n_o + n_h)
        return per[comp]

    keep = np.flatnonzero(p.state != BLOCKED)
    p = p.take(keep)
    # the groups: the parts. A pair still unknown joins a big part to a big part or to a host with no usable
    # pair (whose part is no group): a part not big is its group, and a big part is in a group that is
    # greedy anyway (greedy groups are solved in one pass together, so which one does not matter)
    comp = label
    greedy_group = log_assignments(comp, p.state == USABLE) > limit + 1e-9
    # each involved orphan's pairs are consecutive in p (a run per orphan); the orphans in (kind, id) order
    firsts = _firsts(p.o)
    if int(firsts.sum()) != int(np.count_nonzero(np.bincount(p.o, minlength=n_o))):
        by = np.argsort(p.o, kind="stable")
        p = p.take(by)
        firsts = _firsts(p.o)
    seg_start = np.flatnonzero(firsts)
    seg_end = np.r_[seg_start[1:], len(p.o)]
    rows = p.o[seg_start]
    by_key = np.lexsort((rows, c.o_id_str[rows], c.o_kind[rows].astype(str)))
    rows, seg_start, seg_end = rows[by_key], seg_start[by_key], seg_end[by_key]
    pick = np.full(n_o, -1, dtype=np.intp)  # per orphan row: its chosen pair (position in p)
    group_of = comp[rows]
    by_group = np.argsort(group_of, kind="stable")  # each group's rows together, in row order (groups are independent)
    bounds = np.flatnonzero(np.r_[True, group_of[by_group][1:] != group_of[by_group][:-1], True])
    greedy_at: list[np.ndarray] = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):  # not a scan of every row per group: quadratic at scale
        at = by_group[a:b]
        members = rows[at]
        if not greedy_group[members[0]]:  # every pair of the group is known: its exact size decides
            sizes = [float(e - s_) for s_, e in zip(seg_start[at], seg_end[at], strict=True)]
            if np.prod(sizes) <= EXACT_MAX_ASSIGNMENTS:
                pick[members] = _exact_group(members, seg_start[at], seg_end[at], p, og, hg, c, s, base, h_rank)
                continue
        greedy_at.append(at)
    if greedy_at:  # greedy groups share no host: one pass over all of them gives each group's own answer
        at = np.sort(np.concatenate(greedy_at))
        ranked = _Ranked(p, rows[at], seg_start[at], seg_end[at], og, hg, barrier_tree, c, s, h_rank,
                         complete[rows[at]], host_tree)
        pick[rows[at]] = _greedy(ranked, c, s, base)
        p = ranked.pairs()  # with the pairs found past a member's near ones
    # the chosen pairs: the involved orphans' (possibly new) hosts, the others' unchanged
    keep = ~involved[best.o]
    sel = pick[np.flatnonzero(involved)]
    moved = _Best(p.o[sel], p.h[sel], p.dist[sel], p.shared[sel], np.zeros(len(sel), dtype=bool))
    out = _Best.concat([best.take(keep), moved])
    load = loads(out)
    out.over = load[out.h] > cap
    return out, load


def _rank_order(p: _Cands, idx: np.ndarray, h_rank: np.ndarray, s: BundlingSettings,
                first: np.ndarray | None = None) -> np.ndarray:
    """`idx` (measured pairs) in ranking order: distance at the resolution, shared boundary, distance, host id."""
    d = p.dist[idx]
    keys = [h_rank[p.h[idx]], d, -p.shared[idx], _dkey(d, s.distance_resolution_m)]
    if first is not None:
        keys.append(first)
    return idx[np.lexsort(keys)]


def _exact_group(members: np.ndarray, starts: np.ndarray, ends: np.ndarray, p: _Cands, og: np.ndarray,
                 hg: np.ndarray, c: _Columns, s: BundlingSettings, base: np.ndarray, h_rank: np.ndarray) -> np.ndarray:
    """_exact on a group whose pairs are all decided: measured, each member's candidates in ranking order."""
    idx = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends, strict=True)])
    _measure(p, idx, og, hg, s)
    member_no = np.repeat(np.arange(len(members)), ends - starts)
    idx = _rank_order(p, idx, h_rank, s, member_no)
    cands, at = [], 0
    for n in (ends - starts).tolist():
        cands.append(np.arange(at, at + n))
        at += n
    local = _Pairs(p.o[idx], p.h[idx], p.dist[idx], p.shared[idx])
    return idx[_exact(members, cands, local, c, s, base)]


class _Ranked:
    """The greedy pass's view of its orphans' candidates, in ranking order, measured only as far as it looks.

    Each member's pairs whose boxes are within RING_M (RING_NEAR_M for a member with its near pairs only) of its
    nearest box are measured at once. Of them,
    those closer than every pair not measured (by box) are a prefix of its ranking — shared boundary
    only counts within its tolerance, which the ring must pass — kept in order (`pf`, `pf_h`). A search
    past the prefix looks at the member's other pairs whose host would take it, measured then. A member
    not `complete` has only its pairs within INNER_FRACTION of the radius in `p` (every other is farther
    by box): its prefix stops there, and a search past it ranks its near pairs nearer than that radius
    first, then asks the tree for all its pairs; a pair chosen among those is added after `p`'s (see pairs()).
    """

    def __init__(self, p: _Cands, members: np.ndarray, starts: np.ndarray, ends: np.ndarray, og: np.ndarray,
                 hg: np.ndarray, barrier_tree: shapely.STRtree | None, c: _Columns, s: BundlingSettings,
                 h_rank: np.ndarray, complete: np.ndarray | None = None,
                 host_tree: shapely.STRtree | None = None) -> None:
        self.p, self.members, self.starts, self.ends = p, members, starts, ends
        self.og, self.hg, self.barrier_tree, self.c, self.s, self.h_rank = og, hg, barrier_tree, c, s, h_rank
        m = len(members)
        self.complete = np.ones(m, dtype=bool) if complete is None else complete
        self.host_tree = host_tree
        self.extra: list[_Cands] = []  # pairs chosen past an incomplete member's near ones
        self.full: dict[int, _Cands] = {}  # an incomplete member's every pair, once asked for
        lengths = ends - starts
        idx = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends, strict=True)]) if m else np.array([], np.intp)
        member_no = np.repeat(np.arange(m), lengths)
        off = np.r_[0, np.cumsum(lengths)[:-1]]  # each member's run in idx
        lb = np.where(p.state[idx] == BLOCKED, np.inf, p.lb[idx])
        ring_m = np.where(self.complete[member_no], RING_M, RING_NEAR_M)
        ring = lb <= np.minimum.reduceat(lb, off)[member_no] + ring_m
        _measure(p, idx[ring], og, hg, s)
        live = p.state[idx] != BLOCKED
        unmeasured = np.isnan(p.dist[idx]) & live
        nxt = np.minimum.reduceat(np.where(unmeasured, p.lb[idx], np.inf), off)[member_no]
        nxt = np.where(self.complete[member_no], nxt, np.minimum(nxt, s.max_distance_m * INNER_FRACTION))
        margin = REACH_MARGIN_M
        cert = live & ~unmeasured & (p.reach[idx] == USABLE) & (p.dist[idx] < nxt - margin) \
            & (nxt > s.shared_boundary_tolerance_m + margin)
        pf = _rank_order(p, idx[cert], h_rank, s, member_no[cert])
        self.in_pf = np.zeros(len(p.o), dtype=bool)
        self.in_pf[pf] = True
        counts = np.bincount(member_no[cert], minlength=m)
        self.pf_start = np.r_[0, np.cumsum(counts)[:-1]].astype(np.intp)
        self.pf_end = self.pf_start + counts
        self.pf = pf
        self.pf_list, self.pf_h = pf.tolist(), p.h[pf].tolist()
        self.no_load = np.zeros(len(c.h_area))

    def usable(self, k: int, p: _Cands | None = None) -> bool:
        p = self.p if p is None else p
        state = p.state[k]
        if state == UNKNOWN and p.reach[k] == USABLE:  # one barrier check (scalar calls: cheaper for one pair)
            line = shapely.shortest_line(self.og[p.o[k]], self.hg[p.h[k]])
            state = BLOCKED if len(self.barrier_tree.query(line, predicate="crosses")) else USABLE
            p.bar[k] = p.state[k] = state
        elif state == UNKNOWN:
            _check(p, np.array([k]), self.og, self.hg, self.barrier_tree, self.s)
            state = p.state[k]
        return bool(state == USABLE)

    def host(self, k: int) -> int:
        """The host row of pair `k` (a position in pairs())."""
        n = len(self.p.o)
        return int(self.p.h[k]) if k < n else int(self.extra[k - n].h[0])

    def pairs(self) -> _Cands:
        """`p` followed by the pairs chosen past an incomplete member's near ones (positions as find() gives them)."""
        return _Cands.concat([self.p, *self.extra]) if self.extra else self.p

    def find(self, i: int, load: np.ndarray, area: float, cap: float, exclude: int = -1) -> int:
        """Member i's best-ranked usable candidate, not on host `exclude`, whose host stays within `cap` with
        `area` (position in pairs(); -1: none)."""
        pf_h, pf_list = self.pf_h, self.pf_list
        for j in range(self.pf_start[i], self.pf_end[i]):
            h = pf_h[j]
            if h != exclude and load[h] + area <= cap and self.usable(pf_list[j]):
                return pf_list[j]
        if not self.complete[i]:
            return self._find_past(i, load, area, cap, exclude)
        p = self.p
        rest = np.arange(self.starts[i], self.ends[i])
        rest = rest[~self.in_pf[rest] & (p.state[rest] != BLOCKED)]
        hr = p.h[rest]
        rest = rest[(hr != exclude) & (load[hr] + area <= cap)]
        if len(rest) == 0:
            return -1
        _measure(p, rest, self.og, self.hg, self.s)
        rest = rest[p.state[rest] != BLOCKED]
        for k in _rank_order(p, rest, self.h_rank, self.s).tolist():
            if self.usable(k):
                return k
        return -1

    def _find_past(self, i: int, load: np.ndarray, area: float, cap: float, exclude: int) -> int:
        """find() past an incomplete member's prefix: first among its near pairs nearer than the near radius (a
        pair not among them is farther than that, so it ranks after them), then among all its pairs, asked of
        the tree once."""
        p = self.p
        rest = np.arange(self.starts[i], self.ends[i])
        rest = rest[~self.in_pf[rest] & (p.state[rest] != BLOCKED)]
        hr = p.h[rest]
        rest = rest[(hr != exclude) & (load[hr] + area <= cap)]
        if len(rest):
            _measure(p, rest, self.og, self.hg, self.s)
            near = self.s.max_distance_m * INNER_FRACTION - REACH_MARGIN_M
            rest = rest[(p.state[rest] != BLOCKED) & (p.dist[rest] < near)]
            for k in _rank_order(p, rest, self.h_rank, self.s).tolist():
                if self.usable(k):
                    return k
        q = self.full.get(i)
        if q is None:
            q = _box_pairs(self.members[i:i + 1], self.og, self.hg, self.host_tree, self.barrier_tree, self.c, self.s)
            self.full[i] = q
        rest = np.flatnonzero(q.state != BLOCKED)
        prefix = self.pf_h[self.pf_start[i]:self.pf_end[i]]
        hr = q.h[rest]
        rest = rest[~np.isin(hr, prefix) & (hr != exclude) & (load[hr] + area <= cap)]
        if len(rest) == 0:
            return -1
        _measure(q, rest, self.og, self.hg, self.s)
        rest = rest[q.state[rest] != BLOCKED]
        for k in _rank_order(q, rest, self.h_rank, self.s).tolist():
            if self.usable(k, q):
                self.extra.append(q.take(np.array([k])))
                return len(self.p.o) + len(self.extra) - 1
        return -1

    def firsts(self) -> np.ndarray:
        """Each member's best-ranked usable candidate (position in pairs()), checking barriers a round at a time."""
        p = self.p
        ptr = self.pf_start.copy()
        end = self.pf_end
        pf = np.r_[self.pf, -1]  # ptr == end reads the sentinel
        while True:
            at = np.where(ptr < end, pf[np.minimum(ptr, len(pf) - 1)], -1)
            st = np.where(at >= 0, p.state[np.maximum(at, 0)], USABLE)
            blocked = (st == BLOCKED) & (ptr < end)
            if blocked.any():
                ptr[blocked] += 1
                continue
            unknown = (st == UNKNOWN) & (ptr < end)
            if not unknown.any():
                break
            _check(p, at[unknown], self.og, self.hg, self.barrier_tree, self.s)
        out = np.where(ptr < end, pf[np.minimum(ptr, len(pf) - 1)], -1)
        for i in np.flatnonzero(out < 0).tolist():  # no usable pair in the prefix: search the rest
            out[i] = self.find(i, self.no_load, -np.inf, 0.0)
        return out


def _greedy(ranked: _Ranked, c: _Columns, s: BundlingSettings, base: np.ndarray) -> np.ndarray:
    """Orphans in order of distance, each to its best host that stays under (else its best), then repaired.

    `ranked`: the members and their candidates (see _Ranked); a candidate's barrier is asked about only
    when its host would stay under with the orphan. Returns each member's chosen pair (position in
    ranked.pairs()).
    """
    cap = s.preferred_max_merged_area_m2
    first = ranked.firsts()
    p = ranked.pairs()
    load = base.astype(float, copy=True)  # host row → area (greedy groups share no host)
    area = c.o_area[ranked.members].tolist()
    d_first = p.dist[first]
    order = np.lexsort((np.arange(len(first)), d_first, -p.shared[first],
                        _dkey(d_first, s.distance_resolution_m))).tolist()
    pick = first.copy()
    on = p.h[first].tolist()  # each member's host
    for i in order:
        a_i = area[i]
        k = ranked.find(i, load, a_i, cap)
        if k < 0:
            k = int(first[i])
        pick[i] = k
        on[i] = ranked.host(k)
        load[on[i]] += a_i
    moved = True
    while moved:  # each move lowers (area over the maximum, orphans on a host over it): it ends
        moved = False
        for i in order:
            h = on[i]
            if load[h] <= cap:
                continue
            a_i = area[i]
            k = ranked.find(i, load, a_i, cap, exclude=h)
            if k >= 0:
                load[h] -= a_i
                pick[i] = k
                on[i] = ranked.host(k)
                load[on[i]] += a_i
                moved = True
    return pick


def _group_keys(choice: np.ndarray, members: np.ndarray, allp: _Pairs, c: _Columns, s: BundlingSettings,
                base: np.ndarray) -> tuple[np.ndarray, ...]:
    """For each row of `choice` (positions in allp, one column per member): the keys to minimise, most important last."""
    hosts = allp.h[choice]
    local, inv = np.unique(hosts, return_inverse=True)
    inv = inv.reshape(hosts.shape)
    n, k = choice.shape[0], len(local)
    area = c.o_area[members]
    flat = (np.arange(n)[:, None] * k + inv).ravel()
    load = base[local][None, :] + np.bincount(flat, weights=np.broadcast_to(area, hosts.shape).ravel(),
                                              minlength=n * k).reshape(n, k)
    over = np.take_along_axis(load, inv, axis=1) > s.preferred_max_merged_area_m2
    dkey = _dkey(allp.dist[choice], s.distance_resolution_m).sum(axis=1)
    shared = np.round(allp.shared[choice].sum(axis=1), 6)
    dist = np.round(allp.dist[choice].sum(axis=1), 6)
    return dist, -shared, dkey, over.sum(axis=1)


def _exact(members: np.ndarray, cands: list[np.ndarray], allp: _Pairs, c: _Columns, s: BundlingSettings,
           base: np.ndarray) -> np.ndarray:
    """The best of every assignment of the group (ties: each member's host rank, in member order)."""
    shape = tuple(len(x) for x in cands)
    ranks = np.indices(shape).reshape(len(shape), -1).T  # C order: lexicographic in member order
    starts = np.array([x[0] for x in cands])
    choice = starts[None, :] + ranks  # each member's candidates are consecutive in allp
    keys = _group_keys(choice, members, allp, c, s, base)
    best = np.lexsort((np.arange(len(choice)), *keys))[0]
    return choice[best]


# ---------------------------------------------------------------------------------------------
# The owners' vote on accepting a proposal (民法典 §278, RULES §5)

VOTE_THRESHOLDS = ("participation_area", "participation_owners", "yes_area", "yes_owners")  # checked in this order


@dataclass(frozen=True)
class VoteCount:
    """One side of the vote (floor area in m², or owners): total, participating, yes (exact numbers)."""

    total: Fraction
    participating: Fraction
    yes: Fraction

    def as_list(self) -> list[float | int]:
        return [int(v) if v.denominator == 1 else float(v) for v in (self.total, self.participating, self.yes)]


def parse_vote(value: object, whole: bool = False) -> VoteCount:
    """`TOTAL/PARTICIPATING/YES` (text, or a sequence of three numbers) as a VoteCount.

    ValueError when it is not three numbers with total > 0 and 0 ≤ yes ≤ participating ≤ total, or (with
    `whole`, for owners) when a number is not whole.
    """
    parts = value.split("/") if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else None
    if parts is None or len(parts) != 3:
        raise ValueError("three numbers TOTAL/PARTICIPATING/YES expected")
    try:
        nums = [Fraction(str(p).strip()) for p in parts]
    except (ValueError, ZeroDivisionError) as exc:
        raise ValueError("three numbers TOTAL/PARTICIPATING/YES expected") from exc
    total, participating, yes = nums
    if whole and any(n.denominator != 1 for n in nums):
        raise ValueError("owners are counted in whole numbers")
    if not (total > 0 and 0 <= yes <= participating <= total):
        raise ValueError("0 ≤ YES ≤ PARTICIPATING ≤ TOTAL and TOTAL > 0 expected")
    return VoteCount(total, participating, yes)


def vote_failures(area: VoteCount, owners: VoteCount, settings: BundlingSettings) -> list[tuple[str, Fraction, str]]:
    """The thresholds the vote misses, in VOTE_THRESHOLDS order: (threshold, the share reached, what is needed).

    Participation: participants hold ≥ `vote_participation_min` of the area and of the owners; yes: the yes
    votes are > `vote_yes_over` of the participating area and of the participating owners (民法典 §278).
    """
    part, yes = Fraction(settings.vote_participation_min), Fraction(settings.vote_yes_over)
    out = []
    for name, side in (("area", area), ("owners", owners)):
        share = side.participating / side.total
        if share < part:
            out.append((f"participation_{name}", share, f"≥ {part}"))
    for name, side in (("area", area), ("owners", owners)):
        share = side.yes / side.participating if side.participating else Fraction(0)
        if share <= yes:
            out.append((f"yes_{name}", share, f"> {yes}"))
    return sorted(out, key=lambda f: VOTE_THRESHOLDS.index(f[0]))


def _split_large(comp: np.ndarray, geoms: np.ndarray, area: np.ndarray, s: BundlingSettings) -> np.ndarray:
    """Groups over `new_bundle_max_area_m2` split into parts of at most that area (RULES §5: 3–10万 m²).

    A group's members are taken from west to east (then south to north, by a point inside each) and cut
    where the next member would take the part over the maximum (a part under the new-bundle minimum is no
    bundle: its members stay unmatched). A member larger than the maximum alone is a part alone.
    Returns new group numbers.
    """
    cap = s.new_bundle_max_area_m2
    total = np.bincount(comp, weights=area)
    if not (total > cap).any():
        return comp
    out = comp.copy()
    next_id = int(comp.max()) + 1
    pts = shapely.point_on_surface(geoms)
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    for g in np.flatnonzero(total > cap):
        rows = np.flatnonzero(comp == g)
        rows = rows[np.lexsort((y[rows], x[rows]))]
        parts: list[list[int]] = [[]]
        sums = [0.0]
        for r in rows:
            if parts[-1] and sums[-1] + area[r] > cap:
                parts.append([])
                sums.append(0.0)
            parts[-1].append(int(r))
            sums[-1] += float(area[r])
        for part in parts[1:]:
            out[part] = next_id
            next_id += 1
    return out
