"""The audit trail: one AuditEvent per committed change and per denied attempt, and queries over it."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from geoplatform import models as m
from geoplatform.i18n import Message

MAX_LIMIT = 1000
MESSAGE_PREFIX = "i18n:"  # a detail stored as a catalogue message (rendered in the reader's language)
IGNORED_IN_CHANGES = frozenset({"version"})  # bookkeeping: a change of these alone is no change


def _principal_name(principal: Any) -> str:
    if principal is None:
        return "anonymous"
    if isinstance(principal, str):
        return principal
    return getattr(principal, "name", None) or str(principal)


def jsonable(value: Any) -> Any:
    """A JSON-storable copy of a before/after value (dates → ISO, geometries → WKT, sets → lists)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    wkt = getattr(value, "wkt", None)
    if isinstance(wkt, str):
        return wkt
    return str(value)


def changed_keys(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """The keys whose value differs between two before/after snapshots (bookkeeping keys such as version aside)."""
    b, a = jsonable(before or {}), jsonable(after or {})
    return [k for k in dict.fromkeys([*b, *a]) if k not in IGNORED_IN_CHANGES and b.get(k) != a.get(k)]


def is_noop(action: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> bool:
    """An update whose before and after snapshots agree changes nothing and is not recorded."""
    return action == "update" and before is not None and after is not None and not changed_keys(before, after)


def record(session: Session, principal: Any, action: str, entity: str, entity_id: Any = None,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           street_code: str | None = None, outcome: str = "ok",
           detail: str | Message | None = None) -> m.AuditEvent | None:
    """Add one audit event to the caller's transaction (it commits or rolls back with the change).

    An update that changes nothing (`is_noop`) writes no event and returns None. A `detail` given as a
    `Message` is stored as its catalogue key + params and shown in the reader's language (`detail_text`);
    plain text (a user's note) is stored as it is.
    """
    if outcome == "ok" and is_noop(action, before, after):
        return None
    event = m.AuditEvent(
        at=m.utcnow(), user_name=_principal_name(principal)[:100], action=action[:32], entity=entity[:32],
        entity_id=None if entity_id is None else str(entity_id)[:128], street_code=street_code,
        outcome=outcome[:16], before=jsonable(before), after=jsonable(after), detail=stored_detail(detail),
    )
    session.add(event)
    return event


def stored_detail(detail: str | Message | None) -> str | None:
    """The text column's form of a detail: a Message as `i18n:{"key", "params"}`, anything else as text."""
    if isinstance(detail, Message):
        return MESSAGE_PREFIX + json.dumps(detail.to_json(), ensure_ascii=False, separators=(",", ":"))
    return detail


def detail_text(detail: str | None, lang: str = "zh") -> str | None:
    """A stored detail in `lang` (a stored Message rendered from the catalogue; plain text unchanged)."""
    if not detail or not detail.startswith(MESSAGE_PREFIX):
        return detail
    try:
        return Message.from_json(json.loads(detail[len(MESSAGE_PREFIX):])).text(lang)
    except (ValueError, KeyError, TypeError):
        return detail


def record_denied(engine_session_factory: Any, principal: Any, action: str, entity: str, entity_id: Any = None,
                  street_code: str | None = None, detail: str | None = None) -> None:
    """Audit a refused attempt in its own transaction (the refused change itself never commits).

    `engine_session_factory` is a Context (its .session()) or any callable returning a session scope.
    """
    scope = engine_session_factory.session() if hasattr(engine_session_factory, "session") else engine_session_factory()
    with scope as s:
        record(s, principal, action, entity, entity_id, street_code=street_code, outcome="denied", detail=detail)


def as_dict(event: m.AuditEvent, lang: str = "zh") -> dict[str, Any]:
    """An audit event as a JSON-ready dict (a stored Message detail rendered in `lang`)."""
    return {"id": event.id, "at": event.at.isoformat(timespec="seconds"), "user": event.user_name,
            "action": event.action, "entity": event.entity, "entity_id": event.entity_id,
            "street_code": event.street_code, "outcome": event.outcome, "before": event.before,
            "after": event.after, "detail": detail_text(event.detail, lang)}


def query(session: Session, entity: str | None = None, entity_id: str | None = None, street: str | None = None,
          user: str | None = None, outcome: str | None = None, action: str | None = None,
          limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
    """Audit events, newest first, filtered by any of entity, entity id, street, user, outcome, action."""
    stmt = select(m.AuditEvent)
    for column, value in ((m.AuditEvent.entity, entity), (m.AuditEvent.entity_id, entity_id),
                          (m.AuditEvent.street_code, street), (m.AuditEvent.user_name, user),
                          (m.AuditEvent.outcome, outcome), (m.AuditEvent.action, action)):
        if value is not None:
            stmt = stmt.where(column == value)
    stmt = stmt.order_by(m.AuditEvent.at.desc(), m.AuditEvent.id.desc())
    stmt = stmt.limit(max(1, min(int(limit), MAX_LIMIT))).offset(max(0, int(offset)))
    return [as_dict(e) for e in session.scalars(stmt).all()]


def for_entity(session: Session, entity: str, entity_id: Any) -> list[dict[str, Any]]:
    """The history of one record (e.g. a compound), newest first."""
    return query(session, entity=entity, entity_id=str(entity_id), limit=MAX_LIMIT)
