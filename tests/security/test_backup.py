"""`geoplatform backup` / `restore`: identical content after a round trip, all-or-nothing restore, both databases."""

from __future__ import annotations

import gzip
import json
import os
import re

import pytest
from sqlalchemy import delete, func, select, update

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
    assert f"  compound: {counts['compound']:,}\n" in r.stderr  # progress, a table at a time
    # change the database in every way: edits, deletions, new rows
    with ctx.session() as s:
        s.execute(update(m.Compound).values(households=0))
        s.execute(m.LedgerItem.__table__.delete())
        auth.add_user(s, "intruder", "admin", "password-x")
    changed = backup.table_checksums(ctx.engine)
    assert changed != original
    r = cli_run(db_url, "restore", str(path), "--replace", "--json")
    assert r.exit_code == 0, r.stderr
    # the copy's tables under their heading (the content replaced: the changed one), then the restore's under its own
    copy_head, restore_head = r.stderr.index("writing the content it replaces to "), r.stderr.index("restoring ")
    assert copy_head < restore_head
    copied, restoring = r.stderr[copy_head:restore_head], r.stderr[restore_head:]
    assert f"  compound: {counts['compound']:,}\n" in copied and f"  compound: {counts['compound']:,}\n" in restoring
    assert f"  user_account: {counts['user_account'] + 1:,}\n" in copied  # the intruder
    assert f"  user_account: {counts['user_account']:,}\n" in restoring
    restored = backup.table_checksums(ctx.engine)
    audit = restored.pop("audit_event")  # the backup's events and one more: the restore's
    assert restored == {k: v for k, v in original.items() if k != "audit_event"} and audit != original["audit_event"]
    with ctx.session() as s:
        last = s.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id.desc()).limit(1)).one()
        assert (last.action, last.entity, last.after["file"]) == ("restore", "database", path.name)
        assert last.user_name.startswith("cli:") and last.before["rows"] > 0
        s.execute(delete(m.AuditEvent).where(m.AuditEvent.id == last.id))
    assert backup.table_checksums(ctx.engine) == original
    kept = json.loads(r.stdout)["kept"]  # the content it replaced, written first: restoring it puts that back
    assert kept and (os.stat(kept).st_mode & 0o777) == 0o600
    assert cli_run(db_url, "restore", kept, "--replace").exit_code == 0
    again = backup.table_checksums(ctx.engine)
    assert again.pop("audit_event") != changed["audit_event"]
    assert again == {k: v for k, v in changed.items() if k != "audit_event"}
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
    cases["old.json"] = json.dumps({**doc, "schema_heads": ["0001"]}).encode()  # a backup of another schema version
    broken = json.loads(good.read_text())  # a compound pointing at a street that does not exist
    comp = broken["tables"]["compound"]
    comp["rows"][-1][comp["columns"].index("street_code")] = "999999999"
    cases["fk.json.gz"] = gzip.compress(json.dumps(broken).encode())
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        r = cli_run(db_url, "restore", str(path), "--replace", "--keep", str(tmp_path / f"{name}.kept.json"))
        assert r.exit_code != 0, name
        assert backup.checksum(ctx.engine) == before, name
        assert not (tmp_path / f"{name}.kept.json").exists(), name  # nothing was replaced: no copy is left
        if name == "old.json":  # says how to bring it forward
            assert "['0001']" in r.stderr and "`geoplatform init`" in r.stderr, r.stderr
    assert cli_run(db_url, "restore", str(tmp_path / "missing.json")).exit_code == 2


def test_restore_refuses_a_database_that_holds_rows(ctx, db_url, cli_run, tmp_path) -> None:  # noqa: ANN001
    """Without --replace a database holding rows is left as it is, and the error says how many and where."""
    _fill(ctx, db_url, cli_run)
    path = tmp_path / "b.json"
    assert cli_run(db_url, "backup", str(path)).exit_code == 0
    before = backup.checksum(ctx.engine)
    r = cli_run(db_url, "restore", str(path))
    assert r.exit_code == 2 and "--replace" in r.stderr and re.search(r"\(building [\d,]+, ", r.stderr), r.stderr
    assert backup.checksum(ctx.engine) == before and sorted(p.name for p in tmp_path.iterdir()) == ["b.json"]
    with pytest.raises(backup.BackupError) as err:
        backup.restore(ctx.engine, path)
    assert err.value.message.key == "backup.restore.not_empty" and "数据库中已有" in err.value.message.text("zh")


def test_restore_never_writes_over_a_file_and_writes_nothing_when_the_copy_fails(ctx, db_url, cli_run,
                                                                                 tmp_path) -> None:  # noqa: ANN001
    """The copy of the replaced content goes to a new file: an existing one, or a directory that is not there, is an
    error before anything is deleted."""
    _fill(ctx, db_url, cli_run)
    path = tmp_path / "b.json"
    assert cli_run(db_url, "backup", str(path)).exit_code == 0
    before = backup.checksum(ctx.engine)
    taken = tmp_path / "taken.json"
    taken.write_text("mine")
    for keep, says in ((taken, "already exists"), (tmp_path / "no" / "such" / "dir.json", "cannot write")):
        r = cli_run(db_url, "restore", str(path), "--replace", "--keep", str(keep))
        assert r.exit_code == 2 and says in r.stderr, r.stderr
        assert backup.checksum(ctx.engine) == before
    assert taken.read_text() == "mine"


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
        assert backup.restore(eng, path).replaced == {}  # a fresh database: nothing to replace, no --replace needed
        restored, source = backup.table_checksums(eng), backup.table_checksums(ctx.engine)
        assert restored.pop("audit_event") != source.pop("audit_event") and restored == source  # + the restore's event
        events = []
        for e in (eng, ctx.engine):
            with e.connect() as c:
                events.append(c.execute(select(func.count()).select_from(m.AuditEvent)).scalar())
        assert events[0] == events[1] + 1
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


def test_backup_keeps_an_existing_file_unless_asked(ctx, db_url, cli_run, tmp_path) -> None:  # noqa: ANN001
    """A backup named like an existing one (maybe the last good copy) is refused; --overwrite replaces it."""
    path = tmp_path / "gp.json"
    path.write_text("the last good copy")
    r = cli_run(db_url, "backup", str(path))
    assert r.exit_code == 2 and "--overwrite" in r.stderr and path.read_text() == "the last good copy"
    assert cli_run(db_url, "backup", str(path), "--overwrite").exit_code == 0
    assert backup.read_backup(path)["format"] == backup.FORMAT
