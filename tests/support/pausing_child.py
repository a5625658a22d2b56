"""`geoplatform …` in a child process that stops dead at a chosen point, so that SIGKILL lands exactly there.

The child watches its own stderr for a marker (a stage line of the CLI); from then on it lets `after` more SQL
statements through and pauses before the next one (`after` = 0: at the marker itself), writing PAUSED on
stderr. A run that never reaches that statement simply finishes (and commits).

Children are forked from a multiprocessing fork server that has imported the CLI once (`geoplatform.cli` and
what it pulls in: SQLAlchemy, pandas, GeoPandas…), instead of each starting a fresh interpreter and importing
it again (≈ 1.3 s per child, eight children per database in tests/security/test_concurrency.py). A child is a
separate process all the same: its own connections and transaction, killed with SIGKILL by the test. Its
stderr goes to a file the test reads as it grows.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from pathlib import Path

PAUSED = "@@PAUSED@@"
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["geoplatform.cli"])


def _run(argv: list[str], env: dict[str, str], stderr_path: str, marker: str, after: int, chunk: int | None) -> None:
    """The child: stderr to `stderr_path`, the pause armed, then the CLI's `main(argv)`; exits with its code."""
    fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    os.close(fd)
    real = open(2, "w", encoding="utf-8", closefd=False, buffering=1)  # noqa: SIM115 - the process's stderr
    os.environ.update(env)
    state = {"armed": False, "left": after}

    def pause() -> None:
        real.write(f"\n{PAUSED}\n")
        real.flush()
        time.sleep(600)  # the test kills us long before
        os._exit(3)

    class Watched:
        def write(self, text: str) -> int:
            n = real.write(text)
            real.flush()
            if not state["armed"] and isinstance(text, str) and marker in text:
                state["armed"] = True
                if state["left"] <= 0:
                    pause()
            return n

        def __getattr__(self, name: str):  # noqa: ANN204
            return getattr(real, name)

    sys.stderr = Watched()
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "before_cursor_execute")
    def _statement(*args: object) -> None:
        if state["armed"]:
            if state["left"] <= 0:
                pause()
            state["left"] -= 1

    if chunk:  # smaller write chunks: the same stages and kills on a smaller file
        import geoplatform.io.writer

        geoplatform.io.writer.CHUNK = chunk
    from geoplatform.cli import main

    code: object = 0
    try:
        main(argv)
    except SystemExit as exc:
        code = 0 if exc.code is None else exc.code
    real.flush()
    os._exit(code if isinstance(code, int) else 1)


class PausingChild:
    """`geoplatform ARGV` run in a forked child with GEOPLATFORM_DATABASE_URL=db_url, pausing as described above."""

    def __init__(self, db_url: str, argv: list[str], stderr_path: Path, pause_on: str, after: int = 0,
                 chunk: int | None = None) -> None:
        self.stderr_path = stderr_path
        stderr_path.write_text("")
        env = {"GEOPLATFORM_DATABASE_URL": db_url, "PYTHONUNBUFFERED": "1"}
        self.process = _CONTEXT.Process(target=_run, args=(argv, env, str(stderr_path), pause_on, after, chunk))
        self.process.start()

    def kill_when_paused(self, timeout: float = 600) -> tuple[bool, str]:
        """Wait until the child pauses (then SIGKILL it) or ends by itself; returns (killed, what it wrote)."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.stderr_path.read_text(encoding="utf-8", errors="replace")
            if PAUSED in seen:
                killed = True
                break
            if not self.process.is_alive():
                killed = False
                break
            if time.monotonic() > deadline:  # hung past the timeout: kill -9 where it stands
                killed = False
                break
            time.sleep(0.02)
        if self.process.is_alive():
            self.process.kill()  # SIGKILL
        self.process.join(timeout=60)
        return killed, self.stderr_path.read_text(encoding="utf-8", errors="replace")

    @property
    def returncode(self) -> int | None:
        """The child's exit code (negative: the signal that ended it), as subprocess.Popen gives it."""
        return self.process.exitcode
