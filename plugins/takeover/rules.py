"""Pure takeover rules (RULES §4): candidates, the explained 0–100 score, tender mode, neighbour pairs."""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplatform.models import UTILITY_FACILITIES
from plugins.takeover.selection import InfeasibleSelection, Selection, select
from plugins.takeover.settings import COMPONENTS, TakeoverSettings

__all__ = ["InfeasibleSelection", "Selection", "score_candidates", "select", "tender_mode"]

TENDER_MODES = ("public_tender", "invited_tender")


def candidate_mask(compounds: pd.DataFrame, settings: TakeoverSettings, include_community_managed: bool = False) -> pd.Series:
    """True for takeover candidates: management_mode in the candidate modes, not demolition_planned.

    Compounds already merged into a host's management area by bundling (managed_by_id set) are
    served by that host and are not candidates. A compound whose mode is unknown (待核实) is one only when
    `settings.include_unknown` (RULES §1).
    """
    modes = set(settings.candidate_modes) | (set(settings.optional_modes) if include_community_managed else set())
    if settings.include_unknown:
        modes.add("unknown")
    mask = compounds["management_mode"].isin(modes) & ~compounds["demolition_planned"].fillna(False).astype(bool)
    if "managed_by_id" in compounds:
        mask &= compounds["managed_by_id"].isna()
    return mask


def _anchor_geometries(compounds: gpd.GeoDataFrame, crs: str, rows: np.ndarray | None = None) -> np.ndarray:
    """Boundary where known, else the location point, projected to the metric CRS (only `rows`, positions, if given)."""
    if rows is not None:
        compounds = compounds.iloc[rows]
    boundary = compounds["boundary"] if "boundary" in compounds else compounds.geometry
    geoms = gpd.GeoSeries(boundary.values, crs=compounds.crs or 4326)
    if "location" in compounds:
        loc = gpd.GeoSeries(compounds["location"].values, crs=compounds.crs or 4326)
        missing = geoms.isna() | geoms.is_empty
        geoms = geoms.where(~missing, loc)
    return np.asarray(geoms.to_crs(crs).values)


def _union(n: int, *positions: np.ndarray) -> np.ndarray:
    """The sorted distinct positions (< n) in any of the arrays (a mask, not np.union1d's hashing of millions)."""
    mask = np.zeros(n, dtype=bool)
    for p in positions:
        mask[p] = True
    return np.flatnonzero(mask)


NO_PAIRS = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
_EPS = 1e-9  # relative margin of the exact shortcuts below: a pair this close to the radius goes to GEOS


