"""One compound schema and one geometry → street rule (issue 16): an edit is checked like an import.

The API PATCH (and the street workspace's form, which sends it) uses the importer's field schema
(geoplatform.io.fields SPECS["compounds"]) and its placement rule (geoplatform.streets): what an edit
refuses, an import refuses with the same message, so an edited compound can always be exported and
imported again.
"""

from __future__ import annotations

import json

import pytest
from geoalchemy2.shape import to_shape

from geoplatform import models as m
from tests.support.webdemo import XSS_ID


def _row(ctx, cid: str) -> dict:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        c = s.get(m.Compound, cid)
        return {"version": c.version, "households": c.households, "street": c.street_code,
                "location": to_shape(c.location).wkt if c.location is not None else None}


def _import_problem(ctx, tmp_path, **props) -> dict:  # noqa: ANN001
    """The first problem the importer reports for one compound feature with `props` (dry run)."""
    from geoplatform.io.importer import import_file
    from geoplatform.io.report import ImportFailed

    lon, lat = props.pop("lon", 109.8301), props.pop("lat", 40.6352)
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
               "properties": {"id": "t-schema-1", "name": "模式测试", **props}}
    path = tmp_path / "one.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}, ensure_ascii=False))
    with pytest.raises(ImportFailed) as failed:
        import_file(ctx, "compounds", path, dry_run=True)
    return failed.value.report.as_dict("en")["errors"][0]


@pytest.mark.parametrize(("field", "value", "key"), [
    ("households", 60000, "import.value.above_max"),
    ("fee_collection_rate", 85, "import.value.bare_percent"),
    ("management_mode", "bogus", "import.value.not_in_enum"),
    ("build_year", 1850, "import.value.below_min"),
])
def test_an_edit_refuses_what_an_import_refuses(client, admin, web_ctx, tmp_path, field, value, key) -> None:  # noqa: ANN001
    before = _row(web_ctx, XSS_ID)
    r = client.patch(f"/api/v1/compounds/{XSS_ID}?lang=en", json={"version": before["version"], field: value},
                     headers=admin)
    assert r.status_code == 400 and r.get_json()["field"] == field
    problem = _import_problem(web_ctx, tmp_path, **{field: value})
    assert problem["key"] == key
    assert problem["message"] in r.get_json()["error"]  # the same words, from the same rule
    assert _row(web_ctx, XSS_ID) == before


def test_unknown_and_protected_fields_are_400(client, admin, web_ctx) -> None:  # noqa: ANN001
    v = _row(web_ctx, XSS_ID)["version"]
    r = client.patch(f"/api/v1/compounds/{XSS_ID}", json={"version": v, "colour": "red"}, headers=admin)
    assert r.status_code == 400 and r.get_json()["fields"] == ["colour"]
    r = client.patch(f"/api/v1/compounds/{XSS_ID}", json={"version": v, "street_code": "150203001"}, headers=admin)
    assert r.status_code == 400 and r.get_json()["key"] == "compound.protected_fields"


def test_a_compound_cannot_be_moved_to_beijing(client, admin, web_ctx, tmp_path) -> None:  # noqa: ANN001
    before = _row(web_ctx, XSS_ID)
    beijing = {"type": "Point", "coordinates": [116.397, 39.909]}
    r = client.patch(f"/api/v1/compounds/{XSS_ID}?lang=en", json={"version": before["version"], "location": beijing},
                     headers=admin)
    assert r.status_code == 400 and r.get_json()["field"] == "location"
    assert r.get_json()["key"] == "compound.outside_district" and "km outside" in r.get_json()["error"]
    assert _import_problem(web_ctx, tmp_path, lon=116.397, lat=39.909)["key"] in ("import.area.outside",
                                                                           "import.area.all_outside")
    ring = [[116.39, 39.90], [116.40, 39.90], [116.40, 39.91], [116.39, 39.90]]
    r = client.patch(f"/api/v1/compounds/{XSS_ID}", json={"version": before["version"],
                                                         "boundary": {"type": "Polygon", "coordinates": [ring]}},
                     headers=admin)
    assert r.status_code == 400 and r.get_json()["field"] == "boundary"
    assert _row(web_ctx, XSS_ID) == before


def test_a_point_in_no_street_is_refused_as_by_the_importer(client, admin, web_ctx, tmp_path) -> None:  # noqa: ANN001
    from geoplatform.streets import district_outline

    with web_ctx.session(readonly=True) as s:
        minx, miny, maxx, maxy = district_outline(s).bounds
    lon, lat = maxx + 0.02, (miny + maxy) / 2  # just outside the outline: near enough to import, in no street
    before = _row(web_ctx, XSS_ID)
    r = client.patch(f"/api/v1/compounds/{XSS_ID}", json={"version": before["version"],
                                                         "location": {"type": "Point", "coordinates": [lon, lat]}},
                     headers=admin)
    assert r.status_code == 400 and r.get_json()["key"] == "compound.not_located"
    assert _import_problem(web_ctx, tmp_path, lon=lon, lat=lat)["key"] == "import.street.not_located"
    assert _row(web_ctx, XSS_ID) == before
