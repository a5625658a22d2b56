"""The set-wise charging evaluation (issue 26 items 4–5) gives exactly what the per-record rules give."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import numpy as np
import pandas as pd
import pytest

from geoplatform.models import (
    FIRE_FACILITY_FIELDS,
    FIRE_FACILITY_STATES,
    GARAGE_TYPES,
    MANAGEMENT_MODES,
    SPACE_RIGHTS,
)
from plugins.charging.rules import certainly_valid, validate_garage
from plugins.charging.settings import ChargingSettings
from plugins.charging.stored import (
    compound_summary,
    compound_summary_columns,
    evaluate_columns,
    evaluate_records,
    load_garage_columns,
    load_garages,
)

SETTINGS = (
    ChargingSettings(),
    ChargingSettings.from_overrides({"gb50067_sprinkler_factor": 1, "exception_garage_types": ["underground",
                                     "semi_underground"], "lowest_floor_limit": -2, "standard_date": "2016-01-01"}),
    ChargingSettings.from_overrides({"compartment_threshold_m2": 2500, "fire_unit_max_m2": 500,
                                     "gb50067_limits_m2": {"high_rise": 1500.5}}),
)
COLUMNS = ("id", "garage_type", "lowest_charging_floor", "completion_date", *FIRE_FACILITY_FIELDS,
           "fire_compartment_area_m2", "space_right", "fire_unit_area_m2", "meets_other_clauses", "capacity_ok",
           "name", "compound_id", "compound_name", "street_code", "management_mode")


def _garage(rnd: random.Random, n: int, odd: bool) -> dict[str, Any]:
    """A stored garage record as `load_garages` gives it; `odd`: now and then a value that does not validate
    (or a type the set-wise check is not sure of: a date as text, a float floor, an int id)."""
    rec = {
        "id": f"G{n:04d}", "garage_type": rnd.choice(GARAGE_TYPES), "lowest_charging_floor": rnd.randint(-6, 3),
        "completion_date": dt.date(2010, 1, 1) + dt.timedelta(days=rnd.randint(0, 4000)),
        **{f: rnd.choice((*FIRE_FACILITY_STATES, "working", "working", "working")) for f in FIRE_FACILITY_FIELDS},
        "fire_compartment_area_m2": rnd.choice((800.0, 1000.0, 1000.5, 2000.0, 2500.0, 3000.0, 4000.0, 5000.25,
                                                rnd.uniform(0, 6000))),
        "space_right": rnd.choice((*SPACE_RIGHTS, "owned", "owned")),
        "fire_unit_area_m2": rnd.choice((None, 400.0, 500.0, 999.5, 1000.0, 1200.0)),
        "meets_other_clauses": rnd.choice((None, True, False)), "capacity_ok": rnd.choice((None, True, False)),
        "name": rnd.choice((None, "", f"车库{n}", "<b>B</b>")), "compound_id": f"C{rnd.randint(0, 30):02d}",
        "compound_name": None, "street_code": None, "management_mode": rnd.choice(MANAGEMENT_MODES),
    }
    if rnd.random() < 0.5:  # a whole-garage-is-fine path: everything working, own space
        rec.update({f: "working" for f in FIRE_FACILITY_FIELDS}, space_right="owned")
    if odd and rnd.random() < 0.3:
        field, value = rnd.choice([("completion_date", None), ("completion_date", "2015-06-01"),
                                   ("garage_type", "cave"), ("lowest_charging_floor", -2.0),
                                   ("lowest_charging_floor", True), ("fire_compartment_area_m2", -1.0),
                                   ("fire_compartment_area_m2", 3000), ("fire_unit_area_m2", float("nan")),
                                   ("meets_other_clauses", 1), ("sprinklers", None), ("id", 7), ("id", "")])
        rec[field] = value
    return rec


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame({c: np.array([r[c] for r in records] if records else [], dtype=object) for c in COLUMNS},
                        dtype=object)


@pytest.mark.parametrize("seed", range(8))
def test_set_wise_evaluation_equals_the_per_record_one(seed: int) -> None:
    rnd = random.Random(seed)
    records = [_garage(rnd, n, odd=seed % 2 == 1) for n in range(rnd.randint(0, 300))]
    settings = SETTINGS[seed % len(SETTINGS)]
    frame = _frame(records)
    got = evaluate_columns(frame, settings)
    want = evaluate_records(records, settings)
    assert got["decision"].tolist() == [r["decision"] for r in want]
    assert got["rule"].tolist() == [r["rule"] for r in want]
    assert got["reasons_zh"].tolist() == [None if r["decision"] is None else "".join(x["zh"] for x in r["reasons"])
                                          for r in want]
    assert got["reasons_en"].tolist() == [None if r["decision"] is None else " ".join(x["en"] for x in r["reasons"])
                                          for r in want]
    ids = pd.Index([f"C{i:02d}" for i in range(0, 34, 1 + seed % 3)])  # some compounds without garages, some absent
    pd.testing.assert_frame_equal(compound_summary_columns(got, ids), compound_summary(want, ids))
    if seed == 0:
        assert {r["rule"] for r in want} >= {f"R{i}" for i in range(1, 11)}  # every rule is reached


def test_certainly_valid_rows_validate() -> None:
    rnd = random.Random(99)
    records = [_garage(rnd, n, odd=True) for n in range(400)]
    ok = certainly_valid(_frame(records))
    assert ok.any() and not ok.all()
    assert all(not validate_garage(r) for r, sure in zip(records, ok, strict=True) if sure)


def test_no_garages_and_no_compounds() -> None:
    empty = evaluate_columns(_frame([]), ChargingSettings())
    for ids in (pd.Index([]), pd.Index(["A", "B"])):
        pd.testing.assert_frame_equal(compound_summary_columns(empty, ids), compound_summary([], ids))


def test_stored_columns_give_the_stored_records_summary(demo_ctx) -> None:  # noqa: ANN001
    """On both databases: the demo's garages read set-wise and evaluated over columns give the same summary."""
    index = demo_ctx.compounds_frame().index
    with demo_ctx.session(readonly=True) as s:
        records = load_garages(s)
        frame = load_garage_columns(s, index)
    assert len(frame) == sum(r["compound_id"] in set(index) for r in records) > 100
    want = compound_summary(evaluate_records((r for r in records if r["compound_id"] in set(index)),
                                             ChargingSettings()), index)
    pd.testing.assert_frame_equal(compound_summary_columns(evaluate_columns(frame, ChargingSettings()), index), want)
