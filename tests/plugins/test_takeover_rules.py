"""Takeover score rules (pure, hand-made fixtures): candidates, every component, contiguity in metres, tender mode."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from plugins.takeover.rules import candidate_pairs, components_of, score_candidates
from plugins.takeover.settings import COMPONENTS, TakeoverSettings, load_settings

S = TakeoverSettings()
X0, Y0 = 400_000.0, 4_500_000.0  # EPSG:4546 metres near Baotou (CM 111°E, false easting 500 km)


def _square(dx: float, size: float = 100.0) -> shapely.Geometry:
    return box(X0 + dx, Y0, X0 + dx + size, Y0 + size)


def _frame(rows: list[dict]) -> gpd.GeoDataFrame:
    base = {"name": "小区", "street_code": "150203001", "management_mode": "none", "demolition_planned": False,
            "build_year": 1995, "renovation": "none", "fee_collection_rate": 0.3, "households": 100,
            "complaints_per_year": 5, "owners_org": "none", "floor_area_m2": 20_000.0, "takeover_cost": 5.0,
            "managed_by_id": None}
    recs = [{**base, **r} for r in rows]
    metric = gpd.GeoSeries([r.pop("geom") for r in recs], crs="EPSG:4546")
    gdf = gpd.GeoDataFrame(pd.DataFrame(recs), geometry=metric.to_crs(4326).values, crs=4326)
    gdf = gdf.rename_geometry("boundary")
    gdf["location"] = gdf["boundary"].representative_point()
    return gdf.set_index(gdf["id"].to_numpy(), drop=False)


NO_HANDOVERS = pd.DataFrame(columns=["compound_id", "facility", "state"])


@pytest.mark.parametrize(("mode", "demolition", "managed_by", "with_cm", "expected"), [
    ("none", False, None, False, True),
    ("none", True, None, False, False),
    ("community_managed", False, None, False, False),
    ("community_managed", False, None, True, True),
    ("professional", False, None, True, False),
    ("state_owned", False, None, True, False),
    ("self_managed", False, None, True, False),
    ("none", False, "host", False, False),
])
def test_candidate_filter(mode: str, demolition: bool, managed_by: str | None, with_cm: bool, expected: bool) -> None:
    gdf = _frame([{"id": "a", "geom": _square(0), "management_mode": mode, "demolition_planned": demolition,
                   "managed_by_id": managed_by}])
    assert ("a" in score_candidates(gdf, NO_HANDOVERS, S, with_cm).index) is expected


@pytest.mark.parametrize(("field", "value", "component", "expected"), [
    ("build_year", 2000, "age", 1.0), ("build_year", 2001, "age", 0.5), ("build_year", 2005, "age", 0.5),
    ("build_year", 2006, "age", 0.2), ("build_year", None, "age", 0.0),
    ("renovation", "completed", "renovation", 1.0), ("renovation", "in_progress", "renovation", 0.6),
    ("renovation", "planned", "renovation", 0.3), ("renovation", "none", "renovation", 0.0),
    ("fee_collection_rate", 0.6, "fee_viability", 1.0), ("fee_collection_rate", 0.9, "fee_viability", 1.0),
    ("fee_collection_rate", 0.3, "fee_viability", 0.5), ("fee_collection_rate", None, "fee_viability", 0.0),
    ("households", 500, "households", 1.0), ("households", 2000, "households", 1.0),
    ("households", 0, "households", 0.0), ("households", 22, "households", 0.5044),
    ("complaints_per_year", 20, "safety_complaints", 1.0), ("complaints_per_year", 5, "safety_complaints", 0.25),
    ("complaints_per_year", 0, "safety_complaints", 0.0),
    ("owners_org", "owners_committee", "owners_org", 1.0), ("owners_org", "management_committee", "owners_org", 1.0),
    ("owners_org", "preparing", "owners_org", 0.5), ("owners_org", "none", "owners_org", 0.0),
])
def test_components(field: str, value: object, component: str, expected: float) -> None:
    gdf = _frame([{"id": "a", "geom": _square(0), field: value}])
    row = score_candidates(gdf, NO_HANDOVERS, S).loc["a"]
    assert row[f"c_{component}"] == pytest.approx(expected, abs=1e-3)


def test_handover_share_counts_taken_over_of_four_and_absent_rows_as_unknown() -> None:
    gdf = _frame([{"id": "a", "geom": _square(0)}, {"id": "b", "geom": _square(5000)}])
    rows = pd.DataFrame([("a", "water", "taken_over"), ("a", "power", "taken_over"), ("a", "heating", "acceptance"),
                         ("a", "fire_acceptance", "taken_over"), ("b", "gas", "taken_over")],
                        columns=["compound_id", "facility", "state"])
    scored = score_candidates(gdf, rows, S)
    assert scored.at["a", "c_utility_handover"] == 0.5  # gas row absent = unknown, fire not a utility
    assert scored.at["b", "c_utility_handover"] == 0.25


def test_contiguity_uses_metric_edge_distance_to_candidates_and_state_owned() -> None:
    # a at 0; b 400 m east of a's edge (within 500); c 600 m beyond b's edge; s state-owned 450 m west of a;
    # p professional next to a (not counted); d demolition-planned next to a (not a candidate, not counted)
    gdf = _frame([
        {"id": "a", "geom": _square(0)}, {"id": "b", "geom": _square(500)}, {"id": "c", "geom": _square(1200)},
        {"id": "s", "geom": _square(-550), "management_mode": "state_owned"},
        {"id": "p", "geom": _square(150), "management_mode": "professional"},
        {"id": "d", "geom": _square(-150), "demolition_planned": True},
    ])
    scored = score_candidates(gdf, NO_HANDOVERS, S)
    assert set(scored.index) == {"a", "b", "c"}
    assert scored.at["a", "neighbours"] == 2 and scored.at["b", "neighbours"] == 1 and scored.at["c", "neighbours"] == 0
    assert scored.at["a", "c_contiguity"] == pytest.approx(2 / S.contiguity_saturation)
    assert scored.at["c", "c_contiguity"] == 0
    pairs = candidate_pairs(gdf, gdf["id"].isin(scored.index), S)
    assert pairs[["a", "b"]].values.tolist() == [["a", "b"]]
    assert pairs["distance_m"].iloc[0] == pytest.approx(400, abs=1)


def test_contiguity_saturates() -> None:
    rows = [{"id": f"n{i}", "geom": _square(200 * i)} for i in range(8)]
    scored = score_candidates(_frame(rows), NO_HANDOVERS, S)
    assert scored["c_contiguity"].max() == 1.0
    assert scored.at["n0", "neighbours"] == 3  # 200, 400 (edge distances 100, 300, 500) …
    assert scored.at["n0", "c_contiguity"] == pytest.approx(3 / 5)


def test_point_only_compound_uses_location() -> None:
    gdf = _frame([{"id": "a", "geom": _square(0)}, {"id": "b", "geom": _square(300)}])
    gdf.loc["b", "boundary"] = None
    scored = score_candidates(gdf, NO_HANDOVERS, S)
    assert scored.at["a", "neighbours"] == 1


@pytest.mark.parametrize(("area", "mode"), [(50_000.0, "public_tender"), (49_999.0, "invited_tender"),
                                            (120_000.0, "public_tender"), (None, "public_tender")])
def test_tender_mode(area: float | None, mode: str) -> None:
    gdf = _frame([{"id": "a", "geom": _square(0), "floor_area_m2": area}])
    assert score_candidates(gdf, NO_HANDOVERS, S).at["a", "tender_mode"] == mode


def test_score_is_weighted_sum_and_sorted() -> None:
    gdf = _frame([{"id": "a", "geom": _square(0), "build_year": 1990, "renovation": "completed",
                   "fee_collection_rate": 0.7, "households": 500, "complaints_per_year": 25,
                   "owners_org": "owners_committee"},
                  {"id": "b", "geom": _square(5000), "build_year": 2010}])
    rows = pd.DataFrame([("a", f, "taken_over") for f in ("water", "power", "heating", "gas")],
                        columns=["compound_id", "facility", "state"])
    scored = score_candidates(gdf, rows, S)
    assert list(scored.index) == ["a", "b"]
    assert scored.at["a", "score"] == pytest.approx(80.0)  # all full except contiguity: no neighbour
    comps = components_of(scored.loc["b"], S)
    assert set(comps) == set(COMPONENTS)
    assert sum(c["points"] for c in comps.values()) == pytest.approx(scored.at["b", "score"], abs=0.05)


def test_weights_are_settings() -> None:
    s = load_settings({"weight_age": 0, "weight_owners_org": 20})
    gdf = _frame([{"id": "a", "geom": _square(0), "owners_org": "preparing"}])
    row = score_candidates(gdf, NO_HANDOVERS, s).loc["a"]
    assert components_of(row, s)["age"]["points"] == 0
    assert components_of(row, s)["owners_org"]["points"] == 10
    with pytest.raises(ValueError, match="unknown setting"):
        load_settings({"weight_bogus": 1})


def test_missing_inputs_are_reported() -> None:
    gdf = _frame([{"id": "a", "geom": _square(0), "households": None, "fee_collection_rate": None}])
    assert sorted(score_candidates(gdf, NO_HANDOVERS, S).at["a", "unknown"]) == ["fee_viability", "households"]


@pytest.mark.parametrize(("include_unknown", "with_cm", "expected"), [(False, False, False), (False, True, False),
                                                                     (True, False, True)])
def test_unknown_mode_is_no_candidate_unless_asked(include_unknown: bool, with_cm: bool, expected: bool) -> None:
    """RULES §1: a compound 待核实 is not a takeover candidate unless the user asks (`--include-unknown`)."""
    from dataclasses import replace

    gdf = _frame([{"id": "a", "geom": _square(0), "management_mode": "unknown"}])
    settings = replace(S, include_unknown=include_unknown)
    assert ("a" in score_candidates(gdf, NO_HANDOVERS, settings, with_cm).index) is expected


# ---- issue 24: the tender a compound may get (RULES §4) -----------------------------------------------

# (floor area, mode, bidders, expected problem code or None)
TENDER_CASES = [
    (20_000.0, "invited", 3, None), (20_000.0, "invited", 2, "bidders"), (20_000.0, "public", 1, None),
    (20_000.0, "public", 0, "bidders"), (49_999.0, "invited", 5, None), (50_000.0, "invited", 5, "public_required"),
    (80_000.0, "invited", 9, "public_required"), (80_000.0, "public", 2, None), (None, "invited", 5, "public_required"),
    (None, "public", 3, None), (20_000.0, "negotiated", 3, "mode"), (20_000.0, None, 3, "missing"),
    (20_000.0, "public", None, "missing"), (20_000.0, "invited", True, "bidders"),
]


@pytest.mark.parametrize(("area", "mode", "bidders", "expected"), TENDER_CASES)
def test_tender_problem(area: float | None, mode: str | None, bidders: object, expected: str | None) -> None:
    from plugins.takeover.rules import tender_problem

    got = tender_problem(area, mode, bidders, S)
    assert (got[0] if got else None) == expected


def test_tender_thresholds_are_settings() -> None:
    from plugins.takeover.rules import tender_problem

    s = load_settings({"public_tender_min_floor_area_m2": 30_000, "invited_tender_min_bidders": 5})
    assert tender_problem(40_000.0, "invited", 5, s)[0] == "public_required"
    assert tender_problem(20_000.0, "invited", 4, s)[0] == "bidders"
    assert tender_problem(20_000.0, "invited", 5, s) is None


# ---- issue 24: open safety problems in the "safety and complaints" component (RULES §4/§8) -----------

# (12345 complaints per year, open safety problems, component)
SAFETY_CASES = [(0, 0, 0.0), (10, 0, 0.5), (0, 3, 1.0), (0, 1, 1 / 3), (10, 1, 0.5 + 1 / 3), (20, 2, 1.0),
                (None, 2, 2 / 3), (4, None, 0.2), (None, None, 0.0)]


@pytest.mark.parametrize(("complaints", "problems", "expected"), SAFETY_CASES)
def test_safety_problems_count_in_the_component(complaints: int | None, problems: int | None, expected: float) -> None:
    gdf = _frame([{"id": "a", "geom": _square(0), "complaints_per_year": complaints}])
    safety = pd.Series({"a": problems}, dtype=float)
    out = score_candidates(gdf, NO_HANDOVERS, S, safety=safety)
    assert out.at["a", "c_safety_complaints"] == pytest.approx(expected, abs=1e-4)
    assert ("safety_complaints" in out.at["a", "unknown"]) is (complaints is None or problems is None)


# ---- issue 24: a new bundle of orphans is one candidate (RULES §4/§5) -----------------------------------

def test_a_new_bundle_replaces_its_members_with_one_unit() -> None:
    from geoplatform.exchange import TakeoverBundle
    from plugins.takeover.rules import with_bundles

    gdf = _frame([{"id": "a", "geom": _square(0)}, {"id": "b", "geom": _square(150), "name": "乙"},
                  {"id": "c", "geom": _square(300), "management_mode": "community_managed"}])
    hull = gpd.GeoSeries([shapely.box(X0 + 150, Y0, X0 + 400, Y0 + 100)], crs="EPSG:4546").to_crs(4326).iloc[0]
    bundle = TakeoverBundle("N1", "150203001", ("b", "c"), ("x1",), floor_area_m2=31_000.0, households=420,
                            build_year=1988, fee_collection_rate=0.45, complaints_per_year=12, takeover_cost=9.5,
                            geometry=hull)
    units = with_bundles(gdf, [bundle, TakeoverBundle("N2", None, ("gone",))])  # a bundle of unknown compounds: none
    assert sorted(units["id"]) == ["a", "bundle:N1"]
    out = score_candidates(units, NO_HANDOVERS, S)
    row = out.loc["bundle:N1"]
    assert (row["kind"], row["members"], row["member_units"]) == ("bundle", ["b", "c"],
                                                                 ["compound:b", "compound:c", "building:x1"])
    assert (row["name"], row["floor_area_m2"], row["households_n"], row["build_year"], row["takeover_cost"]) == (
        "乙 +2", 31_000.0, 420, 1988, 9.5)
    assert row["management_mode"] == "none"  # one member without any service makes the unit a candidate
    assert row["c_age"] == 1.0 and row["c_fee_viability"] == pytest.approx(0.75) and row["c_safety_complaints"] == 0.6
    assert row["tender_mode"] == "invited_tender" and out.at["a", "kind"] == "compound"
    assert out.at["a", "neighbours"] == 1  # the bundle's outline is 50 m away: a neighbour for contiguity
    assert with_bundles(gdf, None) is gdf and with_bundles(gdf, []) is gdf
