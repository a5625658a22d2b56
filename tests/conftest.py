"""Shared fixtures: every storage test runs on SpatiaLite and on a throwaway PostGIS.

PostGIS comes from GEOPLATFORM_TEST_POSTGIS_URL when set, else one cluster per pytest run, shared by the
xdist workers: the first process that needs it starts it (under a run-wide file lock), the controlling
process stops and removes it at the end (tests/support/shared.py). Databases are copies of templates built
once per run (tests/support/templates.py): SpatiaLite by file copy, PostGIS by CREATE DATABASE … TEMPLATE.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from geoplatform.context import Context
from geoplatform.db import make_engine
from tests.support import entry_points, gc_freeze, hookimpls, jinja_templates, route_builders, shared
from tests.support.templates import BACKENDS, DEMO, MIGRATED, Template, copy

__all__ = ["BACKENDS", "_copy_url", "_demo_data", "_fresh_url"]


def _cheap_password_hashing() -> None:
    """argon2id at t=1, m=1 MiB, p=1 in the test processes instead of the product's RFC 9106 profile (t=3, m=64 MiB,
    p=4), which costs over a second per login or new account on two busy cores. Same algorithm and code paths;
    hashes keep their parameters, so the product verifies them either way. Subprocesses (the CLI tests) keep the
    product's profile, and tests/security/test_concurrency.py checks it there."""
    from argon2 import PasswordHasher

    from geoplatform import auth

    auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


_cheap_password_hashing()
route_builders.install()  # werkzeug's URL builders compiled once per process, not per app (tests/support/route_builders.py)
entry_points.install()  # installed entry points read once per process, not per plugin manager (tests/support/entry_points.py)
hookimpls.install()  # a plugin module's hook implementations found once per process (tests/support/hookimpls.py)
jinja_templates.install()  # Jinja templates compiled once per process, not per app (tests/support/jinja_templates.py)


def pytest_configure(config: pytest.Config) -> None:
    """The controlling process (not an xdist worker) opens the run directory the workers will share."""
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one xdist worker (shared fixtures)")
    config.addinivalue_line("markers", "both_backends: a browser test that runs on PostGIS as well as SpatiaLite")
    if not hasattr(config, "workerinput") and not os.environ.get("PYTEST_XDIST_WORKER"):
        config.stash[_RUN_DIR] = shared.start_run()
        if config.pluginmanager.hasplugin("xdist") and config.getvalue("dist") == "loadgroup":
            from tests.support.xdist_groups import GroupSchedulerPlugin

            config.pluginmanager.register(GroupSchedulerPlugin(), "geoplatform-xdist-groups")


def pytest_unconfigure(config: pytest.Config) -> None:
    """The controlling process, after every worker: stop the run's PostGIS cluster, delete the run directory."""
    path = config.stash.get(_RUN_DIR, None)
    if path is not None:
        shared.finish_run(path)


_RUN_DIR = pytest.StashKey[Path]()


@pytest.hookimpl(trylast=True)
def pytest_runtest_logfinish(nodeid: str, location: tuple) -> None:
    """After each test: collect its garbage and freeze the survivors (tests/support/gc_freeze.py)."""
    gc_freeze.after_test()

# Tests that use one of these fixtures share it through an xdist group, so that `--dist loadgroup` (.ci/test)
# runs them on one worker and the expensive session fixture is set up once per run instead of once per worker.
XDIST_GROUPS = {"browser": "browser"}  # fixture name -> group (Chromium + Playwright driver; the served apps)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> Iterator[None]:
    """Mark every test that uses a fixture of XDIST_GROUPS with its xdist_group (unless it has one already; before
    xdist's own hook turns marks into node-id suffixes), and, after pytest's own reordering, run the longest
    work first — `slow` tests, then the grouped ones — so that no worker is left with it at the end."""
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        names = getattr(item, "fixturenames", ())
        for fixture, group in XDIST_GROUPS.items():
            if fixture in names:
                item.add_marker(pytest.mark.xdist_group(group))
                break

    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("slow") is not None:
            return 0
        return 1 if item.get_closest_marker("xdist_group") is not None else 2

    yield
    items.sort(key=rank)  # stable: the collection order within each rank
    if os.environ.get("PYTEST_XDIST_WORKER"):
        from tests.support.xdist_groups import record_groups

        record_groups(items)  # the controller's scheduler groups by this record (tests/support/xdist_groups.py)


