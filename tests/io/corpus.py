"""The bad-file corpus, built in code: one file per problem the importer must refuse with a clear error."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import shapely
from pyproj import Transformer

from geoplatform.io.limits import Limits

# A few places inside 昆都仑区 (WGS-84): the urban core, by 少先路街道 (150203001) and 阿尔丁大街街道 (150203006).
P1 = (109.790, 40.622)
P2 = (109.800, 40.643)
P3 = (109.812, 40.617)


def square(lon: float, lat: float, d: float = 0.001) -> list[list[list[float]]]:
    """A closed square ring around a point (GeoJSON polygon coordinates)."""
    return [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]]


def feature(geom: dict | None, **props: object) -> dict:
    """A GeoJSON Feature."""
    return {"type": "Feature", "properties": props, "geometry": geom}


def fc(*features: dict, **extra: object) -> dict:
    """A GeoJSON FeatureCollection."""
    return {"type": "FeatureCollection", **extra, "features": list(features)}


def poly(lon: float, lat: float, d: float = 0.001) -> dict:
    """A GeoJSON Polygon around a point."""
    return {"type": "Polygon", "coordinates": square(lon, lat, d)}


def write_json(path: Path, doc: object) -> Path:
    """Dump JSON (allowing NaN) to path."""
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8") -> Path:
    """A CSV from a list of rows (first row = header)."""
    import csv

    buf = io.StringIO()
    csv.writer(buf).writerows([["" if v is None else v for v in r] for r in rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def compound_csv(path: Path, **overrides: object) -> Path:
    """A one-row compound ledger with 小区名称/所属街道/经度/纬度/户数/建成年份 and overrides."""
    row = {"小区名称": "测试小区", "所属街道": "少先路街道", "经度": P1[0], "纬度": P1[1], "户数": 120, "建成年份": 1995}
    row.update(overrides)
    return write_csv(path, [list(row), list(row.values())])


def shapefile_zip(path: Path, gdf: gpd.GeoDataFrame, name: str = "data", *, encoding: str = "UTF-8",
                  drop: tuple[str, ...] = (), extra: dict[str, bytes] | None = None) -> Path:
    """Write a GeoDataFrame as a shapefile and zip its parts (dropping some suffixes, adding extra members)."""
    tmp = path.parent / f"_{path.stem}_shp"
    tmp.mkdir(exist_ok=True)
    shp = tmp / f"{name}.shp"
    gdf.to_file(shp, driver="ESRI Shapefile", engine="pyogrio", encoding=encoding)
    with zipfile.ZipFile(path, "w") as zf:
        for f in sorted(tmp.iterdir()):
            if f.suffix.lower() not in drop:
                zf.write(f, f.name)
        for n, data in (extra or {}).items():
            zf.writestr(n, data)
    return path


def _gbk_shapefile_without_cpg(d: Path) -> Path:
    gdf = gpd.GeoDataFrame({"名称": ["阳光花园"], "街道": ["少先路街道"]},
                           geometry=[shapely.Polygon(square(*P1)[0])], crs=4326)
    return shapefile_zip(d / "gbk_no_cpg.zip", gdf, encoding="GBK", drop=(".cpg",))


def _several_shapefiles(d: Path) -> Path:
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Polygon(square(*P1)[0])], crs=4326)
    p = shapefile_zip(d / "two.zip", gdf, "first")
    tmp = d / "_two2"
    tmp.mkdir(exist_ok=True)
    gdf.to_file(tmp / "second.shp", driver="ESRI Shapefile", engine="pyogrio")
    with zipfile.ZipFile(p, "a") as zf:
        for f in tmp.iterdir():
            zf.write(f, f.name)
    return p


def _zip_with(d: Path, name: str, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    p = d / name
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            zf.writestr(info, data)
    return p


def _symlink_zip(d: Path) -> Path:
    info = zipfile.ZipInfo("data.shp")
    info.external_attr = (0o120777 << 16)  # S_IFLNK
    return _zip_with(d, "symlink.zip", [(info, b"/etc/passwd")])


def _zip_bomb(d: Path) -> Path:
    return _zip_with(d, "bomb.zip", [("data.csv", b"0" * 60_000_000)])


def _xlsx_with_entity(d: Path) -> Path:
    from openpyxl import Workbook

    buf = io.BytesIO()
    wb = Workbook()
    wb.active.append(["小区名称", "经度", "纬度"])
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    p = d / "entity.xlsx"
    with zipfile.ZipFile(p, "w") as zf:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = b'<!DOCTYPE x [<!ENTITY lol "lol"><!ENTITY e SYSTEM "file:///etc/passwd">]>' + data
            zf.writestr(info, data)
    return p


def _xlsx_two_sheets(d: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["小区名称", "经度", "纬度"])
    wb.active.append(["甲", P1[0], P1[1]])
    ws = wb.create_sheet("另一表")
    ws.append(["小区名称", "经度", "纬度"])
    ws.append(["乙", P2[0], P2[1]])
    p = d / "two_sheets.xlsx"
    wb.save(p)
    return p


def _gpkg_two_layers(d: Path) -> Path:
    p = d / "two_layers.gpkg"
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Polygon(square(*P1)[0])], crs=4326)
    gdf.to_file(p, layer="one", driver="GPKG", engine="pyogrio")
    gdf.to_file(p, layer="two", driver="GPKG", engine="pyogrio", append=False)
    return p


def _projected_as_4326(d: Path) -> Path:
    tr = Transformer.from_crs(4326, 4547, always_xy=True)
    x, y = tr.transform(*P1)
    ring = [[x, y], [x + 50, y], [x + 50, y + 50], [x, y + 50], [x, y]]
    doc = fc(feature({"type": "Polygon", "coordinates": [ring]}, name="甲"),
             crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4326"}})
    return write_json(d / "projected_as_4326.geojson", doc)


def _projected_no_crs(d: Path) -> Path:
    tr = Transformer.from_crs(4326, 4547, always_xy=True)
    x, y = tr.transform(*P1)
    return compound_csv(d / "projected_no_crs.csv", 经度=round(x, 2), 纬度=round(y, 2))


def _many_vertices(d: Path) -> Path:
    ring = shapely.Point(P1).buffer(0.002, quad_segs=100).exterior.coords[:]
    return write_json(d / "many_vertices.geojson", fc(feature({"type": "Polygon", "coordinates": [ring]}, name="甲")))


def _gbk_geojson(d: Path) -> Path:
    p = d / "gbk.geojson"
    p.write_bytes(json.dumps(fc(feature(poly(*P1), name="阳光花园")), ensure_ascii=False).encode("gbk"))
    return p


@dataclass
class Bad:
    """One bad file: how to build it, as which KIND, the words the error must contain."""

    name: str
    kind: str
    build: Callable[[Path], Path]
    expect: str
    args: tuple[str, ...] = ()
    limits: Limits | None = None
    tags: set[str] = field(default_factory=set)


def _j(name: str, doc: object) -> Callable[[Path], Path]:
    return lambda d: write_json(d / name, doc)


def _raw(name: str, data: bytes) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        (d / name).write_bytes(data)
        return d / name
    return build


def _csv(name: str, **over: object) -> Callable[[Path], Path]:
    return lambda d: compound_csv(d / name, **over)


BOWTIE = [[[P1[0], P1[1]], [P1[0] + 0.001, P1[1] + 0.001], [P1[0] + 0.001, P1[1]], [P1[0], P1[1] + 0.001], [P1[0], P1[1]]]]
OPEN_RING = [[[P1[0], P1[1]], [P1[0] + 0.001, P1[1]], [P1[0] + 0.001, P1[1] + 0.001], [P1[0], P1[1] + 0.001]]]
FIVE_NUMBERS = [[[P1[0], P1[1], 1, 2, 3], [P1[0] + 0.001, P1[1], 1, 2, 3], [P1[0] + 0.001, P1[1] + 0.001, 1, 2, 3],
                 [P1[0], P1[1], 1, 2, 3]]]

CORPUS: list[Bad] = [
    Bad("truncated_json", "compounds", _raw("truncated.geojson", json.dumps(fc(feature(poly(*P1), name="甲"))).encode()[:60]),
        "not valid JSON"),
    Bad("deep_nesting", "compounds", _raw("deep.geojson", b"[" * 200_000 + b"]" * 200_000), "nested too deeply"),
    Bad("not_geojson", "compounds", _j("not_geojson.json", {"hello": "world"}), "not GeoJSON"),
    Bad("gbk_geojson", "compounds", _gbk_geojson, "must be UTF-8"),
    Bad("kml_external_entity", "compounds", _raw("evil.kml", b'<?xml version="1.0"?><!DOCTYPE k [<!ENTITY e SYSTEM '
                                                 b'"file:///etc/passwd">]><kml>&e;</kml>'), "KML/GML/XML"),
    Bad("xlsx_xml_entity", "compounds", _xlsx_with_entity, "DTD/entities"),
    Bad("old_xls", "compounds", _raw("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600), ".xlsx"),
    Bad("empty_file", "compounds", _raw("empty.csv", b""), "empty"),
    Bad("huge_file", "compounds", _csv("huge.csv", 地址="很长" * 2000), "import limit",
        limits=Limits(max_file_bytes=4000)),
    Bad("zip_bomb", "compounds", _zip_bomb, "zip bomb"),
    Bad("zip_many_files", "compounds", lambda d: _zip_with(d, "many.zip", [(f"f{i}.txt", b"x") for i in range(300)]),
        "over the limit"),
    Bad("zip_slip", "compounds", lambda d: _zip_with(d, "slip.zip", [("../../evil.shp", b"x")]), "zip-slip"),
    Bad("zip_absolute_path", "compounds", lambda d: _zip_with(d, "abs.zip", [("/tmp/evil.shp", b"x")]), "absolute path"),
    Bad("zip_symlink", "compounds", _symlink_zip, "symbolic link"),
    Bad("zip_nested", "compounds", lambda d: _zip_with(d, "nested.zip", [("inner.zip", b"PK\x05\x06" + b"\0" * 18)]),
        "nested"),
    Bad("several_shapefiles", "compounds", _several_shapefiles, "--layer"),
    Bad("gbk_shapefile_without_cpg", "compounds", _gbk_shapefile_without_cpg, "--encoding gbk"),
    Bad("shapefile_without_dbf", "compounds",
        lambda d: shapefile_zip(d / "no_dbf.zip", gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(P1)],
                                                                    crs=4326), drop=(".dbf",)), ".dbf"),
    Bad("gpkg_two_layers", "compounds", _gpkg_two_layers, "--layer"),
    Bad("xlsx_two_sheets", "compounds", _xlsx_two_sheets, "--sheet"),
    Bad("nan_coordinates", "buildings", _j("nan.geojson", fc(feature({"type": "Polygon", "coordinates": [
        [[P1[0], P1[1]], [float("nan"), P1[1]], [P1[0] + 0.001, P1[1] + 0.001], [P1[0], P1[1]]]]}))), "NaN"),
    Bad("inf_in_csv", "compounds", _csv("inf.csv", 经度="inf"), "finite"),
    Bad("unclosed_ring", "buildings", _j("open_ring.geojson", fc(feature({"type": "Polygon", "coordinates": OPEN_RING}))),
        "not closed"),
    Bad("unclosed_ring_wkt", "buildings", lambda d: write_csv(d / "open_ring.csv", [["wkt"], [
        "POLYGON ((109.79 40.622, 109.791 40.622, 109.791 40.623, 109.79 40.623))"]]), "not closed"),
    Bad("self_intersection", "buildings", _j("bowtie.geojson", fc(feature({"type": "Polygon", "coordinates": BOWTIE}))),
        "Self-intersection"),
    Bad("five_number_positions", "buildings", _j("five.geojson", fc(feature({"type": "Polygon",
                                                                             "coordinates": FIVE_NUMBERS}))), "2 to 4"),
    Bad("empty_geometry", "buildings", _j("empty_geom.geojson", fc(feature({"type": "Polygon", "coordinates": []}))),
        "empty geometry"),
    Bad("null_geometry", "buildings", _j("null_geom.geojson", fc(feature(None, floors=5))), "missing (null)"),
    Bad("wrong_geometry_type", "buildings", _j("line.geojson", fc(feature(
        {"type": "LineString", "coordinates": [list(P1), list(P2)]}))), "wrong geometry type"),
    Bad("too_many_vertices", "buildings", _many_vertices, "vertices", limits=Limits(max_vertices=100)),
    Bad("swapped_lat_lon", "compounds", _csv("swapped.csv", 经度=P1[1], 纬度=P1[0]), "swapped"),
    Bad("projected_as_4326", "compounds", _projected_as_4326, "projected numbers labelled"),
    Bad("projected_without_crs", "compounds", _projected_no_crs, "--crs"),
    Bad("degrees_labelled_projected", "compounds", _csv("degrees_4547.csv"), "look like longitude/latitude",
        args=("--crs", "EPSG:4547")),
    Bad("outside_district", "compounds", _csv("beijing.csv", 经度=116.397, 纬度=39.909), "outside 昆都仑区",
        args=("--crs", "wgs84")),
    Bad("lonlat_without_crs", "compounds", _csv("no_crs.csv"), "cannot say which coordinate system"),
    Bad("unknown_crs", "compounds", _csv("unknown_crs.csv"), "unknown coordinate system", args=("--crs", "EPSG:999999")),
    Bad("unknown_street", "compounds", _csv("unknown_street.csv", 所属街道="火星街道"), "unknown street"),
    Bad("duplicate_ids_in_file", "compounds", lambda d: write_csv(d / "dup.csv", [
        ["小区编号", "小区名称", "所属街道", "经度", "纬度"], ["X-1", "甲", "少先路", *P1], ["X-1", "乙", "少先路", *P3]]),
        "duplicate id", args=("--crs", "wgs84")),
    Bad("duplicate_id_in_database", "compounds", lambda d: write_csv(d / "dup_db.csv", [
        ["小区编号", "小区名称", "所属街道", "经度", "纬度"], ["@EXISTING", "甲", "少先路", *P1]]), "already exists",
        args=("--crs", "wgs84")),
    Bad("negative_households", "compounds", _csv("neg.csv", 户数=-5), "negative"),
    Bad("future_build_year", "compounds", _csv("future.csv", 建成年份=2999), "in the future"),
    Bad("implausible_households", "compounds", _csv("huge_hh.csv", 户数="9,999,999"), "plausible maximum"),
    Bad("not_a_number", "compounds", _csv("nan_text.csv", 户数="很多"), "not a number"),
    Bad("bad_date", "compounds", _csv("bad_date.csv", 合同到期="2019-13-45"), "not a real date"),
    Bad("unparsable_date", "compounds", _csv("bad_date2.csv", 合同到期="明年春天"), "not a date"),
    Bad("unknown_enum", "compounds", _csv("enum.csv", 物业服务方式="外星物业"), "is not one of"),
    Bad("rate_as_bare_percent", "compounds", _csv("rate.csv", 物业费收缴率=85), "85%"),
    Bad("missing_required_column", "compounds", lambda d: write_csv(d / "no_name.csv", [["经度", "纬度"], list(P1)]),
        "required column name"),
    Bad("lon_without_lat", "compounds", lambda d: write_csv(d / "lon_only.csv", [["小区名称", "经度"], ["甲", P1[0]]]),
        "no partner"),
    Bad("compound_not_placed", "compounds", lambda d: write_csv(d / "noplace.csv", [["小区名称", "所属街道"], ["甲", "少先路"]]),
        "cannot be placed"),
    Bad("unknown_compound_ref", "buildings", _j("bad_ref.geojson", fc(feature(poly(*P1, 0.0002), 小区编号="NOPE-1"))),
        "unknown compound"),
    Bad("unknown_kind_value", "barriers", _j("barrier.geojson", fc(feature(
        {"type": "LineString", "coordinates": [list(P1), list(P2)]}, 类型="高速公路"))), "is not one of"),
]
