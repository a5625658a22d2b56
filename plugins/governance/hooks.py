"""What the plugin asks of the others and of the clock: owners' organisations (`owners_org_status`) and "now"."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

from plugins.governance import rules
from plugins.governance.settings import GovernanceSettings

log = logging.getLogger(__name__)


def org_lookup(context: Any) -> Callable[[list[str]], Mapping[str, Any] | None]:
    """compound ids → {id: OrgStatus} from the owners' organisation plugin, or None when no plugin answers
    (the rules then fall back to `compound.owners_org`)."""

    def lookup(compound_ids: list[str]) -> Mapping[str, Any] | None:
        from geoplatform.exchange import owners_org_statuses

        return owners_org_statuses(context, compound_ids)  # a plugin that raises is logged and skipped

    return lookup


def local_now(settings: GovernanceSettings) -> dt.datetime:
    """The current local time (settings.timezone, naive) — the clocks are kept in local time."""
    try:
        from zoneinfo import ZoneInfo

        return dt.datetime.now(ZoneInfo(settings.timezone)).replace(tzinfo=None, microsecond=0)
    except Exception:  # no tz database: Beijing time has had no DST since 1991
        return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).replace(tzinfo=None, microsecond=0)


def as_of(today: dt.date, settings: GovernanceSettings, now: dt.datetime | None = None) -> dt.datetime:
    """The moment the 24-hour clock is judged at for `today` (now for the current day, else its end)."""
    return rules.as_of_moment(today, now or local_now(settings), dt.date.today())
