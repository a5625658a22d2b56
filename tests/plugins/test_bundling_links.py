"""Bundling links are drawable lines: none of zero length (an orphan inside its host gets a line into the host)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from plugins.bundling.layers import MIN_LINK_DEG, _drawable, links_frame

HOSTS = gpd.GeoDataFrame({"host_compound_id": ["h1", "h2"]},
                         geometry=[shapely.box(109.0, 40.0, 109.01, 40.01), shapely.box(109.1, 40.1, 109.1, 40.1)],
                         crs=4326)


def test_drawable_redraws_zero_length_links_and_keeps_the_others() -> None:
    inside = shapely.Point(109.002, 40.002)
    lines = np.array([
        shapely.LineString([(108.99, 40.005), (109.0, 40.005)]),  # a real link: kept as is
        shapely.LineString([inside, inside]),  # orphan point inside its host: zero length
        shapely.LineString([(109.1, 40.1), (109.1, 40.1)]),  # host degenerate too: cannot be drawn
    ], dtype=object)
    out = _drawable(lines, pd.Series(["h1", "h1", "h2"], index=["a", "b", "c"]), HOSTS)
    assert list(out.index) == ["a", "b", "c"]
    assert out.iloc[0].equals(lines[0])
    redrawn = out.iloc[1]
    assert redrawn.length >= MIN_LINK_DEG and shapely.Point(redrawn.coords[0]).equals(inside)
    assert HOSTS.geometry.iloc[0].contains(shapely.Point(redrawn.coords[-1]))
    assert out.iloc[2] is None


def test_demo_links_have_no_degenerate_line(demo_ctx) -> None:  # noqa: ANN001
    links = links_frame(demo_ctx)
    geoms = links.geometry.to_numpy()
    present = geoms[~shapely.is_missing(geoms)]
    assert len(present) == len(links) > 0
    assert (shapely.length(present) >= MIN_LINK_DEG).all() and shapely.is_valid(present).all()


def test_a_plan_pickles_with_its_link_lines() -> None:
    """The server's worker process sends plans pickled: the lines (drawn on demand by a closure) travel drawn."""
    import pickle

    from plugins.bundling.rules import LINK_COLUMNS, Plan

    lines = gpd.GeoDataFrame(pd.DataFrame([["p1", "compound", "o1", "h1", 12.5]], columns=LINK_COLUMNS),
                             geometry=[shapely.LineString([(109.0, 40.0), (109.001, 40.001)])], crs=4326)
    empty = gpd.GeoDataFrame(geometry=[], crs=4326)
    plan = Plan(proposals=pd.DataFrame({"id": ["p1"]}), new_bundles=empty, unmatched=pd.DataFrame(), orphans=empty,
                hosts=empty, _links=lambda: lines)
    back = pickle.loads(pickle.dumps(plan))
    assert list(back.proposals["id"]) == ["p1"]
    pd.testing.assert_frame_equal(pd.DataFrame(back.links().drop(columns="geometry")),
                                  pd.DataFrame(lines.drop(columns="geometry")))
    assert back.links().geometry.iloc[0].equals(lines.geometry.iloc[0])
    assert pickle.loads(pickle.dumps(back)).links().geometry.iloc[0].equals(lines.geometry.iloc[0])
