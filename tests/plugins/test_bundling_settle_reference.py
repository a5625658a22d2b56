"""Issue 26: the faster pair search and settle pass of plan_bundles give the very plan of those they replaced.

The reference below is the code as it was before issue 26 (kept here verbatim): hosts in reach by an
STRtree `dwithin` query, barriers pre-tested by the barriers' whole boxes, then shortest_line + `crosses`,
and the settle pass that computes every usable pair of every involved orphan. The product finds the same
pairs by boxes + one distance per pair (`_in_reach`), pre-tests barriers by the boxes of their segments
(`_may_cross`), and in the settle pass decides reach from the boxes where they tell (`_box_pairs`: the
farthest corners within the radius, or the nearest points beyond it), measuring distances and checking
barriers only where the answer can matter (the closure, the parts that may be solved exactly, and the
candidates the greedy pass reaches, ring by ring). Whole plans (proposals, new bundles, unmatched
reasons) are compared on crowded random layouts with multi-vertex barriers, hosts the orphans push over
10万 m² together (the settle pass at work, exact and greedy), ties at the distance resolution, rotated
shapes (boxes that bound loosely) and a pair exactly at the radius. Pure functions, no database.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import shapely
import shapely.affinity
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from plugins.bundling import rules
from plugins.bundling.rules import find_hosts, find_orphans, plan_bundles
from plugins.bundling.settings import BundlingSettings
from tests.plugins.test_bundling_layouts import S1, S2, Layout, rect

# --- the reference: the pair search before issue 26 ------------------------------------------------

REF_BOX_TEST_MIN_PAIRS = 200
REF_BOX_TEST_MAX_BARRIERS = 64
REF_BOX_TEST_CHUNK = 1 << 14
REF_BOX_PAD_M = 1e-3


def ref_blocked(a: np.ndarray, b: np.ndarray, barrier_tree: shapely.STRtree | None, *_bounds: object) -> np.ndarray:
    blocked = np.zeros(len(a), dtype=bool)
    if barrier_tree is None or len(a) == 0:
        return blocked
    check = ref_may_cross(a, b, barrier_tree.geometries)
    lines = shapely.shortest_line(a[check], b[check])
    hit = barrier_tree.query(lines, predicate="crosses")[0]
    blocked[check[np.unique(hit)]] = True
    return blocked


def ref_may_cross(a: np.ndarray, b: np.ndarray, barriers: np.ndarray) -> np.ndarray:
    if len(a) < REF_BOX_TEST_MIN_PAIRS or len(barriers) > REF_BOX_TEST_MAX_BARRIERS:
        return np.arange(len(a))
    ba, bb, bar = shapely.bounds(a), shapely.bounds(b), shapely.bounds(barriers)
    lo = np.minimum(ba[:, :2], bb[:, :2]) - REF_BOX_PAD_M
    hi = np.maximum(ba[:, 2:], bb[:, 2:]) + REF_BOX_PAD_M
    meets = np.zeros(len(a), dtype=bool)
    for i in range(0, len(a), REF_BOX_TEST_CHUNK):
        lo_, hi_ = lo[i:i + REF_BOX_TEST_CHUNK, None, :], hi[i:i + REF_BOX_TEST_CHUNK, None, :]
        meets[i:i + REF_BOX_TEST_CHUNK] = ((lo_ <= bar[None, :, 2:]) & (hi_ >= bar[None, :, :2])).all(axis=2).any(axis=1)
    return np.flatnonzero(meets)


def ref_in_reach(tree, og, rows, hg, radius, keep=None, bounds=None, h_bounds=None):  # noqa: ANN001, ANN201, ARG001
    """plan_bundles' `query` before issue 26 (a dwithin query, then the distances), with the caller's filter."""
    q, hi = tree.query(og[rows], predicate="dwithin", distance=radius)
    oi = rows[q]
    if keep is not None:
        ok = keep(oi, hi)
        oi, hi = oi[ok], hi[ok]
    return oi, hi, shapely.distance(og[oi], hg[hi])


def ref_nearest(tree, og, rows, hg, max_distance, bounds=None, h_bounds=None):  # noqa: ANN001, ANN201, ARG001
    """plan_bundles' nearest hosts before issue 26's third pass: the tree's own nearest search."""
    (q, hi), d = tree.query_nearest(og[rows], max_distance=max_distance, return_distance=True, all_matches=True)
    return rows[q], hi, d


def ref_usable_pairs(rows, og, hg, host_tree, barrier_tree, c, s):  # noqa: ANN001, ANN201
    q, hi = host_tree.query(og[rows], predicate="dwithin", distance=s.max_distance_m)
    oi = rows[q]
    same = c.o_street[oi] == c.h_street[hi]
    oi, hi = oi[same], hi[same]
    ok = ~ref_blocked(og[oi], hg[hi], barrier_tree)
    oi, hi = oi[ok], hi[ok]
    dist = shapely.distance(og[oi], hg[hi])
    shared = np.zeros(len(oi))
    close = dist <= s.shared_boundary_tolerance_m
    if close.any():
        zone = shapely.buffer(hg[hi[close]], s.shared_boundary_tolerance_m)
        shared[close] = shapely.length(shapely.intersection(shapely.boundary(og[oi[close]]), zone))
    return rules._Pairs(oi, hi, dist, shared)


