"""Every importer problem and warning exists in English and Chinese, and the Chinese is free of English leftovers."""

from __future__ import annotations

import json
import re
from string import Formatter
from typing import Any

import pytest
from sqlalchemy import select

from geoplatform.i18n import Localized, Message, catalogue
from geoplatform.io.importer import import_file
from geoplatform.io.messages import MESSAGES, VERBATIM_PARAMS
from geoplatform.io.report import ImportFailed, ImportReport
from geoplatform.models import Compound
from tests.io.corpus import BOWTIE, CORPUS, P1, P3, write_csv
from tests.io.test_corpus import _build

# technical names that stay as they are in Chinese text (formats, standards, GeoJSON members and geometry types)
ALLOWED = {
    "EPSG", "CGCS2000", "GeoJSON", "GeoPackage", "Shapefile", "XLSX", "JSON", "KML", "GML", "XML", "DTD", "WKT",
    "Excel", "RFC", "NaN", "FeatureCollection", "Feature", "features", "GeometryCollection", "Point", "MultiPoint",
    "LineString", "MultiLineString", "Polygon", "MultiPolygon", "zip-slip", "gcj02", "bd09",
}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*")


def english_leftovers(text: str) -> list[str]:
    """ASCII words of 4+ letters that are not allowed technical names, flags (--crs), file suffixes or code."""
    text = re.sub(r"`[^`]*`", " ", text)  # a command example
    text = re.sub(r"--[a-z][a-z-]*", " ", text)  # --repair, --crs, --upsert …
    text = re.sub(r"\.[A-Za-z]{2,4}\b", " ", text)  # .prj, .xlsx, .cpg …
    return [w for w in WORD.findall(text) if sum(c.isalpha() for c in w) >= 4 and w not in ALLOWED]


def verbatim_values(value: Any, name: str | None = None) -> list[str]:
    """The data inside a message (file and column names, cell values, library details) that stays verbatim."""
    if isinstance(value, Message):
        return [v for k, p in value.params.items() for v in verbatim_values(p, k)]
    if isinstance(value, Localized) or name not in VERBATIM_PARAMS:
        return []
    return [str(value), repr(value)]


def chinese_leftovers(message: Any) -> list[str]:
    """English words left in the Chinese rendering of a recorded message (its verbatim data removed)."""
    assert isinstance(message, Message), f"not recorded as a catalogue message: {message!r}"
    assert message.key in MESSAGES, message.key
    text = message.text("zh")
    for v in sorted(verbatim_values(message), key=len, reverse=True):
        text = text.replace(v, " ")
    return english_leftovers(text)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name is not None}


def test_every_key_has_english_and_chinese_with_the_same_params():
    en, zh = catalogue("en"), catalogue("zh")
    assert len(MESSAGES) >= 100
    for key in MESSAGES:
        assert en.get(key) and zh.get(key), key
        assert _fields(en[key]) == _fields(zh[key]), key
        assert re.search(r"[\u4e00-\u9fff]", zh[key]) or _fields(zh[key]), key  # Chinese, or only data
        bare = re.sub(r"\{[^}]*\}", " ", zh[key])
        assert not english_leftovers(bare), (key, english_leftovers(bare))


def test_message_is_english_str_and_renders_nested_params_per_language():
    where = Message("import.where.row_column", file="a.csv", n=12, column="建成年代")
    msg = Message("import.value.below_min", value=1850, lo=1900)
    assert where == "a.csv row 12, column 建成年代" and where.text("zh") == "a.csv 第12行，「建成年代」列"
    assert msg == "1850 is below the plausible minimum 1900" and msg.text("zh") == "1850 低于允许的最小值 1900"
    warn = Message("import.warn.repaired", where=where, reason=Message("import.geos.self_intersection", at="[1 2]"),
                   geom_type="MultiPolygon", parts=2)
    assert warn.text("zh") == "a.csv 第12行，「建成年代」列：已自动修复（自相交[1 2]）→ MultiPolygon，共 2 部分"
    report = ImportReport(kind="compounds", file="a.csv")
    report.error(where, "import.area.outside", km=3.2, district="昆都仑区")
    doc = report.as_dict()
    assert doc["errors"][0]["message"].startswith("lies 3.2 km outside 昆都仑区")
    assert doc["errors"][0]["key"] == "import.area.outside" and doc["errors"][0]["params"]["km"] == 3.2
    zh = report.as_dict("zh")["errors"][0]
    assert zh["message"] == "位于昆都仑区外 3.2 公里（坐标有误，或是其他地区的要素）"
    assert zh["where"] == "a.csv 第12行，「建成年代」列"
    json.dumps(doc)


