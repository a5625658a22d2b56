"""HTTP plumbing: the one mapping of service errors to HTTP, parameter validation (400 on garbage),
revision-keyed ETag caching, gzip compression."""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, abort, g, jsonify, request

from geoplatform import readcache
from geoplatform.errors import Forbidden, UserInputError

GZIP_MIN_BYTES = 1024
GZIP_FAST_BYTES = 256 * 1024
GZIP_TYPES = ("application/json", "application/geo+json", "text/html", "text/css", "application/javascript",
              "text/javascript", "image/svg+xml", "text/plain", "application/vnd.mapbox-vector-tile")


class BadParameter(ValueError):
    """A request parameter that cannot be understood (→ 400 with the parameter's name)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def parse_bbox(text: str | None, name: str = "bbox") -> tuple[float, float, float, float] | None:
    """`minx,miny,maxx,maxy` in WGS-84 degrees (None when absent); BadParameter otherwise."""
    if text is None or text == "":
        return None
    parts = text.split(",")
    if len(parts) != 4:
        raise BadParameter(name, "expected minx,miny,maxx,maxy")
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise BadParameter(name, "coordinates must be numbers") from None
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise BadParameter(name, "coordinates must be finite")
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise BadParameter(name, "coordinates out of WGS-84 range")
    if minx > maxx or miny > maxy:
        raise BadParameter(name, "min greater than max")
    return minx, miny, maxx, maxy


def parse_int(text: str | None, name: str, default: int | None, lo: int, hi: int) -> int | None:
    """An integer parameter within [lo, hi] (default when absent); BadParameter otherwise."""
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadParameter(name, "must be an integer") from None
    if not lo <= value <= hi:
        raise BadParameter(name, f"must be between {lo} and {hi}")
    return value


def json_error(status: int, message: str, **extra: Any) -> Response:
    """A JSON error body {"error": ..., "status": ...} with the status code."""
    response = jsonify({"error": message, "status": status, **extra})
    response.status_code = status
    return response


class _BodyCache:
    """A small thread-safe LRU of response bodies by ETag, bounded in bytes (keys include the data revision)."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.items: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            body = self.items.get(key)
            if body is not None:
                self.items.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        if len(body) > self.max_bytes // 8:
            return
        with self.lock:
            if key in self.items:
                return
            self.items[key] = body
            self.size += len(body)
            while self.size > self.max_bytes:
                _, old = self.items.popitem(last=False)
                self.size -= len(old)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.size = 0


_BODIES = _BodyCache()


def clear_response_cache() -> None:
    """Forget every cached response body (the benchmarks time cold requests)."""
    _BODIES.clear()


def cached(key: str, build: Callable[[], Any], mimetype: str = "application/json",
           max_age: int = 0) -> Response:  # noqa: ARG001 - max_age kept for callers: nothing is stored now
    """A JSON response built by `build()`, with a strong ETag from `key` (304 when the client has it).

    `key` must change whenever the data can (it includes the data revision); the body is only
    built on a cache miss of a client that sends If-None-Match. Cache-Control is `private, no-store`:
    answers depend on the user and must not stay in a browser's cache after logout.
    """
    etag = hashlib.sha256(key.encode()).hexdigest()[:32]
    # the headers as one list, not set one by one through werkzeug's parsing properties (a cached answer is mostly this)
    headers = [("ETag", f'"{etag}"'), ("Cache-Control", "private, no-store"), ("Vary", "Cookie, Authorization")]
    if "If-None-Match" in request.headers and request.if_none_match.contains_weak(etag):
        return Response(status=304, headers=headers)
    body = _BODIES.get(etag)
    if body is None:
        payload = build()
        body = payload if isinstance(payload, bytes | str) else json.dumps(payload, ensure_ascii=False,
                                                                              separators=(",", ":"), default=str)
        body = body.encode() if isinstance(body, str) else body
        _BODIES.put(etag, body)
    return Response(body, mimetype=mimetype, headers=headers)


def wants_json() -> bool:
    """Whether an error of this request is answered as JSON (API, JSON body, JSON accepted, marked view)."""
    from web.security import is_api_request

    return (is_api_request() or request.is_json or bool(g.get("json_errors"))
            or request.accept_mimetypes.best == "application/json" or request.method not in ("GET", "HEAD"))


def user_error_response(exc: UserInputError) -> Response:
    """The one HTTP form of a service error: its status with {"error", "key", "params", "status"} in the
    user's language (the params also at the top level, e.g. `field`, `allowed`); an HTML page for pages.

    A Forbidden raised by a service is audited here as a denied attempt (the shell's `require` audits its own).
    """
    from web.lang import current_lang
    from web.security import refuse

    lang = current_lang()
    text = exc.message.text(lang)
    status = int(getattr(exc, "status", 400))
    if isinstance(exc, Forbidden):
        _audit_forbidden(exc)
    if not wants_json():
        return refuse(status, text, explanation=text)
    params = {k: _param_json(v, lang) for k, v in exc.message.params.items()}
    body = {**{k: v for k, v in params.items() if k not in ("error", "key", "params", "status")},
            "error": text, "key": exc.message.key, "params": params, "status": status}
    response = jsonify(body)
    response.status_code = status
    return response


