"""The data revision that keys the HTTP caches (ETags): the context's memoised fingerprint plus today."""

from __future__ import annotations

from geoplatform.context import Context


def data_revision(context: Context) -> str:
    """A short string that differs after any change of the data the map shows.

    One fingerprint per context, shared with the plugin-attribute caches and re-read at most every
    `Context.revision_ttl` seconds (a write by another process shows up in ETags after at most that).
    """
    revision, today = context.current_revision(), context.today
    memo = getattr(context, "_revision_text", None)  # the text of the last revision seen (every request asks)
    if memo is not None and memo[0] is revision and memo[1] == today:
        return memo[2]
    text = "|".join(map(str, revision)) + f"|{today.isoformat()}"
    context._revision_text = (revision, today, text)
    return text


def invalidate(context: Context) -> None:
    """Re-read the fingerprint on next use (called after this process commits a write)."""
    context.refresh_revision()
