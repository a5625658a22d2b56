"""RULES §6 A1–A7 as pure functions: table-driven, with the boundaries the issue names
(exactly half, ⌊N/2⌋, 3 party members, 31 days, a year's two half-years)."""

from __future__ import annotations

import datetime as dt

import pytest

from plugins.owners_org import rules as r
from plugins.owners_org.settings import PROVENANCE, OwnersOrgSettings, settings_table

S = OwnersOrgSettings()
D = dt.date
START = D(2024, 1, 1)


def member(i: int, role: str = "member", party: bool = False, votes: int | None = None,
           start: dt.date | None = START, end: dt.date | None = None, **checks: bool) -> r.Member:
    base = {"check_police": True, "check_credit": True, "check_community": True,
            "check_discipline": True if party else None}
    base.update(checks)
    return r.Member(id=f"m{i}", org_id="o1", person=f"人{i}", role=role, party_member=party, votes=votes,
                    start=start, end=end, **base)


def org(**kw) -> r.Org:  # noqa: ANN003
    values = {"id": "o1", "compound_id": "c1", "kind": "owners_committee", "seats": 7,
              "prep_group_on": D(2023, 9, 1), "elected_on": D(2023, 12, 1), "filed_on": D(2023, 12, 20),
              "registered_on": D(2024, 1, 10), "term_start": D(2024, 1, 1), "term_end": D(2028, 12, 31),
              "party_org_on": D(2024, 2, 1)}
    values.update(kw)
    return r.Org(**values)


def codes(assessment: r.Assessment) -> list[str]:
    return [f.code for f in assessment.findings]


def full(n: int, party: int) -> list[r.Member]:
    return [member(i, "chair" if i == 0 else "member", party=i < party) for i in range(n)]


EVALS = [r.Evaluation("o1", p, "qualified", held_on=r.period_bounds(p)[1]) for p in ("2025H1", "2025H2")]


# ---- A1 eligibility ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("checks", "party", "servant", "missing"), [
    ({}, False, False, []),
    ({"check_police": False}, False, False, ["check_police"]),
    ({"check_credit": False, "check_community": False}, False, False, ["check_credit", "check_community"]),
    ({"check_discipline": None}, True, False, ["check_discipline"]),  # a party member needs the 纪工委 check
    ({"check_discipline": False}, False, True, ["check_discipline"]),  # so does a public servant
    ({"check_discipline": None}, False, False, []),  # nobody else does
])
def test_a1_missing_checks(checks: dict, party: bool, servant: bool, missing: list[str]) -> None:
    m = r.Member(id="m", org_id="o", person="p", role="member", party_member=party, public_servant=servant,
                 **{"check_police": True, "check_credit": True, "check_community": True, "check_discipline": True,
                    **checks})
    assert r.missing_checks(m) == missing


# ---- A2 composition -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("seats", "party", "party_org", "expected"), [
    (7, 2, None, ["party_count_low", "party_share_low"]),
    (7, 3, None, ["party_share_low", "party_org_missing"]),  # exactly 3: a party organisation is due
    (7, 3, D(2024, 1, 1), ["party_share_low"]),
    (6, 3, D(2024, 1, 1), []),  # exactly half: no share warning
    (7, 4, D(2024, 1, 1), []),
    (5, 2, None, ["party_count_low", "party_share_low"]),
    (4, 2, None, ["party_count_low"]),  # 2/4 is exactly half
    (6, 3, D(2026, 1, 1), ["party_org_missing"]),  # recorded for a later day: not yet there
])
def test_a2_party_composition(seats: int, party: int, party_org: dt.date | None, expected: list[str]) -> None:
    found = r.composition_findings(seats, full(seats, party), party_org, D(2025, 3, 1), S)
    assert [f.code for f in found] == expected


# ---- A3 alternates ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("seats", "limit"), [(5, 2), (6, 3), (7, 3), (8, 4), (9, 4), (1, 0)])
def test_a3_alternates_limit_is_floor_of_half(seats: int, limit: int) -> None:
    assert r.alternates_limit(seats, S) == limit


@pytest.mark.parametrize(("alternates", "over"), [(3, False), (4, True)])
def test_a3_stored_alternates_over_the_limit(alternates: int, over: bool) -> None:
    members = full(7, 4) + [member(10 + i, "alternate", votes=5) for i in range(alternates)]
    a = r.assess_org(org(), members, EVALS, [], D(2026, 1, 15), S)
    assert ("alternates_over" in codes(a)) is over


