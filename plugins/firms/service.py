"""The firms plugin's one service layer (framework-free; the CLI and the blueprint call it).

Reads the records, applies `rules`, writes changes with an audit event each. Errors are
`geoplatform.errors` (catalogue key + params). `allowed(principal, action, resource)` is the caller's
permission check (the context's `permission_allowed`); None means the caller already decided.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geoplatform import audit
from geoplatform import models as m
from geoplatform.errors import Conflict, Forbidden, NotFound, UserInputError
from geoplatform.exchange import CreditEvent, FirmEligibility
from geoplatform.models.firms import (
    FeeDisclosure,
    FirmAssessment,
    FirmCreditEvent,
    FirmRanking,
    ServiceContract,
)
from geoplatform.principal import Principal
from geoplatform.sqlin import in_values
from plugins.firms import rules
from plugins.firms.rules import CompoundRef, Contract, CreditState, Finding, Firm
from plugins.firms.settings import FirmsSettings

Allowed = Callable[[Principal, str, dict[str, Any]], bool]
FILING_COLUMNS = {f: f"{f}_filed_on" for f in rules.FILINGS}


def _check(allowed: Allowed | None, principal: Principal, action: str, resource: dict[str, Any]) -> None:
    if allowed is not None and not allowed(principal, action, resource):
        raise Forbidden("firms.forbidden", user=principal.name, role=principal.role)


# ------------------------------------------------------------------------------------------ reading

def load_firms(session: Session) -> dict[str, Firm]:
    """Every registered firm by name."""
    return {n: Firm(n, f, bool(so)) for n, f, so in session.execute(
        select(m.PropertyCompany.name, m.PropertyCompany.filed, m.PropertyCompany.state_owned))}


def stored_events(session: Session, company: str | None = None) -> list[CreditEvent]:
    """The credit events this plugin stored (grades, lists, blacklisting), oldest first."""
    stmt = select(FirmCreditEvent).order_by(FirmCreditEvent.on, FirmCreditEvent.id)
    if company is not None:
        stmt = stmt.where(FirmCreditEvent.company == company)
    return [CreditEvent(company=e.company, on=e.on, kind=e.kind, source=e.source, ref=e.ref, detail=e.detail,
                        expires_on=e.expires_on, grade=e.grade) for e in session.scalars(stmt)]


def derived_events(context: Any, today: dt.date) -> list[CreditEvent]:
    """Credit events other plugins derive from their records (`credit_events`, e.g. refused rectifications)."""
    if context is None:
        return []
    from geoplatform.pluginmanager import call_safely

    return [e for _, events in call_safely(context.pm, "credit_events", context=context, today=today)
            for e in events or () if isinstance(e, CreditEvent)]


def all_events(context: Any, session: Session, today: dt.date) -> list[CreditEvent]:
    """A firm's credit file: the stored events merged with the derived ones, oldest first."""
    return sorted(stored_events(session) + derived_events(context, today), key=lambda e: e.on)


def credit_states(events: Iterable[CreditEvent], names: Iterable[str], today: dt.date,
                  settings: FirmsSettings) -> dict[str, CreditState]:
    """Each named firm's credit state as of `today`."""
    by_firm: dict[str, list[CreditEvent]] = {}
    for e in events:
        by_firm.setdefault(e.company, []).append(e)
    return {n: rules.credit_state(n, by_firm.get(n, []), today, settings) for n in names}


def gate(context: Any, session: Session, companies: Iterable[Any], today: dt.date,
         settings: FirmsSettings) -> dict[Any, FirmEligibility]:
    """The credit gate (RULES §7) for each firm key asked (None: a compound whose firm is not recorded)."""
    wanted = list(dict.fromkeys(companies))
    firms = load_firms(session)
    names = [c for c in wanted if c in firms]
    states = credit_states(all_events(context, session, today), names, today, settings) if names else {}
    return {c: rules.eligibility(c, firms.get(c) if c is not None else None, states.get(c), settings)
            for c in wanted}


