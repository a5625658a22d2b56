"""The importer's existence check (`references.existing_values`): the same answer whether it probes the keys or,
on PostGIS, reads the whole column (a table not much larger than the list)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, insert, text

from geoplatform import models as m
from geoplatform.io import references

STORED = [f"物业{i}" for i in range(40)]
# each case: the values asked about, the scan thresholds (SCAN_MIN, SCAN_RATIO) → whether PostGIS reads the column
CASES = [
    ("probes: a short list", [*STORED[:5], "无此物业"], 1000, 4, False),
    ("scan: the table is no larger than 4× the list", [*STORED[::2], "无此物业", "另一家"], 1, 4, True),
    ("probes: the table is larger than the ratio allows", [*STORED[:3], "无此物业"], 1, 4, False),
    ("scan: every stored value and as many unknown ones", [*STORED, *(f"x{i}" for i in range(40))], 1, 4, True),
]


@pytest.mark.parametrize(("values", "scan_min", "ratio", "scans"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_existing_values_same_answer_either_way(ctx, monkeypatch, values, scan_min, ratio, scans) -> None:  # noqa: ANN001
    monkeypatch.setattr(references, "SCAN_MIN", scan_min)
    monkeypatch.setattr(references, "SCAN_RATIO", ratio)
    with ctx.session() as s:
        s.execute(insert(m.PropertyCompany.__table__), [{"name": n, "blacklisted": False, "state_owned": False,
                                                          "source": "t", "version": 1} for n in STORED])
        postgis = s.bind.dialect.name == "postgresql"
        if postgis:
            s.execute(text("ANALYZE property_company"))  # the planner's row estimate the choice reads
        statements: list[str] = []

        def seen(conn, cursor, statement, *args) -> None:  # noqa: ANN001, ANN002
            statements.append(statement)

        event.listen(s.bind, "before_cursor_execute", seen)
        try:
            got = references.existing_values(s, m.PropertyCompany.name, values)
        finally:
            event.remove(s.bind, "before_cursor_execute", seen)
    assert got == set(values) & set(STORED)
    whole_column = any("WHERE" not in st and "property_company.name" in st for st in statements)
    assert whole_column == (scans and postgis)
