"""Entry-point discovery read once per test process instead of at every plugin manager.

`geoplatform.pluginmanager.build_plugin_manager` runs for every Context, every CLI invocation (twice: the
command tree and the command's Context) and every app, and most of it is reading installed metadata:
`importlib.metadata.entry_points()` scans every distribution, then `_dist_of` parses each entry point's
METADATA (an e-mail parser) for its name and version — ≈ 0.4 s per Context on two busy cores, paid by
thousands of tests. The installed distributions do not change during a test run, so here
  - `pluginmanager.entry_points` answers each group from the first scan of the process, and
  - `pluginmanager._dist_of` remembers (name, version) per entry point and distribution directory.
What the plugin manager does with them (built-ins first, same-name clashes logged, broken plugins skipped)
runs as before. Tests that fake entry points still monkeypatch `pluginmanager.entry_points` over this one
(their fakes call importlib's own). tests/test_suite_support.py checks the cached answer equals a fresh one.
"""

from __future__ import annotations

import functools
import importlib.metadata
from typing import Any

from geoplatform import pluginmanager

_REAL_DIST_OF = pluginmanager._dist_of
_DISTS: dict[tuple, tuple[str | None, str | None]] = {}


@functools.cache
def _scan(group: str) -> importlib.metadata.EntryPoints:
    return importlib.metadata.entry_points(group=group)


def entry_points(*, group: str) -> importlib.metadata.EntryPoints:
    """importlib.metadata.entry_points(group=…), scanned once per process and group."""
    return _scan(group)


def _dist_of(ep: Any) -> tuple[str | None, str | None]:  # noqa: ANN401 - an entry point
    """pluginmanager._dist_of, remembered per (entry point, distribution directory)."""
    path = getattr(getattr(ep, "dist", None), "_path", None)
    if path is None:
        return _REAL_DIST_OF(ep)
    key = (ep.name, ep.value, ep.group, str(path))
    if key not in _DISTS:
        _DISTS[key] = _REAL_DIST_OF(ep)
    return _DISTS[key]


def install() -> None:
    """Read entry points once per process (idempotent)."""
    pluginmanager.entry_points = entry_points
    pluginmanager._dist_of = _dist_of
