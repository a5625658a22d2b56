"""Tiny tile packages built in code for tests: solid-colour PNG tiles, hand-encoded Mapbox vector tiles,
MBTiles (SQLite, TMS rows) and PMTiles v3 files (through the pmtiles package's writer)."""

from __future__ import annotations

import gzip
import json
import sqlite3
import struct
import zlib
from pathlib import Path

# Colours that tell tiles apart: the tile at XYZ row 0 (north) is RED, row 1 (south) BLUE.
RED = (220, 30, 30)
BLUE = (30, 60, 220)


def png(rgb: tuple[int, int, int], size: int = 256) -> bytes:
    """A solid-colour RGB PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * size
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * size)) + chunk(b"IEND", b""))


# ---------- a minimal Mapbox vector tile encoder (spec 2.1) ----------

def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint((field << 3) | wire)


def _bytes(field: int, data: bytes) -> bytes:
    return _key(field, 2) + _varint(len(data)) + data


def _packed(field: int, values: list[int]) -> bytes:
    return _bytes(field, b"".join(_varint(v) for v in values))


def _zigzag(n: int) -> int:
    return (n << 1) ^ (n >> 31)


def _geometry(kind: str, coords: list[tuple[int, int]]) -> list[int]:
    out: list[int] = []
    x = y = 0
    for i, (cx, cy) in enumerate(coords):
        if i == 0:
            out.append((1 & 7) | (1 << 3))  # MoveTo, 1 point
        elif i == 1:
            out.append((2 & 7) | ((len(coords) - 1) << 3))  # LineTo, the rest
        out += [_zigzag(cx - x), _zigzag(cy - y)]
        x, y = cx, cy
    if kind == "polygon":
        out.append((7 & 7) | (1 << 3))  # ClosePath
    return out


def mvt_layer(name: str, features: list[tuple[str, list[tuple[int, int]], dict[str, str]]], extent: int = 4096) -> bytes:
    """One layer; features are (kind "polygon"|"line"|"point", tile coordinates, string properties)."""
    keys: list[str] = []
    values: list[str] = []
    body = b""
    for fid, (kind, coords, props) in enumerate(features, 1):
        tags: list[int] = []
        for k, v in props.items():
            if k not in keys:
                keys.append(k)
            if v not in values:
                values.append(v)
            tags += [keys.index(k), values.index(v)]
        gtype = {"point": 1, "line": 2, "polygon": 3}[kind]
        feature = (_key(1, 0) + _varint(fid) + _packed(2, tags) + _key(3, 0) + _varint(gtype)
                   + _packed(4, _geometry(kind, coords)))
        body += _bytes(2, feature)
    layer = (_key(15, 0) + _varint(2) + _bytes(1, name.encode()) + body
             + b"".join(_bytes(3, k.encode()) for k in keys)
             + b"".join(_bytes(4, _bytes(1, v.encode())) for v in values)
             + _key(5, 0) + _varint(extent))
    return layer


def mvt(layers: list[bytes]) -> bytes:
    """A vector tile from encoded layers."""
    return b"".join(_bytes(3, layer) for layer in layers)


def water_tile(name: str = "测试湖") -> bytes:
    """A vector tile whose layer `water` is one polygon covering the whole tile, and a named road line."""
    square = [(-64, -64), (4160, -64), (4160, 4160), (-64, 4160)]
    return mvt([mvt_layer("water", [("polygon", square, {"name": name})]),
                mvt_layer("roads", [("line", [(0, 2048), (4096, 2048)], {"name": "测试大街"})])])


# ---------- containers ----------

def make_mbtiles(path: Path, tiles: dict[tuple[int, int, int], bytes], fmt: str | None = "png",
                 metadata: dict[str, str] | None = None) -> Path:
    """An MBTiles file; `tiles` are keyed by XYZ (z, x, y) and stored at TMS rows (2^z - 1 - y)."""
    path = Path(path)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    con.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
    meta = {"name": "测试底图", "minzoom": str(min(z for z, _, _ in tiles)), "maxzoom": str(max(z for z, _, _ in tiles)),
            "bounds": "109.5,40.5,110.0,40.9", **({"format": fmt} if fmt else {}), **(metadata or {})}
    con.executemany("INSERT INTO metadata VALUES (?, ?)", list(meta.items()))
    con.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                    [(z, x, (1 << z) - 1 - y, data) for (z, x, y), data in tiles.items()])
    con.commit()
    con.close()
    return path


def make_pmtiles(path: Path, tiles: dict[tuple[int, int, int], bytes], tile_type: str = "png",
                 gzip_tiles: bool = False, metadata: dict | None = None) -> Path:
    """A PMTiles v3 file; `tiles` keyed by XYZ (z, x, y); vector tiles optionally gzip-compressed."""
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    kinds = {"png": TileType.PNG, "jpg": TileType.JPEG, "webp": TileType.WEBP, "pbf": TileType.MVT}
    path = Path(path)
    with open(path, "wb") as fh:
        writer = Writer(fh)
        for (z, x, y), data in sorted(tiles.items(), key=lambda kv: zxy_to_tileid(*kv[0])):
            writer.write_tile(zxy_to_tileid(z, x, y), gzip.compress(data, mtime=0) if gzip_tiles else data)
        header = {"tile_type": kinds[tile_type],
                  "tile_compression": Compression.GZIP if gzip_tiles else Compression.NONE,
                  "min_lon_e7": int(109.5e7), "min_lat_e7": int(40.5e7), "max_lon_e7": int(110.0e7),
                  "max_lat_e7": int(40.9e7), "center_zoom": 1, "center_lon_e7": int(109.8e7), "center_lat_e7": int(40.7e7)}
        writer.finalize(header, metadata if metadata is not None else {"name": "测试底图"})
    return path


def raster_tiles() -> dict[tuple[int, int, int], bytes]:
    """Zoom 0 (red) and zoom 1: column 0 row 0 red (north), row 1 blue (south)."""
    return {(0, 0, 0): png(RED), (1, 0, 0): png(RED), (1, 0, 1): png(BLUE), (1, 1, 0): png(RED), (1, 1, 1): png(BLUE)}


def vector_tiles() -> dict[tuple[int, int, int], bytes]:
    """Zooms 0–1 of water tiles (the north row named 北湖, the south row 南湖)."""
    return {(0, 0, 0): water_tile("北湖"), (1, 0, 0): water_tile("北湖"), (1, 1, 0): water_tile("北湖"),
            (1, 0, 1): water_tile("南湖"), (1, 1, 1): water_tile("南湖")}


def vector_metadata() -> dict:
    """PMTiles/MBTiles-json metadata listing the vector layers."""
    return {"name": "测试矢量", "vector_layers": [{"id": "water", "fields": {"name": "String"}},
                                               {"id": "roads", "fields": {"name": "String"}}]}


def mbtiles_json(meta: dict) -> dict[str, str]:
    """MBTiles metadata rows carrying the vector layers in the `json` row."""
    return {"name": meta["name"], "json": json.dumps({"vector_layers": meta["vector_layers"]})}
