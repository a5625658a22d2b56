"""Thresholds and defaults of the handover plugin (RULES §2), overridable via `[rules.handover]`."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class HandoverSettings:
    """Every [D] choice of RULES §2 as a named setting."""

    # [D] RULES §2 colours: taken_over green; owner_consent…agreement yellow; rectifying orange;
    # not_handed_over or overdue red; unknown grey. Keys are the colour classes of rules.state_class.
    colors: dict[str, str] = field(default_factory=lambda: {
        "open": "#d32f2f", "rectifying": "#f57c00", "progress": "#fbc02d", "unknown": "#9e9e9e", "done": "#388e3c",
    })
    # [D] RULES §2 says overdue = a ledger item past its deadline and not done. We also count a row
    # whose own deadline (handover.deadline) has passed while it is not in a final state.
    row_deadline_overdue: bool = True
    # [D] A utility user edits its own facility; the power company also runs the old-compound power
    # upgrade (老旧小区电力改造), so it may edit power_upgrade rows too.
    utility_extra_facilities: dict[str, tuple[str, ...]] = field(default_factory=lambda: {"power": ("power_upgrade",)})
    # [Q] RULES §2 "Owners of the extra kinds: telecom_access → role `telecom`, fire_acceptance → role `fire`".
    # Facility-scoped roles other than `utility` (whose facility is the account's own `utility`, plus the extras
    # above): role → the facility kinds its accounts own. Owning = reading and changing those rows only
    # (docs/security.md); a new utility-like role is one more entry here, nowhere else.
    role_facilities: dict[str, tuple[str, ...]] = field(default_factory=lambda: {
        "telecom": ("telecom_access",), "fire": ("fire_acceptance",)})
    # [D] Missing rows of the four utilities read as `unknown` (未摸排) and are listed in the backlog;
    # missing rows of the extra gap kinds mean "no gap recorded" and are not listed.
    list_unsurveyed: bool = True

    @classmethod
    def from_overrides(cls, overrides: dict[str, Any] | None) -> HandoverSettings:
        """Defaults updated with configured overrides (unknown keys are rejected)."""
        overrides = dict(overrides or {})
        names = {f.name for f in fields(cls)}
        unknown = set(overrides) - names
        if unknown:
            raise ValueError(f"unknown [rules.handover] setting(s): {', '.join(sorted(unknown))}")
        base = cls()
        if "colors" in overrides:
            overrides["colors"] = {**base.colors, **overrides["colors"]}
        for name in ("utility_extra_facilities", "role_facilities"):
            if name in overrides:
                overrides[name] = {k: tuple(v) for k, v in dict(overrides[name]).items()}
        return cls(**{**{f.name: getattr(base, f.name) for f in fields(cls)}, **overrides})


def settings_for(context: Any) -> HandoverSettings:
    """The settings in force for a Context (config overrides applied)."""
    return HandoverSettings.from_overrides(context.rules("handover") if context is not None else None)
