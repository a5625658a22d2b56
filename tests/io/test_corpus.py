"""Every file of the bad corpus is refused with a clear error and leaves both databases exactly as before."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from geoplatform.io.importer import import_file
from geoplatform.io.report import ImportFailed
from geoplatform.models import Compound
from tests.io.conftest import db_checksum
from tests.io.corpus import CORPUS

assert len(CORPUS) >= 30


def _build(bad, tmp_path, ctx):  # noqa: ANN001, ANN202
    path = bad.build(tmp_path)
    if "@EXISTING" in path.read_text(errors="ignore") if path.suffix == ".csv" else False:
        with ctx.session(readonly=True) as s:
            existing = s.execute(select(Compound.id).limit(1)).scalar_one()
        path.write_text(path.read_text().replace("@EXISTING", existing), encoding="utf-8")
    return path


@pytest.mark.parametrize("bad", CORPUS, ids=[b.name for b in CORPUS])
def test_bad_file_is_refused_and_db_unchanged(bad, seeded_url, seeded_ctx, cli_run, tmp_path):
    before = db_checksum(seeded_ctx)
    path = _build(bad, tmp_path, seeded_ctx)
    if bad.limits is not None:
        with pytest.raises(ImportFailed) as info:
            import_file(seeded_ctx, bad.kind, path, limits=bad.limits)
        report = info.value.report.as_dict()
    else:
        res = cli_run(seeded_url, "import", bad.kind, str(path), "--json", *bad.args)
        assert res.exit_code == 2, (res.stdout, res.stderr)
        report = json.loads(res.stdout)
        lines = [ln for ln in res.stderr.splitlines() if ln.startswith("错误 / error")]
        assert len(lines) == 1 and bad.expect in lines[0] or any(bad.expect in e["message"] for e in report["errors"])
    assert report["kind"] == bad.kind and report["imported"] == 0
    messages = " | ".join(e["message"] for e in report["errors"])
    assert bad.expect in messages, messages
    assert all(e["where"] for e in report["errors"])
    assert db_checksum(seeded_ctx) == before
    leftovers = [p for p in tmp_path.glob("geoplatform-import-*")]
    assert not leftovers


def test_report_lists_every_problem_with_row_and_column(seeded_ctx, tmp_path):
    from tests.io.corpus import P1, P3, write_csv

    path = write_csv(tmp_path / "ledger.csv", [
        ["小区名称", "所属街道", "经度", "纬度", "户数", "建成年份"],
        ["甲", "少先路", *P1, -3, 1990],
        ["乙", "火星街道", *P3, 100, 2999],
        ["丙", "少先路", *P1, "很多", 1990],
    ])
    with pytest.raises(ImportFailed) as info:
        import_file(seeded_ctx, "compounds", path)
    where = [e.where for e in info.value.report.errors]
    assert "ledger.csv row 2, column 户数" in where
    assert "ledger.csv row 3, column 建成年份" in where
    assert "ledger.csv row 3, column 所属街道" in where
    assert "ledger.csv row 4, column 户数" in where


def test_temp_files_are_cleaned(seeded_ctx, tmp_path, monkeypatch):
    import tempfile

    from tests.io.corpus import CORPUS as C

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    bad = next(b for b in C if b.name == "several_shapefiles")
    path = bad.build(tmp_path / "src" if (tmp_path / "src").mkdir() is None else tmp_path)
    with pytest.raises(ImportFailed):
        import_file(seeded_ctx, "compounds", path)
    assert not list(tmp_path.glob("geoplatform-import-*"))
