"""Fixtures of the security suite: a small demo database per backend with the demo accounts, and an app."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from geoplatform.context import Context
from geoplatform.db import make_engine, session_scope
from tests.conftest import BACKENDS, _copy_url
from tests.support.templates import Template, demo_template

PASSWORD = "correct-horse-42"  # noqa: S105 - the test accounts' password


def _demo_users(url: str) -> None:
    from geoplatform import auth

    eng = make_engine(url)
    with session_scope(eng) as s:
        auth.create_demo_users(s, PASSWORD)
    eng.dispose()


SEC = Template("security", _demo_users, demo_template(0.1, 7))  # the scale-0.1 demo plus the demo accounts


@pytest.fixture(scope="session", params=BACKENDS)
def sec_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small demo database (scale 0.1) with the demo accounts; tests may write to it."""
    return _copy_url(request.param, SEC, tmp_path_factory)[0]


@pytest.fixture
def sec_ctx(sec_url: str) -> Context:
    """A Context on the security suite's database."""
    c = Context.create(sec_url)
    c.config.secret_key = "test-secret-key-not-for-production"
    return c


@pytest.fixture
def app(sec_ctx: Context):  # noqa: ANN201
    """The web app over the security database."""
    from web.app import create_app

    application = create_app(sec_ctx)
    yield application
    sec_ctx.engine.dispose()


@pytest.fixture
def client(app) -> FlaskClient:  # noqa: ANN001
    """A test client (anonymous until login)."""
    return app.test_client()


def csrf_of(client: FlaskClient) -> str:
    """The CSRF token of the client's session (fetching the login page first if needed)."""
    with client.session_transaction() as sess:
        token = sess.get("csrf")
    if not token:
        client.get("/login")
        with client.session_transaction() as sess:
            token = sess["csrf"]
    return token


def login(client: FlaskClient, name: str, password: str = PASSWORD, addr: str = "127.0.0.1") -> Any:
    """Log in through the form; returns the response."""
    token = csrf_of(client)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": addr})


def logged_in(app, name: str) -> FlaskClient:  # noqa: ANN001
    """A new client logged in as `name`."""
    c = app.test_client()
    r = login(c, name)
    assert r.status_code == 302, r.get_data(as_text=True)
    return c


def patch_json(client: FlaskClient, url: str, body: dict, *, origin: str | None = "http://localhost",
               csrf: bool = True, headers: dict | None = None) -> Any:
    """PATCH JSON the way the map's scripts do (Origin + X-CSRF-Token)."""
    h = dict(headers or {})
    if origin:
        h["Origin"] = origin
    if csrf:
        h["X-CSRF-Token"] = csrf_of(client)
    return client.patch(url, json=body, headers=h)


def pick_compounds(ctx: Context) -> dict[str, Any]:
    """Two compounds of two different streets, with a point inside each other's street."""
    from sqlalchemy import select

    from geoplatform import models as m
    from geoplatform.store import read_frame

    with ctx.session(readonly=True) as s:
        comps = read_frame(s, "compound", geometry="location")
        streets = read_frame(s, "street")
        officers = set(s.scalars(select(m.User.street_code).where(m.User.role == "street_officer")).all())
    comps = comps[comps["street_code"].isin(officers)].sort_values("id")
    a_street = comps["street_code"].iloc[0]
    b = comps[comps["street_code"] != a_street].iloc[0]
    a = comps.iloc[0]
    return {"a": a["id"], "a_street": a_street, "b": b["id"], "b_street": b["street_code"],
            "a_point": streets.geometry.loc[a_street].representative_point(),
            "b_point": streets.geometry.loc[b["street_code"]].representative_point()}


SCRIPT_TAG = re.compile(r"<script(?![^>]*\bnonce=)[^>]*>", re.I)


def compound_row(ctx: Context, compound_id: str) -> dict[str, Any]:
    """Plain attributes of a compound straight from the database (version included)."""
    from geoplatform import models as m

    with ctx.session(readonly=True) as s:
        c = s.get(m.Compound, compound_id)
        return {"name": c.name, "households": c.households, "version": c.version, "street_code": c.street_code,
                "takeover_cost": c.takeover_cost, "management_mode": c.management_mode}


def make_user(ctx: Context, role: str = "viewer", street: str | None = None, utility: str | None = None) -> str:
    """A fresh account (unique name) with the test password; returns its name."""
    import uuid

    from geoplatform import auth

    name = f"{role}_{uuid.uuid4().hex[:8]}"
    with ctx.session() as s:
        auth.add_user(s, name, role, PASSWORD, street, utility)
    return name


def new_token(ctx: Context, name: str) -> str:
    """A new API token of a user."""
    from geoplatform import auth

    with ctx.session() as s:
        return auth.new_token(s, name)


def audit_events(ctx: Context, **filters: Any) -> list[dict[str, Any]]:
    """Audit events matching the filters, newest first."""
    from geoplatform import audit

    with ctx.session(readonly=True) as s:
        return audit.query(s, **filters)


def random_addr() -> str:
    """A client address of its own, so throttling of one test does not hit another."""
    import random

    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
