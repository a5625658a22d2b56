"""Background load for a benchmark run: N CPU-bound processes, started before and stopped after (`--background-load N`).

Each process spins on integer arithmetic (no I/O, no memory growth) at normal priority, like the other
work of a shared machine; the harness starts them before the databases are built and stops them (by
their own process ids) when the run ends, also on an error or SIGTERM.

Each runs in a session of its own, as another program on the machine does: Linux shares CPU between
sessions first (autogroup: on in this machine's kernel, /proc/sys/kernel/sched_autogroup_enabled) and every
PostgreSQL backend is a session of its own (`ps -o sid`), so spinners in the benchmark's session would take
their share from the benchmark's process (ours, and the peers it starts) and never from the database
server's. Measured on B1 at 10× on PostGIS, alternating blocks of six rounds: 1.25 / 1.29 with the spinners
in the benchmark's session, 1.27 / 1.12 in their own — within the spread, but the load is now what the
option says: other programs.
"""

from __future__ import annotations

import subprocess
import sys
from types import TracebackType

SPIN = "x = 0\nwhile True:\n    x = (x * 1103515245 + 12345) & 0xFFFFFFFF\n"


class BackgroundLoad:
    """Context manager running `n` CPU-bound processes; `pids` while running, none left after exit."""

    def __init__(self, n: int) -> None:
        if n < 0:
            raise ValueError("background load must be ≥ 0 processes")
        self.n = n
        self.procs: list[subprocess.Popen[bytes]] = []

    @property
    def pids(self) -> list[int]:
        """Process ids of the running load processes."""
        return [p.pid for p in self.procs if p.poll() is None]

    def start(self) -> BackgroundLoad:
        """Start the processes (idempotent)."""
        while len(self.procs) < self.n:
            self.procs.append(subprocess.Popen([sys.executable, "-c", SPIN], stdin=subprocess.DEVNULL,
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                               start_new_session=True))
        return self

    def stop(self) -> None:
        """Terminate each process by its id and reap it (kill after 5 s)."""
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []

    def __enter__(self) -> BackgroundLoad:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
