"""A plugin module's hook implementations found once per test process instead of at every plugin manager.

`geoplatform.pluginmanager.build_plugin_manager` builds a fresh pluggy manager for every Context, CLI call and
app, and `PluginManager.register` looks at every attribute of each plugin module (`dir(module)`) through
`parse_hookimpl_opts` and `_static_hook_attr`, both walking the attribute statically (`inspect.getattr_static`):
≈ 4 % of the web and plugin tests' time (cProfile of a 355-test slice), for answers that cannot change while the
module's attribute stays the same object. Here both answers are remembered per (module, attribute name) together
with the attribute's value, and reused only while the module still holds that very value — a test that swaps a
hook function on a module gets a fresh answer. Classes, instances and other managers' plugins (pytest's own) are
parsed as before. Registration itself (spec checks, ordering, clashes) runs unchanged.
tests/test_suite_support.py checks that a manager built with the cache equals one built without it.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pluggy
from pluggy import _manager

_ORIGINAL_PARSE = pluggy.PluginManager.parse_hookimpl_opts
_ORIGINAL_STATIC = _manager._static_hook_attr
_MISSING = object()
_OPTS: dict[tuple[int, str, str], tuple[ModuleType, Any, Any]] = {}
_STATIC: dict[tuple[int, str, str], tuple[ModuleType, Any, Any]] = {}


def _remembered(table: dict, plugin: ModuleType, name: str, extra: str, compute: Any) -> Any:  # noqa: ANN401
    """compute(), remembered per (module, name, extra) while the module holds the same value under `name`."""
    value = plugin.__dict__.get(name, _MISSING)
    key = (id(plugin), name, extra)
    hit = table.get(key)
    if hit is not None and hit[0] is plugin and hit[1] is value:
        return hit[2]
    answer = compute()
    table[key] = (plugin, value, answer)  # the module is kept alive, so its id is not reused
    return answer


def _parse_hookimpl_opts(self: pluggy.PluginManager, plugin: Any, name: str) -> Any:  # noqa: ANN401
    if type(self) is not pluggy.PluginManager or not isinstance(plugin, ModuleType):
        return _ORIGINAL_PARSE(self, plugin, name)
    opts = _remembered(_OPTS, plugin, name, self.project_name, lambda: _ORIGINAL_PARSE(self, plugin, name))
    return None if opts is None else dict(opts)  # register normalises the dict in place: hand out a copy


def _static_hook_attr(obj: object, name: str) -> Any:  # noqa: ANN401
    if not isinstance(obj, ModuleType):
        return _ORIGINAL_STATIC(obj, name)
    return _remembered(_STATIC, obj, name, "", lambda: _ORIGINAL_STATIC(obj, name))


def install() -> None:
    """Remember plugin modules' hook implementations per process (idempotent)."""
    pluggy.PluginManager.parse_hookimpl_opts = _parse_hookimpl_opts
    _manager._static_hook_attr = _static_hook_attr


def uninstall() -> None:
    """pluggy's own per-register parsing again."""
    pluggy.PluginManager.parse_hookimpl_opts = _ORIGINAL_PARSE
    _manager._static_hook_attr = _ORIGINAL_STATIC
