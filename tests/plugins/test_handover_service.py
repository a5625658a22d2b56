"""Handover service on both databases: transitions recorded and audited, versions, backlog, ledger export."""

from __future__ import annotations

import datetime as dt

import pytest
from shapely.geometry import Point
from sqlalchemy import func, select

from geoplatform.models import AuditEvent, Handover, HandoverEvent, LedgerItem
from geoplatform.principal import Principal
from geoplatform.store import insert_records, read_frame
from plugins.handover import service
from plugins.handover.ledger import HEADERS
from tests.plugins.test_handover_rules import COMPOUNDS, ITEMS, ROWS, T

ALICE = Principal(name="alice", role="admin")


def build_fixture(session) -> None:  # noqa: ANN001
    """The hand-made district of test_handover_rules (3 compounds, 2 streets) plus an empty compound D."""
    insert_records(session, "street", [{"code": "150203001", "name": "少先路街道", "kind": "subdistrict", "aliases": []},
                                       {"code": "150203003", "name": "沼潭街道", "kind": "subdistrict", "aliases": []}])
    comps = [*COMPOUNDS, {"id": "D", "name": "丁小区", "street_code": "150203003"}]
    insert_records(session, "compound", [{"id": c["id"], "name": c["name"], "street_code": c["street_code"],
                                          "location": Point(109.8 + n / 100, 40.65), "aliases": []}
                                         for n, c in enumerate(comps)])
    ids = {}
    for r in ROWS:
        ho = Handover(compound_id=r["compound_id"], facility=r["facility"], state=r["state"], deadline=r["deadline"],
                      since=dt.datetime(2026, 1, 1, 9))
        session.add(ho)
        session.flush()
        ids[r["id"]] = ho.id
    for rid, items in ITEMS.items():
        for it in items:
            session.add(LedgerItem(handover_id=ids[rid], **it))
    session.flush()


@pytest.fixture
def hctx(ctx):  # noqa: ANN001, ANN201
    """A Context on a fresh database holding the hand-made fixture; today = T."""
    with ctx.session() as s:
        build_fixture(s)
    ctx.today = T
    return ctx


def test_backlog_counts_exact_on_the_database(hctx) -> None:  # noqa: ANN001
    with hctx.session(readonly=True) as s:
        b = service.backlog(s, T)
        water = service.backlog(s, T, facility="water")
        street = service.backlog(s, T, street_code="150203003")
        later = service.backlog(s, T + dt.timedelta(days=1))
    assert b["counts"]["total"] == 14
    assert b["counts"]["by_state"] == {"acceptance": 1, "agreement": 1, "not_accepted": 1, "not_handed_over": 1,
                                       "rectifying": 1, "renovation": 1, "unknown": 8}
    assert b["counts"]["by_street"] == {"少先路街道": 6, "沼潭街道": 8}
    assert b["counts"]["by_facility"] == {"fire_acceptance": 1, "gas": 3, "heating": 3, "power": 4, "water": 3}
    assert b["counts"]["overdue"] == 2 and later["counts"]["overdue"] == 3
    assert [(i["compound_id"], i["state"]) for i in water["items"]] == [
        ("B", "not_handed_over"), ("C", "unknown"), ("D", "unknown")]
    assert street["counts"]["by_street"] == {"沼潭街道": 8}
    a_power = next(i for i in b["items"] if (i["compound_id"], i["facility"]) == ("A", "power"))
    assert a_power == {"compound_id": "A", "compound_name": "甲小区", "street": "少先路街道", "street_code": "150203001",
                       "facility": "power", "state": "rectifying", "since": dt.datetime(2026, 1, 1, 9),
                       "deadline": T - dt.timedelta(days=1), "overdue": True, "open_items": 2, "row_deadline": None,
                       "version": 1, "late": {"kind": "item", "content": "更换老化管网",
                                              "deadline": T - dt.timedelta(days=1), "days": 1, "count": 1}}


