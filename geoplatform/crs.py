"""Coordinate systems of Chinese data: EPSG codes via pyproj, GCJ-02 and BD-09 by their published formulas.

GCJ-02 (国测局, AMap/Tencent) and BD-09 (Baidu) are obfuscations PROJ does not implement; the forward
formulas below are the widely published ones (Krasovsky constants), the inverses are iterative (fixed
point on the forward map) and round-trip to well under a millimetre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geoplatform.i18n import Message, MessageError, add_messages

# key: (English, Chinese) of the problems raised here (geoplatform.io.messages lists them with the importer's)
MESSAGES: dict[str, tuple[str, str]] = {
    "import.crs.unknown": ("unknown coordinate system {value!r}: give an EPSG code (EPSG:4547), gcj02 or bd09",
                           "未知的坐标系「{value}」：请给出 EPSG 代码（如 EPSG:4547）、gcj02 或 bd09"),
    "import.crs.swapped": ("latitude and longitude are swapped (median point ({x:.4f}, {y:.4f}) is (lat, lon)): put "
                           "longitude (经度, ~109.8) in x / the lon column and latitude (纬度, ~40.6) in y / the lat "
                           "column",
                           "经纬度颠倒（中位点 ({x:.4f}, {y:.4f}) 实为（纬度，经度））：经度（约 109.8）应放在 x 或经度列，"
                           "纬度（约 40.6）应放在 y 或纬度列"),
    "import.crs.gauss_kruger": (" — they look like CGCS2000 3° Gauss-Krüger metres (EPSG:4546 for CM 111°E without "
                                "zone prefix, EPSG:4525 with zone prefix 37; note EPSG:4547 is CM 114°E)",
                                "——看起来是 CGCS2000 3 度带高斯-克吕格投影坐标（米）（中央经线 111°E 不带带号为 "
                                "EPSG:4546，带带号 37 为 EPSG:4525；注意 EPSG:4547 的中央经线是 114°E）"),
    "import.crs.projected_as_degrees": ("coordinates such as {sample} are not longitude/latitude although {declared} "
                                        "says EPSG:4326: projected numbers labelled as degrees{hint}; give the real "
                                        "system with --crs",
                                        "坐标（如 {sample}）不是经纬度，但{declared}声明为 EPSG:4326：投影坐标被标成了经纬度"
                                        "{hint}；请用 --crs 指定实际坐标系"),
    "import.crs.projected_undeclared": ("coordinates such as {sample} are not longitude/latitude and the file "
                                        "declares no coordinate system{hint}; give it with --crs (e.g. --crs "
                                        "EPSG:4547) — the importer never guesses",
                                        "坐标（如 {sample}）不是经纬度，文件也未声明坐标系{hint}；请用 --crs 指定"
                                        "（例如 --crs EPSG:4547），系统不会猜测坐标系"),
}
add_messages({"en": {k: en for k, (en, _) in MESSAGES.items()}, "zh": {k: zh for k, (_, zh) in MESSAGES.items()}})

WGS84 = "EPSG:4326"
_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the GCJ-02 formula
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
SPECIAL = ("gcj02", "bd09")
ALIASES = {"gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "amap": "gcj02", "高德": "gcj02", "火星坐标": "gcj02",
           "bd09": "bd09", "bd-09": "bd09", "bd09ll": "bd09", "baidu": "bd09", "百度": "bd09",
           "wgs84": WGS84, "wgs-84": WGS84, "cgcs2000": "EPSG:4490"}

# China's bounding box: outside it GCJ-02 leaves coordinates unchanged (as every published implementation does).
CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)


class CRSProblem(MessageError):
    """A coordinate system that cannot be used, or coordinates that do not fit the one given."""


@dataclass(frozen=True)
class SourceCRS:
    """A parsed --crs value: an EPSG/pyproj CRS or one of the Chinese web-map systems."""

    name: str  # "gcj02", "bd09" or an authority string like "EPSG:4547"
    crs: CRS | None = None  # None for gcj02/bd09 (their datum is WGS-84 degrees)

    @property
    def is_geographic(self) -> bool:
        """True when coordinates are lon/lat degrees."""
        return self.crs is None or self.crs.is_geographic

    @property
    def is_wgs84(self) -> bool:
        """True when no transformation is needed (WGS-84 or CGCS2000 degrees, centimetres apart)."""
        return self.crs is not None and self.crs.is_geographic and (self.crs.to_epsg() in (4326, 4490, 4979, 4480))


def parse_crs(value: object) -> SourceCRS:
    """`EPSG:4547`, `4547`, `gcj02`, `bd09`, `wgs84`, WKT or a PROJ string → SourceCRS (CRSProblem if unknown)."""
    if isinstance(value, SourceCRS):
        return value
    if isinstance(value, CRS):
        return SourceCRS(_crs_name(value), value)
    text = str(value).strip()
    key = text.lower().replace(" ", "")
    alias = ALIASES.get(key, text)
    if alias in SPECIAL:
        return SourceCRS(alias)
    if alias.isdigit():
        alias = f"EPSG:{alias}"
    try:
        crs = CRS.from_user_input(alias)
    except CRSError as exc:
        raise CRSProblem("import.crs.unknown", value=text) from exc
    return SourceCRS(_crs_name(crs), crs)


def _crs_name(crs: CRS) -> str:
    auth = crs.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else crs.name


def _out_of_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = CHINA_BOX
    return (lon < x0) | (lon > x1) | (lat < y0) | (lat > y1)


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 → GCJ-02 (the published forward formula; unchanged outside China)."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    dlon, dlat = _delta(lon, lat)
    out = _out_of_china(lon, lat)
    return np.where(out, lon, lon + dlon), np.where(out, lat, lat + dlat)


def gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → BD-09 (Baidu's published forward formula)."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02_approx(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → GCJ-02 by the published closed-form approximation (a start for the iteration)."""
    x, y = np.asarray(lon, float) - 0.0065, np.asarray(lat, float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def wgs84_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 → BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _invert(forward, lon: np.ndarray, lat: np.ndarray, tol: float = 1e-10, max_iter: int = 30):  # noqa: ANN001, ANN202
    """Solve forward(x) = target by fixed-point iteration x ← x − (forward(x) − target)."""
    tx, ty = np.asarray(lon, float), np.asarray(lat, float)
    x, y = tx.copy(), ty.copy()
    for _ in range(max_iter):
        fx, fy = forward(x, y)
        dx, dy = fx - tx, fy - ty
        x, y = x - dx, y - dy
        if np.nanmax(np.abs(np.concatenate([np.ravel(dx), np.ravel(dy)])), initial=0.0) < tol:
            break
    return x, y


def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS-84 (iterative inverse; round trip ≪ 1 m)."""
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → GCJ-02 (iterative inverse of gcj02_to_bd09)."""
    return _invert(gcj02_to_bd09, lon, lat)


def bd09_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → WGS-84 (iterative inverse of the composite forward map)."""
    return _invert(wgs84_to_bd09, lon, lat)


def transform_xy(source: SourceCRS, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in `source` → WGS-84 lon/lat arrays."""
    if source.name == "gcj02":
        return gcj02_to_wgs84(x, y)
    if source.name == "bd09":
        return bd09_to_wgs84(x, y)
    if source.is_wgs84:
        return np.asarray(x, float), np.asarray(y, float)
    tr = Transformer.from_crs(source.crs, WGS84, always_xy=True)
    return tr.transform(np.asarray(x, float), np.asarray(y, float))


def to_wgs84(geoms: np.ndarray, source: SourceCRS) -> np.ndarray:
    """An array of shapely geometries in `source` → EPSG:4326 (2D), vectorised over all coordinates."""
    geoms = np.asarray(geoms, dtype=object)
    if source.is_wgs84:
        return geoms

    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = transform_xy(source, xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, fn)


def from_wgs84(geoms: np.ndarray, target: SourceCRS) -> np.ndarray:
    """EPSG:4326 geometries → `target` (used by tests and exports to Chinese web maps)."""
    geoms = np.asarray(geoms, dtype=object)

    def fn(xy: np.ndarray) -> np.ndarray:
        if target.name == "gcj02":
            x, y = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        elif target.name == "bd09":
            x, y = wgs84_to_bd09(xy[:, 0], xy[:, 1])
        else:
            x, y = Transformer.from_crs(WGS84, target.crs, always_xy=True).transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, fn)