# ---- A4 vacancies --------------------------------------------------------------------------------------

def test_a4_seat_order_by_votes_ties_by_earlier_start() -> None:
    alts = [member(10, "alternate", votes=30, start=D(2024, 1, 1)), member(11, "alternate", votes=45),
            member(12, "alternate", votes=30, start=D(2023, 12, 1)), member(13, "alternate", votes=None)]
    assert [m.id for m in r.rank_alternates(alts)] == ["m11", "m12", "m10", "m13"]


@pytest.mark.parametrize(("seats", "sitting", "plan", "v"), [
    (8, 8, None, 0),
    (8, 7, "fill", 1),
    (8, 4, "fill", 4),  # exactly half vacant: filled from the alternates
    (8, 3, "re_election", 5),  # more than half
    (7, 4, "fill", 3),  # 3 ≤ 3.5
    (7, 3, "re_election", 4),
])
def test_a4_vacancy_plan(seats: int, sitting: int, plan: str | None, v: int) -> None:
    alts = [member(10 + i, "alternate", votes=10 * i) for i in range(seats // 2)]
    got, vacancies, chosen = r.vacancy_plan(seats, sitting, alts, S)
    assert (got, vacancies) == (plan, v)
    if plan == "fill":
        assert [m.votes for m in chosen] == sorted((m.votes for m in alts), reverse=True)[:v]


def test_a4_assessment_fills_or_calls_a_re_election() -> None:
    today = D(2026, 1, 15)
    left = D(2025, 10, 1)
    alts = [member(20, "alternate", votes=12), member(21, "alternate", votes=40), member(22, "alternate", votes=12,
                                                                                      start=D(2023, 1, 1))]
    half = [member(i, "member", party=i < 3, end=left if i >= 4 else None) for i in range(8)]  # 4 of 8 left
    a = r.assess_org(org(seats=8), half + alts, EVALS, [], today, S)
    assert a.state == "active" and "vacancy_fill" in codes(a)
    assert a.seat_order == ["m21", "m22", "m20"]  # 3 alternates for 4 seats: one stays unfilled
    assert next(f for f in a.findings if f.code == "vacancy_fill").details == {"vacancies": 4, "seats": 8, "unfilled": 1}
    more = [member(i, "member", party=i < 3, end=left if i >= 3 else None) for i in range(8)]  # 5 of 8 left
    b = r.assess_org(org(seats=8), more + alts, EVALS, [], today, S)
    assert b.state == "re_election_required" and b.seat_order == []
    assert [f.details["reason"] for f in b.findings if f.code == "re_election_required"] == ["vacancy_over_half"]


def test_a4_an_elected_committee_being_recorded_has_no_vacancy_yet() -> None:
    elected = org(filed_on=None, registered_on=None, term_start=D(2026, 4, 1), term_end=D(2031, 3, 31))
    a = r.assess_org(elected, full(7, 4)[:2], [], [], D(2026, 3, 1), S)
    assert a.state == "elected" and "re_election_required" not in codes(a) and a.seat_order == []
    assert next(f for f in a.findings if f.code == "members_incomplete").details == {"recorded": 2, "seats": 7}


def test_a4_a_declared_organisation_being_completed_has_no_vacancy_yet() -> None:
    declared = org(declared=True, filed_on=None, registered_on=None)
    a = r.assess_org(declared, full(7, 4)[:2], EVALS, [], D(2026, 1, 15), S)
    assert a.state == "active" and "re_election_required" not in codes(a) and "members_incomplete" in codes(a)
    assert next(f for f in a.findings if f.code == "to_complete").details["missing"] == ["filed_on", "registered_on",
                                                                                          "members"]
    done = org(declared=True)
    b = r.assess_org(done, full(7, 4), EVALS, [], D(2026, 1, 15), S)
    assert b.findings == [] and not b.declared_open  # complete: judged like any other


# ---- A5 evaluations ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("today", "expected"), [
    (D(2025, 6, 30), []),  # H1 still open
    (D(2025, 7, 1), [("evaluation_due", "2025H1")]),
    (D(2025, 7, 30), [("evaluation_due", "2025H1")]),
    (D(2025, 7, 31), [("evaluation_overdue", "2025H1")]),  # 31 days after 30 June
    (D(2026, 1, 31), [("evaluation_overdue", "2025H1"), ("evaluation_overdue", "2025H2")]),
])
def test_a5_due_then_overdue_after_31_days(today: dt.date, expected: list[tuple[str, str]]) -> None:
    found, _ = r.evaluation_findings(r.required_periods(D(2024, 1, 1), None, today, S), [], today, S)
    assert [(f.code, f.details["period"]) for f in found] == expected


