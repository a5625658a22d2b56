"""Coverage and owners' organisation rates month by month, reconstructed from the audit trail.

Method: start from today's compounds and walk the audit events of entity `compound` backwards, newest
first. At each month end, every later change is undone: an event whose `before` holds management_mode /
owners_org restores those values (PATCH edits, bundling, `--upsert` imports list `before.rows`), and the
compounds an import inserted after that month end (its `after.keys` minus the updated rows) are taken out.
The rates of each month end then come from the coverage plugin's `group_kpis` (the same rules as `kpi`).
Compounds loaded without an audit event (the demo loader, raw SQL) count as always present, so with no
history the line is flat. An import lists at most 1,000 keys in its event; beyond that the count is approximate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

TRACKED = ("management_mode", "owners_org")


def month_ends(today: dt.date, months: int) -> list[dt.date]:
    """The last day of each of the `months` months up to today's month (today itself for the current month)."""
    out: list[dt.date] = []
    y, mth = today.year, today.month
    for _ in range(months):
        first_next = dt.date(y + (mth == 12), mth % 12 + 1, 1)
        out.append(min(today, first_next - dt.timedelta(days=1)))
        y, mth = (y - 1, 12) if mth == 1 else (y, mth - 1)
    return out[::-1]


def _undo(state: dict[str, dict[str, Any]], event: Mapping[str, Any]) -> None:
    before, after = event.get("before") or {}, event.get("after") or {}
    if event.get("action") == "import":
        rows = before.get("rows") or [] if isinstance(before, dict) else []
        updated = {str(r.get("id")) for r in rows}
        for r in rows:
            rec = state.get(str(r.get("id")))
            if rec is not None:
                rec.update({k: r[k] for k in TRACKED if k in r})
        for key in (after.get("keys") or []) if isinstance(after, dict) else []:
            if str(key) not in updated:
                state.pop(str(key), None)
        return
    rec = state.get(str(event.get("entity_id")))
    if rec is not None and isinstance(before, dict):
        rec.update({k: before[k] for k in TRACKED if k in before})


def reconstruct(compounds: pd.DataFrame, events: Iterable[Mapping[str, Any]], ends: Sequence[dt.date],
                kpis: Any) -> list[dict[str, Any]]:
    """[{month, coverage_rate, owners_org_rate, compounds}] per month end; `kpis(frame)` is coverage.rules.group_kpis."""
    state = {str(i): {"management_mode": mm, "owners_org": oo, "households": hh}
             for i, mm, oo, hh in zip(compounds["id"], compounds["management_mode"], compounds["owners_org"],
                                      compounds["households"], strict=True)}
    newest_first = sorted(events, key=lambda e: e["at"], reverse=True)
    out: list[dict[str, Any]] = []
    k = 0
    for end in sorted(ends, reverse=True):
        cutoff = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
        while k < len(newest_first) and _naive(newest_first[k]["at"]) >= cutoff:
            _undo(state, newest_first[k])
            k += 1
        frame = pd.DataFrame(list(state.values()), columns=["management_mode", "owners_org", "households"])
        figures = kpis(frame)
        out.append({"month": end.strftime("%Y-%m"), "coverage_rate": figures["coverage_rate"],
                    "owners_org_rate": figures["owners_org_rate"], "compounds": figures["compounds"]})
    return out[::-1]


def _naive(at: Any) -> dt.datetime:
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at)
    return at.replace(tzinfo=None) if at.tzinfo else at