def load_compounds(session: Session, street: str | None = None) -> list[CompoundRef]:
    """Every compound (or one street's) as the rules read it."""
    stmt = select(m.Compound.id, m.Compound.management_mode, m.Compound.company, m.Compound.street_code) \
        .order_by(m.Compound.id)
    if street is not None:
        stmt = stmt.where(m.Compound.street_code == street)
    return [CompoundRef(i, mode, firm, st) for i, mode, firm, st in session.execute(stmt)]


def _contract(c: ServiceContract) -> Contract:
    return Contract(c.id, c.compound_id, c.company, c.start, c.end,
                    {f: getattr(c, col) for f, col in FILING_COLUMNS.items()})


def load_contracts(session: Session, compound_ids: Iterable[str] | None = None) -> list[Contract]:
    """Every contract (or those of some compounds)."""
    stmt = select(ServiceContract).order_by(ServiceContract.compound_id, ServiceContract.id)
    if compound_ids is None:
        return [_contract(c) for c in session.scalars(stmt)]
    return [_contract(c) for c in session.scalars(stmt.where(in_values(ServiceContract.compound_id, set(compound_ids))))]


def load_disclosures(session: Session, compound_ids: Iterable[str] | None = None) -> list[tuple[str, dt.date, dt.date]]:
    """(compound id, start, end) of every fee disclosure."""
    stmt = select(FeeDisclosure.compound_id, FeeDisclosure.start, FeeDisclosure.end).order_by(
        FeeDisclosure.compound_id, FeeDisclosure.start)
    if compound_ids is not None:
        stmt = stmt.where(in_values(FeeDisclosure.compound_id, compound_ids))
    return [tuple(r) for r in session.execute(stmt)]


# ------------------------------------------------------------------------------------------ check

def findings(context: Any, session: Session, today: dt.date, settings: FirmsSettings,
             street: str | None = None) -> list[Finding]:
    """Every finding of RULES §7 as of `today`: blacklisted firms' compounds, contracts, filings, disclosure."""
    compounds = load_compounds(session, street)
    ids = [c.id for c in compounds] if street is not None else None
    contracts = load_contracts(session, ids)
    firms = load_firms(session)
    states = credit_states(all_events(context, session, today), firms, today, settings)
    blacklisted = {n for n, s in states.items() if s.blacklisted}
    out = rules.blacklist_findings(compounds, contracts, blacklisted, today, settings)
    out += rules.contract_findings(compounds, contracts, today, settings)
    out += rules.disclosure_findings(rules.disclosure_results(compounds, contracts, load_disclosures(session, ids),
                                                              today, settings))
    return sorted(out, key=Finding.sort_key)


def check_payload(context: Any, session: Session, today: dt.date, settings: FirmsSettings,
                  street: str | None = None) -> dict[str, Any]:
    """The `firms check --json` document: {"today", "findings": [{"code", "compound_id"?, "company"?, …}]}."""
    return {"today": today.isoformat(),
            "findings": [f.as_dict() for f in findings(context, session, today, settings, street)]}


def compound_attributes(context: Any, session: Session, today: dt.date, settings: FirmsSettings) -> dict[str, dict]:
    """Per compound: firm_status, disclosure status and the finding codes (for the layers and the compound page)."""
    compounds = load_compounds(session)
    contracts = load_contracts(session)
    firms = load_firms(session)
    states = credit_states(all_events(context, session, today), firms, today, settings)
    gates = {n: rules.eligibility(n, f, states.get(n), settings) for n, f in firms.items()}
    codes: dict[str, set[str]] = {}
    found = rules.contract_findings(compounds, contracts, today, settings)
    found += rules.blacklist_findings(compounds, contracts, {n for n, s in states.items() if s.blacklisted},
                                      today, settings)
    for f in found:
        codes.setdefault(f.compound_id, set()).add(f.code)
    periods, overall, by_period = rules.disclosure_columns(compounds, contracts, load_disclosures(session), today,
                                                           settings)  # set-wise: disclosure_results' status, periods
    missing = (by_period == "missing").tolist()  # plain lists: a numpy call per compound costs more than the rule
    out = {}
    for comp, disclosure, late in zip(compounds, overall.tolist(), missing, strict=True):
        mine = codes.get(comp.id, set())
        status = rules.firm_status(comp, gates.get(comp.company), states.get(comp.company), mine) \
            if comp.management_mode not in settings.unserved_modes else None
        out[comp.id] = {"status": status, "disclosure": disclosure,
                        "disclosure_missing": [p for p, m in zip(periods, late, strict=True) if m],
                        "codes": sorted(mine, key=rules.FINDING_CODES.index) if len(mine) > 1 else list(mine)}
    return out


