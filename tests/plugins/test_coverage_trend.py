"""The coverage trend reconstructed from audit events (pure function, hand-made events, no database)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from plugins.coverage.rules import group_kpis
from plugins.coverage.settings import CoverageSettings
from plugins.coverage.trend import month_ends, reconstruct

NOW = pd.DataFrame({"id": ["a", "b", "c", "d"], "management_mode": ["professional", "professional", "none", "none"],
                    "owners_org": ["owners_committee", "none", "none", "none"], "households": [10, 10, 10, 10]})
ENDS = [dt.date(2026, 9, 30), dt.date(2026, 10, 31), dt.date(2026, 11, 26)]


def kpis(frame: pd.DataFrame) -> dict:
    return group_kpis(frame, CoverageSettings())


def test_month_ends() -> None:
    assert month_ends(dt.date(2026, 1, 15), 3) == [dt.date(2025, 11, 30), dt.date(2025, 12, 31), dt.date(2026, 1, 15)]


@pytest.mark.parametrize(("events", "coverage", "owners"), [
    ([], [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]),  # no history: flat
    ([{"at": dt.datetime(2026, 10, 5), "action": "update", "entity_id": "b",
       "before": {"management_mode": "none"}, "after": {"management_mode": "professional"}}],
     [0.25, 0.5, 0.5], [0.25, 0.25, 0.25]),  # b became served in October
    ([{"at": dt.datetime(2026, 11, 2), "action": "update", "entity_id": "a",
       "before": {"owners_org": "none"}, "after": {"owners_org": "owners_committee"}}],
     [0.5, 0.5, 0.5], [0.0, 0.0, 0.25]),  # a's committee formed in November
    ([{"at": dt.datetime(2026, 10, 20), "action": "import", "entity_id": None, "before": None,
       "after": {"keys": ["c", "d"], "inserted": 2, "updated": 0}}],
     [1.0, 0.5, 0.5], [0.5, 0.25, 0.25]),  # c and d were imported in October: absent at the end of September
    ([{"at": dt.datetime(2026, 10, 20), "action": "import", "entity_id": None,
       "before": {"rows": [{"id": "a", "management_mode": "none", "owners_org": "none"}], "count": 1},
       "after": {"keys": ["a"], "inserted": 0, "updated": 1}}],
     [0.25, 0.5, 0.5], [0.0, 0.25, 0.25]),  # an --upsert import changed a in October
])
def test_reconstruct(events: list, coverage: list, owners: list) -> None:
    points = reconstruct(NOW, events, ENDS, kpis)
    assert [p["month"] for p in points] == ["2026-09", "2026-10", "2026-11"]
    assert [p["coverage_rate"] for p in points] == coverage
    assert [p["owners_org_rate"] for p in points] == owners
