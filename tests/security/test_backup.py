"""`geoplatform backup` / `restore`: identical content after a round trip, all-or-nothing restore, both databases."""

from __future__ import annotations

import gzip
import json

import pytest
from sqlalchemy import select, update

from geoplatform import auth, backup
from geoplatform import models as m


def _fill(ctx, db_url, cli_run) -> None:  # noqa: ANN001
    r = cli_run(db_url, "demo", "--scale", "0.05")
    assert r.exit_code == 0, r.stderr
    with ctx.session() as s:
        a, b = s.scalars(select(m.Compound.id).order_by(m.Compound.id).limit(2)).all()
        s.execute(update(m.Compound).where(m.Compound.id == a).values(managed_by_id=b, name="名'; DROP--"))
        s.add(m.AuditEvent(user_name="t", action="update", entity="compound", entity_id=a,
                           before={"x": [1, 2.5, None]}, after={"名": "值"}))
        auth.new_token(s, "viewer")
        user = auth.get_user(s, "viewer")
        auth.start_session(s, user)
        auth.record_failure(s, "viewer", "1.2.3.4")


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_backup_restore_round_trip_is_identical(ctx, db_url, cli_run, tmp_path, suffix) -> None:  # noqa: ANN001
    _fill(ctx, db_url, cli_run)
    original = backup.table_checksums(ctx.engine)
    path = tmp_path / f"copy{suffix}"
    r = cli_run(db_url, "backup", str(path), "--json")
    assert r.exit_code == 0, r.stderr
    counts = json.loads(r.stdout)["rows"]
    assert counts["compound"] > 10 and counts["user_account"] > 5 and counts["audit_event"] >= 1
    # change the database in every way: edits, deletions, new rows
    with ctx.session() as s:
        s.execute(update(m.Compound).values(households=0))
        s.execute(m.LedgerItem.__table__.delete())
        auth.add_user(s, "intruder", "admin", "password-x")
    assert backup.table_checksums(ctx.engine) != original
    r = cli_run(db_url, "restore", str(path))
    assert r.exit_code == 0, r.stderr
    assert backup.table_checksums(ctx.engine) == original
    # serial ids continue after the restored ones (PostgreSQL sequences reset)
    with ctx.session() as s:
        assert auth.add_user(s, "after", "viewer", "password-y").id > 0
        s.add(m.AuditEvent(user_name="t", action="x", entity="y"))


def test_restore_of_a_bad_file_leaves_the_database_unchanged(ctx, db_url, cli_run, tmp_path) -> None:  # noqa: ANN001
    _fill(ctx, db_url, cli_run)
    before = backup.checksum(ctx.engine)
    good = tmp_path / "good.json"
    assert cli_run(db_url, "backup", str(good)).exit_code == 0
    doc = json.loads(good.read_text())
    cases = {
        "garbage.json": b"{not json",
        "other.json": json.dumps({"format": "something-else"}).encode(),
        "table.json": json.dumps({**doc, "tables": {"no_such_table": {"columns": [], "rows": []}}}).encode(),
    }
    broken = json.loads(good.read_text())  # a compound pointing at a street that does not exist
    comp = broken["tables"]["compound"]
    comp["rows"][-1][comp["columns"].index("street_code")] = "999999999"
    cases["fk.json.gz"] = gzip.compress(json.dumps(broken).encode())
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        r = cli_run(db_url, "restore", str(path))
        assert r.exit_code != 0, name
        assert backup.checksum(ctx.engine) == before, name
    assert cli_run(db_url, "restore", str(tmp_path / "missing.json")).exit_code == 2


def test_backup_restores_across_backends(ctx, db_url, cli_run, tmp_path, request) -> None:  # noqa: ANN001
    """A SpatiaLite backup restores into PostGIS (and back) with the same content."""
    from geoplatform import schema
    from geoplatform.db import make_engine
    from tests.conftest import _fresh_url

    _fill(ctx, db_url, cli_run)
    path = tmp_path / "x.json"
    assert cli_run(db_url, "backup", str(path)).exit_code == 0
    other_backend = "postgis" if db_url.startswith("sqlite") else "sqlite"
    other = _fresh_url(other_backend, request.getfixturevalue("tmp_path_factory"), request)
    eng = make_engine(other)
    schema.upgrade(eng)
    try:
        backup.restore(eng, path)
        assert backup.table_checksums(eng) == backup.table_checksums(ctx.engine)
    finally:
        eng.dispose()


def test_backup_is_a_consistent_snapshot_while_writers_run(ctx, tmp_path) -> None:  # noqa: ANN001
    """A writer changes two tables together in each transaction; every backup sees both or neither."""
    import threading

    with ctx.session() as s:
        s.add(m.Street(code="150203001", name="少先路街道", aliases=[]))
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        i = 0
        try:
            while not stop.is_set():
                with ctx.session() as s:
                    street = s.get(m.Street, "150203001", with_for_update=True)
                    street.aliases = [*street.aliases, f"a{i}"]
                    s.add(m.AuditEvent(user_name="w", action="update", entity="street", entity_id="150203001"))
                i += 1
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    t = threading.Thread(target=writer)
    t.start()
    seen: list[int] = []
    try:
        for k in range(4):
            path = tmp_path / f"snap{k}.json"
            backup.backup(ctx.engine, path)
            doc = backup.read_backup(path)
            street = doc["tables"]["street"]
            aliases = street["rows"][0][street["columns"].index("aliases")]
            events = doc["tables"]["audit_event"]["rows"]
            assert len(aliases) == len(events)
            seen.append(len(events))
    finally:
        stop.set()
        t.join(timeout=120)
    assert not errors, errors
    assert max(seen) > 0  # the writer was running while the backups were taken