# ------------------------------------------------------------------------------------------ ranking

def quarter_or_error(quarter: str) -> str:
    """A quarter like 2025Q1, or UserInputError."""
    try:
        rules.parse_quarter(quarter)
    except ValueError as exc:
        raise UserInputError("firms.bad_quarter", value=str(quarter)) from exc
    return quarter


def assessments(session: Session, quarter: str, street: str | None = None) -> list[tuple[str, str, float]]:
    """(street_code, firm, score) of a quarter."""
    stmt = select(FirmAssessment.street_code, FirmAssessment.company, FirmAssessment.score).where(
        FirmAssessment.quarter == quarter).order_by(FirmAssessment.street_code, FirmAssessment.company)
    if street is not None:
        stmt = stmt.where(FirmAssessment.street_code == street)
    return [(s, c, float(v)) for s, c, v in session.execute(stmt)]


def rank(session: Session, quarter: str, settings: FirmsSettings) -> rules.Ranking:
    """The quarter's ranking from the stored scores (RULES §7)."""
    return rules.rank_quarter(quarter_or_error(quarter), assessments(session, quarter), settings)


def published(session: Session, quarter: str | None = None) -> list[FirmRanking]:
    """Published quarters (newest first), or the one asked."""
    stmt = select(FirmRanking).order_by(FirmRanking.quarter.desc())
    if quarter is not None:
        stmt = stmt.where(FirmRanking.quarter == quarter)
    return list(session.scalars(stmt))


def ranking_dict(r: FirmRanking) -> dict[str, Any]:
    """A published ranking as the `firms rank --json` document plus when and by whom."""
    return {"quarter": r.quarter, "streets": r.streets, "scores": r.scores, "good": r.good, "bad": r.bad,
            "published_on": r.published_on.isoformat(), "published_by": r.published_by}


def publish(session: Session, principal: Principal, quarter: str, today: dt.date, settings: FirmsSettings,
            allowed: Allowed | None = None) -> dict[str, Any]:
    """Publish a quarter's 好评榜 / 差评榜: a snapshot of the lists and a credit event per listed firm."""
    quarter_or_error(quarter)
    _check(allowed, principal, "publish_firm_ranking", {"kind": "firm_ranking", "quarter": quarter})
    if rules.quarter_bounds(quarter)[1] >= today:
        raise UserInputError("firms.quarter_open", quarter=quarter)
    if session.get(FirmRanking, quarter) is not None:
        raise Conflict("firms.already_published", quarter=quarter)
    ranking = rank(session, quarter, settings)
    if not ranking.scores:
        raise UserInputError("firms.no_scores", quarter=quarter)
    doc = ranking.as_dict()
    row = FirmRanking(quarter=quarter, published_on=today, published_by=principal.name, good=doc["good"],
                      bad=doc["bad"], scores=doc["scores"], streets=doc["streets"])
    session.add(row)
    for kind, firms in (("good_list", ranking.good), ("bad_list", ranking.bad)):
        for firm in firms:
            session.add(FirmCreditEvent(company=firm, on=today, kind=kind, expires_on=settings.event_expiry(today),
                                        source="firms", ref=quarter, created_by=principal.name,
                                        detail=f"{quarter} {'好评榜' if kind == 'good_list' else '差评榜'}"))
    audit.record(session, principal, "publish", "firm_ranking", quarter, after=doc)
    session.flush()
    return ranking_dict(row)


