"""The owners' organisation plugin's one service layer (framework-free; the CLI and HTTP call it).

Reads load the records into `rules` types and assess them as of a day; writes check the caller's
jurisdiction (`allowed(user, action, resource)`, i.e. `Context.allowed`), apply RULES §6's refusals
(A1 eligibility, A3 alternates, one current organisation per compound), write one audit event each,
and keep `compound.owners_org` in step for old readers. Errors are `geoplatform.errors` with catalogue keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from geoplatform import audit
from geoplatform import models as m
from geoplatform.errors import Conflict, Forbidden, NotFound, UserInputError
from geoplatform.exchange import OrgStatus
from geoplatform.i18n import Localized
from geoplatform.models.owners_org import OrgCustody, OrgEvaluation, OrgMember, OwnersOrg, Training
from plugins.owners_org import rules as r
from plugins.owners_org.messages import LABELS
from plugins.owners_org.settings import OwnersOrgSettings

Allowed = Callable[[Any, str, Any], bool]
ORG_FIELDS = ("seats", "prep_group_on", "elected_on", "filed_on", "registered_on", "term_start", "term_end",
              "party_org_on", "dissolved_on", "declared", "note")
DATE_ORDER = (("prep_group_on", "elected_on"), ("elected_on", "filed_on"), ("filed_on", "registered_on"),
              ("term_start", "term_end"), ("elected_on", "term_end"))
MEMBER_BOOLS = ("party_member", "public_servant", "check_police", "check_credit", "check_community", "check_discipline")
MAX_SEATS = 99
CHUNK = 900


# ---------------------------------------------------------------- loading and assessing

@dataclass
class Records:
    """The stored records of some compounds, as rules types."""

    compounds: dict[str, dict[str, Any]]  # id → {id, name, street_code, community_code, owners_org}
    orgs: list[r.Org] = field(default_factory=list)
    members: dict[str, list[r.Member]] = field(default_factory=dict)
    evaluations: dict[str, list[r.Evaluation]] = field(default_factory=dict)
    custody: dict[str, list[r.Custody]] = field(default_factory=dict)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for k in range(0, len(values), CHUNK):
        yield values[k:k + CHUNK]


def load(session: Session, compound_ids: Iterable[str] | None = None, street: str | None = None,
         community: str | None = None) -> Records:
    """The compounds (all, these ids, one street or one community) and their organisations' records."""
    c = m.Compound
    stmt = select(c.id, c.name, c.street_code, c.community_code, c.owners_org).order_by(c.id)
    if street is not None:
        stmt = stmt.where(c.street_code == street)
    if community is not None:
        stmt = stmt.where(c.community_code == community)
    if compound_ids is not None:
        ids = sorted(set(compound_ids))
        rows = [row for part in _chunks(ids) for row in session.execute(stmt.where(c.id.in_(part))).mappings()]
    else:
        rows = list(session.execute(stmt).mappings())
    compounds = {row["id"]: dict(row) for row in rows}
    out = Records(compounds)
    everything = compound_ids is None and street is None and community is None
    org_table = OwnersOrg.__table__
    if everything:
        org_rows = list(session.execute(select(org_table)).mappings())
    else:
        org_rows = [row for part in _chunks(sorted(compounds))
                    for row in session.execute(select(org_table).where(org_table.c.compound_id.in_(part))).mappings()]
    out.orgs = [r.Org.of(o) for o in org_rows if o["compound_id"] in compounds]
    org_ids = sorted(o.id for o in out.orgs)

    def grouped(model: Any, make: Callable[[Any], Any]) -> dict[str, list[Any]]:
        table = model.__table__
        got: dict[str, list[Any]] = defaultdict(list)
        rows_ = session.execute(select(table)).mappings() if everything else \
            [x for part in _chunks(org_ids) for x in session.execute(select(table).where(table.c.org_id.in_(part))).mappings()]
        for row in rows_:
            got[row["org_id"]].append(make(row))
        return dict(got)

    out.members = grouped(OrgMember, r.Member.of)
    out.evaluations = grouped(OrgEvaluation, r.Evaluation.of)
    out.custody = grouped(OrgCustody, r.Custody.of)
    return out


def assess(records: Records, today: dt.date, settings: OwnersOrgSettings) -> dict[str, list[r.Assessment]]:
    """{compound id: its organisations assessed (current one flagged)} for compounds with records."""
    by_compound: dict[str, list[r.Org]] = defaultdict(list)
    for o in records.orgs:
        by_compound[o.compound_id].append(o)
    return {cid: r.assess_compound(orgs, records.members, records.evaluations, records.custody, today, settings)
            for cid, orgs in sorted(by_compound.items())}


