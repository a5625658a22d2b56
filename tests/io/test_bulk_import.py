"""Writing an import's rows: references locked set-wise, a key removed meanwhile named by file/row/column, nothing
half-written, no orphan when a referenced row is deleted concurrently; on PostGIS both the per-row and the set-wise
(keys and indexes dropped and put back in the transaction) paths, the catalogue left as it was."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import create_engine, delete, event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from geoplatform import models as m
from geoplatform.context import Context
from geoplatform.db import make_engine
from geoplatform.io import bulk, references, writer
from geoplatform.io.importer import import_file
from geoplatform.io.report import ImportFailed
from geoplatform.store import read_frame
from tests.conftest import _copy_url
from tests.io.conftest import db_checksum

NEW = "T26-C"  # a compound made for the test (the seeded ones have buildings, garages and handovers)
N = 40


@pytest.fixture
def own_compound(seeded_ctx):  # noqa: ANN201
    """A compound of our own (deleted again at the end, with any building left on it), and its street."""
    with seeded_ctx.session() as s:
        street, loc = s.execute(select(m.Compound.street_code, m.Compound.location).limit(1)).one()
        s.add(m.Compound(id=NEW, name="测试小区T26", street_code=street, location=loc, management_mode="none"))
    yield street
    with seeded_ctx.session() as s:
        s.execute(delete(m.Building).where(m.Building.id.like("T26-%")))
        s.execute(delete(m.Compound).where(m.Compound.id == NEW))


def _file(ctx, tmp_path, street: str):  # noqa: ANN001, ANN202
    """N new buildings on the test compound (row 7 on it; the others on no compound), as a GeoJSON file."""
    with ctx.session(readonly=True) as s:
        geoms = [shapely.from_wkb(bytes(g)) for (g,) in s.execute(
            select(m.Building.geom.ST_AsBinary()).order_by(m.Building.id).limit(N))]
    frame = gpd.GeoDataFrame({"id": [f"T26-{i:03d}" for i in range(N)],
                              "compound_id": [NEW if i == 6 else None for i in range(N)],
                              "street_code": [street] * N, "floors": [5] * N}, geometry=geoms, crs=4326)
    path = tmp_path / "t26.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


def _other(ctx, busy_wait: bool = True):  # noqa: ANN001, ANN202
    """Another user's engine (PostGIS: committing each statement; SpatiaLite: not waiting for a lock if asked)."""
    if ctx.engine.dialect.name == "postgresql":
        return create_engine(ctx.engine.url, isolation_level="AUTOCOMMIT")
    eng = make_engine(ctx.engine.url.render_as_string(hide_password=False))
    if not busy_wait:
        event.listen(eng, "connect", lambda c, _: c.execute("PRAGMA busy_timeout = 0"))
    return eng


def _catalogue(ctx) -> list[tuple]:  # noqa: ANN001
    """The building table's constraints (validated?) and index definitions (PostGIS)."""
    with ctx.engine.connect() as c:
        cons = c.execute(text("SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
                              "WHERE conrelid = 'building'::regclass ORDER BY 1")).all()
        idx = c.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'building' ORDER BY 1")).all()
    return [*map(tuple, cons), *map(tuple, idx)]


@pytest.fixture(params=["per_row", "set_wise"])
def path_taken(request, monkeypatch):  # noqa: ANN001, ANN201
    """Which PostGIS path the write takes (set-wise forced on a small file), and a record of the one taken."""
    taken: list[bool] = []
    if request.param == "set_wise":
        monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 1)
        monkeypatch.setattr(bulk, "BULK_MIN_SHARE", 0.0)
    real = bulk.bulk_path

    @contextmanager
    def spy(*a, **k):  # noqa: ANN002, ANN003, ANN202
        with real(*a, **k) as set_wise:
            taken.append(set_wise)
            yield set_wise

    monkeypatch.setattr(bulk, "bulk_path", spy)
    return request.param, taken


