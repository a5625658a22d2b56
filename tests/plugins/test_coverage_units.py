"""Issue 22 points 1–3: KPI units (compounds + lone buildings), served verified / unverified, and the path to
target at each milestone — pure rules table-driven, the service and the CLI on both databases."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from geoplatform import models as m
from geoplatform.exchange import ProjectionChange
from geoplatform.models.firms import ServiceContract
from geoplatform.principal import Principal
from geoplatform.store import insert_records
from plugins.coverage.projection import figures, initial_state, project, state_at
from plugins.coverage.rules import unit_kpis, units_frame
from plugins.coverage.settings import CoverageSettings
from tests.plugins.test_bundling_layouts import S1, S2, VOTE, Layout, rect

SETTINGS = CoverageSettings()
TODAY = dt.date(2026, 3, 1)
MILESTONES = [dt.date(2025, 12, 31), dt.date(2026, 12, 31), dt.date(2027, 12, 31)]


# ---------------------------------------------------------------------------------------------- pure rules

def _units(modes: list[str], lone: int, verified: list[bool | None] | None = None) -> pd.DataFrame:
    compounds = pd.DataFrame({"id": [f"c{i}" for i in range(len(modes))], "street_code": "S",
                              "management_mode": modes, "households": 100})
    if verified is not None:
        compounds["verified"] = verified
    buildings = pd.DataFrame({"id": [f"b{i}" for i in range(lone)], "street_code": "S", "households": 10})
    return units_frame(compounds, buildings)


@pytest.mark.parametrize(("modes", "lone", "expected"), [
    # served / known units, lower bound over all units, managed over known, distance in units
    (["professional", "state_owned", "none", "self_managed"], 0,
     {"units": 4, "unknown": 0, "served_units": 2, "coverage_rate_units": 0.5, "coverage_rate_units_lower": 0.5,
      "managed_rate": 0.75, "needed_units": 2, "lone_buildings": 0}),
    (["professional", "state_owned", "none", "self_managed"], 2,  # two lone buildings: unserved, known
     {"units": 6, "unknown": 0, "served_units": 2, "coverage_rate_units": 2 / 6, "coverage_rate_units_lower": 2 / 6,
      "managed_rate": 3 / 6, "needed_units": 3, "lone_buildings": 2}),
    (["professional", "unknown", "community_managed"], 1,  # 待核实 apart: not in the rate, in the lower bound
     {"units": 4, "unknown": 1, "served_units": 1, "coverage_rate_units": 1 / 3, "coverage_rate_units_lower": 0.25,
      "managed_rate": 2 / 3, "needed_units": 2, "lone_buildings": 1}),
    ([], 0, {"units": 0, "unknown": 0, "served_units": 0, "coverage_rate_units": None,
             "coverage_rate_units_lower": None, "managed_rate": None, "needed_units": 0, "lone_buildings": 0}),
])
def test_unit_kpis(modes: list[str], lone: int, expected: dict) -> None:
    got = unit_kpis(_units(modes, lone), SETTINGS)
    assert {k: got[k] for k in expected} == expected


@pytest.mark.parametrize(("modes", "verified", "evidence", "split"), [
    (["professional", "state_owned", "professional", "none"], [True, False, False, True], True, (1, 2)),
    (["professional", "none"], [False, True], True, (0, 1)),  # a contract on an unserved compound verifies nothing
    (["professional", "state_owned"], [False, False], False, (None, None)),  # no plugin keeps contracts
])
def test_served_verified_and_unverified(modes: list[str], verified: list[bool], evidence: bool, split: tuple) -> None:
    got = unit_kpis(_units(modes, 1, verified), SETTINGS, evidence=evidence)
    assert (got["served_verified"], got["served_unverified"]) == split
    assert got["served_units"] == sum(m in SETTINGS.served_modes for m in modes)  # neither is dropped


def C(unit: str, effect: str, on: dt.date | None = None, host: str | None = None, street: str = "S",
      pending: bool = False) -> ProjectionChange:
    return ProjectionChange(unit=unit, street_code=street, effect=effect, source="t", label=unit, on=on, host=host,
                            kind=effect, pending=pending)


BASE = [("compound:a", "S", True, True), ("compound:b", "S", True, True), ("compound:c", "S", False, True),
        ("compound:d", "S", False, False), ("building:x", "S", False, True), ("building:y", "S", False, True)]


@pytest.mark.parametrize(("changes", "served", "units", "gaps"), [
    ([], [2, 2, 2], [6, 6, 6], [2, 2, 2]),  # known 5 → ceil(4) − 2
    ([C("building:x", "merged", host="compound:a")], [2, 2, 2], [5, 5, 5], [2, 2, 2]),  # ceil(3.2) − 2
    ([C("building:x", "merged", host="compound:a"), C("building:y", "merged", host="compound:a")],
     [2, 2, 2], [4, 4, 4], [1, 1, 1]),
    ([C("compound:c", "+served")], [3, 3, 3], [6, 6, 6], [1, 1, 1]),
    ([C("compound:b", "-served", on=dt.date(2026, 7, 1))], [2, 1, 1], [6, 6, 6], [2, 3, 3]),
    ([C("compound:b", "-served", on=dt.date(2026, 7, 1)), C("compound:b", "+served", on=dt.date(2027, 3, 1))],
     [2, 1, 2], [6, 6, 6], [2, 3, 2]),  # renewed after a break
    ([C("compound:b", "-served", on=dt.date(2028, 1, 1))], [2, 2, 2], [6, 6, 6], [2, 2, 2]),  # after 2027
    ([C("compound:c", "+served"), C("compound:c", "+served")], [3, 3, 3], [6, 6, 6], [1, 1, 1]),  # not twice
    ([C("compound:a", "+served")], [2, 2, 2], [6, 6, 6], [2, 2, 2]),  # already served (an accepted bundle)
    ([C("building:x", "merged", host="bundle:P"), C("building:y", "merged", host="bundle:P")],
     [2, 2, 2], [5, 5, 5], [2, 2, 2]),  # a new bundle of two lone buildings: one unserved unit
    ([C("compound:d", "+served")], [3, 3, 3], [6, 6, 6], [2, 2, 2]),  # an unknown taken over becomes known
    ([C("building:x", "merged", host="compound:a"), C("building:x", "+served")],
     [2, 2, 2], [5, 5, 5], [2, 2, 2]),  # merged away stays away
])
def test_projection_arithmetic(changes: list, served: list[int], units: list[int], gaps: list[int]) -> None:
    doc = project(initial_state(BASE), changes, MILESTONES, ["S"], 0.8)
    ms = doc["streets"][0]["milestones"]
    assert [x["served"] for x in ms] == served and [x["units"] for x in ms] == units
    assert [x["gap"] for x in ms] == gaps == [x["gap"] for x in doc["milestones"]]
    assert [x["date"] for x in ms] == ["2025-12-31", "2026-12-31", "2027-12-31"]


def test_projection_leaves_the_state_untouched() -> None:
    state = initial_state(BASE)
    state_at(state, [C("compound:a", "-served"), C("building:x", "merged", host="compound:a")], None)
    assert figures(state, 0.8) == {"units": 6, "known": 5, "served": 2, "rate": 0.4, "rate_lower": 2 / 6, "gap": 2}


# ---------------------------------------------------------------------------------------------- both databases

def layout() -> Layout:
    """S1: hosts H1 (professional, 测试物业) and H2 (state-owned), orphan compounds C1, C2 (none), lone buildings
    B1, B2 next to H1; S2: host H3 and lone building B3."""
    lay = Layout()
    lay.host("H1", rect(60, -40, 100, 100))
    lay.lone("B1", rect(0, 0, 40, 20))
    lay.lone("B2", rect(0, 40, 40, 20))
    lay.host("H2", rect(400, 0, 100, 100), mode="state_owned", company="测试物业")
    lay.small("C1", rect(520, 0, 40, 40))
    lay.small("C2", rect(700, 0, 40, 40))
    lay.host("H3", rect(2000, 0, 100, 100), street=S2)
    lay.lone("B3", rect(2120, 0, 40, 20), street=S2)
    return lay


@pytest.fixture
def seeded(ctx):  # noqa: ANN001, ANN201
    """The layout; contracts: H1 until 2026-06-30 renewed from 2027-03-01, H3 ended 2025-06-30, H2 none;
    C1 shortlisted for takeover; B1+B2 proposed for bundling into H1 (open)."""
    recs = layout().records()
    with ctx.session() as s:
        for table in ("street", "property_company", "compound", "building"):
            insert_records(s, table, recs[table])
        s.add_all([
            ServiceContract(id="HT-H1a", compound_id="H1", company="测试物业", start=dt.date(2024, 7, 1),
                              end=dt.date(2026, 6, 30)),
            ServiceContract(id="HT-H1b", compound_id="H1", company="测试物业", start=dt.date(2027, 3, 1),
                              end=dt.date(2030, 2, 28)),
            ServiceContract(id="HT-H3", compound_id="H3", company="测试物业", start=dt.date(2022, 7, 1),
                              end=dt.date(2025, 6, 30)),
            m.TakeoverSelection(year=2026, compound_id="C1", state="shortlisted"),
            m.BundleProposal(id="P-B", street_code=S1, orphan_kind="building", orphan_ids=["B1", "B2"],
                             host_compound_id="H1", status="proposed"),
        ])
    ctx.today = TODAY
    return ctx


def _street(doc: dict, code: str) -> dict:
    return next(r for r in doc["streets"] if r.get("code", r.get("street_code")) == code)


def test_kpi_units_and_evidence(seeded) -> None:  # noqa: ANN001
    from plugins.coverage.service import kpi_report

    doc = kpi_report(seeded)
    d, a, b = doc["district"], _street(doc, S1), _street(doc, S2)
    assert (d["compounds"], d["served"], d["coverage_rate"]) == (5, 3, 0.6)  # the per-compound figures stay
    assert (d["units"], d["served_units"], d["coverage_rate_units"], d["needed_units"]) == (8, 3, 3 / 8, 4)
    assert (a["units"], a["lone_buildings"], a["coverage_rate_units"], a["managed_rate"]) == (6, 2, 2 / 6, 2 / 6)
    assert (b["units"], b["served_units"], b["needed_units"]) == (2, 1, 1)
    # evidence on 2026-03-01: H1's contract is in force; H2 never had one, H3's ended — served, unverified
    assert (d["served_verified"], d["served_unverified"]) == (1, 2)
    assert (a["served_verified"], a["served_unverified"], b["served_verified"]) == (1, 1, 0)


def test_accepting_a_bundle_moves_the_rate(seeded) -> None:  # noqa: ANN001
    from plugins.bundling import service as bundling
    from plugins.coverage.service import kpi_report, projection_report

    before = projection_report(seeded)
    with seeded.session() as s:
        bundling.accept(seeded, s, Principal(name="admin1", role="admin"), "P-B", consent_note="业主大会表决通过", **VOTE)
    a = _street(kpi_report(seeded), S1)
    assert (a["units"], a["lone_buildings"], a["served_units"], a["coverage_rate_units"]) == (4, 0, 2, 0.5)
    assert a["compounds"] == 4 and a["coverage_rate"] == 0.5  # the per-compound rate does not move
    after = projection_report(seeded)  # the accepted bundle is in the data now: counted once, not twice
    assert after["milestones"] == before["milestones"]
    assert [c["pending"] for c in _street(after, S1)["changes"] if c["kind"] == "bundle"] == []


def test_projection_per_milestone(seeded, db_url, cli_run) -> None:  # noqa: ANN001
    r = cli_run(db_url, "kpi", "projection", "--today", "2026-03-01", "--json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    a, b = _street(doc, S1), _street(doc, S2)
    # S1: B1, B2 join H1 (open proposal), C1 taken over (shortlisted); H1 out of contract 2026-07-01 … 2027-02-28
    assert [(x["units"], x["served"], x["gap"]) for x in a["milestones"]] == [(4, 3, 1), (4, 2, 2), (4, 3, 1)]
    # S2: H3's contract ended 2025-06-30 with no renewal
    assert [(x["units"], x["served"], x["gap"]) for x in b["milestones"]] == [(2, 0, 2), (2, 0, 2), (2, 0, 2)]
    assert [(x["date"], x["units"], x["served"], x["gap"]) for x in doc["milestones"]] == [
        ("2025-12-31", 6, 3, 2), ("2026-12-31", 6, 2, 3), ("2027-12-31", 6, 3, 2)]
    assert a["now"]["units"] == 6 and a["now"]["served"] == 2
    assert a["sources"] == {"bundle": {"served": 0, "units": -2, "count": 2}, "takeover": {"served": 1, "units": 0,
                                                                                          "count": 1},
                            "contract_end": {"served": -1, "units": 0, "count": 1},
                            "renewal": {"served": 1, "units": 0, "count": 1}}
    assert {c["unit"] for c in a["changes"]} == {"building:B1", "building:B2", "compound:C1", "compound:H1"}
    one = json.loads(cli_run(db_url, "kpi", "projection", "--street", S2, "--json").stdout)
    assert [s["street_code"] for s in one["streets"]] == [S2] and one["milestones"] == doc["milestones"]
    bad = cli_run(db_url, "kpi", "projection", "--street", "不存在街道", "--json")
    assert bad.exit_code == 2 and bad.stdout == "" and "不存在街道" in bad.stderr
    from plugins.coverage.service import kpi_report

    kpi = _street(kpi_report(seeded), S1)  # "now" is today's unit rate
    assert (a["now"]["rate"], a["now"]["gap"]) == (kpi["coverage_rate_units"], kpi["needed_units"])


def test_kpi_json_has_the_unit_fields(seeded, db_url, cli_run) -> None:  # noqa: ANN001
    from plugins.coverage.rules import UNIT_FIELDS

    r = cli_run(db_url, "kpi", "--json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(UNIT_FIELDS) <= set(doc["district"]) and all(set(UNIT_FIELDS) <= set(s) for s in doc["streets"])


def test_kpi_plan_cli(seeded, db_url, cli_run) -> None:  # noqa: ANN001
    with seeded.session() as s:
        s.get(m.Compound, "C2").takeover_cost = 8.0
    r = cli_run(db_url, "kpi", "plan", "--today", "2026-03-01", "--json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    a = _street(doc, S1)
    # S1 at 2027 without the open bundle: 6 units, 3 served; with it (free) and C2 (8 万元): 4 served of 4
    assert sorted(x["id"] for x in a["actions"]) == ["bundle:P-B", "takeover:C2"] and a["closed"]
    assert a["cost"] == 8.0
    b = _street(doc, S2)  # H3 renewed (free) → 1 of 2 served; B3 has no proposal: cannot reach 80 %
    assert not b["feasible"] and b["missing"]["served_short"] == 1
    bad = cli_run(db_url, "kpi", "plan", "--budget", "-1", "--json")
    assert bad.exit_code == 2 and bad.stdout == "" and len(bad.stderr.strip().splitlines()) == 1


def test_coverage_texts_in_both_languages_with_the_same_params(ctx) -> None:  # noqa: ANN001
    from string import Formatter

    from geoplatform.i18n import catalogue

    ctx.load_messages()
    zh, en = catalogue("zh"), catalogue("en")
    keys = [k for k in zh if k.startswith(("coverage.path.", "coverage.plan.", "coverage.projection.",
                                           "coverage.panel.kpi.", "coverage.section.", "coverage.col."))]
    assert len(keys) > 50

    def fields(s: str) -> set:
        return {f for _, f, _, _ in Formatter().parse(s) if f is not None}

    for key in keys:
        assert en.get(key) and en[key] != zh[key] and fields(en[key]) == fields(zh[key]), key
