"""What every process of one pytest run shares: a run directory, file locks, and things built once per run.

The controlling pytest process (the only one without xdist, the xdist controller with ``-n``) creates the
run directory in ``pytest_configure`` (tests/conftest.py) and exports it as GEOPLATFORM_TEST_RUN_DIR, so
the xdist workers it spawns afterwards inherit it. Whatever a worker builds for the whole run (the PostGIS
cluster, the template databases, the generated demo) is built by the first process that needs it, under a
file lock, and recorded in the run directory; the others wait on the lock and reuse it. The controller
cleans up in ``pytest_unconfigure`` (after every worker has finished).
"""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RUN_DIR_ENV = "GEOPLATFORM_TEST_RUN_DIR"
POSTGIS_URL_ENV = "GEOPLATFORM_TEST_POSTGIS_URL"


def start_run() -> Path:
    """Create this run's directory and export it to the processes started from now on (controller only)."""
    path = Path(tempfile.mkdtemp(prefix="geoplatform-run-"))
    os.environ[RUN_DIR_ENV] = str(path)
    (path / "run_id").write_text(uuid.uuid4().hex[:8])
    return path


def run_dir() -> Path:
    """The run directory (created on first use when pytest_configure did not, e.g. a helper run by hand)."""
    path = os.environ.get(RUN_DIR_ENV)
    if not path or not Path(path).is_dir():
        return start_run()
    return Path(path)


def run_id() -> str:
    """A short id of this run: names of PostGIS databases carry it, so runs sharing a server do not meet."""
    return (run_dir() / "run_id").read_text().strip()


def safe_name(text: str) -> str:
    """`text` as a lower-case identifier (letters, digits, _)."""
    return re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")


@contextmanager
def locked(name: str) -> Iterator[None]:
    """An exclusive lock shared by every process of the run (blocks until held)."""
    with open(run_dir() / f"{safe_name(name)}.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def once(name: str, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`make()` run by the first process that asks, its JSON result recorded; later callers read the record."""
    record = run_dir() / f"{safe_name(name)}.json"
    with locked(name):
        if record.exists():
            return json.loads(record.read_text())
        value = make()
        tmp = record.with_suffix(".tmp")
        tmp.write_text(json.dumps(value))
        tmp.replace(record)
        return value


def cached(name: str, make: Callable[[], Any]) -> Any:
    """Like `once` for any picklable value (e.g. the generated demo): built once per run, unpickled elsewhere."""
    path = run_dir() / f"{safe_name(name)}.pickle"
    with locked(name):
        if path.exists():
            with open(path, "rb") as fh:
                return pickle.load(fh)  # noqa: S301 - our own file of this run
        value = make()
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        return value


# ---- PostGIS ---------------------------------------------------------------------------------------


def postgis_admin_url() -> str:
    """The run's PostGIS server: GEOPLATFORM_TEST_POSTGIS_URL when set, else one throwaway cluster per run."""
    url = os.environ.get(POSTGIS_URL_ENV)
    if url:
        return url

    def start() -> dict[str, Any]:
        from tests.support.postgis import start_cluster

        c = start_cluster()
        return {"url": c.url, "datadir": c.datadir, "port": c.port, "bin_dir": c.bin_dir}

    return once("postgis", start)["url"]


def finish_run(path: Path) -> None:
    """Controller, after every worker: stop the run's cluster (or drop this run's databases from the
    server of GEOPLATFORM_TEST_POSTGIS_URL) and delete the run directory."""
    record = path / "postgis.json"
    if record.exists():
        from tests.support.postgis import Cluster

        Cluster(**json.loads(record.read_text())).stop()
    elif os.environ.get(POSTGIS_URL_ENV) and (path / "run_id").exists():
        from tests.support.postgis import drop_run_databases

        try:
            drop_run_databases(os.environ[POSTGIS_URL_ENV], (path / "run_id").read_text().strip())
        except Exception:  # noqa: BLE001, S110 - best effort: an unreachable server keeps them, as before
            pass
    shutil.rmtree(path, ignore_errors=True)
