"""`geoplatform handover …` and `export handover-ledger` end to end, on both databases."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from geoplatform.models import AuditEvent, HandoverEvent, User
from tests.plugins.test_handover_rules import T
from tests.plugins.test_handover_service import build_fixture

TODAY = T.isoformat()


@pytest.fixture
def hdb(ctx, db_url):  # noqa: ANN001, ANN201
    """The URL of a fresh database with the hand-made fixture and three user accounts."""
    with ctx.session() as s:
        build_fixture(s)
        s.add_all([User(name="water1", role="utility", utility="water", password_hash="x"),
                   User(name="zt", role="street_officer", street_code="150203003", password_hash="x"),
                   User(name="view", role="viewer", password_hash="x")])
    return db_url


def _json(result) -> dict:  # noqa: ANN001
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_backlog_json_is_one_document_with_exact_counts(cli_run, hdb) -> None:  # noqa: ANN001
    d = _json(cli_run(hdb, "handover", "backlog", "--today", TODAY, "--json"))
    assert set(d) == {"today", "items", "counts", "settings"}
    assert d["today"] == TODAY and d["settings"] == {"row_deadline_overdue": True, "list_unsurveyed": True}
    assert d["counts"]["total"] == 14 and d["counts"]["overdue"] == 2
    assert d["counts"]["by_state"] == {"acceptance": 1, "agreement": 1, "not_accepted": 1, "not_handed_over": 1,
                                       "rectifying": 1, "renovation": 1, "unknown": 8}
    assert d["counts"]["by_street"] == {"少先路街道": 6, "沼潭街道": 8}
    assert set(d["items"][0]) == {"compound_id", "compound_name", "street", "facility", "state", "since", "deadline",
                                  "overdue", "open_items", "row_deadline", "version", "late"}
    a_power = next(i for i in d["items"] if (i["compound_id"], i["facility"]) == ("A", "power"))
    assert a_power["deadline"] == (T - dt.timedelta(days=1)).isoformat() and a_power["overdue"] is True
    assert a_power["since"] == "2026-01-01T09:00:00" and a_power["open_items"] == 2
    assert a_power["late"] == {"kind": "item", "content": "更换老化管网", "deadline": (T - dt.timedelta(days=1)).isoformat(),
                               "days": 1, "count": 1}  # why it is overdue


def test_backlog_overdue_turns_the_day_after_the_deadline(cli_run, hdb) -> None:  # noqa: ANN001
    def b_water(day: dt.date) -> bool:
        d = _json(cli_run(hdb, "handover", "backlog", "--utility", "water", "--today", day.isoformat(), "--json"))
        return next(i for i in d["items"] if i["compound_id"] == "B")["overdue"]
    assert b_water(T) is False  # deadline T: due today
    assert b_water(T + dt.timedelta(days=1)) is True


def test_backlog_filters_and_chinese_table(cli_run, hdb) -> None:  # noqa: ANN001
    d = _json(cli_run(hdb, "handover", "backlog", "--utility", "供水", "--street", "沼潭街道", "--today", TODAY,
                      "--json"))
    assert [(i["compound_id"], i["state"]) for i in d["items"]] == [("C", "unknown"), ("D", "unknown")]
    r = cli_run(hdb, "handover", "backlog", "--today", TODAY)
    assert r.exit_code == 0
    header = r.stdout.splitlines()[0]
    for word in ("小区", "街道", "设施类型", "状态", "整改期限", "是否逾期"):
        assert word in header
    assert "整改中" in r.stdout and "合计 14 项，逾期 2 项" in r.stdout and "逾期判定（截至 2026-06-15）" in r.stdout


@pytest.mark.parametrize(("args", "match"), [
    (("--utility", "sewage"), "unknown facility/utility 'sewage'"),
    (("--street", "火星街道"), "unknown street"),
    (("--today", "2026-13-01"), "2026-13-01"),
])
def test_backlog_bad_input_exits_2(cli_run, hdb, args, match) -> None:  # noqa: ANN001
    r = cli_run(hdb, "handover", "backlog", *args, "--json")
    assert r.exit_code == 2 and r.stdout == "" and match in r.stderr


def test_set_walks_the_path_and_history_shows_it(cli_run, hdb) -> None:  # noqa: ANN001
    steps = [("not_handed_over", ()), ("owner_consent", ("--note", "业主大会表决通过")), ("提出移交", ()),
             ("acceptance", ()), ("整改中", ("--item", "修复阀门井|产权单位|2026-07-01", "--item", "补齐竣工资料")),
             ("acceptance", ()), ("agreement", ()), ("taken_over", ())]
    labels = {"提出移交": "applied", "整改中": "rectifying"}
    for n, (state, extra) in enumerate(steps, start=1):
        d = _json(cli_run(hdb, "handover", "set", "D", "供水", state, *extra, "--expected-version", str(n - 1),
                          "--json"))
        assert d["state"] == labels.get(state, state) and d["version"] == n
    assert len(d["items"]) == 2
    h = _json(cli_run(hdb, "handover", "history", "D", "water", "--json"))
    assert [e["to"] for e in h["events"]] == [labels.get(s, s) for s, _ in steps]
    assert h["events"][1]["note"] == "业主大会表决通过" and h["events"][0]["from"] == "unknown"
    r = cli_run(hdb, "handover", "history", "D")
    assert r.exit_code == 0 and "已接管" in r.stdout and "操作人" in r.stdout
    show = cli_run(hdb, "handover", "show", "D", "water")
    assert show.exit_code == 0 and "已接管" in show.stdout and "修复阀门井" in show.stdout


def test_applied_label_parses(cli_run, hdb) -> None:  # noqa: ANN001
    # the Chinese label of RULES §2 is 提出移交
    cli_run(hdb, "handover", "set", "D", "water", "not_handed_over")
    cli_run(hdb, "handover", "set", "D", "water", "业主表决同意")
    d = _json(cli_run(hdb, "handover", "set", "D", "water", "提出移交", "--json"))
    assert d["state"] == "applied"


@pytest.mark.parametrize(("args", "match"), [
    (("A", "heating", "taken_over"), "it can move to: handover agreement signed, rectifying"),
    (("D", "water", "taken_over"), "it can move to: not handed over"),
    (("Z", "water", "not_handed_over"), "unknown compound 'Z'"),
    (("A", "heating", "rectifying", "--item", "x|y|2026-02-30"), "is not YYYY-MM-DD"),
    (("A", "water", "taken_over", "--item", "x"), "open state"),
    (("A", "heating", "rectifying"), "at least one open ledger item with a deadline"),
    (("A", "heating", "rectifying", "--item", "x|unit"), "none of the open items has one"),
    (("B", "water", "acceptance"), "organised by the district government"),
    (("B", "water", "owner_consent", "--participants", "x"), "is none"),
    (("A", "heating", "bogus"), "unknown state 'bogus'"),
    (("A", "heating", "agreement", "--expected-version", "5"), "(version 1, you read 5)"),
    (("A", "heating", "agreement", "--user", "nobody"), "unknown or disabled"),
])
def test_set_rejections_exit_2_and_change_nothing(cli_run, hdb, ctx, args, match) -> None:  # noqa: ANN001
    before = _json(cli_run(hdb, "handover", "backlog", "--today", TODAY, "--json"))
    r = cli_run(hdb, "handover", "set", *args, "--json")
    assert r.exit_code == 2 and r.stdout == "" and match in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert _json(cli_run(hdb, "handover", "backlog", "--today", TODAY, "--json")) == before
    with ctx.session(readonly=True) as s:
        assert s.execute(select(func.count()).select_from(HandoverEvent)).scalar_one() == 0


@pytest.mark.parametrize(("user", "args", "ok"), [
    ("water1", ("B", "water", "owner_consent"), True),
    ("water1", ("B", "power", "taken_over"), False),
    ("zt", ("D", "gas", "not_handed_over"), True),
    ("zt", ("A", "heating", "agreement"), False),
    ("view", ("D", "gas", "not_handed_over"), False),
])
def test_jurisdiction_is_enforced_for_user_accounts(cli_run, hdb, ctx, user, args, ok) -> None:  # noqa: ANN001
    r = cli_run(hdb, "handover", "set", *args, "--user", user, "--json")
    with ctx.session(readonly=True) as s:
        denied = s.execute(select(func.count()).select_from(AuditEvent).where(AuditEvent.outcome == "denied")).scalar_one()
        events = s.execute(select(HandoverEvent.user_name)).scalars().all()
    if ok:
        assert r.exit_code == 0, r.stderr
        assert events == [user] and denied == 0
    else:
        assert r.exit_code == 2 and "may not change" in r.stderr
        assert events == [] and denied == 1


@pytest.mark.parametrize(("user", "args", "ok"), [
    ("water1", ("backlog",), True),  # its own facility by default
    ("water1", ("backlog", "--utility", "water"), True),
    ("water1", ("backlog", "--utility", "heating"), False),
    ("water1", ("show", "B", "water"), True),
    ("water1", ("show", "A", "power"), False),
    ("water1", ("history", "B"), True),
    ("water1", ("history", "B", "gas"), False),
    ("zt", ("show", "A", "power"), True),  # other roles read every row (docs/security.md)
    ("view", ("backlog",), False),
    ("view", ("show", "B", "water"), False),
    ("view", ("history", "B"), False),
])
def test_reads_as_a_user_apply_the_read_rule(cli_run, hdb, ctx, user, args, ok) -> None:  # noqa: ANN001
    """`--user` on the read commands applies the rule the API and the workspaces apply (`handover_allowed`)."""
    r = cli_run(hdb, "handover", *args, "--today", TODAY, "--user", user, "--json") if args[0] != "history" else \
        cli_run(hdb, "handover", *args, "--user", user, "--json")
    with ctx.session(readonly=True) as s:
        denied = s.execute(select(func.count()).select_from(AuditEvent).where(AuditEvent.outcome == "denied")).scalar_one()
    if ok:
        assert r.exit_code == 0, r.stderr
        assert denied == 0
        if args == ("backlog",):
            assert {i["facility"] for i in json.loads(r.stdout)["items"]} == {"water"}
    else:
        assert r.exit_code == 2 and r.stdout == "" and "may not read" in r.stderr
        assert denied == 1


def test_done_marks_an_item_and_clears_overdue(cli_run, hdb) -> None:  # noqa: ANN001
    show = _json(cli_run(hdb, "handover", "show", "A", "power", "--today", TODAY, "--json"))
    assert show["overdue"] is True
    late = next(i for i in show["items"] if i["overdue"])
    d = _json(cli_run(hdb, "handover", "done", str(late["id"]), "--date", TODAY, "--json"))
    assert d["done_date"] == TODAY
    show = _json(cli_run(hdb, "handover", "show", "A", "power", "--today", TODAY, "--json"))
    assert show["overdue"] is False and show["open_items"] == 1
    r = cli_run(hdb, "handover", "done", "999999")
    assert r.exit_code == 2 and "unknown ledger item" in r.stderr


def test_export_ledger_from_the_cli(cli_run, hdb, tmp_path) -> None:  # noqa: ANN001
    from openpyxl import load_workbook

    out = tmp_path / "台账.xlsx"
    d = _json(cli_run(hdb, "export", "handover-ledger", "--format", "xlsx", "-o", str(out), "--street", "少先路街道",
                      "--json"))
    assert d["rows"] == 3
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][:8] == ("小区", "街道", "设施类型", "状态", "整改内容", "责任单位", "整改期限", "是否逾期")
    assert len(rows) == 4
    r = cli_run(hdb, "export", "handover-ledger", "--format", "geojson", "-o", str(tmp_path / "x.geojson"))
    assert r.exit_code == 2 and "xlsx, csv" in r.stderr


def test_configured_overdue_rule_and_bad_config(cli_run, hdb, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    cfg = tmp_path / "c.toml"
    cfg.write_text("[rules.handover]\nrow_deadline_overdue = false\n", encoding="utf-8")
    monkeypatch.setenv("GEOPLATFORM_CONFIG", str(cfg))
    d = _json(cli_run(hdb, "handover", "backlog", "--today", TODAY, "--json"))
    assert d["settings"]["row_deadline_overdue"] is False
    assert d["counts"]["overdue"] == 1  # only A's ledger item; C's stage deadline no longer counts
    cfg.write_text("[rules.handover]\nbogus = 1\n", encoding="utf-8")
    r = cli_run(hdb, "handover", "backlog", "--json")
    assert r.exit_code == 2 and "bogus" in r.stderr and r.stdout == ""


def test_compounds_can_be_named(cli_run, hdb) -> None:  # noqa: ANN001
    d = _json(cli_run(hdb, "handover", "set", "丁小区", "供气", "未移交", "--json"))
    assert (d["compound_id"], d["facility"], d["state"]) == ("D", "gas", "not_handed_over")
    assert "未移交" in cli_run(hdb, "handover", "show", "丁小区", "gas").stdout


def test_importer_synonyms_are_accepted(cli_run, hdb) -> None:  # noqa: ANN001
    cli_run(hdb, "handover", "set", "D", "telecom_access", "blocked")
    d = _json(cli_run(hdb, "handover", "set", "D", "telecom_access", "协商中", "--json"))  # the importer's word
    assert d["state"] == "negotiating"
    d = _json(cli_run(hdb, "handover", "set", "D", "telecom_access", "已进场", "--json"))
    assert d["state"] == "access"
