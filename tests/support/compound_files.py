"""A one-compound GeoJSON file for import tests (a small square in street 150203006)."""

from __future__ import annotations

import json
from pathlib import Path


def one_compound_file(path: Path, cid: str, name: str) -> str:
    """Write a FeatureCollection holding compound `cid` (professional management) to `path`; return the path."""
    lon, lat, d = 109.800, 40.643, 0.0004
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {
        "type": "Polygon", "coordinates": [ring]}, "properties": {"id": cid, "name": name, "street": "150203006",
                                                                  "management_mode": "professional"}}]},
        ensure_ascii=False), encoding="utf-8")
    return str(path)
