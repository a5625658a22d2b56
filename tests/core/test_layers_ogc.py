"""layers.ogc: valid geometry after coordinate reduction, one geometry type per collection, typed filters, pages."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
import shapely

from layers import ogc
from web.maplayers import all_layers

# A vertex 4e-8° above the bottom edge: pointwise rounding to 7 decimals puts it on the edge (a self-touching,
# invalid ring), although the polygon itself is valid.
NOTCH = shapely.from_wkt("POLYGON ((109 40, 109.001 40, 109.001 40.001, 109.0005 40.00000004, 109 40.001, 109 40))")
SHORT = shapely.from_wkt("LINESTRING (109.00000001 40, 109.00000002 40)")  # collapses to one point when rounded
PLAIN = shapely.from_wkt("POLYGON ((109.123456789 40.1, 109.2 40.1, 109.2 40.2, 109.123456789 40.1))")


def test_pointwise_rounding_breaks_the_notch_and_reduce_precision_does_not() -> None:
    assert shapely.is_valid(NOTCH)
    rounded = shapely.set_precision(NOTCH, ogc.GRID, mode="pointwise")
    assert not shapely.is_valid(rounded)  # the failure the issue saw on a street outline
    out = ogc.reduce_precision([NOTCH])[0]
    assert shapely.is_valid(out) and not out.is_empty
    assert abs(out.area - NOTCH.area) < 1e-9


@pytest.mark.parametrize(("geom", "check"), [
    (PLAIN, lambda g: g.exterior.coords[0] == (109.1234568, 40.1)),  # plainly rounded to 7 decimals
    (SHORT, lambda g: g.equals(SHORT)),  # would collapse: keeps its coordinates instead of becoming degenerate
    (shapely.Point(109.123456789, 40.987654321), lambda g: (g.x, g.y) == (109.1234568, 40.9876543)),
    (None, lambda g: g is None),
])
def test_reduce_precision_cases(geom, check) -> None:  # noqa: ANN001
    out = ogc.reduce_precision(np.array([geom], dtype=object))[0]
    assert check(out)
    if geom is not None:
        assert shapely.is_valid(out)


def test_reduce_precision_keeps_every_demo_geometry_valid(demo_ctx) -> None:  # noqa: ANN001
    """Streets, compounds and buildings of the demo: valid in the database, valid as served."""
    from layers.features import read_source

    for source in ("streets", "compounds", "buildings"):
        geoms = read_source(demo_ctx, source).geometry.to_numpy()
        valid = shapely.is_valid(geoms)
        out = ogc.reduce_precision(geoms)
        assert shapely.is_valid(out[valid]).all(), source


def test_promote_and_families() -> None:
    mixed = np.array([PLAIN, shapely.multipolygons([PLAIN]), shapely.Point(1, 2), None], dtype=object)
    assert ogc.families(mixed) == {"polygon": {"Polygon", "MultiPolygon"}, "point": {"Point"}}
    promoted = ogc.promote(mixed[:2], "polygon")
    assert [g.geom_type for g in promoted] == ["MultiPolygon", "MultiPolygon"]
    assert promoted[0].equals(PLAIN)


@pytest.mark.parametrize(("values", "expected"), [
    (pd.Series([1, 2, None], dtype=object), ogc.Property("integer")),
    (pd.Series([1.5, 2, None], dtype=object), ogc.Property("number")),
    (pd.Series([True, False]), ogc.Property("boolean")),
    (pd.Series([True, None], dtype=object), ogc.Property("boolean")),
    (pd.Series(["a", None], dtype=object), ogc.Property("string")),
    (pd.Series([dt.date(2025, 1, 1), None], dtype=object), ogc.Property("string", "date")),
    (pd.Series([[1], None], dtype=object), ogc.Property("array")),
    (pd.Series([None, None], dtype=object), ogc.Property("string")),
    (pd.Series([1.0, float("nan")]), ogc.Property("number")),
])
def test_value_property(values: pd.Series, expected: ogc.Property) -> None:
    assert ogc.value_property(values) == expected


QUERYABLE = {"households": ogc.Property("integer"), "rate": ogc.Property("number"),
             "demolition_planned": ogc.Property("boolean"), "contract_end": ogc.Property("string", "date"),
             "name": ogc.Property("string")}


@pytest.mark.parametrize(("args", "expected"), [
    ({"households": "12"}, {"households": 12}),
    ({"rate": "0.5"}, {"rate": 0.5}),
    ({"demolition_planned": "true"}, {"demolition_planned": True}),
    ({"demolition_planned": "0"}, {"demolition_planned": False}),
    ({"contract_end": "2026-10-01"}, {"contract_end": dt.date(2026, 10, 1)}),
    ({"name": "友谊新村"}, {"name": "友谊新村"}),
])
def test_parse_filters(args: dict, expected: dict) -> None:
    assert ogc.parse_filters(QUERYABLE, args) == expected


@pytest.mark.parametrize("args", [{"households": "many"}, {"rate": "nan"}, {"demolition_planned": "yes"},
                                  {"contract_end": "2026-13-01"}, {"management_mod": "none"}])
def test_parse_filters_refuses(args: dict) -> None:
    with pytest.raises(ogc.FilterError) as err:
        ogc.parse_filters(QUERYABLE, args)
    assert err.value.name == next(iter(args))


def _pages(ctx, coll, limit, **kw) -> list[dict]:  # noqa: ANN001
    out, after = [], None
    while True:
        page = ogc.page(ctx, coll, limit=limit, after=after, **kw)
        out += json.loads(page.features)
        if page.returned < limit:
            return out
        after = page.last_key


@pytest.mark.parametrize("collection_id", ["buildings", "compounds", "compounds_points", "charging",
                                           "bundling_orphans"])
def test_keyset_pages_cover_the_collection_once(demo_ctx, collection_id: str) -> None:  # noqa: ANN001
    specs = all_layers(demo_ctx)
    coll = ogc.find(demo_ctx, specs, collection_id)
    whole = ogc.page(demo_ctx, coll, limit=100_000)
    size = max(97, whole.matched // 11 | 1)  # an odd page size, a dozen pages (the 10,000 buildings: not a hundred)
    feats = _pages(demo_ctx, coll, size)
    ids = [f["id"] for f in feats]
    assert len(ids) == len(set(ids)) == whole.matched == whole.returned > 0
    assert ids == [f["id"] for f in json.loads(whole.features)]
    offset = ogc.page(demo_ctx, coll, limit=5, offset=size)
    assert [f["id"] for f in json.loads(offset.features)] == ids[size:size + 5]
    types = {f["geometry"]["type"] for f in feats if f["geometry"]}
    assert len(types) == 1 and types == {coll.geometry_type}


def test_compound_collections_split_boundaries_and_points(demo_ctx) -> None:  # noqa: ANN001
    from sqlalchemy import text

    specs = all_layers(demo_ctx)
    with demo_ctx.engine.connect() as c:
        areas = c.execute(text("select count(*) from compound where boundary is not null")).scalar()
        points = c.execute(text("select count(*) from compound where boundary is null")).scalar()
    assert points > 0
    assert ogc.page(demo_ctx, ogc.find(demo_ctx, specs, "compounds"), limit=1).matched == areas
    assert ogc.page(demo_ctx, ogc.find(demo_ctx, specs, "compounds_points"), limit=1).matched == points
    ids = {c.id for c in ogc.collections(demo_ctx, specs)}
    assert {"compounds", "compounds_points", "coverage", "coverage_points"} <= ids  # every compound, in two families
    # a plugin layer over some compounds is split only when its features hold both families (data-dependent)


def test_filters_on_table_columns_and_plugin_attributes(demo_ctx) -> None:  # noqa: ANN001
    specs = all_layers(demo_ctx)
    coll = ogc.find(demo_ctx, specs, "compounds")
    everything = pd.DataFrame([f["properties"] for f in json.loads(ogc.page(demo_ctx, coll, limit=100_000).features)])
    for filters in ({"management_mode": "professional"}, {"management_mode": "none", "owners_org": "none"},
                    {"bundling_orphan": True}, {"households": int(everything["households"].dropna().iloc[0])}):
        assert ogc.uses_sql(coll, filters) == all(k in ("management_mode", "owners_org", "households")
                                                  for k in filters)
        got = ogc.page(demo_ctx, coll, filters=filters, limit=100_000)
        mask = np.logical_and.reduce([everything[k] == v for k, v in filters.items()])
        assert got.matched == got.returned == int(mask.sum()) > 0, filters
        assert sorted(f["id"] for f in json.loads(got.features)) == sorted(everything[mask]["id"])


def test_bbox_on_both_paths(demo_ctx) -> None:  # noqa: ANN001
    specs = all_layers(demo_ctx)
    box = (109.80, 40.62, 109.84, 40.65)
    for cid in ("buildings", "charging"):
        coll = ogc.find(demo_ctx, specs, cid)
        feats = json.loads(ogc.page(demo_ctx, coll, bbox=box, limit=100_000).features)
        every = json.loads(ogc.page(demo_ctx, coll, limit=100_000).features)
        inside = [f["id"] for f in every if shapely.intersects(shapely.geometry.shape(f["geometry"]),
                                                             shapely.box(*box))]
        assert 0 < len(feats) < len(every)
        assert set(inside) <= {f["id"] for f in feats}  # the index may add envelope-only hits, never miss one


def test_single_feature_and_missing_one(demo_ctx) -> None:  # noqa: ANN001
    specs = all_layers(demo_ctx)
    for cid in ("buildings", "bundling_orphans"):
        coll = ogc.find(demo_ctx, specs, cid)
        first = json.loads(ogc.page(demo_ctx, coll, limit=1).features)[0]
        assert json.loads(ogc.feature(demo_ctx, coll, str(first["id"]))) == first
        assert ogc.feature(demo_ctx, coll, "no-such-feature") is None
    point_only = json.loads(ogc.page(demo_ctx, ogc.find(demo_ctx, specs, "compounds_points"), limit=1).features)[0]
    assert ogc.feature(demo_ctx, ogc.find(demo_ctx, specs, "compounds"), point_only["id"]) is None
