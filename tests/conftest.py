"""Shared fixtures: every storage test runs on SpatiaLite and on a throwaway PostGIS.

PostGIS comes from GEOPLATFORM_TEST_POSTGIS_URL when set, else a cluster started here (as the
`postgres` user when root) and removed at the end of the session.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from geoplatform.context import Context
from geoplatform.db import make_engine

BACKENDS = ("sqlite", "postgis")


@pytest.fixture(scope="session")
def postgis_admin_url() -> Iterator[str]:
    """A PostGIS server URL for the whole test session."""
    url = os.environ.get("GEOPLATFORM_TEST_POSTGIS_URL")
    if url:
        yield url
        return
    from tests.support.postgis import start_cluster

    cluster = start_cluster()
    try:
        yield cluster.url
    finally:
        cluster.stop()


def _fresh_url(backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'geoplatform.sqlite'}"
    from tests.support.postgis import create_database

    admin = request.getfixturevalue("postgis_admin_url")
    return create_database(admin, f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh, empty (not migrated) database on each backend."""
    return _fresh_url(request.param, tmp_path_factory, request)


@pytest.fixture
def engine(db_url: str):
    """An engine on a fresh database with the schema migrated."""
    from geoplatform import schema

    eng = make_engine(db_url)
    schema.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def ctx(db_url: str, engine) -> Context:  # noqa: ANN001
    """A Context on a fresh migrated database of each backend."""
    c = Context.create(db_url)
    c._engine = engine
    return c


@pytest.fixture(scope="session", params=BACKENDS)
def demo_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with the scale-1 demo loaded, shared by the session: treat it as read-only."""
    from geoplatform import demo, schema

    url = _fresh_url(request.param, tmp_path_factory, request)
    eng = make_engine(url)
    schema.upgrade(eng)
    from geoplatform.db import session_scope

    with session_scope(eng) as s:
        demo.load(s, _demo_data())
    eng.dispose()
    return url


_DEMO_CACHE: dict = {}


def _demo_data():  # noqa: ANN202
    from geoplatform import demo

    if "d" not in _DEMO_CACHE:
        _DEMO_CACHE["d"] = demo.generate(scale=1, seed=42)
    return _DEMO_CACHE["d"]


@pytest.fixture
def demo_ctx(demo_url: str) -> Context:
    """A Context on the shared demo database (read-only use)."""
    return Context.create(demo_url)


@pytest.fixture
def cli_run():
    """Run the CLI in-process: cli_run(db_url, *args, input=None) -> click Result (stdout/stderr apart)."""
    from geoplatform.cli import build_cli

    group = build_cli()

    def run(db: str | None, *args: str, input: str | None = None):  # noqa: A002
        runner = CliRunner()
        argv = (["--db", db] if db else []) + list(args)
        return runner.invoke(group, argv, input=input, catch_exceptions=False)

    return run


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium per test process: Playwright's sync API allows one driver per thread."""
    from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