def street_firms(session: Session, street: str, today: dt.date) -> list[str]:
    """The firms serving a street: the firm of one of its compounds or of a contract running there."""
    firms = set(session.scalars(select(m.Compound.company).where(m.Compound.street_code == street,
                                                                  m.Compound.company.isnot(None))))
    firms |= set(session.scalars(select(ServiceContract.company).join(
        m.Compound, m.Compound.id == ServiceContract.compound_id).where(
        m.Compound.street_code == street,
        (ServiceContract.start.is_(None)) | (ServiceContract.start <= today),
        (ServiceContract.end.is_(None)) | (ServiceContract.end >= today))))
    return sorted(firms)


def set_score(session: Session, principal: Principal, street: str, quarter: str, company: str, score: Any,
              today: dt.date, settings: FirmsSettings, allowed: Allowed | None = None) -> dict[str, Any]:
    """A street's score of a firm serving it for a quarter (own street only; not once the quarter is published)."""
    quarter_or_error(quarter)
    _check(allowed, principal, "score_firms", {"kind": "firm_assessment", "street_code": street, "quarter": quarter})
    try:
        value = float(score)
    except (TypeError, ValueError) as exc:
        raise UserInputError("firms.bad_score", value=str(score), lo=settings.score_min, hi=settings.score_max) \
            from exc
    if not settings.score_min <= value <= settings.score_max:
        raise UserInputError("firms.bad_score", value=str(score), lo=settings.score_min, hi=settings.score_max)
    if session.get(FirmRanking, quarter) is not None:
        raise Conflict("firms.already_published", quarter=quarter)
    if company not in street_firms(session, street, today):
        raise UserInputError("firms.not_serving_street", company=company, street=street)
    row = session.scalar(select(FirmAssessment).where(FirmAssessment.street_code == street,
                                                      FirmAssessment.quarter == quarter,
                                                      FirmAssessment.company == company))
    before = {"score": row.score} if row is not None else None
    if row is None:
        row = FirmAssessment(street_code=street, quarter=quarter, company=company, score=value,
                             scored_by=principal.name)
        session.add(row)
    else:
        row.score, row.scored_by = value, principal.name
    session.flush()
    audit.record(session, principal, "update" if before else "create", "firm_assessment",
                 f"{street}/{quarter}/{company}", before=before, after={"score": value}, street_code=street)
    return {"street_code": street, "quarter": quarter, "company": company, "score": value}


# ------------------------------------------------------------------------------------------ registry

def _firm_or_404(session: Session, name: str) -> m.PropertyCompany:
    firm = session.scalar(select(m.PropertyCompany).where(m.PropertyCompany.name == name))
    if firm is None:
        raise NotFound("firms.unknown_firm", company=name)
    return firm


def sync_cache(session: Session, names: Iterable[str], today: dt.date, settings: FirmsSettings) -> None:
    """Keep property_company.credit_grade / blacklisted in step with the stored events (for old readers)."""
    names = list(names)
    states = credit_states(stored_events(session), names, today, settings)
    for firm in session.scalars(select(m.PropertyCompany).where(m.PropertyCompany.name.in_(names))):
        st = states[firm.name]
        if (firm.credit_grade, firm.blacklisted) != (st.grade, st.blacklisted):
            firm.credit_grade, firm.blacklisted = st.grade, st.blacklisted
    session.flush()


