"""Tile packages: validation of MBTiles / PMTiles (raster and vector), TMS row flip, the service (audited) and
`geoplatform basemap add|list|remove` — fixtures built in code (tests/support/tilepackages.py)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from geoplatform.errors import Conflict, Forbidden, NotFound, UserInputError
from geoplatform.i18n import t
from geoplatform.principal import Principal
from plugins.basemaps import packages, service
from tests.support.tilepackages import (
    BLUE,
    RED,
    make_mbtiles,
    make_pmtiles,
    mbtiles_json,
    png,
    raster_tiles,
    vector_metadata,
    vector_tiles,
    water_tile,
)

ADMIN = Principal(name="admin-test", role="admin")


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty instance folder (the packages go to <instance>/basemaps)."""
    folder = tmp_path / "instance"
    monkeypatch.setenv("GEOPLATFORM_INSTANCE", str(folder))
    return folder


# ---------- validation ----------

@pytest.mark.parametrize(("container", "kind"), [("mbtiles", "raster"), ("pmtiles", "raster"),
                                                 ("mbtiles", "vector"), ("pmtiles", "vector")])
def test_inspect_valid_packages(tmp_path: Path, container: str, kind: str) -> None:
    path = tmp_path / f"p.{container}"
    if container == "mbtiles":
        make_mbtiles(path, raster_tiles() if kind == "raster" else vector_tiles(), "png" if kind == "raster" else "pbf",
                     metadata=None if kind == "raster" else mbtiles_json(vector_metadata()))
    else:
        make_pmtiles(path, raster_tiles() if kind == "raster" else vector_tiles(), "png" if kind == "raster" else "pbf",
                     gzip_tiles=kind == "vector", metadata=None if kind == "raster" else vector_metadata())
    info = packages.inspect(path)
    assert (info.container, info.kind) == (container, kind)
    assert (info.min_zoom, info.max_zoom) == (0, 1)
    assert info.tile_format == ("png" if kind == "raster" else "pbf")
    assert info.bounds == pytest.approx((109.5, 40.5, 110.0, 40.9))
    if kind == "vector":
        assert set(info.data_layers) == {"water", "roads"}


def test_vector_layer_names_come_from_the_tiles_when_metadata_lacks_them(tmp_path: Path) -> None:
    path = make_mbtiles(tmp_path / "v.mbtiles", vector_tiles(), fmt=None)  # no format, no json: sniffed
    info = packages.inspect(path)
    assert info.tile_format == "pbf" and info.data_layers == ("water", "roads")
    assert packages.mvt_layer_names(gzip.compress(water_tile())) == ["water", "roads"]


def _sqlite_without_tiles(path: Path) -> Path:
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    con.commit()
    con.close()
    return path


@pytest.mark.parametrize(("name", "build", "key"), [
    ("不存在.mbtiles", None, "basemaps.error.missing"),
    ("文本.mbtiles", lambda p: p.write_text("not a database"), "basemaps.error.not_mbtiles"),
    ("随便.bin", lambda p: p.write_bytes(b"\x00" * 200), "basemaps.error.not_package"),
    ("坏.pmtiles", lambda p: p.write_bytes(b"PMTil" + b"\x00" * 200), "basemaps.error.not_pmtiles"),
    ("旧版.pmtiles", lambda p: p.write_bytes(b"PMTiles\x02" + b"\x00" * 200), "basemaps.error.pmtiles_version"),
    ("无表.mbtiles", _sqlite_without_tiles, "basemaps.error.mbtiles_tables"),
    ("空.mbtiles", lambda p: make_mbtiles(p, {(0, 0, 0): b""}, "png") and _empty_tiles(p), "basemaps.error.empty"),
    ("火星.mbtiles", lambda p: make_mbtiles(p, raster_tiles(), "png", {"crs": "GCJ-02"}), "basemaps.error.gcj02"),
    ("格式.mbtiles", lambda p: make_mbtiles(p, raster_tiles(), "tiff"), "basemaps.error.format"),
    ("截断.pmtiles", lambda p: p.write_bytes(make_pmtiles(p, raster_tiles()).read_bytes()[:300]), "basemaps.error.truncated"),
])
def test_bad_packages_are_refused_naming_the_file(tmp_path: Path, name: str, build, key: str) -> None:  # noqa: ANN001
    path = tmp_path / name
    if build is not None:
        build(path)
    with pytest.raises(UserInputError) as err:
        packages.inspect(path, display=name)
    assert err.value.message.key == key
    zh = err.value.message.text("zh")
    assert name in zh and t(key, "zh") != key  # a Chinese catalogue entry that names the file
    assert name in err.value.message.text("en")


def _empty_tiles(path: Path) -> Path:
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("DELETE FROM tiles")
    con.commit()
    con.close()
    return path


# ---------- reading tiles: XYZ rows, MBTiles stored as TMS ----------

def test_mbtiles_rows_are_flipped_from_tms(tmp_path: Path) -> None:
    reader = packages.MBTilesReader(make_mbtiles(tmp_path / "r.mbtiles", raster_tiles()))
    assert reader.get(1, 0, 0) == png(RED)  # north row (XYZ 0) is TMS row 1
    assert reader.get(1, 0, 1) == png(BLUE)
    assert reader.get(2, 0, 0) is None


def test_pmtiles_reader(tmp_path: Path) -> None:
    reader = packages.PMTilesReader(make_pmtiles(tmp_path / "r.pmtiles", raster_tiles()))
    try:
        assert reader.get(1, 1, 0) == png(RED) and reader.get(1, 1, 1) == png(BLUE)
        assert reader.get(5, 3, 3) is None
    finally:
        reader.close()