@pytest.mark.parametrize(("start", "end", "today", "periods"), [
    (D(2024, 3, 1), None, D(2025, 1, 1), []),  # before evaluation_first_period
    (D(2025, 6, 30), None, D(2025, 12, 31), ["2025H1"]),  # in office on H1's last day
    (D(2025, 7, 1), None, D(2026, 1, 1), ["2025H2"]),
    (D(2024, 1, 1), D(2025, 12, 30), D(2026, 8, 1), ["2025H1"]),  # the term ended before H2's last day
])
def test_a5_required_periods(start: dt.date, end: dt.date | None, today: dt.date, periods: list[str]) -> None:
    assert r.required_periods(start, end, today, S) == periods


@pytest.mark.parametrize(("periods", "reelection"), [
    (["2025H1", "2025H2"], True),  # a year's two half-years
    (["2024H2", "2025H1"], True),  # consecutive across the year's turn
    (["2025H1", "2026H1"], False),  # a year apart: not within one year
    (["2025H1"], False),
])
def test_a5_two_unqualified_within_a_year(periods: list[str], reelection: bool) -> None:
    evs = [r.Evaluation("o1", p, "unqualified", held_on=r.period_bounds(p)[1], rectified_on=D(2026, 8, 1))
           for p in periods]
    assert bool(r.two_unqualified(evs, S)) is reelection
    today = D(2026, 8, 20)
    others = [r.Evaluation("o1", p, "qualified") for p in ("2024H2", "2025H1", "2025H2", "2026H1")
              if p not in periods]
    a = r.assess_org(org(term_start=D(2024, 7, 1)), full(7, 4), evs + others, [], today, S)
    assert (a.state == "re_election_required") is reelection
    assert ("re_election_required" in codes(a)) is reelection


@pytest.mark.parametrize(("today", "code"), [
    (D(2025, 8, 1), "rectification_due"), (D(2025, 8, 31), "rectification_due"),  # held 1 Aug: 30 days
    (D(2025, 9, 1), "rectification_overdue"),
])
def test_a5_unqualified_is_rectified_within_30_days(today: dt.date, code: str) -> None:
    ev = r.Evaluation("o1", "2025H1", "unqualified", held_on=D(2025, 8, 1))
    found, _ = r.evaluation_findings([], [ev], today, S)
    assert [f.code for f in found] == [code]
    done = r.Evaluation("o1", "2025H1", "unqualified", held_on=D(2025, 8, 1), rectified_on=D(2025, 8, 20))
    assert r.evaluation_findings([], [done], today, S)[0] == []


# ---- A6 trainings -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("sessions", "today", "expected"), [
    ([D(2025, 3, 1)], D(2025, 10, 1), [("training_progress", 2025, 1)]),  # during the year: progress only
    ([D(2025, 3, 1), D(2025, 9, 1)], D(2025, 10, 1), []),
    ([D(2025, 3, 1)], D(2026, 1, 1), [("training_short", 2025, 1), ("training_progress", 2026, 0)]),
    ([D(2025, 3, 1), D(2025, 9, 1), D(2026, 2, 1), D(2026, 5, 1)], D(2026, 6, 1), []),
    ([D(2025, 3, 1), D(2025, 12, 1)], D(2025, 11, 1), [("training_progress", 2025, 1)]),  # planned, not held yet
])
def test_a6_trainings_per_street_year(sessions: list[dt.date], today: dt.date, expected: list) -> None:
    report = r.training_report("150203001", [(d, ["committee_members"]) for d in sessions], today, S)
    assert [(f.code, f.details["year"], f.details["trainings"]) for f in report["findings"]] == expected
    assert report["year"] == today.year


def test_a6_only_sessions_for_committee_members_count() -> None:
    report = r.training_report("s", [(D(2025, 3, 1), ["street_staff"]), (D(2025, 4, 1), ["committee_members"])],
                               D(2025, 5, 1), S)
    assert report["trainings"] == 1


# ---- A7 term and custody ----------------------------------------------------------------------------

