"""Browser hardening: CSRF, Origin checks, security headers, error pages, hostile input at the edge
(JSON nesting depth, integers in URLs beyond any column).

CSP choice: scripts only from 'self' or inline with this request's nonce (templates write
`<script nonce="{{ csp_nonce() }}">`; folium output must get the nonce on its own <script> tags
from the code that renders it, never by blanket rewriting of HTML that carries user text).
Styles allow 'unsafe-inline' because Leaflet and folium set style attributes and <style> blocks
(style injection cannot run script). Images may also come from the configured basemap tile hosts.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import secrets
from urllib.parse import unquote_to_bytes, urlsplit

from flask import Flask, Response, current_app, g, has_request_context, jsonify, request, session
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, ValidationError

from geoplatform.errors import UserInputError
from geoplatform.i18n import Message
from geoplatform.textpolicy import NUL  # noqa: F401 - registers the policy's texts

log = logging.getLogger(__name__)

CSRF_SESSION_KEY = "csrf"
CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_TILE_HOSTS = ("https://*.tile.openstreetmap.org", "https://*.tianditu.gov.cn")
API_PREFIXES = ("/api/", "/ogc/")


def is_api_request() -> bool:
    """True for JSON endpoints (/api/, /ogc/), which get JSON errors instead of pages."""
    return request.path.startswith(API_PREFIXES) or request.path in ("/api", "/ogc")


def is_static_request() -> bool:
    """True for the app's and blueprints' static files (the only answers a cache may keep)."""
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def _no_store(response: Response) -> None:
    """Nothing but static files is kept by any cache: pages and API answers depend on who asks (and may
    carry tokens, reports, CSRF tokens). An ETag still lets a client ask "changed?" (304) each time. A route that
    chose a private cache lifetime itself (basemap tiles: the same for every user, fetched by the hundred) keeps it."""
    value = response.headers.get("Cache-Control", "")
    if "private" in value and re.search(r"max-age=[1-9]", value):
        return
    if "no-store" not in value:
        response.headers["Cache-Control"] = "private, no-store" if "private" in value else "no-store"
    response.headers.pop("Expires", None)


def csrf_token() -> str:
    """This browser session's CSRF token (created on first use)."""
    token = session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = token
    return token


def csrf_field() -> Markup:
    """A hidden form input carrying the CSRF token."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FORM_FIELD, csrf_token())


def csp_nonce() -> str:
    """The CSP nonce of this request (for inline <script nonce=…>)."""
    nonce = getattr(g, "csp_nonce", None)
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return nonce


def _same_origin(url: str) -> bool:
    parts = urlsplit(url)
    own = urlsplit(request.host_url)
    return (parts.scheme, parts.netloc.lower()) == (own.scheme, own.netloc.lower())


def check_csrf() -> Response | None:
    """Refuse a cookie-authenticated state change without a same-origin Origin and the CSRF token.

    Requests authenticated by `Authorization: Bearer` are exempt: browsers never add that header
    on their own, so a cross-site page cannot forge them. HTTP Basic ones get the Origin/Referer
    check only (a browser that was once given Basic credentials resends them, but always with the
    Origin of the page; GIS clients and scripts send neither and carry no CSRF token).
    """
    method = getattr(g, "auth_method", None)
    if request.method not in UNSAFE_METHODS or method == "token":
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "_csrf_exempt", False):
        return None
    origin = request.headers.get("Origin")
    referer = request.headers.get("Referer")
    if origin is not None:
        if origin == "null" or not _same_origin(origin):
            return refuse(403, "cross-origin request refused (Origin)")
    elif referer and not _same_origin(referer):
        return refuse(403, "cross-origin request refused (Referer)")
    if method == "basic":
        return None
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sent = request.form.get(CSRF_FORM_FIELD)
    expected = session.get(CSRF_SESSION_KEY)
    if not sent or not expected or not hmac.compare_digest(str(sent), str(expected)):
        return refuse(403, "missing or invalid CSRF token")
    return None


def csrf_exempt(view):  # noqa: ANN001, ANN201
    """Exempt a view from the CSRF check (only for endpoints that never use cookies)."""
    view._csrf_exempt = True
    return view


def tile_hosts(app: Flask) -> list[str]:
    """img-src sources for the basemap tile servers (from the registered basemaps)."""
    if "CSP_IMG_HOSTS" in app.config:
        return list(app.config["CSP_IMG_HOSTS"])
    hosts: set[str] = set()
    try:
        ctx = app.extensions["geoplatform"]
        for basemap in ctx.basemaps():
            for attr in ("url", "tiles", "url_template", "template"):
                value = getattr(basemap, attr, None)
                if isinstance(value, str) and value.startswith(("http://", "https://")):
                    scheme, rest = value.split("://", 1)
                    host = rest.split("/", 1)[0]
                    host = ".".join("*" if "{" in label else label for label in host.split("."))
                    hosts.add(f"{scheme}://{host}")
    except Exception as exc:  # a broken basemap plugin must not break every response
        log.warning("cannot read basemap hosts for the CSP: %s", exc)
    app.config["CSP_IMG_HOSTS"] = sorted(hosts) or list(DEFAULT_TILE_HOSTS)
    return app.config["CSP_IMG_HOSTS"]


def content_security_policy(app: Flask) -> str:
    """The CSP header value of this response."""
    img = " ".join(["'self'", "data:", "blob:", *tile_hosts(app)])
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{csp_nonce()}'",
        "style-src 'self' 'unsafe-inline'",
        f"img-src {img}",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


MAX_JSON_DEPTH = 64  # [D] our bodies nest ≤ 8 levels (a MultiPolygon in an object); deeper is an attack
MAX_PATH_INT = 2**63 - 1  # every integer column is at most a BIGINT


class _JSONProvider(DefaultJSONProvider):
    """Request bodies: too deep a nesting is bad JSON (→ 400 / None for get_json(silent=True)), never a
    RecursionError in the parser or in code walking the result."""

    def loads(self, s: str | bytes, **kwargs: object) -> object:
        try:
            data = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        problem = _json_problem(data, MAX_JSON_DEPTH)
        if problem:
            raise ValueError(problem)
        return data


def _json_problem(data: object, limit: int) -> str | None:
    """Nesting deeper than `limit`, or a NUL character in a text (no database column can hold one);
    iterative, level by level: no recursion on hostile input, and a long coordinate list costs one pass."""
    level, depth = [data], 1
    while level:
        deeper: list = []
        for node in level:
            kind = type(node)  # json.loads gives exactly these types: a type test is cheaper than isinstance
            if kind is str:
                if "\x00" in node:
                    return "NUL character in a JSON text"
            elif kind is list:
                deeper += node
            elif kind is dict:
                deeper += node
                deeper += node.values()
        if deeper and depth >= limit and any(type(n) in (list, dict) for n in deeper):
            return f"JSON nested deeper than {limit} levels"
        level, depth = deeper, depth + 1
    return None


_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")  # an unescaped \u0000 escape (not a literal backslash + u0000)


def refuse_nul() -> None:
    """400 for a NUL character in the path, a query parameter, a form field (urlencoded or multipart; an uploaded
    file's content is the importer's) or a JSON body: PostgreSQL cannot even compare text with one, and no value
    of ours contains it (`geoplatform.textpolicy`: the same policy on both databases). The catalogue text says
    where, in the user's language."""
    part = None
    if "\x00" in request.path:
        part = "path"
    elif b"\x00" in unquote_to_bytes(request.query_string):
        part = "query"
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if any("\x00" in text for pair in request.form.items(multi=True) for text in pair) or \
                any("\x00" in (f.filename or "") for f in request.files.values()):
            part = "form"
    elif request.is_json:
        body = request.get_data(cache=True)
        if b"\x00" in body or (b"\\u0000" in body and _JSON_NUL.search(body)):  # the regex only where it can match
            part = "json"
    if part is not None:
        raise UserInputError("text.nul.request", part=Message(f"text.part.{part}"))


