"""Handover reads and writes over a session: the one service layer under the CLI, the API and the pages.

No Flask, no click. Errors are `geoplatform.errors` kinds (the CLI maps them to exit 2, HTTP to
400/404/403/409 in one place each): an unknown compound or ledger item is NotFound, a stale
version or an item already done is a Conflict, a refused jurisdiction is Forbidden.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from geoplatform import audit
from geoplatform.errors import Conflict, Forbidden, NotFound, UserInputError
from geoplatform.i18n import Localized
from geoplatform.labels import label
from geoplatform.models import Compound, Handover, HandoverEvent, LedgerItem, Street, utcnow
from geoplatform.models.handover import HandoverAcceptance
from geoplatform.principal import Principal
from geoplatform.sqlin import in_values
from geoplatform.store import rows_frame
from plugins.handover import rules
from plugins.handover.settings import HandoverSettings


class HandoverError(UserInputError):
    """A handover request that cannot be carried out; the message says why (exit 2 / HTTP 400)."""


class UnknownCompound(NotFound, HandoverError):
    """No compound with that id (HTTP 404)."""


class UnknownFacility(HandoverError):
    """Not one of the facilities of RULES §2."""


class UnknownState(HandoverError):
    """Not a state of the facility's machine."""


class TransitionNotAllowed(HandoverError):
    """RULES §2 does not allow this transition; `allowed` names the permitted next states."""

    def __init__(self, key: str, allowed: Sequence[str] = (), **params: Any) -> None:
        super().__init__(key, allowed=list(allowed), allowed_text=_states_text(params.get("facility"), allowed),
                         **params)
        self.allowed = tuple(allowed)


def _states_text(facility: str | None, states: Sequence[str]) -> Localized:
    """States named in a message: their labels in each language ("–" for none)."""
    return Localized(zh="、".join(label("handover_state", s_, "zh") for s_ in states) or "–",
                     en=", ".join(label("handover_state", s_, "en") for s_ in states) or "–")


class LedgerItemError(HandoverError):
    """A ledger item that cannot be attached or completed."""


class UnknownLedgerItem(NotFound, LedgerItemError):
    """No ledger item with that id (HTTP 404)."""


class ItemAlreadyDone(Conflict, LedgerItemError):
    """The ledger item was completed before: its done date stays (HTTP 409, exit 2)."""


class RectifyingNeedsItem(LedgerItemError):
    """Entering rectifying without an open ledger item that has a deadline (RULES §2)."""


class AcceptanceError(HandoverError):
    """Acceptance details (organiser, date, participants) that this request cannot carry."""


class StaleVersion(Conflict, HandoverError):
    """The row changed since the caller read it (HTTP 409)."""


class HandoverDenied(Forbidden, HandoverError):
    """Outside the user's facility or street (HTTP 403); the caller audits the attempt."""


Allowed = Any  # Callable[[Principal, str, dict], bool], e.g. Context.allowed


def check_edit(allowed: Allowed | None, principal: Principal, resource: dict[str, Any]) -> None:
    """HandoverDenied unless `allowed(principal, "edit_handover", resource)` (no check when `allowed` is None)."""
    if allowed is not None and not allowed(principal, "edit_handover", resource):
        raise HandoverDenied("handover.denied", user=principal.name, role=principal.role, row=resource["id"],
                             action="edit_handover", entity="handover", entity_id=resource["id"],
                             street_code=resource.get("street_code"))


def _check_facility(facility: str) -> None:
    if facility not in rules.FACILITIES:
        raise UnknownFacility(f"unknown facility {facility!r}; choose one of: {', '.join(rules.FACILITIES)}")


def _compound(session: Session, compound_id: str) -> Compound:
    c = session.get(Compound, compound_id[:64])
    if c is None:
        raise UnknownCompound("handover.unknown_compound", compound=compound_id)
    return c


def _row(session: Session, compound_id: str, facility: str, lock: bool = False) -> Handover | None:
    q = select(Handover).where(Handover.compound_id == compound_id, Handover.facility == facility)
    if lock:  # writers of one row queue here (PostGIS; SQLite already serialises writers) and see fresh data
        q = q.with_for_update().execution_options(populate_existing=True)
    return session.execute(q).scalar_one_or_none()


