"""The Context handed to plugins and the web app: config, plugin manager, engine, and layer helpers."""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd
import pluggy

# pyogrio's bundled GDAL/GEOS/SQLite must be loaded before Debian's mod_spatialite: the other order
# corrupts the heap (abort/segfault at interpreter exit after geopandas is first used).
import pyogrio  # noqa: F401, I001
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from geoplatform.config import Config, load_config
from geoplatform.db import make_engine, session_scope
from geoplatform.pluginmanager import build_plugin_manager, call_safely
from geoplatform.sqlin import in_values


@dataclass
class Context:
    """Everything one invocation needs; built per CLI call / web app, never a module global."""

    config: Config
    pm: pluggy.PluginManager
    today: dt.date = field(default_factory=dt.date.today)
    _engine: Engine | None = None
    # memo() values by name: {key: (value, street)}, key = (revision, today), the last MEMO_REVISIONS keys
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    # data_revision() is re-read at most this often (seconds), and always after this process's own writes
    revision_ttl: float = 2.0
    _revision: tuple[float, Any, int] | None = field(default=None, repr=False)  # (when, fingerprint, write seq)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    # the revision readers are answered from, with its compound frame and plugin attributes (see _snapshot())
    _published: Snapshot | None = field(default=None, repr=False)
    _write_seq: int = field(default=0, repr=False)  # committed writes of this process (read-your-writes)
    _changes: list[Any] = field(default_factory=list, repr=False)  # readcache.Change since the published seq
    _flights: Any = field(default=None, repr=False)  # readcache.SingleFlight
    _publisher: Any = field(default=None, repr=False)  # publisher.Publisher: the worker computing next revisions
    _publications: int = field(default=0, repr=False)  # snapshots published so far
    _counters: bool = field(default=False, repr=False)  # the database has `revision_counter` (seen once, kept)
    # memo recipes by name: (recipe, street, publications when last used) — the worker precomputes the recent ones
    _recipes: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        from geoplatform.readcache import SingleFlight

        self._flights = SingleFlight()
        self.load_messages()

    def load_messages(self) -> None:
        """Merge the plugins' `register_messages` catalogues (see pluginmanager.load_messages)."""
        from geoplatform.pluginmanager import load_messages

        load_messages(self.pm)

    @classmethod
    def create(cls, database_url: str | None = None, config: Config | None = None, **kw: Any) -> Context:
        """Load config, build the plugin manager; the engine opens lazily on first use."""
        cfg = config or load_config(database_url)
        if database_url:
            cfg.database_url = database_url
        return cls(config=cfg, pm=build_plugin_manager(cfg.disabled_plugins), **kw)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (created on first use)."""
        if self._engine is None:
            self._engine = make_engine(self.config.database_url)
        return self._engine

    @contextmanager
    def session(self, readonly: bool = False) -> Iterator[Session]:
        """One transaction (see geoplatform.db.session_scope); a committed write is recorded (what it touched)
        and raises the caller's read floor, so its own next reads include it (read-your-writes).

        The session carries this context in `session.info["context"]`, so a service given only a session can
        still ask other plugins through hooks (`geoplatform.exchange`).
        """
        if readonly:
            with session_scope(self.engine, readonly=True) as s:
                s.info["context"] = self
                yield s
            return
        from sqlalchemy import event

        from geoplatform.readcache import ChangeRecorder, on_cursor_execute, raise_read_floor

        engine = self.engine
        if not event.contains(engine, "before_cursor_execute", on_cursor_execute):  # (an engine given from outside)
            event.listen(engine, "before_cursor_execute", on_cursor_execute)
        recorder = ChangeRecorder(_layout())
        try:
            with session_scope(engine) as s:
                s.info["context"] = self
                recorder.attach(s)
                yield s
        finally:
            recorder.detach()
        if recorder.wrote:
            with self._lock:
                self._write_seq += 1
                seq = self._write_seq
                self._changes.append(recorder.change(seq))
                if len(self._changes) > MAX_CHANGES:  # nobody read for a long while: forget the oldest (a forgotten
                    del self._changes[:-MAX_CHANGES]  # write only makes the next recomputation a full one)
                self._revision = None
            raise_read_floor(seq)

    def rules(self, plugin: str) -> dict[str, Any]:
        """Configured overrides of one plugin's settings."""
        return self.config.rules_for(plugin)

    @cached_property
    def layers(self) -> list[Any]:
        """Every registered LayerSpec, tagged with its plugin name, in registration order."""
        out = []
        for plugin, specs in reversed(call_safely(self.pm, "register_layers", context=self)):
            for spec in specs:
                out.append(spec if spec.plugin else _with_plugin(spec, plugin))
        return out

    def layer(self, layer_id: str) -> Any:
        """The LayerSpec with this id (KeyError if none)."""
        for spec in self.layers:
            if spec.id == layer_id:
                return spec
        raise KeyError(layer_id)

    def data_revision(self) -> tuple[Any, ...]:
        """A cheap fingerprint of the data plugins compute from; it changes after any write to that data.

        Versioned tables (`geoplatform.models.VERSIONED`: compounds, buildings, garages, handovers, bundle
        proposals, takeover selections, and what concern modules add): row count and Σ version (every ORM
        update bumps `version`); append-only ones (`APPEND_ONLY`): max id, plus the count of done ledger
        items. Logins, sessions and audit rows do not count, so they keep the caches. Writes outside these (raw SQL) should call `invalidate()`.

        The counts and sums come from `revision_counter`, kept by triggers in every writing transaction
        (`geoplatform.revcounter`: a few rows read, whatever the data's size); a table without its triggers is
        scanned (`scan_revision` gives the same tuple by scanning every table).
        """
        from geoplatform import revcounter

        with self.engine.execution_options(readonly=True).connect() as conn:  # (SQLite: no write lock)
            counted = revcounter.read(conn) if self._has_counters(conn) else {}
            value = _revision_parts(conn, counted)
        big = [t for t, c in counted.items() if c[3] >= revcounter.COMPACT_AT]
        if big and self.engine.dialect.name == "postgresql":
            revcounter.compact(self.engine, big)
        return value

    def scan_revision(self) -> tuple[Any, ...]:
        """`data_revision()` computed by scanning every fingerprinted table (what the counters must equal)."""
        with self.engine.execution_options(readonly=True).connect() as conn:
            return _revision_parts(conn, {})

    def _has_counters(self, conn: Any) -> bool:
        if not self._counters:
            from geoplatform import revcounter

            self._counters = revcounter.has_counters(conn)
        return self._counters

    def refresh_revision(self) -> None:
        """Re-read the fingerprint on next use; caches stay if it is unchanged."""
        with self._lock:
            self._revision = None

    def invalidate(self) -> None:
        """Drop every cached value (for writes the fingerprint cannot see, e.g. raw SQL by another process)."""
        with self._lock:
            self._cache.clear()
            self._revision = None
            self._published = None
            self._changes.clear()

    @property
    def write_seq(self) -> int:
        """How many writes this process has committed through `session()` (the read floor after the last)."""
        return self._write_seq

    def _fingerprint(self) -> tuple[Any, ...]:
        """`data_revision()`, re-read at most every `revision_ttl` seconds and always after this process's writes."""
        now = time.monotonic()
        with self._lock:
            seq = self._write_seq
            hit = self._revision
            if hit is not None and now - hit[0] < self.revision_ttl and hit[2] == seq:
                return hit[1]
        value = self.data_revision()  # read after `seq`: it includes every write up to it
        with self._lock:
            if self._revision is None or self._revision[2] <= seq:
                self._revision = (now, value, seq)
        return value

    def current_revision(self) -> Any:
        """The data revision this caller's reads are answered from (keys every cache and ETag).

        While one caller brings the caches up to a new revision, the others are answered from the previous one
        (stale-while-revalidate) — unless that one predates their own session's last write (read-your-writes).
        """
        return self._snapshot().revision

    def _snapshot(self) -> Snapshot:
        from geoplatform.readcache import MISSING, read_floor

        building = _BUILDING.get()
        if building is not None and building.context is self:
            return building  # inside a rebuild: the revision being built
        floor = min(read_floor(), self._write_seq)  # (a floor from another context's writes means nothing here)
        while True:
            fp = self._fingerprint()
            with self._lock:
                pub = self._published
            if pub is not None and pub.revision == fp and pub.today == self.today:
                return pub
            stale_ok = pub is not None and pub.seq >= floor and pub.today == self.today
            got = self._flights.do("publish", self._publish, wait=not stale_ok)
            if got is MISSING:
                return pub  # someone else is recomputing: answer from the previous revision
            with self._lock:
                pub = self._published
            if pub is not None and pub.seq >= floor and pub.today == self.today:
                return pub

    def _publish(self) -> Snapshot:
        """Bring the compound frame and plugin attributes up to the database's revision (only what the writes since
        the published revision touched, when they say) — in the worker process when there is one — then publish it."""
        with self._lock:
            seq = self._write_seq
            old = self._published
            changes = [c for c in self._changes if old is not None and old.seq < c.seq <= seq]
        new = self._publish_from_worker(old, changes, seq) if self._publisher is not None else None
        if new is None:
            new = self._build_snapshot(old, changes, seq)
        with self._lock:
            if self._published is old:
                self._published = new
                self._publications += 1
                self._changes = [c for c in self._changes if c.seq > seq]
        return new

    def _build_snapshot(self, old: Snapshot | None, changes: list[Any], seq: int) -> Snapshot:
        """The snapshot of the database's current revision (which includes write `seq`), carried over from `old`."""
        fp = self.data_revision()
        with self._lock:
            if self._revision is None or self._revision[2] <= seq:
                self._revision = (time.monotonic(), fp, seq)
        new = Snapshot(self, fp, seq, self.today)
        token = _BUILDING.set(new)
        try:
            if old is not None and old.today == new.today:
                self._carry(old, new, changes)
        finally:
            _BUILDING.reset(token)
        return new

    # -- the worker process (geoplatform.publisher)
    def start_publisher(self, timeout: float | None = None) -> None:
        """From now on the next revisions are computed in a worker process (`geoplatform serve` does this), so
        the request threads keep the interpreter while it works; without one, or when it fails, in process.
        Call it from a thread that lives as long as the server (the main one): the worker ends with that thread."""
        from sqlalchemy.engine import make_url

        from geoplatform.publisher import TIMEOUT_S, Publisher

        url = make_url(self.config.database_url)
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            return  # another process would not see this database
        if self._publisher is None:
            self._publisher = Publisher(self.config, timeout if timeout is not None else TIMEOUT_S)

    def stop_publisher(self) -> None:
        """Stop the worker process (computing in process again)."""
        publisher, self._publisher = self._publisher, None
        if publisher is not None:
            publisher.close()

    def _publish_from_worker(self, old: Snapshot | None, changes: list[Any], seq: int) -> Snapshot | None:
        """The worker's snapshot for write `seq`, its memo values (the recipes used lately) stored; None when the
        worker cannot answer (then the caller computes in process)."""
        import logging

        from geoplatform.publisher import PublisherError

        publisher = self._publisher
        if publisher is None or not publisher.alive:
            return None
        with self._lock:
            recent = self._publications - 1
            recipes = {name: (recipe, street) for name, (recipe, street, used) in self._recipes.items()
                       if used >= recent}
        request = {"seq": seq, "today": self.today, "old": None if old is None else (old.seq, old.revision),
                   "changes": changes, "recipes": recipes}
        try:
            got = publisher.build(request)
        except PublisherError as exc:
            logging.getLogger(__name__).warning("computing the next revision in process: %s", exc)
            return None
        new = Snapshot(self, tuple(got["revision"]), seq, self.today, compounds=got["compounds"],
                       plugin_attrs=got["plugin_attrs"], attributes=got["attributes"],
                       attribute_values=got["attribute_values"], tables=got["tables"], touched=got["touched"],
                       streets_touched=got["streets_touched"])
        key = (new.revision, new.today)
        with self._lock:
            if self._revision is None or self._revision[2] <= seq:
                self._revision = (time.monotonic(), new.revision, seq)
            published = None if old is None else (old.revision, old.today)
            for name, (value, street) in got["memos"].items():
                entries = self._cache.setdefault(name, {})
                if key not in entries:
                    _keep(entries, key, (value, street), published)
        if old is not None and old.today == new.today and new.tables is not None:
            self._carry_memos(old, new)
        return new

    def _carry(self, old: Snapshot, new: Snapshot, changes: list[Any]) -> None:
        """Fill `new` from `old` recomputing only what changed (a value `old` never computed stays lazy)."""
        from geoplatform.readcache import explain

        tables, touched = explain(_layout(), old.revision, new.revision, changes)
        new.tables, new.touched = tables, touched
        if not tables:  # same data (e.g. an unrelated table): everything carries over
            new.compounds, new.plugin_attrs = old.compounds, old.plugin_attrs
            new.attributes, new.attribute_values = old.attributes, old.attribute_values
            new.streets_touched = frozenset()
        elif old.compounds is not None:
            new.compounds = old.compounds if "compound" not in tables else self._reread_compounds(old.compounds, touched)
            if touched is not None:
                streets = {street for c in changes for street in c.streets}
                for frame in (old.compounds, new.compounds):
                    if "street_code" in frame:
                        known = frame.index.intersection(list(touched))
                        streets |= {str(v) for v in frame.loc[known, "street_code"] if v is not None}
                new.streets_touched = frozenset(streets)
            if old.plugin_attrs is not None:
                self._carry_attributes(old, new, tables, touched)
        self._carry_memos(old, new)

    def _carry_attributes(self, old: Snapshot, new: Snapshot, tables: set[str], touched: frozenset[str] | None) -> None:
        inputs = self.attribute_inputs()
        index = new.compounds.index
        added = index.difference(old.compounds.index)
        plugin_attrs: dict[str, Any] = {}
        for name, impl in self._attribute_impls():
            prev = old.plugin_attrs.get(name)
            spec = inputs.get(name)
            if prev is not None and spec is not None and not spec.reads(tables) and not len(added):
                plugin_attrs[name] = prev.reindex(index)
            elif prev is not None and spec is not None and spec.per_compound and touched is not None:
                ids = index.intersection(list(touched)).union(added)
                part = self._compute_plugin(impl, new.compounds.loc[ids]) if len(ids) else None
                plugin_attrs[name] = _splice(prev, part, index)
            else:
                plugin_attrs[name] = self._compute_plugin(impl, new.compounds)
        new.plugin_attrs = plugin_attrs
        new.attributes = _join(plugin_attrs, index)
        if old.attribute_values is not None:
            new.attribute_values = _values(new.attributes)

    def _carry_memos(self, old: Snapshot, new: Snapshot) -> None:
        """Street-scoped memo values of streets no write touched keep serving under the new revision."""
        old_key, new_key = (old.revision, old.today), (new.revision, new.today)
        same = not new.tables
        with self._lock:
            for entries in self._cache.values():
                hit = entries.get(old_key)
                if hit is None or new_key in entries:
                    continue
                value, street = hit
                if same or (street is not None and new.streets_touched is not None
                            and street not in new.streets_touched):
                    _keep(entries, new_key, (value, street), old_key)

    def memo(self, name: str, build: Any, street: str | None = None, recipe: Any = None) -> Any:
        """`build()` computed once per data revision and day, shared by every caller (concurrent callers wait
        for one computation). With `street`, the value is that street's aggregate only (it depends on the
        records of that street's compounds alone): it survives writes that touched other streets.

        The values of the last MEMO_REVISIONS revisions are kept: while one caller builds the next revision,
        the others still read the previous one, and each must find its own.

        `recipe` ("module:function", args), function(context, *args) == build(), its value picklable: with a worker
        process (`start_publisher`), the values asked for lately are computed there for each next revision.
        """
        snap = self._snapshot()
        key = (snap.revision, snap.today)
        with self._lock:
            if recipe is not None:
                self._recipes.pop(name, None)
                self._recipes[name] = (recipe, street, self._publications)
                if len(self._recipes) > MAX_RECIPES:
                    del self._recipes[next(iter(self._recipes))]
            hit = self._cache.get(name, {}).get(key)
            if hit is not None:
                return hit[0]

        def compute() -> Any:
            with self._lock:
                hit = self._cache.get(name, {}).get(key)
                if hit is not None:
                    return hit[0]
            value = build()
            with self._lock:
                pub = self._published
                _keep(self._cache.setdefault(name, {}), key, (value, street),
                      (pub.revision, pub.today) if pub is not None else None)
            return value

        return self._flights.do(("memo", name, key), compute)

    def _lazy(self, snap: Snapshot, attr: str, build: Any) -> Any:
        """`snap.<attr>`, computed once (single-flight) when still missing."""
        value = getattr(snap, attr)
        if value is not None:
            return value

        def compute() -> Any:
            if getattr(snap, attr) is None:
                setattr(snap, attr, build())
            return getattr(snap, attr)

        return self._flights.do((attr, id(snap)), compute)

    def _read_compounds(self) -> Any:
        from geoplatform.store import read_frame

        with self.session(readonly=True) as s:
            return read_frame(s, "compound")

    def _reread_compounds(self, frame: Any, touched: frozenset[str] | None) -> Any:
        """`frame` with the rows of the `touched` compounds read again (all of it when they are not known, or when
        compounds were added or removed)."""
        from geoplatform.models import Compound
        from geoplatform.store import read_frame

        if touched is None or not touched:
            return self._read_compounds()
        with self.session(readonly=True) as s:
            rows = read_frame(s, "compound", where=[in_values(Compound.id, sorted(touched))])
        if set(rows.index) != set(touched).intersection(frame.index) or len(rows.columns) != len(frame.columns):
            return self._read_compounds()
        out = pd.concat([frame.drop(index=rows.index), rows[frame.columns]]).reindex(frame.index)
        for col in out.columns:  # keep the dtypes a full read gives where the new rows fit them
            if out[col].dtype != frame[col].dtype and col != out.geometry.name:
                try:
                    out[col] = out[col].astype(frame[col].dtype)
                except (TypeError, ValueError):
                    pass
        return out

    def compounds_frame(self) -> Any:
        """Every compound as a GeoDataFrame (boundary geometry, `location` column), indexed by id; cached per revision."""
        snap = self._snapshot()
        return self._lazy(snap, "compounds", self._read_compounds)

    def compound_attributes(self, compounds: pd.DataFrame | None = None) -> pd.DataFrame:
        """All plugins' per-compound attributes joined on compound id.

        Without `compounds`: for every stored compound, cached per revision and, after a write, recomputed only
        for what the write touched (see `compound_attribute_inputs`); plugins such as bundling/takeover need the
        whole district, so bbox requests reuse this. With a frame: computed for that frame now, uncached.
        """
        if compounds is not None:
            return self._compute_attributes(compounds)
        snap = self._snapshot()

        def build() -> pd.DataFrame:
            frame = self._lazy(snap, "compounds", self._read_compounds)
            attrs = {name: self._compute_plugin(impl, frame) for name, impl in self._attribute_impls()}
            snap.plugin_attrs = attrs
            return _join(attrs, frame.index)

        return self._lazy(snap, "attributes", build)

    def compound_attribute_values(self) -> dict[str, dict[Any, Any]]:
        """The cached `compound_attributes()` as {column: {compound id: value}} with missing values as None."""
        snap = self._snapshot()
        return self._lazy(snap, "attribute_values", lambda: _values(self.compound_attributes()))

    def attribute_inputs(self) -> dict[str, Any]:
        """What each plugin's attributes read, by plugin name (`compound_attribute_inputs`; none: district-wide)."""
        from geoplatform.readcache import AttributeInputs

        return {name: value for name, value in call_safely(self.pm, "compound_attribute_inputs", context=self)
                if isinstance(value, AttributeInputs)}

    def _attribute_impls(self) -> list[tuple[str, Any]]:
        return [(impl.plugin_name, impl) for impl in reversed(self.pm.hook.compute_compound_attributes.get_hookimpls())]

    def _compute_plugin(self, impl: Any, compounds: pd.DataFrame) -> pd.DataFrame | None:
        """One plugin's attributes for `compounds` (None when it fails: logged and skipped, as call_safely does)."""
        import logging

        kwargs = {"context": self, "compounds": compounds}
        try:
            df = impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames})
        except Exception as exc:
            logging.getLogger(__name__).exception("plugin %s failed in compute_compound_attributes: %s",
                                                  impl.plugin_name, exc)
            return None
        if df is None or not len(df.columns):
            return None
        return df[~df.index.duplicated()]

    def _compute_attributes(self, compounds: pd.DataFrame) -> pd.DataFrame:
        attrs = {name: self._compute_plugin(impl, compounds) for name, impl in self._attribute_impls()}
        return _join(attrs, compounds.index)

    def exporters(self) -> dict[str, Any]:
        """Registered exporters by name."""
        return {e.name: e for _, lst in call_safely(self.pm, "register_exporters", context=self) for e in lst}

    def basemaps(self) -> list[Any]:
        """Registered basemaps."""
        return [b for _, lst in reversed(call_safely(self.pm, "register_basemaps", context=self)) for b in lst]

    def allowed(self, user: Any, action: str, resource: Any = None) -> bool:
        """Deny by default: allowed only if some plugin says True and none says False."""
        answers = []
        for impl in self.pm.hook.permission_allowed.get_hookimpls():
            kwargs = {"context": self, "user": user, "action": action, "resource": resource}
            try:
                answers.append(impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames}))
            except Exception:  # a failing permission check denies
                return False
        return all(a is not False for a in answers) and any(a is True for a in answers)