def _gone_during_checks(ctx, monkeypatch):  # noqa: ANN001, ANN202
    """After the checks (the compound was there), another user deletes it, before the import writes."""
    real = references.check_keys

    def then_delete(job):  # noqa: ANN001, ANN202
        real(job)
        eng = _other(ctx)
        with eng.connect() as c:
            c.execute(delete(m.Compound.__table__).where(m.Compound.id == NEW))
        eng.dispose()

    monkeypatch.setattr(references, "check_keys", then_delete)


def test_key_deleted_after_the_checks_is_named_and_nothing_is_written(seeded_ctx, own_compound, tmp_path,
                                                                      monkeypatch, path_taken):
    if seeded_ctx.engine.dialect.name != "postgresql":
        pytest.skip("SpatiaLite: the import holds the write lock from its first statement (see the next test)")
    path = _file(seeded_ctx, tmp_path, own_compound)
    before_catalogue = _catalogue(seeded_ctx)
    _gone_during_checks(seeded_ctx, monkeypatch)
    before = db_checksum(seeded_ctx)
    before = {k: v for k, v in before.items() if k != "compound"}
    with pytest.raises(ImportFailed) as info:
        import_file(seeded_ctx, "buildings", path)
    errors = info.value.report.errors
    assert [(str(e.where), e.message.key) for e in errors] == [("t26.geojson feature 7, field compound_id",
                                                                "import.reference.gone")]
    assert NEW in str(errors[0].message)
    after = db_checksum(seeded_ctx)
    assert {k: v for k, v in after.items() if k != "compound"} == before  # nothing half-written
    assert _catalogue(seeded_ctx) == before_catalogue


def test_sqlite_import_holds_the_write_lock_so_the_delete_waits(seeded_ctx, own_compound, tmp_path, monkeypatch):
    if seeded_ctx.engine.dialect.name != "sqlite":
        pytest.skip("PostGIS: see the test above")
    path = _file(seeded_ctx, tmp_path, own_compound)
    refused: list[Exception] = []
    real = references.check_keys

    def try_delete(job):  # noqa: ANN001, ANN202
        real(job)
        eng = _other(seeded_ctx, busy_wait=False)
        try:
            with eng.begin() as c:
                c.execute(delete(m.Compound.__table__).where(m.Compound.id == NEW))
        except DBAPIError as exc:
            refused.append(exc)
        eng.dispose()

    monkeypatch.setattr(references, "check_keys", try_delete)
    report = import_file(seeded_ctx, "buildings", path)
    assert report.inserted == N and len(refused) == 1 and "locked" in str(refused[0])
    _delete_is_refused_afterwards(seeded_ctx)


def _delete_is_refused_afterwards(ctx) -> None:  # noqa: ANN001
    """The compound now has a building: deleting it is refused by the key (no orphan)."""
    eng = _other(ctx)
    with pytest.raises(IntegrityError), eng.begin() as c:
        c.execute(delete(m.Compound.__table__).where(m.Compound.id == NEW))
    eng.dispose()
    with ctx.session(readonly=True) as s:
        assert s.execute(select(m.Building.compound_id).where(m.Building.id == "T26-006")).scalar_one() == NEW


def test_delete_during_the_write_waits_and_leaves_no_orphan(seeded_ctx, own_compound, tmp_path, monkeypatch,
                                                           path_taken):
    if seeded_ctx.engine.dialect.name != "postgresql":
        pytest.skip("SpatiaLite: see the test above")
    mode, taken = path_taken
    path = _file(seeded_ctx, tmp_path, own_compound)
    before_catalogue = _catalogue(seeded_ctx)
    blocked: list[Exception] = []
    real = writer._after_import

    def try_delete(job, keys):  # noqa: ANN001, ANN202  (rows written, transaction still open)
        eng = _other(seeded_ctx)
        with eng.connect() as c:
            c.execute(text("SET lock_timeout = '20ms'"))  # never granted while the import runs: no timing involved
            try:
                c.execute(delete(m.Compound.__table__).where(m.Compound.id == NEW))
            except DBAPIError as exc:
                blocked.append(exc)
        eng.dispose()
        real(job, keys)

    monkeypatch.setattr(writer, "_after_import", try_delete)
    report = import_file(seeded_ctx, "buildings", path)
    assert report.inserted == N
    assert taken == ([True] if mode == "set_wise" else [])
    assert len(blocked) == 1 and "lock timeout" in str(blocked[0])
    _delete_is_refused_afterwards(seeded_ctx)
    assert _catalogue(seeded_ctx) == before_catalogue  # same keys (validated), same indexes


