"""Hostile parameters on every route of the app (shell and plugins), on SpatiaLite and PostGIS: never a 500.

For each GET route the test first asks which query parameters the route reads (a recording
`request.args`, one plain request and one with the standard set of parameters), then sends each of
them set to hostile values: huge integers, 1e309 (inf), nan, negative, empty, very long, unicode, NUL,
and for some parameters impossible bboxes, dates and quarters; then all the standard ones hostile at
once. Path arguments get the same treatment. Every route taking a body (POST, PATCH, PUT,
DELETE) gets JSON objects with integers far beyond any column (2^70), 1e400 (= inf) and 1,000- and
100,000-deep nesting. A route may answer anything but a server error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import pytest
from flask import Request
from werkzeug.datastructures import ImmutableMultiDict

from geoplatform.context import Context
from geoplatform.db import make_engine, session_scope
from tests.conftest import BACKENDS, _fresh_url
from tests.security.test_account_pages import route_values

STANDARD = ("limit", "offset", "max", "min", "budget", "zoom", "bbox", "today", "street", "version", "page",
            "lang", "q", "sort", "format", "layer", "year", "quarter", "facility", "state", "weight", "max_distance")
HUGE = "99999999999999999999"
HOSTILE = (HUGE, str(2**70), "1e309", "nan", "-1", "", "x" * 3000, "中文小区", "\x00")
EXTRA = {  # values that only mean something to some parameters
    "bbox": ("nan,nan,nan,nan", "1e308,1e308,1e308,1e308", "inf,0,1,1", "1,2,3"),
    "today": ("9999-99-99", "2025-02-30", "0001-01-01", "99999-01-01"),
    "quarter": ("2025Q9", "99999Q1"), "period": ("2025H9",), "street": ("'; DROP TABLE compound;--",),
}
GLOBAL = ("lang",)  # read by every page (the language): fuzzed on two routes, not on all of them
PATH_HOSTILE = (HUGE, "-1", "x" * 2000, "中文", "%00")
BODY_KEYS = ("version", "households", "build_year", "floor_area_m2", "takeover_cost", "fee_collection_rate",
             "complaints_per_year", "name", "state", "deadline", "items", "budget", "min", "max", "year", "seats",
             "votes", "score", "bidders", "id", "compound_id", "management_mode", "boundary", "location", "geometry")
DEEP = 1000
RAW_BODIES = ("[" * DEEP + "]" * DEEP, '{"a":' * DEEP + "1" + "}" * DEEP, "[" * 100_000 + "]" * 100_000,
              '{"version": 1e400}', '{"version": -1e400, "households": 1e400}', '{"version": ' + "9" * 5000 + "}",
              "[" * 100_000, '{"version": 1', "\x00", "")
READ: set[str] = set()


class _RecordingArgs(ImmutableMultiDict):
    """request.args that remembers the keys a view asks for."""

    def get(self, key, default=None, type=None):  # noqa: A002, ANN001, ANN201
        READ.add(key)
        return super().get(key, default, type)

    def __getitem__(self, key):  # noqa: ANN001, ANN204
        READ.add(key)
        return super().__getitem__(key)

    def getlist(self, key, type=None):  # noqa: A002, ANN001, ANN201
        READ.add(key)
        return super().getlist(key, type)

    def __contains__(self, key) -> bool:  # noqa: ANN001
        READ.add(key)
        return super().__contains__(key)

    def _all(self) -> None:
        READ.update(dict.keys(self))

    def __iter__(self):  # noqa: ANN204 - a view that walks the parameters reads every one sent
        self._all()
        return super().__iter__()

    def items(self, multi: bool = False):  # noqa: ANN201
        self._all()
        return super().items(multi)

    def to_dict(self, flat: bool = True):  # noqa: ANN201
        self._all()
        return super().to_dict(flat)

    def lists(self):  # noqa: ANN201
        self._all()
        return super().lists()


class _RecordingRequest(Request):
    parameter_storage_class = _RecordingArgs


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """The app over a database of its own (the fuzz may write), with an admin token."""
    from geoplatform import auth, demo, schema
    from web.app import create_app

    url = _fresh_url(request.param, tmp_path_factory, request)
    eng = make_engine(url)
    schema.upgrade(eng)
    with session_scope(eng) as s:
        demo.load(s, demo.generate(scale=0.05, seed=11))
        auth.create_demo_users(s, "fuzz-password-1")
        auth.new_token(s, "viewer")  # token id 1 is not the admin's: a fuzzed revoke of id 1 cannot lock us out
        token = auth.new_token(s, "admin")
    eng.dispose()
    ctx = Context.create(url)
    ctx.config.secret_key = "fuzz-secret"
    app = create_app(ctx, settings={"GEOPLATFORM_UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads"))})
    app.request_class = _RecordingRequest
    yield app, ctx, {"Authorization": f"Bearer {token}"}
    ctx.engine.dispose()


def _routes(app, values: dict[str, str], method: str) -> list[tuple]:  # noqa: ANN001
    out = []
    for rule in app.url_map.iter_rules():
        if method not in rule.methods or rule.endpoint.endswith("static"):
            continue
        if any(a not in values for a in rule.arguments):
            raise AssertionError(f"no sample value for an argument of {rule.rule}")
        out.append((rule, rule.build({a: values[a] for a in rule.arguments}, append_unknown=False)[1]))
    return out


ARGUMENT = re.compile(r"<(?:[^:>]+:)?(\w+)>")


def _hostile_paths(rule, values: dict[str, str]) -> Iterator[str]:  # noqa: ANN001
    """The rule's path with one argument at a time set to each hostile value (the others plausible)."""
    for arg in rule.arguments:
        for bad in PATH_HOSTILE:
            def fill(match: re.Match, arg: str = arg, bad: str = bad) -> str:
                name = match.group(1)
                return quote(bad if name == arg else str(values[name]), safe="")
            yield ARGUMENT.sub(fill, rule.rule)


