"""Settings of the basemaps plugin, overridable via `[rules.basemaps]` in the configuration file."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class BasemapSettings:
    """Where tile packages live and how the own-data basemap is drawn; the comment says where each comes from."""

    # [D] Tile packages are kept in the instance folder (GEOPLATFORM_INSTANCE, default ./instance), in
    # a `basemaps` folder beside the embedded database and the secret key; "" means that default.
    package_dir: str = ""
    # [D] Browsers may keep a tile for a day without asking again (packages never change in place:
    # replacing one changes its tile URL's version).
    tile_max_age_s: int = 86400
    # [D] Outlines of the own-data basemap are simplified to ≈ 1/3 of a pixel at zoom 15 (≈ 1.5 m at
    # 40°N): invisible on screen, and the district-wide answer stays a few tens of kB.
    simplify_deg: float = 0.00002
    # [D] Coordinates are rounded to 6 decimals (≈ 0.1 m), more than the data's own precision.
    coordinate_decimals: int = 6

    @classmethod
    def from_overrides(cls, overrides: dict[str, Any] | None) -> BasemapSettings:
        """Defaults updated with configured overrides (unknown keys are rejected)."""
        overrides = dict(overrides or {})
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"[rules.basemaps]: unknown setting(s) {', '.join(sorted(unknown))}")
        return cls(**overrides)

    def directory(self) -> Path:
        """The folder holding the tile packages and their manifests."""
        if self.package_dir:
            return Path(self.package_dir)
        return Path(os.environ.get("GEOPLATFORM_INSTANCE", "instance")) / "basemaps"


def settings_for(context: Any) -> BasemapSettings:
    """The settings of this context's configuration."""
    return BasemapSettings.from_overrides(context.config.rules_for("basemaps"))