def test_leftover_check_catches_english():
    assert english_leftovers("第3行：lies outside 昆都仑区") == ["lies", "outside"]
    assert english_leftovers("请用 --repair 或 EPSG:4547，GeoJSON 的 .prj") == []
    assert chinese_leftovers(Message("import.street.unknown", value="Mars street")) == []


def _kwargs(args: tuple[str, ...]) -> dict[str, str]:
    return {a.removeprefix("--").replace("-", "_"): b for a, b in zip(args[::2], args[1::2], strict=True)}


@pytest.mark.parametrize("bad", CORPUS, ids=[b.name for b in CORPUS])
def test_corpus_problems_render_in_chinese(bad, seeded_ctx, tmp_path):
    path = _build(bad, tmp_path, seeded_ctx)
    extra = {"limits": bad.limits} if bad.limits is not None else {}
    with pytest.raises(ImportFailed) as info:
        import_file(seeded_ctx, bad.kind, path, **_kwargs(bad.args), **extra)
    report = info.value.report
    assert report.errors
    for e in report.errors:
        where = e.where if isinstance(e.where, Message) else None
        if where is not None:
            assert not chinese_leftovers(where), where.text("zh")
        assert not chinese_leftovers(e.message), (e.message.text("zh"), chinese_leftovers(e.message))
        assert e.text("zh") != e.text("en") or not re.search(r"[a-z]{4}", e.text("en"))
    for w in report.warnings:
        assert not chinese_leftovers(w), w.text("zh")


def _warning_files(tmp_path, existing_id: str) -> list[tuple[str, Any, dict[str, Any]]]:  # noqa: ANN001
    ring3d = [[P3[0], P3[1], 10.0], [P3[0] + 0.0002, P3[1], 10.0], [P3[0] + 0.0002, P3[1] + 0.0002, 10.0],
              [P3[0], P3[1], 10.0]]
    bow = [[[x + 0.003, y] for x, y in BOWTIE[0]]]
    feats = [{"type": "Feature", "properties": {"层数": 6, "备注X": "x"}, "geometry": g} for g in (
        {"type": "Polygon", "coordinates": [ring3d]}, {"type": "Polygon", "coordinates": bow})]
    buildings = tmp_path / "b.geojson"
    buildings.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    declared = tmp_path / "declared.geojson"
    declared.write_text(json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {
        "name": "EPSG:4490"}}, "features": [{"type": "Feature", "properties": {"name": "甲", "所属街道": "少先路"},
                                             "geometry": {"type": "Point", "coordinates": list(P1)}}]}))
    points = write_csv(tmp_path / "pts.csv", [["小区名称", "经度", "纬度"], ["甲", *P1]], encoding="gbk")
    upsert = write_csv(tmp_path / "up.csv", [["小区编号", "小区名称", "所属街道", "经度", "纬度"],
                                             [existing_id, "甲", "少先路", *P1]])
    communities = write_csv(tmp_path / "c.csv", [["社区代码", "社区名称"], ["150203001999", "甲社区"]])
    plain = tmp_path / "plain.geojson"  # GeoJSON: WGS-84 by its standard (RFC 7946), with a reminder
    plain.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "name": "乙"}, "geometry": {"type": "Point", "coordinates": list(P1)}}]}), encoding="utf-8")
    return [("buildings", buildings, {"repair": True}), ("compounds", declared, {"crs": "EPSG:4326"}),
            ("compounds", points, {"crs": "wgs84"}), ("compounds", upsert, {"upsert": True, "crs": "wgs84"}),
            ("communities", communities, {}), ("compounds", plain, {})]


def test_warnings_render_in_chinese(seeded_ctx, tmp_path):
    with seeded_ctx.session(readonly=True) as s:
        existing = s.execute(select(Compound.id).limit(1)).scalar_one()
    keys = set()
    for kind, path, opts in _warning_files(tmp_path, existing):
        report = import_file(seeded_ctx, kind, path, dry_run=True, **opts)
        for w in report.warnings:
            keys.add(w.key)
            assert not chinese_leftovers(w), (w.text("zh"), chinese_leftovers(w))
    assert {"import.warn.columns_ignored", "import.warn.z_dropped", "import.warn.repaired",
            "import.warn.buildings_by_containment", "import.warn.ids_building", "import.warn.crs_override",
            "import.warn.assumed_wgs84", "import.text.read_as", "import.warn.point_only", "import.warn.ids_compound",
            "import.warn.street_by_location", "import.warn.upsert", "import.warn.street_from_code"} <= keys, keys
