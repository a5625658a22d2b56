"""The set-wise handover attributes (issue 26 items 4–5) give exactly what the per-record rules give."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest

from plugins.handover import rules
from plugins.handover.attributes import attributes_columns, attributes_frame
from plugins.handover.service import load_rows, load_status_columns
from plugins.handover.settings import HandoverSettings

T = dt.date(2026, 6, 15)
DAYS = (None, T - dt.timedelta(days=3), T - dt.timedelta(days=1), T, T + dt.timedelta(days=1))
SETTINGS = (HandoverSettings(), HandoverSettings(row_deadline_overdue=False))


def _random_case(seed: int) -> tuple[list[str], list[dict], dict[int, list[dict]]]:
    """Compounds with any subset of facilities, in any state (a few outside every machine), any deadlines and items."""
    rnd = random.Random(seed)
    ids = [f"C{i:03d}" for i in range(rnd.randint(1, 40))]
    states = [*rules.ALL_STATES, "bogus"]
    rows, items, n = [], {}, 0
    for cid in ids + ["ELSEWHERE"]:  # a compound not asked for: its rows are left out
        for f in rules.FACILITIES:
            if rnd.random() < 0.5:
                continue
            n += 1
            rows.append({"id": n, "compound_id": cid, "facility": f, "state": rnd.choice(states),
                         "deadline": rnd.choice(DAYS)})
            if rnd.random() < 0.4:
                items[n] = [{"deadline": rnd.choice(DAYS), "done_date": rnd.choice((None, None, T))}
                            for _ in range(rnd.randint(0, 4))]
    rnd.shuffle(rows)
    return ids, rows, items


def _columns(rows: list[dict], items: dict[int, list[dict]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = pd.DataFrame(rows, columns=["id", "compound_id", "facility", "state", "deadline"], dtype=object)
    flat = [{"handover_id": hid, **i} for hid, lst in items.items() for i in lst]
    return frame, pd.DataFrame(flat, columns=["handover_id", "deadline", "done_date"], dtype=object)


@pytest.mark.parametrize("seed", range(12))
def test_set_wise_attributes_equal_the_per_record_ones(seed: int) -> None:
    ids, rows, items = _random_case(seed)
    settings = SETTINGS[seed % 2]
    for today in (T, T + dt.timedelta(days=2)):
        expected = attributes_frame(ids, rows, items, today, settings)
        pd.testing.assert_frame_equal(attributes_columns(ids, *_columns(rows, items), today, settings), expected)


def test_set_wise_attributes_of_the_hand_made_case() -> None:
    """The case of test_handover_rules (ties broken in facility order, overdue by item and by row deadline)."""
    from tests.plugins.test_handover_rules import ITEMS, ROWS

    ids = ["A", "B", "C", "D"]
    expected = attributes_frame(ids, ROWS, ITEMS, T, HandoverSettings())
    got = attributes_columns(ids, *_columns(ROWS, ITEMS), T, HandoverSettings())
    pd.testing.assert_frame_equal(got, expected)
    assert got.loc["B", "handover_worst_state"] == "not_handed_over"  # ties with not_accepted: facility order


def test_no_compounds_and_no_rows() -> None:
    empty = _columns([], {})
    pd.testing.assert_frame_equal(attributes_columns([], *empty, T, HandoverSettings()),
                                  attributes_frame([], [], {}, T, HandoverSettings()))
    pd.testing.assert_frame_equal(attributes_columns(["X"], *empty, T, HandoverSettings()),
                                  attributes_frame(["X"], [], {}, T, HandoverSettings()))


@pytest.mark.parametrize("settings", SETTINGS)
def test_row_status_columns_equal_row_status(settings: HandoverSettings) -> None:
    """Every state × row deadline × a table of item sets, against `row_status` field by field."""
    item_sets = [[], [{"deadline": None, "done_date": None}], [{"deadline": T - dt.timedelta(days=1), "done_date": T}],
                 [{"deadline": T - dt.timedelta(days=1), "done_date": None}, {"deadline": T, "done_date": None}],
                 [{"deadline": T + dt.timedelta(days=5), "done_date": None}, {"deadline": None, "done_date": None}]]
    cases = [(f, s, d, k) for f in rules.FACILITIES for s in (*rules.states(f), "bogus") for d in DAYS
             for k in range(len(item_sets))]
    flat = [(n, i) for n, (*_, k) in enumerate(cases) for i in item_sets[k]]
    counts = rules.item_columns([n for n, _ in flat], [i["deadline"] for _, i in flat],
                                [i["done_date"] for _, i in flat], T)
    got = rules.row_status_columns([c[1] for c in cases], [c[2] for c in cases], counts.reindex(range(len(cases))),
                                   T, settings)
    for n, (f, state, deadline, k) in enumerate(cases):
        want = rules.row_status(f, state, deadline, item_sets[k], T, settings)
        row = got.iloc[n]
        eff = None if pd.isna(row["deadline"]) else row["deadline"].date()
        assert (row["state"], bool(row["overdue"]), int(row["open_items"]), int(row["overdue_items"]), eff,
                row["color_class"]) == (want.state, want.overdue, want.open_items, want.overdue_items, want.deadline,
                                        want.color_class), (f, state, deadline, k)


def test_stored_columns_equal_the_stored_records(demo_ctx) -> None:  # noqa: ANN001
    """On both databases: the columns read set-wise give the frame the records give, for the demo and for a few."""
    ids = [str(i) for i in demo_ctx.compounds_frame().index]
    with demo_ctx.session(readonly=True) as s:
        _, rows, items = load_rows(s)
        columns = load_status_columns(s)
        few = ids[::97]
        _, few_rows, few_items = load_rows(s, compound_ids=few)
        few_columns = load_status_columns(s, compound_ids=few)
    assert len(columns[0]) == len(rows) > 1000 and len(columns[1]) == sum(map(len, items.values())) > 0
    for today in (demo_ctx.today, demo_ctx.today + dt.timedelta(days=400)):
        pd.testing.assert_frame_equal(attributes_columns(ids, *columns, today, HandoverSettings()),
                                      attributes_frame(ids, rows, items, today, HandoverSettings()))
    pd.testing.assert_frame_equal(attributes_columns(few, *few_columns, T, HandoverSettings()),
                                  attributes_frame(few, few_rows, few_items, T, HandoverSettings()))
