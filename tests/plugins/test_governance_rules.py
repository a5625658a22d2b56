"""RULES §8 as pure functions, table-driven, with the clocks pinned at their boundaries."""

from __future__ import annotations

import datetime as dt

import pytest

from geoplatform.exchange import OrgStatus
from plugins.governance import rules
from plugins.governance.settings import RECIPIENTS, GovernanceSettings, settings_table

S = GovernanceSettings()
D = dt.date
T = dt.datetime
FAILED = T(2025, 3, 10, 14, 0)


# ------------------------------------------------------------------ problem ledger

@pytest.mark.parametrize(("current", "new", "ok"), [
    ("open", "rectifying", True), ("rectifying", "rectified", True), ("rectifying", "refused", True),
    ("open", "rectified", False), ("open", "refused", False), ("rectified", "open", False),
    ("refused", "rectifying", False), ("rectified", "refused", False), ("open", "open", False),
    ("rectifying", "open", False),
])
def test_transitions(current: str, new: str, ok: bool) -> None:
    assert rules.transition(current, new).ok is ok
    assert rules.transition(current, new).allowed == rules.TRANSITIONS[current]


@pytest.mark.parametrize(("state", "rectify_by", "state_on", "today", "overdue"), [
    ("open", D(2025, 4, 30), None, D(2025, 4, 30), False),  # on the day itself: not yet
    ("open", D(2025, 4, 30), None, D(2025, 5, 1), True),  # the day after
    ("rectifying", D(2025, 4, 30), None, D(2025, 5, 1), True),
    ("rectified", D(2025, 4, 30), D(2025, 4, 30), D(2025, 6, 1), False),  # rectified on the last day
    ("rectified", D(2025, 4, 30), D(2025, 5, 1), D(2025, 6, 1), True),  # rectified a day late
    ("refused", D(2025, 4, 30), D(2025, 5, 2), D(2025, 6, 1), False),  # reported as refused instead
    ("open", None, None, D(2030, 1, 1), False),  # no rectify-by date: never overdue
])
def test_problem_overdue(state, rectify_by, state_on, today, overdue) -> None:  # noqa: ANN001
    p = {"id": "P1", "state": state, "rectify_by": rectify_by, "state_on": state_on, "found_on": D(2025, 4, 1)}
    assert rules.problem_overdue(p, today) is overdue


@pytest.mark.parametrize(("problem", "today", "kind", "on"), [
    ({"state": "refused", "state_on": D(2025, 5, 2)}, D(2025, 6, 1), "rectification_refused", D(2025, 5, 2)),
    ({"state": "refused", "state_on": None}, D(2025, 6, 1), "rectification_refused", D(2025, 4, 30)),
    ({"state": "open"}, D(2025, 5, 1), "rectification_overdue", D(2025, 5, 1)),
    ({"state": "open"}, D(2025, 4, 30), None, None),
    ({"state": "rectified", "state_on": D(2025, 5, 3)}, D(2025, 6, 1), "rectification_overdue", D(2025, 5, 1)),
    ({"state": "rectified", "state_on": D(2025, 4, 29)}, D(2025, 6, 1), None, None),
    ({"state": "refused", "state_on": D(2025, 7, 1)}, D(2025, 6, 1), None, None),  # not yet, as of that day
])
def test_credit_event(problem, today, kind, on) -> None:  # noqa: ANN001
    p = {"id": "P9", "category": "fire_lane", "company": "甲物业", "found_on": D(2025, 4, 1),
         "rectify_by": D(2025, 4, 30), **problem}
    event = rules.credit_event(p, today, S)
    if kind is None:
        assert event is None and rules.problem_finding(p, today) is None
    else:
        assert (event.kind, event.on, event.company, event.ref, event.source) == (kind, on, "甲物业", "P9", "governance")
        assert event.expires_on == on + dt.timedelta(days=365)
        assert rules.problem_finding(p, today)["code"] == kind


def test_no_firm_no_credit_event_but_a_finding() -> None:
    p = {"id": "P2", "state": "refused", "state_on": D(2025, 5, 1), "company": None, "found_on": D(2025, 4, 1),
         "rectify_by": D(2025, 4, 30), "street_code": "150203001"}
    assert rules.credit_event(p, D(2025, 6, 1), S) is None
    assert rules.problem_finding(p, D(2025, 6, 1)) == {"code": "rectification_refused", "problem_id": "P2",
                                                       "street_code": "150203001"}


@pytest.mark.parametrize(("classes", "worst"), [
    (["rectifying", "open"], "open"), (["open", "overdue", "rectifying"], "overdue"),
    (["overdue", "refused"], "refused"), ([None, "rectifying"], "rectifying"), ([None], None), ([], None),
])
def test_worst_class(classes, worst) -> None:  # noqa: ANN001
    assert rules.worst_class(classes) == worst


