"""Governance reads and writes over a session: the one service layer under the CLI and HTTP (no Flask, no click).

Writes take the acting `Principal` and an `allowed(user, action, resource)` callable (`Context.allowed`):
every write is checked on the server (action `edit_governance`, resource `{"kind": "governance", "op",
"street_code", "community_code", "stage"}`) and audited. Errors are `geoplatform.errors` with catalogue
keys (plugins.governance.messages).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from geoplatform import audit
from geoplatform import models as m
from geoplatform.errors import Conflict, Forbidden, NotFound, UserInputError
from geoplatform.models.governance import Dissuasion, Mediation, Pilot, PilotCase, PilotMeeting, Problem
from geoplatform.sqlin import in_values
from plugins.governance import rules
from plugins.governance.settings import CATEGORIES, RECIPIENTS, SAFETY_CATEGORIES, GovernanceSettings

Allowed = Callable[[Any, str, Any], bool]
OrgLookup = Callable[[list[str]], Mapping[str, Any] | None]
ACTION = "edit_governance"
TEXT_MAX = 2000
WORKSPACE_ROLES = ("admin", "bureau", "street_officer", "community_officer")


# ------------------------------------------------------------------ scope

@dataclass(frozen=True)
class Scope:
    """What a request works on: a street, one community of it, or (both None) the whole district."""

    street_code: str | None = None
    community_code: str | None = None


def scope_for(session: Session, user: Any, street: str | None = None, community: str | None = None) -> Scope:
    """A community officer: their community; a street officer: their street; admin/bureau: what they ask for.

    Forbidden for other roles and for a community officer or street officer asking outside their own.
    """
    role = getattr(user, "role", None)
    if role not in WORKSPACE_ROLES:
        raise Forbidden("governance.error.forbidden")
    if community:
        c = session.get(m.Community, community)
        if c is None:
            raise NotFound("governance.error.unknown_community", community=community)
        street = street or c.street_code
        if street != c.street_code:
            raise UserInputError("governance.error.community_not_in_street", community=community, street=street)
    if street:
        from geoplatform.streets import resolve_street

        street = resolve_street(session, street)
    if role == "community_officer":
        own = getattr(user, "community_code", None)
        if not own or (community and community != own):
            raise Forbidden("governance.error.forbidden")
        return Scope(getattr(user, "street_code", None), own)
    if role == "street_officer":
        own = getattr(user, "street_code", None)
        if not own or (street and street != own):
            raise Forbidden("governance.error.forbidden")
        return Scope(own, community)
    return Scope(street, community)


def _check(allowed: Allowed, user: Any, op: str, street_code: str | None, community_code: str | None,
           stage: str | None = None) -> None:
    resource = {"kind": "governance", "op": op, "street_code": street_code, "community_code": community_code,
                "stage": stage}
    if not allowed(user, ACTION, resource):
        raise Forbidden("governance.error.forbidden")


# ------------------------------------------------------------------ reading

@dataclass
class Records:
    """Everything the rules need for one scope, as plain dicts (compound's street/community joined in)."""

    compounds: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)
    dissuasions: list[dict[str, Any]] = field(default_factory=list)
    mediations: list[dict[str, Any]] = field(default_factory=list)
    pilots: list[dict[str, Any]] = field(default_factory=list)
    meetings: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    streets: dict[str, str] = field(default_factory=dict)  # code → name
    communities: dict[str, dict[str, Any]] = field(default_factory=dict)  # code → {name, street_code}


def _where(q, scope: Scope):  # noqa: ANN001, ANN202
    if scope.community_code:
        q = q.where(m.Compound.community_code == scope.community_code)
    elif scope.street_code:
        q = q.where(m.Compound.street_code == scope.street_code)
    return q


