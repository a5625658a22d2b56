"""Concurrency and faults: optimistic locking under threads, 4 concurrent writers, kill -9 mid-write."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from geoplatform import backup
from geoplatform import models as m
from geoplatform.db import make_engine, session_scope
from tests.security.conftest import compound_row, new_token, pick_compounds
from tests.support.pausing_child import PausingChild

THREADS = 4
ROUNDS = 12


def test_optimistic_locking_loses_no_update(app, sec_ctx) -> None:  # noqa: ANN001
    """4 threads × ROUNDS read-modify-write rounds on one compound: every success counted, stale → 409."""
    p = pick_compounds(sec_ctx)
    cid = p["b"]
    start = compound_row(sec_ctx, cid)["households"] or 0
    token = new_token(sec_ctx, "bureau")
    results: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        client = app.test_client()
        done = 0
        attempts = 0
        while done < ROUNDS and attempts < ROUNDS * 50:
            attempts += 1
            row = compound_row(sec_ctx, cid)
            r = client.patch(f"/api/v1/compounds/{cid}", json={"households": row["households"] + 1,
                                                                "version": row["version"]},
                             headers={"Authorization": f"Bearer {token}"})
            with lock:
                results.append(r.status_code)
            if r.status_code == 200:
                done += 1
            elif r.status_code != 409:
                with lock:
                    errors.append(f"{r.status_code} {r.get_data(as_text=True)[:200]}")
                return

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors
    ok = results.count(200)
    assert ok == THREADS * ROUNDS
    assert set(results) <= {200, 409}
    final = compound_row(sec_ctx, cid)
    assert final["households"] == start + ok  # no lost update
    with sec_ctx.session(readonly=True) as s:
        n = s.scalar(select(func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.entity == "compound", m.AuditEvent.entity_id == cid, m.AuditEvent.outcome == "ok",
            m.AuditEvent.user_name == "bureau"))
    assert n >= ok  # one audit event per committed change


def test_stale_version_after_a_concurrent_commit_is_409(app, sec_ctx) -> None:  # noqa: ANN001
    p = pick_compounds(sec_ctx)
    token = new_token(sec_ctx, "bureau")
    h = {"Authorization": f"Bearer {token}"}
    c = app.test_client()
    row = compound_row(sec_ctx, p["b"])
    assert c.patch(f"/api/v1/compounds/{p['b']}", json={"complaints_per_year": 1, "version": row["version"]},
                   headers=h).status_code == 200
    r = c.patch(f"/api/v1/compounds/{p['b']}", json={"complaints_per_year": 2, "version": row["version"]}, headers=h)
    assert r.status_code == 409
    assert compound_row(sec_ctx, p["b"])["version"] == row["version"] + 1


def test_four_concurrent_writers_never_see_database_is_locked(ctx, db_url) -> None:  # noqa: ANN001
    """Four engines (as four processes would) write 25 transactions each at the same time."""
    with ctx.session() as s:
        s.add(m.Street(code="150203001", name="少先路街道"))
    engines = [make_engine(db_url) for _ in range(THREADS)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def writer(k: int) -> None:
        try:
            barrier.wait()
            for i in range(25):
                with session_scope(engines[k]) as s:
                    street = s.get(m.Street, "150203001", with_for_update=True)  # FOR UPDATE on PostGIS
                    street.aliases = [*street.aliases, f"w{k}-{i}"]  # read-modify-write in one transaction
                    s.add(m.AuditEvent(user_name=f"w{k}", action="update", entity="street", entity_id="x"))
        except BaseException as exc:  # noqa: BLE001 - collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    for e in engines:
        e.dispose()
    assert not errors, [str(e)[:300] for e in errors]
    with ctx.session(readonly=True) as s:
        aliases = s.get(m.Street, "150203001").aliases
        assert len(aliases) == THREADS * 25 == len(set(aliases))  # serialised: nothing lost
        assert s.scalar(select(func.count()).select_from(m.AuditEvent)) == THREADS * 25


def _geoplatform(db_url: str, tmp_path: Path, *args: str, pause_on: str, after: int = 0,
                 chunk: int | None = None) -> PausingChild:
    """`geoplatform ARGS` in a child process that pauses `after` SQL statements past the stderr line `pause_on`
    (`chunk`: the importer's write chunk in the child instead of geoplatform.io.writer.CHUNK); see
    tests/support/pausing_child.py."""
    log = tmp_path / f"child-{next(_CHILDREN)}.stderr"
    return PausingChild(db_url, list(args), log, pause_on, after=after, chunk=chunk)


_CHILDREN = itertools.count()


def _counts(engine: Any) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(model)).scalar_one()
                for name, model in (("compound", m.Compound), ("building", m.Building), ("garage", m.Garage),
                                    ("handover", m.Handover))}


KILL_SCALE = 0.1  # the demo the kills interrupt: every table has rows (a scale-0.3 demo took 3 s more per child)


@pytest.mark.slow
def test_kill_9_during_demo_load_leaves_the_database_exactly_as_before(ctx, db_url, cli_run, tmp_path) -> None:  # noqa: ANN001
    """SIGKILL inside the demo's single transaction: the database is byte-for-byte as before.

    The child stops at a progress line (or a few statements past it) and is killed there, whatever the
    machine's speed. A load that runs out of statements before its pause point commits: then it must be
    the whole new demo, and becomes the baseline; the kill right after the compounds always rolls back.
    """
    from geoplatform import demo

    r = cli_run(db_url, "demo", "--scale", "0.05", "--seed", "3")
    assert r.exit_code == 0, r.stderr
    before = backup.checksum(ctx.engine)
    whole = {t: len(demo.generate(scale=KILL_SCALE, seed=9).tables[t]) for t in ("compound", "building", "garage", "handover")}
    rng = random.Random(11)
    rolled_back = []
    # pause points: right after the compounds (buildings, garages and handovers still to write), and a few
    # statements past the buildings and the garages (a load that runs out of statements first commits whole)
    for marker, after in (("  building:", rng.randint(0, 3)), ("  compound:", 0), ("  garage:", rng.randint(0, 3))):
        proc = _geoplatform(db_url, tmp_path, "demo", "--scale", str(KILL_SCALE), "--seed", "9", pause_on=marker,
                            after=after)
        killed, seen = proc.kill_when_paused()
        assert marker in seen  # the load had started writing
        if killed:
            assert proc.returncode == -signal.SIGKILL
            assert backup.checksum(ctx.engine) == before, (marker, after)  # byte-for-byte as before
            rolled_back.append(marker)
        else:  # committed before reaching its pause point: then all of it, the new baseline
            assert proc.returncode == 0, seen[-500:]
            assert _counts(ctx.engine) == whole, marker
            before = backup.checksum(ctx.engine)
    assert "  compound:" in rolled_back  # the earliest kill has buildings, garages and handovers still to write


def _buildings_file(path: Path, n: int, prefix: str) -> None:
    feats = []
    for i in range(n):  # a 200-wide grid of small squares well inside the district's urban core
        x, y = 109.78 + (i % 200) * 0.0001, 40.63 + (i // 200) * 0.0001
        ring = [[x, y], [x + 0.00005, y], [x + 0.00005, y + 0.00005], [x, y + 0.00005], [x, y]]
        feats.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                      "properties": {"id": f"{prefix}-{i:06d}", "floors": 1 + i % 20, "households": i % 90}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))


def _count_like(engine: Any, prefix: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(m.Building).where(m.Building.id.like(f"{prefix}-%"))).scalar_one()


# The importer's write chunk in the killed children (geoplatform.store.CHUNK is 5,000): three chunks of a 2,500-row
# file instead of an 11,000-row one — the same stages, transaction and kill points, a quarter of the parsing and checks.
KILL_CHUNK = 1_000


@pytest.mark.slow
def test_kill_9_during_import_leaves_the_database_exactly_as_before(ctx, db_url, cli_run, tmp_path) -> None:  # noqa: ANN001
    """SIGKILL while the importer checks and while it writes: the database is byte-for-byte as before.

    The child stops at the importer's own stage lines on stderr ("checking", "writing": the latter after
    the first chunk went in) or a few statements past them, and is killed there: the kills land inside each
    stage whatever the machine's speed. An import that runs out of statements first must be whole (every
    row in), and becomes the new baseline.
    """
    from geoplatform.cli import build_cli

    if "import" not in build_cli().commands:  # pragma: no cover - the importer lands in its own issue
        pytest.skip("no import command yet")
    r = cli_run(db_url, "demo", "--scale", "0.05", "--seed", "3")
    assert r.exit_code == 0, r.stderr
    from geoplatform.db import BULK_INDEX_MIN_ROWS
    from geoplatform.io.job import PROGRESS_MIN

    n = 2 * KILL_CHUNK + KILL_CHUNK // 2  # three write chunks: the kills land after the first one and a few statements later
    assert n >= max(PROGRESS_MIN, BULK_INDEX_MIN_ROWS)  # stage lines are printed; SpatiaLite's deferred index is in play
    before = backup.checksum(ctx.engine)
    rng = random.Random(5)
    killed_writing = 0
    # pause points: at the importer's stage lines, and a few SQL statements past them
    for k, (marker, after) in enumerate((("checking", 0), ("checking", rng.randint(1, 3)), ("writing", 0),
                                         ("writing", 1), ("writing", rng.randint(2, 5)))):
        prefix = f"KILL{k}"
        big = tmp_path / f"buildings{k}.geojson"
        _buildings_file(big, n, prefix)
        proc = _geoplatform(db_url, tmp_path, "import", "buildings", str(big), pause_on=marker, after=after,
                            chunk=KILL_CHUNK)
        killed, seen = proc.kill_when_paused()
        assert marker in seen, seen[-500:]
        if killed:
            assert backup.checksum(ctx.engine) == before, (marker, after)
            killed_writing += marker == "writing"
        else:  # finished before reaching its pause point: then it is whole
            assert proc.returncode == 0, seen[-500:]
            assert _count_like(ctx.engine, prefix) == n, (marker, after)
            before = backup.checksum(ctx.engine)
    assert killed_writing >= 1  # at least one kill inside the open write transaction


@pytest.mark.slow
def test_four_concurrent_cli_processes_write_without_lock_errors(ctx, db_url) -> None:  # noqa: ANN001
    """Four `geoplatform` processes writing at once (each: add a user, then a token) all succeed."""
    script = ("import sys; from geoplatform.cli import main; sys.stdin = __import__('io').StringIO('password-123\\n');"
              "name = sys.argv[1]\n"
              "try:\n    main(['users', 'add', name, '--role', 'viewer', '--password-stdin'])\n"
              "except SystemExit as e:\n    assert not e.code, e.code\n"
              "main(['users', 'token', name])")
    env = {**os.environ, "GEOPLATFORM_DATABASE_URL": db_url}
    procs = [subprocess.Popen([sys.executable, "-c", script, f"proc{k}"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for k in range(THREADS)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-500:]
        assert "locked" not in err.lower()
        assert out.strip().splitlines()[-1].startswith("gp_")
    with ctx.session(readonly=True) as s:
        hashes = dict(s.execute(select(m.User.name, m.User.password_hash)).all())
        assert {f"proc{k}" for k in range(THREADS)} <= set(hashes)
        # the product's argon2id profile (RFC 9106 low-memory), which tests/conftest.py lowers in-process only
        assert all("$argon2id$v=19$m=65536,t=3,p=4$" in hashes[f"proc{k}"] for k in range(THREADS))
        assert s.scalar(select(func.count()).select_from(m.ApiToken)) == THREADS
