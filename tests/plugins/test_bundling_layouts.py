"""Hand-made bundling layouts in metres (EPSG:4546 around Kundulun), handed to the rules in EPSG:4326."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, box

METRIC = 4546
_to_m = Transformer.from_crs(4326, METRIC, always_xy=True)
_to_deg = Transformer.from_crs(METRIC, 4326, always_xy=True)
X0, Y0 = _to_m.transform(109.80, 40.65)  # local origin: metres east/north of this point
S1, S2 = "150203006", "150203010"  # two street codes
VOTE = {"vote_area": "10000/8000/6000", "vote_owners": "100/80/60"}  # an owners' vote that passes (民法典 §278)


def to_wgs(geom: shapely.Geometry) -> shapely.Geometry:
    """A local-metre geometry (origin X0, Y0) in EPSG:4326."""
    return shapely.transform(geom, lambda xy: np.column_stack(_to_deg.transform(xy[:, 0] + X0, xy[:, 1] + Y0)))


def rect(x: float, y: float, w: float = 40.0, h: float = 20.0) -> shapely.Geometry:
    """A w × h rectangle with its lower-left corner at (x, y), in local metres."""
    return box(x, y, x + w, y + h)


@dataclass
class Layout:
    """Compounds, buildings and barriers drawn in local metres; frames() gives what the rules take."""

    compounds: list[dict[str, Any]] = field(default_factory=list)
    buildings: list[dict[str, Any]] = field(default_factory=list)
    barriers: list[dict[str, Any]] = field(default_factory=list)

    def host(self, cid: str, geom: shapely.Geometry | None, street: str = S1, mode: str = "professional",
             area: float = 40_000.0, households: int = 400, n_buildings: int = 4,
             point: shapely.Geometry | None = None, **kw: Any) -> Layout:
        """A compound (a host when its mode is professional/state_owned) with n buildings inside."""
        self.compounds.append({"id": cid, "street_code": street, "management_mode": mode, "floor_area_m2": area,
                               "households": households, "managed_by_id": kw.pop("managed_by_id", None),
                               "boundary": geom, "location": point or geom.representative_point(), **kw})
        for i in range(n_buildings):
            self.buildings.append({"id": f"{cid}-{i + 1:02d}", "compound_id": cid, "street_code": street,
                                   "floor_area_m2": area / max(n_buildings, 1), "households": households // max(n_buildings, 1),
                                   "geom": (geom or point).centroid.buffer(1)})
        return self

    def small(self, cid: str, geom: shapely.Geometry | None, street: str = S1, mode: str = "none",
              area: float = 6_000.0, households: int = 60, n_buildings: int = 1, **kw: Any) -> Layout:
        """An under-scale compound (an orphan by default)."""
        return self.host(cid, geom, street, mode, area, households, n_buildings, **kw)

    def lone(self, bid: str, geom: shapely.Geometry, street: str | None = S1, area: float = 3_000.0,
             households: int = 30) -> Layout:
        """A building in no compound."""
        self.buildings.append({"id": bid, "compound_id": None, "street_code": street, "floor_area_m2": area,
                               "households": households, "geom": geom})
        return self

    def barrier(self, bid: str, *coords: tuple[float, float], kind: str = "main_road") -> Layout:
        """A barrier line through local-metre points."""
        self.barriers.append({"id": bid, "kind": kind, "name": bid, "geom": LineString(coords)})
        return self

    def frames(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """(compounds, buildings, barriers) GeoDataFrames in EPSG:4326, like store.read_frame gives."""
        c = pd.DataFrame(self.compounds, columns=["id", "street_code", "management_mode", "floor_area_m2",
                                                  "households", "managed_by_id", "boundary", "location", "company"])
        c["boundary"] = [to_wgs(g) if g is not None else None for g in c["boundary"]]
        c["location"] = gpd.GeoSeries([to_wgs(g) for g in c["location"]], crs=4326)
        compounds = gpd.GeoDataFrame(c, geometry="boundary", crs=4326)
        b = pd.DataFrame(self.buildings, columns=["id", "compound_id", "street_code", "floor_area_m2", "households",
                                                  "geom"])
        b["geom"] = [to_wgs(g) for g in b["geom"]]
        buildings = gpd.GeoDataFrame(b, geometry="geom", crs=4326)
        r = pd.DataFrame(self.barriers, columns=["id", "kind", "name", "geom"])
        r["geom"] = [to_wgs(g) for g in r["geom"]]
        barriers = gpd.GeoDataFrame(r, geometry="geom", crs=4326)
        return compounds, buildings, barriers

    def records(self) -> dict[str, list[dict[str, Any]]]:
        """Insertable records (EPSG:4326, multi-geometries) for a database test."""
        compounds, buildings, barriers = (f.astype(object).where(pd.notna(f), None) for f in self.frames())
        out: dict[str, list[dict[str, Any]]] = {"street": [], "property_company": [], "compound": [], "building": [],
                                                "barrier": []}
        for code in sorted({*compounds["street_code"], *[s for s in buildings["street_code"] if s]}):
            out["street"].append({"code": code, "name": f"测试{code[-3:]}街道", "kind": "subdistrict",
                                  "aliases": [], "geom": None})
        for r in compounds.to_dict("records"):
            geom = r["boundary"]
            out["compound"].append({**{k: r[k] for k in ("id", "street_code", "management_mode", "floor_area_m2",
                                                          "households")},
                                    "name": f"小区{r['id']}", "aliases": [],
                                    "boundary": MultiPolygon([geom]) if geom is not None else None,
                                    "location": r["location"], "owners_org": "none", "renovation": "none",
                                    "company": r.get("company") or (
                                        "测试物业" if r["management_mode"] == "professional" else None),
                                    "demolition_planned": False})
        firms = sorted({c["company"] for c in out["compound"] if c["company"]})
        out["property_company"] = [{"name": f, "filed": True, "blacklisted": False, "state_owned": False}
                                   for f in firms]
        for r in buildings.to_dict("records"):
            out["building"].append({**{k: r[k] for k in ("id", "compound_id", "street_code", "floor_area_m2",
                                                          "households")},
                                    "geom": MultiPolygon([r["geom"]])})
        for r in barriers.to_dict("records"):
            out["barrier"].append({"id": r["id"], "kind": r["kind"], "name": r["name"],
                                   "geom": MultiLineString([r["geom"]])})
        return out


def point(x: float, y: float) -> shapely.Geometry:
    """A local-metre point."""
    return Point(x, y)
