"""RULES §5 on hand-made geometric layouts (pure functions, no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from plugins.bundling.rules import find_hosts, find_orphans, plan_bundles, proposal_id
from plugins.bundling.settings import BundlingSettings, load_settings
from tests.plugins.test_bundling_layouts import S1, S2, Layout, point, rect


def run(layout: Layout, **overrides):  # noqa: ANN201
    """The plan of a layout, the hosts with their building counts (as the service passes them)."""
    s = load_settings(overrides)
    compounds, buildings, barriers = layout.frames()
    counts = buildings[buildings["compound_id"].notna()].groupby("compound_id").size()
    return plan_bundles(find_orphans(compounds, buildings, s), find_hosts(compounds, s, building_counts=counts),
                        barriers, s)


def host_of(plan, orphan_id: str) -> str | None:  # noqa: ANN001
    for r in plan.proposals.itertuples():
        if orphan_id in r.orphan_ids:
            return r.host_compound_id
    return None


def reason_of(plan, orphan_id: str) -> str | None:  # noqa: ANN001
    hit = plan.unmatched[plan.unmatched["orphan_id"] == orphan_id]
    return None if hit.empty else hit["reason"].iloc[0]


BUILDING = rect(0, 0, 40, 20)  # the orphan building of most layouts: x 0..40, y 0..20


def near_host(street: str = S1, gap: float = 20.0, cid: str = "H-NEAR", **kw) -> Layout:  # noqa: ANN003
    return Layout().host(cid, rect(40 + gap, -40, 100, 100), street=street, **kw)


# --- matching -------------------------------------------------------------------------------------


def test_nearest_host_wins() -> None:
    lay = near_host(gap=20).host("H-FAR", rect(-250, -40, 100, 100)).lone("B1", BUILDING)  # gap 150 on the left
    plan = run(lay)
    assert host_of(plan, "B1") == "H-NEAR"
    assert plan.proposals["distance_m"].iloc[0] == pytest.approx(20.0, abs=0.01)
    assert plan.unmatched.empty


def test_closer_host_of_another_street_is_ignored() -> None:
    lay = near_host(street=S2, gap=20).host("H-FAR", rect(-250, -40, 100, 100), street=S1).lone("B1", BUILDING)
    plan = run(lay)
    assert host_of(plan, "B1") == "H-FAR"
    assert plan.proposals["distance_m"].iloc[0] == pytest.approx(150.0, abs=0.01)
    assert plan.proposals["street"].iloc[0] == S1


def test_barrier_blocks_the_nearer_host() -> None:
    lay = near_host(gap=20).host("H-FAR", rect(-250, -40, 100, 100)).lone("B1", BUILDING)
    lay.barrier("ROAD", (50, -1000), (50, 1000))  # between the building (x ≤ 40) and H-NEAR (x ≥ 60)
    plan = run(lay)
    assert host_of(plan, "B1") == "H-FAR"


def test_a_barrier_that_ends_before_the_gap_does_not_block() -> None:
    lay = near_host(gap=20).lone("B1", BUILDING).barrier("ROAD", (50, 200), (50, 1000))
    assert host_of(run(lay), "B1") == "H-NEAR"


@pytest.mark.parametrize(("layout", "settings", "reason", "nearest"), [
    # only host 350 m away, reach 300 m
    (Layout().host("H", rect(390, -40, 100, 100)).lone("B1", BUILDING), {}, "no_host_in_reach", None),
    # only host across a main road
    (near_host().lone("B1", BUILDING).barrier("ROAD", (50, -1000), (50, 1000)), {}, "only_across_barrier", 20.0),
    # only host across a river
    (near_host().lone("B1", BUILDING).barrier("RIVER", (50, -1000), (50, 1000), kind="river"), {},
     "only_across_barrier", 20.0),
    # only host in another street
    (near_host(street=S2).lone("B1", BUILDING), {}, "only_other_street", 20.0),
    # no host at all
    (Layout().lone("B1", BUILDING), {}, "no_host_in_reach", None),
    # reach shortened below the gap
    (near_host(gap=20).lone("B1", BUILDING), {"max_distance_m": 10}, "no_host_in_reach", None),
])
def test_unmatched_reasons(layout: Layout, settings: dict, reason: str, nearest: float | None) -> None:
    plan = run(layout, **settings)
    assert plan.proposals.empty
    assert reason_of(plan, "B1") == reason
    got = plan.unmatched["nearest_host_distance_m"].iloc[0]
    assert (pd.isna(got) if nearest is None else got == pytest.approx(nearest, abs=0.01))
    assert plan.to_dict()["unmatched"][0]["reason"] == reason


def test_beyond_max_distance_is_matched_once_the_reach_grows() -> None:
    lay = Layout().host("H", rect(390, -40, 100, 100)).lone("B1", BUILDING)  # 350 m gap
    assert reason_of(run(lay), "B1") == "no_host_in_reach"
    plan = run(lay, max_distance_m=400)
    assert host_of(plan, "B1") == "H"
    assert plan.proposals["distance_m"].iloc[0] == pytest.approx(350.0, abs=0.01)


def test_barrier_wins_over_other_street_as_the_reason() -> None:
    lay = near_host(gap=20).host("H-S2", rect(-150, -40, 100, 100), street=S2).lone("B1", BUILDING)
    lay.barrier("ROAD", (50, -1000), (50, 1000))
    assert reason_of(run(lay), "B1") == "only_across_barrier"


def test_prefers_a_merged_area_within_the_management_maximum() -> None:
    lay = near_host(gap=20, area=95_000).host("H-FAR", rect(-140, -40, 100, 100), area=50_000)
    lay.lone("B1", BUILDING, area=8_000)
    plan = run(lay)
    assert host_of(plan, "B1") == "H-FAR"  # 95,000 + 8,000 > 100,000 at H-NEAR
    assert bool(plan.proposals["within_preferred_area"].iloc[0])
    alone = run(near_host(gap=20, area=95_000).lone("B1", BUILDING, area=8_000))
    assert host_of(alone, "B1") == "H-NEAR"  # still proposed when it is the only host, flagged
    assert not bool(alone.proposals["within_preferred_area"].iloc[0])
    assert alone.proposals["merged_floor_area_m2"].iloc[0] == pytest.approx(103_000)
    assert run(near_host(gap=20, area=95_000).lone("B1", BUILDING, area=8_000),
               preferred_max_merged_area_m2=110_000).proposals["within_preferred_area"].iloc[0]


def test_shared_boundary_breaks_a_distance_tie() -> None:
    orphan = rect(0, 0, 40, 40)
    lay = Layout().small("C1", orphan, n_buildings=1)
    lay.host("H-A", rect(40, 30, 100, 100))  # touches C1 along x = 40 for y 30..40: 10 m shared
    lay.host("H-Z", rect(-100, -50, 100, 80))  # touches C1 along x = 0 for y 0..30: 30 m shared
    plan = run(lay)
    assert host_of(plan, "C1") == "H-Z"  # the id order alone would pick H-A
    assert plan.proposals["distance_m"].iloc[0] == pytest.approx(0.0, abs=0.01)
    # the 30 m common edge, plus the ends of the perpendicular edges within the 2 m tolerance
    assert 30.0 - 0.01 <= plan.proposals["shared_boundary_m"].iloc[0] <= 34.01


def test_distance_beats_shared_boundary_beyond_the_resolution() -> None:
    lay = Layout().small("C1", rect(0, 0, 40, 40), n_buildings=1)
    lay.host("H-TOUCH", rect(-100, -50, 100, 80))  # 30 m shared, distance 0
    lay.host("H-GAP", rect(40.0, 0, 100, 40))  # distance 0 too
    lay_far = Layout().small("C1", rect(0, 0, 40, 40), n_buildings=1)
    lay_far.host("H-A-GAP5", rect(45, 0, 100, 40))  # 5 m gap
    lay_far.host("H-Z-GAP8", rect(-108, -50, 100, 200))  # 8 m gap, long facing edge
    assert host_of(run(lay), "C1") == "H-GAP"  # 40 m shared beats 30 m
    assert host_of(run(lay_far), "C1") == "H-A-GAP5"


def test_within_the_resolution_but_beyond_the_tolerance_the_exact_distance_decides() -> None:
    lay = Layout().small("C1", rect(0, 0, 40, 40), n_buildings=1)
    lay.host("H-Z", rect(42.6, 0, 100, 40))  # 2.6 m: distance key 3, shares nothing
    lay.host("H-A", rect(-102.9, -50, 100, 200))  # 2.9 m: distance key 3 too, longer facing edge
    assert host_of(run(lay), "C1") == "H-Z"


def test_point_only_compounds_use_their_point() -> None:
    lay = Layout().small("C-PT", None, point=point(0, 0)).host("H", rect(40, -50, 100, 100))
    plan = run(lay)
    assert host_of(plan, "C-PT") == "H"
    assert plan.proposals["distance_m"].iloc[0] == pytest.approx(40.0, abs=0.01)
    lay2 = Layout().host("H-PT", None, point=point(100, 10)).lone("B1", BUILDING)
    plan2 = run(lay2)
    assert host_of(plan2, "B1") == "H-PT"
    assert plan2.proposals["distance_m"].iloc[0] == pytest.approx(60.0, abs=0.01)


def test_buildings_for_one_host_form_one_proposal() -> None:
    lay = near_host(gap=20, area=40_000, households=400).lone("B1", BUILDING, area=3_000, households=30)
    lay.lone("B2", rect(0, 40, 40, 20), area=2_000, households=20)  # 20 m gap to H-NEAR as well
    lay.small("C1", rect(0, -60, 40, 40), area=5_000, households=50)  # its own proposal
    plan = run(lay)
    d = plan.to_dict()
    kinds = sorted((p["orphan_kind"], tuple(p["orphan_ids"])) for p in d["proposals"])
    assert kinds == [("building", ("B1", "B2")), ("compound", ("C1",))]
    b = next(p for p in d["proposals"] if p["orphan_kind"] == "building")
    assert b["merged_floor_area_m2"] == pytest.approx(45_000)
    assert b["merged_households"] == 450
    assert b["id"] == proposal_id(S1, "building", "H-NEAR", ["B2", "B1"])
    assert set(b) == {"id", "street", "orphan_kind", "orphan_ids", "host_compound_id", "distance_m",
                      "merged_floor_area_m2", "merged_households", "host_planned_floor_area_m2",
                      "within_preferred_area", "host_firm_warnings"}
    assert b["host_firm_warnings"] == []  # no credit gate asked here (plugins.bundling.service.compute_plan does)


def test_plan_is_deterministic_whatever_the_row_order() -> None:
    lay = near_host(gap=20).host("H-FAR", rect(-250, -40, 100, 100)).lone("B1", BUILDING)
    lay.lone("B2", rect(0, 40, 40, 20)).small("C1", rect(-120, 100, 30, 30)).lone("B3", rect(900, 900))
    s = BundlingSettings()
    compounds, buildings, barriers = lay.frames()
    a = plan_bundles(find_orphans(compounds, buildings, s), find_hosts(compounds, s), barriers, s).to_dict()
    rev = plan_bundles(find_orphans(compounds.iloc[::-1], buildings.iloc[::-1], s), find_hosts(compounds.iloc[::-1], s),
                       barriers, s).to_dict()
    assert a == rev
    assert len({p["id"] for p in a["proposals"]}) == len(a["proposals"])


# --- orphans --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "area", "households", "n_buildings", "managed_by", "orphan", "why"), [
    ("none", 20_000, 200, 3, None, False, None),  # at management scale: not an orphan
    ("none", 20_000, 200, 1, None, True, "single_building"),
    ("none", 9_999, 200, 3, None, True, "small_area"),
    ("none", 20_000, 99, 3, None, True, "few_households"),
    ("community_managed", 8_000, 80, 2, None, True, "small_area"),
    ("self_managed", 8_000, 80, 1, None, False, None),  # 业主自管: not in the orphan modes
    ("professional", 8_000, 80, 1, None, False, None),  # served: a host, not an orphan
    ("none", 8_000, 80, 1, "H", False, None),  # already bundled under a host
    ("none", 10_000, 100, 2, None, False, None),  # exactly at the thresholds
    ("none", None, None, 0, None, False, None),  # nothing known: not flagged
])
def test_orphan_compounds(mode: str, area: float | None, households: int | None, n_buildings: int,
                          managed_by: str | None, orphan: bool, why: str | None) -> None:
    lay = Layout().host("H", rect(200, 0, 100, 100))
    lay.host("C", rect(0, 0, 50, 50), mode=mode, area=area, households=households, n_buildings=n_buildings,
             managed_by_id=managed_by)
    compounds, buildings, _ = lay.frames()
    orphans = find_orphans(compounds, buildings, BundlingSettings())
    hit = orphans[orphans["orphan_id"] == "C"]
    assert (len(hit) == 1) is orphan
    if orphan:
        assert hit["orphan_reason"].iloc[0] == why
        assert hit["orphan_kind"].iloc[0] == "compound"


def test_orphan_thresholds_are_settings() -> None:
    lay = Layout().host("C", rect(0, 0, 50, 50), mode="none", area=15_000, households=150, n_buildings=3)
    compounds, buildings, _ = lay.frames()
    assert find_orphans(compounds, buildings, BundlingSettings()).empty
    assert len(find_orphans(compounds, buildings, load_settings({"min_floor_area_m2": 20_000}))) == 1
    assert len(find_orphans(compounds, buildings, load_settings({"min_households": 200}))) == 1


def test_orphan_buildings_are_those_without_compound() -> None:
    lay = near_host().lone("B1", BUILDING).lone("B2", rect(0, 40, 40, 20), street=S2)
    compounds, buildings, _ = lay.frames()
    orphans = find_orphans(compounds, buildings, BundlingSettings())
    assert sorted(orphans["orphan_id"]) == ["B1", "B2"]
    assert set(orphans["orphan_kind"]) == {"building"}


def test_hosts_carry_the_area_they_already_manage() -> None:
    lay = Layout().host("H", rect(0, 0, 100, 100), area=40_000, households=400)
    lay.small("C", rect(200, 0, 40, 40), mode="professional", area=5_000, households=50, managed_by_id="H")
    hosts = find_hosts(lay.frames()[0], BundlingSettings()).set_index("host_compound_id")
    assert list(hosts.index) == ["H"]  # a compound managed by another is not a host itself
    assert hosts.loc["H", "floor_area_m2"] == pytest.approx(45_000)
    assert hosts.loc["H", "households"] == pytest.approx(450)


# --- new bundles ----------------------------------------------------------------------------------


def row_of_buildings(lay: Layout, n: int, area: float, street: str = S1, x0: float = 0, prefix: str = "B") -> Layout:
    for i in range(n):
        lay.lone(f"{prefix}{i + 1}", rect(x0 + i * 70, 0, 40, 20), street=street, area=area)  # 30 m apart
    return lay


def test_a_group_reaching_30000_m2_becomes_a_new_bundle() -> None:
    plan = run(row_of_buildings(Layout(), 4, 8_000))
    assert plan.unmatched.empty
    (b,) = plan.to_dict()["new_bundles"]
    assert b["orphan_ids"] == ["B1", "B2", "B3", "B4"]
    assert b["floor_area_m2"] == pytest.approx(32_000)
    assert b["street"] == S1
    assert plan.new_bundles.geometry.iloc[0].geom_type == "Polygon"
    assert set(plan.orphans["status"]) == {"new_bundle"}


def test_a_group_below_30000_m2_stays_unmatched() -> None:
    plan = run(row_of_buildings(Layout(), 3, 8_000))
    assert plan.new_bundles.empty
    assert sorted(plan.unmatched["orphan_id"]) == ["B1", "B2", "B3"]
    assert set(plan.unmatched["reason"]) == {"no_host_in_reach"}


def test_new_bundle_threshold_is_a_setting() -> None:
    assert len(run(row_of_buildings(Layout(), 3, 8_000), new_bundle_min_area_m2=20_000).new_bundles) == 1


def test_groups_do_not_cross_barriers_or_streets() -> None:
    split = row_of_buildings(Layout(), 4, 8_000).barrier("ROAD", (125, -1000), (125, 1000))  # between B2 and B3
    assert run(split).new_bundles.empty
    two_streets = row_of_buildings(Layout(), 2, 8_000)
    row_of_buildings(two_streets, 2, 8_000, street=S2, x0=140, prefix="S")
    assert run(two_streets).new_bundles.empty
    assert len(run(row_of_buildings(Layout(), 4, 8_000)).new_bundles) == 1


def test_group_distance_is_a_setting() -> None:
    assert run(row_of_buildings(Layout(), 4, 8_000), group_distance_m=20).new_bundles.empty
    assert len(run(row_of_buildings(Layout(), 4, 8_000), group_distance_m=31).new_bundles) == 1


def test_orphans_with_a_host_are_not_grouped() -> None:
    lay = row_of_buildings(Layout(), 4, 8_000).host("H", rect(0, 40, 40, 40), area=20_000)
    plan = run(lay)
    assert plan.new_bundles.empty
    assert sorted(plan.proposals["orphan_ids"].iloc[0]) == ["B1", "B2", "B3", "B4"]


# --- settings -------------------------------------------------------------------------------------


def test_settings_defaults_and_overrides() -> None:
    s = BundlingSettings()
    assert (s.max_distance_m, s.min_floor_area_m2, s.min_households, s.new_bundle_min_area_m2,
            s.preferred_max_merged_area_m2, s.metric_crs) == (300, 10_000, 100, 30_000, 100_000, 4546)
    assert load_settings({"max_distance_m": 250}).max_distance_m == 250
    assert load_settings({}, max_distance_m=120).neighbour_distance_m == 120
    with pytest.raises(ValueError, match="unknown setting"):
        load_settings({"max_distnce_m": 1})
    with pytest.raises(ValueError, match="≥ 0"):
        load_settings({"max_distance_m": -1})


def test_empty_inputs() -> None:
    plan = run(Layout())
    assert plan.to_dict() == {"proposals": [], "new_bundles": [], "unmatched": []}
    plan = run(Layout().host("H", rect(0, 0, 10, 10)))
    assert plan.proposals.empty and plan.unmatched.empty


# --- the staged search equals the plain all-pairs rule ------------------------------------------


def reference(orphans, hosts, barriers, s: BundlingSettings) -> dict[str, str]:  # noqa: ANN001
    """RULES §5 written plainly: every pair, Python loops (test oracle only)."""
    og = orphans.to_crs(s.metric_crs).geometry.to_numpy()
    hg = hosts.to_crs(s.metric_crs).geometry.to_numpy()
    bg = list(barriers.to_crs(s.metric_crs).geometry) if len(barriers) else []
    out = {}
    for i, o in enumerate(og):
        ranked = []
        for j, h in enumerate(hg):
            d = o.distance(h)
            if d > s.max_distance_m or orphans["street_code"].iloc[i] != hosts["street_code"].iloc[j]:
                continue
            line = shapely.shortest_line(o, h)
            if any(line.crosses(b) for b in bg):
                continue
            shared = o.boundary.intersection(h.buffer(s.shared_boundary_tolerance_m)).length \
                if d <= s.shared_boundary_tolerance_m else 0.0
            merged = (orphans["floor_area_m2"].iloc[i] or 0) + (hosts["floor_area_m2"].iloc[j] or 0)
            key = (merged > s.preferred_max_merged_area_m2, np.floor(d / s.distance_resolution_m + 0.5), -shared,
                   d, hosts["host_compound_id"].iloc[j])
            ranked.append(key)
        if ranked:
            out[f"{orphans['orphan_kind'].iloc[i]}:{orphans['orphan_id'].iloc[i]}"] = min(ranked)[-1]
    return out


@pytest.fixture
def alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each orphan judged alone: the staged search without the cumulative step (tests/plugins/test_bundling_cumulative.py)."""
    from plugins.bundling import rules

    def judged_alone(best, og, hg, host_tree, barrier_tree, c, s, h_rank):  # noqa: ANN001, ANN202
        return best, c.h_area + np.bincount(best.h, weights=c.o_area[best.o], minlength=len(c.h_area))

    monkeypatch.setattr(rules, "_settle_loads", judged_alone)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.usefixtures("alone")
