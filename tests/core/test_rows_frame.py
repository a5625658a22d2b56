"""geoplatform.store.rows_frame: Core result rows as object columns (None stays None)."""

from __future__ import annotations

import datetime as dt

import pytest

from geoplatform.store import rows_frame


@pytest.mark.parametrize(("rows", "names", "expected"), [
    ([], ("id", "name"), {"id": [], "name": []}),
    ([(1, "甲"), (2, None)], ("id", "name"), {"id": [1, 2], "name": ["甲", None]}),
    ([("a", None, dt.date(2026, 1, 2))], ("id", "state", "deadline"),
     {"id": ["a"], "state": [None], "deadline": [dt.date(2026, 1, 2)]}),
])
def test_rows_become_object_columns_with_none_kept(rows: list, names: tuple, expected: dict) -> None:
    frame = rows_frame(rows, names)
    assert list(frame.columns) == list(names)
    assert all(frame[n].dtype == object for n in names)
    assert {n: frame[n].tolist() for n in names} == expected
    assert all(v is None for n in names for v, e in zip(frame[n], expected[n], strict=True) if e is None)
