"""Stable identity of compounds from ledgers without ids: the same compound is recognised, never added twice.

A street's Excel ledger rarely carries our ids. A row without one is the stored compound of the same street
with the same name (or an alias, either way round), else the stored compound whose point lies within a small
radius of the row's point (not merely inside its boundary: one stored outline may hold two ledger compounds,
一期 and 二期). Such a row takes the
stored id: with `--upsert` ("更新已有小区") it updates that compound, otherwise it is refused as already stored —
so importing the same ledger twice never adds anything (a second dry run offers 0 new). Rows matching nothing
get the content-derived id as before. Vectorised: one STRtree query for every row.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from sqlalchemy.orm import Session

# [D] a row's point this close (metres) to a stored compound's point is that compound:
# ledger points of one compound (entrance, centre, a re-picked point) lie within it; neighbours' points do not
MATCH_RADIUS_M = 30.0
SETTINGS_KEY = "import"  # `[rules.import] match_radius_m = …` in the config file
PROVENANCE: dict[str, str] = {
    "match_radius_m": "[D] an id-less ledger row whose point lies this close (metres) to a stored compound's point "
                      "is that compound (0: never by location, only by street + name)",
}
METRIC = "EPSG:4546"  # CGCS2000 3° GK CM 111°E: metres at Kundulun

_to_m = Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)


def name_key(name: Any) -> str:
    """A compound name as ledgers vary it: full-width forms, spaces and a trailing 小区 do not matter."""
    s = unicodedata.normalize("NFKC", str(name or "")).lower()
    s = re.sub(r"[\s·・,，。.()（）\[\]【】\-_]+", "", s)
    return s.removesuffix("小区") or s


def match_radius(context: Any) -> float:
    """The radius in force: `[rules.import] match_radius_m`, else MATCH_RADIUS_M (ValueError when not ≥ 0)."""
    rules = context.rules(SETTINGS_KEY) if context is not None and hasattr(context, "rules") else {}
    unknown = set(rules or {}) - set(PROVENANCE)
    if unknown:
        raise ValueError(f"unknown [rules.import] setting(s): {', '.join(sorted(unknown))}")
    value = float((rules or {}).get("match_radius_m", MATCH_RADIUS_M))
    if not value >= 0:
        raise ValueError(f"[rules.import] match_radius_m must be ≥ 0 metres, got {value}")
    return value


@dataclass
class Match:
    """The stored compound a row is, and how it was recognised (`name` or `location`, with the distance)."""

    compound_id: str
    how: str
    name: str
    metres: float = 0.0


@dataclass
class Stored:
    """The stored compounds' identities: (street, name key) → ids, and their points in metres."""

    ids: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    by_name: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    places: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))  # points, metres


def _metric(geoms: np.ndarray) -> np.ndarray:
    out = np.asarray(geoms, dtype=object).copy()
    live = ~shapely.is_missing(out)
    if live.any():
        out[live] = shapely.transform(out[live], lambda xy: np.column_stack(_to_m.transform(xy[:, 0], xy[:, 1])))
    return out


def load_stored(session: Session) -> Stored:
    """Every stored compound's id, street, name, aliases and point (in metres)."""
    from geoplatform.store import read_frame

    frame = read_frame(session, "compound", columns=["id", "name", "aliases", "street_code", "boundary", "location"])
    out = Stored()
    if frame.empty:
        return out
    out.ids = [str(i) for i in frame["id"]]
    out.names = [str(n) for n in frame["name"]]
    for cid, name, aliases, street in zip(out.ids, frame["name"], frame["aliases"], frame["street_code"],
                                          strict=True):
        for n in (name, *(aliases or [])):
            if n:
                out.by_name.setdefault((str(street), name_key(n)), set()).add(cid)
    out.places = _metric(frame["location"].to_numpy())
    return out


def match_rows(stored: Stored, streets: list[str | None], names: list[Any], aliases: list[Iterable[Any]],
               points: np.ndarray, radius_m: float) -> tuple[dict[int, Match], dict[int, list[str]]]:
    """{row: Match} for rows that are stored compounds, and {row: ids} for rows whose name names several.

    By name first (same street; the row's name or aliases against the stored names and aliases), else by
    location (the nearest stored point within `radius_m` of the row's point; `radius_m` 0: never by location).
    """
    matches: dict[int, Match] = {}
    ambiguous: dict[int, list[str]] = {}
    if not stored.ids:
        return matches, ambiguous
    name_of = dict(zip(stored.ids, stored.names, strict=True))
    rest = []
    for i, (street, name, more) in enumerate(zip(streets, names, aliases, strict=True)):
        hits: set[str] = set()
        if street is not None:
            for n in (name, *(more or ())):
                if n:
                    hits |= stored.by_name.get((street, name_key(n)), set())
        if len(hits) == 1:
            cid = next(iter(hits))
            matches[i] = Match(cid, "name", name_of[cid])
        elif hits:
            ambiguous[i] = sorted(hits)
        else:
            rest.append(i)
    pts = np.asarray(points, dtype=object)
    rest = [i for i in rest if pts[i] is not None]
    if rest and radius_m > 0:
        mine = _metric(pts[rest])
        live = ~shapely.is_missing(stored.places)
        idx = np.flatnonzero(live)
        if len(idx):
            tree = shapely.STRtree(stored.places[idx])
            got, dist = tree.query_nearest(mine, max_distance=radius_m, return_distance=True, all_matches=False)
            for k, j, d in zip(got[0], got[1], dist, strict=True):
                i = rest[int(k)]
                cid = stored.ids[int(idx[int(j)])]
                matches[i] = Match(cid, "location", name_of[cid], float(d))
    return matches, ambiguous


