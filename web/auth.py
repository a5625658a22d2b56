"""Authentication and authorisation for the web app.

Contract used by the rest of web/: `init_auth(app)`; `public(view)` marks a view that needs no
login; `current_user()` → Principal | None; `require(action, resource=None)` aborts 403 (and
audits the denial) unless context.allowed(...).

Every route is login-protected unless marked `public` (plugin blueprints included): anonymous
requests get 401 JSON under /api/ and /ogc/, a redirect to /login elsewhere. A request is
authenticated by `Authorization: Bearer TOKEN` (any route), by HTTP Basic with the user name and
an API token as password (what QGIS's Basic authentication, GDAL's GDAL_HTTP_USERPWD and OWSLib
send; the same token, role, jurisdiction and token-use record as Bearer; a wrong name/token is
audited and throttled like a failed login) or by the browser session, whose random id lives in
the signed cookie while the server keeps only its SHA-256 (revocable).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    has_request_context,
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
           "auth.failed": "用户名或密码错误", "auth.throttled": "失败次数过多，请 {s} 秒后再试",
           "auth.logout": "退出登录", "auth.logout_confirm": "确定退出登录？", "auth.logged_out": "已退出登录",
           "auth.app": "昆都仑区小区物业服务管理地图",
           "auth.pw.title": "修改密码", "auth.pw.nav": "修改密码", "auth.pw.old": "原密码",
           "auth.pw.new": "新密码（至少 {n} 个字符）", "auth.pw.confirm": "再次输入新密码", "auth.pw.submit": "修改密码",
           "auth.pw.mismatch": "两次输入的新密码不一致", "auth.pw.done":
               "密码已修改。您在其他设备或浏览器上的登录已全部退出，本次登录继续有效。",
           "auth.pw.note": "修改后，您在其他设备或浏览器上的登录会全部退出；API令牌不受影响。",
           "auth.pw.user": "账号：{name}"},
    "en": {"auth.title": "Log in", "auth.name": "User name", "auth.password": "Password", "auth.submit": "Log in",
           "auth.failed": "Wrong user name or password", "auth.throttled": "Too many failed attempts, try again in {s} s",
           "auth.logout": "Log out", "auth.logout_confirm": "Log out now?", "auth.logged_out": "Logged out",
           "auth.app": "Kundulun residential compounds map",
           "auth.pw.title": "Change password", "auth.pw.nav": "Password", "auth.pw.old": "Current password",
           "auth.pw.new": "New password (at least {n} characters)", "auth.pw.confirm": "New password again",
           "auth.pw.submit": "Change password", "auth.pw.mismatch": "The two new passwords differ",
           "auth.pw.done": "Password changed. Your logins on other devices or browsers were ended; this one goes on.",
           "auth.pw.note": "Changing it ends your logins on other devices or browsers; API tokens are unaffected.",
           "auth.pw.user": "Account: {name}"},
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


def own_account(view):  # noqa: ANN001, ANN201
    """Mark a write view that acts on the caller's own account only (e.g. their password): any logged-in role,
    a viewer included, may use it, so the write gate of `_guard` lets it through (the view checks the rest)."""
    view._own_account = True
    return view


# Answers that refuse an attempt; each one writes one audit row (who or "anonymous", what, where from).
REFUSAL_STATUSES = frozenset({401, 403, 429})


def request_where() -> str:
    """Where an attempt came from, for the audit trail: method, path and the client's address."""
    where = f"{request.method} {request.path} · {request.remote_addr or '?'}"
    return where.replace("\x00", "\\x00")[:500]  # PostgreSQL text holds no NUL


def mark_audited() -> None:
    """This request's refusal is already in the audit trail (the after-request audit adds no second row)."""
    g.refusal_audited = True


def _note_denied_row(mapper: Any, connection: Any, target: Any) -> None:  # noqa: ARG001
    """A denied audit row written during a request (a service auditing its own refusal) is that request's."""
    if getattr(target, "outcome", None) == "denied" and has_request_context():
        g.refusal_audited = True