def add_event(session: Session, principal: Principal, company: str, kind: str, on: dt.date, settings: FirmsSettings,
              grade: str | None = None, detail: str = "", ref: str | None = None, source: str = "firms",
              expires_on: dt.date | None | str = "default", today: dt.date | None = None) -> FirmCreditEvent:
    """Record one credit event (audited) and keep the firm's cached grade / blacklist flag in step."""
    _firm_or_404(session, company)
    if kind not in m.firms.CREDIT_EVENT_KINDS:
        raise UserInputError("firms.bad_event_kind", kind=kind)
    if kind == "grade" and grade not in settings.grade_scale:
        raise UserInputError("firms.bad_grade", grade=str(grade), scale=" > ".join(settings.grade_scale))
    expiry = (None if kind == "blacklist_lifted" else settings.event_expiry(on)) if expires_on == "default" \
        else expires_on
    event = FirmCreditEvent(company=company, on=on, kind=kind, grade=grade if kind == "grade" else None,
                            expires_on=expiry, source=source, ref=ref, detail=detail, created_by=principal.name)
    session.add(event)
    session.flush()
    audit.record(session, principal, "create", "firm_credit_event", event.id,
                 after={"company": company, "kind": kind, "grade": event.grade, "on": on, "expires_on": expiry,
                        "detail": detail})
    sync_cache(session, [company], today or on, settings)
    return event


def served_compounds(session: Session, company: str, today: dt.date) -> list[dict[str, Any]]:
    """The compounds a firm serves (its firm, or a contract running today), with their street."""
    ids = set(session.scalars(select(m.Compound.id).where(m.Compound.company == company)))
    ids |= set(session.scalars(select(ServiceContract.compound_id).where(
        ServiceContract.company == company,
        (ServiceContract.start.is_(None)) | (ServiceContract.start <= today),
        (ServiceContract.end.is_(None)) | (ServiceContract.end >= today))))
    rows = session.execute(select(m.Compound.id, m.Compound.name, m.Compound.street_code, m.Compound.management_mode)
                           .where(in_values(m.Compound.id, sorted(ids))).order_by(m.Compound.id)).all() if ids else []
    return [{"compound_id": i, "name": n, "street_code": s, "management_mode": mode} for i, n, s, mode in rows]


def blacklist(session: Session, principal: Principal, company: str, on: dt.date, settings: FirmsSettings,
              lift: bool = False, note: str = "", allowed: Allowed | None = None) -> dict[str, Any]:
    """Blacklist a firm (or lift it): a credit event; every compound it serves is flagged (RULES §7)."""
    _check(allowed, principal, "manage_firms", {"kind": "property_company", "id": company})
    state = credit_states(stored_events(session, company), [company], on, settings)[company]
    if state.blacklisted != lift:
        raise Conflict("firms.blacklist_unchanged" if not lift else "firms.not_blacklisted", company=company)
    add_event(session, principal, company, "blacklist_lifted" if lift else "blacklisted", on, settings, detail=note,
              today=on)
    return {"company": company, "blacklisted": not lift, "on": on.isoformat(),
            "compounds": served_compounds(session, company, on)}


def set_grade(session: Session, principal: Principal, company: str, grade: str, on: dt.date,
              settings: FirmsSettings, note: str = "", allowed: Allowed | None = None) -> dict[str, Any]:
    """Record a firm's credit grade (a dated event; the old grade stays in the file)."""
    _check(allowed, principal, "manage_firms", {"kind": "property_company", "id": company})
    add_event(session, principal, company, "grade", on, settings, grade=grade, detail=note, today=on)
    return {"company": company, "grade": grade, "on": on.isoformat()}


def set_filed(session: Session, principal: Principal, company: str, filed: bool | None,
              allowed: Allowed | None = None) -> dict[str, Any]:
    """Record whether a firm is filed on the city platform (None: not known)."""
    _check(allowed, principal, "manage_firms", {"kind": "property_company", "id": company})
    firm = _firm_or_404(session, company)
    before = {"filed": firm.filed}
    firm.filed = filed
    session.flush()
    audit.record(session, principal, "update", "property_company", company, before=before, after={"filed": filed})
    return {"company": company, "filed": filed}


