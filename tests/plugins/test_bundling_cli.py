"""`geoplatform bundle …` end to end on the demo, both databases."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from geoplatform import models as m
from tests.support.templates import DEMO, Template, refill

STREET = "150203006"  # 阿尔丁大街街道


def failed_area(lang: str) -> str:
    """The catalogue's refusal of a vote whose participants hold 60% of the area (the web gives the same)."""
    from geoplatform.i18n import t

    return t("bundling.vote.failed", lang, what=t("bundling.vote.participation_area", lang), got="60.0%",
             need="≥ 2/3")
OTHER = "150203010"


def run_json(cli_run, url: str, *args: str) -> dict:  # noqa: ANN001
    res = cli_run(url, *args, "--json")
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)  # the whole stdout is one JSON document


# --- read-only, on the shared demo ----------------------------------------------------------------


def test_plan_the_whole_demo(cli_run, demo_url: str) -> None:  # noqa: ANN001
    d = run_json(cli_run, demo_url, "bundle", "plan")
    assert {"proposals", "new_bundles", "unmatched"} <= set(d)
    assert len(d["proposals"]) > 50
    for p in d["proposals"]:
        assert set(p) >= {"id", "street", "orphan_kind", "orphan_ids", "host_compound_id", "distance_m",
                          "merged_floor_area_m2", "merged_households"}
        assert p["id"].startswith(p["street"])
        assert 0 <= p["distance_m"] <= 300
        assert p["orphan_kind"] in ("building", "compound") and p["orphan_ids"]
    assert len({p["id"] for p in d["proposals"]}) == len(d["proposals"])
    reasons = {u["reason"] for u in d["unmatched"]}
    assert reasons <= {"no_host_in_reach", "only_across_barrier", "only_other_street", "host_firm_ineligible"}
    assert d["settings"]["max_distance_m"] == 300
    assert run_json(cli_run, demo_url, "bundle", "plan") == d  # deterministic


def test_hosts_are_in_the_orphans_street(cli_run, demo_url: str) -> None:  # noqa: ANN001
    from geoplatform.context import Context

    d = run_json(cli_run, demo_url, "bundle", "plan")
    with Context.create(demo_url).session(readonly=True) as s:
        street = dict(s.execute(select(m.Compound.id, m.Compound.street_code)).all())
        mode = dict(s.execute(select(m.Compound.id, m.Compound.management_mode)).all())
    for p in d["proposals"]:
        assert street[p["host_compound_id"]] == p["street"]
        assert mode[p["host_compound_id"]] in ("professional", "state_owned")


def test_plan_one_street_by_name(cli_run, demo_url: str) -> None:  # noqa: ANN001
    d = run_json(cli_run, demo_url, "bundle", "plan", "--street", "阿尔丁大街街道")
    assert d["proposals"] and {p["street"] for p in d["proposals"]} == {STREET}
    assert {u["street"] for u in d["unmatched"]} <= {STREET}
    whole = run_json(cli_run, demo_url, "bundle", "plan")
    assert [p for p in whole["proposals"] if p["street"] == STREET] == d["proposals"]


def test_max_distance_changes_the_reach(cli_run, demo_url: str) -> None:  # noqa: ANN001
    near = run_json(cli_run, demo_url, "bundle", "plan", "--max-distance", "40")
    assert near["settings"]["max_distance_m"] == 40
    assert all(p["distance_m"] <= 40 for p in near["proposals"])
    wide = run_json(cli_run, demo_url, "bundle", "plan")
    assert len(near["unmatched"]) + len(near["new_bundles"]) > len(wide["unmatched"]) + len(wide["new_bundles"])