def _item_dict(i: LedgerItem) -> dict[str, Any]:
    return {"id": i.id, "content": i.content, "responsible_unit": i.responsible_unit, "deadline": i.deadline,
            "done_date": i.done_date}


def _acceptance_dict(a: HandoverAcceptance, items: Mapping[int, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    defects = [items[i] for i in a.defect_item_ids or () if items and i in items] if items is not None else None
    return {"id": a.id, "held_on": a.held_on, "organised_by": a.organised_by, "participants": a.participants,
            "result": a.result, "defect_item_ids": list(a.defect_item_ids or ()), "note": a.note,
            "opened_by": a.opened_by, "closed_by": a.closed_by,
            **({"defects": [{"id": d["id"], "content": d["content"], "responsible_unit": d.get("responsible_unit"),
                             "deadline": d.get("deadline"), "done_date": d.get("done_date")} for d in defects]}
               if defects is not None else {})}


def _open_acceptance(session: Session, row: Handover) -> HandoverAcceptance | None:
    q = (select(HandoverAcceptance).where(HandoverAcceptance.handover_id == row.id, HandoverAcceptance.result.is_(None))
         .order_by(HandoverAcceptance.id.desc()).limit(1))
    return session.execute(q).scalar_one_or_none()


def get_handover(session: Session, compound_id: str, facility: str, today: dt.date | None = None,
                 settings: HandoverSettings | None = None) -> dict[str, Any]:
    """One compound × facility row; a row never surveyed reads as state `unknown`, version 0."""
    _check_facility(facility)
    c = _compound(session, compound_id)
    row = _row(session, compound_id, facility)
    items: list[dict[str, Any]] = []
    accepts: list[dict[str, Any]] = []
    if row is not None:
        q = select(LedgerItem).where(LedgerItem.handover_id == row.id).order_by(LedgerItem.id)
        items = [_item_dict(i) for i in session.execute(q).scalars()]
        by_id = {i["id"]: i for i in items}
        aq = select(HandoverAcceptance).where(HandoverAcceptance.handover_id == row.id).order_by(HandoverAcceptance.id)
        accepts = [_acceptance_dict(a, by_id) for a in session.execute(aq).scalars()]
    state = row.state if row else rules.UNKNOWN
    today = today or dt.date.today()
    st = rules.row_status(facility, state, row.deadline if row else None, items, today, settings or HandoverSettings())
    for it in items:
        it["overdue"] = state not in rules.FINAL_STATES and rules.item_overdue(it["deadline"], it["done_date"], today)
    return {
        "compound_id": c.id, "compound_name": c.name, "street_code": c.street_code, "facility": facility,
        "state": state, "since": row.since if row else None, "deadline": row.deadline if row else None,
        "responsible_unit": row.responsible_unit if row else None, "note": row.note if row else None,
        "version": row.version if row else 0, "allowed_next": list(rules.allowed_next(facility, state)),
        "conditional_next": rules.conditional_next(facility, state), "items_allowed": rules.items_allowed(facility, state),
        "acceptance_next": [s_ for s_ in (*rules.allowed_next(facility, state), *rules.conditional_next(facility, state))
                            if rules.acceptance_step(facility, state, s_)],
        "overdue": st.overdue, "open_items": st.open_items, "items": items, "acceptances": accepts,
        "late": rules.late_reason(state, row.deadline if row else None, items, today, settings or HandoverSettings())
        if st.overdue else None,
    }


def handover_resource(session: Session, compound_id: str, facility: str) -> dict[str, Any]:
    """The permission resource of a row: {"kind": "handover", "id", "facility", "street_code"}."""
    _check_facility(facility)
    c = _compound(session, compound_id)
    return {"kind": "handover", "id": f"{compound_id}:{facility}", "facility": facility, "street_code": c.street_code}


def _snapshot(row: Handover | None) -> dict[str, Any]:
    if row is None:
        return {"state": rules.UNKNOWN, "version": 0}
    return {"state": row.state, "deadline": row.deadline.isoformat() if row.deadline else None,
            "responsible_unit": row.responsible_unit, "note": row.note, "version": row.version}


def set_state(session: Session, principal: Principal, compound_id: str, facility: str, state: str,
              note: str | None = None, deadline: dt.date | None = None,
              items: Iterable[Mapping[str, Any]] = (), expected_version: int | None = None,
              responsible_unit: str | None = None, today: dt.date | None = None,
              allowed: Allowed | None = None, clear_deadline: bool = False, organised_by: str | None = None,
              held_on: dt.date | None = None, participants: str | None = None) -> dict[str, Any]:
    """Move a row to `state` (or, with the same state, update note/deadline/items), recording who/when/from/to.

    The row's deadline is kept unless a new one is given or `clear_deadline` asks to remove it (a move without
    a date never silently drops a row off the overdue list); a transition replaces the note (events keep every
    note).
    Ledger items attach in every open state (RULES §2: the ledger starts at the survey); entering rectifying
    needs at least one open item with a deadline (given here or already attached). not_handed_over →
    acceptance needs `organised_by="district_government"`. Entering acceptance opens an acceptance event
    (organiser, planned date, participants); an acceptance's result (acceptance → agreement pass, → rectifying
    fail; fire rectifying → accepted pass) closes it with the date held (`held_on`, default today) and the items
    given here as its defects. Raises a HandoverError subclass (StaleVersion when `expected_version` is given
    and differs; a missing row has version 0).
    """
    _check_facility(facility)
    c = _compound(session, compound_id)
    check_edit(allowed, principal, handover_resource(session, compound_id, facility))
    items = [dict(i) for i in items]
    row = _row(session, compound_id, facility, lock=True)
    current = row.state if row else rules.UNKNOWN
    version = row.version if row else 0
    if expected_version is not None and expected_version != version:
        raise StaleVersion("handover.stale", compound=c.name, compound_id=compound_id, version=version,
                           sent=expected_version)
    if state not in rules.machine(facility):
        raise UnknownState("handover.unknown_state", field="state", state=state,
                           states=_states_text(facility, rules.states(facility)))
    same = state == current
    names = {"compound": c.name, "compound_id": compound_id, "facility": facility,
             "current": _states_text(facility, [current]), "target": _states_text(facility, [state])}
    if same:
        if not (items or note or deadline or responsible_unit or clear_deadline):
            raise TransitionNotAllowed("handover.already_in_state", rules.allowed_next(facility, current), **names)
    else:
        check = rules.transition(current, state, facility, organised_by=organised_by)
        if not check.ok:
            if "organised_by" in check.missing:
                raise TransitionNotAllowed("handover.needs_district_government", check.allowed, field="organised_by",
                                           **names)
            raise TransitionNotAllowed("handover.not_allowed", check.allowed, **names)
    if items and not rules.items_allowed(facility, state):
        raise LedgerItemError("handover.items_open_only", field="items", state=_states_text(facility, [state]))
    for it in items:
        if not str(it.get("content") or "").strip():
            raise LedgerItemError("handover.item_needs_content", field="items")
    if not same:
        attached = [] if row is None else [
            {"deadline": d, "done_date": dd} for d, dd in session.execute(
                select(LedgerItem.deadline, LedgerItem.done_date).where(LedgerItem.handover_id == row.id))]
        missing = rules.rectifying_missing(state, [*attached, *items])
        if missing is not None:
            raise RectifyingNeedsItem(f"handover.rectifying_needs_{missing}", field="items", **names)
    if organised_by is not None and organised_by not in rules.ORGANISERS:
        raise AcceptanceError("handover.unknown_organiser", field="organised_by", value=str(organised_by)[:40],
                              choices=", ".join(rules.ORGANISERS))
    result = None if same else rules.acceptance_result(facility, current, state)
    opens = not same and rules.opens_acceptance(facility, current, state)
    if (organised_by is not None or held_on is not None or participants) and not (
            result or opens or (same and current == rules.ACCEPTANCE_STATE)):
        raise AcceptanceError("handover.acceptance_fields_only", field="organised_by", **names)
    before = _snapshot(row)
    now = utcnow()
    if row is None:
        row = Handover(compound_id=compound_id, facility=facility, state=state, since=now)
        session.add(row)
    elif not same:
        row.state = state
        row.since = now
    if deadline is not None:
        row.deadline = deadline
    elif clear_deadline:
        row.deadline = None
    if not same or note is not None:
        row.note = note  # like the deadline, the row's note belongs to the current stage
    if responsible_unit is not None:
        row.responsible_unit = responsible_unit
    if same:  # bump the version even when only items were added, so readers see the change
        flag_modified(row, "state")
    _flush(session, compound_id, facility)
    added = []
    for it in items:
        added.append(LedgerItem(handover_id=row.id, content=str(it["content"]).strip(),
                                responsible_unit=it.get("responsible_unit"), deadline=it.get("deadline"),
                                done_date=it.get("done_date")))
        session.add(added[-1])
    session.add(HandoverEvent(handover_id=row.id, at=now, user_name=principal.name, from_state=current,
                              to_state=state, note=note))
    acceptance = _record_acceptance(session, principal, row, opens, result, organised_by, held_on, participants,
                                    note, added, today or dt.date.today(), now)
    after = _snapshot(row)
    after["items_added"] = [{"content": i["content"], "responsible_unit": i.get("responsible_unit"),
                             "deadline": i["deadline"].isoformat() if i.get("deadline") else None} for i in items]
    if acceptance is not None:
        after["acceptance"] = {"organised_by": acceptance.organised_by, "participants": acceptance.participants,
                               "held_on": acceptance.held_on.isoformat() if acceptance.held_on else None,
                               "result": acceptance.result, "defect_item_ids": list(acceptance.defect_item_ids or ())}
    audit.record(session, principal, "update" if before["version"] else "create", "handover",
                 f"{compound_id}:{facility}", before=before, after=after, street_code=c.street_code, detail=note)
    _flush(session, compound_id, facility)
    return get_handover(session, compound_id, facility, today=today)


def _record_acceptance(session: Session, principal: Principal, row: Handover, opens: bool, result: str | None,
                       organised_by: str | None, held_on: dt.date | None, participants: str | None, note: str | None,
                       added: Sequence[LedgerItem], today: dt.date, now: dt.datetime) -> HandoverAcceptance | None:
    """Open, detail or close the row's acceptance event for this change (None when the change is no acceptance)."""
    def new() -> HandoverAcceptance:
        a = HandoverAcceptance(handover_id=row.id, organised_by="unknown", defect_item_ids=[], opened_at=now,
                               opened_by=principal.name)
        session.add(a)
        return a

    if opens:
        acc = new()
        acc.note = note
    elif result is not None:  # an acceptance's result closes the pending one (or a new one: fire, older data)
        acc = _open_acceptance(session, row) or new()
        session.flush()  # the ids of the items given as its defects
        acc.result = result
        acc.defect_item_ids = [i.id for i in added]
        acc.closed_at = now
        acc.closed_by = principal.name
        acc.note = note if note is not None else acc.note
    elif row.state == rules.ACCEPTANCE_STATE and (organised_by is not None or held_on is not None or participants):
        acc = _open_acceptance(session, row) or new()  # details of the pending acceptance
    else:
        return None
    if organised_by is not None:
        acc.organised_by = organised_by
    if held_on is not None:
        acc.held_on = held_on
    elif result is not None and acc.held_on is None:
        acc.held_on = today
    if participants:
        acc.participants = participants
    session.flush()
    return acc


def bulk_set_state(session: Session, principal: Principal, facility: str, rows: Sequence[Mapping[str, Any]],
                   state: str | None = None, responsible_unit: str | None = None, today: dt.date | None = None,
                   allowed: Allowed | None = None) -> dict[str, Any]:
    """Advance and/or assign several rows of one facility at once (the utility's bulk action, confirmed once).

    rows: [{"compound_id", "version"}]. Each row moves to `state` (None: stays where it is) and/or gets
    `responsible_unit`, through `set_state` (same checks, events and audit per row). All or nothing: the first
    refused row raises and the caller's transaction rolls back, the error naming that compound.
    """
    if state is None and not responsible_unit:
        raise UserInputError("handover.bulk_nothing")
    if not rows:
        raise UserInputError("handover.bulk_none_selected")
    done = []
    for r in rows:
        current = _row(session, str(r["compound_id"]), facility)
        target = state or (current.state if current is not None else rules.UNKNOWN)
        if state is not None and current is not None and current.state == state and not responsible_unit:
            continue  # already there: nothing to record
        done.append(set_state(session, principal, str(r["compound_id"]), facility, target,
                              expected_version=r.get("version"), responsible_unit=responsible_unit, today=today,
                              allowed=allowed))
    return {"facility": facility, "changed": len(done), "rows": done}


def _flush(session: Session, compound_id: str, facility: str) -> None:
    try:
        session.flush()
    except (StaleDataError, IntegrityError) as exc:
        raise StaleVersion(f"{compound_id} {facility} was changed by someone else; reload and retry") from exc


def item_resource(session: Session, item_id: int) -> dict[str, Any]:
    """The permission resource of a ledger item's row (UnknownLedgerItem when there is none)."""
    item = session.get(LedgerItem, item_id)
    row = session.get(Handover, item.handover_id) if item is not None else None
    if row is None:
        raise UnknownLedgerItem("handover.unknown_item", item=item_id)
    return handover_resource(session, row.compound_id, row.facility)


def complete_item(session: Session, principal: Principal, item_id: int, done_date: dt.date,
                  allowed: Allowed | None = None) -> dict[str, Any]:
    """Mark a ledger item done on `done_date` (audited); returns the item.

    The one way to complete an item (CLI `handover done`, the utility workspace): an unknown item is
    NotFound, one already done a Conflict (its done date stays, nothing is audited), and with `allowed`
    the caller's jurisdiction is checked (HandoverDenied).
    """
    check_edit(allowed, principal, item_resource(session, item_id))
    item = session.get(LedgerItem, item_id, with_for_update=True, populate_existing=True)
    row = session.get(Handover, item.handover_id)
    c = session.get(Compound, row.compound_id)
    if item.done_date is not None:
        raise ItemAlreadyDone("handover.item_already_done", item=item_id, date=item.done_date.isoformat())
    before = {"done_date": item.done_date.isoformat() if item.done_date else None}
    item.done_date = done_date
    audit.record(session, principal, "update", "ledger_item", item_id, before=before,
                 after={"done_date": done_date.isoformat()}, street_code=c.street_code if c else None,
                 detail=f"{row.compound_id}:{row.facility} {item.content}")
    session.flush()
    return {**_item_dict(item), "compound_id": row.compound_id, "facility": row.facility}


def history(session: Session, compound_id: str, facility: str | None = None) -> list[dict[str, Any]]:
    """Every recorded change of a compound's rows (optionally one facility), oldest first."""
    _compound(session, compound_id)
    if facility is not None:
        _check_facility(facility)
    q = (select(HandoverEvent, Handover.facility).join(Handover, Handover.id == HandoverEvent.handover_id)
         .where(Handover.compound_id == compound_id).order_by(HandoverEvent.at, HandoverEvent.id))
    if facility is not None:
        q = q.where(Handover.facility == facility)
    return [{"facility": f, "at": e.at, "user": e.user_name, "from": e.from_state, "to": e.to_state, "note": e.note}
            for e, f in session.execute(q)]


def load_rows(session: Session, street_code: str | None = None, facilities: Sequence[str] = rules.FACILITIES,
              compound_ids: Sequence[str] | None = None) -> tuple[list[dict], list[dict], dict[int, list[dict]]]:
    """(compounds, handover rows, ledger items by row id) as plain records for rules.build_backlog."""
    cq = (select(Compound.id, Compound.name, Compound.street_code, Street.name.label("street"))
          .join(Street, Street.code == Compound.street_code, isouter=True).order_by(Compound.id))
    hq = (select(Handover.id, Handover.compound_id, Handover.facility, Handover.state, Handover.since,
                 Handover.deadline, Handover.responsible_unit, Handover.version)
          .join(Compound, Compound.id == Handover.compound_id).where(Handover.facility.in_(list(facilities))))
    iq = (select(LedgerItem.id, LedgerItem.handover_id, LedgerItem.content, LedgerItem.responsible_unit,
                 LedgerItem.deadline, LedgerItem.done_date)
          .join(Handover, Handover.id == LedgerItem.handover_id).join(Compound, Compound.id == Handover.compound_id)
          .where(Handover.facility.in_(list(facilities))).order_by(LedgerItem.id))
    if street_code is not None:
        cq, hq, iq = (q.where(Compound.street_code == street_code) for q in (cq, hq, iq))
    if compound_ids is not None:
        ids = list(compound_ids)
        cq, hq, iq = (q.where(in_values(Compound.id, ids)) for q in (cq, hq, iq))
    compounds = [dict(r) for r in session.execute(cq).mappings()]
    rows = [dict(r) for r in session.execute(hq).mappings()]
    items: dict[int, list[dict]] = defaultdict(list)
    for r in session.execute(iq).mappings():
        items[r["handover_id"]].append(dict(r))
    return compounds, rows, items


def load_status_columns(session: Session, compound_ids: Sequence[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The columns `attributes.attributes_columns` reads, set-wise (what `load_rows` gives as records): the handover
    rows (id, compound_id, facility, state, deadline) of stored compounds, and their ledger items (handover_id,
    deadline, done_date)."""
    hq = (select(Handover.id, Handover.compound_id, Handover.facility, Handover.state, Handover.deadline)
          .join(Compound, Compound.id == Handover.compound_id).where(Handover.facility.in_(list(rules.FACILITIES)))
          .order_by(Handover.id))
    iq = (select(LedgerItem.handover_id, LedgerItem.deadline, LedgerItem.done_date)
          .join(Handover, Handover.id == LedgerItem.handover_id).join(Compound, Compound.id == Handover.compound_id)
          .where(Handover.facility.in_(list(rules.FACILITIES))).order_by(LedgerItem.id))
    if compound_ids is not None:
        ids = list(compound_ids)
        hq, iq = (q.where(in_values(Compound.id, ids)) for q in (hq, iq))
    conn = session.connection()  # Core rows: no ORM loading per row
    return (rows_frame(conn.execute(hq).all(), ("id", "compound_id", "facility", "state", "deadline")),
            rows_frame(conn.execute(iq).all(), ("handover_id", "deadline", "done_date")))


def backlog(session: Session, today: dt.date, settings: HandoverSettings | None = None,
            facility: str | None = None, street_code: str | None = None) -> dict[str, Any]:
    """The open rows (not yet taken over / finished) with counts; see rules.build_backlog."""
    facilities = rules.FACILITIES
    if facility is not None:
        _check_facility(facility)
        facilities = (facility,)
    compounds, rows, items = load_rows(session, street_code, facilities)
    return rules.build_backlog(compounds, rows, items, today, settings or HandoverSettings(), facilities)


def acceptances(session: Session, street_code: str | None = None, compound_id: str | None = None,
                facility: str | None = None) -> list[dict[str, Any]]:
    """Every acceptance event (held or pending) of the district, a street, a compound or one facility, with the
    compound, street and the defects' ledger items; by street, compound, facility, then in the order recorded."""
    q = (select(HandoverAcceptance, Handover.compound_id, Handover.facility, Compound.name, Compound.street_code,
                Street.name.label("street"))
         .join(Handover, Handover.id == HandoverAcceptance.handover_id)
         .join(Compound, Compound.id == Handover.compound_id)
         .join(Street, Street.code == Compound.street_code, isouter=True))
    if street_code is not None:
        q = q.where(Compound.street_code == street_code)
    if compound_id is not None:
        q = q.where(Handover.compound_id == compound_id)
    if facility is not None:
        _check_facility(facility)
        q = q.where(Handover.facility == facility)
    rows = session.execute(q).all()
    ids = {i for a, *_ in rows for i in a.defect_item_ids or ()}
    items = {i.id: _item_dict(i) for i in session.execute(select(LedgerItem).where(in_values(LedgerItem.id, ids))).scalars()} \
        if ids else {}
    out = [{"compound_id": cid, "compound_name": name, "street_code": code, "street": street, "facility": fac,
            **_acceptance_dict(a, items)} for a, cid, fac, name, code, street in rows]
    out.sort(key=lambda r: (r["street_code"] or "", r["compound_id"], rules.FACILITIES.index(r["facility"]), r["id"]))
    return out