def add_firm(session: Session, principal: Principal, name: str, filed: bool | None = None, state_owned: bool = False,
             allowed: Allowed | None = None) -> dict[str, Any]:
    """Register a firm (its name is its key)."""
    _check(allowed, principal, "manage_firms", {"kind": "property_company", "id": name})
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise UserInputError("firms.bad_name")
    if session.scalar(select(m.PropertyCompany.id).where(m.PropertyCompany.name == name)) is not None:
        raise Conflict("firms.firm_exists", company=name)
    session.add(m.PropertyCompany(name=name, filed=filed, state_owned=state_owned, blacklisted=False,
                                  source=f"firms workspace ({principal.name})"))
    session.flush()
    audit.record(session, principal, "create", "property_company", name, after={"filed": filed,
                                                                                  "state_owned": state_owned})
    return {"company": name, "filed": filed, "state_owned": state_owned}


def registry(context: Any, session: Session, today: dt.date, settings: FirmsSettings) -> list[dict[str, Any]]:
    """Every firm with its filing, credit state as of today, gate and how many compounds it serves."""
    firms = load_firms(session)
    states = credit_states(all_events(context, session, today), firms, today, settings)
    served = dict(session.execute(select(m.Compound.company, func.count()).where(m.Compound.company.isnot(None))
                                  .group_by(m.Compound.company)).all())
    out = []
    for name, firm in sorted(firms.items()):
        st = states[name]
        g = rules.eligibility(name, firm, st, settings)
        out.append({"company": name, "filed": firm.filed, "state_owned": firm.state_owned, "grade": st.grade,
                    "graded_on": st.graded_on.isoformat() if st.graded_on else None, "blacklisted": st.blacklisted,
                    "listed": st.listed, "listed_ref": st.listed_ref, "eligible": g.eligible,
                    "reasons": list(g.reasons), "warnings": list(g.warnings), "compounds": int(served.get(name, 0))})
    return out


def credit_file(context: Any, session: Session, company: str, today: dt.date) -> list[dict[str, Any]]:
    """A firm's credit events (stored and derived), newest first, each saying whether it is in force today."""
    _firm_or_404(session, company)
    events = [e for e in all_events(context, session, today) if e.company == company]
    return [{"on": e.on.isoformat(), "kind": e.kind, "grade": e.grade, "source": e.source, "ref": e.ref,
             "detail": e.detail, "expires_on": e.expires_on.isoformat() if e.expires_on else None,
             "in_force": rules.in_force(e, today)} for e in reversed(events)]


def ambiguous_from_migration(session: Session) -> list[dict[str, Any]]:
    """Compounds whose free-text firm matched several firms in migration 0004 and still have none (查漏补缺)."""
    rows = session.execute(select(m.AuditEvent.entity_id, m.AuditEvent.before, m.AuditEvent.after).where(
        m.AuditEvent.action == "migrate", m.AuditEvent.entity == "compound")).all()
    if not rows:
        return []
    empty = set(session.scalars(select(m.Compound.id).where(in_values(m.Compound.id, [r[0] for r in rows]),
                                                             m.Compound.company.is_(None))))
    return [{"compound_id": cid, "text": (before or {}).get("property_company"),
             "candidates": (after or {}).get("candidates", [])} for cid, before, after in rows if cid in empty]


# ------------------------------------------------------------------------------------------ contracts