def _route_target() -> tuple[str, str | None]:
    """(entity, entity id) of a refused request: its endpoint and the ids in its path (e.g. a proposal's id)."""
    args = request.view_args or {}
    ids = "/".join(str(v) for v in args.values())
    return (request.endpoint or "route")[:32], ids.replace("\x00", "")[:128] or None


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
        g.denied = (user, action, *_entity_of(resource or {}), request_where())
        abort(403, f"not allowed: {action} (outside your role or jurisdiction)")
    return user


def _audit_denial(response: Response) -> Response:
    """Every refusal is audited once: a `require` denial with its action and resource; any other 401/403/429
    (anonymous API call, forged or expired token, CSRF or Origin failure, a view's own abort(403)) as a
    refused request of this route, by the user or "anonymous", with method, path and address."""
    denied = g.pop("denied", None)
    try:
        if denied is not None:
            user, action, entity, entity_id, street, detail = denied
            audit.record_denied(_ctx(), user, action, entity, entity_id, street_code=street, detail=detail)
        elif response.status_code in REFUSAL_STATUSES and not g.get("refusal_audited"):
            endpoint = request.endpoint
            if endpoint is None or endpoint == "static" or endpoint.endswith(".static"):
                return response
            user = current_user()
            audit.record_denied(_ctx(), user if user is not None else "anonymous", request.method.lower(),
                                *_route_target(), detail=f"{response.status_code} {g.get('refusal') or ''} "
                                                         f"{request_where()}".replace("  ", " ")[:500])
    except Exception:  # auditing must not turn a refusal into a 500
        current_app.logger.exception("could not audit a denied attempt")
    return response


def _audit_export(response: Response) -> Response:
    """Every download (an attachment answered 200: exports, ledgers, KPI sheets) writes one audit row: who, what
    (the export a route named with `webshell.export_made`, else the route and its query) and where from."""
    if response.status_code != 200 or not response.headers.get("Content-Disposition", "").startswith("attachment"):
        return response
    user = current_user()
    info = dict(g.get("export") or {})
    name = str(info.pop("name", None) or request.endpoint or request.path)
    street = info.pop("street_code", None)
    if "format" not in info:
        info["query"] = request.query_string.decode("utf-8", "replace")[:300]
    try:
        with _ctx().session() as s:
            audit.record(s, user if user is not None else "anonymous", "export", "export", name, street_code=street,
                         after=info, detail=request_where())
    except Exception:  # an audit failure must not break a download
        current_app.logger.exception("could not audit an export")
    return response


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _basic_credentials() -> tuple[str, str] | None:
    """(user name, API token) of an `Authorization: Basic …` header, if any."""
    header = request.headers.get("Authorization", "")
    if header.partition(" ")[0].lower() != "basic":
        return None
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return ("", "")  # malformed: refused like a wrong token
    return (auth.username or "")[:100], auth.password or ""


BASIC_CHALLENGE = 'Basic realm="geoplatform", charset="UTF-8"'


def _basic_login(name: str, token: str) -> Response | None:
    """Authenticate HTTP Basic: the token must be an active API token of the user `name`."""
    ctx = _ctx()
    with ctx.session(readonly=True) as s:
        found = accounts.token_login(s, token)
        principal = accounts.principal_of(found[0]) if found and found[0].name == name else None
    if principal is None:
        addr = request.remote_addr
        throttle = accounts.ThrottleSettings.from_rules(ctx.rules("auth"))
        with ctx.session() as s:
            accounts.record_failure(s, name, addr)
            audit.record(s, name or "anonymous", "login", "user", name, outcome="denied",
                         detail=f"HTTP Basic: wrong user name or API token · {request_where()}")
        mark_audited()
        with ctx.session(readonly=True) as s:
            wait = accounts.sign_in_wait_for(s, name, addr, throttle)
        if wait:
            response = security.refuse(429, "too many failed attempts, try again later")
            response.headers["Retry-After"] = accounts.retry_after(wait)
            return response
        response = security.refuse(401, "wrong user name or API token (HTTP Basic takes your user name and an API "
                                        "token made by `geoplatform users token NAME`, not your password)")
        response.headers["WWW-Authenticate"] = BASIC_CHALLENGE
        return response
    if found and found[1]:
        with ctx.session() as s:
            accounts.record_token_use(s, token)
    g.user, g.auth_method = principal, "basic"
    return None