def test_human_output_shows_the_thresholds(cli_run, demo_url: str) -> None:  # noqa: ANN001
    res = cli_run(demo_url, "bundle", "plan", "--street", STREET)
    assert res.exit_code == 0
    assert "300米" in res.stdout and "打包建议" in res.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("bundle", "plan", "--max-distance", "-5"), "--max-distance"),
    (("bundle", "plan", "--street", "火星街道"), "unknown street"),
    (("bundle", "accept", f"{STREET}-B-0000000000"), "unknown bundle proposal"),
    (("bundle", "reject", "nope", "--reason", "x"), "unknown bundle proposal"),
    (("bundle", "accept", f"{STREET}-B-0000000000", "--user", "ghost"), "unknown or disabled user"),
])
def test_bad_input_exits_2_with_one_line(cli_run, demo_url: str, args: tuple, message: str) -> None:  # noqa: ANN001
    res = cli_run(demo_url, *args, "--json")
    assert res.exit_code == 2
    assert res.stdout == ""
    assert message in res.stderr and len(res.stderr.strip().splitlines()) == 1


# --- the workflow, on a fresh copy of the demo per backend ------------------------------------------


def _accounts(url: str) -> None:
    from geoplatform.context import Context

    c = Context.create(url)
    with c.session() as s:
        s.add_all([m.User(name="officer6", role="street_officer", street_code=STREET, password_hash="-"),
                   m.User(name="officer10", role="street_officer", street_code=OTHER, password_hash="-"),
                   m.User(name="boss", role="admin", password_hash="-")])
    c.engine.dispose()


DEMO_ACCOUNTS = Template("bundling-demo", _accounts, DEMO)  # the scale-1 demo plus three accounts


@pytest.fixture
def demo_copy(ctx):  # noqa: ANN001, ANN201
    """A fresh database of each backend with the scale-1 demo and three accounts (a copy of the run's template)."""
    ctx.engine.dispose()
    refill(ctx.config.database_url, DEMO_ACCOUNTS)
    return ctx


def buildings_of(ctx, ids: list[str]) -> dict[str, str | None]:  # noqa: ANN001
    with ctx.session(readonly=True) as s:
        return dict(s.execute(select(m.Building.id, m.Building.compound_id).where(m.Building.id.in_(ids))).all())


def test_officer_plans_accepts_rejects_and_admin_reverts(cli_run, demo_copy) -> None:  # noqa: ANN001
    ctx = demo_copy
    url = ctx.config.database_url
    plan = run_json(cli_run, url, "bundle", "plan", "--street", STREET, "--save", "--user", "officer6")
    n = len(plan["proposals"])
    assert plan["saved"]["inserted"] == n > 2
    b = next(p for p in plan["proposals"] if p["orphan_kind"] == "building")
    c = next(p for p in plan["proposals"] if p["orphan_kind"] == "compound")

    denied = cli_run(url, "bundle", "accept", b["id"], "--user", "officer10", "--json")
    assert denied.exit_code == 2 and "permission denied" in denied.stderr
    assert set(buildings_of(ctx, b["orphan_ids"]).values()) == {None}
    with ctx.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.outcome == "denied", m.AuditEvent.user_name == "officer10")) == 1

    ok = run_json(cli_run, url, "bundle", "accept", b["id"], "--user", "officer6", "--consent-note", "业主大会表决通过",
                  "--vote-area", "10000/8000/6000", "--vote-owners", "100/80/60")
    assert ok["status"] == "accepted" and ok["decided_by"] == "officer6"
    assert set(buildings_of(ctx, b["orphan_ids"]).values()) == {b["host_compound_id"]}
    rej = run_json(cli_run, url, "bundle", "reject", c["id"], "--reason", "业主不同意", "--user", "officer6")
    assert rej["status"] == "rejected"

    again = run_json(cli_run, url, "bundle", "plan", "--street", STREET, "--save", "--user", "officer6")
    assert again["saved"]["inserted"] == 0 and again["saved"]["kept_decided"] == 1  # the rejected one
    assert {p["id"]: p["status"] for p in again["proposals"]}[c["id"]] == "rejected"
    assert b["id"] not in {p["id"] for p in again["proposals"]}  # its buildings are no longer orphans
    with ctx.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(m.BundleProposal)) == n

    refused = cli_run(url, "bundle", "revert", b["id"], "--user", "officer6", "--note", "x")
    assert refused.exit_code == 2 and "permission denied" in refused.stderr
    rev = run_json(cli_run, url, "bundle", "revert", b["id"], "--user", "boss", "--note", "表决材料不全")
    assert rev["status"] == "reverted"
    assert set(buildings_of(ctx, b["orphan_ids"]).values()) == {None}
    listed = run_json(cli_run, url, "bundle", "list", "--street", STREET, "--status", "reverted")
    assert [p["id"] for p in listed["proposals"]] == [b["id"]]
    with ctx.session(readonly=True) as s:
        actions = [a for (a,) in s.execute(select(m.AuditEvent.action).where(
            m.AuditEvent.entity == "bundle_proposal", m.AuditEvent.outcome == "ok").order_by(m.AuditEvent.id))]
    assert actions == ["plan", "accept", "reject", "plan", "revert"]