def test_no_get_route_answers_500_to_hostile_parameters(fuzz_app) -> None:  # noqa: ANN001
    app, ctx, auth = fuzz_app
    values = route_values(ctx)
    values["token_id"] = "999999"
    client = app.test_client(use_cookies=False)  # the token authenticates; no session carried from one request to the next
    failures: list[str] = []
    sent = 0

    def get(url: str) -> None:
        nonlocal sent
        sent += 1
        r = client.get(url, headers=auth)
        if r.status_code >= 500:
            failures.append(f"{r.status_code} GET {url[:160]}")

    for rule, path in _routes(app, values, "GET"):
        READ.clear()
        get(path)
        get(path + "?" + urlencode({p: "1" for p in STANDARD}))
        params = sorted(READ - set(GLOBAL)) if rule.rule not in ("/", "/api/v1/me") else sorted(READ)
        for param in params:
            for bad in HOSTILE + EXTRA.get(param, ()):
                get(path + "?" + urlencode({param: bad}))
        for bad in (HUGE, "nan"):  # everything hostile at once
            get(path + "?" + urlencode({p: bad for p in STANDARD}))
        if rule.arguments:
            for hostile in _hostile_paths(rule, values):
                get(hostile)
    assert sent > 500
    assert not failures, "\n".join(failures)


def test_no_write_route_answers_500_to_hostile_bodies(fuzz_app) -> None:  # noqa: ANN001
    app, ctx, auth = fuzz_app
    values = route_values(ctx)
    values["token_id"] = "999999"
    client = app.test_client(use_cookies=False)  # the token authenticates; no session carried from one request to the next
    failures: list[str] = []
    bodies = [{"version": 2**70}, {"version": -(2**70)}, {k: 2**70 for k in BODY_KEYS}, {"items": [2**70] * 3},
              {k: "x" * 100_000 for k in BODY_KEYS}, {"name": "a\x00b", "version": 1}, {"a\x00": 1},
              *({k: 2**70, "version": 1} for k in BODY_KEYS)]
    for method in ("POST", "PATCH", "PUT", "DELETE"):
        for rule, path in _routes(app, values, method):
            if rule.endpoint in ("auth.logout",):
                continue  # ends the session it is asked to end; no input
            for body in bodies:
                r = client.open(path, method=method, json=body, headers=auth)
                if r.status_code >= 500:
                    failures.append(f"{r.status_code} {method} {path} {str(body)[:80]}")
            for raw in RAW_BODIES:
                r = client.open(path, method=method, data=raw, content_type="application/json", headers=auth)
                if r.status_code >= 500:
                    failures.append(f"{r.status_code} {method} {path} raw {raw[:40]!r}")
            if rule.arguments:
                for hostile in _hostile_paths(rule, values):
                    r = client.open(hostile, method=method, json={"version": 1}, headers=auth)
                    if r.status_code >= 500:
                        failures.append(f"{r.status_code} {method} {hostile[:120]}")
    assert not failures, "\n".join(failures)


def test_numbers_beyond_any_range_and_deep_json_are_400(fuzz_app) -> None:  # noqa: ANN001
    """The adversarial run's cases, named: each is a 400 with a JSON error, not only "not a 500"."""
    app, ctx, auth = fuzz_app
    values = route_values(ctx)
    client = app.test_client()
    compound = f"/api/v1/compounds/{values['compound_id']}"
    r = client.get(f"/api/v1/takeover/select?max={HUGE}", headers=auth)
    assert r.status_code == 400 and "max" in json.dumps(r.get_json()["params"]), r.get_json()  # the parameter named
    for body in ({"version": 2**70, "households": 1}, {"version": 1, "households": 2**70}):
        r = client.patch(compound, json=body, headers=auth)
        assert r.status_code == 400 and r.is_json, body
    for raw in ("[" * DEEP + "]" * DEEP, '{"version": ' * DEEP + "1" + "}" * DEEP, "[" * 100_000 + "]" * 100_000):
        r = client.patch(compound, data=raw, content_type="application/json", headers=auth)
        assert r.status_code == 400 and r.is_json
    assert client.get("/api/v1/audit?user=%00", headers=auth).status_code == 400
    int_rules = [rule for rule in app.url_map.iter_rules() if "<int:" in rule.rule]
    assert int_rules
    for rule in int_rules:  # no row can have such an id: no route matches it
        url = ARGUMENT.sub(lambda m: HUGE if m.group(0).startswith("<int:") else quote(str(values[m.group(1)]),
                                                                                          safe=""), rule.rule)
        method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        assert client.open(url, method=method, headers=auth).status_code == 404, url