def load(session: Session, scope: Scope = Scope()) -> Records:
    """The records of a scope (problems, reports and mediations by their compound; pilots by street/community)."""
    rec = Records()
    cols = (m.Compound.street_code, m.Compound.community_code, m.Compound.name.label("compound_name"))
    pq = _where(select(Problem.id, Problem.compound_id, Problem.category, Problem.source, Problem.company,
                       Problem.found_on, Problem.rectify_by, Problem.state, Problem.state_on, Problem.note,
                       Problem.version, *cols).join(m.Compound, m.Compound.id == Problem.compound_id), scope)
    rec.problems = [dict(r) for r in session.execute(pq.order_by(Problem.found_on, Problem.id)).mappings()]
    dq = _where(select(Dissuasion.id, Dissuasion.problem_id, Dissuasion.failed_at, Dissuasion.reported_street_at,
                       Dissuasion.reported_authority_at, Dissuasion.reported_owners_org_at, Dissuasion.note,
                       Dissuasion.version, Problem.compound_id, Problem.category, *cols)
                .join(Problem, Problem.id == Dissuasion.problem_id)
                .join(m.Compound, m.Compound.id == Problem.compound_id), scope)
    rec.dissuasions = [dict(r) for r in session.execute(dq.order_by(Dissuasion.failed_at, Dissuasion.id)).mappings()]
    mq = _where(select(Mediation.id, Mediation.compound_id, Mediation.stage, Mediation.opened_on, Mediation.closed_on,
                       Mediation.outcome, Mediation.escalated_from, Mediation.subject, Mediation.version, *cols)
                .join(m.Compound, m.Compound.id == Mediation.compound_id), scope)
    rec.mediations = [dict(r) for r in session.execute(mq.order_by(Mediation.opened_on, Mediation.id)).mappings()]
    ids = {p["compound_id"] for p in rec.problems} | {x["compound_id"] for x in rec.mediations}
    if ids:
        for r in session.execute(select(m.Compound.id, m.Compound.name, m.Compound.street_code,
                                        m.Compound.community_code, m.Compound.owners_org,
                                        m.Compound.company.label("property_company")).where(in_values(m.Compound.id, sorted(ids)))).mappings():
            rec.compounds[r["id"]] = dict(r)
    sq = select(m.Street.code, m.Street.name).order_by(m.Street.code)
    cq = select(m.Community.code, m.Community.name, m.Community.street_code).order_by(m.Community.code)
    plq = select(Pilot.id, Pilot.year, Pilot.street_code, Pilot.community_code).order_by(Pilot.year, Pilot.street_code)
    if scope.street_code:
        sq = sq.where(m.Street.code == scope.street_code)
        cq = cq.where(m.Community.street_code == scope.street_code)
        plq = plq.where(Pilot.street_code == scope.street_code)
    if scope.community_code:
        cq = cq.where(m.Community.code == scope.community_code)
        plq = plq.where(Pilot.community_code == scope.community_code)
    rec.streets = {r.code: r.name for r in session.execute(sq)}
    rec.communities = {r.code: {"name": r.name, "street_code": r.street_code} for r in session.execute(cq)}
    rec.pilots = [dict(r) for r in session.execute(plq).mappings()]
    wanted = {p["community_code"] for p in rec.pilots} | ({scope.community_code} if scope.community_code else set())
    if wanted:
        rec.meetings = [dict(r) for r in session.execute(
            select(PilotMeeting.id, PilotMeeting.community_code, PilotMeeting.held_on, PilotMeeting.kind)
            .where(PilotMeeting.community_code.in_(sorted(wanted))).order_by(PilotMeeting.held_on)).mappings()]
        rec.cases = [dict(r) for r in session.execute(
            select(PilotCase.id, PilotCase.community_code, PilotCase.year, PilotCase.title, PilotCase.published_on)
            .where(PilotCase.community_code.in_(sorted(wanted))).order_by(PilotCase.year, PilotCase.id)).mappings()]
    return rec


def org_told(rec: Records, org_lookup: OrgLookup | None, settings: GovernanceSettings) -> dict[str, bool | None]:
    """Per compound of the records: must its owners' organisation be told (None: unknown)?"""
    ids = sorted(rec.compounds)
    answered = org_lookup(ids) if org_lookup is not None and ids else None
    out: dict[str, bool | None] = {}
    for cid in ids:
        status = answered.get(cid) if answered else None
        out[cid] = rules.has_owners_org(status, rec.compounds[cid].get("owners_org"), settings)
    return out


def _escalated_ids(mediations: Iterable[Mapping[str, Any]]) -> set[str]:
    return {x["escalated_from"] for x in mediations if x.get("escalated_from")}


