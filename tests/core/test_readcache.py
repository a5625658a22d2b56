"""Reads that survive writes (issue 25): single-flight, stale-while-revalidate, read-your-writes, what a write touched.

Threads are coordinated with events and the single-flight's `on_wait` hook, never with sleeps; the only
timeouts are guards against a hang (a broken implementation fails them instead of blocking the run).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from geoplatform import models as m
from geoplatform.hookspecs import hookimpl
from geoplatform.readcache import (
    AttributeInputs,
    Change,
    Layout,
    SingleFlight,
    dml_table,
    explain,
    read_floor,
    reading_after,
    set_read_floor,
)
from tests.core import layer_fixtures as lf

HANG = 120  # seconds: only ever reached when the implementation is broken


@pytest.fixture(autouse=True)
def _no_floor_from_earlier_tests() -> None:
    """The read floor only rises within a thread: a write of an earlier test (another context) on this worker would
    leave this thread's floor above this test's context's writes."""
    set_read_floor(0)


class Blocking:
    """A per-compound plugin whose computation can be held at a gate; it counts its calls and their compounds."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.gate: threading.Event | None = None  # armed: every call waits here
        self.entered = threading.Event()
        self.lock = threading.Lock()
        self.memo_builds: list[str] = []  # revisions the shared "names" memo was built for
        self.use_memo = False

    def names(self, context) -> dict:  # noqa: ANN001
        """A district-wide value memoised per revision (as plugins memoise plans and rankings)."""
        def build() -> dict:
            self.memo_builds.append(str(context.current_revision()))
            return context.compounds_frame()["name"].to_dict()

        return context.memo("blocking.names", build)

    @hookimpl
    def compute_compound_attributes(self, context, compounds):  # noqa: ANN001, ANN201
        """blocking_name: the compound's name."""
        with self.lock:
            self.calls.append(sorted(map(str, compounds.index)))
        if self.use_memo:
            self.names(context)
        if self.gate is not None:
            self.entered.set()
            assert self.gate.wait(HANG), "the test never opened the gate"
        return pd.DataFrame({"blocking_name": compounds["name"]}, index=compounds.index)

    @hookimpl
    def compound_attribute_inputs(self, context):  # noqa: ANN001, ANN201
        """Per compound, from the compound row."""
        return AttributeInputs.of("compound", per_compound=True)


@pytest.fixture
def bctx(ctx):  # noqa: ANN001, ANN201
    """SpatiaLite only (the threading is the database's business nowhere here): 5 compounds, the plugin."""
    plugin = Blocking()
    ctx.pm.register(plugin, name="blocking")
    lf.load(ctx)
    ctx.plugin = plugin
    return ctx


SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _thread(fn: Callable[[], Any], out: dict[str, Any], key: str, floor: int = 0) -> threading.Thread:
    def run() -> None:
        try:
            with reading_after(floor):
                out[key] = fn()
        except BaseException as exc:  # noqa: BLE001  (the assertion in the test reports it)
            out[key] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def _names(ctx) -> dict[str, str]:  # noqa: ANN001
    return ctx.compound_attributes()["blocking_name"].to_dict()


def _rename(ctx, cid: str, name: str) -> None:  # noqa: ANN001
    with ctx.session() as s:
        s.get(m.Compound, cid).name = name


def _waiters(ctx, count: int, kind: str | None = None) -> threading.Event:  # noqa: ANN001
    """An event set once `count` callers wait on another's computation (of keys starting with `kind`)."""
    reached = threading.Event()
    seen = []
    lock = threading.Lock()

    def on_wait(key: Any) -> None:
        with lock:
            if kind is None or (isinstance(key, tuple) and key[0] == kind) or key == kind:
                seen.append(key)
            if len(seen) >= count:
                reached.set()

    ctx._flights.on_wait = on_wait
    return reached


# ------------------------------------------------------------------------------------------ pure pieces


def test_single_flight_runs_once_for_concurrent_callers() -> None:
    gate, runs = threading.Event(), []
    n = 8
    reached = threading.Event()
    waiting: list[Any] = []
    flight = SingleFlight(on_wait=lambda key: waiting.append(key) or (len(waiting) == n - 1 and reached.set()))

    def compute() -> str:
        runs.append(1)
        assert gate.wait(HANG)
        return "answer"

    out: dict[str, Any] = {}
    threads = [_thread(lambda: flight.do("k", compute), out, f"t{i}") for i in range(n)]
    assert reached.wait(HANG)  # n − 1 callers wait on the one computing
    gate.set()
    for t in threads:
        t.join(HANG)
    assert runs == [1]
    assert [out[f"t{i}"] for i in range(n)] == ["answer"] * n
    assert not flight.running("k")


