"""Database engines and sessions for the embedded SpatiaLite file and for PostGIS."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from geoplatform import revcounter
from geoplatform.private_files import create_private

SPATIALITE_LIBRARY = os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 65_536  # page cache per connection, filled only as pages are read (default 2 MiB)


class DatabaseError(RuntimeError):
    """The database cannot be opened or is not usable (missing extension, bad URL)."""


def normalise_url(url: str) -> str:
    """Map plain sqlite:// and postgresql:// URLs to the drivers we ship with."""
    u = make_url(url)
    if u.drivername in ("sqlite", "sqlite+pysqlite"):
        return u.set(drivername="sqlite+pysqlite").render_as_string(hide_password=False)
    if u.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise DatabaseError(f"unsupported database URL {u.drivername!r}: use sqlite:///FILE or postgresql://USER@HOST:PORT/DB")


def is_sqlite(engine_or_url: Engine | str) -> bool:
    """True for the embedded SpatiaLite backend."""
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def make_engine(url: str, echo: bool = False) -> Engine:
    """An engine for a sqlite:/// (SpatiaLite) or postgresql:// (PostGIS) URL."""
    url = normalise_url(url)
    if not is_sqlite(url):
        return create_engine(url, echo=echo, pool_pre_ping=True, future=True)

    import pyogrio  # noqa: F401 - load GDAL before mod_spatialite's RTLD_GLOBAL libs, or GDAL binds to them and crashes
    import sqlean  # SQLite build whose connections can load extensions

    path = make_url(url).database
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with suppress(OSError):  # an unwritable place: SQLite reports it in its own words
            create_private(path)  # a new database file is the owner's only (it holds password and token hashes)
    engine = create_engine(url, module=sqlean, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        # We issue BEGIN ourselves (below): that makes DDL transactional and lets writers queue
        # behind busy_timeout instead of failing with "database is locked" on lock upgrade.
        dbapi_conn.isolation_level = None
        dbapi_conn.enable_load_extension(True)
        try:
            dbapi_conn.load_extension(SPATIALITE_LIBRARY)
        except Exception as exc:  # pragma: no cover - depends on the machine
            raise DatabaseError(
                f"cannot load SpatiaLite ({SPATIALITE_LIBRARY}): install libsqlite3-mod-spatialite ({exc})"
            ) from exc
        dbapi_conn.enable_load_extension(False)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")  # big imports: index pages stay in memory
        cur.execute("SELECT count(*) FROM sqlite_master WHERE name = 'spatial_ref_sys'")
        if cur.fetchone()[0] == 0:
            cur.execute("SELECT InitSpatialMetaData(1)")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # IMMEDIATE takes the write lock up front; read-only sessions ask for a plain BEGIN.
        mode = "BEGIN" if conn.get_execution_options().get("readonly") else "BEGIN IMMEDIATE"
        conn.exec_driver_sql(mode)


# One sessionmaker per engine and mode, kept on the engine: `sessionmaker()` defines a new Session subclass
# on every call, and SQLAlchemy builds that class's event dispatch on its first session — ≈ 1 ms per
# request when a factory was made per transaction.
_FACTORIES = "_geoplatform_session_factories"


def session_factory(engine: Engine, readonly: bool = False) -> sessionmaker[Session]:
    """The engine's sessionmaker; readonly sessions do not take SQLite's write lock."""
    made: dict[bool, sessionmaker[Session]] = engine.__dict__.setdefault(_FACTORIES, {})
    if readonly not in made:
        bind = engine.execution_options(readonly=True) if readonly else engine
        made[readonly] = sessionmaker(bind=bind, expire_on_commit=False, future=True)
    return made[readonly]


@contextmanager
def session_scope(engine: Engine, readonly: bool = False) -> Iterator[Session]:
    """One transaction: commit on success, roll back everything on any error."""
    session = session_factory(engine, readonly)()
    try:
        yield session
        if readonly:
            session.rollback()
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


BULK_INDEX_MIN_ROWS = 1000  # below this the per-row R*Tree trigger is as fast as one bulk fill


DEFERRED_TRIGGERS = ("ggi", "gii", "tmi")  # SpatiaLite's per-row insert triggers: type/SRID check, R*Tree, time stamp


@contextmanager
def deferred_spatial_index(conn: Connection, table: str, geom_cols: list[str], rows: int) -> Iterator[None]:
    """SpatiaLite: do the per-row geometry triggers' work once, set-based, after a bulk insert.

    The insert triggers (geometry type/SRID check, R*Tree, geometry_columns_time) are dropped, the body
    inserts, then the new rows are checked against the column's type and SRID in one statement (an
    IntegrityError, as the trigger would raise, when one does not fit), their bounding boxes go into
    the index in one statement and the triggers are put back — all inside the caller's transaction
    (SQLite DDL is transactional: a rollback or a crash restores the triggers). Rows must only be
    inserted in the body. PostGIS and small inserts: no-op.
    """
    if conn.dialect.name != "sqlite" or rows < BULK_INDEX_MIN_ROWS or not geom_cols:
        yield
        return
    saved: list[tuple[str, str, str]] = []  # (trigger, its SQL, geometry column)
    for col in geom_cols:
        for prefix in DEFERRED_TRIGGERS:
            name = f"{prefix}_{table}_{col}"
            sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                                       (name,)).scalar()
            if sql:
                saved.append((name, sql, col))
    if not saved:
        yield
        return
    start = conn.exec_driver_sql(f'SELECT coalesce(max(rowid), 0) FROM "{table}"').scalar()  # noqa: S608
    for name, _, _ in saved:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    counter = revcounter.defer_sqlite_insert_trigger(conn, table)  # the data revision's row counter, likewise
    try:
        yield
        for name, _, col in saved:
            _after_bulk_insert(conn, name[:3], table, col, start)
        if counter:
            revcounter.count_sqlite_bulk_insert(conn, table, start, counter)
    except BaseException:
        with suppress(Exception):  # the caller rolls back anyway; never mask its error
            for _, sql, _ in saved:
                conn.exec_driver_sql(sql)
            if counter:
                conn.exec_driver_sql(counter)
        raise
    for _, sql, _ in saved:
        conn.exec_driver_sql(sql)


