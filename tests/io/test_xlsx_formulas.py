"""Issue 25 item 8: XLSX formula cells import their calculated (cached) value; a formula without one is an error
naming the file, row and column — never an empty cell, and a row whose only cell is such a formula is not skipped."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from geoplatform.io.importer import import_file
from geoplatform.io.readers import read_xlsx
from geoplatform.io.report import ImportFailed

HEADER = ["小区编号", "小区名称", "所属街道", "边界", "户数"]
BOX = "POLYGON ((109.8 40.62, 109.801 40.62, 109.801 40.621, 109.8 40.621, 109.8 40.62))"


def _cache(path: Path, values: dict[str, str]) -> None:
    """Give some formula cells a calculated value, as Excel stores it (openpyxl writes formulas without one)."""
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    for ref, value in values.items():
        kind = "" if value.isdigit() else ' t="str"'  # a text result is typed so; a number is not
        xml, n = re.subn(rf'<c r="{ref}"([^>]*)>(<f>[^<]*</f>)(?:<v\s*/>|<v></v>)',
                         lambda m, v=value, k=kind, r=ref: f'<c r="{r}"{m.group(1)}{k}>{m.group(2)}<v>{v}</v>', xml)
        assert n == 1, ref
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def workbook(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["XF-1", "公式一小区", "少先路", BOX, "=10*5"])  # calculated: 50
    ws.append(["XF-2", "公式二小区", "少先路", BOX, "=B2*2"])  # never calculated
    ws.append(["=A2"])  # the row's only cell: a formula never calculated
    ws.append(["XF-3", "=\"公式\"&\"三\"", "少先路", BOX, 12])  # calculated text
    wb.save(path)
    _cache(path, {"E2": "50", "B5": "公式三"})
    return path


def test_reader_uses_cached_values_and_lists_formulas_without_one(tmp_path) -> None:
    t = read_xlsx(workbook(tmp_path / "公式.xlsx"))
    assert list(t.frame["户数"])[0] == 50 and list(t.frame["小区名称"])[-1] == "公式三"
    where = sorted(w.text("en") for w, _ in t.problems)
    assert where == ["公式.xlsx row 3, column 户数", "公式.xlsx row 4, column 小区编号"]
    assert all(m.key == "import.xlsx.formula_no_value" for _, m in t.problems)


@pytest.mark.parametrize("seeded_url", ["sqlite"], indirect=True)  # the reader's errors: one backend is enough
def test_import_dry_run_reports_each_uncalculated_formula(seeded_ctx, tmp_path) -> None:
    path = workbook(tmp_path / "公式.xlsx")
    with pytest.raises(ImportFailed) as exc:
        import_file(seeded_ctx, "compounds", path, crs="wgs84", dry_run=True)
    errors = exc.value.report.as_dict("zh")["errors"]
    got = {(e["where"], e["key"]) for e in errors}
    assert got == {("公式.xlsx 第3行，「户数」列", "import.xlsx.formula_no_value"),
                   ("公式.xlsx 第4行，「小区编号」列", "import.xlsx.formula_no_value")}
    assert all("没有计算结果" in e["message"] for e in errors)


@pytest.mark.parametrize(("xml", "has"), [
    (b'<c r="A1"><f>1+1</f><v></v></c>', True),
    (b'<x:c r="A1"><x:f t="shared" si="0"/></x:c>', True),  # a prefixed namespace, a shared formula's child
    (b'<c r="A1" t="s"><v>0</v></c><font/><fill/>', False),
    (b" " * ((1 << 20) - 2) + b"<f>A1</f>", True),  # across the 1 MB pieces
])
def test_formula_prescan(tmp_path, xml, has) -> None:
    from geoplatform.io.readers import _has_formula

    with zipfile.ZipFile(tmp_path / "s.zip", "w") as zf:
        zf.writestr("sheet.xml", xml)
    with zipfile.ZipFile(tmp_path / "s.zip") as zf:
        assert _has_formula(zf, "sheet.xml") is has
