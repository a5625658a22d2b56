"""Start a throwaway PostgreSQL + PostGIS cluster for the tests (as the `postgres` user when root)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass


@dataclass
class Cluster:
    url: str
    datadir: str
    port: int
    bin_dir: str

    def stop(self) -> None:
        """Stop the server and delete its data directory."""
        _run([os.path.join(self.bin_dir, "pg_ctl"), "-D", self.datadir, "-m", "immediate", "stop"], check=False)
        shutil.rmtree(os.path.dirname(self.datadir), ignore_errors=True)


def _data_parent() -> str | None:
    """Where the throwaway cluster lives: in memory (/dev/shm) when it has room to spare, else the temp dir."""
    try:
        free = shutil.disk_usage("/dev/shm").free
    except OSError:
        return None
    return "/dev/shm" if free > 8 * 1024**3 and os.access("/dev/shm", os.W_OK) else None


def _pg_bin_dir() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server not installed (apt-get install postgresql-15-postgis-3)")
    return os.path.dirname(found[-1])


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(_as_postgres(cmd), check=check, capture_output=True, text=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster() -> Cluster:
    """initdb + pg_ctl start on a free loopback port; returns a postgresql:// URL with PostGIS enabled."""
    bin_dir = _pg_bin_dir()
    base = tempfile.mkdtemp(prefix="geoplatform-pg-", dir=_data_parent())
    os.chmod(base, 0o755)
    datadir = os.path.join(base, "data")
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    _run([os.path.join(bin_dir, "initdb"), "-D", datadir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
    port = _free_port()
    # durability off (a throwaway cluster); one cluster serves every xdist worker of the run, whose session-wide
    # Contexts each keep a connection pool: room for them
    opts = (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off "
            "-c synchronous_commit=off -c max_connections=400 -c wal_level=minimal -c max_wal_senders=0")
    _run([os.path.join(bin_dir, "pg_ctl"), "-D", datadir, "-o", opts, "-l", os.path.join(base, "log"), "-w", "start"])
    psql = [os.path.join(bin_dir, "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1"]
    for _ in range(50):
        if _run([*psql, "-c", "select 1"], check=False).returncode == 0:
            break
        time.sleep(0.1)
    _run([*psql, "-c", "CREATE DATABASE geoplatform_test"])
    _run([*psql, "-d", "geoplatform_test", "-c", "CREATE EXTENSION postgis"])
    return Cluster(f"postgresql://postgres@127.0.0.1:{port}/geoplatform_test", datadir, port, bin_dir)


def _admin_engine(admin_url: str):  # noqa: ANN202
    from sqlalchemy import create_engine

    from geoplatform.db import normalise_url

    eng = _ADMIN.get(admin_url)
    if eng is None:
        eng = _ADMIN[admin_url] = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT",
                                                pool_pre_ping=True)
    return eng


_ADMIN: dict = {}


def database_url(admin_url: str, name: str) -> str:
    """The URL of database `name` on `admin_url`'s server."""
    from sqlalchemy.engine import make_url

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def create_database(admin_url: str, name: str, template: str | None = None) -> str:
    """Create a fresh database next to `admin_url`'s and return its URL: a copy of database `template`
    (CREATE DATABASE … TEMPLATE; nobody may be connected to it), else an empty one with PostGIS."""
    from sqlalchemy import create_engine, text

    from geoplatform.db import normalise_url

    with _admin_engine(admin_url).connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if template:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY'))
            return database_url(admin_url, name)
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = database_url(admin_url, name)
    eng = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    eng.dispose()
    return url


def drop_database(admin_url: str, name: str) -> None:
    """Drop database `name` (closing its connections)."""
    from sqlalchemy import text

    with _admin_engine(admin_url).connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def seal_template(admin_url: str, name: str) -> None:
    """Close every connection to database `name` and refuse new ones, so it can serve as a TEMPLATE."""
    from sqlalchemy import text

    with _admin_engine(admin_url).connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})


def drop_run_databases(admin_url: str, run: str) -> None:
    """Drop the databases of one test run (their names end in _<run> or hold _<run>_)."""
    from sqlalchemy import text

    with _admin_engine(admin_url).connect() as conn:
        names = conn.scalars(text("SELECT datname FROM pg_database WHERE datname LIKE :a OR datname LIKE :b"),
                             {"a": f"%\\_{run}", "b": f"%\\_{run}\\_%"}).all()
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
