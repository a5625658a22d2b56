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
from dataclasses import dataclass
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
    v = np.asarray(values, dtype=np.uint64)
    size = np.ones(len(v), dtype=np.int64)
    for k in range(1, 5):
        size += v >= (1 << (7 * k))
    ends = np.cumsum(size)
    out = np.zeros(int(ends[-1]) if len(v) else 0, dtype=np.uint8)
    starts = ends - size
    for k in range(5):
        has = size > k
        if not has.any():
            break
        byte = (v[has] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = size[has] > k + 1
        out[starts[has] + k] = (byte | np.where(more, np.uint64(0x80), np.uint64(0))).astype(np.uint8)
    return out.tobytes(), size


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
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    types = np.zeros(n, dtype=np.int64)
    out: list[bytes] = [b""] * n
    if n == 0:
        return out, types
    type_id = shapely.get_type_id(geoms)  # -1 for None
    for tid, kind in _KIND_OF_TYPE.items():
        types[type_id == tid] = kind
    types[(type_id < 0) | shapely.is_empty(geoms)] = 0
    for kind in (POINT, LINESTRING, POLYGON):
        feats = np.flatnonzero(types == kind)
        if not len(feats):
            continue
        gtype, xy, offsets = shapely.to_ragged_array(geoms[feats])
        ring_exterior = poly_of_ring = None
        if kind == POINT:  # one point set (one MoveTo) per feature
            geom_off = offsets[0] if offsets else np.arange(len(feats) + 1)
            arc_off, feat_of_arc = geom_off, np.arange(len(feats))
        elif kind == LINESTRING:
            arc_off = offsets[0]
            geom_off = offsets[1] if len(offsets) > 1 else np.arange(len(feats) + 1)
            feat_of_arc = np.repeat(np.arange(len(feats)), np.diff(geom_off))
        else:
            arc_off = offsets[0]
            poly_off = offsets[1]
            geom_off = offsets[2] if len(offsets) > 2 else np.arange(len(feats) + 1)
            poly_of_ring = np.repeat(np.arange(len(poly_off) - 1), np.diff(poly_off))
            ring_exterior = np.arange(len(arc_off) - 1) == poly_off[:-1][poly_of_ring]
            feat_of_arc = np.repeat(np.arange(len(feats)), np.diff(geom_off))[poly_of_ring]
        xy = np.rint(xy).astype(np.int64)
        arc_off = np.asarray(arc_off, dtype=np.int64)
        if orient and kind == POLYGON:
            xy = _oriented(xy, arc_off, ring_exterior)
        done, parts = _commands(xy, arc_off, kind, feat_of_arc, ring_exterior, poly_of_ring)
        for f, part in zip(feats[done].tolist(), parts, strict=True):
            out[f] = part
        drawn = np.zeros(len(feats), dtype=bool)
        drawn[done] = True
        types[feats[~drawn]] = 0
    return out, types


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
    pts = np.flatnonzero(np.isin(ring_of, flip))
    r = ring_of[pts]
    idx[pts] = ring_off[r] + ring_off[r + 1] - 1 - pts
    return xy[idx]


def _commands(xy: np.ndarray, arc_off: np.ndarray, kind: int, feat_of_arc: np.ndarray,
              exterior: np.ndarray | None, poly_of_ring: np.ndarray | None) -> tuple[np.ndarray, list[bytes]]:
    """Geometry commands of the arcs of one kind (coordinates `xy[arc_off[a]:arc_off[a + 1]]`, arcs in feature
    order): the features (indices into the group) that have something to draw, and each one's packed bytes."""
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
        return np.zeros(0, dtype=np.int64), []
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
    buf, nbytes = varints(ints)
    byte_end = np.cumsum(nbytes)
    feats, first = np.unique(feat_of_arc[arcs], return_index=True)
    last = np.append(first[1:], len(arcs)) - 1
    i0, i1 = arc_start[first], arc_end[last]
    b0 = np.where(i0 > 0, byte_end[np.maximum(i0 - 1, 0)], 0).tolist()
    b1 = byte_end[i1 - 1].tolist()
    return feats, [buf[s:e] for s, e in zip(b0, b1, strict=True)]


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
    """
    geometry, types = encode_geometries(geoms, orient)
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
    tag_buf, tag_sizes = varints(tags)
    tag_ends = np.concatenate([[0], np.cumsum(tag_sizes)])
    b0 = tag_ends[2 * first].tolist()
    b1 = tag_ends[2 * (first + counts)].tolist()
    pieces: list[bytes] = [_field(b"\x0a", name.encode())]
    small = _SMALL
    for i, s, e in zip(drawn.tolist(), b0, b1, strict=True):
        g = geometry[i]
        tail = b"\x18" + small[int(types[i])] + b"\x22" + _v(len(g))
        if e > s:
            tb = tag_buf[s:e]
            head = b"\x12" + _v(len(tb))
            pieces += (b"\x12", _v(len(head) + len(tb) + len(tail) + len(g)), head, tb, tail, g)
        else:
            pieces += (b"\x12", _v(len(tail) + len(g)), tail, g)
    names = table.key_names
    msgs = table.value_msgs
    pieces += [_field(b"\x1a", names[k].encode()) for k in used_k.tolist()]
    pieces += [_field(b"\x22", msgs[v]) for v in used_v.tolist()]
    pieces += [b"\x28", varint(extent), b"\x78\x02"]  # extent, version 2
    return _field(b"\x1a", b"".join(pieces))
