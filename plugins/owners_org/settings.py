"""Thresholds of the owners' organisation rules (RULES §6), overridable via `[rules.owners_org]` in the config file."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

PROVENANCE: dict[str, str] = {
    "party_min_count": "[Q] the plan §(六): at least 3 party members form a party organisation; fewer → 联建/派驻",
    "party_min_share": "[Q] the plan §(六): party members 尽可能 at least half of the formal members",
    "alternates_max_share": "[Q] the plan §(六): alternates 不得超过正式委员人数的50% (⌊N × share⌋)",
    "vacancy_reelection_share": "[Q] the plan §(六): more than half of the seats vacant → re-election",
    "evaluation_grace_days": "[D] a closed half-year without its 民主评议 is overdue from this many days after its last day",
    "evaluation_first_period": "[D] the first half-year whose 民主评议 is required (records start with the plan)",
    "rectification_days": "[D] an unqualified grade is rectified within this many days of the evaluation",
    "unqualified_limit": "[Q] the plan §(六): two unqualified grades within one year → re-election",
    "unqualified_max_gap": "[D] 'within one year' = the same or consecutive half-years (gap ≤ 1 half-year)",
    "trainings_per_year": "[Q] the plan, 街镇职责: at least 2 trainings a year for committee members",
    "training_audience": "[Q] the trainings counted are those for committee members",
    "training_first_year": "[D] the first calendar year whose trainings are judged",
    "custody_days": "[D] 街镇职责10: the street takes custody of a lapsed committee's seal and archives within 30 days",
    "term_warning_days": "[D] a term ending within this many days is shown as an alert",
    "count_lapsed": "[D] RULES §1: lapsed organisations (term expired, re-election required) do not count",
    "target_rate": "[Q] the plan: owners' organisation rate ≥ 95% by end-2027 (street choropleth)",
}


@dataclass(frozen=True)
class OwnersOrgSettings:
    """Every threshold of RULES §6 as a named setting; PROVENANCE says where each comes from."""

    # [Q] A2: with fewer than 3 party members among the sitting formal members → warning party_count_low;
    # with at least 3 a party organisation must be recorded (party_org_missing until it is).
    party_min_count: int = 3
    # [Q] A2 ("尽可能"): party members / formal seats below this share → warning party_share_low.
    party_min_share: float = 0.5
    # [Q] A3 (hard): alternates ≤ ⌊seats × share⌋, more is refused.
    alternates_max_share: float = 0.5
    # [Q] A4: vacancies V > seats × share → re-election (vacancy_over_half); 0 < V ≤ that → seats filled.
    vacancy_reelection_share: float = 0.5
    # [D] A5: evaluation_overdue from this many days after a closed half-year's last day (H1 → 31 July).
    evaluation_grace_days: int = 31
    # [D] A5: half-years before this one are not required (records start with the plan).
    evaluation_first_period: str = "2025H1"
    # [D] A5: an unqualified grade is rectified within this many days of the evaluation.
    rectification_days: int = 30
    # [Q] A5: this many unqualified grades within one year → re-election (two_unqualified).
    unqualified_limit: int = 2
    # [D] A5: "within one year" = the same or consecutive half-years (at most this many half-years apart).
    unqualified_max_gap: int = 1
    # [Q] A6: trainings per street and calendar year.
    trainings_per_year: int = 2
    # [Q] A6: the audience a session must include to count.
    training_audience: str = "committee_members"
    # [D] A6: the first calendar year judged (training_short) — earlier years are not on record.
    training_first_year: int = 2025
    # [D] A7: custody of seal, accounts, vouchers and archives within this many days of the term's end.
    custody_days: int = 30
    # [D] alerts: terms ending within this many days.
    term_warning_days: int = 90
    # [D] RULES §1: lapsed organisations count towards the rate only when true.
    count_lapsed: bool = False
    # [Q] the plan's 2027 target, for "compounds still needed" (the KPI itself is the coverage plugin's).
    target_rate: float = 0.95

    @classmethod
    def from_overrides(cls, overrides: dict[str, Any] | None) -> OwnersOrgSettings:
        """Defaults updated with `[rules.owners_org]` overrides; unknown keys or bad values raise ValueError."""
        overrides = dict(overrides or {})
        defaults = cls()
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown [rules.owners_org] setting(s): {', '.join(sorted(unknown))}")
        out: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in overrides:
                continue
            value, default = overrides[f.name], getattr(defaults, f.name)
            try:
                if isinstance(default, bool):
                    if not isinstance(value, bool):
                        raise TypeError
                elif isinstance(default, int):
                    if isinstance(value, bool) or int(value) != value or int(value) < 0:
                        raise TypeError
                    value = int(value)
                elif isinstance(default, float):
                    value = float(value)
                    if not 0.0 <= value <= 1.0:
                        raise TypeError
                else:
                    value = str(value)
            except (TypeError, ValueError):
                raise ValueError(f"[rules.owners_org] {f.name}: bad value {value!r}") from None
            out[f.name] = value
        if "evaluation_first_period" in out:
            from plugins.owners_org.rules import parse_period

            if parse_period(out["evaluation_first_period"]) is None:
                raise ValueError("[rules.owners_org] evaluation_first_period must look like 2025H1")
        return cls(**{**{f.name: getattr(defaults, f.name) for f in fields(cls)}, **out})


def settings_for(context: Any) -> OwnersOrgSettings:
    """The settings of this invocation (defaults + the context's `[rules.owners_org]`)."""
    return OwnersOrgSettings.from_overrides(context.rules("owners_org") if context is not None else None)


def settings_table(settings: OwnersOrgSettings) -> list[dict[str, Any]]:
    """The thresholds with their values and provenance, for display where they are applied."""
    return [{"name": f.name, "value": getattr(settings, f.name), "provenance": PROVENANCE[f.name]}
            for f in fields(settings)]
