"""The data revision that keys the HTTP caches (ETags): `Context.data_revision()` plus today, briefly memoised."""

from __future__ import annotations

import threading
import time

from geoplatform.context import Context

TTL_SECONDS = 1.0  # a write by another process shows up in ETags after at most this long
_lock = threading.Lock()
_cache: dict[int, tuple[float, str]] = {}


def data_revision(context: Context) -> str:
    """A short string that differs after any change of the data the map shows."""
    key = id(context)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
        if hit and now - hit[0] < TTL_SECONDS:
            return hit[1]
    rev = "|".join(map(str, context.data_revision())) + f"|{context.today.isoformat()}"
    with _lock:
        _cache[key] = (now, rev)
    return rev


def invalidate(context: Context) -> None:
    """Forget the memoised revision (called after this process commits a write)."""
    with _lock:
        _cache.pop(id(context), None)