# Browser tests drive the UI, which is the same on both databases (every page and API route they use is tested on
# SpatiaLite and PostGIS by the HTTP tests below the browser). So a browser test runs on SpatiaLite only, unless it
# is marked `both_backends`: the flows that write through the pages (import, takeover, login) run on PostGIS too.
@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give a browser test (one that uses the `browser` fixture) SpatiaLite only, unless it is marked `both_backends`."""
    if "browser" not in metafunc.fixturenames or metafunc.definition.get_closest_marker("both_backends"):
        return
    for name in metafunc.fixturenames:
        defs = metafunc._arg2fixturedefs.get(name, ())
        if defs and defs[-1].params is not None and list(defs[-1].params) == list(BACKENDS):
            # a parametrize mark takes precedence over the fixture's own params (its scope kept: still shared)
            metafunc.definition.add_marker(pytest.mark.parametrize(name, ["sqlite"], indirect=True,
                                                                   scope=defs[-1].scope, ids=["sqlite"]))


@pytest.fixture(scope="session")
def postgis_admin_url() -> str:
    """A PostGIS server URL for the whole test run (one cluster shared by every worker)."""
    return shared.postgis_admin_url()


def _copy_url(backend: str, template: Template | None, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    """A fresh database of `backend` holding a copy of `template` (None: empty): (URL, the template's facts)."""
    return copy(template, backend, tmp_path_factory.mktemp("db"))


def _fresh_url(backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest | None = None) -> str:
    """A fresh, empty database of `backend` (PostGIS: with the extension; SpatiaLite: a path, no file yet)."""
    return _copy_url(backend, None, tmp_path_factory)[0]


_MIGRATED: set[str] = set()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty (not migrated) database on each backend.

    When the test also uses `engine` (or `ctx`) the database is a copy of the run's migrated template
    instead, which `engine` then needs not migrate: the same schema, without Alembic per test. A PostGIS
    database is dropped after the test (SpatiaLite files stay in pytest's temporary directory).
    """
    if "engine" in request.fixturenames:
        url = _copy_url(request.param, MIGRATED, tmp_path_factory)[0]
        _MIGRATED.add(url)
    else:
        url = _fresh_url(request.param, tmp_path_factory)
    yield url
    _MIGRATED.discard(url)
    if request.param == "postgis":
        from sqlalchemy.engine import make_url

        from tests.support.postgis import drop_database

        drop_database(shared.postgis_admin_url(), make_url(url).database)


@pytest.fixture
def engine(db_url: str):
    """An engine on a fresh database with the schema migrated."""
    eng = make_engine(db_url)
    if db_url not in _MIGRATED:
        from geoplatform import schema

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
    return _copy_url(request.param, DEMO, tmp_path_factory)[0]


def _demo_data():  # noqa: ANN202
    """The scale-1 demo (seed 42), generated once per run (a pickle in the run directory) and kept per process."""
    from tests.support.templates import demo_data

    return demo_data(1, 42)


@pytest.fixture
def demo_ctx(demo_url: str) -> Context:
    """A Context on the shared demo database (read-only use)."""
    return Context.create(demo_url)


NO_SOLVER_LIMIT_S = 3600.0  # a solver time limit no test run reaches: tests assert what is proven, not what a limit allows


@pytest.fixture
def no_solver_limit(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> float:
    """Contexts created from now on (CLI included) give the takeover solver NO_SOLVER_LIMIT_S instead of 10 s."""
    path = tmp_path_factory.mktemp("config") / "geoplatform.toml"
    path.write_text(f"[rules.takeover]\nsolver_time_limit_s = {NO_SOLVER_LIMIT_S}\n", encoding="utf-8")
    monkeypatch.setenv("GEOPLATFORM_CONFIG", str(path))
    return NO_SOLVER_LIMIT_S


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