def test_single_flight_shares_the_error_and_can_skip_waiting() -> None:
    gate, entered = threading.Event(), threading.Event()
    flight = SingleFlight()

    def boom() -> None:
        entered.set()
        assert gate.wait(HANG)
        raise ValueError("broken")

    out: dict[str, Any] = {}
    leader = _thread(lambda: flight.do("k", boom), out, "leader")
    assert entered.wait(HANG)
    from geoplatform.readcache import MISSING

    assert flight.do("k", lambda: "mine", wait=False) is MISSING  # another computes: do not wait
    follower = _thread(lambda: flight.do("k", lambda: "never"), out, "follower")
    gate.set()
    leader.join(HANG)
    follower.join(HANG)
    assert isinstance(out["leader"], ValueError)
    assert isinstance(out["follower"], (ValueError, str))  # joined the failing call, or came after it
    assert flight.do("k", lambda: "again") == "again"


@pytest.mark.parametrize(("statement", "table"), [
    ('INSERT INTO compound (id) VALUES (?)', "compound"),
    ("insert or replace into garage values (1)", "garage"),
    ('UPDATE "handover" SET state = ?', "handover"),
    ("delete from ledger_item where id = 3", "ledger_item"),
    ("SELECT * FROM compound", None),
    ("WITH x AS (SELECT 1) SELECT * FROM x", None),
])
def test_dml_table(statement: str, table: str | None) -> None:
    assert dml_table(statement) == table


LAYOUT = Layout(parts=(("compound", "count"), ("compound", "sum"), ("garage", "count"), ("garage", "sum"),
                       ("ledger_item", "max"), ("ledger_item", "done")),
                versioned=frozenset({"compound", "garage"}), append_only=frozenset({"ledger_item"}))


def _change(seq: int, compounds: set[str] | None, deltas: dict | None = None, new_ids: dict | None = None,
            raw: bool = False, tables: set[str] | None = None) -> Change:
    deltas = deltas or {}
    new_ids = new_ids or {}
    return Change(seq, frozenset(tables or set(deltas) | set(new_ids)), None if compounds is None else frozenset(compounds),
                  deltas, new_ids, raw)


@pytest.mark.parametrize(("old", "new", "changes", "tables", "touched"), [
    # one update of compound A (Σ version +1), accounted for: A only
    ((10, 10, 5, 5, 7, 1), (10, 11, 5, 5, 7, 1), [_change(1, {"A"}, {"compound": (0, 1)})], {"compound"}, {"A"}),
    # the same difference with no write of ours: another process wrote — unknown
    ((10, 10, 5, 5, 7, 1), (10, 11, 5, 5, 7, 1), [], {"compound"}, None),
    # ours plus another process's update of the same table: the deltas do not add up — unknown
    ((10, 10, 5, 5, 7, 1), (10, 12, 5, 5, 7, 1), [_change(1, {"A"}, {"compound": (0, 1)})], {"compound"}, None),
    # a garage inserted for B and a ledger item added to C's handover
    ((10, 10, 5, 5, 7, 1), (10, 10, 6, 6, 8, 1),
     [_change(1, {"B"}, {"garage": (1, 1)}), _change(2, {"C"}, new_ids={"ledger_item": 8})],
     {"garage", "ledger_item"}, {"B", "C"}),
    # a ledger item inserted by someone else after ours: max id is not ours — unknown
    ((10, 10, 5, 5, 7, 1), (10, 10, 5, 5, 9, 1), [_change(1, {"C"}, new_ids={"ledger_item": 8})],
     {"ledger_item"}, None),
    # raw SQL, or a row whose compound is not known: unknown
    ((10, 10, 5, 5, 7, 1), (10, 11, 5, 5, 7, 1), [_change(1, {"A"}, {"compound": (0, 1)}, raw=True)], {"compound"}, None),
    ((10, 10, 5, 5, 7, 1), (10, 11, 5, 5, 7, 1), [_change(1, None, {"compound": (0, 1)})], {"compound"}, None),
    # nothing changed
    ((10, 10, 5, 5, 7, 1), (10, 10, 5, 5, 7, 1), [], set(), set()),
])
def test_explain(old: tuple, new: tuple, changes: list[Change], tables: set[str], touched: set[str] | None) -> None:
    got_tables, got_touched = explain(LAYOUT, old, new, changes)
    assert got_tables == tables
    assert got_touched == (None if touched is None else frozenset(touched))


