"""`geoplatform serve`: waitress serving the app (the dev server only with --debug)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_help(cli_run) -> None:  # noqa: ANN001
    r = cli_run(None, "serve", "--help")
    assert r.exit_code == 0
    for option in ("--host", "--port", "--debug"):
        assert option in r.stdout


def test_serve_refuses_an_uninitialised_database(cli_run, tmp_path) -> None:  # noqa: ANN001
    r = cli_run(f"sqlite:///{tmp_path / 'empty.sqlite'}", "serve", "--port", "1")
    assert r.exit_code == 2 and "geoplatform init" in r.stderr


def test_serve_runs_waitress(web_demo, tmp_path) -> None:  # noqa: ANN001
    port = _free_port()
    exe = Path(sys.executable).with_name("geoplatform")
    env = {**os.environ, "GEOPLATFORM_INSTANCE": str(tmp_path)}
    proc = subprocess.Popen([str(exe), "--db", web_demo.url, "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        body, server = None, None
        deadline = time.monotonic() + 300  # a bound on a hang only: a slow start is waited for, not failed
        while body is None and proc.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
                    body, server = r.read().decode(), r.headers.get("Server")
            except OSError:
                time.sleep(0.2)
        assert body is not None and '"ok"' in body, proc.stderr.read() if proc.poll() is not None else "no answer"
        assert server == "geoplatform"  # waitress' ident, not Werkzeug's dev server
    finally:
        proc.terminate()
        proc.wait(timeout=60)
