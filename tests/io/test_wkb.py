"""The importer's geometry encodings: WKB for SpatiaLite, hex EWKB (SRID in the header) for PostGIS COPY."""

from __future__ import annotations

import numpy as np
import shapely

from geoplatform.io.writer import wkb as _wkb

GEOMS = [shapely.Point(109.8, 40.6), None, shapely.MultiPolygon([shapely.box(109.8, 40.6, 109.81, 40.61)]),
         shapely.MultiLineString([[(109.8, 40.6), (109.9, 40.7)]]), shapely.Point(109.7, 40.5)]


def test_plain_wkb_round_trips_and_keeps_nulls() -> None:
    out = _wkb(GEOMS)
    assert out[1] is None
    back = shapely.from_wkb(np.array(out, dtype=object))
    assert all(shapely.equals_exact(a, b) for a, b in zip(GEOMS, back, strict=True) if a is not None)


def test_hex_ewkb_equals_geos_ewkb_with_the_srid() -> None:
    ours = _wkb(GEOMS, srid=4326)
    ref = shapely.to_wkb(shapely.set_srid(np.array(GEOMS, dtype=object), 4326), hex=True, include_srid=True)
    assert ours[1] is None
    assert [o for o in ours if o] == [r.lower() for r in ref if r]
    assert {shapely.get_srid(shapely.from_wkb(o)) for o in ours if o} == {4326}