def test_set_wise_path_refuses_a_bad_key_and_restores_the_catalogue(seeded_ctx, own_compound, tmp_path,
                                                                   monkeypatch):
    """A key the checks let through (bypassed here) is refused by the keys added back; everything rolls back."""
    if seeded_ctx.engine.dialect.name != "postgresql":
        pytest.skip("PostGIS path")
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 1)
    monkeypatch.setattr(bulk, "BULK_MIN_SHARE", 0.0)
    monkeypatch.setattr(bulk, "lock_references", lambda *a, **k: None)
    monkeypatch.setattr(references, "_compound_refs", lambda job, required: None)
    path = _file(seeded_ctx, tmp_path, own_compound)
    frame = gpd.read_file(path)
    frame.loc[6, "compound_id"] = "NO-SUCH"
    frame.to_file(path, driver="GeoJSON")
    before, before_catalogue = db_checksum(seeded_ctx), _catalogue(seeded_ctx)
    with pytest.raises(ImportFailed, match="fk_building_compound_id_compound"):
        import_file(seeded_ctx, "buildings", path)
    assert db_checksum(seeded_ctx) == before and _catalogue(seeded_ctx) == before_catalogue


def test_set_wise_path_falls_back_when_the_lock_is_not_granted(seeded_ctx, own_compound, tmp_path, monkeypatch,
                                                               path_taken):
    """A reader holding the compound table: the import does not wait past BULK_LOCK_WAIT, it takes the per-row path."""
    if seeded_ctx.engine.dialect.name != "postgresql":
        pytest.skip("PostGIS path")
    mode, taken = path_taken
    if mode != "set_wise":
        pytest.skip("the set-wise path's fallback")
    monkeypatch.setattr(bulk, "BULK_LOCK_WAIT", "10ms")
    path = _file(seeded_ctx, tmp_path, own_compound)
    before_catalogue = _catalogue(seeded_ctx)
    eng = create_engine(seeded_ctx.engine.url)  # a transaction, not autocommit
    with eng.connect() as reader:
        tx = reader.begin()
        reader.execute(text("SELECT count(*) FROM compound"))  # holds ACCESS SHARE until its transaction ends
        report = import_file(seeded_ctx, "buildings", path)
        tx.rollback()
    eng.dispose()
    assert report.inserted == N and taken == [False]
    assert _catalogue(seeded_ctx) == before_catalogue


def _set_wise(monkeypatch) -> tuple[list[str], Any]:  # noqa: ANN001
    """Force the set-wise path on a small file; returns the DDL statements the import runs (recorded)."""
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 1)
    monkeypatch.setattr(bulk, "BULK_MIN_SHARE", 0.0)
    ddl: list[str] = []

    def record(conn, cursor, statement, *a):  # noqa: ANN001, ANN002, ANN202
        if statement.startswith(("ALTER TABLE", "DROP INDEX", "CREATE INDEX", "TRUNCATE")):
            ddl.append(statement)

    return ddl, record


def test_set_wise_path_refuses_a_duplicate_key_in_the_primary_key_build(seeded_ctx, own_compound, tmp_path,
                                                                         monkeypatch):
    """The primary key dropped and added back: a stored id the checks let through (bypassed here) is refused by its
    build; nothing is written and the catalogue is as before."""
    if seeded_ctx.engine.dialect.name != "postgresql":
        pytest.skip("PostGIS path")
    ddl, record = _set_wise(monkeypatch)
    monkeypatch.setattr(references, "check_keys", lambda job: None)
    path = _file(seeded_ctx, tmp_path, own_compound)
    with seeded_ctx.session(readonly=True) as s:
        stored = s.execute(select(m.Building.id).order_by(m.Building.id).limit(1)).scalar()
    frame = gpd.read_file(path)
    frame.loc[3, "id"] = stored
    frame.to_file(path, driver="GeoJSON")
    before, before_catalogue = db_checksum(seeded_ctx), _catalogue(seeded_ctx)
    event.listen(seeded_ctx.engine, "before_cursor_execute", record)
    try:
        with pytest.raises(ImportFailed, match="pk_building"):
            import_file(seeded_ctx, "buildings", path)
    finally:
        event.remove(seeded_ctx.engine, "before_cursor_execute", record)
    assert any("DROP CONSTRAINT \"pk_building\"" in d for d in ddl)
    assert db_checksum(seeded_ctx) == before and _catalogue(seeded_ctx) == before_catalogue