def test_full_utility_path_records_every_change(hctx) -> None:  # noqa: ANN001
    path = ["not_handed_over", "owner_consent", "applied", "acceptance", "rectifying", "acceptance", "agreement",
            "taken_over"]
    with hctx.session() as s:
        assert service.get_handover(s, "D", "water")["state"] == "unknown"
        assert service.get_handover(s, "D", "water")["version"] == 0
        for n, state in enumerate(path, start=1):
            items = [{"content": "修复阀门井", "responsible_unit": "产权单位", "deadline": T}] if state == "rectifying" else []
            out = service.set_state(s, ALICE, "D", "water", state, note=f"step {n}", items=items,
                                    expected_version=n - 1)
            assert out["state"] == state and out["version"] == n
    with hctx.session(readonly=True) as s:
        events = service.history(s, "D", "water")
        assert [(e["from"], e["to"]) for e in events] == list(zip(["unknown", *path[:-1]], path, strict=True))
        assert {e["user"] for e in events} == {"alice"} and events[0]["note"] == "step 1"
        audits = s.execute(select(AuditEvent).where(AuditEvent.entity == "handover", AuditEvent.entity_id == "D:water")
                           .order_by(AuditEvent.id)).scalars().all()
        assert len(audits) == len(path)
        assert audits[0].action == "create" and audits[0].before["state"] == "unknown"
        assert audits[-1].before["state"] == "agreement" and audits[-1].after["state"] == "taken_over"
        assert audits[4].after["items_added"][0]["content"] == "修复阀门井"
        assert audits[0].street_code == "150203003"
        row = service.get_handover(s, "D", "water")
        assert row["allowed_next"] == [] and len(row["items"]) == 1


@pytest.mark.parametrize(("compound", "facility", "state", "kwargs", "error", "match"), [
    ("D", "water", "taken_over", {}, service.TransitionNotAllowed, "can move to: not handed over$"),
    ("A", "heating", "taken_over", {}, service.TransitionNotAllowed, "handover agreement signed, rectifying"),
    ("A", "water", "acceptance", {}, service.TransitionNotAllowed, "can move to: –"),
    ("A", "heating", "acceptance", {}, service.TransitionNotAllowed, "already “acceptance inspection”"),
    ("Z", "water", "not_handed_over", {}, service.UnknownCompound, "unknown compound 'Z'"),
    ("A", "sewage", "not_handed_over", {}, service.UnknownFacility, "unknown facility"),
    ("A", "heating", "accepted", {}, service.UnknownState, "unknown state “accepted”"),
    ("A", "water", "taken_over", {"items": [{"content": "x"}]}, service.LedgerItemError, "open state"),
    ("D", "water", "unknown", {"items": [{"content": "x"}]}, service.LedgerItemError, "open state"),
    ("A", "heating", "rectifying", {}, service.RectifyingNeedsItem, "at least one open ledger item with a deadline"),
    ("A", "heating", "rectifying", {"items": [{"content": "x"}]}, service.RectifyingNeedsItem,
     "none of the open items has one"),
    ("B", "water", "acceptance", {}, service.TransitionNotAllowed, "organised by the district government"),
    ("B", "water", "acceptance", {"organised_by": "utility"}, service.TransitionNotAllowed, "district_government"),
    ("B", "water", "owner_consent", {"organised_by": "utility"}, service.AcceptanceError, "is none"),
    ("A", "heating", "agreement", {"organised_by": "mayor"}, service.AcceptanceError, "unknown acceptance organiser"),
    ("A", "heating", "rectifying", {"items": [{"content": " "}]}, service.LedgerItemError, "content"),
    ("A", "heating", "rectifying", {"expected_version": 7}, service.StaleVersion, "version 1, you read 7"),
])
def test_rejected_changes_leave_the_database_unchanged(hctx, compound, facility, state, kwargs, error, match) -> None:  # noqa: ANN001, E501
    def snapshot() -> tuple:
        with hctx.session(readonly=True) as s:
            return tuple(s.execute(select(func.count()).select_from(t)).scalar_one()
                         for t in (Handover, HandoverEvent, LedgerItem, AuditEvent)) + tuple(
                s.execute(select(Handover.state, Handover.version).order_by(Handover.id)).all())
    before = snapshot()
    with pytest.raises(error, match=match), hctx.session() as s:
        service.set_state(s, ALICE, compound, facility, state, **kwargs)
    assert snapshot() == before


def test_stale_version_after_a_concurrent_change(hctx) -> None:  # noqa: ANN001
    with hctx.session(readonly=True) as s:
        seen = service.get_handover(s, "A", "heating")["version"]
    with hctx.session() as s:
        service.set_state(s, Principal("bob", "admin"), "A", "heating", "agreement", expected_version=seen)
    with pytest.raises(service.StaleVersion), hctx.session() as s:
        service.set_state(s, ALICE, "A", "heating", "rectifying", expected_version=seen)
    with pytest.raises(service.StaleVersion), hctx.session() as s:  # a missing row has version 0
        service.set_state(s, ALICE, "D", "gas", "not_handed_over", expected_version=1)


