"""Authentication and authorisation for the web app.

Contract used by the rest of web/: `init_auth(app)`; `public(view)` marks a view that needs no
login; `current_user()` → Principal | None; `require(action, resource=None)` aborts 403 (and
audits the denial) unless context.allowed(...).

Every route is login-protected unless marked `public` (plugin blueprints included): anonymous
requests get 401 JSON under /api/ and /ogc/, a redirect to /login elsewhere. A request is
authenticated by `Authorization: Bearer TOKEN` (any route) or by the browser session, whose
random id lives in the signed cookie while the server keeps only its SHA-256 (revocable).
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from geoplatform import audit
from geoplatform import auth as accounts
from geoplatform.i18n import add_messages, t
from geoplatform.principal import Principal
from web import security

SESSION_ID_KEY = "sid"

add_messages({
    "zh": {"auth.title": "登录", "auth.name": "用户名", "auth.password": "密码", "auth.submit": "登录",
           "auth.failed": "用户名或密码错误", "auth.throttled": "失败次数过多，请稍后再试",
           "auth.logout": "退出登录", "auth.logout_confirm": "确定退出登录？", "auth.logged_out": "已退出登录",
           "auth.app": "昆都仑区小区物业服务管理地图"},
    "en": {"auth.title": "Log in", "auth.name": "User name", "auth.password": "Password", "auth.submit": "Log in",
           "auth.failed": "Wrong user name or password", "auth.throttled": "Too many failed attempts, try again later",
           "auth.logout": "Log out", "auth.logout_confirm": "Log out now?", "auth.logged_out": "Logged out",
           "auth.app": "Kundulun residential compounds map"},
})

bp = Blueprint("auth", __name__, template_folder="templates")


def _ctx():  # noqa: ANN202
    from web.app import get_context

    return get_context()


def _lang() -> str:
    try:
        from web.lang import current_lang

        return current_lang()
    except Exception:  # the language helper is optional here
        asked = request.args.get("lang") or request.cookies.get("lang")
        return asked if asked in ("zh", "en") else "zh"


def public(view):  # noqa: ANN001, ANN201
    """Mark a view as reachable without login."""
    view._public = True
    return view


def current_user() -> Principal | None:
    """The authenticated principal of this request, if any."""
    return getattr(g, "user", None)


def _entity_of(resource: dict[str, Any]) -> tuple[str, Any, Any]:
    return (str(resource.get("kind") or "route"), resource.get("id"), resource.get("street_code"))


def require(action: str, resource: dict | None = None) -> Principal:
    """The current user if allowed to do `action` on `resource`; otherwise abort 401/403."""
    user = current_user()
    if user is None:
        abort(401)
    if not _ctx().allowed(user, action, resource or {}):
        # audited after the response is built: the caller may still hold a write transaction
        g.denied = (user, action, *_entity_of(resource or {}), f"{request.method} {request.path}"[:500])
        abort(403, f"not allowed: {action} (outside your role or jurisdiction)")
    return user


def _audit_denial(response: Response) -> Response:
    denied = g.pop("denied", None)
    if denied is not None:
        user, action, entity, entity_id, street, detail = denied
        try:
            audit.record_denied(_ctx(), user, action, entity, entity_id, street_code=street, detail=detail)
        except Exception:  # auditing must not turn a 403 into a 500
            current_app.logger.exception("could not audit a denied attempt")
    return response


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _authenticate() -> Response | None:
    """Set g.user / g.auth_method from a bearer token or the session cookie."""
    g.user, g.auth_method = None, None
    if request.endpoint and (request.endpoint == "static" or request.endpoint.endswith(".static")):
        return None  # public assets: no database round trip per file
    token = _bearer_token()
    if token is not None:
        with _ctx().session(readonly=True) as s:
            found = accounts.token_login(s, token)
            principal = accounts.principal_of(found[0]) if found else None
        if principal is None:
            return security.refuse(401, "invalid or revoked token")
        if found and found[1]:
            with _ctx().session() as s:
                accounts.record_token_use(s, token)
        g.user, g.auth_method = principal, "token"
        return None
    sid = session.get(SESSION_ID_KEY)
    if sid:
        with _ctx().session(readonly=True) as s:
            user = accounts.user_for_session(s, sid)
            principal = accounts.principal_of(user) if user else None
        if principal is None:  # revoked, expired, or the user was disabled
            session.pop(SESSION_ID_KEY, None)
        else:
            g.user, g.auth_method = principal, "session"
    return None


def _guard() -> Response | None:
    """Deny by default: every endpoint not marked public needs an authenticated user."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # routing answers 404/405 itself
    view = current_app.view_functions.get(endpoint)
    if endpoint == "static" or endpoint.endswith(".static") or getattr(view, "_public", False):
        return None
    if g.user is not None:
        return None
    if security.is_api_request():
        response = security.refuse(401, "authentication required")
        response.headers["WWW-Authenticate"] = 'Bearer realm="geoplatform"'
        return response
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=target))


