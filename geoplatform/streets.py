"""Matching street/town references (NBS code or any name variant) to street codes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from geoplatform.i18n import add_messages
from geoplatform.models import Street
from geoplatform.reference import street_key

add_messages({
    "zh": {"street.unknown": "未知街镇“{value}”（请填写9位统计用区划代码或街镇名称）"},
    "en": {"street.unknown": "unknown street {value!r} (give the NBS 9-digit code or the name)"},
})


def street_lookup(session: Session) -> dict[str, str]:
    """Map every known key (code, name, aliases, name core) to the street code."""
    out: dict[str, str] = {}
    for code, name, aliases in session.execute(select(Street.code, Street.name, Street.aliases)):
        for key in [code, name, *(aliases or [])]:
            out[str(key).strip()] = code
            out[street_key(key)] = code
    return out


def match_street(session: Session, value: object, lookup: dict[str, str] | None = None) -> str | None:
    """The street code for a code (9 or 12 digits) or name variant, or None."""
    if value is None:
        return None
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    lookup = lookup if lookup is not None else street_lookup(session)
    if text.isdigit() and len(text) == 12 and text.endswith("000"):
        text = text[:9]
    return lookup.get(text) or lookup.get(street_key(text))


def resolve_street(session: Session, value: object) -> str:
    """The street code for a code or name variant; `NotFound` (the same clear error everywhere) when unknown.

    The one street resolver: the CLI (`--street`), every HTTP parameter and every form use it, so an
    unknown street is exit 2 / HTTP 404 with the same message, never silently ignored.
    """
    from geoplatform.errors import NotFound

    code = match_street(session, value)
    if code is None:
        raise NotFound("street.unknown", value=str(value))
    return code
