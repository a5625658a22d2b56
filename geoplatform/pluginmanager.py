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


def _candidates() -> list[tuple[str, str, str | None]]:
    """(name, "module[:attr]", distribution version or None) of built-ins then entry points."""
    out: list[tuple[str, str, str | None]] = [(name, f"plugins.{name}", None) for name in BUILTIN_PLUGINS]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            dist = getattr(ep, "dist", None)
            version = dist.version if dist is not None and dist.metadata["Name"] != "geoplatform" else None
        except Exception:  # unreadable metadata: the plugin still loads, without a version
            version = None
        out.append((ep.name, ep.value, version))
    return out


def _load(target: str) -> object:
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
    seen: set[str] = set()
    for name, target, version in _candidates():
        if name in seen or name in disabled:
            continue
        seen.add(name)
        try:
            pm.register(_load(target), name=name)
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
