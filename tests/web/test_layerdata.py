"""Pure helpers of the layer answers: dot-map thinning and the bbox a request depends on (no database)."""

from __future__ import annotations

import json

import pytest

from layers.spec import LayerSpec
from web.layerdata import effective_bbox, is_dot_map, thin_dots


def _dots(coords: list[list[float]], count: int) -> str:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "_class_0", "geometry": {"type": "MultiPoint", "coordinates": coords},
         "properties": {"_aggregate": True, "_count": count, "_color": "#ff0000"}}]})


@pytest.mark.parametrize(("coords", "zoom", "expected"), [
    ([[109.80000, 40.60000], [109.80001, 40.60001]], 10, 1),  # same 4-pixel cell → one dot
    ([[109.80000, 40.60000], [109.90000, 40.70000]], 10, 2),  # far apart → both
    ([[109.80000, 40.60000], [109.80100, 40.60000]], 18, 2),  # close, but apart at high zoom
])
def test_thin_dots_merges_points_per_pixel_cell(coords: list, zoom: int, expected: int) -> None:
    out = json.loads(thin_dots(_dots(coords, len(coords)), zoom))
    feature = out["features"][0]
    assert len(feature["geometry"]["coordinates"]) == expected
    assert feature["properties"]["_count"] == len(coords)  # the true count is kept


def test_thin_dots_is_bounded_by_the_grid_not_the_data() -> None:
    import numpy as np

    rng = np.random.default_rng(1)
    small = rng.uniform([109.80, 40.60], [109.85, 40.65], size=(1_000, 2)).tolist()
    large = rng.uniform([109.80, 40.60], [109.85, 40.65], size=(10_000, 2)).tolist()
    n_small = len(json.loads(thin_dots(_dots(small, 1000), 11))["features"][0]["geometry"]["coordinates"])
    n_large = len(json.loads(thin_dots(_dots(large, 10000), 11))["features"][0]["geometry"]["coordinates"])
    assert n_large <= 1.5 * n_small


def test_dot_maps_ignore_the_viewport() -> None:
    spec = LayerSpec("c", "小区", "compounds", "compounds", detail_zoom=13)
    bbox = (109.8, 40.6, 109.9, 40.7)
    assert is_dot_map(spec, 12) and effective_bbox(spec, bbox, 12) is None
    assert not is_dot_map(spec, 13) and effective_bbox(spec, bbox, 13) == bbox
    assert effective_bbox(LayerSpec("b", "楼栋", "b", "buildings"), bbox, 5) == bbox
