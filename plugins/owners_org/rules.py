"""RULES §6 as pure functions: an owners' organisation's state and findings as of a day, A1–A7.

No Flask, no session, no globals: plain records in (`Org`, `Member`, `Evaluation`, `Custody`), plain
answers out (`Assessment`, `Finding`, `geoplatform.exchange.OrgStatus`). The database side is
`plugins.owners_org.service`.

States (derived, never stored): none → preparing (筹备组) → elected → filed (街镇备案) → active (a 业委会
once registered with 民政; a 物管会 once filed); from there term_expired (term_end passed), re_election_required
(more than half the seats vacant, or two unqualified grades within a year) and dissolved (dissolved_on,
or superseded: a 物管会 by a filed 业委会 [Q], a committee by a filed successor or by an elected one once
its own term ended). A `declared` organisation (stated by a ledger, dates not recorded yet) is active.

Conventions [D]: a member sits from `start` (inclusive) to `end` (exclusive: the day they left); a
term's `term_end` is its last day; an organisation is evaluated for each half-year at whose last day it
was in office (from `evaluation_first_period`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from geoplatform.exchange import OrgStatus
from plugins.owners_org.settings import OwnersOrgSettings

ORG_KINDS = ("owners_committee", "management_committee")
MEMBER_ROLES = ("chair", "vice_chair", "member", "alternate")
FORMAL_ROLES = ("chair", "vice_chair", "member")
GRADES = ("excellent", "qualified", "unqualified")
CUSTODY_ITEMS = ("seal", "accounts", "vouchers", "archives")
BASIC_CHECKS = ("check_police", "check_credit", "check_community")
STATES = ("none", "preparing", "elected", "filed", "active", "term_expired", "re_election_required", "dissolved")
FORMING = ("preparing", "elected")
IN_OFFICE = ("filed", "active")
LAPSED = ("term_expired", "re_election_required")
SEVERITIES = ("error", "warning", "info")
LAYER_CLASSES = ("active_owners_committee", "active_management_committee", "forming", "needs_action", "lapsed",
                 "none", "unknown")
LIFECYCLE_DATES = ("prep_group_on", "elected_on", "filed_on", "registered_on")
_EPS = 1e-9
_PERIOD = re.compile(r"^(\d{4})\s*[Hh]([12])$")


# ---------------------------------------------------------------- records

def _getter(rec: Any) -> Any:
    """`get(key)` for a dict/row mapping or an object (decided once per record: this runs for every stored row)."""
    if hasattr(rec, "keys") and hasattr(rec, "get"):
        return rec.get
    return lambda key, default=None: getattr(rec, key, default)


@dataclass(frozen=True)
class Org:
    """An organisation's stored facts (dates as of their recording; the state is derived)."""

    id: str
    compound_id: str
    kind: str
    seats: int | None = None
    prep_group_on: dt.date | None = None
    elected_on: dt.date | None = None
    filed_on: dt.date | None = None
    registered_on: dt.date | None = None
    term_start: dt.date | None = None
    term_end: dt.date | None = None
    party_org_on: dt.date | None = None
    dissolved_on: dt.date | None = None
    declared: bool = False

    @classmethod
    def of(cls, rec: Any) -> Org:
        """From a dict or an ORM row."""
        get = _getter(rec)
        return cls(**{k: get(k) for k in cls.__dataclass_fields__ if k != "declared"}, declared=bool(get("declared")))


@dataclass(frozen=True)
class Member:
    """A member or alternate as recorded (A1: recorded only when the vetting checks pass)."""

    id: str
    org_id: str
    person: str = ""
    role: str = "member"
    party_member: bool = False
    public_servant: bool = False
    check_police: bool = False
    check_credit: bool = False
    check_community: bool = False
    check_discipline: bool | None = None
    votes: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None

    @classmethod
    def of(cls, rec: Any) -> Member:
        """From a dict or an ORM row (missing booleans read as False)."""
        get = _getter(rec)
        values = {k: get(k) for k in _MEMBER_FIELDS}
        for k in ("party_member", "public_servant", *BASIC_CHECKS):
            values[k] = bool(values[k])
        values["person"] = values["person"] or ""
        values["role"] = values["role"] or "member"
        return cls(**values)