def test_staged_search_matches_the_plain_rule(seed: int) -> None:
    rng = np.random.default_rng(seed)
    lay = Layout()
    boxes = []
    for i in range(25):
        x, y = rng.uniform(0, 1200, 2)
        w, h = rng.uniform(30, 150, 2)
        boxes.append((x, y, w, h))
        lay.host(f"H{i:02d}", rect(x, y, w, h), street=S1 if x < 700 else S2,
                 area=float(rng.choice([30_000, 60_000, 96_000])))
    for i in range(10):  # orphans touching or nearly touching a host: shared-boundary ties
        x, y, w, h = boxes[int(rng.integers(0, len(boxes)))]
        gap = float(rng.choice([0.0, 0.5, 1.7, 2.6]))
        lay.lone(f"T{i:02d}", rect(x + w + gap, y + rng.uniform(-10, h - 5), 25, 20), street=S1 if x < 700 else S2,
                 area=float(rng.uniform(1_000, 9_000)))
    for i in range(40):
        x, y = rng.uniform(0, 1200, 2)
        lay.lone(f"B{i:02d}", rect(x, y, 30, 15), street=S1 if x < 650 else S2, area=float(rng.uniform(1_000, 9_000)))
    for i in range(4):
        x = rng.uniform(0, 1200)
        lay.barrier(f"R{i}", (x, -500), (x + rng.uniform(-300, 300), 1700))
    plan, got, want, n_orphans = _plan_vs_reference(lay)
    assert got == want
    assert len(got) + len(plan.unmatched) + sum(len(v) for v in plan.new_bundles["orphan_ids"]) == n_orphans


