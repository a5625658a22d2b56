"""Reads that survive writes (issue 25): single-flight, stale-while-revalidate, read-your-writes, and what a
committed write touched.

Framework-free pieces the Context builds its caches from:

- `SingleFlight`: concurrent calls for one key run the function once; the others wait for its answer (or,
  when they may use the previous answer, do not wait at all).
- The *read floor* (`READ_FLOOR`): the sequence number of the last write committed by the caller's own session.
  A read is never answered from a cache built before that write (read-your-writes); everybody else may be
  answered from the previous revision while one request recomputes.
- `ChangeRecorder`: installed on a writing session, it records which fingerprinted tables a transaction wrote,
  which compounds those rows belong to, and what the write did to each table's fingerprint (Δ row count,
  Δ Σ version, new ids of append-only tables). `explain()` compares that with the fingerprint the database
  shows afterwards: when this process's writes account for every difference, only their compounds need
  recomputing; otherwise (another process wrote, raw SQL, a row whose compound is not known) everything does.
- `AttributeInputs`: what a plugin's `compute_compound_attributes` reads (hook `compound_attribute_inputs`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

# ------------------------------------------------------------------------------------------ read-your-writes

READ_FLOOR: ContextVar[int] = ContextVar("geoplatform_read_floor", default=0)


def read_floor() -> int:
    """The write sequence number the current caller's reads must include (0: any revision will do)."""
    return READ_FLOOR.get()


def raise_read_floor(seq: int) -> None:
    """From now on this caller's reads include write `seq` (after its own committed write)."""
    if seq > READ_FLOOR.get():
        READ_FLOOR.set(seq)


def set_read_floor(seq: int) -> None:
    """Start a request: its reads include the session's last write `seq` (and nothing else is required)."""
    READ_FLOOR.set(seq)


@contextmanager
def reading_after(seq: int) -> Iterator[None]:
    """Within the block, reads include write `seq` (a session that wrote it)."""
    token = READ_FLOOR.set(max(seq, READ_FLOOR.get()))
    try:
        yield
    finally:
        READ_FLOOR.reset(token)


# ------------------------------------------------------------------------------------------ single-flight

MISSING: Any = object()  # SingleFlight.do(wait=False) while another caller computes


@dataclass
class _Call:
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None


