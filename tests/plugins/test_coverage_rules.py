"""RULES §1 pure functions on hand-made frames: exact rates, distance to target, settings."""

from __future__ import annotations

from fractions import Fraction

import pandas as pd
import pytest

from plugins.coverage.rules import KPI_FIELDS, coverage_kpis, group_kpis, needed_for_target
from plugins.coverage.settings import PROVENANCE, CoverageSettings, settings_table

S = CoverageSettings()


def frame(*rows: tuple[str, str, str, int | None]) -> pd.DataFrame:
    """Compounds from (street_code, management_mode, owners_org, households) tuples."""
    return pd.DataFrame(rows, columns=["street_code", "management_mode", "owners_org", "households"])


FIVE = frame(("A", "professional", "owners_committee", 100), ("A", "state_owned", "none", 300),
             ("A", "none", "management_committee", 600), ("B", "self_managed", "preparing", 50),
             ("B", "community_managed", "owners_committee", 150))


@pytest.mark.parametrize("done,total,target,expected", [
    (0, 0, 0.8, 0), (8, 10, 0.8, 0), (7, 10, 0.8, 1), (0, 10, 0.8, 8), (2, 3, 0.8, 1), (0, 2, 0.8, 2),
    (19, 20, 0.95, 0), (18, 20, 0.95, 1), (10, 10, 0.8, 0), (0, 1, 0.8, 1), (665, 1029, 0.8, 159),
    (3, 5, 0.95, 2), (0, 100, 0.95, 95), (80, 100, 0.8, 0), (79, 100, 0.8, 1),
])
def test_needed_for_target(done: int, total: int, target: float, expected: int) -> None:
    assert needed_for_target(done, total, target) == expected
    if total:  # after adding that many, the target is reached, one fewer would not be
        assert Fraction(done + expected, total) >= Fraction(str(target))
        if expected:
            assert Fraction(done + expected - 1, total) < Fraction(str(target))


def test_group_kpis_exact() -> None:
    k = group_kpis(FIVE, S)
    assert {f: k[f] for f in KPI_FIELDS} == {
        "compounds": 5, "served": 2, "coverage_rate": 2 / 5, "households": 1200, "served_households": 400,
        "coverage_rate_households": 400 / 1200, "owners_org": 3, "owners_org_rate": 3 / 5,
        "target_coverage": 0.8, "target_owners_org": 0.95, "compounds_needed_for_target": 2,
        "owners_org_needed_for_target": 2, "known": 5, "unknown": 0, "coverage_rate_lower": 2 / 5,
        "coverage_rate_households_lower": 400 / 1200, "owners_org_rate_lower": 3 / 5,
    }


def test_unknowns_are_counted_apart() -> None:
    """RULES §1: an unknown mode is neither served nor unserved — rates over the known, lower bounds over all."""
    k = group_kpis(frame(*FIVE.itertuples(index=False), ("A", "unknown", "unknown", 1000),
                         ("B", "unknown", "owners_committee", 800)), S)
    assert (k["compounds"], k["known"], k["unknown"], k["served"]) == (7, 5, 2, 2)
    assert k["coverage_rate"] == 2 / 5 and k["coverage_rate_lower"] == 2 / 7  # the known rate is unchanged by them
    assert k["coverage_rate_households"] == 400 / 1200 and k["coverage_rate_households_lower"] == 400 / 3000
    assert (k["households"], k["households_known_mode"]) == (3000, 1200)  # the rate's base: the known
    assert k["compounds_needed_for_target"] == 2  # ceil(0.8 × 5 known) − 2
    assert (k["owners_org"], k["owners_org_unknown"], k["owners_org_rate"], k["owners_org_rate_lower"]) == \
        (4, 1, 4 / 6, 4 / 7)
    assert group_kpis(frame(("A", "unknown", "unknown", 10)), S)["coverage_rate"] is None  # nothing known


@pytest.mark.parametrize("mode,served", [("professional", True), ("state_owned", True), ("self_managed", False),
                                         ("community_managed", False), ("none", False)])
def test_each_mode(mode: str, served: bool) -> None:
    k = group_kpis(frame(("A", mode, "none", 10)), S)
    assert k["served"] == int(served) and k["coverage_rate"] == float(served)
    assert k["served_households"] == (10 if served else 0)


@pytest.mark.parametrize("org,counts", [("owners_committee", True), ("management_committee", True),
                                        ("preparing", False), ("none", False)])
def test_each_owners_org(org: str, counts: bool) -> None:
    assert group_kpis(frame(("A", "none", org, 10)), S)["owners_org"] == int(counts)


def test_per_street_and_empty_street() -> None:
    report = coverage_kpis(FIVE, [("A", "甲"), ("B", "乙"), ("C", "丙")], S)
    a, b, c = report["streets"]
    assert (a["code"], a["name"], a["served"], a["coverage_rate"]) == ("A", "甲", 2, 2 / 3)
    assert (a["coverage_rate_households"], a["owners_org_rate"]) == (0.4, 2 / 3)
    assert (a["compounds_needed_for_target"], a["owners_org_needed_for_target"]) == (1, 1)
    assert (b["served"], b["coverage_rate"], b["owners_org_rate"], b["compounds_needed_for_target"]) == (0, 0.0, 0.5, 2)
    assert c["compounds"] == 0 and c["coverage_rate"] is None and c["coverage_rate_households"] is None
    assert c["compounds_needed_for_target"] == 0
    assert report["district"]["compounds"] == sum(r["compounds"] for r in report["streets"])
    assert [r["code"] for r in coverage_kpis(FIVE, [("A", "甲"), ("B", "乙")], S, only=["B"])["streets"]] == ["B"]


def test_missing_households_are_counted_apart() -> None:
    k = group_kpis(frame(("A", "professional", "none", None), ("A", "none", "none", 30)), S)
    assert (k["households"], k["served_households"], k["households_unknown"]) == (30, 0, 1)
    assert k["coverage_rate"] == 0.5 and k["coverage_rate_households"] == 0.0


def test_settings_override_changes_the_result() -> None:
    lenient = CoverageSettings.from_overrides({"target_coverage": 0.4, "served_modes": ["professional"]})
    k = group_kpis(FIVE, lenient)
    assert (k["served"], k["target_coverage"], k["compounds_needed_for_target"]) == (1, 0.4, 1)


@pytest.mark.parametrize("bad", [{"target_coverage": 1.5}, {"nope": 1}, {"served_modes": "professional"},
                                 {"target_owners_org": "x"}])
def test_bad_settings_rejected(bad: dict) -> None:
    with pytest.raises(ValueError):
        CoverageSettings.from_overrides(bad)


def test_every_setting_has_provenance() -> None:
    rows = settings_table(S)
    assert {r["name"] for r in rows} == set(PROVENANCE)
    assert all(r["provenance"].startswith(("[Q]", "[D]")) for r in rows)