def test_adding_items_to_a_rectifying_row_and_completing_them(hctx) -> None:  # noqa: ANN001
    with hctx.session() as s:
        out = service.set_state(s, ALICE, "A", "power", "rectifying",
                                items=[{"content": "加装计量表具", "deadline": T + dt.timedelta(days=30)}])
        assert out["version"] == 2 and len(out["items"]) == 4
    with hctx.session(readonly=True) as s:
        row = service.get_handover(s, "A", "power", today=T)
        assert row["overdue"] and row["open_items"] == 3
        late = next(i for i in row["items"] if i["overdue"])
    with hctx.session() as s:
        done = service.complete_item(s, ALICE, late["id"], T)
        assert done["done_date"] == T
    with hctx.session(readonly=True) as s:
        row = service.get_handover(s, "A", "power", today=T)
        assert not row["overdue"] and row["open_items"] == 2
        # the item due on T becomes overdue the day after
        assert service.get_handover(s, "A", "power", today=T + dt.timedelta(days=1))["overdue"] is True
        assert s.execute(select(func.count()).select_from(AuditEvent)
                         .where(AuditEvent.entity == "ledger_item")).scalar_one() == 1
    with pytest.raises(service.LedgerItemError), hctx.session() as s:
        service.complete_item(s, ALICE, 999_999, T)


def test_gap_kind_path(hctx) -> None:  # noqa: ANN001
    with hctx.session() as s:
        service.set_state(s, ALICE, "B", "fire_acceptance", "rectifying",
                          items=[{"content": "更换喷淋头", "deadline": T}])
        out = service.set_state(s, ALICE, "B", "fire_acceptance", "accepted", participants="区消防救援大队", today=T)
        assert out["state"] == "accepted" and out["allowed_next"] == []
        assert [(a["result"], a["held_on"], a["participants"], a["organised_by"]) for a in out["acceptances"]] == [
            ("pass", T, "区消防救援大队", "unknown")]  # the fire acceptance is an acceptance event too
        with pytest.raises(service.TransitionNotAllowed, match="can move to: planned"):
            service.set_state(s, ALICE, "B", "power_upgrade", "done")


def test_compound_attributes_hook(hctx) -> None:  # noqa: ANN001
    with hctx.session(readonly=True) as s:
        compounds = read_frame(s, "compound")
    attrs = hctx.compound_attributes(compounds)
    assert attrs.loc["A", "handover_worst_state"] == "rectifying"
    assert attrs.loc["D", "handover_worst_state"] == "unknown"
    assert attrs["handover_taken_over_share"].tolist() == [0.25, 0.5, 0.0, 0.0]
    assert attrs["handover_overdue"].tolist() == [1, 0, 1, 0]


def test_ledger_export_round_trip(hctx, tmp_path) -> None:  # noqa: ANN001
    from openpyxl import load_workbook

    exp = hctx.exporters()["handover-ledger"]
    path = tmp_path / "ledger.xlsx"
    assert exp.function(hctx, "xlsx", str(path), None) == 3
    ws = load_workbook(path).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == HEADERS
    assert rows[0][:8] == ("小区", "街道", "设施类型", "状态", "整改内容", "责任单位", "整改期限", "是否逾期")
    body = {r[4]: r for r in rows[1:]}
    assert {r[:4] for r in body.values()} == {("甲小区", "少先路街道", "供电", "整改中")}
    assert {k: r[7] for k, r in body.items()} == {"更换老化管网": "是", "补齐竣工资料": "否",
                                                   '\'=HYPERLINK("http://x")': "否"}  # neutralised; due today
    assert body['\'=HYPERLINK("http://x")'][5] == "'@unit"
    assert body["更换老化管网"][6].date() == T - dt.timedelta(days=1) and body["补齐竣工资料"][8].date() == T - dt.timedelta(days=12)
    assert exp.function(hctx, "xlsx", str(tmp_path / "s.xlsx"), "150203003") == 0
    csv_path = tmp_path / "ledger.csv"
    assert exp.function(hctx, "csv", str(csv_path), None) == 3
    text = csv_path.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == ",".join(HEADERS) and "'=HYPERLINK" in text