def _safe_next(value: str | None) -> str:
    """Only local absolute paths are followed after login (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or "\n" in value:
        return "/"
    return value


def _render_login(status: int = 200, message: str | None = None, name: str = "") -> Response:
    lang = _lang()
    html = render_template("auth/login.html", tr=lambda k: t(k, lang), message=message, name=name,
                           next=_safe_next(request.values.get("next")), html_lang="zh-CN" if lang == "zh" else "en")
    return Response(html, status=status, mimetype="text/html")


def _landing(principal: Principal, target: str) -> str:
    """The page after login: `next` when it names a page, else the user's home page (the first menu link
    marked `home` — each role lands on its own workspace, README), else the map."""
    if target != "/":
        return target
    from web.shell import home_page

    return home_page(_ctx(), principal) or target


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response:
    """The login form; POST checks the password (argon2id), throttles failures, rotates the session."""
    if request.method == "GET":
        security.csrf_token()
        return _render_login()
    name = (request.form.get("name") or "").strip()[:100]
    password = request.form.get("password") or ""
    addr = request.remote_addr
    ctx = _ctx()
    lang = _lang()
    throttle = accounts.ThrottleSettings.from_rules(ctx.rules("auth"))
    with ctx.session(readonly=True) as s:  # no write lock while argon2 works (~0.1–0.5 s)
        throttled = accounts.is_throttled(s, name, addr, throttle)
        found = accounts.get_user(s, name)
        stored_hash = found.password_hash if found is not None and not found.disabled else None
    ok = not throttled and accounts.password_matches(stored_hash, password)
    user = None
    with ctx.session() as s:
        if throttled:
            audit.record(s, name or "anonymous", "login", "user", name, outcome="denied", detail="throttled")
        elif not ok:
            accounts.record_failure(s, name, addr)
            audit.record(s, name or "anonymous", "login", "user", name, outcome="denied", detail="bad credentials")
        else:
            user = accounts.get_user(s, name)
            if user is None or user.disabled or user.password_hash != stored_hash:
                user = None  # disabled or password changed meanwhile
                accounts.record_failure(s, name, addr)
            else:
                accounts.clear_failures(s, name)
                old = session.get(SESSION_ID_KEY)
                if old:
                    accounts.end_session(s, old)
                sid = accounts.start_session(s, user)
                principal = Principal(name=user.name, role=user.role, street_code=user.street_code,
                                      utility=user.utility)
                audit.record(s, user.name, "login", "user", user.name)
    if throttled:
        response = _render_login(429, t("auth.throttled", lang), name)
        response.headers["Retry-After"] = str(int(throttle.window.total_seconds()))
        return response
    if user is None:
        return _render_login(401, t("auth.failed", lang), name)
    session.clear()  # rotation: nothing of the anonymous session survives, new id and CSRF token
    session[SESSION_ID_KEY] = sid
    security.csrf_token()
    return redirect(_landing(principal, _safe_next(request.form.get("next"))))


@bp.route("/logout", methods=["GET", "POST"])
@public
def logout() -> Response:
    """POST ends the session server-side; GET shows a confirmation form (logout is a state change)."""
    lang = _lang()
    if request.method == "GET":
        html = render_template("auth/logout.html", tr=lambda k: t(k, lang), user=current_user(),
                               html_lang="zh-CN" if lang == "zh" else "en")
        return Response(html, mimetype="text/html")
    sid = session.get(SESSION_ID_KEY)
    if sid:
        with _ctx().session() as s:
            accounts.end_session(s, sid)
            if current_user() is not None:
                audit.record(s, current_user(), "logout", "user", current_user().name)
    session.clear()
    if security.is_api_request() or request.accept_mimetypes.best == "application/json":
        return Response('{"logged_out": true}', mimetype="application/json")
    return redirect(url_for("auth.login"))


def init_auth(app: Flask) -> None:
    """Install login/logout routes and the deny-by-default request guard."""
    funcs = app.before_request_funcs.setdefault(None, [])
    funcs[0:0] = [_authenticate, _guard]  # before the CSRF check of web.security
    app.after_request(_audit_denial)
    app.register_blueprint(bp)
    from web import api_edit

    app.register_blueprint(api_edit.bp)