def new_contract(context: Any, session: Session, principal: Principal, compound_id: str, company: str,
                 start: dt.date, end: dt.date, today: dt.date, settings: FirmsSettings,
                 filings: dict[str, dt.date | None] | None = None, contract_id: str | None = None,
                 source: str = "", allowed: Allowed | None = None, set_company: bool = True) -> dict[str, Any]:
    """Record a new service contract: the firm must pass the credit gate (RULES §7: an ineligible firm may not
    be selected); start and end are required, start ≤ end. The compound's firm becomes the contract's."""
    compound = session.get(m.Compound, compound_id)
    if compound is None:
        raise NotFound("firms.unknown_compound", compound=compound_id)
    _check(allowed, principal, "manage_contracts", {"kind": "service_contract", "id": compound_id,
                                                    "street_code": compound.street_code})
    if start is None or end is None:
        raise UserInputError("firms.contract_dates_required")
    if end < start:
        raise UserInputError("firms.contract_dates_order", start=start.isoformat(), end=end.isoformat())
    verdict = gate(context, session, [company], today, settings)[company]
    if not verdict.eligible:
        raise UserInputError("firms.firm_ineligible", company=company, reasons=", ".join(verdict.reasons))
    cid = contract_id or f"{compound_id}-{start.isoformat()}"
    if session.get(ServiceContract, cid) is not None:
        raise Conflict("firms.contract_exists", contract=cid)
    row = ServiceContract(id=cid, compound_id=compound_id, company=company, start=start, end=end,
                          source=source or f"recorded by {principal.name}",
                          **{FILING_COLUMNS[f]: d for f, d in (filings or {}).items() if f in FILING_COLUMNS})
    session.add(row)
    before = {"company": compound.company, "contract_end": compound.contract_end}
    if set_company:
        compound.company, compound.contract_end = company, end
    session.flush()
    audit.record(session, principal, "create", "service_contract", cid,
                 after={"compound_id": compound_id, "company": company, "start": start, "end": end},
                 street_code=compound.street_code)
    if set_company and before != {"company": company, "contract_end": end}:
        audit.record(session, principal, "update", "compound", compound_id, before=before,
                     after={"company": company, "contract_end": end}, street_code=compound.street_code)
    return {"contract_id": cid, "compound_id": compound_id, "company": company, "start": start.isoformat(),
            "end": end.isoformat(), "warnings": list(verdict.warnings)}


def file_contract(session: Session, principal: Principal, contract_id: str, filing: str, on: dt.date,
                  allowed: Allowed | None = None) -> dict[str, Any]:
    """Record one of a contract's four filings (备案) on a day."""
    row = session.get(ServiceContract, contract_id)
    if row is None:
        raise NotFound("firms.unknown_contract", contract=contract_id)
    if filing not in FILING_COLUMNS:
        raise UserInputError("firms.bad_filing", filing=filing, choices=", ".join(rules.FILINGS))
    street = session.scalar(select(m.Compound.street_code).where(m.Compound.id == row.compound_id))
    _check(allowed, principal, "manage_contracts", {"kind": "service_contract", "id": row.compound_id,
                                                    "street_code": street})
    col = FILING_COLUMNS[filing]
    before = {col: getattr(row, col)}
    setattr(row, col, on)
    session.flush()
    audit.record(session, principal, "update", "service_contract", contract_id, before=before, after={col: on},
                 street_code=street)
    return {"contract_id": contract_id, "filing": filing, "on": on.isoformat()}


def compound_record(context: Any, session: Session, compound_id: str, today: dt.date,
                    settings: FirmsSettings) -> dict[str, Any] | None:
    """One compound's firm (with its gate and credit), contracts with filings, disclosures and findings."""
    compound = session.get(m.Compound, compound_id)
    if compound is None:
        return None
    contracts = load_contracts(session, [compound_id])
    firm_gate = gate(context, session, [compound.company], today, settings)[compound.company]
    state = None
    if compound.company is not None:
        state = credit_states(all_events(context, session, today), [compound.company], today, settings)[compound.company]
    ref = CompoundRef(compound.id, compound.management_mode, compound.company, compound.street_code)
    disclosures = load_disclosures(session, [compound_id])
    result = rules.disclosure_results([ref], contracts, disclosures, today, settings)[0]
    found = [f for f in findings(context, session, today, settings, compound.street_code)
             if f.compound_id == compound_id]
    return {"compound_id": compound_id, "company": compound.company, "eligible": firm_gate.eligible,
            "reasons": list(firm_gate.reasons), "warnings": list(firm_gate.warnings),
            "grade": state.grade if state else None, "blacklisted": bool(state and state.blacklisted),
            "listed": state.listed if state else None,
            "contracts": [{"id": c.id, "company": c.company, "start": c.start, "end": c.end,
                           "filings": c.filings} for c in sorted(contracts, key=lambda c: c.start or dt.date.min)],
            "disclosures": [{"start": s, "end": e, "days": rules.disclosure_days(s, e)} for _, s, e in disclosures],
            "disclosure_periods": result.periods, "findings": [f.as_dict() for f in found]}
