"""The Context handed to plugins and the web app: config, plugin manager, engine, and layer helpers."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


@dataclass
class Context:
    """Everything one invocation needs; built per CLI call / web app, never a module global."""

    config: Config
    pm: pluggy.PluginManager
    today: dt.date = field(default_factory=dt.date.today)
    _engine: Engine | None = None
    # compound frame + plugin attributes, keyed by (data_revision(), today); see compound_attributes()
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    # data_revision() is re-read at most this often (seconds); writes through session() force a re-read
    revision_ttl: float = 2.0
    _revision: tuple[float, Any] | None = field(default=None, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def __post_init__(self) -> None:
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
        """One transaction (see geoplatform.db.session_scope); after a committed write the fingerprint is re-read.

        The session carries this context in `session.info["context"]`, so a service given only a session can
        still ask other plugins through hooks (`geoplatform.exchange`).
        """
        with session_scope(self.engine, readonly=readonly) as s:
            s.info["context"] = self
            yield s
        if not readonly:
            self.refresh_revision()

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
        """
        from sqlalchemy import func, select

        from geoplatform.models import APPEND_ONLY, VERSIONED, LedgerItem

        parts = []
        for model in VERSIONED:
            parts.append(select(func.count()).select_from(model).scalar_subquery())
            parts.append(select(func.coalesce(func.sum(model.version), 0)).scalar_subquery())
        for model in APPEND_ONLY:
            parts.append(select(func.coalesce(func.max(model.id), 0)).scalar_subquery())
        parts.append(select(func.count(LedgerItem.done_date)).scalar_subquery())
        with self.session(readonly=True) as s:
            return tuple(s.execute(select(*parts)).one())

    def refresh_revision(self) -> None:
        """Re-read the fingerprint on next use (after a committed write); caches stay if it is unchanged."""
        with self._lock:
            self._revision = None

    def invalidate(self) -> None:
        """Drop the cached compound frame and attributes (for writes the fingerprint cannot see, e.g. raw SQL)."""
        with self._lock:
            self._cache.clear()
            self._revision = None

    def current_revision(self) -> Any:
        """`data_revision()`, re-read from the database at most every `revision_ttl` seconds."""
        now = time.monotonic()
        with self._lock:
            if self._revision is not None and now - self._revision[0] < self.revision_ttl:
                return self._revision[1]
        value = self.data_revision()
        with self._lock:
            self._revision = (now, value)
        return value

    def memo(self, name: str, build: Any) -> Any:
        """`build()` computed once per data revision and day, shared by every caller (e.g. district-wide answers)."""
        key = (self.current_revision(), self.today)
        with self._lock:
            hit = self._cache.get(name)
            if hit is not None and hit[0] == key:
                return hit[1]
        value = build()
        with self._lock:
            self._cache[name] = (key, value)
        return value

    def compounds_frame(self) -> Any:
        """Every compound as a GeoDataFrame (boundary geometry, `location` column), indexed by id; cached per revision."""
        from geoplatform.store import read_frame

        def build() -> Any:
            with self.session(readonly=True) as s:
                return read_frame(s, "compound")

        return self.memo("compounds", build)

    def compound_attributes(self, compounds: pd.DataFrame | None = None) -> pd.DataFrame:
        """All plugins' per-compound attributes joined on compound id.

        Without `compounds`: for every stored compound, cached until `data_revision()` changes (plugins
        such as bundling/takeover need the whole district, so bbox requests reuse this). With a frame:
        computed for that frame now, uncached.
        """
        if compounds is None:
            return self.memo("attributes", lambda: self._compute_attributes(self.compounds_frame()))
        return self._compute_attributes(compounds)

    def compound_attribute_values(self) -> dict[str, dict[Any, Any]]:
        """The cached `compound_attributes()` as {column: {compound id: value}} with missing values as None."""

        def build() -> dict[str, dict[Any, Any]]:
            attrs = self.compound_attributes().astype(object)
            attrs = attrs.where(pd.notna(attrs), None)
            return {col: dict(zip(attrs.index, attrs[col].tolist(), strict=True)) for col in attrs.columns}

        return self.memo("attribute_values", build)

    def _compute_attributes(self, compounds: pd.DataFrame) -> pd.DataFrame:
        frames = [df for _, df in call_safely(self.pm, "compute_compound_attributes", context=self,
                                               compounds=compounds) if df is not None and len(df.columns)]
        if not frames:
            return pd.DataFrame(index=compounds.index)
        return pd.concat([f[~f.index.duplicated()] for f in frames], axis=1).reindex(compounds.index)

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


def _with_plugin(spec: Any, plugin: str) -> Any:
    from dataclasses import replace

    return replace(spec, plugin=plugin)