def test_officer_cannot_save_another_streets_plan(cli_run, demo_copy) -> None:  # noqa: ANN001
    url = demo_copy.config.database_url
    res = cli_run(url, "bundle", "plan", "--street", OTHER, "--save", "--user", "officer6")
    assert res.exit_code == 2 and "permission denied" in res.stderr
    with demo_copy.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(m.BundleProposal)) == 0


def test_accept_without_saving_first_and_as_the_local_operator(cli_run, demo_copy) -> None:  # noqa: ANN001
    url = demo_copy.config.database_url
    d = run_json(cli_run, url, "bundle", "plan", "--street", STREET)
    c = next(p for p in d["proposals"] if p["orphan_kind"] == "compound")
    for args, says in (((), "the vote by floor area"), (("--vote-area", "10000/8000/6000"), "the vote by owners"),
                       (("--vote-area", "10000/6000/6000", "--vote-owners", "100/80/60"), failed_area("en")),
                       (("--vote-area", "10000/8000/6000", "--vote-owners", "100/90/95"), "TOTAL/PARTICIPATING/YES")):
        res = cli_run(url, "bundle", "accept", c["id"], *args)  # refused: nothing written
        assert res.exit_code == 2 and says in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
    with demo_copy.session(readonly=True) as s:
        assert s.get(m.Compound, c["orphan_ids"][0]).managed_by_id is None
    ok = run_json(cli_run, url, "bundle", "accept", c["id"], "--vote-area", "10000.5/8000/6000",
                  "--vote-owners", "100/80/60")
    assert ok["status"] == "accepted" and ok["decided_by"].startswith("cli:")
    assert ok["vote"] == {"area": [10000.5, 8000, 6000], "owners": [100, 80, 60]}
    with demo_copy.session(readonly=True) as s:
        assert ok["host_firm"] == s.get(m.Compound, c["host_compound_id"]).company
    with demo_copy.session(readonly=True) as s:
        comp = s.get(m.Compound, c["orphan_ids"][0])
        host = s.get(m.Compound, c["host_compound_id"])
        assert comp.managed_by_id == host.id and comp.management_mode == host.management_mode
    res = cli_run(url, "bundle", "accept", c["id"], "--vote-area", "10000/8000/6000", "--vote-owners", "100/80/60")
    assert res.exit_code == 2 and "accepted" in res.stderr


def test_unknowns_are_orphans_only_when_asked(demo_url, cli_run) -> None:  # noqa: ANN001
    """RULES §1: compounds 待核实 are never proposed for bundling unless `--include-unknown`."""
    plain = run_json(cli_run, demo_url, "bundle", "plan")
    wider = run_json(cli_run, demo_url, "bundle", "plan", "--include-unknown")

    def orphans(d: dict) -> set[str]:
        out: set[str] = set()
        for part in ("proposals", "new_bundles", "unmatched"):
            for x in d[part]:
                out |= set(x.get("orphan_ids") or []) | ({x["orphan_id"]} if x.get("orphan_id") else set())
        return out

    added = orphans(wider) - orphans(plain)
    assert added and orphans(plain) <= orphans(wider)
    from geoplatform.context import Context
    from geoplatform.models import Compound

    with Context.create(demo_url).session(readonly=True) as s:
        modes = {c.id: c.management_mode for c in s.query(Compound).filter(Compound.id.in_(added))}
    assert set(modes.values()) == {"unknown"} and len(modes) == len(added)
