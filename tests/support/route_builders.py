"""Werkzeug's URL builders compiled once per test process instead of once per Flask app.

`create_app` registers ≈ 400 rules, and werkzeug compiles two URL-builder functions for each when a rule is
bound to the app's map (`Rule._compile_builder`: an AST built and `compile()`d) — ≈ 80 % of `create_app`,
about a second on two busy cores, and the suite creates an app for hundreds of tests. The function compiled
is a pure function of the rule's text, its parsed trace and `append_unknown` (the rule itself and its
converters are passed in as the `.self` argument at call time), so the same rule on a new app gets the very
same code: the cache below hands back the function compiled the first time. Rules with `defaults` (folded
into the code through their converters) are compiled as before. tests/test_suite_support.py checks that
every route of the app builds the same URLs with and without the cache.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing.rules import Rule

_ORIGINAL = Rule._compile_builder
_CACHE: dict[tuple, Callable[..., Any]] = {}


def _cached_compile_builder(self: Rule, append_unknown: bool = True) -> Callable[..., Any]:
    if self.defaults:
        return _ORIGINAL(self, append_unknown)
    key = (self.rule, append_unknown, tuple(self._trace))
    func = _CACHE.get(key)
    if func is None:
        func = _CACHE[key] = _ORIGINAL(self, append_unknown)
    return func


def install() -> None:
    """Compile each rule's URL builders once per process (idempotent)."""
    Rule._compile_builder = _cached_compile_builder


def uninstall() -> None:
    """Werkzeug's own compile-per-bind again."""
    Rule._compile_builder = _ORIGINAL
