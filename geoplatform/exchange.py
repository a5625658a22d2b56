"""Records plugins exchange through hooks, so that no plugin imports another (RULES §4, §6, §7, §8).

- `OrgStatus`: a compound's current owners' organisation as the records say (RULES §6), answered by
  the owners' organisation plugin through `owners_org_status`; read by coverage (the 95 % rate),
  takeover (a signatory for a contract) and governance (who must be told within 24 hours).
- `FirmEligibility`: the credit gate of RULES §7, answered by the firms plugin through
  `firm_eligibility`; read by bundling (hosts), takeover (bidders, contracts).
- `CreditEvent`: a dated entry of a firm's credit file that a plugin derives from its own records
  (e.g. governance: a refused or overdue rectification), collected by the firms plugin through
  `credit_events`.
- `ServiceEvidence`: the active service contract behind a served compound (RULES §1 "verified"), answered
  by the firms plugin through `served_evidence`; read by coverage.
- `ProjectionChange`: one decided (or pending) change to a KPI unit — +served, −served or merged into a
  host — with the day it takes effect, from `projection_changes` (bundling, takeover, firms); read by
  coverage's path to target (RULES §1).
- `TakeoverBundle`: a new bundle of orphans with no host (RULES §5) as one takeover unit (RULES §4), answered by
  the bundling plugin through `takeover_bundles`; read by takeover (its candidate pool).
- `PlanAction`: an action the planner may pick (a takeover, an open bundle proposal, a contract
  renewal) with its cost and its `ProjectionChange`s, from `plan_actions`; read by coverage's planner.

When no plugin answers, each reader falls back to the plain compound fields and says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from geoplatform.sqlin import in_values


@dataclass(frozen=True)
class OrgStatus:
    """A compound's current owners' organisation (RULES §6)."""

    compound_id: str
    kind: str | None  # owners_committee | management_committee | None
    state: str  # unknown | none | preparing | elected | filed | active | term_expired | re_election_required | dissolved
    counts: bool  # counts towards the §1 owners' organisation rate
    known: bool  # the compound's organisation status is known (not `unknown`)
    can_sign: bool  # an active 业委会 or 物管会 that may sign a service contract (RULES §4)
    org_id: str | None = None
    declared: bool = False  # stated by a ledger, dates and members still to be recorded


@dataclass(frozen=True)
class FirmEligibility:
    """The RULES §7 credit gate for one firm: eligible iff filed, not blacklisted, grade not forbidden."""

    company: Any  # the firm's key (property_company)
    eligible: bool
    reasons: tuple[str, ...] = ()  # codes: not_filed, blacklisted, grade_forbidden, unknown_firm
    warnings: tuple[str, ...] = ()  # codes: no_grade, firm_not_recorded, filing_unknown


@dataclass(frozen=True)
class CreditEvent:
    """One entry of a firm's credit file (kept for `expires_on`, default a year [D])."""

    company: Any
    on: dt.date
    kind: str  # e.g. grade, good_list, bad_list, blacklisted, blacklist_lifted, rectification_refused, …
    source: str  # the plugin that derived it
    ref: str | None = None  # the record it comes from (problem id, quarter …)
    detail: str = ""
    expires_on: dt.date | None = None
    grade: str | None = None  # kind "grade": the grade given (on the configured scale, RULES §7)


@dataclass(frozen=True)
class ServiceEvidence:
    """The service contract in force on a compound as of a day (RULES §1: served "verified")."""

    compound_id: str
    contract_id: str
    company: Any = None
    end: dt.date | None = None


EFFECTS = ("+served", "-served", "merged")  # ProjectionChange.effect


@dataclass(frozen=True)
class ProjectionChange:
    """One change to a KPI unit (RULES §1 "Path to target"): `+served`, `-served`, or `merged` into `host`.

    A unit key is `compound:<id>` or `building:<id>` (a lone building, 单体楼); `host` is a unit key too (or
    `bundle:<proposal id>` for a new bundle of orphans, a unit that does not exist yet). `on` is the day the
    change takes effect (None: already decided, counted at every milestone); `pending` marks an undecided one
    (an open bundle proposal): the projection counts it, the planner treats it as an action still to take.
    """

    unit: str
    street_code: str | None
    effect: str  # one of EFFECTS
    source: str  # the plugin: bundling | takeover | firms …
    label: str  # what to show: the proposal / pipeline row / contract
    on: dt.date | None = None
    host: str | None = None  # effect merged: the unit it joins
    ref: str | None = None  # the record it comes from (proposal id, contract id, takeover row)
    kind: str = ""  # bundle | takeover | contract_end | renewal …
    pending: bool = False


@dataclass(frozen=True)
class PlanAction:
    """An action the planner may choose, with its cost (None: unknown — left out and reported) and its changes."""

    id: str
    kind: str  # takeover | bundle | renewal
    source: str
    label: str
    street_code: str | None
    changes: tuple[ProjectionChange, ...]
    cost: float | None = None


@dataclass(frozen=True)
class TakeoverBundle:
    """A new bundle of orphans (RULES §5) as one takeover candidate (RULES §4): area and households summed, the
    oldest member's build year, the household-weighted fee collection rate (None where no member says)."""

    id: str
    street_code: str | None
    compound_ids: tuple[str, ...]  # orphan compounds in the bundle (shortlisted together)
    building_ids: tuple[str, ...] = ()  # lone buildings in the bundle (no compound of their own)
    floor_area_m2: float | None = None
    households: int | None = None
    build_year: int | None = None  # the oldest member's
    fee_collection_rate: float | None = None  # household-weighted over the members that have one
    complaints_per_year: int | None = None  # summed over the members that have a count
    takeover_cost: float | None = None  # summed; None when any compound member's is unknown
    geometry: Any = None  # shapely geometry in EPSG:4326 (the bundle's outline), or None


