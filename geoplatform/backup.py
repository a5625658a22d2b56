"""Backup and restore: a portable JSON dump of every table, read in one transaction, restored in one.

Format (optionally gzip-compressed when the file name ends in .gz):
{"format": "geoplatform-backup", "format_version": 1, "schema_heads": [...], "created_at": ...,
 "tables": {name: {"columns": [...], "rows": [[...], ...]}}}
Geometries are hex WKB (EPSG:4326), dates/datetimes ISO text, JSON columns as JSON. The same
file restores on SpatiaLite and on PostGIS.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from geoalchemy2 import Geometry
from geoalchemy2.shape import from_shape
from sqlalchemy import Date, DateTime, delete, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.schema import Table

from geoplatform import models as m
from geoplatform.db import is_sqlite
from geoplatform.i18n import MessageError, add_messages
from geoplatform.models import SRID, Base
from geoplatform.private_files import write_private
from geoplatform.textpolicy import NUL, has_nul

FORMAT = "geoplatform-backup"
FORMAT_VERSION = 1


add_messages({
    "en": {
        "backup.restore.not_empty": "the database holds {rows} rows ({tables}): `restore` replaces them only with "
                                    "--replace (their copy is written first); nothing was restored",
        "backup.copying": "writing the content it replaces to {path} first:",
        "backup.restoring": "restoring {file}:",
    },
    "zh": {
        "backup.restore.not_empty": "数据库中已有 {rows} 行数据（{tables}）：只有加 --replace 才会替换"
                                    "（替换前先写出它们的副本）；本次未恢复任何数据",
        "backup.copying": "先把将被替换的内容写入 {path}：",
        "backup.restoring": "正在恢复 {file}：",
    },
})


class BackupError(MessageError):
    """The backup file is unreadable, of another format or of another schema, or holds what no database may
    (a catalogue key + params, or a plain English text)."""


def tables() -> list[Table]:
    """Every table of the data model in dependency order (parents first)."""
    return list(Base.metadata.sorted_tables)


def _encode(value: Any, column: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, Geometry):
        return bytes(value).hex()
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _decode(value: Any, column: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, Geometry):
        return from_shape(shapely.from_wkb(bytes.fromhex(value)), srid=SRID, extended=True)
    if isinstance(column.type, DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return dt.date.fromisoformat(value)
    return value


def _select(table: Table) -> Any:
    cols = [func.ST_AsBinary(c).label(c.name) if isinstance(c.type, Geometry) else c for c in table.columns]
    return select(*cols).order_by(*table.primary_key.columns)


Progress = Callable[[str, int], None]  # (table, rows) after each table with rows: a long backup or restore says so


def dump_connection(conn: Connection, progress: Progress | None = None) -> dict[str, Any]:
    """Every table's rows read on one connection (inside the caller's transaction)."""
    out: dict[str, Any] = {}
    for table in tables():
        rows = conn.execute(_select(table)).all()
        if progress is not None and rows:
            progress(table.name, len(rows))
        cols = list(table.columns)
        out[table.name] = {"columns": [c.name for c in cols],
                           "rows": [[_encode(v, c) for v, c in zip(row, cols, strict=True)] for row in rows]}
    return out


def _snapshot(engine: Engine, progress: Progress | None = None) -> tuple[dict[str, Any], list[str]]:
    from geoplatform import schema

    heads = sorted(schema.current_heads(engine))
    if is_sqlite(engine):
        # a plain BEGIN (no write lock): in WAL mode the reads share one snapshot
        with engine.execution_options(readonly=True).connect() as conn, conn.begin():
            return dump_connection(conn, progress), heads
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        conn.execute(text("SET TRANSACTION READ ONLY"))
        # every table locked before the snapshot (its first read): TRUNCATE and the ALTER TABLE forms that rewrite a
        # table are not MVCC-safe (a snapshot older than them reads the new table, not the rows it saw); the app runs
        # neither on its own (io/bulk.py), but a schema upgrade or another tool might — they wait for the backup now
        names = ", ".join(conn.dialect.identifier_preparer.format_table(t) for t in tables())
        conn.execute(text(f"LOCK TABLE {names} IN ACCESS SHARE MODE"))
        return dump_connection(conn, progress), heads


def backup(engine: Engine, path: str | Path, progress: Progress | None = None) -> dict[str, int]:
    """Write a consistent copy of the whole database to `path`; returns rows per table."""
    data, heads = _snapshot(engine, progress)
    return _write(path, data, heads)


def _write(path: str | Path, data: dict[str, Any], heads: list[str]) -> dict[str, int]:
    """Write tables read by dump_connection as a backup file (gzip when `path` ends in .gz); returns rows per table."""
    doc = {"format": FORMAT, "format_version": FORMAT_VERSION, "schema_heads": heads,
           "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "tables": data}
    payload = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    write_private(tmp, gzip.compress(payload) if path.suffix == ".gz" else payload)  # 0600: it holds the hashes
    tmp.replace(path)  # never leave a half-written backup under the final name
    return {name: len(t["rows"]) for name, t in data.items()}


def read_backup(path: str | Path) -> dict[str, Any]:
    """Load and check a backup file (BackupError when unusable)."""
    try:
        raw = Path(path).read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        doc = json.loads(raw)
    except (OSError, ValueError, EOFError) as exc:
        raise BackupError(f"{path}: not a readable backup ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("tables"), dict):
        raise BackupError(f"{path}: not a geoplatform backup")
    if doc.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{path}: backup format version {doc.get('format_version')} is not supported")
    known = {t.name: t for t in tables()}
    for name, content in doc["tables"].items():
        if name not in known:
            raise BackupError(f"{path}: unknown table {name!r} (backup of another schema version?)")
        missing = set(content.get("columns", [])) - set(known[name].columns.keys())
        if missing:
            raise BackupError(f"{path}: table {name}: unknown columns {sorted(missing)}")
    return doc


def _self_references(table: Table) -> list[str]:
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]


@dataclass
class Restored:
    """What a restore did: rows per table written, and the rows it replaced (saved to `kept`, when any)."""

    rows: dict[str, int]
    replaced: dict[str, int]
    kept: Path | None


def restore(engine: Engine, path: str | Path, replace: bool = False, keep: str | Path | None = None,
            actor: str = "system", progress: Progress | None = None,
            copy_progress: Progress | None = None) -> Restored:
    """Replace the whole database content by the backup's, in one transaction.

    A database holding rows is refused (`backup.restore.not_empty`, nothing changed) unless `replace`; its content
    is then first written to the backup file `keep` (when given) inside the same transaction, with every table
    locked against writers: the copy holds exactly what was replaced. The restore is audited (action `restore`,
    by `actor`) after the restored rows. `progress`: each table written; `copy_progress`: each table of the copy.
    """
    from geoplatform import schema

    doc = read_backup(path)
    heads = sorted(schema.current_heads(engine))
    if doc.get("schema_heads") and heads and doc["schema_heads"] != heads:
        raise BackupError(f"{path}: backup schema {doc['schema_heads']} differs from the database's {heads}: restore "
                          "it with the release of its schema into a new database, then run this release's `geoplatform "
                          "init` on that database to upgrade it (docs/deploy.md); nothing was restored")
    _refuse_nul(doc, Path(path).name)  # before anything is deleted: on either database, nothing half-written
    try:
        return _replace_content(engine, doc, heads, replace, None if keep is None else Path(keep), actor,
                                Path(path).name, progress, copy_progress)
    except BackupError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, SQLAlchemyError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]
        raise BackupError(f"{path}: restore failed, database unchanged ({type(exc).__name__}: {reason})") from exc


def _refuse_nul(doc: dict[str, Any], file: str) -> None:
    """One text policy for both databases (`geoplatform.textpolicy`): a NUL character in any text (a JSON column's
    texts and keys included) is refused, naming the table, the row (its key) and the column."""
    known = {t.name: t for t in tables()}
    for name, content in doc["tables"].items():
        names = list(content.get("columns", []))
        keys = [names.index(c.name) for c in known[name].primary_key.columns if c.name in names]
        for n, row in enumerate(content.get("rows", []), start=1):
            for column, value in zip(names, row, strict=False):
                if (NUL in value) if type(value) is str else isinstance(value, dict | list) and has_nul(value):
                    key = ", ".join(f"{names[k]}={row[k]!r}" for k in keys if not has_nul(row[k]))
                    raise BackupError("backup.nul", file=file, table=name, row=n, pk=key or "?", column=column)


def _replace_content(engine: Engine, doc: dict[str, Any], heads: list[str], replace: bool, keep: Path | None,
                     actor: str, file: str, progress: Progress | None = None,
                     copy_progress: Progress | None = None) -> Restored:
    """restore()'s transaction; a copy it wrote (`keep`) is removed again when the restore fails (nothing replaced)."""
    fresh = keep is not None and not keep.exists()  # keep_copy never writes over a file: only a new one is ours
    try:
        return _replace_in_transaction(engine, doc, heads, replace, keep, actor, file, progress, copy_progress)
    except BaseException:
        if fresh:
            keep.unlink(missing_ok=True)
        raise


