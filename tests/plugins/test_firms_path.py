"""What the firms plugin tells coverage (issue 22): the contract in force (served "verified") and the breaks
in a compound's contracts (−served the day after the end, +served at a renewal) — table-driven."""

from __future__ import annotations

import datetime as dt

import pytest

from plugins.firms.rules import Contract, contract_in_force, coverage_breaks

D = dt.date


def K(cid: str, start: dt.date | None, end: dt.date | None) -> Contract:
    return Contract(cid, "c1", "甲物业", start, end)


@pytest.mark.parametrize(("contracts", "expected"), [
    ([], []),
    ([K("a", D(2024, 1, 1), None)], []),  # open-ended: never runs out
    ([K("a", D(2024, 1, 1), D(2026, 6, 30))], [("-served", D(2026, 7, 1), "a")]),
    # renewed the next day: no break, only the renewal's end
    ([K("a", D(2024, 1, 1), D(2026, 6, 30)), K("b", D(2026, 7, 1), D(2029, 6, 30))],
     [("-served", D(2029, 7, 1), "b")]),
    # a gap, then a renewal: −served after a, +served at b, −served after b
    ([K("b", D(2027, 3, 1), D(2030, 2, 28)), K("a", D(2024, 7, 1), D(2026, 6, 30))],
     [("-served", D(2026, 7, 1), "a"), ("+served", D(2027, 3, 1), "b"), ("-served", D(2030, 3, 1), "b")]),
    # overlapping contracts: the later end counts; one inside another changes nothing
    ([K("a", D(2024, 1, 1), D(2027, 12, 31)), K("b", D(2025, 1, 1), D(2026, 1, 1))],
     [("-served", D(2028, 1, 1), "a")]),
    # no start recorded: counts from the beginning
    ([K("a", None, D(2025, 6, 30)), K("b", D(2026, 1, 1), None)],
     [("-served", D(2025, 7, 1), "a"), ("+served", D(2026, 1, 1), "b")]),
])
def test_coverage_breaks(contracts: list[Contract], expected: list[tuple]) -> None:
    assert [(e, on, c.id) for e, on, c in coverage_breaks(contracts)] == expected


@pytest.mark.parametrize(("day", "expected"), [
    (D(2024, 6, 30), None), (D(2024, 7, 1), "a"), (D(2026, 6, 30), "a"), (D(2026, 7, 1), None),
    (D(2027, 3, 1), "b"), (D(2031, 1, 1), None)])
def test_contract_in_force(day: dt.date, expected: str | None) -> None:
    found = contract_in_force([K("a", D(2024, 7, 1), D(2026, 6, 30)), K("b", D(2027, 3, 1), D(2030, 2, 28))], day)
    assert (found.id if found else None) == expected