def test_set_wise_path_keeps_a_primary_key_another_table_refers_to(seeded_ctx, own_compound, tmp_path, monkeypatch):
    """A foreign key of another table rests on the primary key's index: the key stays, the import writes all the same."""
    if seeded_ctx.engine.dialect.name != "postgresql":
        pytest.skip("PostGIS path")
    ddl, record = _set_wise(monkeypatch)
    path = _file(seeded_ctx, tmp_path, own_compound)
    with seeded_ctx.engine.begin() as c:
        c.execute(text("CREATE TABLE t26_ref (building_id varchar REFERENCES building (id))"))
    try:
        before_catalogue = _catalogue(seeded_ctx)
        event.listen(seeded_ctx.engine, "before_cursor_execute", record)
        try:
            report = import_file(seeded_ctx, "buildings", path)
        finally:
            event.remove(seeded_ctx.engine, "before_cursor_execute", record)
        assert report.inserted == N
        assert any("DROP CONSTRAINT" in d for d in ddl) and not any("pk_building" in d for d in ddl)
        assert not any(d.startswith("TRUNCATE") for d in ddl)  # a table holding rows is never truncated
        assert _catalogue(seeded_ctx) == before_catalogue
    finally:
        with seeded_ctx.engine.begin() as c:
            c.execute(text("DROP TABLE t26_ref"))


@pytest.fixture
def buildings_ctx(tmp_path_factory):  # noqa: ANN001, ANN201
    """PostGIS: a copy of the small demo, its buildings in a file, and their number."""
    from sqlalchemy.engine import make_url

    from tests.io.conftest import SMALL
    from tests.support.postgis import drop_database
    from tests.support.shared import postgis_admin_url

    url = _copy_url("postgis", SMALL, tmp_path_factory)[0]
    ctx = Context.create(url)
    path = tmp_path_factory.mktemp("buildings") / "buildings.gpkg"
    with ctx.session(readonly=True) as s:
        frame = read_frame(s, "building", columns=["id", "compound_id", "street_code", "geom", "floors"])
    frame.to_file(path, driver="GPKG", layer="buildings")
    yield ctx, path, len(frame)
    ctx.engine.dispose()
    drop_database(postgis_admin_url(), make_url(url).database)


@pytest.fixture
def emptied_ctx(buildings_ctx):  # noqa: ANN001, ANN201
    """buildings_ctx whose buildings were all deleted (no vacuum since)."""
    with buildings_ctx[0].engine.begin() as c:
        c.execute(delete(m.Building.__table__))
    return buildings_ctx


def _heap(ctx) -> tuple[int, int]:  # noqa: ANN001
    """(the building table's file node, its heap's size in bytes)."""
    with ctx.engine.connect() as c:
        return tuple(c.execute(text("SELECT pg_relation_filenode('building'), pg_relation_size('building')")).one())


@contextmanager
def _recorded(ctx, ddl_record):  # noqa: ANN001, ANN202
    """While inside: the DDL `ctx`'s engine runs goes to `_set_wise`'s recorder."""
    event.listen(ctx.engine, "before_cursor_execute", ddl_record)
    try:
        yield
    finally:
        event.remove(ctx.engine, "before_cursor_execute", ddl_record)