def report_rows(rec: Records, told: Mapping[str, bool | None], as_of: dt.datetime,
                settings: GovernanceSettings) -> list[dict[str, Any]]:
    """Each failed dissuasion with its 24-hour status: deadline, required recipients, late/missing/pending."""
    out = []
    for d in rec.dissuasions:
        has_org = told.get(d["compound_id"])
        st = rules.report_status(d["failed_at"], {r: d.get(f"reported_{r}_at") for r in RECIPIENTS},
                                 rules.required_recipients(has_org), as_of, settings)
        out.append({**d, "deadline": st.deadline, "required": list(st.required), "late": list(st.late),
                    "missing": list(st.missing), "pending": list(st.pending), "on_time": st.on_time,
                    "owners_org_known": has_org is not None,
                    "department": rules.department_for(d["category"], settings), "_status": st})
    return out


def mediation_rows(rec: Records, today: dt.date, settings: GovernanceSettings) -> list[dict[str, Any]]:
    """Each mediation stage with its due date, open/overdue state, days left and whether it can escalate."""
    escalated = _escalated_ids(rec.mediations)
    out = []
    for x in rec.mediations:
        st = rules.mediation_status(x, x["id"] in escalated, today, settings)
        out.append({**x, "due": st.due, "open": st.open, "overdue": st.overdue, "days_left": st.days_left,
                    "escalated": x["id"] in escalated, "next_stage": st.next_stage,
                    "can_escalate": rules.can_escalate(x["stage"], x.get("closed_on"), x.get("outcome"),
                                                       x["id"] in escalated), "_status": st})
    return out


def problem_rows(rec: Records, today: dt.date, settings: GovernanceSettings) -> list[dict[str, Any]]:
    """Each problem with its class, overdue flag, allowed next states and competent department."""
    return [{**p, "overdue": rules.problem_overdue(p, today), "class": rules.problem_class(p, today),
             "allowed_next": list(rules.allowed_next(p["state"])),
             "department": rules.department_for(p["category"], settings)} for p in rec.problems]


def pilot_rows(rec: Records, today: dt.date, settings: GovernanceSettings) -> list[dict[str, Any]]:
    """Each pilot with its meetings per quarter, published cases and what is judged missing."""
    meetings, cases = defaultdict(list), defaultdict(list)
    for mt in rec.meetings:
        meetings[mt["community_code"]].append(mt)
    for c in rec.cases:
        cases[c["community_code"]].append(c)
    out = []
    for p in rec.pilots:
        st = rules.pilot_status(p["year"], meetings[p["community_code"]], cases[p["community_code"]], today, settings)
        out.append({**p, "community_name": rec.communities.get(p["community_code"], {}).get("name"),
                    "street_name": rec.streets.get(p["street_code"]), "meetings": list(st.meetings),
                    "quarters_missing": list(st.quarters_missing), "cases": st.cases, "cases_short": st.cases_short,
                    "year_ended": st.year_ended, "min_cases": settings.pilot_min_cases,
                    "findings": rules.pilot_findings(p, st)})
    return out


def findings(rec: Records, told: Mapping[str, bool | None], today: dt.date, as_of: dt.datetime,
             settings: GovernanceSettings) -> list[dict[str, Any]]:
    """Every finding of the records (see rules.CODES), in the stable order of rules.sort_findings."""
    out: list[dict[str, Any]] = []
    for row in report_rows(rec, told, as_of, settings):
        f = rules.report_finding(row, row["_status"])
        if f:
            out.append(f)
    for p in rec.problems:
        f = rules.problem_finding(p, today)
        if f:
            out.append(f)
    for row in mediation_rows(rec, today, settings):
        f = rules.mediation_finding(row, row["_status"])
        if f:
            out.append(f)
    for row in pilot_rows(rec, today, settings):
        out.extend(row["findings"])
    out.extend(rules.missing_pilots(rec.streets, rec.pilots, today, settings))
    return rules.sort_findings(out)


def check(session: Session, today: dt.date, as_of: dt.datetime, settings: GovernanceSettings,
          org_lookup: OrgLookup | None = None, scope: Scope = Scope()) -> dict[str, Any]:
    """`governance check`: {"today", "findings": [{"code", "problem_id"?, "mediation_id"?, "community_code"?,
    "street_code"?, "late"?, "company"?, "period"?}]} (docs/governance.md)."""
    rec = load(session, scope)
    told = org_told(rec, org_lookup, settings)
    found = findings(rec, told, today, as_of, settings)
    if scope.community_code:  # a community's view: a street-level pilot_missing is not its own
        found = [f for f in found if f["code"] != "pilot_missing"]
    return {"today": today.isoformat(), "findings": found}