def test_interleaved_writers_see_fresh_state(hctx, db_url) -> None:  # noqa: ANN001
    """Two open transactions read the same row; the later writer is judged on the committed state (no lost update)."""
    from geoplatform.db import is_sqlite, session_factory

    if is_sqlite(db_url):
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): the expected_version tests cover it")
    make = session_factory(hctx.engine)
    s1, s2 = make(), make()
    try:
        seen = service.get_handover(s2, "A", "heating")  # s2 reads version 1, acceptance
        assert (seen["state"], seen["version"]) == ("acceptance", 1)
        service.set_state(s1, ALICE, "A", "heating", "agreement")
        s1.commit()
        with pytest.raises(service.StaleVersion):
            service.set_state(s2, Principal("bob", "admin"), "A", "heating", "rectifying",
                              items=[{"content": "x"}], expected_version=seen["version"])
        with pytest.raises(service.TransitionNotAllowed, match="can move to: taken over"):
            service.set_state(s2, Principal("bob", "admin"), "A", "heating", "rectifying", items=[{"content": "x"}])
        s2.rollback()
    finally:
        s1.close()
        s2.close()
    with hctx.session(readonly=True) as s:
        assert service.get_handover(s, "A", "heating")["state"] == "agreement"
        assert [e["user"] for e in service.history(s, "A", "heating")] == ["alice"]


def _until_a_backend_waits_on_a_lock(engine, thread, limit_s: float = 300.0) -> bool:  # noqa: ANN001
    """Poll pg_stat_activity until a session of this database waits on a lock (True), or `thread` ends (False)."""
    import time

    from sqlalchemy import text

    deadline = time.monotonic() + limit_s  # only a bound on a hang: the answer does not depend on speed
    while thread.is_alive() and time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                " AND wait_event_type = 'Lock'")):
                return True
        time.sleep(0.02)
    return False


def test_a_writer_waits_for_the_row_lock(hctx, db_url) -> None:  # noqa: ANN001
    """While one transaction changes a row, another writer of that row waits, then sees the new version."""
    import threading

    from geoplatform.db import is_sqlite, session_factory

    if is_sqlite(db_url):
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE) for the whole database")
    make = session_factory(hctx.engine)
    s1 = make()
    outcome: list = []
    service.set_state(s1, ALICE, "A", "heating", "agreement")  # holds the row lock, not committed

    def second() -> None:
        s2 = make()
        try:
            service.set_state(s2, Principal("bob", "admin"), "A", "heating", "rectifying",
                              items=[{"content": "x"}], expected_version=1)
            s2.commit()
            outcome.append("committed")
        except service.StaleVersion:
            outcome.append("stale")
        finally:
            s2.close()

    t = threading.Thread(target=second)
    t.start()
    assert _until_a_backend_waits_on_a_lock(hctx.engine, t)  # the second writer is blocked by the row lock…
    assert t.is_alive() and outcome == []  # …and has not gone past it
    s1.commit()
    s1.close()
    t.join(timeout=30)
    assert outcome == ["stale"]


def test_a_move_keeps_the_deadline_unless_it_is_cleared(hctx) -> None:  # noqa: ANN001
    """Issue 19 pt 3: advancing without a date keeps the row's deadline (and its overdue flag); clearing is explicit."""
    with hctx.session() as s:
        out = service.set_state(s, ALICE, "B", "water", "owner_consent", expected_version=1)
        assert out["deadline"] == T  # kept over the move
        out = service.set_state(s, ALICE, "B", "water", "owner_consent", deadline=T + dt.timedelta(days=9))
        assert out["deadline"] == T + dt.timedelta(days=9)
        out = service.set_state(s, ALICE, "B", "water", "owner_consent", clear_deadline=True)
        assert out["deadline"] is None
    with hctx.session(readonly=True) as s:
        late = service.get_handover(s, "C", "power", today=T)  # the row's own deadline passed yesterday
    assert late["overdue"] and late["late"] == {"kind": "deadline", "date": T - dt.timedelta(days=1), "days": 1}


def test_bulk_advance_and_assign_is_all_or_nothing(hctx) -> None:  # noqa: ANN001
    with hctx.session() as s:
        out = service.bulk_set_state(s, ALICE, "water", [{"compound_id": "C", "version": 1},
                                                         {"compound_id": "D", "version": 0}],
                                     state="not_handed_over", responsible_unit="供水公司")
        assert out["changed"] == 2
    with hctx.session(readonly=True) as s:
        rows = {c: service.get_handover(s, c, "water") for c in ("C", "D")}
        assert {c: (r["state"], r["responsible_unit"]) for c, r in rows.items()} == {
            "C": ("not_handed_over", "供水公司"), "D": ("not_handed_over", "供水公司")}
        audits = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "handover"))
    # one refused row (A's water is taken over: final) refuses the whole batch, naming that compound
    with pytest.raises(service.TransitionNotAllowed, match="甲小区") as err, hctx.session() as s:
        service.bulk_set_state(s, ALICE, "water", [{"compound_id": "C", "version": 2},
                                                   {"compound_id": "A", "version": 1}], state="owner_consent")
    assert err.value.message.params["compound_id"] == "A"
    with hctx.session(readonly=True) as s:
        assert service.get_handover(s, "C", "water")["state"] == "not_handed_over"
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "handover")) == audits
    with pytest.raises(service.UserInputError), hctx.session() as s:
        service.bulk_set_state(s, ALICE, "water", [{"compound_id": "C", "version": 2}])