def test_attribute_inputs_reads() -> None:
    assert AttributeInputs().reads({"garage"})
    assert AttributeInputs.of("compound", "garage").reads({"garage", "handover"})
    assert not AttributeInputs.of("compound").reads({"garage"})


# ------------------------------------------------------------------------------------------ the Context


@SQLITE
def test_concurrent_readers_of_a_cold_cache_compute_once(bctx) -> None:  # noqa: ANN001
    plugin: Blocking = bctx.plugin
    plugin.gate = threading.Event()
    n = 6
    reached = _waiters(bctx, n - 1, "attributes")
    out: dict[str, Any] = {}
    threads = [_thread(lambda: _names(bctx), out, f"r{i}") for i in range(n)]
    assert reached.wait(HANG)  # five readers wait for the one computing
    plugin.gate.set()
    for t in threads:
        t.join(HANG)
    assert plugin.calls == [["c1", "c2", "c3", "c4", "c5"]]
    assert all(out[f"r{i}"] == out["r0"] for i in range(n)) and out["r0"]["c2"] == "小区c2"


@SQLITE
def test_one_reader_recomputes_while_the_others_read_the_previous_revision(bctx) -> None:  # noqa: ANN001
    plugin: Blocking = bctx.plugin
    old = _names(bctx)["c1"]  # warm
    _rename(bctx, "c1", "新名c1")
    seq = read_floor()  # this thread wrote: its floor is that write
    assert seq == bctx.write_seq > 0
    plugin.calls.clear()
    plugin.gate = threading.Event()
    out: dict[str, Any] = {}
    leader = _thread(lambda: _names(bctx), out, "leader")
    assert plugin.entered.wait(HANG)  # the leader is recomputing (held at the gate)
    others = [_thread(lambda: _names(bctx), out, f"r{i}") for i in range(5)]
    for t in others:  # they return while the leader is still held: the previous revision, no computation
        t.join(HANG)
        assert not t.is_alive()
    assert [out[f"r{i}"]["c1"] for i in range(5)] == [old] * 5
    reached = _waiters(bctx, 1, "publish")
    mine = _thread(lambda: _names(bctx), out, "mine", floor=seq)  # the writer's session: must not get the old one
    assert reached.wait(HANG)
    assert "mine" not in out
    plugin.gate.set()
    leader.join(HANG)
    mine.join(HANG)
    assert out["leader"]["c1"] == out["mine"]["c1"] == "新名c1"
    assert plugin.calls == [["c1"]]  # one recomputation, of the compound written only
    assert _names(bctx)["c1"] == "新名c1"


@SQLITE
def test_a_reader_never_sees_a_revision_older_than_its_own_write(bctx) -> None:  # noqa: ANN001
    """The recomputation in flight started before this session's write: the session waits for a newer one."""
    plugin: Blocking = bctx.plugin
    _names(bctx)
    _rename(bctx, "c1", "新名c1")
    plugin.calls.clear()
    plugin.gate = threading.Event()
    out: dict[str, Any] = {}
    leader = _thread(lambda: _names(bctx), out, "leader")  # recomputes for the c1 write, held at the gate
    assert plugin.entered.wait(HANG)

    def write_then_read() -> dict[str, str]:
        _rename(bctx, "c2", "新名c2")  # committed while the older recomputation runs
        return _names(bctx)

    reached = _waiters(bctx, 1, "publish")
    writer = _thread(write_then_read, out, "writer")
    assert reached.wait(HANG)  # the writer waits (it may not be answered from before its write)
    plugin.gate.set()
    leader.join(HANG)
    writer.join(HANG)
    assert out["writer"]["c2"] == "新名c2" and out["writer"]["c1"] == "新名c1"
    assert ["c1"] in plugin.calls and plugin.calls[-1] == ["c2"]  # the second round recomputed c2 alone


