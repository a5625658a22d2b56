"""Good files in every format and coordinate system import to within 1 m of where they belong."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from openpyxl import Workbook
from pyproj import Transformer
from sqlalchemy import func, select

from geoplatform.crs import from_wgs84, parse_crs
from geoplatform.io.importer import import_file
from geoplatform.models import AuditEvent, Building, Compound
from geoplatform.store import read_frame
from tests.io.corpus import P1, P2, P3, shapefile_zip, write_csv

TO_M = Transformer.from_crs(4326, 4546, always_xy=True)
TRUTH = [shapely.box(x, y, x + 0.0012, y + 0.0009) for x, y in (P1, P2, P3)]
STREETS = ["少先路街道", "150203006", "沼潭"]  # code, full name and name core all match


def metres(a: shapely.Geometry, b: shapely.Geometry) -> float:
    """Hausdorff distance in metres (CGCS2000 GK CM 111°E)."""
    fn = lambda xy: np.column_stack(TO_M.transform(xy[:, 0], xy[:, 1]))  # noqa: E731
    return shapely.hausdorff_distance(shapely.transform(a, fn), shapely.transform(b, fn))


def _write(fmt: str, crs: str, tmp: Path, ids: list[str]) -> tuple[Path, list[str]]:
    """The three truth compounds in `crs`, written as `fmt`; returns the file and the extra CLI args."""
    src = parse_crs(crs)
    geoms = from_wgs84(np.array(TRUTH, dtype=object), src) if crs != "EPSG:4326" else np.array(TRUTH, dtype=object)
    names = [f"{i}小区" for i in ids]
    declared = src.crs is not None and not src.is_wgs84
    args = [] if crs == "EPSG:4326" else ["--crs", crs]
    if fmt in ("gpkg", "shp"):
        # shapefile field names hold ≤ 10 bytes: 3 Chinese characters in UTF-8
        gdf = gpd.GeoDataFrame({"id": ids, "名称": names, "街道": STREETS}, geometry=list(geoms),
                               crs=src.crs.to_epsg() if declared else 4326)
        if declared:
            args = []  # the .prj / GeoPackage says it
        if fmt == "gpkg":
            p = tmp / "good.gpkg"
            gdf.to_file(p, driver="GPKG", engine="pyogrio")
            return p, args
        return shapefile_zip(tmp / "good.zip", gdf, "compounds"), args
    if fmt == "geojson":
        feats = [{"type": "Feature", "properties": {"id": i, "name": n, "street": s},
                  "geometry": json.loads(shapely.to_geojson(g))} for i, n, s, g in zip(ids, names, STREETS, geoms,
                                                                                       strict=True)]
        doc: dict = {"type": "FeatureCollection", "features": feats}
        if declared:
            doc["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{src.crs.to_epsg()}"}}
            args = []
        p = tmp / "good.geojson"
        p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        return p, args
    rows = [["小区编号", "小区名称", "所属街道", "边界"]] + [
        [i, n, s, shapely.to_wkt(g, rounding_precision=-1)] for i, n, s, g in zip(ids, names, STREETS, geoms,
                                                                                   strict=True)]
    if fmt == "csv":
        return write_csv(tmp / "good.csv", rows), args
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    p = tmp / "good.xlsx"
    wb.save(p)
    return p, args


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:4546", "EPSG:4547", "gcj02", "bd09"])
@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "csv", "xlsx"])
def test_good_file_lands_within_one_metre(fmt, crs, seeded_ctx, tmp_path):
    tag = f"T{fmt}{crs.replace(':', '')}"
    ids = [f"{tag}-{n}" for n in range(3)]
    path, args = _write(fmt, crs, tmp_path, ids)
    kw = {"crs": args[1]} if args else {"crs": "wgs84"} if fmt in ("csv", "xlsx") else {}  # CSV/XLSX: chosen
    report = import_file(seeded_ctx, "compounds", path, **kw)
    assert report.imported == 3, report.as_dict()
    with seeded_ctx.session(readonly=True) as s:
        got = read_frame(s, "compound", where=[Compound.id.in_(ids)])
        for i, truth in zip(ids, TRUTH, strict=True):
            assert metres(got.loc[i, "boundary"], shapely.MultiPolygon([truth])) < 1.0
        assert set(got["street_code"]) == {"150203001", "150203006", "150203003"}
        audits = s.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "import", AuditEvent.after.is_not(None))).scalar_one()
        assert audits >= 1


def test_gcj02_district_outline_from_amap(ctx, tmp_path):
    src = Path(__file__).resolve().parents[3] / "shared" / "data" / "baotou_districts_amap_wgs84.geojson"
    if not src.exists():
        pytest.skip("reference data ../shared/data absent")
    doc = json.loads(src.read_text(encoding="utf-8"))
    feat = next(f for f in doc["features"] if "150203" in json.dumps(f["properties"], ensure_ascii=False)
                or "昆都仑" in json.dumps(f["properties"], ensure_ascii=False))
    truth = shapely.geometry.shape(feat["geometry"])
    gcj = from_wgs84(np.array([truth], dtype=object), parse_crs("gcj02"))[0]
    path = tmp_path / "kundulun_amap_gcj02.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"adcode": 150203, "name": "昆都仑区"},
         "geometry": json.loads(shapely.to_geojson(gcj))}]}, ensure_ascii=False), encoding="utf-8")
    report = import_file(ctx, "district", path, crs="gcj02")
    assert report.imported == 1
    with ctx.session(readonly=True) as s:
        got = read_frame(s, "district")
    assert got.iloc[0]["code"] == "150203"
    assert metres(got.iloc[0]["geom"], truth) < 1.0
    # the shift GCJ-02 applies here is several hundred metres: not converting would be visibly wrong
    assert metres(gcj, truth) > 100


def test_gbk_csv_ledger_as_a_new_user_has_it(seeded_ctx, tmp_path):
    """An Excel ledger saved as GBK CSV: title row, Chinese headers/values, AMap points, no id column."""
    pts = from_wgs84(np.array([shapely.Point(P1), shapely.Point(P2), shapely.Point(P3)], dtype=object),
                     parse_crs("gcj02"))
    rows = [["昆都仑区老旧小区台账（2024年）", "", "", "", "", "", "", "", "", ""],
            ["序号", "小区名称", "所属街道", "经度", "纬度", "户数", "建成年份", "建筑面积（㎡）", "物业服务方式", "合同到期"],
            [1, "鹿城新苑", "少先路街道办事处", pts[0].x, pts[0].y, "1,234", 1998, "88,000.5", "专业化物业", "2026年3月1日"],
            [2, "钢苑小区", "阿尔丁大街", pts[1].x, pts[1].y, "56", "2003", "4500", "无物业", "2019/3/1"],
            [3, "沼潭一号院", "150203003", pts[2].x, pts[2].y, "300", "1985", "", "community_managed", "2019-03-01"]]
    path = write_csv(tmp_path / "台账.csv", rows, encoding="gbk")
    report = import_file(seeded_ctx, "compounds", path, crs="gcj02")
    assert report.imported == 3, report.as_dict()
    text = " ".join(report.warnings)
    assert "GB18030" in text and "boundary missing" in text and "stable ids" in text
    with seeded_ctx.session(readonly=True) as s:
        got = read_frame(s, "compound", where=[Compound.name.in_(["鹿城新苑", "钢苑小区", "沼潭一号院"])])
    got = got.set_index("name")
    assert got.loc["鹿城新苑", "households"] == 1234 and got.loc["鹿城新苑", "floor_area_m2"] == 88000.5
    assert got.loc["鹿城新苑", "management_mode"] == "professional"
    assert str(got.loc["钢苑小区", "contract_end"]) == "2019-03-01"
    assert got.loc["沼潭一号院", "street_code"] == "150203003"
    assert got["boundary"].isna().all()
    for name, truth in zip(["鹿城新苑", "钢苑小区", "沼潭一号院"], (P1, P2, P3), strict=True):
        assert metres(got.loc[name, "location"], shapely.Point(truth)) < 1.0
    # the same ledger again: recognised by street + name → refused as duplicates unless --upsert
    from geoplatform.io.report import ImportFailed

    with pytest.raises(ImportFailed, match="already stored as compound"):
        import_file(seeded_ctx, "compounds", path, crs="gcj02")
    again = import_file(seeded_ctx, "compounds", path, crs="gcj02", upsert=True)
    assert again.updated == 3 and again.inserted == 0
    with seeded_ctx.session(readonly=True) as s:
        versions = s.execute(select(Compound.version).where(Compound.name == "鹿城新苑")).scalars().all()
        after, before = s.execute(select(AuditEvent.after, AuditEvent.before).where(
            AuditEvent.action == "import", AuditEvent.entity == "compound").order_by(AuditEvent.id.desc())).first()
    assert versions == [2]
    assert after["updated"] == 3 and before["count"] == 3


def test_dry_run_writes_nothing(seeded_ctx, tmp_path, monkeypatch):
    from tests.io.conftest import db_checksum

    monkeypatch.setattr(seeded_ctx.config, "rules", {"import": {"match_radius_m": 0}})  # P1 holds an earlier row

    path = write_csv(tmp_path / "dry.csv", [["小区名称", "所属街道", "经度", "纬度"], ["试运行小区", "少先路", *P1]])
    before = db_checksum(seeded_ctx)
    report = import_file(seeded_ctx, "compounds", path, crs="wgs84", dry_run=True)
    assert report.dry_run and report.inserted == 1 and report.ok
    assert db_checksum(seeded_ctx) == before


def test_street_by_location_and_buildings_by_containment(seeded_ctx, tmp_path):
    """No street column → point in street polygon; buildings without compound → the compound containing them."""
    with seeded_ctx.session(readonly=True) as s:
        comps = read_frame(s, "compound")
    host = comps[comps["boundary"].notna()].iloc[0]
    inner = host["boundary"].buffer(-0.0001).envelope.intersection(host["boundary"])
    small = shapely.box(*shapely.Point(inner.representative_point()).buffer(0.00005).bounds)
    path = tmp_path / "b.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"楼栋编号": "TB-1", "层数": 6},
         "geometry": json.loads(shapely.to_geojson(small))}]}), encoding="utf-8")
    report = import_file(seeded_ctx, "buildings", path)
    assert report.imported == 1 and any("containing them" in w for w in report.warnings)
    with seeded_ctx.session(readonly=True) as s:
        b = s.execute(select(Building.compound_id, Building.street_code).where(Building.id == "TB-1")).one()
    assert tuple(b) == (host["id"], host["street_code"])
    p2 = write_csv(tmp_path / "nostreet.csv", [["小区编号", "小区名称", "经度", "纬度"],
                                               ["TS-1", "无街道小区", *host["location"].coords[0]]])
    rep2 = import_file(seeded_ctx, "compounds", p2, crs="wgs84")
    assert any("street assigned by location" in w for w in rep2.warnings)
    with seeded_ctx.session(readonly=True) as s:
        assert s.execute(select(Compound.street_code).where(Compound.id == "TS-1")).scalar_one() == host["street_code"]


def test_three_d_is_dropped_with_a_warning_and_bare_forms_accepted(seeded_ctx, tmp_path):
    ring = [[P3[0], P3[1], 10.0], [P3[0] + 0.0002, P3[1], 10.0], [P3[0] + 0.0002, P3[1] + 0.0002, 10.0],
            [P3[0], P3[1], 10.0]]
    bare_geom = tmp_path / "bare.geojson"
    bare_geom.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}), encoding="utf-8")
    r1 = import_file(seeded_ctx, "buildings", bare_geom)
    assert r1.imported == 1 and any("Z/M" in w for w in r1.warnings)
    arr = tmp_path / "array.geojson"
    ring2 = [[x + 0.0005, y] for x, y, _ in ring]
    arr.write_text(json.dumps([{"type": "Feature", "properties": {"id": "TB-ARR"},
                                "geometry": {"type": "Polygon", "coordinates": [ring2]}}]), encoding="utf-8")
    assert import_file(seeded_ctx, "buildings", arr).imported == 1


def test_repair_lists_every_repair(seeded_ctx, tmp_path):
    from tests.io.corpus import BOWTIE

    bow = [[[x + 0.003, y] for x, y in BOWTIE[0]]]
    path = tmp_path / "bow.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "TB-BOW"}, "geometry": {"type": "Polygon", "coordinates": bow}}]}),
        encoding="utf-8")
    report = import_file(seeded_ctx, "buildings", path, repair=True)
    assert report.imported == 1
    assert any("repaired (Self-intersection" in w and "feature 1" in w for w in report.warnings)
    with seeded_ctx.session(readonly=True) as s:
        g = read_frame(s, "building", where=[Building.id == "TB-BOW"]).iloc[0]["geom"]
    assert g.is_valid and g.geom_type == "MultiPolygon" and len(g.geoms) == 2


def test_upsert_of_a_point_ledger_keeps_stored_boundaries(seeded_ctx, tmp_path):
    with seeded_ctx.session(readonly=True) as s:
        comps = read_frame(s, "compound")
    c = comps[comps["boundary"].notna()].iloc[-1]
    p = c["boundary"].representative_point()
    path = write_csv(tmp_path / "pts.csv", [["小区编号", "小区名称", "所属街道", "经度", "纬度", "户数"],
                                            [c["id"], c["name"], c["street_code"], p.x, p.y, 777]])
    rep = import_file(seeded_ctx, "compounds", path, crs="wgs84", upsert=True)
    assert rep.updated == 1
    with seeded_ctx.session(readonly=True) as s:
        got = read_frame(s, "compound", where=[Compound.id == c["id"]]).iloc[0]
    assert got["households"] == 777 and got["boundary"] is not None
    assert shapely.equals_exact(got["boundary"], c["boundary"], 1e-12) and got["location"].distance(p) < 1e-9
