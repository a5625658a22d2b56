"""Streets: a street/town reference (NBS code or any name variant) → its code, and a geometry → its street.

The one street resolver (`resolve_street`) and the one "which street is this geometry in" rule
(`street_codes_at`, with `inside_district` for "is it in the district at all"): the importer, the
API and the forms all use these, so a place gets the same street everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from geoplatform.errors import NotFound, UserInputError
from geoplatform.i18n import add_messages
from geoplatform.models import District, Street
from geoplatform.reference import DISTRICT_OUTLINE, street_key

NEAR_DEGREES = 0.05  # [D] how far (≈ 4–5 km) outside the district outline a feature may lie

add_messages({
    "zh": {"street.unknown": "未知街镇“{value}”（请填写9位统计用区划代码或街镇名称）",
           "street.no_polygons": "数据库中没有街镇边界，无法按位置确定所属街镇：请先导入街镇边界（import streets）"},
    "en": {"street.unknown": "unknown street {value!r} (give the NBS 9-digit code or the name)",
           "street.no_polygons": "no street boundaries are stored, so no street can be found by location: "
                                 "import the streets first (import streets)"},
})


class NoStreetPolygons(UserInputError):
    """No street has a boundary yet: nothing can be placed in a street by its location."""

    def __init__(self) -> None:
        super().__init__("street.no_polygons")


def street_lookup(session: Session) -> dict[str, str]:
    """Map every known key (code, name, aliases, name core) to the street code."""
    out: dict[str, str] = {}
    for code, name, aliases in session.execute(select(Street.code, Street.name, Street.aliases)):
        for key in [code, name, *(aliases or [])]:
            out[str(key).strip()] = code
            out[street_key(key)] = code
    return out


def match_street(session: Session, value: object, lookup: dict[str, str] | None = None) -> str | None:
    """The street code for a code (9 or 12 digits) or name variant, or None."""
    if value is None:
        return None
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    lookup = lookup if lookup is not None else street_lookup(session)
    if text.isdigit() and len(text) == 12 and text.endswith("000"):
        text = text[:9]
    return lookup.get(text) or lookup.get(street_key(text))


def resolve_street(session: Session, value: object) -> str:
    """The street code for a code or name variant; `NotFound` (the same clear error everywhere) when unknown.

    The one street resolver: the CLI (`--street`), every HTTP parameter and every form use it, so an
    unknown street is exit 2 / HTTP 404 with the same message, never silently ignored.
    """
    code = match_street(session, value)
    if code is None:
        raise NotFound("street.unknown", value=str(value))
    return code


# ---------------------------------------------------------------- geometry → street (the one rule)

def representative_points(geoms: Sequence[shapely.Geometry | None]) -> np.ndarray:
    """The point that places each geometry: a point itself, any other shape a point on its surface (None stays)."""
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    live = ~shapely.is_missing(arr)
    not_point = live.copy()
    if live.any():
        not_point[live] = shapely.get_type_id(arr[live]) != 0  # 0: Point
    if not_point.any():
        arr[not_point] = shapely.point_on_surface(arr[not_point])
    return arr


def street_codes_at(session: Session, geoms: Sequence[shapely.Geometry | None]) -> list[str | None]:
    """The code of the street each geometry (EPSG:4326) lies in, or None where no street boundary holds it.

    The rule: the geometry's representative point (`representative_points`) lies within the street's
    boundary; a point inside two boundaries takes the first the spatial index answers. One bulk STRtree
    query for all geometries. Raises `NoStreetPolygons` when no street has a boundary at all.
    """
    from geoplatform.store import read_frame

    streets = read_frame(session, "street", columns=["code", "geom"])
    streets = streets[streets.geometry.notna()]
    if streets.empty:
        raise NoStreetPolygons()
    points = representative_points(geoms)
    out: list[str | None] = [None] * len(points)
    idx = np.flatnonzero(~shapely.is_missing(points))
    if not len(idx):
        return out
    q = shapely.STRtree(streets.geometry.values).query(points[idx].astype(object), predicate="within")
    codes = streets["code"]
    for a, b in zip(q[0], q[1], strict=True):
        i = int(idx[a])
        if out[i] is None:
            out[i] = str(codes.iloc[int(b)])
    return out


def district_outline(session: Session | None) -> shapely.Geometry:
    """The stored district boundary (EPSG:4326), else the built-in outline of 昆都仑区 (also without a session)."""
    row = session.execute(select(District.geom.ST_AsBinary())).first() if session is not None else None
    if row and row[0] is not None:
        return shapely.from_wkb(bytes(row[0]))
    return shapely.Polygon(DISTRICT_OUTLINE)


def inside_district(geoms: Sequence[shapely.Geometry | None] | np.ndarray, outline: shapely.Geometry,
                    margin_deg: float = NEAR_DEGREES) -> np.ndarray:
    """True where a geometry touches the district `outline` grown by `margin_deg` (a missing geometry counts as
    inside: it has no place to check). Anything farther is a mistake: a wrong CRS, swapped axes, another city."""
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    live = ~shapely.is_missing(arr)
    inside = np.ones(len(arr), dtype=bool)
    if live.any():
        near = outline.buffer(margin_deg)
        shapely.prepare(near)
        inside[live] = shapely.intersects(near, arr[live])
    return inside


def km_from_district(geoms: Sequence[shapely.Geometry] | np.ndarray, outline: shapely.Geometry) -> np.ndarray:
    """Approximate distance in km from the district outline (degrees × 111 × cos 40.7°), for messages."""
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    return shapely.distance(outline, arr) * 111 * 0.76