def _within_positions(geoms: np.ndarray, src: np.ndarray, tgt: np.ndarray,
                      radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (s in src, t in tgt, positions in `geoms`, s ≠ t) whose geometries are within radius_m of each other,
    in the tree query's order — the same pairs as an STRtree `dwithin` query, found without a GEOS distance for most.

    One STRtree query of the sources' boxes grown by the radius finds every pair whose boxes are that close; the
    distance of the two boxes is a lower bound of the geometries' (farther: out), the distance of one point of each
    (`point_on_surface`) an upper bound (nearer: in); only the pairs between the two bounds (100×: ≈ 8 %) are
    decided by GEOS `dwithin`. Empty or missing geometries have no pair (as in the tree)."""
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    src, tgt = src[ok[src]], tgt[ok[tgt]]
    if not len(src) or not len(tgt):
        return NO_PAIRS
    box = shapely.bounds(geoms)
    grow = radius_m * (1 + _EPS) + _EPS
    sb = box[src]
    tree = shapely.STRtree(geoms[tgt])  # (its envelopes: the query below asks only whether they meet)
    qi, ti = tree.query(shapely.box(sb[:, 0] - grow, sb[:, 1] - grow, sb[:, 2] + grow, sb[:, 3] + grow))
    a, b = src[qi], tgt[ti]
    keep = a != b
    a, b = a[keep], b[keep]
    gx = np.maximum(0.0, np.maximum(box[b, 0] - box[a, 2], box[a, 0] - box[b, 2]))
    gy = np.maximum(0.0, np.maximum(box[b, 1] - box[a, 3], box[a, 1] - box[b, 3]))
    near = np.hypot(gx, gy) <= radius_m * (1 + _EPS) + _EPS
    a, b = a[near], b[near]
    x, y = np.full(len(geoms), np.nan), np.full(len(geoms), np.nan)
    used = _union(len(geoms), a, b)
    inner = shapely.point_on_surface(geoms[used])  # a point of each geometry (NaN if GEOS finds none: to GEOS)
    x[used], y[used] = shapely.get_x(inner), shapely.get_y(inner)
    sure = np.hypot(x[a] - x[b], y[a] - y[b]) <= radius_m * (1 - _EPS)
    doubt = np.flatnonzero(~sure)
    sure[doubt] = shapely.dwithin(geoms[a[doubt]], geoms[b[doubt]], radius_m)
    return a[sure], b[sure]


def neighbour_pairs(compounds: gpd.GeoDataFrame, sources: pd.Series, targets: pd.Series,
                    radius_m: float, crs: str, distance: bool = True) -> pd.DataFrame:
    """Pairs (a in sources, b in targets, a ≠ b) whose geometries are within radius_m metres edge to edge.

    Found in the projected CRS (see _within_positions); returns columns a, b (ids) and, with `distance`, distance_m.
    """
    a, b, ids = _pair_positions(compounds, sources, targets, radius_m, crs)
    out = pd.DataFrame({"a": pd.Series(ids[a], dtype=object), "b": pd.Series(ids[b], dtype=object)})
    if distance:
        out["distance_m"] = _distances(compounds, crs, a, b)
    return out


def _distances(compounds: gpd.GeoDataFrame, crs: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Edge-to-edge metres between rows a and b (positions), rounded to 0.1 m."""
    if not len(a):
        return np.zeros(0)
    used = _union(len(compounds), a, b)
    geoms = _anchor_geometries(compounds, crs, used)
    return np.round(shapely.distance(geoms[np.searchsorted(used, a)], geoms[np.searchsorted(used, b)]), 1)


def _pair_positions(compounds: gpd.GeoDataFrame, sources: pd.Series, targets: pd.Series, radius_m: float,
                    crs: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, ids): the pairs of neighbour_pairs as row positions in `compounds`, and the rows' ids."""
    ids = compounds["id"].to_numpy() if "id" in compounds else compounds.index.to_numpy()
    src = np.flatnonzero(np.asarray(sources, dtype=bool))
    tgt = np.flatnonzero(np.asarray(targets, dtype=bool))
    rows = _union(len(ids), src, tgt)
    if not len(src) or not len(tgt):
        return *NO_PAIRS, ids
    geoms = _anchor_geometries(compounds, crs, rows)  # only the rows asked about are projected (100×: 20 k of 104 k)
    a, b = _within_positions(geoms, np.searchsorted(rows, src), np.searchsorted(rows, tgt), radius_m)
    return rows[a], rows[b], ids


def candidate_pairs(compounds: gpd.GeoDataFrame, candidates: pd.Series, settings: TakeoverSettings,
                    distance: bool = True) -> pd.DataFrame:
    """Unordered pairs of candidates within the contiguity radius (a < b), for the selection's bonus.

    Columns a, b (ids, categorical over the compounds' ids when those are unique, so the selection maps them to
    positions without hashing every pair's ids: 100×, 1.7 million pairs) and, with `distance`, distance_m."""
    a, b, ids = _pair_positions(compounds, candidates, candidates, settings.contiguity_radius_m, settings.metric_crs)
    unique = pd.Index(ids).is_unique
    if unique and len(a):  # a < b by the ids' order (Python's comparison, as the ids themselves), ranked once
        rank = np.empty(len(ids), dtype=np.int64)
        rank[np.argsort(np.asarray(ids, dtype=object), kind="stable")] = np.arange(len(ids))
        keep = rank[a] < rank[b]
    else:
        keep = np.array([x < y for x, y in zip(ids[a], ids[b], strict=True)], dtype=bool)
    a, b = a[keep], b[keep]
    if unique:
        cats = pd.Index(ids, dtype=object)
        out = pd.DataFrame({"a": pd.Categorical.from_codes(a, categories=cats),
                            "b": pd.Categorical.from_codes(b, categories=cats)})
    else:
        out = pd.DataFrame({"a": pd.Series(ids[a], dtype=object), "b": pd.Series(ids[b], dtype=object)})
    if distance:
        out["distance_m"] = _distances(compounds, settings.metric_crs, a, b)
    return out


def age_component(build_year: pd.Series, s: TakeoverSettings) -> pd.Series:
    """1.0 built ≤ 2000 (老旧小区), 0.5 for 2001–2005, 0.2 later; unknown year 0."""
    y = pd.to_numeric(build_year, errors="coerce")
    out = np.select([y <= s.age_old_until, y <= s.age_mid_until, y > s.age_mid_until],
                    [s.age_old_score, s.age_mid_score, s.age_new_score], default=0.0)
    return pd.Series(out, index=build_year.index, dtype=float)


def fee_component(rate: pd.Series, s: TakeoverSettings) -> pd.Series:
    """Collection rate / 60 %, capped at 1; unknown 0."""
    r = pd.to_numeric(rate, errors="coerce")
    return (r / s.fee_full_at).clip(0, 1).fillna(0.0)


def households_component(households: pd.Series, s: TakeoverSettings) -> pd.Series:
    """ln(1 + households) / ln(1 + 500), capped at 1; unknown 0."""
    h = pd.to_numeric(households, errors="coerce").clip(lower=0)
    return (np.log1p(h) / math.log1p(s.households_full_at)).clip(0, 1).fillna(0.0)


def complaints_component(complaints: pd.Series, s: TakeoverSettings, safety: pd.Series | None = None) -> pd.Series:
    """Urgency: 12345 complaints per year / 20 + open safety problems (RULES §8 ledger) / 3, capped at 1 (more
    complaints or hazards → more need); an unknown part counts 0."""
    c = (pd.to_numeric(complaints, errors="coerce").clip(lower=0) / s.complaints_full_at).fillna(0.0)
    if safety is not None:
        p = pd.to_numeric(safety.reindex(complaints.index), errors="coerce").clip(lower=0)
        c = c + (p / s.safety_problems_full_at).fillna(0.0)
    return c.clip(0, 1).astype(float)


def handover_component(compound_ids: pd.Index, handovers: pd.DataFrame) -> pd.Series:
    """Share of the four utility facilities (water/power/heating/gas) at taken_over; absent rows count as unknown."""
    if handovers is None or handovers.empty:
        return pd.Series(0.0, index=compound_ids)
    h = handovers[handovers["facility"].isin(UTILITY_FACILITIES)]
    done = h[h["state"] == "taken_over"].groupby("compound_id")["facility"].nunique()
    return (done.reindex(compound_ids).fillna(0) / len(UTILITY_FACILITIES)).astype(float)


def tender_mode(floor_area_m2: pd.Series, s: TakeoverSettings) -> pd.Series:
    """public_tender when floor area ≥ 5万 m² or unknown (the safe default); else invited_tender (public or invited
    tender allowed, invited with ≥ 3 bidders) — the plan allows no other way of choosing the firm (RULES §4)."""
    a = pd.to_numeric(floor_area_m2, errors="coerce")
    return pd.Series(np.where(a < s.public_tender_min_floor_area_m2, "invited_tender", "public_tender"),
                     index=floor_area_m2.index)


TENDER_CHOICES = ("public", "invited")  # what a tender records (`takeover advance … tendering --mode`)


def tender_problem(floor_area_m2: float | None, mode: str | None, bidders: int | None,
                   s: TakeoverSettings) -> tuple[str, dict[str, Any]] | None:
    """Why a tender (mode public|invited, bidders) may not be recorded for a compound of that floor area, as
    (reason code, params), or None when it may (RULES §4).

    Codes: `missing` (mode or bidders not given), `mode` (not public/invited), `public_required` (area ≥ 5万 m²
    or unknown), `bidders` (fewer than the mode's minimum: invited ≥ 3, public ≥ 1).
    """
    missing = [k for k, v in (("mode", mode), ("bidders", bidders)) if v is None or v == ""]
    if missing:
        return "missing", {"fields": missing}
    if mode not in TENDER_CHOICES:
        return "mode", {"mode": mode}
    area = None if floor_area_m2 is None or pd.isna(floor_area_m2) else float(floor_area_m2)
    if mode == "invited" and (area is None or area >= s.public_tender_min_floor_area_m2):
        return "public_required", {"area": area, "limit": s.public_tender_min_floor_area_m2}
    least = s.invited_tender_min_bidders if mode == "invited" else s.public_tender_min_bidders
    if isinstance(bidders, bool) or not isinstance(bidders, int) or bidders < least:
        return "bidders", {"bidders": bidders, "least": least}
    return None


def score_candidates(compounds_gdf: gpd.GeoDataFrame, handovers_df: pd.DataFrame | None, settings: TakeoverSettings,
                     include_community_managed: bool = False, safety: pd.Series | None = None) -> pd.DataFrame:
    """Score every candidate 0–100 = Σ weight × component; every component (0–1) is a column `c_<name>`.

    Returns one row per candidate indexed by compound id, sorted by score (desc), with compound_id,
    name, street, score, c_* components, neighbours (count within the radius), takeover_cost,
    floor_area_m2, tender_mode and `unknown` (inputs that were missing and counted 0). `safety`: open safety
    problems per compound id (RULES §8; NaN where unknown, counted 0 and listed under `safety_complaints`). Rows
    made by `with_bundles` (a new bundle as one unit) keep their `kind` and `members`.
    """
    s = settings
    gdf = compounds_gdf
    if "id" not in gdf:
        gdf = gdf.assign(id=gdf.index)
    gdf = gdf.set_index(pd.Index(gdf["id"].to_numpy(), name=None), drop=False)
    is_cand = candidate_mask(gdf, s, include_community_managed)
    state_owned = gdf["management_mode"] == "state_owned"
    a, b, ids = _pair_positions(gdf, is_cand, is_cand | state_owned, s.contiguity_radius_m, s.metric_crs)
    cand = gdf[is_cand]
    idx = cand.index
    if gdf.index.is_unique:  # the pairs are distinct positions, so distinct ids: count them per candidate
        neighbours = pd.Series(np.bincount(a, minlength=len(gdf)), index=gdf.index).reindex(idx).astype(int)
    else:
        pairs = pd.DataFrame({"a": ids[a], "b": ids[b]})
        neighbours = pairs.groupby("a")["b"].nunique().reindex(idx).fillna(0).astype(int)
    comp = pd.DataFrame(index=idx)
    comp["contiguity"] = (neighbours / max(s.contiguity_saturation, 1)).clip(0, 1)
    comp["age"] = age_component(cand["build_year"], s)
    comp["renovation"] = cand["renovation"].map(s.renovation_scores).fillna(0.0).astype(float)
    comp["fee_viability"] = fee_component(cand["fee_collection_rate"], s)
    comp["households"] = households_component(cand["households"], s)
    comp["safety_complaints"] = complaints_component(cand["complaints_per_year"], s, safety)
    comp["utility_handover"] = handover_component(idx, handovers_df)
    comp["owners_org"] = cand["owners_org"].map(s.owners_org_scores).fillna(0.0).astype(float)
    weights = s.weights()
    score = sum(comp[c] * weights[c] for c in COMPONENTS) if len(idx) else pd.Series(dtype=float)
    unknown_cols = {"build_year": "age", "fee_collection_rate": "fee_viability", "households": "households",
                    "complaints_per_year": "safety_complaints"}
    missing = pd.DataFrame({k: cand[k].isna() for k in unknown_cols}, index=idx)
    if safety is not None:  # NaN: the ledger does not say (no plugin keeps one)
        missing["safety_problems"] = safety.reindex(idx).isna().to_numpy()
    unknown_cols["safety_problems"] = "safety_complaints"
    # each row's unknown components (in column order, once each), by pattern of missing inputs (≤ 32 patterns)
    bits = missing.to_numpy(dtype=bool) @ (1 << np.arange(missing.shape[1], dtype=np.int64)) if len(idx) else []
    names = {int(p): tuple(dict.fromkeys(unknown_cols[k] for j, k in enumerate(missing.columns) if p >> j & 1))
             for p in np.unique(bits)}
    unknown = [list(names[int(p)]) for p in bits]
    kind = cand["kind"].fillna("compound").to_numpy() if "kind" in cand else np.full(len(idx), "compound", dtype=object)
    members = cand["members"].to_numpy() if "members" in cand else np.full(len(idx), None, dtype=object)
    members = [list(mm) if isinstance(mm, list | tuple) else [i] for mm, i in zip(members, idx, strict=True)]
    units = cand["member_units"].to_numpy() if "member_units" in cand else np.full(len(idx), None, dtype=object)
    units = [list(u) if isinstance(u, list | tuple) else [f"compound:{i}"] for u, i in zip(units, idx, strict=True)]
    out = pd.DataFrame({
        "compound_id": idx.to_numpy(), "name": cand["name"].to_numpy(), "street": cand["street_code"].to_numpy(),
        "management_mode": cand["management_mode"].to_numpy(),
        "score": np.round(np.asarray(score, dtype=float), 2),
        **{f"c_{c}": np.round(comp[c].to_numpy(dtype=float), 4) for c in COMPONENTS},
        "neighbours": neighbours.to_numpy(),
        "takeover_cost": pd.to_numeric(cand["takeover_cost"], errors="coerce").to_numpy(),
        "floor_area_m2": pd.to_numeric(cand["floor_area_m2"], errors="coerce").to_numpy(),
        "households_n": pd.to_numeric(cand["households"], errors="coerce").to_numpy(),
        "build_year": pd.to_numeric(cand["build_year"], errors="coerce").to_numpy(),
        "tender_mode": tender_mode(cand["floor_area_m2"], s).to_numpy(),
        "unknown": unknown,
        "kind": kind, "members": members, "member_units": units,
    }, index=idx)
    return out.sort_values(["score", "compound_id"], ascending=[False, True], kind="stable")


BUNDLE_PREFIX = "bundle:"  # the id of a new bundle's row in the candidate pool


def with_bundles(compounds: gpd.GeoDataFrame, bundles: list[Any] | None) -> gpd.GeoDataFrame:
    """The compounds with each new bundle (RULES §4/§5, `exchange.TakeoverBundle`) as ONE candidate row in place of
    its member compounds: id `bundle:<id>`, kind `bundle`, members (compound ids), member_units (compound: and
    building: keys), area and households summed, the oldest member's build year, the household-weighted fee rate,
    complaints and cost summed, its outline as boundary, named after its first member (“name +N”, N the other
    units). A bundle with no compound member has no row to carry its pipeline state and is left out."""
    if not bundles:
        return compounds
    frame = compounds if "id" in compounds else compounds.assign(id=compounds.index)
    by_id = frame.set_index(pd.Index(frame["id"].to_numpy()), drop=False)
    rows, taken = [], set()
    geom_col = frame.geometry.name
    for b in bundles:
        members = [c for c in b.compound_ids if c in by_id.index and c not in taken]
        if not members:
            continue
        taken.update(members)
        first = by_id.loc[members[0]]
        modes = list(by_id.loc[members, "management_mode"])
        outline = b.geometry
        others = len(members) - 1 + len(b.building_ids)
        rows.append({
            "id": f"{BUNDLE_PREFIX}{b.id}", "name": f"{first['name']} +{others}",
            "street_code": b.street_code or first["street_code"],
            "management_mode": "none" if "none" in modes else modes[0], "demolition_planned": False, "managed_by_id": None,
            geom_col: outline, "location": None if outline is None else shapely.point_on_surface(outline),
            "build_year": b.build_year, "renovation": "unknown", "fee_collection_rate": b.fee_collection_rate,
            "households": b.households, "complaints_per_year": b.complaints_per_year, "owners_org": "unknown",
            "takeover_cost": b.takeover_cost, "floor_area_m2": b.floor_area_m2, "kind": "bundle",
            "members": list(members),
            "member_units": [f"compound:{c}" for c in members] + [f"building:{x}" for x in b.building_ids]})
    if not rows:
        return compounds
    kept = frame[~frame["id"].isin(taken)]
    extra = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geom_col, crs=frame.crs or 4326)
    out = pd.concat([kept, extra], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry=geom_col, crs=frame.crs or 4326)


def components_of(row: pd.Series | dict[str, Any], settings: TakeoverSettings) -> dict[str, dict[str, float]]:
    """One candidate's components as {name: {"value": 0–1, "weight": w, "points": value × weight}}."""
    w = settings.weights()
    return {c: {"value": float(row[f"c_{c}"]), "weight": w[c], "points": round(float(row[f"c_{c}"]) * w[c], 2)}
            for c in COMPONENTS}