SAFETY_IDS_MAX_IN = 500  # more compounds asked for: one grouped query over the ledger instead of an IN list


def open_safety_problems(session: Session, compound_ids: list[str],
                         categories: Iterable[str] = SAFETY_CATEGORIES) -> dict[str, int]:
    """{compound id: its open safety problems} (state open or rectifying, one of `categories` — the setting
    `safety_categories`); every compound asked for is in the answer (0 when it has none: the ledger knows)."""
    from sqlalchemy import func

    ids = list(dict.fromkeys(compound_ids))
    out = dict.fromkeys(ids, 0)
    q = (select(Problem.compound_id, func.count()).where(
        Problem.state.in_(rules.OPEN_STATES), Problem.category.in_(list(categories))).group_by(Problem.compound_id))
    if len(ids) <= SAFETY_IDS_MAX_IN:
        q = q.where(Problem.compound_id.in_(ids))
    # a long list (the takeover pool asks for every compound: 208 queries of 500 at 100×) reads the ledger's open
    # safety counts once and keeps the compounds asked for
    out.update({cid: int(n) for cid, n in session.execute(q) if cid in out})
    return out


def credit_events(session: Session, today: dt.date, settings: GovernanceSettings) -> list[Any]:
    """The firms' credit events the ledger writes as of `today` (refused / past rectify-by), oldest first."""
    rows = session.execute(select(Problem.id, Problem.category, Problem.company, Problem.found_on, Problem.rectify_by,
                                  Problem.state, Problem.state_on).order_by(Problem.id)).mappings()
    events = [e for r in rows if (e := rules.credit_event(dict(r), today, settings)) is not None]
    return sorted(events, key=lambda e: (e.on, str(e.company), e.ref or ""))


def compound_summary(session: Session, compound_id: str, today: dt.date,
                     settings: GovernanceSettings) -> dict[str, Any]:
    """A compound's problems and mediations (the compound page section)."""
    rec = Records()
    rec.problems = [dict(r) for r in session.execute(
        select(Problem.id, Problem.compound_id, Problem.category, Problem.source, Problem.company, Problem.found_on,
               Problem.rectify_by, Problem.state, Problem.state_on, Problem.note, Problem.version)
        .where(Problem.compound_id == compound_id).order_by(Problem.found_on.desc(), Problem.id)).mappings()]
    rec.mediations = [dict(r) for r in session.execute(
        select(Mediation.id, Mediation.compound_id, Mediation.stage, Mediation.opened_on, Mediation.closed_on,
               Mediation.outcome, Mediation.escalated_from, Mediation.subject, Mediation.version)
        .where(Mediation.compound_id == compound_id).order_by(Mediation.opened_on, Mediation.id)).mappings()]
    problems = problem_rows(rec, today, settings)
    return {"compound_id": compound_id,
            "problems": [p for p in problems if p["class"] is not None] + [p for p in problems if p["class"] is None],
            "open_problems": sum(1 for p in problems if p["class"] is not None),
            "mediations": [{k: v for k, v in x.items() if k != "_status"} for x in mediation_rows(rec, today, settings)]}


def map_records(session: Session) -> tuple[list[dict[str, Any]], list[dict[str, Any]], set[str]]:
    """(problems, mediations, ids of escalated stages) for the map attributes, as plain dicts."""
    problems = [dict(r) for r in session.execute(
        select(Problem.compound_id, Problem.category, Problem.state, Problem.rectify_by, Problem.state_on)).mappings()]
    meds = [dict(r) for r in session.execute(
        select(Mediation.id, Mediation.compound_id, Mediation.stage, Mediation.opened_on, Mediation.closed_on,
               Mediation.escalated_from)).mappings()]
    return problems, meds, _escalated_ids(meds)


# ------------------------------------------------------------------ writing

def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict("governance.error.stale") from exc
    except IntegrityError as exc:
        raise Conflict("governance.error.duplicate") from exc


