"""What a plugin's web pages ask of the web shell at request time — plugins never import `web`.

A plugin's blueprint (returned by `register_routes`) parses the request, calls the plugin's
framework-free service and formats the answer. For what only the running web app knows — who is
logged in, the page language, the map scaffolding, the CSRF token, the shell's own URLs — it calls
the functions below. The web app (`web.app.create_app`) installs the implementation (an object with
the methods of `Shell`) as `app.extensions["geoplatform.shell"]`; these functions only work inside a
request of that app.

Errors: raise `geoplatform.errors.UserInputError` (or NotFound/Forbidden/Conflict) anywhere in a
route or service; the shell answers it in one place (web/http.py) with the status and
`{"error", "key", "params", "status"}` in the user's language (an HTML page for page requests).
"""

from __future__ import annotations

from typing import Any, Protocol

from geoplatform.i18n import add_messages
from geoplatform.principal import Principal

add_messages({
    "zh": {"http.body_not_object": "请求体必须是 JSON 对象", "http.bad_parameter": "参数 {field} 无效：{message}"},
    "en": {"http.body_not_object": "the body must be a JSON object", "http.bad_parameter": "invalid {field}: {message}"},
})


class Shell(Protocol):
    """The services the web app offers plugin pages (implemented by `web.shell.WebShell`)."""

    def require(self, action: str, resource: dict[str, Any] | None = None) -> Principal:
        """The current user if allowed (`context.allowed`); otherwise 401/403 (the denial is audited)."""

    def lang(self) -> str:
        """zh or en for this request."""

    def csrf_token(self) -> str:
        """The token browser scripts send as X-CSRF-Token."""

    def map(self, **folium_kwargs: Any) -> dict[str, Any]:
        """An offline folium map's parts for a page: {"name", "header", "html", "script"} (`bounds=[minx, miny, maxx,
        maxy]` fits it); render with the shell's `workspaces/_map.html` macros."""

    def layer_meta(self, layer_ids: list[str] | tuple[str, ...], lang: str) -> list[dict[str, Any]]:
        """What map scripts need of these layers (only those the user may see), in the given order."""

    def streets(self) -> list[dict[str, Any]]:
        """Streets ordered by code: {"code", "name", "kind", "bbox"}."""

    def district_extent(self) -> list[float]:
        """[minx, miny, maxx, maxy] of the district."""

    def url(self, which: str, /, **values: Any) -> str:
        """A URL of the shell: compound_page, compound_api, layer_features, export, map (placeholders allowed)."""

    def refresh(self) -> None:
        """After a committed write: caches keyed by the data revision re-read it."""


def shell() -> Shell:
    """The running web app's shell services."""
    from flask import current_app

    return current_app.extensions["geoplatform.shell"]


def current_user() -> Principal | None:
    """The authenticated user of this request (set by the shell's authentication), or None."""
    from flask import g

    return getattr(g, "user", None)


def require(action: str, resource: dict[str, Any] | None = None) -> Principal:
    """The current user if allowed to do `action` on `resource`; otherwise 401/403 (audited)."""
    return shell().require(action, resource)


def export_made(name: str, fmt: str, street_code: str | None = None, rows: int | None = None, **extra: Any) -> None:
    """Name what this request's download holds (the shell audits every download: who, what, where from)."""
    from flask import g

    g.export = {"name": name, "format": fmt, "street_code": street_code, "rows": rows, **extra}


def lang() -> str:
    """The request's language (zh or en)."""
    return shell().lang()


def answers_json(view: Any) -> Any:
    """Mark a page-blueprint view that answers JSON: its errors are JSON too, even for a plain GET."""
    import functools

    from flask import g

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.json_errors = True
        return view(*args, **kwargs)

    return wrapper


def json_body(max_keys: int = 200) -> dict[str, Any]:
    """The request body as a JSON object (UserInputError → 400 otherwise)."""
    from flask import request

    from geoplatform.errors import UserInputError

    body = request.get_json(silent=True)
    if body is None and request.form:
        body = request.form.to_dict()
    if not isinstance(body, dict) or len(body) > max_keys:
        raise UserInputError("http.body_not_object")
    return body


def json_response(data: Any, status: int = 200) -> Any:
    """`data` as a JSON response (dates ISO, numpy scalars plain, Chinese unescaped)."""
    import json

    from flask import Response

    from geoplatform.audit import jsonable

    return Response(json.dumps(data, ensure_ascii=False, default=jsonable), status=status,
                    mimetype="application/json")