class _BoundedInt(IntegerConverter):
    """`<int:…>` URL parts: a number no column can hold is no match (404), never an overflow in the database."""

    def to_python(self, value: str) -> int:
        if len(value) > len(str(MAX_PATH_INT)):
            raise ValidationError()
        number = super().to_python(value)
        if number > MAX_PATH_INT:
            raise ValidationError()
        return number


class _SessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session whose cookie is marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or (has_request_context() and request.is_secure)

    def save_session(self, app: Flask, session, response: Response) -> None:  # noqa: ANN001
        # A flashed error may echo what the user typed (a 100 kB value): a cookie over the ≈ 4 kB browsers keep is
        # dropped, and the login and CSRF token with it. Keep the last few messages, each cut short.
        flashes = session.get("_flashes")
        if flashes and (len(flashes) > FLASH_KEEP or any(len(str(m)) > FLASH_CHARS for _, m in flashes)):
            session["_flashes"] = [(c, _clip(str(m))) for c, m in flashes[-FLASH_KEEP:]]
        super().save_session(app, session, response)


FLASH_KEEP = 5  # [D] messages kept for the next page
FLASH_CHARS = 300  # [D] characters of one flashed message (a cookie holds ≈ 4 kB, base64 and UTF-8 included)


def _clip(text: str) -> str:
    return text if len(text) <= FLASH_CHARS else text[:FLASH_CHARS - 1] + "…"


FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
                     "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PREFIX", "HTTP_FORWARDED")
HSTS = "max-age=31536000"  # [D] one year (RFC 6797 §11.2); only ever sent on a request that came over HTTPS


