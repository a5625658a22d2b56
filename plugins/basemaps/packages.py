"""Tile packages on disk: MBTiles (SQLite) and PMTiles v3 — validation, metadata and tile reads.

Pure file functions (no Flask, no database session). Problems are `UserInputError`s naming the file.
MBTiles rows are TMS (row 0 at the south); the readers here take XYZ coordinates (row 0 at the north),
as every web map asks for them, and flip the row for MBTiles.
"""

from __future__ import annotations

import functools
import gzip
import json
import mmap
import sqlite3
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from geoplatform.errors import UserInputError

RASTER_FORMATS = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
VECTOR_FORMAT = "pbf"
CONTENT_TYPES = {**RASTER_FORMATS, VECTOR_FORMAT: "application/x-protobuf"}
_FORMAT_ALIASES = {"jpeg": "jpg", "mvt": "pbf", "pbf": "pbf", "png": "png", "jpg": "jpg", "webp": "webp"}
# PMTiles v3 tile types and compressions (spec §3.1)
_PMTILES_TYPES = {1: "pbf", 2: "png", 3: "jpg", 4: "webp"}
_PMTILES_COMPRESSION = {0: "unknown", 1: "none", 2: "gzip", 3: "brotli", 4: "zstd"}
_GCJ_WORDS = ("gcj", "火星", "gcj-02", "gcj02")


@dataclass(frozen=True)
class PackageInfo:
    """What a valid package holds: container, tile format, zooms, bounds, vector layer names, metadata."""

    container: str  # "mbtiles" | "pmtiles"
    tile_format: str  # png | jpg | webp | pbf
    min_zoom: int
    max_zoom: int
    bounds: tuple[float, float, float, float] | None
    data_layers: tuple[str, ...] = ()
    compression: str = "none"  # of the tiles: none | gzip
    title: str = ""
    attribution: str = ""
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def kind(self) -> str:
        """"vector" for MVT tiles, "raster" for images."""
        return "vector" if self.tile_format == VECTOR_FORMAT else "raster"


def container_of(path: Path, display: str) -> str:
    """"mbtiles" or "pmtiles" from the file's first bytes (the extension is only a hint)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except FileNotFoundError:
        raise UserInputError("basemaps.error.missing", file=display) from None
    except OSError as exc:
        raise UserInputError("basemaps.error.unreadable", file=display, reason=exc.strerror or str(exc)) from None
    if head.startswith(b"SQLite format 3\x00"):
        return "mbtiles"
    if head.startswith(b"PMTiles"):
        return "pmtiles"
    suffix = (Path(display).suffix or path.suffix).lower()  # an upload is stored under a temporary name
    if suffix == ".mbtiles":
        raise UserInputError("basemaps.error.not_mbtiles", file=display)
    if suffix == ".pmtiles":
        raise UserInputError("basemaps.error.not_pmtiles", file=display)
    raise UserInputError("basemaps.error.not_package", file=display)


def inspect(path: Path, display: str | None = None) -> PackageInfo:
    """Validate a tile package and describe it; `display` names the file in error messages."""
    display = display or Path(path).name
    container = container_of(Path(path), display)
    info = _inspect_mbtiles(Path(path), display) if container == "mbtiles" else _inspect_pmtiles(Path(path), display)
    _refuse_gcj02(info, display)
    return info


def _refuse_gcj02(info: PackageInfo, display: str) -> None:
    """Tiles drawn in GCJ-02 (Amap, Tencent) sit hundreds of metres off our WGS-84 data: never accepted."""
    for key in ("crs", "srs", "projection", "coordinate_system", "datum"):
        value = str(info.metadata.get(key, "")).casefold()
        if any(word in value for word in _GCJ_WORDS):
            raise UserInputError("basemaps.error.gcj02", file=display)


def _format(value: Any) -> str | None:
    return _FORMAT_ALIASES.get(str(value or "").strip().casefold())


def _sniff(tile: bytes) -> str | None:
    """A tile's format from its first bytes (gzip-compressed data is taken for vector tiles)."""
    if tile.startswith(b"\x89PNG"):
        return "png"
    if tile.startswith(b"\xff\xd8"):
        return "jpg"
    if tile[:4] == b"RIFF" and tile[8:12] == b"WEBP":
        return "webp"
    if tile.startswith(b"\x1f\x8b") or (tile[:1] == b"\x1a"):  # gzip, or an MVT's first field (layers, tag 3)
        return "pbf"
    return None


def _bounds(value: Any) -> tuple[float, float, float, float] | None:
    try:
        parts = [float(v) for v in (value.split(",") if isinstance(value, str) else value)]
    except (TypeError, ValueError, AttributeError):
        return None
    if len(parts) != 4 or not (-180 <= parts[0] < parts[2] <= 180 and -90 <= parts[1] < parts[3] <= 90):
        return None
    return (parts[0], parts[1], parts[2], parts[3])


