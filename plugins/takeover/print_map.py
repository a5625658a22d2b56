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


MARKER_R = 9.0  # px: the numbered shortlist markers
LABEL_PX = 13.0  # font size of the street names
RINGS = (2.3, 3.5, 4.7, 5.9, 7.1)  # marker radii out from its point when the spot is taken
DIRECTIONS = 16


def _offsets(r: float) -> list[tuple[float, float]]:
    """Candidate displacements of a marker: none first, then rings of DIRECTIONS spots further and further out."""
    angles = np.linspace(-np.pi / 2, 1.5 * np.pi, DIRECTIONS, endpoint=False)
    return [(0.0, 0.0)] + [(k * r * float(np.cos(a)), k * r * float(np.sin(a))) for k in RINGS for a in angles]


def _box_hits(x: float, y: float, r: float, box: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = box
    return x0 - r < x < x1 + r and y0 - r < y < y1 + r


def spread_markers(points: np.ndarray, r: float = MARKER_R, width: float = WIDTH, height: float = HEIGHT,
                   blocked: list[tuple[float, float, float, float]] | None = None) -> np.ndarray:
    """Marker positions (px) for `points` so that no two circles of radius `r` overlap and none covers a `blocked`
    box: each marker stays on its point when that is free, else takes the nearest free spot around it (the
    caller draws a leader line). Deterministic; the order of `points` decides who keeps its place."""
    placed: list[tuple[float, float]] = []
    for px, py in np.asarray(points, dtype=float).reshape(-1, 2):
        spot = (px, py)
        for dx, dy in _offsets(r):
            x, y = px + dx, py + dy
            if not (r <= x <= width - r and r <= y <= height - r):
                continue
            if all((x - qx) ** 2 + (y - qy) ** 2 >= (2 * r + 1) ** 2 for qx, qy in placed) and \
                    not any(_box_hits(x, y, r, b) for b in blocked or ()):
                spot = (x, y)
                break
        placed.append(spot)
    return np.array(placed, dtype=float).reshape(-1, 2)


def _label_box(x: float, y: float, text: str, size: float = LABEL_PX) -> tuple[float, float, float, float]:
    """The box a centred text label covers (CJK glyphs are about one font size wide)."""
    w = sum(size if ord(ch) > 0x2E80 else size * 0.6 for ch in text)
    return (x - w / 2, y - size, x + w / 2, y + size * 0.3)


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(anchors: list[tuple[float, float, str]], markers: np.ndarray, r: float = MARKER_R,
                 width: float = WIDTH, height: float = HEIGHT) -> list[tuple[float, float, str]]:
    """Street-name labels that overlap neither each other nor a marker: each tries its anchor, then shifts up or
    down; a label with no free spot is left out (its street outline is still drawn)."""
    out: list[tuple[float, float, str]] = []
    boxes: list[tuple[float, float, float, float]] = []
    for x, y, text in anchors:
        for dy in (0.0, -16.0, 16.0, -32.0, 32.0, -48.0, 48.0):
            box = _label_box(x, y + dy, text)
            if box[0] < 0 or box[2] > width or box[1] < 0 or box[3] > height:
                continue
            if any(_overlaps(box, b) for b in boxes) or any(_box_hits(mx, my, r, box) for mx, my in markers):
                continue
            out.append((x, y + dy, text))
            boxes.append(box)
            break
    return out


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
    anchors: list[tuple[float, float, str]] = []
    if len(streets):
        metric = gpd.GeoSeries(streets.geometry, crs=streets.crs or 4326).to_crs(METRIC_CRS)
        clipped = shapely.intersection(shapely.simplify(metric.to_numpy(), 15.0), box)
        for geom, name in zip(clipped, streets["name"], strict=True):
            if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
                continue
            out.append(f'<path d="{_path(geom, to_xy)}" fill="none" stroke="#9aa5b1" stroke-width="1"/>')
            c = to_xy(np.asarray(geom.representative_point().coords))[0]
            anchors.append((float(c[0]), float(c[1]), str(name)))
    others = focus[~focus.index.isin(listed)]
    for x, y in to_xy(shapely.get_coordinates(others.to_numpy())):
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="#adb5bd"/>')
    numbered = [(n, points.get(cid)) for n, cid in enumerate(shortlist, start=1)]
    numbered = [(n, pt) for n, pt in numbered if pt is not None and not pt.is_empty]
    at = to_xy(np.array([pt.coords[0][:2] for _, pt in numbered], dtype=float).reshape(-1, 2))
    legend_boxes = [(WIDTH - 60.0, 0.0, WIDTH, 70.0), (0.0, HEIGHT - 44.0, 140.0, HEIGHT)]  # north arrow, scale
    spots = spread_markers(at, blocked=legend_boxes)
    for (x0, y0), (x, y) in zip(at, spots, strict=True):
        if abs(x - x0) > 0.5 or abs(y - y0) > 0.5:  # moved off a crowded spot: a leader line to the compound
            out.append(f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="#c1121f" '
                       'stroke-width="1"/>'
                       f'<circle cx="{x0:.1f}" cy="{y0:.1f}" r="2.2" fill="#c1121f"/>')
    for (n, _), (x, y) in zip(numbered, spots, strict=True):
        out.append(f'<circle class="tp-marker" cx="{x:.1f}" cy="{y:.1f}" r="{MARKER_R:g}" fill="#c1121f" stroke="#fff" '
                   f'stroke-width="1.5"/><text x="{x:.1f}" y="{y + 4:.1f}" font-size="11" font-weight="bold" '
                   f'fill="#fff" text-anchor="middle">{n}</text>')
    for x, y, name in place_labels(anchors, np.vstack([spots, at]) if len(spots) else spots):
        out.append(f'<text class="tp-street" x="{x:.0f}" y="{y:.0f}" font-size="{LABEL_PX:g}" fill="#7b8794" '
                   f'text-anchor="middle">{escape(name)}</text>')
    bar_m = 1000.0
    out.append(f'<g transform="translate(16,{HEIGHT - 22:.0f})"><rect width="{bar_m * scale:.1f}" height="5" '
               f'fill="#333"/><text y="-4" font-size="12" fill="#333">1 公里</text></g>')
    out.append(f'<g transform="translate({WIDTH - 30:.0f},40)"><path d="M0,-22L7,0L0,-5L-7,0Z" fill="#333"/>'
               '<text y="16" font-size="12" text-anchor="middle" fill="#333">北</text></g></svg>')
    return Markup("".join(out))