class SingleFlight:
    """At most one running computation per key; concurrent callers of the same key share its answer.

    `on_wait(key)` (tests) is called when a caller starts waiting for another one's computation.
    """

    def __init__(self, on_wait: Callable[[Any], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._calls: dict[Any, _Call] = {}
        self.on_wait = on_wait

    def running(self, key: Any) -> bool:
        """Whether a computation of `key` is in progress."""
        with self._lock:
            return key in self._calls

    def do(self, key: Any, fn: Callable[[], Any], wait: bool = True) -> Any:
        """`fn()`, unless a computation of `key` runs: then its answer (its exception re-raised), or MISSING
        at once when `wait` is False."""
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if leader:
                call = self._calls[key] = _Call()
        if not leader:
            if not wait:
                return MISSING
            if self.on_wait is not None:
                self.on_wait(key)
            call.done.wait()
            if call.error is not None:
                raise call.error
            return call.value
        try:
            call.value = fn()
        except BaseException as exc:
            call.error = exc
            raise
        finally:
            with self._lock:
                del self._calls[key]
            call.done.set()
        return call.value


# ------------------------------------------------------------------------------------------ plugin inputs


@dataclass(frozen=True)
class AttributeInputs:
    """What a plugin's compound attributes are computed from.

    `tables`: the fingerprinted tables read (None: any — recomputed after every write to plugin data).
    `per_compound`: a compound's row depends only on its own records (and the compound row), so after a write
    only the compounds the write touched are recomputed; otherwise the plugin recomputes the whole district.
    """

    tables: frozenset[str] | None = None
    per_compound: bool = False

    @classmethod
    def of(cls, *tables: str, per_compound: bool = False) -> AttributeInputs:
        """AttributeInputs.of("handover", "ledger_item", per_compound=True)."""
        return cls(frozenset(tables), per_compound)

    def reads(self, tables: Iterable[str]) -> bool:
        """Whether a write to any of `tables` can change these attributes."""
        return self.tables is None or bool(self.tables.intersection(tables))


DISTRICT_WIDE = AttributeInputs()  # plugins that declare nothing


# ------------------------------------------------------------------------------------------ what a write touched


@dataclass(frozen=True)
class Layout:
    """Which table and measure each position of `Context.data_revision()` holds."""

    parts: tuple[tuple[str, str], ...]  # (table, "count" | "sum" | "max" | "done")
    versioned: frozenset[str]
    append_only: frozenset[str]

    @classmethod
    def current(cls) -> Layout:
        """The layout for the registered models (geoplatform.models.VERSIONED / APPEND_ONLY)."""
        from geoplatform.models import APPEND_ONLY, VERSIONED, LedgerItem

        parts: list[tuple[str, str]] = []
        for model in VERSIONED:
            parts += [(model.__table__.name, "count"), (model.__table__.name, "sum")]
        parts += [(model.__table__.name, "max") for model in APPEND_ONLY]
        parts.append((LedgerItem.__table__.name, "done"))
        return cls(tuple(parts), frozenset(m.__table__.name for m in VERSIONED),
                   frozenset(m.__table__.name for m in APPEND_ONLY))

    @property
    def tables(self) -> frozenset[str]:
        """Every fingerprinted table."""
        return self.versioned | self.append_only

    def changed_tables(self, old: tuple[Any, ...], new: tuple[Any, ...]) -> set[str]:
        """Tables whose part of the fingerprint differs (every table when the layouts differ)."""
        if len(old) != len(new) or len(new) != len(self.parts):
            return set(self.tables)
        return {table for (table, _), a, b in zip(self.parts, old, new, strict=True) if a != b}


@dataclass(frozen=True)
class Change:
    """One committed write of this process (see ChangeRecorder)."""

    seq: int
    tables: frozenset[str]
    compounds: frozenset[str] | None  # None: some row's compound is not known
    deltas: dict[str, tuple[int, int]]  # versioned table → (Δ rows, Δ Σ version)
    new_ids: dict[str, int]  # append-only table → the largest id inserted
    raw: bool = False  # DML outside the ORM's flush (its effect on the fingerprint is not accounted)
    streets: frozenset[str] = frozenset()  # street codes of the rows written (before and after)


def explain(layout: Layout, old: tuple[Any, ...], new: tuple[Any, ...], changes: Iterable[Change]
            ) -> tuple[set[str], frozenset[str] | None]:
    """(tables touched, compounds touched) from fingerprint `old` to `new`.

    The compounds are None unless `changes` (this process's writes in between) account for every difference
    of the fingerprint and each names its compounds — another process's write or raw SQL make it None.
    """
    changes = list(changes)
    tables = layout.changed_tables(old, new) | {t for c in changes for t in c.tables if t in layout.tables}
    if len(old) != len(new) or len(new) != len(layout.parts) or any(c.compounds is None or c.raw for c in changes):
        return tables, None
    pos = {part: i for i, part in enumerate(layout.parts)}
    for table in tables:
        if table in layout.versioned:
            d_rows = sum(c.deltas.get(table, (0, 0))[0] for c in changes)
            d_sum = sum(c.deltas.get(table, (0, 0))[1] for c in changes)
            seen = (int(new[pos[(table, "count")]]) - int(old[pos[(table, "count")]]),
                    int(new[pos[(table, "sum")]]) - int(old[pos[(table, "sum")]]))
            if seen != (d_rows, d_sum):
                return tables, None
        if table in layout.append_only and old[pos[(table, "max")]] != new[pos[(table, "max")]]:
            ids = [c.new_ids[table] for c in changes if table in c.new_ids]
            if not ids or max(ids) != int(new[pos[(table, "max")]]):
                return tables, None
        if (table, "done") in pos and old[pos[(table, "done")]] != new[pos[(table, "done")]]:
            if not any(table in c.tables for c in changes):
                return tables, None
    return tables, frozenset().union(*(c.compounds for c in changes))


_DML = re.compile(r'^\s*(?:insert\s+(?:or\s+\w+\s+)?into|update|delete\s+from)\s+["`]?(\w+)', re.IGNORECASE)


def dml_table(statement: str) -> str | None:
    """The table an INSERT / UPDATE / DELETE statement writes (None for anything else)."""
    found = _DML.match(statement)
    return found.group(1).lower() if found else None


class ChangeRecorder:
    """Collects what one writing session does to the fingerprinted tables (attach it before the first write).

    ORM flushes give the rows, their compounds and their effect on the fingerprint; any other INSERT / UPDATE /
    DELETE on a fingerprinted table (seen at the connection) marks the change `raw` (not accounted).
    """

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.tables: set[str] = set()
        self.compounds: set[str] | None = set()
        self.deltas: dict[str, list[int]] = {}
        self.new_ids: dict[str, int] = {}
        self.raw = False
        self.streets: set[str] = set()
        self._before: dict[int, tuple[int | None, set[str] | None]] = {}
        self._flushing = False
        self._connections: list[Any] = []

    # -- session events
    def attach(self, session: Any) -> None:
        """Listen to the session's flushes and remember the recorder on the connections it uses."""
        from sqlalchemy import event

        event.listen(session, "before_flush", self._before_flush)
        event.listen(session, "after_flush", self._after_flush)
        event.listen(session, "after_begin", self._after_begin)

    def _after_begin(self, session: Any, transaction: Any, connection: Any) -> None:
        info = connection.info  # the pooled connection's own dict: still reachable after the session closes
        info["geoplatform.recorder"] = self
        self._connections.append(info)

    def detach(self) -> None:
        """Forget this recorder on the session's connections (they go back to the pool)."""
        for info in self._connections:
            if info.get("geoplatform.recorder") is self:
                info.pop("geoplatform.recorder", None)
        self._connections.clear()

    def statement(self, statement: str) -> None:
        """A statement run on a connection of the session (engine event): DML outside a flush is raw."""
        table = dml_table(statement)
        if table is None or table not in self.layout.tables:
            return
        self.tables.add(table)
        if not self._flushing:
            self.raw = True

    def _before_flush(self, session: Any, flush_context: Any, instances: Any) -> None:
        from sqlalchemy import inspect

        self._flushing = True
        with session.no_autoflush:
            for obj in list(session.dirty) + list(session.deleted):
                table = getattr(getattr(obj, "__table__", None), "name", None)
                if table not in self.layout.tables:
                    continue
                old_version = getattr(obj, "version", None) if table in self.layout.versioned else None
                before = self._compounds_of(session, obj)
                hist = inspect(obj).attrs.compound_id.history if hasattr(obj, "compound_id") else None
                if before is not None and hist is not None:
                    before |= {str(v) for v in hist.deleted if v is not None}
                if hasattr(obj, "street_code"):
                    street = inspect(obj).attrs.street_code.history
                    self.streets |= {str(v) for v in (*street.deleted, *street.unchanged) if v is not None}
                self._before[id(obj)] = (old_version, before)

    def _after_flush(self, session: Any, flush_context: Any) -> None:
        try:
            for obj in session.new:
                self._row(session, obj, rows=1)
            for obj in session.dirty:
                self._row(session, obj, rows=0)
            for obj in session.deleted:
                self._row(session, obj, rows=-1)
        finally:
            self._before.clear()
            self._flushing = False

    def _row(self, session: Any, obj: Any, rows: int) -> None:
        table = getattr(getattr(obj, "__table__", None), "name", None)
        if table not in self.layout.tables:
            return
        old_version, before = self._before.get(id(obj), (None, set()))
        if table in self.layout.versioned:
            version = getattr(obj, "version", None) or 0
            if rows == 1:
                d_sum = version
            elif rows == -1:
                d_sum = -(old_version or 0)
            else:
                d_sum = version - (old_version if old_version is not None else version)
            if rows == 0 and d_sum == 0:
                return  # not written (no column changed)
            acc = self.deltas.setdefault(table, [0, 0])
            acc[0] += rows
            acc[1] += d_sum
        elif rows == 1 and getattr(obj, "id", None) is not None:
            self.new_ids[table] = max(self.new_ids.get(table, 0), int(obj.id))
        self.tables.add(table)
        if rows != -1 and getattr(obj, "street_code", None) is not None:
            self.streets.add(str(obj.street_code))
        with session.no_autoflush:
            now = self._compounds_of(session, obj) if rows != -1 else set()
        if self.compounds is None or before is None or now is None:
            self.compounds = None
        else:
            self.compounds |= before | now

    @staticmethod
    def _compounds_of(session: Any, obj: Any) -> set[str] | None:
        """The compounds a row belongs to (None: not known from the row)."""
        table = obj.__table__.name
        if table == "compound":
            return {str(obj.id)}
        if hasattr(obj, "compound_id"):
            return {str(obj.compound_id)} if obj.compound_id is not None else set()
        if hasattr(obj, "handover_id") and obj.handover_id is not None:
            from geoplatform.models import Handover

            handover = session.get(Handover, obj.handover_id)
            return {str(handover.compound_id)} if handover is not None else None
        return None

    # -- result
    @property
    def wrote(self) -> bool:
        """Whether any fingerprinted table was written."""
        return bool(self.tables)

    def change(self, seq: int) -> Change:
        """The committed transaction as a Change with sequence number `seq`."""
        return Change(seq, frozenset(self.tables), None if self.compounds is None else frozenset(self.compounds),
                      {t: (d[0], d[1]) for t, d in self.deltas.items()}, dict(self.new_ids), self.raw,
                      frozenset(self.streets))


def on_cursor_execute(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                      executemany: bool) -> None:
    """Engine listener (`before_cursor_execute`): hand every statement to the connection's recorder, if any."""
    recorder = conn.info.get("geoplatform.recorder")
    if recorder is not None:
        recorder.statement(statement)
