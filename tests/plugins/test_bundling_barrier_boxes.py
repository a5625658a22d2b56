"""Barrier checks decided from boxes (`_box_decided`) agree with GEOS's `crosses` of the shortest segment.

The box test may only decide a pair when the answer is certain; every other pair goes to GEOS. The cases below
are the ones where a test from boxes could go wrong: a barrier that turns to run along the pair's segment
(`crosses` is false when the interiors share a stretch), a segment passing exactly through a barrier's vertex, a
straight road cut into pieces with a joint between the pair, polygon barriers, empty geometries.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from plugins.bundling import rules


def exact(a: np.ndarray, b: np.ndarray, bars: list[shapely.Geometry]) -> np.ndarray:
    """GEOS: does the shortest segment of each pair cross a barrier?"""
    lines = shapely.shortest_line(a, b)  # None where a geometry is empty: nothing to cross
    return np.array([line is not None and any(line.crosses(bar) for bar in bars) for line in lines])


def decided(a: np.ndarray, b: np.ndarray, bars: list[shapely.Geometry]) -> tuple[np.ndarray, np.ndarray]:
    rules._GRID_CACHE.clear()
    return rules._box_decided(shapely.bounds(a), shapely.bounds(b), rules._segment_grid(np.array(bars, dtype=object)))


def pts(*xy: tuple[float, float]) -> np.ndarray:
    return np.array([shapely.Point(p) for p in xy], dtype=object)


# (case, orphan, host, barriers, surely crossing, surely not)
CASES = [
    ("a road between", (0, 0), (100, 0), [shapely.LineString([(50, -50), (50, 50)])], True, False),
    ("a road beside", (0, 0), (100, 0), [shapely.LineString([(-50, 20), (150, 20)])], False, True),
    ("a road ending short of the pair", (0, 0), (100, 0), [shapely.LineString([(50, 10), (50, 50)])], False, True),
    ("the road turns to run along the pair: interiors share a stretch, not crossing", (0, 0), (100, 0),
     [shapely.LineString([(30, -50), (30, 50), (60, 50), (60, 0), (80, 0), (80, 50)])], False, False),
    ("one road crosses, another runs along", (0, 0), (100, 0),
     [shapely.LineString([(40, -50), (40, 50)]), shapely.LineString([(60, 0), (80, 0)])], True, False),
    ("through a vertex of the road", (0, 0), (100, 0), [shapely.LineString([(40, -50), (50, 0), (40, 50)])],
     False, False),
    ("a road crossing twice", (0, 0), (100, 0),
     [shapely.LineString([(30, -50), (30, 50), (70, 50), (70, -50)])], True, False),
    ("a straight road in pieces, the pair across the last", (0, 0), (100, 0),
     [shapely.LineString([(50, -300), (50, -100), (50, 100)])], True, False),
    ("a polygon barrier near (its box meets the pair's)", (0, 0), (100, 100),
     [shapely.Polygon([(60, 10), (90, 10), (90, 40)])], False, False),
    ("a polygon near, a road between", (0, 0), (100, 100),
     [shapely.Polygon([(60, 10), (90, 10), (90, 40)]), shapely.LineString([(150, -50), (-50, 150)])], True, False),
    ("no barrier near", (0, 0), (100, 0), [shapely.LineString([(500, -50), (500, 50)])], False, True),
]


@pytest.mark.parametrize(("case", "a", "b", "bars", "sure", "free"), CASES, ids=[c[0] for c in CASES])
def test_box_decided_on_points(case: str, a: tuple, b: tuple, bars: list, sure: bool, free: bool) -> None:
    got_sure, got_free = decided(pts(a), pts(b), bars)
    assert (bool(got_sure[0]), bool(got_free[0])) == (sure, free)
    want = exact(pts(a), pts(b), bars)[0]
    assert not (sure and not want) and not (free and want)  # the table itself is right


def test_box_decided_never_contradicts_geos_on_random_boxes_and_roads() -> None:
    rng = np.random.default_rng(26)
    n = 3000
    xy = rng.uniform(0, 2000, (n, 2))
    size_a, size_b = rng.uniform(0, 60, (n, 2)), rng.uniform(0, 120, (n, 2))
    a = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + size_a[:, 0], xy[:, 1] + size_a[:, 1])
    other = xy + rng.uniform(-300, 300, (n, 2))
    b = shapely.box(other[:, 0], other[:, 1], other[:, 0] + size_b[:, 0], other[:, 1] + size_b[:, 1])
    a[::97] = shapely.Point(0, 0).buffer(0)  # empty: never judged by the boxes
    bars = [shapely.LineString([(x, -100), (x, 500), (x, 1100), (x, 1700), (x, 2300)]).segmentize(150)
            for x in rng.uniform(0, 2000, 4)]  # straight roads cut into pieces
    bars += [shapely.LineString([(x, -100), (x + 150, 700), (x - 100, 1400), (x, 2100)]) for x in rng.uniform(0, 2000, 3)]
    bars += [shapely.LineString([(-100, y), (900, y), (900, y + 40), (2100, y + 40)]) for y in rng.uniform(0, 2000, 3)]
    bars += [shapely.MultiLineString([[(0, 1000), (2000, 1100)], [(0, 300), (900, 300)]]),
             shapely.Polygon([(1200, 1200), (1500, 1200), (1500, 1500)]), shapely.LineString([(700, 700), (701, 701)])]
    want = exact(a, b, bars)
    sure, free = decided(a, b, bars)
    assert not (sure & ~want).any() and not (free & want).any()
    assert sure.sum() > want.sum() // 2 and free.sum() > (~want).sum() // 2  # the boxes decide most pairs
    assert not sure[::97].any() and not free[::97].any()
    rules._GRID_CACHE.clear()
    assert rules._crossing(a, b, shapely.STRtree(np.array(bars, dtype=object))).tolist() == want.tolist()


def test_crossing_with_the_ends_judged_is_geos_where_the_boxes_left_it_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pairs the boxes leave open (big boxes across a joint of a road in pieces) are judged on their segment's ends."""
    rng = np.random.default_rng(5)
    n = 400
    x = rng.uniform(0, 1000, n)
    y = rng.uniform(-200, 200, n)
    a = shapely.box(x - 160, y, x - 20, y + 120)  # boxes wider than the roads' pieces, many across y = 0
    b = shapely.box(x + 20, y - 90, x + 170, y + 60)
    bars = [shapely.LineString([(x[0], -2000), (x[0], 2000)]).segmentize(100),  # a north-south road in 100 m pieces
            shapely.LineString([(-500, 0), (1500, 0)]).segmentize(80)]  # and an east-west one in 80 m pieces
    want = exact(a, b, bars)
    box_sure, box_free = decided(a, b, bars)
    assert (~box_sure & ~box_free).sum() > n // 4  # the boxes leave many open
    calls: list[int] = []
    real = rules._box_decided
    monkeypatch.setattr(rules, "_box_decided", lambda ba, bb, grid: calls.append(len(ba)) or real(ba, bb, grid))
    rules._GRID_CACHE.clear()
    assert rules._crossing(a, b, shapely.STRtree(np.array(bars, dtype=object))).tolist() == want.tolist()
    assert len(calls) == 2 and calls[1] == (~box_sure & ~box_free).sum()  # the open ones judged again on their ends


