"""Geometry parsing and checks for imports: strict GeoJSON geometry (rings never closed for you), vectorised checks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from shapely.geometry import (
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
)

from geoplatform.i18n import Message, MessageError
from geoplatform.io import messages  # noqa: F401 - registers the texts

GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                  "GeometryCollection")


class GeometryProblem(MessageError):
    """A geometry that cannot be built; `message` names what is wrong (and where, when known)."""


def _type(name: str) -> Message:
    return Message("import.geom.type", geom_type=name)


def _positions(coords: Any, what: Message, min_len: int) -> tuple[np.ndarray, bool]:
    if not isinstance(coords, list) or not all(isinstance(p, list) for p in coords):
        raise GeometryProblem("import.geom.not_positions", what=what)
    if len(coords) < min_len:
        raise GeometryProblem("import.geom.too_few", what=what, min=min_len, n=len(coords))
    dims = {len(p) for p in coords}
    if not dims or min(dims) < 2 or max(dims) > 4:
        raise GeometryProblem("import.geom.dims", what=what)
    try:
        arr = np.array([p[:2] for p in coords], dtype=float)
    except (TypeError, ValueError) as exc:
        raise GeometryProblem("import.geom.not_numbers", what=what) from exc
    if not np.isfinite(arr).all():
        bad = int(np.argmax(~np.isfinite(arr).all(axis=1)))
        raise GeometryProblem("import.geom.position_nonfinite", what=what, n=bad + 1)
    return arr, max(dims) > 2


def _ring(coords: Any, what: Message) -> tuple[np.ndarray, bool]:
    arr, z = _positions(coords, what, 4)
    if not (arr[0] == arr[-1]).all():
        raise GeometryProblem("import.geom.ring_open", what=what, first=tuple(arr[0].tolist()),
                              last=tuple(arr[-1].tolist()))
    return arr, z


def _polygon(coords: Any, what: Message) -> tuple[Polygon, bool]:
    if not isinstance(coords, list) or not coords:
        raise GeometryProblem("import.geom.no_ring", what=what)
    rings = [_ring(r, Message("import.geom.ring", what=what, n=i + 1)) for i, r in enumerate(coords)]
    return Polygon(rings[0][0], [r for r, _ in rings[1:]]), any(z for _, z in rings)


def geometry_from_geojson(obj: Any, depth: int = 0) -> tuple[shapely.Geometry | None, bool]:
    """A GeoJSON geometry object → (shapely geometry in 2D, had Z/M); None for null. Raises GeometryProblem."""
    if obj is None:
        return None, False
    if not isinstance(obj, dict) or "type" not in obj:
        raise GeometryProblem("import.geom.not_object")
    kind = obj["type"]
    if kind not in GEOMETRY_TYPES:
        raise GeometryProblem("import.geom.unknown_type", geom_type=kind)
    if kind == "GeometryCollection":
        if depth > 2:
            raise GeometryProblem("import.geom.too_deep")
        parts = [geometry_from_geojson(g, depth + 1) for g in obj.get("geometries") or []]
        return shapely.GeometryCollection([g for g, _ in parts if g is not None]), any(z for _, z in parts)
    coords = obj.get("coordinates")
    if coords is None:
        raise GeometryProblem("import.geom.no_coordinates", geom_type=kind)
    if kind == "Point":
        if not isinstance(coords, list):
            raise GeometryProblem("import.geom.point_coordinates")
        if not coords:
            return Point(), False
        arr, z = _positions([coords], _type("Point"), 1)
        return Point(arr[0]), z
    if not isinstance(coords, list):
        raise GeometryProblem("import.geom.coordinates_not_list", geom_type=kind)
    if not coords:
        return shapely.from_wkt(f"{kind.upper()} EMPTY"), False
    if kind == "MultiPoint":
        arr, z = _positions(coords, _type("MultiPoint"), 1)
        return MultiPoint(arr), z
    if kind == "LineString":
        arr, z = _positions(coords, _type("LineString"), 2)
        return LineString(arr), z
    if kind == "MultiLineString":
        parts = [_positions(c, Message("import.geom.part", what=_type("MultiLineString"), n=i + 1), 2)
                 for i, c in enumerate(coords)]
        return MultiLineString([p for p, _ in parts]), any(z for _, z in parts)
    if kind == "Polygon":
        return _polygon(coords, _type("Polygon"))
    parts = [_polygon(c, Message("import.geom.part", what=_type("MultiPolygon"), n=i + 1)) for i, c in enumerate(coords)]
    return MultiPolygon([p for p, _ in parts]), any(z for _, z in parts)


def has_nonfinite(geoms: np.ndarray) -> np.ndarray:
    """Boolean per geometry: any NaN/Inf coordinate (vectorised)."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms), dtype=bool)
    coords, index = shapely.get_coordinates(geoms, include_z=False, return_index=True)
    if len(coords):
        bad = ~np.isfinite(coords).all(axis=1)
        out[np.unique(index[bad])] = True
    return out


def to_multipolygon(geom: shapely.Geometry) -> MultiPolygon:
    """Polygon/MultiPolygon (or the polygon parts of a collection) → MultiPolygon."""
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    polys: list[Polygon] = []
    for g in parts:
        polys.extend(g.geoms if isinstance(g, MultiPolygon) else [g])
    return MultiPolygon(polys)


def to_multipolygons(geoms: np.ndarray) -> np.ndarray:
    """to_multipolygon over an object array, polygons wrapped in one vectorised call (None stays None)."""
    out = np.asarray(geoms, dtype=object).copy()
    type_id = shapely.get_type_id(out)
    single = np.flatnonzero(type_id == 3)  # Polygon
    if len(single):
        out[single] = shapely.multipolygons(out[single], indices=np.arange(len(single)))
    for i in np.flatnonzero((type_id >= 0) & (type_id != 3) & (type_id != 6)):  # collections and the like
        out[i] = to_multipolygon(out[i])
    return out


def to_multilinestring(geom: shapely.Geometry) -> MultiLineString:
    """LineString/MultiLineString → MultiLineString."""
    if isinstance(geom, MultiLineString):
        return geom
    if isinstance(geom, LineString):
        return MultiLineString([geom])
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, LineString)]
    return MultiLineString(parts)


def first_coordinate(geom: shapely.Geometry) -> str:
    """A short 'near (x, y)' text locating a geometry for messages."""
    if geom is None or geom.is_empty:
        return ""
    x, y = shapely.get_coordinates(geom)[0]
    if math.isfinite(x) and math.isfinite(y):
        return f" near ({x:.6f}, {y:.6f})"
    return ""
