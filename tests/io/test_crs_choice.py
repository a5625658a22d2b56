"""Coordinate systems are chosen, never guessed (issue 17, point 2): a CSV/XLSX needs --crs (and says why), a
GeoJSON is WGS-84 by its standard (with a warning), and a choice the district's edge contradicts is refused with
the system that fits. Pure checks table-driven; the importer on both databases."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from geoplatform.crs import from_wgs84, parse_crs
from geoplatform.io.crs_choice import check_choice, gcj_shift_m
from geoplatform.io.importer import import_file
from geoplatform.io.report import ImportFailed
from geoplatform.streets import district_outline
from tests.io.corpus import P1, P2, fc, feature, write_csv, write_json
from tests.support.ledger import edge_points

OUTLINE = district_outline(None)
EDGE = edge_points(None, 3)  # inside, but their GCJ-02 coordinates read as WGS-84 are outside


def _as(points: list[shapely.Point], crs: str) -> np.ndarray:
    """The coordinates a file in `crs` would hold for these WGS-84 points."""
    arr = np.array(points, dtype=object) if crs == "wgs84" else from_wgs84(np.array(points, dtype=object),
                                                                          parse_crs(crs))
    return shapely.get_coordinates(arr)


def test_the_gcj_shift_here_is_about_500_m() -> None:
    assert 300 < gcj_shift_m(OUTLINE) < 700


@pytest.mark.parametrize("written,chosen,refused,suggests", [
    ("wgs84", "wgs84", False, ()),
    ("gcj02", "gcj02", False, ()),
    ("bd09", "bd09", False, ()),
    ("gcj02", "wgs84", True, ("gcj02",)),  # the trap of the issue: AMap points taken as WGS-84
    ("bd09", "wgs84", True, ("bd09",)),
    ("bd09", "gcj02", True, ("bd09",)),
])
def test_check_choice_at_the_edge(written: str, chosen: str, refused: bool, suggests: tuple[str, ...]) -> None:
    interior = [shapely.Point(P1), shapely.Point(P2)]
    xy = _as(EDGE + interior, written)
    check = check_choice(xy[:, 0], xy[:, 1], chosen, OUTLINE)
    assert check.refused == refused
    if refused:
        assert written in check.suggestions and set(check.suggestions) <= {*suggests, "wgs84", "gcj02", "bd09"}
        assert not check.outside[len(EDGE):].any()  # the interior points say nothing
    else:
        assert not check.outside.any()


def test_far_outside_is_no_mixup() -> None:
    far = shapely.Point(OUTLINE.bounds[2] + 0.03, OUTLINE.centroid.y)  # ≈ 2.5 km east of the district
    xy = _as([far, shapely.Point(P1)], "wgs84")
    check = check_choice(xy[:, 0], xy[:, 1], "wgs84", OUTLINE)
    assert check.far.tolist() == [True, False] and not check.suggestions


def test_csv_needs_a_chosen_system(seeded_url, cli_run, tmp_path) -> None:
    path = write_csv(tmp_path / "l.csv", [["小区名称", "所属街道", "经度", "纬度"], ["甲", "少先路", *P1]])
    res = cli_run(seeded_url, "import", "compounds", str(path), "--dry-run")
    assert res.exit_code == 2
    assert "cannot say which coordinate system" in res.stderr and "--crs wgs84 | gcj02 | bd09" in res.stderr
    assert "500 m" in res.stderr  # why: a wrong guess moves every point


def test_geojson_is_wgs84_by_its_standard(seeded_ctx, tmp_path) -> None:
    path = write_json(tmp_path / "g.geojson", fc(feature({"type": "Point", "coordinates": list(P1)}, name="标准点",
                                                          street_code="150203001")))
    rep = import_file(seeded_ctx, "compounds", path, dry_run=True)
    assert rep.ok and any("RFC 7946" in w for w in rep.warnings)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_gcj_ledger_chosen_as_wgs84_is_refused_with_the_suggestion(seeded_ctx, tmp_path, fmt: str) -> None:
    xy = _as(EDGE + [shapely.Point(P2)], "gcj02")
    rows = [["小区名称", "所属街道", "经度", "纬度"]] + [[f"边缘{i}", "少先路", x, y] for i, (x, y) in enumerate(xy)]
    if fmt == "csv":
        path = write_csv(tmp_path / "高德.csv", rows)
    else:
        from openpyxl import Workbook

        wb = Workbook()
        for r in rows:
            wb.active.append(r)
        path = tmp_path / "高德.xlsx"
        wb.save(path)
    with pytest.raises(ImportFailed) as exc:
        import_file(seeded_ctx, "compounds", path, crs="wgs84", dry_run=True)
    doc = exc.value.report.as_dict("zh")
    (err,) = [e for e in doc["errors"] if e["key"] == "import.crs.choice_refused"]
    assert "GCJ-02（高德、腾讯）" in err["message"] and "请选择该坐标系后重新导入" in err["message"]
    assert "第 2, 3, 4 行" in err["message"]
    rep = import_file(seeded_ctx, "compounds", path, crs="gcj02", dry_run=True)  # the right choice passes
    assert rep.ok and rep.inserted == 4


def test_cli_refusal_is_one_line_exit_2(seeded_url, cli_run, tmp_path) -> None:
    xy = _as(EDGE, "bd09")
    path = write_csv(tmp_path / "百度.csv", [["小区名称", "所属街道", "经度", "纬度"]] +
                     [[f"百度{i}", "少先路", x, y] for i, (x, y) in enumerate(xy)])
    res = cli_run(seeded_url, "import", "compounds", str(path), "--crs", "gcj02", "--dry-run", "--json")
    assert res.exit_code == 2
    keys = [e["key"] for e in json.loads(res.stdout)["errors"]]
    assert keys == ["import.crs.choice_refused"]
    assert "BD-09" in json.loads(res.stdout)["errors"][0]["message"]
