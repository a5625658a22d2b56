"""The data revision's counters (`revision_counter`): triggers that keep each fingerprinted table's row count,
Σ version and done count as every write commits, and the reader `Context.data_revision()` uses.

Why: the fingerprint used to be `count(*)` and `sum(version)` over every versioned table on each read — a scan
of every table, 0.1–0.7 s at 10× on a busy machine, paid by the first request after each `revision_ttl`.
With the counters it is a read of a few rows; the values are the same numbers (`readcache.explain` compares
them with this process's own write deltas), kept by the database itself in the writing transaction, so a write
by the CLI, the API, another process or raw SQL is counted alike.

- SQLite: row triggers update the table's one counter row (SQLite has one writer at a time: no waiting added).
- PostgreSQL: statement triggers (transition tables) append one row of deltas per write statement — concurrent
  writers never wait on a shared counter row; `compact` folds a table's rows into one (readers call it when a
  table has gathered `COMPACT_AT` rows).

The table `revision_counter` (id, tbl, rows, vsum, done; migration 0011) is the database's bookkeeping, like
`alembic_version`, not data: it is left out of the models' metadata on purpose, so that what walks every data
table — the demo loader clearing them, backup and restore, checksums — never copies, restores or clears counters
that the triggers keep (a restored table is counted by its triggers as its rows go in).

A table's counters are used only while all of its triggers are installed (and enabled on PostgreSQL): a table
recreated by a later migration (SQLite batch mode drops its triggers) or never given triggers is counted by
scanning it, as before. `install` (re)creates the triggers and recounts; call it for a new versioned table.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

PREFIX = "gp_rev_"
COMPACT_AT = 64  # PostgreSQL: fold a table's delta rows when it has this many
# the triggers a counted table has: SQLite insert/update/delete; PostgreSQL the same plus truncate
N_TRIGGERS = {"sqlite": 3, "postgresql": 4}

# what a table's counters measure: "version" (rows and Σ version) or "done" (rows with a done_date)
_MEASURE_SQLITE = {
    "version": {
        "ins": ("", "rows = rows + 1, vsum = vsum + coalesce(NEW.version, 0)"),
        "upd": ("OF version", "vsum = vsum + coalesce(NEW.version, 0) - coalesce(OLD.version, 0)",
                "coalesce(NEW.version, 0) <> coalesce(OLD.version, 0)"),
        "del": ("", "rows = rows - 1, vsum = vsum - coalesce(OLD.version, 0)"),
    },
    "done": {
        "ins": ("", "rows = rows + 1, done = done + (NEW.done_date IS NOT NULL)"),
        "upd": ("OF done_date", "done = done + (NEW.done_date IS NOT NULL) - (OLD.done_date IS NOT NULL)",
                "(NEW.done_date IS NULL) <> (OLD.done_date IS NULL)"),
        "del": ("", "rows = rows - 1, done = done - (OLD.done_date IS NOT NULL)"),
    },
}

# PostgreSQL: one function per measure and event; TG_TABLE_NAME names the counter (plpgsql plans each table apart)
_PG_FUNCTIONS = {
    "version_ins": "INSERT INTO revision_counter (tbl, rows, vsum, done) SELECT TG_TABLE_NAME, count(*),"
                   " coalesce(sum(version), 0), 0 FROM gp_new HAVING count(*) > 0;",
    "version_upd": "INSERT INTO revision_counter (tbl, rows, vsum, done) SELECT TG_TABLE_NAME, 0, d, 0 FROM"
                   " (SELECT (SELECT coalesce(sum(version), 0) FROM gp_new)"
                   " - (SELECT coalesce(sum(version), 0) FROM gp_old) AS d) AS s WHERE d <> 0;",
    "version_del": "INSERT INTO revision_counter (tbl, rows, vsum, done) SELECT TG_TABLE_NAME, -count(*),"
                   " -coalesce(sum(version), 0), 0 FROM gp_old HAVING count(*) > 0;",
    "done_ins": "INSERT INTO revision_counter (tbl, rows, vsum, done) SELECT TG_TABLE_NAME, count(*), 0,"
                " count(done_date) FROM gp_new HAVING count(*) > 0;",
    "done_upd": "INSERT INTO revision_counter (tbl, rows, vsum, done) SELECT TG_TABLE_NAME, 0, 0, d FROM"
                " (SELECT (SELECT count(done_date) FROM gp_new) - (SELECT count(done_date) FROM gp_old) AS d) AS s"
                " WHERE d <> 0;",
    "done_del": "INSERT INTO revision_counter (tbl, rows, vsum, done) SELECT TG_TABLE_NAME, -count(*), 0,"
                " -count(done_date) FROM gp_old HAVING count(*) > 0;",
    "trunc": "DELETE FROM revision_counter WHERE tbl = TG_TABLE_NAME;"
             " INSERT INTO revision_counter (tbl, rows, vsum, done) VALUES (TG_TABLE_NAME, 0, 0, 0);",
}
_PG_EVENTS = {"ins": ("INSERT", "NEW TABLE AS gp_new"), "upd": ("UPDATE", "OLD TABLE AS gp_old NEW TABLE AS gp_new"),
              "del": ("DELETE", "OLD TABLE AS gp_old")}


def _dialect(conn: Any) -> str:
    return conn.dialect.name


def _check_name(table: str) -> str:
    if not table.replace("_", "").isalnum() or not table.isascii():  # identifiers come from the models, never a user
        raise ValueError(f"not a table name: {table!r}")
    return table


def install(conn: Any, tables: dict[str, str]) -> None:
    """(Re)create the triggers of `tables` ({table: "version" | "done"}) and recount their counters from the tables.

    Run it in the transaction of a migration (or any transaction that may write these tables: they are counted
    in it, then kept by the triggers).
    """
    dialect = _dialect(conn)
    uninstall(conn, tables, drop_functions=False)
    if dialect == "postgresql":
        for name, body in _PG_FUNCTIONS.items():
            conn.exec_driver_sql(f"CREATE OR REPLACE FUNCTION {PREFIX}{name}() RETURNS trigger LANGUAGE plpgsql AS"
                                 f" $$ BEGIN {body} RETURN NULL; END $$")
    for table, measure in tables.items():
        t = _check_name(table)
        if dialect == "postgresql":
            for event, (verb, refs) in _PG_EVENTS.items():
                conn.exec_driver_sql(f"CREATE TRIGGER {PREFIX}{event}_{t} AFTER {verb} ON {t} REFERENCING {refs}"
                                     f" FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}{measure}_{event}()")
            conn.exec_driver_sql(f"CREATE TRIGGER {PREFIX}trunc_{t} AFTER TRUNCATE ON {t}"
                                 f" FOR EACH STATEMENT EXECUTE FUNCTION {PREFIX}trunc()")
        else:
            for event, spec in _MEASURE_SQLITE[measure].items():
                verb = {"ins": "INSERT", "upd": "UPDATE", "del": "DELETE"}[event]
                when = f" WHEN {spec[2]}" if len(spec) > 2 else ""
                body = f"UPDATE revision_counter SET {spec[1]} WHERE tbl = '{t}'"  # noqa: S608
                conn.exec_driver_sql(f"CREATE TRIGGER {PREFIX}{event}_{t} AFTER {verb} {spec[0]} ON {t}{when}"
                                     f" BEGIN {body}; END")
        counts = ("count(*), coalesce(sum(version), 0), 0" if measure == "version"
                  else "count(*), 0, count(done_date)")
        conn.exec_driver_sql(f"DELETE FROM revision_counter WHERE tbl = '{t}'")  # noqa: S608
        conn.exec_driver_sql(f"INSERT INTO revision_counter (tbl, rows, vsum, done) SELECT '{t}', {counts}"  # noqa: S608
                             f" FROM {t}")


def uninstall(conn: Any, tables: Iterable[str], drop_functions: bool = True) -> None:
    """Drop the triggers (and counters) of `tables`; with `drop_functions`, PostgreSQL's trigger functions too."""
    dialect = _dialect(conn)
    for table in tables:
        t = _check_name(table)
        for event in ("ins", "upd", "del", "trunc"):
            if dialect == "postgresql":
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {PREFIX}{event}_{t} ON {t}")
            elif event != "trunc":
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {PREFIX}{event}_{t}")
        conn.exec_driver_sql(f"DELETE FROM revision_counter WHERE tbl = '{t}'")  # noqa: S608
    if dialect == "postgresql" and drop_functions:
        for name in _PG_FUNCTIONS:
            conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {PREFIX}{name}()")