def current_of(assessments: Sequence[r.Assessment]) -> r.Assessment | None:
    """The current organisation of a compound's assessments."""
    return next((a for a in assessments if a.current), None)


def statuses(records: Records, assessed: dict[str, list[r.Assessment]],
             settings: OwnersOrgSettings) -> dict[str, OrgStatus]:
    """{compound id: OrgStatus} for every compound of `records`."""
    return {cid: r.status_of(cid, current_of(assessed.get(cid, ())), c["owners_org"], settings)
            for cid, c in records.compounds.items()}


@dataclass
class District:
    """Everything assessed for the whole district as of a day (cached per data revision by the context)."""

    records: Records
    assessed: dict[str, list[r.Assessment]]
    statuses: dict[str, OrgStatus]


def district(context: Any, settings: OwnersOrgSettings) -> District:
    """The district assessed as of `context.today` (memoised per data revision and day)."""
    def build() -> District:
        with context.session(readonly=True) as s:
            records = load(s)
        assessed = assess(records, context.today, settings)
        return District(records, assessed, statuses(records, assessed, settings))

    return context.memo("owners_org.district", build, recipe=("plugins.owners_org.service:district", (settings,)))


def check_report(session: Session, today: dt.date, settings: OwnersOrgSettings,
                 street: str | None = None) -> dict[str, Any]:
    """`owners-org check --json`: every organisation (state, findings, seat order) and every street's trainings."""
    records = load(session, street=street)
    assessed = assess(records, today, settings)
    orgs = [a.as_dict() for cid in sorted(assessed) for a in assessed[cid]]
    return {"today": today.isoformat(), "orgs": orgs, "streets": training_reports(session, today, settings, street)}


def training_reports(session: Session, today: dt.date, settings: OwnersOrgSettings,
                     street: str | None = None) -> list[dict[str, Any]]:
    """A6 per street (every street, or one): {"street_code", "year", "trainings", "findings"}."""
    codes = [street] if street is not None else list(session.scalars(select(m.Street.code).order_by(m.Street.code)))
    sessions: dict[str, list[tuple[dt.date, list[str]]]] = defaultdict(list)
    stmt = select(Training.street_code, Training.held_on, Training.audiences)
    if street is not None:
        stmt = stmt.where(Training.street_code == street)
    for code, held_on, audiences in session.execute(stmt):
        sessions[code].append((held_on, list(audiences or ())))
    out = []
    for code in codes:
        report = r.training_report(code, sessions.get(code, []), today, settings)
        out.append({**report, "findings": [f.as_dict() for f in report["findings"]]})
    return out


# ---------------------------------------------------------------- keeping compound.owners_org in step

def sync_compounds(session: Session, compound_ids: Iterable[str] | None, today: dt.date,
                   settings: OwnersOrgSettings, user: Any = "owners_org") -> list[str]:
    """Set `compound.owners_org` from the records (compounds with records only); returns the ids changed.

    Each change is audited as a compound update (before/after owners_org, as the bureau's trend reads them)
    unless `user` is None (the demo, whose compounds have no history either).
    """
    session.flush()
    records = load(session, compound_ids)
    assessed = assess(records, today, settings)
    changed = []
    for cid, items in assessed.items():
        old = records.compounds[cid]["owners_org"]
        value = r.compound_value(r.status_of(cid, current_of(items), old, settings))
        if value != old:
            changed.append(cid)
            session.execute(update(m.Compound).where(m.Compound.id == cid)
                            .values(owners_org=value, version=m.Compound.version + 1))
            if user is not None:
                audit.record(session, user, "update", "compound", cid, {"owners_org": old}, {"owners_org": value},
                             street_code=records.compounds[cid]["street_code"],
                             detail="owners_org kept in step with the owners' organisation records (RULES §6)")
    return changed


