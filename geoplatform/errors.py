"""The one error type services raise for a caller's mistake; the CLI and HTTP each map it in one place.

A service (a plugin's `service.py`, the importer, the exporter, the street resolver) raises
`UserInputError` or one of its kinds below, with a catalogue key and params (a key that is not in a
catalogue renders as itself, so plain English text also works while a message is being written).
The CLI prints `错误 / error: <text>` on stderr and exits 2; HTTP answers `status` with
`{"error": <text in the user's language>, "key", "params", "status"}`. Nothing else is caught:
anything that is not one of these is a bug and must surface as one.
"""

from __future__ import annotations

from typing import Any

from geoplatform.i18n import MessageError


class UserInputError(MessageError):
    """Bad input from the caller (exit 2 / HTTP 400): says what and where, in the user's language."""

    status = 400

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key, **params)


class NotFound(UserInputError):
    """The thing named does not exist (exit 2 / HTTP 404)."""

    status = 404


class Forbidden(UserInputError):
    """Outside the caller's role or jurisdiction (exit 2 / HTTP 403); the attempt is audited by the caller."""

    status = 403


class Conflict(UserInputError):
    """The stored state moved on: a stale version, an item already done (exit 2 / HTTP 409)."""

    status = 409
