"""Thresholds of property-firm supervision (RULES §7), each with its provenance; `[rules.firms]` overrides them.

[Q] = stated by a source (the district's action plan, published credit schemes); [D] = our default.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields
from typing import Any

PERIOD = re.compile(r"^(\d{4})H([12])$")


@dataclass(frozen=True)
class FirmsSettings:
    """Every threshold of RULES §7 as a named setting; the comment says where it comes from."""

    # [D] the credit grade scale, best first, as in published schemes (AAA > AA > A > B > C)
    grade_scale: tuple[str, ...] = ("AAA", "AA", "A", "B", "C")
    # [Q] the plan: "不得选聘被列为B级和黑名单物业服务企业"; [D] B and everything below it on the scale
    forbidden_grades: tuple[str, ...] = ("B", "C")
    # [D] a credit event (grade, list entry, blacklisting) counts for this many days unless it says otherwise
    event_valid_days: int = 365
    # [D] RULES §7: contract findings — expiring within 90 days, urgent within 30 days
    expiring_days: int = 90
    expiring_urgent_days: int = 30
    # [Q] the plan: fees disclosed at least every half-year, each time for at least 15 days (both ends counted)
    disclosure_min_days: int = 15
    # [D] the first half-year whose disclosures are checked
    disclosure_start: str = "2025H1"
    # [Q] the plan: 好评榜 and 差评榜 publish the top 3 and bottom 3 firms of a quarter
    good_list_size: int = 3
    bad_list_size: int = 3
    # [Q] RULES §7: a street scores each firm 0–100 (standard + satisfaction + 12345)
    score_min: float = 0.0
    score_max: float = 100.0
    # [D] RULES §1: professionally served modes (a compound a firm serves) — the plan's definition
    # (`[rules.plan] served_modes`, geoplatform.config.PlanSettings), never redefined here
    served_modes: tuple[str, ...] = ("professional", "state_owned")
    # [D] modes of a compound nobody serves: an expired contract there is no longer a coverage risk
    unserved_modes: tuple[str, ...] = ("none", "self_managed", "community_managed")

    def __post_init__(self) -> None:
        if not self.grade_scale or len(set(self.grade_scale)) != len(self.grade_scale):
            raise ValueError("[rules.firms] grade_scale must list distinct grades, best first")
        unknown = set(self.forbidden_grades) - set(self.grade_scale)
        if unknown:
            raise ValueError(f"[rules.firms] forbidden_grades not on the scale: {', '.join(sorted(unknown))}")
        if not PERIOD.match(self.disclosure_start):
            raise ValueError("[rules.firms] disclosure_start must be a half-year such as 2025H1")
        if not 0 < self.expiring_urgent_days <= self.expiring_days:
            raise ValueError("[rules.firms] need 0 < expiring_urgent_days <= expiring_days")
        if self.disclosure_min_days < 1 or self.event_valid_days < 1:
            raise ValueError("[rules.firms] disclosure_min_days and event_valid_days must be ≥ 1")

    def grade_rank(self, grade: str | None) -> int | None:
        """Position on the scale (0 = best), None for no or an unknown grade."""
        return self.grade_scale.index(grade) if grade in self.grade_scale else None

    def event_expiry(self, on: dt.date) -> dt.date:
        """The day a credit event dated `on` stops counting (by default one year later)."""
        return on + dt.timedelta(days=self.event_valid_days)

    def as_dict(self) -> dict[str, Any]:
        """The settings as JSON-friendly values (shown where they are applied)."""
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v) for f in fields(self)}


TUPLES = ("grade_scale", "forbidden_grades", "served_modes", "unserved_modes")
INTS = ("event_valid_days", "expiring_days", "expiring_urgent_days", "disclosure_min_days", "good_list_size",
        "bad_list_size")


def load_settings(overrides: dict[str, Any] | None = None) -> FirmsSettings:
    """Defaults updated with configured overrides (unknown keys and bad values are an error)."""
    overrides = dict(overrides or {})
    known = {f.name for f in fields(FirmsSettings)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"[rules.firms]: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    for key in TUPLES:
        if key in overrides:
            overrides[key] = tuple(str(v) for v in overrides[key])
    for key in INTS:
        if key in overrides:
            overrides[key] = int(overrides[key])
    for key in ("score_min", "score_max"):
        if key in overrides:
            overrides[key] = float(overrides[key])
    return FirmsSettings(**overrides)


def settings_for(context: Any) -> FirmsSettings:
    """The settings in force for a Context (config overrides applied; served modes from `[rules.plan]`)."""
    from geoplatform.config import plan_settings, redefines_plan

    overrides = dict(context.rules("firms") if context is not None else {})
    redefines_plan("firms", overrides, "served_modes")
    plan = plan_settings(getattr(context, "config", None))
    return load_settings({**overrides, "served_modes": list(plan.served_modes)})