def test_demo_ledger_items_belong_to_their_facility(demo_ctx) -> None:  # noqa: ANN001
    from geoplatform.demo import LEDGER_TASKS

    with demo_ctx.session(readonly=True) as s:
        rows = s.execute(select(Handover.facility, LedgerItem.content)
                         .join(LedgerItem, LedgerItem.handover_id == Handover.id)).all()
    assert rows and {f for f, _ in rows} >= {"water", "power"}
    assert [(f, c) for f, c in rows if f in LEDGER_TASKS and c not in LEDGER_TASKS[f]] == []


# --- issue 24 (RULES §2): the ledger from the survey on, the district-organised acceptance and its events ---

def test_survey_findings_carry_ledger_items_in_every_gap_kind(hctx) -> None:  # noqa: ANN001
    item = {"content": "补齐竣工资料", "responsible_unit": "产权单位", "deadline": T}
    with hctx.session() as s:
        for compound, facility, state in (("B", "water", "not_handed_over"), ("B", "fire_acceptance", "not_accepted"),
                                          ("D", "power_upgrade", "planned"), ("D", "telecom_access", "blocked")):
            out = service.set_state(s, ALICE, compound, facility, state, items=[item], today=T)
            assert (out["state"], out["open_items"], out["items_allowed"]) == (state, 1, True)
        moved = service.set_state(s, ALICE, "D", "telecom_access", "negotiating", today=T)
        assert [i["content"] for i in moved["items"]] == ["补齐竣工资料"]  # the survey's items go along
        # an item attached at the survey lets the row enter rectifying later (fire: not_accepted → rectifying)
        assert service.set_state(s, ALICE, "B", "fire_acceptance", "rectifying", today=T)["state"] == "rectifying"


def test_district_organised_acceptance_records_each_acceptance(hctx) -> None:  # noqa: ANN001
    defect = {"content": "阀门井渗漏", "responsible_unit": "产权单位", "deadline": T + dt.timedelta(days=30)}
    with hctx.session() as s:
        out = service.set_state(s, ALICE, "B", "water", "acceptance", organised_by="district_government",
                                participants="区住建局、供水公司、少先路街道", held_on=T, today=T)
        assert out["state"] == "acceptance"
        assert [(a["organised_by"], a["held_on"], a["result"]) for a in out["acceptances"]] == [
            ("district_government", T, None)]  # opened, its result pending
        out = service.set_state(s, ALICE, "B", "water", "rectifying", items=[defect], note="验收未通过", today=T)
        fail = out["acceptances"][0]
        assert (fail["result"], fail["organised_by"], fail["participants"]) == (
            "fail", "district_government", "区住建局、供水公司、少先路街道")
        assert [d["content"] for d in fail["defects"]] == ["阀门井渗漏"] and fail["defect_item_ids"] == [
            out["items"][0]["id"]]
        service.set_state(s, ALICE, "B", "water", "acceptance", organised_by="district_government", today=T)
        later = T + dt.timedelta(days=20)
        out = service.set_state(s, ALICE, "B", "water", "agreement", today=later)
        assert [(a["result"], a["held_on"], a["organised_by"], len(a["defects"])) for a in out["acceptances"]] == [
            ("fail", T, "district_government", 1), ("pass", later, "district_government", 0)]
        audit = s.execute(select(AuditEvent).where(AuditEvent.entity == "handover")
                          .order_by(AuditEvent.id.desc())).scalars().first()
        assert audit.after["acceptance"]["result"] == "pass"
        # the ordinary path opens an acceptance of unknown organiser; its result closes it
        service.set_state(s, ALICE, "A", "heating", "agreement", today=T)
        assert [(a["organised_by"], a["result"], a["held_on"]) for a in
                service.get_handover(s, "A", "heating")["acceptances"]] == [("unknown", "pass", T)]