def _replace_in_transaction(engine: Engine, doc: dict[str, Any], heads: list[str], replace: bool, keep: Path | None,
                            actor: str, file: str, progress: Progress | None,
                            copy_progress: Progress | None) -> Restored:
    counts: dict[str, int] = {}
    with engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE, no other writer from here on
        hold_writers(conn)
        held = {t.name: n for t in tables() if (n := conn.execute(select(func.count()).select_from(t)).scalar())}
        if held and not replace:
            most = sorted(held.items(), key=lambda kv: -kv[1])
            listed = ", ".join(f"{name} {n:,}" for name, n in most[:6]) + (f", … {len(most) - 6} more tables"
                                                                            if len(most) > 6 else "")
            raise BackupError("backup.restore.not_empty", rows=f"{sum(held.values()):,}", tables=listed)
        if held and keep is not None:
            keep_copy(conn, keep, heads, copy_progress)  # before anything is deleted
        for table in reversed(tables()):
            for col in _self_references(table):
                conn.execute(update(table).values({col: None}))
            conn.execute(delete(table))
        for table in tables():
            content = doc["tables"].get(table.name, {"columns": [], "rows": []})
            names = content["columns"]
            cols = [table.columns[n] for n in names]
            deferred = [n for n in _self_references(table) if n in names]
            records = [{n: _decode(v, c) for n, v, c in zip(names, row, cols, strict=True)} for row in content["rows"]]
            if records:
                first = [{k: (None if k in deferred else v) for k, v in r.items()} for r in records]
                for i in range(0, len(first), 5000):
                    conn.execute(insert(table), first[i:i + 5000])
                pk = list(table.primary_key.columns)[0]
                for r in records:
                    vals = {k: r[k] for k in deferred if r[k] is not None}
                    if vals:  # keep columns with an onupdate default (updated_at) as they were
                        vals.update({c.name: r[c.name] for c in table.columns if c.onupdate is not None and c.name in r})
                        conn.execute(update(table).where(pk == r[pk.name]).values(vals))
            counts[table.name] = len(records)
            if progress is not None and records:
                progress(table.name, len(records))
        if not is_sqlite(engine):
            _reset_sequences(conn)
        conn.execute(insert(m.AuditEvent.__table__).values(
            at=m.utcnow(), user_name=actor[:100], action="restore", entity="database", outcome="ok",
            before={"rows": sum(held.values()), "kept": None if keep is None or not held else str(keep)},
            after={"file": file, "rows": sum(counts.values())}))
    return Restored(counts, held, keep if held else None)


