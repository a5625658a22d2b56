"""CLI behaviour of import (JSON, exit codes, progress, one transaction) and export details (BOM, headers, formulas)."""

from __future__ import annotations

import csv
import json
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from geoplatform.io import references, writer
from geoplatform.io.export import table_frame, write_file
from geoplatform.io.importer import import_file
from geoplatform.models import Compound
from tests.io.conftest import db_checksum
from tests.io.corpus import CORPUS, P1, P3, write_csv


def test_json_success_is_one_document(seeded_url, cli_run, tmp_path):
    path = write_csv(tmp_path / "one.csv", [["小区编号", "小区名称", "所属街道", "经度", "纬度"],
                                            ["CLI-1", "命令行小区", "少先路街道办事处", *P1]])
    res = cli_run(seeded_url, "import", "compounds", str(path), "--crs", "wgs84", "--json", "--dry-run")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["imported"] == 1 and doc["errors"] == [] and doc["kind"] == "compounds"


def test_progress_bar_on_big_files(seeded_url, cli_run, tmp_path):
    rows = [["小区名称", "所属街道", "经度", "纬度"]] + [[f"进度{i}", "少先路", P1[0] + i * 1e-6, P1[1]] for i in range(2500)]
    path = write_csv(tmp_path / "big.csv", rows)
    res = cli_run(seeded_url, "import", "compounds", str(path), "--crs", "wgs84", "--dry-run", "--json")
    assert res.exit_code == 0, res.stderr
    assert "checking" in res.stderr
    assert json.loads(res.stdout)["inserted"] == 2500


def test_failure_while_writing_leaves_nothing(seeded_ctx, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "w.csv", [["小区名称", "所属街道", "经度", "纬度"], ["写一半", "少先路", *P1],
                                          ["写另一半", "少先路", *P3]])
    before = db_checksum(seeded_ctx)
    original = writer.write_rows

    def write_then_fail(job, user):  # noqa: ANN001, ANN202
        original(job, user)
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer, "write_rows", write_then_fail)
    with pytest.raises(RuntimeError):
        import_file(seeded_ctx, "compounds", path, crs="wgs84")
    assert db_checksum(seeded_ctx) == before


def test_gbk_shapefile_with_encoding_and_gpkg_layer(seeded_ctx, tmp_path):
    gbk = next(b for b in CORPUS if b.name == "gbk_shapefile_without_cpg").build(tmp_path)
    rep = import_file(seeded_ctx, "compounds", gbk, encoding="gbk")
    assert rep.imported == 1
    with seeded_ctx.session(readonly=True) as s:
        assert s.execute(select(Compound.street_code).where(Compound.name == "阳光花园")).scalar_one() == "150203001"
    two = next(b for b in CORPUS if b.name == "gpkg_two_layers").build(tmp_path)
    rep2 = import_file(seeded_ctx, "compounds", two, layer="two", upsert=True)
    assert rep2.ok and rep2.imported == 1 and any("street assigned by location" in w for w in rep2.warnings)


def test_csv_and_xlsx_exports_neutralise_formulas_and_round_trip(seeded_ctx, tmp_path):
    evil = "=HYPERLINK(\"http://x\",\"点我\")"
    path = write_csv(tmp_path / "evil.csv", [["小区编号", "小区名称", "所属街道", "经度", "纬度", "地址"],
                                             ["EVIL-1", "'" + evil, "少先路", *P1, "@SUM(1+1)"]])
    assert import_file(seeded_ctx, "compounds", path, crs="wgs84").imported == 1
    with seeded_ctx.session(readonly=True) as s:
        frame = table_frame(s, "compound")
    frame = frame[frame["id"] == "EVIL-1"]
    assert frame.iloc[0]["name"] == evil and frame.iloc[0]["address"] == "@SUM(1+1)"
    out_csv, out_xlsx = tmp_path / "out.csv", tmp_path / "out.xlsx"
    write_file(frame, out_csv, "csv", table="compound")
    write_file(frame, out_xlsx, "xlsx", table="compound")
    raw = out_csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:4] == ["小区编号", "小区名称", "别名", "所属街道"]
    cells = [c for r in rows[1:] for c in r]
    assert "'" + evil in cells and "'@SUM(1+1)" in cells and evil not in cells
    ws = load_workbook(out_xlsx).active
    values = [c.value for r in ws.iter_rows() for c in r]
    assert "'" + evil in values and all(not (isinstance(v, str) and v.startswith(("=", "@"))) for v in values)
    assert ws.cell(1, 2).value == "小区名称"


