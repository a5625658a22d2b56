"""Thresholds and weights of the state-owned takeover score (RULES §4), each with its provenance.

[Q] = stated by a source (the district's action plan, national practice); [D] = our default,
overridable in the config file under ``[rules.takeover]``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

COMPONENTS = ("contiguity", "age", "renovation", "fee_viability", "households", "safety_complaints",
              "utility_handover", "owners_org")


@dataclass(frozen=True)
class TakeoverSettings:
    """Candidate filter, score weights (sum 100), component scalings and selection defaults."""

    # --- candidates ---
    candidate_modes: tuple[str, ...] = ("none",)  # [D] RULES §4: management_mode = none (无物业)
    optional_modes: tuple[str, ...] = ("community_managed",)  # [D] RULES §4 option: 社区代管 too
    # [D] RULES §1: a compound whose mode is unknown (待核实) is no candidate unless asked (--include-unknown)
    include_unknown: bool = False
    # --- weights (points of the 0–100 score) [D] RULES §4, configurable ---
    weight_contiguity: float = 20.0
    weight_age: float = 15.0
    weight_renovation: float = 15.0
    weight_fee_viability: float = 15.0
    weight_households: float = 10.0
    weight_safety_complaints: float = 10.0
    weight_utility_handover: float = 10.0
    weight_owners_org: float = 5.0
    # --- contiguity: one team serves several neighbouring compounds ---
    contiguity_radius_m: float = 500.0  # [D] RULES §4: other candidates / state-owned compounds within 500 m
    # [D] component = min(neighbours / 5, 1): five neighbours (other candidates or state-owned
    # compounds) within the radius make a full patch for one on-site team (the scale-1 demo's median
    # is 4, so the component still separates clusters); edge-to-edge distance in EPSG:4546 metres.
    contiguity_saturation: int = 5
    metric_crs: str = "EPSG:4546"  # [D] CGCS2000 3° GK CM 111°E (DESIGN.md says 4547, but that code is CM 114°E)
    # --- age [Q] 老旧小区 = built before end-2000; 2001–2005 and later steps [D] ---
    age_old_until: int = 2000
    age_mid_until: int = 2005
    age_old_score: float = 1.0
    age_mid_score: float = 0.5
    age_new_score: float = 0.2
    # --- renovation (老旧小区改造) [D] RULES §4 ---
    renovation_scores: dict[str, float] = field(default_factory=lambda: {
        "completed": 1.0, "in_progress": 0.6, "planned": 0.3, "none": 0.0, "unknown": 0.0})  # unknown: nothing to credit
    # --- fee viability: collection rate, full at ≥ 60 % [D] RULES §4 ---
    fee_full_at: float = 0.60
    # --- households: log-scaled, full at 500 [D] RULES §4: ln(1+h)/ln(1+500) ---
    households_full_at: int = 500
    # --- safety & complaints [D] RULES §4: urgency = 12345 complaints per year / 20 + open safety problems of the
    # ledger (RULES §8) / 3, capped at 1 — either alone can fill it ---
    complaints_full_at: float = 20.0
    safety_problems_full_at: float = 3.0
    # --- owners' organisation [D]: 业委会/物管会 sign the service contract; 筹备中 half ---
    owners_org_scores: dict[str, float] = field(default_factory=lambda: {
        "owners_committee": 1.0, "management_committee": 1.0, "preparing": 0.5, "none": 0.0, "unknown": 0.0})
    # --- tender [Q] RULES §4 / the plan: only 公开招标 or 邀请招标; floor area ≥ 5万 m² (or unknown) → public ---
    public_tender_min_floor_area_m2: float = 50_000.0
    invited_tender_min_bidders: int = 3  # [Q] an invited tender needs ≥ 3 bidders (邀请不少于3家)
    public_tender_min_bidders: int = 1  # [D] a public tender records at least the one bidder that won
    # --- selection defaults [Q] the plan: 10–15 compounds in 2025 ---
    select_min: int = 10
    select_max: int = 15
    solver_time_limit_s: float = 10.0  # [D] HiGHS time limit; past it we report optimal=false
    # [D] the district's state company when the database has no property_company flagged state_owned
    state_company_name: str = "昆都仑区城市物业服务有限公司"

    def weights(self) -> dict[str, float]:
        """Weight of each component, in COMPONENTS order."""
        return {c: float(getattr(self, f"weight_{c}")) for c in COMPONENTS}

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready) of every setting."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def load_settings(overrides: dict[str, Any] | None = None) -> TakeoverSettings:
    """Defaults updated with configured overrides (unknown keys are an error)."""
    overrides = dict(overrides or {})
    known = {f.name for f in fields(TakeoverSettings)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"[rules.takeover]: unknown setting(s) {', '.join(unknown)}")
    for key in ("candidate_modes", "optional_modes"):
        if key in overrides:
            overrides[key] = tuple(overrides[key])
    if "include_unknown" in overrides and not isinstance(overrides["include_unknown"], bool):
        raise ValueError(f"[rules.takeover]: include_unknown must be true or false, got {overrides['include_unknown']!r}")
    return TakeoverSettings(**overrides)
