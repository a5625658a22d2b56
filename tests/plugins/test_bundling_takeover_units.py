"""A new bundle as one takeover unit (RULES §4/§5): the aggregation of plugins/bundling/takeover_units.py (pure)."""

from __future__ import annotations

import pytest

from plugins.bundling.takeover_units import aggregate


def _c(cid: str, year: int | None, hh: int | None, fee: float | None, complaints: int | None = None,
       cost: float | None = 1.0) -> dict:
    return {"id": cid, "build_year": year, "households": hh, "fee_collection_rate": fee,
            "complaints_per_year": complaints, "takeover_cost": cost}


def _b(bid: str, year: int | None, hh: int | None = 10) -> dict:
    return {"id": bid, "build_year": year, "households": hh}


# (case, compounds, buildings, expected (build_year, fee rate, complaints, cost))
CASES = [
    ("oldest member, a building included", [_c("a", 1998, 100, 0.5)], [_b("x", 1985)], (1985, 0.5, None, 1.0)),
    ("fee rate weighted by households", [_c("a", 2001, 300, 0.8), _c("b", 1999, 100, 0.4)], [], (1999, 0.7, None, 2.0)),
    ("a member without a fee rate is left out", [_c("a", 2001, 300, 0.8), _c("b", None, 100, None)], [],
     (2001, 0.8, None, 2.0)),
    ("no households known: plain mean", [_c("a", None, None, 0.8), _c("b", None, None, 0.4)], [], (None, 0.6, None, 2.0)),
    ("complaints summed over those known", [_c("a", 1990, 50, None, 3), _c("b", 1990, 50, None, None)], [],
     (1990, None, 3, 2.0)),
    ("one unknown cost makes the cost unknown", [_c("a", 1990, 50, 0.5, cost=None), _c("b", 1990, 50, 0.5)], [],
     (1990, 0.5, None, None)),
]


@pytest.mark.parametrize(("case", "compounds", "buildings", "expected"), CASES, ids=[c[0] for c in CASES])
def test_aggregate(case: str, compounds: list[dict], buildings: list[dict], expected: tuple) -> None:
    unit = aggregate("N1", "150203001", compounds, buildings, 31_000.0, 420.0)
    got = (unit.build_year, unit.fee_collection_rate, unit.complaints_per_year, unit.takeover_cost)
    assert got[0] == expected[0] and got[2:] == expected[2:], case
    assert got[1] == (None if expected[1] is None else pytest.approx(expected[1])), case
    assert unit.compound_ids == tuple(c["id"] for c in compounds)
    assert unit.building_ids == tuple(b["id"] for b in buildings)
    assert (unit.floor_area_m2, unit.households) == (31_000.0, 420)


def _layout(ctx) -> None:  # noqa: ANN001
    """One street, no host anywhere: an orphan compound (too few households) and two lone buildings side by side,
    33,000 m² together — a new bundle (RULES §5: ≥ 3万 m²) — and a far candidate compound on its own."""
    import shapely

    from geoplatform.store import insert_records
    from tests.core import layer_fixtures as lf

    def square(x: float, y: float = 40.61) -> shapely.MultiPolygon:
        return shapely.MultiPolygon([shapely.box(x, y, x + 0.0008, y + 0.0008)])

    def compound(cid: str, x: float, area: float, hh: int, year: int) -> dict:
        return {"id": cid, "name": f"小区{cid}", "aliases": [], "street_code": "150203001", "boundary": square(x),
                "location": square(x).centroid, "households": hh, "floor_area_m2": area, "build_year": year,
                "fee_collection_rate": 0.5, "complaints_per_year": 2, "takeover_cost": 3.0,
                "management_mode": "none", "owners_org": "none", "renovation": "none", "demolition_planned": False,
                "source": "test", "version": 1}

    with ctx.session() as s:
        insert_records(s, "street", lf.STREETS)
        insert_records(s, "compound", [compound("o1", 109.7100, 15_000.0, 80, 1996),
                                       compound("far", 109.7600, 40_000.0, 500, 2010)])
        insert_records(s, "building", [
            {"id": bid, "compound_id": None, "street_code": "150203001", "geom": square(x), "floors": 6,
             "households": 60, "build_year": year, "floor_area_m2": 9_000.0, "source": "test", "version": 1}
            for bid, x, year in (("x1", 109.7110, 1990), ("x2", 109.7120, 2004))])
        insert_records(s, "building", [
            {"id": "o1-b", "compound_id": "o1", "street_code": "150203001", "geom": square(109.7100), "floors": 6,
             "households": 80, "build_year": 1996, "floor_area_m2": 15_000.0, "source": "test", "version": 1}])


def test_a_planned_bundle_is_one_takeover_candidate(ctx) -> None:  # noqa: ANN001
    """Through the hook on a hand-made layout: the plan's new bundle, its members as the plan groups them, and the
    takeover pool holding it as one unit in place of its member compound."""
    from geoplatform.exchange import takeover_bundles
    from plugins.takeover import service as takeover
    from plugins.takeover.mapping import settings_for

    _layout(ctx)
    with ctx.session(readonly=True) as s:
        units = takeover_bundles(ctx, s)
        scored = takeover.rank(s, settings_for(ctx))
    assert [(u.compound_ids, sorted(u.building_ids)) for u in units] == [(("o1",), ["x1", "x2"])]
    u = units[0]
    assert (u.floor_area_m2, u.households, u.build_year, u.fee_collection_rate) == (33_000.0, 200, 1990, 0.5)
    assert sorted(scored.index) == sorted(["far", f"bundle:{u.id}"])
    row = scored.loc[f"bundle:{u.id}"]
    assert row["members"] == ["o1"] and row["floor_area_m2"] == 33_000.0 and row["households_n"] == 200