@pytest.mark.parametrize(("today", "codes_", "severity"), [
    (D(2025, 12, 31), ["term_expiring"], None),  # last day of the term
    (D(2026, 1, 1), ["term_expired", "custody_due"], "warning"),
    (D(2026, 1, 30), ["term_expired", "custody_due"], "warning"),  # term_end + 30 days
    (D(2026, 1, 31), ["term_expired", "custody_due"], "error"),
])
def test_a7_term_expiry_and_custody(today: dt.date, codes_: list[str], severity: str | None) -> None:
    o = org(term_end=D(2025, 12, 31))
    evals = [r.Evaluation("o1", p, "qualified") for p in ("2025H1", "2025H2")]
    a = r.assess_org(o, full(7, 4), evals, [], today, S)
    assert codes(a) == codes_
    if severity:
        assert next(f for f in a.findings if f.code == "custody_due").severity == severity
        partial = [r.Custody("o1", today, seal=True, accounts=True)]
        b = r.assess_org(o, full(7, 4), evals, partial, today, S)
        assert next(f for f in b.findings if f.code == "custody_due").details["missing"] == ["vouchers", "archives"]
        whole = partial + [r.Custody("o1", today, vouchers=True, archives=True)]
        assert codes(r.assess_org(o, full(7, 4), evals, whole, today, S)) == ["term_expired"]


@pytest.mark.parametrize(("days_left", "warned"), [(90, True), (91, False)])
def test_term_expiring_within_90_days(days_left: int, warned: bool) -> None:
    today = D(2026, 3, 1)
    a = r.assess_org(org(term_end=today + dt.timedelta(days=days_left)), full(7, 4), EVALS, [], today, S)
    assert ("term_expiring" in codes(a)) is warned


# ---- states and the current organisation -------------------------------------------------------------

@pytest.mark.parametrize(("dates", "kind", "state"), [
    ({}, "owners_committee", "none"),
    ({"prep_group_on": D(2025, 1, 1)}, "owners_committee", "preparing"),
    ({"prep_group_on": D(2025, 1, 1), "elected_on": D(2025, 3, 1)}, "owners_committee", "elected"),
    ({"elected_on": D(2025, 3, 1), "filed_on": D(2025, 3, 20)}, "owners_committee", "filed"),
    ({"filed_on": D(2025, 3, 20), "registered_on": D(2025, 4, 1)}, "owners_committee", "active"),
    ({"filed_on": D(2025, 3, 20)}, "management_committee", "active"),  # a 物管会 is active once filed
    ({"prep_group_on": D(2025, 6, 1)}, "owners_committee", "none"),  # a future date does not count yet
])
def test_lifecycle_states(dates: dict, kind: str, state: str) -> None:
    o = r.Org(id="o", compound_id="c", kind=kind, **dates)
    assert r.lifecycle_state(o, D(2025, 5, 1)) == state


def test_a_management_committee_is_dissolved_when_an_owners_committee_is_filed() -> None:
    mc = r.Org(id="mc", compound_id="c", kind="management_committee", filed_on=D(2024, 1, 1))
    oc = r.Org(id="oc", compound_id="c", kind="owners_committee", prep_group_on=D(2025, 1, 1), elected_on=D(2025, 4, 1),
               filed_on=D(2025, 5, 1))
    before = r.assess_compound([oc, mc], {}, {}, {}, D(2025, 4, 15), S)
    assert [(a.org.id, a.state, a.current) for a in before] == [("mc", "active", True), ("oc", "elected", False)]
    after = r.assess_compound([oc, mc], {}, {}, {}, D(2025, 5, 1), S)
    assert [(a.org.id, a.state, a.current) for a in after] == [("mc", "dissolved", False), ("oc", "filed", True)]


def test_a_successor_in_preparation_is_current_once_the_old_term_ended() -> None:
    old = org(id="old", term_end=D(2025, 12, 31))
    new = r.Org(id="new", compound_id="c1", kind="owners_committee", prep_group_on=D(2025, 11, 1))
    got = r.assess_compound([old, new], {"old": full(7, 4)}, {}, {}, D(2026, 1, 10), S)
    assert [(a.org.id, a.state, a.current) for a in got] == [("old", "term_expired", False), ("new", "preparing", True)]
    got = r.assess_compound([old, new], {"old": full(7, 4)}, {}, {}, D(2025, 12, 1), S)
    assert [a.org.id for a in got if a.current] == ["old"]  # still in office