def ref_settle_loads(best, og, hg, host_tree, barrier_tree, c, s, h_rank):  # noqa: ANN001, ANN201
    """The settle pass before issue 26: every usable pair of every involved orphan, barriers checked eagerly."""
    cap = s.preferred_max_merged_area_m2
    base = c.h_area

    def loads(b: rules._Best) -> np.ndarray:
        return base + np.bincount(b.h, weights=c.o_area[b.o], minlength=len(base))

    load = loads(best)
    fits_alone = ~best.over
    hot = np.zeros(len(base), dtype=bool)
    hot[best.h[fits_alone & (load[best.h] > cap)]] = True  # a host the orphans push over together
    if not hot.any() or host_tree is None:
        return best, load
    host_of = np.full(len(c.o_id), -1, dtype=np.intp)
    host_of[best.o] = best.h
    # the orphans of the hot hosts, closed over the hosts they could use (their orphans take part too)
    involved = np.zeros(len(c.o_id), dtype=bool)
    new = np.flatnonzero(hot[np.maximum(host_of, 0)] & (host_of >= 0))
    pairs: list[rules._Pairs] = []
    while len(new):
        involved[new] = True
        p = ref_usable_pairs(new, og, hg, host_tree, barrier_tree, c, s)
        pairs.append(p)
        touched = np.zeros(len(base), dtype=bool)
        touched[p.h] = True
        new = np.flatnonzero(~involved & (host_of >= 0) & touched[np.maximum(host_of, 0)])
    allp = rules._Pairs(*(np.concatenate([getattr(p, f) for p in pairs]) for f in ("o", "h", "dist", "shared")))
    # each orphan's candidates in its own ranking (as when it is judged alone, without the area)
    order = np.lexsort((h_rank[allp.h], allp.dist, -allp.shared, rules._dkey(allp.dist, s.distance_resolution_m),
                        allp.o, c.o_id_str[allp.o], c.o_kind[allp.o].astype(str)))
    allp = rules._Pairs(allp.o[order], allp.h[order], allp.dist[order], allp.shared[order])
    rows = allp.o[rules._firsts(allp.o)]  # involved orphans in (kind, id) order
    # groups: connected components of orphans and hosts over the usable pairs
    n_o, n_h = len(c.o_id), len(base)
    graph = coo_matrix((np.ones(len(allp.o)), (allp.o, n_o + allp.h)), shape=(n_o + n_h, n_o + n_h))
    _, comp = connected_components(graph, directed=False)
    starts = np.flatnonzero(rules._firsts(allp.o))
    ends = np.r_[starts[1:], len(allp.o)]
    pick = np.full(n_o, -1, dtype=np.intp)  # per orphan row: its chosen pair (position in allp)
    group_of = comp[rows]
    by_group = np.argsort(group_of, kind="stable")  # each group's rows together, in row order (groups are independent)
    bounds = np.flatnonzero(np.r_[True, group_of[by_group][1:] != group_of[by_group][:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):  # not a scan of every row per group: quadratic at scale
        at = by_group[a:b]
        members = rows[at]
        cands = [np.arange(a, b) for a, b in zip(starts[at], ends[at], strict=True)]  # best-ranked first
        if np.prod([float(len(x)) for x in cands]) <= rules.EXACT_MAX_ASSIGNMENTS:
            pick[members] = rules._exact(members, cands, allp, c, s, base)
        else:
            pick[members] = ref_greedy(members, cands, allp, c, s, base)
    # the chosen pairs: the involved orphans' (possibly new) hosts, the others' unchanged
    keep = ~involved[best.o]
    sel = pick[np.flatnonzero(involved)]
    moved = rules._Best(allp.o[sel], allp.h[sel], allp.dist[sel], allp.shared[sel], np.zeros(len(sel), dtype=bool))
    out = rules._Best.concat([best.take(keep), moved])
    load = loads(out)
    out.over = load[out.h] > cap
    return out, load


def ref_greedy(members, cands, allp, c, s, base):  # noqa: ANN001, ANN201
    """Orphans in order of distance, each to its best host that stays under (else its best), then repaired."""
    cap = s.preferred_max_merged_area_m2
    load = dict(enumerate(base))  # host row → area
    area = c.o_area[members]
    first = np.array([x[0] for x in cands])
    order = np.lexsort((np.arange(len(members)), allp.dist[first], -allp.shared[first],
                        rules._dkey(allp.dist[first], s.distance_resolution_m)))
    pick = first.copy()
    for i in order:
        fit = [k for k in cands[i] if load[int(allp.h[k])] + area[i] <= cap]
        pick[i] = fit[0] if fit else cands[i][0]
        load[int(allp.h[pick[i]])] += area[i]
    moved = True
    while moved:  # each move lowers (area over the maximum, orphans on a host over it): it ends
        moved = False
        for i in order:
            h = int(allp.h[pick[i]])
            if load[h] <= cap:
                continue
            fit = [k for k in cands[i] if int(allp.h[k]) != h and load[int(allp.h[k])] + area[i] <= cap]
            if fit:
                load[h] -= area[i]
                pick[i] = fit[0]
                load[int(allp.h[pick[i]])] += area[i]
                moved = True
    return pick


def reference_plan(lay: Layout, monkeypatch: pytest.MonkeyPatch, s: BundlingSettings) -> dict:
    with monkeypatch.context() as m:
        m.setattr(rules, "_blocked", ref_blocked)
        m.setattr(rules, "_in_reach", ref_in_reach)
        m.setattr(rules, "_nearest", ref_nearest)
        m.setattr(rules, "_settle_loads", ref_settle_loads)
        return plan_dict(lay, s)


def plan_dict(lay: Layout, s: BundlingSettings) -> dict:
    compounds, buildings, barriers = lay.frames()
    orphans, hosts = find_orphans(compounds, buildings, s), find_hosts(compounds, s)
    plan = plan_bundles(orphans, hosts, barriers, s)
    out = plan.to_dict()
    out["orphans"] = plan.orphans[["orphan_id", "status", "reason", "proposal_id", "bundle_id"]].to_dict("list")
    out["proposal_rows"] = plan.proposals.drop(columns=["orphan_ids"]).to_dict("list")
    return out


# --- crowded layouts ---------------------------------------------------------------------------------

def crowded(seed: int, n_hosts: int, n_orphans: int, size: float, n_barriers: int, grid: bool,
            rotated: bool = False) -> Layout:
    """Hosts near 10万 m² (hot together), dense orphans, bent barrier lines; `grid`: orphans on a 20 m grid
    beside hosts on a grid too, so that many distances tie at the resolution; `rotated`: every shape turned
    by a random angle (its box bounds its distances loosely)."""
    rng = np.random.default_rng(seed)
    lay = Layout()

    def shape(x: float, y: float, w: float, h: float) -> shapely.Geometry:
        g = rect(x, y, w, h)
        return shapely.affinity.rotate(g, float(rng.uniform(0, 90))) if rotated else g

    for i in range(n_hosts):
        x, y = (np.array([i % 6, i // 6]) * size / 6) if grid else rng.uniform(0, size, 2)
        lay.host(f"H{i:02d}", shape(x, y, 80, 60), street=S1 if x < size * 0.55 else S2,
                 area=float(rng.choice([60_000, 88_000, 93_000, 97_000])))
    for i in range(n_orphans):
        x, y = (np.round(rng.uniform(-100, size + 100, 2) / 20) * 20) if grid else rng.uniform(-100, size + 100, 2)
        street = S1 if x < size * 0.5 else S2
        if i % 3:
            lay.lone(f"B{i:03d}", shape(x, y, 30, 15), street=street, area=float(rng.uniform(1_500, 9_000)))
        else:
            lay.small(f"C{i:03d}", shape(x, y, 30, 20), street=street, area=float(rng.uniform(1_500, 9_000)))
    for i in range(n_barriers):
        xs = rng.uniform(0, size, 4) + np.array([0.0, 60, -40, 30])
        ys = np.linspace(-300, size + 300, 4)
        lay.barrier(f"R{i}", *zip(xs.tolist(), ys.tolist(), strict=True))
    if n_barriers:
        lay.barrier("E", (-300, size * 0.4), (size * 0.3, size * 0.45), (size + 300, size * 0.35))
    return lay


@pytest.mark.parametrize(("seed", "n_hosts", "n_orphans", "size", "n_barriers", "grid", "rotated"), [
    (1, 24, 220, 1500.0, 3, False, False),  # the box pre-tests in play (≥ 200 pairs a batch)
    (2, 30, 260, 1200.0, 4, True, False),  # ties at the resolution
    (3, 18, 240, 1000.0, 0, False, False),  # no barrier
    (4, 36, 300, 1800.0, 5, True, False),
    (6, 30, 280, 1200.0, 4, False, True),  # rotated shapes: the boxes decide less, more is measured
])
def test_the_plan_is_the_reference_plan(seed: int, n_hosts: int, n_orphans: int, size: float, n_barriers: int,
                                        grid: bool, rotated: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    s = BundlingSettings()
    lay = crowded(seed, n_hosts, n_orphans, size, n_barriers, grid, rotated)
    want = reference_plan(lay, monkeypatch, s)
    got = plan_dict(lay, s)
    assert got == want
    assert len(want["proposals"]) > 20 and want["unmatched"]
    moved = [p for p in want["proposals"] if not p["within_preferred_area"]]
    assert len({p["host_compound_id"] for p in want["proposals"]}) > 5, moved


def test_the_layouts_give_the_settle_pass_something_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the settle pass the plans differ: the comparison above covers re-assigned orphans."""
    s = BundlingSettings()
    lay = crowded(2, 30, 260, 1200.0, 4, True)
    settled = plan_dict(lay, s)
    monkeypatch.setattr(rules, "_settle_loads", lambda best, og, hg, ht, bt, c, s_, r: (  # noqa: ARG005
        best, c.h_area + np.bincount(best.h, weights=c.o_area[best.o], minlength=len(c.h_area))))
    alone = plan_dict(lay, s)
    assert settled["proposals"] != alone["proposals"]


@pytest.mark.parametrize("exact_max", [0, 200, rules.EXACT_MAX_ASSIGNMENTS])
def test_greedy_and_exact_groups_match_the_reference(exact_max: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """200: some parts exact, some greedy (the rounds that decide which are at work)."""
    monkeypatch.setattr(rules, "EXACT_MAX_ASSIGNMENTS", exact_max)
    s = BundlingSettings()
    lay = crowded(5, 20, 200, 900.0, 2, True)
    assert plan_dict(lay, s) == reference_plan(lay, monkeypatch, s)


@pytest.mark.parametrize(("ring", "rotated"), [(0.0, True), (1e5, False)])
def test_the_greedy_pass_looking_past_its_ring_matches_the_reference(ring: float, rotated: bool,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A ring of 0 m measures each orphan's nearest boxes only: most searches go on past the prefix; 1e5: all."""
    monkeypatch.setattr(rules, "EXACT_MAX_ASSIGNMENTS", 0)
    monkeypatch.setattr(rules, "RING_M", ring)
    s = BundlingSettings()
    lay = crowded(7, 24, 240, 1000.0, 3, True, rotated)
    got = plan_dict(lay, s)
    assert got == reference_plan(lay, monkeypatch, s)
    assert any(not p["within_preferred_area"] for p in got["proposals"]) or len(got["proposals"]) > 20


@pytest.mark.parametrize(("inner", "exact_max", "seed", "rotated", "searches"), [
    (0.02, 200, 5, False, False),  # almost no near pair: nearly every part may be small, its orphans get all pairs
    (0.1, 0, 5, False, True),  # every part greedy: members search past their near pairs when those do not do
    (0.15, 2, 5, False, True),  # both: small parts completed, big ones' members searching past their near pairs
    (0.1, 20, 7, True, False),  # rotated shapes: boxes bound loosely, the near pairs' prefix stops early
    (0.25, 20, 4, False, False),
    (0.25, rules.EXACT_MAX_ASSIGNMENTS, 4, False, False),
    (1.0, 200, 5, False, False),  # every pair at once (the near pairs are all pairs)
])
@pytest.mark.parametrize("ring_near", [0.0, rules.RING_NEAR_M, 1e5])
def test_the_groups_from_near_pairs_first_match_the_reference(inner: float, exact_max: int, seed: int,
                                                              rotated: bool, searches: bool, ring_near: float,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The settle pass's groups asked of each orphan's near pairs first (INNER_FRACTION of the radius), all its
    pairs only where its part may be small, the greedy pass asking the tree when it looks past them; the rings
    measured first for a member with its near pairs only at 0 m (each search goes past), the default and 1e5 m."""
    monkeypatch.setattr(rules, "RING_NEAR_M", ring_near)
    monkeypatch.setattr(rules, "NEAR_FIRST_MIN_ORPHANS", 0)  # near pairs first however few the orphans
    monkeypatch.setattr(rules, "INNER_FRACTION", inner)
    monkeypatch.setattr(rules, "EXACT_MAX_ASSIGNMENTS", exact_max)
    past: list[int] = []
    completed: list[int] = []
    find_past, group_pairs = rules._Ranked._find_past, rules._group_pairs

    def spy_past(self: rules._Ranked, i: int, *args: object) -> int:
        past.append(i)
        return find_past(self, i, *args)

    def spy_groups(rows: np.ndarray, *args: object) -> tuple[rules._Cands, np.ndarray]:
        p, complete = group_pairs(rows, *args)
        completed.append(int(complete[rows].sum()))
        return p, complete

    monkeypatch.setattr(rules._Ranked, "_find_past", spy_past)
    monkeypatch.setattr(rules, "_group_pairs", spy_groups)
    s = BundlingSettings()
    lay = crowded(seed, 20 if seed == 5 else 36, 200 if seed == 5 else 300, 900.0 if seed == 5 else 1800.0,
                  2, True, rotated)
    got = plan_dict(lay, s)
    assert got == reference_plan(lay, monkeypatch, s)
    assert completed, "the settle pass had nothing to do"
    assert completed and completed[0] > 0, "no orphan got all its pairs"
    assert bool(past) == searches


# --- the pieces ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("gap", "radius", "inside"), [
    (300.0, 300.0, True),  # exactly at the radius: dwithin's own answer
    (300.0 + 1e-9, 300.0, False),
    (299.9999999, 300.0, True),
    (300.0000001, 300.0, False),
    (0.0, 0.0, True),  # touching, radius 0
    (150.0, 100.0, False),
])
def test_in_reach_agrees_with_dwithin_at_the_radius(gap: float, radius: float, inside: bool) -> None:
    og = np.array([shapely.box(0, 0, 10, 10), shapely.box(0, 50, 10, 60)], dtype=object)
    hg = np.array([shapely.box(10 + gap, 0, 40 + gap, 10), shapely.box(-5000, 0, -4990, 10)], dtype=object)
    tree = shapely.STRtree(hg)
    rows = np.array([0, 1])
    q, hi = tree.query(og[rows], predicate="dwithin", distance=radius)
    oi, hi2, dist = rules._in_reach(tree, og, rows, hg, radius)
    assert sorted(zip(oi.tolist(), hi2.tolist(), strict=True)) == sorted(zip(rows[q].tolist(), hi.tolist(), strict=True))
    assert ((0, 0) in set(zip(oi.tolist(), hi2.tolist(), strict=True))) is inside
    assert np.array_equal(dist, shapely.distance(og[oi], hg[hi2]))


@pytest.mark.parametrize("seed", range(3))
def test_in_reach_agrees_with_dwithin_on_random_boxes_and_radii(seed: int) -> None:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1000, (300, 2))
    og = np.array([shapely.box(x, y, x + 20, y + 10) for x, y in xy], dtype=object)
    hxy = np.round(rng.uniform(0, 1000, (80, 2)) / 10) * 10
    hg = np.array([shapely.box(x, y, x + 50, y + 40) for x, y in hxy]
                  + [shapely.Point(500, 500), shapely.LineString([(0, 0), (900, 40)])], dtype=object)
    tree = shapely.STRtree(hg)
    rows = np.flatnonzero(rng.random(300) < 0.8)
    radius = np.where(rng.random(len(rows)) < 0.5, 150.0, np.round(rng.uniform(0, 300, len(rows)), 0))
    q, hi = tree.query(og[rows], predicate="dwithin", distance=radius)
    want = sorted(zip(rows[q].tolist(), hi.tolist(), strict=True))
    oi, hi2, _ = rules._in_reach(tree, og, rows, hg, radius)
    assert sorted(zip(oi.tolist(), hi2.tolist(), strict=True)) == want
    oi, hi2, _ = rules._in_reach(tree, og, rows, hg, radius, h_bounds=shapely.bounds(hg))  # corners left out by box
    assert sorted(zip(oi.tolist(), hi2.tolist(), strict=True)) == want
    assert len(want) > 500


def nearest_shapes(rng: np.random.Generator, n: int, size: float, spread: float) -> np.ndarray:
    """Boxes on a 10 m grid (ties), rotated shapes, points and lines."""
    xy = np.round(rng.uniform(0, spread, (n, 2)) / 10) * 10
    g = [shapely.box(x, y, x + size, y + size * 0.6) for x, y in xy]
    return np.array([shapely.affinity.rotate(b, float(rng.uniform(0, 90))) if i % 5 == 1
                     else b.centroid if i % 5 == 2
                     else shapely.LineString([(b.bounds[0], b.bounds[1]), (b.bounds[2] + 40, b.bounds[3])]) if i % 5 == 3
                     else b for i, b in enumerate(g)], dtype=object)


@pytest.mark.parametrize(("seed", "max_distance", "spread"), [(0, 300.0, 2500.0), (1, 120.0, 1500.0),
                                                            (2, 40.0, 800.0), (3, 300.0, 6000.0)])
def test_nearest_is_the_trees_nearest_search(seed: int, max_distance: float, spread: float) -> None:
    """_nearest gives the pairs and distances of query_nearest(all_matches) on shapes whose boxes bound loosely,
    with ties (grid-aligned boxes, hosts touching an orphan on two sides), hosts exactly at max_distance and
    just past it, orphans found in each growing box and orphans with no host in reach."""
    rng = np.random.default_rng(seed)
    og, hg = nearest_shapes(rng, 300, 20.0, spread), nearest_shapes(rng, 120, 60.0, spread)
    half, top = float(round(max_distance / 2)), -990 + 2 * max_distance
    extra_o = [shapely.box(-1000, -1000, -990, -990), shapely.box(-2000, -1000, -1990, -990),
               shapely.box(-3000, -1000, -2990, -990), shapely.box(-4000, -1000, -3990, -990),
               shapely.box(-5000, -1000, -4990, -990), shapely.Polygon()]
    extra_h = [shapely.box(-1010, -1000, -1000, -990), shapely.box(-990, -1000, -980, -990),  # touching, both sides
               shapely.box(-1990 + max_distance, -1000, -1980 + max_distance, -990),  # exactly at max_distance
               shapely.box(-2990 + max_distance + 1e-9, -1000, -2980 + max_distance, -990),  # just past it
               shapely.box(-3990 + max_distance * 0.5, -1000, -3980 + max_distance, -990),
               shapely.box(-4000 - max_distance * 0.5 - 10, -1000, -4000 - max_distance * 0.5, -990),  # a tie
               # a tie whose box is farther than the other's (an L whose box holds the orphan, and a box)
               shapely.union(shapely.box(-5010 - half, -1000, -5000 - half, top + 10), shapely.box(-5010 - half, top, -4980, top + 10)),
               shapely.box(-4990 + half, -1000, -4980 + half, -990), shapely.Polygon(), None]
    og = np.concatenate([og, np.array(extra_o, dtype=object)])
    hg = np.concatenate([hg, np.array(extra_h, dtype=object)])
    tree = shapely.STRtree(hg)
    rows = np.flatnonzero(~(shapely.is_missing(og) | shapely.is_empty(og)) & (rng.random(len(og)) < 0.9))
    rows = np.union1d(rows, np.arange(len(og) - 6, len(og) - 1))
    (q, hi), d = tree.query_nearest(og[rows], max_distance=max_distance, return_distance=True, all_matches=True)
    want = sorted(zip(rows[q].tolist(), hi.tolist(), d.tolist(), strict=True))
    oi, hi2, d2 = rules._nearest(tree, og, rows, hg, max_distance, shapely.bounds(og), shapely.bounds(hg))
    assert sorted(zip(oi.tolist(), hi2.tolist(), d2.tolist(), strict=True)) == want
    assert np.all(oi[1:] >= oi[:-1])  # grouped by orphan row
    n = len(og)
    found = {o for o, _, _ in want}
    assert {n - 6, n - 5, n - 3, n - 2} <= found and n - 4 not in found
    assert [sum(o == k for o, _, _ in want) for k in (n - 6, n - 3, n - 2)] == [2, 2, 2]
    dist = np.array([x for _, _, x in want])
    for frac in rules.NEAREST_FRACTIONS:  # every growing box settles some orphans
        assert ((dist < max_distance * frac) & (dist >= max_distance * frac / 4)).any()


def test_segment_pre_test_keeps_every_blocked_pair_with_bent_and_polygon_barriers() -> None:
    rng = np.random.default_rng(8)
    n = rules.BOX_TEST_MIN_PAIRS * 3
    xy = rng.uniform(0, 2000, (n, 2))
    a = np.array([shapely.box(x, y, x + 20, y + 10) for x, y in xy], dtype=object)
    shift = rng.uniform(-250, 250, (n, 2))
    b = np.array([shapely.box(x, y, x + 40, y + 30) for x, y in xy + shift], dtype=object)
    bars = np.array([shapely.LineString([(x, -100), (x + 150, 700), (x - 100, 1400), (x, 2100)])
                     for x in rng.uniform(0, 2000, 5)]
                    + [shapely.MultiLineString([[(0, 1000), (2000, 1100)], [(0, 300), (900, 300)]]),
                       shapely.Polygon([(1200, 1200), (1500, 1200), (1500, 1500)]),
                       shapely.LineString([(700, 700), (701, 701)])], dtype=object)
    got = rules._blocked(a, b, shapely.STRtree(bars))
    want = np.array([any(shapely.shortest_line(x, y).crosses(bar) for bar in bars) for x, y in zip(a, b, strict=True)])
    assert 0 < want.sum() < n
    assert got.tolist() == want.tolist()
    assert len(rules._may_cross(a, b, bars)) < n  # the pre-test leaves pairs out


def beside_a_barrier() -> Layout:
    """Five orphans by a 92,000 m² host; a roomy host 60 m away behind a road, another 170–240 m away in front."""
    lay = Layout().host("A", rect(0, 0, 100, 100), area=92_000.0)
    lay.host("B", rect(200, 0, 100, 100), area=30_000.0).host("C", rect(110, 260, 100, 100), area=40_000.0)
    for i in range(5):
        lay.lone(f"O{i}", rect(110, 10 + 18 * i, 30, 12), area=3_000.0)
    return lay.barrier("R", (170, -500), (170, 600))


@pytest.mark.parametrize("exact_max", [0, rules.EXACT_MAX_ASSIGNMENTS])
def test_a_host_behind_a_barrier_is_passed_over_when_the_greedy_pass_reaches_it(
        exact_max: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The greedy pass checks a candidate's barrier when it gets to it (not before): B is never chosen."""
    monkeypatch.setattr(rules, "EXACT_MAX_ASSIGNMENTS", exact_max)
    s = BundlingSettings()
    got = plan_dict(beside_a_barrier(), s)
    assert got == reference_plan(beside_a_barrier(), monkeypatch, s)
    hosts = sorted(p["host_compound_id"] for p in got["proposals"])
    assert hosts == ["A", "C"]
    assert sum(len(p["orphan_ids"]) for p in got["proposals"] if p["host_compound_id"] == "C") == 3


def test_a_pair_exactly_at_the_radius_is_in_reach_in_the_settle_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Orphans push A over 10万 m²; the roomy host C is in reach of O4 only, exactly at the radius (the boxes
    cannot tell: the distance is measured, and dwithin decides). One step under the radius, C is out."""
    lay = Layout().host("A", rect(0, 0, 100, 100), area=92_000.0).host("C", rect(400, 200, 60, 60), area=40_000.0)
    for i in range(5):
        lay.lone(f"O{i}", rect(110, 10 + 18 * i, 30, 12), area=3_000.0)
    compounds, buildings, _ = lay.frames()
    s0 = BundlingSettings()
    og = rules._metric(find_orphans(compounds, buildings, s0).geometry, s0.metric_crs)
    hg = rules._metric(find_hosts(compounds, s0).geometry, s0.metric_crs)
    d = shapely.distance(og, hg[1])
    assert np.argmin(d) == 4 and np.sort(d)[1] > d[4] + 1
    ub = np.hypot(*np.maximum(shapely.bounds(og[4])[2:] - shapely.bounds(hg[1])[:2],
                              shapely.bounds(hg[1])[2:] - shapely.bounds(og[4])[:2]))
    assert ub > d[4] + 50  # the boxes leave the pair open
    for radius, reaches in ((float(d[4]), True), (float(np.nextafter(d[4], 0)), False)):
        s = replace(s0, max_distance_m=radius)
        got = plan_dict(lay, s)
        assert got == reference_plan(lay, monkeypatch, s)
        on_c = {o for p in got["proposals"] if p["host_compound_id"] == "C" for o in p["orphan_ids"]}
        assert on_c == ({"O4"} if reaches else set())


@pytest.mark.parametrize("seed", range(2))
def test_box_pairs_then_checks_decide_reach_and_barriers_as_dwithin_and_crosses(seed: int) -> None:
    """_box_pairs + _check on every pair: the usable pairs are those of a dwithin query whose shortest line
    crosses no barrier, with the radius exactly at some pairs' distance, farthest corners and nearest box points
    (and at two points' distance, where the boxes' nearest and farthest points are that distance), with thin
    diagonal strips whose distance lies strictly between their boxes' bounds."""
    rng = np.random.default_rng(seed)
    n_o, n_h = 160, 60

    def shapes(n: int, size: float) -> np.ndarray:
        xy = np.round(rng.uniform(0, 1200, (n, 2)) / 10) * 10
        # boxes, rotated shapes, points and thin diagonal strips (whose distance lies well inside the box bounds)
        g = [shapely.box(x, y, x + size, y + size * 0.6) for x, y in xy]
        return np.array([shapely.affinity.rotate(b, float(rng.uniform(0, 90))) if i % 4 == 1
                         else b.centroid if i % 4 == 2
                         else shapely.affinity.rotate(shapely.box(b.centroid.x - 6, b.centroid.y, b.centroid.x + 6,
                                                                  b.centroid.y + 0.5), 45.0) if i % 4 == 3
                         else b for i, b in enumerate(g)], dtype=object)

    og, hg = shapes(n_o, 25.0), shapes(n_h, 70.0)
    bars = np.array([shapely.LineString([(x, -50), (x + 120, 600), (x - 60, 1300)]) for x in (300.0, 800.0)],
                    dtype=object)
    barrier_tree = shapely.STRtree(bars)
    streets = np.array(["a", "b"], dtype=object)
    c = rules._Columns(o_id=np.arange(n_o), o_id_str=np.arange(n_o).astype(str), o_kind=np.full(n_o, "building"),
                       o_street=streets[rng.integers(0, 2, n_o)], o_area=np.ones(n_o), o_hh=np.ones(n_o),
                       h_ids=np.arange(n_h).astype(str), h_street=streets[rng.integers(0, 2, n_h)],
                       h_area=np.ones(n_h), h_hh=np.ones(n_h), o_bounds=shapely.bounds(og), h_bounds=shapely.bounds(hg))
    a, b = np.meshgrid(np.arange(n_o), np.arange(n_h), indexing="ij")
    a, b = a.ravel(), b.ravel()
    d = shapely.distance(og[a], hg[b])
    ob, hb = c.o_bounds[a], c.h_bounds[b]
    ub = np.hypot(np.maximum(ob[:, 2] - hb[:, 0], hb[:, 2] - ob[:, 0]), np.maximum(ob[:, 3] - hb[:, 1], hb[:, 3] - ob[:, 1]))
    lb = np.hypot(np.maximum(np.maximum(ob[:, 0] - hb[:, 2], hb[:, 0] - ob[:, 2]), 0),
                  np.maximum(np.maximum(ob[:, 1] - hb[:, 3], hb[:, 1] - ob[:, 3]), 0))
    mid = (d > 100) & (d < 250)
    by_boxes = []  # per radius: pairs the boxes decided (usable), pairs left open
    points = (a % 4 == 2) & (b % 4 == 2)  # there distance == lb == ub
    for radius in (float(np.sort(d[mid])[len(d[mid]) // 2]), float(np.sort(ub[ub > 150])[0]),
                   float(np.sort(lb[mid])[3]), float(np.sort(d[points & mid])[0]), 300.0):
        s = replace(BundlingSettings(), max_distance_m=radius)
        tree = shapely.STRtree(hg)
        q, hi = tree.query(og, predicate="dwithin", distance=radius)
        same = c.o_street[q] == c.h_street[hi]
        q, hi = q[same], hi[same]
        free = ~ref_blocked(og[q], hg[hi], barrier_tree)
        want = sorted(zip(q[free].tolist(), hi[free].tolist(), strict=True))
        p = rules._box_pairs(np.arange(n_o), og, hg, tree, barrier_tree, c, s)
        by_boxes.append(((p.state == rules.USABLE).sum(), (p.state == rules.UNKNOWN).sum()))
        rules._check(p, np.arange(len(p.o)), og, hg, barrier_tree, s)
        usable = p.state == rules.USABLE
        assert sorted(zip(p.o[usable].tolist(), p.h[usable].tolist(), strict=True)) == want
        measured = ~np.isnan(p.dist)
        assert np.array_equal(p.dist[measured], shapely.distance(og[p.o[measured]], hg[p.h[measured]]))
        assert len(want) > 20
    assert min(u for _, u in by_boxes) > 0 and max(k for k, _ in by_boxes) > 50, by_boxes


def ref_usable_host(og, rows, o_street, hosts, barrier_tree, s):  # noqa: ANN001, ANN201
    """_usable_host before issue 26: a dwithin query of every orphan, then every same-street pair's barrier."""
    out = np.zeros(len(og), dtype=bool)
    hg = rules._metric(hosts.geometry, s.metric_crs)
    if len(rows) == 0 or len(hg) == 0:
        return out
    q, hi = shapely.STRtree(hg).query(og[rows], predicate="dwithin", distance=s.max_distance_m)
    oi = rows[q]
    same = o_street[oi] == hosts["street_code"].to_numpy(dtype=object)[hi]
    oi, hi = oi[same], hi[same]
    ok = ~ref_blocked(og[oi], hg[hi], barrier_tree)
    out[oi[ok]] = True
    return out


@pytest.mark.parametrize(("seed", "rotated", "radius"), [(8, False, 300.0), (9, True, 120.0)])
def test_the_host_reasons_search_is_the_reference(seed: int, rotated: bool, radius: float) -> None:
    """_usable_host (which orphans an under-scale or ineligible host could have taken) by boxes and rounds
    gives the orphans of a dwithin query + a barrier check of every pair."""
    s = replace(BundlingSettings(), max_distance_m=radius)
    compounds, buildings, barriers = crowded(seed, 30, 260, 1200.0, 4, False, rotated).frames()
    orphans, hosts = find_orphans(compounds, buildings, s), find_hosts(compounds, s)
    og = rules._metric(orphans.geometry, s.metric_crs)
    c = rules._columns(orphans, hosts)
    c.o_bounds = shapely.bounds(og)
    tree = shapely.STRtree(rules._metric(barriers.geometry, s.metric_crs))
    rows = np.arange(0, len(og), 2)
    some = hosts.iloc[::3]
    want = ref_usable_host(og, rows, c.o_street, some, tree, s)
    got = rules._usable_host(og, rows, c, rules._metric(some.geometry, s.metric_crs),
                             some["street_code"].to_numpy(dtype=object), tree, s)
    assert got.tolist() == want.tolist()
    assert 0 < want.sum() < len(rows)


def test_box_pairs_by_chunks_are_the_pairs_of_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """_box_pairs cut into chunks of orphans gives the very arrays of one pass over all of them, in the same order."""
    s = BundlingSettings()
    compounds, buildings, barriers = crowded(3, 30, 260, 1200.0, 3, False, True).frames()
    orphans, hosts = find_orphans(compounds, buildings, s), find_hosts(compounds, s)
    og, hg = rules._metric(orphans.geometry, s.metric_crs), rules._metric(hosts.geometry, s.metric_crs)
    c = rules._columns(orphans, hosts)
    c.o_bounds, c.h_bounds = shapely.bounds(og), shapely.bounds(hg)
    tree, barrier_tree = shapely.STRtree(hg), shapely.STRtree(rules._metric(barriers.geometry, s.metric_crs))
    rows = np.arange(1, len(og), 2)
    whole = rules._box_pairs(rows, og, hg, tree, barrier_tree, c, s)
    monkeypatch.setattr(rules, "BOX_PAIRS_CHUNK", 7)
    chunked = rules._box_pairs(rows, og, hg, tree, barrier_tree, c, s)
    for f in ("o", "h", "lb", "reach", "bar", "state"):
        assert np.array_equal(getattr(chunked, f), getattr(whole, f)), f
    assert len(whole.o) > 500 and len(rows) > 10 * 7
    assert (whole.state == rules.UNKNOWN).any() and (whole.state == rules.USABLE).any()


# --- the settle pass's closure and groups, against every usable pair ------------------------------------

def dense_pieces(seed: int, n_o: int = 220, n_h: int = 90, size: float = 900.0) -> tuple:
    """Orphans and hosts (boxes, some rotated) of two streets, two bent barriers; every usable pair by brute force."""
    rng = np.random.default_rng(seed)

    def shapes(n: int, side: float) -> np.ndarray:
        xy = rng.uniform(0, size, (n, 2))
        return np.array([shapely.affinity.rotate(shapely.box(x, y, x + side, y + side * 0.6), float(rng.uniform(0, 90)))
                         if i % 3 == 1 else shapely.box(x, y, x + side, y + side * 0.6)
                         for i, (x, y) in enumerate(xy)], dtype=object)

    og, hg = shapes(n_o, 20.0), shapes(n_h, 60.0)
    bars = np.array([shapely.LineString([(x, -50), (x + 90, size / 2), (x - 40, size + 50)])
                     for x in (size * 0.3, size * 0.7)], dtype=object)
    streets = np.array(["a", "b"], dtype=object)
    c = rules._Columns(o_id=np.arange(n_o), o_id_str=np.arange(n_o).astype(str), o_kind=np.full(n_o, "building"),
                       o_street=streets[(np.arange(n_o) % 7 == 0).astype(int)], o_area=np.ones(n_o),
                       o_hh=np.ones(n_o), h_ids=np.arange(n_h).astype(str),
                       h_street=streets[(np.arange(n_h) % 7 == 0).astype(int)], h_area=np.ones(n_h), h_hh=np.ones(n_h),
                       o_bounds=shapely.bounds(og), h_bounds=shapely.bounds(hg))
    s = replace(BundlingSettings(), max_distance_m=150.0)
    barrier_tree = shapely.STRtree(bars)
    q, hi = shapely.STRtree(hg).query(og, predicate="dwithin", distance=s.max_distance_m)
    same = c.o_street[q] == c.h_street[hi]
    q, hi = q[same], hi[same]
    free = ~ref_blocked(og[q], hg[hi], barrier_tree)
    return og, hg, barrier_tree, c, s, q[free], hi[free]


@pytest.mark.parametrize("seed", range(3))
def test_the_closure_is_that_of_every_usable_pair(seed: int) -> None:
    """_closure (boxes first, checks deferred and stopped at a host's first usable pair) involves exactly the
    orphans a plain fixpoint over every usable pair does."""
    og, hg, barrier_tree, c, s, uo, uh = dense_pieces(seed)
    rng = np.random.default_rng(seed + 100)
    host_of = np.full(len(og), -1)
    for o in rng.permutation(len(og)):  # each orphan on one of its usable hosts (some on none)
        mine = uh[uo == o]
        if len(mine) and rng.random() < 0.8:
            host_of[o] = rng.choice(mine)
    hot = rng.choice(np.unique(host_of[host_of >= 0]), 2, replace=False)
    start = np.flatnonzero(np.isin(host_of, hot))
    want = np.zeros(len(og), dtype=bool)
    want[start] = True
    while True:  # the plain fixpoint
        reached = np.unique(uh[want[uo]])
        more = want | (np.isin(host_of, reached) & (host_of >= 0))
        if (more == want).all():
            break
        want = more
    got = rules._closure(start, host_of, og, hg, barrier_tree, c, s)
    assert np.array_equal(got, want)
    assert 0 < got.sum() < (host_of >= 0).sum()  # the closure grew, and did not take everything


@pytest.mark.parametrize(("seed", "inner", "exact_max"), [(0, 0.1, 200), (1, 0.2, 20), (2, 0.15, 2000), (3, 0.3, 0),
                                                       (4, 0.2, rules.EXACT_MAX_ASSIGNMENTS)])
def test_the_groups_pairs_give_small_parts_whole(seed: int, inner: float, exact_max: int,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """_group_pairs + _parts: a part that may be solved exactly is its whole component over every usable pair
    with all its orphans' pairs; every other orphan has every pair nearer by box than INNER_FRACTION."""
    monkeypatch.setattr(rules, "NEAR_FIRST_MIN_ORPHANS", 0)  # near pairs first however few the orphans
    monkeypatch.setattr(rules, "INNER_FRACTION", inner)
    monkeypatch.setattr(rules, "EXACT_MAX_ASSIGNMENTS", exact_max)
    og, hg, barrier_tree, c, s, uo, uh = dense_pieces(seed)
    n_o, n_h = len(og), len(hg)
    rows = np.flatnonzero(np.isin(np.arange(n_o), uo))  # the orphans with a host
    p, complete = rules._group_pairs(rows, og, hg, shapely.STRtree(hg), barrier_tree, c, s)
    label = rules._parts(p, rows, n_o, n_h, lambda q, idx: rules._check(q, idx, og, hg, barrier_tree, s))
    known = p.state == rules.USABLE  # the parts solved exactly: as _settle_loads tells them
    count = np.bincount(p.o[known], minlength=n_o)
    per = np.bincount(label[rows], weights=np.log(np.maximum(count[rows], 1)), minlength=n_o + n_h)
    small = rows[per[label[rows]] <= rules._log_limit() + 1e-9]
    keep = np.isin(uo, rows)
    graph = coo_matrix((np.ones(int(keep.sum())), (uo[keep], n_o + uh[keep])), shape=(n_o + n_h, n_o + n_h))
    whole = connected_components(graph, directed=False)[1]
    usable = set(zip(uo.tolist(), uh.tolist(), strict=True))
    listed = set(zip(p.o[p.state != rules.BLOCKED].tolist(), p.h[p.state != rules.BLOCKED].tolist(), strict=True))
    inner_m = s.max_distance_m * inner
    for o in small.tolist():
        assert complete[o]
        mates = set(rows[whole[rows] == whole[o]].tolist())
        assert set(rows[label[rows] == label[o]].tolist()) == mates, o
    for o, h in usable:
        if complete[o]:
            assert (o, h) in listed
        elif (o, h) not in listed:
            assert rules._box_gap(c.o_bounds[o:o + 1], c.h_bounds[h:h + 1])[0] > inner_m
    assert 0 < len(small) and complete.sum() < len(rows) if exact_max else not complete[rows].all()


def test_a_part_joined_only_by_a_far_pair_of_a_big_one_is_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """Orphans crowded between hosts A and B (a big part by their near pairs), one orphan alone by host C, which the
    crowd reaches only farther than INNER_FRACTION: C's part is the crowd's too (found by every orphan's pairs to
    the hosts of a part that may be small), so it is not solved exactly on its own."""
    monkeypatch.setattr(rules, "NEAR_FIRST_MIN_ORPHANS", 0)  # near pairs first however few the orphans
    monkeypatch.setattr(rules, "INNER_FRACTION", 0.1)  # 15 m of 150
    monkeypatch.setattr(rules, "EXACT_MAX_ASSIGNMENTS", 20)
    hosts = [shapely.box(0, 0, 60, 40), shapely.box(0, 50, 60, 90), shapely.box(190, 0, 230, 40)]  # A, B, C
    crowd = [shapely.box(5 + 11 * i, 42, 14 + 11 * i, 48) for i in range(5)]  # between A and B: 2 candidates each
    lone = [shapely.box(235, 10, 245, 20)]  # 5 m from C, farther than 150 m from A and B
    og, hg = np.array(crowd + lone, dtype=object), np.array(hosts, dtype=object)
    n_o, n_h = len(og), len(hg)
    c = rules._Columns(o_id=np.arange(n_o), o_id_str=np.arange(n_o).astype(str), o_kind=np.full(n_o, "building"),
                       o_street=np.full(n_o, "a", dtype=object), o_area=np.ones(n_o), o_hh=np.ones(n_o),
                       h_ids=np.arange(n_h).astype(str), h_street=np.full(n_h, "a", dtype=object),
                       h_area=np.ones(n_h), h_hh=np.ones(n_h), o_bounds=shapely.bounds(og), h_bounds=shapely.bounds(hg))
    s = replace(BundlingSettings(), max_distance_m=150.0)
    d = shapely.distance(og[:5, None], hg[None, 2])
    assert (d > 15).all() and (d < 150).any()  # the crowd reaches C, but not within the near pairs
    assert (shapely.distance(og[5], hg[:2]) > 150).all()
    rows = np.arange(n_o)
    p, complete = rules._group_pairs(rows, og, hg, shapely.STRtree(hg), None, c, s)
    label = rules._parts(p, rows, n_o, n_h, lambda q, idx: rules._check(q, idx, og, hg, None, s))
    assert label[5] == label[0] == label[n_o + 2]
    assert complete[5] and not complete[:5].any()


def test_a_member_with_its_near_pairs_only_looks_past_them_for_a_nearer_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    """A greedy member that has only its pairs within INNER_FRACTION: a diagonal strip whose box is 9.5 m away
    but whose shape is ≈ 20 m away is not its best host while a box 18 m away (beyond the near pairs) is nearer."""
    monkeypatch.setattr(rules, "NEAR_FIRST_MIN_ORPHANS", 0)  # near pairs first however few the orphans
    monkeypatch.setattr(rules, "INNER_FRACTION", 0.1)  # 15 m of 150
    monkeypatch.setattr(rules, "EXACT_MAX_ASSIGNMENTS", 0)  # every part greedy
    strip = shapely.LineString([(20, -30), (50, 40)]).buffer(0.5)
    og = np.array([shapely.box(0, 0, 10, 10)], dtype=object)
    hg = np.array([strip, shapely.box(-50, 0, -18, 10)], dtype=object)
    c = rules._Columns(o_id=np.arange(1), o_id_str=np.array(["0"]), o_kind=np.array(["building"]),
                       o_street=np.array(["a"], dtype=object), o_area=np.ones(1), o_hh=np.ones(1),
                       h_ids=np.array(["0", "1"]), h_street=np.array(["a", "a"], dtype=object), h_area=np.ones(2),
                       h_hh=np.ones(2), o_bounds=shapely.bounds(og), h_bounds=shapely.bounds(hg))
    s = replace(BundlingSettings(), max_distance_m=150.0)
    d = shapely.distance(og[0], hg)
    assert 15 < d[1] < d[0] and rules._box_gap(c.o_bounds, c.h_bounds[:1])[0] < 15
    tree = shapely.STRtree(hg)
    p, complete = rules._group_pairs(np.arange(1), og, hg, tree, None, c, s)
    assert p.h.tolist() == [0] and not complete[0]  # the strip only: the box is beyond the near pairs
    ranked = rules._Ranked(p, np.arange(1), np.array([0]), np.array([1]), og, hg, None, c, s, np.arange(2),
                           complete, tree)
    first = ranked.firsts()
    assert ranked.host(int(first[0])) == 1
    assert ranked.pairs().dist[first[0]] == pytest.approx(18.0)