def hold_writers(conn: Connection) -> None:
    """PostgreSQL: lock every table against other writers until the caller's transaction ends (readers go on);
    SQLite's write transactions (BEGIN IMMEDIATE, geoplatform.db) already exclude them."""
    if conn.dialect.name == "postgresql":
        names = ", ".join(conn.dialect.identifier_preparer.format_table(t) for t in tables())
        conn.execute(text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))


def keep_copy(conn: Connection, path: Path, heads: list[str], progress: Progress | None = None) -> None:
    """Before a command replaces the database's content in the transaction of `conn`: write that content to the new
    backup file `path` (BackupError, nothing written, when it exists or cannot be written). Call hold_writers first;
    `progress`: each table read."""
    if path.exists():  # never written over
        raise BackupError(f"{path}: already exists (the copy of the database's content goes to a new file); "
                          "nothing was replaced")
    try:
        _write(path, dump_connection(conn, progress), heads)
    except OSError as exc:
        raise BackupError(f"{path}: cannot write the copy of the database's content ({exc}); nothing was "
                          "replaced") from exc


def new_copy_path(folder: Path, prefix: str) -> Path:
    """A file name not taken yet in `folder`: `<prefix>-<UTC time>[-n].json.gz`."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    names = (f"{prefix}-{stamp}{'' if n == 0 else f'-{n}'}.json.gz" for n in range(1000))
    return next(p for name in names if not (p := folder / name).exists())


def _reset_sequences(conn: Connection) -> None:
    """Move PostgreSQL serial sequences past the restored ids."""
    for table in tables():
        for col in table.primary_key.columns:
            if col.autoincrement is True or (col.autoincrement == "auto" and col.type.python_type is int):
                seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                   {"t": table.name, "c": col.name}).scalar()
                if seq:
                    conn.execute(text(f"SELECT setval('{seq}', COALESCE((SELECT MAX({col.name}) FROM "  # noqa: S608
                                      f"{table.name}), 0) + 1, false)"))


def checksum(engine: Engine) -> str:
    """SHA-256 over the content of every table (same content → same value on either backend)."""
    data, _ = _snapshot(engine)
    h = hashlib.sha256()
    for name in sorted(data):
        h.update(name.encode())
        h.update(json.dumps(data[name], sort_keys=True, ensure_ascii=False, default=str).encode())
    return h.hexdigest()


def table_checksums(engine: Engine) -> dict[str, str]:
    """Per-table SHA-256 of the content (to say which table differs)."""
    data, _ = _snapshot(engine)
    return {name: hashlib.sha256(json.dumps(t, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
            for name, t in data.items()}