def declare_from_compounds(session: Session, compound_ids: Iterable[str] | None, user: Any,
                           source: str = "declared by the compounds ledger") -> list[str]:
    """RULES §6 last point: a compound whose owners_org says 业委会/物管会 and that has no organisation record
    gets a declared one (counted as active, to complete); returns the compound ids given one."""
    session.flush()
    c = m.Compound
    stmt = select(c.id, c.owners_org, c.street_code).where(c.owners_org.in_(r.ORG_KINDS))
    if compound_ids is not None:
        ids = sorted(set(compound_ids))
        rows = [row for part in _chunks(ids) for row in session.execute(stmt.where(c.id.in_(part)))]
    else:
        rows = list(session.execute(stmt))
    have = set()
    for part in _chunks(sorted(row[0] for row in rows)):
        have.update(session.scalars(select(OwnersOrg.compound_id).where(OwnersOrg.compound_id.in_(part))))
    created = []
    for cid, kind, street in rows:
        if cid in have:
            continue
        org_id = r.new_org_id(cid, [])
        session.add(OwnersOrg(id=org_id, compound_id=cid, kind=kind, declared=True, source=source))
        audit.record(session, user, "create", "owners_org", org_id, after={"compound_id": cid, "kind": kind,
                                                                          "declared": True}, street_code=street)
        created.append(cid)
    session.flush()
    return created


# ---------------------------------------------------------------- values from forms and JSON

def _label(field_name: str) -> Localized:
    from geoplatform.i18n import t

    return Localized(zh=t(f"owners_org.field.{field_name}", "zh"), en=t(f"owners_org.field.{field_name}", "en"))


def _date(value: Any, name: str) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise UserInputError("owners_org.refused.bad_value", field=_label(name), value=str(value)) from None


def _int(value: Any, name: str, lo: int, hi: int) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
        if number != value and not isinstance(value, str):
            raise ValueError
    except (TypeError, ValueError):
        raise UserInputError("owners_org.refused.bad_value", field=_label(name), value=str(value)) from None
    if not lo <= number <= hi:
        raise UserInputError("owners_org.refused.bad_value", field=_label(name), value=str(value))
    return number


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "true", "yes", "on", "是", "y")


def _text(value: Any, name: str, max_len: int, required: bool = False) -> str | None:
    text = None if value is None else str(value).strip()
    if required and not text:
        raise UserInputError("owners_org.refused.required", field=_label(name))
    if text and len(text) > max_len:
        raise UserInputError("owners_org.refused.bad_value", field=_label(name), value=text[:40] + "…")
    return text or None


def _enum(value: Any, enum: str, name: str) -> str:
    from geoplatform.labels import parse_enum

    got = parse_enum(enum, value) if value is not None else None
    if got is None:
        raise UserInputError("owners_org.refused.bad_value", field=_label(name), value=str(value))
    return got


def date_order_problems(values: dict[str, Any]) -> list[tuple[str, str]]:
    """Pairs of dates recorded in the wrong order (prep ≤ elected ≤ filed ≤ registered, term_start ≤ term_end)."""
    return [(a, b) for a, b in DATE_ORDER
            if values.get(a) is not None and values.get(b) is not None and values[a] > values[b]]


def _check_order(values: dict[str, Any]) -> None:
    problems = date_order_problems(values)
    if problems:
        a, b = problems[0]
        raise UserInputError("owners_org.refused.date_order", first=_label(a), a=values[a].isoformat(),
                             second=_label(b), b=values[b].isoformat())


def eligibility_error(member: r.Member) -> UserInputError | None:
    """A1: the refusal naming the missing checks, or None."""
    lacking = r.missing_checks(member)
    if not lacking:
        return None
    names = LABELS["org_check"]
    return UserInputError("owners_org.refused.eligibility", person=member.person or member.id,
                          checks=Localized(zh="、".join(names[c][0] for c in lacking),
                                           en=", ".join(names[c][1] for c in lacking)))


def alternates_error(seats: int | None, count: int, settings: OwnersOrgSettings) -> UserInputError | None:
    """A3: the refusal when `count` alternates exceed ⌊seats / 2⌋ (or the seats are not recorded)."""
    if count == 0:
        return None
    if not seats:
        return UserInputError("owners_org.refused.alternates_no_seats")
    limit = r.alternates_limit(seats, settings)
    if count > limit:
        return UserInputError("owners_org.refused.alternates", n=count, seats=seats, limit=limit)
    return None


def open_alternates(members: Iterable[Any], today: dt.date) -> int:
    """Alternates not yet left (sitting or to sit) — the A3 count."""
    return sum(1 for x in members if x.role == "alternate" and (x.end is None or x.end > today))


# ---------------------------------------------------------------- writes

def _resource(compound: Any) -> dict[str, Any]:
    return {"kind": "owners_org", "id": compound.id, "compound_id": compound.id, "street_code": compound.street_code,
            "community_code": compound.community_code}