@dataclass(eq=False)
class Snapshot:
    """One published data revision and what has been computed for it (None: not yet)."""

    context: Context
    revision: tuple[Any, ...]
    seq: int  # the writes of this process it includes
    today: dt.date
    compounds: Any = None
    plugin_attrs: dict[str, Any] | None = None
    attributes: pd.DataFrame | None = None
    attribute_values: dict[str, dict[Any, Any]] | None = None
    tables: set[str] | None = None  # what changed since the previous snapshot (None: not compared)
    touched: frozenset[str] | None = None  # compounds touched since the previous snapshot (None: not known)
    streets_touched: frozenset[str] | None = None  # their streets (None: not known)


_BUILDING: ContextVar[Snapshot | None] = ContextVar("geoplatform_building_snapshot", default=None)


MAX_CHANGES = 10_000  # committed writes remembered between two publications (see readcache.explain)
MAX_RECIPES = 256  # memo recipes remembered (the least recently used go first)
MEMO_REVISIONS = 2  # memo values kept per name: the published revision and the one being built


def _keep(entries: dict[Any, Any], key: Any, value: Any, published: Any = None) -> None:
    """Store `value` under `key`, keeping MEMO_REVISIONS keys: this one, the published one, then the most recent."""
    entries.pop(key, None)
    entries[key] = value
    for old in list(entries):
        if len(entries) <= MEMO_REVISIONS:
            break
        if old not in (key, published):
            entries.pop(old)


