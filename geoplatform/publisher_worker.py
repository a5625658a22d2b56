"""The worker process of geoplatform.publisher (`python -m geoplatform.publisher_worker FD`): a Context of its own
on the server's database, answering the server's requests for the next revision over the socket FD."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from geoplatform.publisher import NICE, call_recipe

log = logging.getLogger(__name__)


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


if __name__ == "__main__":  # pragma: no cover - the worker process
    import sys
    from multiprocessing.connection import Connection

    _serve(Connection(int(sys.argv[1])))