def takeover_bundles(context: Any, session: Any) -> list[TakeoverBundle] | None:
    """The new bundles as takeover units, or None when no plugin answers (no bundles: compounds stand alone)."""
    return _first_answer(context, "takeover_bundles", session=session) if context is not None else None


def safety_problem_counts(context: Any, session: Any, compound_ids: list[str]) -> dict[str, int] | None:
    """{compound id: open safety problems} from the problem ledger, or None when no plugin keeps one (unknown)."""
    if context is None:
        return None
    return _first_answer(context, "safety_problems", session=session, compound_ids=list(compound_ids))


def _first_answer(context: Any, hook: str, **kwargs: Any) -> Any:
    """The first non-None answer of a firstresult hook, in pluggy's order; a plugin that raises is logged and skipped."""
    from geoplatform.pluginmanager import call_safely

    for _, answer in call_safely(context.pm, hook, context=context, **kwargs):
        return answer
    return None


def owners_org_statuses(context: Any, compound_ids: list[str]) -> dict[str, OrgStatus] | None:
    """{compound id: OrgStatus} from the organisation records, or None when no plugin answers (read the compound field)."""
    return _first_answer(context, "owners_org_status", compound_ids=list(compound_ids))


def firm_eligibilities(context: Any, companies: list[Any]) -> dict[Any, FirmEligibility] | None:
    """{firm key: FirmEligibility} from the credit gate, or None when no plugin answers (every firm then passes)."""
    return _first_answer(context, "firm_eligibility", companies=list(companies))


def collect_credit_events(context: Any, today: dt.date) -> list[CreditEvent]:
    """Every credit event the plugins derive from their records, oldest first."""
    from geoplatform.pluginmanager import call_safely

    events = [e for _, lst in call_safely(context.pm, "credit_events", context=context, today=today) for e in lst or ()]
    return sorted(events, key=lambda e: (e.on, str(e.company), e.kind))


def served_evidences(context: Any, compound_ids: list[str]) -> dict[str, ServiceEvidence] | None:
    """{compound id: ServiceEvidence} for those with a contract in force as of `context.today`, or None when no
    plugin keeps contracts (evidence unknown: every served compound stays unverified and is said to be)."""
    return _first_answer(context, "served_evidence", compound_ids=list(compound_ids))


def _gathered(context: Any, session: Any, hook: str) -> list[Any]:
    from geoplatform.pluginmanager import call_safely

    return [r for _, lst in call_safely(context.pm, hook, context=context, session=session) for r in lst or ()]


def collect_projection_changes(context: Any, session: Any) -> list[ProjectionChange]:
    """Every ProjectionChange the plugins derive from their records (concatenated, in plugin order)."""
    return _gathered(context, session, "projection_changes")


def collect_plan_actions(context: Any, session: Any) -> list[PlanAction]:
    """Every PlanAction the plugins offer the planner (concatenated, in plugin order)."""
    return _gathered(context, session, "plan_actions")


def context_of(session: Any) -> Any:
    """The Context a session was opened by (`Context.session()`), or None for a bare session."""
    return getattr(session, "info", {}).get("context")


def firm_gate(session: Any, companies: Any) -> dict[Any, FirmEligibility]:
    """The RULES §7 gate for each firm key (None: not recorded), from `firm_eligibility` as of the context's day.

    With no plugin answering: the registry's plain fields (`filed` false or `blacklisted` → not eligible),
    every answer carrying the warning `no_credit_gate` so readers can say the full gate was not applied.
    """
    wanted = list(dict.fromkeys(companies))
    context = context_of(session)
    answer = firm_eligibilities(context, wanted) if context is not None else None
    if answer is not None:
        return {c: answer.get(c) or FirmEligibility(c, False, ("unknown_firm",)) for c in wanted}
    from sqlalchemy import select

    from geoplatform.models import PropertyCompany

    names = [c for c in wanted if c is not None]
    rows = {n: (f, b) for n, f, b in session.execute(select(
        PropertyCompany.name, PropertyCompany.filed, PropertyCompany.blacklisted).where(
        PropertyCompany.name.in_(names)))} if names else {}
    out = {}
    for c in wanted:
        if c is None:
            out[c] = FirmEligibility(None, True, (), ("firm_not_recorded", "no_credit_gate"))
        elif c not in rows:
            out[c] = FirmEligibility(c, False, ("unknown_firm",), ("no_credit_gate",))
        else:
            filed, black = rows[c]
            reasons = tuple(r for r, bad in (("not_filed", filed is False), ("blacklisted", bool(black))) if bad)
            out[c] = FirmEligibility(c, not reasons, reasons, ("no_credit_gate",))
    return out


SIGNING_KINDS = ("owners_committee", "management_committee")


def org_statuses(session: Any, compound_ids: Any) -> dict[str, OrgStatus]:
    """Each compound's owners' organisation from `owners_org_status`; with no plugin answering, from
    `compound.owners_org` (a 业委会 / 物管会 recorded there may sign; the status says it was declared)."""
    ids = list(dict.fromkeys(compound_ids))
    context = context_of(session)
    answer = owners_org_statuses(context, ids) if context is not None else None
    if answer is not None:
        return {i: answer[i] for i in ids if i in answer}
    from sqlalchemy import select

    from geoplatform.models import Compound

    out = {}
    for cid, org in session.execute(select(Compound.id, Compound.owners_org).where(in_values(Compound.id, ids))):
        signs = org in SIGNING_KINDS
        out[cid] = OrgStatus(compound_id=cid, kind=org if signs else None, state="active" if signs else (org or "unknown"),
                             counts=signs, known=org not in (None, "unknown"), can_sign=signs, declared=True)
    return out