def _text(value: Any, name: str, required: bool = False, max_len: int = TEXT_MAX) -> str | None:
    s = str(value).strip() if value is not None else ""
    if not s:
        if required:
            raise UserInputError("governance.error.required", field=name)
        return None
    if len(s) > max_len:
        raise UserInputError("governance.error.too_long", field=name, max=max_len)
    return s


def _compound(session: Session, compound_id: str) -> m.Compound:
    c = session.get(m.Compound, compound_id) if compound_id else None
    if c is None:
        raise NotFound("governance.error.unknown_compound", compound=compound_id)
    return c


def _problem(session: Session, problem_id: str, lock: bool = False) -> tuple[Problem, m.Compound]:
    q = select(Problem).where(Problem.id == problem_id)
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    p = session.execute(q).scalar_one_or_none()
    if p is None:
        raise NotFound("governance.error.unknown_problem", problem=problem_id)
    return p, session.get(m.Compound, p.compound_id)


def _version(expected: int | None, actual: int) -> None:
    if expected is not None and int(expected) != actual:
        raise Conflict("governance.error.stale_version", version=actual, sent=expected)


def _enum(value: Any, choices: Iterable[str], name: str) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise UserInputError("governance.error.not_in_enum", field=name, value=str(value), choices=", ".join(choices))
    return value


def _new_id(prefix: str, day: dt.date) -> str:
    return f"{prefix}{day:%Y%m%d}-{uuid.uuid4().hex[:6].upper()}"


def problem_dict(p: Problem, c: m.Compound | None, today: dt.date) -> dict[str, Any]:
    """A stored problem as the API returns it."""
    rec = {"id": p.id, "compound_id": p.compound_id, "category": p.category, "source": p.source, "company": p.company,
           "found_on": p.found_on, "rectify_by": p.rectify_by, "state": p.state, "state_on": p.state_on,
           "note": p.note, "version": p.version, "street_code": c.street_code if c else None,
           "community_code": c.community_code if c else None}
    rec.update(overdue=rules.problem_overdue(rec, today), allowed_next=list(rules.allowed_next(p.state)))
    return rec


def create_problem(session: Session, user: Any, allowed: Allowed, data: Mapping[str, Any], today: dt.date
                   ) -> dict[str, Any]:
    """Record a problem found in a compound (state open); the firm defaults to the compound's."""
    c = _compound(session, _text(data.get("compound_id"), "compound_id", required=True))
    _check(allowed, user, "record_problem", c.street_code, c.community_code)
    category = _enum(data.get("category"), CATEGORIES, "category")
    source = _enum(data.get("source"), rules_sources(), "source")
    found_on = data.get("found_on") or today
    rectify_by = data.get("rectify_by")
    if found_on > today:
        raise UserInputError("governance.error.future", field="found_on", date=found_on.isoformat())
    if rectify_by is not None and rectify_by < found_on:
        raise UserInputError("governance.error.before", field="rectify_by", other="found_on")
    company = _text(data.get("company"), "company", max_len=200) or c.company
    p = Problem(id=_text(data.get("id"), "id", max_len=64) or _new_id("P", found_on), compound_id=c.id,
                category=category, source=source, company=company, found_on=found_on, rectify_by=rectify_by,
                state="open", state_on=found_on, note=_text(data.get("note"), "note"))
    if session.get(Problem, p.id) is not None:
        raise Conflict("governance.error.exists", id=p.id)
    session.add(p)
    _flush(session)
    out = problem_dict(p, c, today)
    audit.record(session, user, "create", "problem", p.id, after=out, street_code=c.street_code, detail=p.note)
    return out


def rules_sources() -> tuple[str, ...]:
    """The problem sources (12345, patrol, report)."""
    from geoplatform.models.governance import PROBLEM_SOURCES

    return PROBLEM_SOURCES