def looks_like_lonlat(x: np.ndarray, y: np.ndarray) -> bool:
    """True when every coordinate is a valid longitude/latitude pair."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return bool(len(x) == 0 or ((np.abs(x) <= 180).all() and (np.abs(y) <= 90).all()))


def diagnose(x: np.ndarray, y: np.ndarray, near: tuple[float, float, float, float],
             declared: str | None) -> Message | None:
    """The likely cause when coordinates claimed to be lon/lat do not fall near the area `near` (a bbox), else None.

    `declared` names where the CRS came from (e.g. "the file's .prj") or None when nothing declared one.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) == 0:
        return None
    x0, y0, x1, y1 = near
    mx, my = float(np.median(x)), float(np.median(y))
    if x0 - 1 <= my <= x1 + 1 and y0 - 1 <= mx <= y1 + 1:
        return Message("import.crs.swapped", x=mx, y=my)
    if not looks_like_lonlat(x, y):
        sample = f"({mx:.0f}, {my:.0f})"
        hint: Message | str = ""
        if 36_000_000 < mx < 38_000_000 or 300_000 < mx < 800_000:
            hint = Message("import.crs.gauss_kruger")
        if declared:
            return Message("import.crs.projected_as_degrees", sample=sample, declared=declared, hint=hint)
        return Message("import.crs.projected_undeclared", sample=sample, hint=hint)
    return None