def test_the_same_lines_grouped_otherwise_are_judged_by_their_grouping() -> None:
    """One road crossing and a piece lying along the pair: as two barriers the first blocks; as one MultiLineString
    the two share a stretch with the pair, so GEOS says not crossing. The segment grid is cached per barriers'
    coordinates — the grouping must be part of what it is cached by."""
    cross, along = [(40, -50), (40, 50)], [(60, 0), (80, 0)]
    apart = [shapely.LineString(cross), shapely.LineString(along)]
    one = [shapely.MultiLineString([cross, along])]
    a, b = pts((0, 0)), pts((100, 0))
    assert exact(a, b, apart)[0] and not exact(a, b, one)[0]
    rules._GRID_CACHE.clear()
    for bars, want in ((apart, True), (one, False), (apart, True)):  # each grid asked right after the other's
        got, _ = rules._box_decided(shapely.bounds(a), shapely.bounds(b), rules._segment_grid(np.array(bars, dtype=object)))
        assert bool(got[0]) is want


def test_pair_checks_answer_as_blocked_and_check_each_pair_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """_PairChecks (the plan's growing radii meet the same pairs again) answers as _blocked and asks it once a pair."""
    og = pts((0, 0), (0, 40), (200, 0))
    hg = pts((100, 0), (20, 40), (300, 0), (150, 0))
    road = shapely.LineString([(50, -100), (50, 100)])
    tree = shapely.STRtree(np.array([road], dtype=object))
    c = rules._Columns(*([np.array([])] * 10), o_bounds=shapely.bounds(og), h_bounds=shapely.bounds(hg))
    asked: list[int] = []
    real = rules._blocked

    def counting(a: np.ndarray, b: np.ndarray, *args: object) -> np.ndarray:
        asked.append(len(a))
        return real(a, b, *args)

    monkeypatch.setattr(rules, "_blocked", counting)
    checks = rules._PairChecks(og, hg, tree, c)
    oi, hi = np.array([0, 1, 2]), np.array([0, 1, 2])
    assert checks(oi, hi).tolist() == exact(og[oi], hg[hi], [road]).tolist() == [True, False, False]
    oi, hi = np.array([2, 0, 1, 0]), np.array([3, 0, 1, 3])  # two pairs known, two new
    assert checks(oi, hi).tolist() == exact(og[oi], hg[hi], [road]).tolist() == [False, True, False, True]
    assert asked == [3, 2]
    assert checks(np.array([0]), np.array([3])).tolist() == [True] and asked == [3, 2]