_MEMBER_FIELDS = tuple(Member.__dataclass_fields__)


@dataclass(frozen=True)
class Evaluation:
    """One half-year's 民主评议."""

    org_id: str
    period: str
    grade: str
    held_on: dt.date | None = None
    rectified_on: dt.date | None = None

    @classmethod
    def of(cls, rec: Any) -> Evaluation:
        """From a dict or an ORM row."""
        get = _getter(rec)
        return cls(**{k: get(k) for k in ("org_id", "period", "grade", "held_on", "rectified_on")})


@dataclass(frozen=True)
class Custody:
    """A custody record: what the street took over on `taken_on`."""

    org_id: str
    taken_on: dt.date
    seal: bool = False
    accounts: bool = False
    vouchers: bool = False
    archives: bool = False

    @classmethod
    def of(cls, rec: Any) -> Custody:
        """From a dict or an ORM row."""
        get = _getter(rec)
        return cls(org_id=get("org_id"), taken_on=get("taken_on"), **{k: bool(get(k)) for k in CUSTODY_ITEMS})


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class Finding:
    """One finding: a stable code, a severity (error / warning / info) and its details."""

    code: str
    severity: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """{"code", "severity", …details} with dates as ISO text (the check command's JSON)."""
        return {"code": self.code, "severity": self.severity, **{k: _plain(v) for k, v in self.details.items()}}


# ---------------------------------------------------------------- half-years

