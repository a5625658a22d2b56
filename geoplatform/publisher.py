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
import logging
import threading
import traceback
from typing import Any

log = logging.getLogger(__name__)

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
    """A worker process (`python -m geoplatform.publisher`, not a fork: the server has threads) answering one
    request at a time over a socket pair."""

    def __init__(self, config: Any, timeout: float = TIMEOUT_S) -> None:
        import socket
        import subprocess
        import sys
        from multiprocessing.connection import Connection

        mine, theirs = socket.socketpair()
        self.process = subprocess.Popen([sys.executable, "-m", "geoplatform.publisher", str(theirs.fileno())],
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


def _serve(conn: Any) -> None:  # pragma: no cover - runs in the worker process (tested through it)
    from geoplatform.context import Context
    from geoplatform.pluginmanager import build_plugin_manager

    try:
        config = conn.recv()
    except (EOFError, OSError):
        return
    import os

    _die_with_parent()
    try:
        os.nice(int(os.environ.get("GEOPLATFORM_RECOMPUTE_NICE", NICE)))
    except (AttributeError, OSError):
        pass
    context = Context(config=config, pm=build_plugin_manager(config.disabled_plugins))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer = ("ok", build_in_worker(context, request))
        except Exception:  # reported to the server, which computes in process instead
            answer = ("error", traceback.format_exc(limit=20))
        try:
            conn.send_bytes(_pickled(answer))  # (the server's recv() unpickles it)
        except (OSError, ValueError):
            return


def _pickled(answer: tuple[str, Any]) -> bytes:
    """`answer` pickled, without the memo values that cannot be (the server computes those itself), or an error."""
    import pickle

    try:
        return pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001  (whatever pickling raises: find the culprit below)
        pass
    status, payload = answer
    if status == "ok":
        memos = {}
        for name, value in payload["memos"].items():
            try:
                pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
                memos[name] = value
            except Exception:  # noqa: BLE001
                log.warning("memo %s cannot be pickled: computed in the server", name)
        try:
            return pickle.dumps((status, {**payload, "memos": memos}), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001
            pass
    return pickle.dumps(("error", f"the answer cannot be pickled:\n{traceback.format_exc(limit=5)}"))


def _die_with_parent() -> None:  # pragma: no cover - in the worker process
    """Linux: SIGTERM when the server goes (a server killed by a signal runs no clean-up that would stop us)."""
    import ctypes
    import os
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG (of the starting thread)
    except (OSError, AttributeError):
        return  # elsewhere: the worker ends at its next read of the closed socket
    if os.getppid() == 1:  # the server went before the call above
        os._exit(0)


def build_in_worker(context: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Bring `context`'s snapshot up to the database's revision and compute everything readers will ask for.

    `request`: seq (the server's write sequence the answer must include), today, old ((seq, revision) of the
    server's published snapshot, or None), changes (the server's `readcache.Change`s after old's seq), recipes
    ({memo name: (recipe, street)}). The worker reuses its own previous snapshot only when it is the server's `old`.
    """
    from geoplatform.context import _BUILDING

    context.today = request["today"]
    mine = context._published
    old = None
    if mine is not None and request["old"] is not None and (mine.seq, mine.revision) == tuple(request["old"]) \
            and mine.today == context.today:
        old = mine
    new = context._build_snapshot(old, request["changes"] if old is not None else [], request["seq"])
    token = _BUILDING.set(new)
    try:
        context.compound_attribute_values()  # the compound frame, the plugin attributes and their values
        memos = {}
        for name, (recipe, street) in request["recipes"].items():
            try:
                memos[name] = (context.memo(name, lambda r=recipe: call_recipe(r, context), street=street), street)
            except Exception:  # one failing recipe: the server computes that value itself, when asked
                log.exception("memo recipe %s failed in the worker", name)
    finally:
        _BUILDING.reset(token)
    with context._lock:
        context._published = new
    return {"revision": new.revision, "compounds": new.compounds, "plugin_attrs": new.plugin_attrs,
            "attributes": new.attributes, "attribute_values": new.attribute_values, "tables": new.tables,
            "touched": new.touched, "streets_touched": new.streets_touched, "memos": memos}


if __name__ == "__main__":  # pragma: no cover - the worker process: python -m geoplatform.publisher FD
    import sys
    from multiprocessing.connection import Connection

    _serve(Connection(int(sys.argv[1])))
