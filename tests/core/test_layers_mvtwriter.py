"""layers/mvtwriter.py, the numpy MVT writer of SpatiaLite tiles: table-driven against mapbox-vector-tile (its decoder
reads what we write, and for these cases its encoder writes the very same bytes). Pure functions, no database."""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import pytest
import shapely

from layers.mvtwriter import attribute_table, encode_geometries, encode_layer, varint, varints, zigzag


def reference(geoms, props) -> bytes:  # noqa: ANN001 - mapbox-vector-tile on the same input (y down, no quantizing)
    feats = [{"geometry": g, "properties": p} for g, p in zip(geoms, props, strict=True)
             if g is not None and not g.is_empty]
    return mapbox_vector_tile.encode([{"name": "t", "features": feats}], default_options={
        "quantize_bounds": None, "extents": 4096, "check_winding_order": False, "y_coord_down": True})


HOLE = shapely.Polygon([(0, 0), (0, 10), (10, 10), (10, 0)], [[(2, 2), (4, 2), (4, 4), (2, 4)]])
CASES = {
    "point": [shapely.Point(5, 7)],
    "negative point (buffer)": [shapely.Point(-30, -2)],
    "multipoint with a repeated point": [shapely.MultiPoint([(1, 2), (1, 2), (30, 40)])],
    "line with repeated points": [shapely.LineString([(0, 0), (0, 0), (10, 10), (10, 10), (20, 5)])],
    "multiline with a collapsed part": [shapely.MultiLineString([[(0, 0), (1, 1)], [(5, 5), (5, 5)], [(7, 7), (9, 9)]])],
    "polygon with a hole": [HOLE],
    "multipolygon, nothing, empty, buffer-wide": [shapely.MultiPolygon([shapely.box(0, 0, 5, 5), shapely.box(10, 10, 20, 20)]),
                                                  None, shapely.Polygon(), shapely.box(-64, -64, 4160, 4160)],
    "mixed kinds, cursor carried between features": [HOLE, shapely.Point(100, 100), shapely.LineString([(3, 4), (5, 6)]),
                                                    shapely.MultiPoint([(9, 9), (1, 1)])],
    "polygons without holes between others (two paths, one feature order)": [
        shapely.box(0, 0, 8, 8), HOLE, shapely.box(20, 20, 30, 26).reverse(),
        shapely.MultiPolygon([shapely.box(40, 40, 45, 45)]), shapely.box(50, 50, 52, 60), shapely.box(60, 0, 70, 9)],
    "large coordinates (multi-byte varints)": [shapely.LineString([(0, 0), (4000, 4000), (-60, 4100)])],
}
PROPS = [{"a": 1, "b": "x", "c": True, "d": 0.5, "e": -3}, {"a": 2, "b": "x", "c": False}, {"b": "中文"}, {}]


@pytest.mark.parametrize("geoms", list(CASES.values()), ids=list(CASES))
def test_same_bytes_as_mapbox_vector_tile(geoms) -> None:  # noqa: ANN001
    props = [PROPS[i % len(PROPS)] for i in range(len(geoms))]
    ours = encode_layer("t", geoms, props)
    assert ours == reference(geoms, props)
    decoded = mapbox_vector_tile.decode(ours, default_options={"y_coord_down": True})["t"]["features"]
    want = [(g, p) for g, p in zip(geoms, props, strict=True) if g is not None and not g.is_empty]
    assert len(decoded) == len(want)
    for f, (g, p) in zip(decoded, want, strict=True):
        assert f["properties"] == p
        drawn = [part for part in shapely.get_parts(g) if shapely.length(part) > 0 or part.geom_type == "Point"]
        assert shapely.equals(shapely.geometry.shape(f["geometry"]), shapely.union_all(drawn))  # collapsed parts out


def test_a_feature_with_nothing_left_to_draw_is_left_out() -> None:
    geoms = [shapely.LineString([(3, 3), (3, 3)]), shapely.Polygon([(0, 0), (0, 0), (0, 0), (0, 0)]), shapely.Point(1, 1)]
    geometry, types = encode_geometries(geoms)
    assert types.tolist() == [0, 0, 1] and geometry[:2] == [b"", b""]
    decoded = mapbox_vector_tile.decode(encode_layer("t", geoms, [{"i": 0}, {"i": 1}, {"i": 2}]))["t"]["features"]
    assert [f["properties"]["i"] for f in decoded] == [2]
    assert encode_layer("t", geoms[:2], [{}, {}]) == b""


