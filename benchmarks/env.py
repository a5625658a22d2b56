"""Benchmark databases: the demo at each scale in SpatiaLite and PostGIS, built once per run."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geoplatform.context import Context

PASSWORD = "bench-password-123"  # the demo accounts' password in the benchmark databases


class Mismatch(AssertionError):
    """Ours and the peer disagree: the benchmark refuses to time a wrong answer."""


def check(cond: bool, what: str) -> None:
    """Raise Mismatch(what) unless cond."""
    if not cond:
        raise Mismatch(what)


@dataclass
class Env:
    """One demo database: its backend, scale, URL, in-memory demo data and a work directory."""

    backend: str
    scale: float
    url: str
    workdir: Path
    repeats: int
    data: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def context(self) -> Context:
        """A fresh Context on the database."""
        return Context.create(self.url)


def sqlite_url(workdir: Path, scale: float) -> str:
    """A fresh SpatiaLite file for a scale."""
    path = workdir / f"demo_{scale:g}.sqlite"
    if path.exists():
        path.unlink()
    return f"sqlite:///{path}"


def postgis_admin() -> tuple[str, Any]:
    """GEOPLATFORM_TEST_POSTGIS_URL, else a throwaway cluster (returned so the caller can stop it)."""
    url = os.environ.get("GEOPLATFORM_TEST_POSTGIS_URL")
    if url:
        return url, None
    from tests.support.postgis import start_cluster

    cluster = start_cluster()
    return cluster.url, cluster


def postgis_url(admin: str, scale: float) -> str:
    """A fresh PostGIS database for a scale."""
    from tests.support.postgis import create_database

    return create_database(admin, f"bench_{str(scale).replace('.', '_')}")


def build(url: str, data: Any) -> float:
    """Migrate, load the demo data and the demo accounts; returns the seconds taken."""
    from geoplatform import auth, demo, schema
    from geoplatform.db import make_engine, session_scope

    t0 = time.perf_counter()
    eng = make_engine(url)
    schema.upgrade(eng)
    with session_scope(eng) as s:
        demo.load(s, data)
        auth.create_demo_users(s, PASSWORD)
    if url.startswith("postgresql"):
        with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            from sqlalchemy import text

            c.execute(text("VACUUM ANALYZE"))
    eng.dispose()
    return time.perf_counter() - t0
