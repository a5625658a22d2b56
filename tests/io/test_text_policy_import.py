"""Issue 25 item 4 for imports: a NUL character (U+0000) in a cell is an error naming row and column on both
databases, in a dry run as in the commit (SQLite would store it, PostgreSQL refuse it only at commit)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from geoplatform import models as m
from geoplatform.io.importer import import_file
from geoplatform.io.report import ImportFailed
from tests.io.corpus import write_csv

BOX = "POLYGON ((109.8 40.62, 109.801 40.62, 109.801 40.621, 109.8 40.621, 109.8 40.62))"


@pytest.mark.parametrize("dry_run", [True, False])
def test_import_refuses_nul_in_a_cell_on_both_databases(seeded_ctx, tmp_path, dry_run) -> None:  # noqa: ANN001
    path = write_csv(tmp_path / "nul.csv", [["小区编号", "小区名称", "所属街道", "边界"],
                                            ["NUL-1", "好小区", "少先路", BOX],
                                            ["NUL-2", "坏\x00小区", "少先路", BOX]])
    with pytest.raises(ImportFailed) as exc:
        import_file(seeded_ctx, "compounds", path, crs="wgs84", dry_run=dry_run)
    errors = exc.value.report.as_dict("zh")["errors"]
    assert [(e["where"], e["key"]) for e in errors] == [("nul.csv 第3行，「小区名称」列", "import.text.nul")]
    assert "NUL 字符（U+0000）" in errors[0]["message"]
    with seeded_ctx.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(m.Compound).where(m.Compound.id.like("NUL-%"))) == 0
