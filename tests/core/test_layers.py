"""The layer engine on both databases: bbox in SQL, boundary fallback, attributes cache, GeoJSON, folium."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geoplatform.hookspecs import hookimpl
from layers import LayerSpec, Legend, PopupField, StyleRule
from layers.features import layer_features, parse_bbox
from layers.geojson import coordinate_decimals, pixel_size_deg, property_names, to_geojson, to_geojson_text
from layers.style import legend_columns
from tests.core import layer_fixtures as lf

MODES = Legend("management_mode", rules=(
    StyleRule("#2e7d32", "专业化物业", "professional", value="professional"),
    StyleRule("#1565c0", "国企兜底", "state-owned", value="state_owned"),
), default_color="#9e9e9e")
SPEC = LayerSpec(id="t_compounds", title_zh="测试小区", title_en="test compounds", source="compounds",
                 legend=MODES, popup=(PopupField("name", "名称", "name"), PopupField("households", "户数", "households")),
                 tooltip=(PopupField("name", "名称", "name"),))


class CountingPlugin:
    """Adds `t_double` = 2 × households and counts its calls."""

    calls = 0

    @hookimpl
    def compute_compound_attributes(self, compounds):  # noqa: ANN001, ANN201
        CountingPlugin.calls += 1
        return pd.DataFrame({"t_double": compounds["households"] * 2}, index=compounds.index)


@pytest.fixture
def loaded(ctx):  # noqa: ANN001, ANN201
    lf.load(ctx)
    return ctx


def test_bbox_filters_in_sql_and_falls_back_to_location(loaded) -> None:
    west = layer_features(loaded, SPEC, bbox=(109.70, 40.60, 109.76, 40.66))
    assert sorted(west.index) == ["c1", "c2"]
    corner = layer_features(loaded, SPEC, bbox=(109.789, 40.689, 109.80, 40.70))
    assert list(corner.index) == ["c3"]
    assert bool(corner.loc["c3", "boundary_missing"]) is True
    assert corner.geometry.iloc[0].geom_type == "Point"
    assert not west["boundary_missing"].any()
    assert len(layer_features(loaded, SPEC)) == 5
    assert len(layer_features(loaded, SPEC, bbox=(0, 0, 1, 1))) == 0


def test_street_filter_and_min_zoom_and_where(loaded) -> None:
    assert sorted(layer_features(loaded, SPEC, street="150203002").index) == ["c4", "c5"]
    high = LayerSpec(id="hi", title_zh="x", title_en="x", source="compounds", min_zoom=14)
    assert len(layer_features(loaded, high, zoom=12)) == 0
    assert len(layer_features(loaded, high, zoom=15)) == 5
    big = LayerSpec(id="big", title_zh="x", title_en="x", source="compounds",
                    where=lambda f: f["households"] >= 300)
    assert sorted(layer_features(loaded, big).index) == ["c2", "c3"]


def test_legend_colour_and_label(loaded) -> None:
    f = layer_features(loaded, SPEC)
    assert f.loc["c1", "_color"] == "#2e7d32" and f.loc["c1", "_label"] == "专业化物业"
    assert f.loc["c2", "_color"] == "#1565c0"
    assert f.loc["c4", "_color"] == "#9e9e9e" and f.loc["c4", "_label"] == ""
    assert layer_features(loaded, SPEC, lang="en").loc["c2", "_label"] == "state-owned"


def test_graduated_legend() -> None:
    legend = Legend("v", kind="graduated", rules=(StyleRule("#a", "低", "low", min=0, max=0.5),
                                                  StyleRule("#b", "高", "high", min=0.5, max=None)))
    frame = pd.DataFrame({"v": [0.0, 0.49, 0.5, 1.0, None, -1]})
    colors, _ = legend_columns(frame, legend)
    assert colors.tolist() == ["#a", "#a", "#b", "#b", legend.default_color, legend.default_color]


@pytest.mark.parametrize("source,expected", [("streets", 2), ("buildings", 0), ("garages", 0),
                                              ("district", 0), ("barriers", 0)])
def test_other_sources(loaded, source: str, expected: int) -> None:
    spec = LayerSpec(id=source, title_zh="x", title_en="x", source=source)
    assert len(layer_features(loaded, spec, bbox=(109.6, 40.5, 110.0, 40.8))) == expected
    assert len(layer_features(loaded, spec, bbox=(100, 30, 100.1, 30.1))) == 0


def test_custom_loader(loaded) -> None:
    def loader(context, bbox, street):  # noqa: ANN001, ANN202
        return gpd.GeoDataFrame({"k": [1]}, geometry=[shapely.Point(109.7, 40.6)], crs=4326, index=["p"])

    spec = LayerSpec(id="c", title_zh="x", title_en="x", source="custom", loader=loader)
    assert list(layer_features(loaded, spec).index) == ["p"]
    with pytest.raises(ValueError):
        layer_features(loaded, LayerSpec(id="c", title_zh="x", title_en="x", source="custom"))


def test_attributes_joined_and_cached_until_data_changes(loaded) -> None:
    from geoplatform.models import Compound

    loaded.pm.register(CountingPlugin(), name="counting_test")
    CountingPlugin.calls = 0
    f = layer_features(loaded, SPEC, bbox=(109.70, 40.60, 109.76, 40.66))
    assert f.loc["c2", "t_double"] == 600
    layer_features(loaded, SPEC, bbox=(109.80, 40.60, 109.90, 40.70))
    assert CountingPlugin.calls == 1  # second bbox reused the district-wide computation
    with loaded.session() as s:
        s.get(Compound, "c2").households = 10
    f = layer_features(loaded, SPEC, bbox=(109.70, 40.60, 109.76, 40.66))
    assert CountingPlugin.calls == 2 and f.loc["c2", "t_double"] == 20
    loaded.invalidate()
    layer_features(loaded, SPEC)
    assert CountingPlugin.calls == 3


def test_compound_attributes_for_an_explicit_frame(loaded) -> None:
    loaded.pm.register(CountingPlugin(), name="counting_test")
    frame = pd.DataFrame({"households": [1, 2]}, index=["x", "y"])
    assert loaded.compound_attributes(frame)["t_double"].tolist() == [2, 4]


def test_spatialite_query_uses_the_rtree_and_postgis_the_gist_operator(loaded) -> None:
    from sqlalchemy import event

    seen: list[str] = []
    event.listen(loaded.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    layer_features(loaded, SPEC, bbox=(109.70, 40.60, 109.76, 40.66))
    sql = " ".join(seen)
    assert ("idx_compound_boundary" in sql) if loaded.engine.dialect.name == "sqlite" else ("&&" in sql)


# ---- GeoJSON ---------------------------------------------------------------------------------------

def test_geojson_properties_precision_and_ids(loaded) -> None:
    f = layer_features(loaded, SPEC)
    data = to_geojson(f, SPEC, zoom=None)
    assert len(data["features"]) == 5
    feat = next(x for x in data["features"] if x["id"] == "c2")
    assert set(feat["properties"]) == {"name", "households", "management_mode", "_color", "_label",
                                       "boundary_missing"}
    coords = json.dumps(feat["geometry"]["coordinates"])
    assert all(len(part.split(".")[1]) <= 6 for part in coords.replace("[", "").replace("]", "").split(",")
               if "." in part)
    assert "street_code" not in feat["properties"]  # only popup/tooltip/legend attributes


@pytest.mark.parametrize("zoom,decimals", [(None, 6), (18, 6), (14, 5), (11, 4), (5, 2)])
def test_coordinate_decimals(zoom: float | None, decimals: int) -> None:
    assert coordinate_decimals(zoom) == decimals
    if zoom is not None:
        assert 10 ** -decimals <= pixel_size_deg(zoom) / 2  # half a pixel or better


def test_simplification_follows_zoom() -> None:
    ring = [(109.7 + 0.01 * shapely.Point(0, 0).x + 0.01 * i / 200, 40.6 + 0.0001 * ((-1) ** i)) for i in range(200)]
    poly = shapely.Polygon([*ring, (109.71, 40.65), (109.7, 40.65)])
    frame = gpd.GeoDataFrame({"_color": ["#000"], "_label": [""]}, geometry=[poly], crs=4326, index=["p"])
    spec = LayerSpec(id="s", title_zh="x", title_en="x", source="custom")
    n = {z: len(to_geojson(frame, spec, z)["features"][0]["geometry"]["coordinates"][0]) for z in (None, 18, 12)}
    assert n[None] == 203 and n[12] < 10 < n[18]


def test_dot_map_below_detail_zoom(loaded) -> None:
    spec = LayerSpec(**{**SPEC.__dict__, "detail_zoom": 13})
    f = layer_features(loaded, spec)
    low = to_geojson(f, spec, zoom=11)
    assert {x["properties"]["_label"]: x["properties"]["_count"] for x in low["features"]} == \
        {"专业化物业": 1, "国企兜底": 1, "": 3}
    assert all(x["geometry"]["type"] == "MultiPoint" and x["properties"]["_aggregate"] for x in low["features"])
    assert len(to_geojson(f, spec, zoom=13)["features"]) == 5
    assert len(to_geojson_text(f, spec, 11)) < 0.5 * len(to_geojson_text(f, spec, None))


def test_empty_collection(loaded) -> None:
    f = layer_features(loaded, SPEC, bbox=(0, 0, 1, 1))
    assert to_geojson(f, SPEC, 12) == {"type": "FeatureCollection", "features": []}


def test_property_names_without_legend() -> None:
    spec = LayerSpec(id="x", title_zh="x", title_en="x", source="streets", popup=(PopupField("name", "名", "n"),))
    assert property_names(spec)[0] == "name"


@pytest.mark.parametrize("value,ok", [("1,2,3,4", (1, 2, 3, 4)), ("", None), (None, None), ("1,2,3", ValueError),
                                      ("3,2,1,4", ValueError), ("a,b,c,d", ValueError), ([1, 2, 3, 4], (1, 2, 3, 4))])
def test_parse_bbox(value, ok) -> None:  # noqa: ANN001
    if ok is ValueError:
        with pytest.raises(ValueError):
            parse_bbox(value)
    else:
        assert parse_bbox(value) == ok


# ---- what the map page receives ------------------------------------------------------------------------

def test_geojson_carries_user_text_as_data_never_as_markup(loaded) -> None:
    """The map page (web/static/map.js) inserts values as DOM text; the API sends them as plain JSON strings,
    with no pre-rendered HTML property (browser check: tests/core/test_layers_browser.py)."""
    doc = to_geojson(layer_features(loaded, SPEC), SPEC)
    c1 = next(f for f in doc["features"] if f["id"] == "c1")
    assert c1["properties"]["name"] == "<script>alert('x')</script>花园"
    assert not any(k.startswith("_") and k not in ("_color", "_label") for f in doc["features"] for k in f["properties"])


@pytest.mark.parametrize("zoom", [None, 12, 16])
def test_fast_layer_geojson_matches_the_frame_path(loaded, zoom) -> None:  # noqa: ANN001
    from layers.geojson import layer_geojson

    loaded.pm.register(CountingPlugin(), name="counting_test")
    spec = LayerSpec(**{**SPEC.__dict__, "popup": (*SPEC.popup, PopupField("t_double", "两倍", "double"))})
    bbox = (109.70, 40.60, 109.855, 40.70)
    fast = json.loads(layer_geojson(loaded, spec, bbox=bbox, zoom=zoom))
    slow = to_geojson(layer_features(loaded, spec, bbox=bbox, zoom=zoom), spec, zoom)
    assert [f["id"] for f in fast["features"]] == [f["id"] for f in slow["features"]] == ["c1", "c2", "c3", "c4"]
    for a, b in zip(fast["features"], slow["features"], strict=True):
        assert a["properties"] == b["properties"]
        ga, gb = shapely.geometry.shape(a["geometry"]), shapely.geometry.shape(b["geometry"])
        assert ga.geom_type.replace("Multi", "") == gb.geom_type.replace("Multi", "")
        assert ga.equals_exact(gb, 1e-6) or shapely.normalize(ga).buffer(0).symmetric_difference(gb).area < 1e-9
    assert fast["features"][1]["properties"]["t_double"] == 600


def test_fast_path_min_zoom_and_empty(loaded) -> None:
    from layers.geojson import layer_geojson

    spec = LayerSpec(**{**SPEC.__dict__, "min_zoom": 14})
    assert json.loads(layer_geojson(loaded, spec, zoom=12))["features"] == []
    assert json.loads(layer_geojson(loaded, SPEC, bbox=(0, 0, 1, 1), zoom=15))["features"] == []


def test_another_process_write_is_seen_after_the_revision_ttl(loaded, db_url) -> None:
    from geoplatform.context import Context
    from geoplatform.models import Compound

    loaded.pm.register(CountingPlugin(), name="counting_test")
    loaded.revision_ttl = 0
    assert loaded.compound_attributes().loc["c1", "t_double"] == 200
    other = Context.create(db_url)
    with other.session() as s:
        s.get(Compound, "c1").households = 7
    assert loaded.compound_attributes().loc["c1", "t_double"] == 14
    other.engine.dispose()


@pytest.mark.parametrize("legend,values", [
    (MODES, ["professional", "state_owned", "none", None, float("nan"), 3]),
    (Legend("v", rules=(StyleRule("#n", "空", "none", value=None), StyleRule("#t", "是", "yes", value=True))),
     [None, True, False, float("nan")]),
    (Legend("v", kind="graduated", rules=(StyleRule("#a", "低", "low", min=None, max=0.5),
                                          StyleRule("#b", "高", "high", min=0.5))), [0.1, 0.5, None, "x", 2, float("nan")]),
])
def test_fast_legend_lists_match_the_frame_version(legend: Legend, values: list) -> None:
    from layers.style import legend_lists

    colors, labels = legend_columns(pd.DataFrame({legend.attribute: pd.Series(values, dtype=object)}), legend)
    assert legend_lists(values, legend) == (colors.tolist(), labels.tolist())


def test_property_names_are_unique_when_a_popup_shows_a_flag(loaded) -> None:
    spec = LayerSpec(**{**SPEC.__dict__, "popup": (PopupField("boundary_missing", "缺边界", "no boundary"),),
                        "detail_zoom": 13})
    assert property_names(spec).count("boundary_missing") == 1
    f = layer_features(loaded, spec)
    assert len(to_geojson(f, spec, 15)["features"]) == 5 and len(to_geojson(f, spec, 11)["features"]) == 3