@SQLITE
def test_incremental_attributes_equal_a_full_recomputation(bctx) -> None:  # noqa: ANN001
    """Writes of several kinds (rename, new compound, delete, garage): the spliced frame = computing it all again."""
    bctx.compound_attributes()
    _rename(bctx, "c3", "新名c3")
    with bctx.session() as s:
        s.add(m.Garage(id="g1", compound_id="c4", garage_type="underground"))
    assert bctx.compound_attributes().loc["c4", "charging_garages"] == 1
    with bctx.session() as s:
        s.add(m.Compound(id="c6", name="小区c6", street_code="150203002", management_mode="none",
                         location="SRID=4326;POINT(109.87 40.67)"))
    assert bctx.compound_attributes().loc["c6", "blocking_name"] == "小区c6"
    with bctx.session() as s:
        s.delete(s.get(m.Compound, "c6"))
    got = bctx.compound_attributes()
    assert "c6" not in got.index
    full = bctx._compute_attributes(bctx.compounds_frame())

    def plain(frame: pd.DataFrame) -> pd.DataFrame:  # missing is missing (None / NaN / NA), whatever the dtype
        frame = frame.astype(object)
        return frame.where(pd.notna(frame), None)

    pd.testing.assert_frame_equal(plain(got), plain(full))


@SQLITE
def test_a_street_aggregate_survives_writes_in_other_streets_only(bctx) -> None:  # noqa: ANN001
    calls: list[str] = []

    def aggregate(street: str | None) -> str | None:
        return bctx.memo(f"agg|{street}", lambda: calls.append(str(street)) or street, street=street)

    bctx.compounds_frame()
    for street in ("150203001", "150203002", None):
        aggregate(street)
    _rename(bctx, "c4", "新名c4")  # a compound of 150203002
    for street in ("150203001", "150203002", None):
        aggregate(street)
    assert calls == ["150203001", "150203002", "None", "150203002", "None"]
    with bctx.session() as s:  # a row of no compound in street 150203001 (a lone building)
        s.add(m.Building(id="b-lone", street_code="150203001", geom="SRID=4326;MULTIPOLYGON(((109.7 40.6,109.701 40.6,"
                                                                        "109.701 40.601,109.7 40.6)))"))
    for street in ("150203001", "150203002"):
        aggregate(street)
    assert calls[5:] == ["150203001"]
    bctx.revision_ttl = 0
    from geoplatform.context import Context

    with Context.create(bctx.config.database_url).session() as s:  # another process: every street again
        s.get(m.Compound, "c1").name = "别处改名"
    for street in ("150203001", "150203002"):
        aggregate(street)
    assert calls[6:] == ["150203001", "150203002"]


@SQLITE
def test_the_previous_and_the_next_revision_each_keep_their_memo(bctx) -> None:  # noqa: ANN001
    """While one caller builds the next revision (its memo values included), readers of the previous one find
    theirs: neither evicts the other, nothing is built twice."""
    plugin: Blocking = bctx.plugin
    plugin.use_memo = True
    _names(bctx)
    old = plugin.names(bctx)
    assert len(plugin.memo_builds) == 1
    _rename(bctx, "c1", "新名c1")
    plugin.gate = threading.Event()
    out: dict[str, Any] = {}
    leader = _thread(lambda: _names(bctx), out, "leader")  # builds the new revision's memo, then waits
    assert plugin.entered.wait(HANG)
    assert len(plugin.memo_builds) == 2
    reader = _thread(lambda: plugin.names(bctx), out, "reader")  # the previous revision's value, not rebuilt
    reader.join(HANG)
    assert out["reader"] == old and len(plugin.memo_builds) == 2
    plugin.gate.set()
    leader.join(HANG)
    assert plugin.names(bctx)["c1"] == "新名c1"
    assert len(plugin.memo_builds) == 2


@SQLITE
def test_a_floor_beyond_this_contexts_writes_does_not_hold_reads(bctx) -> None:  # noqa: ANN001
    """A thread's floor set by another context's writes (another app in the process) is capped at this one's."""
    out: dict[str, Any] = {}
    t = _thread(lambda: _names(bctx), out, "r", floor=bctx.write_seq + 100)
    t.join(HANG)
    assert not t.is_alive() and out["r"]["c2"] == "小区c2"


@SQLITE
def test_raw_sql_makes_the_next_recomputation_a_full_one(bctx) -> None:  # noqa: ANN001
    """An UPDATE outside the ORM (rows unknown, no version bump): all is recomputed, not just the ORM-written row."""
    from sqlalchemy import text

    plugin: Blocking = bctx.plugin
    _names(bctx)
    plugin.calls.clear()
    with bctx.session() as s:
        s.get(m.Compound, "c1").name = "新名c1"
        s.flush()
        s.execute(text("UPDATE compound SET name = '新名c2' WHERE id = 'c2'"))
    names = _names(bctx)
    assert names["c1"] == "新名c1" and names["c2"] == "新名c2"
    assert plugin.calls == [["c1", "c2", "c3", "c4", "c5"]]
