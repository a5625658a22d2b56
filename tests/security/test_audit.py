"""The audit helper: record() joins the caller's transaction; queries filter by entity, street, user, outcome."""

from __future__ import annotations

import datetime as dt

import pytest
from shapely.geometry import Point

from geoplatform import audit
from geoplatform.principal import Principal

OFFICER = Principal("o1", "street_officer", street_code="150203001")


@pytest.mark.parametrize(("value", "expected"), [
    (None, None),
    ({"d": dt.date(2025, 3, 1)}, {"d": "2025-03-01"}),
    ({"t": dt.datetime(2025, 3, 1, 8, 30)}, {"t": "2025-03-01T08:30:00"}),
    ({"s": {"b", "a"}}, {"s": ["a", "b"]}),
    ({"g": Point(1, 2)}, {"g": "POINT (1 2)"}),
    ({"n": [1, 2.5, "名"]}, {"n": [1, 2.5, "名"]}),
])
def test_jsonable(value, expected) -> None:  # noqa: ANN001
    out = audit.jsonable(value)
    if isinstance(expected, dict) and "s" in expected:
        out["s"] = sorted(out["s"])
    assert out == expected


def test_record_commits_and_rolls_back_with_the_change(ctx) -> None:  # noqa: ANN001
    with ctx.session() as s:
        audit.record(s, OFFICER, "update", "compound", "C1", {"households": 1}, {"households": 2}, "150203001")
    with pytest.raises(RuntimeError), ctx.session() as s:
        audit.record(s, OFFICER, "update", "compound", "C2", street_code="150203001")
        raise RuntimeError("the change failed")
    with ctx.session(readonly=True) as s:
        events = audit.query(s)
    assert [e["entity_id"] for e in events] == ["C1"]
    e = events[0]
    assert e["user"] == "o1" and e["before"] == {"households": 1} and e["after"] == {"households": 2}
    assert e["outcome"] == "ok" and e["at"]


def test_denied_attempts_and_filters(ctx) -> None:  # noqa: ANN001
    audit.record_denied(ctx, OFFICER, "edit_compound", "compound", "C9", street_code="150203003", detail="PATCH x")
    with ctx.session() as s:
        audit.record(s, "bureau", "update", "compound", "C9", street_code="150203003")
        audit.record(s, None, "login", "user", "ghost", outcome="denied")
        audit.record(s, OFFICER, "update", "handover", "C9:water", street_code="150203003")
    with ctx.session(readonly=True) as s:
        assert {e["outcome"] for e in audit.for_entity(s, "compound", "C9")} == {"ok", "denied"}
        denied = audit.query(s, outcome="denied")
        assert {(e["user"], e["action"]) for e in denied} == {("o1", "edit_compound"), ("anonymous", "login")}
        assert len(audit.query(s, street="150203003")) == 3
        assert [e["entity"] for e in audit.query(s, user="o1", entity="handover")] == ["handover"]
        assert len(audit.query(s, limit=2)) == 2
        assert len(audit.query(s, limit=2, offset=3)) == 1
        newest_first = [e["id"] for e in audit.query(s)]
        assert newest_first == sorted(newest_first, reverse=True)
