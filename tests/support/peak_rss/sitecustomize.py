"""Test support, on a child's PYTHONPATH: write the process's own peak resident set (VmHWM, kB) to $GP_TEST_HWM_FILE
at exit. The child's ru_maxrss cannot be used: Linux carries the forking parent's high-water mark (a pytest worker
that has run hundreds of tests) across fork and exec into it; VmHWM belongs to the new program's memory alone."""

import atexit
import os

_PATH = os.environ.get("GP_TEST_HWM_FILE")


def _write_peak() -> None:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                with open(_PATH, "w", encoding="ascii") as out:
                    out.write(line.split()[1])


if _PATH:
    atexit.register(_write_peak)