def _plan_vs_reference(lay: Layout):  # noqa: ANN202
    """The plan of a layout, its orphan → host pairs, the oracle's pairs and the number of orphans."""
    s = BundlingSettings()
    compounds, buildings, barriers = lay.frames()
    orphans, hosts = find_orphans(compounds, buildings, s), find_hosts(compounds, s)
    plan = plan_bundles(orphans, hosts, barriers, s)
    got = {f"{r.orphan_kind}:{oid}": r.host_compound_id for r in plan.proposals.itertuples() for oid in r.orphan_ids}
    return plan, got, reference(orphans, hosts, barriers, s), len(orphans)


@pytest.mark.usefixtures("alone")
def test_staged_search_matches_the_plain_rule_on_a_crowded_layout() -> None:
    """Enough orphans that the large-batch shortcuts (box pre-test of barriers, reach filter) are in play."""
    rng = np.random.default_rng(99)
    lay = Layout()
    for i in range(40):
        x, y = rng.uniform(0, 3000, 2)
        lay.host(f"H{i:02d}", rect(x, y, 80, 60), street=S1 if x < 1500 else S2, area=60_000.0)
    for i in range(320):
        x, y = rng.uniform(-200, 3200, 2)
        lay.lone(f"B{i:03d}", rect(x, y, 30, 15), street=S1 if x < 1450 else S2, area=float(rng.uniform(500, 4_000)))
    for i in range(6):
        x = rng.uniform(0, 3000)
        lay.barrier(f"R{i}", (x, -500), (x + rng.uniform(-400, 400), 3500))
    plan, got, want, _ = _plan_vs_reference(lay)
    assert len(got) > 100 and len(plan.unmatched) > 10
    assert got == want


