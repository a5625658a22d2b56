"""Pure tests of the handover rules (RULES §2): transitions, overdue, colours, backlog, ledger, permissions."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from geoplatform.principal import Principal
from plugins.handover import edit_handover_allowed, rules
from plugins.handover.attributes import attributes_frame, layer_specs
from plugins.handover.ledger import HEADERS, ledger_rows, neutralise
from plugins.handover.settings import HandoverSettings

T = dt.date(2026, 6, 15)
S = HandoverSettings()

UTILITY_ALLOWED = [
    ("unknown", "not_handed_over"),
    ("not_handed_over", "owner_consent"),
    ("not_handed_over", "renovation"),
    ("owner_consent", "applied"),
    ("applied", "acceptance"),
    ("acceptance", "agreement"),
    ("acceptance", "rectifying"),
    ("rectifying", "acceptance"),
    ("renovation", "acceptance"),
    ("agreement", "taken_over"),
]
EXTRA_ALLOWED = [
    ("fire_acceptance", "unknown", "not_accepted"),
    ("fire_acceptance", "not_accepted", "rectifying"),
    ("fire_acceptance", "rectifying", "accepted"),
    ("power_upgrade", "unknown", "planned"),
    ("power_upgrade", "planned", "in_progress"),
    ("power_upgrade", "in_progress", "done"),
    ("telecom_access", "unknown", "blocked"),
    ("telecom_access", "blocked", "negotiating"),
    ("telecom_access", "negotiating", "access"),
]
ALL_ALLOWED = [(f, a, b) for f in rules.UTILITY_FACILITIES for a, b in UTILITY_ALLOWED] + EXTRA_ALLOWED


@pytest.mark.parametrize(("facility", "current", "target"), ALL_ALLOWED)
def test_every_allowed_transition(facility: str, current: str, target: str) -> None:
    check = rules.transition(current, target, facility)
    assert check.ok and check.error is None and target in check.allowed


def test_the_tables_hold_exactly_the_listed_transitions() -> None:
    listed = {(f, a, b) for f, a, b in ALL_ALLOWED}
    in_tables = {(f, a, b) for f, m in rules.MACHINES.items() for a, nxt in m.items() for b in nxt}
    assert in_tables == listed


DISALLOWED = [  # (facility, current, target, allowed next named in the error)
    ("water", "unknown", "taken_over", ("not_handed_over",)),
    ("power", "not_handed_over", "acceptance", ("owner_consent", "renovation")),  # unless the district organises it
    ("heating", "owner_consent", "taken_over", ("applied",)),
    ("gas", "acceptance", "taken_over", ("agreement", "rectifying")),
    ("water", "rectifying", "taken_over", ("acceptance",)),
    ("water", "rectifying", "agreement", ("acceptance",)),
    ("power", "renovation", "owner_consent", ("acceptance",)),
    ("water", "taken_over", "not_handed_over", ()),
    ("water", "agreement", "acceptance", ("taken_over",)),
    ("water", "applied", "unknown", ("acceptance",)),
    ("fire_acceptance", "not_accepted", "accepted", ("rectifying",)),
    ("fire_acceptance", "accepted", "rectifying", ()),
    ("power_upgrade", "planned", "done", ("in_progress",)),
    ("telecom_access", "unknown", "access", ("blocked",)),
    ("telecom_access", "blocked", "access", ("negotiating",)),
]


@pytest.mark.parametrize(("facility", "current", "target", "allowed"), DISALLOWED)
def test_disallowed_transitions_name_the_allowed_next_states(facility, current, target, allowed) -> None:  # noqa: ANN001
    check = rules.transition(current, target, facility)
    assert not check.ok
    assert check.allowed == allowed
    for state in allowed:
        assert state in check.error
    if not allowed:
        assert "final state" in check.error


@pytest.mark.parametrize(("facility", "current", "target"), [
    ("water", "acceptance", "accepted"),  # a fire state is not a water state
    ("fire_acceptance", "unknown", "taken_over"),
    ("water", "unknown", "bogus"),
])
def test_states_of_another_machine_are_unknown(facility: str, current: str, target: str) -> None:
    check = rules.transition(current, target, facility)
    assert not check.ok and "unknown state" in check.error


def test_unknown_facility_is_rejected() -> None:
    with pytest.raises(rules.HandoverRuleError, match="unknown facility"):
        rules.transition("unknown", "not_handed_over", "sewage")


@pytest.mark.parametrize(("deadline", "done", "today", "overdue"), [
    (T, None, T - dt.timedelta(days=1), False),  # before the deadline
    (T, None, T, False),  # due today is not overdue
    (T, None, T + dt.timedelta(days=1), True),  # the day after is
    (T, T + dt.timedelta(days=3), T + dt.timedelta(days=10), False),  # done (late) is no longer overdue
    (None, None, T, False),  # no deadline, never overdue
])
def test_item_overdue_around_the_deadline_day(deadline, done, today, overdue) -> None:  # noqa: ANN001
    assert rules.item_overdue(deadline, done, today) is overdue


@pytest.mark.parametrize(("state", "row_deadline", "items", "today", "overdue", "cls"), [
    ("rectifying", None, [{"deadline": T, "done_date": None}], T, False, "rectifying"),
    ("rectifying", None, [{"deadline": T, "done_date": None}], T + dt.timedelta(days=1), True, "open"),
    ("rectifying", None, [{"deadline": T - dt.timedelta(days=9), "done_date": T}], T, False, "rectifying"),
    ("applied", T, [], T, False, "progress"),
    ("applied", T, [], T + dt.timedelta(days=1), True, "open"),
    ("taken_over", T, [{"deadline": T, "done_date": None}], T + dt.timedelta(days=30), False, "done"),
    ("not_handed_over", None, [], T, False, "open"),
    ("unknown", T, [], T + dt.timedelta(days=1), False, "unknown"),
    ("owner_consent", None, [], T, False, "progress"),
    ("agreement", None, [], T, False, "progress"),
    ("renovation", None, [], T, False, "progress"),
    ("accepted", None, [], T, False, "done"),
    ("blocked", None, [], T, False, "open"),
    ("negotiating", None, [], T, False, "progress"),
])
def test_row_status_overdue_and_colour(state, row_deadline, items, today, overdue, cls) -> None:  # noqa: ANN001
    st = rules.row_status("water", state, row_deadline, items, today, S)
    assert (st.overdue, st.color_class) == (overdue, cls)


def test_row_deadline_can_be_switched_off() -> None:
    s = HandoverSettings.from_overrides({"row_deadline_overdue": False})
    assert not rules.row_status("water", "applied", T, [], T + dt.timedelta(days=5), s).overdue


def test_settings_reject_unknown_keys_and_merge_colours() -> None:
    with pytest.raises(ValueError, match="bogus"):
        HandoverSettings.from_overrides({"bogus": 1})
    s = HandoverSettings.from_overrides({"colors": {"done": "#00ff00"}})
    assert s.colors["done"] == "#00ff00" and s.colors["open"] == S.colors["open"]


def test_worst_ranks_overdue_then_rectifying_then_progress_then_unknown_then_done() -> None:
    def st(state: str, overdue: bool = False) -> rules.RowStatus:
        return rules.row_status("water", state, None, [], T, S) if not overdue else rules.RowStatus(
            state, True, 1, 1, None, rules.state_class(state, True))
    assert rules.worst([st("taken_over"), st("unknown")]).state == "unknown"
    assert rules.worst([st("unknown"), st("applied")]).state == "applied"
    assert rules.worst([st("applied"), st("owner_consent")]).state == "owner_consent"
    assert rules.worst([st("applied"), st("rectifying")]).state == "rectifying"
    assert rules.worst([st("rectifying"), st("agreement", overdue=True)]).state == "agreement"
    assert rules.worst([]) is None


def test_taken_over_share_counts_the_four_utilities_only() -> None:
    assert rules.taken_over_share({"water": "taken_over", "power": "taken_over", "fire_acceptance": "accepted"}) == 0.5
    assert rules.taken_over_share({}) == 0.0


@pytest.mark.parametrize(("text", "expected"), [
    ("更换老化管网|产权单位|2026-07-01", {"content": "更换老化管网", "responsible_unit": "产权单位",
                                          "deadline": dt.date(2026, 7, 1)}),
    ("补齐竣工资料", {"content": "补齐竣工资料", "responsible_unit": None, "deadline": None}),
    ("修复阀门井||2026-07-01", {"content": "修复阀门井", "responsible_unit": None, "deadline": dt.date(2026, 7, 1)}),
])
def test_parse_item(text: str, expected: dict) -> None:
    assert rules.parse_item(text) == expected


@pytest.mark.parametrize("text", ["", "|unit|2026-01-01", "a|b|2026-02-30", "a|b|c|d"])
def test_parse_item_rejects_malformed(text: str) -> None:
    with pytest.raises(rules.HandoverRuleError):
        rules.parse_item(text)


# A hand-made district: two streets, three compounds.
COMPOUNDS = [
    {"id": "A", "name": "甲小区", "street_code": "150203001", "street": "少先路街道"},
    {"id": "B", "name": "乙小区", "street_code": "150203001", "street": "少先路街道"},
    {"id": "C", "name": "丙小区", "street_code": "150203003", "street": "沼潭街道"},
]
ROWS = [
    {"id": 1, "compound_id": "A", "facility": "water", "state": "taken_over", "since": None, "deadline": None},
    {"id": 2, "compound_id": "A", "facility": "power", "state": "rectifying", "since": None, "deadline": None},
    {"id": 3, "compound_id": "A", "facility": "heating", "state": "acceptance", "since": None, "deadline": None},
    {"id": 4, "compound_id": "B", "facility": "water", "state": "not_handed_over", "since": None, "deadline": T},
    {"id": 5, "compound_id": "B", "facility": "power", "state": "agreement", "since": None, "deadline": None},
    {"id": 6, "compound_id": "B", "facility": "heating", "state": "taken_over", "since": None, "deadline": None},
    {"id": 7, "compound_id": "B", "facility": "gas", "state": "taken_over", "since": None, "deadline": None},
    {"id": 8, "compound_id": "B", "facility": "fire_acceptance", "state": "not_accepted", "since": None,
     "deadline": None},
    {"id": 9, "compound_id": "C", "facility": "water", "state": "unknown", "since": None, "deadline": None},
    {"id": 10, "compound_id": "C", "facility": "power", "state": "renovation", "since": None,
     "deadline": T - dt.timedelta(days=1)},
]
ITEMS = {2: [
    {"content": "更换老化管网", "responsible_unit": "产权单位", "deadline": T - dt.timedelta(days=1), "done_date": None},
    {"content": "补齐竣工资料", "responsible_unit": None, "deadline": T - dt.timedelta(days=10),
     "done_date": T - dt.timedelta(days=12)},
    {"content": '=HYPERLINK("http://x")', "responsible_unit": "@unit", "deadline": T, "done_date": None},
]}


def test_backlog_counts_are_exact() -> None:
    b = rules.build_backlog(COMPOUNDS, ROWS, ITEMS, T, S)
    keys = [(i["compound_id"], i["facility"], i["state"], i["overdue"]) for i in b["items"]]
    assert keys == [
        ("A", "power", "rectifying", True), ("A", "heating", "acceptance", False), ("A", "gas", "unknown", False),
        ("B", "water", "not_handed_over", False), ("B", "power", "agreement", False),
        ("B", "fire_acceptance", "not_accepted", False),
        ("C", "water", "unknown", False), ("C", "power", "renovation", True), ("C", "heating", "unknown", False),
        ("C", "gas", "unknown", False),
    ]
    assert b["counts"] == {
        "total": 10, "overdue": 2,
        "by_state": {"acceptance": 1, "agreement": 1, "not_accepted": 1, "not_handed_over": 1, "rectifying": 1,
                     "renovation": 1, "unknown": 4},
        "by_street": {"少先路街道": 6, "沼潭街道": 4},
        "by_facility": {"fire_acceptance": 1, "gas": 2, "heating": 2, "power": 3, "water": 2},
    }
    a_power = b["items"][0]
    assert a_power["open_items"] == 2 and a_power["deadline"] == T - dt.timedelta(days=1)


def test_backlog_the_day_after_a_row_deadline() -> None:
    b = rules.build_backlog(COMPOUNDS, ROWS, ITEMS, T + dt.timedelta(days=1), S)
    assert b["counts"]["overdue"] == 3  # B water's deadline was T
    assert [i["overdue"] for i in b["items"] if i["compound_id"] == "B" and i["facility"] == "water"] == [True]


def test_backlog_per_utility_and_without_unsurveyed() -> None:
    b = rules.build_backlog(COMPOUNDS, ROWS, ITEMS, T, S, facilities=("water",))
    assert [(i["compound_id"], i["state"]) for i in b["items"]] == [("B", "not_handed_over"), ("C", "unknown")]
    s = HandoverSettings.from_overrides({"list_unsurveyed": False})
    b = rules.build_backlog(COMPOUNDS, ROWS, ITEMS, T, s)
    assert b["counts"]["by_state"]["unknown"] == 1  # only C's recorded `unknown` row


def test_attributes_frame() -> None:
    df = attributes_frame(["A", "B", "C", "D"], ROWS, ITEMS, T, S)
    assert list(df.index) == ["A", "B", "C", "D"]
    assert df.loc["A", "handover_worst_state"] == "rectifying" and df.loc["A", "handover_class"] == "open"
    assert df.loc["B", "handover_worst_state"] == "not_handed_over"  # ties with not_accepted: facility order
    assert df.loc["C", "handover_worst_state"] == "renovation" and df.loc["C", "handover_class"] == "open"
    assert df.loc["D", "handover_worst_state"] == "unknown" and df.loc["D", "handover_class"] == "unknown"
    assert df["handover_taken_over_share"].tolist() == [0.25, 0.5, 0.0, 0.0]
    assert df["handover_overdue"].tolist() == [1, 0, 1, 0]
    assert df.loc["A", "handover_open_items"] == 2
    assert df.loc["A", "handover_state_gas"] == "unknown" and pd.isna(df.loc["A", "handover_state_fire_acceptance"])
    assert df.loc["B", "handover_state_fire_acceptance"] == "not_accepted"
    assert df.loc["B", "handover_class_heating"] == "done"
    assert "供电:整改中（逾期）" in df.loc["A", "handover_summary"]
    assert df.loc["B", "handover_taken_over"] == "2/4"
    assert all(c.startswith("handover_") for c in df.columns)


def test_layer_specs_colour_every_class_and_filter_gap_kinds() -> None:
    specs = {s.id: s for s in layer_specs(S)}
    assert set(specs) == {"handover", *(f"handover_{f}" for f in rules.FACILITIES)}
    legend = specs["handover"].legend
    assert legend.attribute == "handover_class"
    assert {r.value: r.color for r in legend.rules} == S.colors
    assert specs["handover_water"].where is None
    df = attributes_frame(["A", "B", "C"], ROWS, ITEMS, T, S)
    assert specs["handover_fire_acceptance"].where(df).tolist() == [False, True, False]


def test_ledger_rows_and_formula_neutralising() -> None:
    lines = ledger_rows(COMPOUNDS, ROWS, ITEMS, T)
    assert len(lines) == 3 and len(lines[0]) == len(HEADERS)
    assert [(line[0], line[2], line[3], line[4], line[7]) for line in lines] == [
        ("甲小区", "供电", "整改中", "更换老化管网", "是"),
        ("甲小区", "供电", "整改中", "补齐竣工资料", "否"),
        ("甲小区", "供电", "整改中", '=HYPERLINK("http://x")', "否"),  # due today: not overdue
    ]
    assert neutralise('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert neutralise("@unit") == "'@unit" and neutralise("-1") == "'-1" and neutralise("更换") == "更换"
    assert neutralise(3) == 3


def _p(role: str, street: str | None = None, utility: str | None = None) -> Principal:
    return Principal(name="u", role=role, street_code=street, utility=utility)


@pytest.mark.parametrize(("user", "resource", "expected"), [
    (_p("utility", utility="water"), {"facility": "water", "street_code": "150203001"}, True),
    (_p("utility", utility="water"), {"facility": "power", "street_code": "150203001"}, False),
    (_p("utility", utility="power"), {"facility": "power_upgrade", "street_code": "150203001"}, True),
    (_p("utility", utility="gas"), {"facility": "power_upgrade", "street_code": "150203001"}, False),
    (_p("utility"), {"facility": "water", "street_code": "150203001"}, False),
    (_p("street_officer", street="150203001"), {"facility": "gas", "street_code": "150203001"}, True),
    (_p("street_officer", street="150203001"), {"facility": "gas", "street_code": "150203003"}, False),
    (_p("street_officer"), {"facility": "gas", "street_code": "150203003"}, False),
    (_p("admin"), {"facility": "gas", "street_code": "150203003"}, None),
    (_p("viewer"), {"facility": "gas", "street_code": "150203003"}, None),
    # RULES §2 (issue 24): telecom edits telecom_access, fire edits fire_acceptance — district-wide, nothing else
    (_p("telecom"), {"facility": "telecom_access", "street_code": "150203003"}, True),
    (_p("telecom"), {"facility": "fire_acceptance", "street_code": "150203003"}, False),
    (_p("telecom"), {"facility": "water", "street_code": "150203003"}, False),
    (_p("fire"), {"facility": "fire_acceptance", "street_code": "150203001"}, True),
    (_p("fire"), {"facility": "telecom_access", "street_code": "150203001"}, False),
    (_p("fire"), {"facility": "power_upgrade", "street_code": "150203001"}, False),
])
def test_edit_handover_jurisdiction(user: Principal, resource: dict, expected: bool | None) -> None:
    assert edit_handover_allowed(user, "edit_handover", {"kind": "handover", **resource}) is expected


def test_other_actions_are_not_ours() -> None:
    assert edit_handover_allowed(_p("utility", utility="water"), "edit_compound", {"facility": "water"}) is None
    assert edit_handover_allowed(_p("street_officer", street="1"), "view", {"street_code": "1"}) is None


def test_taken_over_share_agrees_with_the_takeover_plugin() -> None:
    takeover = pytest.importorskip("plugins.takeover.rules")
    ids = pd.Index(["A", "B", "C", "D"])
    ours = attributes_frame(list(ids), ROWS, ITEMS, T, S)["handover_taken_over_share"]
    theirs = takeover.handover_component(ids, pd.DataFrame(ROWS)[["compound_id", "facility", "state"]])
    assert ours.tolist() == theirs.tolist()


# --- issue 24: the ledger from the survey on, rectifying needs a dated item, the district-organised acceptance ---

@pytest.mark.parametrize(("facility", "state", "allowed"), [
    *[(f, s_, True) for f in rules.UTILITY_FACILITIES
      for s_ in ("not_handed_over", "owner_consent", "applied", "acceptance", "rectifying", "renovation", "agreement")],
    ("fire_acceptance", "not_accepted", True), ("fire_acceptance", "rectifying", True),
    ("power_upgrade", "planned", True), ("power_upgrade", "in_progress", True),
    ("telecom_access", "blocked", True), ("telecom_access", "negotiating", True),
    *[(f, "unknown", False) for f in rules.FACILITIES],  # survey first
    ("water", "taken_over", False), ("fire_acceptance", "accepted", False), ("power_upgrade", "done", False),
    ("telecom_access", "access", False), ("water", "accepted", False),  # final, or not a state of the kind
])
def test_items_attach_in_every_open_state_of_every_kind(facility: str, state: str, allowed: bool) -> None:
    assert rules.items_allowed(facility, state) is allowed


D1 = dt.date(2026, 7, 1)


@pytest.mark.parametrize(("state", "items", "missing"), [
    ("rectifying", [], "item"),
    ("rectifying", [{"deadline": D1, "done_date": D1}], "item"),  # a done item is not open
    ("rectifying", [{"deadline": None, "done_date": None}], "deadline"),
    ("rectifying", [{"deadline": None, "done_date": None}, {"deadline": D1, "done_date": D1}], "deadline"),
    ("rectifying", [{"deadline": None, "done_date": None}, {"deadline": D1, "done_date": None}], None),
    ("rectifying", [{"deadline": D1}], None),
    ("acceptance", [], None), ("not_handed_over", [], None), ("blocked", [], None),
])
def test_entering_rectifying_needs_an_open_item_with_a_deadline(state: str, items: list, missing: str | None) -> None:
    assert rules.rectifying_missing(state, items) == missing


@pytest.mark.parametrize(("facility", "given", "ok"), [
    ("water", {}, False), ("gas", {"organised_by": "utility"}, False), ("heating", {"organised_by": None}, False),
    ("power", {"organised_by": "district_government"}, True), ("water", {"organised_by": "district_government"}, True),
])
def test_not_handed_over_to_acceptance_when_the_district_organises_it(facility: str, given: dict, ok: bool) -> None:
    check = rules.transition("not_handed_over", "acceptance", facility, **given)
    assert check.ok is ok
    assert check.missing == (() if ok else ("organised_by",))
    assert check.allowed == ("owner_consent", "renovation")  # the unconditional moves stay as they were
    if not ok:
        assert "district_government" in check.error and "owner_consent" in check.error


def test_the_condition_opens_no_other_path() -> None:
    assert not rules.transition("owner_consent", "acceptance", "water", organised_by="district_government").ok
    assert not rules.transition("not_accepted", "accepted", "fire_acceptance", organised_by="district_government").ok
    assert rules.conditional_next("water", "not_handed_over") == {"acceptance": {"organised_by": "district_government"}}
    assert rules.conditional_next("telecom_access", "blocked") == {} and rules.conditional_next("water", "applied") == {}


@pytest.mark.parametrize(("facility", "current", "target", "opens", "result"), [
    ("water", "applied", "acceptance", True, None),
    ("water", "not_handed_over", "acceptance", True, None),
    ("gas", "rectifying", "acceptance", True, None),
    ("power", "renovation", "acceptance", True, None),
    ("heating", "acceptance", "agreement", False, "pass"),
    ("heating", "acceptance", "rectifying", False, "fail"),
    ("fire_acceptance", "rectifying", "accepted", False, "pass"),
    ("fire_acceptance", "not_accepted", "rectifying", False, None),
    ("water", "agreement", "taken_over", False, None),
    ("telecom_access", "negotiating", "access", False, None),
    ("water", "acceptance", "acceptance", False, None),  # staying is no new acceptance
])
def test_which_moves_open_or_close_an_acceptance(facility, current, target, opens, result) -> None:  # noqa: ANN001
    assert rules.opens_acceptance(facility, current, target) is opens
    assert rules.acceptance_result(facility, current, target) == result
    assert rules.acceptance_step(facility, current, target) is (opens or result is not None)


@pytest.mark.parametrize(("role", "utility", "expected"), [
    ("utility", "water", ("water",)), ("utility", "power", ("power", "power_upgrade")), ("utility", None, ()),
    ("telecom", None, ("telecom_access",)), ("fire", None, ("fire_acceptance",)),
    ("street_officer", None, None), ("admin", None, None),
])
def test_own_facilities_of_the_scoped_roles(role: str, utility: str | None, expected) -> None:  # noqa: ANN001
    from plugins.handover import facility_scope

    scope = facility_scope(_p(role, utility=utility), S)
    assert scope == (None if expected is None else frozenset(expected))