# ------------------------------------------------------------------ 24-hour duty

@pytest.mark.parametrize(("offset", "on_time", "late"), [
    (dt.timedelta(hours=23, minutes=59), True, ()),
    (dt.timedelta(hours=24), True, ()),  # "by t + 24 h": exactly 24 hours is on time
    (dt.timedelta(hours=24, minutes=1), False, ("authority",)),
])
def test_report_at_the_24_hour_boundary(offset, on_time, late) -> None:  # noqa: ANN001
    reported = {"street": FAILED + dt.timedelta(hours=1), "authority": FAILED + offset}
    st = rules.report_status(FAILED, reported, ("street", "authority"), FAILED + dt.timedelta(days=3), S)
    assert (st.on_time, st.late, st.deadline) == (on_time, late, T(2025, 3, 11, 14, 0))


@pytest.mark.parametrize(("as_of", "on_time", "late", "pending"), [
    (T(2025, 3, 11, 13, 59), None, (), ("owners_org",)),  # 23:59 after: still time
    (T(2025, 3, 11, 14, 0), None, (), ("owners_org",)),
    (T(2025, 3, 11, 14, 1), False, ("owners_org",), ()),  # 24:01 after and still nobody told
])
def test_a_missing_report_is_late_once_the_deadline_passed(as_of, on_time, late, pending) -> None:  # noqa: ANN001
    reported = {"street": FAILED, "authority": FAILED + dt.timedelta(hours=3), "owners_org": None}
    st = rules.report_status(FAILED, reported, RECIPIENTS, as_of, S)
    assert (st.on_time, st.late, st.pending, st.missing) == (on_time, late, pending, late)


def test_a_report_after_the_moment_judged_has_not_happened_yet() -> None:
    reported = {"street": FAILED + dt.timedelta(hours=2), "authority": FAILED + dt.timedelta(hours=30)}
    st = rules.report_status(FAILED, reported, ("street", "authority"), FAILED + dt.timedelta(hours=20), S)
    assert (st.on_time, st.pending) == (None, ("authority",))


@pytest.mark.parametrize(("has_org", "required"), [
    (True, ("street", "authority", "owners_org")), (False, ("street", "authority")), (None, ("street", "authority")),
])
def test_owners_org_told_only_when_the_compound_has_one(has_org, required) -> None:  # noqa: ANN001
    assert rules.required_recipients(has_org) == required
    reported = {"street": FAILED, "authority": FAILED}  # nobody told the owners' organisation
    st = rules.report_status(FAILED, reported, required, FAILED + dt.timedelta(days=2), S)
    assert st.late == (("owners_org",) if has_org else ())


def _org(kind, state, known=True) -> OrgStatus:  # noqa: ANN001
    return OrgStatus(compound_id="C", kind=kind, state=state, counts=state == "active", known=known, can_sign=False)


@pytest.mark.parametrize(("status", "field", "told"), [
    (_org("owners_committee", "active"), "none", True),  # the records win over the old field
    (_org("management_committee", "filed"), "none", True),
    (_org("owners_committee", "term_expired"), "none", True),
    (_org("owners_committee", "preparing"), "owners_committee", False),  # a 筹备组 is not an organisation yet
    (_org("owners_committee", "dissolved"), "owners_committee", False),
    (_org(None, "none"), "owners_committee", False),
    (_org(None, "unknown", known=False), "owners_committee", None),
    (None, "owners_committee", True), (None, "management_committee", True),  # no plugin answers: the field
    (None, "preparing", False), (None, "none", False), (None, "unknown", None), (None, None, None),
])
def test_has_owners_org(status, field, told) -> None:  # noqa: ANN001
    assert rules.has_owners_org(status, field, S) is told


@pytest.mark.parametrize(("category", "department"), [
    ("fire_lane", "fire_brigade"), ("ebike_charging", "fire_brigade"), ("flammables", "fire_brigade"),
    ("illegal_building", "urban_management"), ("green_space", "urban_management"), ("noise", "urban_management"),
    ("firm_fire_duty", "police"), ("dogs", "police"), ("lift", "market_regulation"),
])
def test_routing_as_rules_8_lists(category: str, department: str) -> None:
    assert rules.department_for(category, S) == department


def test_every_category_is_routed() -> None:
    from plugins.governance.settings import CATEGORIES, DEPARTMENTS, LEDGER_CATEGORIES

    assert len(LEDGER_CATEGORIES) == 7
    assert all(rules.department_for(c, S) in DEPARTMENTS for c in CATEGORIES)
    assert set(S.routing) == set(CATEGORIES)


