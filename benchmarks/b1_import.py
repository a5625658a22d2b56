"""B1: import a buildings GeoPackage with our importer vs `ogr2ogr` into the same database (target ≤ 1.5×)."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from benchmarks.env import Env, check
from benchmarks.harness import Result, alternate

TARGET = 1.5
# up to 10×, at least this many alternating rounds: the same import's wall time varies by ±20 % run to run on this
# shared machine (1.08–1.48 s at 10× on PostGIS, idle, same code), and the median of three landed on either side of
# the target (1.20–1.59) while medians of eight to ten rounds stayed at 1.13–1.26 (2026-12-07)
MIN_ROUNDS = 9
OGR_TABLE = "ogr_building"


def export_buildings(env: Env) -> Path:
    """The demo's buildings as a GeoPackage (what a surveyor would hand over)."""
    from geoplatform.store import read_frame

    path = env.workdir / f"buildings_{env.backend}_{env.scale:g}.gpkg"
    if not path.exists():
        with env.context().session(readonly=True) as s:
            frame = read_frame(s, "building", columns=["id", "compound_id", "street_code", "geom", "floors",
                                                       "households", "build_year", "floor_area_m2", "address"])
        frame.to_file(path, driver="GPKG", layer="buildings")
    return path


def ogr_command(env: Env, path: Path) -> list[str]:
    """ogr2ogr appending the file as a new table of the benchmark database."""
    url = make_url(env.url)
    if env.backend == "sqlite":
        return ["ogr2ogr", "-f", "SQLite", "-update", "-overwrite", "-nln", OGR_TABLE, url.database, str(path)]
    pg = f"PG:host={url.host} port={url.port} user={url.username} dbname={url.database}"
    if url.password:
        pg += f" password={url.password}"
    return ["ogr2ogr", "-f", "PostgreSQL", "-overwrite", "-nln", OGR_TABLE, "-lco", "GEOMETRY_NAME=geom", pg, str(path)]


def ogr_append_command(env: Env, path: Path) -> list[str]:
    """ogr2ogr appending the file to our own `building` table (its foreign keys, indexes, triggers), as a user would.

    The NOT NULL bookkeeping columns (source, version) are filled by the SQL a user would add; on PostGIS
    with COPY, as ogr2ogr does for a new table; one transaction, as our import.
    """
    url = make_url(env.url)
    sql = ("SELECT id, compound_id, street_code, floors, households, build_year, floor_area_m2, address, "
           "'ogr2ogr' AS source, 1 AS version, geom FROM buildings")
    common = ["-append", "-nln", "building", "-gt", "unlimited", "-dialect", "SQLite", "-sql", sql]
    if env.backend == "sqlite":
        return ["ogr2ogr", "-f", "SQLite", "-update", *common, url.database, str(path)]
    pg = f"PG:host={url.host} port={url.port} user={url.username} dbname={url.database}"
    if url.password:
        pg += f" password={url.password}"
    return ["ogr2ogr", "--config", "PG_USE_COPY", "YES", "-f", "PostgreSQL", *common, pg, str(path)]


def ours_ids(env: Env) -> set[str]:
    """Building ids stored in our table."""
    with env.context().engine.connect() as c:
        return {r[0] for r in c.execute(text("select id from building"))}


def peer_ids(env: Env) -> set[str]:
    """Building ids ogr2ogr wrote."""
    with env.context().engine.connect() as c:
        sql = f"select id from {OGR_TABLE}"  # noqa: S608  (a constant table name)
        return {r[0] for r in c.execute(text(sql))}


def _clear(env: Env) -> None:
    """Before each timed import: no buildings, no ogr2ogr table; on PostGIS the emptied table vacuumed, as new."""
    ctx = env.context()
    with ctx.engine.begin() as c:
        c.execute(text("delete from building"))
        c.execute(text(f"drop table if exists {OGR_TABLE}" + (" cascade" if env.backend != "sqlite" else "")))
    if env.backend == "sqlite":  # ogr2ogr registers its table in the SpatiaLite metadata
        with ctx.engine.begin() as c:
            for t in ("geometry_columns", "geometry_columns_auth", "geometry_columns_statistics",
                      "geometry_columns_time", "geometry_columns_field_infos"):
                try:
                    c.execute(text(f"delete from {t} where f_table_name = :t"), {"t": OGR_TABLE})  # noqa: S608
                except Exception:  # noqa: BLE001  (metadata table absent in this SpatiaLite version)
                    pass
            c.execute(text(f"drop table if exists idx_{OGR_TABLE}_geom"))
            c.execute(text(f"drop table if exists idx_{OGR_TABLE}_GEOMETRY"))
    else:
        # ogr2ogr -overwrite gets a new table each run; the deleted rows would stay in ours (autovacuum waits a
        # minute) and every later import would write after, and index, every earlier run's dead rows (10×: the heap
        # grew 27 MB a run; ratio 1.31 with VACUUM, 1.69 without). The import never truncates (geoplatform.io.bulk)
        with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM building"))


