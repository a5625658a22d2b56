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


def encode_geometries(geoms: Sequence[Any]) -> tuple[list[bytes], np.ndarray]:
    """The packed geometry field of each feature, and its MVT type (0: nothing left to draw — leave it out).

    `geoms`: shapely geometries in integer tile units, y down (None or empty: nothing).
    """
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    types = np.zeros(n, dtype=np.int64)
    if n == 0:
        return [], types
    type_id = shapely.get_type_id(geoms)  # -1 for None
    for tid, kind in _KIND_OF_TYPE.items():
        types[type_id == tid] = kind
    types[shapely.is_empty(geoms) | (type_id < 0)] = 0

    # parts: points, linestrings, polygons, each with its feature index
    parts, part_feature = shapely.get_parts(geoms[types > 0], return_index=True)
    part_feature = np.flatnonzero(types > 0)[part_feature]
    part_kind = types[part_feature]
    # arcs: a point set per feature (all its points), a linestring, or a polygon's rings (exterior first)
    arc_geoms: list[np.ndarray] = []
    arc_feature: list[np.ndarray] = []
    arc_kind: list[np.ndarray] = []
    arc_poly: list[np.ndarray] = []  # the polygon (part) number of a ring, -1 otherwise
    arc_exterior: list[np.ndarray] = []
    is_poly = part_kind == POLYGON
    if is_poly.any():
        poly_idx = np.flatnonzero(is_poly)
        rings, ring_part = shapely.get_rings(parts[poly_idx], return_index=True)
        first = np.ones(len(rings), dtype=bool)
        first[1:] = ring_part[1:] != ring_part[:-1]
        arc_geoms.append(rings)
        arc_feature.append(part_feature[poly_idx][ring_part])
        arc_kind.append(np.full(len(rings), POLYGON))
        arc_poly.append(poly_idx[ring_part])
        arc_exterior.append(first)
    is_line = part_kind == LINESTRING
    if is_line.any():
        idx = np.flatnonzero(is_line)
        arc_geoms.append(parts[idx])
        arc_feature.append(part_feature[idx])
        arc_kind.append(np.full(len(idx), LINESTRING))
        arc_poly.append(np.full(len(idx), -1))
        arc_exterior.append(np.zeros(len(idx), dtype=bool))
    is_point = part_kind == POINT
    if is_point.any():  # one point set per feature: its points are parts; group them back by feature
        idx = np.flatnonzero(is_point)
        feats = np.unique(part_feature[idx])
        arc_geoms.append(shapely.multipoints(parts[idx], indices=np.searchsorted(feats, part_feature[idx])))
        arc_feature.append(feats)
        arc_kind.append(np.full(len(feats), POINT))
        arc_poly.append(np.full(len(feats), -1))
        arc_exterior.append(np.zeros(len(feats), dtype=bool))
    a_geom = np.concatenate(arc_geoms)
    a_feat = np.concatenate(arc_feature)
    a_kind = np.concatenate(arc_kind)
    a_poly = np.concatenate(arc_poly)
    a_ext = np.concatenate(arc_exterior)
    # feature order, then the order within a feature as the parts came (stable)
    order = np.lexsort((np.arange(len(a_feat)), a_feat))
    a_geom, a_feat, a_kind, a_poly, a_ext = a_geom[order], a_feat[order], a_kind[order], a_poly[order], a_ext[order]

    xy, arc_of = shapely.get_coordinates(a_geom, return_index=True)
    xy = np.rint(xy).astype(np.int64)
    n_arcs = len(a_geom)
    counts = np.bincount(arc_of, minlength=n_arcs)
    first_pt = np.zeros(len(xy), dtype=bool)
    if len(xy):
        first_pt[np.cumsum(counts)[counts > 0] - counts[counts > 0]] = True
    keep = np.ones(len(xy), dtype=bool)
    ring_pt = a_kind[arc_of] == POLYGON
    last_pt = np.zeros(len(xy), dtype=bool)
    if len(xy):
        last_pt[np.cumsum(counts)[counts > 0] - 1] = True
    keep &= ~(ring_pt & last_pt)  # a ring's closing point
    # repeated points of lines and rings (not of point sets)
    same = np.zeros(len(xy), dtype=bool)
    if len(xy) > 1:
        same[1:] = (xy[1:] == xy[:-1]).all(axis=1)
    keep &= ~(same & ~first_pt & (a_kind[arc_of] != POINT))
    kept = np.bincount(arc_of[keep], minlength=n_arcs)
    ok = np.where(a_kind == POINT, kept >= 1, kept >= 2)
    # a polygon whose exterior ring is dropped is dropped whole
    bad_poly = np.unique(a_poly[a_ext & ~ok])
    if len(bad_poly):
        ok &= ~np.isin(a_poly, bad_poly) | (a_poly < 0)
    keep &= ok[arc_of]

    pts = xy[keep]
    p_arc = arc_of[keep]
    p_feat = a_feat[p_arc]
    # deltas from a cursor that starts at (0, 0) for each feature
    delta = np.empty_like(pts)
    if len(pts):
        delta[0] = pts[0]
        delta[1:] = pts[1:] - pts[:-1]
        new_feat = np.ones(len(pts), dtype=bool)
        new_feat[1:] = p_feat[1:] != p_feat[:-1]
        delta[new_feat] = pts[new_feat]

    arcs = np.flatnonzero(ok)
    n_pts = kept[arcs]
    kind = a_kind[arcs]
    size = 2 * n_pts + np.where(kind == POINT, 1, np.where(kind == LINESTRING, 2, 3))
    arc_end = np.cumsum(size)
    arc_start = arc_end - size
    ints = np.zeros(int(arc_end[-1]) if len(arcs) else 0, dtype=np.uint64)
    # position of each kept point within its arc
    arc_pos = np.searchsorted(arcs, p_arc)  # index among the kept arcs
    first_of_arc = np.cumsum(n_pts) - n_pts
    k = np.arange(len(pts)) - first_of_arc[arc_pos]
    at = arc_start[arc_pos] + 1 + 2 * k + ((kind[arc_pos] != POINT) & (k >= 1))
    ints[at] = zigzag(delta[:, 0])
    ints[at + 1] = zigzag(delta[:, 1])
    ints[arc_start] = np.where(kind == POINT, (n_pts << 3) | MOVE_TO, (1 << 3) | MOVE_TO).astype(np.uint64)
    line = kind != POINT
    ints[arc_start[line] + 3] = ((n_pts[line] - 1) << 3 | LINE_TO).astype(np.uint64)
    ring = kind == POLYGON
    ints[arc_end[ring] - 1] = (1 << 3) | CLOSE_PATH

    buf, nbytes = varints(ints)
    byte_end = np.cumsum(nbytes)
    # each feature's slice of ints: from its first arc's start to its last arc's end
    f_of_arc = a_feat[arcs]
    out: list[bytes] = [b""] * n
    has = np.zeros(n, dtype=bool)
    if len(arcs):
        feats, first = np.unique(f_of_arc, return_index=True)
        last = np.append(first[1:], len(arcs)) - 1
        i0 = arc_start[first]
        i1 = arc_end[last]
        b0 = np.where(i0 > 0, byte_end[np.maximum(i0 - 1, 0)], 0)
        b1 = byte_end[i1 - 1]
        for f, s, e in zip(feats.tolist(), b0.tolist(), b1.tolist(), strict=True):
            out[f] = buf[s:e]
        has[feats] = True
    types[~has] = 0
    return out, types


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
                 extent: int = 4096, rows: Sequence[int] | None = None) -> bytes:
    """One tile with one layer: features (geometry in integer tile units, y down) and their attributes.

    `properties`: a dict per feature, or an `AttributeTable` with `rows` (the table row of each feature).
    A tile's keys and values are those its features use. Empty bytes when no feature has anything to draw.
    """
    geometry, types = encode_geometries(geoms)
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