_REVISION_SQL: dict[frozenset[str], tuple[str, list[Any]]] = {}


def _revision_parts(conn: Any, counted: dict[str, tuple[int, int, int, int]]) -> tuple[Any, ...]:
    """The fingerprint (`Context.data_revision`'s layout): the counted tables' values from `counted`, the others by
    one statement scanning them (its text built once per set of counted tables; names from the models only)."""
    from geoplatform.models import APPEND_ONLY, VERSIONED, LedgerItem

    key = frozenset(counted)
    hit = _REVISION_SQL.get(key)
    if hit is None:
        sql: list[str] = []
        layout: list[Any] = []  # per fingerprint position: (table, index into counted values) or None (the query's)
        for model in VERSIONED:
            t = model.__table__.name
            if t in counted:
                layout += [(t, 0), (t, 1)]
            else:
                sql += [f"(SELECT count(*) FROM {t})", f"(SELECT coalesce(sum(version), 0) FROM {t})"]  # noqa: S608
                layout += [None, None]
        for model in APPEND_ONLY:
            sql.append(f"(SELECT coalesce(max(id), 0) FROM {model.__table__.name})")  # noqa: S608
            layout.append(None)
        ledger = LedgerItem.__table__.name
        if ledger in counted:
            layout.append((ledger, 2))
        else:
            sql.append(f"(SELECT count(done_date) FROM {ledger})")  # noqa: S608
            layout.append(None)
        hit = _REVISION_SQL[key] = ("SELECT " + ", ".join(sql), layout)
    statement, layout = hit
    scanned = iter(conn.exec_driver_sql(statement).one())
    return tuple(int(next(scanned)) if where is None else counted[where[0]][where[1]] for where in layout)