def _authenticate() -> Response | None:
    """Set g.user / g.auth_method from a bearer token, HTTP Basic (name + token) or the session cookie."""
    g.user, g.auth_method = None, None
    if request.endpoint and (request.endpoint == "static" or request.endpoint.endswith(".static")):
        return None  # public assets: no database round trip per file
    basic = _basic_credentials()
    if basic is not None:
        return _basic_login(*basic)
    token = _bearer_token()
    if token is not None:
        with _ctx().session(readonly=True) as s:
            found = accounts.token_login(s, token)
            principal = accounts.principal_of(found[0]) if found else None
            refusal = accounts.token_refusal(s, token) if found is None else None
        if principal is None:
            g.refusal = f"bearer token refused ({refusal.message.key})"
            response = security.refuse(401, refusal.message.text(_lang()))
            response.headers["WWW-Authenticate"] = 'Bearer realm="geoplatform", error="invalid_token"'
            return response
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
        return _write_gate(endpoint, view)
    if security.is_api_request() or request.method in security.UNSAFE_METHODS:  # a write is refused, not redirected
        response = security.refuse(401, "authentication required")
        # GIS clients (/ogc/) are told Basic works too; the map's own API calls are not, so that a
        # browser never pops up a password dialog over the map when its session ends
        challenges = ['Bearer realm="geoplatform"'] + ([BASIC_CHALLENGE] if request.path.startswith("/ogc") else [])
        response.headers["WWW-Authenticate"] = ", ".join(challenges)
        return response
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=target))


def _write_gate(endpoint: str, view: Any) -> Response | None:
    """Authorisation before validation: a write (POST/PUT/PATCH/DELETE) reaches its view — which parses and
    checks the body — only if the caller's role may write at all (`write`; a viewer may not); otherwise 403,
    audited, whatever the body says. Views on one's own account (`own_account`) are open to every role."""
    if request.method not in security.UNSAFE_METHODS or getattr(view, "_own_account", False):
        return None
    if not _ctx().allowed(g.user, "write", {"kind": "route", "id": endpoint}):
        g.denied = (g.user, "write", *_route_target(), None, request_where())
        return security.refuse(403, "not allowed: write (your role only reads)")
    return None


MAX_NEXT_LENGTH = 2000


def _safe_next(value: str | None) -> str:
    """Only a path of this site is followed after login (no open redirect), else "/".

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so `/\t/evil.example`
    or `/\\evil.example` would become `//evil.example` (another host): any control character, any
    whitespace and any backslash refuses the value, as do a scheme, a host and `//` — in the value
    and in its percent-decoded form.
    """
    if not value or len(value) > MAX_NEXT_LENGTH:
        return "/"
    for form in (value, unquote(value)):  # encoded forms too: a proxy or a second decoder may decode once more
        if not form.startswith("/") or form.startswith("//"):
            return "/"
        if any(ch == "\\" or ch.isspace() or ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in form):
            return "/"
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
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
        wait = accounts.sign_in_wait_for(s, name, addr, throttle)  # a back-off, never a long lockout
        throttled = bool(wait)
        found = accounts.get_user(s, name)
        stored_hash = found.password_hash if found is not None and not found.disabled else None
    ok = not throttled and accounts.password_matches(stored_hash, password)
    user = None
    with ctx.session() as s:
        if throttled:
            audit.record(s, name or "anonymous", "login", "user", name, outcome="denied",
                         detail=f"throttled · {request_where()}")
        elif not ok:
            accounts.record_failure(s, name, addr)
            audit.record(s, name or "anonymous", "login", "user", name, outcome="denied",
                         detail=f"bad credentials · {request_where()}")
        else:
            user = accounts.get_user(s, name)
            if user is None or user.disabled or user.password_hash != stored_hash:
                user = None  # disabled or password changed meanwhile
                accounts.record_failure(s, name, addr)
                audit.record(s, name, "login", "user", name, outcome="denied",
                             detail=f"changed meanwhile · {request_where()}")
            else:
                accounts.clear_failures(s, name, addr)
                old = session.get(SESSION_ID_KEY)
                if old:
                    accounts.end_session(s, old)
                sid = accounts.start_session(s, user)
                principal = Principal(name=user.name, role=user.role, street_code=user.street_code,
                                      utility=user.utility)
                audit.record(s, user.name, "login", "user", user.name)
    mark_audited()  # a refused login is in the audit trail above
    if throttled:
        response = _render_login(429, t("auth.throttled", lang, s=accounts.retry_after(wait)), name)
        response.headers["Retry-After"] = accounts.retry_after(wait)
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