def test_the_barrier_box_pre_test_agrees_with_checking_every_pair() -> None:
    from plugins.bundling.rules import BOX_TEST_MIN_PAIRS, _blocked

    rng = np.random.default_rng(5)
    n = BOX_TEST_MIN_PAIRS * 3
    xy = rng.uniform(0, 2000, (n, 2))
    a = np.array([shapely.box(x, y, x + 20, y + 10) for x, y in xy], dtype=object)
    shift = rng.uniform(-250, 250, (n, 2))
    b = np.array([shapely.box(x, y, x + 40, y + 30) for x, y in xy + shift], dtype=object)
    bars = np.array([shapely.LineString([(x, -100), (x + rng.uniform(-200, 200), 2100)]) for x in rng.uniform(0, 2000, 5)]
                    + [shapely.LineString([(p, p), (p + 1, p + 1)]) for p in (500.0, 1500.0)], dtype=object)
    got = _blocked(a, b, shapely.STRtree(bars))
    want = np.array([any(shapely.shortest_line(x, y).crosses(bar) for bar in bars) for x, y in zip(a, b, strict=True)])
    assert 0 < want.sum() < n
    assert got.tolist() == want.tolist()


@pytest.mark.parametrize(("include_unknown", "orphan"), [(False, False), (True, True)])
def test_unknown_mode_is_no_orphan_unless_asked(include_unknown: bool, orphan: bool) -> None:
    """RULES §1: a compound whose mode is unknown (待核实) is not unserved — left out of bundling unless asked."""
    lay = Layout().host("H", rect(200, 0, 100, 100))
    lay.host("C", rect(0, 0, 50, 50), mode="unknown", area=8_000, households=80, n_buildings=1)
    compounds, buildings, _ = lay.frames()
    orphans = find_orphans(compounds, buildings, load_settings(include_unknown=include_unknown))
    assert ("C" in set(orphans["orphan_id"])) is orphan


