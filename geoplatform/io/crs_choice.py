"""Check a coordinate system the user chose for longitude/latitude: WGS-84, GCJ-02 (高德、腾讯) or BD-09 (百度).

A CSV/XLSX cannot say which of them its 经度/纬度 are in, so the user chooses (`--crs`, the import form). Here
the three differ by a few hundred metres (GCJ-02 ≈ 500 m from WGS-84, BD-09 ≈ 1.3 km), so a wrong choice moves
every point yet keeps most of them inside the district. Where the district's edge can tell, it does: every
row's point is read in each of the three systems; a choice under which points lie outside the district while
another places every point inside is refused with that suggestion ("these look like BD-09"); and a point
farther outside than the GCJ shift under the choice is refused in any case (no mix-up of the three explains
it). Pure functions over coordinate arrays: geometry_checks calls them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer

from geoplatform.crs import SourceCRS, transform_xy, wgs84_to_gcj02

# the web-map systems a lon/lat file may be in: key → the SourceCRS name
SYSTEMS = ("wgs84", "gcj02", "bd09")
# [D] how far outside the district outline a point may lie and still count as inside: the outline's own precision
# (a stored outline is often simplified; the built-in one by 0.004°)
TOLERANCE_M = 150.0
METRIC = "EPSG:4546"  # CGCS2000 3° GK CM 111°E: metres for distances at Kundulun

_to_m = Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)


def system_of(source: SourceCRS) -> str | None:
    """`wgs84`, `gcj02` or `bd09` for a chosen system among the three, else None (a projected system, …)."""
    if source.name in ("gcj02", "bd09"):
        return source.name
    return "wgs84" if source.is_wgs84 else None


def _metric(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.column_stack(_to_m.transform(xy[:, 0], xy[:, 1])))


def gcj_shift_m(outline: shapely.Geometry) -> float:
    """How far GCJ-02 moves a point at the district (metres, at the outline's centre), by the published formula."""
    c = outline.centroid
    gx, gy = wgs84_to_gcj02(np.array([c.x]), np.array([c.y]))
    a = np.column_stack(_to_m.transform([c.x, gx[0]], [c.y, gy[0]]))
    return float(np.hypot(*(a[1] - a[0])))


def metres_outside(x: np.ndarray, y: np.ndarray, outline: shapely.Geometry) -> np.ndarray:
    """Metres from each WGS-84 point to the district outline (0 inside)."""
    if not len(x):
        return np.zeros(0)
    area = _metric(outline)
    mx, my = _to_m.transform(np.asarray(x, float), np.asarray(y, float))
    return shapely.distance(area, shapely.points(np.column_stack([mx, my])))


@dataclass(frozen=True)
class ChoiceCheck:
    """The verdict on a chosen system for a file's points (arrays per point, in the order given)."""

    chosen: str  # wgs84 | gcj02 | bd09
    outside_m: np.ndarray  # metres outside the district under the chosen system (0 inside)
    shift_m: float  # the GCJ shift at the district
    tolerance_m: float
    suggestions: tuple[str, ...]  # systems under which every point lies inside, when the chosen one leaves some out

    @property
    def outside(self) -> np.ndarray:
        """Points outside the district (beyond the tolerance) under the chosen system."""
        return self.outside_m > self.tolerance_m

    @property
    def far(self) -> np.ndarray:
        """Points farther outside than the GCJ shift under the chosen system: no mix-up of the three explains them."""
        return self.outside_m > max(self.shift_m, self.tolerance_m)

    @property
    def refused(self) -> bool:
        """True when another system places every point inside while the chosen one does not."""
        return bool(self.suggestions) and bool(self.outside.any())


def check_choice(x: np.ndarray, y: np.ndarray, chosen: str, outline: shapely.Geometry,
                 tolerance_m: float = TOLERANCE_M) -> ChoiceCheck:
    """Read the raw points (x, y as written in the file) in each of the three systems; which ones fit the district?

    `chosen` is the user's system (wgs84 | gcj02 | bd09). `suggestions` lists the other systems under which no
    point lies outside the district (beyond `tolerance_m`) — only when the chosen one leaves some outside.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    outside = {}
    for system in SYSTEMS:
        wx, wy = (x, y) if system == "wgs84" else transform_xy(SourceCRS(system), x, y)
        outside[system] = metres_outside(wx, wy, outline)
    mine = outside[chosen]
    suggestions: tuple[str, ...] = ()
    if len(x) and (mine > tolerance_m).any():
        suggestions = tuple(s for s in SYSTEMS if s != chosen and not (outside[s] > tolerance_m).any())
    return ChoiceCheck(chosen, mine, gcj_shift_m(outline), tolerance_m, suggestions)