def run(env: Env) -> list[Result]:
    """Rows: in-process importer vs ogr2ogr, and the CLI (one subprocess run) vs the same ogr2ogr median."""
    from geoplatform.io.importer import import_file
    from geoplatform.io.limits import DEFAULT_LIMITS

    path = export_buildings(env)
    with env.context().engine.connect() as c:
        expected = {r[0] for r in c.execute(text("select id from building"))}
    ctx = env.context()
    cmd = ogr_command(env, path)

    # beyond 10× the file (≈ 330 MB at 100×) is over the importer's default 200 MB cap: a Python API
    # caller raises it (a CLI or web user would split the file by street)
    limits = DEFAULT_LIMITS if env.scale <= 10 else replace(DEFAULT_LIMITS, max_file_bytes=4 << 30)

    def ours() -> Any:
        return import_file(ctx, "buildings", path, user="bench", limits=limits)

    def peer() -> None:
        subprocess.run(cmd, check=True, capture_output=True)

    # correctness before timing (untimed; they also warm both sides up): both load every building of the file,
    # the same ids. Then the harness's rounds: the repeats asked for, more until --min-seconds, the collector frozen.
    _clear(env)
    ours()
    peer()
    verify(expected, ours_ids(env), peer_ids(env))
    runs: list[int] = []

    def counted() -> Any:
        runs.append(1)
        return ours()

    rounds = max(env.repeats, MIN_ROUNDS) if env.scale <= 10 else env.repeats
    med_o, med_p = alternate(counted, peer, rounds, before=lambda: _clear(env))
    n_runs = len(runs)
    size = f"{len(expected):,} buildings, {path.stat().st_size / 1e6:.1f} MB gpkg"
    rows = [Result("B1 import buildings", env.scale, env.backend, "import_file (Python API)", "ogr2ogr",
                   med_o, med_p, f"≤ {TARGET}×", med_o / med_p <= TARGET, size,
                   note=f"median of {n_runs} alternating runs each")]
    rows.append(_same_table(env, ours, path, expected, size))
    if env.scale <= 1:  # the CLI adds interpreter and plugin start-up: one run, reported apart
        _clear(env)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from geoplatform.cli import main; main()", "--db", env.url, "import",
                        "buildings", str(path)], check=True, capture_output=True)
        t_cli = time.perf_counter() - t0
        check(ours_ids(env) == expected, "B1: the CLI import did not store every building")
        rows.append(Result("B1 import buildings (CLI, 1 run)", env.scale, env.backend, "geoplatform import (process)",
                           "ogr2ogr", t_cli, med_p, "info", None, size, note="includes interpreter + plugin start-up"))
    if ours_ids(env) != expected:  # the last timed run was ogr2ogr's: put our buildings back for later benchmarks
        _clear(env)
        ours()
    _restore(env)
    return rows


def _same_table(env: Env, ours: Any, path: Path, expected: set[str], size: str) -> Result:
    """Info row: ours vs ogr2ogr appending to the same live table — the database's own per-row work on both sides."""
    cmd = ogr_append_command(env, path)
    _clear(env)
    subprocess.run(cmd, check=True, capture_output=True)
    check(ours_ids(env) == expected, "B1: ogr2ogr -append did not store every building")
    t_ours, t_peer = alternate(ours, lambda: subprocess.run(cmd, check=True, capture_output=True),
                               env.repeats if env.scale < 10 else 2, before=lambda: _clear(env))
    _clear(env)  # leave our own import's rows for the benchmarks that follow
    ours()
    return Result("B1 import into the live table", env.scale, env.backend, "import_file (Python API)",
                  "ogr2ogr -append into building", t_ours, t_peer, "info", None, size,
                  note="same table, foreign keys, indexes and triggers on both sides")


def verify(expected: set[str], ours: set[str], peer: set[str]) -> None:
    """Both imports hold exactly the file's buildings."""
    check(len(ours) == len(expected) and ours == expected, f"B1: importer stored {len(ours)} of {len(expected)} ids")
    check(peer == expected, f"B1: ogr2ogr stored {len(peer)} of {len(expected)} ids")


def _restore(env: Env) -> None:
    """Leave the database as built: buildings present (last import), the ogr table gone."""
    with env.context().engine.begin() as c:
        c.execute(text(f"drop table if exists {OGR_TABLE}" + (" cascade" if env.backend != "sqlite" else "")))
