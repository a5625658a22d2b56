"""Thresholds of the charging plugin (RULES §3, GB/T 51313-2018), overridable via `[rules.charging]`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from geoplatform.config import PlanSettings, plan_settings, redefines_plan

# [Q] GB/T 51313-2018 §6.1.6 covers these garage types (the ones with a GB 50067 compartment limit here)
RESTRICTED_GARAGE_TYPES = ("underground", "semi_underground", "high_rise")


@dataclass(frozen=True)
class ChargingSettings:
    """Every threshold of RULES §3 as a named setting; the comment says where it comes from."""

    # [Q] GB/T 51313-2018 《电动汽车分散充电设施工程技术标准》 is in force from 2019-03-01. A garage
    # completed on an earlier day is "existing" (plan's exception, R6–R8); on/after it is "new" (R9).
    standard_date: dt.date = dt.date(2019, 3, 1)
    # [Q] The plan's exception applies to garages whose fire compartment (防火分区) exceeds 1000 m²;
    # a compartment of exactly 1000 m² does not exceed it.
    compartment_threshold_m2: float = 1000.0
    # [Q] RULES R9 / GB/T 51313-2018 §6.1.5: the charging area of a new garage needs its own fire
    # unit (防火单元) of at most 1000 m².
    fire_unit_max_m2: float = 1000.0
    # GB 50067-2014 (汽车库、修车库、停车场设计防火规范) 表5.1.1: the largest fire compartment (防火分区) of a
    # garage without automatic sprinklers, per garage type (耐火等级 一、二级): [Q] 地下汽车库 2000 m²;
    # [Q] 高层汽车库 2000 m²; [D — confirm against the printed table before relying on it] 半地下汽车库 2500 m²
    # (its own line of 表5.1.1, with 多层汽车库). Only `underground` reaches the exception (R6); the others are
    # still checked so that R7 can say when they are beyond their own limit too.
    gb50067_limits_m2: Mapping[str, float] = field(default_factory=lambda: MappingProxyType(
        {"underground": 2000.0, "semi_underground": 2500.0, "high_rise": 2000.0}))
    # [Q] GB 50067 §5.1.2: the limit doubles when the compartment has automatic sprinklers. [D] "with
    # sprinklers" means the garage's `sprinklers` state is `working` (faulty/absent/unknown do not count).
    gb50067_sprinkler_factor: float = 2.0
    # [Q] the plan's exception for existing garages with compartments over 1000 m² names 地下停车库 only
    # (RULES §3 R6): semi-underground and high-rise garages fall to R7.
    exception_garage_types: tuple[str, ...] = ("underground",)
    # [Q for new garages, D for existing ones] GB/T 51313-2018 §6.1.5: charging facilities not on the
    # 4th underground floor (B4 = -4) or below; R5 applies when lowest_charging_floor <= this value.
    lowest_floor_limit: int = -4
    # [D] RULES §1: professionally served (flags F1/F3): the plan-level definition (geoplatform.config.PlanSettings).
    professional_modes: tuple[str, ...] = PlanSettings().served_modes

    @classmethod
    def from_overrides(cls, overrides: dict[str, Any] | None) -> ChargingSettings:
        """Defaults updated with configured overrides (unknown keys and bad values are rejected)."""
        overrides = dict(overrides or {})
        names = {f.name for f in fields(cls)}
        unknown = set(overrides) - names
        if unknown:
            raise ValueError(f"unknown [rules.charging] setting(s): {', '.join(sorted(unknown))}")
        if "standard_date" in overrides:
            value = overrides["standard_date"]
            if isinstance(value, dt.datetime):
                value = value.date()
            elif isinstance(value, str):
                value = dt.date.fromisoformat(value)
            if not isinstance(value, dt.date):
                raise ValueError("[rules.charging] standard_date must be a date (YYYY-MM-DD)")
            overrides["standard_date"] = value
        for key in ("compartment_threshold_m2", "fire_unit_max_m2", "gb50067_sprinkler_factor"):
            if key in overrides:
                overrides[key] = float(overrides[key])
        if "gb50067_limits_m2" in overrides:  # per garage type; types not given keep their default
            given = overrides["gb50067_limits_m2"]
            bad = sorted(set(given) - set(RESTRICTED_GARAGE_TYPES)) if isinstance(given, Mapping) else ["(not a table)"]
            if bad:
                raise ValueError(f"[rules.charging] gb50067_limits_m2: garage types are {', '.join(RESTRICTED_GARAGE_TYPES)}; "
                                 f"got {', '.join(map(str, bad))}")
            overrides["gb50067_limits_m2"] = MappingProxyType(
                {**cls().gb50067_limits_m2, **{k: float(v) for k, v in given.items()}})
        if "exception_garage_types" in overrides:
            types = tuple(overrides["exception_garage_types"])
            if isinstance(overrides["exception_garage_types"], str) or not set(types) <= set(RESTRICTED_GARAGE_TYPES):
                raise ValueError(f"[rules.charging] exception_garage_types must be a list of "
                                 f"{', '.join(RESTRICTED_GARAGE_TYPES)}")
            overrides["exception_garage_types"] = types
        if "lowest_floor_limit" in overrides:
            overrides["lowest_floor_limit"] = int(overrides["lowest_floor_limit"])
        if "professional_modes" in overrides:
            overrides["professional_modes"] = tuple(overrides["professional_modes"])
        return cls(**{**{f.name: getattr(cls(), f.name) for f in fields(cls)}, **overrides})

    def as_dict(self) -> dict[str, Any]:
        """The settings as JSON-friendly values (shown with every evaluation)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["standard_date"] = self.standard_date.isoformat()
        out["professional_modes"] = list(self.professional_modes)
        out["gb50067_limits_m2"] = dict(self.gb50067_limits_m2)
        out["exception_garage_types"] = list(self.exception_garage_types)
        return out


def settings_for(context: Any) -> ChargingSettings:
    """The settings in force for a Context (config overrides applied; served modes from `[rules.plan]`)."""
    overrides = context.rules("charging") if context is not None else {}
    redefines_plan("charging", overrides, "professional_modes")
    plan = plan_settings(getattr(context, "config", None))
    return ChargingSettings.from_overrides({**overrides, "professional_modes": list(plan.served_modes)})
