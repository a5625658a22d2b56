"""The import job's values by column (no dict per row) until a step asks for rows; the columns' defaults on write."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from geoplatform.io.job import ImportJob
from geoplatform.io.limits import DEFAULT_LIMITS
from geoplatform.io.readers import RawTable
from geoplatform.io.report import ImportReport
from geoplatform.io.writer import _defaults


def job(n: int = 3, kind: str = "buildings") -> ImportJob:
    table = RawTable("f.gpkg", pd.DataFrame(index=range(n)))
    return ImportJob(SimpleNamespace(today=dt.date(2026, 12, 7)), None, kind, table,  # type: ignore[arg-type]
                     ImportReport(kind=kind, file="f.gpkg"), None, False, False, None, DEFAULT_LIMITS)


# each case: steps applied in order (set_column / set_cells / rows: a dict step), then what `rows` holds
CASES: list[tuple[str, list[tuple[Any, ...]], list[dict[str, Any]]]] = [
    ("nothing set: one empty dict per row", [], [{}, {}, {}]),
    ("whole columns", [("set_column", "id", ["a", "b", "c"]), ("set_column", "floors", [1, None, 3])],
     [{"id": "a", "floors": 1}, {"id": "b", "floors": None}, {"id": "c", "floors": 3}]),
    ("cells of a new field: None in the other rows", [("set_cells", "street_code", [2], ["150204001"])],
     [{"street_code": None}, {"street_code": None}, {"street_code": "150204001"}]),
    ("cells overwrite a column's values", [("set_column", "id", ["a", "b", "c"]), ("set_cells", "id", [0, 2], ["x", "z"])],
     [{"id": "x"}, {"id": "b"}, {"id": "z"}]),
    ("after rows: writes go into the rows (cells of a new field only where set)",
     [("set_column", "id", ["a", "b", "c"]), ("rows",), ("set_cells", "geom", [1], ["G"]),
      ("set_column", "id", ["p", "q", "r"])],
     [{"id": "p"}, {"id": "q", "geom": "G"}, {"id": "r"}]),
]


@pytest.mark.parametrize(("steps", "rows"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_columns_then_rows(steps: list[tuple[Any, ...]], rows: list[dict[str, Any]]) -> None:
    j = job()
    for op, *args in steps:
        if op == "rows":
            assert j.rows is j.rows  # built once
        else:
            getattr(j, op)(*args)
    assert j.rows == rows
    assert not j.columnar
    # the same values, read back by column from the rows
    for name in {k for r in rows for k in r}:
        assert j.column(name) == [r.get(name) for r in rows]


def test_column_of_an_unset_field_is_none_in_both_forms() -> None:
    j = job()
    j.set_column("id", ["a", "b", "c"])
    assert j.columnar and j.column("address") == [None, None, None] and j.fields_set() == ["id"]
    j.rows[0]["note"] = "x"
    assert j.column("address") == [None, None, None] and j.fields_set() == ["id", "note"]


def test_a_rows_dict_changed_by_a_step_is_what_columns_read() -> None:
    j = job()
    j.set_column("street_code", ["s1", "s2", "s3"])
    j.rows[1]["street_code"] = "S2"
    assert j.column("street_code") == ["s1", "S2", "s3"]


DEFAULTS = [
    # building: `source` and `version` are NOT NULL with Python-side defaults; floors is nullable without one
    ("absent columns get their default", {"id": ["a", "b"]}, {"version": [1, 1]}),
    ("an empty cell of a NOT NULL column gets it", {"id": ["a", "b"], "version": [None, 3]}, {"version": [1, 3]}),
    ("a nullable column's empty cells stay NULL", {"id": ["a", "b"], "floors": [None, 2]}, {"floors": [None, 2]}),
]


@pytest.mark.parametrize(("given", "expect"), [c[1:] for c in DEFAULTS], ids=[c[0] for c in DEFAULTS])
def test_defaults_fill_whole_columns(given: dict[str, list[Any]], expect: dict[str, list[Any]]) -> None:
    j = job(2)
    j.geom_cols = []
    names, cols = _defaults(j, {k: list(v) for k, v in given.items()})
    got = dict(zip(names, cols, strict=True))
    for k, v in expect.items():
        assert got[k] == v
    assert set(given) <= set(got)
