"""Zip and size limits, unit-tested with small caps (no database)."""

from __future__ import annotations

import json
import zipfile

import pytest

from geoplatform.io.importer import import_file
from geoplatform.io.limits import FileProblem, Limits, check_size, safe_extract
from geoplatform.io.report import ImportFailed


def _zip(path, members):  # noqa: ANN001, ANN202
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(("members", "limits", "expect"), [
    ([("a.csv", b"x" * 5000)], Limits(max_unzipped_bytes=1000), "declares"),
    ([(f"f{i}", b"x") for i in range(5)], Limits(max_zip_members=3), "entries"),
    ([("big.csv", b"0" * 20_000_000)], Limits(), "zip bomb"),
    ([("a/../../x", b"x")], Limits(), "zip-slip"),
    ([("C:/win/x", b"x")], Limits(), "absolute"),
])
def test_zip_refusals(tmp_path, members, limits, expect):
    z = _zip(tmp_path / "z.zip", members)
    with pytest.raises(FileProblem, match=expect):
        safe_extract(z, tmp_path / "out", limits)


def test_safe_extract_extracts_inside(tmp_path):
    z = _zip(tmp_path / "ok.zip", [("dir/a.txt", b"hello"), ("b.txt", b"world")])
    files = safe_extract(z, tmp_path / "out", Limits())
    assert sorted(f.read_bytes() for f in files) == [b"hello", b"world"]
    assert all((tmp_path / "out") in f.parents for f in files)


def test_size_cap(tmp_path):
    p = tmp_path / "f.csv"
    p.write_bytes(b"x" * 2000)
    with pytest.raises(FileProblem, match="import limit"):
        check_size(p, Limits(max_file_bytes=1000))


def _lie_about_size(path, declared: int) -> None:  # noqa: ANN001
    """Rewrite the uncompressed size in the local header and central directory (a lying zip)."""
    import struct

    data = bytearray(path.read_bytes())
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, declared)
    struct.pack_into("<I", data, central + 24, declared)
    path.write_bytes(bytes(data))


def test_zip_whose_declared_size_lies_is_refused_while_streaming(tmp_path):
    z = _zip(tmp_path / "liar.zip", [("a.csv", b"0" * 3_000_000)])
    _lie_about_size(z, 1000)
    with zipfile.ZipFile(z) as zf:
        assert zf.infolist()[0].file_size == 1000  # the declared size passes the up-front checks
    with pytest.raises(FileProblem, match="zip bomb|damaged"):
        safe_extract(z, tmp_path / "out", Limits(max_unzipped_bytes=100_000))
    assert not any(f.stat().st_size > 100_000 for f in (tmp_path / "out").rglob("*") if f.is_file())


def _big_polygon_wkt(n: int, lon: float = 109.79, lat: float = 40.622, r: float = 0.002) -> str:
    import math

    ring = [(lon + r * math.cos(2 * math.pi * k / n), lat + r * math.sin(2 * math.pi * k / n)) for k in range(n)]
    ring.append(ring[0])
    return "POLYGON ((" + ", ".join(f"{x:.12f} {y:.12f}" for x, y in ring) + "))"


def test_a_csv_cell_beyond_pythons_csv_limit_imports(seeded_url, cli_run, tmp_path) -> None:
    """Issue 17 point 7: a WKT of ≈ 6,000 vertices (> 131,072 characters) imports; never a traceback."""
    from tests.io.corpus import write_csv

    wkt = _big_polygon_wkt(6000)
    assert len(wkt) > 131_072
    path = write_csv(tmp_path / "big.csv", [["小区编号", "小区名称", "所属街道", "边界"], ["BIG-1", "大边界小区", "少先路", wkt]])
    res = cli_run(seeded_url, "import", "compounds", str(path), "--crs", "wgs84", "--dry-run", "--json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["inserted"] == 1


def test_a_cell_over_the_importers_limit_is_refused_by_line(seeded_ctx, tmp_path) -> None:
    from geoplatform.io.limits import Limits
    from tests.io.corpus import write_csv

    path = write_csv(tmp_path / "big.csv", [["小区编号", "小区名称", "所属街道", "边界"],
                                            ["BIG-2", "大边界小区", "少先路", _big_polygon_wkt(200)]])
    with pytest.raises(ImportFailed) as exc:
        import_file(seeded_ctx, "compounds", path, crs="wgs84", dry_run=True, limits=Limits(max_cell_chars=1000))
    (err,) = exc.value.report.as_dict("en")["errors"]
    assert err["key"] == "import.csv.cell_too_long" and "line 2" in err["message"] and "1,000" in err["message"]
