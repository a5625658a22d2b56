"""`geoplatform firms check | rank | publish | blacklist | grade`: DESIGN's JSON contract, pinned, and errors."""

from __future__ import annotations

import json

import pytest

from plugins.firms import rules
from tests.plugins.firms_fixtures import (
    S1,
    S2,
    A,
    B,
    C,
    X,
    firms_demo,  # noqa: F401  (the fixture)
    seed,
)

CHECK_KEYS = {"today", "findings"}
FINDING_KEYS = {"code", "compound_id", "company", "contract_id", "period", "filing"}
RANK_KEYS = {"quarter", "streets", "scores", "good", "bad"}


@pytest.fixture
def world(ctx):  # noqa: ANN001, ANN201
    seed(ctx)
    return ctx


def test_check_json_contract(world, cli_run) -> None:  # noqa: ANN001
    url = world.config.database_url
    res = cli_run(url, "firms", "check", "--today", "2025-08-15", "--json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)  # one JSON document, nothing else on stdout
    assert set(doc) == CHECK_KEYS and doc["today"] == "2025-08-15"
    assert doc["findings"] and all("code" in f and set(f) <= FINDING_KEYS for f in doc["findings"])
    assert {"code": "filing_missing", "compound_id": "c1", "company": A, "contract_id": "k1", "filing": "area"} \
        in doc["findings"]
    assert {"code": "contract_expiring_30", "compound_id": "c1", "company": A, "contract_id": "k1"} in doc["findings"]
    # the clock: 60 days later c1's contract has ended and a half-year has closed
    later = json.loads(cli_run(url, "firms", "check", "--today", "2025-10-14", "--json").stdout)
    assert {"code": "contract_expired", "compound_id": "c1", "company": A, "contract_id": "k1"} in later["findings"]
    human = cli_run(url, "firms", "check", "--today", "2025-08-15")
    assert human.exit_code == 0 and "合同30天内到期" in human.stdout and "90" in human.stdout


def test_rank_json_contract_and_bad_quarter(world, cli_run) -> None:  # noqa: ANN001
    url = world.config.database_url
    with world.session() as s:
        from geoplatform.models.firms import FirmAssessment

        s.add_all([FirmAssessment(street_code=S1, quarter="2025Q2", company=A, score=90),
                   FirmAssessment(street_code=S1, quarter="2025Q2", company=B, score=40),
                   FirmAssessment(street_code=S1, quarter="2025Q2", company=C, score=70),
                   FirmAssessment(street_code=S2, quarter="2025Q2", company=X, score=65)])
    res = cli_run(url, "firms", "rank", "--quarter", "2025Q2", "--json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert set(doc) == RANK_KEYS
    assert doc == {"quarter": "2025Q2", "streets": [{"street_code": S1, "first": [A], "last": [B]},
                                                    {"street_code": S2, "first": [X], "last": []}],
                   "scores": {A: 90.0, B: 40.0, C: 70.0, X: 65.0}, "good": [A, X], "bad": [B]}
    assert all(set(st) == {"street_code", "first", "last"} for st in doc["streets"])
    bad = cli_run(url, "firms", "rank", "--quarter", "2025-2", "--json")
    assert bad.exit_code == 2 and bad.stdout == "" and len(bad.stderr.strip().splitlines()) == 1
    assert "2025-2" in bad.stderr
    # publishing as the operator at the terminal; the lists become credit events
    pub = cli_run(url, "firms", "publish", "--quarter", "2025Q2", "--today", "2025-08-15", "--json")
    assert pub.exit_code == 0, pub.stderr
    assert json.loads(pub.stdout)["good"] == [A, X]
    again = cli_run(url, "firms", "publish", "--quarter", "2025Q2", "--today", "2025-08-15")
    assert again.exit_code == 2 and "已发布" in again.stderr


def test_blacklist_and_grade_commands(world, cli_run) -> None:  # noqa: ANN001
    url = world.config.database_url
    res = cli_run(url, "firms", "blacklist", A, "--note", "消防通道", "--today", "2025-08-15", "--json")
    assert res.exit_code == 0, res.stderr
    assert [c["compound_id"] for c in json.loads(res.stdout)["compounds"]] == ["c1"]
    check = json.loads(cli_run(url, "firms", "check", "--today", "2025-08-15", "--json").stdout)
    assert {"code": "firm_blacklisted", "compound_id": "c1", "company": A} in check["findings"]
    assert cli_run(url, "firms", "blacklist", A, "--lift", "--today", "2025-08-16").exit_code == 0
    graded = cli_run(url, "firms", "grade", C, "aa", "--today", "2025-08-15", "--json")
    assert graded.exit_code == 0 and json.loads(graded.stdout)["grade"] == "AA"
    wrong = cli_run(url, "firms", "grade", C, "D")
    assert wrong.exit_code == 2 and "AAA > AA > A > B > C" in wrong.stderr
    unknown = cli_run(url, "firms", "blacklist", "无此企业")
    assert unknown.exit_code == 2 and "无此企业" in unknown.stderr


def test_demo_check_and_rank(firms_demo, cli_run) -> None:  # noqa: ANN001, F811
    demo_url = firms_demo.config.database_url
    doc = json.loads(cli_run(demo_url, "firms", "check", "--json").stdout)
    assert set(doc) == CHECK_KEYS and len(doc["findings"]) > 50
    import datetime as dt

    q = rules.previous_quarter(rules.quarter_of(dt.date.today()))
    rank = json.loads(cli_run(demo_url, "firms", "rank", "--quarter", q, "--json").stdout)
    assert set(rank) == RANK_KEYS and len(rank["good"]) == 3 and len(rank["bad"]) == 3
    assert not set(rank["good"]) & set(rank["bad"])
    assert [rank["scores"][f] for f in rank["good"]] == sorted((rank["scores"][f] for f in rank["good"]), reverse=True)


def test_contract_commands_pass_the_gate(world, cli_run) -> None:  # noqa: ANN001
    url = world.config.database_url
    day = ("--today", "2025-08-15")  # X's blacklisting (2025-03-01) is in force that day
    refused = cli_run(url, "firms", "contract", "c4", "--company", X, "--start", "2025-09-01", "--end", "2028-08-31",
                      *day)
    assert refused.exit_code == 2 and "不符合选聘条件" in refused.stderr and "blacklisted" in refused.stderr
    ok = cli_run(url, "firms", "contract", "c4", "--company", A, "--start", "2025-09-01", "--end", "2028-08-31",
                 *day, "--json")
    assert ok.exit_code == 0, ok.stderr
    assert json.loads(ok.stdout)["contract_id"] == "c4-2025-09-01"
    filed = cli_run(url, "firms", "file", "c4-2025-09-01", "selection", "--on", "2025-08-20", "--json")
    assert filed.exit_code == 0 and json.loads(filed.stdout)["filing"] == "selection"
    doc = json.loads(cli_run(url, "firms", "check", "--today", "2025-08-15", "--json").stdout)
    mine = sorted(f["filing"] for f in doc["findings"] if f.get("contract_id") == "c4-2025-09-01")
    assert mine == ["acceptance", "area", "contract"]