def test_include_unknown_must_be_a_boolean() -> None:
    with pytest.raises(ValueError, match="include_unknown"):
        load_settings({"include_unknown": "yes"})


# --- hosts at management scale; a street unknown (issue 24 item 11) ---------------------------------


@pytest.mark.parametrize(("area", "households", "n_buildings", "at_scale"), [
    (40_000.0, 400, 4, True),  # both
    (40_000.0, 400, 0, True),  # ≥ 3万 m² (no building recorded)
    (20_000.0, 200, 2, True),  # ≥ 2 buildings
    (20_000.0, 200, 1, False),  # a single building of 2万 m²: neither
    (40_000.0, 400, 1, False),  # a single building is an orphan itself, whatever its area
    (8_000.0, 200, 3, False),  # under 1万 m²: an orphan itself
    (20_000.0, 60, 3, False),  # under 100 households: an orphan itself
    (None, None, 0, False),  # nothing known: its scale is not established
])
def test_a_host_must_be_at_management_scale(area: float | None, households: int | None, n_buildings: int,
                                            at_scale: bool) -> None:
    lay = near_host(gap=20, area=area, households=households, n_buildings=n_buildings).lone("B1", BUILDING)
    plan = run(lay)
    assert (host_of(plan, "B1") == "H-NEAR") is at_scale
    assert reason_of(plan, "B1") == (None if at_scale else "host_under_scale")


