"""PostGIS: the references of new rows checked set-wise under a lock, and a large import's per-row key and index work
done once for the whole table — with the database's own guarantees kept.

PostgreSQL (15, and later releases) checks a foreign key once per inserted row — an AFTER trigger per row and key,
each a `SELECT … FOR KEY SHARE` on the referenced table — and maintains every index per row; a role that is not a
superuser cannot switch those triggers off, and a staged `INSERT … SELECT` fires them all the same. So two paths:

- **Every import** (`lock_references`): the keys the new rows name are locked in one statement per foreign key
  (`SELECT … FOR KEY SHARE`): a concurrent transaction can no longer delete (or re-key) them until the import ends,
  and a key that is gone — deleted by someone else after the checks — is reported naming the file, row and column
  (`import.reference.gone`) before anything is written. The per-row checks still run (the key stays declared).
- **A large import** (`bulk_path`: at least `BULK_MIN_ROWS` new rows making at least `BULK_MIN_SHARE` of the table
  afterwards): the table and the tables it references are locked ACCESS EXCLUSIVE (waiting at most `BULK_LOCK_WAIT`,
  else the per-row path is taken), its foreign keys, non-unique indexes and — unless another table's foreign key
  rests on it — its primary key are dropped, the rows written, the primary key added back (uniqueness checked in
  one sorted build), the indexes built once (sorted builds) and the foreign keys added back, which makes
  PostgreSQL validate every row of the table against the referenced ones in one anti-join. All inside the import's
  transaction: no other transaction ever sees the table without its keys (DDL is transactional), a failure rolls
  everything back, and the catalogue ends as it began (same names, same definitions). What it gives up: while the
  rows are written (≈ 0.1–0.3 s per 10,000 buildings), other sessions' reads of the table and of the referenced
  tables wait. It needs the importing role to own the table (else the per-row path is taken). It never truncates,
  not even a table with no live row: `TRUNCATE` is not MVCC-safe — a transaction whose snapshot is older than it
  (`pg_dump` between taking its snapshot and locking the table, any REPEATABLE READ reader) would read the table
  empty, not the rows it should still see, and write a backup without them. Rows imported into a table whose rows
  were all deleted go after the dead ones until a vacuum reclaims them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DBAPIError

from geoplatform.io.references import SEP, plain_texts
from geoplatform.io.report import ImportFailed

BULK_MIN_ROWS = 2000  # [D] new rows from which the set-wise path is tried (below it the per-row work is cheap)
BULK_MIN_SHARE = 0.5  # [D] …and the new rows' share of the table afterwards (indexes are rebuilt for the whole table)
BULK_LOCK_WAIT = "500ms"  # [D] longest wait for the exclusive locks (longer: the per-row path, nobody blocked longer)


@dataclass(frozen=True)
class ForeignKey:
    """One foreign key of the table written: its name, definition and (single-column keys) the columns."""

    name: str
    definition: str
    referenced: str  # the referenced table (as regclass text: valid SQL as it is)
    column: str | None  # the referencing column (None for a multi-column key: checked by PostgreSQL only)
    ref_column: str | None


def foreign_keys(conn: Any, table: str) -> list[ForeignKey]:
    """The table's foreign keys, from the catalogue."""
    rows = conn.exec_driver_sql(
        "SELECT c.conname, pg_get_constraintdef(c.oid), c.confrelid::regclass::text, "
        "CASE WHEN cardinality(c.conkey) = 1 THEN (SELECT attname FROM pg_attribute "
        "  WHERE attrelid = c.conrelid AND attnum = c.conkey[1]) END, "
        "CASE WHEN cardinality(c.confkey) = 1 THEN (SELECT attname FROM pg_attribute "
        "  WHERE attrelid = c.confrelid AND attnum = c.confkey[1]) END "
        "FROM pg_constraint c WHERE c.conrelid = %(t)s::regclass AND c.contype = 'f' ORDER BY c.conname",
        {"t": _quote(table)}).all()
    return [ForeignKey(*r) for r in rows]