def test_a_polygon_whose_exterior_collapses_loses_its_holes() -> None:
    flat = shapely.Polygon([(0, 0), (5, 0), (5, 0), (0, 0)], [[(1, 1), (2, 1), (2, 2)]])
    geoms = [flat, HOLE]
    assert encode_layer("t", geoms, [{}, {}]) == reference(geoms, [{}, {}])


def test_an_int_and_a_float_of_equal_value_stay_apart() -> None:
    decoded = mapbox_vector_tile.decode(encode_layer("t", [shapely.Point(1, 1)] * 2, [{"v": 1}, {"v": 1.0}]))
    values = [f["properties"]["v"] for f in decoded["t"]["features"]]
    assert values == [1, 1.0] and [type(v) for v in values] == [int, float]


def test_unsupported_values_are_left_out() -> None:
    decoded = mapbox_vector_tile.decode(encode_layer("t", [shapely.Point(1, 1)], [{"a": [1], "b": None, "c": "ok"}]))
    assert decoded["t"]["features"][0]["properties"] == {"c": "ok"}


def test_an_attribute_table_row_selection() -> None:
    """A per-revision table of every feature, a tile of some of them: only the keys and values they use."""
    every = [{"name": f"n{i}", "kind": "a" if i % 2 else "b", "n": i} for i in range(6)]
    table = attribute_table(every)
    rows = [4, 1]
    tile = encode_layer("t", [shapely.Point(i, i) for i in rows], table, rows=rows)
    alone = encode_layer("t", [shapely.Point(i, i) for i in rows], [every[i] for i in rows])
    assert len(tile) == len(alone)  # the same keys and values, maybe numbered in another order
    decoded = mapbox_vector_tile.decode(tile)["t"]
    assert [f["properties"] for f in decoded["features"]] == [every[4], every[1]]


@pytest.mark.parametrize(("n", "expected"), [(0, b"\x00"), (1, b"\x01"), (127, b"\x7f"), (128, b"\x80\x01"),
                                             (300, b"\xac\x02"), (2**31, b"\x80\x80\x80\x80\x08"),
                                             (-1, b"\xff" * 9 + b"\x01")])
def test_varint(n: int, expected: bytes) -> None:
    assert varint(n) == expected
    if n >= 0:
        buf, sizes = varints(np.array([n, 5, n]))
        assert buf == expected + b"\x05" + expected and sizes.tolist() == [len(expected), 1, len(expected)]


@pytest.mark.parametrize("values", [[], [0], [5, 127, 0], [127, 128], [1, 2**14, 2**21 - 1, 3], [2**35 + 7, 0, 300]],
                         ids=["empty", "zero", "one byte", "one and two", "up to three", "six bytes"])
def test_varints_as_the_scalar_writer(values: list[int]) -> None:
    buf, sizes = varints(np.array(values, dtype=np.uint64))  # one width for all, or as wide as the largest
    assert buf == b"".join(varint(v) for v in values)
    assert sizes.tolist() == [len(varint(v)) for v in values]


@pytest.mark.parametrize(("n", "z"), [(0, 0), (-1, 1), (1, 2), (-2, 3), (2047, 4094), (-2048, 4095)])
def test_zigzag(n: int, z: int) -> None:
    assert zigzag(np.array([n])).tolist() == [z]


@pytest.mark.parametrize("geom", [HOLE, shapely.orient_polygons(HOLE, exterior_cw=True),
                                  shapely.MultiPolygon([HOLE, shapely.box(20, 20, 30, 30)])],
                         ids=["exterior cw, hole ccw (math terms)", "reversed", "multipolygon"])
def test_orient_writes_the_spec_winding(geom) -> None:  # noqa: ANN001
    """MVT 4.3.4.4: with y down, an exterior ring has positive area (clockwise on screen), a hole negative."""
    ours = encode_layer("t", [geom], [{}], orient=True)
    assert ours == reference([shapely.orient_polygons(geom, exterior_cw=False)], [{}])
    decoded = shapely.geometry.shape(mapbox_vector_tile.decode(ours, default_options={"y_coord_down": True})
                                     ["t"]["features"][0]["geometry"])
    assert shapely.equals(decoded, geom)