_READ_SQL = {  # PREFIX and N_TRIGGERS written out (tests/core/test_revcounter.py checks them)
    "sqlite": (
        "SELECT r.tbl, sum(r.rows), sum(r.vsum), sum(r.done), count(*) FROM revision_counter AS r"
        " WHERE (SELECT count(*) FROM sqlite_master AS m WHERE m.type = 'trigger' AND m.tbl_name = r.tbl"
        " AND substr(m.name, 1, 7) = 'gp_rev_') = 3 GROUP BY r.tbl"
    ),
    "postgresql": (
        "SELECT r.tbl, sum(r.rows), sum(r.vsum), sum(r.done), count(*) FROM revision_counter AS r"
        " WHERE (SELECT count(*) FROM pg_trigger AS g WHERE g.tgrelid = to_regclass(r.tbl)"
        " AND starts_with(g.tgname, 'gp_rev_') AND g.tgenabled <> 'D') = 4 GROUP BY r.tbl"
    ),
}


def read(conn: Any) -> dict[str, tuple[int, int, int, int]]:
    """{table: (rows, Σ version, done, counter rows)} of the tables whose triggers are all in place ({} when the
    database has no counters: not migrated yet, or a database other than SQLite/PostgreSQL)."""
    sql = _READ_SQL.get(_dialect(conn))
    if sql is None:
        return {}
    return {r[0]: (int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in conn.exec_driver_sql(sql)}


def has_counters(conn: Any) -> bool:
    """Whether the database has the `revision_counter` table (migration 0011 applied)."""
    from sqlalchemy import inspect

    return inspect(conn).has_table("revision_counter")


def compact(engine: Any, tables: Iterable[str]) -> None:
    """PostgreSQL: fold each table's counter rows into one (in one statement per table: a concurrent writer's
    rows, not yet committed, are not seen and stay; a concurrent compaction's are skipped). Best effort: a
    database that refuses the write (read-only) keeps its rows."""
    import logging

    from sqlalchemy.exc import DBAPIError

    try:
        with engine.begin() as conn:
            for table in tables:
                t = _check_name(table)
                conn.exec_driver_sql(
                    "WITH gone AS (DELETE FROM revision_counter WHERE tbl = %(t)s RETURNING rows, vsum, done)"
                    " INSERT INTO revision_counter (tbl, rows, vsum, done)"
                    " SELECT %(t)s, sum(rows), sum(vsum), sum(done) FROM gone HAVING count(*) > 0", {"t": t})
    except DBAPIError as exc:  # pragma: no cover - a read-only database
        logging.getLogger(__name__).debug("revision counters not compacted: %s", exc)


def defer_sqlite_insert_trigger(conn: Any, table: str) -> str | None:
    """SQLite bulk insert: drop the table's insert counter trigger (its per-row update costs ≈ 6 µs a row) and
    return its SQL to put back with `count_sqlite_bulk_insert` (None: the table has no such trigger)."""
    name = f"{PREFIX}ins_{_check_name(table)}"
    sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)).scalar()
    if sql:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    return sql


def count_sqlite_bulk_insert(conn: Any, table: str, start: int, trigger_sql: str) -> None:
    """Count the rows inserted after rowid `start` as the dropped insert trigger would have, in one statement,
    and put the trigger back (both in the caller's transaction)."""
    t = _check_name(table)
    measure = next(m for m, spec in _MEASURE_SQLITE.items() if spec["ins"][1] in trigger_sql)
    new = f'FROM "{t}" WHERE rowid > ?'
    added = f"(SELECT coalesce(sum(version), 0) {new})" if measure == "version" else f"(SELECT count(done_date) {new})"
    column = "vsum" if measure == "version" else "done"
    conn.exec_driver_sql(f"UPDATE revision_counter SET rows = rows + (SELECT count(*) {new}),"  # noqa: S608
                         f" {column} = {column} + {added} WHERE tbl = ?", (start, start, t))
    conn.exec_driver_sql(trigger_sql)
