"""Streets: matching references (NBS code or any name variant) to street codes, and the one geometry → street
rule (a feature must lie in the district, and belongs to the street whose polygon holds its anchor point)
shared by the importer and every edit (API PATCH, workspace forms)."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from geoplatform.i18n import add_messages
from geoplatform.models import Street
from geoplatform.reference import street_key

add_messages({
    "zh": {"street.unknown": "未知街镇“{value}”（请填写9位统计用区划代码或街镇名称）"},
    "en": {"street.unknown": "unknown street {value!r} (give the NBS 9-digit code or the name)"},
})

NEAR_DEGREES = 0.05  # [D] how far (≈ 4–5 km) outside the district outline a feature may lie


def district_outline(session: Session) -> shapely.Geometry:
    """The stored district outline (the reference outline when none is stored)."""
    from geoplatform.models import District
    from geoplatform.reference import DISTRICT_OUTLINE

    row = session.execute(select(District.geom.ST_AsBinary())).first()
    if row and row[0] is not None:
        return shapely.from_wkb(bytes(row[0]))
    return shapely.Polygon(DISTRICT_OUTLINE)


def outside_district(session: Session, geoms: Any) -> tuple[np.ndarray, np.ndarray]:
    """(outside, km): which geometries lie beyond NEAR_DEGREES of the district outline, and how far (km) each is."""
    geoms = np.asarray(geoms, dtype=object)
    district = district_outline(session)
    near = district.buffer(NEAR_DEGREES)
    shapely.prepare(near)
    outside = ~shapely.intersects(near, geoms) if len(geoms) else np.zeros(0, dtype=bool)
    km = np.zeros(len(geoms))
    if outside.any():
        km[outside] = shapely.distance(district, geoms[outside]) * 111 * 0.76
    return outside, km


def anchor_points(boundaries: Any, locations: Any) -> np.ndarray:
    """The point that places each compound: its location, else a point on its boundary's surface."""
    boundaries = np.asarray(boundaries, dtype=object)
    points = np.asarray(locations, dtype=object).copy()
    need = np.array([p is None and b is not None for b, p in zip(boundaries, points, strict=True)], dtype=bool)
    if need.any():
        points[need] = shapely.point_on_surface(boundaries[need])
    return points


def streets_at(session: Session, points: Any) -> list[str | None]:
    """The street whose polygon holds each point (None when in none), vectorised over an STRtree."""
    from geoplatform.store import read_frame

    points = np.asarray(points, dtype=object)
    streets = read_frame(session, "street", columns=["code", "geom"])
    streets = streets[streets.geometry.notna()]
    out: list[str | None] = [None] * len(points)
    if streets.empty or not len(points):
        return out
    tree = shapely.STRtree(streets.geometry.values)
    q = tree.query(points, predicate="within")
    for a, b in zip(q[0], q[1], strict=True):
        if out[int(a)] is None:
            out[int(a)] = str(streets["code"].iloc[int(b)])
    return out


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
    from geoplatform.errors import NotFound

    code = match_street(session, value)
    if code is None:
        raise NotFound("street.unknown", value=str(value))
    return code
