"""A WSGI app under waitress on 127.0.0.1 for the tests and benchmarks, and a stop that is safe at any machine speed.

`srv.close()` under a request still being served (the browser loads layers in the background) closes the
server's wake-up pipe; the request's thread then writes its wake-up byte to that descriptor number — which by
then may be the next test's SQLite file ("file is not a database", seen on a busy CI machine). So stopping
first lets the requests in flight finish, then has the server's own loop close every channel and return.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

STOP_LIMIT_S = 120.0  # only a bound on a hang: nothing is asserted on how long stopping takes


@contextmanager
def served(app: Any, threads: int = 6) -> Iterator[str]:
    """`app` served by waitress on a free 127.0.0.1 port in a daemon thread; yields its base URL."""
    srv, thread = start(app, threads)
    try:
        yield f"http://127.0.0.1:{srv.effective_port}"
    finally:
        stop(srv, thread)


def start(app: Any, threads: int = 6, name: str | None = None) -> tuple[Any, threading.Thread]:
    """`app` served by waitress on a free 127.0.0.1 port in a daemon thread: (server, thread), for stop()."""
    from waitress.server import create_server

    srv = create_server(app, host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=srv.run, daemon=True, name=name)
    thread.start()
    return srv, thread


def stop(srv: Any, thread: threading.Thread) -> None:
    """Finish the requests in flight, then close every channel from inside the server's loop, which then ends."""
    srv.task_dispatcher.shutdown(timeout=STOP_LIMIT_S)
    channels = getattr(srv, "_map", None)
    if channels is None:
        channels = srv.map

    def close_all() -> None:
        for channel in list(channels.values()):  # the listening socket, the wake-up pipe, client connections
            channel.close()

    srv.trigger.pull_trigger(close_all)  # runs in the loop's thread; with its map empty the loop returns
    thread.join(timeout=STOP_LIMIT_S)
    if thread.is_alive():  # pragma: no cover - the loop did not come round: close from here as before
        srv.close()
