"""Records plugins exchange through hooks, so that no plugin imports another (RULES §4, §6, §7, §8).

- `OrgStatus`: a compound's current owners' organisation as the records say (RULES §6), answered by
  the owners' organisation plugin through `owners_org_status`; read by coverage (the 95 % rate),
  takeover (a signatory for a contract) and governance (who must be told within 24 hours).
- `FirmEligibility`: the credit gate of RULES §7, answered by the firms plugin through
  `firm_eligibility`; read by bundling (hosts), takeover (bidders, contracts).
- `CreditEvent`: a dated entry of a firm's credit file that a plugin derives from its own records
  (e.g. governance: a refused or overdue rectification), collected by the firms plugin through
  `credit_events`.

When no plugin answers, each reader falls back to the plain compound fields and says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


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
    for cid, org in session.execute(select(Compound.id, Compound.owners_org).where(Compound.id.in_(ids))):
        signs = org in SIGNING_KINDS
        out[cid] = OrgStatus(compound_id=cid, kind=org if signs else None, state="active" if signs else (org or "unknown"),
                             counts=signs, known=org not in (None, "unknown"), can_sign=signs, declared=True)
    return out
