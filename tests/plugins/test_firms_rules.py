"""RULES §7 as pure functions: table-driven cases with their boundaries (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from geoplatform.exchange import CreditEvent
from plugins.firms import rules
from plugins.firms.rules import CompoundRef, Contract, CreditState, Finding, Firm
from plugins.firms.settings import FirmsSettings, load_settings

S = FirmsSettings()
D = dt.date
TODAY = D(2025, 8, 15)
ALL_FILED = {f: D(2024, 1, 10) for f in rules.FILINGS}
START = D(2023, 1, 1)


# ------------------------------------------------------------------------------------------ contracts

@pytest.mark.parametrize(("days_left", "code"), [
    (None, None),  # open-ended
    (-200, "contract_expired"),
    (-1, "contract_expired"),  # ended yesterday
    (0, "contract_expiring_30"),  # ends today: still running
    (30, "contract_expiring_30"),
    (31, "contract_expiring_90"),
    (90, "contract_expiring_90"),
    (91, None),
    (400, None),
])
def test_expiry_code_boundaries(days_left, code) -> None:  # noqa: ANN001
    end = None if days_left is None else TODAY + dt.timedelta(days=days_left)
    assert rules.expiry_code(end, TODAY, S) == code


def test_expiry_thresholds_are_settings() -> None:
    s = load_settings({"expiring_days": 60, "expiring_urgent_days": 10})
    assert rules.expiry_code(TODAY + dt.timedelta(days=11), TODAY, s) == "contract_expiring_90"
    assert rules.expiry_code(TODAY + dt.timedelta(days=61), TODAY, s) is None
    with pytest.raises(ValueError, match="expiring_urgent_days"):
        load_settings({"expiring_urgent_days": 100})


def _c(cid: str, compound: str, end: dt.date | None, start: dt.date | None = START, firm: str = "甲物业",
       filings: dict | None = None) -> Contract:
    return Contract(cid, compound, firm, start, end, dict(ALL_FILED if filings is None else filings))


def codes(found: list[Finding]) -> list[tuple]:
    return [(f.compound_id, f.code, f.contract_id, f.filing) for f in sorted(found, key=Finding.sort_key)]


@pytest.mark.parametrize(("mode", "contracts", "expected"), [
    # one finding per contract, the most urgent: an expired contract is only contract_expired
    ("professional", [_c("k1", "c", TODAY - dt.timedelta(days=3))], [("c", "contract_expired", "k1", None)]),
    ("professional", [_c("k1", "c", TODAY + dt.timedelta(days=10))], [("c", "contract_expiring_30", "k1", None)]),
    ("professional", [_c("k1", "c", TODAY + dt.timedelta(days=60))], [("c", "contract_expiring_90", "k1", None)]),
    ("professional", [_c("k1", "c", TODAY + dt.timedelta(days=600))], []),
    # renewed: the earlier contract ending soon raises nothing, the later one decides
    ("professional", [_c("k1", "c", TODAY + dt.timedelta(days=10)),
                      _c("k2", "c", TODAY + dt.timedelta(days=1000), start=TODAY + dt.timedelta(days=11))], []),
    ("professional", [_c("k1", "c", TODAY - dt.timedelta(days=400)), _c("k2", "c", TODAY - dt.timedelta(days=5))],
     [("c", "contract_expired", "k2", None)]),
    # a served compound that never had a contract (查漏补缺)
    ("professional", [], [("c", "professional_without_contract", None, None)]),
    ("state_owned", [], [("c", "professional_without_contract", None, None)]),
    ("none", [], []),
    ("unknown", [], []),
    # the mode says nobody serves it any more: its ended contract raises nothing (never changed silently by us)
    ("none", [_c("k1", "c", TODAY - dt.timedelta(days=3))], []),
    # … but a contract signed for later is checked whatever the mode (a takeover before serving starts)
    ("none", [_c("k1", "c", TODAY + dt.timedelta(days=1000), start=TODAY + dt.timedelta(days=30),
                 filings={**ALL_FILED, "acceptance": None})], [("c", "filing_missing", "k1", "acceptance")]),
    # unknown mode: a contract on record still warns
    ("unknown", [_c("k1", "c", TODAY + dt.timedelta(days=5))], [("c", "contract_expiring_30", "k1", None)]),
    # filings: every missing one, on contracts still running; none on ended ones
    ("professional", [_c("k1", "c", TODAY + dt.timedelta(days=600), filings={"selection": D(2023, 1, 5)})],
     [("c", "filing_missing", "k1", "area"), ("c", "filing_missing", "k1", "contract"),
      ("c", "filing_missing", "k1", "acceptance")]),
    ("professional", [_c("k1", "c", TODAY - dt.timedelta(days=1), filings={})], [("c", "contract_expired", "k1", None)]),
    ("professional", [_c("k1", "c", TODAY + dt.timedelta(days=20), filings={**ALL_FILED, "area": None})],
     [("c", "contract_expiring_30", "k1", None), ("c", "filing_missing", "k1", "area")]),
])
def test_contract_findings(mode, contracts, expected) -> None:  # noqa: ANN001
    comp = CompoundRef("c", mode, "甲物业")
    assert codes(rules.contract_findings([comp], contracts, TODAY, S)) == expected


def test_served_compound_without_a_firm_is_a_gap() -> None:
    found = rules.contract_findings([CompoundRef("c", "professional", None)], [], TODAY, S)
    assert codes(found) == [("c", "professional_without_contract", None, None), ("c", "company_missing", None, None)]
    running = [_c("k1", "c", TODAY + dt.timedelta(days=500))]  # the contract names the firm
    assert codes(rules.contract_findings([CompoundRef("c", "professional", None)], running, TODAY, S)) == []


def test_blacklisting_flags_every_compound_the_firm_serves() -> None:
    comps = [CompoundRef("a", "professional", "黑物业"), CompoundRef("b", "professional", "乙物业"),
             CompoundRef("c", "none", "黑物业"), CompoundRef("d", "state_owned", None)]
    contracts = [_c("kb", "b", TODAY + dt.timedelta(days=100), firm="黑物业"),  # running contract of another firm
                 _c("kd", "d", TODAY - dt.timedelta(days=1), firm="黑物业")]  # ended: no longer served by it
    found = rules.blacklist_findings(comps, contracts, {"黑物业"}, TODAY, S)
    assert [(f.compound_id, f.company) for f in found] == [("a", "黑物业"), ("b", "黑物业")]
    assert {f.code for f in found} == {"firm_blacklisted"}


# ------------------------------------------------------------------------------------------ disclosure

@pytest.mark.parametrize(("start", "days", "status"), [
    (D(2025, 3, 1), 15, "compliant"),
    (D(2025, 3, 1), 14, "missing"),  # one day short
    (D(2025, 6, 30), 15, "compliant"),  # starts on the half-year's last day: counts for H1
    (D(2025, 6, 16), 15, "compliant"),  # ends exactly on the last day (both ends counted)
    (D(2024, 12, 20), 30, "missing"),  # started in the previous half-year
    (D(2025, 7, 1), 30, "missing"),  # starts in the next one
])
def test_disclosure_of_a_closed_half_year(start, days, status) -> None:  # noqa: ANN001
    end = start + dt.timedelta(days=days - 1)
    assert rules.disclosure_days(start, end) == days
    assert rules.disclosure_status("2025H1", [(start, end)], TODAY, S) == status


def test_disclosure_starting_on_the_last_day_does_not_count_for_the_next_half_year() -> None:
    d = [(D(2025, 6, 30), D(2025, 7, 14))]
    assert rules.disclosure_status("2025H1", d, D(2026, 1, 5), S) == "compliant"
    assert rules.disclosure_status("2025H2", d, D(2026, 1, 5), S) == "missing"


@pytest.mark.parametrize(("today", "status"), [
    (D(2025, 12, 31), "pending"),  # the half-year's last day: still open
    (D(2026, 1, 1), "missing"),  # closed the day after
])
def test_open_half_year_is_pending(today, status) -> None:  # noqa: ANN001
    assert rules.disclosure_status("2025H2", [], today, S) == status
    assert rules.disclosure_status("2025H2", [(D(2025, 9, 1), D(2025, 9, 15))], today, S) == "compliant"


def test_half_years_from_the_configured_start() -> None:
    assert rules.half_years("2025H1", D(2025, 6, 30)) == ["2025H1"]
    assert rules.half_years("2025H1", D(2026, 7, 1)) == ["2025H1", "2025H2", "2026H1", "2026H2"]
    assert rules.half_years("2025H1", D(2024, 12, 31)) == []
    assert rules.half_year_of(D(2025, 6, 30)) == "2025H1" and rules.half_year_of(D(2025, 7, 1)) == "2025H2"
    with pytest.raises(ValueError):
        rules.half_year_bounds("2025H3")
    with pytest.raises(ValueError, match="disclosure_start"):
        load_settings({"disclosure_start": "2025"})


def test_disclosure_results_per_compound_and_half_year() -> None:
    today = D(2026, 2, 1)  # 2025H1 and 2025H2 closed, 2026H1 open
    comps = [CompoundRef("ok", "professional", "甲"), CompoundRef("gap", "professional", "甲"),
             CompoundRef("late", "professional", "乙"), CompoundRef("none", "none", None),
             CompoundRef("new", "professional", "丙")]
    contracts = [_c("kl", "late", None, start=D(2025, 7, 1), firm="乙"),  # served from H2 only
                 _c("kn", "new", None, start=D(2026, 1, 10), firm="丙")]  # served from 2026 only
    disc = [("ok", D(2025, 2, 1), D(2025, 2, 20)), ("ok", D(2025, 8, 1), D(2025, 8, 15)),
            ("gap", D(2025, 2, 1), D(2025, 2, 14)), ("gap", D(2025, 9, 1), D(2025, 9, 30)),
            ("late", D(2025, 12, 31), D(2026, 1, 14))]
    res = {r.compound_id: r for r in rules.disclosure_results(comps, contracts, disc, today, S)}
    assert res["ok"].periods == {"2025H1": "compliant", "2025H2": "compliant", "2026H1": "pending"}
    assert res["ok"].status == "pending"
    assert res["gap"].periods["2025H1"] == "missing" and res["gap"].status == "missing"
    assert res["late"].periods == {"2025H2": "compliant", "2026H1": "pending"}  # not served in H1
    assert res["none"].status == "not_served" and res["none"].periods == {}
    assert res["new"].periods == {"2026H1": "pending"}
    found = rules.disclosure_findings(res.values())
    assert [(f.compound_id, f.period, f.company) for f in found] == [("gap", "2025H1", "甲")]
    assert found[0].as_dict() == {"code": "disclosure_missing", "compound_id": "gap", "company": "甲",
                                  "period": "2025H1"}


# ------------------------------------------------------------------------------------------ ranking

def rank(rows: list[tuple[str, str, float]], **kw) -> dict:  # noqa: ANN003
    return rules.rank_quarter("2025Q1", rows, load_settings(kw) if kw else S).as_dict()


def test_one_firm_in_a_street_is_first_and_never_last() -> None:
    r = rank([("s1", "甲", 70.0)])
    assert r["streets"] == [{"street_code": "s1", "first": ["甲"], "last": []}]
    assert r["good"] == ["甲"] and r["bad"] == [] and r["scores"] == {"甲": 70.0}


def test_first_and_last_per_street_district_mean() -> None:
    r = rank([("s1", "甲", 90), ("s1", "乙", 60), ("s2", "甲", 70), ("s2", "丙", 80)])
    assert r["streets"] == [{"street_code": "s1", "first": ["甲"], "last": ["乙"]},
                            {"street_code": "s2", "first": ["丙"], "last": ["甲"]}]
    assert r["scores"] == {"乙": 60.0, "丙": 80.0, "甲": 80.0}
    # 甲 is first in s1 and last in s2: a candidate of both, on the good list (no firm on both lists)
    assert r["good"] == ["丙", "甲"]  # tie at 80: by name in code-point order (丙 U+4E19 < 甲 U+7532)
    assert r["bad"] == ["乙"]


def test_a_firm_first_in_one_street_and_last_in_another_can_land_on_the_bad_list() -> None:
    rows = [("s1", "A", 95), ("s1", "Z", 50), ("s2", "B", 94), ("s2", "Z", 51), ("s3", "C", 93), ("s3", "X", 40),
            ("s4", "X", 60), ("s4", "D", 30)]
    r = rank(rows)
    firsts = {f for s in r["streets"] for f in s["first"]}
    assert "X" in firsts and any("X" in s["last"] for s in r["streets"])
    assert r["good"] == ["A", "B", "C"]  # the top 3 first candidates; X (mean 50) is not among them
    assert r["bad"] == ["D", "X", "Z"]  # X joins the bad list: 30 < 50 = 50.5 (Z) … ordered ascending
    assert r["scores"]["X"] == 50.0 and r["scores"]["Z"] == 50.5
    assert not set(r["good"]) & set(r["bad"])


def test_ties_by_name_in_code_point_order() -> None:
    rows = [(f"s{i}", n, 80.0) for i, n in enumerate(["b", "a", "B", "中"])] + \
           [(f"s{i}", "low", 10.0) for i in range(4)]
    r = rank(rows)
    assert r["good"] == ["B", "a", "b"]  # 'B' (U+0042) < 'a' (U+0061) < 'b' < '中'
    assert r["bad"] == ["low"]
    tie = rank([("s1", "y", 50), ("s1", "x", 50)])  # two firms tied in one street: both first and last
    assert tie["streets"] == [{"street_code": "s1", "first": ["x", "y"], "last": ["x", "y"]}]
    assert tie["good"] == ["x", "y"] and tie["bad"] == []


def test_list_sizes_and_order_by_score() -> None:
    rows = [(f"s{i}", f"F{i}", 50 + i) for i in range(6)] + [(f"s{i}", f"L{i}", 10 + i) for i in range(6)]
    r = rank(rows)
    assert r["good"] == ["F5", "F4", "F3"] and r["bad"] == ["L0", "L1", "L2"]
    assert rank(rows, good_list_size=1, bad_list_size=2)["bad"] == ["L0", "L1"]
    assert rank([])["streets"] == [] and rank([])["good"] == []
    with pytest.raises(ValueError):
        rules.rank_quarter("2025Q5", [], S)


@pytest.mark.parametrize(("quarter", "first", "last", "prev"), [
    ("2025Q1", D(2025, 1, 1), D(2025, 3, 31), "2024Q4"),
    ("2025Q2", D(2025, 4, 1), D(2025, 6, 30), "2025Q1"),
    ("2025Q4", D(2025, 10, 1), D(2025, 12, 31), "2025Q3"),
])
def test_quarters(quarter, first, last, prev) -> None:  # noqa: ANN001
    assert rules.quarter_bounds(quarter) == (first, last)
    assert rules.previous_quarter(quarter) == prev
    assert rules.quarter_of(first) == quarter == rules.quarter_of(last)


# ------------------------------------------------------------------------------------------ credit and the gate

def ev(kind: str, on: dt.date, grade: str | None = None, expires: dt.date | None | str = "year",
       firm: str = "甲") -> CreditEvent:
    exp = on + dt.timedelta(days=365) if expires == "year" else expires
    return CreditEvent(company=firm, on=on, kind=kind, source="test", grade=grade, expires_on=exp)


@pytest.mark.parametrize(("events", "grade", "black", "listed"), [
    ([], None, False, None),
    ([ev("grade", D(2025, 1, 1), "AA")], "AA", False, None),
    ([ev("grade", D(2024, 1, 1), "A"), ev("grade", D(2025, 1, 1), "B")], "B", False, None),  # the latest counts
    ([ev("grade", D(2024, 8, 15), "A")], None, False, None),  # expired exactly a year later
    ([ev("grade", D(2024, 8, 16), "A")], "A", False, None),  # the last day it counts
    ([ev("grade", D(2025, 9, 1), "C")], None, False, None),  # dated after today
    ([ev("grade", D(2025, 1, 1), "Z")], None, False, None),  # not on the scale
    ([ev("blacklisted", D(2025, 5, 1))], None, True, None),
    ([ev("blacklisted", D(2025, 5, 1)), ev("blacklist_lifted", D(2025, 6, 1), expires=None)], None, False, None),
    ([ev("blacklisted", D(2024, 5, 1))], None, False, None),  # expired
    ([ev("good_list", D(2025, 4, 15)), ev("bad_list", D(2025, 7, 15))], None, False, "bad_list"),
    ([ev("grade", D(2025, 1, 1), "A", firm="乙")], None, False, None),  # another firm's
])
def test_credit_state(events, grade, black, listed) -> None:  # noqa: ANN001
    st = rules.credit_state("甲", events, TODAY, S)
    assert (st.grade, st.blacklisted, st.listed) == (grade, black, listed)


@pytest.mark.parametrize(("company", "firm", "state", "eligible", "reasons", "warnings"), [
    (None, None, None, True, (), ("firm_not_recorded",)),  # a host whose firm is not recorded yet
    ("甲", None, None, False, ("unknown_firm",), ()),
    ("甲", Firm("甲", True), CreditState("甲", grade="A"), True, (), ()),
    ("甲", Firm("甲", True), CreditState("甲", grade="AAA"), True, (), ()),
    ("甲", Firm("甲", True), CreditState("甲"), True, (), ("no_grade",)),  # no grade: eligible, warned
    ("甲", Firm("甲", True), CreditState("甲", grade="B"), False, ("grade_forbidden",), ()),
    ("甲", Firm("甲", True), CreditState("甲", grade="C"), False, ("grade_forbidden",), ()),
    ("甲", Firm("甲", False), CreditState("甲", grade="A"), False, ("not_filed",), ()),
    ("甲", Firm("甲", None), CreditState("甲", grade="A"), True, (), ("filing_unknown",)),
    ("甲", Firm("甲", True), CreditState("甲", grade="A", blacklisted=True), False, ("blacklisted",), ()),
    ("甲", Firm("甲", False), CreditState("甲", grade="B", blacklisted=True), False,
     ("not_filed", "blacklisted", "grade_forbidden"), ()),
])
def test_the_credit_gate(company, firm, state, eligible, reasons, warnings) -> None:  # noqa: ANN001
    g = rules.eligibility(company, firm, state, S)
    assert (g.eligible, g.reasons, g.warnings) == (eligible, reasons, warnings)


def test_forbidden_grades_are_configurable() -> None:
    strict = load_settings({"forbidden_grades": ["A", "B", "C"]})
    assert not rules.eligibility("甲", Firm("甲", True), CreditState("甲", grade="A"), strict).eligible
    lenient = load_settings({"grade_scale": ["优", "良", "中", "差"], "forbidden_grades": ["差"]})
    assert rules.eligibility("甲", Firm("甲", True), CreditState("甲", grade="中"), lenient).eligible
    with pytest.raises(ValueError, match="not on the scale"):
        load_settings({"forbidden_grades": ["D"]})
    with pytest.raises(ValueError, match="unknown setting"):
        load_settings({"forbiden_grades": ["B"]})


@pytest.mark.parametrize(("state", "gate_ok", "found", "expected"), [
    (CreditState("甲", blacklisted=True), False, {"contract_expired"}, "blacklisted"),
    (CreditState("甲", grade="B"), False, set(), "ineligible"),
    (CreditState("甲", grade="A", listed="bad_list"), True, {"filing_missing"}, "bad_list"),
    (CreditState("甲", grade="A"), True, {"filing_missing", "contract_expiring_30"}, "contract_unfiled"),
    (CreditState("甲", grade="A", listed="good_list"), True, {"contract_expiring_90"}, "expiring"),
    (CreditState("甲", grade="A", listed="good_list"), True, set(), "good_list"),
    (CreditState("甲", grade="A"), True, set(), "ok"),
])
def test_firm_status_first_that_applies(state, gate_ok, found, expected) -> None:  # noqa: ANN001
    comp = CompoundRef("c", "professional", "甲")
    gate = rules.eligibility("甲", Firm("甲", True), state, S)
    assert gate.eligible is gate_ok
    assert rules.firm_status(comp, gate, state, found) == expected


def test_firm_status_of_a_compound_without_firm() -> None:
    comp = CompoundRef("c", "professional", None)
    assert rules.firm_status(comp, None, None, set()) is None
    assert rules.firm_status(comp, None, None, {"professional_without_contract"}) == "contract_unfiled"


def test_finding_json_keeps_only_what_applies() -> None:
    assert Finding("filing_missing", "c", "甲", "k1", filing="area").as_dict() == {
        "code": "filing_missing", "compound_id": "c", "company": "甲", "contract_id": "k1", "filing": "area"}
    assert Finding("professional_without_contract", "c").as_dict() == {"code": "professional_without_contract",
                                                                       "compound_id": "c"}
