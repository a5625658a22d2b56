"""Build a pluggy PluginManager per app/CLI invocation: built-ins and third-party plugins via entry points."""

from __future__ import annotations

import importlib
import logging
import tomllib
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution, entry_points
from pathlib import Path

import pluggy

from geoplatform import hookspecs

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "geoplatform"  # plugins (built-in and third-party)
COMMANDS_GROUP = "geoplatform.commands"  # commands of the application's own packages above the core (`serve`)
DISTRIBUTION = "geoplatform"  # whose entry points are the built-ins
SOURCE_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"  # a source checkout's declarations
# The order the built-ins register in, hence the order of their layers, panels and menu entries (installed
# entry-point metadata is alphabetical). It only orders: what loads is what the entry points declare.
BUILTIN_ORDER = ("access", "coverage", "handover", "charging", "takeover", "bundling", "owners_org", "governance",
                 "firms", "basemaps")


@dataclass(frozen=True)
class Declared:
    """One entry point: its name, target ("module[:attr]"), distribution and, for third parties, its version."""

    name: str
    target: str
    dist: str | None
    version: str | None = None

    @property
    def builtin(self) -> bool:
        """Declared by geoplatform itself."""
        return self.dist == DISTRIBUTION


def _installed() -> bool:
    try:
        distribution(DISTRIBUTION)
    except PackageNotFoundError:
        return False
    return True


def _from_pyproject(group: str) -> list[Declared]:
    """A source checkout that is not pip-installed: the built-ins as pyproject.toml declares them."""
    try:
        data = tomllib.loads(SOURCE_PYPROJECT.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        log.warning("geoplatform is not installed and %s cannot be read (%s): no built-in %s entry points",
                    SOURCE_PYPROJECT, exc, group)
        return []
    declared = data.get("project", {}).get("entry-points", {}).get(group, {})
    return [Declared(name, target, DISTRIBUTION) for name, target in declared.items()]


def _dist_of(ep: object) -> tuple[str | None, str | None]:
    """(distribution name, version) of an entry point; (None, None) when unknown."""
    try:
        dist = getattr(ep, "dist", None)
        return (dist.metadata["Name"], dist.version) if dist is not None else (None, None)
    except Exception:  # unreadable metadata: the entry point still loads, without a version
        return None, None


def declared_entry_points(group: str) -> list[Declared]:
    """The entry points of `group`, built-ins first, one per name.

    Built-ins are geoplatform's own entry points (pyproject.toml's `[project.entry-points.<group>]`;
    read from that file only when geoplatform is not pip-installed, e.g. a bare source checkout).
    When two declare the same name the first is kept — a built-in over a third-party plugin — and the
    clash is logged with both targets, never silently ignored.
    """
    found = []
    for ep in entry_points(group=group):
        dist, version = _dist_of(ep)
        found.append(Declared(ep.name, ep.value, dist, None if dist == DISTRIBUTION else version))
    if not _installed():
        found = _from_pyproject(group) + [d for d in found if not d.builtin]
    rank = {name: i for i, name in enumerate(BUILTIN_ORDER)}
    # stable: built-ins first (in BUILTIN_ORDER, then any other in declared order), third parties as found
    found.sort(key=lambda d: (not d.builtin, rank.get(d.name, len(rank)) if d.builtin else 0))
    out: dict[str, Declared] = {}
    for d in found:
        kept = out.get(d.name)
        if kept is None:
            out[d.name] = d
        elif kept.target != d.target or kept.dist != d.dist:
            log.warning("entry point %r of group %s is declared twice: %s (%s) is kept, %s (%s) is ignored",
                        d.name, group, kept.target, kept.dist or "unknown distribution", d.target,
                        d.dist or "unknown distribution")
    return list(out.values())


def load_target(target: str) -> object:
    """The object an entry point names: "module" or "module:attr.attr"."""
    module = importlib.import_module(target.split(":")[0])
    if ":" in target:
        for attr in target.split(":")[1].split("."):
            module = getattr(module, attr)
    return module


def build_plugin_manager(disabled: list[str] | tuple[str, ...] = ()) -> pluggy.PluginManager:
    """A fresh manager with every enabled plugin registered; broken plugins are logged and skipped.

    A plugin is broken when importing it raises, when a hook implementation's arguments do not fit
    the spec, or when it implements a hook name that is not in `hookspecs` (pluggy's check_pending).
    `pm.broken` maps their names to the error; `pm.versions` maps plugin names to versions.
    """
    pm = pluggy.PluginManager("geoplatform")
    pm.add_hookspecs(hookspecs)
    pm.broken = {}  # type: ignore[attr-defined]  # name -> error text, shown by `geoplatform layers`
    pm.versions = {}  # type: ignore[attr-defined]  # name -> distribution version (third-party plugins)
    for d in declared_entry_points(ENTRY_POINT_GROUP):
        name, target, version = d.name, d.target, d.version
        if name in disabled:
            continue
        try:
            pm.register(load_target(target), name=name)
            pm.check_pending()
        except Exception as exc:  # a broken third-party plugin must not take the app down
            log.warning("plugin %s (%s) is broken and skipped: %s", name, target, exc)
            pm.broken[name] = f"{type(exc).__name__}: {exc}"  # type: ignore[attr-defined]
            if pm.get_plugin(name) is not None:
                pm.unregister(name=name)
            continue
        if version:
            pm.versions[name] = version  # type: ignore[attr-defined]
    load_messages(pm)
    return pm


def load_messages(pm: pluggy.PluginManager) -> None:
    """Merge every registered plugin's `register_messages()` catalogues into the i18n catalogues.

    Called when a plugin manager is built (so the CLI and every Context have them) and again when a
    Context or the web app is built (plugins registered later, e.g. by tests, are merged then).
    """
    from geoplatform.i18n import add_messages

    for plugin, catalogues in reversed(call_safely(pm, "register_messages")):
        if isinstance(catalogues, dict):
            add_messages({lang: dict(entries) for lang, entries in catalogues.items() if isinstance(entries, dict)})
        else:
            log.warning("plugin %s: register_messages must return {lang: {key: text}}", plugin)


def plugin_version(pm: pluggy.PluginManager, name: str) -> str:
    """The distribution version of a registered plugin (the core's version for built-ins)."""
    from geoplatform import __version__

    return getattr(pm, "versions", {}).get(name) or __version__


def call_safely(pm: pluggy.PluginManager, hook_name: str, **kwargs) -> list:  # noqa: ANN003
    """Call a hook implementation by implementation, skipping (and logging) ones that raise."""
    results = []
    hook = getattr(pm.hook, hook_name)
    for impl in reversed(hook.get_hookimpls()):
        args = {k: v for k, v in kwargs.items() if k in impl.argnames}
        try:
            res = impl.function(**args)
        except Exception as exc:
            log.exception("plugin %s failed in %s: %s", impl.plugin_name, hook_name, exc)
            continue
        if res is not None:
            results.append((impl.plugin_name, res))
    return results
