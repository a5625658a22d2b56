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
    base = tempfile.mkdtemp(prefix="geoplatform-pg-")
    os.chmod(base, 0o755)
    datadir = os.path.join(base, "data")
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    _run([os.path.join(bin_dir, "initdb"), "-D", datadir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
    port = _free_port()
    opts = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    _run([os.path.join(bin_dir, "pg_ctl"), "-D", datadir, "-o", opts, "-l", os.path.join(base, "log"), "-w", "start"])
    psql = [os.path.join(bin_dir, "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1"]
    for _ in range(50):
        if _run([*psql, "-c", "select 1"], check=False).returncode == 0:
            break
        time.sleep(0.1)
    _run([*psql, "-c", "CREATE DATABASE geoplatform_test"])
    _run([*psql, "-d", "geoplatform_test", "-c", "CREATE EXTENSION postgis"])
    return Cluster(f"postgresql://postgres@127.0.0.1:{port}/geoplatform_test", datadir, port, bin_dir)


def create_database(admin_url: str, name: str) -> str:
    """Create a fresh database with PostGIS next to `admin_url`'s and return its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from geoplatform.db import normalise_url

    eng = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    eng = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    eng.dispose()
    return url
