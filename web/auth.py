"""Authentication and authorisation for the web app (to be built by the accounts issue).

Contract used by the rest of web/: `init_auth(app)`; `public(view)` marks a view that needs no
login; `current_user()` → Principal | None; `require(action, resource=None)` aborts 403 (and
audits the denial) unless context.allowed(...)."""

from __future__ import annotations

from flask import Flask, abort, g

from geoplatform.principal import Principal


def init_auth(app: Flask) -> None:
    """Install login/logout routes and the deny-by-default request guard."""


def public(view):  # noqa: ANN001, ANN201
    """Mark a view as reachable without login."""
    view._public = True
    return view


def current_user() -> Principal | None:
    """The authenticated principal of this request, if any."""
    return getattr(g, "user", None)


def require(action: str, resource: dict | None = None) -> Principal:
    """The current user if allowed to do `action` on `resource`; otherwise abort 401/403."""
    from web.app import get_context

    user = current_user()
    if user is None:
        abort(401)
    if not get_context().allowed(user, action, resource or {}):
        abort(403)
    return user