def _authorise(allowed: Allowed, user: Any, action: str, resource: dict[str, Any]) -> None:
    if not allowed(user, action, resource):
        raise Forbidden("owners_org.refused.forbidden")


def _compound(session: Session, compound_id: str) -> m.Compound:
    c = session.get(m.Compound, compound_id)
    if c is None:
        raise NotFound("owners_org.refused.unknown_compound", compound_id=compound_id)
    return c


def _org(session: Session, org_id: str) -> tuple[OwnersOrg, m.Compound]:
    o = session.get(OwnersOrg, org_id)
    if o is None:
        raise NotFound("owners_org.refused.unknown_org", org_id=org_id)
    return o, session.get(m.Compound, o.compound_id)


def _version(row: Any, version: Any) -> None:
    if version is not None and str(version) != str(row.version):
        raise Conflict("owners_org.refused.stale", version=row.version)


def org_dict(o: OwnersOrg) -> dict[str, Any]:
    """An organisation row as JSON-ready values."""
    return {"id": o.id, "compound_id": o.compound_id, "kind": o.kind, "version": o.version,
            **{k: audit.jsonable(getattr(o, k)) for k in ORG_FIELDS}}


def member_dict(x: OrgMember) -> dict[str, Any]:
    """A member row as JSON-ready values."""
    keys = ("id", "org_id", "person", "role", *MEMBER_BOOLS, "votes", "start", "end", "version")
    return {k: audit.jsonable(getattr(x, k)) for k in keys}


def create_org(session: Session, user: Any, compound_id: str, values: dict[str, Any], allowed: Allowed,
               today: dt.date, settings: OwnersOrgSettings) -> dict[str, Any]:
    """A new organisation for a compound (a preparatory group, or a 物管会 the street forms).

    Refused (Conflict) while the compound's current organisation is forming or in office — except a
    业委会 succeeding a 物管会, or a successor prepared within `term_warning_days` of the term's end.
    """
    c = _compound(session, compound_id)
    _authorise(allowed, user, "edit_owners_org", _resource(c))
    kind = _enum(values.get("kind") or "owners_committee", "org_kind", "kind")
    fields_ = _org_values(values)
    if not any(fields_.get(k) for k in r.LIFECYCLE_DATES):
        raise UserInputError("owners_org.refused.required", field=_label("prep_group_on"))
    _check_order(fields_)
    records = load(session, [compound_id])
    cur = current_of(assess(records, today, settings).get(compound_id, []))
    if cur is not None and cur.state not in (*r.LAPSED, "dissolved"):
        successor_ok = cur.state in r.IN_OFFICE and (
            (cur.org.kind == "management_committee" and kind == "owners_committee") or
            (cur.org.term_end is not None and (cur.org.term_end - today).days <= settings.term_warning_days))
        if not successor_ok:
            from geoplatform.labels import label

            raise Conflict("owners_org.refused.current_exists", org_id=cur.org.id,
                           state=Localized(zh=label("org_state", cur.state, "zh"), en=label("org_state", cur.state, "en")),
                           days=settings.term_warning_days)
    taken = set(session.scalars(select(OwnersOrg.id).where(OwnersOrg.compound_id == compound_id)))
    org_id = r.new_org_id(compound_id, taken)
    while session.get(OwnersOrg, org_id) is not None:  # an id another compound's record happens to use
        taken.add(org_id)
        org_id = r.new_org_id(compound_id, taken)
    org = OwnersOrg(id=org_id, compound_id=compound_id, kind=kind, source="workspace",
                    **{k: v for k, v in fields_.items() if k != "declared"})
    session.add(org)
    session.flush()
    audit.record(session, user, "create", "owners_org", org.id, after=org_dict(org), street_code=c.street_code)
    sync_compounds(session, [compound_id], today, settings, user)
    return org_dict(org)


