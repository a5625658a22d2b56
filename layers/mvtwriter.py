"""A vectorised Mapbox vector tile writer: geometry commands from shapely 2 coordinate arrays, a tiny protobuf writer.

It writes what `mapbox_vector_tile.encode` writes for geometries already in integer tile units with y
pointing down (MVT spec 2.1): one layer, version 2, the same field order, the same commands — MoveTo/
LineTo/ClosePath with zigzag deltas from a cursor reset per feature, ring closing points omitted,
repeated points skipped, an arc or ring left with no segment dropped (with its polygon's holes when it
is the exterior) — and the same values (str → string, bool → bool, int → int (int64), float → double;
lists and dicts are the caller's to turn into text). One difference: an int and a float of equal value
are two values here (the reference encoder's dict makes `1` and `1.0` one value, whichever came first).

The per-vertex work is numpy on the concatenated coordinates of all features; Python loops only over
features (framing) and their attributes. SpatiaLite has no ST_AsMVT: this is its encoder.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

MOVE_TO, LINE_TO, CLOSE_PATH = 1, 2, 7
POINT, LINESTRING, POLYGON = 1, 2, 3
_KIND_OF_TYPE = {0: POINT, 4: POINT, 1: LINESTRING, 5: LINESTRING, 3: POLYGON, 6: POLYGON}  # shapely type id → MVT


def varint(n: int) -> bytes:
    """A protobuf varint (n ≥ 0; an int64 below 0 is written as its 64-bit two's complement, 10 bytes)."""
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def varints(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Varints of non-negative integers (< 2^35) in one buffer, and each one's byte length."""
    out, size = varints_array(values)
    return out.tobytes(), size


def varints_array(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`varints` with the buffer as a uint8 array."""
    v = np.asarray(values, dtype=np.uint64)
    n = len(v)
    if not n:
        return np.zeros(0, dtype=np.uint8), np.zeros(0, dtype=np.int64)
    width = (int(v.max()).bit_length() + 6) // 7 or 1  # bytes of the largest (a small tile's are mostly 1 or 2)
    if width == 1:
        return v.astype(np.uint8), np.ones(n, dtype=np.int64)
    size = np.ones(n, dtype=np.int64)
    for k in range(1, width):
        size += v >= (1 << (7 * k))
    ends = np.cumsum(size)
    out = np.zeros(int(ends[-1]), dtype=np.uint8)
    starts = ends - size
    out[starts] = ((v & np.uint64(0x7F)) | np.where(size > 1, np.uint64(0x80), np.uint64(0))).astype(np.uint8)
    for k in range(1, width):
        has = size > k
        byte = (v[has] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = size[has] > k + 1
        out[starts[has] + k] = (byte | np.where(more, np.uint64(0x80), np.uint64(0))).astype(np.uint8)
    return out, size


def zigzag(n: np.ndarray) -> np.ndarray:
    """Protobuf zigzag of int64 values."""
    n = n.astype(np.int64)
    return ((n << 1) ^ (n >> 63)).astype(np.uint64)


def encode_geometries(geoms: Sequence[Any], orient: bool = False) -> tuple[list[bytes], np.ndarray]:
    """The packed geometry field of each feature, and its MVT type (0: nothing left to draw — leave it out).

    `geoms`: shapely geometries in integer tile units, y down (None or empty: nothing). The coordinates of each
    kind (points, lines, polygons) come out of GEOS in one ragged array (`shapely.to_ragged_array`). With
    `orient`, rings are written in the spec's winding (exterior clockwise on screen: positive area with y down;
    holes the other way), reversed here with numpy where they are not (the reference encoder writes them as given).
    """
    buf, start, end, types = packed_geometries(geoms, orient)
    data = buf.tobytes()
    return [data[s:e] for s, e in zip(start.tolist(), end.tolist(), strict=True)], types


def packed_geometries(geoms: Sequence[Any], orient: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`encode_geometries` in one buffer: (bytes as uint8, each feature's start and end in it, MVT types)."""
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    types = np.zeros(n, dtype=np.int64)
    start = np.zeros(n, dtype=np.int64)
    end = np.zeros(n, dtype=np.int64)
    if n == 0:
        return np.zeros(0, dtype=np.uint8), start, end, types
    type_id = shapely.get_type_id(geoms)  # -1 for None
    for tid, kind in _KIND_OF_TYPE.items():
        types[type_id == tid] = kind
    types[(type_id < 0) | shapely.is_empty(geoms)] = 0
    bufs: list[np.ndarray] = []
    at = 0
    groups = []
    for kind in (POINT, LINESTRING, POLYGON):
        feats = np.flatnonzero(types == kind)
        if kind == POLYGON and len(feats):  # a polygon without holes (most of them): its coordinates are its ring's
            simple = (type_id[feats] == 3) & (shapely.get_num_interior_rings(geoms[feats]) == 0)
            if simple.any():
                groups.append((kind, feats[simple], True))
                feats = feats[~simple]
        if len(feats):
            groups.append((kind, feats, False))
    for kind, feats, simple_rings in groups:
        if simple_rings:  # one ring per feature, read without building ring objects (to_ragged_array does)
            xy = shapely.get_coordinates(geoms[feats])
            arc_off = np.concatenate([[0], np.cumsum(shapely.get_num_coordinates(geoms[feats]))])
            feat_of_arc = poly_of_ring = np.arange(len(feats))
            ring_exterior = np.ones(len(feats), dtype=bool)
        else:
            xy, arc_off, feat_of_arc, ring_exterior, poly_of_ring = _ragged(kind, geoms[feats])
        xy = np.rint(xy).astype(np.int64)
        arc_off = np.asarray(arc_off, dtype=np.int64)
        if orient and kind == POLYGON:
            xy = _oriented(xy, arc_off, ring_exterior)
        done, buf, b0, b1 = _commands(xy, arc_off, kind, feat_of_arc, ring_exterior, poly_of_ring)
        drawn = np.zeros(len(feats), dtype=bool)
        drawn[done] = True
        types[feats[~drawn]] = 0
        start[feats[done]] = b0 + at
        end[feats[done]] = b1 + at
        bufs.append(buf)
        at += len(buf)
    return (np.concatenate(bufs) if bufs else np.zeros(0, dtype=np.uint8)), start, end, types


def _ragged(kind: int, geoms: np.ndarray) -> tuple[Any, ...]:
    """The coordinates of geometries of one kind from `shapely.to_ragged_array`: (xy, arc offsets, feature of each
    arc, whether each ring is an exterior (polygons), polygon of each ring (polygons))."""
    n = len(geoms)
    _gtype, xy, offsets = shapely.to_ragged_array(geoms)
    ring_exterior = poly_of_ring = None
    if kind == POINT:  # one point set (one MoveTo) per feature
        arc_off = offsets[0] if offsets else np.arange(n + 1)
        feat_of_arc = np.arange(n)
    elif kind == LINESTRING:
        arc_off = offsets[0]
        geom_off = offsets[1] if len(offsets) > 1 else np.arange(n + 1)
        feat_of_arc = np.repeat(np.arange(n), np.diff(geom_off))
    else:
        arc_off = offsets[0]
        poly_off = offsets[1]
        geom_off = offsets[2] if len(offsets) > 2 else np.arange(n + 1)
        poly_of_ring = np.repeat(np.arange(len(poly_off) - 1), np.diff(poly_off))
        ring_exterior = np.arange(len(arc_off) - 1) == poly_off[:-1][poly_of_ring]
        feat_of_arc = np.repeat(np.arange(n), np.diff(geom_off))[poly_of_ring]
    return xy, arc_off, feat_of_arc, ring_exterior, poly_of_ring


def _oriented(xy: np.ndarray, ring_off: np.ndarray, exterior: np.ndarray) -> np.ndarray:
    """Closed rings (`xy[ring_off[r]:ring_off[r + 1]]`) reversed where their winding is not the spec's."""
    n = len(ring_off) - 1
    if not len(xy) or not n:
        return xy
    ring_of = np.repeat(np.arange(n), np.diff(ring_off))
    x, y = xy[:, 0].astype(np.float64), xy[:, 1].astype(np.float64)
    cross = x[:-1] * y[1:] - x[1:] * y[:-1]
    same = ring_of[:-1] == ring_of[1:]  # pairs within one ring (the closing point is the ring's last)
    area = np.bincount(ring_of[:-1][same], weights=cross[same], minlength=n)
    flip = np.flatnonzero(np.where(exterior, area < 0, area > 0))
    if not len(flip):
        return xy
    idx = np.arange(len(xy))
    flipped = np.zeros(n, dtype=bool)
    flipped[flip] = True
    pts = np.flatnonzero(flipped[ring_of])
    r = ring_of[pts]
    idx[pts] = ring_off[r] + ring_off[r + 1] - 1 - pts
    return xy[idx]


def _commands(xy: np.ndarray, arc_off: np.ndarray, kind: int, feat_of_arc: np.ndarray,
              exterior: np.ndarray | None, poly_of_ring: np.ndarray | None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Geometry commands of the arcs of one kind (coordinates `xy[arc_off[a]:arc_off[a + 1]]`, arcs in feature
    order): the features (indices into the group) that have something to draw, the packed bytes of all (uint8) and
    each drawn feature's start and end in them."""
    n_arcs = len(arc_off) - 1
    counts = np.diff(arc_off)
    arc_of = np.repeat(np.arange(n_arcs), counts)
    keep = np.ones(len(xy), dtype=bool)
    nonempty = counts > 0
    if kind == POLYGON:  # a ring's closing point
        keep[arc_off[1:][nonempty] - 1] = False
    if kind != POINT and len(xy) > 1:  # repeated points (not a point set's)
        same = np.zeros(len(xy), dtype=bool)
        same[1:] = (xy[1:] == xy[:-1]).all(axis=1)
        same[arc_off[:-1][nonempty]] = False  # an arc's first point
        keep &= ~same
    kept = np.bincount(arc_of[keep], minlength=n_arcs)
    ok = kept >= (1 if kind == POINT else 2)
    if exterior is not None and poly_of_ring is not None:  # a polygon whose exterior ring is dropped: dropped whole
        bad = np.zeros(int(poly_of_ring.max()) + 1 if len(poly_of_ring) else 0, dtype=bool)
        bad[poly_of_ring[exterior & ~ok]] = True
        ok &= ~bad[poly_of_ring]
    keep &= ok[arc_of]
    pts = xy[keep]
    if not len(pts):
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros(0, dtype=np.uint8), empty, empty
    p_arc = arc_of[keep]
    p_feat = feat_of_arc[p_arc]
    delta = np.empty_like(pts)  # from a cursor that starts at (0, 0) for each feature
    delta[0] = pts[0]
    delta[1:] = pts[1:] - pts[:-1]
    new_feat = np.ones(len(pts), dtype=bool)
    new_feat[1:] = p_feat[1:] != p_feat[:-1]
    delta[new_feat] = pts[new_feat]

    arcs = np.flatnonzero(ok)
    n_pts = kept[arcs]
    size = 2 * n_pts + (1 if kind == POINT else 2 if kind == LINESTRING else 3)
    arc_end = np.cumsum(size)
    arc_start = arc_end - size
    ints = np.zeros(int(arc_end[-1]), dtype=np.uint64)
    arc_pos = np.searchsorted(arcs, p_arc)  # index among the kept arcs
    k = np.arange(len(pts)) - (np.cumsum(n_pts) - n_pts)[arc_pos]
    at = arc_start[arc_pos] + 1 + 2 * k + ((k >= 1) if kind != POINT else 0)
    ints[at] = zigzag(delta[:, 0])
    ints[at + 1] = zigzag(delta[:, 1])
    if kind == POINT:
        ints[arc_start] = ((n_pts << 3) | MOVE_TO).astype(np.uint64)
    else:
        ints[arc_start] = (1 << 3) | MOVE_TO
        ints[arc_start + 3] = (((n_pts - 1) << 3) | LINE_TO).astype(np.uint64)
    if kind == POLYGON:
        ints[arc_end - 1] = (1 << 3) | CLOSE_PATH
    buf, nbytes = varints_array(ints)
    byte_end = np.cumsum(nbytes)
    f = feat_of_arc[arcs]  # arcs in feature order: each feature's first arc is where the feature changes
    first = np.flatnonzero(np.concatenate(([True], f[1:] != f[:-1])))
    feats = f[first]
    last = np.append(first[1:], len(arcs)) - 1
    i0, i1 = arc_start[first], arc_end[last]
    b0 = np.where(i0 > 0, byte_end[np.maximum(i0 - 1, 0)], 0)
    b1 = byte_end[i1 - 1]
    return feats, buf, b0, b1


_SMALL = [bytes((i,)) if i < 128 else bytes(((i & 0x7F) | 0x80, i >> 7)) for i in range(1 << 14)]  # varints < 2^14


def _v(n: int) -> bytes:
    return _SMALL[n] if n < 16384 else varint(n)


def _value(v: Any) -> bytes:
    """A Value message."""
    if isinstance(v, bool):
        return b"\x38" + (b"\x01" if v else b"\x00")
    if isinstance(v, str):
        b = v.encode()
        return b"\x0a" + _v(len(b)) + b
    if isinstance(v, int):
        return b"\x20" + varint(v)
    return b"\x19" + struct.pack("<d", float(v))


def _field(tag: bytes, body: bytes) -> bytes:
    return tag + _v(len(body)) + body


@dataclass(frozen=True)
class AttributeTable:
    """Features' attributes interned once (e.g. per data revision): for feature i, its tags are the global key ids
    `keys[offsets[i]:offsets[i + 1]]` and value ids `values[...]`, named by `key_names` and written as `value_msgs`."""

    offsets: np.ndarray
    keys: np.ndarray
    values: np.ndarray
    key_names: list[str]
    value_msgs: list[bytes]
    key_fields: list[bytes] = field(default_factory=list)  # each key as its layer field (3), framed once
    value_fields: list[bytes] = field(default_factory=list)  # each value as its layer field (4), framed once

    def __post_init__(self) -> None:
        if len(self.key_fields) != len(self.key_names):
            object.__setattr__(self, "key_fields", [_field(b"\x1a", k.encode()) for k in self.key_names])
        if len(self.value_fields) != len(self.value_msgs):
            object.__setattr__(self, "value_fields", [_field(b"\x22", v) for v in self.value_msgs])


def attribute_table(properties: Sequence[dict[str, Any]]) -> AttributeTable:
    """Intern the features' attributes: keys and values numbered in order of first use (a value by type and value).

    Attributes whose value is not a str, bool, int or float are left out (as the reference encoder does).
    """
    key_ids: dict[str, int] = {}
    value_ids: dict[tuple[type, Any], int] = {}
    msgs: list[bytes] = []
    keys: list[int] = []
    values: list[int] = []
    offsets = [0]
    for props in properties:
        for k, v in props.items():
            t = type(v)
            if t is not str and t is not int and t is not float and t is not bool:
                if isinstance(v, bool):
                    t = bool
                elif isinstance(v, str | int | float):
                    t = str if isinstance(v, str) else int if isinstance(v, int) else float
                else:
                    continue
            ki = key_ids.get(k)
            if ki is None:
                ki = key_ids[k] = len(key_ids)
            vi = value_ids.get((t, v))
            if vi is None:
                vi = value_ids[(t, v)] = len(msgs)
                msgs.append(_value(v))
            keys.append(ki)
            values.append(vi)
        offsets.append(len(keys))
    return AttributeTable(np.asarray(offsets, dtype=np.int64), np.asarray(keys, dtype=np.int64),
                          np.asarray(values, dtype=np.int64), list(key_ids), msgs)


def encode_layer(name: str, geoms: Sequence[Any], properties: Sequence[dict[str, Any]] | AttributeTable,
                 extent: int = 4096, rows: Sequence[int] | None = None, orient: bool = False) -> bytes:
    """One tile with one layer: features (geometry in integer tile units, y down) and their attributes.

    `properties`: a dict per feature, or an `AttributeTable` with `rows` (the table row of each feature);
    `orient`: see `encode_geometries`.
    A tile's keys and values are those its features use. Empty bytes when no feature has anything to draw.
    The features are framed with numpy too (`_frame_features`): no Python loop over features.
    """
    gbuf, gstart, gend, types = packed_geometries(geoms, orient)
    drawn = np.flatnonzero(types)
    if not len(drawn):
        return b""
    if isinstance(properties, AttributeTable):
        table = properties
        at_rows = np.asarray(rows if rows is not None else np.arange(len(types)), dtype=np.int64)[drawn]
    else:
        table = attribute_table([properties[i] for i in drawn.tolist()])
        at_rows = np.arange(len(drawn), dtype=np.int64)
    starts, ends = table.offsets[at_rows], table.offsets[at_rows + 1]
    counts = ends - starts
    total = int(counts.sum())
    first = np.cumsum(counts) - counts
    idx = np.repeat(starts - first, counts) + np.arange(total, dtype=np.int64)
    used_k, local_k = np.unique(table.keys[idx], return_inverse=True)
    used_v, local_v = np.unique(table.values[idx], return_inverse=True)
    tags = np.empty(2 * total, dtype=np.uint64)
    tags[0::2] = local_k
    tags[1::2] = local_v
    tag_buf, tag_sizes = varints_array(tags)
    tag_ends = np.concatenate([[0], np.cumsum(tag_sizes)])
    features = _frame_features(tag_buf, tag_ends[2 * first], tag_ends[2 * (first + counts)],
                               gbuf, gstart[drawn], gend[drawn], types[drawn])
    key_fields, value_fields = table.key_fields, table.value_fields
    pieces = [_field(b"\x0a", name.encode()), features,
              b"".join([key_fields[k] for k in used_k.tolist()]),
              b"".join([value_fields[v] for v in used_v.tolist()]),
              b"\x28", varint(extent), b"\x78\x02"]  # extent, version 2
    return _field(b"\x1a", b"".join(pieces))


_CONST = np.frombuffer(b"\x12\x18\x22\x00\x01\x02\x03", dtype=np.uint8)  # bytes the framing copies


def _frame_features(tag_buf: np.ndarray, t0: np.ndarray, t1: np.ndarray, geom_buf: np.ndarray, g0: np.ndarray,
                    g1: np.ndarray, types: np.ndarray) -> bytes:
    """The Feature messages (layer field 2), each `0x12 len [0x12 len tags] 0x18 type 0x22 len geometry`, for features
    whose tags are `tag_buf[t0:t1]` and geometry `geom_buf[g0:g1]` — the same bytes as a loop of `_field`s, built as
    one gather over the constants, the varints, the tags and the geometries."""
    n = len(types)
    tlen, glen = t1 - t0, g1 - g0
    has_tags = tlen > 0
    tl_buf, tl_size = varints_array(tlen)
    gl_buf, gl_size = varints_array(glen)
    body = np.where(has_tags, 1 + tl_size + tlen, 0) + 3 + gl_size + glen
    fl_buf, fl_size = varints_array(body)
    # one source: constants | feature lengths | tag lengths | geometry lengths | tags | geometries
    parts = [_CONST, fl_buf, tl_buf, gl_buf, tag_buf, geom_buf]
    base = np.cumsum([0] + [len(p) for p in parts])
    src = np.concatenate(parts)
    fl_at = base[1] + np.cumsum(fl_size) - fl_size
    tl_at = base[2] + np.cumsum(tl_size) - tl_size
    gl_at = base[3] + np.cumsum(gl_size) - gl_size
    seg_start = np.empty((n, 10), dtype=np.int64)  # per feature, its ten segments (some empty) in order
    seg_len = np.empty((n, 10), dtype=np.int64)
    one = np.ones(n, dtype=np.int64)
    for j, (st, ln) in enumerate((
            (0, one), (fl_at, fl_size),  # 0x12, the feature's length
            (0, has_tags.astype(np.int64)), (tl_at, np.where(has_tags, tl_size, 0)), (base[4] + t0, tlen),  # tags
            (1, one), (3 + types, one),  # 0x18 type (1, 2 or 3: _CONST[4:7])
            (2, one), (gl_at, gl_size), (base[5] + g0, glen))):  # 0x22, the geometry's length, the geometry
        seg_start[:, j] = st
        seg_len[:, j] = ln
    seg_start, seg_len = seg_start.ravel(), seg_len.ravel()
    out_start = np.cumsum(seg_len) - seg_len
    index = np.repeat(seg_start - out_start, seg_len) + np.arange(int(seg_len.sum()), dtype=np.int64)
    return src[index].tobytes()
