"""A static SVG location sketch of a shortlist for the printable page (no tiles, prints on any printer)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from markupsafe import Markup, escape

WIDTH, HEIGHT = 900.0, 620.0
PAD_M = 600.0  # metres around the candidates' extent
METRIC_CRS = "EPSG:4547"


def _anchors(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """One point per compound: boundary centroid, else its location point."""
    geom = gpd.GeoSeries(frame.geometry, crs=frame.crs or 4326)
    loc = gpd.GeoSeries(frame["location"], crs=frame.crs or 4326) if "location" in frame else geom
    empty = geom.isna() | geom.is_empty
    pts = geom.where(~empty, loc).to_crs(METRIC_CRS)
    return pts.representative_point()


def _path(geom: Any, to_xy: Any) -> str:
    """SVG path data of a (multi)polygon's rings, coordinates already metric."""
    parts = []
    for poly in getattr(geom, "geoms", [geom]):
        for ring in [poly.exterior, *poly.interiors]:
            xy = to_xy(np.asarray(ring.coords)[:, :2])
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in xy) + "Z")
    return "".join(parts)


def shortlist_svg(compounds: gpd.GeoDataFrame, streets: gpd.GeoDataFrame, shortlist: list[str],
                  candidate_flags: pd.Series | None) -> Markup:
    """Street outlines, other candidates as grey dots, the shortlist as numbered red dots (numbers = table order)."""
    points = _anchors(compounds)
    flags = candidate_flags.reindex(compounds.index).fillna(False).astype(bool) if candidate_flags is not None \
        else pd.Series(False, index=compounds.index)
    listed = [c for c in shortlist if c in points.index]
    focus = points[flags | points.index.isin(listed)]
    focus = focus[~focus.is_empty & focus.notna()]
    if focus.empty:
        return Markup("")
    minx, miny, maxx, maxy = focus.total_bounds
    minx, miny, maxx, maxy = minx - PAD_M, miny - PAD_M, maxx + PAD_M, maxy + PAD_M
    scale = min(WIDTH / max(maxx - minx, 1.0), HEIGHT / max(maxy - miny, 1.0))

    def to_xy(xy: np.ndarray) -> np.ndarray:
        return np.column_stack([(xy[:, 0] - minx) * scale, (maxy - xy[:, 1]) * scale])

    box = shapely.box(minx, miny, maxx, maxy)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:.0f} {HEIGHT:.0f}" class="tp-map" '
           'role="img" font-family="sans-serif">', f'<rect width="{WIDTH:.0f}" height="{HEIGHT:.0f}" fill="#fbfbf8"/>']
    if len(streets):
        metric = gpd.GeoSeries(streets.geometry, crs=streets.crs or 4326).to_crs(METRIC_CRS)
        clipped = shapely.intersection(shapely.simplify(metric.to_numpy(), 15.0), box)
        for geom, name in zip(clipped, streets["name"], strict=True):
            if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
                continue
            out.append(f'<path d="{_path(geom, to_xy)}" fill="none" stroke="#9aa5b1" stroke-width="1"/>')
            c = to_xy(np.asarray(geom.representative_point().coords))[0]
            out.append(f'<text x="{c[0]:.0f}" y="{c[1]:.0f}" font-size="13" fill="#7b8794" text-anchor="middle">'
                       f"{escape(name)}</text>")
    others = focus[~focus.index.isin(listed)]
    for x, y in to_xy(shapely.get_coordinates(others.to_numpy())):
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="#adb5bd"/>')
    for n, cid in enumerate(shortlist, start=1):
        pt = points.get(cid)
        if pt is None or pt.is_empty:
            continue
        x, y = to_xy(np.asarray(pt.coords)[:, :2])[0]
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="#c1121f" stroke="#fff" stroke-width="1.5"/>'
                   f'<text x="{x:.1f}" y="{y + 4:.1f}" font-size="11" font-weight="bold" fill="#fff" '
                   f'text-anchor="middle">{n}</text>')
    bar_m = 1000.0
    out.append(f'<g transform="translate(16,{HEIGHT - 22:.0f})"><rect width="{bar_m * scale:.1f}" height="5" '
               f'fill="#333"/><text y="-4" font-size="12" fill="#333">1 km</text></g>')
    out.append('<g transform="translate(870,40)"><path d="M0,-22L7,0L0,-5L-7,0Z" fill="#333"/>'
               '<text y="14" font-size="12" text-anchor="middle" fill="#333">N</text></g></svg>')
    return Markup("".join(out))