def test_shapefile_export_is_a_zip_with_cpg(demo_ctx, tmp_path):
    with demo_ctx.session(readonly=True) as s:
        frame = table_frame(s, "compound", "150203006")
    out = tmp_path / "c.zip"
    write_file(frame, out, "shp", table="compound")
    names = zipfile.ZipFile(out).namelist()
    assert {"compound.shp", "compound.shx", "compound.dbf", "compound.prj", "compound.cpg"} <= set(names)
    assert zipfile.ZipFile(out).read("compound.cpg").strip().upper() in (b"UTF-8", b"UTF8")


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "csv", "xlsx"])
def test_export_command_every_format(demo_url, cli_run, tmp_path, fmt):
    out = tmp_path / f"b.{fmt}"
    res = cli_run(demo_url, "export", "building", "--format", fmt, "-o", str(out), "--street", "昆北", "--json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["rows"] > 0 and out.stat().st_size > 0


def test_xlsx_sheet_picked_by_name(seeded_ctx, tmp_path):
    two = next(b for b in CORPUS if b.name == "xlsx_two_sheets").build(tmp_path)
    rep = import_file(seeded_ctx, "compounds", two, sheet="另一表", crs="wgs84", dry_run=True)
    assert rep.ok and rep.inserted == 1 and "另一表" in " ".join(rep.warnings)


def test_human_output_lists_every_problem_and_one_stderr_line(seeded_url, cli_run, tmp_path):
    path = write_csv(tmp_path / "two_bad.csv", [["小区名称", "所属街道", "经度", "纬度", "户数"],
                                                ["甲", "少先路", *P1, -1], ["乙", "火星街道", *P3, 5]])
    res = cli_run(seeded_url, "import", "compounds", str(path), "--crs", "wgs84")
    assert res.exit_code == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "two_bad.csv row 2, column 户数" in res.stderr
    assert "two_bad.csv row 2, column 户数" in res.stdout and "two_bad.csv row 3, column 所属街道" in res.stdout


def test_gbk_shapefile_with_cpg_needs_no_option(seeded_ctx, tmp_path):
    import geopandas as gpd
    import shapely

    from tests.io.corpus import shapefile_zip, square

    gdf = gpd.GeoDataFrame({"名称": ["白云雅居"], "街道": ["白云路街道"]},
                           geometry=[shapely.Polygon(square(P3[0] + 0.002, P3[1])[0])], crs=4326)
    z = shapefile_zip(tmp_path / "gbk_cpg.zip", gdf, encoding="GBK")
    assert zipfile.ZipFile(z).read("data.cpg").strip()
    rep = import_file(seeded_ctx, "compounds", z, dry_run=True)
    assert rep.ok and rep.inserted == 1


def test_database_refusal_is_a_clean_error(seeded_ctx, tmp_path, monkeypatch):
    """A row the database refuses at write time (here: a key check bypassed) rolls back and reports cleanly."""
    from geoplatform.io.report import ImportFailed

    with seeded_ctx.session(readonly=True) as s:
        existing = s.execute(select(Compound.id).limit(1)).scalar_one()
    path = write_csv(tmp_path / "race.csv", [["小区编号", "小区名称", "所属街道", "经度", "纬度"],
                                             [existing, "抢先小区", "少先路", *P1]])
    monkeypatch.setattr(references, "check_keys", lambda job: None)
    before = db_checksum(seeded_ctx)
    with pytest.raises(ImportFailed, match="refused the rows"):
        import_file(seeded_ctx, "compounds", path, crs="wgs84")
    assert db_checksum(seeded_ctx) == before


@pytest.mark.parametrize("kind", ["compound", "handover-ledger"])
def test_export_to_a_missing_folder_or_unwritable_file_is_one_clean_line(demo_url, cli_run, tmp_path, kind):
    """A typo in -o is a user error (exit 2, one stderr line naming the file), not a traceback."""
    out = tmp_path / "no" / "such" / "x.xlsx"
    res = cli_run(demo_url, "export", kind, "--format", "xlsx", "-o", str(out))
    assert res.exit_code == 2, res.stderr
    assert "Traceback" not in res.stderr and str(out) in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not out.parent.exists()
    blocked = tmp_path / "dir.xlsx"
    blocked.mkdir()  # the path is a folder: opening it for writing fails with an OSError
    res = cli_run(demo_url, "export", kind, "--format", "xlsx", "-o", str(blocked))
    assert res.exit_code == 2 and "Traceback" not in res.stderr and str(blocked) in res.stderr, res.stderr


def test_export_never_replaces_a_file_unless_asked(demo_url, cli_run, tmp_path):
    """An existing output is refused (a GeoPackage with other layers would lose them all); --overwrite replaces it."""
    import pyogrio

    mine = tmp_path / "project.gpkg"
    assert cli_run(demo_url, "export", "building", "--format", "gpkg", "-o", str(mine)).exit_code == 0
    before = mine.read_bytes()
    res = cli_run(demo_url, "export", "compound", "--format", "gpkg", "-o", str(mine))
    assert res.exit_code == 2 and str(mine) in res.stderr and "--overwrite" in res.stderr, res.stderr
    assert mine.read_bytes() == before and [n for n, _ in pyogrio.list_layers(mine)] == ["building"]
    res = cli_run(demo_url, "export", "compound", "--format", "gpkg", "-o", str(mine), "--overwrite")
    assert res.exit_code == 0, res.stderr
    assert "compound" in [n for n, _ in pyogrio.list_layers(mine)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project.gpkg"]  # no temporary file left


def test_a_failed_export_leaves_the_old_file_and_no_partial_one(demo_ctx, tmp_path, monkeypatch):
    """The file is written under a temporary name and renamed at the end: a write that fails half way (disk full)
    leaves the file it was to replace as it was, and nothing else."""
    from geoplatform.errors import UserInputError
    from geoplatform.io import export

    old = tmp_path / "c.csv"
    old.write_text("mine")

    def half_then_full(frame, path, fmt, table=None):  # noqa: ANN001, ANN202
        open(path, "w").write("half")  # noqa: SIM115
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "write_file", half_then_full)
    with pytest.raises(UserInputError) as err:
        export.export_to_file(demo_ctx, "compound", "csv", old, overwrite=True)
    assert err.value.message.key == "export.write_failed" and "No space left" in str(err.value)
    assert old.read_text() == "mine" and [p.name for p in tmp_path.iterdir()] == ["c.csv"]
