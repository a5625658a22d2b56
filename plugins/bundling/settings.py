"""Thresholds of the bundled-management planner (RULES §5), each with its provenance."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from fractions import Fraction
from typing import Any

from geoplatform.config import PlanSettings


@dataclass(frozen=True)
class BundlingSettings:
    """RULES §5 thresholds; [Q] = stated by a source, [D] = our default (configurable)."""

    # [D] RULES §5: modes whose compounds may be orphans (无物业, 社区代管/准物业)
    orphan_modes: tuple[str, ...] = ("none", "community_managed")
    # [D] RULES §1: a compound whose mode is unknown (待核实) is no orphan unless asked (`bundle plan --include-unknown`)
    include_unknown: bool = False
    # [D] RULES §1/§5: professionally served modes may host: the plan-level definition (geoplatform.config)
    host_modes: tuple[str, ...] = PlanSettings().served_modes
    # [Q] plan: areas under 1万 m² are merged (不成管理规模)
    min_floor_area_m2: float = 10_000.0
    # [D] RULES §5: fewer households than this is under management scale
    min_households: int = 100
    # [Q] plan: a single building (单体独栋) is under management scale
    max_buildings_orphan: int = 1
    # [D] RULES §5: hosts within this edge-to-edge distance (metres)
    max_distance_m: float = 300.0
    # [Q] management area 3–10万 m²: hosts whose merged area stays within this are preferred
    preferred_max_merged_area_m2: float = 100_000.0
    # [Q] plan "划入邻近成规模体系的有物业小区" + Inner Mongolia minimum management area 3万 m²: a host is at
    # management scale with at least this floor area (its own plus what it already manages) ...
    host_min_floor_area_m2: float = 30_000.0
    # [D] ... or at least this many buildings (RULES §5); and it is no orphan itself (single building, small, few)
    host_min_buildings: int = 2
    # [Q] Inner Mongolia minimum management area 3万 m²: an orphan group this large is a new bundle
    new_bundle_min_area_m2: float = 30_000.0
    # [Q] management area 3–10万 m²: a new bundle larger than this is split (RULES §5)
    new_bundle_max_area_m2: float = 100_000.0
    # [Q] 民法典 §278: the owners taking part in a vote hold at least this share of the area and of the owners
    vote_participation_min: str = "2/3"
    # [Q] 民法典 §278: the yes votes are more than this share of the participating area and owners
    vote_yes_over: str = "1/2"
    # [D] orphans closer than this are neighbours in a new bundle (None: max_distance_m)
    group_distance_m: float | None = None
    # [D] distances are compared at this resolution so that ties fall to the shared boundary
    distance_resolution_m: float = 1.0
    # [D] boundaries closer than this count as shared (ledger polygons rarely touch exactly)
    shared_boundary_tolerance_m: float = 2.0
    # [D] metric CRS for distances and areas: CGCS2000 3° GK CM 111°E = EPSG:4546 (DESIGN.md says 4547 = CM 114°E)
    metric_crs: int = 4546

    @property
    def orphan_mode_set(self) -> tuple[str, ...]:
        """The modes whose compounds may be orphans: orphan_modes, plus unknown when include_unknown."""
        return (*self.orphan_modes, "unknown") if self.include_unknown else self.orphan_modes

    @property
    def neighbour_distance_m(self) -> float:
        """The distance that links orphans into one candidate new bundle."""
        return self.max_distance_m if self.group_distance_m is None else self.group_distance_m

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain JSON-able values (shown where they are applied)."""
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}


def load_settings(overrides: dict[str, Any] | None = None, **kw: Any) -> BundlingSettings:
    """Defaults updated by config overrides (`[rules.bundling]`) and keyword arguments; unknown keys fail."""
    values = {**(overrides or {}), **{k: v for k, v in kw.items() if v is not None}}
    known = {f.name: f for f in fields(BundlingSettings)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"[rules.bundling]: unknown setting(s) {', '.join(unknown)}; known: {', '.join(known)}")
    clean: dict[str, Any] = {}
    for key, value in values.items():
        if key in ("orphan_modes", "host_modes"):
            clean[key] = tuple(value)
        elif key in ("vote_participation_min", "vote_yes_over"):
            try:
                share = Fraction(str(value))
            except (ValueError, ZeroDivisionError) as exc:
                raise ValueError(f"[rules.bundling]: {key} must be a share like 2/3, got {value!r}") from exc
            if not 0 < share < 1:
                raise ValueError(f"[rules.bundling]: {key} must be between 0 and 1, got {value!r}")
            clean[key] = str(share)
        elif key == "include_unknown":
            if not isinstance(value, bool):
                raise ValueError(f"[rules.bundling]: include_unknown must be true or false, got {value!r}")
            clean[key] = value
        elif key in ("min_households", "max_buildings_orphan", "metric_crs", "host_min_buildings"):
            clean[key] = int(value)
        elif value is not None:
            clean[key] = float(value)
        else:
            clean[key] = value
    settings = replace(BundlingSettings(), **clean)
    if settings.max_distance_m < 0 or settings.neighbour_distance_m < 0:
        raise ValueError("[rules.bundling]: distances must be ≥ 0")
    return settings