def set_problem_state(session: Session, user: Any, allowed: Allowed, problem_id: str, state: str, today: dt.date,
                      on: dt.date | None = None, expected_version: int | None = None,
                      note: str | None = None) -> dict[str, Any]:
    """Move a problem along open → rectifying → rectified | refused (dated `on`, default today); audited."""
    p, c = _problem(session, problem_id, lock=True)
    _check(allowed, user, "follow_problem", c.street_code, c.community_code)
    _version(expected_version, p.version)
    _enum(state, rules.STATES, "state")
    tr = rules.transition(p.state, state)
    if not tr.ok:
        raise Conflict("governance.error.transition", current=p.state, state=state,
                       allowed=", ".join(tr.allowed) or "-")
    on = on or today
    if on > today or on < p.found_on:
        raise UserInputError("governance.error.state_date", date=on.isoformat())
    before = {"state": p.state, "state_on": p.state_on, "version": p.version}
    p.state, p.state_on = state, on
    if note:
        p.note = "\n".join(x for x in (p.note, _text(note, "note")) if x)
    _flush(session)
    audit.record(session, user, "update", "problem", p.id, before=before,
                 after={"state": state, "state_on": on, "version": p.version}, street_code=c.street_code, detail=note)
    return problem_dict(p, c, today)


def _moment(value: Any, name: str) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, microsecond=0)
    try:
        from geoplatform.io.fields import parse_datetime

        return parse_datetime(value)
    except ValueError as exc:
        raise UserInputError("governance.error.not_datetime", field=name, value=str(value)) from exc


def dissuasion_dict(d: Dissuasion) -> dict[str, Any]:
    """A stored dissuasion as the API returns it."""
    return {"id": d.id, "problem_id": d.problem_id, "failed_at": d.failed_at,
            **{f"reported_{r}_at": getattr(d, f"reported_{r}_at") for r in RECIPIENTS}, "note": d.note,
            "version": d.version}


def record_dissuasion(session: Session, user: Any, allowed: Allowed, problem_id: str, failed_at: Any,
                      reports: Mapping[str, Any] | None = None, note: str | None = None,
                      now: dt.datetime | None = None) -> dict[str, Any]:
    """Record that dissuasion failed at `failed_at` (the 24-hour clock starts) and any reports already made."""
    p, c = _problem(session, problem_id)
    _check(allowed, user, "record_dissuasion", c.street_code, c.community_code)
    if p.state == "rectified":
        raise Conflict("governance.error.problem_closed", problem=p.id)
    failed = _moment(failed_at, "failed_at")
    if failed is None:
        raise UserInputError("governance.error.required", field="failed_at")
    if now is not None and failed > now:
        raise UserInputError("governance.error.future", field="failed_at", date=failed.isoformat(sep=" "))
    d = Dissuasion(problem_id=p.id, failed_at=failed, note=_text(note, "note"))
    _apply_reports(d, reports or {}, now)
    session.add(d)
    _flush(session)
    out = dissuasion_dict(d)
    audit.record(session, user, "create", "dissuasion", d.id, after=out, street_code=c.street_code, detail=p.id)
    return out


def _apply_reports(d: Dissuasion, reports: Mapping[str, Any], now: dt.datetime | None) -> dict[str, Any]:
    changed = {}
    for r, value in reports.items():
        if r not in RECIPIENTS:
            raise UserInputError("governance.error.not_in_enum", field="recipient", value=str(r),
                                 choices=", ".join(RECIPIENTS))
        at = _moment(value, f"reported_{r}_at")
        if at is None:
            continue
        if at < d.failed_at:
            raise UserInputError("governance.error.report_before_failure", field=f"reported_{r}_at")
        if now is not None and at > now:
            raise UserInputError("governance.error.future", field=f"reported_{r}_at", date=at.isoformat(sep=" "))
        setattr(d, f"reported_{r}_at", at)
        changed[f"reported_{r}_at"] = at
    return changed


def record_reports(session: Session, user: Any, allowed: Allowed, dissuasion_id: int, reports: Mapping[str, Any],
                   expected_version: int | None = None, now: dt.datetime | None = None) -> dict[str, Any]:
    """Record when recipients were told (the street, the competent department, the owners' organisation)."""
    q = select(Dissuasion).where(Dissuasion.id == int(dissuasion_id)).with_for_update() \
        .execution_options(populate_existing=True)
    d = session.execute(q).scalar_one_or_none()
    if d is None:
        raise NotFound("governance.error.unknown_dissuasion", id=dissuasion_id)
    p, c = _problem(session, d.problem_id)
    _check(allowed, user, "record_dissuasion", c.street_code, c.community_code)
    _version(expected_version, d.version)
    before = dissuasion_dict(d)
    changed = _apply_reports(d, reports, now)
    if not changed:
        raise UserInputError("governance.error.nothing")
    _flush(session)
    audit.record(session, user, "update", "dissuasion", d.id, before=before, after=changed, street_code=c.street_code,
                 detail=p.id)
    return dissuasion_dict(d)