def test_declared_organisation_counts_and_is_to_complete() -> None:
    declared = r.Org(id="d", compound_id="c", kind="management_committee", declared=True)
    (a,) = r.assess_compound([declared], {}, {}, {}, D(2026, 1, 1), S)
    assert (a.state, codes(a), a.declared_open) == ("active", ["to_complete"], True)
    assert a.findings[0].details["missing"] == ["seats", "term_start", "term_end", "filed_on", "members"]
    status = r.status_of("c", a, "management_committee", S)
    assert (status.counts, status.declared, status.can_sign) == (True, True, True)


@pytest.mark.parametrize(("state", "count_lapsed", "counts", "value"), [
    ("active", False, True, "owners_committee"),
    ("filed", False, True, "owners_committee"),
    ("elected", False, False, "preparing"),
    ("term_expired", False, False, "none"),
    ("term_expired", True, True, "owners_committee"),  # the setting counts lapsed ones
    ("re_election_required", False, False, "none"),
    ("dissolved", True, False, "none"),
])
def test_status_counts_active_or_filed_and_lapsed_only_by_setting(state: str, count_lapsed: bool, counts: bool,
                                                                   value: str) -> None:
    settings = OwnersOrgSettings(count_lapsed=count_lapsed)
    a = r.Assessment(org(), state, [], [], current=True)
    status = r.status_of("c1", a, None, settings)
    assert (status.counts, r.compound_value(status)) == (counts, value)
    assert status.can_sign is (state == "active")


@pytest.mark.parametrize(("value", "state", "counts", "known"), [
    ("owners_committee", "active", True, True), ("management_committee", "active", True, True),
    ("preparing", "preparing", False, True), ("none", "none", False, True), ("unknown", "unknown", False, False),
])
def test_status_without_records_reads_the_compound_field(value: str, state: str, counts: bool, known: bool) -> None:
    st = r.status_of("c", None, value, S)
    assert (st.state, st.counts, st.known) == (state, counts, known)


def test_rate_summary_needed_for_95_percent() -> None:
    from geoplatform.exchange import OrgStatus

    sts = [OrgStatus(str(i), "owners_committee", "active", True, True, True) for i in range(18)]
    sts += [OrgStatus("x", None, "none", False, True, False), OrgStatus("y", None, "none", False, True, False),
            OrgStatus("z", None, "unknown", False, False, False)]
    got = r.rate_summary(sts, S)
    assert (got["known"], got["counting"], got["unknown"], got["needed"]) == (20, 18, 1, 1)  # ⌈0.95 × 20⌉ = 19
    assert got["rate"] == 0.9 and got["rate_lower"] == 18 / 21


def test_layer_classes() -> None:
    from geoplatform.exchange import OrgStatus

    active = OrgStatus("c", "owners_committee", "active", True, True, True)
    assert r.layer_class(active, []) == "active_owners_committee"
    assert r.layer_class(active, [r.Finding("term_expiring", "info")]) == "active_owners_committee"
    assert r.layer_class(active, [r.Finding("vacancy_fill", "warning")]) == "needs_action"
    assert r.layer_class(OrgStatus("c", "management_committee", "filed", True, True, False), []) == \
        "active_management_committee"
    assert r.layer_class(OrgStatus("c", "owners_committee", "elected", False, True, False), []) == "forming"
    assert r.layer_class(OrgStatus("c", "owners_committee", "term_expired", False, True, False), []) == "lapsed"
    assert r.layer_class(OrgStatus("c", None, "none", False, True, False), []) == "none"
    assert r.layer_class(OrgStatus("c", None, "unknown", False, False, False), []) == "unknown"


def test_new_org_ids() -> None:
    assert r.new_org_id("c1", []) == "c1-org1"
    assert r.new_org_id("c1", ["c1-org1"]) == "c1-org2"
    long = "x" * 64
    assert len(r.new_org_id(long, [])) <= 64 and r.new_org_id(long, []) != r.new_org_id(long, [r.new_org_id(long, [])])


def test_settings_have_provenance_and_overrides_are_checked() -> None:
    assert {row["name"] for row in settings_table(S)} == set(PROVENANCE)
    assert all(p.startswith(("[Q]", "[D]")) for p in PROVENANCE.values())
    assert OwnersOrgSettings.from_overrides({"count_lapsed": True, "evaluation_grace_days": 40}).evaluation_grace_days == 40
    for bad in ({"nope": 1}, {"count_lapsed": "yes"}, {"party_min_share": 2}, {"evaluation_first_period": "2025Q1"}):
        with pytest.raises(ValueError):
            OwnersOrgSettings.from_overrides(bad)