def _render_password(status: int = 200, error: str | None = None, done: bool = False) -> Response:
    html = render_template("auth/password.html", error=error, done=done, min_length=accounts.MIN_PASSWORD_LENGTH,
                           max_length=accounts.MAX_PASSWORD_LENGTH)
    return Response(html, status=status, mimetype="text/html")


@bp.route("/account/password", methods=["GET", "POST"])
@own_account
def change_password() -> Response:
    """Every logged-in user changes their own password: the current one, the new one twice (strength rule of
    `users add`). Every other session of the user ends; this one is renewed (new id). Throttled like the login
    (a wrong current password counts as a failed login of that name); audited either way."""
    user = current_user()
    if user is None:  # pragma: no cover - the guard answers first
        abort(401)
    lang = _lang()
    if request.method == "GET":
        return _render_password(done=request.args.get("changed") == "1")
    old = request.form.get("old_password") or ""
    new = request.form.get("new_password") or ""
    if new != (request.form.get("new_password2") or ""):
        return _render_password(400, t("auth.pw.mismatch", lang))
    try:
        accounts.check_new_password(old, new)
    except accounts.AccountError as exc:
        return _render_password(400, exc.message.text(lang))
    ctx = _ctx()
    throttle = accounts.AuthSettings.from_rules(ctx.rules("auth"))
    addr = request.remote_addr
    with ctx.session(readonly=True) as s:  # no write lock while argon2 works
        wait = accounts.sign_in_wait_for(s, user.name, addr, throttle)
        throttled = bool(wait)
        row = accounts.get_user(s, user.name)
        stored = row.password_hash if row is not None and not row.disabled else None
    ok = not throttled and accounts.password_matches(stored, old)
    new_hash = accounts.hash_password(new) if ok else None
    sid = None
    with ctx.session() as s:
        row = accounts.get_user(s, user.name)
        if ok and row is not None and row.password_hash == stored:
            ended = accounts.set_password(s, user.name, new, password_hash=new_hash)
            accounts.clear_failures(s, user.name, addr)
            if g.auth_method == "session":
                sid = accounts.start_session(s, row)
            audit.record(s, user, "change_password", "user", user.name, after={"sessions_ended": ended})
        else:
            if not throttled:
                accounts.record_failure(s, user.name, addr)
            ok = False
            audit.record(s, user, "change_password", "user", user.name, outcome="denied",
                         detail=f"{'throttled' if throttled else 'wrong current password'} · {request_where()}")
            mark_audited()
    if throttled:
        response = _render_password(429, t("auth.throttled", lang, s=accounts.retry_after(wait)))
        response.headers["Retry-After"] = accounts.retry_after(wait)
        return response
    if not ok:
        return _render_password(400, accounts.AccountError("account.old_password_wrong").message.text(lang))
    if sid is not None:
        session.clear()  # the renewed session: new id, new CSRF token
        session[SESSION_ID_KEY] = sid
        security.csrf_token()
    return redirect(url_for("auth.change_password", changed=1))


def init_auth(app: Flask) -> None:
    """Install login/logout routes and the deny-by-default request guard."""
    funcs = app.before_request_funcs.setdefault(None, [])
    funcs[0:0] = [_authenticate, _guard]  # before the CSRF check of web.security
    app.after_request(_audit_denial)
    app.after_request(_audit_export)
    from sqlalchemy import event

    from geoplatform.models import AuditEvent

    if not event.contains(AuditEvent, "after_insert", _note_denied_row):
        event.listen(AuditEvent, "after_insert", _note_denied_row)
    app.register_blueprint(bp)
    from web import api_edit

    app.register_blueprint(api_edit.bp)