def trusted_networks(values: list[str] | tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The networks of the configured reverse proxies (`trusted_proxies`, GEOPLATFORM_TRUSTED_PROXIES): addresses or
    CIDR networks; ValueError naming a value that is neither."""
    out = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            raise ValueError(f"trusted_proxies / GEOPLATFORM_TRUSTED_PROXIES: {value!r} is not an IP address or network "
                             f"(e.g. 127.0.0.1, ::1, 10.0.0.0/8)") from None
    return tuple(out)


class TrustedProxies:
    """WSGI middleware: X-Forwarded-For/-Proto are believed only from a configured proxy (then werkzeug's ProxyFix,
    one hop: the client address and scheme nginx saw) and removed from every other request, so a client cannot
    claim another address (login throttling) or HTTPS (Secure cookie, HSTS) by sending them itself."""

    def __init__(self, app, networks) -> None:  # noqa: ANN001
        self.app = app
        self.networks = tuple(networks)
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=0, x_port=0, x_prefix=0)

    def trusted(self, addr: str | None) -> bool:
        """True when the peer address is one of the configured proxies."""
        try:
            ip = ipaddress.ip_address((addr or "").split("%", 1)[0])
        except ValueError:
            return False
        if getattr(ip, "ipv4_mapped", None):
            ip = ip.ipv4_mapped
        return any(ip in net for net in self.networks)

    def __call__(self, environ, start_response):  # noqa: ANN001, ANN204
        if self.networks and self.trusted(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        for key in FORWARDED_HEADERS:
            environ.pop(key, None)
        return self.app(environ, start_response)


# The HTML error page speaks the page language: (title, plain explanation) per status; the
# technical detail (English, e.g. the refused action) is shown in English pages only.
_ERROR_TEXT = {
    400: (("请求无效", "请求的参数有误，请返回后重试。"), ("Bad request", "")),
    401: (("请先登录", "请登录后再访问此页面。"), ("Login required", "")),
    403: (("无权访问", "您的角色或辖区无权访问此页面或执行此操作。"), ("Forbidden", "")),
    404: (("未找到", "没有找到您要访问的页面或数据，请检查地址。"), ("Not found", "")),
    405: (("方法不允许", "此页面不支持这种请求方式。"), ("Method not allowed", "")),
    409: (("数据已被修改", "数据已被他人修改，请刷新后重试。"), ("Conflict", "")),
    413: (("请求过大", "上传的文件或请求超过了大小限制。"), ("Request too large", "")),
    429: (("尝试过多", "尝试次数过多，请稍后再试。"), ("Too many attempts", "")),
}
_SERVER_ERROR = (("服务器错误", "服务器出错，请稍后再试或联系管理员。"), ("Server error", ""))


def _page_lang() -> str:
    try:
        from web.lang import current_lang

        return current_lang()
    except Exception:  # noqa: BLE001 - an error page must render even without an app context/database
        return "zh"


def refuse(status: int, message: str, explanation: str | None = None) -> Response:
    """A JSON (API) or small HTML (pages, in the page language) error response.

    `explanation`: a text already in the page language (a service error's message), shown instead of the
    generic one in either language.
    """
    if status in (401, 403, 429) and not g.get("refusal"):
        g.refusal = message  # why, for the audit row of this refusal (web/auth.py)
    if is_api_request() or request.accept_mimetypes.best == "application/json":
        response = jsonify({"error": message, "status": status})
    else:
        zh, en = _ERROR_TEXT.get(status, _SERVER_ERROR)
        lang = _page_lang()
        title, text = (zh[0], zh[1]) if lang == "zh" else (en[0], message)
        text = explanation or text
        home = "返回首页" if lang == "zh" else "Home"
        html_lang = "zh-CN" if lang == "zh" else "en"
        body = Markup('<!doctype html><html lang="{3}"><head><meta charset="utf-8"><title>{0}</title>'
                      '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml"></head>'
                      '<body><h1>{0}</h1><p>{1}</p><p><a href="/">{2}</a></p></body></html>')
        response = Response(body.format(title, text, home, html_lang), mimetype="text/html")
    response.status_code = status
    return response


def _handle_http(exc: HTTPException) -> Response:
    if exc.code is None or exc.code < 400:
        return exc  # redirects raised by routing
    message = exc.description if exc.code < 500 and exc.description else "error"
    if exc.code >= 500:
        message = "internal error"
    response = refuse(exc.code, message)
    for header in ("Allow", "WWW-Authenticate", "Retry-After"):
        for value in exc.get_headers():
            if value[0] == header:
                response.headers[header] = value[1]
    return response


def _handle_exception(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _handle_http(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return refuse(500, "internal error")  # never SQL or a stack trace


def init_security(app: Flask) -> None:
    """Install CSRF protection, headers and generic error handlers."""
    if app.config.get("SESSION_COOKIE_NAME") in (None, "session"):
        app.config["SESSION_COOKIE_NAME"] = "geoplatform_session"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config.setdefault("JSON_MAX_BYTES", 1024 * 1024)
    app.session_interface = _SessionInterface()
    app.json = _JSONProvider(app)
    app.url_map.converters["int"] = _BoundedInt  # before any blueprint adds its rules
    app.jinja_env.globals.update(csrf_token=csrf_token, csrf_field=csrf_field, csp_nonce=csp_nonce)
    app.before_request(refuse_nul)
    app.before_request(check_csrf)  # web.auth inserts its authentication in front of these

    @app.after_request
    def _headers(response: Response) -> Response:
        h = response.headers
        h.setdefault("Content-Security-Policy", content_security_policy(app))
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
        if not is_static_request():
            _no_store(response)
        if request.is_secure:
            h.setdefault("Strict-Transport-Security", HSTS)
        return response

    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_exception)
