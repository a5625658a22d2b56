"""`geoplatform import <governance kinds>` and `geoplatform governance check --json` on both databases.

The check's JSON is the contract of DESIGN.md (docs/governance.md): pinned here key by key.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from geoplatform.models.governance import Dissuasion, Mediation, Pilot, PilotCase, PilotMeeting, Problem
from plugins.governance import rules
from tests.plugins import governance_fixtures as gf

PROBLEMS = """编号,小区,问题类别,来源,物业公司,发现日期,整改期限,状态,状态日期,备注
P1,G1,消防通道,巡查,甲物业,2025-11-01,2025-11-20,拒不整改,2025-11-25,堆放杂物
P2,G2,飞线充电,12345,,2025-12-01,2025-12-15,整改中,2025-12-02,
P3,G3,高空抛物,举报,乙物业,2025-12-20,2026-01-31,待整改,,
P4,G4,lift,patrol,丙物业,2025-10-01,2025-10-10,rectified,2025-10-09,
"""
DISSUASIONS = """问题编号,劝阻无效时间,报告街镇时间,报告主管部门时间,报告业主组织时间
P1,2025-11-21 09:00,2025-11-21 10:00,2025-11-22 08:59,2025-11-22 09:00
P2,2025-12-02 14:00,2025-12-03 14:01,2025-12-02 15:00,
P3,2025-12-21 08:00,2025-12-21 09:00,2025-12-21 10:00,
"""
MEDIATIONS = """编号,小区,调解阶段,受理日期,结案日期,调解结果,上一阶段编号,纠纷事由
M1,G1,社区调解,2025-11-01,2025-11-28,调解未成功,,车位纠纷
M1A,G1,行政调解,2025-11-28,,,M1,车位纠纷
M2,G3,community,2025-12-06,,,,漏水
M3,G4,community,2025-12-01,,,,噪声
"""
PILOTS = """年度,街镇代码,社区代码
2025,150203001,150203001001
"""
MEETINGS = """社区代码,会议日期,会议类型
150203001001,2025-02-10,三方联席会议
150203001001,2025-05-10,三方联席会议
150203001001,2025-08-10,扩大联席会议
150203001001,2025-11-10,三方联席会议
"""
CASES = """社区代码,年度,案例名称,发布日期
150203001001,2025,三方联动化解停车难,2025-06-01
150203001001,2025,待发布案例,
"""
EXPECTED = [
    {"code": "report_late", "problem_id": "P2", "late": ["street"], "community_code": gf.C11, "street_code": gf.S1},
    {"code": "report_late", "problem_id": "P3", "late": ["owners_org"], "community_code": gf.C12, "street_code": gf.S1},
    {"code": "rectification_refused", "problem_id": "P1", "company": "甲物业", "community_code": gf.C11,
     "street_code": gf.S1},
    {"code": "rectification_overdue", "problem_id": "P2", "community_code": gf.C11, "street_code": gf.S1},
    {"code": "mediation_overdue", "mediation_id": "M1A", "community_code": gf.C11, "street_code": gf.S1},
    {"code": "mediation_overdue", "mediation_id": "M3", "community_code": gf.C21, "street_code": gf.S2},
    {"code": "pilot_missing", "street_code": gf.S2, "period": "2025"},
    {"code": "pilot_quarter_missing", "period": "2025Q3", "community_code": gf.C11, "street_code": gf.S1},
    {"code": "pilot_cases_short", "period": "2025", "community_code": gf.C11, "street_code": gf.S1},
]


@pytest.fixture
def gdb(ctx, db_url):  # noqa: ANN001, ANN201
    gf.load(ctx)
    return db_url


def _imp(cli_run, db: str, tmp_path, kind: str, text: str, *extra: str):  # noqa: ANN001, ANN202
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    res = cli_run(db, "import", kind, str(path), "--json", *extra)
    return res, json.loads(res.stdout) if res.stdout.strip() else None


def _load_all(cli_run, db: str, tmp_path) -> None:  # noqa: ANN001
    for kind, text in (("problems", PROBLEMS), ("dissuasions", DISSUASIONS), ("mediations", MEDIATIONS),
                       ("pilots", PILOTS), ("meetings", MEETINGS), ("cases", CASES)):
        res, doc = _imp(cli_run, db, tmp_path, kind, text)
        assert res.exit_code == 0, res.stderr + res.stdout
        assert doc["imported"] == text.count("\n") - 1


def test_the_six_kinds_import_from_chinese_sheets_and_the_check_is_pinned(gdb, cli_run, tmp_path) -> None:  # noqa: ANN001
    _load_all(cli_run, gdb, tmp_path)
    res = cli_run(gdb, "governance", "check", "--today", "2026-01-05", "--json")
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert list(data) == ["today", "findings"] and data["today"] == "2026-01-05"
    assert data["findings"] == EXPECTED
    for f in data["findings"]:  # the documented keys and codes only (docs/governance.md)
        assert set(f) <= set(rules.FINDING_KEYS) and f["code"] in rules.CODES
        assert all(v not in (None, "", []) for v in f.values())
    # docs/governance.md shows this command's output on this fixture: every finding of the example is real
    doc = (Path(__file__).resolve().parents[2] / "docs" / "governance.md").read_text(encoding="utf-8")
    example = json.loads(re.search(r"```json\n(.*?)```", doc, re.S).group(1))
    assert example["today"] == data["today"] and all(f in data["findings"] for f in example["findings"])
    assert all(f"`{code}`" in doc for code in rules.CODES) and all(f"`{key}`" in doc for key in rules.FINDING_KEYS)
    street = json.loads(cli_run(gdb, "governance", "check", "--today", "2026-01-05", "--street", "乙街道",
                                "--json").stdout)
    assert street["findings"] == [f for f in EXPECTED if f.get("street_code") == gf.S2]


def test_check_human_output_and_bad_street(gdb, cli_run, tmp_path) -> None:  # noqa: ANN001
    _load_all(cli_run, gdb, tmp_path)
    res = cli_run(gdb, "governance", "check", "--today", "2026-01-05")
    assert res.exit_code == 0 and "rectification_refused" in res.stdout and "拒不整改" in res.stdout
    assert "9 条问题" in res.stderr
    bad = cli_run(gdb, "governance", "check", "--street", "NO_SUCH_STREET", "--json")
    assert bad.exit_code == 2 and bad.stdout == "" and "NO_SUCH_STREET" in bad.stderr


def _count(ctx, model) -> int:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(("kind", "text", "row", "column", "key"), [
    ("pilots", "年度,街镇代码,社区代码\n2025,150203001,150203001001\n2025,150203001,150203001002\n",
     3, "社区代码", "governance.import.second_pilot"),  # two pilots in one street and year
    ("pilots", "年度,街镇代码,社区代码\n2025,150203002,150203001002\n", 2, "街镇代码",
     "governance.import.community_not_in_street"),
    ("pilots", "年度,街镇代码,社区代码\n2025,150203001,150203009009\n", 2, "社区代码", "governance.import.unknown_community"),
    ("dissuasions", "问题编号,劝阻无效时间,报告街镇时间\nP1,2025-11-21 09:00,2025-11-21 08:00\n", 2, "报告街镇时间",
     "governance.import.report_before_failure"),
    ("dissuasions", "问题编号,劝阻无效时间\nNOPE,2025-11-21 09:00\n", 2, "问题编号", "governance.import.unknown_problem"),
    ("dissuasions", "问题编号,劝阻无效时间\nP1,2025-11-21\n", 2, "劝阻无效时间", "import.value.not_datetime"),
    ("mediations", "编号,小区,调解阶段,受理日期,上一阶段编号\nX1,G1,judicial,2025-11-01,M2\n", 2, "上一阶段编号",
     "governance.import.not_next_stage"),
    ("mediations", "编号,小区,调解阶段,受理日期,结案日期\nX2,G1,community,2025-11-01,2025-11-05\n", 2, "结案日期",
     "governance.import.outcome_missing"),
    ("mediations", "编号,小区,调解阶段,受理日期,结案日期,调解结果\nX2,G1,community,2025-11-01,2025-11-05,\n", 2, "调解结果",
     "governance.import.outcome_missing"),
    ("problems", "编号,小区,问题类别,来源,发现日期,整改期限\nX3,G1,fire_lane,patrol,2025-11-01,2025-10-01\n", 2,
     "整改期限", "governance.import.before"),
    ("problems", "编号,小区,问题类别,来源,发现日期\nX4,G1,spaceships,patrol,2025-11-01\n", 2, "问题类别",
     "import.value.not_in_enum"),
])
def test_a_file_breaking_a_rule_is_refused_naming_row_and_field(gdb, ctx, cli_run, tmp_path, kind, text, row, column,
                                                                 key) -> None:  # noqa: ANN001
    _imp(cli_run, gdb, tmp_path, "problems", PROBLEMS)
    _imp(cli_run, gdb, tmp_path, "mediations", MEDIATIONS)
    before = [_count(ctx, x) for x in (Problem, Dissuasion, Mediation, Pilot)]
    res, doc = _imp(cli_run, gdb, tmp_path, kind, text)
    assert res.exit_code != 0 and doc["imported"] == 0
    assert [e["key"] for e in doc["errors"]] == [key], doc["errors"]
    where = doc["errors"][0]["where"]
    assert f"row {row}" in where and column in where
    assert [_count(ctx, x) for x in (Problem, Dissuasion, Mediation, Pilot)] == before  # nothing written


def test_a_second_pilot_is_refused_against_the_stored_one_too(gdb, ctx, cli_run, tmp_path) -> None:  # noqa: ANN001
    _imp(cli_run, gdb, tmp_path, "pilots", PILOTS)
    res, doc = _imp(cli_run, gdb, tmp_path, "pilots", "year,street_code,community_code\n2025,150203001,150203001002\n")
    assert res.exit_code != 0 and doc["errors"][0]["key"] == "governance.import.second_pilot"
    assert doc["errors"][0]["params"]["community"] == gf.C11
    res, doc = _imp(cli_run, gdb, tmp_path, "pilots", PILOTS, "--upsert")  # the same pilot again: fine
    assert res.exit_code == 0 and _count(ctx, Pilot) == 1


def test_a_problem_only_moves_forward(gdb, ctx, cli_run, tmp_path) -> None:  # noqa: ANN001
    _imp(cli_run, gdb, tmp_path, "problems", PROBLEMS)
    back = PROBLEMS.replace("P1,G1,消防通道,巡查,甲物业,2025-11-01,2025-11-20,拒不整改", "P1,G1,消防通道,巡查,甲物业,2025-11-01,2025-11-20,待整改")
    res, doc = _imp(cli_run, gdb, tmp_path, "problems", back, "--upsert")
    assert res.exit_code != 0 and [e["key"] for e in doc["errors"]] == ["governance.import.backwards"]
    assert "row 2" in doc["errors"][0]["where"] and "状态" in doc["errors"][0]["where"]
    ahead = PROBLEMS.replace("P3,G3,高空抛物,举报,乙物业,2025-12-20,2026-01-31,待整改,,",
                             "P3,G3,高空抛物,举报,乙物业,2025-12-20,2026-01-31,已整改,2026-01-02,")
    res, doc = _imp(cli_run, gdb, tmp_path, "problems", ahead, "--upsert")  # open → rectified: forward, allowed
    assert res.exit_code == 0 and doc["updated"] == 4
    with ctx.session(readonly=True) as s:
        assert s.get(Problem, "P3").state == "rectified"


def test_meetings_and_cases_refuse_unknown_communities(gdb, ctx, cli_run, tmp_path) -> None:  # noqa: ANN001
    res, doc = _imp(cli_run, gdb, tmp_path, "meetings", "community_code,held_on,kind\n150203009009,2025-02-10,tripartite\n")
    assert res.exit_code != 0 and doc["errors"][0]["key"] == "governance.import.unknown_community"
    res, doc = _imp(cli_run, gdb, tmp_path, "cases", CASES)
    assert res.exit_code == 0 and _count(ctx, PilotCase) == 2 and _count(ctx, PilotMeeting) == 0


def test_users_add_a_community_officer(gdb, ctx, cli_run) -> None:  # noqa: ANN001
    from geoplatform import auth as accounts

    r = cli_run(gdb, "users", "add", "wang.li", "--role", "community_officer", "--community", "甲二社区",
                "--password-stdin", "--json", input="correct-horse-battery\n")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout) == {"name": "wang.li", "role": "community_officer", "street_code": gf.S1,
                                    "utility": None, "community_code": gf.C12}
    for args in (("--role", "community_officer"), ("--role", "community_officer", "--community", "无此社区"),
                 ("--role", "viewer", "--community", gf.C11)):
        bad = cli_run(gdb, "users", "add", "zhao", *args, "--password-stdin", input="correct-horse-battery\n")
        assert bad.exit_code == 2, args
    with ctx.session() as s:  # the demo detaches officers from what it replaces, then relinks them
        detached = accounts.detach_street_users(s)
        assert accounts.get_user(s, "wang.li").community_code is None
        accounts.create_demo_users(s, "correct-horse-battery", detached)
        user = accounts.get_user(s, "wang.li")
        assert (user.street_code, user.community_code) == (gf.S1, gf.C12)
