"""Language of a request: `?lang=` (remembered in a cookie), else the cookie, else the configured default."""

from __future__ import annotations

from flask import Flask, g, request
from flask.typing import ResponseReturnValue

from geoplatform.i18n import LANGUAGES, t

COOKIE = "lang"


def current_lang() -> str:
    """zh or en for this request."""
    if "lang" not in g:
        from web.app import get_context

        asked = request.args.get("lang") or request.cookies.get(COOKIE)
        g.lang = asked if asked in LANGUAGES else (get_context().config.language if
                                                  get_context().config.language in LANGUAGES else "zh")
    return g.lang


def _(key: str, **kwargs: object) -> str:
    """Translate a catalogue key into the request's language."""
    return t(key, current_lang(), **kwargs)


def init_lang(app: Flask) -> None:
    """Expose `_`/`lang` to templates and remember an explicit `?lang=` in a cookie."""

    @app.context_processor
    def _inject() -> dict[str, object]:
        return {"_": _, "lang": current_lang(), "html_lang": "zh-CN" if current_lang() == "zh" else "en"}

    @app.after_request
    def _remember(response: ResponseReturnValue):  # noqa: ANN202
        asked = request.args.get("lang")
        if asked in LANGUAGES and request.cookies.get(COOKIE) != asked:
            response.set_cookie(COOKIE, asked, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                                secure=request.is_secure)
        if "lang" in g:
            response.vary.add("Cookie")
        return response
