"""The own-data basemap: district, street and community outlines with label points, and named barrier lines.

One GeoJSON FeatureCollection for the whole district (its size follows the number of streets,
communities and barrier lines, not of compounds). Every feature has `role` (district, street,
community, barrier) and `name`; areas carry `label` [lon, lat], a point well inside the area (pole
of inaccessibility of its largest part); a community without an outline is labelled at the median
of its compounds' locations. Pure: reads through the session it is given.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import shapely
from shapely.ops import polylabel

from geoplatform.store import read_frame
from plugins.basemaps.settings import BasemapSettings


def _largest(geom: shapely.Geometry) -> shapely.Geometry:
    parts = getattr(geom, "geoms", None)
    return max(parts, key=lambda g: g.area) if parts else geom


def label_point(geom: shapely.Geometry | None) -> list[float] | None:
    """A point well inside an area (its largest part's pole of inaccessibility), as [lon, lat]."""
    if geom is None or geom.is_empty:
        return None
    part = _largest(geom)
    try:
        point = polylabel(part, tolerance=max(part.length / 2000, 1e-6))
    except Exception:  # noqa: BLE001 - degenerate rings: fall back to a point on the surface
        point = part.representative_point()
    return [point.x, point.y]


def _geometry(geom: shapely.Geometry | None, settings: BasemapSettings) -> Any:
    if geom is None or geom.is_empty:
        return None
    simple = shapely.simplify(geom, settings.simplify_deg, preserve_topology=True)
    simple = shapely.set_precision(simple, 10 ** -settings.coordinate_decimals, mode="pointwise")
    return json.loads(shapely.to_geojson(simple))


def _round(point: list[float] | None, decimals: int) -> list[float] | None:
    return None if point is None else [round(point[0], decimals), round(point[1], decimals)]


def outline_features(session: Any, settings: BasemapSettings) -> list[dict[str, Any]]:
    """The basemap's features, drawn in this order: district, streets, communities, barriers."""
    d = settings.coordinate_decimals
    features: list[dict[str, Any]] = []
    district = read_frame(session, "district", columns=["code", "name"])
    for code, name, geom in zip(district["code"], district["name"], district.geometry, strict=True):
        features.append(_feature("district", code, name, _geometry(geom, settings), _round(label_point(geom), d)))
    streets = read_frame(session, "street", columns=["code", "name", "kind"])
    for code, name, kind, geom in zip(streets["code"], streets["name"], streets["kind"], streets.geometry, strict=True):
        features.append(_feature("street", code, name, _geometry(geom, settings), _round(label_point(geom), d),
                                 kind=kind))
    communities = read_frame(session, "community", columns=["code", "name", "street_code"])
    at_compounds = _community_points(session)
    for code, name, street, geom in zip(communities["code"], communities["name"], communities["street_code"],
                                        communities.geometry, strict=True):
        label = label_point(geom) or at_compounds.get(code)
        if label is None:
            continue  # neither an outline nor a compound to place its name by
        features.append(_feature("community", code, name, _geometry(geom, settings), _round(label, d),
                                 street_code=street))
    barriers = read_frame(session, "barrier", columns=["id", "kind", "name"])
    for bid, kind, name, geom in zip(barriers["id"], barriers["kind"], barriers["name"], barriers.geometry,
                                     strict=True):
        features.append(_feature("barrier", bid, name or "", _geometry(geom, settings), None, kind=kind))
    return features


def _community_points(session: Any) -> dict[str, list[float]]:
    """Community code → median [lon, lat] of its compounds' locations (for communities without an outline)."""
    frame = read_frame(session, "compound", columns=["id", "community_code", "location"], geometry="location")
    frame = frame[frame["community_code"].notna() & frame.geometry.notna()]
    if not len(frame):
        return {}
    xy = shapely.get_coordinates(frame.geometry.to_numpy())
    out: dict[str, list[float]] = {}
    codes = frame["community_code"].to_numpy()
    for code in np.unique(codes):
        pts = xy[codes == code]
        out[str(code)] = [float(np.median(pts[:, 0])), float(np.median(pts[:, 1]))]
    return out


def _feature(role: str, fid: str, name: str, geometry: Any, label: list[float] | None, **props: Any) -> dict[str, Any]:
    properties = {"role": role, "name": name or "", **{k: v for k, v in props.items() if v is not None}}
    if label is not None:
        properties["label"] = label
    return {"type": "Feature", "id": f"{role}:{fid}", "geometry": geometry, "properties": properties}


def outline_geojson(session: Any, settings: BasemapSettings) -> str:
    """The FeatureCollection as compact JSON text."""
    doc = {"type": "FeatureCollection", "features": outline_features(session, settings)}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