def test_the_host_scale_counts_what_it_manages_and_is_a_setting() -> None:
    lay = near_host(gap=20, area=20_000, households=200, n_buildings=1).lone("B1", BUILDING)
    lay.host("M", rect(400, 400, 20, 20), area=15_000, households=150, n_buildings=1, managed_by_id="H-NEAR")
    assert host_of(run(lay), "B1") == "H-NEAR"  # 3.5万 m², 2 buildings with the one it manages
    assert reason_of(run(lay, host_min_floor_area_m2=40_000, host_min_buildings=3), "B1") == \
        "host_under_scale"


def test_an_under_scale_host_is_passed_over_for_one_at_scale() -> None:
    lay = near_host(gap=20, area=20_000, households=200, n_buildings=1).host("H-FAR", rect(-250, -40, 100, 100))
    plan = run(lay.lone("B1", BUILDING))
    assert host_of(plan, "B1") == "H-FAR"


def test_a_lone_building_without_street_is_street_unknown() -> None:
    lay = near_host(gap=20).lone("B1", BUILDING, street=None)
    plan = run(lay)
    assert reason_of(plan, "B1") == "street_unknown"
    # and such buildings form no new bundle, however large together
    lay = Layout().lone("B1", BUILDING, street=None, area=20_000).lone("B2", rect(0, 40), street=None, area=20_000)
    plan = run(lay)
    assert plan.new_bundles.empty
    assert {reason_of(plan, "B1"), reason_of(plan, "B2")} == {"street_unknown"}


