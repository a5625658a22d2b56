"""A small hand-made world for the governance tests: 2 streets, 3 communities, 4 compounds, role principals."""

from __future__ import annotations

from typing import Any

import shapely

from geoplatform.principal import Principal
from geoplatform.store import insert_records

S1, S2 = "150203001", "150203002"
C11, C12, C21 = "150203001001", "150203001002", "150203002001"
XSS = "<script>alert('gv')</script>小区"

STREETS = [
    {"code": S1, "name": "甲街道", "kind": "subdistrict", "aliases": [],
     "geom": shapely.MultiPolygon([shapely.box(109.70, 40.60, 109.80, 40.70)])},
    {"code": S2, "name": "乙街道", "kind": "subdistrict", "aliases": [],
     "geom": shapely.MultiPolygon([shapely.box(109.80, 40.60, 109.90, 40.70)])},
]
COMMUNITIES = [
    {"code": C11, "street_code": S1, "name": "甲一社区", "geom": None},
    {"code": C12, "street_code": S1, "name": "甲二社区", "geom": None},
    {"code": C21, "street_code": S2, "name": "乙一社区", "geom": None},
]


def _compound(cid: str, street: str, community: str, x: float, org: str, firm: str | None,
              name: str | None = None) -> dict[str, Any]:
    box = shapely.box(x, 40.65, x + 0.002, 40.652)
    return {"id": cid, "name": name or f"小区{cid}", "aliases": [], "street_code": street, "community_code": community,
            "boundary": shapely.MultiPolygon([box]), "location": box.centroid, "households": 200,
            "management_mode": "professional" if firm else "none", "company": firm, "owners_org": org,
            "renovation": "none", "demolition_planned": False, "source": "test", "version": 1}


COMPOUNDS = [
    _compound("G1", S1, C11, 109.71, "owners_committee", "甲物业"),
    _compound("G2", S1, C11, 109.72, "none", None),
    _compound("G3", S1, C12, 109.75, "management_committee", "乙物业"),
    _compound("G4", S2, C21, 109.85, "none", "丙物业", name=XSS),
]

ADMIN = Principal(name="gv_admin", role="admin")
BUREAU = Principal(name="gv_bureau", role="bureau")
SO1 = Principal(name="gv_so1", role="street_officer", street_code=S1)
SO2 = Principal(name="gv_so2", role="street_officer", street_code=S2)
CO11 = Principal(name="gv_co11", role="community_officer", street_code=S1, community_code=C11)
CO12 = Principal(name="gv_co12", role="community_officer", street_code=S1, community_code=C12)
VIEWER = Principal(name="gv_viewer", role="viewer")


def load(ctx: Any) -> None:
    """Insert the streets, communities and compounds into ctx's database."""
    with ctx.session() as s:
        insert_records(s, "street", STREETS)
        insert_records(s, "community", COMMUNITIES)
        insert_records(s, "property_company", [{"name": f, "filed": True} for f in ("甲物业", "乙物业", "丙物业")])
        insert_records(s, "compound", COMPOUNDS)