def test_report_finding_names_who_was_late_or_missing() -> None:
    reported = {"street": FAILED + dt.timedelta(hours=30), "authority": FAILED, "owners_org": None}
    st = rules.report_status(FAILED, reported, RECIPIENTS, FAILED + dt.timedelta(days=2), S)
    d = {"problem_id": "P1", "community_code": "150203001001", "street_code": "150203001"}
    assert rules.report_finding(d, st) == {"code": "report_late", "problem_id": "P1", "late": ["street", "owners_org"],
                                           "community_code": "150203001001", "street_code": "150203001"}


# ------------------------------------------------------------------ mediation

OPENED = D(2025, 3, 1)


@pytest.mark.parametrize(("stage", "today", "closed_on", "escalated", "overdue", "days_left"), [
    ("community", D(2025, 3, 31), None, False, False, 0),  # day 30: due today
    ("community", D(2025, 4, 1), None, False, True, -1),  # day 31: overdue from the day after the due date
    ("administrative", D(2025, 3, 31), None, False, False, 0),
    ("administrative", D(2025, 4, 1), None, False, True, -1),
    ("community", D(2025, 5, 1), D(2025, 3, 20), False, False, None),  # closed
    ("community", D(2025, 5, 1), None, True, False, None),  # escalated
    ("judicial", D(2026, 5, 1), None, False, False, None),  # the court's clock
])
def test_mediation_day_30_vs_day_31(stage, today, closed_on, escalated, overdue, days_left) -> None:  # noqa: ANN001
    x = {"id": "M1", "stage": stage, "opened_on": OPENED, "closed_on": closed_on}
    st = rules.mediation_status(x, escalated, today, S)
    assert (st.overdue, st.days_left) == (overdue, days_left)
    assert st.due == (None if stage == "judicial" else D(2025, 3, 31))
    assert (rules.mediation_finding(x, st) is not None) is overdue


def test_judicial_stage_due_when_configured() -> None:
    s = GovernanceSettings.from_overrides({"judicial_days": 30})
    assert rules.stage_due("judicial", OPENED, s) == D(2025, 3, 31)


@pytest.mark.parametrize(("stage", "closed_on", "outcome", "escalated", "can"), [
    ("community", None, None, False, True), ("community", D(2025, 3, 9), "unresolved", False, True),
    ("community", D(2025, 3, 9), "resolved", False, False), ("community", None, None, True, False),
    ("administrative", None, None, False, True), ("judicial", None, None, False, False),
])
def test_escalation_path(stage, closed_on, outcome, escalated, can) -> None:  # noqa: ANN001
    assert rules.can_escalate(stage, closed_on, outcome, escalated) is can
    assert [rules.NEXT_STAGE[s] for s in rules.STAGES] == ["administrative", "judicial", None]


# ------------------------------------------------------------------ pilots

def _meetings(*days: D, kind: str = "tripartite") -> list[dict]:
    return [{"held_on": d, "kind": kind} for d in days]


@pytest.mark.parametrize(("meetings", "today", "missing"), [
    (_meetings(D(2025, 2, 1), D(2025, 5, 1), D(2025, 8, 1), D(2025, 11, 1)), D(2026, 1, 1), ()),
    (_meetings(D(2025, 2, 1), D(2025, 8, 1), D(2025, 11, 1)), D(2026, 1, 1), (2,)),  # a quarter with no meeting
    (_meetings(D(2025, 2, 1)), D(2025, 6, 30), ()),  # Q2 not ended yet: not judged
    (_meetings(D(2025, 2, 1)), D(2025, 7, 1), (2,)),  # the day after Q2 ends
    (_meetings(D(2025, 3, 31), D(2025, 4, 1)), D(2025, 7, 1), ()),  # quarter boundaries
    (_meetings(D(2025, 2, 1)) + _meetings(D(2025, 5, 1), kind="joint"), D(2025, 7, 1), (2,)),  # joint: not counted
    (_meetings(D(2024, 5, 1), D(2025, 2, 1)), D(2025, 7, 1), (2,)),  # another year's meeting
])
def test_pilot_quarters(meetings, today, missing) -> None:  # noqa: ANN001
    st = rules.pilot_status(2025, meetings, [], today, S)
    assert st.quarters_missing == missing
    pilot = {"year": 2025, "street_code": "150203001", "community_code": "150203001001"}
    assert [f["period"] for f in rules.pilot_findings(pilot, st) if f["code"] == "pilot_quarter_missing"] == \
        [f"2025Q{q}" for q in missing]


def _case(published: D | None, year: int = 2025) -> dict:
    return {"year": year, "published_on": published}