def test_set_wise_path_writes_an_emptied_table_without_truncating_it(emptied_ctx, monkeypatch):
    """Every building deleted, not yet vacuumed: the set-wise import writes them back into the same heap (no TRUNCATE,
    which is not MVCC-safe), the catalogue ends as it began; a failed import leaves the table as it was."""
    ctx, path, n = emptied_ctx
    ddl, record = _set_wise(monkeypatch)
    node, _ = _heap(ctx)
    catalogue = _catalogue(ctx)
    doubled = path.with_name("doubled.gpkg")  # one id twice, the checks bypassed: the primary key's build refuses it
    frame = gpd.read_file(path)
    pd.concat([frame, frame.iloc[:1]]).to_file(doubled, driver="GPKG", layer="buildings")
    real_check_keys = references.check_keys
    monkeypatch.setattr(references, "check_keys", lambda job: None)
    with _recorded(ctx, record), pytest.raises(ImportFailed, match="pk_building"):
        import_file(ctx, "buildings", doubled)
    assert _heap(ctx)[0] == node and _catalogue(ctx) == catalogue  # (its aborted rows take heap space until a vacuum)
    with ctx.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM building")).scalar() == 0
    monkeypatch.setattr(references, "check_keys", real_check_keys)
    ddl.clear()
    with _recorded(ctx, record):
        assert import_file(ctx, "buildings", path).inserted == n
    assert any("DROP CONSTRAINT" in d for d in ddl) and not any(d.startswith("TRUNCATE") for d in ddl)
    assert _heap(ctx)[0] == node and _catalogue(ctx) == catalogue
    with ctx.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM building")).scalar() == n


def test_an_older_snapshot_still_sees_the_rows_an_import_replaced(buildings_ctx, monkeypatch, tmp_path):
    """A REPEATABLE READ reader that took its snapshot before every building was deleted and half of them imported
    (set-wise) — as `pg_dump` does before it locks its tables — still reads all the buildings its snapshot saw: the
    import does not truncate the emptied table (after a TRUNCATE that reader would read it empty)."""
    ctx, path, n = buildings_ctx
    half = tmp_path / "half.gpkg"
    gpd.read_file(path).iloc[: n // 2].to_file(half, driver="GPKG", layer="buildings")
    ddl, record = _set_wise(monkeypatch)
    with ctx.engine.connect().execution_options(isolation_level="REPEATABLE READ") as reader, reader.begin():
        reader.execute(text("SELECT count(*) FROM user_account"))  # the snapshot is taken; no lock on the buildings
        with ctx.engine.begin() as c:
            c.execute(delete(m.Building.__table__))
        with _recorded(ctx, record):
            assert import_file(ctx, "buildings", half).inserted == n // 2
        assert any("DROP CONSTRAINT" in d for d in ddl)  # the set-wise path was taken
        assert reader.execute(text("SELECT count(*) FROM building")).scalar() == n > 1
    with ctx.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM building")).scalar() == n // 2


def test_a_backup_taken_meanwhile_keeps_the_rows_of_its_snapshot(buildings_ctx, monkeypatch, tmp_path):
    """Every building deleted and imported again while a backup runs (after its snapshot, before it reads them): the
    backup holds the buildings its snapshot saw, the database the imported ones (and nothing truncated the table: an
    older snapshot would read it empty)."""
    from geoplatform import backup

    ctx, path, n = buildings_ctx
    half = tmp_path / "half.gpkg"  # what the snapshot saw (n), what is imported (n // 2) and nothing (0) all differ
    gpd.read_file(path).iloc[: n // 2].to_file(half, driver="GPKG", layer="buildings")
    ddl, record = _set_wise(monkeypatch)
    real_select, reads = backup._select, []

    def replace_buildings_once_the_snapshot_is_taken(table):  # noqa: ANN001, ANN202
        reads.append(table.name)
        if len(reads) == 2:  # the first table read: the backup's snapshot is taken
            with ctx.engine.begin() as c:
                c.execute(delete(m.Building.__table__))
            with _recorded(ctx, record):
                assert import_file(ctx, "buildings", half).inserted == n // 2
        return real_select(table)

    monkeypatch.setattr(backup, "_select", replace_buildings_once_the_snapshot_is_taken)
    counts = backup.backup(ctx.engine, tmp_path / "during.json")
    assert reads.index("building") > 1 and counts["building"] == n > 1
    assert not any(d.startswith("TRUNCATE") for d in ddl)
    with ctx.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM building")).scalar() == n // 2
