"""The one "which street is this geometry in" rule (geoplatform.streets), which the importer applies."""

from __future__ import annotations

import pytest
import shapely
from sqlalchemy import select

from geoplatform import streets
from geoplatform.io.importer import import_file
from geoplatform.models import Street
from geoplatform.reference import DISTRICT_OUTLINE
from geoplatform.store import read_frame
from tests.io.corpus import write_csv

BEIJING = shapely.Point(116.40, 39.90)


@pytest.fixture
def street_polygons(seeded_ctx):  # noqa: ANN001, ANN201
    with seeded_ctx.session(readonly=True) as s:
        frame = read_frame(s, "street", columns=["code", "geom"])
    return frame[frame.geometry.notna()]


def test_points_shapes_and_nothing(seeded_ctx, street_polygons) -> None:  # noqa: ANN001
    inner = [shapely.Point(p.x, p.y) for p in shapely.point_on_surface(street_polygons.geometry.to_numpy())]
    boxes = [shapely.box(p.x - 1e-5, p.y - 1e-5, p.x + 1e-5, p.y + 1e-5) for p in inner]
    with seeded_ctx.session(readonly=True) as s:
        got = streets.street_codes_at(s, [*inner, *boxes, BEIJING, None])
    codes = street_polygons["code"].tolist()
    assert got == [*codes, *codes, None, None]  # a shape is placed by a point on its surface


def test_inside_the_district(seeded_ctx) -> None:  # noqa: ANN001
    with seeded_ctx.session(readonly=True) as s:
        outline = streets.district_outline(s)
    centre = outline.representative_point()
    near = shapely.Point(outline.bounds[2] + streets.NEAR_DEGREES / 2, centre.y)  # just east of the outline
    far = shapely.Point(outline.bounds[2] + streets.NEAR_DEGREES * 2, centre.y)
    assert streets.inside_district([centre, near, far, BEIJING, None], outline).tolist() == [
        True, True, False, False, True]
    assert streets.km_from_district([BEIJING], outline)[0] > 400
    assert streets.district_outline(None).equals(shapely.Polygon(DISTRICT_OUTLINE))


def test_no_street_boundaries_is_a_clear_error(ctx) -> None:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        assert s.execute(select(Street.code).where(Street.geom.is_not(None))).first() is None
        with pytest.raises(streets.NoStreetPolygons, match="import the streets first"):
            streets.street_codes_at(s, [BEIJING])


def test_the_importer_places_compounds_by_this_rule(seeded_ctx, street_polygons, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from geoplatform.io import references

    calls: list[list[str | None]] = []

    def spy(session, geoms):  # noqa: ANN001, ANN202
        calls.append(streets.street_codes_at(session, geoms))
        return calls[-1]

    monkeypatch.setattr(references, "street_codes_at", spy)
    monkeypatch.setattr(seeded_ctx.config, "rules", {"import": {"match_radius_m": 0}})  # identity by name only here
    p = street_polygons.geometry.iloc[0].representative_point()
    path = write_csv(tmp_path / "nostreet.csv", [["小区名称", "经度", "纬度"], ["规则小区", p.x, p.y]])
    report = import_file(seeded_ctx, "compounds", path, crs="wgs84", dry_run=True)
    assert report.ok and calls == [[street_polygons["code"].iloc[0]]]
