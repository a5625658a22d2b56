"""The data revision that keys the HTTP caches (ETags): the context's memoised fingerprint plus today."""

from __future__ import annotations

from geoplatform.context import Context


def data_revision(context: Context) -> str:
    """A short string that differs after any change of the data the map shows.

    One fingerprint per context, shared with the plugin-attribute caches and re-read at most every
    `Context.revision_ttl` seconds (a write by another process shows up in ETags after at most that).
    """
    return "|".join(map(str, context.current_revision())) + f"|{context.today.isoformat()}"


def invalidate(context: Context) -> None:
    """Re-read the fingerprint on next use (called after this process commits a write)."""
    context.refresh_revision()