# --- the owners' vote (民法典 §278) and the new bundles' cap (issue 24 item 12) -----------------------


@pytest.mark.parametrize(("area", "owners", "failed"), [
    ("9/6/4", "9/6/4", []),  # exactly 2/3 take part; 4 of 6 say yes
    ("10000/8000/6000", "100/80/60", []),
    ("10000/6000/4000", "100/80/60", ["participation_area"]),  # 60% of the area took part
    ("10000/8000/6000", "100/60/50", ["participation_owners"]),
    ("10000/8000/4000", "100/80/60", ["yes_area"]),  # exactly half of the participating area: not more
    ("10000/8000/6000", "100/80/40", ["yes_owners"]),
    ("10000/0/0", "100/0/0", ["participation_area", "participation_owners", "yes_area", "yes_owners"]),
    ("10000.5/6667.0/3334", "3/2/2", []),  # areas need not be whole; 6667/10000.5 ≥ 2/3
])
def test_the_owners_vote(area: str, owners: str, failed: list[str]) -> None:
    from plugins.bundling.rules import parse_vote, vote_failures

    got = vote_failures(parse_vote(area), parse_vote(owners, whole=True), BundlingSettings())
    assert [f[0] for f in got] == failed


def test_vote_thresholds_are_settings_and_counts_are_checked() -> None:
    from plugins.bundling.rules import parse_vote, vote_failures

    s = load_settings({"vote_participation_min": "3/4", "vote_yes_over": "2/3"})
    assert [f[0] for f in vote_failures(parse_vote("100/70/60"), parse_vote("10/8/5"), s)] == \
        ["participation_area", "yes_owners"]
    for bad in ("10/11/5", "10/5/6", "0/0/0", "a/b/c", "10/5", "-1/0/0", ""):
        with pytest.raises(ValueError):
            parse_vote(bad)
    with pytest.raises(ValueError, match="whole"):
        parse_vote("100/80.5/60", whole=True)
    with pytest.raises(ValueError, match="vote_yes_over"):
        load_settings({"vote_yes_over": "3/2"})


