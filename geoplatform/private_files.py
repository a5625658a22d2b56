"""Files that hold secrets are created readable by their owner only (0600), whatever the umask.

They are: the SQLite database (password and token hashes; SQLite gives its -wal/-shm/-journal files the mode of
the database file), backups (the same hashes) and the instance secret key. Each is created through `os.open`
with mode 0600 — never created first and chmod-ed after, which leaves a moment when others can open it.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_MODE = 0o600


def create_private(path: str | Path) -> bool:
    """Create `path` empty with mode 0600 unless it exists; True when it was created here."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    os.chmod(path, PRIVATE_MODE)  # the umask can only take bits away; this puts exactly 0600
    return True


def write_private(path: str | Path, data: bytes) -> None:
    """Write `data` to a new or truncated file `path` that ends up with mode 0600 (an existing file is narrowed to
    0600 before anything is written into it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
    try:
        os.fchmod(fd, PRIVATE_MODE)
        with os.fdopen(fd, "wb", closefd=False) as fh:
            fh.write(data)
    finally:
        os.close(fd)


def exposure(path: str | Path) -> str | None:
    """A warning when an existing secret file can be read or written by others than its owner (made by an older
    version, or copied with a wide mode), else None."""
    try:
        mode = os.stat(path).st_mode & 0o777
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return (f"{path} has mode {mode:04o}: others can read it and it holds password and token hashes — "
            f"`chmod 600 {path}*` (docs/deploy.md)")
