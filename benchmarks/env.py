"""Benchmark databases: the demo at each scale in SpatiaLite and PostGIS, built once per run."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
import time
from collections.abc import Callable
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


CACHE_DIR = Path(os.environ.get("GEOPLATFORM_BENCH_CACHE", Path.home() / ".cache" / "geoplatform-bench"))


def demo_key(scale: float, seed: int, today: dt.date, kind: str = "demo", code: tuple[str, ...] = ()) -> str:
    """The cache name of a generated demo: scale, seed, the day its dates are relative to, and a hash of the code that
    generates it (geoplatform/demo.py and the reference data it draws on): a change to either is a new key. `kind`:
    what is cached ("demo": demo.generate's data; another name for something made from it, e.g. B3's region);
    `code`: the files of the code that makes it from the demo, hashed too."""
    from geoplatform import demo, reference

    h = hashlib.sha256()
    for path in (demo.__file__, reference.__file__, *code):
        h.update(Path(path).read_bytes())
    return f"{kind}-{scale:g}-{seed}-{today.isoformat()}-{h.hexdigest()[:16]}.pickle"


def demo_data(scale: float, seed: int = 42, cache: Path | None = CACHE_DIR) -> tuple[Any, float, bool]:
    """demo.generate(scale, seed), from the pickle cache when it holds this key (`cache` None: always generate);
    returns (data, seconds taken, whether it came from the cache)."""
    from geoplatform import demo

    today = dt.date.today()
    return cached(cache, demo_key(scale, seed, today), lambda: demo.generate(scale=scale, seed=seed, today=today))


def cached(cache: Path | None, key: str, make: Callable[[], Any]) -> tuple[Any, float, bool]:
    """make(), or what the pickle `key` (a demo_key) in `cache` holds; returns (it, seconds taken, whether it was read).

    A new one is written whole or not at all, and the cache's other files of its kind, scale and seed (another day's
    or another code's: a 100× demo is ≈ 320 MB) are removed."""
    t0 = time.perf_counter()
    path = cache / key if cache is not None else None
    if path is not None and path.exists():
        with path.open("rb") as f:
            return pickle.load(f), time.perf_counter() - t0, True  # noqa: S301  (our own cache file)
    data = make()
    secs = time.perf_counter() - t0
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as f:
            pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)  # whole or absent: a run stopped while writing leaves no half file under the key
        family = "-".join(key.split("-")[:3])  # kind-scale-seed
        for stale in path.parent.glob(f"{family}-*.pickle"):  # another day's or code's: never read again
            if stale != path:
                stale.unlink(missing_ok=True)
    return data, secs, False


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
