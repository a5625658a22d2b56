"""Hand-made compounds for layer/plugin tests: 2 streets, 5 compounds (one without boundary)."""

from __future__ import annotations

from typing import Any

import shapely

from geoplatform.store import insert_records

STREETS = [
    {"code": "150203001", "name": "甲街道", "kind": "subdistrict", "aliases": [],
     "geom": shapely.MultiPolygon([shapely.box(109.70, 40.60, 109.80, 40.70)])},
    {"code": "150203002", "name": "乙街道", "kind": "subdistrict", "aliases": [],
     "geom": shapely.MultiPolygon([shapely.box(109.80, 40.60, 109.90, 40.70)])},
]


def _compound(cid: str, street: str, x: float, y: float, mode: str, households: int, org: str,
              boundary: bool = True, name: str | None = None) -> dict[str, Any]:
    box = shapely.box(x, y, x + 0.002, y + 0.002)
    return {"id": cid, "name": name or f"小区{cid}", "aliases": [], "street_code": street,
            "boundary": shapely.MultiPolygon([box]) if boundary else None, "location": box.centroid,
            "households": households, "management_mode": mode, "owners_org": org, "renovation": "none",
            "demolition_planned": False, "source": "test", "version": 1}


COMPOUNDS = [
    _compound("c1", "150203001", 109.71, 40.61, "professional", 100, "owners_committee",
              name="<script>alert('x')</script>花园"),
    _compound("c2", "150203001", 109.75, 40.65, "state_owned", 300, "none"),
    _compound("c3", "150203001", 109.79, 40.69, "none", 600, "management_committee", boundary=False),
    _compound("c4", "150203002", 109.85, 40.65, "self_managed", 50, "preparing"),
    _compound("c5", "150203002", 109.86, 40.66, "community_managed", 150, "owners_committee"),
]


def load(ctx: Any) -> None:
    """Insert the streets and compounds into ctx's database."""
    with ctx.session() as s:
        insert_records(s, "street", STREETS)
        insert_records(s, "compound", COMPOUNDS)
