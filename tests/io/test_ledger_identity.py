"""Real ledgers without ids (issue 17, points 3 and 4): a row that is a stored compound — same street and name or
alias, else its point within the match radius — is updated (--upsert) or refused as a duplicate naming the row,
the column and the compound, never added twice; a point declared in one street that lies in another is listed in
a warning, or (--street-from-location) takes the street of its point. Both databases."""

from __future__ import annotations

import json

import pytest
import shapely
from sqlalchemy import select

from geoplatform.context import Context
from geoplatform.io import identity
from geoplatform.io.importer import import_file
from geoplatform.io.report import ImportFailed
from geoplatform.models import Compound
from geoplatform.store import read_frame
from tests.conftest import BACKENDS, _copy_url
from tests.io.conftest import SMALL, db_checksum
from tests.io.corpus import write_csv
from tests.support.ledger import make_ledger, metres


@pytest.fixture(params=BACKENDS)
def small(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Context]:
    """A copy of the small demo per test (these tests write), each backend: (url, context)."""
    url = _copy_url(request.param, SMALL, tmp_path_factory)[0]
    return url, Context.create(url)


def _stored(ctx: Context, names: list[str]) -> dict[str, dict]:
    with ctx.session(readonly=True) as s:
        frame = read_frame(s, "compound", columns=["id", "name", "street_code", "location", "management_mode",
                                                   "owners_org", "renovation"], where=[Compound.name.in_(names)])
    return {r["name"]: r for r in frame.to_dict("records")}


def _near(ctx: Context, metres_off: float) -> tuple[dict, shapely.Point]:
    """A stored compound with a point, and a point `metres_off` east of it (WGS-84)."""
    with ctx.session(readonly=True) as s:
        frame = read_frame(s, "compound", columns=["id", "name", "aliases", "street_code", "location"])
    row = frame[frame["location"].notna()].sort_values("id").iloc[0].to_dict()
    p = row["location"]
    return row, shapely.Point(p.x + metres_off / (111_320 * 0.7586), p.y)  # cos(40.6°) ≈ 0.7586


def test_a_ledger_twice_adds_nothing_the_second_time(small, tmp_path) -> None:
    _, ctx = small
    with ctx.session(readonly=True) as s:
        ledger = make_ledger(s, tmp_path / "台账.xlsx", n=40)
    first = import_file(ctx, "compounds", ledger.path, crs="gcj02")
    assert (first.inserted, first.updated) == (40, 0)
    got = _stored(ctx, [r[1] for r in ledger.rows[1:]])
    assert len(got) == 40
    for k, row in enumerate(ledger.rows[1:]):  # GCJ-02 chosen: every point where it belongs (WGS-84 truth)
        assert metres(got[row[1]]["location"], ledger.truth[k]) < 1.0
        assert got[row[1]]["management_mode"] == got[row[1]]["owners_org"] == "unknown"  # blank = 待核实
    before = db_checksum(ctx)
    with pytest.raises(ImportFailed) as exc:  # the same ledger again: every row is a duplicate, none new
        import_file(ctx, "compounds", ledger.path, crs="gcj02", dry_run=True)
    errors = exc.value.report.as_dict("en")["errors"]
    assert len(errors) == 40 and {e["key"] for e in errors} == {"import.identity.exists"}
    one = errors[5]
    name = ledger.rows[6][1]
    assert one["where"] == f"台账.xlsx row {ledger.sheet_row(5)}, column 小区名称"  # row and field
    assert got[name]["id"] in one["message"] and "same street and name" in one["message"]  # which compound
    assert "--upsert" in one["message"]
    again = import_file(ctx, "compounds", ledger.path, crs="gcj02", upsert=True, dry_run=True)
    assert (again.inserted, again.updated) == (0, 40)  # the second dry run says 0 new
    assert any("40 rows without an id are compounds already stored (40 by street and name" in w
               for w in again.warnings)
    assert db_checksum(ctx) == before


def test_cli_second_dry_run_says_0_new(small, tmp_path, cli_run) -> None:
    url, ctx = small
    with ctx.session(readonly=True) as s:
        ledger = make_ledger(s, tmp_path / "ledger.xlsx", n=12, seed=3)
    assert cli_run(url, "import", "compounds", str(ledger.path), "--crs", "gcj02").exit_code == 0
    res = cli_run(url, "import", "compounds", str(ledger.path), "--crs", "gcj02", "--dry-run", "--json")
    assert res.exit_code == 2 and json.loads(res.stdout)["errors"][0]["key"] == "import.identity.exists"
    res = cli_run(url, "import", "compounds", str(ledger.path), "--crs", "gcj02", "--dry-run", "--upsert", "--json")
    doc = json.loads(res.stdout)
    assert res.exit_code == 0 and (doc["inserted"], doc["updated"]) == (0, 12)


