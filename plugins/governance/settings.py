"""Thresholds of the governance plugin (RULES §8), overridable via `[rules.governance]` in the config file.

Every setting says where it comes from: [Q] a source (the plan's §(四), §(五)3, §(九), §(十) as RULES
§8 quotes them), [D] our default.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

# The seven kinds of the special campaign's ledger (plan §(五)3) [Q]: the "two passages" (消防车通道 and
# 安全疏散通道) are two kinds, then e-bikes, falling objects, confined spaces, fit-out works, installed piles.
LEDGER_CATEGORIES = ("fire_lane", "evacuation_route", "ebike_charging", "falling_objects", "confined_space",
                     "renovation_works", "charging_pile_hazard")
# Further violations a firm must dissuade and report (plan §(九)), named by RULES §8's routing [Q].
OTHER_CATEGORIES = ("flammables", "illegal_building", "green_space", "noise", "firm_fire_duty", "dogs", "lift")
CATEGORIES = LEDGER_CATEGORIES + OTHER_CATEGORIES
DEPARTMENTS = ("fire_brigade", "urban_management", "police", "market_regulation", "housing_bureau")
# The default of `safety_categories` (RULES §4's "open safety issues (§8)" in the takeover score): the seven
# hazards of the special campaign's ledger [Q plan §(五)3: 安全隐患], flammables and firms' fire-safety duty
# [Q: routed to the fire brigade / police as fire safety], lifts [D: 电梯安全].
SAFETY_CATEGORIES = LEDGER_CATEGORIES + ("flammables", "firm_fire_duty", "lift")
RECIPIENTS = ("street", "authority", "owners_org")  # who must be told within 24 hours (RULES §8)

PROVENANCE: dict[str, str] = {
    "report_hours": "[Q] plan §(九): dissuasion fails → report within 24 hours (RULES §8)",
    "routing": "[Q] RULES §8 routing (leading-group duties) for fire lanes, 飞线充电, flammables, illegal building, "
               "green space, noise, firms' fire-safety duty, dogs, lifts; [D] the rest (see the comments)",
    "org_states_told": "[D] an owners' organisation that exists (elected, filed, active, lapsed but not dissolved) "
                       "must be told; a 筹备组 or a dissolved one need not",
    "org_values_told": "[Q] fallback without organisation records: 业委会 or 物管会 in compound.owners_org",
    "mediation_days": "[Q] plan §(十): community and district mediation each due within 30 days of opening",
    "judicial_days": "[D] the court's 诉前调解 runs on the court's clock: not watched here (none)",
    "pilot_years": "[Q] plan §(四): the 2025 pilots, one per street/town (a street without one is reported)",
    "pilot_meetings_per_quarter": "[Q] plan §(四): ≥ 1 三方联席 meeting every quarter",
    "pilot_meeting_kinds": "[Q] plan §(四): the quarterly duty is the 三方联席 (tripartite) meeting; wider joint "
                           "meetings are recorded but do not count",
    "pilot_min_cases": "[Q] plan §(四): ≥ 2 published typical cases per pilot and year",
    "credit_event_days": "[D] a credit event stays in the firm's file for a year (as geoplatform.exchange)",
    "timezone": "[D] clocks are local time in Baotou (Asia/Shanghai)",
    "colors": "[D] map colours (worst open problem, pilots, overdue mediations)",
    "safety_categories": "[Q] plan §(五)3: the seven hazards of the campaign ledger are safety problems; [Q] "
                         "flammables and firms' fire-safety duty (fire safety); [D] lifts — what the takeover score "
                         "counts as open safety problems (RULES §4)",
}

DEFAULT_ROUTING: dict[str, str] = {
    "fire_lane": "fire_brigade",  # [Q] fire lanes → 消防救援大队
    "evacuation_route": "fire_brigade",  # [D] the other of the "two passages": fire safety
    "ebike_charging": "fire_brigade",  # [Q] 飞线充电 → 消防救援大队
    "charging_pile_hazard": "fire_brigade",  # [D] a fire hazard of installed piles
    "flammables": "fire_brigade",  # [Q]
    "illegal_building": "urban_management",  # [Q] → 城管执法局
    "renovation_works": "urban_management",  # [D] unlawful fit-out works are illegal building
    "green_space": "urban_management",  # [Q]
    "noise": "urban_management",  # [Q]
    "firm_fire_duty": "police",  # [Q] firms' fire-safety duty → 公安分局
    "dogs": "police",  # [Q]
    "falling_objects": "police",  # [D] 民法典 §1254: 公安等机关 investigate objects thrown from buildings
    "lift": "market_regulation",  # [Q] lifts → 市场监管局
    "confined_space": "housing_bureau",  # [D] RULES names no department: the industry's regulator (住建局)
}


@dataclass(frozen=True)
class GovernanceSettings:
    """Every threshold of RULES §8 as a named setting; PROVENANCE says where each comes from."""

    report_hours: int = 24
    routing: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ROUTING))
    org_states_told: tuple[str, ...] = ("elected", "filed", "active", "term_expired", "re_election_required")
    org_values_told: tuple[str, ...] = ("owners_committee", "management_committee")
    mediation_days: int = 30
    judicial_days: int | None = None
    pilot_years: tuple[int, ...] = (2025,)
    pilot_meetings_per_quarter: int = 1
    pilot_meeting_kinds: tuple[str, ...] = ("tripartite",)
    pilot_min_cases: int = 2
    credit_event_days: int = 365
    timezone: str = "Asia/Shanghai"
    colors: dict[str, str] = field(default_factory=lambda: {
        "refused": "#6a1b9a", "overdue": "#c62828", "open": "#ef6c00", "rectifying": "#f9a825",
        "pilot": "#1565c0", "pilot_progress": "#64b5f6", "mediation_community": "#ad1457", "mediation_administrative": "#6d4c41",
        "mediation_judicial": "#37474f"})
    safety_categories: tuple[str, ...] = SAFETY_CATEGORIES

    def department(self, category: str) -> str:
        """The competent department told of a problem of `category` (RULES §8 routing)."""
        return self.routing.get(category, "housing_bureau")

    @classmethod
    def from_overrides(cls, overrides: dict[str, Any] | None) -> GovernanceSettings:
        """Defaults updated with `[rules.governance]` overrides; unknown keys or bad values raise ValueError."""
        overrides = dict(overrides or {})
        names = {f.name for f in fields(cls)}
        unknown = set(overrides) - names
        if unknown:
            raise ValueError(f"unknown [rules.governance] setting(s): {', '.join(sorted(unknown))}")
        for key in ("report_hours", "mediation_days", "pilot_meetings_per_quarter", "pilot_min_cases",
                    "credit_event_days"):
            if key in overrides:
                value = overrides[key]
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"[rules.governance] {key} must be a whole number ≥ 0")
        if "judicial_days" in overrides and overrides["judicial_days"] is not None:
            if not isinstance(overrides["judicial_days"], int) or overrides["judicial_days"] < 1:
                raise ValueError("[rules.governance] judicial_days must be a whole number ≥ 1")
        if "safety_categories" in overrides:
            given = overrides["safety_categories"]
            if isinstance(given, str) or not set(given) <= set(CATEGORIES):
                raise ValueError(f"[rules.governance] safety_categories must be a list of {', '.join(CATEGORIES)}")
        for key in ("org_states_told", "org_values_told", "pilot_meeting_kinds", "pilot_years", "safety_categories"):
            if key in overrides:
                overrides[key] = tuple(overrides[key])
        if "routing" in overrides:
            routing = {**DEFAULT_ROUTING, **dict(overrides["routing"])}
            bad = sorted(k for k, v in routing.items() if k not in CATEGORIES or v not in DEPARTMENTS)
            if bad:
                raise ValueError(f"[rules.governance] routing: unknown category or department for {', '.join(bad)}")
            overrides["routing"] = routing
        if "colors" in overrides:
            overrides["colors"] = {**cls().colors, **dict(overrides["colors"])}
        return cls(**{**{f.name: getattr(cls(), f.name) for f in fields(cls)}, **overrides})


def settings_for(context: Any) -> GovernanceSettings:
    """The settings of this invocation (defaults + the context's `[rules.governance]`)."""
    return GovernanceSettings.from_overrides(context.rules("governance") if context is not None else None)


def settings_table(settings: GovernanceSettings) -> list[dict[str, Any]]:
    """The thresholds with their values and provenance, for display where they are applied."""
    return [{"name": f.name, "value": getattr(settings, f.name), "provenance": PROVENANCE[f.name]}
            for f in fields(settings)]
