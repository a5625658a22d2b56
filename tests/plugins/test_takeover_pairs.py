"""Neighbour pairs of the takeover score and selection (issue 26 item 2): the box/point shortcuts find exactly the
pairs the former STRtree `dwithin` query found, and the scores, `unknown` lists and pair positions are the former
code's, on random layouts (squares, rotated and concave polygons, multipolygons, points, missing boundaries, ties at
the radius)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import affinity

from plugins.takeover.rules import (
    _anchor_geometries,
    _within_positions,
    candidate_pairs,
    neighbour_pairs,
    score_candidates,
)
from plugins.takeover.selection import _pair_index
from plugins.takeover.settings import TakeoverSettings

S = TakeoverSettings()
X0, Y0 = 400_000.0, 4_500_000.0  # EPSG:4546 metres near Baotou
MODES = ("none", "none", "none", "state_owned", "professional", "community_managed")


def _shape(rng: np.random.Generator, x: float, y: float) -> shapely.Geometry | None:
    kind = rng.integers(0, 6)
    w, h = rng.uniform(5, 250, 2)
    if kind == 0:
        return shapely.box(x, y, x + w, y + h)
    if kind == 1:
        return affinity.rotate(shapely.box(x, y, x + w, y + h), float(rng.uniform(0, 90)), origin="centroid")
    if kind == 2:  # an L (concave: its point_on_surface is far from the box corner nearest to another)
        return shapely.Polygon([(x, y), (x + w, y), (x + w, y + 20), (x + 20, y + 20), (x + 20, y + h), (x, y + h)])
    if kind == 3:
        return shapely.MultiPolygon([shapely.box(x, y, x + 30, y + 30), shapely.box(x + w, y + h, x + w + 30, y + h + 30)])
    if kind == 4:
        return shapely.box(x, y, x + w, y + h).buffer(-2).difference(shapely.box(x + 5, y + 5, x + w / 2, y + h / 2))
    return None  # no boundary: the location point counts


def _layout(seed: int, n: int, extent: float) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xs, ys = rng.uniform(0, extent, n), rng.uniform(0, extent, n)
    if seed % 3 == 0:  # a grid of 100 m squares 500 m apart edge to edge (and 600 m): pairs exactly at the radius
        xs, ys = (np.arange(n) % 7) * rng.choice([600.0, 700.0]), (np.arange(n) // 7) * 600.0
    shapes = [shapely.box(x, y, x + 100, y + 100) if seed % 3 == 0 else _shape(rng, x, y) for x, y in zip(xs, ys, strict=True)]
    points = [shapely.Point(x + 10, y + 10) for x, y in zip(xs, ys, strict=True)]
    if seed % 4 == 1:
        shapes[0], points[0] = None, None  # neither: no pair at all
        shapes[1] = shapely.Polygon()  # empty boundary: the point counts
    metric = gpd.GeoSeries([None if g is None else affinity.translate(g, X0, Y0) for g in shapes], crs="EPSG:4546")
    loc = gpd.GeoSeries([None if p is None else affinity.translate(p, X0, Y0) for p in points], crs="EPSG:4546")
    miss = rng.random((n, 4)) < 0.15
    frame = pd.DataFrame({
        "id": [f"k{rng.integers(0, 10**6):06d}-{i}" for i in range(n)], "name": "小区", "street_code": "150203001",
        "management_mode": rng.choice(MODES, n), "demolition_planned": rng.random(n) < 0.05,
        "build_year": np.where(miss[:, 0], np.nan, rng.integers(1980, 2020, n)), "renovation": "none",
        "fee_collection_rate": np.where(miss[:, 1], np.nan, rng.uniform(0, 1, n)),
        "households": np.where(miss[:, 2], np.nan, rng.integers(10, 900, n)),
        "complaints_per_year": np.where(miss[:, 3], np.nan, rng.integers(0, 30, n)), "owners_org": "none",
        "floor_area_m2": rng.uniform(1e3, 9e4, n), "takeover_cost": rng.uniform(1, 20, n), "managed_by_id": None})
    gdf = gpd.GeoDataFrame(frame, geometry=metric.to_crs(4326).values, crs=4326).rename_geometry("boundary")
    gdf["location"] = loc.to_crs(4326).values
    return gdf.set_index(gdf["id"].to_numpy(), drop=False)


def _former_pairs(compounds: gpd.GeoDataFrame, sources: pd.Series, targets: pd.Series, radius: float) -> set:
    """The former code: one STRtree `dwithin` query of every source against the targets."""
    geoms = _anchor_geometries(compounds, S.metric_crs)
    ids = compounds["id"].to_numpy()
    src, tgt = np.flatnonzero(sources.to_numpy()), np.flatnonzero(targets.to_numpy())
    if not len(src) or not len(tgt):
        return set()
    qi, ti = shapely.STRtree(geoms[tgt]).query(geoms[src], predicate="dwithin", distance=radius)
    return {(ids[a], ids[b]) for a, b in zip(src[qi], tgt[ti], strict=True) if a != b}


LAYOUTS = [(seed, n, extent) for seed, n, extent in
           [(0, 35, 0), (1, 40, 1500), (2, 60, 3000), (3, 49, 0), (4, 80, 2000), (5, 25, 600), (6, 42, 0),
            (7, 120, 5000), (8, 50, 1200), (9, 70, 2500), (10, 30, 400), (11, 90, 3500)]]


@pytest.mark.parametrize(("seed", "n", "extent"), LAYOUTS)
def test_neighbour_pairs_are_the_former_dwithin_pairs(seed: int, n: int, extent: float) -> None:
    radius = (500.0, 120.0, 500.0, 0.0)[seed % 4]
    gdf = _layout(seed, n, extent)
    rng = np.random.default_rng(seed + 99)
    sources = pd.Series(rng.random(n) < 0.7, index=gdf.index)
    targets = pd.Series(rng.random(n) < 0.8, index=gdf.index)
    got = neighbour_pairs(gdf, sources, targets, radius, S.metric_crs)
    assert set(zip(got["a"], got["b"], strict=True)) == _former_pairs(gdf, sources, targets, radius)
    assert len(got) == len(set(zip(got["a"], got["b"], strict=True)))
    geoms = _anchor_geometries(gdf.set_index(gdf["id"].to_numpy()), S.metric_crs)
    where = {c: i for i, c in enumerate(gdf["id"])}
    expect = np.round(shapely.distance(geoms[[where[a] for a in got["a"]]], geoms[[where[b] for b in got["b"]]]), 1)
    assert np.array_equal(got["distance_m"].to_numpy(dtype=float), expect.astype(float))


def test_shortcuts_leave_only_the_doubtful_pairs_to_geos(monkeypatch: pytest.MonkeyPatch) -> None:
    """Far apart boxes are out and pairs whose inner points are within the radius are in without GEOS distance."""
    geoms = np.array([shapely.box(0, 0, 10, 10), shapely.box(15, 0, 25, 10), shapely.box(100, 0, 110, 10),
                      shapely.Polygon([(0, 30), (200, 30), (200, 31), (0, 31)])])
    asked: list[int] = []
    real = shapely.dwithin

    def counting(a, b, d):  # noqa: ANN001, ANN202
        asked.append(len(a))
        return real(a, b, d)

    monkeypatch.setattr(shapely, "dwithin", counting)
    a, b = _within_positions(geoms, np.arange(4), np.arange(4), 30.0)
    got = set(zip(a.tolist(), b.tolist(), strict=True))
    former = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=30.0)
    assert got == {(x, y) for x, y in zip(*former, strict=True) if x != y}
    # 0–1: inner points 15 m apart, in without GEOS; 0–2, 1–2: boxes 90 and 75 m apart, out; 2–3: inner points
    # (105, 5) and (100, 30.5) 26 m apart, in; only 0–3 and 1–3 (boxes 20 m apart, points ≈ 97 and 83 m) ask GEOS
    assert got == {(0, 1), (1, 0), (0, 3), (3, 0), (1, 3), (3, 1), (2, 3), (3, 2)}
    assert sum(asked) == 4


def _former_neighbours(gdf: gpd.GeoDataFrame) -> pd.Series:
    cand = gdf["management_mode"].isin(S.candidate_modes) & ~gdf["demolition_planned"] & gdf["managed_by_id"].isna()
    pairs = _former_pairs(gdf, cand, cand | (gdf["management_mode"] == "state_owned"), S.contiguity_radius_m)
    frame = pd.DataFrame(sorted(pairs), columns=["a", "b"])
    return frame.groupby("a")["b"].nunique().reindex(gdf.index[cand]).fillna(0).astype(int)


def _former_unknown(cand: pd.DataFrame, safety: pd.Series | None) -> list[list[str]]:
    cols = {"build_year": "age", "fee_collection_rate": "fee_viability", "households": "households",
            "complaints_per_year": "safety_complaints"}
    missing = pd.DataFrame({k: cand[k].isna() for k in cols}, index=cand.index)
    if safety is not None:
        missing["safety_problems"] = safety.reindex(cand.index).isna().to_numpy()
    cols["safety_problems"] = "safety_complaints"
    return [list(dict.fromkeys(cols[k] for k, v in r.items() if v)) for _, r in missing.iterrows()]


@pytest.mark.parametrize(("seed", "n", "extent"), LAYOUTS[:6])
def test_scores_are_the_former_code_s(seed: int, n: int, extent: float) -> None:
    with_safety = seed % 2 == 1
    gdf = _layout(seed, n, extent)
    rng = np.random.default_rng(seed)
    safety = pd.Series(np.where(rng.random(n) < 0.3, np.nan, rng.integers(0, 4, n)), index=gdf.index) \
        if with_safety else None
    scored = score_candidates(gdf, pd.DataFrame(columns=["compound_id", "facility", "state"]), S, safety=safety)
    neighbours = _former_neighbours(gdf)
    assert scored["neighbours"].to_dict() == neighbours.to_dict()
    assert scored["c_contiguity"].to_dict() == pytest.approx(
        np.round((neighbours / S.contiguity_saturation).clip(0, 1), 4).to_dict())
    cand = gdf.loc[scored.index]
    assert scored["unknown"].tolist() == _former_unknown(cand, safety)


@pytest.mark.parametrize(("seed", "n", "extent"), LAYOUTS[5:])
def test_candidate_pairs_map_to_the_former_positions(seed: int, n: int, extent: float) -> None:
    gdf = _layout(seed, n, extent)
    scored = score_candidates(gdf, pd.DataFrame(columns=["compound_id", "facility", "state"]), S)
    is_cand = gdf["id"].isin(scored.index)
    got = candidate_pairs(gdf, is_cand, S)
    former = {(a, b) for a, b in _former_pairs(gdf, is_cand, is_cand, S.contiguity_radius_m) if a < b}
    assert set(zip(got["a"].astype(object), got["b"].astype(object), strict=True)) == former
    assert got["a"].dtype == "category"  # unique ids: positions through the categories
    ids = scored["compound_id"].astype(str).to_numpy()
    plain = pd.DataFrame(sorted(former), columns=["a", "b"], dtype=object)
    assert np.array_equal(_pair_index(ids, got), _pair_index(ids, plain))
    assert np.array_equal(_pair_index(ids, candidate_pairs(gdf, is_cand, S, distance=False)), _pair_index(ids, plain))
    pos = {c: i for i, c in enumerate(ids)}
    expect = sorted({tuple(sorted((pos[a], pos[b]))) for a, b in former})
    assert _pair_index(ids, got).tolist() == [list(p) for p in expect]


def test_pair_index_of_categorical_pairs_leaves_out_unknown_ids_and_self_pairs() -> None:
    ids = np.array(["c", "a", "b"], dtype=object)
    cats = pd.Index(["a", "b", "c", "x"], dtype=object)
    pairs = pd.DataFrame({"a": pd.Categorical.from_codes([0, 3, 2, 1, 0, 0], categories=cats),
                          "b": pd.Categorical.from_codes([1, 0, 2, 0, 2, 1], categories=cats)})
    assert _pair_index(ids, pairs).tolist() == [[0, 1], [1, 2]]  # (a, b) twice → once; x unknown; (c, c) left out


def test_candidate_pairs_with_duplicate_ids_fall_back_to_the_ids() -> None:
    gdf = _layout(5, 25, 600)
    gdf["id"] = [f"d{i % 20:02d}" for i in range(len(gdf))]
    gdf = gdf.set_index(gdf["id"].to_numpy(), drop=False)
    everyone = pd.Series(True, index=gdf.index)
    got = candidate_pairs(gdf, everyone.to_numpy(), S, distance=False)
    assert got["a"].dtype == object
    assert set(zip(got["a"], got["b"], strict=True)) == {
        (a, b) for a, b in _former_pairs(gdf, everyone, everyone, S.contiguity_radius_m) if a < b}