def test_upsert_by_identity_keeps_what_the_file_does_not_say(small, tmp_path) -> None:
    _, ctx = small
    row, p = _near(ctx, 3000)
    with ctx.session() as s:
        s.get(Compound, row["id"]).management_mode = "professional"
    with ctx.session(readonly=True) as s:
        version = s.get(Compound, row["id"]).version
    path = write_csv(tmp_path / "l.csv", [["小区名称", "所属街道", "经度", "纬度", "户数", "物业服务方式"],
                                          [f" {row['name']}　", row["street_code"], p.x, p.y, 321, ""]])
    rep = import_file(ctx, "compounds", path, crs="wgs84", upsert=True)
    assert (rep.inserted, rep.updated) == (0, 1)
    with ctx.session(readonly=True) as s:  # a blank mode on a re-upload keeps the known one
        c = s.get(Compound, row["id"])
        assert (c.households, c.management_mode, c.version) == (321, "professional", version + 1)


@pytest.mark.parametrize("how", ["alias", "fullwidth"])
def test_match_by_name_alias_either_way(small, tmp_path, how: str) -> None:
    _, ctx = small
    row, far = _near(ctx, 2000)  # by name: the point may be anywhere
    with ctx.session() as s:
        s.get(Compound, row["id"]).aliases = ["钢城东区"]
    name = "钢城东区" if how == "alias" else row["name"].replace("小区", "") + " 小区"
    path = write_csv(tmp_path / "a.csv", [["小区名称", "所属街道", "经度", "纬度"],
                                          [name, row["street_code"], far.x, far.y]])
    with pytest.raises(ImportFailed) as exc:
        import_file(ctx, "compounds", path, crs="wgs84", dry_run=True)
    (err,) = exc.value.report.as_dict("zh")["errors"]
    assert row["id"] in err["message"] and "同一街镇、同名" in err["message"] and "勾选" not in err["message"]


@pytest.mark.parametrize("off,radius,matched", [(10, None, True), (25, None, True), (60, None, False),
                                                (10, 5, False), (10, 0, False), (40, 50, True)])
def test_match_by_location_within_the_radius(small, tmp_path, off: float, radius: float | None,
                                             matched: bool) -> None:
    _, ctx = small
    if radius is not None:
        ctx.config.rules = {"import": {"match_radius_m": radius}}
    row, p = _near(ctx, off)
    path = write_csv(tmp_path / "p.csv", [["小区名称", "所属街道", "经度", "纬度"], ["完全不同的名字", row["street_code"], p.x, p.y]])
    if matched:
        with pytest.raises(ImportFailed) as exc:
            import_file(ctx, "compounds", path, crs="wgs84", dry_run=True)
        (err,) = exc.value.report.as_dict("en")["errors"]
        assert err["key"] == "import.identity.exists" and row["id"] in err["message"]
        assert f"lies {off:.0f} m from it, within {radius or identity.MATCH_RADIUS_M:.0f} m" in err["message"]
        rep = import_file(ctx, "compounds", path, crs="wgs84", dry_run=True, upsert=True)
        assert (rep.inserted, rep.updated) == (0, 1)
    else:
        rep = import_file(ctx, "compounds", path, crs="wgs84", dry_run=True)
        assert (rep.inserted, rep.updated) == (1, 0)


def test_the_radius_is_a_checked_setting(small) -> None:
    _, ctx = small
    assert identity.match_radius(ctx) == identity.MATCH_RADIUS_M == 30.0
    assert identity.PROVENANCE["match_radius_m"].startswith("[D]")
    for bad in ({"match_radius_m": -1}, {"radius": 5}):
        ctx.config.rules = {"import": bad}
        with pytest.raises(ValueError, match=r"\[rules.import\]"):
            identity.match_radius(ctx)


def test_one_compound_twice_in_a_file_and_ambiguous_names(small, tmp_path) -> None:
    _, ctx = small
    row, p = _near(ctx, 5)
    with ctx.session(readonly=True) as s:
        other = s.execute(select(Compound.id, Compound.name).where(Compound.street_code == row["street_code"],
                                                                   Compound.id != row["id"])).first()
    with ctx.session() as s:  # two stored compounds of one street answer to one alias
        s.get(Compound, row["id"]).aliases = ["老街坊"]
        s.get(Compound, other.id).aliases = ["老街坊"]
    with ctx.session(readonly=True) as s:
        free = make_ledger(s, tmp_path / "free.xlsx", n=3, moved=0).truth  # points far from any compound
    path = write_csv(tmp_path / "d.csv", [
        ["小区名称", "所属街道", "经度", "纬度"],
        [row["name"], row["street_code"], p.x, p.y],  # row 2: the stored compound by name
        ["别名不同", row["street_code"], p.x, p.y],  # row 3: the same one by location
        ["新的一号院", row["street_code"], free[0].x, free[0].y],  # row 4: new
        ["新的一号院", row["street_code"], free[1].x, free[1].y],  # row 5: the same new compound again
        ["老街坊", row["street_code"], free[2].x, free[2].y]])  # row 6: names two stored compounds
    with pytest.raises(ImportFailed) as exc:
        import_file(ctx, "compounds", path, crs="wgs84", dry_run=True, upsert=True)
    errors = {e["where"]: (e["key"], e["message"]) for e in exc.value.report.as_dict("en")["errors"]}
    assert set(errors) == {"d.csv row 3, column 小区名称", "d.csv row 5, column 小区名称", "d.csv row 6, column 小区名称"}
    key, text = errors["d.csv row 3, column 小区名称"]
    assert key == "import.identity.same_as" and row["id"] in text and "row 2" in text
    key, text = errors["d.csv row 5, column 小区名称"]
    assert key == "import.identity.repeated" and "row 4" in text
    key, text = errors["d.csv row 6, column 小区名称"]
    assert key == "import.identity.ambiguous" and row["id"] in text and other.id in text