# ---------- the service ----------

def test_add_list_read_remove_is_audited(ctx, instance: Path, tmp_path: Path) -> None:  # noqa: ANN001
    from geoplatform import audit

    src = make_pmtiles(tmp_path / "区域影像.pmtiles", raster_tiles())
    manifest = service.add_package(ctx, ADMIN, src, name="imagery", title="区影像 2024")
    assert (instance / "basemaps" / "imagery.pmtiles").is_file() and src.is_file()  # copied, not moved
    assert manifest["kind"] == "raster" and manifest["title"] == "区影像 2024"
    assert [p["name"] for p in service.list_packages(ctx)] == ["imagery"]
    data, mimetype, encoding, version = service.read_tile(ctx, "imagery", 1, 1, 0)
    assert data == png(RED) and mimetype == "image/png" and encoding is None and version == manifest["sha256"][:12]
    assert service.read_tile(ctx, "imagery", 9, 0, 0) is None
    with pytest.raises(Conflict):
        service.add_package(ctx, ADMIN, src, name="imagery")
    basemap_ids = [b.id for b in ctx.basemaps()]
    assert basemap_ids[0] == "pkg-imagery"  # the newest package comes first: the default basemap
    service.remove_package(ctx, ADMIN, "imagery")
    assert service.list_packages(ctx) == [] and not (instance / "basemaps" / "imagery.pmtiles").exists()
    with pytest.raises(NotFound):
        service.read_tile(ctx, "imagery", 0, 0, 0)
    with ctx.session(readonly=True) as s:
        actions = [(e["action"], e["entity_id"]) for e in audit.for_entity(s, "basemap", "imagery")]
    assert ("create", "imagery") in actions and ("delete", "imagery") in actions


def test_vector_tiles_keep_their_gzip_encoding(ctx, instance: Path, tmp_path: Path) -> None:  # noqa: ANN001
    src = make_pmtiles(tmp_path / "v.pmtiles", vector_tiles(), "pbf", gzip_tiles=True, metadata=vector_metadata())
    service.add_package(ctx, ADMIN, src, name="vec")
    data, mimetype, encoding, _ = service.read_tile(ctx, "vec", 1, 0, 1)
    assert mimetype == "application/x-protobuf" and encoding == "gzip"
    assert gzip.decompress(data) == water_tile("南湖")


def test_only_admin_and_bureau_manage_packages(ctx, instance: Path, tmp_path: Path) -> None:  # noqa: ANN001
    src = make_mbtiles(tmp_path / "r.mbtiles", raster_tiles())
    for role in ("viewer", "street_officer", "utility"):
        with pytest.raises(Forbidden):
            service.add_package(ctx, Principal(name=f"u-{role}", role=role, street_code="150203001"), src)
    assert service.add_package(ctx, Principal(name="bureau-1", role="bureau"), src)["name"] == "r"


@pytest.mark.parametrize(("given", "expected"), [("Kundulun 2024.mbtiles", "kundulun-2024"),
                                                  ("区影像.pmtiles", "tiles"), ("a_b-c.mbtiles", "a_b-c")])
def test_names_from_file_names(given: str, expected: str) -> None:
    assert service.name_from(given) == expected


def test_a_bad_name_is_refused(ctx, instance: Path, tmp_path: Path) -> None:  # noqa: ANN001
    src = make_mbtiles(tmp_path / "r.mbtiles", raster_tiles())
    with pytest.raises(UserInputError) as err:
        service.add_package(ctx, ADMIN, src, name="../etc")
    assert err.value.message.key == "basemaps.error.name"


# ---------- the command line ----------

def test_cli_add_bad_file_exits_2_naming_the_file(cli_run, db_url: str, instance: Path, tmp_path: Path) -> None:  # noqa: ANN001
    assert cli_run(db_url, "init").exit_code == 0
    bad = tmp_path / "街道影像.mbtiles"
    bad.write_text("this is not sqlite")
    result = cli_run(db_url, "basemap", "add", str(bad))
    assert result.exit_code == 2
    assert str(bad) in result.stderr and "MBTiles" in result.stderr
    assert result.stdout == ""
    assert not (instance / "basemaps").exists() or not any((instance / "basemaps").glob("*.json"))


def test_cli_add_list_remove(cli_run, db_url: str, instance: Path, tmp_path: Path) -> None:  # noqa: ANN001
    assert cli_run(db_url, "init").exit_code == 0
    src = make_mbtiles(tmp_path / "vec.mbtiles", vector_tiles(), "pbf", mbtiles_json(vector_metadata()))
    added = cli_run(db_url, "basemap", "add", str(src), "--name", "kdl", "--title", "昆都仑矢量", "--json")
    assert added.exit_code == 0, added.stderr
    doc = json.loads(added.stdout)
    assert doc["name"] == "kdl" and doc["kind"] == "vector" and doc["data_layers"] == ["water", "roads"]
    listed = json.loads(cli_run(db_url, "basemap", "list", "--json").stdout)
    assert [p["title"] for p in listed["basemaps"]] == ["昆都仑矢量"]
    human = cli_run(db_url, "basemap", "list")
    assert "昆都仑矢量" in human.stdout and "kdl" in human.stdout
    assert cli_run(db_url, "basemap", "remove", "kdl").exit_code == 0
    missing = cli_run(db_url, "basemap", "remove", "kdl")
    assert missing.exit_code == 2 and "kdl" in missing.stderr