def _after_bulk_insert(conn: Connection, trigger: str, table: str, col: str, start: int) -> None:
    """One deferred trigger's work for every row inserted after rowid `start`."""
    where = "lower(f_table_name) = lower(?) AND lower(f_geometry_column) = lower(?)"
    if trigger == "ggi":
        kind, srid = conn.exec_driver_sql(f"SELECT geometry_type, srid FROM geometry_columns WHERE {where}",  # noqa: S608
                                          (table, col)).one()
        bad = conn.exec_driver_sql(f'SELECT rowid FROM "{table}" WHERE rowid > ? '  # noqa: S608
                                   f'AND GeometryConstraints("{col}", ?, ?) IS NOT 1 LIMIT 1', (start, kind, srid)).scalar()
        if bad is not None:
            msg = f"{table}.{col} violates Geometry constraint [geom-type or SRID not allowed]"
            raise IntegrityError("GeometryConstraints", None, ValueError(msg))
    elif trigger == "gii":
        idx = f"idx_{table}_{col}"
        conn.exec_driver_sql(f'DELETE FROM "{idx}" WHERE pkid > ?', (start,))  # noqa: S608
        conn.exec_driver_sql(
            f'INSERT INTO "{idx}" (pkid, xmin, xmax, ymin, ymax) '  # noqa: S608
            f'SELECT rowid, MbrMinX("{col}"), MbrMaxX("{col}"), MbrMinY("{col}"), MbrMaxY("{col}") '
            f'FROM "{table}" WHERE rowid > ? AND MbrMinX("{col}") IS NOT NULL', (start,))
    else:
        conn.exec_driver_sql("UPDATE geometry_columns_time SET last_insert = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "  # noqa: S608
                             f"WHERE {where}", (table, col))