@functools.cache
def _layout() -> Any:
    from geoplatform.readcache import Layout

    return Layout.current()


def _join(attrs: dict[str, Any], index: pd.Index) -> pd.DataFrame:
    frames = [df for df in attrs.values() if df is not None]
    if not frames:
        return pd.DataFrame(index=index)
    return pd.concat(frames, axis=1).reindex(index)


def _splice(prev: pd.DataFrame | None, part: pd.DataFrame | None, index: pd.Index) -> pd.DataFrame | None:
    """`prev` on `index` with the rows of `part` replaced (new columns appended)."""
    if prev is None:
        return part.reindex(index) if part is not None else None
    out = prev.reindex(index)
    if part is None or not len(part):
        return out
    part = part[part.index.isin(index)]
    for col in part.columns:
        if col not in out.columns:
            out[col] = None
    rows = out.index.isin(part.index)
    keep = out.loc[~rows]
    merged = pd.concat([keep, part[out.columns]]).reindex(index) if len(keep) else part[out.columns].reindex(index)
    for col in merged.columns:  # keep each column's dtype where the new rows fit it (as a full recompute would)
        if col in prev.columns and merged[col].dtype != prev[col].dtype:
            try:
                merged[col] = merged[col].astype(prev[col].dtype)
            except (TypeError, ValueError):
                pass
    return merged


def _values(attrs: pd.DataFrame) -> dict[str, dict[Any, Any]]:
    """{column: {compound id: value}}, missing values as None (one object array, not a pass per cell)."""
    import numpy as np

    values = np.empty(attrs.shape, dtype=object)
    for j in range(attrs.shape[1]):
        column = attrs.iloc[:, j]
        values[:, j] = column.to_numpy(dtype=object, na_value=None) if len(column) else []
    missing = pd.isna(values)
    values[missing] = None
    index = attrs.index.tolist()
    return {col: dict(zip(index, values[:, j].tolist(), strict=True)) for j, col in enumerate(attrs.columns)}


def _with_plugin(spec: Any, plugin: str) -> Any:
    from dataclasses import replace

    return replace(spec, plugin=plugin)