@pytest.mark.parametrize(("cases", "today", "count", "short"), [
    ([_case(D(2025, 6, 1))], D(2026, 1, 1), 1, True),  # one case
    ([_case(D(2025, 6, 1)), _case(D(2025, 12, 31))], D(2026, 1, 1), 2, False),  # two cases
    ([_case(D(2025, 6, 1))], D(2025, 12, 31), 1, False),  # the year has not ended: progress, not judged
    ([_case(D(2025, 6, 1)), _case(None)], D(2026, 1, 1), 1, True),  # a draft does not count
    ([_case(D(2025, 6, 1)), _case(D(2026, 1, 5))], D(2026, 2, 1), 1, True),  # published after the year
    ([_case(D(2025, 6, 1)), _case(D(2025, 7, 1), year=2024)], D(2026, 1, 1), 1, True),  # another year's case
])
def test_pilot_cases_one_vs_two(cases, today, count, short) -> None:  # noqa: ANN001
    st = rules.pilot_status(2025, [], cases, today, S)
    assert (st.cases, st.cases_short) == (count, short)


def test_missing_pilots_judged_once_the_year_ended() -> None:
    streets = ["150203001", "150203002"]
    pilots = [{"year": 2025, "street_code": "150203001", "community_code": "150203001001"}]
    assert rules.missing_pilots(streets, pilots, D(2025, 12, 31), S) == []
    assert rules.missing_pilots(streets, pilots, D(2026, 1, 1), S) == [
        {"code": "pilot_missing", "street_code": "150203002", "period": "2025"}]


@pytest.mark.parametrize(("existing", "community", "second"), [
    ([], "150203001002", False),
    ([{"year": 2025, "street_code": "150203001", "community_code": "150203001001"}], "150203001002", True),
    ([{"year": 2025, "street_code": "150203001", "community_code": "150203001002"}], "150203001002", False),
    ([{"year": 2024, "street_code": "150203001", "community_code": "150203001001"}], "150203001002", False),
    ([{"year": 2025, "street_code": "150203003", "community_code": "150203003001"}], "150203001002", False),
])
def test_two_pilots_in_one_street(existing, community, second) -> None:  # noqa: ANN001
    assert (rules.second_pilot(2025, "150203001", community, existing) is not None) is second


def test_quarter_arithmetic() -> None:
    assert [rules.quarter_end(2025, q) for q in range(1, 5)] == [D(2025, 3, 31), D(2025, 6, 30), D(2025, 9, 30),
                                                                D(2025, 12, 31)]
    assert [rules.quarter_of(D(2025, m, 1)) for m in (1, 3, 4, 6, 7, 12)] == [1, 1, 2, 2, 3, 4]


# ------------------------------------------------------------------ the check's frame

def test_as_of_moment() -> None:
    now = T(2025, 3, 11, 9, 30)
    assert rules.as_of_moment(D(2025, 3, 11), now) == now
    assert rules.as_of_moment(D(2025, 3, 5), now) == T(2025, 3, 6, 0, 0)  # the end of an earlier day
    assert rules.as_of_moment(D(2025, 3, 10), now, D(2025, 3, 10)) == now  # the machine's day (UTC) is today too


def test_findings_sorted_by_code_then_ids() -> None:
    fs = [{"code": "pilot_missing", "street_code": "2"}, {"code": "report_late", "problem_id": "B", "street_code": "1"},
          {"code": "report_late", "problem_id": "A", "street_code": "1"}, {"code": "mediation_overdue", "street_code": "0"}]
    assert [(f["code"], f.get("problem_id")) for f in rules.sort_findings(fs)] == [
        ("report_late", "A"), ("report_late", "B"), ("mediation_overdue", None), ("pilot_missing", None)]


def test_settings_have_provenance_and_refuse_bad_overrides() -> None:
    assert all(row["provenance"].startswith(("[Q]", "[D]")) for row in settings_table(S))
    assert (S.report_hours, S.mediation_days, S.pilot_min_cases, S.pilot_meetings_per_quarter) == (24, 30, 2, 1)
    assert GovernanceSettings.from_overrides({"report_hours": 12}).report_hours == 12
    assert GovernanceSettings.from_overrides({"routing": {"lift": "police"}}).department("lift") == "police"
    for bad in ({"nope": 1}, {"report_hours": -1}, {"report_hours": "24"}, {"routing": {"lift": "mayor"}},
                {"judicial_days": 0}):
        with pytest.raises(ValueError):
            GovernanceSettings.from_overrides(bad)


def test_safety_categories_are_a_setting() -> None:
    """What the takeover score counts as an open safety problem (RULES §4/§8): the campaign's hazards by default."""
    from plugins.governance.settings import LEDGER_CATEGORIES, GovernanceSettings

    default = GovernanceSettings().safety_categories
    assert set(LEDGER_CATEGORIES) <= set(default) and "noise" not in default and "dogs" not in default
    assert GovernanceSettings.from_overrides({"safety_categories": ["fire_lane"]}).safety_categories == ("fire_lane",)
    for bad in (["fire_lane", "nope"], "fire_lane"):
        with pytest.raises(ValueError, match="safety_categories"):
            GovernanceSettings.from_overrides({"safety_categories": bad})