def test_ids_in_the_file_are_not_second_guessed(small, tmp_path) -> None:
    _, ctx = small
    row, p = _near(ctx, 0)
    path = write_csv(tmp_path / "i.csv", [["小区编号", "小区名称", "所属街道", "经度", "纬度"],
                                          ["NEW-1", row["name"], row["street_code"], p.x, p.y]])
    rep = import_file(ctx, "compounds", path, crs="wgs84", dry_run=True)
    assert (rep.inserted, rep.updated) == (1, 0)  # an id says which compound: identity by name/location not applied


# ---------------------------------------------------------------- point 4: the street given vs the point's street

def test_points_in_another_street_are_listed_or_moved(small, tmp_path, cli_run) -> None:
    url, ctx = small
    with ctx.session(readonly=True) as s:
        ledger = make_ledger(s, tmp_path / "台账.xlsx", n=15, moved=2, seed=11)
    assert len(ledger.moved) == 2
    rep = import_file(ctx, "compounds", ledger.path, crs="gcj02", dry_run=True)
    (warning,) = [w for w in rep.as_dict("zh")["warnings"] if "填写的街镇与点位所在街镇不同" in w]
    for k in ledger.moved:
        assert f"第{ledger.sheet_row(k)}行" in warning
    assert warning.count("→") == 2 and "勾选" not in warning and "--street-from-location" in warning
    res = cli_run(url, "import", "compounds", str(ledger.path), "--crs", "gcj02", "--street-from-location", "--json")
    assert res.exit_code == 0, res.stderr
    assert any("street taken from the location for 2 rows" in w for w in json.loads(res.stdout)["warnings"])
    got = _stored(ctx, [r[1] for r in ledger.rows[1:]])
    for k, row in enumerate(ledger.rows[1:]):
        assert got[row[1]]["street_code"] == ledger.located[k]
    assert {ledger.given[k] for k in ledger.moved} != {ledger.located[k] for k in ledger.moved}


def test_without_the_option_the_street_given_is_kept(small, tmp_path) -> None:
    _, ctx = small
    with ctx.session(readonly=True) as s:
        ledger = make_ledger(s, tmp_path / "l.xlsx", n=6, moved=2, seed=5)
    rep = import_file(ctx, "compounds", ledger.path, crs="gcj02", surface="web")
    text = " ".join(rep.as_dict("zh")["warnings"])
    assert "勾选“以位置确定街镇”" in text and "--street" not in text  # the page names its checkbox, not a flag
    got = _stored(ctx, [r[1] for r in ledger.rows[1:]])
    for k, row in enumerate(ledger.rows[1:]):
        assert got[row[1]]["street_code"] == ledger.given[k]


# ---------------------------------------------------------------- the README's ledger workflow, as written

def test_the_readme_ledger_workflow_runs_as_written(small, tmp_path, cli_run) -> None:
    import re
    import shlex
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"A street's ledger \(台账\).*?```\n(.*?)```", readme, re.S).group(1)
    commands = [shlex.split(line.split("#", 1)[0]) for line in block.strip().splitlines()]
    assert len(commands) == 3 and all(c[0] == "geoplatform" for c in commands)
    url, ctx = small
    with ctx.session(readonly=True) as s:
        ledger = make_ledger(s, tmp_path / "ledger.xlsx", n=10, moved=0, seed=2)
    def run(args: list[str], code: int = 0) -> str:
        res = cli_run(url, *[str(ledger.path) if a == "ledger.xlsx" else a for a in args[1:]])
        assert res.exit_code == code, (args, res.stderr)
        return res.stdout + res.stderr

    check, commit, kpi = commands
    assert "--dry-run" in check and "--dry-run" not in commit and kpi[1] == "kpi"
    assert "(10 new, 0 updated)" in run(check)
    assert "imported 10 (10 new, 0 updated)" in run(commit)
    assert "待核实" in run(kpi)
    again = run(check, code=2)  # the same ledger again: every row a duplicate naming its compound, none new
    assert "is already stored as compound" in again and "and 9 more problems" in again
    assert "imported 10 (0 new, 10 updated)" in run(commit)  # with --upsert: updates, adds nothing
    with ctx.session(readonly=True) as s:
        found = read_frame(s, "compound", columns=["id"], where=[Compound.name.in_([r[1] for r in ledger.rows[1:]])])
    assert len(found) == 10