def mediation_dict(x: Mediation, c: m.Compound | None, today: dt.date, settings: GovernanceSettings) -> dict[str, Any]:
    """A stored mediation stage as the API returns it."""
    rec = {"id": x.id, "compound_id": x.compound_id, "stage": x.stage, "opened_on": x.opened_on,
           "closed_on": x.closed_on, "outcome": x.outcome, "escalated_from": x.escalated_from, "subject": x.subject,
           "version": x.version, "street_code": c.street_code if c else None,
           "community_code": c.community_code if c else None}
    st = rules.mediation_status(rec, False, today, settings)
    rec.update(due=st.due, overdue=st.overdue)
    return rec


def open_mediation(session: Session, user: Any, allowed: Allowed, compound_id: str, opened_on: dt.date | None,
                   today: dt.date, settings: GovernanceSettings, subject: str | None = None) -> dict[str, Any]:
    """Open a community mediation of a dispute in a compound (due opened + 30 days)."""
    c = _compound(session, compound_id)
    _check(allowed, user, "open_mediation", c.street_code, c.community_code, "community")
    opened_on = opened_on or today
    if opened_on > today:
        raise UserInputError("governance.error.future", field="opened_on", date=opened_on.isoformat())
    x = Mediation(id=_new_id("M", opened_on), compound_id=c.id, stage="community", opened_on=opened_on,
                  subject=_text(subject, "subject", required=True))
    session.add(x)
    _flush(session)
    out = mediation_dict(x, c, today, settings)
    audit.record(session, user, "create", "mediation", x.id, after=out, street_code=c.street_code, detail=x.subject)
    return out


def _mediation(session: Session, mediation_id: str) -> tuple[Mediation, m.Compound]:
    q = select(Mediation).where(Mediation.id == mediation_id).with_for_update() \
        .execution_options(populate_existing=True)
    x = session.execute(q).scalar_one_or_none()
    if x is None:
        raise NotFound("governance.error.unknown_mediation", id=mediation_id)
    return x, session.get(m.Compound, x.compound_id)


def _has_successor(session: Session, mediation_id: str) -> bool:
    return session.scalar(select(Mediation.id).where(Mediation.escalated_from == mediation_id).limit(1)) is not None


def close_mediation(session: Session, user: Any, allowed: Allowed, mediation_id: str, outcome: str,
                    closed_on: dt.date | None, today: dt.date, settings: GovernanceSettings,
                    expected_version: int | None = None) -> dict[str, Any]:
    """Close a stage resolved or unresolved (an unresolved stage may still be escalated)."""
    x, c = _mediation(session, mediation_id)
    _check(allowed, user, "close_mediation", c.street_code, c.community_code, x.stage)
    _version(expected_version, x.version)
    _enum(outcome, rules.OUTCOMES, "outcome")
    if x.closed_on is not None or _has_successor(session, x.id):
        raise Conflict("governance.error.mediation_closed", id=x.id)
    closed_on = closed_on or today
    if closed_on > today or closed_on < x.opened_on:
        raise UserInputError("governance.error.state_date", date=closed_on.isoformat())
    before = {"closed_on": None, "outcome": None, "version": x.version}
    x.closed_on, x.outcome = closed_on, outcome
    _flush(session)
    audit.record(session, user, "update", "mediation", x.id, before=before,
                 after={"closed_on": closed_on, "outcome": outcome, "version": x.version}, street_code=c.street_code)
    return mediation_dict(x, c, today, settings)