def _param_json(value: Any, lang: str) -> Any:
    """A message parameter as JSON: texts in the user's language, lists kept, anything else as text."""
    from geoplatform.i18n import in_lang

    value = in_lang(value, lang)
    if isinstance(value, list | tuple):
        return [_param_json(v, lang) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def _audit_forbidden(exc: UserInputError) -> None:
    from geoplatform import audit
    from web.app import get_context
    from web.auth import mark_audited, request_where

    user = g.get("user")
    if user is None:
        return
    p = exc.message.params
    try:
        audit.record_denied(get_context(), user, str(p.get("action") or exc.message.key), str(p.get("entity") or "route"),
                            p.get("entity_id"), street_code=p.get("street_code"), detail=request_where())
        mark_audited()
    except Exception:  # auditing must not turn a 403 into a 500
        import logging

        logging.getLogger(__name__).exception("could not audit a denied attempt")


def init_http(app: Flask) -> None:
    """Install the error mapping (UserInputError → its status, BadParameter → 400) and the gzip hook."""

    @app.errorhandler(BadParameter)
    def _bad_parameter(exc: BadParameter) -> Response:
        return json_error(400, exc.message, parameter=exc.name)

    @app.errorhandler(UserInputError)
    def _user_input(exc: UserInputError) -> Response:
        return user_error_response(exc)

    @app.after_request
    def _gzip(response: Response) -> Response:
        return gzip_response(response)

    @app.after_request
    def _writes_bump_the_revision(response: Response) -> Response:
        if request.method not in ("GET", "HEAD", "OPTIONS") and response.status_code < 400:
            from web.app import get_context
            from web.revision import invalidate

            invalidate(get_context())
        _floors().remember(_session_key(), readcache.read_floor())
        return response

    # first of all: this request's reads include its session's last committed write (read-your-writes)
    app.before_request_funcs.setdefault(None, []).insert(0, _start_reads)


class _Floors:
    """The read floor (last committed write, see geoplatform.readcache) of each recent session, bounded LRU."""

    def __init__(self, max_items: int = 10_000) -> None:
        self.max_items = max_items
        self.items: OrderedDict[str, int] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str | None) -> int:
        if key is None:
            return 0
        with self.lock:
            return self.items.get(key, 0)

    def remember(self, key: str | None, seq: int) -> None:
        if key is None or seq <= 0:
            return
        with self.lock:
            if self.items.get(key, 0) >= seq:
                return
            self.items[key] = seq
            self.items.move_to_end(key)
            while len(self.items) > self.max_items:
                self.items.popitem(last=False)


def _floors() -> _Floors:
    """This app's floors (one per app: a write sequence number means something for its own context only)."""
    from flask import current_app

    floors = current_app.extensions.get("geoplatform.read_floors")
    if floors is None:
        floors = current_app.extensions.setdefault("geoplatform.read_floors", _Floors())
    return floors


def _session_key() -> str | None:
    """Who "the same session" is: the login session's id, else the credentials sent (token / Basic), hashed."""
    from flask import session

    from web.auth import SESSION_ID_KEY

    sid = session.get(SESSION_ID_KEY)
    if sid:
        return "sid:" + hashlib.sha256(str(sid).encode()).hexdigest()
    creds = request.headers.get("Authorization")
    return "auth:" + hashlib.sha256(creds.encode()).hexdigest() if creds else None


def _start_reads() -> None:
    readcache.set_read_floor(_floors().get(_session_key()))


_STATIC_GZ: dict[tuple[str, str], bytes] = {}


def gzip_response(response: Response) -> Response:
    """Compress a response when the client accepts gzip and it is a large enough text body.

    Static files (streamed by send_file) are compressed once and kept in memory by path + ETag."""
    if (response.status_code != 200 or "Content-Encoding" in response.headers
            or response.mimetype not in GZIP_TYPES
            or "gzip" not in request.headers.get("Accept-Encoding", "").lower()):
        return response
    static_key = None
    if response.direct_passthrough:
        if request.endpoint != "static":
            return response
        static_key = (request.path, response.headers.get("ETag", ""))
        response.direct_passthrough = False
    if static_key is not None and static_key in _STATIC_GZ:
        response.set_data(_STATIC_GZ[static_key])
    else:
        data = response.get_data()
        if len(data) < GZIP_MIN_BYTES:
            return response
        # large dynamic bodies (pages of features) at level 1: 3–4× faster than 6 for a slightly larger answer
        fast = static_key is None and len(data) > GZIP_FAST_BYTES
        response.set_data(gzip.compress(data, compresslevel=1 if fast else 6))
        if static_key is not None:
            _STATIC_GZ[static_key] = response.get_data()
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    if response.headers.get("ETag") and not response.headers["ETag"].startswith("W/"):
        # the compressed representation gets its own (weak) tag so caches never mix the two
        response.headers["ETag"] = "W/" + response.headers["ETag"]
    return response


def require_json_object() -> dict[str, Any]:
    """The request body as a JSON object (400 otherwise)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(json_error(400, "expected a JSON object body"))
    return data