def parse_period(text: Any) -> tuple[int, int] | None:
    """"2025H1" → (2025, 1); None when it is not a half-year."""
    m = _PERIOD.match(str(text or "").strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def period_of(day: dt.date) -> str:
    """The half-year of a day: H1 = January–June, H2 = July–December."""
    return f"{day.year}H{1 if day.month <= 6 else 2}"


def period_index(period: str) -> int:
    """A running number of half-years (consecutive half-years differ by 1)."""
    year, half = parse_period(period) or (0, 1)
    return year * 2 + half - 1


def period_from_index(index: int) -> str:
    """The inverse of period_index."""
    return f"{index // 2}H{index % 2 + 1}"


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of a half-year."""
    year, half = parse_period(period) or (1, 1)
    return (dt.date(year, 1, 1), dt.date(year, 6, 30)) if half == 1 else (dt.date(year, 7, 1), dt.date(year, 12, 31))


# ---------------------------------------------------------------- A1, A3: what a record may be

def missing_checks(member: Member) -> list[str]:
    """A1: the vetting checks a member lacks (police, credit, community; discipline for party members/public servants)."""
    out = [c for c in BASIC_CHECKS if not getattr(member, c)]
    if (member.party_member or member.public_servant) and not member.check_discipline:
        out.append("check_discipline")
    return out


def alternates_limit(seats: int, settings: OwnersOrgSettings) -> int:
    """A3: at most ⌊N × 50 %⌋ alternates."""
    return math.floor(seats * settings.alternates_max_share + _EPS)


def sitting(member: Member, today: dt.date, term_start: dt.date | None = None) -> bool:
    """On the seat today: not yet left, and started (or no start recorded, or elected for a term not begun yet:
    a start on or before `term_start`)."""
    started = member.start is None or member.start <= today or (term_start is not None and member.start <= term_start)
    return started and (member.end is None or member.end > today)


# ---------------------------------------------------------------- A2, A4: composition and vacancies

def composition_findings(seats: int, formal_sitting: Sequence[Member], party_org_on: dt.date | None,
                         today: dt.date, settings: OwnersOrgSettings) -> list[Finding]:
    """A2: party_count_low (P < 3), party_share_low (P / N < 0.5), party_org_missing (P ≥ 3, none recorded)."""
    p = sum(1 for m in formal_sitting if m.party_member)
    out = []
    if p < settings.party_min_count:
        out.append(Finding("party_count_low", "warning", {"party_members": p, "minimum": settings.party_min_count}))
    if p < settings.party_min_share * seats - _EPS:
        out.append(Finding("party_share_low", "warning", {"party_members": p, "seats": seats,
                                                          "minimum_share": settings.party_min_share}))
    if p >= settings.party_min_count and (party_org_on is None or party_org_on > today):
        out.append(Finding("party_org_missing", "warning", {"party_members": p}))
    return out


def rank_alternates(alternates: Iterable[Member]) -> list[Member]:
    """A4 seat order: most votes first; ties by earlier start date (then id, for a stable order)."""
    return sorted(alternates, key=lambda m: (-(m.votes if m.votes is not None else -1),
                                             m.start or dt.date.max, m.id))


def vacancy_plan(seats: int, formal_sitting: int, alternates: Sequence[Member],
                 settings: OwnersOrgSettings) -> tuple[str | None, int, list[Member]]:
    """A4: (None | "fill" | "re_election", vacancies V, the alternates taking the seats in order)."""
    v = max(0, seats - formal_sitting)
    if v == 0:
        return None, 0, []
    if v > seats * settings.vacancy_reelection_share + _EPS:
        return "re_election", v, []
    return "fill", v, rank_alternates(alternates)[:v]


# ---------------------------------------------------------------- A5: evaluations

def required_periods(start: dt.date | None, end: dt.date | None, today: dt.date,
                     settings: OwnersOrgSettings) -> list[str]:
    """Closed half-years (last day before today) at whose last day the organisation was in office."""
    if start is None:
        return []
    first = max(period_index(period_of(start)), period_index(settings.evaluation_first_period))
    out = []
    i = first
    while True:
        p = period_from_index(i)
        last = period_bounds(p)[1]
        if last >= today or (end is not None and end < last):
            break
        if start <= last:
            out.append(p)
        i += 1
    return out


def evaluation_findings(required: Sequence[str], evaluations: Sequence[Evaluation], today: dt.date,
                        settings: OwnersOrgSettings) -> tuple[list[Finding], list[str]]:
    """A5: evaluation_due / evaluation_overdue, rectification_due / rectification_overdue, and the periods of
    `unqualified_limit` unqualified grades within the same or consecutive half-years (→ re-election), if any."""
    out: list[Finding] = []
    done = {e.period for e in evaluations}
    for p in required:
        if p in done:
            continue
        due = period_bounds(p)[1] + dt.timedelta(days=settings.evaluation_grace_days)
        if today >= due:
            out.append(Finding("evaluation_overdue", "error", {"period": p, "due": due}))
        else:
            out.append(Finding("evaluation_due", "warning", {"period": p, "due": due}))
    unqualified = sorted((e for e in evaluations if e.grade == "unqualified"), key=lambda e: period_index(e.period))
    for e in unqualified:
        if e.rectified_on is not None:
            continue
        due = (e.held_on or period_bounds(e.period)[1]) + dt.timedelta(days=settings.rectification_days)
        code, severity = ("rectification_overdue", "error") if today > due else ("rectification_due", "warning")
        out.append(Finding(code, severity, {"period": e.period, "due": due}))
    return out, two_unqualified(unqualified, settings)


def two_unqualified(unqualified: Sequence[Evaluation], settings: OwnersOrgSettings) -> list[str]:
    """The first run of `unqualified_limit` unqualified grades at most `unqualified_max_gap` half-years apart."""
    idx = sorted(period_index(e.period) for e in unqualified)
    n = settings.unqualified_limit
    for k in range(len(idx) - n + 1):
        if idx[k + n - 1] - idx[k] <= settings.unqualified_max_gap:
            return [period_from_index(i) for i in idx[k:k + n]]
    return []


# ---------------------------------------------------------------- A6: trainings

def training_report(street_code: str, sessions: Iterable[tuple[dt.date, Sequence[str]]], today: dt.date,
                    settings: OwnersOrgSettings) -> dict[str, Any]:
    """A6 for one street: this year's count (`training_progress` while short) and `training_short` per closed year."""
    counts: dict[int, int] = {}
    for held_on, audiences in sessions:
        if held_on is not None and held_on <= today and settings.training_audience in (audiences or ()):
            counts[held_on.year] = counts.get(held_on.year, 0) + 1
    target = settings.trainings_per_year
    findings = []
    for year in range(settings.training_first_year, today.year):
        if counts.get(year, 0) < target:
            findings.append(Finding("training_short", "warning", {"year": year, "trainings": counts.get(year, 0),
                                                                  "target": target}))
    this = counts.get(today.year, 0)
    if this < target:
        findings.append(Finding("training_progress", "info", {"year": today.year, "trainings": this, "target": target}))
    return {"street_code": street_code, "year": today.year, "trainings": this, "findings": findings}


# ---------------------------------------------------------------- A7: term and custody

def custody_finding(term_end: dt.date, custody: Sequence[Custody], today: dt.date,
                    settings: OwnersOrgSettings) -> Finding | None:
    """A7: `custody_due` (warning; error once past term_end + 30 days) until seal, accounts, vouchers, archives are held."""
    held = {item for c in custody if c.taken_on <= today for item in CUSTODY_ITEMS if getattr(c, item)}
    missing = [i for i in CUSTODY_ITEMS if i not in held]
    if not missing:
        return None
    due = term_end + dt.timedelta(days=settings.custody_days)
    overdue = today > due
    return Finding("custody_due", "error" if overdue else "warning", {"due": due, "missing": missing, "overdue": overdue})


# ---------------------------------------------------------------- states

def lifecycle_state(org: Org, today: dt.date) -> str:
    """none / preparing / elected / filed / active from the dates alone (a declared organisation is active)."""
    def on(day: dt.date | None) -> bool:
        return day is not None and day <= today

    if org.declared:
        return "active"
    if on(org.registered_on) or (org.kind == "management_committee" and on(org.filed_on)):
        return "active"
    if on(org.filed_on):
        return "filed"
    if on(org.elected_on):
        return "elected"
    if on(org.prep_group_on):
        return "preparing"
    return "none"


def superseded_on(org: Org, successor: Org | None) -> dt.date | None:
    """When a successor ends this organisation: once filed (a 物管会 when a 业委会 is filed [Q]), or, for a
    committee whose term ended, once the successor is elected."""
    if successor is None:
        return None
    days = [d for d in (successor.filed_on, successor.registered_on) if d is not None]
    if org.kind != "management_committee" and org.term_end is not None and successor.elected_on is not None:
        days.append(max(successor.elected_on, org.term_end + dt.timedelta(days=1)))
    return min(days) if days else None


def start_key(org: Org) -> tuple[dt.date, str]:
    """Order of a compound's organisations: by their first recorded date (declared ones first, undated last)."""
    days = [d for d in (*[getattr(org, k) for k in LIFECYCLE_DATES], org.term_start) if d is not None]
    if days:
        return min(days), org.id
    return (dt.date.min if org.declared else dt.date.max), org.id


def to_complete(org: Org, members: Sequence[Member], today: dt.date | None = None) -> list[str]:
    """What a declared organisation still lacks (seats, dates, a formal member for every seat); empty when complete."""
    missing = [k for k in ("seats", "term_start", "term_end", "filed_on") if getattr(org, k) is None]
    if org.kind == "owners_committee" and org.registered_on is None:
        missing.append("registered_on")
    formal = [m for m in members if m.role in FORMAL_ROLES and (today is None or sitting(m, today, org.term_start))]
    if not formal or (org.seats and len(formal) < org.seats):
        missing.append("members")
    return missing


@dataclass
class Assessment:
    """One organisation as of a day: its derived state, findings and (A4) the alternates taking the seats."""

    org: Org
    state: str
    findings: list[Finding]
    seat_order: list[str]
    current: bool = False
    declared_open: bool = False  # declared and still to complete
    successor_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The check command's entry: {"org_id","compound_id","kind","state","findings","seat_order"}."""
        return {"org_id": self.org.id, "compound_id": self.org.compound_id, "kind": self.org.kind,
                "state": self.state, "findings": [f.as_dict() for f in self.findings], "seat_order": self.seat_order}


def assess_org(org: Org, members: Sequence[Member], evaluations: Sequence[Evaluation], custody: Sequence[Custody],
               today: dt.date, settings: OwnersOrgSettings, successor: Org | None = None) -> Assessment:
    """RULES §6 A1–A5, A7 for one organisation (A6 is the street's: `training_report`)."""
    findings: list[Finding] = []
    seat_order: list[str] = []
    reasons: list[tuple[str, dict[str, Any]]] = []
    base = lifecycle_state(org, today)
    ended = superseded_on(org, successor)
    dissolved = (org.dissolved_on is not None and org.dissolved_on <= today) or (ended is not None and ended <= today)
    open_items = to_complete(org, members, today) if org.declared else []
    if dissolved:
        return Assessment(org, "dissolved", [], [], successor_id=successor.id if successor else None)
    formal = [m for m in members if m.role in FORMAL_ROLES and sitting(m, today, org.term_start)]
    alternates = [m for m in members if m.role == "alternate" and sitting(m, today, org.term_start)]
    for m in (*formal, *alternates):  # A1 on what is stored (imports and forms refuse it up front)
        lacking = missing_checks(m)
        if lacking:
            findings.append(Finding("eligibility_missing", "error", {"member_id": m.id, "checks": lacking}))
    composed = base in ("elected", *IN_OFFICE)
    if composed and not members:
        if not org.declared:
            findings.append(Finding("members_missing", "warning", {}))
    elif composed and not org.seats:
        if not org.declared:
            findings.append(Finding("seats_missing", "warning", {}))
    elif composed:
        seats = int(org.seats)
        limit = alternates_limit(seats, settings)
        if len(alternates) > limit:  # A3
            findings.append(Finding("alternates_over", "error", {"alternates": len(alternates), "limit": limit}))
        findings.extend(composition_findings(seats, formal, org.party_org_on, today, settings))  # A2
        plan, v, chosen = vacancy_plan(seats, len(formal), alternates, settings)  # A4
        if plan is not None and (base == "elected" or open_items):  # still being recorded: no vacancy yet
            findings.append(Finding("members_incomplete", "info", {"recorded": len(formal), "seats": seats}))
        elif plan == "fill":
            seat_order = [m.id for m in chosen]
            findings.append(Finding("vacancy_fill", "warning", {"vacancies": v, "seats": seats,
                                                                "unfilled": v - len(chosen)}))
        elif plan == "re_election":
            reasons.append(("vacancy_over_half", {"vacancies": v, "seats": seats}))
    if composed:  # A5
        start = org.term_start or org.elected_on or org.filed_on or org.registered_on
        end = min([d for d in (org.term_end, org.dissolved_on) if d is not None], default=None)
        found, periods = evaluation_findings(required_periods(start, end, today, settings), evaluations, today,
                                             settings)
        findings.extend(found)
        if periods:
            reasons.append(("two_unqualified", {"periods": periods}))
    state = base
    if base in IN_OFFICE and org.term_end is not None and org.term_end < today:  # A7
        state = "term_expired"
        findings.append(Finding("term_expired", "error", {"term_end": org.term_end}))
        custody_due = custody_finding(org.term_end, custody, today, settings)
        if custody_due is not None:
            findings.append(custody_due)
    elif composed and reasons:
        state = "re_election_required"
    for reason, details in reasons:
        findings.append(Finding("re_election_required", "error", {"reason": reason, **details}))
    if state in IN_OFFICE and org.term_end is not None and \
            (org.term_end - today).days <= settings.term_warning_days:
        findings.append(Finding("term_expiring", "info", {"term_end": org.term_end, "days": (org.term_end - today).days}))
    if open_items:
        findings.append(Finding("to_complete", "info", {"missing": open_items}))
    return Assessment(org, state, findings, seat_order, declared_open=bool(open_items),
                      successor_id=successor.id if successor else None)


def assess_compound(orgs: Sequence[Org], members: Mapping[str, Sequence[Member]],
                    evaluations: Mapping[str, Sequence[Evaluation]], custody: Mapping[str, Sequence[Custody]],
                    today: dt.date, settings: OwnersOrgSettings) -> list[Assessment]:
    """Every organisation of one compound, in order, the current one flagged.

    Current: the latest one in office (filed/active); else the latest one not dissolved; else the latest.
    """
    ordered = sorted(orgs, key=start_key)
    out = [assess_org(o, members.get(o.id, ()), evaluations.get(o.id, ()), custody.get(o.id, ()), today, settings,
                      ordered[i + 1] if i + 1 < len(ordered) else None) for i, o in enumerate(ordered)]
    if out:
        live = [a for a in out if a.state != "dissolved"]
        in_office = [a for a in live if a.state in IN_OFFICE]
        (in_office or live or out)[-1].current = True
    return out


# ---------------------------------------------------------------- what other readers see

def status_of(compound_id: str, current: Assessment | None, compound_value: str | None,
              settings: OwnersOrgSettings) -> OrgStatus:
    """The compound's OrgStatus from its current organisation; without records, from `compound.owners_org`
    (a 业委会/物管会 there is a declared organisation, RULES §6 last point; anything else unknown)."""
    if current is None:
        if compound_value in ORG_KINDS:
            return OrgStatus(compound_id, compound_value, "active", counts=True, known=True, can_sign=True,
                             declared=True)
        if compound_value in ("none", "preparing"):
            return OrgStatus(compound_id, None, compound_value, counts=False, known=True, can_sign=False)
        return OrgStatus(compound_id, None, "unknown", counts=False, known=False, can_sign=False)
    state = current.state
    counts = state in IN_OFFICE or (settings.count_lapsed and state in LAPSED)
    return OrgStatus(compound_id, current.org.kind, state, counts=counts, known=True, can_sign=state == "active",
                     org_id=current.org.id, declared=current.declared_open)


def compound_value(status: OrgStatus) -> str:
    """`compound.owners_org` kept in step for old readers: the kind when it counts, preparing, none (or unknown)."""
    if not status.known:
        return "unknown"
    if status.counts:
        return status.kind or "none"
    return "preparing" if status.state in FORMING else "none"


def layer_class(status: OrgStatus, findings: Sequence[Finding]) -> str:
    """The map class (RULES §6 layer): active 业委会 / active 物管会 / forming / needs action / lapsed / none / unknown."""
    if not status.known:
        return "unknown"
    if status.counts:
        if any(f.severity in ("error", "warning") for f in findings):
            return "needs_action"
        return "active_management_committee" if status.kind == "management_committee" else "active_owners_committee"
    if status.state in FORMING:
        return "forming"
    if status.state in LAPSED:
        return "lapsed"
    return "none"


def rate_summary(statuses: Iterable[OrgStatus], settings: OwnersOrgSettings) -> dict[str, Any]:
    """RULES §1 owners' organisation rate over known compounds, the lower bound over all, and how many are still needed."""
    n = known = counting = 0
    for st in statuses:
        n += 1
        known += st.known
        counting += st.counts
    return {"compounds": n, "known": known, "unknown": n - known, "counting": counting,
            "rate": counting / known if known else None, "rate_lower": counting / n if n else None,
            "target": settings.target_rate,
            "needed": max(0, math.ceil(settings.target_rate * known - counting - _EPS))}


def new_org_id(compound_id: str, taken: Iterable[str]) -> str:
    """`<compound>-org<n>` with the first free n (a hash when the id would pass 64 characters)."""
    taken = set(taken)
    n = 1
    while True:
        org_id = f"{compound_id}-org{n}"
        if len(org_id) > 64:
            org_id = "org-" + hashlib.sha1(f"{compound_id}/{n}".encode()).hexdigest()[:24] if n > 1 else \
                "org-" + hashlib.sha1(compound_id.encode()).hexdigest()[:24]
        if org_id not in taken:
            return org_id
        n += 1
