"""Build a pluggy PluginManager per app/CLI invocation: built-ins and third-party plugins via entry points."""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points

import pluggy

from geoplatform import hookspecs

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "geoplatform"
# Built-ins are also listed here so a source checkout that is not pip-installed still has them.
BUILTIN_PLUGINS = ("access", "coverage", "handover", "charging", "takeover", "bundling", "basemaps")


def build_plugin_manager(disabled: list[str] | tuple[str, ...] = ()) -> pluggy.PluginManager:
    """A fresh manager with every enabled plugin registered; broken plugins are logged and skipped."""
    pm = pluggy.PluginManager("geoplatform")
    pm.add_hookspecs(hookspecs)
    pm.broken = {}  # type: ignore[attr-defined]  # name -> error text, shown by `geoplatform layers`
    seen: set[str] = set()
    candidates: list[tuple[str, str]] = [(name, f"plugins.{name}") for name in BUILTIN_PLUGINS]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        candidates.append((ep.name, ep.value))
    for name, target in candidates:
        if name in seen or name in disabled:
            continue
        seen.add(name)
        try:
            module = importlib.import_module(target.split(":")[0])
            if ":" in target:
                module = getattr(module, target.split(":")[1])
            pm.register(module, name=name)
        except Exception as exc:  # a broken third-party plugin must not take the app down
            log.warning("plugin %s (%s) failed to load and is skipped: %s", name, target, exc)
            pm.broken[name] = f"{type(exc).__name__}: {exc}"  # type: ignore[attr-defined]
            if pm.is_registered(name=name):  # pragma: no cover
                pm.unregister(name=name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise RuntimeError(f"a plugin implements an unknown hook: {exc}") from exc
    return pm


def plugin_version(pm: pluggy.PluginManager, name: str) -> str:
    """The distribution version of a registered plugin (the core's version for built-ins)."""
    from geoplatform import __version__

    for dist, plugin in ((d, p) for p, d in pm.list_plugin_distinfo()):
        if pm.get_name(plugin) == name:
            return dist.version
    return __version__


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
