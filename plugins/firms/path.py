"""What the firms plugin tells coverage (RULES §1), through hooks: which served compounds have a contract in
force (served "verified"), when a served compound's contracts run out with no renewal (−served on the day
after the end; +served when a later contract starts), and the renewals the planner may choose."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoplatform.exchange import PlanAction, ProjectionChange, ServiceEvidence
from plugins.firms import rules
from plugins.firms.settings import FirmsSettings


def _by_compound(contracts: list[rules.Contract]) -> dict[str, list[rules.Contract]]:
    out: dict[str, list[rules.Contract]] = {}
    for c in contracts:
        out.setdefault(c.compound_id, []).append(c)
    return out


def served_evidence(session: Any, compound_ids: list[str], today: dt.date) -> dict[str, ServiceEvidence]:
    """{compound id: the contract in force on `today`} for those of `compound_ids` that have one."""
    from plugins.firms.service import load_contracts

    out = {}
    for cid, mine in _by_compound(load_contracts(session, compound_ids)).items():
        c = rules.contract_in_force(mine, today)
        if c is not None:
            out[cid] = ServiceEvidence(cid, c.id, c.company, c.end)
    return out


def _served_with_contracts(session: Any, settings: FirmsSettings) -> list[tuple[rules.CompoundRef, list]]:
    from plugins.firms.service import load_compounds, load_contracts

    served = [c for c in load_compounds(session) if c.management_mode in settings.served_modes]
    contracts = _by_compound(load_contracts(session, [c.id for c in served])) if served else {}
    return [(c, contracts[c.id]) for c in served if c.id in contracts]


def projection_changes(session: Any, settings: FirmsSettings) -> list[ProjectionChange]:
    """For each served compound with contracts: −served the day after its contracts run out, +served when a
    later contract (a renewal) starts."""
    out = []
    for comp, mine in _served_with_contracts(session, settings):
        for effect, on, c in rules.coverage_breaks(mine):
            out.append(ProjectionChange(unit=f"compound:{comp.id}", street_code=comp.street_code, effect=effect,
                                        source="firms", kind="contract_end" if effect == "-served" else "renewal",
                                        label=f"{c.id} · {c.company}", on=on, ref=c.id))
    return out


def plan_actions(session: Any, settings: FirmsSettings) -> list[PlanAction]:
    """A renewal for each served compound whose contracts run out (its cost: coverage's `renewal_action_cost`)."""
    out = []
    for comp, mine in _served_with_contracts(session, settings):
        breaks = rules.coverage_breaks(mine)
        if not breaks or breaks[-1][0] != "-served":
            continue
        last = breaks[-1][2]
        change = ProjectionChange(unit=f"compound:{comp.id}", street_code=comp.street_code, effect="+served",
                                  source="firms", kind="renewal", label=f"{last.id} · {last.company}", ref=last.id)
        out.append(PlanAction(id=f"renewal:{comp.id}", kind="renewal", source="firms", label=change.label,
                              street_code=comp.street_code, changes=(change,), cost=None))
    return out
