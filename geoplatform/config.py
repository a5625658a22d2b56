"""Configuration: one Config object built per app/CLI invocation from defaults, a TOML file and env."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_DB_PATH = Path("instance") / "geoplatform.sqlite"


@dataclass
class Config:
    """Runtime settings; domain thresholds live in `rules` keyed by plugin name."""

    database_url: str = ""
    secret_key: str = ""
    tianditu_key: str = ""
    disabled_plugins: list[str] = field(default_factory=list)
    language: str = "zh"
    # per-plugin overrides of the [D] defaults of RULES.md, e.g. {"bundling": {"max_distance_m": 250}}
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_upload_bytes: int = 50 * 1024 * 1024
    # addresses/networks of the reverse proxies whose X-Forwarded-For/-Proto the web app believes
    # (GEOPLATFORM_TRUSTED_PROXIES="127.0.0.1,::1"); empty: nobody's (docs/deploy.md)
    trusted_proxies: list[str] = field(default_factory=list)
    # `serve` computes the next data revision's caches in a worker process, so that reads keep the interpreter
    # while a write is taken in (geoplatform/publisher.py); GEOPLATFORM_RECOMPUTE_WORKER=0: in the server process
    recompute_worker: bool = True

    def rules_for(self, plugin: str) -> dict[str, Any]:
        """The overrides configured for one plugin's settings."""
        return dict(self.rules.get(plugin, {}))


@dataclass(frozen=True)
class PlanSettings:
    """Plan-level definitions several plugins share (RULES §1), defined once: `[rules.plan]` overrides them.

    Coverage, takeover, charging, bundling and the demo read these; none of them redefines them.
    """

    # [D] RULES §1: professionally served (专业化物业服务) = management_mode in these.
    served_modes: tuple[str, ...] = ("professional", "state_owned")
    # [D] RULES §1: managed (物业管理覆盖) = any mode except none and unknown.
    managed_modes: tuple[str, ...] = ("professional", "state_owned", "self_managed", "community_managed")

    @classmethod
    def from_overrides(cls, overrides: dict[str, Any] | None) -> PlanSettings:
        """Defaults updated with `[rules.plan]`; unknown keys or modes raise ValueError."""
        values = dict(overrides or {})
        unknown = sorted(set(values) - {"served_modes", "managed_modes"})
        if unknown:
            raise ValueError(f"unknown [rules.plan] setting(s): {', '.join(unknown)}")
        from geoplatform.models import MANAGEMENT_MODES

        known = (*MANAGEMENT_MODES, "unknown")
        for key, modes in values.items():
            if isinstance(modes, str) or not all(m in known for m in modes):
                raise ValueError(f"[rules.plan] {key} must be a list of management modes "
                                 f"({', '.join(known)}), got {modes!r}")
            values[key] = tuple(modes)
        return cls(**values)


def plan_settings(config: Config | None) -> PlanSettings:
    """The plan-level definitions in force (defaults + the config's `[rules.plan]`)."""
    return PlanSettings.from_overrides(config.rules_for("plan") if config is not None else None)


def redefines_plan(plugin: str, overrides: dict[str, Any], *keys: str) -> None:
    """ValueError when a plugin's `[rules.<plugin>]` tries to redefine a plan-level definition."""
    found = [k for k in keys if k in overrides]
    if found:
        raise ValueError(f"[rules.{plugin}] {', '.join(found)}: a plan-level definition — set it once in [rules.plan] "
                         f"(served_modes, managed_modes)")


def default_database_url() -> str:
    """The embedded SpatiaLite file under ./instance."""
    return f"sqlite:///{DEFAULT_DB_PATH}"


def load_config(database_url: str | None = None, config_file: str | None = None) -> Config:
    """Build a Config: defaults < TOML file (GEOPLATFORM_CONFIG) < environment < explicit arguments."""
    cfg = Config()
    path = config_file or os.environ.get("GEOPLATFORM_CONFIG")
    if path:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        for key, value in data.items():
            if not hasattr(cfg, key):
                raise ValueError(f"{path}: unknown setting {key!r}")
            setattr(cfg, key, value)
    env = os.environ
    cfg.database_url = database_url or env.get("GEOPLATFORM_DATABASE_URL") or cfg.database_url or default_database_url()
    cfg.secret_key = env.get("GEOPLATFORM_SECRET_KEY", cfg.secret_key)
    cfg.tianditu_key = env.get("GEOPLATFORM_TIANDITU_KEY", cfg.tianditu_key)
    if env.get("GEOPLATFORM_DISABLE_PLUGINS"):
        cfg.disabled_plugins = [p.strip() for p in env["GEOPLATFORM_DISABLE_PLUGINS"].split(",") if p.strip()]
    cfg.language = env.get("GEOPLATFORM_LANGUAGE", cfg.language)
    if env.get("GEOPLATFORM_RECOMPUTE_WORKER"):
        cfg.recompute_worker = env["GEOPLATFORM_RECOMPUTE_WORKER"].strip().lower() not in ("0", "false", "no", "off")
    if "GEOPLATFORM_TRUSTED_PROXIES" in env:
        cfg.trusted_proxies = [p.strip() for p in env["GEOPLATFORM_TRUSTED_PROXIES"].split(",") if p.strip()]
    return cfg
