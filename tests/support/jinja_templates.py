"""Jinja templates compiled once per test process instead of once per Flask app.

Every Flask app has its own Jinja environment, and the first render of a page in it lexes, parses and compiles
the template and every template it extends or includes into Python code. The suite builds an app for hundreds
of tests, and each renders a few pages: that compilation was ≈ 6 % of the web and plugin tests' time (cProfile
of a 355-test slice). Jinja's own bytecode cache is made for this: it keys compiled code by template name and
file and checks a checksum of the source, so an edited template is recompiled. Here one in-memory cache is
shared by every app of the process; the apps are built by the same factory with the same Jinja settings, which
is what sharing a bytecode cache requires. tests/test_suite_support.py checks that the cached code is what a
fresh compilation gives.
"""

from __future__ import annotations

from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class ProcessBytecodeCache(BytecodeCache):
    """Compiled templates in a dict of this process (marshalled code, as Jinja's file cache stores it)."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}
        self.hits = 0

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self.store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)  # checks the source checksum: a changed template misses
            self.hits += bucket.code is not None

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


CACHE = ProcessBytecodeCache()
_ORIGINAL = Flask.create_jinja_environment


def _create_jinja_environment(self: Flask):  # noqa: ANN202
    env = _ORIGINAL(self)
    env.bytecode_cache = CACHE
    return env


def install() -> None:
    """Share one bytecode cache among the Jinja environments of every app of this process (idempotent)."""
    Flask.create_jinja_environment = _create_jinja_environment


def uninstall() -> None:
    """Flask's own environment, compiling per app, again."""
    Flask.create_jinja_environment = _ORIGINAL