def lock_references(job: Any, conn: Any, columns: dict[str, list[Any]], fks: list[ForeignKey]) -> None:
    """Lock the referenced keys the rows written name (FOR KEY SHARE, one statement per key); a key no longer
    there is an error naming file, row and column, and the import fails before anything is written.

    `columns[c][i]` is the value of column c in row i of the file (`job.rows` order)."""
    gone_rows: list[tuple[int, str, Any, str]] = []
    for fk in fks:
        if fk.column is None or fk.column not in columns or fk.referenced == job.model.__table__.name:
            continue  # multi-column or self-referencing keys: PostgreSQL's own check (it names the key)
        values = columns[fk.column]
        wanted = sorted({v for v in values if v is not None})
        if not wanted:
            continue
        # texts travel as one SEP-joined text split by the server (psycopg's list dumper is Python: ≈ 10 µs a key)
        listed, bound = ("string_to_array(%(v)s, %(sep)s)", {"v": SEP.join(wanted), "sep": SEP}) \
            if plain_texts(wanted) else ("%(v)s", {"v": wanted})
        found = {r[0] for r in conn.exec_driver_sql(
            f"SELECT {_quote(fk.ref_column)} FROM {fk.referenced} "  # noqa: S608  (catalogue names, quoted)
            f"WHERE {_quote(fk.ref_column)} = ANY({listed}) FOR KEY SHARE", bound)}
        if len(found) == len(wanted):
            continue
        for i, v in enumerate(values):
            if v is not None and v not in found:
                gone_rows.append((i, fk.column, v, fk.referenced))
    if not gone_rows:
        return
    for i, column, value, referenced in gone_rows:
        job.r.error(job.t.where(i, job.col_of.get(column, column)), "import.reference.gone", value=value,
                    table=referenced)
    raise ImportFailed(job.r)


def bulk_wanted(conn: Any, table: str, new_rows: int) -> bool:
    """Whether the set-wise path pays: enough new rows, and they are most of the table afterwards."""
    if new_rows < BULK_MIN_ROWS:
        return False
    stored = conn.exec_driver_sql(f"SELECT count(*) FROM {_quote(table)}").scalar()  # noqa: S608
    return new_rows >= BULK_MIN_SHARE * (stored + new_rows)


@contextmanager
def bulk_path(conn: Any, table: str, fks: list[ForeignKey]) -> Iterator[bool]:
    """Yield True with the table's foreign keys, non-unique indexes and (when no other table's key rests on it) primary
    key dropped (the caller writes the rows), then put them back (keys validated set-wise, the primary key's uniqueness
    in its index build); yield False (nothing changed) when the locks or the DDL are refused."""
    tables = [_quote(table), *dict.fromkeys(fk.referenced for fk in fks if fk.referenced != table)]
    conn.exec_driver_sql("SAVEPOINT geoplatform_bulk")
    try:
        before = conn.exec_driver_sql("SELECT current_setting('lock_timeout')").scalar()
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{BULK_LOCK_WAIT}'")
        conn.exec_driver_sql(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
        conn.exec_driver_sql("SELECT set_config('lock_timeout', %(v)s, true)", {"v": before})
        indexes = conn.exec_driver_sql(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = %(t)s::regclass AND NOT i.indisunique AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
            {"t": _quote(table)}).all()
        # the primary key too, unless another table's foreign key needs its index: re-added, it is checked in one
        # sorted build instead of one probe per row (more after a large delete: each probe visits the dead entries)
        pk = conn.exec_driver_sql(
            "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c WHERE c.conrelid = %(t)s::regclass "
            "AND c.contype = 'p' AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' "
            "AND f.conindid = c.conindid)", {"t": _quote(table)}).first()
        for fk in fks:
            conn.exec_driver_sql(f"ALTER TABLE {_quote(table)} DROP CONSTRAINT {_quote(fk.name)}")
        if pk is not None:
            conn.exec_driver_sql(f"ALTER TABLE {_quote(table)} DROP CONSTRAINT {_quote(pk[0])}")
        for name, _ in indexes:
            conn.exec_driver_sql(f"DROP INDEX {name}")
    except DBAPIError:  # lock not granted in time, a deadlock, not the table's owner: the per-row path
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT geoplatform_bulk")
        conn.exec_driver_sql("RELEASE SAVEPOINT geoplatform_bulk")
        yield False
        return
    conn.exec_driver_sql("RELEASE SAVEPOINT geoplatform_bulk")
    yield True
    if pk is not None:
        conn.exec_driver_sql(f"ALTER TABLE {_quote(table)} ADD CONSTRAINT {_quote(pk[0])} {pk[1]}")
    for _, definition in indexes:
        conn.exec_driver_sql(definition)
    for fk in fks:  # validates every row against the referenced table in one query (PostgreSQL's RI_Initial_Check)
        conn.exec_driver_sql(f"ALTER TABLE {_quote(table)} ADD CONSTRAINT {_quote(fk.name)} {fk.definition}")


def _quote(name: str) -> str:
    """A catalogue name as an SQL identifier (already-quoted or schema-qualified regclass text kept as is)."""
    if name.startswith('"') or "." in name:
        return name
    return '"' + name.replace('"', '""') + '"'