def test_a_new_bundle_is_capped_at_100000_m2() -> None:
    lay = Layout()
    for i in range(4):  # four neighbouring 30,000 m² orphans, no host: 12万 m² together
        lay.lone(f"B{i}", rect(i * 60, 0, 40, 20), area=30_000)
    plan = run(lay)
    assert sorted(len(v) for v in plan.new_bundles["orphan_ids"]) == [1, 3]
    assert (plan.new_bundles["floor_area_m2"] <= 100_000).all()
    assert sorted(plan.new_bundles["floor_area_m2"]) == [30_000, 90_000]
    assert sorted(sum(plan.new_bundles["orphan_ids"], [])) == ["B0", "B1", "B2", "B3"]
    assert len(run(lay, new_bundle_max_area_m2=150_000).new_bundles) == 1


def test_every_unmatched_reason_has_a_label_in_both_languages() -> None:
    import plugins.bundling.messages  # noqa: F401  (registers the labels)
    from geoplatform.labels import label
    from plugins.bundling.rules import UNMATCHED_REASONS

    for reason in UNMATCHED_REASONS:
        zh, en = label("bundle_reason", reason), label("bundle_reason", reason, "en")
        assert zh != reason and en != reason and zh != en
    assert {"street_unknown", "host_under_scale", "host_firm_ineligible"} <= set(UNMATCHED_REASONS)
