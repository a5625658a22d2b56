"""Thresholds of the coverage plugin (RULES §1), overridable via `[rules.coverage]` in the config file."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from geoplatform.config import PlanSettings, plan_settings, redefines_plan

PROVENANCE: dict[str, str] = {
    "served_modes": "[D] RULES §1: 专业化物业服务 = professional or state_owned management ([rules.plan], shared)",
    "owners_org_values": "[Q] the plan: 业委会 (owners_committee) or 物管会 (management_committee)",
    "target_coverage": "[Q] the plan: coverage ≥ 80% by end-2027",
    "target_owners_org": "[Q] the plan: owners' organisation rate ≥ 95% by end-2027",
    "milestones": "[Q] the 2025–2027 plan: year ends 2025, 2026, 2027 (RULES §1 path to target)",
    "bundle_action_cost": "[D] planner: an open bundle proposal costs the district no subsidy (万元/year)",
    "renewal_action_cost": "[D] planner: renewing a contract costs the district no subsidy (万元/year)",
}


@dataclass(frozen=True)
class CoverageSettings:
    """Every threshold of RULES §1 as a named setting; PROVENANCE says where each comes from."""

    # [D] RULES §1: professionally served (专业化物业服务): the plan-level definition (geoplatform.config.PlanSettings).
    served_modes: tuple[str, ...] = PlanSettings().served_modes
    # [Q] the plan: an owners' organisation is an owners' committee (业委会) or a management committee (物管会).
    owners_org_values: tuple[str, ...] = ("owners_committee", "management_committee")
    # [Q] the plan: professional property service covers ≥ 80% of compounds by end-2027.
    target_coverage: float = 0.8
    # [Q] the plan: ≥ 95% of compounds have an owners' organisation by end-2027.
    target_owners_org: float = 0.95
    # [Q] the 2025–2027 plan: the path to target is judged at each year end; the last one is the planner's.
    milestones: tuple[str, ...] = ("2025-12-31", "2026-12-31", "2027-12-31")
    # [D] the planner's cost of the actions that need no subsidy (万元 per year, as takeover_cost).
    bundle_action_cost: float = 0.0
    renewal_action_cost: float = 0.0

    @classmethod
    def from_overrides(cls, overrides: dict[str, Any] | None) -> CoverageSettings:
        """Defaults updated with `[rules.coverage]` overrides; unknown keys or bad values raise ValueError."""
        overrides = dict(overrides or {})
        names = {f.name for f in fields(cls)}
        unknown = set(overrides) - names
        if unknown:
            raise ValueError(f"unknown [rules.coverage] setting(s): {', '.join(sorted(unknown))}")
        for key in ("served_modes", "owners_org_values"):
            if key in overrides:
                if isinstance(overrides[key], str) or not all(isinstance(v, str) for v in overrides[key]):
                    raise ValueError(f"[rules.coverage] {key} must be a list of strings")
                overrides[key] = tuple(overrides[key])
        if "milestones" in overrides:
            import datetime as dt

            try:
                days = sorted(dt.date.fromisoformat(str(v)) for v in overrides["milestones"])
            except (TypeError, ValueError) as exc:
                raise ValueError("[rules.coverage] milestones must be a list of YYYY-MM-DD dates") from exc
            if not days:
                raise ValueError("[rules.coverage] milestones must not be empty")
            overrides["milestones"] = tuple(d.isoformat() for d in days)
        for key in ("bundle_action_cost", "renewal_action_cost"):
            if key in overrides:
                value = float(overrides[key])
                if value < 0:
                    raise ValueError(f"[rules.coverage] {key} must be ≥ 0, got {value}")
                overrides[key] = value
        for key in ("target_coverage", "target_owners_org"):
            if key in overrides:
                value = float(overrides[key])
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"[rules.coverage] {key} must be between 0 and 1, got {value}")
                overrides[key] = value
        return cls(**{**{f.name: getattr(cls(), f.name) for f in fields(cls)}, **overrides})


def settings_for(context: Any) -> CoverageSettings:
    """The settings of this invocation (defaults + the context's `[rules.coverage]`; served modes from `[rules.plan]`)."""
    overrides = context.rules("coverage") if context is not None else {}
    redefines_plan("coverage", overrides, "served_modes")
    plan = plan_settings(getattr(context, "config", None))
    return CoverageSettings.from_overrides({**overrides, "served_modes": list(plan.served_modes)})


def settings_table(settings: CoverageSettings) -> list[dict[str, Any]]:
    """The thresholds with their values and provenance, for display where they are applied."""
    return [{"name": f.name, "value": getattr(settings, f.name), "provenance": PROVENANCE[f.name]}
            for f in fields(settings)]


def milestone_days(settings: CoverageSettings) -> list[Any]:
    """The milestones as dates, in order."""
    import datetime as dt

    return [dt.date.fromisoformat(d) for d in settings.milestones]
