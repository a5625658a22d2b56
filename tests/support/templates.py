"""Template databases: each kind of test database is built once per run and copied for every test that needs it.

A `Template` names what a database holds (`key`), how to fill it (`build(url)`, run on a fresh copy of its
`base`, or on an empty database) and returns JSON facts about it (tokens, chosen streets…) that every copy
shares. The first process of the run that needs a template builds it under a run-wide lock
(tests/support/shared.py); copies are then
  - SpatiaLite: a file copy of the template file (checkpointed, no -wal beside it);
  - PostGIS: ``CREATE DATABASE … TEMPLATE`` from the template database on the run's server.
A copy is an exact duplicate of what `build` made, so a test sees what it saw when the fixture built its
database itself, minus the minutes.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import shared

BACKENDS = ("sqlite", "postgis")


@dataclass(frozen=True)
class Template:
    """A kind of database: `build(url)` fills a fresh copy of `base` (or an empty database) and returns facts."""

    key: str
    build: Callable[[str], dict[str, Any] | None]
    base: Template | None = None


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _build(template: Template, backend: str) -> dict[str, Any]:
    """Build `template` on `backend` (the caller holds its lock); returns where it is and its facts."""
    if backend == "sqlite":
        final = shared.run_dir() / "templates" / f"{shared.safe_name(template.key)}.sqlite"
        work = final.with_name(f"{final.stem}.building-{uuid.uuid4().hex[:6]}.sqlite")
        work.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{work}"
        if template.base is not None:
            shutil.copyfile(ensure(template.base, backend)["path"], work)
        facts = template.build(url) or {}  # the builder disposes the engines it opened
        _checkpoint(url)
        work.replace(final)
        return {"path": str(final), "facts": facts}
    from tests.support import postgis

    admin = shared.postgis_admin_url()
    name = _pg_name("tpl", template.key)
    if template is EMPTY:
        url = postgis.create_database(admin, name)  # CREATE DATABASE + CREATE EXTENSION postgis, once per run
    else:
        url = postgis.create_database(admin, name, template=ensure(template.base or EMPTY, backend)["name"])
    facts = template.build(url) or {}
    postgis.seal_template(admin, name)  # closes whatever the builder left open
    return {"name": name, "facts": facts}


def _checkpoint(url: str) -> None:
    """Fold the WAL into the main file so a plain file copy holds everything."""
    import sqlean

    path = _sqlite_path(url)
    conn = sqlean.connect(str(path))
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    for extra in ("-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)


def _pg_name(prefix: str, key: str) -> str:
    tail = f"_{shared.run_id()}_{shared.safe_name(key)}" if prefix == "tpl" else f"_{shared.run_id()}_{uuid.uuid4().hex[:12]}"
    return (prefix + tail)[:63]


def ensure(template: Template, backend: str) -> dict[str, Any]:
    """The template built (once per run, by whichever process asks first): {"path" | "name", "facts"}."""
    return shared.once(f"template-{backend}-{template.key}", lambda: _build(template, backend))


def _empty(url: str) -> None:
    """An empty database (with PostGIS): what CREATE DATABASE + CREATE EXTENSION postgis makes."""


EMPTY = Template("empty", _empty)


def backend_of(url: str) -> str:
    """"sqlite" or "postgis"."""
    return "sqlite" if url.startswith("sqlite") else "postgis"


def facts_of(template: Template, url: str) -> dict[str, Any]:
    """The facts of `template` on the backend of `url` (for a builder that extends it)."""
    return ensure(template, backend_of(url))["facts"]


def copy(template: Template | None, backend: str, directory: Path) -> tuple[str, dict[str, Any]]:
    """A fresh database holding a copy of `template` (None: empty); returns (URL, the template's facts).

    SpatiaLite files go in `directory` (a fresh temporary directory); an empty SpatiaLite database is a
    path with no file yet (what make_engine initialises on first connect).
    """
    if backend == "sqlite":
        path = directory / "geoplatform.sqlite"
        if template is None or template is EMPTY:
            return f"sqlite:///{path}", {}
        built = ensure(template, backend)
        shutil.copyfile(built["path"], path)
        return f"sqlite:///{path}", built["facts"]
    from tests.support import postgis

    built = ensure(template or EMPTY, backend)
    return postgis.create_database(shared.postgis_admin_url(), _pg_name("t", ""), template=built["name"]), built["facts"]


def refill(url: str, template: Template) -> dict[str, Any]:
    """Replace the database at `url` by a fresh copy of `template` (engines on it must be disposed first,
    they reconnect on next use); returns the template's facts."""
    backend = backend_of(url)
    built = ensure(template, backend)
    if backend == "sqlite":
        path = _sqlite_path(url)
        for extra in ("-wal", "-shm"):
            Path(f"{path}{extra}").unlink(missing_ok=True)
        shutil.copyfile(built["path"], path)
        return built["facts"]
    from sqlalchemy.engine import make_url

    from tests.support import postgis

    postgis.create_database(shared.postgis_admin_url(), make_url(url).database, template=built["name"])
    return built["facts"]


# ---- the common templates ----------------------------------------------------------------------------

_DEMO_DATA: dict = {}


def demo_data(scale: float, seed: int):  # noqa: ANN201
    """demo.generate(scale, seed), generated once per run (pickled in the run directory) and kept per process."""
    from geoplatform import demo

    key = (scale, seed)
    if key not in _DEMO_DATA:
        _DEMO_DATA[key] = shared.cached(f"demo-{scale}-{seed}", lambda: demo.generate(scale=scale, seed=seed))
    return _DEMO_DATA[key]


def _migrate(url: str) -> None:
    from geoplatform import schema
    from geoplatform.db import make_engine

    eng = make_engine(url)
    schema.upgrade(eng)
    eng.dispose()


def load_demo(url: str, scale: float, seed: int) -> None:
    """Load demo.generate(scale, seed) into the (migrated) database at `url` in one transaction."""
    from geoplatform import demo
    from geoplatform.db import make_engine, session_scope

    eng = make_engine(url)
    with session_scope(eng) as s:
        demo.load(s, demo_data(scale, seed))
    eng.dispose()


def demo_template(scale: float, seed: int) -> Template:
    """The migrated schema plus demo.generate(scale, seed)."""
    return Template(f"demo-{scale}-{seed}", lambda url: load_demo(url, scale, seed), MIGRATED)


MIGRATED = Template("migrated", _migrate)  # the schema at the Alembic heads, no rows
DEMO = demo_template(1, 42)  # the scale-1 demo of demo_url and the web demos
