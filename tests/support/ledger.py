"""A real-looking street ledger (台账) generated against a database: names, a street, households, points picked on
AMap (GCJ-02), the mode columns left blank, and a few rows whose point lies in a neighbouring street.

Used by the importer tests (tests/io/test_ledger_identity.py) and the bureau's browser test: the truth (WGS-84
points, the street each point lies in) is kept beside the file so positions and streets can be checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from openpyxl import Workbook
from pyproj import Transformer

from geoplatform.crs import from_wgs84, parse_crs

TO_M = Transformer.from_crs("EPSG:4326", "EPSG:4546", always_xy=True)  # metres at Kundulun
HEADER = ["序号", "小区名称", "所属街道", "经度", "纬度", "户数", "建成年份", "物业服务方式", "业主组织"]
NAME_HEADS = ["幸福", "和平", "钢城", "阳光", "青山", "友谊", "团结", "富强", "民主", "兴盛", "康乐", "丰泽"]
NAME_TAILS = ["里", "苑", "家园", "小区", "花园", "新村", "公寓", "院"]
MIN_APART_M = 120.0  # [test] every generated point this far from stored compounds and from the others: no match by location


@dataclass
class Ledger:
    """The file, its rows (as written, GCJ-02) and the truth per row (WGS-84 point, street given, street located)."""

    path: Path
    rows: list[list[Any]]
    truth: list[shapely.Point]
    given: list[str] = field(default_factory=list)  # street code written in the row
    located: list[str] = field(default_factory=list)  # street code whose polygon holds the point
    moved: list[int] = field(default_factory=list)  # row positions (0-based) whose point lies in another street

    def sheet_row(self, k: int) -> int:
        """The row number the user sees in the sheet (header is row 1)."""
        return k + 2


def metres(a: shapely.Geometry, b: shapely.Geometry) -> float:
    """Distance in metres (CGCS2000 GK CM 111°E)."""
    (ax, bx), (ay, by) = TO_M.transform([a.x, b.x], [a.y, b.y])
    return float(np.hypot(ax - bx, ay - by))


def _metric(points: list[shapely.Point]) -> np.ndarray:
    if not points:
        return np.empty((0, 2))
    x, y = TO_M.transform([p.x for p in points], [p.y for p in points])
    return np.column_stack([x, y])


def make_ledger(session: Any, path: Path, n: int = 200, moved: int = 2, seed: int = 7) -> Ledger:
    """`n` rows over the streets with polygons, `moved` of them declared in street A while their point lies in a
    neighbouring street B; every point at least MIN_APART_M from any stored compound and from each other."""
    from geoplatform.store import read_frame

    rng = np.random.default_rng(seed)
    streets = read_frame(session, "street", columns=["code", "name", "geom"])
    streets = streets[streets["geom"].notna()].reset_index(drop=True)
    compounds = read_frame(session, "compound", columns=["id", "location", "boundary"])
    stored = [p if p is not None else shapely.point_on_surface(b) for p, b in
              zip(compounds["location"], compounds["boundary"], strict=True) if p is not None or b is not None]
    taken = _metric(stored)
    inner = [shapely.buffer(g, -0.002) for g in streets["geom"]]  # ≈ 170 m inside: the GCJ shift cannot leave it
    # two neighbouring streets (their polygons touch) for the rows declared in one and lying in the other
    a, b = next((i, j) for i in range(len(streets)) for j in range(len(streets))
                if i != j and not inner[i].is_empty and not inner[j].is_empty
                and streets["geom"][i].buffer(1e-6).intersects(streets["geom"][j]))
    points: list[shapely.Point] = []
    ledger = Ledger(path=path, rows=[HEADER], truth=[])
    names: list[str] = []
    k = 0
    for _attempt in range(200 * n):
        if len(points) == n:
            break
        if k < moved:
            si, declared = b, a
        else:
            si = int(rng.integers(len(streets)))
            declared = si
        poly = inner[si]
        if poly.is_empty:
            continue
        x0, y0, x1, y1 = poly.bounds
        p = shapely.Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
        if not poly.contains(p):
            continue
        xy = _metric([p])[0]
        mine = _metric(points)
        if len(taken) and np.hypot(*(taken - xy).T).min() < MIN_APART_M:
            continue
        if len(mine) and np.hypot(*(mine - xy).T).min() < MIN_APART_M:
            continue
        names.append(f"{NAME_HEADS[k % len(NAME_HEADS)]}{NAME_TAILS[(k // len(NAME_HEADS)) % len(NAME_TAILS)]}"
                     f"{k + 1}号院")
        points.append(p)
        ledger.given.append(streets["code"][declared])
        ledger.located.append(streets["code"][si])
        if declared != si:
            ledger.moved.append(k)
        k += 1
    else:
        raise AssertionError(f"room for only {len(points)} ledger points {MIN_APART_M} m apart")
    gcj = from_wgs84(np.array(points, dtype=object), parse_crs("gcj02"))
    street_names = dict(zip(streets["code"], streets["name"], strict=True))
    for k, q in enumerate(gcj):
        ledger.rows.append([k + 1, names[k], street_names[ledger.given[k]], round(q.x, 7), round(q.y, 7),
                            int(rng.integers(40, 900)), int(rng.integers(1978, 2015)), None, None])
    ledger.truth = points
    wb = Workbook()
    ws = wb.active
    ws.title = "台账"
    for row in ledger.rows:
        ws.append(row)
    wb.save(path)
    return ledger


def edge_points(session: Any, n: int = 3, seed: int = 1) -> list[shapely.Point]:
    """WGS-84 points ≥ 30 m inside the district whose GCJ-02 coordinates, read as WGS-84, lie ≥ 250 m outside it:
    the points that tell a GCJ-02 ledger from a WGS-84 one (crs_choice)."""
    from geoplatform.io.crs_choice import metres_outside
    from geoplatform.streets import district_outline

    outline = district_outline(session)
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = outline.bounds
    out: list[shapely.Point] = []
    for _ in range(400):
        x, y = rng.uniform(x0, x1, 500), rng.uniform(y0, y1, 500)
        inner = metres_outside(x, y, outline) == 0
        deep = shapely.contains_xy(shapely.buffer(outline, -0.0004), x, y)  # ≈ 30 m inside
        gcj = from_wgs84(shapely.points(np.column_stack([x, y])), parse_crs("gcj02"))
        gx, gy = shapely.get_x(gcj), shapely.get_y(gcj)
        off = metres_outside(gx, gy, outline) >= 250
        for k in np.flatnonzero(inner & deep & off):
            out.append(shapely.Point(x[k], y[k]))
            if len(out) == n:
                return out
    raise AssertionError("no edge point found")