def _vector_layer_names(meta_json: Any) -> tuple[str, ...]:
    layers = (meta_json or {}).get("vector_layers") if isinstance(meta_json, dict) else None
    if not isinstance(layers, list):
        return ()
    return tuple(str(layer["id"]) for layer in layers if isinstance(layer, dict) and layer.get("id"))


def mvt_layer_names(tile: bytes) -> list[str]:
    """The layer names of one Mapbox vector tile (gzip or plain): only field 3 (layer) → field 1 (name) is read."""
    if tile.startswith(b"\x1f\x8b"):
        tile = gzip.decompress(tile)
    names: list[str] = []
    for tag, value in _fields(tile):
        if tag == 3 and isinstance(value, bytes):
            for inner_tag, inner in _fields(value):
                if inner_tag == 1 and isinstance(inner, bytes):
                    names.append(inner.decode("utf-8", "replace"))
                    break
    return names


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes):  # noqa: ANN202
    """(field number, value) of a protobuf message: ints for varints, bytes for length-delimited fields."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        tag, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield tag, value


# ---------- MBTiles ----------

def _connect_ro(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    return con


def _inspect_mbtiles(path: Path, display: str) -> PackageInfo:
    try:
        con = _connect_ro(path)
        try:
            names = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
            if not {"metadata", "tiles"} <= names:
                raise UserInputError("basemaps.error.mbtiles_tables", file=display)
            meta = {str(k): v for k, v in con.execute("SELECT name, value FROM metadata")}
            zooms = con.execute("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
            sample = con.execute("SELECT tile_data FROM tiles LIMIT 20").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError:
        raise UserInputError("basemaps.error.not_mbtiles", file=display) from None
    if not sample or zooms[0] is None:
        raise UserInputError("basemaps.error.empty", file=display)
    declared = meta.get("format")
    fmt = _format(declared) if declared else _sniff(bytes(sample[0][0] or b""))
    if fmt is None:
        raise UserInputError("basemaps.error.format", file=display, format=str(declared or "?"))
    layers: tuple[str, ...] = ()
    if fmt == VECTOR_FORMAT:
        try:
            layers = _vector_layer_names(json.loads(meta.get("json") or "{}"))
        except ValueError:
            layers = ()
        if not layers:
            layers = _layers_of_tiles([bytes(row[0] or b"") for row in sample])
    compression = "gzip" if fmt == VECTOR_FORMAT and bytes(sample[0][0] or b"").startswith(b"\x1f\x8b") else "none"
    min_zoom, max_zoom = int(zooms[0]), int(zooms[1])
    for key, target in (("minzoom", "min"), ("maxzoom", "max")):
        try:
            value = int(meta[key])
        except (KeyError, TypeError, ValueError):
            continue
        if target == "min":
            min_zoom = max(min_zoom, value) if value <= max_zoom else min_zoom
        else:
            max_zoom = min(max_zoom, value) if value >= min_zoom else max_zoom
    return PackageInfo("mbtiles", fmt, min_zoom, max_zoom, _bounds(meta.get("bounds")), layers, compression,
                       title=str(meta.get("name") or ""), attribution=str(meta.get("attribution") or ""),
                       metadata=meta)


def _layers_of_tiles(tiles: list[bytes]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tile in tiles:
        try:
            for name in mvt_layer_names(tile):
                seen.setdefault(name)
        except (ValueError, OSError, EOFError):
            continue
    return tuple(seen)


# ---------- PMTiles ----------

def _inspect_pmtiles(path: Path, display: str) -> PackageInfo:
    from pmtiles.tile import MagicNumberNotFound, SpecVersionUnsupported, deserialize_header

    try:
        with open(path, "rb") as fh:
            head = fh.read(127)
            size = fh.seek(0, 2)
            if len(head) < 127:
                raise UserInputError("basemaps.error.not_pmtiles", file=display)
            try:
                header = deserialize_header(head)
            except MagicNumberNotFound:
                raise UserInputError("basemaps.error.not_pmtiles", file=display) from None
            except SpecVersionUnsupported:
                raise UserInputError("basemaps.error.pmtiles_version", file=display, version=head[7]) from None
            except ValueError:  # an enum value outside the spec
                raise UserInputError("basemaps.error.not_pmtiles", file=display) from None
            ends = [header["root_offset"] + header["root_length"], header["metadata_offset"] + header["metadata_length"],
                    header["tile_data_offset"] + header["tile_data_length"]]
            if max(ends) > size or header["root_length"] == 0:
                raise UserInputError("basemaps.error.truncated", file=display)
            fh.seek(header["metadata_offset"])
            raw_meta = fh.read(header["metadata_length"])
    except OSError as exc:
        raise UserInputError("basemaps.error.unreadable", file=display, reason=exc.strerror or str(exc)) from None
    tile_type = int(header["tile_type"].value)
    fmt = _PMTILES_TYPES.get(tile_type)
    if fmt is None:
        raise UserInputError("basemaps.error.format", file=display, format=header["tile_type"].name.lower())
    compression = _PMTILES_COMPRESSION.get(int(header["tile_compression"].value), "unknown")
    if fmt != VECTOR_FORMAT and compression in ("unknown", "gzip"):
        compression = "none"  # images are compressed by their own format
    if compression not in ("none", "gzip"):
        raise UserInputError("basemaps.error.compression", file=display, compression=compression)
    internal = int(header["internal_compression"].value)
    if internal not in (1, 2):
        raise UserInputError("basemaps.error.compression", file=display,
                             compression=_PMTILES_COMPRESSION.get(internal, "unknown"))
    try:
        meta = json.loads((gzip.decompress(raw_meta) if internal == 2 else raw_meta) or b"{}")
    except (OSError, ValueError, EOFError):
        raise UserInputError("basemaps.error.not_pmtiles", file=display) from None
    meta = meta if isinstance(meta, dict) else {}
    if header["addressed_tiles_count"] == 0 and header["tile_data_length"] == 0:
        raise UserInputError("basemaps.error.empty", file=display)
    bounds = _bounds([header["min_lon_e7"] / 1e7, header["min_lat_e7"] / 1e7,
                      header["max_lon_e7"] / 1e7, header["max_lat_e7"] / 1e7])
    layers = _vector_layer_names(meta) if fmt == VECTOR_FORMAT else ()
    info = PackageInfo("pmtiles", fmt, int(header["min_zoom"]), int(header["max_zoom"]), bounds, layers, compression,
                       title=str(meta.get("name") or ""), attribution=str(meta.get("attribution") or ""),
                       metadata=meta)
    if fmt == VECTOR_FORMAT and not layers:
        reader = PMTilesReader(path)
        sample = [t for t in (reader.first_tiles(20)) if t]
        reader.close()
        info = replace(info, data_layers=_layers_of_tiles(sample))
    return info


class PMTilesReader:
    """Tiles of one PMTiles v3 file through a read-only memory map; directories are decoded once."""

    def __init__(self, path: Path) -> None:
        from pmtiles.tile import deserialize_header

        self._fh = open(path, "rb")  # noqa: SIM115  (kept open for the memory map's life)
        self._map = mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ)
        self.header = deserialize_header(self._map[0:127])
        self._directory = functools.lru_cache(maxsize=64)(self._read_directory)

    def _read_directory(self, offset: int, length: int) -> list[Any]:
        from pmtiles.tile import deserialize_directory

        return deserialize_directory(self._map[offset:offset + length])

    def get(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at XYZ z/x/y, or None."""
        from pmtiles.tile import find_tile, zxy_to_tileid

        h = self.header
        tile_id = zxy_to_tileid(z, x, y)
        offset, length = h["root_offset"], h["root_length"]
        for _depth in range(4):
            entry = find_tile(self._directory(offset, length), tile_id)
            if entry is None:
                return None
            if entry.run_length == 0:
                offset, length = h["leaf_directory_offset"] + entry.offset, entry.length
                continue
            start = h["tile_data_offset"] + entry.offset
            return bytes(self._map[start:start + entry.length])
        return None

    def first_tiles(self, n: int) -> list[bytes]:
        """Up to `n` tiles' data, from the root directory's first entries (for sniffing layer names)."""
        from pmtiles.tile import tileid_to_zxy

        out = []
        for entry in self._directory(self.header["root_offset"], self.header["root_length"])[:n]:
            if entry.run_length > 0:
                tile = self.get(*tileid_to_zxy(entry.tile_id))
                if tile:
                    out.append(tile)
        return out

    def close(self) -> None:
        """Release the map and the file."""
        self._map.close()
        self._fh.close()


class MBTilesReader:
    """Tiles of one MBTiles file (read-only connection per thread); XYZ rows are flipped to TMS."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()

    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = _connect_ro(self.path)
        return con

    def get(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at XYZ z/x/y (stored at TMS row 2^z - 1 - y), or None."""
        row = self._con().execute(
            "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
            (z, x, (1 << z) - 1 - y)).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    def close(self) -> None:
        """Nothing to release beyond the per-thread connections (closed with their threads)."""


def open_reader(path: Path, container: str) -> MBTilesReader | PMTilesReader:
    """A tile reader for a stored package."""
    return MBTilesReader(path) if container == "mbtiles" else PMTilesReader(path)