def escalate_mediation(session: Session, user: Any, allowed: Allowed, mediation_id: str, on: dt.date | None,
                       today: dt.date, settings: GovernanceSettings, expected_version: int | None = None
                       ) -> dict[str, Any]:
    """Escalate a stage to the next one (community → administrative → judicial), opened on `on`.

    An open stage is closed `unresolved` on that day; the new stage is due its opening + 30 days.
    """
    x, c = _mediation(session, mediation_id)
    nxt = rules.NEXT_STAGE.get(x.stage)
    _check(allowed, user, "escalate_mediation", c.street_code, c.community_code, nxt)
    _version(expected_version, x.version)
    if not rules.can_escalate(x.stage, x.closed_on, x.outcome, _has_successor(session, x.id)):
        raise Conflict("governance.error.cannot_escalate", id=x.id, stage=x.stage)
    on = on or today
    if on > today or on < x.opened_on or (x.closed_on is not None and on < x.closed_on):
        raise UserInputError("governance.error.state_date", date=on.isoformat())
    if x.closed_on is None:
        x.closed_on, x.outcome = on, "unresolved"
    new = Mediation(id=_new_id("M", on), compound_id=x.compound_id, stage=nxt, opened_on=on, escalated_from=x.id,
                    subject=x.subject)
    session.add(new)
    _flush(session)
    out = mediation_dict(new, c, today, settings)
    audit.record(session, user, "escalate", "mediation", new.id, before={"id": x.id, "stage": x.stage},
                 after=out, street_code=c.street_code, detail=x.subject)
    return out


def _community(session: Session, code: str) -> m.Community:
    c = session.get(m.Community, code) if code else None
    if c is None:
        raise NotFound("governance.error.unknown_community", community=code)
    return c


def record_meeting(session: Session, user: Any, allowed: Allowed, community_code: str, held_on: dt.date,
                   kind: str, today: dt.date) -> dict[str, Any]:
    """Record a 三方联席 (tripartite) or joint meeting of a community."""
    c = _community(session, community_code)
    _check(allowed, user, "record_meeting", c.street_code, c.code)
    _enum(kind, ("tripartite", "joint"), "kind")
    if held_on is None:
        raise UserInputError("governance.error.required", field="held_on")
    if held_on > today:
        raise UserInputError("governance.error.future", field="held_on", date=held_on.isoformat())
    mt = PilotMeeting(community_code=c.code, held_on=held_on, kind=kind)
    session.add(mt)
    _flush(session)
    out = {"id": mt.id, "community_code": c.code, "held_on": held_on, "kind": kind}
    audit.record(session, user, "create", "pilot_meeting", mt.id, after=out, street_code=c.street_code)
    return out


def record_case(session: Session, user: Any, allowed: Allowed, community_code: str, year: int, title: str,
                published_on: dt.date | None, today: dt.date) -> dict[str, Any]:
    """Record a typical case of a community's year (it counts once published)."""
    c = _community(session, community_code)
    _check(allowed, user, "record_case", c.street_code, c.code)
    title = _text(title, "title", required=True, max_len=300)
    if published_on is not None and published_on > today:
        raise UserInputError("governance.error.future", field="published_on", date=published_on.isoformat())
    if not isinstance(year, int) or not 2000 <= year <= today.year + 1:
        raise UserInputError("governance.error.bad_year", year=str(year))
    case = PilotCase(community_code=c.code, year=year, title=title, published_on=published_on)
    session.add(case)
    _flush(session)
    out = {"id": case.id, "community_code": c.code, "year": year, "title": title, "published_on": published_on}
    audit.record(session, user, "create", "pilot_case", case.id, after=out, street_code=c.street_code)
    return out


def set_pilot(session: Session, user: Any, allowed: Allowed, year: int, community_code: str,
              today: dt.date) -> dict[str, Any]:
    """Name a street's pilot community for a year; a second pilot in the same street and year is refused."""
    c = _community(session, community_code)
    _check(allowed, user, "set_pilot", c.street_code, c.code)
    if not isinstance(year, int) or not 2000 <= year <= today.year + 1:
        raise UserInputError("governance.error.bad_year", year=str(year))
    existing = [dict(r) for r in session.execute(select(Pilot.year, Pilot.street_code, Pilot.community_code)
                                                 .where(Pilot.year == year)).mappings()]
    other = rules.second_pilot(year, c.street_code, c.code, existing)
    if other is not None:
        raise Conflict("governance.error.second_pilot", street=c.street_code, year=year,
                       community=other["community_code"])
    if any(p["community_code"] == c.code for p in existing):
        raise Conflict("governance.error.exists", id=f"{year}/{c.code}")
    p = Pilot(year=year, street_code=c.street_code, community_code=c.code)
    session.add(p)
    _flush(session)
    out = {"id": p.id, "year": year, "street_code": c.street_code, "community_code": c.code}
    audit.record(session, user, "create", "pilot", p.id, after=out, street_code=c.street_code)
    return out