def _org_values(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in ORG_FIELDS:
        if k not in values:
            continue
        if k == "seats":
            out[k] = _int(values[k], k, 1, MAX_SEATS)
        elif k == "declared":
            out[k] = _bool(values[k])
        elif k == "note":
            out[k] = _text(values[k], k, 2000)
        else:
            out[k] = _date(values[k], k)
    return out


def update_org(session: Session, user: Any, org_id: str, values: dict[str, Any], allowed: Allowed,
               today: dt.date, settings: OwnersOrgSettings, version: Any = None) -> dict[str, Any]:
    """Record an organisation's dates, seats, party organisation (the state follows from them)."""
    org, c = _org(session, org_id)
    _authorise(allowed, user, "edit_owners_org", _resource(c))
    _version(org, version)
    unknown = sorted(set(values) - set(ORG_FIELDS))
    if unknown:
        raise UserInputError("owners_org.refused.bad_value", field=unknown[0], value=str(values[unknown[0]]))
    changes = {k: v for k, v in _org_values(values).items() if getattr(org, k) != v}  # a form sends every field
    merged = {**{k: getattr(org, k) for k in ORG_FIELDS}, **changes}
    _check_order(merged)
    if "seats" in changes and changes["seats"] != org.seats:
        members = session.scalars(select(OrgMember).where(OrgMember.org_id == org_id)).all()
        n = open_alternates(members, today)
        if n and merged["seats"] and n > r.alternates_limit(merged["seats"], settings):
            raise UserInputError("owners_org.refused.seats_alternates", seats=merged["seats"], n=n,
                                 limit=r.alternates_limit(merged["seats"], settings))
    if not changes:
        return org_dict(org)
    before = {k: audit.jsonable(getattr(org, k)) for k in changes}
    for k, v in changes.items():
        setattr(org, k, v)
    session.flush()
    audit.record(session, user, "update", "owners_org", org_id, before,
                 {k: audit.jsonable(v) for k, v in changes.items()}, street_code=c.street_code)
    sync_compounds(session, [c.id], today, settings, user)
    return org_dict(org)


def _member_values(values: dict[str, Any], org_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {"person": _text(values.get("person"), "person", 100, required=True),
                           "role": _enum(values.get("role") or "member", "org_role", "role")}
    for k in MEMBER_BOOLS:
        out[k] = _bool(values.get(k)) if k != "check_discipline" or values.get(k) not in (None, "") else None
    out["votes"] = _int(values.get("votes"), "votes", 0, 10_000_000)
    out["start"] = _date(values.get("start"), "start")
    out["end"] = _date(values.get("end"), "end")
    if out["start"] and out["end"] and out["start"] > out["end"]:
        raise UserInputError("owners_org.refused.date_order", first=_label("start"), a=out["start"].isoformat(),
                             second=_label("end"), b=out["end"].isoformat())
    return out


def new_member_id(org_id: str, taken: Iterable[str]) -> str:
    """`<org>-m<n>` with the first free n (hashed when longer than 64 characters)."""
    taken = set(taken)
    n = 1
    while True:
        mid = f"{org_id}-m{n}"
        if len(mid) > 64:
            mid = "m-" + hashlib.sha1(f"{org_id}/{n}".encode()).hexdigest()[:24]
        if mid not in taken:
            return mid
        n += 1


def add_member(session: Session, user: Any, org_id: str, values: dict[str, Any], allowed: Allowed,
               today: dt.date, settings: OwnersOrgSettings) -> dict[str, Any]:
    """Record an elected member or alternate: refused without the vetting checks (A1) or beyond ⌊N/2⌋ alternates (A3)."""
    org, c = _org(session, org_id)
    _authorise(allowed, user, "edit_owners_org", _resource(c))
    fields_ = _member_values(values, org_id)
    error = eligibility_error(r.Member(id="new", org_id=org_id, **fields_))
    if error is not None:
        raise error
    members = session.scalars(select(OrgMember).where(OrgMember.org_id == org_id)).all()
    if fields_["role"] == "alternate" and (fields_["end"] is None or fields_["end"] > today):
        error = alternates_error(org.seats, open_alternates(members, today) + 1, settings)
        if error is not None:
            raise error
    row = OrgMember(id=new_member_id(org_id, [x.id for x in members]), org_id=org_id, source="workspace", **fields_)
    session.add(row)
    session.flush()
    audit.record(session, user, "create", "org_member", row.id, after=member_dict(row), street_code=c.street_code)
    sync_compounds(session, [c.id], today, settings, user)
    return member_dict(row)


def update_member(session: Session, user: Any, member_id: str, values: dict[str, Any], allowed: Allowed,
                  today: dt.date, settings: OwnersOrgSettings, version: Any = None) -> dict[str, Any]:
    """Record that a member left (`end`) or their votes."""
    row = session.get(OrgMember, member_id)
    if row is None:
        raise NotFound("owners_org.refused.unknown_member", member_id=member_id)
    org, c = _org(session, row.org_id)
    _authorise(allowed, user, "edit_owners_org", _resource(c))
    _version(row, version)
    changes: dict[str, Any] = {}
    if "end" in values:
        changes["end"] = _date(values["end"], "end")
    if "votes" in values:
        changes["votes"] = _int(values["votes"], "votes", 0, 10_000_000)
    if not changes:
        raise UserInputError("owners_org.refused.required", field=_label("end"))
    before = {k: audit.jsonable(getattr(row, k)) for k in changes}
    for k, v in changes.items():
        setattr(row, k, v)
    session.flush()
    audit.record(session, user, "update", "org_member", member_id, before,
                 {k: audit.jsonable(v) for k, v in changes.items()}, street_code=c.street_code)
    sync_compounds(session, [c.id], today, settings, user)
    return member_dict(row)


def fill_seats(session: Session, user: Any, org_id: str, allowed: Allowed, today: dt.date,
               settings: OwnersOrgSettings) -> dict[str, Any]:
    """A4: the alternates with most votes take the vacant seats (each leaves the alternate list today)."""
    org, c = _org(session, org_id)
    _authorise(allowed, user, "edit_owners_org", _resource(c))
    records = load(session, [c.id])
    assessment = next(a for a in assess(records, today, settings)[c.id] if a.org.id == org_id)
    if not assessment.seat_order:
        raise UserInputError("owners_org.refused.no_vacancy")
    members = {x.id: x for x in session.scalars(select(OrgMember).where(OrgMember.org_id == org_id))}
    seated = []
    for mid in assessment.seat_order:
        alt = members[mid]
        alt.end = today
        new = OrgMember(id=new_member_id(org_id, [*members, *(s.id for s in seated)]), org_id=org_id,
                        person=alt.person, role="member", votes=alt.votes, start=today, source=f"seat fill from {mid}",
                        **{k: getattr(alt, k) for k in MEMBER_BOOLS})
        session.add(new)
        seated.append(new)
    session.flush()
    audit.record(session, user, "fill_seats", "owners_org", org_id, after={"seat_order": assessment.seat_order,
                                                                           "members": [s.id for s in seated]},
                 street_code=c.street_code)
    sync_compounds(session, [c.id], today, settings, user)
    return {"org_id": org_id, "filled": len(seated), "seat_order": assessment.seat_order}


def record_evaluation(session: Session, user: Any, org_id: str, values: dict[str, Any], allowed: Allowed,
                      today: dt.date, settings: OwnersOrgSettings) -> dict[str, Any]:
    """A5: one 民主评议 per half-year (recorded again = corrected), its grade and rectification date."""
    org, c = _org(session, org_id)
    _authorise(allowed, user, "record_evaluation", _resource(c))
    period = str(values.get("period") or "").strip().upper()
    if r.parse_period(period) is None:
        raise UserInputError("owners_org.refused.bad_period", value=period)
    period = r.period_from_index(r.period_index(period))
    start, _ = r.period_bounds(period)
    if start > today:
        raise UserInputError("owners_org.refused.period_open", period=period)
    grade = _enum(values.get("grade"), "org_grade", "grade")
    held_on = _date(values.get("held_on"), "held_on")
    rectified_on = _date(values.get("rectified_on"), "rectified_on")
    if held_on is not None and held_on < start:
        raise UserInputError("owners_org.refused.held_before_period", held_on=held_on.isoformat(), period=period)
    row = session.scalars(select(OrgEvaluation).where(OrgEvaluation.org_id == org_id,
                                                      OrgEvaluation.period == period)).first()
    name = getattr(user, "name", None) or str(user)
    before = None
    if row is None:
        row = OrgEvaluation(org_id=org_id, period=period, grade=grade, held_on=held_on, rectified_on=rectified_on,
                            recorded_by=name, source="workspace")
        session.add(row)
    else:
        before = {"grade": row.grade, "held_on": audit.jsonable(row.held_on),
                  "rectified_on": audit.jsonable(row.rectified_on)}
        row.grade, row.recorded_by = grade, name
        if "held_on" in values:
            row.held_on = held_on
        if "rectified_on" in values:
            row.rectified_on = rectified_on
    session.flush()
    after = {"period": period, "grade": row.grade, "held_on": audit.jsonable(row.held_on),
             "rectified_on": audit.jsonable(row.rectified_on)}
    audit.record(session, user, "create" if before is None else "update", "org_evaluation", f"{org_id}/{period}",
                 before, after, street_code=c.street_code)
    sync_compounds(session, [c.id], today, settings, user)
    return {"org_id": org_id, **after}


def record_custody(session: Session, user: Any, org_id: str, values: dict[str, Any], allowed: Allowed,
                   today: dt.date, settings: OwnersOrgSettings) -> dict[str, Any]:
    """A7: what the street took into custody (seal, accounts, vouchers, archives) and when."""
    org, c = _org(session, org_id)
    _authorise(allowed, user, "edit_owners_org", _resource(c))
    items = {k: _bool(values.get(k)) for k in r.CUSTODY_ITEMS}
    if not any(items.values()):
        raise UserInputError("owners_org.refused.custody_empty")
    taken_on = _date(values.get("taken_on"), "taken_on") or today
    row = OrgCustody(org_id=org_id, taken_on=taken_on, note=_text(values.get("note"), "note", 2000),
                     recorded_by=getattr(user, "name", None) or str(user), **items)
    session.add(row)
    session.flush()
    after = {"taken_on": taken_on.isoformat(), **items}
    audit.record(session, user, "create", "org_custody", str(row.id), after=after, street_code=c.street_code)
    return {"org_id": org_id, "id": row.id, **after}


def add_training(session: Session, user: Any, street_code: str, values: dict[str, Any], allowed: Allowed,
                 today: dt.date) -> dict[str, Any]:
    """A6: a training session the street held (audiences default to committee members)."""
    from geoplatform.streets import resolve_street

    code = resolve_street(session, street_code)
    _authorise(allowed, user, "edit_owners_org", {"kind": "owners_org", "street_code": code})
    held_on = _date(values.get("held_on"), "training_on")
    if held_on is None:
        raise UserInputError("owners_org.refused.required", field=_label("training_on"))
    raw = values.get("audiences")
    if isinstance(raw, str):
        raw = [a for a in raw.replace("，", ",").split(",") if a.strip()]
    audiences = [str(a).strip() for a in (raw or [])] or ["committee_members"]
    title = _text(values.get("title"), "title", 200)
    taken = session.scalars(select(Training.id).where(Training.street_code == code)).all()
    base = f"{code}-{held_on:%Y%m%d}"
    n = 1
    while f"{base}-{n}" in taken:
        n += 1
    row = Training(id=f"{base}-{n}", street_code=code, held_on=held_on, audiences=audiences, title=title,
                   source="workspace")
    session.add(row)
    session.flush()
    after = {"street_code": code, "held_on": held_on.isoformat(), "audiences": audiences, "title": title}
    audit.record(session, user, "create", "training", row.id, after=after, street_code=code)
    return {"id": row.id, **after}


# ---------------------------------------------------------------- read models of the workspace

def compound_detail(session: Session, compound_id: str, today: dt.date, settings: OwnersOrgSettings) -> dict[str, Any]:
    """One compound's organisations (newest first) with members, evaluations, custody, state and findings."""
    c = _compound(session, compound_id)
    records = load(session, [compound_id])
    assessed = assess(records, today, settings).get(compound_id, [])
    status = r.status_of(compound_id, current_of(assessed), c.owners_org, settings)
    rows = {o.id: o for o in session.scalars(select(OwnersOrg).where(OwnersOrg.compound_id == compound_id))}
    ids = list(rows)
    members: dict[str, list[Any]] = defaultdict(list)
    evaluations: dict[str, list[Any]] = defaultdict(list)
    custody: dict[str, list[Any]] = defaultdict(list)
    if ids:
        for x in session.scalars(select(OrgMember).where(OrgMember.org_id.in_(ids))):
            members[x.org_id].append(member_dict(x))
        for e in session.scalars(select(OrgEvaluation).where(OrgEvaluation.org_id.in_(ids))):
            evaluations[e.org_id].append({"period": e.period, "grade": e.grade, "held_on": audit.jsonable(e.held_on),
                                          "rectified_on": audit.jsonable(e.rectified_on), "recorded_by": e.recorded_by})
        for k in custody_rows(session, ids):
            custody[k["org_id"]].append(k)
    role_order = {role: i for i, role in enumerate(r.MEMBER_ROLES)}
    orgs = []
    for a in reversed(assessed):
        o = a.org
        orgs.append({**org_dict(rows[o.id]), "state": a.state, "current": a.current, "declared_open": a.declared_open,
                     "findings": [f.as_dict() for f in a.findings], "seat_order": a.seat_order,
                     "members": sorted(members.get(o.id, []), key=lambda x: (x["end"] is not None,
                                                                              role_order.get(x["role"], 9), x["id"])),
                     "evaluations": sorted(evaluations.get(o.id, []), key=lambda e: r.period_index(e["period"]),
                                           reverse=True),
                     "custody": custody.get(o.id, [])})
    return {"compound": {"id": c.id, "name": c.name, "street_code": c.street_code, "community_code": c.community_code,
                         "owners_org": c.owners_org},
            "status": status_dict(status), "orgs": orgs}


def custody_rows(session: Session, org_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Custody records of some organisations."""
    return [{"id": k.id, "org_id": k.org_id, "taken_on": audit.jsonable(k.taken_on), "note": k.note,
             **{i: bool(getattr(k, i)) for i in r.CUSTODY_ITEMS}}
            for k in session.scalars(select(OrgCustody).where(OrgCustody.org_id.in_(list(org_ids)))
                                     .order_by(OrgCustody.taken_on))]


def status_dict(status: OrgStatus) -> dict[str, Any]:
    """An OrgStatus as JSON-ready values."""
    return {"kind": status.kind, "state": status.state, "counts": status.counts, "known": status.known,
            "can_sign": status.can_sign, "org_id": status.org_id, "declared": status.declared}


ALERT_CODES = ("vacancy_fill", "re_election_required", "evaluation_due", "evaluation_overdue", "rectification_due",
               "rectification_overdue", "term_expiring", "term_expired", "custody_due", "alternates_over",
               "eligibility_missing", "party_org_missing", "members_missing", "seats_missing")
BOARD_COLUMNS = ("none", "preparing", "elected", "filed", "active", "lapsed", "unknown")


def board(session: Session, today: dt.date, settings: OwnersOrgSettings, street: str | None = None,
          community: str | None = None) -> dict[str, Any]:
    """The workspace: compounds of a street (or community) by pipeline column, alerts, the rate, trainings."""
    records = load(session, street=street, community=community)
    assessed = assess(records, today, settings)
    sts = statuses(records, assessed, settings)
    cards: dict[str, list[dict[str, Any]]] = {col: [] for col in BOARD_COLUMNS}
    alerts = []
    severity_rank = {s: i for i, s in enumerate(r.SEVERITIES)}
    for cid, comp in records.compounds.items():
        st = sts[cid]
        items = assessed.get(cid, [])
        cur = current_of(items)
        findings = cur.findings if cur else []
        column = "unknown" if not st.known else ("lapsed" if st.state in r.LAPSED else
                                                 "none" if st.state == "dissolved" else st.state)
        successor = next((a for a in items if cur is not None and a.org.id == cur.successor_id), None)
        cards.setdefault(column, []).append({
            "compound_id": cid, "name": comp["name"], "state": st.state, "kind": st.kind, "declared": st.declared,
            "org_id": st.org_id, "class": r.layer_class(st, findings), "counts": st.counts,
            "findings": [f.as_dict() for f in findings],
            "successor": {"org_id": successor.org.id, "state": successor.state} if successor else None})
        for a in items:
            if a.state == "dissolved":
                continue
            for f in a.findings:
                if f.code in ALERT_CODES:
                    alerts.append({"compound_id": cid, "name": comp["name"], "org_id": a.org.id, **f.as_dict()})
    alerts.sort(key=lambda x: (severity_rank.get(x["severity"], 9), x["compound_id"], x["code"]))
    trainings = []
    report = None
    if street is not None:
        (report,) = training_reports(session, today, settings, street)
        trainings = [{"id": row.id, "held_on": row.held_on.isoformat(), "audiences": list(row.audiences or ()),
                      "title": row.title}
                     for row in session.scalars(select(Training).where(Training.street_code == street)
                                                .order_by(Training.held_on.desc()))]
    return {"today": today.isoformat(), "street_code": street, "community_code": community, "columns": cards,
            "alerts": alerts, "rate": r.rate_summary(sts.values(), settings), "trainings": trainings,
            "training_report": report}


def street_rates(context: Any, settings: OwnersOrgSettings) -> list[dict[str, Any]]:
    """Per street: the RULES §1 rate from the records and how many compounds are still needed for the target."""
    d = district(context, settings)
    by_street: dict[str, list[OrgStatus]] = defaultdict(list)
    for cid, comp in d.records.compounds.items():
        by_street[comp["street_code"]].append(d.statuses[cid])
    with context.session(readonly=True) as s:
        streets = s.execute(select(m.Street.code, m.Street.name).order_by(m.Street.code)).all()
    return [{"street_code": code, "name": name, **r.rate_summary(by_street.get(code, []), settings)}
            for code, name in streets]


def count_orgs(session: Session) -> int:
    """How many organisation records are stored."""
    return session.scalar(select(func.count()).select_from(OwnersOrg)) or 0
