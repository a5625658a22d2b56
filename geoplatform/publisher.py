"""The next revision computed in a worker process the server owns (issue 25, item 3): readers keep the interpreter.

After a committed write, bringing the caches up to the next data revision costs seconds of CPU (the district-wide
plugin attributes, then the per-revision answers every map view needs: dot maps, the street KPI report, the
bundling plan). Computed beside the request threads, that work holds the interpreter lock they need; computed
here, in a separate process, it does not. The server's `Context` hands the request to the worker and keeps
answering from the previous revision until the worker's answer is published (single-flight and read-your-writes
stay the Context's: see geoplatform/context.py and geoplatform/readcache.py).

The worker is a `Context` of its own on the same database (same config, the registered plugins). For each
request it brings *its* previous snapshot up to the database's current revision — only what the server's
writes since then touched, when they say (the same `Context._build_snapshot` as in process) — computes every
part of it (compound frame, plugin attributes, their values) and the memo values that have a *recipe* (a
module-level function and its arguments, `Context.memo(..., recipe=...)`), and sends them back pickled.

The worker's scheduling priority is `NICE` (the server's by default): a higher niceness lets the request threads
come first on busy cores, and the next revision then takes longer (readers are answered from the previous one
meanwhile; a session that wrote waits for the revision with its write).

Anything wrong with the worker (it died, it raised, it took longer than `timeout`) makes the server compute in
process instead, as it does without a worker.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

TIMEOUT_S = 600.0  # [D] a worker answer taking longer than this is given up (the server computes in process)
# [D] the worker's scheduling niceness (GEOPLATFORM_RECOMPUTE_NICE): 0, the server's. At 5 the request threads got
# the CPU first on a busy host (≈ 3:1) but a write waited 15 s instead of 7 s for its revision (B8, load 13)
NICE = 0


class PublisherError(RuntimeError):
    """The worker could not answer (dead, failed or too slow): compute in process."""


def call_recipe(recipe: tuple[str, tuple[Any, ...]], context: Any) -> Any:
    """Evaluate a memo recipe ("module:function", args) for `context`: function(context, *args)."""
    path, args = recipe
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)(context, *args)


class Publisher:
    """A worker process (`python -m geoplatform.publisher_worker`, not a fork: the server has threads) answering one
    request at a time over a socket pair."""

    def __init__(self, config: Any, timeout: float = TIMEOUT_S) -> None:
        import socket
        import subprocess
        import sys
        from multiprocessing.connection import Connection

        mine, theirs = socket.socketpair()
        self.process = subprocess.Popen([sys.executable, "-m", "geoplatform.publisher_worker", str(theirs.fileno())],
                                        pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
        theirs.close()
        self._conn = Connection(mine.detach())
        self._conn.send(config)
        self.timeout = timeout
        self._lock = threading.Lock()
        self.failed = False

    @property
    def alive(self) -> bool:
        """Whether requests still go to the worker."""
        return not self.failed and self.process.poll() is None

    def build(self, request: dict[str, Any]) -> dict[str, Any]:
        """The worker's answer to `request` (see `build_in_worker`), or PublisherError."""
        with self._lock:
            if not self.alive:
                raise PublisherError("the worker is not running")
            try:
                self._conn.send(request)
                if not self._conn.poll(self.timeout):
                    self._give_up("no answer in time")
                status, payload = self._conn.recv()
            except (EOFError, OSError) as exc:
                self._give_up(repr(exc))
            if status != "ok":
                raise PublisherError(payload)
            return payload

    def _give_up(self, why: str) -> None:
        self.failed = True
        self.close()
        raise PublisherError(f"the worker stopped answering ({why})")

    def close(self) -> None:
        """Stop the worker."""
        self.failed = True
        try:
            self._conn.close()
        except OSError:
            pass
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except Exception:  # noqa: BLE001  (it will not stop: kill it)
                self.process.kill()
